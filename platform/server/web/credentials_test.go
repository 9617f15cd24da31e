package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestStaffRecordCredentialsInTheApp: in a care co-op staff find the workers'
// credentials from their home page, the check that expires first first, and record a
// carer's skills, languages and background check through the API; its refusals are said
// beside the field they name, in the member's language, the form kept as sent. A member of
// staff who is also a carer is refused their own (the API's refusal, beside their form).
// A worker has no link, and the page and its form answer them 403, nothing written.
func TestStaffRecordCredentialsInTheApp(t *testing.T) {
	c := newVerticalCoop(t, "care") // the service's clock: 2026-12-01, on UTC
	tess, _ := c.member("Tess Staff", "staff")
	sam, _ := c.worker("Sam Staff-Carer", "booking")
	c.must(http.StatusOK, "PATCH", fmt.Sprintf("/v1/members/%d", sam), adminToken, map[string]any{"roles": []string{"worker", "staff"}})
	cara, caraTok := c.worker("Cara Carer", "booking")
	old, _ := c.worker("Olga Old", "booking")
	c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/members/%d/credentials", old), adminToken, map[string]any{"skills": []string{"dementia"},
		"backgroundCheck": map[string]any{"status": "clear", "checkedOn": "2025-11-01", "expiresAt": "2026-11-30T00:00:00Z"}})
	creds := func(id int64) map[string]any {
		return c.must(http.StatusOK, "GET", fmt.Sprintf("/v1/members/%d/credentials", id), adminToken, nil)
	}

	s := c.session(t)
	s.signIn(c.code(tess))
	if p := s.do("GET", "/app/home", nil); !strings.Contains(p.body, `href="/app/credentials" id="credentials-link"`) {
		t.Fatalf("staff's home page has no link to the credentials: %s", p.body)
	}
	p := s.do("GET", "/app/credentials", nil)
	if p.status != http.StatusOK || !strings.Contains(p.body, fmt.Sprintf(`id="worker-%d-expired"`, old)) ||
		!strings.Contains(p.body, fmt.Sprintf(`id="worker-%d-h">Cara Carer · member no. %d</h2>`, cara, cara)) {
		t.Fatalf("the credentials page: %d %s", p.status, p.body)
	}
	csrf := p.csrf(t)
	form := url.Values{"csrf": {csrf}, "skills": {"Dementia\r\n\r\npersonal care\r\n"}, "languages": {"fr\nEN"}, "status": {"clear"},
		"checkedOn": {"2026-11-20"}, "expiresOn": {"2026-12-20"}}
	p = s.do("POST", fmt.Sprintf("/app/credentials/%d", cara), form)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != fmt.Sprintf("/app/credentials?done=credentials#worker-%d", cara) {
		t.Fatalf("recording Cara's credentials: %d %q %s", p.status, p.header.Get("Location"), p.body)
	}
	got := creds(cara)
	if fmt.Sprint(got["skills"], got["languages"]) != "[dementia personal care] [en fr]" ||
		fmt.Sprint(got["backgroundCheck"]) != "map[checkedOn:2026-11-20 expiresAt:2026-12-20T00:00:00Z recordedAt:2026-12-01T09:00:00Z status:clear]" {
		t.Fatalf("Cara's credentials: %v", got)
	}
	// Listed again: the expired check first, then Cara's (within 30 days), then the
	// carers without one; the form holds what was recorded.
	p = s.do("GET", "/app/credentials?done=credentials", nil)
	body := html.UnescapeString(p.body)
	order := []int{strings.Index(body, fmt.Sprintf(`id="worker-%d"`, old)), strings.Index(body, fmt.Sprintf(`id="worker-%d"`, cara)), strings.Index(body, fmt.Sprintf(`id="worker-%d"`, sam))}
	if !strings.Contains(body, `role="status">The credentials are saved.`) || order[0] < 0 || order[0] > order[1] || order[1] > order[2] ||
		!strings.Contains(body, fmt.Sprintf(`id="worker-%d-soon"`, cara)) ||
		!strings.Contains(body, fmt.Sprintf("name=\"skills\" rows=\"3\" aria-describedby=\"w%d-skills-hint\">dementia\npersonal care</textarea>", cara)) ||
		!strings.Contains(body, fmt.Sprintf(`id="w%d-expiresOn" name="expiresOn" type="date" value="2026-12-20"`, cara)) {
		t.Fatalf("the page after saving (order %v): %s", order, body)
	}

	// Refused: the expiry before the check, beside its field, the form as sent.
	form.Set("expiresOn", "2026-11-01")
	p = s.do("POST", fmt.Sprintf("/app/credentials/%d", cara), form)
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, fmt.Sprintf(`id="w%d-expiresOn-error">Give the date the check expires on, after the date it was done.`, cara)) ||
		!strings.Contains(p.body, fmt.Sprintf(`id="w%d-expiresOn" name="expiresOn" type="date" value="2026-11-01"`, cara)) {
		t.Fatalf("an expiry before the check: %d %s", p.status, p.body)
	}
	form.Set("expiresOn", "")
	form.Set("skills", strings.Repeat("x", 101))
	p = s.do("POST", fmt.Sprintf("/app/credentials/%d?lang=fr", cara), form)
	if p.status != http.StatusBadRequest || !strings.Contains(html.UnescapeString(p.body), fmt.Sprintf(`id="w%d-skills-error">Chaque compétence ou langue compte de 1 à 100 caractères.`, cara)) {
		t.Fatalf("a skill too long, in French: %d %s", p.status, p.body)
	}
	if got := creds(cara); fmt.Sprint(got["skills"]) != "[dementia personal care]" {
		t.Fatalf("a refused form changed Cara's credentials: %v", got)
	}
	// No check recorded: the form sends none, and the API removes it.
	p = s.do("POST", fmt.Sprintf("/app/credentials/%d?lang=en", cara), url.Values{"csrf": {csrf}, "skills": {"dementia"}, "status": {""}, "expiresOn": {"soon"}})
	if got := creds(cara); p.status != http.StatusSeeOther || got["backgroundCheck"] != nil || fmt.Sprint(got["languages"]) != "[]" {
		t.Fatalf("recording no check: %d %v", p.status, got)
	}
	// Without the session's CSRF token, nothing is written.
	p = s.do("POST", fmt.Sprintf("/app/credentials/%d", cara), url.Values{"skills": {"lifting"}})
	if got := creds(cara); p.status != http.StatusForbidden || fmt.Sprint(got["skills"]) != "[dementia]" {
		t.Fatalf("a form without its CSRF token: %d %v", p.status, got)
	}

	// A member of staff who is a carer: their own form is refused by the API, beside it.
	ss := c.session(t)
	csrf = ss.signIn(c.code(sam))
	if p := ss.do("GET", "/app/credentials", nil); !strings.Contains(p.body, fmt.Sprintf(`id="worker-%d-self"`, sam)) {
		t.Fatalf("Sam's own card does not say it: %s", p.body)
	}
	p = ss.do("POST", fmt.Sprintf("/app/credentials/%d", sam), url.Values{"csrf": {csrf}, "skills": {"dementia"}, "status": {"clear"}, "checkedOn": {"2026-11-20"}, "expiresOn": {"2027-11-20"}})
	if p.status != http.StatusForbidden || !strings.Contains(p.body, fmt.Sprintf(`id="worker-%d-error">You do not record your own credentials: another member of staff does.`, sam)) {
		t.Fatalf("staff on their own credentials: %d %s", p.status, p.body)
	}
	if got := creds(sam); fmt.Sprint(got["skills"]) != "[]" || got["backgroundCheck"] != nil {
		t.Fatalf("Sam certified himself: %v", got)
	}

	// A carer: no link, 403 for the page and for its form, nothing written.
	cs := c.session(t)
	csrf = cs.signIn(c.code(cara))
	if p := cs.do("GET", "/app/home", nil); strings.Contains(p.body, `/app/credentials"`) {
		t.Fatal("a carer's home page links to the credentials")
	}
	if p := cs.do("GET", "/app/credentials", nil); p.status != http.StatusForbidden || strings.Contains(p.body, "Olga Old") {
		t.Fatalf("a carer at the credentials page: %d", p.status)
	}
	p = cs.do("POST", fmt.Sprintf("/app/credentials/%d", cara), url.Values{"csrf": {csrf}, "skills": {"dementia", "lifting"}, "status": {"clear"}, "checkedOn": {"2026-11-20"}, "expiresOn": {"2027-11-20"}})
	if got := creds(cara); p.status != http.StatusForbidden || fmt.Sprint(got["skills"]) != "[dementia]" {
		t.Fatalf("a carer posting the form: %d %v", p.status, got)
	}
	c.must(http.StatusForbidden, "GET", "/v1/credentials", caraTok, nil)

	// On a phone, with a form open, the page is no wider than the screen.
	ctx := newTab(t)
	c.signIn(t, ctx, c.code(tess))
	for _, path := range []string{"/app/credentials", "/app/credentials?lang=fr"} {
		do(t, ctx, chromedp.Navigate(c.url+path), chromedp.Click(chromedp.CSS(fmt.Sprintf("#worker-%d summary", cara))))
		w, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
		if err != nil {
			t.Fatal(err)
		}
		if w[0] > w[1] {
			t.Errorf("%s is %d px wide in a window of %d", path, w[0], w[1])
		}
	}
	// And the form sent from the browser is recorded.
	do(t, ctx, chromedp.SendKeys(chromedp.ID(fmt.Sprintf("w%d-languages", cara)), "pt"))
	click(t, ctx, fmt.Sprintf("#save-%d", cara))
	if got := creds(cara); fmt.Sprint(got["languages"]) != "[pt]" {
		t.Fatalf("the form sent from the browser: %v", got)
	}
}

