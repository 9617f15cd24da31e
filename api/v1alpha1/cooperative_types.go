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
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Vertical is the kind of platform a co-op runs.
// +kubebuilder:validation:Enum=delivery;ride-sharing;home-services;care;freelance;marketplace;housing
type Vertical string

// The verticals a Cooperative can declare.
const (
	VerticalDelivery     Vertical = "delivery"
	VerticalRideSharing  Vertical = "ride-sharing"
	VerticalHomeServices Vertical = "home-services"
	VerticalCare         Vertical = "care"
	VerticalFreelance    Vertical = "freelance"
	VerticalMarketplace  Vertical = "marketplace"
	VerticalHousing      Vertical = "housing"
)

// Verticals lists every vertical, in the order the documentation gives them.
var Verticals = []Vertical{
	VerticalDelivery, VerticalRideSharing, VerticalHomeServices, VerticalCare,
	VerticalFreelance, VerticalMarketplace, VerticalHousing,
}

// GovernanceModel is how a co-op decides.
// +kubebuilder:validation:Enum=one-member-one-vote;multi-stakeholder;consent;delegate
type GovernanceModel string

// The governance models.
const (
	// GovernanceOneMemberOneVote gives every member one equal vote.
	GovernanceOneMemberOneVote GovernanceModel = "one-member-one-vote"
	// GovernanceMultiStakeholder weighs each stakeholder class's votes by its weight.
	GovernanceMultiStakeholder GovernanceModel = "multi-stakeholder"
	// GovernanceConsent passes a proposal unless a member stands by an objection.
	GovernanceConsent GovernanceModel = "consent"
	// GovernanceDelegate lets members delegate their vote to another member.
	GovernanceDelegate GovernanceModel = "delegate"
)

// GovernedField names a part of the Cooperative spec that only a passed Proposal may change.
// Each names the spec field of the same name, except federation, which is
// spec.federation.peers: the co-op's consent to send its data to a peer hub. A switchover
// (spec.federation.primary) stays an operational decision of the co-op's admins.
// +kubebuilder:validation:Enum=feeSplit;plan;federation;governance;database;backup;platform;deletionPolicy
type GovernedField string

// The governed fields.
const (
	GovernedFeeSplit       GovernedField = "feeSplit"
	GovernedPlan           GovernedField = "plan"
	GovernedFederation     GovernedField = "federation"
	GovernedGovernance     GovernedField = "governance"
	GovernedDatabase       GovernedField = "database"
	GovernedBackup         GovernedField = "backup"
	GovernedPlatform       GovernedField = "platform"
	GovernedDeletionPolicy GovernedField = "deletionPolicy"
)

// GovernedFields lists every governed field, in the order of the enum.
var GovernedFields = []GovernedField{
	GovernedFeeSplit, GovernedPlan, GovernedFederation, GovernedGovernance,
	GovernedDatabase, GovernedBackup, GovernedPlatform, GovernedDeletionPolicy,
}

// DatabaseTier says where a co-op's PostgreSQL database lives.
// +kubebuilder:validation:Enum=dedicated;shared
type DatabaseTier string

// The database tiers.
const (
	// DatabaseTierDedicated gives the co-op its own CloudNativePG Cluster in its namespace.
	DatabaseTierDedicated DatabaseTier = "dedicated"
	// DatabaseTierShared gives the co-op a database and a role in the hub's shared Cluster.
	DatabaseTierShared DatabaseTier = "shared"
)

// DeletionPolicy says what happens to a co-op's data when its Cooperative is deleted.
// +kubebuilder:validation:Enum=Retain;Delete
type DeletionPolicy string

// The deletion policies.
const (
	// DeletionPolicyRetain takes a final backup before the namespace goes; the object
	// store keeps the data.
	DeletionPolicyRetain DeletionPolicy = "Retain"
	// DeletionPolicyDelete removes everything without a final backup.
	DeletionPolicyDelete DeletionPolicy = "Delete"
)

// FederationMode says what a peer hub keeps for a co-op.
// +kubebuilder:validation:Enum=standby
type FederationMode string

