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

package platform

import "testing"

// TestTemplatesServeMetricsApart: every shipped component serves its metrics on the port
// named metrics (9090, where the hub's monitoring scrapes), apart from its API port.
func TestTemplatesServeMetricsApart(t *testing.T) {
	templates, err := DefaultTemplates()
	if err != nil {
		t.Fatal(err)
	}
	if len(templates) == 0 {
		t.Fatal("no templates")
	}
	for _, tmpl := range templates {
		for _, v := range tmpl.Spec.Versions {
			for _, c := range v.Components {
				if c.MetricsPort != 9090 || c.MetricsPort == c.Port {
					t.Errorf("%s %s %s: metricsPort %d, port %d", tmpl.Name, v.Version, c.Name, c.MetricsPort, c.Port)
				}
			}
		}
	}
}
