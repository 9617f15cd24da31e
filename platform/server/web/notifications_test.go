package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestJourneyCustomerIsToldOfTheirWork: a customer whose request a worker accepts and
// completes sees it in the menu (two new), reads it on the notifications page in the
// co-op's words, follows a notice to the work, and marks them read: the menu says nothing
// new, and a notification that came after the page was read stays new.
func TestJourneyCustomerIsToldOfTheirWork(t *testing.T) {
	c := newCoop(t)
	_, workerTok := c.member("Ana Driver", "worker")
	customerID, customerTok := c.member("Bo Rider", "customer")
	work := c.request(customerTok, 1500)
	for _, step := range []string{"accept", "start", "complete"} {
		c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/%s", work, step), workerTok, nil)
	}

	ctx := newTab(t)
	c.signIn(t, ctx, c.code(customerID))
	if got := text(t, ctx, "#nav-notifications"); got != "Notifications (2 new)" {
		t.Fatalf("the menu says %q", got)
	}
	click(t, ctx, "#nav-notifications")
	if got := text(t, ctx, "ul.notifications"); !strings.Contains(got, fmt.Sprintf("Work no. %d is completed", work)) ||
		!strings.Contains(got, fmt.Sprintf("A worker accepted work no. %d", work)) || strings.Count(got, "New:") != 2 {
		t.Fatalf("the notifications page: %q", got)
	}
	// Another request, accepted while the page is open: marking read leaves it new.
	later := c.request(customerTok, 1200)
	c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/accept", later), workerTok, nil)
	click(t, ctx, "#mark-read")
	if got := text(t, ctx, "#nav-notifications"); got != "Notifications (1 new)" {
		t.Fatalf("after marking read the menu says %q", got)
	}
	if got := text(t, ctx, "ul.notifications li:first-child"); !strings.HasPrefix(got, fmt.Sprintf("New: A worker accepted work no. %d", later)) {
		t.Fatalf("the newest notification: %q", got)
	}
	if got := text(t, ctx, "ul.notifications"); strings.Count(got, "New:") != 1 {
		t.Fatalf("the notifications page after marking read: %q", got)
	}
	click(t, ctx, fmt.Sprintf("#notification-%s a", firstID(t, c, customerID, customerTok)))
	if loc := location(t, ctx); !strings.HasSuffix(loc, fmt.Sprintf("/app/work/%d", later)) {
		t.Fatalf("the notification led to %s", loc)
	}
	// In French.
	do(t, ctx, chromedp.Navigate(c.url+"/app/notifications?lang=fr"))
	if got := text(t, ctx, "ul.notifications"); !strings.Contains(got, fmt.Sprintf("Le travail n° %d est terminé", work)) {
		t.Fatalf("the notifications page in French: %q", got)
	}
	if got := text(t, ctx, "#nav-notifications"); got != "Notifications (non lues : 1)" {
		t.Fatalf("the French menu says %q", got)
	}
}

// firstID is the id of the member's newest notification, read through the API.
func firstID(t *testing.T, c *coop, id int64, token string) string {
	t.Helper()
	feed := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d/notifications?limit=1", id), token, nil)
	return fmt.Sprint(int64(feed["notifications"].([]any)[0].(map[string]any)["id"].(float64)))
}

