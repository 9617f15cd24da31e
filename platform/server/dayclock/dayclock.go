// Package dayclock maps the clock of a co-op's days to instants: what a weekly window, a
// typed date and time or a date of an export means on the co-op's time zone, where the
// offset may change within a day (summer time starts or ends) or at midnight.
//
// It finds a zone's changes of offset by probing the offset (time.Time.Zone) and
// bisecting to the second, not with time.Time.ZoneBounds: ZoneBounds can answer a bound
// at or before the time asked about at the end of a leap year, in zones whose changes
// follow a rule (golang/go#81583), which would make a walk over the bounds loop forever.
package dayclock

import "time"

// Day is a date of a zone's calendar and how its clock maps to instants: second x of the
// day's clock is Base + x until the offset changes, at second Change of the clock (NoChange:
// not that day), and Base + x - Shift from second Change + Shift on (Shift, in seconds, is
// how far the clock moves: forward, it skips the seconds Change to Change + Shift; back, it
// repeats Change + Shift to Change). A weekly window [from, to) of the day is the instants
// whose clock reads within it: [Base + from, Base + min(to, Change)) while from < Change,
// and [Base + max(from, Change + Shift) - Shift, Base + to - Shift) while to > max(from,
// Change + Shift). So a window in the hour summer time skips holds no instant, and one in
// the hour it repeats holds both of that hour's occurrences.
type Day struct {
	Date    time.Time // the date, as its midnight in UTC
	Base    time.Time
	Weekday int32 // ISO: 1 Monday .. 7 Sunday
	Change  int32
	Shift   int32
}

// NoChange is the Change of a day whose offset does not change: past its last second.
const NoChange = 100_000

// probe is the step at which the offset is probed: no zone changes its offset twice within
// it.
const probe = 15 * time.Minute

func offset(t time.Time, loc *time.Location) int {
	_, off := t.In(loc).Zone()
	return off
}

// change is the first change of loc's offset in (from, to], and the offset after it; ok is
// false when there is none (probed every 15 minutes).
func change(from, to time.Time, loc *time.Location) (at time.Time, after int, ok bool) {
	prev := offset(from, loc)
	for t := from; t.Before(to); {
		next := t.Add(probe)
		if next.After(to) {
			next = to
		}
		if o := offset(next, loc); o != prev {
			a, b := t, next // the offset is prev at a, o at b
			for b.Sub(a) > time.Second {
				m := a.Add(b.Sub(a) / 2).Truncate(time.Second)
				if !m.After(a) {
					m = a.Add(time.Second)
				}
				if offset(m, loc) == prev {
					a = m
				} else {
					b = m
				}
			}
			return b, offset(b, loc), true
		}
		t = next
	}
	return time.Time{}, 0, false
}

// Of is the clock of date (any time of the date: its year, month and day are read) in loc.
// Its first offset is that of the zone's period whose clock reaches the day's midnight (or
// ends at it: a midnight that summer time skips begins the day in the skipped hour), and
// its change the next one, when it falls within the day, or when the clock it sets back
// repeats the day's end. (No zone changes its offset twice in a day.)
func Of(date time.Time, loc *time.Location) Day {
	y, m, dd := date.Date()
	date = time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
	// Offsets are within ±26 hours: the day's instants lie within these bounds.
	t := date.Add(-27 * time.Hour)
	end := date.Add(51 * time.Hour)
	off := offset(t, loc)
	for {
		at, next, ok := change(t, end, loc)
		// This period's clock runs up to at + off: it reaches the day's midnight (or
		// there is no later period), or the next period's clock begins after it (the
		// midnight is skipped: the day begins in the skip, Change is negative).
		if !ok || !at.Add(time.Duration(off)*time.Second).Before(date) || at.Add(time.Duration(next)*time.Second).After(date) {
			d := Day{Date: date, Base: date.Add(-time.Duration(off) * time.Second), Weekday: isoWeekday(date), Change: NoChange}
			if ok {
				c, shift := int64(at.Sub(d.Base)/time.Second), int64(next-off)
				if c <= 86400 || (shift < 0 && c+shift < 86400) {
					d.Change, d.Shift = int32(c), int32(shift)
				}
			}
			return d
		}
		t, off = at, next
	}
}

// Days are the dates of loc's calendar that the instants of [s, e) read, from the
// earliest to the latest (one to three: a day-long slot over the start of summer time may
// end on the third), with their clocks. The dates read either side of each change of
// offset within [s, e) count too: a clock set back over midnight reads a date that
// neither end of the slot reads.
func Days(s, e time.Time, loc *time.Location) []Day {
	first, last := dateOf(s.In(loc)), dateOf(e.Add(-time.Nanosecond).In(loc))
	if last.Before(first) {
		first, last = last, first
	}
	for t := s; ; {
		at, _, ok := change(t, e, loc)
		if !ok || !at.Before(e) {
			break
		}
		for _, d := range []time.Time{dateOf(at.Add(-time.Nanosecond).In(loc)), dateOf(at.In(loc))} {
			first, last = minTime(first, d), maxTime(last, d)
		}
		t = at
	}
	var out []Day
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		out = append(out, Of(d, loc))
	}
	return out
}

// Start is the day's first instant (the instant of its clock's 00:00:00, or of the
// change, when summer time skips its midnight).
func (d Day) Start() time.Time {
	at, _ := d.At(0)
	return at
}

// At is the instant the day's clock reads sec (seconds from its midnight): the first time
// it does, when the clock is set back over it; ok is false when the clock skips it, and
// the instant is then that of the change.
func (d Day) At(sec int) (time.Time, bool) {
	x := int64(sec)
	c, shift := int64(d.Change), int64(d.Shift)
	switch {
	case x < c:
		return d.Base.Add(time.Duration(x) * time.Second), true
	case shift > 0 && x < c+shift:
		return d.Base.Add(time.Duration(c) * time.Second), false
	}
	return d.Base.Add(time.Duration(x-shift) * time.Second), true
}

// Steady says whether loc's offset is the same from s to e, e included: the clock of [s,
// e] is one steady count of seconds.
func Steady(s, e time.Time, loc *time.Location) bool {
	_, _, changed := change(s, e, loc)
	return !changed
}

func dateOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func isoWeekday(t time.Time) int32 {
	if d := int32(t.Weekday()); d != 0 {
		return d
	}
	return 7
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
