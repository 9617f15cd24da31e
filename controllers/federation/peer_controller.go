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
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/controllers/shared/ssa"
)

// Backoff of contacts with a peer that does not answer.
const (
	backoffBase = 2 * time.Second
	backoffMax  = 5 * time.Minute
)

// FederationPeerReconciler keeps a FederationPeer's status: whether the peer answers, whether its
// credentials are scoped as they must be and its operator's version, from contacts every
// ContactInterval; and, apart from the contacts, the co-ops mirrored each way.
type FederationPeerReconciler struct {
	Client   client.Client
	Hub      hubconfig.Config
	Peers    *PeerClients
	Recorder recorder.EventRecorder
	// ContactInterval is how often a reachable peer is contacted again.
	ContactInterval time.Duration
	// Clock tells the time of contacts; nil is the real clock.
	Clock clock.PassiveClock
}

// MirrorsFieldOwner is the field manager of a FederationPeer's mirror counts, which the
// counting controller writes apart from the contacts.
const MirrorsFieldOwner = "cooperator-federation-mirrors"

func (r *FederationPeerReconciler) now() metav1.Time {
	if r.Clock == nil {
		return metav1.NewTime(time.Now().Truncate(time.Second))
	}
	return metav1.NewTime(r.Clock.Now().Truncate(time.Second))
}

// +kubebuilder:rbac:groups=coop.cooperator.dev,resources=federationpeers,verbs=get;list;watch
// +kubebuilder:rbac:groups=coop.cooperator.dev,resources=federationpeers/status,verbs=get;update;patch

// Contact is what one contact with a peer found.
type Contact struct {
	// KubeconfigErr: the kubeconfig Secret is missing or unusable.
	KubeconfigErr error
	// Err: the peer's API did not answer.
	Err error
	// Info is the peer's cooperator-info, nil when it published none (or it is unreadable).
	Info *Info
	// Excess is what the credentials can do that they must not; Missing what they need.
	Excess, Missing []string
	// Time of the contact.
	Time metav1.Time
}

// Info is what an operator publishes for its peers in its ConfigMap cooperator-info.
type Info struct {
	Version           string
	Region            string
	BackupDestination string
}

// SetPeerStatus sets the peer's conditions and fields from one contact.
func SetPeerStatus(peer *coopv1.FederationPeer, c Contact) {
	st := &peer.Status
	st.ObservedGeneration = peer.Generation
	set := func(t string, ok bool, reason, msg string) {
		status := metav1.ConditionFalse
		if ok {
			status = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: t, Status: status, Reason: reason, Message: msg, ObservedGeneration: peer.Generation})
	}
	switch {
	case c.KubeconfigErr != nil:
		st.ConsecutiveFailures++
		set(coopv1.ConditionReachable, false, coopv1.ReasonKubeconfigInvalid, c.KubeconfigErr.Error())
		set(coopv1.ConditionReady, false, coopv1.ReasonKubeconfigInvalid, c.KubeconfigErr.Error())
		return
	case c.Err != nil:
		st.ConsecutiveFailures++
		msg := fmt.Sprintf("the peer's API did not answer (%d attempts in a row): %v", st.ConsecutiveFailures, c.Err)
		set(coopv1.ConditionReachable, false, coopv1.ReasonUnreachable, msg)
		set(coopv1.ConditionReady, false, coopv1.ReasonUnreachable, msg)
		return
	}
	st.ConsecutiveFailures = 0
	st.LastContact = c.Time.DeepCopy()
	reach := "the peer's API answered"
	if c.Info != nil {
		st.OperatorVersion, st.Region, st.BackupDestination = c.Info.Version, c.Info.Region, c.Info.BackupDestination
		reach += "; its operator is version " + c.Info.Version
	} else {
		reach += "; its operator publishes no " + coopv1.InfoConfigMapName + " (not installed, or an older version)"
	}
	set(coopv1.ConditionReachable, true, coopv1.ReasonContacted, reach)
	switch {
	case len(c.Excess) > 0:
		msg := "the peer credentials can do more than federation needs, so nothing is sent through them: they can " +
			strings.Join(c.Excess, ", ") + "; bind only the peer roles, as config/rbac/federation_peer_role.yaml says"
		set(coopv1.ConditionCredentialsScoped, false, coopv1.ReasonOverPrivileged, msg)
		set(coopv1.ConditionReady, false, coopv1.ReasonOverPrivileged, msg)
	case len(c.Missing) > 0:
		msg := "the peer credentials cannot " + strings.Join(c.Missing, ", ") + "; bind the peer roles as config/rbac/federation_peer_role.yaml says"
		set(coopv1.ConditionCredentialsScoped, false, coopv1.ReasonMissingPermissions, msg)
		set(coopv1.ConditionReady, false, coopv1.ReasonMissingPermissions, msg)
	case c.Info == nil:
		set(coopv1.ConditionCredentialsScoped, true, coopv1.ReasonScoped, "the peer credentials can do nothing beyond federation, of what was checked")
		set(coopv1.ConditionReady, false, coopv1.ReasonOperatorInfoMissing, "the peer's operator publishes no "+coopv1.InfoConfigMapName+
			" (not running yet, not installed, or an older version), so its region and backup bucket are unknown; standbys wait until it does")
	case c.Info.Region != "" && c.Info.Region != peer.Spec.Region:
		set(coopv1.ConditionCredentialsScoped, true, coopv1.ReasonScoped, "the peer credentials can do nothing beyond federation, of what was checked")
		msg := fmt.Sprintf("the peer's operator runs in region %s, spec.region is %s", c.Info.Region, peer.Spec.Region)
		set(coopv1.ConditionReady, false, coopv1.ReasonRegionMismatch, msg)
	default:
		set(coopv1.ConditionCredentialsScoped, true, coopv1.ReasonScoped, "the peer credentials can do nothing beyond federation, of what was checked")
		set(coopv1.ConditionReady, true, coopv1.ReasonReady, "the peer answers and its credentials are scoped")
	}
}

