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

package ssa_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cooperator-dev/cooperator/controllers/shared/ssa"
	"github.com/cooperator-dev/cooperator/test/harness"
)

// An object Apply created and then applies without a field loses the field, as if it had
// been applied from the start: the create's ownership becomes the apply's. A field another
// manager set stays. A converged object is not written.
func TestApplyOverCreatedObjectDropsWhatItNoLongerHolds(t *testing.T) {
	env := harness.StartT(t, harness.Options{})
	ctx := t.Context()
	c := env.Client
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ssa"}}); err != nil {
		t.Fatal(err)
	}
	desired := func(data map[string]string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ssa", Name: "policy"}, Data: data}
	}
	read := func() *corev1.ConfigMap {
		t.Helper()
		var cm corev1.ConfigMap
		if err := c.Get(ctx, client.ObjectKey{Namespace: "ssa", Name: "policy"}, &cm); err != nil {
			t.Fatal(err)
		}
		cm.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMap")) // as the cache gives it
		return &cm
	}

	if res, err := ssa.Apply(ctx, c, desired(map[string]string{"kept": "1", "dropped": "2"}), nil); err != nil || res != ssa.Created {
		t.Fatalf("first apply: %v, %v; want Created", res, err)
	}
	// Another manager adds a key of its own.
	other := read()
	other.Data["theirs"] = "3"
	if err := c.Update(ctx, other, client.FieldOwner("someone-else")); err != nil {
		t.Fatal(err)
	}

	if res, err := ssa.Apply(ctx, c, desired(map[string]string{"kept": "1"}), read()); err != nil || res != ssa.Updated {
		t.Fatalf("second apply: %v, %v; want Updated", res, err)
	}
	got := read()
	if _, ok := got.Data["dropped"]; ok || got.Data["kept"] != "1" || got.Data["theirs"] != "3" {
		t.Errorf("data %v: want kept, theirs, and no longer dropped", got.Data)
	}
	for _, e := range got.ManagedFields {
		if e.Manager == ssa.FieldOwner && e.Operation != metav1.ManagedFieldsOperationApply {
			t.Errorf("%s still owns fields through a %s entry", ssa.FieldOwner, e.Operation)
		}
	}

	rv := got.ResourceVersion
	if res, err := ssa.Apply(ctx, c, desired(map[string]string{"kept": "1"}), got); err != nil || res != ssa.Unchanged {
		t.Fatalf("third apply: %v, %v; want Unchanged", res, err)
	}
	if read().ResourceVersion != rv {
		t.Error("a converged object was written")
	}
}
