package work

import (
	"slices"
	"testing"
	"time"
)

func TestDaySpans(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		from, to      string
		first, second span
	}{
		{"2026-12-07T09:00:00Z", "2026-12-07T10:00:00Z", span{1, 9 * 3600, 10 * 3600}, span{}},
		{"2026-12-07T23:00:00Z", "2026-12-08T00:00:00Z", span{1, 23 * 3600, 86400}, span{}},
		{"2026-12-06T23:00:00Z", "2026-12-07T01:00:00Z", span{7, 23 * 3600, 86400}, span{1, 0, 3600}},
		{"2026-12-07T09:00:00Z", "2026-12-07T09:00:01Z", span{1, 9 * 3600, 9*3600 + 1}, span{}},
		{"2026-12-07T10:00:00+01:00", "2026-12-07T10:00:00.5+01:00", span{1, 9 * 3600, 9*3600 + 1}, span{}},
	} {
		f, s, ok := daySpans(at(tc.from), at(tc.to), time.UTC)
		if !ok || f != tc.first || s != tc.second {
			t.Errorf("%s..%s: %+v %+v %v, want %+v %+v", tc.from, tc.to, f, s, ok, tc.first, tc.second)
		}
	}
	// In Paris, seconds of the day are the clock's: on the day summer time starts (29 March
	// 2026, 02:00 becomes 03:00) 10:00 is 36,000 s, though 9 hours have passed since
	// midnight; a slot over the change itself, or reaching a third day, is left to the
	// exact test.
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from, to      string
		first, second span
		ok            bool
	}{
		{"2026-03-29T10:00:00+02:00", "2026-03-29T11:00:00+02:00", span{7, 10 * 3600, 11 * 3600}, span{}, true},
		{"2026-10-25T22:00:00+01:00", "2026-10-26T01:00:00+01:00", span{7, 22 * 3600, 86400}, span{1, 0, 3600}, true},
		{"2026-12-07T08:00:00Z", "2026-12-07T09:00:00Z", span{1, 9 * 3600, 10 * 3600}, span{}, true},
		{"2026-03-29T01:30:00+01:00", "2026-03-29T03:30:00+02:00", span{}, span{}, false},
		{"2026-10-25T02:30:00+02:00", "2026-10-25T02:15:00+01:00", span{}, span{}, false},
		{"2026-03-28T23:30:00+01:00", "2026-03-30T00:30:00+02:00", span{}, span{}, false},
		// A slot that ends just as the clock goes back reads its end on the new offset.
		{"2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z", span{}, span{}, false},
	} {
		f, s, ok := daySpans(at(tc.from), at(tc.to), paris)
		if ok != tc.ok || f != tc.first || s != tc.second {
			t.Errorf("Paris %s..%s: %+v %+v %v, want %+v %+v %v", tc.from, tc.to, f, s, ok, tc.first, tc.second, tc.ok)
		}
	}
	santiago, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from, to string
	}{
		{"2026-04-05T02:30:00Z", "2026-04-05T03:00:00Z"}, // Saturday 23:30 to the first midnight
		{"2026-09-06T03:30:00Z", "2026-09-06T04:30:00Z"}, // Saturday 23:30 to Sunday 01:30, over the skipped midnight
	} {
		if f, s, ok := daySpans(at(tc.from), at(tc.to), santiago); ok {
			t.Errorf("Santiago %s..%s: %+v %+v, want the exact test", tc.from, tc.to, f, s)
		}
	}
}

// TestLocalDays: the dates a slot touches on the co-op's clock, up to three, and how each
// day's clock maps to instants, on the days summer time starts and ends, at 02:00 in
// Paris and at midnight in Santiago (whose midnight is skipped, or repeated).
func TestLocalDays(t *testing.T) {
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
	days := localDays(s, s.Add(24*time.Hour), paris) // ends 30 March 00:30
	want := []localDay{
		{base: at("2026-03-27T23:00:00Z"), weekday: 6, change: noChange},
		{base: at("2026-03-28T23:00:00Z"), weekday: 7, change: 2 * 3600, shift: 3600},
		{base: at("2026-03-29T22:00:00Z"), weekday: 1, change: noChange},
	}
	if !slices.EqualFunc(days, want, func(a, b localDay) bool {
		return a.base.Equal(b.base) && a.weekday == b.weekday && a.change == b.change && a.shift == b.shift
	}) {
		t.Errorf("Paris, summer time: %+v, want %+v", days, want)
	}
	if days := localDays(at("2026-10-25T00:00:00Z"), at("2026-10-25T01:00:00Z"), paris); len(days) != 1 ||
		!days[0].base.Equal(at("2026-10-24T22:00:00Z")) || days[0].change != 3*3600 || days[0].shift != -3600 {
		t.Errorf("Paris, winter time: %+v", days)
	}
	if days := localDays(at("2026-12-07T23:00:00Z"), at("2026-12-07T23:30:00Z"), paris); len(days) != 1 || days[0].weekday != 2 || !days[0].base.Equal(at("2026-12-07T23:00:00Z")) {
		t.Errorf("23:00 UTC is Tuesday in Paris: %+v", days)
	}
	// Santiago skips midnight on 6 September 2026 (00:00 is 01:00): the day begins in the
	// skipped hour, and is there even when the slot begins after it.
	if days := localDays(at("2026-09-06T13:00:00Z"), at("2026-09-06T14:00:00Z"), santiago); len(days) != 1 || days[0].weekday != 7 ||
		!days[0].base.Equal(at("2026-09-06T04:00:00Z")) || days[0].change != 0 || days[0].shift != 3600 {
		t.Errorf("Santiago, summer time: %+v", days)
	}
	// It repeats 23:00 to midnight on Saturday 4 April 2026: Sunday begins at the second
	// midnight, 04:00 UTC (its clock read from the summer offset, moved back at its start).
	if days := localDays(at("2026-04-05T04:30:00Z"), at("2026-04-05T05:00:00Z"), santiago); len(days) != 1 || days[0].weekday != 7 ||
		!days[0].base.Add(-time.Duration(days[0].shift)*time.Second).Equal(at("2026-04-05T04:00:00Z")) || days[0].change != 0 {
		t.Errorf("Santiago, winter time, Sunday: %+v", days)
	}
	if days := localDays(at("2026-04-05T02:30:00Z"), at("2026-04-05T03:00:00Z"), santiago); len(days) != 1 || days[0].weekday != 6 ||
		!days[0].base.Equal(at("2026-04-04T03:00:00Z")) || days[0].change != 24*3600 || days[0].shift != -3600 {
		t.Errorf("Santiago, winter time, Saturday: %+v", days)
	}
}
