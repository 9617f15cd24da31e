package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/cooperator-dev/cooperator/api/policy"
)

// proposeData is the form of a new proposal: a motion (no change to apply), or a change of
// one part of the policy the members govern (Field). The fee split has a form of its own,
// prefilled with the split in force; any other part takes its new value as JSON.
type proposeData struct {
	// Fields are the parts a proposal may change here: the policy's governed fields, and
	// the fare rule.
	Fields []string
	Field  string
	// Funds are the fee split's funds, for its form.
	Funds   []string
	Minimum int64
	// FareForm says the fare rule is proposed on its form (its amounts and surge windows),
	// not as JSON; Amounts are the rule's amounts the form shows, Surge its rows of surge
	// windows, Kept the names of the zones and time rates in force it keeps as they are.
	FareForm bool
	Amounts  []string
	Surge    []surgeRow
	Kept     string
}

// surgeRow is a row of the fare form's surge windows: its number and its days' boxes.
type surgeRow struct {
	N    int
	Days []string
}

// Ordinal is the row's number as the page shows it, from 1.
func (r surgeRow) Ordinal() int { return r.N + 1 }

// fareAmounts are the fare rule's amounts its form edits, by their names in the rule
// (the form's fields are fare.<name>), in the order the form shows them.
var fareAmounts = []fareAmount{
	{"baseCents", func(f *policy.Fares) *int64 { return &f.BaseCents }},
	{"perKmCents", func(f *policy.Fares) *int64 { return &f.PerKmCents }},
	{"perMinuteCents", func(f *policy.Fares) *int64 { return &f.PerMinuteCents }},
	{"perPackageCents", func(f *policy.Fares) *int64 { return &f.PerPackageCents }},
	{"perHourCents", func(f *policy.Fares) *int64 { return &f.PerHourCents }},
	{"minimumCents", func(f *policy.Fares) *int64 { return &f.MinimumCents }},
	{"floorCents", func(f *policy.Fares) *int64 { return &f.FloorCents }},
}

type fareAmount struct {
	name string
	of   func(*policy.Fares) *int64
}

// maxSurgeRows is how many surge windows a fare rule holds (policy.Fares.Validate).
const maxSurgeRows = 16

// surgeTime is a time of day a surge window starts or ends at, as the form sends it once
// clock has written it: 00:00 to 23:59, and 24:00 for an end.
var surgeTime = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// fareForm says whether a request asks for the fare rule's form (the default) rather than
// its JSON (?as=json, or the form's hidden as).
func fareForm(field, as string) bool { return field == policy.PartFares && as != "json" }

// proposeFields are the parts of pol a member may propose to change: those it governs (the
// voting rules with any), and the fare rule.
func proposeFields(pol *policy.Policy) []string {
	if pol == nil {
		return nil
	}
	var fs []string
	for _, part := range policy.GovernedParts {
		if pol.Governs(part) {
			fs = append(fs, part)
		}
	}
	return append(fs, policy.PartFares)
}

// proposeForm shows the form of a new proposal, for the part ?field= names ("" a motion).
func (a *App) proposeForm(q *req) {
	field, as := q.r.URL.Query().Get("field"), q.r.URL.Query().Get("as")
	var fares *policy.Fares
	if field == policy.PartFares {
		var ok bool
		if fares, ok = a.faresInForce(q); !ok {
			return
		}
	}
	a.showPropose(q, http.StatusOK, field, nil, a.proposeDefaults(q, field, fareForm(field, as), fares), fares)
}

