/*
Copyright 2026 The cooperator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package cooperative

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
)

// What a deletion empties of the object store: imports/ always; with Delete the co-op's
// whole prefix, but its exports/ and imports/ only when this hub retains another co-op's
// data of that name, or for a standby (its backups may be the primary's archive); nothing
// of a standby's prefix that holds or lies in its home's archive, whatever its policy.
func TestDeletedPrefixes(t *testing.T) {
	cfg := hubconfig.Default()
	cfg.Region, cfg.ObjectStore.DestinationPath = "eu-west", "s3://hub"
	coop := func(policy coopv1.DeletionPolicy, home string) *coopv1.Cooperative {
		c := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "ride"}, Spec: coopv1.CooperativeSpec{DeletionPolicy: policy}}
		if home != "" {
			c.Spec.Standby = &coopv1.StandbySpec{ObjectStore: coopv1.StandbyObjectStore{DestinationPath: home}}
		}
		return c
	}
	for _, tc := range []struct {
		name           string
		coop           *coopv1.Cooperative
		othersRetained bool
		want, kept     string
	}{
		{"retain", coop(coopv1.DeletionPolicyRetain, ""), false, "s3://hub/eu-west/ride/imports/", ""},
		{"delete", coop(coopv1.DeletionPolicyDelete, ""), false, "s3://hub/eu-west/ride/", ""},
		{"delete, another co-op's data retained", coop(coopv1.DeletionPolicyDelete, ""), true,
			"s3://hub/eu-west/ride/exports/ s3://hub/eu-west/ride/imports/", "the backups of an earlier co-op ride"},
		{"a standby, its home elsewhere", coop(coopv1.DeletionPolicyDelete, "s3://home/eu-south/ride/"), false,
			"s3://hub/eu-west/ride/exports/ s3://hub/eu-west/ride/imports/", "a standby's backups"},
		{"a standby retained, its home elsewhere", coop(coopv1.DeletionPolicyRetain, "s3://home/eu-south/ride/"), false,
			"s3://hub/eu-west/ride/imports/", ""},
		{"a standby whose home archive is under its prefix", coop(coopv1.DeletionPolicyDelete, "s3://hub/eu-west/ride/home/"), false,
			"", "its home's archive"},
		{"a standby whose prefix is its home's archive", coop(coopv1.DeletionPolicyDelete, "s3://hub/eu-west/ride"), false,
			"", "its home's archive"},
		{"a standby retained, its prefix under its home's archive", coop(coopv1.DeletionPolicyRetain, "s3://hub/eu-west/"), false,
			"", "its home's archive"},
	} {
		got, kept := deletedPrefixes(tc.coop, &cfg, tc.othersRetained)
		if strings.Join(got, " ") != tc.want || (tc.kept == "") != (kept == "") || !strings.Contains(kept, tc.kept) {
			t.Errorf("%s: %v, kept %q; want %s, kept %q", tc.name, got, kept, tc.want, tc.kept)
		}
	}
}
