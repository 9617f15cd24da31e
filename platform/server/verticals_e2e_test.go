package server

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/cooperator-dev/cooperator/api/policy"
)

// careBooking is a care booking at start for an hour.
func careBooking(careType, language, start string) map[string]any {
	d := map[string]string{"address": "3 rue Mercière", "careType": careType, "scheduledAt": start, "durationMinutes": "60"}
	if language != "" {
		d["language"] = language
	}
	return map[string]any{"kind": "booking", "priceCents": 3500, "details": d}
}

// TestCareVertical: care is matched on the care type and language staff verified, only
// to carers with a clear background check valid through the visit, the client's regular
// carers first; from request to payment.
func TestCareVertical(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "care"))
	client := e.member("Cleo Client", []string{"customer"}, "")
	carer := func(name string) who {
		w := e.member(name, []string{"worker"}, "", "booking")
		e.setAvailable(w, true)
		return w
	}
	// Created in this order, so that fairness alone would pick them in this order.
	expired, pending, unverified, arabic, french := carer("Cy Expired"), carer("Pat Pending"), carer("Una Unverified"), carer("Amal Arabic"), carer("Fleur French")
	creds := func(w who, status, expires string, langs ...string) {
		e.must(200, "PUT", fmt.Sprintf("/v1/members/%d/credentials", w.id), adminToken, map[string]any{
			"skills": []string{"Dementia", "personal care"}, "languages": langs,
			"backgroundCheck": map[string]any{"status": status, "checkedOn": "2025-12-01", "expiresAt": expires}})
	}
	// The check expires during the visit of 2026-12-02 10:00-11:00.
	creds(expired, "clear", "2026-12-02T10:30:00Z", "fr")
	creds(pending, "pending", "2027-12-01T00:00:00Z", "fr")
	e.must(200, "PUT", fmt.Sprintf("/v1/members/%d/credentials", unverified.id), adminToken, map[string]any{"languages": []string{"fr"}})
	creds(arabic, "clear", "2027-12-01T00:00:00Z", "ar")
	got := e.must(200, "PUT", fmt.Sprintf("/v1/members/%d/credentials", french.id), adminToken, map[string]any{
		"skills": []string{"dementia"}, "languages": []string{"FR", "en"},
		"backgroundCheck": map[string]any{"status": "clear", "checkedOn": "2025-12-01", "expiresAt": "2027-12-01T00:00:00Z"}})
	if fmt.Sprint(got["languages"]) != "[en fr]" || got["backgroundCheck"].(map[string]any)["recordedAt"] != "2026-12-01T09:00:00Z" {
		t.Fatalf("credentials %v", got)
	}
	// Only staff record them; the carer reads their own; bad input names the field.
	e.refused(403, "", "only staff", "PUT", fmt.Sprintf("/v1/members/%d/credentials", french.id), french.token, map[string]any{"skills": []string{"dementia"}})
	e.must(200, "GET", fmt.Sprintf("/v1/members/%d/credentials", french.id), french.token, nil)
	e.refused(403, "", "own data", "GET", fmt.Sprintf("/v1/members/%d/credentials", french.id), client.token, nil)
	e.refused(400, "backgroundCheck.status", "clear, pending, failed", "PUT", fmt.Sprintf("/v1/members/%d/credentials", french.id), adminToken,
		map[string]any{"backgroundCheck": map[string]any{"status": "ok", "checkedOn": "2025-12-01", "expiresAt": "2027-12-01T00:00:00Z"}})
	e.refused(400, "backgroundCheck.expiresAt", "after checkedOn", "PUT", fmt.Sprintf("/v1/members/%d/credentials", french.id), adminToken,
		map[string]any{"backgroundCheck": map[string]any{"status": "clear", "checkedOn": "2025-12-01", "expiresAt": "2025-01-01T00:00:00Z"}})
	e.refused(400, "skills[0]", "1 to 100", "PUT", fmt.Sprintf("/v1/members/%d/credentials", french.id), adminToken, map[string]any{"skills": []string{" "}})
	e.refused(409, "skills", "only workers", "PUT", fmt.Sprintf("/v1/members/%d/credentials", client.id), adminToken, map[string]any{"skills": []string{"dementia"}})

	// Dementia care in French: the expired, pending and unverified carers are passed
	// over, and so is the carer who does not speak French.
	first := num(e.must(201, "POST", "/v1/work", client.token, careBooking("dementia", "fr", "2026-12-02T10:00:00Z"))["id"])
	if o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", first), client.token, nil); num(o["workerId"]) != french.id {
		t.Fatalf("offer %v (french %d)", o, french.id)
	}
	// The expired carer cannot be asked for by name either: not by the client, whose
	// care they never did, nor by staff, who may name any carer.
	other := num(e.must(201, "POST", "/v1/work", client.token, careBooking("dementia", "", "2026-12-03T10:00:00Z"))["id"])
	e.refused(409, "workerId", "regular worker", "POST", fmt.Sprintf("/v1/work/%d/match", other), client.token, map[string]any{"workerId": expired.id})
	e.refused(409, "workerId", "background check", "POST", fmt.Sprintf("/v1/work/%d/match", other), adminToken, map[string]any{"workerId": expired.id})

	// From request to payment.
	e.completeWork(first, french.token)
	e.assertWorkPaid(first, client.token, french, 3500)

	// The client's team of regular carers (those who did their care) is offered their care
	// first: Fleur was just assigned and Amal never, yet Fleur, a regular, comes first.
	e.refused(400, "workerIds[1]", "not a worker", "PUT", fmt.Sprintf("/v1/members/%d/team", client.id), client.token, map[string]any{"workerIds": []int64{french.id, client.id}})
	e.refused(403, "", "own data", "PUT", fmt.Sprintf("/v1/members/%d/team", client.id), french.token, map[string]any{"workerIds": []int64{french.id}})
	e.must(200, "PUT", fmt.Sprintf("/v1/members/%d/team", client.id), client.token, map[string]any{"workerIds": []int64{french.id}})
	if team := e.must(200, "GET", fmt.Sprintf("/v1/members/%d/team", client.id), client.token, nil); fmt.Sprint(team["workerIds"]) != fmt.Sprintf("[%d]", french.id) {
		t.Fatalf("team %v", team)
	}
	o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", other), client.token, nil)
	if num(o["workerId"]) != french.id || !strings.Contains(o["reason"].(string), "regular worker") {
		t.Fatalf("offer to the team %v", o)
	}
	// Another client's care is not the team's: Amal, never assigned, comes first.
	client2 := e.member("Carl Client", []string{"customer"}, "")
	third := num(e.must(201, "POST", "/v1/work", client2.token, careBooking("dementia", "", "2026-12-02T10:00:00Z"))["id"])
	if o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", third), client2.token, nil); num(o["workerId"]) != arabic.id {
		t.Fatalf("offer to another client %v", o)
	}
}

