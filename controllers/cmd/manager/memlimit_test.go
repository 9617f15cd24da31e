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

package manager

import "testing"

func TestSoftMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env       map[string]string
		want      int64
		wantFound bool
	}{
		{name: "the chart's 256Mi limit", env: map[string]string{"MEMORY_LIMIT": "268435456"}, want: 241591860, wantFound: true},
		{name: "GOMEMLIMIT set by hand wins", env: map[string]string{"MEMORY_LIMIT": "268435456", "GOMEMLIMIT": "200MiB"}},
		{name: "no limit passed", env: map[string]string{}},
		{name: "not a number", env: map[string]string{"MEMORY_LIMIT": "256Mi"}},
		{name: "zero", env: map[string]string{"MEMORY_LIMIT": "0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, found := softMemoryLimit(func(k string) string { return tc.env[k] })
			if got != tc.want || found != tc.wantFound {
				t.Errorf("softMemoryLimit = %d, %v; want %d, %v", got, found, tc.want, tc.wantFound)
			}
		})
	}
}
