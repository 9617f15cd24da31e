package server

import (
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"
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

var (
	dbConnsDesc = prometheus.NewDesc("cooperator_platform_database_connections",
		"Connections of the service's pool to the co-op's database, by state: acquired (in use) or idle.", []string{"state"}, nil)
	dbMaxConnsDesc = prometheus.NewDesc("cooperator_platform_database_max_connections",
		"The most connections the pool opens to the co-op's database.", nil, nil)
	dbAcquiresDesc = prometheus.NewDesc("cooperator_platform_database_acquires_total",
		"Connections taken from the pool, one per query or transaction.", nil, nil)
	dbWaitDesc = prometheus.NewDesc("cooperator_platform_database_acquire_wait_seconds_total",
		"Time spent waiting for a connection while the pool had none free, in seconds: a pool too small or a database too slow.", nil, nil)
	dbCanceledDesc = prometheus.NewDesc("cooperator_platform_database_canceled_acquires_total",
		"Requests for a connection that gave up before getting one (their request ended or timed out).", nil, nil)
)

// poolCollector reads the pool's statistics at each scrape.
type poolCollector struct{ pool *pgxpool.Pool }

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dbConnsDesc, dbMaxConnsDesc, dbAcquiresDesc, dbWaitDesc, dbCanceledDesc} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(dbConnsDesc, prometheus.GaugeValue, float64(st.AcquiredConns()), "acquired")
	ch <- prometheus.MustNewConstMetric(dbConnsDesc, prometheus.GaugeValue, float64(st.IdleConns()), "idle")
	ch <- prometheus.MustNewConstMetric(dbMaxConnsDesc, prometheus.GaugeValue, float64(st.MaxConns()))
	ch <- prometheus.MustNewConstMetric(dbAcquiresDesc, prometheus.CounterValue, float64(st.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(dbWaitDesc, prometheus.CounterValue, st.EmptyAcquireWaitTime().Seconds())
	ch <- prometheus.MustNewConstMetric(dbCanceledDesc, prometheus.CounterValue, float64(st.CanceledAcquireCount()))
}
