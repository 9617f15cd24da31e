package web

import (
	"encoding/json"
	"fmt"
	"net/http"
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
}

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
	form, ok := a.proposeDefaults(q, q.r.URL.Query().Get("field"))
	if !ok {
		return
	}
	a.showPropose(q, http.StatusOK, q.r.URL.Query().Get("field"), nil, form)
}

// proposeDefaults prefills the form with the value in force: the fee split in percent,
// the fare rule in force (the members may have voted one since the policy's), another
// part as the JSON the policy holds. false when the page could not be made (and the
// answer is written).
func (a *App) proposeDefaults(q *req, field string) (map[string]string, bool) {
	form := map[string]string{}
	pol := a.cfg.Backend.Policy()
	if pol == nil || field == "" {
		return form, true
	}
	if field == policy.PartFares {
		pricing, err := a.cfg.Backend.Pricing(q.r.Context())
		if err != nil {
			a.unavailable(q, "reading the fare rule in force failed", err)
			return nil, false
		}
		if pricing.Fares != nil {
			if b, err := json.Marshal(pricing.Fares); err == nil {
				form["value"] = string(b)
			}
		}
		return form, true
	}
	if field != "feeSplit" {
		if b, err := json.Marshal(pol); err == nil {
			var parts map[string]json.RawMessage
			if json.Unmarshal(b, &parts) == nil && parts[field] != nil {
				form["value"] = string(parts[field])
			}
		}
		return form, true
	}
	form["platformFee"] = percentOf(pol.FeeSplit.PlatformFeeBasisPoints)
	for _, f := range pol.FeeSplit.Funds {
		form["fund."+f.Name] = percentOf(f.BasisPoints)
	}
	form["surgeToWorkers"] = strconv.FormatInt(pol.FeeSplit.SurgeToWorkersPercent, 10)
	return form, true
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

func (a *App) showPropose(q *req, status int, field string, errs, form map[string]string) {
	pol := a.cfg.Backend.Policy()
	d := proposeData{Fields: proposeFields(pol)}
	if slices.Contains(d.Fields, field) {
		d.Field = field
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
	default:
		v := strings.TrimSpace(f.Get("value"))
		if !json.Valid([]byte(v)) {
			errs["value"] = tr(q.lang, "propose.jsonInvalid")
		}
		body["field"], body["value"] = field, json.RawMessage(v)
	}
	if len(errs) == 0 {
		st, rb := a.call(q, http.MethodPost, "/v1/proposals", body, nil)
		if st == http.StatusCreated {
			a.redirect(q, "/app/governance?done=proposed")
			return
		}
		if st != http.StatusBadRequest {
			a.failAPI(q, st, rb)
			return
		}
		fld, _ := parseAPIErr(rb)
		errs[proposeField(field, fld, pol)] = apiMessage(q.lang, q.zone, rb)
	}
	a.showPropose(q, http.StatusBadRequest, field, errs, form)
}

// proposeField is the form's field the API's refusal of a proposal names.
func proposeField(field, fld string, pol *policy.Policy) string {
	switch {
	case fld == "title" || fld == "body" || fld == "votingPeriodHours":
		return fld
	case field == "feeSplit" && fld == "value.platformFeeBasisPoints":
		return "platformFee"
	case field == "feeSplit" && fld == "value.surgeToWorkersPercent":
		return "surgeToWorkers"
	case field == "feeSplit" && fld == "value.funds":
		return "split"
	case field == "feeSplit" && strings.HasPrefix(fld, "value.funds[") && pol != nil:
		i, err := strconv.Atoi(strings.Split(strings.TrimPrefix(fld, "value.funds["), "]")[0])
		if err == nil && i >= 0 && i < len(pol.FeeSplit.Funds) {
			return "fund." + pol.FeeSplit.Funds[i].Name
		}
	case field != "feeSplit" && strings.HasPrefix(fld, "value"):
		return "value"
	}
	return "form"
}
