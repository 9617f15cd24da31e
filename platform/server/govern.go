package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/platform/server/governance"
	"github.com/cooperator-dev/cooperator/platform/server/policy"
)

// Proposal is a governance proposal.
type Proposal struct {
	ID        int64              `json:"id"`
	Title     string             `json:"title"`
	Body      string             `json:"body"`
	Field     string             `json:"field,omitempty"`
	CreatedBy *int64             `json:"createdBy"`
	Status    string             `json:"status"`
	Result    *governance.Result `json:"result,omitempty"`
	CreatedAt time.Time          `json:"createdAt"`
	ClosedAt  *time.Time         `json:"closedAt,omitempty"`
}

const proposalCols = `id, title, body, field, created_by, status, result, created_at, closed_at`

// scanProposal scans the proposalCols of a row, then any further columns into extra.
func scanProposal(row pgx.Row, extra ...any) (Proposal, error) {
	var p Proposal
	err := row.Scan(append([]any{&p.ID, &p.Title, &p.Body, &p.Field, &p.CreatedBy, &p.Status, &p.Result, &p.CreatedAt, &p.ClosedAt}, extra...)...)
	return p, err
}

func (s *Server) createProposal(r *http.Request, p principal) (int, any, error) {
	if err := requireActiveMember(p); err != nil {
		return 0, nil, err
	}
	pol, err := s.currentPolicy()
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Title string `json:"title"`
		Body  string `json:"body"`
		Field string `json:"field"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if strings.TrimSpace(in.Title) == "" || len(in.Title) > 200 {
		return 0, nil, badField("title", "is required (at most 200 characters)")
	}
	if len(in.Body) > 20000 {
		return 0, nil, badField("body", "must be at most 20000 characters")
	}
	if in.Field != "" && !slices.Contains(pol.Governance.GovernedFields, in.Field) {
		return 0, nil, badField("field", "must be one of the policy's governed fields: "+strings.Join(pol.Governance.GovernedFields, ", "))
	}
	pr, err := scanProposal(s.pool.QueryRow(r.Context(), `INSERT INTO proposals (title, body, field, created_by) VALUES ($1, $2, $3, $4) RETURNING `+proposalCols,
		in.Title, in.Body, in.Field, actor(p)))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, pr, nil
}

func (s *Server) listProposals(r *http.Request, p principal) (int, any, error) {
	rows, err := s.pool.Query(r.Context(), `SELECT `+proposalCols+` FROM proposals ORDER BY id DESC LIMIT 500`)
	if err != nil {
		return 0, nil, err
	}
	ps, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Proposal, error) { return scanProposal(row) })
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"proposals": ps}, nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// tallyInput gathers the electorate (the active members) with their ballots on a
// proposal, and the delegations when the model uses them.
func tallyInput(ctx context.Context, q querier, g policy.Governance, proposalID int64) (governance.Input, error) {
	in := governance.Input{Governance: g, Ballots: map[int64]string{}, Delegations: map[int64]int64{}}
	rows, err := q.Query(ctx, `SELECT m.id, m.stakeholder_class, b.choice FROM members m
		LEFT JOIN ballots b ON b.member_id = m.id AND b.proposal_id = $1
		WHERE m.active AND m.erased_at IS NULL ORDER BY m.id`, proposalID)
	if err != nil {
		return in, err
	}
	var v governance.Voter
	var choice *string
	if _, err := pgx.ForEachRow(rows, []any{&v.ID, &v.Class, &choice}, func() error {
		in.Voters = append(in.Voters, v)
		if choice != nil {
			in.Ballots[v.ID] = *choice
		}
		return nil
	}); err != nil {
		return in, err
	}
	if g.Model != policy.Delegate {
		return in, nil
	}
	rows, err = q.Query(ctx, `SELECT member_id, delegate_id FROM delegations`)
	if err != nil {
		return in, err
	}
	var from, to int64
	_, err = pgx.ForEachRow(rows, []any{&from, &to}, func() error { in.Delegations[from] = to; return nil })
	return in, err
}

// getProposal shows a proposal, its live tally while open, and to a member their own
// ballot.
func (s *Server) getProposal(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	var mine *string
	pr, err := scanProposal(s.pool.QueryRow(r.Context(), `SELECT `+proposalCols+`,
			(SELECT b.choice FROM ballots b WHERE b.proposal_id = proposals.id AND b.member_id = $2)
		FROM proposals WHERE id = $1`, id, p.memberID), &mine)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, notFound("proposal")
	}
	if err != nil {
		return 0, nil, err
	}
	out := map[string]any{"proposal": pr}
	if pr.Status == "open" {
		if pol := s.policy.Current(); pol != nil {
			in, err := tallyInput(r.Context(), s.pool, pol.Governance, id)
			if err != nil {
				return 0, nil, err
			}
			out["currentTally"] = governance.Tally(in)
		}
	}
	if !p.admin {
		out["myBallot"] = mine
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
	pol, err := s.currentPolicy()
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Choice string `json:"choice"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if !governance.ValidChoice(pol.Governance.Model, in.Choice) {
		allowed := "yes, no or abstain"
		if pol.Governance.Model == policy.Consent {
			allowed = "yes, abstain or object"
		}
		return 0, nil, badField("choice", "must be "+allowed+" under "+pol.Governance.Model)
	}
	if pol.Governance.Model == policy.MultiStakeholder && !pol.HasClass(p.class) {
		return 0, nil, forbidden("the member has no stakeholder class of the policy, so no vote")
	}
	err = pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(r.Context(), `SELECT status FROM proposals WHERE id = $1 FOR SHARE`, id).Scan(&status)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("proposal")
		}
		if err != nil {
			return err
		}
		if status != "open" {
			return conflict("choice", "the proposal is closed")
		}
		_, err = tx.Exec(r.Context(), `INSERT INTO ballots (proposal_id, member_id, choice) VALUES ($1, $2, $3)
			ON CONFLICT (proposal_id, member_id) DO UPDATE SET choice = EXCLUDED.choice, cast_at = now()`, id, p.memberID, in.Choice)
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"proposalId": id, "memberId": p.memberID, "choice": in.Choice}, nil
}

