package server

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/store/members"
	"github.com/cooperator-dev/cooperator/platform/server/store/proposals"
)

var lowerFee = map[string]any{"platformFeeBasisPoints": 200, "funds": []any{map[string]any{"name": "hardship", "basisPoints": 100}}}

func TestGovernanceMultiStakeholder(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	d1, d2 := e.worker("Dan Driver"), e.worker("Eve Driver")
	r1 := e.customer("Rita Rider")
	s1 := e.member("Sam Staff", []string{"staff"}, "staff")
	p := e.must(201, "POST", "/v1/proposals", d1.token, map[string]any{"title": "Lower the fee to 2%", "field": "feeSplit", "value": lowerFee})
	id := num(p["id"])
	if num(p["electorate"]) != 4 || p["deadline"] == nil {
		t.Fatalf("proposal %v", p)
	}
	// The stored value is the spec's form, with the default surge share resolved.
	if v := p["value"].(map[string]any); num(v["surgeToWorkersPercent"]) != 100 || num(v["platformFeeBasisPoints"]) != 200 {
		t.Fatalf("value %v", v)
	}
	ballot := func(w who, choice string) {
		e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), w.token, map[string]any{"choice": choice})
	}
	ballot(d1, "yes")
	ballot(d2, "no")
	ballot(d2, "yes") // ballots can change until close
	ballot(r1, "no")
	e.must(400, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), d1.token, map[string]any{"choice": "object"})
	live := e.must(200, "GET", fmt.Sprintf("/v1/proposals/%d", id), r1.token, nil)
	if live["myBallot"] != "no" || live["turnout"] == nil || live["proposal"].(map[string]any)["result"] != nil {
		t.Fatalf("live %v", live)
	}
	// With the rules it is decided by, recorded when it opened.
	if rules := live["rules"].(map[string]any); rules["model"] != "multi-stakeholder" || num(rules["quorumPercent"]) != 50 || num(rules["approvalPercent"]) != 66 {
		t.Fatalf("the proposal's rules %v", rules)
	}
	e.must(403, "POST", fmt.Sprintf("/v1/proposals/%d/close", id), d1.token, nil)
	e.must(409, "POST", fmt.Sprintf("/v1/proposals/%d/close", id), adminToken, nil) // Sam has not voted
	ballot(s1, "yes")
	closed := e.must(200, "POST", fmt.Sprintf("/v1/proposals/%d/close", id), adminToken, nil) // everyone voted
	res := closed["result"].(map[string]any)
	// drivers 60% all yes, riders 20% all no, staff 20% yes: approval 80% >= 66%.
	if res["passed"] != true || res["approvalPercent"] != "80.00" || len(res["classes"].([]any)) != 3 {
		t.Fatalf("result %v", res)
	}
	if app := closed["application"].(map[string]any); app["state"] != "pending" {
		t.Fatalf("a passed change waits for the operator: %v", closed)
	}
	drivers := res["classes"].([]any)[0].(map[string]any)
	if drivers["class"] != "drivers" || num(drivers["yes"]) != 2 {
		t.Fatalf("drivers %v", drivers)
	}
	e.must(409, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), d1.token, map[string]any{"choice": "no"})
	e.must(409, "POST", fmt.Sprintf("/v1/proposals/%d/close", id), adminToken, nil)
}

func TestGovernanceDelegation(t *testing.T) {
	e := newEnv(t, withModel(t, policy.Delegate, 50, 60))
	m := e.workers(6)
	deleg := func(from, to who, want int) {
		t.Helper()
		e.must(want, "PUT", "/v1/delegation", from.token, map[string]any{"delegateId": to.id})
	}
	// chain 1 -> 2 -> 3 -> 4
	deleg(m[1], m[2], 200)
	deleg(m[2], m[3], 200)
	deleg(m[3], m[4], 200)
	deleg(m[4], m[1], 409) // would close the cycle
	deleg(m[4], m[4], 400)
	deleg(m[5], m[0], 200)
	// Each member reads their own delegation; staff read none.
	if got := e.must(200, "GET", "/v1/delegation", m[5].token, nil)["delegateId"]; num(got) != m[0].id {
		t.Fatalf("m5's delegation: %v", got)
	}
	e.refused(403, "", "their own delegation", "GET", "/v1/delegation", adminToken, nil)
	e.must(200, "DELETE", "/v1/delegation", m[5].token, nil) // taken back
	e.must(404, "DELETE", "/v1/delegation", m[5].token, nil)
	if got := e.must(200, "GET", "/v1/delegation", m[5].token, nil); got["delegateId"] != nil || num(got["memberId"]) != m[5].id {
		t.Fatalf("m5's delegation once taken back: %v", got)
	}

	id := num(e.must(201, "POST", "/v1/proposals", m[0].token, map[string]any{"title": "Join the federation", "field": "federation",
		"value": map[string]any{"peers": []any{map[string]any{"name": "eu-south"}}}})["id"])
	vote := func(w who, c string) {
		e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), w.token, map[string]any{"choice": c})
	}
	vote(m[0], "yes")
	vote(m[4], "no")
	vote(m[2], "yes") // delegated to 3, but votes directly: overrides; 1 follows 2
	e.clock.Step(7 * 24 * time.Hour)
	pr := e.must(200, "GET", fmt.Sprintf("/v1/proposals/%d", id), m[5].token, nil)["proposal"].(map[string]any)
	res := pr["result"].(map[string]any)
	cls := res["classes"].([]any)[0].(map[string]any)
	// yes: 0, 2, 1 (via 2); no: 4, 3 (via 4); 5 took their delegation back and did not vote.
	if num(cls["yes"]) != 3 || num(cls["no"]) != 2 || num(cls["delegated"]) != 2 || res["passed"] != true || res["approvalPercent"] != "60.00" {
		t.Fatalf("result %v", res)
	}
	// A delegation changed after the close does not change the closed tally.
	deleg(m[5], m[4], 200)
	var frozen int64
	if err := e.s.Pool().QueryRow(context.Background(), `SELECT count(*) FROM proposal_delegations WHERE proposal_id = $1`, id).Scan(&frozen); err != nil || frozen != 3 {
		t.Fatalf("frozen delegations %d, %v", frozen, err)
	}
}

