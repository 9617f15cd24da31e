package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestMakersListingsPageByPage: a maker with more listings than a page (100) sees the
// newest and a link to the older ones; on the older page their stock is changed, and a
// refused change is said on that page, beside its listing; a change saved goes back to it.
func TestMakersListingsPageByPage(t *testing.T) {
	c := newVerticalCoop(t, "marketplace")
	maker, makerTok := c.worker("Mia Maker")
	var first int64
	for i := 1; i <= 101; i++ {
		l := c.must(http.StatusCreated, "POST", "/v1/listings", makerTok, map[string]any{"title": fmt.Sprintf("Bowl %d", i), "priceCents": 2500, "stock": 3})
		if i == 1 {
			first = int64(l["id"].(float64))
		}
	}
	s := c.session(t)
	csrf := s.signIn(c.code(maker))
	p := s.do("GET", "/app/listings", nil)
	rows := strings.Count(p.body[strings.Index(p.body, `id="my-listings"`):], "<tr>") - 1 // the head's
	more := regexp.MustCompile(`<a href="(/app/listings\?mine=[^"]+)" id="mine-more">`).FindStringSubmatch(p.body)
	if rows != 100 || more == nil || strings.Contains(p.body, fmt.Sprintf(`id="stock-%d"`, first)) {
		t.Fatalf("the maker's first page: %d rows, more %v: %s", rows, more, p.body[strings.Index(p.body, "<main"):])
	}
	older := s.do("GET", strings.ReplaceAll(more[1], "&amp;", "&"), nil)
	cursor := hiddenInput(older.body, "mine")
	if !strings.Contains(older.body, fmt.Sprintf(`id="stock-%d"`, first)) || !strings.Contains(older.body, `id="mine-first"`) || cursor == "" {
		t.Fatalf("the maker's older listings: %s", older.body[strings.Index(older.body, "<main"):])
	}
	stock := fmt.Sprintf("/app/listings/%d/stock", first)
	p = s.do("POST", stock, url.Values{"csrf": {csrf}, "stock": {"many"}, "mine": {cursor}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, fmt.Sprintf(`id="stock-%d-error"`, first)) {
		t.Fatalf("a refused stock on the older page: %d %s", p.status, p.body[strings.Index(p.body, "<main"):])
	}
	p = s.do("POST", stock, url.Values{"csrf": {csrf}, "stock": {"7"}, "mine": {cursor}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/app/listings?done=stock&mine="+url.QueryEscape(cursor) {
		t.Fatalf("a stock saved on the older page: %d %q", p.status, p.header.Get("Location"))
	}
	if l := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/listings/%d", first), makerTok, nil); l["stock"] != float64(7) {
		t.Fatalf("the stock saved: %v", l)
	}
}
