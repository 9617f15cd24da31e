package web_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/cooperator-dev/cooperator/api/policy"
)

// The money page's chart of a fund's balance at the end of each month reads the fund's
// months (the API's aggregates): months older than its newest 500 movements are shown,
// each with its exact balance, up to the newest 24 months it moved in, and the page says
// when older ones are left out.
func TestFundHistoryReadsPastItsNewest500Movements(t *testing.T) {
	c, ana, pay := newPayingCoop(t)
	// Thirty payments, each in a month of its own: the newest two months before the
	// service's clock (2026-10), the oldest 31 (2024-05).
	pay(30, "old")
	if _, err := c.owner.Exec(t.Context(), `ALTER TABLE ledger_transactions DISABLE TRIGGER USER;
		UPDATE ledger_transactions t SET created_at = created_at - make_interval(months => 1 + (SELECT count(*) FROM ledger_transactions u WHERE u.id >= t.id)::int);
		ALTER TABLE ledger_transactions ENABLE TRIGGER USER`); err != nil {
		t.Fatal(err)
	}
	// Then 505 this month (2026-12): the old ones are past the history's first page.
	pay(505, "new")

	months, got, hist := hardshipChart(t, c, ana)
	// The newest 24 months it moved in: this one and 23 of the old ones, each at its
	// balance (the oldest shown, 2024-12, after the eight payments up to it).
	if len(months) != 24 || months[0] != "2024-12" || months[23] != "2026-12" {
		t.Fatalf("the hardship fund's chart shows %v, want 2024-12 to 2026-10 and 2026-12", months)
	}
	for m, want := range map[string]string{"2024-12": "8.00", "2025-06": "14.00", "2026-10": "30.00", "2026-12": "535.00"} {
		if got[m] != want {
			t.Errorf("the hardship fund at the end of %s: %q, want %q (%v)", m, got[m], want, got)
		}
	}
	if _, ok := got["2024-11"]; ok {
		t.Errorf("the chart shows a 25th month: %v", months)
	}
	if !strings.Contains(hist, "Older months of fund hardship are left out of the chart.") {
		t.Errorf("the page does not say older months are left out: %s", hist)
	}

}

// A fund's months older than its newest 500 movements are shown, and nothing is said
// left out when all its months are.
func TestFundHistoryShowsEveryMonthItMovedIn(t *testing.T) {
	c, ana, pay := newPayingCoop(t)
	pay(10, "old")
	if _, err := c.owner.Exec(t.Context(), `ALTER TABLE ledger_transactions DISABLE TRIGGER USER;
		UPDATE ledger_transactions SET created_at = created_at - interval '40 days';
		ALTER TABLE ledger_transactions ENABLE TRIGGER USER`); err != nil {
		t.Fatal(err)
	}
	pay(505, "new")
	months, got, hist := hardshipChart(t, c, ana)
	if len(months) != 2 || got["2026-10"] != "10.00" || got["2026-12"] != "515.00" {
		t.Errorf("the hardship fund's chart shows %v, want 2026-10 at 10.00 and 2026-12 at 515.00", got)
	}
	if strings.Contains(hist, "left out of the chart") {
		t.Errorf("the page says months are left out: %s", hist)
	}
}

// newPayingCoop is a co-op of testPolicy with a worker, and pay, which pays them n times
// 100.00 by staff (1.00 each to the hardship fund, its 100 basis points).
func newPayingCoop(t *testing.T) (*coop, int64, func(n int, tag string)) {
	c := newCoop(t)
	ana, _ := c.member("Ana Driver", "worker")
	return c, ana, func(n int, tag string) {
		t.Helper()
		for i := range n {
			c.must(http.StatusCreated, "POST", "/v1/payments", adminToken, map[string]any{"workerId": ana, "amountCents": 10000},
				"Idempotency-Key", fmt.Sprintf("%s-%d", tag, i))
		}
	}
}

// hardshipChart reads the money page as member and returns the months of the hardship
// fund's chart, oldest first, the balance it shows for each, and the page's section of
// the funds' history.
func hardshipChart(t *testing.T, c *coop, member int64) (months []string, balances map[string]string, hist string) {
	t.Helper()
	s := c.session(t)
	s.signIn(c.code(member))
	p := s.do("GET", "/app/money", nil)
	if p.status != http.StatusOK {
		t.Fatalf("the money page: %d", p.status)
	}
	hist = p.body[strings.Index(p.body, `id="hist-h"`):]
	hist = hist[:strings.Index(hist, "</section>")]
	hardship := hist[:strings.Index(hist, "</figure>")] // the first fund's chart
	if !strings.Contains(hardship, "hardship") {
		t.Fatalf("the first chart of the funds' history is not the hardship fund's: %s", hardship)
	}
	bars := regexp.MustCompile(`class="chart-label">([^<]*)</text>\s*<rect[^>]*></rect>\s*<text[^>]*class="chart-value">([^<]*)</text>`).FindAllStringSubmatch(hardship, -1)
	balances = map[string]string{}
	for _, b := range bars {
		balances[b[1]] = b[2]
		months = append(months, b[1])
	}
	return months, balances, hist
}

// A fund the members renamed is a former fund on the money page, in its balances and in
// its chart over time, and the form that asks a fund offers it while it holds money,
// named so (the API pays from it until it is empty).
func TestFormerFundOnTheMoneyPage(t *testing.T) {
	c, ana, pay := newPayingCoop(t)
	pay(3, "fed")
	renamed, err := policy.Parse([]byte(strings.Replace(testPolicy, `"name":"hardship"`, `"name":"solidarity"`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	c.s.Policy().Set(renamed)
	s := c.session(t)
	s.signIn(c.code(ana))
	p := s.do("GET", "/app/money", nil)
	for _, want := range []string{"<td>Former fund hardship</td><td class=\"num\">3.00</td>", "Former fund hardship: balance at the end of each month", "<td>Fund solidarity</td>"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the money page does not say %q: %s", want, p.body)
		}
	}
	if p := s.do("GET", "/app/money?lang=fr", nil); !strings.Contains(p.body, "<td>Ancien fonds hardship</td>") {
		t.Errorf("the money page in French does not name the former fund: %s", p.body)
	}
	p = s.do("GET", "/app/funds/ask?lang=en", nil)
	if !strings.Contains(p.body, `<option value="hardship">Former fund hardship</option>`) || !strings.Contains(p.body, `<option value="solidarity">solidarity</option>`) {
		t.Errorf("the form that asks a fund: %s", p.body)
	}
}
