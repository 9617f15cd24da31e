package funds

import (
	"fmt"
	"testing"
	"time"

	_ "time/tzdata" // the zones below on any host
)

// TestMonthBounds: the months of the co-op's calendar, as instants: across summer time,
// a year's end, and a month whose midnight on the 1st the clock skips (Asunción, 1 October
// 2023: 00:00 became 01:00), which starts when the clock skips, not an hour before.
func TestMonthBounds(t *testing.T) {
	zone := func(name string) *time.Location {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		first, last string
		loc         *time.Location
		want        string
	}{
		{"2026-10-31T23:30:00Z", "2026-10-31T23:30:00Z", zone("Europe/Paris"), "[2026-11 2026-10-31T23:00:00Z 2026-11-30T23:00:00Z]"},
		{"2026-10-15T12:00:00Z", "2027-01-02T00:00:00Z", zone("Europe/Paris"),
			"[2026-10 2026-09-30T22:00:00Z 2026-10-31T23:00:00Z] [2026-11 2026-10-31T23:00:00Z 2026-11-30T23:00:00Z] " +
				"[2026-12 2026-11-30T23:00:00Z 2026-12-31T23:00:00Z] [2027-01 2026-12-31T23:00:00Z 2027-01-31T23:00:00Z]"},
		{"2023-09-30T12:00:00Z", "2023-10-01T05:00:00Z", zone("America/Asuncion"),
			"[2023-09 2023-09-01T04:00:00Z 2023-10-01T04:00:00Z] [2023-10 2023-10-01T04:00:00Z 2023-11-01T03:00:00Z]"},
		{"2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z", time.UTC, "[2026-12 2026-12-01T00:00:00Z 2027-01-01T00:00:00Z] [2027-01 2027-01-01T00:00:00Z 2027-02-01T00:00:00Z]"},
	} {
		labels, starts, ends := MonthBounds(at(tc.first), at(tc.last), tc.loc)
		var got []string
		for i := range labels {
			got = append(got, fmt.Sprintf("[%s %s %s]", labels[i], starts[i].UTC().Format(time.RFC3339), ends[i].UTC().Format(time.RFC3339)))
		}
		if s := fmt.Sprint(got); s != "["+tc.want+"]" {
			t.Errorf("%s to %s in %s:\n got %s\nwant [%s]", tc.first, tc.last, tc.loc, s, tc.want)
		}
	}
}
