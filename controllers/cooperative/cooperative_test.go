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
	"context"
	"fmt"
	"strings"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cooperator-dev/cooperator/api/policy"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/controllers/cooperative"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/controllers/shared/logicalbackup"
	"github.com/cooperator-dev/cooperator/test/harness"
	"github.com/cooperator-dev/cooperator/test/harness/specs"
)

// timeout bounds every wait on the operator; on a loaded 2-core machine running other
// suites in parallel, a reconcile can take seconds. Waits end as soon as they hold.
const timeout = 60 * time.Second

// eventuallyGet reads an object the operator creates, waiting for it to appear.
func eventuallyGet(key client.ObjectKey, obj client.Object) {
	GinkgoHelper()
	Eventually(func() error { return k8s.Get(ctx, key, obj) }, timeout).Should(Succeed())
}

// createDedicatedCoop creates the fairride sample as co-op name, without a host and with
// deletionPolicy Delete (mutate, when not nil, changes it further), deletes it when the
// container of the calling node ends, and writes the status CloudNativePG writes when its
// Cluster is ready.
func createDedicatedCoop(name string, mutate func(*coopv1.Cooperative)) {
	GinkgoHelper()
	ns := coopv1.NamespacePrefix + name
	c := specs.Sample("coop_v1alpha1_cooperative_fairride.yaml")
	c.Name = name
	c.Spec.Platform.Host = ""
	c.Spec.DeletionPolicy = coopv1.DeletionPolicyDelete
	if mutate != nil {
		mutate(c)
	}
	Expect(k8s.Create(ctx, c)).To(Succeed())
	DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, c))).To(Succeed()) })
	eventuallyGet(client.ObjectKey{Namespace: ns, Name: name}, &cnpgv1.Cluster{})
	Eventually(func() error { return harness.SimulateClusterReady(ctx, k8s, ns, name) }, timeout).Should(Succeed())
}

// updateCoop changes a Cooperative as its admin would, reading it again when the operator
// changed it in between (it adds its finalizer, for one).
func updateCoop(name string, mutate func(*coopv1.Cooperative)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		c := &coopv1.Cooperative{}
		if err := k8s.Get(ctx, client.ObjectKey{Name: name}, c); err != nil {
			return err
		}
		mutate(c)
		return k8s.Update(ctx, c)
	})
}

// eventsOf lists "type/reason" of the events about a co-op.
func eventsOf(name string) func() []string {
	return func() []string {
		var list eventsv1.EventList
		if err := k8s.List(ctx, &list); err != nil {
			return nil
		}
		var out []string
		for _, e := range list.Items {
			if e.Regarding.Kind == "Cooperative" && e.Regarding.Name == name {
				out = append(out, e.Type+"/"+e.Reason)
			}
		}
		return out
	}
}

func getCoop(name string) *coopv1.Cooperative {
	GinkgoHelper()
	c := &coopv1.Cooperative{}
	eventuallyGet(client.ObjectKey{Name: name}, c)
	return c
}

func condition(name, t string) func() *metav1.Condition {
	return func() *metav1.Condition {
		c := &coopv1.Cooperative{}
		if err := k8s.Get(ctx, client.ObjectKey{Name: name}, c); err != nil {
			return nil
		}
		return meta.FindStatusCondition(c.Status.Conditions, t)
	}
}

func haveStatus(s metav1.ConditionStatus, reason string) OmegaMatcher {
	return And(Not(BeNil()), WithTransform(func(c *metav1.Condition) string { return string(c.Status) + "/" + c.Reason }, Equal(string(s)+"/"+reason)))
}

func kstatusOf(name string) status.Status {
	GinkgoHelper()
	s, err := kstatus(getCoop(name))
	Expect(err).NotTo(HaveOccurred())
	return s
}

// kstatus is what kstatus makes of a co-op.
func kstatus(c *coopv1.Cooperative) (status.Status, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(c)
	if err != nil {
		return "", err
	}
	res, err := status.Compute(&unstructured.Unstructured{Object: m})
	if err != nil {
		return "", err
	}
	return res.Status, nil
}

func expectOwnedAndLabelled(obj client.Object, coop *coopv1.Cooperative) {
	GinkgoHelper()
	Expect(metav1.IsControlledBy(obj, coop)).To(BeTrue(), "%T %s is not controlled by the Cooperative", obj, obj.GetName())
	Expect(obj.GetLabels()).To(HaveKeyWithValue(coopv1.LabelManagedBy, coopv1.ManagedByValue))
	Expect(obj.GetLabels()).To(HaveKeyWithValue(coopv1.LabelCooperative, coop.Name))
}

// makeReady plays the parts that cannot run here (see harness.Simulate*): the Cluster
// becomes ready, a scheduled backup completes and every Deployment becomes available.
func makeReady(coop *coopv1.Cooperative, backupName string) {
	GinkgoHelper()
	ns := coop.NamespaceName()
	Eventually(func() error { return harness.SimulateClusterReady(ctx, k8s, ns, coop.Name) }, timeout).Should(Succeed())
	Expect(harness.SimulateBackup(ctx, k8s, ns, coop.Name, backupName, true)).To(Succeed())
	Eventually(func(g Gomega) {
		g.Expect(harness.SimulateDeploymentsAvailable(ctx, k8s, ns)).To(Succeed())
		g.Expect(condition(coop.Name, coopv1.ConditionReady)()).To(haveStatus(metav1.ConditionTrue, coopv1.ReasonReady))
	}, timeout).Should(Succeed())
}

