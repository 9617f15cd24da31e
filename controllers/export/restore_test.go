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

package export

import (
	"context"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// A standby carrying an import's annotations (one written before the webhook refused
// them) is not restored into: its database replays its home co-op's backups. The restore
// writes nothing for it, where it would start the import's Job.
func TestRestoreTakesNoStandby(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := coopv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, batchv1.AddToScheme, networkingv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	coop := &coopv1.Cooperative{
		ObjectMeta: metav1.ObjectMeta{Name: "kept-there", Annotations: map[string]string{
			coopv1.AnnotationImportDump: "kept-there-1.dump", coopv1.AnnotationImportSHA256: strings.Repeat("0", 64)}},
		Spec:   coopv1.CooperativeSpec{Vertical: "ride-sharing", Standby: &coopv1.StandbySpec{HomeRegion: "eu-south", HomeCooperative: "kept-there"}},
		Status: coopv1.CooperativeStatus{Conditions: []metav1.Condition{{Type: coopv1.ConditionDatabaseReady, Status: metav1.ConditionTrue, Reason: "Ready", LastTransitionTime: metav1.Now()}}},
	}
	app := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: coop.NamespaceName(), Name: coopv1.AppSecretName(coop)}}
	var wrote []string
	record := func(what string) { wrote = append(wrote, what) }
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(coop, app).WithStatusSubresource(coop).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.CreateOption) error {
			record("create " + o.GetName())
			return c.Create(ctx, o, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, o client.Object, p client.Patch, opts ...client.PatchOption) error {
			record("patch " + o.GetName())
			return c.Patch(ctx, o, p, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, o client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			record("patch " + sub + " " + o.GetName())
			return c.SubResource(sub).Patch(ctx, o, p, opts...)
		},
	}).Build()
	r := &RestoreReconciler{Client: c, Upload: &Reconciler{}}
	res, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKey{Name: coop.Name}})
	if err != nil || res != (ctrl.Result{}) || len(wrote) > 0 {
		t.Fatalf("the restore of a standby: %v, %v, wrote %v", res, err, wrote)
	}
}

// An origin annotation that status.origin would refuse (an export name longer than its
// 63 characters: only cooperator import writes it, within the bounds) is not restored: the
// restore says why in status.origin.message and a Warning event, where every write of the
// origin was refused and the platform waited for ever with nothing said.
func TestRestoreRefusesAnOriginTheCRDRefuses(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := coopv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, batchv1.AddToScheme, networkingv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ origin, says string }{
		{`{"cooperative":"long-export","export":"` + strings.Repeat("x", 64) + `"}`, "status.origin.export: 64 characters, at most 63"},
		{`{"cooperative":"long-export","backups":"` + strings.Repeat("b", 1025) + `"}`, "status.origin.backups: 1025 characters, at most 1024"},
		{`{"cooperative":`, "not the JSON of an origin"},
	} {
		coop := &coopv1.Cooperative{
			ObjectMeta: metav1.ObjectMeta{Name: "long-export", Annotations: map[string]string{
				coopv1.AnnotationImportDump: "long-export-1.dump", coopv1.AnnotationImportSHA256: strings.Repeat("0", 64),
				coopv1.AnnotationImportOrigin: tc.origin}},
			Spec: coopv1.CooperativeSpec{Vertical: "ride-sharing"},
		}
		c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(coop).WithStatusSubresource(coop).Build()
		rec := events.NewFakeRecorder(4)
		r := &RestoreReconciler{Client: c, Upload: &Reconciler{Recorder: rec}}
		if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKey{Name: coop.Name}}); err != nil {
			t.Fatalf("%s: %v", tc.says, err)
		}
		got := &coopv1.Cooperative{}
		if err := c.Get(context.Background(), client.ObjectKey{Name: coop.Name}, got); err != nil {
			t.Fatal(err)
		}
		want := "annotation " + coopv1.AnnotationImportOrigin + ": " + tc.says
		if o := got.Status.Origin; o == nil || !strings.HasPrefix(o.Message, want) || !strings.HasSuffix(o.Message, "the platform stays stopped") || o.Export != "" || o.Backups != "" {
			t.Errorf("status.origin %+v, want a message beginning %q", o, want)
		}
		select {
		case e := <-rec.Events:
			if !strings.Contains(e, coopv1.ReasonImportRefused) || !strings.Contains(e, tc.says) {
				t.Errorf("event %q", e)
			}
		default:
			t.Errorf("%s: no event", tc.says)
		}
	}
}
