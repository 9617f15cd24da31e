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

// Package costreport reconciles CostReports: it splits each period's bill among the co-ops
// by the usage the metering recorded in the report, and freezes the report once the
// period has ended.
package costreport

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/costreport/allocation"
	"github.com/cooperator-dev/cooperator/controllers/shared/ssa"
)

// FieldOwner of what the controller writes: status (but status.usage and
// status.meteredThrough, the metering's) and spec.final.
const FieldOwner = ssa.FieldOwner

// DefaultFinalizeDelay is how long after the end of a period a report becomes Final at the
// soonest: long enough for the metering to write the period's last samples (it writes at
// the first sample after the boundary, within one metering interval). The report waits
// longer while the metering has not marked it metered through the period's end.
const DefaultFinalizeDelay = 15 * time.Minute

// Reconciler reconciles CostReports.
type Reconciler struct {
	Client client.Client
	// Clock tells the time; the real clock when nil.
	Clock clock.PassiveClock
	// FinalizeDelay after the period's end, the report becomes Final.
	FinalizeDelay time.Duration
}

// +kubebuilder:rbac:groups=coop.cooperator.dev,resources=costreports,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=coop.cooperator.dev,resources=costreports/status,verbs=get;patch

// SetupWithManager registers the controller.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := reportState.ReadWhenLeader(mgr, mgr.GetCache()); err != nil {
		return err
	}
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.FinalizeDelay <= 0 {
		r.FinalizeDelay = DefaultFinalizeDelay
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&coopv1.CostReport{}).
		Named("costreport").
		Complete(r)
}

// Reconcile splits one report's bill and finalizes it after its period, once the metering
// has recorded the period's end (status.meteredThrough).
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	report := &coopv1.CostReport{}
	if err := r.Client.Get(ctx, req.NamespacedName, report); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	now := r.Clock.Now()
	finalizeAt := report.Spec.Period.End.Add(r.FinalizeDelay)
	metered := report.Status.MeteredThrough != nil && !report.Status.MeteredThrough.Before(&report.Spec.Period.End)
	// An empty bill is never the hub's real one: frozen, the month would be settled at zero.
	// A bill entered after that moment is frozen by the hub (its first line would freeze
	// it otherwise, before the next invoice or a correction).
	billed := len(report.Spec.Lines) > 0
	late := meta.IsStatusConditionTrue(report.Status.Conditions, coopv1.ConditionBillLate)
	// A bill or policy that cannot be split as written (Ready False) is not frozen either.
	status := ComputeStatus(report)
	splits := meta.IsStatusConditionTrue(status.Conditions, coopv1.ConditionReady)
	due := !report.Spec.Final && !now.Before(finalizeAt)
	if due && metered && billed && !late && splits {
		// The status first: the API server refuses spec.final while the stored status says
		// the bill does not split (Stalled), which may be an earlier spec's. Its write
		// brings the report back, and the freeze is made then, on the report as read: a
		// bill the hub changed since is not frozen unsplit (a conflict reads it again).
		if wrote, err := r.writeStatus(ctx, report, status); err != nil || wrote {
			return ctrl.Result{}, err
		}
		if err := r.finalize(ctx, report.Name, report.ResourceVersion); apierrors.IsConflict(err) {
			return ctrl.Result{RequeueAfter: time.Second}, nil // changed since it was read: judged again
		} else if err != nil {
			return ctrl.Result{}, err
		}
		logf.FromContext(ctx).Info("Finalized the cost report", "costreport", report.Name)
		return ctrl.Result{}, nil // the update brings the report back
	}
	if due && (!billed || (metered && !splits)) {
		// Whether or not the metering has caught up: a bill entered after this moment is
		// the hub's to freeze (its first line would freeze it otherwise, before the next
		// invoice or a correction); so is one that does not split as written once the
		// usage is complete (whether it splits depends on the usage: a discount names a
		// co-op metered in the period).
		meta.SetStatusCondition(&status.Conditions, metav1.Condition{Type: coopv1.ConditionBillLate, Status: metav1.ConditionTrue,
			Reason: coopv1.ReasonEnteredAfterPeriod, ObservedGeneration: report.Generation,
			Message: "the period ended before its bill was entered, or could be split as written: the operator does not freeze this report; " +
				"enter every invoice, fix what Ready names, check the split, then set spec.final: true"})
	}
	setWaitingForMetering(&status, report, finalizeAt, due && !metered)
	if _, err := r.writeStatus(ctx, report, status); err != nil {
		return ctrl.Result{}, err
	}
	if report.Spec.Final {
		return ctrl.Result{}, nil
	}
	if !now.Before(finalizeAt) {
		// Not metered through the period's end yet: the metering's write of
		// status.meteredThrough brings the report back. Without a bill: the hub's entry.
		if !metered {
			logf.FromContext(ctx).Info("Waiting for the metering to record the period's end", "costreport", report.Name)
		} else {
			logf.FromContext(ctx).Info("Waiting for the hub to enter the period's bill and set spec.final", "costreport", report.Name)
		}
		return ctrl.Result{}, nil
	}
	return ctrl.Result{RequeueAfter: min(finalizeAt.Sub(now), time.Hour)}, nil
}

