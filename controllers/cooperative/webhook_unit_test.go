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
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
)

// An update that needs the hub's authority for two reasons (it suspends the co-op and sets
// a backup schedule closer than hourly) asks the API server once, and refuses both
// changes when the answer is no.
func TestValidatorAsksEachAccessReviewOnce(t *testing.T) {
	scheme := backupScheme(t)
	if err := coopv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	plan := &coopv1.HostingPlan{ObjectMeta: metav1.ObjectMeta{Name: "standard"}, Spec: coopv1.HostingPlanSpec{SelfService: true}}
	reviews := map[string]int{}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(plan).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, cl client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if r, ok := obj.(*authorizationv1.SubjectAccessReview); ok {
				reviews[r.Spec.User+" "+r.Spec.ResourceAttributes.Verb+" "+r.Spec.ResourceAttributes.Resource]++
				r.Status.Allowed = r.Spec.User == "hub-admin"
				return nil
			}
			return cl.Create(ctx, obj, opts...)
		},
	}).Build()
	hub := hubconfig.Default()
	hub.OperatorUsername = "system:serviceaccount:cooperator-system:cooperator"
	v := &Validator{Client: c, Reviews: c, Hub: hub}

	old := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "fairride"}, Spec: coopv1.CooperativeSpec{Plan: "standard"}}
	old.Spec.Database.Tier = coopv1.DatabaseTierDedicated
	changed := old.DeepCopy()
	changed.Spec.Suspend = true
	changed.Spec.Backup.Schedule = "0 */20 * * * *"

	for _, tc := range []struct {
		user    string
		refused []string
	}{
		{"hub-admin", nil},
		{"alice", []string{"spec.suspend", "spec.backup.schedule"}},
	} {
		ctx := admission.NewContextWithRequest(context.Background(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
			Operation: admissionv1.Update, UserInfo: authenticationv1.UserInfo{Username: tc.user},
		}})
		_, err := v.ValidateUpdate(ctx, old, changed)
		for _, field := range tc.refused {
			if err == nil || !strings.Contains(err.Error(), field) {
				t.Errorf("%s: %v; want %s refused", tc.user, err, field)
			}
		}
		if tc.refused == nil && err != nil {
			t.Errorf("%s: %v; want allowed", tc.user, err)
		}
		if n := reviews[tc.user+" delete cooperatives"]; n != 1 {
			t.Errorf("%s: asked %d times whether they may delete the co-op; want once", tc.user, n)
		}
	}
}
