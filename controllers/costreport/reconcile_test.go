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

package costreport

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/test/harness"
)

// TestAReportWaitingForTheMeteringSaysSo: a report whose period ended, past the moment it
// would be frozen, that the metering has not marked metered through the period's end (a
// co-op it cannot sample or write holds every report back) says so in Reconciling, which
// kstatus reads as in progress, and writes nothing more while it waits; marked, it is
// frozen and Reconciling goes. The metering's writes are played, on an embedded API
// server.
func TestAReportWaitingForTheMeteringSaysSo(t *testing.T) {
	ctx := t.Context()
	c, report := sampleReport(t, false, coopv1.CooperativeUsage{Cooperative: "fairride-lyon", CPUMillicoreSeconds: "1296000000", MemoryByteSeconds: "0", StorageByteSeconds: "0"})
	clk := clocktesting.NewFakePassiveClock(report.Spec.Period.End.Add(-time.Hour))
	r := &Reconciler{Client: c, Clock: clk, FinalizeDelay: DefaultFinalizeDelay}
	reconciled := func() *coopv1.CostReport {
		t.Helper()
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(report)}); err != nil {
			t.Fatal(err)
		}
		got := &coopv1.CostReport{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(report), got); err != nil {
			t.Fatal(err)
		}
		return got
	}

	// In its period: nothing to wait for yet.
	if got := reconciled(); meta.FindStatusCondition(got.Status.Conditions, coopv1.ConditionReconciling) != nil {
		t.Errorf("within the period: %+v, want no Reconciling", got.Status.Conditions)
	}

	// Past the moment it would be frozen, not marked.
	clk.SetTime(report.Spec.Period.End.Add(DefaultFinalizeDelay + time.Minute))
	waiting := reconciled()
	reconciling := meta.FindStatusCondition(waiting.Status.Conditions, coopv1.ConditionReconciling)
	if waiting.Spec.Final || reconciling == nil || reconciling.Status != metav1.ConditionTrue || reconciling.Reason != coopv1.ReasonWaitingForMetering ||
		!strings.Contains(reconciling.Message, "status.meteredThrough") || reconciling.ObservedGeneration != waiting.Generation {
		t.Fatalf("past the moment, not metered: final %v, Reconciling %+v: want Open, Reconciling True, WaitingForMetering, naming status.meteredThrough", waiting.Spec.Final, reconciling)
	}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(waiting)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := status.Compute(&unstructured.Unstructured{Object: obj}); err != nil || res.Status != status.InProgressStatus {
		t.Errorf("kstatus = %v (%v), want %s", res, err, status.InProgressStatus)
	}
	clk.SetTime(clk.Now().Add(time.Hour))
	if again := reconciled(); again.ResourceVersion != waiting.ResourceVersion {
		t.Errorf("a report that waits was written again (resourceVersion %s -> %s)", waiting.ResourceVersion, again.ResourceVersion)
	}

	// The metering marks it (played): frozen, and Reconciling goes.
	mark := waiting.DeepCopy()
	mark.Status.MeteredThrough = &metav1.Time{Time: report.Spec.Period.End.Add(time.Minute)}
	if err := c.Status().Patch(ctx, mark, client.MergeFrom(waiting), client.FieldOwner("cooperator-metering-mark")); err != nil {
		t.Fatal(err)
	}
	reconciled() // the status first (it waits no more), whose write brings the report back
	if got := reconciled(); !got.Spec.Final {
		t.Fatalf("metered: final %v, want frozen", got.Spec.Final)
	}
	if got := reconciled(); got.Status.Phase != coopv1.CostReportFinal || meta.FindStatusCondition(got.Status.Conditions, coopv1.ConditionReconciling) != nil {
		t.Errorf("frozen: phase %s, conditions %+v: want Final, no Reconciling", got.Status.Phase, got.Status.Conditions)
	}
}

