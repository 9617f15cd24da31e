package web

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/dayclock"
	"github.com/cooperator-dev/cooperator/platform/server/store/credentials"
	"github.com/cooperator-dev/cooperator/platform/server/store/members"
	"github.com/cooperator-dev/cooperator/platform/server/store/work"
)

// Views of the API's answers: only the fields the pages show.

type memberView struct {
	ID        int64      `json:"id"`
	Name      *string    `json:"name"`
	Roles     []string   `json:"roles"`
	Available bool       `json:"available"`
	Rating    string     `json:"rating"`
	ClaimedAt *time.Time `json:"claimedAt"`
}

// workView is the API's work item (one definition of its shape) with what the pages add.
type workView struct {
	work.Work
	PaymentID *int64 `json:"paymentId"`
	// Set by the page: the member's part in it and the next step; for an offer to the
	// member, when it expires.
	Mine         bool       `json:"-"`
	Next         string     `json:"-"`
	OfferExpires *time.Time `json:"-"`
}

func (w workView) DetailKeys() []string {
	var ks []string
	for k := range w.Details {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// nextStep is the worker's next step of work in state: none for a project paid by
// milestones under way, which completes when its client accepts the last one.
func nextStep(state string, milestones bool) string {
	switch state {
	case "offered":
		return "accept"
	case "accepted":
		return "start"
	case "in_progress":
		if milestones {
			return ""
		}
		return "complete"
	}
	return ""
}

func (a *App) root(q *req) {
	if q.member != nil {
		a.redirect(q, "/app/home")
		return
	}
	a.redirect(q, "/app/sign-in")
}

func (a *App) signInForm(q *req) {
	if q.member != nil {
		a.redirect(q, "/app/home")
		return
	}
	a.showSignIn(q, http.StatusOK, nil)
}

func (a *App) showSignIn(q *req, status int, errs map[string]string) {
	tok := signInCSRF(q.r)
	setCookie(q.w, preCSRFCookie, tok, 3600, true)
	flash := ""
	if q.r.URL.Query().Get("expired") != "" {
		flash = tr(q.lang, "signin.expired")
	}
	a.render(q, status, "signin", "signin.title", page{CSRF: tok, Errors: errs, Flash: flash})
}

// signInCSRF is the sign-in form's CSRF token: the one the request's cookie already
// carries when it is one the app could have made, so that a form shown earlier (in
// another tab) stays good; else a new one.
func signInCSRF(r *http.Request) string {
	if c, err := r.Cookie(preCSRFCookie); err == nil {
		if b, err := base64.RawURLEncoding.DecodeString(c.Value); err == nil && len(b) == 32 {
			return c.Value
		}
	}
	return randomToken()
}

// signIn exchanges a one-time code, or a member's token, for a session. The form carries the CSRF token of its
// cookie (double submit): a page elsewhere cannot sign someone in with its own code.
func (a *App) signIn(q *req) {
	if !a.readForm(q) {
		return
	}
	if c, err := q.r.Cookie(preCSRFCookie); err != nil || !sameToken(q.r.PostForm.Get("csrf"), c.Value) {
		a.fail(q, http.StatusForbidden, "error.csrf")
		return
	}
	code := strings.TrimSpace(q.r.PostForm.Get("code"))
	if code == "" {
		a.showSignIn(q, http.StatusBadRequest, map[string]string{"code": tr(q.lang, "signin.codeRequired")})
		return
	}
	ctx := q.r.Context()
	now := a.cfg.Now()
	st := sessionsOn(a.cfg.DB)
	secret := randomToken()
	var id int64
	var err error
	if strings.HasPrefix(code, members.TokenPrefix) {
		// A member's token (the key a claim of the account gives), in place of a code.
		sum := members.HashToken(code)
		id, err = st.OpenWithToken(ctx, sum[:], sha256Sum(secret), randomToken(), now, now.Add(a.cfg.SessionTTL))
	} else {
		id, err = st.Open(ctx, HashSignInCode(code), sha256Sum(secret), randomToken(), now, now.Add(a.cfg.SessionTTL))
	}
	if err != nil {
		if !isNotFound(err) {
			a.unavailable(q, "sign-in failed", err)
			return
		}
		a.showSignIn(q, http.StatusUnauthorized, map[string]string{"code": tr(q.lang, "signin.codeInvalid")})
		return
	}
	_ = st.DeleteExpired(ctx, now)
	// The session is valid: its pages are looked up whatever its address's budget of
	// sessions not known to be valid, which made-up ones may keep spent.
	if a.cfg.RememberCredential != nil {
		a.cfg.RememberCredential(sha256.Sum256([]byte(secret)))
	}
	a.log.Info("member signed in to the members' app", "memberId", id)
	setCookie(q.w, sessionCookie, secret, int(a.cfg.SessionTTL.Seconds()), false)
	setCookie(q.w, preCSRFCookie, "", -1, true)
	a.redirect(q, "/app/home")
}

// signOut ends the request's session; the member audit records it (sessionEnded), by the
// member in this session.
func (a *App) signOut(q *req) {
	if c, err := q.r.Cookie(sessionCookie); err == nil {
		err := pgx.BeginFunc(q.r.Context(), a.cfg.DB, func(tx pgx.Tx) error {
			if q.member != nil {
				if err := a.auditAsMember(q, tx); err != nil {
					return err
				}
			}
			return sessionsOn(tx).Delete(q.r.Context(), sha256Sum(c.Value))
		})
		if err != nil {
			a.log.Error("signing out failed", "error", err)
		}
	}
	setCookie(q.w, sessionCookie, "", -1, false)
	q.member, q.csrf = nil, ""
	a.redirect(q, "/app/sign-in")
}

type homeData struct {
	Me     memberView
	Offers []workView
	// MoreOffers is the feed's cursor after Offers when more offers stand than a page
	// shows (offersPage); /app/offers lists them from there.
	MoreOffers string
	Current    []workView
	Requested  []workView
	Past       []workView
	// MoreWork is the id of the oldest of the member's work items the page read, when
	// older ones exist (more than workPage); /app/work lists them from there.
	MoreWork int64
	// Shown is how many of the member's work items the page read (at most workPage).
	Shown int
	// Hours is a worker's schedule as the page shows it.
	Hours hoursView
	// Credentials are what staff verified about the worker (as the API shows them), in a
	// co-op whose work needs them (care, home services: a skill the booking asks for, a
	// background check).
	Credentials *credentials.Credentials
	// StaffCredentials: the member is staff in a co-op whose work needs credentials; the
	// page links to the workers' credentials, which staff record.
	StaffCredentials bool
}

// credentialVerticals are the verticals whose bookings ask for a verified skill (and,
// for care, a clear background check): their workers' home page shows what staff verified.
var credentialVerticals = []string{"care", "home-services"}

// hoursView is what the home page says of a worker's schedule.
type hoursView struct {
	// Own: the worker set hours of their own (a week that is neither empty nor every
	// day, all day) or dated exceptions not yet over. The page's switch would replace
	// them (it sets every day, all day, or clears the schedule): it shows them instead,
	// with a link to the schedule's page.
	Own bool
	// OffUntil is the end of the time off the worker is in now, if any.
	OffUntil *time.Time
}

// hoursOf is what the home page says of sc at now.
func hoursOf(sc scheduleView, now time.Time) hoursView {
	var h hoursView
	allWeek := len(sc.Weekly) == len(policy.Weekdays)
	for i, w := range sc.Weekly {
		allWeek = allWeek && w.Day == policy.Weekdays[i] && w.From == "00:00" && w.To == "24:00"
	}
	h.Own = len(sc.Weekly) > 0 && !allWeek
	for _, x := range sc.Exceptions {
		if !x.To.After(now) {
			continue
		}
		h.Own = true
		if !x.Available && !x.From.After(now) && (h.OffUntil == nil || x.To.After(*h.OffUntil)) {
			h.OffUntil = &x.To
		}
	}
	return h
}

// workPage is how many of the member's work items the home page reads, newest first,
// and each page of /app/work: one query each.
const workPage = 50

// myWork reads a page of the member's own work items, newest first, below the id before
// (0: from the newest); more is the id to continue below when older items exist.
func (a *App) myWork(q *req, before int64) (items []workView, more int64, ok bool) {
	ws, err := a.cfg.Backend.MyWork(q.r.Context(), q.member.ID, before, workPage+1)
	if err != nil {
		a.unavailable(q, "listing work failed", err)
		return nil, 0, false
	}
	if len(ws) > workPage {
		ws = ws[:workPage]
		more = ws[workPage-1].ID
	}
	for _, w := range ws {
		items = append(items, workView{Work: w, Next: nextStep(w.State, w.PaidByMilestones)})
	}
	return items, more, true
}

func (a *App) home(q *req) {
	var d homeData
	if !a.get(q, fmt.Sprintf("/v1/members/%d", q.member.ID), &d.Me) {
		return
	}
	if pol := a.cfg.Backend.Policy(); pol != nil && slices.Contains(credentialVerticals, pol.Vertical) {
		d.StaffCredentials = q.member.Has("staff")
	}
	// The offers that stand for the member, from the API's feed of them: urgent work is
	// offered to several workers at once and names none of them as its worker.
	// The feed is oldest first: the page shows the offers that have waited longest, and
	// says so, with a link to the next ones, when more stand.
	var offers offerFeed
	if q.member.Has("worker") && !a.get(q, fmt.Sprintf("/v1/members/%d/offers?limit=%d", q.member.ID, offersPage), &offers) {
		return
	}
	offered := map[int64]bool{}
	for _, o := range offers.Offers {
		offered[o.Work.ID] = true
		o.Work.OfferExpires = o.ExpiresAt
		d.Offers = append(d.Offers, o.Work) // the feed carries the work as the API reads it
	}
	d.MoreOffers = offers.NextCursor
	if q.member.Has("worker") {
		var sc scheduleView
		if !a.get(q, fmt.Sprintf("/v1/members/%d/schedule", q.member.ID), &sc) {
			return
		}
		d.Hours = hoursOf(sc, a.cfg.Now())
		if pol := a.cfg.Backend.Policy(); pol != nil && slices.Contains(credentialVerticals, pol.Vertical) {
			d.Credentials = &credentials.Credentials{}
			if !a.get(q, fmt.Sprintf("/v1/members/%d/credentials", q.member.ID), d.Credentials) {
				return
			}
		}
	}
	// The member's newest work, in one query (the page shows its state and price; its
	// page reads the rest through the API); when there is older work, the page says so
	// and links to it.
	items, more, ok := a.myWork(q, 0)
	if !ok {
		return
	}
	d.MoreWork, d.Shown = more, len(items)
	for _, w := range items {
		if offered[w.ID] {
			continue
		}
		worker := w.WorkerID != nil && *w.WorkerID == q.member.ID
		switch {
		case worker && w.State == "offered":
			continue // an offer that no longer stands (it expired, and moves on)
		case worker && (w.State == "accepted" || w.State == "in_progress"):
			d.Current = append(d.Current, w)
		case w.CustomerID == q.member.ID && w.State != "completed" && w.State != "cancelled":
			d.Requested = append(d.Requested, w)
		default:
			d.Past = append(d.Past, w)
		}
	}
	a.render(q, http.StatusOK, "home", "home.title", page{Data: d, Nav: "home", Flash: flashFrom(q)})
}

type workListData struct {
	Work     []workView
	MoreWork int64
}

// workList lists the member's own work items older than the id ?before= (the home page's
// last), workPage at a time, with a link to the next page.
func (a *App) workList(q *req) {
	var before int64
	if v := q.r.URL.Query().Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			a.fail(q, http.StatusBadRequest, "error.generic")
			return
		}
		before = n
	}
	items, more, ok := a.myWork(q, before)
	if !ok {
		return
	}
	a.render(q, http.StatusOK, "worklist", "worklist.title", page{Data: workListData{Work: items, MoreWork: more}, Nav: "home"})
}

