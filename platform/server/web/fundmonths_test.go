package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"
)

// fundBackend serves a fund's history of n movements of 1 cent, one an hour back from the
// newest (id n), page by page as the API does (nextBefore when a page is full); the
// fund's balance is ahead of its movements by ahead cents (a payment in, committed after
// they were read).
type fundBackend struct {
	Backend
	n, ahead int64
}

func (b fundBackend) Call(_ context.Context, _ Member, _, path string, _ http.Header, _ []byte) (int, []byte) {
	u, _ := url.Parse(path)
	limit, _ := strconv.ParseInt(u.Query().Get("limit"), 10, 64)
	before := b.n + 1
	if v := u.Query().Get("before"); v != "" {
		before, _ = strconv.ParseInt(v, 10, 64)
	}
	type entry struct {
		ID           int64     `json:"id"`
		AmountCents  int64     `json:"amountCents"`
		BalanceCents int64     `json:"balanceCents"`
		At           time.Time `json:"at"`
	}
	out := struct {
		BalanceCents int64   `json:"balanceCents"`
		Entries      []entry `json:"entries"`
		NextBefore   *int64  `json:"nextBefore,omitempty"`
	}{BalanceCents: b.n + b.ahead, Entries: []entry{}}
	newest := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for id := before - 1; id >= 1 && int64(len(out.Entries)) < limit; id-- {
		out.Entries = append(out.Entries, entry{ID: id, AmountCents: 1, BalanceCents: id, At: newest.Add(-time.Duration(b.n-id) * time.Hour)})
	}
	if int64(len(out.Entries)) == limit {
		last := out.Entries[len(out.Entries)-1].ID
		out.NextBefore = &last
	}
	body, _ := json.Marshal(out)
	return http.StatusOK, body
}

// The fund chart says older months are left out only when a movement older than the pages
// it reads exists: not for a fund of exactly as many movements as those pages hold.
func TestFundChartSaysWhenOlderMonthsAreLeftOut(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		left bool
	}{{fundHistoryPages * 500, false}, {fundHistoryPages*500 + 1, true}, {600, false}} {
		a := New(Config{Backend: fundBackend{n: tc.n}})
		q := &req{w: httptest.NewRecorder(), r: httptest.NewRequest(http.MethodGet, "/app/money", nil), lang: "en", zone: time.UTC, member: &Member{ID: 7}}
		fh, ok := a.fundMonths(q, "hardship")
		if !ok || fh.OlderLeftOut != tc.left {
			t.Errorf("a fund of %d movements: read %v, older months left out %v, want %v", tc.n, ok, fh.OlderLeftOut, tc.left)
		}
	}
}

// Each month's closing balance is the one its newest movement says, read with it: not the
// fund's balance walked back through the movements, which a payment committed between
// the reads put out by its amount.
func TestFundChartReadsEachMonthFromItsMovements(t *testing.T) {
	a := New(Config{Backend: fundBackend{n: 600, ahead: 1000}})
	q := &req{w: httptest.NewRecorder(), r: httptest.NewRequest(http.MethodGet, "/app/money", nil), lang: "en", zone: time.UTC, member: &Member{ID: 7}}
	fh, ok := a.fundMonths(q, "hardship")
	if want := []period{{"2026-11", 599}, {"2026-12", 600}}; !ok || !slices.Equal(fh.Months, want) {
		t.Errorf("the fund's months: %v, want %v", fh.Months, want)
	}
}
