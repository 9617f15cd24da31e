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

package v1alpha1

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SecretKeyRef names one key of a Secret in the operator's namespace.
type SecretKeyRef struct {
	// name of the Secret, in the operator's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// key in the Secret's data.
	// +optional
	// +kubebuilder:default=kubeconfig
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key,omitempty"`
}

// FederationAccept is what this hub accepts from a peer hub.
// +kubebuilder:validation:XValidation:rule="!self.standbys || (has(self.plan) && size(self.plan) > 0)",message="plan is required when standbys are accepted: it sets the quota of every standby from this peer",fieldPath=".plan"
// +kubebuilder:validation:XValidation:rule="!has(self.moves) || !self.moves || (has(self.standbys) && self.standbys)",message="moves need standbys: a co-op moves here through its standby",fieldPath=".moves"
type FederationAccept struct {
	// standbys: whether this hub keeps standbys of the peer's co-ops. A standby from a peer
	// that this hub does not accept standbys from is refused and nothing is created for it.
	// +optional
	Standbys bool `json:"standbys,omitempty"`

	// maxCooperatives is how many standbys of the peer's co-ops this hub keeps at most; the
	// ones beyond are refused. 0 means none.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	MaxCooperatives int32 `json:"maxCooperatives,omitempty"`

	// plan is the HostingPlan of this hub that sets the quota of every standby from the peer,
	// whatever plan the co-op has at home.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Plan string `json:"plan,omitempty"`

	// moves: whether this hub adopts the co-ops the peer moves here (`cooperator federation
	// move`). Once such a co-op's standby here holds the primary and its home releases it
	// (spec.standby.release), this hub's operator makes it this hub's own co-op: it drops
	// spec.standby, puts it on plan, and records status.origin. Without it a released
	// standby stays a standby, and its home is told this hub does not accept moves.
	// +optional
	Moves bool `json:"moves,omitempty"`
}

// FederationPeerSpec is another region's hub and the consent given to it.
type FederationPeerSpec struct {
	// region of the peer hub, such as eu-south. It names the peer in every standby it sends
	// here and in the topology of the co-ops' databases. Immutable. Not backups
	// (ReservedRegions): a co-op's objects that read a region's archive are named
	// <co-op>-<region>, and <co-op>-backups is the co-op's own backup ObjectStore.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="region is immutable: standbys and database topologies are named after it"
	// +kubebuilder:validation:XValidation:rule="self != 'backups'",message="region may not be backups: a co-op's ObjectStore that reads a region's archive is named <co-op>-<region>, and <co-op>-backups is the co-op's own backup ObjectStore"
	Region string `json:"region"`

	// kubeconfigSecretRef is the Secret, in the operator's namespace, holding a kubeconfig for
	// the peer hub's API. The peer grants it the ClusterRole cooperator-federation-peer
	// (config/rbac/federation_peer_role.yaml) and nothing more: the operator refuses
	// credentials that can do more.
	// +required
	KubeconfigSecretRef SecretKeyRef `json:"kubeconfigSecretRef"`

	// operatorNamespace is the namespace of the peer's operator, where it publishes the
	// ConfigMap cooperator-info.
	// +optional
	// +kubebuilder:default=cooperator-system
	// +kubebuilder:validation:MaxLength=63
	OperatorNamespace string `json:"operatorNamespace,omitempty"`

	// accept is what this hub accepts from the peer.
	// +optional
	Accept FederationAccept `json:"accept,omitempty,omitzero"`
}

