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
	"context"
	"strings"
	"testing"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

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
	desired, read := configMap(t, c, "policy")

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

// Apply reads an object for its ownership upgrade only where one may be due, and once: after
// the first change of an object it created, no later change reads it again; a custom
// resource, which Apply never creates plainly, is never read for it.
func TestApplyReadsForTheOwnershipUpgradeOnce(t *testing.T) {
	env := harness.StartT(t, harness.Options{})
	ctx := t.Context()
	reads := map[string]int{}
	c := intercepted(t, env, interceptor.Funcs{
		Get: func(ctx context.Context, cl client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			gvk, err := cl.GroupVersionKindFor(obj)
			if err != nil {
				return err
			}
			reads[gvk.Kind]++
			return cl.Get(ctx, key, obj, opts...)
		},
	})
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ssa"}}); err != nil {
		t.Fatal(err)
	}
	desired, read := configMap(t, env.Client, "status")

	if res, err := ssa.Apply(ctx, c, desired(map[string]string{"a": "1", "b": "2"}), nil); err != nil || res != ssa.Created {
		t.Fatalf("create: %v, %v; want Created", res, err)
	}
	for i, data := range []map[string]string{{"a": "2"}, {"a": "3"}, {"a": "4"}} {
		if res, err := ssa.Apply(ctx, c, desired(data), read()); err != nil || res != ssa.Updated {
			t.Fatalf("change %d: %v, %v; want Updated", i, res, err)
		}
	}
	if got := read().Data; len(got) != 1 || got["a"] != "4" {
		t.Errorf("data %v: want only a=4 (b dropped)", got)
	}
	if reads["ConfigMap"] != 1 {
		t.Errorf("the ConfigMap was read %d times for its ownership over three changes; want once", reads["ConfigMap"])
	}

	sb := func(schedule string) *cnpgv1.ScheduledBackup {
		return &cnpgv1.ScheduledBackup{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ssa", Name: "nightly"},
			Spec:       cnpgv1.ScheduledBackupSpec{Schedule: schedule, Cluster: cnpgv1.LocalObjectReference{Name: "db"}},
		}
	}
	if res, err := ssa.Apply(ctx, c, sb("0 0 3 * * *"), nil); err != nil || res != ssa.Created {
		t.Fatalf("custom resource: %v, %v; want Created", res, err)
	}
	var live cnpgv1.ScheduledBackup
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "ssa", Name: "nightly"}, &live); err != nil {
		t.Fatal(err)
	}
	live.SetGroupVersionKind(cnpgv1.SchemeGroupVersion.WithKind("ScheduledBackup"))
	if res, err := ssa.Apply(ctx, c, sb("0 0 4 * * *"), &live); err != nil || res != ssa.Updated {
		t.Fatalf("custom resource changed: %v, %v; want Updated", res, err)
	}
	if reads["ScheduledBackup"] != 0 {
		t.Errorf("a custom resource was read %d times for its ownership; want never", reads["ScheduledBackup"])
	}
}

// ApplyChanging creates an object of Kubernetes' own kinds by an apply, so that its changes
// are one apply each: no read and no ownership patch, from the first change on, and a field
// the desired object no longer holds still goes.
func TestApplyChangingCreatesByApply(t *testing.T) {
	env := harness.StartT(t, harness.Options{})
	ctx := t.Context()
	reads, patches := 0, 0
	c := intercepted(t, env, interceptor.Funcs{
		Get: func(ctx context.Context, cl client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			reads++
			return cl.Get(ctx, key, obj, opts...)
		},
		Patch: func(ctx context.Context, cl client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			patches++
			return cl.Patch(ctx, obj, patch, opts...)
		},
	})
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ssa"}}); err != nil {
		t.Fatal(err)
	}
	desired, read := configMap(t, env.Client, "document")

	if res, err := ssa.ApplyChanging(ctx, c, desired(map[string]string{"a": "1", "b": "2"}), nil); err != nil || res != ssa.Created {
		t.Fatalf("create: %v, %v; want Created", res, err)
	}
	for _, e := range read().ManagedFields {
		if e.Manager == ssa.FieldOwner && e.Operation != metav1.ManagedFieldsOperationApply {
			t.Errorf("created with a %s entry of %s; want an apply's", e.Operation, ssa.FieldOwner)
		}
	}
	for i, data := range []map[string]string{{"a": "2"}, {"a": "3"}} {
		if res, err := ssa.ApplyChanging(ctx, c, desired(data), read()); err != nil || res != ssa.Updated {
			t.Fatalf("change %d: %v, %v; want Updated", i, res, err)
		}
	}
	if got := read().Data; len(got) != 1 || got["a"] != "3" {
		t.Errorf("data %v: want only a=3 (b dropped)", got)
	}
	if reads != 0 || patches != 0 {
		t.Errorf("%d reads and %d patches besides the applies; want none", reads, patches)
	}
}

