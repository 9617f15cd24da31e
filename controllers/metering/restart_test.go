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
	"context"
	"errors"
	"math/big"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/costreport"
)

func getPeriod(g Gomega, name, period string) (*coopv1.Cooperative, *coopv1.PeriodUsage) {
	coop := &coopv1.Cooperative{}
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Name: name}, coop)).To(Succeed())
	p := periodOf(coop, period)
	g.Expect(p).NotTo(BeNil())
	return coop, p
}

// TestMeteringAcrossARestart stops the manager mid-period, lets 3 hours pass, and starts
// a new one: the totals cover the outage once, at the allocation seen on restart, and the
// outage is marked as estimated.
func TestMeteringAcrossARestart(t *testing.T) {
	g := NewWithT(t)
	cleanup(t)
	start := at("2027-03-10T00:00:00Z")
	createCooperative(t, "delta")
	createRunningPod(t, "coop-delta", "d1", "1", "1Gi")

	env1 := startManager(t, clocktesting.NewFakeClock(start), Options{}) // 60s and 5m
	for range 7 {
		env1.tick(t, time.Minute)
	}
	env1.stop(t) // writes the totals of the last sample on its way out
	_, p := getPeriod(g, "delta", "2027-03")
	g.Expect(p.CPUMillicoreSeconds).To(Equal(strconv.Itoa(1000 * 7 * 60)))
	g.Expect(p.EstimatedSeconds).To(BeZero())

	restart := start.Add(7*time.Minute + 3*time.Hour)
	env2 := startManager(t, clocktesting.NewFakeClock(restart), Options{})
	defer env2.stop(t)
	g.Eventually(func(g Gomega) {
		coop, p := getPeriod(g, "delta", "2027-03")
		g.Expect(coop.Status.Usage.LastSampleTime.Time).To(BeTemporally("==", restart))
		g.Expect(p.CPUMillicoreSeconds).To(Equal(strconv.Itoa(1000 * (7*60 + 3*3600))))
		g.Expect(p.MemoryByteSeconds).To(Equal(strconv.FormatInt(gi*(7*60+3*3600), 10)))
		g.Expect(p.MeteredSeconds).To(Equal(int64(7*60 + 3*3600)))
		g.Expect(p.EstimatedSeconds).To(Equal(int64(3 * 3600)))
		g.Expect(p.EstimatedIntervals).To(HaveLen(1))
		g.Expect(p.EstimatedIntervals[0].Start.Time).To(BeTemporally("==", start.Add(7*time.Minute)))
		g.Expect(p.EstimatedIntervals[0].End.Time).To(BeTemporally("==", restart))
	}, 30*time.Second, 10*time.Millisecond).Should(Succeed())

	// Sampling goes on, measured again; the next write is 5 minutes later.
	for range 5 {
		env2.tick(t, time.Minute)
	}
	g.Eventually(func(g Gomega) {
		_, p := getPeriod(g, "delta", "2027-03")
		g.Expect(p.CPUMillicoreSeconds).To(Equal(strconv.Itoa(1000 * (12*60 + 3*3600))))
		g.Expect(p.EstimatedSeconds).To(Equal(int64(3 * 3600)))
		report := &coopv1.CostReport{}
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Name: "2027-03"}, report)).To(Succeed())
		u := usageOf(report, "delta")
		g.Expect(u).NotTo(BeNil())
		g.Expect(u.CPUMillicoreSeconds).To(Equal(p.CPUMillicoreSeconds))
		g.Expect(u.EstimatedSeconds).To(Equal(int64(3 * 3600)))
	}, 30*time.Second, 10*time.Millisecond).Should(Succeed())
}

// TestMeteringAfterACrash: a meter that dies without writing its last samples loses
// nothing and counts nothing twice: the next one resumes from the last written sample and
// estimates from there.
func TestMeteringAfterACrash(t *testing.T) {
	g := NewWithT(t)
	cleanup(t)
	ctx := context.Background()
	start := at("2027-05-10T00:00:00Z")
	createCooperative(t, "epsilon")
	createRunningPod(t, "coop-epsilon", "e1", "2", "1Gi")

	clk := clocktesting.NewFakeClock(start)
	first := New(k8sClient, Options{Clock: clk})
	g.Expect(first.Pass(ctx)).To(Succeed()) // baseline, written
	for range 7 {
		clk.Step(time.Minute)
		g.Expect(first.Pass(ctx)).To(Succeed()) // written at 5 minutes only
	}
	_, p := getPeriod(g, "epsilon", "2027-05")
	g.Expect(p.CPUMillicoreSeconds).To(Equal(strconv.Itoa(2000 * 5 * 60)))

	// The first meter dies here with 2 minutes counted in memory only.
	clk.Step(3 * time.Minute)
	second := New(k8sClient, Options{Clock: clk})
	g.Expect(second.Pass(ctx)).To(Succeed())
	_, p = getPeriod(g, "epsilon", "2027-05")
	g.Expect(p.CPUMillicoreSeconds).To(Equal(strconv.Itoa(2000 * 10 * 60)))
	g.Expect(p.MeteredSeconds).To(Equal(int64(600)))
	g.Expect(p.EstimatedSeconds).To(Equal(int64(300)))
	g.Expect(p.EstimatedIntervals[0].Start.Time).To(BeTemporally("==", start.Add(5*time.Minute)))
}

// TestMeteringRestartWithinTheInterval: a meter that starts less than the persist interval
// after the last written sample writes nothing at its first pass (the status holds those
// totals already), and writes the gap, estimated, once the interval from that sample is
// over. A hub's restart does not rewrite every co-op's status at once.
func TestMeteringRestartWithinTheInterval(t *testing.T) {
	g := NewWithT(t)
	cleanup(t)
	ctx := context.Background()
	start := at("2027-05-10T00:00:00Z")
	createCooperative(t, "omicron")
	createRunningPod(t, "coop-omicron", "o1", "2", "1Gi")

	clk := clocktesting.NewFakeClock(start)
	first := New(k8sClient, Options{Clock: clk})
	g.Expect(first.Pass(ctx)).To(Succeed()) // baseline, written
	for range 5 {
		clk.Step(time.Minute)
		g.Expect(first.Pass(ctx)).To(Succeed()) // written at 5 minutes
	}
	coop, p := getPeriod(g, "omicron", "2027-05")
	written := coop.ResourceVersion
	g.Expect(p.CPUMillicoreSeconds).To(Equal(strconv.Itoa(2000 * 5 * 60)))

	// The first meter stops (a restart) and the next starts 2 minutes later.
	clk.Step(2 * time.Minute)
	second := New(k8sClient, Options{Clock: clk})
	g.Expect(second.Pass(ctx)).To(Succeed())
	coop, _ = getPeriod(g, "omicron", "2027-05")
	g.Expect(coop.ResourceVersion).To(Equal(written), "the first pass after the restart wrote the status")
	g.Expect(coop.Status.Usage.LastSampleTime.Time).To(BeTemporally("==", start.Add(5*time.Minute)))

	for range 2 {
		clk.Step(time.Minute)
		g.Expect(second.Pass(ctx)).To(Succeed())
	}
	_, p = getPeriod(g, "omicron", "2027-05")
	g.Expect(p.CPUMillicoreSeconds).To(Equal(strconv.Itoa(2000*5*60)), "written before the interval from the last written sample was over")

	clk.Step(time.Minute) // 10 minutes: 5 since the last written sample
	g.Expect(second.Pass(ctx)).To(Succeed())
	_, p = getPeriod(g, "omicron", "2027-05")
	g.Expect(p.CPUMillicoreSeconds).To(Equal(strconv.Itoa(2000 * 10 * 60)))
	g.Expect(p.MeteredSeconds).To(Equal(int64(600)))
	g.Expect(p.EstimatedSeconds).To(Equal(int64(120)))
	g.Expect(p.EstimatedIntervals[0].Start.Time).To(BeTemporally("==", start.Add(5*time.Minute)))
	g.Expect(p.EstimatedIntervals[0].End.Time).To(BeTemporally("==", start.Add(7*time.Minute)))
}

