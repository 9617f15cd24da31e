package governance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/api/policy"
)

// The storage of proposals is read here once, for the platform service (which tallies
// while a proposal is open and when it closes) and for the operator (which re-tallies a
// passed proposal before it applies the change): both read the same rows the same way.

// What is read of a co-op's database is bounded. Its serving role (a platform pod taken
// over) can store far more than the platform's own checks let through, and the operator,
// which reads every co-op's passed proposals, must not be made to hold it: one co-op would
// exhaust the memory of the operator that serves them all.
const (
	// MaxValueBytes is the most of a proposal's change, rules or recorded result, as JSON
	// text, that PendingChanges reads: a governed part's value, the voting rules and a
	// tally are a few KiB. A larger one is not read at all (Closed.TooLarge).
	MaxValueBytes = 64 << 10
	// MaxElectorate is the most members on a proposal's roll, and the most delegations,
	// that LoadInput reads (ErrTooLarge beyond): at about a hundred bytes each, some 20 MB.
	MaxElectorate = 200_000
	// maxClassLength is more than a stakeholder class name may be (policy's names are at
	// most 40 characters): a longer one read is cut to it, and matches no class.
	maxClassLength = 64
)

// ErrTooLarge is LoadInput's refusal of a proposal whose roll or delegations exceed
// MaxElectorate.
var ErrTooLarge = errors.New("larger than the tally reads")

// Querier reads: a pool, a connection or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Application states of a closed proposal that carries a change.
const (
	// ApplicationPending: the proposal passed; the operator has not applied it yet.
	ApplicationPending = "pending"
	// ApplicationApplied: the operator applied the change to the Cooperative.
	ApplicationApplied = "applied"
	// ApplicationRefused: the operator's checks of the vote refused it (its re-tally
	// disagrees with the stored result, the proposal closed early, see OpenLongEnough, or
	// it comes from a restored database), so it applied nothing; the message says which.
	ApplicationRefused = "refused"
	// ApplicationFailed: the change passed but cannot be applied (the message says why).
	ApplicationFailed = "failed"
)

// Who may vote on a proposal is drawn by the database when it opens (open_proposal,
// migration 163), from the members table as it stands:
//   - multi-stakeholder: every active member whose stakeholder class is one of the
//     rules' classes, whatever their roles;
//   - one-member-one-vote, consent, delegate: every active member who is a worker or
//     staff (the member-owners of a worker co-op); customers use the platform but are not
//     members who vote.
//
// Erased members never vote.

// BallotCounts is the rule of which ballots count: those cast before the proposal's
// deadline (any for a proposal from before deadlines, which has none). A ballot at or
// after the deadline does not, even while the proposal is not closed yet. LoadInput
// applies the same rule in SQL (ballotCountsSQL); the platform refuses a ballot this
// rejects.
func BallotCounts(castAt time.Time, deadline *time.Time) bool {
	return deadline == nil || castAt.Before(*deadline)
}

// ballotCountsSQL is BallotCounts on the ballots as b and the proposals as p.
const ballotCountsSQL = `(p.deadline IS NULL OR b.cast_at < p.deadline)`

// NotVotedSQL counts the members of proposal p's electorate who have cast no ballot that
// counts (BallotCounts), erased members aside (they can vote no more). Staff may close a
// proposal before its deadline only when it is zero, and the operator applies a proposal
// closed before the minimum voting period only when it is zero (OpenLongEnough). (A member
// erased after the close is not counted either: erased_at is the database's clock and
// closed_at the platform's, which cannot be compared to the second.)
const NotVotedSQL = `(SELECT count(*) FROM proposal_electorate e WHERE e.proposal_id = p.id
	AND NOT EXISTS (SELECT 1 FROM ballots b WHERE b.proposal_id = e.proposal_id AND b.member_id = e.member_id AND ` + ballotCountsSQL + `)
	AND NOT EXISTS (SELECT 1 FROM members m WHERE m.id = e.member_id AND m.erased_at IS NOT NULL))`

