package server

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jackc/pgx/v5"

	"github.com/cooperator-dev/cooperator/api/policy"
)

// verify has staff record w's verified skills (and, with check, a clear background check
// valid through 2027).
func (e *env) verify(w who, check bool, skills ...string) {
	e.t.Helper()
	body := map[string]any{"skills": skills}
	if check {
		body["backgroundCheck"] = map[string]any{"status": "clear", "checkedOn": "2026-11-01", "expiresAt": "2027-11-01T00:00:00Z"}
	}
	e.must(200, "PUT", fmt.Sprintf("/v1/members/%d/credentials", w.id), adminToken, body)
}

// offerWork lists the work ids of the offers in a worker's feed.
func (e *env) offerWork(w who) []int64 {
	e.t.Helper()
	var out []int64
	for _, o := range e.must(200, "GET", fmt.Sprintf("/v1/members/%d/offers", w.id), w.token, nil)["offers"].([]any) {
		out = append(out, num(o.(map[string]any)["work"].(map[string]any)["id"]))
	}
	return out
}

// closerTick moves on the offers past their time, as the background closer does every
// CloseInterval.
func (e *env) closerTick() {
	e.t.Helper()
	if err := e.s.ExpireOffers(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

func feedWorkIDs(page map[string]any) []int64 {
	var out []int64
	for _, w := range page["work"].([]any) {
		out = append(out, num(w.(map[string]any)["id"]))
	}
	return out
}

// TestOfferExpiresToNextWorker: an offer nobody answers expires after the policy's time,
// measured on the service's clock, and goes to the next worker once the closer moves it
// on (reading the feeds writes nothing); the expired worker's accept is refused; with
// nobody left the work is back to requested.
func TestOfferExpiresToNextWorker(t *testing.T) {
	pol := mustPolicy(t, ridePolicy)
	pol.Work = policy.WorkRules{OfferTimeoutSeconds: 60}
	e := newEnv(t, pol)
	c := e.customer("Rita Rider")
	if got := e.must(200, "GET", "/v1/policy", c.token, nil); fmt.Sprint(got["work"]) != "map[offerTimeoutSeconds:60]" {
		t.Fatalf("policy %v", got)
	}
	w1, w2 := e.worker("Dan Driver"), e.worker("Eve Driver")
	id := num(e.must(201, "POST", "/v1/work", c.token, ride(1500, 0))["id"])
	o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil)
	if num(o["workerId"]) != w1.id || o["expiresAt"] != "2026-12-01T09:01:00Z" {
		t.Fatalf("offer %v", o)
	}
	if got := e.offerWork(w1); fmt.Sprint(got) != fmt.Sprint([]int64{id}) {
		t.Fatalf("w1's offers %v", got)
	}
	if got := e.offerWork(w2); len(got) != 0 {
		t.Fatalf("w2's offers %v before the expiry", got)
	}
	e.clock.Step(59 * time.Second)
	if got := e.offerWork(w2); len(got) != 0 {
		t.Fatalf("the offer moved on before its time: w2's offers %v", got)
	}
	e.clock.Step(time.Second)
	// At its time the offer is expired for the feeds at once; reading them moves nothing
	// on: w2 is offered the work at the closer's next tick.
	if got := e.offerWork(w1); len(got) != 0 {
		t.Fatalf("w1 still holds the expired offer: %v", got)
	}
	if got := e.offerWork(w2); len(got) != 0 {
		t.Fatalf("reading a feed moved the expired offer on: w2's offers %v", got)
	}
	e.closerTick()
	if got := e.offerWork(w2); fmt.Sprint(got) != fmt.Sprint([]int64{id}) {
		t.Fatalf("w2's offers after the expiry %v", got)
	}
	e.refused(409, "state", "expired", "POST", fmt.Sprintf("/v1/work/%d/accept", id), w1.token, nil)
	got := e.must(200, "GET", fmt.Sprintf("/v1/work/%d", id), c.token, nil)
	if num(got["workerId"]) != w2.id || got["state"] != "offered" {
		t.Fatalf("work after the expiry %v", got)
	}
	hist := got["history"].([]any)
	if last := hist[len(hist)-1].(map[string]any); last["actorId"] != nil || !strings.Contains(fmt.Sprint(last["note"]), "offer expired after 1m0s") {
		t.Fatalf("history %v", last)
	}
	// w2 lets it expire too: nobody is left (w1's offer expired), back to requested, and
	// the work is found by reading it, without any feed read.
	e.clock.Step(61 * time.Second)
	got = e.must(200, "GET", fmt.Sprintf("/v1/work/%d", id), c.token, nil)
	if got["state"] != "requested" || got["workerId"] != nil {
		t.Fatalf("work with nobody left %v", got)
	}
	// Both are free again for other work.
	id2 := num(e.must(201, "POST", "/v1/work", c.token, ride(1500, 0))["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id2), c.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", id2), w1.token, nil)
}

// TestUrgentFanOutFirstAcceptWins: urgent work goes to the policy's fan-out of qualified
// workers at once; of parallel accepts, exactly one wins and the others get 409.
func TestUrgentFanOutFirstAcceptWins(t *testing.T) {
	pol := verticalPolicy(t, "care")
	pol.Work = policy.WorkRules{UrgentFanOut: 4}
	e := newEnv(t, pol)
	client := e.member("Cleo Client", []string{"customer"}, "")
	var carers []who
	for i := range 6 {
		w := e.member(fmt.Sprintf("Carer %d", i), []string{"worker"}, "", "booking")
		e.setAvailable(w, true)
		e.verify(w, true, "emergency backup")
		carers = append(carers, w)
	}
	req := map[string]any{"kind": "booking", "urgent": true, "priceCents": 4000,
		"details": map[string]string{"address": "3 rue Mercière", "careType": "emergency backup", "scheduledAt": "2026-12-01T10:00:00Z", "durationMinutes": "120"}}
	id := num(e.must(201, "POST", "/v1/work", client.token, req)["id"])
	e.refused(400, "workerId", "urgent", "POST", fmt.Sprintf("/v1/work/%d/match", id), client.token, map[string]any{"workerId": carers[0].id})
	o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), client.token, nil)
	offered := o["workerIds"].([]any)
	if len(offered) != 4 || o["workerId"] != nil || o["state"] != "offered" {
		t.Fatalf("urgent offer %v", o)
	}
	byID := map[int64]who{}
	for _, c := range carers {
		byID[c.id] = c
	}
	var wg sync.WaitGroup
	codes := make([]int, len(offered))
	for i, v := range offered {
		wg.Add(1)
		go func(i int, w who) {
			defer wg.Done()
			codes[i] = e.call("POST", fmt.Sprintf("/v1/work/%d/accept", id), w.token, nil).status
		}(i, byID[num(v)])
	}
	wg.Wait()
	var winner int64
	for i, code := range codes {
		switch code {
		case 200:
			if winner != 0 {
				t.Fatalf("two accepts won: %v", codes)
			}
			winner = num(offered[i])
		case 409:
		default:
			t.Fatalf("accept answered %d: %v", code, codes)
		}
	}
	if winner == 0 {
		t.Fatalf("no accept won: %v", codes)
	}
	got := e.must(200, "GET", fmt.Sprintf("/v1/work/%d", id), client.token, nil)
	if got["state"] != "accepted" || num(got["workerId"]) != winner {
		t.Fatalf("work %v, winner %d", got, winner)
	}
	for _, v := range offered {
		w := byID[num(v)]
		if got := e.offerWork(w); len(got) != 0 {
			t.Fatalf("worker %d still holds an offer of taken work: %v", w.id, got)
		}
		if w.id != winner {
			e.refused(409, "state", "another worker accepted", "POST", fmt.Sprintf("/v1/work/%d/accept", id), w.token, nil)
		}
	}
	cur := e.must(200, "GET", fmt.Sprintf("/v1/members/%d/work?scope=scheduled", winner), byID[winner].token, nil)
	if fmt.Sprint(feedWorkIDs(cur)) != fmt.Sprint([]int64{id}) {
		t.Fatalf("winner's scheduled work %v", cur)
	}
	if n := e.count("offers WHERE status = 'accepted'"); n != 1 {
		t.Fatalf("%d accepted offers", n)
	}
}

