package web_test

import (
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
