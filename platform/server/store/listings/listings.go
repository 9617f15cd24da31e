// Package listings is the store of marketplace listings and their stock, and of the
// checks that keep the stays of one place from overlapping.
package listings

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/platform/server/store"
)

// Listing is a maker's listing.
type Listing struct {
	ID          int64     `json:"id"`
	OwnerID     int64     `json:"ownerId"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	PriceCents  int64     `json:"priceCents"`
	Stock       int64     `json:"stock"`
	CreatedAt   time.Time `json:"createdAt"`
}

// Store runs the listing queries on db.
type Store struct{ db store.DBTX }

// On returns the store over db (the pool or a transaction).
func On(db store.DBTX) Store { return Store{db} }

const cols = `id, owner_id, title, description, price_cents, stock, created_at`

func scan(row interface{ Scan(...any) error }) (Listing, error) {
	var l Listing
	err := row.Scan(&l.ID, &l.OwnerID, &l.Title, &l.Description, &l.PriceCents, &l.Stock, &l.CreatedAt)
	return l, store.NotFound(err)
}

// Create inserts a listing.
func (s Store) Create(ctx context.Context, l Listing) (Listing, error) {
	return scan(s.db.QueryRow(ctx, `INSERT INTO listings (owner_id, title, description, price_cents, stock) VALUES ($1, $2, $3, $4, $5) RETURNING `+cols,
		l.OwnerID, l.Title, l.Description, l.PriceCents, l.Stock))
}

// Page lists listings newest first, with an id below before (0: from the newest), at most
// limit: owner's when owner is not 0; only those that can be ordered (their maker an
// active member whose data was not erased) when orderable.
func (s Store) Page(ctx context.Context, owner, before int64, limit int, orderable bool) ([]Listing, error) {
	rows, err := s.db.Query(ctx, `SELECT `+cols+` FROM listings l
		WHERE ($1::bigint = 0 OR l.owner_id = $1) AND ($2::bigint = 0 OR l.id < $2)
		  AND (NOT $4 OR EXISTS (SELECT 1 FROM members m WHERE m.id = l.owner_id AND m.active AND m.erased_at IS NULL))
		ORDER BY l.id DESC LIMIT $3`, owner, before, limit, orderable)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Listing, error) { return scan(row) })
}

// Get reads a listing (store.ErrNotFound when there is none).
func (s Store) Get(ctx context.Context, id int64) (Listing, error) {
	return scan(s.db.QueryRow(ctx, `SELECT `+cols+` FROM listings WHERE id = $1`, id))
}

// SetStock sets a listing's stock.
func (s Store) SetStock(ctx context.Context, id, stock int64) (Listing, error) {
	return scan(s.db.QueryRow(ctx, `UPDATE listings SET stock = $2 WHERE id = $1 RETURNING `+cols, id, stock))
}

// Take counts quantity out of a listing's stock if that many are left, and returns the
// listing (store.ErrNotFound when there is no such listing or not enough stock: the
// caller reads which).
func (s Store) Take(ctx context.Context, id, quantity int64) (Listing, error) {
	return scan(s.db.QueryRow(ctx, `UPDATE listings SET stock = stock - $2 WHERE id = $1 AND stock >= $2 RETURNING `+cols, id, quantity))
}

// Restock puts quantity back into a listing's stock (a cancelled order).
func (s Store) Restock(ctx context.Context, id, quantity int64) error {
	_, err := s.db.Exec(ctx, `UPDATE listings SET stock = stock + $2 WHERE id = $1`, id, quantity)
	return err
}

// LockPlace takes a transaction-scoped lock of a place (a housing unit, as the guest wrote
// it), so that the stays of one place are checked and written one at a time: the lock is
// the place's key (stay_place, migration 165), so that every spelling of one unit waits for
// the others.
func (s Store) LockPlace(ctx context.Context, unit string) error {
	_, err := s.db.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('stay:' || stay_place($1)))`, unit)
	return err
}

// StayOverlaps says whether a stay of unit (as the guest wrote it: compared by the place's
// key, stay_place), not cancelled, overlaps [checkIn, checkOut) (dates YYYY-MM-DD).
func (s Store) StayOverlaps(ctx context.Context, unit, checkIn, checkOut string) (bool, error) {
	var overlaps bool
	err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM work_items
		WHERE kind = 'stay' AND state <> 'cancelled' AND stay_place(details->>'unit') = stay_place($1)
		  AND details->>'checkIn' < $3 AND details->>'checkOut' > $2)`, unit, checkIn, checkOut).Scan(&overlaps)
	return overlaps, err
}
