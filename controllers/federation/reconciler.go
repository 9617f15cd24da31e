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

// Package federation peers hubs of several regions. A FederationPeer is another region's
// hub; FederationPeerReconciler keeps its status (reachable, credentials scoped, versions, counts).
// CooperativeReconciler mirrors each co-op that lists a peer as a standby Cooperative there, and
// reports the standbys this hub keeps for its peers; Topology tells the Cooperative
// reconciler where a co-op's database stands in its CloudNativePG distributed topology:
// primary, replica following another region's archive, or switching between them.
package federation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/api/topology"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/finalizer"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/controllers/shared/ssa"
	"github.com/cooperator-dev/cooperator/controllers/shared/text"
)

// FieldOwner is the field manager of status.federation and of what this hub writes at its
// peers.
const FieldOwner = "cooperator-federation"

// Finalizer holds a home co-op with peers until its standbys are removed from them.
const Finalizer = "coop.cooperator.dev/federation"

// CooperativeReconciler reconciles Cooperatives across hubs: it mirrors each home co-op to
// the peers it lists and reports on the standbys this hub keeps for its peers.
type CooperativeReconciler struct {
	Client   client.Client
	Hub      hubconfig.Config
	Peers    *PeerClients
	Recorder recorder.EventRecorder
	// Clock tells the time of syncs and switchovers; nil is the real clock.
	Clock clock.PassiveClock
}

// +kubebuilder:rbac:groups=coop.cooperator.dev,resources=cooperatives,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=coop.cooperator.dev,resources=cooperatives/status,verbs=get;update;patch

func (r *CooperativeReconciler) now() metav1.Time {
	if r.Clock == nil {
		return metav1.NewTime(time.Now().Truncate(time.Second))
	}
	return metav1.NewTime(r.Clock.Now().Truncate(time.Second))
}

// homeScope is what one reconcile knows of a home co-op and its peers.
type homeScope struct {
	coop *coopv1.Cooperative
	// old is the federation status as read; never nil.
	old *coopv1.FederationStatus
	// peers are every FederationPeer this hub declares; homePeers those the co-op lists.
	peers     []coopv1.FederationPeer
	homePeers []HomePeer
	// holdsPrimary: the local Cluster holds the primary (its topology says so).
	holdsPrimary bool
	// held says why the local Cluster keeps following another member's copy although
	// nothing here asks it to (HeldMessage); followed is the region of the copy the
	// Cluster follows, as applied ("" when it follows none).
	held, followed string
	// via is the peer region the primary is asked at while it comes home first, on its way
	// there from the copy in viaFrom (primaryStep); "" otherwise.
	via, viaFrom string
	// waiting is the peer the primary is asked at, whose copy cannot take it yet: the
	// primary stays here (primaryStep); "" otherwise.
	waiting string
	// fed is the federation status the phases build; nil when the co-op takes no part in
	// federation.
	fed *coopv1.FederationStatus
	// consented are the regions of the listed peers; listed their names.
	consented []string
	listed    map[string]bool
	// untouched: the co-op never took part in federation, and has no status to write.
	untouched bool
	// moveTo is the FederationPeer the co-op moves to (annotation move-to), or "";
	// released says the mirror released the standby there.
	moveTo   string
	released bool
}

// homePhase is one step of the reconcile of a home co-op.
type homePhase func(ctx context.Context, s *homeScope) error

// Reconcile mirrors a home co-op to the peers it lists and removes it from the others, or
// reports what a standby kept here has become.
func (r *CooperativeReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	coop := &coopv1.Cooperative{}
	if err := r.Client.Get(ctx, req.NamespacedName, coop); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	// The peer's access to its own co-op here does not hold up the rest: a failure is said
	// and tried again, with the error.
	ends, err := r.grantPeerAccess(ctx, coop)
	if err != nil {
		log.FromContext(ctx).Error(err, "Failed to grant a peer the read of its co-op", "cooperative", coop.Name)
		r.Recorder.Eventf(coop, nil, corev1.EventTypeWarning, "PeerAccessFailed", "GrantPeerAccess", "%v", err)
		res, rerr := r.reconcile(ctx, coop)
		return res, errors.Join(rerr, err)
	}
	res, err := r.reconcile(ctx, coop)
	if ends > 0 && (res.RequeueAfter == 0 || ends < res.RequeueAfter) {
		res.RequeueAfter = ends // the access ends then: come back to remove it
	}
	return res, err
}

