package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server"
	"github.com/cooperator-dev/cooperator/platform/server/store"
	"github.com/cooperator-dev/cooperator/test/harness/platformapi"
	"github.com/cooperator-dev/cooperator/test/pgtest"
)

// One browser for the whole test package: each test opens its own browser context (like a
// private window: its own cookies) in it.
var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel []context.CancelFunc
	dir    string
	err    error
}

func TestMain(m *testing.M) {
	code := pgtest.Run(m)
	for i := len(browser.cancel) - 1; i >= 0; i-- {
		browser.cancel[i]()
	}
	if browser.dir != "" {
		_ = os.RemoveAll(browser.dir)
	}
	os.Exit(code)
}

// chromiumPath is $CHROMIUM (hack/chromium.sh prints it; make test sets it), else Debian's.
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, p := range []string{"/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func startBrowser() {
	path := chromiumPath()
	if path == "" {
		browser.err = fmt.Errorf("no Chromium: run hack/chromium.sh (it installs Debian's chromium) or set CHROMIUM")
		return
	}
	dir, err := os.MkdirTemp("", "cooperator-chromium-")
	if err != nil {
		browser.err = err
		return
	}
	browser.dir = dir
	alloc, cancelA := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(dir),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("ignore-certificate-errors", true), chromedp.WindowSize(412, 915))
	bctx, cancelB := chromedp.NewContext(alloc)
	browser.cancel = append(browser.cancel, cancelA, cancelB)
	// The first run starts the browser, which lives as long as the context it ran with.
	if err := chromedp.Do(bctx); err != nil {
		browser.err = fmt.Errorf("starting Chromium %s: %w", path, err)
		return
	}
	browser.ctx = bctx
}