// A member marks read only their own notifications: the form's upTo is an id, not a
// member, and one that is no number is refused with nothing marked.
func TestMarkReadIsTheMembersOwn(t *testing.T) {
	c := newCoop(t)
	boID, boTok := c.member("Bo Rider", "customer")
	caID, caTok := c.member("Cy Rider", "customer")
	for i, tok := range []string{boTok, caTok} {
		_, workerTok := c.member([]string{"Ana Driver", "Dan Driver"}[i], "worker")
		c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/accept", c.request(tok, 1500)), workerTok, nil)
	}
	s := c.session(t)
	csrf := s.signIn(c.code(caID))
	if p := s.do("POST", "/app/notifications/read", url.Values{"csrf": {csrf}, "upTo": {"many"}}); p.status != http.StatusBadRequest {
		t.Fatalf("upTo that is no number: %d", p.status)
	}
	if p := s.do("POST", "/app/notifications/read", url.Values{"csrf": {csrf}, "upTo": {"1000000"}}); p.status != http.StatusSeeOther {
		t.Fatalf("mark read: %d %.300s", p.status, p.body)
	}
	unread := func(id int64, tok string) float64 {
		return c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d/notifications", id), tok, nil)["unread"].(float64)
	}
	if u := unread(caID, caTok); u != 0 {
		t.Fatalf("Cy has %v unread", u)
	}
	if u := unread(boID, boTok); u != 1 {
		t.Fatalf("Bo has %v unread after Cy marked hers", u)
	}
}

// TestBookingAsksItsDurationOnce: under a fare rule by the hour, a care booking's form asks
// its duration once (the rule's measure, not a detail beside it), and the booking's page
// shows when its slot ends: what the worker needs to know of its length.
func TestBookingAsksItsDurationOnce(t *testing.T) {
	doc := strings.Replace(testPolicy, `"vertical":"ride-sharing"`, `"vertical":"care"`, 1)
	c := newCoopWith(t, strings.TrimSuffix(strings.TrimSpace(doc), "}")+`,"fares":{"perHourCents":2000}}`)
	cust, _ := c.member("Cid Client", "customer")
	s := c.session(t)
	csrf := s.signIn(c.code(cust))
	form := s.do("GET", "/app/request?kind=booking", nil).body
	if !strings.Contains(form, `id="durationMinutes"`) || strings.Contains(form, `name="details.durationMinutes"`) {
		t.Fatalf("the booking form under an hourly rule: %s", form)
	}
	booking := url.Values{"csrf": {csrf}, "kind": {"booking"}, "details.address": {"3 rue Mercière"}, "details.careType": {"night"},
		"details.scheduledAt": {"2026-12-03T14:30"}, "durationMinutes": {"90"}}
	p := s.do("POST", "/app/request", booking)
	if p.status != http.StatusOK || !strings.Contains(p.body, `<strong id="quote-price">30.00</strong>`) {
		t.Fatalf("the quote of 90 minutes at 20.00 an hour: %d %s", p.status, p.body)
	}
	confirm(booking, p.body)
	p = s.do("POST", "/app/request", booking)
	if p.status != http.StatusSeeOther {
		t.Fatalf("the booking: %d %s", p.status, p.body)
	}
	if page := s.do("GET", p.header.Get("Location"), nil).body; !strings.Contains(page, `<dd id="work-ends">2026-12-03 16:00 UTC</dd>`) {
		t.Fatalf("the booking's page does not say when it ends: %s", page)
	}
}

// A notification without a subject (a delegation ended by the delegate's erasure) reads
// whole in both languages and leads to the delegation form.
func TestDelegationEndedOnTheNotificationsPage(t *testing.T) {
	c := newCoopWith(t, strings.Replace(testPolicy, `"one-member-one-vote"`, `"delegate"`, 1))
	ana, anaTok := c.member("Ana Driver", "worker")
	bea, beaTok := c.member("Bea Driver", "worker")
	c.must(http.StatusOK, "PUT", "/v1/delegation", anaTok, map[string]any{"delegateId": bea})
	c.must(http.StatusOK, "DELETE", fmt.Sprintf("/v1/members/%d", bea), beaTok, nil)
	s := c.session(t)
	s.signIn(c.code(ana))
	for lang, want := range map[string]string{"en": "The member you gave your vote to has left with their data", "fr": "Le membre à qui vous aviez confié votre voix est parti avec ses données"} {
		p := s.do("GET", "/app/notifications?lang="+lang, nil)
		if p.status != http.StatusOK || !strings.Contains(p.body, `<a href="/app/governance#del-h">`+want) || strings.Contains(p.body, "⟦") {
			t.Fatalf("the notifications page in %s: %d %s", lang, p.status, p.body)
		}
	}
}
