package web_test

import (
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestProposalPageInTheApp: a proposal has a page of its own, linked from the governance
// page and from the notification of its close: its rules (quorum, approval threshold),
// when voting closes, the running tally the API shows every member while it is open, and
// the member's own ballot, never another's; once closed, its result. An id that is no
// proposal's is 404.
func TestProposalPageInTheApp(t *testing.T) {
	c := newCoop(t) // one member one vote, quorum 50 %, approval 50 %; the clock: 2026-12-01 09:00 UTC
	ana, anaTok := c.member("Ana Driver", "worker")
	bea, beaTok := c.member("Bea Driver", "worker")
	c.member("Cid Driver", "worker")
	id := int64(c.must(http.StatusCreated, "POST", "/v1/proposals", anaTok, map[string]any{"title": "Buy a bike shed", "body": "For the couriers."})["id"].(float64))
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), anaTok, map[string]any{"choice": "yes"})

	s := c.session(t)
	s.signIn(c.code(bea))
	if p := s.do("GET", "/app/governance", nil); !strings.Contains(p.body, fmt.Sprintf(`href="/app/proposals/%d" id="proposal-link-%d"`, id, id)) {
		t.Fatalf("the governance page does not link to the proposal: %s", p.body)
	}
	mainOf := func(path string) string {
		t.Helper()
		p := s.do("GET", path, nil)
		if p.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, p.status, p.body)
		}
		b := html.UnescapeString(p.body)
		return b[strings.Index(b, "<main"):strings.Index(b, "</main>")]
	}
	page := mainOf(fmt.Sprintf("/app/proposals/%d", id))
	for _, want := range []string{"Buy a bike shed", `id="closes">Voting closes 2026-12-08 09:00 UTC.`,
		`id="quorum">Quorum: at least 50% of the 3 members who may vote cast a ballot`, `id="threshold">It passes with at least 50% yes`,
		`id="turnout">Turnout 33.33%: the quorum is not reached · approval 100.00%`, `id="if-now">If voting closed now, it would not pass.`,
		`<td>members</td><td class="num">1</td><td class="num">0</td><td class="num">0</td><td class="num">3</td>`,
		`id="my-vote">You have not voted.`, fmt.Sprintf(`href="/app/governance#proposal-%d" id="vote-link">Vote on it`, id)} {
		if !strings.Contains(page, want) {
			t.Errorf("Bea's page of the proposal does not say %q: %s", want, page)
		}
	}
	// Bea votes: her page says her ballot; the tally counts it, and says nobody's else's.
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), beaTok, map[string]any{"choice": "no"})
	page = mainOf(fmt.Sprintf("/app/proposals/%d?lang=fr", id))
	for _, want := range []string{`id="my-vote">Vous avez voté : Non.`, `id="turnout">Participation 66,67 % : le quorum est atteint · approbation 50,00 %`,
		`<td>members</td><td class="num">1</td><td class="num">1</td><td class="num">0</td><td class="num">3</td>`, "Le décompte à ce jour"} {
		if !strings.Contains(page, want) {
			t.Errorf("Bea's page in French does not say %q: %s", want, page)
		}
	}
	if strings.Contains(page, "voté : Oui") || strings.Contains(page, "Ana Driver") {
		t.Errorf("Bea's page tells Ana's ballot: %s", page)
	}
	s.do("GET", "/app/home?lang=en", nil)
	for _, path := range []string{"/app/proposals/99999", "/app/proposals/x"} {
		if p := s.do("GET", path, nil); p.status != http.StatusNotFound {
			t.Errorf("GET %s: %d", path, p.status)
		}
	}

	// Closed at its deadline: the result, and the notification leads to the page.
	c.clock.Step(8 * 24 * 3600e9)
	s = c.session(t)
	s.signIn(c.code(bea))
	page = mainOf(fmt.Sprintf("/app/proposals/%d", id))
	for _, want := range []string{`id="closed">Voting closed 2026-12-08 09:00 UTC.`, `id="outcome">Not passed`, `id="my-vote">You voted: No.`, "The result"} {
		if !strings.Contains(page, want) {
			t.Errorf("the closed proposal's page does not say %q: %s", want, page)
		}
	}
	if strings.Contains(page, `id="vote-link"`) || strings.Contains(page, `id="if-now"`) {
		t.Errorf("the closed proposal's page offers a vote: %s", page)
	}
	if p := s.do("GET", "/app/notifications", nil); !strings.Contains(p.body, fmt.Sprintf(`href="/app/proposals/%d"`, id)) {
		t.Errorf("the notification of the close does not lead to the proposal's page: %s", p.body)
	}

	// On a phone, the page is no wider than the screen.
	ctx := newTab(t)
	c.signIn(t, ctx, c.code(ana))
	for _, path := range []string{fmt.Sprintf("/app/proposals/%d", id), fmt.Sprintf("/app/proposals/%d?lang=fr", id)} {
		do(t, ctx, chromedp.Navigate(c.url+path))
		w, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
		if err != nil {
			t.Fatal(err)
		}
		if w[0] > w[1] {
			t.Errorf("%s is %d px wide in a window of %d", path, w[0], w[1])
		}
	}
}

