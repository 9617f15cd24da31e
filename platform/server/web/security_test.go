package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server"
)

// The app's cookies, by the names the browser sends back: their __Host- prefix keeps any
// other host (a sibling subdomain) from setting them.
const (
	sessionCookie = "__Host-coop_session"
	csrfCookie    = "__Host-coop_csrf"
)

// session is a browser-less client of the app: it keeps the cookies it is given (Go's
// cookie jar would not send Secure cookies it got over the test's TLS either way) and
// does not follow redirects, so each answer is seen as it is.
type session struct {
	t       *testing.T
	c       *coop
	cookies map[string]*http.Cookie
}

func (c *coop) session(t *testing.T) *session {
	return &session{t: t, c: c, cookies: map[string]*http.Cookie{}}
}

type answer struct {
	status int
	body   string
	header http.Header
}

func (s *session) do(method, path string, form url.Values, headers ...string) answer {
	s.t.Helper()
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, s.c.url+path, rd)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	for _, ck := range s.cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	client := *s.c.client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 {
			delete(s.cookies, ck.Name)
		} else {
			s.cookies[ck.Name] = ck
		}
	}
	return answer{resp.StatusCode, string(b), resp.Header}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (p answer) csrf(t *testing.T) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF token on the page (status %d)", p.status)
	}
	return m[1]
}

// signIn exchanges a code for a session through the form and returns the CSRF token of
// the signed-in pages.
func (s *session) signIn(code string) string {
	s.t.Helper()
	form := s.do("GET", "/app/sign-in", nil)
	p := s.do("POST", "/app/sign-in", url.Values{"csrf": {form.csrf(s.t)}, "code": {code}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/app/home" {
		s.t.Fatalf("sign-in answered %d to %q: %.500s", p.status, p.header.Get("Location"), p.body)
	}
	home := s.do("GET", "/app/home", nil)
	if home.status != http.StatusOK {
		s.t.Fatalf("home after sign-in: %d", home.status)
	}
	return home.csrf(s.t)
}

// The session cookie is HttpOnly, Secure and SameSite, holds no token of the API, and
// the code never appears in a URL: it is posted, and the answer redirects to /app/home.
func TestSecurity_SignInCookieAndCode(t *testing.T) {
	c := newCoop(t)
	id, tok := c.member("Ana Driver", "worker")
	s := c.session(t)
	code := c.code(id)
	s.signIn(code)
	ck := s.cookies[sessionCookie]
	if ck == nil || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" {
		t.Fatalf("session cookie %+v: want HttpOnly, Secure, SameSite=Lax, Path=/, no Domain (its __Host- prefix)", ck)
	}
	if strings.Contains(ck.Value, tok) || strings.Contains(ck.Value, code) {
		t.Fatal("the session cookie carries the API token or the code")
	}
	var n int
	if err := c.owner.QueryRow(t.Context(), `SELECT count(*) FROM web_sessions WHERE id_hash = sha256(convert_to($1, 'UTF8'))`, ck.Value).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the session is not stored by its hash: %d, %v", n, err)
	}
	// A code works once.
	s2 := c.session(t)
	form := s2.do("GET", "/app/sign-in", nil)
	if p := s2.do("POST", "/app/sign-in", url.Values{"csrf": {form.csrf(t)}, "code": {code}}); p.status != http.StatusUnauthorized || !strings.Contains(p.body, `id="code-error"`) {
		t.Fatalf("a used code answered %d", p.status)
	}
	// Typed in lower case with spaces, a fresh code works.
	fresh := c.code(id)
	s3 := c.session(t)
	form = s3.do("GET", "/app/sign-in", nil)
	if p := s3.do("POST", "/app/sign-in", url.Values{"csrf": {form.csrf(t)}, "code": {" " + strings.ToLower(strings.ReplaceAll(fresh, "-", " ")) + " "}}); p.status != http.StatusSeeOther {
		t.Fatalf("a code typed as read answered %d", p.status)
	}
	// An expired code (24 hours) is refused.
	old := c.code(id)
	c.clock.Step(24*time.Hour + time.Minute)
	s4 := c.session(t)
	form = s4.do("GET", "/app/sign-in", nil)
	if p := s4.do("POST", "/app/sign-in", url.Values{"csrf": {form.csrf(t)}, "code": {old}}); p.status != http.StatusUnauthorized {
		t.Fatalf("an expired code answered %d", p.status)
	}
	// A sign-in post without the form's CSRF cookie is refused (login CSRF).
	s5 := c.session(t)
	if p := s5.do("POST", "/app/sign-in", url.Values{"csrf": {"forged"}, "code": {c.code(id)}}); p.status != http.StatusForbidden {
		t.Fatalf("a sign-in without the CSRF cookie answered %d", p.status)
	}
}

