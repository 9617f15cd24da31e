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

// Package allocation splits a hub's bill among co-ops. Allocate is a pure function of its
// input: exact rational arithmetic, then the largest-remainder method to whole cents, so the
// amounts add up to the bill exactly and do not depend on the order of the co-ops.
//
// The steps, in order:
//  1. The compute pool is split in proportion to cpuCore*coreSeconds + memoryGiB*GiBSeconds,
//     the storage pool in proportion to storage GiB-seconds. A pool that nobody used is
//     split evenly.
//  2. The shared pool is split evenly, or in proportion to each co-op's compute and storage
//     amounts (evenly when those are all zero).
//  3. Discounts: each co-op with a discount pays discountPercent less; the co-ops without a
//     discount carry the difference in proportion to their amounts (evenly when those are
//     all zero). When every co-op has a discount there is nobody to carry it and the
//     discounts do not apply.
//  4. Floor: every co-op pays at least minimumAmount; the co-ops above it pay for the
//     raise in proportion to their amounts. When the bill is smaller than the floors
//     together, it is split evenly.
//  5. Rounding: each amount is rounded down to the cent and the cents left over go one
//     each to the largest remainders, ties to the co-op whose name sorts first.
package allocation

import (
	"fmt"
	"math/big"
	"sort"
)

// Pool names, as the API has them.
const (
	PoolCompute = "compute"
	PoolStorage = "storage"
	PoolShared  = "shared"
)

// Shared-pool rules, as the API has them.
const (
	SharedProportional = "proportional"
	SharedEven         = "even"
)

// BillLine is one line of the bill, in cents.
type BillLine struct {
	Pool  string
	Cents int64
}

// Usage is one co-op's metered usage in the period.
type Usage struct {
	Cooperative         string
	CPUMillicoreSeconds *big.Int
	MemoryByteSeconds   *big.Int
	StorageByteSeconds  *big.Int
}

// Policy says how the bill is split. Nil weights mean 1 per core-second and 0.125 per
// GiB-second of memory.
type Policy struct {
	CPUCoreWeight   *big.Rat
	MemoryGiBWeight *big.Rat
	Shared          string
	MinimumCents    int64
	// DiscountPercent by co-op name, 0 to 100.
	DiscountPercent map[string]int64
}

// Input is everything Allocate reads.
type Input struct {
	Bill   []BillLine
	Policy Policy
	Usage  []Usage
}

// Share is one co-op's amount, and how it came about.
type Share struct {
	Cooperative string
	Cents       int64
	// Parts break Cents down by the steps above; they add up to Cents.
	Parts Parts
}

// Parts is how a co-op's amount came about, in cents that add up to it exactly: its part
// of the compute pool, of the storage pool and of the shared pool (steps 1 and 2), what
// the discounts changed (step 3: negative for a co-op with a discount, positive for those
// that carry it), what the floor changed (step 4), and the rounding to whole cents (step
// 5). Each is the difference of the running amount, rounded half up to the cent, before
// and after its step, so the parts are what the allocation computed, not a second
// computation.
type Parts struct {
	ComputeCents  int64
	StorageCents  int64
	SharedCents   int64
	DiscountCents int64
	FloorCents    int64
	RoundingCents int64
}

// Total adds up the bill.
func Total(bill []BillLine) int64 {
	var t int64
	for _, l := range bill {
		t += l.Cents
	}
	return t
}

var (
	thousand = big.NewRat(1000, 1)
	gib      = big.NewRat(1<<30, 1)
)

