package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The worker's availability switch, decline (the offer moves to the next worker) and the
// customer's block and rating go through the API's rules.
func TestWorkerAndCustomerActions(t *testing.T) {
	c := newCoop(t)
	ana, _ := c.member("Ana Driver", "worker")
	bea, _ := c.member("Bea Driver", "worker")
	cust, custTok := c.member("Cy Rider", "customer")
	work := c.request(custTok, 1000) // offered to Ana

	s := c.session(t)
	csrf := s.signIn(c.code(ana))
	p := s.do("POST", fmt.Sprintf("/app/work/%d/decline", work), url.Values{"csrf": {csrf}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("decline: %d", p.status)
	}
	w := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/work/%d", work), custTok, nil)
	if w["state"] != "offered" || int64(w["workerId"].(float64)) != bea {
		t.Fatalf("after Ana declined: %v", w)
	}
	if home := s.do("GET", "/app/home", nil); strings.Contains(home.body, fmt.Sprintf("/app/work/%d/accept", work)) {
		t.Fatal("the declined offer is still on Ana's page")
	}
	// The availability switch.
	if p := s.do("POST", "/app/availability", url.Values{"csrf": {csrf}, "available": {"false"}}); p.status != http.StatusSeeOther {
		t.Fatalf("availability: %d", p.status)
	}
	if m := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d", ana), adminToken, nil); m["available"] != false {
		t.Fatalf("Ana is still available: %v", m)
	}
	if home := s.do("GET", "/app/home", nil); !strings.Contains(home.body, "You are not available") {
		t.Fatal("the home page does not say Ana is not available")
	}

	// The customer blocks Bea after her work and rates it; a second rating is refused.
	cs := c.session(t)
	ccsrf := cs.signIn(c.code(cust))
	bs := c.session(t)
	bcsrf := bs.signIn(c.code(bea))
	for _, step := range []string{"accept", "start", "complete"} {
		if p := bs.do("POST", fmt.Sprintf("/app/work/%d/%s", work, step), url.Values{"csrf": {bcsrf}}); p.status != http.StatusSeeOther {
			t.Fatalf("%s: %d %.300s", step, p.status, p.body)
		}
	}
	if p := cs.do("POST", fmt.Sprintf("/app/work/%d/rate", work), url.Values{"csrf": {ccsrf}, "stars": {"9"}}); p.status != http.StatusBadRequest || !strings.Contains(p.body, "field-error") {
		t.Fatalf("9 stars: %d", p.status)
	}
	if p := cs.do("POST", fmt.Sprintf("/app/work/%d/rate", work), url.Values{"csrf": {ccsrf}, "stars": {"4"}}); p.status != http.StatusSeeOther {
		t.Fatalf("rate: %d", p.status)
	}
	if p := cs.do("POST", fmt.Sprintf("/app/work/%d/rate", work), url.Values{"csrf": {ccsrf}, "stars": {"5"}}); p.status != http.StatusConflict {
		t.Fatalf("second rating: %d", p.status)
	}
	if p := cs.do("POST", fmt.Sprintf("/app/work/%d/block", work), url.Values{"csrf": {ccsrf}, "workerId": {fmt.Sprint(bea)}}); p.status != http.StatusSeeOther {
		t.Fatalf("block: %d", p.status)
	}
	// Blocked, Bea is not offered Cy's next request (nobody is: Ana is unavailable).
	next := c.must(http.StatusCreated, "POST", "/v1/work", custTok, map[string]any{"kind": "ride", "priceCents": 900,
		"details": map[string]string{"pickup": "A", "dropoff": "B"}})
	c.must(http.StatusConflict, "POST", fmt.Sprintf("/v1/work/%v/match", next["id"]), custTok, nil)
}

// Under the delegate model a member gives their vote to another and takes it back.
func TestDelegation(t *testing.T) {
	c := newCoopWith(t, strings.Replace(testPolicy, `"one-member-one-vote"`, `"delegate"`, 1))
	ana, _ := c.member("Ana Driver", "worker")
	bea, _ := c.member("Bea Driver", "worker")
	s := c.session(t)
	csrf := s.signIn(c.code(ana))
	if p := s.do("GET", "/app/governance", nil); !strings.Contains(p.body, `action="/app/delegation"`) {
		t.Fatal("no delegation form under the delegate model")
	}
	if p := s.do("POST", "/app/delegation", url.Values{"csrf": {csrf}, "delegateId": {fmt.Sprint(bea)}}); p.status != http.StatusSeeOther {
		t.Fatalf("delegate: %d %.300s", p.status, p.body)
	}
	var n int
	if err := c.owner.QueryRow(t.Context(), `SELECT count(*) FROM delegations WHERE member_id = $1 AND delegate_id = $2`, ana, bea).Scan(&n); err != nil || n != 1 {
		t.Fatalf("delegation not recorded: %d %v", n, err)
	}
	if p := s.do("POST", "/app/delegation", url.Values{"csrf": {csrf}, "delegateId": {fmt.Sprint(ana)}}); p.status < 400 {
		t.Fatalf("delegating to oneself: %d", p.status)
	}
	if p := s.do("POST", "/app/delegation/remove", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("take back: %d", p.status)
	}
	if err := c.owner.QueryRow(t.Context(), `SELECT count(*) FROM delegations WHERE member_id = $1`, ana).Scan(&n); err != nil || n != 0 {
		t.Fatalf("delegation not taken back: %d %v", n, err)
	}
}
