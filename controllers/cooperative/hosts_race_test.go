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
	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/test/harness"
	"github.com/cooperator-dev/cooperator/test/harness/specs"
)

var _ = Describe("Two co-ops that claim one host", func() {
	// The webhook refuses a host another co-op holds, reading the co-ops from the
	// operator's cache: two claims within the moment the cache takes to see the first both
	// pass it. The spec makes that race certain by taking the webhook away for the second
	// claim, as a hub without the webhook would have it.
	It("give it to the co-op that serves it; the other gets no Ingress until it names a host of its own", func() {
		const host = "race.example.coop"
		dumpOnFailure("host-second")
		createDedicatedCoop("host-first", func(c *coopv1.Cooperative) { c.Spec.Platform.Host = host })
		ingressOf := func(name string) func() (*networkingv1.Ingress, error) {
			return func() (*networkingv1.Ingress, error) {
				ing := &networkingv1.Ingress{}
				err := k8s.Get(ctx, client.ObjectKey{Namespace: coopv1.NamespacePrefix + name, Name: name}, ing)
				return ing, err
			}
		}
		hostOf := func(ing *networkingv1.Ingress) string { return ing.Spec.Rules[0].Host }
		Eventually(ingressOf("host-first"), timeout).Should(WithTransform(hostOf, Equal(host)))

		// The second claim, with no webhook to refuse it.
		webhooks := &admissionregistrationv1.ValidatingWebhookConfiguration{}
		Expect(k8s.Get(ctx, client.ObjectKey{Name: "validating-webhook-configuration"}, webhooks)).To(Succeed())
		saved := webhooks.DeepCopy()
		saved.ObjectMeta = metav1.ObjectMeta{Name: webhooks.Name, Labels: webhooks.Labels, Annotations: webhooks.Annotations}
		restore := func() {
			err := k8s.Create(ctx, saved.DeepCopy())
			Expect(client.IgnoreAlreadyExists(err)).To(Succeed())
			// In force again once a second claim is refused.
			dup := specs.Sample("coop_v1alpha1_cooperative_fairride.yaml")
			dup.Name = "host-third"
			dup.Spec.Platform.Host = host
			Eventually(func() error { return k8s.Create(ctx, dup, client.DryRunAll) }, timeout).Should(MatchError(ContainSubstring("is already the host of another co-op")))
		}
		Expect(k8s.Delete(ctx, webhooks)).To(Succeed())
		DeferCleanup(restore)
		second := specs.Sample("coop_v1alpha1_cooperative_fairride.yaml")
		second.Name = "host-second"
		second.Spec.Platform.Host = host
		second.Spec.DeletionPolicy = coopv1.DeletionPolicyDelete
		// Refused until the API server no longer calls the webhook.
		Eventually(func() error { return k8s.Create(ctx, second.DeepCopy()) }, timeout).Should(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, second))).To(Succeed()) })
		restore()
		ns := coopv1.NamespacePrefix + second.Name
		eventuallyGet(client.ObjectKey{Namespace: ns, Name: second.Name}, &cnpgv1.Cluster{})
		Eventually(func() error { return harness.SimulateClusterReady(ctx, k8s, ns, second.Name) }, timeout).Should(Succeed())

		Eventually(condition("host-second", coopv1.ConditionPlatformReady), timeout).Should(haveStatus(metav1.ConditionFalse, coopv1.ReasonHostTaken))
		_, err := ingressOf("host-second")()
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the second claimant got an Ingress: %v", err)
		Expect(getCoop("host-second").Status.Endpoints.URL).To(BeEmpty())
		Expect(hostOf(must(ingressOf("host-first")()))).To(Equal(host), "the co-op that served the host kept it")

		// The first gives it up: the second takes it.
		Expect(updateCoop("host-first", func(c *coopv1.Cooperative) { c.Spec.Platform.Host = "race-moved.example.coop" })).To(Succeed())
		Eventually(ingressOf("host-second"), timeout).Should(WithTransform(hostOf, Equal(host)))
		Eventually(condition("host-second", coopv1.ConditionPlatformReady), timeout).ShouldNot(haveStatus(metav1.ConditionFalse, coopv1.ReasonHostTaken))
		Eventually(ingressOf("host-first"), timeout).Should(WithTransform(hostOf, Equal("race-moved.example.coop")))
	})
})

func must[T any](v T, err error) T {
	GinkgoHelper()
	Expect(err).NotTo(HaveOccurred())
	return v
}
