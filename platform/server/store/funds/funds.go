// Package funds is the store of the co-op's funds: their balances and history in the
// ledger, and disbursements, the money a fund pays out.
package funds

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/platform/server/ledger"
	"github.com/cooperator-dev/cooperator/platform/server/store"
	"github.com/cooperator-dev/cooperator/platform/server/store/payments"
)

// Disbursement statuses.
const (
	Pending  = "pending"  // waits for its proposal to close
	Paid     = "paid"     // its ledger transaction took the amount from the fund
	Rejected = "rejected" // its proposal did not pass
	Failed   = "failed"   // its proposal passed, but the fund could not pay it then
)

// Approvals: who approved a disbursement.
const (
	ByStaff    = "staff"
	ByProposal = "proposal"
)

// AcctPayee is the account of outside payees: money that leaves the co-op.
const AcctPayee = "payee"

// TxDisbursement is the kind of the ledger transaction that pays a disbursement: in a
// member's account, a fund's payout, not pay for work.
const TxDisbursement = "disbursement"

// Disbursement is money a fund pays to a member or to an outside payee.
type Disbursement struct {
	ID            int64      `json:"id"`
	Fund          string     `json:"fund"`
	AmountCents   int64      `json:"amountCents"`
	MemberID      *int64     `json:"memberId,omitempty"`
	Payee         *string    `json:"payee,omitempty"`
	Reason        string     `json:"reason"`
	RequestedBy   *int64     `json:"requestedBy"`
	Approval      string     `json:"approval"`
	ProposalID    *int64     `json:"proposalId,omitempty"`
	Status        string     `json:"status"`
	Message       string     `json:"message,omitempty"`
	TransactionID *int64     `json:"transactionId,omitempty"`
	CreatedAt     time.Time  `json:"createdAt"`
	DecidedAt     *time.Time `json:"decidedAt,omitempty"`
}

// Entries are the ledger entries that pay d: the fund gives, the member or the outside
// payee receives.
func (d Disbursement) Entries() []ledger.Entry {
	to := ledger.Entry{Account: AcctPayee, AmountCents: d.AmountCents}
	if d.MemberID != nil {
		to = ledger.Entry{Account: ledger.AcctMember(*d.MemberID), Member: d.MemberID, AmountCents: d.AmountCents}
	}
	return []ledger.Entry{{Account: ledger.AcctFund(d.Fund), AmountCents: -d.AmountCents}, to}
}

// Store runs the fund queries on db.
type Store struct{ db store.DBTX }

// On returns the store over db (a transaction for Lock to mean anything).
func On(db store.DBTX) Store { return Store{db} }

const cols = `id, fund, amount_cents, member_id, payee, reason, requested_by, approval, proposal_id, status, message, tx_id, created_at, decided_at`

func scan(row pgx.Row) (Disbursement, error) {
	var d Disbursement
	err := row.Scan(&d.ID, &d.Fund, &d.AmountCents, &d.MemberID, &d.Payee, &d.Reason, &d.RequestedBy, &d.Approval, &d.ProposalID,
		&d.Status, &d.Message, &d.TransactionID, &d.CreatedAt, &d.DecidedAt)
	return d, err
}

// Lock takes the fund's lock until the transaction ends. Every transaction that takes
// money out of a fund (a disbursement, a refund of a payment that fed it) holds it while
// it reads the balance and writes, so two of them never both spend the same money.
func (s Store) Lock(ctx context.Context, fund string) error {
	_, err := s.db.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, ledger.AcctFund(fund))
	return err
}

// Balance is what the fund's account holds.
func (s Store) Balance(ctx context.Context, fund string) (int64, error) {
	var b int64
	err := s.db.QueryRow(ctx, `SELECT coalesce(sum(amount_cents), 0)::bigint FROM ledger_entries WHERE account = $1`, ledger.AcctFund(fund)).Scan(&b)
	return b, err
}

