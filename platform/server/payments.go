package server

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/ledger"
)

// Ledger accounts. Every payment moves money from the payer account (money received from
// outside) to the worker's account, the funds and the co-op's accounts.
const (
	acctPayer     = "payer"
	acctOperating = "coop:operating"
	acctCoopSurge = "coop:surge"
)

func acctMember(id int64) string  { return fmt.Sprintf("member:%d", id) }
func acctFund(name string) string { return "fund:" + name }

// Idempotency scopes: a key is unique within the scope of the client that chose it.
// memberScope is the scope of the payments a member requests. Staff share one scope;
// the payment that completes a work item is in the work scope under the key
// "work-<id>", chosen by the service. Erasure moves the keys it replaces to the scope
// "erased:" + the old scope.
const (
	staffScope = "staff"
	workScope  = "work"
)

func memberScope(id int64) string { return fmt.Sprintf("member:%d", id) }

// memberKeysSQL selects the payments whose idempotency key is the member $1's: the keys
// they chose, and the keys staff chose for payments on their behalf (free text that may
// name them).
const memberKeysSQL = `(idempotency_scope = 'member:' || $1::bigint OR (idempotency_scope = 'staff' AND payer_id = $1))`

type paymentRequest struct {
	WorkerID    int64  `json:"workerId"`
	AmountCents int64  `json:"amountCents"`
	SurgeCents  int64  `json:"surgeCents"`
	WorkID      *int64 `json:"workId,omitempty"`
	PayerID     *int64 `json:"payerId,omitempty"`
}

func (p paymentRequest) hash() []byte {
	b, _ := json.Marshal(p)
	h := sha256.Sum256(b)
	return h[:]
}

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
	CreatedAt      time.Time    `json:"createdAt"`
	scope          string       // the idempotency scope
}

// keyShownTo says whether the reader may see the payment's idempotency key: a key is
// the client's own text, shown to that client and staff. A work item's key is the
// service's ("work-<id>", no more than its workId) and shown to everyone.
func (p *Payment) keyShownTo(reader principal) bool {
	return reader.admin || p.scope == workScope || p.scope == memberScope(reader.memberID)
}

const paymentCols = `id, idempotency_key, work_id, payer_id, worker_id, gross_cents, surge_cents, split, tx_id, refund_tx_id, created_at, idempotency_scope`

func scanPayment(row pgx.Row) (Payment, []byte, error) {
	var p Payment
	var hash []byte
	err := row.Scan(&p.ID, &p.IdempotencyKey, &p.WorkID, &p.PayerID, &p.WorkerID, &p.GrossCents, &p.SurgeCents,
		&p.Split, &p.TransactionID, &p.RefundTxID, &p.CreatedAt, &p.scope, &hash)
	p.Refunded = p.RefundTxID != nil
	return p, hash, err
}

type entry struct {
	account string
	member  *int64
	amount  int64
}

// entriesFor turns a split into balanced ledger entries (zero amounts are left out).
func entriesFor(req paymentRequest, s ledger.Split) []entry {
	worker := req.WorkerID
	es := []entry{{acctPayer, req.PayerID, -s.GrossCents}, {acctMember(worker), &worker, s.WorkerCents}}
	for _, f := range s.Funds {
		es = append(es, entry{acctFund(f.Name), nil, f.AmountCents})
	}
	es = append(es, entry{acctOperating, nil, s.OperatingCents}, entry{acctCoopSurge, nil, s.CoopSurgeCents})
	out := es[:0]
	for _, e := range es {
		if e.amount != 0 {
			out = append(out, e)
		}
	}
	return out
}

