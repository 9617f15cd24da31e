package pricing

import (
	"errors"
	"testing"
	"time"

	"github.com/cooperator-dev/cooperator/api/policy"
)

func TestQuote(t *testing.T) {
	tuesday9 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	ride := policy.Fares{BaseCents: 250, PerKmCents: 120, PerMinuteCents: 30, MinimumCents: 700,
		Surge: []policy.SurgeWindow{{Days: []string{"tue"}, From: "08:00", To: "10:00", Percent: 25}}}
	for _, c := range []struct {
		name string
		f    policy.Fares
		in   Input
		at   time.Time
		want Breakdown
	}{
		{"distance pro rata per metre, time, no surge", ride, Input{DistanceMeters: 5250, DurationMinutes: 14}, tuesday9.Add(2 * time.Hour),
			Breakdown{BaseCents: 250, DistanceCents: 630, TimeCents: 420, SubtotalCents: 1300, PriceCents: 1300}},
		{"raised to the minimum", ride, Input{DistanceMeters: 999, DurationMinutes: 3}, tuesday9.Add(2 * time.Hour),
			Breakdown{BaseCents: 250, DistanceCents: 119, TimeCents: 90, SubtotalCents: 459, MinimumUpliftCents: 241, PriceCents: 700}},
		{"surge on the minimum, rounded down", ride, Input{DistanceMeters: 999, DurationMinutes: 3}, tuesday9,
			Breakdown{BaseCents: 250, DistanceCents: 119, TimeCents: 90, SubtotalCents: 459, MinimumUpliftCents: 241, SurgePercent: 25, SurgeCents: 175, PriceCents: 875}},
		{"packages beyond the first", policy.Fares{BaseCents: 400, PerPackageCents: 150}, Input{Packages: 3}, tuesday9,
			Breakdown{BaseCents: 400, PackagesCents: 300, SubtotalCents: 700, PriceCents: 700}},
		{"one package costs no extra", policy.Fares{BaseCents: 400, PerPackageCents: 150}, Input{Packages: 1}, tuesday9,
			Breakdown{BaseCents: 400, SubtotalCents: 400, PriceCents: 400}},
		{"by the hour, pro rata per minute", policy.Fares{PerHourCents: 2500}, Input{DurationMinutes: 90}, tuesday9,
			Breakdown{HourlyCents: 3750, SubtotalCents: 3750, PriceCents: 3750}},
	} {
		got, err := Quote(c.f, c.in, c.at)
		if err != nil || got != c.want {
			t.Errorf("%s: %+v %v, want %+v", c.name, got, err, c.want)
		}
		if got.PriceCents != got.BaseCents+got.DistanceCents+got.TimeCents+got.HourlyCents+got.PackagesCents+got.MinimumUpliftCents+got.SurgeCents {
			t.Errorf("%s: the parts do not add up", c.name)
		}
	}
	max := policy.Fares{PerKmCents: policy.MaxFareCents, PerMinuteCents: policy.MaxFareCents, PerHourCents: policy.MaxFareCents,
		Surge: []policy.SurgeWindow{{From: "00:00", To: "23:59", Percent: policy.MaxSurgePercent}}}
	if _, err := Quote(max, Input{DistanceMeters: MaxDistanceMeters, DurationMinutes: MaxDurationMinutes, Packages: MaxPackages}, tuesday9); !errors.Is(err, ErrTooExpensive) {
		t.Errorf("the largest request: %v, want ErrTooExpensive", err)
	}
}
