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
	"bytes"
	"context"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2" //nolint:staticcheck // Ginkgo's DSL reads best dot-imported
	. "github.com/onsi/gomega"    //nolint:staticcheck // as above
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/platform"
	"github.com/cooperator-dev/cooperator/test/harness"
)

// SampleHostingPlans are the sample plans every seeded hub has.
var SampleHostingPlans = []string{"config/samples/coop_v1alpha1_hostingplan_small.yaml", "config/samples/coop_v1alpha1_hostingplan_medium.yaml"}

// SeedHub makes the API server c talks to a hub as hub says: its operator namespace, its
// object store credentials (keyID and secret), the shipped PlatformTemplates, the sample
// HostingPlans and every object of files (paths in the repository, such as the shipped
// roles).
func SeedHub(ctx context.Context, c client.Client, hub *hubconfig.Config, keyID, secret string, files ...string) {
	GinkgoHelper()
	Expect(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: hub.OperatorNamespace}})).To(Succeed())
	Expect(c.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: hub.OperatorNamespace, Name: hub.ObjectStore.CredentialsSecret},
		Data:       map[string][]byte{coopv1.AccessKeyIDKey: []byte(keyID), coopv1.AccessSecretKeyKey: []byte(secret)},
	})).To(Succeed())
	templates, err := platform.DefaultTemplates()
	Expect(err).NotTo(HaveOccurred())
	for _, t := range templates {
		Expect(c.Create(ctx, t)).To(Succeed())
	}
	root, err := harness.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	for _, f := range append(append([]string{}, SampleHostingPlans...), files...) {
		CreateFile(ctx, c, filepath.Join(root, f))
	}
}

// CreateFile creates every object of a YAML file.
func CreateFile(ctx context.Context, c client.Client, path string) {
	GinkgoHelper()
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			break
		}
		if len(u.Object) == 0 {
			continue
		}
		Expect(c.Create(ctx, u)).To(Succeed(), "creating %s %s from %s", u.GetKind(), u.GetName(), path)
	}
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
