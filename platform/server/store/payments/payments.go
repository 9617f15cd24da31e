// Package payments is the store of payments and the double-entry ledger: every query
// the service makes on payments, ledger_transactions and ledger_entries.
package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/platform/server/ledger"
	"github.com/cooperator-dev/cooperator/platform/server/store"
)

// Idempotency scopes: a key is unique within the scope of the client that chose it.
// MemberScope is the scope of the payments a member requests. Staff share one scope;
// the payment that completes a work item is in the work scope under the key
// "work-<id>", chosen by the service. Erasure moves the keys it replaces to the scope
// "erased:" + the old scope.
const (
	StaffScope = "staff"
	WorkScope  = "work"
)

// MemberScope is the idempotency scope of the payments member id requests.
func MemberScope(id int64) string { return fmt.Sprintf("member:%d", id) }

// MemberKeysSQL selects the payments whose idempotency key is the member $1's: the keys
// they chose, and the keys staff chose for payments on their behalf (free text that may
// name them).
const MemberKeysSQL = `(idempotency_scope = ` + MemberScopeSQL + ` OR (idempotency_scope = 'staff' AND payer_id = $1))`

// MemberScopeSQL is MemberScope of the member $1, in SQL (the idempotency scope of what
// they request: payments, disbursements).
const MemberScopeSQL = `'member:' || $1::bigint`

// ErrKeyReused is returned when an idempotency key of the scope was used for a different
// payment.
var ErrKeyReused = errors.New("idempotency key used for a different payment")