// replicasOf returns the replicas each Deployment of the namespace asks for.
func replicasOf(ns string) func() []int32 {
	return func() []int32 {
		var list appsv1.DeploymentList
		Expect(k8s.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
		var out []int32
		for _, d := range list.Items {
			out = append(out, ptr.Deref(d.Spec.Replicas, 1))
		}
		return out
	}
}

// dumpOnFailure prints the co-op and what the operator made of it when a spec fails.
func dumpOnFailure(name string) { specs.DumpOnFailure(k8s, "", name) }

var _ = Describe("A co-op on the dedicated tier", Ordered, func() {
	var coop *coopv1.Cooperative

	BeforeAll(func() {
		dumpOnFailure("fairride-lyon")
		Expect(k8s.Create(ctx, specs.Sample("coop_v1alpha1_cooperative_fairride.yaml"))).To(Succeed())
		coop = getCoop("fairride-lyon")
	})

	It("gets an isolated namespace with the quota of its plan", func() {
		ns := &corev1.Namespace{}
		Eventually(func() error { return k8s.Get(ctx, client.ObjectKey{Name: "coop-fairride-lyon"}, ns) }, timeout).Should(Succeed())
		Expect(ns.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))
		expectOwnedAndLabelled(ns, coop)

		quota := &corev1.ResourceQuota{}
		Eventually(func() error {
			return k8s.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: coopv1.QuotaName}, quota)
		}, timeout).Should(Succeed())
		Expect(quota.Spec.Hard).To(HaveKeyWithValue(corev1.ResourceRequestsCPU, resource.MustParse("4")))
		Expect(quota.Spec.Hard).To(HaveKeyWithValue(corev1.ResourceRequestsMemory, resource.MustParse("8Gi")))
		Expect(quota.Spec.Hard).To(HaveKeyWithValue(corev1.ResourceRequestsStorage, resource.MustParse("50Gi")))
		Expect(quota.Spec.Hard).To(HaveKeyWithValue(corev1.ResourcePods, resource.MustParse("40")))
		Expect(quota.Spec.Hard).To(HaveKeyWithValue(corev1.ResourceName(coopv1.ExportQuotaResource), resource.MustParse("5")))
		expectOwnedAndLabelled(quota, coop)

		lr := &corev1.LimitRange{}
		eventuallyGet(client.ObjectKey{Namespace: ns.Name, Name: coopv1.LimitRangeName}, lr)
		Expect(lr.Spec.Limits[0].DefaultRequest).To(HaveKeyWithValue(corev1.ResourceCPU, resource.MustParse("100m")))

		var nps networkingv1.NetworkPolicyList
		Eventually(func(g Gomega) {
			g.Expect(k8s.List(ctx, &nps, client.InNamespace(ns.Name))).To(Succeed())
			g.Expect(nps.Items).To(HaveLen(7)) // the hub sets no API server or object store endpoints here
		}, timeout).Should(Succeed())
		names := map[string]networkingv1.NetworkPolicy{}
		for _, np := range nps.Items {
			names[np.Name] = np
			expectOwnedAndLabelled(&np, coop)
		}
		Expect(names).To(HaveKey(cooperative.NetworkPolicyDeny))
		Expect(names[cooperative.NetworkPolicyDeny].Spec.Ingress).To(BeEmpty())
		Expect(names[cooperative.NetworkPolicyIngress].Spec.Ingress[0].From[0].NamespaceSelector.MatchLabels).
			To(HaveKeyWithValue("kubernetes.io/metadata.name", hub.IngressNamespace))
		Expect(names[cooperative.NetworkPolicyMonitor].Spec.Ingress[0].From[0].NamespaceSelector.MatchLabels).
			To(HaveKeyWithValue("kubernetes.io/metadata.name", hub.MonitoringNamespace))
		Expect(names).To(HaveKey(cooperative.NetworkPolicySameNS))

		rb := &rbacv1.RoleBinding{}
		Eventually(func() error {
			return k8s.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: cooperative.AdminViewBindingName}, rb)
		}, timeout).Should(Succeed())
		Expect(rb.Subjects).To(ConsistOf(rbacv1.Subject{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "fairride-admins"}))
		Expect(rb.RoleRef.Name).To(Equal(cooperative.AdminClusterRole))
		cr := &rbacv1.ClusterRole{}
		Eventually(func() error { return k8s.Get(ctx, client.ObjectKey{Name: "cooperator:coop:fairride-lyon"}, cr) }, timeout).Should(Succeed())
		Expect(cr.Rules[0].ResourceNames).To(Equal([]string{"fairride-lyon"}))
	})

	It("gets a CloudNativePG Cluster that archives to its own folder of the hub's bucket", func() {
		ns := coop.NamespaceName()
		cluster := &cnpgv1.Cluster{}
		Eventually(func() error { return k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "fairride-lyon"}, cluster) }, timeout).Should(Succeed())
		expectOwnedAndLabelled(cluster, coop)
		Expect(cluster.Spec.Instances).To(Equal(1))
		Expect(cluster.Spec.StorageConfiguration.Size).To(Equal("10Gi"))
		Expect(cluster.Spec.ImageName).To(HaveSuffix(":17"))
		Expect(cluster.Spec.Bootstrap.InitDB).NotTo(BeNil())
		Expect(cluster.Spec.Plugins).To(HaveLen(1))
		Expect(cluster.Spec.Plugins[0].Name).To(Equal(coopv1.BarmanPluginName))
		Expect(*cluster.Spec.Plugins[0].IsWALArchiver).To(BeTrue())
		Expect(cluster.Spec.Plugins[0].Parameters).To(Equal(map[string]string{"barmanObjectName": "fairride-lyon-backups", "serverName": "fairride-lyon"}))
		// Issue 10, point 7: CloudNativePG manages the platform's serving role, whose
		// password the operator generated once, with a URI that requires TLS.
		Expect(cluster.Spec.Managed).NotTo(BeNil())
		Expect(cluster.Spec.Managed.Roles).To(ConsistOf(And(
			HaveField("Name", cooperative.DedicatedServingRole), HaveField("Login", true), HaveField("Superuser", false),
			HaveField("CreateDB", false), HaveField("CreateRole", false), HaveField("Replication", false), HaveField("BypassRLS", false),
			HaveField("InRoles", BeEmpty()), HaveField("ConnectionLimit", int64(cooperative.DedicatedServingConnectionLimit)),
			HaveField("PasswordSecret.Name", "fairride-lyon-serving"))))
		serving := &corev1.Secret{}
		eventuallyGet(client.ObjectKey{Namespace: ns, Name: "fairride-lyon-serving"}, serving)
		expectOwnedAndLabelled(serving, coop)
		Expect(serving.Type).To(Equal(corev1.SecretTypeBasicAuth))
		Expect(string(serving.Data["username"])).To(Equal(cooperative.DedicatedServingRole))
		Expect(serving.Data["password"]).To(HaveLen(43))
		Expect(string(serving.Data["uri"])).To(Equal(fmt.Sprintf("postgresql://platform_serving:%s@fairride-lyon-rw.coop-fairride-lyon.svc:5432/app?sslmode=require", serving.Data["password"])))

		store := &barmanv1.ObjectStore{}
		eventuallyGet(client.ObjectKey{Namespace: ns, Name: "fairride-lyon-backups"}, store)
		Expect(store.Spec.Configuration.DestinationPath).To(Equal("s3://cooperator-backups/local/fairride-lyon/"))
		Expect(store.Spec.RetentionPolicy).To(Equal("30d"))
		Expect(store.Spec.Configuration.AWS.AccessKeyIDReference.Name).To(Equal(coopv1.ObjectStoreSecretName))
		secret := &corev1.Secret{}
		eventuallyGet(client.ObjectKey{Namespace: ns, Name: coopv1.ObjectStoreSecretName}, secret)
		Expect(secret.Data).To(HaveKeyWithValue("ACCESS_KEY_ID", []byte("hub-key")))

		sb := &cnpgv1.ScheduledBackup{}
		eventuallyGet(client.ObjectKey{Namespace: ns, Name: "fairride-lyon-scheduled"}, sb)
		Expect(sb.Spec.Method).To(Equal(cnpgv1.BackupMethodPlugin))
		Expect(sb.Spec.PluginConfiguration.Name).To(Equal(coopv1.BarmanPluginName))
		Expect(sb.Spec.Schedule).To(Equal("0 0 3 * * *"))
		Expect(sb.Spec.Cluster.Name).To(Equal("fairride-lyon"))
	})

	It("gets its platform wired to the database and its policy", func() {
		ns := coop.NamespaceName()
		d := &appsv1.Deployment{}
		Eventually(func() error { return k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "api"}, d) }, timeout).Should(Succeed())
		expectOwnedAndLabelled(d, coop)
		Expect(*d.Spec.Replicas).To(Equal(int32(2)))
		pod := d.Spec.Template.Spec
		Expect(*pod.SecurityContext.RunAsNonRoot).To(BeTrue())
		ctr := pod.Containers[0]
		Expect(ctr.Args).To(Equal([]string{"platform", "--vertical=ride-sharing"}))
		Expect(*ctr.SecurityContext.AllowPrivilegeEscalation).To(BeFalse())
		Expect(ctr.SecurityContext.Capabilities.Drop).To(ConsistOf(corev1.Capability("ALL")))
		var dbURL *corev1.EnvVar
		for i := range ctr.Env {
			if ctr.Env[i].Name == "DATABASE_URL" {
				dbURL = &ctr.Env[i]
			}
		}
		// Issue 10, point 7: the platform serves as its serving role and migrates as the
		// owner (CloudNativePG's app Secret), in an init container: the serving container
		// holds nothing of the owner's Secret.
		Expect(dbURL).NotTo(BeNil())
		Expect(dbURL.ValueFrom.SecretKeyRef.Name).To(Equal("fairride-lyon-serving"))
		Expect(dbURL.ValueFrom.SecretKeyRef.Key).To(Equal("uri"))
		Expect(secretsRead(ctr)).NotTo(ContainElement("fairride-lyon-app"))
		Expect(ctr.Env).To(ContainElement(And(HaveField("Name", "MIGRATE"), HaveField("Value", "false"))))
		Expect(pod.InitContainers).To(ConsistOf(And(HaveField("Name", "api-migrate"), HaveField("Image", ctr.Image), HaveField("Args", ctr.Args),
			HaveField("Env", ContainElements(
				And(HaveField("Name", "MIGRATE_DATABASE_URL"), HaveField("ValueFrom.SecretKeyRef.Name", "fairride-lyon-app"), HaveField("ValueFrom.SecretKeyRef.Key", "uri")),
				And(HaveField("Name", "DATABASE_URL"), HaveField("ValueFrom.SecretKeyRef.Name", "fairride-lyon-serving")),
				And(HaveField("Name", "MIGRATE"), HaveField("Value", "only")))),
			HaveField("SecurityContext", Equal(ctr.SecurityContext)))))

		cm := &corev1.ConfigMap{}
		eventuallyGet(client.ObjectKey{Namespace: ns, Name: cooperative.PolicyConfigMapName}, cm)
		doc, err := policy.Parse([]byte(cm.Data[cooperative.PolicyKey]))
		Expect(err).NotTo(HaveOccurred())
		Expect(doc.FeeSplit.PlatformFeeBasisPoints).To(Equal(int64(300)))
		Expect(doc.Governance.StakeholderClasses).To(HaveLen(3))

		svc := &corev1.Service{}
		eventuallyGet(client.ObjectKey{Namespace: ns, Name: "api"}, svc)
		pdb := &policyv1.PodDisruptionBudget{}
		eventuallyGet(client.ObjectKey{Namespace: ns, Name: "api"}, pdb)
		Expect(pdb.Spec.MaxUnavailable.IntValue()).To(Equal(1))
		ing := &networkingv1.Ingress{}
		eventuallyGet(client.ObjectKey{Namespace: ns, Name: "fairride-lyon"}, ing)
		Expect(ing.Spec.Rules[0].Host).To(Equal("fairride.lyon.example.coop"))
		Expect(ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name).To(Equal("api"))
	})

	It("is InProgress for kstatus while it waits for its database", func() {
		// All in one status: a reconcile that fails in a later phase writes DatabaseReady
		// without summing up Reconciling.
		Eventually(func(g Gomega) {
			c := &coopv1.Cooperative{}
			g.Expect(k8s.Get(ctx, client.ObjectKey{Name: "fairride-lyon"}, c)).To(Succeed())
			g.Expect(meta.FindStatusCondition(c.Status.Conditions, coopv1.ConditionDatabaseReady)).To(haveStatus(metav1.ConditionFalse, coopv1.ReasonClusterNotReady))
			g.Expect(meta.FindStatusCondition(c.Status.Conditions, coopv1.ConditionReconciling)).To(haveStatus(metav1.ConditionTrue, coopv1.ReasonClusterNotReady))
			g.Expect(kstatus(c)).To(Equal(status.InProgressStatus))
		}, timeout).Should(Succeed())
	})

	It("becomes Ready, and Current for kstatus, once CloudNativePG and the Deployments are", func() {
		makeReady(coop, "fairride-lyon-20261120030000")
		c := getCoop("fairride-lyon")
		Expect(c.Status.LastBackup).NotTo(BeNil())
		Expect(c.Status.LastBackup.Name).To(Equal("fairride-lyon-20261120030000"))
		Expect(c.Status.Endpoints.URL).To(Equal("https://fairride.lyon.example.coop"))
		Expect(c.Status.Endpoints.Database).To(Equal("fairride-lyon-rw.coop-fairride-lyon"))
		Expect(c.Status.ObservedGeneration).To(Equal(c.Generation))
		for _, t := range []string{coopv1.ConditionTenancyReady, coopv1.ConditionDatabaseReady, coopv1.ConditionBackupReady, coopv1.ConditionPlatformReady, coopv1.ConditionReady} {
			cond := meta.FindStatusCondition(c.Status.Conditions, t)
			Expect(cond).NotTo(BeNil(), t)
			Expect(cond.ObservedGeneration).To(Equal(c.Generation), t)
		}
		Expect(meta.FindStatusCondition(c.Status.Conditions, coopv1.ConditionReconciling)).To(BeNil())
		Expect(kstatusOf("fairride-lyon")).To(Equal(status.CurrentStatus))
		Eventually(eventsOf("fairride-lyon"), timeout).Should(ContainElement("Normal/Ready"))
	})

	It("writes nothing to the API server when it is converged", func() {
		// The reconciles below read the manager's cache: it must hold the status the operator
		// wrote last and the Deployments' status written above, or they would write again.
		Eventually(func() error {
			return harness.CooperativeCached(ctx, mgr.GetClient(), k8s, "fairride-lyon", hub.OperatorNamespace)
		}, timeout).Should(Succeed())
		// The reconciler's client, as the manager builds it: a co-op's Secrets come from the API server.
		counting := harness.NewCountingClient(manager.SecretsOutside(mgr.GetClient(), mgr.GetAPIReader(), hub.OperatorNamespace))
		r := &cooperative.Reconciler{Client: counting, Config: hub, Recorder: mgr.GetEventRecorder("test")}
		for range 3 {
			_, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: "fairride-lyon"}})
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(counting.Writes()).To(BeEmpty())
	})

	DescribeTable("brings back a child that was deleted",
		func(obj client.Object) {
			key := client.ObjectKeyFromObject(obj)
			eventuallyGet(key, obj)
			uid := obj.GetUID()
			Expect(k8s.Delete(ctx, obj)).To(Succeed())
			Eventually(func(g Gomega) {
				g.Expect(k8s.Get(ctx, key, obj)).To(Succeed())
				g.Expect(obj.GetUID()).NotTo(Equal(uid))
			}, timeout).Should(Succeed())
		},
		Entry("NetworkPolicy", &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "coop-fairride-lyon", Name: cooperative.NetworkPolicyDeny}}),
		Entry("ScheduledBackup", &cnpgv1.ScheduledBackup{ObjectMeta: metav1.ObjectMeta{Namespace: "coop-fairride-lyon", Name: "fairride-lyon-scheduled"}}),
		Entry("Deployment", &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "coop-fairride-lyon", Name: "api"}}),
	)

	It("puts back a field someone changed by hand", func() {
		d := &appsv1.Deployment{}
		eventuallyGet(client.ObjectKey{Namespace: "coop-fairride-lyon", Name: "api"}, d)
		Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(d), d); err != nil {
				return err
			}
			d.Spec.Replicas = ptr.To[int32](7)
			return k8s.Update(ctx, d)
		})).To(Succeed())
		Eventually(func() int32 {
			_ = k8s.Get(ctx, client.ObjectKey{Namespace: "coop-fairride-lyon", Name: "api"}, d)
			return *d.Spec.Replicas
		}, timeout).Should(Equal(int32(2)))
	})

	It("follows a change of plan with the quota", func() {
		Expect(updateCoop("fairride-lyon", func(c *coopv1.Cooperative) { c.Spec.Plan = "medium" })).To(Succeed())
		Eventually(func() resource.Quantity {
			q := &corev1.ResourceQuota{}
			_ = k8s.Get(ctx, client.ObjectKey{Namespace: "coop-fairride-lyon", Name: coopv1.QuotaName}, q)
			return q.Spec.Hard[corev1.ResourceRequestsCPU]
		}, timeout).Should(Equal(resource.MustParse("12")))
	})

	It("restores a lost Cluster from its backups instead of starting empty", func() {
		old := &cnpgv1.Cluster{}
		eventuallyGet(client.ObjectKey{Namespace: "coop-fairride-lyon", Name: "fairride-lyon"}, old)
		// Times are whole seconds: the Cluster is lost after the second its last Backup was
		// created in, as it would be for real (the earlier specs play backups at once).
		var backups cnpgv1.BackupList
		Expect(k8s.List(ctx, &backups, client.InNamespace("coop-fairride-lyon"))).To(Succeed())
		for _, b := range backups.Items {
			Eventually(func() time.Time { return time.Now() }, timeout).Should(BeTemporally(">=", b.CreationTimestamp.Add(time.Second)))
		}
		Expect(k8s.Delete(ctx, old)).To(Succeed())
		cluster := &cnpgv1.Cluster{}
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: "coop-fairride-lyon", Name: "fairride-lyon"}, cluster)).To(Succeed())
			g.Expect(cluster.UID).NotTo(Equal(old.UID))
		}, timeout).Should(Succeed())
		Expect(cluster.Spec.Bootstrap.InitDB).To(BeNil())
		Expect(cluster.Spec.Bootstrap.Recovery).NotTo(BeNil())
		Expect(cluster.Spec.Bootstrap.Recovery.Source).To(Equal("origin"))
		Expect(cluster.Spec.ExternalClusters).To(HaveLen(1))
		Expect(cluster.Spec.ExternalClusters[0].PluginConfiguration.Parameters).To(Equal(map[string]string{"barmanObjectName": "fairride-lyon-backups", "serverName": "fairride-lyon"}))
		// The restored Cluster archives under a new server name, never over its source.
		Expect(cluster.Spec.Plugins[0].Parameters["serverName"]).To(Equal("fairride-lyon-2"))
		Eventually(condition("fairride-lyon", coopv1.ConditionDatabaseReady), timeout).Should(haveStatus(metav1.ConditionFalse, coopv1.ReasonRecovering))
		Expect(getCoop("fairride-lyon").Status.Database.RecoveredFrom).To(Equal("fairride-lyon"))

		// Once it is up, it asks for a backup of its own at once: the backups of the
		// Cluster it replaced protect nothing it writes, and BackupReady says so.
		Expect(harness.SimulateClusterReady(ctx, k8s, "coop-fairride-lyon", "fairride-lyon")).To(Succeed())
		first := &cnpgv1.Backup{}
		eventuallyGet(client.ObjectKey{Namespace: "coop-fairride-lyon", Name: cooperative.FirstBackupName("fairride-lyon-2", 1)}, first)
		Expect(first.Spec.Cluster.Name).To(Equal("fairride-lyon"))
		Eventually(condition("fairride-lyon", coopv1.ConditionBackupReady), timeout).Should(haveStatus(metav1.ConditionFalse, coopv1.ReasonNoBackupYet))
		Expect(getCoop("fairride-lyon").Status.LastBackup.ServerName).To(Equal("fairride-lyon"), "the way back is still the first server's backup")
		Expect(harness.SimulateBackupDone(ctx, k8s, "coop-fairride-lyon", first.Name, true)).To(Succeed())
		Eventually(func() string {
			if lb := getCoop("fairride-lyon").Status.LastBackup; lb != nil {
				return lb.Name + "@" + lb.ServerName
			}
			return ""
		}, timeout).Should(Equal(first.Name + "@fairride-lyon-2"))

		// Later reconciles keep the recovery bootstrap they started with.
		Eventually(func(g Gomega) {
			// Earlier specs changed the Deployment; play its controller again.
			g.Expect(harness.SimulateDeploymentsAvailable(ctx, k8s, "coop-fairride-lyon")).To(Succeed())
			g.Expect(condition("fairride-lyon", coopv1.ConditionReady)()).To(haveStatus(metav1.ConditionTrue, coopv1.ReasonReady))
		}, timeout).Should(Succeed())
		eventuallyGet(client.ObjectKey{Namespace: "coop-fairride-lyon", Name: "fairride-lyon"}, cluster)
		Expect(cluster.Spec.Bootstrap.Recovery).NotTo(BeNil())
	})

	It("with Retain, deletes only after a final backup completed", func() {
		c := getCoop("fairride-lyon")
		Expect(c.Spec.DeletionPolicy).To(Equal(coopv1.DeletionPolicyRetain))
		// The platform stops first, so that the final backup holds its last writes: its
		// Deployments go to zero, and the backup waits for their pods, terminating ones too.
		// Pods do not run here: the test writes the one a ReplicaSet would have made.
		api := &appsv1.Deployment{}
		eventuallyGet(client.ObjectKey{Namespace: "coop-fairride-lyon", Name: "api"}, api)
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "coop-fairride-lyon", Name: "api-5d8f7c9b6-x2x7q", Labels: api.Spec.Selector.MatchLabels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "api-5d8f7c9b6", UID: "rs-uid", Controller: ptr.To(true)}}},
			Spec: corev1.PodSpec{
				NodeName:        "node-1", // bound: its deletion waits for a kubelet, which never comes here
				SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
				Containers: []corev1.Container{{Name: "api", Image: "registry.example/api:1",
					SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}},
			},
		}
		Expect(k8s.Create(ctx, pod)).To(Succeed())
		DeferCleanup(func() { _ = k8s.Delete(ctx, pod, client.GracePeriodSeconds(0)) })
		Expect(k8s.Delete(ctx, c)).To(Succeed())
		c = getCoop("fairride-lyon")
		final := coopv1.FinalBackupName(c)
		backup := &cnpgv1.Backup{}
		Eventually(replicasOf("coop-fairride-lyon"), timeout).Should(HaveEach(int32(0)))
		Eventually(func() string { return condition("fairride-lyon", coopv1.ConditionReady)().Message }, timeout).Should(ContainSubstring("stopping the platform (1 pods left, 0 of them terminating)"))
		Expect(harness.SimulateDeploymentsAvailable(ctx, k8s, "coop-fairride-lyon")).To(Succeed()) // status: 0 replicas
		// Terminating (no kubelet here confirms it), it may still write: waited for.
		Expect(k8s.Delete(ctx, pod)).To(Succeed())
		Eventually(func() string { return condition("fairride-lyon", coopv1.ConditionReady)().Message }, timeout).Should(ContainSubstring("stopping the platform (1 pods left, 1 of them terminating)"))
		Expect(apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Namespace: "coop-fairride-lyon", Name: final}, backup))).To(BeTrue(), "a backup while the platform may still write")
		Expect(k8s.Delete(ctx, pod, client.GracePeriodSeconds(0))).To(Succeed()) // gone
		Eventually(func() error {
			return k8s.Get(ctx, client.ObjectKey{Namespace: "coop-fairride-lyon", Name: final}, backup)
		}, timeout).Should(Succeed())
		Expect(backup.Spec.Method).To(Equal(cnpgv1.BackupMethodPlugin))
		Eventually(condition("fairride-lyon", coopv1.ConditionReady), timeout).Should(haveStatus(metav1.ConditionFalse, coopv1.ReasonFinalBackup))
		Expect(condition("fairride-lyon", coopv1.ConditionReady)().Message).To(ContainSubstring(final))

		// A failed final backup keeps the data: the co-op stays, and says why.
		Expect(harness.SimulateBackupDone(ctx, k8s, "coop-fairride-lyon", final, false)).To(Succeed())
		Eventually(func() string { return condition("fairride-lyon", coopv1.ConditionReady)().Message }, timeout).Should(ContainSubstring("failed"))
		ns := &corev1.Namespace{}
		eventuallyGet(client.ObjectKey{Name: "coop-fairride-lyon"}, ns)
		Expect(ns.DeletionTimestamp).To(BeNil())

		Expect(harness.SimulateBackupDone(ctx, k8s, "coop-fairride-lyon", final, true)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Name: "fairride-lyon"}, &coopv1.Cooperative{}))
		}, timeout).Should(BeTrue())
		eventuallyGet(client.ObjectKey{Name: "coop-fairride-lyon"}, ns)
		Expect(ns.DeletionTimestamp).NotTo(BeNil(), "the namespace is being deleted")
		Expect(apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Name: "cooperator:coop:fairride-lyon"}, &rbacv1.ClusterRole{}))).To(BeTrue())

		// The hub remembers where the backups are, outside the namespace that goes.
		marker := &corev1.ConfigMap{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: hub.OperatorNamespace, Name: cooperative.RetainedMarkerName("fairride-lyon")}, marker)).To(Succeed())
		Expect(marker.OwnerReferences).To(BeEmpty(), "nothing that goes with the co-op may take the marker with it")
		Expect(marker.Labels).To(HaveKeyWithValue(coopv1.LabelRetainedFrom, "fairride-lyon"))
		Expect(marker.Data).To(HaveKeyWithValue(cooperative.RetainedServerNameKey, "fairride-lyon-2"), "the server the recovered Cluster archived under")
		Expect(marker.Data).To(HaveKeyWithValue(cooperative.RetainedDestinationKey, hub.BackupDestination("fairride-lyon")))
		Expect(marker.Data).To(HaveKeyWithValue(cooperative.RetainedLastBackupKey, final))
	})

	It("restores its retained backups when created again under the same name", func() {
		Expect(harness.SimulateNamespaceDeleted(ctx, env.Cfg, k8s, "coop-fairride-lyon",
			&cnpgv1.Cluster{}, &cnpgv1.Backup{}, &cnpgv1.ScheduledBackup{}, &barmanv1.ObjectStore{})).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Name: "coop-fairride-lyon"}, &corev1.Namespace{}))
		}, timeout).Should(BeTrue())

		Expect(k8s.Create(ctx, specs.Sample("coop_v1alpha1_cooperative_fairride.yaml"))).To(Succeed())
		cluster := &cnpgv1.Cluster{}
		eventuallyGet(client.ObjectKey{Namespace: "coop-fairride-lyon", Name: "fairride-lyon"}, cluster)
		Expect(cluster.Spec.Bootstrap.InitDB).To(BeNil(), "an empty database never replaces retained backups")
		Expect(cluster.Spec.Bootstrap.Recovery).NotTo(BeNil())
		Expect(cluster.Spec.ExternalClusters[0].PluginConfiguration.Parameters).To(HaveKeyWithValue("serverName", "fairride-lyon-2"))
		Expect(cluster.Spec.Plugins[0].Parameters).To(HaveKeyWithValue("serverName", "fairride-lyon-3"), "it archives beside, never over, what it restores")
		Eventually(condition("fairride-lyon", coopv1.ConditionDatabaseReady), timeout).Should(haveStatus(metav1.ConditionFalse, coopv1.ReasonRecovering))
		Expect(getCoop("fairride-lyon").Status.Database.RecoveredFrom).To(Equal("fairride-lyon-2"))

		// Once the restored Cluster has a backup of its own, the marker has done its work.
		markerKey := client.ObjectKey{Namespace: hub.OperatorNamespace, Name: cooperative.RetainedMarkerName("fairride-lyon")}
		Expect(k8s.Get(ctx, markerKey, &corev1.ConfigMap{})).To(Succeed())
		makeReady(getCoop("fairride-lyon"), "fairride-lyon-after-return")
		Eventually(func() bool { return apierrors.IsNotFound(k8s.Get(ctx, markerKey, &corev1.ConfigMap{})) }, timeout).Should(BeTrue())
		Expect(getCoop("fairride-lyon").Status.Database.ServerName).To(Equal("fairride-lyon-3"))
	})
})