// postTransaction writes one balanced ledger transaction. The balance is checked here
// and again by the database at commit (a deferred constraint trigger).
func postTransaction(ctx context.Context, tx pgx.Tx, kind string, es []entry) (int64, error) {
	accounts, members, amounts, err := entryArrays(es)
	if err != nil {
		return 0, err
	}
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO ledger_transactions (kind) VALUES ($1) RETURNING id`, kind).Scan(&id); err != nil {
		return 0, err
	}
	_, err = tx.Exec(ctx, `INSERT INTO ledger_entries (tx_id, account, member_id, amount_cents)
		SELECT $1, a, m, c FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS u(a, m, c)`, id, accounts, members, amounts)
	return id, err
}

// entryArrays checks the entries balance and turns them into column arrays.
func entryArrays(es []entry) ([]string, []*int64, []int64, error) {
	var sum int64
	accounts := make([]string, len(es))
	members := make([]*int64, len(es))
	amounts := make([]int64, len(es))
	for i, e := range es {
		sum += e.amount
		accounts[i], members[i], amounts[i] = e.account, e.member, e.amount
	}
	if sum != 0 {
		return nil, nil, nil, fmt.Errorf("ledger: transaction does not balance (%d)", sum)
	}
	return accounts, members, amounts, nil
}

// insertPayment records a payment inside tx once per idempotency key within its scope
// (the paying member, staff, or "work" for work items), so one client's keys never
// collide with another's. If the key is already used in the scope, it returns the
// stored payment (created=false) when the request is the same and a 409 when it
// differs. A concurrent duplicate waits on the unique index and then sees the first
// payment.
func (s *Server) insertPayment(ctx context.Context, tx pgx.Tx, pol *policy.Policy, scope, key string, req paymentRequest) (*Payment, bool, error) {
	split, err := ledger.Compute(pol.FeeSplit, req.AmountCents, req.SurgeCents)
	if err != nil {
		return nil, false, badField("amountCents", err.Error())
	}
	if split.Sum() != req.AmountCents {
		return nil, false, fmt.Errorf("split does not add up: %+v", split)
	}
	hash := req.hash()
	// Savepoint so a duplicate key does not abort the caller's transaction.
	sp, err := tx.Begin(ctx)
	if err != nil {
		return nil, false, err
	}
	// The ledger transaction, its entries and the payment in one statement.
	accounts, members, amounts, err := entryArrays(entriesFor(req, split))
	if err != nil {
		_ = sp.Rollback(ctx)
		return nil, false, err
	}
	splitJSON, _ := json.Marshal(split)
	p, _, err := scanPayment(sp.QueryRow(ctx, `WITH t AS (INSERT INTO ledger_transactions (kind) VALUES ('payment') RETURNING id),
		e AS (INSERT INTO ledger_entries (tx_id, account, member_id, amount_cents)
			SELECT t.id, u.a, u.m, u.c FROM t, unnest($9::text[], $10::bigint[], $11::bigint[]) AS u(a, m, c))
		INSERT INTO payments (idempotency_key, request_hash, work_id, payer_id, worker_id, gross_cents, surge_cents, split, tx_id, idempotency_scope)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, t.id, $12 FROM t ON CONFLICT (idempotency_scope, idempotency_key) DO NOTHING
		RETURNING `+paymentCols+`, request_hash`, key, hash, req.WorkID, req.PayerID, req.WorkerID, req.AmountCents, req.SurgeCents, splitJSON,
		accounts, members, amounts, scope))
	if err == nil {
		return &p, true, sp.Commit(ctx)
	}
	_ = sp.Rollback(ctx)
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, false, err
	}
	p, stored, err := scanPayment(tx.QueryRow(ctx, `SELECT `+paymentCols+`, request_hash FROM payments WHERE idempotency_scope = $1 AND idempotency_key = $2`, scope, key))
	if err != nil {
		return nil, false, err
	}
	if string(stored) != string(hash) {
		return nil, false, conflict("Idempotency-Key", "this key was used for a different payment")
	}
	return &p, false, nil
}

func (s *Server) countPayment(sp ledger.Split, kind string) {
	s.metrics.payments.WithLabelValues(kind).Inc()
	add := func(name string, v int64) {
		if v > 0 {
			s.metrics.amounts.WithLabelValues(name, kind).Add(float64(v))
		}
	}
	for _, f := range sp.Funds {
		add(f.Name, f.AmountCents)
	}
	add("operating", sp.OperatingCents)
	add("coop-surge", sp.CoopSurgeCents)
	add("workers", sp.WorkerCents)
}

// createPayment records a payment besides the one a work item's completion records (its
// agreed price, paid by its customer under the key "work-<id>"). The rule:
//   - a member pays only for a completed work item they requested (workId), to its worker,
//     without surge (surge is part of the agreed price); the member's payments for one
//     work item add up to at most its agreed price (priceCents);
//   - staff (the admin token) pay at most the policy's payments.staffLimitCents per
//     payment (none when it is not set), for a completed work item under the same rule
//     (on behalf of its customer) or, without workId, to a worker directly.
func (s *Server) createPayment(r *http.Request, p principal) (int, any, error) {
	if err := requireActiveMember(p); err != nil {
		return 0, nil, err
	}
	pol, err := s.currentPolicy()
	if err != nil {
		return 0, nil, err
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" || utf8.RuneCountInString(key) > 200 || strings.HasPrefix(key, "work-") {
		return 0, nil, badField("Idempotency-Key", "header is required (1 to 200 characters, not starting with work-)")
	}
	var in struct {
		WorkID      *int64 `json:"workId"`
		WorkerID    *int64 `json:"workerId"`
		AmountCents *int64 `json:"amountCents"`
		SurgeCents  *int64 `json:"surgeCents"`
		PayerID     *int64 `json:"payerId"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.AmountCents == nil || *in.AmountCents <= 0 || *in.AmountCents > ledger.MaxAmountCents {
		return 0, nil, badField("amountCents", "must be a positive integer")
	}
	req := paymentRequest{AmountCents: *in.AmountCents}
	if in.SurgeCents != nil {
		if *in.SurgeCents < 0 || *in.SurgeCents > *in.AmountCents {
			return 0, nil, badField("surgeCents", "must be an integer between 0 and amountCents")
		}
		req.SurgeCents = *in.SurgeCents
	}
	if in.WorkID != nil && *in.WorkID <= 0 {
		return 0, nil, badField("workId", "must be a positive integer id")
	}
	if in.WorkerID != nil && *in.WorkerID <= 0 {
		return 0, nil, badField("workerId", "must be a positive integer id")
	}
	if p.admin {
		limit := pol.Payments.StaffLimitCents
		if limit == 0 {
			return 0, nil, &apiError{status: http.StatusForbidden, field: "amountCents",
				message: "staff record no payments: the policy sets no payments.staffLimitCents"}
		}
		if req.AmountCents > limit {
			return 0, nil, &apiError{status: http.StatusForbidden, field: "amountCents",
				message: fmt.Sprintf("staff record payments of at most %d cents (the policy's payments.staffLimitCents)", limit)}
		}
		if in.WorkID == nil && in.WorkerID == nil {
			return 0, nil, badField("workerId", "must be a positive integer id")
		}
		req.PayerID = in.PayerID
	} else {
		if in.WorkID == nil {
			return 0, nil, badField("workId", "is required: members pay for a completed piece of work they requested")
		}
		if req.SurgeCents != 0 {
			return 0, nil, badField("surgeCents", "must be 0: surge is part of the work's agreed price")
		}
		if in.PayerID != nil && *in.PayerID != p.memberID {
			return 0, nil, forbidden("members pay for themselves")
		}
		id := p.memberID
		req.PayerID = &id
	}
	scope := staffScope
	if !p.admin {
		scope = memberScope(p.memberID)
	}
	var pay *Payment
	var created bool
	err = pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		if in.WorkID != nil {
			if err := s.paymentForWork(r.Context(), tx, p, scope, key, *in.WorkID, in.WorkerID, &req); err != nil {
				return err
			}
		} else {
			req.WorkerID = *in.WorkerID
		}
		if req.PayerID != nil && *req.PayerID == req.WorkerID {
			return badField("workerId", "cannot pay yourself")
		}
		var worker, payer bool
		if err := tx.QueryRow(r.Context(), `SELECT
				EXISTS (SELECT 1 FROM members WHERE id = $1 AND 'worker' = ANY (roles) AND erased_at IS NULL),
				$2::bigint IS NULL OR EXISTS (SELECT 1 FROM members WHERE id = $2)`, req.WorkerID, req.PayerID).Scan(&worker, &payer); err != nil {
			return err
		}
		if !worker {
			return refNotFound("workerId", "worker")
		}
		if !payer {
			return refNotFound("payerId", "member")
		}
		var err error
		pay, created, err = s.insertPayment(r.Context(), tx, pol, scope, key, req)
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	if created {
		s.countPayment(pay.Split, "payment")
	}
	return http.StatusCreated, pay, nil
}

