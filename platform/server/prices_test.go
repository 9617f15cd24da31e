package server

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/governance"
)

const rideFares = `"fares":{"baseCents":250,"perKmCents":120,"perMinuteCents":30,"minimumCents":700,
   "surge":[{"days":["tue"],"from":"08:00","to":"10:00","percent":25}]}`

// withFares adds a fares member to a policy document.
func withFares(doc, fares string) string {
	return strings.TrimSuffix(strings.TrimSpace(doc), "}") + "," + fares + "}"
}

// TestPriceFromFareRule: with a fare rule in the policy, the platform prices a ride
// from its measures (shown before the ride, with the breakdown; the governed surge window
// at the service's clock), records that price, and is paid it; a typed price or surge is
// refused naming the field.
func TestPriceFromFareRule(t *testing.T) {
	e := newEnv(t, mustPolicy(t, withFares(ridePolicy, rideFares)))
	w := e.worker("Dan Driver")
	c := e.customer("Rita Rider")
	trip := map[string]any{"distanceMeters": 5250, "durationMinutes": 14}
	// Tuesday 09:00 UTC, in the 25% window: (250 + 630 + 420) × 1.25.
	q := e.must(200, "POST", "/v1/quotes", c.token, trip)
	b := q["breakdown"].(map[string]any)
	if num(q["priceCents"]) != 1625 || num(q["surgeCents"]) != 325 || q["rule"] != "policy" || num(b["distanceCents"]) != 630 || num(b["surgePercent"]) != 25 {
		t.Fatalf("quote %v", q)
	}
	req := map[string]any{"kind": "ride", "details": map[string]string{"pickup": "Place Bellecour", "dropoff": "Part-Dieu"}, "distanceMeters": 5250, "durationMinutes": 14}
	work := e.must(201, "POST", "/v1/work", c.token, req)
	if num(work["priceCents"]) != 1625 || num(work["surgeCents"]) != 325 || num(work["fare"].(map[string]any)["priceCents"]) != 1625 {
		t.Fatalf("work %v", work)
	}
	id := num(work["id"])
	if num(e.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil)["workerId"]) != w.id {
		t.Fatal("not offered to the only driver")
	}
	done := e.completeWork(id, w.token)
	pay := e.must(200, "GET", fmt.Sprintf("/v1/payments/%d", num(done["paymentId"])), c.token, nil)
	if num(pay["grossCents"]) != 1625 || num(pay["surgeCents"]) != 325 {
		t.Fatalf("payment %v", pay)
	}
	// Two hours later, outside the window.
	e.clock.Step(2 * time.Hour)
	if q := e.must(200, "POST", "/v1/quotes", c.token, trip); num(q["priceCents"]) != 1300 || num(q["surgeCents"]) != 0 {
		t.Fatalf("quote outside the window %v", q)
	}
	priced := func(k string, v any) map[string]any {
		m := map[string]any{}
		for k, v := range req {
			m[k] = v
		}
		m[k] = v
		return m
	}
	e.refused(400, "priceCents", "computed from the co-op's fare rule", "POST", "/v1/work", c.token, priced("priceCents", 1))
	e.refused(400, "surgeCents", "set by the co-op's fare rule", "POST", "/v1/work", c.token, priced("surgeCents", 0))
	e.refused(400, "distanceMeters", "from 0 to 10000000", "POST", "/v1/quotes", c.token, map[string]any{"distanceMeters": 10000001})
	e.refused(400, "packages", "from 0 to 1000", "POST", "/v1/work", c.token, priced("packages", -1))
	e.refused(401, "Authorization", "bearer token", "POST", "/v1/quotes", "", trip)
}