var _ = Describe("A co-op whose retained backups are in another bucket", func() {
	It("starts no database until the hub admin decides, and removes the marker when deleted with Delete", func() {
		dumpOnFailure("moved-away")
		markerKey := client.ObjectKey{Namespace: hub.OperatorNamespace, Name: cooperative.RetainedMarkerName("moved-away")}
		old := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "moved-away"}}
		marker := cooperative.BuildRetainedMarker(old, &hub, "moved-away", time.Now())
		marker.Data[cooperative.RetainedDestinationKey] = "s3://old-bucket/eu-west/moved-away/"
		Expect(k8s.Create(ctx, marker)).To(Succeed())

		c := specs.Sample("coop_v1alpha1_cooperative_fairride.yaml")
		c.Name = "moved-away"
		c.Spec.Platform.Host = ""
		Expect(k8s.Create(ctx, c)).To(Succeed())
		Eventually(condition("moved-away", coopv1.ConditionStalled), timeout).Should(haveStatus(metav1.ConditionTrue, coopv1.ReasonRetainedBackupsElsewhere))
		Expect(condition("moved-away", coopv1.ConditionDatabaseReady)().Message).To(ContainSubstring("s3://old-bucket/eu-west/moved-away/"))
		Expect(apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Namespace: "coop-moved-away", Name: "moved-away"}, &cnpgv1.Cluster{}))).To(BeTrue())

		// The hub admin chooses an empty start by deleting the marker; the co-op follows.
		Expect(k8s.Delete(ctx, marker)).To(Succeed())
		cluster := &cnpgv1.Cluster{}
		eventuallyGet(client.ObjectKey{Namespace: "coop-moved-away", Name: "moved-away"}, cluster)
		Expect(cluster.Spec.Bootstrap.InitDB).NotTo(BeNil())

		// A marker left for this name goes with a co-op deleted with Delete.
		marker = cooperative.BuildRetainedMarker(old, &hub, "moved-away", time.Now())
		Expect(k8s.Create(ctx, marker)).To(Succeed())
		Expect(updateCoop("moved-away", func(c *coopv1.Cooperative) { c.Spec.DeletionPolicy = coopv1.DeletionPolicyDelete })).To(Succeed())
		Expect(k8s.Delete(ctx, getCoop("moved-away"))).To(Succeed())
		Eventually(func() bool { return apierrors.IsNotFound(k8s.Get(ctx, markerKey, &corev1.ConfigMap{})) }, timeout).Should(BeTrue())
	})
})

