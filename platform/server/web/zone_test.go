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

	// Earnings by the co-op's weeks and months: 23:30 UTC on Monday 30 November is Tuesday
	// 1 December in Paris (week 49 either way, December only in Paris); 23:30 UTC on Sunday
	// 29 November is Monday 30 November (week 49 only in Paris). The ledger's times are the
	// database's: the test moves the transactions', as the owner, past the append-only
	// triggers (which nothing in the service can do).
	worker, _ := c.worker("Pia Plumber", "booking")
	c.must(http.StatusCreated, "POST", "/v1/payments", adminToken, map[string]any{"workerId": worker, "amountCents": 2000}, "Idempotency-Key", "zone-test")
	c.must(http.StatusCreated, "POST", "/v1/payments", adminToken, map[string]any{"workerId": worker, "amountCents": 3000}, "Idempotency-Key", "zone-test-2")
	if _, err := c.owner.Exec(t.Context(), `BEGIN; ALTER TABLE ledger_transactions DISABLE TRIGGER USER;
		UPDATE ledger_transactions SET created_at = CASE WHEN id = (SELECT min(id) FROM ledger_transactions) THEN '2026-11-30T23:30:00Z'::timestamptz ELSE '2026-11-29T23:30:00Z' END;
		ALTER TABLE ledger_transactions ENABLE TRIGGER USER; COMMIT`); err != nil {
		t.Fatal(err)
	}
	ws := c.session(t)
	ws.signIn(c.code(worker))
	earnings := ws.do("GET", fmt.Sprintf("/app/members/%d/earnings", worker), nil).body
	if !strings.Contains(earnings, "<td>2026-12</td>") || !strings.Contains(earnings, "<td>2026-W49</td>") || strings.Contains(earnings, "<td>2026-W48</td>") {
		t.Errorf("the earnings are not by Paris's weeks and months: %s", earnings[strings.Index(earnings, "<main"):])
	}
	funds := ws.do("GET", "/app/money", nil).body
	if !strings.Contains(funds, `class="chart-label">2026-12</text>`) {
		t.Errorf("the funds' history does not put the first payment in December: %s", funds[strings.Index(funds, "<main"):])
	}
	hours := ws.do("GET", "/app/schedule", nil).body
	if !strings.Contains(hours, "on the co-op&#39;s clock, in Europe/Paris") || !strings.Contains(hours, `<input type="hidden" name="timeZone" value="Europe/Paris">`) {
		t.Errorf("the weekly hours page does not name the zone: %s", hours[strings.Index(hours, "<main"):])
	}
	// The co-op moves to Lisbon's clock while the page is open: the hours typed for Paris
	// are not saved on Lisbon's; the page says so, in the new zone, and saves the next time.
	lisbon := *c.s.Policy().Current()
	lisbon.TimeZone = "Europe/Lisbon"
	c.s.Policy().Set(&lisbon)
	week := url.Values{"csrf": {hiddenInput(hours, "csrf")}, "timeZone": {"Europe/Paris"}, "mon.0.from": {"09:00"}, "mon.0.to": {"17:00"}}
	p = ws.do("POST", "/app/schedule", week)
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="form-error">The co-op&#39;s time zone is now Europe/Lisbon`) ||
		!strings.Contains(p.body, `<input type="hidden" name="timeZone" value="Europe/Lisbon">`) {
		t.Fatalf("hours typed for Paris saved in Lisbon: %d %s", p.status, p.body[strings.Index(p.body, "<main"):])
	}
	if got := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d/schedule", worker), adminToken, nil); len(got["weekly"].([]any)) != 7 {
		t.Fatalf("the refused hours were written (the worker's were every day, all day): %v", got)
	}
	week.Set("timeZone", "Europe/Lisbon")
	if p := ws.do("POST", "/app/schedule", week); p.status != http.StatusSeeOther {
		t.Fatalf("the hours saved again: %d %s", p.status, p.body[strings.Index(p.body, "<main"):])
	}
}

// TestRequestOnTheCoopsClock: the page of a booking shows its date and time on the co-op's
// clock, as the offers do; a time the clock skips (02:30 the night summer time starts) is
// refused beside its field, not booked an hour later.
func TestRequestOnTheCoopsClock(t *testing.T) {
	c := newCoopWith(t, strings.Replace(testPolicy, `"vertical":"ride-sharing"`, `"vertical":"home-services","timeZone":"Europe/Paris"`, 1))
	cust, custTok := c.member("Cy Client", "customer")
	worker, _ := c.worker("Pia Plumber", "booking")
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/members/%d/credentials", worker), adminToken, map[string]any{"skills": []string{"plumbing"}})
	s := c.session(t)
	csrf := s.signIn(c.code(cust))
	booking := url.Values{"csrf": {csrf}, "kind": {"booking"}, "details.address": {"3 rue Mercière"}, "details.service": {"plumbing"},
		"details.scheduledAt": {"2027-03-28T02:30"}, "price": {"45"}}
	p := s.do("POST", "/app/request", booking)
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="f-scheduledAt-error">The co-op&#39;s clock skips this time`) {
		t.Fatalf("02:30 on the night summer time starts: %d %s", p.status, p.body[strings.Index(p.body, "<main"):])
	}
	var n int
	if err := c.owner.QueryRow(t.Context(), `SELECT count(*) FROM work_items`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("work requested: %d %v", n, err)
	}
	// 02:30 the night the clock goes back happens twice: the booking is for the first.
	booking.Set("details.scheduledAt", "2027-10-31T02:30")
	p = s.do("POST", "/app/request", booking)
	var twice int64
	if _, err := fmt.Sscanf(p.header.Get("Location"), "/app/work/%d", &twice); p.status != http.StatusSeeOther || err != nil {
		t.Fatalf("02:30 the night the clock goes back: %d %q", p.status, p.header.Get("Location"))
	}
	if at := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/work/%d", twice), custTok, nil)["details"].(map[string]any)["scheduledAt"]; at != "2027-10-31T00:30:00Z" {
		t.Errorf("the first 02:30 of 31 October 2027 in Paris is 00:30 UTC, recorded %v", at)
	}
	booking.Set("details.scheduledAt", "2026-12-03T14:30")
	p = s.do("POST", "/app/request", booking)
	var id int64
	if _, err := fmt.Sscanf(p.header.Get("Location"), "/app/work/%d", &id); p.status != http.StatusSeeOther || err != nil {
		t.Fatalf("request: %d %q %.400s", p.status, p.header.Get("Location"), p.body)
	}
	if page := s.do("GET", fmt.Sprintf("/app/work/%d", id), nil).body; !strings.Contains(page, "<dd>2026-12-03 14:30 CET</dd>") {
		t.Errorf("the booking's page does not show its time on Paris's clock: %s", page[strings.Index(page, "<main"):])
	}
	// The offer, on the plumber's home page.
	ws := c.session(t)
	ws.signIn(c.code(worker))
	if home := ws.do("GET", "/app/home", nil).body; !strings.Contains(home, "<dd>2026-12-03 14:30 CET</dd>") {
		t.Errorf("the offer does not show its time on Paris's clock: %s", home[strings.Index(home, "<main"):])
	}
}
