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

import (
	"fmt"
	"math/big"
	"math/rand"
	"reflect"
	"slices"
	"testing"
)

const (
	coreHour = 1000 * 3600         // millicore-seconds in a core-hour
	gibHour  = int64(1<<30) * 3600 // byte-seconds in a GiB-hour
)

func use(name string, coreHours, memGiBHours, storageGiBHours int64) Usage {
	return Usage{
		Cooperative:         name,
		CPUMillicoreSeconds: big.NewInt(coreHours * coreHour),
		MemoryByteSeconds:   new(big.Int).Mul(big.NewInt(memGiBHours), big.NewInt(gibHour)),
		StorageByteSeconds:  new(big.Int).Mul(big.NewInt(storageGiBHours), big.NewInt(gibHour)),
	}
}

func TestAllocate(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		want map[string]int64
	}{
		{
			name: "compute pool by CPU with the default weights",
			in: Input{
				Bill:  []BillLine{{PoolCompute, 10000}},
				Usage: []Usage{use("a", 3, 0, 0), use("b", 1, 0, 0)},
			},
			want: map[string]int64{"a": 7500, "b": 2500},
		},
		{
			name: "memory weighs one eighth of a core by default",
			in: Input{
				Bill:  []BillLine{{PoolCompute, 900}},
				Usage: []Usage{use("a", 1, 0, 0), use("b", 0, 16, 0)},
			},
			want: map[string]int64{"a": 300, "b": 600},
		},
		{
			name: "custom compute weights",
			in: Input{
				Bill:   []BillLine{{PoolCompute, 1000}},
				Policy: Policy{CPUCoreWeight: big.NewRat(0, 1), MemoryGiBWeight: big.NewRat(1, 1)},
				Usage:  []Usage{use("a", 100, 1, 0), use("b", 0, 4, 0)},
			},
			want: map[string]int64{"a": 200, "b": 800},
		},
		{
			name: "storage pool by storage only",
			in: Input{
				Bill:  []BillLine{{PoolStorage, 5000}},
				Usage: []Usage{use("a", 100, 0, 1), use("b", 0, 0, 4)},
			},
			want: map[string]int64{"a": 1000, "b": 4000},
		},
		{
			name: "shared proportional to compute and storage amounts",
			in: Input{
				Bill:  []BillLine{{PoolCompute, 3000}, {PoolShared, 300}},
				Usage: []Usage{use("a", 2, 0, 0), use("b", 1, 0, 0)},
			},
			want: map[string]int64{"a": 2200, "b": 1100},
		},
		{
			name: "shared even",
			in: Input{
				Bill:   []BillLine{{PoolCompute, 3000}, {PoolShared, 300}},
				Policy: Policy{Shared: SharedEven},
				Usage:  []Usage{use("a", 2, 0, 0), use("b", 1, 0, 0)},
			},
			want: map[string]int64{"a": 2150, "b": 1150},
		},
		{
			name: "zero usage splits evenly, leftover cents to the first names",
			in: Input{
				Bill:  []BillLine{{PoolCompute, 100}, {PoolStorage, 1}, {PoolShared, 1}},
				Usage: []Usage{use("c", 0, 0, 0), use("a", 0, 0, 0), use("b", 0, 0, 0)},
			},
			want: map[string]int64{"a": 34, "b": 34, "c": 34},
		},
		{
			name: "largest remainder breaks ties by name",
			in: Input{
				Bill:  []BillLine{{PoolCompute, 100}},
				Usage: []Usage{use("z", 1, 0, 0), use("y", 1, 0, 0), use("x", 1, 0, 0)},
			},
			want: map[string]int64{"x": 34, "y": 33, "z": 33},
		},
		{
			name: "a discount the others carry in proportion",
			in: Input{
				Bill:   []BillLine{{PoolCompute, 4000}},
				Policy: Policy{DiscountPercent: map[string]int64{"care": 50}},
				Usage:  []Usage{use("care", 2, 0, 0), use("b", 1, 0, 0), use("c", 1, 0, 0)},
			},
			// ideal 2000/1000/1000; care pays 1000, b and c carry 500 each.
			want: map[string]int64{"care": 1000, "b": 1500, "c": 1500},
		},
		{
			name: "discounts do not apply when every co-op has one",
			in: Input{
				Bill:   []BillLine{{PoolCompute, 4000}},
				Policy: Policy{DiscountPercent: map[string]int64{"a": 50, "b": 10}},
				Usage:  []Usage{use("a", 1, 0, 0), use("b", 1, 0, 0)},
			},
			want: map[string]int64{"a": 2000, "b": 2000},
		},
		{
			name: "a floor raises the small co-op, the others pay for it in proportion",
			in: Input{
				Bill:   []BillLine{{PoolCompute, 10000}},
				Policy: Policy{MinimumCents: 1000},
				Usage:  []Usage{use("small", 0, 0, 0), use("b", 1, 0, 0), use("c", 3, 0, 0)},
			},
			want: map[string]int64{"small": 1000, "b": 2250, "c": 6750},
		},
		{
			name: "a floor the bill cannot cover splits it evenly",
			in: Input{
				Bill:   []BillLine{{PoolCompute, 1000}},
				Policy: Policy{MinimumCents: 500},
				Usage:  []Usage{use("a", 9, 0, 0), use("b", 1, 0, 0), use("c", 0, 0, 0)},
			},
			want: map[string]int64{"a": 334, "b": 333, "c": 333},
		},
		{
			name: "a floor applies after the discount",
			in: Input{
				Bill: []BillLine{{PoolCompute, 10000}},
				Policy: Policy{
					MinimumCents:    2000,
					DiscountPercent: map[string]int64{"care": 100},
				},
				Usage: []Usage{use("care", 1, 0, 0), use("b", 1, 0, 0)},
			},
			want: map[string]int64{"care": 2000, "b": 8000},
		},
		{
			name: "an empty bill is zero for everyone",
			in:   Input{Usage: []Usage{use("a", 1, 0, 0)}},
			want: map[string]int64{"a": 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shares, err := Allocate(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int64{}
			for _, s := range shares {
				got[s.Cooperative] = s.Cents
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Allocate() = %v, want %v", got, tt.want)
			}
			if !slices.IsSortedFunc(shares, func(a, b Share) int {
				if a.Cooperative < b.Cooperative {
					return -1
				}
				return 1
			}) {
				t.Errorf("shares are not sorted by name: %v", shares)
			}
		})
	}
}

