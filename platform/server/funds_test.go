package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/store/funds"
)

// fundPolicy is ridePolicy with a staff disbursement limit of 50.00.
func fundPolicy(t testing.TB) string {
	return strings.Replace(ridePolicy, `"payments":{"staffLimitCents":1000000}`,
		`"payments":{"staffLimitCents":1000000,"staffDisbursementLimitCents":5000}`, 1)
}

// feedHardship has staff pay a worker 1,000,000 cents, which puts 1% (10,000 cents) in
// the hardship fund and 0.5% in the reserve.
func (e *env) feedHardship(w who, key string) int64 {
	e.t.Helper()
	return num(e.must(201, "POST", "/v1/payments", adminToken, map[string]any{"workerId": w.id, "amountCents": 1000000}, "Idempotency-Key", key)["id"])
}

func (e *env) fund(name, token string) map[string]any {
	e.t.Helper()
	return e.must(200, "GET", "/v1/funds/"+name, token, nil)
}

// TestDisbursementByStaffWithinLimit: staff pay from a fund at once up to the policy's
// limit, to a member or an outside payee; the ledger records it (fund down, payee up), the
// fund's history shows it, the report counts it apart from pay for work; an amount the
// fund does not hold is refused naming amountCents, and nothing is written.
func TestDisbursementByStaffWithinLimit(t *testing.T) {
	e := newEnv(t, mustPolicy(t, fundPolicy(t)))
	w := e.worker("Dan Driver")
	e.feedHardship(w, "feed")
	if got := num(e.fund("hardship", w.token)["balanceCents"]); got != 10000 {
		t.Fatalf("hardship holds %d", got)
	}
	before := e.balance(acctMember(w.id))
	d := e.must(201, "POST", "/v1/disbursements", adminToken, map[string]any{"fund": "hardship", "amountCents": 3000, "memberId": w.id, "reason": "car repair"}, "Idempotency-Key", newKey())
	if d["status"] != "paid" || d["approval"] != "staff" || d["transactionId"] == nil || d["requestedBy"] != nil {
		t.Fatalf("disbursement %v", d)
	}
	if got := e.balance(acctMember(w.id)) - before; got != 3000 {
		t.Fatalf("the member received %d", got)
	}
	e.must(201, "POST", "/v1/disbursements", adminToken, map[string]any{"fund": "hardship", "amountCents": 4000, "payee": "Lyon food bank", "reason": "solidarity"}, "Idempotency-Key", newKey())
	if got := e.balance(acctFund("hardship")); got != 3000 {
		t.Fatalf("hardship holds %d after paying 7000", got)
	}
	if got := e.balance("payee"); got != 4000 {
		t.Fatalf("outside payees received %d", got)
	}
	e.assertBalanced()
	// 3001 is within the staff limit but more than the fund holds.
	e.refused(409, "amountCents", "holds 3000 cents", "POST", "/v1/disbursements", adminToken, map[string]any{"fund": "hardship", "amountCents": 3001, "payee": "x", "reason": "too much"}, "Idempotency-Key", newKey())
	h := e.must(200, "GET", "/v1/funds/hardship/movements", adminToken, nil)
	es := h["entries"].([]any)
	if num(h["balanceCents"]) != 3000 || len(es) != 3 {
		t.Fatalf("history %v", h)
	}
	last := es[0].(map[string]any)
	if last["kind"] != "disbursement" || num(last["amountCents"]) != -4000 || last["disbursementId"] == nil || last["paymentId"] != nil {
		t.Fatalf("newest movement %v", last)
	}
	if first := es[2].(map[string]any); first["kind"] != "payment" || num(first["amountCents"]) != 10000 || first["paymentId"] == nil {
		t.Fatalf("oldest movement %v", first)
	}
	page := e.must(200, "GET", "/v1/funds/hardship/movements?limit=2", adminToken, nil)
	next := e.must(200, "GET", fmt.Sprintf("/v1/funds/hardship/movements?limit=2&before=%d", num(page["nextBefore"])), adminToken, nil)
	if len(page["entries"].([]any)) != 2 || len(next["entries"].([]any)) != 1 || next["nextBefore"] != nil {
		t.Fatalf("pages %v / %v", page, next)
	}
	// A transaction id past 32 bits (a ledger's ids grow for ever) is an id like any other.
	if far := e.must(200, "GET", "/v1/funds/hardship/movements?limit=2&before=2147483648", adminToken, nil); len(far["entries"].([]any)) != 2 {
		t.Fatalf("page before 2^31: %v", far)
	}
	rep := e.must(200, "GET", "/v1/reports/funds", w.token, nil)
	if num(rep["disbursedCents"]) != 7000 || num(rep["paidToWorkersCents"]) != e.balance(acctMember(w.id))-3000 {
		t.Fatalf("report %v", rep)
	}
	// The member's earnings show the disbursement as what it is, counted apart from the pay
	// for work, as the funds' report counts it.
	earnings := e.must(200, "GET", fmt.Sprintf("/v1/members/%d/earnings", w.id), w.token, nil)
	earn := earnings["entries"].([]any)
	if k := earn[len(earn)-1].(map[string]any)["kind"]; k != "disbursement" {
		t.Fatalf("earnings end with %v", k)
	}
	if num(earnings["payoutCents"]) != 3000 || num(earnings["earnedCents"]) != e.balance(acctMember(w.id))-3000 {
		t.Fatalf("earnings %v, %v payout", earnings["earnedCents"], earnings["payoutCents"])
	}
}

