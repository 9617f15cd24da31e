package server

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

var tables = []string{"members", "member_tokens", "blocks", "work_items", "work_history", "offers",
	"ledger_transactions", "ledger_entries", "payments", "proposals", "ballots", "delegations", "disbursements", "refund_requests",
	"member_audit", "sign_in_codes", "notifications"}

func (e *env) rowCounts() map[string]int64 {
	out := map[string]int64{}
	for _, t := range tables {
		out[t] = e.count(t)
	}
	return out
}

// TestBadInput sends malformed requests through the real handler against the real
// database: each gets the right status and a JSON error naming the problem, and
// nothing is written.
func TestBadInput(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.customer("Rita Rider")
	w := e.worker("Dan Driver")
	work := num(e.must(201, "POST", "/v1/work", c.token, ride(1000, 0))["id"])
	prop := num(e.must(201, "POST", "/v1/proposals", c.token, map[string]any{"title": "t"})["id"])
	pay := func(body string) []string {
		return []string{"POST", "/v1/payments", c.token, body, "Idempotency-Key", "bad"}
	}
	member := `{"name":"N","email":"n@example.org","roles":["worker"],"stakeholderClass":"drivers"}`
	cases := []struct {
		name   string
		req    []string // method, path, token, body, header pairs...
		status int
		field  string
		msg    string
	}{
		{"negative amount", pay(fmt.Sprintf(`{"workerId":%d,"amountCents":-5}`, w.id)), 400, "amountCents", "must be a positive integer"},
		{"zero amount", pay(fmt.Sprintf(`{"workerId":%d,"amountCents":0}`, w.id)), 400, "amountCents", "must be a positive integer"},
		{"float amount", pay(fmt.Sprintf(`{"workerId":%d,"amountCents":12.5}`, w.id)), 400, "amountCents", "must be an integer"},
		{"string amount", pay(fmt.Sprintf(`{"workerId":%d,"amountCents":"12"}`, w.id)), 400, "amountCents", "must be an integer"},
		{"missing amount", pay(fmt.Sprintf(`{"workerId":%d}`, w.id)), 400, "amountCents", "must be a positive integer"},
		{"surge above amount", pay(fmt.Sprintf(`{"workerId":%d,"amountCents":10,"surgeCents":11}`, w.id)), 400, "surgeCents", "between 0 and amountCents"},
		{"unknown worker", []string{"POST", "/v1/payments", adminToken, `{"workerId":999999,"amountCents":10}`, "Idempotency-Key", "bad"}, 404, "workerId", "no worker with this id"},
		{"paying oneself", []string{"POST", "/v1/payments", adminToken, fmt.Sprintf(`{"workerId":%d,"payerId":%[1]d,"amountCents":10}`, w.id), "Idempotency-Key", "bad"}, 400, "workerId", "cannot pay yourself"},
		{"member paying without work", pay(fmt.Sprintf(`{"workerId":%d,"amountCents":10}`, w.id)), 400, "workId", "is required"},
		{"unknown field", pay(fmt.Sprintf(`{"workerId":%d,"amountCents":10,"tip":1}`, w.id)), 400, "tip", "unknown field"},
		{"malformed JSON", pay(`{"workerId":`), 400, "", "truncated JSON"},
		{"not an object", pay(`[1,2]`), 400, "", "must be a JSON object"},
		{"trailing data", pay(fmt.Sprintf(`{"workerId":%d,"amountCents":10} {}`, w.id)), 400, "", "trailing data"},
		{"empty body", pay(``), 400, "", "body is required"},
		{"no idempotency key", []string{"POST", "/v1/payments", c.token, fmt.Sprintf(`{"workerId":%d,"amountCents":10}`, w.id)}, 400, "Idempotency-Key", "header is required"},
		{"idempotency key not UTF-8", []string{"POST", "/v1/payments", adminToken, fmt.Sprintf(`{"workerId":%d,"amountCents":10}`, w.id), "Idempotency-Key", "k\xff"}, 400, "Idempotency-Key", "UTF-8"},
		{"idempotency key with NUL", []string{"POST", "/v1/disbursements", adminToken, `{"fund":"hardship","amountCents":1,"payee":"x","reason":"x"}`, "Idempotency-Key", "k\x00"}, 400, "Idempotency-Key", "UTF-8"},
		{"fund name not UTF-8", []string{"GET", "/v1/funds/%FF", c.token, ""}, 404, "", "fund not found"},
		{"no token", []string{"POST", "/v1/payments", "", `{}`}, 401, "Authorization", "bearer token is required"},
		{"bad token", []string{"GET", "/v1/policy", "cpt_nope", ""}, 401, "Authorization", "unknown token"},
		{"member on staff route", []string{"POST", "/v1/members", c.token, member}, 403, "", "admin token"},
		{"member without email", []string{"POST", "/v1/members", adminToken, `{"name":"N","roles":["worker"],"stakeholderClass":"drivers"}`}, 400, "email", "is required"},
		{"member bad email", []string{"POST", "/v1/members", adminToken, strings.Replace(member, "n@example.org", "not-an-email", 1)}, 400, "email", "plain email address"},
		{"member bad role", []string{"POST", "/v1/members", adminToken, strings.Replace(member, `["worker"]`, `["boss"]`, 1)}, 400, "roles", "is not one of"},
		{"member bad class", []string{"POST", "/v1/members", adminToken, strings.Replace(member, "drivers", "owners", 1)}, 400, "stakeholderClass", "policy's stakeholder classes"},
		{"member no class", []string{"POST", "/v1/members", adminToken, `{"name":"N","email":"n@example.org","roles":["worker"]}`}, 400, "stakeholderClass", "is required under multi-stakeholder"},
		{"member duplicate email", []string{"POST", "/v1/members", adminToken, strings.Replace(member, "n@example.org", "rita.rider@example.org", 1)}, 409, "email", "already exists"},
		{"member bad qualification", []string{"POST", "/v1/members", adminToken, strings.Replace(member, `"roles"`, `"qualifications":["stay"],"roles"`, 1)}, 400, "qualifications", "not a kind of work"},
		{"work wrong kind", []string{"POST", "/v1/work", c.token, `{"kind":"stay","details":{},"priceCents":100}`}, 400, "kind", "must be one of: ride"},
		{"work missing dropoff", []string{"POST", "/v1/work", c.token, `{"kind":"ride","details":{"pickup":"a"},"priceCents":100}`}, 400, "details.dropoff", "is required"},
		{"work unknown detail", []string{"POST", "/v1/work", c.token, `{"kind":"ride","details":{"pickup":"a","dropoff":"b","ssn":"1"},"priceCents":100}`}, 400, "details.ssn", "unknown field"},
		{"work no price", []string{"POST", "/v1/work", c.token, `{"kind":"ride","details":{"pickup":"a","dropoff":"b"}}`}, 400, "priceCents", "must be a positive integer"},
		{"worker requests work", []string{"POST", "/v1/work", w.token, `{"kind":"ride","details":{"pickup":"a","dropoff":"b"},"priceCents":100}`}, 403, "", "only customers"},
		{"bad work id", []string{"GET", "/v1/work/abc", c.token, ""}, 400, "id", "positive integer id"},
		{"missing work", []string{"GET", "/v1/work/424242", c.token, ""}, 404, "", "work not found"},
		{"start before accept", []string{"POST", fmt.Sprintf("/v1/work/%d/start", work), adminToken, ""}, 409, "state", "cannot go to in_progress"},
		{"rate out of range", []string{"POST", fmt.Sprintf("/v1/work/%d/rating", work), c.token, `{"stars":6}`}, 400, "stars", "from 1 to 5"},
		{"ballot bad choice", []string{"PUT", fmt.Sprintf("/v1/proposals/%d/ballot", prop), c.token, `{"choice":"maybe"}`}, 400, "choice", "must be yes, no or abstain"},
		{"proposal ungoverned field", []string{"POST", "/v1/proposals", c.token, `{"title":"x","field":"name"}`}, 400, "field", "governed fields"},
		{"proposal no title", []string{"POST", "/v1/proposals", c.token, `{"body":"x"}`}, 400, "title", "is required"},
		{"delegate to nobody", []string{"PUT", "/v1/delegation", c.token, `{"delegateId":987654}`}, 404, "delegateId", "no active member with this id"},
		{"block self", []string{"POST", "/v1/blocks", c.token, fmt.Sprintf(`{"workerId":%d}`, c.id)}, 400, "workerId", "cannot block yourself"},
		{"availability not bool", []string{"PUT", fmt.Sprintf("/v1/members/%d/availability", w.id), w.token, `{"available":"yes"}`}, 400, "available", "true or false"},
		{"someone else's export", []string{"GET", fmt.Sprintf("/v1/members/%d/export", w.id), c.token, ""}, 403, "", "their own data"},
		{"wrong content type", []string{"POST", "/v1/proposals", c.token, `{"title":"x"}`, "Content-Type", "text/plain"}, 415, "Content-Type", "application/json"},
		{"unknown route", []string{"GET", "/v1/nothing", c.token, ""}, 404, "", "no such route"},
		{"wrong method", []string{"DELETE", "/v1/payments", c.token, ""}, 405, "", "method not allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.rowCounts()
			var body any
			if tc.req[3] != "" {
				body = tc.req[3]
			}
			r := e.call(tc.req[0], tc.req[1], tc.req[2], body, tc.req[4:]...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("content type %q", ct)
			}
			errObj, ok := r.json()["error"].(map[string]any)
			if !ok {
				t.Fatalf("no error object: %s", r.body)
			}
			field, _ := errObj["field"].(string)
			if field != tc.field || !strings.Contains(errObj["message"].(string), tc.msg) {
				t.Fatalf("error %v, want field %q message containing %q", errObj, tc.field, tc.msg)
			}
			if after := e.rowCounts(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("rows changed: %v -> %v", before, after)
			}
		})
	}
	var n int
	if err := e.s.Pool().QueryRow(context.Background(), `SELECT count(*) FROM payments`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("payments %d %v", n, err)
	}
}