// Allocate splits the bill among the co-ops of in.Usage. The shares come back sorted by
// co-op name and add up to Total(in.Bill) exactly. With no co-ops it returns no shares.
func Allocate(in Input) ([]Share, error) {
	var pools = map[string]int64{}
	for i, l := range in.Bill {
		if l.Cents < 0 || l.Cents > maxCents {
			return nil, fmt.Errorf("bill line %d: amount %d cents is out of range", i, l.Cents)
		}
		switch l.Pool {
		case PoolCompute, PoolStorage, PoolShared:
		default:
			return nil, fmt.Errorf("bill line %d: unknown pool %q", i, l.Pool)
		}
		pools[l.Pool] += l.Cents
	}
	total := pools[PoolCompute] + pools[PoolStorage] + pools[PoolShared]
	if in.Policy.MinimumCents < 0 {
		return nil, fmt.Errorf("minimum amount %d cents is negative", in.Policy.MinimumCents)
	}
	switch in.Policy.Shared {
	case "", SharedProportional, SharedEven:
	default:
		return nil, fmt.Errorf("unknown shared split %q", in.Policy.Shared)
	}

	usage := make([]Usage, len(in.Usage))
	copy(usage, in.Usage)
	sort.Slice(usage, func(i, j int) bool { return usage[i].Cooperative < usage[j].Cooperative })
	n := len(usage)
	if n == 0 {
		return nil, nil
	}
	for i := 1; i < n; i++ {
		if usage[i].Cooperative == usage[i-1].Cooperative {
			return nil, fmt.Errorf("co-op %q appears twice", usage[i].Cooperative)
		}
	}

	cpuW, memW := in.Policy.CPUCoreWeight, in.Policy.MemoryGiBWeight
	if cpuW == nil {
		cpuW = big.NewRat(1, 1)
	}
	if memW == nil {
		memW = big.NewRat(1, 8)
	}
	computeW := make([]*big.Rat, n)
	storageW := make([]*big.Rat, n)
	for i, u := range usage {
		c := ratOf(u.CPUMillicoreSeconds)
		c.Quo(c, thousand).Mul(c, cpuW)
		m := ratOf(u.MemoryByteSeconds)
		m.Quo(m, gib).Mul(m, memW)
		computeW[i] = c.Add(c, m)
		storageW[i] = ratOf(u.StorageByteSeconds)
		if computeW[i].Sign() < 0 || storageW[i].Sign() < 0 {
			return nil, fmt.Errorf("co-op %q: negative usage", u.Cooperative)
		}
	}
	amount := split(big.NewRat(pools[PoolCompute], 1), computeW)
	// running[i] are co-op i's amounts rounded to the cent after each step.
	running := make([][]int64, n)
	snapshot := func() {
		for i := range amount {
			running[i] = append(running[i], roundCents(amount[i]))
		}
	}
	snapshot()
	storage := split(big.NewRat(pools[PoolStorage], 1), storageW)
	for i := range amount {
		amount[i].Add(amount[i], storage[i])
	}
	snapshot()
	var shared []*big.Rat
	if in.Policy.Shared == SharedEven {
		shared = split(big.NewRat(pools[PoolShared], 1), make([]*big.Rat, n))
	} else {
		shared = split(big.NewRat(pools[PoolShared], 1), amount)
	}
	for i := range amount {
		amount[i].Add(amount[i], shared[i])
	}
	snapshot()

	if err := applyDiscounts(usage, amount, in.Policy.DiscountPercent); err != nil {
		return nil, err
	}
	snapshot()
	applyFloor(usage, amount, total, in.Policy.MinimumCents)
	snapshot()
	shares, err := largestRemainder(usage, amount, total)
	if err != nil {
		return nil, err
	}
	for i := range shares {
		r := running[i]
		shares[i].Parts = Parts{
			ComputeCents:  r[0],
			StorageCents:  r[1] - r[0],
			SharedCents:   r[2] - r[1],
			DiscountCents: r[3] - r[2],
			FloorCents:    r[4] - r[3],
			RoundingCents: shares[i].Cents - r[4],
		}
	}
	return shares, nil
}

// roundCents rounds a non-negative amount of cents half up to a whole cent.
func roundCents(r *big.Rat) int64 {
	twice := new(big.Int).Mul(r.Num(), big.NewInt(2))
	twice.Add(twice, r.Denom())
	return twice.Quo(twice, new(big.Int).Mul(r.Denom(), big.NewInt(2))).Int64()
}

func ratOf(v *big.Int) *big.Rat {
	if v == nil {
		return new(big.Rat)
	}
	return new(big.Rat).SetInt(v)
}

// split divides pool in proportion to weights (nil weights count as zero), evenly when
// they are all zero. The parts add up to pool exactly.
func split(pool *big.Rat, weights []*big.Rat) []*big.Rat {
	sum := new(big.Rat)
	for _, w := range weights {
		if w != nil {
			sum.Add(sum, w)
		}
	}
	out := make([]*big.Rat, len(weights))
	if sum.Sign() == 0 {
		even := new(big.Rat).Quo(pool, big.NewRat(int64(len(weights)), 1))
		for i := range out {
			out[i] = new(big.Rat).Set(even)
		}
		return out
	}
	factor := new(big.Rat).Quo(pool, sum)
	for i, w := range weights {
		if w == nil {
			out[i] = new(big.Rat)
			continue
		}
		out[i] = new(big.Rat).Mul(w, factor)
	}
	return out
}

