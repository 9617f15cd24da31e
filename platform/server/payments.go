package server

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/ledger"
	"github.com/cooperator-dev/cooperator/platform/server/store"
	"github.com/cooperator-dev/cooperator/platform/server/store/funds"
	"github.com/cooperator-dev/cooperator/platform/server/store/members"
	"github.com/cooperator-dev/cooperator/platform/server/store/payments"
	"github.com/cooperator-dev/cooperator/platform/server/store/proposals"
)

// Ledger accounts (platform/server/ledger).
const (
	acctPayer     = ledger.AcctPayer
	acctOperating = ledger.AcctOperating
	acctCoopSurge = ledger.AcctCoopSurge
)

func acctMember(id int64) string  { return ledger.AcctMember(id) }
func acctFund(name string) string { return ledger.AcctFund(name) }

// Idempotency scopes (see store/payments).
const (
	staffScope = payments.StaffScope
	workScope  = payments.WorkScope
)

func memberScope(id int64) string { return payments.MemberScope(id) }

// keyScope is the idempotency scope of what p asks for: staff's, or the member's own.
func keyScope(p principal) string {
	if p.admin {
		return staffScope
	}
	return memberScope(p.memberID)
}

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
type Payment = payments.Payment

// keyShownTo says whether the reader may see the payment's idempotency key: a key is
// the client's own text, shown to that client and staff. A work item's key is the
// service's ("work-<id>", no more than its workId) and shown to everyone.
func keyShownTo(p *Payment, reader principal) bool {
	return reader.admin || p.Scope == workScope || p.Scope == memberScope(reader.memberID)
}

// splitOf computes the fee split of the payment under the policy.
func splitOf(pol *policy.Policy, req paymentRequest) (ledger.Split, error) {
	split, err := ledger.Compute(pol.FeeSplit, req.AmountCents, req.SurgeCents)
	if err != nil {
		return ledger.Split{}, badField("amountCents", err.Error())
	}
	if split.Sum() != req.AmountCents {
		return ledger.Split{}, fmt.Errorf("split does not add up: %+v", split)
	}
	return split, nil
}

// validKey says whether an Idempotency-Key header is one the service keeps: 1 to 200
// characters of text (storable).
func validKey(key string) bool {
	return key != "" && storable(key) && utf8.RuneCountInString(key) <= 200
}

// storable says whether s is text PostgreSQL's text holds: UTF-8 without NUL.
func storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

func keyReused() error {
	return conflict("Idempotency-Key", "this key was used for a different payment")
}

