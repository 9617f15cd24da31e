// Package proposals is the store of governance: proposals, their electorate, ballots
// and delegations. The tally's reads are in platform/server/governance, which the
// operator shares.
package proposals

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cooperator-dev/cooperator/platform/server/governance"
	"github.com/cooperator-dev/cooperator/platform/server/store"
)

// Proposal is a governance proposal.
type Proposal struct {
	ID          int64              `json:"id"`
	Title       string             `json:"title"`
	Body        string             `json:"body"`
	Field       string             `json:"field,omitempty"`
	Value       json.RawMessage    `json:"value,omitempty"`
	CreatedBy   *int64             `json:"createdBy"`
	Status      string             `json:"status"`
	Result      *governance.Result `json:"result,omitempty"`
	CreatedAt   time.Time          `json:"createdAt"`
	Deadline    *time.Time         `json:"deadline,omitempty"`
	ClosedAt    *time.Time         `json:"closedAt,omitempty"`
	Electorate  int64              `json:"electorate"`
	Application *Application       `json:"application,omitempty"`
	// Model is the voting model the proposal was opened under (empty for one opened
	// before its rules were recorded, which follows the policy in force).
	Model string `json:"model,omitempty"`
	// MyBallot and OnRoll are, in a list read for a member (ListFor), their ballot (nil
	// before they vote) and whether they are on its roll.
	MyBallot *string `json:"myBallot,omitempty"`
	OnRoll   *bool   `json:"onRoll,omitempty"`
}

// Application is what became of a passed proposal's change, as the operator wrote back.
type Application struct {
	State   string     `json:"state"`
	Message string     `json:"message,omitempty"`
	At      *time.Time `json:"at,omitempty"`
}

// New is a proposal to open.
type New struct {
	Title, Body, Field string
	// Value is the change's exact new value (nil for a motion).
	Value     []byte
	CreatedBy *int64
	// Rules are the governance rules in force, as JSON.
	Rules []byte
	// Hours is the voting period: the database sets the deadline so long after it opens
	// the proposal, by its own clock (at least the rules' minimum).
	Hours int64
}

// Store runs the governance queries on db.
type Store struct{ db store.DBTX }

// On returns the store over db (the pool or a transaction).
func On(db store.DBTX) Store { return Store{db} }

const cols = `id, title, body, field, change_value, created_by, status, result, created_at, deadline, closed_at,
	(SELECT count(*) FROM proposal_electorate e WHERE e.proposal_id = proposals.id),
	application, application_message, application_at, COALESCE(rules->>'model', '')`

// scan scans the cols of a row, then any further columns into extra.
func scan(row pgx.Row, extra ...any) (Proposal, error) {
	var p Proposal
	var value []byte
	var app Application
	err := row.Scan(append([]any{&p.ID, &p.Title, &p.Body, &p.Field, &value, &p.CreatedBy, &p.Status, &p.Result,
		&p.CreatedAt, &p.Deadline, &p.ClosedAt, &p.Electorate, &app.State, &app.Message, &app.At, &p.Model}, extra...)...)
	if len(value) > 0 {
		p.Value = value
	}
	if app.State != "" {
		p.Application = &app
	}
	return p, err
}

// Open opens a proposal through the database's open_proposal (migration 163), which
// stamps its opening and deadline with the database's clock and draws its electorate from
// the members table (platform/server/governance/store.go says who may vote).
func (s Store) Open(ctx context.Context, n New) (Proposal, error) {
	var id int64
	if err := s.db.QueryRow(ctx, `SELECT open_proposal($1, $2, $3, $4, $5, $6, $7)`,
		n.Title, n.Body, n.Field, n.Value, n.CreatedBy, n.Rules, n.Hours).Scan(&id); err != nil {
		return Proposal{}, err
	}
	return s.Get(ctx, id)
}

// LockOpenBy takes member's turn to open a proposal (until the transaction ends: two
// proposals sent at once by one member are counted one after the other) and counts the
// proposals they opened that are still open: one past its deadline, which the closer has
// not closed yet, is not.
func (s Store) LockOpenBy(ctx context.Context, member int64) (int, error) {
	if _, err := s.db.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('proposals-opened-by:' || $1::bigint, 0))`, member); err != nil {
		return 0, err
	}
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM proposals WHERE created_by = $1 AND status = 'open'
		AND (deadline IS NULL OR deadline > governance_now())`, member).Scan(&n)
	return n, err
}

// Get reads a proposal (store.ErrNotFound when there is none).
func (s Store) Get(ctx context.Context, id int64) (Proposal, error) {
	p, err := scan(s.db.QueryRow(ctx, `SELECT `+cols+` FROM proposals WHERE id = $1`, id))
	return p, store.NotFound(err)
}

