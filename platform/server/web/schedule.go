package web

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cooperator-dev/cooperator/api/policy"
)

// scheduleView is a worker's schedule as the API shows it: weekly windows (on the co-op's
// clock) and dated exceptions.
type scheduleView struct {
	Weekly     []weeklyWindow  `json:"weekly"`
	Exceptions []exceptionView `json:"exceptions"`
	TimeZone   string          `json:"timeZone"`
}

// exceptionView is a dated exception of a schedule: time off, or an extra shift
// (Available).
type exceptionView struct {
	ID        int64     `json:"id"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Available bool      `json:"available"`
}

type weeklyWindow struct {
	Day  string `json:"day"`
	From string `json:"from"`
	To   string `json:"to"`
}

// scheduleDay is one day of the schedule's form: its windows, and one empty row more.
type scheduleDay struct {
	Day  string
	Rows []weeklyWindow
}

type scheduleData struct {
	Days []scheduleDay
	// Exceptions are the worker's dated exceptions not yet over, the soonest first; Past
	// is how many are over (the API keeps them, the page does not list them).
	Exceptions []exceptionView
	Past       int
}

// scheduleRows is how many rows a day of the form may have (the API holds at most 70
// windows a week): the page shows a day's windows and one empty row more.
const scheduleRows = 70

// clockPattern is a time of day as a member may type it: 9:00, 09:00, 24:00, with seconds
// as some browsers send them (09:00:00), or in digits alone, as a phone's number pad types
// it (0930, 930, or 9 for 09:00); a dot or an h for the colon (9.30, 9h30, 17h).
var clockPattern = regexp.MustCompile(`^([0-9]{1,2})(?:[:.h]([0-9]{2})(?::00)?|([0-9]{2})|h)?$`)

// clock writes a typed time of day as the API takes it (HH:MM), or leaves it as it is for
// the API (or the form) to refuse.
func clock(s string) string {
	s = strings.TrimSpace(s)
	m := clockPattern.FindStringSubmatch(s)
	if m == nil {
		return s
	}
	h, mm := m[1], m[2]+m[3]
	if len(h) == 1 {
		h = "0" + h
	}
	if mm == "" {
		mm = "00"
	}
	return h + ":" + mm
}

// schedule shows a worker's weekly hours, to change them.
func (a *App) schedule(q *req) {
	if !q.member.Has("worker") {
		a.fail(q, http.StatusForbidden, "error.forbidden")
		return
	}
	var sc scheduleView
	if !a.get(q, fmt.Sprintf("/v1/members/%d/schedule", q.member.ID), &sc) {
		return
	}
	// The zone the hours were read in goes back with them: a change of the co-op's zone
	// meanwhile refuses the save, rather than reading them in another zone.
	a.showSchedule(q, http.StatusOK, sc.Exceptions, nil, weekForm(sc, map[string]string{}))
}

// weekForm puts the week of sc into form, as the schedule's form names its fields, with
// the zone it was read in.
func weekForm(sc scheduleView, form map[string]string) map[string]string {
	form["timeZone"] = sc.TimeZone
	rows := map[string]int{}
	for _, w := range sc.Weekly {
		i := rows[w.Day]
		rows[w.Day]++
		form[fmt.Sprintf("%s.%d.from", w.Day, i)], form[fmt.Sprintf("%s.%d.to", w.Day, i)] = w.From, w.To
	}
	return form
}

func (a *App) showSchedule(q *req, status int, exceptions []exceptionView, errs, form map[string]string) {
	var d scheduleData
	now := a.cfg.Now()
	for _, x := range exceptions {
		if x.To.After(now) {
			d.Exceptions = append(d.Exceptions, x)
		} else {
			d.Past++
		}
	}
	for _, day := range policy.Weekdays {
		sd := scheduleDay{Day: day}
		n := 0
		for i := 0; i < scheduleRows; i++ {
			if form[fmt.Sprintf("%s.%d.from", day, i)] != "" || form[fmt.Sprintf("%s.%d.to", day, i)] != "" {
				n = i + 1
			}
		}
		for i := 0; i < min(n+1, scheduleRows); i++ {
			sd.Rows = append(sd.Rows, weeklyWindow{Day: day, From: form[fmt.Sprintf("%s.%d.from", day, i)], To: form[fmt.Sprintf("%s.%d.to", day, i)]})
		}
		d.Days = append(d.Days, sd)
	}
	a.render(q, status, "schedule", "schedule.title", page{Data: d, Errors: errs, Form: form, Flash: flashFrom(q), Nav: "home"})
}

// saveSchedule replaces the worker's weekly hours with the form's; their dated exceptions
// stay as they are (the API keeps them when the request leaves them out).
func (a *App) saveSchedule(q *req) {
	if !q.member.Has("worker") {
		a.fail(q, http.StatusForbidden, "error.forbidden")
		return
	}
	path := fmt.Sprintf("/v1/members/%d/schedule", q.member.ID)
	f := q.r.PostForm
	form := map[string]string{"timeZone": f.Get("timeZone")}
	errs := map[string]string{}
	var weekly []weeklyWindow
	var keys []string // the form's row of each window sent, to place the API's refusal
	for _, day := range policy.Weekdays {
		for i := 0; i < scheduleRows; i++ {
			key := fmt.Sprintf("%s.%d", day, i)
			from, to := clock(f.Get(key+".from")), clock(f.Get(key+".to"))
			form[key+".from"], form[key+".to"] = from, to
			switch {
			case from == "" && to == "":
				continue
			case from == "" || to == "":
				errs[key] = tr(q.lang, "schedule.bothTimes")
				continue
			}
			weekly = append(weekly, weeklyWindow{Day: day, From: from, To: to})
			keys = append(keys, key)
		}
	}
	if len(errs) == 0 {
		if weekly == nil {
			weekly = []weeklyWindow{}
		}
		// The exceptions left out stay as they are, whatever was written since the page
		// was read.
		put := map[string]any{"weekly": weekly}
		if tz := form["timeZone"]; tz != "" {
			put["timeZone"] = tz
		}
		st, rb := a.call(q, http.MethodPut, path, put, nil)
		switch st {
		case http.StatusOK:
			a.redirect(q, "/app/schedule?done=schedule")
			return
		case http.StatusBadRequest, http.StatusConflict:
			fld, _ := parseAPIErr(rb)
			key := "form"
			if i, _, ok := fieldIndex(fld, "weekly", len(keys)); ok {
				key = keys[i]
			}
			errs[key] = apiMessage(q.lang, q.zone, rb)
		default:
			a.failAPI(q, st, rb)
			return
		}
	}
	// Refused: the page again, with the count of the exceptions kept and the co-op's zone
	// (read only now: a save refused for a changed zone goes through the next time).
	var cur scheduleView
	if !a.get(q, path, &cur) {
		return
	}
	form["timeZone"] = cur.TimeZone
	a.showSchedule(q, http.StatusBadRequest, cur.Exceptions, errs, form)
}

// addException adds time off, or an extra shift, to the worker's schedule: from and to
// typed on the co-op's clock. The week and the other exceptions stay as they are.
func (a *App) addException(q *req) {
	if !q.member.Has("worker") {
		a.fail(q, http.StatusForbidden, "error.forbidden")
		return
	}
	f := q.r.PostForm
	form := map[string]string{"x.kind": f.Get("x.kind"), "x.from": strings.TrimSpace(f.Get("x.from")), "x.to": strings.TrimSpace(f.Get("x.to"))}
	errs := map[string]string{}
	if form["x.kind"] != "off" && form["x.kind"] != "extra" {
		errs["x.kind"] = tr(q.lang, "timeOff.kindRequired")
	}
	at := map[string]time.Time{}
	for _, k := range []string{"x.from", "x.to"} {
		t, parsed, skipped := onCoopClock(form[k], q.zone)
		switch {
		case form[k] == "":
			errs[k] = tr(q.lang, "timeOff.required")
		case !parsed:
			errs[k] = tr(q.lang, "timeOff.dateTime")
		case skipped:
			errs[k] = tr(q.lang, "request.timeSkipped")
		}
		at[k] = t
	}
	if len(errs) == 0 {
		body := map[string]any{"from": at["x.from"].UTC().Format(time.RFC3339), "to": at["x.to"].UTC().Format(time.RFC3339), "available": form["x.kind"] == "extra"}
		st, rb := a.call(q, http.MethodPost, fmt.Sprintf("/v1/members/%d/schedule/exceptions", q.member.ID), body, nil)
		switch st {
		case http.StatusCreated:
			a.redirect(q, "/app/schedule?done=timeOff#time-off-h")
			return
		case http.StatusBadRequest, http.StatusConflict:
			fld, _ := parseAPIErr(rb)
			key := "x.form"
			switch fld {
			case "from", "to":
				key = "x." + fld
			case "available":
				key = "x.kind"
			}
			errs[key] = apiMessage(q.lang, q.zone, rb)
		default:
			a.failAPI(q, st, rb)
			return
		}
	}
	a.scheduleAgain(q, errs, form)
}

// removeException removes one of the worker's dated exceptions.
func (a *App) removeException(q *req) {
	if !q.member.Has("worker") {
		a.fail(q, http.StatusForbidden, "error.forbidden")
		return
	}
	id, err := strconv.ParseInt(q.r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		a.fail(q, http.StatusNotFound, "error.notFound")
		return
	}
	st, rb := a.call(q, http.MethodDelete, fmt.Sprintf("/v1/members/%d/schedule/exceptions/%d", q.member.ID, id), nil, nil)
	if st != http.StatusOK {
		a.failAPI(q, st, rb)
		return
	}
	a.redirect(q, "/app/schedule?done=timeOffRemoved#time-off-h")
}

// scheduleAgain shows the schedule's page again after a refusal of its time-off form: the
// week as stored, the form as the member typed it, and why.
func (a *App) scheduleAgain(q *req, errs, form map[string]string) {
	var cur scheduleView
	if !a.get(q, fmt.Sprintf("/v1/members/%d/schedule", q.member.ID), &cur) {
		return
	}
	a.showSchedule(q, http.StatusBadRequest, cur.Exceptions, errs, weekForm(cur, form))
}