// TestHomeServicesVertical: bookings go to workers whose skill staff verified for the
// service asked; one rating per completed job, shown as a distribution; from request to
// payment.
func TestHomeServicesVertical(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "home-services"))
	c1 := e.member("Cal Customer", []string{"customer"}, "")
	c2 := e.member("Cora Customer", []string{"customer"}, "")
	worker := func(name string, skills ...string) who {
		w := e.member(name, []string{"worker"}, "", "booking")
		e.setAvailable(w, true)
		e.verify(w, false, skills...)
		return w
	}
	elec := worker("Eli Electrician", "electrical") // first by fairness, but not a plumber
	plumber := worker("Pia Plumber", "plumbing", "heating")
	job := func(c who, start string, stars int) int64 {
		t.Helper()
		id := num(e.must(201, "POST", "/v1/work", c.token, schedBooking(start, 120))["id"])
		if o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil); num(o["workerId"]) != plumber.id {
			t.Fatalf("offer %v (plumber %d, electrician %d)", o, plumber.id, elec.id)
		}
		e.completeWork(id, plumber.token)
		e.must(200, "POST", fmt.Sprintf("/v1/work/%d/rating", id), c.token, map[string]any{"stars": stars})
		return id
	}
	first := job(c1, "2026-12-02T09:00:00Z", 4)
	job(c2, "2026-12-02T14:00:00Z", 2)
	// One rating per completed job: the customer cannot rate it twice, nobody else at all.
	e.refused(409, "stars", "already been rated", "POST", fmt.Sprintf("/v1/work/%d/rating", first), c1.token, map[string]any{"stars": 1})
	e.refused(404, "", "not found", "POST", fmt.Sprintf("/v1/work/%d/rating", first), c2.token, map[string]any{"stars": 1})
	r := e.must(200, "GET", fmt.Sprintf("/v1/members/%d/ratings", plumber.id), c2.token, nil)
	if num(r["count"]) != 2 || num(r["customers"]) != 2 || r["average"] != "3.00" ||
		fmt.Sprint(r["distribution"]) != "map[1:0 2:1 3:0 4:1 5:0]" {
		t.Fatalf("ratings %v", r)
	}
	if r := e.must(200, "GET", fmt.Sprintf("/v1/members/%d/ratings", elec.id), c1.token, nil); num(r["count"]) != 0 || r["average"] != "" {
		t.Fatalf("unrated %v", r)
	}
	e.refused(404, "", "not found", "GET", fmt.Sprintf("/v1/members/%d/ratings", c1.id), c2.token, nil)
	// A service nobody verified finds nobody.
	req := schedBooking("2026-12-04T09:00:00Z", 60)
	req["details"].(map[string]string)["service"] = "roofing"
	id := num(e.must(201, "POST", "/v1/work", c1.token, req)["id"])
	e.refused(409, "", "no available", "POST", fmt.Sprintf("/v1/work/%d/match", id), c1.token, nil)
	if e.balance(fmt.Sprintf("member:%d", plumber.id)) <= 0 {
		t.Fatal("the plumber was not paid")
	}
	e.assertBalanced()
}

