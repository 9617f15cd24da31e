package server

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cooperator-dev/cooperator/test/harness"
	"github.com/cooperator-dev/cooperator/test/monitoring"
)

// TestExportsWhatTheMonitoringReads serves the platform on a real database, takes a
// payment and a refund through its HTTP API, and scrapes its /metrics: every metric of
// the platform (cooperator_platform_*) that a dashboard or an alert of the chart reads
// appears there.
func TestExportsWhatTheMonitoringReads(t *testing.T) {
	root := harness.MustRepoRoot(t)
	names, err := monitoring.MetricNames(root)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, mustPolicy(t, ridePolicy))
	w, c := e.worker("Dan Driver"), e.customer("Rita Rider")
	work, _ := e.completedRide(c, 10000)
	p := e.must(201, "POST", "/v1/payments", c.token, map[string]any{"workId": work, "workerId": w.id, "amountCents": 10000}, "Idempotency-Key", "m1")
	e.must(200, "POST", fmt.Sprintf("/v1/payments/%d/refund", num(p["id"])), adminToken, nil)

	// /metrics is served on the metrics port, apart from the API.
	srv := httptest.NewServer(e.s.MetricsHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics") //nolint:noctx // a test's local server
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	exposed := monitoring.ExposedNames(string(body))
	checked := 0
	for _, n := range names {
		if !strings.HasPrefix(n, "cooperator_platform_") {
			continue
		}
		checked++
		if !exposed[n] {
			t.Errorf("the platform's /metrics lacks %s, which a dashboard or an alert reads", n)
		}
	}
	if checked == 0 {
		t.Fatal("no dashboard or alert reads a metric of the platform: the test checked nothing")
	}
	// Two payments: the one recorded when the ride completed, and the customer's own.
	for _, line := range []string{`cooperator_platform_payments_total{kind="payment"} 2`, `cooperator_platform_payments_total{kind="refund"} 1`} {
		if !strings.Contains(string(body), line+"\n") {
			t.Errorf("the platform's /metrics lacks the line %s:\n%s", line, body)
		}
	}
}
