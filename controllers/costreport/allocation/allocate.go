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
// input: exact arithmetic on fractions, then the largest-remainder method to whole cents,
// so the amounts add up to the bill exactly and do not depend on the order of the co-ops.
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
	"cmp"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"
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

// Allocate splits the bill among the co-ops of in.Usage. The shares come back sorted by
// co-op name and add up to Total(in.Bill) exactly. With no co-ops it returns no shares.
//
// Every amount is an exact fraction over one denominator that all co-ops share, times a
// factor that all co-ops of a class share (see amounts). Each step of the package comment
// is a linear map of the amounts, so it changes the shared denominator and the few class
// factors, and touches a co-op's own numerator only where it must: no per-co-op
// rational, no GCD, no normalisation. The integers are math/big's because their size has
// no useful bound: usage in byte-seconds times a weight with six decimals times a bill in
// cents already exceeds 128 bits, and the discounts multiply the sizes again.
//
// The Parts come from the same fractions: after each step, each co-op's amount is its
// numerator times its class factor over the denominator of that step, rounded half up to
// the cent (see amounts.round), and each part is the difference of two such amounts.
func Allocate(in Input) ([]Share, error) {
	pools, total, usage, err := checkedInput(in)
	if err != nil || len(usage) == 0 {
		return nil, err
	}
	n := len(usage)

	a := newAmounts(n)
	if err := a.splitPools(usage, in.Policy, pools); err != nil {
		return nil, err
	}
	changed, err := a.applyDiscounts(usage, in.Policy.DiscountPercent)
	if err != nil {
		return nil, err
	}
	a.snapshot(stepDiscounts, changed)
	a.applyFloor(total, in.Policy.MinimumCents)
	shares, err := a.largestRemainder(usage, total)
	if err != nil {
		return nil, err
	}
	for i := range shares {
		r := &a.running[i]
		shares[i].Parts = Parts{
			ComputeCents:  r[stepCompute],
			StorageCents:  r[stepStorage] - r[stepCompute],
			SharedCents:   r[stepShared] - r[stepStorage],
			DiscountCents: r[stepDiscounts] - r[stepShared],
			FloorCents:    r[stepFloor] - r[stepDiscounts],
			RoundingCents: shares[i].Cents - r[stepFloor],
		}
	}
	return shares, nil
}

// checkedInput is in's pools and total bill (see poolsOf) and its usage sorted by co-op
// name, each co-op once.
func checkedInput(in Input) (map[string]int64, int64, []Usage, error) {
	pools, total, err := poolsOf(in)
	if err != nil {
		return nil, 0, nil, err
	}
	usage := slices.Clone(in.Usage)
	slices.SortFunc(usage, func(a, b Usage) int { return strings.Compare(a.Cooperative, b.Cooperative) })
	for i := 1; i < len(usage); i++ {
		if usage[i].Cooperative == usage[i-1].Cooperative {
			return nil, 0, nil, fmt.Errorf("co-op %q appears twice", usage[i].Cooperative)
		}
	}
	return pools, total, usage, nil
}

// The steps after which the running amounts are kept, as indices of amounts.running.
const (
	stepCompute = iota
	stepStorage
	stepShared
	stepDiscounts
	stepFloor
	steps
)

// amounts are the co-ops' amounts in cents, in the order of the sorted usage: co-op i
// pays num[i]*factor[class[i]]/den. A nil class puts every co-op in class 0. The
// denominator and the factors are positive.
type amounts struct {
	num    []big.Int
	class  []uint8
	factor []*big.Int
	den    big.Int
	// running[i][s] is co-op i's amount after step s, rounded half up to the cent.
	running [][steps]int64
	// t, u and v are scratch values: math/big allocates when a result aliases an operand.
	t, u, v big.Int
}

// slabWords is the room reserved for each numerator: enough for the sizes of common
// bills, so that no step allocates per co-op; a larger numerator allocates its own.
const slabWords = 8

func newAmounts(n int) *amounts {
	a := &amounts{num: make([]big.Int, n), factor: []*big.Int{big.NewInt(1)}, running: make([][steps]int64, n)}
	slab := make([]big.Word, n*slabWords)
	for i := range a.num {
		a.num[i].SetBits(slab[i*slabWords : i*slabWords : (i+1)*slabWords])
	}
	return a
}