// TestDisbursementByProposal: above the staff limit, or asked by a member, a disbursement
// waits for the proposal it opens; passed, it is paid at the close; not passed, rejected;
// passed when the fund no longer holds the amount, failed, and the fund stays at zero.
func TestDisbursementByProposal(t *testing.T) {
	pol := withModel(t, "one-member-one-vote", 50, 50)
	pol.Payments.StaffDisbursementLimitCents = 5000
	e := newEnv(t, pol)
	w := e.worker("Dan Driver")
	w2 := e.worker("Eve Driver")
	e.feedHardship(w, "feed")
	ask := func(token string, amount int64) map[string]any {
		t.Helper()
		d := e.must(201, "POST", "/v1/disbursements", token, map[string]any{"fund": "hardship", "amountCents": amount, "payee": "Garage Central", "reason": "the co-op's bike"}, "Idempotency-Key", newKey())
		if d["status"] != "pending" || d["approval"] != "proposal" || d["proposalId"] == nil || d["transactionId"] != nil {
			t.Fatalf("disbursement %v", d)
		}
		return d
	}
	vote := func(d map[string]any, choice string) {
		for _, m := range []who{w, w2} {
			e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", num(d["proposalId"])), m.token, map[string]any{"choice": choice})
		}
	}
	get := func(d map[string]any) map[string]any {
		return e.must(200, "GET", fmt.Sprintf("/v1/disbursements/%d", num(d["id"])), adminToken, nil)
	}
	byMember := ask(w.token, 1000)    // a member asks: always a vote
	byStaff := ask(adminToken, 6000)  // above the staff limit
	turnedDown := ask(w2.token, 2000) // voted down
	tooLate := ask(w2.token, 4000)    // fits now, not once the others are paid
	if num(byMember["requestedBy"]) != w.id {
		t.Fatalf("requestedBy %v", byMember["requestedBy"])
	}
	pr := e.must(200, "GET", fmt.Sprintf("/v1/proposals/%d", num(byStaff["proposalId"])), w.token, nil)["proposal"].(map[string]any)
	if !strings.Contains(pr["title"].(string), "6000 cents from the hardship fund") || pr["field"] != nil && pr["field"] != "" {
		t.Fatalf("proposal %v", pr)
	}
	if e.balance(acctFund("hardship")) != 10000 {
		t.Fatal("a pending disbursement took money")
	}
	vote(byMember, "yes")
	vote(byStaff, "yes")
	vote(turnedDown, "no")
	vote(tooLate, "yes")
	e.clock.Step(8 * 24 * time.Hour)
	e.must(200, "GET", "/v1/proposals", w.token, nil) // closes what is due, in id order
	for _, c := range []struct {
		d      map[string]any
		status string
	}{{byMember, "paid"}, {byStaff, "paid"}, {turnedDown, "rejected"}, {tooLate, "failed"}} {
		got := get(c.d)
		if got["status"] != c.status || got["decidedAt"] == nil {
			t.Errorf("disbursement %v: %v, want %s", c.d["id"], got, c.status)
		}
		if (c.status == "paid") != (got["transactionId"] != nil) {
			t.Errorf("disbursement %v: transaction %v", c.d["id"], got["transactionId"])
		}
	}
	if msg := get(tooLate)["message"].(string); !strings.Contains(msg, "holds 3000 cents") {
		t.Errorf("failed message %q", msg)
	}
	if got := e.balance(acctFund("hardship")); got != 3000 {
		t.Fatalf("hardship holds %d", got)
	}
	e.assertBalanced()
}

// TestSecurity_DisbursementRights: a disbursement is read by staff, whoever asked and the
// member it pays, 404 to anyone else; members never pay at once; an inactive member asks
// nothing; without a token nothing; bad input names its field and writes nothing; a
// refund that would take a fund below zero (its money disbursed) is refused.
func TestSecurity_DisbursementRights(t *testing.T) {
	e := newEnv(t, mustPolicy(t, fundPolicy(t)))
	w := e.worker("Dan Driver")
	other := e.worker("Eve Driver")
	c := e.customer("Rita Rider")
	pay := e.feedHardship(w, "feed")
	d := e.must(201, "POST", "/v1/disbursements", adminToken, map[string]any{"fund": "hardship", "amountCents": 5000, "memberId": w.id, "reason": "hardship"}, "Idempotency-Key", newKey())
	mine := e.must(201, "POST", "/v1/disbursements", c.token, map[string]any{"fund": "hardship", "amountCents": 10, "memberId": c.id, "reason": "please"}, "Idempotency-Key", newKey())
	if mine["status"] != "pending" {
		t.Fatalf("a member's own request was %v", mine["status"])
	}
	path := fmt.Sprintf("/v1/disbursements/%d", num(d["id"]))
	e.must(200, "GET", path, w.token, nil)
	e.must(200, "GET", fmt.Sprintf("/v1/disbursements/%d", num(mine["id"])), c.token, nil)
	e.refused(404, "", "disbursement not found", "GET", path, other.token, nil)
	// The proposal that puts hers to every member's vote names neither whom it pays nor
	// who asked.
	pr := e.must(200, "GET", fmt.Sprintf("/v1/proposals/%d", num(mine["proposalId"])), other.token, nil)["proposal"].(map[string]any)
	if pr["createdBy"] != nil || pr["body"] != "Pay 10 cents from the hardship fund to a member. Reason: please" {
		t.Fatalf("the proposal every member reads: %v", pr)
	}
	e.refused(404, "", "disbursement not found", "GET", path, c.token, nil)
	e.refused(401, "Authorization", "bearer token", "GET", path, "", nil)
	e.refused(401, "Authorization", "bearer token", "POST", "/v1/disbursements", "", map[string]any{"fund": "hardship", "amountCents": 1, "payee": "x", "reason": "x"}, "Idempotency-Key", newKey())
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", other.id), adminToken, map[string]any{"active": false})
	e.refused(401, "Authorization", "unknown token", "POST", "/v1/disbursements", other.token, map[string]any{"fund": "hardship", "amountCents": 1, "payee": "x", "reason": "x"}, "Idempotency-Key", newKey())

	for _, bad := range []struct {
		status     int
		field, msg string
		body       map[string]any
	}{
		{400, "fund", "one of the policy's funds: hardship, reserve", map[string]any{"fund": "holiday", "amountCents": 1, "payee": "x", "reason": "x"}},
		{400, "amountCents", "positive integer", map[string]any{"fund": "hardship", "amountCents": 0, "payee": "x", "reason": "x"}},
		{400, "memberId", "not both", map[string]any{"fund": "hardship", "amountCents": 1, "payee": "x", "memberId": w.id, "reason": "x"}},
		{400, "memberId", "not both", map[string]any{"fund": "hardship", "amountCents": 1, "reason": "x"}},
		{400, "reason", "is required", map[string]any{"fund": "hardship", "amountCents": 1, "payee": "x", "reason": " "}},
		{400, "payee", "1 to 200", map[string]any{"fund": "hardship", "amountCents": 1, "payee": "", "reason": "x"}},
		{404, "memberId", "no member with this id", map[string]any{"fund": "hardship", "amountCents": 1, "memberId": 987654, "reason": "x"}},
		{400, "memberId", "no active member", map[string]any{"fund": "hardship", "amountCents": 1, "memberId": other.id, "reason": "x"}},
		{400, "votingPeriodHours", "not voted on", map[string]any{"fund": "hardship", "amountCents": 1, "payee": "x", "reason": "x", "votingPeriodHours": 200}},
		{400, "votingPeriodHours", "minimum of 168", map[string]any{"fund": "hardship", "amountCents": 6000, "payee": "x", "reason": "x", "votingPeriodHours": 1}},
	} {
		e.refused(bad.status, bad.field, bad.msg, "POST", "/v1/disbursements", adminToken, bad.body, "Idempotency-Key", newKey())
	}
	// The payment that fed the fund cannot be refunded once its share was disbursed.
	e.refused(409, "id", "cannot go below zero", "POST", fmt.Sprintf("/v1/payments/%d/refund", pay), adminToken, nil)
	if got := e.balance(acctFund("hardship")); got != 5000 {
		t.Fatalf("hardship holds %d", got)
	}
}

