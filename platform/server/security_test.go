package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/store/members"
	"github.com/cooperator-dev/cooperator/platform/server/store/sessions"
	"github.com/cooperator-dev/cooperator/platform/server/store/work"
	"github.com/cooperator-dev/cooperator/platform/server/web"
)

// The tests of the platform service as a tenant-facing server (issue 10, item 7). Each is
// named after the rule it proves.

// refused calls and checks the status and the error's field, and that nothing was written.
func (e *env) refused(status int, field, msg, method, path, token string, body any, headers ...string) {
	e.t.Helper()
	before := e.rowCounts()
	r := e.call(method, path, token, body, headers...)
	if r.status != status {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.body)
	}
	errObj, _ := r.json()["error"].(map[string]any)
	if got, _ := errObj["field"].(string); got != field || !strings.Contains(fmt.Sprint(errObj["message"]), msg) {
		e.t.Fatalf("%s %s: error %v, want field %q and a message with %q", method, path, errObj, field, msg)
	}
	if after := e.rowCounts(); fmt.Sprint(after) != fmt.Sprint(before) {
		e.t.Fatalf("%s %s wrote rows: %v -> %v", method, path, before, after)
	}
}

// TestSecurity_PaymentMustMatchCompletedWork: a member pays only for completed work they
// requested, to its worker, without surge, up to its agreed price in all; staff pay within
// the policy's limit, and not at all without one.
func TestSecurity_PaymentMustMatchCompletedWork(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	w := e.worker("Dan Driver")
	c := e.customer("Rita Rider")
	o := e.customer("Omar Other")
	open := num(e.must(201, "POST", "/v1/work", c.token, ride(1000, 0))["id"])
	// Dan is busy with the open ride's offer until it is cancelled.
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", open), c.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", open), c.token, nil)
	done, worker := e.completedRide(c, 1000)
	if worker != w.id {
		t.Fatalf("the ride went to %d", worker)
	}
	other := e.worker("Eve Driver")
	pay := func(token string, body map[string]any) []any {
		return []any{"POST", "/v1/payments", token, body, "Idempotency-Key", fmt.Sprint("k-", body)}
	}
	refuse := func(status int, field, msg string, req []any) {
		t.Helper()
		e.refused(status, field, msg, req[0].(string), req[1].(string), req[2].(string), req[3], req[4].(string), req[5].(string))
	}
	// Any amount to any worker, as before: refused.
	refuse(400, "workId", "is required", pay(c.token, map[string]any{"workerId": w.id, "amountCents": 100000}))
	refuse(400, "workId", "is required", pay(o.token, map[string]any{"workerId": other.id, "amountCents": 5}))
	// Work not completed, someone else's work, another worker, surge.
	refuse(409, "workId", "only completed work", pay(c.token, map[string]any{"workId": open, "amountCents": 100}))
	refuse(404, "", "work not found", pay(o.token, map[string]any{"workId": done, "amountCents": 100}))
	refuse(404, "", "work not found", pay(w.token, map[string]any{"workId": done, "amountCents": 100}))
	refuse(404, "", "work not found", pay(c.token, map[string]any{"workId": 987654, "amountCents": 100}))
	refuse(400, "workerId", "must be the worker of the work", pay(c.token, map[string]any{"workId": done, "workerId": other.id, "amountCents": 100}))
	refuse(400, "surgeCents", "must be 0", pay(c.token, map[string]any{"workId": done, "amountCents": 100, "surgeCents": 10}))
	refuse(403, "", "pay for themselves", pay(c.token, map[string]any{"workId": done, "payerId": o.id, "amountCents": 100}))
	// Up to the agreed price in all (the completion's own payment aside).
	refuse(400, "amountCents", "1000 cents are left", pay(c.token, map[string]any{"workId": done, "amountCents": 1001}))
	tip := e.must(201, "POST", "/v1/payments", c.token, map[string]any{"workId": done, "amountCents": 600}, "Idempotency-Key", "tip-1")
	if num(tip["workerId"]) != w.id || num(tip["payerId"]) != c.id || num(tip["workId"]) != done {
		t.Fatalf("tip %v", tip)
	}
	refuse(400, "amountCents", "400 cents are left", pay(c.token, map[string]any{"workId": done, "amountCents": 401}))
	// Two payments at once that each fit, but not together: one is recorded.
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.call("POST", "/v1/payments", c.token, map[string]any{"workId": done, "amountCents": 300}, "Idempotency-Key", fmt.Sprint("race-", i)).status
		}()
	}
	wg.Wait()
	if fmt.Sprint(statuses) != "[201 400]" && fmt.Sprint(statuses) != "[400 201]" {
		t.Fatalf("concurrent payments answered %v, want one 201 and one 400", statuses)
	}
	// The replay of a recorded key is answered, though nothing is left to pay.
	if again := e.must(201, "POST", "/v1/payments", c.token, map[string]any{"workId": done, "amountCents": 600}, "Idempotency-Key", "tip-1"); num(again["id"]) != num(tip["id"]) {
		t.Fatalf("replay %v", again)
	}

	// Staff: within the policy's limit (1,000,000 cents here), for work under the same rule.
	refuse(403, "amountCents", "at most 1000000 cents", pay(adminToken, map[string]any{"workerId": w.id, "amountCents": 1000001}))
	refuse(400, "payerId", "must be the customer of the work", pay(adminToken, map[string]any{"workId": done, "payerId": o.id, "amountCents": 1}))
	refuse(400, "amountCents", "100 cents are left", pay(adminToken, map[string]any{"workId": done, "amountCents": 101}))
	e.must(201, "POST", "/v1/payments", adminToken, map[string]any{"workerId": w.id, "amountCents": 1000000}, "Idempotency-Key", "staff-max")
	e.assertBalanced()

	// Without a limit in the policy, staff record no payments.
	pol := mustPolicy(t, ridePolicy)
	pol.Payments.StaffLimitCents = 0
	e2 := newEnv(t, pol)
	w2 := e2.worker("Dan Driver")
	e2.refused(403, "amountCents", "sets no payments.staffLimitCents", "POST", "/v1/payments", adminToken, map[string]any{"workerId": w2.id, "amountCents": 1}, "Idempotency-Key", "k")
}

// TestSecurity_ServingRoleCannotRewriteLedger: the service serves as a role that may only
// read and add to the ledger and the payments (and set the non-money columns a refund and
// an erasure change); the owner migrated. The serving role cannot update, delete or
// truncate ledger rows, change an amount, nor touch the triggers or the migrations.
func TestSecurity_ServingRoleCannotRewriteLedger(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	ctx := context.Background()
	var user string
	if err := e.s.Pool().QueryRow(ctx, `SELECT current_user`).Scan(&user); err != nil || !strings.HasSuffix(user, "_serving") {
		t.Fatalf("the server serves as %q (%v), want its serving role", user, err)
	}
	// What the service does works with the grants: payments, a refund, an erasure.
	e.worker("Dan Driver")
	c := e.customer("Rita Rider")
	work, _ := e.completedRide(c, 1000)
	tip := num(e.must(201, "POST", "/v1/payments", c.token, map[string]any{"workId": work, "amountCents": 100}, "Idempotency-Key", "tip")["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/payments/%d/refund", tip), adminToken, nil)
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d", c.id), c.token, nil)
	// A restart migrates and grants again.
	if err := e.s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	entries, txs, payments := e.count("ledger_entries"), e.count("ledger_transactions"), e.count("payments")
	for _, stmt := range []string{
		`UPDATE ledger_entries SET amount_cents = amount_cents + 1`,
		`DELETE FROM ledger_entries`,
		`TRUNCATE ledger_entries`,
		`UPDATE ledger_transactions SET kind = 'refund'`,
		`DELETE FROM ledger_transactions`,
		`TRUNCATE ledger_transactions CASCADE`,
		`UPDATE payments SET gross_cents = 1`,
		`UPDATE payments SET worker_id = payer_id`,
		`DELETE FROM payments`,
		`TRUNCATE payments`,
		`ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only`,
		`DROP TRIGGER ledger_entries_append_only ON ledger_entries`,
		`DELETE FROM goose_db_version`,
		`CREATE TABLE ledger_copy (id int)`,
	} {
		_, err := e.s.Pool().Exec(ctx, stmt)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" {
			t.Errorf("%s as the serving role: %v, want permission denied (42501)", stmt, err)
		}
	}
	if e.count("ledger_entries") != entries || e.count("ledger_transactions") != txs || e.count("payments") != payments {
		t.Fatal("the serving role changed the ledger")
	}
	e.assertBalanced()
}

// TestSecurity_NULCharacterIs400: a NUL character in any string of a body answers 400
// naming the field, and nothing is written (PostgreSQL cannot store it: it was a 500).
func TestSecurity_NULCharacterIs400(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.customer("Rita Rider")
	const nul = "\u0000"
	e.refused(400, "name", "NUL", "POST", "/v1/members", adminToken, map[string]any{"name": "Ada" + nul, "email": "ada@example.org", "roles": []string{"worker"}, "stakeholderClass": "drivers"})
	e.refused(400, "roles[1]", "NUL", "POST", "/v1/members", adminToken, map[string]any{"name": "Ada", "email": "ada@example.org", "roles": []string{"worker", "x" + nul}, "stakeholderClass": "drivers"})
	e.refused(400, "phone", "NUL", "PATCH", fmt.Sprintf("/v1/members/%d", c.id), adminToken, map[string]any{"phone": nul})
	e.refused(400, "details.notes", "NUL", "POST", "/v1/work", c.token, map[string]any{"kind": "ride", "priceCents": 100,
		"details": map[string]string{"pickup": "a", "dropoff": "b", "notes": "gate" + nul}})
	e.refused(400, "title", "NUL", "POST", "/v1/proposals", c.token, map[string]any{"title": "t" + nul})
	// Escaped in the JSON text as clients send it.
	e.refused(400, "reason", "NUL", "POST", fmt.Sprintf("/v1/work/%d/cancel", num(e.must(201, "POST", "/v1/work", c.token, ride(100, 0))["id"])), c.token, `{"reason":"a\u0000b"}`)
}

// TestSecurity_UnknownMemberReferenceIs404: a reference to a member id that does not
// exist answers 404 naming the field (it was a 500 for payerId), and writes nothing.
func TestSecurity_UnknownMemberReferenceIs404(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.customer("Rita Rider")
	w := e.worker("Dan Driver")
	e.refused(404, "payerId", "no member with this id", "POST", "/v1/payments", adminToken, map[string]any{"workerId": w.id, "payerId": 987654, "amountCents": 10}, "Idempotency-Key", "k")
	e.refused(404, "workerId", "no worker with this id", "POST", "/v1/payments", adminToken, map[string]any{"workerId": 987654, "amountCents": 10}, "Idempotency-Key", "k")
	e.refused(404, "customerId", "no member with this id", "POST", "/v1/work", adminToken, map[string]any{"kind": "ride", "priceCents": 100, "customerId": 987654,
		"details": map[string]string{"pickup": "a", "dropoff": "b"}})
	e.refused(404, "delegateId", "no active member with this id", "PUT", "/v1/delegation", c.token, map[string]any{"delegateId": 987654})
	e.refused(404, "", "worker not found", "POST", "/v1/blocks", c.token, map[string]any{"workerId": 987654})
	e.refused(404, "", "member not found", "POST", "/v1/members/987654/tokens", adminToken, nil)
}

// TestSecurity_BlocksAndRatingsTellNoOneTheRoll: a customer blocks workers; a member who
// is not one (a customer, an erased worker) answers as an id nobody has, and so do their
// ratings: neither tells a member which ids are members. Nothing is written.
func TestSecurity_BlocksAndRatingsTellNoOneTheRoll(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c, other := e.customer("Rita Rider"), e.customer("Otto Other")
	gone := e.worker("Gus Driver")
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d", gone.id), gone.token, nil)
	for _, id := range []int64{other.id, gone.id, 987654} {
		e.refused(404, "", "worker not found", "POST", "/v1/blocks", c.token, map[string]any{"workerId": id})
		e.refused(404, "", "worker not found", "GET", fmt.Sprintf("/v1/members/%d/ratings", id), c.token, nil)
	}
}

