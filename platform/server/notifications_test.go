package server

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/governance"
	"github.com/cooperator-dev/cooperator/platform/server/store/members"
	"github.com/cooperator-dev/cooperator/platform/server/store/notifications"
)

// notified reads member m's notifications (newest first) as "event subject outcome", and
// how many are unread.
func (e *env) notified(m who) (unread int64, got []string) {
	e.t.Helper()
	feed := e.must(200, "GET", fmt.Sprintf("/v1/members/%d/notifications?limit=100", m.id), m.token, nil)
	for _, n := range feed["notifications"].([]any) {
		n := n.(map[string]any)
		subject := "-"
		if n["subjectId"] != nil {
			subject = fmt.Sprint(num(n["subjectId"]))
		}
		got = append(got, fmt.Sprintf("%s %s %v", n["event"], subject, n["outcome"]))
	}
	return num(feed["unread"]), got
}

func (e *env) assertNotified(m who, wantUnread int64, want ...string) {
	e.t.Helper()
	unread, got := e.notified(m)
	if unread != wantUnread || !slices.Equal(got, want) {
		e.t.Fatalf("member %d notified %q (%d unread), want %q (%d unread)", m.id, got, unread, want, wantUnread)
	}
}

// TestNotifications: the database tells each member what the co-op did that concerns them,
// and not whoever did it: work accepted, completed or cancelled by the other party, a
// refund put to the vote decided (its payer and worker), a proposal closed (who voted), a
// delegation ended by the delegate's erasure. The member reads them and marks them read;
// staff read them but cannot mark them; another member reads nothing. An erased member's
// go with their data, and they get no more.
func TestNotifications(t *testing.T) {
	e := newEnv(t, withModel(t, policy.Delegate, 50, 50))
	c, other := e.customer("Rita Rider"), e.customer("Otto Other")
	w := e.worker("Dan Driver")
	eve := e.member("Eve Worker", []string{"worker"}, "")

	// Work its worker accepted and completed: the customer is told both, the worker nothing.
	ride, pay := e.completedRideBy(c, w, 2000)
	e.assertNotified(c, 2, fmt.Sprintf("workCompleted %d <nil>", ride), fmt.Sprintf("workAccepted %d <nil>", ride))
	e.assertNotified(w, 0)

	// Work its customer cancels once accepted: the worker is told, the customer not (but
	// of its acceptance).
	cancelled := num(e.must(201, "POST", "/v1/work", c.token, ride2())["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", cancelled), c.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", cancelled), w.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", cancelled), c.token, map[string]any{"reason": "Plans changed"})
	e.assertNotified(w, 1, fmt.Sprintf("workCancelled %d <nil>", cancelled))
	rides := []string{fmt.Sprintf("workAccepted %d <nil>", cancelled), fmt.Sprintf("workCompleted %d <nil>", ride), fmt.Sprintf("workAccepted %d <nil>", ride)}
	e.assertNotified(c, 3, rides...)

	// A refund the members vote: its payer and its worker are told how it was decided, and
	// whoever voted that the proposal closed.
	proposal := num(e.must(202, "POST", fmt.Sprintf("/v1/payments/%d/refund", pay), c.token, map[string]any{"reason": "The driver never came"})["proposalId"])
	for _, v := range []who{w, eve} {
		e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", proposal), v.token, map[string]any{"choice": "yes"})
	}
	e.must(200, "POST", fmt.Sprintf("/v1/proposals/%d/close", proposal), adminToken, nil)
	e.assertNotified(w, 3, fmt.Sprintf("refundDecided %d refunded", pay), fmt.Sprintf("proposalClosed %d passed", proposal), fmt.Sprintf("workCancelled %d <nil>", cancelled))
	e.assertNotified(eve, 1, fmt.Sprintf("proposalClosed %d passed", proposal))
	e.assertNotified(c, 4, append([]string{fmt.Sprintf("refundDecided %d refunded", pay)}, rides...)...)

	// Who reads and marks them: another member neither (403), staff read but do not mark.
	path := fmt.Sprintf("/v1/members/%d/notifications", c.id)
	e.refused(403, "", "members may only act on their own data", "GET", path, other.token, nil)
	if feed := e.must(200, "GET", path, adminToken, nil); num(feed["unread"]) != 4 {
		t.Fatalf("staff read %v", feed)
	}
	newest := num(e.must(200, "GET", path+"?limit=1", c.token, nil)["notifications"].([]any)[0].(map[string]any)["id"])
	for _, tok := range []string{adminToken, other.token} {
		e.refused(403, "", "only the member marks their notifications read", "POST", path+"/read", tok, map[string]any{"upTo": newest})
	}
	e.refused(400, "upTo", "must be the id of a notification", "POST", path+"/read", c.token, map[string]any{})
	e.assertNotified(c, 4, append([]string{fmt.Sprintf("refundDecided %d refunded", pay)}, rides...)...)
	// Marking up to the second newest leaves the newest unread; marking another member's
	// ids through one's own path marks nothing of theirs.
	if out := e.must(200, "POST", path+"/read", c.token, map[string]any{"upTo": newest - 1}); num(out["unread"]) != 1 {
		t.Fatalf("marked up to %d: %v", newest-1, out)
	}
	e.must(200, "POST", fmt.Sprintf("/v1/members/%d/notifications/read", other.id), other.token, map[string]any{"upTo": newest})
	e.assertNotified(w, 3, fmt.Sprintf("refundDecided %d refunded", pay), fmt.Sprintf("proposalClosed %d passed", proposal), fmt.Sprintf("workCancelled %d <nil>", cancelled))
	if out := e.must(200, "POST", path+"/read", c.token, map[string]any{"upTo": newest}); num(out["unread"]) != 0 {
		t.Fatalf("marked up to %d: %v", newest, out)
	}

	// Pages, newest first.
	first := e.must(200, "GET", path+"?limit=2", c.token, nil)
	if len(first["notifications"].([]any)) != 2 || first["nextCursor"] == nil {
		t.Fatalf("the first page: %v", first)
	}
	second := e.must(200, "GET", path+"?limit=2&cursor="+first["nextCursor"].(string), c.token, nil)
	if ns := second["notifications"].([]any); len(ns) != 2 || num(ns[1].(map[string]any)["subjectId"]) != ride || second["nextCursor"] != nil {
		t.Fatalf("the second page: %v", second)
	}

	// The member's export has them.
	if ns := e.must(200, "GET", fmt.Sprintf("/v1/members/%d/export", c.id), c.token, nil)["notifications"].([]any); len(ns) != 4 {
		t.Fatalf("exported %v", ns)
	}

	// A change the members pass, and what became of it (the operator writes it back, here
	// as the owner): its author and who voted are told both.
	change := num(e.must(201, "POST", "/v1/proposals", w.token, map[string]any{"title": "A medium plan", "body": "", "field": "plan", "value": "medium"})["id"])
	for _, v := range []who{w, eve} {
		e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", change), v.token, map[string]any{"choice": "yes"})
	}
	e.must(200, "POST", fmt.Sprintf("/v1/proposals/%d/close", change), adminToken, nil)
	if err := governance.RecordApplication(context.Background(), e.owner, change, "refused", "the hub offers no plan medium", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.assertNotified(eve, 3, fmt.Sprintf("proposalApplied %d refused", change), fmt.Sprintf("proposalClosed %d passed", change), fmt.Sprintf("proposalClosed %d passed", proposal))

	// Eve's erasure ends the delegation to her: the member who delegated is told (not
	// whom, who is erased), and Eve's own notifications go.
	// Her ballot stays on the roll of a vote still open, which closes after her erasure:
	// its author is told, she is not.
	e.must(200, "PUT", "/v1/delegation", other.token, map[string]any{"delegateId": eve.id})
	open := num(e.must(201, "POST", "/v1/proposals", w.token, map[string]any{"title": "A medium plan", "body": "", "field": "plan", "value": "medium"})["id"])
	for _, v := range []who{eve, w} {
		e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", open), v.token, map[string]any{"choice": "no"})
	}
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d", eve.id), eve.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/proposals/%d/close", open), adminToken, nil)
	e.assertNotified(other, 1, "delegationEnded - <nil>")
	if _, got := e.notified(w); got[0] != fmt.Sprintf("proposalClosed %d rejected", open) {
		t.Fatalf("the author of proposal %d was told %q", open, got)
	}
	var left int64
	if err := e.s.Pool().QueryRow(context.Background(), `SELECT count(*) FROM notifications WHERE member_id = $1`, eve.id).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d notifications of an erased member (%v)", left, err)
	}
	// An erased member is told nothing more: the work Rita asked for and erased with her
	// data is cancelled, and nobody is told (its worker had not taken it).
	e.must(201, "POST", "/v1/work", c.token, ride2())
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d", c.id), c.token, nil)
	if err := e.s.Pool().QueryRow(context.Background(), `SELECT count(*) FROM notifications WHERE member_id = $1`, c.id).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d notifications of an erased member (%v)", left, err)
	}
}

