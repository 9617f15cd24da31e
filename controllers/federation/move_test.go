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
	"os"
	"path/filepath"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/cli"
	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/controllers/cooperative"
	"github.com/cooperator-dev/cooperator/controllers/federation"
	"github.com/cooperator-dev/cooperator/test/harness"
)

// userClient is a client of h as user, in groups, and a kubeconfig file for the command line.
func userClient(h *hub, user string, groups ...string) (client.Client, string) {
	GinkgoHelper()
	cfg, err := h.env.AddUser(user, groups)
	Expect(err).NotTo(HaveOccurred())
	return clientOf(cfg), writeKubeconfig(cfg, user)
}

func clientOf(cfg *rest.Config) client.Client {
	GinkgoHelper()
	c, err := client.New(cfg, client.Options{Scheme: manager.Scheme()})
	Expect(err).NotTo(HaveOccurred())
	return c
}

func writeKubeconfig(cfg *rest.Config, name string) string {
	GinkgoHelper()
	path := filepath.Join(GinkgoT().TempDir(), name+".kubeconfig")
	Expect(os.WriteFile(path, kubeconfig(cfg), 0o600)).To(Succeed())
	return path
}

func setMoveAnnotation(c client.Client, name, peer string) error {
	return setAnnotation(c, name, coopv1.AnnotationMoveTo, peer)
}

// setAnnotation sets an annotation of the Cooperative as c, in a merge patch.
func setAnnotation(c client.Client, name, key, value string) error {
	coop := &coopv1.Cooperative{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, coop); err != nil {
		return err
	}
	patch := client.MergeFrom(coop.DeepCopy())
	if coop.Annotations == nil {
		coop.Annotations = map[string]string{}
	}
	coop.Annotations[key] = value
	return c.Patch(ctx, coop, patch)
}

func movePhase(h *hub, name string) func() string {
	return func() string {
		c := coopOn(h, name)()
		if c == nil || c.Status.Federation == nil || c.Status.Federation.Move == nil {
			return ""
		}
		return string(c.Status.Federation.Move.Phase) + ": " + c.Status.Federation.Move.Message
	}
}

func setAcceptMoves(h *hub, peer string, moves bool, maxCoops int32) {
	GinkgoHelper()
	p := peerOn(h, peer)()
	patch := client.MergeFrom(p.DeepCopy())
	p.Spec.Accept.Moves = moves
	if maxCoops > 0 {
		p.Spec.Accept.MaxCooperatives = maxCoops
	}
	Expect(h.k8s.Patch(ctx, p, patch)).To(Succeed())
}