// TestMarketplaceVertical: a listing is owned by its maker; an order goes to the maker
// whatever the rotation, is priced from the listing and counted against its stock; a
// cancelled order gives its stock back; from request to payment.
func TestMarketplaceVertical(t *testing.T) {
	pol := verticalPolicy(t, "marketplace")
	pol.Fares = &policy.Fares{FloorCents: 500}
	e := newEnv(t, pol)
	buyer := e.member("Bea Buyer", []string{"customer"}, "")
	other := e.member("Oz Other", []string{"worker"}, "", "order") // first in the rotation
	e.setAvailable(other, true)
	maker := e.member("Mia Maker", []string{"worker"}, "")

	e.refused(400, "priceCents", "voted floor of 500", "POST", "/v1/listings", maker.token, map[string]any{"title": "Bowl", "priceCents": 499, "stock": 3})
	e.refused(403, "", "active workers", "POST", "/v1/listings", buyer.token, map[string]any{"title": "Bowl", "priceCents": 2500, "stock": 3})
	e.refused(400, "stock", "from 0", "POST", "/v1/listings", maker.token, map[string]any{"title": "Bowl", "priceCents": 2500, "stock": -1})
	l := e.must(201, "POST", "/v1/listings", maker.token, map[string]any{"title": "Stoneware bowl", "description": "Glazed", "priceCents": 2500, "stock": 3})
	lid := num(l["id"])
	if num(l["ownerId"]) != maker.id {
		t.Fatalf("listing %v", l)
	}
	orderOf := func(qty string) map[string]any {
		return map[string]any{"kind": "order", "details": map[string]string{"listingId": fmt.Sprint(lid), "shippingAddress": "2 quai Saint-Antoine", "quantity": qty}}
	}
	e.refused(400, "priceCents", "listing's price", "POST", "/v1/work", buyer.token, map[string]any{"kind": "order", "priceCents": 1,
		"details": map[string]string{"listingId": fmt.Sprint(lid), "shippingAddress": "x"}})
	e.refused(404, "details.listingId", "no listing", "POST", "/v1/work", buyer.token, map[string]any{"kind": "order",
		"details": map[string]string{"listingId": "999", "shippingAddress": "x"}})
	e.refused(409, "details.quantity", "only 3 left", "POST", "/v1/work", buyer.token, orderOf("4"))
	id := num(e.must(201, "POST", "/v1/work", buyer.token, orderOf("2"))["id"])
	if got := e.must(200, "GET", fmt.Sprintf("/v1/listings/%d", lid), buyer.token, nil); num(got["stock"]) != 1 {
		t.Fatalf("stock after an order of 2: %v", got)
	}
	// A second order of 1, cancelled: its stock comes back.
	id2 := num(e.must(201, "POST", "/v1/work", buyer.token, orderOf("1"))["id"])
	e.refused(409, "details.quantity", "only 0 left", "POST", "/v1/work", buyer.token, orderOf("1"))
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", id2), buyer.token, nil)
	if got := e.must(200, "GET", fmt.Sprintf("/v1/listings/%d", lid), buyer.token, nil); num(got["stock"]) != 1 {
		t.Fatalf("stock after a cancelled order: %v", got)
	}
	e.refused(403, "", "maker or staff", "PUT", fmt.Sprintf("/v1/listings/%d/stock", lid), other.token, map[string]any{"stock": 50})
	e.must(200, "PUT", fmt.Sprintf("/v1/listings/%d/stock", lid), maker.token, map[string]any{"stock": 5})

	// The order goes to the maker, not to the worker first in the rotation.
	o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), buyer.token, nil)
	if num(o["workerId"]) != maker.id {
		t.Fatalf("offer %v (maker %d)", o, maker.id)
	}
	e.completeWork(id, maker.token)
	e.assertWorkPaid(id, buyer.token, maker, 5000)

	// A maker who is no longer active could never take an order: their listing is not
	// found (as its page and the shop have it), and its stock stays.
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", maker.id), adminToken, map[string]any{"active": false})
	e.refused(404, "details.listingId", "no listing with this id", "POST", "/v1/work", buyer.token, orderOf("1"))
	if got := e.must(200, "GET", fmt.Sprintf("/v1/listings/%d", lid), adminToken, nil); num(got["stock"]) != 5 {
		t.Fatalf("stock after a refused order: %v", got)
	}
}