func flashFrom(q *req) string {
	if k := q.r.URL.Query().Get("done"); k != "" && validFlash[k] {
		return tr(q.lang, "flash."+k)
	}
	return ""
}

var validFlash = map[string]bool{"accept": true, "decline": true, "start": true, "complete": true, "cancel": true,
	"submit-milestone": true, "accept-milestone": true, "listed": true, "stock": true, "proposed": true, "schedule": true, "team": true,
	"match": true, "rate": true, "block": true, "pay": true, "available": true, "unavailable": true, "requested": true,
	"vote": true, "unblock": true, "askedFund": true, "delegate": true, "undelegate": true, "refund": true, "revoke": true, "askRefund": true, "claimStale": true, "signInAgain": true, "read": true, "ownHours": true, "timeOff": true, "timeOffRemoved": true, "credentials": true, "signOutOthers": true}

// availability is the home page's switch: every day, all day, or no hours at all. A
// worker whose schedule holds hours of their own (or dated exceptions not yet over) is
// sent to the schedule's page instead, where they change them: the switch would lose them
// (the page no longer shows it to them; this holds for a page read before they set them).
func (a *App) availability(q *req) {
	on := q.r.PostForm.Get("available") == "true"
	var sc scheduleView
	if !a.get(q, fmt.Sprintf("/v1/members/%d/schedule", q.member.ID), &sc) {
		return
	}
	if hoursOf(sc, a.cfg.Now()).Own {
		a.redirect(q, "/app/schedule?done=ownHours")
		return
	}
	st, body := a.call(q, http.MethodPut, fmt.Sprintf("/v1/members/%d/availability", q.member.ID), map[string]bool{"available": on}, nil)
	if st != http.StatusOK {
		a.failAPI(q, st, body)
		return
	}
	if on {
		a.redirect(q, "/app/home?done=available")
	} else {
		a.redirect(q, "/app/home?done=unavailable")
	}
}

