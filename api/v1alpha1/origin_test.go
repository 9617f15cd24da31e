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

package v1alpha1_test

import (
	"os"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// TestOriginLimitsAreTheCRDs: the bounds `cooperator import` and the restore check an
// archive's origin against are those the CRD holds status.origin to, as controller-gen
// wrote it.
func TestOriginLimitsAreTheCRDs(t *testing.T) {
	data, err := os.ReadFile("../../config/crd/bases/coop.cooperator.dev_cooperatives.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatal(err)
	}
	origin := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["status"].Properties["origin"]
	for field, want := range map[string]int{"cooperative": coopv1.MaxOriginNameLength, "export": coopv1.MaxOriginNameLength, "backups": coopv1.MaxOriginBackupsLength} {
		if got := origin.Properties[field].MaxLength; got == nil || *got != int64(want) {
			t.Errorf("the CRD bounds status.origin.%s by %v; the import checks %d", field, got, want)
		}
	}
}

// TestOriginArchiveLimitErrors names each field over its bound, counted in characters.
func TestOriginArchiveLimitErrors(t *testing.T) {
	ok := coopv1.ImportOrigin{Cooperative: strings.Repeat("c", 63), Export: strings.Repeat("é", 63), Backups: strings.Repeat("b", 1024)}
	if errs := ok.ArchiveLimitErrors(); len(errs) != 0 {
		t.Errorf("within the bounds: %v", errs)
	}
	over := coopv1.ImportOrigin{Cooperative: strings.Repeat("c", 64), Export: strings.Repeat("e", 251), Backups: strings.Repeat("b", 1025)}
	errs := over.ArchiveLimitErrors()
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{"status.origin.cooperative: 64 characters, at most 63", "status.origin.export: 251 characters, at most 63", "status.origin.backups: 1025 characters, at most 1024"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
