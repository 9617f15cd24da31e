package governance

import (
	"testing"

	"github.com/cooperator-dev/cooperator/api/policy"
)

func voters(n int, class string, first int64) []Voter {
	v := make([]Voter, n)
	for i := range v {
		v[i] = Voter{ID: first + int64(i), Class: class}
	}
	return v
}

func ballots(pairs ...any) map[int64]string {
	m := map[int64]string{}
	for i := 0; i < len(pairs); i += 2 {
		m[int64(pairs[i].(int))] = pairs[i+1].(string)
	}
	return m
}

func TestTally(t *testing.T) {
	omov := policy.Governance{Model: policy.OneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50}
	multi := policy.Governance{Model: policy.MultiStakeholder, QuorumPercent: 50, ApprovalPercent: 66,
		StakeholderClasses: []policy.StakeholderClass{{Name: "drivers", Weight: 60}, {Name: "riders", Weight: 20}, {Name: "staff", Weight: 20}}}
	consent := policy.Governance{Model: policy.Consent, QuorumPercent: 50, ApprovalPercent: 100}
	deleg := policy.Governance{Model: policy.Delegate, QuorumPercent: 50, ApprovalPercent: 60}
	twoThirds := policy.Governance{Model: policy.OneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50, ApprovalFraction: "2/3"}
	percent66 := policy.Governance{Model: policy.OneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 66}
	percent67 := policy.Governance{Model: policy.OneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 67}
	yesNo := func(yes, no int) Input {
		in := Input{Voters: voters(yes+no, "", 1), Ballots: map[int64]string{}}
		for i := 1; i <= yes+no; i++ {
			in.Ballots[int64(i)] = map[bool]string{true: Yes, false: No}[i <= yes]
		}
		return in
	}
	with := func(g policy.Governance, in Input) Input { in.Governance = g; return in }
	// multi-stakeholder electorate: drivers 1..10, riders 11..20, staff 21..22
	mv := append(append(voters(10, "drivers", 1), voters(10, "riders", 11)...), voters(2, "staff", 21)...)

	tests := []struct {
		name       string
		in         Input
		passed     bool
		quorum     bool
		turnout    string
		approval   string
		wantReason string
	}{
		{"1m1v passes", Input{Governance: omov, Voters: voters(4, "", 1), Ballots: ballots(1, Yes, 2, Yes, 3, No)},
			true, true, "75.00", "66.67", ""},
		{"1m1v quorum not reached", Input{Governance: omov, Voters: voters(10, "", 1), Ballots: ballots(1, Yes, 2, Yes, 3, Yes, 4, Yes)},
			false, false, "40.00", "100.00", "quorum not reached: turnout 40.00% < 50%"},
		{"1m1v tie fails even at 50% approval", Input{Governance: omov, Voters: voters(4, "", 1), Ballots: ballots(1, Yes, 2, No, 3, Abstain)},
			false, true, "75.00", "50.00", "tie: yes and no are equal"},
		{"1m1v abstentions count toward quorum only", Input{Governance: omov, Voters: voters(4, "", 1), Ballots: ballots(1, Yes, 2, Abstain)},
			true, true, "50.00", "100.00", ""},
		{"1m1v nobody eligible", Input{Governance: omov}, false, false, "0.00", "0.00", ""},
		// Two thirds, which no whole percent says: 66% passes 66 of 100 (less than two
		// thirds), 67% refuses 2 of 3 (exactly two thirds); 2/3 does neither.
		{"2/3 passes exactly two thirds", with(twoThirds, yesNo(2, 1)), true, true, "100.00", "66.67", "quorum reached and approval 66.67% ≥ 2/3"},
		{"2/3 refuses 66 of 100", with(twoThirds, yesNo(66, 34)), false, true, "100.00", "66.00", "approval 66.00% < 2/3"},
		{"2/3 passes 67 of 100", with(twoThirds, yesNo(67, 33)), true, true, "100.00", "67.00", ""},
		{"66% passes 66 of 100", with(percent66, yesNo(66, 34)), true, true, "100.00", "66.00", ""},
		{"67% refuses 2 of 3", with(percent67, yesNo(2, 1)), false, true, "100.00", "66.67", "approval 66.67% < 67%"},
		// drivers: 6 of 10 vote, 4 yes 2 no; riders 5 of 10 vote, 1 yes 4 no; staff 2 of 2 yes.
		// turnout = .6*.6 + .2*.5 + .2*1 = .66; approval = (.6*4/6 + .2*1/5 + .2*1)/1 = .64 < .66
		{"multi-stakeholder below approval", Input{Governance: multi, Voters: mv,
			Ballots: ballots(1, Yes, 2, Yes, 3, Yes, 4, Yes, 5, No, 6, No, 11, Yes, 12, No, 13, No, 14, No, 15, No, 21, Yes, 22, Yes)},
			false, true, "66.00", "64.00", "approval 64.00% < 66%"},
		// same with riders all yes: approval = .6*4/6 + .2 + .2 = .8
		{"multi-stakeholder passes by weight", Input{Governance: multi, Voters: mv,
			Ballots: ballots(1, Yes, 2, Yes, 3, Yes, 4, Yes, 5, No, 6, No, 11, Yes, 12, Yes, 13, Yes, 14, Yes, 15, Yes, 21, Yes, 22, Yes)},
			true, true, "66.00", "80.00", ""},
		// riders are the majority by head (10 no) but weigh 20%: drivers 60% yes wins.
		{"multi-stakeholder weight beats headcount", Input{Governance: multi,
			Voters:  append(voters(2, "drivers", 1), voters(10, "riders", 11)...),
			Ballots: ballots(1, Yes, 2, Yes, 11, No, 12, No, 13, No, 14, No, 15, No, 16, No, 17, No, 18, No, 19, No, 20, No)},
			true, true, "80.00", "75.00", ""},
		{"multi-stakeholder quorum not reached", Input{Governance: multi, Voters: mv, Ballots: ballots(11, Yes, 12, Yes, 13, Yes, 14, Yes, 15, Yes, 16, Yes, 17, Yes, 18, Yes, 19, Yes, 20, Yes, 21, Yes)},
			false, false, "30.00", "100.00", "quorum not reached: turnout 30.00% < 50%"},
		{"multi-stakeholder tie", Input{Governance: multi, Voters: mv, Ballots: ballots(1, Yes, 2, Yes, 3, Yes, 4, Yes, 5, Yes, 6, No, 7, No, 8, No, 9, No, 10, No)},
			false, true, "60.00", "50.00", "tie: yes and no are equal"},
		{"consent passes without objection", Input{Governance: consent, Voters: voters(4, "", 1), Ballots: ballots(1, Yes, 2, Abstain, 3, Yes)},
			true, true, "75.00", "100.00", "consent: quorum reached and no standing objection"},
		{"consent blocked by one objection", Input{Governance: consent, Voters: voters(4, "", 1), Ballots: ballots(1, Yes, 2, Yes, 3, Object)},
			false, true, "75.00", "100.00", "blocked by 1 standing objection(s)"},
		{"consent quorum not reached", Input{Governance: consent, Voters: voters(4, "", 1), Ballots: ballots(1, Yes)},
			false, false, "25.00", "100.00", ""},
		// chain 2 -> 3 -> 4 -> 5; 5 votes no; 3 delegated to 4 but votes yes directly, so
		// 2 follows 3 (yes), 4 follows 5 (no): yes = {2,3}, no = {4,5}... plus 1 yes directly.
		{"delegate chain with direct override", Input{Governance: deleg, Voters: voters(6, "", 1),
			Ballots: ballots(1, Yes, 3, Yes, 5, No), Delegations: map[int64]int64{2: 3, 3: 4, 4: 5}},
			true, true, "83.33", "60.00", ""},
		{"delegate without override", Input{Governance: deleg, Voters: voters(6, "", 1),
			Ballots: ballots(1, Yes, 5, No), Delegations: map[int64]int64{2: 3, 3: 4, 4: 5}},
			false, true, "83.33", "20.00", "more no than yes"},
		{"delegate to non-voter adds nothing", Input{Governance: deleg, Voters: voters(6, "", 1),
			Ballots: ballots(1, Yes, 2, Yes), Delegations: map[int64]int64{3: 4, 4: 6}},
			false, false, "33.33", "100.00", ""},
		{"delegate cycle yields no vote", Input{Governance: deleg, Voters: voters(3, "", 1),
			Ballots: ballots(1, Yes), Delegations: map[int64]int64{2: 3, 3: 2}},
			false, false, "33.33", "100.00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Tally(tt.in)
			if r.Passed != tt.passed || r.QuorumReached != tt.quorum || r.TurnoutPercent != tt.turnout || r.ApprovalPercent != tt.approval {
				t.Fatalf("got passed=%v quorum=%v turnout=%s approval=%s (%s); want %v %v %s %s",
					r.Passed, r.QuorumReached, r.TurnoutPercent, r.ApprovalPercent, r.Reason, tt.passed, tt.quorum, tt.turnout, tt.approval)
			}
			if tt.wantReason != "" && r.Reason != tt.wantReason {
				t.Fatalf("reason %q, want %q", r.Reason, tt.wantReason)
			}
		})
	}
}

