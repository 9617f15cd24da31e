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
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cooperative"
)

// Each base backup is a full copy of a co-op's database in the hub's object store, whose
// bill all co-ops share: a co-op's admins may ask for one an hour, the hub for any.
var _ = Describe("On-demand backups", Ordered, func() {
	const name = "ondemand"
	var alice client.Client
	coop := &coopv1.Cooperative{}

	BeforeAll(func() {
		alice = adminOf(name, nil)
		eventuallyGet(client.ObjectKey{Name: name}, coop)
	})

	It("a co-op admin may ask for a backup of the co-op's Cluster", func() {
		// The admin Role that allows it reaches the API server's authorizer a moment after
		// the operator stores it.
		Eventually(func() error {
			return alice.Create(ctx, cooperative.BuildOnDemandBackup(coop, name+"-first"))
		}, timeout).Should(Succeed())
	})

	It("is refused another within the hour, and told when it may ask again", func() {
		// The webhook remembers what it admitted, and reads the Backups from the operator's
		// cache; the dry runs store nothing.
		second := func() error {
			return alice.Create(ctx, cooperative.BuildOnDemandBackup(coop, name+"-second"), client.DryRunAll)
		}
		Eventually(second, timeout).Should(MatchError(ContainSubstring("one backup an hour")))
		refusedWith(alice.Create(ctx, cooperative.BuildOnDemandBackup(coop, name+"-second")),
			"spec.cluster.name", "of Cluster "+coopv1.ClusterName(coop)+" was requested at", "one backup an hour; ask again after")
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: name + "-second"}, &cnpgv1.Backup{})).To(Satisfy(apierrors.IsNotFound))
	})

	It("may not leave out the label that names the Cluster, which the next request would not see", func() {
		b := cooperative.BuildOnDemandBackup(coop, name+"-unlabelled")
		delete(b.Labels, coopv1.ClusterLabel)
		refusedWith(alice.Create(ctx, b, client.DryRunAll), "metadata.labels[cnpg.io/cluster]", `must name the backup's Cluster, "`+coopv1.ClusterName(coop)+`"`)
	})

	It("does not hold whoever may create Backups in every namespace (the hub, CloudNativePG)", func() {
		role := &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-backup-creator"},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{cnpgv1.SchemeGroupVersion.Group}, Resources: []string{"backups"}, Verbs: []string{"create"}}},
		}
		binding := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-backup-creator"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name + "-hub-ops"}},
		}
		for _, o := range []client.Object{role, binding} {
			Expect(k8s.Create(ctx, o)).To(Succeed())
			DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, o))).To(Succeed()) })
		}
		hubOps := userClient(name + "-hub-ops")
		Eventually(func() error {
			return hubOps.Create(ctx, cooperative.BuildOnDemandBackup(coop, name+"-by-the-hub"), client.DryRunAll)
		}, timeout).Should(Succeed())
		// The co-op admin still is held.
		refusedWith(alice.Create(ctx, cooperative.BuildOnDemandBackup(coop, name+"-third"), client.DryRunAll), "one backup an hour")
	})
})
