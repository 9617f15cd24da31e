package server

import (
	"math"
	"math/big"
	"net/http"
	"slices"

	"github.com/cooperator-dev/cooperator/platform/server/store/payments"
)

// Workers' median hourly earnings, one of the co-op's vitality signs.
const (
	// EarningsWindowDays is the window: work completed in the last 90 days.
	EarningsWindowDays = 90
	// EarningsMinSeconds is the work a worker must have completed in the window to count:
	// an hour, so that one short job does not stand for a rate.
	EarningsMinSeconds = 3600
	// EarningsMinWorkers is how many such workers the median needs: with fewer, it would
	// tell one worker's pay to everyone, so none is given.
	EarningsMinWorkers = 3
)

// EarningsReport is GET /v1/reports/earnings.
type EarningsReport struct {
	WindowDays int `json:"windowDays"`
	// Workers is how many workers completed at least EarningsMinSeconds of work in the
	// window; MedianHourlyCents their median earnings per hour of work, nil when fewer
	// than EarningsMinWorkers did.
	Workers           int    `json:"workers"`
	MinWorkers        int    `json:"minWorkers"`
	MedianHourlyCents *int64 `json:"medianHourlyCents"`
}

// earningsReport answers every active member: the workers' median hourly earnings over
// the window, from the ledger (what each worker's account received for the work) and the
// work's history (how long it took from start to completion). An aggregate only: which
// worker earned what stays with the worker and staff (GET /v1/members/{id}/earnings).
func (s *Server) earningsReport(r *http.Request, p principal) (int, any, error) {
	if err := requireActiveMember(p); err != nil {
		return 0, nil, err
	}
	ws, err := payments.On(s.pool).WorkerHoursSince(r.Context(), EarningsWindowDays)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, MedianHourlyEarnings(ws), nil
}

// MedianHourlyEarnings is the report of ws: each worker with at least EarningsMinSeconds
// of work earns cents*3600/seconds an hour (rounded half up to the cent); the median of
// an even number of rates is the mean of the middle two, rounded half up.
func MedianHourlyEarnings(ws []payments.WorkerHours) EarningsReport {
	rep := EarningsReport{WindowDays: EarningsWindowDays, MinWorkers: EarningsMinWorkers}
	var rates []int64
	for _, w := range ws {
		if w.Seconds < EarningsMinSeconds || w.Cents < 0 {
			continue
		}
		rates = append(rates, roundDiv(big.NewInt(0).Mul(big.NewInt(w.Cents), big.NewInt(3600)), w.Seconds))
	}
	rep.Workers = len(rates)
	if len(rates) < EarningsMinWorkers {
		return rep
	}
	slices.Sort(rates)
	n := len(rates)
	m := rates[n/2]
	if n%2 == 0 {
		m = roundDiv(big.NewInt(0).Add(big.NewInt(rates[n/2-1]), big.NewInt(rates[n/2])), 2)
	}
	rep.MedianHourlyCents = &m
	return rep
}

// roundDiv is a/b rounded half up, for a >= 0 and b > 0, in exact arithmetic: a worker's
// cents times 3600, or the sum of two rates, may be beyond int64 (amounts go up to
// policy.MaxAmountCents each). A rate beyond int64 is the largest int64.
func roundDiv(a *big.Int, b int64) int64 {
	q := a.Lsh(a, 1)
	q.Add(q, big.NewInt(b))
	q.Quo(q, big.NewInt(2*b))
	if !q.IsInt64() {
		return math.MaxInt64
	}
	return q.Int64()
}