func TestGovernanceConsentAndQuorum(t *testing.T) {
	e := newEnv(t, withModel(t, policy.Consent, 50, 100))
	m := e.workers(4)
	newProp := func() int64 {
		return num(e.must(201, "POST", "/v1/proposals", m[0].token, map[string]any{"title": "t"})["id"])
	}
	vote := func(id int64, w who, c string) {
		e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), w.token, map[string]any{"choice": c})
	}
	result := func(id int64) map[string]any {
		return e.must(200, "GET", fmt.Sprintf("/v1/proposals/%d", id), m[3].token, nil)["proposal"].(map[string]any)["result"].(map[string]any)
	}
	a, b, c := newProp(), newProp(), newProp()
	vote(a, m[0], "yes")
	vote(a, m[1], "abstain")
	vote(a, m[2], "object")
	vote(b, m[0], "yes")
	vote(c, m[0], "yes")
	vote(c, m[1], "yes")
	e.clock.Step(7 * 24 * time.Hour)
	if res := result(a); res["passed"] != false || res["quorumReached"] != true {
		t.Fatalf("objection: %v", res)
	}
	if res := result(b); res["passed"] != false || res["quorumReached"] != false {
		t.Fatalf("quorum: %v", res)
	}
	if res := result(c); res["passed"] != true {
		t.Fatalf("consent: %v", res)
	}
}

// TestTheRulesAreGovernedWithAnyField: once any field is governed, the rules themselves
// (governance) are too, as the webhook holds the co-op's admins to: members may propose
// them without listing governance. With no governed field there is nothing to vote.
func TestTheRulesAreGovernedWithAnyField(t *testing.T) {
	rules := map[string]any{"model": "one-member-one-vote", "quorumPercent": 60, "approvalPercent": 50, "governedFields": []string{"feeSplit", "plan"}}
	e := newEnv(t, mustPolicy(t, ridePolicy)) // governs feeSplit, plan and federation
	d := e.worker("Dan Driver")
	e.must(201, "POST", "/v1/proposals", d.token, map[string]any{"title": "A higher quorum", "field": "governance", "value": rules})

	none := mustPolicy(t, ridePolicy)
	none.Governance.GovernedFields = nil
	e = newEnv(t, none)
	d = e.worker("Dan Driver")
	e.refused(400, "field", "no governed fields", "POST", "/v1/proposals", d.token, map[string]any{"title": "A higher quorum", "field": "governance", "value": rules})
}