// FederationModeStandby keeps a standby of the co-op, fed from its object store.
const FederationModeStandby FederationMode = "standby"

// Subject is a user, group or service account that administers a co-op. Names starting
// with system: are Kubernetes' own (system:authenticated, system:serviceaccounts,
// system:masters, system:nodes, a ServiceAccount's user name system:serviceaccount:...) and
// are refused: naming one would hand the co-op to every user of the cluster, or to
// identities of other namespaces. A ServiceAccount must be of the co-op's own namespace.
// The hub reserves further users and groups (hub settings reservedUsers and
// reservedGroups), which the validating webhook refuses.
// +kubebuilder:validation:XValidation:rule="self.kind == 'ServiceAccount' ? has(self.__namespace__) : !has(self.__namespace__)",message="namespace is required for a ServiceAccount and not allowed for a User or Group"
// +kubebuilder:validation:XValidation:rule="self.kind == 'ServiceAccount' || !self.name.startsWith('system:')",message="names starting with system: are Kubernetes' own users and groups (such as system:authenticated or system:masters); name the co-op's own admins",fieldPath=".name"
type Subject struct {
	// kind of the subject.
	// +required
	// +kubebuilder:validation:Enum=User;Group;ServiceAccount
	Kind string `json:"kind"`

	// name of the user, group or service account.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// namespace of a ServiceAccount.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
}

// PlatformSpec selects the workloads the co-op runs.
type PlatformSpec struct {
	// template is the name of the PlatformTemplate. Defaults to the hub's template for the
	// co-op's vertical, which has the vertical's name.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Template string `json:"template,omitempty"`

	// version pins the template version. When empty, the template's default version at the
	// time the co-op is created is recorded in status.platform.version and kept: upgrades
	// are explicit, by setting this field.
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9]+\.[0-9]+(\.[0-9]+)?$`
	// +kubebuilder:validation:MaxLength=32
	Version string `json:"version,omitempty"`

	// host is the public host name of the platform. When set, an Ingress routes it to the
	// template's exposed components.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$`
	Host string `json:"host,omitempty"`

	// timeZone is the co-op's time zone, a name of the IANA time zone database under a
	// region (Africa, America, Antarctica, Arctic, Asia, Atlantic, Australia, Europe,
	// Indian, Pacific, Etc) such as Europe/Paris or America/Bogota, or UTC: the platform
	// reads its workers' weekly hours and its fares' windows on that clock and shows its
	// members the times of their app in it. Empty: UTC. The validating webhook checks that
	// the database knows the name; a change moves no hour of a weekly schedule (Monday
	// 09:00 to 17:00 stays Monday 09:00 to 17:00, in the new zone).
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^(UTC|(Africa|America|Antarctica|Arctic|Asia|Atlantic|Australia|Europe|Indian|Pacific|Etc)/[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)?)$`
	TimeZone string `json:"timeZone,omitempty"`
}

// Fund is a named fund that receives a share of every payment.
type Fund struct {
	// name of the fund, such as hardship or reserve.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z][a-z0-9-]*$`
	Name string `json:"name"`

	// basisPoints of each payment's gross amount that go to the fund (100 = 1 %). They are
	// taken out of the platform fee.
	// +required
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	BasisPoints int32 `json:"basisPoints"`
}

// FeeSplit is what happens to each payment on the platform.
// +kubebuilder:validation:XValidation:rule="!has(self.funds) || self.funds.map(f, f.basisPoints).sum() <= self.platformFeeBasisPoints",message="the funds' basis points must add up to at most platformFeeBasisPoints: funds are paid out of the platform fee",fieldPath=".funds"
type FeeSplit struct {
	// platformFeeBasisPoints is the co-op's fee on each payment, in basis points of the
	// gross amount (300 = 3 %).
	// +required
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	PlatformFeeBasisPoints int32 `json:"platformFeeBasisPoints"`

	// funds receive named shares of the platform fee.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	Funds []Fund `json:"funds,omitempty"`

	// surgeToWorkersPercent is the share of surge pricing that goes to the worker.
	// +optional
	// +kubebuilder:default=100
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	SurgeToWorkersPercent *int32 `json:"surgeToWorkersPercent,omitempty"`
}

