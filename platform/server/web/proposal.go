package web

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/governance"
)

// proposalData is one proposal's page: the proposal with its change in words, the rules
// it is decided by, its turnout, its result once closed (the ballot is secret until then:
// the API shows nobody the counts of an open vote, see governance.Disclose), and the
// member's own ballot, never another's.
type proposalData struct {
	P       proposalView
	Rules   policy.Governance
	Turnout *governance.Turnout
	Tally   *governance.Result
	// Consent: the proposal is decided by consent (no approval threshold: an objection
	// blocks it); Delegate: by the delegate model.
	Consent, Delegate bool
	// DelegateID is whom the member gave their vote to (delegate model, open proposal,
	// 0: nobody): it goes through them while the member casts no ballot of their own.
	DelegateID int64
}

// Open says the proposal is still open to votes.
func (d proposalData) Open() bool { return d.P.Status == "open" }

// proposalPage shows one proposal as the API shows it to the member (GET
// /v1/proposals/{id}: any member reads it; 404 for an id that is none), with the
// member's ballot form while it is open and they are on its roll.
func (a *App) proposalPage(q *req) {
	id, ok := a.pathIDOr404(q)
	if !ok {
		return
	}
	d, ok := a.proposalData(q, id)
	if !ok {
		return
	}
	a.render(q, http.StatusOK, "proposal", "proposal.title", page{Data: d, Nav: "governance", Flash: flashFrom(q)})
}

// proposalData reads proposal id as the member sees it; false when it could not be read
// (and the answer is written).
func (a *App) proposalData(q *req, id int64) (proposalData, bool) {
	var view struct {
		// Proposal's result is read whole (with the votes cast through a delegation).
		Proposal struct {
			proposalView
			Result *governance.Result `json:"result"`
		} `json:"proposal"`
		Rules    policy.Governance   `json:"rules"`
		Turnout  *governance.Turnout `json:"turnout"`
		MyBallot *string             `json:"myBallot"`
		OnRoll   *bool               `json:"onRoll"`
	}
	if !a.get(q, fmt.Sprintf("/v1/proposals/%d", id), &view) {
		return proposalData{}, false
	}
	// The turnout while open, the result once closed.
	d := proposalData{P: view.Proposal.proposalView, Rules: view.Rules, Turnout: view.Turnout, Tally: view.Proposal.Result}
	d.P.MyBallot, d.P.OnRoll = view.MyBallot, view.OnRoll
	model := cmp.Or(d.P.Model, view.Rules.Model)
	d.Consent, d.Delegate = model == policy.Consent, model == policy.Delegate
	d.P.Choices = governance.Choices(model)
	if d.Open() && d.Delegate && view.MyBallot == nil {
		var del struct {
			DelegateID *int64 `json:"delegateId"`
		}
		if !a.get(q, "/v1/delegation", &del) {
			return proposalData{}, false
		}
		if del.DelegateID != nil {
			d.DelegateID = *del.DelegateID
		}
	}
	pol := a.cfg.Backend.Policy()
	var fares *policy.Fares
	if d.P.Field == policy.PartFares {
		var ok bool
		if fares, ok = a.faresInForce(q); !ok {
			return proposalData{}, false
		}
	}
	d.P.Old, d.P.New = describeChange(q.lang, pol, fares, d.P.Field, d.P.Value)
	return d, true
}

// HasDelegated says a class of the tally counts votes cast through a delegation.
func (d proposalData) HasDelegated() bool {
	return d.Tally != nil && slices.ContainsFunc(d.Tally.Classes, func(c governance.ClassTally) bool { return c.Delegated > 0 })
}
