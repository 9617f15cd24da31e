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

package federation

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	barmanapi "github.com/cloudnative-pg/barman-cloud/pkg/api"
	machineryapi "github.com/cloudnative-pg/machinery/pkg/api"
	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cooperator-dev/cooperator/api/topology"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/controllers/shared/text"
)

// TopologyName is the name of a co-op's Cluster in its distributed topology: CloudNativePG
// tells the members apart by these names, one per region.
func TopologyName(coop, region string) string { return coop + "-" + region }

// SourceObjectStoreName is the ObjectStore, in a co-op namespace, that reads the archive of
// the co-op's copy in another region.
func SourceObjectStoreName(coop, region string) string { return coop + "-" + region }

// SourceSecretName holds the credentials of SourceObjectStoreName.
func SourceSecretName(coop, region string) string { return coop + "-" + region + "-objectstore" }

// PeerSecretName is the Secret, in the peer's mirror namespace, with the credentials that
// read a co-op's backups.
func PeerSecretName(coop string) string { return coop + "-objectstore" }

// PeerArchiveSecretName is the Secret, in this hub's operator namespace, with credentials
// that read a peer's archives (used by the home Cluster after a switchover).
func PeerArchiveSecretName(peer string) string { return "cooperator-peer-" + peer + "-objectstore" }

// Admission is a hub's answer to a standby Cooperative from a peer.
type Admission struct {
	// Peer is the FederationPeer that declares the standby's home region; nil if none.
	Peer *coopv1.FederationPeer
	// Refusal says why the standby is refused; "" when it is accepted.
	Refusal string
}

// Admit decides whether this hub keeps a standby: the home region must be declared by one
// of its FederationPeers, which accepts standbys and has room for this one, the home co-op
// must have listed this hub's region, and the standby must carry the home's name and
// label. others are every standby Cooperative of this hub.
func Admit(standby *coopv1.Cooperative, region string, peers []coopv1.FederationPeer, others []coopv1.Cooperative) Admission {
	sb := standby.Spec.Standby
	if sb == nil {
		return Admission{Refusal: "not a standby"}
	}
	peer := topology.PeerOfRegion(peers, sb.HomeRegion)
	if refusal := basicRefusal(standby, region, peer); refusal != "" {
		return Admission{Peer: peer, Refusal: refusal}
	}
	// The oldest standbys of the peer fill its allowance first; those refused for another
	// reason take no room.
	var from []coopv1.Cooperative
	for _, c := range others {
		if c.Spec.Standby != nil && c.Spec.Standby.HomeRegion == sb.HomeRegion && c.DeletionTimestamp.IsZero() && basicRefusal(&c, region, peer) == "" {
			from = append(from, c)
		}
	}
	sort.Slice(from, func(i, j int) bool {
		if !from[i].CreationTimestamp.Equal(&from[j].CreationTimestamp) {
			return from[i].CreationTimestamp.Before(&from[j].CreationTimestamp)
		}
		return from[i].Name < from[j].Name
	})
	rank := 0
	for _, c := range from {
		if c.Name == standby.Name {
			break
		}
		rank++
	}
	if rank >= int(peer.Spec.Accept.MaxCooperatives) {
		return Admission{Peer: peer, Refusal: fmt.Sprintf("FederationPeer %s accepts at most %d standbys (spec.accept.maxCooperatives)", peer.Name, peer.Spec.Accept.MaxCooperatives)}
	}
	return Admission{Peer: peer}
}

// basicRefusal checks a standby against everything but the peer's allowance.
func basicRefusal(standby *coopv1.Cooperative, region string, peer *coopv1.FederationPeer) string {
	sb := standby.Spec.Standby
	switch {
	case sb.HomeRegion == region:
		return fmt.Sprintf("the standby's home region %s is this hub's own region", region)
	case peer == nil:
		return fmt.Sprintf("no FederationPeer of this hub declares region %s: standbys are accepted only from declared peers", sb.HomeRegion)
	case !peer.Spec.Accept.Standbys:
		return fmt.Sprintf("FederationPeer %s does not accept standbys (spec.accept.standbys)", peer.Name)
	case !slices.Contains(sb.ConsentedRegions, region):
		return fmt.Sprintf("co-op %s of region %s did not list this hub (region %s) among its peers", sb.HomeCooperative, sb.HomeRegion, region)
	case standby.Labels[coopv1.LabelMirroredFrom] != sb.HomeRegion:
		return fmt.Sprintf("label %s must be %s", coopv1.LabelMirroredFrom, sb.HomeRegion)
	case sb.HomeCooperative != standby.Name:
		return fmt.Sprintf("a standby has its home co-op's name %s", sb.HomeCooperative)
	}
	return ""
}