// TestCredentialsPageIsPaged: the credentials page shows the API's pages of workers
// (GET /v1/credentials, 20 a page), each with a link to the next; followed in the browser,
// the pages show every active worker once. A worker's form on a later page sends its page
// back, so that staff return to it once it is saved, or see its refusal on it.
func TestCredentialsPageIsPaged(t *testing.T) {
	c := newVerticalCoop(t, "care")
	tess, _ := c.member("Tess Staff", "staff")
	workers := map[int64]bool{}
	var last int64
	for i := range 23 {
		id, _ := c.worker(fmt.Sprintf("Carer %c", 'A'+i), "booking")
		workers[id], last = true, id
	}
	ctx := newTab(t)
	c.signIn(t, ctx, c.code(tess))
	do(t, ctx, chromedp.Navigate(c.url+"/app/credentials"))
	seen := map[int64]int{}
	for pages := 1; ; pages++ {
		ids, err := chromedp.Run(ctx, chromedp.Evaluate[[]int64](`[...document.querySelectorAll('li.card')].map(li => +li.id.replace('worker-', ''))`))
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) > 20 {
			t.Fatalf("page %d shows %d workers", pages, len(ids))
		}
		for _, id := range ids {
			seen[id]++
		}
		more, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.getElementById('more-workers')`))
		if err != nil {
			t.Fatal(err)
		}
		if !more {
			if pages != 2 {
				t.Errorf("%d pages of 23 workers", pages)
			}
			break
		}
		if pages > len(workers) {
			t.Fatalf("more pages than workers: %v", seen)
		}
		click(t, ctx, "#more-workers")
	}
	for id := range workers {
		if seen[id] != 1 {
			t.Errorf("worker %d shown %d times", id, seen[id])
		}
	}
	if len(seen) != len(workers) {
		t.Errorf("the pages show %v, want the workers %v", seen, workers)
	}

	// The last page's form: saved, back to that page; refused, said on it.
	page, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	cursor := page[strings.Index(page, "cursor=")+len("cursor="):]
	s := c.session(t)
	csrf := s.signIn(c.code(tess))
	p := s.do("GET", "/app/credentials?cursor="+cursor, nil)
	if !strings.Contains(p.body, fmt.Sprintf(`id="worker-%d"`, last)) || !strings.Contains(p.body, `<input type="hidden" name="cursor" value="`+cursor+`">`) {
		t.Fatalf("the last page lacks worker %d or its forms their page: %s", last, p.body)
	}
	p = s.do("POST", fmt.Sprintf("/app/credentials/%d", last), url.Values{"csrf": {csrf}, "cursor": {cursor}, "skills": {"dementia"}})
	if want := fmt.Sprintf("/app/credentials?cursor=%s&done=credentials#worker-%d", cursor, last); p.status != http.StatusSeeOther || p.header.Get("Location") != want {
		t.Fatalf("saving a worker of the last page: %d %q, want %q", p.status, p.header.Get("Location"), want)
	}
	p = s.do("POST", fmt.Sprintf("/app/credentials/%d", last), url.Values{"csrf": {csrf}, "cursor": {cursor}, "skills": {"dementia"}, "status": {"clear"}, "checkedOn": {"x"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, fmt.Sprintf(`id="w%d-checkedOn-error"`, last)) {
		t.Fatalf("a refusal on the last page: %d %s", p.status, p.body)
	}
}