// TestSecurity_DisbursementsAndDelegationsTellNoOneTheRoll: a member who asks a fund to
// pay a member id, or delegates their vote to one, is told the same of an id nobody has,
// of a deactivated member's and of an erased member's (404 naming the field, "no active
// member with this id"), and nothing is written; an amount the fund does not hold is
// refused first, whoever the id is, so neither the answers nor their order tell a member
// which ids are members (an amount too large was 409 for a member, 400 for a former one,
// 404 for nobody, and could be sent again and again). Staff are told which. A member
// still asks a fund for themselves.
func TestSecurity_DisbursementsAndDelegationsTellNoOneTheRoll(t *testing.T) {
	pol := withModel(t, "delegate", 50, 50)
	pol.Payments.StaffDisbursementLimitCents = 5000
	e := newEnv(t, pol)
	asker := e.worker("Ana Driver")
	e.must(201, "POST", "/v1/payments", adminToken, map[string]any{"workerId": asker.id, "amountCents": 1000000}, "Idempotency-Key", "feed")
	active, deactivated, erased := e.worker("Bo Driver"), e.worker("Cy Driver"), e.worker("Di Driver")
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", deactivated.id), adminToken, map[string]any{"active": false})
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d", erased.id), erased.token, nil)
	ask := func(member, cents int64) map[string]any {
		return map[string]any{"fund": "hardship", "amountCents": cents, "memberId": member, "reason": "rent"}
	}
	for _, id := range []int64{active.id, deactivated.id, erased.id, 987654} {
		e.refused(409, "amountCents", "the fund hardship holds 10000 cents", "POST", "/v1/disbursements", asker.token, ask(id, 900000000), "Idempotency-Key", newKey())
	}
	for _, id := range []int64{deactivated.id, erased.id, 987654} {
		e.refused(404, "memberId", "no active member with this id", "POST", "/v1/disbursements", asker.token, ask(id, 100), "Idempotency-Key", newKey())
		e.refused(404, "delegateId", "no active member with this id", "PUT", "/v1/delegation", asker.token, map[string]any{"delegateId": id})
	}
	// Staff are told which.
	e.refused(404, "memberId", "no member with this id", "POST", "/v1/disbursements", adminToken, ask(987654, 100), "Idempotency-Key", newKey())
	e.refused(400, "memberId", "no active member with this id", "POST", "/v1/disbursements", adminToken, ask(deactivated.id, 100), "Idempotency-Key", newKey())
	// A member asks for themselves: the members vote on it.
	if d := e.must(201, "POST", "/v1/disbursements", asker.token, ask(asker.id, 100), "Idempotency-Key", newKey()); d["status"] != "pending" {
		t.Fatalf("a member's request for themselves: %v", d)
	}
	e.must(200, "PUT", "/v1/delegation", asker.token, map[string]any{"delegateId": active.id})
}

// closedPortURL is a database URL on a loopback port nothing listens on.
func closedPortURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return fmt.Sprintf("postgresql://serving@127.0.0.1:%d/coop?sslmode=disable&connect_timeout=5", port)
}