// holdsPrimaryAsApplied says whether a standby's Cluster, as applied, holds the primary: it
// names itself the primary, and CloudNativePG verified the promotion token it was given,
// if any (none after a failover).
func holdsPrimaryAsApplied(cluster *cnpgv1.Cluster) bool {
	if cluster == nil || cluster.Spec.ReplicaCluster == nil {
		return false
	}
	rc := cluster.Spec.ReplicaCluster
	return rc.Self != "" && rc.Primary == rc.Self && promoted(cluster, rc.PromotionToken)
}

// promoted reports whether a Cluster asked to be the primary has promoted: with a token,
// once CloudNativePG verified it; without one, at once.
func promoted(cluster *cnpgv1.Cluster, token string) bool {
	return token == "" || (cluster != nil && cluster.Status.LastPromotionToken == token)
}

// StandbyTopology is the place of a standby in its co-op's topology: a replica Cluster
// restored from the home archive and following it, with the home archive's ObjectStore and
// credentials; the primary after a switchover (once promoted) or a failover. The failover
// annotation keeps the copy the primary only until its home names this region the
// primary; the operator then removes it, and the copy follows what the home asks from
// then on (the primary back, say).
func StandbyTopology(coop *coopv1.Cooperative, region string, peer *coopv1.FederationPeer, homeCreds *corev1.Secret, cluster *cnpgv1.Cluster) topology.Topology {
	sb := coop.Spec.Standby
	self, home := TopologyName(coop.Name, region), TopologyName(coop.Name, sb.HomeRegion)
	failover := coop.Annotations[coopv1.AnnotationFailover] == coopv1.AcceptDataLoss
	replica := &cnpgv1.ReplicaClusterConfiguration{Self: self, Primary: TopologyName(coop.Name, sb.PrimaryRegion), Source: home}
	primaryHere := sb.PrimaryRegion == region
	switch {
	case primaryHere && holdsPrimaryAsApplied(cluster):
		// It holds the primary already (promoted, or by a failover its home has since named
		// it the primary after): it stays so, as applied, whatever token the home sends.
		replica.Primary, replica.PromotionToken = self, cluster.Spec.ReplicaCluster.PromotionToken
	case failover:
		replica.Primary = self
		primaryHere = true
	case primaryHere && sb.PromotionToken == "":
		// Asked to take over, but the home has not published its demotion token yet:
		// promoting now could lose what the home still writes. Keep following.
		replica.Primary = home
		primaryHere = false
	case primaryHere:
		replica.PromotionToken = sb.PromotionToken
		primaryHere = promoted(cluster, sb.PromotionToken)
	}
	t := topology.Topology{
		Plan:    peer.Spec.Accept.Plan,
		Primary: primaryHere,
		Replica: replica,
		ExternalClusters: []cnpgv1.ExternalCluster{
			barmanExternalCluster(home, SourceObjectStoreName(coop.Name, sb.HomeRegion), sb.PrimaryServerName),
			barmanExternalCluster(self, coopv1.ObjectStoreName(coop), coop.Name),
		},
		BootstrapSource: home,
		RecoverFrom:     sb.PrimaryServerName,
	}
	secret := BuildSourceSecret(coop, sb.HomeRegion, homeCreds)
	t.Objects = append(t.Objects, secret, BuildSourceObjectStore(coop, sb.HomeRegion, sb.ObjectStore.DestinationPath, sb.ObjectStore.EndpointURL))
	return t
}

// HomePeer is a listed peer as the home topology needs it.
type HomePeer struct {
	Name   string
	Region string
	// Archive is where the co-op's copy at the peer archives ("" when the peer has not
	// said where its bucket is).
	Archive string
	// DemotionToken of the peer's Cluster, when it was demoted after holding the primary.
	DemotionToken string
	// ArchiveCredentials read the peer's archive; nil when the hub has not provided them
	// (Secret PeerArchiveSecretName in the operator namespace).
	ArchiveCredentials *corev1.Secret
	// Ready says the copy at the peer can take the primary, as the co-op's status says it
	// last reported: its standby Mirrored, with role Standby (its replica Cluster restored
	// from the home archive and healthy: StandbyStatus) or Primary (it holds it already).
	Ready bool
	// State, Role and Message are that status, which says why it is not ready.
	State   coopv1.StandbyState
	Role    coopv1.FederationRole
	Message string
}

