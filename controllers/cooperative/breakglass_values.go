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
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/cooperator-dev/cooperator/api/policy"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// BreakGlassValuesPath is where the manager serves BreakGlassValuesWebhook.
const BreakGlassValuesPath = "/mutate-coop-cooperator-dev-v1alpha1-cooperative-break-glass-values"

// +kubebuilder:webhook:path=/mutate-coop-cooperator-dev-v1alpha1-cooperative-break-glass-values,mutating=true,failurePolicy=ignore,sideEffects=None,groups=coop.cooperator.dev,resources=cooperatives,verbs=update,versions=v1alpha1,name=mcooperative-break-glass.coop.cooperator.dev,admissionReviewVersions=v1,timeoutSeconds=5,reinvocationPolicy=Never

// BreakGlassValuesWebhook writes, into an update that announces a break-glass use (it sets
// coopv1.AnnotationBreakGlassBy, which the Cooperative did not have), the annotation
// coopv1.AnnotationBreakGlassValues: the value before and after of each governed part the
// update changes (BreakGlassValues), so that the record the operator keeps, and the
// members read, says what the hub changed, not only which parts. It adds that annotation
// and nothing else; the validating webhook, called after it, refuses any other value of
// it. Its failure policy is Ignore: it is called on every update of a Cooperative, and
// one that no replica serves yet (during an upgrade) must not refuse them all; a
// break-glass use it could not serve is refused all the same, by the validating webhook,
// for want of its values.
func BreakGlassValuesWebhook() *webhook.Admission {
	return &webhook.Admission{Handler: admission.HandlerFunc(func(_ context.Context, req admission.Request) admission.Response {
		if req.Operation != admissionv1.Update {
			return admission.Allowed("")
		}
		var old, coop coopv1.Cooperative
		if err := json.Unmarshal(req.OldObject.Raw, &old); err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
		if err := json.Unmarshal(req.Object.Raw, &coop); err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
		if !announcesBreakGlass(&old, &coop) {
			return admission.Allowed("")
		}
		values, err := BreakGlassValues(&old, &coop)
		if err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
		key := strings.NewReplacer("~", "~0", "/", "~1").Replace(coopv1.AnnotationBreakGlassValues)
		return admission.Patched("", jsonpatch.NewOperation("add", "/metadata/annotations/"+key, values))
	})}
}

// announcesBreakGlass says whether an update sets the annotation naming who uses the
// break-glass path on a co-op that had none: a new use, whose values are taken.
func announcesBreakGlass(old, coop *coopv1.Cooperative) bool {
	_, had := old.Annotations[coopv1.AnnotationBreakGlassBy]
	_, has := coop.Annotations[coopv1.AnnotationBreakGlassBy]
	return has && !had
}

// breakGlassValue is one part's value before and after a break-glass use.
type breakGlassValue struct {
	Old json.RawMessage `json:"old"`
	New json.RawMessage `json:"new"`
}

// BreakGlassValues is the value of coopv1.AnnotationBreakGlassValues for an update from
// old to coop: each governed part it changes (GovernedChanges), before and after, as JSON
// by part (policy.SpecPart), keys in order.
func BreakGlassValues(old, coop *coopv1.Cooperative) (string, error) {
	values := map[string]breakGlassValue{}
	for _, f := range GovernedChanges(old, coop) {
		before, err := policy.SpecPart(old, string(f))
		if err != nil {
			return "", err
		}
		after, err := policy.SpecPart(coop, string(f))
		if err != nil {
			return "", err
		}
		values[string(f)] = breakGlassValue{Old: before, New: after}
	}
	b, err := json.Marshal(values)
	if err != nil {
		return "", fmt.Errorf("encoding the break-glass values: %w", err)
	}
	return string(b), nil
}

// breakGlassChanges reads the values annotation of a pending use into its changes, for
// the fields it lists; a value longer than the record keeps is left out (the field stays
// listed), as is everything of an annotation that does not parse (none before the
// webhook wrote it).
func breakGlassChanges(annotation string, fields []coopv1.GovernedField) []coopv1.BreakGlassChange {
	var values map[string]breakGlassValue
	if annotation == "" || json.Unmarshal([]byte(annotation), &values) != nil {
		return nil
	}
	var out []coopv1.BreakGlassChange
	for _, f := range fields {
		v, ok := values[string(f)]
		if !ok || len(v.Old) > coopv1.MaxBreakGlassValueLength || len(v.New) > coopv1.MaxBreakGlassValueLength {
			continue
		}
		out = append(out, coopv1.BreakGlassChange{Field: f, Old: string(v.Old), New: string(v.New)})
	}
	return out
}