// Payment is a recorded payment with its fee breakdown.
type Payment struct {
	ID             int64        `json:"id"`
	IdempotencyKey string       `json:"idempotencyKey,omitempty"`
	WorkID         *int64       `json:"workId"`
	PayerID        *int64       `json:"payerId"`
	WorkerID       int64        `json:"workerId"`
	GrossCents     int64        `json:"grossCents"`
	SurgeCents     int64        `json:"surgeCents"`
	Split          ledger.Split `json:"split"`
	TransactionID  int64        `json:"transactionId"`
	Refunded       bool         `json:"refunded"`
	RefundTxID     *int64       `json:"refundTransactionId,omitempty"`
	// RefundedBy is who refunded it: RefundedByStaff or RefundedByWorker ("" when not
	// refunded).
	RefundedBy string    `json:"refundedBy,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
	// Scope is the idempotency scope of the key (never shown).
	Scope string `json:"-"`
}

// New records a payment: who pays whom how much, for which work.
type New struct {
	WorkID      *int64
	PayerID     *int64
	WorkerID    int64
	AmountCents int64
	SurgeCents  int64
}

// Store runs the payment and ledger queries on db.
type Store struct{ db store.DBTX }

// On returns the store over db (the pool or a transaction).
func On(db store.DBTX) Store { return Store{db} }

const cols = `id, idempotency_key, work_id, payer_id, worker_id, gross_cents, surge_cents, split, tx_id, refund_tx_id, coalesce(refunded_by, ''), created_at, idempotency_scope`

func scan(row pgx.Row) (Payment, []byte, error) {
	var p Payment
	var hash []byte
	err := row.Scan(&p.ID, &p.IdempotencyKey, &p.WorkID, &p.PayerID, &p.WorkerID, &p.GrossCents, &p.SurgeCents,
		&p.Split, &p.TransactionID, &p.RefundTxID, &p.RefundedBy, &p.CreatedAt, &p.Scope, &hash)
	p.Refunded = p.RefundTxID != nil
	return p, hash, err
}

// Outcome says what Record did.
type Outcome int

const (
	// Created: the payment, its ledger transaction and entries were written.
	Created Outcome = iota
	// Stored: the key was already recorded in the scope for the same request; the stored
	// payment is returned and nothing was written.
	Stored
	// NoWorker: the worker is not a member with the worker role who is not erased.
	NoWorker
	// NoPayer: the payer is not a member, or, for a payment staff record or the payer's
	// own, an erased one.
	NoPayer
)

// ErrKeyTaken is returned by Record when a concurrent request recorded the key in the
// scope while the statement ran: the statement wrote nothing (outside a transaction; in
// one, the transaction is aborted), and Lookup answers the request (store.ErrKeyTaken).
var ErrKeyTaken = store.ErrKeyTaken

// recordSQL checks the parties, looks the key up in its scope and, when the parties are
// members and the key is new, writes the payment, its ledger transaction and entries: one
// statement, so one round trip, and outside a transaction its own. It takes the parties'
// rows for key share first (as its foreign keys would, but before its checks), so an
// erasure under way, which holds the member's row for update, is waited for and seen (a
// match or an acceptance, which hold a worker's row for no-key update, is not): a payment whose
// key the erasure would have replaced (MemberKeysSQL) is not written after it. It answers one row:
// the outcome ('created', 'stored', 'no-worker', 'no-payer') and the payment (placeholder
// values when there is none).
const recordSQL = `WITH party AS (SELECT id, 'worker' = ANY (roles) AND erased_at IS NULL AS worker,
			erased_at IS NULL OR NOT ($12 = '` + StaffScope + `' OR $12 = 'member:' || id) AS payer
			FROM members WHERE id IN ($4, $5) ORDER BY id FOR KEY SHARE),
		ok AS (SELECT
			EXISTS (SELECT 1 FROM party WHERE id = $5 AND party.worker) AS worker,
			$4::bigint IS NULL OR EXISTS (SELECT 1 FROM party WHERE id = $4 AND party.payer) AS payer),
		prev AS (SELECT ` + cols + `, request_hash FROM payments WHERE idempotency_scope = $12 AND idempotency_key = $1),
		t AS (INSERT INTO ledger_transactions (kind)
			SELECT 'payment' FROM ok WHERE ok.worker AND ok.payer AND NOT EXISTS (SELECT 1 FROM prev) RETURNING id),
		e AS (INSERT INTO ledger_entries (tx_id, account, member_id, amount_cents)
			SELECT t.id, u.a, u.m, u.c FROM t, unnest($9::text[], $10::bigint[], $11::bigint[]) AS u(a, m, c)),
		p AS (INSERT INTO payments (idempotency_key, request_hash, work_id, payer_id, worker_id, gross_cents, surge_cents, split, tx_id, idempotency_scope)
			SELECT $1, $2, $3, $4, $5, $6, $7, $8, t.id, $12 FROM t
			RETURNING ` + cols + `, request_hash)
	SELECT 'created', p.* FROM p
	UNION ALL SELECT 'stored', prev.* FROM prev, ok WHERE ok.worker AND ok.payer
	UNION ALL SELECT CASE WHEN NOT ok.worker THEN 'no-worker' ELSE 'no-payer' END,
		0::bigint, ''::text, NULL::bigint, NULL::bigint, 0::bigint, 0::bigint, 0::bigint, '{}'::jsonb, 0::bigint, NULL::bigint,
		''::text, now(), ''::text, ''::bytea
		FROM ok WHERE NOT (ok.worker AND ok.payer)`

// Record records a payment once per idempotency key within its scope, in one round trip:
// it checks the parties (the worker a member with the worker role who is not erased, the
// payer, when given, a member, and one not erased for a payment whose key erasure replaces,
// staff's on their behalf and their own (MemberKeysSQL): a retry would not find its
// payment; NoWorker, NoPayer: nothing written), answers a
// key already recorded in the scope with the stored payment (Stored) when hash is the same
// and ErrKeyReused when it differs, and otherwise writes the payment, its ledger
// transaction and entries (Created). Run outside a transaction, the statement is its own
// transaction. A concurrent request with the same key makes it wait on the unique index
// and then return ErrKeyTaken, having written nothing: Lookup then answers.
func (s Store) Record(ctx context.Context, scope, key string, hash []byte, req New, split ledger.Split) (Payment, Outcome, error) {
	accounts, members, amounts, err := ledger.Columns(ledger.EntriesFor(req.PayerID, req.WorkerID, split))
	if err != nil {
		return Payment{}, 0, err
	}
	splitJSON, err := json.Marshal(split)
	if err != nil {
		return Payment{}, 0, err
	}
	var outcome string
	var p Payment
	var storedSplit, stored []byte
	err = s.db.QueryRow(ctx, recordSQL, key, hash, req.WorkID, req.PayerID, req.WorkerID, req.AmountCents, req.SurgeCents, splitJSON,
		accounts, members, amounts, scope).Scan(&outcome, &p.ID, &p.IdempotencyKey, &p.WorkID, &p.PayerID, &p.WorkerID, &p.GrossCents,
		&p.SurgeCents, &storedSplit, &p.TransactionID, &p.RefundTxID, &p.RefundedBy, &p.CreatedAt, &p.Scope, &stored)
	if store.IsUniqueViolationOf(err, keyConstraint) {
		return Payment{}, 0, ErrKeyTaken
	}
	if err != nil {
		return Payment{}, 0, err
	}
	p.Refunded = p.RefundTxID != nil
	switch outcome {
	case "created":
		p.Split = split
		return p, Created, nil
	case "stored":
		if string(stored) != string(hash) {
			return Payment{}, 0, ErrKeyReused
		}
		if err := json.Unmarshal(storedSplit, &p.Split); err != nil {
			return Payment{}, 0, fmt.Errorf("reading the split of payment %d: %w", p.ID, err)
		}
		return p, Stored, nil
	case "no-worker":
		return Payment{}, NoWorker, nil
	case "no-payer":
		return Payment{}, NoPayer, nil
	}
	return Payment{}, 0, fmt.Errorf("recording a payment: unexpected outcome %q", outcome)
}

// keyConstraint is the unique constraint of an idempotency key in its scope.
const keyConstraint = "payments_idempotency_scope_key"

// Lookup returns the payment recorded under the key in the scope when hash is the same,
// ErrKeyReused when it differs (store.ErrNotFound when there is none).
func (s Store) Lookup(ctx context.Context, scope, key string, hash []byte) (Payment, error) {
	p, stored, err := scan(s.db.QueryRow(ctx, `SELECT `+cols+`, request_hash FROM payments WHERE idempotency_scope = $1 AND idempotency_key = $2`, scope, key))
	if err != nil {
		return Payment{}, store.NotFound(err)
	}
	if string(stored) != string(hash) {
		return Payment{}, ErrKeyReused
	}
	return p, nil
}

// PostTransaction writes one balanced ledger transaction of the kind. The balance is
// checked here and again by the database at commit (a deferred constraint trigger).
func (s Store) PostTransaction(ctx context.Context, kind string, es []ledger.Entry) (int64, error) {
	accounts, members, amounts, err := ledger.Columns(es)
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.db.QueryRow(ctx, `WITH t AS (INSERT INTO ledger_transactions (kind) VALUES ($1) RETURNING id),
		e AS (INSERT INTO ledger_entries (tx_id, account, member_id, amount_cents)
			SELECT t.id, u.a, u.m, u.c FROM t, unnest($2::text[], $3::bigint[], $4::bigint[]) AS u(a, m, c))
		SELECT id FROM t`, kind, accounts, members, amounts).Scan(&id)
	return id, err
}

// PaidForWork reports whether the key is already recorded in the scope (a replay) and
// the sum of the payments for work besides the one its completion recorded, refunded
// ones left out.
func (s Store) PaidForWork(ctx context.Context, work int64, scope, key string) (replay bool, paid int64, err error) {
	err = s.db.QueryRow(ctx, `SELECT
			EXISTS (SELECT 1 FROM payments WHERE idempotency_scope = $2 AND idempotency_key = $3),
			coalesce((SELECT sum(gross_cents) FROM payments WHERE work_id = $1 AND idempotency_scope <> '`+WorkScope+`'
				AND refund_tx_id IS NULL), 0)::bigint`, work, scope, key).Scan(&replay, &paid)
	return replay, paid, err
}

// Recorded reports whether a payment holds the idempotency key in scope: a request with
// it is a replay (Record answers it, or refuses another body), whose checks of the moment
// (a surge window) are not made again.
func (s Store) Recorded(ctx context.Context, scope, key string) (bool, error) {
	var ok bool
	err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM payments WHERE idempotency_scope = $1 AND idempotency_key = $2)`, scope, key).Scan(&ok)
	return ok, err
}

