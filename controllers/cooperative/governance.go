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
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// PendingBreakGlass is the break-glass use the co-op's annotations announce and the operator
// has not recorded yet; false when they announce none. The webhook admitted the annotations
// only with the change they describe, from the user they name.
func PendingBreakGlass(coop *coopv1.Cooperative) (coopv1.BreakGlassUse, bool) {
	by, reason := coop.Annotations[coopv1.AnnotationBreakGlassBy], coop.Annotations[coopv1.AnnotationBreakGlassReason]
	if by == "" && reason == "" && coop.Annotations[coopv1.AnnotationBreakGlassFields] == "" {
		return coopv1.BreakGlassUse{}, false
	}
	use := coopv1.BreakGlassUse{User: by, Reason: strings.TrimSpace(reason), Generation: coop.Generation}
	for _, f := range strings.Split(coop.Annotations[coopv1.AnnotationBreakGlassFields], ",") {
		if f != "" {
			use.Fields = append(use.Fields, coopv1.GovernedField(f))
		}
	}
	use.Changes = breakGlassChanges(coop.Annotations[coopv1.AnnotationBreakGlassValues], use.Fields)
	return use, true
}

// RecordBreakGlass appends a use to the records, keeping the most recent
// MaxBreakGlassRecords. A use already recorded at the same generation (the operator wrote the
// record and then failed to remove the annotations) is not recorded twice.
func RecordBreakGlass(records []coopv1.BreakGlassUse, use coopv1.BreakGlassUse) ([]coopv1.BreakGlassUse, bool) {
	if slices.ContainsFunc(records, func(r coopv1.BreakGlassUse) bool {
		return r.User == use.User && r.Reason == use.Reason && r.Generation == use.Generation && slices.Equal(r.Fields, use.Fields)
	}) {
		return records, false
	}
	out := append(slices.Clone(records), use)
	if len(out) > coopv1.MaxBreakGlassRecords {
		out = out[len(out)-coopv1.MaxBreakGlassRecords:]
	}
	return out, true
}

// recordBreakGlass records a break-glass use the co-op's annotations announce: in status
// (written at once, so that removing the annotations never loses it), as a Warning event,
// and, through the status, in the coop-policy ConfigMap the members' platform reads. Then
// it removes the annotations, which lets the webhook admit the next use. On a standby it
// records nothing (its governed fields follow its home co-op, whose hub has the
// break-glass path) and removes the annotations with a Warning event.
func (r *Reconciler) recordBreakGlass(ctx context.Context, s *scope) error {
	coop := s.coop
	use, ok := PendingBreakGlass(coop)
	if !ok {
		return nil
	}
	use.Time = metav1.Now()
	standby := coop.Spec.Standby != nil
	if standby {
		// Its governed fields follow its home co-op, whose hub has the break-glass path:
		// annotations on a standby (which admission refuses) record nothing here.
		r.Recorder.Eventf(coop, nil, corev1.EventTypeWarning, coopv1.ReasonBreakGlass, "BreakGlass",
			"Removed break-glass annotations naming %s from a standby without recording them: its governed fields follow its home co-op", use.User)
	}
	if records, added := RecordBreakGlass(coop.Status.BreakGlass, use); added && !standby {
		coop.Status.BreakGlass = records
		if err := r.patchStatus(ctx, s); err != nil {
			return fmt.Errorf("recording the break-glass use: %w", err)
		}
		s.original.Status.BreakGlass = records
		fields := make([]string, len(use.Fields))
		for i, f := range use.Fields {
			fields[i] = string(f)
		}
		r.Recorder.Eventf(coop, nil, corev1.EventTypeWarning, coopv1.ReasonBreakGlass, "BreakGlass",
			"%s changed governed fields %s through the hub's break-glass path, without a vote: %s", use.User, strings.Join(fields, ","), use.Reason)
		log.FromContext(ctx).Info("Recorded a break-glass use", "cooperative", coop.Name, "fields", fields)
	}
	patch := client.MergeFrom(coop.DeepCopy())
	for _, key := range coopv1.BreakGlassAnnotations {
		delete(coop.Annotations, key)
	}
	if err := r.Client.Patch(ctx, coop, patch); err != nil {
		return fmt.Errorf("removing the recorded break-glass annotations: %w", err)
	}
	return nil
}
