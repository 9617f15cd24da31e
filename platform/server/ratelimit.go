package server

import (
	"container/list"
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
// /48, a botnet) cannot grow the map without bound: a new client beyond that takes the
// place of the one seen least recently. A flood of addresses therefore never locks anyone
// out (a member whose bucket it pushed out starts again with a full one); it costs what a
// per-client limit costs against many clients anyway, and no more memory.
type limiter struct {
	rate       rate.Limit
	burst      int
	now        func() time.Time
	maxClients int

	mu      sync.Mutex
	clients map[string]*list.Element // of *bucket, in recent (front) to least recent order
	order   *list.List
}

type bucket struct {
	client string
	lim    *rate.Limiter
	seen   time.Time
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
		clients: map[string]*list.Element{}, order: list.New()}
}

// allow takes one request from the client's bucket, or says in how many whole seconds
// the client may try again.
func (l *limiter) allow(client string) (ok bool, retryAfter int) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	// The least recent buckets are at the back: the idle ones go first, then, when the map
	// is full, the least recent one makes room.
	for e := l.order.Back(); e != nil && now.Sub(e.Value.(*bucket).seen) > limiterIdle; e = l.order.Back() {
		l.forget(e)
	}
	var b *bucket
	if e := l.clients[client]; e != nil {
		b = e.Value.(*bucket)
		l.order.MoveToFront(e)
	} else {
		for len(l.clients) >= max(1, l.maxClients) {
			l.forget(l.order.Back())
		}
		b = &bucket{client: client, lim: rate.NewLimiter(l.rate, l.burst)}
		l.clients[client] = l.order.PushFront(b)
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

// forget drops a bucket; l.mu is held.
func (l *limiter) forget(e *list.Element) {
	delete(l.clients, e.Value.(*bucket).client)
	l.order.Remove(e)
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
