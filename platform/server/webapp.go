package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/store"
	"github.com/cooperator-dev/cooperator/platform/server/store/members"
	"github.com/cooperator-dev/cooperator/platform/server/store/work"
	"github.com/cooperator-dev/cooperator/platform/server/web"
)

// signInCodeTTL is how long a sign-in code for the members' app stays valid, when staff
// or the member's token issue it (to hand over, or to send).
const signInCodeTTL = 24 * time.Hour

// appSignInCodeTTL is how long a code a session of the members' app issued stays valid:
// the member reads it on one screen and types it on another device at once ("sign in on
// another device"), and a code left on a screen should not open a session a day later.
const appSignInCodeTTL = 15 * time.Minute

// signInAlphabet leaves out letters and digits people confuse (0/O, 1/I/L, U).
const signInAlphabet = "ABCDEFGHJKMNPQRSTVWXYZ23456789"

// newSignInCode returns a code of 10 characters (about 49 bits) in two groups of five, as
// people read and type it, and the SHA-256 hash of its normalised form that is stored.
func newSignInCode() (string, []byte) {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	var sb strings.Builder
	for i, c := range b {
		if i == 5 {
			sb.WriteByte('-')
		}
		sb.WriteByte(signInAlphabet[int(c)%len(signInAlphabet)])
	}
	code := sb.String()
	return code, web.HashSignInCode(code)
}

// createSignInCode issues a one-time code for the members' app to an active member, by
// the member (with their token, or from a session of the app signed in to lately:
// freshActions) or staff; the code is shown once and stored hashed. A session's code
// lasts appSignInCodeTTL, any other signInCodeTTL.
func (s *Server) createSignInCode(r *http.Request, p principal) (int, any, error) {
	id, err := selfOrAdminPath(r, p)
	if err != nil {
		return 0, nil, err
	}
	if err := requireActiveMember(p); err != nil {
		return 0, nil, err
	}
	code, hash := newSignInCode()
	now := s.now()
	expires := now.Add(signInCodeTTL)
	if p.session != nil {
		expires = now.Add(appSignInCodeTTL)
	}
	// The code, and the session it opens, end with the token that issued it.
	err = s.audited(r.Context(), p, func(tx pgx.Tx) error {
		return members.On(tx).IssueCode(r.Context(), id, p.credential(), hash, now, expires)
	})
	if err := s.credentialErr(r.Context(), err, id, "sign-in codes"); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, map[string]any{"memberId": id, "code": code, "expiresAt": expires}, nil
}

// webBackend gives the members' app (platform/server/web) the API's own handlers: every
// page reads and acts through the same routes, rules and authorization as the JSON API.
type webBackend struct{ s *Server }

type principalKey struct{}

// Call runs one API route as the member, in process, and returns its status and JSON body.
func (b webBackend) Call(ctx context.Context, m web.Member, method, path string, header http.Header, body []byte) (int, []byte) {
	p := principal{memberID: m.ID, tokenID: m.TokenID, session: m.Session, signedIn: m.SignedIn, roles: m.Roles, class: m.Class, active: m.Active}
	r := httptest.NewRequestWithContext(context.WithValue(ctx, principalKey{}, p), method, path, bytes.NewReader(body))
	for k, vs := range header {
		r.Header[k] = vs
	}
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	b.s.inproc.ServeHTTP(w, r)
	return w.Code, w.Body.Bytes()
}

func (b webBackend) MyWork(ctx context.Context, memberID, before int64, limit int) ([]web.Work, error) {
	return work.On(b.s.pool).Involving(ctx, memberID, before, limit)
}

func (b webBackend) OfferStatus(ctx context.Context, memberID, workID int64) (string, error) {
	status, expires, err := work.On(b.s.pool).OfferStatus(ctx, workID, memberID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return offerStatusAt(status, expires, b.s.now()), nil
}

func (b webBackend) CompletedFor(ctx context.Context, memberID int64, limit int) ([]work.WorkerCount, error) {
	return work.On(b.s.pool).CompletedFor(ctx, memberID, limit)
}

func (b webBackend) Vertical() string { return b.s.vertical() }

func (b webBackend) Kinds() map[string]web.Kind {
	out := map[string]web.Kind{}
	for k, spec := range kindsFor(b.s.vertical()) {
		out[k] = web.Kind{Required: spec.required, Optional: spec.optional, Dates: spec.dates, Times: spec.times,
			PricedByListing: pricedByListing(b.s.vertical(), k)}
		kind := out[k]
		if batched(k) {
			kind.MaxStops = maxStops
		}
		if paidByMilestones(k) {
			kind.MaxMilestones = maxMilestones
		}
		if scheduled(b.s.vertical(), &workInput{Kind: k}) {
			kind.PriceDetails = []string{"scheduledAt"}
		}
		if isStay(&workInput{Kind: k}) {
			kind.PriceDetails, kind.LengthFromDates = []string{"checkIn", "checkOut"}, true
		}
		out[k] = kind
	}
	return out
}

func (b webBackend) Policy() *policy.Policy { return b.s.policy.Current() }

func (b webBackend) Pricing(ctx context.Context) (web.Pricing, error) {
	f, _, err := b.s.fareRule(ctx, b.s.pool)
	p := web.Pricing{Rule: f != nil, WorkerPriced: slices.Contains(workerPriced, b.s.vertical()), Fares: f}
	if f != nil {
		p.Packages = f.PerPackageCents != 0
		for _, z := range f.Zones {
			p.Zones = append(p.Zones, z.Name)
			p.Packages = p.Packages || (z.PerPackageCents != nil && *z.PerPackageCents != 0)
		}
		for _, t := range f.TimeRates {
			p.Packages = p.Packages || (t.PerPackageCents != nil && *t.PerPackageCents != 0)
		}
	}
	return p, err
}

// inprocHandler serves the API's JSON routes to the members' app, for the principal the
// app's session established (in the request's context).
func (s *Server) inprocHandler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		if rt.h == nil || rt.access == admin {
			continue
		}
		mux.HandleFunc(rt.method+" "+rt.pattern, func(w http.ResponseWriter, r *http.Request) {
			p, _ := r.Context().Value(principalKey{}).(principal)
			s.respond(w, r, rt, p)
		})
	}
	return mux
}

// webApp is the members' app, mounted at /app/.
func (s *Server) webApp() http.Handler {
	s.inproc = s.inprocHandler()
	return web.New(web.Config{Backend: webBackend{s}, DB: s.pool, Now: s.now, Logger: s.log, Limit: func(client string) (bool, int) {
		return s.limits.allow(client)
	}, LookUpCredential: s.lookUpCredential, RememberCredential: s.rememberCredential, ClientIP: s.clients.Of})
}