// StakeholderClass is a class of members with a voting weight.
type StakeholderClass struct {
	// name of the class, such as drivers, riders or staff.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z][a-z0-9-]*$`
	Name string `json:"name"`

	// weight of the class's votes, in percent of the whole.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	Weight int32 `json:"weight"`
}

// Governance holds the co-op's voting rules.
// +kubebuilder:validation:XValidation:rule="self.model != 'multi-stakeholder' || (has(self.stakeholderClasses) && size(self.stakeholderClasses) > 0)",message="stakeholderClasses is required when model is multi-stakeholder",fieldPath=".stakeholderClasses"
// +kubebuilder:validation:XValidation:rule="self.model == 'multi-stakeholder' || !has(self.stakeholderClasses) || size(self.stakeholderClasses) == 0",message="stakeholderClasses is only allowed when model is multi-stakeholder",fieldPath=".stakeholderClasses"
// +kubebuilder:validation:XValidation:rule="!has(self.stakeholderClasses) || size(self.stakeholderClasses) == 0 || self.stakeholderClasses.map(c, c.weight).sum() == 100",message="the weights of the stakeholder classes must add up to 100",fieldPath=".stakeholderClasses"
type Governance struct {
	// model is how the co-op decides.
	// +required
	Model GovernanceModel `json:"model"`

	// quorumPercent of the members (or of the weight) that must vote for a decision to count.
	// +optional
	// +kubebuilder:default=50
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	QuorumPercent int32 `json:"quorumPercent,omitempty"`

	// approvalPercent of the votes cast (or of their weight) that a proposal needs to pass.
	// Not used by the consent model.
	// +optional
	// +kubebuilder:default=50
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	ApprovalPercent int32 `json:"approvalPercent,omitempty"`

	// approvalFraction is the share of the votes cast (or of their weight) a proposal needs
	// to pass, as an exact fraction N/D of whole numbers 1..99, such as 2/3, for the rules
	// a whole percent cannot say: two thirds lies between 66% (which passes 66 yes against
	// 34 no) and 67% (which refuses 2 yes against 1 no). When set, approvalPercent is not
	// used. Not used by the consent model.
	// +optional
	// +kubebuilder:validation:MaxLength=5
	// +kubebuilder:validation:Pattern=`^[1-9][0-9]?/[1-9][0-9]?$`
	// +kubebuilder:validation:XValidation:rule="int(self.split('/')[0]) <= int(self.split('/')[1])",message="approvalFraction N/D must be at most 1: N no greater than D"
	ApprovalFraction string `json:"approvalFraction,omitempty"`

	// stakeholderClasses and their weights; required for multi-stakeholder, not allowed
	// otherwise. Names are unique and weights add up to 100.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=10
	StakeholderClasses []StakeholderClass `json:"stakeholderClasses,omitempty"`

	// governedFields change only through a passed Proposal.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=8
	GovernedFields []GovernedField `json:"governedFields,omitempty"`

	// minimumVotingPeriodHours is the shortest time a proposal stays open in the platform
	// service before it closes and is tallied: 168 (7 days) unless the co-op's rules say
	// otherwise. A proposer may ask for a longer period, never a shorter one.
	// +optional
	// +kubebuilder:default=168
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=8760
	MinimumVotingPeriodHours int32 `json:"minimumVotingPeriodHours,omitempty"`
}

