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
	"slices"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/test/harness"
	"github.com/cooperator-dev/cooperator/test/harness/specs"
)

// collectGarbage deletes what the owner with uid controlled in namespace, as the garbage
// collector of kube-controller-manager would; envtest runs none. PVCs lose the protection
// finalizer that only that controller would remove.
func collectGarbage(ctx SpecContext, namespace string, uid types.UID) {
	GinkgoHelper()
	lists := []client.ObjectList{
		&corev1.SecretList{}, &corev1.ServiceList{}, &corev1.ServiceAccountList{}, &corev1.ConfigMapList{},
		&corev1.PersistentVolumeClaimList{}, &corev1.PodList{}, &batchv1.JobList{},
		&policyv1.PodDisruptionBudgetList{}, &rbacv1.RoleList{}, &rbacv1.RoleBindingList{},
	}
	for _, list := range lists {
		Expect(k8s.List(ctx, list, client.InNamespace(namespace))).To(Succeed())
		Expect(meta.EachListItem(list, func(o runtime.Object) error {
			obj := o.(client.Object)
			if !slices.ContainsFunc(obj.GetOwnerReferences(), func(r metav1.OwnerReference) bool { return r.UID == uid }) {
				return nil
			}
			if len(obj.GetFinalizers()) > 0 {
				patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
				obj.SetFinalizers(nil)
				if err := k8s.Patch(ctx, obj, patch); err != nil {
					return client.IgnoreNotFound(err)
				}
			}
			return client.IgnoreNotFound(k8s.Delete(ctx, obj, client.PropagationPolicy(metav1.DeletePropagationBackground)))
		})).To(Succeed())
	}
}

// immediateBackupLabel is the label CloudNativePG's scheduler puts on the Backup it makes at
// once for a ScheduledBackup with immediate: true ("true"; "false" on the scheduled ones).
const immediateBackupLabel = "cnpg.io/immediateBackup"