// TestMeteringRestartAcrossAPeriodEnd: a gap that spans the end of a period is charged to
// both periods, and the CostReport of the period that ended gets its share of the gap, not
// only the Cooperative's status.
func TestMeteringRestartAcrossAPeriodEnd(t *testing.T) {
	g := NewWithT(t)
	cleanup(t)
	ctx := context.Background()
	createCooperative(t, "eta")
	createRunningPod(t, "coop-eta", "h1", "1", "1Gi")

	clk := clocktesting.NewFakeClock(at("2027-06-30T23:50:00Z"))
	first := New(k8sClient, Options{Clock: clk})
	g.Expect(first.Pass(ctx)).To(Succeed()) // baseline, written
	for range 5 {
		clk.Step(time.Minute)
		g.Expect(first.Pass(ctx)).To(Succeed()) // written at 5 minutes only
	}

	// The first meter dies at 23:55; the next one starts at 00:10 in July.
	clk.Step(15 * time.Minute)
	second := New(k8sClient, Options{Clock: clk})
	g.Expect(second.Pass(ctx)).To(Succeed())

	for period, want := range map[string][2]int64{
		"2027-06": {1000 * 10 * 60, 5 * 60}, // 23:50 to midnight, the last 5 minutes estimated
		"2027-07": {1000 * 10 * 60, 10 * 60},
	} {
		report := &coopv1.CostReport{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: period}, report)).To(Succeed())
		u := usageOf(report, "eta")
		g.Expect(u).NotTo(BeNil(), period)
		g.Expect(u.CPUMillicoreSeconds).To(Equal(strconv.FormatInt(want[0], 10)), period)
		g.Expect(u.EstimatedSeconds).To(Equal(want[1]), period)
	}
}

// failingReports is a client of the test API server whose status writes to CostReports
// fail while the flag it returns is set.
func failingReports(t *testing.T) (client.Client, *atomic.Bool) {
	t.Helper()
	fail := &atomic.Bool{}
	base, err := client.NewWithWatch(cfg, client.Options{Scheme: k8sClient.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return interceptor.NewClient(base, interceptor.Funcs{
		SubResourceApply: func(ctx context.Context, c client.Client, sub string, obj runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
			if u, ok := obj.(interface{ GetKind() string }); ok && fail.Load() && u.GetKind() == "CostReport" {
				return errors.New("refused by the test")
			}
			return c.SubResource(sub).Apply(ctx, obj, opts...)
		},
	}), fail
}

// TestMeteringCrashAtAPeriodEnd: a meter that dies after the first write of a new period
// reached the co-op's status but before it reached the CostReports leaves the final totals
// of the period that ended in the status only. The next meter finds the ended period's
// CostReport behind the status and writes it at its first pass, although the status's last
// sample is recent (a restart otherwise waits the persist interval from it).
func TestMeteringCrashAtAPeriodEnd(t *testing.T) {
	g := NewWithT(t)
	cleanup(t)
	ctx := context.Background()
	createCooperative(t, "kappa")
	createRunningPod(t, "coop-kappa", "k1", "1", "1Gi")

	c, reportsFail := failingReports(t)

	clk := clocktesting.NewFakeClock(at("2027-08-31T23:56:00Z"))
	first := New(c, Options{Clock: clk})
	g.Expect(first.Pass(ctx)).To(Succeed()) // baseline, written
	for range 3 {
		clk.Step(time.Minute)
		g.Expect(first.Pass(ctx)).To(Succeed()) // not due: 23:59
	}
	clk.Step(time.Minute) // midnight: the period's end, written to the status only
	reportsFail.Store(true)
	g.Expect(first.Pass(ctx)).NotTo(Succeed())
	coop, p := getPeriod(g, "kappa", "2027-08")
	g.Expect(p.CPUMillicoreSeconds).To(Equal(strconv.Itoa(1000 * 4 * 60)))
	g.Expect(coop.Status.Usage.LastSampleTime.Time).To(BeTemporally("==", at("2027-09-01T00:00:00Z")))
	august := &coopv1.CostReport{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "2027-08"}, august)).To(Succeed())
	g.Expect(usageOf(august, "kappa").CPUMillicoreSeconds).To(Equal("0"), "the CostReport got the period's end")

	// The next meter starts a minute later, within the persist interval of the status.
	clk.Step(time.Minute)
	second := New(k8sClient, Options{Clock: clk})
	g.Expect(second.Pass(ctx)).To(Succeed())
	for period, cpu := range map[string]int{"2027-08": 1000 * 4 * 60, "2027-09": 1000 * 60} {
		report := &coopv1.CostReport{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: period}, report)).To(Succeed())
		u := usageOf(report, "kappa")
		g.Expect(u).NotTo(BeNil(), period)
		g.Expect(u.CPUMillicoreSeconds).To(Equal(strconv.Itoa(cpu)), period)
	}

	// A third meter finds the CostReports in step and waits the interval again.
	coop, _ = getPeriod(g, "kappa", "2027-09")
	written := coop.ResourceVersion
	clk.Step(time.Minute)
	third := New(k8sClient, Options{Clock: clk})
	g.Expect(third.Pass(ctx)).To(Succeed())
	coop, _ = getPeriod(g, "kappa", "2027-09")
	g.Expect(coop.ResourceVersion).To(Equal(written), "a restart with the CostReports in step wrote the status at once")
}