// TestHostBusyOnlyForTheNightsOfAStay: a stay reserves its nights, midnight to midnight
// on the co-op's calendar, and its host is busy for them only: a host who took a stay in
// March is offered one in December, in another unit, but not one whose nights overlap the
// March stay's; and a unit's stays still do not overlap.
func TestHostBusyOnlyForTheNightsOfAStay(t *testing.T) {
	pol := verticalPolicy(t, "housing")
	pol.TimeZone = "Europe/Paris"
	e := newEnv(t, pol)
	guest := e.member("Gus Guest", []string{"customer"}, "")
	other := e.member("Olga Other", []string{"customer"}, "")
	host := e.member("Hal Host", []string{"worker"}, "", "stay")
	e.setAvailable(host, true)
	stay := func(unit, in, out string) map[string]any {
		return map[string]any{"kind": "stay", "priceCents": 70000, "details": map[string]string{"unit": unit, "checkIn": in, "checkOut": out}}
	}
	march := e.must(201, "POST", "/v1/work", guest.token, stay("3B", "2027-03-10", "2027-03-17"))
	if march["startsAt"] != "2027-03-09T23:00:00Z" || march["endsAt"] != "2027-03-16T23:00:00Z" {
		t.Fatalf("the slot of a stay from 10 to 17 March in Paris: %v to %v", march["startsAt"], march["endsAt"])
	}
	a := num(march["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", a), guest.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", a), host.token, nil)
	b := num(e.must(201, "POST", "/v1/work", other.token, stay("4C", "2026-12-20", "2026-12-22"))["id"])
	if o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", b), other.token, nil); num(o["workerId"]) != host.id {
		t.Fatalf("a December stay while the host holds one in March: %v", o)
	}
	// Nights that overlap the March stay's, in another unit: the host is busy.
	c := num(e.must(201, "POST", "/v1/work", other.token, stay("4C", "2027-03-16", "2027-03-18"))["id"])
	e.refused(409, "", "no available, qualified worker", "POST", fmt.Sprintf("/v1/work/%d/match", c), other.token, nil)
	// One that begins the day the March stay ends is free.
	d := num(e.must(201, "POST", "/v1/work", other.token, stay("5D", "2027-03-17", "2027-03-18"))["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", d), other.token, nil)
	// The unit's own nights stay its March guest's.
	e.refused(409, "details.checkIn", "3B is taken", "POST", "/v1/work", other.token, stay("3B", "2027-03-12", "2027-03-14"))
}

// TestFreelancerTakesGigsAlongsideEachOther: a gig does not take its freelancer's time
// exclusively: one with a gig in progress is offered another.
func TestFreelancerTakesGigsAlongsideEachOther(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "freelance"))
	c1 := e.member("Cleo Client", []string{"customer"}, "")
	c2 := e.member("Carl Client", []string{"customer"}, "")
	f := e.member("Fay Freelancer", []string{"worker"}, "", "gig")
	e.setAvailable(f, true)
	gig := map[string]any{"kind": "gig", "priceCents": 50000, "details": map[string]string{"title": "logo", "description": "a logo"}}
	a := num(e.must(201, "POST", "/v1/work", c1.token, gig)["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", a), c1.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", a), f.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/start", a), f.token, nil)
	b := num(e.must(201, "POST", "/v1/work", c2.token, gig)["id"])
	if o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", b), c2.token, nil); num(o["workerId"]) != f.id {
		t.Fatalf("a second gig while the freelancer has one in progress: %v", o)
	}
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", b), f.token, nil)
}

// TestHousingStaysDoNotOverlap: the stays of one place cannot overlap; one may begin the
// day another ends, and another place is free; from request to payment.
func TestHousingStaysDoNotOverlap(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "housing"))
	guest := e.member("Gus Guest", []string{"customer"}, "")
	host := e.member("Hal Host", []string{"worker"}, "", "stay")
	e.setAvailable(host, true)
	stay := func(unit, in, out string) map[string]any {
		return map[string]any{"kind": "stay", "priceCents": 70000, "details": map[string]string{"unit": unit, "checkIn": in, "checkOut": out}}
	}
	id := num(e.must(201, "POST", "/v1/work", guest.token, stay("3B", "2026-12-10", "2026-12-17"))["id"])
	e.refused(409, "details.checkIn", "3B is taken for some of the nights from 2026-12-16 to 2026-12-20; a stay may begin on the day another ends", "POST", "/v1/work", guest.token, stay("3B", "2026-12-16", "2026-12-20"))
	// Another guest learns that the place is taken for their dates, not which stay takes it.
	other := e.member("Olga Other", []string{"customer"}, "")
	if r := e.call("POST", "/v1/work", other.token, stay("3B", "2026-12-16", "2026-12-20")); r.status != 409 || strings.Contains(string(r.body), fmt.Sprintf("stay %d", id)) {
		t.Fatalf("another guest's overlapping stay: %d %s", r.status, r.body)
	}
	e.refused(409, "details.checkIn", "3B is taken", "POST", "/v1/work", guest.token, stay("3B", "2026-12-05", "2026-12-11"))
	e.must(201, "POST", "/v1/work", guest.token, stay("3B", "2026-12-17", "2026-12-20")) // begins the day the other ends
	e.must(201, "POST", "/v1/work", guest.token, stay("3B", "2026-12-01", "2026-12-10")) // ends the day the other begins
	e.must(201, "POST", "/v1/work", guest.token, stay("4C", "2026-12-12", "2026-12-14")) // another place
	// A cancelled stay frees its dates.
	id2 := num(e.must(201, "POST", "/v1/work", guest.token, stay("5D", "2026-12-12", "2026-12-14"))["id"])
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", id2), guest.token, nil)
	e.must(201, "POST", "/v1/work", guest.token, stay("5D", "2026-12-13", "2026-12-15"))

	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), guest.token, nil)
	e.completeWork(id, host.token)
	if e.balance(fmt.Sprintf("member:%d", host.id)) <= 0 {
		t.Fatal("the host was not paid")
	}
	e.assertBalanced()
}

