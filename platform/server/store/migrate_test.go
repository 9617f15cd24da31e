package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/cooperator-dev/cooperator/test/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// upTo migrates db to version, and no further.
func upTo(t *testing.T, db *sql.DB, version int64) {
	t.Helper()
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(context.Background(), version); err != nil {
		t.Fatal(err)
	}
}

// migratedTo is a new database migrated up to version, as its owner.
func migratedTo(t *testing.T, version int64) *sql.DB {
	t.Helper()
	db := stdlib.OpenDBFromPool(pgtest.Pool(t, pgtest.NewDB(t)))
	t.Cleanup(func() { _ = db.Close() })
	upTo(t, db, version)
	return db
}

// TestMigrationClearsTheWorkerOfWorkCancelledWhileOffered: migration 154 clears the
// worker of work cancelled while it was offered (nobody took it), and only of that work:
// work cancelled after its worker accepted it keeps them.
func TestMigrationClearsTheWorkerOfWorkCancelledWhileOffered(t *testing.T) {
	db := migratedTo(t, 153)
	ctx := context.Background()
	var customer, worker int64
	if err := db.QueryRowContext(ctx, `INSERT INTO members (roles) VALUES ('{customer}') RETURNING id`).Scan(&customer); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `INSERT INTO members (roles) VALUES ('{worker}') RETURNING id`).Scan(&worker); err != nil {
		t.Fatal(err)
	}
	item := func(states ...string) int64 {
		t.Helper()
		var id int64
		if err := db.QueryRowContext(ctx, `INSERT INTO work_items (vertical, kind, customer_id, worker_id, state, price_cents)
			VALUES ('ride-sharing', 'ride', $1, $2, 'cancelled', 1000) RETURNING id`, customer, worker).Scan(&id); err != nil {
			t.Fatal(err)
		}
		from := sql.NullString{}
		for _, to := range states {
			if _, err := db.ExecContext(ctx, `INSERT INTO work_history (work_id, from_state, to_state, worker_id) VALUES ($1, $2, $3, $4)`, id, from, to, worker); err != nil {
				t.Fatal(err)
			}
			from = sql.NullString{String: to, Valid: true}
		}
		return id
	}
	whileOffered := item("requested", "offered", "cancelled")
	afterAccepting := item("requested", "offered", "accepted", "cancelled")
	upTo(t, db, 154)
	for id, want := range map[int64]bool{whileOffered: false, afterAccepting: true} {
		var named, cancelNamed bool
		if err := db.QueryRowContext(ctx, `SELECT worker_id IS NOT NULL,
				(SELECT h.worker_id IS NOT NULL FROM work_history h WHERE h.work_id = $1 AND h.to_state = 'cancelled')
			FROM work_items WHERE id = $1`, id).Scan(&named, &cancelNamed); err != nil {
			t.Fatal(err)
		}
		if named != want || cancelNamed != want {
			t.Errorf("work %d names its worker: %v, its cancel names them: %v; want %v", id, named, cancelNamed, want)
		}
	}
}

