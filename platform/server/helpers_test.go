package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/governance"
	"github.com/cooperator-dev/cooperator/platform/server/store"
	"github.com/cooperator-dev/cooperator/test/pgtest"
)

func TestMain(m *testing.M) {
	dir, err := zoneOnlyGoKnows()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := pgtest.Run(m)
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// goOnlyZone is a time zone the service's zone database holds and PostgreSQL's does not,
// as when the two come from different releases of the IANA database (the service embeds
// Go's, the database server has its host's): a fixed UTC+14, as Pacific/Kiritimati keeps.
const goOnlyZone = "Pacific/Go_Only_Test"

// zoneOnlyGoKnows adds goOnlyZone to the zones Go reads, through ZONEINFO (a directory Go
// reads before the host's zones, read once, at the process's first LoadLocation: hence
// here, before any test runs), and returns the directory.
func zoneOnlyGoKnows() (string, error) {
	dir, err := os.MkdirTemp("", "zoneinfo")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(goOnlyZone)), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, goOnlyZone), fixedTZif(14*3600, "+14"), 0o644); err != nil {
		return "", err
	}
	return dir, os.Setenv("ZONEINFO", dir)
}

// fixedTZif is a zone file (RFC 8536, version 2) of one fixed offset from UTC, named abbr.
func fixedTZif(offset int32, abbr string) []byte {
	var b bytes.Buffer
	block := func() {
		b.WriteString("TZif2")
		b.Write(make([]byte, 15))
		// isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
		for _, n := range []uint32{0, 0, 0, 0, 1, uint32(len(abbr) + 1)} {
			_ = binary.Write(&b, binary.BigEndian, n)
		}
		_ = binary.Write(&b, binary.BigEndian, offset) // the one local time type: its offset,
		b.Write([]byte{0, 0})                          // not summer time, its name's index
		b.WriteString(abbr + "\x00")
	}
	block() // version 1's data
	block() // version 2's (the same: no transition)
	fmt.Fprintf(&b, "\n<%s>%d\n", abbr, -offset/3600)
	return b.Bytes()
}

const adminToken = "test-admin-token"

const ridePolicy = `{"cooperative":"fairride-lyon","vertical":"ride-sharing",
 "feeSplit":{"platformFeeBasisPoints":300,"funds":[{"name":"hardship","basisPoints":100},{"name":"reserve","basisPoints":50}],"surgeToWorkersPercent":100},
 "governance":{"model":"multi-stakeholder","quorumPercent":50,"approvalPercent":66,
   "stakeholderClasses":[{"name":"drivers","weight":60},{"name":"riders","weight":20},{"name":"staff","weight":20}],
   "governedFields":["feeSplit","plan","federation"]},
 "payments":{"staffLimitCents":1000000}}`

