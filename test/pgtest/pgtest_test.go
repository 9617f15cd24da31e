package pgtest

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

func TestFreshDatabases(t *testing.T) {
	ctx := context.Background()
	a, b := NewDB(t), NewDB(t)
	if a == b {
		t.Fatal("same database twice")
	}
	conn, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE x (id int)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("tables %d, %v", n, err)
	}
}

// TestLaunchOnATakenPort starts a second server on the port of the package's server, as
// happens when another test package's server takes the port freePort returned: the
// launch must say so (and Start then tries another port), not hand out the other server.
func TestLaunchOnATakenPort(t *testing.T) {
	d, err := initDataDir()
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(d.dir)
	s, err := d.launch(current.port)
	if err == nil {
		s.Stop()
		t.Fatal("a second server on a taken port was handed out")
	}
	t.Log(err)
	if !errors.Is(err, errPortTaken) {
		t.Fatalf("got %v, want errPortTaken", err)
	}
}

// TestOwnedDatabase: NewOwnedDB's role is shaped as CloudNativePG's application owner: it
// owns the database and creates in its schema public, and is no superuser, nor may it
// create roles or databases.
func TestOwnedDatabase(t *testing.T) {
	ctx := context.Background()
	db := NewOwnedDB(t)
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var super, createRole, createDB, owns bool
	if err := conn.QueryRow(ctx, `SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb, d.datdba = r.oid
		FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = current_database()`).Scan(&super, &createRole, &createDB, &owns); err != nil {
		t.Fatal(err)
	}
	if super || createRole || createDB || !owns {
		t.Errorf("the owner: superuser %v, createrole %v, createdb %v, owns the database %v", super, createRole, createDB, owns)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE x (id int)"); err != nil {
		t.Errorf("the owner may not create a table in public: %v", err)
	}
	serving := ServingRoleURL(t, db)
	if serving == db {
		t.Error("the serving role's URL is the owner's")
	}
}
