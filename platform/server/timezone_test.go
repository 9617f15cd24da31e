package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/cooperator-dev/cooperator/api/policy"
)

// zoned is a policy of the vertical with the co-op's time zone.
func zoned(t *testing.T, vertical, zone string) *policy.Policy {
	p := verticalPolicy(t, vertical)
	p.TimeZone = zone
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestWeeklyHoursOnTheCoopsClock: a co-op in Paris reads its workers' weekly hours on
// Paris's clock, in winter and in summer, and across the night summer time starts (a slot
// over the change is judged on the clock, by the windows either side of the lost hour).
func TestWeeklyHoursOnTheCoopsClock(t *testing.T) {
	e := newEnv(t, zoned(t, "home-services", "Europe/Paris"))
	c := e.member("Cal Customer", []string{"customer"}, "")
	w := e.member("Pia Plumber", []string{"worker"}, "", "booking")
	e.verify(w, false, "plumbing")
	sched := fmt.Sprintf("/v1/members/%d/schedule", w.id)
	got := e.must(200, "PUT", sched, w.token, map[string]any{"weekly": []map[string]string{
		{"day": "mon", "from": "09:00", "to": "17:00"}, {"day": "sun", "from": "00:00", "to": "02:00"}, {"day": "sun", "from": "03:00", "to": "24:00"}}})
	if got["timeZone"] != "Europe/Paris" {
		t.Fatalf("the schedule does not say its zone: %v", got)
	}
	for _, tc := range []struct {
		start   string
		minutes int
		want    int
		why     string
	}{
		{"2026-12-07T08:00:00Z", 60, 200, "09:00 to 10:00 in Paris in winter (UTC+1)"},
		{"2026-12-07T07:30:00Z", 60, 409, "08:30 in Paris: before 09:00"},
		{"2026-12-07T15:30:00Z", 60, 409, "16:30 to 17:30 in Paris: past 17:00"},
		{"2027-06-07T07:00:00Z", 60, 200, "09:00 to 10:00 in Paris in summer (UTC+2)"},
		{"2027-06-07T15:00:00Z", 60, 409, "17:00 in Paris in summer"},
		{"2027-03-28T00:30:00Z", 60, 200, "01:30 to 03:30 on the clock the night summer time starts: 00:00-02:00, then 03:00"},
		{"2027-03-28T00:30:00Z", 120, 200, "01:30 to 04:30 on the clock"},
	} {
		if r := e.bookingMatch(c, tc.start, tc.minutes); r.status != tc.want {
			t.Fatalf("%s for %d minutes (%s): %d, want %d: %s", tc.start, tc.minutes, tc.why, r.status, tc.want, r.body)
		}
	}
	// Without the night's first window the slot over the change is not covered.
	e.must(200, "PUT", sched, w.token, map[string]any{"weekly": []map[string]string{{"day": "sun", "from": "03:00", "to": "24:00"}}})
	if r := e.bookingMatch(c, "2027-03-28T00:30:00Z", 60); r.status != 409 {
		t.Fatalf("01:30 to 03:30 matched with Sunday from 03:00 only: %d %s", r.status, r.body)
	}

	// The zone is the co-op's: sent back as read it is taken, another is refused.
	e.must(200, "PUT", sched, w.token, map[string]any{"weekly": []map[string]string{{"day": "mon", "from": "09:00", "to": "17:00"}}, "timeZone": "Europe/Paris"})
	e.refused(400, "timeZone", "on the co-op's clock, in Europe/Paris", "PUT", sched, w.token,
		map[string]any{"weekly": []map[string]string{{"day": "mon", "from": "08:00", "to": "16:00"}}, "timeZone": "UTC"})
	if s := e.must(200, "GET", sched, w.token, nil); fmt.Sprint(s["weekly"]) != "[map[day:mon from:09:00 to:17:00]]" {
		t.Fatalf("a refused schedule was written: %v", s)
	}
}

// TestWeeklyHoursWhereTheClockChanges: the hours summer time skips and repeats. A window
// in the skipped hour holds no time, and troubles no match (it made the exact test's range
// run backwards, and the whole match fail); a window in the repeated hour holds both of
// its occurrences, and no more (a window from 02:30 holds neither 02:00 to 02:30); a slot
// that ends as the clock goes back is judged on the clock it began on; in Santiago,
// whose Sunday begins in the hour it skips, two windows of that Sunday still join.
func TestWeeklyHoursWhereTheClockChanges(t *testing.T) {
	for _, tc := range []struct {
		zone   string
		weekly []map[string]string
		start  string
		min    int
		want   int
		why    string
	}{
		{"Europe/Paris", []map[string]string{{"day": "sun", "from": "02:30", "to": "03:00"}, {"day": "sun", "from": "03:00", "to": "05:00"}},
			"2027-03-28T00:30:00Z", 60, 409, "01:30 to 03:30 with no window before 02:30, one in the skipped hour"},
		{"Europe/Paris", []map[string]string{{"day": "sun", "from": "00:00", "to": "02:00"}, {"day": "sun", "from": "02:30", "to": "03:00"}, {"day": "sun", "from": "03:00", "to": "05:00"}},
			"2027-03-28T00:30:00Z", 60, 200, "01:30 to 03:30 in windows either side of the skipped hour"},
		{"Europe/Paris", []map[string]string{{"day": "sun", "from": "02:00", "to": "02:30"}}, "2027-10-31T00:05:00Z", 20, 200, "02:05 to 02:25, the first time"},
		{"Europe/Paris", []map[string]string{{"day": "sun", "from": "02:00", "to": "02:30"}}, "2027-10-31T01:05:00Z", 20, 200, "02:05 to 02:25, the second time"},
		{"Europe/Paris", []map[string]string{{"day": "sun", "from": "02:00", "to": "02:30"}}, "2027-10-31T00:45:00Z", 30, 409, "02:45 then 02:00 to 02:15: 02:45 is outside"},
		{"Europe/Paris", []map[string]string{{"day": "sun", "from": "02:00", "to": "03:00"}}, "2027-10-31T00:45:00Z", 30, 200, "02:45 then 02:00 to 02:15, within 02:00 to 03:00 both times"},
		{"Europe/Paris", []map[string]string{{"day": "sun", "from": "02:00", "to": "02:30"}}, "2027-10-31T00:00:00Z", 60, 409, "02:00 to 03:00 on summer time, ending as the clock goes back"},
		{"Europe/Paris", []map[string]string{{"day": "sun", "from": "02:30", "to": "04:00"}}, "2027-10-31T01:00:00Z", 30, 409, "02:00 to 02:30 the second time, before a window from 02:30"},
		{"America/Santiago", []map[string]string{{"day": "sun", "from": "01:00", "to": "12:00"}, {"day": "sun", "from": "12:00", "to": "14:00"}},
			"2027-09-05T14:00:00Z", 120, 200, "11:00 to 13:00 on the Sunday whose midnight is skipped"},
	} {
		t.Run(tc.why, func(t *testing.T) {
			e := newEnv(t, zoned(t, "home-services", tc.zone))
			c := e.member("Cal Customer", []string{"customer"}, "")
			w := e.member("Pia Plumber", []string{"worker"}, "", "booking")
			e.verify(w, false, "plumbing")
			e.must(200, "PUT", fmt.Sprintf("/v1/members/%d/schedule", w.id), w.token, map[string]any{"weekly": tc.weekly})
			// Another worker, of other days: the match looks at both.
			o := e.member("Oli Other", []string{"worker"}, "", "booking")
			e.verify(o, false, "plumbing")
			e.must(200, "PUT", fmt.Sprintf("/v1/members/%d/schedule", o.id), o.token, map[string]any{"weekly": []map[string]string{{"day": "wed", "from": "09:00", "to": "17:00"}}})
			if r := e.bookingMatch(c, tc.start, tc.min); r.status != tc.want {
				t.Fatalf("%s from %s for %d minutes: %d, want %d: %s", tc.zone, tc.start, tc.min, r.status, tc.want, r.body)
			}
		})
	}
}

// TestWorkOnDemandOnTheCoopsClock: the service's clock, Tuesday 09:00 UTC, is 10:00 in
// Paris; a driver available from 10:00 on Tuesdays takes a ride in a co-op in Paris, not
// in one on UTC.
func TestWorkOnDemandOnTheCoopsClock(t *testing.T) {
	for zone, want := range map[string]int{"Europe/Paris": 200, "": 409} {
		pol := mustPolicy(t, ridePolicy)
		pol.TimeZone = zone
		e := newEnv(t, pol)
		c := e.customer("Rita Rider")
		w := e.member("Dan Driver", []string{"worker"}, "drivers", "ride")
		e.must(200, "PUT", fmt.Sprintf("/v1/members/%d/schedule", w.id), w.token, map[string]any{"weekly": []map[string]string{{"day": "tue", "from": "10:00", "to": "11:00"}}})
		id := num(e.must(201, "POST", "/v1/work", c.token, ride(1000, 0))["id"])
		if r := e.call("POST", fmt.Sprintf("/v1/work/%d/match", id), c.token, nil); r.status != want {
			t.Errorf("zone %q: a ride at 09:00 UTC: %d, want %d: %s", zone, r.status, want, r.body)
		}
	}
}

// TestFareWindowsOnTheCoopsClock: a fare's time rates and surge windows are the co-op's
// hours: at 17:30 UTC in December it is 18:30 in Paris, in the evening rate and its surge.
func TestFareWindowsOnTheCoopsClock(t *testing.T) {
	for zone, want := range map[string]string{"Europe/Paris": "evening", "": ""} {
		pol := mustPolicy(t, ridePolicy)
		pol.TimeZone = zone
		perKm := int64(200)
		pol.Fares = &policy.Fares{BaseCents: 300, PerKmCents: 100,
			TimeRates: []policy.TimeRate{{Name: "evening", From: "18:00", To: "23:59", FareAmounts: policy.FareAmounts{PerKmCents: &perKm}}},
			Surge:     []policy.SurgeWindow{{From: "18:00", To: "19:00", Percent: 10}}}
		e := newEnv(t, pol) // Tuesday 09:00 UTC
		e.clock.Step(8*time.Hour + 30*time.Minute)
		c := e.customer("Rita Rider")
		q := e.must(200, "POST", "/v1/quotes", c.token, map[string]any{"distanceMeters": 3000})
		b := q["breakdown"].(map[string]any)
		rate, _ := b["timeRate"].(string)
		if rate != want || (want != "") != (num(b["surgePercent"]) == 10) {
			t.Errorf("zone %q at 17:30 UTC: time rate %q, surge %v; want %q", zone, rate, b["surgePercent"], want)
		}
	}
}

// TestStaffSurgeOnTheCoopsClock: a surge staff pay a worker directly is allowed while a
// surge window is open on the co-op's clock: 18:30 in Paris is 17:30 UTC in December.
func TestStaffSurgeOnTheCoopsClock(t *testing.T) {
	for zone, want := range map[string]int{"Europe/Paris": 201, "": 400} {
		pol := mustPolicy(t, ridePolicy)
		pol.TimeZone = zone
		pol.Fares = &policy.Fares{BaseCents: 300, Surge: []policy.SurgeWindow{{From: "18:00", To: "19:00", Percent: 25}}}
		e := newEnv(t, pol) // Tuesday 09:00 UTC
		e.clock.Step(8*time.Hour + 30*time.Minute)
		w := e.worker("Dan Driver")
		r := e.call("POST", "/v1/payments", adminToken, map[string]any{"workerId": w.id, "amountCents": 10000, "surgeCents": 2000}, "Idempotency-Key", "s")
		if r.status != want {
			t.Errorf("zone %q, 17:30 UTC: a staff payment with surge: %d, want %d: %s", zone, r.status, want, r.body)
		}
	}
}

// TestScheduleSaysUTCWithoutAZone: a co-op that names no zone keeps its hours on UTC's
// clock, and the schedule says so.
func TestScheduleSaysUTCWithoutAZone(t *testing.T) {
	e := newEnv(t, mustPolicy(t, ridePolicy))
	w := e.worker("Dan Driver")
	if s := e.must(200, "GET", fmt.Sprintf("/v1/members/%d/schedule", w.id), w.token, nil); s["timeZone"] != "UTC" {
		t.Fatalf("the schedule of a co-op without a zone: %v", s)
	}
	// The member's export says the zone of their hours too.
	for zone, want := range map[string]string{"": "UTC", "Europe/Paris": "Europe/Paris"} {
		pol := mustPolicy(t, ridePolicy)
		pol.TimeZone = zone
		e := newEnv(t, pol)
		w := e.worker("Dan Driver")
		if s := e.must(200, "GET", fmt.Sprintf("/v1/members/%d/export", w.id), w.token, nil)["schedule"].(map[string]any); s["timeZone"] != want || len(s["weekly"].([]any)) != 7 {
			t.Errorf("zone %q: the export's schedule %v", zone, s)
		}
	}
}

// paidRideAt is a ride-sharing co-op in zone with one ride paid, its ledger's time moved
// to at. The ledger's times are the database's: the test moves them, as the owner, past
// the append-only triggers (which nothing in the service can do).
func paidRideAt(t *testing.T, zone, at string) *env {
	pol := mustPolicy(t, ridePolicy)
	pol.TimeZone = zone
	e := newEnv(t, pol)
	c := e.customer("Rita Rider")
	e.worker("Dan Driver")
	e.completedRide(c, 1999)
	if _, err := e.owner.Exec(t.Context(), `BEGIN; ALTER TABLE ledger_transactions DISABLE TRIGGER USER;
		UPDATE ledger_transactions SET created_at = '`+at+`';
		ALTER TABLE ledger_transactions ENABLE TRIGGER USER; COMMIT`); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestExportByTheCoopsDates: the treasurer's exports take and write the co-op's dates: a
// payment at 23:30 UTC on 30 November is 1 December's in Paris, November's on UTC.
func TestExportByTheCoopsDates(t *testing.T) {
	for zone, day := range map[string]string{"Europe/Paris": "2026-12-01", "": "2026-11-30"} {
		e := paidRideAt(t, zone, "2026-11-30T23:30:00Z")
		other := map[string]string{"2026-12-01": "2026-11-30", "2026-11-30": "2026-12-01"}[day]
		for _, report := range []string{"ledger", "payments"} {
			lines := e.export(report, day, day, adminToken)
			if len(lines) == 0 {
				t.Fatalf("zone %q: the %s export of %s is empty", zone, report, day)
			}
			for _, l := range lines {
				if l["date"] != day || l["time"] != "2026-11-30T23:30:00Z" {
					t.Errorf("zone %q: a %s line of %s says %s %s", zone, report, day, l["date"], l["time"])
				}
			}
			if lines := e.export(report, other, other, adminToken); len(lines) != 0 {
				t.Errorf("zone %q: the %s export of %s holds %d lines of %s", zone, report, other, len(lines), day)
			}
		}
	}
}

// TestExportWhereMidnightIsSkipped: Santiago skips midnight on 6 September 2026 (00:00 is
// 01:00): 23:30 on the 5th is the 5th's, in the 5th's export and not in the 6th's (read
// as dates normalised by the clock, the 6th began an hour early, on the 5th).
func TestExportWhereMidnightIsSkipped(t *testing.T) {
	e := paidRideAt(t, "America/Santiago", "2026-09-06T03:30:00Z")
	if lines := e.export("ledger", "2026-09-05", "2026-09-05", adminToken); len(lines) == 0 || lines[0]["date"] != "2026-09-05" {
		t.Errorf("the 5th's export: %v", lines)
	}
	if lines := e.export("ledger", "2026-09-06", "2026-09-06", adminToken); len(lines) != 0 {
		t.Errorf("the 6th's export holds the 5th's lines: %v", lines)
	}
}