func TestTallyPerClass(t *testing.T) {
	g := policy.Governance{Model: policy.MultiStakeholder, QuorumPercent: 1, ApprovalPercent: 1,
		StakeholderClasses: []policy.StakeholderClass{{Name: "drivers", Weight: 60}, {Name: "riders", Weight: 40}}}
	r := Tally(Input{Governance: g, Voters: append(voters(3, "drivers", 1), Voter{ID: 9, Class: "riders"}, Voter{ID: 10, Class: "gone"}),
		Ballots: ballots(1, Yes, 2, No, 9, Abstain, 10, Yes)})
	want := []ClassTally{{Class: "drivers", Weight: 60, Eligible: 3, Yes: 1, No: 1}, {Class: "riders", Weight: 40, Eligible: 1, Abstain: 1}}
	if len(r.Classes) != 2 || r.Classes[0] != want[0] || r.Classes[1] != want[1] {
		t.Fatalf("classes %+v", r.Classes)
	}
	d := Tally(Input{Governance: policy.Governance{Model: policy.Delegate, QuorumPercent: 1, ApprovalPercent: 1},
		Voters: voters(3, "", 1), Ballots: ballots(1, Yes), Delegations: map[int64]int64{2: 1, 3: 2}})
	if d.Classes[0].Delegated != 2 || d.Classes[0].Yes != 3 {
		t.Fatalf("delegated %+v", d.Classes)
	}
}

