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
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/cooperator-dev/cooperator/api/policy"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cooperative"
	"github.com/cooperator-dev/cooperator/test/harness/specs"
)

// governedMessage is what the webhook says of a governed field changed directly.
const governedMessage = "governed by the co-op's members (spec.governance.governedFields): it changes only through a passed proposal"

// updateAs changes a Cooperative as the given client's user, reading it again on conflict.
func updateAs(c client.Client, name string, mutate func(*coopv1.Cooperative)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		coop := &coopv1.Cooperative{}
		if err := c.Get(ctx, client.ObjectKey{Name: name}, coop); err != nil {
			return err
		}
		mutate(coop)
		return c.Update(ctx, coop)
	})
}

// warningClient is a client acting as an envtest user, collecting the warnings it gets.
func warningClient(name string, w *warnings, groups ...string) client.Client {
	GinkgoHelper()
	cfg, err := env.AddUser(name, groups)
	Expect(err).NotTo(HaveOccurred())
	return withWarnings(cfg, w)
}

// dryUpdateAs is updateAs as a server-side dry run: admission judges it, nothing is stored.
func dryUpdateAs(c client.Client, name string, mutate func(*coopv1.Cooperative)) error {
	coop := &coopv1.Cooperative{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, coop); err != nil {
		return err
	}
	mutate(coop)
	return c.Update(ctx, coop, client.DryRunAll)
}

// dryRetried is dryUpdateAs read again while the operator still writes the co-op (a
// conflict), as a client retries.
func dryRetried(c client.Client, name string, mutate func(*coopv1.Cooperative)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error { return dryUpdateAs(c, name, mutate) })
}

// refusedWith expects an Invalid answer whose message holds every want.
func refusedWith(err error, want ...string) {
	GinkgoHelper()
	Expect(err).To(HaveOccurred())
	Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
	for _, w := range want {
		Expect(err.Error()).To(ContainSubstring(w))
	}
}

// adminOf creates the fairride sample as co-op name, with the given governed fields,
// administered by group <name>-admins, and returns a client of one of those admins once the
// API server lets it read the co-op.
func adminOf(name string, governed []coopv1.GovernedField) client.Client {
	GinkgoHelper()
	c := specs.Sample("coop_v1alpha1_cooperative_fairride.yaml")
	c.Name = name
	c.Spec.Governance.GovernedFields = governed
	c.Spec.Admins = []coopv1.Subject{{Kind: "Group", Name: c.Name + "-admins"}}
	c.Spec.Platform.Host = c.Name + ".example.coop"
	Expect(k8s.Create(ctx, c)).To(Succeed())
	DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, c))).To(Succeed()) })
	eventuallyGet(client.ObjectKey{Name: coopv1.ClusterRoleName(c)}, &rbacv1.ClusterRoleBinding{})
	admin := userClient(c.Name+"-alice", c.Name+"-admins")
	// The API server authorizes from informers of its own, which see the binding a moment
	// after it is stored.
	Eventually(func() error { return admin.Get(ctx, client.ObjectKey{Name: c.Name}, &coopv1.Cooperative{}) }, timeout).Should(Succeed())
	return admin
}

// standbyOf is the fairride sample as the standby a hub of region home writes of its co-op
// name: no admins, no peers of its own.
func standbyOf(name, home string) *coopv1.Cooperative {
	standby := specs.Sample("coop_v1alpha1_cooperative_fairride.yaml")
	standby.Name = name
	standby.Labels = map[string]string{coopv1.LabelMirroredFrom: home}
	standby.Spec.Federation = coopv1.FederationSpec{}
	standby.Spec.Admins = nil
	standby.Spec.Standby = &coopv1.StandbySpec{HomeRegion: home, HomeCooperative: name, PrimaryServerName: name, PrimaryRegion: home,
		ObjectStore: coopv1.StandbyObjectStore{DestinationPath: "s3://north/" + home + "/" + name + "/", SecretName: name + "-objectstore"}, ConsentedRegions: []string{"local"}}
	return standby
}

