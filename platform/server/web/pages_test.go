package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// fixture is a co-op with something on every page: a completed and paid ride (Ana's), an
// offer waiting (for Bea), an open fee proposal and a closed, applied one.
type fixture struct {
	c                 *coop
	ana, bea, cust    int64
	tess              int64 // staff
	work, offer, paid int64
	disbursement      int64
	open, closed      int64 // proposals
}

func newFixture(t *testing.T) *fixture {
	c := newCoop(t)
	f := &fixture{c: c}
	var anaTok, custTok string
	f.ana, anaTok = c.member("Ana Driver", "worker")
	f.cust, custTok = c.member("Cy Rider", "customer")
	f.work = c.request(custTok, 2000)
	for _, step := range []string{"accept", "start", "complete"} {
		c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/%s", f.work, step), anaTok, nil)
	}
	f.paid = int64(c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/work/%d", f.work), anaTok, nil)["paymentId"].(float64))
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/members/%d/availability", f.ana), anaTok, map[string]any{"available": false})
	f.bea, _ = c.member("Bea Driver", "worker")
	f.offer = c.request(custTok, 1500)
	fee := func(bp int) map[string]any {
		return map[string]any{"platformFeeBasisPoints": bp, "funds": []map[string]any{{"name": "hardship", "basisPoints": 100}}, "surgeToWorkersPercent": 100}
	}
	closed := int64(c.must(http.StatusCreated, "POST", "/v1/proposals", anaTok, map[string]any{"title": "Fee 2.8 %", "field": "feeSplit", "value": fee(280)})["id"].(float64))
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", closed), anaTok, map[string]any{"choice": "yes"})
	c.clock.Step(8 * 24 * 3600e9)
	c.must(http.StatusOK, "GET", "/v1/proposals", anaTok, nil) // closes it at its deadline
	if _, err := c.owner.Exec(t.Context(), `UPDATE proposals SET application = 'applied', application_at = $2 WHERE id = $1`, closed, c.clock.Now()); err != nil {
		t.Fatal(err)
	}
	f.closed = closed
	f.open = int64(c.must(http.StatusCreated, "POST", "/v1/proposals", anaTok, map[string]any{"title": "Fee 2.5 %", "field": "feeSplit", "value": fee(250)})["id"].(float64))
	// Ana asks the hardship fund (which holds 1 % of the ride's 20.00) for help.
	f.disbursement = int64(c.must(http.StatusCreated, "POST", "/v1/disbursements", anaTok, map[string]any{"fund": "hardship", "amountCents": 10, "memberId": f.ana,
		"reason": "A flat tyre"}, "Idempotency-Key", "fixture")["id"].(float64))
	f.tess, _ = c.member("Tess Treasurer", "staff")
	c.writeStatus(operatorStatus)
	return f
}

// pages are the app's pages for each member of the fixture.
func (f *fixture) pages() map[int64][]string {
	common := []string{"/app/home", "/app/work", "/app/money", "/app/governance", "/app/vitality", "/app/data", "/app/notifications", "/app/no-such-page",
		"/app/proposals/new", "/app/proposals/new?field=feeSplit", "/app/proposals/new?field=plan", "/app/proposals/new?field=fares",
		"/app/proposals/new?field=fares&as=json", "/app/funds/ask", fmt.Sprintf("/app/proposals/%d", f.open), fmt.Sprintf("/app/proposals/%d", f.closed)}
	return map[int64][]string{
		f.ana: append([]string{fmt.Sprintf("/app/members/%d/earnings", f.ana), fmt.Sprintf("/app/work/%d", f.work), fmt.Sprintf("/app/payments/%d", f.paid), "/app/schedule",
			fmt.Sprintf("/app/disbursements/%d", f.disbursement)}, common...),
		f.bea:  append([]string{fmt.Sprintf("/app/work/%d", f.offer), fmt.Sprintf("/app/members/%d/earnings", f.bea), "/app/offers"}, common...),
		f.tess: {"/app/exports", "/app/money", "/app/credentials"},
		f.cust: append([]string{"/app/request", fmt.Sprintf("/app/work/%d", f.work), fmt.Sprintf("/app/work/%d", f.offer),
			fmt.Sprintf("/app/payments/%d", f.paid)}, common...),
	}
}

// verticalVisit is the pages of a co-op of another vertical that one of its members sees.
type verticalVisit struct {
	name   string
	c      *coop
	member int64
	paths  []string
}

// verticalVisits are the pages that differ by vertical, each in a co-op of its own, that
// the pages' tests (both languages, accessibility) visit: a delivery co-op's request form
// with its further drop-offs, a freelance co-op's with its milestones, a care client's
// regular carers, the workers' credentials its staff record.
func verticalVisits(t *testing.T) []verticalVisit {
	courier := newVerticalCoop(t, "delivery")
	shopper, _ := courier.member("Cy Shop", "customer")
	free := newVerticalCoop(t, "freelance")
	fclient, _ := free.member("Cia Client", "customer")
	care := newVerticalCoop(t, "care")
	client, _ := care.member("Cid Client", "customer")
	carer, _ := care.worker("Cara Carer", "booking")
	care.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/members/%d/team", client), adminToken, map[string]any{"workerIds": []int64{carer}})
	care.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/members/%d/credentials", carer), adminToken, map[string]any{"skills": []string{"dementia"}, "languages": []string{"fr"},
		"backgroundCheck": map[string]any{"status": "clear", "checkedOn": "2026-11-01", "expiresAt": "2026-12-20T00:00:00Z"}})
	staff, _ := care.member("Sam Staff", "staff")
	return []verticalVisit{
		{"a delivery co-op", courier, shopper, []string{"/app/request"}},
		{"a freelance co-op", free, fclient, []string{"/app/request"}},
		{"a care client", care, client, []string{"/app/team", "/app/home"}},
		{"a care co-op's staff", care, staff, []string{"/app/credentials", "/app/home"}},
	}
}

