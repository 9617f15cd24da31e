// Package web is the members' app: server-rendered HTML pages, served by the platform
// service under /app/, over the JSON API's own routes (Backend.Call runs them in process
// as the signed-in member, so every rule and every authorization is the API's), with
// sign-in by one-time code, sessions in PostgreSQL, CSRF tokens on every form, and its
// strings in message catalogues (English and French).
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/clientip"
	"github.com/cooperator-dev/cooperator/platform/server/store"
	"github.com/cooperator-dev/cooperator/platform/server/store/sessions"
	"github.com/cooperator-dev/cooperator/platform/server/store/work"
)

// Member is the signed-in member, as the API's authorization needs them.
type Member struct {
	ID int64
	// TokenID is the member's token the session ends with (0: none, a code staff issued).
	TokenID int64
	// Session is the SHA-256 of the session's secret.
	Session []byte
	// SignedIn is when the member signed in: the session was opened then.
	SignedIn time.Time
	Roles    []string
	Class    string
	Active   bool
	// Unread is how many of the member's notifications were unread when the request came.
	Unread int
}

// memberOf is the member a valid session signs in.
func memberOf(s sessions.Session) *Member {
	return &Member{ID: s.MemberID, TokenID: s.TokenID, Session: s.IDHash, SignedIn: s.CreatedAt, Roles: s.Roles, Class: s.Class, Active: s.Active, Unread: s.Unread}
}

// Work is a work item as the API shows it.
type Work = work.Work

// Kind is one kind of work of the co-op's vertical: the fields of its request.
type Kind struct {
	Required, Optional, Dates, Times []string
	// PricedByListing: the API prices the request from the listing it names (a
	// marketplace order); the requester types no price.
	PricedByListing bool
	// MaxStops, when not 0, is how many drop-offs a batched request of the kind may have
	// (a delivery's stops, for one courier), its dropoff detail the first.
	MaxStops int
	// MaxMilestones, when not 0, is how many milestones a project of the kind may be paid
	// by (a freelance gig), adding up to its price.
	MaxMilestones int
	// PriceDetails are the details a fare rule's price of the kind depends on, sent with
	// its quote (a stay's dates, a booking's time: it is priced at the rate of its start).
	PriceDetails []string
	// LengthFromDates: a fare rule prices the kind for the time between its dates (a
	// stay's nights), and the form asks no duration.
	LengthFromDates bool
}

// Backend is the platform service as the app uses it.
type Backend interface {
	// Call runs one JSON API route as the member and returns its status and body.
	Call(ctx context.Context, m Member, method, path string, header http.Header, body []byte) (int, []byte)
	// MyWork reads the work items the member requested or works on, newest first, with an
	// id below before (0: from the newest), at most limit, in one query: the member's own,
	// and only theirs.
	MyWork(ctx context.Context, memberID, before int64, limit int) ([]Work, error)
	// OfferStatus is the status of the member's latest offer of the work at the service's
	// clock, in one query: "offered" while it stands, "expired" once its time has passed,
	// "accepted", "declined" or "withdrawn"; "" when they were never offered it.
	OfferStatus(ctx context.Context, memberID, workID int64) (string, error)
	// CompletedFor lists the workers who completed the member's work (as its customer),
	// with how many items each, the most recent first, at most limit, in one query.
	CompletedFor(ctx context.Context, memberID int64, limit int) ([]work.WorkerCount, error)
	Vertical() string
	Kinds() map[string]Kind
	Policy() *policy.Policy
	// Pricing says how the co-op prices a request now.
	Pricing(ctx context.Context) (Pricing, error)
}

// Pricing is how the co-op prices a request: by a fare rule in force (the policy file's,
// or one the members voted since), and whether its workers set their own price (at or
// above the rule's floor).
type Pricing struct {
	Rule         bool
	WorkerPriced bool
	// Packages says the rule prices the number of packages (its own amount, a zone's or
	// a time rate's); Zones are the names of its zones.
	Packages bool
	Zones    []string
	// Fares is the rule in force (the policy's, or the one the members voted since), nil
	// when there is none.
	Fares *policy.Fares
}

