package server

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cooperator-dev/cooperator/api/policy"
)

// TestWorkVisibility: the customer, the worker on the work and staff see a work item with
// its history and payment; others get 404, a worker who declined it too.
func TestWorkVisibility(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.customer("Rita Rider")
	w1, w2, w3 := e.worker("Dan Driver"), e.worker("Eve Driver"), e.worker("Fay Driver")
	o := e.customer("Omar Other")
	id := num(e.must(201, "POST", "/v1/work", c.token, ride(1000, 0))["id"])
	path := fmt.Sprintf("/v1/work/%d", id)
	e.must(200, "POST", path+"/match", c.token, nil)
	e.must(200, "POST", path+"/decline", w1.token, nil) // w2 is offered
	e.must(200, "POST", path+"/accept", w2.token, nil)

	for _, tok := range []string{c.token, w2.token, adminToken} {
		got := e.must(200, "GET", path, tok, nil)
		if got["state"] != "accepted" || num(got["workerId"]) != w2.id || len(got["history"].([]any)) != 4 {
			t.Fatalf("work %v", got)
		}
		if _, ok := got["paymentId"]; ok {
			t.Fatalf("a paymentId before completion: %v", got)
		}
	}
	for _, tok := range []string{w1.token, w3.token, o.token} {
		e.must(404, "GET", path, tok, nil)
	}
	e.must(404, "GET", "/v1/work/999999", adminToken, nil)

	e.must(200, "POST", path+"/start", w2.token, nil)
	pay := num(e.must(200, "POST", path+"/complete", w2.token, nil)["paymentId"])
	got := e.must(200, "GET", path, c.token, nil)
	if num(got["paymentId"]) != pay || len(got["history"].([]any)) != 6 {
		t.Fatalf("completed work %v", got)
	}
	if h := got["history"].([]any)[5].(map[string]any); h["from"] != "in_progress" || h["to"] != "completed" || num(h["actorId"]) != w2.id {
		t.Fatalf("last history entry %v", h)
	}
}

// TestFundReport: the co-op's accounts in order with their balances (the policy's funds
// at 0 before any payment), what workers were paid and what the co-op received.
func TestFundReport(t *testing.T) {
	pol := mustPolicy(t, withFares(ridePolicy, rideFares)) // its surge windows allow the payments' surge
	pol.FeeSplit.SurgeToWorkersPercent = 50
	e := newEnv(t, pol)
	w1, w2 := e.worker("Dan Driver"), e.worker("Eve Driver")
	c := e.customer("Rita Rider")

	report := func() (accounts []string, balances map[string]int64, paid, received, total int64) {
		t.Helper()
		r := e.must(200, "GET", "/v1/reports/funds", c.token, nil)
		balances = map[string]int64{}
		for _, a := range r["accounts"].([]any) {
			a := a.(map[string]any)
			accounts = append(accounts, a["account"].(string))
			balances[a["account"].(string)] = num(a["balanceCents"])
		}
		return accounts, balances, num(r["paidToWorkersCents"]), num(r["receivedCents"]), num(r["ledgerTotalCents"])
	}
	accounts, balances, paid, received, total := report()
	if fmt.Sprint(accounts) != "[fund:hardship fund:reserve]" || balances["fund:hardship"] != 0 || paid != 0 || received != 0 || total != 0 {
		t.Fatalf("empty report: %v %v %d %d %d", accounts, balances, paid, received, total)
	}

	refunded := num(e.must(201, "POST", "/v1/payments", adminToken, map[string]any{"workerId": w1.id, "amountCents": 10000, "surgeCents": 1000}, "Idempotency-Key", "a")["id"])
	e.must(201, "POST", "/v1/payments", adminToken, map[string]any{"workerId": w2.id, "payerId": c.id, "amountCents": 1999, "surgeCents": 301}, "Idempotency-Key", "b")
	e.must(201, "POST", "/v1/payments", adminToken, map[string]any{"workerId": w1.id, "payerId": c.id, "amountCents": 555}, "Idempotency-Key", "c")
	e.must(200, "POST", fmt.Sprintf("/v1/payments/%d/refund", refunded), adminToken, nil)

	accounts, balances, paid, received, total = report()
	if fmt.Sprint(accounts) != "[coop:operating coop:surge fund:hardship fund:reserve]" {
		t.Fatalf("accounts %v", accounts)
	}
	for _, a := range accounts {
		if balances[a] != e.balance(a) {
			t.Errorf("%s: %d, ledger %d", a, balances[a], e.balance(a))
		}
	}
	if balances["coop:surge"] != 150 {
		t.Errorf("coop:surge %d, want 150", balances["coop:surge"])
	}
	if want := e.balance(acctMember(w1.id)) + e.balance(acctMember(w2.id)); paid != want || paid == 0 {
		t.Errorf("paid to workers %d, want %d", paid, want)
	}
	if received != 1999+555 || total != 0 {
		t.Errorf("received %d, total %d", received, total)
	}
}

