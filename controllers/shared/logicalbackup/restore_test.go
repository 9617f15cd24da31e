/*
Copyright 2026 The cooperator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package logicalbackup

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/test/harness"
	"github.com/cooperator-dev/cooperator/test/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// libpqEnv is the environment the CronJob's pod gives pg_dump, for a database of the test
// server (which has no TLS: the pod's PGSSLMODE=require is replaced by disable here).
func libpqEnv(t *testing.T, dbURL string) []string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := pgtest.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	return append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"PGHOST="+u.Hostname(), "PGPORT="+u.Port(), "PGUSER="+u.User.Username(),
		"PGDATABASE="+strings.TrimPrefix(u.Path, "/"), "PGSSLMODE=disable")
}

func run(t *testing.T, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func exec1(t *testing.T, dbURL string, sqls ...string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, sql := range sqls {
		if _, err := conn.Exec(context.Background(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

// contents is every row of the test tables, in order, as text.
func contents(t *testing.T, dbURL string) string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var s string
	if err := conn.QueryRow(context.Background(),
		`SELECT coalesce((SELECT string_agg(format('%s|%s|%s', id, name, amount_cents), ',' ORDER BY id) FROM members), '') || ';' ||
		        coalesce((SELECT string_agg(format('%s|%s', id, member_id), ',' ORDER BY id) FROM payments), '') || ';' ||
		        (SELECT last_value FROM members_id_seq)`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func fill(t *testing.T, dbURL, who string) {
	exec1(t, dbURL,
		`CREATE TABLE members (id bigserial PRIMARY KEY, name text NOT NULL, amount_cents bigint NOT NULL)`,
		`CREATE TABLE payments (id bigserial PRIMARY KEY, member_id bigint NOT NULL REFERENCES members(id))`,
		`INSERT INTO members (name, amount_cents) SELECT '`+who+`-' || g, g * 100 FROM generate_series(1, 50) g`,
		`INSERT INTO payments (member_id) SELECT g FROM generate_series(1, 50, 3) g`)
}

// coopDB creates a co-op's role and its database, owned by it, as CloudNativePG does for a
// shared-tier co-op, and returns the database's URL.
func coopDB(t *testing.T, server, coop string) string {
	t.Helper()
	db := "coop_" + strings.ReplaceAll(coop, "-", "_")
	exec1(t, server, "CREATE ROLE "+db+" LOGIN", "CREATE DATABASE "+db+" OWNER "+db)
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), server)
		if err != nil {
			return
		}
		defer conn.Close(context.Background())
		for _, sql := range []string{"DROP DATABASE IF EXISTS " + db + " WITH (FORCE)", "DROP DATABASE IF EXISTS " + db + "_old WITH (FORCE)", "DROP ROLE IF EXISTS " + db} {
			_, _ = conn.Exec(context.Background(), sql)
		}
	})
	u := mustURL(t, server)
	u.Path = "/" + db
	u.User = url.User(db)
	return u.String()
}

// Issue 10, point 4: the dump of the CronJob and the README's restore procedure
// (hack/restore-shared-coop.sh), run against a real PostgreSQL server holding two co-ops'
// databases, each owned by its role as in the shared Cluster. The dump, taken as the co-op's
// own role, restores in place of its database with equal data, still owned by its role; the
// other co-op's database is untouched. The dump also revokes CONNECT on the database from
// PUBLIC (issue 10, point 6), and so does the restore.
func TestLogicalDumpAndRestoreOneCoopLeavesTheOtherUntouched(t *testing.T) {
	server := mustURL(t, pgtest.NewDB(t))
	server.Path = "/postgres"
	suffix := strings.TrimPrefix(mustURL(t, pgtest.NewDB(t)).Path, "/t_")
	coopA, coopB := "care-"+strings.ReplaceAll(suffix, "_", "-"), "home-"+strings.ReplaceAll(suffix, "_", "-")
	urlA, urlB := coopDB(t, server.String(), coopA), coopDB(t, server.String(), coopB)
	fill(t, urlA, "a")
	fill(t, urlB, "b")
	beforeB := contents(t, urlB)
	wantA := contents(t, urlA)

	dump := filepath.Join(t.TempDir(), "coop_a.dump")
	run(t, append(libpqEnv(t, urlA), "DUMP_FILE="+dump), "sh", "-c", DumpScript)
	if _, err := os.Stat(dump + ".partial"); !os.IsNotExist(err) {
		t.Errorf("the partial dump is left behind: %v", err)
	}
	if publicMayConnect(t, urlA) {
		t.Error("after the dump, PUBLIC may still CONNECT to the co-op's database")
	}

	// The co-op loses data after the dump, and restores it with the README's procedure,
	// while a session of its platform is still connected.
	exec1(t, urlA, `DELETE FROM payments`, `DELETE FROM members WHERE id > 10`)
	damaged := contents(t, urlA)
	open, err := pgx.Connect(context.Background(), urlA)
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close(context.Background())
	root := harness.MustRepoRoot(t)
	run(t, append(libpqEnv(t, server.String()), "RUN="), filepath.Join(root, "hack", "restore-shared-coop.sh"), coopA, dump)

	if got := contents(t, urlA); got != wantA {
		t.Errorf("restored data differs:\n got %s\nwant %s", got, wantA)
	}
	old := mustURL(t, urlA)
	old.Path += "_old"
	exec1(t, server.String(), "ALTER DATABASE "+strings.TrimPrefix(old.Path, "/")+" ALLOW_CONNECTIONS true")
	if got := contents(t, old.String()); got != damaged {
		t.Errorf("the previous database is not kept as %s", old.Path)
	}
	if got := contents(t, urlB); got != beforeB {
		t.Errorf("the other co-op's database changed:\n got %s\nwant %s", got, beforeB)
	}
	var owner string
	conn, err := pgx.Connect(context.Background(), urlA)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(context.Background(), `SELECT tableowner FROM pg_tables WHERE tablename = 'members'`).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	if want := mustURL(t, urlA).User.Username(); owner != want {
		t.Errorf("restored tables are owned by %s, want the co-op's role %s", owner, want)
	}
	if publicMayConnect(t, urlA) {
		t.Error("after the restore, PUBLIC may CONNECT to the co-op's database")
	}
}

// publicMayConnect says whether PUBLIC holds CONNECT on the database of dbURL.
func publicMayConnect(t *testing.T, dbURL string) bool {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var may bool
	if err := conn.QueryRow(context.Background(),
		`SELECT coalesce(bool_or(a.grantee = 0 AND a.privilege_type = 'CONNECT'), false)
		   FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a WHERE d.datname = current_database()`).Scan(&may); err != nil {
		t.Fatal(err)
	}
	return may
}

// A dump that fails leaves no file to upload.
func TestLogicalDumpFailureLeavesNoDump(t *testing.T) {
	db := pgtest.NewDB(t)
	dump := filepath.Join(t.TempDir(), "x.dump")
	env := append(libpqEnv(t, db), "DUMP_FILE="+dump)
	env = append(env, "PGDATABASE=no_such_database")
	cmd := exec.Command("sh", "-c", DumpScript)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("the dump of a missing database succeeded: %s", out)
	}
	if _, err := os.Stat(dump); !os.IsNotExist(err) {
		t.Errorf("a failed dump left %s: %v", dump, err)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