// Config configures the app.
type Config struct {
	Backend Backend
	DB      store.DBTX
	Now     func() time.Time
	Logger  *slog.Logger
	// SessionTTL is how long a session lasts after sign-in (default 12 hours).
	SessionTTL time.Duration
	// Limit is the service's rate limiter (per client key); nil: no limit.
	Limit func(client string) (bool, int)
	// LookUpCredential runs lookup, the query of the request's session by the SHA-256 of
	// its secret, under the service's per-address budget of credentials not known to be
	// valid; retryAfter > 0 (seconds) when that budget is spent and lookup did not run.
	// nil: lookup runs.
	LookUpCredential func(r *http.Request, sum [32]byte, lookup func() error) (retryAfter int, err error)
	// RememberCredential records that the session secret of SHA-256 sum is valid (a
	// sign-in just opened it), for LookUpCredential; nil: nothing is recorded.
	RememberCredential func(sum [32]byte)
	// ClientIP is the address of a request's client, for the limits before sign-in; nil:
	// the peer's address.
	ClientIP func(*http.Request) string
}

// Cookie names. The session's and the sign-in form's CSRF token are HttpOnly, Secure and
// SameSite; the session's value is a random 32-byte secret of which only the SHA-256 hash
// is stored. Their __Host- prefix binds them to the app's own host: a browser takes such a
// cookie only Secure, with Path=/ and no Domain, so a sibling subdomain (another co-op's
// host, say) cannot plant one, as it could a plain cookie for the parent domain, to sign a
// member in as someone else. The JSON API reads neither: it takes bearer tokens only.
const (
	sessionCookie = "__Host-coop_session"
	preCSRFCookie = "__Host-coop_csrf"
	langCookie    = "coop_lang"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// App is the members' app's HTTP handler.
type App struct {
	cfg   Config
	log   *slog.Logger
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// HashSignInCode is the stored form of a sign-in code: the SHA-256 of the code in capitals
// without spaces or dashes, so people may type it as they read it.
func HashSignInCode(code string) []byte {
	norm := strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, code)
	h := sha256.Sum256([]byte("sign-in:" + norm))
	return h[:]
}

// New builds the app.
func New(cfg Config) *App {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	a := &App{cfg: cfg, log: cfg.Logger, pages: map[string]*template.Template{}}
	a.parseTemplates()
	a.routes()
	return a
}

func (a *App) parseTemplates() {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n))
		a.pages[base] = t
	}
}

// Pages lists the names of the app's page templates (for tests).
func (a *App) Pages() []string {
	var out []string
	for n := range a.pages {
		out = append(out, n)
	}
	return out
}

func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	a.mux.ServeHTTP(w, r)
}

// req is one request's context: who, in which language, with which CSRF token.
type req struct {
	w      http.ResponseWriter
	r      *http.Request
	lang   string
	member *Member
	csrf   string
	// zone is the co-op's time zone, in which the pages show times and read those typed.
	zone *time.Location
}

// page is what every template receives.
type page struct {
	Lang   string
	Title  string
	CSRF   string
	Member *Member
	Path   string
	Data   any
	Errors map[string]string
	Form   map[string]string
	Flash  string
	Coop   string
	Status int
	Nav    string
	// Shop says the co-op is a marketplace: the listings are in the menu.
	Shop bool
	// Requests says the member requests work (policy.RequestsWork): the request form is in
	// the menu, and their requests on the home page.
	Requests bool
	// Vertical is the co-op's, from its policy.
	Vertical string
	// Name is the page template's name (the body's data-page, for tests).
	Name string
	// Zone is the co-op's time zone, in which the pages show times.
	Zone *time.Location
	// OtherLang is the language the page's language link offers, and OtherLangHref the
	// page itself in it (langHref).
	OtherLang, OtherLangHref string
}