// simulateCompletedBackup creates a Backup of the co-op's Cluster and writes the status
// CloudNativePG would write once it completed. CloudNativePG's backup controller first
// records the PostgreSQL major version in the status with a merge patch of the status it
// read, which would clear a phase written before it, and takes up no Backup whose phase
// says it is done: the Backup is created without a status, the completion waits for that
// write, and is written again until it stays.
func simulateCompletedBackup(ctx SpecContext, coop *coopv1.Cooperative, backupName string) {
	GinkgoHelper()
	ns := coop.NamespaceName()
	Eventually(func() error {
		return harness.CreateBackup(ctx, k8s, ns, coopv1.ClusterName(coop), backupName)
	}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
	key := client.ObjectKey{Namespace: ns, Name: backupName}
	Eventually(func(g Gomega) {
		b := &cnpgv1.Backup{}
		g.Expect(k8s.Get(ctx, key, b)).To(Succeed())
		if b.Status.MajorVersion == 0 {
			// CloudNativePG takes one backup of a Cluster at a time, and the
			// ScheduledBackup's immediate one may have come first: with no pod it waits
			// for ever. It fails here, as it would once its time ran out.
			settleOtherBackups(ctx, g, ns, coopv1.ClusterName(coop), backupName)
		}
		g.Expect(b.Status.MajorVersion).NotTo(BeZero(), "CloudNativePG has not taken the Backup up yet")
		if b.Status.Phase != cnpgv1.BackupPhaseCompleted {
			g.Expect(harness.SimulateBackupDone(ctx, k8s, ns, backupName, true)).To(Succeed())
		}
		g.Consistently(func(g Gomega) {
			g.Expect(k8s.Get(ctx, key, b)).To(Succeed())
			g.Expect(b.Status.Phase).To(BeEquivalentTo(cnpgv1.BackupPhaseCompleted))
		}).WithContext(ctx).WithTimeout(2 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())
	}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
}

// settleOtherBackups writes a failed outcome, a minute ago, on the backups of cluster other
// than except that have none yet, so that CloudNativePG takes up the next one; the backup
// the spec completes stays the newest.
func settleOtherBackups(ctx SpecContext, g Gomega, ns, cluster, except string) {
	var list cnpgv1.BackupList
	g.Expect(k8s.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
	for i := range list.Items {
		other := &list.Items[i]
		if other.Name == except || other.Spec.Cluster.Name != cluster ||
			other.Status.Phase == cnpgv1.BackupPhaseCompleted || other.Status.Phase == cnpgv1.BackupPhaseFailed {
			continue
		}
		then := metav1.NewTime(time.Now().Add(-time.Minute).Truncate(time.Second))
		other.Status.StartedAt, other.Status.StoppedAt = &then, &then
		other.Status.Phase, other.Status.Error = cnpgv1.BackupPhaseFailed, "simulated: never started, no pod runs here"
		g.Expect(k8s.Status().Update(ctx, other)).To(Succeed())
	}
}

var _ = Describe("A dedicated co-op that loses its Cluster after a backup", Ordered, func() {
	const name = "recovers"
	var coop *coopv1.Cooperative

	appliedSample(&coop, "coop_v1alpha1_cooperative_coursiers.yaml", name, nil)

	It("records the completed backup", func(ctx SpecContext) {
		expectWiredToCNPG(ctx, coop)
		// No PostgreSQL runs here, so no backup completes: the Backup and the status
		// CloudNativePG would write once the plugin had archived it are written by hand.
		simulateCompletedBackup(ctx, coop, name+"-before-loss")
		Eventually(func(g Gomega) {
			c := getCoop(ctx, name)
			g.Expect(c.Status.LastBackup).NotTo(BeNil())
			g.Expect(c.Status.LastBackup.Name).To(Equal(name + "-before-loss"))
			g.Expect(c.Status.Database.ServerName).To(Equal(name))
		}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
	})

	It("gets a Cluster that CloudNativePG accepts and starts recovering from the object store", func(ctx SpecContext) {
		old := getCluster(ctx, coop)
		// Foreground deletion, with the garbage collector's part played here: the old
		// Cluster's Jobs, PVCs and Secrets go before it does.
		Expect(k8s.Delete(ctx, old, client.PropagationPolicy(metav1.DeletePropagationForeground))).To(Succeed())
		collectGarbage(ctx, coop.NamespaceName(), old.UID)
		Eventually(func(g Gomega) {
			c := &cnpgv1.Cluster{}
			err := k8s.Get(ctx, client.ObjectKeyFromObject(old), c)
			if apierrors.IsNotFound(err) {
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			if c.UID != old.UID {
				return
			}
			g.Expect(c.DeletionTimestamp).NotTo(BeNil())
			patch := client.MergeFrom(c.DeepCopy())
			c.Finalizers = slices.DeleteFunc(c.Finalizers, func(f string) bool { return f == metav1.FinalizerDeleteDependents })
			g.Expect(k8s.Patch(ctx, c, patch)).To(Succeed())
			g.Expect(c.Finalizers).To(BeEmpty(), "finalizers left on the old Cluster")
		}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())

		By("our new Cluster recovering through the Barman Cloud plugin, accepted by CloudNativePG's webhooks")
		var restored *cnpgv1.Cluster
		Eventually(func(g Gomega) {
			restored = &cnpgv1.Cluster{}
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(old), restored)).To(Succeed())
			g.Expect(restored.UID).NotTo(Equal(old.UID))
		}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
		Expect(restored.Spec.Bootstrap).NotTo(BeNil())
		Expect(restored.Spec.Bootstrap.InitDB).To(BeNil(), "CloudNativePG's defaulting adds no initdb next to a recovery")
		Expect(restored.Spec.Bootstrap.Recovery).NotTo(BeNil())
		Expect(restored.Spec.ExternalClusters).To(HaveLen(1))
		origin := restored.Spec.ExternalClusters[0]
		Expect(origin.Name).To(Equal(restored.Spec.Bootstrap.Recovery.Source))
		Expect(origin.PluginConfiguration).NotTo(BeNil())
		Expect(origin.PluginConfiguration.Name).To(Equal(coopv1.BarmanPluginName))
		Expect(origin.PluginConfiguration.Parameters).To(Equal(map[string]string{
			"barmanObjectName": coopv1.ObjectStoreName(coop), "serverName": name,
		}))
		Expect(restored.Spec.Plugins).To(HaveLen(1))
		Expect(restored.Spec.Plugins[0].Parameters).To(HaveKeyWithValue("serverName", name+"-2"), "a new archive, not the one it restores from")

		By("CloudNativePG's controller creating the recovery Job and the volume of the first instance")
		job := &batchv1.Job{}
		Eventually(func() error {
			return k8s.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: name + "-1-full-recovery"}, job)
		}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
		Expect(metav1.IsControlledBy(job, restored)).To(BeTrue())
		Expect(job.Labels).To(HaveKeyWithValue("cnpg.io/jobRole", "full-recovery"))
		pvc := &corev1.PersistentVolumeClaim{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: name + "-1"}, pvc)).To(Succeed())
		Expect(metav1.IsControlledBy(pvc, restored)).To(BeTrue())
		Expect(pvc.Spec.Resources.Requests.Storage().String()).To(Equal(coop.Spec.Database.Storage.String()))

		By("the co-op telling its admins the database is being restored")
		Eventually(func() *metav1.Condition { return databaseCondition(ctx, name) }).WithContext(ctx).WithTimeout(timeout).
			Should(And(Not(BeNil()), HaveField("Reason", coopv1.ReasonRecovering)))
		c := getCoop(ctx, name)
		Expect(c.Status.Database.Bootstrap).To(Equal(coopv1.BootstrapRecovery))
		Expect(c.Status.Database.RecoveredFrom).To(Equal(name))
		Expect(c.Status.Database.ServerName).To(Equal(name + "-2"))

		By("our reconciles writing nothing to the recovering Cluster")
		quiet := waitQuiet(ctx, coop)
		Expect(reconcileCounting(ctx, name, 2)).To(BeEmpty())
		Expect(getCluster(ctx, coop).ResourceVersion).To(Equal(quiet.ResourceVersion))
	})
})

var _ = Describe("The backups CloudNativePG's scheduler makes", func() {
	It("are the co-op's: their completion is recorded on it", func(ctx SpecContext) {
		const name = "scheduled"
		coop := specs.Sample("coop_v1alpha1_cooperative_coursiers.yaml")
		coop.Name = name
		dumpOnFailure(name)
		Expect(k8s.Create(ctx, coop)).To(Succeed())
		coop = getCoop(ctx, name)
		expectWiredToCNPG(ctx, coop)
		expectScheduledBackup(ctx, coop)

		By("CloudNativePG's scheduler creating the immediate Backup, with the labels our cache and watch select on")
		var made cnpgv1.Backup
		Eventually(func(g Gomega) {
			// The immediate one only: should the test run at the schedule's time, CloudNativePG
			// makes a scheduled Backup too.
			var list cnpgv1.BackupList
			g.Expect(k8s.List(ctx, &list, client.InNamespace(coop.NamespaceName()), client.MatchingLabels{immediateBackupLabel: "true"})).To(Succeed())
			g.Expect(list.Items).To(HaveLen(1))
			made = list.Items[0]
		}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
		Expect(made.Labels).To(HaveKeyWithValue(coopv1.ClusterLabel, coopv1.ClusterName(coop)))
		Expect(metav1.GetControllerOf(&made)).NotTo(BeNil())
		Expect(metav1.GetControllerOf(&made).Name).To(Equal(coopv1.ScheduledBackupName(coop)))

		// No PostgreSQL runs here: the completion is written by hand, as CloudNativePG would.
		simulateCompletedBackup(ctx, coop, made.Name)
		Eventually(func(g Gomega) {
			// BackupReady also needs CloudNativePG to report WAL archiving working, which
			// an instance reports once it archived a WAL file: written here too.
			cluster := getCluster(ctx, coop)
			if !meta.IsStatusConditionTrue(cluster.Status.Conditions, string(cnpgv1.ConditionContinuousArchiving)) {
				g.Expect(harness.SimulateArchivingWorking(ctx, k8s, coop.NamespaceName(), coopv1.ClusterName(coop))).To(Succeed())
			}
			c := getCoop(ctx, name)
			g.Expect(c.Status.LastBackup).NotTo(BeNil())
			g.Expect(c.Status.LastBackup.Name).To(Equal(made.Name))
			g.Expect(meta.IsStatusConditionTrue(c.Status.Conditions, coopv1.ConditionBackupReady)).To(BeTrue())
		}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
	})
})
