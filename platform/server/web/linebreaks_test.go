package web_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// Members' own words keep their paragraphs and line breaks in the browser: a proposal's
// body, a listing's description and an order's notes, each of two short paragraphs,
// are shown on separate lines, not run together on one.
func TestMembersWordsKeepTheirLines(t *testing.T) {
	c := newVerticalCoop(t, "marketplace")
	_, makerTok := c.worker("Mia Maker")
	buyer, buyerTok := c.member("Bea Buyer", "customer")
	c.must(http.StatusCreated, "POST", "/v1/proposals", makerTok, map[string]any{"title": "Market day", "body": "Body one.\n\nBody two."})
	l := c.must(http.StatusCreated, "POST", "/v1/listings", makerTok, map[string]any{"title": "Bowl", "description": "Glazed.\nDishwasher safe.", "priceCents": 2500, "stock": 2})
	w := c.must(http.StatusCreated, "POST", "/v1/work", buyerTok, map[string]any{"kind": "order",
		"details": map[string]string{"listingId": fmt.Sprint(int64(l["id"].(float64))), "shippingAddress": "12 rue des Lilas", "notes": "Ring twice.\nLeave it at the door."}})

	ctx := newTab(t)
	c.signIn(t, ctx, c.code(buyer))
	// lines counts the lines on which the element whose text starts with prefix is laid
	// out.
	lines := func(path, prefix string) int {
		t.Helper()
		do(t, ctx, chromedp.Navigate(c.url+path))
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`(() => {
			const el = [...document.querySelectorAll('main p, main dd')].find(e => e.textContent.startsWith(%q));
			if (!el) return -1;
			const r = document.createRange();
			r.selectNodeContents(el);
			return new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top))).size;
		})()`, prefix)))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, tc := range []struct{ path, prefix string }{
		{"/app/governance", "Body one."},
		{"/app/listings", "Glazed."},
		{fmt.Sprintf("/app/work/%d", int64(w["id"].(float64))), "Ring twice."},
	} {
		if n := lines(tc.path, tc.prefix); n != 2 {
			t.Errorf("%s: the text that starts %q is on %d lines, want 2 (its two paragraphs)", tc.path, tc.prefix, n)
		}
	}
}
