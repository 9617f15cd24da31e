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

package hubstatus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/cooperator-dev/cooperator/api/hubstatus"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/controllers/costreport"
	controller "github.com/cooperator-dev/cooperator/controllers/hubstatus"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/test/harness"
)

// eventually polls check every 100ms until it returns nil or 60s pass.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	var err error
	for end := time.Now().Add(60 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if err = check(); err == nil {
			return
		}
	}
	t.Fatalf("%s: %v", what, err)
}

// month is the document's month period; nil when it has none. (The metering's report of
// the current month is there too, with the amounts of an empty bill.)
func month(d *hubstatus.Document, period string) *hubstatus.Month {
	for i := range d.Hosting {
		if d.Hosting[i].Period == period {
			return &d.Hosting[i]
		}
	}
	return nil
}

// monthJSON is the document's month period in JSON.
func monthJSON(t *testing.T, d *hubstatus.Document, period string) string {
	t.Helper()
	b, err := json.Marshal(month(d, period))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// published reads the document the operator published in the co-op's namespace.
func published(ctx context.Context, c client.Client, coop string) (*hubstatus.Document, *corev1.ConfigMap, error) {
	cm := &corev1.ConfigMap{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: coopv1.NamespacePrefix + coop, Name: hubstatus.ConfigMapName}, cm); err != nil {
		return nil, nil, err
	}
	d, err := hubstatus.Parse([]byte(cm.Data[hubstatus.Key]))
	return d, cm, err
}