// TestProposalValueValidated: the new value is checked against the CRD's rules before
// anyone votes; a bad one is refused with the field named and nothing is written.
func TestProposalValueValidated(t *testing.T) {
	pol := mustPolicy(t, ridePolicy)
	pol.Governance.GovernedFields = policy.GovernedParts
	e := newEnv(t, pol)
	d := e.worker("Dan Driver")
	cases := []struct {
		name, field string
		value       any
		hours       any
		wantField   string
		wantMsg     string
	}{
		{"funds over the fee", "feeSplit", map[string]any{"platformFeeBasisPoints": 100, "funds": []any{map[string]any{"name": "hardship", "basisPoints": 150}}}, nil, "value.funds", "more than platformFeeBasisPoints"},
		{"fee over 10000", "feeSplit", map[string]any{"platformFeeBasisPoints": 10001}, nil, "value.platformFeeBasisPoints", "0..10000"},
		{"surge over 100", "feeSplit", map[string]any{"platformFeeBasisPoints": 100, "surgeToWorkersPercent": 101}, nil, "value.surgeToWorkersPercent", "0..100"},
		{"unknown key", "feeSplit", map[string]any{"platformFee": 100}, nil, "value", "unknown field"},
		{"no value", "feeSplit", nil, nil, "value", "new value is required"},
		{"weights not 100", "governance", map[string]any{"model": "multi-stakeholder", "stakeholderClasses": []any{map[string]any{"name": "drivers", "weight": 90}}}, nil, "value.stakeholderClasses", "add up to 100"},
		{"rules without the governed fields", "governance", map[string]any{"model": "consent"}, nil, "value.governedFields", "is required"},
		{"classes on consent", "governance", map[string]any{"model": "consent", "stakeholderClasses": []any{map[string]any{"name": "drivers", "weight": 100}}}, nil, "value.stakeholderClasses", "only allowed"},
		{"plan not a name", "plan", "Big Plan", nil, "value", "HostingPlan"},
		{"peers repeated", "federation", map[string]any{"peers": []any{map[string]any{"name": "a"}, map[string]any{"name": "a"}}}, nil, "value.peers[1].name", "repeated"},
		{"primary (a switchover)", "federation", map[string]any{"peers": []any{map[string]any{"name": "b"}}, "primary": "b"}, nil, "value.primary", "switchover is the co-op admins' decision"},
		{"postgres 14", "database", map[string]any{"postgresVersion": 14}, nil, "value.postgresVersion", "15, 16, 17, 18"},
		{"five-field cron", "backup", map[string]any{"schedule": "0 3 * * *"}, nil, "value.schedule", "six-field"},
		{"half-hourly backups", "backup", map[string]any{"schedule": "0 */30 * * * *"}, nil, "value.schedule", "at most hourly"},
		{"retention over 90 days", "backup", map[string]any{"retention": "4m"}, nil, "value.retention", "at most 90 days"},
		{"host upper case", "platform", map[string]any{"host": "Fair.Example"}, nil, "value.host", "DNS name"},
		{"deletion policy", "deletionPolicy", "Keep", nil, "value", "Retain or Delete"},
		{"value without field", "", 100, nil, "field", "required with a value"},
		{"period shorter than the minimum", "plan", "medium", 24, "votingPeriodHours", "minimum of 168"},
	}
	for _, c := range cases {
		body := map[string]any{"title": c.name, "field": c.field}
		if c.value != nil {
			body["value"] = c.value
		}
		if c.hours != nil {
			body["votingPeriodHours"] = c.hours
		}
		r := e.call("POST", "/v1/proposals", d.token, body)
		errObj, _ := r.json()["error"].(map[string]any)
		if r.status != 400 || errObj["field"] != c.wantField || !strings.Contains(fmt.Sprint(errObj["message"]), c.wantMsg) {
			t.Errorf("%s: %d %s, want 400 %s %q", c.name, r.status, r.body, c.wantField, c.wantMsg)
		}
	}
	if n := e.count("proposals"); n != 0 {
		t.Fatalf("%d proposals written from bad input", n)
	}
	// The same parts with good values open, and a longer period than the minimum is allowed.
	for field, value := range map[string]any{"plan": "medium", "deletionPolicy": "Delete", "backup": map[string]any{"schedule": "0 0 4 * * *", "retention": "8w"},
		"database": map[string]any{"instances": 2, "storage": "20Gi"}, "platform": map[string]any{"version": "1.1"},
		"governance": map[string]any{"model": "consent", "quorumPercent": 60, "minimumVotingPeriodHours": 48, "governedFields": policy.GovernedParts}} {
		// Each from another member: a member has at most MaxOpenProposalsPerMember open.
		e.must(201, "POST", "/v1/proposals", e.worker("Proposer of "+field).token, map[string]any{"title": field, "field": field, "value": value, "votingPeriodHours": 200})
	}
}

