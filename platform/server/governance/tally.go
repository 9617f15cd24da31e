// Package governance tallies proposals under the co-op's governance model. Tally is a
// pure function of the electorate, the ballots and the policy; it uses exact rational
// arithmetic, never floating point.
package governance

import (
	"fmt"
	"math/big"
	"slices"

	"github.com/cooperator-dev/cooperator/api/policy"
)

// Choices a ballot can carry. Under consent, Yes means consent and Object is a standing
// objection; Abstain (stand aside) counts toward quorum only.
const (
	Yes     = "yes"
	No      = "no"
	Abstain = "abstain"
	Object  = "object"
)

// Choices are the choices a ballot takes under model, in the order a ballot shows them:
// under consent a member objects rather than votes no.
func Choices(model string) []string {
	if model == policy.Consent {
		return []string{Yes, Abstain, Object}
	}
	return []string{Yes, No, Abstain}
}

// ValidChoice reports whether choice is allowed under model.
func ValidChoice(model, choice string) bool { return slices.Contains(Choices(model), choice) }

// Voter is an eligible member (active, not erased).
type Voter struct {
	ID    int64
	Class string // stakeholder class; may be empty outside multi-stakeholder
}

// Input is everything a tally depends on.
type Input struct {
	Governance  policy.Governance
	Voters      []Voter
	Ballots     map[int64]string // member id -> choice (direct votes)
	Delegations map[int64]int64  // member id -> delegate id (delegate model)
}

// ClassTally counts one stakeholder class (or "members" when there are no classes).
type ClassTally struct {
	Class    string `json:"class"`
	Weight   int64  `json:"weight,omitempty"`
	Eligible int    `json:"eligible"`
	Yes      int    `json:"yes"`
	No       int    `json:"no"`
	Abstain  int    `json:"abstain"`
	Object   int    `json:"object,omitempty"`
	// Delegated counts votes cast through a delegation (delegate model).
	Delegated int `json:"delegated,omitempty"`
}

// Result is the outcome of a tally. Percentages are given as exact fractions rendered
// with two decimals for people; the decision uses the exact values.
type Result struct {
	Model           string       `json:"model"`
	Passed          bool         `json:"passed"`
	QuorumReached   bool         `json:"quorumReached"`
	TurnoutPercent  string       `json:"turnoutPercent"`
	ApprovalPercent string       `json:"approvalPercent"`
	Reason          string       `json:"reason"`
	Classes         []ClassTally `json:"classes"`
}

const membersClass = "members"