// FederationPeerStatus is what the operator observed of the peer.
type FederationPeerStatus struct {
	// observedGeneration is the generation of the spec this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Reachable, CredentialsScoped, and Ready that summarises them.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// operatorVersion is the version of the peer's operator, from its ConfigMap
	// cooperator-info.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	OperatorVersion string `json:"operatorVersion,omitempty"`

	// lastContact is when the peer's API last answered.
	// +optional
	LastContact *metav1.Time `json:"lastContact,omitempty"`

	// consecutiveFailures counts the failed contacts since the last one that worked; the wait
	// before the next attempt grows with it.
	// +optional
	ConsecutiveFailures int32 `json:"consecutiveFailures,omitempty"`

	// mirroredTo is how many co-ops of this hub keep a standby at the peer.
	// +optional
	MirroredTo int32 `json:"mirroredTo,omitempty"`

	// mirroredFrom is how many standbys of the peer's co-ops this hub keeps.
	// +optional
	MirroredFrom int32 `json:"mirroredFrom,omitempty"`

	// region the peer's operator says it runs in; it must equal spec.region.
	// +optional
	// +kubebuilder:validation:MaxLength=40
	Region string `json:"region,omitempty"`

	// backupDestination is the peer hub's bucket, from its cooperator-info: a co-op's standby
	// there archives under <backupDestination>/<region>/<co-op>/ once it is promoted.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	BackupDestination string `json:"backupDestination,omitempty"`

	// moves are the co-ops moved between this hub and the peer (`cooperator federation
	// move`): the most recent MaxMoveRecords, the latest last. The record stays here once the
	// moved co-op is gone from its old home.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=20
	Moves []MoveRecord `json:"moves,omitempty"`
}

// MaxMoveRecords is how many moves a FederationPeer's status keeps.
const MaxMoveRecords = 20

// MoveDirection says which way a co-op moved between this hub and a peer.
// +kubebuilder:validation:Enum=ToPeer;FromPeer
type MoveDirection string

// The directions of a move.
const (
	// MoveToPeer: a co-op of this hub moved to the peer, which adopted it.
	MoveToPeer MoveDirection = "ToPeer"
	// MoveFromPeer: this hub adopted a co-op the peer released.
	MoveFromPeer MoveDirection = "FromPeer"
)

// MoveRecord is one co-op moved between this hub and a peer.
type MoveRecord struct {
	// cooperative is the co-op's name (the same on both hubs).
	// +required
	// +kubebuilder:validation:MaxLength=63
	Cooperative string `json:"cooperative"`

	// direction of the move.
	// +required
	Direction MoveDirection `json:"direction"`

	// time the adoption was recorded: on the hub it moved to, when it adopted the co-op; on
	// its old home, when the home saw the adoption.
	// +required
	Time metav1.Time `json:"time"`
}

// FederationPeer is another region's hub cluster and the consent given to it. A co-op of
// this hub that lists the peer gets a standby there; this hub keeps standbys of the peer's
// co-ops only as far as spec.accept allows.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=fedpeer,categories=cooperator
// +kubebuilder:printcolumn:name="Region",type=string,JSONPath=`.spec.region`
// +kubebuilder:printcolumn:name="Reachable",type=string,JSONPath=`.status.conditions[?(@.type=="Reachable")].status`
// +kubebuilder:printcolumn:name="Scoped",type=string,JSONPath=`.status.conditions[?(@.type=="CredentialsScoped")].status`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.status.operatorVersion`,priority=1
// +kubebuilder:printcolumn:name="To",type=integer,JSONPath=`.status.mirroredTo`
// +kubebuilder:printcolumn:name="From",type=integer,JSONPath=`.status.mirroredFrom`
// +kubebuilder:printcolumn:name="Last Contact",type=date,JSONPath=`.status.lastContact`
type FederationPeer struct {
	metav1.TypeMeta `json:",inline"`

	// metadata of the object.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the peer and the consent given to it.
	// +required
	Spec FederationPeerSpec `json:"spec"`

	// status is what the operator observed of the peer.
	// +optional
	Status FederationPeerStatus `json:"status,omitempty,omitzero"`
}

// +kubebuilder:object:root=true

// FederationPeerList is a list of FederationPeers.
type FederationPeerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FederationPeer `json:"items"`
}

func init() {
	SchemeBuilder.Register(&FederationPeer{}, &FederationPeerList{})
}

