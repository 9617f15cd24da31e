package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cooperator-dev/cooperator/api/policy"
)

// The tests of a security review of the platform service: each is named after the rule it
// proves, and fails without it.

// TestSecurity_TimesOutsideWindowRefused: a booking's scheduledAt, a schedule's exceptions
// and a background check's expiry more than ten years from the service's clock answer 400
// naming the field, and nothing is written. (9999-12-31T23:30:00Z was stored: its slot ends
// in year 10000, which JSON cannot carry, and the work answered 201 with an empty body.)
func TestSecurity_TimesOutsideWindowRefused(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "home-services"))
	c := e.member("Cleo Client", []string{"customer"}, "")
	w := e.member("Pat Plumber", []string{"worker"}, "", "booking")
	booking := func(at string) map[string]any {
		return map[string]any{"kind": "booking", "priceCents": 4500,
			"details": map[string]string{"address": "3 rue Mercière", "service": "plumbing", "scheduledAt": at}}
	}
	for _, at := range []string{"9999-12-31T23:30:00Z", "0000-01-01T00:00:00+01:00", "2036-12-01T09:00:01Z", "1969-12-31T23:59:59Z"} {
		e.refused(400, "details.scheduledAt", "at most 10 years after", "POST", "/v1/work", c.token, booking(at))
	}
	// At the window's edges, a booking is taken and answered in full.
	for _, at := range []string{"2036-12-01T09:00:00Z", "1970-01-01T00:00:00Z"} {
		if got := e.must(201, "POST", "/v1/work", c.token, booking(at)); got["startsAt"] == nil {
			t.Fatalf("booking at %s answered %v", at, got)
		}
	}
	sched := fmt.Sprintf("/v1/members/%d/schedule", w.id)
	exception := func(from, to string) map[string]any {
		return map[string]any{"weekly": []any{}, "exceptions": []any{map[string]any{"from": from, "to": to, "available": true}}}
	}
	e.refused(400, "exceptions[0].from", "at most 10 years after", "PUT", sched, w.token, exception("9999-12-31T20:00:00Z", "9999-12-31T23:00:00-05:00"))
	e.refused(400, "exceptions[0].to", "at most 10 years after", "PUT", sched, w.token, exception("2026-12-02T09:00:00Z", "9999-12-31T23:00:00-05:00"))
	e.refused(400, "exceptions[0].from", "at most 10 years after", "PUT", sched, w.token, exception("0000-01-01T00:00:00+01:00", "2026-12-02T09:00:00Z"))
	// A time that is not RFC 3339 is named by its field too, not answered "malformed JSON".
	e.refused(400, "exceptions[0].to", "must be a time like 2026-07-14T09:30:00Z", "PUT", sched, w.token, exception("2026-12-02T09:00:00Z", "2026-12-02 17:00"))
	e.refused(400, "", "a time must be a JSON string", "PUT", sched, w.token,
		map[string]any{"weekly": []any{}, "exceptions": []any{map[string]any{"from": 1764666000, "to": "2026-12-02T17:00:00Z", "available": true}}})
	e.must(200, "PUT", sched, w.token, exception("2026-12-02T09:00:00Z", "2026-12-02T17:00:00Z"))
	// An old exception, as a schedule read years ago holds it, is no reason to refuse it.
	e.must(200, "PUT", sched, w.token, exception("2001-01-01T09:00:00Z", "2001-01-01T17:00:00Z"))
	e.refused(400, "backgroundCheck.expiresAt", "at most 10 years after", "PUT", fmt.Sprintf("/v1/members/%d/credentials", w.id), adminToken,
		map[string]any{"backgroundCheck": map[string]any{"status": "clear", "checkedOn": "2025-12-01", "expiresAt": "9999-12-31T23:00:00-05:00"}})
	// The same text in a date field (well formed there) does not take the blame.
	e.refused(400, "backgroundCheck.expiresAt", "must be a time like", "PUT", fmt.Sprintf("/v1/members/%d/credentials", w.id), adminToken,
		map[string]any{"backgroundCheck": map[string]any{"status": "clear", "checkedOn": "2027-06-30", "expiresAt": "2027-06-30"}})
}

// TestSecurity_TimesKeptToTheMicrosecond: a request's times are kept to the microsecond,
// as PostgreSQL keeps them, before they are checked: time off shorter than a microsecond
// (from 00:00:00Z to 00:00:00.000000001Z, empty once stored), sent alone or in a
// schedule, answers 400 naming to, and writes nothing (the database refused it: 500); a
// background check that would expire at its check's midnight is refused as such; a
// booking's slot starts at the microsecond kept, and is answered as stored.
func TestSecurity_TimesKeptToTheMicrosecond(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "home-services"))
	c := e.member("Cleo Client", []string{"customer"}, "")
	w := e.member("Pat Plumber", []string{"worker"}, "", "booking")
	sched := fmt.Sprintf("/v1/members/%d/schedule", w.id)
	tooShort := map[string]any{"from": "2026-12-03T00:00:00Z", "to": "2026-12-03T00:00:00.000000001Z", "available": false}
	e.refused(400, "to", "must be after from", "POST", sched+"/exceptions", w.token, tooShort)
	e.refused(400, "exceptions[0].to", "must be after from", "PUT", sched, w.token, map[string]any{"weekly": []any{}, "exceptions": []any{tooShort}})
	e.refused(400, "backgroundCheck.expiresAt", "after checkedOn", "PUT", fmt.Sprintf("/v1/members/%d/credentials", w.id), adminToken,
		map[string]any{"backgroundCheck": map[string]any{"status": "clear", "checkedOn": "2026-07-14", "expiresAt": "2026-07-14T00:00:00.0000009Z"}})
	got := e.must(201, "POST", sched+"/exceptions", w.token, map[string]any{"from": "2026-12-03T00:00:00.0000019Z", "to": "2026-12-03T00:00:00.0000029Z", "available": false})
	if x := got["exceptions"].([]any)[0].(map[string]any); x["from"] != "2026-12-03T00:00:00.000001Z" || x["to"] != "2026-12-03T00:00:00.000002Z" {
		t.Fatalf("a time off of a microsecond, as stored: %v", x)
	}
	booked := e.must(201, "POST", "/v1/work", c.token, map[string]any{"kind": "booking", "priceCents": 4500,
		"details": map[string]string{"address": "3 rue Mercière", "service": "plumbing", "scheduledAt": "2026-12-03T14:30:00.0000009Z"}})
	if booked["startsAt"] != "2026-12-03T14:30:00Z" || booked["endsAt"] != "2026-12-03T15:30:00Z" {
		t.Fatalf("a booking's slot from a time finer than a microsecond: %v to %v, want 14:30:00Z to 15:30:00Z", booked["startsAt"], booked["endsAt"])
	}
}

