package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/store/work"
)

// kindSpec describes one kind of work: its required and optional detail fields, and
// which of them are dates (YYYY-MM-DD) or times (RFC 3339).
type kindSpec struct {
	required, optional []string
	dates, times       []string
	// skill and language name the detail that a worker's verified skills and languages
	// must include (staff record them: PUT /v1/members/{id}/credentials).
	skill, language string
	// care: a clear, unexpired background check is needed, and the customer's team of
	// regular carers is offered the work first.
	care bool
	// shared: the work does not take its worker's time exclusively (a freelance gig, a
	// marketplace order, made alongside others): on demand, no other work makes its
	// worker busy for it, and it makes them busy for none (work.Match.Shared).
	shared bool
}

// workKinds maps each vertical to its kinds of work.
var workKinds = map[string]map[string]kindSpec{
	"delivery":     {"delivery": {required: []string{"pickup", "dropoff"}, optional: []string{"notes", "parcelSize"}}},
	"ride-sharing": {"ride": {required: []string{"pickup", "dropoff"}, optional: []string{"notes", "seats"}}},
	"home-services": {"booking": {required: []string{"address", "service", "scheduledAt"}, optional: []string{"notes", "durationMinutes"}, times: []string{"scheduledAt"},
		skill: "service"}},
	"care": {"booking": {required: []string{"address", "careType", "scheduledAt"}, optional: []string{"notes", "durationMinutes", "language"}, times: []string{"scheduledAt"},
		skill: "careType", language: "language", care: true}},
	"freelance": {"gig": {required: []string{"title", "description"}, optional: []string{"deadline", "notes"}, dates: []string{"deadline"}, shared: true}},
	"marketplace": {
		"listing": {required: []string{"title", "description"}, optional: []string{"notes"}},
		"order":   {required: []string{"listingId", "shippingAddress"}, optional: []string{"notes", "quantity"}, shared: true},
	},
	"housing": {"stay": {required: []string{"unit", "checkIn", "checkOut"}, optional: []string{"notes", "guests"}, dates: []string{"checkIn", "checkOut"}}},
}

func kindsFor(vertical string) map[string]kindSpec { return workKinds[vertical] }