// ApplyUnread writes a custom resource without reading it (a client allowed to write it but
// not to read it, as a peer hub's at another hub) and answers the object as stored, its
// status included; it refuses Kubernetes' own kinds, whose ownership upgrade needs a read.
func TestApplyUnreadAnswersTheStoredObject(t *testing.T) {
	env := harness.StartT(t, harness.Options{})
	ctx := t.Context()
	reads := 0
	c := intercepted(t, env, interceptor.Funcs{
		Get: func(ctx context.Context, cl client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			reads++
			return cl.Get(ctx, key, obj, opts...)
		},
	})
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ssa"}}); err != nil {
		t.Fatal(err)
	}
	sb := func(schedule string) *cnpgv1.ScheduledBackup {
		return &cnpgv1.ScheduledBackup{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ssa", Name: "unread"},
			Spec:       cnpgv1.ScheduledBackupSpec{Schedule: schedule, Cluster: cnpgv1.LocalObjectReference{Name: "db"}},
		}
	}
	var answer cnpgv1.ScheduledBackup
	if err := ssa.ApplyUnread(ctx, c, sb("0 0 3 * * *"), &answer); err != nil {
		t.Fatal(err)
	}
	if answer.UID == "" || answer.Spec.Schedule != "0 0 3 * * *" || answer.Annotations[ssa.HashAnnotation] == "" {
		t.Fatalf("the answer to the create: %+v", answer)
	}
	// The status someone else wrote comes back with the next apply.
	answer.Status.LastScheduleTime = &metav1.Time{Time: time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)}
	if err := env.Client.Status().Update(ctx, &answer); err != nil {
		t.Fatal(err)
	}
	var again cnpgv1.ScheduledBackup
	if err := ssa.ApplyUnread(ctx, c, sb("0 0 4 * * *"), &again); err != nil {
		t.Fatal(err)
	}
	if again.UID != answer.UID || again.Spec.Schedule != "0 0 4 * * *" || again.Status.LastScheduleTime == nil {
		t.Fatalf("the answer to the change: %+v", again)
	}
	if reads != 0 {
		t.Errorf("%d reads; want none", reads)
	}
	desired, _ := configMap(t, env.Client, "unread")
	if err := ssa.ApplyUnread(ctx, c, desired(map[string]string{"a": "1"}), &corev1.ConfigMap{}); err == nil || !strings.Contains(err.Error(), "custom resources only") {
		t.Errorf("a ConfigMap: %v", err)
	}
}

// configMap is a ConfigMap name of namespace ssa to apply (desired, with the given data)
// and to read back, typed as the cache gives it.
func configMap(t *testing.T, c client.Client, name string) (desired func(map[string]string) *corev1.ConfigMap, read func() *corev1.ConfigMap) {
	desired = func(data map[string]string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ssa", Name: name}, Data: data}
	}
	read = func() *corev1.ConfigMap {
		t.Helper()
		var cm corev1.ConfigMap
		if err := c.Get(t.Context(), client.ObjectKey{Namespace: "ssa", Name: name}, &cm); err != nil {
			t.Fatal(err)
		}
		cm.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMap"))
		return &cm
	}
	return desired, read
}

// intercepted is a client of env's API server through funcs.
func intercepted(t *testing.T, env *harness.Env, funcs interceptor.Funcs) client.WithWatch {
	t.Helper()
	base, err := client.NewWithWatch(env.Cfg, client.Options{Scheme: env.Client.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return interceptor.NewClient(base, funcs)
}