func (a *App) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET /app/static/", http.StripPrefix("/app/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /app/{$}", a.anon("", a.root))
	m.HandleFunc("GET /app/sign-in", a.anon("", a.signInForm))
	// Sign-ins have a budget per address of their own (each is a query, and a guess of a
	// code), apart from the public routes': a flood of those does not refuse them.
	m.HandleFunc("POST /app/sign-in", a.anon("sign-in", a.signIn))
	m.HandleFunc("POST /app/sign-out", a.authed(a.signOut))
	m.HandleFunc("GET /app/home", a.authed(a.home))
	m.HandleFunc("GET /app/offers", a.authed(a.offers))
	m.HandleFunc("POST /app/availability", a.authed(a.availability))
	m.HandleFunc("GET /app/schedule", a.authed(a.schedule))
	m.HandleFunc("GET /app/team", a.authed(a.careTeam))
	m.HandleFunc("POST /app/team", a.authed(a.saveTeam))
	m.HandleFunc("POST /app/schedule", a.authed(a.saveSchedule))
	m.HandleFunc("POST /app/schedule/exceptions", a.authed(a.addException))
	m.HandleFunc("POST /app/schedule/exceptions/{id}/remove", a.authed(a.removeException))
	m.HandleFunc("GET /app/work", a.authed(a.workList))
	m.HandleFunc("GET /app/work/{id}", a.authed(a.workPage))
	m.HandleFunc("POST /app/work/{id}/{action}", a.authed(a.workAction))
	m.HandleFunc("GET /app/listings", a.authed(a.listings))
	m.HandleFunc("POST /app/listings", a.authed(a.createListing))
	m.HandleFunc("POST /app/listings/{id}/stock", a.authed(a.setStock))
	m.HandleFunc("GET /app/request", a.authed(a.requestForm))
	m.HandleFunc("POST /app/request", a.authed(a.requestWork))
	m.HandleFunc("GET /app/members/{id}/earnings", a.authed(a.earnings))
	m.HandleFunc("GET /app/payments/{id}", a.authed(a.paymentPage))
	m.HandleFunc("POST /app/payments/{id}/refund", a.authed(a.refund))
	m.HandleFunc("POST /app/payments/{id}/ask-refund", a.authed(a.askRefund))
	m.HandleFunc("GET /app/money", a.authed(a.money))
	m.HandleFunc("GET /app/funds/ask", a.authed(a.askFundForm))
	m.HandleFunc("GET /app/exports", a.authed(a.exportsPage))
	m.HandleFunc("GET /app/credentials", a.authed(a.credentialsPage))
	m.HandleFunc("POST /app/credentials/{id}", a.authed(a.saveCredentials))
	m.HandleFunc("GET /app/exports/download", a.authed(a.exportDownload))
	m.HandleFunc("POST /app/funds/ask", a.authed(a.askFund))
	m.HandleFunc("GET /app/disbursements/{id}", a.authed(a.disbursementPage))
	m.HandleFunc("GET /app/governance", a.authed(a.governance))
	m.HandleFunc("GET /app/proposals/new", a.authed(a.proposeForm))
	m.HandleFunc("POST /app/proposals", a.authed(a.propose))
	m.HandleFunc("GET /app/proposals/{id}", a.authed(a.proposalPage))
	m.HandleFunc("POST /app/proposals/{id}/ballot", a.authed(a.ballot))
	m.HandleFunc("POST /app/delegation", a.authed(a.delegate))
	m.HandleFunc("POST /app/delegation/remove", a.authed(a.undelegate))
	m.HandleFunc("GET /app/vitality", a.authed(a.vitality))
	m.HandleFunc("GET /app/notifications", a.authed(a.notificationsPage))
	m.HandleFunc("POST /app/notifications/read", a.authed(a.markNotificationsRead))
	m.HandleFunc("GET /app/data", a.authed(a.dataPage))
	m.HandleFunc("GET /app/data/export", a.authed(a.dataExport))
	m.HandleFunc("POST /app/data/erase", a.authed(a.erase))
	m.HandleFunc("POST /app/tokens/{id}/revoke", a.authed(a.revokeToken))
	m.HandleFunc("POST /app/data/claim", a.authed(a.claim))
	m.HandleFunc("POST /app/data/sign-out-others", a.authed(a.signOutOthers))
	m.HandleFunc("POST /app/data/device-code", a.authed(a.deviceCode))
	m.HandleFunc("/app/", a.anon("", func(q *req) { a.fail(q, http.StatusNotFound, "error.notFound") }))
	a.mux = m
}