// TestElectorateFixedAtOpen: who may vote is decided when the proposal opens, by the
// model; members admitted or reactivated later cannot vote on it.
func TestElectorateFixedAtOpen(t *testing.T) {
	e := newEnv(t, withModel(t, policy.OneMemberOneVote, 50, 50))
	a := e.member("Ana Worker", []string{"worker"}, "")
	b := e.member("Bea Worker", []string{"worker"}, "")
	cust := e.member("Carl Customer", []string{"customer"}, "")
	gone := e.member("Dora Worker", []string{"worker"}, "")
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", gone.id), adminToken, map[string]any{"active": false})
	id := num(e.must(201, "POST", "/v1/proposals", a.token, map[string]any{"title": "Raise the hardship fund", "field": "feeSplit", "value": lowerFee})["id"])
	late := e.member("Eli Worker", []string{"worker"}, "")
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", gone.id), adminToken, map[string]any{"active": true})
	// Deactivation revoked Dora's tokens: staff mint her a new one on her return.
	gone.token = e.must(201, "POST", fmt.Sprintf("/v1/members/%d/tokens", gone.id), adminToken, nil)["token"].(string)
	path := fmt.Sprintf("/v1/proposals/%d/ballot", id)
	for _, w := range []who{late, gone, cust} {
		r := e.call("PUT", path, w.token, map[string]any{"choice": "yes"})
		if r.status != 403 || !strings.Contains(string(r.body), "roll") {
			t.Fatalf("member %d voted: %d %s", w.id, r.status, r.body)
		}
	}
	e.must(200, "PUT", path, a.token, map[string]any{"choice": "yes"})
	// The list says each member whether they are on a proposal's roll and how they voted,
	// and under which model; staff read neither.
	listed := func(token string) map[string]any {
		t.Helper()
		for _, p := range e.must(200, "GET", "/v1/proposals", token, nil)["proposals"].([]any) {
			if p := p.(map[string]any); num(p["id"]) == id {
				return p
			}
		}
		t.Fatalf("proposal %d not listed", id)
		return nil
	}
	for _, tc := range []struct {
		who   string
		token string
		want  string
	}{
		{"Ana, who voted", a.token, "one-member-one-vote true yes"},
		{"Bea, before she votes", b.token, "one-member-one-vote true <nil>"},
		{"Carl, a customer", cust.token, "one-member-one-vote false <nil>"},
		{"Eli, who joined after", late.token, "one-member-one-vote false <nil>"},
		{"staff", adminToken, "one-member-one-vote <nil> <nil>"},
	} {
		p := listed(tc.token)
		if got := fmt.Sprint(p["model"], " ", p["onRoll"], " ", p["myBallot"]); got != tc.want {
			t.Errorf("%s reads %q, want %q", tc.who, got, tc.want)
		}
		// The proposal read alone says the same (the members' app shows its ballot form by it).
		one := e.must(200, "GET", fmt.Sprintf("/v1/proposals/%d", id), tc.token, nil)
		if got := fmt.Sprint(one["proposal"].(map[string]any)["model"], " ", one["onRoll"], " ", one["myBallot"]); got != tc.want {
			t.Errorf("%s reads the proposal alone as %q, want %q", tc.who, got, tc.want)
		}
	}
	e.must(200, "PUT", path, b.token, map[string]any{"choice": "yes"})
	// Both members of the roll voted: staff may close now, and the tally counts two.
	closed := e.must(200, "POST", fmt.Sprintf("/v1/proposals/%d/close", id), adminToken, nil)
	cls := closed["result"].(map[string]any)["classes"].([]any)[0].(map[string]any)
	if num(cls["eligible"]) != 2 || num(cls["yes"]) != 2 || num(closed["electorate"]) != 2 {
		t.Fatalf("tally %v", closed)
	}
}

// TestEarlyCloseWaitsForNoErasedMember: a member erased while a vote is open stays on its
// roll (a ballot they cast counts) but can vote no more: once everyone else voted, staff
// close it early, and the tally still counts them as eligible.
func TestEarlyCloseWaitsForNoErasedMember(t *testing.T) {
	pol := withModel(t, policy.OneMemberOneVote, 50, 50)
	pol.Governance.MinimumVotingPeriodHours = 48
	e := newEnv(t, pol)
	a := e.member("Ana Worker", []string{"worker"}, "")
	b := e.member("Bea Worker", []string{"worker"}, "")
	c := e.member("Cy Worker", []string{"worker"}, "")
	id := num(e.must(201, "POST", "/v1/proposals", a.token, map[string]any{"title": "Move to the medium plan", "field": "plan", "value": "medium"})["id"])
	e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), a.token, map[string]any{"choice": "yes"})
	e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), b.token, map[string]any{"choice": "no"})
	e.refused(409, "deadline", "(1 have not)", "POST", fmt.Sprintf("/v1/proposals/%d/close", id), adminToken, nil)
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d", c.id), c.token, nil)
	closed := e.must(200, "POST", fmt.Sprintf("/v1/proposals/%d/close", id), adminToken, nil)
	if cls := closed["result"].(map[string]any)["classes"].([]any)[0].(map[string]any); num(cls["eligible"]) != 3 || num(cls["yes"]) != 1 || num(cls["no"]) != 1 {
		t.Fatalf("the tally after the early close: %v", closed["result"])
	}
}

