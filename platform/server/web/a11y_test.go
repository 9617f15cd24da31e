package web_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cooperator-dev/cooperator/platform/server/store/sessions"
)

// axeViolation is one rule axe-core found broken on a page.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []string `json:"target"`
	} `json:"nodes"`
}

type axeResult struct {
	Violations []axeViolation `json:"violations"`
	Passes     int            `json:"passes"`
}

// Every page passes axe-core's WCAG 2.1 A and AA checks in a real browser with no serious
// or critical violation (testdata/axe.min.js: axe-core 4.11.0 from the npm registry).
func TestAccessibilityEveryPage(t *testing.T) {
	axe, err := os.ReadFile("testdata/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	// check runs axe on the page the tab shows (path names it), its folded parts
	// (<details>: a worker's credentials form) unfolded.
	check := func(ctx context.Context, path string) {
		t.Helper()
		do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('details').forEach(d => { d.open = true })`))
		do(t, ctx, chromedp.Evaluate[chromedp.Void](string(axe)))
		res, err := chromedp.Run(ctx, chromedp.Evaluate[axeResult](`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}).then(r => ({violations: r.violations, passes: r.passes.length}))`,
			chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("axe on %s: %v", path, err)
		}
		if res.Passes == 0 {
			t.Fatalf("axe checked nothing on %s", path)
		}
		for _, v := range res.Violations {
			var where []string
			for _, n := range v.Nodes {
				where = append(where, strings.Join(n.Target, " "))
			}
			msg := fmt.Sprintf("%s: %s (%s): %s at %v", path, v.ID, v.Impact, v.Help, where)
			if v.Impact == "serious" || v.Impact == "critical" {
				t.Error(msg)
			} else {
				t.Log(msg)
			}
		}
	}
	run := func(ctx context.Context, path string) {
		t.Helper()
		do(t, ctx, chromedp.Navigate(f.c.url+path))
		check(ctx, path)
	}
	ctx := newTab(t)
	run(ctx, "/app/sign-in")
	// Every page of Ana's (a worker), and the pages that differ by role for the others.
	pages := f.pages()
	for _, m := range []struct {
		id    int64
		paths []string
	}{
		{f.ana, append(pages[f.ana], "/app/governance?lang=fr", "/app/payments/"+fmt.Sprint(f.paid)+"?lang=fr", "/app/home?lang=en")},
		{f.bea, pages[f.bea][:3]},
		{f.cust, append(pages[f.cust][:4], "/app/home", "/app/notifications")},
	} {
		f.c.signIn(t, ctx, f.c.code(m.id))
		for _, p := range m.paths {
			run(ctx, p)
		}
		click(t, ctx, `form[action="/app/sign-out"] button`)
	}
	// A session too old to claim or erase: the data page says to sign in again in their place.
	f.c.signIn(t, ctx, f.c.code(f.ana))
	f.c.clock.Step(sessions.FreshFor + time.Minute)
	run(ctx, "/app/data?done=signInAgain")
	run(ctx, "/app/data?done=signInAgain&lang=fr")
	click(t, ctx, `form[action="/app/sign-out"] button`)

	// A request form showing its quote, under a fare rule with zones and packages.
	fares := newCoopWith(t, strings.TrimSuffix(strings.TrimSpace(testPolicy), "}")+
		`,"fares":{"baseCents":250,"perKmCents":100,"perPackageCents":50,"zones":[{"name":"presqu-ile","baseCents":400}]}}`)
	rider, _ := fares.member("Cy Rider", "customer")
	fares.signIn(t, ctx, fares.code(rider))
	do(t, ctx, chromedp.Navigate(fares.url+"/app/request?kind=ride"))
	check(ctx, "/app/request under a fare rule")
	do(t, ctx, chromedp.SendKeys(chromedp.ID("f-pickup"), "Vieux Lyon"), chromedp.SendKeys(chromedp.ID("f-dropoff"), "Croix-Rousse"),
		chromedp.SendKeys(chromedp.ID("distanceKm"), "4"))
	click(t, ctx, "#send-request")
	if got := text(t, ctx, "#quote-price"); strings.Replace(got, ",", ".", 1) != "6.50" {
		t.Fatalf("the quote shown: %q", got)
	}
	check(ctx, "/app/request with its quote")

	// The pages that differ by vertical.
	for _, v := range verticalVisits(t) {
		v.c.signIn(t, ctx, v.c.code(v.member))
		for _, path := range v.paths {
			do(t, ctx, chromedp.Navigate(v.c.url+path))
			check(ctx, path+" of "+v.name)
		}
		click(t, ctx, `form[action="/app/sign-out"] button`)
	}

	// A marketplace co-op's shop, as its maker and as a buyer.
	shop := newVerticalCoop(t, "marketplace")
	maker, makerTok := shop.worker("Mia Maker")
	buyer, _ := shop.member("Bea Buyer", "customer")
	lid := int64(shop.must(http.StatusCreated, "POST", "/v1/listings", makerTok, map[string]any{"title": "Stoneware bowl", "description": "Glazed", "priceCents": 2500, "stock": 3})["id"].(float64))
	for _, m := range []struct {
		id    int64
		paths []string
	}{
		{maker, []string{"/app/listings", "/app/listings?lang=fr"}},
		{buyer, []string{"/app/listings", fmt.Sprintf("/app/request?kind=order&listing=%d", lid)}},
	} {
		shop.signIn(t, ctx, shop.code(m.id))
		for _, p := range m.paths {
			do(t, ctx, chromedp.Navigate(shop.url+p))
			check(ctx, p)
		}
		click(t, ctx, `form[action="/app/sign-out"] button`)
	}

	// A freelance project paid by milestones, as its worker and as its client.
	pr := startedProject(t)
	gig, id := pr.c, pr.id
	gig.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/milestones/1/submit", id), pr.devTok, nil)
	for _, m := range []int64{pr.dev, pr.client} {
		gig.signIn(t, ctx, gig.code(m))
		do(t, ctx, chromedp.Navigate(gig.url+fmt.Sprintf("/app/work/%d", id)))
		check(ctx, "a project by milestones")
		click(t, ctx, `form[action="/app/sign-out"] button`)
	}
}
