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
	"k8s.io/utils/ptr"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// HostHolder keeps a host with the co-op that serves it, whatever the others' age; among
// co-ops that serve it not, a co-op of this hub before a standby, then the first created,
// by name within a second; a co-op being deleted claims nothing it does not serve.
func TestHostHolder(t *testing.T) {
	const host = "rides.example.coop"
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	claimant := func(name string, created time.Time) coopv1.Cooperative {
		c := coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(created)}}
		c.Spec.Platform.Host = host
		return c
	}
	other := claimant("elsewhere", t0.Add(-time.Hour))
	other.Spec.Platform.Host = "other.example.coop"
	standby := claimant("standby", t0.Add(-time.Hour))
	standby.Spec.Standby = &coopv1.StandbySpec{HomeRegion: "eu-south"}
	deleting := claimant("deleting", t0.Add(-time.Hour))
	deleting.DeletionTimestamp = ptr.To(metav1.NewTime(t0))
	for _, tc := range []struct {
		name       string
		candidates []coopv1.Cooperative
		serves     []string
		want       string
	}{
		{"alone", []coopv1.Cooperative{claimant("a", t0)}, nil, "a"},
		{"the first created", []coopv1.Cooperative{claimant("young", t0.Add(time.Minute)), claimant("old", t0)}, nil, "old"},
		{"by name within a second", []coopv1.Cooperative{claimant("b", t0), claimant("a", t0)}, nil, "a"},
		{"the one serving it, however young", []coopv1.Cooperative{claimant("old", t0), claimant("serving", t0.Add(time.Hour))}, []string{"serving"}, "serving"},
		{"serving it and naming another host now", []coopv1.Cooperative{claimant("old", t0), other}, []string{"elsewhere"}, "elsewhere"},
		{"two serving (a race before this rule): the first created", []coopv1.Cooperative{claimant("y", t0.Add(time.Second)), claimant("x", t0)}, []string{"x", "y"}, "x"},
		{"this hub's co-op before an older standby", []coopv1.Cooperative{standby, claimant("local", t0)}, nil, "local"},
		{"a standby that serves it keeps it", []coopv1.Cooperative{standby, claimant("local", t0)}, []string{"standby"}, "standby"},
		{"one being deleted claims nothing", []coopv1.Cooperative{deleting, claimant("a", t0)}, nil, "a"},
		{"one being deleted that still serves it holds it", []coopv1.Cooperative{deleting, claimant("a", t0)}, []string{"deleting"}, "deleting"},
		{"a co-op of another host does not count", []coopv1.Cooperative{other, claimant("a", t0)}, nil, "a"},
		{"none", []coopv1.Cooperative{other}, nil, ""},
	} {
		serves := map[string]bool{}
		for _, name := range tc.serves {
			serves[name] = true
		}
		got := HostHolder(host, tc.candidates, serves)
		name := ""
		if got != nil {
			name = got.Name
		}
		if name != tc.want {
			t.Errorf("%s: %q holds the host; want %q", tc.name, name, tc.want)
		}
	}
}