// TestSecurity_DatabaseDownIs503: while the database cannot be reached, requests answer
// 503 with Retry-After (they answered 500), whether the token lookup or the handler
// meets the outage.
func TestSecurity_DatabaseDownIs503(t *testing.T) {
	s, err := New(Config{DatabaseURL: closedPortURL(t), AdminToken: adminToken, Policy: mustPolicy(t, ridePolicy), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e := &env{t: t, s: s, h: apiValidated(t, s.Handler())}
	for _, c := range []struct {
		method, path, token string
		body                any
	}{
		{"GET", "/v1/policy", "cpt_a-member-token", nil}, // the token lookup
		{"POST", "/v1/members", adminToken, map[string]any{"name": "Ada", "email": "ada@example.org", "roles": []string{"worker"}, "stakeholderClass": "drivers"}}, // the handler
		{"GET", "/v1/reports/funds", adminToken, nil},
		{"GET", "/readyz", "", nil},
	} {
		r := e.call(c.method, c.path, c.token, c.body)
		if r.status != 503 || r.header.Get("Retry-After") == "" {
			t.Errorf("%s %s with the database down: %d (Retry-After %q) %s", c.method, c.path, r.status, r.header.Get("Retry-After"), r.body)
		}
	}
}

// TestSecurity_DeactivationRevokesTokens: deactivating a member revokes all their tokens,
// and no new one is minted while they are inactive; reactivated, staff mint them one.
func TestSecurity_DeactivationRevokesTokens(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	m := e.customer("Rita Rider")
	second := e.must(201, "POST", fmt.Sprintf("/v1/members/%d/tokens", m.id), m.token, nil)["token"].(string)
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", m.id), adminToken, map[string]any{"active": false})
	for _, tok := range []string{m.token, second} {
		e.must(401, "GET", "/v1/policy", tok, nil)
		e.must(401, "POST", fmt.Sprintf("/v1/members/%d/tokens", m.id), tok, nil)
	}
	e.refused(409, "", "not active", "POST", fmt.Sprintf("/v1/members/%d/tokens", m.id), adminToken, nil)
	if got := e.must(200, "GET", fmt.Sprintf("/v1/members/%d/tokens", m.id), adminToken, nil)["tokens"].([]any); len(got) != 0 {
		t.Fatalf("an inactive member holds tokens %v", got)
	}
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", m.id), adminToken, map[string]any{"active": true})
	e.must(401, "GET", "/v1/policy", m.token, nil) // reactivation does not bring tokens back
	fresh := e.must(201, "POST", fmt.Sprintf("/v1/members/%d/tokens", m.id), adminToken, nil)["token"].(string)
	e.must(200, "GET", "/v1/policy", fresh, nil)
}

// TestSecurity_MembersListAndRevokeOwnTokens: a member lists their tokens (ids and dates,
// never a token or its hash) and revokes any of them; another member can do neither;
// staff can do both.
func TestSecurity_MembersListAndRevokeOwnTokens(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	m := e.customer("Rita Rider")
	o := e.customer("Omar Other")
	lost := e.must(201, "POST", fmt.Sprintf("/v1/members/%d/tokens", m.id), m.token, nil)
	lostID := num(lost["id"])
	path := fmt.Sprintf("/v1/members/%d/tokens", m.id)
	r := e.call("GET", path, m.token, nil)
	if r.status != 200 || strings.Contains(string(r.body), "cpt_") || strings.Contains(strings.ToLower(string(r.body)), "hash") {
		t.Fatalf("list %d %s", r.status, r.body)
	}
	toks := r.json()["tokens"].([]any)
	if len(toks) != 2 || toks[0].(map[string]any)["current"] != true || toks[1].(map[string]any)["current"] != false || num(toks[1].(map[string]any)["id"]) != lostID {
		t.Fatalf("tokens %v", toks)
	}
	e.refused(403, "", "their own data", "GET", path, o.token, nil)
	e.refused(403, "", "their own data", "DELETE", fmt.Sprintf("%s/%d", path, lostID), o.token, nil)
	e.refused(404, "", "token not found", "DELETE", fmt.Sprintf("/v1/members/%d/tokens/%d", o.id, lostID), o.token, nil) // not o's token
	e.must(200, "DELETE", fmt.Sprintf("%s/%d", path, lostID), m.token, nil)
	e.must(401, "GET", "/v1/policy", lost["token"].(string), nil)
	e.must(200, "GET", "/v1/policy", m.token, nil)
	e.refused(404, "", "token not found", "DELETE", fmt.Sprintf("%s/%d", path, lostID), m.token, nil)
	// Staff list and revoke for a member; a member may revoke the token in use.
	toks = e.must(200, "GET", path, adminToken, nil)["tokens"].([]any)
	if len(toks) != 1 || toks[0].(map[string]any)["current"] != false {
		t.Fatalf("staff's list %v", toks)
	}
	e.must(200, "DELETE", fmt.Sprintf("%s/%d", path, num(toks[0].(map[string]any)["id"])), m.token, nil)
	e.must(401, "GET", "/v1/policy", m.token, nil)
}

// TestSecurity_ServerTimeoutsAndHeaderLimit: the HTTP servers bound how long a client may
// take to send its request and read the answer, and the size of its headers.
func TestSecurity_ServerTimeoutsAndHeaderLimit(t *testing.T) {
	srv := httpServer(context.Background(), http.NotFoundHandler())
	if srv.ReadHeaderTimeout != readHeaderTimeout || srv.ReadTimeout != readTimeout || srv.WriteTimeout != writeTimeout ||
		srv.IdleTimeout != idleTimeout || srv.MaxHeaderBytes != maxHeaderBytes {
		t.Fatalf("server %+v", srv)
	}
	for name, d := range map[string]time.Duration{"ReadHeaderTimeout": readHeaderTimeout, "ReadTimeout": readTimeout, "WriteTimeout": writeTimeout, "IdleTimeout": idleTimeout} {
		if d <= 0 {
			t.Errorf("%s is not set", name)
		}
	}
	e := newEnv(t, mustPolicy(t, ridePolicy))
	api, _ := serve(t, e.s)
	req, _ := http.NewRequest("GET", api+"/healthz", nil)
	req.Header.Set("X-Padding", strings.Repeat("a", 2*maxHeaderBytes))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("headers of %d bytes: %d", 2*maxHeaderBytes, resp.StatusCode)
	}
}

// serve runs s on two loopback listeners (the API and the metrics) until the test ends
// and returns their base URLs.
func serve(t *testing.T, s *Server) (api, metrics string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, mln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return "http://" + ln.Addr().String(), "http://" + mln.Addr().String()
}

// TestSecurity_RateLimitPerClient: each member, and each remote address before
// authentication, has a request budget; over it the answer is 429 with Retry-After, and
// other clients are not affected.
func TestSecurity_RateLimitPerClient(t *testing.T) {
	e := newEnvWith(t, Config{Policy: mustPolicy(t, ridePolicy), RateLimit: 1, RateBurst: 3})
	a, b := e.customer("Ann"), e.customer("Bob") // staff's budget: 2 of 3 used
	now := time.Now()
	e.s.limits.now = func() time.Time { return now } // no refill while the test runs
	from := func(ip, token, path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		req.RemoteAddr = ip + ":40000"
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		return rec
	}
	for i := range 3 {
		if r := from("192.0.2.1", a.token, "/v1/policy"); r.Code != 200 {
			t.Fatalf("Ann's request %d: %d", i, r.Code)
		}
	}
	r := from("192.0.2.1", a.token, "/v1/policy")
	if r.Code != 429 || r.Header().Get("Retry-After") != "1" || !strings.Contains(r.Body.String(), "too many requests") {
		t.Fatalf("Ann over her budget: %d %q %s", r.Code, r.Header().Get("Retry-After"), r.Body)
	}
	// Another member from the same address, and Ann from another, are their own clients.
	if r := from("192.0.2.1", b.token, "/v1/policy"); r.Code != 200 {
		t.Fatalf("Bob: %d", r.Code)
	}
	if r := from("192.0.2.9", a.token, "/v1/policy"); r.Code != 429 {
		t.Fatalf("Ann from another address: %d, want her own budget spent", r.Code)
	}
	// Unauthenticated: per address, the public routes have a budget, and unknown tokens one
	// of their own (lookUpCredential).
	for i := range 3 {
		if r := from("198.51.100.7", "", "/openapi.yaml"); r.Code != 200 {
			t.Fatalf("anonymous request %d: %d", i, r.Code)
		}
	}
	if r := from("198.51.100.7", "", "/openapi.yaml"); r.Code != 429 {
		t.Fatalf("a public read over the address's budget: %d", r.Code)
	}
	for i := range 3 {
		if r := from("198.51.100.7", "cpt_guess", "/v1/policy"); r.Code != 401 {
			t.Fatalf("guessed token %d, the address's public budget spent: %d", i, r.Code)
		}
	}
	if r := from("198.51.100.7", "cpt_guess", "/v1/policy"); r.Code != 429 {
		t.Fatalf("a guessed token over the address's budget: %d", r.Code)
	}
	if r := from("198.51.100.8", "cpt_guess", "/v1/policy"); r.Code != 401 {
		t.Fatalf("a guessed token from a fresh address: %d", r.Code)
	}
	// The probes are never limited.
	for range 5 {
		if r := from("198.51.100.7", "", "/healthz"); r.Code != 200 {
			t.Fatalf("healthz limited: %d", r.Code)
		}
	}
	// A second later, one more request.
	now = now.Add(time.Second)
	if r := from("192.0.2.1", a.token, "/v1/policy"); r.Code != 200 {
		t.Fatalf("Ann a second later: %d", r.Code)
	}
}

// TestSecurity_RateLimitPerClientBehindTheIngress: behind the ingress controller every
// request comes from its address; with the controller among the trusted proxies, the
// limits before sign-in are per client it forwards for (X-Forwarded-For), API and app
// alike, so one client over its budget does not lock every other out of the sign-in.
// A client cannot choose its address by writing the header itself: only what the trusted
// proxy appended counts, and a direct client's header is not read.
func TestSecurity_RateLimitPerClientBehindTheIngress(t *testing.T) {
	e := newEnvWith(t, Config{Policy: mustPolicy(t, ridePolicy), RateLimit: 1, RateBurst: 2,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	now := time.Now()
	e.s.limits.now = func() time.Time { return now } // no refill while the test runs
	web := e.s.Handler()
	from := func(h http.Handler, peer, forwarded, path string) int {
		method := "GET"
		if path == "/app/sign-in" {
			method = "POST" // a sign-in (without its form's token: 403 once counted)
		}
		req := httptest.NewRequest(method, path, nil)
		req.RemoteAddr = peer + ":40000"
		if forwarded != "" {
			req.Header.Set("X-Forwarded-For", forwarded)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	const ingress = "10.4.0.12"
	for i := range 2 {
		if code := from(e.h, ingress, "203.0.113.5", "/openapi.yaml"); code != 200 {
			t.Fatalf("client 203.0.113.5, request %d: %d", i, code)
		}
		if code := from(web, ingress, "203.0.113.5", "/app/sign-in"); code != http.StatusForbidden {
			t.Fatalf("client 203.0.113.5, sign-in %d: %d", i, code)
		}
	}
	if code := from(web, ingress, "203.0.113.5", "/app/sign-in"); code != http.StatusTooManyRequests {
		t.Fatalf("client 203.0.113.5 over its budget, at the app's sign-in: %d, want 429", code)
	}
	// Another client through the same controller has its own budget; writing a header
	// of its own that names another address changes nothing.
	if code := from(web, ingress, "203.0.113.6", "/app/sign-in"); code != http.StatusForbidden {
		t.Fatalf("client 203.0.113.6 through the same controller: %d", code)
	}
	if code := from(e.h, ingress, "198.51.100.1, 203.0.113.5", "/openapi.yaml"); code != http.StatusTooManyRequests {
		t.Fatalf("client 203.0.113.5 naming another address in its own header: %d, want 429", code)
	}
	// A client that reaches the service directly is known by its own address.
	for i := range 2 {
		if code := from(e.h, "192.0.2.44", "", "/openapi.yaml"); code != 200 {
			t.Fatalf("direct client, request %d: %d", i, code)
		}
	}
	if code := from(e.h, "192.0.2.44", "198.51.100.77", "/openapi.yaml"); code != http.StatusTooManyRequests {
		t.Fatalf("a direct client's own X-Forwarded-For was read: %d, want 429", code)
	}
}

// sendFrom sends a request to h as it reaches the service from peer (the ingress
// controller's address, say): a form when form is not nil, with a bearer token when token
// is not empty, and the cookies given.
func sendFrom(h http.Handler, peer, method, path string, form url.Values, token string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	req.RemoteAddr = peer + ":40000"
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// cookieOf is the cookie an answer sets by that name, nil when none.
func cookieOf(rec *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signInFrom signs a browser at peer in to the members' app with code, through the form,
// and returns its session cookie; it fails the test on any refusal.
func signInFrom(t *testing.T, h http.Handler, peer, code string) *http.Cookie {
	t.Helper()
	form := sendFrom(h, peer, "GET", "/app/sign-in", nil, "")
	m := csrfField.FindStringSubmatch(form.Body.String())
	csrf := cookieOf(form, "__Host-coop_csrf")
	if form.Code != http.StatusOK || m == nil || csrf == nil {
		t.Fatalf("the sign-in form: %d (CSRF cookie %v)", form.Code, csrf)
	}
	post := sendFrom(h, peer, "POST", "/app/sign-in", url.Values{"csrf": {m[1]}, "code": {code}}, "", csrf)
	session := cookieOf(post, "__Host-coop_session")
	if post.Code != http.StatusSeeOther || post.Header().Get("Location") != "/app/home" || session == nil {
		t.Fatalf("the sign-in: %d to %q, Retry-After %q", post.Code, post.Header().Get("Location"), post.Header().Get("Retry-After"))
	}
	return session
}

// TestSecurity_PublicReadsDoNotLockOutSignIn: without trusted proxies every request
// through the ingress controller comes from its address, and one client reading a public
// route over the budget (GET /openapi.yaml, about 25 a second) is refused. Members still
// sign in: the sign-in form and the way to it cost no query and are not counted, the
// sign-ins have a budget of their own, and so do the member tokens the API looks up. A
// flood of sign-ins is refused in turn. Before, all of these shared one budget, and the
// reads kept every member from signing in (429).
func TestSecurity_PublicReadsDoNotLockOutSignIn(t *testing.T) {
	e := newEnvWith(t, Config{Policy: mustPolicy(t, ridePolicy), RateLimit: 1, RateBurst: 3})
	ann := e.customer("Ann")
	code := e.must(http.StatusCreated, "POST", fmt.Sprintf("/v1/members/%d/sign-in-codes", ann.id), adminToken, nil)["code"].(string)
	now := time.Now()
	e.s.limits.now = func() time.Time { return now } // no refill while the test runs
	h := e.s.Handler()
	const ingress = "10.4.0.12"
	refused := 0
	for range 25 {
		if sendFrom(h, ingress, "GET", "/openapi.yaml", nil, "").Code == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused != 25-3 {
		t.Fatalf("%d of 25 public reads refused, want all but the burst of 3", refused)
	}
	for _, path := range []string{"/app/", "/app/home"} {
		if r := sendFrom(h, ingress, "GET", path, nil, ""); r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Header().Get("Location"), "/app/sign-in") {
			t.Fatalf("GET %s without a session, after the reads: %d to %q, want the way to the sign-in form", path, r.Code, r.Header().Get("Location"))
		}
	}
	session := signInFrom(t, h, ingress, code)
	if r := sendFrom(h, ingress, "GET", "/app/home", nil, "", session); r.Code != http.StatusOK {
		t.Fatalf("the member's home page: %d", r.Code)
	}
	if r := sendFrom(h, ingress, "GET", "/v1/policy", nil, ann.token); r.Code != http.StatusOK {
		t.Fatalf("the API with the member's token, after the reads: %d", r.Code)
	}
	// Sign-ins flooding in are refused once past their own budget (Ann's took one).
	form := sendFrom(h, ingress, "GET", "/app/sign-in", nil, "")
	guess := url.Values{"csrf": {csrfField.FindStringSubmatch(form.Body.String())[1]}, "code": {"ABCDE-FGHJK"}}
	for i := range 2 {
		if r := sendFrom(h, ingress, "POST", "/app/sign-in", guess, "", cookieOf(form, "__Host-coop_csrf")); r.Code != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: %d, want 401", i, r.Code)
		}
	}
	r := sendFrom(h, ingress, "POST", "/app/sign-in", guess, "", cookieOf(form, "__Host-coop_csrf"))
	if r.Code != http.StatusTooManyRequests || r.Header().Get("Retry-After") != "1" {
		t.Fatalf("a sign-in over the sign-ins' budget: %d (Retry-After %q), want 429", r.Code, r.Header().Get("Retry-After"))
	}
}

// TestSecurity_MadeUpCredentialsCostNoQueryEach: bearer tokens and session cookies that
// are not known to be valid take from their address's budget of credentials before their
// lookup. A flood of made-up ones from one address costs that budget's queries (3), then
// is refused (429) without a query, the API's tokens and the app's sessions alike. A
// token or session found valid before is looked up whatever its address's budget (the
// member's own limit applies as before); one not looked up yet waits with the made-up
// ones, and gives back what it took once found. Before, every made-up credential cost a
// query of the small pool (counted here by its acquisitions).
// TestSecurity_AbandonedLookupsStayCounted: a made-up credential whose client goes away
// during its lookup keeps what it took from its address's budget (its query ran): else
// closing each request early would make made-up credentials free.
func TestSecurity_AbandonedLookupsStayCounted(t *testing.T) {
	e := newEnvWith(t, Config{Policy: mustPolicy(t, ridePolicy), RateLimit: 1, RateBurst: 3})
	now := time.Now()
	e.s.limits.now = func() time.Time { return now } // no refill
	h := e.s.Handler()
	const ingress = "10.4.0.13"
	for i := range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // gone before its lookup ends
		req := httptest.NewRequestWithContext(ctx, "GET", "/v1/policy", nil)
		req.RemoteAddr = ingress + ":40000"
		req.Header.Set("Authorization", fmt.Sprintf("Bearer cpt_abandoned%d", i))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK || rec.Code == http.StatusTooManyRequests {
			t.Fatalf("abandoned made-up token %d: %d", i, rec.Code)
		}
	}
	if r := sendFrom(h, ingress, "GET", "/v1/policy", nil, "cpt_madeup"); r.Code != http.StatusTooManyRequests {
		t.Fatalf("a made-up token after three abandoned lookups: %d, want 429 (they spent the budget)", r.Code)
	}
}

func TestSecurity_MadeUpCredentialsCostNoQueryEach(t *testing.T) {
	e := newEnvWith(t, Config{Policy: mustPolicy(t, ridePolicy), RateLimit: 1, RateBurst: 3})
	ann, bob, cy := e.customer("Ann"), e.customer("Bob"), e.customer("Cy")
	// Staff's budget is spent: Cy asks for her code herself.
	code := e.must(http.StatusCreated, "POST", fmt.Sprintf("/v1/members/%d/sign-in-codes", cy.id), cy.token, nil)["code"].(string)
	h := e.s.Handler()
	session := signInFrom(t, h, "192.0.2.50", code)
	const ingress = "10.4.0.12"
	if r := sendFrom(h, ingress, "GET", "/v1/policy", nil, ann.token); r.Code != http.StatusOK {
		t.Fatalf("Ann's token before the flood: %d", r.Code)
	}
	if r := sendFrom(h, ingress, "GET", "/app/home", nil, "", session); r.Code != http.StatusOK {
		t.Fatalf("Cy's session before the flood: %d", r.Code)
	}
	now := time.Now()
	e.s.limits.now = func() time.Time { return now } // no refill until the test moves it

	before := e.s.Pool().Stat().AcquireCount()
	for i := range 50 {
		want := http.StatusTooManyRequests
		if i < 3 {
			want = http.StatusUnauthorized
		}
		r := sendFrom(h, ingress, "GET", "/v1/policy", nil, fmt.Sprintf("cpt_madeup%d", i))
		if r.Code != want || (want == http.StatusTooManyRequests && r.Header().Get("Retry-After") != "1") {
			t.Fatalf("made-up token %d: %d (Retry-After %q), want %d", i, r.Code, r.Header().Get("Retry-After"), want)
		}
	}
	for i := range 50 {
		made := &http.Cookie{Name: "__Host-coop_session", Value: fmt.Sprintf("madeup%d", i)}
		if r := sendFrom(h, ingress, "GET", "/app/home", nil, "", made); r.Code != http.StatusTooManyRequests || r.Header().Get("Retry-After") != "1" {
			t.Fatalf("made-up session %d: %d (Retry-After %q), want 429", i, r.Code, r.Header().Get("Retry-After"))
		}
	}
	if n := e.s.Pool().Stat().AcquireCount() - before; n != 3 {
		t.Fatalf("100 made-up credentials cost %d queries, want 3 (the address's budget)", n)
	}
	// Ann's token and Cy's session, found valid before, still serve; so does the sign-in
	// form to a browser whose made-up session is not read.
	if r := sendFrom(h, ingress, "GET", "/v1/policy", nil, ann.token); r.Code != http.StatusOK {
		t.Fatalf("Ann's token during the flood: %d", r.Code)
	}
	if r := sendFrom(h, ingress, "GET", "/app/home", nil, "", session); r.Code != http.StatusOK {
		t.Fatalf("Cy's session during the flood: %d", r.Code)
	}
	if r := sendFrom(h, ingress, "GET", "/app/sign-in", nil, "", &http.Cookie{Name: "__Host-coop_session", Value: "madeup"}); r.Code != http.StatusOK {
		t.Fatalf("the sign-in form with a made-up session during the flood: %d", r.Code)
	}
	// Bob's token, never looked up, waits like the made-up ones; a second later it is
	// found, and gives back what it took: the one request the budget regained is left for
	// the next unknown token.
	if r := sendFrom(h, ingress, "GET", "/v1/policy", nil, bob.token); r.Code != http.StatusTooManyRequests {
		t.Fatalf("Bob's token, not looked up yet, during the flood: %d, want 429", r.Code)
	}
	now = now.Add(time.Second)
	if r := sendFrom(h, ingress, "GET", "/v1/policy", nil, bob.token); r.Code != http.StatusOK {
		t.Fatalf("Bob's token a second later: %d", r.Code)
	}
	if r := sendFrom(h, ingress, "GET", "/v1/policy", nil, "cpt_madeup"); r.Code != http.StatusUnauthorized {
		t.Fatalf("a made-up token after Bob's lookup: %d, want 401 (Bob's lookup gave back its request)", r.Code)
	}
	if r := sendFrom(h, ingress, "GET", "/v1/policy", nil, "cpt_madeup"); r.Code != http.StatusTooManyRequests {
		t.Fatalf("the next made-up token: %d, want 429", r.Code)
	}
	// A token revoked after it was found valid is no longer known: counted, then refused.
	e.must(http.StatusOK, "PATCH", fmt.Sprintf("/v1/members/%d", ann.id), adminToken, map[string]any{"active": false})
	if r := sendFrom(h, ingress, "GET", "/v1/policy", nil, ann.token); r.Code != http.StatusUnauthorized {
		t.Fatalf("Ann's token once she is deactivated: %d, want 401", r.Code)
	}
	if r := sendFrom(h, ingress, "GET", "/v1/policy", nil, ann.token); r.Code != http.StatusTooManyRequests {
		t.Fatalf("Ann's revoked token again: %d, want 429", r.Code)
	}
}

// TestSecurity_SignInDuringAFloodOfMadeUpSessions: while made-up session cookies keep the
// address's budget of credentials spent (every member behind the ingress controller
// shares it without trusted proxies), a member who signs in is served: the sign-in
// opened their session, so it is known to be valid and not refused with the made-up ones.
func TestSecurity_SignInDuringAFloodOfMadeUpSessions(t *testing.T) {
	e := newEnvWith(t, Config{Policy: mustPolicy(t, ridePolicy), RateLimit: 1, RateBurst: 3})
	dee := e.customer("Dee")
	code := e.must(http.StatusCreated, "POST", fmt.Sprintf("/v1/members/%d/sign-in-codes", dee.id), adminToken, nil)["code"].(string)
	now := time.Now()
	e.s.limits.now = func() time.Time { return now } // no refill while the test runs
	h := e.s.Handler()
	const ingress = "10.4.0.12"
	for i := range 10 {
		want := http.StatusTooManyRequests
		if i < 3 {
			want = http.StatusSeeOther
		}
		made := &http.Cookie{Name: "__Host-coop_session", Value: fmt.Sprintf("madeup%d", i)}
		if r := sendFrom(h, ingress, "GET", "/app/home", nil, "", made); r.Code != want {
			t.Fatalf("made-up session %d: %d, want %d", i, r.Code, want)
		}
	}
	session := signInFrom(t, h, ingress, code)
	if r := sendFrom(h, ingress, "GET", "/app/home", nil, "", session); r.Code != http.StatusOK {
		t.Fatalf("the home page of a member who just signed in, during the flood: %d (Retry-After %q), want 200", r.Code, r.Header().Get("Retry-After"))
	}
}

// TestServeSaysWhenNoProxyIsTrusted: at start-up the service says once, without any
// address, that it trusts no proxy (so behind the ingress controller every client shares
// its budgets), and names the setting; with trusted proxies it says nothing of the kind.
func TestServeSaysWhenNoProxyIsTrusted(t *testing.T) {
	for _, proxies := range [][]netip.Prefix{nil, {netip.MustParsePrefix("10.0.0.0/8")}} {
		var logs syncBuffer
		e := newEnvWith(t, Config{Policy: mustPolicy(t, ridePolicy), TrustedProxies: proxies, RateLimit: 20, RateBurst: 40,
			Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel() // Serve starts, logs, and stops at once
		if err := e.s.Serve(ctx, ln, nil); err != nil {
			t.Fatal(err)
		}
		n := strings.Count(logs.String(), `"msg":"no trusted proxies (TRUSTED_PROXIES, the hub's ingressProxies)`)
		if want := map[bool]int{true: 1, false: 0}[len(proxies) == 0]; n != want {
			t.Errorf("trusted proxies %v: the warning logged %d times, want %d:\n%s", proxies, n, want, logs.String())
		}
	}
}

// TestSecurity_RateLimitTracksBoundedClients: the limiter keeps at most maxClients
// buckets, however many addresses send requests: idle buckets go, then the least recently
// seen makes room. A flood of addresses never gets anyone else refused: a member it
// pushed out comes back with a full budget, and a client still tracked keeps its own.
func TestSecurity_RateLimitTracksBoundedClients(t *testing.T) {
	l := newLimiter(1, 2)
	l.maxClients = 3
	t0 := time.Now()
	now := t0
	l.now = func() time.Time { return now }
	allow := func(client string) bool {
		t.Helper()
		ok, _ := l.allow(client)
		if len(l.clients) > l.maxClients || l.order.Len() != len(l.clients) {
			t.Fatalf("after %s: %d clients tracked (%d in order), over the cap of %d", client, len(l.clients), l.order.Len(), l.maxClients)
		}
		return ok
	}
	allow("ip:a")
	now = t0.Add(30 * time.Second)
	allow("ip:b")
	// Ten minutes and a second after its request, a is idle: forgotten.
	now = t0.Add(limiterIdle + time.Second)
	allow("ip:b")
	if _, ok := l.clients["ip:a"]; ok {
		t.Fatal("ip:a, idle, was not forgotten")
	}

	// A member spends its budget; a client tracked beside it does not reset it.
	for i := range 2 {
		if !allow("member:1") {
			t.Fatalf("the member's request %d refused", i)
		}
	}
	allow("ip:c")
	if allow("member:1") {
		t.Fatal("the member over its budget was allowed while it was still tracked")
	}

	// A flood of new addresses: the map stays at the cap, each new address has its own
	// budget, and the member pushed out is not refused when it comes back.
	for i := range 1000 {
		if !allow(fmt.Sprintf("ip:flood-%d", i)) {
			t.Fatalf("new address %d refused: a flood must not spend others' budgets", i)
		}
	}
	if _, ok := l.clients["member:1"]; ok {
		t.Fatal("the member, least recently seen, was not the one to make room")
	}
	for i := range 2 {
		if !allow("member:1") {
			t.Fatalf("the member, back after the flood, refused at request %d", i)
		}
	}
	if allow("member:1") {
		t.Fatal("the member over its new budget was allowed")
	}
	if got := len(l.clients); got != 3 {
		t.Fatalf("%d clients tracked, want 3", got)
	}
}

// TestSecurity_NamesLimitedInCharacters: length limits count characters, not bytes: a
// name of 200 accented letters (400 bytes) is accepted, 201 are not.
func TestSecurity_NamesLimitedInCharacters(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	member := func(name, email string) map[string]any {
		return map[string]any{"name": name, "email": email, "roles": []string{"customer"}, "stakeholderClass": "riders"}
	}
	e.must(201, "POST", "/v1/members", adminToken, member(strings.Repeat("é", 200), "e200@example.org"))
	e.refused(400, "name", "at most 200 characters", "POST", "/v1/members", adminToken, member(strings.Repeat("é", 201), "e201@example.org"))
	c := e.customer("Rita Rider")
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", c.id), adminToken, map[string]any{"phone": strings.Repeat("٣", 40)})
	id := num(e.must(201, "POST", "/v1/work", c.token, map[string]any{"kind": "ride", "priceCents": 100,
		"details": map[string]string{"pickup": "a", "dropoff": "b", "notes": strings.Repeat("ü", 1000)}})["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", id), c.token, map[string]any{"reason": strings.Repeat("ß", 500)})
}

// TestSecurity_DuplicateEmailNotInDatabaseLog: a duplicate email answers 409 without
// PostgreSQL ever refusing it, so the address is not written to the server's log (a
// unique violation logs the key in its DETAIL line, as the control shows).
func TestSecurity_DuplicateEmailNotInDatabaseLog(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	ctx := context.Background()
	var dataDir string
	if err := e.owner.QueryRow(ctx, `SELECT current_setting('data_directory')`).Scan(&dataDir); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(filepath.Dir(dataDir), "server.log") // test/pgtest's server log
	member := func(email string) map[string]any {
		return map[string]any{"name": "Dee Dupe", "email": email, "roles": []string{"customer"}, "stakeholderClass": "riders"}
	}
	secret := fmt.Sprintf("dee.secret.%d@example.org", time.Now().UnixNano())
	first := e.must(201, "POST", "/v1/members", adminToken, member(secret))
	e.refused(409, "email", "already exists", "POST", "/v1/members", adminToken, member(strings.ToUpper(secret)))
	other := e.customer("Omar Other")
	e.refused(409, "email", "already exists", "PATCH", fmt.Sprintf("/v1/members/%d", other.id), adminToken, map[string]any{"email": secret})
	// Concurrent duplicates: one is created, the others answer 409.
	race := fmt.Sprintf("race.secret.%d@example.org", time.Now().UnixNano())
	var wg sync.WaitGroup
	statuses := make(chan int, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- e.call("POST", "/v1/members", adminToken, member(race)).status
		}()
	}
	wg.Wait()
	close(statuses)
	created := 0
	for s := range statuses {
		switch s {
		case 201:
			created++
		case 409:
		default:
			t.Errorf("concurrent duplicate answered %d", s)
		}
	}
	if created != 1 {
		t.Fatalf("%d members created with one address", created)
	}
	// The member may keep their own address.
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", num(first["member"].(map[string]any)["id"])), adminToken, map[string]any{"email": secret})

	// Control: the log does record a unique violation's key.
	control := fmt.Sprintf("control.%d@example.org", time.Now().UnixNano())
	for range 2 {
		_, _ = e.owner.Exec(ctx, `INSERT INTO members (name, email, roles) VALUES ('c', $1, '{customer}')`, control)
	}
	log := readFile(t, logFile)
	if !strings.Contains(log, control) {
		t.Fatalf("the control's address is not in %s: the test cannot see what the log records", logFile)
	}
	for _, addr := range []string{secret, strings.ToUpper(secret), race} {
		if strings.Contains(log, addr) {
			t.Errorf("the database log holds %s", addr)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSecurity_MetricsOnlyOnMetricsPort: /metrics is served on the metrics listener (the
// port named metrics, which the Ingress does not route to) and not on the API's; the
// metrics port serves nothing else.
func TestSecurity_MetricsOnlyOnMetricsPort(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	api, metrics := serve(t, e.s)
	get := func(url string) (int, string) {
		t.Helper()
		client := http.DefaultClient // the metrics port is not the API's
		if strings.HasPrefix(url, api) {
			client = apiClient(t)
		}
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get(api + "/healthz"); code != 200 {
		t.Fatalf("api healthz %d", code)
	}
	if code, body := get(api + "/metrics"); code != 404 || strings.Contains(body, "cooperator_platform") {
		t.Fatalf("the API port serves metrics: %d %s", code, body)
	}
	code, body := get(metrics + "/metrics")
	if code != 200 || !strings.Contains(body, `cooperator_platform_http_requests_total{code="200",method="GET",route="/healthz"} 1`) {
		t.Fatalf("metrics port: %d %s", code, body)
	}
	for _, path := range []string{"/healthz", "/v1/policy", "/openapi.yaml"} {
		if code, _ := get(metrics + path); code != 404 {
			t.Errorf("the metrics port serves %s: %d", path, code)
		}
	}
}

// TestSecurity_MethodsDoNotGrowTheMetrics: a client may send any token as a request's
// method; the requests metric counts those as OTHER, so that nobody can add series to the
// pod's memory and to Prometheus at will.
func TestSecurity_MethodsDoNotGrowTheMetrics(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	api, metrics := serve(t, e.s)
	client := apiClient(t)
	for i := range 20 {
		req, err := http.NewRequestWithContext(t.Context(), fmt.Sprintf("X%dMADEUP", i), api+"/app/home", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	resp, err := http.Get(metrics + "/metrics") //nolint:noctx // a test's local server
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(b), "MADEUP") {
		t.Errorf("a made-up method became a label of the metrics")
	}
	if !strings.Contains(string(b), `method="OTHER",route="/app/"} 20`) {
		t.Errorf("the made-up methods are not counted as OTHER:\n%s", b)
	}
}

// TestSecurity_DatabaseRefusalsClassified: what PostgreSQL refuses because of a request
// answers 4xx, a database out of reach 503 with Retry-After; the rest stays a 500.
func TestSecurity_DatabaseRefusalsClassified(t *testing.T) {
	s := &Server{log: quietLogger()}
	for _, c := range []struct {
		err    error
		status int
		field  string
		retry  int
	}{
		{&pgconn.PgError{Code: "23503", Message: `insert or update on table "payments" violates foreign key constraint "payments_payer_id_fkey"`,
			TableName: "payments", ConstraintName: "payments_payer_id_fkey"}, 404, "payerId", 0},
		{&pgconn.PgError{Code: "23503", Message: `insert or update on table "work_items" violates foreign key constraint "work_items_customer_id_fkey"`,
			TableName: "work_items", ConstraintName: "work_items_customer_id_fkey"}, 404, "customerId", 0},
		{&pgconn.PgError{Code: "22P05", Message: `unsupported Unicode escape sequence`}, 400, "", 0},
		{&pgconn.PgError{Code: "22021", Message: `invalid byte sequence for encoding "UTF8": 0x00`}, 400, "", 0},
		{&pgconn.PgError{Code: "40001"}, 409, "", 0},
		// A check the API let through (an exception shorter than the microsecond the
		// database keeps was one) is the request's, not the server's.
		{&pgconn.PgError{Code: "23514", Message: `new row for relation "availability_exceptions" violates check constraint "availability_exceptions_check"`,
			TableName: "availability_exceptions", ConstraintName: "availability_exceptions_check"}, 400, "", 0},
		// One the database's own functions raise (the ledger's balance, the vote's rules)
		// names no constraint: the service's failure, not the client's.
		{&pgconn.PgError{Code: "23514", Message: "ledger transaction 7 does not balance"}, 500, "", 0},
		{&pgconn.PgError{Code: "23514", Message: "proposal 3 is closed"}, 500, "", 0},
		{&pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, 503, "", unavailableRetry},
		{&pgconn.PgError{Code: "08006"}, 503, "", unavailableRetry},
		{fmt.Errorf("querying: %w", &net.OpError{Op: "dial", Err: errors.New("connection refused")}), 503, "", unavailableRetry},
		{&pgconn.PgError{Code: "23503", Message: `update or delete on table "members" violates foreign key constraint`}, 500, "", 0},
		{errors.New("something else"), 500, "", 0},
	} {
		ae := s.classify(c.err)
		if ae.status != c.status || ae.field != c.field || ae.retryAfter != c.retry {
			t.Errorf("%v: %+v, want %d %q retry %d", c.err, ae, c.status, c.field, c.retry)
		}
	}
}

// TestSecurity_StaffMoveMoneyOnlyWithinTheirLimit: the admin token moves at most the
// policy's payments.staffLimitCents at a time, whichever way the money moves: work it
// completes for its worker (staff could otherwise request work on a customer's behalf,
// accept and complete it, and pay any amount), a milestone it accepts for its client, a
// payment it refunds. The worker completes their own work and refunds a payment to them
// whatever its size; its payer may not refund it, nor may another member. A refusal
// writes nothing.
func TestSecurity_StaffMoveMoneyOnlyWithinTheirLimit(t *testing.T) {
	pol := mustPolicy(t, ridePolicy)
	pol.Payments.StaffLimitCents = 5000
	e := newEnv(t, pol)
	c, other := e.customer("Rita Rider"), e.customer("Otto Other")
	w := e.worker("Dan Driver")
	requested := func(price int64) int64 {
		t.Helper()
		id := num(e.must(201, "POST", "/v1/work", adminToken, map[string]any{"customerId": c.id, "kind": "ride",
			"details": map[string]string{"pickup": "Place Bellecour", "dropoff": "Part-Dieu"}, "priceCents": price})["id"])
		e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), adminToken, nil)
		e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", id), adminToken, nil)
		e.must(200, "POST", fmt.Sprintf("/v1/work/%d/start", id), adminToken, nil)
		return id
	}

	// Completing work records its payment: staff complete it within their limit only.
	big := requested(8000)
	e.refused(403, "priceCents", "staff complete work of at most 5000 cents (the policy's payments.staffLimitCents); this one is 8000 cents: its worker completes it",
		"POST", fmt.Sprintf("/v1/work/%d/complete", big), adminToken, nil)
	bigPay := num(e.must(200, "POST", fmt.Sprintf("/v1/work/%d/complete", big), w.token, nil)["paymentId"])
	small := requested(5000)
	smallPay := num(e.must(200, "POST", fmt.Sprintf("/v1/work/%d/complete", small), adminToken, nil)["paymentId"])

	// A refund takes back what the worker was paid: theirs to give, staff's within the limit.
	refund := func(id int64) string { return fmt.Sprintf("/v1/payments/%d/refund", id) }
	// Above the limit, and for its payer, the refund is the members' to vote on
	// (TestRefundByVote): without a reason it is refused, and nothing is written.
	e.refused(400, "reason", "the members vote on a refund above staff's limit of 5000 cents", "POST", refund(bigPay), adminToken, nil)
	e.refused(400, "reason", "the members vote on a refund its payer asks for", "POST", refund(bigPay), c.token, nil)
	e.refused(404, "", "payment", "POST", refund(bigPay), other.token, nil)
	if r := e.must(200, "POST", refund(bigPay), w.token, nil); r["refunded"] != true || r["refundedBy"] != "worker" {
		t.Fatalf("the worker's refund: %v", r)
	}
	e.refused(409, "", "already been refunded", "POST", refund(bigPay), w.token, nil)
	if r := e.must(200, "POST", refund(smallPay), adminToken, nil); r["refundedBy"] != "staff" {
		t.Fatalf("staff's refund: %v", r)
	}
	if r := e.must(200, "GET", fmt.Sprintf("/v1/payments/%d", bigPay), c.token, nil); r["refundedBy"] != "worker" {
		t.Fatalf("the payer reads the worker's refund as %v", r)
	}
	if b := e.balance(fmt.Sprintf("member:%d", w.id)); b != 0 {
		t.Fatalf("the worker's balance after both refunds: %d", b)
	}
	e.assertBalanced()

	// A policy without the limit: staff complete no paid work and refund nothing.
	pol2 := mustPolicy(t, ridePolicy)
	pol2.Payments.StaffLimitCents = 0
	e2 := newEnv(t, pol2)
	c2, w2 := e2.customer("Rita Rider"), e2.worker("Dan Driver")
	id := num(e2.must(201, "POST", "/v1/work", c2.token, ride(100, 0))["id"])
	e2.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c2.token, nil)
	e2.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", id), w2.token, nil)
	e2.must(200, "POST", fmt.Sprintf("/v1/work/%d/start", id), adminToken, nil)
	e2.refused(403, "priceCents", "staff complete work of no amount: the policy sets no payments.staffLimitCents; this one is 100 cents",
		"POST", fmt.Sprintf("/v1/work/%d/complete", id), adminToken, nil)
	pay := num(e2.must(200, "POST", fmt.Sprintf("/v1/work/%d/complete", id), w2.token, nil)["paymentId"])
	e2.refused(400, "reason", "the members vote on a refund above staff's limit of 0 cents", "POST", fmt.Sprintf("/v1/payments/%d/refund", pay), adminToken, nil)
	e2.must(200, "POST", fmt.Sprintf("/v1/payments/%d/refund", pay), w2.token, nil)
	e2.assertBalanced()
}

// TestSecurity_StaffAcceptMilestonesWithinTheirLimit: accepting a milestone pays it, so
// staff accept one for its client only of a project whose whole price is within
// payments.staffLimitCents (each milestone within it is not enough: split into milestones,
// any amount would pass); the client accepts those of a larger one. The refusal writes
// nothing.
func TestSecurity_StaffAcceptMilestonesWithinTheirLimit(t *testing.T) {
	pol := verticalPolicy(t, "freelance")
	pol.Fares = &policy.Fares{FloorCents: 10000}
	pol.Payments.StaffLimitCents = 40000
	e := newEnv(t, pol)
	client := e.member("Cia Client", []string{"customer"}, "")
	dev := e.member("Dev Freelancer", []string{"worker"}, "", "gig")
	e.setAvailable(dev, true)
	project := func(milestones ...int64) int64 {
		t.Helper()
		var ms []map[string]any
		var price int64
		for i, am := range milestones {
			ms = append(ms, map[string]any{"title": fmt.Sprintf("Part %d", i+1), "amountCents": am})
			price += am
		}
		id := num(e.must(201, "POST", "/v1/work", client.token, map[string]any{"kind": "gig", "priceCents": price,
			"details": map[string]string{"title": "Website", "description": "A co-op's website"}, "milestones": ms})["id"])
		e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), client.token, nil)
		e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", id), dev.token, nil)
		e.must(200, "POST", fmt.Sprintf("/v1/work/%d/start", id), dev.token, nil)
		for n := 1; n <= len(milestones); n++ {
			e.must(200, "POST", fmt.Sprintf("/v1/work/%d/milestones/%d/submit", id, n), dev.token, nil)
		}
		return id
	}
	// 90,000 cents in milestones of 30,000 (within the limit each) and 60,000.
	large := project(30000, 60000)
	for n := 1; n <= 2; n++ {
		e.refused(403, "priceCents", "staff accept milestones of projects of at most 40000 cents (the policy's payments.staffLimitCents); this one is 90000 cents: the client accepts them",
			"POST", fmt.Sprintf("/v1/work/%d/milestones/%d/accept", large, n), adminToken, nil)
	}
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/milestones/1/accept", large), client.token, nil)
	if got := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/milestones/2/accept", large), client.token, nil); got["state"] != "completed" {
		t.Fatalf("after the client accepted the last milestone: %v", got)
	}
	// 40,000 cents in two milestones: staff may accept them.
	small := project(15000, 25000)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/milestones/1/accept", small), adminToken, nil)
	if got := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/milestones/2/accept", small), adminToken, nil); got["state"] != "completed" {
		t.Fatalf("after staff accepted the last milestone: %v", got)
	}
	e.assertBalanced()
}

// TestSecurity_WorkerWhoseOfferEndedNoLongerReadsTheWork: a worker reads a work item (its
// details: addresses, notes) while they hold a standing offer of it or took it; one who
// declined it, whose offer expired, or whose offer was withdrawn gets 404, as anyone else.
func TestSecurity_WorkerWhoseOfferEndedNoLongerReadsTheWork(t *testing.T) {
	pol := mustPolicy(t, ridePolicy)
	pol.Work = policy.WorkRules{OfferTimeoutSeconds: 60}
	e := newEnv(t, pol)
	c := e.customer("Rita Rider")
	w1, w2, w3 := e.worker("Dan Driver"), e.worker("Eve Driver"), e.worker("Fay Driver")
	read := func(w who, id int64, want int) {
		t.Helper()
		if r := e.call("GET", fmt.Sprintf("/v1/work/%d", id), w.token, nil); r.status != want {
			t.Fatalf("member %d reads work %d: %d, want %d: %s", w.id, id, r.status, want, r.body)
		}
	}
	id := num(e.must(201, "POST", "/v1/work", c.token, ride(1500, 0))["id"])
	if o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil); num(o["workerId"]) != w1.id {
		t.Fatalf("offer %v", o)
	}
	read(w1, id, 200)
	read(w2, id, 404)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/decline", id), w1.token, nil)
	read(w1, id, 404)
	read(w2, id, 200) // offered next
	e.clock.Step(time.Minute)
	read(w2, id, 404) // past its time, before anything moved it on
	if got := e.must(200, "GET", fmt.Sprintf("/v1/work/%d", id), adminToken, nil); num(got["workerId"]) != w3.id {
		t.Fatalf("staff's read did not move the expired offer on to w3: %v", got["workerId"])
	}
	read(w2, id, 404) // expired, and moved on to w3
	read(w3, id, 200)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", id), c.token, nil)
	read(w3, id, 404) // withdrawn with the cancel
	read(w1, id, 404)
	if r := e.must(200, "GET", fmt.Sprintf("/v1/work/%d", id), c.token, nil); r["state"] != "cancelled" {
		t.Fatalf("the customer reads %v", r)
	}
}

// TestSecurity_NoTypedSurgeWithoutAFareRule: surge carries no platform fee and no fund
// share, so without a fare rule (whose surge windows alone set a surge) a request that
// types one is refused, by a customer or staff on their behalf, and nothing is written: a
// ride typed as 2000 cents of which 2000 surge paid the co-op nothing.
func TestSecurity_NoTypedSurgeWithoutAFareRule(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.customer("Rita Rider")
	e.worker("Dan Driver")
	e.refused(400, "surgeCents", "must be 0: only a fare rule's surge windows set a surge", "POST", "/v1/work", c.token, ride(2000, 2000))
	staff := ride(2000, 1)
	staff["customerId"] = c.id
	e.refused(400, "surgeCents", "must be 0", "POST", "/v1/work", adminToken, staff)
	if w := e.must(201, "POST", "/v1/work", c.token, ride(2000, 0)); num(w["surgeCents"]) != 0 || num(w["priceCents"]) != 2000 {
		t.Fatalf("work %v", w)
	}
}

// TestSecurity_ErasureKeepsTheRollOfAnOpenVote: the roll of a vote is fixed when it opens.
// Erasing a member while it is open leaves their cast ballot counting and the roll as it
// was (a tie stays a tie); staff erase a member's data only once the member is
// deactivated (an active member erases their own), and the refusal writes nothing.
func TestSecurity_ErasureKeepsTheRollOfAnOpenVote(t *testing.T) {
	e := newEnv(t, withModel(t, policy.OneMemberOneVote, 50, 50))
	ws := e.workers(4)
	pid := num(e.must(201, "POST", "/v1/proposals", ws[0].token, map[string]any{"title": "Open a night shift"})["id"])
	e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", pid), ws[0].token, map[string]any{"choice": "yes"})
	e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", pid), ws[1].token, map[string]any{"choice": "no"})
	count := func() (electorate, yes, no int64) {
		t.Helper()
		// The API shows nobody the counts of an open vote: the test tallies what is stored.
		view := e.must(200, "GET", fmt.Sprintf("/v1/proposals/%d", pid), ws[2].token, nil)
		for _, c := range e.openTally(pid).Classes {
			yes += int64(c.Yes)
			no += int64(c.No)
		}
		return num(view["proposal"].(map[string]any)["electorate"]), yes, no
	}
	if el, yes, no := count(); el != 4 || yes != 1 || no != 1 {
		t.Fatalf("before: electorate %d, %d yes, %d no", el, yes, no)
	}
	e.refused(409, "active", "an active member erases their own data", "DELETE", fmt.Sprintf("/v1/members/%d", ws[0].id), adminToken, nil)
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", ws[0].id), adminToken, map[string]any{"active": false})
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d", ws[0].id), adminToken, nil)
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d", ws[3].id), ws[3].token, nil) // had not voted
	if el, yes, no := count(); el != 4 || yes != 1 || no != 1 {
		t.Fatalf("after two erasures: electorate %d, %d yes, %d no; want the roll of 4 with 1 yes and 1 no", el, yes, no)
	}
}

// TestSecurity_WorkerRoleStaysWhileTheirWorkIsUnderWay: taking the worker role from a
// member who took work and has not finished it is 409 naming roles, and deactivating them
// 409 naming active, and nothing changes: the work could no longer be completed (its
// payment needs a worker who can sign in). Once the work is completed, the role goes.
func TestSecurity_WorkerRoleStaysWhileTheirWorkIsUnderWay(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c, w := e.customer("Rita Rider"), e.worker("Dan Driver")
	id := num(e.must(201, "POST", "/v1/work", c.token, ride(1500, 0))["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", id), w.token, nil)
	member := fmt.Sprintf("/v1/members/%d", w.id)
	e.refused(409, "roles", "1 work item(s) under way as its worker", "PATCH", member, adminToken, map[string]any{"roles": []string{"customer"}})
	e.refused(409, "active", "before the member is deactivated", "PATCH", member, adminToken, map[string]any{"active": false})
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/start", id), w.token, nil)
	e.refused(409, "roles", "under way", "PATCH", member, adminToken, map[string]any{"roles": []string{"customer"}})
	e.refused(409, "active", "under way", "PATCH", member, adminToken, map[string]any{"active": false})
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/complete", id), w.token, nil)
	if m := e.must(200, "PATCH", member, adminToken, map[string]any{"roles": []string{"customer"}}); fmt.Sprint(m["roles"]) != "[customer]" {
		t.Fatalf("member after the role change: %v", m)
	}
}

// TestSecurity_TokensSayWhoIssuedThem: a member's list of their tokens says who issued
// each: staff (the first one, at registration, and any the admin token made since) or the
// member; so a member sees a token staff made for them and can revoke it, which ends it.
func TestSecurity_TokensSayWhoIssuedThem(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	m := e.customer("Rita Rider")
	own := e.must(201, "POST", fmt.Sprintf("/v1/members/%d/tokens", m.id), m.token, nil)
	staffs := e.must(201, "POST", fmt.Sprintf("/v1/members/%d/tokens", m.id), adminToken, nil)
	if own["issuedBy"] != "member" || staffs["issuedBy"] != "staff" {
		t.Fatalf("minted: %v by the member, %v by staff", own["issuedBy"], staffs["issuedBy"])
	}
	var got []string
	for _, tk := range e.must(200, "GET", fmt.Sprintf("/v1/members/%d/tokens", m.id), own["token"].(string), nil)["tokens"].([]any) {
		got = append(got, tk.(map[string]any)["issuedBy"].(string))
	}
	if strings.Join(got, ",") != "staff,member,staff" {
		t.Fatalf("the member's tokens were issued by %v, want staff (registration), member, staff", got)
	}
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d/tokens/%d", m.id, num(staffs["id"])), own["token"].(string), nil)
	e.refused(401, "Authorization", "unknown token", "GET", fmt.Sprintf("/v1/members/%d", m.id), staffs["token"].(string), nil)
}

// TestSecurity_StaffPayNoSurgeWithoutASurgeWindow: surge carries no fee and no fund share,
// so a staff payment to a worker carries one only inside a surge window of the fare rule
// in force, at most what the window adds; a payment for work carries none (its surge is
// part of the agreed price). Otherwise 400 naming surgeCents, and nothing written.
func TestSecurity_StaffPayNoSurgeWithoutASurgeWindow(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	w := e.worker("Dan Driver")
	e.refused(400, "surgeCents", "must be 0 outside a surge window of the fare rule in force", "POST", "/v1/payments", adminToken,
		map[string]any{"workerId": w.id, "amountCents": 10000, "surgeCents": 9000}, "Idempotency-Key", "s1")
	e.must(201, "POST", "/v1/payments", adminToken, map[string]any{"workerId": w.id, "amountCents": 10000, "surgeCents": 0}, "Idempotency-Key", "s2")

	// A fare rule without surge windows is no better.
	noWindows := mustPolicy(t, ridePolicy)
	noWindows.Fares = &policy.Fares{BaseCents: 300, PerKmCents: 100}
	e2 := newEnv(t, noWindows)
	w2 := e2.worker("Eve Driver")
	e2.refused(400, "surgeCents", "must be 0 outside a surge window of the fare rule in force", "POST", "/v1/payments", adminToken,
		map[string]any{"workerId": w2.id, "amountCents": 10000, "surgeCents": 1000}, "Idempotency-Key", "s3")

	// Inside the rule's window (Tuesday 08:00 to 10:00, 25 %; the service's clock is Tuesday
	// 09:00): at most amountCents × 25 / 125; none on a payment for work; none after 10:00.
	e3 := newEnv(t, mustPolicy(t, withFares(ridePolicy, rideFares)))
	w3 := e3.worker("Fay Driver")
	c3 := e3.customer("Rita Rider")
	e3.refused(400, "surgeCents", "must be at most 2000 cents: the surge window in force adds 25%", "POST", "/v1/payments", adminToken,
		map[string]any{"workerId": w3.id, "amountCents": 10000, "surgeCents": 2001}, "Idempotency-Key", "s4")
	inWindow := map[string]any{"workerId": w3.id, "amountCents": 10000, "surgeCents": 2000}
	first := e3.must(201, "POST", "/v1/payments", adminToken, inWindow, "Idempotency-Key", "s5")
	if num(first["surgeCents"]) != 2000 {
		t.Fatalf("a staff payment with surge inside a window: %v", first)
	}
	work := num(e3.must(201, "POST", "/v1/work", c3.token, map[string]any{"kind": "ride", "distanceMeters": 5250,
		"details": map[string]string{"pickup": "Place Bellecour", "dropoff": "Part-Dieu"}})["id"])
	e3.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", work), c3.token, nil)
	e3.completeWork(work, w3.token)
	e3.refused(400, "surgeCents", "must be 0: surge is part of the work's agreed price", "POST", "/v1/payments", adminToken,
		map[string]any{"workId": work, "amountCents": 100, "surgeCents": 10}, "Idempotency-Key", "s6")
	e3.clock.Step(2 * time.Hour)
	e3.refused(400, "surgeCents", "must be 0 outside a surge window of the fare rule in force", "POST", "/v1/payments", adminToken,
		map[string]any{"workerId": w3.id, "amountCents": 10000, "surgeCents": 100}, "Idempotency-Key", "s7")
	// The payment made inside the window, retried after it closed: the same payment.
	if again := e3.must(201, "POST", "/v1/payments", adminToken, inWindow, "Idempotency-Key", "s5"); num(again["id"]) != num(first["id"]) {
		t.Fatalf("the retry after the window closed: %v, want payment %v", again, first["id"])
	}
}

// TestSecurity_MemberClaimsTheirAccount: a member claims their account, with any token of
// theirs; the claim answers with a new token and ends every other way in, a token staff
// kept (one they issued, or one they made "as the member" with it) and every sign-in code
// included; from then on staff issue them no credential. Only the member claims, only
// staff release a claim, and a release ends every credential. Each step shows in the
// member's audit, which the member and staff read and no other member.
func TestSecurity_MemberClaimsTheirAccount(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	m := e.customer("Rita Rider") // m.token: the registration's, issued by staff
	o := e.customer("Omar Other")
	claim := fmt.Sprintf("/v1/members/%d/claim", m.id)
	tokens := fmt.Sprintf("/v1/members/%d/tokens", m.id)
	codes := fmt.Sprintf("/v1/members/%d/sign-in-codes", m.id)
	self := fmt.Sprintf("/v1/members/%d", m.id)
	staffCode := e.must(201, "POST", codes, adminToken, nil)["code"].(string)
	registration := num(e.must(200, "GET", tokens, m.token, nil)["tokens"].([]any)[0].(map[string]any)["id"])
	// Staff, holding the registration's token, make one "as the member" and keep it.
	keptOut := e.must(201, "POST", tokens, m.token, nil)
	kept := keptOut["token"].(string)
	e.must(201, "POST", codes, kept, nil)

	e.refused(403, "", "staff cannot claim it for them", "POST", claim, adminToken, nil)
	e.refused(403, "", "members may only act on their own data", "POST", claim, o.token, nil)
	got := e.must(200, "POST", claim, m.token, nil)
	key := got["token"].(string)
	if len(got["revokedTokens"].([]any)) != 2 || !strings.HasPrefix(key, "cpt_") {
		t.Fatalf("the claim: %v, want the registration's and the kept token revoked, and a new token", got)
	}
	if me := e.must(200, "GET", self, key, nil); me["claimedAt"] != got["claimedAt"] {
		t.Fatalf("the member after the claim: %v", me)
	}
	// Every other way in ended: the registration's token, the kept one, every code.
	for _, tok := range []string{m.token, kept} {
		e.refused(401, "Authorization", "unknown token", "GET", self, tok, nil)
	}
	if n := e.count(fmt.Sprintf("sign_in_codes WHERE member_id = %d", m.id)); n != 0 {
		t.Fatalf("%d sign-in codes left after the claim", n)
	}
	if toks := e.must(200, "GET", tokens, key, nil)["tokens"].([]any); len(toks) != 1 || toks[0].(map[string]any)["issuedBy"] != "member" || toks[0].(map[string]any)["current"] != true {
		t.Fatalf("the tokens after the claim: %v", toks)
	}

	// Staff issue no credential to a claimed account; the member still does; claiming
	// again keeps the first time and ends every other way in again.
	e.refused(403, "", "has claimed their account: only they issue its tokens", "POST", tokens, adminToken, nil)
	e.refused(403, "", "has claimed their account: only they issue its sign-in codes", "POST", codes, adminToken, nil)
	second := e.must(201, "POST", tokens, key, nil)["token"].(string)
	again := e.must(200, "POST", claim, second, nil)
	if again["claimedAt"] != got["claimedAt"] || len(again["revokedTokens"].([]any)) != 2 {
		t.Fatalf("claiming again: %v", again)
	}
	key = again["token"].(string)
	e.refused(401, "Authorization", "unknown token", "GET", self, second, nil)

	// Only staff release a claim; the release ends every credential of the member's.
	e.refused(403, "", "staff", "DELETE", claim, key, nil)
	e.refused(404, "", "member not found", "DELETE", "/v1/members/99999/claim", adminToken, nil)
	e.refused(409, "", "has not claimed", "DELETE", fmt.Sprintf("/v1/members/%d/claim", o.id), adminToken, nil)
	e.must(200, "DELETE", claim, adminToken, nil)
	e.refused(401, "Authorization", "unknown token", "GET", self, key, nil)
	if n := e.count(fmt.Sprintf("member_tokens WHERE member_id = %d", m.id)) + e.count(fmt.Sprintf("sign_in_codes WHERE member_id = %d", m.id)); n != 0 {
		t.Fatalf("%d tokens and codes left after the release", n)
	}
	next := e.must(201, "POST", tokens, adminToken, nil)["token"].(string)

	// The member reads every step in their audit, with who; another member reads none.
	e.refused(403, "", "members may only act on their own data", "GET", fmt.Sprintf("/v1/members/%d/audit", m.id), o.token, nil)
	var steps []string
	entries := e.must(200, "GET", fmt.Sprintf("/v1/members/%d/audit", m.id), next, nil)["entries"].([]any)
	for i := len(entries) - 1; i >= 0; i-- {
		en := entries[i].(map[string]any)
		steps = append(steps, fmt.Sprintf("%s by %s", en["event"], en["actor"]))
	}
	me := fmt.Sprintf("member:%d", m.id)
	want := []string{"admitted by staff", "tokenIssued by staff", "signInCodeIssued by staff", "tokenIssued by " + me, "signInCodeIssued by " + me,
		"claimed by " + me, "tokenIssued by " + me, "tokenRevoked by " + me, "tokenRevoked by " + me,
		"tokenIssued by " + me, "tokenIssued by " + me, "tokenRevoked by " + me, "tokenRevoked by " + me,
		"claimReleased by staff", "tokenRevoked by staff", "tokenIssued by staff"}
	if strings.Join(steps, ", ") != strings.Join(want, ", ") {
		t.Fatalf("the member's audit:\n got %s\nwant %s", strings.Join(steps, ", "), strings.Join(want, ", "))
	}
	// The entry of the kept token says it was made with the registration's token, whose
	// own entry says staff issued it.
	for _, en := range entries {
		en := en.(map[string]any)
		if nv, _ := en["newValue"].(map[string]any); en["event"] == "tokenIssued" && nv != nil && num(nv["tokenId"]) == num(keptOut["id"]) {
			if en["credential"] != fmt.Sprintf("token:%d", registration) {
				t.Fatalf("the kept token's entry: %v, want it made with token %d", en, registration)
			}
		}
		if nv, _ := en["newValue"].(map[string]any); en["event"] == "tokenIssued" && nv != nil && num(nv["tokenId"]) == registration && (nv["issuedBy"] != "staff" || en["credential"] != nil) {
			t.Fatalf("the registration token's entry: %v", en)
		}
	}
	if staffs := e.must(200, "GET", fmt.Sprintf("/v1/members/%d/audit", m.id), adminToken, nil)["entries"].([]any); len(staffs) != len(entries) {
		t.Fatalf("staff read %d entries, the member %d", len(staffs), len(entries))
	}
	// No secret in it.
	if b, _ := json.Marshal(entries); strings.Contains(string(b), next) || strings.Contains(string(b), key) || strings.Contains(string(b), staffCode) {
		t.Fatalf("the audit holds a credential: %s", b)
	}
}

// TestSecurity_ClaimRacesStaffIssuingACredential: a claim and staff issuing the member a
// token or a sign-in code cannot interleave. Staff's issue, not yet committed, holds the
// member's row: the claim waits for it and then ends the new credential too; a claim not
// yet committed makes staff's issue wait, and then refuses it.
func TestSecurity_ClaimRacesStaffIssuingACredential(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	m := e.customer("Rita Rider")
	ctx := t.Context()
	claim := fmt.Sprintf("/v1/members/%d/claim", m.id)
	answer := make(chan resp, 1)
	waitsOnALock := func(what string) { t.Helper(); e.waitsOnALock(answer, what) }

	// Staff issue first (uncommitted); the claim waits, then ends that token.
	tx, err := e.s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	sum := members.HashToken("cpt_kept-by-staff")
	kept, err := members.On(tx).CreateToken(ctx, m.id, sum[:], members.IssuedByStaff, members.Credential{})
	if err != nil {
		t.Fatal(err)
	}
	go func() { answer <- e.call("POST", claim, m.token, nil) }()
	waitsOnALock("the claim")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-answer
	if r.status != 200 || !strings.Contains(fmt.Sprint(r.json()["revokedTokens"]), fmt.Sprint(kept.ID)) {
		t.Fatalf("the claim after staff's token: %d %s (staff's token %d)", r.status, r.body, kept.ID)
	}
	if n := e.count(fmt.Sprintf("member_tokens WHERE id = %d", kept.ID)); n != 0 {
		t.Fatal("the token staff issued while the member claimed survived the claim")
	}
	key := r.json()["token"].(string)

	e.must(200, "GET", fmt.Sprintf("/v1/members/%d", m.id), key, nil)

	// The claim first (uncommitted): staff's token or code waits, then is refused; so is
	// a token or a code made, or a second claim, with a token of the member's the claim
	// ends (the registration's, which staff saw), and nothing is left of them.
	for i, c := range []struct {
		what, path string
		staff      bool
		want       int
	}{
		{"staff's token", "tokens", true, 403},
		{"staff's code", "sign-in-codes", true, 403},
		{"a token made with the registration's", "tokens", false, 401},
		{"a code made with the registration's", "sign-in-codes", false, 401},
		{"a second claim with the registration's token", "claim", false, 401},
	} {
		n := e.customer(fmt.Sprintf("Nora Next %d", i))
		tx, err := e.s.Pool().Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback(context.Background()) }()
		sum := members.HashToken(fmt.Sprintf("cpt_claimed-%d", i))
		if _, _, _, err := members.On(tx).Claim(ctx, n.id, time.Now(), members.Credential{}, sum[:]); err != nil {
			t.Fatal(err)
		}
		tok := n.token
		if c.staff {
			tok = adminToken
		}
		go func() { answer <- e.call("POST", fmt.Sprintf("/v1/members/%d/%s", n.id, c.path), tok, nil) }()
		waitsOnALock(c.what)
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if r := <-answer; r.status != c.want {
			t.Fatalf("%s while a claim was under way: %d %s, want %d", c.what, r.status, r.body, c.want)
		}
		if left := e.count(fmt.Sprintf("member_tokens WHERE member_id = %d", n.id)) + e.count(fmt.Sprintf("sign_in_codes WHERE member_id = %d", n.id)); left != 1 {
			t.Fatalf("after the claim and %s: %d tokens and codes, want the claim's token alone", c.what, left)
		}
	}
}

// TestSecurity_RevokeWithAnEndedCredential: a revocation made with a token a claim ended
// while it waited is refused (401) and ends nothing: it cannot revoke the claim's new key.
func TestSecurity_RevokeWithAnEndedCredential(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	m := e.customer("Rita Rider")
	ctx := t.Context()
	tx, err := e.s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	sum := members.HashToken("cpt_the-claims-key")
	_, key, _, err := members.On(tx).Claim(ctx, m.id, time.Now(), members.Credential{}, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	answer := make(chan resp, 1)
	go func() { answer <- e.call("DELETE", fmt.Sprintf("/v1/members/%d/tokens/%d", m.id, key), m.token, nil) }()
	e.waitsOnALock(answer, "the revocation")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if r := <-answer; r.status != 401 {
		t.Fatalf("a revocation with the token the claim ended: %d %s", r.status, r.body)
	}
	if n := e.count(fmt.Sprintf("member_tokens WHERE id = %d", key)); n != 1 {
		t.Fatal("the claim's key was revoked with a token the claim ended")
	}
	// Staff revoke a token that survived a deactivation made outside the API (in SQL).
	o := e.customer("Omar Other")
	tok := num(e.must(200, "GET", fmt.Sprintf("/v1/members/%d/tokens", o.id), o.token, nil)["tokens"].([]any)[0].(map[string]any)["id"])
	if _, err := e.owner.Exec(ctx, `UPDATE members SET active = false WHERE id = $1`, o.id); err != nil {
		t.Fatal(err)
	}
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d/tokens/%d", o.id, tok), adminToken, nil)
}

// TestSecurity_CredentialChangesDoNotDeadlock: revoking a token while its codes are being
// exchanged for sessions and a code is issued from a session of that token, a claim and
// the sweep of expired sessions run, never deadlocks (PostgreSQL would abort one side with
// 40P01): every change of a member's credentials takes the member's row first, a
// revocation for update. Each round starts them together; with the revocation taking the
// member's row only for share it deadlocked in most runs of 40 rounds.
func TestSecurity_CredentialChangesDoNotDeadlock(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	ctx := context.Background()
	pool := e.s.Pool()
	now := e.clock.Now()
	var mu sync.Mutex
	var deadlocks []string
	note := func(what string, err error) {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "40P01" {
			mu.Lock()
			deadlocks = append(deadlocks, what)
			mu.Unlock()
		}
	}
	hash := func(s string) []byte { h := members.HashToken(s); return h[:] }
	for i := 0; i < 40; i++ {
		m := e.customer(fmt.Sprintf("Member %d", i))
		tok := num(e.must(200, "GET", fmt.Sprintf("/v1/members/%d/tokens", m.id), m.token, nil)["tokens"].([]any)[0].(map[string]any)["id"])
		issue := func(code string, cred members.Credential) error {
			return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				return members.On(tx).IssueCode(ctx, m.id, cred, hash(code), now, now.Add(time.Hour))
			})
		}
		var codes [][]byte
		for j := 0; j < 4; j++ {
			code := fmt.Sprintf("code %d %d", i, j)
			if err := issue(code, members.Credential{TokenID: tok}); err != nil {
				t.Fatal(err)
			}
			codes = append(codes, hash(code))
		}
		session := hash(fmt.Sprintf("session %d", i))
		if err := issue(fmt.Sprintf("first %d", i), members.Credential{TokenID: tok}); err != nil {
			t.Fatal(err)
		}
		if _, err := sessions.On(pool).Open(ctx, hash(fmt.Sprintf("first %d", i)), session, "csrf", now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		run := func(what string, f func() error) {
			wg.Add(1)
			go func() { defer wg.Done(); note(what, f()) }()
		}
		run("revoke", func() error {
			return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				return members.On(tx).RevokeToken(ctx, m.id, tok, members.Credential{})
			})
		})
		for j, c := range codes {
			run("sign-in", func() error {
				_, err := sessions.On(pool).Open(ctx, c, hash(fmt.Sprintf("new %d %d", i, j)), "csrf", now, now.Add(time.Hour))
				return err
			})
		}
		run("code from a session", func() error {
			return issue(fmt.Sprintf("from the session %d", i), members.Credential{TokenID: tok, Session: session})
		})
		run("sweep", func() error { return sessions.On(pool).DeleteExpired(ctx, now.Add(-time.Minute)) })
		wg.Wait()
	}
	if len(deadlocks) > 0 {
		t.Fatalf("deadlocks (the side PostgreSQL aborted): %v", deadlocks)
	}
}

// waitsOnALock fails the test unless the request whose answer comes on answer waits on a
// row lock of the database (rather than answering at once): it polls PostgreSQL's view of
// its sessions until one waits on a lock, for at most 30 s.
func (e *env) waitsOnALock(answer chan resp, what string) {
	e.t.Helper()
	e.waitOnLocks(answer, 1, what)
}

// waitOnLocks is waitsOnALock for n requests at once, all answering on answer: it returns
// once n sessions wait on a lock, and fails the test if one answers first.
func (e *env) waitOnLocks(answer chan resp, n int, what string) {
	e.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if len(answer) > 0 {
			r := <-answer
			e.t.Fatalf("%s did not wait for the transaction under way: %d %s", what, r.status, r.body)
		}
		var waiting int
		if err := e.owner.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			e.t.Fatal(err)
		}
		if waiting >= n {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s neither answered nor waited on a lock", what)
		}
	}
}

