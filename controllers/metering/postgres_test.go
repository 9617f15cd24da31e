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

package metering

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/test/pgtest"
)

// TestPostgresSizer reads database sizes from a real PostgreSQL server, started from the
// machine's server binaries, as the shared tier's metering does.
func TestPostgresSizer(t *testing.T) {
	server, err := pgtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(server.Stop)
	ctx := context.Background()

	// A co-op's database in the "shared cluster", with some data in it.
	url, err := server.CreateDB()
	if err != nil {
		t.Fatal(err)
	}
	dbName, _, _ := strings.Cut(url[strings.LastIndex(url, "/")+1:], "?")
	coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "care-collective"}}
	lookups := 0
	sizer := &PostgresSizer{
		ConnStringFunc: func(context.Context) (string, error) { lookups++; return url, nil },
		DatabaseName:   func(c *coopv1.Cooperative) string { return dbName },
	}

	empty, err := sizer.DatabaseSize(ctx, coop)
	if err != nil {
		t.Fatal(err)
	}
	if empty <= 0 {
		t.Fatalf("an empty database still has a size, got %d", empty)
	}

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE rides (id bigint, note text); INSERT INTO rides SELECT g, repeat('x', 500) FROM generate_series(1, 20000) g; CHECKPOINT"); err != nil {
		t.Fatal(err)
	}
	grown, err := sizer.DatabaseSize(ctx, coop)
	if err != nil {
		t.Fatal(err)
	}
	if grown < empty+8<<20 {
		t.Errorf("10 MB of rows should grow the database: %d -> %d bytes", empty, grown)
	}
	if lookups != 1 {
		t.Errorf("the connection is opened once and kept: looked up %d times", lookups)
	}

	// A co-op whose database does not exist yet is an error, not a zero.
	gone := &PostgresSizer{ConnString: url, DatabaseName: func(*coopv1.Cooperative) string { return "coop_not_there" }}
	if _, err := gone.DatabaseSize(ctx, coop); !errors.Is(err, ErrDatabaseNotFound) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("want a 'does not exist' error that is ErrDatabaseNotFound, got %v", err)
	}
	// The default name is the shared tier's role and database name.
	if _, err := (&PostgresSizer{ConnString: url}).DatabaseSize(ctx, coop); err == nil || !strings.Contains(err.Error(), "coop_care_collective") {
		t.Errorf("the default database name must be coop_care_collective, got %v", err)
	}
}
