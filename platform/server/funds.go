package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/ledger"
	"github.com/cooperator-dev/cooperator/platform/server/store"
	"github.com/cooperator-dev/cooperator/platform/server/store/funds"
	"github.com/cooperator-dev/cooperator/platform/server/store/proposals"
)

// Disbursement is money a fund pays out.
type Disbursement = funds.Disbursement

// createDisbursement spends money from a fund, to a member or to an outside payee. Staff
// pay at once up to the policy's payments.staffDisbursementLimitCents; above it, or when
// a member asks, the request opens a proposal (a motion) that approves it, and it is paid
// when that proposal closes passed. Either way the fund cannot go below zero: the fund is
// locked while its balance is read and the disbursement written (see funds.Store.Lock).
// It is asked with an idempotency key, as a payment is: the same request again (its
// answer lost) answers the disbursement it made, whatever the fund or the rules say now;
// another request with the key is refused (409).
func (s *Server) createDisbursement(r *http.Request, p principal) (int, any, error) {
	pol, err := s.activeMemberPolicy(p)
	if err != nil {
		return 0, nil, err
	}
	key := r.Header.Get("Idempotency-Key")
	if !validKey(key) {
		return 0, nil, badField("Idempotency-Key", "header is required (1 to 200 characters of UTF-8 text): the same request with the same key answers the disbursement it made, never a second one")
	}
	var in struct {
		Fund              string  `json:"fund"`
		AmountCents       *int64  `json:"amountCents"`
		MemberID          *int64  `json:"memberId"`
		Payee             *string `json:"payee"`
		Reason            string  `json:"reason"`
		VotingPeriodHours *int64  `json:"votingPeriodHours"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	canonical, err := json.Marshal(in)
	if err != nil {
		return 0, nil, err
	}
	hash := sha256.Sum256(canonical)
	k := funds.Key{Scope: keyScope(p), Key: key, Hash: hash[:]}
	if d, replay, err := replayOn(r.Context(), funds.On(s.pool), k, Disbursement{}); err != nil || replay {
		return http.StatusCreated, d, err
	}
	if err := payableFrom(r.Context(), funds.On(s.pool), pol, in.Fund); err != nil {
		return 0, nil, err
	}
	if in.AmountCents == nil || *in.AmountCents <= 0 || *in.AmountCents > ledger.MaxAmountCents {
		return 0, nil, badField("amountCents", "must be a positive integer")
	}
	if (in.MemberID == nil) == (in.Payee == nil) {
		return 0, nil, badField("memberId", "give either memberId (a member) or payee (an outside payee's name), not both")
	}
	if in.MemberID != nil && *in.MemberID <= 0 {
		return 0, nil, badField("memberId", "must be a positive integer id")
	}
	if in.Payee != nil && (strings.TrimSpace(*in.Payee) == "" || utf8.RuneCountInString(*in.Payee) > 200) {
		return 0, nil, badField("payee", "must be 1 to 200 characters")
	}
	if strings.TrimSpace(in.Reason) == "" || utf8.RuneCountInString(in.Reason) > 1000 {
		return 0, nil, badField("reason", "is required (at most 1000 characters)")
	}
	amount := *in.AmountCents
	byStaff := p.admin && amount <= pol.Payments.StaffDisbursementLimitCents
	if byStaff && in.VotingPeriodHours != nil {
		return 0, nil, badField("votingPeriodHours", "a disbursement staff make within their limit is not voted on")
	}
	hours := pol.Governance.MinimumVotingPeriodHours
	if in.VotingPeriodHours != nil {
		hours = *in.VotingPeriodHours
	}
	if hours < pol.Governance.MinimumVotingPeriodHours || hours > policy.MaxVotingPeriodHours {
		return 0, nil, badField("votingPeriodHours", fmt.Sprintf("must be between the co-op's minimum of %d hours and %d hours",
			pol.Governance.MinimumVotingPeriodHours, policy.MaxVotingPeriodHours))
	}
	d := Disbursement{Fund: in.Fund, AmountCents: amount, MemberID: in.MemberID, Payee: in.Payee, Reason: in.Reason, RequestedBy: actor(p)}
	// What can be checked without the member it pays comes first, so that the order of
	// the refusals tells no one which ids are members': the fund holds the amount (read
	// again under the fund's lock below).
	if err := fundCovers(r.Context(), funds.On(s.pool), d.Fund, amount); err != nil {
		return 0, nil, err
	}
	now := s.now()
	var replayed bool
	err = s.memberTx(r.Context(), p, func(tx pgx.Tx) error {
		// The member rows (the requester's, by memberTx, and the beneficiary's) before the
		// fund's lock: member rows come before any other (members.LockActive).
		if d.MemberID != nil {
			if err := activeMemberRefBy(r.Context(), tx, p, "memberId", *d.MemberID); err != nil {
				return err
			}
		}
		q := funds.On(tx)
		if err := q.Lock(r.Context(), d.Fund); err != nil {
			return err
		}
		// A request with the same key (the fund is part of what it hashes) that held the
		// fund's lock first and committed is this one's answer, not a refusal of a second
		// payment the fund no longer covers.
		var err error
		if d, replayed, err = replayOn(r.Context(), q, k, d); err != nil || replayed {
			return err
		}
		if err := fundCovers(r.Context(), q, d.Fund, amount); err != nil {
			return err
		}
		if byStaff {
			d.Approval, d.Status = funds.ByStaff, funds.Paid
		} else {
			pr, err := s.openDisbursementProposal(r.Context(), tx, pol, d, hours)
			if err != nil {
				return err
			}
			d.Approval, d.Status, d.ProposalID = funds.ByProposal, funds.Pending, &pr.ID
		}
		d, err = q.Create(r.Context(), d, now, k)
		return err
	})
	if errors.Is(err, store.ErrKeyTaken) {
		// A concurrent request with the same key recorded it first: answer as a replay.
		if d, replayed, err = replayOn(r.Context(), funds.On(s.pool), k, d); err == nil && !replayed {
			err = errors.New("a disbursement's key was taken, and then not found")
		}
	}
	if err != nil {
		return 0, nil, err
	}
	if d.Status == funds.Paid && !replayed {
		s.metrics.amounts.WithLabelValues(d.Fund, "disbursement").Add(float64(d.AmountCents))
	}
	return http.StatusCreated, d, nil
}

// policyFund says whether name is one of the funds of the policy pol (nil: none).
func policyFund(pol *policy.Policy, name string) bool {
	return pol != nil && slices.ContainsFunc(pol.FeeSplit.Funds, func(f policy.Fund) bool { return f.Name == name })
}

// payableFrom refuses a disbursement from a fund it may not be asked from (naming fund):
// it may be asked from one of the policy's funds, and from a former fund (one the
// members renamed or removed, no longer in the policy, its account in the ledger) while
// that still holds money: what it holds is not stranded, and is paid out as the members
// decide, as any fund's (409 once it holds nothing).
func payableFrom(ctx context.Context, q funds.Store, pol *policy.Policy, name string) error {
	if policyFund(pol, name) {
		return nil
	}
	if storable(name) {
		former, err := q.Exists(ctx, name)
		if err != nil {
			return err
		}
		if former {
			balance, err := q.Balance(ctx, name)
			if err != nil || balance > 0 {
				return err
			}
			return conflict("fund", fmt.Sprintf("the fund %s is no longer one of the policy's, and holds nothing left to pay out", name))
		}
	}
	names := make([]string, 0, len(pol.FeeSplit.Funds))
	for _, f := range pol.FeeSplit.Funds {
		names = append(names, f.Name)
	}
	return badField("fund", "must be one of the policy's funds: "+strings.Join(names, ", ")+" (or a former fund that still holds money)")
}

// replayOn answers a request whose key was used before, read on q: the disbursement the
// key made when the request is the same (replay), 409 naming Idempotency-Key when it is
// another; d, and neither, when the key is new.
func replayOn(ctx context.Context, q funds.Store, k funds.Key, d Disbursement) (Disbursement, bool, error) {
	stored, hash, err := q.ByKey(ctx, k.Scope, k.Key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return d, false, nil
	case err != nil:
		return d, false, err
	case !bytes.Equal(hash, k.Hash):
		return d, false, conflict("Idempotency-Key", "this key was used for a different disbursement")
	}
	return stored, true, nil
}

// fundCovers refuses (409 naming amountCents) an amount the fund does not hold. The
// caller holds the fund's lock.
func fundCovers(ctx context.Context, q funds.Store, fund string, amount int64) error {
	balance, err := q.Balance(ctx, fund)
	if err != nil {
		return err
	}
	if amount > balance {
		return conflict("amountCents", fmt.Sprintf("the fund %s holds %d cents: a disbursement cannot take it below zero", fund, balance))
	}
	return nil
}

// openDisbursementProposal opens the motion whose vote approves d, under the rules and
// with the electorate of any proposal (see createProposal).
func (s *Server) openDisbursementProposal(ctx context.Context, tx pgx.Tx, pol *policy.Policy, d Disbursement, hours int64) (Proposal, error) {
	rules, err := json.Marshal(pol.Governance)
	if err != nil {
		return Proposal{}, err
	}
	// Every member reads the proposal: it names neither the member it would pay nor who
	// asked (as a disbursement itself is read only by them and staff), only an outside
	// payee; the reason is the asker's, written to be voted on.
	to := "a member"
	if d.Payee != nil {
		to = "an outside payee, " + *d.Payee
	}
	return proposals.On(tx).Open(ctx, proposals.New{
		Title: fmt.Sprintf("Disbursement of %d cents from the %s fund", d.AmountCents, d.Fund),
		Body:  fmt.Sprintf("Pay %d cents from the %s fund to %s. Reason: %s", d.AmountCents, d.Fund, to, d.Reason),
		Rules: rules, Hours: hours,
	})
}

// settleDisbursement decides the disbursement the proposal id approves, if any, when the
// proposal closes (inside its transaction): paid if it passed and the fund still holds
// the amount, failed if it does not, rejected if the proposal did not pass.
func (s *Server) settleDisbursement(ctx context.Context, tx pgx.Tx, id int64, passed bool, at time.Time) error {
	q := funds.On(tx)
	d, err := q.ForProposal(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil || d.Status != funds.Pending {
		return err
	}
	status, message := funds.Rejected, "the proposal did not pass"
	if passed {
		if err := q.Lock(ctx, d.Fund); err != nil {
			return err
		}
		status, message = funds.Paid, ""
		var ae *apiError
		if err := fundCovers(ctx, q, d.Fund, d.AmountCents); errors.As(err, &ae) {
			status, message = funds.Failed, "the proposal passed, but "+ae.message
		} else if err != nil {
			return err
		}
	}
	d, err = q.Decide(ctx, d, status, message, at)
	if err == nil && d.Status == funds.Paid {
		s.metrics.amounts.WithLabelValues(d.Fund, "disbursement").Add(float64(d.AmountCents))
	}
	return err
}

// getDisbursement shows a disbursement to staff, to whoever asked for it and to the
// member it pays; to anyone else it does not exist (every member reads what the funds
// paid out by the month, and the amount of one put to the vote in its proposal).
func (s *Server) getDisbursement(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	d, err := funds.On(s.pool).Get(r.Context(), id)
	if err != nil {
		return 0, nil, asNotFound(err, "disbursement")
	}
	mine := func(id *int64) bool { return id != nil && *id == p.memberID }
	if !p.admin && !mine(d.RequestedBy) && !mine(d.MemberID) {
		return 0, nil, notFound("disbursement")
	}
	return http.StatusOK, d, nil
}

// fundHistory shows every active member a fund's balance and what it took in and paid
// out month by month (of the co-op's calendar), newest first: aggregates, which name no
// payment, disbursement or member and no time within a month, so that no member reads
// another's payment or payout one by one from them (the fund's share of a payment tells
// its gross). Staff read the movements one by one (fundMovements). A page holds at most
// limit months, those before the month before; nextBefore is the next page's. The
// balance and the page are read in one snapshot (readSnapshot).
func (s *Server) fundHistory(r *http.Request, p principal) (int, any, error) {
	if err := requireActiveMember(p); err != nil {
		return 0, nil, err
	}
	name := r.PathValue("name")
	limit, err := queryLimit(r, 24, 120)
	if err != nil {
		return 0, nil, err
	}
	before := r.URL.Query().Get("before")
	if _, err := time.Parse("2006-01", before); before != "" && (err != nil || len(before) != len("2006-01")) {
		return 0, nil, badField("before", "must be a month, YYYY-MM")
	}
	var balance int64
	var ms []funds.Month
	var more bool
	err = s.readFund(r.Context(), name, func(q funds.Store) (err error) {
		if balance, err = q.Balance(r.Context(), name); err != nil {
			return err
		}
		ms, more, err = q.Months(r.Context(), name, s.location(), before, limit)
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	out := map[string]any{"fund": name, "balanceCents": balance, "months": ms}
	if more {
		out["nextBefore"] = ms[len(ms)-1].Month
	}
	return http.StatusOK, out, nil
}

// fundMovements shows staff (the admin token or an active member with the staff role, as
// the treasurer's exports) a fund's balance and its movements, newest first: payments in,
// refunds and disbursements out (ids, kinds, amounts, times, the balance after each). Any
// other member is refused (403): a movement is one member's payment or payout. A page
// holds at most limit movements, those of ledger transactions before the id before;
// nextBefore is the next page's. The balance and the page are read in one snapshot.
func (s *Server) fundMovements(r *http.Request, p principal) (int, any, error) {
	if !isStaff(p) {
		return 0, nil, forbidden("a fund's movements one by one are read by staff: the admin token or a member with the staff role; members read its months (GET /v1/funds/{name})")
	}
	name := r.PathValue("name")
	limit, err := queryLimit(r, 50, 500)
	if err != nil {
		return 0, nil, err
	}
	before := int64(0)
	if v := r.URL.Query().Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return 0, nil, badField("before", "must be a positive transaction id")
		}
		before = n
	}
	var balance int64
	var es []funds.HistoryEntry
	err = s.readFund(r.Context(), name, func(q funds.Store) (err error) {
		if balance, err = q.Balance(r.Context(), name); err != nil {
			return err
		}
		es, err = q.History(r.Context(), name, before, limit)
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	out := map[string]any{"fund": name, "balanceCents": balance, "entries": es}
	if len(es) == limit {
		out["nextBefore"] = es[len(es)-1].TransactionID
	}
	return http.StatusOK, out, nil
}

// queryLimit reads the query's limit, an integer from 1 to maximum (def when absent).
func queryLimit(r *http.Request, def, maximum int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maximum {
		return 0, badField("limit", fmt.Sprintf("must be an integer from 1 to %d", maximum))
	}
	return n, nil
}

// readFund runs read on the funds' store in one snapshot (readSnapshot) once it knows the
// fund name: one of the policy's, or a former fund whose account has entries; 404
// otherwise.
func (s *Server) readFund(ctx context.Context, name string, read func(q funds.Store) error) error {
	if !storable(name) {
		return notFound("fund") // no fund's name: PostgreSQL's text holds none such
	}
	known := policyFund(s.policy.Current(), name)
	return s.readSnapshot(ctx, func(tx pgx.Tx) error {
		q := funds.On(tx)
		if !known {
			ok, err := q.Exists(ctx, name)
			if err != nil {
				return err
			}
			if !ok {
				return notFound("fund")
			}
		}
		return read(q)
	})
}
