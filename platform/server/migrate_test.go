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

package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cooperator-dev/cooperator/test/pgtest"
)

// holdAddress listens on a loopback port for the test's duration and returns its address:
// a process told to listen there fails.
func holdAddress(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// freeAddress is a loopback address nothing listens on.
func freeAddress(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestMigrateInitContainer runs the two processes of the operator's platform pod on a
// fresh database, with the environment each container gets: the init container
// (MIGRATE=only) holds the owner's MIGRATE_DATABASE_URL, migrates, grants the serving role
// and exits without listening; the serving container (MIGRATE=false) holds only the
// serving role's DATABASE_URL, runs no DDL or GRANT, and serves.
func TestMigrateInitContainer(t *testing.T) {
	ctx := context.Background()
	owner := pgtest.NewDB(t)
	serving := pgtest.ServingRoleURL(t, owner)
	ownerPool := pgtest.Pool(t, owner)

	// The init container. Its listen addresses are taken: were it to listen, it would fail.
	t.Setenv("MIGRATE", "only")
	t.Setenv("DATABASE_URL", serving)
	t.Setenv("MIGRATE_DATABASE_URL", owner)
	t.Setenv("LISTEN_ADDRESS", holdAddress(t))
	t.Setenv("METRICS_LISTEN", holdAddress(t))
	t.Setenv("COOP_POLICY_FILE", "") // no policy: migrating needs none
	t.Setenv("ADMIN_TOKEN", "")
	done := make(chan error, 1)
	go func() { done <- Main(ctx, []string{"--vertical=ride-sharing"}) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the migration exited with %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the migration did not exit")
	}
	var version int64
	if err := ownerPool.QueryRow(ctx, `SELECT max(version_id) FROM goose_db_version`).Scan(&version); err != nil || version == 0 {
		t.Fatalf("schema version %d (%v), want migrated", version, err)
	}
	var tableOwner string
	if err := ownerPool.QueryRow(ctx, `SELECT tableowner FROM pg_tables WHERE tablename = 'ledger_entries'`).Scan(&tableOwner); err != nil || strings.HasSuffix(tableOwner, "_serving") {
		t.Fatalf("the ledger is owned by %q (%v), want the owner", tableOwner, err)
	}
	grants := func() string {
		var acl string
		if err := ownerPool.QueryRow(ctx, `SELECT coalesce(relacl::text, '') FROM pg_class WHERE relname = 'ledger_entries'`).Scan(&acl); err != nil {
			t.Fatal(err)
		}
		return acl
	}
	granted := grants()
	if u, _ := url.Parse(serving); !strings.Contains(granted, u.User.Username()+"=ar/") {
		t.Fatalf("the ledger's grants %s: want SELECT and INSERT (ar) for the serving role", granted)
	}

	// The serving container, on the migrated database.
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(file, []byte(ridePolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddress(t)
	t.Setenv("MIGRATE", "false")
	t.Setenv("MIGRATE_DATABASE_URL", "")
	t.Setenv("LISTEN_ADDRESS", addr)
	t.Setenv("METRICS_LISTEN", "")
	t.Setenv("COOP_POLICY_FILE", file)
	t.Setenv("ADMIN_TOKEN", adminToken)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { done <- Main(sctx, []string{"--vertical=ride-sharing"}) }()
	eventually(t, "the serving container to be ready", func() bool {
		select {
		case err := <-done:
			t.Fatalf("the serving container exited: %v", err)
		default:
		}
		r, err := apiClient(t).Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == 200
	})
	req, _ := http.NewRequest("POST", "http://"+addr+"/v1/members", strings.NewReader(
		`{"name":"Dan Driver","email":"dan@example.org","roles":["worker"],"stakeholderClass":"drivers"}`))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	r, err := apiClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 201 {
		t.Fatalf("adding a member as the serving role: %d %s", r.StatusCode, body)
	}
	if got := grants(); got != granted {
		t.Errorf("the serving container changed the ledger's grants: %s, was %s", got, granted)
	}
	stopMain(t, cancel, done)
}

// TestMigrateModes: what each --migrate mode refuses, with an error that names the rule
// and no URL or password.
func TestMigrateModes(t *testing.T) {
	owner := pgtest.NewDB(t)
	serving := pgtest.ServingRoleURL(t, owner)
	t.Setenv("LISTEN_ADDRESS", holdAddress(t))
	t.Setenv("METRICS_LISTEN", "")
	t.Setenv("COOP_POLICY_FILE", "")
	t.Setenv("MIGRATE_DATABASE_URL", "")
	t.Setenv("DATABASE_URL", serving)
	ctx := context.Background()

	if err := Main(ctx, []string{"--migrate=sometimes"}); err == nil || !strings.Contains(err.Error(), "--migrate") || !strings.Contains(err.Error(), "only") {
		t.Errorf("--migrate=sometimes: %v, want an error naming the flag and its values", err)
	}

	// The serving process refuses the owner's credentials it would not use.
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(file, []byte(ridePolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("COOP_POLICY_FILE", file)
	t.Setenv("MIGRATE", "false")
	t.Setenv("MIGRATE_DATABASE_URL", owner)
	if err := Main(ctx, nil); err == nil || !strings.Contains(err.Error(), "must not hold the owner's credentials") || strings.Contains(err.Error(), owner) {
		t.Errorf("MIGRATE=false with MIGRATE_DATABASE_URL: %v, want a refusal", err)
	}

	// A migration that cannot connect exits with the error, without the password.
	const password = "s3cret-owner-password"
	u, _ := url.Parse(owner)
	u.User = url.UserPassword("no_such_owner", password)
	t.Setenv("MIGRATE", "only")
	t.Setenv("MIGRATE_DATABASE_URL", u.String())
	tctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	err := Main(tctx, nil)
	var pe *pgconn.PgError
	if err == nil || !strings.Contains(err.Error(), "migrating the database") || !errors.As(err, &pe) {
		t.Fatalf("a migration as an unknown owner: %v, want the database's refusal", err)
	}
	if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), "postgresql://") {
		t.Errorf("the error carries the URL or the password: %v", err)
	}
	if _, err := pgtest.Pool(t, owner).Exec(ctx, `SELECT 1 FROM goose_db_version`); err == nil {
		t.Error("the failed migration migrated")
	}
	t.Setenv("DATABASE_URL", "")
	if err := Main(ctx, nil); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("a migration without the serving role's URL: %v, want an error naming DATABASE_URL", err)
	}
}

// TestRestoreWithoutPrivilegesGrantsAsMigrated: a co-op's database restored from a dump
// taken, and restored, without privileges (an import: pg_dump and pg_restore
// --no-privileges) has every function PostgreSQL created again callable by PUBLIC, notify
// too, and the migrations do not run again; the service's start (store.GrantServing) puts
// back what the migrations revoked: the serving role may not call notify (it would write
// any notification), may create no temporary table (one is found, before the schema's,
// by the functions that run as the owner), and its writes still notify.
func TestRestoreWithoutPrivilegesGrantsAsMigrated(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.customer("Rita Rider")
	w := e.worker("Dan Driver")
	bin, err := pgtest.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	dump := filepath.Join(t.TempDir(), "database.dump")
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(filepath.Join(bin, name), args...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
	}
	run("pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--dbname="+e.owner.Config().ConnString(), "--file="+dump)
	restored := pgtest.NewDB(t)
	run("pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--dbname="+restored, dump)
	owner := pgtest.Pool(t, restored)
	const sig = "notify(bigint[], text, bigint, text, timestamptz)"
	var public bool
	if err := owner.QueryRow(ctx, `SELECT has_function_privilege('public', $1, 'EXECUTE')`, sig).Scan(&public); err != nil || !public {
		t.Fatalf("after the restore, PUBLIC may call notify: %v (%v); the test restores nothing like an import", public, err)
	}

	s, err := New(Config{Policy: mustPolicy(t, ridePolicy), MigrateDatabaseURL: restored, DatabaseURL: pgtest.ServingRoleURL(t, restored),
		AdminToken: adminToken, Logger: quietLogger(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		fmt.Sprintf(`SELECT notify(ARRAY[%d::bigint], 'workCancelled', 1, '', now())`, c.id),
		`CREATE TEMPORARY TABLE members (id bigint, erased_at timestamptz)`,
	} {
		var pe *pgconn.PgError
		if _, err := s.Pool().Exec(ctx, q); !errors.As(err, &pe) || pe.Code != "42501" {
			t.Errorf("the serving role of the restored database may %s: %v, want permission denied (42501)", q, err)
		}
	}
	var functions []string
	rows, err := owner.Query(ctx, `SELECT p.oid::regprocedure::text FROM pg_proc p
		WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef AND has_function_privilege('public', p.oid, 'EXECUTE')`)
	if err == nil {
		functions, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil || len(functions) > 0 {
		t.Errorf("PUBLIC may still call %v (%v)", functions, err)
	}
	// The triggers, which call notify as the owner, still notify.
	h := apiValidated(t, s.Handler())
	served := &env{t: t, s: s, h: h, owner: owner, clock: e.clock}
	id := served.rideOfferedTo(c, w)
	served.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", id), w.token, nil)
	if unread, got := served.notified(c); unread != 1 || len(got) != 1 {
		t.Errorf("the customer's notifications after their ride was accepted: %d unread, %v", unread, got)
	}
}
