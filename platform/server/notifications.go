package server

import (
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/platform/server/store/notifications"
	"github.com/cooperator-dev/cooperator/platform/server/store/work"
)

// Notification is one of a member's notifications as the API shows it.
type Notification = notifications.Notification

// NotificationFeed is a page of a member's notifications, newest first, with how many of
// all theirs are unread.
type NotificationFeed struct {
	MemberID      int64          `json:"memberId"`
	Unread        int            `json:"unread"`
	Notifications []Notification `json:"notifications"`
	// NextCursor is the cursor of the next (older) page; empty on the last.
	NextCursor string `json:"nextCursor,omitempty"`
}

// listNotifications shows a member their notifications (and staff, who read the member's
// other records too).
func (s *Server) listNotifications(r *http.Request, p principal) (int, any, error) {
	id, err := selfOrAdminPath(r, p)
	if err != nil {
		return 0, nil, err
	}
	pg, err := pageOf(r)
	if err != nil {
		return 0, nil, err
	}
	c, err := decodeCursor(pg.Cursor)
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.loadMember(r.Context(), id); err != nil {
		return 0, nil, err
	}
	q := notifications.On(s.pool)
	ns, err := q.List(r.Context(), id, c.ID, pg.Limit+1)
	if err != nil {
		return 0, nil, err
	}
	unread, err := q.Unread(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	page, next := trimPage(ns, pg, func(n Notification) work.Cursor { return work.Cursor{At: n.At, ID: n.ID} })
	return http.StatusOK, NotificationFeed{MemberID: id, Unread: unread, Notifications: page, NextCursor: next}, nil
}

// markNotificationsRead marks the member's notifications up to upTo read. Only the member
// does: staff reading them does not read them for the member. It holds the member's row
// (memberTx), as every write of a member does: one sent during their erasure waits for it
// and is refused.
func (s *Server) markNotificationsRead(r *http.Request, p principal) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	if p.admin || p.memberID != id {
		return 0, nil, forbidden("only the member marks their notifications read")
	}
	var in struct {
		UpTo *int64 `json:"upTo"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.UpTo == nil || *in.UpTo < 1 {
		return 0, nil, badField("upTo", "must be the id of a notification (a positive integer)")
	}
	var unread int
	err = s.memberTx(r.Context(), p, func(tx pgx.Tx) error {
		unread, err = notifications.On(tx).MarkRead(r.Context(), id, *in.UpTo, s.now())
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"memberId": id, "unread": unread}, nil
}