// ReadyToTakeOver says whether a standby, as its home's status reports it, can take the
// primary: Mirrored, with role Standby or Primary.
func ReadyToTakeOver(st coopv1.PeerStandbyStatus) bool {
	return st.State == coopv1.StandbyMirrored && (st.Role == coopv1.RoleStandby || st.Role == coopv1.RolePrimary)
}

// HomeTopology is the place of a co-op at its home hub. Without standby peers it is
// standalone. With them, its Cluster names itself and the primary in the topology: the
// primary is here unless spec.federation.primary names a peer, and the Cluster follows that
// peer's archive once demoted.
//
// A home Cluster that follows a peer's copy (demoted by a switchover) is promoted only
// with that peer's demotion token: never because the peer left the co-op's list or the
// hub's FederationPeers, or the primary is named at a peer this hub does not know, which
// would leave the peer's copy serving as a second primary; nor does it follow another
// member's copy, which would be promoted with a token that is not the last primary's
// (primaryStep brings the primary home first when it can). It then keeps following as it
// does (HeldMessage says why), until the peer is listed and declared again, or a hub admin
// fails over to the home (AnnotationFailover on the home co-op, with
// spec.federation.primary cleared), which promotes it without the token; the topology says
// the home holds the primary once the Cluster applied that.
func HomeTopology(coop *coopv1.Cooperative, hub *hubconfig.Config, peers []HomePeer, cluster *cnpgv1.Cluster) topology.Topology {
	t := homeTopology(coop, hub, peers, cluster)
	following := followedMember(cluster)
	if homeFailover(coop) {
		// Promote now, without the token of the copy it follows or followed: what that copy
		// wrote and did not archive is lost. The platform runs once the Cluster applied it.
		if t.Replica != nil {
			if t.Replica.Primary != t.Replica.Self {
				t.Replica.Source = t.Replica.Primary
			}
			t.Replica.Primary, t.Replica.PromotionToken = t.Replica.Self, ""
		}
		t.Primary = following == ""
		return t
	}
	if following == "" || (t.Replica != nil && (t.Replica.Primary == following || t.Replica.PromotionToken != "")) {
		// Following no one, going on following that copy, or promoted with its token.
		return t
	}
	rc := cluster.Spec.ReplicaCluster.DeepCopy()
	held := topology.Topology{Primary: false, Replica: rc}
	// Asked to follow that very copy (spec.federation.primary names its peer, whose archive
	// is not known here yet, say), the home is a standby as asked: not held.
	asked := false
	for _, p := range peers {
		if p.Name == coop.Spec.Federation.Primary && TopologyName(coop.Name, p.Region) == following {
			asked = true
		}
	}
	if !asked {
		held.Message = HeldMessage(following)
	}
	for _, ec := range cluster.Spec.ExternalClusters {
		if ec.Name == rc.Self || ec.Name == rc.Primary || ec.Name == rc.Source {
			held.ExternalClusters = append(held.ExternalClusters, *ec.DeepCopy())
		}
	}
	return held
}

// homeFailover says whether a home co-op is asked to fail over to the home (the failover
// annotation, with spec.federation.primary cleared).
func homeFailover(coop *coopv1.Cooperative) bool {
	return coop.Spec.Standby == nil && coop.Spec.Federation.Primary == "" &&
		coop.Annotations[coopv1.AnnotationFailover] == coopv1.AcceptDataLoss
}

// HeldMessage says why a home Cluster that follows another member's copy stays a replica.
func HeldMessage(following string) string {
	return fmt.Sprintf("the Cluster follows %s, the copy that holds the primary, and is promoted only with its demotion token, "+
		"which it cannot ask for now (the co-op does not list that peer, this hub does not declare it, or the peer has not "+
		"said where its copy archives): list and declare the peer to switch back, or, if that copy is lost for good, run "+
		"`cooperator federation failover` against this hub (WAL it had not archived is lost)", following)
}

// ViaHomeMessage says why the primary, asked at the copy in region to, first comes back
// to the home from the copy in region from.
func ViaHomeMessage(from, to string) string {
	return fmt.Sprintf("on its way from the copy in %s to the one in %s, the primary comes back here first "+
		"(a copy at a peer hands it over only to the home, with its demotion token), then goes on to %s", from, to, to)
}

