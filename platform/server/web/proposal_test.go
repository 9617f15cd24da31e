package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestProposalPageInTheApp: a proposal has a page of its own, linked from the governance
// page and from the notification of its close: its rules (quorum, approval threshold),
// when voting closes, and while it is open its turnout only (the ballot is secret until
// the close: no count, no approval, not whether it would pass, to a member or to staff),
// and the member's own ballot, never another's, with their ballot form; once closed, its
// result per class and no form. An id that is no proposal's is 404.
func TestProposalPageInTheApp(t *testing.T) {
	c := newCoop(t) // one member one vote, quorum 50 %, approval 50 %; the clock: 2026-12-01 09:00 UTC
	ana, anaTok := c.member("Ana Driver", "worker")
	bea, beaTok := c.member("Bea Driver", "worker")
	c.member("Cid Driver", "worker")
	sam, _ := c.member("Sam Staff", "staff") // on the roll too: workers and staff vote
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
		`id="quorum">Quorum: at least 50% of the 4 members who may vote cast a ballot`, `id="threshold">It passes with at least 50% yes`,
		`Turnout so far`, `id="ballots-cast">1 of the 4 members who may vote have cast a ballot.`, `id="secret">The vote is secret until it closes`,
		`id="my-vote">You have not voted.`, fmt.Sprintf(`<form method="post" action="/app/proposals/%d/ballot">`, id),
		`<input type="hidden" name="from" value="proposal">`, fmt.Sprintf(`id="vote-%d">Vote</button>`, id)} {
		if !strings.Contains(page, want) {
			t.Errorf("Bea's page of the proposal does not say %q: %s", want, page)
		}
	}
	// Bea votes: her page says her ballot and counts it in the turnout, and says nobody
	// else's, nor how the vote goes.
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), beaTok, map[string]any{"choice": "no"})
	page = mainOf(fmt.Sprintf("/app/proposals/%d?lang=fr", id))
	for _, want := range []string{`id="my-vote">Vous avez voté : Non.`, `id="ballots-cast">2 des 4 membres qui peuvent voter ont déposé un bulletin.`,
		"La participation à ce jour", `id="secret">Le vote est secret jusqu'à sa clôture`} {
		if !strings.Contains(page, want) {
			t.Errorf("Bea's page in French does not say %q: %s", want, page)
		}
	}
	if strings.Contains(page, "voté : Oui") || strings.Contains(page, "Ana Driver") {
		t.Errorf("Bea's page tells Ana's ballot: %s", page)
	}
	// Nothing of how the vote goes, to Bea nor to a member of staff.
	st := c.session(t)
	st.signIn(c.code(sam))
	for who, sess := range map[string]*session{"Bea": s, "Sam, of staff": st} {
		p := sess.do("GET", fmt.Sprintf("/app/proposals/%d?lang=en", id), nil)
		b := html.UnescapeString(p.body)
		b = b[strings.Index(b, "<main"):strings.Index(b, "</main>")]
		_, tally, _ := strings.Cut(b, `id="tally-h"`)
		tally, _, _ = strings.Cut(tally, "</section>")
		for _, leak := range []string{`id="turnout"`, "approval", "<table", `class="num"`, "would pass", "would not pass", "Votes per class", `id="outcome"`} {
			if strings.Contains(tally, leak) {
				t.Errorf("%s's page of the open proposal says %q: %s", who, leak, tally)
			}
		}
		if !strings.Contains(tally, `id="ballots-cast">2 of the 4 members`) {
			t.Errorf("%s's page of the open proposal lacks its turnout: %s", who, tally)
		}
	}
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
	for _, want := range []string{`id="closed">Voting closed 2026-12-08 09:00 UTC.`, `id="outcome">Not passed`, `id="my-vote">You voted: No.`, "The result",
		`id="turnout">Turnout 50.00%: the quorum is reached · approval 50.00%`,
		`<td>members</td><td class="num">1</td><td class="num">1</td><td class="num">0</td><td class="num">4</td>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the closed proposal's page does not say %q: %s", want, page)
		}
	}
	if strings.Contains(page, "/ballot") || strings.Contains(page, `id="secret"`) {
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
// offers them a ballot of their own, says the member's own ballot overrides, and once the
// vote closed counts the votes cast through a delegation (while it is open, the turnout
// counts the ballots cast: a vote through a delegate is none).
func TestProposalPageUnderTheDelegateModel(t *testing.T) {
	c := newCoopWith(t, strings.Replace(testPolicy, `"model":"one-member-one-vote"`, `"model":"delegate"`, 1))
	ana, anaTok := c.member("Ana Driver", "worker")
	bea, beaTok := c.member("Bea Driver", "worker")
	id := int64(c.must(http.StatusCreated, "POST", "/v1/proposals", beaTok, map[string]any{"title": "Buy a bike shed"})["id"].(float64))
	other := int64(c.must(http.StatusCreated, "POST", "/v1/proposals", beaTok, map[string]any{"title": "Paint the shed"})["id"].(float64))
	c.must(http.StatusOK, "PUT", "/v1/delegation", anaTok, map[string]any{"delegateId": bea})
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), beaTok, map[string]any{"choice": "yes"})
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", other), beaTok, map[string]any{"choice": "yes"})
	s := c.session(t)
	s.signIn(c.code(ana))
	p := s.do("GET", fmt.Sprintf("/app/proposals/%d", id), nil)
	body := html.UnescapeString(p.body)
	// Her own ballot would override her delegate's: the page offers it.
	for _, want := range []string{fmt.Sprintf(`id="my-vote">You have not voted: your vote goes through member no. %d, your delegate, until you vote yourself.`, bea),
		fmt.Sprintf(`<form method="post" action="/app/proposals/%d/ballot">`, id),
		`id="ballots-cast">1 of the 2 members who may vote have cast a ballot.`} {
		if !strings.Contains(body, want) {
			t.Errorf("Ana's page does not say %q: %d %s", want, p.status, body)
		}
	}
	if strings.Contains(body, "<table") || strings.Contains(body, "Of them, through a delegate") {
		t.Errorf("Ana's page of the open vote counts its votes: %s", body)
	}
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), anaTok, map[string]any{"choice": "no"})
	body = html.UnescapeString(s.do("GET", fmt.Sprintf("/app/proposals/%d", id), nil).body)
	if !strings.Contains(body, `id="my-vote">You voted: No. Your own ballot counts, not your delegate's.`) || strings.Contains(body, "through a delegate") ||
		!strings.Contains(body, fmt.Sprintf(`id="vote-%d-no" checked>`, id)) {
		t.Errorf("Ana's page after her own vote: %s", body)
	}
	// Closed: the vote cast through Bea counts, and the page says so.
	c.clock.Step(8 * 24 * time.Hour)
	s = c.session(t)
	s.signIn(c.code(ana))
	body = html.UnescapeString(s.do("GET", fmt.Sprintf("/app/proposals/%d", other), nil).body)
	for _, want := range []string{`<th scope="col">Of them, through a delegate</th>`,
		`<td>members</td><td class="num">2</td><td class="num">0</td><td class="num">0</td><td class="num">1</td><td class="num">2</td>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the closed proposal's page does not say %q: %s", want, body)
		}
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

// TestVoteOnTheProposalPage: a member votes on the proposal's own page, in the browser,
// through the governance page's form and handler, and comes back to the proposal's page,
// which says their ballot; they change it there. Refused, and nothing written: a member
// not on the roll (no form is offered them; a ballot posted anyway is refused beside the
// notice), a ballot with a forged or another session's CSRF token, and one sent after the
// deadline (said above the page, which has no form any more).
func TestVoteOnTheProposalPage(t *testing.T) {
	c := newCoop(t) // one member one vote: workers are on the roll, customers not
	ana, _ := c.member("Ana Driver", "worker")
	bea, beaTok := c.member("Bea Driver", "worker")
	id := int64(c.must(http.StatusCreated, "POST", "/v1/proposals", beaTok, map[string]any{"title": "Buy a bike shed"})["id"].(float64))
	cy, _ := c.member("Cy Rider", "customer")
	late, _ := c.member("Dee Driver", "worker") // admitted after it opened
	path := fmt.Sprintf("/app/proposals/%d", id)
	ballots := func() map[int64]string {
		t.Helper()
		rows, err := c.owner.Query(t.Context(), `SELECT member_id, choice FROM ballots WHERE proposal_id = $1`, id)
		if err != nil {
			t.Fatal(err)
		}
		out := map[int64]string{}
		for rows.Next() {
			var m int64
			var ch string
			if err := rows.Scan(&m, &ch); err != nil {
				t.Fatal(err)
			}
			out[m] = ch
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}

	ctx := newTab(t)
	c.signIn(t, ctx, c.code(ana))
	do(t, ctx, chromedp.Navigate(c.url+path))
	do(t, ctx, chromedp.Click(chromedp.ID(fmt.Sprintf("vote-%d-yes", id))))
	click(t, ctx, fmt.Sprintf("#vote-%d", id))
	if loc := location(t, ctx); !strings.HasSuffix(loc, path+"?done=vote#mine-h") {
		t.Fatalf("after voting on the proposal's page the browser is at %s", loc)
	}
	if got, mine := text(t, ctx, ".flash"), text(t, ctx, "#my-vote"); got != "Your vote is recorded." || mine != "You voted: Yes." {
		t.Fatalf("after voting: %q, %q", got, mine)
	}
	if got, err := chromedp.Run(ctx, chromedp.Evaluate[[]any](fmt.Sprintf(`[document.getElementById('vote-%d-yes').checked, document.getElementById('vote-%d').textContent]`, id, id))); err != nil ||
		got[0] != true || got[1] != "Change my vote" {
		t.Fatalf("the form after voting: %v %v", got, err)
	}
	do(t, ctx, chromedp.Click(chromedp.ID(fmt.Sprintf("vote-%d-no", id))))
	click(t, ctx, fmt.Sprintf("#vote-%d", id))
	if mine := text(t, ctx, "#my-vote"); mine != "You voted: No." {
		t.Fatalf("after changing the vote: %q", mine)
	}
	if got := ballots(); len(got) != 1 || got[ana] != "no" {
		t.Fatalf("the ballots after Ana's: %v", got)
	}

	// Not on the roll: no form; a ballot posted anyway is refused on the page, unwritten.
	for _, m := range []int64{cy, late} {
		s := c.session(t)
		csrf := s.signIn(c.code(m))
		page := s.do("GET", path, nil)
		if !strings.Contains(page.body, fmt.Sprintf(`id="not-on-roll-%d"`, id)) || strings.Contains(page.body, "/ballot") {
			t.Fatalf("member %d, not on the roll, is offered a ballot: %s", m, page.body)
		}
		p := s.do("POST", path+"/ballot", url.Values{"csrf": {csrf}, "from": {"proposal"}, "choice": {"yes"}})
		if p.status != http.StatusForbidden || !strings.Contains(p.body, `data-page="proposal"`) ||
			!strings.Contains(p.body, fmt.Sprintf(`id="vote-%d-error">You do not vote on this proposal`, id)) {
			t.Fatalf("member %d, not on the roll, votes: %d %s", m, p.status, p.body)
		}
	}
	// A forged token, another member's, none: 403, nothing written.
	s := c.session(t)
	beaCSRF := s.signIn(c.code(bea))
	as := c.session(t)
	as.signIn(c.code(ana))
	for _, forged := range []string{beaCSRF, "forged", ""} {
		if p := as.do("POST", path+"/ballot", url.Values{"csrf": {forged}, "from": {"proposal"}, "choice": {"yes"}}); p.status != http.StatusForbidden {
			t.Fatalf("a ballot with the CSRF token %q: %d", forged, p.status)
		}
	}
	if got := ballots(); len(got) != 1 || got[ana] != "no" {
		t.Fatalf("refused ballots were written: %v", got)
	}

	// After the deadline: refused above the page, which offers no form, and not written.
	c.clock.Step(7*24*time.Hour + time.Second)
	s = c.session(t)
	beaCSRF = s.signIn(c.code(bea))
	p := s.do("POST", path+"/ballot", url.Values{"csrf": {beaCSRF}, "from": {"proposal"}, "choice": {"yes"}})
	if p.status != http.StatusConflict || !strings.Contains(p.body, `data-page="proposal"`) || !strings.Contains(p.body, `id="form-error"`) ||
		strings.Contains(p.body, "/ballot\"") {
		t.Fatalf("a ballot after the deadline: %d %s", p.status, p.body)
	}
	if got := ballots(); len(got) != 1 || got[ana] != "no" {
		t.Fatalf("a ballot after the deadline was written: %v", got)
	}
}
