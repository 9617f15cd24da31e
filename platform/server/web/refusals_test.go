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

	// A ballot sent without a choice: the page says, beside the proposal, which choices
	// there are.
	id := int64(c.must(http.StatusCreated, "POST", "/v1/proposals", custTok, map[string]any{"title": "Open on Sundays"})["id"].(float64))
	p = s.do("POST", fmt.Sprintf("/app/proposals/%d/ballot", id), url.Values{"csrf": {csrf}})
	body = html.UnescapeString(p.body)
	if p.status != http.StatusBadRequest || !strings.Contains(body, fmt.Sprintf(`id="vote-%d-error">Choisissez Oui, Non ou Abstention.</p>`, id)) || strings.Contains(body, "must be") {
		t.Fatalf("a ballot without a choice in French: %d %s", p.status, body)
	}
}

// The proposal form and the shop's listing form say their refusals in French too: a
// proposal without a title, with a voting period under the co-op's minimum or a body too
// long; a listing without a title or at a price above the API's bound.
func TestProposalAndListingRefusalsInFrench(t *testing.T) {
	c := newVerticalCoop(t, "marketplace")
	maker, _ := c.worker("Mia Maker")
	s := c.session(t)
	csrf := s.signIn(c.code(maker))
	s.do("GET", "/app/home?lang=fr", nil)
	for _, tc := range []struct {
		path string
		form url.Values
		span string
	}{
		{"/app/proposals", url.Values{"title": {""}, "body": {"Réunion mensuelle"}},
			`<span class="field-error" id="p-title-error">Tapez un titre de 200 caractères au plus.</span>`},
		{"/app/proposals", url.Values{"title": {"Réunion"}, "votingPeriodHours": {"48"}},
			`<span class="field-error" id="p-votingPeriodHours-error">Choisissez une durée de vote de 168 à 8760 heures.</span>`},
		{"/app/proposals", url.Values{"title": {"Réunion"}, "body": {strings.Repeat("a", 20001)}},
			`<span class="field-error" id="p-body-error">Tapez 20000 caractères au plus.</span>`},
		{"/app/listings", url.Values{"title": {" "}, "price": {"25"}, "stock": {"3"}},
			`<span class="field-error" id="listing-title-error">Tapez de 1 à 200 caractères.</span>`},
		{"/app/listings", url.Values{"title": {"Bol"}, "price": {"2000000"}, "stock": {"3"}},
			`<span class="field-error" id="listing-price-error">Tapez un prix de 0,01 à 100000,00.</span>`},
	} {
		tc.form.Set("csrf", csrf)
		p := s.do("POST", tc.path, tc.form)
		body := html.UnescapeString(p.body)
		if p.status != http.StatusBadRequest || !strings.Contains(body, tc.span) {
			t.Errorf("POST %s %v in French: %d, want %s in %s", tc.path, tc.form, p.status, tc.span, body)
		}
		if strings.Contains(body, "must be") || strings.Contains(body, "is required") {
			t.Errorf("POST %s %v: the page says the API's English: %s", tc.path, tc.form, body)
		}
	}
}
