package web_test

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/cooperator-dev/cooperator/platform/server/governance"
)

// A member using the app in French reads what became of each passed proposal's change in
// French: the platform's word that it applied a fare rule itself, and the operator's
// write-back that it applied a change, or refused one. Before, the state was French and
// the message after it its writer's English.
func TestApplicationOutcomesInFrench(t *testing.T) {
	c := newCoop(t)
	ana, anaTok := c.member("Ana Driver", "worker")
	propose := func(title, field string, value any) int64 {
		id := int64(c.must(http.StatusCreated, "POST", "/v1/proposals", anaTok, map[string]any{"title": title, "field": field, "value": value})["id"].(float64))
		c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), anaTok, map[string]any{"choice": "yes"})
		return id
	}
	fee := func(bp int) map[string]any {
		return map[string]any{"platformFeeBasisPoints": bp, "funds": []map[string]any{{"name": "hardship", "basisPoints": 100}}, "surgeToWorkersPercent": 100}
	}
	fares := propose("Fares", "fares", map[string]any{"baseCents": 500, "perKmCents": 200})
	applied := propose("Fee 2.8 %", "feeSplit", fee(280))
	refused := propose("Fee 2.5 %", "feeSplit", fee(250))
	c.clock.Step(8 * 24 * 3600e9)
	c.must(http.StatusOK, "GET", "/v1/proposals", anaTok, nil) // closes them at their deadline; the platform applies the fare rule itself

	// The operator's write-backs, with its own words (controllers/governance: applyChange,
	// closedBeforeDecided) and its own write (governance.RecordApplication).
	for id, o := range map[int64][2]string{
		applied: {governance.ApplicationApplied, "applied to Cooperative fairride-lyon"},
		refused: {governance.ApplicationRefused, "it closed at 2026-11-02T09:00:00Z, before proposals the operator has decided since (the newest closed at 2026-11-20T10:30:00Z): " +
			"the co-op's database seems restored to an earlier point, and this change may have been applied and changed again since; nothing was applied " +
			"(propose it again if it still stands)"},
	} {
		if err := governance.RecordApplication(t.Context(), c.owner, id, o[0], o[1], c.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}

	s := c.session(t)
	s.signIn(c.code(ana))
	outcomes := func(lang string) map[int64]string {
		t.Helper()
		p := s.do("GET", "/app/governance?lang="+lang, nil)
		if p.status != http.StatusOK {
			t.Fatalf("the governance page in %s: %d", lang, p.status)
		}
		out := map[int64]string{}
		for _, id := range []int64{fares, applied, refused} {
			m := regexp.MustCompile(fmt.Sprintf(`<p class="application" id="application-%d">([^<]*)</p>`, id)).FindStringSubmatch(p.body)
			if m == nil {
				t.Fatalf("the governance page in %s shows no outcome of proposal %d: %s", lang, id, p.body)
			}
			out[id] = html.UnescapeString(m[1])
		}
		return out
	}
	fr := outcomes("fr")
	for id, want := range map[int64][]string{
		fares:   {"Appliquée · ", " · La plateforme calcule désormais le prix des demandes avec ces tarifs."}, //nolint:misspell // French
		applied: {"Appliquée · ", " · Le hub l'a appliquée à la coop fairride-lyon."},
		refused: {"Non appliquée : la vérification du vote par le hub l'a refusée · ", " · Elle a été close le 02/11/2026 09:00 UTC, avant d'autres propositions que le hub a déjà traitées (la plus récente close le 20/11/2026 10:30 UTC) : " +
			"la base de données de la coop semble avoir été restaurée à un état antérieur, et ce changement a peut-être été appliqué puis modifié depuis. " +
			"Rien n'a été appliqué : proposez-la à nouveau si elle vaut toujours."},
	} {
		if !strings.HasPrefix(fr[id], want[0]) || !strings.HasSuffix(fr[id], want[1]) {
			t.Errorf("proposal %d's outcome in French: %q, want %q…%q", id, fr[id], want[0], want[1])
		}
		for _, english := range []string{"applied", "platform", "operator"} {
			if strings.Contains(fr[id], english) {
				t.Errorf("proposal %d's outcome in French says %q: %q", id, english, fr[id])
			}
		}
	}
	en := outcomes("en")
	if want := "From now on, the platform prices requests with this fare rule."; !strings.HasSuffix(en[fares], " · "+want) {
		t.Errorf("the fare rule's outcome in English: %q, want …%q", en[fares], want)
	}
}
