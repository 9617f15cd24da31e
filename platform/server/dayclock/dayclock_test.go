package dayclock

import (
	"slices"
	"testing"
	"time"
)

// TestDays: the dates a slot touches on the co-op's clock, up to three, and how each
// day's clock maps to instants, on the days summer time starts and ends, at 02:00 in
// Paris and at midnight in Santiago (whose midnight is skipped, or repeated).
func TestDays(t *testing.T) {
	load := func(name string) *time.Location {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	paris, santiago := load("Europe/Paris"), load("America/Santiago")
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	s := time.Date(2026, 3, 28, 23, 30, 0, 0, paris)
	days := Days(s, s.Add(24*time.Hour), paris) // ends 30 March 00:30
	want := []Day{
		{Base: at("2026-03-27T23:00:00Z"), Weekday: 6, Change: NoChange},
		{Base: at("2026-03-28T23:00:00Z"), Weekday: 7, Change: 2 * 3600, Shift: 3600},
		{Base: at("2026-03-29T22:00:00Z"), Weekday: 1, Change: NoChange},
	}
	if !slices.EqualFunc(days, want, func(a, b Day) bool {
		return a.Base.Equal(b.Base) && a.Weekday == b.Weekday && a.Change == b.Change && a.Shift == b.Shift
	}) {
		t.Errorf("Paris, summer time: %+v, want %+v", days, want)
	}
	if days := Days(at("2026-10-25T00:00:00Z"), at("2026-10-25T01:00:00Z"), paris); len(days) != 1 ||
		!days[0].Base.Equal(at("2026-10-24T22:00:00Z")) || days[0].Change != 3*3600 || days[0].Shift != -3600 {
		t.Errorf("Paris, winter time: %+v", days)
	}
	if days := Days(at("2026-12-07T23:00:00Z"), at("2026-12-07T23:30:00Z"), paris); len(days) != 1 || days[0].Weekday != 2 || !days[0].Base.Equal(at("2026-12-07T23:00:00Z")) {
		t.Errorf("23:00 UTC is Tuesday in Paris: %+v", days)
	}
	// Santiago skips midnight on 6 September 2026 (00:00 is 01:00): the day begins in the
	// skipped hour, and is there even when the slot begins after it.
	if days := Days(at("2026-09-06T13:00:00Z"), at("2026-09-06T14:00:00Z"), santiago); len(days) != 1 || days[0].Weekday != 7 ||
		!days[0].Base.Equal(at("2026-09-06T04:00:00Z")) || days[0].Change != 0 || days[0].Shift != 3600 {
		t.Errorf("Santiago, summer time: %+v", days)
	}
	// It repeats 23:00 to midnight on Saturday 4 April 2026: Sunday begins at the second
	// midnight, 04:00 UTC (its clock read from the summer offset, moved back at its start).
	if days := Days(at("2026-04-05T04:30:00Z"), at("2026-04-05T05:00:00Z"), santiago); len(days) != 1 || days[0].Weekday != 7 ||
		!days[0].Base.Add(-time.Duration(days[0].Shift)*time.Second).Equal(at("2026-04-05T04:00:00Z")) || days[0].Change != 0 {
		t.Errorf("Santiago, winter time, Sunday: %+v", days)
	}
	if days := Days(at("2026-04-05T02:30:00Z"), at("2026-04-05T03:00:00Z"), santiago); len(days) != 1 || days[0].Weekday != 6 ||
		!days[0].Base.Equal(at("2026-04-04T03:00:00Z")) || days[0].Change != 24*3600 || days[0].Shift != -3600 {
		t.Errorf("Santiago, winter time, Saturday: %+v", days)
	}
}

// TestOfEndsAtTheEndOfLeapYears: the last days of leap years after the zone's listed
// changes, where time.Time.ZoneBounds answers a bound before the time asked about
// (golang/go#81583) and a walk over its bounds never ended.
func TestOfEndsAtTheEndOfLeapYears(t *testing.T) {
	done := make(chan []Day, 1)
	go func() {
		var days []Day
		for _, zone := range []string{"America/New_York", "Europe/Paris"} {
			loc, err := time.LoadLocation(zone)
			if err != nil {
				panic(err)
			}
			for _, date := range []time.Time{time.Date(2040, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(2041, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2044, 12, 31, 0, 0, 0, 0, time.UTC)} {
				days = append(days, Of(date, loc))
			}
		}
		done <- days
	}()
	select {
	case days := <-done:
		for _, d := range days {
			if d.Change != NoChange {
				t.Errorf("%v: a change of offset on a winter day: %+v", d.Date, d)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the clock of the last days of leap years is never found")
	}
}

// TestOfRepeatsTheEveningBeforeAChangeAfterMidnight: St. John's set its clocks back from
// 00:01 to 23:01 (27-28 October 1990): Saturday's 23:01 to 24:00 happens twice, and a
// window of Saturday evening holds both.
func TestOfRepeatsTheEveningBeforeAChangeAfterMidnight(t *testing.T) {
	loc, err := time.LoadLocation("America/St_Johns")
	if err != nil {
		t.Fatal(err)
	}
	sat := Of(time.Date(1990, 10, 27, 0, 0, 0, 0, time.UTC), loc)
	if sat.Change == NoChange || sat.Shift != -3600 {
		t.Fatalf("Saturday %+v: no repeated hour", sat)
	}
	// The window 23:00-24:00, by the two branches of Day's rule.
	first0, _ := sat.At(23 * 3600)
	second0 := sat.Base.Add(time.Duration(max(23*3600, int64(sat.Change+sat.Shift))-int64(sat.Shift)) * time.Second)
	second1 := sat.Base.Add(time.Duration(24*3600-int64(sat.Shift)) * time.Second)
	if got, want := first0.In(loc).Format("15:04 MST"), "23:00 NDT"; got != want {
		t.Errorf("23:00 first: %s, want %s", got, want)
	}
	if a, b := second0.In(loc).Format("15:04 MST"), second1.In(loc).Format("15:04 MST"); a != "23:01 NST" || b != "00:00 NST" {
		t.Errorf("the repeated evening: %s to %s, want 23:01 NST to 00:00 NST", a, b)
	}
	// Sunday's first minute happens twice too: it begins at the first.
	if got := Of(time.Date(1990, 10, 28, 0, 0, 0, 0, time.UTC), loc).Start(); !got.Equal(time.Date(1990, 10, 28, 2, 30, 0, 0, time.UTC)) {
		t.Errorf("Sunday begins at %v, want 02:30 UTC (00:00 NDT)", got)
	}
	// A slot from Sunday 00:00:30 (before the change) to Saturday 23:30 (after it) reads
	// both dates, though its last reads the earlier one; one that begins and ends on
	// Sunday reads Saturday in between, and one that begins and ends on Saturday reads
	// Sunday's first minute.
	for _, c := range []struct{ from, to time.Time }{
		{time.Date(1990, 10, 28, 2, 30, 30, 0, time.UTC), time.Date(1990, 10, 28, 3, 0, 30, 0, time.UTC)},
		{time.Date(1990, 10, 28, 2, 30, 30, 0, time.UTC), time.Date(1990, 10, 28, 4, 0, 0, 0, time.UTC)},
		{time.Date(1990, 10, 28, 2, 0, 0, 0, time.UTC), time.Date(1990, 10, 28, 3, 0, 0, 0, time.UTC)},
	} {
		if days := Days(c.from, c.to, loc); len(days) != 2 || days[0].Weekday != 6 || days[1].Weekday != 7 {
			t.Errorf("a slot from %v to %v: %+v", c.from, c.to, days)
		}
	}
}

// TestAt: a time of the clock is its first occurrence; a time the clock skips is not one.
func TestAt(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	at := func(date time.Time, hh, mm int) (string, bool) {
		i, ok := Of(date, paris).At(hh*3600 + mm*60)
		return i.UTC().Format(time.RFC3339), ok
	}
	for _, c := range []struct {
		date   time.Time
		hh, mm int
		want   string
		ok     bool
	}{
		{time.Date(2027, 3, 28, 0, 0, 0, 0, time.UTC), 1, 30, "2027-03-28T00:30:00Z", true},
		{time.Date(2027, 3, 28, 0, 0, 0, 0, time.UTC), 2, 30, "2027-03-28T01:00:00Z", false},
		{time.Date(2027, 3, 28, 0, 0, 0, 0, time.UTC), 3, 0, "2027-03-28T01:00:00Z", true},
		{time.Date(2027, 10, 31, 0, 0, 0, 0, time.UTC), 2, 30, "2027-10-31T00:30:00Z", true}, // the first 02:30
		{time.Date(2027, 10, 31, 0, 0, 0, 0, time.UTC), 3, 0, "2027-10-31T02:00:00Z", true},
		{time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), 14, 30, "2026-12-03T13:30:00Z", true},
	} {
		if got, ok := at(c.date, c.hh, c.mm); got != c.want || ok != c.ok {
			t.Errorf("%s %02d:%02d: %s %v, want %s %v", c.date.Format(time.DateOnly), c.hh, c.mm, got, ok, c.want, c.ok)
		}
	}
	santiago, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	if got := Of(time.Date(2026, 9, 6, 0, 0, 0, 0, time.UTC), santiago).Start(); !got.Equal(time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC)) {
		t.Errorf("Santiago's 6 September 2026 begins at %v, want 04:00 UTC (01:00, midnight skipped)", got)
	}
}

// TestOfWhereTheSkipSpansMidnight: Toronto set its clock forward from 23:30 to 00:30 on 30
// March 1919: the 31st's first half hour never happened; its clock begins at 00:30.
func TestOfWhereTheSkipSpansMidnight(t *testing.T) {
	loc, err := time.LoadLocation("America/Toronto")
	if err != nil {
		t.Fatal(err)
	}
	d := Of(time.Date(1919, 3, 31, 0, 0, 0, 0, time.UTC), loc)
	if _, ok := d.At(15 * 60); ok {
		t.Errorf("00:15 on 31 March 1919 in Toronto happened: %+v", d)
	}
	if got := d.Start().In(loc).Format("2006-01-02 15:04"); got != "1919-03-31 00:30" {
		t.Errorf("31 March 1919 begins at %s, want 00:30", got)
	}
}