// ComputeStatus is the status a report should have: phase, total, lines and conditions.
func ComputeStatus(report *coopv1.CostReport) coopv1.CostReportStatus {
	s := coopv1.CostReportStatus{
		Phase:              coopv1.CostReportOpen,
		ObservedGeneration: report.Generation,
		Conditions:         append([]metav1.Condition(nil), report.Status.Conditions...),
	}
	if report.Spec.Final {
		s.Phase = coopv1.CostReportFinal
		meta.RemoveStatusCondition(&s.Conditions, coopv1.ConditionBillLate) // frozen by the hub: done
		if frozen := report.Status; frozen.Phase == coopv1.CostReportFinal && frozen.ObservedGeneration == report.Generation {
			// Split once final: later edits of status.usage, or another version of the
			// operator, never change a settled month's amounts.
			s.Lines, s.Total = frozen.Lines, frozen.Total
			return s
		}
	}
	ready := metav1.Condition{Type: coopv1.ConditionReady, Status: metav1.ConditionTrue, ObservedGeneration: report.Generation}
	stalled := metav1.Condition{Type: coopv1.ConditionStalled, Status: metav1.ConditionFalse, Reason: coopv1.ReasonAllocated, ObservedGeneration: report.Generation}
	total, lines, err := Lines(&report.Spec, report.Status.Usage)
	unknown := unknownAdjustment(report)
	switch {
	case err != nil:
		// The lines and the total of the spec before are not this spec's split: the status
		// observes this generation with none (hubstatus and the metrics read the lines of
		// the current generation as its split).
		msg := fmt.Sprintf("%v: the bill cannot be split as written, so the report has no lines until it is fixed", err)
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, coopv1.ReasonInvalidPolicy, msg
		stalled.Status, stalled.Reason, stalled.Message = metav1.ConditionTrue, coopv1.ReasonInvalidPolicy, msg
	case len(report.Spec.Lines) == 0:
		ready.Reason, ready.Message = coopv1.ReasonNoBill, "the bill has no lines yet: every amount is zero, and the report is not frozen after its period until the hub enters the bill (spec.lines) and, once the period has ended, sets spec.final"
	case len(lines) == 0:
		// A bill no co-op shares is not split: frozen, the month would be settled with its
		// whole bill on no one. The hub settles it by hand (or it was entered for a month
		// before the hub metered anyone) and sets spec.final once the period has ended.
		ready.Status, ready.Reason = metav1.ConditionFalse, coopv1.ReasonNoUsage
		ready.Message = fmt.Sprintf("no co-op was metered in the period, so no co-op shares the bill of %s: the report is not frozen after its period; "+
			"the hub settles this bill by hand and then sets spec.final", allocation.FormatCents(total))
	case unknown != "":
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, coopv1.ReasonUnknownCooperative, unknown
		stalled.Status, stalled.Reason, stalled.Message = metav1.ConditionTrue, coopv1.ReasonUnknownCooperative, ready.Message
	default:
		ready.Reason, ready.Message = coopv1.ReasonAllocated, fmt.Sprintf("%d co-ops share the bill", len(lines))
	}
	if err == nil {
		s.Lines, s.Total = lines, allocation.FormatCents(total)
	}
	meta.SetStatusCondition(&s.Conditions, ready)
	meta.SetStatusCondition(&s.Conditions, stalled)
	return s
}

