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
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// HostHolder keeps a host with the co-op that serves it, whatever the others' age; among
// co-ops that serve it not, the first created holds it, by name within a second.
func TestHostHolder(t *testing.T) {
	const host = "rides.example.coop"
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	claimant := func(name string, created time.Time, serves bool) coopv1.Cooperative {
		c := coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(created)}}
		c.Spec.Platform.Host = host
		if serves {
			c.Status.Endpoints.URL = "https://" + host
		}
		return c
	}
	other := claimant("elsewhere", t0.Add(-time.Hour), true)
	other.Spec.Platform.Host = "other.example.coop"
	for _, tc := range []struct {
		name      string
		claimants []coopv1.Cooperative
		want      string
	}{
		{"alone", []coopv1.Cooperative{claimant("a", t0, false)}, "a"},
		{"the first created", []coopv1.Cooperative{claimant("young", t0.Add(time.Minute), false), claimant("old", t0, false)}, "old"},
		{"by name within a second", []coopv1.Cooperative{claimant("b", t0, false), claimant("a", t0, false)}, "a"},
		{"the one serving it, however young", []coopv1.Cooperative{claimant("old", t0, false), claimant("serving", t0.Add(time.Hour), true)}, "serving"},
		{"two serving (a race before this rule): the first created", []coopv1.Cooperative{claimant("y", t0.Add(time.Second), true), claimant("x", t0, true)}, "x"},
		{"a co-op of another host does not count", []coopv1.Cooperative{other, claimant("a", t0, false)}, "a"},
		{"none", []coopv1.Cooperative{other}, ""},
	} {
		got := HostHolder(host, tc.claimants)
		name := ""
		if got != nil {
			name = got.Name
		}
		if name != tc.want {
			t.Errorf("%s: %q holds the host; want %q", tc.name, name, tc.want)
		}
	}
}
