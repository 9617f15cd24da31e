package payments

import (
	"context"
	"errors"
	"time"

	"github.com/cooperator-dev/cooperator/platform/server/store"
)

// RefundRequest is a refund the members decide: asked for by the payment's payer, or by
// staff above their limit, and approved by the proposal it opened.
type RefundRequest struct {
	ID        int64 `json:"id"`
	PaymentID int64 `json:"paymentId"`
	// RequestedBy is the member who asked (nil: staff).
	RequestedBy *int64     `json:"requestedBy"`
	Reason      string     `json:"reason"`
	ProposalID  int64      `json:"proposalId"`
	Status      string     `json:"status"`
	Message     string     `json:"message,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	DecidedAt   *time.Time `json:"decidedAt,omitempty"`
}

// A refund request's statuses.
const (
	RefundPending  = "pending"
	RefundDone     = "refunded"
	RefundRejected = "rejected"
	RefundFailed   = "failed"
)

// RefundedByVote says a payment was refunded by a passed refund request's proposal.
const RefundedByVote = "vote"

// ErrRefundPending is returned by RequestRefund when a request of the payment is pending.
var ErrRefundPending = errors.New("a refund of this payment is already put to the vote")

const refundCols = `id, payment_id, requested_by, reason, proposal_id, status, message, created_at, decided_at`

func scanRefund(row interface{ Scan(...any) error }) (RefundRequest, error) {
	var r RefundRequest
	err := row.Scan(&r.ID, &r.PaymentID, &r.RequestedBy, &r.Reason, &r.ProposalID, &r.Status, &r.Message, &r.CreatedAt, &r.DecidedAt)
	return r, err
}

// RequestRefund records a pending refund request of payment, approved by proposal
// (ErrRefundPending when one is pending already).
func (s Store) RequestRefund(ctx context.Context, payment int64, requestedBy *int64, reason string, proposal int64, at time.Time) (RefundRequest, error) {
	r, err := scanRefund(s.db.QueryRow(ctx, `INSERT INTO refund_requests (payment_id, requested_by, reason, proposal_id, status, created_at)
		VALUES ($1, $2, $3, $4, 'pending', $5) RETURNING `+refundCols, payment, requestedBy, reason, proposal, at))
	if store.IsUniqueViolationOf(err, "refund_requests_pending") {
		return r, ErrRefundPending
	}
	return r, err
}

// PendingRefund reads the pending refund request of payment (store.ErrNotFound when none).
func (s Store) PendingRefund(ctx context.Context, payment int64) (RefundRequest, error) {
	r, err := scanRefund(s.db.QueryRow(ctx, `SELECT `+refundCols+` FROM refund_requests WHERE payment_id = $1 AND status = 'pending'`, payment))
	return r, store.NotFound(err)
}

// RefundForProposal locks the refund request a proposal approves (store.ErrNotFound when
// the proposal approves none).
func (s Store) RefundForProposal(ctx context.Context, proposal int64) (RefundRequest, error) {
	r, err := scanRefund(s.db.QueryRow(ctx, `SELECT `+refundCols+` FROM refund_requests WHERE proposal_id = $1 FOR UPDATE`, proposal))
	return r, store.NotFound(err)
}

// DecideRefund closes a pending refund request: refunded, rejected or failed, with a
// message.
func (s Store) DecideRefund(ctx context.Context, id int64, status, message string, at time.Time) (RefundRequest, error) {
	r, err := scanRefund(s.db.QueryRow(ctx, `UPDATE refund_requests SET status = $2, message = $3, decided_at = $4
		WHERE id = $1 AND status = 'pending' RETURNING `+refundCols, id, status, message, at))
	return r, store.NotFound(err)
}

// RefundRequests lists the refund requests of a payment, newest first.
func (s Store) RefundRequests(ctx context.Context, payment int64) ([]RefundRequest, error) {
	rows, err := s.db.Query(ctx, `SELECT `+refundCols+` FROM refund_requests WHERE payment_id = $1 ORDER BY id DESC`, payment)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []RefundRequest{}
	for rows.Next() {
		r, err := scanRefund(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