var _ = Describe("A co-op with two database instances on the medium plan", Ordered, func() {
	It("converges to Ready", func() {
		dumpOnFailure("coursiers-nantes")
		coop := specs.Sample("coop_v1alpha1_cooperative_coursiers.yaml")
		Expect(k8s.Create(ctx, coop)).To(Succeed())
		cluster := &cnpgv1.Cluster{}
		Eventually(func() error {
			return k8s.Get(ctx, client.ObjectKey{Namespace: "coop-coursiers-nantes", Name: "coursiers-nantes"}, cluster)
		}, timeout).Should(Succeed())
		Expect(cluster.Spec.Instances).To(Equal(2))
		makeReady(coop, "coursiers-nantes-first")
		Expect(kstatusOf("coursiers-nantes")).To(Equal(status.CurrentStatus))
	})
})

var _ = Describe("A co-op on the shared tier", Ordered, func() {
	var coop *coopv1.Cooperative
	BeforeAll(func() {
		dumpOnFailure("care-collective")
		Expect(k8s.Create(ctx, specs.Sample("coop_v1alpha1_cooperative_carecollective.yaml"))).To(Succeed())
		coop = getCoop("care-collective")
	})

	It("gets a database and a role in the hub's shared Cluster, reachable only by it", func() {
		db := &cnpgv1.Database{}
		key := client.ObjectKey{Namespace: hub.OperatorNamespace, Name: "coop-care-collective"}
		Eventually(func() error { return k8s.Get(ctx, key, db) }, timeout).Should(Succeed())
		Expect(db.Spec.Name).To(Equal("coop_care_collective"))
		Expect(db.Spec.Owner).To(Equal("coop_care_collective"))
		Expect(db.Spec.ClusterRef.Name).To(Equal(hub.SharedCluster.Name))
		Expect(db.Spec.ReclaimPolicy).To(Equal(cnpgv1.DatabaseReclaimRetain))
		expectOwnedAndLabelled(db, coop)
		role := &cnpgv1.DatabaseRole{}
		eventuallyGet(key, role)
		Expect(role.Spec.Login).To(BeTrue())
		Expect(role.Spec.PasswordSecret.Name).To(Equal("coop-care-collective"))

		// The role's Secret and the co-op's copy of it are two writes: read both until they
		// agree, not the first one alone.
		auth, app := &corev1.Secret{}, &corev1.Secret{}
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, key, auth)).To(Succeed())
			g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: "coop-care-collective", Name: "care-collective-app"}, app)).To(Succeed())
			g.Expect(app.Data["password"]).To(Equal(auth.Data["password"]))
		}, timeout).Should(Succeed())
		Expect(auth.Type).To(Equal(corev1.SecretTypeBasicAuth))
		password := auth.Data["password"]
		Expect(password).To(HaveLen(43))
		// Issue 10, point 6: the URI requires TLS, and so does the pg_hba rule.
		Expect(string(app.Data["uri"])).To(Equal(fmt.Sprintf("postgresql://coop_care_collective:%s@cooperator-shared-rw.cooperator-system.svc:5432/coop_care_collective?sslmode=require", password)))

		shared := &cnpgv1.Cluster{}
		eventuallyGet(client.ObjectKey{Namespace: hub.OperatorNamespace, Name: hub.SharedCluster.Name}, shared)
		// Its own database first, then a refusal of every other one (first match wins).
		// Issue 10, point 7: its serving role too reaches its database only.
		Expect(strings.Join(shared.Spec.PostgresConfiguration.PgHBA, "\n")).To(ContainSubstring(
			"hostssl coop_care_collective coop_care_collective all scram-sha-256\n" +
				"hostssl coop_care_collective coop_care_collective_serving all scram-sha-256\n" +
				"host all coop_care_collective all reject\nhost all coop_care_collective_serving all reject"))
		// Issue 10, point 6: its connection limit is its share of max_connections, never
		// unlimited.
		Expect(role.Spec.ConnectionLimit).To(And(BeNumerically(">=", 1), BeNumerically("<=",
			int64(hub.SharedCluster.MaxConnections)-cooperative.SuperuserReservedConnections-cooperative.SharedReservedConnections)))
	})

	// Issue 10, point 7: a second role, which the platform serves with.
	It("gets a serving role in the shared Cluster, and its platform serves with it", func() {
		servingRole := &cnpgv1.DatabaseRole{}
		eventuallyGet(client.ObjectKey{Namespace: hub.OperatorNamespace, Name: "coop-care-collective-serving"}, servingRole)
		expectOwnedAndLabelled(servingRole, coop)
		Expect(servingRole.Spec.Name).To(Equal("coop_care_collective_serving"))
		Expect(servingRole.Spec.Login).To(BeTrue())
		Expect(servingRole.Spec.Superuser || servingRole.Spec.CreateDB || servingRole.Spec.CreateRole || servingRole.Spec.Replication || servingRole.Spec.BypassRLS).To(BeFalse())
		Expect(servingRole.Spec.InRoles).To(BeEmpty())
		Expect(servingRole.Spec.PasswordSecret.Name).To(Equal("coop-care-collective-serving"))
		Expect(servingRole.Spec.ClusterRef.Name).To(Equal(hub.SharedCluster.Name))
		Expect(servingRole.Spec.ReclaimPolicy).To(Equal(cnpgv1.DatabaseRoleReclaimRetain))
		owner := &cnpgv1.DatabaseRole{}
		eventuallyGet(client.ObjectKey{Namespace: hub.OperatorNamespace, Name: "coop-care-collective"}, owner)
		limit := int64(hub.SharedCluster.MaxConnections) - cooperative.SuperuserReservedConnections - cooperative.SharedReservedConnections
		Expect(servingRole.Spec.ConnectionLimit).To(BeNumerically(">=", 1))
		Expect(servingRole.Spec.ConnectionLimit + owner.Spec.ConnectionLimit).To(BeNumerically("<=", limit))

		auth, copied := &corev1.Secret{}, &corev1.Secret{}
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: hub.OperatorNamespace, Name: "coop-care-collective-serving"}, auth)).To(Succeed())
			g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: "coop-care-collective", Name: "care-collective-serving"}, copied)).To(Succeed())
			g.Expect(copied.Data["password"]).To(Equal(auth.Data["password"]))
		}, timeout).Should(Succeed())
		Expect(auth.Type).To(Equal(corev1.SecretTypeBasicAuth))
		Expect(string(auth.Data["username"])).To(Equal("coop_care_collective_serving"))
		owned := &corev1.Secret{}
		eventuallyGet(client.ObjectKey{Namespace: hub.OperatorNamespace, Name: "coop-care-collective"}, owned)
		Expect(auth.Data["password"]).NotTo(Equal(owned.Data["password"]))
		Expect(string(copied.Data["uri"])).To(Equal(fmt.Sprintf(
			"postgresql://coop_care_collective_serving:%s@cooperator-shared-rw.cooperator-system.svc:5432/coop_care_collective?sslmode=require", auth.Data["password"])))

		var deployments appsv1.DeploymentList
		Eventually(func(g Gomega) {
			g.Expect(k8s.List(ctx, &deployments, client.InNamespace("coop-care-collective"))).To(Succeed())
			g.Expect(deployments.Items).NotTo(BeEmpty())
		}, timeout).Should(Succeed())
		for _, d := range deployments.Items {
			env := d.Spec.Template.Spec.Containers[0].Env
			Expect(env).To(ContainElement(And(HaveField("Name", "DATABASE_URL"), HaveField("ValueFrom.SecretKeyRef.Name", "care-collective-serving"))))
			Expect(secretsRead(d.Spec.Template.Spec.Containers[0])).NotTo(ContainElement("care-collective-app"))
			Expect(d.Spec.Template.Spec.InitContainers).To(ConsistOf(HaveField("Env", ContainElements(
				And(HaveField("Name", "DATABASE_URL"), HaveField("ValueFrom.SecretKeyRef.Name", "care-collective-serving")),
				And(HaveField("Name", "MIGRATE_DATABASE_URL"), HaveField("ValueFrom.SecretKeyRef.Name", "care-collective-app"))))))
		}
	})

	// Issue 10, point 6: CONNECT on the co-op's database is revoked from PUBLIC, so the
	// metering reads database sizes as a role of its own, not as the shared Cluster's app
	// owner.
	It("gets a shared Cluster with the metering's own role, whose Secret the metering reads", func() {
		shared := &cnpgv1.Cluster{}
		eventuallyGet(client.ObjectKey{Namespace: hub.OperatorNamespace, Name: hub.SharedCluster.Name}, shared)
		Expect(shared.Spec.Managed).NotTo(BeNil())
		Expect(shared.Spec.Managed.Roles).To(Equal([]cnpgv1.RoleConfiguration{cooperative.SharedMeteringRoleConfiguration(&hub)}))
		Expect(shared.Spec.Managed.Roles[0].InRoles).To(Equal([]string{"pg_read_all_stats"}))
		Expect(shared.Spec.PostgresConfiguration.PgHBA).To(ContainElements(
			"hostssl postgres cooperator_metering all scram-sha-256", "host all cooperator_metering all reject"))

		secret := &corev1.Secret{}
		eventuallyGet(client.ObjectKey{Namespace: hub.OperatorNamespace, Name: shared.Spec.Managed.Roles[0].PasswordSecret.Name}, secret)
		Expect(secret.Type).To(Equal(corev1.SecretTypeBasicAuth))
		Expect(secret.OwnerReferences).To(BeEmpty())
		Expect(string(secret.Data["username"])).To(Equal("cooperator_metering"))
		Expect(secret.Data["password"]).To(HaveLen(43))
		uri, err := cooperative.SharedMeteringURI(ctx, k8s, &hub)
		Expect(err).NotTo(HaveOccurred())
		Expect(uri).To(Equal(fmt.Sprintf("postgresql://cooperator_metering:%s@cooperator-shared-rw.cooperator-system.svc:5432/postgres?sslmode=require", secret.Data["password"])))
	})

	// Issue 10, point 4.
	It("gets a shared Cluster that archives WAL and takes scheduled base backups", func() {
		shared := &cnpgv1.Cluster{}
		eventuallyGet(client.ObjectKey{Namespace: hub.OperatorNamespace, Name: hub.SharedCluster.Name}, shared)
		Expect(shared.Spec.Instances).To(Equal(2))
		Expect(shared.Spec.Plugins).To(ContainElement(And(HaveField("Name", coopv1.BarmanPluginName), HaveField("IsWALArchiver", Equal(ptr.To(true))),
			HaveField("Parameters", HaveKeyWithValue("barmanObjectName", cooperative.SharedObjectStoreName(&hub))))))
		store := &barmanv1.ObjectStore{}
		eventuallyGet(client.ObjectKey{Namespace: hub.OperatorNamespace, Name: cooperative.SharedObjectStoreName(&hub)}, store)
		Expect(store.Spec.Configuration.DestinationPath).To(Equal(hubconfig.SharedBackupDestination(&hub)))
		sb := &cnpgv1.ScheduledBackup{}
		eventuallyGet(client.ObjectKey{Namespace: hub.OperatorNamespace, Name: cooperative.SharedScheduledBackupName(&hub)}, sb)
		Expect(sb.Spec.Cluster.Name).To(Equal(hub.SharedCluster.Name))
		Expect(sb.Spec.Method).To(Equal(cnpgv1.BackupMethodPlugin))
	})

	// Issue 10, point 4: no more "backed up with the hub's shared Cluster" on faith.
	It("reports BackupReady False until the shared Cluster has a completed backup, and until it has its own logical backup credentials", func() {
		Eventually(condition("care-collective", coopv1.ConditionBackupReady), timeout).Should(And(
			haveStatus(metav1.ConditionFalse, coopv1.ReasonNoBackupYet), HaveField("Message", ContainSubstring(hub.SharedCluster.Name))))
		// CloudNativePG would run the shared Cluster, archive its WAL and take the
		// ScheduledBackup's first backup; pods do not run here, so the test writes that.
		Eventually(func() error {
			return harness.SimulateSharedClusterBackedUp(ctx, k8s, hub.OperatorNamespace, hub.SharedCluster.Name)
		}, timeout).Should(Succeed())
		Eventually(condition("care-collective", coopv1.ConditionBackupReady), timeout).Should(And(
			haveStatus(metav1.ConditionFalse, coopv1.ReasonObjectStoreCredentialsMissing),
			HaveField("Message", ContainSubstring(hub.ObjectStore.PerCooperativeSecretPrefix+"care-collective"))))
		Expect(k8s.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: hub.OperatorNamespace, Name: hub.ObjectStore.PerCooperativeSecretPrefix + "care-collective"},
			Data:       map[string][]byte{"ACCESS_KEY_ID": []byte("care-key"), "ACCESS_SECRET_KEY": []byte("care-secret-value")},
		})).To(Succeed())
	})

	// Issue 10, point 4: a scheduled logical backup of its own database, to its own prefix.
	It("gets a CronJob in the operator namespace that dumps its database to its own prefix with its own credentials", func() {
		cj := &batchv1.CronJob{}
		eventuallyGet(client.ObjectKey{Namespace: hub.OperatorNamespace, Name: logicalbackup.Name("care-collective")}, cj)
		expectOwnedAndLabelled(cj, coop)
		pod := cj.Spec.JobTemplate.Spec.Template.Spec
		Expect(pod.InitContainers[0].Command).To(Equal([]string{"sh", "-c", logicalbackup.DumpScript}))
		Expect(pod.Containers[0].Args).To(ContainElement("--destination=" + hub.BackupDestination("care-collective") + "logical/"))
		Expect(pod.Containers[0].Env).To(ContainElement(HaveField("ValueFrom.SecretKeyRef.Name", hub.ObjectStore.PerCooperativeSecretPrefix+"care-collective")))
	})

	It("keeps its password across reconciles", func() {
		key := client.ObjectKey{Namespace: hub.OperatorNamespace, Name: "coop-care-collective"}
		before := &corev1.Secret{}
		eventuallyGet(key, before)
		Expect(updateCoop("care-collective", func(c *coopv1.Cooperative) { c.Spec.DisplayName = "Care Collective (renamed)" })).To(Succeed())
		generation := getCoop("care-collective").Generation
		Eventually(func() int64 { return getCoop("care-collective").Status.ObservedGeneration }, timeout).Should(Equal(generation))
		after := &corev1.Secret{}
		eventuallyGet(key, after)
		Expect(after.Data["password"]).To(Equal(before.Data["password"]))
	})

	It("becomes Ready once CloudNativePG applied its database and role", func() {
		Eventually(func(g Gomega) {
			g.Expect(harness.SimulateSharedDatabaseApplied(ctx, k8s, hub.OperatorNamespace, "coop-care-collective")).To(Succeed())
			g.Expect(harness.SimulateDeploymentsAvailable(ctx, k8s, "coop-care-collective")).To(Succeed())
			g.Expect(condition("care-collective", coopv1.ConditionReady)()).To(haveStatus(metav1.ConditionTrue, coopv1.ReasonReady))
		}, timeout).Should(Succeed())
		Expect(condition("care-collective", coopv1.ConditionBackupReady)()).To(And(
			haveStatus(metav1.ConditionTrue, coopv1.ReasonReady), HaveField("Message", ContainSubstring(hub.SharedCluster.Name))))
		Expect(getCoop("care-collective").Status.LastBackup).NotTo(BeNil())
	})

	It("reports BackupOverdue when its own logical backup has not succeeded for two nights", func() {
		// The Job controller would record the CronJob's last success; the test writes it.
		cj := &batchv1.CronJob{}
		eventuallyGet(client.ObjectKey{Namespace: hub.OperatorNamespace, Name: logicalbackup.Name("care-collective")}, cj)
		cj.Status.LastSuccessfulTime = &metav1.Time{Time: time.Now().Add(-72 * time.Hour).Truncate(time.Second)}
		Expect(k8s.Status().Update(ctx, cj)).To(Succeed())
		Eventually(condition("care-collective", coopv1.ConditionBackupReady), timeout).Should(And(
			haveStatus(metav1.ConditionFalse, coopv1.ReasonBackupOverdue), HaveField("Message", ContainSubstring(cj.Name))))
		cj.Status.LastSuccessfulTime = &metav1.Time{Time: time.Now().Truncate(time.Second)}
		Expect(k8s.Status().Update(ctx, cj)).To(Succeed())
		Eventually(condition("care-collective", coopv1.ConditionBackupReady), timeout).Should(haveStatus(metav1.ConditionTrue, coopv1.ReasonReady))
	})

	// Issue 10, point 5, on the shared tier.
	It("reports ArchivingFailing while the shared Cluster cannot archive WAL", func() {
		Expect(harness.SimulateArchivingFailing(ctx, k8s, hub.OperatorNamespace, hub.SharedCluster.Name, "WAL archive: 403 Forbidden")).To(Succeed())
		Eventually(condition("care-collective", coopv1.ConditionBackupReady), timeout).Should(haveStatus(metav1.ConditionFalse, coopv1.ReasonArchivingFailing))
		Expect(harness.SimulateClusterReady(ctx, k8s, hub.OperatorNamespace, hub.SharedCluster.Name)).To(Succeed())
		Eventually(condition("care-collective", coopv1.ConditionBackupReady), timeout).Should(haveStatus(metav1.ConditionTrue, coopv1.ReasonReady))
	})

	// Issue 10, points 4 and 6: deletionPolicy Retain (the sample's default).
	It("waits for a final logical backup Job when it goes with Retain, then leaves its role NOLOGIN with only a reject rule", func() {
		Expect(k8s.Delete(ctx, getCoop("care-collective"))).To(Succeed())
		var jobs batchv1.JobList
		Eventually(func(g Gomega) {
			g.Expect(k8s.List(ctx, &jobs, client.InNamespace(hub.OperatorNamespace), client.MatchingLabels{coopv1.LabelCooperative: "care-collective"})).To(Succeed())
			g.Expect(jobs.Items).To(HaveLen(1))
		}, timeout).Should(Succeed())
		job := jobs.Items[0]
		Expect(job.OwnerReferences).To(BeEmpty(), "the final backup outlives the co-op")
		Expect(job.Spec.Template.Spec.InitContainers[0].Command).To(Equal([]string{"sh", "-c", logicalbackup.DumpScript}))
		Eventually(condition("care-collective", coopv1.ConditionReady), timeout).Should(haveStatus(metav1.ConditionFalse, coopv1.ReasonFinalBackup))
		Consistently(func() error { return k8s.Get(ctx, client.ObjectKey{Name: "care-collective"}, &coopv1.Cooperative{}) }, 2*time.Second).Should(Succeed())

		// The Job controller does not run here: the test writes the status it writes once
		// the pod succeeded.
		Expect(harness.SimulateJobDone(ctx, k8s, hub.OperatorNamespace, job.Name, true)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Name: "care-collective"}, &coopv1.Cooperative{}))
		}, timeout).Should(BeTrue())

		role := &cnpgv1.DatabaseRole{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: hub.OperatorNamespace, Name: "coop-care-collective"}, role)).To(Succeed())
		Expect(role.Spec.Login).To(BeFalse())
		Expect(role.Spec.DisablePassword).To(BeTrue())
		Expect(role.Spec.ReclaimPolicy).To(Equal(cnpgv1.DatabaseRoleReclaimRetain))
		Expect(role.OwnerReferences).To(BeEmpty())
		Expect(role.Labels).To(HaveKeyWithValue(coopv1.LabelRetainedFrom, "care-collective"))
		// Issue 10, point 7: so is its serving role, and both Secrets are gone.
		servingRole := &cnpgv1.DatabaseRole{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: hub.OperatorNamespace, Name: "coop-care-collective-serving"}, servingRole)).To(Succeed())
		Expect(servingRole.Spec.Name).To(Equal("coop_care_collective_serving"))
		Expect(servingRole.Spec.Login).To(BeFalse())
		Expect(servingRole.Spec.DisablePassword).To(BeTrue())
		Expect(servingRole.OwnerReferences).To(BeEmpty())
		Expect(servingRole.Labels).To(HaveKeyWithValue(coopv1.LabelRetainedFrom, "care-collective"))
		for _, name := range []string{"coop-care-collective", "coop-care-collective-serving"} {
			Expect(apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Namespace: hub.OperatorNamespace, Name: name}, &corev1.Secret{}))).To(BeTrue(), name)
		}
		shared := &cnpgv1.Cluster{}
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: hub.OperatorNamespace, Name: hub.SharedCluster.Name}, shared)).To(Succeed())
			hba := strings.Join(shared.Spec.PostgresConfiguration.PgHBA, "\n")
			g.Expect(hba).NotTo(ContainSubstring("hostssl coop_care_collective"))
			g.Expect(hba).To(ContainSubstring("host all coop_care_collective all reject"))
			g.Expect(hba).To(ContainSubstring("host all coop_care_collective_serving all reject"))
		}, timeout).Should(Succeed())
		// The role stays retained for good: the shared Cluster another shared-tier co-op
		// applies keeps its reject rule.
		next := specs.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
		next.Name = "after-retain"
		Expect(k8s.Create(ctx, next)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, next))).To(Succeed()) })
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: hub.OperatorNamespace, Name: hub.SharedCluster.Name}, shared)).To(Succeed())
			hba := strings.Join(shared.Spec.PostgresConfiguration.PgHBA, "\n")
			g.Expect(hba).To(ContainSubstring("hostssl coop_after_retain coop_after_retain all scram-sha-256"))
			g.Expect(hba).To(ContainSubstring("host all coop_care_collective all reject"))
		}, timeout).Should(Succeed())
	})
})