// recordPayment records a payment requested through the API on db (the pool, where the
// statement is its own transaction, or the transaction that locks its work item) in one
// statement: the parties' check, the idempotency check and the rows (store
// payments.Record). It answers whether it created the payment.
func (s *Server) recordPayment(ctx context.Context, db store.DBTX, pol *policy.Policy, scope, key string, req paymentRequest) (*Payment, bool, error) {
	split, err := splitOf(pol, req)
	if err != nil {
		return nil, false, err
	}
	p, outcome, err := payments.On(db).Record(ctx, scope, key, req.hash(), payments.New{WorkID: req.WorkID, PayerID: req.PayerID,
		WorkerID: req.WorkerID, AmountCents: req.AmountCents, SurgeCents: req.SurgeCents}, split)
	switch {
	case errors.Is(err, payments.ErrKeyReused):
		return nil, false, keyReused()
	case err != nil:
		return nil, false, err
	case outcome == payments.NoWorker:
		return nil, false, refNotFound("workerId", "worker")
	case outcome == payments.NoPayer:
		// An erased member is no party to a new payment staff record, nor to one of their
		// own sent while their erasure was under way: a retry, after the erasure, of a
		// payment made before it (whose key the erasure replaced, as it may name them) must
		// not pay again. (Work's own payments, under keys erasure keeps, still pay: its
		// completion must not be stuck.)
		if ok, err := members.On(db).Exists(ctx, *req.PayerID); err != nil {
			return nil, false, err
		} else if ok {
			return nil, false, conflict("payerId", "the payer's data was erased: no new payment names them (a payment made before the erasure keeps its id)")
		}
		return nil, false, refNotFound("payerId", "member")
	}
	return &p, outcome == payments.Created, nil
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
//     (on behalf of its customer) or, without workId, to a worker directly; with surge
//     only inside a surge window of the fare rule in force (staffSurgeAllowed).
func (s *Server) createPayment(r *http.Request, p principal) (int, any, error) {
	if err := requireActiveMember(p); err != nil {
		return 0, nil, err
	}
	pol, err := s.currentPolicy()
	if err != nil {
		return 0, nil, err
	}
	key := r.Header.Get("Idempotency-Key")
	if !validKey(key) || strings.HasPrefix(key, "work-") {
		return 0, nil, badField("Idempotency-Key", "header is required (1 to 200 characters of UTF-8 text, not starting with work-)")
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
		if err := staffMayMove(pol, "amountCents", req.AmountCents, "record payments", ""); err != nil {
			return 0, nil, err
		}
		if in.WorkID == nil && in.WorkerID == nil {
			return 0, nil, badField("workerId", "must be a positive integer id")
		}
		if req.SurgeCents != 0 {
			// A replay is not checked against the surge window of the moment: Record answers
			// it with the stored payment (or 409 for another body), whatever the clock says.
			replay, err := payments.On(s.pool).Recorded(r.Context(), staffScope, key)
			if err != nil {
				return 0, nil, err
			}
			if !replay {
				if err := s.staffSurgeAllowed(r.Context(), in.WorkID != nil, req); err != nil {
					return 0, nil, err
				}
			}
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
	scope := keyScope(p)
	var pay *Payment
	var created bool
	if in.WorkID == nil {
		// A payment to a worker directly: one statement, its own transaction.
		req.WorkerID = *in.WorkerID
		if req.PayerID != nil && *req.PayerID == req.WorkerID {
			return 0, nil, badField("workerId", "cannot pay yourself")
		}
		pay, created, err = s.recordPayment(r.Context(), s.pool, pol, scope, key, req)
	} else {
		err = pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
			if err := s.paymentForWork(r.Context(), tx, p, scope, key, *in.WorkID, in.WorkerID, &req); err != nil {
				return err
			}
			if req.PayerID != nil && *req.PayerID == req.WorkerID {
				return badField("workerId", "cannot pay yourself")
			}
			pay, created, err = s.recordPayment(r.Context(), tx, pol, scope, key, req)
			return err
		})
	}
	if errors.Is(err, payments.ErrKeyTaken) {
		// A concurrent request with the same key recorded it first: answer as a replay.
		var stored Payment
		stored, err = payments.On(s.pool).Lookup(r.Context(), scope, key, req.hash())
		if errors.Is(err, payments.ErrKeyReused) {
			err = keyReused()
		}
		pay, created = &stored, false
	}
	if err != nil {
		return 0, nil, err
	}
	if created {
		s.countPayment(pay.Split, "payment")
	}
	return http.StatusCreated, pay, nil
}

// staffSurgeAllowed checks the surge of a payment staff record. Surge carries no fee and
// no fund share, and only the co-op's fare rule sets one, as for a request's price: a
// payment for work carries none (its surge is part of the work's agreed price, paid at
// its completion); a payment to a worker directly carries one only inside a surge window
// of the fare rule in force, at most what that window adds to the amount (amountCents ×
// p / (100 + p) for a window of p percent). 400 naming surgeCents otherwise.
func (s *Server) staffSurgeAllowed(ctx context.Context, forWork bool, req paymentRequest) error {
	if forWork {
		return badField("surgeCents", "must be 0: surge is part of the work's agreed price")
	}
	f, _, err := s.fareRule(ctx, s.pool)
	if err != nil {
		return err
	}
	var pct int64
	if f != nil {
		pct = f.SurgePercent(s.clock())
	}
	if pct == 0 {
		return badField("surgeCents", "must be 0 outside a surge window of the fare rule in force: surge carries no fee and no fund share, and only the co-op's fare rule sets one")
	}
	if limit := req.AmountCents * pct / (100 + pct); req.SurgeCents > limit {
		return badField("surgeCents", fmt.Sprintf("must be at most %d cents: the surge window in force adds %d%%, so at most amountCents × %d / %d", limit, pct, pct, 100+pct))
	}
	return nil
}

// staffMayMove is the one rule for the money staff (the admin token) move on their own:
// a payment they record, work they complete for its worker, the milestones they accept
// for its client (judged by the whole project's price), a payment they refund. Each moves
// at most the policy's
// payments.staffLimitCents (none when the policy sets none); a larger one is the
// members' to move (others says who). Moving nothing (work without a price) needs no
// limit. It answers 403 naming field.
func staffMayMove(pol *policy.Policy, field string, cents int64, what, others string) error {
	if withinStaffLimit(pol, cents) {
		return nil
	}
	limit := pol.Payments.StaffLimitCents
	msg := fmt.Sprintf("staff %s of at most %d cents (the policy's payments.staffLimitCents); this one is %d cents", what, limit, cents)
	if limit == 0 {
		msg = fmt.Sprintf("staff %s of no amount: the policy sets no payments.staffLimitCents; this one is %d cents", what, cents)
	}
	if others != "" {
		msg += ": " + others
	}
	return &apiError{status: http.StatusForbidden, field: field, message: msg}
}

// withinStaffLimit says whether staff may move cents on their own (staffMayMove's rule).
func withinStaffLimit(pol *policy.Policy, cents int64) bool {
	limit := pol.Payments.StaffLimitCents
	return cents <= 0 || (limit > 0 && cents <= limit)
}

// paymentForWork checks a payment for the work item id against the rule (see
// createPayment) inside tx and fills in req's work, worker and payer. The work item stays
// locked until tx ends, so that two payments cannot both fit the same remaining amount. A
// replay of a recorded key skips the amount check: recordPayment answers it.
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
	replay, paid, err := payments.On(tx).PaidForWork(ctx, w.ID, scope, key)
	if err != nil {
		return err
	}
	if !replay && paid+req.AmountCents > w.PriceCents {
		return badField("amountCents", fmt.Sprintf("payments for this work add up to at most its agreed price, %d cents; %d cents are left", w.PriceCents, w.PriceCents-paid))
	}
	return nil
}