// Condition types of a FederationPeer.
const (
	// ConditionReachable: the peer's API answered the last contact.
	ConditionReachable = "Reachable"
	// ConditionCredentialsScoped: the peer credentials can do what federation needs and no
	// more of what was checked.
	ConditionCredentialsScoped = "CredentialsScoped"
)

// ConditionFederationReady on a Cooperative: its standbys are mirrored at every listed peer
// (on the home hub), or the standby follows its home (on a peer), and no switchover is under
// way. The federation controller writes it under its own field owner; Ready does not
// summarise it, so an unreachable peer never makes a co-op unready at home.
const ConditionFederationReady = "FederationReady"

// Reasons of the federation conditions, on FederationPeers and Cooperatives.
const (
	// ReasonPeerNotReady: a listed peer is unreachable or not ready, so its standby is not
	// up to date.
	ReasonPeerNotReady = "PeerNotReady"
	// ReasonSwitchingOver: the primary is moving between regions.
	ReasonSwitchingOver = "SwitchingOver"
	// ReasonSplitPrimary: another region reports that it holds the primary too (after a
	// failover); an admin must resolve it.
	ReasonSplitPrimary = "SplitPrimary"
	// ReasonPrimaryHeldAtPeer: the home's copy is Held (RoleHeld).
	ReasonPrimaryHeldAtPeer = "PrimaryHeldAtPeer"
	// ReasonMoving: the co-op moves to a peer hub (`cooperator federation move`): the
	// switchover or the release is under way; the message says what it waits for.
	ReasonMoving = "Moving"
	// ReasonMoved: the peer hub adopted the co-op; the copy here waits to be deleted.
	ReasonMoved = "Moved"
	// ReasonMoveRefused: the move cannot go on as asked (a peer the co-op does not list, a
	// primary asked elsewhere); the message says why.
	ReasonMoveRefused = "MoveRefused"
	// ReasonAdopted: on the hub a co-op moved to, the event of its adoption.
	ReasonAdopted = "Adopted"
	// ReasonPeerNotDeclared: the co-op lists a peer this hub declares no FederationPeer of
	// (never, or no longer); a standby written there before is left as it was.
	ReasonPeerNotDeclared = "PeerNotDeclared"
	// ReasonContacted: the peer's API answered.
	ReasonContacted = "Contacted"
	// ReasonUnreachable: the peer's API did not answer; the message says why.
	ReasonUnreachable = "Unreachable"
	// ReasonKubeconfigInvalid: the kubeconfig Secret is missing or cannot be used.
	ReasonKubeconfigInvalid = "KubeconfigInvalid"
	// ReasonOverPrivileged: the peer credentials can do more than federation needs; the
	// message names what. The operator sends nothing through them.
	ReasonOverPrivileged = "OverPrivileged"
	// ReasonScoped: the peer credentials can do nothing beyond what federation needs, of
	// what was checked.
	ReasonScoped = "Scoped"
	// ReasonRegionMismatch: the peer's operator says it runs in another region than
	// spec.region.
	ReasonRegionMismatch = "RegionMismatch"
	// ReasonMissingPermissions: the peer credentials cannot do what federation needs; the
	// message names what.
	ReasonMissingPermissions = "MissingPermissions"
	// ReasonOperatorInfoMissing: the peer answers but its operator publishes no
	// cooperator-info (not running yet, not installed, or an older version), so its region
	// and backup bucket are unknown and no standby is sent to it.
	ReasonOperatorInfoMissing = "OperatorInfoMissing"
	// ReasonStandbyRefused: this hub refused a standby Cooperative; the message says why.
	ReasonStandbyRefused = "StandbyRefused"
	// ReasonReplicaNotReady: on a standby, its replica Cluster does not exist yet, or
	// CloudNativePG does not report it restored from the home archive and healthy: it
	// cannot take the primary, and has no role yet. The message says what CloudNativePG
	// reports. Its home reports it as PeerNotReady, and switches over to it only once it is
	// ready.
	ReasonReplicaNotReady = "ReplicaNotReady"
	// ReasonStandbyBackupLimited (an event at home): the co-op's backup schedule or retention
	// is beyond what a co-op may set for itself (the home hub granted it), and its standbys
	// at peer hubs get the limit instead; status.federation.standbys says so too.
	ReasonStandbyBackupLimited = "StandbyBackupLimited"
)