// zone is the co-op's time zone: its policy's (UTC while none is loaded).
func (a *App) zone() *time.Location {
	if pol := a.cfg.Backend.Policy(); pol != nil {
		return pol.Location()
	}
	return time.UTC
}

func (a *App) newReq(w http.ResponseWriter, r *http.Request) *req {
	return &req{w: w, r: r, lang: a.language(w, r), zone: a.zone()}
}

// limited applies the service's rate limit to the request's client: a member once signed
// in, else its address's budget for this kind of request (the sign-in's).
func (a *App) limited(q *req, client string) bool {
	if a.cfg.Limit == nil {
		return false
	}
	ok, retry := a.cfg.Limit(client)
	if ok {
		return false
	}
	a.tooMany(q, retry)
	return true
}

// tooMany answers a client over its budget: 429 with Retry-After (whole seconds).
func (a *App) tooMany(q *req, retryAfter int) {
	q.w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	a.fail(q, http.StatusTooManyRequests, "error.tooMany")
}

// anon serves a page that needs no session (the sign-in form and its post, errors).
// perAddress names the address's budget the page takes from ("sign-in"); "" for a page
// that costs no query (the sign-in form, the way to it, errors): refusing it would cost
// what serving it does, and a flood of other requests does not keep members from it. A
// signed-in member's request counts in the member's budget.
func (a *App) anon(perAddress string, h func(*req)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := a.newReq(w, r)
		if perAddress != "" && a.limited(q, perAddress+":"+a.clientIP(r)) {
			return
		}
		// A page for anyone: a session that cannot be read is served as none, and so is
		// one whose address has spent its budget of sessions not known to be valid.
		s, err := a.session(q)
		var refused *refusedLookup
		switch {
		case err == nil:
			if a.limited(q, "member:"+strconv.FormatInt(s.MemberID, 10)) {
				return
			}
			q.member, q.csrf = memberOf(s), s.CSRFToken
		case errors.As(err, &refused), errors.Is(err, store.ErrNotFound):
		default:
			a.logFailure(q, "session lookup failed", err)
		}
		h(q)
	}
}

// authed serves a page for a signed-in member: without a valid session a GET goes to the
// sign-in form and a POST is refused; every POST needs the session's CSRF token. While the
// session cannot be read (the database is down) the answer is 503 with Retry-After, as the
// API's: the member is not sent to sign in again, nor told their session ended.
func (a *App) authed(h func(*req)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := a.newReq(w, r)
		s, err := a.session(q)
		var refused *refusedLookup
		switch {
		case errors.As(err, &refused):
			a.tooMany(q, refused.retryAfter)
			return
		case err != nil && !errors.Is(err, store.ErrNotFound):
			// Members behind one address are told the service is down, not "too many".
			a.unavailable(q, "session lookup failed", err)
			return
		case err != nil:
			// No session: nothing more is counted per address (a cookie not known to be valid
			// was, by its lookup), so the way to the sign-in form stays open whatever else
			// comes from the address.
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/app/sign-in?expired=1", http.StatusSeeOther)
				return
			}
			a.fail(q, http.StatusUnauthorized, "error.signInFirst")
			return
		}
		if a.limited(q, "member:"+strconv.FormatInt(s.MemberID, 10)) {
			return
		}
		q.member, q.csrf = memberOf(s), s.CSRFToken
		if r.Method == http.MethodPost {
			if !a.readForm(q) {
				return
			}
			if !sameToken(r.PostForm.Get("csrf"), s.CSRFToken) {
				a.fail(q, http.StatusForbidden, "error.csrf")
				return
			}
		}
		h(q)
	}
}

