package server

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/store"
	"github.com/cooperator-dev/cooperator/platform/server/store/members"
	"github.com/cooperator-dev/cooperator/platform/server/store/payments"
)

// contents is a digest of every table of the co-op's database, by table, as q reads it.
func contents(t testing.TB, q store.DBTX) map[string]string {
	t.Helper()
	ctx := context.Background()
	rows, err := q.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(tables))
	for _, table := range tables {
		var digest string
		if err := q.QueryRow(ctx, fmt.Sprintf(`SELECT coalesce(md5(string_agg(t::text, E'\n' ORDER BY t::text)), '') FROM %s t`,
			pgx.Identifier{table}.Sanitize())).Scan(&digest); err != nil {
			t.Fatal(err)
		}
		out[table] = digest
	}
	return out
}

// duringErasure sends a request (send) while member's erasure is under way (as the
// erasure does it, in a transaction of its own that has not committed yet), checks that
// the request waits for it, commits the erasure, and fails the test unless the request,
// once answered, changed nothing in the database: what the database holds then is what
// the erasure left. It answers the request's answer.
func (e *env) duringErasure(what string, member int64, send func() resp) resp {
	e.t.Helper()
	return e.during(what, func(ctx context.Context, tx pgx.Tx) error {
		if _, _, _, err := members.On(tx).LockForErasure(ctx, member); err != nil {
			return err
		}
		return members.On(tx).Erase(ctx, member)
	}, send)
}