func (s *Server) closeProposal(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	pol, err := s.currentPolicy()
	if err != nil {
		return 0, nil, err
	}
	var pr Proposal
	err = pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(r.Context(), `SELECT status FROM proposals WHERE id = $1 FOR UPDATE`, id).Scan(&status)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("proposal")
		}
		if err != nil {
			return err
		}
		if status != "open" {
			return conflict("status", "the proposal is already closed")
		}
		in, err := tallyInput(r.Context(), tx, pol.Governance, id)
		if err != nil {
			return err
		}
		res, _ := json.Marshal(governance.Tally(in))
		pr, err = scanProposal(tx.QueryRow(r.Context(), `UPDATE proposals SET status = 'closed', result = $2, closed_at = now() WHERE id = $1 RETURNING `+proposalCols, id, res))
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, pr, nil
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
	err := pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		// One writer at a time, so two delegations cannot close a cycle together.
		if _, err := tx.Exec(r.Context(), `LOCK TABLE delegations IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		if err := activeMemberRef(r.Context(), tx, "delegateId", in.DelegateID); err != nil {
			return err
		}
		d := map[int64]int64{}
		rows, err := tx.Query(r.Context(), `SELECT member_id, delegate_id FROM delegations`)
		if err != nil {
			return err
		}
		var from, to int64
		if _, err := pgx.ForEachRow(rows, []any{&from, &to}, func() error { d[from] = to; return nil }); err != nil {
			return err
		}
		if governance.CreatesCycle(p.memberID, in.DelegateID, d) {
			return conflict("delegateId", "this delegation would create a cycle")
		}
		_, err = tx.Exec(r.Context(), `INSERT INTO delegations (member_id, delegate_id) VALUES ($1, $2)
			ON CONFLICT (member_id) DO UPDATE SET delegate_id = EXCLUDED.delegate_id, created_at = now()`, p.memberID, in.DelegateID)
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"memberId": p.memberID, "delegateId": in.DelegateID}, nil
}

func (s *Server) deleteDelegation(r *http.Request, p principal) (int, any, error) {
	if p.admin {
		return 0, nil, forbidden("delegations are taken back by members with their own token")
	}
	tag, err := s.pool.Exec(r.Context(), `DELETE FROM delegations WHERE member_id = $1`, p.memberID)
	if err != nil {
		return 0, nil, err
	}
	if tag.RowsAffected() == 0 {
		return 0, nil, notFound("delegation")
	}
	return http.StatusOK, map[string]any{"memberId": p.memberID, "delegateId": nil}, nil
}