// TestMeteringRetriesAFailedCostReportWrite: when the CostReport write at a period's end
// fails (the co-op's status got the period's final totals), the same meter writes the
// report at its next pass, although no co-op is due and the period has ended.
func TestMeteringRetriesAFailedCostReportWrite(t *testing.T) {
	g := NewWithT(t)
	cleanup(t)
	ctx := context.Background()
	createCooperative(t, "nu")
	createRunningPod(t, "coop-nu", "n1", "1", "1Gi")

	c, reportsFail := failingReports(t)

	clk := clocktesting.NewFakeClock(at("2027-10-31T23:58:00Z"))
	m := New(c, Options{Clock: clk})
	g.Expect(m.Pass(ctx)).To(Succeed()) // baseline, written
	clk.Step(time.Minute)
	g.Expect(m.Pass(ctx)).To(Succeed()) // not due: 23:59
	clk.Step(time.Minute)
	reportsFail.Store(true)
	g.Expect(m.Pass(ctx)).NotTo(Succeed()) // midnight: the status only
	// The writes go on failing for a while; the co-op is due at every pass (a deleted one
	// would be too). What waits to be written stays one entry per co-op and period.
	m.PersistInterval = time.Minute
	for range 5 {
		clk.Step(time.Minute)
		g.Expect(m.Pass(ctx)).NotTo(Succeed())
	}
	g.Expect(m.unwritten).To(HaveLen(2))
	for period := range m.unwritten {
		g.Expect(m.reports[period]).To(HaveLen(1), period)
	}
	reportsFail.Store(false)

	clk.Step(time.Minute)
	g.Expect(m.Pass(ctx)).To(Succeed())
	g.Expect(m.unwritten).To(BeEmpty())
	for period, cpu := range map[string]int{"2027-10": 1000 * 2 * 60, "2027-11": 1000 * 6 * 60} {
		report := &coopv1.CostReport{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: period}, report)).To(Succeed())
		u := usageOf(report, "nu")
		g.Expect(u).NotTo(BeNil(), period)
		g.Expect(u.CPUMillicoreSeconds).To(Equal(strconv.Itoa(cpu)), period)
	}
}

// TestAReportIsFinalOnlyOnceMeteredThroughItsEnd: the CostReport controller finalizes a
// period's report only once the metering has recorded every co-op's final totals of it
// (status.meteredThrough), not on the clock alone. A metering whose CostReport writes
// fail across the period's end (or that was down then) holds the report open past the
// finalization delay until it has caught up, and the final report holds the co-op's last
// totals.
func TestAReportIsFinalOnlyOnceMeteredThroughItsEnd(t *testing.T) {
	g := NewWithT(t)
	cleanup(t)
	ctx := context.Background()
	createCooperative(t, "xi")
	createRunningPod(t, "coop-xi", "x1", "1", "1Gi")

	c, reportsFail := failingReports(t)
	clk := clocktesting.NewFakeClock(at("2027-12-31T23:58:00Z"))
	m := New(c, Options{Clock: clk})
	reports := &costreport.Reconciler{Client: k8sClient, Clock: clk, FinalizeDelay: 15 * time.Minute}
	december := func() *coopv1.CostReport {
		t.Helper()
		if _, err := reports.Reconcile(ctx, reconcile.Request{NamespacedName: client.ObjectKey{Name: "2027-12"}}); err != nil {
			t.Fatal(err)
		}
		r := &coopv1.CostReport{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "2027-12"}, r)).To(Succeed())
		return r
	}
	g.Expect(m.Pass(ctx)).To(Succeed()) // baseline, written
	g.Expect(december().Status.MeteredThrough).To(BeNil(), "metered through before the period's end")

	clk.Step(2 * time.Minute)
	reportsFail.Store(true)
	g.Expect(m.Pass(ctx)).NotTo(Succeed()) // midnight: the status only
	clk.Step(20 * time.Minute)
	g.Expect(m.Pass(ctx)).NotTo(Succeed()) // still failing, past the finalization delay
	r := december()
	g.Expect(r.Spec.Final).To(BeFalse(), "finalized before the metering recorded the period's end")
	g.Expect(r.Status.MeteredThrough).To(BeNil())
	g.Expect(meta.IsStatusConditionTrue(r.Status.Conditions, coopv1.ConditionBillLate)).To(BeTrue(), "past the moment, without a bill, while the metering is behind")
	g.Expect(usageOf(r, "xi").CPUMillicoreSeconds).To(Equal("0"))

	reportsFail.Store(false)
	clk.Step(time.Minute)
	g.Expect(m.Pass(ctx)).To(Succeed())
	r = december()
	g.Expect(r.Status.MeteredThrough).NotTo(BeNil())
	g.Expect(r.Status.MeteredThrough.Time).To(BeTemporally("==", at("2028-01-01T00:21:00Z")))
	g.Expect(r.Spec.Final).To(BeFalse(), "frozen with an empty bill: the month settled at zero")
	g.Expect(meta.FindStatusCondition(r.Status.Conditions, coopv1.ConditionReady).Message).To(ContainSubstring("not frozen after its period until the hub enters the bill"))

	g.Expect(meta.IsStatusConditionTrue(r.Status.Conditions, coopv1.ConditionBillLate)).To(BeTrue(), "the bill is late: the hub freezes it")

	// The hub enters its invoices one by one after the month (and corrects one): nothing
	// freezes the report under it.
	for _, lines := range [][]coopv1.BillLine{
		{{Description: "servers", Amount: "4125.00", Pool: coopv1.PoolCompute}},
		{{Description: "servers", Amount: "412.50", Pool: coopv1.PoolCompute}},
		{{Description: "servers", Amount: "412.50", Pool: coopv1.PoolCompute}, {Description: "volumes", Amount: "38.00", Pool: coopv1.PoolStorage}},
	} {
		orig := r.DeepCopy()
		r.Spec.Currency, r.Spec.Lines = "EUR", lines
		g.Expect(k8sClient.Patch(ctx, r, client.MergeFrom(orig))).To(Succeed())
		r = december()
		g.Expect(r.Spec.Final).To(BeFalse(), "frozen under the hub while it entered a late bill")
	}
	// The hub freezes it.
	orig := r.DeepCopy()
	r.Spec.Final = true
	g.Expect(k8sClient.Patch(ctx, r, client.MergeFrom(orig))).To(Succeed())
	r = december()
	g.Expect(r.Status.Phase).To(Equal(coopv1.CostReportFinal))
	g.Expect(r.Status.Total).To(Equal("450.50"))
	g.Expect(meta.FindStatusCondition(r.Status.Conditions, coopv1.ConditionBillLate)).To(BeNil())
	g.Expect(usageOf(r, "xi").CPUMillicoreSeconds).To(Equal(strconv.Itoa(1000 * 2 * 60)))
	january := &coopv1.CostReport{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "2028-01"}, january)).To(Succeed())
	g.Expect(january.Status.MeteredThrough).To(BeNil(), "the open period marked")

	// The marker stays through the metering's later writes of the report (none is due
	// here; the next pass finds nothing to mark).
	clk.Step(time.Minute)
	g.Expect(m.Pass(ctx)).To(Succeed())
	g.Expect(december().Status.MeteredThrough).NotTo(BeNil())
}