// TestDueProposalsCloseInDeadlineOrder: while another replica holds the proposal due first
// (closing it), a closer does not close the next one before it (it leaves both to that
// replica, which closes them in order): proposals due together commit in the order of their
// deadlines, which the operator's guard against a restored database counts on.
func TestDueProposalsCloseInDeadlineOrder(t *testing.T) {
	pol := withModel(t, policy.OneMemberOneVote, 50, 50)
	pol.Governance.MinimumVotingPeriodHours = 24
	e := newEnv(t, pol)
	a := e.member("Ana Worker", []string{"worker"}, "")
	e.member("Bea Worker", []string{"worker"}, "") // does not vote
	open := func(hours int) int64 {
		id := num(e.must(201, "POST", "/v1/proposals", a.token, map[string]any{"title": fmt.Sprintf("Plan, %d hours", hours), "field": "plan",
			"value": "medium", "votingPeriodHours": hours})["id"])
		e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), a.token, map[string]any{"choice": "yes"})
		return id
	}
	first, second := open(24), open(48)
	e.clock.Step(49 * time.Hour)
	ctx := t.Context()
	tx, err := e.s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, `SELECT 1 FROM proposals WHERE id = $1 FOR UPDATE`, first); err != nil { // another replica closing it
		t.Fatal(err)
	}
	e.must(200, "GET", "/v1/proposals", a.token, nil) // a read closes what is due: not the second before the first
	status := func(id int64) string {
		var st string
		if err := e.owner.QueryRow(ctx, `SELECT status FROM proposals WHERE id = $1`, id).Scan(&st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := status(second); st != "open" {
		t.Fatalf("the proposal due second is %s while the first is being closed", st)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	e.must(200, "GET", "/v1/proposals", a.token, nil)
	var inOrder bool
	if err := e.owner.QueryRow(ctx, `SELECT (SELECT closed_at FROM proposals WHERE id = $1) < (SELECT closed_at FROM proposals WHERE id = $2)`,
		first, second).Scan(&inOrder); err != nil || !inOrder || status(first) != "closed" {
		t.Fatalf("closed in order: %t, %v", inOrder, err)
	}
}

// TestProposalClosesAtDeadline: staff cannot close early; the service closes the proposal
// at its deadline by itself (the background closer, without any request), at the
// deadline's time.
func TestProposalClosesAtDeadline(t *testing.T) {
	pol := withModel(t, policy.OneMemberOneVote, 50, 50)
	pol.Governance.MinimumVotingPeriodHours = 48
	e := newEnv(t, pol)
	a := e.member("Ana Worker", []string{"worker"}, "")
	e.member("Bea Worker", []string{"worker"}, "")
	p := e.must(201, "POST", "/v1/proposals", a.token, map[string]any{"title": "Move to the medium plan", "field": "plan", "value": "medium"})
	id := num(p["id"])
	deadline, err := time.Parse(time.RFC3339, p["deadline"].(string))
	if err != nil || !deadline.Equal(e.clock.Now().Add(48*time.Hour)) {
		t.Fatalf("deadline %v, %v", p["deadline"], err)
	}
	e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), a.token, map[string]any{"choice": "yes"})
	r := e.call("POST", fmt.Sprintf("/v1/proposals/%d/close", id), adminToken, nil)
	if r.status != 409 || !strings.Contains(string(r.body), "every eligible member") {
		t.Fatalf("early close: %d %s", r.status, r.body)
	}
	e.clock.Step(47 * time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.s.runCloser(ctx, 10*time.Millisecond)
	e.s.migrated.Store(true)
	status := func() (string, *time.Time) {
		var st string
		var closedAt *time.Time
		if err := e.s.Pool().QueryRow(ctx, `SELECT status, closed_at FROM proposals WHERE id = $1`, id).Scan(&st, &closedAt); err != nil {
			t.Fatal(err)
		}
		return st, closedAt
	}
	e.clock.Step(2 * time.Hour)
	for end := time.Now().Add(10 * time.Second); ; {
		st, closedAt := status()
		if st == "closed" {
			if !closedAt.Equal(deadline) {
				t.Fatalf("closed at %v, want the deadline %v", closedAt, deadline)
			}
			break
		}
		if time.Now().After(end) {
			t.Fatal("the closer did not close the proposal past its deadline")
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.must(409, "POST", fmt.Sprintf("/v1/proposals/%d/close", id), adminToken, nil)
	e.must(409, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), a.token, map[string]any{"choice": "no"})
}

// TestMemberAudit: admissions and changes of roles, class and activity, and the tokens
// they issue and end, are recorded with who made them; only staff read the whole audit.
func TestMemberAudit(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	d := e.worker("Dan Driver")
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", d.id), adminToken, map[string]any{"roles": []string{"worker", "staff"}, "stakeholderClass": "staff"})
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", d.id), adminToken, map[string]any{"active": false})
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", d.id), adminToken, map[string]any{"name": "Daniel Driver"}) // not a roll change
	e.must(403, "GET", "/v1/audit/members", d.token, nil)
	for _, bad := range []string{fmt.Sprintf("%dabc", d.id), "0x1f", "-1", " 3"} {
		e.refused(400, "memberId", "positive integer id", "GET", "/v1/audit/members?memberId="+url.QueryEscape(bad), adminToken, nil)
	}
	// The events the API knows are those the database's check allows.
	var check string
	if err := e.owner.QueryRow(t.Context(), `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'member_audit_event_check'`).Scan(&check); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(check, "'::text"); n != len(members.AuditEvents) {
		t.Errorf("the database allows %d events (%s), the API knows %d", n, check, len(members.AuditEvents))
	}
	for _, ev := range members.AuditEvents {
		if !strings.Contains(check, "'"+ev+"'") {
			t.Errorf("the database does not allow audit event %s: %s", ev, check)
		}
	}
	for _, path := range []string{"/v1/audit/members", fmt.Sprintf("/v1/members/%d/audit", d.id)} {
		e.refused(400, "event", "must be one of admitted, roles", "GET", path+"?event=signedIn&event=nope", adminToken, nil)
		for _, bad := range []string{"0", "1001", "x", "-1"} {
			e.refused(400, "limit", "from 1 to 1000", "GET", path+"?limit="+bad, adminToken, nil)
		}
		if got := e.must(200, "GET", path+"?event=deactivated&event=roles&limit=1", adminToken, nil)["entries"].([]any); len(got) != 1 ||
			got[0].(map[string]any)["event"] != "deactivated" {
			t.Errorf("%s, the newest deactivation or roles change: %v", path, got)
		}
	}
	got := e.must(200, "GET", fmt.Sprintf("/v1/audit/members?memberId=%d", d.id), adminToken, nil)["entries"].([]any)
	var events []string
	for i := len(got) - 1; i >= 0; i-- {
		en := got[i].(map[string]any)
		if en["actor"] != "staff" || en["at"] == nil {
			t.Fatalf("entry %v", en)
		}
		events = append(events, en["event"].(string))
	}
	// The registration's token, and the deactivation that revoked it.
	if strings.Join(events, ",") != "admitted,tokenIssued,roles,stakeholderClass,deactivated,tokenRevoked" {
		t.Fatalf("events %v", events)
	}
	// A member erasing their own data is recorded as that member.
	c := e.customer("Rita Rider")
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d", c.id), c.token, nil)
	got = e.must(200, "GET", fmt.Sprintf("/v1/audit/members?memberId=%d", c.id), adminToken, nil)["entries"].([]any)
	var last []string
	for _, en := range got[:2] {
		last = append(last, fmt.Sprintf("%s by %s", en.(map[string]any)["event"], en.(map[string]any)["actor"]))
	}
	if me := fmt.Sprintf("member:%d", c.id); strings.Join(last, ", ") != "tokenRevoked by "+me+", erased by "+me {
		t.Fatalf("erasure (newest first): %v", got)
	}
	e.must(400, "GET", "/v1/audit/members?memberId=x", adminToken, nil)
}

// TestProposalTextsCountCharacters: a title and a body are bounded in characters, as the
// OpenAPI document says, not in bytes: 200 accented letters (400 bytes) are a title.
func TestProposalTextsCountCharacters(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.customer("Zoé Rider")
	e.must(201, "POST", "/v1/proposals", c.token, map[string]any{"title": strings.Repeat("é", 200), "body": strings.Repeat("é", 20000)})
	e.refused(400, "title", "at most 200 characters", "POST", "/v1/proposals", c.token, map[string]any{"title": strings.Repeat("é", 201)})
	e.refused(400, "body", "at most 20000 characters", "POST", "/v1/proposals", c.token, map[string]any{"title": "t", "body": strings.Repeat("é", 20001)})
}

// TestGovernanceDelegationChangedAfterTheDeadlineDoesNotCount: under the delegate model a
// proposal counts the delegations in force at its deadline. Ana votes yes, Bea no, Cal
// delegates to Bea; after the deadline, before the closer came, Cal delegates to Ana: the
// proposal fails 1 to 2 all the same, whether the change comes through the API (which
// closes what is due first) or straight to the database as the serving role.
func TestGovernanceDelegationChangedAfterTheDeadlineDoesNotCount(t *testing.T) {
	for _, through := range []string{"api", "database"} {
		t.Run(through, func(t *testing.T) {
			e := newEnv(t, withModel(t, policy.Delegate, 50, 50))
			m := e.workers(3)
			ana, bea, cal := m[0], m[1], m[2]
			id := num(e.must(201, "POST", "/v1/proposals", ana.token, map[string]any{"title": "Join the federation", "field": "federation",
				"value": map[string]any{"peers": []any{map[string]any{"name": "eu-south"}}}})["id"])
			e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), ana.token, map[string]any{"choice": "yes"})
			e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), bea.token, map[string]any{"choice": "no"})
			e.must(200, "PUT", "/v1/delegation", cal.token, map[string]any{"delegateId": bea.id})
			e.clock.Step(7*24*time.Hour + time.Minute)
			if through == "api" {
				e.must(200, "PUT", "/v1/delegation", cal.token, map[string]any{"delegateId": ana.id})
			} else if _, err := e.s.Pool().Exec(context.Background(), `UPDATE delegations SET delegate_id = $2 WHERE member_id = $1`, cal.id, ana.id); err != nil {
				t.Fatal(err)
			}
			pr := e.must(200, "GET", fmt.Sprintf("/v1/proposals/%d", id), ana.token, nil)["proposal"].(map[string]any)
			res := pr["result"].(map[string]any)
			cls := res["classes"].([]any)[0].(map[string]any)
			if res["passed"] != false || num(cls["yes"]) != 1 || num(cls["no"]) != 2 || num(cls["delegated"]) != 1 {
				t.Fatalf("a delegation changed after the deadline counted: %v", res)
			}
		})
	}
}

