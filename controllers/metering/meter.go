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

// Package metering samples what every co-op holds (pods' CPU and memory, bound volumes,
// the shared-tier database) at a fixed interval, integrates it exactly over time per
// billing period, and persists the totals in Cooperative.status.usage and in the period's
// CostReport at a bounded write rate.
//
// The meter is a manager.Runnable rather than a reconciler: sampling is driven by time,
// not by object events, and it must take one consistent sample of every co-op at the same
// instant. It runs only on the leader, so two replicas never count the same interval.
package metering

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	ctrlcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/ssa"
)

// FieldOwner is the field manager of everything the metering writes: status.usage of
// Cooperatives and status.usage of CostReports (status.meteredThrough has its own,
// MarkFieldOwner).
const FieldOwner = "cooperator-metering"

// MarkFieldOwner is the field manager of a CostReport's status.meteredThrough: a field
// manager of its own, so that marking a report applies nothing of its usage.
const MarkFieldOwner = "cooperator-metering-mark"

// Defaults of the options.
const (
	DefaultInterval        = 60 * time.Second
	DefaultPersistInterval = 5 * time.Minute
)

// Options configure the meter.
type Options struct {
	// Interval between two samples. Default 60s.
	Interval time.Duration
	// PersistInterval is the longest time a co-op's totals stay unwritten. They are also
	// written at period boundaries. Default 5m.
	PersistInterval time.Duration
	// Clock tells the time; the real clock when nil.
	Clock clock.Clock
	// Usage reads pod usage; when nil, Setup uses metrics.k8s.io when the API server
	// serves it and requests alone otherwise.
	Usage UsageSource
	// Database reads shared-tier database sizes; when nil, they are not counted.
	Database DatabaseSizer
	// Objects serves the cached Pods and PersistentVolumeClaims of a namespace in place;
	// when nil, the meter lists them through Client, which copies every object. Setup
	// sets it to the indexers of the manager's cache.
	Objects *CachedObjects
}

// Store lists cached objects as client-go's stores do: the cached objects themselves,
// shared, to be read and never modified.
type Store interface {
	List() []any
}

// CachedObjects are the stores of the cached Pods and PersistentVolumeClaims.
type CachedObjects struct {
	Pods, PVCs Store
}

// cachedObjects returns the indexers of the manager cache's informers for Pods and
// PersistentVolumeClaims, or nil when the cache does not expose them.
func cachedObjects(ctx context.Context, c ctrlcache.Cache) (*CachedObjects, error) {
	type indexed interface{ GetIndexer() toolscache.Indexer }
	var out CachedObjects
	for _, x := range []struct {
		obj client.Object
		dst *Store
	}{{&corev1.Pod{}, &out.Pods}, {&corev1.PersistentVolumeClaim{}, &out.PVCs}} {
		inf, err := c.GetInformer(ctx, x.obj)
		if err != nil {
			return nil, fmt.Errorf("getting the informer for %T: %w", x.obj, err)
		}
		i, ok := inf.(indexed)
		if !ok {
			return nil, nil
		}
		*x.dst = i.GetIndexer()
	}
	return &out, nil
}