// paymentForWork checks a payment for the work item id against the rule (see
// createPayment) inside tx and fills in req's work, worker and payer. The work item stays
// locked until tx ends, so that two payments cannot both fit the same remaining amount. A
// replay of a recorded key skips the amount check: insertPayment answers it.
func (s *Server) paymentForWork(ctx context.Context, tx pgx.Tx, p principal, scope, key string, id int64, workerID *int64, req *paymentRequest) error {
	w, err := lockWork(ctx, tx, id)
	if err != nil {
		return err
	}
	if !p.admin && w.CustomerID != p.memberID {
		return notFound("work") // as getWork: another member's work does not exist for them
	}
	if w.State != stCompleted || w.WorkerID == nil {
		return conflict("workId", fmt.Sprintf("work in state %s cannot be paid for; only completed work can", w.State))
	}
	if workerID != nil && *workerID != *w.WorkerID {
		return badField("workerId", "must be the worker of the work (or left out)")
	}
	if p.admin && req.PayerID != nil && *req.PayerID != w.CustomerID {
		return badField("payerId", "must be the customer of the work (or left out)")
	}
	req.WorkID, req.WorkerID, req.PayerID = &w.ID, *w.WorkerID, &w.CustomerID
	var replay bool
	var paid int64
	if err := tx.QueryRow(ctx, `SELECT
			EXISTS (SELECT 1 FROM payments WHERE idempotency_scope = $2 AND idempotency_key = $3),
			coalesce((SELECT sum(gross_cents) FROM payments WHERE work_id = $1 AND idempotency_scope <> '`+workScope+`'
				AND refund_tx_id IS NULL), 0)::bigint`, w.ID, scope, key).Scan(&replay, &paid); err != nil {
		return err
	}
	if !replay && paid+req.AmountCents > w.PriceCents {
		return badField("amountCents", fmt.Sprintf("payments for this work add up to at most its agreed price, %d cents; %d cents are left", w.PriceCents, w.PriceCents-paid))
	}
	return nil
}