var _ = Describe("Governed fields", Ordered, func() {
	const name = "gov-a"
	var alice client.Client

	BeforeAll(func() { alice = adminOf(name, coopv1.GovernedFields) })

	It("refuses a co-op admin's direct edit of each governed field, naming it", func() {
		for _, tc := range []struct {
			path   string
			mutate func(*coopv1.Cooperative)
		}{
			{"spec.feeSplit", func(c *coopv1.Cooperative) { c.Spec.FeeSplit.PlatformFeeBasisPoints = 900 }},
			{"spec.plan", func(c *coopv1.Cooperative) { c.Spec.Plan = "medium" }},
			{"spec.federation.peers", func(c *coopv1.Cooperative) {
				c.Spec.Federation.Peers = []coopv1.FederationPeerRef{{Name: "elsewhere", Mode: coopv1.FederationModeStandby}}
			}},
			{"spec.governance", func(c *coopv1.Cooperative) { c.Spec.Governance.QuorumPercent = 10 }},
			{"spec.database", func(c *coopv1.Cooperative) { c.Spec.Database.Instances = 2 }},
			{"spec.backup", func(c *coopv1.Cooperative) { c.Spec.Backup.Retention = "2d" }},
			{"spec.platform", func(c *coopv1.Cooperative) { c.Spec.Platform.Host = "gov-a-moved.example.coop" }},
			{"spec.deletionPolicy", func(c *coopv1.Cooperative) { c.Spec.DeletionPolicy = coopv1.DeletionPolicyDelete }},
		} {
			before := getCoop(name)
			refusedWith(updateAs(alice, name, tc.mutate), tc.path+": Forbidden: "+governedMessage)
			Expect(getCoop(name).Spec).To(Equal(before.Spec), "nothing of %s was written", tc.path)
		}
	})

	It("refuses a co-op admin's change of vertical, which would swap the governed platform's template", func() {
		Eventually(func() string { return getCoop(name).Status.Platform.Template }, timeout).Should(Equal("ride-sharing"))
		refusedWith(updateAs(alice, name, func(c *coopv1.Cooperative) { c.Spec.Vertical = coopv1.VerticalDelivery }),
			"spec.vertical: Invalid value", "vertical is immutable")
		Expect(getCoop(name).Spec.Vertical).To(Equal(coopv1.VerticalRideSharing))
	})

	It("accepts a co-op admin's edit of what is not governed", func() {
		Expect(updateAs(alice, name, func(c *coopv1.Cooperative) {
			c.Spec.DisplayName = "Governed, renamed"
			c.Spec.Admins = append(c.Spec.Admins, coopv1.Subject{Kind: "User", Name: "gov-a-treasurer"})
		})).To(Succeed())
		Expect(getCoop(name).Spec.DisplayName).To(Equal("Governed, renamed"))
	})

	It("refuses un-governing a field, so that it cannot be edited next", func() {
		refusedWith(updateAs(alice, name, func(c *coopv1.Cooperative) {
			c.Spec.Governance.GovernedFields = []coopv1.GovernedField{coopv1.GovernedPlan}
		}), "spec.governance: Forbidden: "+governedMessage)
		refusedWith(updateAs(alice, name, func(c *coopv1.Cooperative) { c.Spec.Governance.GovernedFields = nil }),
			"spec.governance: Forbidden: "+governedMessage)
		Expect(getCoop(name).Spec.Governance.GovernedFields).To(Equal(coopv1.GovernedFields))
	})

	It("keeps the deletion policy governed while the co-op is deleted", func() {
		// The finalizer's final backup follows the deletion policy: switching to Delete
		// while it waits would skip it. A finalizer of the test holds the co-op.
		const hold = "test.cooperator.dev/hold"
		c := specs.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
		c.Name = "gov-leaving"
		c.Finalizers = []string{hold}
		c.Spec.Governance.GovernedFields = []coopv1.GovernedField{coopv1.GovernedDeletionPolicy}
		Expect(k8s.Create(ctx, c)).To(Succeed())
		Expect(k8s.Delete(ctx, c)).To(Succeed())
		Expect(getCoop(c.Name).DeletionTimestamp).NotTo(BeNil())
		root := userClient("gov-root-3", "system:masters")
		refusedWith(updateAs(root, c.Name, func(c *coopv1.Cooperative) { c.Spec.DeletionPolicy = coopv1.DeletionPolicyDelete }),
			"spec.deletionPolicy: Forbidden: "+governedMessage)
		Expect(getCoop(c.Name).Spec.DeletionPolicy).To(Equal(coopv1.DeletionPolicyRetain))
		Expect(updateCoop(c.Name, func(c *coopv1.Cooperative) { controllerutil.RemoveFinalizer(c, hold) })).To(Succeed())
	})

	It("lets the operator's identity change governed fields, and no other cluster admin", func() {
		// k8s is the identity the operator runs as in this suite (envtest's admin): the one
		// that applies passed proposals.
		Expect(updateCoop(name, func(c *coopv1.Cooperative) { c.Spec.FeeSplit.PlatformFeeBasisPoints = 350 })).To(Succeed())
		Expect(getCoop(name).Spec.FeeSplit.PlatformFeeBasisPoints).To(Equal(int32(350)))
		root := userClient("gov-root", "system:masters")
		refusedWith(updateAs(root, name, func(c *coopv1.Cooperative) { c.Spec.FeeSplit.PlatformFeeBasisPoints = 400 }),
			"spec.feeSplit: Forbidden: "+governedMessage)
	})

	Describe("the break-glass path", Ordered, func() {
		var bob client.Client
		seen := &warnings{}
		breakGlass := func(by, fields, reason string, mutate func(*coopv1.Cooperative)) func(*coopv1.Cooperative) {
			return func(c *coopv1.Cooperative) {
				if c.Annotations == nil {
					c.Annotations = map[string]string{}
				}
				c.Annotations[coopv1.AnnotationBreakGlassBy] = by
				c.Annotations[coopv1.AnnotationBreakGlassFields] = fields
				c.Annotations[coopv1.AnnotationBreakGlassReason] = reason
				mutate(c)
			}
		}
		fee := func(bp int32) func(*coopv1.Cooperative) {
			return func(c *coopv1.Cooperative) { c.Spec.FeeSplit.PlatformFeeBasisPoints = bp }
		}

		BeforeAll(func() {
			// A hub admin on call: in the cluster's admins and in the break-glass group.
			bob = warningClient("hub-bob", seen, "system:masters", hub.BreakGlassGroup)
		})

		It("needs the annotations, stating a reason, the user's own name and the changed fields", func() {
			refusedWith(updateAs(bob, name, fee(200)),
				"metadata.annotations[coop.cooperator.dev/break-glass-reason]: Required value: feeSplit governed by the co-op's members")
			refusedWith(updateAs(bob, name, breakGlass("hub-bob", "feeSplit", " ", fee(200))),
				"break-glass-reason]: Required value")
			refusedWith(updateAs(bob, name, breakGlass("hub-alice", "feeSplit", "payment provider outage", fee(200))),
				`metadata.annotations[coop.cooperator.dev/break-glass-by]: Invalid value: "hub-alice": must be your own user name, "hub-bob"`)
			refusedWith(updateAs(bob, name, breakGlass("hub-bob", "plan", "payment provider outage", fee(200))),
				`metadata.annotations[coop.cooperator.dev/break-glass-fields]: Invalid value: "plan": must list exactly the governed fields this update changes: "feeSplit"`)
			refusedWith(updateAs(bob, name, breakGlass("hub-bob", "", "nothing governed changes", func(c *coopv1.Cooperative) {})),
				"the break-glass annotations come only with the change of governed fields they record")
			Expect(getCoop(name).Spec.FeeSplit.PlatformFeeBasisPoints).To(Equal(int32(350)))
			Expect(getCoop(name).Status.BreakGlass).To(BeEmpty())
		})

		It("lets a member of the group change governed fields, and records it in status, as an event and for the members", func() {
			const reason = "payment provider outage: fees suspended until the members vote"
			Expect(updateAs(bob, name, breakGlass("hub-bob", "feeSplit,governance", reason, func(c *coopv1.Cooperative) {
				c.Spec.FeeSplit.PlatformFeeBasisPoints = 0
				c.Spec.FeeSplit.Funds = nil
				c.Spec.Governance.QuorumPercent = 40
			}))).To(Succeed())
			Expect(seen.seen).To(ContainElement(ContainSubstring("break-glass: the change of feeSplit,governance is recorded in status.breakGlass")))

			Eventually(func(g Gomega) {
				c := getCoop(name)
				g.Expect(c.Status.BreakGlass).To(HaveLen(1))
				use := c.Status.BreakGlass[0]
				g.Expect(use.User).To(Equal("hub-bob"))
				g.Expect(use.Fields).To(Equal([]coopv1.GovernedField{coopv1.GovernedFeeSplit, coopv1.GovernedGovernance}))
				g.Expect(use.Reason).To(Equal(reason))
				g.Expect(use.Time.IsZero()).To(BeFalse())
				g.Expect(use.Generation).To(Equal(c.Generation))
				// What changed, before and after, as the operator's webhook took it from the
				// update (the spec's defaults resolved).
				g.Expect(use.Changes).To(HaveLen(2))
				g.Expect(use.Changes[0].Field).To(Equal(coopv1.GovernedFeeSplit))
				g.Expect(use.Changes[0].Old).To(ContainSubstring(`"platformFeeBasisPoints":350`))
				g.Expect(use.Changes[0].Old).To(ContainSubstring(`"funds":[`))
				g.Expect(use.Changes[0].New).To(ContainSubstring(`"platformFeeBasisPoints":0`))
				g.Expect(use.Changes[0].New).NotTo(ContainSubstring(`"funds"`))
				g.Expect(use.Changes[1].Field).To(Equal(coopv1.GovernedGovernance))
				g.Expect(use.Changes[1].Old).To(ContainSubstring(`"quorumPercent":50`))
				g.Expect(use.Changes[1].New).To(ContainSubstring(`"quorumPercent":40`))
				for _, key := range coopv1.BreakGlassAnnotations {
					g.Expect(c.Annotations).NotTo(HaveKey(key), "removed once recorded")
				}
			}, timeout).Should(Succeed())
			Eventually(eventsOf(name), timeout).Should(ContainElement("Warning/" + coopv1.ReasonBreakGlass))

			Eventually(func(g Gomega) {
				cm := &corev1.ConfigMap{}
				g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: "coop-" + name, Name: cooperative.PolicyConfigMapName}, cm)).To(Succeed())
				doc, err := policy.Parse([]byte(cm.Data[cooperative.PolicyKey]))
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(doc.FeeSplit.PlatformFeeBasisPoints).To(Equal(int64(0)))
				g.Expect(doc.BreakGlass).To(HaveLen(1))
				g.Expect(doc.BreakGlass[0].User).To(Equal("hub-bob"))
				g.Expect(doc.BreakGlass[0].Reason).To(Equal(reason))
				g.Expect(doc.BreakGlass[0].Changes).To(HaveLen(2))
				var after bytes.Buffer // as the document holds it, indented
				g.Expect(json.Compact(&after, doc.BreakGlass[0].Changes[0].New)).To(Succeed())
				g.Expect(after.String()).To(ContainSubstring(`"platformFeeBasisPoints":0`))
			}, timeout).Should(Succeed())
		})

		It("cannot be forged by a co-op admin, nor hidden", func() {
			// Claiming a break-glass use in the hub's name, with the change or without.
			refusedWith(updateAs(alice, name, breakGlass("hub-bob", "feeSplit", "we need the money", fee(1000))),
				"spec.feeSplit: Forbidden: "+governedMessage,
				"metadata.annotations[coop.cooperator.dev/break-glass-reason]: Forbidden: the break-glass annotations are set only by the hub's break-glass group")
			refusedWith(updateAs(alice, name, breakGlass("hub-bob", "feeSplit", "a record to blame the hub", func(*coopv1.Cooperative) {})),
				"break-glass-reason]: Forbidden: the break-glass annotations are set only by the hub's break-glass group")
			// A cluster admin outside the group cannot either.
			root := userClient("gov-root-2", "system:masters")
			refusedWith(updateAs(root, name, breakGlass("gov-root-2", "feeSplit", "I am root", fee(1000))),
				"spec.feeSplit: Forbidden: "+governedMessage)
			// Nor can anyone create a co-op carrying a record.
			c := specs.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
			c.Name = "gov-forged"
			c.Annotations = map[string]string{coopv1.AnnotationBreakGlassBy: "hub-bob", coopv1.AnnotationBreakGlassReason: "x", coopv1.AnnotationBreakGlassFields: "feeSplit"}
			refusedWith(bob.Create(ctx, c, client.DryRunAll), "a new Cooperative has none to override")

			// Every attempt was refused before anything was stored: no annotation, no record.
			after := getCoop(name)
			Expect(after.Status.BreakGlass).To(HaveLen(1))
			Expect(after.Annotations).NotTo(HaveKey(coopv1.AnnotationBreakGlassBy))
			Expect(after.Spec.FeeSplit.PlatformFeeBasisPoints).To(Equal(int32(0)))
		})

		It("takes the values before and after from the update itself, whatever the sender wrote", func() {
			// Values written by hand that would hide the change (the fee as it stays): the
			// operator's webhook writes the update's own over them, and the record says them.
			hidden := `{"feeSplit":{"old":{"platformFeeBasisPoints":0},"new":{"platformFeeBasisPoints":0}}}`
			Expect(updateAs(bob, name, breakGlass("hub-bob", "feeSplit", "restore a small fee", func(c *coopv1.Cooperative) {
				c.Annotations[coopv1.AnnotationBreakGlassValues] = hidden
				c.Spec.FeeSplit.PlatformFeeBasisPoints = 123
			}))).To(Succeed())
			Eventually(func(g Gomega) {
				c := getCoop(name)
				g.Expect(c.Status.BreakGlass).To(HaveLen(2))
				use := c.Status.BreakGlass[1]
				g.Expect(use.Changes).To(HaveLen(1))
				g.Expect(use.Changes[0].Old).To(ContainSubstring(`"platformFeeBasisPoints":0`))
				g.Expect(use.Changes[0].New).To(ContainSubstring(`"platformFeeBasisPoints":123`))
			}, timeout).Should(Succeed())
			// A co-op admin may not write it at all.
			refusedWith(updateAs(alice, name, func(c *coopv1.Cooperative) {
				if c.Annotations == nil {
					c.Annotations = map[string]string{}
				}
				c.Annotations[coopv1.AnnotationBreakGlassValues] = hidden
			}), "break-glass-reason]: Forbidden: the break-glass annotations are set only by the hub's break-glass group")
		})

		It("is not recorded on a standby, whose governed fields follow its home: the annotations are refused, and ignored", func() {
			sb := standbyOf("gov-standby", "eu-north")
			sb.Spec.Platform.Host = "gov-standby.example.coop"
			Expect(k8s.Create(ctx, sb)).To(Succeed())
			DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, sb))).To(Succeed()) })
			// Its home hub's identity, which may update it.
			mayUpdate := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "gov-standby-peer"}, Rules: []rbacv1.PolicyRule{{
				APIGroups: []string{coopv1.GroupVersion.Group}, Resources: []string{"cooperatives"}, Verbs: []string{"get", "update", "patch"}, ResourceNames: []string{sb.Name}}}}
			binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "gov-standby-peer"},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: mayUpdate.Name},
				Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: coopv1.PeerUserPrefix + "eu-north"}}}
			Expect(k8s.Create(ctx, mayUpdate)).To(Succeed())
			Expect(k8s.Create(ctx, binding)).To(Succeed())
			DeferCleanup(func() {
				Expect(k8s.Delete(ctx, binding)).To(Succeed())
				Expect(k8s.Delete(ctx, mayUpdate)).To(Succeed())
			})
			peer := userClient(coopv1.PeerUserPrefix + "eu-north")
			Eventually(func() error { return peer.Get(ctx, client.ObjectKey{Name: sb.Name}, &coopv1.Cooperative{}) }, timeout).Should(Succeed())

			const onStandby = "break-glass-reason]: Forbidden: a standby's governed fields follow its home co-op: break-glass is used there"
			forged := breakGlass("hub-bob", "feeSplit", "forged in the hub's name", func(*coopv1.Cooperative) {})
			refusedWith(updateAs(peer, sb.Name, forged), onStandby)
			refusedWith(updateAs(peer, sb.Name, breakGlass("hub-bob", "feeSplit", "with the change", fee(9000))), onStandby)
			// Nor does a member of this hub's break-glass group record one here.
			refusedWith(updateAs(bob, sb.Name, breakGlass("hub-bob", "feeSplit", "outage", fee(400))), onStandby)
			// Annotations the operator's identity wrote (admission lets it) record nothing.
			Expect(updateAs(k8s, sb.Name, forged)).To(Succeed())
			Eventually(func() map[string]string { return getCoop(sb.Name).Annotations }, timeout).ShouldNot(HaveKey(coopv1.AnnotationBreakGlassBy))
			Expect(getCoop(sb.Name).Status.BreakGlass).To(BeEmpty())
		})
	})
})

