package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A marketplace buyer's "Request work" opens the form of an order from the shop, the
// marketplace's kind of request, not the older kind (listing) that comes first by name;
// the other kind is still chosen by ?kind=.
func TestRequestFormOpensOnAMarketplacesOrder(t *testing.T) {
	c := newVerticalCoop(t, "marketplace")
	buyer, _ := c.member("Bea Buyer", "customer")
	s := c.session(t)
	s.signIn(c.code(buyer))
	for path, want := range map[string]string{
		"/app/request":              `<option value="order" selected>`,
		"/app/request?kind=nothing": `<option value="order" selected>`,
		"/app/request?kind=listing": `<option value="listing" selected>`,
	} {
		p := s.do("GET", path, nil)
		if p.status != http.StatusOK || !strings.Contains(p.body, want) {
			t.Errorf("GET %s: %d, want %s in %s", path, p.status, want, p.body)
		}
	}
	if p := s.do("GET", "/app/request", nil); !strings.Contains(p.body, `name="details.shippingAddress"`) {
		t.Errorf("the request form does not ask an order's shipping address: %s", p.body)
	}
}

// TestStayFormAsksNoDuration: under a fare rule by the hour, a stay's form asks no
// duration (its nights are its length), and its quote, and the stay requested at it, are
// priced for its nights.
func TestStayFormAsksNoDuration(t *testing.T) {
	doc := strings.Replace(testPolicy, `"vertical":"ride-sharing"`, `"vertical":"housing"`, 1)
	c := newCoopWith(t, strings.TrimSuffix(strings.TrimSpace(doc), "}")+`,"fares":{"baseCents":1000,"perHourCents":250}}`)
	guest, _ := c.member("Gus Guest", "customer")
	s := c.session(t)
	csrf := s.signIn(c.code(guest))
	if form := s.do("GET", "/app/request?kind=stay", nil).body; strings.Contains(form, `id="durationMinutes"`) || !strings.Contains(form, `name="details.checkIn"`) {
		t.Fatalf("the stay form under an hourly rule: %s", form)
	}
	stay := url.Values{"csrf": {csrf}, "kind": {"stay"}, "details.unit": {"3B"}, "details.checkIn": {"2026-12-10"}, "details.checkOut": {"2026-12-13"},
		"durationMinutes": {"60"}}
	p := s.do("POST", "/app/request", stay)
	// Three nights: 10.00 and 72 hours at 2.50.
	if p.status != http.StatusOK || !strings.Contains(p.body, `<strong id="quote-price">190.00</strong>`) {
		t.Fatalf("the quote of three nights: %d %s", p.status, p.body)
	}
	confirm(stay, p.body)
	if p = s.do("POST", "/app/request", stay); p.status != http.StatusSeeOther {
		t.Fatalf("the stay: %d %s", p.status, p.body)
	}
}

// TestBookingQuotedAtItsStart: the request form quotes a booking at the rate in force
// when it starts: one at 22:00 under a night rate is quoted, and requested, at that rate.
func TestBookingQuotedAtItsStart(t *testing.T) {
	doc := strings.Replace(testPolicy, `"vertical":"ride-sharing"`, `"vertical":"care"`, 1)
	c := newCoopWith(t, strings.TrimSuffix(strings.TrimSpace(doc), "}")+
		`,"fares":{"perHourCents":2000,"timeRates":[{"name":"night","from":"22:00","to":"24:00","perHourCents":4000}]}}`)
	cust, _ := c.member("Cid Client", "customer")
	s := c.session(t)
	csrf := s.signIn(c.code(cust))
	booking := url.Values{"csrf": {csrf}, "kind": {"booking"}, "details.address": {"3 rue Mercière"}, "details.careType": {"night"},
		"details.scheduledAt": {"2026-12-03T22:00"}, "durationMinutes": {"60"}}
	p := s.do("POST", "/app/request", booking)
	if p.status != http.StatusOK || !strings.Contains(p.body, `<strong id="quote-price">40.00</strong>`) {
		t.Fatalf("the quote of an hour from 22:00 at the night rate: %d %s", p.status, p.body)
	}
	confirm(booking, p.body)
	if p = s.do("POST", "/app/request", booking); p.status != http.StatusSeeOther {
		t.Fatalf("the booking: %d %s", p.status, p.body)
	}
}
