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
	"fmt"
	"strings"
	"testing"
	"time"

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
	want := `# HELP cooperator_cost_amount The amount of a co-op's share of a period's bill, as the CostReport's status.lines last computed it, for the Open reports and the newest Final one.
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
	want = `# HELP cooperator_cost_amount The amount of a co-op's share of a period's bill, as the CostReport's status.lines last computed it, for the Open reports and the newest Final one.
# TYPE cooperator_cost_amount gauge
cooperator_cost_amount{cooperative="a",currency="EUR",period="2026-11"} 11
`
	if err := testutil.CollectAndCompare(collector{c}, strings.NewReader(want), "cooperator_cost_amount"); err != nil {
		t.Errorf("after the October report was deleted: %v", err)
	}
}

// TestAmountsOfSettledMonthsAreBounded: CostReports are never deleted, so the amounts are
// exported for the Open reports and the newest Final one only: however many months were
// settled, a co-op has a series for the months that may still change and the last
// settled one. The open and period-end gauges, which the alert reads, stay one per report.
func TestAmountsOfSettledMonthsAreBounded(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := coopv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	b := fake.NewClientBuilder().WithScheme(scheme)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	const months = 36 // 2024-01 to 2026-12
	for i := range months {
		from, to := start.AddDate(0, i, 0), start.AddDate(0, i+1, 0)
		phase := coopv1.CostReportFinal
		if i >= months-2 { // 2026-11, past but not frozen yet, and 2026-12
			phase = coopv1.CostReportOpen
		}
		rep := &coopv1.CostReport{ObjectMeta: metav1.ObjectMeta{Name: from.Format("2006-01")},
			Spec:   coopv1.CostReportSpec{Currency: "EUR", Period: coopv1.Period{Start: metav1.NewTime(from), End: metav1.NewTime(to)}},
			Status: coopv1.CostReportStatus{Phase: phase}}
		for _, c := range []string{"a", "b", "c"} {
			rep.Status.Lines = append(rep.Status.Lines, coopv1.CostLine{Cooperative: c, Amount: fmt.Sprintf("%d.00", i)})
		}
		b = b.WithObjects(rep)
	}
	c := b.Build()
	want := `# HELP cooperator_cost_amount The amount of a co-op's share of a period's bill, as the CostReport's status.lines last computed it, for the Open reports and the newest Final one.
# TYPE cooperator_cost_amount gauge
cooperator_cost_amount{cooperative="a",currency="EUR",period="2026-10"} 33
cooperator_cost_amount{cooperative="a",currency="EUR",period="2026-11"} 34
cooperator_cost_amount{cooperative="a",currency="EUR",period="2026-12"} 35
cooperator_cost_amount{cooperative="b",currency="EUR",period="2026-10"} 33
cooperator_cost_amount{cooperative="b",currency="EUR",period="2026-11"} 34
cooperator_cost_amount{cooperative="b",currency="EUR",period="2026-12"} 35
cooperator_cost_amount{cooperative="c",currency="EUR",period="2026-10"} 33
cooperator_cost_amount{cooperative="c",currency="EUR",period="2026-11"} 34
cooperator_cost_amount{cooperative="c",currency="EUR",period="2026-12"} 35
`
	if err := testutil.CollectAndCompare(collector{c}, strings.NewReader(want), "cooperator_cost_amount"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(collector{c}, "cooperator_costreport_open"); n != months {
		t.Errorf("%d cooperator_costreport_open series, want one per report (%d)", n, months)
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
