package web_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// faresPolicy is testPolicy in Paris with a fare rule: amounts, a weekend night surge,
// a zone and a time rate.
var faresPolicy = strings.TrimSuffix(strings.TrimSpace(strings.Replace(testPolicy, `"vertical":"ride-sharing"`, `"vertical":"ride-sharing","timeZone":"Europe/Paris"`, 1)), "}") +
	`,"fares":{"baseCents":250,"perKmCents":120,"minimumCents":700,"surge":[{"days":["fri","sat"],"from":"22:00","to":"23:59","percent":50}],` +
	`"zones":[{"name":"suburbs","baseCents":400}],"timeRates":[{"name":"night","from":"22:00","to":"24:00","perKmCents":150}]}}`

// TestProposeAFareRuleOnItsForm: a driver proposes a new fare rule on a form of amounts and
// surge windows, prefilled with the rule in force, rather than as JSON; the zones and time
// rates in force are kept as they are and said so. An amount, a window half filled, a time
// or a percent the form cannot take is refused beside its field, as is a window the API
// refuses (beside its own row, whichever rows are empty); nothing is proposed meanwhile.
// The whole rule can still be proposed as JSON.
func TestProposeAFareRuleOnItsForm(t *testing.T) {
	c := newCoopWith(t, faresPolicy)
	ana, anaTok := c.member("Ana Driver", "worker")
	s := c.session(t)
	csrf := s.signIn(c.code(ana))
	count := func() int {
		return len(c.must(http.StatusOK, "GET", "/v1/proposals", anaTok, nil)["proposals"].([]any))
	}
	p := s.do("GET", "/app/proposals/new?field=fares", nil)
	for _, want := range []string{`name="fare.baseCents" inputmode="decimal" value="2.50"`, `name="fare.perKmCents" inputmode="decimal" value="1.20"`,
		`name="fare.minimumCents" inputmode="decimal" value="7.00"`, `name="fare.perHourCents" inputmode="decimal" value=""`,
		`name="surge.0.fri" value="on" checked>`, `name="surge.0.sat" value="on" checked>`, `name="surge.0.mon" value="on">`,
		`name="surge.0.from" inputmode="numeric" size="5" placeholder="07:30" value="22:00"`, `name="surge.0.percent" inputmode="numeric" size="4" value="50"`,
		`name="surge.1.from" inputmode="numeric" size="5" placeholder="07:30" value=""`,
		`on the co-op&#39;s clock (Europe/Paris)`, `<p id="fares-kept">The rule&#39;s zones and time rates stay as they are: suburbs, night.</p>`,
		`<input type="hidden" name="as" value="form">`} {
		if !strings.Contains(p.body, want) {
			t.Fatalf("the fare rule's form lacks %s: %s", want, p.body[strings.Index(p.body, "<main"):])
		}
	}
	if strings.Contains(p.body, `name="surge.2.from"`) {
		t.Error("the fare rule's form has more than one empty row")
	}
	if fr := s.do("GET", "/app/proposals/new?field=fares&lang=fr", nil).body; !strings.Contains(fr, `name="fare.baseCents" inputmode="decimal" value="2,50"`) {
		t.Errorf("the fare rule's form in French: %s", fr[strings.Index(fr, "<main"):])
	}
	s.do("GET", "/app/home?lang=en", nil)

	form := url.Values{"csrf": {csrf}, "field": {"fares"}, "as": {"form"}, "title": {"Fairer fares"}, "body": {"Night work pays more"},
		"fare.baseCents": {"3"}, "fare.perKmCents": {"1,35"}, "fare.minimumCents": {"7.00"}, "fare.perHourCents": {""},
		"surge.0.fri": {"on"}, "surge.0.sat": {"on"}, "surge.0.from": {"22:00"}, "surge.0.to": {"24:00"}, "surge.0.percent": {"50"},
		"surge.1.from": {"7:30"}, "surge.1.to": {"09:00"}, "surge.1.percent": {"20"},
		"surge.1.mon": {"on"}, "surge.1.tue": {"on"}, "surge.1.wed": {"on"}, "surge.1.thu": {"on"}, "surge.1.fri": {"on"}}
	for name, tc := range map[string]struct {
		set   map[string]string
		field string
		says  string
	}{
		"a negative amount":        {map[string]string{"fare.baseCents": "-1"}, "p-fare.baseCents", "Type an amount from 0 to 100000.00"},
		"an amount of three cents": {map[string]string{"fare.perKmCents": "1.355"}, "p-fare.perKmCents", "Type an amount"},
		"a window without percent": {map[string]string{"surge.1.percent": ""}, "surge.1", "Give the window&#39;s start, end and percent"},
		"a window with days only":  {map[string]string{"surge.2.sun": "on"}, "surge.2", "Give the window&#39;s start, end and percent"},
		"a time of 25:00":          {map[string]string{"surge.1.to": "25:00"}, "surge.1", "Type times of day such as 07:30"},
		"a surge of 301 %":         {map[string]string{"surge.1.percent": "301"}, "surge.1", "Type a whole number from 1 to 300."},
		// The form takes it; the API refuses its end before its start, beside its row.
		"an end before the start": {map[string]string{"surge.0.from": "", "surge.0.to": "", "surge.0.percent": "", "surge.0.fri": "", "surge.0.sat": "",
			"surge.1.from": "10:00"}, "surge.1", "The end must come after the start."},
	} {
		bad := maps.Clone(form)
		for k, v := range tc.set {
			bad.Set(k, v)
		}
		p := s.do("POST", "/app/proposals", bad)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="`+tc.field+`-error">`+tc.says) || count() != 0 {
			t.Fatalf("%s: %d, want 400 beside %s saying %q: %s", name, p.status, tc.field, tc.says, p.body[strings.Index(p.body, "<main"):])
		}
		if !strings.Contains(p.body, `value="Fairer fares"`) {
			t.Errorf("%s: the title typed is lost", name)
		}
		if strings.HasPrefix(tc.field, "surge.") && !strings.Contains(p.body, `name="`+tc.field+`.percent" inputmode="numeric" size="4" value="`) ||
			strings.HasPrefix(tc.field, "surge.") && !strings.Contains(p.body, `aria-invalid="true" aria-describedby="`+tc.field+`-error"`) {
			t.Errorf("%s: the row's inputs do not point at its error", name)
		}
	}
	if p := s.do("POST", "/app/proposals", form); p.status != http.StatusSeeOther {
		t.Fatalf("a new fare rule: %d %s", p.status, p.body[strings.Index(p.body, "<main"):])
	}
	got := c.must(http.StatusOK, "GET", "/v1/proposals", anaTok, nil)["proposals"].([]any)[0].(map[string]any)
	v, _ := json.Marshal(got["value"])
	var want any
	if err := json.Unmarshal([]byte(`{"baseCents":300,"perKmCents":135,"minimumCents":700,
		"surge":[{"days":["fri","sat"],"from":"22:00","to":"24:00","percent":50},{"days":["mon","tue","wed","thu","fri"],"from":"07:30","to":"09:00","percent":20}],
		"zones":[{"name":"suburbs","baseCents":400}],"timeRates":[{"name":"night","from":"22:00","to":"24:00","perKmCents":150}]}`), &want); err != nil {
		t.Fatal(err)
	}
	wb, _ := json.Marshal(want)
	if got["field"] != "fares" || string(v) != string(wb) {
		t.Fatalf("the fare rule proposed:\n%s\nwant\n%s", v, wb)
	}

	// As JSON, the whole rule.
	p = s.do("GET", "/app/proposals/new?field=fares&as=json", nil)
	if !strings.Contains(p.body, `<input type="hidden" name="as" value="json">`) || !strings.Contains(p.body, `&#34;zones&#34;:[{&#34;name&#34;:&#34;suburbs&#34;`) {
		t.Fatalf("the fare rule as JSON: %s", p.body[strings.Index(p.body, "<main"):])
	}
	asJSON := url.Values{"csrf": {csrf}, "field": {"fares"}, "as": {"json"}, "title": {"No zones"}, "value": {`{"baseCents":300}`}}
	if p := s.do("POST", "/app/proposals", asJSON); p.status != http.StatusSeeOther || count() != 2 {
		t.Fatalf("a fare rule as JSON: %d %s", p.status, p.body)
	}
	// A rule sent without "as" (a page of the app from before the form) is its JSON, not
	// the form's empty amounts; refused, it comes back as the JSON typed, with its error.
	asJSON.Del("as")
	asJSON.Set("value", `{"baseCents":`)
	if p := s.do("POST", "/app/proposals", asJSON); p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="p-value-error"`) ||
		!strings.Contains(p.body, `{&#34;baseCents&#34;:</textarea>`) || !strings.Contains(p.body, `<input type="hidden" name="as" value="json">`) || count() != 2 {
		t.Fatalf("bad JSON without as: %d %s", p.status, p.body[strings.Index(p.body, "<main"):])
	}
	asJSON.Set("value", `{"baseCents":450}`)
	if p := s.do("POST", "/app/proposals", asJSON); p.status != http.StatusSeeOther || count() != 3 {
		t.Fatalf("a fare rule without as: %d %s", p.status, p.body)
	}
	if v := c.must(http.StatusOK, "GET", "/v1/proposals", anaTok, nil)["proposals"].([]any)[0].(map[string]any)["value"]; fmt.Sprint(v) != "map[baseCents:450]" {
		t.Fatalf("the rule proposed without as: %v", v)
	}
}

