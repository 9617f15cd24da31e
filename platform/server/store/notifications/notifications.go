// Package notifications is the store of a member's notifications. The database writes
// them (migration 159's triggers, in the transaction of what they tell); this package
// reads them, marks them read and deletes those past Kept (an erasure deletes a member's
// with the rest of their data, in package members).
package notifications

import (
	"context"
	"time"

	"github.com/cooperator-dev/cooperator/platform/server/store"
)

// The events a notification tells (migration 159 says who gets each).
const (
	WorkAccepted        = "workAccepted"
	WorkCompleted       = "workCompleted"
	WorkCancelled       = "workCancelled"
	PaymentReceived     = "paymentReceived"
	PaymentRefunded     = "paymentRefunded"
	RefundDecided       = "refundDecided"
	DisbursementDecided = "disbursementDecided"
	ProposalClosed      = "proposalClosed"
	ProposalApplied     = "proposalApplied"
	DelegationEnded     = "delegationEnded"
)

// Notification is one thing the co-op did that concerns the member.
type Notification struct {
	ID    int64  `json:"id"`
	Event string `json:"event"`
	// SubjectID is what the event is about: a work item (work events), a payment
	// (payment events, refundDecided), a disbursement, a proposal; nil for delegationEnded.
	SubjectID *int64 `json:"subjectId"`
	// Outcome is how it was decided: refunded, rejected or failed (refundDecided); paid,
	// rejected or failed (disbursementDecided); passed or rejected (proposalClosed);
	// applied, refused or failed (proposalApplied); "" otherwise.
	Outcome string     `json:"outcome,omitempty"`
	At      time.Time  `json:"at"`
	ReadAt  *time.Time `json:"readAt"`
}

// Kept is how long a notification is kept, read or not: what it tells is in the co-op's
// records (the work, the payment, the proposal) for as long as those are kept; the
// notice of it is not.
const Kept = 365 * 24 * time.Hour

// pruneBatch is how many notifications one statement of Prune deletes at most.
const pruneBatch = 1000

// Store runs the notification queries on db.
type Store struct{ db store.DBTX }

// On returns the store over db (the pool or a transaction).
func On(db store.DBTX) Store { return Store{db} }

// List reads up to limit of member's notifications older than before (0: the newest),
// newest first.
func (s Store) List(ctx context.Context, member, before int64, limit int) ([]Notification, error) {
	rows, err := s.db.Query(ctx, `SELECT id, event, subject_id, outcome, at, read_at FROM notifications
		WHERE member_id = $1 AND ($2::bigint = 0 OR id < $2) ORDER BY id DESC LIMIT $3`, member, before, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Notification{}
	for rows.Next() {
		var n Notification
		if err := rows.Scan(&n.ID, &n.Event, &n.SubjectID, &n.Outcome, &n.At, &n.ReadAt); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// UnreadSQL counts the unread notifications of the member whose id the SQL expression
// member is (a parameter, a column of the query it is part of).
func UnreadSQL(member string) string {
	return `(SELECT count(*) FROM notifications n WHERE n.member_id = ` + member + ` AND n.read_at IS NULL)`
}

// Unread counts member's unread notifications.
func (s Store) Unread(ctx context.Context, member int64) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT `+UnreadSQL("$1"), member).Scan(&n)
	return n, err
}

// MarkRead marks member's unread notifications up to and including upTo read at at, and
// returns how many are still unread (newer ones).
func (s Store) MarkRead(ctx context.Context, member, upTo int64, at time.Time) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `WITH marked AS (
			UPDATE notifications SET read_at = $3 WHERE member_id = $1 AND id <= $2 AND read_at IS NULL RETURNING id)
		SELECT count(*) FROM notifications WHERE member_id = $1 AND read_at IS NULL AND id > $2`, member, upTo, at).Scan(&n)
	return n, err
}

// Prune deletes the notifications of before (at) or earlier, a batch at a time, leaving
// those another transaction holds (an erasure, a mark read) for the next time, and returns
// how many it deleted.
func (s Store) Prune(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		tag, err := s.db.Exec(ctx, `DELETE FROM notifications WHERE id IN (
			SELECT id FROM notifications WHERE at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, before, pruneBatch)
		if err != nil {
			return total, err
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < pruneBatch {
			return total, nil
		}
	}
}