// during is duringErasure for any change of the database (change, run in a transaction of
// the database's owner).
func (e *env) during(what string, change func(ctx context.Context, tx pgx.Tx) error, send func() resp) resp {
	e.t.Helper()
	ctx := context.Background()
	tx, err := e.owner.Begin(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := change(ctx, tx); err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
	answer := make(chan resp, 1)
	go func() { answer <- send() }()
	e.waitsOnALock(answer, what)
	erased := contents(e.t, tx)
	if err := tx.Commit(ctx); err != nil {
		e.t.Fatal(err)
	}
	r := <-answer
	after := contents(e.t, e.owner)
	for _, table := range slices.Sorted(maps.Keys(after)) {
		if after[table] != erased[table] {
			e.t.Errorf("%s: answered %d %s, and wrote to %s after the erasure", what, r.status, r.body, table)
		}
	}
	return r
}

// TestSecurity_NoWriteOutlivesAnErasure: every route a member writes through, sent while
// the erasure of the member it is about is under way, waits for the erasure and is then
// refused (4xx), writing nothing: none of it is written after the erasure that would have
// removed it (a rating, a cancellation's reason, a refund request's reason, a schedule, a
// background check, a listing's words, a ballot...). Each write holds the row of the
// member it is about, whoever sends it (lockSelf, lockKept, changeWork). A route that a
// member's token may write through and that this test does not send fails it, until it
// is added here (or to removals, with the reason it needs no case).
func TestSecurity_NoWriteOutlivesAnErasure(t *testing.T) {
	type request struct {
		erased              who // the member whose erasure is under way
		method, path, token string
		body                any
		headers             []string
	}
	// Each case sets up its own co-op and answers the request to send.
	cases := map[string]func(t *testing.T) (*env, request){
		"DELETE /v1/members/{id}": func(t *testing.T) (*env, request) {
			e := newEnv(t, mustPolicy(t, ridePolicy))
			c := e.customer("Rita Rider")
			return e, request{c, "DELETE", fmt.Sprintf("/v1/members/%d", c.id), c.token, nil, nil}
		},
		"PUT /v1/members/{id}/availability": func(t *testing.T) (*env, request) {
			e := newEnv(t, mustPolicy(t, ridePolicy))
			w := e.member("Dan Driver", []string{"worker"}, "drivers", "ride")
			return e, request{w, "PUT", fmt.Sprintf("/v1/members/%d/availability", w.id), w.token, map[string]any{"available": true}, nil}
		},
		"PUT /v1/members/{id}/schedule": func(t *testing.T) (*env, request) {
			e := newEnv(t, mustPolicy(t, ridePolicy))
			w := e.member("Dan Driver", []string{"worker"}, "drivers", "ride")
			return e, request{w, "PUT", fmt.Sprintf("/v1/members/%d/schedule", w.id), w.token,
				map[string]any{"weekly": []map[string]string{{"day": "mon", "from": "09:00", "to": "17:00"}}}, nil}
		},
		"POST /v1/members/{id}/schedule/exceptions": func(t *testing.T) (*env, request) {
			e := newEnv(t, mustPolicy(t, ridePolicy))
			w := e.member("Dan Driver", []string{"worker"}, "drivers", "ride")
			return e, request{w, "POST", fmt.Sprintf("/v1/members/%d/schedule/exceptions", w.id), w.token,
				map[string]any{"from": "2026-12-24T00:00:00Z", "to": "2026-12-27T00:00:00Z", "available": false}, nil}
		},
		"DELETE /v1/members/{id}/schedule/exceptions/{exceptionId}": func(t *testing.T) (*env, request) {
			e := newEnv(t, mustPolicy(t, ridePolicy))
			w := e.member("Dan Driver", []string{"worker"}, "drivers", "ride")
			sc := e.must(201, "POST", fmt.Sprintf("/v1/members/%d/schedule/exceptions", w.id), w.token,
				map[string]any{"from": "2026-12-24T00:00:00Z", "to": "2026-12-27T00:00:00Z", "available": false})
			x := num(sc["exceptions"].([]any)[0].(map[string]any)["id"])
			return e, request{w, "DELETE", fmt.Sprintf("/v1/members/%d/schedule/exceptions/%d", w.id, x), w.token, nil, nil}
		},
		"PUT /v1/members/{id}/credentials": func(t *testing.T) (*env, request) {
			e := newEnv(t, mustPolicy(t, ridePolicy))
			w := e.member("Dan Driver", []string{"worker"}, "drivers", "ride")
			staff := e.member("Sam Staff", []string{"staff"}, "staff")
			return e, request{w, "PUT", fmt.Sprintf("/v1/members/%d/credentials", w.id), staff.token, map[string]any{"skills": []string{"wheelchair"},
				"backgroundCheck": map[string]any{"status": "clear", "checkedOn": "2026-11-02", "expiresAt": "2027-11-02T00:00:00Z"}}, nil}
		},
		"PUT /v1/members/{id}/team": func(t *testing.T) (*env, request) {
			e := newEnv(t, verticalPolicy(t, "care"))
			c := e.member("Cid Client", []string{"customer"}, "")
			w := e.member("Cara Carer", []string{"worker"}, "")
			return e, request{c, "PUT", fmt.Sprintf("/v1/members/%d/team", c.id), c.token, map[string]any{"workerIds": []int64{w.id}}, nil}
		},
		"PUT /v1/members/{id}/team (a worker of the team)": func(t *testing.T) (*env, request) {
			e := newEnv(t, verticalPolicy(t, "care"))
			c := e.member("Cid Client", []string{"customer"}, "")
			w := e.member("Cara Carer", []string{"worker"}, "")
			return e, request{w, "PUT", fmt.Sprintf("/v1/members/%d/team", c.id), c.token, map[string]any{"workerIds": []int64{w.id}}, nil}
		},
		"POST /v1/members/{id}/tokens": func(t *testing.T) (*env, request) {
			e := newEnv(t, mustPolicy(t, ridePolicy))
			c := e.customer("Rita Rider")
			return e, request{c, "POST", fmt.Sprintf("/v1/members/%d/tokens", c.id), c.token, nil, nil}
		},
		"POST /v1/members/{id}/sign-in-codes": func(t *testing.T) (*env, request) {
			e := newEnv(t, mustPolicy(t, ridePolicy))
			c := e.customer("Rita Rider")
			return e, request{c, "POST", fmt.Sprintf("/v1/members/%d/sign-in-codes", c.id), c.token, nil, nil}
		},
		"POST /v1/members/{id}/claim": func(t *testing.T) (*env, request) {
			e := newEnv(t, mustPolicy(t, ridePolicy))
			c := e.customer("Rita Rider")
			return e, request{c, "POST", fmt.Sprintf("/v1/members/%d/claim", c.id), c.token, nil, nil}
		},
		"POST /v1/blocks": func(t *testing.T) (*env, request) {
			e := newEnv(t, mustPolicy(t, ridePolicy))
			c, w := e.customer("Rita Rider"), e.worker("Dan Driver")
			return e, request{c, "POST", "/v1/blocks", c.token, map[string]any{"workerId": w.id}, nil}
		},
		"POST /v1/blocks (the worker blocked)": func(t *testing.T) (*env, request) {
			e := newEnv(t, mustPolicy(t, ridePolicy))
			c, w := e.customer("Rita Rider"), e.worker("Dan Driver")
			return e, request{w, "POST", "/v1/blocks", c.token, map[string]any{"workerId": w.id}, nil}
		},
		"POST /v1/work": func(t *testing.T) (*env, request) {
			e := newEnv(t, mustPolicy(t, ridePolicy))
			c := e.customer("Rita Rider")
			return e, request{c, "POST", "/v1/work", c.token, ride(1200, 0), nil}
		},
		"POST /v1/listings": func(t *testing.T) (*env, request) {
			e := newEnv(t, verticalPolicy(t, "marketplace"))
			m := e.member("Mo Maker", []string{"worker"}, "")
			return e, request{m, "POST", "/v1/listings", m.token, map[string]any{"title": "Mo's bowl, from 12 rue des Lilas", "priceCents": 2500, "stock": 3}, nil}
		},
		"PUT /v1/listings/{id}/stock": func(t *testing.T) (*env, request) {
			e := newEnv(t, verticalPolicy(t, "marketplace"))
			m := e.member("Mo Maker", []string{"worker"}, "")
			lid := num(e.must(201, "POST", "/v1/listings", m.token, map[string]any{"title": "Bowl", "priceCents": 2500, "stock": 3})["id"])
			return e, request{m, "PUT", fmt.Sprintf("/v1/listings/%d/stock", lid), m.token, map[string]any{"stock": 9}, nil}
		},
		"POST /v1/work/{id}/match": func(t *testing.T) (*env, request) {
			e, c, _, id := rideTakenTo(t)
			return e, request{c, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil, nil}
		},
		"POST /v1/work/{id}/accept": func(t *testing.T) (*env, request) {
			e, _, w, id := rideTakenTo(t, "match")
			return e, request{w, "POST", fmt.Sprintf("/v1/work/%d/accept", id), w.token, nil, nil}
		},
		"POST /v1/work/{id}/decline": func(t *testing.T) (*env, request) {
			e, _, w, id := rideTakenTo(t, "match")
			return e, request{w, "POST", fmt.Sprintf("/v1/work/%d/decline", id), w.token, nil, nil}
		},
		"POST /v1/work/{id}/start": func(t *testing.T) (*env, request) {
			e, _, w, id := rideTakenTo(t, "match", "accept")
			return e, request{w, "POST", fmt.Sprintf("/v1/work/%d/start", id), w.token, nil, nil}
		},
		"POST /v1/work/{id}/complete": func(t *testing.T) (*env, request) {
			e, _, w, id := rideTakenTo(t, "match", "accept", "start")
			return e, request{w, "POST", fmt.Sprintf("/v1/work/%d/complete", id), w.token, nil, nil}
		},
		"POST /v1/work/{id}/cancel": func(t *testing.T) (*env, request) {
			e, c, _, id := rideTakenTo(t, "match", "accept")
			return e, request{c, "POST", fmt.Sprintf("/v1/work/%d/cancel", id), c.token, map[string]any{"reason": "Rita is moving to 12 rue des Lilas"}, nil}
		},
		"POST /v1/work/{id}/rating": func(t *testing.T) (*env, request) {
			e := newEnv(t, mustPolicy(t, ridePolicy))
			c := e.customer("Rita Rider")
			e.worker("Dan Driver")
			id, _ := e.completedRide(c, 1200)
			return e, request{c, "POST", fmt.Sprintf("/v1/work/%d/rating", id), c.token, map[string]any{"stars": 2}, nil}
		},
		"POST /v1/work/{id}/milestones/{n}/submit": func(t *testing.T) (*env, request) {
			e, _, dev, id := milestoneWork(t)
			return e, request{dev, "POST", fmt.Sprintf("/v1/work/%d/milestones/1/submit", id), dev.token, nil, nil}
		},
		"POST /v1/work/{id}/milestones/{n}/accept": func(t *testing.T) (*env, request) {
			e, client, dev, id := milestoneWork(t)
			e.must(200, "POST", fmt.Sprintf("/v1/work/%d/milestones/1/submit", id), dev.token, nil)
			return e, request{client, "POST", fmt.Sprintf("/v1/work/%d/milestones/1/accept", id), client.token, nil, nil}
		},
		"POST /v1/payments": func(t *testing.T) (*env, request) {
			e := newEnv(t, mustPolicy(t, ridePolicy))
			c := e.customer("Rita Rider")
			e.worker("Dan Driver")
			id, _ := e.completedRide(c, 1200)
			return e, request{c, "POST", "/v1/payments", c.token, map[string]any{"workId": id, "amountCents": 200}, []string{"Idempotency-Key", "tip from Rita"}}
		},
		"POST /v1/payments/{id}/refund": func(t *testing.T) (*env, request) {
			e := newEnv(t, mustPolicy(t, ridePolicy))
			c := e.customer("Rita Rider")
			e.worker("Dan Driver")
			id, _ := e.completedRide(c, 1200)
			pay := num(e.must(200, "GET", fmt.Sprintf("/v1/work/%d", id), c.token, nil)["paymentId"])
			return e, request{c, "POST", fmt.Sprintf("/v1/payments/%d/refund", pay), c.token, map[string]any{"reason": "Rita was charged twice, call 06 12 34 56 78"}, nil}
		},
		"POST /v1/disbursements": func(t *testing.T) (*env, request) {
			e := newEnv(t, mustPolicy(t, ridePolicy))
			c := e.customer("Rita Rider")
			e.worker("Dan Driver")
			e.completedRide(c, 5000)
			return e, request{c, "POST", "/v1/disbursements", c.token, map[string]any{"fund": "hardship", "amountCents": 10, "memberId": c.id, "reason": "Rita's rent at 12 rue des Lilas"}, []string{"Idempotency-Key", "rent"}}
		},
		"POST /v1/proposals": func(t *testing.T) (*env, request) {
			e := newEnv(t, mustPolicy(t, ridePolicy))
			v := e.worker("Vic Driver")
			return e, request{v, "POST", "/v1/proposals", v.token, map[string]any{"title": "Vic's plan", "body": "From Vic, 12 rue des Lilas", "field": "plan", "value": "medium"}, nil}
		},
		"PUT /v1/proposals/{id}/ballot": func(t *testing.T) (*env, request) {
			e := newEnv(t, mustPolicy(t, ridePolicy))
			v, w := e.worker("Vic Driver"), e.worker("Dan Driver")
			id := num(e.must(201, "POST", "/v1/proposals", w.token, map[string]any{"title": "Plan", "body": "", "field": "plan", "value": "medium"})["id"])
			return e, request{v, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), v.token, map[string]any{"choice": "no"}, nil}
		},
		"POST /v1/members/{id}/notifications/read": func(t *testing.T) (*env, request) {
			e := newEnv(t, mustPolicy(t, ridePolicy))
			c := e.customer("Rita Rider")
			e.completedRideBy(c, e.worker("Dan Driver"), 1200)
			return e, request{c, "POST", fmt.Sprintf("/v1/members/%d/notifications/read", c.id), c.token, map[string]any{"upTo": 1}, nil}
		},
		"PUT /v1/delegation": func(t *testing.T) (*env, request) {
			e := newEnv(t, withModel(t, policy.Delegate, 50, 50))
			a := e.member("Ana Worker", []string{"worker"}, "")
			b := e.member("Bea Worker", []string{"worker"}, "")
			return e, request{a, "PUT", "/v1/delegation", a.token, map[string]any{"delegateId": b.id}, nil}
		},
	}
	// Removals need no case: what they remove, the erasure removes too.
	removals := map[string]string{
		"DELETE /v1/members/{id}/tokens/{tokenId}": "the erasure removes every token",
		"DELETE /v1/blocks/{workerId}":             "the erasure removes the member's blocks",
		"DELETE /v1/delegation":                    "the erasure removes the member's delegations",
		"POST /v1/quotes":                          "a quote writes nothing",
	}
	e := newEnv(t, mustPolicy(t, ridePolicy))
	for _, rt := range e.s.routes {
		name := rt.method + " " + rt.pattern
		if rt.access != member || rt.method == "GET" {
			continue
		}
		if _, ok := cases[name]; !ok && removals[name] == "" {
			t.Errorf("%s: a member writes through it; send it during an erasure here", name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(cases)) {
		t.Run(name, func(t *testing.T) {
			e, req := cases[name](t)
			r := e.duringErasure(name, req.erased.id, func() resp { return e.call(req.method, req.path, req.token, req.body, req.headers...) })
			if r.status < 400 || r.status >= 500 {
				t.Errorf("%s, sent during the erasure of member %d: %d %s, want a refusal", name, req.erased.id, r.status, r.body)
			}
		})
	}
}

// rideTakenTo is a ride-sharing co-op with a customer, a driver and the customer's ride
// request, taken through steps (match by the customer; accept, start by the driver).
func rideTakenTo(t *testing.T, steps ...string) (e *env, customer, driver who, id int64) {
	e = newEnv(t, mustPolicy(t, ridePolicy))
	customer, driver = e.customer("Rita Rider"), e.worker("Dan Driver")
	id = num(e.must(201, "POST", "/v1/work", customer.token, ride(1200, 0))["id"])
	for _, step := range steps {
		by := driver.token
		if step == "match" {
			by = customer.token
		}
		e.must(200, "POST", fmt.Sprintf("/v1/work/%d/%s", id, step), by, nil)
	}
	return e, customer, driver, id
}

// milestoneWork is a freelance project of two milestones under way: its client, its
// worker and its id.
func milestoneWork(t *testing.T) (e *env, client, dev who, id int64) {
	e = newEnv(t, verticalPolicy(t, "freelance"))
	client = e.member("Cia Client", []string{"customer"}, "")
	dev = e.member("Dev Freelancer", []string{"worker"}, "", "gig")
	e.setAvailable(dev, true)
	id = num(e.must(201, "POST", "/v1/work", client.token, map[string]any{"kind": "gig", "priceCents": 90000,
		"details":    map[string]string{"title": "Website", "description": "A co-op's website"},
		"milestones": []map[string]any{{"title": "Design", "amountCents": 30000}, {"title": "Build", "amountCents": 60000}}})["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), client.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", id), dev.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/start", id), dev.token, nil)
	return e, client, dev, id
}

// TestSecurity_NoWriteOutlivesADeactivation: a member's write sent while staff deactivate
// them waits for the deactivation and is refused (403), writing nothing, as during an
// erasure: the writes hold the member's row for key share, which an update of the member
// does not wait for, so a deactivation takes the row for update first.
func TestSecurity_NoWriteOutlivesADeactivation(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.customer("Rita Rider")
	e.worker("Dan Driver")
	id, _ := e.completedRide(c, 1200)
	off := false
	r := e.during("a rating sent during its customer's deactivation", func(ctx context.Context, tx pgx.Tx) error {
		_, err := members.On(tx).Update(ctx, c.id, members.Fields{Active: &off})
		return err
	}, func() resp {
		return e.call("POST", fmt.Sprintf("/v1/work/%d/rating", id), c.token, map[string]any{"stars": 1})
	})
	if r.status != 403 || !strings.Contains(string(r.body), "not active") {
		t.Fatalf("a rating sent during its customer's deactivation: %d %s", r.status, r.body)
	}
}

// answersAtOnce is the answer that comes on answer, which must not wait for a transaction
// under way (it fails the test after 30 s, saying what waited).
func (e *env) answersAtOnce(answer chan resp, what string) resp {
	e.t.Helper()
	select {
	case r := <-answer:
		return r
	case <-time.After(30 * time.Second):
		e.t.Fatalf("%s waited for the transaction under way", what)
		return resp{}
	}
}

// heldTip has customer c's completed ride tipped by c (a payment whose key is c's own),
// and holds the tip for update in a transaction that has not committed, as a refund does
// first; it answers the tip and that transaction (rolled back when the test ends).
func (e *env) heldTip(c who) (int64, pgx.Tx) {
	e.t.Helper()
	id, _ := e.completedRide(c, 1200)
	tip := num(e.must(201, "POST", "/v1/payments", c.token, map[string]any{"workId": id, "amountCents": 200}, "Idempotency-Key", "tip from "+fmt.Sprint(c.id))["id"])
	ctx := context.Background()
	tx, err := e.s.Pool().Begin(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	if _, err := payments.On(tx).LockForRefund(ctx, tip); err != nil {
		e.t.Fatal(err)
	}
	return tip, tx
}

// TestSecurity_ErasureDoesNotWaitForARefund: a refund holds its payment, then its ledger's
// foreign key waits on the payer's row; an erasure of the payer holds that row and then
// rewrites the payment's key (the payer's own). The erasure takes the payment without
// waiting: while a refund holds it, the erasure answers 409 at once and writes nothing,
// rather than deadlock with it (PostgreSQL would end one of them); once the refund is
// done, the erasure goes through.
func TestSecurity_ErasureDoesNotWaitForARefund(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.customer("Rita Rider")
	e.worker("Dan Driver")
	ctx := t.Context()
	_, tx := e.heldTip(c)
	before := contents(t, e.owner)
	answer := make(chan resp, 1)
	go func() { answer <- e.call("DELETE", fmt.Sprintf("/v1/members/%d", c.id), c.token, nil) }()
	if r := e.answersAtOnce(answer, "the erasure while a refund held the payer's tip"); r.status != 409 || !strings.Contains(string(r.body), "changing right now") {
		t.Fatalf("the erasure while a refund held the payer's tip: %d %s", r.status, r.body)
	}
	if after := contents(t, e.owner); !maps.Equal(before, after) {
		t.Fatal("the refused erasure wrote")
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d", c.id), c.token, nil)
}

// TestMatchDoesNotSkipAWorkerWritingSomething: a member's write holds their row for key
// share (lockSelf) while it runs; a match running meanwhile still offers the work to that
// worker, rather than skipping them as a row it may not lock (it locks its candidates for
// no key update, which key share does not block).
func TestMatchDoesNotSkipAWorkerWritingSomething(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	w := e.worker("Dan Driver")
	c := e.customer("Rita Rider")
	ctx := t.Context()
	id := num(e.must(201, "POST", "/v1/work", c.token, ride(1200, 0))["id"])
	tx, err := e.s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if active, err := members.On(tx).LockActive(ctx, w.id); err != nil || !active { // as the worker's ballot, say, does
		t.Fatal(active, err)
	}
	if offer := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil); num(offer["workerId"]) != w.id {
		t.Fatalf("the match while the worker was writing: %v", offer)
	}
}

// TestSecurity_AStrangersRefundLocksNothing: a member's refund of a payment that is not
// theirs is 404 without locking it (it read the payment for update first, then refused):
// while another transaction holds the payment, as a party's erasure would, the stranger
// is answered at once, and holds up nobody's erasure.
func TestSecurity_AStrangersRefundLocksNothing(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.customer("Rita Rider")
	e.worker("Dan Driver")
	stranger := e.customer("Sid Stranger")
	tip, _ := e.heldTip(c)
	answer := make(chan resp, 1)
	go func() {
		answer <- e.call("POST", fmt.Sprintf("/v1/payments/%d/refund", tip), stranger.token, map[string]any{"reason": "mine"})
	}()
	if r := e.answersAtOnce(answer, "a stranger's refund of a held payment"); r.status != 404 {
		t.Fatalf("a stranger's refund: %d %s", r.status, r.body)
	}
}
