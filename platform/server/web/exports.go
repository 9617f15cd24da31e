package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// exportReports are the treasurer's CSV exports the API offers (GET /v1/exports/{report}).
var exportReports = []string{"ledger", "payments", "disbursements"}

type exportsData struct {
	Reports []string
}

// exportsPage is the treasurer's: the co-op's ledger, payments or disbursements of a
// period, as CSV, for its accounts. Staff only, as the API says.
func (a *App) exportsPage(q *req) {
	if !q.member.Has("staff") {
		a.fail(q, http.StatusForbidden, "error.forbidden")
		return
	}
	// The last month on the co-op's calendar, by default.
	now := a.cfg.Now().In(q.zone)
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	form := map[string]string{"report": "ledger", "from": first.AddDate(0, -1, 0).Format(time.DateOnly), "to": first.AddDate(0, 0, -1).Format(time.DateOnly)}
	a.render(q, http.StatusOK, "exports", "exports.title", page{Data: exportsData{Reports: exportReports}, Form: form, Nav: "money"})
}

// exportDownload sends the export the form asks for as a CSV file; a period the API
// refuses is said beside its field.
func (a *App) exportDownload(q *req) {
	if !q.member.Has("staff") {
		a.fail(q, http.StatusForbidden, "error.forbidden")
		return
	}
	v := q.r.URL.Query()
	form := map[string]string{"report": v.Get("report"), "from": v.Get("from"), "to": v.Get("to")}
	if !slices.Contains(exportReports, form["report"]) {
		a.render(q, http.StatusBadRequest, "exports", "exports.title", page{Data: exportsData{Reports: exportReports}, Form: form,
			Errors: map[string]string{"report": tr(q.lang, "exports.reportRequired")}, Nav: "money"})
		return
	}
	st, body := a.call(q, http.MethodGet, fmt.Sprintf("/v1/exports/%s?from=%s&to=%s", form["report"], url.QueryEscape(form["from"]), url.QueryEscape(form["to"])), nil, nil)
	switch st {
	case http.StatusOK:
		// The dates passed the API's check: the file is named as the API names it.
		q.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		q.w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s-%s.csv"`, form["report"], form["from"], form["to"]))
		_, _ = q.w.Write(body)
	case http.StatusBadRequest:
		fld, _ := parseAPIErr(body)
		key := "form"
		if fld == "from" || fld == "to" {
			key = fld
		}
		a.render(q, st, "exports", "exports.title", page{Data: exportsData{Reports: exportReports}, Form: form,
			Errors: map[string]string{key: apiMessage(q.lang, q.zone, body)}, Nav: "money"})
	default:
		a.failAPI(q, st, body)
	}
}
