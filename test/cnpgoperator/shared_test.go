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

package cnpgoperator_test

import (
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cooperative"
	"github.com/cooperator-dev/cooperator/test/harness/specs"
)

var _ = Describe("A shared-tier co-op, with CloudNativePG judging the hub's shared Cluster", Ordered, func() {
	var coop *coopv1.Cooperative

	appliedSample(&coop, "coop_v1alpha1_cooperative_carecollective.yaml", "", func(c *coopv1.Cooperative) {
		Expect(c.Spec.Database.Tier).To(Equal(coopv1.DatabaseTierShared))
	})

	It("gets a shared Cluster that keeps our pg_hba rules through CloudNativePG's defaulting", func(ctx SpecContext) {
		shared := &cnpgv1.Cluster{}
		Eventually(func() error {
			return k8s.Get(ctx, client.ObjectKey{Namespace: hub.OperatorNamespace, Name: hub.SharedCluster.Name}, shared)
		}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
		Expect(shared.Spec.PostgresConfiguration.PgHBA).To(Equal(cooperative.SharedPgHBA([]string{coopv1.SharedRoleName(coop)}, nil)))
		Expect(shared.Spec.PostgresConfiguration.Parameters).NotTo(BeEmpty(), "defaults of CloudNativePG's mutating webhook")
		// Issue 10, point 6: CloudNativePG's webhook accepts the metering's managed role.
		Expect(shared.Spec.Managed).NotTo(BeNil())
		Expect(shared.Spec.Managed.Roles).To(ConsistOf(HaveField("Name", cooperative.SharedMeteringRole)))
		Expect(shared.Spec.ImageName).To(Equal(hub.PostgresImageRepository + ":17"))

		By("CloudNativePG's controller creating the shared Cluster's Service the co-op's Secret names")
		Eventually(func() error {
			return k8s.Get(ctx, client.ObjectKey{Namespace: hub.OperatorNamespace, Name: shared.Name + cnpgv1.ServiceReadWriteSuffix}, &corev1.Service{})
		}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
		Eventually(func() string { return getCoop(ctx, coop.Name).Status.Endpoints.Database }).WithContext(ctx).WithTimeout(timeout).
			Should(Equal(shared.Name + cnpgv1.ServiceReadWriteSuffix + "." + hub.OperatorNamespace))
		app := &corev1.Secret{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: coopv1.AppSecretName(coop)}, app)).To(Succeed())
		Expect(string(app.Data["host"])).To(Equal(shared.Name + cnpgv1.ServiceReadWriteSuffix + "." + hub.OperatorNamespace + ".svc"))
		Expect(string(app.Data["uri"])).To(ContainSubstring("@" + string(app.Data["host"]) + ":5432/"))
	})

	It("gets a Database that CloudNativePG's webhooks accept", func(ctx SpecContext) {
		db := &cnpgv1.Database{}
		Eventually(func() error {
			return k8s.Get(ctx, client.ObjectKey{Namespace: hub.OperatorNamespace, Name: coopv1.SharedResourceName(coop)}, db)
		}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
		Expect(db.Spec.Name).To(Equal(coopv1.SharedRoleName(coop)))
		Expect(db.Spec.Owner).To(Equal(coopv1.SharedRoleName(coop)))
		Expect(db.Spec.ClusterRef.Name).To(Equal(hub.SharedCluster.Name))
	})

	It("gets a DatabaseRole that the API server takes and CloudNativePG v1.29 does not act on", func(ctx SpecContext) {
		// The CRDs here are v1.30's, which define DatabaseRole; the operator is v1.29,
		// which has no DatabaseRole controller and no webhook for it.
		role := &cnpgv1.DatabaseRole{}
		Eventually(func() error {
			return k8s.Get(ctx, client.ObjectKey{Namespace: hub.OperatorNamespace, Name: coopv1.SharedResourceName(coop)}, role)
		}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
		Expect(role.Spec.Name).To(Equal(coopv1.SharedRoleName(coop)))
		Consistently(func() *bool {
			r := &cnpgv1.DatabaseRole{}
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(role), r)).To(Succeed())
			return r.Status.Applied
		}).WithContext(ctx).WithTimeout(2 * time.Second).Should(BeNil())
		// So the co-op waits on its role, and says so.
		Eventually(func() *metav1.Condition { return databaseCondition(ctx, coop.Name) }).WithContext(ctx).WithTimeout(timeout).
			Should(And(Not(BeNil()), HaveField("Reason", coopv1.ReasonDatabaseNotReady), HaveField("Message", ContainSubstring("role"))))
	})

	It("writes nothing once CloudNativePG has defaulted the shared Cluster", func(ctx SpecContext) {
		shared := &cnpgv1.Cluster{}
		key := client.ObjectKey{Namespace: hub.OperatorNamespace, Name: hub.SharedCluster.Name}
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, key, shared)).To(Succeed())
			g.Expect(shared.Status.Phase).NotTo(BeEmpty())
		}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
		Eventually(func(g Gomega) {
			before := &cnpgv1.Cluster{}
			g.Expect(k8s.Get(ctx, key, before)).To(Succeed())
			g.Consistently(func(g Gomega) {
				now := &cnpgv1.Cluster{}
				g.Expect(k8s.Get(ctx, key, now)).To(Succeed())
				g.Expect(now.ResourceVersion).To(Equal(before.ResourceVersion))
			}).WithContext(ctx).WithTimeout(2 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())
			shared = before
		}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())

		Expect(reconcileCounting(ctx, coop.Name, 3)).To(BeEmpty())
		after := &cnpgv1.Cluster{}
		Expect(k8s.Get(ctx, key, after)).To(Succeed())
		Expect(after.ResourceVersion).To(Equal(shared.ResourceVersion))
	})

	It("adds a second co-op's rules to the shared Cluster through CloudNativePG's webhook, and removes them when it goes", func(ctx SpecContext) {
		second := specs.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
		second.Name = "care-collective-east"
		dumpOnFailure(second.Name)
		Expect(k8s.Create(ctx, second)).To(Succeed())
		key := client.ObjectKey{Namespace: hub.OperatorNamespace, Name: hub.SharedCluster.Name}
		both := cooperative.SharedPgHBA([]string{coopv1.SharedRoleName(coop), coopv1.SharedRoleName(second)}, nil)
		var before cnpgv1.Cluster
		Expect(k8s.Get(ctx, key, &before)).To(Succeed())
		Eventually(func(g Gomega) {
			shared := &cnpgv1.Cluster{}
			g.Expect(k8s.Get(ctx, key, shared)).To(Succeed())
			g.Expect(shared.Spec.PostgresConfiguration.PgHBA).To(Equal(both))
			g.Expect(shared.Spec.PostgresConfiguration.Parameters).To(Equal(before.Spec.PostgresConfiguration.Parameters), "CloudNativePG's defaults")
		}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())

		Expect(k8s.Delete(ctx, second)).To(Succeed())
		Eventually(func(g Gomega) {
			shared := &cnpgv1.Cluster{}
			g.Expect(k8s.Get(ctx, key, shared)).To(Succeed())
			// Deleted with deletionPolicy Retain (the sample's): its roles stay, NOLOGIN, and
			// keep a reject rule (issue 10, points 6 and 7: the owner and the serving role).
			g.Expect(shared.Spec.PostgresConfiguration.PgHBA).To(Equal(cooperative.SharedPgHBA([]string{coopv1.SharedRoleName(coop)},
				[]string{coopv1.SharedRoleName(second), cooperative.ServingRoleName(second)})))
		}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
	})
})
