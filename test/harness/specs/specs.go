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

// Package specs holds what the Ginkgo suites share: a hub seeded on a test API server, the
// sample Cooperatives, and the objects a failed spec was looking at. It is apart from
// package harness so that the programs built on harness (the demo) do not link Ginkgo.
package specs

import (
	"context"

	. "github.com/onsi/ginkgo/v2" //nolint:staticcheck // Ginkgo's DSL reads best dot-imported
	. "github.com/onsi/gomega"    //nolint:staticcheck // as above
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/test/harness"
)

// SeedHub is harness.SeedHub in a spec: a hub as hub says, with the sample plans and
// every object of files.
func SeedHub(ctx context.Context, c client.Client, hub *hubconfig.Config, keyID, secret string, files ...string) {
	GinkgoHelper()
	Expect(harness.SeedHub(ctx, c, hub, keyID, secret, files...)).To(Succeed())
}

// CreateFile creates every object of a YAML file.
func CreateFile(ctx context.Context, c client.Client, path string) {
	GinkgoHelper()
	Expect(harness.CreateFile(ctx, c, path)).To(Succeed())
}

// Sample reads a sample Cooperative of config/samples.
func Sample(file string) *coopv1.Cooperative {
	GinkgoHelper()
	c, err := harness.Sample(file)
	Expect(err).NotTo(HaveOccurred())
	return c
}

// DumpOnFailure adds to the report of the current spec, if it fails, the named co-ops as c
// reads them with their Clusters and Backups; prefix (a region, say) heads each entry.
func DumpOnFailure(c client.Reader, prefix string, names ...string) {
	DeferCleanup(func(ctx SpecContext) {
		if !CurrentSpecReport().Failed() {
			return
		}
		for _, name := range names {
			for _, e := range harness.CooperativeReport(ctx, c, name) {
				AddReportEntry(prefix+e.Title, e.Body)
			}
		}
	})
}
