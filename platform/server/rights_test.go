package server

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestExportAndErasure(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.member("Zoé Secret", []string{"customer"}, "riders")
	w := e.worker("Dan Driver")
	other := e.customer("Olga Other")
	id := num(e.must(201, "POST", "/v1/work", c.token, map[string]any{"kind": "ride",
		"details": map[string]string{"pickup": "12 Rue Secrète", "dropoff": "Gare"}, "priceCents": 2500})["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil)
	e.must(409, "DELETE", fmt.Sprintf("/v1/members/%d", c.id), c.token, nil) // work under way
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", id), w.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/start", id), w.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/complete", id), w.token, nil)
	e.must(201, "POST", "/v1/payments", c.token, map[string]any{"workerId": w.id, "amountCents": 300}, "Idempotency-Key", "tip-1")
	e.must(201, "POST", "/v1/blocks", c.token, map[string]any{"workerId": w.id})
	pid := num(e.must(201, "POST", "/v1/proposals", c.token, map[string]any{"title": "More night drivers"})["id"])
	e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", pid), c.token, map[string]any{"choice": "yes"})

	e.must(403, "GET", fmt.Sprintf("/v1/members/%d/export", c.id), other.token, nil)
	r := e.call("GET", fmt.Sprintf("/v1/members/%d/export", c.id), c.token, nil)
	if r.status != 200 {
		t.Fatalf("export %d %s", r.status, r.body)
	}
	var exp struct {
		Member   map[string]any   `json:"member"`
		Work     []map[string]any `json:"work"`
		Payments []any            `json:"payments"`
		Ledger   []any            `json:"ledgerEntries"`
		Ballots  []any            `json:"ballots"`
		Blocks   []any            `json:"blocks"`
		Tokens   []any            `json:"tokens"`
	}
	if err := json.Unmarshal(r.body, &exp); err != nil {
		t.Fatal(err)
	}
	if exp.Member["name"] != "Zoé Secret" || len(exp.Work) != 1 || len(exp.Payments) != 2 || len(exp.Ledger) != 2 ||
		len(exp.Ballots) != 1 || len(exp.Blocks) != 1 || len(exp.Tokens) != 1 || !strings.Contains(string(r.body), "12 Rue Secrète") {
		t.Fatalf("export incomplete: %s", r.body)
	}
	if strings.Contains(string(r.body), "token_hash") {
		t.Fatal("export leaks token hashes")
	}

	entriesBefore := e.count("ledger_entries")
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d", c.id), c.token, nil)
	// The token is gone with the person.
	e.must(401, "GET", fmt.Sprintf("/v1/members/%d", c.id), c.token, nil)
	e.must(409, "DELETE", fmt.Sprintf("/v1/members/%d", c.id), adminToken, nil)

	if e.count("ledger_entries") != entriesBefore {
		t.Fatal("erasure removed ledger entries")
	}
	e.assertBalanced()
	// No personal field survives anywhere in the database.
	for _, secret := range []string{"Zoé Secret", "zoé.secret@example.org", "12 Rue Secrète"} {
		var n int
		err := e.s.Pool().QueryRow(context.Background(), `SELECT
			(SELECT count(*) FROM members m WHERE m::text ILIKE '%' || $1 || '%') +
			(SELECT count(*) FROM work_items w WHERE w::text ILIKE '%' || $1 || '%') +
			(SELECT count(*) FROM work_history h WHERE h::text ILIKE '%' || $1 || '%') +
			(SELECT count(*) FROM payments p WHERE p::text ILIKE '%' || $1 || '%')`, secret).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%q survives erasure in %d rows", secret, n)
		}
	}
	// Earnings and the payment breakdown still add up.
	earn := e.must(200, "GET", fmt.Sprintf("/v1/members/%d/earnings", w.id), w.token, nil)
	if num(earn["earnedCents"]) != 2425+291 {
		t.Fatalf("earnings %v", earn)
	}
	m := e.must(200, "GET", fmt.Sprintf("/v1/members/%d", c.id), adminToken, nil)
	if m["name"] != nil || m["email"] != nil || m["erasedAt"] == nil {
		t.Fatalf("member after erasure %v", m)
	}
}
