package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BenchmarkPayments compares payments per second through the HTTP API (auth, JSON,
// split, idempotency, balanced ledger transaction) with the raw rate of single-row
// inserts into the same server (as the database owner: the serving role creates no
// tables). Both run one at a time, in alternating blocks of 50, so that the load of a
// shared machine weighs on both alike. The requests go over HTTP (loopback, keep-alive)
// to a server of the service's own handler: the OpenAPI check the tests wrap around it
// (apiValidated) is the test suite's, not the service's, and the other tests validate the payment's answers. Besides the rates it
// prints the CPU time each payment and each insert cost the database's backends and this
// process (Linux; where the rates of a shared machine wobble, these stay put).
//
// A third block in each round measures the ceiling of any endpoint of this shape: the same
// single-row insert served over the same HTTP client and loopback server by a handler that
// does nothing else (no auth, no JSON decoding). Its ratio to the raw inserts is the most
// a payment could reach through HTTP on this machine, whatever the payment's own cost.
func BenchmarkPayments(b *testing.B) {
	e := newEnv(b, mustPolicy(b, withFares(ridePolicy, rideFares))) // its surge windows allow the payments' surge
	w := e.worker("Dan Driver")
	ctx := context.Background()
	if _, err := e.owner.Exec(ctx, `CREATE TABLE bench_raw (id bigserial PRIMARY KEY, amount_cents bigint NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	// A real HTTP server on loopback, with keep-alive, serving the service's own handler.
	srv := httptest.NewServer(e.s.Handler())
	b.Cleanup(srv.Close)
	client := srv.Client()
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if _, err := e.owner.Exec(r.Context(), `INSERT INTO bench_raw (amount_cents) VALUES ($1)`, int64(1999)); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":1}`))
	}))
	b.Cleanup(bare.Close)
	body, err := json.Marshal(map[string]any{"workerId": w.id, "amountCents": 1999, "surgeCents": 100})
	if err != nil {
		b.Fatal(err)
	}
	post := func(url string, i int) {
		req, err := http.NewRequest("POST", url, bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%d", i))
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		answer, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 201 {
			b.Fatalf("%d %s %v", resp.StatusCode, answer, err)
		}
	}
	pay := func(i int) { post(srv.URL+"/v1/payments", i) }
	httpInsert := func(i int) { post(bare.URL, i) }
	insert := func(i int) {
		if _, err := e.owner.Exec(ctx, `INSERT INTO bench_raw (amount_cents) VALUES ($1)`, int64(i)); err != nil {
			b.Fatal(err)
		}
	}
	// Warm the connections' statement caches.
	pay(-1)
	insert(-1)
	httpInsert(-1)
	servingDB, ownerDB := backends(b, e, "current_database() || '_serving'"), backends(b, e, "current_user")
	const block = 50
	var api, raw, ceiling, apiDB, rawDB, apiGo, rawGo time.Duration
	b.ResetTimer()
	for from := 0; from < b.N; from += block {
		to := min(from+block, b.N)
		d0, g0 := servingDB.cpu(), processCPU()
		start := time.Now()
		for i := from; i < to; i++ {
			pay(i)
		}
		api += time.Since(start)
		apiDB, apiGo = apiDB+servingDB.cpu()-d0, apiGo+processCPU()-g0
		d0, g0 = ownerDB.cpu(), processCPU()
		start = time.Now()
		for i := from; i < to; i++ {
			insert(i)
		}
		raw += time.Since(start)
		rawDB, rawGo = rawDB+ownerDB.cpu()-d0, rawGo+processCPU()-g0
		start = time.Now()
		for i := from; i < to; i++ {
			httpInsert(i)
		}
		ceiling += time.Since(start)
	}
	b.StopTimer()
	e.assertBalanced()
	apiRate := float64(b.N) / api.Seconds()
	rawRate := float64(b.N) / raw.Seconds()
	b.ReportMetric(apiRate, "payments/s")
	b.ReportMetric(rawRate, "raw-inserts/s")
	b.ReportMetric(apiRate/rawRate, "payment/insert-ratio")
	ceilingRate := float64(b.N) / ceiling.Seconds()
	b.ReportMetric(ceilingRate, "http-inserts/s")
	b.ReportMetric(ceilingRate/rawRate, "http-insert/insert-ratio")
	perOp := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(b.N) }
	b.ReportMetric(perOp(apiDB), "db-cpu-µs/payment")
	b.ReportMetric(perOp(rawDB), "db-cpu-µs/insert")
	b.ReportMetric(perOp(apiGo), "go-cpu-µs/payment")
	b.ReportMetric(perOp(rawGo), "go-cpu-µs/insert")
}

// backendSet is the database's backend processes of a role, found once (the benchmark's
// pools keep their connections).
type backendSet []int

// backends finds the backends of the role (an SQL expression) in the env's database.
func backends(b *testing.B, e *env, role string) backendSet {
	b.Helper()
	rows, err := e.owner.Query(context.Background(), `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND usename = `+role)
	if err != nil {
		b.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		b.Fatal(err)
	}
	return pids
}