// TestQuoteBindsTheRequest: a request that says the price it was quoted is priced at that
// price, or refused (409 naming quotedPriceCents, with the price now) when the fare moved
// since, a surge window having opened: the requester is never charged a price they did
// not see, and nothing is written. Where no fare rule computes the price it is 400.
func TestQuoteBindsTheRequest(t *testing.T) {
	e := newEnv(t, mustPolicy(t, withFares(ridePolicy, rideFares)))
	c := e.customer("Rita Rider")
	trip := map[string]any{"distanceMeters": 5250, "durationMinutes": 14}
	ride := func(quoted int64) map[string]any {
		return map[string]any{"kind": "ride", "details": map[string]string{"pickup": "Place Bellecour", "dropoff": "Part-Dieu"},
			"distanceMeters": 5250, "durationMinutes": 14, "quotedPriceCents": quoted}
	}
	// Tuesday 07:59 UTC: a minute before the 25% window.
	e.clock.Step(-61 * time.Minute)
	quoted := num(e.must(200, "POST", "/v1/quotes", c.token, trip)["priceCents"])
	if quoted != 1300 {
		t.Fatalf("quoted %d before the window", quoted)
	}
	e.clock.Step(2 * time.Minute)
	e.refused(409, "quotedPriceCents", "the fare of this request is now 1625 cents (surge 325), not the 1300 quoted", "POST", "/v1/work", c.token, ride(quoted))
	e.refused(400, "quotedPriceCents", "must be a positive integer", "POST", "/v1/work", c.token, ride(0))
	if w := e.must(201, "POST", "/v1/work", c.token, ride(1625)); num(w["priceCents"]) != 1625 {
		t.Fatalf("work at the price quoted again: %v", w)
	}

	e2 := newEnv(t, mustPolicy(t, ridePolicy)) // no fare rule: the typed price is the price
	c2 := e2.customer("Rita Rider")
	typed := map[string]any{"kind": "ride", "details": map[string]string{"pickup": "A", "dropoff": "B"}, "priceCents": 1000, "quotedPriceCents": 1000}
	e2.refused(400, "quotedPriceCents", "is for a price a fare rule computes", "POST", "/v1/work", c2.token, typed)
}

// TestFareRuleChangedByProposal: a proposal on "fares" carries the exact new rule,
// validated before the vote; passed, the platform applies it at the close (the operator
// never sees it pending) and the next request is priced by it; a proposal voted down
// changes nothing.
func TestFareRuleChangedByProposal(t *testing.T) {
	pol := withModel(t, policy.OneMemberOneVote, 50, 50)
	pol.Fares = &policy.Fares{BaseCents: 250, PerKmCents: 120, PerMinuteCents: 30, MinimumCents: 700}
	e := newEnv(t, pol)
	w := e.member("Dan Driver", []string{"worker"}, "", "ride")
	c := e.member("Rita Rider", []string{"customer"}, "")
	trip := map[string]any{"distanceMeters": 5250, "durationMinutes": 14}
	if q := e.must(200, "POST", "/v1/quotes", c.token, trip); num(q["priceCents"]) != 1300 {
		t.Fatalf("quote %v", q)
	}
	e.refused(400, "value.surge[0].percent", "not in 1..300", "POST", "/v1/proposals", w.token,
		map[string]any{"title": "Night surge", "field": "fares", "value": map[string]any{"baseCents": 1, "surge": []any{map[string]any{"from": "22:00", "to": "23:00", "percent": 400}}}})
	propose := func(value map[string]any) int64 {
		return num(e.must(201, "POST", "/v1/proposals", w.token, map[string]any{"title": "Fares", "field": "fares", "value": value})["id"])
	}
	up := propose(map[string]any{"baseCents": 500, "perKmCents": 200})
	down := propose(map[string]any{"baseCents": 1})
	e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", up), w.token, map[string]any{"choice": "yes"})
	e.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", down), w.token, map[string]any{"choice": "no"})
	e.clock.Step(8 * 24 * time.Hour)
	pr := e.must(200, "GET", fmt.Sprintf("/v1/proposals/%d", up), c.token, nil)["proposal"].(map[string]any)
	if app, _ := pr["application"].(map[string]any); pr["status"] != "closed" || app["state"] != "applied" {
		t.Fatalf("proposal %v", pr)
	}
	pending, err := governance.PendingChanges(context.Background(), e.s.Pool(), 10)
	if err != nil || len(pending) != 0 {
		t.Fatalf("the operator would see %v (%v)", pending, err)
	}
	// 500 + 200 × 5.25 km: the voted rule, not the policy's, and not the voted-down one.
	q := e.must(200, "POST", "/v1/quotes", c.token, trip)
	if num(q["priceCents"]) != 1550 || q["rule"] != fmt.Sprintf("proposal %d", up) {
		t.Fatalf("quote after the vote %v", q)
	}
	work := e.must(201, "POST", "/v1/work", c.token, map[string]any{"kind": "ride", "details": map[string]string{"pickup": "a", "dropoff": "b"}, "distanceMeters": 5250, "durationMinutes": 14})
	if num(work["priceCents"]) != 1550 {
		t.Fatalf("the next request was priced %v", work["priceCents"])
	}
}

