package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cooperator-dev/cooperator/api/policy"
)

func ride(price, surge int64) map[string]any {
	return map[string]any{"kind": "ride", "details": map[string]string{"pickup": "Place Bellecour", "dropoff": "Part-Dieu"}, "priceCents": price, "surgeCents": surge}
}

func TestWorkLifecycleAndPayment(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.customer("Rita Rider")
	w1, w2, w3 := e.worker("Dan Driver"), e.worker("Eve Driver"), e.worker("Fay Driver")

	work := e.must(201, "POST", "/v1/work", c.token, ride(1999, 0))
	id := num(work["id"])
	if work["state"] != "requested" {
		t.Fatalf("state %v", work["state"])
	}
	// Everyone is unassigned and unrated: the lowest id wins, and the answer says why (not
	// when the worker last took work, which is theirs: their offer says it).
	o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil)
	if num(o["workerId"]) != w1.id || !strings.Contains(o["reason"].(string), fmt.Sprintf("(unrated), then lowest member id (%d)", w1.id)) {
		t.Fatalf("offer %v", o)
	}
	// Matching twice is an illegal transition.
	e.must(409, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil)
	// Only the offered worker may accept.
	e.must(404, "POST", fmt.Sprintf("/v1/work/%d/accept", id), w2.token, nil)
	// w1 declines: the next worker (w2) is offered; w1's answer says it moved on, not to whom.
	o = e.must(200, "POST", fmt.Sprintf("/v1/work/%d/decline", id), w1.token, nil)
	if o["workerId"] != nil || o["state"] != "offered" || o["rating"] != nil || o["expiresAt"] != nil ||
		o["reason"] != "declined; the work is offered to another worker" || fmt.Sprint(e.offerWork(w2)) != fmt.Sprint([]int64{id}) {
		t.Fatalf("after decline %v", o)
	}
	e.must(409, "POST", fmt.Sprintf("/v1/work/%d/start", id), w2.token, nil) // not accepted yet
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", id), w2.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/start", id), w2.token, nil)
	e.must(403, "POST", fmt.Sprintf("/v1/work/%d/complete", id), c.token, nil)
	done := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/complete", id), w2.token, nil)
	if done["state"] != "completed" || done["paymentId"] == nil {
		t.Fatalf("completed %v", done)
	}
	e.must(409, "POST", fmt.Sprintf("/v1/work/%d/complete", id), w2.token, nil)
	e.must(409, "POST", fmt.Sprintf("/v1/work/%d/cancel", id), c.token, nil)

	// The payment: gross 1999; fee at 3% = 59 (59.97 down), hardship 1% = 19, reserve
	// 0.5% = 9, operating 31; worker 1999-59 = 1940.
	pay := e.must(200, "GET", fmt.Sprintf("/v1/payments/%d", num(done["paymentId"])), w2.token, nil)
	e.must(404, "GET", fmt.Sprintf("/v1/payments/%d", num(done["paymentId"])), w3.token, nil)
	split := pay["split"].(map[string]any)
	if num(split["platformFeeCents"]) != 59 || num(split["operatingCents"]) != 31 || num(split["workerCents"]) != 1940 {
		t.Fatalf("split %v", split)
	}
	if e.balance("member:"+fmt.Sprint(w2.id)) != 1940 || e.balance("fund:hardship") != 19 || e.balance("fund:reserve") != 9 {
		t.Fatal("ledger balances")
	}
	e.assertBalanced()
	earn := e.must(200, "GET", fmt.Sprintf("/v1/members/%d/earnings", w2.id), w2.token, nil)
	if num(earn["earnedCents"]) != 1940 {
		t.Fatalf("earnings %v", earn)
	}
	funds := e.must(200, "GET", "/v1/reports/funds", w1.token, nil)
	if num(funds["ledgerTotalCents"]) != 0 || num(funds["receivedCents"]) != 1999 {
		t.Fatalf("funds %v", funds)
	}

	// History records every transition in order.
	got := e.must(200, "GET", fmt.Sprintf("/v1/work/%d", id), c.token, nil)
	var states []string
	for _, h := range got["history"].([]any) {
		states = append(states, h.(map[string]any)["to"].(string))
	}
	if strings.Join(states, ",") != "requested,offered,offered,accepted,in_progress,completed" {
		t.Fatalf("history %v", states)
	}

	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/rating", id), c.token, map[string]any{"stars": 5})
	e.must(409, "POST", fmt.Sprintf("/v1/work/%d/rating", id), c.token, map[string]any{"stars": 4})

	// Fairness: w2 and w1 have been assigned, w3 never: w3 comes first. Then the
	// customer blocks w1, so after w3 the next is w2 (w1 was assigned before w2).
	e.must(201, "POST", "/v1/blocks", c.token, map[string]any{"workerId": w1.id})
	next := func() int64 {
		t.Helper()
		n := num(e.must(201, "POST", "/v1/work", c.token, ride(1000, 0))["id"])
		return num(e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", n), c.token, nil)["workerId"])
	}
	if got := next(); got != w3.id {
		t.Fatalf("offered %d, want never-assigned %d", got, w3.id)
	}
	if got := next(); got != w2.id {
		t.Fatalf("offered %d, want %d (w1 is blocked)", got, w2.id)
	}
	// Everyone unblocked is busy now.
	n := num(e.must(201, "POST", "/v1/work", c.token, ride(1000, 0))["id"])
	e.must(409, "POST", fmt.Sprintf("/v1/work/%d/match", n), c.token, nil)
	e.must(200, "DELETE", fmt.Sprintf("/v1/blocks/%d", w1.id), c.token, nil)
	if got := num(e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", n), c.token, nil)["workerId"]); got != w1.id {
		t.Fatalf("offered %d after unblocking, want %d", got, w1.id)
	}
	// A decline with nobody left sends the work back to requested.
	o = e.must(200, "POST", fmt.Sprintf("/v1/work/%d/decline", n), w1.token, nil)
	if o["state"] != "requested" || o["workerId"] != nil {
		t.Fatalf("decline with nobody left: %v", o)
	}
}