// proposeDefaults prefills the form with the value in force: the fee split in percent,
// the fare rule in force (the members may have voted one since the policy's), another
// part as the JSON the policy document holds (policy.ValueInForce). fares is the fare rule in force, read by the caller
// (nil: none).
func (a *App) proposeDefaults(q *req, field string, onForm bool, fares *policy.Fares) map[string]string {
	form := map[string]string{}
	pol := a.cfg.Backend.Policy()
	if pol == nil || field == "" {
		return form
	}
	if field == policy.PartFares {
		switch {
		case fares == nil:
		case onForm:
			for _, am := range fareAmounts {
				if v := *am.of(fares); v != 0 {
					form["fare."+am.name] = money(q.lang, v)
				}
			}
			for i, w := range fares.Surge {
				key := fmt.Sprintf("surge.%d", i)
				form[key+".from"], form[key+".to"], form[key+".percent"] = w.From, w.To, strconv.FormatInt(w.Percent, 10)
				for _, d := range w.Days {
					form[key+"."+d] = "on"
				}
			}
		default:
			if b, err := json.Marshal(fares); err == nil {
				form["value"] = string(b)
			}
		}
		form["as"] = "json"
		if onForm {
			form["as"] = "form"
		}
		return form
	}
	if field != policy.PartFeeSplit {
		// As the document holds it: the voting rules, and the other parts the co-op governs
		// (the operator writes their values in force into it).
		if v := pol.ValueInForce(field); v != nil {
			form["value"] = string(v)
		}
		return form
	}
	form["platformFee"] = decimalText(q.lang, percentOf(pol.FeeSplit.PlatformFeeBasisPoints))
	for _, f := range pol.FeeSplit.Funds {
		form["fund."+f.Name] = decimalText(q.lang, percentOf(f.BasisPoints))
	}
	form["surgeToWorkers"] = strconv.FormatInt(pol.FeeSplit.SurgeToWorkersPercent, 10)
	return form
}

// percentOf writes basis points as a percent: 250 is 2.5, 300 is 3.
func percentOf(bp int64) string {
	s := strconv.FormatInt(bp/100, 10)
	if r := bp % 100; r != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%02d", r), "0")
	}
	return s
}

// basisPoints reads a percent with at most two decimals (a comma for the point too) as
// basis points: 100 % at most.
func basisPoints(s string) (int64, bool) { return hundredths(s, 10000) }

// faresInForce is the fare rule in force (nil: none); false when it could not be read
// (and the answer is written).
func (a *App) faresInForce(q *req) (*policy.Fares, bool) {
	pricing, err := a.cfg.Backend.Pricing(q.r.Context())
	if err != nil {
		a.unavailable(q, "reading the fare rule in force failed", err)
		return nil, false
	}
	return pricing.Fares, true
}

// showPropose shows the form of a proposal of field; fares is the fare rule in force (nil:
// none, or not read: the part is not the fare rule, or it is sent as JSON).
func (a *App) showPropose(q *req, status int, field string, errs, form map[string]string, fares *policy.Fares) {
	pol := a.cfg.Backend.Policy()
	d := proposeData{Fields: proposeFields(pol)}
	if slices.Contains(d.Fields, field) {
		d.Field = field
	}
	if d.Field == policy.PartFares && form["as"] != "json" {
		d.FareForm = true
		for _, am := range fareAmounts {
			d.Amounts = append(d.Amounts, am.name)
		}
		// The windows in force or sent, and one empty row more.
		rows := 0
		for i := 0; i < maxSurgeRows; i++ {
			if surgeRowSent(form, fmt.Sprintf("surge.%d", i)) {
				rows = i + 1
			}
		}
		for i := 0; i < min(rows+1, maxSurgeRows); i++ {
			d.Surge = append(d.Surge, surgeRow{N: i, Days: policy.Weekdays})
		}
		if fares != nil {
			var kept []string
			for _, z := range fares.Zones {
				kept = append(kept, z.Name)
			}
			for _, r := range fares.TimeRates {
				kept = append(kept, r.Name)
			}
			d.Kept = strings.Join(kept, ", ")
		}
	}
	if pol != nil {
		d.Minimum = pol.Governance.MinimumVotingPeriodHours
		for _, f := range pol.FeeSplit.Funds {
			d.Funds = append(d.Funds, f.Name)
		}
	}
	a.render(q, status, "propose", "propose.title", page{Data: d, Errors: errs, Form: form, Nav: "governance"})
}

