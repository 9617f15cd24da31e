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
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cooperator-dev/cooperator/test/harness"
)

// helmNotes renders the chart's NOTES.txt with the values args set. `helm template` leaves
// NOTES out and `helm install --dry-run` needs a cluster, so a copy of the chart holds the
// notes as a named template, rendered into a ConfigMap of the copy alone.
func helmNotes(t *testing.T, args ...string) string {
	t.Helper()
	helm := helmBinary(t)
	if helm == "" {
		t.Skip("no helm binary: run `make helm` (or set HELM) to render the chart")
	}
	chart := filepath.Join(t.TempDir(), "cooperator")
	if err := os.CopyFS(chart, os.DirFS(filepath.Join(harness.MustRepoRoot(t), "charts", "cooperator"))); err != nil {
		t.Fatal(err)
	}
	notes, err := os.ReadFile(filepath.Join(chart, "templates", "NOTES.txt"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"_notes.tpl": `{{- define "test.notes" -}}` + string(notes) + `{{- end -}}`,
		"zz-notes.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: |\n" +
			`{{ include "test.notes" . | indent 4 }}` + "\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(chart, "templates", name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(helm, append([]string{"template", "cooperator", chart, "--namespace", operatorNamespace, "--kube-version", "1.37.0",
		"--show-only", "templates/zz-notes.yaml"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, stderr.String())
	}
	objs := decodeYAMLStream(t, out)
	if len(objs) != 1 {
		t.Fatalf("%d objects rendered", len(objs))
	}
	text, _, _ := unstructured.NestedString(objs[0].Object, "data", "notes")
	return text
}

// TestChartNotesWarn: the notes after an install warn of each hub setting left empty that
// weakens the co-ops' isolation (hosts, client addresses, the webhook's port), and say
// nothing of one that is set.
func TestChartNotesWarn(t *testing.T) {
	warnings := map[string][]string{
		"hub.allowedHostDomains":      {"--set", "hub.allowedHostDomains={coop.example}"},
		"hub.ingressProxies":          {"--set", "hub.ingressProxies={10.0.0.0/8}"},
		"hub.network.apiServer.cidrs": {"--set", "hub.network.apiServer.cidrs={10.0.0.10/32}"},
	}
	defaults := helmNotes(t)
	if !strings.Contains(defaults, "is installed in namespace "+operatorNamespace) {
		t.Fatalf("the notes: %s", defaults)
	}
	var all []string
	for value, set := range warnings {
		if !strings.Contains(defaults, "WARNING: "+value+" is empty") {
			t.Errorf("the notes of the default values do not warn of %s:\n%s", value, defaults)
		}
		if notes := helmNotes(t, set...); strings.Contains(notes, "WARNING: "+value) {
			t.Errorf("the notes warn of %s, set:\n%s", value, notes)
		}
		all = append(all, set...)
	}
	if notes := helmNotes(t, all...); strings.Contains(notes, "WARNING") {
		t.Errorf("the notes warn with every setting set:\n%s", notes)
	}
	if notes := helmNotes(t, "--set", "platformTemplates.install=false"); !strings.Contains(notes, "The default PlatformTemplates were not installed") {
		t.Errorf("the notes do not say the templates are missing:\n%s", notes)
	}
}
