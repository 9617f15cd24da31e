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

package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/platform"
)

// SampleHostingPlans are the sample plans every seeded hub has, as paths in the repository.
var SampleHostingPlans = []string{"config/samples/coop_v1alpha1_hostingplan_small.yaml", "config/samples/coop_v1alpha1_hostingplan_medium.yaml"}

// SeedHub makes the API server c talks to a hub as hub says, as a hub admin does once: its
// operator namespace, its object store credentials (keyID and secret), the shipped
// PlatformTemplates, the sample HostingPlans and every object of files (paths in the
// repository, such as the shipped roles). The suites, the demo and the scale suite seed
// their hubs with it.
func SeedHub(ctx context.Context, c client.Client, hub *hubconfig.Config, keyID, secret string, files ...string) error {
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: hub.OperatorNamespace}}); err != nil {
		return fmt.Errorf("creating the operator namespace: %w", err)
	}
	if err := c.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: hub.OperatorNamespace, Name: hub.ObjectStore.CredentialsSecret},
		Data:       map[string][]byte{coopv1.AccessKeyIDKey: []byte(keyID), coopv1.AccessSecretKeyKey: []byte(secret)},
	}); err != nil {
		return fmt.Errorf("creating the hub's object store credentials: %w", err)
	}
	templates, err := platform.DefaultTemplates()
	if err != nil {
		return err
	}
	for _, t := range templates {
		if err := c.Create(ctx, t); err != nil {
			return fmt.Errorf("creating PlatformTemplate %s: %w", t.Name, err)
		}
	}
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	for _, f := range append(append([]string{}, SampleHostingPlans...), files...) {
		if err := CreateFile(ctx, c, filepath.Join(root, f)); err != nil {
			return err
		}
	}
	return nil
}

// CreateFile creates every object of a YAML file.
func CreateFile(ctx context.Context, c client.Client, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			break
		}
		if len(u.Object) == 0 {
			continue
		}
		if err := c.Create(ctx, u); err != nil {
			return fmt.Errorf("creating %s %s from %s: %w", u.GetKind(), u.GetName(), path, err)
		}
	}
	return nil
}