func applyDiscounts(usage []Usage, amount []*big.Rat, percent map[string]int64) error {
	if len(percent) == 0 {
		return nil
	}
	discount := new(big.Rat)
	var carriers []int
	var carried []*big.Rat
	for i, u := range usage {
		p := percent[u.Cooperative]
		if p < 0 || p > 100 {
			return fmt.Errorf("co-op %q: discount %d%% is not between 0 and 100", u.Cooperative, p)
		}
		if p == 0 {
			carriers = append(carriers, i)
			carried = append(carried, amount[i])
			continue
		}
		discount.Add(discount, new(big.Rat).Mul(amount[i], big.NewRat(p, 100)))
	}
	if len(carriers) == 0 || discount.Sign() == 0 {
		return nil
	}
	for i, u := range usage {
		if p := percent[u.Cooperative]; p != 0 {
			amount[i].Mul(amount[i], big.NewRat(100-p, 100))
		}
	}
	extra := split(discount, carried)
	for k, i := range carriers {
		amount[i].Add(amount[i], extra[k])
	}
	return nil
}

// applyFloor raises every amount below minimum to it, the others paying in proportion to
// their amounts, or splits total evenly when it does not cover every floor. amounts add up
// to total before and after.
func applyFloor(usage []Usage, amount []*big.Rat, total, minimum int64) {
	n := len(amount)
	if minimum == 0 {
		return
	}
	if total < minimum*int64(n) {
		even := big.NewRat(total, int64(n))
		for i := range amount {
			amount[i].Set(even)
		}
		return
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool {
		if c := amount[order[a]].Cmp(amount[order[b]]); c != 0 {
			return c < 0
		}
		return usage[order[a]].Cooperative < usage[order[b]].Cooperative
	})
	suffix := make([]*big.Rat, n+1)
	suffix[n] = new(big.Rat)
	for k := n - 1; k >= 0; k-- {
		suffix[k] = new(big.Rat).Add(suffix[k+1], amount[order[k]])
	}
	m := big.NewRat(minimum, 1)
	for k := 0; k < n; k++ {
		remaining := big.NewRat(total-int64(k)*minimum, 1)
		rest := suffix[k]
		var factor *big.Rat
		if rest.Sign() != 0 {
			factor = new(big.Rat).Quo(remaining, rest)
			if new(big.Rat).Mul(amount[order[k]], factor).Cmp(m) < 0 {
				continue
			}
		}
		for j, i := range order {
			switch {
			case j < k:
				amount[i].Set(m)
			case factor == nil:
				amount[i].Quo(remaining, big.NewRat(int64(n-k), 1))
			default:
				amount[i].Mul(amount[i], factor)
			}
		}
		return
	}
}

func largestRemainder(usage []Usage, amount []*big.Rat, total int64) ([]Share, error) {
	n := len(amount)
	shares := make([]Share, n)
	frac := make([]*big.Rat, n)
	var sum int64
	for i, a := range amount {
		if a.Sign() < 0 {
			return nil, fmt.Errorf("co-op %q: amount went negative", usage[i].Cooperative)
		}
		q := new(big.Int).Quo(a.Num(), a.Denom())
		shares[i] = Share{Cooperative: usage[i].Cooperative, Cents: q.Int64()}
		frac[i] = new(big.Rat).Sub(a, new(big.Rat).SetInt(q))
		sum += shares[i].Cents
	}
	left := total - sum
	if left < 0 || left > int64(n) {
		return nil, fmt.Errorf("rounding left %d cents for %d co-ops", left, n)
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	// usage is sorted by name, so a stable sort breaks ties by name.
	sort.SliceStable(order, func(a, b int) bool { return frac[order[a]].Cmp(frac[order[b]]) > 0 })
	for _, i := range order[:left] {
		shares[i].Cents++
	}
	return shares, nil
}

// Percents writes each share's part of total as a percentage with two decimals. When the
// shares add up to a non-zero total, as Allocate's do, the percentages add up to exactly
// 100.00: each is rounded down to a hundredth of a percent, and the hundredths left over
// go one each to the largest remainders, ties to the co-op whose name sorts first, as
// the cents do. With a zero total they are all 0.00.
func Percents(shares []Share, total int64) []string {
	out := make([]string, len(shares))
	hundredths := make([]int64, len(shares))
	if total > 0 {
		const whole = 100 * 100 // 100.00 %, in hundredths of a percent
		rem := make([]*big.Int, len(shares))
		var sum int64
		for i, s := range shares {
			q, r := new(big.Int).QuoRem(new(big.Int).Mul(big.NewInt(s.Cents), big.NewInt(whole)), big.NewInt(total), new(big.Int))
			hundredths[i], rem[i] = q.Int64(), r
			sum += hundredths[i]
		}
		order := make([]int, len(shares))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool {
			if c := rem[order[a]].Cmp(rem[order[b]]); c != 0 {
				return c > 0
			}
			return shares[order[a]].Cooperative < shares[order[b]].Cooperative
		})
		for _, i := range order[:min(max(whole-sum, 0), int64(len(order)))] {
			hundredths[i]++
		}
	}
	for i, h := range hundredths {
		out[i] = fmt.Sprintf("%d.%02d", h/100, h%100)
	}
	return out
}