var dataPage = regexp.MustCompile(`<body data-page="([a-z]+)">`)

// Every page renders in English and in French without a missing message (the catalogues
// mark one as ⟦key⟧), in the language the browser asks for or the member chose.
func TestEveryPageInBothLanguages(t *testing.T) {
	f := newFixture(t)
	seen := map[string]bool{}
	check := func(s *session, path, lang string) {
		t.Helper()
		p := s.do("GET", path, nil, "Accept-Language", map[string]string{"en": "en-GB,en;q=0.9", "fr": "fr-FR,fr;q=0.9,en;q=0.5"}[lang])
		want := http.StatusOK
		if strings.Contains(path, "no-such-page") {
			want = http.StatusNotFound
		}
		if p.status != want {
			t.Errorf("%s (%s): %d, want %d", path, lang, p.status, want)
		}
		if !strings.Contains(p.body, `<html lang="`+lang+`">`) {
			t.Errorf("%s: not rendered in %s", path, lang)
		}
		if i := strings.Index(p.body, "⟦"); i >= 0 {
			t.Errorf("%s (%s): missing message %s", path, lang, p.body[i:min(len(p.body), i+60)])
		}
		if m := dataPage.FindStringSubmatch(p.body); m != nil {
			seen[m[1]] = true
		}
	}
	for member, paths := range f.pages() {
		s := f.c.session(t)
		s.signIn(f.c.code(member))
		for _, lang := range []string{"en", "fr"} {
			for _, path := range paths {
				check(s, path, lang)
			}
		}
		// A form with errors, in both languages.
		csrf := s.do("GET", "/app/data", nil).csrf(t)
		for _, lang := range []string{"en", "fr"} {
			p := s.do("POST", "/app/data/erase?lang="+lang, url.Values{"csrf": {csrf}})
			if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="confirm-error"`) || strings.Contains(p.body, "⟦") {
				t.Errorf("erase without confirming (%s): %d", lang, p.status)
			}
		}
		s.do("GET", "/app/home?lang=en", nil)
	}
	// The sign-in page, anonymous, and the page after erasure.
	for _, lang := range []string{"en", "fr"} {
		check(f.c.session(t), "/app/sign-in", lang)
		id, _ := f.c.member("Erin "+lang, "customer")
		s := f.c.session(t)
		csrf := s.signIn(f.c.code(id))
		p := s.do("POST", "/app/data/erase", url.Values{"csrf": {csrf}, "confirm": {"yes"}}, "Accept-Language", lang)
		if p.status != http.StatusOK || strings.Contains(p.body, "⟦") || !strings.Contains(p.body, `<html lang="`+lang+`">`) {
			t.Errorf("erasure page (%s): %d", lang, p.status)
		}
		if m := dataPage.FindStringSubmatch(p.body); m != nil {
			seen[m[1]] = true
		}
		if s.do("GET", "/app/home", nil).status != http.StatusSeeOther {
			t.Error("the erased member's session still serves")
		}
	}
	// A marketplace co-op's shop, as a maker with a listing.
	shop := newVerticalCoop(t, "marketplace")
	maker, makerTok := shop.worker("Mia Maker")
	shop.must(http.StatusCreated, "POST", "/v1/listings", makerTok, map[string]any{"title": "Stoneware bowl", "priceCents": 2500, "stock": 3})
	ms := shop.session(t)
	ms.signIn(shop.code(maker))
	for _, lang := range []string{"en", "fr"} {
		check(ms, "/app/listings", lang)
	}
	// The pages that differ by vertical.
	for _, v := range verticalVisits(t) {
		vs := v.c.session(t)
		vs.signIn(v.c.code(v.member))
		for _, lang := range []string{"en", "fr"} {
			for _, path := range v.paths {
				check(vs, path, lang)
			}
		}
	}
	// A member's choice (?lang=) wins over the browser's languages and is kept.
	s := f.c.session(t)
	s.signIn(f.c.code(f.ana))
	s.do("GET", "/app/home?lang=fr", nil)
	if p := s.do("GET", "/app/money", nil, "Accept-Language", "en"); !strings.Contains(p.body, `<html lang="fr">`) {
		t.Error("the chosen language was not kept")
	}
	// Every page template was rendered.
	entries, err := os.ReadDir("templates")
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".html")
		if name != "layout" && !seen[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("pages never rendered by this test: %v", missing)
	}
}

// Numbers with decimals are written the member's language's way: the fee split's
// percentages on the money page, on a proposal and on the fee split's form, a vote's
// turnout and approval, the vitality page's turnouts and hours (3,00 % in French, 3.00%
// in English, as the catalogues write a percentage).
func TestDecimalsInTheMembersLanguage(t *testing.T) {
	f := newFixture(t)
	s := f.c.session(t)
	s.signIn(f.c.code(f.ana))
	mainOf := func(path string) string {
		t.Helper()
		p := s.do("GET", path, nil)
		if p.status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, p.status)
		}
		body := html.UnescapeString(p.body)
		return body[strings.Index(body, "<main"):strings.Index(body, "</main>")]
	}
	decimalPoint := regexp.MustCompile(`\d\.\d`)
	for _, c := range []struct {
		path string
		want []string
	}{
		{"/app/money?lang=fr", []string{"Commission : 3,00 % de chaque paiement", "Fonds hardship : 1,00 %", "Fonds reserve : 0,50 %"}},
		{"/app/governance?lang=fr", []string{"Commission : 2,50 % de chaque paiement", "Commission : 2,80 %", "participation 50,00 %", "approbation 100,00 %"}},
		{"/app/vitality?lang=fr", []string{"Participation médiane 50,0 %", "Médiane : 192,0 heures.", ">50,00 %<", ">192,0 h<"}},
		{"/app/proposals/new?field=feeSplit&lang=fr", []string{`name="platformFee" inputmode="decimal" value="3"`, `value="0,5"`}},
	} {
		m := mainOf(c.path)
		for _, w := range c.want {
			if !strings.Contains(m, w) {
				t.Errorf("%s does not say %q: %s", c.path, w, m)
			}
		}
		// The proposals' titles are their authors' words (Fee 2.5 %).
		if d := decimalPoint.FindString(regexp.MustCompile(`Fee 2\.[58] %`).ReplaceAllString(m, "")); d != "" {
			t.Errorf("%s writes %q the English way: %s", c.path, d, m)
		}
	}
	for _, c := range []struct{ path, want string }{
		{"/app/money?lang=en", "Platform fee: 3.00% of each payment"},
		{"/app/governance?lang=en", "turnout 50.00%"},
		{"/app/vitality?lang=en", ">192.0 h<"},
	} {
		if m := mainOf(c.path); !strings.Contains(m, c.want) {
			t.Errorf("%s does not say %q: %s", c.path, c.want, m)
		}
	}
}

// The language link leads to the page itself in the other language: its path and the
// parameters of its address kept (the part a proposal changes, its form), lang replaced.
func TestLanguageLinkKeepsThePage(t *testing.T) {
	c := newCoop(t)
	ana, anaTok := c.member("Ana Driver", "worker")
	proposal := int64(c.must(http.StatusCreated, "POST", "/v1/proposals", anaTok, map[string]any{"title": "A motion"})["id"].(float64))
	s := c.session(t)
	s.signIn(c.code(ana))
	langLink := regexp.MustCompile(`<p class="langs"><a href="([^"]*)" lang="(\w+)" hreflang="(\w+)">`)
	for _, tc := range []struct{ path, want, lang string }{
		{"/app/proposals/new?field=fares", "/app/proposals/new?field=fares&lang=fr", "fr"},
		{"/app/proposals/new?field=fares&as=json&lang=fr", "/app/proposals/new?as=json&field=fares&lang=en", "en"},
		{"/app/governance?lang=en", "/app/governance?lang=fr", "fr"},
	} {
		p := s.do("GET", tc.path, nil)
		m := langLink.FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("%s has no language link: %s", tc.path, p.body)
		}
		if href := html.UnescapeString(m[1]); href != tc.want || m[2] != tc.lang || m[3] != tc.lang {
			t.Errorf("%s: the language link is %q (%s, %s), want %q (%s)", tc.path, href, m[2], m[3], tc.want, tc.lang)
		}
	}
	// Followed, it is the fare rule's form in French, not a motion's.
	p := s.do("GET", "/app/proposals/new?field=fares&lang=fr", nil)
	if p.status != http.StatusOK || p.header.Get("Content-Language") != "fr" || !strings.Contains(p.body, `name="fare.baseCents"`) {
		t.Errorf("the fare rule's form in French: %d %q %s", p.status, p.header.Get("Content-Language"), p.body)
	}
	// A page shown after a refused form links to the nearest page above the form's
	// address (which only takes the form), and that page answers.
	s.do("GET", "/app/home?lang=en", nil)
	csrf := s.do("GET", "/app/schedule", nil).csrf(t)
	for _, tc := range []struct{ path, want string }{
		{"/app/schedule/exceptions", "/app/schedule?lang=fr"},
		{fmt.Sprintf("/app/proposals/%d/ballot", proposal), fmt.Sprintf("/app/proposals/%d?lang=fr", proposal)},
		{"/app/delegation/remove", "/app/?lang=fr"},
		{"/app/funds/ask", "/app/funds/ask?lang=fr"},
	} {
		p := s.do("POST", tc.path, url.Values{"csrf": {csrf}, "x.kind": {"off"}, "amount": {"x"}, "key": {"k"}})
		m := langLink.FindStringSubmatch(p.body)
		if m == nil || html.UnescapeString(m[1]) != tc.want {
			t.Errorf("after a refused POST %s: the language link is %v, want %q", tc.path, m, tc.want)
			continue
		}
		if got := s.do("GET", tc.want, nil); got.status != http.StatusOK && got.status != http.StatusSeeOther {
			t.Errorf("%s answers %d", tc.want, got.status)
		}
		s.do("GET", "/app/home?lang=en", nil)
	}
}