// TestUrgentOffersExpireToTheNextFanOut: when every offer of urgent work has expired or
// been declined, it goes to the next workers at once.
func TestUrgentOffersExpireToTheNextFanOut(t *testing.T) {
	pol := mustPolicy(t, ridePolicy)
	pol.Work = policy.WorkRules{UrgentFanOut: 2, OfferTimeoutSeconds: 30}
	e := newEnv(t, pol)
	c := e.customer("Rita Rider")
	ws := []who{e.worker("A Driver"), e.worker("B Driver"), e.worker("C Driver")}
	req := ride(1500, 0)
	req["urgent"] = true
	id := num(e.must(201, "POST", "/v1/work", c.token, req)["id"])
	o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil)
	if fmt.Sprint(o["workerIds"]) != fmt.Sprint([]any{float64(ws[0].id), float64(ws[1].id)}) {
		t.Fatalf("offer %v", o)
	}
	// One declines: the other's offer still stands.
	d := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/decline", id), ws[0].token, nil)
	if d["state"] != "offered" || !strings.Contains(d["reason"].(string), "1 other offers") {
		t.Fatalf("decline %v", d)
	}
	e.clock.Step(30 * time.Second)
	e.closerTick()
	if got := e.offerWork(ws[2]); fmt.Sprint(got) != fmt.Sprint([]int64{id}) {
		t.Fatalf("the third driver's offers %v", got)
	}
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", id), ws[2].token, nil)
}

// schedBooking is a home-services booking at start for minutes.
func schedBooking(start string, minutes int) map[string]any {
	return map[string]any{"kind": "booking", "priceCents": 5000, "durationMinutes": minutes,
		"details": map[string]string{"address": "1 rue de la Paix", "service": "plumbing", "scheduledAt": start}}
}

// TestScheduledWorkReservesItsSlot: a worker can hold several bookings that do not
// overlap; an overlapping one is refused naming details.scheduledAt, an adjacent one is
// accepted; the worker's feeds list offers and scheduled work page by page.
func TestScheduledWorkReservesItsSlot(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "home-services"))
	c := e.member("Cal Customer", []string{"customer"}, "")
	w := e.member("Pia Plumber", []string{"worker"}, "", "booking")
	other := e.member("Oli Other", []string{"worker"}, "", "booking")
	e.setAvailable(w, true)
	e.verify(w, false, "plumbing")
	e.didWorkFor(c, w) // c asks for either by name
	e.didWorkFor(c, other)

	book := func(start string, minutes int) int64 {
		t.Helper()
		return num(e.must(201, "POST", "/v1/work", c.token, schedBooking(start, minutes))["id"])
	}
	first := book("2026-12-03T09:00:00Z", 60)
	if o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", first), c.token, nil); num(o["workerId"]) != w.id {
		t.Fatalf("offer %v", o)
	}
	// A booking next week does not keep the worker from work on other slots: bookings
	// of other days are offered while the first offer stands.
	later := book("2026-12-10T14:00:00Z", 90)
	evening := book("2026-12-03T18:00:00Z", 60)
	for _, id := range []int64{later, evening} {
		if o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil); num(o["workerId"]) != w.id {
			t.Fatalf("offer %v", o)
		}
	}
	// The offers feed, two at a time.
	page := e.must(200, "GET", fmt.Sprintf("/v1/members/%d/offers?limit=2", w.id), w.token, nil)
	if len(page["offers"].([]any)) != 2 || page["nextCursor"] == nil {
		t.Fatalf("first page %v", page)
	}
	page2 := e.must(200, "GET", fmt.Sprintf("/v1/members/%d/offers?limit=2&cursor=%s", w.id, url.QueryEscape(page["nextCursor"].(string))), w.token, nil)
	if len(page2["offers"].([]any)) != 1 || page2["nextCursor"] != nil {
		t.Fatalf("second page %v", page2)
	}
	e.refused(403, "", "own data", "GET", fmt.Sprintf("/v1/members/%d/offers", w.id), other.token, nil)
	e.refused(403, "", "own data", "GET", fmt.Sprintf("/v1/members/%d/work?scope=scheduled", w.id), c.token, nil)
	e.refused(400, "cursor", "not a cursor", "GET", fmt.Sprintf("/v1/members/%d/offers?cursor=zz", w.id), w.token, nil)
	e.refused(400, "limit", "from 1 to 100", "GET", fmt.Sprintf("/v1/members/%d/offers?limit=0", w.id), w.token, nil)
	e.refused(400, "scope", "current or scheduled", "GET", fmt.Sprintf("/v1/members/%d/work?scope=past", w.id), w.token, nil)
	for _, id := range []int64{first, later, evening} {
		e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", id), w.token, nil)
	}

	// Overlapping 09:30-10:30: fair matching finds nobody; asking for the worker is refused
	// as for any worker who cannot take it (not the booking, nor that there is one:
	// TestSecurity_BookedWorkerScheduleNotShownToCustomers); staff are told of the booking;
	// nothing is written.
	overlap := book("2026-12-03T09:30:00Z", 60)
	e.refused(409, "", "no available", "POST", fmt.Sprintf("/v1/work/%d/match", overlap), c.token, nil)
	e.refused(409, "workerId", "not an available", "POST", fmt.Sprintf("/v1/work/%d/match", overlap), c.token, map[string]any{"workerId": w.id})
	e.refused(409, "details.scheduledAt", "is booked from", "POST", fmt.Sprintf("/v1/work/%d/match", overlap), adminToken, map[string]any{"workerId": w.id})
	e.refused(409, "workerId", "not an available", "POST", fmt.Sprintf("/v1/work/%d/match", overlap), c.token, map[string]any{"workerId": other.id})
	// Adjacent 10:00-11:00 (and 08:00-09:00): accepted.
	var adjacent []int64
	for _, start := range []string{"2026-12-03T10:00:00Z", "2026-12-03T08:00:00Z"} {
		id := book(start, 60)
		adjacent = append(adjacent, id)
		if o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, map[string]any{"workerId": w.id}); num(o["workerId"]) != w.id {
			t.Fatalf("adjacent offer %v", o)
		}
		e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", id), w.token, nil)
	}
	// The scheduled feed in start order, one page at a time.
	var all []int64
	cursor := ""
	for range 10 {
		path := fmt.Sprintf("/v1/members/%d/work?scope=scheduled&limit=2", w.id)
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		p := e.must(200, "GET", path, w.token, nil)
		all = append(all, feedWorkIDs(p)...)
		next, ok := p["nextCursor"].(string)
		if !ok {
			break
		}
		cursor = next
	}
	if fmt.Sprint(all) != fmt.Sprint([]int64{adjacent[1], first, adjacent[0], evening, later}) {
		t.Fatalf("scheduled work %v", all)
	}
	// Once 09:00 on the 3rd has come, the first booking is current work.
	e.clock.Step(48 * time.Hour)
	if cur := feedWorkIDs(e.must(200, "GET", fmt.Sprintf("/v1/members/%d/work", w.id), w.token, nil)); fmt.Sprint(cur) != fmt.Sprint([]int64{first, adjacent[1]}) {
		t.Fatalf("current work at 09:00 on the 3rd %v", cur)
	}
}

