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
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

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

// blackHole forwards TCP connections to a server until it drops: from then on it passes
// nothing on in either direction, on the connections open and on the new ones it accepts,
// as a network that loses every packet to and from a server that is still up.
type blackHole struct {
	ln       net.Listener
	target   string
	dropping atomic.Bool
}

func newBlackHole(t *testing.T, target string) *blackHole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackHole{ln: ln, target: target}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go b.serve(c)
		}
	}()
	return b
}

func (b *blackHole) serve(c net.Conn) {
	defer c.Close()
	up, err := net.Dial("tcp", b.target)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 && !b.dropping.Load() {
				if _, err := dst.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done // either side gone: close both
}

// TestPostgresSizerGivesUpOnASilentServer: a shared cluster that stops answering, on the
// open connection or on a new one, fails a size read after the sizer's timeout rather than
// holding the meter for as long as the caller's context lasts (the meter's has no
// deadline); a failed connection says the cluster is unreachable. The test's own deadline
// is only there to fail rather than hang without the timeout: the sizer must give up
// before it.
func TestPostgresSizerGivesUpOnASilentServer(t *testing.T) {
	server, err := pgtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(server.Stop)
	dsn, err := server.CreateDB()
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	hole := newBlackHole(t, u.Host)
	dbName := strings.TrimPrefix(u.Path, "/")
	u.Host = hole.ln.Addr().String()
	coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "care-collective"}}
	sizer := &PostgresSizer{ConnString: u.String(), DatabaseName: func(*coopv1.Cooperative) string { return dbName }}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := sizer.DatabaseSize(ctx, coop); err != nil {
		t.Fatal(err)
	}

	hole.dropping.Store(true)
	sizer.Timeout = 100 * time.Millisecond // a short timeout, for the test to be quick
	if _, err := sizer.DatabaseSize(ctx, coop); err == nil || ctx.Err() != nil {
		t.Fatalf("a query on the open connection must fail by the sizer's timeout, before the caller's deadline: %v (caller's context: %v)", err, ctx.Err())
	} else if errors.Is(err, ErrDatabaseUnreachable) {
		t.Errorf("a failed query is not a failed connection: %v", err)
	}
	if _, err := sizer.DatabaseSize(ctx, coop); !errors.Is(err, ErrDatabaseUnreachable) || ctx.Err() != nil {
		t.Fatalf("a new connection must fail by the sizer's timeout as ErrDatabaseUnreachable, before the caller's deadline: %v (caller's context: %v)", err, ctx.Err())
	}

	hole.dropping.Store(false)
	sizer.Timeout = 0
	if _, err := sizer.DatabaseSize(ctx, coop); err != nil {
		t.Errorf("the sizer connects again once the cluster answers: %v", err)
	}
}

// silentServer accepts TCP connections and never answers, as a PostgreSQL server whose
// replies a network drops.
type silentServer struct{ ln net.Listener }

func newSilentServer(t *testing.T) *silentServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return &silentServer{ln: ln}
}

func (s *silentServer) url() string {
	return "postgresql://cooperator_metering@" + s.ln.Addr().String() + "/postgres?sslmode=disable"
}

// connections counts the connections made to the server since the last call. The kernel
// completes them without the server and queues them in order, so it makes one of its own
// and accepts the queue up to it.
func (s *silentServer) connections(t *testing.T) int {
	t.Helper()
	marker, err := net.Dial("tcp", s.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer marker.Close()
	for n := 0; ; n++ {
		c, err := s.ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		mine := c.RemoteAddr().String() == marker.LocalAddr().String()
		_ = c.Close()
		if mine {
			return n
		}
	}
}

// TestMeteringTriesAnUnreachableSharedClusterOncePerPass: once a pass fails to connect to
// the shared database cluster, the pass's other shared-tier co-ops get that failure at
// once, rather than each waiting for an attempt of its own to time out while the meter
// holds its lock; the next pass tries again, once.
func TestMeteringTriesAnUnreachableSharedClusterOncePerPass(t *testing.T) {
	g := NewWithT(t)
	cleanup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	names := []string{"stigma", "san", "heta"}
	for _, name := range names {
		coop := newCooperative(name)
		coop.Spec.Database.Tier = coopv1.DatabaseTierShared
		g.Expect(k8sClient.Create(ctx, coop)).To(Succeed())
	}
	silent := newSilentServer(t)
	clk := clocktesting.NewFakeClock(at("2027-12-10T00:00:00Z"))
	m := New(k8sClient, Options{Clock: clk, Database: &PostgresSizer{ConnString: silent.url(), Timeout: 50 * time.Millisecond}})
	for pass := range 2 {
		err := m.Pass(ctx)
		for _, name := range names {
			g.Expect(err).To(MatchError(ContainSubstring("sampling co-op "+name+": reading the size of its database: connecting to the shared database cluster")), "pass %d", pass+1)
		}
		g.Expect(silent.connections(t)).To(Equal(1), "pass %d", pass+1)
		clk.Step(time.Minute)
	}
}
