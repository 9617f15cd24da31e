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
	"errors"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/controllers/cooperative"
	"github.com/cooperator-dev/cooperator/test/harness"
)

// CloudNativePG's validating webhook judges what our builders make: a Cluster it refuses
// never exists, and the co-op's admins read CloudNativePG's reason on the co-op.
var _ = Describe("A Cluster CloudNativePG refuses", Ordered, func() {
	const name = "refused-image"
	var coop *coopv1.Cooperative

	appliedSample(&coop, "coop_v1alpha1_cooperative_fairride.yaml", name, nil)

	It("surfaces CloudNativePG's refusal on the co-op as ApplyFailed, and stalls", func(ctx SpecContext) {
		good := waitQuiet(ctx, coop)
		// The operator's last reconcile must be over, or its status would replace the one
		// the reconcile below writes.
		waitCaughtUp(ctx, name)

		// A hub whose image repository already carries a tag: our builder appends the
		// major version, and CloudNativePG cannot read a version from the tag it gets.
		// The manager refuses such settings at start (hubconfig.Validate); this reconciler
		// is built past that check, to see CloudNativePG judge what we send.
		broken := hub
		broken.PostgresImageRepository = "ghcr.io/cloudnative-pg/postgresql:latest"
		r := &cooperative.Reconciler{Client: manager.SecretsOutside(mgr.GetClient(), mgr.GetAPIReader(), broken.OperatorNamespace), Config: broken, Recorder: mgr.GetEventRecorder("cnpg-suite")}
		_, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: name}})
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring(`admission webhook "vcluster.cnpg.io" denied the request`))
		GinkgoWriter.Printf("CloudNativePG refused: %v\n", err)

		c := getCoop(ctx, name)
		db := meta.FindStatusCondition(c.Status.Conditions, coopv1.ConditionDatabaseReady)
		Expect(db).NotTo(BeNil())
		Expect(db.Status).To(Equal(metav1.ConditionFalse))
		Expect(db.Reason).To(Equal(coopv1.ReasonApplyFailed))
		Expect(db.Message).To(ContainSubstring(`admission webhook "vcluster.cnpg.io" denied the request`))
		Expect(db.Message).To(ContainSubstring("spec.imageName"))

		By("only a change of the settings can fix it: the co-op is Stalled, and the error terminal")
		Expect(errors.Is(err, reconcile.TerminalError(nil))).To(BeTrue(), "%v", err)
		Expect(meta.FindStatusCondition(c.Status.Conditions, coopv1.ConditionReady)).To(And(
			HaveField("Status", metav1.ConditionFalse), HaveField("Reason", coopv1.ReasonApplyFailed)))
		Expect(meta.IsStatusConditionTrue(c.Status.Conditions, coopv1.ConditionStalled)).To(BeTrue())

		By("the Cluster staying as it was: the webhook refused the apply before it was stored")
		Expect(getCluster(ctx, coop).Spec.ImageName).To(Equal(good.Spec.ImageName))

		By("the next reconcile with the hub's settings putting it right")
		Expect(reconcileCounting(ctx, name, 1)).To(ConsistOf(HavePrefix("status apply")))
		Expect(databaseCondition(ctx, name)).NotTo(HaveField("Reason", coopv1.ReasonApplyFailed))
		Expect(meta.IsStatusConditionTrue(getCoop(ctx, name).Status.Conditions, coopv1.ConditionStalled)).To(BeFalse())
	})
})

// Our CRD checks that a schedule has six fields; CloudNativePG's webhook parses it.
var _ = Describe("A backup schedule CloudNativePG refuses", Ordered, func() {
	const name = "refused-schedule"
	var coop *coopv1.Cooperative

	// Our CRD takes it: six fields, but there is no hour 25.
	appliedSample(&coop, "coop_v1alpha1_cooperative_fairride.yaml", name, func(c *coopv1.Cooperative) { c.Spec.Backup.Schedule = "0 0 25 * * *" })

	It("reports CloudNativePG's refusal on BackupReady only, and stalls once the database is up", func(ctx SpecContext) {
		expectWiredToCNPG(ctx, coop)
		// No pod runs here: the Cluster's readiness is written by hand.
		Eventually(func() error {
			return harness.SimulateClusterReady(ctx, k8s, coop.NamespaceName(), coopv1.ClusterName(coop))
		}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())

		Eventually(func(g Gomega) {
			c := getCoop(ctx, name)
			backup := meta.FindStatusCondition(c.Status.Conditions, coopv1.ConditionBackupReady)
			g.Expect(backup).NotTo(BeNil())
			g.Expect(backup.Reason).To(Equal(coopv1.ReasonApplyFailed))
			g.Expect(backup.Message).To(ContainSubstring(`admission webhook "vscheduledbackup.cnpg.io" denied the request`))
			g.Expect(backup.Message).To(ContainSubstring("spec.schedule"))
			db := meta.FindStatusCondition(c.Status.Conditions, coopv1.ConditionDatabaseReady)
			g.Expect(db).NotTo(BeNil())
			g.Expect(db.Status).To(Equal(metav1.ConditionTrue), "the Cluster was applied and is ready: %s", db.Message)
			g.Expect(meta.FindStatusCondition(c.Status.Conditions, coopv1.ConditionStalled)).To(And(
				Not(BeNil()), HaveField("Status", metav1.ConditionTrue), HaveField("Reason", coopv1.ReasonApplyFailed)))
		}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: coopv1.ScheduledBackupName(coop)}, &cnpgv1.ScheduledBackup{})).
			To(Satisfy(apierrors.IsNotFound))
	})

	It("takes the corrected schedule", func(ctx SpecContext) {
		Expect(updateCoop(ctx, name, func(c *coopv1.Cooperative) { c.Spec.Backup.Schedule = "0 0 23 * * *" })).To(Succeed())
		Eventually(func() error {
			return k8s.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: coopv1.ScheduledBackupName(coop)}, &cnpgv1.ScheduledBackup{})
		}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
		Eventually(func(g Gomega) {
			c := getCoop(ctx, name)
			g.Expect(meta.FindStatusCondition(c.Status.Conditions, coopv1.ConditionBackupReady)).NotTo(HaveField("Reason", coopv1.ReasonApplyFailed))
			g.Expect(meta.IsStatusConditionTrue(c.Status.Conditions, coopv1.ConditionStalled)).To(BeFalse())
		}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
	})
})