// Key is the idempotency key a disbursement was asked for with: its scope (staff, or the
// member who asked), the key, and the hash of the request it was used for.
type Key struct {
	Scope, Key string
	Hash       []byte
}

// ByKey reads the disbursement asked for with a key in its scope, and the hash of the
// request it was asked with (store.ErrNotFound when none was).
func (s Store) ByKey(ctx context.Context, scope, key string) (Disbursement, []byte, error) {
	var hash []byte
	var d Disbursement
	err := s.db.QueryRow(ctx, `SELECT `+cols+`, request_hash FROM disbursements WHERE idempotency_scope = $1 AND idempotency_key = $2`, scope, key).
		Scan(&d.ID, &d.Fund, &d.AmountCents, &d.MemberID, &d.Payee, &d.Reason, &d.RequestedBy, &d.Approval, &d.ProposalID,
			&d.Status, &d.Message, &d.TransactionID, &d.CreatedAt, &d.DecidedAt, &hash)
	return d, hash, store.NotFound(err)
}

// Create records a disbursement as d says (ID, CreatedAt and TransactionID are set
// here), asked for with key; a paid one gets its ledger transaction in the same call.
// store.ErrKeyTaken when the key's scope has the key already (a concurrent request with
// it recorded first).
func (s Store) Create(ctx context.Context, d Disbursement, at time.Time, key Key) (Disbursement, error) {
	var tx *int64
	if d.Status == Paid {
		id, err := payments.On(s.db).PostTransaction(ctx, TxDisbursement, d.Entries())
		if err != nil {
			return d, err
		}
		tx = &id
	}
	var decided *time.Time
	if d.Status != Pending {
		decided = &at
	}
	d, err := scan(s.db.QueryRow(ctx, `INSERT INTO disbursements (fund, amount_cents, member_id, payee, reason, requested_by, approval,
			proposal_id, status, message, tx_id, created_at, decided_at, idempotency_scope, idempotency_key, request_hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING `+cols,
		d.Fund, d.AmountCents, d.MemberID, d.Payee, d.Reason, d.RequestedBy, d.Approval, d.ProposalID, d.Status, d.Message, tx, at, decided,
		key.Scope, key.Key, key.Hash))
	if store.IsUniqueViolationOf(err, "disbursements_key") {
		return d, store.ErrKeyTaken
	}
	return d, err
}

// Get reads a disbursement (store.ErrNotFound when there is none).
func (s Store) Get(ctx context.Context, id int64) (Disbursement, error) {
	d, err := scan(s.db.QueryRow(ctx, `SELECT `+cols+` FROM disbursements WHERE id = $1`, id))
	return d, store.NotFound(err)
}

// ForProposal locks the disbursement a proposal approves (store.ErrNotFound when the
// proposal approves none).
func (s Store) ForProposal(ctx context.Context, proposal int64) (Disbursement, error) {
	d, err := scan(s.db.QueryRow(ctx, `SELECT `+cols+` FROM disbursements WHERE proposal_id = $1 FOR UPDATE`, proposal))
	return d, store.NotFound(err)
}

// Decide closes a pending disbursement: paid (with its ledger transaction, written here),
// rejected or failed, with a message.
func (s Store) Decide(ctx context.Context, d Disbursement, status, message string, at time.Time) (Disbursement, error) {
	var tx *int64
	if status == Paid {
		id, err := payments.On(s.db).PostTransaction(ctx, TxDisbursement, d.Entries())
		if err != nil {
			return d, err
		}
		tx = &id
	}
	return scan(s.db.QueryRow(ctx, `UPDATE disbursements SET status = $2, message = $3, tx_id = $4, decided_at = $5
		WHERE id = $1 AND status = 'pending' RETURNING `+cols, d.ID, status, message, tx, at))
}

// Totals are what the funds paid out in all, and to members.
func (s Store) Totals(ctx context.Context) (all, toMembers int64, err error) {
	err = s.db.QueryRow(ctx, `SELECT coalesce(sum(amount_cents), 0)::bigint,
			coalesce(sum(amount_cents) FILTER (WHERE member_id IS NOT NULL), 0)::bigint
		FROM disbursements WHERE status = 'paid'`).Scan(&all, &toMembers)
	return all, toMembers, err
}