func TestAllocateRefuses(t *testing.T) {
	tests := []struct {
		name string
		in   Input
	}{
		{"unknown pool", Input{Bill: []BillLine{{"network", 1}}, Usage: []Usage{use("a", 1, 0, 0)}}},
		{"negative line", Input{Bill: []BillLine{{PoolCompute, -1}}, Usage: []Usage{use("a", 1, 0, 0)}}},
		{"duplicate co-op", Input{Usage: []Usage{use("a", 1, 0, 0), use("a", 1, 0, 0)}}},
		{"discount over 100", Input{Policy: Policy{DiscountPercent: map[string]int64{"a": 101}}, Usage: []Usage{use("a", 1, 0, 0), use("b", 1, 0, 0)}}},
		{"unknown shared rule", Input{Policy: Policy{Shared: "random"}, Usage: []Usage{use("a", 1, 0, 0)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Allocate(tt.in); err == nil {
				t.Error("Allocate() succeeded, want an error")
			}
		})
	}
}

func TestMoney(t *testing.T) {
	for _, tt := range []struct {
		in    string
		cents int64
		out   string
	}{{"0", 0, "0.00"}, {"412.5", 41250, "412.50"}, {"412.50", 41250, "412.50"}, {"0.07", 7, "0.07"}, {"12", 1200, "12.00"}} {
		c, err := ParseCents(tt.in)
		if err != nil || c != tt.cents {
			t.Errorf("ParseCents(%q) = %d, %v; want %d", tt.in, c, err, tt.cents)
		}
		if got := FormatCents(c); got != tt.out {
			t.Errorf("FormatCents(%d) = %q, want %q", c, got, tt.out)
		}
	}
	for _, bad := range []string{"", "-1", "1.234", "1,50", "€5", "1e3", "99999999999999999999"} {
		if _, err := ParseCents(bad); err == nil {
			t.Errorf("ParseCents(%q) succeeded, want an error", bad)
		}
	}
	if got := CoreHours(big.NewInt(coreHour*3/2 + 18000)); got != "1.51" { // 1.505 rounds up
		t.Errorf("CoreHours = %s", got)
	}
}

func TestPercents(t *testing.T) {
	tests := []struct {
		name   string
		shares []Share
		want   []string
	}{
		{
			name:   "thirds: rounded alone they add up to 99.99",
			shares: []Share{{Cooperative: "a", Cents: 100}, {Cooperative: "b", Cents: 100}, {Cooperative: "c", Cents: 100}},
			want:   []string{"33.34", "33.33", "33.33"},
		},
		{
			name:   "rounded alone they add up to 100.01 (16.67, 16.67, 66.67)",
			shares: []Share{{Cooperative: "a", Cents: 100}, {Cooperative: "b", Cents: 100}, {Cooperative: "c", Cents: 400}},
			want:   []string{"16.67", "16.67", "66.66"},
		},
		{
			name:   "the largest remainder gets the hundredth",
			shares: []Share{{Cooperative: "a", Cents: 1}, {Cooperative: "b", Cents: 2}}, // 33.333 and 66.667
			want:   []string{"33.33", "66.67"},
		},
		{
			name:   "ties go by name, not by position",
			shares: []Share{{Cooperative: "c", Cents: 100}, {Cooperative: "b", Cents: 100}, {Cooperative: "a", Cents: 100}},
			want:   []string{"33.33", "33.33", "33.34"},
		},
		{
			name:   "exact",
			shares: []Share{{Cooperative: "a", Cents: 7500}, {Cooperative: "b", Cents: 2500}, {Cooperative: "c", Cents: 0}},
			want:   []string{"75.00", "25.00", "0.00"},
		},
		{
			name:   "one co-op",
			shares: []Share{{Cooperative: "a", Cents: 61290}},
			want:   []string{"100.00"},
		},
		{
			name:   "a zero total",
			shares: []Share{{Cooperative: "a", Cents: 0}, {Cooperative: "b", Cents: 0}},
			want:   []string{"0.00", "0.00"},
		},
		{
			name:   "amounts beyond int64 once multiplied by 10000",
			shares: []Share{{Cooperative: "a", Cents: maxCents}, {Cooperative: "b", Cents: maxCents}, {Cooperative: "c", Cents: maxCents}},
			want:   []string{"33.34", "33.33", "33.33"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var total int64
			for _, s := range tt.shares {
				total += s.Cents
			}
			if got := Percents(tt.shares, total); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Percents() = %v, want %v", got, tt.want)
			}
		})
	}
}