// Get reads a payment (store.ErrNotFound when there is none).
func (s Store) Get(ctx context.Context, id int64) (Payment, error) {
	p, _, err := scan(s.db.QueryRow(ctx, `SELECT `+cols+`, request_hash FROM payments WHERE id = $1`, id))
	return p, store.NotFound(err)
}

// LockForRefund locks a payment and reads it (its RefundTxID is nil when not refunded).
func (s Store) LockForRefund(ctx context.Context, id int64) (Payment, error) {
	p, _, err := scan(s.db.QueryRow(ctx, `SELECT `+cols+`, request_hash FROM payments WHERE id = $1 FOR UPDATE`, id))
	return p, store.NotFound(err)
}

// Entries reads the entries of a ledger transaction.
func (s Store) Entries(ctx context.Context, txID int64) ([]ledger.Entry, error) {
	rows, err := s.db.Query(ctx, `SELECT account, member_id, amount_cents FROM ledger_entries WHERE tx_id = $1 ORDER BY id`, txID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (ledger.Entry, error) {
		var e ledger.Entry
		err := row.Scan(&e.Account, &e.Member, &e.AmountCents)
		return e, err
	})
}

// Who refunded a payment.
const (
	RefundedByStaff  = "staff"
	RefundedByWorker = "worker"
)

