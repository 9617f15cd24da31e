package server

import (
	"errors"
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/platform/server/store/members"
)

// exportMember returns everything the service holds about a member, as JSON. Their
// payments carry the idempotency keys that are theirs (see payments.MemberKeysSQL) and work items'
// keys; another client's key on a payment to them is that client's and left out.
func (s *Server) exportMember(r *http.Request, p principal) (int, any, error) {
	id, err := selfOrAdminPath(r, p)
	if err != nil {
		return 0, nil, err
	}
	// How the member voted is theirs alone: staff reading the export see when they voted, not how.
	doc, err := members.On(s.pool).Export(r.Context(), id, s.location().String(), !p.admin && p.memberID == id)
	if err != nil {
		return 0, nil, asNotFound(err, "member")
	}
	return http.StatusOK, doc, nil
}

// eraseMember removes a member's personal data. The member row stays, anonymised, so
// the ledger (which is append-only and keeps balancing), the ballots and the proposals
// still refer to it; its class goes with the rest (outside multi-stakeholder governance
// it is free text). Addresses and notes in their work and the words they wrote (the
// reasons they gave, the idempotency keys of their payments, also staff's for payments
// on their behalf, the title and body of their proposals) are wiped; tokens, blocks and
// delegations go. Staff erase only a deactivated member's data (erasure cannot be undone);
// an active member erases their own. The member stays on the roll of votes still open.
func (s *Server) eraseMember(r *http.Request, p principal) (int, any, error) {
	id, err := selfOrAdminPath(r, p)
	if err != nil {
		return 0, nil, err
	}
	err = pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		q := members.On(tx)
		if err := q.SetAuditActor(r.Context(), auditActor(p), p.credential().Audit()); err != nil {
			return err
		}
		if err := lockOffersTo(r.Context(), tx, id); err != nil {
			return err
		}
		erased, active, busy, err := q.LockForErasure(r.Context(), id)
		if errors.Is(err, members.ErrWorkChanging) {
			return conflict("", "the member's work or payments are changing right now (a match, an acceptance, a completion, a refund or a vote's close is under way); try again in a moment")
		}
		if err != nil {
			return asNotFound(err, "member")
		}
		if erased {
			return conflict("", "the member's data has already been erased")
		}
		if active && p.admin {
			// Erasure cannot be undone: an active member asks for it themselves; staff
			// erase the data of a member who left (deactivated, which the audit records)
			// for them.
			return conflict("active", "an active member erases their own data; staff erase a member's data for them once they are deactivated (PATCH with \"active\": false)")
		}
		if busy {
			return conflict("", "the member has work under way; finish or cancel it first")
		}
		// An offer to the member is not work under way: it is withdrawn and the work moved
		// on, before the erasure wipes the details of work that is theirs (the member, no
		// longer available, is not offered it again).
		if _, err := q.SetAvailable(r.Context(), id, false); err != nil {
			return err
		}
		if err := s.withdrawOffersTo(r.Context(), tx, id, false); err != nil {
			return err
		}
		return q.Erase(r.Context(), id)
	})
	if err != nil {
		return 0, nil, err
	}
	s.log.Info("member data erased", "memberId", id)
	return http.StatusOK, map[string]any{"memberId": id, "erased": true}, nil
}