// TestProposalPageUnderTheDelegateModel: under the delegate model the page says whom the
// member's vote goes through while they cast no ballot (never how their delegate voted),
// counts the votes cast through a delegation, and says the member's own ballot overrides.
func TestProposalPageUnderTheDelegateModel(t *testing.T) {
	c := newCoopWith(t, strings.Replace(testPolicy, `"model":"one-member-one-vote"`, `"model":"delegate"`, 1))
	ana, anaTok := c.member("Ana Driver", "worker")
	bea, beaTok := c.member("Bea Driver", "worker")
	id := int64(c.must(http.StatusCreated, "POST", "/v1/proposals", beaTok, map[string]any{"title": "Buy a bike shed"})["id"].(float64))
	c.must(http.StatusOK, "PUT", "/v1/delegation", anaTok, map[string]any{"delegateId": bea})
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), beaTok, map[string]any{"choice": "yes"})
	s := c.session(t)
	s.signIn(c.code(ana))
	p := s.do("GET", fmt.Sprintf("/app/proposals/%d", id), nil)
	body := html.UnescapeString(p.body)
	for _, want := range []string{fmt.Sprintf(`id="my-vote">You have not voted: your vote goes through member no. %d, your delegate, until you vote yourself.`, bea),
		`<th scope="col">Of them, through a delegate</th>`, `<td>members</td><td class="num">2</td><td class="num">0</td><td class="num">0</td><td class="num">1</td><td class="num">2</td>`} {
		if !strings.Contains(body, want) {
			t.Errorf("Ana's page does not say %q: %d %s", want, p.status, body)
		}
	}
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), anaTok, map[string]any{"choice": "no"})
	body = html.UnescapeString(s.do("GET", fmt.Sprintf("/app/proposals/%d", id), nil).body)
	if !strings.Contains(body, `id="my-vote">You voted: No. Your own ballot counts, not your delegate's.`) || strings.Contains(body, "through a delegate") {
		t.Errorf("Ana's page after her own vote: %s", body)
	}
}

// TestProposalPageSaysATwoThirdsRule: a co-op whose rules ask for two thirds of the votes
// (approvalFraction) is told so on the proposal's page, in each language, rather than the
// approvalPercent the fraction replaces.
func TestProposalPageSaysATwoThirdsRule(t *testing.T) {
	c := newCoopWith(t, strings.Replace(testPolicy, `"approvalPercent":50,`, `"approvalPercent":50,"approvalFraction":"2/3",`, 1))
	_, anaTok := c.member("Ana Driver", "worker")
	bea, _ := c.member("Bea Driver", "worker")
	id := int64(c.must(http.StatusCreated, "POST", "/v1/proposals", anaTok, map[string]any{"title": "Buy a bike shed"})["id"].(float64))
	s := c.session(t)
	s.signIn(c.code(bea))
	for lang, want := range map[string]string{"en": `id="threshold">It passes with at least 2/3 of the yes and no votes as yes`,
		"fr": `id="threshold">Elle est adoptée avec au moins 2/3 de oui parmi les oui et les non`} {
		p := s.do("GET", fmt.Sprintf("/app/proposals/%d?lang=%s", id, lang), nil)
		b := html.UnescapeString(p.body)
		_, threshold, _ := strings.Cut(b, `id="threshold">`)
		threshold, _, _ = strings.Cut(threshold, "</p>")
		if p.status != http.StatusOK || !strings.Contains(b, want) || strings.Contains(threshold, "50") {
			t.Errorf("%s: %d, the page does not say %q, or its threshold is not the fraction (%q): %s", lang, p.status, want, threshold, b)
		}
	}
}