// TestDisbursementsInParallel: staff send many disbursements at once over real HTTP; the
// fund pays exactly as many as it holds and never goes below zero.
func TestDisbursementsInParallel(t *testing.T) {
	e := newEnv(t, mustPolicy(t, fundPolicy(t)))
	w := e.worker("Dan Driver")
	e.feedHardship(w, "feed") // 10,000 cents: 7 of 1,300 fit, with 900 left
	api, _ := serve(t, e.s)
	client := apiClient(t)
	const n = 20
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(context.Background(), "POST", api+"/v1/disbursements",
				strings.NewReader(fmt.Sprintf(`{"fund":"hardship","amountCents":1300,"payee":"payee %d","reason":"parallel"}`, i)))
			req.Header.Set("Authorization", "Bearer "+adminToken)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", fmt.Sprintf("parallel %d", i))
			resp, err := client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	paid, refused := 0, 0
	for _, s := range statuses {
		switch s {
		case 201:
			paid++
		case 409:
			refused++
		}
	}
	if paid != 7 || refused != n-7 {
		t.Fatalf("statuses %v: %d paid, %d refused", statuses, paid, refused)
	}
	if got := e.balance(acctFund("hardship")); got != 900 {
		t.Fatalf("hardship holds %d", got)
	}
	e.assertBalanced()
}