// TestSecurity_UnencodableAnswerIs500: an answer that cannot be encoded as JSON (a time
// past year 9999, as a row stored before the window above holds) is a 500 with a JSON
// error body, not the handler's status with an empty body.
func TestSecurity_UnencodableAnswerIs500(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "home-services"))
	c := e.member("Cleo Client", []string{"customer"}, "")
	id := num(e.must(201, "POST", "/v1/work", c.token, map[string]any{"kind": "booking", "priceCents": 4500,
		"details": map[string]string{"address": "3 rue Mercière", "service": "plumbing", "scheduledAt": "2026-12-03T14:30:00Z"}})["id"])
	if _, err := e.owner.Exec(context.Background(), `UPDATE work_items SET starts_at = '9999-12-31 23:30+00', ends_at = '9999-12-31 23:30+00'::timestamptz + interval '1 hour' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	r := e.call("GET", fmt.Sprintf("/v1/work/%d", id), c.token, nil)
	if r.status != 500 || r.json()["error"].(map[string]any)["message"] != "internal error" {
		t.Fatalf("GET of work with an unencodable time: %d %q, want 500 with a JSON error", r.status, r.body)
	}
}

// TestSecurity_StayUnitSpacesDoNotDoubleBook: a stay's unit is stored without the spaces
// around it, as the overlap check compares it, so "3B " and "3B" are one place and cannot
// be booked twice for the same nights.
func TestSecurity_StayUnitSpacesDoNotDoubleBook(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "housing"))
	guest := e.member("Gus Guest", []string{"customer"}, "")
	stay := func(unit, in, out string) map[string]any {
		return map[string]any{"kind": "stay", "priceCents": 70000, "details": map[string]string{"unit": unit, "checkIn": in, "checkOut": out}}
	}
	first := e.must(201, "POST", "/v1/work", guest.token, stay("3B ", "2026-12-10", "2026-12-17"))
	if unit := first["details"].(map[string]any)["unit"]; unit != "3B" {
		t.Fatalf("stored unit %q, want 3B", unit)
	}
	e.refused(409, "details.checkIn", "3B is taken for some of the nights from 2026-12-12 to 2026-12-14", "POST", "/v1/work", guest.token, stay("3B", "2026-12-12", "2026-12-14"))
	e.refused(409, "details.checkIn", "3B is taken for some of the nights from 2026-12-16 to 2026-12-18", "POST", "/v1/work", guest.token, stay(" 3B  ", "2026-12-16", "2026-12-18"))
}

// TestSecurity_StayUnitIsOnePlaceHoweverWritten: a unit's name is one place whatever its
// case, its spaces (runs of them, a no-break space), full-width letters or an accented
// capital: "Apt 3" booked, "apt 3", "APT 3", "Apt  3" and "Apt\u00a03" were booked again
// for the same nights (201). The key is the database's (stay_place), so a stay stored
// before, as it was written then, holds its place too. The refusal says the guest's own
// dates, never the other stay's.
func TestSecurity_StayUnitIsOnePlaceHoweverWritten(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "housing"))
	first, second := e.member("Gus Guest", []string{"customer"}, ""), e.member("Mal Guest", []string{"customer"}, "")
	stay := func(unit, in, out string) map[string]any {
		return map[string]any{"kind": "stay", "priceCents": 70000, "details": map[string]string{"unit": unit, "checkIn": in, "checkOut": out}}
	}
	e.must(201, "POST", "/v1/work", first.token, stay("Apt 3", "2026-12-10", "2026-12-17"))
	e.must(201, "POST", "/v1/work", first.token, stay("Étage 2", "2026-12-10", "2026-12-17"))
	// A stay written before, its unit as it was stored then.
	if _, err := e.owner.Exec(context.Background(), `INSERT INTO work_items (vertical, kind, customer_id, state, price_cents, details)
		VALUES ('housing', 'stay', $1, 'requested', 70000, '{"unit": "Loft\u00a0 7 ", "checkIn": "2026-12-10", "checkOut": "2026-12-17"}')`, first.id); err != nil {
		t.Fatal(err)
	}
	for _, unit := range []string{"apt 3", "APT 3", "Apt  3", "Apt\u00a03", "Apt\t3", "Apt\u20033", "Apt\u30003", "Ａｐｔ ３", "Apt\u200b 3",
		"étage 2", "ÉTAGE 2", "E\u0301tage 2", "loft 7", "LOFT 7"} {
		r := e.call("POST", "/v1/work", second.token, stay(unit, "2026-12-12", "2026-12-14"))
		errObj, _ := r.json()["error"].(map[string]any)
		msg := fmt.Sprint(errObj["message"])
		if r.status != 409 || errObj["field"] != "details.checkIn" || !strings.Contains(msg, "from 2026-12-12 to 2026-12-14") {
			t.Errorf("unit %q for booked nights: %d %s, want 409 naming details.checkIn with the guest's own dates", unit, r.status, r.body)
		}
		if strings.Contains(msg, "2026-12-10") || strings.Contains(msg, "2026-12-17") {
			t.Errorf("unit %q: the refusal tells the other stay's dates: %s", unit, msg)
		}
	}
	// Other places, and the same place on other nights, are free.
	for _, s := range []map[string]any{stay("Apt 4", "2026-12-12", "2026-12-14"), stay("Apt3", "2026-12-12", "2026-12-14"),
		stay("apt 3", "2026-12-17", "2026-12-20"), stay("LOFT 7", "2026-12-05", "2026-12-10")} {
		e.must(201, "POST", "/v1/work", second.token, s)
	}
}

// TestSecurity_StayCannotHoldAUnitForEver: a stay's dates lie within the window of every
// time the API stores (at most ten years after the service's clock), so no guest can book
// a unit to the year 9999 and keep everyone else out of it.
func TestSecurity_StayCannotHoldAUnitForEver(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "housing"))
	guest := e.member("Gus Guest", []string{"customer"}, "")
	stay := func(in, out string) map[string]any {
		return map[string]any{"kind": "stay", "priceCents": 1, "details": map[string]string{"unit": "3B", "checkIn": in, "checkOut": out}}
	}
	e.refused(400, "details.checkOut", "at most 10 years after", "POST", "/v1/work", guest.token, stay("2026-12-10", "9999-12-31"))
	e.refused(400, "details.checkIn", "at most 10 years after", "POST", "/v1/work", guest.token, stay("2040-01-01", "2040-01-08"))
	e.must(201, "POST", "/v1/work", guest.token, stay("2026-12-10", "2027-12-10")) // a year is a stay
}

// TestSecurity_OfferedWorkerCannotCancel: a worker offered work declines it; cancelling
// the customer's request is 403, before and after the offer expired, and the work stays
// as it was. Once the worker accepted, they may cancel it.
func TestSecurity_OfferedWorkerCannotCancel(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	w := e.worker("Dan Driver")
	c := e.customer("Rita Rider")
	id := num(e.must(201, "POST", "/v1/work", c.token, ride(1000, 0))["id"])
	if offer := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil); num(offer["workerId"]) != w.id {
		t.Fatalf("offer %v", offer)
	}
	cancel := fmt.Sprintf("/v1/work/%d/cancel", id)
	e.refused(403, "", "declines the offer", "POST", cancel, w.token, map[string]any{"reason": "no"})
	e.clock.Step(time.Hour) // the offer expired; nobody has read the work since
	e.refused(403, "", "declines the offer", "POST", cancel, w.token, nil)
	if got := e.must(200, "GET", fmt.Sprintf("/v1/work/%d", id), c.token, nil); got["state"] != "requested" || got["workerId"] != nil {
		t.Fatalf("after the offer expired the work is %v", got)
	}
	e.refused(404, "", "work not found", "POST", cancel, w.token, nil)
	e.must(200, "POST", cancel, c.token, nil)

	taken := num(e.must(201, "POST", "/v1/work", c.token, ride(1000, 0))["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", taken), c.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", taken), w.token, nil)
	if got := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", taken), w.token, nil); got["state"] != "cancelled" {
		t.Fatalf("the worker's cancel of accepted work: %v", got)
	}
}

// TestSecurity_StaffDoNotCertifyThemselves: a member with the staff role records another
// worker's credentials but not their own (403, nothing written); the admin token and
// another member of staff may.
func TestSecurity_StaffDoNotCertifyThemselves(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "care"))
	sam := e.member("Sam Staff", []string{"staff", "worker"}, "", "booking")
	tess := e.member("Tess Staff", []string{"staff"}, "")
	w := e.member("Cy Carer", []string{"worker"}, "", "booking")
	creds := map[string]any{"skills": []string{"dementia"}, "languages": []string{"fr"},
		"backgroundCheck": map[string]any{"status": "clear", "checkedOn": "2025-12-01", "expiresAt": "2027-12-01T00:00:00Z"}}
	own := fmt.Sprintf("/v1/members/%d/credentials", sam.id)
	e.refused(403, "", "do not certify themselves", "PUT", own, sam.token, creds)
	if got := e.must(200, "GET", own, sam.token, nil); got["backgroundCheck"] != nil || len(got["skills"].([]any)) != 0 {
		t.Fatalf("Sam's credentials %v", got)
	}
	e.must(200, "PUT", fmt.Sprintf("/v1/members/%d/credentials", w.id), sam.token, creds)
	e.must(200, "PUT", own, tess.token, creds)
	e.must(200, "PUT", own, adminToken, creds)
}

// TestSecurity_InactiveMemberHasNoWorkingToken: a member registered inactive gets no
// token (none is stored); a token that outlived a deactivation (one minted while the
// deactivation committed, made here in SQL) answers 401 like no token; reactivated, the
// member signs in with the token staff mint.
func TestSecurity_InactiveMemberHasNoWorkingToken(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	out := e.must(201, "POST", "/v1/members", adminToken, map[string]any{"name": "Ina Inactive", "email": "ina@example.org",
		"roles": []string{"customer"}, "stakeholderClass": "riders", "active": false})
	if tok, ok := out["token"]; ok {
		t.Fatalf("a member registered inactive got a token %v", tok)
	}
	ina := num(out["member"].(map[string]any)["id"])
	if toks := e.must(200, "GET", fmt.Sprintf("/v1/members/%d/tokens", ina), adminToken, nil)["tokens"].([]any); len(toks) != 0 {
		t.Fatalf("a member registered inactive holds tokens %v", toks)
	}
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", ina), adminToken, map[string]any{"active": true})
	tok := e.must(201, "POST", fmt.Sprintf("/v1/members/%d/tokens", ina), adminToken, nil)["token"].(string)
	e.must(200, "GET", fmt.Sprintf("/v1/members/%d", ina), tok, nil)

	// Deactivated with the token still stored: it no longer signs in.
	if _, err := e.owner.Exec(context.Background(), `UPDATE members SET active = false WHERE id = $1`, ina); err != nil {
		t.Fatal(err)
	}
	e.refused(401, "Authorization", "unknown token", "GET", fmt.Sprintf("/v1/members/%d", ina), tok, nil)
	e.refused(401, "Authorization", "unknown token", "POST", fmt.Sprintf("/v1/members/%d/tokens", ina), tok, nil)
}

// TestSecurity_BallotAfterDeadlineNotCounted: a ballot at or after a proposal's deadline
// is 409 and not recorded, also while the closer has not closed the proposal yet (it
// skips a proposal a ballot holds, as the lock held here makes it); and the tally (the
// platform's and the operator's re-tally, both governance.LoadInput) counts only ballots
// cast before the deadline, so one stored late (here in SQL) changes nothing.
func TestSecurity_BallotAfterDeadlineNotCounted(t *testing.T) {
	pol := withModel(t, policy.OneMemberOneVote, 50, 50)
	pol.Governance.MinimumVotingPeriodHours = 48
	e := newEnv(t, pol)
	a := e.member("Ana Worker", []string{"worker"}, "")
	b := e.member("Bea Worker", []string{"worker"}, "")
	id := num(e.must(201, "POST", "/v1/proposals", a.token, map[string]any{"title": "Move to the medium plan", "field": "plan", "value": "medium"})["id"])
	ballot := fmt.Sprintf("/v1/proposals/%d/ballot", id)
	e.must(200, "PUT", ballot, a.token, map[string]any{"choice": "yes"})
	e.clock.Step(48 * time.Hour) // the deadline

	ctx := context.Background()
	hold, err := e.owner.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = hold.Rollback(ctx) }()
	if _, err := hold.Exec(ctx, `SELECT 1 FROM proposals WHERE id = $1 FOR SHARE`, id); err != nil {
		t.Fatal(err)
	}
	e.refused(409, "choice", "voting closed at the proposal's deadline", "PUT", ballot, b.token, map[string]any{"choice": "no"})
	if err := hold.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var status string
	if err := e.owner.QueryRow(ctx, `SELECT status FROM proposals WHERE id = $1`, id).Scan(&status); err != nil || status != "open" {
		t.Fatalf("the proposal is %q (%v); the test needs it still open", status, err)
	}
	if _, err := e.owner.Exec(ctx, `INSERT INTO ballots (proposal_id, member_id, choice, cast_at) VALUES ($1, $2, 'no', $3)`, id, b.id, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	got := e.must(200, "GET", fmt.Sprintf("/v1/proposals/%d", id), a.token, nil)["proposal"].(map[string]any)
	res := got["result"].(map[string]any)
	members := res["classes"].([]any)[0].(map[string]any)
	if got["status"] != "closed" || res["passed"] != true || num(members["yes"]) != 1 || num(members["no"]) != 0 {
		t.Fatalf("closed with a ballot after the deadline counted: %v", got)
	}
}

// TestSecurity_MembersActOnlyOnTheirOwn: each route's guard refuses the member it is not
// for, naming why, and writes nothing: a member's token on staff's routes, on another
// member's data, on work that is not theirs; the admin token where a member acts in
// person (ballots, delegations).
func TestSecurity_MembersActOnlyOnTheirOwn(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	w := e.worker("Dan Driver")
	c := e.customer("Rita Rider")
	o := e.customer("Omar Other")
	id := num(e.must(201, "POST", "/v1/work", c.token, ride(1000, 0))["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", id), w.token, nil)
	requested := num(e.must(201, "POST", "/v1/work", c.token, ride(1000, 0))["id"])
	prop := num(e.must(201, "POST", "/v1/proposals", w.token, map[string]any{"title": "A motion"})["id"])
	e.must(200, "PUT", "/v1/delegation", c.token, map[string]any{"delegateId": w.id})

	for _, tc := range []struct {
		name                string
		status              int
		msg                 string
		method, path, token string
		body                any
	}{
		{"a member makes themselves staff", 403, "admin token", "PATCH", fmt.Sprintf("/v1/members/%d", w.id), w.token, map[string]any{"roles": []string{"staff", "worker"}}},
		{"a member lists the members", 403, "admin token", "GET", "/v1/members", c.token, nil},
		{"a member mints another's token", 403, "own data", "POST", fmt.Sprintf("/v1/members/%d/tokens", c.id), o.token, nil},
		{"a member erases another", 403, "own data", "DELETE", fmt.Sprintf("/v1/members/%d", c.id), o.token, nil},
		{"a member reads another", 403, "own data", "GET", fmt.Sprintf("/v1/members/%d", c.id), o.token, nil},
		{"a member sets another's availability", 403, "own data", "PUT", fmt.Sprintf("/v1/members/%d/availability", w.id), o.token, map[string]any{"available": false}},
		{"a member reads another's team", 403, "own data", "GET", fmt.Sprintf("/v1/members/%d/team", c.id), o.token, nil},
		{"an unrelated member cancels", 404, "work not found", "POST", fmt.Sprintf("/v1/work/%d/cancel", id), o.token, nil},
		{"an unrelated member matches", 404, "work not found", "POST", fmt.Sprintf("/v1/work/%d/match", requested), o.token, nil},
		{"an unrelated member starts", 404, "work not found", "POST", fmt.Sprintf("/v1/work/%d/start", id), o.token, nil},
		{"the admin token votes", 403, "own token", "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", prop), adminToken, map[string]any{"choice": "yes"}},
		{"the admin token delegates", 403, "own token", "PUT", "/v1/delegation", adminToken, map[string]any{"delegateId": w.id}},
		{"the admin token takes a delegation back", 403, "own token", "DELETE", "/v1/delegation", adminToken, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			e.refused(tc.status, "", tc.msg, tc.method, tc.path, tc.token, tc.body)
		})
	}
	e.t = t
	// Nothing changed hands: the member is no staff, the work is the customer's.
	if got := e.must(200, "GET", fmt.Sprintf("/v1/members/%d", w.id), w.token, nil); fmt.Sprint(got["roles"]) != "[worker]" {
		t.Fatalf("roles %v", got["roles"])
	}
	if got := e.must(200, "GET", fmt.Sprintf("/v1/work/%d", id), c.token, nil); got["state"] != "accepted" {
		t.Fatalf("work %v", got)
	}
}

// callAs runs the route method pattern for principal p, as authentication hands it on,
// through the handler's own respond.
func (e *env) callAs(p principal, method, pattern, path string, body any, headers ...string) resp {
	e.t.Helper()
	var rt route
	for _, r := range e.s.apiRoutes() {
		if r.method == method && r.pattern == pattern {
			rt = r
		}
	}
	if rt.h == nil {
		e.t.Fatalf("no route %s %s", method, pattern)
	}
	data, err := json.Marshal(body)
	if err != nil {
		e.t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(method+" "+pattern, func(w http.ResponseWriter, r *http.Request) { e.s.respond(w, r, rt, p) })
	req := httptest.NewRequest(method, path, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return resp{rec.Code, rec.Body.Bytes(), rec.Header()}
}

// TestSecurity_InactiveMemberCannotRequestPayOrPropose: an inactive member requests no
// work, records no payment and opens no proposal. Their token no longer authenticates
// (401); and a request that authenticated just before the deactivation committed, whose
// principal is inactive, is refused by requireActiveMember (403). Nothing is written.
func TestSecurity_InactiveMemberCannotRequestPayOrPropose(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	w := e.worker("Dan Driver")
	c := e.customer("Rita Rider")
	done, _ := e.completedRide(c, 1000)
	if _, err := e.owner.Exec(context.Background(), `UPDATE members SET active = false WHERE id = $1`, c.id); err != nil {
		t.Fatal(err)
	}
	inactive := principal{memberID: c.id, roles: []string{"customer"}, class: "riders", active: false}
	for _, tc := range []struct {
		method, pattern string
		body            any
		headers         []string
	}{
		{"POST", "/v1/work", ride(1000, 0), nil},
		{"POST", "/v1/payments", map[string]any{"workId": done, "workerId": w.id, "amountCents": 100}, []string{"Idempotency-Key", "tip"}},
		{"POST", "/v1/proposals", map[string]any{"title": "A motion"}, nil},
	} {
		e.refused(401, "Authorization", "unknown token", tc.method, tc.pattern, c.token, tc.body, tc.headers...)
		before := e.rowCounts()
		r := e.callAs(inactive, tc.method, tc.pattern, tc.pattern, tc.body, tc.headers...)
		if r.status != 403 || !strings.Contains(string(r.body), "the member is not active") {
			t.Fatalf("%s %s as an inactive member: %d %s, want 403", tc.method, tc.pattern, r.status, r.body)
		}
		if after := e.rowCounts(); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("%s %s wrote rows: %v -> %v", tc.method, tc.pattern, before, after)
		}
	}
}

// TestSecurity_BookedWorkerScheduleNotShownToCustomers: a customer who asks for a worker
// booked by another customer over the slot gets 409 naming details.scheduledAt and the
// rule, without the other work's id or times (creating and cancelling requests would
// otherwise map any worker's schedule and other customers' work ids); staff, who read the
// worker's schedule, are told which booking it is.
func TestSecurity_BookedWorkerScheduleNotShownToCustomers(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "home-services"))
	first := e.member("Fay First", []string{"customer"}, "")
	other := e.member("Oscar Other", []string{"customer"}, "")
	w := e.member("Pia Plumber", []string{"worker"}, "", "booking")
	e.setAvailable(w, true)
	e.verify(w, false, "plumbing")
	e.didWorkFor(first, w) // each customer asks for Pia by name
	e.didWorkFor(other, w)
	booked := num(e.must(201, "POST", "/v1/work", first.token, schedBooking("2026-12-03T09:00:00Z", 60))["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", booked), first.token, map[string]any{"workerId": w.id})
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", booked), w.token, nil)

	id := num(e.must(201, "POST", "/v1/work", other.token, schedBooking("2026-12-03T09:30:00Z", 60))["id"])
	match := fmt.Sprintf("/v1/work/%d/match", id)
	// Booked or not qualified look the same to the customer: nothing tells them which.
	unqualified := e.member("Uma Unverified", []string{"worker"}, "", "booking")
	e.setAvailable(unqualified, true)
	e.didWorkFor(other, unqualified)
	asked := func(worker who) string {
		r := e.call("POST", match, other.token, map[string]any{"workerId": worker.id})
		return strings.ReplaceAll(string(r.body), fmt.Sprint(worker.id), "N")
	}
	if booked, notQualified := asked(w), asked(unqualified); booked != notQualified {
		t.Errorf("a booked worker's refusal differs from an unqualified one's:\n%s\n%s", booked, notQualified)
	}
	e.refused(409, "workerId", "not an available, qualified and free worker", "POST", match, other.token, map[string]any{"workerId": w.id})
	r := e.call("POST", match, other.token, map[string]any{"workerId": w.id})
	msg := fmt.Sprint(r.json()["error"].(map[string]any)["message"])
	for _, leak := range []string{"2026-12-03", "09:00", "10:00", fmt.Sprintf("work %d", booked)} {
		if strings.Contains(string(r.body), leak) {
			t.Errorf("the customer's 409 shows %q of another's booking: %s", leak, r.body)
		}
	}
	// The only number it names is the worker the customer asked for.
	for _, n := range regexp.MustCompile(`[0-9]+`).FindAllString(msg, -1) {
		if n != fmt.Sprint(w.id) {
			t.Errorf("the customer's 409 names %s: %s", n, msg)
		}
	}
	e.refused(409, "details.scheduledAt", fmt.Sprintf("booked from 2026-12-03T09:00:00Z to 2026-12-03T10:00:00Z (work %d)", booked),
		"POST", match, adminToken, map[string]any{"workerId": w.id})
}

// workRow is a work item's row and its offers as stored, read with SQL.
func (e *env) workRow(id int64) string {
	e.t.Helper()
	var row string
	err := e.owner.QueryRow(context.Background(), `SELECT format('state %s, worker %s, updated %s, offers %s', state,
			coalesce(worker_id::text, 'none'), updated_at,
			coalesce((SELECT string_agg(o.worker_id || ':' || o.status, ',' ORDER BY o.id) FROM offers o WHERE o.work_id = w.id), 'none'))
		FROM work_items w WHERE id = $1`, id).Scan(&row)
	if err != nil {
		e.t.Fatal(err)
	}
	return row
}

// TestSecurity_AcceptNeedsAnActiveWorker: a worker who lost the worker role, was
// deactivated or erased after they were offered work (here by a change made outside the
// service, which moves no offer on) does not take it: their accept, or staff's on their
// behalf, is 409 naming the rule, and nothing changes. (It was accepted: the work could
// then be started but never completed, as its payment needs a worker.)
func TestSecurity_AcceptNeedsAnActiveWorker(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.customer("Rita Rider")
	for i, change := range []struct {
		name, sql string
		self      bool // the worker can still sign in and accept themselves
	}{
		{"the worker role removed", `UPDATE members SET roles = '{customer}' WHERE id = $1`, true},
		{"deactivated", `UPDATE members SET active = false WHERE id = $1`, false},
		{"erased", `UPDATE members SET erased_at = now() WHERE id = $1`, false},
	} {
		w := e.worker(fmt.Sprintf("Driver %d", i))
		id := num(e.must(201, "POST", "/v1/work", c.token, ride(1000, 0))["id"])
		if o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil); num(o["workerId"]) != w.id {
			t.Fatalf("%s: offer %v", change.name, o)
		}
		if _, err := e.owner.Exec(context.Background(), change.sql, w.id); err != nil {
			t.Fatal(err)
		}
		before := e.workRow(id)
		accept := fmt.Sprintf("/v1/work/%d/accept", id)
		if change.self {
			e.refused(409, "", "only an active member holding the worker role accepts work", "POST", accept, w.token, nil)
		}
		e.refused(409, "", "only an active member holding the worker role accepts work", "POST", accept, adminToken, nil)
		if after := e.workRow(id); after != before {
			t.Fatalf("%s: the refused accept changed the work: %s -> %s", change.name, before, after)
		}
		if change.self {
			// The rule, not the offer, refused it: given the role back, the worker takes it.
			if _, err := e.owner.Exec(context.Background(), `UPDATE members SET roles = '{worker}' WHERE id = $1`, w.id); err != nil {
				t.Fatal(err)
			}
			if got := e.must(200, "POST", accept, w.token, nil); got["state"] != "accepted" {
				t.Fatalf("accept with the role back: %v", got)
			}
			e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", id), c.token, nil)
		}
	}
}

// TestSecurity_AcceptNeedsAFitWorker: a worker who no longer meets what the work needs
// since it was offered (the kind of work taken off their qualifications, blocked by the
// customer) accepts nothing: 409, their offer is withdrawn and the work moved on (back to
// requested when nobody else is free, else to the next worker), committed with the refusal, so that the work
// does not wait for the offer's time. The changes are written behind the service's back,
// so that the accept alone is judged; given the qualification back, the worker is offered
// the work again and takes it.
func TestSecurity_AcceptNeedsAFitWorker(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.customer("Rita Rider")
	var first who
	for i, change := range []struct{ name, sql string }{
		{"the kind of work no longer among the qualifications", `UPDATE members SET qualifications = '{}' WHERE id = $1`},
		{"blocked by the customer", `INSERT INTO blocks (customer_id, worker_id) VALUES (` + strconv.FormatInt(c.id, 10) + `, $1)`},
	} {
		w := e.worker(fmt.Sprintf("Driver %d", i))
		if i == 0 {
			first = w
		}
		id := num(e.must(201, "POST", "/v1/work", c.token, ride(1000, 0))["id"])
		match := fmt.Sprintf("/v1/work/%d/match", id)
		if o := e.must(200, "POST", match, c.token, nil); num(o["workerId"]) != w.id {
			t.Fatalf("%s: offer %v", change.name, o)
		}
		if _, err := e.owner.Exec(context.Background(), change.sql, w.id); err != nil {
			t.Fatal(err)
		}
		accept := fmt.Sprintf("/v1/work/%d/accept", id)
		r := e.call("POST", accept, w.token, nil)
		if errObj, _ := r.json()["error"].(map[string]any); r.status != 409 || !strings.Contains(fmt.Sprint(errObj["message"]), "you no longer meet what this work needs") {
			t.Fatalf("%s: accept answered %d %s, want 409 naming what the work needs", change.name, r.status, r.body)
		}
		// The first worker is free in the second round (their work cancelled): it goes on
		// to them.
		state, offers := "requested none", fmt.Sprintf("%d:withdrawn", w.id)
		if i == 1 {
			state, offers = fmt.Sprintf("offered %d", first.id), fmt.Sprintf("%d:withdrawn,%d:offered", w.id, first.id)
		}
		if got := e.stateOf(id); got != state {
			t.Fatalf("%s: work after the refused accept: %s, want %s", change.name, got, state)
		}
		if got := e.offersOf(id); got != offers {
			t.Fatalf("%s: offers after the refused accept: %s, want %s", change.name, got, offers)
		}
		if i == 0 {
			if _, err := e.owner.Exec(context.Background(), `UPDATE members SET qualifications = '{ride}' WHERE id = $1`, w.id); err != nil {
				t.Fatal(err)
			}
			if o := e.must(200, "POST", match, c.token, nil); num(o["workerId"]) != w.id {
				t.Fatalf("match with the qualification back: %v", o)
			}
			if got := e.must(200, "POST", accept, w.token, nil); got["state"] != "accepted" {
				t.Fatalf("accept with the qualification back: %v", got)
			}
			e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", id), c.token, nil)
		}
	}
}

// TestSecurity_StrangersMoveNoOfferOn: a member who does not see a work item (neither its
// customer, its worker, offered it, nor staff) and reads it, accepts or declines it while
// an offer of it is past its time gets 404, and nothing is written: the offer is not
// marked expired, no history entry or new offer is recorded (the move-on ran before the
// visibility check). Its customer's read then moves it on.
func TestSecurity_StrangersMoveNoOfferOn(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.customer("Rita Rider")
	w, next := e.worker("Dan Driver"), e.worker("Eve Driver")
	stranger := e.customer("Sam Stranger")
	id := num(e.must(201, "POST", "/v1/work", c.token, ride(1000, 0))["id"])
	if o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil); num(o["workerId"]) != w.id {
		t.Fatalf("offer %v", o)
	}
	e.clock.Step(time.Hour) // the offer is due; nothing has moved it on
	before, offers := e.workRow(id), e.offersOf(id)
	var history int64
	if err := e.owner.QueryRow(context.Background(), `SELECT count(*) FROM work_history WHERE work_id = $1`, id).Scan(&history); err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"", "/accept", "/decline"} {
		method := "POST"
		if action == "" {
			method = "GET"
		}
		e.refused(404, "", "work not found", method, fmt.Sprintf("/v1/work/%d%s", id, action), stranger.token, nil)
		if got := e.workRow(id); got != before {
			t.Fatalf("%s /v1/work/%d%s by a stranger changed the work: %s -> %s", method, id, action, before, got)
		}
	}
	if got := e.offersOf(id); got != offers || got != fmt.Sprintf("%d:offered", w.id) {
		t.Fatalf("offers after the strangers' requests: %s, want %s", got, offers)
	}
	var after int64
	if err := e.owner.QueryRow(context.Background(), `SELECT count(*) FROM work_history WHERE work_id = $1`, id).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != history {
		t.Fatalf("history entries %d -> %d after the strangers' requests", history, after)
	}
	// The customer sees the work: their read moves it on to the next worker.
	if got := e.must(200, "GET", fmt.Sprintf("/v1/work/%d", id), c.token, nil); got["state"] != "offered" || num(got["workerId"]) != next.id {
		t.Fatalf("the customer's read of the due work: %v", got)
	}
	if got, want := e.offersOf(id), fmt.Sprintf("%d:expired,%d:offered", w.id, next.id); got != want {
		t.Fatalf("offers after the customer's read: %s, want %s", got, want)
	}
}

// TestSecurity_APIAnswersAreNotSniffedOrCached: every answer of the API, a new member's
// token, a member's data, a refusal, the mux's own 404 and 405, a CSV export and the
// probes, says X-Content-Type-Options: nosniff and Cache-Control: no-store, so that a
// browser runs none as a script or a page and no cache keeps a token or a member's data.
func TestSecurity_APIAnswersAreNotSniffedOrCached(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	body := map[string]any{"name": "Rita Rider", "email": "rita@example.org", "roles": []string{"customer"}}
	created := e.call("POST", "/v1/members", adminToken, body)
	c := e.customer("Cleo Client")
	for _, r := range []struct {
		what string
		resp resp
	}{
		{"a new member's token", created},
		{"a member's data", e.call("GET", fmt.Sprintf("/v1/members/%d", c.id), c.token, nil)},
		{"a member's export", e.call("GET", fmt.Sprintf("/v1/members/%d/export", c.id), c.token, nil)},
		{"a refusal", e.call("GET", "/v1/members", c.token, nil)},
		{"no token", e.call("GET", "/v1/policy", "", nil)},
		{"the mux's 404", e.call("GET", "/v1/nothing", c.token, nil)},
		{"the mux's 405", e.call("DELETE", "/v1/payments", c.token, nil)},
		{"a CSV export", e.call("GET", "/v1/exports/ledger?from=2026-11-01&to=2026-11-30", adminToken, nil)},
		{"the health probe", e.call("GET", "/healthz", "", nil)},
	} {
		if r.resp.status == 0 || r.resp.status >= 500 {
			t.Errorf("%s: status %d", r.what, r.resp.status)
		}
		if got := r.resp.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s (%d): X-Content-Type-Options %q, want nosniff", r.what, r.resp.status, got)
		}
		if got := r.resp.header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s (%d): Cache-Control %q, want no-store", r.what, r.resp.status, got)
		}
	}
}

// TestSecurity_CustomerSeesNoOtherWorkersActivity: the work's history, which its customer
// reads (GET /v1/work/{id}, the app's work page, their export), said when each worker
// offered the work was last assigned and their member id (the fair rule's values), and a
// decline named the worker who declined as its actor. The customer sees which rule chose
// the worker and that an offer moved on; the offer keeps its values for its worker and
// staff. The match's answer says none of when a worker last took work either.
func TestSecurity_CustomerSeesNoOtherWorkersActivity(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.customer("Cleo Client")
	ana, bob := e.worker("Ana Driver"), e.worker("Bob Driver")
	if _, err := e.owner.Exec(context.Background(), `UPDATE members SET last_assigned_at = CASE id WHEN $1 THEN '2026-11-20 10:11:12+00'::timestamptz ELSE '2026-11-25 13:14:15+00' END
		WHERE id IN ($1, $2)`, ana.id, bob.id); err != nil {
		t.Fatal(err)
	}
	activity := []string{"2026-11-20", "2026-11-25", "last assigned", "never assigned", "declined",
		fmt.Sprintf("(%d)", ana.id), fmt.Sprintf("(%d)", bob.id), fmt.Sprintf("worker %d", ana.id), fmt.Sprintf("workers %d", ana.id)}
	tells := func(s string) string {
		for _, a := range activity {
			if strings.Contains(s, a) {
				return a
			}
		}
		return ""
	}
	id := num(e.must(201, "POST", "/v1/work", c.token, ride(1000, 0))["id"])
	o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil)
	if num(o["workerId"]) != ana.id {
		t.Fatalf("offer %v, want Ana (%d), the least recently assigned", o, ana.id)
	}
	if r := o["reason"].(string); strings.Contains(r, "2026-11-20") || strings.Contains(r, "assigned before") {
		t.Errorf("the match's answer tells the customer when Ana last took work: %q", r)
	}
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/decline", id), ana.token, nil)
	got := e.must(200, "GET", fmt.Sprintf("/v1/work/%d", id), c.token, nil)
	if num(got["workerId"]) != bob.id {
		t.Fatalf("after Ana's decline %v, want Bob (%d) offered", got, bob.id)
	}
	for _, h := range got["history"].([]any) {
		h := h.(map[string]any)
		if h["actorId"] != nil && num(h["actorId"]) != c.id {
			t.Errorf("the customer reads a history entry whose actor is member %v: %v", h["actorId"], h)
		}
		if note, _ := h["note"].(string); tells(note) != "" {
			t.Errorf("the customer reads a note that tells %q: %q", tells(note), note)
		}
	}
	export := e.call("GET", fmt.Sprintf("/v1/members/%d/export", c.id), c.token, nil)
	var doc struct {
		WorkHistory []struct {
			ActorID *int64 `json:"actor_id"`
			Note    string `json:"note"`
		} `json:"workHistory"`
	}
	if err := json.Unmarshal(export.body, &doc); err != nil || len(doc.WorkHistory) == 0 {
		t.Fatalf("export %d %s: %v", export.status, export.body, err)
	}
	for _, h := range doc.WorkHistory {
		if h.ActorID != nil && *h.ActorID != c.id || tells(h.Note) != "" {
			t.Errorf("the customer's export holds another's activity: actor %v, note %q", h.ActorID, h.Note)
		}
	}
	// The offer keeps the values, for its worker (and staff).
	offers := e.must(200, "GET", fmt.Sprintf("/v1/members/%d/offers", bob.id), bob.token, nil)["offers"].([]any)
	if len(offers) != 1 || !strings.Contains(offers[0].(map[string]any)["reason"].(string), "last assigned 2026-11-25T13:14:15Z") {
		t.Errorf("Bob's offer %v, want its reason with when he was last assigned", offers)
	}
}

// TestSecurity_NoCustomerPushesAWorkerBack: fair matching moved a worker behind all others
// whenever they were offered work, and a customer could ask for any worker by name: by
// asking for Ana (or matching while she was next) and cancelling at once, three times,
// Mallory sent an honest customer's next ride to Bob though Ana was idle. A worker goes
// back in the order when they take work (accept), not when offered it; and a customer asks
// by name only for a regular worker, one who completed work of theirs (409 naming
// workerId otherwise, the same for any id); staff may name any worker.
func TestSecurity_NoCustomerPushesAWorkerBack(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	ana, bob := e.worker("Ana Driver"), e.worker("Bob Driver")
	mallory, honest := e.customer("Mallory Rider"), e.customer("Hana Rider")
	request := func(c who) (int64, string) {
		id := num(e.must(201, "POST", "/v1/work", c.token, ride(1000, 0))["id"])
		return id, fmt.Sprintf("/v1/work/%d/match", id)
	}

	// Ana never drove Mallory: Mallory cannot name her, nor anyone, and cannot tell a
	// worker's id from nobody's; staff can.
	id, match := request(mallory)
	e.refused(409, "workerId", "only for a regular worker", "POST", match, mallory.token, map[string]any{"workerId": ana.id})
	if a, nobody := e.call("POST", match, mallory.token, map[string]any{"workerId": ana.id}), e.call("POST", match, mallory.token, map[string]any{"workerId": 999999}); string(a.body) != string(nobody.body) {
		t.Errorf("asking for a worker and for nobody answer differently:\n%s\n%s", a.body, nobody.body)
	}
	e.must(200, "POST", match, adminToken, map[string]any{"workerId": ana.id})
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", id), mallory.token, nil)

	// Once Ana drove Mallory, Mallory may ask for her: offers asked for and cancelled, and
	// plain matches cancelled, three times each, do not move Ana back.
	e.didWorkFor(mallory, ana)
	for range 3 {
		for _, body := range []any{map[string]any{"workerId": ana.id}, nil} {
			id, match := request(mallory)
			if o := e.must(200, "POST", match, mallory.token, body); num(o["workerId"]) != ana.id {
				t.Fatalf("Mallory's match %v, want Ana (%d)", o, ana.id)
			}
			e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", id), mallory.token, nil)
		}
	}
	// Nor an offer asked for by name that Ana lets expire (Mallory waiting instead of
	// cancelling: no turn of the fair order), nor staff declining a fair offer for her.
	id, match = request(mallory)
	e.must(200, "POST", match, mallory.token, map[string]any{"workerId": ana.id})
	e.clock.Step(301 * time.Second)
	e.closerTick()
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", id), mallory.token, nil)
	id, match = request(mallory)
	if o := e.must(200, "POST", match, mallory.token, nil); num(o["workerId"]) != ana.id {
		t.Fatalf("Mallory's match after the expiry %v, want Ana (%d)", o, ana.id)
	}
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/decline", id), adminToken, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", id), mallory.token, nil)
	id, match = request(honest)
	if o := e.must(200, "POST", match, honest.token, nil); num(o["workerId"]) != ana.id {
		t.Fatalf("the honest customer's match %v, want Ana (%d), idle and never assigned, not Bob (%d)", o, ana.id, bob.id)
	}
	// Taking the ride moves her back: the next goes to Bob.
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", id), ana.token, nil)
	_, match = request(honest)
	if o := e.must(200, "POST", match, honest.token, nil); num(o["workerId"]) != bob.id {
		t.Fatalf("the match after Ana took a ride %v, want Bob (%d)", o, bob.id)
	}
}

// TestSecurity_TeamHoldsTheClientsRegularWorkers: a care client's team is offered their
// care first; the client adds to it only workers who completed work of theirs (400 naming
// workerIds[i] otherwise), those on it already stay, and staff add any worker.
func TestSecurity_TeamHoldsTheClientsRegularWorkers(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "care"))
	client := e.member("Cleo Client", []string{"customer"}, "")
	ana, bob := e.member("Ana Carer", []string{"worker"}, "", "booking"), e.member("Bob Carer", []string{"worker"}, "", "booking")
	team := fmt.Sprintf("/v1/members/%d/team", client.id)
	put := func(ids ...int64) map[string]any { return map[string]any{"workerIds": append([]int64{}, ids...)} }
	e.refused(400, "workerIds[0]", "has not completed work", "PUT", team, client.token, put(ana.id))
	e.didWorkFor(client, ana)
	e.refused(400, "workerIds[1]", "has not completed work", "PUT", team, client.token, put(ana.id, bob.id))
	e.must(200, "PUT", team, client.token, put(ana.id))
	e.must(200, "PUT", team, adminToken, put(ana.id, bob.id))
	e.must(200, "PUT", team, client.token, put(bob.id, ana.id)) // Bob, whom staff added, stays
	e.must(200, "PUT", team, client.token, put(ana.id))
	e.refused(400, "workerIds[1]", "has not completed work", "PUT", team, client.token, put(ana.id, bob.id))
	if got := e.must(200, "GET", team, client.token, nil); fmt.Sprint(got["workerIds"]) != fmt.Sprintf("[%d]", ana.id) {
		t.Fatalf("team %v", got)
	}
}
