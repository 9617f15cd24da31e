package work

import (
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