// TestRefundByVote: a payment's payer, and staff above their limit, put its refund to the
// members' vote with a reason (202; without one, 400, and nothing is written). The
// request opens a proposal; passed, the payment is refunded when it closes (refundedBy
// vote, the ledger balanced); not passed, the request is rejected and the payment stays;
// passed after its worker refunded it meanwhile, the request failed. One request at a
// time per payment (409); another member sees no payment (404).
func TestRefundByVote(t *testing.T) {
	pol := withModel(t, policy.OneMemberOneVote, 50, 50)
	pol.Payments.StaffLimitCents = 500
	pol.Payments.StaffDisbursementLimitCents = 100000
	e := newEnv(t, pol)
	c, other := e.customer("Rita Rider"), e.customer("Otto Other")
	w := e.worker("Dan Driver")
	voters := []who{w, e.member("Eve Worker", []string{"worker"}, ""), e.member("Fay Worker", []string{"worker"}, "")}
	ridePaid := func() int64 {
		t.Helper()
		_, pay := e.completedRideBy(c, w, 2000)
		return pay
	}
	refund := func(id int64) string { return fmt.Sprintf("/v1/payments/%d/refund", id) }
	ballots := func(proposal int64, choice string) {
		t.Helper()
		for _, v := range voters {
			e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", proposal), v.token, map[string]any{"choice": choice})
		}
	}
	vote := func(proposal int64, choice string) {
		t.Helper()
		ballots(proposal, choice)
		e.must(200, "POST", fmt.Sprintf("/v1/proposals/%d/close", proposal), adminToken, nil)
	}

	// The payer asks; the members vote yes: refunded at the close.
	first := ridePaid()
	e.refused(400, "reason", "is required (at most 1000 characters): the members vote on a refund its payer asks for", "POST", refund(first), c.token, nil)
	e.refused(404, "", "payment", "POST", refund(first), other.token, map[string]any{"reason": "Never came"})
	asked := e.must(202, "POST", refund(first), c.token, map[string]any{"reason": "The driver never came"})
	if asked["status"] != "pending" || num(asked["requestedBy"]) != c.id {
		t.Fatalf("the request: %v", asked)
	}
	proposal := num(asked["proposalId"])
	// Every member reads the proposal; it does not say who paid (no author).
	if pr := e.must(200, "GET", fmt.Sprintf("/v1/proposals/%d", proposal), other.token, nil)["proposal"].(map[string]any); pr["title"] != fmt.Sprintf("Refund of payment %d: 2000 cents back to its payer", first) || pr["createdBy"] != nil {
		t.Fatalf("the proposal: %v", pr)
	}
	e.refused(404, "", "payment", "GET", fmt.Sprintf("/v1/payments/%d/refund-requests", first), other.token, nil)
	e.refused(409, "", fmt.Sprintf("already put to the vote: proposal %d", proposal), "POST", refund(first), c.token, map[string]any{"reason": "Again"})
	vote(proposal, "yes")
	if pay := e.must(200, "GET", fmt.Sprintf("/v1/payments/%d", first), c.token, nil); pay["refunded"] != true || pay["refundedBy"] != "vote" {
		t.Fatalf("the payment after the vote: %v", pay)
	}
	if b := e.balance(fmt.Sprintf("member:%d", w.id)); b != 0 {
		t.Fatalf("the worker's balance after the voted refund: %d", b)
	}
	e.assertBalanced()

	// Staff above their limit ask; the members vote no: rejected, the payment stays.
	second := ridePaid()
	e.refused(400, "reason", "the members vote on a refund above staff's limit of 500 cents (payments.staffLimitCents)", "POST", refund(second), adminToken, nil)
	proposal = num(e.must(202, "POST", refund(second), adminToken, map[string]any{"reason": "A charge in error"})["proposalId"])
	vote(proposal, "no")
	if pay := e.must(200, "GET", fmt.Sprintf("/v1/payments/%d", second), c.token, nil); pay["refunded"] != false {
		t.Fatalf("the payment after a vote against: %v", pay)
	}
	// Its payer, its worker and staff read what became of the requests.
	latest := func(token string) map[string]any {
		t.Helper()
		return e.must(200, "GET", fmt.Sprintf("/v1/payments/%d/refund-requests", second), token, nil)["refundRequests"].([]any)[0].(map[string]any)
	}
	for _, tok := range []string{c.token, w.token, adminToken} {
		if rr := latest(tok); rr["status"] != "rejected" || rr["message"] != "the proposal did not pass" || rr["requestedBy"] != nil {
			t.Fatalf("the request after a vote against: %v", rr)
		}
	}

	// Asked again, and refunded by its worker meanwhile: the yes vote finds nothing to do.
	proposal = num(e.must(202, "POST", refund(second), c.token, map[string]any{"reason": "Asked again"})["proposalId"])
	e.must(200, "POST", refund(second), w.token, nil)
	vote(proposal, "yes")
	if rr := latest(c.token); rr["status"] != "failed" || rr["message"] != "the proposal passed, but the payment was refunded meanwhile" {
		t.Fatalf("the request refunded meanwhile: %v", rr)
	}
	if pay := e.must(200, "GET", fmt.Sprintf("/v1/payments/%d", second), c.token, nil); pay["refundedBy"] != "worker" {
		t.Fatalf("the payment: %v", pay)
	}
	e.assertBalanced()

	// A request whose proposal a replica of the version before closed (it settles none,
	// as during a rolling update) does not block the payment: asked again, it is settled
	// as its vote said, here passed, and the payment is refunded.
	third := ridePaid()
	proposal = num(e.must(202, "POST", refund(third), c.token, map[string]any{"reason": "Lost luggage"})["proposalId"])
	ballots(proposal, "yes")
	if _, err := e.owner.Exec(t.Context(), `UPDATE proposals SET status = 'closed', closed_at = now(), result = '{"passed": true}' WHERE id = $1`, proposal); err != nil {
		t.Fatal(err)
	}
	if r := e.call("POST", refund(third), c.token, map[string]any{"reason": "Again"}); r.status != 409 || !strings.Contains(string(r.body), "already been refunded") {
		t.Fatalf("asking again after the stale vote: %d %s", r.status, r.body)
	}
	if pay := e.must(200, "GET", fmt.Sprintf("/v1/payments/%d", third), c.token, nil); pay["refundedBy"] != "vote" {
		t.Fatalf("the payment after the stale vote was settled: %v", pay)
	}
	if rr := newestRefundRequest(e, third, c.token); rr["status"] != "refunded" {
		t.Fatalf("the stale request: %v", rr)
	}

	// Passed when a fund no longer holds its share (disbursed meanwhile): failed, with
	// why, the payment stays, and the close goes on.
	fourth := ridePaid()
	proposal = num(e.must(202, "POST", refund(fourth), c.token, map[string]any{"reason": "Wrong address"})["proposalId"])
	held := e.balance("fund:hardship")
	e.must(201, "POST", "/v1/disbursements", adminToken, map[string]any{"fund": "hardship", "amountCents": held, "memberId": voters[1].id, "reason": "Repairs"}, "Idempotency-Key", newKey())
	vote(proposal, "yes")
	if rr := newestRefundRequest(e, fourth, c.token); rr["status"] != "failed" ||
		!strings.Contains(rr["message"].(string), "the proposal passed, but the refund takes 20 cents back from the hardship fund, which holds 0 cents") {
		t.Fatalf("the request a fund could not cover: %v", rr)
	}
	if pay := e.must(200, "GET", fmt.Sprintf("/v1/payments/%d", fourth), c.token, nil); pay["refunded"] != false {
		t.Fatalf("the payment a fund could not cover: %v", pay)
	}
	if pr := e.must(200, "GET", fmt.Sprintf("/v1/proposals/%d", proposal), c.token, nil)["proposal"].(map[string]any); pr["status"] != "closed" {
		t.Fatalf("the proposal: %v", pr)
	}
	e.assertBalanced()

	// Voted yes and past its deadline, before the closer's tick and before anyone reads the
	// proposals: reading the payment closes the vote, and the payment and its request say
	// what it decided.
	fifth := ridePaid()
	proposal = num(e.must(202, "POST", refund(fifth), c.token, map[string]any{"reason": "Overcharged"})["proposalId"])
	ballots(proposal, "yes")
	e.clock.Step(8 * 24 * time.Hour)
	if pay := e.must(200, "GET", fmt.Sprintf("/v1/payments/%d", fifth), c.token, nil); pay["refundedBy"] != "vote" {
		t.Fatalf("the payment past its vote's deadline: %v", pay)
	}
	if rr := newestRefundRequest(e, fifth, w.token); rr["status"] != "refunded" {
		t.Fatalf("the request past its vote's deadline: %v", rr)
	}
	e.assertBalanced()
}

// newestRefundRequest is the newest refund request of payment, read with token.
func newestRefundRequest(e *env, payment int64, token string) map[string]any {
	e.t.Helper()
	return e.must(200, "GET", fmt.Sprintf("/v1/payments/%d/refund-requests", payment), token, nil)["refundRequests"].([]any)[0].(map[string]any)
}