// followedMember is the topology name of the member whose copy the Cluster follows, as
// applied; "" when it follows none (it is the primary, or outside a topology). A Cluster
// asked to promote with a token that CloudNativePG has not verified yet still replays its
// source's archive: it follows that copy until it promoted.
func followedMember(cluster *cnpgv1.Cluster) string {
	if cluster == nil || cluster.Spec.ReplicaCluster == nil {
		return ""
	}
	rc := cluster.Spec.ReplicaCluster
	if rc.Primary == rc.Self && rc.PromotionToken != "" && cluster.Status.LastPromotionToken != rc.PromotionToken &&
		rc.Source != "" && rc.Source != rc.Self {
		return rc.Source
	}
	if rc.Primary == "" || rc.Primary == rc.Self {
		return ""
	}
	return rc.Primary
}

func homeTopology(coop *coopv1.Cooperative, hub *hubconfig.Config, peers []HomePeer, cluster *cnpgv1.Cluster) topology.Topology {
	if len(peers) == 0 {
		return topology.Standalone
	}
	self := TopologyName(coop.Name, hub.Region)
	primaryRegion, _, _ := primaryStep(coop, hub, peers, cluster)
	if primaryRegion == "" {
		// The primary is at a peer this hub does not know (yet): run nothing here.
		return topology.Topology{Primary: false}
	}
	source := ""
	if primaryRegion != hub.Region {
		source = TopologyName(coop.Name, primaryRegion)
	}
	serverName := coop.Status.Database.ServerName
	if serverName == "" {
		serverName = coop.Name
	}
	t := topology.Topology{Primary: primaryRegion == hub.Region}
	t.ExternalClusters = append(t.ExternalClusters, barmanExternalCluster(self, coopv1.ObjectStoreName(coop), serverName))
	for _, p := range peers {
		if p.Archive == "" {
			continue
		}
		name := TopologyName(coop.Name, p.Region)
		if source == "" {
			source = name
		}
		t.ExternalClusters = append(t.ExternalClusters, barmanExternalCluster(name, SourceObjectStoreName(coop.Name, p.Region), coop.Name))
		t.Objects = append(t.Objects, BuildSourceSecret(coop, p.Region, p.ArchiveCredentials),
			BuildSourceObjectStore(coop, p.Region, p.Archive, hub.ObjectStore.EndpointURL))
	}
	if source == "" || !hasExternal(t.ExternalClusters, source) {
		// No peer archive known yet: the topology cannot name a source; stay standalone
		// until a switchover needs it.
		if t.Primary {
			return topology.Standalone
		}
		return t
	}
	t.Replica = &cnpgv1.ReplicaClusterConfiguration{Self: self, Primary: TopologyName(coop.Name, primaryRegion), Source: source}
	if heldBy := primaryHolder(coop, cluster); t.Primary && heldBy != "" && heldBy != self && hasExternal(t.ExternalClusters, heldBy) {
		// Back home after a switchover: promote with the demotion token of the peer that
		// held the primary, replaying its archive up to it; until it has published one,
		// keep following it.
		for _, p := range peers {
			if TopologyName(coop.Name, p.Region) != heldBy {
				continue
			}
			t.Replica.Source = heldBy
			if p.DemotionToken == "" {
				t.Replica.Primary = heldBy
				t.Primary = false
				break
			}
			t.Replica.PromotionToken = p.DemotionToken
			t.Primary = promoted(cluster, p.DemotionToken)
		}
	}
	return t
}

// primaryHolder is the topology name of the member whose copy holds, or last held, the
// primary as this hub knows it: the one the Cluster follows, as applied, else the last
// switchover's (recorded once the home saw that copy promoted); "" when neither says.
func primaryHolder(coop *coopv1.Cooperative, cluster *cnpgv1.Cluster) string {
	if f := followedMember(cluster); f != "" {
		return f
	}
	if fed := coop.Status.Federation; fed != nil && fed.LastSwitchover != nil && fed.LastSwitchover.To != "" {
		return TopologyName(coop.Name, fed.LastSwitchover.To)
	}
	return ""
}