// reconcile is Reconcile past the peer's access.
func (r *CooperativeReconciler) reconcile(ctx context.Context, coop *coopv1.Cooperative) (result ctrl.Result, retErr error) {
	if coop.Spec.Standby != nil {
		return r.reconcileStandby(ctx, coop)
	}
	var peers coopv1.FederationPeerList
	if err := r.Client.List(ctx, &peers); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing FederationPeers: %w", err)
	}
	if !coop.DeletionTimestamp.IsZero() {
		return r.removeEverywhere(ctx, coop, peers.Items)
	}
	if coop.Spec.Suspend {
		// While suspended the operator changes none of the co-op's objects, its standbys at
		// the peers included: nothing is mirrored, removed, moved or forgotten, and
		// FederationReady says so, for the generation it saw. Resuming is an update, which
		// brings the co-op back here. A co-op created suspended has mirrored nothing yet:
		// one that lists peers says that it is suspended too.
		fed := coop.Status.Federation
		if fed == nil && len(coop.Spec.Federation.Peers) > 0 {
			fed = &coopv1.FederationStatus{} // no role or primary found yet: none is looked for
		}
		if fed == nil {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, r.writeStatus(ctx, coop, fed)
	}
	if err := r.ensureFinalizer(ctx, coop); err != nil {
		return ctrl.Result{}, err
	}
	s, err := r.newHomeScope(ctx, coop, peers.Items)
	if err != nil {
		return ctrl.Result{}, err
	}
	defer func() { retErr = r.finish(ctx, s, retErr) }()

	var errs []error
	for _, p := range []homePhase{r.mirror, r.prune, r.role, r.move, r.forget} {
		errs = append(errs, p(ctx, s))
	}
	if err := errors.Join(errs...); err != nil || s.untouched {
		return ctrl.Result{}, err
	}
	if s.via != "" && s.holdsPrimary {
		// Home on the way to another peer: go on once this status is written.
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	return r.recheck(), nil
}

// recheck is the wait before looking at the peers again.
func (r *CooperativeReconciler) recheck() ctrl.Result {
	return ctrl.Result{RequeueAfter: wait.Jitter(r.Hub.RecheckInterval.Duration, 0.1)}
}

// ensureFinalizer holds a co-op that lists peers until its standbys there are removed.
func (r *CooperativeReconciler) ensureFinalizer(ctx context.Context, coop *coopv1.Cooperative) error {
	if len(coop.Spec.Federation.Peers) == 0 {
		return nil
	}
	return finalizer.Add(ctx, r.Client, coop, Finalizer)
}

// newHomeScope reads where the co-op's primary is asked to be and where it is: the region
// spec.federation.primary names ("" for a peer this hub does not know), the local Cluster's
// place in the topology and, when the primary is asked elsewhere, its demotion token.
func (r *CooperativeReconciler) newHomeScope(ctx context.Context, coop *coopv1.Cooperative, peers []coopv1.FederationPeer) (*homeScope, error) {
	s := &homeScope{coop: coop, old: coop.Status.Federation, peers: peers, listed: map[string]bool{}, moveTo: coop.Annotations[coopv1.AnnotationMoveTo]}
	if s.old == nil {
		s.old = &coopv1.FederationStatus{}
	}
	s.homePeers = r.homePeers(ctx, coop, peers)
	cluster, err := r.localCluster(ctx, coop)
	if err != nil {
		return nil, err
	}
	t := HomeTopology(coop, &r.Hub, s.homePeers, cluster)
	s.holdsPrimary, s.held = t.Primary, t.Message
	if f := followedMember(cluster); f != "" {
		s.followed = strings.TrimPrefix(f, coop.Name+"-")
	}
	primaryRegion, via, waiting := primaryStep(coop, &r.Hub, s.homePeers, cluster)
	s.waiting = waiting
	if s.via = via; via != "" {
		s.viaFrom = strings.TrimPrefix(primaryHolder(coop, cluster), coop.Name+"-")
	}
	if s.held != "" {
		// The copy it follows keeps the primary: the peers are told so, with the token that
		// copy was promoted with, not to hand it over.
		primaryRegion = s.followed
	}
	token := ""
	if cluster != nil && primaryRegion != r.Hub.Region {
		token = cluster.Status.DemotionToken
	}
	s.consented = make([]string, 0, len(s.homePeers))
	for _, p := range s.homePeers {
		s.consented = append(s.consented, p.Region)
	}
	s.fed = &coopv1.FederationStatus{PrimaryRegion: primaryRegion, LastSwitchover: s.old.LastSwitchover, DemotionToken: token}
	return s, nil
}

// mirror writes the co-op's standby at each peer it lists and records how each stands; it
// warns of the standbys left at peers the co-op no longer lists and this hub no longer
// declares.
func (r *CooperativeReconciler) mirror(ctx context.Context, s *homeScope) error {
	var errs []error
	for _, ref := range s.coop.Spec.Federation.Peers {
		s.listed[ref.Name] = true
		prev := previous(s.old, ref.Name)
		var release *coopv1.StandbyRelease
		if ref.Name == s.moveTo && switchedOverTo(s, prev) {
			release = &coopv1.StandbyRelease{DeletionPolicy: s.coop.Spec.DeletionPolicy}
			s.released = true
		}
		// A copy the peer adopted stays Moved, even once the move-to annotation is gone.
		// The peer can adopt only a released copy: until then, nothing to ask it.
		moving := release != nil || prev.State == coopv1.StandbyMoved
		st, err := r.mirrorTo(ctx, s.coop, ref.Name, s.peers, s.consented, s.fed.PrimaryRegion, s.fed.DemotionToken, prev, moving, release)
		errs = append(errs, err)
		s.fed.Standbys = append(s.fed.Standbys, st)
	}
	for _, st := range leftAtUndeclaredPeers(s.coop, s.peers) {
		if !s.listed[st.Peer] {
			r.Recorder.Eventf(s.coop, nil, corev1.EventTypeWarning, coopv1.ReasonPeerNotDeclared, "RemoveStandby",
				"The standby in region %s is left there: the co-op no longer lists peer %s, which this hub no longer declares, so it cannot remove it; remove it at that hub by hand", st.Region, st.Peer)
		}
	}
	return errors.Join(errs...)
}

// prune removes the co-op's standby from the peers it no longer lists. It asks only the
// peers, and the regions, that the co-op's status lists or its record of writes names
// (WrittenRecordName: it listed them, and this hub may have written there; the record
// outlives a status lost): a co-op's name goes to no hub it never consented to, so a co-op
// that never took part in federation asks no peer anything. Two FederationPeers may reach the
// same hub: the standby one of them holds is kept, and a standby left at a listed peer no
// longer declared is not removed through another FederationPeer of its region (the same
// hub under a new name, say).
func (r *CooperativeReconciler) prune(ctx context.Context, s *homeScope) error {
	listedRegions := map[string]bool{}
	for _, p := range s.homePeers {
		listedRegions[p.Region] = true
	}
	for _, st := range s.fed.Standbys {
		if st.State == coopv1.StandbyUndeclared && st.Region != "" {
			listedRegions[st.Region] = true
		}
	}
	knownPeers, knownRegions := map[string]bool{}, map[string]bool{}
	for _, st := range s.old.Standbys {
		knownPeers[st.Peer] = true
		if st.Region != "" {
			knownRegions[st.Region] = true
		}
	}
	written, err := r.written(ctx, s.coop)
	if err != nil {
		return err
	}
	for peer, region := range written {
		knownPeers[peer] = true
		if region != "" {
			knownRegions[region] = true
		}
	}
	var errs []error
	for i := range s.peers {
		p := &s.peers[i]
		if s.listed[p.Name] || listedRegions[p.Spec.Region] || (!knownPeers[p.Name] && !knownRegions[p.Spec.Region]) {
			continue
		}
		left, err := r.removeFrom(ctx, s.coop, p)
		if err != nil {
			errs, left = append(errs, err), err.Error()
		}
		if left == "" {
			errs = append(errs, r.forgetWrite(ctx, s.coop, p.Name))
		}
		// Refused or unreachable midway, a mirror may have left the co-op's read keys there.
		if prev := previous(s.old, p.Name); left != "" && (wroteTo(s.old, p.Name) || prev.State == coopv1.StandbyRefused || prev.State == coopv1.StandbyUnreachable) {
			// Still there, as far as this hub knows: say so until it is gone.
			s.fed.Standbys = append(s.fed.Standbys, coopv1.PeerStandbyStatus{Peer: p.Name, Region: p.Spec.Region, State: coopv1.StandbyRemoving, LastSync: prev.LastSync,
				Message: "the co-op no longer lists this peer, and the standby this hub wrote there is not removed yet (tried again at each recheck): " + left})
		}
	}
	return errors.Join(errs...)
}

// role sets the role of the copy here and the switchover record (SetHomeRole), and warns of
// a split primary. A co-op that lists no peers and never switched over takes no part in
// federation: its status says nothing of it.
func (r *CooperativeReconciler) role(ctx context.Context, s *homeScope) error {
	SetHomeRole(s.fed, s.old, r.Hub.Region, s.holdsPrimary, r.now())
	if s.held != "" {
		s.fed.Role, s.fed.Message = coopv1.RoleHeld, s.held
	} else if s.via != "" && len(splitPrimaries(s.fed)) == 0 {
		s.fed.Message = strings.TrimSuffix(ViaHomeMessage(s.viaFrom, s.via)+"; "+s.fed.Message, "; ")
	} else if s.waiting != "" && len(splitPrimaries(s.fed)) == 0 {
		for _, p := range s.homePeers {
			if p.Name == s.waiting {
				s.fed.Message = text.Truncate(strings.TrimSuffix(WaitingForStandbyMessage(p)+"; "+s.fed.Message, "; "), maxMessage)
			}
		}
	}
	if homeFailover(s.coop) && s.holdsPrimary && s.followed == "" &&
		(s.old.LastSwitchover == nil || s.old.LastSwitchover.To == r.Hub.Region) {
		// A failover to the home is done, the Cluster promoted and the switchover recorded:
		// the annotation would otherwise promote the home without a token at the next
		// switchover back.
		if err := r.forgetFailover(ctx, s.coop); err != nil {
			return err
		}
	}
	if len(splitPrimaries(s.fed)) > 0 {
		r.Recorder.Eventf(s.coop, nil, corev1.EventTypeWarning, coopv1.ReasonSplitPrimary, "Federation", "%s", s.fed.Message)
	}
	if len(s.coop.Spec.Federation.Peers) == 0 && (s.old.Role == "" || s.old.Role == coopv1.RolePrimary) && len(s.old.Standbys) == 0 {
		s.fed = nil
		s.untouched = s.coop.Status.Federation == nil
	}
	return nil
}

// forgetFailover removes the failover annotation, its failover done: from a home co-op
// whose Cluster holds the primary again, from a standby whose Cluster holds it and whose
// home names its region the primary.
func (r *CooperativeReconciler) forgetFailover(ctx context.Context, coop *coopv1.Cooperative) error {
	patch := []byte(`{"metadata":{"annotations":{"` + coopv1.AnnotationFailover + `":null}}}`)
	if err := r.Client.Patch(ctx, coop, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(FieldOwner)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("removing the failover annotation, the failover done: %w", err)
	}
	return nil
}

// finish applies the status the phases built, once; then, when all went well and the co-op
// lists no peers, lets go of it.
func (r *CooperativeReconciler) finish(ctx context.Context, s *homeScope, err error) error {
	if s.untouched {
		return err
	}
	err = errors.Join(err, r.writeStatus(ctx, s.coop, s.fed))
	if err != nil || len(s.coop.Spec.Federation.Peers) > 0 || wroteTo(s.fed, "") || !controllerutil.ContainsFinalizer(s.coop, Finalizer) {
		return err
	}
	if err := finalizer.Remove(ctx, r.Client, s.coop, Finalizer); !finalizer.Stale(err) {
		return err
	}
	return nil // the finalizers changed meanwhile: the next recheck removes it from a fresh copy
}

// splitPrimaries are the regions whose copy of a home co-op reports, in its status at the
// peer, that it holds the primary while the home expects the primary elsewhere (after a
// failover the home did not ask for).
func splitPrimaries(fed *coopv1.FederationStatus) []string {
	var regions []string
	for _, st := range fed.Standbys {
		if st.Role == coopv1.RolePrimary && st.Region != fed.PrimaryRegion {
			regions = append(regions, st.Region)
		}
	}
	return regions
}

func splitPrimaryMessage(regions []string, primaryRegion string) string {
	copies := "the copy in " + regions[0] + " reports that it is"
	if len(regions) > 1 {
		copies = "the copies in " + strings.Join(regions, " and ") + " report that they are"
	}
	return fmt.Sprintf("%s the primary (a failover?) while this hub expects %s: writes may have diverged; resolve by hand before any switchover", copies, primaryRegion)
}

func previous(old *coopv1.FederationStatus, peer string) coopv1.PeerStandbyStatus {
	if old == nil {
		return coopv1.PeerStandbyStatus{Peer: peer}
	}
	for _, st := range old.Standbys {
		if st.Peer == peer {
			return st
		}
	}
	return coopv1.PeerStandbyStatus{Peer: peer}
}

// objectStoreReadCredentials are the credentials a peer gets to read the co-op's backups: the
// co-op's own read-only ones (<prefix><co-op>-read), and nothing else. Neither the hub-wide
// credentials nor the co-op's read-write ones ever leave this hub; nil when the hub has not
// made them yet.
func (r *CooperativeReconciler) objectStoreReadCredentials(ctx context.Context, coop *coopv1.Cooperative) (*corev1.Secret, error) {
	name := r.Hub.ObjectStore.ReadCredentialsSecret(coop.Name)
	var s corev1.Secret
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: r.Hub.OperatorNamespace, Name: name}, &s)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading object store credentials %s: %w", name, err)
	}
	return &s, nil
}

