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
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cooperative"
	"github.com/cooperator-dev/cooperator/test/harness/specs"
)

var _ = Describe("isolation 3: network policies of each tier", func() {
	// policiesOf are the NetworkPolicies of a namespace, by name.
	policiesOf := func(ns string) func(g Gomega) map[string]networkingv1.NetworkPolicySpec {
		return func(g Gomega) map[string]networkingv1.NetworkPolicySpec {
			var l networkingv1.NetworkPolicyList
			g.Expect(k8s.List(ctx, &l, client.InNamespace(ns))).To(Succeed())
			out := map[string]networkingv1.NetworkPolicySpec{}
			for _, np := range l.Items {
				out[np.Name] = np.Spec
			}
			return out
		}
	}
	// expectBuilt waits until the namespace holds exactly what the builder makes for coop.
	expectBuilt := func(coop *coopv1.Cooperative) {
		GinkgoHelper()
		var plan coopv1.HostingPlan
		Expect(k8s.Get(ctx, client.ObjectKey{Name: coop.Spec.Plan}, &plan)).To(Succeed())
		want := map[string]networkingv1.NetworkPolicySpec{}
		for _, np := range cooperative.BuildNetworkPolicies(coop, &plan, &hub) {
			want[np.Name] = np.Spec
		}
		Eventually(func(g Gomega) {
			got := policiesOf(coop.NamespaceName())(g)
			g.Expect(got).To(HaveLen(len(want)))
			for name, spec := range want {
				g.Expect(got).To(HaveKey(name))
				g.Expect(equality.Semantic.DeepDerivative(spec, got[name])).To(BeTrue(), "NetworkPolicy %s as built", name)
			}
		}, timeout).Should(Succeed())
		deny := policiesOf(coop.NamespaceName())(Default)[cooperative.NetworkPolicyDeny]
		Expect(deny.PolicyTypes).To(ConsistOf(networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress), "default-deny both ways")
		Expect(deny.Ingress).To(BeEmpty())
		Expect(deny.Egress).To(BeEmpty())
		var ns corev1.Namespace
		Expect(k8s.Get(ctx, client.ObjectKey{Name: coop.NamespaceName()}, &ns)).To(Succeed())
		Expect(ns.Labels).To(HaveKeyWithValue(coopv1.LabelDatabaseTier, string(coop.Spec.Database.Tier)))
	}

	It("gives a dedicated co-op egress to DNS and its namespace, and no shared Cluster", func() {
		coop := specs.Sample("coop_v1alpha1_cooperative_fairride.yaml")
		coop.Name, coop.Spec.Platform.Host = "iso-dedicated", "iso-dedicated.example.coop"
		Expect(k8s.Create(ctx, coop)).To(Succeed())
		dumpOnFailure(coop.Name)
		expectBuilt(coop)
		Expect(policiesOf(coop.NamespaceName())(Default)).NotTo(HaveKey(cooperative.NetworkPolicySharedDatabase))
	})

	It("gives a shared-tier co-op egress to the shared Cluster's primary on 5432", func() {
		coop := specs.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
		coop.Name = "iso-shared"
		if coop.Spec.Platform.Host != "" {
			coop.Spec.Platform.Host = "iso-shared.example.coop"
		}
		Expect(k8s.Create(ctx, coop)).To(Succeed())
		dumpOnFailure(coop.Name)
		expectBuilt(coop)
		shared := policiesOf(coop.NamespaceName())(Default)[cooperative.NetworkPolicySharedDatabase]
		Expect(shared.Egress).To(HaveLen(1))
		Expect(shared.Egress[0].Ports).To(HaveLen(1))
		Expect(shared.Egress[0].Ports[0].Port.IntVal).To(Equal(int32(cooperative.PostgresPort)))
	})

	It("protects the shared Cluster and the manager in the operator namespace", func() {
		want := map[string]networkingv1.NetworkPolicySpec{}
		for _, np := range cooperative.BuildOperatorNetworkPolicies(&hub) {
			want[np.Name] = np.Spec
		}
		// Issue 10, point 3: the logical backup pods of the shared tier are held too.
		Expect(want).To(HaveKey(cooperative.NetworkPolicyLogicalBackup))
		Eventually(func(g Gomega) {
			got := policiesOf(hub.OperatorNamespace)(g)
			for name, spec := range want {
				g.Expect(got).To(HaveKey(name))
				g.Expect(equality.Semantic.DeepDerivative(spec, got[name])).To(BeTrue(), "NetworkPolicy %s as built", name)
			}
		}, timeout).Should(Succeed())
	})
})
