package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A member using the app in French reads the API's refusals in French, with the values
// they need: the voted floor of a price they typed too low, and the choices of a ballot
// they sent without one. Before, both were the API's English.
func TestRefusalsInFrench(t *testing.T) {
	home := strings.Replace(strings.TrimSuffix(strings.TrimSpace(testPolicy), "}")+`,"fares":{"baseCents":0,"floorCents":3000}}`,
		`"vertical":"ride-sharing"`, `"vertical":"home-services"`, 1)
	c := newCoopWith(t, home)
	cust, custTok := c.member("Cy Client", "customer")
	s := c.session(t)
	csrf := s.signIn(c.code(cust))
	if p := s.do("GET", "/app/home?lang=fr", nil); p.status != http.StatusOK || p.header.Get("Content-Language") != "fr" {
		t.Fatalf("the home page in French: %d %q", p.status, p.header.Get("Content-Language"))
	}

	// A price under the co-op's voted floor, said next to the price, with the floor.
	p := s.do("POST", "/app/request", url.Values{"csrf": {csrf}, "kind": {"booking"}, "details.address": {"3 rue Mercière"},
		"details.service": {"plumbing"}, "details.scheduledAt": {"2026-12-24T10:00"}, "price": {"10"}})
	body := html.UnescapeString(p.body)
	if p.status != http.StatusBadRequest || !strings.Contains(body, `<span class="field-error" id="price-error">Le prix doit être d'au moins 30,00, le tarif minimum voté par la coop.</span>`) {
		t.Fatalf("a price under the floor in French: %d %s", p.status, body)
	}
	if strings.Contains(body, "floor") {
		t.Fatalf("the page says the API's English: %s", body)
	}

	// A ballot sent without a choice: the error page says which choices there are.
	id := int64(c.must(http.StatusCreated, "POST", "/v1/proposals", custTok, map[string]any{"title": "Open on Sundays"})["id"].(float64))
	p = s.do("POST", fmt.Sprintf("/app/proposals/%d/ballot", id), url.Values{"csrf": {csrf}})
	body = html.UnescapeString(p.body)
	if p.status != http.StatusBadRequest || !strings.Contains(body, "<p>Choisissez Oui, Non ou Abstention.</p>") || strings.Contains(body, "must be") {
		t.Fatalf("a ballot without a choice in French: %d %s", p.status, body)
	}
}