var _ = Describe("Moving a co-op to a peer hub", Ordered, func() {
	const name = "velo-move"
	var (
		westAsSouth client.Client // south's identity at west
		southAsWest client.Client // west's identity at south
		out         *gbytes.Buffer
		done        chan error
	)

	BeforeAll(func() {
		dumpOnFailure(name)
		// Room for one more standby from eu-west at eu-south whatever ran before.
		before := peerOn(south, "eu-west")().Spec.Accept
		setAcceptMoves(south, "eu-west", false, 10)
		DeferCleanup(func() { setAcceptMoves(south, "eu-west", before.Moves, before.MaxCooperatives) })
		westAsSouth, _ = userClient(west, "cooperator-peer-eu-south")
		southAsWest, _ = userClient(south, "cooperator-peer-eu-west")

		c := newCoop(name, "eu-south")
		c.Spec.Admins = []coopv1.Subject{{Kind: "Group", Name: "velo-move-admins"}}
		createWithReadCredentials(west, c)
		Eventually(standbyState(west, name, "eu-south"), timeout).Should(Equal(coopv1.StandbyMirrored))
		simulateReplicaReady(south, name)
		Eventually(standbyRole(west, name, "eu-south"), timeout).Should(Equal(coopv1.RoleStandby))
	})

	It("is asked only by someone who may delete the co-op at home: not its admins, not the peer", func() {
		admin, adminKubeconfigPath := userClient(west, "velo-move-admin", "velo-move-admins")
		// The co-op's admins may update their Cooperative (a switchover is theirs) ...
		Eventually(func() error {
			c := &coopv1.Cooperative{}
			if err := admin.Get(ctx, client.ObjectKey{Name: name}, c); err != nil {
				return err
			}
			patch := client.MergeFrom(c.DeepCopy())
			c.Spec.DisplayName = "Velo Move"
			return admin.Patch(ctx, c, patch)
		}, timeout).Should(Succeed())
		// ... but not move it away: the move ends with its deletion here.
		err := setMoveAnnotation(admin, name, "eu-south")
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring("only someone who may delete this Cooperative"))
		err = cli.FederationTo(ctx, []string{"move", name, "--to", "eu-south", "--kubeconfig", adminKubeconfigPath, "--no-wait"}, gbytes.NewBuffer())
		Expect(err).To(MatchError(ContainSubstring("you may not delete Cooperative velo-move on this hub")))

		// The peer's identity here may write only standbys of its own region.
		err = setMoveAnnotation(westAsSouth, name, "eu-south")
		Expect(apierrors.IsForbidden(err) || apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)

		// The home's identity at the peer may neither release its standby before the primary
		// is asked there, nor turn it into a co-op of that hub itself.
		sb := coopOn(south, name)()
		patch := client.MergeFrom(sb.DeepCopy())
		sb.Spec.Standby.Release = &coopv1.StandbyRelease{DeletionPolicy: coopv1.DeletionPolicyDelete}
		err = southAsWest.Patch(ctx, sb, patch)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring("released only once the primary is asked here"))
		sb = coopOn(south, name)()
		patch = client.MergeFrom(sb.DeepCopy())
		sb.Spec.Standby = nil
		err = southAsWest.Patch(ctx, sb, patch)
		Expect(apierrors.IsForbidden(err) || apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)

		// Nothing moved.
		Expect(coopOn(west, name)().Annotations).NotTo(HaveKey(coopv1.AnnotationMoveTo))
		Expect(coopOn(west, name)().Spec.Federation.Primary).To(BeEmpty())
		Expect(coopOn(south, name)().Spec.Standby).NotTo(BeNil())
		Expect(coopOn(south, name)().Spec.Standby.Release).To(BeNil())
	})

	It("refuses a peer the co-op does not list", func() {
		err := cli.FederationTo(ctx, []string{"move", name, "--to", "eu-north", "--kubeconfig", adminKubeconfig(west)}, gbytes.NewBuffer())
		Expect(err).To(MatchError(ContainSubstring("does not list peer eu-north")))
		err = cli.FederationTo(ctx, []string{"move", name, "--kubeconfig", adminKubeconfig(west)}, gbytes.NewBuffer())
		Expect(err).To(MatchError(ContainSubstring("--to PEER is required")))
	})

	It("switches over first, then releases the standby, which the peer keeps as a standby without its consent", func() {
		// Asked without waiting, then followed by running the command again: a move resumes.
		first := gbytes.NewBuffer()
		Expect(cli.FederationTo(ctx, []string{"move", name, "--to", "eu-south", "--kubeconfig", adminKubeconfig(west), "--no-wait"}, first)).To(Succeed())
		Expect(first).To(gbytes.Say("move to peer eu-south requested: a switchover first, then the release"))
		Expect(coopOn(west, name)().Annotations).To(HaveKeyWithValue(coopv1.AnnotationMoveTo, "eu-south"))
		Expect(coopOn(west, name)().Spec.Federation.Primary).To(Equal("eu-south"))

		out = gbytes.NewBuffer()
		done = make(chan error, 1)
		go func() {
			done <- cli.FederationTo(ctx, []string{"move", name, "--to", "eu-south",
				"--kubeconfig", adminKubeconfig(west), "--interval", "300ms", "--timeout", "120s"}, out)
		}()
		Eventually(out, timeout).Should(gbytes.Say("the move to peer eu-south is already asked"))
		Eventually(movePhase(west, name), timeout).Should(HavePrefix(string(coopv1.MoveSwitchingOver)))
		Expect(coopOn(south, name)().Spec.Standby.Release).To(BeNil(), "nothing is released before the switchover completes")

		token := `{"latestCheckpointTimelineID":"1","latestCheckpointREDOLocation":"0/7000028"}`
		Eventually(func() error { return simulateDemoted(west, "coop-"+name, name, token) }, timeout).Should(Succeed())
		Eventually(func() string { return coopOn(south, name)().Spec.Standby.PromotionToken }, timeout).Should(Equal(token))
		Expect(simulatePromoted(south, "coop-"+name, name, token)).To(Succeed())
		Eventually(role(south, name), timeout).Should(Equal(coopv1.RolePrimary))

		// The home releases the standby; the peer does not accept moves from eu-west yet.
		Eventually(func() *coopv1.StandbyRelease { return coopOn(south, name)().Spec.Standby.Release }, timeout).
			Should(Equal(&coopv1.StandbyRelease{DeletionPolicy: coopv1.DeletionPolicyRetain}))
		Eventually(movePhase(west, name), timeout).Should(And(HavePrefix(string(coopv1.MoveReleasing)), ContainSubstring("does not accept moves")))
		c := meta.FindStatusCondition(coopOn(west, name)().Status.Conditions, coopv1.ConditionFederationReady)
		Expect(c).NotTo(BeNil())
		Expect(c.Reason).To(Equal(coopv1.ReasonMoving))
		Consistently(func() *coopv1.StandbySpec { return coopOn(south, name)().Spec.Standby }, "2s").ShouldNot(BeNil())
		// Released, the standby could lose spec.standby as far as its schema goes; the home's
		// identity there still may not remove it: only the peer's own operator adopts.
		sb := coopOn(south, name)()
		patch := client.MergeFrom(sb.DeepCopy())
		sb.Spec.Standby = nil
		err := southAsWest.Patch(ctx, sb, patch)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "got %v", err)
		Expect(coopOn(south, name)().Spec.Standby).NotTo(BeNil())
		Expect(coopOn(west, name)()).NotTo(BeNil(), "the home keeps the co-op until the peer adopts it")
		Eventually(out, timeout).Should(gbytes.Say("does not accept moves"))
	})

	It("is adopted once the peer consents; the home then deletes its copy after a final backup, and only the peer holds the co-op", func() {
		setAcceptMoves(south, "eu-west", true, 0)

		// The peer: its own co-op now, on the plan it accepted the standby with.
		Eventually(func() *coopv1.StandbySpec {
			if c := coopOn(south, name)(); c != nil {
				return c.Spec.Standby
			}
			return &coopv1.StandbySpec{}
		}, timeout).Should(BeNil())
		adopted := coopOn(south, name)()
		Expect(adopted.Spec.Plan).To(Equal("small"))
		Expect(adopted.Spec.DeletionPolicy).To(Equal(coopv1.DeletionPolicyRetain), "the co-op's own policy from home")
		Expect(adopted.Labels).NotTo(HaveKey(coopv1.LabelMirroredFrom))
		Expect(adopted.Status.Origin).NotTo(BeNil())
		Expect(adopted.Status.Origin.Region).To(Equal("eu-west"))
		Expect(adopted.Status.Origin.Cooperative).To(Equal(name))
		Expect(adopted.Status.Origin.Backups).To(Equal(west.cfg.BackupDestination(name)))
		Expect(adopted.Status.Origin.MovedAt).NotTo(BeNil())
		Eventually(func() error {
			return south.k8s.Get(ctx, client.ObjectKey{Namespace: coopv1.MirrorNamespace("eu-west"), Name: federation.PeerSecretName(name)}, &corev1.Secret{})
		}, timeout).Should(Satisfy(apierrors.IsNotFound), "the old home's read credentials go")
		Eventually(func() error {
			return south.k8s.Get(ctx, client.ObjectKey{Namespace: "coop-" + name, Name: federation.SourceObjectStoreName(name, "eu-west")}, &barmanv1.ObjectStore{})
		}, timeout).Should(Satisfy(apierrors.IsNotFound))
		// Its Cluster is the primary of no topology, and the platform runs there.
		Eventually(func() *cnpgv1.ReplicaClusterConfiguration { return cluster(south, name)().Spec.ReplicaCluster }, timeout).Should(BeNil())
		Eventually(replicas(south, name), timeout).Should(BeNumerically(">", 0))
		Expect(harness.SimulateClusterReady(ctx, south.k8s, "coop-"+name, name)).To(Succeed())
		Expect(harness.SimulateDeploymentsAvailable(ctx, south.k8s, "coop-"+name)).To(Succeed())
		for _, t := range []string{coopv1.ConditionDatabaseReady, coopv1.ConditionPlatformReady} {
			Eventually(func() metav1.ConditionStatus {
				if c := meta.FindStatusCondition(coopOn(south, name)().Status.Conditions, t); c != nil {
					return c.Status
				}
				return ""
			}, timeout).Should(Equal(metav1.ConditionTrue), t)
		}

		// The home's identity there can no longer change or remove it.
		adopted = coopOn(south, name)()
		patch := client.MergeFrom(adopted.DeepCopy())
		adopted.Spec.DisplayName = "taken back"
		err := southAsWest.Patch(ctx, adopted, patch)
		Expect(apierrors.IsForbidden(err) || apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		err = southAsWest.Delete(ctx, adopted)
		Expect(apierrors.IsForbidden(err) || apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)

		// The home saw the adoption, and the command deletes the co-op there: its final
		// backup first (deletionPolicy Retain), which CloudNativePG would take.
		Eventually(out, timeout).Should(gbytes.Say("peer eu-south adopted the co-op; deleting it here"))
		Eventually(func() *metav1.Time {
			if c := coopOn(west, name)(); c != nil {
				return c.DeletionTimestamp
			}
			return nil
		}, timeout).ShouldNot(BeNil())
		home := coopOn(west, name)()
		Expect(home.Status.Federation.Move.Phase).To(Equal(coopv1.MoveReleased))
		Expect(home.Status.Federation.Move.ReleasedAt).NotTo(BeNil())
		final := coopv1.FinalBackupName(home)
		Eventually(func() error {
			return west.k8s.Get(ctx, client.ObjectKey{Namespace: "coop-" + name, Name: final}, &cnpgv1.Backup{})
		}, timeout).Should(Succeed())
		Expect(harness.SimulateBackupDone(ctx, west.k8s, "coop-"+name, final, true)).To(Succeed())
		Eventually(done, timeout).Should(Receive(BeNil()))
		Expect(string(out.Contents())).To(ContainSubstring("removed here; it is the peer's co-op now: done"))

		// Only the peer holds the co-op: the home has no Cooperative, its namespace goes, and
		// it keeps the final backup's whereabouts, as any co-op deleted with Retain.
		Expect(coopOn(west, name)()).To(BeNil())
		ns := &corev1.Namespace{}
		if err := west.k8s.Get(ctx, client.ObjectKey{Name: "coop-" + name}, ns); err == nil {
			Expect(ns.DeletionTimestamp).NotTo(BeNil(), "the home's namespace is being deleted")
		} else {
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "got %v", err)
		}
		marker := &corev1.ConfigMap{}
		Expect(west.k8s.Get(ctx, client.ObjectKey{Namespace: west.cfg.OperatorNamespace, Name: cooperative.RetainedMarkerName(name)}, marker)).To(Succeed())
		Expect(marker.Data).To(HaveKeyWithValue(cooperative.RetainedLastBackupKey, final))
		Consistently(func() *coopv1.Cooperative { return coopOn(south, name)() }, "2s").ShouldNot(BeNil(), "deleting the home's copy leaves the peer's")
		Expect(coopOn(south, name)().Spec.Standby).To(BeNil())
		Expect(coopOn(south, name)().DeletionTimestamp).To(BeNil())

		// Both hubs keep the move in their FederationPeer's history.
		hasMove := func(h *hub, peer string) func() []string {
			return func() []string {
				var got []string
				for _, m := range peerOn(h, peer)().Status.Moves {
					got = append(got, m.Cooperative+"/"+string(m.Direction))
				}
				return got
			}
		}
		Eventually(hasMove(west, "eu-south"), timeout).Should(ContainElement(name + "/ToPeer"))
		Eventually(hasMove(south, "eu-west"), timeout).Should(ContainElement(name + "/FromPeer"))

		// Running the move again says where the co-op went.
		err = cli.FederationTo(ctx, []string{"move", name, "--to", "eu-south", "--kubeconfig", adminKubeconfig(west)}, gbytes.NewBuffer())
		Expect(err).To(MatchError(ContainSubstring("not found")))
	})
})