// Tally decides a proposal.
//
// Rules, for every model: turnout is the share of eligible voters who cast a ballot
// (yes, no, abstain, object); quorum is reached when turnout ≥ quorumPercent. Approval is
// yes / (yes + no); a proposal passes when quorum is reached, approval ≥ the rules'
// approval (policy.Governance.Approval: approvalFraction, or approvalPercent) and yes > no
// (a tie never passes).
//   - one-member-one-vote: every ballot weighs the same.
//   - multi-stakeholder: turnout and approval are computed per class, then combined
//     with the class weights; classes with no yes/no ballots drop out of the approval
//     (their weight is not counted for or against).
//   - consent: passes when quorum is reached and nobody objects; approvalPercent does
//     not apply.
//   - delegate: a member without a ballot of their own votes as their delegate does,
//     following the chain; a direct ballot always overrides the member's delegation.
func Tally(in Input) Result {
	g := in.Governance
	res := Result{Model: g.Model}
	classes := map[string]*ClassTally{}
	var order []string
	if g.Model == policy.MultiStakeholder {
		for _, c := range g.StakeholderClasses {
			classes[c.Name] = &ClassTally{Class: c.Name, Weight: c.Weight}
			order = append(order, c.Name)
		}
	}
	get := func(v Voter) *ClassTally {
		name := membersClass
		if g.Model == policy.MultiStakeholder {
			name = v.Class
		}
		ct, ok := classes[name]
		if !ok {
			ct = &ClassTally{Class: name}
			classes[name] = ct
			order = append(order, name)
		}
		return ct
	}
	for _, v := range in.Voters {
		if g.Model == policy.MultiStakeholder && classes[v.Class] == nil {
			continue // a member outside the policy's classes has no vote
		}
		ct := get(v)
		ct.Eligible++
		choice, direct := in.Ballots[v.ID]
		if !direct && g.Model == policy.Delegate {
			choice = resolve(v.ID, in.Ballots, in.Delegations)
			if choice != "" {
				ct.Delegated++
			}
		}
		switch choice {
		case Yes:
			ct.Yes++
		case No:
			ct.No++
		case Abstain:
			ct.Abstain++
		case Object:
			ct.Object++
		}
	}
	for _, name := range order {
		res.Classes = append(res.Classes, *classes[name])
	}

	turnout := new(big.Rat)  // fraction 0..1
	approval := new(big.Rat) // fraction 0..1
	yesW, noW := new(big.Rat), new(big.Rat)
	var objections int
	if g.Model == policy.MultiStakeholder {
		decisiveWeight := new(big.Rat)
		for _, ct := range res.Classes {
			objections += ct.Object
			w := big.NewRat(ct.Weight, 100)
			if ct.Eligible > 0 {
				cast := ct.Yes + ct.No + ct.Abstain + ct.Object
				turnout.Add(turnout, new(big.Rat).Mul(w, big.NewRat(int64(cast), int64(ct.Eligible))))
			}
			if d := ct.Yes + ct.No; d > 0 {
				yesW.Add(yesW, new(big.Rat).Mul(w, big.NewRat(int64(ct.Yes), int64(d))))
				noW.Add(noW, new(big.Rat).Mul(w, big.NewRat(int64(ct.No), int64(d))))
				decisiveWeight.Add(decisiveWeight, w)
			}
		}
		if decisiveWeight.Sign() > 0 {
			approval.Quo(yesW, decisiveWeight)
		}
	} else {
		var eligible, cast, yes, no int
		for _, ct := range res.Classes {
			eligible += ct.Eligible
			cast += ct.Yes + ct.No + ct.Abstain + ct.Object
			yes += ct.Yes
			no += ct.No
			objections += ct.Object
		}
		if eligible > 0 {
			turnout.SetFrac64(int64(cast), int64(eligible))
		}
		yesW.SetInt64(int64(yes))
		noW.SetInt64(int64(no))
		if yes+no > 0 {
			approval.SetFrac64(int64(yes), int64(yes+no))
		}
	}
	res.TurnoutPercent = percent(turnout)
	res.ApprovalPercent = percent(approval)
	res.QuorumReached = turnout.Cmp(big.NewRat(g.QuorumPercent, 100)) >= 0
	switch {
	case !res.QuorumReached:
		res.Reason = fmt.Sprintf("quorum not reached: turnout %s%% < %d%%", res.TurnoutPercent, g.QuorumPercent)
	case g.Model == policy.Consent && objections > 0:
		res.Reason = fmt.Sprintf("blocked by %d standing objection(s)", objections)
	case g.Model == policy.Consent:
		res.Passed = true
		res.Reason = "consent: quorum reached and no standing objection"
	case yesW.Cmp(noW) == 0:
		res.Reason = "tie: yes and no are equal"
	case yesW.Cmp(noW) < 0:
		res.Reason = "more no than yes"
	case approval.Cmp(g.Approval()) < 0:
		res.Reason = fmt.Sprintf("approval %s%% < %s", res.ApprovalPercent, g.ApprovalText())
	default:
		res.Passed = true
		res.Reason = fmt.Sprintf("quorum reached and approval %s%% ≥ %s", res.ApprovalPercent, g.ApprovalText())
	}
	return res
}

// resolve follows id's delegation chain to the first member with a direct ballot.
// A cycle (which the service refuses to store) yields no vote.
func resolve(id int64, ballots map[int64]string, delegations map[int64]int64) string {
	seen := map[int64]bool{id: true}
	cur := id
	for {
		next, ok := delegations[cur]
		if !ok || seen[next] {
			return ""
		}
		if c, ok := ballots[next]; ok {
			return c
		}
		seen[next] = true
		cur = next
	}
}

// CreatesCycle reports whether letting from delegate to to would close a cycle, given
// the existing delegations (from's own delegation is ignored as it would be replaced).
func CreatesCycle(from, to int64, delegations map[int64]int64) bool {
	seen := map[int64]bool{}
	for cur := to; ; {
		if cur == from {
			return true
		}
		if seen[cur] {
			return false // an existing cycle not through from; cannot happen if stored via this check
		}
		seen[cur] = true
		next, ok := delegations[cur]
		if !ok {
			return false
		}
		cur = next
	}
}

func percent(r *big.Rat) string {
	return new(big.Rat).Mul(r, big.NewRat(100, 1)).FloatString(2)
}

// Turnout is how many of a proposal's roll have cast a ballot of their own (Ballots: a
// vote through a delegation is not one) out of the roll's size (Eligible), over the whole
// roll: never per class, since in a class of one it would say who voted.
type Turnout struct {
	Ballots  int `json:"ballots"`
	Eligible int `json:"eligible"`
}

// Shown is what of a proposal's tally may be shown: its Turnout always, its Result only
// once the proposal has closed.
type Shown struct {
	Turnout Turnout `json:"turnout"`
	Result  *Result `json:"result,omitempty"`
}

// Disclose is the secret ballot, the one rule of what of a tally anyone (a member of any
// role, staff, the web app, an export) may see: while the proposal is open, its turnout
// only, and no count of yes, no, abstain or object, per class or overall, nor anything
// drawn from them (approval, whether it would pass): in a small class, or by reading the
// tally before and after a member votes, they would tell how that member voted. Once it
// has closed, the whole result. (A member reads their own ballot apart from it.)
func Disclose(open bool, r Result) Shown {
	var t Turnout
	for _, c := range r.Classes {
		t.Eligible += c.Eligible
		t.Ballots += c.Yes + c.No + c.Abstain + c.Object - c.Delegated
	}
	if open {
		return Shown{Turnout: t}
	}
	return Shown{Turnout: t, Result: &r}
}