// TestABillNoCoopSharesIsNotFrozen: a bill entered for a month in which no co-op was
// metered (before the hub metered anyone, say) has no one to split it among. The report is
// not frozen once metered through its period, with its whole bill on no one: Ready is
// False (NoUsage) and BillLate says the hub settles it.
func TestABillNoCoopSharesIsNotFrozen(t *testing.T) {
	ctx := t.Context()
	c, report := sampleReport(t, false)
	marked := report.DeepCopy()
	marked.Status.MeteredThrough = &metav1.Time{Time: report.Spec.Period.End.Add(time.Minute)}
	if err := c.Status().Patch(ctx, marked, client.MergeFrom(report), client.FieldOwner("cooperator-metering-mark")); err != nil {
		t.Fatal(err)
	}
	clk := clocktesting.NewFakePassiveClock(report.Spec.Period.End.Add(DefaultFinalizeDelay + time.Minute))
	r := &Reconciler{Client: c, Clock: clk, FinalizeDelay: DefaultFinalizeDelay}
	for range 2 {
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(report)}); err != nil {
			t.Fatal(err)
		}
	}
	got := &coopv1.CostReport{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(report), got); err != nil {
		t.Fatal(err)
	}
	ready := meta.FindStatusCondition(got.Status.Conditions, coopv1.ConditionReady)
	if got.Spec.Final || got.Status.Phase != coopv1.CostReportOpen || ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != coopv1.ReasonNoUsage {
		t.Fatalf("a bill no co-op shares: final %v, phase %s, Ready %+v: want Open, Ready False NoUsage", got.Spec.Final, got.Status.Phase, ready)
	}
	if !meta.IsStatusConditionTrue(got.Status.Conditions, coopv1.ConditionBillLate) {
		t.Errorf("conditions %+v: want BillLate True (the hub settles it)", got.Status.Conditions)
	}
}

// TestAReportThatDoesNotSplitCannotBeFrozen: spec.final on a report whose bill cannot be
// split as written (Stalled True) would freeze it with no lines, for good, since a final
// report never changes again: the API server refuses it, naming the field; fixed, and
// split, it is frozen.
func TestAReportThatDoesNotSplitCannotBeFrozen(t *testing.T) {
	ctx := t.Context()
	c, report := sampleReport(t, true, someoneElse)
	r := &Reconciler{Client: c, Clock: clocktesting.NewFakePassiveClock(report.Spec.Period.End.Add(-time.Hour)), FinalizeDelay: DefaultFinalizeDelay}
	reconciled := func() *coopv1.CostReport {
		t.Helper()
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(report)}); err != nil {
			t.Fatal(err)
		}
		got := &coopv1.CostReport{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(report), got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	freeze := func(got *coopv1.CostReport) error {
		patch := client.MergeFrom(got.DeepCopy())
		got.Spec.Final = true
		return c.Patch(ctx, got, patch)
	}

	stalled := reconciled()
	if !meta.IsStatusConditionTrue(stalled.Status.Conditions, coopv1.ConditionStalled) {
		t.Fatalf("a discount for a co-op not metered: conditions %+v, want Stalled True", stalled.Status.Conditions)
	}
	err := freeze(stalled)
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.final") || !strings.Contains(err.Error(), "cannot be split as written") {
		t.Fatalf("freezing a report that does not split: %v, want Invalid naming spec.final", err)
	}

	fixed := reconciled()
	patch := client.MergeFrom(fixed.DeepCopy())
	fixed.Spec.Policy.Adjustments = nil
	if err := c.Patch(ctx, fixed, patch); err != nil {
		t.Fatal(err)
	}
	split := reconciled()
	if !meta.IsStatusConditionTrue(split.Status.Conditions, coopv1.ConditionReady) || len(split.Status.Lines) == 0 {
		t.Fatalf("fixed: conditions %+v, lines %+v", split.Status.Conditions, split.Status.Lines)
	}
	if err := freeze(split); err != nil {
		t.Fatalf("freezing a report that splits: %v", err)
	}
}