// ReadCredentialsMissingMessage names the Secret the hub must create before a co-op's
// standbys are sent anywhere.
func ReadCredentialsMissingMessage(hub *hubconfig.Config, coop string) string {
	return fmt.Sprintf("nothing is sent: the hub must create Secret %s/%s with read-only %s and %s limited to %s (peers never get read-write or hub-wide credentials)",
		hub.OperatorNamespace, hub.ObjectStore.ReadCredentialsSecret(coop), coopv1.AccessKeyIDKey, coopv1.AccessSecretKeyKey, hub.BackupDestination(coop))
}

// StandbyBackupMessage says how the co-op's standbys are held to the backup limits of a
// co-op (policy.StandbyBackup), or "" when its schedule and retention are within them.
func StandbyBackupMessage(coop *coopv1.Cooperative) string {
	_, _, limited := policy.StandbyBackup(coop.Spec.Backup.Schedule, coop.Spec.Backup.Retention)
	if len(limited) == 0 {
		return ""
	}
	return fmt.Sprintf("held to the backup limits of a co-op, as a peer hub holds every standby: %s there (this hub granted the co-op more; after a failover or a move there, that hub's admins may grant it again)",
		strings.Join(limited, ", "))
}

// BuildPeerSecret is the Secret, in the peer's mirror namespace for this hub, with the
// credentials that read the co-op's backups.
func BuildPeerSecret(coop *coopv1.Cooperative, region string, creds *corev1.Secret) *corev1.Secret {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: PeerSecretName(coop.Name), Namespace: coopv1.MirrorNamespace(region),
			Labels: map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue, coopv1.LabelMirroredFrom: region, coopv1.LabelCooperative: coop.Name},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{},
	}
	for _, k := range []string{coopv1.AccessKeyIDKey, coopv1.AccessSecretKeyKey} {
		s.Data[k] = creds.Data[k]
	}
	return s
}

// BuildStandby is the standby Cooperative of a home co-op at a peer: the co-op's spec
// without its admins (identities of this hub) and peers, marked as a standby of this region's
// co-op. It keeps its data on deletion only while it holds the primary. Its backup schedule
// and retention are held to what a co-op may set for itself (policy.StandbyBackup), as the
// peer holds every standby, whatever this hub granted the co-op.
func BuildStandby(coop *coopv1.Cooperative, hub *hubconfig.Config, peerRegion string, consented []string, primaryRegion, token string) *coopv1.Cooperative {
	spec := *coop.Spec.DeepCopy()
	spec.Admins = nil
	spec.Backup.Schedule, spec.Backup.Retention, _ = policy.StandbyBackup(spec.Backup.Schedule, spec.Backup.Retention)
	spec.Federation = coopv1.FederationSpec{}
	spec.DeletionPolicy = coopv1.DeletionPolicyDelete
	if primaryRegion == peerRegion {
		spec.DeletionPolicy = coopv1.DeletionPolicyRetain
	}
	serverName := coop.Status.Database.ServerName
	if serverName == "" {
		serverName = coop.Name
	}
	spec.Standby = &coopv1.StandbySpec{
		HomeRegion:        hub.Region,
		HomeCooperative:   coop.Name,
		PrimaryServerName: serverName,
		ObjectStore: coopv1.StandbyObjectStore{
			DestinationPath: hub.BackupDestination(coop.Name),
			EndpointURL:     hub.ObjectStore.EndpointURL,
			SecretName:      PeerSecretName(coop.Name),
		},
		ConsentedRegions: consented,
		PrimaryRegion:    primaryRegion,
	}
	if primaryRegion == peerRegion {
		spec.Standby.PromotionToken = token
	}
	return &coopv1.Cooperative{
		ObjectMeta: metav1.ObjectMeta{
			Name:   coop.Name,
			Labels: map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue, coopv1.LabelMirroredFrom: hub.Region},
		},
		Spec: spec,
	}
}

