package payments

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/platform/server/ledger"
)

// LedgerLine is one ledger entry with its transaction, for the treasurer's export.
type LedgerLine struct {
	At             time.Time
	TransactionID  int64
	Kind           string
	Account        string
	MemberID       *int64
	AmountCents    int64
	PaymentID      *int64
	DisbursementID *int64
}

// LedgerLines reads every entry of the ledger transactions made in [from, to), in
// transaction order.
func (s Store) LedgerLines(ctx context.Context, from, to time.Time) ([]LedgerLine, error) {
	rows, err := s.db.Query(ctx, `SELECT t.created_at, t.id, t.kind, e.account, e.member_id, e.amount_cents,
			(SELECT py.id FROM payments py WHERE py.tx_id = t.id OR py.refund_tx_id = t.id),
			(SELECT d.id FROM disbursements d WHERE d.tx_id = t.id)
		FROM ledger_transactions t JOIN ledger_entries e ON e.tx_id = t.id
		WHERE t.created_at >= $1 AND t.created_at < $2 ORDER BY t.id, e.id`, from, to)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (LedgerLine, error) {
		var l LedgerLine
		err := row.Scan(&l.At, &l.TransactionID, &l.Kind, &l.Account, &l.MemberID, &l.AmountCents, &l.PaymentID, &l.DisbursementID)
		return l, err
	})
}

// PaymentLine is a payment, or its refund, with its fee and fund breakdown (a refund's
// negated), for the treasurer's export.
type PaymentLine struct {
	At            time.Time
	Kind          string // payment or refund
	PaymentID     int64
	TransactionID int64
	WorkID        *int64
	PayerID       *int64
	WorkerID      int64
	Split         ledger.Split
}

// PaymentLines reads the payments and the refunds whose ledger transaction was made in
// [from, to), in transaction order.
func (s Store) PaymentLines(ctx context.Context, from, to time.Time) ([]PaymentLine, error) {
	rows, err := s.db.Query(ctx, `SELECT t.created_at, t.kind, p.id, t.id, p.work_id, p.payer_id, p.worker_id, p.split
		FROM payments p JOIN ledger_transactions t ON t.id = p.tx_id OR t.id = p.refund_tx_id
		WHERE t.created_at >= $1 AND t.created_at < $2 ORDER BY t.id`, from, to)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (PaymentLine, error) {
		var l PaymentLine
		err := row.Scan(&l.At, &l.Kind, &l.PaymentID, &l.TransactionID, &l.WorkID, &l.PayerID, &l.WorkerID, &l.Split)
		if l.Kind == "refund" {
			l.Split = l.Split.Negated()
		}
		return l, err
	})
}
