package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cooperator-dev/cooperator/platform/server/ledger"
	"github.com/cooperator-dev/cooperator/platform/server/store/payments"
)

func TestPaymentsInParallel(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	w := e.worker("Dan Driver")
	const n, workers = 200, 16
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < n; i += workers {
				r := e.call("POST", "/v1/payments", adminToken, map[string]any{"workerId": w.id, "amountCents": 1999},
					"Idempotency-Key", fmt.Sprintf("p-%d", i))
				if r.status != 201 {
					errs <- fmt.Sprintf("payment %d: %d %s", i, r.status, r.body)
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	e.assertBalanced()
	if got := e.count("payments"); got != n {
		t.Fatalf("%d payments, want %d", got, n)
	}
	// Each payment of 1999: payer, worker, hardship, reserve, operating = 5 entries.
	if got := e.count("ledger_entries"); got != 5*n {
		t.Fatalf("%d entries, want %d", got, 5*n)
	}
	if got := e.balance("fund:hardship"); got != 19*n {
		t.Fatalf("hardship %d, want %d", got, 19*n)
	}
	if got := e.balance(fmt.Sprintf("member:%d", w.id)); got != 1940*n {
		t.Fatalf("worker %d, want %d", got, 1940*n)
	}
}

func TestIdempotency(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	w := e.worker("Dan Driver")
	c := e.customer("Rita Rider")
	other := e.customer("Omar Other")
	work, _ := e.completedRide(c, 5000)
	otherWork, _ := e.completedRide(other, 5000)
	completions := e.count("payments")
	body := map[string]any{"workId": work, "workerId": w.id, "amountCents": 1500}
	first := e.call("POST", "/v1/payments", c.token, body, "Idempotency-Key", "k1")
	second := e.call("POST", "/v1/payments", c.token, body, "Idempotency-Key", "k1")
	if first.status != 201 || second.status != 201 || string(first.body) != string(second.body) {
		t.Fatalf("replay differs:\n%d %s\n%d %s", first.status, first.body, second.status, second.body)
	}
	before := e.count("ledger_entries")
	body["amountCents"] = 1501
	e.must(409, "POST", "/v1/payments", c.token, body, "Idempotency-Key", "k1")
	if e.count("payments") != completions+1 || e.count("ledger_entries") != before {
		t.Fatal("a conflicting replay wrote something")
	}

	// A key belongs to its client: another member's "k1" is another payment.
	third := e.call("POST", "/v1/payments", other.token, map[string]any{"workId": otherWork, "amountCents": 1501}, "Idempotency-Key", "k1")
	if third.status != 201 || e.count("payments") != completions+2 {
		t.Fatalf("another member's k1 must be its own payment: %d %s", third.status, third.body)
	}

	// The same key from 16 goroutines at once: one payment, the same answer to all.
	var wg sync.WaitGroup
	bodies := make([]string, 16)
	for i := range bodies {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := e.call("POST", "/v1/payments", c.token, map[string]any{"workId": work, "amountCents": 777}, "Idempotency-Key", "k2")
			bodies[i] = fmt.Sprint(r.status, string(r.body))
		}(i)
	}
	wg.Wait()
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Fatalf("answers differ:\n%s\n%s", bodies[0], b)
		}
	}
	// k1 of each of the two members, and one k2.
	if got := e.count("payments"); got != completions+3 {
		t.Fatalf("%d payments, want %d", got, completions+3)
	}
	e.assertBalanced()
}