// PeerReady says whether co-ops' data may be sent to the peer.
func PeerReady(peer *coopv1.FederationPeer) bool {
	return meta.IsStatusConditionTrue(peer.Status.Conditions, coopv1.ConditionReady) &&
		peer.Status.ObservedGeneration == peer.Generation
}

// Backoff is the wait before the next contact after n failures in a row: doubling from
// backoffBase up to backoffMax, plus up to a fifth of it at random.
func Backoff(n int32) time.Duration {
	d := backoffBase
	for i := int32(1); i < n && d < backoffMax; i++ {
		d *= 2
	}
	d = min(d, backoffMax)
	return wait.Jitter(d, 0.2)
}

// Reconcile contacts the peer and records what it found.
func (r *FederationPeerReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	peer := &coopv1.FederationPeer{}
	if err := r.Client.Get(ctx, req.NamespacedName, peer); err != nil {
		if apierrors.IsNotFound(err) {
			r.Peers.Forget(req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	original := peer.DeepCopy()
	if !peer.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	if peer.Spec.Accept.Standbys {
		if err := r.ensureMirrorNamespace(ctx, peer); err != nil {
			return ctrl.Result{}, err
		}
	}
	contact := r.contact(ctx, peer)
	SetPeerStatus(peer, contact)
	result := r.recordContact(ctx, original, peer, contact)
	if err := r.applyStatus(ctx, original, peer); err != nil {
		return ctrl.Result{}, err
	}
	return result, nil
}

// recordContact tells of a contact in events and the log (a failure each time; an answer or
// over-scoped credentials when they are new) and says when to contact the peer next: after
// a backoff on failure, after ContactInterval otherwise.
func (r *FederationPeerReconciler) recordContact(ctx context.Context, original, peer *coopv1.FederationPeer, contact Contact) ctrl.Result {
	logger := log.FromContext(ctx)
	var result ctrl.Result
	if contact.Err != nil || contact.KubeconfigErr != nil {
		err := errors.Join(contact.Err, contact.KubeconfigErr)
		r.Recorder.Eventf(peer, nil, corev1.EventTypeWarning, coopv1.ReasonUnreachable, "Contact", "Peer %s did not answer: %v", peer.Name, err)
		logger.Info("Failed to contact the peer", "peer", peer.Name, "failures", peer.Status.ConsecutiveFailures, "error", err.Error())
		result.RequeueAfter = Backoff(peer.Status.ConsecutiveFailures)
	} else {
		if !meta.IsStatusConditionTrue(original.Status.Conditions, coopv1.ConditionReachable) {
			r.Recorder.Eventf(peer, nil, corev1.EventTypeNormal, coopv1.ReasonContacted, "Contact", "Peer %s answered", peer.Name)
		}
		if c := meta.FindStatusCondition(peer.Status.Conditions, coopv1.ConditionCredentialsScoped); c != nil && c.Status != metav1.ConditionTrue &&
			!meta.IsStatusConditionFalse(original.Status.Conditions, coopv1.ConditionCredentialsScoped) {
			r.Recorder.Eventf(peer, nil, corev1.EventTypeWarning, c.Reason, "CheckCredentials", "%s", c.Message)
		}
		result.RequeueAfter = wait.Jitter(r.ContactInterval, 0.1)
	}
	return result
}

// applyStatus applies what the contact found, under FieldOwner; nothing when it changed
// nothing. The mirror counts are left to the counting controller (MirrorsFieldOwner).
func (r *FederationPeerReconciler) applyStatus(ctx context.Context, original, peer *coopv1.FederationPeer) error {
	if equality.Semantic.DeepEqual(original.Status, peer.Status) {
		return nil
	}
	fields, err := ssa.StatusFields(&peer.Status, "mirroredTo", "mirroredFrom")
	if err != nil {
		return err
	}
	if err := ssa.ApplyStatus(ctx, r.Client, coopv1.GroupVersion.WithKind("FederationPeer"), client.ObjectKeyFromObject(peer), fields, FieldOwner); err != nil {
		return fmt.Errorf("writing the status of FederationPeer %s: %w", peer.Name, err)
	}
	return nil
}

// contact asks the peer's API about its credentials and reads its cooperator-info.
func (r *FederationPeerReconciler) contact(ctx context.Context, peer *coopv1.FederationPeer) Contact {
	c := Contact{Time: r.now()}
	pc, err := r.Peers.For(ctx, peer)
	if err != nil {
		c.KubeconfigErr = err
		return c
	}
	ctx, cancel := context.WithTimeout(ctx, 2*peerTimeout)
	defer cancel()
	ns := peer.Spec.OperatorNamespace
	if ns == "" {
		ns = r.Hub.OperatorNamespace
	}
	c.Excess, c.Missing, c.Err = CheckScope(ctx, pc, ns, r.Hub.Region)
	if c.Err != nil {
		return c
	}
	var cm corev1.ConfigMap
	switch err := pc.Get(ctx, client.ObjectKey{Namespace: ns, Name: coopv1.InfoConfigMapName}, &cm); {
	case err == nil:
		c.Info = &Info{Version: cm.Data["version"], Region: cm.Data["region"], BackupDestination: cm.Data["backupDestination"]}
	case apierrors.IsForbidden(err):
		c.Missing = append(c.Missing, "get ConfigMap "+ns+"/"+coopv1.InfoConfigMapName)
	case !apierrors.IsNotFound(err):
		c.Err = fmt.Errorf("reading %s/%s: %w", ns, coopv1.InfoConfigMapName, err)
	}
	return c
}

// ensureMirrorNamespace creates the namespace where the peer writes the credentials of its
// standbys' backups. The peer cannot create namespaces itself.
func (r *FederationPeerReconciler) ensureMirrorNamespace(ctx context.Context, peer *coopv1.FederationPeer) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   coopv1.MirrorNamespace(peer.Spec.Region),
		Labels: map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue, coopv1.LabelMirroredFrom: peer.Spec.Region},
	}}
	if _, err := ssa.ApplyFetch(ctx, r.Client, ns, &corev1.Namespace{}); err != nil {
		return fmt.Errorf("creating the mirror namespace of peer %s: %w", peer.Name, err)
	}
	// The operator reads the standbys' credentials there: its own rights in the namespace.
	binding := hubconfig.BuildOperatorRoleBinding(metav1.ObjectMeta{Namespace: ns.Name, Labels: ns.Labels}, &r.Hub)
	res, err := ssa.ApplyFetch(ctx, r.Client, binding, &rbacv1.RoleBinding{})
	if err != nil {
		return fmt.Errorf("binding the operator in the mirror namespace of peer %s: %w", peer.Name, err)
	}
	if res != ssa.Unchanged {
		if _, err := hubconfig.WaitForTenantAccess(ctx, r.Client, ns.Name); err != nil {
			return err
		}
	}
	return nil
}

