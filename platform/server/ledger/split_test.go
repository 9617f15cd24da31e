package ledger

import (
	"github.com/cooperator-dev/cooperator/api/policy"

	"reflect"
	"testing"
)

var fairride = policy.FeeSplit{PlatformFeeBasisPoints: 300, Funds: []policy.Fund{{Name: "hardship", BasisPoints: 100}, {Name: "reserve", BasisPoints: 50}}, SurgeToWorkersPercent: 100}

func TestCompute(t *testing.T) {
	tests := []struct {
		name         string
		rule         policy.FeeSplit
		gross, surge int64
		want         Split
	}{
		{"round numbers", fairride, 10000, 0, Split{GrossCents: 10000, PlatformFeeCents: 300,
			Funds: []FundShare{{"hardship", 100}, {"reserve", 50}}, OperatingCents: 150, WorkerCents: 9700}},
		// 1999*300/10000 = 59.97 -> fee 59 (odd cents to worker); hardship 19.99 -> 19,
		// reserve 9.995 -> 9; operating gets 59-28 = 31.
		{"odd cents", fairride, 1999, 0, Split{GrossCents: 1999, PlatformFeeCents: 59,
			Funds: []FundShare{{"hardship", 19}, {"reserve", 9}}, OperatingCents: 31, WorkerCents: 1940}},
		{"one cent", fairride, 1, 0, Split{GrossCents: 1, Funds: []FundShare{{"hardship", 0}, {"reserve", 0}}, WorkerCents: 1}},
		{"surge all to worker", fairride, 1500, 500, Split{GrossCents: 1500, SurgeCents: 500, PlatformFeeCents: 30,
			Funds: []FundShare{{"hardship", 10}, {"reserve", 5}}, OperatingCents: 15, WorkerSurgeCents: 500, WorkerCents: 1470}},
		// 33% of 101 to workers: co-op gets floor(101*67/100)=67, worker 34 (odd cent to worker).
		{"surge split odd", policy.FeeSplit{PlatformFeeBasisPoints: 0, SurgeToWorkersPercent: 33}, 101, 101, Split{GrossCents: 101, SurgeCents: 101,
			Funds: []FundShare{}, WorkerSurgeCents: 34, CoopSurgeCents: 67, WorkerCents: 34}},
		{"fee 100%", policy.FeeSplit{PlatformFeeBasisPoints: 10000, Funds: []policy.Fund{{Name: "all", BasisPoints: 10000}}}, 777, 0, Split{GrossCents: 777, PlatformFeeCents: 777,
			Funds: []FundShare{{"all", 777}}}},
		{"no fee", policy.FeeSplit{SurgeToWorkersPercent: 50}, 999, 0, Split{GrossCents: 999, Funds: []FundShare{}, WorkerCents: 999}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Compute(tt.rule, tt.gross, tt.surge)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
			if got.Sum() != tt.gross {
				t.Fatalf("sum %d != gross %d", got.Sum(), tt.gross)
			}
		})
	}
}

func TestComputeRejects(t *testing.T) {
	for _, c := range []struct {
		rule         policy.FeeSplit
		gross, surge int64
	}{
		{fairride, 0, 0}, {fairride, -5, 0}, {fairride, 100, 101}, {fairride, 100, -1}, {fairride, MaxAmountCents + 1, 0},
		{policy.FeeSplit{PlatformFeeBasisPoints: 100, Funds: []policy.Fund{{Name: "x", BasisPoints: 101}}}, 100, 0},
		{policy.FeeSplit{PlatformFeeBasisPoints: 10001}, 100, 0},
		{policy.FeeSplit{SurgeToWorkersPercent: 101}, 100, 0},
	} {
		if _, err := Compute(c.rule, c.gross, c.surge); err == nil {
			t.Errorf("Compute(%+v, %d, %d) accepted", c.rule, c.gross, c.surge)
		}
	}
}

func FuzzSplit(f *testing.F) {
	f.Add(int64(10000), int64(0), int64(300), int64(100), int64(50), int64(100))
	f.Add(int64(1999), int64(7), int64(300), int64(100), int64(50), int64(33))
	f.Add(int64(1), int64(1), int64(10000), int64(5000), int64(5000), int64(0))
	f.Add(MaxAmountCents, MaxAmountCents/3, int64(9999), int64(3333), int64(3333), int64(99))
	f.Add(int64(101), int64(100), int64(1), int64(0), int64(1), int64(1))
	f.Fuzz(func(t *testing.T, gross, surge, fee, fund1, fund2, pct int64) {
		rule := policy.FeeSplit{PlatformFeeBasisPoints: fee, Funds: []policy.Fund{{Name: "a", BasisPoints: fund1}, {Name: "b", BasisPoints: fund2}}, SurgeToWorkersPercent: pct}
		s, err := Compute(rule, gross, surge)
		if err != nil {
			return // out-of-range input is refused, which is fine
		}
		if s.Sum() != gross {
			t.Fatalf("split %+v sums to %d, gross %d", s, s.Sum(), gross)
		}
		parts := []int64{s.WorkerCents, s.OperatingCents, s.CoopSurgeCents, s.WorkerSurgeCents, s.PlatformFeeCents}
		for _, fs := range s.Funds {
			parts = append(parts, fs.AmountCents)
		}
		for _, p := range parts {
			if p < 0 {
				t.Fatalf("negative part in %+v", s)
			}
		}
		if s.WorkerSurgeCents+s.CoopSurgeCents != surge {
			t.Fatalf("surge parts %+v do not add to %d", s, surge)
		}
	})
}
