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
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/cli"
	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/controllers/cooperative"
	"github.com/cooperator-dev/cooperator/controllers/federation"
	"github.com/cooperator-dev/cooperator/test/harness"
	"github.com/cooperator-dev/cooperator/test/harness/specs"
)

func coopOn(h *hub, name string) func() *coopv1.Cooperative {
	return func() *coopv1.Cooperative {
		c := &coopv1.Cooperative{}
		if err := h.k8s.Get(ctx, client.ObjectKey{Name: name}, c); err != nil {
			return nil
		}
		return c
	}
}

func peerOn(h *hub, name string) func() *coopv1.FederationPeer {
	return func() *coopv1.FederationPeer {
		p := &coopv1.FederationPeer{}
		if err := h.k8s.Get(ctx, client.ObjectKey{Name: name}, p); err != nil {
			return nil
		}
		return p
	}
}

func peerCondition(h *hub, name, t string) func() string {
	return func() string {
		p := peerOn(h, name)()
		if p == nil {
			return ""
		}
		c := meta.FindStatusCondition(p.Status.Conditions, t)
		if c == nil {
			return ""
		}
		return string(c.Status) + "/" + c.Reason
	}
}

func standbyState(h *hub, coop, peer string) func() coopv1.StandbyState {
	return func() coopv1.StandbyState {
		c := coopOn(h, coop)()
		if c == nil || c.Status.Federation == nil {
			return ""
		}
		for _, st := range c.Status.Federation.Standbys {
			if st.Peer == peer {
				return st.State
			}
		}
		return ""
	}
}

// standbyRole is the role of coop's standby at peer, as h's status of coop reports it.
func standbyRole(h *hub, coop, peer string) func() coopv1.FederationRole {
	return func() coopv1.FederationRole {
		c := coopOn(h, coop)()
		if c == nil || c.Status.Federation == nil {
			return ""
		}
		for _, st := range c.Status.Federation.Standbys {
			if st.Peer == peer {
				return st.Role
			}
		}
		return ""
	}
}

// cutOffSouth points west's kubeconfig for eu-south at a port nobody listens on; the
// function it returns puts the real one back and waits until the peer is Ready again.
func cutOffSouth() (restore func()) {
	GinkgoHelper()
	var secret corev1.Secret
	key := client.ObjectKey{Namespace: west.cfg.OperatorNamespace, Name: "peer-eu-south"}
	Expect(west.k8s.Get(ctx, key, &secret)).To(Succeed())
	good := secret.Data["kubeconfig"]
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	closed := fmt.Sprintf("https://%s", l.Addr().String())
	Expect(l.Close()).To(Succeed())
	kc, err := clientcmd.Load(good)
	Expect(err).NotTo(HaveOccurred())
	kc.Clusters["peer"].Server = closed
	secret.Data["kubeconfig"], err = clientcmd.Write(*kc)
	Expect(err).NotTo(HaveOccurred())
	Expect(west.k8s.Update(ctx, &secret)).To(Succeed())
	return func() {
		GinkgoHelper()
		Expect(west.k8s.Get(ctx, key, &secret)).To(Succeed())
		secret.Data["kubeconfig"] = good
		Expect(west.k8s.Update(ctx, &secret)).To(Succeed())
		Eventually(peerCondition(west, "eu-south", coopv1.ConditionReady), timeout).Should(Equal("True/Ready"))
	}
}

func role(h *hub, coop string) func() coopv1.FederationRole {
	return func() coopv1.FederationRole {
		c := coopOn(h, coop)()
		if c == nil || c.Status.Federation == nil {
			return ""
		}
		return c.Status.Federation.Role
	}
}

func cluster(h *hub, coop string) func() *cnpgv1.Cluster {
	return func() *cnpgv1.Cluster {
		c := &cnpgv1.Cluster{}
		if err := h.k8s.Get(ctx, client.ObjectKey{Namespace: coopv1.NamespacePrefix + coop, Name: coop}, c); err != nil {
			return nil
		}
		return c
	}
}

// replicas sums the replicas the platform Deployments of a co-op ask for; -1 when there are
// none yet.
func replicas(h *hub, coop string) func() int32 {
	return func() int32 {
		var list appsv1.DeploymentList
		if err := h.k8s.List(ctx, &list, client.InNamespace(coopv1.NamespacePrefix+coop)); err != nil || len(list.Items) == 0 {
			return -1
		}
		var n int32
		for _, d := range list.Items {
			n += ptr.Deref(d.Spec.Replicas, 1)
		}
		return n
	}
}

// settled waits until the co-op on h has a spec that satisfies spec and both of its
// controllers have reconciled that generation: the Cooperative reconciler, which writes
// status.observedGeneration once it applied the Cluster and the platform, and the federation
// reconciler, which writes FederationReady with the generation it saw.
func settled(h *hub, name string, spec func(*coopv1.Cooperative) bool) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		c := coopOn(h, name)()
		g.Expect(c).NotTo(BeNil())
		g.Expect(spec(c)).To(BeTrue(), "the spec is not there yet")
		g.Expect(c.Status.ObservedGeneration).To(Equal(c.Generation), "the Cooperative reconciler has not seen generation %d", c.Generation)
		fr := meta.FindStatusCondition(c.Status.Conditions, coopv1.ConditionFederationReady)
		g.Expect(fr).NotTo(BeNil())
		g.Expect(fr.ObservedGeneration).To(Equal(c.Generation), "the federation reconciler has not seen generation %d", c.Generation)
	}, timeout).Should(Succeed())
}

// adminKubeconfig writes a kubeconfig of the hub's admin, for the command line.
func adminKubeconfig(h *hub) string {
	GinkgoHelper()
	path := filepath.Join(GinkgoT().TempDir(), h.region+".kubeconfig")
	Expect(h.env.WriteKubeconfig(path)).To(Succeed())
	return path
}

// createWithReadCredentials creates the co-op on h after the Secret a peer may get for it:
// its own read-only object store credentials (<prefix><co-op>-read), as the hub must.
func createWithReadCredentials(h *hub, c *coopv1.Cooperative) {
	GinkgoHelper()
	createReadCredentials(h, c.Name)
	Expect(h.k8s.Create(ctx, c)).To(Succeed())
}

// createReadCredentials creates the co-op's read-only object store Secret on h.
func createReadCredentials(h *hub, name string) {
	GinkgoHelper()
	c := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: name}}
	Expect(h.k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.cfg.OperatorNamespace, Name: h.cfg.ObjectStore.ReadCredentialsSecret(c.Name)},
		Data: map[string][]byte{
			"ACCESS_KEY_ID":     []byte(h.region + "-" + c.Name + "-read-key"),
			"ACCESS_SECRET_KEY": []byte(h.region + "-" + c.Name + "-read-secret"),
		},
	})).To(Succeed())
}

// newCoop is the fairride sample under another name, listing the given peers.
func newCoop(name string, peers ...string) *coopv1.Cooperative {
	c := specs.Sample("coop_v1alpha1_cooperative_fairride.yaml")
	c.Name = name
	c.Spec.Platform.Host = name + ".example.coop"
	c.Spec.Plan = "medium"
	for _, p := range peers {
		c.Spec.Federation.Peers = append(c.Spec.Federation.Peers, coopv1.FederationPeerRef{Name: p, Mode: coopv1.FederationModeStandby})
	}
	return c
}

// dumpOnFailure adds the co-op, as both hubs see it, and the peers to a failed spec's report.
func dumpOnFailure(names ...string) {
	for _, h := range []*hub{west, south} {
		specs.DumpOnFailure(h.k8s, h.region+" ", names...)
	}
	DeferCleanup(func() {
		if !CurrentSpecReport().Failed() {
			return
		}
		for _, h := range []*hub{west, south} {
			var peers coopv1.FederationPeerList
			if err := h.k8s.List(ctx, &peers); err == nil {
				b, _ := json.MarshalIndent(peers.Items, "", "  ")
				AddReportEntry(h.region+" peers", string(b))
			}
		}
	})
}

// simulateDemoted writes the status CloudNativePG writes once a Cluster whose
// spec.replica.primary names another cluster has demoted itself: the demotion token (its
// pg_controldata as JSON). No PostgreSQL runs on an envtest control plane.
func simulateDemoted(h *hub, namespace, name, token string) error {
	return updateClusterStatus(h, namespace, name, func(c *cnpgv1.Cluster) {
		c.Status.DemotionToken = token
		if c.Spec.ReplicaCluster == nil || c.Spec.ReplicaCluster.PromotionToken == "" {
			c.Status.LastPromotionToken = ""
		}
		c.Status.Phase = "Cluster in healthy state"
	})
}

// simulateReplicaReady writes the status CloudNativePG writes once a standby's replica
// Cluster is restored from the home archive and replays it: healthy, its instances ready,
// on a timeline. No PostgreSQL runs on an envtest control plane. Until then the standby has
// no role, and its home switches over to it only after.
func simulateReplicaReady(h *hub, coop string) {
	GinkgoHelper()
	Eventually(cluster(h, coop), timeout).ShouldNot(BeNil())
	Expect(updateClusterStatus(h, coopv1.NamespacePrefix+coop, coop, func(c *cnpgv1.Cluster) {
		c.Status.Phase = cnpgv1.PhaseHealthy
		c.Status.Instances, c.Status.ReadyInstances = c.Spec.Instances, c.Spec.Instances
		// Its instance, in recovery, reports the timeline it replays; CloudNativePG leaves
		// the Cluster's own status.timelineID to an instance out of recovery.
		c.Status.InstancesReportedState = map[cnpgv1.PodName]cnpgv1.InstanceReportedState{cnpgv1.PodName(coop + "-1"): {TimeLineID: 1}}
	})).To(Succeed())
}

// updateClusterStatus changes a Cluster's status as CloudNativePG would, read again and
// retried when the operator wrote the Cluster in between (a conflict), as CloudNativePG's
// own status writes are.
func updateClusterStatus(h *hub, namespace, name string, change func(*cnpgv1.Cluster)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var c cnpgv1.Cluster
		if err := h.k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &c); err != nil {
			return err
		}
		change(&c)
		return h.k8s.Status().Update(ctx, &c)
	})
}

// promoted plays CloudNativePG's promotion of fairride-lyon at primary with token, and
// checks what follows: the platform runs there and not at standby, the roles, and the
// switchover from standby to primary recorded on both hubs.
func promoted(primary, standby *hub, token string) {
	GinkgoHelper()
	Expect(simulatePromoted(primary, "coop-fairride-lyon", "fairride-lyon", token)).To(Succeed())
	Eventually(replicas(primary, "fairride-lyon"), timeout).Should(BeNumerically(">", 0))
	Eventually(role(primary, "fairride-lyon"), timeout).Should(Equal(coopv1.RolePrimary))
	Eventually(role(standby, "fairride-lyon"), timeout).Should(Equal(coopv1.RoleStandby))
	for _, h := range []*hub{primary, standby} {
		Eventually(func() string {
			f := coopOn(h, "fairride-lyon")().Status.Federation
			if f == nil || f.LastSwitchover == nil {
				return ""
			}
			return f.LastSwitchover.From + ">" + f.LastSwitchover.To
		}, timeout).Should(Equal(standby.region+">"+primary.region), "the switchover is recorded in %s", h.region)
	}
	Expect(replicas(standby, "fairride-lyon")()).To(BeZero())
}

// simulatePromoted writes the status CloudNativePG writes once a replica Cluster has replayed
// up to its promotion token and promoted: the token it verified, and a new timeline.
func simulatePromoted(h *hub, namespace, name, token string) error {
	return updateClusterStatus(h, namespace, name, func(c *cnpgv1.Cluster) {
		c.Status.LastPromotionToken = token
		c.Status.DemotionToken = "" // CloudNativePG clears it on a Cluster that is no replica
		c.Status.TimelineID++
		c.Status.Phase = "Cluster in healthy state"
	})
}