func (o *Options) defaults() {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.PersistInterval <= 0 {
		o.PersistInterval = DefaultPersistInterval
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
}

// Meter is the metering loop.
type Meter struct {
	// Client reads Cooperatives, Pods, PVCs and CostReports (from the cache) and writes
	// status.
	Client client.Client
	Options

	mu sync.Mutex
	// started is the time of the first pass: the meter has watched every co-op since.
	started time.Time
	coops   map[string]*coopState
	// reports holds the usage entries this meter last wrote, or tried to write, per period,
	// so that a stale cache never drops an entry.
	reports map[string]map[string]coopv1.CooperativeUsage
	// unwritten holds the periods whose last CostReport write failed, for the next pass to
	// write again (their entries are in reports): the co-ops' statuses already hold them,
	// and an ended period gets no further updates that would carry them.
	unwritten map[string]bool
	// podRates holds the requests of the cached pods read from Objects, by object: the
	// cache replaces an object when it changes, so an entry is valid as long as its key
	// is cached. Entries not read in a pass are dropped after it.
	podRates map[*corev1.Pod]*cachedRates
	pass     uint64
	// swept holds what each namespace held at this pass's sweep of Objects.
	swept map[string]*sweptNamespace
	// resumedDeleted says that the co-ops deleted before the meter started were taken up.
	resumedDeleted bool
	// dbUnreachable is the error of this pass's attempt to reach the shared database
	// cluster that failed, if any: the pass asks it no more sizes.
	dbUnreachable error
}

type cachedRates struct {
	rates Rates
	pass  uint64
}

type coopState struct {
	ledger      *Ledger
	rates       Rates
	resumed     bool // loaded from status: the next interval was not observed
	lastPersist time.Time
	// namespace holds the co-op's pods and volumes; gone says the Cooperative is deleted
	// and only its namespace is still metered.
	namespace string
	gone      bool
	// deleting says the Cooperative is being deleted (its deletion may wait for a final
	// backup or the emptying of its prefix of the object store).
	deleting bool
	// persistedPeriod is the period of the last write (of the ledger's last sample before
	// the first one); the next write records every period from it on.
	persistedPeriod string
	// dbBytes is the last size read of a shared-tier co-op's database, when dbRead says
	// that this meter has read one.
	dbBytes int64
	dbRead  bool
}

// billed returns the co-op's totals of period p that its CostReport carries, or nil. The
// period without any usage of a co-op deleted, or being deleted, is not carried: typically
// the month its deletion ran into, whose first sample found nothing running. A line of
// zero usage would still take its part of an even split of the shared costs, and the
// bill's floor (minimumAmount), for a month it did not run in. Another co-op's period is
// carried whatever it used: it is on the hub that month.
func (st *coopState) billed(p string) *Totals {
	t := st.ledger.Periods[p]
	if t == nil || ((st.gone || st.deleting) && t.zero()) {
		return nil
	}
	return t
}

// +kubebuilder:rbac:groups=coop.cooperator.dev,resources=cooperatives,verbs=get;list;watch
// +kubebuilder:rbac:groups=coop.cooperator.dev,resources=cooperatives/status,verbs=get;patch
// +kubebuilder:rbac:groups=coop.cooperator.dev,resources=costreports,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=coop.cooperator.dev,resources=costreports/status,verbs=get;patch
// +kubebuilder:rbac:groups="",resources=pods;persistentvolumeclaims,verbs=get;list;watch
// +kubebuilder:rbac:groups=metrics.k8s.io,resources=pods,verbs=get;list

// Setup adds a meter to the manager and returns it.
func Setup(mgr ctrl.Manager, opts Options) (*Meter, error) {
	opts.defaults()
	if opts.Usage == nil {
		dc, err := discovery.NewDiscoveryClientForConfig(mgr.GetConfig())
		if err != nil {
			return nil, fmt.Errorf("creating the discovery client: %w", err)
		}
		opts.Usage = &MetricsAPI{Discovery: dc, Reader: mgr.GetAPIReader(), Clock: opts.Clock, RecheckInterval: 5 * time.Minute}
	}
	if opts.Objects == nil {
		objects, err := cachedObjects(context.Background(), mgr.GetCache())
		if err != nil {
			return nil, err
		}
		opts.Objects = objects
	}
	m := New(mgr.GetClient(), opts)
	if err := mgr.Add(m); err != nil {
		return nil, fmt.Errorf("adding the meter to the manager: %w", err)
	}
	return m, nil
}

// New returns a meter that is not started.
func New(c client.Client, opts Options) *Meter {
	opts.defaults()
	return &Meter{Client: c, Options: opts, coops: map[string]*coopState{}, reports: map[string]map[string]coopv1.CooperativeUsage{}, podRates: map[*corev1.Pod]*cachedRates{}}
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: only the leader meters.
func (m *Meter) NeedLeaderElection() bool { return true }

// Start implements manager.Runnable: a pass now, then one every Interval until ctx ends,
// then a last write of every co-op's totals.
func (m *Meter) Start(ctx context.Context) error {
	log := logf.FromContext(ctx).WithName("metering")
	for {
		if err := m.Pass(ctx); err != nil {
			log.Error(err, "Metering pass failed")
		}
		select {
		case <-ctx.Done():
			flushCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := m.Flush(flushCtx); err != nil {
				log.Error(err, "Writing the totals on shutdown failed")
			}
			return nil
		case <-m.Clock.After(m.Interval):
		}
	}
}

// Pass samples every co-op once, adds the interval since its last sample to its totals,
// and writes the totals that are due.
func (m *Meter) Pass(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.Clock.Now().UTC().Truncate(time.Second)
	if m.started.IsZero() {
		m.started = now
	}
	m.pass++
	m.dbUnreachable = nil
	defer func() {
		for pod, c := range m.podRates {
			if c.pass != m.pass {
				delete(m.podRates, pod)
			}
		}
	}()

	var coops coopv1.CooperativeList
	if err := m.Client.List(ctx, &coops, client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("listing cooperatives: %w", err)
	}
	usage := m.podUsage(ctx)
	if m.Objects != nil {
		m.swept = m.sweep(usage)
		defer func() { m.swept = nil }()
	}
	seen := make(map[string]bool, len(coops.Items))
	updates := map[string][]coopv1.CooperativeUsage{}
	reports := &reportLookup{c: m.Client}
	var errs []error
	for i := range coops.Items {
		coop := &coops.Items[i]
		seen[coop.Name] = true
		st, err := m.state(ctx, coop, now, reports)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		st.namespace, st.gone, st.deleting = coop.NamespaceName(), false, !coop.DeletionTimestamp.IsZero()
		rates, err := m.measure(ctx, coop, st, usage[coop.NamespaceName()])
		if err != nil {
			// The interval stays uncounted; the next pass covers it, as estimated if late.
			errs = append(errs, fmt.Errorf("sampling co-op %s: %w", coop.Name, err))
			continue
		}
		m.advance(coop.Name, st, now, rates)

		if !m.due(st, now) {
			continue
		}
		if err := m.writeCooperative(ctx, coop.Name, st, reports); err != nil {
			errs = append(errs, err)
			if !apierrors.IsNotFound(err) {
				continue
			}
		}
		record(updates, coop.Name, st, now)
	}
	// A co-op that is gone still pays for what its namespace holds while it terminates:
	// the Cooperative goes once its deletion has issued the namespace's (after a final
	// backup, or the emptying of its prefix of the object store), and its pods and
	// volumes only go after. Each pass samples the namespace until it holds no pod and no
	// claim; then the co-op is dropped. Its totals go to the CostReports (with the other
	// co-ops' totals: one write per period and pass at most) when due, as a co-op's that is
	// not gone, and at the sample that finds the namespace empty: that sample is its last,
	// and nothing else would write what it charged since the last write. Its status went
	// with it: nothing writes there.
	if !m.resumedDeleted {
		if err := m.resumeDeleted(ctx, seen, now); err != nil {
			errs = append(errs, err)
		} else {
			m.resumedDeleted = true
		}
	}
	var gone []string
	for name := range m.coops {
		if !seen[name] {
			gone = append(gone, name)
		}
	}
	sort.Strings(gone)
	for _, name := range gone {
		st := m.coops[name]
		st.gone = true
		rates, held, err := m.measureNamespace(ctx, st.namespace, usage[st.namespace])
		if err != nil {
			errs = append(errs, fmt.Errorf("sampling the namespace of deleted co-op %s: %w", name, err))
			continue
		}
		m.advance(name, st, now, rates)
		if m.due(st, now) || !held {
			record(updates, name, st, now)
		}
		if !held {
			delete(m.coops, name)
			forget(name)
		}
	}
	if err := m.recordInReports(ctx, updates); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		// Every co-op sampled and every write made: the periods that ended may be complete.
		if err := m.markMetered(ctx, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// markMetered sets status.meteredThrough to now in each open CostReport of a period that
// has ended once the report holds every co-op's final totals of it: every co-op metered
// was written at a sample after the period, no write of the report waits, and the report
// as read holds each co-op's totals of the period as its ledger has them. A report that
// does not (entries dropped after writes that failed for over a month, or a write the
// cache has not seen yet) gets those totals written again from the ledgers, and is
// marked at a later pass. The CostReport controller finalizes a report only once marked,
// so a meter that was down across the period's end, or whose writes failed, is not
// overtaken by the finalization. Pass calls it only after a pass without an error (every
// co-op sampled and written).
func (m *Meter) markMetered(ctx context.Context, now time.Time) error {
	var reports coopv1.CostReportList
	if err := m.Client.List(ctx, &reports, client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("listing CostReports: %w", err)
	}
	current := PeriodOf(now)
	var errs []error
	for i := range reports.Items {
		r := &reports.Items[i]
		p := r.Name
		if r.Spec.Final || r.Status.MeteredThrough != nil || p >= current || m.unwritten[p] || !m.writtenAfter(p) {
			continue
		}
		if missing := m.missing(r); len(missing) > 0 {
			if err := m.recordInReport(ctx, p, missing); err != nil {
				errs = append(errs, fmt.Errorf("recording usage in CostReport %s again: %w", p, err))
			}
			continue
		}
		fields := map[string]any{"meteredThrough": now.UTC().Format(time.RFC3339)}
		if err := ssa.ApplyStatus(ctx, m.Client, coopv1.GroupVersion.WithKind("CostReport"), client.ObjectKey{Name: p}, fields, MarkFieldOwner); err != nil {
			errs = append(errs, fmt.Errorf("recording in CostReport %s that it is metered through its end: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// missing lists the totals of the report's period, as their ledgers have them, of the
// co-ops metered whose line in the report does not hold them.
func (m *Meter) missing(report *coopv1.CostReport) []coopv1.CooperativeUsage {
	lines := make(map[string]*coopv1.CooperativeUsage, len(report.Status.Usage))
	for i := range report.Status.Usage {
		lines[report.Status.Usage[i].Cooperative] = &report.Status.Usage[i]
	}
	var out []coopv1.CooperativeUsage
	for name, st := range m.coops {
		t := st.billed(report.Name)
		if t == nil {
			continue
		}
		if want := t.CooperativeUsage(name, st.ledger.LastSample); !sameTotals(lines[name], want) {
			out = append(out, want)
		}
	}
	return out
}

// writtenAfter says whether every co-op metered was last written at a sample after period
// p: that write carried its final totals of p.
func (m *Meter) writtenAfter(p string) bool {
	for _, st := range m.coops {
		if st.persistedPeriod <= p {
			return false
		}
	}
	return true
}

// advance charges the interval since a co-op's last sample at the rates measured now:
// estimated after a restart or when the samples came late.
func (m *Meter) advance(name string, st *coopState, now time.Time, rates Rates) {
	prev := st.ledger.LastSample
	estimated := st.resumed || (!prev.IsZero() && now.Sub(prev) > 2*m.Interval)
	seconds := st.ledger.Advance(now, rates, estimated)
	if seconds > 0 || prev.IsZero() {
		st.resumed = false
	}
	st.rates = rates
	observe(name, rates, seconds)
}

// record adds a co-op's totals as of its last sample to the CostReport updates, and notes
// them as written at that sample.
func record(updates map[string][]coopv1.CooperativeUsage, name string, st *coopState, at time.Time) {
	for _, p := range periodsToRecord(st, at) {
		if t := st.billed(p); t != nil {
			updates[p] = append(updates[p], t.CooperativeUsage(name, st.ledger.LastSample))
		}
	}
	st.lastPersist, st.persistedPeriod = at, PeriodOf(at)
}

// Flush writes the totals of every co-op whose last sample is not written yet.
func (m *Meter) Flush(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	updates := map[string][]coopv1.CooperativeUsage{}
	reports := &reportLookup{c: m.Client}
	var errs []error
	names := make([]string, 0, len(m.coops))
	for name := range m.coops {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		st := m.coops[name]
		if st.lastPersist.Equal(st.ledger.LastSample) || len(st.ledger.Periods) == 0 { // written, or not sampled yet
			continue
		}
		if !st.gone {
			if err := m.writeCooperative(ctx, name, st, reports); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		record(updates, name, st, st.ledger.LastSample)
	}
	if err := m.recordInReports(ctx, updates); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// periodsToRecord lists, oldest first, the periods whose totals a write at at carries:
// the period of at and every period of the ledger since persistedPeriod. The final totals
// of a period go out at its end, and an interval across boundaries (a restart's gap)
// changes every period it spans.
func periodsToRecord(st *coopState, at time.Time) []string {
	last := PeriodOf(at)
	first := st.persistedPeriod
	if first == "" || first > last {
		first = last
	}
	names := st.ledger.periodNames()
	slices.Reverse(names)
	out := []string{}
	for _, p := range names {
		if p >= first && p <= last {
			out = append(out, p)
		}
	}
	return out
}

// due says whether a co-op's totals should be written now: never written, written
// PersistInterval ago, or a period ended since. A co-op being deleted is no exception: its
// deletion may wait for a long time (a final backup that keeps failing, a finalizer), and
// the meter keeps its totals when its Cooperative goes.
func (m *Meter) due(st *coopState, now time.Time) bool {
	return st.lastPersist.IsZero() ||
		now.Sub(st.lastPersist) >= m.PersistInterval ||
		PeriodOf(now) != st.persistedPeriod
}

// state returns the in-memory state of a co-op, loading it from its status the first time.
// A co-op never metered before starts at its creation when the meter was running then, so
// that its first sample charges the time since (at that sample's rates, as every interval
// is); otherwise it starts at now. A co-op created while no meter ran held nothing before
// the operator came up, since the operator creates its namespace. A creation time ahead of
// now (a clock behind the API server's) starts at now too.
func (m *Meter) state(ctx context.Context, coop *coopv1.Cooperative, now time.Time, reports *reportLookup) (*coopState, error) {
	if st, ok := m.coops[coop.Name]; ok {
		return st, nil
	}
	ledger, err := LedgerFromStatus(coop.Status.Usage)
	if err != nil {
		return nil, fmt.Errorf("reading status.usage of co-op %s: %w", coop.Name, err)
	}
	if coop.Status.Usage == nil {
		if created := coop.CreationTimestamp.UTC().Truncate(time.Second); created.After(m.started) && created.Before(now) {
			ledger.LastSample = created
		}
	}
	var gap bool
	if coop.Status.Usage == nil {
		if gap, err = m.carry(ctx, coop.Name, ledger, now, reports); err != nil {
			return nil, err
		}
	}
	st := &coopState{ledger: ledger, resumed: coop.Status.Usage != nil}
	if st.resumed {
		// The status holds the totals as of the ledger's last sample: they are written, and
		// the next write is due PersistInterval after them, not at the first pass. A
		// restart of the operator then writes only the co-ops whose totals are that old,
		// not every co-op of the hub at once.
		st.lastPersist = ledger.LastSample
	}
	if !ledger.LastSample.IsZero() {
		// The first write records the period of the ledger's start too: the interval from
		// there may cross the end of that period (a restart's gap, a co-op created just
		// before the end).
		st.persistedPeriod = PeriodOf(ledger.LastSample)
	}
	if st.resumed {
		// A period whose open CostReport lacks the co-op's final totals is written again at
		// once, with the periods after it.
		if stale := reports.unrecorded(ctx, coop.Name, ledger); len(stale) > 0 {
			st.persistedPeriod = stale[0]
		}
	}
	// The interval since the carried line's last sample was not observed.
	st.resumed = st.resumed || gap
	m.coops[coop.Name] = st
	return st, nil
}

// carry starts the ledger of a co-op whose status holds no usage at the totals its name
// already has for the period the ledger starts in: the meter's own last entry of it, which
// a failed CostReport write may have left in memory only, else the line of the open
// CostReport. The report's lines are by name: a co-op deleted and created again under the
// same name within a month (or whose status was lost) pays for that name's whole usage of
// the month, and its first write does not replace what the line held, which the other
// co-ops would otherwise pay. The line covers the time up to its last sample, so the
// ledger starts no earlier; a ledger with no start yet (a co-op created while no meter
// ran) starts there, and carry says so: the interval from there is estimated, as a
// restart's gap is. A CostReport that cannot be read is an error, for the next pass to
// try again.
func (m *Meter) carry(ctx context.Context, name string, ledger *Ledger, now time.Time, reports *reportLookup) (gap bool, err error) {
	start := ledger.LastSample
	if start.IsZero() {
		start = now
	}
	p := PeriodOf(start)
	r, err := reports.read(ctx, p)
	if err != nil {
		return false, fmt.Errorf("reading CostReport %s for the totals of co-op %s: %w", p, name, err)
	}
	if r == nil || r.Spec.Final {
		return false, nil
	}
	line := reports.usageOf(ctx, p, name)
	if e, ok := m.reports[p][name]; ok {
		line = &e
	}
	if line == nil {
		return false, nil
	}
	t, err := totalsFromReport(line)
	if err != nil {
		return false, fmt.Errorf("reading CostReport %s: %w", p, err)
	}
	ledger.Periods[p] = t
	if line.LastSampleTime == nil {
		return false, nil
	}
	last := line.LastSampleTime.UTC().Truncate(time.Second)
	switch {
	case ledger.LastSample.IsZero() && PeriodOf(last) == p && last.Before(now):
		ledger.LastSample = last
		return true, nil
	case !ledger.LastSample.IsZero() && last.After(ledger.LastSample):
		ledger.LastSample = last
	}
	return false, nil
}

// resumeDeleted takes up, at the meter's first pass, the co-ops deleted before it started
// whose namespace still holds pods or volumes (a volume whose finalizer is stuck, say): the
// meter before it charged them from memory alone, since their Cooperative and its status
// are gone. Their totals are read back from their lines in the open CostReports of the
// current and the previous period, and they are metered as gone from there, the interval
// since their last sample estimated, until their namespace is empty.
func (m *Meter) resumeDeleted(ctx context.Context, seen map[string]bool, now time.Time) error {
	start, _ := PeriodBounds(now)
	ledgers := map[string]*Ledger{}
	for _, p := range []string{PeriodOf(start.Add(-time.Second)), PeriodOf(now)} {
		report := &coopv1.CostReport{}
		if err := m.Client.Get(ctx, client.ObjectKey{Name: p}, report); apierrors.IsNotFound(err) {
			continue
		} else if err != nil {
			return fmt.Errorf("reading CostReport %s for the co-ops deleted before the meter started: %w", p, err)
		}
		if report.Spec.Final {
			continue
		}
		for i := range report.Status.Usage {
			line := &report.Status.Usage[i]
			name := line.Cooperative
			if seen[name] || m.coops[name] != nil || line.LastSampleTime == nil {
				continue
			}
			t, err := totalsFromReport(line)
			if err != nil {
				return fmt.Errorf("reading CostReport %s: %w", p, err)
			}
			l := ledgers[name]
			if l == nil {
				l = NewLedger()
				ledgers[name] = l
			}
			l.Periods[p] = t
			if last := line.LastSampleTime.UTC().Truncate(time.Second); last.After(l.LastSample) {
				l.LastSample = last
			}
		}
	}
	for name, l := range ledgers {
		ns := coopv1.NamespacePrefix + name
		_, held, err := m.measureNamespace(ctx, ns, nil)
		if err != nil {
			return fmt.Errorf("sampling the namespace of deleted co-op %s: %w", name, err)
		}
		if held {
			m.coops[name] = &coopState{
				ledger: l, resumed: true, lastPersist: l.LastSample, persistedPeriod: PeriodOf(l.LastSample),
				namespace: ns, gone: true,
			}
		}
	}
	return nil
}

// measure samples what a co-op holds now: its namespace and its shared-tier database.
func (m *Meter) measure(ctx context.Context, coop *coopv1.Cooperative, st *coopState, usage PodUsage) (Rates, error) {
	rates, _, err := m.measureNamespace(ctx, coop.NamespaceName(), usage)
	if err != nil {
		return Rates{}, err
	}
	if m.Database != nil && coop.Spec.Database.Tier == coopv1.DatabaseTierShared {
		size, err := m.databaseSize(ctx, coop)
		switch {
		case err == nil:
			st.dbBytes, st.dbRead = size, true
		case st.dbRead:
			// Keep the last size read: a database does not vanish between two samples.
			logf.FromContext(ctx).Info("Database size unavailable, kept the last one", "cooperative", coop.Name, "error", err.Error())
		case errors.Is(err, ErrDatabaseNotFound):
			// Not created yet: a new co-op's database holds nothing.
			logf.FromContext(ctx).Info("Database not found, counted no storage for it", "cooperative", coop.Name, "error", err.Error())
		case coop.Status.Usage != nil && !coop.Status.Usage.Allocation.Database.IsZero():
			// No size read since the meter started (after a restart, say), but the co-op's
			// last written sample recorded its database's size: the last size read, kept
			// across the restart.
			st.dbBytes, st.dbRead = coop.Status.Usage.Allocation.Database.Value(), true
			logf.FromContext(ctx).Info("Database size unavailable, kept the last one written", "cooperative", coop.Name, "error", err.Error())
		default:
			// No size read, nor written: there is no last size to keep, and no storage is not
			// one. The interval stays uncounted, and the next sample with a size covers it.
			return Rates{}, fmt.Errorf("reading the size of its database: %w", err)
		}
		rates.StorageBytes += st.dbBytes
		rates.DatabaseBytes = st.dbBytes
	}
	return rates, nil
}

// databaseSize reads the size of a shared-tier co-op's database, unless the shared
// cluster could not be reached earlier in this pass: then it fails at once with that
// error. Each attempt may take the sizer's timeout, and the pass holds the meter's lock.
func (m *Meter) databaseSize(ctx context.Context, coop *coopv1.Cooperative) (int64, error) {
	if m.dbUnreachable != nil {
		return 0, m.dbUnreachable
	}
	size, err := m.Database.DatabaseSize(ctx, coop)
	if errors.Is(err, ErrDatabaseUnreachable) {
		m.dbUnreachable = err
	}
	return size, err
}

// measureNamespace samples what the pods and claims of a co-op's namespace hold now, with
// the pods' usage when known (nil: requests alone), and says whether the namespace holds
// any pod or claim at all.
func (m *Meter) measureNamespace(ctx context.Context, ns string, usage PodUsage) (Rates, bool, error) {
	if m.swept != nil {
		if r := m.swept[ns]; r != nil {
			return r.rates, r.held, nil
		}
		return Rates{}, false, nil
	}
	var pods corev1.PodList
	if err := m.Client.List(ctx, &pods, client.InNamespace(ns), client.UnsafeDisableDeepCopy); err != nil {
		return Rates{}, false, fmt.Errorf("listing pods: %w", err)
	}
	var pvcs corev1.PersistentVolumeClaimList
	if err := m.Client.List(ctx, &pvcs, client.InNamespace(ns), client.UnsafeDisableDeepCopy); err != nil {
		return Rates{}, false, fmt.Errorf("listing persistent volume claims: %w", err)
	}
	held := len(pods.Items) > 0 || len(pvcs.Items) > 0
	return NamespaceRates(pods.Items, pvcs.Items, usage), held, nil
}

// sweep samples every namespace of Objects in one read of each store: what the pods
// and claims of each namespace hold now, with the pods' usage when known.
func (m *Meter) sweep(usage map[string]PodUsage) map[string]*sweptNamespace {
	out := map[string]*sweptNamespace{}
	namespace := func(ns string) *sweptNamespace {
		n, ok := out[ns]
		if !ok {
			n = &sweptNamespace{held: true}
			out[ns] = n
		}
		return n
	}
	for _, o := range m.Objects.Pods.List() {
		pod, ok := o.(*corev1.Pod)
		if !ok {
			continue
		}
		n := namespace(pod.Namespace)
		if u, measured := usage[pod.Namespace][pod.Name]; measured {
			n.rates.add(countedPodRates(pod, PodUsage{pod.Name: u}))
			continue
		}
		c := m.podRates[pod]
		if c == nil {
			c = &cachedRates{rates: countedPodRates(pod, nil)}
			m.podRates[pod] = c
		}
		c.pass = m.pass
		n.rates.add(c.rates)
	}
	for _, o := range m.Objects.PVCs.List() {
		if pvc, ok := o.(*corev1.PersistentVolumeClaim); ok {
			namespace(pvc.Namespace).rates.StorageBytes += PVCBytes(pvc)
		}
	}
	return out
}

type sweptNamespace struct {
	rates Rates
	held  bool
}

// podUsage reads the usage of every co-op's pods, by namespace, in one request per pass;
// nil when the cluster serves none. A namespace it misses counts requests alone.
func (m *Meter) podUsage(ctx context.Context) map[string]PodUsage {
	if m.Usage == nil || !m.Usage.Available(ctx) {
		return nil
	}
	usage, err := m.Usage.PodUsage(ctx)
	if err != nil {
		logf.FromContext(ctx).Info("Pod usage unavailable, counted requests alone", "error", err.Error())
	}
	return usage
}

// writeCooperative applies status.usage of one co-op: the totals and the time of the last
// sample in one patch.
func (m *Meter) writeCooperative(ctx context.Context, name string, st *coopState, reports *reportLookup) error {
	usage := st.ledger.UsageStatus(st.rates)
	usage.EstimatedAmount, usage.Currency = reports.amount(ctx, usage.CurrentPeriod, name)
	obj, err := ssa.StatusFields(usage)
	if err != nil {
		return fmt.Errorf("converting the usage of co-op %s: %w", name, err)
	}
	key := client.ObjectKey{Name: name}
	if err := ssa.ApplyStatus(ctx, m.Client, coopv1.GroupVersion.WithKind("Cooperative"), key, map[string]any{"usage": obj}, FieldOwner); err != nil {
		return fmt.Errorf("writing status.usage of co-op %s: %w", name, err)
	}
	return nil
}

// recordInReports writes the co-ops' totals into status.usage of each period's
// CostReport, creating the report (empty bill) when the hub has not entered it yet.
func (m *Meter) recordInReports(ctx context.Context, updates map[string][]coopv1.CooperativeUsage) error {
	for p := range m.unwritten {
		if _, ok := updates[p]; !ok {
			updates[p] = nil // its entries wait in m.reports
		}
	}
	m.unwritten = nil
	periods := make([]string, 0, len(updates))
	for p := range updates {
		periods = append(periods, p)
	}
	sort.Strings(periods)
	var errs []error
	for _, p := range periods {
		if err := m.recordInReport(ctx, p, updates[p]); err != nil {
			errs = append(errs, fmt.Errorf("recording usage in CostReport %s: %w", p, err))
			if m.unwritten == nil {
				m.unwritten = map[string]bool{}
			}
			m.unwritten[p] = true
		}
	}
	// Only the current and the previous period are still written to.
	keepNewest(m.reports, 2)
	keepNewest(m.unwritten, 2)
	return errors.Join(errs...)
}

// keepNewest deletes from m, whose keys are periods, all but the n newest.
func keepNewest[V any](m map[string]V, n int) {
	if len(m) <= n {
		return
	}
	periods := slices.Sorted(maps.Keys(m))
	for _, p := range periods[:len(periods)-n] {
		delete(m, p)
	}
}

func (m *Meter) recordInReport(ctx context.Context, period string, updates []coopv1.CooperativeUsage) error {
	// The updates are kept first: a write that fails below leaves them for the next.
	entries, ok := m.reports[period]
	if !ok {
		entries = map[string]coopv1.CooperativeUsage{}
		m.reports[period] = entries
	}
	for _, e := range updates {
		entries[e.Cooperative] = e
	}
	report := &coopv1.CostReport{}
	err := m.Client.Get(ctx, client.ObjectKey{Name: period}, report)
	if apierrors.IsNotFound(err) {
		start, end, perr := ParsePeriod(period)
		if perr != nil {
			return perr
		}
		report = &coopv1.CostReport{
			ObjectMeta: metav1.ObjectMeta{Name: period},
			Spec: coopv1.CostReportSpec{
				Period: coopv1.Period{Start: metav1.NewTime(start), End: metav1.NewTime(end)},
			},
		}
		err = m.Client.Create(ctx, report, client.FieldOwner(FieldOwner))
		if apierrors.IsAlreadyExists(err) {
			err = nil // the cache had not seen it yet; the entries below are all this meter's
		}
	}
	if err != nil {
		return err
	}
	if report.Spec.Final {
		return nil // frozen: late samples no longer change a final report
	}
	for _, e := range report.Status.Usage {
		if _, mine := entries[e.Cooperative]; !mine {
			entries[e.Cooperative] = e
		}
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	list := make([]any, 0, len(names))
	for _, n := range names {
		obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ptr.To(entries[n]))
		if err != nil {
			return err
		}
		list = append(list, obj)
	}
	return ssa.ApplyStatus(ctx, m.Client, coopv1.GroupVersion.WithKind("CostReport"), client.ObjectKey{Name: period}, map[string]any{"usage": list}, FieldOwner)
}

// reportLookup reads each period's CostReport once per pass: for the co-ops' estimated
// amounts, and for the lines a resumed co-op's status is checked against.
type reportLookup struct {
	c       client.Reader
	reports map[string]*coopv1.CostReport
	errs    map[string]error
	// usage indexes each read report's status.usage by co-op.
	usage map[string]map[string]*coopv1.CooperativeUsage
}

// report is the CostReport of period; nil when there is none (or it cannot be read).
func (a *reportLookup) report(ctx context.Context, period string) *coopv1.CostReport {
	r, _ := a.read(ctx, period)
	return r
}

// read is the CostReport of period; nil when there is none, and the error of a read that
// failed otherwise.
func (a *reportLookup) read(ctx context.Context, period string) (*coopv1.CostReport, error) {
	if a.reports == nil {
		a.reports = map[string]*coopv1.CostReport{}
		a.errs = map[string]error{}
		a.usage = map[string]map[string]*coopv1.CooperativeUsage{}
	}
	r, ok := a.reports[period]
	if !ok {
		r = &coopv1.CostReport{}
		err := a.c.Get(ctx, client.ObjectKey{Name: period}, r)
		if err != nil {
			r = nil
			if !apierrors.IsNotFound(err) {
				a.errs[period] = err
			}
		}
		a.reports[period] = r
	}
	return r, a.errs[period]
}

// usageOf is the co-op's usage line in period's CostReport; nil when it has none.
func (a *reportLookup) usageOf(ctx context.Context, period, coop string) *coopv1.CooperativeUsage {
	r := a.report(ctx, period)
	if r == nil {
		return nil
	}
	byCoop, ok := a.usage[period]
	if !ok {
		byCoop = make(map[string]*coopv1.CooperativeUsage, len(r.Status.Usage))
		for i := range r.Status.Usage {
			byCoop[r.Status.Usage[i].Cooperative] = &r.Status.Usage[i]
		}
		a.usage[period] = byCoop
	}
	return byCoop[coop]
}

// amount is a co-op's estimated amount in period's CostReport, and its currency; none while
// the report's lines are those of an earlier spec (the hub edited the bill, and the split
// of the new one is not written yet: the old amount is not this bill's, nor perhaps in
// this currency).
func (a *reportLookup) amount(ctx context.Context, period, coop string) (amount, currency string) {
	r := a.report(ctx, period)
	if r == nil || r.Status.ObservedGeneration != r.Generation {
		return "", ""
	}
	for _, l := range r.Status.Lines {
		if l.Cooperative == coop {
			return l.Amount, r.Spec.Currency
		}
	}
	return "", ""
}

// unrecorded lists, oldest first, the periods before the one of the ledger's last sample
// whose CostReport is still open and does not hold the co-op's totals of the ledger. The
// meter writes a co-op's status before the CostReports of a pass, so a meter that stopped
// between the two at a period's end left the final totals of the period that ended in the
// status only; the status's last sample already lies in the next period.
func (a *reportLookup) unrecorded(ctx context.Context, coop string, ledger *Ledger) []string {
	current := PeriodOf(ledger.LastSample)
	var out []string
	for _, p := range ledger.periodNames() {
		if p >= current {
			continue
		}
		r := a.report(ctx, p)
		if r == nil || r.Spec.Final {
			continue
		}
		if !sameTotals(a.usageOf(ctx, p, coop), ledger.Periods[p].CooperativeUsage(coop, ledger.LastSample)) {
			out = append(out, p)
		}
	}
	slices.Reverse(out)
	return out
}

// sameTotals reports whether a CostReport's usage line (nil: none) has want's totals.
func sameTotals(line *coopv1.CooperativeUsage, want coopv1.CooperativeUsage) bool {
	return line != nil &&
		line.CPUMillicoreSeconds == want.CPUMillicoreSeconds &&
		line.MemoryByteSeconds == want.MemoryByteSeconds &&
		line.StorageByteSeconds == want.StorageByteSeconds &&
		line.EstimatedSeconds == want.EstimatedSeconds
}
