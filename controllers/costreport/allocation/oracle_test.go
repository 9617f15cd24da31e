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

package allocation

// The allocator as it was first written, with math/big rationals at every step: slow, and
// obviously exact. It stays here, in the tests only, as the oracle that Allocate must agree
// with to the cent, Parts included (FuzzAllocate, TestAllocateAgreesWithOracle). The Parts
// are computed as the rational allocator computed them: the running amount of each co-op,
// rounded half up to the cent, after each step, and their differences.

import (
	"fmt"
	"math/big"
	"sort"
)

var (
	ratThousand = big.NewRat(1000, 1)
	ratGiB      = big.NewRat(1<<30, 1)
)

// ratAllocate splits the bill among the co-ops of in.Usage. The shares come back sorted by
// co-op name and add up to Total(in.Bill) exactly. With no co-ops it returns no shares.
func ratAllocate(in Input) ([]Share, error) {
	pools, total, usage, err := checkedInput(in)
	if err != nil || len(usage) == 0 {
		return nil, err
	}
	n := len(usage)

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
		c := oracleRatOf(u.CPUMillicoreSeconds)
		c.Quo(c, ratThousand).Mul(c, cpuW)
		m := oracleRatOf(u.MemoryByteSeconds)
		m.Quo(m, ratGiB).Mul(m, memW)
		computeW[i] = c.Add(c, m)
		storageW[i] = oracleRatOf(u.StorageByteSeconds)
		if computeW[i].Sign() < 0 || storageW[i].Sign() < 0 {
			return nil, fmt.Errorf("co-op %q: negative usage", u.Cooperative)
		}
	}
	amount := ratSplit(big.NewRat(pools[PoolCompute], 1), computeW)
	// running[i] are co-op i's amounts rounded to the cent after each step.
	running := make([][]int64, n)
	snapshot := func() {
		for i := range amount {
			running[i] = append(running[i], ratRoundCents(amount[i]))
		}
	}
	snapshot()
	storage := ratSplit(big.NewRat(pools[PoolStorage], 1), storageW)
	for i := range amount {
		amount[i].Add(amount[i], storage[i])
	}
	snapshot()
	var shared []*big.Rat
	if in.Policy.Shared == SharedEven {
		shared = ratSplit(big.NewRat(pools[PoolShared], 1), make([]*big.Rat, n))
	} else {
		shared = ratSplit(big.NewRat(pools[PoolShared], 1), amount)
	}
	for i := range amount {
		amount[i].Add(amount[i], shared[i])
	}
	snapshot()

	if err := ratApplyDiscounts(usage, amount, in.Policy.DiscountPercent); err != nil {
		return nil, err
	}
	snapshot()
	ratApplyFloor(usage, amount, total, in.Policy.MinimumCents)
	snapshot()
	shares, err := ratLargestRemainder(usage, amount, total)
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

// ratRoundCents rounds a non-negative amount of cents half up to a whole cent.
func ratRoundCents(r *big.Rat) int64 {
	twice := new(big.Int).Mul(r.Num(), big.NewInt(2))
	twice.Add(twice, r.Denom())
	return twice.Quo(twice, new(big.Int).Mul(r.Denom(), big.NewInt(2))).Int64()
}

func oracleRatOf(v *big.Int) *big.Rat {
	if v == nil {
		return new(big.Rat)
	}
	return new(big.Rat).SetInt(v)
}

// split divides pool in proportion to weights (nil weights count as zero), evenly when
// they are all zero. The parts add up to pool exactly.
func ratSplit(pool *big.Rat, weights []*big.Rat) []*big.Rat {
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

func ratApplyDiscounts(usage []Usage, amount []*big.Rat, percent map[string]int64) error {
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
	extra := ratSplit(discount, carried)
	for k, i := range carriers {
		amount[i].Add(amount[i], extra[k])
	}
	return nil
}

// applyFloor raises every amount below minimum to it, the others paying in proportion to
// their amounts, or splits total evenly when it does not cover every floor. amounts add up
// to total before and after.
func ratApplyFloor(usage []Usage, amount []*big.Rat, total, minimum int64) {
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

func ratLargestRemainder(usage []Usage, amount []*big.Rat, total int64) ([]Share, error) {
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
