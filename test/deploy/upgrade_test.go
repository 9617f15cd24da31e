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
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cooperator-dev/cooperator/test/harness"
)

// previousChart is the chart as the last version shipped it (0.1.0, with its CRDs in
// crds/), packaged from git: git archive --prefix=cooperator/ <commit>:charts/cooperator.
const previousChart = "testdata/cooperator-0.1.0.tgz"

// TestChartUpgrade installs the previous chart on a real API server and upgrades it to
// this one with helm, as README.md says: the CRDs become the chart's and are upgraded, the
// webhook's certificate stays, and uninstalling keeps the CRDs.
func TestChartUpgrade(t *testing.T) {
	helm := helmBinary(t)
	if helm == "" {
		t.Skip("no helm binary: run `make helm` (or set HELM)")
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	env := harness.StartT(t, harness.Options{Scheme: scheme})
	ctx := t.Context()
	c := env.Client
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := env.WriteKubeconfig(kubeconfig); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(helm, append(args, "--kubeconfig", kubeconfig, "--namespace", operatorNamespace)...)
		cmd.Env = append(cmd.Environ(), "HELM_CACHE_HOME="+filepath.Join(dir, "cache"), "HELM_CONFIG_HOME="+filepath.Join(dir, "config"), "HELM_DATA_HOME="+filepath.Join(dir, "data"))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}

	// The API server built from source reports version v0.0.0-master, which no kubeVersion
	// constraint admits: both charts are installed from copies without it.
	previous := chartWithoutKubeVersion(t, dir, "previous", previousChart)
	current := chartWithoutKubeVersion(t, dir, "current", filepath.Join(harness.MustRepoRoot(t), "charts", "cooperator"))

	run("install", "cooperator", previous, "--create-namespace")
	secretKey := client.ObjectKey{Namespace: operatorNamespace, Name: "cooperator-webhook-server-cert"}
	before := &corev1.Secret{}
	if err := c.Get(ctx, secretKey, before); err != nil {
		t.Fatalf("the previous chart's webhook certificate: %v", err)
	}

	// The CRDs of the previous chart were installed from crds/, which Helm does not own:
	// --take-ownership lets this chart adopt them.
	run("upgrade", "cooperator", current, "--take-ownership")

	after := &corev1.Secret{}
	if err := c.Get(ctx, secretKey, after); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before.Data, after.Data) {
		t.Error("the upgrade changed the webhook's certificate")
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := c.Get(ctx, client.ObjectKey{Name: "cooperatives.coop.cooperator.dev"}, crd); err != nil {
		t.Fatal(err)
	}
	spec := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
	if _, ok := spec.Properties["suspend"]; !ok {
		t.Error("the upgrade did not upgrade the Cooperative CRD: it has no spec.suspend")
	}
	if crd.Annotations["helm.sh/resource-policy"] != "keep" || crd.Annotations["meta.helm.sh/release-name"] != "cooperator" {
		t.Errorf("the CRD is not the release's, kept on uninstall: %v", crd.Annotations)
	}
	d := &appsv1.Deployment{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: operatorNamespace, Name: "cooperator-controller-manager"}, d); err != nil {
		t.Fatal(err)
	}
	if image := d.Spec.Template.Spec.Containers[0].Image; !strings.HasSuffix(image, ":"+chartAppVersion(t)) {
		t.Errorf("the operator runs %s after the upgrade", image)
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: operatorNamespace, Name: "cooperator-controller-manager"}, &policyv1.PodDisruptionBudget{}); err != nil {
		t.Errorf("the upgrade did not add the PodDisruptionBudget: %v", err)
	}

	// An upgrade to the same chart changes nothing of the certificate either.
	run("upgrade", "cooperator", current)
	again := &corev1.Secret{}
	if err := c.Get(ctx, secretKey, again); err != nil || !reflect.DeepEqual(again.Data, before.Data) {
		t.Errorf("a second upgrade changed the webhook's certificate (%v)", err)
	}

	run("uninstall", "cooperator")
	if err := c.Get(ctx, client.ObjectKey{Name: "cooperatives.coop.cooperator.dev"}, &apiextensionsv1.CustomResourceDefinition{}); err != nil {
		t.Errorf("uninstall removed the Cooperative CRD (crds.keep is true): %v", err)
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: operatorNamespace, Name: "cooperator-controller-manager"}, &appsv1.Deployment{}); !apierrors.IsNotFound(err) {
		t.Errorf("uninstall left the Deployment: %v", err)
	}
}

// chartWithoutKubeVersion copies a chart (a folder, or a .tgz archive holding one folder)
// into dir/name and removes the kubeVersion of its Chart.yaml; it returns the copy's folder.
func chartWithoutKubeVersion(t *testing.T, dir, name, src string) string {
	t.Helper()
	dst := filepath.Join(dir, name)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	var cmd *exec.Cmd
	if strings.HasSuffix(src, ".tgz") {
		cmd = exec.Command("tar", "-xzf", src, "-C", dst, "--strip-components=1")
	} else {
		cmd = exec.Command("cp", "-r", src+"/.", dst)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("copying %s: %v\n%s", src, err, out)
	}
	chartFile := filepath.Join(dst, "Chart.yaml")
	data, err := os.ReadFile(chartFile)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "kubeVersion:") {
			kept = append(kept, line)
		}
	}
	if err := os.WriteFile(chartFile, []byte(strings.Join(kept, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}
