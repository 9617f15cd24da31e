// Package ledger holds the money arithmetic of the platform service: how a payment's
// gross is split between the worker, the co-op's funds and its operating account.
// All amounts are integer cents; there is no floating point anywhere.
package ledger

import (
	"errors"
	"fmt"

	"github.com/cooperator-dev/cooperator/api/policy"
)

// MaxAmountCents bounds a payment's gross so that gross*10000 never overflows int64.
const MaxAmountCents = policy.MaxAmountCents

// FundShare is the amount one fund receives from a payment.
type FundShare struct {
	Name        string `json:"name"`
	AmountCents int64  `json:"amountCents"`
}

// Split is the breakdown of one payment. Invariant:
//
//	GrossCents = WorkerCents + PlatformFeeCents + CoopSurgeCents
//	PlatformFeeCents = sum(Funds) + OperatingCents
//	WorkerCents = (GrossCents - SurgeCents - PlatformFeeCents) + WorkerSurgeCents
//	SurgeCents = WorkerSurgeCents + CoopSurgeCents
type Split struct {
	GrossCents       int64       `json:"grossCents"`
	SurgeCents       int64       `json:"surgeCents"`
	PlatformFeeCents int64       `json:"platformFeeCents"`
	Funds            []FundShare `json:"funds"`
	OperatingCents   int64       `json:"operatingCents"`
	WorkerSurgeCents int64       `json:"workerSurgeCents"`
	CoopSurgeCents   int64       `json:"coopSurgeCents"`
	WorkerCents      int64       `json:"workerCents"`
}

// ErrAmount is returned for a gross or surge out of range.
var ErrAmount = errors.New("amount out of range")

// Compute splits a payment of grossCents, of which surgeCents is surge, by rule.
//
// Surge is part of the gross and carries no platform fee. The fee is computed on the
// base (gross minus surge). Rounding: every division rounds down, and the odd cents go
//   - from the fee to the worker (the fee is rounded down),
//   - from each fund to the co-op's operating account (funds are rounded down and the
//     operating account takes what is left of the fee),
//   - from the co-op's surge share to the worker (the co-op's share is rounded down).
//
// So the split always adds up to the gross exactly and never has a negative part.
// rule is the co-op policy's fee split (api/policy), validated by its own Validate.
func Compute(rule policy.FeeSplit, grossCents, surgeCents int64) (Split, error) {
	if grossCents <= 0 || grossCents > MaxAmountCents {
		return Split{}, fmt.Errorf("gross %d: %w", grossCents, ErrAmount)
	}
	if surgeCents < 0 || surgeCents > grossCents {
		return Split{}, fmt.Errorf("surge %d: %w", surgeCents, ErrAmount)
	}
	if err := rule.Validate("feeSplit"); err != nil {
		return Split{}, err
	}
	base := grossCents - surgeCents
	fee := base * rule.PlatformFeeBasisPoints / 10000
	s := Split{GrossCents: grossCents, SurgeCents: surgeCents, PlatformFeeCents: fee, Funds: make([]FundShare, 0, len(rule.Funds))}
	var funds int64
	for _, f := range rule.Funds {
		amt := base * f.BasisPoints / 10000
		funds += amt
		s.Funds = append(s.Funds, FundShare{Name: f.Name, AmountCents: amt})
	}
	s.OperatingCents = fee - funds
	s.CoopSurgeCents = surgeCents * (100 - rule.SurgeToWorkersPercent) / 100
	s.WorkerSurgeCents = surgeCents - s.CoopSurgeCents
	s.WorkerCents = base - fee + s.WorkerSurgeCents
	return s, nil
}

// Sum returns the total of the parts the gross is split into (worker, funds, operating,
// co-op surge); it equals GrossCents for every split Compute returns.
func (s Split) Sum() int64 {
	t := s.WorkerCents + s.OperatingCents + s.CoopSurgeCents
	for _, f := range s.Funds {
		t += f.AmountCents
	}
	return t
}

// Negated is the split of the refund of a payment: every part with the opposite sign.
func (s Split) Negated() Split {
	out := Split{GrossCents: -s.GrossCents, SurgeCents: -s.SurgeCents, PlatformFeeCents: -s.PlatformFeeCents,
		OperatingCents: -s.OperatingCents, WorkerSurgeCents: -s.WorkerSurgeCents, CoopSurgeCents: -s.CoopSurgeCents,
		WorkerCents: -s.WorkerCents}
	for _, f := range s.Funds {
		out.Funds = append(out.Funds, FundShare{Name: f.Name, AmountCents: -f.AmountCents})
	}
	return out
}