// MarkRefunded records the refund's ledger transaction on the payment, and who made it
// (RefundedByStaff or RefundedByWorker).
func (s Store) MarkRefunded(ctx context.Context, id, refundTx int64, by string) (Payment, error) {
	p, _, err := scan(s.db.QueryRow(ctx, `UPDATE payments SET refund_tx_id = $2, refunded_by = $3 WHERE id = $1 RETURNING `+cols+`, request_hash`, id, refundTx, by))
	return p, store.NotFound(err)
}

// Balance is one account's (or, for "member:", all members' accounts') balance.
type Balance struct {
	Account      string `json:"account"`
	BalanceCents int64  `json:"balanceCents"`
}

// Balances sums the ledger per account in one pass; the members' accounts are summed
// together under "member:".
func (s Store) Balances(ctx context.Context) ([]Balance, error) {
	rows, err := s.db.Query(ctx, `SELECT CASE WHEN account LIKE 'member:%' THEN 'member:' ELSE account END AS a,
			sum(amount_cents)::bigint
		FROM ledger_entries GROUP BY a ORDER BY a`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Balance, error) {
		var b Balance
		err := row.Scan(&b.Account, &b.BalanceCents)
		return b, err
	})
}

// Earning is one entry of a member's account.
type Earning struct {
	TransactionID int64     `json:"transactionId"`
	Kind          string    `json:"kind"`
	AmountCents   int64     `json:"amountCents"`
	At            time.Time `json:"at"`
	PaymentID     *int64    `json:"paymentId"`
}

// Earnings lists the entries of an account with their transaction's kind and time and
// the payment they belong to.
func (s Store) Earnings(ctx context.Context, account string) ([]Earning, error) {
	rows, err := s.db.Query(ctx, `SELECT e.tx_id, t.kind, e.amount_cents, t.created_at,
			(SELECT py.id FROM payments py WHERE py.tx_id = e.tx_id OR py.refund_tx_id = e.tx_id)
		FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.tx_id
		WHERE e.account = $1 ORDER BY e.id`, account)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Earning, error) {
		var e Earning
		err := row.Scan(&e.TransactionID, &e.Kind, &e.AmountCents, &e.At, &e.PaymentID)
		return e, err
	})
}

// WorkerHours is what one worker earned for the work they completed in a window, and how
// long that work took them.
type WorkerHours struct {
	WorkerID int64
	// Seconds from the start of each work item to its completion, summed.
	Seconds int64
	// Cents the worker's account received for those items (their share of the payments,
	// tips included, refunds taken off).
	Cents int64
}

// WorkerHoursSince sums, per worker, the work they completed since the window began
// (windowDays before the database's clock, which also stamps the work's history): how
// long each item took from start to completion, and what their account received for it.
func (s Store) WorkerHoursSince(ctx context.Context, windowDays int) ([]WorkerHours, error) {
	rows, err := s.db.Query(ctx, `WITH done AS (
			SELECT w.id, w.worker_id, EXTRACT(EPOCH FROM (c.at - st.at))::bigint AS secs
			FROM work_items w
			JOIN LATERAL (SELECT min(h.at) AS at FROM work_history h WHERE h.work_id = w.id AND h.to_state = 'in_progress') st ON true
			JOIN LATERAL (SELECT max(h.at) AS at FROM work_history h WHERE h.work_id = w.id AND h.to_state = 'completed') c ON true
			WHERE w.state = 'completed' AND w.worker_id IS NOT NULL AND c.at >= now() - make_interval(days => $1) AND c.at > st.at),
		earned AS (
			SELECT d.id, sum(e.amount_cents) AS cents
			FROM done d JOIN payments py ON py.work_id = d.id
			JOIN ledger_entries e ON (e.tx_id = py.tx_id OR e.tx_id = py.refund_tx_id) AND e.account = 'member:' || d.worker_id
			GROUP BY d.id)
		SELECT d.worker_id, sum(d.secs)::bigint, coalesce(sum(e.cents), 0)::bigint
		FROM done d LEFT JOIN earned e ON e.id = d.id
		GROUP BY d.worker_id ORDER BY d.worker_id`, windowDays)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (WorkerHours, error) {
		var w WorkerHours
		err := row.Scan(&w.WorkerID, &w.Seconds, &w.Cents)
		return w, err
	})
}