// mirrorTo writes the co-op's standby at one peer and reads back how it stands there.
// moving says the co-op moves to that peer: a copy the peer adopted is reported as Moved
// and left alone; release, once the switchover is complete, releases the standby there.
func (r *CooperativeReconciler) mirrorTo(ctx context.Context, coop *coopv1.Cooperative, name string, peers []coopv1.FederationPeer, consented []string, primaryRegion, token string, prev coopv1.PeerStandbyStatus, moving bool, release *coopv1.StandbyRelease) (coopv1.PeerStandbyStatus, error) {
	st := coopv1.PeerStandbyStatus{Peer: name, LastSync: prev.LastSync, Role: prev.Role, DemotionToken: prev.DemotionToken}
	var peer *coopv1.FederationPeer
	for i := range peers {
		if peers[i].Name == name {
			peer = &peers[i]
		}
	}
	if peer == nil {
		// Deleting a FederationPeer may be a step of rotating its credentials: what this hub
		// wrote there is neither updated nor removed, and the status keeps where it is.
		st.Region, st.State = prev.Region, coopv1.StandbyUndeclared
		st.Message = fmt.Sprintf("this hub declares no FederationPeer %s: nothing is sent", name)
		if prev.LastSync != nil {
			st.Message = fmt.Sprintf("this hub no longer declares FederationPeer %s: the standby it wrote in region %s (last synced %s) is left there, neither updated nor removed; declare the peer again to resume, or remove the standby there by hand",
				name, prev.Region, prev.LastSync.UTC().Format(time.RFC3339))
			if prev.State != coopv1.StandbyUndeclared {
				r.Recorder.Eventf(coop, nil, corev1.EventTypeWarning, coopv1.ReasonPeerNotDeclared, "Mirror", "%s", st.Message)
			}
		}
		return st, nil
	}
	st.Region = peer.Spec.Region
	if !PeerReady(peer) {
		st.State, st.Message = coopv1.StandbyWaiting, "the peer is not ready, nothing is sent"
		if c := meta.FindStatusCondition(peer.Status.Conditions, coopv1.ConditionReady); c != nil {
			st.Message += ": " + c.Message
		}
		if !meta.IsStatusConditionTrue(peer.Status.Conditions, coopv1.ConditionReachable) {
			st.State = coopv1.StandbyUnreachable
		}
		return st, nil
	}
	creds, err := r.objectStoreReadCredentials(ctx, coop)
	if err != nil {
		return st, err
	}
	if creds == nil {
		st.State, st.Message = coopv1.StandbyCredentialsMissing, ReadCredentialsMissingMessage(&r.Hub, coop.Name)
		return st, nil
	}
	if coop.Status.Database.ClusterName == "" {
		st.State, st.Message = coopv1.StandbyWaiting, "the co-op's database and backups are not set up yet"
		return st, nil
	}
	pc, err := r.Peers.For(ctx, peer)
	if err != nil {
		st.State, st.Message = coopv1.StandbyWaiting, err.Error()
		return st, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*peerTimeout)
	defer cancel()
	if moving {
		adopted, err := r.adoptedBy(ctx, pc, coop)
		if err != nil {
			return r.peerError(st, peer, err), nil
		}
		if adopted {
			st.State, st.Role, st.DemotionToken, st.Message = coopv1.StandbyMoved, coopv1.RolePrimary, "", "the peer adopted the co-op: it is that hub's own co-op now"
			if prev.State != coopv1.StandbyMoved {
				// The peer removed this hub's read keys when it adopted the co-op, but a
				// mirror that read the copy just before may have written them again.
				if err := r.removePeerSecret(ctx, pc, coop); err != nil {
					return r.peerError(st, peer, err), nil
				}
			}
			if prev.State != coopv1.StandbyMoved || st.LastSync == nil {
				now := r.now()
				st.LastSync = &now
			}
			return st, nil
		}
	}
	// Recorded before the first write there: pruning finds it whatever the status says.
	if err := r.recordWrite(ctx, coop, peer); err != nil {
		st.State, st.Message = coopv1.StandbyWaiting, "nothing is sent: "+err.Error()
		return st, err
	}
	standby := BuildStandby(coop, &r.Hub, peer.Spec.Region, consented, primaryRegion, token)
	standby.Spec.Standby.Release = release
	res, err := ssa.ApplyFetch(ctx, pc, BuildPeerSecret(coop, r.Hub.Region, creds), &corev1.Secret{})
	if err != nil {
		return r.peerError(st, peer, err), nil
	}
	changed := res != ssa.Unchanged
	// The standby as the peer has it, read once: applying the spec leaves its status as it
	// was, and a standby just created has none yet.
	var there coopv1.Cooperative
	visible, hidden, err := readThere(ctx, pc, coop.Name, &there)
	if err != nil {
		return r.peerError(st, peer, err), nil
	}
	if !hidden {
		var live client.Object
		if visible {
			live = &there
		}
		if res, err = ssa.Apply(ctx, pc, standby, live); err != nil {
			return r.peerError(st, peer, err), nil
		}
		changed = changed || res != ssa.Unchanged
	} else if err := ssa.ApplyUnread(ctx, pc, standby, &there); err != nil {
		// A standby this hub wrote whose read the peer's operator has not granted yet (it
		// does within seconds), or a co-op of the peer's own of that name, which the peer's
		// admission refuses this hub: the apply's answer is the standby as the peer has it.
		return r.peerError(st, peer, err), nil
	}
	limited := StandbyBackupMessage(coop)
	st.State, st.Message = coopv1.StandbyMirrored, limited
	if c := meta.FindStatusCondition(there.Status.Conditions, coopv1.ConditionReady); c != nil && c.Reason == coopv1.ReasonStandbyRefused {
		st.State, st.Message = coopv1.StandbyRefused, c.Message
	}
	if f := there.Status.Federation; f != nil {
		st.Role, st.DemotionToken = f.Role, f.DemotionToken
		if release != nil && st.State == coopv1.StandbyMirrored {
			st.Message = f.Message
		}
	}
	if st.State == coopv1.StandbyMirrored && st.Role == "" && release == nil {
		// What the peer says of its replica, when it says (a standby just written has no
		// status yet).
		why := "the peer has not reported on it yet"
		if f := there.Status.Federation; f != nil && f.Message != "" {
			why = f.Message
		}
		st.Message = text.Truncate(strings.TrimSuffix(why+"; "+limited, "; "), maxMessage)
	}
	// Told once, when the status comes to say it (a refusal or a release says more then,
	// and the event waits for the status to say the limits again).
	if limited != "" && st.Message == limited && prev.Message != limited {
		r.Recorder.Eventf(coop, nil, corev1.EventTypeNormal, coopv1.ReasonStandbyBackupLimited, "Mirror", "Standby at %s: %s", peer.Name, limited)
	}
	if changed || prev.State != st.State || st.LastSync == nil {
		now := r.now()
		st.LastSync = &now
	}
	if changed {
		log.FromContext(ctx).Info("Mirrored co-op to peer", "cooperative", coop.Name, "peer", peer.Name)
	}
	return st, nil
}