// A peer hub's identity at this hub: the user cooperator-peer-<region>, or the
// ServiceAccount <region> of namespace cooperator-peers. The ValidatingAdmissionPolicy of
// config/rbac/federation_peer_role.yaml matches both (test/deploy checks that it names
// these); the webhook lets no co-op name such a user as admin.
const (
	PeerUserPrefix              = "cooperator-peer-"
	PeerServiceAccountNamespace = "cooperator-peers"
	// PeerPolicyRefusal is in the message of that policy's refusal of a write by a peer
	// identity to a Cooperative that is no standby of its region: the peer's operator tells
	// it from a refusal by RBAC.
	PeerPolicyRefusal = "may write only standby Cooperatives mirrored from its region"
)

// PeerIdentity says whether a user name is a peer hub's identity at this hub (the user
// PeerUserPrefix<region>, or a ServiceAccount of namespace PeerServiceAccountNamespace),
// as the ValidatingAdmissionPolicy of config/rbac/federation_peer_role.yaml matches it.
func PeerIdentity(username string) bool {
	return strings.HasPrefix(username, PeerUserPrefix) ||
		strings.HasPrefix(username, "system:serviceaccount:"+PeerServiceAccountNamespace+":")
}

// Labels and annotations of federation.
const (
	// LabelMirroredFrom is on every standby Cooperative and peer Secret a hub writes at a
	// peer: the region of the home hub.
	LabelMirroredFrom = "coop.cooperator.dev/mirrored-from"
	// AnnotationFailover on a standby Cooperative, set by `cooperator federation failover`,
	// promotes it without waiting for the home hub; only this hub's admins may set it (not
	// the home hub's identity here), and the operator removes it once the home names this
	// region the primary, so that the copy follows what the home asks from then on (the
	// primary back, say). On a home Cooperative whose Cluster
	// follows a peer's copy after a switchover (with spec.federation.primary cleared), it
	// promotes the home without that copy's token; the operator removes it once the home
	// holds the primary. Its value must be AcceptDataLoss.
	AnnotationFailover = "coop.cooperator.dev/failover"
	// AnnotationMoveTo on a home Cooperative, set by `cooperator federation move`, names the
	// FederationPeer the co-op moves to: once the switchover to it is complete, the home
	// releases the standby there, which that hub adopts if it accepts moves. Only someone
	// who may delete the Cooperative may set, change or remove it (the webhook asks the API
	// server): a move ends with its deletion here.
	AnnotationMoveTo = "coop.cooperator.dev/move-to"
	// AnnotationDeleteBeforeMovedBackup on a Cooperative that moved to a peer hub lets its
	// deletion here with deletionPolicy Delete go on before its copy at that hub reports a
	// completed base backup (status.lastBackup there): until then this hub's database and
	// archive are the only way back if that copy fails, and the deletion waits. For a peer
	// gone for good: only someone who may delete the Cooperative (the hub's admins) may set,
	// change or remove it. Its value must be AcceptDataLoss.
	AnnotationDeleteBeforeMovedBackup = "coop.cooperator.dev/delete-before-moved-copy-backup"
	// AcceptDataLoss is the value of AnnotationFailover and of
	// AnnotationDeleteBeforeMovedBackup.
	AcceptDataLoss = "accept-data-loss"
	// InfoConfigMapName is the ConfigMap, in the operator's namespace, where the operator
	// publishes its version and region for its peers.
	InfoConfigMapName = "cooperator-info"
	// MirrorNamespacePrefix starts the namespace, on a hub, where a peer from region R
	// writes the object store credentials of its standbys: cooperator-from-R.
	MirrorNamespacePrefix = "cooperator-from-"
)

