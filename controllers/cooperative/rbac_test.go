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

package cooperative_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cooperative"
	"github.com/cooperator-dev/cooperator/test/harness/specs"
)

func beForbidden() OmegaMatcher {
	return WithTransform(apierrors.IsForbidden, BeTrue())
}

var _ = Describe("The admins of a co-op", Ordered, func() {
	var alice client.Client

	BeforeAll(func() {
		for _, name := range []string{"rbac-a", "rbac-b"} {
			c := specs.Sample("coop_v1alpha1_cooperative_coursiers.yaml")
			c.Name = name
			c.Spec.Plan = "small"
			c.Spec.Database.Instances = 1
			c.Spec.Admins = []coopv1.Subject{{Kind: "Group", Name: name + "-admins"}}
			c.Spec.Platform.Host = name + ".example.coop" // hosts are unique across the hub
			Expect(k8s.Create(ctx, c)).To(Succeed())
			eventuallyGet(client.ObjectKey{Name: coopv1.ClusterRoleName(c)}, &rbacv1.ClusterRoleBinding{})
			eventuallyGet(client.ObjectKey{Namespace: c.NamespaceName(), Name: cooperative.AdminViewBindingName}, &rbacv1.RoleBinding{})
			eventuallyGet(client.ObjectKey{Namespace: c.NamespaceName(), Name: coopv1.AdminRoleName}, &rbacv1.RoleBinding{})
			eventuallyGet(client.ObjectKey{Namespace: c.NamespaceName(), Name: coopv1.ObjectStoreSecretName}, &corev1.Secret{})
			eventuallyGet(client.ObjectKey{Namespace: c.NamespaceName(), Name: coopv1.PlatformAdminSecretName(c)}, &corev1.Secret{})
		}
		alice = userClient("alice", "rbac-a-admins")
		// The API server authorizes from informers of its own, which see a role or a binding
		// a moment after it is stored: wait until each grant to rbac-a's admins is in force.
		Eventually(func(g Gomega) {
			g.Expect(alice.Get(ctx, client.ObjectKey{Name: "rbac-a"}, &coopv1.Cooperative{})).To(Succeed(), "its ClusterRole")
			g.Expect(alice.List(ctx, &appsv1.DeploymentList{}, client.InNamespace("coop-rbac-a"))).To(Succeed(), "the binding of %s", cooperative.AdminClusterRole)
			g.Expect(alice.Get(ctx, client.ObjectKey{Namespace: "coop-rbac-a", Name: "rbac-a-platform-admin"}, &corev1.Secret{})).To(Succeed(), "its Role")
		}, timeout).Should(Succeed())
	})

	It("can read and edit its own Cooperative", func() {
		Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
			own := &coopv1.Cooperative{}
			if err := alice.Get(ctx, client.ObjectKey{Name: "rbac-a"}, own); err != nil {
				return err
			}
			own.Spec.DisplayName = "Renamed by its admin"
			return alice.Update(ctx, own)
		})).To(Succeed())
		Expect(getCoop("rbac-a").Spec.DisplayName).To(Equal("Renamed by its admin"))
	})

	It("cannot read or edit another co-op's Cooperative", func() {
		other := &coopv1.Cooperative{}
		Expect(alice.Get(ctx, client.ObjectKey{Name: "rbac-b"}, other)).To(beForbidden())
		Expect(k8s.Get(ctx, client.ObjectKey{Name: "rbac-b"}, other)).To(Succeed())
		other.Spec.DisplayName = "Taken over"
		Expect(alice.Update(ctx, other)).To(beForbidden())
		Expect(alice.Delete(ctx, other)).To(beForbidden())
	})

	It("can read the objects of its own namespace and not those of another", func() {
		var own, other appsv1.DeploymentList
		Expect(alice.List(ctx, &own, client.InNamespace("coop-rbac-a"))).To(Succeed())
		Expect(alice.List(ctx, &other, client.InNamespace("coop-rbac-b"))).To(beForbidden())
		Expect(alice.List(ctx, &coopv1.HostingPlanList{})).To(Succeed())
		// Members see the whole split: every co-op's admins read every CostReport.
		Expect(alice.List(ctx, &coopv1.CostReportList{})).To(Succeed())
	})

	It("reads the Secrets meant for it, never the object store credentials or another co-op's", func() {
		token := &corev1.Secret{}
		Expect(alice.Get(ctx, client.ObjectKey{Namespace: "coop-rbac-a", Name: "rbac-a-platform-admin"}, token)).To(Succeed())
		Expect(token.Data).To(HaveKey("token"))

		Expect(alice.Get(ctx, client.ObjectKey{Namespace: "coop-rbac-a", Name: coopv1.ObjectStoreSecretName}, &corev1.Secret{})).To(beForbidden())
		Expect(alice.List(ctx, &corev1.SecretList{}, client.InNamespace("coop-rbac-a"))).To(beForbidden())
		Expect(alice.Get(ctx, client.ObjectKey{Namespace: "coop-rbac-b", Name: "rbac-b-platform-admin"}, &corev1.Secret{})).To(beForbidden())
		Expect(alice.Get(ctx, client.ObjectKey{Namespace: "coop-rbac-b", Name: "rbac-b-app"}, &corev1.Secret{})).To(beForbidden())
		Expect(alice.Get(ctx, client.ObjectKey{Namespace: hub.OperatorNamespace, Name: hub.ObjectStore.CredentialsSecret}, &corev1.Secret{})).To(beForbidden())
	})

	It("cannot change what the operator set up for it", func() {
		quota := &corev1.ResourceQuota{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: "coop-rbac-a", Name: coopv1.QuotaName}, quota)).To(Succeed())
		Expect(alice.Delete(ctx, quota)).To(beForbidden())
		rb := &rbacv1.RoleBinding{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: "coop-rbac-a", Name: coopv1.AdminRoleName}, rb)).To(Succeed())
		rb.Subjects = append(rb.Subjects, rbacv1.Subject{Kind: "User", APIGroup: rbacv1.GroupName, Name: "mallory"})
		Expect(alice.Update(ctx, rb)).To(beForbidden())
	})
})
