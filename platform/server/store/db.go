package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DBTX is what the store packages query through: the pool, or a transaction the handler
// opened (pgx.Tx). Begin on a transaction opens a savepoint.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

// ErrNotFound is returned when the row a store call reads, locks or changes does not
// exist; the handler names what was not found.
var ErrNotFound = errors.New("not found")

// ErrCredentialGone is returned when the member credential a request came with (a token, an
// app session) was ended while the request waited for the member's row: a claim or a
// release ended it.
var ErrCredentialGone = errors.New("the credential the request came with has ended")

// ErrClaimed is returned when staff would issue a credential (a token, a sign-in code) to
// a member who claimed their account: only the member issues theirs.
var ErrClaimed = errors.New("the member has claimed their account")

// NotFound turns pgx.ErrNoRows into ErrNotFound and leaves other errors as they are.
func NotFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// IsUniqueViolation reports whether err is PostgreSQL's unique_violation.
func IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// IsUniqueViolationOf reports whether err is PostgreSQL's unique_violation of the unique
// constraint or index name.
func IsUniqueViolationOf(err error, name string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == name
}

// ErrKeyTaken is returned when a request's idempotency key was recorded in its scope by a
// concurrent request, and nothing was written: the caller answers as the replay it is.
var ErrKeyTaken = errors.New("idempotency key recorded by a concurrent request")

// IsForeignKeyViolation reports whether err is PostgreSQL's foreign_key_violation: a row
// referred to was deleted meanwhile.
func IsForeignKeyViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}

// NotFoundOK turns pgx.ErrNoRows into nil (an optional row) and leaves other errors.
func NotFoundOK(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	return err
}

// PinGovernanceClock sets the database's clock of governance (governance_now(), which
// stamps and closes the votes) to at, through db connected as the database's owner: for
// the tests and the demo, whose platform runs on a clock of their own. A database whose
// clock is not pinned follows now().
func PinGovernanceClock(ctx context.Context, db DBTX, at time.Time) error {
	_, err := db.Exec(ctx, `INSERT INTO governance_clock (pinned_at) VALUES ($1)
		ON CONFLICT (one) DO UPDATE SET pinned_at = EXCLUDED.pinned_at`, at)
	return err
}
