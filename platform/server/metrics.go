package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsHandler serves /metrics (and only that), for the metrics port: the API's port,
// which the Ingress exposes, has no /metrics.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	return jsonMuxErrors(mux)
}

type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	payments *prometheus.CounterVec
	amounts  *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cooperator_platform_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cooperator_platform_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		payments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cooperator_platform_payments_total", Help: "Payments and refunds recorded in the ledger.",
		}, []string{"kind"}),
		amounts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cooperator_platform_amount_cents_total",
			Help: "Cents credited by payments (kind=payment) or debited by refunds (kind=refund), by destination: a fund's name, operating, coop-surge or workers.",
		}, []string{"fund", "kind"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.payments, m.amounts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