// materialize multiplies each numerator by its class factor and leaves one class of
// factor 1.
func (a *amounts) materialize() {
	if a.class == nil && a.factor[0].Cmp(one) == 0 {
		return
	}
	for i := range a.num {
		a.t.Mul(&a.num[i], a.factorOf(i))
		a.num[i].Set(&a.t)
	}
	a.class, a.factor = nil, []*big.Int{big.NewInt(1)}
}

// round is co-op i's amount num[i]*factor[class[i]]/den rounded half up to the cent, as
// the rational allocator rounded it: the quotient, plus one when twice the remainder
// reaches the denominator. The amounts are never negative. It uses the scratch values.
func (a *amounts) round(i int) int64 {
	return a.roundQuo(a.scaled(i))
}

// factorOf is the factor of co-op i's class.
func (a *amounts) factorOf(i int) *big.Int {
	if a.class != nil {
		return a.factor[a.class[i]]
	}
	return a.factor[0]
}

// scaled is co-op i's numerator times its class factor: num[i] itself when the factor is
// 1, else the product in the scratch value v.
func (a *amounts) scaled(i int) *big.Int {
	f := a.factorOf(i)
	if f.Cmp(one) == 0 {
		return &a.num[i]
	}
	a.v.Mul(&a.num[i], f)
	return &a.v
}

// roundQuo is x/den rounded half up to an integer, for x >= 0. It uses t and u, so x may
// be v or a numerator.
func (a *amounts) roundQuo(x *big.Int) int64 {
	a.t.QuoRem(x, &a.den, &a.u)
	q := a.t.Int64()
	if a.u.Lsh(&a.u, 1).Cmp(&a.den) >= 0 {
		q++
	}
	return q
}

// snapshot keeps the running amounts after step s: rounded from the fractions when the
// step changed them, the previous step's otherwise.
func (a *amounts) snapshot(s int, changed bool) {
	for i := range a.running {
		r := &a.running[i]
		if changed {
			r[s] = a.round(i)
		} else {
			r[s] = r[s-1]
		}
	}
}

var (
	zero = new(big.Int)
	one  = big.NewInt(1)
)

func orZero(v *big.Int) *big.Int {
	if v == nil {
		return zero
	}
	return v
}