// TestSecurity_NoNewPaymentNamesAnErasedPayer: erasure replaces the idempotency key of a
// staff payment made on a member's behalf (it may name them), so a retry of that payment
// after the erasure does not find it: it must not pay again. An erased member is no party
// to a new payment (409 naming payerId, nothing written); the first payment keeps its id.
func TestSecurity_NoNewPaymentNamesAnErasedPayer(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	w := e.worker("Dan Driver")
	c := e.customer("Rita Rider")
	body := map[string]any{"workerId": w.id, "payerId": c.id, "amountCents": 1500}
	first := e.must(201, "POST", "/v1/payments", adminToken, body, "Idempotency-Key", "cash for Rita's ride")
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d", c.id), c.token, nil)
	e.refused(409, "payerId", "the payer's data was erased", "POST", "/v1/payments", adminToken, body, "Idempotency-Key", "cash for Rita's ride")
	if p := e.must(200, "GET", fmt.Sprintf("/v1/payments/%d", num(first["id"])), adminToken, nil); num(p["grossCents"]) != 1500 {
		t.Fatalf("the first payment after the erasure: %v", p)
	}
	e.refused(404, "payerId", "no member with this id", "POST", "/v1/payments", adminToken,
		map[string]any{"workerId": w.id, "payerId": 99999, "amountCents": 1500}, "Idempotency-Key", "nobody")

	// Work's own payment still pays when its customer was erased while it was under way
	// (erasure refuses that, but a match racing the erasure can leave it so: written here
	// in SQL): its completion is not stuck.
	c2 := e.customer("Cy Rider")
	id := num(e.must(201, "POST", "/v1/work", c2.token, ride(1200, 0))["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c2.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", id), w.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/start", id), w.token, nil)
	if _, err := e.owner.Exec(t.Context(), `UPDATE members SET erased_at = now(), active = false WHERE id = $1`, c2.id); err != nil {
		t.Fatal(err)
	}
	if done := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/complete", id), w.token, nil); done["paymentId"] == nil {
		t.Fatalf("the completion of work whose customer was erased: %v", done)
	}
}

