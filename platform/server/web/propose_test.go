package web_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
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