// TestAReportThatCannotBeSplitAsWrittenIsNotFrozen: a bill entered in time whose policy
// names, for a discount, a co-op that was not metered (a typo) is not frozen at the month's
// end with the discount going to no one: Ready says why, and the report is the hub's to
// freeze once it has fixed it (BillLate), not frozen by the fix itself.
func TestAReportThatCannotBeSplitAsWrittenIsNotFrozen(t *testing.T) {
	g := NewWithT(t)
	cleanup(t)
	ctx := context.Background()
	createCooperative(t, "chi")
	createRunningPod(t, "coop-chi", "c1", "1", "1Gi")
	clk := clocktesting.NewFakeClock(at("2028-02-29T23:58:00Z"))
	m := New(k8sClient, Options{Clock: clk})
	reports := &costreport.Reconciler{Client: k8sClient, Clock: clk, FinalizeDelay: 15 * time.Minute}
	february := func() *coopv1.CostReport {
		t.Helper()
		if _, err := reports.Reconcile(ctx, reconcile.Request{NamespacedName: client.ObjectKey{Name: "2028-02"}}); err != nil {
			t.Fatal(err)
		}
		r := &coopv1.CostReport{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "2028-02"}, r)).To(Succeed())
		return r
	}
	g.Expect(m.Pass(ctx)).To(Succeed())
	r := february()
	orig := r.DeepCopy()
	r.Spec.Currency = "EUR"
	r.Spec.Lines = []coopv1.BillLine{{Description: "servers", Amount: "100.00", Pool: coopv1.PoolCompute}}
	r.Spec.Policy.Adjustments = []coopv1.Adjustment{{Cooperative: "chii", DiscountPercent: 50}}
	g.Expect(k8sClient.Patch(ctx, r, client.MergeFrom(orig))).To(Succeed())

	clk.Step(20 * time.Minute) // past the month's end and the delay
	g.Expect(m.Pass(ctx)).To(Succeed())
	r = february()
	g.Expect(r.Status.MeteredThrough).NotTo(BeNil())
	g.Expect(r.Spec.Final).To(BeFalse(), "frozen with a discount that goes to no one")
	ready := meta.FindStatusCondition(r.Status.Conditions, coopv1.ConditionReady)
	g.Expect(ready.Reason).To(Equal(coopv1.ReasonUnknownCooperative))
	g.Expect(ready.Message).To(ContainSubstring(`spec.policy.adjustments[0].cooperative: "chii"`))

	g.Expect(meta.IsStatusConditionTrue(r.Status.Conditions, coopv1.ConditionBillLate)).To(BeTrue(), "fixed after the month: the hub's to freeze")

	// The fix does not freeze it under the hub (a second correction may follow); the hub does.
	orig = r.DeepCopy()
	r.Spec.Policy.Adjustments[0].Cooperative = "chi"
	g.Expect(k8sClient.Patch(ctx, r, client.MergeFrom(orig))).To(Succeed())
	r = february()
	g.Expect(r.Spec.Final).To(BeFalse(), "frozen by its first valid edit after the month")
	g.Expect(meta.IsStatusConditionTrue(r.Status.Conditions, coopv1.ConditionReady)).To(BeTrue())
	orig = r.DeepCopy()
	r.Spec.Final = true
	g.Expect(k8sClient.Patch(ctx, r, client.MergeFrom(orig))).To(Succeed())
	g.Expect(february().Status.Phase).To(Equal(coopv1.CostReportFinal))
}

// TestAReportWhoseWritesFailedForAMonthIsWrittenAgainBeforeItIsMarked: CostReport writes
// that fail for over a month drop the first month's waiting entries (only the current and
// the previous period are kept). Once writes work again, the meter finds that month's
// report short of the co-op's final totals: it writes them again from the ledger and marks
// the report metered through its end only at the next pass, so the report is not
// finalized with the totals it lost.
func TestAReportWhoseWritesFailedForAMonthIsWrittenAgainBeforeItIsMarked(t *testing.T) {
	g := NewWithT(t)
	cleanup(t)
	ctx := context.Background()
	createCooperative(t, "pi")
	createRunningPod(t, "coop-pi", "p1", "1", "1Gi")

	c, reportsFail := failingReports(t)
	clk := clocktesting.NewFakeClock(at("2027-12-31T23:58:00Z"))
	m := New(c, Options{Clock: clk})
	report := func(name string) *coopv1.CostReport {
		t.Helper()
		r := &coopv1.CostReport{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: name}, r)).To(Succeed())
		return r
	}
	g.Expect(m.Pass(ctx)).To(Succeed()) // baseline, written
	reportsFail.Store(true)
	clk.Step(2 * time.Minute)
	g.Expect(m.Pass(ctx)).NotTo(Succeed()) // midnight: December's end, the status only
	clk.Step(32 * 24 * time.Hour)
	g.Expect(m.Pass(ctx)).NotTo(Succeed()) // February: December's entries are dropped
	g.Expect(m.unwritten).NotTo(HaveKey("2027-12"))

	reportsFail.Store(false)
	clk.Step(time.Minute)
	g.Expect(m.Pass(ctx)).To(Succeed())
	december := report("2027-12")
	g.Expect(usageOf(december, "pi").CPUMillicoreSeconds).To(Equal(strconv.Itoa(1000*2*60)), "December's final totals written again")
	g.Expect(december.Status.MeteredThrough).To(BeNil(), "marked in the pass that found it short")
	g.Expect(report("2028-01").Status.MeteredThrough).NotTo(BeNil(), "January, which the pass wrote whole, is marked")

	clk.Step(time.Minute)
	g.Expect(m.Pass(ctx)).To(Succeed())
	g.Expect(report("2027-12").Status.MeteredThrough).NotTo(BeNil())
	g.Expect(report("2028-02").Status.MeteredThrough).To(BeNil(), "the open period marked")
}

// TestMetricsAPINotServed: envtest serves no metrics.k8s.io, so the meter counts requests
// alone (the month test runs that path end to end).
func TestMetricsAPINotServed(t *testing.T) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := &MetricsAPI{Discovery: dc, Reader: k8sClient, Clock: clocktesting.NewFakeClock(time.Now()), RecheckInterval: time.Minute}
	if m.Available(context.Background()) {
		t.Error("metrics.k8s.io reported as served by envtest")
	}
}