type workData struct {
	W          workView
	IsWorker   bool
	IsCustomer bool
	// Offered: an offer of this work to the member stands (urgent work names no worker
	// until one accepts).
	Offered bool
	// OfferExpired: the member's latest offer of this work is past its time.
	OfferExpired bool
	// Ended: the member's offer of this work expired, and the work is not theirs to read
	// any more (the API answers 404): the page says so and shows nothing of the work.
	Ended  bool
	PayKey string
	// Cancellable: the member may cancel the work (the customer, its worker once taken).
	Cancellable bool
	// Blocked: the member (its customer) blocked its worker.
	Blocked bool
}

// offerFeed is the API's page of a worker's standing offers (GET /v1/members/{id}/offers),
// oldest first; NextCursor is set when more follow.
type offerFeed struct {
	Offers []struct {
		Work      workView   `json:"work"`
		ExpiresAt *time.Time `json:"expiresAt"`
	} `json:"offers"`
	NextCursor string `json:"nextCursor"`
}

// offersPage is how many offers the home page shows, and each page of /app/offers after
// it: one call of the API's feed each.
const offersPage = 50

type offersData struct {
	Offers     []workView
	MoreOffers string
}

// offers lists a page of the member's standing offers after the feed's cursor: those the
// home page had no room for, offersPage at a time, with a link to the next page.
func (a *App) offers(q *req) {
	path := fmt.Sprintf("/v1/members/%d/offers?limit=%d", q.member.ID, offersPage)
	if c := q.r.URL.Query().Get("cursor"); c != "" {
		path += "&cursor=" + url.QueryEscape(c)
	}
	var feed offerFeed
	if !a.get(q, path, &feed) {
		return
	}
	d := offersData{MoreOffers: feed.NextCursor}
	for _, o := range feed.Offers {
		o.Work.OfferExpires = o.ExpiresAt
		d.Offers = append(d.Offers, o.Work)
	}
	a.render(q, http.StatusOK, "offers", "offers.title", page{Data: d, Nav: "home"})
}

func (a *App) workPage(q *req) {
	a.showWork(q, http.StatusOK, nil, nil)
}

