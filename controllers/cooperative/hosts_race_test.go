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
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/test/harness"
	"github.com/cooperator-dev/cooperator/test/harness/specs"
)

var _ = Describe("Two co-ops that claim one host", func() {
	// The webhook refuses a host another co-op claims or serves, reading the co-ops and
	// their Ingresses from the operator's cache: two claims within the moment the cache
	// takes to see the first both pass it. The spec makes that race certain by taking the
	// webhook away for the two claims, as a hub without the webhook would have it.
	It("give it to the first to claim it, however old the other; an Ingress left behind holds it", func() {
		const host = "race.example.coop"
		dumpOnFailure("host-early")
		ingressOf := func(name string) func() (*networkingv1.Ingress, error) {
			return func() (*networkingv1.Ingress, error) {
				ing := &networkingv1.Ingress{}
				err := k8s.Get(ctx, client.ObjectKey{Namespace: coopv1.NamespacePrefix + name, Name: name}, ing)
				return ing, err
			}
		}
		hostOf := func(ing *networkingv1.Ingress) string { return ing.Spec.Rules[0].Host }
		// The attacker's co-op: older, first by name, its tenancy ready long before the
		// new co-op's.
		createDedicatedCoop("host-early", nil)
		early := getCoop("host-early").CreationTimestamp.Time
		Eventually(func() time.Time { return time.Now() }, timeout).Should(BeTemporally(">=", early.Add(time.Second)))

		webhooks := &admissionregistrationv1.ValidatingWebhookConfiguration{}
		Expect(k8s.Get(ctx, client.ObjectKey{Name: "validating-webhook-configuration"}, webhooks)).To(Succeed())
		saved := webhooks.DeepCopy()
		saved.ObjectMeta = metav1.ObjectMeta{Name: webhooks.Name, Labels: webhooks.Labels, Annotations: webhooks.Annotations}
		third := func() *coopv1.Cooperative {
			c := specs.Sample("coop_v1alpha1_cooperative_fairride.yaml")
			c.Name = "host-third"
			c.Spec.Platform.Host = host
			return c
		}
		const refused = "is already the host of another co-op"
		reinstall := func() { Expect(client.IgnoreAlreadyExists(k8s.Create(ctx, saved.DeepCopy()))).To(Succeed()) }
		Expect(k8s.Delete(ctx, webhooks)).To(Succeed())
		DeferCleanup(reinstall)
		// A new co-op is given the host; right after, the older co-op's admin claims it too.
		late := specs.Sample("coop_v1alpha1_cooperative_fairride.yaml")
		late.Name = "host-late"
		late.Spec.Platform.Host = host
		late.Spec.DeletionPolicy = coopv1.DeletionPolicyDelete
		Eventually(func() error { return k8s.Create(ctx, late.DeepCopy()) }, timeout).Should(Succeed()) // refused while the webhook is called
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, late))).To(Succeed()) })
		Expect(updateCoop("host-early", func(c *coopv1.Cooperative) { c.Spec.Platform.Host = host })).To(Succeed())
		reinstall()
		// In force again once a third claim is refused.
		Eventually(func() error { return k8s.Create(ctx, third(), client.DryRunAll) }, timeout).Should(MatchError(ContainSubstring(refused)))

		Eventually(condition("host-early", coopv1.ConditionPlatformReady), timeout).Should(haveStatus(metav1.ConditionFalse, coopv1.ReasonHostTaken))
		ns := coopv1.NamespacePrefix + late.Name
		eventuallyGet(client.ObjectKey{Namespace: ns, Name: late.Name}, &cnpgv1.Cluster{})
		Eventually(func() error { return harness.SimulateClusterReady(ctx, k8s, ns, late.Name) }, timeout).Should(Succeed())
		Eventually(ingressOf("host-late"), timeout).Should(WithTransform(hostOf, Equal(host)))
		_, err := ingressOf("host-early")()
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the later claimant got an Ingress: %v", err)
		Expect(getCoop("host-early").Status.Endpoints.URL).To(BeEmpty())

		// The first claimant gives the host up: the other takes it.
		Expect(updateCoop("host-late", func(c *coopv1.Cooperative) { c.Spec.Platform.Host = "race-moved.example.coop" })).To(Succeed())
		Eventually(ingressOf("host-early"), timeout).Should(WithTransform(hostOf, Equal(host)))
		Eventually(condition("host-early", coopv1.ConditionPlatformReady), timeout).ShouldNot(haveStatus(metav1.ConditionFalse, coopv1.ReasonHostTaken))
		Eventually(ingressOf("host-late"), timeout).Should(WithTransform(hostOf, Equal("race-moved.example.coop")))

		// An Ingress left behind holds the host: the hub suspends the co-op serving it and
		// names another host; its Ingress stays while suspended, and no one may claim the
		// host meanwhile.
		var generation int64
		Expect(updateCoop("host-early", func(c *coopv1.Cooperative) {
			c.Spec.Suspend = true
			c.Spec.Platform.Host = "race-suspended.example.coop"
			generation = c.Generation
		})).To(Succeed())
		Eventually(func() bool {
			c := getCoop("host-early")
			ready := meta.FindStatusCondition(c.Status.Conditions, coopv1.ConditionReady)
			return c.Status.ObservedGeneration > generation && ready != nil && ready.Reason == coopv1.ReasonSuspended
		}, timeout).Should(BeTrue())
		Expect(hostOf(must(ingressOf("host-early")()))).To(Equal(host))
		Expect(k8s.Create(ctx, third(), client.DryRunAll)).To(MatchError(ContainSubstring(refused)), "a host an Ingress still serves was given to another co-op")
		Expect(updateCoop("host-early", func(c *coopv1.Cooperative) { c.Spec.Suspend = false })).To(Succeed())
		Eventually(ingressOf("host-early"), timeout).Should(WithTransform(hostOf, Equal("race-suspended.example.coop")))
		Eventually(func() error { return k8s.Create(ctx, third(), client.DryRunAll) }, timeout).Should(Succeed())
	})
})

func must[T any](v T, err error) T {
	GinkgoHelper()
	Expect(err).NotTo(HaveOccurred())
	return v
}