// TestIdempotencyOfDirectPayments: a payment to a worker without a work item is one
// statement that takes no lock; the same key sent at once from many goroutines still makes
// one payment, and every answer is that payment, or a 409 for a different request.
func TestIdempotencyOfDirectPayments(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	w := e.worker("Dan Driver")
	send := func(n int, key string, body func(i int) map[string]any) []resp {
		out := make([]resp, n)
		var wg sync.WaitGroup
		for i := range out {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out[i] = e.call("POST", "/v1/payments", adminToken, body(i), "Idempotency-Key", key)
			}()
		}
		wg.Wait()
		return out
	}
	same := send(16, "d1", func(int) map[string]any { return map[string]any{"workerId": w.id, "amountCents": 1999} })
	for _, r := range same {
		if r.status != 201 || string(r.body) != string(same[0].body) {
			t.Fatalf("answers differ:\n%d %s\n%d %s", same[0].status, same[0].body, r.status, r.body)
		}
	}
	e.assertRows("one payment", map[string]int64{"payments": 1, "ledger_entries": 5})

	// Two different requests under one key at once: one is recorded; the same request is
	// answered with it, the other with a 409 naming the header.
	mixed := send(16, "d2", func(i int) map[string]any { return map[string]any{"workerId": w.id, "amountCents": 1000 + i%2} })
	var recorded []byte
	var amount int64
	for _, r := range mixed {
		if r.status == 201 {
			recorded, amount = r.body, num(r.json()["grossCents"])
		}
	}
	if recorded == nil {
		t.Fatal("no request recorded the key")
	}
	for i, r := range mixed {
		switch {
		case int64(1000+i%2) == amount && (r.status != 201 || string(r.body) != string(recorded)):
			t.Errorf("request %d, the recorded one: %d %s", i, r.status, r.body)
		case int64(1000+i%2) != amount && (r.status != 409 || !strings.Contains(string(r.body), `"field":"Idempotency-Key"`)):
			t.Errorf("request %d, a different one: %d %s, want 409 naming Idempotency-Key", i, r.status, r.body)
		}
	}
	e.assertRows("two payments", map[string]int64{"payments": 2, "ledger_entries": 10})
	e.assertBalanced()
}