// hundredths reads a percentage written by Percents.
func hundredths(t *testing.T, p string) int64 {
	t.Helper()
	c, err := ParseCents(p)
	if err != nil {
		t.Fatalf("percentage %q: %v", p, err)
	}
	return c
}

// FuzzAllocate checks the invariants of Allocate on any input: the same cents and parts
// as the rational oracle, no negative amount, the
// amounts add up to the bill and their percentages to 100.00, floors hold where the bill
// allows them, the order of the co-ops changes nothing, and zero usage everywhere still
// splits the bill evenly.
func FuzzAllocate(f *testing.F) {
	f.Add([]byte{3, 10, 0, 0, 5, 0, 1, 2, 3}, int64(41250), int64(5000), int64(1240), int64(500), uint8(50), false, uint16(125))
	f.Add([]byte{1}, int64(1), int64(0), int64(0), int64(0), uint8(0), true, uint16(0))
	f.Add([]byte{7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, int64(100), int64(3), int64(7), int64(20), uint8(100), false, uint16(1000))
	f.Add([]byte{20, 255, 1, 254, 2, 253, 3}, int64(99999999), int64(1), int64(1), int64(1000000), uint8(33), true, uint16(7))
	f.Fuzz(func(t *testing.T, data []byte, compute, storage, shared, minimum int64, discount uint8, even bool, memWeight uint16) {
		if len(data) == 0 {
			return
		}
		clamp := func(v int64) int64 {
			if v < 0 {
				v = -v
			}
			if v < 0 {
				v = 0
			}
			return v % (1 << 40)
		}
		n := int(data[0])%25 + 1
		in := Input{
			Bill: []BillLine{{PoolCompute, clamp(compute)}, {PoolStorage, clamp(storage)}, {PoolShared, clamp(shared)}},
			Policy: Policy{
				MinimumCents:    clamp(minimum) % 100000,
				MemoryGiBWeight: big.NewRat(int64(memWeight), 1000),
				DiscountPercent: map[string]int64{},
			},
		}
		if even {
			in.Policy.Shared = SharedEven
		}
		byte := func(i int) int64 {
			if i < len(data) {
				return int64(data[i])
			}
			return 0
		}
		allZero := true
		for i := range n {
			u := Usage{
				Cooperative:         fmt.Sprintf("coop-%02d", (n-1-i+int(data[0]))%n),
				CPUMillicoreSeconds: big.NewInt(byte(1+3*i) * 1_000_003),
				MemoryByteSeconds:   big.NewInt(byte(2+3*i) << 33),
				StorageByteSeconds:  big.NewInt(byte(3+3*i) << 35),
			}
			if u.CPUMillicoreSeconds.Sign()+u.MemoryByteSeconds.Sign()+u.StorageByteSeconds.Sign() != 0 {
				allZero = false
			}
			in.Usage = append(in.Usage, u)
			if discount > 0 && i%3 == 1 {
				in.Policy.DiscountPercent[u.Cooperative] = int64(discount % 101)
			}
		}
		shares, err := Allocate(in)
		if err != nil {
			t.Fatalf("Allocate: %v", err)
		}
		if want, err := ratAllocate(in); err != nil || !reflect.DeepEqual(shares, want) {
			t.Fatalf("Allocate() = %+v, the rational oracle %+v (%v)", shares, want, err)
		}
		total := Total(in.Bill)
		var sum int64
		for _, s := range shares {
			if s.Cents < 0 {
				t.Fatalf("%s pays %d cents", s.Cooperative, s.Cents)
			}
			if m := in.Policy.MinimumCents; m > 0 && total >= m*int64(n) && s.Cents < m {
				t.Fatalf("%s pays %d cents, below the floor of %d", s.Cooperative, s.Cents, m)
			}
			sum += s.Cents
		}
		if sum != total {
			t.Fatalf("the amounts add up to %d, the bill to %d", sum, total)
		}
		// Each amount's parts add up to it, and the adjustments move money between co-ops
		// without creating any: they add up to zero, give or take a rounded cent each.
		var discounts, floors int64
		for _, s := range shares {
			p := s.Parts
			if p.ComputeCents+p.StorageCents+p.SharedCents+p.DiscountCents+p.FloorCents+p.RoundingCents != s.Cents {
				t.Fatalf("%s: parts %+v do not add up to %d", s.Cooperative, p, s.Cents)
			}
			if p.RoundingCents < -1 || p.RoundingCents > 1 {
				t.Fatalf("%s: rounding of %d cents", s.Cooperative, p.RoundingCents)
			}
			discounts += p.DiscountCents
			floors += p.FloorCents
		}
		if discounts < -int64(n) || discounts > int64(n) || floors < -int64(n) || floors > int64(n) {
			t.Fatalf("discounts add up to %d cents, floors to %d, for %d co-ops", discounts, floors, n)
		}
		// The percentages add up to 100.00 and each is its exact value rounded down or up.
		percents := Percents(shares, total)
		var hsum int64
		for i, p := range percents {
			h := hundredths(t, p)
			hsum += h
			exact := new(big.Rat).SetFrac(big.NewInt(shares[i].Cents*100), big.NewInt(max(total, 1)))
			exact.Mul(exact, big.NewRat(100, 1))
			if diff := new(big.Rat).Sub(big.NewRat(h, 1), exact); diff.Cmp(big.NewRat(-1, 1)) <= 0 || diff.Cmp(big.NewRat(1, 1)) >= 0 {
				t.Fatalf("%s: %s %% for %d of %d cents", shares[i].Cooperative, p, shares[i].Cents, total)
			}
		}
		if want := map[bool]int64{true: 10000, false: 0}[total > 0]; hsum != want {
			t.Fatalf("the percentages %v add up to %d hundredths", percents, hsum)
		}
		reversed := Input{Bill: in.Bill, Policy: in.Policy, Usage: slices.Clone(in.Usage)}
		slices.Reverse(reversed.Usage)
		again, err := Allocate(reversed)
		if err != nil || !reflect.DeepEqual(again, shares) {
			t.Fatalf("permuting the co-ops changed the amounts: %v then %v (%v)", shares, again, err)
		}
		if allZero && len(in.Policy.DiscountPercent) == 0 {
			lo, hi := shares[0].Cents, shares[0].Cents
			for _, s := range shares {
				lo, hi = min(lo, s.Cents), max(hi, s.Cents)
			}
			if hi-lo > 1 {
				t.Fatalf("zero usage split unevenly: %v", shares)
			}
		}
	})
}

// TestParts follows one amount through the steps: pools, shared, discount, floor.
func TestParts(t *testing.T) {
	in := Input{
		Bill:   []BillLine{{PoolCompute, 100_00}, {PoolStorage, 40_00}, {PoolShared, 20_00}},
		Policy: Policy{Shared: SharedEven, MinimumCents: 30_00, DiscountPercent: map[string]int64{"a": 50}},
		Usage: []Usage{
			{Cooperative: "a", CPUMillicoreSeconds: big.NewInt(3000), MemoryByteSeconds: big.NewInt(0), StorageByteSeconds: big.NewInt(1)},
			{Cooperative: "b", CPUMillicoreSeconds: big.NewInt(1000), MemoryByteSeconds: big.NewInt(0), StorageByteSeconds: big.NewInt(3)},
		},
	}
	shares, err := Allocate(in)
	if err != nil {
		t.Fatal(err)
	}
	// a: compute 75.00, storage 10.00, shared 10.00 = 95.00, half off: 47.50 (b carries
	// it: 65.00 + 47.50 = 112.50); both above the floor of 30.00.
	want := []Share{
		{Cooperative: "a", Cents: 47_50, Parts: Parts{ComputeCents: 75_00, StorageCents: 10_00, SharedCents: 10_00, DiscountCents: -47_50}},
		{Cooperative: "b", Cents: 112_50, Parts: Parts{ComputeCents: 25_00, StorageCents: 30_00, SharedCents: 10_00, DiscountCents: 47_50}},
	}
	if !reflect.DeepEqual(shares, want) {
		t.Errorf("Allocate() = %+v, want %+v", shares, want)
	}
	in.Policy.MinimumCents = 60_00
	shares, err = Allocate(in)
	if err != nil {
		t.Fatal(err)
	}
	if shares[0].Cents != 60_00 || shares[0].Parts.FloorCents != 12_50 || shares[1].Parts.FloorCents != -12_50 {
		t.Errorf("with a floor of 60.00: %+v", shares)
	}
}

// TestAllocateAgreesWithOracle compares Allocate with the rational oracle, cent for cent,
// part for part and error for error, on random inputs wider than the fuzz test's: usage
// of any size up to a hub of 2^20 cores for a year, weights with six decimals, several
// discounts, floors, pools left empty, and the error paths.
func TestAllocateAgreesWithOracle(t *testing.T) {
	rng := rand.New(rand.NewSource(13_2026))
	bigUsage := func(maxBits int) *big.Int {
		switch rng.Intn(5) {
		case 0:
			return nil
		case 1:
			return new(big.Int)
		}
		return new(big.Int).Rand(rng, new(big.Int).Lsh(big.NewInt(1), uint(rng.Intn(maxBits)+1)))
	}
	weight := func() *big.Rat {
		if rng.Intn(4) == 0 {
			return nil
		}
		return big.NewRat(rng.Int63n(10_000_000), 1_000_000)
	}
	cents := func() int64 {
		switch rng.Intn(4) {
		case 0:
			return 0
		case 1:
			return rng.Int63n(100)
		case 2:
			return rng.Int63n(maxCents)
		}
		return rng.Int63n(10_000_000)
	}
	const inputs = 1500
	errs := 0
	for iter := range inputs {
		n := rng.Intn(40) + 1
		if iter%500 == 0 {
			n = 2000
		}
		in := Input{
			Bill: []BillLine{{PoolCompute, cents()}, {PoolStorage, cents()}, {PoolShared, cents()}, {PoolCompute, cents()}},
			Policy: Policy{
				CPUCoreWeight:   weight(),
				MemoryGiBWeight: weight(),
				MinimumCents:    []int64{0, 1, 500, rng.Int63n(1_000_000)}[rng.Intn(4)],
				Shared:          []string{"", SharedEven, SharedProportional}[rng.Intn(3)],
			},
		}
		if rng.Intn(2) == 0 {
			in.Policy.DiscountPercent = map[string]int64{}
		}
		names := rng.Perm(n * 4)
		if rng.Intn(50) == 0 {
			names[1] = names[0] // a duplicate
		}
		for i := range n {
			name := fmt.Sprintf("c%04d", names[i])
			in.Usage = append(in.Usage, Usage{
				Cooperative: name,
				// 2^20 cores for a year is about 2^65 millicore-seconds; memory and storage
				// of 2^50 bytes for a year about 2^75 byte-seconds.
				CPUMillicoreSeconds: bigUsage(66),
				MemoryByteSeconds:   bigUsage(76),
				StorageByteSeconds:  bigUsage(76),
			})
			if in.Policy.DiscountPercent != nil && rng.Intn(5) == 0 {
				in.Policy.DiscountPercent[name] = []int64{0, 1, 50, 100, rng.Int63n(101)}[rng.Intn(5)]
			}
		}
		switch rng.Intn(60) {
		case 0:
			in.Policy.DiscountPercent = map[string]int64{in.Usage[0].Cooperative: 101}
		case 1:
			in.Policy.CPUCoreWeight = big.NewRat(-1, 3)
		case 2:
			in.Usage[0].StorageByteSeconds = big.NewInt(-1)
		}
		got, gotErr := Allocate(in)
		want, wantErr := ratAllocate(in)
		if gotErr != nil {
			errs++
		}
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
			t.Fatalf("input %d (%d co-ops): Allocate() = %+v, %v; the oracle %+v, %v", iter, n, got, gotErr, want, wantErr)
		}
	}
	if errs == 0 || errs > inputs/10 {
		t.Errorf("%d of %d inputs were refused; the test should mostly compare amounts", errs, inputs)
	}
	t.Logf("%d of %d inputs were refused", errs, inputs)
}

func BenchmarkAllocate10000(b *testing.B) {
	benchmarkAllocate(b, Allocate)
}

// BenchmarkAllocate10000Oracle times the rational oracle on the same input, for a figure
// taken in the same conditions as Allocate's.
func BenchmarkAllocate10000Oracle(b *testing.B) {
	benchmarkAllocate(b, ratAllocate)
}

func benchmarkAllocate(b *testing.B, allocate func(Input) ([]Share, error)) {
	in := Input{
		Bill: []BillLine{{PoolCompute, 41250_00}, {PoolStorage, 5040_00}, {PoolShared, 15000_00}},
		Policy: Policy{
			MemoryGiBWeight: big.NewRat(1, 8),
			MinimumCents:    500,
			DiscountPercent: map[string]int64{"coop-00042": 50, "coop-01234": 25},
		},
	}
	for i := range 10000 {
		in.Usage = append(in.Usage, use(fmt.Sprintf("coop-%05d", i), int64(i%97+1), int64(i%13), int64(i%29)))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := allocate(in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(10000, "coops/op")
}