// peerError turns an error of the peer's API into the standby's state: refused when the peer
// refuses the request, unreachable otherwise. Nothing here is removed either way.
func (r *CooperativeReconciler) peerError(st coopv1.PeerStandbyStatus, peer *coopv1.FederationPeer, err error) coopv1.PeerStandbyStatus {
	switch {
	case apierrors.IsForbidden(err) || apierrors.IsInvalid(err) || apierrors.IsBadRequest(err):
		st.State = coopv1.StandbyRefused
	default:
		st.State = coopv1.StandbyUnreachable
	}
	st.Message = fmt.Sprintf("peer %s: %v", peer.Name, err)
	return st
}

// removePeerSecret removes the co-op's read-only object store credentials that this hub
// wrote into its mirror namespace at the peer.
func (r *CooperativeReconciler) removePeerSecret(ctx context.Context, pc client.Client, coop *coopv1.Cooperative) error {
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: coopv1.MirrorNamespace(r.Hub.Region), Name: PeerSecretName(coop.Name)}}
	if err := pc.Delete(ctx, secret); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("removing the object store credentials of %s: %w", coop.Name, err)
	}
	return nil
}

// removeFrom removes the co-op's standby from a peer, if this hub put one there. It says
// why the standby may still be there: "" once it is not (removed, never there, or a co-op
// of the peer's own of the same name), and when the copy there holds the primary, which is
// left in place with an event; err when the peer refused the removal.
func (r *CooperativeReconciler) removeFrom(ctx context.Context, coop *coopv1.Cooperative, peer *coopv1.FederationPeer) (string, error) {
	if !PeerReady(peer) {
		msg := "the peer is not ready"
		if c := meta.FindStatusCondition(peer.Status.Conditions, coopv1.ConditionReady); c != nil && c.Message != "" {
			msg += ": " + c.Message
		}
		return msg, nil
	}
	pc, err := r.Peers.For(ctx, peer)
	if err != nil {
		return err.Error(), nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*peerTimeout)
	defer cancel()
	var there coopv1.Cooperative
	visible, hidden, err := readThere(ctx, pc, coop.Name, &there)
	if err != nil {
		log.FromContext(ctx).Info("Failed to look for a standby at the peer", "cooperative", coop.Name, "peer", peer.Name, "error", err.Error())
		return "looking for the standby there: " + err.Error(), nil
	}
	if hidden {
		// The peer lets this hub read only its own co-ops there: this is none (gone, or a
		// co-op of the peer's own of that name, whose removal the peer's admission refuses
		// this hub), or this hub's standby whose read the peer's operator has not granted
		// (yet). A removal tried without writing tells them apart.
		err := pc.Delete(ctx, &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: coop.Name}}, client.DryRunAll)
		switch {
		case err == nil:
			// This hub's standby: it is removed once it can be read, and seen not to hold
			// the primary. The co-op's read keys go now: it no longer consents.
			if err := r.removePeerSecret(ctx, pc, coop); err != nil {
				return "", fmt.Errorf("peer %s: %w", peer.Name, err)
			}
			return "the peer's operator has not granted this hub the read of the standby there, which is removed once it can be read " +
				"(to check that it does not hold the primary); the co-op's read keys there are removed", nil
		case apierrors.IsNotFound(err) || (apierrors.IsForbidden(err) && strings.Contains(err.Error(), coopv1.PeerPolicyRefusal)):
			visible = false // gone, or a co-op of the peer's own: its policy refuses this hub
		case apierrors.IsForbidden(err):
			return "the peer refuses this hub the removal of the standby there (its peer role may lack delete): " + err.Error(), nil
		default:
			return "looking for the standby there: " + err.Error(), nil
		}
	}
	if !visible {
		// Gone, or never this hub's; the co-op's read keys go, if they are still there.
		if err := r.removePeerSecret(ctx, pc, coop); err != nil {
			return "", fmt.Errorf("peer %s: %w", peer.Name, err)
		}
		return "", nil
	}
	if there.Spec.Standby == nil || there.Spec.Standby.HomeRegion != r.Hub.Region || there.Spec.Standby.HomeCooperative != coop.Name {
		return "", nil // Not ours: a co-op of the peer that has the same name.
	}
	if there.Status.Federation != nil && there.Status.Federation.Role == coopv1.RolePrimary {
		r.Recorder.Eventf(coop, nil, corev1.EventTypeWarning, "StandbyIsPrimary", "RemoveStandby", "The copy at peer %s holds the primary; it is not removed", peer.Name)
		return "", nil
	}
	if err := pc.Delete(ctx, &there, client.Preconditions{UID: &there.UID}); client.IgnoreNotFound(err) != nil {
		return "", fmt.Errorf("removing the standby of %s from peer %s: %w", coop.Name, peer.Name, err)
	}
	if err := r.removePeerSecret(ctx, pc, coop); err != nil {
		return "", fmt.Errorf("peer %s: %w", peer.Name, err)
	}
	r.Recorder.Eventf(coop, nil, corev1.EventTypeNormal, "StandbyRemoved", "RemoveStandby", "Removed the standby at peer %s, which the co-op no longer lists", peer.Name)
	log.FromContext(ctx).Info("Removed standby from peer", "cooperative", coop.Name, "peer", peer.Name)
	return "", nil
}

// wroteTo says whether this hub wrote the co-op's standby at the peer ("": at any peer),
// as far as its status says: it synced it once, or its removal is under way.
func wroteTo(fed *coopv1.FederationStatus, peer string) bool {
	if fed == nil {
		return false
	}
	for _, st := range fed.Standbys {
		if (peer == "" || st.Peer == peer) && (st.LastSync != nil || st.State == coopv1.StandbyRemoving) {
			return true
		}
	}
	return false
}

