// Package credentials is the store of what staff verified about workers (skills,
// languages, background checks) and of care clients' teams of regular carers. The
// fair-matching query (store/work) reads the same tables.
package credentials

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/platform/server/store"
)

// BackgroundCheck is a carer's background check as staff recorded it.
type BackgroundCheck struct {
	Status     string    `json:"status"`
	CheckedOn  string    `json:"checkedOn"`
	ExpiresAt  time.Time `json:"expiresAt"`
	RecordedAt time.Time `json:"recordedAt"`
}

// Input is what staff verified about a worker, as PUT /v1/members/{id}/credentials takes
// it (the API checks it: server.SetCredentials).
type Input struct {
	Skills          []string    `json:"skills"`
	Languages       []string    `json:"languages"`
	BackgroundCheck *CheckInput `json:"backgroundCheck"`
}

// CheckInput is a background check as staff record it.
type CheckInput struct {
	Status    string    `json:"status"`
	CheckedOn string    `json:"checkedOn"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Credentials are a worker's verified skills and languages and background check.
type Credentials struct {
	Skills          []string         `json:"skills"`
	Languages       []string         `json:"languages"`
	BackgroundCheck *BackgroundCheck `json:"backgroundCheck"`
}

// Store runs the credential queries on db.
type Store struct{ db store.DBTX }

// On returns the store over db (the pool or a transaction).
func On(db store.DBTX) Store { return Store{db} }

// Get reads a worker's credentials.
func (s Store) Get(ctx context.Context, member int64) (Credentials, error) {
	c := Credentials{Skills: []string{}, Languages: []string{}}
	rows, err := s.db.Query(ctx, `SELECT kind, value FROM worker_skills WHERE member_id = $1 ORDER BY kind, value`, member)
	if err != nil {
		return c, err
	}
	type kv struct{ k, v string }
	all, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (kv, error) {
		var x kv
		err := row.Scan(&x.k, &x.v)
		return x, err
	})
	if err != nil {
		return c, err
	}
	for _, x := range all {
		if x.k == "skill" {
			c.Skills = append(c.Skills, x.v)
		} else {
			c.Languages = append(c.Languages, x.v)
		}
	}
	var b BackgroundCheck
	var checked time.Time
	err = s.db.QueryRow(ctx, `SELECT status, checked_on, expires_at, recorded_at FROM background_checks WHERE member_id = $1`, member).
		Scan(&b.Status, &checked, &b.ExpiresAt, &b.RecordedAt)
	if err == nil {
		b.CheckedOn = checked.Format(time.DateOnly)
		b.ExpiresAt, b.RecordedAt = b.ExpiresAt.UTC(), b.RecordedAt.UTC()
		c.BackgroundCheck = &b
		return c, nil
	}
	return c, store.NotFoundOK(err)
}

// Worker is one active worker's credentials, as staff list them.
type Worker struct {
	MemberID int64   `json:"memberId"`
	Name     *string `json:"name"`
	Credentials
}

// After is where a page of ActiveWorkers starts: after worker ID, whose background check
// expires at Expires (nil: they have none); the zero After is the first page.
type After struct {
	ID      int64
	Expires *time.Time
}

// ActiveWorkers lists a page of the co-op's active workers with their credentials: the
// background checks that expire first first, then the workers with none, by id; after
// after, at most limit.
func (s Store) ActiveWorkers(ctx context.Context, after After, limit int) ([]Worker, error) {
	rows, err := s.db.Query(ctx, `SELECT m.id, m.name,
			coalesce(array_agg(k.value ORDER BY k.value) FILTER (WHERE k.kind = 'skill'), '{}'),
			coalesce(array_agg(k.value ORDER BY k.value) FILTER (WHERE k.kind = 'language'), '{}'),
			b.status, b.checked_on, b.expires_at, b.recorded_at
		FROM members m LEFT JOIN worker_skills k ON k.member_id = m.id LEFT JOIN background_checks b ON b.member_id = m.id
		WHERE 'worker' = ANY (m.roles) AND m.active AND m.erased_at IS NULL
			AND ($1::bigint = 0
				OR ($2::timestamptz IS NULL AND b.expires_at IS NULL AND m.id > $1)
				OR ($2::timestamptz IS NOT NULL AND (b.expires_at IS NULL OR (b.expires_at, m.id) > ($2, $1))))
		GROUP BY m.id, b.member_id
		ORDER BY b.expires_at NULLS LAST, m.id
		LIMIT $3`, after.ID, after.Expires, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Worker, error) {
		var w Worker
		var status *string
		var checked, expires, recorded *time.Time
		if err := row.Scan(&w.MemberID, &w.Name, &w.Skills, &w.Languages, &status, &checked, &expires, &recorded); err != nil {
			return w, err
		}
		if status != nil && checked != nil && expires != nil && recorded != nil {
			w.BackgroundCheck = &BackgroundCheck{Status: *status, CheckedOn: checked.Format(time.DateOnly), ExpiresAt: expires.UTC(), RecordedAt: recorded.UTC()}
		}
		return w, nil
	})
}

// Replace replaces a worker's credentials, verified at at (nil check: none recorded).
func (s Store) Replace(ctx context.Context, member int64, skills, languages []string, check *BackgroundCheck, at time.Time) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM worker_skills WHERE member_id = $1`, member); err != nil {
		return err
	}
	if _, err := s.db.Exec(ctx, `INSERT INTO worker_skills (member_id, kind, value, verified_at)
		SELECT $1::bigint, 'skill', v, $4::timestamptz FROM unnest($2::text[]) v UNION ALL SELECT $1::bigint, 'language', v, $4::timestamptz FROM unnest($3::text[]) v`,
		member, skills, languages, at); err != nil {
		return err
	}
	if check == nil {
		_, err := s.db.Exec(ctx, `DELETE FROM background_checks WHERE member_id = $1`, member)
		return err
	}
	_, err := s.db.Exec(ctx, `INSERT INTO background_checks (member_id, status, checked_on, expires_at, recorded_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (member_id) DO UPDATE SET status = $2, checked_on = $3, expires_at = $4, recorded_at = $5`,
		member, check.Status, check.CheckedOn, check.ExpiresAt, at)
	return err
}

