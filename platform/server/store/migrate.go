// Package store holds the platform service's database schema (embedded goose
// migrations), runs it at start-up, and defines what its sub-packages share: one per
// aggregate (members, work, payments and the ledger, proposals, funds), each the only
// place that aggregate's SQL is written. Handlers decode, validate, call a store and
// encode; they open the transaction (pgx.BeginFunc) and pass it to the stores.
package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrations embed.FS

// LockID is the PostgreSQL advisory lock key held while migrating, so that two replicas
// starting together never run migrations at once.
const LockID int64 = 0x636f6f70 // "coop"

// Migrate applies the pending migrations under a session-level advisory lock.
func Migrate(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	return migrate(ctx, db, sub, log)
}

func migrate(ctx context.Context, db *sql.DB, fsys fs.FS, log *slog.Logger) error {
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(LockID), lock.WithLockTimeout(1, 600))
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	for _, r := range results {
		log.Info("migration applied", "version", r.Source.Version, "duration", r.Duration.String())
	}
	return nil
}

// GrantServing gives the serving role (the role the service answers requests with, not the
// owner that migrates) exactly what the service needs, after every migration run:
//   - CONNECT on the database, which it first revokes from PUBLIC, so that no other role
//     of the server (in the hub's shared cluster: the other co-ops', the metering's) may
//     connect to it, whatever pg_hba says; the owner connects as the owner; nor TEMPORARY,
//     from PUBLIC or the role: a temporary table is found before the schema's by the
//     functions that run as the owner (a temporary "members" would feed notify);
//   - USAGE on the schema (CREATE on it from no one but its owner) and its sequences;
//   - SELECT, INSERT, UPDATE and DELETE on every table, but not TRUNCATE, REFERENCES or
//     TRIGGER, and nothing on the migrations' own table;
//   - on the ledger (ledger_transactions, ledger_entries) only SELECT and INSERT, so the
//     append-only rule holds for the role itself, not only through the triggers that its
//     owner could drop;
//   - on payments SELECT and INSERT, and UPDATE of the four columns that are not money:
//     refund_tx_id and refunded_by (a refund links its reversing transaction and says
//     who made it) and idempotency_scope, idempotency_key (erasure replaces the member's
//     key text);
//   - on disbursements SELECT and INSERT, and UPDATE of what a decision and an erasure
//     write (status, message, tx_id, decided_at; reason, idempotency_scope,
//     idempotency_key and request_hash), never the amount, fund or payee;
//     on refund_requests the same (status, message, decided_at; reason), never the
//     payment, the requester or the proposal;
//   - on notifications SELECT, DELETE (an erasure, a year after) and UPDATE of read_at
//     only: the database's owner writes them (migration 159's triggers), the service
//     marks them read and never writes or changes what one tells;
//   - on governance_clock (the database's clock of governance, which only its owner may
//     pin) and delegation_history (written by the owner's trigger on delegations) SELECT
//     only;
//   - on what the operator's re-tally reads (proposals, proposal_electorate, ballots,
//     proposal_delegations) SELECT, and UPDATE only of what an erasure wipes (a
//     proposal's title and body, an elector's class, which a trigger lets only be wiped
//     where it is not a class of the vote) and of the operator's answer (application,
//     application_message, application_at): proposals open, ballots are cast and
//     proposals close only through the owner's functions that keep the vote's rules
//     (votes, migration 163), on which it has EXECUTE;
//   - no EXECUTE on any other function of the schema that runs as its owner (SECURITY DEFINER,
//     read from pg_proc, so that a new one is never forgotten: notify and its triggers'),
//     from PUBLIC or the role: PostgreSQL grants EXECUTE to PUBLIC on every function it
//     creates, the migrations revoke it, and a restore without privileges (an import,
//     pg_restore --no-privileges) creates them again with it, and does not rerun the
//     migrations. So PUBLIC has nothing on the tables and sequences either.
//
// It starts from no privileges each time, in one transaction, so that a narrower grant of
// a later version takes effect and the role never sees a gap, and so that what the
// migrations revoked holds again at every start, whatever a restore left. Tables a later
// migration adds are covered by the next run.
func GrantServing(ctx context.Context, pool *pgxpool.Pool, role string) error {
	r := pgx.Identifier{role}.Sanitize()
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// Replicas starting together take turns, as with the migrations: two concurrent
		// GRANTs on one table fail with "tuple concurrently updated".
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, LockID); err != nil {
			return err
		}
		var db string
		if err := tx.QueryRow(ctx, `SELECT current_database()`).Scan(&db); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT p.oid::regprocedure::text FROM pg_proc p
			WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef ORDER BY 1`)
		if err != nil {
			return err
		}
		definers, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		d := pgx.Identifier{db}.Sanitize()
		qs := []string{
			`REVOKE ALL ON DATABASE ` + d + ` FROM PUBLIC, ` + r,
			`GRANT CONNECT ON DATABASE ` + d + ` TO ` + r,
			`REVOKE CREATE ON SCHEMA public FROM PUBLIC, ` + r,
			`GRANT USAGE ON SCHEMA public TO ` + r,
			`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, ` + r,
			`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC, ` + r,
			`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ` + r,
			`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ` + r,
			`REVOKE ALL ON ` + gooseTable + ` FROM ` + r,
			`REVOKE UPDATE, DELETE ON ledger_transactions, ledger_entries, payments FROM ` + r,
			`GRANT UPDATE (refund_tx_id, refunded_by, idempotency_scope, idempotency_key) ON payments TO ` + r,
			`REVOKE UPDATE, DELETE ON disbursements FROM ` + r,
			`GRANT UPDATE (status, message, tx_id, decided_at, reason, idempotency_scope, idempotency_key, request_hash) ON disbursements TO ` + r,
			`REVOKE UPDATE, DELETE ON refund_requests FROM ` + r,
			`GRANT UPDATE (status, message, decided_at, reason) ON refund_requests TO ` + r,
			`REVOKE INSERT, UPDATE ON notifications FROM ` + r,
			`GRANT UPDATE (read_at) ON notifications TO ` + r,
			`REVOKE INSERT, UPDATE, DELETE ON governance_clock, delegation_history FROM ` + r,
			`REVOKE INSERT, UPDATE, DELETE ON proposals, proposal_electorate, ballots, proposal_delegations FROM ` + r,
			`GRANT UPDATE (title, body, application, application_message, application_at) ON proposals TO ` + r,
			`GRANT UPDATE (stakeholder_class) ON proposal_electorate TO ` + r,
		}
		for _, f := range definers {
			qs = append(qs, `REVOKE EXECUTE ON FUNCTION `+f+` FROM PUBLIC, `+r)
		}
		for _, f := range votes {
			qs = append(qs, `GRANT EXECUTE ON FUNCTION `+f+` TO `+r)
		}
		for _, q := range qs {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("granting the serving role %s: %w", role, err)
			}
		}
		return nil
	})
}

// votes are the owner's functions (SECURITY DEFINER) through which the serving role opens
// proposals, casts ballots and closes proposals (migration 163).
var votes = []string{
	`open_proposal(text, text, text, jsonb, bigint, jsonb, bigint)`,
	`cast_ballot(bigint, bigint, text)`,
	`freeze_delegations(bigint, boolean)`,
	`close_proposal(bigint, jsonb, boolean)`,
}

// gooseTable is goose's table of applied versions (its default name).
const gooseTable = "goose_db_version"
