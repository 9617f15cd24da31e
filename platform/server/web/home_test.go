package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cooperator-dev/cooperator/api/policy"
)

// manyWorkBackend has a member with more work than a page shows, and counts what the app
// asks of it.
type manyWorkBackend struct {
	Backend
	calls   []string
	queries int
}

func (b *manyWorkBackend) Call(_ context.Context, m Member, method, path string, _ http.Header, _ []byte) (int, []byte) {
	b.calls = append(b.calls, method+" "+path)
	if strings.HasPrefix(path, fmt.Sprintf("/v1/members/%d/offers", m.ID)) {
		return http.StatusOK, []byte(`{"offers":[]}`)
	}
	return http.StatusOK, []byte(fmt.Sprintf(`{"id":%d,"roles":["customer","worker"]}`, m.ID))
}

func (b *manyWorkBackend) MyWork(_ context.Context, memberID, before int64, limit int) ([]Work, error) {
	b.queries++
	var out []Work
	for id := int64(1000); id > 0 && len(out) < limit; id-- {
		if before == 0 || id < before {
			out = append(out, Work{ID: id, Kind: "ride", CustomerID: memberID, State: "completed", PriceCents: 100})
		}
	}
	return out, nil
}

func (b *manyWorkBackend) Policy() *policy.Policy { return nil }

// The home page of a member with a thousand work items reads them in one query and calls
// the API three times (the member, the offer feed, the worker's schedule), not once per item; it shows the 50 most
// recent and links to the older ones. Before, it called the API once per item it listed.
func TestHomePageIsBounded(t *testing.T) {
	b := &manyWorkBackend{}
	a := New(Config{Backend: b})
	rec := httptest.NewRecorder()
	q := &req{w: rec, r: httptest.NewRequest(http.MethodGet, "/app/home", nil), lang: "en", member: &Member{ID: 7, Roles: []string{"customer", "worker"}, Active: true}}
	a.home(q)
	if rec.Code != http.StatusOK {
		t.Fatalf("home: %d %s", rec.Code, rec.Body)
	}
	if len(b.calls) != 3 || b.queries != 1 {
		t.Errorf("the home page made %d API calls %v and %d queries of the member's work, want 3 and 1", len(b.calls), b.calls, b.queries)
	}
	if n := strings.Count(rec.Body.String(), `href="/app/work/`); n != workPage {
		t.Errorf("the home page lists %d work items, want %d", n, workPage)
	}
	if !strings.Contains(rec.Body.String(), fmt.Sprintf(`href="/app/work?before=%d"`, 1000-workPage+1)) {
		t.Error("the home page does not link to the older work")
	}
}
