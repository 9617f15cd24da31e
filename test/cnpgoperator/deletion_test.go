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
	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/test/harness/specs"
)

var _ = Describe("Deleting a dedicated co-op that retains its data", func() {
	It("asks CloudNativePG for a final backup, which its webhooks accept, and goes once it completed", func(ctx SpecContext) {
		const name = "retains"
		coop := specs.Sample("coop_v1alpha1_cooperative_fairride.yaml")
		coop.Name = name
		Expect(coop.Spec.DeletionPolicy).To(Equal(coopv1.DeletionPolicyRetain))
		dumpOnFailure(name)
		Expect(k8s.Create(ctx, coop)).To(Succeed())
		coop = getCoop(ctx, name)
		expectWiredToCNPG(ctx, coop)

		Expect(k8s.Delete(ctx, coop)).To(Succeed())
		coop = getCoop(ctx, name)
		Expect(coop.DeletionTimestamp).NotTo(BeNil())
		final := &cnpgv1.Backup{}
		key := client.ObjectKey{Namespace: coop.NamespaceName(), Name: coopv1.FinalBackupName(coop)}
		Eventually(func() error { return k8s.Get(ctx, key, final) }).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
		Expect(final.Spec.Method).To(Equal(cnpgv1.BackupMethodPlugin))
		Expect(final.Spec.PluginConfiguration).NotTo(BeNil())
		Expect(final.Spec.PluginConfiguration.Name).To(Equal(coopv1.BarmanPluginName))
		Expect(final.Spec.Cluster.Name).To(Equal(coopv1.ClusterName(coop)))
		// The reconcile that asked for the backup says so on the co-op, which stays.
		Eventually(func(g Gomega) {
			c := &coopv1.Cooperative{}
			g.Expect(k8s.Get(ctx, client.ObjectKey{Name: name}, c)).To(Succeed())
			g.Expect(meta.FindStatusCondition(c.Status.Conditions, coopv1.ConditionReady)).To(And(
				Not(BeNil()), HaveField("Reason", coopv1.ReasonFinalBackup), HaveField("Message", ContainSubstring(final.Name))))
		}).WithContext(ctx).WithTimeout(timeout).Should(Succeed(), "the co-op waits for its final backup")

		// No PostgreSQL runs here: the completion is written by hand, as CloudNativePG would.
		simulateCompletedBackup(ctx, coop, final.Name)
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Name: name}, &coopv1.Cooperative{}))
		}).WithContext(ctx).WithTimeout(timeout).Should(BeTrue())
	})
})