// runOperator seeds a hub on an embedded API server and runs the whole operator on it
// (every controller, as main.go does); stop stops the manager and returns once it has.
func runOperator(t *testing.T) (c client.Client, stop func()) {
	t.Helper()
	ctrl.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	env := harness.StartT(t, harness.Options{ProjectCRDs: true, Scheme: manager.Scheme()})
	ctx := t.Context()
	hub := hubconfig.Default()
	if err := harness.SeedHub(ctx, env.Client, &hub, "key", "secret"); err != nil {
		t.Fatal(err)
	}
	opts := manager.DefaultOptions()
	opts.Hub = hub
	opts.MetricsBindAddress, opts.HealthProbeBindAddress, opts.Webhooks = "0", "0", false
	opts.SkipControllerNameValidation = true // each test of this package runs a manager of its own
	mgr, err := manager.New(env.Cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	mgrCtx, stopManager := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { defer close(stopped); _ = mgr.Start(mgrCtx) }()
	stop = func() { stopManager(); <-stopped }
	t.Cleanup(stop)
	return env.Client, stop
}

// reliabilityFollowsStatus checks that the co-op's published readiness is what its status
// says.
func reliabilityFollowsStatus(ctx context.Context, c client.Client, name string) error {
	d, _, err := published(ctx, c, name)
	if err != nil {
		return err
	}
	coop := &coopv1.Cooperative{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, coop); err != nil {
		return err
	}
	want := controller.BuildDocument(coop, nil, nil).Reliability
	if d.Cooperative != name || d.Reliability.Database.Status == "Unknown" || fmt.Sprint(d.Reliability) != fmt.Sprint(want) {
		return fmt.Errorf("reliability %+v, the co-op's status says %+v", d.Reliability, want)
	}
	return nil
}

// TestHubStatusReachesTheCoopNamespace runs the whole operator on an embedded API server:
// the co-ops' readiness comes from the Cooperative reconciler and their lines from the
// CostReport controller. No pod runs here, so the test plays the metering's record of a
// past month in the report's status.
func TestHubStatusReachesTheCoopNamespace(t *testing.T) {
	c, stopManager := runOperator(t)
	ctx := t.Context()
	root := harness.MustRepoRoot(t)
	for _, f := range []string{"coop_v1alpha1_cooperative_fairride.yaml", "coop_v1alpha1_cooperative_coursiers.yaml"} {
		if err := harness.CreateFile(ctx, c, filepath.Join(root, "config", "samples", f)); err != nil {
			t.Fatal(err)
		}
	}

	// The readiness the Cooperative reconciler reported, in the co-op's own namespace.
	eventually(t, "fairride-lyon's hub status with its readiness", func() error {
		return reliabilityFollowsStatus(ctx, c, "fairride-lyon")
	})

	// A month's bill, split by the CostReport controller from the usage the metering
	// recorded (played here).
	if err := harness.CreateFile(ctx, c, filepath.Join(root, "config", "samples", "coop_v1alpha1_costreport.yaml")); err != nil {
		t.Fatal(err)
	}
	report := &coopv1.CostReport{}
	if err := c.Get(ctx, client.ObjectKey{Name: "2026-11"}, report); err != nil {
		t.Fatal(err)
	}
	// The sample's discount is for a co-op this test does not meter: a report whose policy
	// names one does not split as written (Ready False) and is not frozen.
	specBase := report.DeepCopy()
	report.Spec.Policy.Adjustments = nil
	if err := c.Patch(ctx, report, client.MergeFrom(specBase)); err != nil {
		t.Fatal(err)
	}
	base := report.DeepCopy()
	report.Status.Usage = []coopv1.CooperativeUsage{
		{Cooperative: "coursiers-nantes", CPUMillicoreSeconds: "2592000000", MemoryByteSeconds: "2783138807808000", StorageByteSeconds: "2783138807808000"},
		{Cooperative: "fairride-lyon", CPUMillicoreSeconds: "1296000000", MemoryByteSeconds: "1391569403904000", StorageByteSeconds: "1391569403904000"},
	}
	if err := c.Status().Patch(ctx, report, client.MergeFrom(base), client.FieldOwner("cooperator-metering")); err != nil {
		t.Fatal(err)
	}
	var lines map[string]string
	eventually(t, "the report's lines in each co-op's hub status", func() error {
		if err := c.Get(ctx, client.ObjectKey{Name: "2026-11"}, report); err != nil {
			return err
		}
		if report.Status.ObservedGeneration != report.Generation || len(report.Status.Lines) != 2 {
			return fmt.Errorf("report lines %+v", report.Status.Lines)
		}
		lines = map[string]string{}
		for _, l := range report.Status.Lines {
			lines[l.Cooperative] = l.Amount
		}
		for coop, amount := range lines {
			d, _, err := published(ctx, c, coop)
			if err != nil {
				return err
			}
			if m := month(d, "2026-11"); m == nil || m.Amount != amount || m.HubTotal != report.Status.Total || !m.Final {
				return fmt.Errorf("%s hosting %+v, want its line %s of %s in 2026-11, final", coop, d.Hosting, amount, report.Status.Total)
			}
		}
		return nil
	})
	if lines["fairride-lyon"] == lines["coursiers-nantes"] {
		t.Fatalf("the two co-ops pay the same (%s): the test cannot tell their lines apart", lines["fairride-lyon"])
	}
	_, cm, err := published(ctx, c, "fairride-lyon")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cm.Data[hubstatus.Key], lines["coursiers-nantes"]) || strings.Contains(cm.Data[hubstatus.Key], "coursiers") {
		t.Errorf("fairride-lyon's hub status shows another co-op: %s", cm.Data[hubstatus.Key])
	}

	// Converged: a reconcile writes nothing.
	r := &controller.CooperativeReconciler{Client: c}
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Name: "fairride-lyon"}}); err != nil {
		t.Fatal(err)
	}
	_, again, err := published(ctx, c, "fairride-lyon")
	if err != nil {
		t.Fatal(err)
	}
	if again.ResourceVersion != cm.ResourceVersion {
		t.Errorf("a reconcile of a converged co-op wrote its hub status (resourceVersion %s -> %s)", cm.ResourceVersion, again.ResourceVersion)
	}

	// Changed by hand, it is put back.
	cm.Data[hubstatus.Key] = `{"cooperative":"fairride-lyon","reliability":{},"hosting":[]}`
	if err := c.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the hub status put back", func() error {
		d, _, err := published(ctx, c, "fairride-lyon")
		if err != nil {
			return err
		}
		if m := month(d, "2026-11"); m == nil || m.Amount != lines["fairride-lyon"] {
			return fmt.Errorf("hosting %+v", d.Hosting)
		}
		return nil
	})

	// The current month's running estimate moves: the document keeps the estimate it has
	// for up to its refresh (hubstatus.EstimateRefresh and the co-op's share of a sixth of
	// it more), then takes the new one. The manager is stopped
	// first, so that the reconciles are this test's, with a clock of its own; the move of
	// the estimate is played in the report's lines, as the CostReport controller writes
	// them when the metering records usage.
	period := time.Now().UTC().Format("2006-01")
	var before *hubstatus.Document
	eventually(t, "the current month's estimate in fairride-lyon's hub status", func() error {
		if before, _, err = published(ctx, c, "fairride-lyon"); err != nil {
			return err
		}
		if m := month(before, period); m == nil || m.Final || m.EstimatedAt == nil {
			return fmt.Errorf("hosting %+v: want a dated estimate of %s", before.Hosting, period)
		}
		return nil
	})
	stopManager()
	current := &coopv1.CostReport{}
	if err := c.Get(ctx, client.ObjectKey{Name: period}, current); err != nil {
		t.Fatal(err)
	}
	movedReport := current.DeepCopy()
	const moved = "7.25"
	for i := range movedReport.Status.Lines {
		if l := &movedReport.Status.Lines[i]; l.Cooperative == "fairride-lyon" {
			l.Amount, l.ComputeAmount = moved, moved
		}
	}
	if err := c.Status().Patch(ctx, movedReport, client.MergeFrom(current), client.FieldOwner("cooperator")); err != nil {
		t.Fatal(err)
	}
	clk := clocktesting.NewFakePassiveClock(time.Now())
	r.Clock = clk
	res, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Name: "fairride-lyon"}})
	if err != nil {
		t.Fatal(err)
	}
	refresh := controller.RefreshOf("fairride-lyon")
	if res.RequeueAfter <= 0 || res.RequeueAfter > refresh {
		t.Errorf("an estimate held back: requeued after %s, want within %s", res.RequeueAfter, refresh)
	}
	held, _, err := published(ctx, c, "fairride-lyon")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := monthJSON(t, held, period), monthJSON(t, before, period); got != want {
		t.Errorf("the moved estimate was written at once: %s, want %s until the hour is up", got, want)
	}
	clk.SetTime(time.Now().Add(refresh))
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Name: "fairride-lyon"}}); err != nil {
		t.Fatal(err)
	}
	after, _, err := published(ctx, c, "fairride-lyon")
	if err != nil {
		t.Fatal(err)
	}
	if m := month(after, period); m.Amount != moved || m.EstimatedAt == nil || !m.EstimatedAt.Equal(clk.Now().UTC().Truncate(time.Second)) {
		t.Errorf("after the hour: %+v, want the amount %s dated %s", m, moved, clk.Now().UTC().Truncate(time.Second))
	}

	// An estimate edited by hand, its date kept, is not taken for the operator's: replaced
	// at once.
	_, cm, err = published(ctx, c, "fairride-lyon")
	if err != nil {
		t.Fatal(err)
	}
	forged := *after
	forged.Hosting = slices.Clone(after.Hosting)
	for i := range forged.Hosting {
		if forged.Hosting[i].Period == period {
			forged.Hosting[i].Amount = "999.99"
		}
	}
	b, err := forged.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	cm.Data[hubstatus.Key] = string(b)
	if err := c.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Name: "fairride-lyon"}}); err != nil {
		t.Fatal(err)
	}
	d, _, err := published(ctx, c, "fairride-lyon")
	if err != nil {
		t.Fatal(err)
	}
	if month(d, period).Amount != moved {
		t.Errorf("an estimate edited by hand: %s, want %s at once", monthJSON(t, d, period), moved)
	}
}