// propose sends a new proposal to the members' vote.
func (a *App) propose(q *req) {
	f := q.r.PostForm
	pol := a.cfg.Backend.Policy()
	field := f.Get("field")
	if field != "" && !slices.Contains(proposeFields(pol), field) {
		a.fail(q, http.StatusBadRequest, "error.generic")
		return
	}
	form := map[string]string{}
	for k := range f {
		if k != "csrf" {
			form[k] = f.Get(k)
		}
	}
	errs := map[string]string{}
	var surgeKeys []string  // the form's row of each surge window sent
	var fares *policy.Fares // the fare rule in force, read for the fare form
	body := map[string]any{"title": f.Get("title"), "body": f.Get("body")}
	if v := strings.TrimSpace(f.Get("votingPeriodHours")); v != "" {
		h, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs["votingPeriodHours"] = tr(q.lang, "request.numberInvalid")
		}
		body["votingPeriodHours"] = h
	}
	switch field {
	case "":
	case "feeSplit":
		var fs policy.FeeSplit
		var ok bool
		if fs.PlatformFeeBasisPoints, ok = basisPoints(f.Get("platformFee")); !ok {
			errs["platformFee"] = tr(q.lang, "propose.percentInvalid")
		}
		if pol != nil {
			for _, fund := range pol.FeeSplit.Funds {
				bp, ok := basisPoints(f.Get("fund." + fund.Name))
				if !ok {
					errs["fund."+fund.Name] = tr(q.lang, "propose.percentInvalid")
				}
				fs.Funds = append(fs.Funds, policy.Fund{Name: fund.Name, BasisPoints: bp})
			}
		}
		n, err := strconv.ParseInt(strings.TrimSpace(f.Get("surgeToWorkers")), 10, 64)
		if err != nil || n < 0 || n > 100 {
			errs["surgeToWorkers"] = tr(q.lang, "propose.wholePercentInvalid")
		}
		fs.SurgeToWorkersPercent = n
		var funds int64
		for _, fund := range fs.Funds {
			funds += fund.BasisPoints
		}
		if _, bad := errs["platformFee"]; !bad && funds > fs.PlatformFeeBasisPoints {
			errs["split"] = tr(q.lang, "propose.fundsOverFee")
		}
		body["field"], body["value"] = field, fs
	case policy.PartFares:
		// The form only when it says so: a rule sent as JSON (or by a page of the app from
		// before the form, which sent no "as") is JSON, never the form's empty amounts.
		if f.Get("as") != "form" {
			form["as"] = "json" // shown again, it is the JSON it was
			v := strings.TrimSpace(f.Get("value"))
			if !json.Valid([]byte(v)) {
				errs["value"] = tr(q.lang, "propose.jsonInvalid")
			}
			body["field"], body["value"] = field, json.RawMessage(v)
			break
		}
		var ok bool
		if fares, ok = a.faresInForce(q); !ok {
			return
		}
		proposed, rows := fareFromForm(q, f, fares, errs, form)
		surgeKeys = rows
		body["field"], body["value"] = field, proposed
	default:
		v := strings.TrimSpace(f.Get("value"))
		if !json.Valid([]byte(v)) {
			errs["value"] = tr(q.lang, "propose.jsonInvalid")
		}
		body["field"], body["value"] = field, json.RawMessage(v)
	}
	if len(errs) == 0 {
		fld, msg, ok := a.create(q, "/v1/proposals", body, "/app/governance?done=proposed")
		if !ok {
			return
		}
		errs[proposeField(field, fld, pol, surgeKeys)] = msg
	}
	a.showPropose(q, http.StatusBadRequest, field, errs, form, fares)
}