func (a *App) showWork(q *req, status int, errs, form map[string]string) {
	id, ok := a.pathIDOr404(q)
	if !ok {
		return
	}
	var d workData
	path := fmt.Sprintf("/v1/work/%d", id)
	st, body := a.call(q, http.MethodGet, path, nil, nil)
	switch {
	case st == http.StatusNotFound && q.member.Has("worker"):
		// A worker following a link to work whose offer to them expired learns that, not
		// only "not found"; nothing of the work is shown.
		ost, err := a.cfg.Backend.OfferStatus(q.r.Context(), q.member.ID, id)
		if err != nil {
			a.unavailable(q, "reading an offer failed", err)
			return
		}
		if ost != "expired" {
			a.failAPI(q, st, body)
			return
		}
		d.W.ID, d.Ended, d.OfferExpired = id, true, true
		a.render(q, status, "work", "work.title", page{Data: d, Errors: errs, Form: form, Flash: flashFrom(q), Nav: "home"})
		return
	case st != http.StatusOK:
		a.failAPI(q, st, body)
		return
	}
	if err := json.Unmarshal(body, &d.W); err != nil {
		a.log.Error("decoding an API answer failed", "path", path, "error", err)
		a.fail(q, http.StatusInternalServerError, "error.generic")
		return
	}
	d.IsWorker = d.W.WorkerID != nil && *d.W.WorkerID == q.member.ID
	d.IsCustomer = d.W.CustomerID == q.member.ID
	// The member's own offer of it, in one query however many offers they hold: urgent
	// work is offered to several workers at once and names none of them as its worker.
	// An offer past its time is expired, whether or not the service has moved it on.
	if q.member.Has("worker") && !d.IsCustomer {
		st, err := a.cfg.Backend.OfferStatus(q.r.Context(), q.member.ID, id)
		if err != nil {
			a.unavailable(q, "reading an offer failed", err)
			return
		}
		d.Offered = d.W.State == "offered" && st == "offered"
		d.OfferExpired = st == "expired"
	}
	if d.W.Next = nextStep(d.W.State, len(d.W.Milestones) > 0); d.W.State == "offered" && !d.Offered {
		d.W.Next = "" // accepting needs an offer that stands
	}
	// Who may cancel, as the API lets them: the customer until its worker starts it, its
	// worker once they took it (an offer is declined, not cancelled).
	switch {
	case d.IsCustomer:
		d.Cancellable = work.CustomerCancels(d.W.State)
	case d.IsWorker:
		d.Cancellable = work.WorkerCancels(d.W.State)
	}
	// Whether the member blocked its worker: the page offers to lift the block, or to set it.
	if d.IsCustomer && d.W.WorkerID != nil && d.W.State == "completed" {
		var blocks struct {
			WorkerIDs []int64 `json:"workerIds"`
		}
		if !a.get(q, "/v1/blocks", &blocks) {
			return
		}
		d.Blocked = slices.Contains(blocks.WorkerIDs, *d.W.WorkerID)
	}
	d.PayKey = randomToken()
	a.render(q, status, "work", "work.title", page{Data: d, Errors: errs, Form: form, Flash: flashFrom(q), Nav: "home"})
}