// TestPriceUnderFloorRefused: where workers set their own price (home services), a
// price under the co-op's voted floor is refused naming priceCents; at the floor it is
// taken; surge is not the requester's to type; there is no fare to quote.
func TestPriceUnderFloorRefused(t *testing.T) {
	doc := strings.Replace(withFares(ridePolicy, `"fares":{"baseCents":0,"floorCents":3000}`), `"vertical":"ride-sharing"`, `"vertical":"home-services"`, 1)
	e := newEnv(t, mustPolicy(t, doc))
	c := e.customer("Rita Rider")
	booking := func(price int64) map[string]any {
		return map[string]any{"kind": "booking", "priceCents": price,
			"details": map[string]string{"address": "1 rue de la Paix", "service": "plumbing", "scheduledAt": "2026-12-10T09:00:00Z"}}
	}
	e.refused(400, "priceCents", "voted floor of 3000 cents", "POST", "/v1/work", c.token, booking(2999))
	if w := e.must(201, "POST", "/v1/work", c.token, booking(3000)); num(w["priceCents"]) != 3000 {
		t.Fatalf("work %v", w)
	}
	withSurge := booking(5000)
	withSurge["surgeCents"] = 100
	e.refused(400, "surgeCents", "set by the co-op's fare rule", "POST", "/v1/work", c.token, withSurge)
	e.refused(409, "", "workers set their own price", "POST", "/v1/quotes", c.token, map[string]any{"durationMinutes": 60})
}

// TestFareZonesAndTimeRates: a request in a zone is priced with the zone's amounts, and
// in a time rate's window with its amounts; an unknown zone names the field.
func TestFareZonesAndTimeRates(t *testing.T) {
	pol := mustPolicy(t, ridePolicy)
	base, perKm := int64(600), int64(200)
	pol.Fares = &policy.Fares{BaseCents: 300, PerKmCents: 100,
		Zones:     []policy.FareZone{{Name: "suburbs", FareAmounts: policy.FareAmounts{BaseCents: &base}}},
		TimeRates: []policy.TimeRate{{Name: "night", From: "22:00", To: "23:59", FareAmounts: policy.FareAmounts{PerKmCents: &perKm}}}}
	e := newEnv(t, pol) // Tuesday 09:00 UTC
	c := e.customer("Rita Rider")
	q := e.must(200, "POST", "/v1/quotes", c.token, map[string]any{"distanceMeters": 3000})
	if num(q["priceCents"]) != 600 {
		t.Fatalf("quote in no zone %v", q)
	}
	q = e.must(200, "POST", "/v1/quotes", c.token, map[string]any{"distanceMeters": 3000, "zone": "suburbs"})
	if num(q["priceCents"]) != 900 || q["breakdown"].(map[string]any)["zone"] != "suburbs" {
		t.Fatalf("quote in the suburbs %v", q)
	}
	e.refused(400, "zone", `"moon" is not a zone`, "POST", "/v1/quotes", c.token, map[string]any{"distanceMeters": 3000, "zone": "moon"})
	e.refused(400, "zone", "not a zone", "POST", "/v1/work", c.token, map[string]any{"kind": "ride", "distanceMeters": 3000, "zone": "moon",
		"details": map[string]string{"pickup": "a", "dropoff": "b"}})
	e.clock.Step(13*time.Hour + 30*time.Minute) // 22:30
	w := e.must(201, "POST", "/v1/work", c.token, map[string]any{"kind": "ride", "distanceMeters": 3000, "zone": "suburbs",
		"details": map[string]string{"pickup": "a", "dropoff": "b"}})
	if num(w["priceCents"]) != 1200 || w["fare"].(map[string]any)["timeRate"] != "night" {
		t.Fatalf("night ride in the suburbs %v", w)
	}
}