var _ = Describe("A shared-tier co-op deleted with Retain", func() {
	It("keeps its pg_hba lines while its role still logs in for the final logical backup, and only a reject rule once it is retained", func() {
		dumpOnFailure("hba-leaving")
		leaving := specs.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
		leaving.Name = "hba-leaving"
		Expect(k8s.Create(ctx, leaving)).To(Succeed())
		staying := specs.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
		staying.Name = "hba-staying"
		Expect(k8s.Create(ctx, staying)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, staying))).To(Succeed()) })
		// Its own object store credentials: the final logical backup runs, as its role.
		creds := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: hub.OperatorNamespace, Name: hub.ObjectStore.PerCooperativeSecretPrefix + leaving.Name},
			Data: map[string][]byte{coopv1.AccessKeyIDKey: []byte("k"), coopv1.AccessSecretKeyKey: []byte("s")}}
		Expect(k8s.Create(ctx, creds)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, creds))).To(Succeed()) })
		shared := &cnpgv1.Cluster{}
		hba := func() string {
			Expect(k8s.Get(ctx, client.ObjectKey{Namespace: hub.OperatorNamespace, Name: hub.SharedCluster.Name}, shared)).To(Succeed())
			return strings.Join(shared.Spec.PostgresConfiguration.PgHBA, "\n")
		}
		Eventually(func(g Gomega) {
			g.Expect(harness.SimulateSharedDatabaseApplied(ctx, k8s, hub.OperatorNamespace, "coop-hba-leaving")).To(Succeed())
			g.Expect(hba()).To(ContainSubstring("hostssl coop_hba_leaving coop_hba_leaving all scram-sha-256"))
			g.Expect(hba()).To(ContainSubstring("hostssl coop_hba_staying coop_hba_staying all scram-sha-256"))
		}, timeout).Should(Succeed())

		Expect(k8s.Delete(ctx, getCoop(leaving.Name))).To(Succeed())
		Eventually(condition(leaving.Name, coopv1.ConditionReady), timeout).Should(haveStatus(metav1.ConditionFalse, coopv1.ReasonFinalBackup))
		// Another shared-tier co-op's reconcile writes the shared Cluster meanwhile.
		Expect(updateCoop(staying.Name, func(c *coopv1.Cooperative) { c.Spec.DisplayName = "Staying, renamed" })).To(Succeed())
		Eventually(func() int64 { c := getCoop(staying.Name); return c.Status.ObservedGeneration - c.Generation }, timeout).Should(BeZero())
		Consistently(hba, 2*time.Second).Should(And(
			ContainSubstring("hostssl coop_hba_leaving coop_hba_leaving all scram-sha-256"),
			ContainSubstring("hostssl coop_hba_leaving coop_hba_leaving_serving all scram-sha-256"),
			ContainSubstring("host all coop_hba_leaving all reject")), "its role logs in still, to its own database only")
		role := &cnpgv1.DatabaseRole{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: hub.OperatorNamespace, Name: "coop-hba-leaving"}, role)).To(Succeed())
		Expect(role.Spec.Login).To(BeTrue())

		// Once the final backup completed, its role is retained: a reject rule only.
		var jobs batchv1.JobList
		Eventually(func(g Gomega) {
			g.Expect(k8s.List(ctx, &jobs, client.InNamespace(hub.OperatorNamespace), client.MatchingLabels{coopv1.LabelCooperative: leaving.Name})).To(Succeed())
			g.Expect(jobs.Items).To(HaveLen(1))
		}, timeout).Should(Succeed())
		Expect(harness.SimulateJobDone(ctx, k8s, hub.OperatorNamespace, jobs.Items[0].Name, true)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Name: leaving.Name}, &coopv1.Cooperative{}))
		}, timeout).Should(BeTrue())
		Expect(updateCoop(staying.Name, func(c *coopv1.Cooperative) { c.Spec.DisplayName = "Staying" })).To(Succeed())
		Eventually(hba, timeout).Should(And(
			Not(ContainSubstring("hostssl coop_hba_leaving")),
			ContainSubstring("host all coop_hba_leaving all reject"),
			ContainSubstring("hostssl coop_hba_staying coop_hba_staying all scram-sha-256")))
	})
})

