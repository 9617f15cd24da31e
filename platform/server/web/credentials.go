package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cooperator-dev/cooperator/platform/server/store/credentials"
)

// credentialsData is the staff's page of the workers' credentials: each active worker
// with what staff verified (as GET /v1/credentials lists them: the background checks
// that expire first first), and the form that records it anew.
type credentialsData struct {
	Workers []credentialsWorker
	// Cursor is the page's cursor in the API's list ("": its first page), which its forms
	// send back so the page they answer on is theirs; Next is the next page's ("": none).
	Cursor, Next string
}

type credentialsWorker struct {
	credentials.Worker
	// Form is the worker's form: as recorded, or as staff sent it when it was refused.
	Form map[string]string
	// Errors is the API's refusal of the form, by the form's field ("form": the whole).
	Errors map[string]string
	// Expired: the background check's expiry has passed; Soon: it passes within
	// credentialsSoon.
	Expired, Soon bool
	// Self: the signed-in member of staff (the API refuses their own).
	Self bool
}

// credentialsSoon is how far ahead the page marks a background check as expiring soon.
const credentialsSoon = 30 * 24 * time.Hour

// credentialStatuses are the form's choices of a background check ("": none recorded).
var credentialStatuses = []string{"", "clear", "pending", "failed"}

// Statuses are the form's choices of a background check.
func (credentialsData) Statuses() []string { return credentialStatuses }

// credentialsPage lists the workers with their credentials, for staff to record them.
func (a *App) credentialsPage(q *req) {
	if !q.member.Has("staff") {
		a.fail(q, http.StatusForbidden, "error.forbidden")
		return
	}
	d, ok := a.credentialsData(q, q.r.URL.Query().Get("cursor"), 0, nil, nil)
	if !ok {
		return
	}
	a.render(q, http.StatusOK, "credentials", "staffCredentials.title", page{Data: d, Flash: flashFrom(q), Nav: "home"})
}

// credentialsData reads a page of the workers' credentials, the one at cursor ("": the
// first), as the API pages them; the worker refused (when not 0) keeps the form as it was
// sent, with the refusal.
func (a *App) credentialsData(q *req, cursor string, refused int64, form, errs map[string]string) (credentialsData, bool) {
	var list struct {
		Workers    []credentials.Worker `json:"workers"`
		NextCursor string               `json:"nextCursor"`
	}
	path := "/v1/credentials"
	if cursor != "" {
		path += "?cursor=" + url.QueryEscape(cursor)
	}
	if !a.get(q, path, &list) {
		return credentialsData{}, false
	}
	now := a.cfg.Now()
	d := credentialsData{Cursor: cursor, Next: list.NextCursor}
	for _, w := range list.Workers {
		cw := credentialsWorker{Worker: w, Form: credentialsForm(w.Credentials, q.zone), Self: w.MemberID == q.member.ID}
		if b := w.BackgroundCheck; b != nil {
			cw.Expired = !b.ExpiresAt.After(now)
			cw.Soon = !cw.Expired && b.ExpiresAt.Before(now.Add(credentialsSoon))
		}
		if w.MemberID == refused {
			cw.Form, cw.Errors = form, errs
		}
		d.Workers = append(d.Workers, cw)
	}
	return d, true
}

// credentialsForm is the form of what was recorded: one skill (or language) a line, the
// check's expiry as the date of the co-op's calendar it falls on.
func credentialsForm(c credentials.Credentials, zone *time.Location) map[string]string {
	f := map[string]string{"skills": strings.Join(c.Skills, "\n"), "languages": strings.Join(c.Languages, "\n")}
	if b := c.BackgroundCheck; b != nil {
		f["status"], f["checkedOn"], f["expiresOn"] = b.Status, b.CheckedOn, b.ExpiresAt.In(zone).Format(time.DateOnly)
	}
	return f
}

// lines are a text area's lines, blank ones left out.
func lines(s string) []string {
	out := []string{}
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// saveCredentials records what staff verified about a worker through the API, which
// checks it (and refuses a member of staff their own); a refusal is said beside the
// worker's form.
func (a *App) saveCredentials(q *req) {
	if !q.member.Has("staff") {
		a.fail(q, http.StatusForbidden, "error.forbidden")
		return
	}
	id, ok := a.pathIDOr404(q)
	if !ok {
		return
	}
	f := q.r.PostForm
	cursor := f.Get("cursor") // the page the form was on
	form := map[string]string{"skills": f.Get("skills"), "languages": f.Get("languages"), "status": f.Get("status"),
		"checkedOn": strings.TrimSpace(f.Get("checkedOn")), "expiresOn": strings.TrimSpace(f.Get("expiresOn"))}
	in := credentials.Input{Skills: lines(form["skills"]), Languages: lines(form["languages"])}
	if form["status"] != "" {
		// The check no longer holds from the start of the day it expires on, on the co-op's
		// calendar; a date that is none is sent as no time, which the API refuses.
		var expires time.Time
		if day, err := time.ParseInLocation(time.DateOnly, form["expiresOn"], q.zone); err == nil {
			expires = day
		}
		in.BackgroundCheck = &credentials.CheckInput{Status: form["status"], CheckedOn: form["checkedOn"], ExpiresAt: expires}
	}
	st, rb := a.call(q, http.MethodPut, fmt.Sprintf("/v1/members/%d/credentials", id), in, nil)
	switch st {
	case http.StatusOK:
		back := "/app/credentials?"
		if cursor != "" {
			back += "cursor=" + url.QueryEscape(cursor) + "&"
		}
		a.redirect(q, fmt.Sprintf("%sdone=credentials#worker-%d", back, id))
		return
	case http.StatusBadRequest, http.StatusConflict, http.StatusForbidden:
		// Forbidden: a member of staff's own credentials (the page lets staff only this far).
	default:
		a.failAPI(q, st, rb)
		return
	}
	fld, _ := parseAPIErr(rb)
	key := "form"
	switch {
	case strings.HasPrefix(fld, "skills"):
		key = "skills"
	case strings.HasPrefix(fld, "languages"):
		key = "languages"
	case fld == "backgroundCheck.status", fld == "backgroundCheck.checkedOn":
		key = strings.TrimPrefix(fld, "backgroundCheck.")
	case fld == "backgroundCheck.expiresAt":
		key = "expiresOn"
	}
	msg := apiMessage(q.lang, q.zone, rb)
	d, ok := a.credentialsData(q, cursor, id, form, map[string]string{key: msg})
	if !ok {
		return
	}
	var errs map[string]string
	if !slices.ContainsFunc(d.Workers, func(w credentialsWorker) bool { return w.MemberID == id }) {
		// Not a worker listed (no longer one, or never): the refusal is the page's.
		errs = map[string]string{"form": msg}
	}
	a.render(q, st, "credentials", "staffCredentials.title", page{Data: d, Errors: errs, Nav: "home"})
}