// TestWeeklyScheduleAndExceptions: a worker is offered work on demand only inside their
// weekly windows (UTC) and outside a holiday; scheduled work only when its whole slot is
// inside a window or an available exception.
func TestWeeklyScheduleAndExceptions(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy)) // the clock: Tuesday 2026-12-01 09:00 UTC
	c := e.customer("Rita Rider")
	w := e.member("Dan Driver", []string{"worker"}, "drivers", "ride")
	sched := fmt.Sprintf("/v1/members/%d/schedule", w.id)
	match := func() int {
		t.Helper()
		id := num(e.must(201, "POST", "/v1/work", c.token, ride(1000, 0))["id"])
		r := e.call("POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil)
		if r.status == 200 {
			e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", id), c.token, nil)
		}
		return r.status
	}
	e.must(200, "PUT", sched, w.token, map[string]any{"weekly": []map[string]string{{"day": "mon", "from": "09:00", "to": "17:00"}}})
	if got := match(); got != 409 {
		t.Fatalf("matched on a Tuesday with a Monday schedule: %d", got)
	}
	e.must(200, "PUT", sched, w.token, map[string]any{"weekly": []map[string]string{{"day": "mon", "from": "09:00", "to": "17:00"}, {"day": "tue", "from": "08:00", "to": "09:00"}}})
	if got := match(); got != 409 {
		t.Fatalf("matched at 09:00 with a window ending at 09:00: %d", got)
	}
	e.must(200, "PUT", sched, w.token, map[string]any{"weekly": []map[string]string{{"day": "tue", "from": "08:00", "to": "12:00"}}})
	if got := match(); got != 200 {
		t.Fatalf("not matched inside the window: %d", got)
	}
	holiday := map[string]any{"from": "2026-12-01T00:00:00Z", "to": "2026-12-02T00:00:00Z", "available": false}
	got := e.must(200, "PUT", sched, w.token, map[string]any{"weekly": []map[string]string{{"day": "tue", "from": "08:00", "to": "12:00"}}, "exceptions": []any{holiday}})
	if fmt.Sprint(got["weekly"]) != "[map[day:tue from:08:00 to:12:00]]" || len(got["exceptions"].([]any)) != 1 {
		t.Fatalf("schedule %v", got)
	}
	if got := match(); got != 409 {
		t.Fatalf("matched on a holiday: %d", got)
	}
	e.clock.Step(24 * time.Hour) // Wednesday: no window
	if got := match(); got != 409 {
		t.Fatalf("matched outside the windows: %d", got)
	}
	extra := map[string]any{"from": "2026-12-02T08:00:00Z", "to": "2026-12-02T10:00:00Z", "available": true}
	e.must(200, "PUT", sched, w.token, map[string]any{"weekly": []any{}, "exceptions": []any{holiday, extra}})
	if got := match(); got != 200 {
		t.Fatalf("not matched in an extra shift: %d", got)
	}
	if m := e.must(200, "GET", fmt.Sprintf("/v1/members/%d", w.id), w.token, nil); m["available"] != true {
		t.Fatalf("member with an extra shift: %v", m)
	}
	// Exceptions left out stay as they are: only the week changes (a form of the week
	// loses no exception written meanwhile), and the extra shift kept still counts.
	if kept := e.must(200, "PUT", sched, w.token, map[string]any{"weekly": []any{}}); len(kept["exceptions"].([]any)) != 2 {
		t.Fatalf("schedule after a change of the week alone: %v", kept)
	}
	if m := e.must(200, "GET", fmt.Sprintf("/v1/members/%d", w.id), w.token, nil); m["available"] != true {
		t.Fatalf("member with a kept extra shift: %v", m)
	}
	if got := match(); got != 200 {
		t.Fatalf("not matched in a kept extra shift: %d", got)
	}

	// The old switch is the schedule's shortcut: available is every day, all day (the
	// exceptions stay); not available clears it.
	e.setAvailable(w, true)
	if s := e.must(200, "GET", sched, w.token, nil); len(s["weekly"].([]any)) != 7 || len(s["exceptions"].([]any)) != 2 {
		t.Fatalf("schedule after the shortcut %v", s)
	}
	e.setAvailable(w, false)
	if s := e.must(200, "GET", sched, w.token, nil); len(s["weekly"].([]any)) != 0 || len(s["exceptions"].([]any)) != 0 {
		t.Fatalf("schedule after not available %v", s)
	}
	if got := match(); got != 409 {
		t.Fatalf("matched while not available: %d", got)
	}

	// Bad schedules name the field; nothing is written. Others may not read or set it.
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"weekly": []map[string]string{{"day": "tue", "from": "08:00", "to": "12:00"}, {"day": "tue", "from": "11:00", "to": "13:00"}}}, "weekly[1].from"},
		{map[string]any{"weekly": []map[string]string{{"day": "tuesday", "from": "08:00", "to": "12:00"}}}, "weekly[0].day"},
		{map[string]any{"weekly": []map[string]string{{"day": "tue", "from": "12:00", "to": "08:00"}}}, "weekly[0].to"},
		{map[string]any{"weekly": []map[string]string{{"day": "tue", "from": "8h", "to": "12:00"}}}, "weekly[0].from"},
		{map[string]any{"weekly": []map[string]string{{"day": "tue", "from": "08:00", "to": "24:01"}}}, "weekly[0].to"},
		{map[string]any{"exceptions": []any{map[string]any{"from": "2026-12-02T10:00:00Z", "to": "2026-12-02T08:00:00Z", "available": true}}}, "exceptions[0].to"},
	} {
		e.refused(400, tc.field, "", "PUT", sched, w.token, tc.body)
	}
	e.refused(409, "weekly", "only active workers", "PUT", fmt.Sprintf("/v1/members/%d/schedule", c.id), c.token,
		map[string]any{"weekly": []map[string]string{{"day": "tue", "from": "08:00", "to": "12:00"}}})
	e.refused(403, "", "own data", "PUT", sched, c.token, map[string]any{"weekly": []any{}})
	e.refused(403, "", "own data", "GET", sched, c.token, nil)
	e.must(200, "GET", sched, adminToken, nil)
}

