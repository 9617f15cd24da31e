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

package v1alpha1_test

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/test/harness"
)

// TestDecimalJSON: a Decimal reads a quoted decimal or a whole number, refuses a number
// with decimals, and writes a string.
func TestDecimalJSON(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want coopv1.Decimal
		err  string
	}{
		{`{"cpuCore": 1, "memoryGiB": "0.125"}`, "1", ""},
		{`{"cpuCore": "1.5"}`, "1.5", ""},
		{`{"cpuCore": 0.125}`, "", `write a number with decimals as a quoted string, such as "0.125"`},
	} {
		var w coopv1.ComputeWeights
		err := yaml.Unmarshal([]byte(tc.in), &w)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: got %v, want an error saying %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || w.CPUCore != tc.want):
			t.Errorf("%s: got %q, %v; want %q", tc.in, w.CPUCore, err, tc.want)
		}
	}
	b, err := yaml.Marshal(coopv1.ComputeWeights{CPUCore: "1", MemoryGiB: "0.125"})
	if err != nil || string(b) != "cpuCore: \"1\"\nmemoryGiB: \"0.125\"\n" {
		t.Errorf("marshal: %s %v", b, err)
	}
}

// TestDecimalFieldsAsPeopleWriteThem applies CostReports written in YAML: whole numbers
// may be plain, decimals are quoted; the API server refuses the rest naming the field. No
// webhook runs here: these are the schema's own refusals, which the operator's decimals
// webhook (controllers/costreport, TestDecimalsWebhook) words better for unquoted decimals.
func TestDecimalFieldsAsPeopleWriteThem(t *testing.T) {
	env := harness.StartT(t, harness.Options{ProjectCRDs: true, Scheme: harness.Scheme(coopv1.AddToScheme)})
	c := env.Client
	ctx := context.Background()
	report := func(name, lines, policy string) *unstructured.Unstructured {
		t.Helper()
		return harness.CostReportYAML(t, name, lines, policy)
	}
	const line = `  - {description: servers, amount: "412.50", pool: compute}`
	const policy = `    computeWeights: {cpuCore: 1, memoryGiB: "0.125"}`

	accepted := report("2026-11", `  - {description: servers, amount: 412, pool: compute}
  - {description: storage, amount: "38.05", pool: storage}`, policy+`
    minimumAmount: 5`)
	if err := c.Create(ctx, accepted); err != nil {
		t.Fatalf("whole numbers and quoted decimals were refused: %v", err)
	}
	got := &coopv1.CostReport{}
	if err := c.Get(ctx, client.ObjectKey{Name: "2026-11"}, got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.Policy.ComputeWeights.CPUCore != "1" || got.Spec.Policy.ComputeWeights.MemoryGiB != "0.125" || got.Spec.Lines[0].Amount != "412" || got.Spec.Lines[1].Amount != "38.05" || got.Spec.Policy.MinimumAmount != "5" {
		t.Errorf("read back: %+v", got.Spec)
	}

	for _, tc := range []struct {
		name          string
		lines, policy string
		want          []string
	}{
		{"unquoted decimal weight", line, `    computeWeights: {cpuCore: 1, memoryGiB: 0.125}`,
			[]string{"spec.policy.computeWeights.memoryGiB", "integer"}},
		{"unquoted decimal amount", `  - {description: servers, amount: 412.5, pool: compute}`, policy,
			[]string{"spec.lines[0].amount", "integer"}},
		{"unquoted decimal floor", line, policy + "\n    minimumAmount: 5.5",
			[]string{"spec.policy.minimumAmount", "integer"}},
		{"negative amount", `  - {description: servers, amount: -3, pool: compute}`, policy,
			[]string{"spec.lines[0].amount", "must not be negative"}},
		{"decimal comma", `  - {description: servers, amount: "12,50", pool: compute}`, policy,
			[]string{"spec.lines[0].amount", "should match"}},
		{"three decimals of money", line, policy + `
    minimumAmount: "5.001"`, []string{"spec.policy.minimumAmount", "should match"}},
		{"negative weight", line, `    computeWeights: {cpuCore: -1}`,
			[]string{"spec.policy.computeWeights.cpuCore", "must not be negative"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Create(ctx, report("2026-10", tc.lines, tc.policy))
			if err == nil {
				_ = c.Delete(ctx, &coopv1.CostReport{ObjectMeta: metav1.ObjectMeta{Name: "2026-10"}})
				t.Fatalf("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestUnquotedDecimals finds every Decimal field of a kind written as a number with
// decimals, by its path, from the Go types alone.
func TestUnquotedDecimals(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		want       []string
	}{
		{"all quoted or whole", `{"spec":{"lines":[{"amount":"412.50"},{"amount":38}],"policy":{"computeWeights":{"cpuCore":1,"memoryGiB":"0.125"},"minimumAmount":"5"}}}`, nil},
		{"every decimal field", `{"spec":{"lines":[{"amount":"1"},{"amount":412.5}],"policy":{"computeWeights":{"cpuCore":1.5,"memoryGiB":0.125},"minimumAmount":5.0}}}`,
			[]string{"spec.lines[1].amount", "spec.policy.computeWeights.cpuCore", "spec.policy.computeWeights.memoryGiB", "spec.policy.minimumAmount"}},
		{"an exponent", `{"spec":{"lines":[{"amount":1e3}]}}`, []string{"spec.lines[0].amount"}},
		{"a negative whole number is the schema's to refuse", `{"spec":{"lines":[{"amount":-3}]}}`, nil},
		{"numbers in other fields", `{"spec":{"policy":{"adjustments":[{"cooperative":"a","discountPercent":12.5}]}}}`, nil},
		{"wrong shapes are the schema's", `{"spec":{"lines":{"amount":1.5},"policy":[]}}`, nil},
		{"status is not checked", `{"status":{"total":"1.5"}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs, err := coopv1.UnquotedDecimals(&coopv1.CostReport{}, []byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.Field)
				if !strings.Contains(e.Detail, "quoted string") {
					t.Errorf("%s: %q does not say to quote", e.Field, e.Detail)
				}
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := coopv1.UnquotedDecimals(&coopv1.CostReport{}, []byte(`{`)); err == nil {
		t.Error("broken JSON was read")
	}
}
