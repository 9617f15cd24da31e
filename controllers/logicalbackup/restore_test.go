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

// Issue 10, point 4: the dump and restore commands of a shared-tier co-op's logical backup,
// against a real PostgreSQL server with two co-ops' databases: the dump of one restores into
// a fresh database with equal data, and the other database is untouched. The dump also
// revokes CONNECT on the dumped database from PUBLIC (issue 10, point 6).
func TestLogicalDumpAndRestoreOneCoopLeavesTheOtherUntouched(t *testing.T) {
	coopA, coopB := pgtest.NewDB(t), pgtest.NewDB(t)
	fill(t, coopA, "a")
	fill(t, coopB, "b")
	beforeB := contents(t, coopB)
	wantA := contents(t, coopA)

	dump := filepath.Join(t.TempDir(), "coop_a.dump")
	envA := append(libpqEnv(t, coopA), "DUMP_FILE="+dump)
	run(t, envA, "sh", "-c", DumpScript)
	if _, err := os.Stat(dump + ".partial"); !os.IsNotExist(err) {
		t.Errorf("the partial dump is left behind: %v", err)
	}

	// The co-op loses data after the dump ...
	exec1(t, coopA, `DELETE FROM payments`, `DELETE FROM members WHERE id > 10`)
	// ... and restores its dump into a fresh database (the README's procedure).
	fresh := pgtest.NewDB(t)
	run(t, libpqEnv(t, fresh), RestoreArgs(dump, strings.TrimPrefix(mustURL(t, fresh).Path, "/"))...)

	if got := contents(t, fresh); got != wantA {
		t.Errorf("restored data differs:\n got %s\nwant %s", got, wantA)
	}
	if got := contents(t, coopB); got != beforeB {
		t.Errorf("the other co-op's database changed:\n got %s\nwant %s", got, beforeB)
	}

	var publicConnect bool
	conn, err := pgx.Connect(context.Background(), coopA)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(context.Background(),
		`SELECT coalesce(bool_or(a.grantee = 0 AND a.privilege_type = 'CONNECT'), false)
		   FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a WHERE d.datname = current_database()`).Scan(&publicConnect); err != nil {
		t.Fatal(err)
	}
	if publicConnect {
		t.Error("PUBLIC may still CONNECT to the dumped database")
	}
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