// cpu sums the user and system CPU time of the backends (0 where /proc cannot tell).
func (s backendSet) cpu() time.Duration {
	var total time.Duration
	for _, pid := range s {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 13 {
			continue
		}
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(utime+stime) * time.Second / 100 // USER_HZ
	}
	return total
}

// processCPU is this process's user and system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
	// Available every day, all day (what PUT availability sets).
	if _, err := e.s.Pool().Exec(ctx, `INSERT INTO availability_windows (member_id, weekday, from_minute, to_minute)
		SELECT m.id, d, 0, 1440 FROM members m, generate_series(1, 7) d WHERE m.available`); err != nil {
		b.Fatal(err)
	}
	if _, err := e.s.Pool().Exec(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	benchMatch(b, e, c, func(int) map[string]any { return ride(1500, 0) })
}

// benchMatch measures the latency of matching b.N work items that customer c requests
// (request(i) is the i-th), reported as p50-ms and p99-ms. Each match is cancelled at
// once, which frees its worker, so the pool stays the same.
func benchMatch(b *testing.B, e *env, c who, request func(i int) map[string]any) {
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := num(e.must(201, "POST", "/v1/work", c.token, request(i))["id"])
		path := fmt.Sprintf("/v1/work/%d/match", id)
		t0 := time.Now()
		r := e.call("POST", path, c.token, nil)
		lat = append(lat, time.Since(t0))
		if r.status != 200 {
			b.Fatalf("%d %s", r.status, r.body)
		}
		e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", id), c.token, nil)
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p int) float64 { return float64(lat[(len(lat)-1)*p/100].Microseconds()) / 1000 }
	b.ReportMetric(pct(50), "p50-ms")
	b.ReportMetric(pct(99), "p99-ms")
}

// BenchmarkOfferSelection measures the latency of matching a scheduled booking with
// 10,000 workers, each with a weekly schedule (weekdays 08:00-18:00, some also weekends
// or evenings, a tenth with a holiday), and 100,000 accepted bookings spread over the
// next eight weeks. Each match is then cancelled so the pool stays the same.
func BenchmarkOfferSelection(b *testing.B) {
	e := newEnv(b, verticalPolicy(b, "home-services"))
	c := e.member("Cal Customer", []string{"customer"}, "")
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO members (name, email, roles, qualifications, available, rating_sum, rating_count, last_assigned_at)
			SELECT 'Worker ' || g, 'w' || g || '@example.org', '{worker}', '{booking}', true, g % 5 + 1, 1,
				'2026-11-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 10000) g`,
		`INSERT INTO availability_windows (member_id, weekday, from_minute, to_minute)
			SELECT m.id, d, 480, 1080 FROM members m, generate_series(1, 5) d WHERE 'worker' = ANY (m.roles)`,
		`INSERT INTO availability_windows (member_id, weekday, from_minute, to_minute)
			SELECT m.id, d, 600, 1320 FROM members m, generate_series(6, 7) d WHERE 'worker' = ANY (m.roles) AND m.id % 3 = 0`,
		`INSERT INTO availability_windows (member_id, weekday, from_minute, to_minute)
			SELECT m.id, d, 1140, 1380 FROM members m, generate_series(1, 5) d WHERE 'worker' = ANY (m.roles) AND m.id % 4 = 0`,
		`INSERT INTO worker_skills (member_id, kind, value, verified_at)
			SELECT m.id, 'skill', 'plumbing', '2026-11-01' FROM members m WHERE 'worker' = ANY (m.roles)`,
		`INSERT INTO availability_exceptions (member_id, starts_at, ends_at, available)
			SELECT m.id, '2026-12-14', '2026-12-21', false FROM members m WHERE 'worker' = ANY (m.roles) AND m.id % 10 = 0`,
		// 100,000 bookings: ten per worker, each two hours at a weekday hour between 08:00
		// and 16:00 in the next eight weeks.
		`INSERT INTO work_items (vertical, kind, customer_id, worker_id, state, details, price_cents, starts_at, ends_at)
			SELECT 'home-services', 'booking', ` + fmt.Sprint(c.id) + `, m.id, 'accepted', '{}', 5000, s, s + interval '2 hours'
			FROM members m, generate_series(1, 10) k,
				LATERAL (SELECT '2026-12-07 08:00Z'::timestamptz + ((m.id * 7 + k * 13) % 40 / 5 * 7 + (m.id + k) % 5) * interval '1 day'
					+ ((m.id * 3 + k) % 5) * interval '2 hours' AS s) x
			WHERE 'worker' = ANY (m.roles)`,
		`ANALYZE`,
	} {
		if _, err := e.owner.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	if n := e.count("work_items"); n != 100000 {
		b.Fatalf("%d bookings", n)
	}
	benchMatch(b, e, c, func(i int) map[string]any {
		// A weekday slot in the next eight weeks, 08:00 to 16:00.
		day := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC).AddDate(0, 0, i%40/5*7+i%5).Add(time.Duration(i%9) * time.Hour)
		return schedBooking(day.Format(time.RFC3339), 90)
	})
}
