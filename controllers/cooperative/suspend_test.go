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
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/test/harness/specs"
)

var _ = Describe("Suspending, resuming and asking for a reconcile", Ordered, func() {
	const name = "pausable"
	ns := coopv1.NamespacePrefix + name
	quotaCPU := func() resource.Quantity {
		q := &corev1.ResourceQuota{}
		_ = k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: coopv1.QuotaName}, q)
		return q.Spec.Hard[corev1.ResourceRequestsCPU]
	}

	BeforeAll(func() {
		dumpOnFailure(name)
		c := specs.Sample("coop_v1alpha1_cooperative_coursiers.yaml")
		c.Name = name
		c.Spec.Plan = "small"
		c.Spec.Database.Instances = 1
		c.Spec.Admins = []coopv1.Subject{{Kind: "Group", Name: name + "-admins"}}
		c.Spec.Platform.Host = name + ".example.coop" // hosts are unique across the hub
		c.Spec.DeletionPolicy = coopv1.DeletionPolicyDelete
		Expect(k8s.Create(ctx, c)).To(Succeed())
		Eventually(quotaCPU, timeout).Should(Equal(resource.MustParse("4")))
	})

	It("records the reconcile request it handled", func() {
		Expect(updateCoop(name, func(c *coopv1.Cooperative) {
			if c.Annotations == nil {
				c.Annotations = map[string]string{}
			}
			c.Annotations[coopv1.AnnotationReconcileRequestedAt] = "2026-12-05T12:00:00Z"
		})).To(Succeed())
		Eventually(func() string { return getCoop(name).Status.LastHandledReconcileAt }, timeout).Should(Equal("2026-12-05T12:00:00Z"))
	})

	It("stops reconciling while suspended, and says so in a way kstatus reads as stalled", func() {
		Expect(updateCoop(name, func(c *coopv1.Cooperative) { c.Spec.Suspend = true })).To(Succeed())
		Eventually(condition(name, coopv1.ConditionReady), timeout).Should(haveStatus(metav1.ConditionFalse, coopv1.ReasonSuspended))
		// A change of plan while suspended: the reconciler observes the new generation (it
		// ran) and leaves the quota of the old plan alone.
		Expect(updateCoop(name, func(c *coopv1.Cooperative) { c.Spec.Plan = "medium" })).To(Succeed())
		coop := getCoop(name)
		Eventually(func() int64 { return getCoop(name).Status.ObservedGeneration }, timeout).Should(Equal(coop.Generation))
		coop = getCoop(name)
		Expect(meta.FindStatusCondition(coop.Status.Conditions, coopv1.ConditionReady)).To(haveStatus(metav1.ConditionFalse, coopv1.ReasonSuspended))
		Expect(meta.FindStatusCondition(coop.Status.Conditions, coopv1.ConditionReconciling)).To(BeNil())
		Expect(meta.FindStatusCondition(coop.Status.Conditions, coopv1.ConditionStalled)).To(haveStatus(metav1.ConditionTrue, coopv1.ReasonSuspended))
		Expect(quotaCPU()).To(Equal(resource.MustParse("4")), "the quota followed the plan while suspended")
		Expect(kstatus(coop)).To(Equal(status.FailedStatus), "generation %d, status %+v", coop.Generation, coop.Status)
		Eventually(eventsOf(name), timeout).Should(ContainElement("Normal/" + coopv1.ReasonSuspended))
	})

	It("catches up when resumed", func() {
		Expect(updateCoop(name, func(c *coopv1.Cooperative) { c.Spec.Suspend = false })).To(Succeed())
		Eventually(quotaCPU, timeout).Should(Equal(resource.MustParse("12")))
		Eventually(func() string { return condition(name, coopv1.ConditionReady)().Reason }, timeout).ShouldNot(Equal(coopv1.ReasonSuspended))
		Expect(condition(name, coopv1.ConditionStalled)()).To(BeNil(), "still stalled after resume")
		Expect(kstatusOf(name)).To(Equal(status.InProgressStatus))
	})

	It("records the co-op's events in its namespace, where its admins read them", func() {
		admin := userClient("dora", name+"-admins")
		// The API server authorizes from informers of its own: wait for the binding, and
		// for the event recorded in the co-op's namespace when it was suspended.
		Eventually(func(g Gomega) {
			var list eventsv1.EventList
			g.Expect(admin.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
			var reasons []string
			for _, e := range list.Items {
				if e.Regarding.Kind == "Cooperative" && e.Regarding.Name == name {
					reasons = append(reasons, e.Reason)
				}
			}
			g.Expect(reasons).To(ContainElement(coopv1.ReasonSuspended))
		}, timeout).Should(Succeed())
		// The copy on the object itself, in the default namespace, is not theirs to read.
		Expect(admin.List(ctx, &eventsv1.EventList{}, client.InNamespace(metav1.NamespaceDefault))).To(beForbidden())
		Expect(admin.List(ctx, &eventsv1.EventList{}, client.InNamespace("coop-fairride-lyon"))).To(beForbidden())
	})

	AfterAll(func() {
		Expect(k8s.Delete(ctx, &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
	})
})
