package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
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