// splitPools is steps 1 and 2. The compute weight of co-op i,
// cpu/1000*(cn/cd) + mem/2^30*(mn/md), is w[i]/(1000*2^30*cd*md) with the integer
// w[i] = cpu*cpuF + mem*memF, cpuF = cn*md*2^30 and memF = mn*cd*1000. The denominator
// is the same for every co-op and positive, so w[i] alone decides the proportions, and
// the sum of the w[i] is sum(cpu)*cpuF + sum(mem)*memF.
func (a *amounts) splitPools(usage []Usage, p Policy, pools map[string]int64) error {
	n := len(usage)
	cpuW, memW := p.CPUCoreWeight, p.MemoryGiBWeight
	if cpuW == nil {
		cpuW = big.NewRat(1, 1)
	}
	if memW == nil {
		memW = big.NewRat(1, 8)
	}
	cpuF := new(big.Int).Mul(cpuW.Num(), memW.Denom())
	cpuF.Lsh(cpuF, 30)
	memF := new(big.Int).Mul(memW.Num(), cpuW.Denom())
	memF.Mul(memF, big.NewInt(1000))
	negativeWeight := cpuF.Sign() < 0 || memF.Sign() < 0

	var cpuSum, memSum, storageSum big.Int
	for _, u := range usage {
		c, m, s := orZero(u.CPUMillicoreSeconds), orZero(u.MemoryByteSeconds), orZero(u.StorageByteSeconds)
		if negativeWeight || c.Sign() < 0 || m.Sign() < 0 || s.Sign() < 0 {
			a.t.Mul(c, cpuF)
			a.u.Mul(m, memF)
			if a.t.Add(&a.t, &a.u).Sign() < 0 || s.Sign() < 0 {
				return fmt.Errorf("co-op %q: negative usage", u.Cooperative)
			}
		}
		cpuSum.Add(&cpuSum, c)
		memSum.Add(&memSum, m)
		storageSum.Add(&storageSum, s)
	}
	var computeSum big.Int
	computeSum.Mul(&cpuSum, cpuF)
	computeSum.Add(&computeSum, a.t.Mul(&memSum, memF))

	// A pool that nobody used is split evenly: weight 1 each, n in all.
	count := big.NewInt(int64(n))
	computeEven, storageEven := computeSum.Sign() == 0, storageSum.Sign() == 0
	if computeEven {
		computeSum.Set(count)
	}
	if storageEven {
		storageSum.Set(count)
	}
	// Pc*w[i]/computeSum + Ps*s[i]/storageSum, over den = computeSum*storageSum. The
	// running amount after step 1's compute pool is the first term alone.
	a.den.Mul(&computeSum, &storageSum)
	pc := new(big.Int).Mul(big.NewInt(pools[PoolCompute]), &storageSum)
	ps := new(big.Int).Mul(big.NewInt(pools[PoolStorage]), &computeSum)
	pcCPU := new(big.Int).Mul(pc, cpuF)
	pcMem := new(big.Int).Mul(pc, memF)
	for i, u := range usage {
		x := &a.num[i]
		if computeEven {
			x.Set(pc)
		} else {
			x.Mul(orZero(u.CPUMillicoreSeconds), pcCPU)
			x.Add(x, a.t.Mul(orZero(u.MemoryByteSeconds), pcMem))
		}
		a.running[i][stepCompute] = a.roundQuo(x)
		if storageEven {
			x.Add(x, ps)
		} else {
			x.Add(x, a.t.Mul(orZero(u.StorageByteSeconds), ps))
		}
		a.running[i][stepStorage] = a.roundQuo(x)
	}

	// Step 2. The amounts so far add up to Pc+Ps exactly, so the proportional split of
	// the shared pool multiplies each by (Pc+Ps+Psh)/(Pc+Ps).
	shared := pools[PoolShared]
	if shared == 0 {
		a.snapshot(stepShared, false)
		return nil
	}
	base := pools[PoolCompute] + pools[PoolStorage]
	if p.Shared == SharedEven || base == 0 {
		// num[i]/den + shared/n = (num[i]*n + shared*den) / (den*n)
		add := new(big.Int).Mul(big.NewInt(shared), &a.den)
		for i := range a.num {
			a.t.Mul(&a.num[i], count)
			a.num[i].Add(&a.t, add)
		}
		a.den.Mul(&a.den, count)
		a.snapshot(stepShared, true)
		return nil
	}
	a.factor[0].SetInt64(base + shared)
	a.den.Mul(&a.den, big.NewInt(base))
	a.snapshot(stepShared, true)
	return nil
}

