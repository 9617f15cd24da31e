package server

import (
	"fmt"
	"testing"

	"github.com/cooperator-dev/cooperator/platform/server/policy"
)

func TestGovernanceMultiStakeholder(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	d1, d2 := e.worker("Dan Driver"), e.worker("Eve Driver")
	r1 := e.customer("Rita Rider")
	s1 := e.member("Sam Staff", []string{"staff"}, "staff")
	p := e.must(201, "POST", "/v1/proposals", d1.token, map[string]any{"title": "Lower the fee to 2%", "field": "feeSplit"})
	id := num(p["id"])
	ballot := func(w who, choice string) {
		e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), w.token, map[string]any{"choice": choice})
	}
	ballot(d1, "yes")
	ballot(d2, "no")
	ballot(d2, "yes") // ballots can change until close
	ballot(r1, "no")
	ballot(s1, "yes")
	e.must(400, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), d1.token, map[string]any{"choice": "object"})
	live := e.must(200, "GET", fmt.Sprintf("/v1/proposals/%d", id), r1.token, nil)
	if live["myBallot"] != "no" || live["currentTally"] == nil {
		t.Fatalf("live %v", live)
	}
	e.must(403, "POST", fmt.Sprintf("/v1/proposals/%d/close", id), d1.token, nil)
	closed := e.must(200, "POST", fmt.Sprintf("/v1/proposals/%d/close", id), adminToken, nil)
	res := closed["result"].(map[string]any)
	// drivers 60% all yes, riders 20% all no, staff 20% yes: approval 80% >= 66%.
	if res["passed"] != true || res["approvalPercent"] != "80.00" || len(res["classes"].([]any)) != 3 {
		t.Fatalf("result %v", res)
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
	var m []who
	for i := 0; i < 6; i++ {
		m = append(m, e.member(fmt.Sprintf("Member %d", i), []string{"worker"}, ""))
	}
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
	e.must(200, "DELETE", "/v1/delegation", m[5].token, nil) // taken back
	e.must(404, "DELETE", "/v1/delegation", m[5].token, nil)

	id := num(e.must(201, "POST", "/v1/proposals", m[0].token, map[string]any{"title": "Join the federation", "field": "federation"})["id"])
	vote := func(w who, c string) {
		e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), w.token, map[string]any{"choice": c})
	}
	vote(m[0], "yes")
	vote(m[4], "no")
	vote(m[2], "yes") // delegated to 3, but votes directly: overrides; 1 follows 2
	res := e.must(200, "POST", fmt.Sprintf("/v1/proposals/%d/close", id), adminToken, nil)["result"].(map[string]any)
	cls := res["classes"].([]any)[0].(map[string]any)
	// yes: 0, 2, 1 (via 2); no: 4, 3 (via 4); 5 took their delegation back and did not vote.
	if num(cls["yes"]) != 3 || num(cls["no"]) != 2 || num(cls["delegated"]) != 2 || res["passed"] != true || res["approvalPercent"] != "60.00" {
		t.Fatalf("result %v", res)
	}
}

func TestGovernanceConsentAndQuorum(t *testing.T) {
	e := newEnv(t, withModel(t, policy.Consent, 50, 100))
	var m []who
	for i := 0; i < 4; i++ {
		m = append(m, e.member(fmt.Sprintf("Member %d", i), []string{"worker"}, ""))
	}
	newProp := func() int64 {
		return num(e.must(201, "POST", "/v1/proposals", m[0].token, map[string]any{"title": "t"})["id"])
	}
	vote := func(id int64, w who, c string) {
		e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), w.token, map[string]any{"choice": c})
	}
	a := newProp()
	vote(a, m[0], "yes")
	vote(a, m[1], "abstain")
	vote(a, m[2], "object")
	res := e.must(200, "POST", fmt.Sprintf("/v1/proposals/%d/close", a), adminToken, nil)["result"].(map[string]any)
	if res["passed"] != false || res["quorumReached"] != true {
		t.Fatalf("objection: %v", res)
	}
	b := newProp()
	vote(b, m[0], "yes")
	res = e.must(200, "POST", fmt.Sprintf("/v1/proposals/%d/close", b), adminToken, nil)["result"].(map[string]any)
	if res["passed"] != false || res["quorumReached"] != false {
		t.Fatalf("quorum: %v", res)
	}
	c := newProp()
	vote(c, m[0], "yes")
	vote(c, m[1], "yes")
	res = e.must(200, "POST", fmt.Sprintf("/v1/proposals/%d/close", c), adminToken, nil)["result"].(map[string]any)
	if res["passed"] != true {
		t.Fatalf("consent: %v", res)
	}
}