// ReconcileMirrors counts the co-ops mirrored to and from the peer. It runs apart from the
// contacts, when a co-op that enters the counts changes, and calls no peer.
func (r *FederationPeerReconciler) ReconcileMirrors(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	peer := &coopv1.FederationPeer{}
	if err := r.Client.Get(ctx, req.NamespacedName, peer); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	var coops coopv1.CooperativeList
	if err := r.Client.List(ctx, &coops); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing co-ops: %w", err)
	}
	to, from := CountMirrored(peer, coops.Items)
	// The counts are written whatever the cached peer says: a count written a moment ago
	// may not be in the cache yet, and a peer's status changes wake no recount. Both counts
	// are sent, zero included, so that a count that drops to zero is stored as such. The
	// API server stores nothing when the counts are already there, so a recount that
	// changes nothing writes nothing.
	fields := map[string]any{"mirroredTo": int64(to), "mirroredFrom": int64(from)}
	if err := ssa.ApplyStatus(ctx, r.Client, coopv1.GroupVersion.WithKind("FederationPeer"), client.ObjectKeyFromObject(peer), fields, MirrorsFieldOwner); client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, fmt.Errorf("writing the mirror counts of FederationPeer %s: %w", peer.Name, err)
	}
	return ctrl.Result{}, nil
}