// maxForm bounds the body of a form's post (the catalogues' error.tooLarge says so).
const maxForm = 64 << 10

// readForm reads a post's form, of at most maxForm bytes. A body over it answers 413; one
// that cannot be read as a form answers 403, as a form without its CSRF token does. It
// reports whether the form was read (false: the answer is written).
func (a *App) readForm(q *req) bool {
	q.r.Body = http.MaxBytesReader(q.w, q.r.Body, maxForm)
	err := q.r.ParseForm()
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		a.fail(q, http.StatusRequestEntityTooLarge, "error.tooLarge")
		return false
	case err != nil:
		a.fail(q, http.StatusForbidden, "error.csrf")
		return false
	}
	return true
}

// unavailable answers a request whose data the database could not read or write: 503 with
// Retry-After (the API's) and the "unavailable" page, rather than sending the member to
// sign in again or telling them their session ended; what and err are logged as an error.
// When the client went away first, its query was cancelled with its request, which is no
// failure of the service: the answer, which nobody reads, is the API's 499, and the log
// says so at debug level.
func (a *App) unavailable(q *req, what string, err error) {
	if !a.logFailure(q, what, err) {
		q.w.WriteHeader(statusClientClosed)
		return
	}
	q.w.Header().Set("Retry-After", strconv.Itoa(unavailableRetry))
	a.fail(q, http.StatusServiceUnavailable, "error.unavailable")
}

// statusClientClosed answers a request its client cancelled, as the API does.
const statusClientClosed = 499

// logFailure logs a failed query as an error and returns true, unless the client went
// away first (its request's context is done): then it logs at debug level and returns
// false.
func (a *App) logFailure(q *req, what string, err error) bool {
	if errors.Is(err, context.Canceled) || q.r.Context().Err() != nil {
		a.log.Debug(what+": the client went away", "error", err)
		return false
	}
	a.log.Error(what, "error", err)
	return true
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// unavailableRetry is the Retry-After, in seconds, of a 503 while the session cannot be
// read: the API's.
const unavailableRetry = 5

// session reads the request's session: store.ErrNotFound without a cookie or a session
// that is valid at the service's clock; a *refusedLookup when its address has spent its
// budget of credentials not known to be valid (Config.LookUpCredential), and it was not
// looked up; another error when it could not be read.
func (a *App) session(q *req) (sessions.Session, error) {
	c, err := q.r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return sessions.Session{}, store.ErrNotFound
	}
	sum := sha256.Sum256([]byte(c.Value))
	var s sessions.Session
	lookup := func() (err error) {
		s, err = sessions.On(a.cfg.DB).Lookup(q.r.Context(), sum[:], a.cfg.Now())
		return err
	}
	if a.cfg.LookUpCredential == nil {
		err = lookup()
	} else {
		var retry int
		retry, err = a.cfg.LookUpCredential(q.r, sum, lookup)
		if retry > 0 {
			return s, &refusedLookup{retryAfter: retry}
		}
	}
	if err == nil {
		// When it was last used, coarsely (sessions.SeenEvery): the member's list of their
		// sessions says it. Not recorded is no reason to refuse the request.
		if err := sessions.On(a.cfg.DB).Seen(q.r.Context(), sum[:], s.LastSeen, a.cfg.Now()); err != nil {
			a.log.Error("recording when a session was last used failed", "error", err)
		}
	}
	return s, err
}