// TestScheduleExceptionsOneByOne: a worker takes time off, or an extra shift, one
// exception at a time, and removes one by its id; the week and the other exceptions stay
// as they are. Time off over work they took is refused naming it, an extra shift of a
// member who is no worker likewise, and the 201st exception; others may not add or remove.
func TestScheduleExceptionsOneByOne(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "home-services")) // the clock: Tuesday 2026-12-01 09:00 UTC
	c := e.member("Cal Customer", []string{"customer"}, "")
	w := e.member("Pia Plumber", []string{"worker"}, "", "booking")
	other := e.member("Oli Other", []string{"worker"}, "", "booking")
	e.verify(w, false, "plumbing")
	e.didWorkFor(c, w) // Cal asks for Pia by name
	sched := fmt.Sprintf("/v1/members/%d/schedule", w.id)
	week := []map[string]string{{"day": "thu", "from": "09:00", "to": "17:00"}}
	e.must(200, "PUT", sched, w.token, map[string]any{"weekly": week})

	// Thursday 3 December 10:00-11:00, booked and accepted.
	booked := num(e.must(201, "POST", "/v1/work", c.token, schedBooking("2026-12-03T10:00:00Z", 60))["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", booked), c.token, map[string]any{"workerId": w.id})
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", booked), w.token, nil)

	add := sched + "/exceptions"
	e.refused(409, "from", fmt.Sprintf("work %d is booked from 2026-12-03T10:00:00Z to 2026-12-03T11:00:00Z", booked), "POST", add, w.token,
		map[string]any{"from": "2026-12-03T00:00:00Z", "to": "2026-12-04T00:00:00Z", "available": false})
	// The day after: taken; an extra shift on Saturday too.
	off := e.must(201, "POST", add, w.token, map[string]any{"from": "2026-12-10T00:00:00Z", "to": "2026-12-11T00:00:00Z", "available": false})
	extra := e.must(201, "POST", add, w.token, map[string]any{"from": "2026-12-05T09:00:00Z", "to": "2026-12-05T12:00:00Z", "available": true})
	xs := extra["exceptions"].([]any)
	if len(xs) != 2 || fmt.Sprint(extra["weekly"]) != "[map[day:thu from:09:00 to:17:00]]" {
		t.Fatalf("schedule after two exceptions: %v", extra)
	}
	offID := num(off["exceptions"].([]any)[0].(map[string]any)["id"])
	if first := xs[0].(map[string]any); first["available"] != true || first["from"] != "2026-12-05T09:00:00Z" {
		t.Fatalf("exceptions in start order: %v", xs)
	}
	// A Saturday booking fits the extra shift; a Thursday one on the 10th does not.
	if r := e.bookingMatch(c, "2026-12-05T10:00:00Z", 60); r.status != 200 {
		t.Fatalf("booking in the extra shift: %d %s", r.status, r.body)
	}
	if r := e.bookingMatch(c, "2026-12-10T10:00:00Z", 60); r.status != 409 {
		t.Fatalf("booking in the time off: %d %s", r.status, r.body)
	}

	// Others may not add or remove; an unknown id (or another worker's) is 404.
	e.refused(403, "", "own data", "POST", add, c.token, map[string]any{"from": "2026-12-12T00:00:00Z", "to": "2026-12-13T00:00:00Z", "available": false})
	e.refused(403, "", "own data", "DELETE", fmt.Sprintf("%s/%d", add, offID), other.token, nil)
	e.refused(404, "", "exception", "DELETE", fmt.Sprintf("/v1/members/%d/schedule/exceptions/%d", other.id, offID), other.token, nil)
	e.refused(400, "exceptionId", "positive integer", "DELETE", add+"/x", w.token, nil)
	// Bad exceptions name the field; an extra shift of a customer is refused.
	e.refused(400, "to", "after from", "POST", add, w.token, map[string]any{"from": "2026-12-12T00:00:00Z", "to": "2026-12-11T00:00:00Z", "available": false})
	e.refused(400, "from", "required", "POST", add, w.token, map[string]any{"to": "2026-12-11T00:00:00Z", "available": false})
	e.refused(409, "available", "only active workers", "POST", fmt.Sprintf("/v1/members/%d/schedule/exceptions", c.id), c.token,
		map[string]any{"from": "2026-12-12T00:00:00Z", "to": "2026-12-13T00:00:00Z", "available": true})

	// Removed by its id: the Thursday booking on the 10th is offered again.
	after := e.must(200, "DELETE", fmt.Sprintf("%s/%d", add, offID), w.token, nil)
	if len(after["exceptions"].([]any)) != 1 {
		t.Fatalf("schedule after a removal: %v", after)
	}
	if r := e.bookingMatch(c, "2026-12-10T10:00:00Z", 60); r.status != 200 {
		t.Fatalf("booking once the time off is removed: %d %s", r.status, r.body)
	}

	// At most 200: the 201st is refused, and nothing is written.
	var many []any
	for i := range 199 {
		day := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i)
		many = append(many, map[string]any{"from": day.Format(time.RFC3339), "to": day.Add(time.Hour).Format(time.RFC3339), "available": false})
	}
	e.must(200, "PUT", sched, w.token, map[string]any{"weekly": week, "exceptions": many})
	e.must(201, "POST", add, adminToken, map[string]any{"from": "2028-01-01T00:00:00Z", "to": "2028-01-02T00:00:00Z", "available": false})
	e.refused(409, "exceptions", "200 exceptions", "POST", add, w.token, map[string]any{"from": "2028-02-01T00:00:00Z", "to": "2028-02-02T00:00:00Z", "available": false})
}

// thursdayPlumber is a home-services co-op with a customer and a verified plumber who works
// Thursdays 09:00-17:00, and the path of the plumber's schedule.
func thursdayPlumber(t *testing.T) (e *env, c, w who, sched string) {
	t.Helper()
	e = newEnv(t, verticalPolicy(t, "home-services"))
	c = e.member("Cal Customer", []string{"customer"}, "")
	w = e.member("Pia Plumber", []string{"worker"}, "", "booking")
	e.verify(w, false, "plumbing")
	e.didWorkFor(c, w) // Cal asks for Pia by name
	sched = fmt.Sprintf("/v1/members/%d/schedule", w.id)
	e.must(200, "PUT", sched, w.token, map[string]any{"weekly": []map[string]string{{"day": "thu", "from": "09:00", "to": "17:00"}}})
	return e, c, w, sched
}

// TestTimeOffWithdrawsTheOffersInIt: time off taken (here by staff) while an offer of a
// booking in it stands withdraws the offer and moves the booking on: the worker cannot
// accept it over their time off. An offer outside the time off stands.
func TestTimeOffWithdrawsTheOffersInIt(t *testing.T) {
	e, c, w, sched := thursdayPlumber(t)
	in := num(e.must(201, "POST", "/v1/work", c.token, schedBooking("2026-12-03T10:00:00Z", 60))["id"])
	out := num(e.must(201, "POST", "/v1/work", c.token, schedBooking("2026-12-10T10:00:00Z", 60))["id"])
	for _, id := range []int64{in, out} {
		e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, map[string]any{"workerId": w.id})
	}
	e.must(201, "POST", sched+"/exceptions", adminToken, map[string]any{"from": "2026-12-03T00:00:00Z", "to": "2026-12-04T00:00:00Z", "available": false})
	if got, want := e.offersOf(in), fmt.Sprintf("%d:withdrawn", w.id); got != want {
		t.Fatalf("the offer in the time off: %s, want %s", got, want)
	}
	if got := e.stateOf(in); got != "requested none" {
		t.Fatalf("the booking in the time off: %s, want requested none (nobody else is free)", got)
	}
	e.refused(409, "state", "your offer was withdrawn", "POST", fmt.Sprintf("/v1/work/%d/accept", in), w.token, nil)
	if got, want := e.offersOf(out), fmt.Sprintf("%d:offered", w.id); got != want {
		t.Fatalf("the offer outside the time off: %s, want %s", got, want)
	}
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", out), w.token, nil)
}

// TestTimeOffWaitsForAnAccept: time off sent while the worker's accept of a booking in it
// is under way waits for the accept, sees the booking and is refused naming it: the worker
// is never booked over time off they took. Two adds at the 199th exception count one after
// the other: one is refused, and the schedule holds 200.
func TestTimeOffWaitsForAnAccept(t *testing.T) {
	e, c, w, sched := thursdayPlumber(t)
	booked := num(e.must(201, "POST", "/v1/work", c.token, schedBooking("2026-12-03T10:00:00Z", 60))["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", booked), c.token, map[string]any{"workerId": w.id})
	ctx := context.Background()
	hold := func() pgx.Tx {
		tx, err := e.owner.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tx.Rollback(ctx) })
		return tx
	}
	// The accept waits at its offer, holding the work and the worker's row; the time off
	// waits for it.
	tx := hold()
	if _, err := tx.Exec(ctx, `SELECT 1 FROM offers WHERE work_id = $1 FOR UPDATE`, booked); err != nil {
		t.Fatal(err)
	}
	accepted := make(chan resp, 1)
	go func() { accepted <- e.call("POST", fmt.Sprintf("/v1/work/%d/accept", booked), w.token, nil) }()
	e.waitOnLocks(accepted, 1, "the accept")
	off := make(chan resp, 1)
	go func() {
		off <- e.call("POST", sched+"/exceptions", w.token, map[string]any{"from": "2026-12-03T00:00:00Z", "to": "2026-12-04T00:00:00Z", "available": false})
	}()
	e.waitOnLocks(off, 2, "the time off")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if a := <-accepted; a.status != 200 {
		t.Fatalf("the accept: %d %s", a.status, a.body)
	}
	if o := <-off; o.status != 409 || !strings.Contains(string(o.body), fmt.Sprintf("work %d is booked", booked)) {
		t.Fatalf("the time off over the booking just accepted: %d %s", o.status, o.body)
	}

	// The limit, with two adds at once.
	var many []any
	for i := range 199 {
		day := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i)
		many = append(many, map[string]any{"from": day.Format(time.RFC3339), "to": day.Add(time.Hour).Format(time.RFC3339), "available": false})
	}
	e.must(200, "PUT", sched, w.token, map[string]any{"weekly": []any{}, "exceptions": many})
	tx = hold()
	if _, err := tx.Exec(ctx, `SELECT 1 FROM members WHERE id = $1 FOR NO KEY UPDATE`, w.id); err != nil {
		t.Fatal(err)
	}
	answers := make(chan resp, 2)
	for i := range 2 {
		go func() {
			answers <- e.call("POST", sched+"/exceptions", w.token, map[string]any{"from": fmt.Sprintf("2028-0%d-01T00:00:00Z", i+1), "to": fmt.Sprintf("2028-0%d-02T00:00:00Z", i+1), "available": false})
		}()
	}
	e.waitOnLocks(answers, 2, "two adds")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	a, b := <-answers, <-answers
	if got := fmt.Sprint(min(a.status, b.status), " ", max(a.status, b.status)); got != "201 409" {
		t.Fatalf("two adds at the 199th exception: %s (%s; %s)", got, a.body, b.body)
	}
	if n := len(e.must(200, "GET", sched, w.token, nil)["exceptions"].([]any)); n != 200 {
		t.Fatalf("the schedule holds %d exceptions, want 200", n)
	}
}

