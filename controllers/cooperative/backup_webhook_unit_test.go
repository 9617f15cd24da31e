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
	"errors"
	"strings"
	"testing"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// validatorEnv is a BackupValidator on a fake cache holding co-op hourly's namespace, a
// namespace of no co-op and the given Backups; the access reviews allow user hub-admin to
// create Backups in every namespace, and count.
func validatorEnv(t *testing.T, backups ...client.Object) (*BackupValidator, *int, *time.Time) {
	t.Helper()
	scheme := backupScheme(t)
	coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "hourly"}}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: coop.NamespaceName(), Labels: commonLabels(coop)}}
	other := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "not-a-coop"}}
	reviews := new(int)
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(append(backups, ns, other)...).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, cl client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if r, ok := obj.(*authorizationv1.SubjectAccessReview); ok {
				*reviews++
				r.Status.Allowed = r.Spec.User == "hub-admin" && r.Spec.ResourceAttributes.Namespace == ""
				return nil
			}
			return cl.Create(ctx, obj, opts...)
		},
	}).Build()
	now := new(time.Time)
	return &BackupValidator{Client: c, Reviews: c, OperatorUsername: "system:serviceaccount:cooperator-system:cooperator", Now: func() time.Time { return *now }}, reviews, now
}

// backupScheme knows Kubernetes' kinds and CloudNativePG's.
func backupScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, cnpgv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	return scheme
}

// as is an admission request's context from user, a dry run when dryRun.
func as(user string, dryRun bool) context.Context {
	return admission.NewContextWithRequest(context.Background(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UserInfo: authenticationv1.UserInfo{Username: user}, DryRun: &dryRun,
	}})
}

// The hour is measured from the last backup's creation: the envtest suite cannot wait an
// hour, so this test moves the webhook's clock. (The envtest suite checks the refusal
// through the API server, as the co-op admin.)
func TestBackupValidatorAllowsOneBackupAnHour(t *testing.T) {
	requested := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "hourly"}}
	last := BuildOnDemandBackup(coop, "hourly-last")
	last.CreationTimestamp = metav1.NewTime(requested)
	v, reviews, now := validatorEnv(t, last)
	ns, other := coop.NamespaceName(), "not-a-coop"
	next := func(namespace string) *cnpgv1.Backup {
		b := BuildOnDemandBackup(coop, "hourly-next")
		b.Namespace = namespace
		return b
	}
	for _, tc := range []struct {
		name      string
		user      string
		namespace string
		now       time.Time
		want      string
	}{
		{name: "a co-op admin within the hour", user: "alice", namespace: ns, now: requested.Add(59 * time.Minute),
			want: "backup hourly-last of Cluster hourly was requested at 2026-12-06T10:00:00Z: a co-op may ask for one backup an hour; ask again after 2026-12-06T11:00:00Z"},
		{name: "a co-op admin an hour later", user: "alice", namespace: ns, now: requested.Add(time.Hour)},
		{name: "the hub within the hour", user: "hub-admin", namespace: ns, now: requested.Add(time.Minute)},
		{name: "the operator within the hour (a final backup)", user: v.OperatorUsername, namespace: ns, now: requested.Add(time.Minute)},
		{name: "outside co-op namespaces", user: "alice", namespace: other, now: requested.Add(time.Minute)},
		{name: "a namespace the operator does not know", user: "alice", namespace: "unknown", now: requested.Add(time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			*now = tc.now
			_, err := v.ValidateCreate(as(tc.user, true), next(tc.namespace))
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want a refusal saying %q", err, tc.want)
			}
		})
	}
	if *reviews != 2 {
		t.Errorf("%d access reviews, want 2: one for each requester within the hour who is not the operator, in a co-op namespace", *reviews)
	}
}

// Two requests before the cache holds the first are not both let through; a dry run is not
// remembered; a co-op admin backs up the co-op's own Cluster only.
func TestBackupValidatorRememberedAndOwnCluster(t *testing.T) {
	v, _, now := validatorEnv(t)
	*now = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "hourly"}}
	for i, step := range []struct {
		dryRun bool
		want   string
	}{
		{dryRun: true},
		{dryRun: false},
		{dryRun: true, want: "a backup of Cluster hourly was requested at 2026-12-06T10:00:00Z: a co-op may ask for one backup an hour"},
	} {
		_, err := v.ValidateCreate(as("alice", step.dryRun), BuildOnDemandBackup(coop, "hourly-now"))
		if (step.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), step.want)) {
			t.Errorf("request %d: got %v, want %q", i, err, step.want)
		}
	}

	v, _, now = validatorEnv(t)
	*now = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	b := BuildOnDemandBackup(coop, "hourly-elsewhere")
	b.Spec.Cluster.Name, b.Labels[coopv1.ClusterLabel] = "not-ours", "not-ours"
	if _, err := v.ValidateCreate(as("alice", false), b); err == nil || !strings.Contains(err.Error(), `spec.cluster.name: Unsupported value: "not-ours": supported values: "hourly"`) {
		t.Errorf("a backup of another Cluster: got %v", err)
	}
	if _, err := v.ValidateCreate(as("hub-admin", false), b); err != nil {
		t.Errorf("the hub backs up any Cluster: %v", err)
	}

	// What was admitted is remembered only until the cache would hold it: a request
	// refused after admission (by CloudNativePG's own webhook, say) holds the co-op's
	// admins back for two minutes, not an hour.
	v, _, now = validatorEnv(t)
	*now = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	if _, err := v.ValidateCreate(as("alice", false), BuildOnDemandBackup(coop, "hourly-refused-later")); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(time.Minute)
	if _, err := v.ValidateCreate(as("alice", true), BuildOnDemandBackup(coop, "hourly-again")); err == nil {
		t.Error("a minute after an admission the cache may not hold: refused")
	}
	*now = now.Add(2 * time.Minute)
	if _, err := v.ValidateCreate(as("alice", true), BuildOnDemandBackup(coop, "hourly-again")); err != nil {
		t.Errorf("three minutes after an admission the cache does not hold, the cache decides: %v", err)
	}
}

// The webhook fails open: a Backup it cannot judge is admitted, with a warning.
func TestBackupValidatorFailsOpen(t *testing.T) {
	scheme := backupScheme(t)
	coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "hourly"}}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: coop.NamespaceName(), Labels: commonLabels(coop)}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(ns).WithInterceptorFuncs(interceptor.Funcs{
		List: func(context.Context, client.WithWatch, client.ObjectList, ...client.ListOption) error {
			return errors.New("the cache is not started")
		},
	}).Build()
	v := &BackupValidator{Client: c, Reviews: c, OperatorUsername: "operator"}
	warnings, err := v.ValidateCreate(as("alice", true), BuildOnDemandBackup(coop, "hourly-unjudged"))
	if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], "could not check the on-demand backup limit") {
		t.Errorf("got %v, %v; want admitted with a warning", warnings, err)
	}
}