// refusedLookup: a session was not looked up, its address over its budget of credentials
// not known to be valid; it may try again in retryAfter seconds.
type refusedLookup struct{ retryAfter int }

func (e *refusedLookup) Error() string {
	return "too many sessions not known to be valid from this address; retry in " + strconv.Itoa(e.retryAfter) + "s"
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// setCookie sets (maxAge > 0) or clears (maxAge < 0) one of the app's __Host- cookies:
// Secure, Path=/ and no Domain, which that prefix requires.
func setCookie(w http.ResponseWriter, name, value string, maxAge int, strict bool) {
	ss := http.SameSiteLaxMode
	if strict {
		ss = http.SameSiteStrictMode
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: true, SameSite: ss})
}

// clientIP is the address of r's client (Config.ClientIP), the peer's by default.
func (a *App) clientIP(r *http.Request) string {
	if a.cfg.ClientIP != nil {
		return a.cfg.ClientIP(r)
	}
	return clientip.Resolver{}.Of(r)
}

// render writes a page.
func (a *App) render(q *req, status int, name, titleKey string, p page) {
	t, ok := a.pages[name]
	if !ok {
		panic("no page template " + name)
	}
	p.Lang, p.Member, p.Path, p.Status, p.Name, p.Zone = q.lang, q.member, q.r.URL.Path, status, name, q.zone
	if p.CSRF == "" {
		p.CSRF = q.csrf
	}
	p.Title = tr(q.lang, titleKey)
	p.OtherLang = "fr"
	if q.lang == "fr" {
		p.OtherLang = "en"
	}
	p.OtherLangHref = a.langHref(q.r, p.OtherLang)
	if pol := a.cfg.Backend.Policy(); pol != nil {
		p.Coop = pol.Cooperative
		p.Shop, p.Vertical = pol.Vertical == "marketplace", pol.Vertical
		p.Requests = q.member != nil && policy.RequestsWork(pol.Vertical, q.member.Roles)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		a.log.Error("rendering a page failed", "page", name, "error", err)
		http.Error(q.w, "internal error", http.StatusInternalServerError)
		return
	}
	q.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	q.w.Header().Set("Content-Language", q.lang)
	q.w.WriteHeader(status)
	_, _ = q.w.Write(buf.Bytes())
}

// langHref is the link to the page r asked for in lang: its path and the parameters of its
// address (a form's values, sent in its body, are not among them), ?lang= set to lang.
// A path that is not the app's (none reaches a page) links to the app's first page. A
// page shown after a form was sent (a refusal) links to the nearest page above the form's
// address that a link can read (the work's page for /app/work/5/cancel), as the form's
// own address has none.
func (a *App) langHref(r *http.Request, lang string) string {
	path := r.URL.EscapedPath()
	if !strings.HasPrefix(path, "/app/") {
		path = "/app/"
	}
	v := r.URL.Query()
	if r.Method != http.MethodGet {
		v = url.Values{}
		for path != "/app/" && !a.readable(path) {
			path = strings.TrimSuffix(path[:strings.LastIndex(strings.TrimSuffix(path, "/"), "/")+1], "/")
			if path == "/app" || path == "" {
				path = "/app/"
			}
		}
	}
	v.Set("lang", lang)
	return path + "?" + v.Encode()
}

// readable says whether a GET of path reaches a page of the app.
func (a *App) readable(path string) bool {
	_, pattern := a.mux.Handler(&http.Request{Method: http.MethodGet, URL: &url.URL{Path: path}, Host: "app"})
	return pattern != "" && pattern != "/app/" && pattern != "GET /app/{$}"
}

// fail renders the error page with a status and a message key.
func (a *App) fail(q *req, status int, key string) {
	a.render(q, status, "error", "error.title", page{Data: map[string]string{"Message": tr(q.lang, key)}})
}