// TestDeliveryMerchantsAndBatchedOrders: a merchant (a role of its own) requests a
// batched delivery with several stops, carried by one courier and paid by the merchant;
// bad stops name the field.
func TestDeliveryMerchantsAndBatchedOrders(t *testing.T) {
	pol := verticalPolicy(t, "delivery")
	pol.Fares = &policy.Fares{BaseCents: 400, PerPackageCents: 150}
	e := newEnv(t, pol)
	shop := e.member("Boulangerie Merchant", []string{"merchant"}, "")
	courier := e.member("Cid Courier", []string{"worker"}, "", "delivery")
	e.setAvailable(courier, true)
	order := map[string]any{"kind": "delivery", "packages": 3, "details": map[string]string{"pickup": "12 rue de la République"},
		"stops": []map[string]string{{"address": "1 place Bellecour"}, {"address": "5 rue Mercière", "notes": "2nd floor"}, {"address": "8 quai Saint-Vincent"}}}
	for _, tc := range []struct {
		mutate func(map[string]any)
		field  string
	}{
		{func(m map[string]any) { m["stops"] = []map[string]string{{"address": "a"}} }, "stops"},
		{func(m map[string]any) { m["stops"] = []map[string]string{{"address": "a"}, {"address": " "}} }, "stops[1].address"},
		{func(m map[string]any) { m["details"] = map[string]string{"pickup": "a", "dropoff": "b"} }, "details.dropoff"},
	} {
		bad := map[string]any{}
		for k, v := range order {
			bad[k] = v
		}
		tc.mutate(bad)
		e.refused(400, tc.field, "", "POST", "/v1/work", shop.token, bad)
	}
	// A courier is not a merchant: workers do not request work.
	e.refused(403, "", "merchants", "POST", "/v1/work", courier.token, order)
	w := e.must(201, "POST", "/v1/work", shop.token, order)
	id := num(w["id"])
	if len(w["stops"].([]any)) != 3 || num(w["priceCents"]) != 400+2*150 || num(w["customerId"]) != shop.id {
		t.Fatalf("batched order %v", w)
	}
	if o := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), shop.token, nil); num(o["workerId"]) != courier.id {
		t.Fatalf("offer %v", o)
	}
	e.completeWork(id, courier.token)
	got := e.must(200, "GET", fmt.Sprintf("/v1/work/%d", id), courier.token, nil)
	if got["stops"].([]any)[1].(map[string]any)["notes"] != "2nd floor" {
		t.Fatalf("stops %v", got["stops"])
	}
	pay := e.must(200, "GET", fmt.Sprintf("/v1/payments/%d", num(got["paymentId"])), shop.token, nil)
	if num(pay["grossCents"]) != 700 || num(pay["payerId"]) != shop.id || num(pay["workerId"]) != courier.id {
		t.Fatalf("payment %v", pay)
	}
	e.assertBalanced()
}