// TestSecurity_AnOldSessionDoesNotClaim: the API itself refuses a claim made from a members'
// app session opened more than sessions.FreshFor ago (the app's page only says so), and
// writes nothing; a fresh one passes that rule (and is then held to its credential: this
// one is no session the database knows, 401). So are an erasure of the member's data, a
// token and a sign-in code made from such a session.
func TestSecurity_AnOldSessionDoesNotClaim(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	m := e.worker("Ana Driver")
	app := webBackend{e.s}
	claim := fmt.Sprintf("/v1/members/%d/claim", m.id)
	old := web.Member{ID: m.id, Session: []byte("a session of the app"), SignedIn: e.clock.Now().Add(-sessions.FreshFor - time.Second),
		Roles: []string{"worker"}, Active: true}
	st, body := app.Call(t.Context(), old, "POST", claim, nil, nil)
	if st != http.StatusForbidden || !strings.Contains(string(body), `"field":"Authorization"`) || !strings.Contains(string(body), "sign in again") {
		t.Fatalf("a claim from an old session: %d %s", st, body)
	}
	var claimed bool
	if err := e.owner.QueryRow(t.Context(), `SELECT claimed_at IS NOT NULL FROM members WHERE id = $1`, m.id).Scan(&claimed); err != nil || claimed {
		t.Fatalf("claimed %t, %v", claimed, err)
	}
	e.must(200, "GET", fmt.Sprintf("/v1/members/%d", m.id), m.token, nil)
	routes := map[string]bool{}
	for _, rt := range e.s.routes {
		routes[rt.method+" "+rt.pattern] = true
	}
	for _, action := range slices.Sorted(maps.Keys(freshActions)) {
		if !routes[action] {
			t.Errorf("freshActions names %q, which is no route", action)
		}
		method, pattern, _ := strings.Cut(action, " ")
		path := strings.ReplaceAll(pattern, "{id}", strconv.FormatInt(m.id, 10))
		if st, body := app.Call(t.Context(), old, method, path, nil, nil); st != http.StatusForbidden || !strings.Contains(string(body), "sign in again") {
			t.Errorf("%s from an old session: %d %s", action, st, body)
		}
	}
	var erased bool
	var tokens, codes int
	if err := e.owner.QueryRow(t.Context(), `SELECT (SELECT erased_at IS NOT NULL FROM members WHERE id = $1),
		(SELECT count(*) FROM member_tokens WHERE member_id = $1), (SELECT count(*) FROM sign_in_codes WHERE member_id = $1)`, m.id).
		Scan(&erased, &tokens, &codes); err != nil || erased || tokens != 1 || codes != 0 {
		t.Fatalf("after the old session's requests: erased %t, %d tokens, %d codes, %v", erased, tokens, codes, err)
	}
	fresh := old
	fresh.SignedIn = e.clock.Now()
	if st, body := app.Call(t.Context(), fresh, "POST", claim, nil, nil); st != http.StatusUnauthorized {
		t.Fatalf("a claim from a fresh session the database does not know: %d %s", st, body)
	}
}