// applyDiscounts is step 3. Over the co-ops' numerators, let d = sum(num[i]*p[i]) over
// the discounted co-ops and c = sum(num[i]) over the carriers, f the common factor so far:
// the discount is f*d/(100*den). A discounted co-op's amount becomes
// num[i]*f*(100-p)/(100*den) and a carrier's num[i]*f/den*(1 + d/(100*c)); over the
// denominator 100*den*c these are num[i] times the class factors f*(100-p)*c and
// f*(100*c+d). When the carriers' amounts are all zero, each of the k carriers gets
// f*d/(100*den*k). It reports whether it changed the amounts.
func (a *amounts) applyDiscounts(usage []Usage, percent map[string]int64) (bool, error) {
	if len(percent) == 0 {
		return false, nil
	}
	// Class 0 for the carriers, one class per discount percentage.
	class := make([]uint8, len(usage))
	classOf := map[int64]uint8{}
	pcts := []int64{0}
	sums := []big.Int{{}}
	carriers := 0
	for i, u := range usage {
		p := percent[u.Cooperative]
		if p < 0 || p > 100 {
			return false, fmt.Errorf("co-op %q: discount %d%% is not between 0 and 100", u.Cooperative, p)
		}
		if p == 0 {
			carriers++
			sums[0].Add(&sums[0], &a.num[i])
			continue
		}
		k, ok := classOf[p]
		if !ok {
			k = uint8(len(pcts))
			classOf[p] = k
			pcts = append(pcts, p)
			sums = append(sums, big.Int{})
		}
		class[i] = k
		sums[k].Add(&sums[k], &a.num[i])
	}
	var d big.Int
	for k := 1; k < len(pcts); k++ {
		d.Add(&d, a.t.Mul(&sums[k], big.NewInt(pcts[k])))
	}
	if carriers == 0 || d.Sign() == 0 {
		return false, nil
	}
	f := a.factor[0]
	c := &sums[0]
	factor := make([]*big.Int, len(pcts))
	hundred := big.NewInt(100)
	if c.Sign() == 0 {
		k := big.NewInt(int64(carriers))
		for i := range a.num {
			if class[i] == 0 {
				a.num[i].SetInt64(1)
			}
		}
		factor[0] = new(big.Int).Mul(f, &d)
		for j := 1; j < len(pcts); j++ {
			factor[j] = new(big.Int).Mul(f, big.NewInt(100-pcts[j]))
			factor[j].Mul(factor[j], k)
		}
		a.den.Mul(&a.den, hundred)
		a.den.Mul(&a.den, k)
	} else {
		factor[0] = new(big.Int).Mul(c, hundred)
		factor[0].Add(factor[0], &d)
		factor[0].Mul(factor[0], f)
		for j := 1; j < len(pcts); j++ {
			factor[j] = new(big.Int).Mul(f, big.NewInt(100-pcts[j]))
			factor[j].Mul(factor[j], c)
		}
		a.den.Mul(&a.den, hundred)
		a.den.Mul(&a.den, c)
	}
	a.class, a.factor = class, factor
	return true, nil
}

// applyFloor is step 4: it raises every amount below minimum to it, the others paying in
// proportion to their amounts, or splits total evenly when it does not cover every
// floor. The amounts add up to total before and after.
//
// In increasing order of amount (ties by name), the first k co-ops get the floor once
// the k-th, scaled with the rest to the remaining total-k*minimum, reaches the floor.
// With P[i] = num[i]*factor[class[i]] and rest the sum of P from the k-th on, that is
// P*remaining >= minimum*rest, and the others then pay P*remaining/rest: the
// denominator and any factor common to all co-ops cancel out.
func (a *amounts) applyFloor(total, minimum int64) {
	n := len(a.num)
	if minimum == 0 {
		return
	}
	if total < minimum*int64(n) {
		for i := range a.num {
			a.num[i].SetInt64(total)
		}
		a.class, a.factor = nil, []*big.Int{big.NewInt(1)}
		a.den.SetInt64(int64(n))
		return
	}
	if a.class != nil {
		a.materialize()
	}
	a.class, a.factor = nil, []*big.Int{big.NewInt(1)} // a common factor cancels out
	order := a.sorted(false)
	var rest big.Int
	for i := range a.num {
		rest.Add(&rest, &a.num[i])
	}
	m := big.NewInt(minimum)
	remaining := new(big.Int)
	for k := range n {
		remaining.SetInt64(total - int64(k)*minimum)
		if rest.Sign() == 0 {
			// The rest have nothing: they split the remaining evenly, over n-k.
			left := big.NewInt(int64(n - k))
			floor := new(big.Int).Mul(m, left)
			for j, i := range order {
				if j < k {
					a.num[i].Set(floor)
				} else {
					a.num[i].Set(remaining)
				}
			}
			a.den.Set(left)
			return
		}
		a.t.Mul(&a.num[order[k]], remaining)
		a.u.Mul(m, &rest)
		if a.t.Cmp(&a.u) < 0 {
			rest.Sub(&rest, &a.num[order[k]])
			continue
		}
		// Over den = rest: the floor is minimum*rest; the others num*remaining, which
		// class 1 leaves to the last step.
		a.class = make([]uint8, n)
		a.factor = []*big.Int{big.NewInt(1), remaining}
		for j, i := range order {
			if j < k {
				a.num[i].Set(&a.u)
			} else {
				a.class[i] = 1
			}
		}
		a.den.Set(&rest)
		return
	}
}

