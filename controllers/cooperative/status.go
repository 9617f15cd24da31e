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

package cooperative

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/ssa"
)

// areas are the conditions that Ready summarises, in the order they are reported.
var areas = []string{
	coopv1.ConditionTenancyReady, coopv1.ConditionDatabaseReady, coopv1.ConditionBackupReady, coopv1.ConditionPlatformReady,
}

// stalledReasons are reasons only a change of the spec, or of an object it names, can fix.
var stalledReasons = map[string]bool{
	coopv1.ReasonPlanNotFound:                  true,
	coopv1.ReasonPlanViolation:                 true,
	coopv1.ReasonTemplateNotFound:              true,
	coopv1.ReasonTemplateMismatch:              true,
	coopv1.ReasonObjectStoreCredentialsMissing: true,
	coopv1.ReasonSharedClusterNotBackedUp:      true,
	coopv1.ReasonRetainedBackupsElsewhere:      true,
}

// setCondition sets one condition of the co-op at the current generation.
func (s *scope) setCondition(t string, status metav1.ConditionStatus, reason, message string) {
	setCondition(s.coop, t, status, reason, message)
}

// setCondition sets one condition of coop at its current generation: what the pure
// set...Condition functions of the phases write with.
func setCondition(coop *coopv1.Cooperative, t string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&coop.Status.Conditions, metav1.Condition{
		Type: t, Status: status, Reason: reason, Message: message, ObservedGeneration: coop.Generation,
	})
}

func (s *scope) conditionTrue(t string) bool {
	return meta.IsStatusConditionTrue(s.coop.Status.Conditions, t)
}

func (s *scope) tenancyReady() bool { return s.conditionTrue(coopv1.ConditionTenancyReady) }

func (s *scope) stalledNow() bool { return s.conditionTrue(coopv1.ConditionStalled) }

// summarize sets Ready from the areas, and Reconciling and Stalled as kstatus reads them:
// Ready names the first area that is not ready; Stalled is True when that area waits on a
// change only a person can make; Reconciling is True otherwise while not Ready.
func summarize(s *scope) {
	coop := s.coop
	coop.Status.ObservedGeneration = coop.Generation
	var first *metav1.Condition
	for _, t := range areas {
		c := meta.FindStatusCondition(coop.Status.Conditions, t)
		if c == nil {
			s.setCondition(t, metav1.ConditionUnknown, coopv1.ReasonProgressing, "not reconciled yet")
			c = meta.FindStatusCondition(coop.Status.Conditions, t)
		}
		if c.Status != metav1.ConditionTrue && first == nil {
			first = c
		}
	}
	if first == nil {
		s.setCondition(coopv1.ConditionReady, metav1.ConditionTrue, coopv1.ReasonReady, "tenancy, database, backups and platform are ready")
		meta.RemoveStatusCondition(&coop.Status.Conditions, coopv1.ConditionReconciling)
		meta.RemoveStatusCondition(&coop.Status.Conditions, coopv1.ConditionStalled)
		return
	}
	msg := fmt.Sprintf("%s: %s", first.Type, first.Message)
	s.setCondition(coopv1.ConditionReady, metav1.ConditionFalse, first.Reason, msg)
	if stalledReasons[first.Reason] || (s.stalled && first.Reason == coopv1.ReasonApplyFailed) {
		s.setCondition(coopv1.ConditionStalled, metav1.ConditionTrue, first.Reason, msg)
		meta.RemoveStatusCondition(&coop.Status.Conditions, coopv1.ConditionReconciling)
		return
	}
	meta.RemoveStatusCondition(&coop.Status.Conditions, coopv1.ConditionStalled)
	s.setCondition(coopv1.ConditionReconciling, metav1.ConditionTrue, first.Reason, msg)
}

// ownedConditions are the condition types this reconciler writes. Others (written by other
// controllers under their own field owner) are left out of its status apply, so it never
// takes them over.
var ownedConditions = map[string]bool{
	coopv1.ConditionReady: true, coopv1.ConditionTenancyReady: true, coopv1.ConditionDatabaseReady: true,
	coopv1.ConditionBackupReady: true, coopv1.ConditionPlatformReady: true,
	coopv1.ConditionReconciling: true, coopv1.ConditionStalled: true,
}

// ownedStatus is the part of the status this reconciler writes; metering writes usage.
func ownedStatus(st coopv1.CooperativeStatus) coopv1.CooperativeStatus {
	var conditions []metav1.Condition
	for _, c := range st.Conditions {
		if ownedConditions[c.Type] {
			conditions = append(conditions, c)
		}
	}
	return coopv1.CooperativeStatus{
		Namespace:          st.Namespace,
		ObservedGeneration: st.ObservedGeneration,
		Conditions:         conditions,
		Endpoints:          st.Endpoints,
		LastBackup:         st.LastBackup,
		Database:           st.Database,
		Platform:           st.Platform,
		BreakGlass:         st.BreakGlass,
		// The reconcile request handled; see handleReconcileRequest.
		LastHandledReconcileAt: st.LastHandledReconcileAt,
	}
}

// patchStatus writes the status once per reconcile, with server-side apply of the fields
// this reconciler owns, and nothing at all when they did not change.
func (r *Reconciler) patchStatus(ctx context.Context, s *scope) error {
	if s.gone {
		return nil
	}
	desired := ownedStatus(s.coop.Status)
	if equality.Semantic.DeepEqual(desired, ownedStatus(s.original.Status)) {
		return nil
	}
	r.recordTransitions(s)
	fields, err := ssa.StatusFields(&desired)
	if err != nil {
		return err
	}
	err = ssa.ApplyStatus(ctx, r.Client, coopv1.GroupVersion.WithKind("Cooperative"), client.ObjectKey{Name: s.coop.Name}, fields, ssa.FieldOwner)
	if client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("writing the status of %s: %w", s.coop.Name, err)
	}
	return nil
}

// recordTransitions emits an event when the co-op becomes Ready or Stalled, the two
// transitions its admins act on. Condition messages carry no secret.
func (r *Reconciler) recordTransitions(s *scope) {
	became := func(t string) *metav1.Condition {
		now := meta.FindStatusCondition(s.coop.Status.Conditions, t)
		if now == nil || now.Status != metav1.ConditionTrue || meta.IsStatusConditionTrue(s.original.Status.Conditions, t) {
			return nil
		}
		return now
	}
	if c := became(coopv1.ConditionReady); c != nil {
		r.Recorder.Eventf(s.coop, nil, corev1.EventTypeNormal, coopv1.ReasonReady, "Reconcile", "Co-op is ready: %s", c.Message)
	}
	if c := became(coopv1.ConditionStalled); c != nil {
		r.Recorder.Eventf(s.coop, nil, corev1.EventTypeWarning, c.Reason, "Reconcile", "Co-op is stalled: %s", c.Message)
	}
}
