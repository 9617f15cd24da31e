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

package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/test/harness"
)

// The operator's identity as config/ and the chart ship it.
const (
	operatorNamespace = "cooperator-system"
	serviceAccount    = "cooperator-controller-manager"
	managerRole       = "cooperator-manager"
	coopAdminRole     = "cooperator-coop-admin"
	leaderElection    = "cooperator-leader-election"
	hubConfigKey      = "hub.yaml"
)

// kustomizeBuild builds a kustomization of the repository with the kustomize API, as
// `kustomize build` does.
func kustomizeBuild(t testing.TB, dir string) []*unstructured.Unstructured {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(harness.MustRepoRoot(t), dir))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var out []*unstructured.Unstructured
	for _, r := range m.Resources() {
		data, err := r.MarshalJSON()
		if err != nil {
			t.Fatalf("kustomize build %s: %s: %v", dir, r.CurId(), err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			t.Fatalf("kustomize build %s: %s: %v", dir, r.CurId(), err)
		}
		out = append(out, u)
	}
	return out
}

// decodeYAMLStream splits a multi-document YAML stream into objects, skipping empty ones.
func decodeYAMLStream(t testing.TB, data []byte) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatalf("decoding YAML: %v", err)
		}
		if len(obj) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: obj})
	}
}

// find returns the object of that kind and name, or fails.
func find(t testing.TB, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s among %d objects", kind, name, len(objs))
	return nil
}

// findPrefix returns the object of that kind whose name starts with prefix (a generated
// ConfigMap has a hash suffix), or fails.
func findPrefix(t testing.TB, objs []*unstructured.Unstructured, kind, prefix string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && strings.HasPrefix(o.GetName(), prefix) {
			return o
		}
	}
	t.Fatalf("no %s %s* among %d objects", kind, prefix, len(objs))
	return nil
}

// convert turns an unstructured object into a typed one.
func convert[T any](t testing.TB, u *unstructured.Unstructured) *T {
	t.Helper()
	out := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, out, true); err != nil {
		t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
	}
	return out
}

func clusterRole(t testing.TB, objs []*unstructured.Unstructured, name string) *rbacv1.ClusterRole {
	t.Helper()
	return convert[rbacv1.ClusterRole](t, find(t, objs, "ClusterRole", name))
}

func deployment(t testing.TB, objs []*unstructured.Unstructured) *appsv1.Deployment {
	t.Helper()
	return convert[appsv1.Deployment](t, find(t, objs, "Deployment", "cooperator-controller-manager"))
}

// hubSettings reads the hub.yaml of a ConfigMap the way the operator reads --config.
func hubSettings(t testing.TB, cm *corev1.ConfigMap) hubconfig.Config {
	t.Helper()
	data, ok := cm.Data[hubConfigKey]
	if !ok {
		t.Fatalf("ConfigMap %s has no %s", cm.Name, hubConfigKey)
	}
	path := filepath.Join(t.TempDir(), hubConfigKey)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	hub := hubconfig.Default()
	if err := hub.Load(path); err != nil {
		t.Fatalf("the operator would refuse the hub.yaml of ConfigMap %s: %v", cm.Name, err)
	}
	if err := hub.Validate(); err != nil {
		t.Fatalf("the operator would refuse the hub.yaml of ConfigMap %s: %v", cm.Name, err)
	}
	return hub
}

// yamlKeys lists the dotted paths of every leaf of a YAML document.
func yamlKeys(t testing.TB, data []byte) []string {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if mm, ok := v.(map[string]any); ok {
			for k, vv := range mm {
				walk(strings.TrimPrefix(prefix+"."+k, "."), vv)
			}
			return
		}
		keys = append(keys, prefix)
	}
	walk("", m)
	sort.Strings(keys)
	return keys
}

// helmBinary is $HELM, or the newest bin/helm-* that `make helm` installed, or "".
func helmBinary(t testing.TB) string {
	t.Helper()
	if h := os.Getenv("HELM"); h != "" {
		return h
	}
	matches, _ := filepath.Glob(filepath.Join(harness.MustRepoRoot(t), "bin", "helm-v*"))
	if len(matches) == 0 {
		return ""
	}
	sort.Strings(matches)
	return matches[len(matches)-1]
}

// helmTemplateError renders the chart and returns helm's error output and error.
func helmTemplateError(t testing.TB, args ...string) (string, error) {
	t.Helper()
	helm := helmBinary(t)
	if helm == "" {
		t.Skip("no helm binary: run `make helm` (or set HELM) to render the chart")
	}
	cmd := exec.Command(helm, append([]string{"template", "cooperator", filepath.Join(harness.MustRepoRoot(t), "charts", "cooperator"),
		"--namespace", operatorNamespace, "--kube-version", "1.37.0"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	_, err := cmd.Output()
	return stderr.String(), err
}

// helmTemplate renders the chart with `helm template` and extra arguments, or skips the test
// when no helm binary is installed.
func helmTemplate(t testing.TB, args ...string) []*unstructured.Unstructured {
	t.Helper()
	helm := helmBinary(t)
	if helm == "" {
		t.Skip("no helm binary: run `make helm` (or set HELM) to render the chart")
	}
	root := harness.MustRepoRoot(t)
	// --kube-version: a helm built with `go install` believes the cluster runs v1.20.
	cmd := exec.Command(helm, append([]string{"template", "cooperator", filepath.Join(root, "charts", "cooperator"),
		"--namespace", operatorNamespace, "--kube-version", "1.37.0"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, stderr.String())
	}
	return decodeYAMLStream(t, out)
}