func mustPolicy(t testing.TB, doc string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// withModel returns ridePolicy under another governance model.
func withModel(t testing.TB, model string, quorum, approval int) *policy.Policy {
	p := mustPolicy(t, ridePolicy)
	p.Governance.Model = model
	p.Governance.QuorumPercent = int64(quorum)
	p.Governance.ApprovalPercent = int64(approval)
	if model != policy.MultiStakeholder {
		p.Governance.StakeholderClasses = nil
	}
	return p
}

// verticalPolicy is the one-member-one-vote policy (quorum and approval 50%) of a co-op
// of the given vertical.
func verticalPolicy(t testing.TB, vertical string) *policy.Policy {
	p := withModel(t, "one-member-one-vote", 50, 50)
	p.Vertical = vertical
	return p
}

type env struct {
	t testing.TB
	s *Server
	// h is the server's API handler behind apiValidated: every request and response of a
	// test is checked against openapi.yaml.
	h http.Handler
	// owner is a pool of the database's owner, which migrated it; the server serves as a
	// role of its own (pgtest.ServingRoleURL).
	owner *pgxpool.Pool
	// clock is the service's injected clock: tests move it forward (Step), and the
	// database's clock of governance with it.
	clock *pinnedClock
}

// pinnedClock is a fake clock to which the database's clock of governance
// (governance_now(), migration 162) is pinned: Step moves both.
type pinnedClock struct {
	*clocktesting.FakeClock
	t     testing.TB
	owner *pgxpool.Pool
}

func newPinnedClock(t testing.TB, owner *pgxpool.Pool, c *clocktesting.FakeClock) *pinnedClock {
	p := &pinnedClock{FakeClock: c, t: t, owner: owner}
	p.pin()
	return p
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

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newEnv serves a fresh database as in production: migrated by its owner, served by a
// role with only the grants of store.GrantServing.
func newEnv(t testing.TB, pol *policy.Policy) *env {
	t.Helper()
	return newEnvWith(t, Config{Policy: pol})
}

// newEnvWith is newEnv with more of the configuration (the URLs, the admin token and the
// logger are set here).
func newEnvWith(t testing.TB, cfg Config) *env {
	t.Helper()
	owner := pgtest.NewDB(t)
	cfg.MigrateDatabaseURL, cfg.DatabaseURL = owner, pgtest.ServingRoleURL(t, owner)
	cfg.AdminToken = adminToken
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	clock := clocktesting.NewFakeClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	pool := pgtest.Pool(t, owner)
	return &env{t: t, s: s, h: apiValidated(t, s.Handler()), owner: pool, clock: newPinnedClock(t, pool, clock)}
}

type resp struct {
	status int
	body   []byte
	header http.Header
}

func (r resp) json() map[string]any {
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		panic(fmt.Sprintf("not a JSON object: %s", r.body))
	}
	return m
}

// call sends a request through the real handler. body may be a string (sent as is) or
// a value (JSON-encoded); headers are name, value pairs.
func (e *env) call(method, path, token string, body any, headers ...string) resp {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			panic(err)
		}
		rd = bytes.NewReader(data)
	}
	req := httptest.NewRequest(method, path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return resp{rec.Code, rec.Body.Bytes(), rec.Header()}
}

// must calls and fails the test unless the status is want.
func (e *env) must(want int, method, path, token string, body any, headers ...string) map[string]any {
	e.t.Helper()
	r := e.call(method, path, token, body, headers...)
	if r.status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, want, r.body)
	}
	return r.json()
}

type who struct {
	id    int64
	token string
}

func (e *env) member(name string, roles []string, class string, quals ...string) who {
	e.t.Helper()
	body := map[string]any{"name": name, "email": strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org", "roles": roles, "qualifications": quals}
	if class != "" {
		body["stakeholderClass"] = class
	}
	out := e.must(201, "POST", "/v1/members", adminToken, body)
	return who{id: int64(out["member"].(map[string]any)["id"].(float64)), token: out["token"].(string)}
}

// completedRide has customer c request a ride at price cents, matched by the fair rule and
// taken through to completion by staff; it returns the work id and its worker.
func (e *env) completedRide(c who, price int64) (work, worker int64) {
	e.t.Helper()
	id := num(e.must(201, "POST", "/v1/work", c.token, ride(price, 0))["id"])
	offer := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil)
	e.completeWork(id, adminToken)
	return id, num(offer["workerId"])
}

// completeWork takes work id through accept, start and complete with token (its worker's or
// staff's) and returns the completed work as the API answers the last step.
func (e *env) completeWork(id int64, token string) map[string]any {
	e.t.Helper()
	var done map[string]any
	for _, step := range []string{"accept", "start", "complete"} {
		done = e.must(200, "POST", fmt.Sprintf("/v1/work/%d/%s", id, step), token, nil)
	}
	return done
}

// assertWorkPaid checks that completed work id (read with workToken) paid gross cents to
// worker w, and that the ledger balances.
func (e *env) assertWorkPaid(id int64, workToken string, w who, gross int64) {
	e.t.Helper()
	done := e.must(200, "GET", fmt.Sprintf("/v1/work/%d", id), workToken, nil)
	pay := e.must(200, "GET", fmt.Sprintf("/v1/payments/%d", num(done["paymentId"])), w.token, nil)
	if num(pay["grossCents"]) != gross || num(pay["workerId"]) != w.id {
		e.t.Fatalf("payment %v", pay)
	}
	e.assertBalanced()
}