// The sign-in form shown twice (two tabs) keeps one CSRF token: the older form still
// signs in. A cookie the app could not have made is replaced, and the cookie keeps its
// attributes; a post whose token is not the cookie's is still refused.
func TestSecurity_SignInFormInTwoTabs(t *testing.T) {
	c := newCoop(t)
	id, _ := c.member("Ana Driver", "worker")
	s := c.session(t)
	first := s.do("GET", "/app/sign-in", nil)
	second := s.do("GET", "/app/sign-in", nil)
	if first.csrf(t) != second.csrf(t) {
		t.Fatal("the second sign-in form has another CSRF token than the first")
	}
	ck := s.cookies[csrfCookie]
	if ck == nil || ck.Value != first.csrf(t) || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Domain != "" || ck.MaxAge != 3600 {
		t.Fatalf("CSRF cookie %+v: want the form's token, HttpOnly, Secure, SameSite=Strict, Path=/, no Domain (its __Host- prefix), an hour", ck)
	}
	// Another token: its first character changed (to one it is not: a random token starts
	// with "x" one time in 64).
	other := "x" + first.csrf(t)[1:]
	if other == first.csrf(t) {
		other = "y" + first.csrf(t)[1:]
	}
	if p := s.do("POST", "/app/sign-in", url.Values{"csrf": {other}, "code": {c.code(id)}}); p.status != http.StatusForbidden {
		t.Fatalf("a sign-in with a token not the cookie's answered %d", p.status)
	}
	if p := s.do("POST", "/app/sign-in", url.Values{"csrf": {first.csrf(t)}, "code": {c.code(id)}}); p.status != http.StatusSeeOther || p.header.Get("Location") != "/app/home" {
		t.Fatalf("the first tab's sign-in answered %d to %q", p.status, p.header.Get("Location"))
	}
	if _, ok := s.cookies[csrfCookie]; ok {
		t.Fatal("the sign-in CSRF cookie outlived the sign-in")
	}
	// A cookie not of the app's making (planted, or cut) is not rendered back.
	for _, bad := range []string{"planted", first.csrf(t)[:20], strings.Repeat("A", 44)} {
		s2 := c.session(t)
		s2.cookies[csrfCookie] = &http.Cookie{Name: csrfCookie, Value: bad}
		p := s2.do("GET", "/app/sign-in", nil)
		if tok := p.csrf(t); tok == bad || s2.cookies[csrfCookie].Value != tok {
			t.Fatalf("cookie %q: form token %q, cookie now %q: want a new token in both", bad, tok, s2.cookies[csrfCookie].Value)
		}
	}
}

