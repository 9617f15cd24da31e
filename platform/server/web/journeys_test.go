package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// A worker signs in with a code from staff, accepts the offer waiting for them, starts and
// completes the work, and sees the payment with its fee breakdown and in their earnings;
// then gives it back from its page, and their earnings are 0.
func TestJourneyWorkerAcceptsCompletesAndSeesPay(t *testing.T) {
	c := newCoop(t)
	workerID, _ := c.member("Ana Driver", "worker")
	_, customerTok := c.member("Bo Rider", "customer")
	work := c.request(customerTok, 2000)

	ctx := newTab(t)
	c.signIn(t, ctx, c.code(workerID))
	if got := text(t, ctx, "#offers-h + ul"); !strings.Contains(got, "Place Bellecour") || !strings.Contains(got, "20.00") {
		t.Fatalf("the offer is not on the worker's page: %q", got)
	}
	click(t, ctx, fmt.Sprintf("#accept-%d", work))
	if got := text(t, ctx, "#work-state"); got != "accepted" {
		t.Fatalf("state after accept: %q", got)
	}
	click(t, ctx, "#next-step") // start
	if got := text(t, ctx, "#work-state"); got != "in progress" {
		t.Fatalf("state after start: %q", got)
	}
	click(t, ctx, "#next-step") // complete
	if got := text(t, ctx, "#work-state"); got != "completed" {
		t.Fatalf("state after complete: %q", got)
	}
	click(t, ctx, "#payment-link")
	paymentPage := location(t, ctx)
	// 20.00 at a 3 % fee: 0.60 fee (0.20 hardship, 0.10 reserve, 0.30 operating), 19.40 to the worker.
	breakdown := text(t, ctx, "#fee-breakdown")
	for _, want := range []string{"19.40", "0.60", "hardship", "0.20", "reserve", "0.10", "0.30"} {
		if !strings.Contains(breakdown, want) {
			t.Errorf("the fee breakdown lacks %q: %q", want, breakdown)
		}
	}
	if got := text(t, ctx, "#worker-cents"); got != "19.40" {
		t.Errorf("worker's part %q, want 19.40", got)
	}
	do(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/app/members/%d/earnings", c.url, workerID)))
	if got := text(t, ctx, "#earned-total"); got != "19.40" {
		t.Errorf("earned total %q, want 19.40", got)
	}
	if got := text(t, ctx, "#earning-entries"); !strings.Contains(got, "0.60") || !strings.Contains(got, "20.00") {
		t.Errorf("the earnings do not show the payment's fee: %q", got)
	}
	// The worker gives the payment back from its page: the box first, then the button.
	do(t, ctx, chromedp.Navigate(paymentPage))
	do(t, ctx, chromedp.Click(chromedp.CSS("#confirm")))
	click(t, ctx, "#refund")
	if got := text(t, ctx, "#refunded"); got != "refunded by the worker" {
		t.Errorf("the payment's page after the refund says %q", got)
	}
	do(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/app/members/%d/earnings", c.url, workerID)))
	if got := text(t, ctx, "#earned-total"); got != "0.00" {
		t.Errorf("earned total after the refund %q, want 0.00", got)
	}
}

// A customer signs in with a code they asked for with their own token, requests a ride
// with the form of the co-op's vertical, follows it, then pays (a tip) and rates.
func TestJourneyCustomerRequestsAndPays(t *testing.T) {
	c := newCoop(t)
	_, workerTok := c.member("Ana Driver", "worker")
	customerID, customerTok := c.member("Bo Rider", "customer")
	code := c.must(http.StatusCreated, "POST", fmt.Sprintf("/v1/members/%d/sign-in-codes", customerID), customerTok, nil)["code"].(string)

	ctx := newTab(t)
	c.signIn(t, ctx, code)
	do(t, ctx, chromedp.Navigate(c.url+"/app/request"))
	// The form has the vertical's required fields; a request without them is refused
	// next to the field.
	do(t, ctx, chromedp.SendKeys(chromedp.ID("price"), "15.00"))
	click(t, ctx, "#send-request")
	if got := text(t, ctx, "#f-pickup-error"); got == "" {
		t.Fatal("no error next to the missing pick-up")
	}
	do(t, ctx, chromedp.SendKeys(chromedp.ID("f-pickup"), "Vieux Lyon"), chromedp.SendKeys(chromedp.ID("f-dropoff"), "Croix-Rousse"))
	click(t, ctx, "#send-request")
	if got := text(t, ctx, "#work-state"); got != "offered to a worker" {
		t.Fatalf("state after the request: %q", got)
	}
	loc := location(t, ctx)
	var work int64
	if _, err := fmt.Sscanf(loc[strings.Index(loc, "/app/work/"):], "/app/work/%d", &work); err != nil {
		t.Fatalf("not on a work page: %s", loc)
	}
	// The worker does the job (through the API).
	for _, step := range []string{"accept", "start", "complete"} {
		c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/%s", work, step), workerTok, nil)
	}
	do(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/app/work/%d", c.url, work)))
	if got := text(t, ctx, "#work-state"); got != "completed" {
		t.Fatalf("state seen by the customer: %q", got)
	}
	do(t, ctx, chromedp.SendKeys(chromedp.ID("amount"), "2.50"))
	click(t, ctx, "#pay")
	if got := text(t, ctx, "#fee-breakdown"); !strings.Contains(got, "2.50") {
		t.Fatalf("the tip's breakdown: %q", got)
	}
	// A payment beyond the agreed price is refused next to the amount.
	do(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/app/work/%d", c.url, work)), chromedp.SendKeys(chromedp.ID("amount"), "14.00"))
	click(t, ctx, "#pay")
	if got := text(t, ctx, "#amount-error"); !strings.Contains(got, "agreed price") {
		t.Fatalf("overpayment error: %q", got)
	}
	click(t, ctx, "#rate")
	if got := text(t, ctx, ".facts"); !strings.Contains(got, "5 / 5") {
		t.Fatalf("the rating is not shown: %q", got)
	}
}

// A member votes on a proposal that changes the fee, sees it pass and the operator's
// write-back that it was applied.
func TestJourneyMemberVotesOnFeeAndSeesItApplied(t *testing.T) {
	c := newCoop(t)
	voterID, voterTok := c.member("Ana Driver", "worker")
	p := c.must(http.StatusCreated, "POST", "/v1/proposals", voterTok, map[string]any{"title": "Lower the fee to 2.5 %",
		"field": "feeSplit", "value": map[string]any{"platformFeeBasisPoints": 250,
			"funds": []map[string]any{{"name": "hardship", "basisPoints": 100}, {"name": "reserve", "basisPoints": 50}}, "surgeToWorkersPercent": 100}})
	id := int64(p["id"].(float64))

	ctx := newTab(t)
	c.signIn(t, ctx, c.code(voterID))
	do(t, ctx, chromedp.Navigate(c.url+"/app/governance"))
	card := text(t, ctx, fmt.Sprintf("#proposal-%d", id))
	for _, want := range []string{"Platform fee: 3.00%", "Platform fee: 2.50%", "Voting closes"} {
		if !strings.Contains(card, want) {
			t.Errorf("the open proposal lacks %q: %q", want, card)
		}
	}
	do(t, ctx, chromedp.Click(chromedp.ID(fmt.Sprintf("vote-%d-yes", id))))
	click(t, ctx, fmt.Sprintf("#vote-%d", id))
	if got := text(t, ctx, ".flash"); got != "Your vote is recorded." {
		t.Fatalf("after voting: %q", got)
	}
	// Everyone in the electorate voted: staff close it; the operator applies the change
	// and writes back (here the test writes what the operator would).
	c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/proposals/%d/close", id), adminToken, nil)
	c.clock.Step(10 * 60e9)
	if _, err := c.owner.Exec(t.Context(), `UPDATE proposals SET application = 'applied', application_at = $2 WHERE id = $1 AND application = 'pending'`, id, c.clock.Now()); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Navigate(c.url+"/app/governance"))
	card = text(t, ctx, fmt.Sprintf("#proposal-%d", id))
	for _, want := range []string{"Passed", "turnout 100", "Applied"} {
		if !strings.Contains(card, want) {
			t.Errorf("the closed proposal lacks %q: %q", want, card)
		}
	}
}

// A member downloads their data from the data page.
func TestJourneyMemberDownloadsData(t *testing.T) {
	c := newCoop(t)
	id, _ := c.member("Chloe Carer", "worker")
	ctx := newTab(t)
	c.signIn(t, ctx, c.code(id))
	do(t, ctx, chromedp.Navigate(c.url+"/app/data"), chromedp.WaitVisible(chromedp.ID("download")))
	// The link is a download: fetch what it points to in the page, with the session cookie.
	got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`fetch(document.getElementById('download').href).then(async r => ({
		status: String(r.status), disposition: r.headers.get('Content-Disposition') || '', body: await r.text()}))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if got["status"] != "200" || !strings.HasPrefix(got["disposition"], "attachment") {
		t.Fatalf("download answered %s, %q", got["status"], got["disposition"])
	}
	if !strings.Contains(got["body"], "chloe.carer@example.org") || !strings.Contains(got["body"], `"member"`) {
		t.Fatalf("the download is not the member's export: %.300s", got["body"])
	}
}