// TestTimeOffInAScheduleIsTimeOffAdded: time off sent in a whole schedule (PUT) is taken
// as one added alone: sent while the worker's accept of a booking in it is under way, it
// waits for the accept and is refused naming exceptions[i].from; the offers standing in
// it are withdrawn and their work moves on; it holds the worker's row for update, so a
// PUT and an add count one after the other and the schedule never holds more than 200
// exceptions. (It answered 200 over the booking, left the offers to be accepted, and ran
// beside an add: 201 exceptions.) New weekly hours withdraw no offer: it stands as made.
func TestTimeOffInAScheduleIsTimeOffAdded(t *testing.T) {
	e, c, w, sched := thursdayPlumber(t)
	weekly := []map[string]string{{"day": "thu", "from": "09:00", "to": "17:00"}}
	off := func(days ...string) map[string]any {
		var xs []any
		for _, d := range days {
			xs = append(xs, map[string]any{"from": d + "T00:00:00Z", "to": d + "T23:00:00Z", "available": false})
		}
		return map[string]any{"weekly": weekly, "exceptions": xs}
	}
	offered := func(start string) int64 {
		t.Helper()
		id := num(e.must(201, "POST", "/v1/work", c.token, schedBooking(start, 60))["id"])
		e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, map[string]any{"workerId": w.id})
		return id
	}
	booked, standing, outside := offered("2026-12-03T10:00:00Z"), offered("2026-12-10T10:00:00Z"), offered("2026-12-17T10:00:00Z")
	ctx := context.Background()
	hold := func(q string, arg int64) pgx.Tx {
		t.Helper()
		tx, err := e.owner.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tx.Rollback(ctx) })
		if _, err := tx.Exec(ctx, q, arg); err != nil {
			t.Fatal(err)
		}
		return tx
	}
	// The accept waits at its offer; the schedule waits for it, and then sees the booking.
	tx := hold(`SELECT 1 FROM offers WHERE work_id = $1 FOR UPDATE`, booked)
	accepted := make(chan resp, 1)
	go func() { accepted <- e.call("POST", fmt.Sprintf("/v1/work/%d/accept", booked), w.token, nil) }()
	e.waitOnLocks(accepted, 1, "the accept")
	put := make(chan resp, 1)
	go func() { put <- e.call("PUT", sched, w.token, off("2026-12-24", "2026-12-03")) }()
	e.waitOnLocks(put, 2, "the schedule")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if a := <-accepted; a.status != 200 {
		t.Fatalf("the accept: %d %s", a.status, a.body)
	}
	if r := <-put; r.status != 409 || !strings.Contains(string(r.body), fmt.Sprintf(`"field":"exceptions[1].from","message":"work %d is booked`, booked)) {
		t.Fatalf("time off over the booking just accepted, in a schedule: %d %s", r.status, r.body)
	}
	if n := len(e.must(200, "GET", sched, w.token, nil)["exceptions"].([]any)); n != 0 {
		t.Fatalf("the refused schedule wrote %d exceptions", n)
	}

	// The offer standing in the time off is withdrawn; the one outside it stands, as it does
	// when the weekly hours no longer hold it.
	e.must(200, "PUT", sched, w.token, off("2026-12-10"))
	if got, want := e.offersOf(standing), fmt.Sprintf("%d:withdrawn", w.id); got != want {
		t.Fatalf("the offer in the time off: %s, want %s", got, want)
	}
	e.refused(409, "state", "your offer was withdrawn (the worker took time off)", "POST", fmt.Sprintf("/v1/work/%d/accept", standing), w.token, nil)
	e.must(200, "PUT", sched, w.token, map[string]any{"weekly": []map[string]string{{"day": "fri", "from": "09:00", "to": "17:00"}}})
	if got, want := e.offersOf(outside), fmt.Sprintf("%d:offered", w.id); got != want {
		t.Fatalf("the offer outside the time off and the new hours: %s, want %s", got, want)
	}

	// A schedule of 200 exceptions and an add, at once, after 199.
	var many []any
	for i := range 200 {
		day := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i)
		many = append(many, map[string]any{"from": day.Format(time.RFC3339), "to": day.Add(time.Hour).Format(time.RFC3339), "available": false})
	}
	e.must(200, "PUT", sched, w.token, map[string]any{"weekly": weekly, "exceptions": many[:199]})
	tx = hold(`SELECT 1 FROM members WHERE id = $1 FOR NO KEY UPDATE`, w.id)
	answers := make(chan resp, 2)
	go func() { answers <- e.call("PUT", sched, w.token, map[string]any{"weekly": weekly, "exceptions": many}) }()
	go func() {
		answers <- e.call("POST", sched+"/exceptions", w.token, map[string]any{"from": "2028-01-01T00:00:00Z", "to": "2028-01-02T00:00:00Z", "available": false})
	}()
	e.waitOnLocks(answers, 2, "a schedule and an add")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	<-answers
	<-answers
	if n := len(e.must(200, "GET", sched, w.token, nil)["exceptions"].([]any)); n != 200 {
		t.Fatalf("the schedule holds %d exceptions, want 200", n)
	}
}

// TestScheduledSlotMustFitAvailability: scheduled work needs its whole slot inside the
// worker's availability, across midnight too.
func TestScheduledSlotMustFitAvailability(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "home-services"))
	c := e.member("Cal Customer", []string{"customer"}, "")
	w := e.member("Pia Plumber", []string{"worker"}, "", "booking")
	e.verify(w, false, "plumbing")
	// Monday 2026-12-07: 09:00-17:00; Sunday 2026-12-06 and into Monday: 20:00-24:00, 00:00-02:00.
	e.must(200, "PUT", fmt.Sprintf("/v1/members/%d/schedule", w.id), w.token, map[string]any{"weekly": []map[string]string{
		{"day": "mon", "from": "09:00", "to": "17:00"}, {"day": "sun", "from": "20:00", "to": "24:00"}, {"day": "mon", "from": "00:00", "to": "02:00"}}})
	for _, tc := range []struct {
		start   string
		minutes int
		want    int
	}{
		{"2026-12-07T16:00:00Z", 60, 200},
		{"2026-12-07T16:30:00Z", 60, 409},  // runs past 17:00
		{"2026-12-07T08:30:00Z", 60, 409},  // starts before 09:00
		{"2026-12-06T23:00:00Z", 120, 200}, // Sunday night into Monday
		{"2026-12-06T23:00:00Z", 240, 409}, // past 02:00 on Monday
	} {
		if r := e.bookingMatch(c, tc.start, tc.minutes); r.status != tc.want {
			t.Fatalf("%s for %d minutes: %d, want %d: %s", tc.start, tc.minutes, r.status, tc.want, r.body)
		}
	}
	e.refused(400, "durationMinutes", "from 1 to 1440", "POST", "/v1/work", c.token, schedBooking("2026-12-07T16:00:00Z", 1441))
}

