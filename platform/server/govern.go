package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/governance"
	"github.com/cooperator-dev/cooperator/platform/server/store"
	"github.com/cooperator-dev/cooperator/platform/server/store/members"
	"github.com/cooperator-dev/cooperator/platform/server/store/notifications"
	"github.com/cooperator-dev/cooperator/platform/server/store/proposals"
)

// Governance in the platform service: members propose a change to one governed part of
// their Cooperative with its exact new value, validated by api/policy before anyone votes;
// the electorate and the rules are fixed when the proposal opens; the proposal closes by
// itself at its deadline (a background closer, and every read of proposals closes what is
// due first); the operator then re-tallies a passed proposal from this database, applies
// the change and writes back what became of it (proposals.application).

// Proposal is a governance proposal.
type Proposal = proposals.Proposal

// Application is what became of a passed proposal's change, as the operator wrote back.
type Application = proposals.Application

// now is the service's clock (injected in tests).
func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

func (s *Server) createProposal(r *http.Request, p principal) (int, any, error) {
	pol, err := s.activeMemberPolicy(p)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Title             string          `json:"title"`
		Body              string          `json:"body"`
		Field             string          `json:"field"`
		Value             json.RawMessage `json:"value"`
		VotingPeriodHours *int64          `json:"votingPeriodHours"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if strings.TrimSpace(in.Title) == "" || utf8.RuneCountInString(in.Title) > 200 {
		return 0, nil, badField("title", "is required (at most 200 characters)")
	}
	if utf8.RuneCountInString(in.Body) > 20000 {
		return 0, nil, badField("body", "must be at most 20000 characters")
	}
	var value []byte
	switch {
	case in.Field == "" && len(in.Value) > 0 && string(in.Value) != "null":
		return 0, nil, badField("field", "is required with a value: name the governed part the value is for")
	case in.Field != "" && in.Field != policy.PartFares && !pol.Governs(in.Field):
		if len(pol.Governance.GovernedFields) == 0 {
			return 0, nil, badField("field", "must be fares: the co-op has no governed fields (spec.governance.governedFields)")
		}
		return 0, nil, badField("field", "must be fares, governance or one of the policy's governed fields: "+strings.Join(pol.Governance.GovernedFields, ", "))
	case in.Field != "":
		v, err := policy.ParseChange(in.Field, in.Value)
		var fe *policy.FieldError
		if errors.As(err, &fe) {
			return 0, nil, badField("value"+strings.TrimPrefix(fe.Field, in.Field), fe.Message)
		}
		if err != nil {
			return 0, nil, err
		}
		value = v
	}
	minimum := pol.Governance.MinimumVotingPeriodHours
	hours := minimum
	if in.VotingPeriodHours != nil {
		hours = *in.VotingPeriodHours
	}
	if hours < minimum || hours > policy.MaxVotingPeriodHours {
		return 0, nil, badField("votingPeriodHours", fmt.Sprintf("must be between the co-op's minimum of %d hours and %d hours", minimum, policy.MaxVotingPeriodHours))
	}
	rules, err := json.Marshal(pol.Governance)
	if err != nil {
		return 0, nil, err
	}
	var pr Proposal
	err = pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		// The proposer's row first, for share: a proposal sent while its author is being
		// erased waits, and is refused, rather than written after the erasure with its words.
		if !p.admin {
			if err := lockSelf(r.Context(), tx, p.memberID); err != nil {
				return err
			}
			open, err := proposals.On(tx).LockOpenBy(r.Context(), p.memberID)
			if err != nil {
				return err
			}
			if open >= MaxOpenProposalsPerMember {
				return conflict("", fmt.Sprintf("you have %d proposals open, the most a member may have at once: send this one once one of them has closed", open))
			}
		}
		// The electorate is fixed now, by the database: members admitted or reactivated
		// later do not vote.
		var err error
		pr, err = proposals.On(tx).Open(r.Context(), proposals.New{Title: in.Title, Body: in.Body, Field: in.Field, Value: value,
			CreatedBy: actor(p), Rules: rules, Hours: hours})
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, pr, nil
}

// MaxOpenProposalsPerMember bounds the proposals one member has open at once, so that no
// member can flood the others' governance page and notifications (staff's API token, which
// opens the co-op's own, is not bounded).
const MaxOpenProposalsPerMember = 5

func (s *Server) listProposals(r *http.Request, p principal) (int, any, error) {
	if err := s.closeDue(r.Context()); err != nil {
		return 0, nil, err
	}
	// A member reads with each proposal their own ballot and whether they may vote on it.
	var ps []Proposal
	var err error
	if p.admin {
		ps, err = proposals.On(s.pool).List(r.Context())
	} else {
		ps, err = proposals.On(s.pool).ListFor(r.Context(), p.memberID)
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"proposals": ps}, nil
}

// proposalRules are the governance rules a proposal was opened under; proposals from
// before rules were recorded follow the policy in force.
func (s *Server) proposalRules(ctx context.Context, db store.DBTX, id int64) (policy.Governance, error) {
	raw, err := proposals.On(db).Rules(ctx, id)
	if err != nil {
		return policy.Governance{}, asNotFound(err, "proposal")
	}
	if len(raw) == 0 {
		pol, err := s.currentPolicy()
		if err != nil {
			return policy.Governance{}, err
		}
		return pol.Governance, nil
	}
	var g policy.Governance
	if err := json.Unmarshal(raw, &g); err != nil {
		return g, fmt.Errorf("proposal %d: rules: %w", id, err)
	}
	return g, nil
}

// getProposal shows a proposal, the rules it is decided by, its turnout (and once closed
// its result), and to a member their own ballot and whether they are on its roll.
func (s *Server) getProposal(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	if err := s.closeDue(r.Context()); err != nil {
		return 0, nil, err
	}
	pr, mine, onRoll, err := proposals.On(s.pool).GetWithBallot(r.Context(), id, p.memberID)
	if err != nil {
		return 0, nil, asNotFound(err, "proposal")
	}
	// The rules it is decided by (its quorum and approval threshold), recorded when it
	// opened.
	g, err := s.proposalRules(r.Context(), s.pool, id)
	if err != nil {
		return 0, nil, err
	}
	// The ballot is secret until the close (governance.Disclose): while open, the turnout
	// only; then the result as it was recorded.
	open, res := pr.Status == "open", pr.Result
	if open {
		in, err := governance.LoadInput(r.Context(), s.pool, g, id, false)
		if err != nil {
			return 0, nil, err
		}
		t := governance.Tally(in)
		res = &t
	}
	out := map[string]any{"proposal": &pr, "rules": g}
	if res != nil {
		shown := governance.Disclose(open, *res)
		pr.Result, out["turnout"] = shown.Result, shown.Turnout
	}
	if !p.admin {
		out["myBallot"], out["onRoll"] = mine, onRoll
	}
	return http.StatusOK, out, nil
}

func (s *Server) castBallot(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	if p.admin {
		return 0, nil, forbidden("ballots are cast by members with their own token")
	}
	if err := requireActiveMember(p); err != nil {
		return 0, nil, err
	}
	var in struct {
		Choice string `json:"choice"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if err := s.closeDue(r.Context()); err != nil {
		return 0, nil, err
	}
	g, err := s.proposalRules(r.Context(), s.pool, id)
	if err != nil {
		return 0, nil, err
	}
	if !governance.ValidChoice(g.Model, in.Choice) {
		allowed := "yes, no or abstain"
		if g.Model == policy.Consent {
			allowed = "yes, abstain or object"
		}
		return 0, nil, badField("choice", "must be "+allowed+" under "+g.Model)
	}
	err = s.memberTx(r.Context(), p, func(tx pgx.Tx) error {
		q := proposals.On(tx)
		status, deadline, onRoll, now, err := q.LockForBallot(r.Context(), id, p.memberID)
		if err != nil {
			return asNotFound(err, "proposal")
		}
		if status != "open" {
			return conflict("choice", "the proposal is closed")
		}
		// The closer may not have closed it yet (it skips a proposal a ballot holds):
		// a ballot the tally would not count is refused, not recorded (by the database's
		// clock, by which cast_ballot refuses it too).
		if !governance.BallotCounts(now, deadline) {
			return conflict("choice", "voting closed at the proposal's deadline "+deadline.UTC().Format(time.RFC3339))
		}
		if !onRoll {
			return forbidden("the member is not on this proposal's roll: the electorate was fixed when it opened (" + g.Model + " rules)")
		}
		return q.CastBallot(r.Context(), id, p.memberID, in.Choice)
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"proposalId": id, "memberId": p.memberID, "choice": in.Choice}, nil
}

// closeProposal lets staff close a proposal before its deadline, only when every member
// of its electorate has cast a ballot; after the deadline the service has closed it.
func (s *Server) closeProposal(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	if err := s.closeDue(r.Context()); err != nil {
		return 0, nil, err
	}
	var pr Proposal
	err = pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		q := proposals.On(tx)
		status, deadline, missing, err := q.LockForClose(r.Context(), id)
		if err != nil {
			return asNotFound(err, "proposal")
		}
		if status != "open" {
			return conflict("status", "the proposal is already closed")
		}
		if deadline != nil && missing > 0 {
			return conflict("deadline", fmt.Sprintf("the proposal closes by itself at its deadline %s; staff may close it earlier only when every eligible member has voted (%d have not)",
				deadline.UTC().Format(time.RFC3339), missing))
		}
		if err := s.closeInTx(r.Context(), tx, id); err != nil {
			return err
		}
		pr, err = q.Get(r.Context(), id)
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, pr, nil
}

// closeInTx tallies an open proposal (locked by the caller) under the rules it opened
// with, freezes the delegations the tally reads (those in force at its deadline), and
// closes it: the database closes it at its deadline, or earlier at its clock when every
// member of its electorate voted, and refuses otherwise (close_proposal, migration 163).
// A passed proposal that carries a change waits for the operator (application pending).
func (s *Server) closeInTx(ctx context.Context, tx pgx.Tx, id int64) error {
	g, err := s.proposalRules(ctx, tx, id)
	if err != nil {
		return err
	}
	if err := proposals.On(tx).FreezeDelegations(ctx, id, g.Model == policy.Delegate); err != nil {
		return fmt.Errorf("freezing the delegations of proposal %d: %w", id, err)
	}
	in, err := governance.LoadInput(ctx, tx, g, id, true)
	if err != nil {
		return err
	}
	res := governance.Tally(in)
	body, err := json.Marshal(res)
	if err != nil {
		return err
	}
	at, err := proposals.On(tx).Close(ctx, id, body, res.Passed)
	if err != nil {
		return fmt.Errorf("closing proposal %d: %w", id, err)
	}
	if err := s.applyPlatformChange(ctx, tx, id, res.Passed, at); err != nil {
		return fmt.Errorf("applying the change of proposal %d: %w", id, err)
	}
	if err := s.settleDisbursement(ctx, tx, id, res.Passed, at); err != nil {
		return fmt.Errorf("settling the disbursement of proposal %d: %w", id, err)
	}
	if err := s.settleRefund(ctx, tx, id, res.Passed, at); err != nil {
		return fmt.Errorf("settling the refund of proposal %d: %w", id, err)
	}
	return nil
}

// closeDue closes every open proposal whose deadline has passed by the database's clock,
// each at its deadline. The background closer calls it on a timer; every read of
// proposals calls it first, so results are right between ticks too.
func (s *Server) closeDue(ctx context.Context) error {
	for {
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			id, err := proposals.On(tx).NextDue(ctx)
			if err != nil {
				return err // none due, or the first one due is another replica's to close
			}
			return s.closeInTx(ctx, tx, id)
		})
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("closing proposals past their deadline: %w", err)
		}
	}
}