var _ = Describe("What a co-op admin may choose directly", Ordered, func() {
	const name = "bounds-a"
	var alice client.Client

	BeforeAll(func() { alice = adminOf(name, nil) })

	own := coopv1.Subject{Kind: "Group", Name: name + "-admins"}
	setAdmins := func(extra coopv1.Subject) func(*coopv1.Cooperative) {
		return func(c *coopv1.Cooperative) { c.Spec.Admins = []coopv1.Subject{own, extra} }
	}

	It("names no cluster-wide group or user, no ServiceAccount of another namespace, nothing the hub reserves", func() {
		const system = "names starting with system: are Kubernetes' own users and groups"
		for _, tc := range []struct {
			admin coopv1.Subject
			want  []string
		}{
			{coopv1.Subject{Kind: "Group", Name: "system:authenticated"}, []string{"spec.admins[1].name", system}},
			{coopv1.Subject{Kind: "Group", Name: "system:unauthenticated"}, []string{"spec.admins[1].name", system}},
			{coopv1.Subject{Kind: "Group", Name: "system:serviceaccounts"}, []string{"spec.admins[1].name", system}},
			{coopv1.Subject{Kind: "Group", Name: "system:serviceaccounts:kube-system"}, []string{"spec.admins[1].name", system}},
			{coopv1.Subject{Kind: "Group", Name: "system:masters"}, []string{"spec.admins[1].name", system}},
			{coopv1.Subject{Kind: "Group", Name: "system:nodes"}, []string{"spec.admins[1].name", system}},
			{coopv1.Subject{Kind: "User", Name: "system:serviceaccount:kube-system:default"}, []string{"spec.admins[1].name", system}},
			{coopv1.Subject{Kind: "User", Name: "system:anonymous"}, []string{"spec.admins[1].name", system}},
			{coopv1.Subject{Kind: "ServiceAccount", Name: "default", Namespace: "kube-system"}, []string{"spec.admins", "a ServiceAccount admin must be of the co-op's own namespace coop-<name>"}},
			{coopv1.Subject{Kind: "ServiceAccount", Name: "ci", Namespace: "coop-rbac-b"}, []string{"spec.admins", "must be of the co-op's own namespace"}},
			{coopv1.Subject{Kind: "Group", Name: "hub-admins"}, []string{"spec.admins[1].name: Forbidden: group hub-admins is reserved by the hub (hub setting reservedGroups)"}},
			{coopv1.Subject{Kind: "User", Name: "hub-admin"}, []string{"spec.admins[1].name: Forbidden: user hub-admin is reserved by the hub (hub setting reservedUsers)"}},
			{coopv1.Subject{Kind: "User", Name: "oidc:hub-carol"}, []string{"spec.admins[1].name: Forbidden: user oidc:hub-carol is reserved by the hub"}},
			{coopv1.Subject{Kind: "User", Name: "cooperator-peer-eu-north"}, []string{"spec.admins[1].name: Forbidden: user cooperator-peer-eu-north is a peer hub's identity"}},
		} {
			refusedWith(updateAs(alice, name, setAdmins(tc.admin)), tc.want...)
		}
		Expect(getCoop(name).Spec.Admins).To(Equal([]coopv1.Subject{own}))

		for _, ok := range []coopv1.Subject{
			{Kind: "ServiceAccount", Name: "ci", Namespace: "coop-" + name},
			{Kind: "Group", Name: name + "-treasurers"},
			{Kind: "User", Name: "oidc:coop-dana"},
		} {
			Expect(updateAs(alice, name, setAdmins(ok))).To(Succeed(), "%+v", ok)
			Expect(getCoop(name).Spec.Admins).To(Equal([]coopv1.Subject{own, ok}))
		}
	})

	It("does not move the co-op to another hub: only who may delete it may set, change or remove move-to", func() {
		setMoveTo := func(v string) func(*coopv1.Cooperative) {
			return func(c *coopv1.Cooperative) {
				if c.Annotations == nil {
					c.Annotations = map[string]string{}
				}
				if v == "" {
					delete(c.Annotations, coopv1.AnnotationMoveTo)
					return
				}
				c.Annotations[coopv1.AnnotationMoveTo] = v
			}
		}
		// A dry run judged by admission, read again while the operator still writes the co-op.
		dry := func(mutate func(*coopv1.Cooperative)) error {
			return retry.RetryOnConflict(retry.DefaultRetry, func() error { return dryUpdateAs(alice, name, mutate) })
		}
		refusedWith(dry(setMoveTo("eu-south")), "metadata.annotations[coop.cooperator.dev/move-to]", "only someone who may delete this Cooperative")
		// The hub may; then the co-op's admins may neither change nor remove it.
		Expect(updateAs(k8s, name, setMoveTo("eu-south"))).To(Succeed())
		DeferCleanup(func() { Expect(updateAs(k8s, name, setMoveTo(""))).To(Succeed()) })
		refusedWith(dry(setMoveTo("eu-north")), "only someone who may delete this Cooperative")
		refusedWith(dry(setMoveTo("")), "only someone who may delete this Cooperative")
		Expect(dry(func(c *coopv1.Cooperative) { c.Spec.DisplayName = "unrelated" })).To(Succeed(), "an update that leaves it alone")
	})

	It("does not fail the co-op over to the home: only who may delete it may set the failover annotation", func() {
		setFailover := func(v string) func(*coopv1.Cooperative) {
			return func(c *coopv1.Cooperative) {
				if c.Annotations == nil {
					c.Annotations = map[string]string{}
				}
				if v == "" {
					delete(c.Annotations, coopv1.AnnotationFailover)
					return
				}
				c.Annotations[coopv1.AnnotationFailover] = v
			}
		}
		dry := func(c client.Client, mutate func(*coopv1.Cooperative)) error {
			return retry.RetryOnConflict(retry.DefaultRetry, func() error { return dryUpdateAs(c, name, mutate) })
		}
		refusedWith(dry(alice, setFailover(coopv1.AcceptDataLoss)), "metadata.annotations[coop.cooperator.dev/failover]", "only someone who may delete this Cooperative")
		Expect(dry(k8s, setFailover(coopv1.AcceptDataLoss))).To(Succeed(), "the hub may")
		// Set by the hub, the co-op's admins may not change it. (This co-op holds its primary:
		// the operator removes the annotation at once, the failover done. Its removal by
		// others is shown on a standby, where it stays.)
		Expect(updateAs(k8s, name, setFailover(coopv1.AcceptDataLoss))).To(Succeed())
		DeferCleanup(func() { Expect(updateAs(k8s, name, setFailover(""))).To(Succeed()) })
		refusedWith(dry(alice, setFailover("yes")), "metadata.annotations[coop.cooperator.dev/failover]", "Unsupported value", coopv1.AcceptDataLoss)
		// Another value means nothing to the operator, which would never remove it: refused
		// to the hub too.
		refusedWith(dry(k8s, setFailover("yes")), "metadata.annotations[coop.cooperator.dev/failover]", "Unsupported value", coopv1.AcceptDataLoss)
		Expect(dry(alice, func(c *coopv1.Cooperative) { c.Spec.DisplayName = "unrelated" })).To(Succeed(), "an update that leaves it alone")
	})

	It("does not let a peer hub cancel this hub's failover of a standby: only the hub's admins and the operator remove the annotation", func() {
		sb := standbyOf("failover-standby", "eu-north")
		sb.Spec.Platform.Host = "failover-standby.example.coop"
		sb.Annotations = map[string]string{coopv1.AnnotationFailover: coopv1.AcceptDataLoss}
		hubAdmin := userClient("failover-standby-hub-admin", "system:masters")
		Expect(hubAdmin.Create(ctx, sb)).To(Succeed(), "this hub's admin fails it over")
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, sb))).To(Succeed()) })
		// Its home hub's identity, which may update (and delete) its standbys here.
		mayUpdate := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "failover-standby-peer"}, Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{coopv1.GroupVersion.Group}, Resources: []string{"cooperatives"}, Verbs: []string{"get", "update", "patch", "delete"}, ResourceNames: []string{sb.Name}}}}
		binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "failover-standby-peer"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: mayUpdate.Name},
			Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: coopv1.PeerUserPrefix + "eu-north"}}}
		// And someone who may update it, not delete it.
		onlyUpdate := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "failover-standby-updater"}, Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{coopv1.GroupVersion.Group}, Resources: []string{"cooperatives"}, Verbs: []string{"get", "update", "patch"}, ResourceNames: []string{sb.Name}}}}
		updaterBinding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "failover-standby-updater"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: onlyUpdate.Name},
			Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "failover-standby-updater"}}}
		for _, obj := range []client.Object{mayUpdate, binding, onlyUpdate, updaterBinding} {
			Expect(k8s.Create(ctx, obj)).To(Succeed())
			DeferCleanup(func() { Expect(k8s.Delete(ctx, obj)).To(Succeed()) })
		}
		peer := userClient(coopv1.PeerUserPrefix + "eu-north")
		Eventually(func() error { return peer.Get(ctx, client.ObjectKey{Name: sb.Name}, &coopv1.Cooperative{}) }, timeout).Should(Succeed())

		noFailover := func(c *coopv1.Cooperative) { delete(c.Annotations, coopv1.AnnotationFailover) }
		refusedWith(updateAs(peer, sb.Name, noFailover), "metadata.annotations[coop.cooperator.dev/failover]", "removing it cancels the failover", "never a peer hub")
		Expect(getCoop(sb.Name).Annotations).To(HaveKeyWithValue(coopv1.AnnotationFailover, coopv1.AcceptDataLoss))
		// Nor may anyone else who may update it and not delete it.
		updater := userClient("failover-standby-updater")
		Eventually(func() error { return updater.Get(ctx, client.ObjectKey{Name: sb.Name}, &coopv1.Cooperative{}) }, timeout).Should(Succeed())
		refusedWith(updateAs(updater, sb.Name, noFailover), "metadata.annotations[coop.cooperator.dev/failover]", "removing it cancels the failover", "only this hub's admins")
		Expect(getCoop(sb.Name).Annotations).To(HaveKeyWithValue(coopv1.AnnotationFailover, coopv1.AcceptDataLoss))
		// The peer may still update the standby otherwise.
		Expect(dryRetried(peer, sb.Name, func(c *coopv1.Cooperative) { c.Spec.DisplayName = "from its home" })).To(Succeed())
		// This hub's admins may take it back.
		Expect(dryRetried(hubAdmin, sb.Name, noFailover)).To(Succeed())
	})

	It("does not delete the co-op by its metadata, nor hold its deletion: its finalizers and owners are the hub's to change", func() {
		dry := func(c client.Client, mutate func(*coopv1.Cooperative)) error {
			return retry.RetryOnConflict(retry.DefaultRetry, func() error { return dryUpdateAs(c, name, mutate) })
		}
		Eventually(func() []string { return getCoop(name).Finalizers }, timeout).Should(ContainElement(coopv1.Finalizer))
		dropFinalizers := func(c *coopv1.Cooperative) { c.Finalizers = nil }
		owned := func(c *coopv1.Cooperative) {
			c.OwnerReferences = []metav1.OwnerReference{{APIVersion: coopv1.GroupVersion.String(), Kind: "HostingPlan", Name: "small", UID: "00000000-0000-0000-0000-000000000000"}}
		}
		refusedWith(dry(alice, dropFinalizers), "metadata.finalizers", "coop.cooperator.dev/finalizer is the operator's", "only someone who may delete this Cooperative")
		refusedWith(dry(alice, owned), "metadata.ownerReferences", "only someone who may delete this Cooperative")
		// Nor may they hold a deletion the hub starts with a finalizer of their own.
		holdDeletion := func(c *coopv1.Cooperative) { c.Finalizers = append(c.Finalizers, "example.org/keep-for-ever") }
		refusedWith(dry(alice, holdDeletion), "metadata.finalizers", "example.org/keep-for-ever would hold a deletion the hub starts", "only someone who may delete this Cooperative")
		Expect(dry(k8s, holdDeletion)).To(Succeed(), "the hub may")
		Expect(dry(k8s, dropFinalizers)).To(Succeed(), "the hub may, for a finalizer stuck for good")
		Expect(dry(alice, func(c *coopv1.Cooperative) { c.Spec.DisplayName = "unrelated" })).To(Succeed(), "an update that leaves them alone")
	})

	It("does not suspend or resume the co-op: only who may delete it may", func() {
		setSuspend := func(v bool) func(*coopv1.Cooperative) {
			return func(c *coopv1.Cooperative) { c.Spec.Suspend = v }
		}
		dry := func(c client.Client, mutate func(*coopv1.Cooperative)) error {
			return retry.RetryOnConflict(retry.DefaultRetry, func() error { return dryUpdateAs(c, name, mutate) })
		}
		const refusal = "only someone who may delete this Cooperative (the hub's admins) may suspend or resume it"
		refusedWith(dry(alice, setSuspend(true)), "spec.suspend", refusal)
		Expect(dry(k8s, setSuspend(true))).To(Succeed(), "the hub suspends")
		// Suspended by the hub, the co-op's admins cannot resume it.
		Expect(updateAs(k8s, name, setSuspend(true))).To(Succeed())
		DeferCleanup(func() { Expect(updateAs(k8s, name, setSuspend(false))).To(Succeed()) })
		refusedWith(dry(alice, setSuspend(false)), "spec.suspend", refusal)
		Expect(dry(alice, func(c *coopv1.Cooperative) { c.Spec.DisplayName = "unrelated" })).To(Succeed(), "an update that leaves it alone")
	})

	It("does not switch over while passed proposals wait for the primary to come home: only who may delete it may", func() {
		switchOver := func(peer string) func(*coopv1.Cooperative) {
			return func(c *coopv1.Cooperative) {
				c.Spec.Federation.Peers = []coopv1.FederationPeerRef{{Name: "held-south", Mode: coopv1.FederationModeStandby}, {Name: "held-north", Mode: coopv1.FederationModeStandby}}
				c.Spec.Federation.Primary = peer
			}
		}
		dry := func(c client.Client, mutate func(*coopv1.Cooperative)) error {
			return retry.RetryOnConflict(retry.DefaultRetry, func() error { return dryUpdateAs(c, name, mutate) })
		}
		for _, region := range []string{"held-south", "held-north"} {
			peer := &coopv1.FederationPeer{ObjectMeta: metav1.ObjectMeta{Name: region}, Spec: coopv1.FederationPeerSpec{
				Region: region, KubeconfigSecretRef: coopv1.SecretKeyRef{Name: "peer-" + region, Key: "kubeconfig"}}}
			Expect(k8s.Create(ctx, peer)).To(Succeed())
			DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, peer))).To(Succeed()) })
		}
		Eventually(func() error { return dry(alice, switchOver("held-south")) }, timeout).Should(Succeed(), "a switchover while nothing waits")
		// [simulated] The governance controller's record: passed proposals wait for the
		// primary (brought home from a peer) to be applied.
		setWaiting := func(since string) {
			patch := fmt.Sprintf(`{"status":{"governance":{"waitingAtPeerSince":%s}}}`, since)
			Expect(k8s.Status().Patch(ctx, &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: name}}, client.RawPatch(types.MergePatchType, []byte(patch)))).To(Succeed())
		}
		setWaiting(`"2026-12-01T09:00:00Z"`)
		DeferCleanup(func() { setWaiting("null") })
		refusedWith(dry(alice, switchOver("held-south")), "spec.federation.primary", "passed proposals have waited since 2026-12-01T09:00:00Z",
			"switch over once the operator has applied them, or ask the hub's admins")
		Expect(dry(k8s, switchOver("held-south"))).To(Succeed(), "the hub may")
		Expect(dry(alice, func(c *coopv1.Cooperative) { c.Spec.DisplayName = "unrelated" })).To(Succeed(), "an update that leaves the primary alone")
		// At a peer already, neither to another peer; home is always allowed.
		Expect(updateAs(k8s, name, switchOver("held-south"))).To(Succeed())
		DeferCleanup(func() { Expect(updateAs(k8s, name, switchOver(""))).To(Succeed()) })
		refusedWith(dry(alice, switchOver("held-north")), "spec.federation.primary", "passed proposals have waited since")
		Expect(dry(alice, switchOver(""))).To(Succeed(), "a switchback")
	})

	It("backs up at most hourly: a closer schedule (backups the whole hub pays for) is the hub's to set", func() {
		setSchedule := func(s string) func(*coopv1.Cooperative) {
			return func(c *coopv1.Cooperative) { c.Spec.Backup.Schedule = s }
		}
		dry := func(c client.Client, mutate func(*coopv1.Cooperative)) error {
			return retry.RetryOnConflict(retry.DefaultRetry, func() error { return dryUpdateAs(c, name, mutate) })
		}
		refusedWith(dry(alice, setSchedule("0 */10 * * * *")), "spec.backup.schedule", "backs up as often as every 10m0s: a co-op's backups are at most hourly")
		refusedWith(dry(alice, setSchedule("0 0,1 3 * * *")), "spec.backup.schedule", "as often as every 1m0s")
		Expect(dry(alice, setSchedule("0 30 * * * *"))).To(Succeed(), "hourly")
		Expect(dry(alice, setSchedule("0 0 4 * * *"))).To(Succeed(), "daily")
		Expect(dry(k8s, setSchedule("0 */10 * * * *"))).To(Succeed(), "the hub sets what it pays for")
	})

	It("keeps backups at most three months: a longer retention (storage the whole hub pays for) is the hub's to set", func() {
		setRetention := func(r string) func(*coopv1.Cooperative) {
			return func(c *coopv1.Cooperative) { c.Spec.Backup.Retention = r }
		}
		dry := func(c client.Client, mutate func(*coopv1.Cooperative)) error {
			return retry.RetryOnConflict(retry.DefaultRetry, func() error { return dryUpdateAs(c, name, mutate) })
		}
		refusedWith(dry(alice, setRetention("9999m")), "spec.backup.retention", "keeps backups 299970 days: a co-op keeps them at most 90 days")
		refusedWith(dry(alice, setRetention("13w")), "spec.backup.retention", "keeps backups 91 days")
		refusedWith(dry(alice, setRetention("99999999999999999999d")), "spec.backup.retention", "keeps backups longer than can be counted")
		Expect(dry(alice, setRetention("3m"))).To(Succeed(), "three months")
		Expect(dry(alice, setRetention("12w"))).To(Succeed())
		Expect(dry(k8s, setRetention("24m"))).To(Succeed(), "the hub sets what it pays for")
	})

	It("holds a standby, which a peer hub writes, to no admins and to the hosts of its co-ops", func() {
		standby := standbyOf("bounds-standby", "eu-north")
		// Its host is its home hub's: outside this hub's domains is fine.
		standby.Spec.Platform.Host = "fair.north.example.org"
		Expect(k8s.Create(ctx, standby.DeepCopy(), client.DryRunAll)).To(Succeed())

		takesHost := standby.DeepCopy()
		takesHost.Spec.Platform.Host = name + ".example.coop"
		refusedWith(k8s.Create(ctx, takesHost, client.DryRunAll),
			`spec.platform.host: Invalid value: "bounds-a.example.coop": is already the host of another co-op of this hub`)
		// No admins at all: its home's are identities of its home hub, and an admin here
		// (the peer itself, say) would read the database's credentials.
		for _, admin := range []coopv1.Subject{
			{Kind: "Group", Name: "bounds-standby-admins"},
			{Kind: "Group", Name: "hub-admins"},
			{Kind: "User", Name: coopv1.PeerUserPrefix + "eu-north"},
		} {
			withAdmin := standby.DeepCopy()
			withAdmin.Spec.Admins = []coopv1.Subject{admin}
			refusedWith(k8s.Create(ctx, withAdmin, client.DryRunAll), "spec.admins: Invalid value", "a standby has no admins")
		}
	})

	It("holds a standby to the backup schedule and retention of this hub's co-ops, even from who may delete it", func() {
		standby := standbyOf("bounds-standby-backup", "eu-north")
		standby.Spec.Platform.Host = "bounds-standby-backup.example.coop"
		standby.Spec.Backup = coopv1.BackupSpec{Schedule: "* * * * * *", Retention: "9999m"}
		// k8s may delete Cooperatives, as a peer hub's identity may delete its standbys: no
		// mark of this hub's admins for a standby.
		refusedWith(k8s.Create(ctx, standby.DeepCopy(), client.DryRunAll),
			"spec.backup.schedule: Forbidden: backs up as often as every 1s: a co-op's backups are at most hourly",
			"spec.backup.retention: Forbidden: keeps backups 299970 days: a co-op keeps them at most 90 days",
			"a standby is held to the backup limits of this hub's co-ops whoever writes it")
		standby.Spec.Backup = coopv1.BackupSpec{Schedule: "0 0 * * * *", Retention: "90d"}
		Expect(k8s.Create(ctx, standby, client.DryRunAll)).To(Succeed(), "within the limits, as its home sends it")
	})

	It("lets only the operator adopt a standby its home released: whoever else may update it keeps it a standby", func() {
		released := standbyOf("bounds-released", "eu-north")
		released.Spec.Platform.Host = "bounds-released.example.coop"
		released.Spec.Standby.PrimaryRegion = "local"
		released.Spec.Standby.Release = &coopv1.StandbyRelease{DeletionPolicy: coopv1.DeletionPolicyRetain}
		Expect(k8s.Create(ctx, released)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, released))).To(Succeed()) })
		// Someone who may update this one Cooperative, as the home hub's identity may.
		mayUpdate := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "bounds-released-writer"}, Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{coopv1.GroupVersion.Group}, Resources: []string{"cooperatives"}, Verbs: []string{"get", "update", "patch"}, ResourceNames: []string{released.Name}}}}
		binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "bounds-released-writer"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: mayUpdate.Name},
			Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "bounds-released-writer"}}}
		Expect(k8s.Create(ctx, mayUpdate)).To(Succeed())
		Expect(k8s.Create(ctx, binding)).To(Succeed())
		DeferCleanup(func() {
			Expect(k8s.Delete(ctx, binding)).To(Succeed())
			Expect(k8s.Delete(ctx, mayUpdate)).To(Succeed())
		})
		writer := userClient("bounds-released-writer")
		Eventually(func() error { return writer.Get(ctx, client.ObjectKey{Name: released.Name}, &coopv1.Cooperative{}) }, timeout).Should(Succeed())

		// Adopting it itself, on a plan only the hub hands out, with a governed fee.
		adopt := func(c *coopv1.Cooperative) {
			c.Spec.Standby = nil
			c.Spec.Plan = "medium"
			c.Spec.FeeSplit.PlatformFeeBasisPoints = 9000
		}
		refusedWith(dryRetried(writer, released.Name, adopt),
			"spec.standby: Forbidden: removed only by this hub's operator",
			"spec.plan: Forbidden: HostingPlan medium is not self-service",
			"spec.feeSplit: Forbidden: "+governedMessage)
		// A cluster admin is not the operator either.
		root := userClient("bounds-released-root", "system:masters")
		refusedWith(dryRetried(root, released.Name, func(c *coopv1.Cooperative) { c.Spec.Standby = nil }),
			"spec.standby: Forbidden: removed only by this hub's operator")
		Expect(getCoop(released.Name).Spec.Standby).NotTo(BeNil())
		// The operator (the suite's own identity) adopts it, on the plan the hub accepts.
		Expect(dryRetried(k8s, released.Name, func(c *coopv1.Cooperative) {
			c.Spec.Standby = nil
			c.Spec.Plan = "medium"
		})).To(Succeed())
	})

	It("takes a host only under the hub's domains and held by no other co-op", func() {
		other := specs.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
		other.Name = "bounds-other"
		other.Spec.Platform.Host = "taken.example.coop"
		Expect(k8s.Create(ctx, other)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, other))).To(Succeed()) })

		// The webhook reads the co-ops from the operator's cache, which sees the new one a
		// moment after it is stored: dry runs until it does, then the real update.
		takeHost := func(c *coopv1.Cooperative) { c.Spec.Platform.Host = "taken.example.coop" }
		const taken = `spec.platform.host: Invalid value: "taken.example.coop": is already the host of another co-op of this hub`
		Eventually(func() error { return dryUpdateAs(alice, name, takeHost) }, timeout).Should(MatchError(ContainSubstring(taken)))
		refusedWith(updateAs(alice, name, takeHost), taken)
		refusedWith(updateAs(alice, name, func(c *coopv1.Cooperative) { c.Spec.Platform.Host = "bounds-a.example.org" }),
			`spec.platform.host: Invalid value: "bounds-a.example.org": must be one of the domains this hub allows, or a name below one: example.coop`)
		refusedWith(updateAs(alice, name, func(c *coopv1.Cooperative) { c.Spec.Platform.Host = "example.coop.evil.net" }), "domains this hub allows")
		// The hub is held to the same bounds.
		dup := specs.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
		dup.Name = "bounds-dup"
		dup.Spec.Platform.Host = "taken.example.coop"
		refusedWith(k8s.Create(ctx, dup, client.DryRunAll), "is already the host of another co-op")
		Expect(getCoop(name).Spec.Platform.Host).To(Equal(name + ".example.coop"))

		Expect(updateAs(alice, name, func(c *coopv1.Cooperative) { c.Spec.Platform.Host = "rides.bounds-a.example.coop" })).To(Succeed())
		// A host given up is free again.
		Eventually(func() error {
			return updateAs(k8s, "bounds-other", func(c *coopv1.Cooperative) { c.Spec.Platform.Host = name + ".example.coop" })
		}, timeout).Should(Succeed())

		// So is the host of a co-op being deleted (held here by a finalizer of the test's),
		// as the reconciler already treats it.
		const hold = "test.cooperator.dev/hold"
		leaving := specs.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
		leaving.Name = "bounds-leaving"
		leaving.Spec.Platform.Host = "leaving.example.coop"
		leaving.Finalizers = []string{hold}
		Expect(k8s.Create(ctx, leaving)).To(Succeed())
		DeferCleanup(func() {
			Expect(client.IgnoreNotFound(updateAs(k8s, leaving.Name, func(c *coopv1.Cooperative) {
				c.Finalizers = slices.DeleteFunc(c.Finalizers, func(f string) bool { return f == hold })
			}))).To(Succeed())
		})
		next := specs.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
		next.Name = "bounds-next"
		next.Spec.Platform.Host = "leaving.example.coop"
		Eventually(func() error { return k8s.Create(ctx, next.DeepCopy(), client.DryRunAll) }, timeout).Should(MatchError(ContainSubstring("is already the host of another co-op")))
		Expect(k8s.Delete(ctx, leaving)).To(Succeed())
		Eventually(func() error { return k8s.Create(ctx, next.DeepCopy(), client.DryRunAll) }, timeout).Should(Succeed())
	})

	It("takes no host that an Ingress of the hub's own serves", func() {
		// The hub's dashboard, served by an Ingress of its own: a co-op naming that host
		// would share it on the ingress controller (paths the hub's Ingress leaves free).
		hubIngress := &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Name: "bounds-grafana", Namespace: metav1.NamespaceDefault},
			Spec: networkingv1.IngressSpec{
				Rules: []networkingv1.IngressRule{{Host: "grafana.example.coop"}},
				TLS:   []networkingv1.IngressTLS{{Hosts: []string{"sign-in.example.coop"}, SecretName: "hub-tls"}},
			},
		}
		Expect(k8s.Create(ctx, hubIngress)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, hubIngress))).To(Succeed()) })

		const served = "is served by an Ingress of this cluster that is no co-op's"
		refusedWith(updateAs(alice, name, func(c *coopv1.Cooperative) { c.Spec.Platform.Host = "grafana.example.coop" }),
			`spec.platform.host: Invalid value: "grafana.example.coop": `+served)
		refusedWith(updateAs(alice, name, func(c *coopv1.Cooperative) { c.Spec.Platform.Host = "sign-in.example.coop" }), served)
		// Nor does the hub hand it to a co-op, or a peer hub to its standby.
		dup := specs.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
		dup.Name = "bounds-grafana"
		dup.Spec.Platform.Host = "grafana.example.coop"
		refusedWith(k8s.Create(ctx, dup, client.DryRunAll), served)
		Expect(getCoop(name).Spec.Platform.Host).NotTo(Equal("grafana.example.coop"))

		// A name the hub's Ingress does not serve is free.
		Expect(dryRetried(alice, name, func(c *coopv1.Cooperative) { c.Spec.Platform.Host = "rides.grafana.example.coop" })).To(Succeed())
	})

	It("picks a self-service plan, and a plan only the hub hands out through the hub", func() {
		hubOnly := &coopv1.HostingPlan{}
		Expect(k8s.Get(ctx, client.ObjectKey{Name: "medium"}, hubOnly)).To(Succeed())
		Expect(hubOnly.Spec.SelfService).To(BeFalse(), "the medium sample is the hub's to hand out")
		refusedWith(updateAs(alice, name, func(c *coopv1.Cooperative) { c.Spec.Plan = "medium" }),
			"spec.plan: Forbidden: HostingPlan medium is not self-service: only the hub puts a co-op on it")

		self := &coopv1.HostingPlan{
			ObjectMeta: metav1.ObjectMeta{Name: "bounds-self"},
			Spec: coopv1.HostingPlanSpec{SelfService: true, Quota: coopv1.PlanQuota{
				CPU: resource.MustParse("2"), Memory: resource.MustParse("4Gi"), Storage: resource.MustParse("20Gi"), Pods: 20,
			}},
		}
		Expect(k8s.Create(ctx, self)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, self))).To(Succeed()) })
		Eventually(func() error {
			return updateAs(alice, name, func(c *coopv1.Cooperative) { c.Spec.Plan = "bounds-self" })
		}, timeout).Should(Succeed())

		// The hub (who may update HostingPlans) moves it to medium.
		hubAdmin := userClient("bounds-hub-admin", "system:masters")
		Expect(updateAs(hubAdmin, name, func(c *coopv1.Cooperative) { c.Spec.Plan = "medium" })).To(Succeed())
		Expect(getCoop(name).Spec.Plan).To(Equal("medium"))

		// Someone allowed to create Cooperatives, but not to update plans, cannot create one
		// on medium.
		signup := &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "bounds-signup"},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{coopv1.GroupVersion.Group}, Resources: []string{"cooperatives"}, Verbs: []string{"create"}}},
		}
		Expect(k8s.Create(ctx, signup)).To(Succeed())
		binding := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "bounds-signup"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "bounds-signup"},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: "bounds-signup-bot"}},
		}
		Expect(k8s.Create(ctx, binding)).To(Succeed())
		DeferCleanup(func() {
			Expect(k8s.Delete(ctx, binding)).To(Succeed())
			Expect(k8s.Delete(ctx, signup)).To(Succeed())
		})
		bot := userClient("bounds-signup-bot")
		c := specs.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
		c.Name = "bounds-signup"
		c.Spec.Plan = "medium"
		c.Spec.Database.Tier = coopv1.DatabaseTierDedicated
		Eventually(func() error { return bot.Create(ctx, c, client.DryRunAll) }, timeout).
			Should(MatchError(ContainSubstring("spec.plan: Forbidden: HostingPlan medium is not self-service")))
		c.Spec.Plan = "small"
		Expect(bot.Create(ctx, c, client.DryRunAll)).To(Succeed())
	})

	It("consents only to peers this hub declares", func() {
		peer := &coopv1.FederationPeer{
			ObjectMeta: metav1.ObjectMeta{Name: "bounds-south"},
			Spec: coopv1.FederationPeerSpec{
				Region:              "bounds-south",
				KubeconfigSecretRef: coopv1.SecretKeyRef{Name: "peer-bounds-south", Key: "kubeconfig"},
			},
		}
		Expect(k8s.Create(ctx, peer)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, peer))).To(Succeed()) })

		refusedWith(updateAs(alice, name, func(c *coopv1.Cooperative) {
			c.Spec.Federation.Peers = []coopv1.FederationPeerRef{{Name: "nowhere", Mode: coopv1.FederationModeStandby}}
		}), `spec.federation.peers[0].name: Invalid value: "nowhere": this hub declares no such FederationPeer`)
		Eventually(func() error {
			return updateAs(alice, name, func(c *coopv1.Cooperative) {
				c.Spec.Federation.Peers = []coopv1.FederationPeerRef{{Name: "bounds-south", Mode: coopv1.FederationModeStandby}}
			})
		}, timeout).Should(Succeed())
		// Taking it off again is always allowed.
		Expect(updateAs(alice, name, func(c *coopv1.Cooperative) { c.Spec.Federation.Peers = nil })).To(Succeed())

		// On create, a peer not declared yet only warns, as a plan does: the manifests of a
		// hub may be applied together.
		wc, w := adminWarningClient()
		c := specs.Sample("coop_v1alpha1_cooperative_fairride.yaml")
		c.Name = "bounds-peer-later"
		c.Spec.Platform.Host = ""
		c.Spec.Federation.Peers = []coopv1.FederationPeerRef{{Name: "declared-later", Mode: coopv1.FederationModeStandby}}
		Expect(wc.Create(ctx, c, client.DryRunAll)).To(Succeed())
		Expect(w.seen).To(ContainElement(ContainSubstring(`spec.federation.peers[0].name: this hub declares no FederationPeer "declared-later" (yet)`)))
	})
})
