package web_test

import (
	"html"
	"net/http"
	"strings"
	"testing"
)

// TestGovernancePageListsTheHubsChangesWithoutAVote: a change the hub made to a governed
// setting through its break-glass path (as the operator recorded it in the policy) is
// told to every member on the governance page, the newest first: when, by whom, what
// (each setting before and after, when recorded), and the reason in the hub's words (as text: markup in it is shown, not run). A co-op with no
// such change has no such section.
func TestGovernancePageListsTheHubsChangesWithoutAVote(t *testing.T) {
	doc := strings.Replace(testPolicy, `"payments":`, `"breakGlass":[
	  {"user":"bob@hub.example","time":"2026-11-02T08:00:00Z","fields":["plan"],"reason":"disk full: the plan raised until the members vote"},
	  {"user":"eve@hub.example","time":"2026-11-20T15:30:00Z","fields":["feeSplit","plan"],"reason":"payment provider outage <script>alert(1)</script>",
	   "changes":[{"field":"feeSplit","old":{"platformFeeBasisPoints":300,"surgeToWorkersPercent":100},"new":{"platformFeeBasisPoints":0,"surgeToWorkersPercent":100}},
	              {"field":"plan","old":"small","new":"medium"}]}],
	 "payments":`, 1)
	c := newCoopWith(t, doc)
	bea, _ := c.member("Bea Driver", "worker")
	s := c.session(t)
	s.signIn(c.code(bea))
	p := s.do("GET", "/app/governance", nil)
	if p.status != http.StatusOK {
		t.Fatalf("GET /app/governance: %d %s", p.status, p.body)
	}
	if strings.Contains(p.body, "<script>alert") {
		t.Fatalf("the reason's markup is in the page unescaped: %s", p.body)
	}
	b := html.UnescapeString(p.body)
	_, section, _ := strings.Cut(b, `id="break-glass"`)
	section, _, _ = strings.Cut(section, "</section>")
	eve, bob := strings.Index(section, "by eve@hub.example, for the hub"), strings.Index(section, "by bob@hub.example, for the hub")
	if eve < 0 || bob < 0 || eve > bob {
		t.Errorf("the section does not list both changes, the newest first: %s", section)
	}
	for _, want := range []string{"Changes the hub made without a vote", "2026-11-20 15:30 UTC", "What changed: the fee split, the hosting plan",
		"Why, in their words: payment provider outage <script>alert(1)</script>", "Why, in their words: disk full: the plan raised until the members vote",
		// What eve changed, before and after: the fee split in words, another part as set.
		"<h4>the fee split: before</h4><ul><li>Platform fee: 3.00% of each payment (surge excluded)</li>",
		"<h4>the fee split: after</h4><ul><li>Platform fee: 0.00% of each payment (surge excluded)</li>",
		`<h4>the hosting plan: before</h4><ul><li>"small"</li></ul>`, `<h4>the hosting plan: after</h4><ul><li>"medium"</li></ul>`} {
		if !strings.Contains(section, want) {
			t.Errorf("the section does not say %q: %s", want, section)
		}
	}
	if p := s.do("GET", "/app/governance?lang=fr", nil); !strings.Contains(html.UnescapeString(p.body), "Ce qui a changé : la répartition des frais, l'offre d'hébergement") {
		t.Errorf("the French page does not name the changed settings in French: %s", p.body)
	}

	plain := newCoop(t)
	ana, _ := plain.member("Ana Driver", "worker")
	s = plain.session(t)
	s.signIn(plain.code(ana))
	if p := s.do("GET", "/app/governance", nil); p.status != http.StatusOK || strings.Contains(p.body, `id="break-glass"`) {
		t.Errorf("a co-op without break-glass changes: %d, the section is shown: %s", p.status, p.body)
	}
}
