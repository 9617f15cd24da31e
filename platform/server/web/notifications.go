package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/cooperator-dev/cooperator/platform/server/store/notifications"
)

// notificationView is one notification as the page shows it: its sentence's message key
// and where it leads.
type notificationView struct {
	notifications.Notification
	Key  string
	Link string
}

type notificationsData struct {
	Items []notificationView
	// Newest is the id of the newest notification shown on the first page, which "mark
	// read" marks up to (a notification that came since stays unread).
	Newest int64
	Next   string
}

// viewOf is the sentence and the link of a notification.
func viewOf(n notifications.Notification) notificationView {
	v := notificationView{Notification: n, Key: "notify." + n.Event}
	if n.Outcome != "" {
		v.Key += "." + n.Outcome
	}
	var id int64
	if n.SubjectID != nil {
		id = *n.SubjectID
	}
	switch n.Event {
	case notifications.WorkAccepted, notifications.WorkCompleted, notifications.WorkCancelled:
		v.Link = fmt.Sprintf("/app/work/%d", id)
	case notifications.RefundDecided, notifications.PaymentReceived, notifications.PaymentRefunded:
		v.Link = fmt.Sprintf("/app/payments/%d", id)
	case notifications.DisbursementDecided:
		v.Link = fmt.Sprintf("/app/disbursements/%d", id)
	case notifications.ProposalClosed, notifications.ProposalApplied:
		v.Link = fmt.Sprintf("/app/proposals/%d", id)
	case notifications.DelegationEnded:
		v.Link = "/app/governance#del-h"
	}
	return v
}

// notificationsPage lists the member's notifications, newest first, a page at a time.
func (a *App) notificationsPage(q *req) {
	path := fmt.Sprintf("/v1/members/%d/notifications", q.member.ID)
	if c := q.r.URL.Query().Get("cursor"); c != "" {
		path += "?cursor=" + url.QueryEscape(c)
	}
	var feed struct {
		Notifications []notifications.Notification `json:"notifications"`
		NextCursor    string                       `json:"nextCursor"`
	}
	if !a.get(q, path, &feed) {
		return
	}
	d := notificationsData{Next: feed.NextCursor}
	for _, n := range feed.Notifications {
		d.Items = append(d.Items, viewOf(n))
	}
	if len(feed.Notifications) > 0 && q.r.URL.Query().Get("cursor") == "" {
		d.Newest = feed.Notifications[0].ID
	}
	a.render(q, http.StatusOK, "notifications", "notify.title", page{Data: d, Nav: "notifications", Flash: flashFrom(q)})
}

// markNotificationsRead marks all the member's notifications read up to the newest the
// page showed (upTo): one that came after the page was shown stays new.
func (a *App) markNotificationsRead(q *req) {
	upTo, err := strconv.ParseInt(q.r.PostForm.Get("upTo"), 10, 64)
	if err != nil || upTo < 1 {
		a.fail(q, http.StatusBadRequest, "error.generic")
		return
	}
	st, body := a.call(q, http.MethodPost, fmt.Sprintf("/v1/members/%d/notifications/read", q.member.ID), map[string]int64{"upTo": upTo}, nil)
	if st != http.StatusOK {
		a.failAPI(q, st, body)
		return
	}
	a.redirect(q, "/app/notifications?done=read")
}
