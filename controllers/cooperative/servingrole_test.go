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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cooperative"
)

// Issue 10, point 7. No CloudNativePG instance runs here: the test writes the managed role
// status CloudNativePG writes when it cannot create or alter a role.
var _ = Describe("A dedicated co-op whose serving role CloudNativePG cannot reconcile", Ordered, func() {
	const name = "serving-refused"
	ns := coopv1.NamespacePrefix + name
	key := client.ObjectKey{Namespace: ns, Name: name}
	BeforeAll(func() {
		dumpOnFailure(name)
		createDedicatedCoop(name, nil)
		Eventually(condition(name, coopv1.ConditionDatabaseReady), timeout).Should(haveStatus(metav1.ConditionTrue, coopv1.ReasonReady))
	})

	setRefusal := func(refusal map[string][]string) {
		Eventually(func() error {
			cluster := &cnpgv1.Cluster{}
			if err := k8s.Get(ctx, key, cluster); err != nil {
				return err
			}
			cluster.Status.ManagedRolesStatus.CannotReconcile = refusal
			return k8s.Status().Update(ctx, cluster)
		}, timeout).Should(Succeed())
	}

	It("is not DatabaseReady, and says why, while the platform cannot log in", func() {
		setRefusal(map[string][]string{cooperative.DedicatedServingRole: {"password secret not found"}})
		Eventually(condition(name, coopv1.ConditionDatabaseReady), timeout).Should(And(
			haveStatus(metav1.ConditionFalse, coopv1.ReasonDatabaseNotReady),
			HaveField("Message", And(ContainSubstring(cooperative.DedicatedServingRole), ContainSubstring("password secret not found")))))
	})

	It("is DatabaseReady again once CloudNativePG reconciled it", func() {
		setRefusal(nil)
		Eventually(condition(name, coopv1.ConditionDatabaseReady), timeout).Should(haveStatus(metav1.ConditionTrue, coopv1.ReasonReady))
	})
})