// TestSecurity_CookiesBoundToTheHost: the app reads its cookies only by their __Host-
// names, which a browser takes from the app's own host alone (Secure, Path=/, no Domain).
// A sibling subdomain can set a plain cookie for the parent domain; such cookies, named as
// the app's were before, are not read: a planted CSRF cookie signs nobody in with the
// planter's code (login CSRF), and a planted session secret opens nobody's pages. The JSON
// API, to which the session cookie now goes too (Path=/), does not take it as credentials.
func TestSecurity_CookiesBoundToTheHost(t *testing.T) {
	c := newCoop(t)
	planter, _ := c.member("Mal Planter", "worker")
	victim, _ := c.member("Ana Driver", "worker")
	own := c.session(t)
	own.signIn(c.code(planter))
	secret := own.cookies[sessionCookie].Value

	browser := c.session(t)
	browser.cookies["coop_csrf"] = &http.Cookie{Name: "coop_csrf", Value: strings.Repeat("A", 43)}
	p := browser.do("POST", "/app/sign-in", url.Values{"csrf": {strings.Repeat("A", 43)}, "code": {c.code(planter)}})
	if p.status != http.StatusForbidden || browser.cookies[sessionCookie] != nil {
		t.Fatalf("a sign-in with a planted plain CSRF cookie answered %d (session cookie %v), want 403 and none", p.status, browser.cookies[sessionCookie])
	}
	browser.cookies["coop_session"] = &http.Cookie{Name: "coop_session", Value: secret}
	if p := browser.do("GET", "/app/home", nil); p.status != http.StatusSeeOther || strings.Contains(p.body, "Mal Planter") {
		t.Fatalf("a planted plain session cookie served %d, want the way to the sign-in form", p.status)
	}
	// The browser's own sign-in is the victim's.
	browser.signIn(c.code(victim))
	if p := browser.do("GET", fmt.Sprintf("/app/members/%d/earnings", victim), nil); p.status != http.StatusOK {
		t.Fatalf("the victim's own earnings after their sign-in: %d", p.status)
	}

	// The API takes bearer tokens only: the session cookie is no credential there.
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/v1/members/%d", c.url, planter), nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: secret})
	resp, err := c.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the API with the session cookie and no token answered %d, want 401", resp.StatusCode)
	}
}

// Who may issue a sign-in code: staff for anyone, a member for themselves; not for
// another member, not for an inactive member, not without a token.
func TestSecurity_SignInCodeIssuers(t *testing.T) {
	c := newCoop(t)
	a, aTok := c.member("Ana Driver", "worker")
	b, _ := c.member("Bo Rider", "customer")
	c.must(http.StatusCreated, "POST", fmt.Sprintf("/v1/members/%d/sign-in-codes", a), aTok, nil)
	c.must(http.StatusForbidden, "POST", fmt.Sprintf("/v1/members/%d/sign-in-codes", b), aTok, nil)
	c.must(http.StatusUnauthorized, "POST", fmt.Sprintf("/v1/members/%d/sign-in-codes", b), "", nil)
	c.must(http.StatusNotFound, "POST", "/v1/members/999/sign-in-codes", adminToken, nil)
	// Deactivating a member ends their sessions and voids their codes.
	code := c.code(b)
	s := c.session(t)
	s.signIn(c.code(b))
	c.must(http.StatusOK, "PATCH", fmt.Sprintf("/v1/members/%d", b), adminToken, map[string]any{"active": false})
	c.must(http.StatusConflict, "POST", fmt.Sprintf("/v1/members/%d/sign-in-codes", b), adminToken, nil)
	if p := s.do("GET", "/app/home", nil); p.status != http.StatusSeeOther {
		t.Fatalf("a deactivated member's session still serves: %d", p.status)
	}
	s2 := c.session(t)
	form := s2.do("GET", "/app/sign-in", nil)
	if p := s2.do("POST", "/app/sign-in", url.Values{"csrf": {form.csrf(t)}, "code": {code}}); p.status != http.StatusUnauthorized {
		t.Fatalf("a deactivated member's code answered %d", p.status)
	}
}

