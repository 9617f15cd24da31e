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

package finalizer

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Only the API server's answer to a failed JSON patch test is a stale copy; a webhook's
// 422 (which names no object either) and a validation error keep their meaning.
func TestTestFailed(t *testing.T) {
	webhook := &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusUnprocessableEntity,
		Message: `admission webhook "vcooperative.kb.io" denied the request: the template is gone`}}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"a failed test", apierrors.NewGenericServerResponse(http.StatusUnprocessableEntity, "", schema.GroupResource{}, "", "testing value /metadata/finalizers failed", 0, false), true},
		{"a failed test, wrapped", fmt.Errorf("patching: %w", apierrors.NewGenericServerResponse(http.StatusUnprocessableEntity, "", schema.GroupResource{}, "", "", 0, false)), true},
		{"a webhook's refusal", webhook, false},
		{"a validation error", apierrors.NewInvalid(schema.GroupKind{Kind: "ConfigMap"}, "coop", field.ErrorList{field.Forbidden(field.NewPath("metadata", "finalizers"), "no new finalizers can be added if the object is being deleted")}), false},
		{"a conflict", apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, "coop", errors.New("changed")), false},
		{"no API error", errors.New("connection refused"), false},
	} {
		if got := testFailed(tc.err); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