func (s *Server) loadPayment(ctx context.Context, id int64) (Payment, error) {
	p, err := payments.On(s.pool).Get(ctx, id)
	return p, asNotFound(err, "payment")
}

// seesPayment is who sees a payment: its payer, its worker and staff; to anyone else it
// does not exist (everyone reads the totals in /v1/reports/funds).
func seesPayment(p principal, pay Payment) bool {
	return p.admin || pay.WorkerID == p.memberID || (pay.PayerID != nil && *pay.PayerID == p.memberID)
}

// paymentSeenBy reads the payment the request's path names, if p sees it (seesPayment);
// to anyone else it does not exist (404).
func (s *Server) paymentSeenBy(r *http.Request, p principal) (Payment, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return Payment{}, err
	}
	// A refund the members decide is part of what a payment says (refunded, or its request
	// pending or decided): its vote closes first if its deadline passed, so that the
	// payment is right between the closer's ticks too.
	if err := s.settleStaleRefund(r.Context(), id); err != nil {
		return Payment{}, err
	}
	pay, err := s.loadPayment(r.Context(), id)
	if err != nil {
		return Payment{}, err
	}
	if !seesPayment(p, pay) {
		return Payment{}, notFound("payment")
	}
	return pay, nil
}

// getPayment shows a payment with its fee breakdown to its payer, its worker and staff;
// to anyone else it does not exist (everyone reads the totals in /v1/reports/funds). Its
// idempotency key only to the client who chose it and staff.
func (s *Server) getPayment(r *http.Request, p principal) (int, any, error) {
	pay, err := s.paymentSeenBy(r, p)
	if err != nil {
		return 0, nil, err
	}
	if !keyShownTo(&pay, p) {
		pay.IdempotencyKey = ""
	}
	return http.StatusOK, pay, nil
}

