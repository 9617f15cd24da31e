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
	"fmt"
	"strings"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/controllers/cooperative"
	"github.com/cooperator-dev/cooperator/controllers/shared/ssa"
	"github.com/cooperator-dev/cooperator/test/harness"
	"github.com/cooperator-dev/cooperator/test/harness/specs"
)

// timeout bounds every wait on CloudNativePG. Its controllers retry with exponential
// backoff (a Backup waits for the Cluster's CA Secret, for one), which on a loaded 2-core
// machine running other suites in parallel can take well over 30 s; waits end as soon as
// the condition holds.
const timeout = 2 * time.Minute

func getCoop(ctx SpecContext, name string) *coopv1.Cooperative {
	GinkgoHelper()
	c := &coopv1.Cooperative{}
	Expect(k8s.Get(ctx, client.ObjectKey{Name: name}, c)).To(Succeed())
	return c
}

// updateCoop changes the co-op's spec, reading it again when the operator wrote its status
// in between; it returns the first error that is not such a conflict.
func updateCoop(ctx SpecContext, name string, change func(*coopv1.Cooperative)) error {
	GinkgoHelper()
	var err error
	Eventually(func() bool {
		c := getCoop(ctx, name)
		change(c)
		err = k8s.Update(ctx, c)
		return !apierrors.IsConflict(err)
	}).WithContext(ctx).WithTimeout(timeout).Should(BeTrue())
	return err
}

// databaseCondition is the co-op's DatabaseReady condition, or nil.
func databaseCondition(ctx SpecContext, name string) *metav1.Condition {
	c := &coopv1.Cooperative{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: name}, c); err != nil {
		return nil
	}
	return meta.FindStatusCondition(c.Status.Conditions, coopv1.ConditionDatabaseReady)
}

// getCluster reads the co-op's Cluster as the API server holds it.
func getCluster(ctx SpecContext, coop *coopv1.Cooperative) *cnpgv1.Cluster {
	GinkgoHelper()
	cluster := &cnpgv1.Cluster{}
	Eventually(func() error {
		return k8s.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: coopv1.ClusterName(coop)}, cluster)
	}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
	return cluster
}

// waitCaughtUp waits until the operator has caught up with the co-op: its manager's cache
// holds what the API server holds of it, and its Cooperative controller has nothing queued
// or running. A reconcile by hand through the manager's client then starts from what the
// operator wrote last, and no reconcile of the operator's runs alongside it unless a new
// event wakes one.
func waitCaughtUp(ctx SpecContext, name string) {
	GinkgoHelper()
	Eventually(func() error {
		return errors.Join(
			harness.CooperativeCached(ctx, mgr.GetClient(), k8s, name, hub.OperatorNamespace),
			harness.ControllerIdle("cooperative"),
		)
	}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
}

// reconcileCounting reconciles the co-op by hand n times through a client that counts
// writes, once the operator has caught up with it, and returns the writes.
func reconcileCounting(ctx SpecContext, name string, n int) []string {
	GinkgoHelper()
	waitCaughtUp(ctx, name)
	// The reconciler's client, as the manager builds it: a co-op's Secrets come from the API server.
	counting := harness.NewCountingClient(manager.SecretsOutside(mgr.GetClient(), mgr.GetAPIReader(), hub.OperatorNamespace))
	r := &cooperative.Reconciler{Client: counting, Config: hub, Recorder: mgr.GetEventRecorder("cnpg-suite")}
	for range n {
		_, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: name}})
		Expect(err).NotTo(HaveOccurred())
	}
	return counting.Writes()
}

// waitQuiet waits until nobody writes the co-op's Cluster for two seconds, neither the
// operator nor CloudNativePG, and returns it.
func waitQuiet(ctx SpecContext, coop *coopv1.Cooperative) *cnpgv1.Cluster {
	GinkgoHelper()
	var last *cnpgv1.Cluster
	Eventually(func(g Gomega) {
		before := &cnpgv1.Cluster{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: coopv1.ClusterName(coop)}, before)).To(Succeed())
		g.Consistently(func(g Gomega) {
			now := &cnpgv1.Cluster{}
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(before), now)).To(Succeed())
			g.Expect(now.ResourceVersion).To(Equal(before.ResourceVersion))
		}).WithContext(ctx).WithTimeout(2 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())
		last = before
	}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
	return last
}

// expectDatabaseAppliedAtGeneration waits for the status of a reconcile of the co-op's
// current generation (written after its Cluster) and checks that its database was applied.
func expectDatabaseAppliedAtGeneration(ctx SpecContext, name string) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		c := &coopv1.Cooperative{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: name}, c)).To(Succeed())
		g.Expect(c.Status.ObservedGeneration).To(Equal(c.Generation))
		db := meta.FindStatusCondition(c.Status.Conditions, coopv1.ConditionDatabaseReady)
		g.Expect(db).NotTo(BeNil())
		g.Expect(db.ObservedGeneration).To(Equal(c.Generation))
		g.Expect(db.Reason).NotTo(Equal(coopv1.ReasonApplyFailed), db.Message)
	}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
}