// TestSlotWithinTheUnionOfWindowsAndShifts: a slot may span two adjacent windows, or a
// window and the extra shift that follows it; a gap between them, or a holiday that
// overlaps, still leaves the worker out.
func TestSlotWithinTheUnionOfWindowsAndShifts(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "home-services"))
	c := e.member("Cal Customer", []string{"customer"}, "")
	w := e.member("Pia Plumber", []string{"worker"}, "", "booking")
	e.verify(w, false, "plumbing")
	// Tuesday 2026-12-08: 09:00-12:00 and 12:00-14:00. Wednesday 2026-12-09: 09:00-17:00
	// and an extra shift 17:00-19:00; 09:00-11:00 and 11:30-13:00 on Thursday.
	e.must(200, "PUT", fmt.Sprintf("/v1/members/%d/schedule", w.id), w.token, map[string]any{
		"weekly": []map[string]string{
			{"day": "tue", "from": "09:00", "to": "12:00"}, {"day": "tue", "from": "12:00", "to": "14:00"},
			{"day": "wed", "from": "09:00", "to": "17:00"},
			{"day": "thu", "from": "09:00", "to": "11:00"}, {"day": "thu", "from": "11:30", "to": "13:00"},
		},
		"exceptions": []any{
			map[string]any{"from": "2026-12-09T17:00:00Z", "to": "2026-12-09T19:00:00Z", "available": true},
			map[string]any{"from": "2026-12-15T12:30:00Z", "to": "2026-12-15T13:00:00Z", "available": false},
		},
	})
	for _, tc := range []struct {
		start   string
		minutes int
		want    int
		why     string
	}{
		{"2026-12-08T11:00:00Z", 120, 200, "two adjacent windows"},
		{"2026-12-09T16:00:00Z", 120, 200, "a window and the extra shift after it"},
		{"2026-12-09T16:00:00Z", 240, 409, "past the extra shift"},
		{"2026-12-10T10:30:00Z", 90, 409, "a gap between two windows"},
		{"2026-12-15T11:00:00Z", 120, 409, "a holiday within two adjacent windows"},
	} {
		if r := e.bookingMatch(c, tc.start, tc.minutes); r.status != tc.want {
			t.Errorf("%s (%s for %d minutes): %d, want %d: %s", tc.why, tc.start, tc.minutes, r.status, tc.want, r.body)
		}
	}
}