var _ = Describe("Peered hubs", Ordered, func() {
	BeforeAll(func() {
		dumpOnFailure("fairride-lyon", "coursiers-velo", "velo-nantes", "velo-angers", "velo-brest", "rail-lille", "velo-rennes")
	})

	It("see each other as reachable, with scoped credentials and the other's version", func() {
		for _, pair := range [][2]*hub{{west, south}, {south, west}} {
			home, peer := pair[0], pair[1]
			Eventually(peerCondition(home, peer.region, coopv1.ConditionReady), timeout).Should(Equal("True/Ready"))
			p := peerOn(home, peer.region)()
			Expect(peerCondition(home, peer.region, coopv1.ConditionReachable)()).To(Equal("True/Contacted"))
			Expect(peerCondition(home, peer.region, coopv1.ConditionCredentialsScoped)()).To(Equal("True/Scoped"))
			Expect(p.Status.OperatorVersion).To(Equal("test-" + peer.region))
			Expect(p.Status.Region).To(Equal(peer.region))
			Expect(p.Status.BackupDestination).To(Equal(peer.cfg.ObjectStore.DestinationPath))
			Expect(p.Status.LastContact).NotTo(BeNil())
			Expect(p.Status.ConsecutiveFailures).To(BeZero())
		}
	})

	It("refuses federation fields that break the rules, at the API", func() {
		invalid := func(err error, msg string) {
			GinkgoHelper()
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
			Expect(err.Error()).To(ContainSubstring(msg))
		}
		sampleBytes, err := os.ReadFile(filepath.Join(root, "config", "samples", "coop_v1alpha1_federationpeer.yaml"))
		Expect(err).NotTo(HaveOccurred())
		samplePeer := &coopv1.FederationPeer{}
		Expect(yaml.UnmarshalStrict(sampleBytes, samplePeer)).To(Succeed())
		samplePeer.Name = "sample-check"
		Expect(west.k8s.Create(ctx, samplePeer, client.DryRunAll)).To(Succeed(), "the sample is valid")

		// The hub's webhook holds a standby to the plan its peer is accepted with (small
		// allows 2 database instances), whatever plan it has at home.
		c := newCoop("rules-check")
		c.Labels = map[string]string{coopv1.LabelMirroredFrom: "eu-west"}
		c.Spec.Plan = "a-plan-of-the-home-hub"
		c.Spec.Database.Instances = 3
		c.Spec.Admins = nil
		c.Spec.Standby = &coopv1.StandbySpec{HomeRegion: "eu-west", HomeCooperative: "rules-check", PrimaryServerName: "x", PrimaryRegion: "eu-west",
			ObjectStore: coopv1.StandbyObjectStore{DestinationPath: "s3://x", SecretName: "x"}, ConsentedRegions: []string{"eu-south"}}
		invalid(south.k8s.Create(ctx, c, client.DryRunAll), "plan small allows at most 2 database instances")

		c = newCoop("rules-check", "eu-south")
		c.Spec.Federation.Primary = "eu-north"
		invalid(west.k8s.Create(ctx, c, client.DryRunAll), "primary must name a listed peer")

		c = newCoop("rules-check", "eu-south")
		c.Spec.Standby = &coopv1.StandbySpec{HomeRegion: "eu-south", HomeCooperative: "rules-check", PrimaryServerName: "x", PrimaryRegion: "eu-south",
			ObjectStore: coopv1.StandbyObjectStore{DestinationPath: "s3://x", SecretName: "x"}, ConsentedRegions: []string{"eu-west"}}
		invalid(west.k8s.Create(ctx, c, client.DryRunAll), "a standby lists no peers of its own")

		c = newCoop("rules-check")
		Expect(west.k8s.Create(ctx, c)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(west.k8s.Delete(ctx, c))).To(Succeed()) })
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Standby = &coopv1.StandbySpec{HomeRegion: "eu-south", HomeCooperative: "rules-check", PrimaryServerName: "x", PrimaryRegion: "eu-south",
			ObjectStore: coopv1.StandbyObjectStore{DestinationPath: "s3://x", SecretName: "x"}, ConsentedRegions: []string{"eu-west"}}
		invalid(west.k8s.Patch(ctx, c, patch, client.DryRunAll), "standby cannot be added or removed")

		p := &coopv1.FederationPeer{ObjectMeta: metav1.ObjectMeta{Name: "no-plan"}, Spec: coopv1.FederationPeerSpec{
			Region: "eu-north", KubeconfigSecretRef: coopv1.SecretKeyRef{Name: "x"}, Accept: coopv1.FederationAccept{Standbys: true, MaxCooperatives: 1},
		}}
		invalid(west.k8s.Create(ctx, p, client.DryRunAll), "plan is required when standbys are accepted")

		p = peerOn(west, "eu-south")()
		patch = client.MergeFrom(p.DeepCopy())
		p.Spec.Region = "eu-north"
		invalid(west.k8s.Patch(ctx, p, patch, client.DryRunAll), "region is immutable")
	})

	It("mirrors a co-op that lists a peer as a standby there, with a replica Cluster that follows the home archive", func() {
		createWithReadCredentials(west, newCoop("fairride-lyon", "eu-south"))
		Eventually(standbyState(west, "fairride-lyon", "eu-south"), timeout).Should(Equal(coopv1.StandbyMirrored))

		standby := coopOn(south, "fairride-lyon")()
		Expect(standby).NotTo(BeNil())
		Expect(standby.Labels).To(HaveKeyWithValue(coopv1.LabelMirroredFrom, "eu-west"))
		Expect(standby.Spec.Admins).To(BeEmpty(), "the home's admins are identities of the home hub")
		Expect(standby.Spec.Standby).NotTo(BeNil())
		Expect(*standby.Spec.Standby).To(Equal(coopv1.StandbySpec{
			HomeRegion: "eu-west", HomeCooperative: "fairride-lyon", PrimaryServerName: "fairride-lyon",
			ObjectStore:      coopv1.StandbyObjectStore{DestinationPath: "s3://west-backups/eu-west/fairride-lyon/", SecretName: "fairride-lyon-objectstore"},
			ConsentedRegions: []string{"eu-south"}, PrimaryRegion: "eu-west",
		}))

		// The read credentials, in the mirror namespace and then in the standby's namespace.
		var creds corev1.Secret
		Expect(south.k8s.Get(ctx, client.ObjectKey{Namespace: "cooperator-from-eu-west", Name: "fairride-lyon-objectstore"}, &creds)).To(Succeed())
		Expect(string(creds.Data["ACCESS_KEY_ID"])).To(Equal("eu-west-fairride-lyon-read-key"), "the co-op's own read-only credentials")
		Eventually(func() error {
			return south.k8s.Get(ctx, client.ObjectKey{Namespace: "coop-fairride-lyon", Name: "fairride-lyon-eu-west-objectstore"}, &creds)
		}, timeout).Should(Succeed())
		Expect(string(creds.Data["ACCESS_SECRET_KEY"])).To(Equal("eu-west-fairride-lyon-read-secret"))

		Eventually(cluster(south, "fairride-lyon"), timeout).ShouldNot(BeNil())
		c := cluster(south, "fairride-lyon")()
		Expect(c.Spec.ReplicaCluster).To(Equal(&cnpgv1.ReplicaClusterConfiguration{
			Self: "fairride-lyon-eu-south", Primary: "fairride-lyon-eu-west", Source: "fairride-lyon-eu-west",
		}))
		Expect(c.Spec.Bootstrap.Recovery).NotTo(BeNil())
		Expect(c.Spec.Bootstrap.Recovery.Source).To(Equal("fairride-lyon-eu-west"))
		Expect(c.Spec.Bootstrap.InitDB).To(BeNil())
		ec := map[string]map[string]string{}
		for _, e := range c.Spec.ExternalClusters {
			ec[e.Name] = e.PluginConfiguration.Parameters
		}
		Expect(ec).To(HaveKeyWithValue("fairride-lyon-eu-west", map[string]string{"barmanObjectName": "fairride-lyon-eu-west", "serverName": "fairride-lyon"}))
		Expect(c.Spec.Plugins[0].Parameters).To(HaveKeyWithValue("barmanObjectName", "fairride-lyon-backups"),
			"the standby archives, once promoted, into its own hub's bucket, never into the home's")

		var home barmanv1.ObjectStore
		Expect(south.k8s.Get(ctx, client.ObjectKey{Namespace: "coop-fairride-lyon", Name: "fairride-lyon-eu-west"}, &home)).To(Succeed())
		Expect(home.Spec.Configuration.DestinationPath).To(Equal("s3://west-backups/eu-west/fairride-lyon/"))
		var own barmanv1.ObjectStore
		Expect(south.k8s.Get(ctx, client.ObjectKey{Namespace: "coop-fairride-lyon", Name: "fairride-lyon-backups"}, &own)).To(Succeed())
		Expect(own.Spec.Configuration.DestinationPath).To(Equal("s3://south-backups/eu-south/fairride-lyon/"))

		// Tenancy from the plan the peer is accepted with; the platform at zero.
		var quota corev1.ResourceQuota
		Eventually(func() error {
			return south.k8s.Get(ctx, client.ObjectKey{Namespace: "coop-fairride-lyon", Name: coopv1.QuotaName}, &quota)
		}, timeout).Should(Succeed())
		Expect(ptr.To(quota.Spec.Hard[corev1.ResourceRequestsCPU]).String()).To(Equal("4"), "the quota of plan small, which eu-south accepts eu-west's standbys with, not medium")
		Eventually(replicas(south, "fairride-lyon"), timeout).Should(BeZero())
		Eventually(replicas(west, "fairride-lyon"), timeout).Should(BeNumerically(">", 0))
		simulateReplicaReady(south, "fairride-lyon")
		Eventually(role(south, "fairride-lyon"), timeout).Should(Equal(coopv1.RoleStandby))
		Eventually(role(west, "fairride-lyon"), timeout).Should(Equal(coopv1.RolePrimary))

		Eventually(func() string {
			c := meta.FindStatusCondition(coopOn(west, "fairride-lyon")().Status.Conditions, coopv1.ConditionFederationReady)
			if c == nil {
				return ""
			}
			return string(c.Status) + "/" + c.Reason + ": " + c.Message
		}, timeout).Should(Equal("True/Ready: standbys mirrored at eu-south; the primary is in eu-west"))
		// Counted as the co-ops change, not at the peers' next contact: nothing else wakes the
		// count of a peer declared before the co-op.
		Eventually(func() int32 { return peerOn(south, "eu-west")().Status.MirroredFrom }, timeout).Should(Equal(int32(1)))
		Eventually(func() int32 { return peerOn(west, "eu-south")().Status.MirroredTo }, timeout).Should(Equal(int32(1)))
	})

	It("lets a peer read its own standby here by name, and no other co-op", func() {
		Eventually(standbyState(west, "fairride-lyon", "eu-south"), timeout).Should(Equal(coopv1.StandbyMirrored))
		peerCfg, err := south.env.AddUser("cooperator-peer-eu-west", nil)
		Expect(err).NotTo(HaveOccurred())
		asPeer, err := client.New(rest.CopyConfig(peerCfg), client.Options{Scheme: manager.Scheme()})
		Expect(err).NotTo(HaveOccurred())

		// The shipped peer role reads no Cooperative; south's operator grants eu-west's two
		// identities the read of its standby, by name, and nothing else.
		var binding rbacv1.ClusterRoleBinding
		Eventually(func() error {
			return south.k8s.Get(ctx, client.ObjectKey{Name: "cooperator:peer:fairride-lyon"}, &binding)
		}, timeout).Should(Succeed())
		Expect(binding.Subjects).To(ConsistOf(
			rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "cooperator-peer-eu-west"},
			rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: "cooperator-peers", Name: "eu-west"}))
		var role rbacv1.ClusterRole
		Expect(south.k8s.Get(ctx, client.ObjectKey{Name: binding.RoleRef.Name}, &role)).To(Succeed())
		Expect(role.Rules).To(HaveLen(1))
		Expect(role.Rules[0].ResourceNames).To(Equal([]string{"fairride-lyon"}))
		Expect(metav1.IsControlledBy(&role, coopOn(south, "fairride-lyon")())).To(BeTrue(), "it goes with the standby")
		Eventually(func() error {
			return asPeer.Get(ctx, client.ObjectKey{Name: "fairride-lyon"}, &coopv1.Cooperative{})
		}, timeout).Should(Succeed())
		// What the peer made of the standby reaches the home through that read.
		Eventually(standbyRole(west, "fairride-lyon", "eu-south"), timeout).Should(Equal(coopv1.RoleStandby))

		// A co-op of south's own: neither read nor listed, as any name the peer tries.
		Expect(south.k8s.Create(ctx, newCoop("forno-lecce"))).To(Succeed())
		Eventually(coopOn(south, "forno-lecce"), timeout).ShouldNot(BeNil())
		for _, name := range []string{"forno-lecce", "no-such-coop"} {
			err := asPeer.Get(ctx, client.ObjectKey{Name: name}, &coopv1.Cooperative{})
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%s: %v", name, err)
		}
		Expect(apierrors.IsForbidden(asPeer.List(ctx, &coopv1.CooperativeList{}))).To(BeTrue())
		Expect(south.k8s.Get(ctx, client.ObjectKey{Name: "cooperator:peer:forno-lecce"}, &rbacv1.ClusterRole{})).
			To(Satisfy(apierrors.IsNotFound), "no peer access to a co-op of this hub's own")
	})

	It("mirrors and removes a standby whose read the peer has not granted, without taking it for gone", func() {
		// An admission policy of south's admin refuses the operator's grant for this co-op,
		// as an operator policy of an earlier version would.
		policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "withhold-peer-access"},
			Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
				FailurePolicy: ptr.To(admissionregistrationv1.Fail),
				MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
					RuleWithOperations: admissionregistrationv1.RuleWithOperations{
						Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
						Rule: admissionregistrationv1.Rule{APIGroups: []string{"rbac.authorization.k8s.io"}, APIVersions: []string{"*"},
							Resources: []string{"clusterroles"}},
					},
				}}},
				Validations: []admissionregistrationv1.Validation{{Expression: "object.metadata.name != 'cooperator:peer:forno-hidden'", Message: "withheld"}},
			},
		}
		binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "withhold-peer-access"},
			Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: policy.Name,
				ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny}},
		}
		Expect(south.k8s.Create(ctx, policy)).To(Succeed())
		Expect(south.k8s.Create(ctx, binding)).To(Succeed())
		withheld := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "cooperator:peer:forno-hidden"}}
		Eventually(func() error { return south.k8s.Create(ctx, withheld.DeepCopy(), client.DryRunAll) }, timeout).Should(HaveOccurred())

		createWithReadCredentials(west, newCoop("forno-hidden", "eu-south"))
		Eventually(standbyState(west, "forno-hidden", "eu-south"), timeout).Should(Equal(coopv1.StandbyMirrored))
		Expect(coopOn(south, "forno-hidden")()).NotTo(BeNil())
		// South reports on the standby all the same, and says why the grant failed.
		simulateReplicaReady(south, "forno-hidden")
		Eventually(role(south, "forno-hidden"), timeout).Should(Equal(coopv1.RoleStandby))
		Expect(south.k8s.Get(ctx, client.ObjectKey{Name: "cooperator:peer:forno-hidden"}, &rbacv1.ClusterRole{})).To(Satisfy(apierrors.IsNotFound))
		// West, which cannot read it, learns what south made of it from its own writes.
		Eventually(standbyRole(west, "forno-hidden", "eu-south"), timeout).Should(Equal(coopv1.RoleStandby))

		// The co-op drops the peer: west cannot check that the standby does not hold the
		// primary, so it keeps it and says so, but takes the co-op's read keys back.
		c := coopOn(west, "forno-hidden")()
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Federation.Peers = nil
		Expect(west.k8s.Patch(ctx, c, patch)).To(Succeed())
		Eventually(func() string {
			fed := coopOn(west, "forno-hidden")().Status.Federation
			if fed == nil {
				return "no federation status"
			}
			for _, st := range fed.Standbys {
				if st.Peer == "eu-south" {
					return st.Message
				}
			}
			return "no standby at eu-south"
		}, timeout).Should(ContainSubstring("has not granted this hub the read of the standby there"))
		Eventually(func() error {
			return south.k8s.Get(ctx, client.ObjectKey{Namespace: "cooperator-from-eu-west", Name: "forno-hidden-objectstore"}, &corev1.Secret{})
		}, timeout).Should(Satisfy(apierrors.IsNotFound))
		Expect(coopOn(south, "forno-hidden")()).NotTo(BeNil(), "a standby that could not be read is not removed")

		// Once south grants the read, west removes it.
		Expect(south.k8s.Delete(ctx, binding)).To(Succeed())
		Expect(south.k8s.Delete(ctx, policy)).To(Succeed())
		Eventually(coopOn(south, "forno-hidden"), 2*timeout).Should(BeNil())
		Eventually(func() []string { return coopOn(west, "forno-hidden")().Finalizers }, timeout).ShouldNot(ContainElement(federation.Finalizer))
	})

	It("isolation 1: sends a peer nothing for a co-op without its own read-only credentials, and names the Secret the hub must create", func() {
		// The hub has its hub-wide Secrets, read-write and read-only, and opted in to a single
		// tenant for its Clusters: none of that reaches a peer.
		c := newCoop("sans-cles", "eu-south")
		c.Spec.DeletionPolicy = coopv1.DeletionPolicyDelete
		Expect(west.k8s.Create(ctx, c)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(west.k8s.Delete(ctx, c))).To(Succeed()) })
		Eventually(standbyState(west, "sans-cles", "eu-south"), timeout).Should(Equal(coopv1.StandbyCredentialsMissing))
		Eventually(func(g Gomega) {
			ready := meta.FindStatusCondition(coopOn(west, "sans-cles")().Status.Conditions, coopv1.ConditionFederationReady)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(ready.Reason).To(Equal(coopv1.ReasonObjectStoreCredentialsMissing))
			g.Expect(ready.Message).To(ContainSubstring("Secret cooperator-system/cooperator-objectstore-sans-cles-read"))
		}, timeout).Should(Succeed())
		Consistently(func() error {
			return south.k8s.Get(ctx, client.ObjectKey{Namespace: "cooperator-from-eu-west", Name: "sans-cles-objectstore"}, &corev1.Secret{})
		}, 2*time.Second).Should(Satisfy(apierrors.IsNotFound), "no credentials are sent")
		Expect(coopOn(south, "sans-cles")()).To(BeNil(), "no standby is sent")

		// Once the hub creates the co-op's read-only Secret, exactly those keys are sent.
		createReadCredentials(west, "sans-cles")
		Eventually(standbyState(west, "sans-cles", "eu-south"), timeout).Should(Equal(coopv1.StandbyMirrored))
		var sent corev1.Secret
		Expect(south.k8s.Get(ctx, client.ObjectKey{Namespace: "cooperator-from-eu-west", Name: "sans-cles-objectstore"}, &sent)).To(Succeed())
		Expect(sent.Data).To(Equal(map[string][]byte{
			"ACCESS_KEY_ID": []byte("eu-west-sans-cles-read-key"), "ACCESS_SECRET_KEY": []byte("eu-west-sans-cles-read-secret"),
		}))
		Expect(client.IgnoreNotFound(west.k8s.Delete(ctx, c))).To(Succeed())
		Eventually(coopOn(south, "sans-cles"), timeout).Should(BeNil())
		Eventually(coopOn(west, "sans-cles"), timeout).Should(BeNil())
	})

	It("updates the standby when the home co-op is edited", func() {
		c := coopOn(west, "fairride-lyon")()
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.FeeSplit.PlatformFeeBasisPoints = 400
		c.Spec.Database.Storage.Set(20 << 30)
		Expect(west.k8s.Patch(ctx, c, patch)).To(Succeed())
		Eventually(func() int32 { return coopOn(south, "fairride-lyon")().Spec.FeeSplit.PlatformFeeBasisPoints }, timeout).Should(Equal(int32(400)))
		Eventually(func() string { return cluster(south, "fairride-lyon")().Spec.StorageConfiguration.Size }, timeout).Should(Equal("20Gi"))
	})

	It("sends the standby within the backup limits the peer holds it to, and says so at home where the hub granted more", func() {
		standbyMessage := func() string {
			for _, st := range coopOn(west, "fairride-lyon")().Status.Federation.Standbys {
				if st.Peer == "eu-south" {
					return st.Message
				}
			}
			return ""
		}
		setBackup := func(schedule, retention string) {
			c := coopOn(west, "fairride-lyon")()
			patch := client.MergeFrom(c.DeepCopy())
			c.Spec.Backup.Schedule, c.Spec.Backup.Retention = schedule, retention
			Expect(west.k8s.Patch(ctx, c, patch)).To(Succeed())
		}
		before := coopOn(west, "fairride-lyon")().Spec.Backup
		// West's admins grant their co-op a closer schedule and a longer retention, on
		// west's bill; south holds the standby to a co-op's limits.
		setBackup("0 */15 * * * *", "24m")
		Eventually(func() coopv1.BackupSpec { return coopOn(south, "fairride-lyon")().Spec.Backup }, timeout).
			Should(Equal(coopv1.BackupSpec{Schedule: "0 0 * * * *", Retention: "90d"}))
		Eventually(standbyMessage, timeout).Should(And(
			ContainSubstring("held to the backup limits of a co-op"),
			ContainSubstring(`backup.schedule "0 */15 * * * *" is backed up hourly`),
			ContainSubstring(`backup.retention "24m" is kept 90d`)))
		Expect(standbyState(west, "fairride-lyon", "eu-south")()).To(Equal(coopv1.StandbyMirrored))
		Eventually(func() bool {
			var events corev1.EventList
			Expect(west.k8s.List(ctx, &events)).To(Succeed())
			for _, e := range events.Items {
				if e.Reason == coopv1.ReasonStandbyBackupLimited && e.InvolvedObject.Name == "fairride-lyon" {
					return true
				}
			}
			return false
		}, timeout).Should(BeTrue(), "an event says so at home")

		setBackup(before.Schedule, before.Retention)
		Eventually(func() coopv1.BackupSpec { return coopOn(south, "fairride-lyon")().Spec.Backup }, timeout).Should(Equal(before))
		Eventually(standbyMessage, timeout).Should(BeEmpty())
	})

	It("leaves the standby alone while the home co-op is suspended, and catches up when it resumes", func() {
		suspended := func(generation int64) func() bool {
			return func() bool {
				c := meta.FindStatusCondition(coopOn(west, "fairride-lyon")().Status.Conditions, coopv1.ConditionFederationReady)
				return c != nil && c.Reason == coopv1.ReasonSuspended && c.ObservedGeneration >= generation
			}
		}
		set := func(change func(*coopv1.Cooperative)) int64 {
			c := coopOn(west, "fairride-lyon")()
			patch := client.MergeFrom(c.DeepCopy())
			change(c)
			Expect(west.k8s.Patch(ctx, c, patch)).To(Succeed())
			return c.Generation
		}
		Eventually(suspended(set(func(c *coopv1.Cooperative) { c.Spec.Suspend = true })), timeout).Should(BeTrue())
		// A change while suspended: the reconcile that saw it (its generation in
		// FederationReady) sent nothing to the peer.
		Eventually(suspended(set(func(c *coopv1.Cooperative) { c.Spec.FeeSplit.PlatformFeeBasisPoints = 450 })), timeout).Should(BeTrue())
		Expect(coopOn(south, "fairride-lyon")().Spec.FeeSplit.PlatformFeeBasisPoints).To(Equal(int32(400)), "mirrored while suspended")

		set(func(c *coopv1.Cooperative) { c.Spec.Suspend = false })
		Eventually(func() int32 { return coopOn(south, "fairride-lyon")().Spec.FeeSplit.PlatformFeeBasisPoints }, timeout).Should(Equal(int32(450)))
		Eventually(func() string {
			c := meta.FindStatusCondition(coopOn(west, "fairride-lyon")().Status.Conditions, coopv1.ConditionFederationReady)
			return c.Reason
		}, timeout).Should(Equal(coopv1.ReasonReady))
	})

	It("says that a co-op created suspended is suspended, and mirrors it once it resumes", func() {
		c := newCoop("en-pause", "eu-south")
		c.Spec.Suspend = true
		c.Spec.DeletionPolicy = coopv1.DeletionPolicyDelete // no final backup, which nothing here would complete
		createWithReadCredentials(west, c)
		Eventually(func() *metav1.Condition {
			return meta.FindStatusCondition(coopOn(west, "en-pause")().Status.Conditions, coopv1.ConditionFederationReady)
		}, timeout).Should(And(Not(BeNil()), HaveField("Reason", coopv1.ReasonSuspended), HaveField("Message", federation.SuspendedMessage)))
		// The reconcile that wrote the condition sent nothing to the peer.
		Expect(coopOn(south, "en-pause")()).To(BeNil(), "mirrored while suspended")
		Expect(coopOn(west, "en-pause")().Status.Federation.Standbys).To(BeEmpty())

		c = coopOn(west, "en-pause")()
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Suspend = false
		Expect(west.k8s.Patch(ctx, c, patch)).To(Succeed())
		Eventually(standbyState(west, "en-pause", "eu-south"), timeout).Should(Equal(coopv1.StandbyMirrored))
		simulateReplicaReady(south, "en-pause")
		Eventually(func() string {
			return meta.FindStatusCondition(coopOn(west, "en-pause")().Status.Conditions, coopv1.ConditionFederationReady).Reason
		}, timeout).Should(Equal(coopv1.ReasonReady))
		Expect(west.k8s.Delete(ctx, c)).To(Succeed())
		Eventually(coopOn(south, "en-pause"), timeout).Should(BeNil())
		// Both finalizers go, whichever of the two controllers removes its own first.
		Eventually(coopOn(west, "en-pause"), timeout).Should(BeNil())
	})

	It("removes the standby from a peer the co-op no longer lists, and keeps the home", func() {
		createWithReadCredentials(west, newCoop("coursiers-velo", "eu-south"))
		Eventually(coopOn(south, "coursiers-velo"), timeout).ShouldNot(BeNil())
		Eventually(standbyState(west, "coursiers-velo", "eu-south"), timeout).Should(Equal(coopv1.StandbyMirrored))
		mirroredTo := func() int32 { return peerOn(west, "eu-south")().Status.MirroredTo }
		Eventually(mirroredTo, timeout).Should(Equal(int32(2)))

		c := coopOn(west, "coursiers-velo")()
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Federation.Peers = nil
		Expect(west.k8s.Patch(ctx, c, patch)).To(Succeed())
		Eventually(coopOn(south, "coursiers-velo"), timeout).Should(BeNil())
		Eventually(func() error {
			return south.k8s.Get(ctx, client.ObjectKey{Namespace: "cooperator-from-eu-west", Name: "coursiers-velo-objectstore"}, &corev1.Secret{})
		}, timeout).Should(Satisfy(apierrors.IsNotFound))
		Expect(coopOn(west, "coursiers-velo")()).NotTo(BeNil())
		Expect(cluster(west, "coursiers-velo")()).NotTo(BeNil())
		Eventually(func() []string { return coopOn(west, "coursiers-velo")().Finalizers }, timeout).ShouldNot(ContainElement(federation.Finalizer))
		Eventually(mirroredTo, timeout).Should(Equal(int32(1)))
	})

	It("refuses a standby from a region it has not declared, and one for a co-op that did not list it", func() {
		// The eu-west identity writes as a faulty or hostile home hub would.
		peerCfg, err := south.env.AddUser("cooperator-peer-eu-west", nil)
		Expect(err).NotTo(HaveOccurred())
		asPeer, err := client.New(rest.CopyConfig(peerCfg), client.Options{Scheme: manager.Scheme()})
		Expect(err).NotTo(HaveOccurred())

		undeclared := newCoop("ghost-east")
		undeclared.Labels = map[string]string{coopv1.LabelMirroredFrom: "us-east"}
		undeclared.Spec.Admins = nil
		undeclared.Spec.Standby = &coopv1.StandbySpec{
			HomeRegion: "us-east", HomeCooperative: "ghost-east", PrimaryServerName: "ghost-east", PrimaryRegion: "us-east",
			ObjectStore:      coopv1.StandbyObjectStore{DestinationPath: "s3://elsewhere/us-east/ghost-east/", SecretName: "x"},
			ConsentedRegions: []string{"eu-south"},
		}
		unlisted := newCoop("ghost-west")
		unlisted.Labels = map[string]string{coopv1.LabelMirroredFrom: "eu-west"}
		unlisted.Spec.Admins = nil
		unlisted.Spec.Standby = &coopv1.StandbySpec{
			HomeRegion: "eu-west", HomeCooperative: "ghost-west", PrimaryServerName: "ghost-west", PrimaryRegion: "eu-west",
			ObjectStore:      coopv1.StandbyObjectStore{DestinationPath: "s3://west-backups/eu-west/ghost-west/", SecretName: "x"},
			ConsentedRegions: []string{"eu-north"},
		}
		// The shipped admission policy stops the eu-west identity from writing what is not
		// a standby of its own region, at the API.
		for name, c := range map[string]*coopv1.Cooperative{
			"a standby claiming another region": undeclared.DeepCopy(),
			"a co-op that is no standby":        newCoop("not-a-standby"),
		} {
			err := asPeer.Create(ctx, c)
			Expect(err).To(HaveOccurred(), name)
			Expect(err.Error()).To(ContainSubstring("may write only standby Cooperatives mirrored from its region"), name)
		}
		own := newCoop("bottega-bari")
		Expect(south.k8s.Create(ctx, own)).To(Succeed())
		err = asPeer.Delete(ctx, own)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("may write only standby Cooperatives"), "a peer cannot delete a co-op of this hub")
		// An admin of this hub (or a peer not held by the policy) can still write one; the
		// operator refuses it, as it refuses a standby its own peer sends for a co-op that did
		// not list this hub.
		Expect(south.k8s.Create(ctx, undeclared)).To(Succeed())
		Expect(asPeer.Create(ctx, unlisted)).To(Succeed())
		for name, why := range map[string]string{
			"ghost-east": "no FederationPeer of this hub declares region us-east",
			"ghost-west": "did not list this hub (region eu-south)",
		} {
			Eventually(func(g Gomega) {
				c := coopOn(south, name)()
				g.Expect(c).NotTo(BeNil())
				ready := meta.FindStatusCondition(c.Status.Conditions, coopv1.ConditionReady)
				g.Expect(ready).NotTo(BeNil())
				g.Expect(ready.Reason).To(Equal(coopv1.ReasonStandbyRefused))
				g.Expect(ready.Message).To(ContainSubstring(why))
				g.Expect(meta.IsStatusConditionTrue(c.Status.Conditions, coopv1.ConditionStalled)).To(BeTrue())
				g.Expect(c.Status.ObservedGeneration).To(Equal(c.Generation))
			}, timeout).Should(Succeed())
			// The reconcile that refuses it returns before it creates anything.
			Expect(south.k8s.Get(ctx, client.ObjectKey{Name: coopv1.NamespacePrefix + name}, &corev1.Namespace{})).
				To(Satisfy(apierrors.IsNotFound), "nothing is created for a refused standby")
			Expect(coopOn(south, name)().Finalizers).To(BeEmpty())
		}
		// Counted apart from the refusal, when the co-op's refusal is written.
		Eventually(func() int32 { return peerOn(south, "eu-west")().Status.MirroredFrom }, timeout).Should(Equal(int32(1)), "refused standbys do not count")
	})

	It("keeps what this hub retains of a co-op deleted with Retain from a peer's standby of the same name, and takes no import into a standby", func() {
		dumpOnFailure("kept-here", "kept-later")
		ns := west.cfg.OperatorNamespace
		// A shared-tier co-op of west, deleted with Retain: its role stays, NOLOGIN.
		local := specs.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
		local.Name = "kept-here"
		Expect(west.k8s.Create(ctx, local)).To(Succeed())
		Eventually(func() error {
			return harness.SimulateSharedDatabaseApplied(ctx, west.k8s, ns, "coop-kept-here")
		}, timeout).Should(Succeed())
		Expect(west.k8s.Delete(ctx, local)).To(Succeed())
		Eventually(coopOn(west, "kept-here"), timeout).Should(BeNil())
		retained := &cnpgv1.DatabaseRole{}
		Expect(west.k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "coop-kept-here"}, retained)).To(Succeed())
		Expect(retained.Labels).To(HaveKeyWithValue(coopv1.LabelRetainedFrom, "kept-here"))

		// eu-south's identity at west writes a standby of that name: on the shared tier, with
		// deletionPolicy Delete, it would take the role and the database over and drop them
		// with its deletion. The CRD refuses a shared-tier standby, the webhook any standby
		// of a name whose data west keeps.
		asPeer, _ := userClient(west, "cooperator-peer-eu-south")
		standby := specs.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
		standby.Name = "kept-here"
		standby.Labels = map[string]string{coopv1.LabelMirroredFrom: "eu-south"}
		standby.Spec.DeletionPolicy = coopv1.DeletionPolicyDelete
		standby.Spec.Admins = nil
		standby.Spec.Standby = &coopv1.StandbySpec{HomeRegion: "eu-south", HomeCooperative: "kept-here", PrimaryServerName: "kept-here", PrimaryRegion: "eu-south",
			ObjectStore:      coopv1.StandbyObjectStore{DestinationPath: "s3://south-backups/eu-south/kept-here/", SecretName: "kept-here-objectstore"},
			ConsentedRegions: []string{"eu-west"}}
		err := asPeer.Create(ctx, standby.DeepCopy())
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("spec.database.tier: Invalid value"))
		Expect(err.Error()).To(ContainSubstring("a standby is on database.tier dedicated"))
		dedicated := standby.DeepCopy()
		dedicated.Spec.Database.Tier = coopv1.DatabaseTierDedicated
		err = asPeer.Create(ctx, dedicated)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("metadata.name: Forbidden: this hub retains the data of its own co-op kept-here, deleted with deletionPolicy Retain (DatabaseRole " + ns + "/coop-kept-here, DatabaseRole " + ns + "/coop-kept-here-serving)"))
		Expect(err.Error()).To(ContainSubstring("a hub admin of this hub restores that data"))
		Expect(west.k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "coop-kept-here"}, retained)).To(Succeed())
		Expect(retained.Spec.Login).To(BeFalse())
		Expect(retained.Spec.ReclaimPolicy).To(Equal(cnpgv1.DatabaseRoleReclaimRetain))
		Expect(retained.Labels).To(HaveKeyWithValue(coopv1.LabelRetainedFrom, "kept-here"))
		Expect(west.k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "coop-kept-here"}, &cnpgv1.Database{})).To(Satisfy(apierrors.IsNotFound))

		// Nor does a standby take an import: the operator would restore a dump of the peer's
		// choosing into it.
		importing := dedicated.DeepCopy()
		importing.Name = "imports-here"
		importing.Spec.Standby.HomeCooperative, importing.Spec.Standby.PrimaryServerName = "imports-here", "imports-here"
		importing.Spec.Standby.ObjectStore.DestinationPath = "s3://south-backups/eu-south/imports-here/"
		importing.Annotations = map[string]string{coopv1.AnnotationImportDump: "imports-here-1.dump", coopv1.AnnotationImportSHA256: strings.Repeat("0", 64)}
		err = asPeer.Create(ctx, importing)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("a standby replays its home co-op's backups: it takes no import"))
		Expect(coopOn(west, "imports-here")()).To(BeNil())

		// A standby west holds already when retained objects of its name appear there (one
		// admitted before this rule): its deletion leaves them.
		createWithReadCredentials(south, newCoop("kept-later", "eu-west"))
		Eventually(func() []string {
			if c := coopOn(west, "kept-later")(); c != nil {
				return c.Finalizers
			}
			return nil
		}, timeout).Should(ContainElement(coopv1.Finalizer))
		earlier := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "kept-later", UID: "00000000-0000-0000-0000-00000000cafe"}}
		keptRole := cooperative.BuildRetainedSharedRole(earlier, &west.cfg)
		marker := cooperative.BuildRetainedMarker(earlier, &west.cfg, "kept-later", time.Now())
		Expect(west.k8s.Create(ctx, keptRole)).To(Succeed())
		Expect(west.k8s.Create(ctx, marker)).To(Succeed())
		Expect(south.k8s.Delete(ctx, coopOn(south, "kept-later")())).To(Succeed())
		Eventually(coopOn(west, "kept-later"), timeout).Should(BeNil())
		Expect(west.k8s.Get(ctx, client.ObjectKeyFromObject(keptRole), &cnpgv1.DatabaseRole{})).To(Succeed(), "the standby's deletion leaves the retained role")
		Expect(west.k8s.Get(ctx, client.ObjectKeyFromObject(marker), &corev1.ConfigMap{})).To(Succeed(), "and the marker of the retained backups")
	})

	It("refuses to work with over-privileged peer credentials", func() {
		admin, err := south.env.AddUser("too-powerful", []string{"system:masters"})
		Expect(err).NotTo(HaveOccurred())
		declarePeer(west, "eu-south-admin", "eu-south", admin)
		Eventually(peerCondition(west, "eu-south-admin", coopv1.ConditionCredentialsScoped), timeout).Should(Equal("False/OverPrivileged"))
		Expect(peerCondition(west, "eu-south-admin", coopv1.ConditionReady)()).To(Equal("False/OverPrivileged"))
		c := meta.FindStatusCondition(peerOn(west, "eu-south-admin")().Status.Conditions, coopv1.ConditionCredentialsScoped)
		Expect(c.Message).To(ContainSubstring("* on *"))
		Expect(c.Message).To(ContainSubstring("list Secrets in all namespaces"))
		Expect(c.Message).To(ContainSubstring("create ClusterRoleBindings"))
		Expect(c.Message).To(ContainSubstring("read Cooperatives of any name"))

		// A co-op that lists it gets nothing sent.
		createWithReadCredentials(west, newCoop("lavoro-torino", "eu-south-admin"))
		Eventually(func(g Gomega) {
			c := coopOn(west, "lavoro-torino")()
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status.Federation).NotTo(BeNil())
			g.Expect(c.Status.Federation.Standbys).To(ContainElement(And(
				HaveField("Peer", "eu-south-admin"), HaveField("State", coopv1.StandbyWaiting),
				HaveField("Message", ContainSubstring("the peer is not ready, nothing is sent")))))
		}, timeout).Should(Succeed())
		// The peer never becomes Ready, and a reconcile that finds it not ready sends nothing.
		Expect(coopOn(south, "lavoro-torino")()).To(BeNil())
	})

	It("is not ready while the peer's operator info cannot be read", func() {
		// An identity with the federation roles but not the one that reads cooperator-info.
		cfg, err := south.env.AddUser("cooperator-peer-no-info", nil)
		Expect(err).NotTo(HaveOccurred())
		bindPeerRoles(south, "cooperator-peer-no-info", west.region, "no-info", false)
		declarePeer(west, "eu-south-no-info", "eu-south", cfg)
		DeferCleanup(func() {
			Expect(client.IgnoreNotFound(west.k8s.Delete(ctx, &coopv1.FederationPeer{ObjectMeta: metav1.ObjectMeta{Name: "eu-south-no-info"}}))).To(Succeed())
		})
		Eventually(func(g Gomega) {
			p := peerOn(west, "eu-south-no-info")()
			g.Expect(p).NotTo(BeNil())
			c := meta.FindStatusCondition(p.Status.Conditions, coopv1.ConditionReady)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(coopv1.ReasonMissingPermissions))
			g.Expect(c.Message).To(Equal("the peer credentials cannot get ConfigMap " + south.cfg.OperatorNamespace + "/" + coopv1.InfoConfigMapName +
				"; bind the peer roles as config/rbac/federation_peer_role.yaml says"))
			g.Expect(p.Status.OperatorVersion).To(BeEmpty())
		}, timeout).Should(Succeed())
	})

	It("keeps a standby when a second FederationPeer reaches the same hub", func() {
		Expect(west.k8s.Create(ctx, &coopv1.FederationPeer{
			ObjectMeta: metav1.ObjectMeta{Name: "eu-south-bis"},
			Spec:       coopv1.FederationPeerSpec{Region: "eu-south", KubeconfigSecretRef: coopv1.SecretKeyRef{Name: "peer-eu-south", Key: "kubeconfig"}},
		})).To(Succeed())
		DeferCleanup(func() {
			Expect(west.k8s.Delete(ctx, &coopv1.FederationPeer{ObjectMeta: metav1.ObjectMeta{Name: "eu-south-bis"}})).To(Succeed())
		})
		// Ready as the operator reads it, so the reconcile below would remove the standby
		// through it if it removed standbys at unlisted peers of a listed region.
		Eventually(func() bool {
			p := &coopv1.FederationPeer{}
			return west.cached.Get(ctx, client.ObjectKey{Name: "eu-south-bis"}, p) == nil && federation.PeerReady(p)
		}, timeout).Should(BeTrue())
		// Wake the co-op, so that it looks at every peer.
		c := coopOn(west, "fairride-lyon")()
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.DisplayName = "FairRide Lyon (two peers to one hub)"
		Expect(west.k8s.Patch(ctx, c, patch)).To(Succeed())
		Eventually(func() string { return coopOn(south, "fairride-lyon")().Spec.DisplayName }, timeout).Should(Equal("FairRide Lyon (two peers to one hub)"))
		// The federation reconcile of this generation has gone through every peer, removals
		// included, before it wrote FederationReady.
		Eventually(func() int64 {
			c := coopOn(west, "fairride-lyon")()
			if fr := meta.FindStatusCondition(c.Status.Conditions, coopv1.ConditionFederationReady); fr != nil && fr.ObservedGeneration == c.Generation {
				return c.Generation
			}
			return 0
		}, timeout).Should(Equal(c.Generation))
		standby := coopOn(south, "fairride-lyon")()
		Expect(standby).NotTo(BeNil(), "the standby the listed peer holds stays")
		Expect(standby.DeletionTimestamp).To(BeNil(), "the standby the listed peer holds stays")
	})

	It("shows a peer that stops answering as unreachable, loses nothing meanwhile, and recovers", func() {
		restore := cutOffSouth()

		Eventually(peerCondition(west, "eu-south", coopv1.ConditionReachable), timeout).Should(Equal("False/Unreachable"))
		Eventually(func() int32 { return peerOn(west, "eu-south")().Status.ConsecutiveFailures }, timeout).Should(BeNumerically(">=", 2))
		Eventually(standbyState(west, "fairride-lyon", "eu-south"), timeout).Should(Equal(coopv1.StandbyUnreachable))
		var events corev1.EventList
		Eventually(func() bool {
			Expect(west.k8s.List(ctx, &events)).To(Succeed())
			for _, e := range events.Items {
				if e.Reason == coopv1.ReasonUnreachable && e.InvolvedObject.Name == "eu-south" {
					return true
				}
			}
			return false
		}, timeout).Should(BeTrue(), "an event says the peer did not answer")

		// Nothing is removed on either side meanwhile.
		Consistently(func(g Gomega) {
			g.Expect(coopOn(west, "fairride-lyon")()).NotTo(BeNil())
			g.Expect(cluster(west, "fairride-lyon")()).NotTo(BeNil())
			g.Expect(replicas(west, "fairride-lyon")()).To(BeNumerically(">", 0))
			g.Expect(coopOn(south, "fairride-lyon")()).NotTo(BeNil())
		}, 4*time.Second).Should(Succeed())

		restore()
		Expect(peerOn(west, "eu-south")().Status.ConsecutiveFailures).To(BeZero())
		Eventually(standbyState(west, "fairride-lyon", "eu-south"), timeout).Should(Equal(coopv1.StandbyMirrored))
	})

	It("says a standby dropped or left by a deleted co-op while the peer is down is not removed yet, and removes it once it answers", func() {
		createWithReadCredentials(west, newCoop("velo-angers", "eu-south"))
		createWithReadCredentials(west, newCoop("velo-brest", "eu-south"))
		for _, name := range []string{"velo-angers", "velo-brest"} {
			Eventually(coopOn(south, name), timeout).ShouldNot(BeNil())
			Eventually(standbyState(west, name, "eu-south"), timeout).Should(Equal(coopv1.StandbyMirrored))
		}
		restore := cutOffSouth()

		// Dropped from the list: the status says the standby is still there.
		c := coopOn(west, "velo-angers")()
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Federation.Peers = nil
		Expect(west.k8s.Patch(ctx, c, patch)).To(Succeed())
		Eventually(standbyState(west, "velo-angers", "eu-south"), timeout).Should(Equal(coopv1.StandbyRemoving))
		Eventually(func(g Gomega) {
			fr := meta.FindStatusCondition(coopOn(west, "velo-angers")().Status.Conditions, coopv1.ConditionFederationReady)
			g.Expect(fr).NotTo(BeNil())
			g.Expect(string(fr.Status) + "/" + fr.Reason).To(Equal("False/PeerNotReady"))
			g.Expect(fr.Message).To(ContainSubstring("not removed yet"))
		}, timeout).Should(Succeed())
		Expect(coopOn(west, "velo-angers")().Finalizers).To(ContainElement(federation.Finalizer), "the co-op is held until its standby is gone")

		// Deleted: the co-op waits for the peer, and an event says so.
		Expect(west.k8s.Delete(ctx, coopOn(west, "velo-brest")())).To(Succeed())
		Eventually(func() bool {
			var events corev1.EventList
			Expect(west.k8s.List(ctx, &events)).To(Succeed())
			for _, e := range events.Items {
				if e.InvolvedObject.Name == "velo-brest" && e.Reason == "PeerNotReady" && strings.Contains(e.Message, "eu-south") {
					return true
				}
			}
			return false
		}, timeout).Should(BeTrue(), "an event says the deletion waits for the peer")
		Expect(coopOn(west, "velo-brest")().Finalizers).To(ContainElement(federation.Finalizer), "not let go while its standby may be there")

		restore()
		for _, name := range []string{"velo-angers", "velo-brest"} {
			Eventually(coopOn(south, name), timeout).Should(BeNil(), "the standby of %s is removed once the peer answers", name)
		}
		Eventually(standbyState(west, "velo-angers", "eu-south"), timeout).Should(BeEmpty())
		Eventually(func() []string { return coopOn(west, "velo-angers")().Finalizers }, timeout).ShouldNot(ContainElement(federation.Finalizer))
		Eventually(func() []string {
			if c := coopOn(west, "velo-brest")(); c != nil {
				return c.Finalizers
			}
			return nil
		}, timeout).ShouldNot(ContainElement(federation.Finalizer))
	})

	It("switches the primary over to the peer with CloudNativePG's demotion token, and moves the platform", func() {
		// An admin of the home hub runs the command; it waits and prints the progress.
		out := gbytes.NewBuffer()
		done := make(chan error, 1)
		go func() {
			done <- cli.FederationTo(ctx, []string{"switchover", "fairride-lyon", "--to", "eu-south",
				"--kubeconfig", adminKubeconfig(west), "--interval", "300ms", "--timeout", "90s"}, out)
		}()
		Eventually(func() string { return coopOn(west, "fairride-lyon")().Spec.Federation.Primary }, timeout).Should(Equal("eu-south"))

		// Home: the Cluster is told the primary is now the peer's, the platform stops.
		Eventually(func() string {
			if r := cluster(west, "fairride-lyon")().Spec.ReplicaCluster; r != nil {
				return r.Self + ">" + r.Primary + "<" + r.Source
			}
			return ""
		}, timeout).Should(Equal("fairride-lyon-eu-west>fairride-lyon-eu-south<fairride-lyon-eu-south"))
		Eventually(replicas(west, "fairride-lyon"), timeout).Should(BeZero())
		Eventually(role(west, "fairride-lyon"), timeout).Should(Equal(coopv1.RoleDemoting))
		// Without a token the standby must not promote: once both of its controllers have
		// seen the spec that asks it to be the primary without a token, it still follows.
		settled(south, "fairride-lyon", func(c *coopv1.Cooperative) bool {
			return c.Spec.Standby.PrimaryRegion == "eu-south" && c.Spec.Standby.PromotionToken == ""
		})
		Expect(role(south, "fairride-lyon")()).To(Equal(coopv1.RolePromoting))
		Expect(cluster(south, "fairride-lyon")().Spec.ReplicaCluster.Primary).To(Equal("fairride-lyon-eu-west"))
		Expect(replicas(south, "fairride-lyon")()).To(BeZero())
		// The command shows the demotion under way, before CloudNativePG ends it below.
		Eventually(out, timeout).Should(gbytes.Say("here Demoting"))

		// What CloudNativePG does once the home Cluster is demoted: it publishes a token.
		token := `{"latestCheckpointTimelineID":"1","latestCheckpointREDOLocation":"0/6000028"}`
		Expect(simulateDemoted(west, "coop-fairride-lyon", "fairride-lyon", token)).To(Succeed())

		Eventually(func() string { return coopOn(south, "fairride-lyon")().Spec.Standby.PromotionToken }, timeout).Should(Equal(token))
		Eventually(func() *cnpgv1.ReplicaClusterConfiguration {
			return cluster(south, "fairride-lyon")().Spec.ReplicaCluster
		}, timeout).
			Should(Equal(&cnpgv1.ReplicaClusterConfiguration{
				Self: "fairride-lyon-eu-south", Primary: "fairride-lyon-eu-south", Source: "fairride-lyon-eu-west", PromotionToken: token,
			}))
		settled(south, "fairride-lyon", func(c *coopv1.Cooperative) bool { return c.Spec.Standby.PromotionToken == token })
		Expect(role(south, "fairride-lyon")()).To(Equal(coopv1.RolePromoting))
		Expect(replicas(south, "fairride-lyon")()).To(BeZero(), "the platform waits for the promotion")

		// What CloudNativePG does once the replica has replayed up to the token and promoted.
		promoted(south, west, token)
		Expect(coopOn(south, "fairride-lyon")().Spec.DeletionPolicy).To(Equal(coopv1.DeletionPolicyRetain), "the primary keeps its data")
		Eventually(done, timeout).Should(Receive(BeNil()))
		Expect(string(out.Contents())).To(ContainSubstring("fairride-lyon: switchover to peer eu-south requested"))
		Expect(string(out.Contents())).To(ContainSubstring("fairride-lyon: done"))

		// A peer that holds the primary cannot be dropped from the list.
		c := coopOn(west, "fairride-lyon")()
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Federation.Peers = nil
		err := west.k8s.Patch(ctx, c, patch)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring("a peer that holds the primary cannot be removed"))
	})

	It("switches the primary back home the same way, with the peer's demotion token", func() {
		var out bytes.Buffer
		done := make(chan error, 1)
		go func() {
			done <- cli.FederationTo(ctx, []string{"switchover", "fairride-lyon", "--to", "home",
				"--kubeconfig", adminKubeconfig(west), "--interval", "300ms", "--timeout", "90s"}, &out)
		}()
		// The peer is told to follow the home again and stops its platform.
		Eventually(func() string { return coopOn(south, "fairride-lyon")().Spec.Standby.PrimaryRegion }, timeout).Should(Equal("eu-west"))
		Eventually(func() string { return cluster(south, "fairride-lyon")().Spec.ReplicaCluster.Primary }, timeout).Should(Equal("fairride-lyon-eu-west"))
		Eventually(replicas(south, "fairride-lyon"), timeout).Should(BeZero())
		Eventually(role(south, "fairride-lyon"), timeout).Should(Equal(coopv1.RoleDemoting))
		// The home waits for the peer's token before it promotes: once both of its controllers
		// have seen the spec that asks for the primary back, it still follows the peer.
		settled(west, "fairride-lyon", func(c *coopv1.Cooperative) bool { return c.Spec.Federation.Primary == "" })
		Expect(role(west, "fairride-lyon")()).To(Equal(coopv1.RolePromoting))
		Expect(cluster(west, "fairride-lyon")().Spec.ReplicaCluster.Primary).To(Equal("fairride-lyon-eu-south"))
		Expect(replicas(west, "fairride-lyon")()).To(BeZero())

		// What CloudNativePG does once the peer's Cluster is demoted.
		back := `{"latestCheckpointTimelineID":"2","latestCheckpointREDOLocation":"0/9000060"}`
		Expect(simulateDemoted(south, "coop-fairride-lyon", "fairride-lyon", back)).To(Succeed())
		Eventually(func() *cnpgv1.ReplicaClusterConfiguration {
			return cluster(west, "fairride-lyon")().Spec.ReplicaCluster
		}, timeout).
			Should(Equal(&cnpgv1.ReplicaClusterConfiguration{
				Self: "fairride-lyon-eu-west", Primary: "fairride-lyon-eu-west", Source: "fairride-lyon-eu-south", PromotionToken: back,
			}))
		Consistently(replicas(west, "fairride-lyon"), 2*time.Second).Should(BeZero(), "the platform waits for the promotion")

		promoted(west, south, back)
		Eventually(done, timeout).Should(Receive(BeNil()))
		Expect(out.String()).To(ContainSubstring("switchover to home requested"))

		out.Reset()
		Expect(cli.FederationTo(ctx, []string{"status", "--kubeconfig", adminKubeconfig(west)}, &out)).To(Succeed())
		Expect(out.String()).To(MatchRegexp(`(?m)^fairride-lyon\s+Primary\s+eu-west\s+here\s+eu-south=Mirrored\s+eu-south->eu-west$`))
		out.Reset()
		Expect(cli.FederationTo(ctx, []string{"status", "fairride-lyon", "--kubeconfig", adminKubeconfig(south)}, &out)).To(Succeed())
		Expect(out.String()).To(MatchRegexp(`(?m)^fairride-lyon\s+Standby\s+eu-west\s+eu-west\s+-\s+eu-south->eu-west$`))
		err := cli.FederationTo(ctx, []string{"switchover", "coursiers-velo", "--to", "eu-south", "--kubeconfig", adminKubeconfig(west)}, &out)
		Expect(err).To(MatchError(ContainSubstring("does not list peer eu-south")))
	})

	It("reports at home a standby the peer refuses, and sends it once the peer has room", func() {
		p := peerOn(south, "eu-west")()
		patch := client.MergeFrom(p.DeepCopy())
		p.Spec.Accept.MaxCooperatives = 1
		Expect(south.k8s.Patch(ctx, p, patch)).To(Succeed())

		createWithReadCredentials(west, newCoop("ultimo-trieste", "eu-south"))
		Eventually(standbyState(west, "ultimo-trieste", "eu-south"), timeout).Should(Equal(coopv1.StandbyRefused))
		c := meta.FindStatusCondition(coopOn(west, "ultimo-trieste")().Status.Conditions, coopv1.ConditionFederationReady)
		Expect(c).NotTo(BeNil())
		Expect(c.Reason).To(Equal(coopv1.ReasonStandbyRefused))
		Expect(c.Message).To(ContainSubstring("accepts at most 1 standbys"))
		Expect(south.k8s.Get(ctx, client.ObjectKey{Name: "coop-ultimo-trieste"}, &corev1.Namespace{})).To(Satisfy(apierrors.IsNotFound))
		Expect(meta.IsStatusConditionTrue(coopOn(west, "ultimo-trieste")().Status.Conditions, coopv1.ConditionReady) ||
			meta.FindStatusCondition(coopOn(west, "ultimo-trieste")().Status.Conditions, coopv1.ConditionReady).Reason != coopv1.ReasonStandbyRefused).
			To(BeTrue(), "a refusal at the peer does not make the co-op unready at home")

		p = peerOn(south, "eu-west")()
		patch = client.MergeFrom(p.DeepCopy())
		p.Spec.Accept.MaxCooperatives = 3
		Expect(south.k8s.Patch(ctx, p, patch)).To(Succeed())
		Eventually(standbyState(west, "ultimo-trieste", "eu-south"), timeout).Should(Equal(coopv1.StandbyMirrored))
		Eventually(cluster(south, "ultimo-trieste"), timeout).ShouldNot(BeNil())
	})

	It("removes the standbys of a deleted co-op from its peers", func() {
		c := coopOn(west, "ultimo-trieste")()
		Expect(west.k8s.Delete(ctx, c)).To(Succeed())
		Eventually(coopOn(south, "ultimo-trieste"), timeout).Should(BeNil())
		Eventually(func() error {
			return south.k8s.Get(ctx, client.ObjectKey{Namespace: "cooperator-from-eu-west", Name: "ultimo-trieste-objectstore"}, &corev1.Secret{})
		}, timeout).Should(Satisfy(apierrors.IsNotFound))
		// The home's own deletion policy goes on as without federation (here: a final backup
		// first, which nothing completes in this test).
		Eventually(func() []string {
			if c := coopOn(west, "ultimo-trieste")(); c != nil {
				return c.Finalizers
			}
			return nil
		}, timeout).ShouldNot(ContainElement(federation.Finalizer))
	})

	It("keeps the primary at home while the standby asked to take it was never restored, and hands it over once it is", func() {
		createWithReadCredentials(west, newCoop("velo-rennes", "eu-south"))
		Eventually(standbyState(west, "velo-rennes", "eu-south"), timeout).Should(Equal(coopv1.StandbyMirrored))
		Eventually(cluster(south, "velo-rennes"), timeout).ShouldNot(BeNil())
		condition := func(h *hub) func() string {
			return func() string {
				c := meta.FindStatusCondition(coopOn(h, "velo-rennes")().Status.Conditions, coopv1.ConditionFederationReady)
				if c == nil {
					return ""
				}
				return string(c.Status) + "/" + c.Reason + ": " + c.Message
			}
		}
		// CloudNativePG has reported nothing of the replica Cluster there (no PostgreSQL
		// restored anything): no role, and neither hub says the standby is ready.
		Eventually(condition(south), timeout).Should(HavePrefix("False/ReplicaNotReady: the replica Cluster is not restored and healthy yet"))
		Expect(role(south, "velo-rennes")()).To(BeEmpty())
		Eventually(condition(west), timeout).Should(HavePrefix("False/PeerNotReady: eu-south: its standby is not ready yet"))

		// A co-op admin asks for the primary there: the home keeps it, and says why.
		c := coopOn(west, "velo-rennes")()
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Federation.Primary = "eu-south"
		Expect(west.k8s.Patch(ctx, c, patch)).To(Succeed())
		settled(west, "velo-rennes", func(c *coopv1.Cooperative) bool { return c.Spec.Federation.Primary == "eu-south" })
		Eventually(condition(west), timeout).Should(HavePrefix("False/SwitchingOver: Primary: waiting for the standby at eu-south (region eu-south) to be ready"))
		Consistently(func(g Gomega) {
			g.Expect(cluster(west, "velo-rennes")().Spec.ReplicaCluster).To(Equal(&cnpgv1.ReplicaClusterConfiguration{
				Self: "velo-rennes-eu-west", Primary: "velo-rennes-eu-west", Source: "velo-rennes-eu-south"}), "the home Cluster stays the primary")
			g.Expect(replicas(west, "velo-rennes")()).To(BeNumerically(">", 0))
			g.Expect(role(west, "velo-rennes")()).To(Equal(coopv1.RolePrimary))
			g.Expect(coopOn(south, "velo-rennes")().Spec.Standby.PrimaryRegion).To(Equal("eu-west"))
		}, 3*time.Second).Should(Succeed())

		// CloudNativePG restores the replica there and reports it healthy: the switchover goes on.
		simulateReplicaReady(south, "velo-rennes")
		Eventually(role(south, "velo-rennes"), timeout).Should(Equal(coopv1.RoleStandby))
		Eventually(func() string { return cluster(west, "velo-rennes")().Spec.ReplicaCluster.Primary }, timeout).Should(Equal("velo-rennes-eu-south"))
		Eventually(role(west, "velo-rennes"), timeout).Should(Equal(coopv1.RoleDemoting))
		Eventually(func() string { return coopOn(south, "velo-rennes")().Spec.Standby.PrimaryRegion }, timeout).Should(Equal("eu-south"))

		// Its standby, which holds no primary yet, goes with the co-op (after the final backup
		// its Retain asks, which nothing completes here): room for the next ones.
		Expect(west.k8s.Delete(ctx, coopOn(west, "velo-rennes")())).To(Succeed())
		Eventually(func() bool {
			c := coopOn(south, "velo-rennes")()
			return c == nil || !c.DeletionTimestamp.IsZero()
		}, timeout).Should(BeTrue())
	})

	It("fails over to the standby without the home, only when the data loss is accepted", func() {
		createWithReadCredentials(west, newCoop("solidaire-napoli", "eu-south"))
		Eventually(standbyState(west, "solidaire-napoli", "eu-south"), timeout).Should(Equal(coopv1.StandbyMirrored))
		simulateReplicaReady(south, "solidaire-napoli")
		Eventually(role(south, "solidaire-napoli"), timeout).Should(Equal(coopv1.RoleStandby))
		Eventually(replicas(south, "solidaire-napoli"), timeout).Should(BeZero())

		var out bytes.Buffer
		err := cli.FederationTo(ctx, []string{"failover", "solidaire-napoli", "--kubeconfig", adminKubeconfig(south)}, &out)
		Expect(err).To(MatchError(ContainSubstring("--accept-data-loss")))
		Expect(coopOn(south, "solidaire-napoli")().Annotations).NotTo(HaveKey(coopv1.AnnotationFailover))
		Consistently(replicas(south, "solidaire-napoli"), 2*time.Second).Should(BeZero())

		Expect(cli.FederationTo(ctx, []string{"failover", "solidaire-napoli", "--accept-data-loss",
			"--kubeconfig", adminKubeconfig(south), "--interval", "300ms", "--timeout", "60s"}, &out)).To(Succeed())
		Expect(out.String()).To(ContainSubstring("without the demotion token of its home (region eu-west). WAL it had not archived yet is LOST"))
		// The command waits for the federation's role; the Cluster is written apart, by the
		// Cooperative reconciler.
		Eventually(func() *cnpgv1.ReplicaClusterConfiguration {
			return cluster(south, "solidaire-napoli")().Spec.ReplicaCluster
		}, timeout).
			Should(Equal(&cnpgv1.ReplicaClusterConfiguration{
				Self: "solidaire-napoli-eu-south", Primary: "solidaire-napoli-eu-south", Source: "solidaire-napoli-eu-west",
			}), "promoted without a token")
		Eventually(replicas(south, "solidaire-napoli"), timeout).Should(BeNumerically(">", 0))
		fed := coopOn(south, "solidaire-napoli")().Status.Federation
		Expect(fed.LastSwitchover).NotTo(BeNil())
		Expect(fed.LastSwitchover.WithoutToken).To(BeTrue())
		Expect(fed.Message).To(ContainSubstring("WAL the home had not archived is lost"))

		// The home, still reachable here, is told; it does not act on its own.
		Eventually(func() string { return coopOn(west, "solidaire-napoli")().Status.Federation.Message }, timeout).
			Should(ContainSubstring("the copy in eu-south reports that it is the primary"))
		split := meta.FindStatusCondition(coopOn(west, "solidaire-napoli")().Status.Conditions, coopv1.ConditionFederationReady)
		Expect(split).NotTo(BeNil())
		Expect(split.Status).To(Equal(metav1.ConditionFalse))
		Expect(split.Reason).To(Equal(coopv1.ReasonSplitPrimary), "written with the message, from the copy's role at the peer")
		Expect(replicas(west, "solidaire-napoli")()).To(BeNumerically(">", 0))
	})

	It("after a failover, hands the primary back once the home names the copy primary, then asks for it back", func() {
		// The home acknowledges the failover: it names the copy that holds the primary, and
		// demotes toward it.
		c := coopOn(west, "solidaire-napoli")()
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Federation.Primary = "eu-south"
		Expect(west.k8s.Patch(ctx, c, patch)).To(Succeed())
		Eventually(func() string { return cluster(west, "solidaire-napoli")().Spec.ReplicaCluster.Primary }, timeout).Should(Equal("solidaire-napoli-eu-south"))
		Eventually(func() string { return coopOn(south, "solidaire-napoli")().Spec.Standby.PrimaryRegion }, timeout).Should(Equal("eu-south"))
		// The copy's operator drops the failover annotation: the home names it the primary.
		Eventually(func() map[string]string { return coopOn(south, "solidaire-napoli")().Annotations }, timeout).
			ShouldNot(HaveKey(coopv1.AnnotationFailover))
		Consistently(func(g Gomega) {
			g.Expect(role(south, "solidaire-napoli")()).To(Equal(coopv1.RolePrimary))
			g.Expect(cluster(south, "solidaire-napoli")().Spec.ReplicaCluster.Primary).To(Equal("solidaire-napoli-eu-south"), "it stays the primary")
			g.Expect(replicas(south, "solidaire-napoli")()).To(BeNumerically(">", 0))
		}, 2*time.Second).Should(Succeed())
		token := `{"latestCheckpointTimelineID":"1","latestCheckpointREDOLocation":"0/8000028"}`
		Expect(simulateDemoted(west, "coop-solidaire-napoli", "solidaire-napoli", token)).To(Succeed())
		Eventually(role(west, "solidaire-napoli"), timeout).Should(Equal(coopv1.RoleStandby))
		Eventually(func() string { return coopOn(south, "solidaire-napoli")().Spec.Standby.PromotionToken }, timeout).Should(Equal(token))
		Consistently(func() string { return cluster(south, "solidaire-napoli")().Spec.ReplicaCluster.Primary }, 2*time.Second).
			Should(Equal("solidaire-napoli-eu-south"), "promoted already: a token changes nothing")

		// The home asks for the primary back: the copy demotes, as after any switchover.
		c = coopOn(west, "solidaire-napoli")()
		patch = client.MergeFrom(c.DeepCopy())
		c.Spec.Federation.Primary = ""
		Expect(west.k8s.Patch(ctx, c, patch)).To(Succeed())
		Eventually(func() string { return cluster(south, "solidaire-napoli")().Spec.ReplicaCluster.Primary }, timeout).Should(Equal("solidaire-napoli-eu-west"))
		Eventually(role(south, "solidaire-napoli"), timeout).Should(Equal(coopv1.RoleDemoting))
		Eventually(replicas(south, "solidaire-napoli"), timeout).Should(BeZero())
		back := `{"latestCheckpointTimelineID":"2","latestCheckpointREDOLocation":"0/9000028"}`
		Expect(simulateDemoted(south, "coop-solidaire-napoli", "solidaire-napoli", back)).To(Succeed())
		Eventually(func() *cnpgv1.ReplicaClusterConfiguration {
			return cluster(west, "solidaire-napoli")().Spec.ReplicaCluster
		}, timeout).
			Should(Equal(&cnpgv1.ReplicaClusterConfiguration{
				Self: "solidaire-napoli-eu-west", Primary: "solidaire-napoli-eu-west", Source: "solidaire-napoli-eu-south", PromotionToken: back,
			}))
		Expect(simulatePromoted(west, "coop-solidaire-napoli", "solidaire-napoli", back)).To(Succeed())
		Eventually(role(west, "solidaire-napoli"), timeout).Should(Equal(coopv1.RolePrimary))
		Eventually(role(south, "solidaire-napoli"), timeout).Should(Equal(coopv1.RoleStandby))
		Eventually(replicas(west, "solidaire-napoli"), timeout).Should(BeNumerically(">", 0))
	})

	It("lets only this hub's admins fail a standby over: not the home hub's identity, nor a co-op admin", func() {
		failover := func(c client.Client, opts ...client.PatchOption) error {
			sb := &coopv1.Cooperative{}
			if err := c.Get(ctx, client.ObjectKey{Name: "solidaire-napoli"}, sb); err != nil {
				return err
			}
			patch := client.MergeFrom(sb.DeepCopy())
			if sb.Annotations == nil {
				sb.Annotations = map[string]string{}
			}
			sb.Annotations[coopv1.AnnotationFailover] = coopv1.AcceptDataLoss
			return c.Patch(ctx, sb, patch, opts...)
		}
		// The home hub's identity here may write its standbys, and read this one.
		homeIdentity, _ := userClient(south, coopv1.PeerUserPrefix+"eu-west")
		Eventually(func() error {
			return homeIdentity.Get(ctx, client.ObjectKey{Name: "solidaire-napoli"}, &coopv1.Cooperative{})
		}, timeout).Should(Succeed())
		err := failover(homeIdentity)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring("only this hub's admins"))
		Expect(err.Error()).To(ContainSubstring("never a peer hub"))

		// Someone who may update the standby, as a co-op's admins may update their co-op, and
		// not delete it.
		admin, _ := userClient(south, "solidaire-admin")
		Expect(south.k8s.Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "solidaire-admin"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{coopv1.GroupVersion.Group}, Resources: []string{"cooperatives"},
				ResourceNames: []string{"solidaire-napoli"}, Verbs: []string{"get", "update", "patch"}}}})).To(Succeed())
		Expect(south.k8s.Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "solidaire-admin"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "solidaire-admin"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "solidaire-admin"}}})).To(Succeed())
		Eventually(func() error {
			return admin.Get(ctx, client.ObjectKey{Name: "solidaire-napoli"}, &coopv1.Cooperative{})
		}, timeout).Should(Succeed())
		err = failover(admin)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring("only this hub's admins"))

		Expect(coopOn(south, "solidaire-napoli")().Annotations).NotTo(HaveKey(coopv1.AnnotationFailover))
		Consistently(role(south, "solidaire-napoli"), 2*time.Second).Should(Equal(coopv1.RoleStandby))
		// This hub's admin may (asked without writing: nothing here needs a failover).
		Expect(failover(south.k8s, client.DryRunAll)).To(Succeed())
	})

	It("keeps a standby whose FederationPeer is deleted, and says so until it is declared again or removed by hand", func() {
		// The FederationPeer a co-op's standby went through, to the same hub as eu-south.
		declare := func() {
			GinkgoHelper()
			Expect(west.k8s.Create(ctx, &coopv1.FederationPeer{
				ObjectMeta: metav1.ObjectMeta{Name: "eu-south-old"},
				Spec:       coopv1.FederationPeerSpec{Region: "eu-south", KubeconfigSecretRef: coopv1.SecretKeyRef{Name: "peer-eu-south", Key: "kubeconfig"}},
			})).To(Succeed())
		}
		undeclare := func() {
			GinkgoHelper()
			Expect(west.k8s.Delete(ctx, &coopv1.FederationPeer{ObjectMeta: metav1.ObjectMeta{Name: "eu-south-old"}})).To(Succeed())
			Eventually(peerOn(west, "eu-south-old"), timeout).Should(BeNil())
		}
		event := func(substr string) func() bool {
			return func() bool {
				var events corev1.EventList
				Expect(west.k8s.List(ctx, &events)).To(Succeed())
				for _, e := range events.Items {
					if e.Reason == coopv1.ReasonPeerNotDeclared && e.InvolvedObject.Name == "velo-nantes" && strings.Contains(e.Message, substr) {
						return true
					}
				}
				return false
			}
		}
		declare()
		createWithReadCredentials(west, newCoop("velo-nantes", "eu-south-old"))
		Eventually(standbyState(west, "velo-nantes", "eu-south-old"), timeout).Should(Equal(coopv1.StandbyMirrored))
		Expect(coopOn(south, "velo-nantes")()).NotTo(BeNil())

		undeclare()
		Eventually(func(g Gomega) {
			c := coopOn(west, "velo-nantes")()
			g.Expect(c.Status.Federation).NotTo(BeNil())
			g.Expect(c.Status.Federation.Standbys).To(ConsistOf(And(
				HaveField("Peer", "eu-south-old"), HaveField("State", coopv1.StandbyUndeclared), HaveField("Region", "eu-south"),
				HaveField("LastSync", Not(BeNil())),
				HaveField("Message", And(ContainSubstring("no longer declares FederationPeer eu-south-old"), ContainSubstring("left there"))))))
			fr := meta.FindStatusCondition(c.Status.Conditions, coopv1.ConditionFederationReady)
			g.Expect(fr).NotTo(BeNil())
			g.Expect(fr.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(fr.Reason).To(Equal(coopv1.ReasonPeerNotDeclared))
		}, timeout).Should(Succeed())
		// The reconcile that wrote this went through every peer: eu-south reaches the same hub
		// and is not listed by the co-op, and it removed nothing through it.
		standby := coopOn(south, "velo-nantes")()
		Expect(standby).NotTo(BeNil())
		Expect(standby.DeletionTimestamp).To(BeNil())
		Eventually(event("no longer declares FederationPeer eu-south-old"), timeout).Should(BeTrue(), "an event says the peer is gone")

		// Declared again (new credentials, say), the standby is followed again.
		declare()
		Eventually(standbyState(west, "velo-nantes", "eu-south-old"), timeout).Should(Equal(coopv1.StandbyMirrored))

		// Gone again, the co-op is deleted: the standby stays at the peer, and an event says so.
		undeclare()
		Eventually(standbyState(west, "velo-nantes", "eu-south-old"), timeout).Should(Equal(coopv1.StandbyUndeclared))
		Expect(west.k8s.Delete(ctx, coopOn(west, "velo-nantes")())).To(Succeed())
		Eventually(func() []string {
			if c := coopOn(west, "velo-nantes")(); c != nil {
				return c.Finalizers
			}
			return nil
		}, timeout).ShouldNot(ContainElement(federation.Finalizer))
		Eventually(event("remove it at that hub by hand"), timeout).Should(BeTrue())
		standby = coopOn(south, "velo-nantes")()
		Expect(standby).NotTo(BeNil())
		Expect(standby.DeletionTimestamp).To(BeNil())

		// Removed by hand at the peer, as README.md says.
		Expect(south.k8s.Delete(ctx, standby)).To(Succeed())
		Expect(south.k8s.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: coopv1.MirrorNamespace("eu-west"), Name: "velo-nantes-objectstore"}})).To(Succeed())
		Eventually(coopOn(south, "velo-nantes"), timeout).Should(BeNil())
	})

	It("lets a deleted co-op go whose standby cannot be removed once the hub deletes the FederationPeer of a hub gone for good", func() {
		// A FederationPeer of its own, to the same hub as eu-south (and cut off with it).
		Expect(west.k8s.Create(ctx, &coopv1.FederationPeer{
			ObjectMeta: metav1.ObjectMeta{Name: "eu-south-gone"},
			Spec:       coopv1.FederationPeerSpec{Region: "eu-south", KubeconfigSecretRef: coopv1.SecretKeyRef{Name: "peer-eu-south", Key: "kubeconfig"}},
		})).To(Succeed())
		createWithReadCredentials(west, newCoop("velo-quimper", "eu-south-gone"))
		Eventually(standbyState(west, "velo-quimper", "eu-south-gone"), timeout).Should(Equal(coopv1.StandbyMirrored))
		restore := cutOffSouth()
		DeferCleanup(func() {
			restore()
			// The hub is back after all: its standby is removed by hand there, as README.md says.
			Expect(client.IgnoreNotFound(south.k8s.Delete(ctx, &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "velo-quimper"}}))).To(Succeed())
			Expect(client.IgnoreNotFound(south.k8s.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: coopv1.MirrorNamespace("eu-west"), Name: "velo-quimper-objectstore"}}))).To(Succeed())
			Eventually(coopOn(south, "velo-quimper"), timeout).Should(BeNil())
		})
		finalizers := func() []string {
			if c := coopOn(west, "velo-quimper")(); c != nil {
				return c.Finalizers
			}
			return nil
		}

		event := func(reason, substr string) func() bool {
			return func() bool {
				var events corev1.EventList
				Expect(west.k8s.List(ctx, &events)).To(Succeed())
				for _, e := range events.Items {
					if e.InvolvedObject.Name == "velo-quimper" && e.Reason == reason && strings.Contains(e.Message, substr) {
						return true
					}
				}
				return false
			}
		}

		// Deleted while the peer does not answer: held, its status and an event name the way out.
		Expect(west.k8s.Delete(ctx, coopOn(west, "velo-quimper")())).To(Succeed())
		Eventually(event("PeerNotReady", "delete its FederationPeer"), timeout).Should(BeTrue())
		Eventually(func(g Gomega) {
			c := coopOn(west, "velo-quimper")()
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status.Federation).NotTo(BeNil())
			g.Expect(c.Status.Federation.Standbys).To(ConsistOf(And(HaveField("Peer", "eu-south-gone"), HaveField("State", coopv1.StandbyRemoving),
				HaveField("Message", ContainSubstring("being deleted")))))
			fr := meta.FindStatusCondition(c.Status.Conditions, coopv1.ConditionFederationReady)
			g.Expect(fr).NotTo(BeNil())
			g.Expect(string(fr.Status) + "/" + fr.Reason).To(Equal("False/PeerNotReady"))
		}, timeout).Should(Succeed())
		Consistently(finalizers, 2*time.Second).Should(ContainElement(federation.Finalizer), "not let go while its standby may be there")

		// The hub gives the peer up for good: the co-op is let go, and told where its standby was left.
		Expect(west.k8s.Delete(ctx, &coopv1.FederationPeer{ObjectMeta: metav1.ObjectMeta{Name: "eu-south-gone"}})).To(Succeed())
		Eventually(finalizers, timeout).ShouldNot(ContainElement(federation.Finalizer))
		Eventually(event(coopv1.ReasonPeerNotDeclared, "remove it at that hub by hand"), timeout).Should(BeTrue())
	})

	It("keeps the home a replica when the peer that holds the primary is dropped, until a failover to the home", func() {
		createWithReadCredentials(west, newCoop("rail-lille", "eu-south"))
		Eventually(standbyState(west, "rail-lille", "eu-south"), timeout).Should(Equal(coopv1.StandbyMirrored))
		simulateReplicaReady(south, "rail-lille")
		Eventually(role(south, "rail-lille"), timeout).Should(Equal(coopv1.RoleStandby))
		Eventually(standbyRole(west, "rail-lille", "eu-south"), timeout).Should(Equal(coopv1.RoleStandby))

		// Switched over to eu-south, as the first spec plays it.
		c := coopOn(west, "rail-lille")()
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Federation.Primary = "eu-south"
		Expect(west.k8s.Patch(ctx, c, patch)).To(Succeed())
		Eventually(func() string { return cluster(west, "rail-lille")().Spec.ReplicaCluster.Primary }, timeout).Should(Equal("rail-lille-eu-south"))
		token := `{"latestCheckpointTimelineID":"1","latestCheckpointREDOLocation":"0/7000028"}`
		Expect(simulateDemoted(west, "coop-rail-lille", "rail-lille", token)).To(Succeed())
		Eventually(func() string { return coopOn(south, "rail-lille")().Spec.Standby.PromotionToken }, timeout).Should(Equal(token))
		Eventually(cluster(south, "rail-lille"), timeout).ShouldNot(BeNil())
		Expect(simulatePromoted(south, "coop-rail-lille", "rail-lille", token)).To(Succeed())
		Eventually(role(south, "rail-lille"), timeout).Should(Equal(coopv1.RolePrimary))
		Eventually(role(west, "rail-lille"), timeout).Should(Equal(coopv1.RoleStandby))

		// Run against the home while it asks for the primary at the peer, failover refuses.
		var out bytes.Buffer
		err := cli.FederationTo(ctx, []string{"failover", "rail-lille", "--accept-data-loss", "--kubeconfig", adminKubeconfig(west)}, &out)
		Expect(err).To(MatchError(ContainSubstring("asks for the primary at peer eu-south")))

		// A co-op admin drops the peer and the primary in one patch (which the API allows:
		// no primary names a missing peer). Before, the home then promoted without a token
		// while the copy at eu-south went on serving: two primaries.
		c = coopOn(west, "rail-lille")()
		patch = client.MergeFrom(c.DeepCopy())
		c.Spec.Federation = coopv1.FederationSpec{}
		Expect(west.k8s.Patch(ctx, c, patch)).To(Succeed())
		settled(west, "rail-lille", func(c *coopv1.Cooperative) bool { return len(c.Spec.Federation.Peers) == 0 })
		Eventually(func(g Gomega) {
			fr := meta.FindStatusCondition(coopOn(west, "rail-lille")().Status.Conditions, coopv1.ConditionFederationReady)
			g.Expect(fr).NotTo(BeNil())
			g.Expect(fr.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(fr.Reason).To(Equal(coopv1.ReasonPrimaryHeldAtPeer))
			g.Expect(fr.Message).To(ContainSubstring("follows rail-lille-eu-south"))
		}, timeout).Should(Succeed())
		Expect(cluster(west, "rail-lille")().Spec.ReplicaCluster).To(Equal(&cnpgv1.ReplicaClusterConfiguration{
			Self: "rail-lille-eu-west", Primary: "rail-lille-eu-south", Source: "rail-lille-eu-south",
		}), "the home Cluster still follows the copy that holds the primary")
		Expect(cluster(west, "rail-lille")().Spec.ExternalClusters).To(ContainElement(HaveField("Name", "rail-lille-eu-south")))
		Expect(replicas(west, "rail-lille")()).To(BeZero())
		Expect(role(west, "rail-lille")()).To(Equal(coopv1.RoleHeld))
		Expect(coopOn(south, "rail-lille")()).NotTo(BeNil(), "the copy holding the primary is not removed")

		// The peer lost for good, a hub admin fails over to the home, accepting the loss.
		err = cli.FederationTo(ctx, []string{"failover", "rail-lille", "--kubeconfig", adminKubeconfig(west)}, &out)
		Expect(err).To(MatchError(ContainSubstring("without the copy it follows in region eu-south")))
		Expect(coopOn(west, "rail-lille")().Annotations).NotTo(HaveKey(coopv1.AnnotationFailover))
		out.Reset()
		Expect(cli.FederationTo(ctx, []string{"failover", "rail-lille", "--accept-data-loss",
			"--kubeconfig", adminKubeconfig(west), "--interval", "300ms", "--timeout", "60s"}, &out)).To(Succeed())
		Expect(out.String()).To(ContainSubstring("WAL it had not archived yet is LOST"))
		Eventually(func() *cnpgv1.ReplicaClusterConfiguration { return cluster(west, "rail-lille")().Spec.ReplicaCluster }, timeout).
			Should(BeNil(), "promoted without a token: no peer is listed any more")
		Eventually(replicas(west, "rail-lille"), timeout).Should(BeNumerically(">", 0))
		// Done, the annotation goes: it would promote without a token at a later switchover.
		Eventually(func() map[string]string { return coopOn(west, "rail-lille")().Annotations }, timeout).
			ShouldNot(HaveKey(coopv1.AnnotationFailover))
	})
})