// runCloser closes proposals at their deadline (and deletes notifications past
// notifications.Kept, and moves expired offers on) at once and
// then every interval until ctx ends.
func (s *Server) runCloser(ctx context.Context, interval time.Duration) {
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		if !s.migrated.Load() {
			return
		}
		if err := s.closeDue(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("proposals past their deadline not closed; retrying", "error", err)
		}
		if _, err := notifications.On(s.pool).Prune(ctx, s.now().Add(-notifications.Kept)); err != nil && ctx.Err() == nil {
			s.log.Error("notifications past their time not deleted; retrying", "error", err)
		}
		if s.policy.Current() == nil {
			return
		}
		if err := s.expireOffers(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("expired offers not moved on; retrying", "error", err)
		}
	}, interval)
}

func (s *Server) setDelegation(r *http.Request, p principal) (int, any, error) {
	if p.admin {
		return 0, nil, forbidden("delegations are set by members with their own token")
	}
	if err := requireActiveMember(p); err != nil {
		return 0, nil, err
	}
	var in struct {
		DelegateID int64 `json:"delegateId"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.DelegateID <= 0 {
		return 0, nil, badField("delegateId", "must be a positive integer id")
	}
	if in.DelegateID == p.memberID {
		return 0, nil, badField("delegateId", "cannot delegate to yourself")
	}
	// What is due closes first, with the delegations in force at its deadline; the close
	// and the change take the delegations' lock, so the one waits for the other (and the
	// database counts for a proposal only what was in force at its deadline).
	if err := s.closeDue(r.Context()); err != nil {
		return 0, nil, err
	}
	err := pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		// Both members' rows first, for share and in id order, before the delegations'
		// table: an erasure of either (which holds the member's row, then removes their
		// delegations) is waited for and seen, and neither waits on the other.
		for _, id := range []int64{min(p.memberID, in.DelegateID), max(p.memberID, in.DelegateID)} {
			if id == in.DelegateID {
				if err := activeMemberRefBy(r.Context(), tx, p, "delegateId", id); err != nil {
					return err
				}
			} else if err := lockSelf(r.Context(), tx, id); err != nil {
				return err
			}
		}
		// One writer at a time, so two delegations cannot close a cycle together.
		q := proposals.On(tx)
		d, err := q.LockDelegations(r.Context())
		if err != nil {
			return err
		}
		if governance.CreatesCycle(p.memberID, in.DelegateID, d) {
			return conflict("delegateId", "this delegation would create a cycle")
		}
		return q.Delegate(r.Context(), p.memberID, in.DelegateID)
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"memberId": p.memberID, "delegateId": in.DelegateID}, nil
}

// getDelegation says whom the member delegated their vote to (delegateId null: nobody).
func (s *Server) getDelegation(r *http.Request, p principal) (int, any, error) {
	if p.admin {
		return 0, nil, forbidden("a member reads their own delegation")
	}
	d, err := proposals.On(s.pool).DelegateOf(r.Context(), p.memberID)
	if errors.Is(err, store.ErrNotFound) {
		return http.StatusOK, map[string]any{"memberId": p.memberID, "delegateId": nil}, nil
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"memberId": p.memberID, "delegateId": d}, nil
}

func (s *Server) deleteDelegation(r *http.Request, p principal) (int, any, error) {
	if p.admin {
		return 0, nil, forbidden("delegations are taken back by members with their own token")
	}
	// As setDelegation: what is due closes first, and the change takes the delegations' lock.
	if err := s.closeDue(r.Context()); err != nil {
		return 0, nil, err
	}
	err := pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		// The member's row first, as setDelegation and an erasure take it (an inactive
		// member may still take their delegation back).
		if _, err := members.On(tx).LockActive(r.Context(), p.memberID); err != nil {
			return err
		}
		q := proposals.On(tx)
		if _, err := q.LockDelegations(r.Context()); err != nil {
			return err
		}
		return q.Undelegate(r.Context(), p.memberID)
	})
	if err != nil {
		return 0, nil, asNotFound(err, "delegation")
	}
	return http.StatusOK, map[string]any{"memberId": p.memberID, "delegateId": nil}, nil
}

// AuditEntry is one admission or change of a member's roles, class or activity.
type AuditEntry = members.AuditEntry

// memberAudit lists the roll's history for staff: every admission and change of roles,
// stakeholder class or activity, with who made it and when (the members_audit trigger
// records it, whatever path changed the row).
func (s *Server) memberAudit(r *http.Request, p principal) (int, any, error) {
	var memberID *int64
	if v := r.URL.Query().Get("memberId"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return 0, nil, badField("memberId", "must be a positive integer id")
		}
		memberID = &id
	}
	f, err := auditFilter(r)
	if err != nil {
		return 0, nil, err
	}
	es, err := members.On(s.pool).Audit(r.Context(), memberID, f)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"entries": es}, nil
}

// auditFilter reads a read of the audit's query: event (repeated: any of them) and limit
// (1 to members.MaxAuditEntries, the default).
func auditFilter(r *http.Request) (members.AuditFilter, error) {
	var f members.AuditFilter
	q := r.URL.Query()
	for _, e := range q["event"] {
		if !slices.Contains(members.AuditEvents, e) {
			return f, badField("event", "must be one of "+strings.Join(members.AuditEvents, ", "))
		}
		f.Events = append(f.Events, e)
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > members.MaxAuditEntries {
			return f, badField("limit", fmt.Sprintf("must be an integer from 1 to %d", members.MaxAuditEntries))
		}
		f.Limit = n
	}
	return f, nil
}

// auditActor names the caller in the member audit.
func auditActor(p principal) string {
	if p.admin {
		return "staff"
	}
	return fmt.Sprintf("member:%d", p.memberID)
}
