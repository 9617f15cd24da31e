package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/dayclock"
	"github.com/cooperator-dev/cooperator/platform/server/store"
	"github.com/cooperator-dev/cooperator/platform/server/store/work"
)

// defaultSlotMinutes is the length of a scheduled slot whose request says none.
const defaultSlotMinutes = 60

// maxSlotMinutes bounds a scheduled slot: a day.
const maxSlotMinutes = 1440

// timeWindowYears and timeFloor bound the times a request names (a booking's
// scheduledAt, a schedule's exceptions, a background check's expiry): not before 1970 and
// at most this many years after the service's clock. Every time the service stores is
// then one it can answer (JSON times are years 0 to 9999 in UTC; 9999-12-31T23:30:00Z plus
// a slot is not). The floor is fixed, not moving with the clock, so that a schedule read
// and sent back years later is not refused for an old exception it still holds.
const timeWindowYears = 10

var timeFloor = time.Date(1970, time.January, 1, 0, 0, 0, 0, time.UTC)

// requestTime is a time t of the request's field as the service keeps it: in UTC, to the
// microsecond (PostgreSQL's precision; what is finer is cut, not refused), so that every
// check made of it holds for the time stored, and a refusal names the field rather than
// the database refusing the row (an exception shorter than a microsecond is empty once
// stored). It refuses (400) a time before timeFloor or more than timeWindowYears after
// now (and answers the time as kept all the same). Every time the API takes from a
// request goes through it.
func requestTime(field string, t, now time.Time) (time.Time, error) {
	kept := t.Truncate(time.Microsecond).UTC()
	if t.Before(timeFloor) || t.After(now.AddDate(timeWindowYears, 0, 0)) {
		return kept, badField(field, fmt.Sprintf("must be in 1970 or later and at most %d years after the service's clock", timeWindowYears))
	}
	return kept, nil
}

// slotOf is the time slot a request reserves: for scheduled kinds (those with a
// scheduledAt), from scheduledAt for durationMinutes (the request's measure, else the
// details' durationMinutes, else defaultSlotMinutes); for a stay, its nights (staySlot,
// on the calendar of zone, the co-op's), so that its host is busy for them and for no
// other time. Other work has none (nil, nil). scheduledAt is a request's time
// (requestTime).
func slotOf(vertical string, in *workInput, now time.Time, zone *time.Location) (*time.Time, *time.Time, error) {
	if isStay(in) {
		start, end, err := staySlot(in.Details, zone, now)
		if err != nil {
			return nil, nil, err
		}
		return &start, &end, nil
	}
	if !scheduled(vertical, in) {
		return nil, nil, nil
	}
	start, err := scheduledStart(in, now)
	if err != nil {
		return nil, nil, err
	}
	minutes, err := slotMinutes(in)
	if err != nil {
		return nil, nil, err
	}
	end := start.Add(time.Duration(minutes) * time.Minute)
	return &start, &end, nil
}

// isStay says whether a request's kind is a stay: it reserves the nights from its checkIn
// to its checkOut (staySlot).
func isStay(in *workInput) bool { return in.Kind == "stay" }

// staySlot is the time a stay reserves: from the start of its checkIn day to the start of
// its checkOut day on the co-op's calendar (midnight in its time zone, zone), so that a
// night on which the clock changes lasts the 23 or 25 hours it does. The dates are a
// request's (YYYY-MM-DD, requestTime), checkOut after checkIn; errors name the detail.
func staySlot(details map[string]string, zone *time.Location, now time.Time) (time.Time, time.Time, error) {
	var days [2]time.Time
	for i, k := range []string{"checkIn", "checkOut"} {
		d, err := time.Parse(time.DateOnly, details[k])
		if err != nil {
			return time.Time{}, time.Time{}, badField("details."+k, "must be a date like 2026-07-14")
		}
		if _, err := requestTime("details."+k, d, now); err != nil {
			return time.Time{}, time.Time{}, err
		}
		days[i] = dayclock.Of(d, zone).Start()
	}
	if !days[1].After(days[0]) {
		return time.Time{}, time.Time{}, badField("details.checkOut", "must be after checkIn")
	}
	return days[0].UTC(), days[1].UTC(), nil
}