// NotVoted is NotVotedSQL for proposal id.
func NotVoted(ctx context.Context, q Querier, id int64) (int64, error) {
	var n int64
	if err := q.QueryRow(ctx, `SELECT `+NotVotedSQL+` FROM proposals p WHERE p.id = $1`, id).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting who has not voted on proposal %d: %w", id, err)
	}
	return n, nil
}

// OpenLongEnough is the rule of when a closed proposal may be decided: every member of its
// electorate had voted when it closed (notVoted, NotVoted's count, is zero: staff may close
// it early then), or it has a deadline and stayed open for minimumHours. The platform keeps
// it by construction (a deadline is at least the minimum period after the opening; staff
// close earlier only when everyone voted); the operator checks it rather than take the
// platform's word, as it re-tallies the ballots. (A proposal that carries a change always
// has a deadline: both came with the same migration. The times are the database's: whoever
// can rewrite them can rewrite the ballots too.)
func OpenLongEnough(p Closed, minimumHours int64, notVoted int64) bool {
	if notVoted == 0 {
		return true
	}
	return p.Deadline != nil && p.ClosedAt.Sub(p.Created) >= time.Duration(minimumHours)*time.Hour
}

// LoadInput reads what the tally of a proposal depends on: its electorate (fixed when it
// opened), their ballots that count (BallotCounts), and under the delegate model the
// delegations (those frozen when the proposal closed, or the live ones while it is open).
// A roll or delegations of more than MaxElectorate are ErrTooLarge, unread.
func LoadInput(ctx context.Context, q Querier, g policy.Governance, proposalID int64, closed bool) (Input, error) {
	in := Input{Governance: g, Ballots: map[int64]string{}, Delegations: map[int64]int64{}}
	var n int64
	if err := q.QueryRow(ctx, `SELECT count(*) FROM proposal_electorate WHERE proposal_id = $1`, proposalID).Scan(&n); err != nil {
		return in, fmt.Errorf("counting the electorate of proposal %d: %w", proposalID, err)
	}
	if n > MaxElectorate {
		return in, fmt.Errorf("the roll of proposal %d holds %d members, more than %d: %w", proposalID, n, MaxElectorate, ErrTooLarge)
	}
	// A ballot's choice is one of a few words (the database's cast_ballot checks it); cut,
	// a longer one counts as none of them.
	rows, err := q.Query(ctx, `SELECT e.member_id, left(e.stakeholder_class, `+fmt.Sprint(maxClassLength)+`), left(b.choice, 16) FROM proposal_electorate e
		JOIN proposals p ON p.id = e.proposal_id
		LEFT JOIN ballots b ON b.member_id = e.member_id AND b.proposal_id = e.proposal_id AND `+ballotCountsSQL+`
		WHERE e.proposal_id = $1 ORDER BY e.member_id`, proposalID)
	if err != nil {
		return in, fmt.Errorf("reading the electorate of proposal %d: %w", proposalID, err)
	}
	var v Voter
	var choice *string
	if _, err := pgx.ForEachRow(rows, []any{&v.ID, &v.Class, &choice}, func() error {
		in.Voters = append(in.Voters, v)
		if choice != nil {
			in.Ballots[v.ID] = *choice
		}
		return nil
	}); err != nil {
		return in, fmt.Errorf("reading the electorate of proposal %d: %w", proposalID, err)
	}
	if g.Model != policy.Delegate {
		return in, nil
	}
	sql, args := `SELECT member_id, delegate_id FROM delegations LIMIT $1`, []any{MaxElectorate + 1}
	if closed {
		sql, args = `SELECT member_id, delegate_id FROM proposal_delegations WHERE proposal_id = $2 LIMIT $1`, []any{MaxElectorate + 1, proposalID}
	}
	rows, err = q.Query(ctx, sql, args...)
	if err != nil {
		return in, fmt.Errorf("reading the delegations of proposal %d: %w", proposalID, err)
	}
	var from, to int64
	read := 0
	if _, err := pgx.ForEachRow(rows, []any{&from, &to}, func() error { read++; in.Delegations[from] = to; return nil }); err != nil {
		return in, fmt.Errorf("reading the delegations of proposal %d: %w", proposalID, err)
	}
	if read > MaxElectorate {
		return in, fmt.Errorf("the delegations of proposal %d are more than %d: %w", proposalID, MaxElectorate, ErrTooLarge)
	}
	return in, nil
}

