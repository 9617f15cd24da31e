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
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestRoleHygiene_6_MigrationRevokesConnectFromPublic (issue 10, point 6): every start's
// migration, as the owner, revokes CONNECT on the database from PUBLIC, so another role of
// the server (another co-op's, in the hub's shared cluster) can no longer connect to it,
// while the serving role, granted CONNECT, still can.
func TestRoleHygiene_6_MigrationRevokesConnectFromPublic(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	u, err := url.Parse(e.s.cfg.MigrateDatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	db := strings.TrimPrefix(u.Path, "/")
	outsider := db + "_outsider"
	if _, err := e.owner.Exec(ctx, `CREATE ROLE `+pgx.Identifier{outsider}.Sanitize()+` LOGIN`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = e.owner.Exec(context.Background(), `DROP OWNED BY `+pgx.Identifier{outsider}.Sanitize())
		_, _ = e.owner.Exec(context.Background(), `DROP ROLE `+pgx.Identifier{outsider}.Sanitize())
	})
	outsiderURL := *u
	outsiderURL.User = url.User(outsider)
	connect := func(dsn string) error {
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			conn.Close(ctx)
		}
		return err
	}
	refused := func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "42501" // insufficient_privilege
	}

	if err := connect(outsiderURL.String()); !refused(err) {
		t.Fatalf("after the first migration another role connects: %v, want permission denied (42501)", err)
	}

	// A database as CloudNativePG creates it, CONNECT open to PUBLIC: the next start's
	// migration closes it again.
	if _, err := e.owner.Exec(ctx, `GRANT CONNECT ON DATABASE `+pgx.Identifier{db}.Sanitize()+` TO PUBLIC`); err != nil {
		t.Fatal(err)
	}
	if err := connect(outsiderURL.String()); err != nil {
		t.Fatalf("with CONNECT granted to PUBLIC another role should connect (the test proves nothing otherwise): %v", err)
	}
	if err := e.s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := connect(outsiderURL.String()); !refused(err) {
		t.Errorf("after a migration another role connects: %v, want permission denied (42501)", err)
	}
	if err := connect(e.s.cfg.DatabaseURL); err != nil {
		t.Errorf("the serving role can no longer connect: %v", err)
	}
	if rr := e.call("GET", "/v1/members", adminToken, nil); rr.status != 200 {
		t.Errorf("the service, serving as its role, answers %d: %s", rr.status, rr.body)
	}
}