// scheduledStart is when a scheduled request's slot begins: its details.scheduledAt, a
// request's time (requestTime).
func scheduledStart(in *workInput, now time.Time) (time.Time, error) {
	start, err := time.Parse(time.RFC3339, in.Details["scheduledAt"])
	if err != nil {
		return start, badField("details.scheduledAt", "must be a time like 2026-07-14T09:30:00Z")
	}
	return requestTime("details.scheduledAt", start, now)
}

// scheduled says whether a request's kind reserves a time slot (it has a scheduledAt).
func scheduled(vertical string, in *workInput) bool {
	return containsString(kindsFor(vertical)[in.Kind].times, "scheduledAt")
}

// slotMinutes is how long a scheduled request's slot lasts: the request's durationMinutes
// measure, else the details' durationMinutes, else defaultSlotMinutes. Both given, they
// must say the same (the worker reads the details; the slot and the price are the
// measure's).
func slotMinutes(in *workInput) (int64, error) {
	var detail int64
	if v := in.Details["durationMinutes"]; v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > maxSlotMinutes {
			return 0, badField("details.durationMinutes", fmt.Sprintf("must be a whole number of minutes from 1 to %d", maxSlotMinutes))
		}
		detail = n
	}
	switch {
	case in.DurationMinutes != nil:
		if *in.DurationMinutes < 1 || *in.DurationMinutes > maxSlotMinutes {
			return 0, badField("durationMinutes", fmt.Sprintf("a scheduled slot lasts from 1 to %d minutes", maxSlotMinutes))
		}
		if detail != 0 && detail != *in.DurationMinutes {
			return 0, badField("details.durationMinutes", fmt.Sprintf("says %d minutes, durationMinutes %d: give one, or the same", detail, *in.DurationMinutes))
		}
		return *in.DurationMinutes, nil
	case detail != 0:
		return detail, nil
	}
	return defaultSlotMinutes, nil
}

