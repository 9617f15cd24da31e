// Package work is the store of work items: requests, their history of transitions,
// offers and the fair-matching query, and ratings.
package work

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/platform/server/pricing"
	"github.com/cooperator-dev/cooperator/platform/server/store"
)

// Work is a unit of work as the API shows it.
type Work struct {
	ID         int64             `json:"id"`
	Vertical   string            `json:"vertical"`
	Kind       string            `json:"kind"`
	CustomerID int64             `json:"customerId"`
	WorkerID   *int64            `json:"workerId"`
	State      string            `json:"state"`
	Details    map[string]string `json:"details"`
	PriceCents int64             `json:"priceCents"`
	SurgeCents int64             `json:"surgeCents"`
	Rating     *int              `json:"rating,omitempty"`
	// Urgent work is offered to several qualified workers at once; the first to accept
	// takes it.
	Urgent bool `json:"urgent"`
	// Stops are the drop-offs of a batched delivery, in order, for one courier.
	Stops []Stop `json:"stops,omitempty"`
	// Milestones split a freelance project's price; each is paid on acceptance.
	Milestones []Milestone `json:"milestones,omitempty"`
	// StartsAt and EndsAt are the time slot scheduled work reserves (nil for work done on
	// demand).
	StartsAt  *time.Time     `json:"startsAt,omitempty"`
	EndsAt    *time.Time     `json:"endsAt,omitempty"`
	CreatedAt time.Time      `json:"createdAt"`
	UpdatedAt time.Time      `json:"updatedAt"`
	History   []HistoryEntry `json:"history,omitempty"`
	PaymentID *int64         `json:"paymentId,omitempty"`
	// Fare is how the fare rule priced the work, in the answer to its request.
	Fare *pricing.Breakdown `json:"fare,omitempty"`
	// PaidByMilestones says the work has milestones, where a read leaves them out
	// (Involving): it completes when its client accepts the last one.
	PaidByMilestones bool `json:"-"`
}

// transitions are the states a work item may go to from each state.
var transitions = map[string][]string{
	"requested":   {"offered", "cancelled"},
	"offered":     {"offered", "accepted", "requested", "cancelled"},
	"accepted":    {"in_progress", "cancelled"},
	"in_progress": {"completed", "cancelled"},
}

// Legal says whether a work item may go from one state to another.
func Legal(from, to string) bool { return slices.Contains(transitions[from], to) }

// WorkerCancels says whether a work item's worker may cancel it in state: once they took
// it (accepted or started). An offer of it they decline.
func WorkerCancels(state string) bool { return state == "accepted" || state == "in_progress" }

// CustomerCancels says whether a work item's customer may cancel it in state: until its
// worker starts it. Work in progress is under way, its worker's time spent: its customer
// asks the co-op's staff, who may still cancel it (whenever Legal lets it go to
// cancelled), as its worker may.
func CustomerCancels(state string) bool { return Legal(state, "cancelled") && state != "in_progress" }

// Stop is one drop-off of a batched delivery.
type Stop struct {
	Address string `json:"address"`
	Notes   string `json:"notes,omitempty"`
}

// HistoryEntry is one recorded transition.
type HistoryEntry struct {
	From     *string   `json:"from"`
	To       string    `json:"to"`
	ActorID  *int64    `json:"actorId"`
	WorkerID *int64    `json:"workerId,omitempty"`
	Note     string    `json:"note,omitempty"`
	At       time.Time `json:"at"`
}

// New is a request for work, as the handler validated it.
type New struct {
	Vertical, Kind string
	CustomerID     int64
	Details        map[string]string
	PriceCents     int64
	SurgeCents     int64
	Urgent         bool
	Stops          []Stop
	// StartsAt and EndsAt are the slot of scheduled work (both nil or both set).
	StartsAt, EndsAt *time.Time
}

// Candidate is the worker the fair-matching rule chose, with the values that decided.
type Candidate struct {
	ID             int64
	LastAssignedAt *time.Time
	RatingCount    int64
	// RatingCenti is the average rating times 100, rounded down (0 when unrated).
	RatingCenti int64
	// Regular is whether the worker is in the customer's team of regular workers.
	Regular bool
}

// Store runs the work queries on db.
type Store struct{ db store.DBTX }

// On returns the store over db (the pool or a transaction).
func On(db store.DBTX) Store { return Store{db} }

const cols = `id, vertical, kind, customer_id, worker_id, state, details, price_cents, surge_cents, rating, urgent, stops, starts_at, ends_at, created_at, updated_at`

// scan scans the cols of a row, then any further columns into extra.
func scan(row pgx.Row, extra ...any) (Work, error) {
	var w Work
	err := row.Scan(append([]any{&w.ID, &w.Vertical, &w.Kind, &w.CustomerID, &w.WorkerID, &w.State, &w.Details, &w.PriceCents,
		&w.SurgeCents, &w.Rating, &w.Urgent, &w.Stops, &w.StartsAt, &w.EndsAt, &w.CreatedAt, &w.UpdatedAt}, extra...)...)
	return w, err
}

// Create inserts a requested work item.
func (s Store) Create(ctx context.Context, n New) (Work, error) {
	return scan(s.db.QueryRow(ctx, `INSERT INTO work_items (vertical, kind, customer_id, state, details, price_cents, surge_cents, urgent, starts_at, ends_at, stops)
		VALUES ($1, $2, $3, 'requested', $4, $5, $6, $7, $8, $9, $10) RETURNING `+cols, n.Vertical, n.Kind, n.CustomerID, n.Details, n.PriceCents, n.SurgeCents,
		n.Urgent, n.StartsAt, n.EndsAt, stopsArg(n.Stops)))
}

