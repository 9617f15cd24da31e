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
		f, s := daySpans(at(tc.from), at(tc.to))
		if f != tc.first || s != tc.second {
			t.Errorf("%s..%s: %+v %+v, want %+v %+v", tc.from, tc.to, f, s, tc.first, tc.second)
		}
	}
}