func TestCreatesCycle(t *testing.T) {
	d := map[int64]int64{2: 3, 3: 4}
	for _, c := range []struct {
		from, to int64
		want     bool
	}{{4, 2, true}, {4, 3, true}, {1, 2, false}, {5, 5, true}, {2, 4, false}, {4, 1, false}} {
		if got := CreatesCycle(c.from, c.to, d); got != c.want {
			t.Errorf("CreatesCycle(%d,%d)=%v", c.from, c.to, got)
		}
	}
}

func TestValidChoice(t *testing.T) {
	if ValidChoice(policy.Consent, No) || !ValidChoice(policy.Consent, Object) || ValidChoice(policy.OneMemberOneVote, Object) || ValidChoice(policy.Delegate, "maybe") {
		t.Fatal("choices")
	}
}

// TestDisclose: while open, the turnout only (ballots of one's own over the whole roll);
// once closed, the whole result.
func TestDisclose(t *testing.T) {
	multi := policy.Governance{Model: policy.MultiStakeholder, QuorumPercent: 50, ApprovalPercent: 66,
		StakeholderClasses: []policy.StakeholderClass{{Name: "drivers", Weight: 60}, {Name: "riders", Weight: 40}}}
	in := Input{Governance: multi, Voters: append(voters(2, "drivers", 1), voters(1, "riders", 3)...), Ballots: ballots(1, Yes, 3, No)}
	r := Tally(in)
	open := Disclose(true, r)
	if open.Result != nil || open.Turnout != (Turnout{Ballots: 2, Eligible: 3}) {
		t.Fatalf("open: %+v", open)
	}
	closed := Disclose(false, r)
	if closed.Result == nil || closed.Result.ApprovalPercent != r.ApprovalPercent || closed.Turnout != open.Turnout {
		t.Fatalf("closed: %+v", closed)
	}
	// A vote through a delegation is no ballot of one's own.
	deleg := Input{Governance: policy.Governance{Model: policy.Delegate, QuorumPercent: 50, ApprovalPercent: 50},
		Voters: voters(3, "", 1), Ballots: ballots(1, Yes), Delegations: map[int64]int64{2: 1}}
	if got := Disclose(true, Tally(deleg)).Turnout; got != (Turnout{Ballots: 1, Eligible: 3}) {
		t.Fatalf("delegate: %+v", got)
	}
}