// refundPayment reverses every entry of the payment in a new transaction. A refund takes
// back what the payment gave its worker, so it is the worker's to give, whatever its
// size; staff refund one of at most the policy's payments.staffLimitCents (staffMayMove).
// Above it, and whenever its payer asks, the members decide: the request, with its
// reason, opens a proposal (202; see settleRefund). Anyone else does not see the payment
// (404).
func (s *Server) refundPayment(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	if err := requireActiveMember(p); err != nil {
		return 0, nil, err
	}
	pol, err := s.currentPolicy()
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Reason            string `json:"reason"`
		VotingPeriodHours *int64 `json:"votingPeriodHours"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
	}
	// Whether the member sees the payment, read without a lock first: a payment that is
	// not theirs is not locked (an erasure of its parties, which takes it without
	// waiting, would be refused meanwhile), nor its stale vote settled, for them.
	if seen, err := s.loadPayment(r.Context(), id); err != nil {
		return 0, nil, asNotFound(err, "payment")
	} else if !seesPayment(p, seen) {
		return 0, nil, notFound("payment")
	}
	if err := s.settleStaleRefund(r.Context(), id); err != nil {
		return 0, nil, err
	}
	var pay Payment
	var asked *RefundRequest
	err = s.memberTx(r.Context(), p, func(tx pgx.Tx) error {
		q := payments.On(tx)
		locked, err := q.LockForRefund(r.Context(), id)
		if err != nil {
			return asNotFound(err, "payment")
		}
		if !seesPayment(p, locked) {
			return notFound("payment") // as getPayment: another member's payment does not exist for them
		}
		payer := locked.PayerID != nil && *locked.PayerID == p.memberID
		if locked.RefundTxID != nil {
			return conflict("", "this payment has already been refunded")
		}
		// Its payer (never its worker: nobody pays themselves), and staff above their
		// limit, put it to the vote.
		vote := payer || (p.admin && !withinStaffLimit(pol, locked.GrossCents))
		if !vote {
			field := "reason"
			if in.Reason == "" {
				field = "votingPeriodHours"
			}
			if in.Reason != "" || in.VotingPeriodHours != nil {
				return badField(field, "is for a refund put to the vote (its payer's, or staff's above payments.staffLimitCents); the worker it paid, or staff within their limit, refund it at once")
			}
			by := payments.RefundedByWorker
			if p.admin {
				by = payments.RefundedByStaff
			}
			pay, err = refundLocked(r.Context(), tx, locked, by)
			return err
		}
		rr, err := s.askRefund(r.Context(), tx, pol, p, locked, in.Reason, in.VotingPeriodHours)
		asked = &rr
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	if asked != nil {
		return http.StatusAccepted, asked, nil
	}
	s.countPayment(pay.Split, "refund")
	return http.StatusOK, pay, nil
}

// listRefundRequests shows a payment's refund requests, newest first (what each became,
// with why when it failed), to those who see the payment: its payer, its worker, staff.
func (s *Server) listRefundRequests(r *http.Request, p principal) (int, any, error) {
	pay, err := s.paymentSeenBy(r, p)
	if err != nil {
		return 0, nil, err
	}
	rs, err := payments.On(s.pool).RefundRequests(r.Context(), pay.ID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"paymentId": pay.ID, "refundRequests": rs}, nil
}

// RefundRequest is a refund the members decide.
type RefundRequest = payments.RefundRequest

// askRefund puts the refund of the locked payment to the vote: a motion under the rules,
// electorate and deadline of any proposal (see createProposal), and the pending request
// the proposal's close settles (settleRefund). One request at a time per payment.
func (s *Server) askRefund(ctx context.Context, tx pgx.Tx, pol *policy.Policy, p principal, pay Payment, reason string, votingHours *int64) (RefundRequest, error) {
	if strings.TrimSpace(reason) == "" || utf8.RuneCountInString(reason) > 1000 {
		why := "the members vote on a refund its payer asks for"
		if p.admin {
			why = fmt.Sprintf("the members vote on a refund above staff's limit of %d cents (payments.staffLimitCents)", pol.Payments.StaffLimitCents)
		}
		return RefundRequest{}, badField("reason", "is required (at most 1000 characters): "+why+", and read why")
	}
	hours := pol.Governance.MinimumVotingPeriodHours
	if votingHours != nil {
		hours = *votingHours
	}
	if hours < pol.Governance.MinimumVotingPeriodHours || hours > policy.MaxVotingPeriodHours {
		return RefundRequest{}, badField("votingPeriodHours", fmt.Sprintf("must be between the co-op's minimum of %d hours and %d hours",
			pol.Governance.MinimumVotingPeriodHours, policy.MaxVotingPeriodHours))
	}
	q := payments.On(tx)
	if rr, err := q.PendingRefund(ctx, pay.ID); err == nil {
		return RefundRequest{}, conflict("", fmt.Sprintf("a refund of this payment is already put to the vote: proposal %d", rr.ProposalID))
	} else if !errors.Is(err, store.ErrNotFound) {
		return RefundRequest{}, err
	}
	rules, err := json.Marshal(pol.Governance)
	if err != nil {
		return RefundRequest{}, err
	}
	now := s.now()
	// Every member reads the proposal: the payment, its amount and the reason, not who
	// paid it or whom it paid (the proposal names no author).
	asker := "its payer"
	if p.admin {
		asker = "staff, above their limit"
	}
	pr, err := proposals.On(tx).Open(ctx, proposals.New{
		Title: fmt.Sprintf("Refund of payment %d: %d cents back to its payer", pay.ID, pay.GrossCents),
		Body: fmt.Sprintf("Refund payment %d in full: %d cents go back to whoever paid it, taken from its worker's earnings and from the fee and the funds' shares. Asked for by %s. Reason: %s",
			pay.ID, pay.GrossCents, asker, reason),
		Rules: rules, Hours: hours,
	})
	if err != nil {
		return RefundRequest{}, err
	}
	rr, err := q.RequestRefund(ctx, pay.ID, actor(p), reason, pr.ID, now)
	if errors.Is(err, payments.ErrRefundPending) {
		return rr, conflict("", "a refund of this payment is already put to the vote")
	}
	return rr, err
}

// settleStaleRefund settles, in a transaction of its own, the pending refund request of
// payment whose vote is over: its proposal past its deadline is closed (at its deadline,
// which settles the request), and one that closed without settling it (a replica of the
// version before closed it, during a rolling update) is settled as its vote said. A
// request must not hold its payment's refunds back for ever, nor say "pending" after
// its vote ended; only this payment's vote is touched.
func (s *Server) settleStaleRefund(ctx context.Context, payment int64) error {
	// Most payments have no request pending: one query, outside a transaction, says so
	// (every read of a payment asks).
	if _, err := payments.On(s.pool).PendingRefund(ctx, payment); errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rr, err := payments.On(tx).PendingRefund(ctx, payment)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		// Its vote past its deadline closes now, at its deadline, as the closer would: the
		// close settles the request (settleRefund). The closer closing it meanwhile holds it:
		// its close settles the request.
		q := proposals.On(tx)
		if err := q.LockDue(ctx, rr.ProposalID); err == nil {
			return s.closeInTx(ctx, tx, rr.ProposalID)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		pr, err := q.Get(ctx, rr.ProposalID)
		if err != nil || pr.Status == "open" {
			return err
		}
		at := s.now()
		if pr.ClosedAt != nil {
			at = *pr.ClosedAt
		}
		return s.settleRefund(ctx, tx, rr.ProposalID, pr.Result != nil && pr.Result.Passed, at)
	})
}

// refundLocked refunds the payment the caller locked in tx (not refunded yet): every
// entry reversed in a new ledger transaction, once the funds it takes money back from
// hold it (refundFromFunds: 409 otherwise, nothing written), by whom it says.
func refundLocked(ctx context.Context, tx pgx.Tx, pay Payment, by string) (Payment, error) {
	q := payments.On(tx)
	es, err := q.Entries(ctx, pay.TransactionID)
	if err != nil {
		return Payment{}, err
	}
	for i := range es {
		es[i].AmountCents = -es[i].AmountCents
	}
	if err := refundFromFunds(ctx, tx, es); err != nil {
		return Payment{}, err
	}
	rid, err := q.PostTransaction(ctx, "refund", es)
	if err != nil {
		return Payment{}, err
	}
	return q.MarkRefunded(ctx, pay.ID, rid, by)
}

// settleRefund decides the refund request the proposal id approves, if any, when the
// proposal closes (inside its transaction): refunded if it passed and the payment can
// still be refunded, failed if it was refunded meanwhile or a fund no longer holds its
// share, rejected if the proposal did not pass.
func (s *Server) settleRefund(ctx context.Context, tx pgx.Tx, id int64, passed bool, at time.Time) error {
	q := payments.On(tx)
	rr, err := q.RefundForProposal(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil || rr.Status != payments.RefundPending {
		return err
	}
	status, message := payments.RefundRejected, "the proposal did not pass"
	var done *Payment
	if passed {
		pay, err := q.LockForRefund(ctx, rr.PaymentID)
		if err != nil {
			return err
		}
		status, message = payments.RefundFailed, "the proposal passed, but the payment was refunded meanwhile"
		if pay.RefundTxID == nil {
			// Nothing is written when the funds do not hold their share: the close goes on.
			refunded, err := refundLocked(ctx, tx, pay, payments.RefundedByVote)
			var ae *apiError
			switch {
			case errors.As(err, &ae):
				message = "the proposal passed, but " + ae.message
			case err != nil:
				return err
			default:
				status, message, done = payments.RefundDone, "", &refunded
			}
		}
	}
	if _, err := q.DecideRefund(ctx, rr.ID, status, message, at); err != nil {
		return err
	}
	if done != nil {
		s.countPayment(done.Split, "refund")
	}
	return nil
}

// refundFromFunds locks the funds a refund takes money back from (in name order, so two
// refunds never wait on each other crosswise) and refuses one a fund no longer holds,
// having disbursed it: a fund never goes below zero.
func refundFromFunds(ctx context.Context, tx pgx.Tx, es []ledger.Entry) error {
	take := map[string]int64{}
	for _, e := range es {
		if name, ok := strings.CutPrefix(e.Account, "fund:"); ok && e.AmountCents < 0 {
			take[name] -= e.AmountCents
		}
	}
	q := funds.On(tx)
	for _, name := range slices.Sorted(maps.Keys(take)) {
		if err := q.Lock(ctx, name); err != nil {
			return err
		}
		balance, err := q.Balance(ctx, name)
		if err != nil {
			return err
		}
		if take[name] > balance {
			return conflict("id", fmt.Sprintf("the refund takes %d cents back from the %s fund, which holds %d cents after its disbursements: a fund cannot go below zero", take[name], name, balance))
		}
	}
	return nil
}

// reportAccount is an account of the funds' report: a fund's says whether it is a former
// fund (no longer in the policy: renamed or removed by the members; what it holds may
// still be paid out, see payableFrom).
type reportAccount struct {
	Account      string `json:"account"`
	BalanceCents int64  `json:"balanceCents"`
	Former       bool   `json:"former,omitempty"`
}

// fundReport shows every co-op account's balance, what the workers were paid, what the
// co-op received, and the ledger's total (always 0), from one pass over the ledger; the
// balances and what the funds paid out are read in one snapshot (readSnapshot), so a
// disbursement paid meanwhile is in both or in neither.
func (s *Server) fundReport(r *http.Request, p principal) (int, any, error) {
	if err := requireActiveMember(p); err != nil {
		return 0, nil, err
	}
	var all []payments.Balance
	var disbursed, toMembers int64
	err := s.readSnapshot(r.Context(), func(tx pgx.Tx) error {
		// The members' accounts are summed together; every other account on its own.
		var err error
		if all, err = payments.On(tx).Balances(r.Context()); err != nil {
			return err
		}
		// Disbursements to members are in their accounts, but they are not pay for work.
		disbursed, toMembers, err = funds.On(tx).Totals(r.Context())
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	pol := s.policy.Current()
	bals := []reportAccount{}
	var total, workers, received int64
	for _, b := range all {
		total += b.BalanceCents
		fund, isFund := strings.CutPrefix(b.Account, "fund:")
		switch {
		case b.Account == "member:":
			workers = b.BalanceCents
		case b.Account == acctPayer:
			received = -b.BalanceCents
		case isFund || strings.HasPrefix(b.Account, "coop:"):
			bals = append(bals, reportAccount{Account: b.Account, BalanceCents: b.BalanceCents, Former: isFund && !policyFund(pol, fund)})
		}
	}
	// Policy funds with nothing yet show as 0.
	if pol != nil {
		for _, f := range pol.FeeSplit.Funds {
			if !slices.ContainsFunc(bals, func(b reportAccount) bool { return b.Account == acctFund(f.Name) }) {
				bals = append(bals, reportAccount{Account: acctFund(f.Name)})
			}
		}
	}
	return http.StatusOK, map[string]any{"accounts": bals, "paidToWorkersCents": workers - toMembers, "receivedCents": received,
		"disbursedCents": disbursed, "ledgerTotalCents": total}, nil
}

// memberEarnings shows what a member earned, entry by entry, to the member and staff.
// Every member reads the totals of all workers in /v1/reports/funds.
func (s *Server) memberEarnings(r *http.Request, p principal) (int, any, error) {
	id, err := selfOrAdminPath(r, p)
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.loadMember(r.Context(), id); err != nil {
		return 0, nil, err
	}
	es, err := payments.On(s.pool).Earnings(r.Context(), acctMember(id))
	if err != nil {
		return 0, nil, err
	}
	// A fund's payout (a disbursement) is in the member's account, but it is not pay for
	// work, as in /v1/reports/funds: it counts apart.
	var earned, payouts int64
	for _, e := range es {
		if e.Kind == funds.TxDisbursement {
			payouts += e.AmountCents
		} else {
			earned += e.AmountCents
		}
	}
	return http.StatusOK, map[string]any{"memberId": id, "earnedCents": earned, "payoutCents": payouts, "entries": es}, nil
}