// MirrorNamespace is the namespace where a peer of the given region writes Secrets.
func MirrorNamespace(region string) string { return MirrorNamespacePrefix + region }

// StandbyObjectStore is where a standby reads the home co-op's WAL and base backups.
type StandbyObjectStore struct {
	// destinationPath of the home co-op's backups, such as s3://bucket/eu-west/fairride/.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	DestinationPath string `json:"destinationPath"`

	// endpointURL of an S3-compatible service; empty for AWS S3.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	EndpointURL string `json:"endpointURL,omitempty"`

	// secretName is the Secret, in this hub's namespace cooperator-from-<homeRegion>, with
	// the keys ACCESS_KEY_ID and ACCESS_SECRET_KEY that read the home co-op's backups.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	SecretName string `json:"secretName"`
}

// StandbySpec marks a Cooperative as the standby of a co-op of another region's hub. The
// home hub writes it; this hub keeps it only if it declared the home hub as a FederationPeer
// that accepts standbys.
// +kubebuilder:validation:XValidation:rule="self.homeRegion == oldSelf.homeRegion && self.homeCooperative == oldSelf.homeCooperative",message="homeRegion and homeCooperative are immutable"
// +kubebuilder:validation:XValidation:rule="!has(self.release) || self.primaryRegion != self.homeRegion",message="a standby is released only once the primary is asked here (a switchover comes first)",fieldPath=".release"
type StandbySpec struct {
	// homeRegion is the region of the home hub. Not backups (ReservedRegions), as
	// FederationPeer's spec.region.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="self != 'backups'",message="homeRegion may not be backups: a standby's ObjectStore that reads its home archive is named <co-op>-<homeRegion>, and <co-op>-backups is the co-op's own backup ObjectStore"
	HomeRegion string `json:"homeRegion"`

	// homeCooperative is the name of the co-op at home.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=50
	HomeCooperative string `json:"homeCooperative"`

	// primaryServerName is the folder of the home archive that the standby follows.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	PrimaryServerName string `json:"primaryServerName"`

	// objectStore is where the standby reads the home co-op's backups.
	// +required
	ObjectStore StandbyObjectStore `json:"objectStore"`

	// consentedRegions are the regions of the peers the home co-op lists: a hub keeps a
	// standby only when its own region is among them.
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:items:MaxLength=40
	ConsentedRegions []string `json:"consentedRegions"`

	// primaryRegion is the region that holds the co-op's primary database: the home region,
	// or this hub's region after a switchover.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	PrimaryRegion string `json:"primaryRegion"`

	// promotionToken is CloudNativePG's demotion token of the home Cluster, passed on a
	// switchover: the standby promotes once it has replayed up to it.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	PromotionToken string `json:"promotionToken,omitempty"`

	// release is set by the home hub when the co-op moves here (`cooperator federation
	// move`): the home lets go of it. This hub adopts it if its FederationPeer of the home
	// region accepts moves (spec.accept.moves), once this copy holds the primary.
	// +optional
	Release *StandbyRelease `json:"release,omitempty"`
}

// StandbyRelease is the home hub's release of a co-op to the hub that keeps its standby.
type StandbyRelease struct {
	// deletionPolicy is the co-op's own deletion policy at home, which it keeps once adopted
	// (a standby's own policy follows its role).
	// +required
	DeletionPolicy DeletionPolicy `json:"deletionPolicy"`
}

// FederationRole is what a hub's copy of a co-op is.
// +kubebuilder:validation:Enum=Primary;Standby;Demoting;Promoting;Held
type FederationRole string