// TestReadingOffersWritesNothing: the feeds are reads. An offer past its time is expired
// for them at once (its worker's feed leaves it out) while its row, its work, the work's
// history and the workers' last assignment stay as they were; the worker's accept is
// refused with 409 naming the rule, and that write path moves the work on (the offer
// expired, the next worker offered it). Another member may not read the feed. Before,
// every read of a feed moved on every due offer of the co-op, up to 1,000 work items.
func TestReadingOffersWritesNothing(t *testing.T) {
	pol := mustPolicy(t, ridePolicy)
	pol.Work = policy.WorkRules{OfferTimeoutSeconds: 60}
	e := newEnv(t, pol)
	c := e.customer("Rita Rider")
	w1, w2 := e.worker("Dan Driver"), e.worker("Eve Driver")
	id := num(e.must(201, "POST", "/v1/work", c.token, ride(1500, 0))["id"])
	if o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil); num(o["workerId"]) != w1.id {
		t.Fatalf("offer %v", o)
	}
	// What moving the offer on would write, as the owner reads it.
	rows := func() string {
		t.Helper()
		var s string
		if err := e.owner.QueryRow(t.Context(), `SELECT concat_ws(' | ',
				(SELECT string_agg(concat_ws(',', id, worker_id, status, expires_at), ';' ORDER BY id) FROM offers WHERE work_id = $1),
				(SELECT concat_ws(',', state, worker_id, updated_at) FROM work_items WHERE id = $1),
				(SELECT count(*) FROM work_history WHERE work_id = $1),
				(SELECT string_agg(concat_ws(',', id, last_assigned_at), ';' ORDER BY id) FROM members))`, id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	status := func() string {
		t.Helper()
		var s string
		if err := e.owner.QueryRow(t.Context(), `SELECT status FROM offers WHERE work_id = $1 AND worker_id = $2`, id, w1.id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	e.clock.Step(61 * time.Second)
	before := rows()
	if got := e.offerWork(w1); len(got) != 0 {
		t.Fatalf("w1's feed lists the expired offer: %v", got)
	}
	for _, w := range []who{w1, w2} {
		e.must(200, "GET", fmt.Sprintf("/v1/members/%d/offers?limit=100", w.id), w.token, nil)
		e.must(200, "GET", fmt.Sprintf("/v1/members/%d/work", w.id), w.token, nil)
		e.must(200, "GET", fmt.Sprintf("/v1/members/%d/work?scope=scheduled", w.id), w.token, nil)
	}
	if got := e.offerWork(w2); len(got) != 0 {
		t.Fatalf("w2 was offered the work by a read: %v", got)
	}
	if after := rows(); after != before {
		t.Fatalf("reading the feeds wrote:\n%s\n->\n%s", before, after)
	}
	if got := status(); got != "offered" {
		t.Fatalf("the offer's row after the reads: %s, want it unchanged (offered)", got)
	}
	e.refused(403, "", "own data", "GET", fmt.Sprintf("/v1/members/%d/offers", w1.id), w2.token, nil)
	e.refused(403, "", "own data", "GET", fmt.Sprintf("/v1/members/%d/offers", w1.id), c.token, nil)

	r := e.call("POST", fmt.Sprintf("/v1/work/%d/accept", id), w1.token, nil)
	if errObj, _ := r.json()["error"].(map[string]any); r.status != 409 || errObj["field"] != "state" ||
		!strings.Contains(fmt.Sprint(errObj["message"]), "your offer expired: an offer stands for 1m0s (the policy's work.offerTimeoutSeconds)") {
		t.Fatalf("accepting the expired offer: %d %s", r.status, r.body)
	}
	if got := status(); got != "expired" {
		t.Fatalf("the offer after the refused accept: %s, want expired", got)
	}
	if got := e.offerWork(w2); fmt.Sprint(got) != fmt.Sprint([]int64{id}) {
		t.Fatalf("w2's offers after the refused accept %v", got)
	}
}

// TestAcceptJudgesTheDeadlineInItsTransaction: an offer whose time comes between the
// moment accepting moves the due offers on and its own transaction is refused there (409
// naming the rule), and nothing of the accept is written; the closer then moves it on.
func TestAcceptJudgesTheDeadlineInItsTransaction(t *testing.T) {
	pol := mustPolicy(t, ridePolicy)
	pol.Work = policy.WorkRules{OfferTimeoutSeconds: 60}
	clock := clocktesting.NewFakeClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	// armed: the service's next reading of the clock (the accept's move of the due
	// offers, in a transaction of its own) sees the time before the deadline, and every
	// later one (the accept's own transaction) a second after it.
	var armed atomic.Bool
	e := newEnvWith(t, Config{Policy: pol, Now: func() time.Time {
		now := clock.Now()
		if armed.CompareAndSwap(true, false) {
			clock.Step(time.Second)
		}
		return now
	}})
	c := e.customer("Rita Rider")
	w1, w2 := e.worker("Dan Driver"), e.worker("Eve Driver")
	id := num(e.must(201, "POST", "/v1/work", c.token, ride(1500, 0))["id"])
	if o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil); o["expiresAt"] != "2026-12-01T09:01:00Z" {
		t.Fatalf("offer %v", o)
	}
	clock.Step(59*time.Second + 500*time.Millisecond)
	armed.Store(true)
	e.refused(409, "state", "your offer expired", "POST", fmt.Sprintf("/v1/work/%d/accept", id), w1.token, nil)
	if armed.Load() {
		t.Fatal("the service did not read its clock")
	}
	var status, state string
	if err := e.owner.QueryRow(t.Context(), `SELECT o.status, w.state FROM offers o JOIN work_items w ON w.id = o.work_id WHERE o.work_id = $1 AND o.worker_id = $2`,
		id, w1.id).Scan(&status, &state); err != nil || status != "offered" || state != "offered" {
		t.Fatalf("after the refused accept the offer is %s and the work %s (%v): the refusal came from elsewhere than the accept's transaction", status, state, err)
	}
	e.closerTick()
	if got := e.offerWork(w2); fmt.Sprint(got) != fmt.Sprint([]int64{id}) {
		t.Fatalf("w2's offers after the closer's tick %v", got)
	}
}

// TestWhyAnOfferWasWithdrawnIsTheWorkers: an offer withdrawn for a reason of its
// worker's (time off; a verified skill taken away; their deactivation) moves its work on
// with a note that says only that the offer moved on: the work's customer, and the
// workers offered it, read its history beside the row that names the worker. Why is said
// on the offer: its worker is told when they try to accept it, and reads it in their
// data export, as staff do.
func TestWhyAnOfferWasWithdrawnIsTheWorkers(t *testing.T) {
	e, c, w, sched := thursdayPlumber(t)
	w2 := e.member("Pol Plumber", []string{"worker"}, "", "booking")
	e.verify(w2, false, "plumbing")
	e.didWorkFor(c, w2)
	e.must(200, "PUT", fmt.Sprintf("/v1/members/%d/schedule", w2.id), w2.token, map[string]any{"weekly": []map[string]string{{"day": "thu", "from": "09:00", "to": "17:00"}}})
	offered := func(start string, to who) int64 {
		t.Helper()
		id := num(e.must(201, "POST", "/v1/work", c.token, schedBooking(start, 60))["id"])
		e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, map[string]any{"workerId": to.id})
		return id
	}
	timeOff, unfit, departed := offered("2026-12-03T10:00:00Z", w), offered("2026-12-10T10:00:00Z", w2), offered("2026-12-17T10:00:00Z", w)
	e.must(201, "POST", sched+"/exceptions", w.token, map[string]any{"from": "2026-12-03T00:00:00Z", "to": "2026-12-04T00:00:00Z", "available": false})
	e.verify(w2, false, "painting")
	toldCustomer := func(id int64) {
		t.Helper()
		for _, h := range e.must(200, "GET", fmt.Sprintf("/v1/work/%d", id), c.token, nil)["history"].([]any) {
			note, _ := h.(map[string]any)["note"].(string)
			if strings.Contains(note, "withdrawn") || strings.Contains(note, "the worker") {
				t.Errorf("work %d's history tells its customer: %q", id, note)
			}
		}
	}
	toldCustomer(timeOff)
	toldCustomer(unfit)
	e.refused(409, "state", "your offer was withdrawn (the worker took time off)", "POST", fmt.Sprintf("/v1/work/%d/accept", timeOff), w.token, nil)
	e.refused(409, "state", "your offer was withdrawn (the worker no longer meets what the work needs)", "POST", fmt.Sprintf("/v1/work/%d/accept", unfit), w2.token, nil)
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", w.id), adminToken, map[string]any{"active": false})
	toldCustomer(departed)
	for _, o := range []struct {
		work   int64
		worker who
		want   string
	}{{timeOff, w, "the worker took time off"}, {unfit, w2, "the worker no longer meets what the work needs"}, {departed, w, "the worker can no longer take work"}} {
		var got string
		if err := e.owner.QueryRow(context.Background(), `SELECT status || ': ' || withdrawn_because FROM offers WHERE work_id = $1 AND worker_id = $2 ORDER BY id LIMIT 1`,
			o.work, o.worker.id).Scan(&got); err != nil || got != "withdrawn: "+o.want {
			t.Errorf("work %d's offer to %d says %q (%v), want withdrawn: %s", o.work, o.worker.id, got, err, o.want)
		}
	}
	export := e.must(200, "GET", fmt.Sprintf("/v1/members/%d/export", w2.id), w2.token, nil)
	if !strings.Contains(fmt.Sprint(export["offers"]), "no longer meets what the work needs") {
		t.Fatalf("the worker's export does not say why their offer was withdrawn: %v", export["offers"])
	}
}

// offersOf lists a work item's offers as stored, oldest first: "<worker>:<status>".
func (e *env) offersOf(id int64) string {
	e.t.Helper()
	var out string
	err := e.owner.QueryRow(context.Background(), `SELECT coalesce(string_agg(worker_id || ':' || status, ',' ORDER BY id), '')
		FROM offers WHERE work_id = $1`, id).Scan(&out)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// stateOf reads a work item's state and worker ("none" without one) with SQL.
func (e *env) stateOf(id int64) string {
	e.t.Helper()
	var out string
	if err := e.owner.QueryRow(context.Background(), `SELECT state || ' ' || coalesce(worker_id::text, 'none') FROM work_items WHERE id = $1`, id).Scan(&out); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// rideOfferedTo is a ride c asks for, matched to w (the test fails when another worker is
// chosen).
func (e *env) rideOfferedTo(c, w who) int64 {
	e.t.Helper()
	id := num(e.must(201, "POST", "/v1/work", c.token, ride(1000, 0))["id"])
	if o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil); num(o["workerId"]) != w.id {
		e.t.Fatalf("offer %v, want worker %d", o, w.id)
	}
	return id
}

// TestDepartedWorkersOffersMoveOn: when staff remove a worker's worker role or deactivate
// them, or the worker erases their data, their open offers are withdrawn and each work
// item moved on in the same transaction (to the next worker, or back to requested),
// without waiting for the offer's time; an offer is not work under way that refuses the
// erasure, and the customer's details of the work stay.
func TestDepartedWorkersOffersMoveOn(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.customer("Rita Rider")
	w, x := e.worker("Wes Worker"), e.worker("Xia Worker")
	offered := func() int64 { return e.rideOfferedTo(c, w) }

	// The worker role removed: the work goes on to the next worker at once.
	first := offered()
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", w.id), adminToken, map[string]any{"roles": []string{"customer"}})
	if got, want := e.stateOf(first), fmt.Sprintf("offered %d", x.id); got != want {
		t.Fatalf("work after the worker role was removed: %s, want %s", got, want)
	}
	if got, want := e.offersOf(first), fmt.Sprintf("%d:withdrawn,%d:offered", w.id, x.id); got != want {
		t.Fatalf("offers after the worker role was removed: %s, want %s", got, want)
	}
	accept := fmt.Sprintf("/v1/work/%d/accept", first)
	e.refused(409, "", "only an active member holding the worker role accepts work", "POST", accept, w.token, nil)
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", w.id), adminToken, map[string]any{"roles": []string{"worker"}})
	e.refused(409, "state", "your offer was withdrawn", "POST", accept, w.token, nil)

	// Deactivated, with nobody else free (x holds the first offer): back to requested.
	second := offered()
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", w.id), adminToken, map[string]any{"active": false})
	if got := e.stateOf(second); got != "requested none" {
		t.Fatalf("work after its worker was deactivated: %s, want requested none", got)
	}
	if got, want := e.offersOf(second), fmt.Sprintf("%d:withdrawn", w.id); got != want {
		t.Fatalf("offers after the deactivation: %s, want %s", got, want)
	}

	// Erased: an offer does not refuse the erasure; the work goes back to requested with
	// its customer's details.
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", w.id), adminToken, map[string]any{"active": true})
	token := e.must(201, "POST", fmt.Sprintf("/v1/members/%d/tokens", w.id), adminToken, nil)["token"].(string)
	e.setAvailable(who{id: w.id, token: token}, true)
	third := offered()
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d", w.id), token, nil)
	if got := e.stateOf(third); got != "requested none" {
		t.Fatalf("work after its worker's erasure: %s, want requested none", got)
	}
	if got, want := e.offersOf(third), fmt.Sprintf("%d:withdrawn", w.id); got != want {
		t.Fatalf("offers after the erasure: %s, want %s", got, want)
	}
	if got := e.must(200, "GET", fmt.Sprintf("/v1/work/%d", third), c.token, nil); fmt.Sprint(got["details"]) != "map[dropoff:Part-Dieu pickup:Place Bellecour]" {
		t.Fatalf("the customer's work after the offered worker's erasure: %v", got["details"])
	}
}

// TestUnfitWorkersOffersMoveOn: when staff take a kind of work off a worker's
// qualifications, or a customer blocks the worker, the worker's offers they no longer fit
// are withdrawn and each work item moved on in the same transaction; a change that keeps
// the worker fit leaves their offers standing.
func TestUnfitWorkersOffersMoveOn(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	c := e.customer("Rita Rider")
	w, x := e.worker("Wes Worker"), e.worker("Xia Worker")
	offered := func() int64 { return e.rideOfferedTo(c, w) }
	member := fmt.Sprintf("/v1/members/%d", w.id)

	// The kind of work off the qualifications: the work goes on to the next worker at once.
	first := offered()
	e.must(200, "PATCH", member, adminToken, map[string]any{"qualifications": []string{}})
	if got, want := e.stateOf(first), fmt.Sprintf("offered %d", x.id); got != want {
		t.Fatalf("work after the qualification was removed: %s, want %s", got, want)
	}
	if got, want := e.offersOf(first), fmt.Sprintf("%d:withdrawn,%d:offered", w.id, x.id); got != want {
		t.Fatalf("offers after the qualification was removed: %s, want %s", got, want)
	}

	// Qualifications that keep the kind: the offer stands.
	e.must(200, "PATCH", member, adminToken, map[string]any{"qualifications": []string{"ride"}})
	second := offered()
	e.must(200, "PATCH", member, adminToken, map[string]any{"qualifications": []string{"ride"}})
	if got, want := e.offersOf(second), fmt.Sprintf("%d:offered", w.id); got != want {
		t.Fatalf("offers after a change that keeps the qualification: %s, want %s", got, want)
	}

	// Blocked by the customer, with nobody else free (x holds the first offer): back to
	// requested.
	e.must(201, "POST", "/v1/blocks", c.token, map[string]any{"workerId": w.id})
	if got := e.stateOf(second); got != "requested none" {
		t.Fatalf("work after the customer blocked its worker: %s, want requested none", got)
	}
	if got, want := e.offersOf(second), fmt.Sprintf("%d:withdrawn", w.id); got != want {
		t.Fatalf("offers after the block: %s, want %s", got, want)
	}
	e.refused(409, "state", "your offer was withdrawn", "POST", fmt.Sprintf("/v1/work/%d/accept", second), w.token, nil)

	// The customer reads whom they blocked; another member reads only their own; staff
	// read none (a customer's export has them); lifted, the list is empty.
	if got := e.must(200, "GET", "/v1/blocks", c.token, nil)["workerIds"]; fmt.Sprint(got) != fmt.Sprintf("[%d]", w.id) {
		t.Fatalf("the customer's blocks: %v", got)
	}
	if got := e.must(200, "GET", "/v1/blocks", x.token, nil)["workerIds"]; fmt.Sprint(got) != "[]" {
		t.Fatalf("another member's blocks: %v", got)
	}
	e.refused(403, "", "their own blocks", "GET", "/v1/blocks", adminToken, nil)
	e.must(200, "DELETE", fmt.Sprintf("/v1/blocks/%d", w.id), c.token, nil)
	if got := e.must(200, "GET", "/v1/blocks", c.token, nil)["workerIds"]; fmt.Sprint(got) != "[]" {
		t.Fatalf("the customer's blocks once lifted: %v", got)
	}
}

// TestUrgentWorkDoesNotWaitForAnErasedWorker: urgent work offered to A, B and C; A erases
// their data; once B and C declined, the work goes to the next worker at once (A's offer
// was withdrawn with the erasure), not when A's offer would have expired.
func TestUrgentWorkDoesNotWaitForAnErasedWorker(t *testing.T) {
	pol := mustPolicy(t, ridePolicy)
	pol.Work = policy.WorkRules{UrgentFanOut: 3, OfferTimeoutSeconds: 600}
	e := newEnv(t, pol)
	c := e.customer("Rita Rider")
	a, b, cc, d := e.worker("A Driver"), e.worker("B Driver"), e.worker("C Driver"), e.worker("D Driver")
	req := ride(1500, 0)
	req["urgent"] = true
	id := num(e.must(201, "POST", "/v1/work", c.token, req)["id"])
	o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil)
	if fmt.Sprint(o["workerIds"]) != fmt.Sprint([]any{float64(a.id), float64(b.id), float64(cc.id)}) {
		t.Fatalf("offer %v", o)
	}
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d", a.id), a.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/decline", id), b.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/decline", id), cc.token, nil)
	// Read with SQL, the clock not moved and the closer not run.
	if got := e.stateOf(id); got != "offered none" {
		t.Fatalf("urgent work after the erasure and two declines: %s, want offered (to the next fan-out)", got)
	}
	if got, want := e.offersOf(id), fmt.Sprintf("%d:withdrawn,%d:declined,%d:declined,%d:offered", a.id, b.id, cc.id, d.id); got != want {
		t.Fatalf("offers: %s, want %s", got, want)
	}
}