// TestAPlanExceededAfterTheTenancyIsPublished: a co-op whose tenancy was set up, and whose
// plan then shrinks below what its spec asks (TenancyReady False, PlanViolation, while its
// namespace and the operator's RoleBinding there stay), still has its readiness published:
// the document says it is not ready, and why.
func TestAPlanExceededAfterTheTenancyIsPublished(t *testing.T) {
	c, _ := runOperator(t)
	ctx := t.Context()
	root := harness.MustRepoRoot(t)
	if err := harness.CreateFile(ctx, c, filepath.Join(root, "config", "samples", "coop_v1alpha1_cooperative_fairride.yaml")); err != nil {
		t.Fatal(err)
	}
	coop := &coopv1.Cooperative{}
	eventually(t, "fairride-lyon's tenancy ready and its readiness published", func() error {
		if err := c.Get(ctx, client.ObjectKey{Name: "fairride-lyon"}, coop); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(coop.Status.Conditions, coopv1.ConditionTenancyReady) {
			return fmt.Errorf("conditions %+v: want TenancyReady True", coop.Status.Conditions)
		}
		return reliabilityFollowsStatus(ctx, c, "fairride-lyon")
	})

	// The plan shrinks below the co-op's 10Gi database.
	plan := &coopv1.HostingPlan{}
	if err := c.Get(ctx, client.ObjectKey{Name: coop.Spec.Plan}, plan); err != nil {
		t.Fatal(err)
	}
	base := plan.DeepCopy()
	plan.Spec.Quota.Storage = resource.MustParse("1Gi")
	if err := c.Patch(ctx, plan, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "fairride-lyon's hub status saying the plan is exceeded", func() error {
		if err := c.Get(ctx, client.ObjectKey{Name: "fairride-lyon"}, coop); err != nil {
			return err
		}
		if tenancy := meta.FindStatusCondition(coop.Status.Conditions, coopv1.ConditionTenancyReady); tenancy == nil || tenancy.Reason != coopv1.ReasonPlanViolation {
			return fmt.Errorf("TenancyReady %+v: want PlanViolation", tenancy)
		}
		if err := reliabilityFollowsStatus(ctx, c, "fairride-lyon"); err != nil {
			return err
		}
		d, _, err := published(ctx, c, "fairride-lyon")
		if err != nil {
			return err
		}
		if d.Reliability.Ready.Status != string(metav1.ConditionFalse) || d.Reliability.Ready.Reason != coopv1.ReasonPlanViolation {
			return fmt.Errorf("ready %+v: want False, PlanViolation", d.Reliability.Ready)
		}
		return nil
	})
}

