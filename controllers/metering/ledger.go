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

package metering

import (
	"fmt"
	"math/big"
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/costreport/allocation"
)

// PeriodOf names the billing period that holds t: its calendar month in UTC, "2026-11".
func PeriodOf(t time.Time) string { return t.UTC().Format("2006-01") }

// PeriodBounds returns the start (included) and end (excluded) of the period that holds t.
func PeriodBounds(t time.Time) (time.Time, time.Time) {
	t = t.UTC()
	start := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 1, 0)
}

// ParsePeriod returns the bounds of a period named like "2026-11".
func ParsePeriod(name string) (time.Time, time.Time, error) {
	t, err := time.Parse("2006-01", name)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("period %q is not YYYY-MM: %w", name, err)
	}
	start, end := PeriodBounds(t)
	return start, end, nil
}

// Rates is what a co-op holds at one instant.
type Rates struct {
	MilliCPU     int64
	MemoryBytes  int64
	StorageBytes int64
	// DatabaseBytes is the part of StorageBytes that is the shared-tier database.
	DatabaseBytes int64
}

// Allocation writes the rates for the API.
func (r Rates) Allocation() coopv1.Allocation {
	return coopv1.Allocation{
		CPU:      *resource.NewMilliQuantity(r.MilliCPU, resource.DecimalSI),
		Memory:   *resource.NewQuantity(r.MemoryBytes, resource.BinarySI),
		Storage:  *resource.NewQuantity(r.StorageBytes, resource.BinarySI),
		Database: *resource.NewQuantity(r.DatabaseBytes, resource.BinarySI),
	}
}

// Totals are exact integrals over time of one co-op in one period.
type Totals struct {
	CPUMillicoreSeconds big.Int
	MemoryByteSeconds   big.Int
	StorageByteSeconds  big.Int
	MeteredSeconds      int64
	EstimatedSeconds    int64
	Estimated           []coopv1.TimeInterval
}

// zero says whether the totals hold no usage at all.
func (t *Totals) zero() bool {
	return t.CPUMillicoreSeconds.Sign() == 0 && t.MemoryByteSeconds.Sign() == 0 && t.StorageByteSeconds.Sign() == 0
}

func addProduct(total *big.Int, rate, seconds int64) {
	var p big.Int
	p.Mul(big.NewInt(rate), big.NewInt(seconds))
	total.Add(total, &p)
}