// primaryStep is the region a home co-op's primary goes to now: the region of the peer
// spec.federation.primary names, the home's when it names none; "" for a peer this hub
// does not know. The other peers' copies follow the home's archive, where the last WAL of
// a copy that holds the primary at a peer arrives only while the home follows that copy:
// such a copy hands the primary back to the home alone, with its demotion token. A
// switchover from one peer to another therefore goes through the home: the primary comes
// home first, then goes on to the peer asked (via, its region, while the home takes it).
//
// The primary goes to a peer only once its copy there can take it (HomePeer.Ready): a
// home demoted toward a standby that was refused, has no credentials, or never restored
// would leave no primary anywhere. Until then it stays here, and waiting is the peer's
// name. A switchover under way goes on whatever the peer reports meanwhile (an unreachable
// moment): the home already told the peers (status primaryRegion), or its Cluster already
// follows that copy, or that copy holds the primary (the last switchover went there).
func primaryStep(coop *coopv1.Cooperative, hub *hubconfig.Config, peers []HomePeer, cluster *cnpgv1.Cluster) (region, via, waiting string) {
	asked := hub.Region
	var target *HomePeer
	if coop.Spec.Federation.Primary != "" {
		asked = ""
		for i := range peers {
			if peers[i].Name == coop.Spec.Federation.Primary {
				asked, target = peers[i].Region, &peers[i]
			}
		}
	}
	if asked == "" || asked == hub.Region {
		return asked, "", ""
	}
	heldBy := primaryHolder(coop, cluster)
	for _, p := range peers {
		if p.Region != asked && TopologyName(coop.Name, p.Region) == heldBy {
			return hub.Region, asked, ""
		}
	}
	underWay := heldBy == TopologyName(coop.Name, asked) ||
		(coop.Status.Federation != nil && coop.Status.Federation.PrimaryRegion == asked)
	if !target.Ready && !underWay {
		return hub.Region, "", target.Name
	}
	return asked, "", ""
}

// WaitingForStandbyMessage says why the primary stays at home although
// spec.federation.primary names a peer: its copy there cannot take it yet.
func WaitingForStandbyMessage(p HomePeer) string {
	why := fmt.Sprintf("it is %s", p.State)
	switch {
	case p.State == "":
		why = "nothing is mirrored there yet"
	case p.State == coopv1.StandbyMirrored && p.Role == "":
		why = "its replica Cluster is not restored and healthy yet"
	case p.State == coopv1.StandbyMirrored:
		why = fmt.Sprintf("it reports role %s", p.Role)
	}
	if p.Message != "" {
		why += ": " + p.Message
	}
	return text.Truncate(fmt.Sprintf("waiting for the standby at %s (region %s) to be ready before handing it the primary, which stays here meanwhile: %s", p.Name, p.Region, why), maxMessage)
}

// maxMessage is the longest status.federation.message the CRD takes.
const maxMessage = 1024

func hasExternal(ecs []cnpgv1.ExternalCluster, name string) bool {
	return slices.ContainsFunc(ecs, func(ec cnpgv1.ExternalCluster) bool { return ec.Name == name })
}

func barmanExternalCluster(name, store, serverName string) cnpgv1.ExternalCluster {
	return cnpgv1.ExternalCluster{
		Name: name,
		PluginConfiguration: &cnpgv1.PluginConfiguration{
			Name:       coopv1.BarmanPluginName,
			Parameters: map[string]string{"barmanObjectName": store, "serverName": serverName},
		},
	}
}

func childMeta(coop *coopv1.Cooperative, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:            name,
		Namespace:       coop.NamespaceName(),
		Labels:          map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue, coopv1.LabelCooperative: coop.Name},
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(coop, coopv1.GroupVersion.WithKind("Cooperative"))},
	}
}

// BuildSourceSecret copies the credentials that read another region's archive of the co-op
// into its namespace; nil when there are none yet.
func BuildSourceSecret(coop *coopv1.Cooperative, region string, source *corev1.Secret) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: childMeta(coop, SourceSecretName(coop.Name, region)), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{}}
	if source != nil {
		for _, k := range []string{coopv1.AccessKeyIDKey, coopv1.AccessSecretKeyKey} {
			s.Data[k] = source.Data[k]
		}
	}
	return s
}

// BuildSourceObjectStore reads another region's archive of the co-op. It never writes
// there: it is named only by external clusters, never as the WAL archiver.
func BuildSourceObjectStore(coop *coopv1.Cooperative, region, destination, endpoint string) *barmanv1.ObjectStore {
	secret := SourceSecretName(coop.Name, region)
	return &barmanv1.ObjectStore{
		ObjectMeta: childMeta(coop, SourceObjectStoreName(coop.Name, region)),
		Spec: barmanv1.ObjectStoreSpec{
			Configuration: barmanapi.BarmanObjectStoreConfiguration{
				DestinationPath: destination,
				EndpointURL:     endpoint,
				BarmanCredentials: barmanapi.BarmanCredentials{AWS: &barmanapi.S3Credentials{
					AccessKeyIDReference:     &machineryapi.SecretKeySelector{LocalObjectReference: machineryapi.LocalObjectReference{Name: secret}, Key: coopv1.AccessKeyIDKey},
					SecretAccessKeyReference: &machineryapi.SecretKeySelector{LocalObjectReference: machineryapi.LocalObjectReference{Name: secret}, Key: coopv1.AccessSecretKeyKey},
				}},
			},
		},
	}
}