// TestFreelanceMilestones: a project's milestones add up to its price; each is paid when
// the client accepts it, and the last one completes the project.
func TestFreelanceMilestones(t *testing.T) {
	pol := verticalPolicy(t, "freelance")
	pol.Fares = &policy.Fares{FloorCents: 10000}
	e := newEnv(t, pol)
	client := e.member("Cia Client", []string{"customer"}, "")
	dev := e.member("Dev Freelancer", []string{"worker"}, "", "gig")
	e.setAvailable(dev, true)
	project := func(ms ...map[string]any) map[string]any {
		return map[string]any{"kind": "gig", "priceCents": 90000, "details": map[string]string{"title": "Website", "description": "A co-op's website"}, "milestones": ms}
	}
	e.refused(400, "milestones", "must add up to priceCents (90000), not 80000", "POST", "/v1/work", client.token,
		project(map[string]any{"title": "Design", "amountCents": 30000}, map[string]any{"title": "Build", "amountCents": 50000}))
	e.refused(400, "milestones[1].title", "1 to 200", "POST", "/v1/work", client.token,
		project(map[string]any{"title": "Design", "amountCents": 30000}, map[string]any{"title": " ", "amountCents": 60000}))
	w := e.must(201, "POST", "/v1/work", client.token,
		project(map[string]any{"title": "Design", "amountCents": 30000}, map[string]any{"title": "Build", "amountCents": 60000}))
	id := num(w["id"])
	if len(w["milestones"].([]any)) != 2 {
		t.Fatalf("project %v", w)
	}
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), client.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/accept", id), dev.token, nil)
	e.refused(409, "state", "in progress", "POST", fmt.Sprintf("/v1/work/%d/milestones/1/submit", id), dev.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/start", id), dev.token, nil)
	e.refused(409, "state", "submits it first", "POST", fmt.Sprintf("/v1/work/%d/milestones/1/accept", id), client.token, nil)
	e.refused(403, "", "only the worker", "POST", fmt.Sprintf("/v1/work/%d/milestones/1/submit", id), client.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/milestones/1/submit", id), dev.token, nil)
	e.refused(403, "", "only the client", "POST", fmt.Sprintf("/v1/work/%d/milestones/1/accept", id), dev.token, nil)
	got := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/milestones/1/accept", id), client.token, nil)
	m1 := got["milestones"].([]any)[0].(map[string]any)
	if m1["state"] != "accepted" || got["state"] != "in_progress" {
		t.Fatalf("after the first milestone %v", got)
	}
	if p := e.must(200, "GET", fmt.Sprintf("/v1/payments/%d", num(m1["paymentId"])), dev.token, nil); num(p["grossCents"]) != 30000 {
		t.Fatalf("first milestone's payment %v", p)
	}
	e.refused(409, "milestones", "last one", "POST", fmt.Sprintf("/v1/work/%d/complete", id), dev.token, nil)
	e.refused(404, "", "milestone", "POST", fmt.Sprintf("/v1/work/%d/milestones/3/submit", id), dev.token, nil)
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/milestones/2/submit", id), dev.token, nil)
	got = e.must(200, "POST", fmt.Sprintf("/v1/work/%d/milestones/2/accept", id), client.token, nil)
	if got["state"] != "completed" {
		t.Fatalf("after the last milestone %v", got)
	}
	// 3% fee on each: the worker gets 29100 + 58200.
	if b := e.balance(fmt.Sprintf("member:%d", dev.id)); b != 87300 {
		t.Fatalf("the freelancer's balance %d", b)
	}
	e.assertBalanced()
}

// TestMarketplaceOrderNotTakenByItsMaker: an order its maker declined goes back to
// requested; matching it again is 409 saying the maker did not take it and to cancel it
// (it answered "work in state requested cannot go to requested"), and nothing changes;
// the cancel gives its stock back. An order whose maker is no longer an active worker
// (the worker role removed while it was offered, or deactivated before it was matched)
// is not offered to them again: 409, and nothing changes.
func TestMarketplaceOrderNotTakenByItsMaker(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "marketplace"))
	buyer := e.member("Bea Buyer", []string{"customer"}, "")
	maker := e.member("Mia Maker", []string{"worker"}, "")
	lid := num(e.must(201, "POST", "/v1/listings", maker.token, map[string]any{"title": "Stoneware bowl", "priceCents": 2500, "stock": 5})["id"])
	stock := func() int64 {
		t.Helper()
		return num(e.must(200, "GET", fmt.Sprintf("/v1/listings/%d", lid), buyer.token, nil)["stock"])
	}
	order := func() int64 {
		t.Helper()
		return num(e.must(201, "POST", "/v1/work", buyer.token, map[string]any{"kind": "order",
			"details": map[string]string{"listingId": fmt.Sprint(lid), "shippingAddress": "2 quai Saint-Antoine"}})["id"])
	}

	declined := order()
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", declined), buyer.token, nil)
	if got := e.must(200, "POST", fmt.Sprintf("/v1/work/%d/decline", declined), maker.token, nil); got["state"] != "requested" {
		t.Fatalf("the maker's decline: %v", got)
	}
	before := e.workRow(declined)
	e.refused(409, "state", "did not take this order", "POST", fmt.Sprintf("/v1/work/%d/match", declined), buyer.token, nil)
	e.refused(409, "state", "cancel it to give its quantity back", "POST", fmt.Sprintf("/v1/work/%d/match", declined), adminToken, nil)
	if after := e.workRow(declined); after != before {
		t.Fatalf("the refused match changed the order: %s -> %s", before, after)
	}
	if got := stock(); got != 4 {
		t.Fatalf("stock with the declined order waiting: %d, want 4", got)
	}
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/cancel", declined), buyer.token, nil)
	if got := stock(); got != 5 {
		t.Fatalf("stock after the declined order was cancelled: %d, want 5", got)
	}

	// The maker loses the worker role while the order is offered: it is withdrawn, back to
	// requested, and not offered to them again.
	withdrawn := order()
	e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", withdrawn), buyer.token, nil)
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", maker.id), adminToken, map[string]any{"roles": []string{"customer"}})
	if got := e.stateOf(withdrawn); got != "requested none" {
		t.Fatalf("the order after its maker lost the worker role: %s", got)
	}
	before = e.workRow(withdrawn)
	e.refused(409, "details.listingId", "no longer an active worker", "POST", fmt.Sprintf("/v1/work/%d/match", withdrawn), buyer.token, nil)
	if after := e.workRow(withdrawn); after != before {
		t.Fatalf("the refused match changed the order: %s -> %s", before, after)
	}

	// Deactivated before the order was ever matched.
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", maker.id), adminToken, map[string]any{"roles": []string{"worker"}})
	waiting := order()
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", maker.id), adminToken, map[string]any{"active": false})
	before = e.workRow(waiting)
	e.refused(409, "details.listingId", "no longer an active worker", "POST", fmt.Sprintf("/v1/work/%d/match", waiting), buyer.token, nil)
	if after := e.workRow(waiting); after != before {
		t.Fatalf("the refused match changed the order: %s -> %s", before, after)
	}
}

