package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
)

// teamData is a care client's team of regular carers: the carers who worked for them,
// and those on the team now, each with how many of the client's bookings they did.
type teamData struct {
	Carers []teamCarer
}

type teamCarer struct {
	ID     int64
	Done   int
	InTeam bool
}

// ErrorKey is the key of the page's refusal of this carer.
func (c teamCarer) ErrorKey() string { return fmt.Sprintf("carer-%d", c.ID) }

// teamCarers is how many of the carers who did the client's bookings the page shows (the
// most recent first).
const teamCarers = 200

// careTeam shows a care client's team: offered the client's bookings first.
func (a *App) careTeam(q *req) {
	if !a.careClient(q) {
		return
	}
	d, ok := a.teamData(q, nil)
	if !ok {
		return
	}
	a.render(q, http.StatusOK, "team", "team.title", page{Data: d, Flash: flashFrom(q), Nav: "home"})
}

// careClient says whether the member has a care team (a customer of a care co-op), and
// answers 403 otherwise.
func (a *App) careClient(q *req) bool {
	if pol := a.cfg.Backend.Policy(); pol == nil || pol.Vertical != "care" || !q.member.Has("customer") {
		a.fail(q, http.StatusForbidden, "error.forbidden")
		return false
	}
	return true
}

// teamData reads the team and the carers of the client's work (all of it); chosen, when not nil,
// marks the team as the form chose it.
func (a *App) teamData(q *req, chosen []int64) (teamData, bool) {
	var team struct {
		WorkerIDs []int64 `json:"workerIds"`
	}
	if !a.get(q, fmt.Sprintf("/v1/members/%d/team", q.member.ID), &team) {
		return teamData{}, false
	}
	carers, err := a.cfg.Backend.CompletedFor(q.r.Context(), q.member.ID, teamCarers)
	if err != nil {
		a.unavailable(q, "reading the member's carers failed", err)
		return teamData{}, false
	}
	done := map[int64]int{}
	var ids []int64
	for _, w := range carers {
		ids = append(ids, w.WorkerID)
		done[w.WorkerID] = w.Done
	}
	for _, id := range team.WorkerIDs {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	in := team.WorkerIDs
	if chosen != nil {
		in = chosen
	}
	var d teamData
	for _, id := range ids {
		d.Carers = append(d.Carers, teamCarer{ID: id, Done: done[id], InTeam: slices.Contains(in, id)})
	}
	return d, true
}

// saveTeam sets the client's team to the carers the form ticked.
func (a *App) saveTeam(q *req) {
	if !a.careClient(q) {
		return
	}
	ids := []int64{}
	for _, v := range q.r.PostForm["carer"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			a.fail(q, http.StatusBadRequest, "error.generic")
			return
		}
		ids = append(ids, id)
	}
	st, rb := a.call(q, http.MethodPut, fmt.Sprintf("/v1/members/%d/team", q.member.ID), map[string][]int64{"workerIds": ids}, nil)
	switch st {
	case http.StatusOK:
		a.redirect(q, "/app/team?done=team")
	case http.StatusBadRequest:
		d, ok := a.teamData(q, ids)
		if !ok {
			return
		}
		// A carer the API refuses (no longer a worker) is named beside their box.
		key := "form"
		fld, _ := parseAPIErr(rb)
		if i, _, ok := fieldIndex(fld, "workerIds", len(ids)); ok && slices.ContainsFunc(d.Carers, func(c teamCarer) bool { return c.ID == ids[i] }) {
			key = fmt.Sprintf("carer-%d", ids[i])
		}
		a.render(q, st, "team", "team.title", page{Data: d, Errors: map[string]string{key: apiMessage(q.lang, q.zone, rb)}, Nav: "home"})
	default:
		a.failAPI(q, st, rb)
	}
}
