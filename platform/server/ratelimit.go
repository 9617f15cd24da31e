package server

import (
	"math"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter keeps one token bucket per client: per member (all of a member's tokens share
// it) and for staff's admin token, once the request has authenticated; per remote IP
// address before that (public routes, missing or unknown tokens). Buckets idle for
// limiterIdle are forgotten.
//
// It tracks at most maxClients clients, so that many source addresses (IPv6 /64s of one
// /48, a botnet) cannot grow the map without bound. When the map is full, a new client's
// request first sweeps the idle buckets (at most once a second); if it is still full,
// every new client shares one overflow bucket: a flood of new addresses slows other new
// clients only, never one whose bucket is kept.
type limiter struct {
	rate       rate.Limit
	burst      int
	now        func() time.Time
	maxClients int

	mu       sync.Mutex
	clients  map[string]*bucket
	overflow *bucket
	swept    time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

const (
	limiterIdle = 10 * time.Minute
	// limiterMaxClients bounds the buckets kept (some 20 MB of them at most).
	limiterMaxClients = 100_000
)

// newLimiter returns nil (no limit) when perSecond is not positive.
func newLimiter(perSecond float64, burst int) *limiter {
	if perSecond <= 0 {
		return nil
	}
	if burst < 1 {
		burst = max(1, int(math.Ceil(perSecond)))
	}
	return &limiter{rate: rate.Limit(perSecond), burst: burst, now: time.Now, maxClients: limiterMaxClients,
		clients: map[string]*bucket{}, overflow: &bucket{lim: rate.NewLimiter(rate.Limit(perSecond), burst)}}
}

// allow takes one request from the client's bucket, or says in how many whole seconds
// the client may try again.
func (l *limiter) allow(client string) (ok bool, retryAfter int) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	if now.Sub(l.swept) > time.Minute {
		l.sweep(now)
	}
	b := l.clients[client]
	if b == nil && len(l.clients) >= l.maxClients && now.Sub(l.swept) >= time.Second {
		l.sweep(now)
	}
	switch {
	case b != nil:
	case len(l.clients) < l.maxClients:
		b = &bucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.clients[client] = b
	default:
		b = l.overflow
	}
	b.seen = now
	l.mu.Unlock()
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, max(1, int(math.Ceil(d.Seconds())))
	}
	return true, 0
}

// sweep forgets the buckets idle for limiterIdle; l.mu is held.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.clients {
		if now.Sub(b.seen) > limiterIdle {
			delete(l.clients, k)
		}
	}
	l.swept = now
}

// tooMany is the answer to a client over its rate.
func tooMany(retryAfter int) *apiError {
	return &apiError{status: http.StatusTooManyRequests, message: "too many requests; slow down", retryAfter: retryAfter}
}

// limitByIP limits the public routes by remote address (the probes are not limited).
func (s *Server) limitByIP(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok, retry := s.limits.allow("ip:" + s.clients.Of(r)); !ok {
			writeError(w, tooMany(retry))
			return
		}
		h.ServeHTTP(w, r)
	})
}
