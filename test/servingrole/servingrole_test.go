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

// Package servingrole_test runs the platform service against a real PostgreSQL server with
// the two roles the operator describes to CloudNativePG: the database's owner, which
// migrates, and the serving role of the co-op's Cluster spec (dedicated tier) or
// DatabaseRole (shared tier), which serves. No CloudNativePG instance runs here, so the
// test creates each role itself, with exactly the attributes of the operator's
// RoleConfiguration (as CloudNativePG's instance manager would: CREATE ROLE with those
// options), and connects with the user and password of the Secret the operator builds.
// What the serving role may do once the owner granted it is the platform's own test
// (platform/server TestSecurity_ServingRoleCannotRewriteLedger); this one checks that the
// operator's roles and wiring put the platform in that position.
package servingrole_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	corev1 "k8s.io/api/core/v1"

	"github.com/cooperator-dev/cooperator/api/policy"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cooperative"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/platform/server"
	"github.com/cooperator-dev/cooperator/test/harness"
	"github.com/cooperator-dev/cooperator/test/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// createRole creates the role rc describes, as CloudNativePG's instance manager does for a
// managed role or a DatabaseRole: every attribute of the spec, explicitly.
func createRole(t *testing.T, conn *pgx.Conn, rc cnpgv1.RoleConfiguration, password string) {
	t.Helper()
	opt := func(on bool, name string) string {
		if on {
			return name
		}
		return "NO" + name
	}
	inherit := rc.Inherit == nil || *rc.Inherit
	limit := rc.ConnectionLimit
	if limit == 0 {
		limit = -1 // CloudNativePG's default: no limit
	}
	pw := "PASSWORD NULL"
	if !rc.DisablePassword {
		pw = "PASSWORD '" + strings.ReplaceAll(password, "'", "''") + "'"
	}
	role := pgx.Identifier{rc.Name}.Sanitize()
	sql := fmt.Sprintf("CREATE ROLE %s WITH %s %s %s %s %s %s %s CONNECTION LIMIT %d %s", role,
		opt(rc.Login, "LOGIN"), opt(rc.Superuser, "SUPERUSER"), opt(rc.CreateDB, "CREATEDB"), opt(rc.CreateRole, "CREATEROLE"),
		opt(rc.Replication, "REPLICATION"), opt(rc.BypassRLS, "BYPASSRLS"), opt(inherit, "INHERIT"), limit, pw)
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", strings.Replace(sql, password, "<password>", 1), err)
	}
	for _, r := range rc.InRoles {
		if _, err := conn.Exec(context.Background(), "GRANT "+pgx.Identifier{r}.Sanitize()+" TO "+role); err != nil {
			t.Fatal(err)
		}
	}
}

// dropRoles removes roles the test created from the server (roles are the server's, not
// the database's) once the platform let go of its connections.
func dropRoles(t *testing.T, superURL string, roles ...string) {
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, superURL)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		for _, r := range roles {
			id := pgx.Identifier{r}.Sanitize()
			for _, stmt := range []string{"REASSIGN OWNED BY " + id + " TO postgres", "DROP OWNED BY " + id, "DROP ROLE " + id} {
				if _, err := conn.Exec(ctx, stmt); err != nil {
					t.Errorf("%s: %v", stmt, err)
				}
			}
		}
	})
}

// atServer is the URI of secret's user and password to the test's database: the test
// server listens on its own port, and serves no TLS, so the operator's host, port, database
// name and sslmode (checked in the cooperative package's TestServingRole_7_* tests) give
// way to pgtest's.
func atServer(t *testing.T, secret *corev1.Secret, dbURL string) string {
	t.Helper()
	op, err := url.Parse(string(secret.Data[cooperative.DatabaseURIKey]))
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = op.User
	return u.String()
}