// Revoking a member token (one that leaked, say) voids the sign-in codes it issued and
// ends the sessions they opened: a stolen token cannot be turned into a session that
// outlives it. What another token, or staff, issued stays.
func TestSecurity_RevokedTokenEndsItsSessionsAndCodes(t *testing.T) {
	c := newCoop(t)
	a, leaked := c.member("Ana Driver", "worker")
	second := c.must(http.StatusCreated, "POST", fmt.Sprintf("/v1/members/%d/tokens", a), leaked, nil)["token"].(string)
	codeWith := func(tok string) string {
		return c.must(http.StatusCreated, "POST", fmt.Sprintf("/v1/members/%d/sign-in-codes", a), tok, nil)["code"].(string)
	}
	thief := c.session(t)
	thief.signIn(codeWith(leaked))
	unused := codeWith(leaked)
	own := c.session(t)
	own.signIn(codeWith(second))
	staff := c.session(t)
	staff.signIn(c.code(a))
	spare := codeWith(second)

	// The member's first token is the leaked one.
	var ids []int64
	for _, tk := range c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d/tokens", a), second, nil)["tokens"].([]any) {
		ids = append(ids, int64(tk.(map[string]any)["id"].(float64)))
	}
	if len(ids) != 2 {
		t.Fatalf("tokens %v", ids)
	}
	c.must(http.StatusOK, "DELETE", fmt.Sprintf("/v1/members/%d/tokens/%d", a, min(ids[0], ids[1])), second, nil)

	if p := thief.do("GET", "/app/home", nil); p.status != http.StatusSeeOther {
		t.Fatalf("the session opened with the revoked token's code still serves: %d", p.status)
	}
	s := c.session(t)
	form := s.do("GET", "/app/sign-in", nil)
	if p := s.do("POST", "/app/sign-in", url.Values{"csrf": {form.csrf(t)}, "code": {unused}}); p.status != http.StatusUnauthorized {
		t.Fatalf("an unused code of the revoked token answered %d", p.status)
	}
	for name, other := range map[string]*session{"the other token's": own, "staff's": staff} {
		if p := other.do("GET", "/app/home", nil); p.status != http.StatusOK {
			t.Errorf("%s session ended with the revoked token: %d", name, p.status)
		}
	}
	c.session(t).signIn(spare)
}