// TestAMemberHasAtMostFiveProposalsOpen: no member can flood the others' governance page
// and notifications: a sixth proposal while five of theirs are open is 409, with nothing
// written, also when sent all at once; another member still proposes; once one of the
// five has closed, the member proposes again. Staff's token is not bounded.
func TestAMemberHasAtMostFiveProposalsOpen(t *testing.T) {
	e := newEnv(t, withModel(t, policy.OneMemberOneVote, 50, 50))
	ana, bea := e.worker("Ana Worker"), e.worker("Bea Worker")
	var first int64
	for i := range MaxOpenProposalsPerMember - 1 {
		id := num(e.must(201, "POST", "/v1/proposals", ana.token, map[string]any{"title": fmt.Sprintf("Motion %d", i)})["id"])
		if i == 0 {
			first = id
		}
	}
	// Four open, and a fifth on its way in a transaction that has counted them: a
	// proposal sent meanwhile waits for it, then counts five.
	ctx := context.Background()
	tx, err := e.s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if n, err := proposals.On(tx).LockOpenBy(ctx, ana.id); err != nil || n != MaxOpenProposalsPerMember-1 {
		t.Fatalf("LockOpenBy: %d, %v", n, err)
	}
	if _, err := proposals.On(tx).Open(ctx, proposals.New{Title: "The fifth", CreatedBy: &ana.id, Rules: []byte(`{"model":"one-member-one-vote","quorumPercent":50,"approvalPercent":50,"minimumVotingPeriodHours":168}`), Hours: 168}); err != nil {
		t.Fatal(err)
	}
	answer := make(chan resp, 1)
	go func() {
		answer <- e.call("POST", "/v1/proposals", ana.token, map[string]any{"title": "Sent meanwhile"})
	}()
	e.waitsOnALock(answer, "a proposal sent while another of its author's is being opened")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if r := <-answer; r.status != 409 || !strings.Contains(string(r.body), "you have 5 proposals open") {
		t.Fatalf("a proposal sent while the fifth was being opened: %d %s", r.status, r.body)
	}
	e.refused(409, "", "you have 5 proposals open", "POST", "/v1/proposals", ana.token, map[string]any{"title": "One too many"})
	e.must(201, "POST", "/v1/proposals", bea.token, map[string]any{"title": "Bea's own"})
	e.must(201, "POST", "/v1/proposals", adminToken, map[string]any{"title": "The co-op's"})
	// One of Ana's closes (everyone voted): she proposes again.
	e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", first), ana.token, map[string]any{"choice": "yes"})
	e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", first), bea.token, map[string]any{"choice": "yes"})
	e.must(200, "POST", fmt.Sprintf("/v1/proposals/%d/close", first), adminToken, nil)
	e.must(201, "POST", "/v1/proposals", ana.token, map[string]any{"title": "Once one closed"})
	// Past their deadline, the other four count no more, closed or not yet.
	e.refused(409, "", "you have 5 proposals open", "POST", "/v1/proposals", ana.token, map[string]any{"title": "One too many again"})
	e.clock.Step(8 * 24 * time.Hour) // the database's clock too
	e.must(201, "POST", "/v1/proposals", ana.token, map[string]any{"title": "After the deadlines"})
}

