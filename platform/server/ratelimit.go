package server

import (
	"container/list"
	"errors"
	"math"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/cooperator-dev/cooperator/platform/server/store"
)

// limiter keeps one token bucket per client: per member (all of a member's tokens share
// it) and for staff's admin token, once the request has authenticated; per remote IP
// address before that, one bucket for each kind of request, so that a flood of one kind
// does not refuse the others: "ip:" for the public routes and requests without a token,
// "sign-in:" for the members' app's sign-ins, "credential:" for the lookups of credentials
// not known to be valid (lookUpCredential). Buckets idle for limiterIdle are forgotten.
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
	_, ok, retryAfter = l.take(client)
	return ok, retryAfter
}

// take is allow, and returns with the request it took a function that gives it back.
func (l *limiter) take(client string) (giveBack func(), ok bool, retryAfter int) {
	if l == nil {
		return func() {}, true, 0
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
		return nil, false, max(1, int(math.Ceil(d.Seconds())))
	}
	// Cancelled at the time it was taken, the request is given back whole: the time since
	// then, which later requests' cancellations would not count, is counted again.
	return func() { r.CancelAt(now) }, true, 0
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

// knownCredentials remembers, by their SHA-256, the credentials (member tokens, the
// members' app's session secrets) lately found valid: lookUpCredential looks them up
// without taking from their address's budget first. Only a lookup that found its
// credential, or a sign-in that opened the session, adds one, so made-up credentials
// cannot grow it; it keeps at most max, the
// least recently used making room (some 15 MB at most).
type knownCredentials struct {
	max int

	mu    sync.Mutex
	m     map[[32]byte]*list.Element // of [32]byte, in recent (front) to least recent order
	order *list.List
}

// knownMax bounds the credentials remembered.
const knownMax = 100_000

func newKnownCredentials() *knownCredentials {
	return &knownCredentials{max: knownMax, m: map[[32]byte]*list.Element{}, order: list.New()}
}

func (k *knownCredentials) has(sum [32]byte) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	e := k.m[sum]
	if e != nil {
		k.order.MoveToFront(e)
	}
	return e != nil
}

func (k *knownCredentials) add(sum [32]byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e := k.m[sum]; e != nil {
		k.order.MoveToFront(e)
		return
	}
	for len(k.m) >= max(1, k.max) {
		e := k.order.Back()
		delete(k.m, e.Value.([32]byte))
		k.order.Remove(e)
	}
	k.m[sum] = k.order.PushFront(sum)
}

func (k *knownCredentials) forget(sum [32]byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e := k.m[sum]; e != nil {
		delete(k.m, sum)
		k.order.Remove(e)
	}
}

// rememberCredential records that the credential of SHA-256 sum is valid (a session the
// members' app just opened), for lookUpCredential.
func (s *Server) rememberCredential(sum [32]byte) {
	if s.known != nil {
		s.known.add(sum)
	}
}

// lookUpCredential runs lookup, the query of the credential whose SHA-256 is sum (a member
// token, or a session of the members' app), which returns store.ErrNotFound when there is
// none, under the budget of credentials of the request's address ("credential:", apart
// from the public routes' and the sign-in's). A credential not known to be valid takes a
// request from that budget before its query, and gives it back when it was found, or
// could not be looked up (the database down): made-up credentials from one address cost
// at most its budget of queries, then are refused without one (retryAfter > 0: lookup
// did not run), and being counted there keeps no member out; a lookup its client
// abandoned stays counted. A credential found valid
// before is looked up whatever its address's budget, and counted there when it is no
// longer valid. The member's own limit applies after the lookup, as it did.
func (s *Server) lookUpCredential(r *http.Request, sum [32]byte, lookup func() error) (retryAfter int, err error) {
	if s.limits == nil {
		return 0, lookup()
	}
	client := "credential:" + s.clients.Of(r)
	known := s.known.has(sum)
	giveBack := func() {}
	if !known {
		var ok bool
		if giveBack, ok, retryAfter = s.limits.take(client); !ok {
			return retryAfter, nil
		}
	}
	err = lookup()
	switch {
	case err == nil:
		s.known.add(sum)
		giveBack()
	case errors.Is(err, store.ErrNotFound):
		if known {
			s.known.forget(sum)
			s.limits.allow(client)
		}
	case r.Context().Err() != nil:
		// The client went away during the lookup: its query ran, so it stays counted
		// (else aborting every request would make made-up credentials free).
	default:
		giveBack()
	}
	return 0, err
}