// Ledger is the metered usage of one co-op: totals per period and the time of the last
// sample they include. Every interval (LastSample, t] is added exactly once.
type Ledger struct {
	LastSample time.Time
	Periods    map[string]*Totals
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger { return &Ledger{Periods: map[string]*Totals{}} }

// Advance charges the interval (LastSample, to] at rates, split at period boundaries, and
// moves LastSample to to. An estimated interval is also recorded as such. It returns the
// seconds charged, zero when to is not after LastSample or the ledger has no sample yet
// (then to becomes the first sample).
func (l *Ledger) Advance(to time.Time, rates Rates, estimated bool) int64 {
	to = to.UTC().Truncate(time.Second)
	if l.LastSample.IsZero() {
		l.LastSample = to
		l.totals(PeriodOf(to))
		return 0
	}
	if !to.After(l.LastSample) {
		return 0
	}
	var charged int64
	from := l.LastSample
	for from.Before(to) {
		_, end := PeriodBounds(from)
		until := minTime(end, to)
		seconds := int64(until.Sub(from) / time.Second)
		t := l.totals(PeriodOf(from))
		addProduct(&t.CPUMillicoreSeconds, rates.MilliCPU, seconds)
		addProduct(&t.MemoryByteSeconds, rates.MemoryBytes, seconds)
		addProduct(&t.StorageByteSeconds, rates.StorageBytes, seconds)
		t.MeteredSeconds += seconds
		if estimated {
			t.EstimatedSeconds += seconds
			t.Estimated = append(t.Estimated, coopv1.TimeInterval{
				Start: metav1.NewTime(from), End: metav1.NewTime(until),
			})
			if over := len(t.Estimated) - coopv1.MaxEstimatedIntervals; over > 0 {
				t.Estimated = t.Estimated[over:]
			}
		}
		charged += seconds
		from = until
	}
	l.LastSample = to
	l.totals(PeriodOf(to)) // the current period shows, even before it has a second
	l.trim()
	return charged
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// the period covering t, created empty if missing.
func (l *Ledger) totals(period string) *Totals {
	t, ok := l.Periods[period]
	if !ok {
		t = &Totals{}
		l.Periods[period] = t
	}
	return t
}

// periodNames lists the periods newest first.
func (l *Ledger) periodNames() []string {
	names := make([]string, 0, len(l.Periods))
	for p := range l.Periods {
		names = append(names, p)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	return names
}

// trim keeps the newest MaxUsagePeriods periods.
func (l *Ledger) trim() {
	names := l.periodNames()
	for _, p := range names[min(len(names), coopv1.MaxUsagePeriods):] {
		delete(l.Periods, p)
	}
}

// UsageStatus writes the ledger for Cooperative.status.usage, newest period first.
func (l *Ledger) UsageStatus(rates Rates) *coopv1.UsageStatus {
	s := &coopv1.UsageStatus{
		LastSampleTime: metav1.NewTime(l.LastSample),
		Allocation:     rates.Allocation(),
		CurrentPeriod:  PeriodOf(l.LastSample),
	}
	for _, p := range l.periodNames() {
		s.Periods = append(s.Periods, l.Periods[p].PeriodUsage(p))
	}
	return s
}

// PeriodUsage writes the totals for the API.
func (t *Totals) PeriodUsage(period string) coopv1.PeriodUsage {
	return coopv1.PeriodUsage{
		Period:              period,
		CPUMillicoreSeconds: t.CPUMillicoreSeconds.String(),
		MemoryByteSeconds:   t.MemoryByteSeconds.String(),
		StorageByteSeconds:  t.StorageByteSeconds.String(),
		CPUCoreHours:        allocation.CoreHours(&t.CPUMillicoreSeconds),
		MemoryGiBHours:      allocation.GiBHours(&t.MemoryByteSeconds),
		StorageGiBHours:     allocation.GiBHours(&t.StorageByteSeconds),
		MeteredSeconds:      t.MeteredSeconds,
		EstimatedSeconds:    t.EstimatedSeconds,
		EstimatedIntervals:  append([]coopv1.TimeInterval(nil), t.Estimated...),
	}
}

// CooperativeUsage writes the totals for a CostReport's status.usage.
func (t *Totals) CooperativeUsage(coop string, lastSample time.Time) coopv1.CooperativeUsage {
	last := metav1.NewTime(lastSample)
	return coopv1.CooperativeUsage{
		Cooperative:         coop,
		CPUMillicoreSeconds: t.CPUMillicoreSeconds.String(),
		MemoryByteSeconds:   t.MemoryByteSeconds.String(),
		StorageByteSeconds:  t.StorageByteSeconds.String(),
		EstimatedSeconds:    t.EstimatedSeconds,
		LastSampleTime:      &last,
	}
}

// LedgerFromStatus reads a ledger back from Cooperative.status.usage.
func LedgerFromStatus(s *coopv1.UsageStatus) (*Ledger, error) {
	l := NewLedger()
	if s == nil {
		return l, nil
	}
	l.LastSample = s.LastSampleTime.UTC().Truncate(time.Second)
	for _, p := range s.Periods {
		t := &Totals{
			MeteredSeconds:   p.MeteredSeconds,
			EstimatedSeconds: p.EstimatedSeconds,
			Estimated:        append([]coopv1.TimeInterval(nil), p.EstimatedIntervals...),
		}
		if err := t.setIntegrals(p.CPUMillicoreSeconds, p.MemoryByteSeconds, p.StorageByteSeconds); err != nil {
			return nil, fmt.Errorf("reading period %s: %w", p.Period, err)
		}
		l.Periods[p.Period] = t
	}
	return l, nil
}

// totalsFromReport reads back the totals a CostReport's usage line holds. A line carries
// no metered seconds: those stay zero.
func totalsFromReport(line *coopv1.CooperativeUsage) (*Totals, error) {
	t := &Totals{EstimatedSeconds: line.EstimatedSeconds}
	if err := t.setIntegrals(line.CPUMillicoreSeconds, line.MemoryByteSeconds, line.StorageByteSeconds); err != nil {
		return nil, fmt.Errorf("reading the line of co-op %s: %w", line.Cooperative, err)
	}
	return t, nil
}

// setIntegrals sets the three integrals from their decimal strings.
func (t *Totals) setIntegrals(cpu, memory, storage string) error {
	for _, f := range []struct {
		dst *big.Int
		src string
	}{{&t.CPUMillicoreSeconds, cpu}, {&t.MemoryByteSeconds, memory}, {&t.StorageByteSeconds, storage}} {
		v, err := allocation.ParseInteger(f.src)
		if err != nil {
			return err
		}
		f.dst.Set(v)
	}
	return nil
}