// billed is a co-op whose tenancy the Cooperative reconciler set up (played) and the
// sample month's report, metered (played) with this co-op alone, on an embedded API
// server; split and publish call the CostReport controller's and the hub status
// reconciler's Reconcile.
type billed struct {
	t      *testing.T
	ctx    context.Context
	c      client.Client
	coop   *coopv1.Cooperative
	report client.ObjectKey
	split  *costreport.Reconciler
	r      *controller.CooperativeReconciler
	clock  *clocktesting.FakePassiveClock
}

func newBilled(t *testing.T) *billed {
	ctrl.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	env := harness.StartT(t, harness.Options{ProjectCRDs: true, Scheme: manager.Scheme()})
	ctx := t.Context()
	c := env.Client
	coop, err := harness.Sample("coop_v1alpha1_cooperative_fairride.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: coop.NamespaceName()}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, coop); err != nil {
		t.Fatal(err)
	}
	base := coop.DeepCopy()
	coop.Status.Namespace = coop.NamespaceName()
	if err := c.Status().Patch(ctx, coop, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	report := &coopv1.CostReport{}
	if err := harness.ReadYAML(filepath.Join(harness.MustRepoRoot(t), "config", "samples", "coop_v1alpha1_costreport.yaml"), report); err != nil {
		t.Fatal(err)
	}
	report.Spec.Policy.Adjustments = nil // for a co-op this test does not meter
	if err := c.Create(ctx, report); err != nil {
		t.Fatal(err)
	}
	metered := report.DeepCopy()
	metered.Status.Usage = []coopv1.CooperativeUsage{{Cooperative: coop.Name, CPUMillicoreSeconds: "1296000000", MemoryByteSeconds: "0", StorageByteSeconds: "0"}}
	if err := c.Status().Patch(ctx, metered, client.MergeFrom(report), client.FieldOwner("cooperator-metering")); err != nil {
		t.Fatal(err)
	}
	clk := clocktesting.NewFakePassiveClock(time.Now())
	return &billed{
		t: t, ctx: ctx, c: c, coop: coop, report: client.ObjectKeyFromObject(report), clock: clk,
		// Mid-month: the report stays Open.
		split: &costreport.Reconciler{Client: c, Clock: clocktesting.NewFakePassiveClock(report.Spec.Period.Start.Add(240 * time.Hour)), FinalizeDelay: costreport.DefaultFinalizeDelay},
		r:     &controller.CooperativeReconciler{Client: c, Clock: clk},
	}
}

// splitReport reconciles the report as the CostReport controller does, and returns it.
func (b *billed) splitReport() *coopv1.CostReport {
	b.t.Helper()
	if _, err := b.split.Reconcile(b.ctx, ctrl.Request{NamespacedName: b.report}); err != nil {
		b.t.Fatal(err)
	}
	report := &coopv1.CostReport{}
	if err := b.c.Get(b.ctx, b.report, report); err != nil {
		b.t.Fatal(err)
	}
	return report
}

// publish reconciles the co-op's hub status and returns the document and the
// ConfigMap's resourceVersion.
func (b *billed) publish() (*hubstatus.Document, string) {
	b.t.Helper()
	if _, err := b.r.Reconcile(b.ctx, ctrl.Request{NamespacedName: client.ObjectKey{Name: b.coop.Name}}); err != nil {
		b.t.Fatal(err)
	}
	d, cm, err := published(b.ctx, b.c, b.coop.Name)
	if err != nil {
		b.t.Fatal(err)
	}
	return d, cm.ResourceVersion
}

// editBill sets the amount of the bill's first line, as the hub does.
func (b *billed) editBill(amount string) {
	b.t.Helper()
	report := &coopv1.CostReport{}
	if err := b.c.Get(b.ctx, b.report, report); err != nil {
		b.t.Fatal(err)
	}
	edited := report.DeepCopy()
	edited.Spec.Lines[0].Amount = coopv1.Decimal(amount)
	if err := b.c.Patch(b.ctx, edited, client.MergeFrom(report)); err != nil {
		b.t.Fatal(err)
	}
}

// TestABillEditIsPublishedOnce: the hub edits a month's bill. Until the CostReport
// controller has split it again (its lines are for the spec before the edit), the co-op's
// document keeps the month as it was and is not written; once split, the new amount is
// written once, as any moved estimate of an open month is (at the co-op's refresh).
func TestABillEditIsPublishedOnce(t *testing.T) {
	b := newBilled(t)
	b.splitReport()
	before, version := b.publish()
	period := b.report.Name
	if m := month(before, period); m == nil || m.Amount != "612.90" {
		t.Fatalf("month %+v: want the co-op's line of %s, the whole bill (612.90)", m, period)
	}

	b.editBill("512.50") // was 412.50
	d, again := b.publish()
	if got, want := monthJSON(t, d, period), monthJSON(t, before, period); got != want {
		t.Errorf("before the bill is split again: month %s, want it as it was, %s", got, want)
	}
	if again != version {
		t.Errorf("before the bill is split again, the hub status was written (resourceVersion %s -> %s)", version, again)
	}
	b.splitReport()
	b.clock.SetTime(b.clock.Now().Add(controller.RefreshOf(b.coop.Name)))
	d, _ = b.publish()
	if m := month(d, period); m == nil || m.Amount != "712.90" {
		t.Errorf("once split again: month %+v, want the amount 712.90", m)
	}
}

// TestABillThatCannotBeSplitIsNotPublished: the hub enters an amount too large to split.
// The report says so, naming the field, and keeps no lines: its lines were the split of
// the bill before, and the co-op's document, which takes the lines of a report split for
// its current spec, would show them as the split of this one. The month goes from it.
func TestABillThatCannotBeSplitIsNotPublished(t *testing.T) {
	b := newBilled(t)
	b.splitReport()
	period := b.report.Name
	if d, _ := b.publish(); month(d, period) == nil {
		t.Fatalf("hosting %+v: want the month %s", d.Hosting, period)
	}

	b.editBill("99999999999999") // within the schema, beyond what the allocator adds up
	report := b.splitReport()
	ready := meta.FindStatusCondition(report.Status.Conditions, coopv1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != coopv1.ReasonInvalidPolicy || !strings.Contains(ready.Message, "spec.lines[0].amount") {
		t.Errorf("Ready %+v: want False, InvalidPolicy, naming spec.lines[0].amount", ready)
	}
	if report.Status.ObservedGeneration == report.Generation && (len(report.Status.Lines) > 0 || report.Status.Total != "") {
		t.Errorf("the report's lines and total (%s) are given for generation %d, whose bill does not split: %+v", report.Status.Total, report.Generation, report.Status.Lines)
	}
	if d, _ := b.publish(); month(d, period) != nil {
		t.Errorf("the co-op's document shows %s, whose bill does not split: %s", period, monthJSON(t, d, period))
	}
}
