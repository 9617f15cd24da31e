package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/cooperator-dev/cooperator/platform/server/store/sessions"
)

// browserSecret is the session secret the browser holds (its HttpOnly cookie).
func browserSecret(t *testing.T, ctx context.Context) string {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range res.Cookies {
		if ck.Name == sessionCookie {
			return ck.Value
		}
	}
	t.Fatal("the browser holds no session cookie")
	return ""
}

// secretForms are the ways a session's secret could be written: the secret, and its
// SHA-256 (the row's key) in hex and in base64.
func secretForms(secret string) []string {
	sum := sha256.Sum256([]byte(secret))
	return []string{secret, hex.EncodeToString(sum[:]), base64.StdEncoding.EncodeToString(sum[:]), base64.RawURLEncoding.EncodeToString(sum[:])}
}

// TestSecurity_SignOutEverywhereElse: a session opened with a code staff issued ends with
// no token, so revoking the member's tokens left it open, and no page showed it. The data
// page lists the member's open sessions (when and with what each was opened, this one
// marked, nothing secret), and "sign out everywhere else" ends every other one, whatever
// opened it: the next request of the other browser is signed out. It ends only the
// member's own: another member's post (without the CSRF token, with this member's, or
// with their own) ends none of this member's sessions.
func TestSecurity_SignOutEverywhereElse(t *testing.T) {
	c := newCoop(t)
	ana, anaTok := c.member("Ana Driver", "worker")
	bo, _ := c.member("Bea Driver", "worker")

	other := newTab(t) // a browser left signed in with a code staff issued
	c.signIn(t, other, c.code(ana))
	mine := newTab(t)
	c.signIn(t, mine, c.code(ana))
	// A session opened with a code of Ana's token, over HTTP.
	tokenSession := c.session(t)
	tokenSession.signIn(c.must(http.StatusCreated, "POST", fmt.Sprintf("/v1/members/%d/sign-in-codes", ana), anaTok, nil)["code"].(string))
	// Bea's two sessions.
	bea, beaOther := c.session(t), c.session(t)
	beaCSRF := bea.signIn(c.code(bo))
	beaOther.signIn(c.code(bo))

	secrets := map[string]string{"the other browser's": browserSecret(t, other), "this browser's": browserSecret(t, mine),
		"the token session's": tokenSession.cookies[sessionCookie].Value, "Bea's": bea.cookies[sessionCookie].Value}
	noSecrets := func(where, page string) {
		t.Helper()
		for whose, secret := range secrets {
			for _, form := range secretForms(secret) {
				if strings.Contains(page, form) {
					t.Errorf("%s shows %s session secret or its hash (%s)", where, whose, form)
				}
			}
		}
	}

	do(t, mine, chromedp.Navigate(c.url+"/app/data"))
	listed := text(t, mine, "#sessions")
	if n, err := chromedp.Run(mine, chromedp.Evaluate[int](`document.querySelectorAll('#sessions li').length`)); err != nil || n != 3 {
		t.Fatalf("the data page lists %d sessions (%v), want Ana's 3: %q", n, err, listed)
	}
	for _, want := range []string{"with a sign-in code the co-op's staff issued", "with a sign-in code of your token #", "this browser", "signed in 2026-12-01 09:00 UTC", "ends 2026-12-01 21:00 UTC"} {
		if !strings.Contains(listed, want) {
			t.Errorf("the sessions' list does not say %q: %q", want, listed)
		}
	}
	if n := strings.Count(listed, "this browser"); n != 1 {
		t.Errorf("%d sessions are marked as this browser: %q", n, listed)
	}
	page, err := chromedp.Run(mine, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if err != nil {
		t.Fatal(err)
	}
	noSecrets("the data page", page)
	anaCSRF, err := chromedp.Run(mine, chromedp.Evaluate[string](`document.querySelector('form[action="/app/data/sign-out-others"] input[name=csrf]').value`))
	if err != nil || anaCSRF == "" {
		t.Fatalf("no sign-out form with its CSRF token: %v", err)
	}
	// Bea cannot end Ana's sessions: not without the CSRF token, not with Ana's, and her
	// own sign-out everywhere else ends her other session only.
	for _, form := range []url.Values{{}, {"csrf": {anaCSRF}}} {
		if p := bea.do("POST", "/app/data/sign-out-others", form); p.status != http.StatusForbidden {
			t.Fatalf("Bea's post with csrf %q: %d, want 403", form.Get("csrf"), p.status)
		}
	}
	if p := beaOther.do("GET", "/app/home", nil); p.status != http.StatusOK {
		t.Fatalf("a refused post ended Bea's other session: %d", p.status)
	}
	if p := bea.do("POST", "/app/data/sign-out-others", url.Values{"csrf": {beaCSRF}}); p.status != http.StatusSeeOther || p.header.Get("Location") != "/app/data?done=signOutOthers" {
		t.Fatalf("Bea signs out everywhere else: %d %q", p.status, p.header.Get("Location"))
	}
	if p := beaOther.do("GET", "/app/home", nil); p.status != http.StatusSeeOther {
		t.Fatalf("Bea's other session still serves: %d", p.status)
	}
	do(t, other, chromedp.Navigate(c.url+"/app/home"))
	if loc := location(t, other); !strings.HasSuffix(loc, "/app/home") {
		t.Fatalf("Bea's sign-out ended Ana's session: at %s", loc)
	}

	// A code Ana was given and has not used yet (staff's, or one of her token's).
	spare := c.code(ana)
	// Ana signs out everywhere else from this browser.
	click(t, mine, "#sign-out-others")
	if loc := location(t, mine); !strings.HasSuffix(loc, "/app/data?done=signOutOthers") {
		t.Fatalf("after signing out everywhere else the browser is at %s", loc)
	}
	if got := text(t, mine, "#no-other-sessions"); got != "You are signed in nowhere else." {
		t.Errorf("the page says %q", got)
	}
	if n, err := chromedp.Run(mine, chromedp.Evaluate[int](`document.querySelectorAll('#sessions li').length`)); err != nil || n != 1 {
		t.Errorf("the data page lists %d sessions after (%v), want this one", n, err)
	}
	page, err = chromedp.Run(mine, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if err != nil {
		t.Fatal(err)
	}
	noSecrets("the data page after signing out everywhere else", page+location(t, mine))
	do(t, other, chromedp.Navigate(c.url+"/app/home"))
	if loc := location(t, other); !strings.Contains(loc, "/app/sign-in") {
		t.Fatalf("the other browser's next request is at %s, want the sign-in form", loc)
	}
	if p := tokenSession.do("GET", "/app/home", nil); p.status != http.StatusSeeOther {
		t.Fatalf("the session of the token's code still serves: %d", p.status)
	}
	// Nor does the unused code open another session afterwards: it ended with them.
	late := c.session(t)
	form := late.do("GET", "/app/sign-in", nil)
	if p := late.do("POST", "/app/sign-in", url.Values{"csrf": {form.csrf(t)}, "code": {spare}}); p.status == http.StatusSeeOther && p.header.Get("Location") == "/app/home" {
		t.Fatal("a code issued before signing out everywhere else still signs in")
	}
	do(t, mine, chromedp.Navigate(c.url+"/app/home"))
	if loc := location(t, mine); !strings.HasSuffix(loc, "/app/home") {
		t.Fatalf("this browser was signed out too: at %s", loc)
	}
	if p := bea.do("GET", "/app/home", nil); p.status != http.StatusOK {
		t.Fatalf("Ana's sign-out ended Bea's session: %d", p.status)
	}
}

// TestSignInOnAnotherDevice: a member signed in on one device gets a sign-in code for
// another from the data page, shown once and in no URL, which works once and for 15
// minutes (a code staff issue lasts a day); the session it opens is listed, and audited,
// as opened with a code from another of the member's sessions, not one staff issued. A
// session older than a fresh sign-in gets none (a browser left signed in must not open
// more), and another member's post without this session's CSRF token gets none either.
func TestSignInOnAnotherDevice(t *testing.T) {
	c := newCoop(t)
	ana, _ := c.member("Ana Driver", "worker")
	codes := func() int {
		t.Helper()
		var n int
		if err := c.owner.QueryRow(context.Background(), `SELECT count(*) FROM sign_in_codes WHERE member_id = $1`, ana).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if staff := c.must(http.StatusCreated, "POST", fmt.Sprintf("/v1/members/%d/sign-in-codes", ana), adminToken, nil); staff["expiresAt"] != "2026-12-02T09:00:00Z" {
		t.Fatalf("a code staff issue ends at %v, want a day later", staff["expiresAt"])
	}

	phone := newTab(t)
	c.signIn(t, phone, c.code(ana))
	do(t, phone, chromedp.Navigate(c.url+"/app/data"))
	before := codes()
	click(t, phone, "#device-code")
	code := text(t, phone, "#device-code-value")
	if !regexp.MustCompile(`^[A-Z2-9]{5}-[A-Z2-9]{5}$`).MatchString(code) {
		t.Fatalf("the page shows %q, not a sign-in code", code)
	}
	if box := text(t, phone, "#device-code-box"); !strings.Contains(box, "It works once, until 2026-12-01 09:15 UTC.") {
		t.Errorf("the code's notice says %q", box)
	}
	if loc := location(t, phone); strings.Contains(loc, code) || strings.Contains(loc, strings.ReplaceAll(code, "-", "")) {
		t.Errorf("the code is in the URL %s", loc)
	}
	if n := codes(); n != before+1 {
		t.Fatalf("%d codes were issued, want 1", n-before)
	}

	laptop := newTab(t)
	c.signIn(t, laptop, code)
	do(t, laptop, chromedp.Navigate(c.url+"/app/data"))
	if listed := text(t, laptop, "#sessions"); !strings.Contains(listed, "with a sign-in code from another of your sessions · ends 2026-12-01 21:00 UTC · this browser") ||
		!strings.Contains(listed, "with a sign-in code the co-op's staff issued") {
		t.Errorf("the laptop's sessions list: %q", listed)
	}
	if audit := text(t, laptop, "#audit"); !strings.Contains(audit, "you, with a sign-in code from another of your sessions") {
		t.Errorf("the audit does not say how the laptop signed in: %q", audit)
	}
	// The code works once.
	again := c.session(t)
	form := again.do("GET", "/app/sign-in", nil)
	if p := again.do("POST", "/app/sign-in", url.Values{"csrf": {form.csrf(t)}, "code": {code}}); p.status == http.StatusSeeOther && p.header.Get("Location") == "/app/home" {
		t.Fatal("a used code signed in again")
	}

	// Another member's post, without this session's CSRF token, gets no code.
	bo, _ := c.member("Bea Driver", "worker")
	bea := c.session(t)
	beaCSRF := bea.signIn(c.code(bo))
	s := c.session(t)
	csrf := s.signIn(c.code(ana))
	before = codes()
	for _, form := range []url.Values{{}, {"csrf": {beaCSRF}}} {
		if p := s.do("POST", "/app/data/device-code", form); p.status != http.StatusForbidden {
			t.Fatalf("a post with csrf %q: %d, want 403", form.Get("csrf"), p.status)
		}
	}
	if n := codes(); n != before {
		t.Fatalf("a refused post issued %d codes", n-before)
	}
	// A code not typed within 15 minutes ends.
	p := s.do("POST", "/app/data/device-code", url.Values{"csrf": {csrf}})
	late := regexp.MustCompile(`id="device-code-value">([A-Z2-9-]+)<`).FindStringSubmatch(p.body)
	if p.status != http.StatusOK || late == nil {
		t.Fatalf("issuing a code over HTTP: %d %.2000s", p.status, p.body)
	}
	c.clock.Step(15*time.Minute + time.Second)
	form = again.do("GET", "/app/sign-in", nil)
	if r := again.do("POST", "/app/sign-in", url.Values{"csrf": {form.csrf(t)}, "code": {late[1]}}); r.status == http.StatusSeeOther && r.header.Get("Location") == "/app/home" {
		t.Fatal("a code 15 minutes old signed in")
	}

	// The session is older than a fresh sign-in now: no code, and a form sent anyway does
	// nothing.
	p = s.do("GET", "/app/data", nil)
	if p.status != http.StatusOK || strings.Contains(p.body, `id="device-code"`) || !strings.Contains(p.body, `id="device-sign-in"`) {
		t.Fatalf("the data page of an old session: %d %.3000s", p.status, p.body)
	}
	before = codes()
	if r := s.do("POST", "/app/data/device-code", url.Values{"csrf": {csrf}}); r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/data?done=signInAgain" {
		t.Fatalf("a code from an old session: %d to %q", r.status, r.header.Get("Location"))
	}
	if n := codes(); n != before {
		t.Fatalf("an old session issued %d codes", n-before)
	}
}

// TestSessionEndsAreInTheAudit: signing out, and signing out everywhere else, are in the
// member's audit, one entry for each session ended, by the member in the session that
// ended them, saying what opened each (ids and times, never a secret), and the data page
// says them; a session that runs out is no entry.
func TestSessionEndsAreInTheAudit(t *testing.T) {
	c := newCoop(t)
	ana, anaTok := c.member("Ana Driver", "worker")
	registration := int64(c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d/tokens", ana), anaTok, nil)["tokens"].([]any)[0].(map[string]any)["id"].(float64))
	byToken, byCode, here := c.session(t), c.session(t), c.session(t)
	byToken.signIn(anaTok)
	byCode.signIn(c.code(ana))
	csrf := here.signIn(c.code(ana))
	secrets := []string{anaTok}
	for _, s := range []*session{byToken, byCode, here} {
		v := s.cookies[sessionCookie].Value
		sum := sha256.Sum256([]byte(v))
		secrets = append(secrets, v, hex.EncodeToString(sum[:]), base64.StdEncoding.EncodeToString(sum[:]))
	}
	ended := func() []map[string]any {
		t.Helper()
		var out []map[string]any
		for _, e := range c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d/audit?event=sessionEnded", ana), anaTok, nil)["entries"].([]any) {
			e := e.(map[string]any)
			for _, secret := range secrets {
				if strings.Contains(fmt.Sprint(e), secret) {
					t.Errorf("an entry of an ended session holds a secret: %v", e)
				}
			}
			out = append(out, e)
		}
		return out
	}
	if got := ended(); len(got) != 0 {
		t.Fatalf("sessions ended before any was: %v", got)
	}

	// Everywhere else: the two other sessions, each an entry, by Ana in this session.
	if p := here.do("POST", "/app/data/sign-out-others", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("signing out everywhere else: %d %s", p.status, p.body)
	}
	got := ended()
	var with []string
	for _, e := range got {
		old := e["oldValue"].(map[string]any)
		with = append(with, fmt.Sprint(old["with"], " ", old["tokenId"]))
		if e["actor"] != fmt.Sprintf("member:%d", ana) || e["credential"] != "app-session" || old["signedInAt"] == nil || old["expiresAt"] == nil {
			t.Errorf("the entry of a session ended everywhere else: %v", e)
		}
	}
	if fmt.Sprint(with) != fmt.Sprintf("[code <nil> token %d]", registration) {
		t.Errorf("the sessions ended everywhere else, newest first: %v", with)
	}
	if p := here.do("GET", "/app/data", nil); !strings.Contains(p.body, "<td>session in the app ended (signed out)</td><td>you, in the app, signed in with a code the co-op&#39;s staff issued</td>") {
		t.Errorf("the data page does not say the sessions ended: %.4000s", p.body)
	}

	// Signing out: this session too.
	if p := here.do("POST", "/app/sign-out", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("signing out: %d %s", p.status, p.body)
	}
	if got := ended(); len(got) != 3 || got[0]["actor"] != fmt.Sprintf("member:%d", ana) || got[0]["oldValue"].(map[string]any)["with"] != "code" {
		t.Errorf("the entries after signing out: %v", got)
	}

	// A session that runs out, and which the cleaner removes, is none.
	late := c.session(t)
	late.signIn(c.code(ana))
	c.clock.Step(31 * 24 * time.Hour)
	if err := sessions.On(c.owner).DeleteExpired(t.Context(), c.clock.Now()); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := c.owner.QueryRow(t.Context(), `SELECT count(*) FROM web_sessions WHERE member_id = $1`, ana).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d sessions left (%v)", left, err)
	}
	if got := ended(); len(got) != 3 {
		t.Errorf("a session that ran out is in the audit: %v", got)
	}
}

// TestSessionsSayWhenLastUsed: the member's list of their sessions says when each was last
// used, to the few minutes: a session's use is written at most once in sessions.SeenEvery,
// not at each request, and nothing else of it is kept.
func TestSessionsSayWhenLastUsed(t *testing.T) {
	c := newCoop(t) // the clock: 2026-12-01 09:00 UTC
	ana, _ := c.member("Ana Driver", "worker")
	phone, laptop := c.session(t), c.session(t)
	phone.signIn(c.code(ana))
	sum := sha256.Sum256([]byte(phone.cookies[sessionCookie].Value))
	lastSeen := func() time.Time {
		t.Helper()
		var at *time.Time
		if err := c.owner.QueryRow(t.Context(), `SELECT last_seen_at FROM web_sessions WHERE id_hash = $1`, sum[:]).Scan(&at); err != nil || at == nil {
			t.Fatalf("the phone's session's last use: %v %v", at, err)
		}
		return at.UTC()
	}
	start := c.clock.Now().UTC()
	phone.do("GET", "/app/home", nil)
	if got := lastSeen(); !got.Equal(start) {
		t.Fatalf("last used %s, want %s", got, start)
	}
	c.clock.Step(sessions.SeenEvery - time.Minute)
	phone.do("GET", "/app/home", nil)
	if got := lastSeen(); !got.Equal(start) {
		t.Fatalf("a request %s later wrote the session's last use again: %s", sessions.SeenEvery-time.Minute, got)
	}
	c.clock.Step(2 * time.Minute)
	phone.do("GET", "/app/home", nil)
	if got, want := lastSeen(), start.Add(sessions.SeenEvery+time.Minute); !got.Equal(want) {
		t.Fatalf("last used %s, want %s", got, want)
	}
	laptop.signIn(c.code(ana))
	p := laptop.do("GET", "/app/data", nil)
	if !strings.Contains(p.body, `<span class="last-seen">last used 2026-12-01 09:06 UTC (to the few minutes)</span>`) {
		t.Errorf("the data page does not say when the phone's session was last used: %.4000s", p.body)
	}
	var cols []string
	rows, err := c.owner.Query(t.Context(), `SELECT column_name FROM information_schema.columns WHERE table_name = 'web_sessions' ORDER BY ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, n)
	}
	for _, n := range cols {
		if strings.Contains(n, "addr") || strings.Contains(n, "ip") || strings.Contains(n, "agent") {
			t.Errorf("web_sessions keeps %s", n)
		}
	}
}