// expectScheduledBackup checks that CloudNativePG's webhooks accepted the co-op's backup
// schedule.
func expectScheduledBackup(ctx SpecContext, coop *coopv1.Cooperative) {
	GinkgoHelper()
	sb := &cnpgv1.ScheduledBackup{}
	Eventually(func() error {
		return k8s.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: coopv1.ScheduledBackupName(coop)}, sb)
	}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
	Expect(sb.Spec.Schedule).To(Equal(coop.Spec.Backup.Schedule))
	Expect(sb.Spec.Cluster.Name).To(Equal(coopv1.ClusterName(coop)))
}

// expectWiredToCNPG checks that CloudNativePG took the co-op's database objects and made
// what the platform is wired to.
func expectWiredToCNPG(ctx SpecContext, coop *coopv1.Cooperative) {
	GinkgoHelper()
	ns := coop.NamespaceName()

	By("CloudNativePG's webhooks accepting and defaulting our Cluster and ObjectStore")
	cluster := getCluster(ctx, coop)
	Expect(cluster.Spec.ImageName).To(Equal(fmt.Sprintf("%s:%d", hub.PostgresImageRepository, coop.Spec.Database.PostgresVersion)))
	Expect(cluster.Spec.PostgresConfiguration.Parameters).NotTo(BeEmpty(), "defaults of CloudNativePG's mutating webhook")
	Expect(cluster.Spec.Instances).To(BeEquivalentTo(coop.Spec.Database.Instances))
	Expect(cluster.Spec.StorageConfiguration.Size).To(Equal(coop.Spec.Database.Storage.String()))
	Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: coopv1.ObjectStoreName(coop)}, &barmanv1.ObjectStore{})).To(Succeed())

	By("CloudNativePG's controller creating the app Secret and the Services")
	appSecret := &corev1.Secret{}
	Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: cluster.Name + cnpgv1.ApplicationUserSecretSuffix}, appSecret)).To(Succeed())
		g.Expect(appSecret.Data).To(HaveKey("uri"))
	}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
	Expect(metav1.GetControllerOf(appSecret)).NotTo(BeNil())
	Expect(metav1.GetControllerOf(appSecret).Kind).To(Equal("Cluster"), "the Secret is CloudNativePG's, not ours")
	rw := &corev1.Service{}
	Eventually(func() error {
		return k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: cluster.Name + cnpgv1.ServiceReadWriteSuffix}, rw)
	}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
	Expect(string(appSecret.Data["uri"])).To(ContainSubstring("@" + rw.Name + "." + ns))

	// Issue 10, point 7: CloudNativePG's webhooks accept the Cluster with the platform's
	// serving role among its managed roles, as the operator wrote it, and the role's
	// password Secret is of the type CloudNativePG reads.
	By("CloudNativePG's webhooks accepting the serving role as a managed role")
	Expect(cluster.Spec.Managed).NotTo(BeNil())
	Expect(cluster.Spec.Managed.Roles).To(ConsistOf(And(
		HaveField("Name", cooperative.ServingRoleName(coop)), HaveField("Login", true), HaveField("Superuser", false),
		HaveField("CreateDB", false), HaveField("CreateRole", false), HaveField("Replication", false), HaveField("BypassRLS", false),
		HaveField("InRoles", BeEmpty()), HaveField("ConnectionLimit", int64(cooperative.DedicatedServingConnectionLimit)),
		HaveField("PasswordSecret.Name", cooperative.ServingSecretName(coop)))))
	servingSecret := &corev1.Secret{}
	Eventually(func() error {
		return k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: cooperative.ServingSecretName(coop)}, servingSecret)
	}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
	Expect(servingSecret.Type).To(Equal(corev1.SecretTypeBasicAuth))
	Expect(string(servingSecret.Data[corev1.BasicAuthUsernameKey])).To(Equal(cooperative.ServingRoleName(coop)))

	By("our platform Deployment serving as the serving role, migrating in its init container with what CloudNativePG created")
	Eventually(func(g Gomega) {
		var deployments appsv1.DeploymentList
		g.Expect(k8s.List(ctx, &deployments, client.InNamespace(ns))).To(Succeed())
		wired := map[string]int{}
		// check counts the database URIs of a container, each read from the Secret it
		// should be; the owner's only in an init container.
		check := func(d string, c corev1.Container, init bool) {
			for _, e := range c.EnvFrom {
				g.Expect(e.SecretRef).To(BeNil(), "Deployment %s, container %s reads a whole Secret", d, c.Name)
			}
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == appSecret.Name {
					g.Expect(init).To(BeTrue(), "Deployment %s: the serving container %s reads the owner's Secret (%s)", d, c.Name, e.Name)
				}
				var from *corev1.Secret
				switch e.Name {
				case "DATABASE_URL":
					from = servingSecret
				case "MIGRATE_DATABASE_URL":
					from = appSecret
				default:
					continue
				}
				g.Expect(e.ValueFrom).NotTo(BeNil())
				g.Expect(e.ValueFrom.SecretKeyRef).NotTo(BeNil())
				g.Expect(e.ValueFrom.SecretKeyRef.Name).To(Equal(from.Name), "Deployment %s, container %s, %s", d, c.Name, e.Name)
				g.Expect(from.Data).To(HaveKey(e.ValueFrom.SecretKeyRef.Key), "Deployment %s, container %s, %s", d, c.Name, e.Name)
				if init {
					wired["init "+e.Name]++
				} else {
					wired[e.Name]++
				}
			}
		}
		for _, d := range deployments.Items {
			for _, c := range d.Spec.Template.Spec.Containers {
				check(d.Name, c, false)
			}
			for _, c := range d.Spec.Template.Spec.InitContainers {
				check(d.Name, c, true)
			}
		}
		g.Expect(wired["DATABASE_URL"]).To(BeNumerically(">", 0), "no Deployment reads the database")
		g.Expect(wired["MIGRATE_DATABASE_URL"]).To(BeZero(), "a serving container holds the owner's URL")
		g.Expect(wired["init MIGRATE_DATABASE_URL"]).To(Equal(wired["DATABASE_URL"]), "a Deployment serves without an init container that migrates as the owner")
		g.Expect(wired["init DATABASE_URL"]).To(Equal(wired["DATABASE_URL"]), "an init container does not know the serving role to grant")
	}).WithContext(ctx).WithTimeout(timeout).Should(Succeed())
	Expect(string(servingSecret.Data["uri"])).To(ContainSubstring("@" + rw.Name + "." + ns))
	Expect(string(servingSecret.Data["uri"])).To(HaveSuffix("/" + cooperative.DedicatedDatabaseName + "?sslmode=require"))
	Eventually(func() string {
		return getCoop(ctx, coop.Name).Status.Endpoints.Database
	}).WithContext(ctx).WithTimeout(timeout).Should(Equal(rw.Name + "." + rw.Namespace))
}

