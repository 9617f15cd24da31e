package server

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/cooperator-dev/cooperator/platform/server/store/payments"
)

func TestMedianHourlyEarnings(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		name        string
		ws          []payments.WorkerHours
		wantWorkers int
		want        *int64
	}{
		{"no work", nil, 0, nil},
		{"two workers are too few: the median would be one of their pays", []payments.WorkerHours{wh(1, 3600, 2000), wh(2, 7200, 3000)}, 2, nil},
		{"under an hour of work does not count", []payments.WorkerHours{wh(1, 3600, 2000), wh(2, 7200, 3000), wh(3, 3599, 999999)}, 2, nil},
		{"odd: the middle rate", []payments.WorkerHours{wh(1, 3600, 2000), wh(2, 7200, 3000), wh(3, 5400, 4500)}, 3, i(2000)},
		{"even: the mean of the middle two, half up", []payments.WorkerHours{wh(1, 3600, 1001), wh(2, 3600, 1002), wh(3, 3600, 5), wh(4, 3600, 9000)}, 4, i(1002)},
		{"rates rounded half up to the cent", []payments.WorkerHours{wh(1, 7200, 1001), wh(2, 7200, 1001), wh(3, 7200, 1001)}, 3, i(501)},
		// Earnings whose cents times 3600, doubled to round, is beyond int64: exact, not
		// wrapped to a negative rate (2e15 cents over 1e9 seconds is 7,200,000 cents an
		// hour).
		{"earnings beyond int64 once times 3600", []payments.WorkerHours{wh(1, 1_000_000_000, 2_000_000_000_000_000), wh(2, 3600, 100), wh(3, 3600, 200)}, 3, i(200)},
		{"the middle two summed beyond int64", []payments.WorkerHours{wh(1, 3600, math.MaxInt64-10), wh(2, 3600, math.MaxInt64-10), wh(3, 3600, 1), wh(4, 3600, math.MaxInt64-10)}, 4, i(math.MaxInt64 - 10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := MedianHourlyEarnings(tc.ws)
			if got.Workers != tc.wantWorkers || (got.MedianHourlyCents == nil) != (tc.want == nil) ||
				(tc.want != nil && *got.MedianHourlyCents != *tc.want) || got.MinWorkers != EarningsMinWorkers || got.WindowDays != EarningsWindowDays {
				t.Errorf("got %+v (median %v), want %d workers, median %v", got, deref(got.MedianHourlyCents), tc.wantWorkers, deref(tc.want))
			}
		})
	}
}

func wh(worker, seconds, cents int64) payments.WorkerHours {
	return payments.WorkerHours{WorkerID: worker, Seconds: seconds, Cents: cents}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestEarningsReport: three drivers complete rides; their hourly earnings come from what
// their accounts received and how long the rides took from start to completion (the
// service stamps the work's history with the database's clock, so the test moves those
// stamps back as if the rides had taken that long). Every member reads the median, no
// one without a token; with fewer than three workers with an hour of work there is none.
func TestEarningsReport(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.customer("Rita Rider")
	for _, n := range []string{"Dan Driver", "Eve Driver", "Fay Driver"} {
		e.worker(n)
	}
	took := func(work int64, minutes int) {
		t.Helper()
		if _, err := e.owner.Exec(context.Background(), `UPDATE work_history SET at = CASE to_state
				WHEN 'in_progress' THEN now() - make_interval(mins => $2 + 10) ELSE now() - interval '10 minutes' END
			WHERE work_id = $1 AND to_state IN ('in_progress', 'completed')`, work, minutes); err != nil {
			t.Fatal(err)
		}
	}
	earned := func(worker int64) int64 {
		t.Helper()
		var sum int64
		for _, en := range e.must(200, "GET", fmt.Sprintf("/v1/members/%d/earnings", worker), adminToken, nil)["entries"].([]any) {
			sum += num(en.(map[string]any)["amountCents"])
		}
		return sum
	}
	// Each driver takes one ride (fair matching goes round the drivers).
	minutes := map[int64]int{}
	prices := []int64{2000, 3000, 6000}
	durations := []int{60, 120, 90}
	for k := range prices {
		work, worker := e.completedRide(c, prices[k])
		took(work, durations[k])
		minutes[worker] += durations[k]
	}
	if len(minutes) != 3 {
		t.Fatalf("rides went to %d drivers, want 3: %v", len(minutes), minutes)
	}
	var rates []int64
	for w, m := range minutes {
		rates = append(rates, earned(w)*60/int64(m)) // exact for these prices and durations
	}
	want := median3(rates)
	got := e.must(200, "GET", "/v1/reports/earnings", c.token, nil)
	if got["workers"] != float64(3) || got["medianHourlyCents"] != float64(want) || got["windowDays"] != float64(90) {
		t.Errorf("report %v, want 3 workers and a median of %d cents an hour (rates %v)", got, want, rates)
	}

	if r := e.call("GET", "/v1/reports/earnings", "", nil); r.status != 401 {
		t.Errorf("without a token: %d", r.status)
	}

	// The driver of the one-hour ride took only 30 minutes after all: under an hour of
	// work, they no longer count, and two drivers are too few for a median.
	var short int64
	for w, m := range minutes {
		if m == 60 {
			short = w
		}
	}
	if _, err := e.owner.Exec(context.Background(), `UPDATE work_history SET at = now() - interval '40 minutes'
		WHERE to_state = 'in_progress' AND work_id IN (SELECT id FROM work_items WHERE worker_id = $1)`, short); err != nil {
		t.Fatal(err)
	}
	got = e.must(200, "GET", "/v1/reports/earnings", adminToken, nil)
	if got["workers"] != float64(2) || got["medianHourlyCents"] != nil {
		t.Errorf("with two drivers over an hour: %v, want no median", got)
	}
}

func median3(r []int64) int64 {
	a, b, c := r[0], r[1], r[2]
	switch {
	case (a <= b && b <= c) || (c <= b && b <= a):
		return b
	case (b <= a && a <= c) || (c <= a && a <= b):
		return a
	}
	return c
}