// removeEverywhere removes a deleted co-op's standbys from every peer it lists, or its status
// or its record of writes names, then lets it go.
func (r *CooperativeReconciler) removeEverywhere(ctx context.Context, coop *coopv1.Cooperative, peers []coopv1.FederationPeer) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(coop, Finalizer) {
		return ctrl.Result{}, nil
	}
	written, err := r.written(ctx, coop)
	if err != nil {
		return ctrl.Result{}, err
	}
	var pending []string
	var removing []coopv1.PeerStandbyStatus
	for i := range peers {
		p := &peers[i]
		_, recorded := written[p.Name]
		listed := recorded || wroteTo(coop.Status.Federation, p.Name)
		for _, ref := range coop.Spec.Federation.Peers {
			listed = listed || ref.Name == p.Name
		}
		if !listed {
			continue
		}
		left, err := r.removeFrom(ctx, coop, p)
		if err != nil {
			return ctrl.Result{}, err
		}
		if left == "" {
			if err := r.forgetWrite(ctx, coop, p.Name); err != nil {
				return ctrl.Result{}, err
			}
		}
		if left != "" {
			pending = append(pending, p.Name+": "+left)
			prev := previous(coop.Status.Federation, p.Name)
			removing = append(removing, coopv1.PeerStandbyStatus{Peer: p.Name, Region: p.Spec.Region, State: coopv1.StandbyRemoving, LastSync: prev.LastSync,
				Message: "the co-op is being deleted, and the standby this hub wrote there is not removed yet (tried again at each recheck; if that hub is gone for good, delete its FederationPeer): " + left})
		}
	}
	if len(pending) > 0 {
		r.Recorder.Eventf(coop, nil, corev1.EventTypeWarning, "PeerNotReady", "RemoveStandby", "Waiting for peers to remove the co-op's standbys there: %s (if a peer hub is gone for good, delete its FederationPeer: the standby there is then left for that hub's admin to remove)", strings.Join(pending, "; "))
		// The status says so too: the standbys still there are Removing, the others gone.
		fed := &coopv1.FederationStatus{}
		if coop.Status.Federation != nil {
			fed = coop.Status.Federation.DeepCopy()
		}
		// Those left at peers no longer declared stay recorded: the event that names them,
		// once the co-op is let go, reads them from there.
		fed.Standbys = append(removing, leftAtUndeclaredPeers(coop, peers)...)
		if err := r.writeStatus(ctx, coop, fed); client.IgnoreNotFound(err) != nil {
			return ctrl.Result{}, err
		}
		return ctrl.Result{RequeueAfter: Backoff(3)}, nil
	}
	for _, st := range leftAtUndeclaredPeers(coop, peers) {
		msg := fmt.Sprintf("The standby in region %s is left there: this hub no longer declares FederationPeer %s, so it cannot remove it; remove it at that hub by hand", st.Region, st.Peer)
		r.Recorder.Eventf(coop, nil, corev1.EventTypeWarning, coopv1.ReasonPeerNotDeclared, "RemoveStandby", "%s", msg)
		log.FromContext(ctx).Info("Left a standby at a peer no longer declared", "cooperative", coop.Name, "peer", st.Peer, "region", st.Region)
	}
	if err := finalizer.Remove(ctx, r.Client, coop, Finalizer); finalizer.Stale(err) {
		// The tenant's controller removed its own meanwhile: again, from a fresh copy.
		return ctrl.Result{RequeueAfter: time.Second}, nil
	} else if err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	return ctrl.Result{}, nil
}

// leftAtUndeclaredPeers are the standbys this hub wrote at peers it no longer declares: the
// co-op's status says it synced them once, and no FederationPeer has their name.
func leftAtUndeclaredPeers(coop *coopv1.Cooperative, peers []coopv1.FederationPeer) []coopv1.PeerStandbyStatus {
	if coop.Status.Federation == nil {
		return nil
	}
	declared := map[string]bool{}
	for _, p := range peers {
		declared[p.Name] = true
	}
	var out []coopv1.PeerStandbyStatus
	for _, st := range coop.Status.Federation.Standbys {
		if !declared[st.Peer] && st.LastSync != nil {
			out = append(out, st)
		}
	}
	return out
}

// reconcileStandby reports what a standby kept here has become: its role, what CloudNativePG
// says of its replica Cluster, and its switchovers.
func (r *CooperativeReconciler) reconcileStandby(ctx context.Context, coop *coopv1.Cooperative) (ctrl.Result, error) {
	if refused(coop) || !coop.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	sb := coop.Spec.Standby
	old := coop.Status.Federation
	if old == nil {
		old = &coopv1.FederationStatus{}
	}
	cluster, err := r.localCluster(ctx, coop)
	if err != nil {
		return ctrl.Result{}, err
	}
	failover := coop.Annotations[coopv1.AnnotationFailover] == coopv1.AcceptDataLoss
	if _, has := coop.Annotations[coopv1.AnnotationFailover]; has && sb.PrimaryRegion == r.Hub.Region && holdsPrimaryAsApplied(cluster) {
		// The failover is done and the home names this region the primary: the copy holds it
		// as asked (StandbyTopology), and the annotation goes. Left there, it would keep this
		// copy the primary whatever the home asks later, such as the primary back.
		if err := r.forgetFailover(ctx, coop); err != nil {
			return ctrl.Result{}, err
		}
		failover = false
	}
	fed := StandbyStatus(coop, r.Hub.Region, cluster, old, failover, r.now())
	var store barmanv1.ObjectStore
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: SourceObjectStoreName(coop.Name, sb.HomeRegion)}, &store); err == nil {
		if w, ok := store.Status.ServerRecoveryWindow[sb.PrimaryServerName]; ok && fed.Replica != nil {
			fed.Replica.HomeArchiveLastBackup = w.LastSuccessfulBackupTime
		}
	}
	if sb.Release != nil && !coop.Spec.Suspend {
		adopted, err := r.adoptReleased(ctx, coop, old, fed)
		if err != nil || adopted {
			// Adopted: the next reconcile sees this hub's own co-op.
			return ctrl.Result{}, err
		}
	}
	if err := r.writeStatus(ctx, coop, fed); err != nil {
		return ctrl.Result{}, err
	}
	return r.recheck(), nil
}

// StandbyStatus is the federation status of a standby: Standby while it follows, once its
// replica Cluster exists, was restored from the home archive and is healthy (ReplicaReady;
// no role before, and the message says what CloudNativePG reports); Promoting once asked to
// be the primary until CloudNativePG verified the promotion token (at once on a failover);
// Primary after; Demoting when asked to follow again until its Cluster publishes a
// demotion token.
func StandbyStatus(coop *coopv1.Cooperative, region string, cluster *cnpgv1.Cluster, old *coopv1.FederationStatus, failover bool, now metav1.Time) *coopv1.FederationStatus {
	sb := coop.Spec.Standby
	fed := &coopv1.FederationStatus{PrimaryRegion: sb.PrimaryRegion, LastSwitchover: old.LastSwitchover}
	if cluster != nil {
		fed.Replica = &coopv1.ReplicaStatus{ClusterPhase: cluster.Status.Phase, TimelineID: int32(cluster.Status.TimelineID), LastPromotionToken: cluster.Status.LastPromotionToken}
	}
	switch {
	case failover:
		fed.Role, fed.PrimaryRegion = coopv1.RolePrimary, region
		fed.Message = "promoted by a failover without the home's demotion token: WAL the home had not archived is lost"
	case sb.PrimaryRegion == region && (holdsPrimaryAsApplied(cluster) || (promoted(cluster, sb.PromotionToken) && sb.PromotionToken != "")):
		fed.Role = coopv1.RolePrimary
	case sb.PrimaryRegion == region:
		fed.Role = coopv1.RolePromoting
		fed.Message = "waiting for the demotion token of the home Cluster and for CloudNativePG to promote"
		if sb.PromotionToken != "" {
			fed.Message = "waiting for CloudNativePG to replay up to the promotion token and promote"
		}
	case old.Role == coopv1.RolePrimary || old.Role == coopv1.RoleDemoting:
		fed.Role = coopv1.RoleDemoting
		if cluster != nil && cluster.Status.DemotionToken != "" {
			fed.Role, fed.DemotionToken = coopv1.RoleStandby, cluster.Status.DemotionToken
		}
	case !ReplicaReady(cluster):
		// No role yet: a copy that cannot take the primary is no standby, and its home does
		// not switch over to it (primaryStep). A demotion token its Cluster holds is handed
		// on all the same (a demoted copy restarting): the home's promotion waits for it.
		fed.Message = ReplicaNotReadyMessage(cluster)
		if cluster != nil && followedMember(cluster) != "" {
			fed.DemotionToken = cluster.Status.DemotionToken
		}
	default:
		fed.Role = coopv1.RoleStandby
		if followedMember(cluster) != "" {
			// Whatever the status said before: a demotion whose Demoting this status never
			// recorded (the token came with the same read) still hands the home its token.
			fed.DemotionToken = cluster.Status.DemotionToken
		}
	}
	if fed.Role == coopv1.RolePrimary && old.Role != coopv1.RolePrimary {
		fed.LastSwitchover = &coopv1.SwitchoverRecord{From: sb.HomeRegion, To: region, Time: &now, WithoutToken: failover}
	}
	if fed.Role == coopv1.RoleStandby && old.Role == coopv1.RoleDemoting {
		fed.LastSwitchover = &coopv1.SwitchoverRecord{From: region, To: sb.PrimaryRegion, Time: &now}
	}
	return fed
}