// A sign-in that races a deactivation leaves no session behind. Here the deactivation
// comes while the sign-in is under way (the test holds the code's row, so the sign-in
// waits there): the deactivation waits for the sign-in, and then ends its session. Before,
// the deactivation ended the sessions it saw, the sign-in then opened one, hidden while
// the member was inactive, and it came back when staff reactivated them.
func TestSecurity_SignInRacingADeactivation(t *testing.T) {
	c := newCoop(t)
	a, _ := c.member("Ana Driver", "worker")
	code := c.code(a)
	s := c.session(t)
	form := s.do("GET", "/app/sign-in", nil)

	ctx := t.Context()
	hold, err := c.owner.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = hold.Rollback(ctx) }()
	if _, err := hold.Exec(ctx, `SELECT 1 FROM sign_in_codes WHERE member_id = $1 FOR UPDATE`, a); err != nil {
		t.Fatal(err)
	}
	waitingOnLocks := func(n int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			var waiting int
			if err := c.owner.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`).Scan(&waiting); err != nil {
				t.Fatal(err)
			}
			if waiting >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d statement(s) waiting on a lock, want %d", waiting, n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	signedIn := make(chan answer, 1)
	go func() { signedIn <- s.do("POST", "/app/sign-in", url.Values{"csrf": {form.csrf(t)}, "code": {code}}) }()
	waitingOnLocks(1) // the sign-in, on the code's row
	deactivated := make(chan error, 1)
	go func() {
		_, err := c.owner.Exec(ctx, `UPDATE members SET active = false WHERE id = $1`, a)
		deactivated <- err
	}()
	waitingOnLocks(2) // and the deactivation
	if err := hold.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if p := <-signedIn; p.status != http.StatusSeeOther {
		t.Fatalf("the sign-in answered %d", p.status)
	}
	if err := <-deactivated; err != nil {
		t.Fatal(err)
	}
	c.must(http.StatusOK, "PATCH", fmt.Sprintf("/v1/members/%d", a), adminToken, map[string]any{"active": true})
	if p := s.do("GET", "/app/home", nil); p.status != http.StatusSeeOther {
		t.Fatalf("after reactivation, the session opened during the deactivation serves: %d", p.status)
	}
}

// A member cannot see another member's earnings (403) or another's work and payment
// (404), nor act on someone else's work: the app answers what the API answers.
func TestSecurity_AnotherMembersPages(t *testing.T) {
	c := newCoop(t)
	ana, anaTok := c.member("Ana Driver", "worker")
	bo, _ := c.member("Bea Driver", "worker")
	_, custTok := c.member("Cy Rider", "customer")
	work := c.request(custTok, 2000) // offered to Ana (lower id, never assigned)
	for _, step := range []string{"accept", "start", "complete"} {
		c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/%s", work, step), anaTok, nil)
	}
	w := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/work/%d", work), anaTok, nil)
	payment := int64(w["paymentId"].(float64))

	s := c.session(t)
	csrf := s.signIn(c.code(bo))
	if p := s.do("GET", fmt.Sprintf("/app/members/%d/earnings", ana), nil); p.status != http.StatusForbidden || strings.Contains(p.body, "19.40") {
		t.Fatalf("another member's earnings: %d", p.status)
	}
	if p := s.do("GET", fmt.Sprintf("/app/members/%d/earnings", bo), nil); p.status != http.StatusOK {
		t.Fatalf("own earnings: %d", p.status)
	}
	for _, path := range []string{fmt.Sprintf("/app/work/%d", work), fmt.Sprintf("/app/payments/%d", payment)} {
		if p := s.do("GET", path, nil); p.status != http.StatusNotFound || strings.Contains(p.body, "Bellecour") {
			t.Fatalf("%s of another member: %d", path, p.status)
		}
	}
	// A path without a valid id is a 404 page too, not an empty answer.
	for _, path := range []string{"/app/work/abc", "/app/work/0", "/app/payments/abc"} {
		if p := s.do("GET", path, nil); p.status != http.StatusNotFound || !strings.Contains(p.body, "</html>") {
			t.Errorf("%s: %d, want the 404 page", path, p.status)
		}
	}
	for _, action := range []string{"accept", "decline", "start", "complete", "cancel", "rate", "pay", "block", "unblock"} {
		p := s.do("POST", fmt.Sprintf("/app/work/%d/%s", work, action), url.Values{"csrf": {csrf}, "stars": {"1"}, "amount": {"1.00"}, "key": {"k"}, "confirm": {"yes"}})
		if p.status != http.StatusNotFound {
			t.Errorf("%s on another member's work: %d, want 404", action, p.status)
		}
	}
	got := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/work/%d", work), anaTok, nil)
	if got["state"] != "completed" || got["rating"] != nil {
		t.Fatalf("the work changed: %v", got)
	}
}

// Every form post needs the session's CSRF token: without it, or with another session's,
// the app answers 403 and changes nothing.
func TestSecurity_PostsWithoutCSRFRefused(t *testing.T) {
	c := newCoop(t)
	ana, _ := c.member("Ana Driver", "worker")
	bo, _ := c.member("Bea Driver", "worker")
	s := c.session(t)
	s.signIn(c.code(ana))
	other := c.session(t)
	otherCSRF := other.signIn(c.code(bo))
	for _, form := range []url.Values{{"available": {"false"}}, {"available": {"false"}, "csrf": {otherCSRF}}, {"available": {"false"}, "csrf": {""}}} {
		if p := s.do("POST", "/app/availability", form); p.status != http.StatusForbidden {
			t.Fatalf("availability post with csrf %q: %d, want 403", form.Get("csrf"), p.status)
		}
	}
	for _, path := range []string{"/app/data/erase", "/app/sign-out", "/app/delegation/remove", "/app/proposals/1/ballot", "/app/request", "/app/notifications/read"} {
		if p := s.do("POST", path, url.Values{"confirm": {"yes"}, "choice": {"yes"}}); p.status != http.StatusForbidden {
			t.Errorf("POST %s without CSRF: %d, want 403", path, p.status)
		}
	}
	m := c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d", ana), adminToken, nil)
	if m["available"] != true || m["active"] != true {
		t.Fatalf("a refused post changed the member: %v", m)
	}
	// Without a session a post is 401, a page redirects to the sign-in form.
	anon := c.session(t)
	if p := anon.do("POST", "/app/availability", url.Values{"available": {"false"}}); p.status != http.StatusUnauthorized {
		t.Fatalf("anonymous post: %d", p.status)
	}
	if p := anon.do("GET", "/app/home", nil); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/app/sign-in") {
		t.Fatalf("anonymous page: %d %q", p.status, p.header.Get("Location"))
	}
}

// A session ends 12 hours after sign-in (the service's clock), and at sign-out.
func TestSecurity_SessionExpires(t *testing.T) {
	c := newCoop(t)
	ana, _ := c.member("Ana Driver", "worker")
	s := c.session(t)
	csrf := s.signIn(c.code(ana))
	c.clock.Step(11 * time.Hour)
	if p := s.do("GET", "/app/home", nil); p.status != http.StatusOK {
		t.Fatalf("after 11 hours: %d", p.status)
	}
	c.clock.Step(time.Hour + time.Second)
	if p := s.do("GET", "/app/home", nil); p.status != http.StatusSeeOther || p.header.Get("Location") != "/app/sign-in?expired=1" {
		t.Fatalf("after 12 hours: %d %q", p.status, p.header.Get("Location"))
	}
	if p := s.do("POST", "/app/availability", url.Values{"csrf": {csrf}, "available": {"false"}}); p.status != http.StatusUnauthorized {
		t.Fatalf("post after expiry: %d", p.status)
	}
	// Sign-out ends the session at once.
	s2 := c.session(t)
	csrf = s2.signIn(c.code(ana))
	old := s2.cookies[sessionCookie].Value
	if p := s2.do("POST", "/app/sign-out", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", p.status)
	}
	s2.cookies[sessionCookie] = &http.Cookie{Name: sessionCookie, Value: old}
	if p := s2.do("GET", "/app/home", nil); p.status != http.StatusSeeOther {
		t.Fatalf("a signed-out session still serves: %d", p.status)
	}
}

// closedPortURL is a database URL on a loopback port nothing listens on.
func closedPortURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return fmt.Sprintf("postgresql://serving@127.0.0.1:%d/coop?sslmode=disable&connect_timeout=5", port)
}

// TestSecurity_DatabaseDownIs503: while the database cannot be reached, a signed-in
// member's pages answer 503 with Retry-After and the app's "unavailable" page, as the API
// does (a GET went to the sign-in form and a post answered 401, as if the session had
// ended). Without a session cookie a page still goes to the sign-in form.
func TestSecurity_DatabaseDownIs503(t *testing.T) {
	pol, err := policy.Parse([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	// A tight per-address limit: members behind one address are told the service is down,
	// not that they asked too often.
	s, err := server.New(server.Config{DatabaseURL: closedPortURL(t), AdminToken: adminToken, Policy: pol,
		RateLimit: 1, RateBurst: 3, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts := httptest.NewTLSServer(s.Handler())
	defer ts.Close()
	c := &coop{t: t, s: s, url: ts.URL, client: ts.Client()}

	if p := c.session(t).do("GET", "/app/home", nil); p.status != http.StatusSeeOther || p.header.Get("Location") != "/app/sign-in?expired=1" {
		t.Errorf("GET /app/home without a session, the database down: %d %q", p.status, p.header.Get("Location"))
	}
	// A sign-in too: the code cannot be checked.
	anon := c.session(t)
	form := anon.do("GET", "/app/sign-in", nil)
	if p := anon.do("POST", "/app/sign-in", url.Values{"csrf": {form.csrf(t)}, "code": {"ABCDE-FGHJK"}}); p.status != http.StatusServiceUnavailable ||
		p.header.Get("Retry-After") != "5" || !strings.Contains(p.body, "The service is unavailable right now") {
		t.Errorf("POST /app/sign-in, the database down: %d (Retry-After %q) %.300s", p.status, p.header.Get("Retry-After"), p.body)
	}
	signedIn := c.session(t)
	signedIn.cookies[sessionCookie] = &http.Cookie{Name: sessionCookie, Value: "a-session-the-app-cannot-read-now"}
	for _, r := range []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/app/home", nil},
		{"POST", "/app/availability", url.Values{"csrf": {"a-csrf-token"}, "available": {"false"}}},
		{"GET", "/app/home", nil},
		{"GET", "/app/offers", nil},
		{"GET", "/app/home", nil},
	} {
		p := signedIn.do(r.method, r.path, r.form)
		if p.status != http.StatusServiceUnavailable || p.header.Get("Retry-After") != "5" || !strings.Contains(p.body, "The service is unavailable right now") {
			t.Errorf("%s %s with a session cookie, the database down: %d (Retry-After %q, Location %q) %.300s",
				r.method, r.path, p.status, p.header.Get("Retry-After"), p.header.Get("Location"), p.body)
		}
	}
}

// TestSecurity_SignInPostTooLarge: a sign-in post over the forms' limit (64 KiB) answers
// 413 and the "too large" page, as every other form does, not 403 as if it had no CSRF
// token; the code it carried is not used.
func TestSecurity_SignInPostTooLarge(t *testing.T) {
	c := newCoop(t)
	id, _ := c.member("Ana Driver", "worker")
	code := c.code(id)
	s := c.session(t)
	form := s.do("GET", "/app/sign-in", nil)
	p := s.do("POST", "/app/sign-in", url.Values{"csrf": {form.csrf(t)}, "code": {code}, "pad": {strings.Repeat("x", 64<<10)}})
	if p.status != http.StatusRequestEntityTooLarge || !strings.Contains(p.body, "too large for this form") {
		t.Fatalf("a sign-in post over 64 KiB: %d %.300s", p.status, p.body)
	}
	s.signIn(code)
}

// syncBuffer is a log's destination the server's goroutines may write while a test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestSignInByAClientThatWentAway: a sign-in whose client went away (its request's context
// is cancelled, and with it the query) is no failure of the service: it answers the API's
// 499 and logs no error, as the API does. Before, it logged "sign-in failed" and a 503.
func TestSignInByAClientThatWentAway(t *testing.T) {
	var logs syncBuffer
	c := newCoopLogging(t, testPolicy, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	id, _ := c.member("Ana Driver", "worker")
	s := c.session(t)
	form := s.do("GET", "/app/sign-in", nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	body := url.Values{"csrf": {form.csrf(t)}, "code": {c.code(id)}}.Encode()
	req := httptest.NewRequestWithContext(ctx, "POST", "/app/sign-in", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range s.cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	rec := httptest.NewRecorder()
	c.s.Handler().ServeHTTP(rec, req)
	if rec.Code != 499 {
		t.Errorf("a sign-in whose client went away answered %d, want 499", rec.Code)
	}
	if l := logs.String(); strings.Contains(l, "level=ERROR") || !strings.Contains(l, "sign-in failed: the client went away") {
		t.Errorf("the log, want no error and the debug line of the client gone:\n%s", l)
	}
}
