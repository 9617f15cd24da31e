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

package federation_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/federation"
	"github.com/cooperator-dev/cooperator/controllers/shared/ssa"
)

var _ = Describe("A peer's mirror counts", func() {
	It("are written whatever a stale read says, a count that drops to zero included", func() {
		peer := &coopv1.FederationPeer{
			ObjectMeta: metav1.ObjectMeta{Name: "counted"},
			Spec:       coopv1.FederationPeerSpec{Region: "eu-north", KubeconfigSecretRef: coopv1.SecretKeyRef{Name: "peer-counted", Key: "kubeconfig"}},
		}
		Expect(west.k8s.Create(ctx, peer)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(west.k8s.Delete(ctx, peer))).To(Succeed()) })
		// The operator counts once when the peer is declared; nothing wakes that count again
		// here (no co-op lists the peer), so what follows runs alone.
		Eventually(func() bool {
			Expect(west.k8s.Get(ctx, client.ObjectKeyFromObject(peer), peer)).To(Succeed())
			for _, f := range peer.ManagedFields {
				if f.Manager == federation.MirrorsFieldOwner {
					return true
				}
			}
			return false
		}, timeout).Should(BeTrue())

		// Three co-ops were mirrored there a moment ago; the count the cache holds is older.
		key := client.ObjectKeyFromObject(peer)
		Expect(ssa.ApplyStatus(ctx, west.k8s, coopv1.GroupVersion.WithKind("FederationPeer"), key,
			map[string]any{"mirroredTo": int64(3), "mirroredFrom": int64(1)}, federation.MirrorsFieldOwner)).To(Succeed())
		direct, err := client.NewWithWatch(west.env.Cfg, client.Options{Scheme: west.env.Scheme})
		Expect(err).NotTo(HaveOccurred())
		stale := interceptor.NewClient(direct, interceptor.Funcs{
			Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
				if err := c.Get(ctx, key, obj, opts...); err != nil {
					return err
				}
				if p, ok := obj.(*coopv1.FederationPeer); ok {
					p.Status.MirroredTo, p.Status.MirroredFrom = 0, 0
				}
				return nil
			},
		})
		r := &federation.FederationPeerReconciler{Client: stale, Hub: west.cfg}
		_, err = r.ReconcileMirrors(ctx, ctrl.Request{NamespacedName: key})
		Expect(err).NotTo(HaveOccurred())

		Expect(west.k8s.Get(ctx, key, peer)).To(Succeed())
		Expect(peer.Status.MirroredTo).To(BeZero())
		Expect(peer.Status.MirroredFrom).To(BeZero())
	})
})
