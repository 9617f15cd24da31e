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

package servingrole_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	corev1 "k8s.io/api/core/v1"

	"github.com/cooperator-dev/cooperator/api/policy"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cooperative"
	"github.com/cooperator-dev/cooperator/controllers/metering"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/platform/server"
	"github.com/cooperator-dev/cooperator/test/harness"
	"github.com/cooperator-dev/cooperator/test/pgtest"
)

// TestRoleHygiene_6_MeteringRoleReadsSizesOfDatabasesClosedToPublic (issue 10, point 6): a
// shared-tier co-op's database, migrated by the platform as its owner, is closed to PUBLIC:
// another co-op's role can neither connect to it nor read its size, the serving role still
// connects, and the operator's metering role (the shared Cluster's managed role, a member of
// pg_read_all_stats only) reads its size from the postgres database, as the metering's
// PostgresSizer does with the URI of the Secret the operator builds, without being able to
// connect to the co-op's database itself. No CloudNativePG pod runs here, so the test creates
// the roles itself with exactly the attributes of the operator's RoleConfigurations (as
// CloudNativePG's instance manager would); the server trusts loopback connections and serves
// no TLS, so pg_hba and sslmode are the builders' tests (TestSharedMeteringRole_6_*).
func TestRoleHygiene_6_MeteringRoleReadsSizesOfDatabasesClosedToPublic(t *testing.T) {
	ctx := context.Background()
	cfg := hubconfig.Default()
	coop, err := harness.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if coop.Spec.Database.Tier != coopv1.DatabaseTierShared {
		t.Fatal("the sample changed tiers")
	}
	neighbour := coop.DeepCopy()
	neighbour.Name = "neighbour-coop"

	owner := cooperative.BuildSharedRole(coop, &cfg, 10).Spec.RoleConfiguration
	serving := cooperative.BuildSharedServingRole(coop, &cfg, 30).Spec.RoleConfiguration
	other := cooperative.BuildSharedRole(neighbour, &cfg, 10).Spec.RoleConfiguration
	cluster := cooperative.BuildSharedCluster(&cfg, []string{owner.Name, other.Name}, nil)
	if cluster.Spec.Managed == nil || len(cluster.Spec.Managed.Roles) != 1 {
		t.Fatalf("the shared Cluster manages %+v, want the metering role", cluster.Spec.Managed)
	}
	meter := cluster.Spec.Managed.Roles[0]

	superURL := pgtest.NewDB(t)
	dbName := superURL[strings.LastIndex(superURL, "/")+1 : strings.Index(superURL, "?")]
	super, err := pgx.Connect(ctx, superURL)
	if err != nil {
		t.Fatal(err)
	}
	defer super.Close(ctx)
	dropRoles(t, superURL, owner.Name, serving.Name, other.Name, meter.Name)
	createRole(t, super, owner, "owner-password")
	createRole(t, super, serving, "serving-password")
	createRole(t, super, other, "other-password")
	createRole(t, super, meter, "metering-password")
	if _, err := super.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{dbName}.Sanitize()+" OWNER TO "+pgx.Identifier{owner.Name}.Sanitize()); err != nil {
		t.Fatal(err)
	}

	as := func(role, db string) string {
		u, err := url.Parse(superURL)
		if err != nil {
			t.Fatal(err)
		}
		u.User, u.Path = url.User(role), "/"+db
		return u.String()
	}
	refused := func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "42501" // insufficient_privilege
	}
	connect := func(dsn string) error {
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			conn.Close(ctx)
		}
		return err
	}
	sizeAs := func(role string) (int64, error) {
		sizer := &metering.PostgresSizer{ConnString: as(role, "postgres"), DatabaseName: func(*coopv1.Cooperative) string { return dbName }}
		defer sizer.Close(ctx)
		return sizer.DatabaseSize(ctx, coop)
	}

	// As CloudNativePG creates it, the database is open to PUBLIC: another co-op's role
	// connects and reads its size (only pg_hba keeps it out).
	if err := connect(as(other.Name, dbName)); err != nil {
		t.Fatalf("before the migration another co-op's role should connect (the test proves nothing otherwise): %v", err)
	}
	if _, err := sizeAs(other.Name); err != nil {
		t.Fatalf("before the migration another co-op's role should read the size: %v", err)
	}

	// The platform starts: it migrates as the owner and serves as the serving role.
	s, err := server.New(server.Config{DatabaseURL: as(serving.Name, dbName), MigrateDatabaseURL: as(owner.Name, dbName), AdminToken: "staff-token",
		Policy: policy.FromCooperative(coop), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("the owner could not migrate: %v", err)
	}

	if err := connect(as(other.Name, dbName)); !refused(err) {
		t.Errorf("another co-op's role connects to the database: %v, want permission denied (42501)", err)
	}
	if _, err := sizeAs(other.Name); !refused(err) {
		t.Errorf("another co-op's role reads the database's size: %v, want permission denied (42501)", err)
	}
	if err := connect(as(serving.Name, dbName)); err != nil {
		t.Errorf("the serving role cannot connect: %v", err)
	}

	// The metering, as the operator wires it: the URI of the metering role's Secret, to the
	// postgres database over TLS (here at the test server, without TLS).
	secret := cooperative.BuildSharedMeteringSecret(&cfg, "metering-password")
	op, err := url.Parse(string(secret.Data[cooperative.DatabaseURIKey]))
	if err != nil {
		t.Fatal(err)
	}
	if op.User.Username() != meter.Name || op.Path != "/postgres" || op.Query().Get("sslmode") != "require" || string(secret.Data[corev1.BasicAuthUsernameKey]) != meter.Name {
		t.Fatalf("the metering URI is %s", strings.Replace(op.Redacted(), "xxxxx", "<password>", 1))
	}
	size, err := sizeAs(op.User.Username())
	if err != nil {
		t.Fatalf("the metering role cannot read the size of a database closed to PUBLIC: %v", err)
	}
	if size <= 0 {
		t.Errorf("size = %d", size)
	}
	// ... and it reads nothing else of the co-op: it cannot even connect to its database.
	if err := connect(as(meter.Name, dbName)); !refused(err) {
		t.Errorf("the metering role connects to the co-op's database: %v, want permission denied (42501)", err)
	}
	var super_, createDB, createRole_, replication, bypassRLS bool
	var connLimit int64
	var memberOf []string
	if err := super.QueryRow(ctx, `SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolconnlimit,
		ARRAY(SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid)
		FROM pg_roles r WHERE rolname = $1`, meter.Name).Scan(&super_, &createDB, &createRole_, &replication, &bypassRLS, &connLimit, &memberOf); err != nil {
		t.Fatal(err)
	}
	if super_ || createDB || createRole_ || replication || bypassRLS || connLimit <= 0 || strings.Join(memberOf, ",") != "pg_read_all_stats" {
		t.Errorf("the metering role has super %v createdb %v createrole %v replication %v bypassrls %v connection limit %d member of %v",
			super_, createDB, createRole_, replication, bypassRLS, connLimit, memberOf)
	}
}