// completedRideBy has customer c request a ride at price cents, offered to worker w (the
// only available driver) and taken through to completion by w; it returns the work id.
func (e *env) completedRideBy(c, w who, price int64) (work int64, payment int64) {
	e.t.Helper()
	id := num(e.must(201, "POST", "/v1/work", c.token, ride(price, 0))["id"])
	if offer := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil); num(offer["workerId"]) != w.id {
		e.t.Fatalf("offered to %v, want %d", offer["workerId"], w.id)
	}
	done := e.completeWork(id, w.token)
	return id, num(done["paymentId"])
}

// TestDisbursementRetries: a disbursement is asked with an idempotency key, as a payment
// is. The same request again answers the disbursement it made (staff's paid once, a
// member's put to one vote), even once the fund no longer holds it; another request with
// the key is 409, and nothing is written; without a key, 400. Staff's keys and each
// member's are apart. An erasure replaces the keys of the disbursements the member asked
// for or receives (they may name them), and the words of the proposals that repeat their
// reasons.
func TestDisbursementRetries(t *testing.T) {
	e := newEnv(t, mustPolicy(t, fundPolicy(t)))
	w := e.worker("Dan Driver")
	c := e.customer("Rita Rider")
	e.feedHardship(w, "feed") // 10,000 cents
	body := map[string]any{"fund": "hardship", "amountCents": 5000, "memberId": w.id, "reason": "flood"}
	first := e.must(201, "POST", "/v1/disbursements", adminToken, body, "Idempotency-Key", "flood-dan")
	again := e.must(201, "POST", "/v1/disbursements", adminToken, body, "Idempotency-Key", "flood-dan")
	if again["id"] != first["id"] || again["status"] != "paid" {
		t.Fatalf("the retry answered %v, want %v", again, first)
	}
	if got := e.balance(acctFund("hardship")); got != 5000 {
		t.Fatalf("hardship holds %d after a disbursement and its retry, want 5000", got)
	}
	other := map[string]any{"fund": "hardship", "amountCents": 10, "memberId": w.id, "reason": "flood"}
	e.refused(409, "Idempotency-Key", "this key was used for a different disbursement", "POST", "/v1/disbursements", adminToken, other, "Idempotency-Key", "flood-dan")
	e.refused(400, "Idempotency-Key", "header is required", "POST", "/v1/disbursements", adminToken, other)
	// Once the fund no longer holds it, the retry still answers what it paid.
	e.must(201, "POST", "/v1/disbursements", adminToken, map[string]any{"fund": "hardship", "amountCents": 4000, "payee": "Garage", "reason": "van"}, "Idempotency-Key", "van")
	if again := e.must(201, "POST", "/v1/disbursements", adminToken, body, "Idempotency-Key", "flood-dan"); again["id"] != first["id"] {
		t.Fatalf("the retry answered %v, want %v", again, first)
	}

	// A member's request, retried, is put to the vote once; the same key is theirs, apart
	// from staff's.
	mine := map[string]any{"fund": "hardship", "amountCents": 10, "memberId": c.id, "reason": "please"}
	asked := e.must(201, "POST", "/v1/disbursements", c.token, mine, "Idempotency-Key", "flood-dan")
	proposals := e.count("proposals")
	if again := e.must(201, "POST", "/v1/disbursements", c.token, mine, "Idempotency-Key", "flood-dan"); again["id"] != asked["id"] || again["proposalId"] != asked["proposalId"] {
		t.Fatalf("the member's retry answered %v, want %v", again, asked)
	}
	if n := e.count("proposals"); n != proposals {
		t.Fatalf("%d proposals after the member's retry, want %d", n, proposals)
	}
	e.assertBalanced()

	// Her export has the key she chose; not staff's.
	ex := e.must(200, "GET", fmt.Sprintf("/v1/members/%d/export", c.id), c.token, nil)["disbursements"].([]any)
	if len(ex) != 1 || ex[0].(map[string]any)["idempotencyKey"] != "flood-dan" {
		t.Fatalf("her export's disbursements: %v", ex)
	}
	if ex := e.must(200, "GET", fmt.Sprintf("/v1/members/%d/export", w.id), w.token, nil)["disbursements"].([]any); ex[0].(map[string]any)["idempotencyKey"] != nil {
		t.Fatalf("Dan's export has staff's key: %v", ex)
	}
	// What she asked for another member: its proposal repeats her words, wiped with them.
	forDan := e.must(201, "POST", "/v1/disbursements", c.token, map[string]any{"fund": "hardship", "amountCents": 10, "memberId": w.id, "reason": "Dan, my neighbour"}, "Idempotency-Key", "for-dan")
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d", c.id), c.token, nil)
	var words string
	if err := e.owner.QueryRow(context.Background(), `SELECT body FROM proposals WHERE id = $1`, num(forDan["proposalId"])).Scan(&words); err != nil || words != "" {
		t.Fatalf("the proposal of what an erased member asked for says %q (%v)", words, err)
	}
	var key string
	var hashed bool
	if err := e.owner.QueryRow(context.Background(), `SELECT idempotency_key, request_hash <> '' FROM disbursements WHERE id = $1`, num(asked["id"])).Scan(&key, &hashed); err != nil ||
		key != fmt.Sprintf("erased-%d", num(asked["id"])) || hashed {
		t.Fatalf("the erased member's key is %q, its request still hashed: %v (%v)", key, hashed, err)
	}
}