// setWaitingForMetering sets Reconciling True, WaitingForMetering, on the status of a
// report that waits for the metering to mark it metered through its period's end, past
// finalizeAt, the moment it would be frozen otherwise; and removes Reconciling when it
// does not wait (the controller sets it for nothing else). The message is the same at
// every reconcile: a report that waits writes nothing until the metering marks it.
func setWaitingForMetering(s *coopv1.CostReportStatus, report *coopv1.CostReport, finalizeAt time.Time, waiting bool) {
	if !waiting {
		meta.RemoveStatusCondition(&s.Conditions, coopv1.ConditionReconciling)
		return
	}
	meta.SetStatusCondition(&s.Conditions, metav1.Condition{
		Type: coopv1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: coopv1.ReasonWaitingForMetering, ObservedGeneration: report.Generation,
		Message: fmt.Sprintf("the period ended at %s and the report is frozen from %s, once the metering has recorded every co-op's final totals of the period (status.meteredThrough), "+
			"which it does after a pass in which it sampled and wrote every co-op; it has not yet: the amounts are a running estimate until then, and the operator's log says what the metering could not sample or write",
			report.Spec.Period.End.UTC().Format(time.RFC3339), finalizeAt.UTC().Format(time.RFC3339)),
	})
}

// unknownAdjustment names the first adjustment of a co-op that was not metered in the
// period; "" when there is none.
func unknownAdjustment(report *coopv1.CostReport) string {
	metered := map[string]bool{}
	for _, u := range report.Status.Usage {
		metered[u.Cooperative] = true
	}
	for i, a := range report.Spec.Policy.Adjustments {
		if !metered[a.Cooperative] {
			return fmt.Sprintf("spec.policy.adjustments[%d].cooperative: %q was not metered in the period, so its discount goes to no one; name a co-op of status.usage", i, a.Cooperative)
		}
	}
	return ""
}

// writeStatus applies the controller's part of the status, unless nothing changed.
func (r *Reconciler) writeStatus(ctx context.Context, report *coopv1.CostReport, s coopv1.CostReportStatus) (wrote bool, err error) {
	old := report.Status
	old.Usage, old.MeteredThrough = nil, nil
	if equality.Semantic.DeepEqual(old, s) {
		return false, nil
	}
	// status.usage and status.meteredThrough are the metering's.
	fields, err := ssa.StatusFields(&s, "usage", "meteredThrough")
	if err != nil {
		return false, err
	}
	if err := ssa.ApplyStatus(ctx, r.Client, coopv1.GroupVersion.WithKind("CostReport"), client.ObjectKey{Name: report.Name}, fields, FieldOwner); err != nil {
		return false, fmt.Errorf("writing the status of CostReport %s: %w", report.Name, err)
	}
	return true, nil
}

// finalize sets spec.final, after which the API server refuses any change to the spec, on
// the report of resourceVersion: one changed since conflicts.
func (r *Reconciler) finalize(ctx context.Context, name, resourceVersion string) error {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": coopv1.GroupVersion.String(),
		"kind":       "CostReport",
		"metadata":   map[string]any{"name": name, "resourceVersion": resourceVersion},
		"spec":       map[string]any{"final": true},
	}}
	if err := r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("finalizing CostReport %s: %w", name, err)
	}
	return nil
}