// CountMirrored counts the co-ops mirrored to the peer (whose standby there is Mirrored) and
// from it (standbys of its region this hub has not refused).
func CountMirrored(peer *coopv1.FederationPeer, coops []coopv1.Cooperative) (to, from int32) {
	for i := range coops {
		c := &coops[i]
		if sb := c.Spec.Standby; sb != nil {
			if sb.HomeRegion == peer.Spec.Region && !refused(c) {
				from++
			}
			continue
		}
		if c.Status.Federation == nil {
			continue
		}
		for _, st := range c.Status.Federation.Standbys {
			if st.Peer == peer.Name && st.State == coopv1.StandbyMirrored {
				to++
			}
		}
	}
	return to, from
}

// mirrorsKey is what a co-op contributes to the counts of mirrored co-ops: the home region
// of a standby and whether it is refused, or the peers a home co-op's standby is mirrored at.
func mirrorsKey(c *coopv1.Cooperative) string {
	if sb := c.Spec.Standby; sb != nil {
		return fmt.Sprintf("from %s, refused %t", sb.HomeRegion, refused(c))
	}
	var to []string
	if c.Status.Federation != nil {
		for _, st := range c.Status.Federation.Standbys {
			if st.State == coopv1.StandbyMirrored {
				to = append(to, st.Peer)
			}
		}
	}
	if len(to) == 0 {
		return ""
	}
	return "to " + strings.Join(to, ",")
}

// MirrorsChanged lets through the co-op changes that change a peer's counts of mirrored
// co-ops: a standby created or deleted or refused, a standby at a peer mirrored or no longer.
// Not the co-ops' other writes.
func MirrorsChanged() predicate.Funcs {
	return predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool {
			c, ok := e.Object.(*coopv1.Cooperative)
			return ok && mirrorsKey(c) != ""
		},
		DeleteFunc: func(e event.DeleteEvent) bool {
			c, ok := e.Object.(*coopv1.Cooperative)
			return ok && mirrorsKey(c) != ""
		},
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*coopv1.Cooperative)
			n, ok2 := e.ObjectNew.(*coopv1.Cooperative)
			return ok1 && ok2 && mirrorsKey(o) != mirrorsKey(n)
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

// PeersCounting are the FederationPeers whose counts a co-op enters: for a standby, those
// that declare its home region; for a home co-op, those its status lists a standby at.
func PeersCounting(c *coopv1.Cooperative, peers []coopv1.FederationPeer) []reconcile.Request {
	var out []reconcile.Request
	if sb := c.Spec.Standby; sb != nil {
		for _, p := range peers {
			if p.Spec.Region == sb.HomeRegion {
				out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: p.Name}})
			}
		}
		return out
	}
	if c.Status.Federation != nil {
		for _, st := range c.Status.Federation.Standbys {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: st.Peer}})
		}
	}
	return out
}

func refused(c *coopv1.Cooperative) bool {
	cond := meta.FindStatusCondition(c.Status.Conditions, coopv1.ConditionReady)
	return cond != nil && cond.Reason == coopv1.ReasonStandbyRefused
}

// SetupWithManager registers two controllers: federationpeer contacts the peer when it is
// declared or changed, when its kubeconfig Secret changes, and every ContactInterval;
// federationpeer-mirrors counts the co-ops mirrored each way when one of them changes, without
// contacting the peer.
func (r *FederationPeerReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := peerState.ReadWhenLeader(mgr, mgr.GetCache()); err != nil {
		return err
	}
	bySecret := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		if obj.GetNamespace() != r.Hub.OperatorNamespace {
			return nil
		}
		var peers coopv1.FederationPeerList
		if err := r.Client.List(ctx, &peers); err != nil {
			return nil
		}
		var out []reconcile.Request
		for _, p := range peers.Items {
			if p.Spec.KubeconfigSecretRef.Name == obj.GetName() {
				out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: p.Name}})
			}
		}
		return out
	})
	if err := ctrl.NewControllerManagedBy(mgr).
		For(&coopv1.FederationPeer{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("federationpeer").
		Watches(&corev1.Secret{}, bySecret).
		Complete(r); err != nil {
		return err
	}
	byCooperative := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		c, ok := obj.(*coopv1.Cooperative)
		if !ok {
			return nil
		}
		var peers coopv1.FederationPeerList
		if c.Spec.Standby != nil {
			if err := r.Client.List(ctx, &peers); err != nil {
				log.FromContext(ctx).Error(err, "Failed to list FederationPeers")
				return nil
			}
		}
		return PeersCounting(c, peers.Items)
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&coopv1.FederationPeer{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("federationpeer-mirrors").
		Watches(&coopv1.Cooperative{}, byCooperative, builder.WithPredicates(MirrorsChanged())).
		Complete(reconcile.Func(r.ReconcileMirrors))
}