// TestDisbursementRetriedWhileTheFirstPays: the same request twice at once (a client that
// retried before the first answer): both wait for the fund, the first pays, and the second
// answers what it paid, not a refusal of a second payment the fund no longer covers.
func TestDisbursementRetriedWhileTheFirstPays(t *testing.T) {
	e := newEnv(t, mustPolicy(t, fundPolicy(t)))
	w := e.worker("Dan Driver")
	e.feedHardship(w, "feed") // 10,000 cents
	e.must(201, "POST", "/v1/disbursements", adminToken, map[string]any{"fund": "hardship", "amountCents": 1000, "payee": "Garage", "reason": "van"}, "Idempotency-Key", "van")
	// 9,000 cents: one disbursement of 5,000, not two.
	ctx := context.Background()
	tx, err := e.owner.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := funds.On(tx).Lock(ctx, "hardship"); err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"fund": "hardship", "amountCents": 5000, "memberId": w.id, "reason": "flood"}
	answers := make(chan resp, 2)
	for range 2 {
		go func() { answers <- e.call("POST", "/v1/disbursements", adminToken, body, "Idempotency-Key", "flood") }()
	}
	e.waitOnLocks(answers, 2, "the same disbursement twice while the fund is held")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	first, second := <-answers, <-answers
	if first.status != 201 || second.status != 201 || first.json()["id"] != second.json()["id"] {
		t.Fatalf("the two answers: %d %s, %d %s", first.status, first.body, second.status, second.body)
	}
	if got := e.balance(acctFund("hardship")); got != 4000 {
		t.Fatalf("hardship holds %d, want 4000: paid once", got)
	}
}