// The roles.
const (
	// RolePrimary: this copy holds the primary database and runs the platform.
	RolePrimary FederationRole = "Primary"
	// RoleStandby: this copy follows the primary and runs no platform.
	RoleStandby FederationRole = "Standby"
	// RoleDemoting: a switchover away from this copy is under way.
	RoleDemoting FederationRole = "Demoting"
	// RolePromoting: a switchover to this copy is under way.
	RolePromoting FederationRole = "Promoting"
	// RoleHeld: the home's copy follows a peer's copy that holds the primary, and stays a
	// replica: it is promoted only with that copy's demotion token, which it cannot ask
	// for (the co-op no longer lists the peer, the hub no longer declares it, or the peer
	// has not said where its copy archives). It runs no platform.
	RoleHeld FederationRole = "Held"
)

// StandbyState is how a co-op's standby at one peer stands.
// +kubebuilder:validation:Enum=Mirrored;Waiting;Refused;Unreachable;Undeclared;CredentialsMissing;Moved;Removing
type StandbyState string

// The standby states.
const (
	// StandbyMirrored: the standby is written at the peer and up to date with the spec.
	StandbyMirrored StandbyState = "Mirrored"
	// StandbyWaiting: the peer is not ready (credentials, first contact) or the co-op has no
	// backup location yet.
	StandbyWaiting StandbyState = "Waiting"
	// StandbyRefused: the peer refused the standby; the message says why.
	StandbyRefused StandbyState = "Refused"
	// StandbyUnreachable: the peer's API did not answer; nothing is removed meanwhile.
	StandbyUnreachable StandbyState = "Unreachable"
	// StandbyUndeclared: this hub declares no FederationPeer of that name (never, or no
	// longer: deleted). Nothing is sent; a standby this hub wrote there before is left in
	// place, neither updated nor removed, and region and lastSync still say where and when.
	StandbyUndeclared StandbyState = "Undeclared"
	// StandbyCredentialsMissing: the hub has not created the co-op's read-only object store
	// Secret (<prefix><co-op>-read in the operator namespace; the message names it). Nothing
	// is sent to the peer: peers get only read-only credentials of the co-op itself.
	StandbyCredentialsMissing StandbyState = "CredentialsMissing"
	// StandbyMoved: the peer adopted the co-op (`cooperator federation move`): its copy there
	// is that hub's own co-op now, and this hub neither updates nor removes it.
	StandbyMoved StandbyState = "Moved"
	// StandbyRemoving: the co-op no longer lists the peer, and the standby this hub wrote
	// there is not removed yet (the peer is not ready, did not answer, or refused); the
	// operator tries again at each recheck, and the message says what failed.
	StandbyRemoving StandbyState = "Removing"
)

// MovePhase is where a move of a co-op to a peer hub stands.
// +kubebuilder:validation:Enum=SwitchingOver;Releasing;Released;Refused
type MovePhase string

// The phases of a move.
const (
	// MoveSwitchingOver: the home waits for the switchover to the peer to complete.
	MoveSwitchingOver MovePhase = "SwitchingOver"
	// MoveReleasing: the home released the standby and waits for the peer to adopt it.
	MoveReleasing MovePhase = "Releasing"
	// MoveReleased: the peer adopted the co-op; the home's copy waits to be deleted.
	MoveReleased MovePhase = "Released"
	// MoveRefused: the move cannot go on as asked; the message says why.
	MoveRefused MovePhase = "Refused"
)

// MoveStatus is a move of the co-op to a peer hub, on the home hub.
type MoveStatus struct {
	// peer is the FederationPeer the co-op moves to.
	// +required
	// +kubebuilder:validation:MaxLength=63
	Peer string `json:"peer"`

	// region of the peer.
	// +optional
	// +kubebuilder:validation:MaxLength=40
	Region string `json:"region,omitempty"`

	// phase of the move.
	// +required
	Phase MovePhase `json:"phase"`

	// message says what the move waits for, or why it cannot go on.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`

	// releasedAt is when the peer was seen to have adopted the co-op.
	// +optional
	ReleasedAt *metav1.Time `json:"releasedAt,omitempty"`
}