// TestPolicyCarriesTheGovernedValuesInForce: a member reads in the policy the value in
// force of the governed parts the operator wrote into the document (current), which a
// proposal of one starts from.
func TestPolicyCarriesTheGovernedValuesInForce(t *testing.T) {
	pol := mustPolicy(t, ridePolicy)
	pol.Current = map[string]json.RawMessage{"plan": json.RawMessage(`"small"`), "federation": json.RawMessage(`{"peers":[{"name":"east"}]}`)}
	// With the rest of what the operator writes: the API's answer holds to its document.
	pol.TimeZone = "Europe/Paris"
	pol.Governance.ApprovalFraction = "2/3"
	pol.BreakGlass = []policy.BreakGlassUse{{User: "bob@hub.example", Time: time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC), Fields: []string{"plan"}, Reason: "disk full", Generation: 4}}
	e := newEnv(t, pol)
	d := e.worker("Dan Driver")
	got := e.must(200, "GET", "/v1/policy", d.token, nil)
	if cur := fmt.Sprint(got["current"]); cur != "map[federation:map[peers:[map[name:east]]] plan:small]" {
		t.Fatalf("the values in force: %s", cur)
	}
	if got["timeZone"] != "Europe/Paris" || fmt.Sprint(got["breakGlass"]) != "[map[fields:[plan] generation:4 reason:disk full time:2026-11-02T08:00:00Z user:bob@hub.example]]" ||
		got["governance"].(map[string]any)["approvalFraction"] != "2/3" {
		t.Fatalf("the policy: %v", got)
	}
}