func TestServingRole_7_PlatformServesWithTheOperatorsRoleAndCannotRewriteTheLedger(t *testing.T) {
	cfg := hubconfig.Default()
	dedicated, err := harness.Sample("coop_v1alpha1_cooperative_fairride.yaml")
	if err != nil {
		t.Fatal(err)
	}
	shared, err := harness.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if dedicated.Spec.Database.Tier != coopv1.DatabaseTierDedicated || shared.Spec.Database.Tier != coopv1.DatabaseTierShared {
		t.Fatal("the samples changed tiers")
	}
	const password = "serving-password"
	for _, tc := range []struct {
		tier    string
		coop    *coopv1.Cooperative
		owner   cnpgv1.RoleConfiguration
		serving cnpgv1.RoleConfiguration
		secret  *corev1.Secret
	}{
		{"dedicated", dedicated,
			// CloudNativePG's initdb makes the owner: a plain login role.
			cnpgv1.RoleConfiguration{Name: cooperative.DedicatedOwnerRole, Login: true},
			cooperative.BuildCluster(dedicated, nil, &cfg, cooperative.DatabasePlan{ServerName: dedicated.Name, Bootstrap: coopv1.BootstrapInitDB}).Spec.Managed.Roles[0],
			cooperative.BuildDedicatedServingSecret(dedicated, password)},
		{"shared", shared,
			cooperative.BuildSharedRole(shared, &cfg, 10).Spec.RoleConfiguration,
			cooperative.BuildSharedServingRole(shared, &cfg, 30).Spec.RoleConfiguration,
			cooperative.BuildSharedServingAppSecret(shared, &cfg, password)},
	} {
		t.Run(tc.tier, func(t *testing.T) {
			ctx := context.Background()
			superURL := pgtest.NewDB(t)
			dbName := superURL[strings.LastIndex(superURL, "/")+1 : strings.Index(superURL, "?")]
			super, err := pgx.Connect(ctx, superURL)
			if err != nil {
				t.Fatal(err)
			}
			defer super.Close(ctx)
			dropRoles(t, superURL, tc.owner.Name, tc.serving.Name)
			createRole(t, super, tc.owner, "owner-password")
			createRole(t, super, tc.serving, password)
			// The owner owns the database, as CloudNativePG's initdb or Database makes it.
			if _, err := super.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{dbName}.Sanitize()+" OWNER TO "+pgx.Identifier{tc.owner.Name}.Sanitize()); err != nil {
				t.Fatal(err)
			}

			// The platform as the operator's Deployment runs it, each container with the
			// environment the kubelet would resolve from the Secrets: the init container
			// migrates as the owner and exits, then the serving container serves with the
			// serving role alone.
			servingURL := atServer(t, tc.secret, superURL)
			ownerURL, _ := url.Parse(superURL)
			ownerURL.User = url.UserPassword(tc.owner.Name, "owner-password")
			secrets := map[string]string{cooperative.ServingSecretName(tc.coop): servingURL, coopv1.AppSecretName(tc.coop): ownerURL.String()}
			comp := coopv1.Component{Name: "api", Port: 8080, Database: true}
			pod := cooperative.BuildDeployment(tc.coop, &cfg, comp, 1).Spec.Template.Spec
			if len(pod.InitContainers) != 1 || len(pod.Containers) != 1 {
				t.Fatalf("the pod has %d init containers and %d containers, want one of each", len(pod.InitContainers), len(pod.Containers))
			}
			initEnv, servingEnv := podEnv(t, pod.InitContainers[0], secrets), podEnv(t, pod.Containers[0], secrets)
			if initEnv["MIGRATE_DATABASE_URL"] != ownerURL.String() || initEnv["DATABASE_URL"] != servingURL {
				t.Fatal("the init container does not get the owner's and the serving role's URIs")
			}
			if _, ok := servingEnv["MIGRATE_DATABASE_URL"]; ok || servingEnv["DATABASE_URL"] != servingURL {
				t.Fatal("the serving container gets the owner's URI, or not the serving role's")
			}
			for k, v := range initEnv {
				t.Setenv(k, v)
			}
			if err := server.Main(ctx, pod.InitContainers[0].Args); err != nil {
				t.Fatalf("the init container could not migrate: %v", err)
			}
			s, err := server.New(server.Config{DatabaseURL: servingEnv["DATABASE_URL"], MigrateDatabaseURL: servingEnv["MIGRATE_DATABASE_URL"],
				NoMigrate: servingEnv[coopv1.EnvMigrate] == coopv1.MigrateNever, AdminToken: "staff-token",
				Policy: policy.FromCooperative(tc.coop), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(s.Close)
			sctx, cancel := context.WithCancel(ctx)
			t.Cleanup(cancel)
			s.Start(sctx)
			ready := httptest.NewRecorder()
			s.Handler().ServeHTTP(ready, httptest.NewRequest("GET", "/readyz", nil))
			if ready.Code != 200 {
				t.Fatalf("the serving container is not ready: %d %s", ready.Code, ready.Body)
			}

			var user string
			if err := s.Pool().QueryRow(ctx, `SELECT current_user`).Scan(&user); err != nil || user != cooperative.ServingRoleName(tc.coop) {
				t.Fatalf("the platform serves as %q (%v), want %s", user, err, cooperative.ServingRoleName(tc.coop))
			}
			var tableOwner string
			if err := super.QueryRow(ctx, `SELECT tableowner FROM pg_tables WHERE tablename = 'ledger_entries'`).Scan(&tableOwner); err != nil || tableOwner != tc.owner.Name {
				t.Fatalf("the ledger is owned by %q (%v), want the owner %s, who migrated", tableOwner, err, tc.owner.Name)
			}
			var super_, createDB, createRole_, replication, bypassRLS bool
			var connLimit int64
			if err := super.QueryRow(ctx, `SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolconnlimit FROM pg_roles WHERE rolname = $1`, user).
				Scan(&super_, &createDB, &createRole_, &replication, &bypassRLS, &connLimit); err != nil {
				t.Fatal(err)
			}
			if super_ || createDB || createRole_ || replication || bypassRLS || connLimit != tc.serving.ConnectionLimit || connLimit <= 0 {
				t.Fatalf("the serving role has super %v createdb %v createrole %v replication %v bypassrls %v connection limit %d",
					super_, createDB, createRole_, replication, bypassRLS, connLimit)
			}

			// The serving role adds to the ledger, as a payment does...
			tx, err := s.Pool().Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var txID int64
			if err := tx.QueryRow(ctx, `INSERT INTO ledger_transactions (kind) VALUES ('payment') RETURNING id`).Scan(&txID); err != nil {
				t.Fatalf("the serving role cannot record a payment: %v", err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO ledger_entries (tx_id, account, amount_cents) VALUES ($1, 'customer', -1000), ($1, 'worker', 1000)`, txID); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			// ... but cannot rewrite or remove it.
			for _, stmt := range []string{
				`UPDATE ledger_entries SET amount_cents = 1 WHERE tx_id = ` + fmt.Sprint(txID),
				`DELETE FROM ledger_entries WHERE tx_id = ` + fmt.Sprint(txID),
				`UPDATE ledger_transactions SET kind = 'refund' WHERE id = ` + fmt.Sprint(txID),
				`DELETE FROM ledger_transactions WHERE id = ` + fmt.Sprint(txID),
			} {
				_, err := s.Pool().Exec(ctx, stmt)
				var pe *pgconn.PgError
				if !errors.As(err, &pe) || pe.Code != "42501" {
					t.Errorf("%s as the serving role: %v, want permission denied (42501)", stmt, err)
				}
			}
			var n int
			if err := super.QueryRow(ctx, `SELECT count(*) FROM ledger_entries WHERE tx_id = $1 AND abs(amount_cents) = 1000`, txID).Scan(&n); err != nil || n != 2 {
				t.Fatalf("the ledger changed: %d entries left (%v)", n, err)
			}
		})
	}
}

// podEnv is the environment the kubelet gives container c, with the URIs of the Secrets
// the test stands in for (secrets, by name; a URI from any other fails the test), without
// what is not the database's (the admin token).
func podEnv(t *testing.T, c corev1.Container, secrets map[string]string) map[string]string {
	t.Helper()
	if len(c.EnvFrom) > 0 {
		t.Fatalf("container %s reads whole Secrets or ConfigMaps: %+v", c.Name, c.EnvFrom)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Key == cooperative.DatabaseURIKey:
			uri, ok := secrets[e.ValueFrom.SecretKeyRef.Name]
			if !ok {
				t.Fatalf("container %s reads a database URI from Secret %s", c.Name, e.ValueFrom.SecretKeyRef.Name)
			}
			env[e.Name] = uri
		}
	}
	return env
}