// TestFinalReportRefusesEdits: the API server itself refuses, with a clear message, any
// change to a final report's bill or policy, and unsetting final; an open report is editable.
func TestFinalReportRefusesEdits(t *testing.T) {
	g := NewWithT(t)
	cleanup(t)
	ctx := context.Background()
	start, end, _ := ParsePeriod("2026-09")
	r := &coopv1.CostReport{
		ObjectMeta: metav1.ObjectMeta{Name: "2026-09"},
		Spec: coopv1.CostReportSpec{
			Period:   coopv1.Period{Start: metav1.NewTime(start), End: metav1.NewTime(end)},
			Currency: "EUR",
			Lines:    []coopv1.BillLine{{Description: "servers", Amount: "412.50", Pool: coopv1.PoolCompute}},
		},
	}
	g.Expect(k8sClient.Create(ctx, r)).To(Succeed())

	patch := func(mutate func(r *coopv1.CostReport)) error {
		cur := &coopv1.CostReport{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "2026-09"}, cur)).To(Succeed())
		orig := cur.DeepCopy()
		mutate(cur)
		return k8sClient.Patch(ctx, cur, client.MergeFrom(orig))
	}
	g.Expect(patch(func(r *coopv1.CostReport) { r.Spec.Lines[0].Amount = "400.00" })).To(Succeed(), "an open report is editable")
	g.Expect(patch(func(r *coopv1.CostReport) { r.Spec.Final = true })).To(Succeed())

	for name, mutate := range map[string]func(r *coopv1.CostReport){
		"amount":   func(r *coopv1.CostReport) { r.Spec.Lines[0].Amount = "1.00" },
		"line":     func(r *coopv1.CostReport) { r.Spec.Lines = append(r.Spec.Lines, r.Spec.Lines[0]) },
		"policy":   func(r *coopv1.CostReport) { r.Spec.Policy.MinimumAmount = "5.00" },
		"currency": func(r *coopv1.CostReport) { r.Spec.Currency = "USD" },
		"unfinal":  func(r *coopv1.CostReport) { r.Spec.Final = false },
	} {
		err := patch(mutate)
		g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%s: %v", name, err)
		g.Expect(err.Error()).To(ContainSubstring("the CostReport is final: its period, currency, bill lines and policy can no longer change"), name)
	}

	bad := &coopv1.CostReport{ObjectMeta: metav1.ObjectMeta{Name: "november"}, Spec: r.Spec}
	err := k8sClient.Create(ctx, bad)
	g.Expect(err).To(MatchError(ContainSubstring("metadata.name must be the period as YYYY-MM")))
	bad = &coopv1.CostReport{ObjectMeta: metav1.ObjectMeta{Name: "2026-08"}, Spec: r.Spec}
	bad.Spec.Period.Start, bad.Spec.Period.End = metav1.NewTime(at("2026-08-01T00:00:00Z")), metav1.NewTime(at("2026-09-01T00:00:00Z"))
	bad.Spec.Lines = []coopv1.BillLine{{Description: "x", Amount: "12,50", Pool: coopv1.PoolCompute}}
	g.Expect(k8sClient.Create(ctx, bad)).To(MatchError(ContainSubstring("spec.lines[0].amount")))

	// The period is the month the name gives: a report whose period ends a day early
	// would be finalized a day early, the metering dropping the month's last day.
	for _, period := range [][2]string{
		{"2026-08-01T00:00:00Z", "2026-08-31T00:00:00Z"}, // a day short
		{"2026-07-01T00:00:00Z", "2026-08-01T00:00:00Z"}, // the month before
		{"2026-08-01T00:00:00Z", "2026-10-01T00:00:00Z"}, // two months
		{"2026-08-01T02:00:00Z", "2026-09-01T02:00:00Z"}, // not in UTC
	} {
		bad := &coopv1.CostReport{ObjectMeta: metav1.ObjectMeta{Name: "2026-08"}, Spec: r.Spec}
		bad.Spec.Period.Start, bad.Spec.Period.End = metav1.NewTime(at(period[0])), metav1.NewTime(at(period[1]))
		g.Expect(k8sClient.Create(ctx, bad)).To(MatchError(ContainSubstring("spec.period must be the month the name gives")), "%v", period)
	}
	// February has 28 days, or 29.
	for _, month := range []string{"2027-02", "2028-02", "2026-12"} {
		start, end, _ := ParsePeriod(month)
		ok := &coopv1.CostReport{ObjectMeta: metav1.ObjectMeta{Name: month}, Spec: r.Spec}
		ok.Spec.Period.Start, ok.Spec.Period.End = metav1.NewTime(start), metav1.NewTime(end)
		g.Expect(k8sClient.Create(ctx, ok)).To(Succeed(), month)
	}
}

// TestMeteringADeletedCooperativeUntilItsNamespaceIsEmpty: the Cooperative goes as soon as
// the reconciler has issued the deletion of its namespace, whose pods and volumes go after.
// The meter keeps sampling the namespace, charges what it still holds and records it in the
// CostReport (here at each pass: the persist interval is the sampling interval), writes
// nothing to the gone Cooperative, and drops the co-op once the namespace holds nothing.
func TestMeteringADeletedCooperativeUntilItsNamespaceIsEmpty(t *testing.T) {
	g := NewWithT(t)
	cleanup(t)
	ctx := context.Background()
	createCooperative(t, "lambda")
	pod := createRunningPod(t, "coop-lambda", "l1", "1", "1Gi")
	pvc := createBoundPVC(t, "coop-lambda", "data", "10Gi")

	clk := clocktesting.NewFakeClock(at("2027-08-10T00:00:00Z"))
	// Reads the API server directly: no cache lag.
	m := New(k8sClient, Options{Clock: clk, PersistInterval: time.Minute})
	g.Expect(m.Pass(ctx)).To(Succeed()) // baseline
	clk.Step(time.Minute)
	g.Expect(m.Pass(ctx)).To(Succeed())
	want := newExpected()
	want.add(1000, gi, 10*gi, 60)

	reported := func() *coopv1.CooperativeUsage {
		report := &coopv1.CostReport{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "2027-08"}, report)).To(Succeed())
		u := usageOf(report, "lambda")
		g.Expect(u).NotTo(BeNil())
		return u
	}
	expectReported := func(w *expected, lastSample time.Time) {
		t.Helper()
		u := reported()
		g.Expect([]string{u.CPUMillicoreSeconds, u.MemoryByteSeconds, u.StorageByteSeconds}).To(Equal(
			[]string{w.cpu.String(), w.mem.String(), w.storage.String()}))
		g.Expect(u.LastSampleTime.Time).To(BeTemporally("==", lastSample))
		g.Expect(u.EstimatedSeconds).To(BeZero())
	}

	// The Cooperative is deleted; the namespace's deletion was issued, its contents remain.
	// envtest runs no namespace controller, so the test deletes them itself further down,
	// as that controller would.
	g.Expect(k8sClient.Delete(ctx, &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "lambda"}})).To(Succeed())

	// Each pass charges what the namespace holds and records it, without writing to the
	// gone Cooperative (a write would fail and fail the pass).
	clk.Step(time.Minute)
	g.Expect(m.Pass(ctx)).To(Succeed())
	want.add(1000, gi, 10*gi, 60)
	expectReported(want, clk.Now())

	g.Expect(k8sClient.Delete(ctx, pod, client.GracePeriodSeconds(0))).To(Succeed())
	clk.Step(time.Minute)
	g.Expect(m.Pass(ctx)).To(Succeed())
	want.add(0, 0, 10*gi, 60) // the volume alone
	expectReported(want, clk.Now())

	g.Expect(k8sClient.Delete(ctx, pvc)).To(Succeed())
	removeFinalizers(t, pvc) // the protection controller would, once no pod uses the claim
	clk.Step(time.Minute)
	g.Expect(m.Pass(ctx)).To(Succeed())
	empty := clk.Now() // the sample that found the namespace empty: nothing more to charge
	expectReported(want, empty)

	// The co-op is dropped: later passes neither charge nor record it.
	m.mu.Lock()
	g.Expect(m.coops).NotTo(HaveKey("lambda"))
	m.mu.Unlock()
	clk.Step(time.Minute)
	g.Expect(m.Pass(ctx)).To(Succeed())
	g.Expect(m.Flush(ctx)).To(Succeed())
	expectReported(want, empty)
}