// TestProposalReads: a proposal with its turnout while open, its result once closed, and
// the reader's own ballot (members only).
func TestProposalReads(t *testing.T) {
	e := newEnv(t, withModel(t, policy.Delegate, 50, 50))
	m := e.workers(3)
	id := num(e.must(201, "POST", "/v1/proposals", m[0].token, map[string]any{"title": "Open on Sundays"})["id"])
	path := fmt.Sprintf("/v1/proposals/%d", id)
	e.must(200, "PUT", "/v1/delegation", m[1].token, map[string]any{"delegateId": m[0].id})
	e.must(200, "PUT", path+"/ballot", m[0].token, map[string]any{"choice": "yes"})

	staff := e.must(200, "GET", path, adminToken, nil)
	if _, ok := staff["myBallot"]; ok {
		t.Fatalf("staff have no ballot: %v", staff)
	}
	// The ballot is secret until the close: the turnout only (ballots of their own: m[1]
	// votes through m[0] but cast none).
	if tu := staff["turnout"].(map[string]any); num(tu["ballots"]) != 1 || num(tu["eligible"]) != 3 || staff["proposal"].(map[string]any)["result"] != nil {
		t.Fatalf("open proposal %v", staff)
	}
	if got := e.must(200, "GET", path, m[0].token, nil); got["myBallot"] != "yes" || got["proposal"].(map[string]any)["title"] != "Open on Sundays" {
		t.Fatalf("author's view %v", got)
	}
	if got, ok := e.must(200, "GET", path, m[2].token, nil)["myBallot"]; !ok || got != nil {
		t.Fatalf("myBallot of a member who has not voted: %v (present %v)", got, ok)
	}
	e.clock.Step(7 * 24 * time.Hour) // the deadline passes: the next read closes it
	closed := e.must(200, "GET", path, m[0].token, nil)
	if closed["myBallot"] != "yes" || closed["proposal"].(map[string]any)["status"] != "closed" {
		t.Fatalf("closed %v", closed)
	}
	cls := closed["proposal"].(map[string]any)["result"].(map[string]any)["classes"].([]any)[0].(map[string]any)
	if num(cls["yes"]) != 2 || num(cls["delegated"]) != 1 || num(cls["eligible"]) != 3 {
		t.Fatalf("result %v", cls)
	}
	e.must(404, "GET", "/v1/proposals/999999", m[0].token, nil)
}

// TestNoPolicy: while no valid policy is loaded, what needs it answers 503.
func TestNoPolicy(t *testing.T) {
	e := newEnv(t, nil)
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/policy", nil},
		{"POST", "/v1/members", map[string]any{"name": "Ada", "email": "ada@example.org", "roles": []string{"worker"}}},
		{"POST", "/v1/proposals", map[string]any{"title": "t"}},
		{"POST", "/v1/payments", map[string]any{"workerId": 1, "amountCents": 100}},
		{"POST", "/v1/work/1/complete", nil},
	} {
		r := e.call(c.method, c.path, adminToken, c.body, "Idempotency-Key", "k")
		if r.status != 503 || !strings.Contains(string(r.body), "no valid policy loaded") {
			t.Errorf("%s %s: %d %s", c.method, c.path, r.status, r.body)
		}
	}
}

// transparency sets up a completed ride and a tip, and the readers every report must
// answer alike: workers and customers not involved, a member with the staff role, the
// payer, the worker, and staff. (A member staff made inactive has no token left.)
type transparency struct {
	e       *env
	worker  who
	payer   who
	ride    int64 // the ride's payment
	tip     int64 // the tip's payment
	readers []struct{ name, token string }
	// involved are the readers who see the payments' and the worker's detail.
	involved map[string]bool
}

