package server

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cooperator-dev/cooperator/platform/server/store/work"
)

// Page is a page request: at most Limit items after Cursor (empty: from the start).
type Page struct {
	Limit  int
	Cursor string
}

const (
	defaultPageLimit = 20
	maxPageLimit     = 100
)

// pageOf reads limit and cursor from the query string.
func pageOf(r *http.Request) (Page, error) {
	limit, err := queryLimit(r, defaultPageLimit, maxPageLimit)
	return Page{Limit: limit, Cursor: r.URL.Query().Get("cursor")}, err
}

// workerFeedOf is the worker id of the request's path (only that worker and staff may read
// the worker's feeds) and the page asked for.
func workerFeedOf(r *http.Request, p principal) (int64, Page, error) {
	id, err := selfOrAdminPath(r, p)
	if err != nil {
		return 0, Page{}, err
	}
	pg, err := pageOf(r)
	return id, pg, err
}

// cursors are opaque to clients: base64url of "<unix nanoseconds>.<id>".
func encodeCursor(c work.Cursor) string {
	var ns int64
	if !c.At.IsZero() {
		ns = c.At.UnixNano()
	}
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d.%d", ns, c.ID))
}

// trimPage is the page of a feed read with one item more than pg.Limit: its first pg.Limit
// items and, when more follow, the cursor of the next page after the last of them
// (cursorOf).
func trimPage[T any](items []T, pg Page, cursorOf func(T) work.Cursor) ([]T, string) {
	if len(items) <= pg.Limit {
		return items, ""
	}
	return items[:pg.Limit], encodeCursor(cursorOf(items[pg.Limit-1]))
}

func decodeCursor(s string) (work.Cursor, error) {
	if s == "" {
		return work.Cursor{At: time.Unix(0, 0).UTC()}, nil
	}
	bad := badField("cursor", "is not a cursor this service returned")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return work.Cursor{}, bad
	}
	a, b, ok := strings.Cut(string(raw), ".")
	ns, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || id < 0 {
		return work.Cursor{}, bad
	}
	return work.Cursor{At: time.Unix(0, ns).UTC(), ID: id}, nil
}

// OfferFeed is a page of the offers waiting for a worker.
type OfferFeed struct {
	Offers     []work.FeedOffer `json:"offers"`
	NextCursor string           `json:"nextCursor,omitempty"`
}

// WorkFeed is a page of a worker's work.
type WorkFeed struct {
	Work       []Work `json:"work"`
	NextCursor string `json:"nextCursor,omitempty"`
}

// WorkerOffers lists the offers that stand for worker at the service's clock, oldest
// first. It writes nothing: an offer past its time is expired at once for the feed (left
// out), and is moved on by the next action on its work or by the closer (expireOffers).
func (s *Server) WorkerOffers(ctx context.Context, worker int64, pg Page) (OfferFeed, error) {
	cur, err := decodeCursor(pg.Cursor)
	if err != nil {
		return OfferFeed{}, err
	}
	offers, err := work.On(s.pool).WorkerOffers(ctx, worker, s.now(), cur.ID, pg.Limit+1)
	if err != nil {
		return OfferFeed{}, err
	}
	var out OfferFeed
	out.Offers, out.NextCursor = trimPage(offers, pg, func(o work.FeedOffer) work.Cursor { return work.Cursor{ID: o.OfferID} })
	return out, nil
}

// WorkerWork lists worker's work in scope (work.Current: under way now, by id;
// work.Scheduled: accepted work whose slot begins later, by start). It writes nothing.
func (s *Server) WorkerWork(ctx context.Context, worker int64, scope string, pg Page) (WorkFeed, error) {
	if scope != work.Current && scope != work.Scheduled {
		return WorkFeed{}, badField("scope", "must be current or scheduled")
	}
	cur, err := decodeCursor(pg.Cursor)
	if err != nil {
		return WorkFeed{}, err
	}
	items, err := work.On(s.pool).WorkerWork(ctx, worker, scope, s.now(), cur, pg.Limit+1)
	if err != nil {
		return WorkFeed{}, err
	}
	var out WorkFeed
	out.Work, out.NextCursor = trimPage(items, pg, func(last Work) work.Cursor {
		c := work.Cursor{ID: last.ID}
		if last.StartsAt != nil && scope == work.Scheduled {
			c.At = *last.StartsAt
		}
		return c
	})
	return out, nil
}

func (s *Server) listWorkerOffers(r *http.Request, p principal) (int, any, error) {
	id, pg, err := workerFeedOf(r, p)
	if err != nil {
		return 0, nil, err
	}
	feed, err := s.WorkerOffers(r.Context(), id, pg)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, feed, nil
}

func (s *Server) listWorkerWork(r *http.Request, p principal) (int, any, error) {
	id, pg, err := workerFeedOf(r, p)
	if err != nil {
		return 0, nil, err
	}
	scope := r.URL.Query().Get("scope")
	if scope == "" {
		scope = work.Current
	}
	feed, err := s.WorkerWork(r.Context(), id, scope, pg)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, feed, nil
}
