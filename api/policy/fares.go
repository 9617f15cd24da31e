/*
Copyright 2026 The cooperator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package policy

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// PartFares is the fare rule's part of the policy. Unlike the GovernedParts it is not a
// field of the Cooperative's spec: the co-op's platform service applies a passed change
// of it itself (the operator never sees it), and it is always governed.
const PartFares = "fares"

// MaxFareCents bounds every amount of a fare rule, so that a price computed from it
// (amount × quantity) stays far within MaxAmountCents.
const MaxFareCents int64 = 100_000_00 // 100,000.00

// MaxSurgePercent bounds a surge window's increase.
const MaxSurgePercent = 300

// Weekdays are the days a surge window names.
var Weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// Fares is the co-op's fare rule: how the platform prices a request, voted by the
// members (collective bargaining), not typed by whoever asks. All amounts are integer
// cents.
type Fares struct {
	// BaseCents is charged once per request.
	BaseCents int64 `json:"baseCents"`
	// PerKmCents is charged per kilometre (pro rata per metre, rounded down).
	PerKmCents int64 `json:"perKmCents,omitempty"`
	// PerMinuteCents is charged per minute of the work.
	PerMinuteCents int64 `json:"perMinuteCents,omitempty"`
	// PerPackageCents is charged per package beyond the first.
	PerPackageCents int64 `json:"perPackageCents,omitempty"`
	// PerHourCents is charged per hour (pro rata per minute, rounded down), for work
	// priced by the hour (care, home services).
	PerHourCents int64 `json:"perHourCents,omitempty"`
	// MinimumCents is the least a request costs before surge.
	MinimumCents int64 `json:"minimumCents,omitempty"`
	// FloorCents is the least a worker may ask where workers set their own price (home
	// services, freelance, marketplace): the co-op's minimum rate card.
	FloorCents int64 `json:"floorCents,omitempty"`
	// Surge lists the governed surge windows: during one (on the co-op's clock, in its
	// time zone), the price rises by its percent; where windows overlap, the highest
	// applies.
	Surge []SurgeWindow `json:"surge,omitempty"`
	// Zones price work in a named zone (a district, a ring of suburbs): a request that
	// names a zone is priced with the zone's amounts in place of the rule's.
	Zones []FareZone `json:"zones,omitempty"`
	// TimeRates price work in a weekly time window (on the co-op's clock; night, weekend):
	// during the first one open, its amounts replace those of the rule (and of the zone).
	TimeRates []TimeRate `json:"timeRates,omitempty"`
}

// FareAmounts are the amounts a zone or a time rate sets; those left out stay the rule's.
type FareAmounts struct {
	BaseCents       *int64 `json:"baseCents,omitempty"`
	PerKmCents      *int64 `json:"perKmCents,omitempty"`
	PerMinuteCents  *int64 `json:"perMinuteCents,omitempty"`
	PerPackageCents *int64 `json:"perPackageCents,omitempty"`
	PerHourCents    *int64 `json:"perHourCents,omitempty"`
	MinimumCents    *int64 `json:"minimumCents,omitempty"`
}

// FareZone is a zone's amounts.
type FareZone struct {
	// Name is how requests name the zone: lower case letters, digits and dashes.
	Name string `json:"name"`
	FareAmounts
}

// TimeRate is a weekly time window's amounts.
type TimeRate struct {
	// Name labels the rate in a price's breakdown (lower case letters, digits, dashes).
	Name string `json:"name"`
	// Days the window is open; empty: every day. From and To are HH:MM of the co-op's
	// clock (its time zone); To may be 24:00, the end of the day.
	Days []string `json:"days,omitempty"`
	From string   `json:"from"`
	To   string   `json:"to"`
	FareAmounts
}

func (a FareAmounts) each(f func(name string, v *int64)) {
	f("baseCents", a.BaseCents)
	f("perKmCents", a.PerKmCents)
	f("perMinuteCents", a.PerMinuteCents)
	f("perPackageCents", a.PerPackageCents)
	f("perHourCents", a.PerHourCents)
	f("minimumCents", a.MinimumCents)
}

func (a FareAmounts) validate(at string) error {
	var err error
	a.each(func(name string, v *int64) {
		if err == nil && v != nil {
			err = inRange(at+"."+name, *v, 0, MaxFareCents)
		}
	})
	return err
}

// apply returns f with a's amounts in place of its own.
func (a FareAmounts) apply(f Fares) Fares {
	set := func(dst *int64, v *int64) {
		if v != nil {
			*dst = *v
		}
	}
	set(&f.BaseCents, a.BaseCents)
	set(&f.PerKmCents, a.PerKmCents)
	set(&f.PerMinuteCents, a.PerMinuteCents)
	set(&f.PerPackageCents, a.PerPackageCents)
	set(&f.PerHourCents, a.PerHourCents)
	set(&f.MinimumCents, a.MinimumCents)
	return f
}

// ErrUnknownZone is returned by For for a zone the rule does not name.
var ErrUnknownZone = errors.New("the fare rule has no such zone")

// For is the rule that prices a request in zone (empty: none) at t: the zone's amounts,
// then those of the first time rate open at t, in place of the rule's; and the name of
// that time rate ("" when none is open). The windows are read on t's clock: give t in the
// co-op's time zone (Policy.Location).
func (f *Fares) For(zone string, t time.Time) (Fares, string, error) {
	out := *f
	if zone != "" {
		i := slices.IndexFunc(f.Zones, func(z FareZone) bool { return z.Name == zone })
		if i < 0 {
			return out, "", ErrUnknownZone
		}
		out = f.Zones[i].apply(out)
	}
	day := Weekdays[(int(t.Weekday())+6)%7]
	clock := t.Format("15:04")
	for _, r := range f.TimeRates {
		if (len(r.Days) == 0 || slices.Contains(r.Days, day)) && clock >= r.From && clock < r.To {
			return r.apply(out), r.Name, nil
		}
	}
	return out, "", nil
}

// validateWindow checks a weekly window's days and times of day: from HH:MM, to HH:MM or
// 24:00 (the end of the day), from before to.
func validateWindow(p string, days []string, from, to string) error {
	for j, d := range days {
		if !slices.Contains(Weekdays, d) {
			return fieldErr(fmt.Sprintf("%s.days[%d]", p, j), "%q is not one of %v", d, Weekdays)
		}
	}
	f, err1 := time.Parse("15:04", from)
	t, err2 := time.Parse("15:04", to)
	// Zero-padded exactly, as the windows compare times of day as text ("24:00" after
	// every time of the day).
	if err1 != nil || f.Format("15:04") != from {
		return fieldErr(p+".from", "%q must be a time of day like 07:30", from)
	}
	if to == EndOfDay {
		return nil
	}
	if err2 != nil || t.Format("15:04") != to {
		return fieldErr(p+".to", "%q must be a time of day like 09:00 (24:00 for the end of the day)", to)
	}
	if !f.Before(t) {
		return fieldErr(p+".to", "must be after from")
	}
	return nil
}

// EndOfDay is the end of a weekly window that runs to midnight.
const EndOfDay = "24:00"

// validateZonesAndRates checks the zones (unique names) and time rates of a rule.
func (f *Fares) validateZonesAndRates(at string) error {
	if err := atMost(at+".zones", "zones", len(f.Zones), 32); err != nil {
		return err
	}
	for i, z := range f.Zones {
		p := fmt.Sprintf("%s.zones[%d]", at, i)
		if !validName(z.Name) {
			return fieldErr(p+".name", "%q must be lower case letters, digits and dashes", z.Name)
		}
		if slices.IndexFunc(f.Zones[:i], func(o FareZone) bool { return o.Name == z.Name }) >= 0 {
			return fieldErr(p+".name", "%q is named twice", z.Name)
		}
		if err := z.validate(p); err != nil {
			return err
		}
	}
	if err := atMost(at+".timeRates", "time rates", len(f.TimeRates), 16); err != nil {
		return err
	}
	for i, r := range f.TimeRates {
		p := fmt.Sprintf("%s.timeRates[%d]", at, i)
		if !validName(r.Name) {
			return fieldErr(p+".name", "%q must be lower case letters, digits and dashes", r.Name)
		}
		if err := validateWindow(p, r.Days, r.From, r.To); err != nil {
			return err
		}
		if err := r.validate(p); err != nil {
			return err
		}
	}
	return nil
}

// SurgeWindow is a weekly time window with a surge.
type SurgeWindow struct {
	// Days the window is open; empty: every day.
	Days []string `json:"days,omitempty"`
	// From and To are times of day, HH:MM of the co-op's clock (its time zone), From
	// before To; To may be 24:00, the end of the day.
	From string `json:"from"`
	To   string `json:"to"`
	// Percent is the increase, 1..MaxSurgePercent.
	Percent int64 `json:"percent"`
}

// Validate checks the fare rule; errors name the field under at.
func (f *Fares) Validate(at string) error {
	for _, a := range []struct {
		name string
		v    int64
	}{{"baseCents", f.BaseCents}, {"perKmCents", f.PerKmCents}, {"perMinuteCents", f.PerMinuteCents},
		{"perPackageCents", f.PerPackageCents}, {"perHourCents", f.PerHourCents}, {"minimumCents", f.MinimumCents}, {"floorCents", f.FloorCents}} {
		if err := inRange(at+"."+a.name, a.v, 0, MaxFareCents); err != nil {
			return err
		}
	}
	if err := atMost(at+".surge", "windows", len(f.Surge), 16); err != nil {
		return err
	}
	for i, w := range f.Surge {
		p := fmt.Sprintf("%s.surge[%d]", at, i)
		if err := validateWindow(p, w.Days, w.From, w.To); err != nil {
			return err
		}
		if err := inRange(p+".percent", w.Percent, 1, MaxSurgePercent); err != nil {
			return err
		}
	}
	return f.validateZonesAndRates(at)
}

// SurgePercent is the surge in force at t (the highest of the windows open then, 0 when
// none is), read on t's clock: give t in the co-op's time zone (Policy.Location).
func (f *Fares) SurgePercent(t time.Time) int64 {
	day := Weekdays[(int(t.Weekday())+6)%7]
	clock := t.Format("15:04")
	var best int64
	for _, w := range f.Surge {
		if (len(w.Days) == 0 || slices.Contains(w.Days, day)) && clock >= w.From && clock < w.To {
			best = max(best, w.Percent)
		}
	}
	return best
}