// DatabaseSpec is the co-op's PostgreSQL database.
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.storage) || !has(self.storage) || quantity(string(self.storage)).compareTo(quantity(string(oldSelf.storage))) >= 0",message="storage cannot shrink: a smaller volume would lose data",fieldPath=".storage"
// +kubebuilder:validation:XValidation:rule="!has(self.tier) || self.tier == 'dedicated' || !has(self.instances) || self.instances == 1",message="instances must be 1 on the shared tier: the hub's shared cluster has its own replicas",fieldPath=".instances"
type DatabaseSpec struct {
	// tier says where the database lives: dedicated (its own CloudNativePG Cluster) or
	// shared (a database and a role in the hub's shared Cluster). Immutable.
	// +optional
	// +kubebuilder:default=dedicated
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="tier is immutable: moving between dedicated and shared would lose data"
	Tier DatabaseTier `json:"tier,omitempty"`

	// instances of PostgreSQL (dedicated tier): 1 is a single primary, more add replicas.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=5
	Instances int32 `json:"instances,omitempty"`

	// storage size of each instance's volume (dedicated tier). It can grow, never shrink.
	// +optional
	// +kubebuilder:default="10Gi"
	// +kubebuilder:validation:XValidation:rule="quantity(string(self)).isGreaterThan(quantity('0'))",message="storage must be a positive size such as 10Gi"
	Storage resource.Quantity `json:"storage,omitzero"`

	// postgresVersion is the PostgreSQL major version. It can go up (CloudNativePG upgrades
	// in place), never down.
	// +optional
	// +kubebuilder:default=17
	// +kubebuilder:validation:Enum=15;16;17;18
	// +kubebuilder:validation:XValidation:rule="self >= oldSelf",message="postgresVersion cannot go down"
	PostgresVersion int32 `json:"postgresVersion,omitempty"`
}

// BackupSpec says when the co-op's database is backed up and for how long backups are kept.
type BackupSpec struct {
	// schedule of base backups, as a six-field cron expression with seconds first, as
	// CloudNativePG expects ("0 0 3 * * *" is every day at 03:00).
	// +optional
	// +kubebuilder:default="0 0 3 * * *"
	// +kubebuilder:validation:MaxLength=100
	// +kubebuilder:validation:XValidation:rule="self.split(' ').filter(f, f != '').size() == 6",message="schedule must be a six-field cron expression with seconds first, such as '0 0 3 * * *'"
	Schedule string `json:"schedule,omitempty"`

	// retention of backups and WAL in the object store: a number and d (days), w (weeks)
	// or m (months).
	// +optional
	// +kubebuilder:default="30d"
	// +kubebuilder:validation:Pattern=`^[1-9][0-9]*[dwm]$`
	Retention string `json:"retention,omitempty"`
}

// FederationPeerRef is a peer hub that the co-op consents to.
type FederationPeerRef struct {
	// name of the FederationPeer, as the hub declared it.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`

	// mode is what the peer keeps: standby, a replica of the co-op fed from its backups.
	// +optional
	// +kubebuilder:default=standby
	Mode FederationMode `json:"mode,omitempty"`
}

// FederationSpec lists the peer hubs the co-op consents to. Its data goes to no other.
// +kubebuilder:validation:XValidation:rule="!has(self.primary) || (has(self.peers) && self.peers.exists(p, p.name == self.primary))",message="primary must name a listed peer: a peer that holds the primary cannot be removed",fieldPath=".primary"
type FederationSpec struct {
	// peers this co-op consents to. Names are unique.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=8
	Peers []FederationPeerRef `json:"peers,omitempty"`

	// primary is the peer whose standby holds the primary database after a switchover;
	// empty, the primary is here. Setting it starts a switchover: this hub demotes its
	// Cluster, passes CloudNativePG's demotion token to the peer, and the peer promotes its
	// standby and scales its platform up while this hub scales down. Clearing it moves the
	// primary back the same way.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Primary string `json:"primary,omitempty"`
}

