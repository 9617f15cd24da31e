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
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// SuspendedMessage is the message of Ready while spec.suspend is true.
const SuspendedMessage = "reconciliation is suspended (spec.suspend is true): the operator changes nothing until it is resumed"

// setSuspended is the status of a suspended co-op: Ready False and Stalled True with
// reason Suspended, no Reconciling, the current generation observed. kstatus reads it as
// Failed with that message: nothing progresses until a person resumes it, so a tool that
// waits for the co-op (kubectl wait, a Flux health check) stops waiting and says why,
// rather than waiting for ever. The area conditions keep what they last said.
func setSuspended(s *scope) {
	s.coop.Status.ObservedGeneration = s.coop.Generation
	s.setCondition(coopv1.ConditionReady, metav1.ConditionFalse, coopv1.ReasonSuspended, SuspendedMessage)
	s.setCondition(coopv1.ConditionStalled, metav1.ConditionTrue, coopv1.ReasonSuspended, SuspendedMessage)
	meta.RemoveStatusCondition(&s.coop.Status.Conditions, coopv1.ConditionReconciling)
}

// suspend stops a reconcile of a suspended co-op, says so in its status, and records an
// event the first time.
func (r *Reconciler) suspend(s *scope) {
	was := meta.FindStatusCondition(s.original.Status.Conditions, coopv1.ConditionReady)
	setSuspended(s)
	if was == nil || was.Reason != coopv1.ReasonSuspended {
		r.Recorder.Eventf(s.coop, nil, corev1.EventTypeNormal, coopv1.ReasonSuspended, "Suspend", "Reconciliation suspended")
	}
}

// handleReconcileRequest records the reconcile-request annotation this reconcile handles.
func handleReconcileRequest(s *scope) {
	if v, ok := s.coop.Annotations[coopv1.AnnotationReconcileRequestedAt]; ok {
		s.coop.Status.LastHandledReconcileAt = v
	}
}