// TestScheduledWorkPricedForItsSlot: under a fare rule by the hour, a booking is priced
// for the time it reserves, whichever way the request says how long that is: the
// durationMinutes measure, the details' durationMinutes (the same, when both say it), or
// the default slot of an hour.
func TestScheduledWorkPricedForItsSlot(t *testing.T) {
	doc := strings.Replace(withFares(ridePolicy, `"fares":{"baseCents":0,"perHourCents":2500}`), `"vertical":"ride-sharing"`, `"vertical":"care"`, 1)
	e := newEnv(t, mustPolicy(t, doc))
	c := e.customer("Carla Client")
	at := e.clock.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	booking := func(details map[string]string, measure *int64) map[string]any {
		d := map[string]string{"address": "1 rue de la Paix", "careType": "night", "scheduledAt": at}
		maps.Copy(d, details)
		b := map[string]any{"kind": "booking", "details": d}
		if measure != nil {
			b["durationMinutes"] = *measure
		}
		return b
	}
	for _, tc := range []struct {
		name    string
		details map[string]string
		measure *int64
		minutes int64
		price   int64
	}{
		{"a day in the details", map[string]string{"durationMinutes": "1440"}, nil, 1440, 60000},
		{"nothing said: the default hour", nil, nil, 60, 2500},
		{"the measure and the details, the same", map[string]string{"durationMinutes": "90"}, new(int64(90)), 90, 3750},
	} {
		// The quote of the request itself (its kind and details with its measures) is its
		// price, and the request quoting it is taken.
		q := booking(tc.details, tc.measure)
		delete(q["details"].(map[string]string), "scheduledAt")
		quoted := num(e.must(200, "POST", "/v1/quotes", c.token, q)["priceCents"])
		if quoted != tc.price {
			t.Errorf("%s: the request quoted %d cents, want %d", tc.name, quoted, tc.price)
		}
		req := booking(tc.details, tc.measure)
		req["quotedPriceCents"] = quoted
		w := e.must(201, "POST", "/v1/work", c.token, req)
		if tc.details == nil {
			// The quote of the same request (it has no details) is its price.
			q := map[string]any{}
			if tc.measure != nil {
				q["durationMinutes"] = *tc.measure
			}
			if got := num(e.must(200, "POST", "/v1/quotes", c.token, q)["priceCents"]); got != tc.price {
				t.Errorf("%s: quoted %d cents, want the request's %d", tc.name, got, tc.price)
			}
		}
		starts, _ := time.Parse(time.RFC3339, w["startsAt"].(string))
		ends, _ := time.Parse(time.RFC3339, w["endsAt"].(string))
		if got := int64(ends.Sub(starts) / time.Minute); got != tc.minutes || num(w["priceCents"]) != tc.price {
			t.Errorf("%s: a slot of %d minutes priced %v cents, want %d minutes for %d cents", tc.name, got, w["priceCents"], tc.minutes, tc.price)
		}
	}
	e.refused(400, "details.durationMinutes", "whole number of minutes", "POST", "/v1/work", c.token, booking(map[string]string{"durationMinutes": "a day"}, nil))
	e.refused(400, "details.durationMinutes", "whole number of minutes", "POST", "/v1/quotes", c.token, booking(map[string]string{"durationMinutes": "a day"}, nil))
	// The details and the measure may not say two durations (the worker reads the details,
	// the slot and the price are the measure's), nor the details a wrong one beside it.
	for _, path := range []string{"/v1/work", "/v1/quotes"} {
		e.refused(400, "details.durationMinutes", "says 1440 minutes, durationMinutes 90: give one, or the same", "POST", path, c.token,
			booking(map[string]string{"durationMinutes": "1440"}, new(int64(90))))
		e.refused(400, "details.durationMinutes", "whole number of minutes", "POST", path, c.token, booking(map[string]string{"durationMinutes": "x"}, new(int64(90))))
	}
	e.refused(400, "kind", "must be one of: booking", "POST", "/v1/quotes", c.token, map[string]any{"kind": "ride"})
}

// TestTooDearNamesTheMeasure: a price beyond what a payment can carry is refused naming
// the measure that makes it so (a month of minutes here), not always the distance.
func TestTooDearNamesTheMeasure(t *testing.T) {
	e := newEnv(t, mustPolicy(t, withFares(ridePolicy, `"fares":{"perKmCents":100,"perMinuteCents":10000000,
		"surge":[{"days":["mon","tue","wed","thu","fri","sat","sun"],"from":"00:00","to":"24:00","percent":300}]}`)))
	c := e.customer("Rita Rider")
	e.refused(400, "durationMinutes", "largest amount a payment can carry", "POST", "/v1/quotes", c.token, map[string]any{"distanceMeters": 1000, "durationMinutes": 44640})
	e.refused(400, "durationMinutes", "largest amount a payment can carry", "POST", "/v1/work", c.token, map[string]any{"kind": "ride", "distanceMeters": 1000, "durationMinutes": 44640,
		"details": map[string]string{"pickup": "a", "dropoff": "b"}})
}

