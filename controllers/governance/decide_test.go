/*
Copyright 2026 The cooperator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package governance

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/cooperator-dev/cooperator/api/policy"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	tally "github.com/cooperator-dev/cooperator/platform/server/governance"
)

func TestDecide(t *testing.T) {
	coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Spec: coopv1.CooperativeSpec{
		Governance: coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50,
			GovernedFields: []coopv1.GovernedField{coopv1.GovernedFeeSplit, coopv1.GovernedFederation, coopv1.GovernedBackup}},
	}}
	rules := policy.GovernanceFromSpec(coop.Spec.Governance)
	in := tally.Input{Governance: rules, Voters: []tally.Voter{{ID: 1}, {ID: 2}}, Ballots: map[int64]string{1: "yes", 2: "yes"}}
	passed := tally.Tally(in)
	in.Ballots = map[int64]string{1: "yes"}
	other := tally.Tally(in) // passes too, with other counts
	failedTally := tally.Tally(tally.Input{Governance: rules, Voters: in.Voters, Ballots: map[int64]string{1: "no"}})
	value := json.RawMessage(`{"platformFeeBasisPoints":200,"surgeToWorkersPercent":100}`)
	reworded := passed
	reworded.Reason, reworded.TurnoutPercent = "worded by another version of the platform", "100.0"
	changedRules := rules
	changedRules.QuorumPercent = 10
	// Half written as a fraction is the same rule as 50%; two thirds is another.
	halfFraction, twoThirds := rules, rules
	halfFraction.ApprovalFraction, twoThirds.ApprovalFraction = "2/4", "2/3"
	cases := []struct {
		name     string
		p        tally.Closed
		retally  tally.Result
		state    string
		reason   string
		hasEntry bool
	}{
		{"agrees", tally.Closed{ID: 1, Field: "feeSplit", Value: value, Rules: rules, Result: passed}, passed, tally.ApplicationApplied, coopv1.ReasonChangesApplied, true},
		// A platform of another version words its result otherwise: the same outcome.
		{"stored wording differs", tally.Closed{ID: 10, Field: "feeSplit", Value: value, Rules: rules, Result: reworded}, passed, tally.ApplicationApplied, coopv1.ReasonChangesApplied, true},
		{"stored counts differ", tally.Closed{ID: 2, Field: "feeSplit", Value: value, Rules: rules, Result: passed}, other, tally.ApplicationRefused, coopv1.ReasonTallyMismatch, false},
		{"re-tally fails", tally.Closed{ID: 3, Field: "feeSplit", Value: value, Rules: rules, Result: failedTally}, failedTally, tally.ApplicationRefused, coopv1.ReasonTallyMismatch, false},
		{"rules changed", tally.Closed{ID: 4, Field: "feeSplit", Value: value, Rules: changedRules, Result: passed}, passed, tally.ApplicationFailed, coopv1.ReasonChangeNotApplicable, false},
		{"approval rule changed", tally.Closed{ID: 4, Field: "feeSplit", Value: value, Rules: twoThirds, Result: passed}, passed, tally.ApplicationFailed, coopv1.ReasonChangeNotApplicable, false},
		{"the same approval written as a fraction", tally.Closed{ID: 1, Field: "feeSplit", Value: value, Rules: halfFraction, Result: passed}, passed, tally.ApplicationApplied, coopv1.ReasonChangesApplied, true},
		{"value breaks a rule", tally.Closed{ID: 5, Field: "feeSplit", Value: json.RawMessage(`{"platformFeeBasisPoints":20000}`), Rules: rules, Result: passed}, passed, tally.ApplicationFailed, coopv1.ReasonChangeNotApplicable, false},
		// Opened before the platform refused it: a switchover is not the members' to vote.
		{"federation with a primary", tally.Closed{ID: 6, Field: "federation", Value: json.RawMessage(`{"peers":[{"name":"eu-south","mode":"standby"}],"primary":"eu-south"}`), Rules: rules, Result: passed}, passed, tally.ApplicationFailed, coopv1.ReasonChangeNotApplicable, false},
		// Opened before the platform refused it: only the hub keeps backups longer than 90
		// days; the operator's write of it would be refused.
		{"retention over the co-op's limit", tally.Closed{ID: 7, Field: "backup", Value: json.RawMessage(`{"retention":"6m"}`), Rules: rules, Result: passed}, passed, tally.ApplicationFailed, coopv1.ReasonChangeNotApplicable, false},
		// Taken off governedFields while it was open: the co-op's admins set the plan now.
		{"no longer governed", tally.Closed{ID: 8, Field: "plan", Value: json.RawMessage(`"medium"`), Rules: rules, Result: passed}, passed, tally.ApplicationFailed, coopv1.ReasonChangeNotApplicable, false},
		// The rules themselves are governed once any field is.
		{"the rules", tally.Closed{ID: 9, Field: "governance", Value: json.RawMessage(`{"model":"one-member-one-vote","quorumPercent":60,"approvalPercent":50,"governedFields":["feeSplit"]}`), Rules: rules, Result: passed}, passed, tally.ApplicationApplied, coopv1.ReasonChangesApplied, true},
	}
	for _, c := range cases {
		o := decide(coop, c.p, c.retally, 0)
		if o.state != c.state || o.cond.Reason != c.reason || (o.record != nil) != c.hasEntry {
			t.Errorf("%s: %s %s (record %v), want %s %s", c.name, o.state, o.cond.Reason, o.record, c.state, c.reason)
		}
	}
}

// TestDecideHoldsTheVotingPeriod: a proposal that closed before the co-op's minimum voting
// period is applied only when everyone on its roll had voted (staff may close it early
// only then); one from before deadlines is held to nothing, as the platform held it.
func TestDecideHoldsTheVotingPeriod(t *testing.T) {
	coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Spec: coopv1.CooperativeSpec{
		Governance: coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50, MinimumVotingPeriodHours: 24,
			GovernedFields: []coopv1.GovernedField{coopv1.GovernedFeeSplit}},
	}}
	rules := policy.GovernanceFromSpec(coop.Spec.Governance)
	passed := tally.Tally(tally.Input{Governance: rules, Voters: []tally.Voter{{ID: 1}, {ID: 2}}, Ballots: map[int64]string{1: "yes"}})
	opened := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	deadline := opened.Add(24 * time.Hour)
	proposal := func(open time.Duration, deadline *time.Time) tally.Closed {
		return tally.Closed{ID: 1, Field: "feeSplit", Value: json.RawMessage(`{"platformFeeBasisPoints":200}`), Rules: rules, Result: passed,
			Created: opened, ClosedAt: opened.Add(open), Deadline: deadline}
	}
	cases := []struct {
		name     string
		p        tally.Closed
		notVoted int64
		reason   string
	}{
		{"at its deadline", proposal(24*time.Hour, &deadline), 1, coopv1.ReasonChangesApplied},
		{"early, everyone voted", proposal(time.Hour, &deadline), 0, coopv1.ReasonChangesApplied},
		{"early, one did not vote", proposal(time.Hour, &deadline), 1, coopv1.ReasonClosedEarly},
		{"a minute short", proposal(24*time.Hour-time.Minute, &deadline), 1, coopv1.ReasonClosedEarly},
		// Every proposal that carries a change has a deadline: one without is a database's
		// doing, held to everyone having voted.
		{"without a deadline", proposal(time.Hour, nil), 1, coopv1.ReasonClosedEarly},
		{"without a deadline, everyone voted", proposal(time.Hour, nil), 0, coopv1.ReasonChangesApplied},
	}
	for _, c := range cases {
		o := decide(coop, c.p, passed, c.notVoted)
		if o.cond.Reason != c.reason {
			t.Errorf("%s: %s (%s), want %s", c.name, o.cond.Reason, o.cond.Message, c.reason)
		}
		why := "minimum voting period of 24 hours"
		if c.p.Deadline == nil {
			why = "no deadline"
		}
		if c.reason == coopv1.ReasonClosedEarly && (o.state != tally.ApplicationRefused || o.record != nil ||
			!strings.Contains(o.message, why) || !strings.Contains(o.message, "1 members")) {
			t.Errorf("%s: %s %q (record %v)", c.name, o.state, o.message, o.record)
		}
	}
	// The Cooperative's rules hold, not those the database says the proposal was opened
	// under: a database that says 1 hour does not shorten the period.
	short := proposal(2*time.Hour, &deadline)
	short.Rules.MinimumVotingPeriodHours = 1
	if o := decide(coop, short, passed, 1); o.cond.Reason != coopv1.ReasonClosedEarly {
		t.Errorf("the stored rules shortened the period: %s", o.cond.Reason)
	}

	// The members raise the minimum to 48 hours while a proposal opened under 24 is open: it
	// closes at its deadline and is held to the 24 hours it opened under, which the history
	// shows the co-op had. One opened after the raise (and past the platform's reload) is
	// held to 48; a database claiming 12 hours, which the co-op never had, is not believed.
	raised := coop.DeepCopy()
	raised.Spec.Governance.MinimumVotingPeriodHours = 48
	raised.Status.Governance = &coopv1.GovernanceStatus{History: []coopv1.AppliedProposal{{ID: 7, Field: coopv1.GovernedGovernance,
		OldValue:  `{"model":"one-member-one-vote","quorumPercent":50,"approvalPercent":50,"minimumVotingPeriodHours":24,"governedFields":["feeSplit"]}`,
		AppliedAt: metav1.Time{Time: opened.Add(12 * time.Hour)}}}}
	atDeadline := proposal(24*time.Hour, &deadline)
	if o := decide(raised, atDeadline, passed, 1); o.cond.Reason != coopv1.ReasonChangesApplied {
		t.Errorf("a proposal open when the minimum was raised: %s (%s)", o.cond.Reason, o.cond.Message)
	}
	later := proposal(24*time.Hour, &deadline)
	later.Created, later.ClosedAt = opened.Add(13*time.Hour), opened.Add(37*time.Hour)
	if o := decide(raised, later, passed, 1); o.cond.Reason != coopv1.ReasonClosedEarly || !strings.Contains(o.message, "48 hours") {
		t.Errorf("a proposal opened after the minimum was raised, under the old one: %s (%s)", o.cond.Reason, o.message)
	}
	// A raise the operator saw in the spec (the hub's break-glass, no vote in the history)
	// counts the same.
	seen := coop.DeepCopy()
	seen.Spec.Governance.MinimumVotingPeriodHours = 48
	seen.Status.Governance = &coopv1.GovernanceStatus{MinimumVotingPeriodHours: 48,
		VotingPeriodRaises: []coopv1.VotingPeriodRaise{{FromHours: 24, At: metav1.Time{Time: opened.Add(12 * time.Hour)}}}}
	if o := decide(seen, atDeadline, passed, 1); o.cond.Reason != coopv1.ReasonChangesApplied {
		t.Errorf("a proposal open when the minimum was raised outside a vote: %s (%s)", o.cond.Reason, o.cond.Message)
	}
	if o := decide(seen, later, passed, 1); o.cond.Reason != coopv1.ReasonClosedEarly {
		t.Errorf("a proposal opened after a raise outside a vote, under the old minimum: %s", o.cond.Reason)
	}
	claimed := proposal(12*time.Hour, &deadline)
	claimed.Rules.MinimumVotingPeriodHours = 12
	if o := decide(raised, claimed, passed, 1); o.cond.Reason != coopv1.ReasonClosedEarly {
		t.Errorf("a database claiming a minimum the co-op never had: %s", o.cond.Reason)
	}
}

func TestSpecPartRoundTrip(t *testing.T) {
	coop := &coopv1.Cooperative{Spec: coopv1.CooperativeSpec{Plan: "small", FeeSplit: coopv1.FeeSplit{PlatformFeeBasisPoints: 300, Funds: []coopv1.Fund{{Name: "a", BasisPoints: 100}}}}}
	for _, part := range policy.GovernedParts {
		v, err := policy.SpecPart(coop, part)
		if err != nil {
			t.Fatalf("%s: %v", part, err)
		}
		c2 := coop.DeepCopy()
		if err := SetSpecPart(c2, part, v); err != nil {
			t.Fatalf("%s: %v", part, err)
		}
		v2, _ := policy.SpecPart(c2, part)
		if string(v) != string(v2) {
			t.Errorf("%s: %s then %s", part, v, v2)
		}
	}
	// A new fee split replaces the whole part: funds left out are gone.
	if err := SetSpecPart(coop, "feeSplit", json.RawMessage(`{"platformFeeBasisPoints":100}`)); err != nil || len(coop.Spec.FeeSplit.Funds) != 0 {
		t.Fatalf("funds %v, %v", coop.Spec.FeeSplit.Funds, err)
	}
}

// TestTheEntryBeingAppliedIsOfOneProposal: the entry of a change being applied names its
// proposal by number and close time. A proposal of the same number closed at another time
// (a database restored to an earlier point numbers its new proposals again) is not taken for
// the interrupted one: not put first, not judged by the rules the entry kept, and the entry
// does not count as waiting. An entry written without a close time matches by number.
func TestTheEntryBeingAppliedIsOfOneProposal(t *testing.T) {
	closed := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	entry := &coopv1.ApplyingProposal{ID: 3, Field: policy.PartGovernance, OldValue: `{"model":"consent","quorumPercent":10,"approvalPercent":50}`,
		ClosedAt: &metav1.Time{Time: closed}}
	same := tally.Closed{ID: 3, Field: policy.PartGovernance, ClosedAt: closed.Add(300 * time.Millisecond)} // kept to the second
	renumbered := tally.Closed{ID: 3, Field: policy.PartGovernance, ClosedAt: closed.Add(2 * time.Hour)}
	other := tally.Closed{ID: 1, Field: policy.PartFeeSplit, ClosedAt: closed}

	if !notes(entry, same) || notes(entry, renumbered) || notes(nil, same) {
		t.Errorf("notes: same %t, renumbered %t; want true, false", notes(entry, same), notes(entry, renumbered))
	}
	if !notes(&coopv1.ApplyingProposal{ID: 3}, renumbered) {
		t.Error("an entry without a close time must match by number")
	}
	if got := resumeFirst([]tally.Closed{other, renumbered}, entry); got[0].ID != other.ID {
		t.Errorf("a renumbered proposal was put first: %v", got)
	}
	if got := resumeFirst([]tally.Closed{other, same}, entry); got[0].ID != same.ID {
		t.Errorf("the interrupted proposal was not put first: %v", got)
	}
	coop := &coopv1.Cooperative{Spec: coopv1.CooperativeSpec{Governance: coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50}},
		Status: coopv1.CooperativeStatus{Governance: &coopv1.GovernanceStatus{Applying: entry}}}
	if got := rulesBefore(coop, renumbered); got.QuorumPercent != 50 {
		t.Errorf("a renumbered proposal was judged by the rules the entry kept: %+v", got)
	}
	if got := rulesBefore(coop, same); got.QuorumPercent != 10 {
		t.Errorf("the interrupted change of the rules was not judged by the rules it replaced: %+v", got)
	}
}

// TestAChangeThatDropsTheHostIsNotApplied: a platform change replaces the whole part; one
// that leaves the host out would take the members' app off its address, where they could
// not vote it back. It is not applied, saying why, and nothing is written.
func TestAChangeThatDropsTheHostIsNotApplied(t *testing.T) {
	coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Spec: coopv1.CooperativeSpec{
		Platform: coopv1.PlatformSpec{Host: "c.coops.example", Version: "1.0"}}}
	scheme := runtime.NewScheme()
	if err := coopv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	// An empty cluster: without the check, the change would be refused for its template
	// instead, with another message.
	r := &Reconciler{Client: fake.NewClientBuilder().WithScheme(scheme).Build()}
	p := tally.Closed{ID: 7, Field: policy.PartPlatform, Value: json.RawMessage(`{"version":"1.1"}`)}
	o, err := r.applyChange(t.Context(), coop, p, outcome{state: tally.ApplicationApplied})
	if err != nil || o.state != tally.ApplicationFailed || o.cond.Reason != coopv1.ReasonChangeNotApplicable ||
		!strings.Contains(o.message, "no host") || !strings.Contains(o.message, "c.coops.example") {
		t.Fatalf("outcome %+v, %v: want not applicable, naming the host", o, err)
	}
	if coop.Spec.Platform.Host != "c.coops.example" {
		t.Errorf("the co-op changed: %+v", coop.Spec.Platform)
	}
}