// paidDuring is a change for e.during: staff's disbursement of amount cents from the
// hardship fund to an outside payee, paid (its ledger transaction written), with the
// table locked first (lock, in ACCESS EXCLUSIVE mode): a request that reads it waits
// there until the disbursement commits.
func (e *env) paidDuring(lock string, amount int64) func(ctx context.Context, tx pgx.Tx) error {
	return func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE `+pgx.Identifier{lock}.Sanitize()+` IN ACCESS EXCLUSIVE MODE`); err != nil {
			return err
		}
		payee := "Lyon food bank"
		_, err := funds.On(tx).Create(ctx, funds.Disbursement{Fund: "hardship", AmountCents: amount, Payee: &payee, Reason: "solidarity",
			Approval: funds.ByStaff, Status: funds.Paid}, e.clock.Now(), funds.Key{Scope: staffScope, Key: newKey(), Hash: []byte{1}})
		return err
	}
}

// TestFundReportReadsOneSnapshot: a disbursement paid while the funds' report is read is
// in both the fund's balance and disbursedCents, or in neither, so the report adds up
// (the fund holds what it was fed less what it paid out). Here it commits after the
// report read the balances, while the report waits to read the disbursements.
func TestFundReportReadsOneSnapshot(t *testing.T) {
	e := newEnv(t, mustPolicy(t, fundPolicy(t)))
	w := e.worker("Dan Driver")
	e.feedHardship(w, "feed")
	r := e.during("the funds' report", e.paidDuring("disbursements", 3000), func() resp {
		return e.call("GET", "/v1/reports/funds", w.token, nil)
	})
	if r.status != 200 {
		t.Fatalf("the report: %d %s", r.status, r.body)
	}
	var hardship int64
	for _, a := range r.json()["accounts"].([]any) {
		if a := a.(map[string]any); a["account"] == acctFund("hardship") {
			hardship = num(a["balanceCents"])
		}
	}
	if disbursed := num(r.json()["disbursedCents"]); hardship+disbursed != 10000 {
		t.Fatalf("the report says hardship holds %d and the funds paid out %d: that is not the 10000 cents it was fed", hardship, disbursed)
	}
}

// TestFundHistoryReadsOneSnapshot: a fund's balance and its movements are read in one
// snapshot, and each movement says the balance after it: a disbursement paid while the
// history is read (here after the balance was read, while the movements wait) is in both
// or in neither, so the movements add up to the balance (the app's chart of the months
// was off by the disbursement).
func TestFundHistoryReadsOneSnapshot(t *testing.T) {
	e := newEnv(t, mustPolicy(t, fundPolicy(t)))
	w := e.worker("Dan Driver")
	e.feedHardship(w, "feed")
	e.feedHardship(w, "feed again")
	r := e.during("the fund's history", e.paidDuring("ledger_transactions", 3000), func() resp {
		return e.call("GET", "/v1/funds/hardship/movements", adminToken, nil)
	})
	if r.status != 200 {
		t.Fatalf("the history: %d %s", r.status, r.body)
	}
	h := r.json()
	var sum int64
	es := h["entries"].([]any)
	for i := len(es) - 1; i >= 0; i-- {
		en := es[i].(map[string]any)
		sum += num(en["amountCents"])
		if num(en["balanceCents"]) != sum {
			t.Fatalf("movement %v says the fund holds %v after it, want %d", en["transactionId"], en["balanceCents"], sum)
		}
	}
	if num(h["balanceCents"]) != sum {
		t.Fatalf("the history says the fund holds %v, and its movements add up to %d: %s", h["balanceCents"], sum, r.body)
	}
	// Page after page, each movement says the balance after it (the disbursement is the
	// newest now, the second payment in before it).
	page := e.must(200, "GET", "/v1/funds/hardship/movements?limit=1", adminToken, nil)
	next := e.must(200, "GET", fmt.Sprintf("/v1/funds/hardship/movements?limit=1&before=%d", num(page["nextBefore"])), adminToken, nil)
	if got := num(next["entries"].([]any)[0].(map[string]any)["balanceCents"]); got != 20000 {
		t.Fatalf("the second page's movement says the fund holds %d after it, want 20000", got)
	}
	// A member's months too: the newest month's closing balance is the fund's balance.
	r = e.during("the fund's months", e.paidDuring("ledger_transactions", 3000), func() resp {
		return e.call("GET", "/v1/funds/hardship", w.token, nil)
	})
	if r.status != 200 {
		t.Fatalf("the months: %d %s", r.status, r.body)
	}
	h = r.json()
	if newest := h["months"].([]any)[0].(map[string]any); num(newest["balanceCents"]) != num(h["balanceCents"]) {
		t.Fatalf("the fund holds %v, and its newest month closes at %v: %s", h["balanceCents"], newest["balanceCents"], r.body)
	}
}

// TestFormerFundIsPaidOut: the members rename their hardship fund solidarity; what
// hardship holds is not stranded. A disbursement is asked from it while it holds money
// (staff's paid at once, a member's put to the vote), and refused naming fund once it
// holds nothing; the funds' report says it is a former fund, and its history reads on.
func TestFormerFundIsPaidOut(t *testing.T) {
	e := newEnv(t, mustPolicy(t, fundPolicy(t)))
	w := e.worker("Dan Driver")
	e.feedHardship(w, "feed")
	e.s.Policy().Set(mustPolicy(t, strings.Replace(fundPolicy(t), `"name":"hardship"`, `"name":"solidarity"`, 1)))
	pay := func(fund string, cents int64) map[string]any {
		return map[string]any{"fund": fund, "amountCents": cents, "payee": "Lyon food bank", "reason": "what the fund is for"}
	}
	asked := e.must(201, "POST", "/v1/disbursements", w.token, map[string]any{"fund": "hardship", "amountCents": 100, "memberId": w.id, "reason": "rent"}, "Idempotency-Key", newKey())
	if asked["status"] != "pending" {
		t.Fatalf("a member's request from the former fund: %v", asked)
	}
	for _, cents := range []int64{5000, 5000} {
		if d := e.must(201, "POST", "/v1/disbursements", adminToken, pay("hardship", cents), "Idempotency-Key", newKey()); d["status"] != "paid" {
			t.Fatalf("staff's disbursement from the former fund: %v", d)
		}
	}
	e.refused(409, "fund", "the fund hardship is no longer one of the policy's, and holds nothing", "POST", "/v1/disbursements", adminToken, pay("hardship", 1), "Idempotency-Key", newKey())
	e.refused(400, "fund", "must be one of the policy's funds: solidarity, reserve (or a former fund that still holds money)", "POST", "/v1/disbursements", adminToken, pay("holiday", 1), "Idempotency-Key", newKey())
	rep := e.must(200, "GET", "/v1/reports/funds", w.token, nil)
	got := map[string]string{}
	for _, a := range rep["accounts"].([]any) {
		a := a.(map[string]any)
		got[a["account"].(string)] = fmt.Sprint(a["balanceCents"], " ", a["former"] == true)
	}
	if got["fund:hardship"] != "0 true" || got["fund:solidarity"] != "0 false" || got["fund:reserve"] != "5000 false" {
		t.Fatalf("the report's funds: %v", got)
	}
	if h := e.must(200, "GET", "/v1/funds/hardship/movements", adminToken, nil); len(h["entries"].([]any)) != 3 {
		t.Fatalf("the former fund's movements: %v", h)
	}
	var in, out int64
	h := e.fund("hardship", w.token)
	ms := h["months"].([]any)
	for _, m := range ms {
		in, out = in+num(m.(map[string]any)["paidInCents"]), out+num(m.(map[string]any)["disbursedCents"])
	}
	if in != 10000 || out != 10000 || num(ms[0].(map[string]any)["balanceCents"]) != 0 {
		t.Fatalf("the former fund's months: %v", h)
	}
	e.assertBalanced()
}

// ledgerAt moves the ledger transaction id to the time at, as the owner, past the ledger's
// append-only triggers (which nothing in the service can do).
func (e *env) ledgerAt(id int64, at string) {
	e.t.Helper()
	if _, err := e.owner.Exec(e.t.Context(), fmt.Sprintf(`BEGIN; ALTER TABLE ledger_transactions DISABLE TRIGGER USER;
		UPDATE ledger_transactions SET created_at = '%s' WHERE id = %d;
		ALTER TABLE ledger_transactions ENABLE TRIGGER USER; COMMIT`, at, id)); err != nil {
		e.t.Fatal(err)
	}
}

// TestSecurity_FundHistoryTellsMembersOnlyMonths: a member reads what a fund took in and
// paid out by the month of the co-op's calendar, never a payment or a disbursement one by
// one: the fund's share of a payment (1% here) told its gross, so each member read every
// other member's earnings and every customer's spending, and who got which payout when.
// Staff read the movements one by one; every other member is refused them, the worker
// paid too. An inactive member reads neither, as with the co-op's other reads.
func TestSecurity_FundHistoryTellsMembersOnlyMonths(t *testing.T) {
	pol := mustPolicy(t, fundPolicy(t))
	pol.TimeZone = "Europe/Paris"
	e := newEnv(t, pol)
	ana, bo := e.worker("Ana Driver"), e.worker("Bo Driver")
	reader := e.customer("Rita Rider")
	treasurer := e.member("Tess Treasurer", []string{"staff"}, "staff")
	pay := func(w who, cents int64, at string) {
		p := e.must(201, "POST", "/v1/payments", adminToken, map[string]any{"workerId": w.id, "amountCents": cents}, "Idempotency-Key", newKey())
		var tx int64
		if err := e.owner.QueryRow(t.Context(), `SELECT tx_id FROM payments WHERE id = $1`, num(p["id"])).Scan(&tx); err != nil {
			t.Fatal(err)
		}
		e.ledgerAt(tx, at)
	}
	disburse := func(to map[string]any, cents int64, at string) {
		to["fund"], to["amountCents"], to["reason"] = "hardship", cents, "what the fund is for"
		d := e.must(201, "POST", "/v1/disbursements", adminToken, to, "Idempotency-Key", newKey())
		e.ledgerAt(num(d["transactionId"]), at)
	}
	// October in Paris: 10000 + 7000 in. November: 5000 (23:30 UTC on 31 October is
	// November in Paris) + 3000 in, 3000 to Ana and 1000 to a payee out.
	pay(ana, 1000000, "2026-10-05T10:00:00Z")
	pay(bo, 700000, "2026-10-20T12:00:00Z")
	pay(bo, 500000, "2026-10-31T23:30:00Z")
	pay(ana, 300000, "2026-11-15T09:00:00Z")
	disburse(map[string]any{"memberId": ana.id}, 3000, "2026-11-20T09:00:00Z")
	disburse(map[string]any{"payee": "Lyon food bank"}, 1000, "2026-11-21T09:00:00Z")

	want := []map[string]int64{
		{"paidInCents": 8000, "refundedCents": 0, "disbursedCents": 4000, "balanceCents": 21000},
		{"paidInCents": 17000, "refundedCents": 0, "disbursedCents": 0, "balanceCents": 17000},
	}
	for name, m := range map[string]who{"a customer": reader, "a worker paid": ana, "another worker paid": bo} {
		r := e.call("GET", "/v1/funds/hardship", m.token, nil)
		if r.status != 200 {
			t.Fatalf("%s reads the fund's history: %d %s", name, r.status, r.body)
		}
		for _, no := range []string{"paymentId", "disbursementId", "transactionId", "entries", "T10:00", "T23:30"} {
			if strings.Contains(string(r.body), no) {
				t.Errorf("%s reads %q in the fund's history: %s", name, no, r.body)
			}
		}
		h := r.json()
		months, _ := h["months"].([]any)
		if num(h["balanceCents"]) != 21000 || len(months) != 2 || h["nextBefore"] != nil {
			t.Fatalf("%s reads the fund's history: %s", name, r.body)
		}
		for i, month := range []string{"2026-11", "2026-10"} {
			got := months[i].(map[string]any)
			if got["month"] != month || len(got) != 5 {
				t.Fatalf("%s reads month %d as %v, want %s", name, i, got, month)
			}
			for k, v := range want[i] {
				if num(got[k]) != v {
					t.Errorf("%s reads %s %s = %v, want %d", name, month, k, got[k], v)
				}
			}
		}
		// Movements one by one are staff's: not the reader's, nor the workers' paid.
		e.refused(403, "", "read by staff", "GET", "/v1/funds/hardship/movements", m.token, nil)
	}
	// Pages of months: nextBefore is the month the next page reads before.
	page := e.must(200, "GET", "/v1/funds/hardship?limit=1", reader.token, nil)
	if page["nextBefore"] != "2026-11" || len(page["months"].([]any)) != 1 {
		t.Fatalf("the first page of months: %v", page)
	}
	next := e.must(200, "GET", "/v1/funds/hardship?limit=1&before=2026-11", reader.token, nil)
	if ms := next["months"].([]any); len(ms) != 1 || ms[0].(map[string]any)["month"] != "2026-10" || next["nextBefore"] != nil {
		t.Fatalf("the second page of months: %v", next)
	}
	for _, bad := range []string{"before=2026-13", "before=10", "before=2026-1", "limit=121", "limit=0"} {
		field := strings.SplitN(bad, "=", 2)[0]
		e.refused(400, field, "", "GET", "/v1/funds/hardship?"+bad, reader.token, nil)
	}

	// Staff (the admin token, a member with the staff role) read every movement.
	for _, tok := range []string{adminToken, treasurer.token} {
		es := e.must(200, "GET", "/v1/funds/hardship/movements", tok, nil)["entries"].([]any)
		if len(es) != 6 || es[0].(map[string]any)["disbursementId"] == nil || es[5].(map[string]any)["paymentId"] == nil {
			t.Fatalf("staff read the movements: %v", es)
		}
	}

	// An inactive member (a request that authenticated as the deactivation committed) is
	// refused, as with the co-op's other reads.
	if _, err := e.owner.Exec(t.Context(), `UPDATE members SET active = false WHERE id = $1`, reader.id); err != nil {
		t.Fatal(err)
	}
	inactive := principal{memberID: reader.id, roles: []string{"customer"}, class: "riders", active: false}
	for _, route := range [][2]string{{"/v1/funds/{name}", "/v1/funds/hardship"}, {"/v1/funds/{name}/movements", "/v1/funds/hardship/movements"},
		{"/v1/reports/funds", "/v1/reports/funds"}} {
		if r := e.callAs(inactive, "GET", route[0], route[1], nil); r.status != 403 {
			t.Errorf("GET %s as an inactive member: %d %s, want 403", route[1], r.status, r.body)
		}
	}
}

// TestFundMonthsInAZoneTheDatabaseLacks: a co-op whose time zone the service's zone
// database knows and PostgreSQL's does not (goOnlyZone, UTC+14) reads its fund's months on
// its own calendar; the history asked the database for the zone by name and answered 500.
func TestFundMonthsInAZoneTheDatabaseLacks(t *testing.T) {
	pol := mustPolicy(t, fundPolicy(t))
	pol.TimeZone = goOnlyZone
	if err := pol.Validate(); err != nil {
		t.Fatalf("the service does not know %s: %v", goOnlyZone, err)
	}
	e := newEnv(t, pol)
	var known bool
	if err := e.owner.QueryRow(t.Context(), `SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)`, goOnlyZone).Scan(&known); err != nil || known {
		t.Fatalf("PostgreSQL knows %s (%v): the test proves nothing", goOnlyZone, err)
	}
	ana := e.worker("Ana Driver")
	pay := func(cents int64, at string) {
		p := e.must(201, "POST", "/v1/payments", adminToken, map[string]any{"workerId": ana.id, "amountCents": cents}, "Idempotency-Key", newKey())
		var tx int64
		if err := e.owner.QueryRow(t.Context(), `SELECT tx_id FROM payments WHERE id = $1`, num(p["id"])).Scan(&tx); err != nil {
			t.Fatal(err)
		}
		e.ledgerAt(tx, at)
	}
	pay(1000000, "2026-10-31T09:30:00Z") // 31 October, 23:30 at UTC+14: 10000 to the hardship fund
	pay(500000, "2026-10-31T10:30:00Z")  // 1 November, 00:30: 5000
	h := e.must(200, "GET", "/v1/funds/hardship", ana.token, nil)
	ms := h["months"].([]any)
	if len(ms) != 2 {
		t.Fatalf("months %v", h)
	}
	for i, want := range []struct {
		month       string
		in, balance int64
	}{{"2026-11", 5000, 15000}, {"2026-10", 10000, 10000}} {
		got := ms[i].(map[string]any)
		if got["month"] != want.month || num(got["paidInCents"]) != want.in || num(got["balanceCents"]) != want.balance {
			t.Errorf("month %d: %v, want %s with %d in and a balance of %d", i, got, want.month, want.in, want.balance)
		}
	}
}
