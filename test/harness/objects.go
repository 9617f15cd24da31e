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
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// MustJSON is v as JSON; t fails when v does not encode.
func MustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// CostReportYAML is the CostReport name (of the month it names, November 2026 if it names
// none; in EUR) as a person writes it in YAML, with the given lines and policy (YAML lines
// indented under spec.lines and spec.policy), decoded as the API server will receive it:
// plain numbers stay numbers.
func CostReportYAML(t testing.TB, name, lines, policy string) *unstructured.Unstructured {
	t.Helper()
	start, err := time.Parse("2006-01", name)
	if err != nil {
		start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	}
	doc := `apiVersion: coop.cooperator.dev/v1alpha1
kind: CostReport
metadata: {name: "` + name + `"}
spec:
  period: {start: "` + start.Format(time.RFC3339) + `", end: "` + start.AddDate(0, 1, 0).Format(time.RFC3339) + `"}
  currency: EUR
  lines:
` + lines + `
  policy:
` + policy + "\n"
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, doc)
	}
	return u
}

// ReadYAML reads one object from a YAML file, refusing fields its type does not have.
func ReadYAML(path string, obj any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.UnmarshalStrict(b, obj); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Sample reads a sample Cooperative from config/samples.
func Sample(file string) (*coopv1.Cooperative, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	c := &coopv1.Cooperative{}
	return c, ReadYAML(filepath.Join(root, "config", "samples", file), c)
}

// ReportEntry is a titled piece of a failed test's report.
type ReportEntry struct{ Title, Body string }

// CooperativeReport is what a failed spec about a co-op should show: the Cooperative, and
// the CloudNativePG Clusters and Backups of its namespace, as indented JSON.
func CooperativeReport(ctx context.Context, c client.Reader, name string) []ReportEntry {
	var out []ReportEntry
	add := func(title string, v any) {
		b, _ := json.MarshalIndent(v, "", "  ")
		out = append(out, ReportEntry{Title: title, Body: string(b)})
	}
	coop := &coopv1.Cooperative{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, coop); err == nil {
		add("cooperative "+name, coop)
	}
	ns := client.InNamespace(coopv1.NamespacePrefix + name)
	var clusters cnpgv1.ClusterList
	if err := c.List(ctx, &clusters, ns); err == nil {
		add("clusters of "+name, clusters.Items)
	}
	var backups cnpgv1.BackupList
	if err := c.List(ctx, &backups, ns); err == nil {
		add("backups of "+name, backups.Items)
	}
	return out
}