func TestRatingBreaksTies(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.customer("Rita Rider")
	w1, w2 := e.worker("Dan Driver"), e.worker("Eve Driver")
	// Same last-assigned time for both, w2 rated higher: w2 first despite the higher id.
	if _, err := e.s.Pool().Exec(t.Context(), `UPDATE members SET last_assigned_at = '2026-01-01', rating_sum = CASE WHEN id = $1 THEN 9 ELSE 5 END, rating_count = 2`, w2.id); err != nil {
		t.Fatal(err)
	}
	n := num(e.must(201, "POST", "/v1/work", c.token, ride(1000, 0))["id"])
	o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", n), c.token, nil)
	if num(o["workerId"]) != w2.id || !strings.Contains(o["reason"].(string), "4.50 of 5") {
		t.Fatalf("offer %v (w1 %d)", o, w1.id)
	}
}

// TestDeclineTellsNotWhoIsNext: a worker who declines an offer reads that the work moved
// on, not to whom: neither the next worker's id, nor the workers of an urgent fan-out, nor
// the rule's values that chose them. Staff declining for a worker read where it went.
func TestDeclineTellsNotWhoIsNext(t *testing.T) {
	pol := mustPolicy(t, ridePolicy)
	pol.Work = policy.WorkRules{UrgentFanOut: 2, OfferTimeoutSeconds: 30}
	e := newEnv(t, pol)
	c := e.customer("Rita Rider")
	ws := []who{e.worker("A Driver"), e.worker("B Driver"), e.worker("C Driver"), e.worker("D Driver")}
	leaks := func(o map[string]any, ids ...int64) {
		t.Helper()
		body, _ := json.Marshal(o)
		if o["workerId"] != nil || o["workerIds"] != nil || o["rating"] != nil || o["expiresAt"] != nil {
			t.Errorf("the decliner reads who is next: %s", body)
		}
		for _, id := range ids {
			if strings.Contains(o["reason"].(string), fmt.Sprint(id)) {
				t.Errorf("the decliner's answer names worker %d: %s", id, body)
			}
		}
	}
	// Urgent: the two offered at once decline; the work fans out to the other two.
	req := ride(1500, 0)
	req["urgent"] = true
	id := num(e.must(201, "POST", "/v1/work", c.token, req)["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/decline", id), ws[0].token, nil)
	o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/decline", id), ws[1].token, nil)
	if o["state"] != "offered" {
		t.Fatalf("after the urgent declines %v", o)
	}
	leaks(o, ws[2].id, ws[3].id)
	for _, w := range ws[2:] {
		if got := e.offerWork(w); fmt.Sprint(got) != fmt.Sprint([]int64{id}) {
			t.Fatalf("worker %d's offers %v", w.id, got)
		}
	}
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", id), ws[2].token, nil)

	// Not urgent: the next worker is offered; staff declining for them read who is next.
	id = num(e.must(201, "POST", "/v1/work", c.token, ride(1500, 0))["id"])
	first := num(e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil)["workerId"])
	var decliner who
	for _, w := range ws {
		if w.id == first {
			decliner = w
		}
	}
	o = e.must(200, "POST", fmt.Sprintf("/v1/work/%d/decline", id), decliner.token, nil)
	if o["state"] != "offered" {
		t.Fatalf("after the decline %v", o)
	}
	leaks(o)
	if staff := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/decline", id), adminToken, nil); staff["workerId"] == nil || num(staff["workerId"]) == first {
		t.Fatalf("staff's decline %v, want the next worker named", staff)
	}
}