func (s *Server) loadPayment(ctx context.Context, id int64) (Payment, error) {
	p, _, err := scanPayment(s.pool.QueryRow(ctx, `SELECT `+paymentCols+`, request_hash FROM payments WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, notFound("payment")
	}
	return p, err
}

// getPayment shows a payment with its fee breakdown to its payer, its worker and staff;
// to anyone else it does not exist (everyone reads the totals in /v1/reports/funds). Its
// idempotency key only to the client who chose it and staff.
func (s *Server) getPayment(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	pay, err := s.loadPayment(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	if !p.admin && pay.WorkerID != p.memberID && (pay.PayerID == nil || *pay.PayerID != p.memberID) {
		return 0, nil, notFound("payment")
	}
	if !pay.keyShownTo(p) {
		pay.IdempotencyKey = ""
	}
	return http.StatusOK, pay, nil
}

// refundPayment reverses every entry of the payment in a new transaction.
func (s *Server) refundPayment(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	var pay Payment
	err = pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		var txID int64
		var refunded *int64
		err := tx.QueryRow(r.Context(), `SELECT tx_id, refund_tx_id FROM payments WHERE id = $1 FOR UPDATE`, id).Scan(&txID, &refunded)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("payment")
		}
		if err != nil {
			return err
		}
		if refunded != nil {
			return conflict("", "this payment has already been refunded")
		}
		rows, err := tx.Query(r.Context(), `SELECT account, member_id, amount_cents FROM ledger_entries WHERE tx_id = $1 ORDER BY id`, txID)
		if err != nil {
			return err
		}
		es, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (entry, error) {
			var e entry
			err := row.Scan(&e.account, &e.member, &e.amount)
			e.amount = -e.amount
			return e, err
		})
		if err != nil {
			return err
		}
		rid, err := postTransaction(r.Context(), tx, "refund", es)
		if err != nil {
			return err
		}
		pay, _, err = scanPayment(tx.QueryRow(r.Context(), `UPDATE payments SET refund_tx_id = $2 WHERE id = $1 RETURNING `+paymentCols+`, request_hash`, id, rid))
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	s.countPayment(pay.Split, "refund")
	return http.StatusOK, pay, nil
}

// fundReport shows every co-op account's balance, what the workers were paid, what the
// co-op received, and the ledger's total (always 0), from one pass over the ledger.
func (s *Server) fundReport(r *http.Request, p principal) (int, any, error) {
	// The members' accounts are summed together; every other account on its own.
	rows, err := s.pool.Query(r.Context(), `SELECT CASE WHEN account LIKE 'member:%' THEN 'member:' ELSE account END AS a,
			sum(amount_cents)::bigint
		FROM ledger_entries GROUP BY a ORDER BY a`)
	if err != nil {
		return 0, nil, err
	}
	type bal struct {
		Account      string `json:"account"`
		BalanceCents int64  `json:"balanceCents"`
	}
	bals := []bal{}
	var total, workers, received int64
	var b bal
	_, err = pgx.ForEachRow(rows, []any{&b.Account, &b.BalanceCents}, func() error {
		total += b.BalanceCents
		switch {
		case b.Account == "member:":
			workers = b.BalanceCents
		case b.Account == acctPayer:
			received = -b.BalanceCents
		case strings.HasPrefix(b.Account, "fund:") || strings.HasPrefix(b.Account, "coop:"):
			bals = append(bals, b)
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	// Policy funds with nothing yet show as 0.
	if pol := s.policy.Current(); pol != nil {
		for _, f := range pol.FeeSplit.Funds {
			found := false
			for _, b := range bals {
				found = found || b.Account == acctFund(f.Name)
			}
			if !found {
				bals = append(bals, bal{Account: acctFund(f.Name)})
			}
		}
	}
	return http.StatusOK, map[string]any{"accounts": bals, "paidToWorkersCents": workers, "receivedCents": received, "ledgerTotalCents": total}, nil
}

// memberEarnings shows what a member earned, entry by entry, to the member and staff.
// Every member reads the totals of all workers in /v1/reports/funds.
func (s *Server) memberEarnings(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	if err := selfOrAdmin(p, id); err != nil {
		return 0, nil, err
	}
	if _, err := s.loadMember(r.Context(), nil, id); err != nil {
		return 0, nil, err
	}
	rows, err := s.pool.Query(r.Context(), `SELECT e.tx_id, t.kind, e.amount_cents, t.created_at,
			(SELECT py.id FROM payments py WHERE py.tx_id = e.tx_id OR py.refund_tx_id = e.tx_id)
		FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.tx_id
		WHERE e.account = $1 ORDER BY e.id`, acctMember(id))
	if err != nil {
		return 0, nil, err
	}
	type earning struct {
		TransactionID int64     `json:"transactionId"`
		Kind          string    `json:"kind"`
		AmountCents   int64     `json:"amountCents"`
		At            time.Time `json:"at"`
		PaymentID     *int64    `json:"paymentId"`
	}
	es, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (earning, error) {
		var e earning
		err := row.Scan(&e.TransactionID, &e.Kind, &e.AmountCents, &e.At, &e.PaymentID)
		return e, err
	})
	if err != nil {
		return 0, nil, err
	}
	var total int64
	for _, e := range es {
		total += e.AmountCents
	}
	return http.StatusOK, map[string]any{"memberId": id, "earnedCents": total, "entries": es}, nil
}