var _ = Describe("Dedicated co-ops, with CloudNativePG judging their database", func() {
	for _, file := range []string{"coop_v1alpha1_cooperative_fairride.yaml", "coop_v1alpha1_cooperative_coursiers.yaml"} {
		It("wires the platform of "+file+" to what CloudNativePG created", func(ctx SpecContext) {
			coop := specs.Sample(file)
			dumpOnFailure(coop.Name)
			Expect(k8s.Create(ctx, coop)).To(Succeed())
			coop = getCoop(ctx, coop.Name)
			expectWiredToCNPG(ctx, coop)
			expectScheduledBackup(ctx, coop)

			By("our reconciles writing nothing once CloudNativePG has defaulted the Cluster")
			before := waitQuiet(ctx, coop)
			Expect(reconcileCounting(ctx, coop.Name, 2)).To(BeEmpty())
			Expect(getCluster(ctx, coop).ResourceVersion).To(Equal(before.ResourceVersion))
		})
	}
})

var _ = Describe("A dedicated co-op at steady state with CloudNativePG's defaults", Ordered, func() {
	const name = "steady-state"
	var coop *coopv1.Cooperative

	appliedSample(&coop, "coop_v1alpha1_cooperative_fairride.yaml", name, nil)

	It("writes nothing once CloudNativePG has defaulted the Cluster and written its status", func(ctx SpecContext) {
		expectWiredToCNPG(ctx, coop)
		expectScheduledBackup(ctx, coop)
		Eventually(func() string { return getCluster(ctx, coop).Status.Phase }).WithContext(ctx).WithTimeout(timeout).ShouldNot(BeEmpty())
		before := waitQuiet(ctx, coop)
		GinkgoWriter.Printf("managed fields of the Cluster: %s\n", managedFieldsSummary(before))
		// The defaults CloudNativePG's mutating webhook added during our apply request are
		// not ours: were they, an apply that leaves them out would remove them.
		ours := ownedFields(before, ssa.FieldOwner)
		Expect(ours).To(ContainSubstring(`"f:imageName"`))
		Expect(ours).NotTo(ContainSubstring(`"f:parameters"`))
		Expect(ours).NotTo(ContainSubstring(`"f:postgresUID"`))
		Expect(ours).NotTo(ContainSubstring(`"f:probes"`))

		Expect(reconcileCounting(ctx, name, 3)).To(BeEmpty())
		after := getCluster(ctx, coop)
		Expect(after.ResourceVersion).To(Equal(before.ResourceVersion))
		Expect(after.Spec).To(Equal(before.Spec))
	})

	It("keeps CloudNativePG's defaults through a change of ours (instances up)", func(ctx SpecContext) {
		before := waitQuiet(ctx, coop)
		Expect(before.Spec.PostgresConfiguration.Parameters).NotTo(BeEmpty())

		Expect(updateCoop(ctx, name, func(c *coopv1.Cooperative) { c.Spec.Database.Instances = 2 })).To(Succeed())
		Eventually(func() int { return getCluster(ctx, coop).Spec.Instances }).WithContext(ctx).WithTimeout(timeout).Should(Equal(2))

		after := waitQuiet(ctx, coop)
		Expect(after.Spec.ImageName).To(Equal(before.Spec.ImageName), "imageName stays ours")
		Expect(after.Spec.PostgresConfiguration.Parameters).To(Equal(before.Spec.PostgresConfiguration.Parameters), "CloudNativePG's parameter defaults")
		Expect(after.Spec.Bootstrap).NotTo(BeNil())
		Expect(after.Spec.Bootstrap.InitDB).NotTo(BeNil())
		Expect(after.Spec.Bootstrap.InitDB.Database).To(Equal("app"))
		Expect(after.Spec.Bootstrap.InitDB.Owner).To(Equal("app"))
		// Everything but what we changed is as CloudNativePG left it.
		want := before.Spec.DeepCopy()
		want.Instances = 2
		Expect(after.Spec).To(Equal(*want))
		GinkgoWriter.Printf("managed fields of the Cluster: %s\n", managedFieldsSummary(after))

		Expect(reconcileCounting(ctx, name, 3)).To(BeEmpty())
		Expect(getCluster(ctx, coop).ResourceVersion).To(Equal(after.ResourceVersion))
	})

	It("takes a larger volume through to the Cluster", func(ctx SpecContext) {
		Expect(updateCoop(ctx, name, func(c *coopv1.Cooperative) { c.Spec.Database.Storage = resource.MustParse("15Gi") })).To(Succeed())
		Eventually(func() string { return getCluster(ctx, coop).Spec.StorageConfiguration.Size }).
			WithContext(ctx).WithTimeout(timeout).Should(Equal("15Gi"))
		expectDatabaseAppliedAtGeneration(ctx, name)
		waitQuiet(ctx, coop)
		Expect(reconcileCounting(ctx, name, 2)).To(BeEmpty())
	})

	It("takes a major version upgrade through to the Cluster, which CloudNativePG accepts", func(ctx SpecContext) {
		Expect(updateCoop(ctx, name, func(c *coopv1.Cooperative) { c.Spec.Database.PostgresVersion = 18 })).To(Succeed())
		Eventually(func() string { return getCluster(ctx, coop).Spec.ImageName }).
			WithContext(ctx).WithTimeout(timeout).Should(Equal(hub.PostgresImageRepository + ":18"))
		expectDatabaseAppliedAtGeneration(ctx, name)
		waitQuiet(ctx, coop)
		Expect(reconcileCounting(ctx, name, 2)).To(BeEmpty())
	})

	It("refuses a smaller volume in our CRD, before CloudNativePG sees it", func(ctx SpecContext) {
		err := updateCoop(ctx, name, func(c *coopv1.Cooperative) { c.Spec.Database.Storage = resource.MustParse("5Gi") })
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("spec.database.storage"))
		Expect(err.Error()).To(ContainSubstring("storage cannot shrink"))
		Expect(err.Error()).NotTo(ContainSubstring("cnpg.io"))
		Expect(getCluster(ctx, coop).Spec.StorageConfiguration.Size).To(Equal("15Gi"))
	})
})

// ownedFields is the fieldsV1 of what manager applied to obj.
func ownedFields(obj metav1.Object, manager string) string {
	for _, mf := range obj.GetManagedFields() {
		if mf.Manager == manager && mf.Operation == metav1.ManagedFieldsOperationApply && mf.Subresource == "" && mf.FieldsV1 != nil {
			return mf.FieldsV1.GetRawString()
		}
	}
	return ""
}

// managedFieldsSummary lists each field manager of obj and its operation.
func managedFieldsSummary(obj metav1.Object) string {
	var parts []string
	for _, mf := range obj.GetManagedFields() {
		fields := ""
		if mf.FieldsV1 != nil {
			fields = mf.FieldsV1.GetRawString()
		}
		parts = append(parts, fmt.Sprintf("%s/%s %s %s", mf.Manager, mf.Operation, mf.Subresource, fields))
	}
	return strings.Join(parts, "\n")
}
