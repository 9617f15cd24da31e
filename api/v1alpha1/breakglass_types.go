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

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The hub's break-glass path: in an emergency, a member of the hub's break-glass group
// (hub setting breakGlassGroup) changes governed fields of a Cooperative directly, in one
// update that also sets these three annotations. The validating webhook admits it only
// when the requester is in the group, AnnotationBreakGlassBy is the requester's own user
// name, AnnotationBreakGlassFields lists exactly the governed fields the update changes and
// AnnotationBreakGlassReason is not empty; and it refuses any other write of the
// annotations by anyone but the operator, so a co-op admin can neither forge a use nor
// hide one. The operator then records the use in status.breakGlass, emits a Warning event
// and hands the record to the platform in the coop-policy ConfigMap; then it removes the
// annotations. Until it has, the webhook refuses the next break-glass use, so no use goes
// unrecorded.
const (
	// AnnotationBreakGlassReason says why the hub changed governed fields directly.
	AnnotationBreakGlassReason = "coop.cooperator.dev/break-glass-reason"
	// AnnotationBreakGlassBy is the user name of the member of the break-glass group who
	// makes the change; it must be the requester's own.
	AnnotationBreakGlassBy = "coop.cooperator.dev/break-glass-by"
	// AnnotationBreakGlassFields lists, comma-separated in the order of GovernedFields, the
	// governed fields the change touches.
	AnnotationBreakGlassFields = "coop.cooperator.dev/break-glass-fields"
	// AnnotationBreakGlassValues holds each changed part's value before and after the
	// change, as JSON ({"feeSplit":{"old":{...},"new":{...}}}). The operator's mutating
	// webhook writes it into the update that sets the other three; the validating webhook
	// refuses any other value, so it is what the update changed.
	AnnotationBreakGlassValues = "coop.cooperator.dev/break-glass-values"

	// ReasonBreakGlass is the reason of the Warning event that records a break-glass use.
	ReasonBreakGlass = "BreakGlass"

	// MaxBreakGlassRecords is how many break-glass uses status.breakGlass keeps, the most
	// recent last.
	MaxBreakGlassRecords = 20
	// MaxBreakGlassReasonLength bounds the reason annotation.
	MaxBreakGlassReasonLength = 1024
	// MaxBreakGlassValueLength bounds the JSON of a part's value a record keeps.
	MaxBreakGlassValueLength = 8192
)

// BreakGlassAnnotations are the annotations of a break-glass use.
var BreakGlassAnnotations = []string{AnnotationBreakGlassReason, AnnotationBreakGlassBy, AnnotationBreakGlassFields, AnnotationBreakGlassValues}

// BreakGlassUse records one change of governed fields made through the hub's break-glass
// path rather than by a passed proposal.
type BreakGlassUse struct {
	// user is the user name of the member of the hub's break-glass group who made the
	// change (its groups and other attributes are not recorded).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	User string `json:"user"`

	// time the operator recorded the use. The webhook admits no further use until this one
	// is recorded, so it follows the change within seconds.
	// +required
	Time metav1.Time `json:"time"`

	// fields are the governed parts of the spec the change touched.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=8
	Fields []GovernedField `json:"fields"`

	// reason the user gave.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Reason string `json:"reason"`

	// generation of the Cooperative when the use was recorded: the change made this
	// generation or, when the spec changed again before the operator saw it, an earlier one.
	// +optional
	Generation int64 `json:"generation,omitempty"`

	// changes are the values of the parts before and after the change, as the webhook
	// took them from the update itself (none for a use recorded before they were kept).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=8
	Changes []BreakGlassChange `json:"changes,omitempty"`
}

// BreakGlassChange is one governed part a break-glass use changed: its value before and
// after, as JSON.
type BreakGlassChange struct {
	// field is the governed part of the spec.
	// +required
	Field GovernedField `json:"field"`

	// old is the part's value before the change, as JSON.
	// +required
	// +kubebuilder:validation:MaxLength=8192
	Old string `json:"old"`

	// new is the part's value after the change, as JSON.
	// +required
	// +kubebuilder:validation:MaxLength=8192
	New string `json:"new"`
}