// GetWithBallot reads a proposal, member's ballot on it (nil when none) and whether they
// are on its roll.
func (s Store) GetWithBallot(ctx context.Context, id, member int64) (p Proposal, mine *string, onRoll bool, err error) {
	p, err = scan(s.db.QueryRow(ctx, `SELECT `+cols+`,
			(SELECT b.choice FROM ballots b WHERE b.proposal_id = proposals.id AND b.member_id = $2),
			EXISTS (SELECT 1 FROM proposal_electorate e WHERE e.proposal_id = proposals.id AND e.member_id = $2)
		FROM proposals WHERE id = $1`, id, member), &mine, &onRoll)
	return p, mine, onRoll, store.NotFound(err)
}

// List reads the latest 500 proposals, newest first.
func (s Store) List(ctx context.Context) ([]Proposal, error) {
	rows, err := s.db.Query(ctx, `SELECT `+cols+` FROM proposals ORDER BY id DESC LIMIT 500`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Proposal, error) { return scan(row) })
}

// ListFor is List as member reads it: each proposal with their ballot and whether they
// are on its roll.
func (s Store) ListFor(ctx context.Context, member int64) ([]Proposal, error) {
	rows, err := s.db.Query(ctx, `SELECT `+cols+`,
			(SELECT b.choice FROM ballots b WHERE b.proposal_id = proposals.id AND b.member_id = $1),
			EXISTS (SELECT 1 FROM proposal_electorate e WHERE e.proposal_id = proposals.id AND e.member_id = $1)
		FROM proposals ORDER BY id DESC LIMIT 500`, member)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Proposal, error) {
		var onRoll bool
		var mine *string
		p, err := scan(row, &mine, &onRoll)
		p.MyBallot, p.OnRoll = mine, &onRoll
		return p, err
	})
}

// Rules reads the governance rules a proposal was opened under, as JSON (empty for
// proposals from before rules were recorded; store.ErrNotFound when there is none).
func (s Store) Rules(ctx context.Context, id int64) ([]byte, error) {
	var raw []byte
	err := s.db.QueryRow(ctx, `SELECT rules FROM proposals WHERE id = $1`, id).Scan(&raw)
	return raw, store.NotFound(err)
}

// LockForBallot locks a proposal against closing and reports its status, its deadline
// (nil for proposals from before deadlines), whether member is in its electorate, and
// the database's clock (governance_now()), by which cast_ballot takes a ballot.
func (s Store) LockForBallot(ctx context.Context, id, member int64) (status string, deadline *time.Time, onRoll bool, now time.Time, err error) {
	err = s.db.QueryRow(ctx, `SELECT status, deadline, EXISTS (SELECT 1 FROM proposal_electorate e WHERE e.proposal_id = $1 AND e.member_id = $2),
		governance_now() FROM proposals WHERE id = $1 FOR SHARE`, id, member).Scan(&status, &deadline, &onRoll, &now)
	return status, deadline, onRoll, now, store.NotFound(err)
}

// CastBallot records or changes member's ballot through the database's cast_ballot
// (migration 163): before the deadline, by a member of the electorate, at the database's
// clock.
func (s Store) CastBallot(ctx context.Context, id, member int64, choice string) error {
	_, err := s.db.Exec(ctx, `SELECT cast_ballot($1, $2, $3)`, id, member, choice)
	return err
}

// LockForClose locks a proposal and reports its status, deadline and how many of its
// electorate have not voted and still can: a member erased since the vote opened stays on
// its roll (a ballot they cast counts) but votes no more, so is not waited for.
func (s Store) LockForClose(ctx context.Context, id int64) (status string, deadline *time.Time, missing int64, err error) {
	err = s.db.QueryRow(ctx, `SELECT status, deadline, `+governance.NotVotedSQL+`
		FROM proposals p WHERE id = $1 FOR UPDATE`, id).Scan(&status, &deadline, &missing)
	return status, deadline, missing, store.NotFound(err)
}

// NextDue locks the open proposal whose deadline passed first and returns its id;
// store.ErrNotFound when none is due, and also when another transaction holds that one (another replica closing it,
// which then closes the next): it never skips to a later one. So the proposals due are
// closed, and committed, in the order of their deadlines, whichever replica closes them,
// and the operator never sees a later one closed before an earlier one (it takes a
// proposal that closed well before one it decided for a restored database's).
// Due is by the database's clock (governance_now()), by which it closes.
func (s Store) NextDue(ctx context.Context) (id int64, err error) {
	err = s.db.QueryRow(ctx, `WITH first AS (SELECT id FROM proposals WHERE status = 'open' AND deadline <= governance_now() ORDER BY deadline, id LIMIT 1)
		SELECT p.id FROM proposals p JOIN first USING (id) WHERE p.status = 'open' FOR UPDATE OF p NOWAIT`).Scan(&id)
	if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == "55P03" {
		return 0, store.ErrNotFound // another replica is closing it
	}
	return id, store.NotFound(err)
}