var _ = Describe("A co-op whose plan does not exist", func() {
	It("is Stalled, and Failed for kstatus, until the plan appears", func() {
		dumpOnFailure("no-plan")
		c := specs.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
		c.Name = "no-plan"
		c.Spec.Plan = "platinum"
		Expect(k8s.Create(ctx, c)).To(Succeed())
		Eventually(condition("no-plan", coopv1.ConditionStalled), timeout).Should(haveStatus(metav1.ConditionTrue, coopv1.ReasonPlanNotFound))
		Expect(kstatusOf("no-plan")).To(Equal(status.FailedStatus))
		Eventually(eventsOf("no-plan"), timeout).Should(ContainElement("Warning/PlanNotFound"))

		plan := &coopv1.HostingPlan{ObjectMeta: metav1.ObjectMeta{Name: "platinum"}, Spec: coopv1.HostingPlanSpec{Quota: coopv1.PlanQuota{
			CPU: resource.MustParse("2"), Memory: resource.MustParse("4Gi"), Storage: resource.MustParse("20Gi"), Pods: 20,
		}}}
		Expect(k8s.Create(ctx, plan)).To(Succeed())
		// A reconcile that fails in a later phase writes TenancyReady without summing up
		// Stalled: wait for the status of one that got through.
		Eventually(func(g Gomega) {
			c := &coopv1.Cooperative{}
			g.Expect(k8s.Get(ctx, client.ObjectKey{Name: "no-plan"}, c)).To(Succeed())
			g.Expect(meta.FindStatusCondition(c.Status.Conditions, coopv1.ConditionTenancyReady)).To(haveStatus(metav1.ConditionTrue, coopv1.ReasonReady))
			g.Expect(meta.FindStatusCondition(c.Status.Conditions, coopv1.ConditionStalled)).To(BeNil())
		}, timeout).Should(Succeed())
	})
})