// setAvailable has member w say whether they are available for work.
func (e *env) setAvailable(w who, available bool) {
	e.t.Helper()
	e.must(200, "PUT", fmt.Sprintf("/v1/members/%d/availability", w.id), w.token, map[string]any{"available": available})
}

// workers registers n members with the worker role, "Member 0" to "Member n-1".
func (e *env) workers(n int) []who {
	e.t.Helper()
	m := make([]who, n)
	for i := range m {
		m[i] = e.member(fmt.Sprintf("Member %d", i), []string{"worker"}, "")
	}
	return m
}

// worker registers an available driver qualified for rides.
func (e *env) worker(name string) who {
	e.t.Helper()
	w := e.member(name, []string{"worker"}, "drivers", "ride")
	e.setAvailable(w, true)
	return w
}

func (e *env) customer(name string) who {
	return e.member(name, []string{"customer"}, "riders")
}

// keys counts the idempotency keys newKey made.
var keys atomic.Int64

// newKey is an idempotency key no other request of the test process sent.
func newKey() string { return fmt.Sprintf("key-%d", keys.Add(1)) }

func num(v any) int64 {
	f, ok := v.(float64)
	if !ok {
		panic(fmt.Sprintf("not a number: %v", v))
	}
	return int64(f)
}

// openTally tallies proposal id's ballots as they stand, under the rules it opened with:
// what the API shows nobody while the vote is open.
func (e *env) openTally(id int64) governance.Result {
	e.t.Helper()
	g, err := e.s.proposalRules(context.Background(), e.owner, id)
	if err != nil {
		e.t.Fatal(err)
	}
	in, err := governance.LoadInput(context.Background(), e.owner, g, id, false)
	if err != nil {
		e.t.Fatal(err)
	}
	return governance.Tally(in)
}

func (e *env) count(table string) int64 {
	e.t.Helper()
	var n int64
	if err := e.s.Pool().QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// assertRows fails, saying what, unless each table holds the rows wanted.
func (e *env) assertRows(what string, want map[string]int64) {
	e.t.Helper()
	for _, table := range slices.Sorted(maps.Keys(want)) {
		if got := e.count(table); got != want[table] {
			e.t.Fatalf("%s: %d rows in %s, want %d", what, got, table, want[table])
		}
	}
}

// assertBalanced checks every ledger transaction and the whole ledger sum to zero.
func (e *env) assertBalanced() {
	e.t.Helper()
	var bad, total int64
	err := e.s.Pool().QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM (SELECT tx_id FROM ledger_entries GROUP BY tx_id HAVING sum(amount_cents) <> 0) x),
		(SELECT coalesce(sum(amount_cents), 0) FROM ledger_entries)`).Scan(&bad, &total)
	if err != nil {
		e.t.Fatal(err)
	}
	if bad != 0 || total != 0 {
		e.t.Fatalf("ledger unbalanced: %d bad transactions, total %d", bad, total)
	}
}

func (e *env) balance(account string) int64 {
	e.t.Helper()
	var n int64
	if err := e.s.Pool().QueryRow(context.Background(), `SELECT coalesce(sum(amount_cents), 0) FROM ledger_entries WHERE account = $1`, account).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// bookingMatch has c ask for a booking of the slot (schedBooking) and a worker for it; a
// booking offered is cancelled, so the next slot finds its worker free. The match's answer.
func (e *env) bookingMatch(c who, start string, minutes int) resp {
	e.t.Helper()
	id := num(e.must(201, "POST", "/v1/work", c.token, schedBooking(start, minutes))["id"])
	r := e.call("POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil)
	if r.status == 200 {
		e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", id), c.token, nil)
	}
	return r
}

// didWorkFor records, as the database's owner, a work item of customer c's that worker w
// completed before (the kind of the co-op's vertical, no payment): w is then a regular
// worker of c's, whom c may ask for by name and keep in their team.
func (e *env) didWorkFor(c, w who) {
	e.t.Helper()
	if _, err := e.owner.Exec(context.Background(), `INSERT INTO work_items (vertical, kind, customer_id, worker_id, state, price_cents)
		VALUES ($1, 'booking', $2, $3, 'completed', 1000)`, e.s.vertical(), c.id, w.id); err != nil {
		e.t.Fatal(err)
	}
}
