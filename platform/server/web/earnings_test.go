package web_test

import (
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"
)

// A payout from a co-op fund (a disbursement) is not earnings for work: the earnings
// page lists it apart, labelled, and leaves it out of the total, the weeks and the months.
func TestEarningsShowFundPayoutsApart(t *testing.T) {
	c := newCoopWith(t, strings.Replace(testPolicy, `"staffLimitCents":1000000`, `"staffLimitCents":1000000,"staffDisbursementLimitCents":100000`, 1))
	ana, anaTok := c.member("Ana Driver", "worker")
	_, cyTok := c.member("Cy Rider", "customer")
	// A ride of 20.00: Ana earns 19.40, and the hardship fund gets 0.20.
	id := c.request(cyTok, 2000)
	for _, step := range []string{"accept", "start", "complete"} {
		c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/%s", id, step), anaTok, nil)
	}
	// Then the fund pays her 0.15, decided by staff within their limit.
	c.must(http.StatusCreated, "POST", "/v1/disbursements", adminToken, map[string]any{"fund": "hardship", "amountCents": 15, "memberId": ana, "reason": "rent"},
		"Idempotency-Key", "rent")

	s := c.session(t)
	s.signIn(c.code(ana))
	p := s.do("GET", fmt.Sprintf("/app/members/%d/earnings", ana), nil)
	if p.status != http.StatusOK {
		t.Fatalf("the earnings page: %d", p.status)
	}
	body := html.UnescapeString(p.body)
	section := func(from, to string) string {
		i := strings.Index(body, from)
		if i < 0 {
			t.Fatalf("the earnings page has no %s: %s", from, body)
		}
		rest := body[i:]
		return rest[:strings.Index(rest, to)]
	}
	if got := section(`id="earned-total">`, "</strong>"); got != `id="earned-total">19.40` {
		t.Errorf("the total earned: %s, want 19.40 (the payout left out)", got)
	}
	for _, cap := range []string{"By month", "By week"} {
		if got := section("<caption>"+cap, "</table>"); !strings.Contains(got, ">19.40<") || strings.Contains(got, "19.55") {
			t.Errorf("%s: %s, want 19.40 (the payout left out)", cap, got)
		}
	}
	if got := section(`id="earning-entries"`, "</table>"); strings.Contains(got, ">0.15<") {
		t.Errorf("the payout is among the payments: %s", got)
	}
	payouts := section(`id="payout-entries"`, "</table>")
	if !strings.Contains(payouts, "(payout from a co-op fund)") || !strings.Contains(payouts, ">0.15<") {
		t.Errorf("the payouts: %s, want the 0.15 labelled", payouts)
	}
	if got := section(`id="payouts-total">`, "</strong>"); got != `id="payouts-total">0.15` {
		t.Errorf("the payouts' total: %s, want 0.15", got)
	}
}