// waitingForMovedCopy is the Ready condition of a co-op at h whose deletion waits for its
// copy at the hub it moved to, with a message that says so; nil otherwise.
func waitingForMovedCopy(h *hub, name string) func(g Gomega) {
	return func(g Gomega) {
		c := coopOn(h, name)()
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.DeletionTimestamp).NotTo(BeNil())
		g.Expect(c.Finalizers).To(ContainElement(coopv1.Finalizer))
		ready := meta.FindStatusCondition(c.Status.Conditions, coopv1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Reason).To(Equal(coopv1.ReasonWaitingForMovedCopy))
		g.Expect(ready.Message).To(ContainSubstring(coopv1.AnnotationDeleteBeforeMovedBackup))
		ns := &corev1.Namespace{}
		g.Expect(h.k8s.Get(ctx, client.ObjectKey{Name: "coop-" + name}, ns)).To(Succeed())
		g.Expect(ns.DeletionTimestamp).To(BeNil(), "nothing is removed meanwhile")
	}
}

func setDeleteBeforeMovedBackup(c client.Client, name, value string) error {
	return setAnnotation(c, name, coopv1.AnnotationDeleteBeforeMovedBackup, value)
}

var _ = Describe("Deleting with Delete a co-op that moved", Ordered, func() {
	const name = "velo-early"

	BeforeAll(func() {
		dumpOnFailure(name, "velo-gone")
		before := peerOn(south, "eu-west")().Spec.Accept
		setAcceptMoves(south, "eu-west", true, 10)
		DeferCleanup(func() { setAcceptMoves(south, "eu-west", before.Moves, before.MaxCooperatives) })

		c := newCoop(name, "eu-south")
		c.Spec.DeletionPolicy = coopv1.DeletionPolicyDelete
		c.Spec.Admins = []coopv1.Subject{{Kind: "Group", Name: name + "-admins"}}
		createWithReadCredentials(west, c)
		Eventually(standbyState(west, name, "eu-south"), timeout).Should(Equal(coopv1.StandbyMirrored))
		simulateReplicaReady(south, name)
		Eventually(standbyRole(west, name, "eu-south"), timeout).Should(Equal(coopv1.RoleStandby))
		Expect(cli.FederationTo(ctx, []string{"move", name, "--to", "eu-south", "--kubeconfig", adminKubeconfig(west), "--no-wait"}, gbytes.NewBuffer())).To(Succeed())
		token := `{"latestCheckpointTimelineID":"1","latestCheckpointREDOLocation":"0/9000028"}`
		Eventually(func() error { return simulateDemoted(west, "coop-"+name, name, token) }, timeout).Should(Succeed())
		Eventually(func() string { return coopOn(south, name)().Spec.Standby.PromotionToken }, timeout).Should(Equal(token))
		Expect(simulatePromoted(south, "coop-"+name, name, token)).To(Succeed())
		Eventually(movePhase(west, name), timeout).Should(HavePrefix(string(coopv1.MoveReleased)))
		Expect(coopOn(south, name)().Spec.DeletionPolicy).To(Equal(coopv1.DeletionPolicyDelete))
		Expect(coopOn(south, name)().Status.LastBackup).To(BeNil(), "the adopted copy has no base backup of its own yet")
	})

	It("waits, holding the database and backups here, until the copy at the hub it moved to has a base backup; a co-op admin cannot skip the wait", func() {
		Expect(west.k8s.Delete(ctx, coopOn(west, name)())).To(Succeed())
		Eventually(waitingForMovedCopy(west, name), timeout).Should(Succeed())
		Expect(meta.FindStatusCondition(coopOn(west, name)().Status.Conditions, coopv1.ConditionReady).Message).
			To(ContainSubstring("eu-south: the copy there reports no completed base backup yet"))
		Consistently(waitingForMovedCopy(west, name), "3s").Should(Succeed())
		Eventually(func() []string {
			var events corev1.EventList
			Expect(west.k8s.List(ctx, &events)).To(Succeed())
			var got []string
			for _, e := range events.Items {
				if e.InvolvedObject.Name == name && e.Reason == coopv1.ReasonWaitingForMovedCopy {
					got = append(got, e.Message)
				}
			}
			return got
		}, timeout).ShouldNot(BeEmpty())

		// The co-op's admins may update their Cooperative, not give up the wait.
		admin, _ := userClient(west, name+"-admin", name+"-admins")
		err := setDeleteBeforeMovedBackup(admin, name, coopv1.AcceptDataLoss)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring("only someone who may delete this Cooperative"))
		// A hub admin's value other than accept-data-loss would do nothing: refused.
		err = setDeleteBeforeMovedBackup(west.k8s, name, "yes")
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring(coopv1.AcceptDataLoss))
		Consistently(waitingForMovedCopy(west, name), "2s").Should(Succeed())

		// The copy there completes a base backup: the deletion here goes on.
		Expect(harness.SimulateBackup(ctx, south.k8s, "coop-"+name, name, name+"-there-1", true)).To(Succeed())
		Eventually(func() *coopv1.BackupRecord { return coopOn(south, name)().Status.LastBackup }, timeout).ShouldNot(BeNil())
		Eventually(coopOn(west, name), timeout).Should(BeNil())
		Expect(coopOn(south, name)()).NotTo(BeNil(), "the copy there is not touched")
	})

	It("goes on without that backup once a hub admin, the peer gone for good, says so", func() {
		// A co-op whose status was lost: the FederationPeer's history of moves still says it
		// went to eu-south, where this hub can read no copy of it.
		const gone = "velo-gone"
		c := newCoop(gone)
		c.Spec.DeletionPolicy = coopv1.DeletionPolicyDelete
		Expect(west.k8s.Create(ctx, c)).To(Succeed())
		Eventually(func() error {
			p := peerOn(west, "eu-south")()
			p.Status.Moves = append(p.Status.Moves, coopv1.MoveRecord{Cooperative: gone, Direction: coopv1.MoveToPeer, Time: metav1.Now()})
			return west.k8s.Status().Update(ctx, p)
		}, timeout).Should(Succeed())
		// The operator holds the co-op, and sees the record, before it is deleted.
		Eventually(func() []string { return coopOn(west, gone)().Finalizers }, timeout).Should(ContainElement(coopv1.Finalizer))
		Eventually(func(g Gomega) {
			p := &coopv1.FederationPeer{}
			g.Expect(west.cached.Get(ctx, client.ObjectKey{Name: "eu-south"}, p)).To(Succeed())
			g.Expect(federation.MovedTo(coopOn(west, gone)(), []coopv1.FederationPeer{*p})).To(Equal([]string{"eu-south"}))
		}, timeout).Should(Succeed())
		Expect(west.k8s.Delete(ctx, coopOn(west, gone)())).To(Succeed())
		Eventually(waitingForMovedCopy(west, gone), timeout).Should(Succeed())
		Expect(meta.FindStatusCondition(coopOn(west, gone)().Status.Conditions, coopv1.ConditionReady).Message).
			To(ContainSubstring("eu-south: that hub no longer lets this hub read the co-op"))

		hubAdmin, _ := userClient(west, "velo-gone-hub-admin", "system:masters")
		Expect(setDeleteBeforeMovedBackup(hubAdmin, gone, coopv1.AcceptDataLoss)).To(Succeed())
		Eventually(coopOn(west, gone), timeout).Should(BeNil())
	})
})