// Team reads a care client's regular carers.
func (s Store) Team(ctx context.Context, client int64) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT worker_id FROM care_teams WHERE client_id = $1 ORDER BY worker_id`, client)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// SetTeam replaces a care client's regular carers.
func (s Store) SetTeam(ctx context.Context, client int64, workers []int64, at time.Time) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM care_teams WHERE client_id = $1`, client); err != nil {
		return err
	}
	_, err := s.db.Exec(ctx, `INSERT INTO care_teams (client_id, worker_id, added_at) SELECT $1::bigint, w, $3::timestamptz FROM unnest($2::bigint[]) w`, client, workers, at)
	return err
}

// Workers reports which of ids are members with the worker role (store.ErrNotFound
// names none; the caller compares).
func (s Store) Workers(ctx context.Context, ids []int64) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT id FROM members WHERE id = ANY ($1) AND 'worker' = ANY (roles) AND erased_at IS NULL ORDER BY id`, ids)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// Ratings is the distribution of a worker's ratings: one per completed job rated.
type Ratings struct {
	Count        int64    `json:"count"`
	Customers    int64    `json:"customers"`
	AverageCenti int64    `json:"-"`
	Distribution [5]int64 `json:"-"`
}

// RatingsOf reads the distribution of a worker's ratings.
func (s Store) RatingsOf(ctx context.Context, worker int64) (Ratings, error) {
	var r Ratings
	var dist []int64
	err := s.db.QueryRow(ctx, `SELECT count(rating), count(DISTINCT customer_id) FILTER (WHERE rating IS NOT NULL),
			coalesce(sum(rating) * 100 / nullif(count(rating), 0), 0),
			ARRAY[count(*) FILTER (WHERE rating = 1), count(*) FILTER (WHERE rating = 2), count(*) FILTER (WHERE rating = 3),
				count(*) FILTER (WHERE rating = 4), count(*) FILTER (WHERE rating = 5)]
		FROM work_items WHERE worker_id = $1 AND state = 'completed'`, worker).Scan(&r.Count, &r.Customers, &r.AverageCenti, &dist)
	copy(r.Distribution[:], dist)
	return r, err
}