// TestListingPages: members browse the listings they may order, newest first and a page
// at a time; a maker's (?owner=) are all theirs for the maker and staff, and for anyone
// else only those that can be ordered (not those of a maker who left, nor erased);
// outside a marketplace co-op there are none (409).
func TestListingPages(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "marketplace"))
	buyer := e.member("Bea Buyer", []string{"customer"}, "")
	mia := e.member("Mia Maker", []string{"worker"}, "")
	mat := e.member("Mat Maker", []string{"worker"}, "")
	var mine []int64
	for i, m := range []who{mia, mat, mia, mat, mia} {
		l := e.must(201, "POST", "/v1/listings", m.token, map[string]any{"title": fmt.Sprintf("Bowl %d", i), "priceCents": 2500, "stock": 3})
		if m == mia {
			mine = append(mine, num(l["id"]))
		}
	}
	ids := func(page map[string]any) []int64 {
		var out []int64
		for _, l := range page["listings"].([]any) {
			out = append(out, num(l.(map[string]any)["id"]))
		}
		return out
	}
	first := e.must(200, "GET", "/v1/listings?limit=3", buyer.token, nil)
	if got := ids(first); !slices.Equal(got, []int64{5, 4, 3}) || first["nextCursor"] == nil {
		t.Fatalf("the first page: %v", first)
	}
	next := e.must(200, "GET", "/v1/listings?limit=3&cursor="+first["nextCursor"].(string), buyer.token, nil)
	if got := ids(next); !slices.Equal(got, []int64{2, 1}) || next["nextCursor"] != nil {
		t.Fatalf("the last page: %v", next)
	}
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", mat.id), adminToken, map[string]any{"active": false})
	if got := ids(e.must(200, "GET", "/v1/listings", buyer.token, nil)); !slices.Equal(got, []int64{5, 3, 1}) {
		t.Fatalf("the catalogue once Mat left: %v", got)
	}
	// Mat's listings: staff read them all; another member only what can be ordered.
	if got := ids(e.must(200, "GET", fmt.Sprintf("/v1/listings?owner=%d", mat.id), adminToken, nil)); !slices.Equal(got, []int64{4, 2}) {
		t.Fatalf("Mat's listings, as staff read them: %v", got)
	}
	if got := ids(e.must(200, "GET", fmt.Sprintf("/v1/listings?owner=%d", mat.id), buyer.token, nil)); len(got) != 0 {
		t.Fatalf("Mat's listings, as a buyer reads them once he left: %v", got)
	}
	// An erased maker's listings are in nobody's catalogue.
	e.must(200, "DELETE", fmt.Sprintf("/v1/members/%d", mat.id), adminToken, nil)
	if got := ids(e.must(200, "GET", "/v1/listings", buyer.token, nil)); !slices.Equal(got, []int64{5, 3, 1}) {
		t.Fatalf("the catalogue once Mat's data was erased: %v", got)
	}
	slices.Reverse(mine)
	if got := ids(e.must(200, "GET", fmt.Sprintf("/v1/listings?owner=%d", mia.id), mia.token, nil)); !slices.Equal(got, mine) {
		t.Fatalf("Mia's own listings: %v, want %v", got, mine)
	}
	e.refused(400, "owner", "positive integer", "GET", "/v1/listings?owner=me", buyer.token, nil)
	e.refused(400, "cursor", "not a cursor", "GET", "/v1/listings?cursor=x", buyer.token, nil)
	e.refused(401, "Authorization", "", "GET", "/v1/listings", "", nil)

	ride := newEnv(t, mustPolicy(t, ridePolicy))
	c := ride.customer("Rita Rider")
	ride.refused(409, "", "marketplace co-ops", "GET", "/v1/listings", c.token, nil)
}