// ReplicaReady says whether a standby's Cluster can take the primary: it exists, follows
// another member's copy, and CloudNativePG reports it healthy with a ready instance on a
// timeline, which an instance reports once, restored from the home archive, it replays it.
// The timeline is an instance's (status.instancesReportedState): CloudNativePG writes the
// Cluster's own status.timelineID from an instance out of recovery only, which the
// designated primary of a replica Cluster never is.
func ReplicaReady(cluster *cnpgv1.Cluster) bool {
	return followedMember(cluster) != "" && cluster.Status.Phase == cnpgv1.PhaseHealthy &&
		cluster.Status.ReadyInstances > 0 && onATimeline(cluster)
}

// onATimeline says whether an instance of the Cluster reports a timeline.
func onATimeline(cluster *cnpgv1.Cluster) bool {
	for _, state := range cluster.Status.InstancesReportedState {
		if state.TimeLineID > 0 {
			return true
		}
	}
	return false
}

// ReplicaNotReadyMessage says why a standby's Cluster cannot take the primary yet.
func ReplicaNotReadyMessage(cluster *cnpgv1.Cluster) string {
	switch {
	case cluster == nil:
		return "the replica Cluster does not exist yet"
	case followedMember(cluster) == "":
		return "the Cluster does not follow the home's copy"
	}
	phase := cluster.Status.Phase
	if phase == "" {
		phase = "none yet"
	}
	timeline := "none yet"
	if onATimeline(cluster) {
		timeline = "reported"
	}
	return text.Truncate(fmt.Sprintf("the replica Cluster is not restored and healthy yet: CloudNativePG reports phase %s, %d ready instance(s), an instance's timeline %s",
		phase, cluster.Status.ReadyInstances, timeline), maxMessage)
}

// SuspendedMessage is the message of FederationReady while a home co-op is suspended.
const SuspendedMessage = "reconciliation is suspended (spec.suspend is true): its standbys at the peers are left as they are until it is resumed"

// AdoptionSuspendedMessage is the message of FederationReady while a standby its home hub
// released to this hub is suspended.
const AdoptionSuspendedMessage = "its home hub released this standby to this hub, which adopts it once it is resumed (spec.suspend is true)"

// FederationCondition is the FederationReady condition of a co-op with the given federation
// status; nil when the co-op takes no part in federation.
func FederationCondition(coop *coopv1.Cooperative, fed *coopv1.FederationStatus) *metav1.Condition {
	if fed == nil {
		return nil
	}
	c := &metav1.Condition{Type: coopv1.ConditionFederationReady, Status: metav1.ConditionFalse, ObservedGeneration: coop.Generation}
	var undeclared, refused, waiting, mirrored, noCredentials []string
	for _, st := range fed.Standbys {
		switch st.State {
		case coopv1.StandbyMirrored:
			if st.Role == "" {
				// Written there, its replica not restored and healthy yet (StandbyStatus).
				waiting = append(waiting, st.Peer+": its standby is not ready yet: "+st.Message)
				continue
			}
			mirrored = append(mirrored, st.Peer)
		case coopv1.StandbyMoved:
			// That hub's own co-op now: no standby to report on.
		case coopv1.StandbyCredentialsMissing:
			noCredentials = append(noCredentials, st.Peer+": "+st.Message)
		case coopv1.StandbyUndeclared:
			undeclared = append(undeclared, st.Peer+": "+st.Message)
		case coopv1.StandbyRefused:
			refused = append(refused, st.Peer+": "+st.Message)
		default:
			waiting = append(waiting, st.Peer+" "+string(st.State)+": "+st.Message)
		}
	}
	split := splitPrimaries(fed)
	switch {
	case len(split) > 0: // first: the warning that matters most, suspended or not
		c.Reason, c.Message = coopv1.ReasonSplitPrimary, splitPrimaryMessage(split, fed.PrimaryRegion)
	case coop.Spec.Suspend && coop.Spec.Standby == nil:
		c.Reason, c.Message = coopv1.ReasonSuspended, SuspendedMessage
	case coop.Spec.Suspend && coop.Spec.Standby != nil && coop.Spec.Standby.Release != nil:
		c.Reason, c.Message = coopv1.ReasonSuspended, AdoptionSuspendedMessage
	case fed.Move != nil && fed.Move.Phase == coopv1.MoveReleased:
		c.Reason, c.Message = coopv1.ReasonMoved, fed.Move.Message
	case fed.Move != nil && fed.Move.Phase == coopv1.MoveRefused:
		c.Reason, c.Message = coopv1.ReasonMoveRefused, fed.Move.Message
	case fed.Move != nil:
		c.Reason, c.Message = coopv1.ReasonMoving, fmt.Sprintf("%s: %s", fed.Move.Phase, fed.Move.Message)
	case len(undeclared) > 0:
		c.Reason, c.Message = coopv1.ReasonPeerNotDeclared, strings.Join(undeclared, "; ")
	case len(noCredentials) > 0:
		c.Reason, c.Message = coopv1.ReasonObjectStoreCredentialsMissing, strings.Join(noCredentials, "; ")
	case len(refused) > 0:
		c.Reason, c.Message = coopv1.ReasonStandbyRefused, strings.Join(refused, "; ")
	case fed.Role == coopv1.RoleHeld:
		// Demoted, following a copy whose token it cannot ask for (HomeTopology).
		c.Reason, c.Message = coopv1.ReasonPrimaryHeldAtPeer, fed.Message
	case fed.Role == coopv1.RoleDemoting || fed.Role == coopv1.RolePromoting:
		c.Reason, c.Message = coopv1.ReasonSwitchingOver, fmt.Sprintf("%s: %s", fed.Role, fed.Message)
	case coop.Spec.Standby == nil && coop.Spec.Federation.Primary != "" && fed.Role == coopv1.RolePrimary:
		// Asked at a peer, held here: on its way there (through the home, from another peer).
		c.Reason, c.Message = coopv1.ReasonSwitchingOver, fmt.Sprintf("%s: %s", fed.Role, fed.Message)
	case len(waiting) > 0:
		c.Reason, c.Message = coopv1.ReasonPeerNotReady, strings.Join(waiting, "; ")
	case coop.Spec.Standby != nil && fed.Role == "":
		c.Reason, c.Message = coopv1.ReasonReplicaNotReady, fed.Message
	case coop.Spec.Standby != nil:
		c.Status, c.Reason = metav1.ConditionTrue, coopv1.ReasonReady
		c.Message = fmt.Sprintf("%s copy of co-op %s of region %s; the primary is in %s", fed.Role, coop.Spec.Standby.HomeCooperative, coop.Spec.Standby.HomeRegion, fed.PrimaryRegion)
	default:
		c.Status, c.Reason = metav1.ConditionTrue, coopv1.ReasonReady
		c.Message = fmt.Sprintf("standbys mirrored at %s; the primary is in %s", strings.Join(mirrored, ", "), fed.PrimaryRegion)
		if len(mirrored) == 0 {
			c.Message = "no standbys; the primary is in " + fed.PrimaryRegion
		}
	}
	c.Message = text.Truncate(c.Message, maxConditionMessage)
	return c
}