func containsString(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// Offer is the answer to a match: who was offered the work, until when, and why.
type Offer struct {
	WorkID   int64   `json:"workId"`
	State    string  `json:"state"`
	WorkerID *int64  `json:"workerId"`
	Reason   string  `json:"reason"`
	Rating   *string `json:"rating,omitempty"`
	// WorkerIDs are the workers urgent work was offered to at once.
	WorkerIDs []int64 `json:"workerIds,omitempty"`
	// ExpiresAt is when the offer goes to the next worker unless accepted.
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

// offerStatusAt is an offer's status at now: "expired" for an open offer whose time has
// come (as the feeds and matching read it: standing while expires_at > now), whether or
// not the service has moved it on yet; its stored status otherwise.
func offerStatusAt(status string, expires *time.Time, now time.Time) string {
	if status == "offered" && expires != nil && !expires.After(now) {
		return "expired"
	}
	return status
}

// system is the principal of transitions the service makes by itself (an expired offer
// moving on); its history entries have no actor.
var system = principal{admin: true}

// offerNext offers w to the next worker by the fair-matching rule (work.NextWorkers),
// or to the fan-out of urgent work at once, each offer standing for the policy's offer
// timeout. only restricts the choice to one worker (the customer's request). When nobody
// fits: after a decline or an expiry (moved != ""), the work goes back to requested with
// that note, and the round of matching ends (work.EndRound: the next match may offer it
// again to those who let it pass); on a first match it is a 409 naming why.
func (s *Server) offerNext(ctx context.Context, tx pgx.Tx, w *Work, p principal, pol *policy.Policy, moved string, only *int64) (Offer, error) {
	if isOrder(w) {
		if only != nil {
			return Offer{}, badField("workerId", "an order goes to its listing's maker; leave workerId out")
		}
		return s.offerToOwner(ctx, tx, w, p, pol, moved)
	}
	q := work.On(tx)
	now := s.now()
	n := 1
	if w.Urgent {
		n = pol.Work.FanOut()
	}
	match := matchFor(w, now)
	match.Limit, match.Only, match.Zone = n, only, pol.Location()
	cs, err := q.NextWorkers(ctx, match)
	if errors.Is(err, store.ErrNotFound) {
		if moved != "" {
			if err := setState(ctx, tx, w, stRequested, nil, p, moved+"; no other worker available"); err != nil {
				return Offer{}, err
			}
			// Nobody left this round: the next match starts another, the workers who let
			// the work pass included.
			if err := q.EndRound(ctx, w.ID); err != nil {
				return Offer{}, err
			}
			return Offer{WorkID: w.ID, State: w.State, Reason: moved + "; no other available, qualified worker: the work is back to requested"}, nil
		}
		if only != nil {
			return Offer{}, s.whyNot(ctx, tx, w, p, *only)
		}
		return Offer{}, conflict("", "no available, qualified worker right now; try again later")
	}
	if err != nil {
		return Offer{}, err
	}
	expires := now.Add(pol.Work.OfferTimeout())
	var out Offer
	note := ""
	ids := make([]int64, 0, len(cs))
	for _, c := range cs {
		// The offer keeps the values of the rule that chose its worker (theirs and staff's
		// to read); its answer says them but when the worker last took work; the work's
		// history, which its customer reads, only which rule it was.
		reason, answer, rating := matchReason(c)
		note = fairNote
		if c.Regular {
			reason, answer, note = regularFirst+reason, regularFirst+answer, regularFirst+note
		}
		if w.Urgent {
			urgent := fmt.Sprintf("urgent: offered to %d workers at once, the first to accept takes it; ", len(cs))
			reason, answer = urgent+reason, urgent+answer
		}
		if only != nil {
			reason = fmt.Sprintf("asked for by the customer (worker %d), available and free for this work", c.ID)
			answer, note = reason, askedForNote
		}
		if err := q.Offer(ctx, w.ID, c.ID, reason, &expires, only == nil); err != nil {
			return Offer{}, err
		}
		ids = append(ids, c.ID)
		if out.Reason == "" {
			out.Reason, out.Rating = answer, &rating
		}
	}
	if w.Urgent {
		note := fmt.Sprintf("urgent: offered to %d workers at once", len(ids))
		if moved != "" {
			note = moved + "; " + note
		}
		if err := setState(ctx, tx, w, stOffered, nil, p, note); err != nil {
			return Offer{}, err
		}
		return Offer{WorkID: w.ID, State: w.State, Reason: fmt.Sprintf("urgent: offered to %d qualified, available workers at once; the first to accept takes it", len(ids)),
			WorkerIDs: ids, ExpiresAt: &expires}, nil
	}
	wid := ids[0]
	if moved != "" {
		note = moved + "; " + note
	}
	if err := setState(ctx, tx, w, stOffered, &wid, p, note); err != nil {
		return Offer{}, err
	}
	out.WorkID, out.State, out.WorkerID, out.ExpiresAt = w.ID, w.State, &wid, &expires
	return out, nil
}

// isOrder says whether w is a marketplace order, which goes to its listing's maker rather
// than to a worker chosen by matching.
func isOrder(w *Work) bool { return w.Vertical == "marketplace" && w.Kind == "order" }

// matchFor is what a worker for w must meet at now, by its vertical's kind of work: the
// skill and language its details ask for, a background check for care.
func matchFor(w *Work, now time.Time) work.Match {
	m := work.Match{Kind: w.Kind, CustomerID: w.CustomerID, WorkID: w.ID, Now: now, StartsAt: w.StartsAt, EndsAt: w.EndsAt}
	spec := kindsFor(w.Vertical)[w.Kind]
	if v := normTerm(w.Details[spec.skill]); spec.skill != "" && v != "" {
		m.Skill = &v
	}
	if v := normTerm(w.Details[spec.language]); spec.language != "" && v != "" {
		m.Language = &v
	}
	m.NeedsCheck, m.TeamFirst = spec.care, spec.care
	m.Shared, m.SharedKinds = spec.shared, sharedKinds(w.Vertical)
	return m
}

// The notes of an offer in the work's history, which its customer reads (and the workers
// offered urgent work): which rule chose the worker, none of its values. When the worker
// last took work is theirs (and staff's): it says how busy they are with other customers.
// Migration 166 wrote the notes of before so.
const (
	fairNote     = "fair matching: least recently assigned available qualified worker first, then highest rating, then lowest member id"
	regularFirst = "a regular worker of this customer first; "
	askedForNote = "asked for by the customer, available and free for this work"
)

// matchReason states the values of the fair-matching rule that chose c: reason, kept on
// the offer, all of them; answer, to whoever asked for the match, all but when c last took
// work (which is c's own and staff's); and c's rating, which every member reads.
func matchReason(c work.Candidate) (reason, answer, rating string) {
	when := "never assigned before"
	if c.LastAssignedAt != nil {
		when = "last assigned " + c.LastAssignedAt.UTC().Format(time.RFC3339)
	}
	rating = "unrated"
	if c.RatingCount > 0 {
		rating = fmt.Sprintf("%d.%02d of 5 from %d ratings", c.RatingCenti/100, c.RatingCenti%100, c.RatingCount)
	}
	rule := "fair matching: least recently assigned available qualified worker first%s, then highest rating (%s), then lowest member id (%d)"
	return fmt.Sprintf(rule, " ("+when+")", rating, c.ID), fmt.Sprintf(rule, "", rating, c.ID), rating
}

// whyNot explains why the worker a customer asked for cannot be offered w. Only the
// worker themselves and staff (who read the worker's schedule) are told of a booking that
// overlaps the slot (details.scheduledAt, which booking it is); to anyone else a booked
// worker is refused as any worker who cannot take the work is: the other work's id and
// times are another's (its customer's, the worker's schedule), and an answer that told
// booked from not would map the worker's schedule to whoever asks slot after slot.
func (s *Server) whyNot(ctx context.Context, tx pgx.Tx, w *Work, p principal, worker int64) error {
	if w.StartsAt != nil && (p.admin || p.memberID == worker) {
		b, err := work.On(tx).Booked(ctx, worker, *w.StartsAt, *w.EndsAt, w.ID)
		if err == nil {
			return overlapError(w, worker, b)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return conflict("workerId", fmt.Sprintf("worker %d is not an available, qualified and free worker for this work (their schedule, qualifications, verified skills, languages and background check, other work or a block)", worker))
}

// slotField is the detail that says when w's slot begins: a stay's checkIn, a booking's
// scheduledAt.
func slotField(w *Work) string {
	if w.Kind == "stay" {
		return "details.checkIn"
	}
	return "details.scheduledAt"
}

// overlapError names the booking of worker's that overlaps the slot of w: for the worker
// and staff only (see whyNot).
func overlapError(w *Work, worker int64, b Work) error {
	return conflict(slotField(w), fmt.Sprintf("worker %d is booked from %s to %s (work %d): a slot that overlaps it cannot be booked; one that starts when it ends can",
		worker, b.StartsAt.UTC().Format(time.RFC3339), b.EndsAt.UTC().Format(time.RFC3339), b.ID))
}

// expireOffers moves on every work item whose offers expired at the service's clock: the
// background closer calls it every CloseInterval. Reads of the feeds do not: for them an
// offer past its time is expired at once (offerStatusAt, and the feeds' and matching's
// expires_at > now); accepts, declines and the read of one work item move on that item
// (expireWork). Each item is handled in its own transaction.
func (s *Server) expireOffers(ctx context.Context) error {
	pol, err := s.currentPolicy()
	if err != nil {
		return err
	}
	for range 10 { // at most 10 × 100 items per call; the rest on the next
		ids, err := work.On(s.pool).DueExpiries(ctx, s.now(), 100)
		if err != nil || len(ids) == 0 {
			return err
		}
		for _, id := range ids {
			if err := s.expireWork(ctx, pol, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// ExpireOffers moves on the work whose offers expired (see expireOffers): the domain
// entry point for other front ends of the service.
func (s *Server) ExpireOffers(ctx context.Context) error { return s.expireOffers(ctx) }

// expireWork expires the offers of one work item that are past their time and, when no
// offer of it stands any more, offers it to the next worker (or the next fan-out).
func (s *Server) expireWork(ctx context.Context, pol *policy.Policy, id int64) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		w, err := lockWork(ctx, tx, id)
		if err != nil {
			return err
		}
		return s.expireLocked(ctx, tx, pol, &w)
	})
}

func (s *Server) expireLocked(ctx context.Context, tx pgx.Tx, pol *policy.Policy, w *Work) error {
	n, err := work.On(tx).ExpireOffers(ctx, w.ID, s.now())
	if err != nil || n == 0 {
		return err
	}
	return s.moveOn(ctx, tx, pol, w, fmt.Sprintf("offer expired after %s", pol.Work.OfferTimeout()))
}

// moveOn offers w (locked in tx), some of whose offers expired or were withdrawn, to the
// next worker (or the next fan-out) once no offer of it stands any more; with nobody left
// it is back to requested. moved says why, in the work's history, which its customer
// reads: nothing of a worker's own (see offerMovedOn).
func (s *Server) moveOn(ctx context.Context, tx pgx.Tx, pol *policy.Policy, w *Work, moved string) error {
	if w.State != stOffered {
		return nil
	}
	q := work.On(tx)
	standing, err := q.StandingOffers(ctx, w.ID, s.now())
	if err != nil || standing > 0 {
		return err
	}
	if err := q.ClearWorker(ctx, w.ID); err != nil {
		return err
	}
	w.WorkerID = nil
	_, err = s.offerNext(ctx, tx, w, system, pol, moved, nil)
	var ae *apiError
	if errors.As(err, &ae) {
		return nil
	}
	return err
}

// lockOffersTo locks the work items holding an open offer to member, in the transaction
// of a change that ends their taking work (deactivation, the worker role removed,
// erasure), before that change locks the member's row: an accept locks the work, then its
// worker (acceptWork), and taking the two in the same order keeps them from deadlocking.
func lockOffersTo(ctx context.Context, tx pgx.Tx, member int64) error {
	_, err := work.On(tx).LockOfferedTo(ctx, member)
	return err
}

// unfitMessage is the refusal of an accept by a worker who no longer meets what the work
// needs; it does not say which of these changed (a block is the customer's).
const unfitMessage = "you no longer meet what this work needs (its kind among your qualifications, a verified skill, language or background check, or the customer's choice): your offer is withdrawn and the work goes to the next worker"

// offerMovedOn is the note, in a work item's history, of an offer declined (declineWork)
// or withdrawn for a reason of its worker's (withdrawOffer): whatever the reason, it says
// only that the offer moved on. The work's customer reads the history, and so do the workers offered urgent work,
// beside the row that names the worker; why is said on the offer, which only its worker
// (their data export, a refused accept) and staff read.
const offerMovedOn = "the offer moved on"

// Why an offer was withdrawn, as the offer says it (work.WithdrawOffer).
const (
	withdrawnTimeOff  = "the worker took time off"
	withdrawnUnfit    = "the worker no longer meets what the work needs"
	withdrawnDeparted = "the worker can no longer take work"
)

// withdrawOffer withdraws worker's open offer of w (locked in tx), saying why on the offer
// (because), and moves w on (moveOn) with a note that says only that the offer moved on.
func (s *Server) withdrawOffer(ctx context.Context, tx pgx.Tx, pol *policy.Policy, w *Work, worker int64, because string) error {
	if err := work.On(tx).WithdrawOffer(ctx, w.ID, worker, because); err != nil {
		return err
	}
	return s.moveOn(ctx, tx, pol, w, offerMovedOn)
}

// withdrawOffersTo withdraws the open offers to member, who can no longer take work and
// is no longer a candidate of fair matching (inactive, not available or without the
// worker role, in tx), and moves each of their work items on at once (moveOn): a departed
// worker's offer would otherwise stand until its time, and urgent work offered to several
// workers would wait for it once the others declined. The work items are those
// lockOffersTo locked, and any offered to member between that and the lock of their row.
// The policy in force (the fan-out, the offer timeout) is needed only when there are
// offers to withdraw: 503 without one then.
//
// With onlyUnfit, member still takes work but something a match judges changed (their
// qualifications, verified skills or background check, a customer's block): only the
// offers they no longer fit (work.Fits) are withdrawn.
func (s *Server) withdrawOffersTo(ctx context.Context, tx pgx.Tx, member int64, onlyUnfit bool) error {
	q := work.On(tx)
	ws, err := q.LockOfferedTo(ctx, member)
	if err != nil || len(ws) == 0 {
		return err
	}
	var pol *policy.Policy
	for i := range ws {
		because := withdrawnDeparted
		if onlyUnfit {
			if isOrder(&ws[i]) {
				continue // an order is its listing's maker's, whatever these
			}
			fits, err := q.Fits(ctx, matchFor(&ws[i], s.now()), member)
			if err != nil || fits {
				if err != nil {
					return err
				}
				continue
			}
			because = withdrawnUnfit
		}
		if pol == nil {
			if pol, err = s.currentPolicy(); err != nil {
				return err
			}
		}
		if err := s.withdrawOffer(ctx, tx, pol, &ws[i], member, because); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) matchWork(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		WorkerID *int64 `json:"workerId"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
	}
	if in.WorkerID != nil && *in.WorkerID <= 0 {
		return 0, nil, badField("workerId", "must be a member id")
	}
	pol, err := s.currentPolicy()
	if err != nil {
		return 0, nil, err
	}
	return s.changeWork(r.Context(), p, id, func(tx pgx.Tx, w *Work) (any, error) {
		if !p.admin && w.CustomerID != p.memberID {
			return nil, notFound("work")
		}
		if w.State != stRequested {
			return nil, illegal(w.State, stOffered)
		}
		if in.WorkerID != nil && w.Urgent {
			return nil, badField("workerId", "urgent work is offered to several workers at once; leave workerId out")
		}
		if in.WorkerID != nil && !p.admin && !isOrder(w) {
			if err := regularOf(r.Context(), tx, w.CustomerID, *in.WorkerID); err != nil {
				return nil, err
			}
		}
		return s.offerNext(r.Context(), tx, w, p, pol, "", in.WorkerID)
	})
}

// notRegular is the refusal of a customer's request for a worker by name who never
// completed their work: the same for every id (one of no worker's, nobody's), so that it
// tells no one the roll, and judged before the worker's schedule and credentials (whyNot),
// so that a customer learns nothing of a worker who never worked for them.
const notRegular = "a customer asks by name only for a regular worker, one who completed work of theirs before; leave workerId out for fair matching"

// regularOf refuses (409 naming workerId) a customer's request for worker by name unless
// worker completed work of customer's: a regular worker. Anyone else would let a customer
// name any worker, and find out about them offer after offer.
func regularOf(ctx context.Context, tx pgx.Tx, customer, worker int64) error {
	did, err := work.On(tx).DidWorkFor(ctx, customer, []int64{worker})
	if err != nil {
		return err
	}
	if len(did) == 0 {
		return conflict("workerId", notRegular)
	}
	return nil
}

// acceptWork: the worker holding a standing offer of the work takes it. Urgent work is
// offered to several workers; the work row's lock makes the first accept win and the
// others answer 409. The worker's member row is locked and read in the accept's
// transaction: a worker deactivated, erased or without the worker role since the offer
// takes nothing (409; completing the work could never pay them), nor does one who no
// longer meets what the work needs (work.Fits: a qualification, a verified skill or
// background check taken away, a customer's block since the offer). Scheduled work is
// refused (409 naming details.scheduledAt) when the worker has accepted other work whose
// slot overlaps.
func (s *Server) acceptWork(r *http.Request, p principal) (int, any, error) {
	noWorker := func(w *Work) error {
		if w.State == stOffered {
			return conflict("state", "urgent work is accepted by one of the workers it was offered to")
		}
		return illegal(w.State, stAccepted)
	}
	return s.changeOffer(r, p, noWorker, func(tx pgx.Tx, q work.Store, w *Work, pol *policy.Policy, worker int64) (any, error) {
		status, expires, err := q.OfferStatus(r.Context(), w.ID, worker)
		if errors.Is(err, store.ErrNotFound) {
			if w.CustomerID == p.memberID {
				return nil, forbidden("only the worker on this work may do this")
			}
			return nil, notFound("work")
		}
		if err != nil {
			return nil, err
		}
		// Locked after the work row, as every accept does; a change of the member waits for
		// the accept to commit, or the accept for the change.
		mayWork, err := q.LockWorker(r.Context(), worker)
		if err != nil {
			return nil, err
		}
		if !mayWork {
			return nil, conflict("", "only an active member holding the worker role accepts work: this offer's worker is no longer one (deactivated, erased or without the worker role)")
		}
		// Judged in this transaction on the service's clock: an offer whose time came after
		// changeOffer moved the due ones on is expired too.
		status = offerStatusAt(status, expires, s.now())
		switch {
		case status == "expired":
			return nil, conflict("state", fmt.Sprintf("your offer expired: an offer stands for %s (the policy's work.offerTimeoutSeconds), then the work goes to the next worker",
				pol.Work.OfferTimeout()))
		case status == "withdrawn" && (w.State == stAccepted || w.State == stInProgress || w.State == stCompleted):
			return nil, conflict("state", "another worker accepted this work first")
		case status == "withdrawn" && w.State != stCancelled:
			// The worker is told why, as the offer says it (withdrawOffer).
			because, err := q.WithdrawnBecause(r.Context(), w.ID, worker)
			if err != nil {
				return nil, err
			}
			if because != "" {
				return nil, conflict("state", "your offer was withdrawn ("+because+"); the work went on to the next worker")
			}
			return nil, conflict("state", "your offer was withdrawn when you could no longer take it (deactivated, without the worker role, or no longer meeting what the work needs); the work went on to the next worker")
		case status != "offered" || w.State != stOffered:
			return nil, illegal(w.State, stAccepted)
		}
		// What the offer relied on may have gone since (a qualification, a verified skill or
		// a background check taken away or expired, a block, a change made while this offer
		// was being made): the worker no longer fitting, the offer is withdrawn and the work
		// moved on, committed with the refusal. Marketplace orders go to their listing's
		// maker, whatever these.
		if !isOrder(w) {
			fits, err := q.Fits(r.Context(), matchFor(w, s.now()), worker)
			if err != nil {
				return nil, err
			}
			if !fits {
				if err := s.withdrawOffer(r.Context(), tx, pol, w, worker, withdrawnUnfit); err != nil {
					return nil, err
				}
				return nil, committedRefusal{conflict("", unfitMessage)}
			}
		}
		if w.StartsAt != nil {
			b, err := q.Booked(r.Context(), worker, *w.StartsAt, *w.EndsAt, w.ID)
			if err == nil {
				return nil, overlapError(w, worker, b)
			}
			if !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
		}
		if err := q.ResolveOffer(r.Context(), w.ID, worker, "accepted"); err != nil {
			return nil, err
		}
		// Taking work, not being offered it, moves the worker back in the fair order.
		if err := q.Assigned(r.Context(), worker, s.now()); err != nil {
			return nil, err
		}
		if err := q.WithdrawOthers(r.Context(), w.ID, worker); err != nil {
			return nil, err
		}
		if err := setState(r.Context(), tx, w, stAccepted, &worker, p, ""); err != nil {
			return nil, err
		}
		return *w, nil
	})
}

func isNotFound(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.status == http.StatusNotFound
}

// changeOffer changes the work of the request's path, in one transaction, as the worker
// whose offer it is: the caller, or for staff the work's worker (noWorker is the refusal
// when it has none). The work's offers past their time are moved on first, so that an
// answer to an expired offer is judged as the next worker's, when the caller sees the
// work (readVisible); for anyone else nothing moves, and change answers 404.
func (s *Server) changeOffer(r *http.Request, p principal, noWorker func(w *Work) error,
	change func(tx pgx.Tx, q work.Store, w *Work, pol *policy.Policy, worker int64) (any, error)) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	pol, err := s.currentPolicy()
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.readVisible(r.Context(), p, id, true); err != nil && !isNotFound(err) {
		return 0, nil, err
	}
	return s.changeWork(r.Context(), p, id, func(tx pgx.Tx, w *Work) (any, error) {
		worker := p.memberID
		if p.admin {
			if w.WorkerID == nil {
				return nil, noWorker(w)
			}
			worker = *w.WorkerID
		}
		return change(tx, work.On(tx), w, pol, worker)
	})
}

// declineWork: the worker turns down their offer; the work goes to the next worker (for
// urgent work, once no offer of it stands any more).
func (s *Server) declineWork(r *http.Request, p principal) (int, any, error) {
	noWorker := func(w *Work) error {
		return conflict("state", fmt.Sprintf("work in state %s has no open offer staff can decline", w.State))
	}
	return s.changeOffer(r, p, noWorker, func(tx pgx.Tx, q work.Store, w *Work, pol *policy.Policy, worker int64) (any, error) {
		status, expires, err := q.OfferStatus(r.Context(), w.ID, worker)
		if err != nil {
			return nil, asNotFound(err, "work")
		}
		if w.State != stOffered || offerStatusAt(status, expires, s.now()) != "offered" {
			return nil, conflict("state", fmt.Sprintf("work in state %s has no open offer to decline", w.State))
		}
		if err := q.ResolveOffer(r.Context(), w.ID, worker, "declined"); err != nil {
			return nil, err
		}
		if !p.admin { // the worker's own decline: staff declining for them is no turn of theirs
			if err := q.Passed(r.Context(), w.ID, worker, s.now()); err != nil {
				return nil, err
			}
		}
		if w.Urgent {
			standing, err := q.StandingOffers(r.Context(), w.ID, s.now())
			if err != nil {
				return nil, err
			}
			if standing > 0 {
				return Offer{WorkID: w.ID, State: w.State, Reason: fmt.Sprintf("declined; %d other offers of this urgent work stand", standing)}, nil
			}
		}
		// The decliner stays "assigned" until commit; clear so they are not busy.
		if err := q.ClearWorker(r.Context(), w.ID); err != nil {
			return nil, err
		}
		w.WorkerID = nil
		// The work's history says the offer moved on, as an expiry's and a withdrawal's,
		// by no one: its customer reads it, and who declined is the worker's and staff's
		// (the offer says it).
		next, err := s.offerNext(r.Context(), tx, w, system, pol, offerMovedOn, nil)
		if err != nil || p.admin {
			return next, err
		}
		return declinersView(next), nil
	})
}

// declinersView is what the worker who declined reads of where the work went: that it
// moved on, or went back to requested, and not to whom (the next worker, the workers of
// an urgent fan-out), nor the values of the rule that chose them (their rating) or when
// their offer ends: those are the next worker's, theirs and staff's to read.
func declinersView(next Offer) Offer {
	reason := "declined; the work is offered to another worker"
	if next.State != stOffered {
		reason = next.Reason // back to requested: nobody's
	}
	return Offer{WorkID: next.WorkID, State: next.State, Reason: reason}
}