// TestADeletedCooperativeIsNotBilledForTheNextMonth: a co-op deleted just before the end of
// a month, whose namespace the first sample of the next month finds empty, has no line in
// the next month's CostReport. A line of zero usage would still take its part of an even
// split of the shared costs, and the bill's floor, for a month it never ran in; the other
// co-ops would pay that much less.
func TestADeletedCooperativeIsNotBilledForTheNextMonth(t *testing.T) {
	g := NewWithT(t)
	cleanup(t)
	ctx := context.Background()
	createCooperative(t, "mu")
	pod := createRunningPod(t, "coop-mu", "m1", "1", "1Gi")

	clk := clocktesting.NewFakeClock(at("2027-08-31T23:58:00Z"))
	m := New(k8sClient, Options{Clock: clk, PersistInterval: time.Minute})
	g.Expect(m.Pass(ctx)).To(Succeed()) // baseline
	clk.Step(time.Minute)
	g.Expect(m.Pass(ctx)).To(Succeed())

	g.Expect(k8sClient.Delete(ctx, &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "mu"}})).To(Succeed())
	g.Expect(k8sClient.Delete(ctx, pod, client.GracePeriodSeconds(0))).To(Succeed())
	clk.Step(90 * time.Second) // 00:00:30 of September: the namespace is empty
	g.Expect(m.Pass(ctx)).To(Succeed())
	g.Expect(m.Flush(ctx)).To(Succeed())

	august := &coopv1.CostReport{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "2027-08"}, august)).To(Succeed())
	g.Expect(usageOf(august, "mu")).NotTo(BeNil(), "August, which it ran in, carries it")
	september := &coopv1.CostReport{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: "2027-09"}, september); err == nil {
		g.Expect(usageOf(september, "mu")).To(BeNil(), "September, which it never ran in, does not")
	} else {
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "got %v", err)
	}
	m.mu.Lock()
	g.Expect(m.coops).NotTo(HaveKey("mu"))
	m.mu.Unlock()

	// A co-op whose deletion waits (its final backup, the emptying of its prefix of the
	// object store) across the turn of the month, with nothing running: no line in the
	// month it ran into either. Another co-op runs a pod across the turn, so that October's
	// report exists and holds the line of a co-op that did run in it.
	rho := createCooperative(t, "rho-held")
	rho.Finalizers = []string{"test.cooperator.dev/hold"}
	g.Expect(k8sClient.Update(ctx, rho)).To(Succeed())
	createCooperative(t, "sigma-runs")
	createRunningPod(t, "coop-sigma-runs", "s1", "1", "1Gi")
	clk.SetTime(at("2027-09-30T23:58:00Z"))
	g.Expect(m.Pass(ctx)).To(Succeed()) // the first sample of both: September
	g.Expect(k8sClient.Delete(ctx, rho)).To(Succeed())
	clk.Step(3 * time.Minute) // 00:01 of October, the Cooperative still there
	g.Expect(m.Pass(ctx)).To(Succeed())
	g.Expect(m.Flush(ctx)).To(Succeed())
	october := &coopv1.CostReport{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "2027-10"}, october)).To(Succeed())
	g.Expect(usageOf(october, "rho-held")).To(BeNil(), "October, which its deletion ran into with nothing running, does not carry it")
	sigma := usageOf(october, "sigma-runs")
	g.Expect(sigma).NotTo(BeNil(), "October carries the co-op that ran in it")
	g.Expect(sigma.CPUMillicoreSeconds).To(Equal(strconv.Itoa(1000*60)), "its minute of October at one core")
	g.Expect(sigma.MemoryByteSeconds).To(Equal(strconv.FormatInt(gi*60, 10)), "its minute of October with 1 GiB")
	removeFinalizers(t, rho)
}

// TestADeletingCooperativeIsWrittenAtTheBoundedRate: a co-op whose deletion waits (a final
// backup that keeps failing, a finalizer) has its status and its line in the CostReport
// written every persist interval, as any co-op, not at every pass; so has a co-op gone
// whose namespace still holds pods or volumes. The sample that finds the namespace empty,
// the co-op's last, is recorded at once: nothing charged since the last write is lost.
func TestADeletingCooperativeIsWrittenAtTheBoundedRate(t *testing.T) {
	g := NewWithT(t)
	cleanup(t)
	ctx := context.Background()
	coop := newCooperative("omega")
	coop.Finalizers = []string{"test.cooperator.dev/hold"} // the operator's, while it waits
	g.Expect(k8sClient.Create(ctx, coop)).To(Succeed())
	g.Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "coop-omega"}})).To(Succeed())
	pod := createRunningPod(t, "coop-omega", "o1", "1", "1Gi")
	pvc := createBoundPVC(t, "coop-omega", "data", "10Gi")

	start := at("2027-09-10T00:00:00Z")
	clk := clocktesting.NewFakeClock(start)
	m := New(k8sClient, Options{Clock: clk}) // 60s and 5m; reads the API server directly
	g.Expect(m.Pass(ctx)).To(Succeed())      // baseline, written
	g.Expect(k8sClient.Delete(ctx, coop)).To(Succeed())
	want := newExpected()

	status := func() *coopv1.Cooperative {
		c := &coopv1.Cooperative{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "omega"}, c)).To(Succeed())
		g.Expect(c.DeletionTimestamp).NotTo(BeNil())
		return c
	}
	report := func() *coopv1.CostReport {
		r := &coopv1.CostReport{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "2027-09"}, r)).To(Succeed())
		return r
	}
	expectReported := func(lastSample time.Time) {
		t.Helper()
		u := usageOf(report(), "omega")
		g.Expect(u).NotTo(BeNil())
		g.Expect([]string{u.CPUMillicoreSeconds, u.MemoryByteSeconds, u.StorageByteSeconds}).To(Equal(
			[]string{want.cpu.String(), want.mem.String(), want.storage.String()}))
		g.Expect(u.LastSampleTime.Time).To(BeTemporally("==", lastSample))
		g.Expect(u.EstimatedSeconds).To(BeZero())
	}

	// Deleting: the passes within the persist interval write neither the status nor the report.
	coopVersion, reportVersion := status().ResourceVersion, report().ResourceVersion
	for i := range 4 {
		clk.Step(time.Minute)
		g.Expect(m.Pass(ctx)).To(Succeed())
		want.add(1000, gi, 10*gi, 60)
		g.Expect(status().ResourceVersion).To(Equal(coopVersion), "pass %d of the deletion wrote the Cooperative", i+1)
		g.Expect(report().ResourceVersion).To(Equal(reportVersion), "pass %d of the deletion wrote the CostReport", i+1)
	}
	// Five minutes after the last write, both are written.
	clk.Step(time.Minute)
	g.Expect(m.Pass(ctx)).To(Succeed())
	want.add(1000, gi, 10*gi, 60)
	written := clk.Now()
	g.Expect(status().Status.Usage.LastSampleTime.Time).To(BeTemporally("==", written))
	expectReported(written)

	// Gone, its namespace still holding the pod and the volume: the same rate.
	removeFinalizers(t, coop)
	g.Expect(apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Name: "omega"}, &coopv1.Cooperative{}))).To(BeTrue())
	reportVersion = report().ResourceVersion
	for i := range 2 {
		clk.Step(time.Minute)
		g.Expect(m.Pass(ctx)).To(Succeed())
		want.add(1000, gi, 10*gi, 60)
		g.Expect(report().ResourceVersion).To(Equal(reportVersion), "pass %d after the Cooperative went wrote the CostReport", i+1)
	}

	// The namespace empties: its last sample is recorded at once, two minutes after the
	// last write, with everything charged since.
	g.Expect(k8sClient.Delete(ctx, pod, client.GracePeriodSeconds(0))).To(Succeed())
	g.Expect(k8sClient.Delete(ctx, pvc)).To(Succeed())
	removeFinalizers(t, pvc)
	clk.Step(time.Minute)
	g.Expect(m.Pass(ctx)).To(Succeed()) // the minute up to this sample is charged at nothing
	empty := clk.Now()
	g.Expect(empty.Sub(written)).To(BeNumerically("<", DefaultPersistInterval))
	expectReported(empty)
	g.Expect(want.cpu.String()).To(Equal(strconv.Itoa(1000 * 7 * 60)))
	m.mu.Lock()
	g.Expect(m.coops).NotTo(HaveKey("omega"))
	m.mu.Unlock()
	g.Expect(m.Flush(ctx)).To(Succeed())
	expectReported(empty)
}

