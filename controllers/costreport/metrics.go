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
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// The reports' state as metrics, computed at each scrape from the manager's cache: the
// alert on a report still Open days after its period ended reads them.
var (
	openDesc = prometheus.NewDesc("cooperator_costreport_open",
		"1 while the CostReport is Open (its amounts a running estimate), 0 once it is Final.", []string{"costreport"}, nil)
	periodEndDesc = prometheus.NewDesc("cooperator_costreport_period_end_timestamp_seconds",
		"The end of the CostReport's period, in seconds since the Unix epoch.", []string{"costreport"}, nil)
)

type reportMetrics struct {
	reader atomic.Pointer[client.Reader]
}

var reportState = &reportMetrics{}

func init() {
	metrics.Registry.MustRegister(reportState)
}

// registerStateMetrics makes the metrics read from r, the manager's cache.
func registerStateMetrics(r client.Reader) { reportState.reader.Store(&r) }

// Describe implements prometheus.Collector.
func (m *reportMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- openDesc
	ch <- periodEndDesc
}

// Collect implements prometheus.Collector; a failed read leaves the series out.
func (m *reportMetrics) Collect(ch chan<- prometheus.Metric) {
	r := m.reader.Load()
	if r == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var reports coopv1.CostReportList
	if err := (*r).List(ctx, &reports, client.UnsafeDisableDeepCopy); err != nil {
		return
	}
	for i := range reports.Items {
		rep := &reports.Items[i]
		open := 1.0
		if rep.Status.Phase == coopv1.CostReportFinal {
			open = 0
		}
		ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, open, rep.Name)
		ch <- prometheus.MustNewConstMetric(periodEndDesc, prometheus.GaugeValue, float64(rep.Spec.Period.End.Unix()), rep.Name)
	}
}