// HistoryEntry is one movement of a fund's account, and the fund's balance after it.
type HistoryEntry struct {
	TransactionID  int64     `json:"transactionId"`
	Kind           string    `json:"kind"`
	AmountCents    int64     `json:"amountCents"`
	BalanceCents   int64     `json:"balanceCents"`
	At             time.Time `json:"at"`
	PaymentID      *int64    `json:"paymentId"`
	DisbursementID *int64    `json:"disbursementId"`
}

// History lists a fund's movements, newest first, at most limit of them, those of
// ledger transactions before the id before (0: from the newest). Each says the fund's
// balance after it: the sum of the movements up to it in the ledger's order, read with
// them in the query's one snapshot (a page's balances need no other read to add up).
func (s Store) History(ctx context.Context, fund string, before int64, limit int) ([]HistoryEntry, error) {
	rows, err := s.db.Query(ctx, `SELECT e.tx_id, t.kind, e.amount_cents, e.balance, t.created_at,
			(SELECT py.id FROM payments py WHERE py.tx_id = e.tx_id OR py.refund_tx_id = e.tx_id),
			(SELECT d.id FROM disbursements d WHERE d.tx_id = e.tx_id)
		FROM (SELECT id, tx_id, amount_cents, sum(amount_cents) OVER (ORDER BY tx_id, id)::bigint AS balance
			FROM ledger_entries WHERE account = $1 AND ($2::bigint = 0 OR tx_id < $2::bigint)) e
		JOIN ledger_transactions t ON t.id = e.tx_id
		ORDER BY e.tx_id DESC, e.id DESC LIMIT $3`, ledger.AcctFund(fund), before, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (HistoryEntry, error) {
		var h HistoryEntry
		err := row.Scan(&h.TransactionID, &h.Kind, &h.AmountCents, &h.BalanceCents, &h.At, &h.PaymentID, &h.DisbursementID)
		return h, err
	})
}

// Month is what a fund took in and paid out in one month of the co-op's calendar, and its
// balance at the end of that month: an aggregate, which names no payment, disbursement,
// member or time within the month.
type Month struct {
	// Month is the month, YYYY-MM, in the co-op's time zone.
	Month          string `json:"month"`
	PaidInCents    int64  `json:"paidInCents"`
	RefundedCents  int64  `json:"refundedCents"`
	DisbursedCents int64  `json:"disbursedCents"`
	BalanceCents   int64  `json:"balanceCents"`
}

// Months lists the months a fund moved in, newest first, those before the month before
// (YYYY-MM; "": from the newest), at most limit of them; more says older months exist.
// A movement's month is its ledger transaction's on the calendar of loc, the co-op's time
// zone; each month's balance is the sum of the movements up to its end. The months'
// bounds are computed here, in Go, and the query reads timestamps only: the database
// is never asked a zone by name, which its own time zone database may not hold (nor hold
// with the same rules). Both reads belong in one snapshot (the caller's transaction).
func (s Store) Months(ctx context.Context, fund string, loc *time.Location, before string, limit int) (ms []Month, more bool, err error) {
	var first, last *time.Time
	if err := s.db.QueryRow(ctx, `SELECT min(t.created_at), max(t.created_at)
		FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.tx_id WHERE e.account = $1`, ledger.AcctFund(fund)).Scan(&first, &last); err != nil {
		return nil, false, err
	}
	if first == nil {
		return nil, false, nil
	}
	labels, starts, ends := MonthBounds(*first, *last, loc)
	rows, err := s.db.Query(ctx, `SELECT month, paid_in, refunded, disbursed, balance FROM (
			SELECT month, paid_in, refunded, disbursed, sum(net) OVER (ORDER BY month)::bigint AS balance FROM (
				SELECT b.month,
					coalesce(sum(e.amount_cents) FILTER (WHERE t.kind = 'payment'), 0)::bigint AS paid_in,
					coalesce(-sum(e.amount_cents) FILTER (WHERE t.kind = 'refund'), 0)::bigint AS refunded,
					coalesce(-sum(e.amount_cents) FILTER (WHERE t.kind = 'disbursement'), 0)::bigint AS disbursed,
					sum(e.amount_cents) AS net
				FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.tx_id
				JOIN unnest($2::text[], $3::timestamptz[], $4::timestamptz[]) AS b(month, starts, ends)
					ON t.created_at >= b.starts AND t.created_at < b.ends
				WHERE e.account = $1 GROUP BY 1) m) b
		WHERE $5 = '' OR month < $5
		ORDER BY month DESC LIMIT $6`, ledger.AcctFund(fund), labels, starts, ends, before, limit+1)
	if err != nil {
		return nil, false, err
	}
	ms, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Month, error) {
		var m Month
		err := row.Scan(&m.Month, &m.PaidInCents, &m.RefundedCents, &m.DisbursedCents, &m.BalanceCents)
		return m, err
	})
	if len(ms) > limit {
		ms, more = ms[:limit], true
	}
	return ms, more, err
}