// writeStatus applies status.federation and the FederationReady condition under this
// reconciler's field owner; nothing when they did not change.
func (r *CooperativeReconciler) writeStatus(ctx context.Context, coop *coopv1.Cooperative, fed *coopv1.FederationStatus) error {
	conditions := []metav1.Condition{}
	if cond := FederationCondition(coop, fed); cond != nil {
		existing := append([]metav1.Condition(nil), coop.Status.Conditions...)
		meta.SetStatusCondition(&existing, *cond)
		conditions = append(conditions, *meta.FindStatusCondition(existing, coopv1.ConditionFederationReady))
	}
	old := meta.FindStatusCondition(coop.Status.Conditions, coopv1.ConditionFederationReady)
	sameCondition := (old == nil && len(conditions) == 0) || (old != nil && len(conditions) == 1 && equality.Semantic.DeepEqual(*old, conditions[0]))
	if sameCondition && equality.Semantic.DeepEqual(fed, coop.Status.Federation) {
		return nil
	}
	status := map[string]any{}
	if fed != nil {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(fed)
		if err != nil {
			return fmt.Errorf("converting the federation status: %w", err)
		}
		status["federation"] = m
	}
	if len(conditions) > 0 {
		list := make([]any, 0, 1)
		for i := range conditions {
			m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&conditions[i])
			if err != nil {
				return fmt.Errorf("converting the FederationReady condition: %w", err)
			}
			list = append(list, m)
		}
		status["conditions"] = list
	}
	if err := ssa.ApplyStatus(ctx, r.Client, coopv1.GroupVersion.WithKind("Cooperative"), client.ObjectKey{Name: coop.Name}, status, FieldOwner); err != nil {
		if apierrors.IsNotFound(err) {
			return nil // Deleted meanwhile: nothing to report on.
		}
		return fmt.Errorf("writing the federation status of %s: %w", coop.Name, err)
	}
	coop.Status.Federation = fed
	return nil
}

// ClusterChanged lets through the changes of a CloudNativePG Cluster that the reconciler
// reads: its creation and deletion, its co-op label, and the status fields CloudNativePG
// writes on a demotion, a promotion or a change of phase (demotion token, last promotion
// token, timeline, phase, whether an instance is ready). Not its other status writes, which are frequent (instances,
// WAL archiving times, certificates, ...): each wake of a home co-op calls its peers' APIs.
func ClusterChanged() predicate.Funcs {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*cnpgv1.Cluster)
			n, ok2 := e.ObjectNew.(*cnpgv1.Cluster)
			if !ok1 || !ok2 {
				return false
			}
			return o.Labels[coopv1.LabelCooperative] != n.Labels[coopv1.LabelCooperative] ||
				o.DeletionTimestamp.IsZero() != n.DeletionTimestamp.IsZero() ||
				o.Status.DemotionToken != n.Status.DemotionToken ||
				o.Status.LastPromotionToken != n.Status.LastPromotionToken ||
				o.Status.TimelineID != n.Status.TimelineID || onATimeline(o) != onATimeline(n) ||
				o.Status.Phase != n.Status.Phase ||
				(o.Status.ReadyInstances > 0) != (n.Status.ReadyInstances > 0)
		},
	}
}

// SetupWithManager registers the reconciler. It wakes on a co-op's spec and annotations, on
// its Cluster (CloudNativePG's demotion and promotion), on the FederationPeers and on the
// peer access it grants (BuildPeerAccess).
func (r *CooperativeReconciler) SetupWithManager(mgr ctrl.Manager) error {
	byLabel := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		if name := obj.GetLabels()[coopv1.LabelCooperative]; name != "" {
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: name}}}
		}
		return nil
	})
	byPeer := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		peer, ok := obj.(*coopv1.FederationPeer)
		if !ok {
			return nil
		}
		return CooperativesOfPeer(ctx, r.Client, peer)
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&coopv1.Cooperative{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, predicate.NewPredicateFuncs(func(o client.Object) bool { return !o.GetDeletionTimestamp().IsZero() })))).
		Named("federation").
		Watches(&cnpgv1.Cluster{}, byLabel, builder.WithPredicates(ClusterChanged())).
		// A contact rewrites the peer's status every interval; only a change of what the
		// co-ops depend on wakes them (each wake calls the peer).
		Watches(&coopv1.FederationPeer{}, byPeer, builder.WithPredicates(topology.PeerTopologyChanged())).
		// The access a peer has to its own co-ops here, made again when removed.
		Owns(&rbacv1.ClusterRole{}, builder.WithPredicates(peerAccess)).
		Owns(&rbacv1.ClusterRoleBinding{}, builder.WithPredicates(peerAccess)).
		Complete(r)
}

// CooperativesOfPeer are the co-ops a FederationPeer concerns: those that list it, and the
// standbys from its region.
func CooperativesOfPeer(ctx context.Context, c client.Client, peer *coopv1.FederationPeer) []reconcile.Request {
	var coops coopv1.CooperativeList
	if err := c.List(ctx, &coops); err != nil {
		log.FromContext(ctx).Error(err, "Failed to list co-ops")
		return nil
	}
	var out []reconcile.Request
	for i := range coops.Items {
		co := &coops.Items[i]
		match := co.Spec.Standby != nil && co.Spec.Standby.HomeRegion == peer.Spec.Region
		for _, ref := range co.Spec.Federation.Peers {
			match = match || ref.Name == peer.Name
		}
		if co.Status.Federation != nil {
			for _, st := range co.Status.Federation.Standbys {
				match = match || st.Peer == peer.Name
			}
		}
		if match {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: co.Name}})
		}
	}
	return out
}