// TestAWorkerWhoLetsAnOfferPassHadTheirTurn: the fair-matching order moves a worker back
// when they take work, and also when they decline an offer or let it expire (their own
// doing), so that one who never accepts is not offered every new piece of work first.
// Ana declines, Cid lets his expire: the next rides go first to those offered nothing yet,
// then to the one who passed longest ago.
func TestAWorkerWhoLetsAnOfferPassHadTheirTurn(t *testing.T) {
	pol := mustPolicy(t, ridePolicy)
	pol.Work = policy.WorkRules{OfferTimeoutSeconds: 60}
	e := newEnv(t, pol)
	c := e.customer("Rita Rider")
	ana, bob, cid, dee := e.worker("Ana Driver"), e.worker("Bob Driver"), e.worker("Cid Driver"), e.worker("Dee Driver")
	offeredTo := func(id int64) int64 {
		t.Helper()
		return num(e.must(200, "GET", fmt.Sprintf("/v1/work/%d", id), adminToken, nil)["workerId"])
	}
	ride1 := num(e.must(201, "POST", "/v1/work", c.token, ride(1500, 0))["id"])
	if w := num(e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", ride1), c.token, nil)["workerId"]); w != ana.id {
		t.Fatalf("ride 1 offered to %d, want Ana (%d), offered nothing yet and first by id", w, ana.id)
	}
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/decline", ride1), ana.token, nil)
	if w := offeredTo(ride1); w != bob.id {
		t.Fatalf("ride 1 after Ana declined: offered to %d, want Bob (%d)", w, bob.id)
	}
	e.clock.Step(time.Second)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", ride1), bob.token, nil)
	// Ana declined: Cid, offered nothing yet, comes before her.
	ride2 := num(e.must(201, "POST", "/v1/work", c.token, ride(1500, 0))["id"])
	if w := num(e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", ride2), c.token, nil)["workerId"]); w != cid.id {
		t.Fatalf("ride 2 offered to %d, want Cid (%d): Ana had her turn", w, cid.id)
	}
	e.clock.Step(61 * time.Second)
	e.closerTick()
	if w := offeredTo(ride2); w != dee.id {
		t.Fatalf("ride 2 after Cid let it expire: offered to %d, want Dee (%d)", w, dee.id)
	}
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", ride2), dee.token, nil)
	// Bob and Dee drive; Cid let his offer expire after Ana declined hers: Ana is first.
	ride3 := num(e.must(201, "POST", "/v1/work", c.token, ride(1500, 0))["id"])
	if w := num(e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", ride3), c.token, nil)["workerId"]); w != ana.id {
		t.Fatalf("ride 3 offered to %d, want Ana (%d), who passed before Cid", w, ana.id)
	}
}
