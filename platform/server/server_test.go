package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/cooperator-dev/cooperator/test/pgtest"
)

// TestRoutesDocumented fails when a route the router serves is missing from the
// OpenAPI document, or the document lists an operation the router does not serve.
func TestRoutesDocumented(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	r := e.call("GET", "/openapi.yaml", "", nil)
	if r.status != 200 {
		t.Fatalf("openapi: %d", r.status)
	}
	var doc struct {
		OpenAPI string                    `yaml:"openapi"`
		Paths   map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	served := map[string]bool{}
	for _, rt := range e.s.routes {
		key := strings.ToLower(rt.method) + " " + rt.pattern
		served[key] = true
		if _, ok := doc.Paths[rt.pattern][strings.ToLower(rt.method)]; !ok {
			t.Errorf("route %s %s is not in openapi.yaml", rt.method, rt.pattern)
		}
	}
	for path, ops := range doc.Paths {
		for m := range ops {
			if m == "parameters" {
				continue
			}
			if !served[m+" "+path] {
				t.Errorf("openapi.yaml documents %s %s, which is not served", m, path)
			}
		}
	}
}

func TestOperationsEndpoints(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	e.must(200, "GET", "/healthz", "", nil)
	e.must(200, "GET", "/readyz", "", nil)
	w := e.worker("Dan Driver")
	e.must(201, "POST", "/v1/payments", adminToken, map[string]any{"workerId": w.id, "amountCents": 10000}, "Idempotency-Key", "m1")
	r := (&env{t: t, s: e.s, h: e.s.MetricsHandler()}).call("GET", "/metrics", "", nil)
	for _, want := range []string{
		`cooperator_platform_payments_total{kind="payment"} 1`,
		`cooperator_platform_amount_cents_total{fund="hardship",kind="payment"} 100`,
		`cooperator_platform_http_requests_total{code="201",method="POST",route="/v1/payments"} 1`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Not ready before migrations.
	s, err := New(Config{DatabaseURL: pgtest.NewDB(t), Policy: mustPolicy(t, ridePolicy), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e2 := &env{t: t, s: s, h: apiValidated(t, s.Handler())}
	if r := e2.call("GET", "/readyz", "", nil); r.status != 503 || !strings.Contains(string(r.body), "migrations") {
		t.Fatalf("readyz before migrations: %d %s", r.status, r.body)
	}
}

// TestConcurrentMigrations starts several servers on one empty database at once: the
// advisory lock makes them take turns and all succeed, also when each migrates as the
// owner and grants the serving role.
func TestConcurrentMigrations(t *testing.T) {
	url := pgtest.NewDB(t)
	owner := pgtest.NewDB(t)
	serving := pgtest.ServingRoleURL(t, owner)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := Config{DatabaseURL: url, Policy: mustPolicy(t, ridePolicy), Logger: quietLogger()}
			if i%2 == 1 {
				cfg.DatabaseURL, cfg.MigrateDatabaseURL = serving, owner
			}
			s, err := New(cfg)
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			errs <- s.Migrate(context.Background())
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// syncBuffer is a log sink tests can poll.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPolicyReload changes the mounted policy file under a running service: the next
// payment uses the new fee; an invalid file is logged and the previous policy stays.
func TestPolicyReload(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(file, []byte(ridePolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	s, err := New(Config{DatabaseURL: pgtest.NewDB(t), AdminToken: adminToken, PolicyFile: file, PolicyPoll: 20 * time.Millisecond,
		Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.Start(ctx)
	e := &env{t: t, s: s, h: apiValidated(t, s.Handler())}
	eventually(t, "readiness", func() bool { return e.call("GET", "/readyz", "", nil).status == 200 })
	w := e.worker("Dan Driver")
	fee := func(key string) int64 {
		p := e.must(201, "POST", "/v1/payments", adminToken, map[string]any{"workerId": w.id, "amountCents": 10000}, "Idempotency-Key", key)
		return num(p["split"].(map[string]any)["platformFeeCents"])
	}
	if got := fee("a"); got != 300 {
		t.Fatalf("fee %d, want 300", got)
	}
	// Replace the file atomically, as the kubelet does.
	replace := func(content string) {
		tmp := filepath.Join(dir, "policy.json.tmp")
		if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, file); err != nil {
			t.Fatal(err)
		}
	}
	replace(strings.Replace(ridePolicy, `"platformFeeBasisPoints":300`, `"platformFeeBasisPoints":500`, 1))
	eventually(t, "the new policy", func() bool { return s.Policy().Current().FeeSplit.PlatformFeeBasisPoints == 500 })
	if got := fee("b"); got != 500 {
		t.Fatalf("fee %d after reload, want 500", got)
	}
	replace(strings.Replace(ridePolicy, `"platformFeeBasisPoints":300`, `"platformFeeBasisPoints":20000`, 1))
	eventually(t, "the invalid policy to be logged", func() bool { return strings.Contains(logs.String(), "policy not applied") })
	if got := fee("c"); got != 500 {
		t.Fatalf("fee %d after an invalid policy, want the previous 500", got)
	}
	if strings.Contains(logs.String(), adminToken) || strings.Contains(logs.String(), "Dan Driver") {
		t.Fatal("logs contain a token or personal data")
	}
}

// TestMainServes runs the command as the operator does (env and flags) and stops it by
// cancelling the context.
func TestMainServes(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(file, []byte(ridePolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("DATABASE_URL", pgtest.NewDB(t))
	t.Setenv("ADMIN_TOKEN", adminToken)
	t.Setenv("COOP_POLICY_FILE", filepath.Join(dir, "missing.json")) // the flag wins
	t.Setenv("LISTEN_ADDRESS", ":1")                                 // the flag wins
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Main(ctx, []string{"--vertical=ride-sharing", "--listen=" + addr, "--policy-file=" + file})
	}()
	eventually(t, "the service to be ready", func() bool {
		r, err := apiClient(t).Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == 200
	})
	req, _ := http.NewRequest("GET", "http://"+addr+"/v1/policy", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	r, err := apiClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || !strings.Contains(string(body), "fairride-lyon") {
		t.Fatalf("policy: %d %s", r.StatusCode, body)
	}
	stopMain(t, cancel, done)
	if err := Main(context.Background(), []string{"--vertical=taxis", "--policy-file=" + file}); err == nil || !strings.Contains(err.Error(), "taxis") {
		t.Fatalf("bad vertical: %v", err)
	}
	if err := Main(context.Background(), []string{"--bogus"}); err == nil {
		t.Fatal("unknown flag accepted")
	}
}

// stopMain cancels a running Main and waits for it to return without error.
func stopMain(t *testing.T, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Main did not return after cancel")
	}
}