var _ = Describe("A co-op with deletionPolicy Delete", func() {
	It("goes at once, with no final backup", func() {
		dumpOnFailure("goes-at-once")
		c := specs.Sample("coop_v1alpha1_cooperative_fairride.yaml")
		c.Name = "goes-at-once"
		c.Spec.Platform.Host = ""
		c.Spec.DeletionPolicy = coopv1.DeletionPolicyDelete
		Expect(k8s.Create(ctx, c)).To(Succeed())
		eventuallyGet(client.ObjectKey{Namespace: "coop-goes-at-once", Name: "goes-at-once"}, &cnpgv1.Cluster{})
		makeReady(getCoop("goes-at-once"), "goes-at-once-first")

		Expect(k8s.Delete(ctx, getCoop("goes-at-once"))).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Name: "goes-at-once"}, &coopv1.Cooperative{}))
		}, timeout).Should(BeTrue())
		var backups cnpgv1.BackupList
		Expect(k8s.List(ctx, &backups, client.InNamespace("coop-goes-at-once"))).To(Succeed())
		Expect(backups.Items).To(HaveLen(1), "only the backup taken while it lived, no final one")
		ns := &corev1.Namespace{}
		Expect(k8s.Get(ctx, client.ObjectKey{Name: "coop-goes-at-once"}, ns)).To(Succeed())
		Expect(ns.DeletionTimestamp).NotTo(BeNil(), "the namespace is being deleted")
	})
})

