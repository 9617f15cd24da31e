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

package ssa

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Several writers share the status of one object (the Cooperative reconciler, the metering,
// the federation; the CostReport controller and the metering). Each applies only the status
// fields it owns, under its own field owner, so none overwrites another's.

// StatusFields converts a typed status, or a part of one, into the fields ApplyStatus
// takes, leaving out the named top-level fields (those another writer owns).
func StatusFields(status any, without ...string) (map[string]any, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(status)
	if err != nil {
		return nil, fmt.Errorf("converting the status: %w", err)
	}
	for _, f := range without {
		delete(m, f)
	}
	return m, nil
}

// ApplyStatus applies fields as the status of the object of kind gvk and key, with
// server-side apply as owner: the fields become owner's, and fields owner held before and
// left out now are removed. Fields other owners hold are left as they are.
func ApplyStatus(ctx context.Context, c client.Client, gvk schema.GroupVersionKind, key client.ObjectKey, fields map[string]any, owner string) error {
	return ApplyStatusAt(ctx, c, gvk, key, "", fields, owner)
}

// ApplyStatusAt is ApplyStatus with resourceVersion as a precondition (none when empty):
// the API server answers a conflict when the object changed since it was read at that
// version, for fields computed from what was read (a history appended to).
func ApplyStatusAt(ctx context.Context, c client.Client, gvk schema.GroupVersionKind, key client.ObjectKey, resourceVersion string, fields map[string]any, owner string) error {
	_, err := applyStatusAt(ctx, c, gvk, key, resourceVersion, fields, owner)
	return err
}

// ApplyStatusFrom is ApplyStatusAt at obj's resourceVersion, for fields computed from obj
// (a history appended to): a copy that is behind the object is a conflict, not a write
// that drops what it did not see. obj takes the resourceVersion of the answer, so that a
// second write of the same reconcile follows the first.
func ApplyStatusFrom(ctx context.Context, c client.Client, gvk schema.GroupVersionKind, obj client.Object, fields map[string]any, owner string) error {
	rv, err := applyStatusAt(ctx, c, gvk, client.ObjectKeyFromObject(obj), obj.GetResourceVersion(), fields, owner)
	if err != nil {
		return err
	}
	obj.SetResourceVersion(rv)
	return nil
}

func applyStatusAt(ctx context.Context, c client.Client, gvk schema.GroupVersionKind, key client.ObjectKey, resourceVersion string, fields map[string]any, owner string) (string, error) {
	u := &unstructured.Unstructured{Object: map[string]any{"status": fields}}
	u.SetGroupVersionKind(gvk)
	u.SetName(key.Name)
	u.SetNamespace(key.Namespace)
	u.SetResourceVersion(resourceVersion)
	if err := c.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(owner), client.ForceOwnership); err != nil {
		return "", fmt.Errorf("applying the status of %s %s: %w", gvk.Kind, key, err)
	}
	return u.GetResourceVersion(), nil
}