// removeFinalizers clears an object's finalizers, as their controllers would (envtest runs
// none), so that its deletion completes.
func removeFinalizers(t *testing.T, obj client.Object) {
	t.Helper()
	ctx := context.Background()
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj); apierrors.IsNotFound(err) {
		return
	} else if err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	obj.SetFinalizers(nil)
	if err := k8sClient.Patch(ctx, obj, patch); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
}

// TestACooperativeCreatedAgainUnderItsNamePaysForTheWholeMonth: a co-op deleted and created
// again under the same name within a month, while the meter runs, starts from the totals
// its name already has: here those of the meter's last entry, which a failed CostReport
// write left in memory only. Without that, its first write replaced the name's line with
// its own, smaller, totals, and the other co-ops paid for what the first one used. The fake
// clock starts before the API server's real time, so that the second co-op's creation lies
// after the meter's start, as it does on a hub.
func TestACooperativeCreatedAgainUnderItsNamePaysForTheWholeMonth(t *testing.T) {
	g := NewWithT(t)
	cleanup(t)
	ctx := context.Background()
	createCooperative(t, "rho")
	first := createRunningPod(t, "coop-rho", "r1", "1", "1Gi")

	c, failing := failingReports(t)
	clk := clocktesting.NewFakeClock(time.Now().UTC().Truncate(time.Second).Add(-10 * time.Minute))
	m := New(c, Options{Clock: clk})    // reads the API server directly: no cache lag
	g.Expect(m.Pass(ctx)).To(Succeed()) // baseline
	clk.Step(time.Minute)
	g.Expect(m.Pass(ctx)).To(Succeed())
	want := newExpected()
	want.add(1000, gi, 0, 60)

	// The first co-op goes with its pod; the pass that finds its namespace empty drops it,
	// and its write of the co-op's last totals to the CostReport fails.
	g.Expect(k8sClient.Delete(ctx, &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "rho"}})).To(Succeed())
	g.Expect(k8sClient.Delete(ctx, first, client.GracePeriodSeconds(0))).To(Succeed())
	failing.Store(true)
	clk.Step(time.Minute)
	g.Expect(m.Pass(ctx)).NotTo(Succeed())
	m.mu.Lock()
	g.Expect(m.coops).NotTo(HaveKey("rho"))
	m.mu.Unlock()
	failing.Store(false)

	// Created again, with a larger pod, and metered for two minutes from its creation.
	coop := createCooperative(t, "rho")
	createRunningPod(t, "coop-rho", "r2", "2", "1Gi")
	clk.SetTime(coop.CreationTimestamp.UTC().Add(time.Minute))
	g.Expect(m.Pass(ctx)).To(Succeed())
	clk.Step(time.Minute)
	g.Expect(m.Pass(ctx)).To(Succeed())
	g.Expect(m.Flush(ctx)).To(Succeed())
	want.add(2000, gi, 0, 120)

	// Added up over the periods, should the test run across the end of a month.
	lines, status := newExpected(), newExpected()
	got := &coopv1.Cooperative{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "rho"}, got)).To(Succeed())
	for _, p := range got.Status.Usage.Periods {
		report := &coopv1.CostReport{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: p.Period}, report)).To(Succeed())
		u := usageOf(report, "rho")
		g.Expect(u).NotTo(BeNil(), p.Period)
		for _, add := range []struct {
			sum       *expected
			cpu, mem  string
			estimated int64
		}{{lines, u.CPUMillicoreSeconds, u.MemoryByteSeconds, u.EstimatedSeconds}, {status, p.CPUMillicoreSeconds, p.MemoryByteSeconds, p.EstimatedSeconds}} {
			cpu, _ := new(big.Int).SetString(add.cpu, 10)
			mem, _ := new(big.Int).SetString(add.mem, 10)
			add.sum.cpu.Add(add.sum.cpu, cpu)
			add.sum.mem.Add(add.sum.mem, mem)
			g.Expect(add.estimated).To(BeZero())
		}
	}
	g.Expect([]string{lines.cpu.String(), lines.mem.String()}).To(Equal([]string{want.cpu.String(), want.mem.String()}))
	// The co-op's own status says the same as its line.
	g.Expect([]string{status.cpu.String(), status.mem.String()}).To(Equal([]string{want.cpu.String(), want.mem.String()}))
}

// TestACooperativeCreatedAgainWhileNoMeterRan: a co-op created again under its name while
// no meter ran (before its start, here) starts from its name's line, at the line's last
// sample, and the interval from there is estimated, as a restart's gap is: its namespace,
// which it shares with the co-op before it, may have held something then. Without it, the
// line was replaced by the new co-op's totals.
func TestACooperativeCreatedAgainWhileNoMeterRan(t *testing.T) {
	g := NewWithT(t)
	cleanup(t)
	ctx := context.Background()
	createCooperative(t, "upsilon")
	first := createRunningPod(t, "coop-upsilon", "u1", "1", "1Gi")

	clk := clocktesting.NewFakeClock(at("2027-11-10T00:00:00Z"))
	m1 := New(k8sClient, Options{Clock: clk})
	g.Expect(m1.Pass(ctx)).To(Succeed()) // baseline
	clk.Step(time.Minute)
	g.Expect(m1.Pass(ctx)).To(Succeed())
	g.Expect(k8sClient.Delete(ctx, &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "upsilon"}})).To(Succeed())
	g.Expect(k8sClient.Delete(ctx, first, client.GracePeriodSeconds(0))).To(Succeed())
	clk.Step(time.Minute)
	g.Expect(m1.Pass(ctx)).To(Succeed()) // drops it at 00:02, its line written
	want := newExpected()
	want.add(1000, gi, 0, 60)

	// The first meter stops. The co-op is created again; the next meter starts at 00:05.
	createCooperative(t, "upsilon")
	createRunningPod(t, "coop-upsilon", "u2", "2", "1Gi")
	clk.Step(3 * time.Minute)
	m2 := New(k8sClient, Options{Clock: clk})
	g.Expect(m2.Pass(ctx)).To(Succeed())
	want.add(2000, gi, 0, 180) // from the line's last sample, estimated
	clk.Step(time.Minute)
	g.Expect(m2.Pass(ctx)).To(Succeed())
	g.Expect(m2.Flush(ctx)).To(Succeed())
	want.add(2000, gi, 0, 60)

	report := &coopv1.CostReport{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "2027-11"}, report)).To(Succeed())
	u := usageOf(report, "upsilon")
	g.Expect(u).NotTo(BeNil())
	g.Expect(*u).To(And(
		HaveField("CPUMillicoreSeconds", want.cpu.String()),
		HaveField("MemoryByteSeconds", want.mem.String()),
		HaveField("EstimatedSeconds", int64(180)),
	))
	_, p := getPeriod(g, "upsilon", "2027-11")
	g.Expect(p.CPUMillicoreSeconds).To(Equal(want.cpu.String()))
}