// TestStaffListWorkersCredentials: staff list the active workers with their credentials,
// the background check that expires first first and the workers with none last; a worker
// (or a customer) is refused, and no other member is listed.
func TestStaffListWorkersCredentials(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "care"))
	tess := e.member("Tess Staff", []string{"staff"}, "")
	client := e.member("Cleo Client", []string{"customer"}, "")
	_, later, soon := e.member("Nel None", []string{"worker"}, "", "booking"), e.member("Lea Later", []string{"worker"}, "", "booking"), e.member("Sue Soon", []string{"worker"}, "", "booking")
	for w, expires := range map[int64]string{later.id: "2028-01-01T00:00:00Z", soon.id: "2027-01-01T00:00:00Z"} {
		e.must(200, "PUT", fmt.Sprintf("/v1/members/%d/credentials", w), adminToken, map[string]any{"skills": []string{"dementia"}, "languages": []string{"fr"},
			"backgroundCheck": map[string]any{"status": "clear", "checkedOn": "2025-12-01", "expiresAt": expires}})
	}
	got := e.must(200, "GET", "/v1/credentials", tess.token, nil)["workers"].([]any)
	var order []string
	for _, w := range got {
		w := w.(map[string]any)
		order = append(order, fmt.Sprint(w["name"]))
	}
	if fmt.Sprint(order) != "[Sue Soon Lea Later Nel None]" {
		t.Fatalf("the workers listed: %v", got)
	}
	first := got[0].(map[string]any)
	if num(first["memberId"]) != soon.id || fmt.Sprint(first["skills"], first["languages"]) != "[dementia] [fr]" ||
		first["backgroundCheck"].(map[string]any)["expiresAt"] != "2027-01-01T00:00:00Z" || got[2].(map[string]any)["backgroundCheck"] != nil {
		t.Fatalf("the first worker listed: %v", got)
	}
	for _, m := range []who{soon, client} {
		e.refused(403, "", "only staff", "GET", "/v1/credentials", m.token, nil)
	}
}

// TestStaffListWorkersCredentialsPaged: GET /v1/credentials is paginated as the other
// lists (limit 1..100, default 20; the opaque cursor of the previous page's nextCursor,
// absent on the last): read a page at a time, whatever the page's size, it lists every
// active worker exactly once, in the order of one read (the checks that expire first
// first, two that expire together by id, then the workers with none, by id); a limit or
// a cursor it cannot take is 400 naming it.
func TestStaffListWorkersCredentialsPaged(t *testing.T) {
	e := newEnv(t, verticalPolicy(t, "care"))
	tess := e.member("Tess Staff", []string{"staff"}, "")
	var want []int64
	expires := []string{"2028-01-01T00:00:00Z", "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z", "", "2027-06-01T00:00:00Z", "", "", ""}
	for i := range 22 {
		w := e.member(fmt.Sprintf("Worker %c", 'A'+i), []string{"worker"}, "", "booking")
		if i < len(expires) && expires[i] != "" {
			e.must(200, "PUT", fmt.Sprintf("/v1/members/%d/credentials", w.id), adminToken, map[string]any{"skills": []string{"dementia"},
				"backgroundCheck": map[string]any{"status": "clear", "checkedOn": "2025-12-01", "expiresAt": expires[i]}})
		}
		want = append(want, w.id)
	}
	// The order: 2027-01 (B), 2027-06 (E), 2028-01 (A, then C), then the rest by id.
	want = slices.Concat([]int64{want[1], want[4], want[0], want[2], want[3]}, want[5:])
	ids := func(page map[string]any) []int64 {
		var out []int64
		for _, w := range page["workers"].([]any) {
			out = append(out, num(w.(map[string]any)["memberId"]))
		}
		return out
	}
	// The default page is 20 workers, with a cursor to the rest.
	first := e.must(200, "GET", "/v1/credentials", tess.token, nil)
	if got := ids(first); !slices.Equal(got, want[:20]) || first["nextCursor"] == nil {
		t.Fatalf("the first page: %v (next %v), want %v", got, first["nextCursor"], want[:20])
	}
	for _, limit := range []int{1, 2, 3, 5, 21, 22, 100} {
		var got []int64
		path, pages := fmt.Sprintf("/v1/credentials?limit=%d", limit), 0
		for {
			page := e.must(200, "GET", path, tess.token, nil)
			if pages++; pages > len(want) {
				t.Fatalf("limit %d: more pages than workers, reading %v", limit, got)
			}
			if n := len(ids(page)); n > limit || n == 0 {
				t.Fatalf("limit %d: a page of %d workers", limit, n)
			}
			got = append(got, ids(page)...)
			next, ok := page["nextCursor"].(string)
			if !ok {
				break
			}
			path = fmt.Sprintf("/v1/credentials?limit=%d&cursor=%s", limit, url.QueryEscape(next))
		}
		if !slices.Equal(got, want) || pages != (len(want)+limit-1)/limit {
			t.Errorf("limit %d: %d pages of %v, want %v", limit, pages, got, want)
		}
	}
	for _, bad := range []string{"0", "101", "-1", "x", "2.5"} {
		e.refused(400, "limit", "from 1 to 100", "GET", "/v1/credentials?limit="+bad, tess.token, nil)
	}
	e.refused(400, "cursor", "not a cursor", "GET", "/v1/credentials?cursor=x", tess.token, nil)
}
