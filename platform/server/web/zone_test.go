package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestTimesOnTheCoopsClock: a co-op in Paris (spec.platform.timeZone) shows its members
// times on Paris's clock and reads the times they type on it: a booking for 14:30 is
// 13:30 UTC in December; the work's history says 10:00 CET for the service's 09:00 UTC; a
// payment at 00:30 in Paris on 1 December is December's earnings; the weekly hours page
// names the zone.
func TestTimesOnTheCoopsClock(t *testing.T) {
	doc := strings.Replace(testPolicy, `"vertical":"ride-sharing"`, `"vertical":"home-services","timeZone":"Europe/Paris"`, 1)
	c := newCoopWith(t, doc)
	cust, custTok := c.member("Cy Client", "customer")
	s := c.session(t)
	csrf := s.signIn(c.code(cust))
	form := s.do("GET", "/app/request", nil).body
	if !strings.Contains(form, `Date and time (Europe/Paris)`) {
		t.Errorf("the request form does not say the zone of its date and time: %s", form[strings.Index(form, "<main"):])
	}
	p := s.do("POST", "/app/request", url.Values{"csrf": {csrf}, "kind": {"booking"}, "details.address": {"3 rue Mercière"},
		"details.service": {"plumbing"}, "details.scheduledAt": {"2026-12-03T14:30"}, "price": {"45"}})
	var id int64
	if _, err := fmt.Sscanf(p.header.Get("Location"), "/app/work/%d", &id); p.status != http.StatusSeeOther || err != nil {
		t.Fatalf("request: %d %q %.400s", p.status, p.header.Get("Location"), p.body)
	}
	w := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/work/%d", id), custTok, nil)
	if at := w["details"].(map[string]any)["scheduledAt"]; at != "2026-12-03T13:30:00Z" {
		t.Fatalf("14:30 in Paris was recorded as %v", at)
	}
	// The history's times are the database's (its clock, not the service's): the page
	// shows the API's time of the request on Paris's clock, CET in December.
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	requested, err := time.Parse(time.RFC3339, w["history"].([]any)[0].(map[string]any)["at"].(string))
	if err != nil {
		t.Fatal(err)
	}
	page := s.do("GET", fmt.Sprintf("/app/work/%d", id), nil).body
	if want := requested.In(paris).Format("2006-01-02 15:04 MST"); !strings.Contains(page, want) || !strings.HasSuffix(want, " CET") {
		t.Errorf("the work's history is not on Paris's clock (%s): %s", want, page[strings.Index(page, "<main"):])
	}
	if fr, want := s.do("GET", fmt.Sprintf("/app/work/%d", id), nil, "Accept-Language", "fr").body, requested.In(paris).Format("02/01/2006 15:04 CET"); !strings.Contains(fr, want) {
		t.Errorf("the work's history in French is not on Paris's clock (%s): %s", want, fr[strings.Index(fr, "<main"):])
	}

	// Earnings by the co-op's months: 23:30 UTC on 30 November is 1 December in Paris.
	// The ledger's times are the database's: the test moves the transaction's, as the
	// owner, past the append-only triggers (which nothing in the service can do).
	worker, _ := c.worker("Pia Plumber", "booking")
	c.must(http.StatusCreated, "POST", "/v1/payments", adminToken, map[string]any{"workerId": worker, "amountCents": 2000}, "Idempotency-Key", "zone-test")
	if _, err := c.owner.Exec(t.Context(), `BEGIN; ALTER TABLE ledger_transactions DISABLE TRIGGER USER;
		UPDATE ledger_transactions SET created_at = '2026-11-30T23:30:00Z';
		ALTER TABLE ledger_transactions ENABLE TRIGGER USER; COMMIT`); err != nil {
		t.Fatal(err)
	}
	ws := c.session(t)
	ws.signIn(c.code(worker))
	earnings := ws.do("GET", fmt.Sprintf("/app/members/%d/earnings", worker), nil).body
	if !strings.Contains(earnings, "<td>2026-12</td>") || strings.Contains(earnings, "<td>2026-11</td>") {
		t.Errorf("a payment at 00:30 in Paris on 1 December is not December's: %s", earnings[strings.Index(earnings, "<main"):])
	}
	funds := ws.do("GET", "/app/money", nil).body
	if !strings.Contains(funds, `class="chart-label">2026-12</text>`) || strings.Contains(funds, `class="chart-label">2026-11</text>`) {
		t.Errorf("the funds' history does not put the payment in December: %s", funds[strings.Index(funds, "<main"):])
	}
	hours := ws.do("GET", "/app/schedule", nil).body
	if !strings.Contains(hours, "on the co-op&#39;s clock, in Europe/Paris") {
		t.Errorf("the weekly hours page does not name the zone: %s", hours[strings.Index(hours, "<main"):])
	}
}