// newTab opens a private browser context for the test, with a deadline; when the test
// fails, the page it was on is saved as a screenshot in the test's output folder
// (t.ArtifactDir: kept with go test -artifacts).
func newTab(t *testing.T) context.Context {
	t.Helper()
	browser.once.Do(startBrowser)
	if browser.err != nil {
		t.Fatal(browser.err)
	}
	tab, cancelTab := chromedp.NewContext(browser.ctx, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(tab); err != nil { // opens the tab, which lives as long as tab
		cancelTab()
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(tab, 90*time.Second)
	t.Cleanup(func() {
		if t.Failed() {
			sctx, scancel := context.WithTimeout(tab, 10*time.Second)
			if buf, err := chromedp.Run(sctx, chromedp.FullScreenshot(90)); err == nil {
				name := filepath.Join(t.ArtifactDir(), regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(t.Name(), "_")+".png")
				if err := os.WriteFile(name, buf, 0o644); err == nil {
					t.Logf("screenshot of the failed page: %s", name)
				}
			}
			if loc, err := chromedp.Run(sctx, chromedp.Location()); err == nil {
				t.Logf("the browser was at %s", loc)
			}
			if txt, err := chromedp.Run(sctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`)); err == nil {
				t.Logf("the page said:\n%s", txt)
			}
			scancel()
		}
		cancel()
		cancelTab()
	})
	return ctx
}

// do runs browser steps and fails the test on error.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// click clicks the element and waits for the page it leads to.
func click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))); err != nil {
		t.Fatalf("clicking %s: %v", sel, err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("reading %s: %v", sel, err)
	}
	return s
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const adminToken = "web-test-admin-token"

// coop is one co-op's platform service on a real PostgreSQL, served on a loopback port
// as in production (the members' app and the API on the same port).
type coop struct {
	t      *testing.T
	s      *server.Server
	url    string
	client *http.Client
	owner  *pgxpool.Pool
	// clock is the service's fake clock, to which the database's clock of governance is
	// pinned (governance_now()): Step moves both.
	clock *pinnedClock
	// statusFile is where the hub's status document is mounted (api/hubstatus).
	statusFile string
}

// writeStatus writes the hub's status document as the operator would (controllers/hubstatus;
// the kubelet mounts the coop-hub-status ConfigMap next to the policy).
func (c *coop) writeStatus(doc string) {
	c.t.Helper()
	if err := os.WriteFile(c.statusFile, []byte(doc), 0o600); err != nil {
		c.t.Fatal(err)
	}
}

const operatorStatus = `{"cooperative":"fairride-lyon",
 "reliability":{"ready":{"status":"True","since":"2026-11-20T10:00:00Z"},"database":{"status":"True","since":"2026-11-20T09:00:00Z"},
  "platform":{"status":"True","since":"2026-11-20T10:00:00Z"},"backup":{"status":"False","reason":"BackupFailed","since":"2026-12-01T08:59:00Z"},
  "lastBackup":"2026-12-01T02:00:00Z"},
 "hosting":[{"period":"2026-11","final":true,"currency":"EUR","hubTotal":"412.50","cooperatives":3,"amount":"41.25","sharePercent":"10.00"},
  {"period":"2026-10","final":true,"currency":"EUR","hubTotal":"398.00","cooperatives":3,"amount":"39.80","sharePercent":"10.00"}]}`

const testPolicy = `{"cooperative":"fairride-lyon","vertical":"ride-sharing",
 "feeSplit":{"platformFeeBasisPoints":300,"funds":[{"name":"hardship","basisPoints":100},{"name":"reserve","basisPoints":50}],"surgeToWorkersPercent":100},
 "governance":{"model":"one-member-one-vote","quorumPercent":50,"approvalPercent":50,"governedFields":["feeSplit","plan"]},
 "payments":{"staffLimitCents":1000000}}`

// newVerticalCoop serves a co-op of testPolicy in another vertical.
func newVerticalCoop(t *testing.T, vertical string) *coop {
	t.Helper()
	return newCoopWith(t, strings.Replace(testPolicy, `"vertical":"ride-sharing"`, `"vertical":"`+vertical+`"`, 1))
}

func newCoop(t *testing.T) *coop {
	t.Helper()
	return newCoopWith(t, testPolicy)
}

// newCoopWith serves a co-op under the policy document doc.
func newCoopWith(t *testing.T, doc string) *coop {
	t.Helper()
	return newCoopLogging(t, doc, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// newCoopLogging serves a co-op under the policy document doc that logs to log.
func newCoopLogging(t *testing.T, doc string, log *slog.Logger) *coop {
	t.Helper()
	pol, err := policy.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	ownerURL := pgtest.NewDB(t)
	c := clocktesting.NewFakeClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	statusFile := filepath.Join(t.TempDir(), "status.json")
	s, err := server.New(server.Config{DatabaseURL: pgtest.ServingRoleURL(t, ownerURL), MigrateDatabaseURL: ownerURL, AdminToken: adminToken, Policy: pol,
		Logger: log, Now: c.Now, HubStatusFile: statusFile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	owner := pgtest.Pool(t, ownerURL)
	// Over TLS, as behind the co-op's Ingress: the app's cookies are Secure. The browser
	// accepts the test server's certificate (--ignore-certificate-errors).
	ts := httptest.NewTLSServer(s.Handler())
	t.Cleanup(ts.Close)
	clock := &pinnedClock{FakeClock: c, t: t, owner: owner}
	clock.pin()
	return &coop{t: t, s: s, url: ts.URL, client: ts.Client(), owner: owner, clock: clock, statusFile: statusFile}
}

// pinnedClock is a fake clock to which the database's clock of governance
// (governance_now(), migration 162) is pinned.
type pinnedClock struct {
	*clocktesting.FakeClock
	t     testing.TB
	owner *pgxpool.Pool
}

// Step moves the service's clock and the database's.
func (c *pinnedClock) Step(d time.Duration) {
	c.FakeClock.Step(d)
	c.pin()
}

func (c *pinnedClock) pin() {
	c.t.Helper()
	if err := store.PinGovernanceClock(context.Background(), c.owner, c.Now()); err != nil {
		c.t.Fatal(err)
	}
}

func (c *coop) must(want int, method, path, token string, body any, headers ...string) map[string]any {
	c.t.Helper()
	return c.api().Must(want, method, path, token, body, headers...)
}

// api calls the JSON API over HTTP, as a member's client does.
func (c *coop) api() platformapi.T {
	return platformapi.T{Client: platformapi.Client{BaseURL: c.url, HTTP: c.client}, TB: c.t}
}

// member registers a member (staff's API) and returns their id and token; a worker is
// qualified for rides and made available.
func (c *coop) member(name string, roles ...string) (int64, string) {
	c.t.Helper()
	body := map[string]any{"name": name, "email": strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org", "roles": roles}
	for _, r := range roles {
		if r == "worker" {
			body["qualifications"] = []string{"ride"}
		}
	}
	m := c.must(http.StatusCreated, "POST", "/v1/members", adminToken, body)
	id, tok := int64(m["member"].(map[string]any)["id"].(float64)), m["token"].(string)
	for _, r := range roles {
		if r == "worker" {
			c.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/members/%d/availability", id), tok, map[string]any{"available": true})
		}
	}
	return id, tok
}

// code issues a sign-in code for the member, as staff do.
func (c *coop) code(id int64) string {
	c.t.Helper()
	return c.must(http.StatusCreated, "POST", fmt.Sprintf("/v1/members/%d/sign-in-codes", id), adminToken, nil)["code"].(string)
}

// request has the customer ask for a ride at a price and offers it to a worker.
func (c *coop) request(customerToken string, priceCents int64) int64 {
	c.t.Helper()
	w := c.must(http.StatusCreated, "POST", "/v1/work", customerToken, map[string]any{"kind": "ride", "priceCents": priceCents,
		"details": map[string]string{"pickup": "Place Bellecour", "dropoff": "Part-Dieu"}})
	id := int64(w["id"].(float64))
	c.must(http.StatusOK, "POST", fmt.Sprintf("/v1/work/%d/match", id), customerToken, nil)
	return id
}

// signIn signs the browser in with a code through the sign-in form.
func (c *coop) signIn(t *testing.T, ctx context.Context, code string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(c.url+"/app/sign-in"), chromedp.SendKeys(chromedp.ID("code"), code))
	click(t, ctx, `form[action="/app/sign-in"] button[type=submit]`)
	if loc := location(t, ctx); !strings.HasSuffix(loc, "/app/home") {
		t.Fatalf("after sign-in the browser is at %s, want /app/home", loc)
	}
}