// PeerArchive is where a co-op's copy at a peer archives: <bucket>/<region>/<co-op>/.
func PeerArchive(bucket, region, coop string) string {
	if bucket == "" {
		return ""
	}
	return strings.TrimRight(bucket, "/") + "/" + region + "/" + coop + "/"
}

// Topology implements topology.Federation for the Cooperative reconciler.
func (r *CooperativeReconciler) Topology(ctx context.Context, coop *coopv1.Cooperative) (topology.Topology, error) {
	var peers coopv1.FederationPeerList
	if err := r.Client.List(ctx, &peers); err != nil {
		return topology.Topology{}, fmt.Errorf("listing FederationPeers: %w", err)
	}
	cluster, err := r.localCluster(ctx, coop)
	if err != nil {
		return topology.Topology{}, err
	}
	if coop.Spec.Standby == nil {
		return HomeTopology(coop, &r.Hub, r.homePeers(ctx, coop, peers.Items), cluster), nil
	}
	// Admit counts only the standbys of the same home region, which carry its label.
	var coops coopv1.CooperativeList
	if err := r.Client.List(ctx, &coops, client.MatchingLabels{coopv1.LabelMirroredFrom: coop.Spec.Standby.HomeRegion}); err != nil {
		return topology.Topology{}, fmt.Errorf("listing co-ops: %w", err)
	}
	adm := Admit(coop, r.Hub.Region, peers.Items, coops.Items)
	if adm.Refusal != "" {
		return topology.Topology{Refused: true, Message: adm.Refusal}, nil
	}
	var creds corev1.Secret
	key := client.ObjectKey{Namespace: coopv1.MirrorNamespace(coop.Spec.Standby.HomeRegion), Name: coop.Spec.Standby.ObjectStore.SecretName}
	credsPtr := &creds
	if err := r.Client.Get(ctx, key, &creds); err != nil {
		if !apierrors.IsNotFound(err) {
			return topology.Topology{}, fmt.Errorf("reading the home archive's credentials %s: %w", key, err)
		}
		credsPtr = nil
	}
	return StandbyTopology(coop, r.Hub.Region, adm.Peer, credsPtr, cluster), nil
}

// homePeers resolves the co-op's listed standby peers.
func (r *CooperativeReconciler) homePeers(ctx context.Context, coop *coopv1.Cooperative, peers []coopv1.FederationPeer) []HomePeer {
	var out []HomePeer
	for _, ref := range coop.Spec.Federation.Peers {
		if ref.Mode != "" && ref.Mode != coopv1.FederationModeStandby {
			continue
		}
		for i := range peers {
			p := &peers[i]
			if p.Name != ref.Name {
				continue
			}
			hp := HomePeer{Name: p.Name, Region: p.Spec.Region, Archive: PeerArchive(p.Status.BackupDestination, p.Spec.Region, coop.Name)}
			var creds corev1.Secret
			if err := r.Client.Get(ctx, client.ObjectKey{Namespace: r.Hub.OperatorNamespace, Name: PeerArchiveSecretName(p.Name)}, &creds); err == nil {
				hp.ArchiveCredentials = &creds
			}
			if coop.Status.Federation != nil {
				for _, st := range coop.Status.Federation.Standbys {
					if st.Peer == p.Name {
						hp.DemotionToken = st.DemotionToken
						hp.Ready, hp.State, hp.Role, hp.Message = ReadyToTakeOver(st), st.State, st.Role, st.Message
					}
				}
			}
			out = append(out, hp)
		}
	}
	return out
}

func (r *CooperativeReconciler) localCluster(ctx context.Context, coop *coopv1.Cooperative) (*cnpgv1.Cluster, error) {
	var cluster cnpgv1.Cluster
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: coopv1.ClusterName(coop)}, &cluster); err != nil {
		if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading the Cluster: %w", err)
	}
	return &cluster, nil
}