// TestMigrationTakesTheMemberOffDisbursementProposals: migration 160 rewrites the
// proposals opened before it that put a member's disbursement to the vote: "to a member",
// no author; an outside payee's stays named, and other proposals are as they were.
func TestMigrationTakesTheMemberOffDisbursementProposals(t *testing.T) {
	db := migratedTo(t, 159)
	ctx := context.Background()
	var asker int64
	if err := db.QueryRowContext(ctx, `INSERT INTO members (roles) VALUES ('{worker}') RETURNING id`).Scan(&asker); err != nil {
		t.Fatal(err)
	}
	proposal := func(body string) int64 {
		t.Helper()
		var id int64
		if err := db.QueryRowContext(ctx, `INSERT INTO proposals (title, body, created_by) VALUES ('t', $1, $2) RETURNING id`, body, asker).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	toMember := proposal(fmt.Sprintf("Pay 500 cents from the hardship fund to member %d. Reason: my rent", asker))
	toPayee := proposal("Pay 700 cents from the hardship fund to an outside payee, Garage. Reason: the van")
	motion := proposal("Pay 900 cents to member 7. Reason: a motion's words")
	for id, member := range map[int64]any{toMember: asker, toPayee: nil} {
		payee := any("Garage")
		if member != nil {
			payee = nil
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO disbursements (fund, amount_cents, member_id, payee, reason, requested_by, approval, proposal_id, status)
			VALUES ('hardship', 500, $1, $2, 'r', $3, 'proposal', $4, 'pending')`, member, payee, asker, id); err != nil {
			t.Fatal(err)
		}
	}
	upTo(t, db, 160)
	for id, want := range map[int64]struct {
		body   string
		author bool
	}{
		toMember: {"Pay 500 cents from the hardship fund to a member. Reason: my rent", false},
		toPayee:  {"Pay 700 cents from the hardship fund to an outside payee, Garage. Reason: the van", false},
		motion:   {"Pay 900 cents to member 7. Reason: a motion's words", true},
	} {
		var body string
		var author bool
		if err := db.QueryRowContext(ctx, `SELECT body, created_by IS NOT NULL FROM proposals WHERE id = $1`, id).Scan(&body, &author); err != nil {
			t.Fatal(err)
		}
		if body != want.body || author != want.author {
			t.Errorf("proposal %d: %q (author %v), want %q (author %v)", id, body, author, want.body, want.author)
		}
	}
}

// TestMigrationTakesTheWorkersReasonOffTheHistory: migration 161 rewrites the notes of a
// work's history that said why its worker's offer was withdrawn (the customer reads them)
// to say only that the offer moved on; other notes are as they were.
func TestMigrationTakesTheWorkersReasonOffTheHistory(t *testing.T) {
	db := migratedTo(t, 160)
	ctx := context.Background()
	var customer, id int64
	if err := db.QueryRowContext(ctx, `INSERT INTO members (roles) VALUES ('{customer}') RETURNING id`).Scan(&customer); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `INSERT INTO work_items (vertical, kind, customer_id, state, price_cents)
		VALUES ('home-services', 'booking', $1, 'requested', 5000) RETURNING id`, customer).Scan(&id); err != nil {
		t.Fatal(err)
	}
	notes := map[string]string{
		"offer withdrawn: the worker took time off; fair matching: least recently assigned":            "the offer moved on; fair matching: least recently assigned",
		"offer withdrawn: the worker no longer meets what the work needs; no other worker available":   "the offer moved on; no other worker available",
		"offer withdrawn: the worker can no longer take work; urgent: offered to workers 4, 5 at once": "the offer moved on; urgent: offered to workers 4, 5 at once",
		"offer expired after 2m0s; no other worker available":                                          "offer expired after 2m0s; no other worker available",
		"the customer's words: offer withdrawn: the worker took time off":                              "the customer's words: offer withdrawn: the worker took time off",
	}
	for note := range notes {
		if _, err := db.ExecContext(ctx, `INSERT INTO work_history (work_id, to_state, note) VALUES ($1, 'offered', $2)`, id, note); err != nil {
			t.Fatal(err)
		}
	}
	upTo(t, db, 161)
	rows, err := db.QueryContext(ctx, `SELECT note FROM work_history WHERE work_id = $1`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]bool{}
	for rows.Next() {
		var note string
		if err := rows.Scan(&note); err != nil {
			t.Fatal(err)
		}
		got[note] = true
	}
	for before, after := range notes {
		if !got[after] {
			t.Errorf("%q is not %q after the migration: %v", before, after, got)
		}
	}
}

// TestMigrationTakesWorkersActivityOffTheHistory: migration 166 rewrites the notes of a
// work's history that said the fair rule's values (when the worker was last assigned,
// their rating and member id), the worker asked for by name and the workers urgent work
// was offered to, and takes the declining worker off a decline, which says only that the
// offer moved on; other notes and actors are as they were.
func TestMigrationTakesWorkersActivityOffTheHistory(t *testing.T) {
	db := migratedTo(t, 165)
	ctx := context.Background()
	var customer, worker, id int64
	if err := db.QueryRowContext(ctx, `INSERT INTO members (roles) VALUES ('{customer}') RETURNING id`).Scan(&customer); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `INSERT INTO members (roles) VALUES ('{worker}') RETURNING id`).Scan(&worker); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `INSERT INTO work_items (vertical, kind, customer_id, state, price_cents)
		VALUES ('home-services', 'booking', $1, 'requested', 5000) RETURNING id`, customer).Scan(&id); err != nil {
		t.Fatal(err)
	}
	fair := "fair matching: least recently assigned available qualified worker first, then highest rating, then lowest member id"
	type entry struct {
		from, to, note string
		actor          any
	}
	entries := map[entry]entry{
		{"requested", "offered", "fair matching: least recently assigned available qualified worker first (last assigned 2026-11-20T10:11:12Z), then highest rating (4.50 of 5 from 2 ratings), then lowest member id (7)", customer}:             {"requested", "offered", fair, customer},
		{"requested", "offered", "a regular worker of this customer first; fair matching: least recently assigned available qualified worker first (never assigned before), then highest rating (unrated), then lowest member id (12)", customer}: {"requested", "offered", "a regular worker of this customer first; " + fair, customer},
		{"requested", "offered", "asked for by the customer (worker 7), available and free for this work", customer}:                                                                                                                              {"requested", "offered", "asked for by the customer, available and free for this work", customer},
		{"offered", "offered", "offer expired after 5m0s; urgent: offered to workers 4, 5, 12 at once", nil}:                                                                                                                                      {"offered", "offered", "offer expired after 5m0s; urgent: offered to 3 workers at once", nil},
		{"offered", "offered", "the offer moved on; urgent: offered to workers 4 at once", nil}:                                                                                                                                                   {"offered", "offered", "the offer moved on; urgent: offered to 1 workers at once", nil},
		{"offered", "offered", "declined; fair matching: least recently assigned available qualified worker first (last assigned 2026-11-25T13:14:15Z), then highest rating (unrated), then lowest member id (9)", worker}:                        {"offered", "offered", "the offer moved on; " + fair, nil},
		{"offered", "requested", "declined; no other worker available", worker}:                                                                                                                                                                   {"offered", "requested", "the offer moved on; no other worker available", nil},
		{"offered", "cancelled", "declined; my words", customer}:                                                                                                                                                                                  {"offered", "cancelled", "declined; my words", customer},
		{"accepted", "in_progress", "", worker}: {"accepted", "in_progress", "", worker},
	}
	for e := range entries {
		if _, err := db.ExecContext(ctx, `INSERT INTO work_history (work_id, from_state, to_state, actor_id, note) VALUES ($1, $2, $3, $4, $5)`,
			id, e.from, e.to, e.actor, e.note); err != nil {
			t.Fatal(err)
		}
	}
	upTo(t, db, 166)
	rows, err := db.QueryContext(ctx, `SELECT from_state, to_state, note, actor_id FROM work_history WHERE work_id = $1`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[entry]bool{}
	for rows.Next() {
		var e entry
		var actor *int64
		if err := rows.Scan(&e.from, &e.to, &e.note, &actor); err != nil {
			t.Fatal(err)
		}
		if actor != nil {
			e.actor = *actor
		}
		got[e] = true
	}
	for before, after := range entries {
		if !got[after] {
			t.Errorf("%v is not %v after the migration: %v", before, after, got)
		}
	}
}