// TestStayPricedForItsNights: under a fare rule by the hour, a stay is priced for the time
// from its checkIn to its checkOut on the co-op's calendar, whatever measures the guest
// sends: a durationMinutes that says another length is refused, and the night summer time
// begins lasts 23 hours. Its quote is its price.
func TestStayPricedForItsNights(t *testing.T) {
	pol := verticalPolicy(t, "housing")
	pol.TimeZone = "Europe/Paris"
	pol.Fares = &policy.Fares{BaseCents: 1000, PerHourCents: 250}
	e := newEnv(t, pol)
	g := e.member("Gus Guest", []string{"customer"}, "")
	stay := func(unit, in, out string) map[string]any {
		return map[string]any{"kind": "stay", "details": map[string]string{"unit": unit, "checkIn": in, "checkOut": out}}
	}
	for _, tc := range []struct {
		name, unit, in, out string
		price               int64
	}{
		{"30 nights", "3B", "2026-12-10", "2027-01-09", 1000 + 250*24*30},
		{"the night summer time begins", "4C", "2027-03-28", "2027-03-29", 1000 + 250*23},
	} {
		q := num(e.must(200, "POST", "/v1/quotes", g.token, stay(tc.unit, tc.in, tc.out))["priceCents"])
		w := e.must(201, "POST", "/v1/work", g.token, stay(tc.unit, tc.in, tc.out))
		if num(w["priceCents"]) != tc.price || q != tc.price {
			t.Errorf("%s: priced %v, quoted %d, want %d", tc.name, w["priceCents"], q, tc.price)
		}
	}
	// A measure that says the stay's length is taken; one that says another is refused.
	typed := stay("5D", "2027-02-01", "2027-02-03")
	typed["durationMinutes"] = 60
	e.refused(400, "durationMinutes", "2880 minutes on the co-op's calendar, not 60", "POST", "/v1/work", g.token, typed)
	e.refused(400, "durationMinutes", "2880 minutes on the co-op's calendar, not 60", "POST", "/v1/quotes", g.token, typed)
	typed["durationMinutes"] = 2880
	if w := e.must(201, "POST", "/v1/work", g.token, typed); num(w["priceCents"]) != 1000+250*48 {
		t.Errorf("two nights with their length typed: %v", w["priceCents"])
	}
	// A quote names the stay: without its kind and dates there are no nights to price.
	e.refused(400, "kind", "priced for its nights", "POST", "/v1/quotes", g.token, map[string]any{"durationMinutes": 60})
	e.refused(400, "details.checkIn", "must be a date", "POST", "/v1/quotes", g.token, map[string]any{"kind": "stay"})
}

// TestScheduledWorkPricedAtItsStart: a booking is priced at the time rate and surge in
// force when it starts on the co-op's clock, not when it is asked for: a 22:00 booking
// requested at 10:00 (Paris) pays the night rate and the evening surge, and its quote
// agrees.
func TestScheduledWorkPricedAtItsStart(t *testing.T) {
	pol := verticalPolicy(t, "care")
	pol.TimeZone = "Europe/Paris"
	night := int64(6000)
	pol.Fares = &policy.Fares{PerHourCents: 3000,
		TimeRates: []policy.TimeRate{{Name: "night", From: "22:00", To: "24:00", FareAmounts: policy.FareAmounts{PerHourCents: &night}}},
		Surge:     []policy.SurgeWindow{{From: "22:00", To: "24:00", Percent: 50}}}
	e := newEnv(t, pol) // 09:00 UTC, 10:00 in Paris
	c := e.member("Cora Client", []string{"customer"}, "")
	details := func(at string) map[string]string {
		return map[string]string{"address": "1 rue", "careType": "elderly", "scheduledAt": at, "durationMinutes": "60"}
	}
	for _, tc := range []struct {
		name, at     string
		price, surge int64
	}{
		{"22:00 in Paris", "2026-12-05T21:00:00Z", 9000, 3000},
		{"10:00 in Paris", "2026-12-05T09:00:00Z", 3000, 0},
	} {
		q := e.must(200, "POST", "/v1/quotes", c.token, map[string]any{"kind": "booking", "details": details(tc.at)})
		w := e.must(201, "POST", "/v1/work", c.token, map[string]any{"kind": "booking", "details": details(tc.at), "quotedPriceCents": q["priceCents"]})
		if num(w["priceCents"]) != tc.price || num(w["surgeCents"]) != tc.surge || num(q["priceCents"]) != tc.price {
			t.Errorf("%s: priced %v (surge %v), quoted %v; want %d (surge %d)", tc.name, w["priceCents"], w["surgeCents"], q["priceCents"], tc.price, tc.surge)
		}
	}
}