// TestWorkInProgressIsNotTheCustomersToCancel: once its worker started it, work is no
// longer its customer's to cancel (409 naming state, which says to ask staff): the
// worker's time is spent. Its worker and staff still cancel it; another member still
// does not see it. Before it starts the customer cancels it.
func TestWorkInProgressIsNotTheCustomersToCancel(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.customer("Rita Rider")
	d := e.worker("Dan Driver")
	other := e.customer("Olga Other")
	started := func() int64 {
		id := num(e.must(201, "POST", "/v1/work", c.token, ride(1000, 0))["id"])
		e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil)
		e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", id), d.token, nil)
		e.must(200, "POST", fmt.Sprintf("/v1/work/%d/start", id), d.token, nil)
		return id
	}
	for _, by := range []struct {
		name  string
		token string
	}{{"the worker", d.token}, {"staff", adminToken}} {
		id := started()
		e.refused(409, "state", "ask the co-op's staff", "POST", fmt.Sprintf("/v1/work/%d/cancel", id), c.token, nil)
		e.refused(404, "", "", "POST", fmt.Sprintf("/v1/work/%d/cancel", id), other.token, nil)
		if w := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", id), by.token, map[string]string{"reason": "the car broke down"}); w["state"] != "cancelled" {
			t.Fatalf("cancelled by %s: %v", by.name, w)
		}
	}
	// Accepted, not started: still the customer's to cancel.
	id := num(e.must(201, "POST", "/v1/work", c.token, ride(1000, 0))["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", id), d.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", id), c.token, nil)
}

// TestNextRoundOffersTheWorkAgain: a worker who let an offer expire, or declined it, is
// not offered that work again in the same round; once nobody is left it is back to
// requested, and the next match starts a new round that may offer it to them again. In a
// co-op of one driver the ride is not stuck in requested for ever.
func TestNextRoundOffersTheWorkAgain(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.customer("Rita Rider")
	d := e.worker("Dan Driver")
	id := num(e.must(201, "POST", "/v1/work", c.token, ride(1000, 0))["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil)
	e.clock.Step(2 * time.Hour) // the offer expires; nobody else: back to requested
	if got := e.must(200, "GET", fmt.Sprintf("/v1/work/%d", id), c.token, nil); got["state"] != "requested" {
		t.Fatalf("after the only driver's offer expired: %v", got["state"])
	}
	if o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil); num(o["workerId"]) != d.id {
		t.Fatalf("the next round after an expiry: %v", o)
	}
	if o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/decline", id), d.token, nil); o["state"] != "requested" {
		t.Fatalf("the only driver declined: %v", o)
	}
	if o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil); num(o["workerId"]) != d.id {
		t.Fatalf("the next round after a decline: %v", o)
	}
	e.completeWork(id, d.token)
}