func newTransparency(t *testing.T) transparency {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	w := e.worker("Dan Driver")
	c := e.customer("Rita Rider")
	id := num(e.must(201, "POST", "/v1/work", c.token, ride(1999, 0))["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil)
	for _, step := range []string{"accept", "start"} {
		e.must(200, "POST", fmt.Sprintf("/v1/work/%d/%s", id, step), w.token, nil)
	}
	tr := transparency{e: e, worker: w, payer: c}
	tr.ride = num(e.must(200, "POST", fmt.Sprintf("/v1/work/%d/complete", id), w.token, nil)["paymentId"])
	tr.tip = num(e.must(201, "POST", "/v1/payments", c.token, map[string]any{"workId": id, "amountCents": 300}, "Idempotency-Key", "tip")["id"])
	tr.readers = []struct{ name, token string }{
		{"another worker", e.worker("Eve Driver").token},
		{"another customer", e.customer("Omar Other").token},
		{"a member with the staff role", e.member("Sam Staff", []string{"staff"}, "staff").token},
		{"the payer", c.token},
		{"the worker", w.token},
		{"staff", adminToken},
	}
	tr.involved = map[string]bool{"the payer": true, "the worker": true, "staff": true}
	return tr
}

// TestFundReportReadableByEveryMember: every member reads the same fund balances and
// totals (the aggregates transparency needs).
func TestFundReportReadableByEveryMember(t *testing.T) {
	tr := newTransparency(t)
	want := tr.e.must(200, "GET", "/v1/reports/funds", adminToken, nil)
	if num(want["receivedCents"]) != 1999+300 || len(want["accounts"].([]any)) == 0 {
		t.Fatalf("fund report %v", want)
	}
	for _, r := range tr.readers {
		if got := tr.e.must(200, "GET", "/v1/reports/funds", r.token, nil); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s reads %v, want %v", r.name, got, want)
		}
	}
}

// TestSecurity_EarningsOnlyToTheMemberAndStaff: a worker's earnings, entry by entry, are
// read by the worker and staff; every other member is refused (the totals are in the
// fund report).
func TestSecurity_EarningsOnlyToTheMemberAndStaff(t *testing.T) {
	tr := newTransparency(t)
	path := fmt.Sprintf("/v1/members/%d/earnings", tr.worker.id)
	want := tr.e.must(200, "GET", path, adminToken, nil)
	// 1999 at a 3% fee: the worker gets 1940; of the 300 tip, 291.
	if num(want["earnedCents"]) != 1940+291 || len(want["entries"].([]any)) != 2 {
		t.Fatalf("earnings %v", want)
	}
	for _, r := range tr.readers {
		if r.name == "staff" || r.name == "the worker" {
			if got := tr.e.must(200, "GET", path, r.token, nil); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s reads %v, want %v", r.name, got, want)
			}
			continue
		}
		if got := tr.e.call("GET", path, r.token, nil); got.status != 403 || strings.Contains(string(got.body), "earnedCents") {
			t.Errorf("%s reads the worker's earnings: %d %s", r.name, got.status, got.body)
		}
	}
}

// TestSecurity_PaymentDetailOnlyToThoseInvolved: a payment's detail and fee breakdown is
// read alike by its payer, its worker and staff (the idempotency key aside:
// TestPaymentKeyShownToItsClient); to every other member it does not exist.
func TestSecurity_PaymentDetailOnlyToThoseInvolved(t *testing.T) {
	tr := newTransparency(t)
	for _, id := range []int64{tr.ride, tr.tip} {
		path := fmt.Sprintf("/v1/payments/%d", id)
		want := tr.e.must(200, "GET", path, adminToken, nil)
		delete(want, "idempotencyKey")
		if want["split"] == nil || num(want["grossCents"]) == 0 || num(want["workerId"]) != tr.worker.id {
			t.Fatalf("payment %v", want)
		}
		for _, r := range tr.readers {
			if !tr.involved[r.name] {
				if got := tr.e.call("GET", path, r.token, nil); got.status != 404 || strings.Contains(string(got.body), "grossCents") {
					t.Errorf("%s reads payment %d: %d %s", r.name, id, got.status, got.body)
				}
				continue
			}
			got := tr.e.must(200, "GET", path, r.token, nil)
			delete(got, "idempotencyKey")
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s reads payment %d as %v, want %v", r.name, id, got, want)
			}
		}
	}
}
