// Package availability is the store of workers' availability: a weekly schedule of
// windows plus dated exceptions. The fair-matching query (store/work) reads the same
// tables.
package availability

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/platform/server/store"
)

// Window is a weekly window: an ISO weekday (1 Monday .. 7 Sunday) and minutes of the
// day on the co-op's clock (its time zone), From inclusive, To exclusive (1440: the end of
// the day).
type Window struct {
	Weekday  int
	From, To int
}

// Exception is a dated exception to the weekly windows: available (an extra shift) or
// not (a holiday) from StartsAt to EndsAt.
type Exception struct {
	// ID is the exception's, once stored (0 in one not yet stored).
	ID               int64
	StartsAt, EndsAt time.Time
	Available        bool
}

// Schedule is a worker's availability.
type Schedule struct {
	Weekly     []Window
	Exceptions []Exception
}

// Store runs the availability queries on db.
type Store struct{ db store.DBTX }

// On returns the store over db (the pool or a transaction).
func On(db store.DBTX) Store { return Store{db} }

// Get reads a member's schedule, windows by day and time, exceptions by start.
func (s Store) Get(ctx context.Context, member int64) (Schedule, error) {
	var sc Schedule
	rows, err := s.db.Query(ctx, `SELECT weekday, from_minute, to_minute FROM availability_windows WHERE member_id = $1 ORDER BY weekday, from_minute`, member)
	if err != nil {
		return sc, err
	}
	sc.Weekly, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Window, error) {
		var w Window
		err := row.Scan(&w.Weekday, &w.From, &w.To)
		return w, err
	})
	if err != nil {
		return sc, err
	}
	rows, err = s.db.Query(ctx, `SELECT id, starts_at, ends_at, available FROM availability_exceptions WHERE member_id = $1 ORDER BY starts_at, id`, member)
	if err != nil {
		return sc, err
	}
	sc.Exceptions, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Exception, error) {
		var x Exception
		err := row.Scan(&x.ID, &x.StartsAt, &x.EndsAt, &x.Available)
		return x, err
	})
	return sc, err
}

// Replace replaces a member's schedule and sets the member's available flag (whether
// they declared any availability at all, the matching query's first filter).
func (s Store) Replace(ctx context.Context, member int64, sc Schedule) error {
	return s.replace(ctx, member, sc, false)
}

// ReplaceWeekly replaces a member's weekly windows (sc.Weekly) and leaves their dated
// exceptions as they are, so that a change of the week loses no exception written
// meanwhile; it sets the available flag as Replace does.
func (s Store) ReplaceWeekly(ctx context.Context, member int64, sc Schedule) error {
	return s.replace(ctx, member, sc, true)
}

func (s Store) replace(ctx context.Context, member int64, sc Schedule, weeklyOnly bool) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM availability_windows WHERE member_id = $1`, member); err != nil {
		return err
	}
	// The exceptions kept, when the week alone changes: their available ones count, as
	// Replace counts the given ones.
	var keptAvailable bool
	if weeklyOnly {
		sc.Exceptions = nil
		if err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM availability_exceptions WHERE member_id = $1 AND available)`, member).Scan(&keptAvailable); err != nil {
			return err
		}
	} else if _, err := s.db.Exec(ctx, `DELETE FROM availability_exceptions WHERE member_id = $1`, member); err != nil {
		return err
	}
	var days, froms, tos []int32
	for _, w := range sc.Weekly {
		days, froms, tos = append(days, int32(w.Weekday)), append(froms, int32(w.From)), append(tos, int32(w.To))
	}
	if len(days) > 0 {
		if _, err := s.db.Exec(ctx, `INSERT INTO availability_windows (member_id, weekday, from_minute, to_minute)
			SELECT $1, d, f, t FROM unnest($2::int[], $3::int[], $4::int[]) AS u(d, f, t)`, member, days, froms, tos); err != nil {
			return err
		}
	}
	var starts, ends []time.Time
	var avail []bool
	anyAvailable := len(days) > 0 || keptAvailable
	for _, x := range sc.Exceptions {
		starts, ends, avail = append(starts, x.StartsAt), append(ends, x.EndsAt), append(avail, x.Available)
		anyAvailable = anyAvailable || x.Available
	}
	if len(starts) > 0 {
		if _, err := s.db.Exec(ctx, `INSERT INTO availability_exceptions (member_id, starts_at, ends_at, available)
			SELECT $1, s, e, a FROM unnest($2::timestamptz[], $3::timestamptz[], $4::bool[]) AS u(s, e, a)`, member, starts, ends, avail); err != nil {
			return err
		}
	}
	_, err := s.db.Exec(ctx, `UPDATE members SET available = $2 WHERE id = $1`, member, anyAvailable)
	return err
}

// AddException adds a dated exception to a member's schedule and sets their available
// flag as Replace does; false when the member already has limit exceptions (nothing is
// added). The caller holds the member's row for update, so that two adds do not both pass
// the limit.
func (s Store) AddException(ctx context.Context, member int64, x Exception, limit int) (int64, bool, error) {
	var id int64
	err := s.db.QueryRow(ctx, `INSERT INTO availability_exceptions (member_id, starts_at, ends_at, available)
		SELECT $1, $2, $3, $4 WHERE (SELECT count(*) FROM availability_exceptions WHERE member_id = $1) < $5
		RETURNING id`, member, x.StartsAt, x.EndsAt, x.Available, limit).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return id, true, s.setAvailable(ctx, member)
}

// RemoveException removes one of a member's dated exceptions and sets their available
// flag as Replace does; store.ErrNotFound when the member has no exception of that id.
func (s Store) RemoveException(ctx context.Context, member, id int64) error {
	tag, err := s.db.Exec(ctx, `DELETE FROM availability_exceptions WHERE member_id = $1 AND id = $2`, member, id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return s.setAvailable(ctx, member)
}

// setAvailable sets a member's available flag from what they declared: any weekly window
// or available exception.
func (s Store) setAvailable(ctx context.Context, member int64) error {
	_, err := s.db.Exec(ctx, `UPDATE members SET available = EXISTS (SELECT 1 FROM availability_windows WHERE member_id = $1)
		OR EXISTS (SELECT 1 FROM availability_exceptions WHERE member_id = $1 AND available) WHERE id = $1`, member)
	return err
}
