package work

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// FeedOffer is an offer waiting for a worker, with the work it is for.
type FeedOffer struct {
	OfferID   int64      `json:"offerId"`
	Reason    string     `json:"reason"`
	OfferedAt time.Time  `json:"offeredAt"`
	ExpiresAt *time.Time `json:"expiresAt"`
	Work      Work       `json:"work"`
}

// WorkerOffers lists worker's offers that stand at now (open, not expired), oldest first,
// after the offer id after, at most limit.
func (s Store) WorkerOffers(ctx context.Context, worker int64, now time.Time, after int64, limit int) ([]FeedOffer, error) {
	rows, err := s.db.Query(ctx, `SELECT o.id, o.reason, o.created_at, o.expires_at, `+prefixed("x")+`
		FROM offers o JOIN work_items x ON x.id = o.work_id
		WHERE o.worker_id = $1 AND o.status = 'offered' AND (o.expires_at IS NULL OR o.expires_at > $2) AND o.id > $3
		ORDER BY o.id LIMIT $4`, worker, now, after, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (FeedOffer, error) {
		var f FeedOffer
		w := &f.Work
		err := row.Scan(&f.OfferID, &f.Reason, &f.OfferedAt, &f.ExpiresAt, &w.ID, &w.Vertical, &w.Kind, &w.CustomerID, &w.WorkerID, &w.State,
			&w.Details, &w.PriceCents, &w.SurgeCents, &w.Rating, &w.Urgent, &w.Stops, &w.StartsAt, &w.EndsAt, &w.CreatedAt, &w.UpdatedAt)
		return f, err
	})
}

// Feed scopes of a worker's work.
const (
	// Current is work under way: started, or accepted and due (on demand, or its slot
	// has begun), by id.
	Current = "current"
	// Scheduled is accepted work whose slot begins after now, by start time.
	Scheduled = "scheduled"
)

// Cursor is where a page of a worker's work continues: after the item with this start
// time (scheduled work) and id.
type Cursor struct {
	At time.Time
	ID int64
}

// WorkerWork lists worker's work in scope (Current or Scheduled) at now after cursor, at
// most limit.
func (s Store) WorkerWork(ctx context.Context, worker int64, scope string, now time.Time, after Cursor, limit int) ([]Work, error) {
	var q string
	if scope == Scheduled {
		q = `SELECT ` + cols + ` FROM work_items WHERE worker_id = $1 AND state = 'accepted' AND starts_at > $2
			AND (starts_at, id) > ($3, $4) ORDER BY starts_at, id LIMIT $5`
	} else {
		q = `SELECT ` + cols + ` FROM work_items WHERE worker_id = $1
			AND (state = 'in_progress' OR (state = 'accepted' AND (starts_at IS NULL OR starts_at <= $2)))
			AND $3::timestamptz IS NOT NULL AND id > $4 ORDER BY id LIMIT $5`
	}
	rows, err := s.db.Query(ctx, q, worker, now, after.At, after.ID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Work, error) { return scan(row) })
}

// prefixed is cols with each column qualified by the table alias a.
func prefixed(a string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = a + "." + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