// RecordHistory records one transition of a work item (from "" for its creation).
func (s Store) RecordHistory(ctx context.Context, workID int64, from, to string, actorID, workerID *int64, note string) error {
	var f *string
	if from != "" {
		f = &from
	}
	_, err := s.db.Exec(ctx, `INSERT INTO work_history (work_id, from_state, to_state, actor_id, worker_id, note) VALUES ($1, $2, $3, $4, $5, $6)`,
		workID, f, to, actorID, workerID, note)
	return err
}

// GetFor reads a work item with its first payment's id, member's offer of it at now
// (OfferStanding, OfferDue: theirs, past its time and not moved on yet, or "" for none
// that is open: one they declined, that expired or was withdrawn), and whether an open
// offer of it, anyone's, is due at now (store.ErrNotFound when there is no such item).
func (s Store) GetFor(ctx context.Context, id, member int64, now time.Time) (w Work, offer string, due bool, err error) {
	var payment *int64
	w, err = scan(s.db.QueryRow(ctx, `SELECT `+cols+`,
			(SELECT py.id FROM payments py WHERE py.work_id = work_items.id ORDER BY py.id LIMIT 1),
			coalesce((SELECT CASE WHEN o.expires_at IS NULL OR o.expires_at > $3 THEN 'standing' ELSE 'due' END
				FROM offers o WHERE o.work_id = work_items.id AND o.worker_id = $2 AND o.status = 'offered' LIMIT 1), ''),
			EXISTS (SELECT 1 FROM offers o WHERE o.work_id = work_items.id AND o.status = 'offered' AND o.expires_at <= $3)
		FROM work_items WHERE id = $1`, id, member, now), &payment, &offer, &due)
	w.PaymentID = payment
	return w, offer, due, store.NotFound(err)
}

// Member's offer of a work item, as GetFor reads it.
const (
	// OfferStanding: an open offer within its time.
	OfferStanding = "standing"
	// OfferDue: an open offer past its time, not moved on yet.
	OfferDue = "due"
)

// History reads a work item's transitions in order.
func (s Store) History(ctx context.Context, id int64) ([]HistoryEntry, error) {
	rows, err := s.db.Query(ctx, `SELECT from_state, to_state, actor_id, worker_id, note, at FROM work_history WHERE work_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (HistoryEntry, error) {
		var h HistoryEntry
		err := row.Scan(&h.From, &h.To, &h.ActorID, &h.WorkerID, &h.Note, &h.At)
		return h, err
	})
}

// Lock reads a work item for update (store.ErrNotFound when there is none).
func (s Store) Lock(ctx context.Context, id int64) (Work, error) {
	w, err := scan(s.db.QueryRow(ctx, `SELECT `+cols+` FROM work_items WHERE id = $1 FOR UPDATE`, id))
	return w, store.NotFound(err)
}

// SetState writes a work item's state and worker.
func (s Store) SetState(ctx context.Context, id int64, state string, worker *int64) error {
	_, err := s.db.Exec(ctx, `UPDATE work_items SET state = $2, worker_id = $3, updated_at = now() WHERE id = $1`, id, state, worker)
	return err
}

// ClearWorker takes the worker off a work item (a declined offer), so that they are not
// busy with it.
func (s Store) ClearWorker(ctx context.Context, id int64) error {
	_, err := s.db.Exec(ctx, `UPDATE work_items SET worker_id = NULL WHERE id = $1`, id)
	return err
}

// ResolveOffer sets the status (accepted, declined) of worker's open offer of the work.
func (s Store) ResolveOffer(ctx context.Context, workID, worker int64, status string) error {
	_, err := s.db.Exec(ctx, `UPDATE offers SET status = $3 WHERE work_id = $1 AND worker_id = $2 AND status = 'offered'`, workID, worker, status)
	return err
}

// WithdrawOffer withdraws worker's open offer of the work, saying why on the offer
// (because), which its worker and staff read, not the work's customer.
func (s Store) WithdrawOffer(ctx context.Context, workID, worker int64, because string) error {
	_, err := s.db.Exec(ctx, `UPDATE offers SET status = 'withdrawn', withdrawn_because = $3 WHERE work_id = $1 AND worker_id = $2 AND status = 'offered'`,
		workID, worker, because)
	return err
}

// WithdrawnBecause is why worker's latest offer of the work was withdrawn, as
// WithdrawOffer said it ("" when it said nothing, or the offer was not withdrawn).
func (s Store) WithdrawnBecause(ctx context.Context, workID, worker int64) (string, error) {
	var because string
	err := s.db.QueryRow(ctx, `SELECT withdrawn_because FROM offers WHERE work_id = $1 AND worker_id = $2 ORDER BY id DESC LIMIT 1`,
		workID, worker).Scan(&because)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return because, err
}

// WithdrawOffers withdraws every open offer of the work.
func (s Store) WithdrawOffers(ctx context.Context, workID int64) error {
	_, err := s.db.Exec(ctx, `UPDATE offers SET status = 'withdrawn' WHERE work_id = $1 AND status = 'offered'`, workID)
	return err
}

// Rate records the customer's rating of the work and adds it to its worker's.
func (s Store) Rate(ctx context.Context, workID, worker int64, stars int) error {
	if _, err := s.db.Exec(ctx, `UPDATE work_items SET rating = $2 WHERE id = $1`, workID, stars); err != nil {
		return err
	}
	_, err := s.db.Exec(ctx, `UPDATE members SET rating_sum = rating_sum + $2, rating_count = rating_count + 1 WHERE id = $1`, worker, stars)
	return err
}

// stopsArg is the stops column's value: NULL without stops.
func stopsArg(stops []Stop) any {
	if len(stops) == 0 {
		return nil
	}
	return stops
}