// MonthBounds are the months of loc's calendar from first's to last's: each one's name
// (YYYY-MM), its start and its end (the next one's start), as instants.
func MonthBounds(first, last time.Time, loc *time.Location) (labels []string, starts, ends []time.Time) {
	f, l := first.In(loc), last.In(loc)
	y, m := f.Year(), f.Month()
	start := monthStart(y, m, loc)
	for y < l.Year() || (y == l.Year() && m <= l.Month()) {
		ny, nm := y, m+1
		if nm > time.December {
			ny, nm = y+1, time.January
		}
		end := monthStart(ny, nm, loc)
		labels, starts, ends = append(labels, fmt.Sprintf("%04d-%02d", y, m)), append(starts, start), append(ends, end)
		y, m, start = ny, nm, end
	}
	return labels, starts, ends
}

// monthStart is the first instant of month m of year y on loc's calendar: its midnight
// on the 1st, or, where the clock skips that midnight, the instant it skips to.
func monthStart(y int, m time.Month, loc *time.Location) time.Time {
	t := time.Date(y, m, 1, 0, 0, 0, 0, loc)
	if t.Month() != m { // time.Date took the skipped midnight by the offset before the skip
		_, t = t.ZoneBounds()
	}
	return t
}

// Exists reports whether the fund's account has any entry.
func (s Store) Exists(ctx context.Context, fund string) (bool, error) {
	var ok bool
	err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM ledger_entries WHERE account = $1)`, ledger.AcctFund(fund)).Scan(&ok)
	return ok, err
}

// Paid lists the disbursements whose ledger transaction was made in [from, to), with
// its time, in transaction order.
func (s Store) Paid(ctx context.Context, from, to time.Time) ([]Disbursement, []time.Time, error) {
	rows, err := s.db.Query(ctx, `SELECT `+prefixed("d.", cols)+`, t.created_at FROM disbursements d
		JOIN ledger_transactions t ON t.id = d.tx_id
		WHERE t.created_at >= $1 AND t.created_at < $2 ORDER BY t.id`, from, to)
	if err != nil {
		return nil, nil, err
	}
	var ds []Disbursement
	var ats []time.Time
	var d Disbursement
	var at time.Time
	_, err = pgx.ForEachRow(rows, []any{&d.ID, &d.Fund, &d.AmountCents, &d.MemberID, &d.Payee, &d.Reason, &d.RequestedBy, &d.Approval,
		&d.ProposalID, &d.Status, &d.Message, &d.TransactionID, &d.CreatedAt, &d.DecidedAt, &at}, func() error {
		ds, ats = append(ds, d), append(ats, at)
		d = Disbursement{} // the next row's pointers are its own
		return nil
	})
	return ds, ats, err
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}