// TestPaymentKeyRecordedConcurrently: Record waits on the key a concurrent transaction is
// recording, then writes nothing and says so (ErrKeyTaken); Lookup answers with the
// recorded payment, or ErrKeyReused for a different request.
func TestPaymentKeyRecordedConcurrently(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	w := e.worker("Dan Driver")
	ctx := context.Background()
	split, err := ledger.Compute(e.s.Policy().Current().FeeSplit, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	req := payments.New{WorkerID: w.id, AmountCents: 1000}
	hash := []byte("request")
	first, err := e.s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = first.Rollback(ctx) }()
	p, outcome, err := payments.On(first).Record(ctx, payments.StaffScope, "c1", hash, req, split)
	if err != nil || outcome != payments.Created {
		t.Fatalf("first: %v %v", outcome, err)
	}
	var firstPID int32
	if err := first.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&firstPID); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := payments.On(e.s.Pool()).Record(ctx, payments.StaffScope, "c1", hash, req, split)
		done <- err
	}()
	// The second statement waits on the first transaction's key.
	for blocked := false; !blocked; {
		if err := e.owner.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid)))`, firstPID).Scan(&blocked); err != nil {
			t.Fatal(err)
		}
	}
	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, payments.ErrKeyTaken) {
		t.Fatalf("second: %v, want ErrKeyTaken", err)
	}
	e.assertRows("the second statement wrote nothing", map[string]int64{"payments": 1, "ledger_transactions": 1, "ledger_entries": 5})
	got, err := payments.On(e.s.Pool()).Lookup(ctx, payments.StaffScope, "c1", hash)
	if err != nil || got.ID != p.ID {
		t.Fatalf("lookup: %+v %v, want payment %d", got, err, p.ID)
	}
	if _, err := payments.On(e.s.Pool()).Lookup(ctx, payments.StaffScope, "c1", []byte("another")); !errors.Is(err, payments.ErrKeyReused) {
		t.Fatalf("lookup of another request: %v, want ErrKeyReused", err)
	}
	// Replayed afterwards, the statement answers with the stored payment itself.
	again, outcome, err := payments.On(e.s.Pool()).Record(ctx, payments.StaffScope, "c1", hash, req, split)
	if err != nil || outcome != payments.Stored || again.ID != p.ID {
		t.Fatalf("replay: %v %v %d, want the stored payment %d", outcome, err, again.ID, p.ID)
	}
	e.assertBalanced()
}

func TestRefund(t *testing.T) {
	e := newEnv(t, mustPolicy(t, withFares(ridePolicy, rideFares))) // its surge windows allow the payment's surge
	w := e.worker("Dan Driver")
	p := e.must(201, "POST", "/v1/payments", adminToken, map[string]any{"workerId": w.id, "amountCents": 10000, "surgeCents": 1000}, "Idempotency-Key", "r1")
	id := num(p["id"])
	r := e.must(200, "POST", fmt.Sprintf("/v1/payments/%d/refund", id), adminToken, nil)
	if r["refunded"] != true {
		t.Fatalf("refund %v", r)
	}
	e.must(409, "POST", fmt.Sprintf("/v1/payments/%d/refund", id), adminToken, nil)
	e.assertBalanced()
	for _, a := range []string{"fund:hardship", "fund:reserve", "coop:operating", fmt.Sprintf("member:%d", w.id)} {
		if b := e.balance(a); b != 0 {
			t.Errorf("%s balance %d after refund", a, b)
		}
	}
	if e.count("ledger_transactions") != 2 {
		t.Fatal("the refund is not its own transaction")
	}
}

// TestLedgerDatabaseGuards checks the database itself refuses an unbalanced
// transaction and any change to a posted entry, even by the tables' owner (the serving
// role may not try: TestSecurity_ServingRoleCannotRewriteLedger).
func TestLedgerDatabaseGuards(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, e.s.Pool(), func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO ledger_transactions (kind) VALUES ('payment') RETURNING id`).Scan(&id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO ledger_entries (tx_id, account, amount_cents) VALUES ($1, 'payer', -100), ($1, 'coop:operating', 99)`, id)
		return err
	})
	if err == nil {
		t.Fatal("unbalanced transaction committed")
	}
	if e.count("ledger_entries") != 0 {
		t.Fatal("entries left behind")
	}
	w := e.worker("Dan Driver")
	e.must(201, "POST", "/v1/payments", adminToken, map[string]any{"workerId": w.id, "amountCents": 100}, "Idempotency-Key", "g1")
	if _, err := e.owner.Exec(ctx, `UPDATE ledger_entries SET amount_cents = amount_cents + 1`); err == nil {
		t.Fatal("ledger entry updated")
	}
	if _, err := e.owner.Exec(ctx, `DELETE FROM ledger_entries`); err == nil {
		t.Fatal("ledger entry deleted")
	}
	// PostTransaction checks the balance itself before the database does.
	if _, err := postTransactionCommit(ctx, e, []ledger.Entry{{Account: acctPayer, AmountCents: -5}, {Account: acctOperating, AmountCents: 5}}); err != nil {
		t.Fatal(err)
	}
	if _, err := postTransactionCommit(ctx, e, []ledger.Entry{{Account: acctPayer, AmountCents: -5}, {Account: acctOperating, AmountCents: 4}}); err == nil {
		t.Fatal("PostTransaction accepted an unbalanced transaction")
	}
	e.assertBalanced()
}

// TestPaymentsDatabaseGuards: the database refuses, to the tables' owner too, deleting or
// truncating a payment, changing what it says, and refunding it twice; a refund and an
// erasure still change what they change (the API's refund below, and an erasure of the
// payer in TestSecurity_ServingRoleCannotRewriteLedger).
func TestPaymentsDatabaseGuards(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	ctx := context.Background()
	w, c := e.worker("Dan Driver"), e.customer("Rita Rider")
	id := num(e.must(201, "POST", "/v1/payments", adminToken, map[string]any{"workerId": w.id, "amountCents": 1000, "payerId": c.id}, "Idempotency-Key", "g1")["id"])
	before := e.must(200, "GET", fmt.Sprintf("/v1/payments/%d", id), adminToken, nil)
	for _, stmt := range []string{
		`UPDATE payments SET gross_cents = 1`,
		`UPDATE payments SET worker_id = payer_id`,
		`UPDATE payments SET payer_id = NULL`,
		`UPDATE payments SET split = '{}'`,
		`UPDATE payments SET tx_id = tx_id + 0, created_at = created_at - interval '1 day'`,
		`DELETE FROM payments`,
		`TRUNCATE payments CASCADE`, // the tables that refer to it too (alone: their foreign keys refuse it first)
	} {
		_, err := e.owner.Exec(ctx, stmt)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23001" || (!strings.HasPrefix(pe.Message, "the ledger is append-only: TRUNCATE ") && !strings.HasPrefix(pe.Message, "payments are append-only: ")) {
			t.Errorf("%s as the owner: %v, want the append-only refusal", stmt, err)
		}
	}
	// What an erasure changes, the owner may change.
	if _, err := e.owner.Exec(ctx, `UPDATE payments SET idempotency_scope = 'erased:' || idempotency_scope, idempotency_key = 'erased-' || id`); err != nil {
		t.Fatalf("replacing an idempotency key: %v", err)
	}
	e.must(200, "POST", fmt.Sprintf("/v1/payments/%d/refund", id), adminToken, nil)
	for _, stmt := range []string{`UPDATE payments SET refund_tx_id = tx_id`, `UPDATE payments SET refunded_by = 'worker'`} {
		_, err := e.owner.Exec(ctx, stmt)
		if pe := (*pgconn.PgError)(nil); !errors.As(err, &pe) || pe.Message != "payments are append-only: a payment is refunded once" {
			t.Errorf("%s after the refund: %v, want the append-only refusal", stmt, err)
		}
	}
	_, err := e.owner.Exec(ctx, `INSERT INTO payments (idempotency_key, idempotency_scope, request_hash, worker_id, gross_cents, surge_cents, split, tx_id, refunded_by)
		SELECT 'x', 'x', request_hash, worker_id, gross_cents, surge_cents, split, tx_id, 'staff' FROM payments`)
	if pe := (*pgconn.PgError)(nil); !errors.As(err, &pe) || pe.Code != "23514" || pe.ConstraintName != "payments_refunded_by_needs_a_refund" {
		t.Errorf("a payment saying who refunded it without a refund: %v, want the check payments_refunded_by_needs_a_refund", err)
	}
	after := e.must(200, "GET", fmt.Sprintf("/v1/payments/%d", id), adminToken, nil)
	for _, k := range []string{"grossCents", "workerId", "payerId", "split", "transactionId", "createdAt"} {
		if fmt.Sprint(after[k]) != fmt.Sprint(before[k]) {
			t.Errorf("%s: %v, was %v", k, after[k], before[k])
		}
	}
	e.assertBalanced()
}

// TestLedgerTruncateRefused: TRUNCATE fires no row trigger, so the ledger refuses it
// with a statement trigger, also when it cascades from the ledger's transactions; the
// entries stay. Tried as the owner: the serving role has no TRUNCATE at all.
func TestLedgerTruncateRefused(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	ctx := context.Background()
	w := e.worker("Dan Driver")
	e.must(201, "POST", "/v1/payments", adminToken, map[string]any{"workerId": w.id, "amountCents": 1999}, "Idempotency-Key", "t1")
	entries, txs := e.count("ledger_entries"), e.count("ledger_transactions")
	if entries == 0 {
		t.Fatal("no entries to keep")
	}
	for _, stmt := range []string{
		`TRUNCATE ledger_entries`,
		`TRUNCATE ledger_entries RESTART IDENTITY`,
		`TRUNCATE ledger_transactions, ledger_entries, payments, disbursements, refund_requests`, // every table that refers to ledger_transactions, and to payments
		`TRUNCATE ledger_transactions CASCADE`,
	} {
		_, err := e.owner.Exec(ctx, stmt)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23001" || !strings.HasPrefix(pe.Message, "the ledger is append-only: TRUNCATE ledger_") {
			t.Errorf("%s: %v, want the append-only refusal", stmt, err)
		}
		if e.count("ledger_entries") != entries || e.count("ledger_transactions") != txs || e.count("payments") != 1 {
			t.Fatalf("%s removed rows", stmt)
		}
	}
	e.assertBalanced()
}

// TestLedgerTransactionsAppendOnly: a ledger transaction cannot be changed or removed
// either; its kind decides which report a payment counts in.
func TestLedgerTransactionsAppendOnly(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	ctx := context.Background()
	w := e.worker("Dan Driver")
	e.must(201, "POST", "/v1/payments", adminToken, map[string]any{"workerId": w.id, "amountCents": 1999}, "Idempotency-Key", "t1")
	var kinds string
	if err := e.owner.QueryRow(ctx, `SELECT string_agg(kind, ',' ORDER BY id) FROM ledger_transactions`).Scan(&kinds); err != nil {
		t.Fatal(err)
	}
	txs := e.count("ledger_transactions")
	for _, stmt := range []string{
		`UPDATE ledger_transactions SET kind = 'refund'`,
		`DELETE FROM ledger_transactions WHERE id = (SELECT max(id) FROM ledger_transactions)`,
		`TRUNCATE ledger_transactions CASCADE`, // alone, its foreign keys refuse it already
	} {
		_, err := e.owner.Exec(ctx, stmt)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23001" || !strings.HasPrefix(pe.Message, "the ledger is append-only") {
			t.Errorf("%s: %v, want the append-only refusal", stmt, err)
		}
	}
	var after string
	if err := e.owner.QueryRow(ctx, `SELECT string_agg(kind, ',' ORDER BY id) FROM ledger_transactions`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != kinds || e.count("ledger_transactions") != txs {
		t.Errorf("ledger transactions changed: kinds %q, want %q", after, kinds)
	}
	e.assertBalanced()
}

func postTransactionCommit(ctx context.Context, e *env, es []ledger.Entry) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, e.s.Pool(), func(tx pgx.Tx) error {
		var err error
		id, err = payments.On(tx).PostTransaction(ctx, "payment", es)
		return err
	})
	return id, err
}

// TestLedgerBalanceCheckedAtCommit writes ledger entries over several statements of one
// database transaction: the balance of each ledger transaction is checked at commit, not
// per statement, and not as the sum of all of them.
func TestLedgerBalanceCheckedAtCommit(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	ctx := context.Background()
	// run executes each step as its own statement in one database transaction; every
	// statement must succeed (the check is deferred), and the commit's error is returned.
	run := func(steps func(newLedgerTx func() int64, add func(ledgerTx, cents int64))) error {
		t.Helper()
		tx, err := e.s.Pool().Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback(ctx) }()
		newLedgerTx := func() int64 {
			t.Helper()
			var id int64
			if err := tx.QueryRow(ctx, `INSERT INTO ledger_transactions (kind) VALUES ('payment') RETURNING id`).Scan(&id); err != nil {
				t.Fatal(err)
			}
			return id
		}
		add := func(ledgerTx, cents int64) {
			t.Helper()
			if _, err := tx.Exec(ctx, `INSERT INTO ledger_entries (tx_id, account, amount_cents) VALUES ($1, $2, $3)`,
				ledgerTx, fmt.Sprintf("test:%d", cents), cents); err != nil {
				t.Fatalf("statement refused before commit: %v", err)
			}
		}
		steps(newLedgerTx, add)
		return tx.Commit(ctx)
	}
	refused := func(err error, ledgerTx int64) {
		t.Helper()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23514" || !strings.Contains(pe.Message, fmt.Sprintf("ledger transaction %d does not balance", ledgerTx)) {
			t.Fatalf("commit: %v, want the balance check to refuse ledger transaction %d", err, ledgerTx)
		}
	}

	// Unbalanced over three statements: refused at commit, nothing kept.
	var unbalanced int64
	err := run(func(newLedgerTx func() int64, add func(int64, int64)) {
		unbalanced = newLedgerTx()
		add(unbalanced, -100)
		add(unbalanced, 60)
		add(unbalanced, 30)
	})
	refused(err, unbalanced)
	if e.count("ledger_transactions") != 0 || e.count("ledger_entries") != 0 {
		t.Fatal("a refused commit left rows behind")
	}

	// Balanced over three statements, unbalanced in between: committed.
	var balanced int64
	if err := run(func(newLedgerTx func() int64, add func(int64, int64)) {
		balanced = newLedgerTx()
		add(balanced, -100)
		add(balanced, 60)
		add(balanced, 40)
	}); err != nil {
		t.Fatalf("balanced multi-statement transaction refused: %v", err)
	}
	if e.count("ledger_entries") != 3 {
		t.Fatalf("%d entries committed, want 3", e.count("ledger_entries"))
	}
	e.assertBalanced()

	// Two ledger transactions, interleaved, each unbalanced though together they sum to
	// zero: refused.
	err = run(func(newLedgerTx func() int64, add func(int64, int64)) {
		first, second := newLedgerTx(), newLedgerTx()
		add(first, -50)
		add(second, -20)
		add(first, 51)
		add(second, 19)
	})
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23514" {
		t.Fatalf("commit: %v, want the balance check to refuse", err)
	}

	// Adding to a committed ledger transaction in a later database transaction: only a
	// balanced addition commits.
	refused(run(func(_ func() int64, add func(int64, int64)) {
		add(balanced, 7)
	}), balanced)
	if err := run(func(_ func() int64, add func(int64, int64)) {
		add(balanced, 7)
		add(balanced, -7)
	}); err != nil {
		t.Fatalf("balanced addition refused: %v", err)
	}
	e.assertRows("only balanced additions", map[string]int64{"ledger_transactions": 1, "ledger_entries": 5})
	e.assertBalanced()
}

// TestPaymentKeyShownToItsClient: those who read a payment (its payer, its worker, staff)
// read its breakdown, but an idempotency key only the client who chose it and staff; a
// work item's key (the service's own) all of them. Others read no payment at all.
func TestPaymentKeyShownToItsClient(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	w := e.worker("Dan Driver")
	c := e.customer("Rita Rider")
	o := e.customer("Omar Other")
	staffMember := e.member("Sam Staff", []string{"staff"}, "staff")
	work, _ := e.completedRide(c, 900)
	workPay := e.must(200, "GET", fmt.Sprintf("/v1/work/%d", work), c.token, nil)["paymentId"]
	own := e.must(201, "POST", "/v1/payments", c.token, map[string]any{"workId": work, "amountCents": 500}, "Idempotency-Key", "rita-tip-1")
	if own["idempotencyKey"] != "rita-tip-1" {
		t.Fatalf("the client's own answer lacks its key: %v", own)
	}
	onBehalf := e.must(201, "POST", "/v1/payments", adminToken, map[string]any{"workerId": w.id, "amountCents": 700, "payerId": c.id},
		"Idempotency-Key", "staff-for-rita")

	check := func(reader string, token string, payment any, want string) {
		t.Helper()
		got := e.must(200, "GET", fmt.Sprintf("/v1/payments/%d", num(payment)), token, nil)
		if got["split"] == nil || num(got["grossCents"]) == 0 {
			t.Errorf("%s: no breakdown: %v", reader, got)
		}
		key, shown := got["idempotencyKey"]
		switch {
		case want == "" && shown:
			t.Errorf("%s sees payment %v's key %v", reader, payment, key)
		case want != "" && key != want:
			t.Errorf("%s sees payment %v's key as %v, want %q", reader, payment, key, want)
		}
	}
	workKey := fmt.Sprintf("work-%d", work)
	check("the client", c.token, own["id"], "rita-tip-1")
	check("the payer, of staff's key", c.token, onBehalf["id"], "")
	check("staff", adminToken, own["id"], "rita-tip-1")
	check("staff", adminToken, onBehalf["id"], "staff-for-rita")
	check("the worker", w.token, own["id"], "")
	check("the worker", w.token, onBehalf["id"], "")
	check("the worker", w.token, workPay, workKey)
	check("the customer", c.token, workPay, workKey)
	check("staff", adminToken, workPay, workKey)
	for _, r := range []struct{ reader, token string }{{"another customer", o.token}, {"a member with the staff role", staffMember.token}} {
		for _, id := range []any{own["id"], onBehalf["id"], workPay} {
			e.must(404, "GET", fmt.Sprintf("/v1/payments/%d", num(id)), r.token, nil)
		}
	}
}