// LockDue locks proposal id if it is open and its deadline has passed by the database's
// clock (store.ErrNotFound otherwise, or when another transaction holds it: the closer
// closing it).
func (s Store) LockDue(ctx context.Context, id int64) error {
	var one int
	err := s.db.QueryRow(ctx, `SELECT 1 FROM proposals WHERE id = $1 AND status = 'open' AND deadline <= governance_now()
		FOR UPDATE SKIP LOCKED`, id).Scan(&one)
	return store.NotFound(err)
}

// FreezeDelegations copies, through the database's freeze_delegations (migration 163),
// the delegations in force at the deadline of a proposal that may close (the database's
// history of them, migration 162; those in force now for a proposal from before
// deadlines) to the proposal's, which its tally reads, under the delegate model: the
// proposal's rules', or for one from before rules were recorded delegate's. The database
// takes the delegations' lock first, as a change of one does (LockDelegations): a close
// and a change take turns.
func (s Store) FreezeDelegations(ctx context.Context, id int64, delegate bool) error {
	_, err := s.db.Exec(ctx, `SELECT freeze_delegations($1, $2)`, id, delegate)
	return err
}

// Close records a proposal's result through the database's close_proposal (migration
// 163), which closes it only at or after its deadline, or earlier once its whole
// electorate voted, and returns when it closed (its deadline, or the database's clock for
// an early close); a passed change waits for the operator (application pending).
func (s Store) Close(ctx context.Context, id int64, result []byte, passed bool) (time.Time, error) {
	var at time.Time
	err := s.db.QueryRow(ctx, `SELECT close_proposal($1, $2, $3)`, id, result, passed).Scan(&at)
	return at, err
}

// LockDelegations takes the delegations' write lock for the rest of the transaction (one
// writer at a time, so two delegations cannot close a cycle together) and reads them,
// member to delegate.
func (s Store) LockDelegations(ctx context.Context) (map[int64]int64, error) {
	if _, err := s.db.Exec(ctx, `LOCK TABLE delegations IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return nil, err
	}
	d := map[int64]int64{}
	rows, err := s.db.Query(ctx, `SELECT member_id, delegate_id FROM delegations`)
	if err != nil {
		return nil, err
	}
	var from, to int64
	if _, err := pgx.ForEachRow(rows, []any{&from, &to}, func() error { d[from] = to; return nil }); err != nil {
		return nil, err
	}
	return d, nil
}

// Delegate sets member's delegate.
func (s Store) Delegate(ctx context.Context, member, delegate int64) error {
	_, err := s.db.Exec(ctx, `INSERT INTO delegations (member_id, delegate_id) VALUES ($1, $2)
		ON CONFLICT (member_id) DO UPDATE SET delegate_id = EXCLUDED.delegate_id, created_at = now()`, member, delegate)
	return err
}

// DelegateOf reads whom member delegated their vote to (store.ErrNotFound when nobody).
func (s Store) DelegateOf(ctx context.Context, member int64) (int64, error) {
	var delegate int64
	err := s.db.QueryRow(ctx, `SELECT delegate_id FROM delegations WHERE member_id = $1`, member).Scan(&delegate)
	return delegate, store.NotFound(err)
}

// Undelegate takes back member's delegation (store.ErrNotFound when there is none).
func (s Store) Undelegate(ctx context.Context, member int64) error {
	tag, err := s.db.Exec(ctx, `DELETE FROM delegations WHERE member_id = $1`, member)
	if err == nil && tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return err
}

// Change reads the governed part a proposal changes and its new value (empty for a
// motion).
func (s Store) Change(ctx context.Context, id int64) (field string, value []byte, err error) {
	err = s.db.QueryRow(ctx, `SELECT field, change_value FROM proposals WHERE id = $1`, id).Scan(&field, &value)
	return field, value, store.NotFound(err)
}

// MarkApplied records that the platform applied a passed proposal's change itself (a
// part of the policy that is not in the Cooperative's spec), so that the operator never
// takes it for one of its own.
func (s Store) MarkApplied(ctx context.Context, id int64, message string, at time.Time) error {
	_, err := s.db.Exec(ctx, `UPDATE proposals SET application = 'applied', application_message = $2, application_at = $3
		WHERE id = $1 AND application = 'pending'`, id, message, at)
	return err
}