func pathID(q *req) (int64, bool) {
	id, err := strconv.ParseInt(q.r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

// pathIDOr404 is pathID, answering 404 when the path has no valid id.
func (a *App) pathIDOr404(q *req) (int64, bool) {
	id, ok := pathID(q)
	if !ok {
		a.fail(q, http.StatusNotFound, "error.notFound")
	}
	return id, ok
}

// workAction runs one step on a work item through the API's route for it.
func (a *App) workAction(q *req) {
	id, ok := a.pathIDOr404(q)
	if !ok {
		return
	}
	action := q.r.PathValue("action")
	base := fmt.Sprintf("/v1/work/%d", id)
	var st int
	var body []byte
	switch action {
	case "accept", "decline", "start", "complete", "match":
		st, body = a.call(q, http.MethodPost, base+"/"+action, nil, nil)
	case "cancel":
		// With the member's reason, when they gave one: the other side reads it in the
		// work's history.
		var in any
		reason := strings.TrimSpace(q.r.PostForm.Get("reason"))
		if reason != "" {
			in = map[string]string{"reason": reason}
		}
		st, body = a.call(q, http.MethodPost, base+"/cancel", in, nil)
		if st == http.StatusBadRequest {
			a.showWork(q, st, map[string]string{"reason": apiMessage(q.lang, q.zone, body)}, map[string]string{"reason": reason})
			return
		}
	case "submit-milestone", "accept-milestone":
		// A freelance project's milestone: its worker submits it, its client accepts it,
		// which pays it (and completes the project with the last one).
		n, err := strconv.Atoi(q.r.PostForm.Get("n"))
		if err != nil || n < 1 {
			a.fail(q, http.StatusBadRequest, "error.generic")
			return
		}
		verb, _, _ := strings.Cut(action, "-")
		st, body = a.call(q, http.MethodPost, fmt.Sprintf("%s/milestones/%d/%s", base, n, verb), nil, nil)
	case "rate":
		stars, err := strconv.Atoi(q.r.PostForm.Get("stars"))
		if err != nil {
			stars = 0
		}
		st, body = a.call(q, http.MethodPost, base+"/rating", map[string]int{"stars": stars}, nil)
	case "block", "unblock":
		// The worker of this work, as the API shows it to the member: not an id the form
		// carries, which could name any member.
		var w workView
		if !a.get(q, base, &w) {
			return
		}
		if w.CustomerID != q.member.ID || w.WorkerID == nil {
			a.fail(q, http.StatusForbidden, "error.forbidden")
			return
		}
		if action == "unblock" {
			st, body = a.call(q, http.MethodDelete, fmt.Sprintf("/v1/blocks/%d", *w.WorkerID), nil, nil)
			break
		}
		// A block ends a regular worker's offers of the member's work: the member says
		// they mean it (a box ticked), so that one click by mistake does not.
		if q.r.PostForm.Get("confirm") != "yes" {
			a.showWork(q, http.StatusBadRequest, map[string]string{"block": tr(q.lang, "block.confirmFirst")}, nil)
			return
		}
		st, body = a.call(q, http.MethodPost, "/v1/blocks", map[string]int64{"workerId": *w.WorkerID}, nil)
	case "pay":
		cents, ok := parseCents(q.r.PostForm.Get("amount"))
		if !ok {
			a.showWork(q, http.StatusBadRequest, map[string]string{"amount": tr(q.lang, "pay.amountInvalid")}, map[string]string{"amount": q.r.PostForm.Get("amount")})
			return
		}
		h := http.Header{"Idempotency-Key": {"app-" + q.r.PostForm.Get("key")}}
		st, body = a.call(q, http.MethodPost, "/v1/payments", map[string]int64{"workId": id, "amountCents": cents}, h)
		if st == http.StatusCreated {
			var p struct {
				ID int64 `json:"id"`
			}
			_ = json.Unmarshal(body, &p)
			a.redirect(q, fmt.Sprintf("/app/payments/%d?done=pay", p.ID))
			return
		}
		if st == http.StatusBadRequest {
			a.showWork(q, st, map[string]string{"amount": apiMessage(q.lang, q.zone, body)}, map[string]string{"amount": q.r.PostForm.Get("amount")})
			return
		}
	default:
		a.fail(q, http.StatusNotFound, "error.notFound")
		return
	}
	if st == http.StatusConflict && a.doneBy(q, base, action) {
		// A second press of the button (or a retry after a lost answer): the first did it.
		st = http.StatusOK
	}
	if st != http.StatusOK && st != http.StatusCreated {
		if st == http.StatusConflict && strings.HasSuffix(action, "-milestone") {
			// Already done (a second click), or the project moved on: the work's page
			// says so beside its milestones.
			a.showWork(q, st, map[string]string{"milestones": apiMessage(q.lang, q.zone, body)}, nil)
			return
		}
		if st == http.StatusBadRequest && action == "rate" {
			a.showWork(q, st, map[string]string{"stars": apiMessage(q.lang, q.zone, body)}, nil)
			return
		}
		a.failAPI(q, st, body)
		return
	}
	if action == "decline" {
		a.redirect(q, "/app/home?done=decline")
		return
	}
	a.redirect(q, fmt.Sprintf("/app/work/%d?done=%s", id, action))
}

// doneStates are the states the steps of a work item's page take it to.
var doneStates = map[string]string{"accept": "accepted", "start": "in_progress", "complete": "completed", "cancel": "cancelled"}

// doneBy says whether the work at the API's path base is already where the member's step
// action takes it, by their own doing: accepted, started or completed with them its
// worker, cancelled by them last. The API refuses the step again (409); the page says it
// done, as the first press did.
func (a *App) doneBy(q *req, base, action string) bool {
	to, ok := doneStates[action]
	if !ok {
		return false
	}
	st, body := a.call(q, http.MethodGet, base, nil, nil)
	var w workView
	if st != http.StatusOK || json.Unmarshal(body, &w) != nil || w.State != to {
		return false
	}
	if action == "cancel" {
		h := w.History
		return len(h) > 0 && h[len(h)-1].To == to && h[len(h)-1].ActorID != nil && *h[len(h)-1].ActorID == q.member.ID
	}
	return w.WorkerID != nil && *w.WorkerID == q.member.ID
}

// decimalPattern is a number as the forms take it: digits, and at most two after a point.
var decimalPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]{0,2})?$`)

// hundredths reads a number typed as 12, 12.5 or 12.50 (a comma for the point too) in
// hundredths, at most max: 1250 for 12.5.
func hundredths(s string, max int64) (int64, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", ".")
	if !decimalPattern.MatchString(s) {
		return 0, false // a sign, an exponent, spaces: "-0.50" is no amount
	}
	whole, frac, _ := strings.Cut(s, ".")
	for len(frac) < 2 {
		frac += "0"
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || w > max/100 || w*100+f > max {
		return 0, false
	}
	return w*100 + f, true
}

// parseCents reads an amount typed as 12, 12.5 or 12.50 (a comma for the point too) in
// cents: more than nothing.
func parseCents(s string) (int64, bool) {
	c, ok := hundredths(s, 10_000_000_000*100)
	return c, ok && c > 0
}

type field struct {
	Name     string
	Required bool
	Type     string // text, date, datetime-local, textarea
	Value    string
}

type requestData struct {
	Kinds      []string
	Kind       string
	Fields     []field
	NeedsPrice bool
	Measures   bool
	Price      string
	Distance   string
	Minutes    string
	// MinutesField asks for the duration, which the fare rule prices (not for a kind
	// priced for the time between its dates: a stay).
	MinutesField bool
	// PriceDetails are the details the price depends on, sent with the quote.
	PriceDetails []string
	// PackagesField asks for the number of packages, which the fare rule prices.
	PackagesField bool
	Packages      string
	// Zones are the fare rule's zones, one of which the request may name.
	Zones []string
	Zone  string
	// Stops are the rows of further drop-offs of a batched request (its dropoff detail the
	// first stop), each an address and notes.
	Stops []stopRow
	// Milestones are the rows of a project's milestones (a title and an amount each),
	// when the kind may be paid by milestones.
	Milestones []milestoneRow
	// Listing is what an order names (its details.listingId), shown with its price so that
	// a member orders only what they saw.
	Listing *listingView
	// Quote is the price the fare rule sets for the request as the form holds it, shown
	// before the request is sent (and sent with it: a price that moved meanwhile is
	// shown again rather than charged).
	Quote *quoteView
	// UrgentOption offers to make the request urgent (a care co-op's emergency backup:
	// offered to several carers at once, the first to accept takes it); Urgent is the box
	// as the form holds it.
	UrgentOption, Urgent bool
}

// stopRow is a further drop-off of the request form.
type stopRow struct {
	// N numbers the row from 1; the stop it adds is the request's (N+1)th drop-off.
	N              int
	Address, Notes string
}

// Ordinal is the drop-off's place in the delivery: the dropoff detail is the first.
func (s stopRow) Ordinal() int { return s.N + 1 }

// formStops is how many further drop-offs the request form offers at most.
const formStops = 4

// milestoneRow is a milestone of the request form.
type milestoneRow struct {
	N             int
	Title, Amount string
}

// formMilestones is how many milestones the request form offers at most.
const formMilestones = 5

// quoteView is a quote the request form shows.
type quoteView struct {
	PriceCents, SurgeCents int64
	// For is quoteKey of what was quoted: the request is sent with the quote only while
	// the form still asks for that.
	For string
	// Changed says the price moved since the member last saw it.
	Changed bool
}

// requestData is the request form's content; false when it could not be made, and the
// answer (503) is written.
func (a *App) requestData(q *req, kind string, values map[string]string) (requestData, bool) {
	kinds := a.cfg.Backend.Kinds()
	var d requestData
	for k := range kinds {
		d.Kinds = append(d.Kinds, k)
	}
	sort.Strings(d.Kinds)
	if len(d.Kinds) == 0 {
		a.unavailable(q, "the request form has no kinds of work", errors.New("the vertical has no kinds of work"))
		return d, false
	}
	if _, ok := kinds[kind]; !ok {
		kind = defaultKind(d.Kinds, kinds)
	}
	d.Kind = kind
	spec := kinds[kind]
	typ := func(n string) string {
		for _, x := range spec.Dates {
			if x == n {
				return "date"
			}
		}
		for _, x := range spec.Times {
			if x == n {
				return "datetime-local"
			}
		}
		if n == "notes" || n == "description" {
			return "textarea"
		}
		return "text"
	}
	// The requester types a price where no fare rule sets it, or where workers set their
	// own (at or above the floor); the rule's measures otherwise.
	pricing, err := a.cfg.Backend.Pricing(q.r.Context())
	if err != nil {
		a.unavailable(q, "reading the fare rule in force failed", err)
		return d, false
	}
	d.NeedsPrice = !pricing.Rule || pricing.WorkerPriced
	d.Measures = !d.NeedsPrice
	if spec.PricedByListing {
		d.NeedsPrice, d.Measures = false, false
	}
	for _, n := range spec.Required {
		d.Fields = append(d.Fields, field{Name: n, Required: true, Type: typ(n), Value: values["details."+n]})
	}
	for _, n := range spec.Optional {
		if d.Measures && n == "durationMinutes" {
			continue // the measure's field asks it (the API refuses the two differing)
		}
		d.Fields = append(d.Fields, field{Name: n, Type: typ(n), Value: values["details."+n]})
	}
	if d.Measures {
		d.PackagesField, d.Zones = pricing.Packages, pricing.Zones
		d.MinutesField, d.PriceDetails = !spec.LengthFromDates, spec.PriceDetails
	}
	d.Price, d.Distance, d.Minutes = values["price"], values["distanceKm"], values["durationMinutes"]
	d.Packages, d.Zone = values["packages"], values["zone"]
	for n := 1; n < min(spec.MaxStops, formStops+1); n++ {
		d.Stops = append(d.Stops, stopRow{N: n, Address: values[fmt.Sprintf("stop.%d.address", n)], Notes: values[fmt.Sprintf("stop.%d.notes", n)]})
	}
	if id, err := strconv.ParseInt(strings.TrimSpace(values["details.listingId"]), 10, 64); spec.PricedByListing && err == nil && id > 0 {
		// Read as the member reads it; one they may not see, or none, is left to the
		// request's refusal.
		if st, body := a.call(q, http.MethodGet, fmt.Sprintf("/v1/listings/%d", id), nil, nil); st == http.StatusOK {
			var l listingView
			if json.Unmarshal(body, &l) == nil {
				d.Listing = &l
			}
		}
	}
	for n := 1; n <= min(spec.MaxMilestones, formMilestones); n++ {
		d.Milestones = append(d.Milestones, milestoneRow{N: n, Title: values[fmt.Sprintf("milestone.%d.title", n)], Amount: values[fmt.Sprintf("milestone.%d.amount", n)]})
	}
	if pol := a.cfg.Backend.Policy(); pol != nil && pol.Vertical == "care" {
		d.UrgentOption, d.Urgent = true, values["urgent"] == "yes"
	}
	return d, true
}

// defaultKind is the kind the request form opens with when none is asked: the kind a
// listing prices (a marketplace's order, what its shop leads to; its other kind, listing,
// is the older way of asking a maker for something), else the first of names, the kinds
// by name.
func defaultKind(names []string, kinds map[string]Kind) string {
	for _, n := range names {
		if kinds[n].PricedByListing {
			return n
		}
	}
	return names[0]
}

// quoteKey names what a quote priced: the kind of work and its measures (under a fare
// rule the form asks a booking's duration as the measure, not as a detail), whatever
// else the form holds.
func quoteKey(quote map[string]any) string {
	b, _ := json.Marshal(quote) // map keys in order
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// requestField is the form's field the API's refusal of a request (or of its quote)
// names: "form" when it is none of them.
func requestField(fld string) string {
	switch fld {
	case "priceCents":
		return "price"
	case "distanceMeters":
		return "distanceKm"
	case "kind", "durationMinutes", "packages", "zone":
		return fld
	case "stops[0].address":
		return "details.dropoff"
	}
	if strings.HasPrefix(fld, "details.") {
		return fld
	}
	return "form"
}

func (a *App) requestForm(q *req) {
	var values map[string]string
	if l := q.r.URL.Query().Get("listing"); l != "" {
		// An order of a listing of the shop's page.
		values = map[string]string{"details.listingId": l}
	}
	d, ok := a.requestData(q, q.r.URL.Query().Get("kind"), values)
	if !ok {
		return
	}
	a.render(q, http.StatusOK, "request", "request.title", page{Data: d, Nav: "request"})
}

// onCoopClock reads a form's date and time (2006-01-02T15:04, as a datetime-local input
// sends it) as the instant it names on the co-op's clock, in zone: the first, where the
// clock is set back over it. parsed is false for a value of another form; skipped is true
// for a time the clock skips (the hour summer time starts), which names none.
func onCoopClock(v string, zone *time.Location) (at time.Time, parsed, skipped bool) {
	wall, err := time.Parse("2006-01-02T15:04", v)
	if err != nil {
		return time.Time{}, false, false
	}
	at, ok := dayclock.Of(wall, zone).At(wall.Hour()*3600 + wall.Minute()*60)
	return at, true, !ok
}

// requestWork posts the request to the API, then asks it to find a worker.
func (a *App) requestWork(q *req) {
	f := q.r.PostForm
	kind := f.Get("kind")
	d, ok := a.requestData(q, kind, nil)
	if !ok {
		return
	}
	values := map[string]string{"price": f.Get("price"), "distanceKm": f.Get("distanceKm"), "durationMinutes": f.Get("durationMinutes"),
		"packages": f.Get("packages"), "zone": f.Get("zone")}
	body := map[string]any{"kind": kind}
	if d.UrgentOption && f.Get("urgent") == "yes" {
		body["urgent"], values["urgent"] = true, "yes"
	}
	details := map[string]string{}
	var skipped []string // the date and time fields naming a time the co-op's clock skips
	for _, fl := range d.Fields {
		v := strings.TrimSpace(f.Get("details." + fl.Name))
		values["details."+fl.Name] = v
		if v == "" {
			continue
		}
		if fl.Type == "datetime-local" {
			// Typed on the co-op's clock, sent as the instant it names (the first, where the
			// clock is set back over it); a time the clock skips (the hour summer time
			// starts) names none.
			if at, parsed, skip := onCoopClock(v, q.zone); parsed {
				if skip {
					skipped = append(skipped, "details."+fl.Name)
				}
				v = at.UTC().Format(time.RFC3339)
			}
		}
		details[fl.Name] = v
	}
	body["details"] = details
	// Further drop-offs make a batched delivery: its stops, the dropoff detail the first.
	var stops []work.Stop
	var stopRows []int // the form's row of each further stop sent
	for _, st := range d.Stops {
		addr := strings.TrimSpace(f.Get(fmt.Sprintf("stop.%d.address", st.N)))
		notes := strings.TrimSpace(f.Get(fmt.Sprintf("stop.%d.notes", st.N)))
		values[fmt.Sprintf("stop.%d.address", st.N)], values[fmt.Sprintf("stop.%d.notes", st.N)] = addr, notes
		if addr != "" {
			stops = append(stops, work.Stop{Address: addr, Notes: notes})
			stopRows = append(stopRows, st.N)
		}
	}
	if len(stops) > 0 {
		body["stops"] = append([]work.Stop{{Address: details["dropoff"]}}, stops...)
		delete(details, "dropoff")
	}
	errs := map[string]string{}
	for _, key := range skipped {
		errs[key] = tr(q.lang, "request.timeSkipped")
	}
	for _, st := range d.Stops {
		if values[fmt.Sprintf("stop.%d.address", st.N)] == "" && values[fmt.Sprintf("stop.%d.notes", st.N)] != "" {
			errs[fmt.Sprintf("stop.%d.address", st.N)] = tr(q.lang, "request.stopNeedsAddress")
		}
	}
	if len(stops) > 0 && strings.TrimSpace(values["details.dropoff"]) == "" {
		errs["details.dropoff"] = tr(q.lang, "request.dropoffFirst")
	}
	// Milestones make a project paid by milestones, adding up to its price.
	var milestones []map[string]any
	var milestoneRows []int // the form's row of each milestone sent
	for _, m := range d.Milestones {
		title := strings.TrimSpace(f.Get(fmt.Sprintf("milestone.%d.title", m.N)))
		amount := strings.TrimSpace(f.Get(fmt.Sprintf("milestone.%d.amount", m.N)))
		values[fmt.Sprintf("milestone.%d.title", m.N)], values[fmt.Sprintf("milestone.%d.amount", m.N)] = title, amount
		if title == "" && amount == "" {
			continue
		}
		key := fmt.Sprintf("milestone.%d", m.N)
		cents, ok := parseCents(amount)
		switch {
		case title == "":
			errs[key] = tr(q.lang, "request.milestoneTitle")
		case !ok:
			errs[key] = tr(q.lang, "pay.amountInvalid")
		}
		milestones = append(milestones, map[string]any{"title": title, "amountCents": cents})
		milestoneRows = append(milestoneRows, m.N)
	}
	if milestones != nil {
		body["milestones"] = milestones
	}
	if d.NeedsPrice {
		cents, ok := parseCents(values["price"])
		if !ok {
			errs["price"] = tr(q.lang, "pay.amountInvalid")
		}
		body["priceCents"] = cents
	} else {
		if v := values["distanceKm"]; v != "" {
			km, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", "."), 64)
			if err != nil || !(km >= 0 && km <= 10000) { // NaN too, which ParseFloat reads; the API takes up to 10,000 km
				errs["distanceKm"] = tr(q.lang, "request.numberInvalid")
			}
			body["distanceMeters"] = int64(math.Round(km * 1000))
		}
		if v := values["durationMinutes"]; v != "" && d.MinutesField {
			m, err := strconv.ParseInt(v, 10, 64)
			if err != nil || m < 0 {
				errs["durationMinutes"] = tr(q.lang, "request.numberInvalid")
			}
			body["durationMinutes"] = m
		}
		if v := values["packages"]; v != "" && d.PackagesField {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 || n > 1000 {
				errs["packages"] = tr(q.lang, "request.packagesInvalid")
			}
			body["packages"] = n
		}
		if v := values["zone"]; v != "" && len(d.Zones) > 0 {
			if !slices.Contains(d.Zones, v) {
				errs["zone"] = tr(q.lang, "request.zoneInvalid")
			}
			body["zone"] = v
		}
	}
	// Under a fare rule the member sees the price first: the form is sent once to quote
	// it, and again to request at that price (quotedPriceCents), as long as what prices it
	// is unchanged.
	var quote map[string]any
	if d.Measures && len(errs) == 0 {
		quote = map[string]any{"kind": kind}
		for _, k := range []string{"distanceMeters", "durationMinutes", "packages", "zone"} {
			if v, ok := body[k]; ok {
				quote[k] = v
			}
		}
		// The details its price depends on (a stay's dates), as the request sends them.
		priced := map[string]string{}
		for _, k := range d.PriceDetails {
			if v, ok := details[k]; ok {
				priced[k] = v
			}
		}
		if len(priced) > 0 {
			quote["details"] = priced
		}
		cents, err := strconv.ParseInt(f.Get("quotedPriceCents"), 10, 64)
		if f.Get("quotedFor") != quoteKey(quote) || err != nil || cents <= 0 {
			a.showQuote(q, kind, values, quote, false)
			return
		}
		body["quotedPriceCents"] = cents
	}
	status := http.StatusBadRequest
	if len(errs) == 0 {
		st, rb := a.call(q, http.MethodPost, "/v1/work", body, nil)
		if fld, _ := parseAPIErr(rb); st == http.StatusConflict && fld == "quotedPriceCents" && quote != nil {
			// The price moved since the member saw it (a surge window opened or closed):
			// nothing was requested; they see the new price and confirm again.
			a.showQuote(q, kind, values, quote, true)
			return
		}
		if st == http.StatusCreated {
			var w workView
			_ = json.Unmarshal(rb, &w)
			// Find a worker at once; when none is free the page offers to try again.
			mst, _ := a.call(q, http.MethodPost, fmt.Sprintf("/v1/work/%d/match", w.ID), nil, nil)
			done := "requested"
			if mst == http.StatusOK {
				done = "match"
			}
			a.redirect(q, fmt.Sprintf("/app/work/%d?done=%s", w.ID, done))
			return
		}
		// Refused for what the form holds (400), or for the state of what it asks for (409:
		// the stay overlaps another, the stock is short, the maker left): said beside its
		// field, or above the form, with everything typed kept.
		if st != http.StatusBadRequest && st != http.StatusConflict {
			a.failAPI(q, st, rb)
			return
		}
		status = st
		fld, _ := parseAPIErr(rb)
		key := requestField(fld)
		// A milestone's row: the request's milestones[i] is the form's i-th row sent.
		if i, _, ok := fieldIndex(fld, "milestones", len(milestoneRows)); ok {
			key = fmt.Sprintf("milestone.%d", milestoneRows[i])
		} else if fld == "milestones" {
			key = "milestones"
		}
		// A further drop-off's row: the request's stops[i] (from 1: the first is the
		// dropoff detail) is the form's i-th row sent; its notes, or else its address, is
		// the field refused.
		if i, part, ok := fieldIndex(fld, "stops", len(stopRows)+1); ok && i > 0 {
			field := "address"
			if part == ".notes" {
				field = "notes"
			}
			key = fmt.Sprintf("stop.%d.%s", stopRows[i-1], field)
		}
		errs[key] = apiMessage(q.lang, q.zone, rb)
	}
	if d, ok = a.requestData(q, kind, values); !ok {
		return
	}
	if cents, ok := body["quotedPriceCents"].(int64); ok {
		// Refused for another field (an address left out): the price seen stands, and the
		// form sent again with that field requests at it.
		surge, _ := strconv.ParseInt(f.Get("quotedSurgeCents"), 10, 64)
		d.Quote = &quoteView{PriceCents: cents, SurgeCents: surge, For: quoteKey(quote)}
	}
	a.render(q, status, "request", "request.title", page{Data: d, Errors: errs, Nav: "request"})
}

// showQuote asks the API for the price of the request the form holds (quote) and shows
// the form again with it, to be confirmed; changed says the price moved since the member
// last saw one (409). A refusal of the quote is shown next to its field, as a request's.
func (a *App) showQuote(q *req, kind string, values map[string]string, quote map[string]any, changed bool) {
	st, rb := a.call(q, http.MethodPost, "/v1/quotes", quote, nil)
	errs := map[string]string{}
	var qv *quoteView
	switch st {
	case http.StatusOK:
		var out struct {
			PriceCents int64 `json:"priceCents"`
			SurgeCents int64 `json:"surgeCents"`
		}
		if err := json.Unmarshal(rb, &out); err != nil {
			a.log.Error("decoding a quote failed", "error", err)
			a.fail(q, http.StatusInternalServerError, "error.generic")
			return
		}
		qv = &quoteView{PriceCents: out.PriceCents, SurgeCents: out.SurgeCents, For: quoteKey(quote), Changed: changed}
	case http.StatusBadRequest, http.StatusConflict:
		// A field refused, or no price to quote any more (the fare rule went by a vote
		// since the form was shown): the form again, which asks for a price then.
		fld, _ := parseAPIErr(rb)
		errs[requestField(fld)] = apiMessage(q.lang, q.zone, rb)
	default:
		a.failAPI(q, st, rb)
		return
	}
	d, ok := a.requestData(q, kind, values)
	if !ok {
		return
	}
	d.Quote = qv
	status := http.StatusOK
	switch {
	case qv == nil:
		status = st
	case changed:
		status = http.StatusConflict
	}
	a.render(q, status, "request", "request.title", page{Data: d, Errors: errs, Nav: "request"})
}
