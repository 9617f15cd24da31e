// Package pricing computes the price of a request from the co-op's fare rule
// (api/policy.Fares): pure integer arithmetic in cents, every division rounding down.
package pricing

import (
	"errors"
	"time"

	"github.com/cooperator-dev/cooperator/api/policy"
)

// Bounds of a request's measures.
const (
	MaxDistanceMeters  = 10_000_000   // 10,000 km
	MaxDurationMinutes = 60 * 24 * 31 // a month
	MaxPackages        = 1000
)

// Input is what a request measures.
type Input struct {
	DistanceMeters  int64
	DurationMinutes int64
	Packages        int64
	// Zone names one of the rule's zones ("" for none).
	Zone string
}

// Breakdown is a price and how the fare rule made it. Invariant:
//
//	SubtotalCents = BaseCents + DistanceCents + TimeCents + HourlyCents + PackagesCents
//	PriceCents = SubtotalCents + MinimumUpliftCents + SurgeCents
type Breakdown struct {
	BaseCents          int64 `json:"baseCents"`
	DistanceCents      int64 `json:"distanceCents"`
	TimeCents          int64 `json:"timeCents"`
	HourlyCents        int64 `json:"hourlyCents"`
	PackagesCents      int64 `json:"packagesCents"`
	SubtotalCents      int64 `json:"subtotalCents"`
	MinimumUpliftCents int64 `json:"minimumUpliftCents"`
	SurgePercent       int64 `json:"surgePercent"`
	SurgeCents         int64 `json:"surgeCents"`
	PriceCents         int64 `json:"priceCents"`
	// Zone and TimeRate name the zone and the time rate whose amounts priced the work.
	Zone     string `json:"zone,omitempty"`
	TimeRate string `json:"timeRate,omitempty"`
}

// ErrTooExpensive is returned when the price would exceed policy.MaxAmountCents.
var ErrTooExpensive = errors.New("the price exceeds the largest amount a payment can carry")

// Quote prices in under the rule f at time at (which decides the surge and the time rate,
// on at's clock: give it in the co-op's time zone):
//   - base, plus per km pro rata per metre, per minute, per hour pro rata per minute, and
//     per package beyond the first;
//   - raised to the minimum if below it;
//   - plus the surge of the window open at at: ⌊(subtotal + uplift) × percent / 100⌋.
//
// The inputs must be within the bounds above (the caller validates them), but for a
// stay's length, which its dates bound (at most the 70-odd years between 1970 and ten
// years from now: every amount times it stays far within int64).
func Quote(rule policy.Fares, in Input, at time.Time) (Breakdown, error) {
	f, rate, err := rule.For(in.Zone, at)
	if err != nil {
		return Breakdown{}, err
	}
	b := Breakdown{
		Zone:          in.Zone,
		TimeRate:      rate,
		BaseCents:     f.BaseCents,
		DistanceCents: f.PerKmCents * in.DistanceMeters / 1000,
		TimeCents:     f.PerMinuteCents * in.DurationMinutes,
		HourlyCents:   f.PerHourCents * in.DurationMinutes / 60,
		PackagesCents: f.PerPackageCents * max(in.Packages-1, 0),
	}
	b.SubtotalCents = b.BaseCents + b.DistanceCents + b.TimeCents + b.HourlyCents + b.PackagesCents
	if b.SubtotalCents < f.MinimumCents {
		b.MinimumUpliftCents = f.MinimumCents - b.SubtotalCents
	}
	before := b.SubtotalCents + b.MinimumUpliftCents
	b.SurgePercent = f.SurgePercent(at)
	b.SurgeCents = before * b.SurgePercent / 100
	b.PriceCents = before + b.SurgeCents
	if b.PriceCents > policy.MaxAmountCents {
		return b, ErrTooExpensive
	}
	return b, nil
}