// TestGovernanceSaysTheRuleInForceAndTheBallot: the governance page puts a proposed fare
// rule in words beside the rule in force, the one the members voted since the policy's
// (it showed the policy file's, as JSON); it tells a member how they voted, with their
// choice ticked, and a member not on a proposal's roll that they may not vote, with no
// form; a ballot without a choice is refused beside its proposal.
func TestGovernanceSaysTheRuleInForceAndTheBallot(t *testing.T) {
	c := newCoopWith(t, faresPolicy)
	ana, anaTok := c.member("Ana Driver", "worker")
	cy, _ := c.member("Cy Rider", "customer")
	first := int64(c.must(http.StatusCreated, "POST", "/v1/proposals", anaTok, map[string]any{"title": "Dearer", "field": "fares",
		"value": map[string]any{"baseCents": 300, "perKmCents": 135}})["id"].(float64))
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", first), anaTok, map[string]any{"choice": "yes"})
	if got := c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/proposals/%d/close", first), adminToken, nil); got["result"].(map[string]any)["passed"] != true {
		t.Fatalf("the first fare rule did not pass: %v", got)
	}
	id := int64(c.must(http.StatusCreated, "POST", "/v1/proposals", anaTok, map[string]any{"title": "Dearer still", "field": "fares",
		"value": map[string]any{"baseCents": 400, "surge": []map[string]any{{"days": []string{"fri", "sat"}, "from": "22:00", "to": "24:00", "percent": 50}},
			"zones": []map[string]any{{"name": "suburbs", "baseCents": 500}}}})["id"].(float64))

	s := c.session(t)
	csrf := s.signIn(c.code(ana))
	p := s.do("GET", "/app/governance", nil)
	card := between(p.body, fmt.Sprintf(`id="proposal-%d"`, id), "</article>")
	now, proposed := between(card, "<h4>Now</h4>", "</ul>"), between(card, "<h4>Proposed</h4>", "</ul>")
	if !strings.Contains(now, "Base fare, per request: 3.00") || !strings.Contains(now, "Per kilometre: 1.35") || strings.Contains(now, "2.50") ||
		!strings.Contains(proposed, "Base fare, per request: 4.00") || !strings.Contains(proposed, "Surge of 50% (Friday, Saturday), 22:00 to 24:00") ||
		!strings.Contains(proposed, "Zones: suburbs") || strings.Contains(card, "baseCents") {
		t.Fatalf("the fare rule's proposal: %s", card)
	}
	if strings.Contains(card, fmt.Sprintf(`id="voted-%d"`, id)) {
		t.Fatalf("Ana has not voted yet: %s", card)
	}
	if p := s.do("POST", fmt.Sprintf("/app/proposals/%d/ballot", id), url.Values{"csrf": {csrf}}); p.status != http.StatusBadRequest ||
		!strings.Contains(p.body, fmt.Sprintf(`id="vote-%d-error">`, id)) {
		t.Fatalf("a ballot without a choice: %d %s", p.status, p.body)
	}
	if p := s.do("POST", fmt.Sprintf("/app/proposals/%d/ballot", id), url.Values{"csrf": {csrf}, "choice": {"no"}}); p.status != http.StatusSeeOther {
		t.Fatalf("Ana votes no: %d %s", p.status, p.body)
	}
	card = between(s.do("GET", "/app/governance", nil).body, fmt.Sprintf(`id="proposal-%d"`, id), "</article>")
	if !strings.Contains(card, fmt.Sprintf(`id="voted-%d">You voted: No.`, id)) || !strings.Contains(card, fmt.Sprintf(`id="vote-%d-no" checked>`, id)) ||
		!strings.Contains(card, "Change my vote") {
		t.Fatalf("Ana's proposal after her ballot: %s", card)
	}

	cs := c.session(t)
	cs.signIn(c.code(cy))
	card = between(cs.do("GET", "/app/governance", nil).body, fmt.Sprintf(`id="proposal-%d"`, id), "</article>")
	if !strings.Contains(card, fmt.Sprintf(`id="not-on-roll-%d"`, id)) || strings.Contains(card, "/ballot") {
		t.Fatalf("a customer's view of the proposal: %s", card)
	}
	// A ballot on a proposal that closed meanwhile is refused above the page (its card has
	// no ballot any more).
	c.clock.Step(8 * 24 * time.Hour)
	s = c.session(t) // (the first session ended after 12 hours)
	csrf = s.signIn(c.code(ana))
	if p := s.do("POST", fmt.Sprintf("/app/proposals/%d/ballot", id), url.Values{"csrf": {csrf}, "choice": {"yes"}}); p.status != http.StatusConflict ||
		!strings.Contains(p.body, `id="form-error">`) {
		t.Fatalf("a ballot on a proposal closed meanwhile: %d %s", p.status, p.body)
	}
	_ = ana
}

