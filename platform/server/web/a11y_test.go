package web_test

import (
	"context"
	"fmt"
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
	run := func(ctx context.Context, path string) {
		t.Helper()
		do(t, ctx, chromedp.Navigate(f.c.url+path), chromedp.Evaluate[chromedp.Void](string(axe)))
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
		{f.cust, append(pages[f.cust][:4], "/app/home")},
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
}