// TestACooperativeWhoseReportCannotBeReadIsNotStartedFromNothing: a co-op without usage in
// its status whose month's CostReport cannot be read is not metered from zero (its first
// write would replace its name's line): the pass fails for it, and the next pass, which
// reads the report, starts it from the line.
func TestACooperativeWhoseReportCannotBeReadIsNotStartedFromNothing(t *testing.T) {
	g := NewWithT(t)
	cleanup(t)
	ctx := context.Background()
	createCooperative(t, "phi")
	first := createRunningPod(t, "coop-phi", "f1", "1", "1Gi")
	clk := clocktesting.NewFakeClock(at("2027-12-10T00:00:00Z"))
	m1 := New(k8sClient, Options{Clock: clk})
	g.Expect(m1.Pass(ctx)).To(Succeed())
	clk.Step(time.Minute)
	g.Expect(m1.Pass(ctx)).To(Succeed())
	g.Expect(k8sClient.Delete(ctx, &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "phi"}})).To(Succeed())
	g.Expect(k8sClient.Delete(ctx, first, client.GracePeriodSeconds(0))).To(Succeed())
	clk.Step(time.Minute)
	g.Expect(m1.Pass(ctx)).To(Succeed()) // line at 60 CPU-seconds
	createCooperative(t, "phi")

	unreadable := &atomic.Bool{}
	unreadable.Store(true)
	base, err := client.NewWithWatch(cfg, client.Options{Scheme: k8sClient.Scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	c := interceptor.NewClient(base, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if _, ok := obj.(*coopv1.CostReport); ok && unreadable.Load() {
				return apierrors.NewServiceUnavailable("refused by the test")
			}
			return c.Get(ctx, key, obj, opts...)
		},
	})
	m2 := New(c, Options{Clock: clk})
	g.Expect(m2.Pass(ctx)).To(MatchError(ContainSubstring("reading CostReport 2027-12 for the totals of co-op phi")))
	m2.mu.Lock()
	g.Expect(m2.coops).NotTo(HaveKey("phi"))
	m2.mu.Unlock()
	unreadable.Store(false)
	g.Expect(m2.Pass(ctx)).To(Succeed())
	report := &coopv1.CostReport{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "2027-12"}, report)).To(Succeed())
	g.Expect(usageOf(report, "phi")).To(HaveField("CPUMillicoreSeconds", "60000"))
}

// TestADeletedCooperativeHoldingAVolumeIsChargedAfterARestart: a co-op deleted while its
// namespace still holds a volume (whose finalizer is stuck, say) is charged by a meter that
// starts after the deletion, from its line in the CostReport on, until the namespace is
// empty. Without that, the meter before charged it from memory alone, and a restart stopped
// charging it. A deleted co-op whose namespace is empty is left as its line says.
func TestADeletedCooperativeHoldingAVolumeIsChargedAfterARestart(t *testing.T) {
	g := NewWithT(t)
	cleanup(t)
	ctx := context.Background()
	createCooperative(t, "sigma")
	pod := createRunningPod(t, "coop-sigma", "s1", "1", "1Gi")
	pvc := createBoundPVC(t, "coop-sigma", "data", "10Gi")
	createCooperative(t, "tau") // deleted with an empty namespace
	createRunningPod(t, "coop-tau", "t1", "1", "1Gi")

	clk := clocktesting.NewFakeClock(at("2027-10-10T00:00:00Z"))
	// Every pass writes (the persist interval is the sampling interval), the restart's too.
	first := New(k8sClient, Options{Clock: clk, PersistInterval: time.Minute})
	g.Expect(first.Pass(ctx)).To(Succeed()) // baseline
	g.Expect(k8sClient.Delete(ctx, &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "sigma"}})).To(Succeed())
	g.Expect(k8sClient.Delete(ctx, pod, client.GracePeriodSeconds(0))).To(Succeed())
	g.Expect(k8sClient.Delete(ctx, &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "tau"}})).To(Succeed())
	g.Expect(k8sClient.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "coop-tau", Name: "t1"}}, client.GracePeriodSeconds(0))).To(Succeed())
	clk.Step(time.Minute)
	g.Expect(first.Pass(ctx)).To(Succeed()) // both gone: sigma's volume held, tau dropped
	sigma, tau := newExpected(), newExpected()
	sigma.add(0, 0, 10*gi, 60)

	line := func(name string) coopv1.CooperativeUsage {
		report := &coopv1.CostReport{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "2027-10"}, report)).To(Succeed())
		u := usageOf(report, name)
		g.Expect(u).NotTo(BeNil())
		return *u
	}
	g.Expect(line("sigma").StorageByteSeconds).To(Equal(sigma.storage.String()))
	tauBefore := line("tau")
	g.Expect(tauBefore.StorageByteSeconds).To(Equal(tau.storage.String()))

	// The first meter stops; a new one starts 3 minutes later, the volume still held.
	clk.Step(3 * time.Minute)
	second := New(k8sClient, Options{Clock: clk, PersistInterval: time.Minute})
	g.Expect(second.Pass(ctx)).To(Succeed())
	sigma.add(0, 0, 10*gi, 180)
	g.Expect(line("sigma")).To(And(
		HaveField("StorageByteSeconds", sigma.storage.String()),
		HaveField("EstimatedSeconds", int64(180)), // the gap, at the rates seen at the restart
	))
	g.Expect(line("tau")).To(Equal(tauBefore))

	// Once the volume goes, the co-op is charged no more and dropped.
	g.Expect(k8sClient.Delete(ctx, pvc)).To(Succeed())
	removeFinalizers(t, pvc)
	clk.Step(time.Minute)
	g.Expect(second.Pass(ctx)).To(Succeed())
	second.mu.Lock()
	g.Expect(second.coops).NotTo(HaveKey("sigma"))
	second.mu.Unlock()
	// The minute up to the sample that found the namespace empty is charged at what it held
	// then: nothing.
	g.Expect(line("sigma").StorageByteSeconds).To(Equal(sigma.storage.String()))
	g.Expect(line("tau")).To(Equal(tauBefore))
}
