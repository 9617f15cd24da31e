package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// The co-op's share of the hosting bill and the platform's reliability come from what the
// hub publishes (GET /v1/reports/hub): shown once published, "not published" before.
func TestOperatorStatusShown(t *testing.T) {
	c := newCoop(t)
	id, _ := c.member("Ana Driver", "worker")
	s := c.session(t)
	s.signIn(c.code(id))
	if p := s.do("GET", "/app/money", nil); !strings.Contains(p.body, "has not published a hosting bill") {
		t.Fatal("without a status document the money page does not say the bill is not reported")
	}
	c.writeStatus(operatorStatus)
	money := s.do("GET", "/app/money", nil).body
	for _, want := range []string{"2026-11", "41.25 EUR", "2026-10", "39.80 EUR", "10.00 %", "final"} {
		if !strings.Contains(money, want) {
			t.Errorf("the money page lacks %q", want)
		}
	}
	// A running estimate says when the hub took it.
	c.writeStatus(strings.Replace(operatorStatus, `"hosting":[`, `"hosting":[{"period":"2026-12","final":false,"estimatedAt":"2026-12-06T09:00:00Z","currency":"EUR","hubTotal":"120.00","cooperatives":3,"amount":"12.00"},`, 1))
	if money := s.do("GET", "/app/money", nil).body; !strings.Contains(money, "running estimate as of 2026-12-06 09:00 UTC") || !strings.Contains(money, "12.00 EUR") {
		t.Errorf("the money page does not date the running estimate")
	}
	vit := s.do("GET", "/app/vitality", nil).body
	for _, want := range []string{`id="reliability"`, "Last backup", "2026-12-01 02:00 UTC", "not ready · since 2026-12-01 08:59 UTC"} {
		if !strings.Contains(vit, want) {
			t.Errorf("the vitality page lacks %q", want)
		}
	}
	c.writeStatus(`{"cooperative":"fairride-lyon","hosting":[{"period":"November","amount":"1","hubTotal":"2","currency":"EUR"}]}`)
	// A document the service cannot read: the pages still serve, and say so.
	for _, path := range []string{"/app/money", "/app/vitality"} {
		if p := s.do("GET", path, nil); p.status != 200 || !strings.Contains(p.body, "cannot be read right now") || strings.Contains(p.body, "November") {
			t.Fatalf("%s with an invalid hub document: %d", path, p.status)
		}
	}
}

// The workers' median hourly earnings on the vitality page: not shown while fewer than
// three workers have an hour of work (it would tell one worker's pay), then the median of
// GET /v1/reports/earnings. The service stamps the work's history with the database's
// clock; the test moves those stamps back as if each ride had taken an hour.
func TestVitalityShowsMedianHourlyEarnings(t *testing.T) {
	c := newCoop(t)
	_, customer := c.member("Rita Rider", "customer")
	s := c.session(t)
	id, _ := c.member("Ana Driver", "worker")
	s.signIn(c.code(id))
	if p := s.do("GET", "/app/vitality", nil).body; !strings.Contains(p, "not shown until at least 3 workers") {
		t.Fatal("without work the vitality page does not say why there is no median")
	}
	c.member("Ben Driver", "worker")
	c.member("Cleo Driver", "worker")
	for _, price := range []int64{1000, 2000, 3000} {
		work := c.request(customer, price)
		for _, step := range []string{"accept", "start", "complete"} {
			c.must(200, "POST", fmt.Sprintf("/v1/work/%d/%s", work, step), adminToken, nil)
		}
		if _, err := c.owner.Exec(context.Background(), `UPDATE work_history SET at = CASE to_state
				WHEN 'in_progress' THEN now() - interval '70 minutes' ELSE now() - interval '10 minutes' END
			WHERE work_id = $1 AND to_state IN ('in_progress', 'completed')`, work); err != nil {
			t.Fatal(err)
		}
	}
	// Each driver earned the price less the 3 % fee in an hour: the median is 19.40.
	if p := s.do("GET", "/app/vitality", nil).body; !strings.Contains(p, "19.40") || !strings.Contains(p, "(3 workers)") {
		t.Errorf("the vitality page lacks the median of 19.40 an hour over 3 workers")
	}
}
