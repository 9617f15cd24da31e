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

package finalizer_test

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cooperator-dev/cooperator/controllers/shared/finalizer"
	"github.com/cooperator-dev/cooperator/test/harness"
)

// Two controllers hold a finalizer each on one object, and each removes its own from the
// copy it read. The second copy is stale: its patch must fail rather than write back the
// finalizer the first removed (the object would then wait for ever on it), and a stale add
// must keep another's, not drop it. The rest of the copy (a status computed so far) stays
// as it was, with the new resourceVersion.
func TestAStaleCopyChangesNoOtherFinalizer(t *testing.T) {
	env := harness.StartT(t, harness.Options{})
	ctx := t.Context()
	c := env.Client
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fin"}}); err != nil {
		t.Fatal(err)
	}
	key := client.ObjectKey{Namespace: "fin", Name: "coop"}
	if err := c.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, Finalizers: []string{"test.cooperator.dev/tenant", "test.cooperator.dev/federation"}},
		Data:       map[string]string{"state": "stored"},
	}); err != nil {
		t.Fatal(err)
	}
	read := func() *corev1.ConfigMap {
		t.Helper()
		cm := &corev1.ConfigMap{}
		if err := c.Get(ctx, key, cm); err != nil {
			t.Fatal(err)
		}
		return cm
	}
	tenant, federation := read(), read()

	tenant.Data["state"] = "computed, not stored"
	if err := finalizer.Remove(ctx, c, tenant, "test.cooperator.dev/tenant"); err != nil {
		t.Fatal(err)
	}
	if got := read(); !slices.Equal(got.Finalizers, []string{"test.cooperator.dev/federation"}) || got.ResourceVersion != tenant.ResourceVersion {
		t.Fatalf("after the first removal: finalizers %v at %s, the copy at %s", got.Finalizers, got.ResourceVersion, tenant.ResourceVersion)
	}
	if tenant.Data["state"] != "computed, not stored" || read().Data["state"] != "stored" {
		t.Errorf("the removal changed the rest of the copy (%q) or the object (%q)", tenant.Data["state"], read().Data["state"])
	}

	err := finalizer.Remove(ctx, c, federation, "test.cooperator.dev/federation")
	if !apierrors.IsConflict(err) {
		t.Fatalf("a removal from a stale copy: %v, want a conflict", err)
	}
	if !slices.Equal(federation.Finalizers, []string{"test.cooperator.dev/tenant", "test.cooperator.dev/federation"}) {
		t.Errorf("a failed removal left the copy's finalizers at %v", federation.Finalizers)
	}
	if got := read().Finalizers; !slices.Equal(got, []string{"test.cooperator.dev/federation"}) {
		t.Fatalf("stale copies changed the finalizers to %v", got)
	}

	// Read again, the removal goes through, although another writer changed the object
	// (not its finalizers) since.
	fresh := read()
	other := read()
	other.Data["state"] = "rewritten"
	if err := c.Update(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := finalizer.Remove(ctx, c, fresh, "test.cooperator.dev/federation"); err != nil {
		t.Fatal(err)
	}
	if got := read(); len(got.Finalizers) != 0 || got.Data["state"] != "rewritten" {
		t.Fatalf("after the second removal: finalizers %v, state %q", got.Finalizers, got.Data["state"])
	}

	// An object without finalizers gets one. An add from a copy read before another's add
	// keeps that one; an add from a copy read before this finalizer's own add (a cache
	// behind) adds it once, and fails nothing.
	none, stale := read(), read()
	if err := finalizer.Add(ctx, c, none, "test.cooperator.dev/tenant"); err != nil {
		t.Fatal(err)
	}
	if err := finalizer.Add(ctx, c, stale, "test.cooperator.dev/federation"); err != nil {
		t.Fatalf("an add to a copy read before another's add: %v", err)
	}
	if err := finalizer.Add(ctx, c, none.DeepCopy(), "test.cooperator.dev/federation"); err != nil {
		t.Fatalf("an add to a copy read before its own add: %v", err)
	}
	if got := read().Finalizers; !slices.Equal(got, []string{"test.cooperator.dev/tenant", "test.cooperator.dev/federation"}) {
		t.Fatalf("finalizers %v", got)
	}
	if err := finalizer.Remove(ctx, c, read(), "test.cooperator.dev/federation"); err != nil {
		t.Fatal(err)
	}

	// IfUnchanged: any change of the object since it was read fails the patch, not only
	// one of its finalizers.
	exact := read()
	changed := read()
	changed.Data["state"] = "changed again"
	if err := c.Update(ctx, changed); err != nil {
		t.Fatal(err)
	}
	if err := finalizer.Add(ctx, c, exact, "test.cooperator.dev/export", finalizer.IfUnchanged); !apierrors.IsConflict(err) {
		t.Fatalf("an exact add to a copy read before another write: %v, want a conflict", err)
	}
	if err := finalizer.Add(ctx, c, read(), "test.cooperator.dev/export", finalizer.IfUnchanged); err != nil {
		t.Fatal(err)
	}

	// A refusal that is no test's failure keeps its own message: no finalizer may be added
	// to an object being deleted.
	if err := c.Delete(ctx, read()); err != nil {
		t.Fatal(err)
	}
	err = finalizer.Add(ctx, c, read(), "test.cooperator.dev/late")
	if err == nil || apierrors.IsConflict(err) || !strings.Contains(err.Error(), "no new finalizers can be added") {
		t.Fatalf("adding a finalizer to an object being deleted: %v", err)
	}
}