// CooperativeSpec is what a member co-op declares.
// +kubebuilder:validation:XValidation:rule="!has(self.federation) || !has(self.federation.peers) || size(self.federation.peers) == 0 || !has(self.database.tier) || self.database.tier == 'dedicated'",message="federation.peers need database.tier dedicated: a standby replays the co-op's own backups",fieldPath=".federation.peers"
// +kubebuilder:validation:XValidation:rule="has(self.standby) == has(oldSelf.standby) || (has(oldSelf.standby) && has(oldSelf.standby.release))",message="standby cannot be added or removed: a Cooperative is a standby from its creation to its deletion, unless its home released it (a move)",fieldPath=".standby"
// +kubebuilder:validation:XValidation:rule="!has(self.standby) || !has(self.federation) || !has(self.federation.peers) || size(self.federation.peers) == 0",message="a standby lists no peers of its own",fieldPath=".federation.peers"
// +kubebuilder:validation:XValidation:rule="!has(self.standby) || !has(self.admins) || size(self.admins) == 0",message="a standby has no admins: its home co-op's admins are identities of its home hub; this hub's admins set admins once it adopts the co-op (a move)",fieldPath=".admins"
// +kubebuilder:validation:XValidation:rule="!has(self.standby) || !has(self.database.tier) || self.database.tier == 'dedicated'",message="a standby is on database.tier dedicated: it replays its home co-op's backups in a replica Cluster of its own, and its home lists peers only on that tier",fieldPath=".database.tier"
type CooperativeSpec struct {
	// displayName is the co-op's name as people write it.
	// +optional
	// +kubebuilder:validation:MaxLength=100
	DisplayName string `json:"displayName,omitempty"`

	// vertical is the kind of platform the co-op runs. Immutable: it chooses the co-op's
	// platform template (spec.platform.template, governed with platform), and the co-op's
	// data and its members' work are of its vertical.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="vertical is immutable: it chooses the co-op's platform template (governed with spec.platform) and its data and members' work are of that vertical; a co-op of another vertical is a new Cooperative"
	Vertical Vertical `json:"vertical"`

	// plan is the name of the HostingPlan that sets the co-op's quota.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Plan string `json:"plan"`

	// admins are bound to the co-op's admin role in its namespace, and may read and update
	// this Cooperative. No name may start with system: (Kubernetes' own users and groups),
	// a ServiceAccount must be of the co-op's namespace coop-<name>, and the users and
	// groups the hub reserves are refused. A standby has none.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	Admins []Subject `json:"admins,omitempty"`

	// platform selects the co-op's workloads.
	// +optional
	Platform PlatformSpec `json:"platform,omitempty,omitzero"`

	// feeSplit is what happens to each payment on the platform.
	// +required
	FeeSplit FeeSplit `json:"feeSplit"`

	// governance holds the co-op's voting rules.
	// +required
	Governance Governance `json:"governance"`

	// database is the co-op's PostgreSQL database.
	// +optional
	// +kubebuilder:default={}
	Database DatabaseSpec `json:"database,omitzero"`

	// backup says when the database is backed up and how long backups are kept.
	// +optional
	// +kubebuilder:default={}
	Backup BackupSpec `json:"backup,omitzero"`

	// federation lists the peer hubs this co-op consents to.
	// +optional
	Federation FederationSpec `json:"federation,omitempty,omitzero"`

	// deletionPolicy says what happens to the data when this Cooperative is deleted:
	// Retain (a final backup completes first and the object store keeps the data) or
	// Delete (everything goes).
	// +optional
	// +kubebuilder:default=Retain
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// standby marks this Cooperative as the standby of a co-op of another region's hub,
	// written by that hub. Its database is a CloudNativePG replica Cluster that follows the
	// home co-op's object store and its platform runs no replicas until a switchover makes
	// it the primary. Only the operator removes it, when it adopts a standby its home
	// released (a move). A standby is on the dedicated tier (database.tier), and the webhook
	// refuses a new standby of a name whose data this hub retains (a co-op of this hub of
	// that name deleted with deletionPolicy Retain).
	// +optional
	Standby *StandbySpec `json:"standby,omitempty"`

	// suspend stops the reconciliation of this Cooperative while true: the operator changes
	// none of its objects (but the hub status document, which reports it), its standbys at
	// the peers included, and sets Ready (and FederationReady when it lists peers, unless
	// that reports a split primary) to False with reason Suspended, until it is false again
	// (`cooperator suspend` and `cooperator resume` set it). A standby its home hub released
	// to this hub is adopted only once it is resumed (FederationReady False, reason
	// Suspended, says so). Deletion still proceeds.
	// Only who may delete the Cooperative (the hub's admins) may set or clear it.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// Endpoints are where the co-op's services answer.
type Endpoints struct {
	// url of the platform, when spec.platform.host is set.
	// +optional
	URL string `json:"url,omitempty"`

	// database is the host name of the read-write service of the co-op's database.
	// +optional
	Database string `json:"database,omitempty"`
}

// BackupRecord is a backup of the co-op's database.
type BackupRecord struct {
	// name of the Backup object.
	// +required
	Name string `json:"name"`

	// time the backup completed.
	// +optional
	Time *metav1.Time `json:"time,omitempty"`

	// serverName is the server name the backup holds, under which its Cluster archived: a
	// Cluster recovered from it archives under another, and is recovered again from this
	// one until a backup of its own completed.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	ServerName string `json:"serverName,omitempty"`
}

// DatabaseBootstrap says how a dedicated Cluster was initialised.
// +kubebuilder:validation:Enum=initdb;recovery
type DatabaseBootstrap string

// The ways a Cluster is bootstrapped.
const (
	// BootstrapInitDB creates an empty database.
	BootstrapInitDB DatabaseBootstrap = "initdb"
	// BootstrapRecovery restores the database from the co-op's object store.
	BootstrapRecovery DatabaseBootstrap = "recovery"
)

// DatabaseStatus records what the operator knows of the co-op's database.
type DatabaseStatus struct {
	// clusterName is the CloudNativePG Cluster that holds the database: the co-op's own on
	// the dedicated tier, the hub's shared one otherwise.
	// +optional
	ClusterName string `json:"clusterName,omitempty"`

	// serverName is the folder in the object store where the Cluster archives its WAL and
	// base backups. A Cluster recovered from backups archives under a new server name.
	// +optional
	ServerName string `json:"serverName,omitempty"`

	// bootstrap says how the current Cluster was initialised.
	// +optional
	Bootstrap DatabaseBootstrap `json:"bootstrap,omitempty"`

	// recoveredFrom is the server name whose backups the current Cluster was restored from.
	// +optional
	RecoveredFrom string `json:"recoveredFrom,omitempty"`
}

// PlatformStatus records the template in use.
type PlatformStatus struct {
	// template is the PlatformTemplate in use.
	// +optional
	Template string `json:"template,omitempty"`

	// version of the template in use.
	// +optional
	Version string `json:"version,omitempty"`
}

// CooperativeStatus is what the operator observed of a Cooperative.
type CooperativeStatus struct {
	// namespace that holds the co-op's workloads: coop-<name>.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// observedGeneration is the generation of the spec this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: TenancyReady, DatabaseReady, BackupReady, PlatformReady, and Ready that
	// summarises them; Reconciling and Stalled as kstatus reads them.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// endpoints of the co-op's services.
	// +optional
	Endpoints Endpoints `json:"endpoints,omitempty,omitzero"`

	// lastBackup is the most recent completed backup of the database.
	// +optional
	LastBackup *BackupRecord `json:"lastBackup,omitempty"`

	// database records what the operator knows of the database.
	// +optional
	Database DatabaseStatus `json:"database,omitempty,omitzero"`

	// platform records the template in use.
	// +optional
	Platform PlatformStatus `json:"platform,omitempty,omitzero"`

	// federation records the co-op's standbys, its role and its switchovers.
	// +optional
	Federation *FederationStatus `json:"federation,omitempty"`

	// usage is the co-op's metered usage of the last 13 billing periods, written by the
	// metering under its own field owner.
	// +optional
	Usage *UsageStatus `json:"usage,omitempty"`

	// governance records the changes the members passed and the operator applied, written
	// by the governance controller under its own field owner.
	// +optional
	Governance *GovernanceStatus `json:"governance,omitempty"`
	// breakGlass records the changes of governed fields the hub made through its
	// break-glass path rather than by a passed proposal: the most recent
	// MaxBreakGlassRecords, the latest last. The platform shows them to the members.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=20
	BreakGlass []BreakGlassUse `json:"breakGlass,omitempty"`
	// origin records where the co-op came from: for a co-op recreated by `cooperator import`,
	// the archive and when its data was restored, written by the import's restore; for a
	// co-op moved here by `cooperator federation move`, its home region and co-op and when
	// this hub adopted it, written by the federation. Each under its own field owner.
	// +optional
	Origin *ImportOrigin `json:"origin,omitempty"`
	// lastHandledReconcileAt is the value of the annotation
	// coop.cooperator.dev/reconcile-requested-at that the last reconcile handled, so that
	// whoever asked for it (`cooperator reconcile`) sees when it was done.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`
}

// Cooperative is one member co-op: a tenant of the hub with its namespace, database,
// backups and platform workloads.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=coop;coops,categories=cooperator
// +kubebuilder:printcolumn:name="Vertical",type=string,JSONPath=`.spec.vertical`
// +kubebuilder:printcolumn:name="Plan",type=string,JSONPath=`.spec.plan`
// +kubebuilder:printcolumn:name="Tier",type=string,JSONPath=`.spec.database.tier`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Last Backup",type=date,JSONPath=`.status.lastBackup.time`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.status.endpoints.url`,priority=1
// +kubebuilder:printcolumn:name="Suspended",type=boolean,JSONPath=`.spec.suspend`,priority=1
// +kubebuilder:printcolumn:name="Period",type=string,JSONPath=`.status.usage.currentPeriod`,priority=1
// +kubebuilder:printcolumn:name="CPU-h",type=string,JSONPath=`.status.usage.periods[0].cpuCoreHours`,priority=1
// +kubebuilder:printcolumn:name="Amount",type=string,JSONPath=`.status.usage.estimatedAmount`
// +kubebuilder:printcolumn:name="Currency",type=string,JSONPath=`.status.usage.currency`,priority=1
// +kubebuilder:printcolumn:name="Proposal",type=integer,JSONPath=`.status.governance.history[0].id`,priority=1
// +kubebuilder:printcolumn:name="Changed",type=string,JSONPath=`.status.governance.history[0].field`,priority=1
// +kubebuilder:validation:XValidation:rule="!has(self.spec.admins) || self.spec.admins.all(a, a.kind != 'ServiceAccount' || !has(a.__namespace__) || a.__namespace__ == 'coop-' + self.metadata.name)",message="a ServiceAccount admin must be of the co-op's own namespace coop-<name>",fieldPath=".spec.admins"
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 50",message="metadata.name must be at most 50 characters: the namespace is coop-<name> and the database cluster takes the name too"
// +kubebuilder:validation:XValidation:rule="oldSelf.hasValue() || (!self.metadata.name.endsWith('-serving') && !self.metadata.name.endsWith('-read'))",optionalOldSelf=true,message="metadata.name must not end in -serving or -read: the hub names another co-op's serving role and read-only credentials so (ReservedNameSuffixes)"
type Cooperative struct {
	metav1.TypeMeta `json:",inline"`

	// metadata of the object. The name is a DNS label of at most 50 characters.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is what the co-op declares.
	// +required
	Spec CooperativeSpec `json:"spec"`

	// status is what the operator observed.
	// +optional
	Status CooperativeStatus `json:"status,omitempty,omitzero"`
}

// +kubebuilder:object:root=true

// CooperativeList is a list of Cooperatives.
type CooperativeList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Cooperative `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Cooperative{}, &CooperativeList{})
}

// NamespacePrefix starts the name of every co-op namespace.
const NamespacePrefix = "coop-"

// NamespaceName is the namespace that holds a co-op's workloads.
func (c *Cooperative) NamespaceName() string { return NamespacePrefix + c.Name }

// GetConditions returns the conditions, for helpers that work on any object with them.
func (c *Cooperative) GetConditions() []metav1.Condition { return c.Status.Conditions }

// SetConditions replaces the conditions.
func (c *Cooperative) SetConditions(conditions []metav1.Condition) { c.Status.Conditions = conditions }