// failAPI renders the error page for an API answer that was not a success.
func (a *App) failAPI(q *req, status int, body []byte) {
	key := "error.generic"
	switch status {
	case http.StatusNotFound:
		key = "error.notFound"
	case http.StatusForbidden:
		key = "error.forbidden"
	case http.StatusConflict:
		key = "error.conflict"
	case http.StatusServiceUnavailable:
		key = "error.unavailable"
	case http.StatusTooManyRequests:
		key = "error.tooMany"
	}
	detail := apiMessage(q.lang, q.zone, body)
	if status >= 500 && status != http.StatusServiceUnavailable {
		detail = ""
	}
	a.render(q, status, "error", "error.title", page{Data: map[string]string{"Message": tr(q.lang, key), "Detail": detail}})
}

// apiErr is the API's error body.
type apiErr struct {
	Error struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"error"`
}

func parseAPIErr(body []byte) (field, message string) {
	var e apiErr
	_ = json.Unmarshal(body, &e)
	return e.Error.Field, e.Error.Message
}

// apiMessage is the API's error message in the member's language where the catalogue
// has it, else as the API wrote it.
func apiMessage(lang string, zone *time.Location, body []byte) string {
	_, msg := parseAPIErr(body)
	return trAPI(lang, zone, msg)
}

// fieldIndex reads the index of a list's item in the field an API refusal names: for
// "stops[2].notes" and the list "stops", 2 and ".notes"; ok is false when fld names no
// item of the list, or one outside [0, n).
func fieldIndex(fld, list string, n int) (i int, rest string, ok bool) {
	after, found := strings.CutPrefix(fld, list+"[")
	if !found {
		return 0, "", false
	}
	index, rest, _ := strings.Cut(after, "]")
	i, err := strconv.Atoi(index)
	if err != nil || i < 0 || i >= n {
		return 0, "", false
	}
	return i, rest, true
}

// create posts a form's new record to the API (path, body): created, it redirects to done;
// refused other than with a 400, it shows the error page; either way the answer is
// written and ok is false. On a 400 ok is true, with the field the API names and its
// message in the member's language, for the form to show again.
func (a *App) create(q *req, path string, body any, done string) (field, message string, ok bool) {
	st, rb := a.call(q, http.MethodPost, path, body, nil)
	switch st {
	case http.StatusCreated:
		a.redirect(q, done)
		return "", "", false
	case http.StatusBadRequest:
		field, _ = parseAPIErr(rb)
		return field, apiMessage(q.lang, q.zone, rb), true
	}
	a.failAPI(q, st, rb)
	return "", "", false
}

// call runs an API route as the signed-in member; body (if not nil) is sent as JSON. A body
// that cannot be encoded (a page's bug: the forms' values are checked first) is not sent:
// the answer is a 500 with the API's error shape.
func (a *App) call(q *req, method, path string, body any, header http.Header) (int, []byte) {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			a.log.Error("encoding an API request failed", "method", method, "path", path, "error", err)
			return http.StatusInternalServerError, []byte(`{"error":{"message":"internal error"}}`)
		}
	}
	return a.cfg.Backend.Call(q.r.Context(), *q.member, method, path, header, b)
}

// get runs a GET and decodes a 200 answer into v; otherwise it renders the error page and
// returns false.
func (a *App) get(q *req, path string, v any) bool {
	st, body := a.call(q, http.MethodGet, path, nil, nil)
	if st != http.StatusOK {
		a.failAPI(q, st, body)
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		a.log.Error("decoding an API answer failed", "path", path, "error", err)
		a.fail(q, http.StatusInternalServerError, "error.generic")
		return false
	}
	return true
}

func (a *App) redirect(q *req, to string) {
	http.Redirect(q.w, q.r, to, http.StatusSeeOther)
}

func (m *Member) Has(role string) bool {
	if m == nil {
		return false
	}
	for _, r := range m.Roles {
		if r == role {
			return true
		}
	}
	return false
}
