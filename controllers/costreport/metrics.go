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
	// For display: the amounts stay exact decimal strings in the report.
	costAmountDesc = prometheus.NewDesc("cooperator_cost_amount",
		"The amount of a co-op's share of a period's bill, as the CostReport's status.lines last computed it.",
		[]string{"cooperative", "period", "currency"}, nil)
)

// reportState reads the manager's cache once SetupWithManager gave it.
var reportState = statemetrics.MustRegister(collectReports, openDesc, periodEndDesc, costAmountDesc)

func collectReports(ctx context.Context, r client.Reader, ch chan<- prometheus.Metric) {
	statemetrics.Each(ctx, r, &coopv1.CostReportList{}, func(rep *coopv1.CostReport) {
		ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, statemetrics.Bool(rep.Status.Phase != coopv1.CostReportFinal), rep.Name)
		ch <- prometheus.MustNewConstMetric(periodEndDesc, prometheus.GaugeValue, float64(rep.Spec.Period.End.Unix()), rep.Name)
		for _, l := range rep.Status.Lines {
			if amount, err := strconv.ParseFloat(l.Amount, 64); err == nil {
				ch <- prometheus.MustNewConstMetric(costAmountDesc, prometheus.GaugeValue, amount, l.Cooperative, rep.Name, rep.Spec.Currency)
			}
		}
	})
}