// Closed is a closed proposal that carries a change, as the operator reads it.
type Closed struct {
	ID int64
	// Field is the part it changes, at most 64 characters of it.
	Field       string
	Value       json.RawMessage
	Rules       policy.Governance
	Result      Result
	ClosedAt    time.Time
	Application string
	// Created is when it opened; Deadline when it was to close by itself (nil for a
	// proposal from before deadlines).
	Created  time.Time
	Deadline *time.Time
	// TooLarge: its change, rules or result is more than MaxValueBytes, so none of the
	// three was read (Value, Rules and Result are empty). Only a database written past
	// the platform's checks holds one.
	TooLarge bool
}

// PendingChanges lists the closed proposals whose change waits for the operator, oldest
// closing first: what the operator decides on, bounded (MaxValueBytes; no title or body).
func PendingChanges(ctx context.Context, q Querier, limit int) ([]Closed, error) {
	rows, err := q.Query(ctx, `SELECT id, left(field, 64), CASE WHEN big THEN NULL ELSE change_value END, CASE WHEN big THEN NULL ELSE rules END,
			CASE WHEN big THEN NULL ELSE result END, closed_at, application, created_at, deadline, big
		FROM (SELECT id, field, change_value, rules, result, closed_at, left(application, 16) AS application, created_at, deadline,
				coalesce(octet_length(change_value::text) > $2, false) OR coalesce(octet_length(rules::text) > $2, false)
					OR coalesce(octet_length(result::text) > $2, false) AS big
			FROM proposals WHERE application = 'pending' AND status = 'closed' ORDER BY closed_at, id LIMIT $1) p
		ORDER BY closed_at, id`, limit, MaxValueBytes)
	if err != nil {
		return nil, fmt.Errorf("listing passed proposals: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Closed, error) {
		var c Closed
		var rules, result []byte
		if err := row.Scan(&c.ID, &c.Field, &c.Value, &rules, &result, &c.ClosedAt, &c.Application, &c.Created, &c.Deadline, &c.TooLarge); err != nil {
			return c, err
		}
		if len(rules) > 0 {
			if err := json.Unmarshal(rules, &c.Rules); err != nil {
				return c, fmt.Errorf("proposal %d: rules: %w", c.ID, err)
			}
		}
		if len(result) > 0 {
			if err := json.Unmarshal(result, &c.Result); err != nil {
				return c, fmt.Errorf("proposal %d: result: %w", c.ID, err)
			}
		}
		return c, nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing passed proposals: %w", err)
	}
	return out, nil
}

// ErrNotPending is returned when a proposal's application is no longer pending.
var ErrNotPending = errors.New("the proposal's change is not pending")

// RecordApplication writes back what became of a passed proposal's change, so the
// platform shows it to the members. It only moves a pending application.
func RecordApplication(ctx context.Context, q Querier, id int64, state, message string, at time.Time) error {
	var got int64
	err := q.QueryRow(ctx, `UPDATE proposals SET application = $2, application_message = $3, application_at = $4
		WHERE id = $1 AND application = 'pending' RETURNING id`, id, state, message, at).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotPending
	}
	if err != nil {
		return fmt.Errorf("recording the application of proposal %d: %w", id, err)
	}
	return nil
}
