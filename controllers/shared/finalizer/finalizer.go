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

// Package finalizer adds and removes one finalizer of an object that several controllers
// hold finalizers on (a Cooperative: its tenant's and its federation's).
//
// A merge patch replaces the whole finalizers list. Computed from a stale copy, it writes
// back a finalizer another controller removed meanwhile, or drops one it added: an object
// then waits for ever on a finalizer nobody will remove, or is deleted before its
// controller cleaned up. Here an add is a server-side apply of the one finalizer, which
// keeps the others, and a removal is a patch that first tests that the list is still the
// copy's, so the API server refuses a stale one (a conflict, retried by the next reconcile
// from a fresh read), while other writes to the object (its status) do not make it fail.
package finalizer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// Option changes what a patch tests first.
type Option int

const (
	// IfUnchanged tests the object's resourceVersion too: the patch succeeds only if
	// nothing of the object changed since it was read, so that a write computed from the
	// same copy (a status update at the resourceVersion the patch returns) may follow it.
	IfUnchanged Option = iota + 1
)

// Add adds name to obj's finalizers in the API server, unless obj has it; obj takes the
// answer.
//
// It applies the finalizer alone (server-side apply), under a field manager of its own:
// the finalizers are a set, so the apply adds name once and keeps every other finalizer,
// and a copy read before name was added (a cache behind this controller's own write) adds
// nothing twice and fails nothing. With IfUnchanged it is a patch that tests the copy's
// finalizers and resourceVersion instead.
func Add(ctx context.Context, c client.Client, obj client.Object, name string, opts ...Option) error {
	if controllerutil.ContainsFinalizer(obj, name) {
		return nil
	}
	if slices.Contains(opts, IfUnchanged) {
		return patch(ctx, c, obj, opts, func() { controllerutil.AddFinalizer(obj, name) })
	}
	gvk, err := apiutil.GVKForObject(obj, c.Scheme())
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	u.SetNamespace(obj.GetNamespace())
	u.SetName(obj.GetName())
	// With the UID, the apply changes this object only: one deleted and made again under
	// the name refuses it (a UID is immutable: Invalid), and one that is gone is not made
	// again by it (a conflict).
	u.SetUID(obj.GetUID())
	u.SetFinalizers([]string{name})
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(ManagerOf(name))); err != nil {
		return fmt.Errorf("adding finalizer %s to %s %s: %w", name, gvk.Kind, client.ObjectKeyFromObject(obj), err)
	}
	obj.SetFinalizers(u.GetFinalizers())
	obj.SetResourceVersion(u.GetResourceVersion())
	return nil
}

// ManagerOf is the field manager that applies finalizer name: one per finalizer, as an
// apply of one manager's set drops what the manager applied before and left out.
func ManagerOf(name string) string {
	return "finalizer:" + name
}

// Remove removes name from obj's finalizers in the API server, if obj has it; obj takes
// the answer.
func Remove(ctx context.Context, c client.Client, obj client.Object, name string, opts ...Option) error {
	if !controllerutil.ContainsFinalizer(obj, name) {
		return nil
	}
	return patch(ctx, c, obj, opts, func() { controllerutil.RemoveFinalizer(obj, name) })
}

// patch applies change to obj's finalizers with a JSON patch of its metadata alone that
// first tests that the finalizers are still those of obj: a compare-and-swap of the list,
// which other writes to the object (its status, say) do not disturb. The rest of obj (a
// status computed so far) stays as it is, and obj takes the new resourceVersion. A list
// that changed since obj was read is a conflict.
func patch(ctx context.Context, c client.Client, obj client.Object, opts []Option, change func()) error {
	gvk, err := apiutil.GVKForObject(obj, c.Scheme())
	if err != nil {
		return err
	}
	before := slices.Clone(obj.GetFinalizers())
	change()
	after := obj.GetFinalizers()
	var expect any // null: the list is absent, as the API server stores an empty one
	if len(before) > 0 {
		expect = before
	}
	ops := []map[string]any{{"op": "test", "path": "/metadata/finalizers", "value": expect}}
	if slices.Contains(opts, IfUnchanged) {
		ops = append(ops, map[string]any{"op": "test", "path": "/metadata/resourceVersion", "value": obj.GetResourceVersion()})
	}
	ops = append(ops, map[string]any{"op": "add", "path": "/metadata/finalizers", "value": after})
	body, err := json.Marshal(ops)
	if err != nil {
		return err
	}
	meta := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: obj.GetNamespace(), Name: obj.GetName()}}
	meta.SetGroupVersionKind(gvk)
	if err := c.Patch(ctx, meta, client.RawPatch(types.JSONPatchType, body)); err != nil {
		obj.SetFinalizers(before)
		if testFailed(err) {
			err = apierrors.NewConflict(schema.GroupResource{Group: gvk.Group, Resource: gvk.Kind}, obj.GetName(),
				errors.New("its finalizers changed since it was read"))
		}
		return fmt.Errorf("updating the finalizers of %s %s: %w", gvk.Kind, client.ObjectKeyFromObject(obj), err)
	}
	obj.SetFinalizers(meta.GetFinalizers())
	obj.SetResourceVersion(meta.GetResourceVersion())
	return nil
}

// Stale reports whether err is a removal's (or an IfUnchanged add's) refusal because
// the copy was stale: another controller changed the object since it was read. Its change
// brings a fresh copy, so a reconcile may wait for that rather than report an error.
func Stale(err error) bool {
	return apierrors.IsConflict(err)
}

// patchRejected is the message of the API server's 422 for a JSON patch it cannot apply
// (k8s.io/apimachinery's NewGenericServerResponse); the patch library's own message is
// dropped.
const patchRejected = "the server rejected our request due to an error in our request"

// testFailed reports whether err is the API server's answer to a JSON patch whose test
// failed: a 422 with the generic message, that names no object and gives no cause. A 422 of
// validation ("no new finalizers can be added if the object is being deleted") names the
// object and its causes, and a webhook's refusal says so in its message: both are returned
// as they are.
func testFailed(err error) bool {
	var status apierrors.APIStatus
	if !apierrors.IsInvalid(err) || !errors.As(err, &status) {
		return false
	}
	s := status.Status()
	return s.Message == patchRejected && (s.Details == nil || (s.Details.Name == "" && len(s.Details.Causes) == 0))
}