var _ = Describe("A co-op whose template version drops a component", func() {
	It("loses that component's Deployment, Service and PodDisruptionBudget, and keeps the others", func() {
		dumpOnFailure("prunes")
		tmpl := &coopv1.PlatformTemplate{
			ObjectMeta: metav1.ObjectMeta{Name: "care-two-parts"},
			Spec: coopv1.PlatformTemplateSpec{Vertical: coopv1.VerticalCare, DefaultVersion: "1.0", Versions: []coopv1.TemplateVersion{
				{Version: "1.0", Components: []coopv1.Component{{Name: "api"}, {Name: "rota"}}},
				{Version: "2.0", Components: []coopv1.Component{{Name: "api"}}},
			}},
		}
		Expect(k8s.Create(ctx, tmpl)).To(Succeed())
		c := specs.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
		c.Name = "prunes"
		c.Spec.Platform.Template = "care-two-parts"
		Expect(k8s.Create(ctx, c)).To(Succeed())
		for _, obj := range []client.Object{&appsv1.Deployment{}, &corev1.Service{}, &policyv1.PodDisruptionBudget{}} {
			eventuallyGet(client.ObjectKey{Namespace: "coop-prunes", Name: "rota"}, obj)
		}

		Expect(updateCoop("prunes", func(c *coopv1.Cooperative) { c.Spec.Platform.Version = "2.0" })).To(Succeed())
		for _, obj := range []client.Object{&appsv1.Deployment{}, &corev1.Service{}, &policyv1.PodDisruptionBudget{}} {
			Eventually(func() bool {
				return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Namespace: "coop-prunes", Name: "rota"}, obj))
			}, timeout).Should(BeTrue(), "%T rota must go", obj)
		}
		eventuallyGet(client.ObjectKey{Namespace: "coop-prunes", Name: "api"}, &appsv1.Deployment{})
		Eventually(eventsOf("prunes"), timeout).Should(ContainElement("Normal/Pruned"))
		// The event is recorded while the platform phase runs; the status is written after it.
		Eventually(func() string { return getCoop("prunes").Status.Platform.Version }, timeout).Should(Equal("2.0"))
	})
})

// lateCache is a manager's client whose cache has not seen some objects yet.
type lateCache struct {
	client.Client
	unseen func(client.Object) bool
}

func (c lateCache) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if c.unseen(obj) {
		gvk, err := c.GroupVersionKindFor(obj)
		if err != nil {
			return err
		}
		return apierrors.NewNotFound(schema.GroupResource{Group: gvk.Group, Resource: strings.ToLower(gvk.Kind) + "s"}, key.Name)
	}
	return c.Client.Get(ctx, key, obj, opts...)
}

var _ = Describe("A shared-tier co-op whose Database and DatabaseRole the cache has not seen yet", func() {
	It("says they are not applied yet, and its reconcile does not fail", func() {
		dumpOnFailure("cache-lag")
		c := specs.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
		c.Name = "cache-lag"
		Expect(k8s.Create(ctx, c)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, c))).To(Succeed()) })
		eventuallyGet(client.ObjectKey{Namespace: hub.OperatorNamespace, Name: "coop-cache-lag"}, &cnpgv1.DatabaseRole{})

		// As in the reconcile that creates them: it reads them back before its cache has them.
		late := lateCache{Client: manager.SecretsOutside(mgr.GetClient(), mgr.GetAPIReader(), hub.OperatorNamespace), unseen: func(obj client.Object) bool {
			switch obj.(type) {
			case *cnpgv1.Database, *cnpgv1.DatabaseRole:
				return true
			}
			return false
		}}
		r := &cooperative.Reconciler{Client: late, Config: hub, Recorder: mgr.GetEventRecorder("test")}
		_, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: "cache-lag"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(condition("cache-lag", coopv1.ConditionDatabaseReady)()).To(haveStatus(metav1.ConditionFalse, coopv1.ReasonDatabaseNotReady))
	})
})

// secretsRead are the Secrets a container's env and envFrom read.
func secretsRead(c corev1.Container) []string {
	var names []string
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			names = append(names, e.ValueFrom.SecretKeyRef.Name)
		}
	}
	for _, e := range c.EnvFrom {
		if e.SecretRef != nil {
			names = append(names, e.SecretRef.Name)
		}
	}
	return names
}