// TestSecretBallotUntilTheClose: while a proposal is open nobody sees how the votes go,
// neither a member nor staff (the API token or a member with the staff role), in the
// proposal, the list of proposals or a member's export: the turnout only, over the whole
// roll. A member reads their own ballot; staff reading a member's export see that they
// voted, not how. Once closed, the result per class.
func TestSecretBallotUntilTheClose(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy)) // drivers, riders, staff: one member each below
	d1 := e.worker("Dan Driver")
	r1 := e.customer("Rita Rider")
	s1 := e.member("Sam Staff", []string{"staff"}, "staff")
	id := num(e.must(201, "POST", "/v1/proposals", d1.token, map[string]any{"title": "Lower the fee to 2%", "field": "feeSplit", "value": lowerFee})["id"])
	path := fmt.Sprintf("/v1/proposals/%d", id)
	e.must(200, "PUT", path+"/ballot", r1.token, map[string]any{"choice": "no"})
	e.must(200, "PUT", path+"/ballot", s1.token, map[string]any{"choice": "yes"})

	// What would tell a vote: a count or anything drawn from one.
	for _, reader := range []struct {
		name, token string
	}{{"the driver, who has not voted", d1.token}, {"the rider", r1.token}, {"a member with the staff role", s1.token}, {"staff's API token", adminToken}} {
		view := e.must(200, "GET", path, reader.token, nil)
		// All but the rules (their approvalPercent is the threshold) and the reader's own ballot.
		rest := maps.Clone(view)
		delete(rest, "rules")
		delete(rest, "myBallot")
		body, _ := json.Marshal(rest)
		for _, leak := range []string{`"yes"`, `"no"`, `"abstain"`, `"classes"`, `"approvalPercent"`, `"passed"`, `"result"`, `"currentTally"`, `"turnoutPercent"`, `"reason"`} {
			if strings.Contains(string(body), leak) {
				t.Errorf("%s reads %s of the open vote: %s", reader.name, leak, body)
			}
		}
		if tu, ok := view["turnout"].(map[string]any); !ok || num(tu["ballots"]) != 2 || num(tu["eligible"]) != 3 || len(tu) != 2 {
			t.Errorf("%s: turnout %v, want 2 ballots of 3, nothing else", reader.name, view["turnout"])
		}
		if list := e.call("GET", "/v1/proposals", reader.token, nil); strings.Contains(string(list.body), `"result"`) || strings.Contains(string(list.body), `"classes"`) {
			t.Errorf("%s reads the open vote in the list: %s", reader.name, list.body)
		}
	}
	if mine := e.must(200, "GET", path, r1.token, nil)["myBallot"]; mine != "no" {
		t.Errorf("the rider's own ballot: %v", mine)
	}
	// The export: the member's own says how they voted; staff's reading of it does not.
	exportBallots := func(token string) []any {
		t.Helper()
		return e.must(200, "GET", fmt.Sprintf("/v1/members/%d/export", r1.id), token, nil)["ballots"].([]any)
	}
	if b := exportBallots(r1.token); len(b) != 1 || b[0].(map[string]any)["choice"] != "no" || num(b[0].(map[string]any)["proposal_id"]) != id {
		t.Errorf("the rider's own export: ballots %v", b)
	}
	if b := exportBallots(adminToken); len(b) != 1 || num(b[0].(map[string]any)["proposal_id"]) != id || b[0].(map[string]any)["choice"] != nil {
		t.Errorf("staff's reading of the rider's export: ballots %v, want the vote taken part in and no choice", b)
	}

	// Closed: the result per class, to members and staff alike.
	e.must(200, "PUT", path+"/ballot", d1.token, map[string]any{"choice": "yes"})
	e.must(200, "POST", path+"/close", adminToken, nil)
	for _, token := range []string{d1.token, s1.token, adminToken} {
		view := e.must(200, "GET", path, token, nil)
		res, _ := view["proposal"].(map[string]any)["result"].(map[string]any)
		if res == nil || len(res["classes"].([]any)) != 3 || res["approvalPercent"] != "80.00" {
			t.Fatalf("the closed proposal's result: %v", view)
		}
		riders := res["classes"].([]any)[1].(map[string]any)
		if riders["class"] != "riders" || num(riders["no"]) != 1 {
			t.Errorf("riders %v", riders)
		}
		if tu := view["turnout"].(map[string]any); num(tu["ballots"]) != 3 || num(tu["eligible"]) != 3 {
			t.Errorf("turnout after the close %v", tu)
		}
	}
}