func ride2() map[string]any { return ride(1500, 0) }

// TestNotificationsAreOnlyMarkedRead: the serving role writes no notification, neither
// itself nor through the function the triggers call, and changes nothing of one but when
// it was read (store.GrantServing, migration 159).
func TestNotificationsAreOnlyMarkedRead(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.customer("Rita Rider")
	w := e.worker("Dan Driver")
	e.completedRideBy(c, w, 2000)
	for _, q := range []string{
		`UPDATE notifications SET event = 'proposalClosed'`,
		`UPDATE notifications SET member_id = member_id + 1`,
		`UPDATE notifications SET at = now()`,
		fmt.Sprintf(`INSERT INTO notifications (member_id, event, subject_id, at) VALUES (%d, 'workCancelled', 1, now())`, c.id),
		fmt.Sprintf(`SELECT notify(ARRAY[%d::bigint], 'workCancelled', 1, '', now())`, c.id),
	} {
		if _, err := e.s.Pool().Exec(context.Background(), q); err == nil {
			t.Errorf("the serving role may %s", q)
		}
	}
	if _, err := e.s.Pool().Exec(context.Background(), `UPDATE notifications SET read_at = now()`); err != nil {
		t.Errorf("the serving role may not mark notifications read: %v", err)
	}
}

// TestNotificationsAreKeptAYear: the background closer deletes notifications a year old,
// read or not, and keeps the younger ones.
func TestNotificationsAreKeptAYear(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.customer("Rita Rider")
	w := e.worker("Dan Driver")
	e.completedRideBy(c, w, 2000)
	// The notifications of the first ride are a year and a second old when the closer
	// runs; those of the second, a second less than a year.
	ctx := context.Background()
	if _, err := e.owner.Exec(ctx, `UPDATE notifications SET at = $1`, e.clock.Now().Add(-notifications.Kept-time.Second)); err != nil {
		t.Fatal(err)
	}
	young, _ := e.completedRideBy(c, w, 2000)
	if _, err := e.owner.Exec(ctx, `UPDATE notifications SET at = $1 WHERE subject_id = $2`, e.clock.Now().Add(-notifications.Kept+time.Second), young); err != nil {
		t.Fatal(err)
	}
	e.must(200, "POST", fmt.Sprintf("/v1/members/%d/notifications/read", c.id), c.token, map[string]any{"upTo": 1})
	closer, stop := context.WithCancel(ctx)
	defer stop()
	go e.s.runCloser(closer, 10*time.Millisecond)
	e.s.migrated.Store(true)
	for end := time.Now().Add(10 * time.Second); e.count("notifications") != 2; {
		if time.Now().After(end) {
			t.Fatalf("%d notifications after 10 s of the closer, want the second ride's 2", e.count("notifications"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	e.assertNotified(c, 2, fmt.Sprintf("workCompleted %d <nil>", young), fmt.Sprintf("workAccepted %d <nil>", young))
	if n, err := notifications.On(e.s.Pool()).Prune(ctx, e.clock.Now().Add(-notifications.Kept)); err != nil || n != 0 {
		t.Fatalf("pruned %d more (%v)", n, err)
	}
}

// erasureUnderWay begins the erasure of member in a transaction of the database's owner,
// as the erasure does it, with the rows it locks locked (members.LockForErasure); the test
// erases and commits, or the transaction is rolled back when it ends.
func (e *env) erasureUnderWay(member int64) pgx.Tx {
	e.t.Helper()
	ctx := context.Background()
	tx, err := e.owner.Begin(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = tx.Rollback(ctx) })
	if _, _, _, err := members.On(tx).LockForErasure(ctx, member); err != nil {
		e.t.Fatal(err)
	}
	return tx
}

// TestSecurity_NoNotificationOutlivesAnErasure: a vote closing while one of its voters'
// erasure is under way waits for it, and then tells the other voters, not the erased one
// (notify sees the erasure it waited for).
func TestSecurity_NoNotificationOutlivesAnErasure(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	w, eve := e.worker("Dan Driver"), e.worker("Eve Driver")
	id := num(e.must(201, "POST", "/v1/proposals", w.token, map[string]any{"title": "A medium plan", "body": "", "field": "plan", "value": "medium"})["id"])
	for _, v := range []who{w, eve} {
		e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), v.token, map[string]any{"choice": "yes"})
	}
	ctx := context.Background()
	tx := e.erasureUnderWay(eve.id)
	if err := members.On(tx).Erase(ctx, eve.id); err != nil {
		t.Fatal(err)
	}
	answer := make(chan resp, 1)
	go func() { answer <- e.call("POST", fmt.Sprintf("/v1/proposals/%d/close", id), adminToken, nil) }()
	e.waitsOnALock(answer, "a close while a voter's erasure is under way")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if r := <-answer; r.status != 200 {
		t.Fatalf("the close: %d %s", r.status, r.body)
	}
	var n int64
	if err := e.owner.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE member_id = $1`, eve.id).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d notifications of an erased member (%v)", n, err)
	}
	e.assertNotified(w, 1, fmt.Sprintf("proposalClosed %d passed", id))
}

// TestSecurity_ErasuresOfADelegateAndTheirDelegatorDoNotDeadlock: while the erasure of a
// member who delegated is under way, their delegate's erasure answers "try again" at once
// (the first holds the delegation), rather than waiting for it and deadlocking with it; once
// the first is done, it goes through, and nobody is told anything (both are erased).
func TestSecurity_ErasuresOfADelegateAndTheirDelegatorDoNotDeadlock(t *testing.T) {
	e := newEnv(t, withModel(t, policy.Delegate, 50, 50))
	ana, bea := e.member("Ana Worker", []string{"worker"}, ""), e.member("Bea Worker", []string{"worker"}, "")
	e.must(200, "PUT", "/v1/delegation", ana.token, map[string]any{"delegateId": bea.id})
	ctx := context.Background()
	tx := e.erasureUnderWay(ana.id)
	answer := make(chan resp, 1)
	go func() { answer <- e.call("DELETE", fmt.Sprintf("/v1/members/%d", bea.id), bea.token, nil) }()
	select {
	case r := <-answer:
		if r.status != 409 || !strings.Contains(string(r.body), "try again in a moment") {
			t.Fatalf("the delegate's erasure while their delegator's is under way: %d %s", r.status, r.body)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the delegate's erasure waited for their delegator's")
	}
	if err := members.On(tx).Erase(ctx, ana.id); err != nil {
		t.Fatalf("the delegator's erasure: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d", bea.id), bea.token, nil)
	if n := e.count("notifications"); n != 0 {
		t.Fatalf("%d notifications after both erasures", n)
	}
}

// TestNotificationsOfDisbursementsAndRefunds: a payment to a worker tells them (but the
// one that completes work, which its completion tells), a refund by its worker tells its
// payer, one by staff its payer and worker; a disbursement staff pay at once tells the member it pays; one a member asks for, rejected by the vote, tells who asked and who it
// would have paid; a refund the vote rejects, or passes when the payment was refunded
// meanwhile, tells its payer and worker.
func TestNotificationsOfDisbursementsAndRefunds(t *testing.T) {
	e := newEnv(t, mustPolicy(t, fundPolicy(t)))
	w, eve := e.worker("Dan Driver"), e.worker("Eve Driver")
	c := e.customer("Rita Rider")
	feed := e.feedHardship(w, "feed")
	paid := num(e.must(201, "POST", "/v1/disbursements", adminToken, map[string]any{"fund": "hardship", "amountCents": 3000, "memberId": w.id, "reason": "car repair"}, "Idempotency-Key", newKey())["id"])
	e.assertNotified(w, 2, fmt.Sprintf("disbursementDecided %d paid", paid), fmt.Sprintf("paymentReceived %d <nil>", feed))
	asked := e.must(201, "POST", "/v1/disbursements", c.token, map[string]any{"fund": "hardship", "amountCents": 10, "memberId": eve.id, "reason": "please"}, "Idempotency-Key", newKey())
	vote := func(proposal int64, choice string) {
		t.Helper()
		for _, v := range []who{w, eve, c} {
			e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", proposal), v.token, map[string]any{"choice": choice})
		}
		e.must(200, "POST", fmt.Sprintf("/v1/proposals/%d/close", proposal), adminToken, nil)
	}
	vote(num(asked["proposalId"]), "no")
	rejected := fmt.Sprintf("disbursementDecided %d rejected", num(asked["id"]))
	for _, m := range []who{c, eve} {
		if _, got := e.notified(m); got[0] != rejected {
			t.Fatalf("member %d was told %q", m.id, got)
		}
	}

	// A ride's own payment is told by its completion; a tip on it tells its worker, and
	// refunded by its worker, its payer.
	ride, pay := e.completedRideBy(c, w, 2000)
	tip := num(e.must(201, "POST", "/v1/payments", c.token, map[string]any{"workId": ride, "amountCents": 300}, "Idempotency-Key", "tip")["id"])
	if _, got := e.notified(w); got[0] != fmt.Sprintf("paymentReceived %d <nil>", tip) || slices.Contains(got, fmt.Sprintf("paymentReceived %d <nil>", pay)) {
		t.Fatalf("the worker was told %q", got)
	}
	e.must(200, "POST", fmt.Sprintf("/v1/payments/%d/refund", tip), w.token, nil)
	if _, got := e.notified(c); got[0] != fmt.Sprintf("paymentRefunded %d <nil>", tip) {
		t.Fatalf("the payer was told %q", got)
	}
	if _, got := e.notified(w); got[0] != fmt.Sprintf("paymentReceived %d <nil>", tip) {
		t.Fatalf("the worker who refunded was told %q", got)
	}
	// Refunded by staff, its payer and its worker are told.
	tip2 := num(e.must(201, "POST", "/v1/payments", c.token, map[string]any{"workId": ride, "amountCents": 200}, "Idempotency-Key", "tip2")["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/payments/%d/refund", tip2), adminToken, nil)
	for _, m := range []who{c, w} {
		if _, got := e.notified(m); got[0] != fmt.Sprintf("paymentRefunded %d <nil>", tip2) {
			t.Fatalf("member %d was told %q", m.id, got)
		}
	}
	refund := fmt.Sprintf("/v1/payments/%d/refund", pay)
	vote(num(e.must(202, "POST", refund, c.token, map[string]any{"reason": "Late"})["proposalId"]), "no")
	proposal := num(e.must(202, "POST", refund, c.token, map[string]any{"reason": "Asked again"})["proposalId"])
	e.must(200, "POST", refund, w.token, nil)
	vote(proposal, "yes")
	for _, m := range []who{c, w} {
		_, got := e.notified(m)
		if i := slices.Index(got, fmt.Sprintf("refundDecided %d failed", pay)); i < 0 || !slices.Contains(got[i:], fmt.Sprintf("refundDecided %d rejected", pay)) {
			t.Fatalf("member %d was told %q", m.id, got)
		}
	}
}

// TestPagesPastTwoToThe31: ids beyond what a 32-bit integer holds page as the others do
// (the queries' parameters are bigint): the notifications' and the listings' cursors, and
// a listing's maker.
func TestPagesPastTwoToThe31(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "marketplace"))
	ctx := context.Background()
	for _, seq := range []string{"members_id_seq", "notifications_id_seq", "listings_id_seq"} {
		if _, err := e.owner.Exec(ctx, `ALTER SEQUENCE `+seq+` RESTART WITH 3000000000`); err != nil {
			t.Fatal(err)
		}
	}
	maker := e.member("Mia Maker", []string{"worker"}, "")
	buyer := e.member("Bo Buyer", []string{"customer"}, "")
	for _, title := range []string{"Bowl", "Cup"} {
		e.must(201, "POST", "/v1/listings", maker.token, map[string]any{"title": title, "priceCents": 2500, "stock": 3})
	}
	first := e.must(200, "GET", "/v1/listings?limit=1", buyer.token, nil)
	if next, _ := first["nextCursor"].(string); next == "" {
		t.Fatalf("the first page of listings: %v", first)
	} else if page := e.must(200, "GET", "/v1/listings?limit=1&cursor="+next, buyer.token, nil); len(page["listings"].([]any)) != 1 {
		t.Fatalf("the second page of listings: %v", page)
	}
	e.must(200, "GET", fmt.Sprintf("/v1/listings?owner=%d", maker.id), buyer.token, nil)

	// Two notifications for the maker: two payments from staff.
	for _, key := range []string{"a", "b"} {
		e.must(201, "POST", "/v1/payments", adminToken, map[string]any{"workerId": maker.id, "amountCents": 100}, "Idempotency-Key", key)
	}
	path := fmt.Sprintf("/v1/members/%d/notifications?limit=1", maker.id)
	page := e.must(200, "GET", path, maker.token, nil)
	if next, _ := page["nextCursor"].(string); next == "" {
		t.Fatalf("the first page of notifications: %v", page)
	} else if page = e.must(200, "GET", path+"&cursor="+next, maker.token, nil); len(page["notifications"].([]any)) != 1 {
		t.Fatalf("the second page of notifications: %v", page)
	}
}
