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
	"context"
	"net/http"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/controllers/shared/logicalbackup"
	"github.com/cooperator-dev/cooperator/test/harness"
)

// What a deletion empties of the object store: imports/ while an import's dump waits for
// its restore (with Retain, nothing else: a hub whose store is down still deletes such a
// co-op); with Delete the co-op's
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
	importing := func(c *coopv1.Cooperative) *coopv1.Cooperative {
		c.Annotations = map[string]string{coopv1.AnnotationImportDump: "ride-1.dump"}
		return c
	}
	for _, tc := range []struct {
		name           string
		coop           *coopv1.Cooperative
		othersRetained bool
		want, kept     string
	}{
		{"retain", coop(coopv1.DeletionPolicyRetain, ""), false, "", ""},
		{"retain, an import's dump waiting", importing(coop(coopv1.DeletionPolicyRetain, "")), false, "s3://hub/eu-west/ride/imports/", ""},
		{"delete", coop(coopv1.DeletionPolicyDelete, ""), false, "s3://hub/eu-west/ride/", ""},
		{"delete, another co-op's data retained", coop(coopv1.DeletionPolicyDelete, ""), true,
			"s3://hub/eu-west/ride/exports/ s3://hub/eu-west/ride/imports/", "the backups of an earlier co-op ride"},
		{"a standby, its home elsewhere", coop(coopv1.DeletionPolicyDelete, "s3://home/eu-south/ride/"), false,
			"s3://hub/eu-west/ride/exports/ s3://hub/eu-west/ride/imports/", "a standby's backups"},
		{"a standby retained, its home elsewhere", coop(coopv1.DeletionPolicyRetain, "s3://home/eu-south/ride/"), false,
			"", ""},
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

// recordingStore answers as an empty bucket and counts the requests it was sent.
type recordingStore struct{ requests int }

func (s *recordingStore) RoundTrip(r *http.Request) (*http.Response, error) {
	s.requests++
	return harness.EmptyObjectStore().Transport.RoundTrip(r)
}

// A shared-tier co-op deleted with Delete stops its logical backups before its prefix is
// emptied: its CronJob and an unfinished Job go, and the store is not listed while a pod of
// theirs still runs, which would upload a dump after the listing.
func TestDeleteStoreObjectsStopsLogicalBackups(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = coopv1.AddToScheme(scheme)
	cfg := hubconfig.Default()
	cfg.Region, cfg.ObjectStore.DestinationPath = "eu-west", "s3://hub"
	coop := testCoop()
	coop.Spec.Database.Tier = coopv1.DatabaseTierShared
	coop.Spec.DeletionPolicy = coopv1.DeletionPolicyDelete
	credsName := cfg.ObjectStore.CooperativeCredentialsSecret(coop.Name)
	creds := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: cfg.OperatorNamespace, Name: credsName},
		Data: map[string][]byte{coopv1.AccessKeyIDKey: []byte("id"), coopv1.AccessSecretKeyKey: []byte("secret")}}
	cronJob := BuildLogicalBackupCronJob(coop, &cfg, credsName)
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: cfg.OperatorNamespace, Name: cronJob.Name + "-29000000", Labels: commonLabels(coop)}}
	podLabels := commonLabels(coop)
	for k, v := range logicalbackup.PodLabels {
		podLabels[k] = v
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: cfg.OperatorNamespace, Name: job.Name + "-x", Labels: podLabels},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(creds, cronJob, job, pod).WithStatusSubresource(pod).Build()
	store := &recordingStore{}
	r := &Reconciler{Client: c, Config: cfg, Recorder: events.NewFakeRecorder(16), HTTP: &http.Client{Transport: store}}
	s := &scope{coop: coop}

	for pass, want := range []string{"logical backups", "1 pod(s)"} {
		done, err := r.deleteStoreObjects(ctx, s, false)
		if err != nil || done {
			t.Fatalf("pass %d: done %v, %v; want it to wait", pass, done, err)
		}
		if store.requests > 0 {
			t.Fatalf("pass %d: the store was sent %d requests while the logical backups ran", pass, store.requests)
		}
		if ready := meta.FindStatusCondition(coop.Status.Conditions, coopv1.ConditionReady); ready == nil || !strings.Contains(ready.Message, want) {
			t.Errorf("pass %d: Ready %v, want it to say %q", pass, ready, want)
		}
	}
	for _, obj := range []client.Object{cronJob, job} {
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); !apierrors.IsNotFound(err) {
			t.Errorf("%T %s: %v, want it deleted", obj, obj.GetName(), err)
		}
	}
	pod.Status.Phase = corev1.PodSucceeded
	if err := c.Status().Update(ctx, pod); err != nil {
		t.Fatal(err)
	}
	if done, err := r.deleteStoreObjects(ctx, s, false); err != nil || !done {
		t.Fatalf("done %v, %v once the pod finished", done, err)
	}
	if store.requests == 0 {
		t.Error("the prefix was not listed once the logical backups stopped")
	}
}
