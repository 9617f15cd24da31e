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
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/cooperator-dev/cooperator/api/policy"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// TestSamplePoliciesLoadInThePlatform: the coop-policy ConfigMap of every sample
// Cooperative, mounted as the platform mounts it, is loaded and validated by the platform
// service's own policy source.
func TestSamplePoliciesLoadInThePlatform(t *testing.T) {
	files, err := filepath.Glob("../../config/samples/coop_v1alpha1_cooperative_*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample Cooperatives: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var coop coopv1.Cooperative
		if err := yaml.UnmarshalStrict(data, &coop); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		cm, err := BuildPolicyConfigMap(&coop)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		dir := t.TempDir()
		for k, v := range cm.Data {
			if err := os.WriteFile(filepath.Join(dir, k), []byte(v), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		src := policy.NewSource(filepath.Join(dir, strings.TrimPrefix(policy.FilePath, policy.MountPath+"/")), slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err := src.Reload(); err != nil {
			t.Errorf("%s: the platform refuses its policy: %v", f, err)
			continue
		}
		got := src.Current()
		want := coop.Spec.FeeSplit.SurgeToWorkersPercent
		if got.Cooperative != coop.Name || got.FeeSplit.PlatformFeeBasisPoints != int64(coop.Spec.FeeSplit.PlatformFeeBasisPoints) ||
			(want == nil && got.FeeSplit.SurgeToWorkersPercent != 100) || (want != nil && got.FeeSplit.SurgeToWorkersPercent != int64(*want)) {
			t.Errorf("%s: the platform reads %+v", f, got)
		}
	}
}
