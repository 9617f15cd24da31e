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
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/statemetrics"
)

// The reports' state as metrics, computed at each scrape from the manager's cache: the
// alert on a report still Open days after its period ended reads them.
var (
	openDesc = prometheus.NewDesc("cooperator_costreport_open",
		"1 while the CostReport is Open (its amounts a running estimate), 0 once it is Final.", []string{"costreport"}, nil)
	periodEndDesc = prometheus.NewDesc("cooperator_costreport_period_end_timestamp_seconds",
		"The end of the CostReport's period, in seconds since the Unix epoch.", []string{"costreport"}, nil)
	// For display: the amounts stay exact decimal strings in the report. Only the reports
	// that may still change and the last settled one: CostReports are never deleted, and
	// a series per co-op and period for ever would grow by the number of co-ops each
	// month.
	costAmountDesc = prometheus.NewDesc("cooperator_cost_amount",
		"The amount of a co-op's share of a period's bill, as the CostReport's status.lines last computed it, for the Open reports and the newest Final one.",
		[]string{"cooperative", "period", "currency"}, nil)
)

// reportState reads the manager's cache once SetupWithManager gave it.
var reportState = statemetrics.MustRegister(collectReports, openDesc, periodEndDesc, costAmountDesc)

func collectReports(ctx context.Context, r client.Reader, ch chan<- prometheus.Metric) {
	var amounts []*coopv1.CostReport // whose lines are exported
	var lastFinal *coopv1.CostReport
	statemetrics.Each(ctx, r, &coopv1.CostReportList{}, func(rep *coopv1.CostReport) {
		open := rep.Status.Phase != coopv1.CostReportFinal
		ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, statemetrics.Bool(open), rep.Name)
		ch <- prometheus.MustNewConstMetric(periodEndDesc, prometheus.GaugeValue, float64(rep.Spec.Period.End.Unix()), rep.Name)
		switch {
		case open:
			amounts = append(amounts, rep)
		case lastFinal == nil || endsLater(rep, lastFinal):
			lastFinal = rep
		}
	})
	if lastFinal != nil {
		amounts = append(amounts, lastFinal)
	}
	for _, rep := range amounts {
		for _, l := range rep.Status.Lines {
			if amount, err := strconv.ParseFloat(l.Amount, 64); err == nil {
				ch <- prometheus.MustNewConstMetric(costAmountDesc, prometheus.GaugeValue, amount, l.Cooperative, rep.Name, rep.Spec.Currency)
			}
		}
	}
}

// endsLater reports whether a's period ends after b's (by name when they end together).
func endsLater(a, b *coopv1.CostReport) bool {
	if !a.Spec.Period.End.Equal(&b.Spec.Period.End) {
		return b.Spec.Period.End.Before(&a.Spec.Period.End)
	}
	return a.Name > b.Name
}