// TestSecurity_NothingIsWrittenAfterAnErasure: a request the customer sends, and a payment
// staff record on a member's behalf, while that member's erasure is under way wait for it
// (each takes the member's row for share first) and are then refused, rather than written
// after it with the details and the key the erasure would have wiped. The erasure here
// is the store's, held open in a transaction of the test's.
func TestSecurity_NothingIsWrittenAfterAnErasure(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	w := e.worker("Dan Driver")
	ctx := t.Context()
	erasing := func(id int64) pgx.Tx {
		tx, err := e.s.Pool().Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
		if _, _, _, err := members.On(tx).LockForErasure(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := members.On(tx).Erase(ctx, id); err != nil {
			t.Fatal(err)
		}
		return tx
	}
	count := func(sql string, args ...any) int {
		var n int
		if err := e.owner.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	c := e.customer("Rita Rider")
	tx := erasing(c.id)
	answer := make(chan resp, 1)
	go func() { answer <- e.call("POST", "/v1/work", c.token, ride(1200, 0)) }()
	e.waitsOnALock(answer, "a request sent during its customer's erasure")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if r := <-answer; r.status != 403 || !strings.Contains(string(r.body), "not active") {
		t.Fatalf("a request sent during its customer's erasure: %d %s", r.status, r.body)
	}
	if n := count(`SELECT count(*) FROM work_items WHERE customer_id = $1`, c.id); n != 0 {
		t.Fatalf("%d requests written after their customer's erasure", n)
	}

	c2 := e.customer("Cleo Rider")
	tx = erasing(c2.id)
	go func() {
		answer <- e.call("POST", "/v1/payments", adminToken, map[string]any{"workerId": w.id, "payerId": c2.id, "amountCents": 1500},
			"Idempotency-Key", "cash from Cleo Rider")
	}()
	e.waitsOnALock(answer, "a payment staff record during its payer's erasure")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if r := <-answer; r.status != 409 || !strings.Contains(string(r.body), "payerId") {
		t.Fatalf("a payment staff record during its payer's erasure: %d %s", r.status, r.body)
	}
	if n := count(`SELECT count(*) FROM payments WHERE payer_id = $1 OR idempotency_key LIKE '%Cleo%'`, c2.id); n != 0 {
		t.Fatalf("%d payments written after their payer's erasure", n)
	}

	// A proposal its author sends while being erased: its words would outlive the erasure.
	v := e.worker("Vic Driver")
	tx = erasing(v.id)
	go func() {
		answer <- e.call("POST", "/v1/proposals", v.token, map[string]any{"title": "Vic's plan", "body": "From Vic, 12 rue des Lilas", "field": "plan", "value": "medium"})
	}()
	e.waitsOnALock(answer, "a proposal sent during its author's erasure")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if r := <-answer; r.status != 403 || !strings.Contains(string(r.body), "not active") {
		t.Fatalf("a proposal sent during its author's erasure: %d %s", r.status, r.body)
	}
	if n := count(`SELECT count(*) FROM proposals WHERE created_by = $1 OR body LIKE '%Lilas%'`, v.id); n != 0 {
		t.Fatalf("%d proposals written after their author's erasure", n)
	}
}

// TestSecurity_NoDelegationToAMemberBeingErased: a delegation to a member whose erasure is
// under way waits for it and is then refused (400 naming delegateId), rather than written
// after the erasure removed the member's delegations; the delegations' table is taken only
// after both members' rows, so an erasure that reaches its removal of delegations then
// does not deadlock with it.
func TestSecurity_NoDelegationToAMemberBeingErased(t *testing.T) {
	e := newEnv(t, withModel(t, policy.Delegate, 50, 50))
	a := e.member("Ana Worker", []string{"worker"}, "")
	b := e.member("Bea Worker", []string{"worker"}, "")
	ctx := t.Context()
	tx, err := e.s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, _, _, err := members.On(tx).LockForErasure(ctx, b.id); err != nil {
		t.Fatal(err)
	}
	answer := make(chan resp, 1)
	go func() { answer <- e.call("PUT", "/v1/delegation", a.token, map[string]any{"delegateId": b.id}) }()
	e.waitsOnALock(answer, "a delegation to a member being erased")
	if err := members.On(tx).Erase(ctx, b.id); err != nil { // removes the delegations to Bea: the delegation holds no table lock yet
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if r := <-answer; r.status != 404 || !strings.Contains(string(r.body), `"field":"delegateId"`) {
		t.Fatalf("a delegation to a member being erased: %d %s", r.status, r.body)
	}
	var n int
	if err := e.owner.QueryRow(ctx, `SELECT count(*) FROM delegations WHERE delegate_id = $1`, b.id).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d delegations to an erased member, %v", n, err)
	}
}

// TestSecurity_ErasureDoesNotRaceAMatch: an erasure checks the member's work and locks it
// without waiting: while a match holds one of the customer's requests (it moves it on),
// the erasure answers 409 at once and writes nothing, rather than erase a customer whose
// request the match then offers; once the match is done, the erasure sees the offer (work
// under way, 409), and once the work is cancelled it erases.
func TestSecurity_ErasureDoesNotRaceAMatch(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	e.worker("Dan Driver")
	c := e.customer("Rita Rider")
	ctx := t.Context()
	id := num(e.must(201, "POST", "/v1/work", c.token, ride(1200, 0))["id"])
	tx, err := e.s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := work.On(tx).Lock(ctx, id); err != nil { // as a match does, first
		t.Fatal(err)
	}
	answer := make(chan resp, 1)
	go func() { answer <- e.call("DELETE", fmt.Sprintf("/v1/members/%d", c.id), c.token, nil) }()
	if r := e.answersAtOnce(answer, "the erasure while a match held the request"); r.status != 409 || !strings.Contains(string(r.body), "changing right now") {
		t.Fatalf("the erasure while a match held the request: %d %s", r.status, r.body)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil)
	e.refused(409, "", "work under way", "DELETE", fmt.Sprintf("/v1/members/%d", c.id), c.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", id), c.token, nil)

	// Work that is done is locked without waiting too: a completion paying for it holds
	// the item, then the payer's row, which the erasure holds; waiting for the item would
	// deadlock with it.
	tx, err = e.s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := work.On(tx).Lock(ctx, id); err != nil {
		t.Fatal(err)
	}
	go func() { answer <- e.call("DELETE", fmt.Sprintf("/v1/members/%d", c.id), c.token, nil) }()
	if r := e.answersAtOnce(answer, "the erasure while a transaction held the customer's cancelled work"); r.status != 409 || !strings.Contains(string(r.body), "changing right now") {
		t.Fatalf("the erasure while a transaction held the customer's cancelled work: %d %s", r.status, r.body)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d", c.id), c.token, nil)
}

// TestSecurity_AListingOfAMakerWhoLeftIsNotFound: a listing reads as the list shows it:
// once its maker is no longer active, another member gets 404 (it told them the maker's
// id and words), staff still read it.
func TestSecurity_AListingOfAMakerWhoLeftIsNotFound(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "marketplace"))
	maker := e.member("Mia Maker", []string{"worker"}, "")
	buyer := e.member("Bo Buyer", []string{"customer"}, "")
	path := fmt.Sprintf("/v1/listings/%d", num(e.must(201, "POST", "/v1/listings", maker.token, map[string]any{"title": "Bowl", "priceCents": 2500, "stock": 3})["id"]))
	e.must(200, "GET", path, buyer.token, nil)
	e.must(200, "GET", path, maker.token, nil)
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", maker.id), adminToken, map[string]any{"active": false})
	e.refused(404, "", "listing not found", "GET", path, buyer.token, nil)
	e.must(200, "GET", path, adminToken, nil)
}