// sharedKinds are the kinds of work of vertical that do not take their worker's time
// exclusively (kindSpec.shared).
func sharedKinds(vertical string) []string {
	var out []string
	for k, spec := range kindsFor(vertical) {
		if spec.shared {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func kindList(vertical string) string {
	var ks []string
	for k := range workKinds[vertical] {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

// Work states and the legal transitions between them.
const (
	stRequested  = "requested"
	stOffered    = "offered"
	stAccepted   = "accepted"
	stInProgress = "in_progress"
	stCompleted  = "completed"
	stCancelled  = "cancelled"
)

func legal(from, to string) bool { return work.Legal(from, to) }

// Work is a unit of work as the API shows it.
type Work = work.Work

// HistoryEntry is one recorded transition.
type HistoryEntry = work.HistoryEntry

type workInput struct {
	measures
	Kind       string            `json:"kind"`
	Details    map[string]string `json:"details"`
	PriceCents *int64            `json:"priceCents"`
	SurgeCents *int64            `json:"surgeCents"`
	// QuotedPriceCents, when given, is the price the requester was quoted (POST
	// /v1/quotes): a fare rule's price that differs by the time of the request is 409,
	// and nothing is written, rather than a charge the requester did not see.
	QuotedPriceCents *int64 `json:"quotedPriceCents"`
	CustomerID       *int64 `json:"customerId"`
	// Urgent work (care's emergency backup) is offered to several workers at once.
	Urgent *bool `json:"urgent"`
	// Stops are the drop-offs of a batched delivery (instead of details.dropoff).
	Stops []work.Stop `json:"stops"`
	// Milestones split a freelance project's price; each is paid on acceptance.
	Milestones []MilestoneInput `json:"milestones"`
}

const maxStops = 10

// batched says whether work of kind may be a batched delivery (stops for one courier).
func batched(kind string) bool { return kind == "delivery" }

// validateStops checks a batched delivery's stops: deliveries only, 2 to maxStops, each
// with an address; details.dropoff is then left out.
func validateStops(in *workInput) error {
	if in.Stops == nil {
		return nil
	}
	if !batched(in.Kind) {
		return badField("stops", "only deliveries have stops")
	}
	if len(in.Stops) < 2 || len(in.Stops) > maxStops {
		return badField("stops", fmt.Sprintf("a batched delivery has 2 to %d stops", maxStops))
	}
	if _, ok := in.Details["dropoff"]; ok {
		return badField("details.dropoff", "leave it out when the delivery has stops")
	}
	for i, st := range in.Stops {
		if a := strings.TrimSpace(st.Address); a == "" || utf8.RuneCountInString(a) > 1000 || strings.ContainsRune(st.Address, 0) {
			return badField(fmt.Sprintf("stops[%d].address", i), "must be 1 to 1000 characters")
		}
		if utf8.RuneCountInString(st.Notes) > 1000 || strings.ContainsRune(st.Notes, 0) {
			return badField(fmt.Sprintf("stops[%d].notes", i), "must be at most 1000 characters")
		}
	}
	return nil
}

func validateWork(vertical string, in *workInput, now time.Time) error {
	kinds := kindsFor(vertical)
	if kinds == nil {
		return &apiError{status: http.StatusServiceUnavailable, message: "the service has no vertical configured"}
	}
	spec, ok := kinds[in.Kind]
	if !ok {
		return badField("kind", fmt.Sprintf("must be one of: %s", kindList(vertical)))
	}
	if in.PriceCents == nil || *in.PriceCents <= 0 || *in.PriceCents > 1_000_000_000_000 {
		return badField("priceCents", "must be a positive integer")
	}
	if in.SurgeCents != nil && (*in.SurgeCents < 0 || *in.SurgeCents > *in.PriceCents) {
		return badField("surgeCents", "must be an integer between 0 and priceCents")
	}
	if in.Details == nil {
		return badField("details", "is required")
	}
	keys := make([]string, 0, len(in.Details))
	for k := range in.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(spec.required, k) && !slices.Contains(spec.optional, k) {
			return badField("details."+k, "unknown field for "+in.Kind)
		}
		if utf8.RuneCountInString(in.Details[k]) > 1000 {
			return badField("details."+k, "must be at most 1000 characters")
		}
	}
	for _, k := range spec.required {
		if k == "dropoff" && len(in.Stops) > 0 {
			continue
		}
		if strings.TrimSpace(in.Details[k]) == "" {
			return badField("details."+k, "is required")
		}
	}
	for _, k := range spec.dates {
		if v, ok := in.Details[k]; ok {
			d, err := time.Parse(time.DateOnly, v)
			if err != nil {
				return badField("details."+k, "must be a date like 2026-07-14")
			}
			// Within the window of every time the API stores: a stay to the year 9999
			// would hold its unit for ever.
			if _, err := requestTime("details."+k, d, now); err != nil {
				return err
			}
		}
	}
	for _, k := range spec.times {
		if v, ok := in.Details[k]; ok {
			if _, err := time.Parse(time.RFC3339, v); err != nil {
				return badField("details."+k, "must be a time like 2026-07-14T09:30:00Z")
			}
		}
	}
	if in.Kind == "stay" && in.Details["checkOut"] <= in.Details["checkIn"] {
		return badField("details.checkOut", "must be after checkIn")
	}
	return nil
}

func (s *Server) createWork(r *http.Request, p principal) (int, any, error) {
	if err := requireActiveMember(p); err != nil {
		return 0, nil, err
	}
	var in workInput
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	customer := p.memberID
	if p.admin {
		if in.CustomerID == nil || *in.CustomerID <= 0 {
			return 0, nil, badField("customerId", "is required when staff request work on a customer's behalf")
		}
		customer = *in.CustomerID
	} else {
		if in.CustomerID != nil && *in.CustomerID != p.memberID {
			return 0, nil, forbidden("members request work for themselves")
		}
		if !policy.RequestsWork(s.vertical(), p.roles) {
			return 0, nil, forbidden("only customers (and merchants in a delivery co-op) request work")
		}
	}
	if err := validateStops(&in); err != nil {
		return 0, nil, err
	}
	ord, err := s.prepareOrder(r.Context(), customer, &in)
	if err != nil {
		return 0, nil, err
	}
	fare, err := s.priceWork(r.Context(), &in)
	if err != nil {
		return 0, nil, err
	}
	if err := validateWork(s.vertical(), &in, s.now()); err != nil {
		return 0, nil, err
	}
	if in.Kind == "stay" {
		// A stay's place is stored as the guest wrote it, without the spaces around it;
		// reserve locks and compares it by the place's key (stay_place), whatever its case
		// and spacing.
		in.Details["unit"] = strings.TrimSpace(in.Details["unit"])
	}
	starts, ends, err := slotOf(s.vertical(), &in, s.now(), s.location())
	if err != nil {
		return 0, nil, err
	}
	milestones, err := validateMilestones(&in)
	if err != nil {
		return 0, nil, err
	}
	surge := int64(0)
	if in.SurgeCents != nil {
		surge = *in.SurgeCents
	}
	var w Work
	err = pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		// The customer's row first, for share: a request sent while its customer is being
		// erased waits, and is refused, rather than written after the erasure, details and
		// all.
		if !p.admin {
			if err := lockSelf(r.Context(), tx, customer); err != nil {
				return err
			}
		} else if err := activeMemberRef(r.Context(), tx, "customerId", customer); err != nil {
			return err
		}
		if err := reserve(r.Context(), tx, &in, ord); err != nil {
			return err
		}
		q := work.On(tx)
		var err error
		w, err = q.Create(r.Context(), work.New{Vertical: s.vertical(), Kind: in.Kind, CustomerID: customer, Details: in.Details,
			PriceCents: *in.PriceCents, SurgeCents: surge, Urgent: in.Urgent != nil && *in.Urgent, StartsAt: starts, EndsAt: ends, Stops: in.Stops})
		if err != nil {
			return err
		}
		if len(milestones) > 0 {
			if err := q.AddMilestones(r.Context(), w.ID, milestones); err != nil {
				return err
			}
			if w.Milestones, err = q.Milestones(r.Context(), w.ID); err != nil {
				return err
			}
		}
		return q.RecordHistory(r.Context(), w.ID, "", stRequested, actor(p), nil, "")
	})
	if err != nil {
		return 0, nil, err
	}
	w.Fare = fare
	return http.StatusCreated, w, nil
}

func actor(p principal) *int64 {
	if p.admin {
		return nil
	}
	id := p.memberID
	return &id
}

// visible is who sees a work item: its customer, its worker, a worker holding a standing
// offer of it (not one who declined it or whose offer expired or was withdrawn), and
// staff; to anyone else it does not exist. While the work is offered, the worker it names
// is the one offered it, who sees it only while that offer stands (offered, from
// work.GetFor: not past its time).
func visible(p principal, w *Work, offered bool) bool {
	worker := w.WorkerID != nil && *w.WorkerID == p.memberID && w.State != stOffered
	return p.admin || offered || w.CustomerID == p.memberID || worker
}

// readVisible reads work item id for p, 404 unless p sees it (visible). When it has an
// offer past its time, and a policy is loaded, the item is moved on first (expireWork,
// this item only) and read again: the state and worker it answers then depend on whom
// fair matching chooses next, which a read cannot derive. Whoever may not see the item
// moves nothing, except, with move, the worker whose own offer it is past its time (an
// accept or decline: judged once the work is moved on).
func (s *Server) readVisible(ctx context.Context, p principal, id int64, move bool) (Work, error) {
	q := work.On(s.pool)
	w, offer, due, err := q.GetFor(ctx, id, p.memberID, s.now())
	if err != nil {
		return Work{}, asNotFound(err, "work")
	}
	seen := visible(p, &w, offer == work.OfferStanding)
	if !seen && (!move || offer != work.OfferDue) {
		return Work{}, notFound("work")
	}
	pol, perr := s.currentPolicy()
	if due && perr == nil {
		if err := s.expireWork(ctx, pol, id); err != nil {
			return Work{}, err
		}
		if w, offer, _, err = q.GetFor(ctx, id, p.memberID, s.now()); err != nil {
			return Work{}, asNotFound(err, "work")
		}
		seen = visible(p, &w, offer == work.OfferStanding)
	}
	if !seen {
		return Work{}, notFound("work")
	}
	return w, nil
}

// getWork shows a work item, its history and its payment to those who see it (visible);
// its offers past their time are moved on first (readVisible).
func (s *Server) getWork(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	w, err := s.readVisible(r.Context(), p, id, false)
	if err != nil {
		return 0, nil, err
	}
	q := work.On(s.pool)
	w.History, err = q.History(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	if w.Milestones, err = q.Milestones(r.Context(), id); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, w, nil
}

// lockWork loads a work item for update inside tx.
func lockWork(ctx context.Context, tx pgx.Tx, id int64) (Work, error) {
	w, err := work.On(tx).Lock(ctx, id)
	return w, asNotFound(err, "work")
}

func illegal(from, to string) error {
	return conflict("state", fmt.Sprintf("work in state %s cannot go to %s", from, to))
}

// setState moves w to state to (checking legality) and records the transition.
func setState(ctx context.Context, tx pgx.Tx, w *Work, to string, worker *int64, p principal, note string) error {
	if !legal(w.State, to) {
		return illegal(w.State, to)
	}
	q := work.On(tx)
	if err := q.SetState(ctx, w.ID, to, worker); err != nil {
		return err
	}
	if err := q.RecordHistory(ctx, w.ID, w.State, to, actor(p), worker, note); err != nil {
		return err
	}
	w.State, w.WorkerID = to, worker
	return nil
}

// changeWork locks the work item id in a transaction, lets change check and update it,
// and answers 200 with what change returns once the transaction has committed.
func (s *Server) changeWork(ctx context.Context, p principal, id int64, change func(tx pgx.Tx, w *Work) (any, error)) (int, any, error) {
	var out any
	var refusal error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		w, err := lockWork(ctx, tx, id)
		if err != nil {
			return err
		}
		// The work first, then the acting member's row (the order of an erasure, which
		// takes the work offered to the member before their row): a member's change of
		// work waits for their erasure under way and is refused after it (a rating, a
		// cancellation's reason would otherwise be written after the erasure).
		if !p.admin {
			if err := lockSelf(ctx, tx, p.memberID); err != nil {
				return err
			}
		}
		out, err = change(tx, &w)
		if k, ok := errors.AsType[committedRefusal](err); ok {
			refusal = k.err
			return nil
		}
		return err
	})
	if err == nil {
		err = refusal
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

// committedRefusal is a refusal whose transaction still commits: what the change wrote
// before refusing (an offer withdrawn, its work moved on) stands.
type committedRefusal struct{ err error }

func (c committedRefusal) Error() string { return c.err.Error() }
func (c committedRefusal) Unwrap() error { return c.err }

// workerAction runs a transition that only the worker on the work (or staff) may make.
func (s *Server) workerAction(r *http.Request, p principal, from, to string, extra func(ctx context.Context, tx pgx.Tx, w *Work) error) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	return s.changeWork(r.Context(), p, id, func(tx pgx.Tx, w *Work) (any, error) {
		if !p.admin && (w.WorkerID == nil || *w.WorkerID != p.memberID) {
			if w.CustomerID == p.memberID {
				return nil, forbidden("only the worker on this work may do this")
			}
			return nil, notFound("work")
		}
		if w.State != from || !legal(w.State, to) {
			return nil, illegal(w.State, to)
		}
		if err := setState(r.Context(), tx, w, to, w.WorkerID, p, ""); err != nil {
			return nil, err
		}
		if extra != nil {
			if err := extra(r.Context(), tx, w); err != nil {
				return nil, err
			}
		}
		return *w, nil
	})
}

func (s *Server) startWork(r *http.Request, p principal) (int, any, error) {
	return s.workerAction(r, p, stAccepted, stInProgress, nil)
}

// completeWork finishes the work and records its payment (price and surge agreed at
// request time) under the idempotency key "work-<id>". Staff complete it for its worker
// only when that payment is within their limit (staffMayMove): otherwise staff alone
// could request work on a customer's behalf, accept and complete it, and pay any amount.
func (s *Server) completeWork(r *http.Request, p principal) (int, any, error) {
	pol, err := s.currentPolicy()
	if err != nil {
		return 0, nil, err
	}
	var pay *Payment
	status, body, err := s.workerAction(r, p, stInProgress, stCompleted, func(ctx context.Context, tx pgx.Tx, w *Work) error {
		if ms, err := hasMilestones(ctx, tx, w.ID); err != nil || ms {
			if err == nil {
				err = conflict("milestones", "a project paid by milestones completes when its client accepts the last one")
			}
			return err
		}
		if p.admin {
			if err := staffMayMove(pol, "priceCents", w.PriceCents, "complete work", "its worker completes it"); err != nil {
				return err
			}
		}
		req := paymentRequest{WorkerID: *w.WorkerID, AmountCents: w.PriceCents, SurgeCents: w.SurgeCents, WorkID: &w.ID, PayerID: &w.CustomerID}
		var err error
		pay, _, err = s.recordPayment(ctx, tx, pol, workScope, fmt.Sprintf("work-%d", w.ID), req)
		if err == nil {
			w.PaymentID = &pay.ID
		}
		return err
	})
	if err == nil && pay != nil {
		s.countPayment(pay.Split, "payment")
	}
	return status, body, err
}

func (s *Server) cancelWork(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
	}
	if utf8.RuneCountInString(in.Reason) > 500 {
		return 0, nil, badField("reason", "must be at most 500 characters")
	}
	return s.changeWork(r.Context(), p, id, func(tx pgx.Tx, w *Work) (any, error) {
		if !p.admin && w.CustomerID != p.memberID {
			// The worker cancels only work they took (accepted or under way); an offer is
			// not theirs to cancel but to decline.
			if w.WorkerID == nil || *w.WorkerID != p.memberID {
				return nil, notFound("work")
			}
			if w.State == stOffered {
				return nil, forbidden("a worker offered this work declines the offer (POST /v1/work/{id}/decline); only the customer or staff cancel it")
			}
			if !work.WorkerCancels(w.State) {
				return nil, illegal(w.State, stCancelled)
			}
		} else if !p.admin && legal(w.State, stCancelled) && !work.CustomerCancels(w.State) {
			return nil, conflict("state", "work in progress is under way: its customer no longer cancels it; ask the co-op's staff, who can")
		}
		worker := w.WorkerID
		if w.State == stOffered {
			if err := work.On(tx).WithdrawOffers(r.Context(), w.ID); err != nil {
				return nil, err
			}
			// Nobody took the work: the worker it was offered to is not its worker, and
			// reads it no more (visible).
			worker = nil
		}
		if legal(w.State, stCancelled) {
			if err := releaseOrder(r.Context(), tx, w); err != nil {
				return nil, err
			}
		}
		if err := setState(r.Context(), tx, w, stCancelled, worker, p, in.Reason); err != nil {
			return nil, err
		}
		return *w, nil
	})
}

func (s *Server) rateWork(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Stars *int `json:"stars"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Stars == nil || *in.Stars < 1 || *in.Stars > 5 {
		return 0, nil, badField("stars", "must be an integer from 1 to 5")
	}
	return s.changeWork(r.Context(), p, id, func(tx pgx.Tx, w *Work) (any, error) {
		if w.CustomerID != p.memberID {
			if p.admin {
				return nil, forbidden("only the customer rates the work")
			}
			return nil, notFound("work")
		}
		if w.State != stCompleted {
			return nil, conflict("state", "only completed work can be rated")
		}
		if w.Rating != nil {
			return nil, conflict("stars", "this work has already been rated")
		}
		if err := work.On(tx).Rate(r.Context(), id, *w.WorkerID, *in.Stars); err != nil {
			return nil, err
		}
		w.Rating = in.Stars
		return *w, nil
	})
}
