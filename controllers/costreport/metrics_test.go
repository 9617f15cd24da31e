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

package costreport

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// TestAmountsAreReadFromTheReports: each co-op's share of each period is read from the
// reports' status.lines at every scrape: a co-op that left a period's lines drops out of
// it, and a report deleted takes its series with it.
func TestAmountsAreReadFromTheReports(t *testing.T) {
	report := func(period string, lines ...coopv1.CostLine) *coopv1.CostReport {
		return &coopv1.CostReport{ObjectMeta: metav1.ObjectMeta{Name: period}, Spec: coopv1.CostReportSpec{Currency: "EUR"},
			Status: coopv1.CostReportStatus{Lines: lines}}
	}
	scheme := runtime.NewScheme()
	if err := coopv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		report("2026-11", coopv1.CostLine{Cooperative: "a", Amount: "11.00"}),
		report("2026-10", coopv1.CostLine{Cooperative: "b", Amount: "1.00"}, coopv1.CostLine{Cooperative: "a", Amount: "2.50"}),
	).Build()
	want := `# HELP cooperator_cost_amount The amount of a co-op's share of a period's bill, as the CostReport's status.lines last computed it.
# TYPE cooperator_cost_amount gauge
cooperator_cost_amount{cooperative="a",currency="EUR",period="2026-10"} 2.5
cooperator_cost_amount{cooperative="a",currency="EUR",period="2026-11"} 11
cooperator_cost_amount{cooperative="b",currency="EUR",period="2026-10"} 1
`
	if err := testutil.CollectAndCompare(collector{c}, strings.NewReader(want), "cooperator_cost_amount"); err != nil {
		t.Error(err)
	}
	if err := c.Delete(context.Background(), report("2026-10")); err != nil {
		t.Fatal(err)
	}
	want = `# HELP cooperator_cost_amount The amount of a co-op's share of a period's bill, as the CostReport's status.lines last computed it.
# TYPE cooperator_cost_amount gauge
cooperator_cost_amount{cooperative="a",currency="EUR",period="2026-11"} 11
`
	if err := testutil.CollectAndCompare(collector{c}, strings.NewReader(want), "cooperator_cost_amount"); err != nil {
		t.Errorf("after the October report was deleted: %v", err)
	}
}

// collector is the reports' state metrics read from r.
type collector struct{ r client.Reader }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{openDesc, periodEndDesc, costAmountDesc} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	collectReports(context.Background(), c.r, ch)
}