// TestAReportFixedAsItIsDueIsFrozen: a report whose stored status still says its bill does
// not split (an earlier spec's), fixed as its period ends, is frozen by the operator: the
// status it writes first lets the API server take spec.final.
func TestAReportFixedAsItIsDueIsFrozen(t *testing.T) {
	ctx := t.Context()
	c, report := sampleReport(t, true, someoneElse)
	clk := clocktesting.NewFakePassiveClock(report.Spec.Period.End.Add(-time.Hour))
	r := &Reconciler{Client: c, Clock: clk, FinalizeDelay: DefaultFinalizeDelay}
	get := func() *coopv1.CostReport {
		t.Helper()
		got := &coopv1.CostReport{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(report), got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(report)}); err != nil {
		t.Fatal(err)
	}
	stalled := get()
	if !meta.IsStatusConditionTrue(stalled.Status.Conditions, coopv1.ConditionStalled) {
		t.Fatalf("conditions %+v, want Stalled True", stalled.Status.Conditions)
	}
	// Fixed, and marked metered through the period's end, with no reconcile between.
	patch := client.MergeFrom(stalled.DeepCopy())
	stalled.Spec.Policy.Adjustments = nil
	if err := c.Patch(ctx, stalled, patch); err != nil {
		t.Fatal(err)
	}
	fixed := get()
	mark := fixed.DeepCopy()
	mark.Status.MeteredThrough = &metav1.Time{Time: report.Spec.Period.End.Add(time.Minute)}
	if err := c.Status().Patch(ctx, mark, client.MergeFrom(fixed), client.FieldOwner("cooperator-metering-mark")); err != nil {
		t.Fatal(err)
	}
	clk.SetTime(report.Spec.Period.End.Add(DefaultFinalizeDelay + time.Minute))
	// The status written first, whose write brings the report back; then frozen.
	for range 2 {
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(report)}); err != nil {
			t.Fatalf("finalizing a report fixed as it is due: %v", err)
		}
	}
	if got := get(); !got.Spec.Final {
		t.Errorf("final %v, want frozen", got.Spec.Final)
	}

	// The freeze is made on the report as read: one the hub changed since conflicts.
	c2, other := sampleReport(t, false, someoneElse)
	r2 := &Reconciler{Client: c2, Clock: clk, FinalizeDelay: DefaultFinalizeDelay}
	read := other.ResourceVersion
	patch = client.MergeFrom(other.DeepCopy())
	other.Spec.Policy.Adjustments = []coopv1.Adjustment{{Cooperative: "nobody-metered", DiscountPercent: 50}}
	if err := c2.Patch(ctx, other, patch); err != nil {
		t.Fatal(err)
	}
	if err := r2.finalize(ctx, other.Name, read); !apierrors.IsConflict(err) {
		t.Errorf("freezing a report changed since it was read: %v, want a conflict", err)
	}
}

// sampleReport creates the sample CostReport on an embedded API server, with usage written
// as the metering would (none when usage is empty); keep says whether its discount for a
// co-op no test meters stays.
func sampleReport(t *testing.T, keep bool, usage ...coopv1.CooperativeUsage) (client.Client, *coopv1.CostReport) {
	t.Helper()
	env := harness.StartT(t, harness.Options{ProjectCRDs: true, Scheme: harness.Scheme(coopv1.AddToScheme)})
	c := env.Client
	report := &coopv1.CostReport{}
	if err := harness.ReadYAML(filepath.Join(harness.MustRepoRoot(t), "config", "samples", "coop_v1alpha1_costreport.yaml"), report); err != nil {
		t.Fatal(err)
	}
	if !keep {
		report.Spec.Policy.Adjustments = nil
	} else if len(report.Spec.Policy.Adjustments) == 0 {
		t.Fatal("the sample has no adjustment: this test needs one for a co-op it does not meter")
	}
	if err := c.Create(t.Context(), report); err != nil {
		t.Fatal(err)
	}
	if len(usage) > 0 {
		metered := report.DeepCopy()
		metered.Status.Usage = usage
		if err := c.Status().Patch(t.Context(), metered, client.MergeFrom(report), client.FieldOwner("cooperator-metering")); err != nil {
			t.Fatal(err)
		}
	}
	return c, report
}

// someoneElse is the usage of a co-op the sample's discount does not name.
var someoneElse = coopv1.CooperativeUsage{Cooperative: "someone-else", CPUMillicoreSeconds: "1000", MemoryByteSeconds: "0", StorageByteSeconds: "0"}