// sorted returns the co-ops' indices in increasing order of their non-negative
// numerators (decreasing when descending), ties in increasing order of index, which is the
// order of the names. It sorts on each numerator's bit length and leading 64 bits and
// compares whole numerators only where those are equal.
func (a *amounts) sorted(descending bool) []int {
	type key struct {
		bits int
		lead uint64
		i    int
	}
	keys := make([]key, len(a.num))
	for i := range a.num {
		x := &a.num[i]
		b := x.BitLen()
		k := key{bits: b, i: i}
		if b <= 64 {
			k.lead = x.Uint64()
		} else {
			// The 64 bits below the leading one: the two top words, shifted.
			w := x.Bits()
			top := len(w) - 1
			shift := uint(b-1) % wordBits // bits of w[top] below its leading one
			hi := uint64(w[top])
			if shift < 63 {
				lo := uint64(w[top-1])
				hi = hi<<(63-shift) | lo>>(shift+1)
			}
			k.lead = hi
		}
		keys[i] = k
	}
	slices.SortFunc(keys, func(x, y key) int {
		c := cmp.Compare(x.bits, y.bits)
		if c == 0 {
			c = cmp.Compare(x.lead, y.lead)
		}
		if c == 0 {
			c = a.num[x.i].Cmp(&a.num[y.i])
		}
		if descending {
			c = -c
		}
		if c == 0 {
			c = x.i - y.i
		}
		return c
	})
	order := make([]int, len(keys))
	for j, k := range keys {
		order[j] = k.i
	}
	return order
}

// wordBits is the size of a big.Word.
const wordBits = 32 << (^uint(0) >> 63)

// largestRemainder is step 5. It also keeps the running amounts after step 4, which it
// divides anyway.
func (a *amounts) largestRemainder(usage []Usage, total int64) ([]Share, error) {
	n := len(a.num)
	shares := make([]Share, n)
	var sum int64
	for i := range a.num {
		x := a.scaled(i)
		if x.Sign() < 0 {
			return nil, fmt.Errorf("co-op %q: amount went negative", usage[i].Cooperative)
		}
		a.t.QuoRem(x, &a.den, &a.u)
		shares[i] = Share{Cooperative: usage[i].Cooperative, Cents: a.t.Int64()}
		a.num[i].Set(&a.u) // the remainder, over den
		sum += shares[i].Cents
		// The running amount after the floor, rounded half up as round does.
		a.running[i][stepFloor] = shares[i].Cents
		if a.u.Lsh(&a.u, 1).Cmp(&a.den) >= 0 {
			a.running[i][stepFloor]++
		}
	}
	left := total - sum
	if left < 0 || left > int64(n) {
		return nil, fmt.Errorf("rounding left %d cents for %d co-ops", left, n)
	}
	if left == 0 {
		return shares, nil
	}
	order := a.sorted(true)
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

// poolsOf checks the bill and the policy of in and sums the bill by pool; total is the
// sum of all pools. The oracle test shares it: it checks the arithmetic, not the input.
func poolsOf(in Input) (pools map[string]int64, total int64, err error) {
	pools = map[string]int64{}
	for i, l := range in.Bill {
		if l.Cents < 0 || l.Cents > maxCents {
			return nil, 0, fmt.Errorf("bill line %d: amount %d cents is out of range", i, l.Cents)
		}
		switch l.Pool {
		case PoolCompute, PoolStorage, PoolShared:
		default:
			return nil, 0, fmt.Errorf("bill line %d: unknown pool %q", i, l.Pool)
		}
		pools[l.Pool] += l.Cents
	}
	if in.Policy.MinimumCents < 0 {
		return nil, 0, fmt.Errorf("minimum amount %d cents is negative", in.Policy.MinimumCents)
	}
	switch in.Policy.Shared {
	case "", SharedProportional, SharedEven:
	default:
		return nil, 0, fmt.Errorf("unknown shared split %q", in.Policy.Shared)
	}
	return pools, pools[PoolCompute] + pools[PoolStorage] + pools[PoolShared], nil
}