// proposeField is the form's field the API's refusal of a proposal names; surgeKeys are
// the fare form's rows of the surge windows sent, in their order (nil: JSON was sent).
func proposeField(field, fld string, pol *policy.Policy, surgeKeys []string) string {
	switch {
	case fld == "title" || fld == "body" || fld == "votingPeriodHours":
		return fld
	case field == policy.PartFares && surgeKeys != nil && strings.HasPrefix(fld, "value.surge["):
		if i, _, ok := fieldIndex(fld, "value.surge", len(surgeKeys)); ok {
			return surgeKeys[i]
		}
		return "surge"
	case field == policy.PartFares && surgeKeys != nil && slices.ContainsFunc(fareAmounts, func(am fareAmount) bool { return fld == "value."+am.name }):
		return "fare." + strings.TrimPrefix(fld, "value.")
	case field == policy.PartFares && surgeKeys != nil:
		return "form"
	case field == "feeSplit" && fld == "value.platformFeeBasisPoints":
		return "platformFee"
	case field == "feeSplit" && fld == "value.surgeToWorkersPercent":
		return "surgeToWorkers"
	case field == "feeSplit" && fld == "value.funds":
		return "split"
	case field == "feeSplit" && strings.HasPrefix(fld, "value.funds[") && pol != nil:
		if i, _, ok := fieldIndex(fld, "value.funds", len(pol.FeeSplit.Funds)); ok {
			return "fund." + pol.FeeSplit.Funds[i].Name
		}
	case field != "feeSplit" && strings.HasPrefix(fld, "value"):
		return "value"
	}
	return "form"
}

// surgeRowSent says whether a row of the fare form's surge windows holds anything.
func surgeRowSent(form map[string]string, key string) bool {
	if form[key+".from"] != "" || form[key+".to"] != "" || form[key+".percent"] != "" {
		return true
	}
	return slices.ContainsFunc(policy.Weekdays, func(d string) bool { return form[key+"."+d] != "" })
}

// fareFromForm reads the fare form: its amounts (empty: none), its surge windows (a row
// left empty is no window), and the zones and time rates of the rule in force (inForce,
// nil when there is none), which it keeps as they are. A field the form itself refuses
// is in errs; form is what the page shows again. It returns the rule and the form's row
// of each surge window in it.
func fareFromForm(q *req, f url.Values, inForce *policy.Fares, errs, form map[string]string) (policy.Fares, []string) {
	var out policy.Fares
	for _, am := range fareAmounts {
		key := "fare." + am.name
		v := strings.TrimSpace(f.Get(key))
		form[key] = v
		if v == "" {
			continue
		}
		cents, ok := hundredths(v, policy.MaxFareCents)
		if !ok {
			errs[key] = tr(q.lang, "propose.amountInvalid")
		}
		*am.of(&out) = cents
	}
	rows := []string{}
	for i := 0; i < maxSurgeRows; i++ {
		key := fmt.Sprintf("surge.%d", i)
		from, to, pct := clock(f.Get(key+".from")), clock(f.Get(key+".to")), strings.TrimSpace(f.Get(key+".percent"))
		form[key+".from"], form[key+".to"], form[key+".percent"] = from, to, pct
		var days []string
		for _, d := range policy.Weekdays {
			if f.Get(key+"."+d) != "" {
				days = append(days, d)
				form[key+"."+d] = "on"
			}
		}
		if !surgeRowSent(form, key) {
			continue
		}
		n, err := strconv.ParseInt(pct, 10, 64)
		switch {
		case from == "" || to == "" || pct == "":
			errs[key] = tr(q.lang, "propose.surgeIncomplete")
		case !surgeTime.MatchString(from) || (to != policy.EndOfDay && !surgeTime.MatchString(to)):
			errs[key] = tr(q.lang, "propose.surgeTimeInvalid")
		case err != nil || n < 1 || n > policy.MaxSurgePercent:
			errs[key] = tr(q.lang, "propose.surgePercentInvalid")
		}
		out.Surge = append(out.Surge, policy.SurgeWindow{Days: days, From: from, To: to, Percent: n})
		rows = append(rows, key)
	}
	if inForce != nil {
		out.Zones, out.TimeRates = inForce.Zones, inForce.TimeRates
	}
	return out, rows
}