// between is the part of b after from, up to to ("" when from is not in it).
func between(b, from, to string) string {
	i := strings.Index(b, from)
	if i < 0 {
		return ""
	}
	b = b[i+len(from):]
	if j := strings.Index(b, to); j >= 0 {
		return b[:j]
	}
	return b
}

// TestGovernanceFitsAPhone: the governance page, with a fare rule in words, a governed
// part as JSON and a motion with a long unbroken word, is no wider than a phone's screen
// (the browser's window is a phone's), in English and French; it was wider.
func TestGovernanceFitsAPhone(t *testing.T) {
	doc := strings.Replace(faresPolicy, `"governedFields":["feeSplit","plan"]`, `"governedFields":["feeSplit","plan","backup"]`, 1)
	c := newCoopWith(t, doc)
	ana, anaTok := c.member("Ana Driver", "worker")
	c.must(http.StatusCreated, "POST", "/v1/proposals", anaTok, map[string]any{"title": "Fares", "field": "fares",
		"value": map[string]any{"baseCents": 600, "perKmCents": 200, "surge": []map[string]any{{"days": []string{"mon", "tue", "wed", "thu", "fri"}, "from": "07:00", "to": "09:00", "percent": 20}}}})
	c.must(http.StatusCreated, "POST", "/v1/proposals", anaTok, map[string]any{"title": "Backups", "field": "backup",
		"value": map[string]any{"schedule": "0 0 3 * * *", "retention": "30d"}})
	c.must(http.StatusCreated, "POST", "/v1/proposals", anaTok, map[string]any{"title": "A motion", "body": "See " + strings.Repeat("https://example.org/", 12)})
	ctx := newTab(t)
	c.signIn(t, ctx, c.code(ana))
	for _, path := range []string{"/app/governance", "/app/governance?lang=fr"} {
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

// TestProposeFromTheValueInForce: the form of a governed part proposed as JSON holds the
// co-op's value in force, as the operator writes it into the policy document, for the
// member to edit, in a browser that runs no script (the part is chosen on a form of its
// own, sent to the server); sent edited, it opens a proposal of the edited value. The
// governance page says the value in force beside the proposed one.
func TestProposeFromTheValueInForce(t *testing.T) {
	doc := strings.Replace(testPolicy, `"governedFields":["feeSplit","plan"]},`,
		`"governedFields":["feeSplit","plan","backup"]},"current":{"plan":"small","backup":{"schedule":"0 0 3 * * *","retention":"30d"}},`, 1)
	c := newCoopWith(t, doc)
	ana, anaTok := c.member("Ana Driver", "worker")
	ctx := newTab(t)
	c.signIn(t, ctx, c.code(ana))
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	value := func() string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("p-value")))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct{ field, want string }{
		{"plan", `"small"`},
		{"backup", `{"schedule":"0 0 3 * * *","retention":"30d"}`},
		{"governance", `{"model":"one-member-one-vote","quorumPercent":50,"approvalPercent":50,"governedFields":["feeSplit","plan","backup"],"minimumVotingPeriodHours":168}`},
	} {
		do(t, ctx, chromedp.Navigate(c.url+"/app/proposals/new"), chromedp.SetValue(chromedp.ID("field-choice"), tc.field))
		click(t, ctx, `form[action="/app/proposals/new"] button[type=submit]`)
		if loc := location(t, ctx); !strings.HasSuffix(loc, "/app/proposals/new?field="+tc.field) {
			t.Fatalf("choosing %s led to %s", tc.field, loc)
		}
		if got := value(); got != tc.want {
			t.Errorf("the form of %s holds %q, want the value in force %q", tc.field, got, tc.want)
		}
	}
	// The backup's form, edited: the retention only.
	do(t, ctx, chromedp.Navigate(c.url+"/app/proposals/new?field=backup"))
	do(t, ctx, chromedp.SendKeys(chromedp.ID("p-title"), "Keep backups for 60 days"),
		chromedp.SetValue(chromedp.ID("p-value"), strings.Replace(value(), `"30d"`, `"60d"`, 1)))
	click(t, ctx, "#send-proposal")
	if got := text(t, ctx, ".flash"); !strings.HasSuffix(location(t, ctx), "/app/governance?done=proposed") || got == "" {
		t.Fatalf("after proposing, the browser is at %s: %q", location(t, ctx), got)
	}
	ps := c.must(http.StatusOK, "GET", "/v1/proposals", anaTok, nil)["proposals"].([]any)
	p := ps[0].(map[string]any)
	if v, _ := json.Marshal(p["value"]); len(ps) != 1 || p["field"] != "backup" || string(v) != `{"retention":"60d","schedule":"0 0 3 * * *"}` {
		t.Fatalf("the proposal opened: %v (%s)", p, v)
	}
	card := text(t, ctx, fmt.Sprintf("#proposal-%d", int64(p["id"].(float64))))
	if !strings.Contains(card, `{"schedule":"0 0 3 * * *","retention":"30d"}`) || !strings.Contains(card, `"60d"`) {
		t.Errorf("the governance page does not say the backup in force beside the proposed one: %q", card)
	}
}
