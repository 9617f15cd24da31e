package server

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkPayments compares payments per second through the HTTP API (auth, JSON,
// split, idempotency, balanced ledger transaction) with the raw rate of single-row
// inserts into the same server (as the database owner: the serving role creates no
// tables). Both run one at a time.
func BenchmarkPayments(b *testing.B) {
	e := newEnv(b, mustPolicy(b, ridePolicy))
	w := e.worker("Dan Driver")
	ctx := context.Background()
	if _, err := e.owner.Exec(ctx, `CREATE TABLE bench_raw (id bigserial PRIMARY KEY, amount_cents bigint NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	body := map[string]any{"workerId": w.id, "amountCents": 1999, "surgeCents": 100}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		r := e.call("POST", "/v1/payments", adminToken, body, "Idempotency-Key", fmt.Sprintf("bench-%d", i))
		if r.status != 201 {
			b.Fatalf("%d %s", r.status, r.body)
		}
	}
	api := time.Since(start)
	start = time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := e.owner.Exec(ctx, `INSERT INTO bench_raw (amount_cents) VALUES ($1)`, int64(i)); err != nil {
			b.Fatal(err)
		}
	}
	raw := time.Since(start)
	b.StopTimer()
	e.assertBalanced()
	apiRate := float64(b.N) / api.Seconds()
	rawRate := float64(b.N) / raw.Seconds()
	b.ReportMetric(apiRate, "payments/s")
	b.ReportMetric(rawRate, "raw-inserts/s")
	b.ReportMetric(apiRate/rawRate, "payment/insert-ratio")
}

// BenchmarkMatch measures the latency of a match request with 1,000 available workers.
func BenchmarkMatch(b *testing.B) {
	e := newEnv(b, mustPolicy(b, ridePolicy))
	c := e.customer("Rita Rider")
	ctx := context.Background()
	if _, err := e.s.Pool().Exec(ctx, `INSERT INTO members (name, email, stakeholder_class, roles, qualifications, available, rating_sum, rating_count)
		SELECT 'Worker ' || g, 'w' || g || '@example.org', 'drivers', '{worker}', '{ride}', true, g % 5 + 1, 1 FROM generate_series(1, 1000) g`); err != nil {
		b.Fatal(err)
	}
	if _, err := e.s.Pool().Exec(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := num(e.must(201, "POST", "/v1/work", c.token, ride(1500, 0))["id"])
		path := fmt.Sprintf("/v1/work/%d/match", id)
		t0 := time.Now()
		r := e.call("POST", path, c.token, nil)
		lat = append(lat, time.Since(t0))
		if r.status != 200 {
			b.Fatalf("%d %s", r.status, r.body)
		}
		// Free the worker again so the pool stays at 1,000.
		e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", id), c.token, nil)
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p int) float64 { return float64(lat[(len(lat)-1)*p/100].Microseconds()) / 1000 }
	b.ReportMetric(pct(50), "p50-ms")
	b.ReportMetric(pct(99), "p99-ms")
}