// PeerStandbyStatus is a co-op's standby at one peer, as its home hub sees it.
type PeerStandbyStatus struct {
	// peer is the FederationPeer.
	// +required
	// +kubebuilder:validation:MaxLength=63
	Peer string `json:"peer"`

	// region of the peer; for a peer no longer declared, the region it had.
	// +optional
	// +kubebuilder:validation:MaxLength=40
	Region string `json:"region,omitempty"`

	// state of the standby.
	// +required
	State StandbyState `json:"state"`

	// role of the copy at the peer, as the peer reports it.
	// +optional
	Role FederationRole `json:"role,omitempty"`

	// message says more, such as why the peer refused the standby, or the backup limits a
	// standby is held to at the peer.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`

	// demotionToken is CloudNativePG's demotion token of the peer's Cluster, once it has
	// been demoted after holding the primary: this hub promotes with it.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	DemotionToken string `json:"demotionToken,omitempty"`

	// lastSync is when the standby was last written or confirmed at the peer.
	// +optional
	LastSync *metav1.Time `json:"lastSync,omitempty"`
}

// ReplicaStatus is what CloudNativePG reports of a standby's replica Cluster.
type ReplicaStatus struct {
	// clusterPhase is the phase CloudNativePG reports.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	ClusterPhase string `json:"clusterPhase,omitempty"`

	// timelineID of the replica Cluster.
	// +optional
	TimelineID int32 `json:"timelineID,omitempty"`

	// lastPromotionToken is the promotion token CloudNativePG last verified.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	LastPromotionToken string `json:"lastPromotionToken,omitempty"`

	// homeArchiveLastBackup is the time of the newest base backup in the home archive, as
	// the Barman Cloud plugin reports it: the standby can be restored at least that far.
	// CloudNativePG reports the replay lag only as a metric
	// (cnpg_pg_replication_lag), not in the Cluster's status.
	// +optional
	HomeArchiveLastBackup *metav1.Time `json:"homeArchiveLastBackup,omitempty"`
}

// SwitchoverRecord is a move of the primary between regions.
type SwitchoverRecord struct {
	// from is the region that held the primary.
	// +optional
	// +kubebuilder:validation:MaxLength=40
	From string `json:"from,omitempty"`

	// to is the region that holds it now.
	// +required
	// +kubebuilder:validation:MaxLength=40
	To string `json:"to"`

	// time the move was recorded.
	// +optional
	Time *metav1.Time `json:"time,omitempty"`

	// withoutToken is true for a failover: the standby promoted without the demotion token,
	// and WAL the home had not archived is lost.
	// +optional
	WithoutToken bool `json:"withoutToken,omitempty"`
}

// FederationStatus is what the operator knows of the co-op's federation.
type FederationStatus struct {
	// role of this hub's copy of the co-op.
	// +optional
	Role FederationRole `json:"role,omitempty"`

	// primaryRegion holds the primary database.
	// +optional
	// +kubebuilder:validation:MaxLength=40
	PrimaryRegion string `json:"primaryRegion,omitempty"`

	// standbys of the co-op at its peers (on the home hub).
	// +optional
	// +listType=map
	// +listMapKey=peer
	// +kubebuilder:validation:MaxItems=8
	Standbys []PeerStandbyStatus `json:"standbys,omitempty"`

	// replica is what CloudNativePG reports of the replica Cluster (on a standby).
	// +optional
	Replica *ReplicaStatus `json:"replica,omitempty"`

	// demotionToken is CloudNativePG's demotion token of this hub's Cluster after it was
	// demoted; the home hub passes it to the copy it promotes.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	DemotionToken string `json:"demotionToken,omitempty"`

	// lastSwitchover is the most recent move of the primary.
	// +optional
	LastSwitchover *SwitchoverRecord `json:"lastSwitchover,omitempty"`

	// move is the co-op's move to a peer hub (annotation coop.cooperator.dev/move-to), on
	// the home hub while it lasts.
	// +optional
	Move *MoveStatus `json:"move,omitempty"`

	// message says what the federation waits for, or "".
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
}
