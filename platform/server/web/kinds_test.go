package web_test

import (
	"net/http"
	"strings"
	"testing"
)

// A marketplace buyer's "Request work" opens the form of an order from the shop, the
// marketplace's kind of request, not the older kind (listing) that comes first by name;
// the other kind is still chosen by ?kind=.
func TestRequestFormOpensOnAMarketplacesOrder(t *testing.T) {
	c := newVerticalCoop(t, "marketplace")
	buyer, _ := c.member("Bea Buyer", "customer")
	s := c.session(t)
	s.signIn(c.code(buyer))
	for path, want := range map[string]string{
		"/app/request":              `<option value="order" selected>`,
		"/app/request?kind=nothing": `<option value="order" selected>`,
		"/app/request?kind=listing": `<option value="listing" selected>`,
	} {
		p := s.do("GET", path, nil)
		if p.status != http.StatusOK || !strings.Contains(p.body, want) {
			t.Errorf("GET %s: %d, want %s in %s", path, p.status, want, p.body)
		}
	}
	if p := s.do("GET", "/app/request", nil); !strings.Contains(p.body, `name="details.shippingAddress"`) {
		t.Errorf("the request form does not ask an order's shipping address: %s", p.body)
	}
}