var _ = Describe("Pruning a standby whose record in status was lost", Ordered, func() {
	const name = "statut-perdu"

	BeforeAll(func() {
		dumpOnFailure(name)
		// Room for one more standby from eu-west at eu-south whatever ran before.
		before := peerOn(south, "eu-west")().Spec.Accept
		setAcceptMoves(south, "eu-west", before.Moves, 10)
		DeferCleanup(func() { setAcceptMoves(south, "eu-west", before.Moves, before.MaxCooperatives) })
	})

	It("still removes the standby and the co-op's read keys from the peer the co-op no longer lists", func() {
		c := newCoop(name, "eu-south")
		c.Spec.DeletionPolicy = coopv1.DeletionPolicyDelete
		createWithReadCredentials(west, c)
		DeferCleanup(func() {
			Expect(client.IgnoreNotFound(west.k8s.Delete(ctx, c))).To(Succeed())
			Eventually(coopOn(west, name), timeout).Should(BeNil())
			// Whatever became of the spec, no standby of it stays at the peer for the next
			// specs (the peer keeps a bounded number from this region).
			Expect(client.IgnoreNotFound(south.k8s.Delete(ctx, &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: name}}))).To(Succeed())
			Eventually(coopOn(south, name), timeout).Should(BeNil())
		})
		Eventually(standbyState(west, name, "eu-south"), timeout).Should(Equal(coopv1.StandbyMirrored))
		Expect(coopOn(south, name)()).NotTo(BeNil())
		readKeys := client.ObjectKey{Namespace: coopv1.MirrorNamespace("eu-west"), Name: federation.PeerSecretName(name)}
		Expect(south.k8s.Get(ctx, readKeys, &corev1.Secret{})).To(Succeed())
		// Recorded before the first write there, outside the status.
		record := &corev1.ConfigMap{}
		recordKey := client.ObjectKey{Namespace: west.cfg.OperatorNamespace, Name: federation.WrittenRecordName(name)}
		Expect(west.k8s.Get(ctx, recordKey, record)).To(Succeed())
		Expect(record.Data).To(Equal(map[string]string{"eu-south": "eu-south"}))

		// Suspended, the co-op drops the peer and loses its federation status (a restore that
		// drops status, say): nothing is pruned meanwhile, and nothing writes it again.
		set := func(change func(*coopv1.Cooperative)) {
			GinkgoHelper()
			Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
				co := coopOn(west, name)()
				patch := client.MergeFromWithOptions(co.DeepCopy(), client.MergeFromWithOptimisticLock{})
				change(co)
				return west.k8s.Patch(ctx, co, patch)
			})).To(Succeed())
		}
		set(func(co *coopv1.Cooperative) { co.Spec.Suspend = true })
		Eventually(func() string {
			fr := meta.FindStatusCondition(coopOn(west, name)().Status.Conditions, coopv1.ConditionFederationReady)
			if fr == nil {
				return ""
			}
			return fr.Reason
		}, timeout).Should(Equal(coopv1.ReasonSuspended))
		set(func(co *coopv1.Cooperative) { co.Spec.Federation.Peers = nil })
		// A suspended reconcile that read the co-op before may still write its old status
		// once: drop it until it stays dropped.
		Eventually(func(g Gomega) {
			g.Expect(west.k8s.Status().Patch(ctx, coopOn(west, name)(), client.RawPatch(types.MergePatchType, []byte(`{"status":{"federation":null}}`)))).To(Succeed())
			g.Consistently(func() *coopv1.FederationStatus { return coopOn(west, name)().Status.Federation }, "1s").Should(BeNil())
		}, timeout).Should(Succeed())
		Consistently(coopOn(south, name), "2s").ShouldNot(BeNil())

		// Resumed, the record names the peer: the standby and the read keys there go.
		set(func(co *coopv1.Cooperative) { co.Spec.Suspend = false })
		Eventually(coopOn(south, name), timeout).Should(BeNil())
		Eventually(func() error { return south.k8s.Get(ctx, readKeys, &corev1.Secret{}) }, timeout).Should(Satisfy(apierrors.IsNotFound))
		Eventually(func() error { return west.k8s.Get(ctx, recordKey, &corev1.ConfigMap{}) }, timeout).Should(Satisfy(apierrors.IsNotFound), "nothing left to record")
		Expect(coopOn(west, name)()).NotTo(BeNil(), "the home stays")
	})
})
