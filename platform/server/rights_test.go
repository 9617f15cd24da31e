package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/api/policy"
)

// personal is one personal value of a member that erasure must remove from the database.
// A text is looked for case-insensitively in every text-like column (text, json, arrays)
// and as its UTF-8 bytes in every bytea column; raw bytes (a token hash) are looked for
// as bytes in bytea columns and as lower-case hex in the others.
type personal struct {
	what string
	text string
	raw  []byte
}

func tokenHash(token string) personal {
	h := sha256.Sum256([]byte(token))
	return personal{what: "token hash", raw: h[:]}
}

// dbColumn is a column of the schema that can hold a personal value.
type dbColumn struct{ table, column, dataType string }

// personalColumns lists every text, json, array and bytea column of every table of the
// schema, from information_schema, so that a table added later is scanned too.
func (e *env) personalColumns() []dbColumn {
	e.t.Helper()
	rows, err := e.s.Pool().Query(context.Background(), `SELECT c.table_name, c.column_name, c.data_type
		FROM information_schema.columns c JOIN information_schema.tables t
			ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
			AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea', 'ARRAY', 'USER-DEFINED')
		ORDER BY c.table_name, c.ordinal_position`)
	if err != nil {
		e.t.Fatal(err)
	}
	cols, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (dbColumn, error) {
		var c dbColumn
		err := row.Scan(&c.table, &c.column, &c.dataType)
		return c, err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return cols
}

// traces returns, for each value found, the table.column names holding it.
func (e *env) traces(values []personal) map[int][]string {
	e.t.Helper()
	found := map[int][]string{}
	tables := map[string]bool{}
	for _, c := range e.personalColumns() {
		tables[c.table] = true
		col := pgx.Identifier{c.column}.Sanitize()
		from := pgx.Identifier{c.table}.Sanitize()
		for i, v := range values {
			var q string
			var arg any
			switch {
			case c.dataType == "bytea" && v.raw != nil:
				q, arg = `position($1::bytea IN `+col+`) > 0`, v.raw
			case c.dataType == "bytea":
				q, arg = `position($1::bytea IN `+col+`) > 0`, []byte(v.text)
			case v.raw != nil:
				q, arg = `strpos(lower(`+col+`::text), $1) > 0`, hex.EncodeToString(v.raw)
			default:
				q, arg = `strpos(lower(`+col+`::text), lower($1)) > 0`, v.text
			}
			var hit bool
			if err := e.s.Pool().QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM `+from+` WHERE `+q+`)`, arg).Scan(&hit); err != nil {
				e.t.Fatalf("scanning %s.%s: %v", c.table, c.column, err)
			}
			if hit {
				found[i] = append(found[i], c.table+"."+c.column)
			}
		}
	}
	// The scan must cover the schema, not a fixed list.
	for _, tb := range []string{"members", "member_tokens", "work_items", "work_history", "offers", "payments", "proposals", "ballots"} {
		if !tables[tb] {
			e.t.Fatalf("the column scan missed table %s", tb)
		}
	}
	return found
}

// assertErased fails naming the table and column of every personal value still stored.
func (e *env) assertErased(values []personal) {
	e.t.Helper()
	for i, cols := range e.traces(values) {
		v := values[i]
		shown := v.text
		if v.raw != nil {
			shown = hex.EncodeToString(v.raw)
		}
		for _, c := range cols {
			e.t.Errorf("%s %q survives erasure in %s", v.what, shown, c)
		}
	}
}

// assertStored checks the scan sees every value before erasure, so that a clean scan
// afterwards means erasure removed them.
func (e *env) assertStored(values []personal) {
	e.t.Helper()
	found := e.traces(values)
	for i, v := range values {
		if len(found[i]) == 0 {
			e.t.Fatalf("the scan does not see %s %q before erasure", v.what, v.text)
		}
	}
}

func (e *env) references(memberID int64, table string, columns ...string) int64 {
	e.t.Helper()
	var where []string
	for _, c := range columns {
		where = append(where, c+" = $1")
	}
	var n int64
	if err := e.s.Pool().QueryRow(context.Background(), "SELECT count(*) FROM "+table+" WHERE "+strings.Join(where, " OR "), memberID).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestExportAndErasure(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.member("Zoé Secret", []string{"customer"}, "riders")
	w := e.worker("Dan Driver")
	other := e.customer("Olga Other")
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", c.id), adminToken, map[string]any{"phone": "+33 6 12 34 56 78"})
	second := e.must(201, "POST", fmt.Sprintf("/v1/members/%d/tokens", c.id), c.token, nil)["token"].(string)
	id := num(e.must(201, "POST", "/v1/work", c.token, map[string]any{"kind": "ride",
		"details": map[string]string{"pickup": "12 Rue Secrète", "dropoff": "3 Quai Privé", "notes": "door code 4821, ask for Zoé"}, "priceCents": 2500})["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil)
	e.must(409, "DELETE", fmt.Sprintf("/v1/members/%d", c.id), c.token, nil) // work under way
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", id), w.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/start", id), w.token, nil)
	workPayment := num(e.must(200, "POST", fmt.Sprintf("/v1/work/%d/complete", id), w.token, nil)["paymentId"])
	cancelled := num(e.must(201, "POST", "/v1/work", c.token, ride(900, 0))["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", cancelled), c.token, map[string]any{"reason": "Zoé is at the hospital"})
	tip := num(e.must(201, "POST", "/v1/payments", c.token, map[string]any{"workId": id, "amountCents": 300}, "Idempotency-Key", "tip-from-zoe-secret")["id"])
	e.must(201, "POST", "/v1/blocks", c.token, map[string]any{"workerId": w.id})
	e.must(200, "PUT", "/v1/delegation", c.token, map[string]any{"delegateId": other.id})
	pid := num(e.must(201, "POST", "/v1/proposals", c.token, map[string]any{"title": "Zoé's plan for night drivers",
		"body": "I was stranded at 3 Quai Privé at 2am. Signed, Zoé Secret", "field": "feeSplit", "value": map[string]any{"platformFeeBasisPoints": 250}})["id"])
	e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", pid), c.token, map[string]any{"choice": "yes"})
	e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", pid), w.token, map[string]any{"choice": "yes"})

	e.must(403, "GET", fmt.Sprintf("/v1/members/%d/export", c.id), other.token, nil)
	r := e.call("GET", fmt.Sprintf("/v1/members/%d/export", c.id), c.token, nil)
	if r.status != 200 {
		t.Fatalf("export %d %s", r.status, r.body)
	}
	var exp struct {
		Member    map[string]any   `json:"member"`
		Work      []map[string]any `json:"work"`
		Payments  []any            `json:"payments"`
		Ledger    []any            `json:"ledgerEntries"`
		Ballots   []any            `json:"ballots"`
		Blocks    []any            `json:"blocks"`
		Tokens    []any            `json:"tokens"`
		Proposals []map[string]any `json:"proposals"`
	}
	if err := json.Unmarshal(r.body, &exp); err != nil {
		t.Fatal(err)
	}
	if exp.Member["name"] != "Zoé Secret" || len(exp.Work) != 2 || len(exp.Payments) != 2 || len(exp.Ledger) != 2 ||
		len(exp.Ballots) != 1 || len(exp.Blocks) != 1 || len(exp.Tokens) != 2 || !strings.Contains(string(r.body), "12 Rue Secrète") {
		t.Fatalf("export incomplete: %s", r.body)
	}
	if len(exp.Proposals) != 1 || exp.Proposals[0]["body"] != "I was stranded at 3 Quai Privé at 2am. Signed, Zoé Secret" {
		t.Fatalf("export lacks the proposal's text: %v", exp.Proposals)
	}
	if strings.Contains(string(r.body), "token_hash") {
		t.Fatal("export leaks token hashes")
	}
	// A refund Zoé puts to the vote: her reason, and the proposal that repeats it.
	e.must(202, "POST", fmt.Sprintf("/v1/payments/%d/refund", workPayment), c.token, map[string]any{"reason": "Zoé waited 40 minutes in the rain"})

	secrets := []personal{
		{what: "refund reason", text: "Zoé waited 40 minutes in the rain"},
		{what: "name", text: "Zoé Secret"},
		{what: "email", text: "zoé.secret@example.org"},
		{what: "phone", text: "+33 6 12 34 56 78"},
		{what: "pickup address", text: "12 Rue Secrète"},
		{what: "drop-off address", text: "3 Quai Privé"},
		{what: "work notes", text: "door code 4821"},
		{what: "cancellation reason", text: "Zoé is at the hospital"},
		{what: "idempotency key", text: "tip-from-zoe-secret"},
		{what: "proposal title", text: "Zoé's plan for night drivers"},
		{what: "proposal body", text: "Signed, Zoé Secret"},
		tokenHash(c.token),
		tokenHash(second),
	}
	e.assertStored(secrets)

	entriesBefore := e.count("ledger_entries")
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d", c.id), c.token, nil)
	// The tokens are gone with the person.
	e.must(401, "GET", fmt.Sprintf("/v1/members/%d", c.id), c.token, nil)
	e.must(401, "GET", fmt.Sprintf("/v1/members/%d", c.id), second, nil)
	e.must(409, "DELETE", fmt.Sprintf("/v1/members/%d", c.id), adminToken, nil)

	// Nothing personal survives in any column of any table.
	e.assertErased(append(secrets, personal{what: "token", text: c.token}, personal{what: "token", text: second}))
	if n := e.references(c.id, "blocks", "customer_id", "worker_id"); n != 0 {
		t.Errorf("%d blocks survive erasure", n)
	}
	if n := e.references(c.id, "delegations", "member_id", "delegate_id"); n != 0 {
		t.Errorf("%d delegations survive erasure", n)
	}

	// The ledger keeps every entry and still balances, also after a later refund of the
	// erased member's payment.
	if e.count("ledger_entries") != entriesBefore {
		t.Fatal("erasure removed ledger entries")
	}
	e.assertBalanced()
	e.must(200, "POST", fmt.Sprintf("/v1/payments/%d/refund", tip), adminToken, nil)
	e.assertBalanced()
	earn := e.must(200, "GET", fmt.Sprintf("/v1/members/%d/earnings", w.id), w.token, nil)
	if num(earn["earnedCents"]) != 2425 {
		t.Fatalf("earnings %v", earn)
	}
	m := e.must(200, "GET", fmt.Sprintf("/v1/members/%d", c.id), adminToken, nil)
	if m["name"] != nil || m["email"] != nil || m["erasedAt"] == nil {
		t.Fatalf("member after erasure %v", m)
	}
	// The proposal stays as the co-op's record: its author (anonymised), field, ballots.
	view := e.must(200, "GET", fmt.Sprintf("/v1/proposals/%d", pid), w.token, nil)
	pr := view["proposal"].(map[string]any)
	if num(pr["createdBy"]) != c.id || pr["field"] != "feeSplit" || pr["status"] != "open" || pr["title"] == "" {
		t.Fatalf("proposal after erasure %v", pr)
	}
	if n := e.references(pid, "ballots", "proposal_id"); n != 2 {
		t.Fatalf("%d ballots after erasure, want 2", n)
	}
	// The roll was fixed when the vote opened: the erased member's ballot stays and counts.
	var yes int
	for _, c := range e.openTally(pid).Classes {
		yes += c.Yes
	}
	if tu := view["turnout"].(map[string]any); yes != 2 || num(tu["ballots"]) != 2 {
		t.Fatalf("%d yes ballots count after erasure, want 2; turnout %v", yes, tu)
	}
	// Only the member's own idempotency keys are replaced.
	if k := e.must(200, "GET", fmt.Sprintf("/v1/payments/%d", workPayment), w.token, nil)["idempotencyKey"]; k != fmt.Sprintf("work-%d", id) {
		t.Fatalf("the work payment's key became %v", k)
	}
}

// An erased worker's own words go too, and the free-text class staff gave them outside
// multi-stakeholder governance; the work they did and their earnings stay.
func TestErasureOfAWorker(t *testing.T) {
	e := newEnv(t, withModel(t, policy.OneMemberOneVote, 50, 50))
	c := e.customer("Rita Rider")
	w := e.worker("Wanda Wheel")
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", w.id), adminToken, map[string]any{"phone": "+33 7 98 76 54 32", "stakeholderClass": "Wanda's family garage"})
	done := num(e.must(201, "POST", "/v1/work", c.token, ride(1000, 0))["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", done), c.token, nil)
	e.completeWork(done, w.token)
	dropped := num(e.must(201, "POST", "/v1/work", c.token, ride(800, 0))["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", dropped), c.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", dropped), w.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", dropped), w.token, map[string]any{"reason": "Wanda's car broke down"})
	e.must(201, "POST", "/v1/blocks", c.token, map[string]any{"workerId": w.id})
	// A vote whose roll holds Wanda, with the class staff wrote (free text under this model).
	e.must(201, "POST", "/v1/proposals", w.token, map[string]any{"title": "Winter tyres for all"})

	secrets := []personal{
		{what: "name", text: "Wanda Wheel"},
		{what: "email", text: "wanda.wheel@example.org"},
		{what: "phone", text: "+33 7 98 76 54 32"},
		{what: "cancellation reason", text: "Wanda's car broke down"},
		{what: "stakeholder class", text: "Wanda's family garage"},
		tokenHash(w.token),
	}
	e.assertStored(secrets)
	// Staff erase an active member's data only once they are deactivated.
	e.refused(409, "active", "an active member erases their own data", "DELETE", fmt.Sprintf("/v1/members/%d", w.id), adminToken, nil)
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", w.id), adminToken, map[string]any{"active": false})
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d", w.id), adminToken, nil)
	e.assertErased(secrets)
	if n := e.references(w.id, "blocks", "customer_id", "worker_id"); n != 0 {
		t.Errorf("%d blocks survive erasure", n)
	}
	e.assertBalanced()
	if e.balance(acctMember(w.id)) != 970 {
		t.Fatalf("the erased worker's account holds %d", e.balance(acctMember(w.id)))
	}
	got := e.must(200, "GET", fmt.Sprintf("/v1/work/%d", done), c.token, nil)
	if got["state"] != "completed" || got["paymentId"] == nil {
		t.Fatalf("work after erasure %v", got)
	}
}

// TestErasureOfACustomerRestocksTheirOrders: erasing a customer cancels their marketplace
// orders still waiting for the maker, and, as a cancel does, puts the quantity they held
// back into the listing's stock.
func TestErasureOfACustomerRestocksTheirOrders(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "marketplace"))
	buyer := e.member("Bea Buyer", []string{"customer"}, "")
	maker := e.member("Mia Maker", []string{"worker"}, "")
	lid := num(e.must(201, "POST", "/v1/listings", maker.token, map[string]any{"title": "Stoneware bowl", "priceCents": 2500, "stock": 10})["id"])
	details := map[string]string{"listingId": fmt.Sprint(lid), "shippingAddress": "2 quai Saint-Antoine", "quantity": "+2"} // as the API reads 2
	two := num(e.must(201, "POST", "/v1/work", buyer.token, map[string]any{"kind": "order", "details": details})["id"])
	delete(details, "quantity") // one, by default
	e.must(201, "POST", "/v1/work", buyer.token, map[string]any{"kind": "order", "details": details})
	if got := e.must(200, "GET", fmt.Sprintf("/v1/listings/%d", lid), maker.token, nil); num(got["stock"]) != 7 {
		t.Fatalf("stock before the erasure: %v", got)
	}
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d", buyer.id), buyer.token, nil)
	if got := e.must(200, "GET", fmt.Sprintf("/v1/listings/%d", lid), maker.token, nil); num(got["stock"]) != 10 {
		t.Errorf("stock after the erasure: %v, want 10", got["stock"])
	}
	if got := e.must(200, "GET", fmt.Sprintf("/v1/work/%d", two), adminToken, nil); got["state"] != "cancelled" {
		t.Errorf("the waiting order after the erasure: %v", got["state"])
	}
}

// TestErasureOfPaymentKeys: the idempotency keys of a member's payments go with their
// data: the keys they chose and the keys staff chose for payments on their behalf (free
// text that may name them). Other clients' keys and a work item's key stay.
func TestErasureOfPaymentKeys(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	z := e.customer("Zoé Secret")
	o := e.customer("Olga Other")
	w := e.worker("Dan Driver")
	pay := func(token, key string, body map[string]any) int64 {
		t.Helper()
		body["workerId"] = w.id
		return num(e.must(201, "POST", "/v1/payments", token, body, "Idempotency-Key", key)["id"])
	}
	work, _ := e.completedRide(z, 900)
	workPay := num(e.must(200, "GET", fmt.Sprintf("/v1/work/%d", work), z.token, nil)["paymentId"])
	olgasWork, _ := e.completedRide(o, 900)
	own := pay(z.token, "tip-from-zoe", map[string]any{"workId": work, "amountCents": 300})
	onBehalf := pay(adminToken, "staff-refund-for-zoe-secret", map[string]any{"amountCents": 400, "payerId": z.id})
	othersOnBehalf := pay(adminToken, "staff-for-olga", map[string]any{"amountCents": 500, "payerId": o.id})
	staffOwn := pay(adminToken, "staff-bonus", map[string]any{"amountCents": 600})
	others := pay(o.token, "olga-tip", map[string]any{"workId": olgasWork, "amountCents": 700})

	secrets := []personal{
		{what: "idempotency key", text: "tip-from-zoe"},
		{what: "staff's idempotency key on the member's behalf", text: "staff-refund-for-zoe-secret"},
	}
	e.assertStored(secrets)
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d", z.id), z.token, nil)
	e.assertErased(secrets)
	for id, want := range map[int64]string{
		own:            fmt.Sprintf("erased-%d", own),
		onBehalf:       fmt.Sprintf("erased-%d", onBehalf),
		othersOnBehalf: "staff-for-olga",
		staffOwn:       "staff-bonus",
		others:         "olga-tip",
		workPay:        fmt.Sprintf("work-%d", work),
	} {
		if got := e.must(200, "GET", fmt.Sprintf("/v1/payments/%d", id), adminToken, nil)["idempotencyKey"]; got != want {
			t.Errorf("payment %d's key is %v after erasure, want %s", id, got, want)
		}
	}
	// The other clients' keys still replay their payments.
	if got := pay(o.token, "olga-tip", map[string]any{"workId": olgasWork, "amountCents": 700}); got != others {
		t.Errorf("olga-tip replayed as payment %d, want %d", got, others)
	}
	if got := pay(adminToken, "staff-for-olga", map[string]any{"amountCents": 500, "payerId": o.id}); got != othersOnBehalf {
		t.Errorf("staff-for-olga replayed as payment %d, want %d", got, othersOnBehalf)
	}
	e.assertBalanced()
}

// TestErasureWithKeysLikeErasedOnes: a client may have chosen a key that looks like an
// erased one ("erased-<id>"); erasure still succeeds, and staff's key still replays.
func TestErasureWithKeysLikeErasedOnes(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	z := e.customer("Zoé Secret")
	w := e.worker("Dan Driver")
	pay := func(token, key string, body map[string]any) int64 {
		t.Helper()
		body["workerId"] = w.id
		return num(e.must(201, "POST", "/v1/payments", token, body, "Idempotency-Key", key)["id"])
	}
	work, _ := e.completedRide(z, 900)
	first := pay(z.token, "a-tip", map[string]any{"workId": work, "amountCents": 300})
	second := pay(z.token, fmt.Sprintf("erased-%d", first), map[string]any{"workId": work, "amountCents": 400})
	onBehalf := pay(adminToken, "b-for-zoe", map[string]any{"amountCents": 500, "payerId": z.id})
	staffKey := fmt.Sprintf("erased-%d", onBehalf)
	staffOwn := pay(adminToken, staffKey, map[string]any{"amountCents": 600})

	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d", z.id), z.token, nil)
	for id, want := range map[int64]string{
		first:    fmt.Sprintf("erased-%d", first),
		second:   fmt.Sprintf("erased-%d", second),
		onBehalf: fmt.Sprintf("erased-%d", onBehalf),
		staffOwn: staffKey,
	} {
		if got := e.must(200, "GET", fmt.Sprintf("/v1/payments/%d", id), adminToken, nil)["idempotencyKey"]; got != want {
			t.Errorf("payment %d's key is %v after erasure, want %s", id, got, want)
		}
	}
	if got := pay(adminToken, staffKey, map[string]any{"amountCents": 600}); got != staffOwn {
		t.Errorf("staff's %s replayed as payment %d, want %d", staffKey, got, staffOwn)
	}
	e.assertBalanced()
}

// TestExportOfPaymentKeys: a member's export carries the idempotency keys that are
// theirs (the keys they chose, staff's for payments on their behalf) and work items'
// keys, but not another client's key on a payment to them.
func TestExportOfPaymentKeys(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	z := e.member("Zoé Secret", []string{"customer", "worker"}, "riders", "ride")
	o := e.customer("Olga Other")
	w := e.worker("Dan Driver")
	pay := func(token, key string, body map[string]any) int64 {
		t.Helper()
		return num(e.must(201, "POST", "/v1/payments", token, body, "Idempotency-Key", key)["id"])
	}
	// Zoé's ride goes to Dan, the only available driver; then Zoé drives Olga.
	work, _ := e.completedRide(z, 900)
	e.setAvailable(w, false)
	e.setAvailable(z, true)
	olgasWork, driver := e.completedRide(o, 900)
	if driver != z.id {
		t.Fatalf("Olga's ride went to %d, not Zoé", driver)
	}
	paymentOf := func(work int64) int64 {
		return num(e.must(200, "GET", fmt.Sprintf("/v1/work/%d", work), adminToken, nil)["paymentId"])
	}
	want := map[int64]string{
		pay(z.token, "tip-from-zoe", map[string]any{"workId": work, "amountCents": 300}):                        "tip-from-zoe",
		pay(adminToken, "staff-for-zoe", map[string]any{"workerId": w.id, "amountCents": 400, "payerId": z.id}): "staff-for-zoe",
		pay(o.token, "olga-pays-zoe", map[string]any{"workId": olgasWork, "amountCents": 500}):                  "",
		pay(adminToken, "staff-bonus-for-zoe", map[string]any{"workerId": z.id, "amountCents": 600}):            "",
		paymentOf(work):      fmt.Sprintf("work-%d", work),
		paymentOf(olgasWork): fmt.Sprintf("work-%d", olgasWork),
	}
	pay(adminToken, "staff-for-olga", map[string]any{"workerId": w.id, "amountCents": 700, "payerId": o.id})

	r := e.call("GET", fmt.Sprintf("/v1/members/%d/export", z.id), z.token, nil)
	if r.status != 200 {
		t.Fatalf("export %d %s", r.status, r.body)
	}
	var exp struct {
		Payments []map[string]any `json:"payments"`
	}
	if err := json.Unmarshal(r.body, &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp.Payments) != len(want) {
		t.Fatalf("%d payments exported, want %d: %s", len(exp.Payments), len(want), r.body)
	}
	for _, p := range exp.Payments {
		id := num(p["id"])
		key, shown := p["idempotencyKey"]
		if w, ok := want[id]; !ok || (w == "" && shown) || (w != "" && key != w) {
			t.Errorf("payment %d exported with key %v (shown %v), want %q", id, key, shown, w)
		}
		if p["split"] == nil || num(p["grossCents"]) == 0 {
			t.Errorf("payment %d exported without its amounts: %v", id, p)
		}
	}
	if strings.Contains(string(r.body), "olga-pays-zoe") || strings.Contains(string(r.body), "staff-for-olga") || strings.Contains(string(r.body), "staff-bonus") {
		t.Fatalf("the export shows another client's key: %s", r.body)
	}
}
