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
	"strings"

	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/cooperator-dev/cooperator/api/topology"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/ssa"
	"github.com/cooperator-dev/cooperator/controllers/shared/text"
)

// MoveFieldOwner is the field manager of status.origin of a co-op this hub adopted from a
// peer; apart from FieldOwner, whose applies of status.federation would otherwise remove it.
const MoveFieldOwner = "cooperator-federation-move"

// A move (`cooperator federation move COOP --to PEER`) is a switchover followed by a
// release:
//
//  1. on the home hub, the annotation coopv1.AnnotationMoveTo names the peer and
//     spec.federation.primary asks the primary there; the switchover runs as usual;
//  2. once the copy there holds the primary, the home writes spec.standby.release into the
//     standby (the only thing the peer role lets it write there: its own standbys);
//  3. the peer's operator adopts it, if its FederationPeer of the home region accepts moves
//     (spec.accept.moves): it records status.origin, then drops spec.standby, puts the co-op
//     on the plan it had as a standby, gives it the deletion policy it had at home, and
//     removes the copy of the home's read credentials;
//  4. the home sees the copy there is no longer its standby but the adopted co-op (origin
//     naming this region and co-op), reports the standby Moved and the move Released, and
//     from then on neither writes nor removes it; whoever may delete the co-op here deletes
//     it, with its own deletion policy (a final backup with Retain).
//
// Each step is idempotent and read back from the objects themselves, so that a move
// interrupted anywhere goes on from where it stands.

// switchedOverTo says whether the switchover a move starts with is complete: the primary is
// asked at the peer the co-op moves to, the local Cluster was demoted, and the copy there
// reports that it holds the primary. Once released, the release stays while the primary is
// asked there, even while the peer does not answer: it is never withdrawn by a hiccup.
func switchedOverTo(s *homeScope, prev coopv1.PeerStandbyStatus) bool {
	if s.coop.Spec.Federation.Primary != s.moveTo || s.holdsPrimary {
		return false
	}
	if m := s.old.Move; m != nil && m.Peer == s.moveTo && (m.Phase == coopv1.MoveReleasing || m.Phase == coopv1.MoveReleased) {
		return true
	}
	return s.fed.DemotionToken != "" && prev.Role == coopv1.RolePrimary && (prev.State == coopv1.StandbyMirrored || prev.State == coopv1.StandbyMoved)
}

// AdoptedFrom says whether a Cooperative read at a peer is the co-op that hub adopted from
// this region's co-op home: no longer a standby, and its origin naming both.
func AdoptedFrom(there *coopv1.Cooperative, region, home string) bool {
	o := there.Status.Origin
	return there.Spec.Standby == nil && o != nil && o.Region == region && o.Cooperative == home && o.MovedAt != nil
}

// adoptedBy reads the co-op's copy at a peer and says whether that hub adopted it.
func (r *CooperativeReconciler) adoptedBy(ctx context.Context, pc client.Client, coop *coopv1.Cooperative) (bool, error) {
	var there coopv1.Cooperative
	visible, _, err := readThere(ctx, pc, coop.Name, &there)
	if err != nil || !visible {
		return false, err
	}
	return AdoptedFrom(&there, r.Hub.Region, coop.Name), nil
}

// MoveOf is where the co-op's move to peer moveTo stands, from the federation status the
// phases built (fed), the one read (old), and whether this reconcile released the standby.
func MoveOf(coop *coopv1.Cooperative, fed, old *coopv1.FederationStatus, moveTo string, released bool, now metav1.Time) *coopv1.MoveStatus {
	m := &coopv1.MoveStatus{Peer: moveTo}
	var st *coopv1.PeerStandbyStatus
	for i := range fed.Standbys {
		if fed.Standbys[i].Peer == moveTo {
			st = &fed.Standbys[i]
		}
	}
	switch {
	case st == nil:
		m.Phase, m.Message = coopv1.MoveRefused, fmt.Sprintf("the co-op does not list peer %s: it moves only to a peer that keeps its standby", moveTo)
		return m
	case coop.Spec.Federation.Primary != moveTo && st.State != coopv1.StandbyMoved:
		m.Region = st.Region
		m.Phase, m.Message = coopv1.MoveRefused, fmt.Sprintf("spec.federation.primary is not %s: a move starts with a switchover to that peer (cooperator federation move asks both)", moveTo)
		return m
	}
	m.Region = st.Region
	switch {
	case st.State == coopv1.StandbyMoved:
		m.Phase = coopv1.MoveReleased
		m.ReleasedAt = &now
		if old != nil && old.Move != nil && old.Move.Phase == coopv1.MoveReleased && old.Move.ReleasedAt != nil {
			m.ReleasedAt = old.Move.ReleasedAt
		}
		m.Message = fmt.Sprintf("the hub of region %s adopted the co-op; delete this Cooperative here to finish (cooperator federation move does): this copy goes by its deletion policy, the one there is not touched", st.Region)
	case !released:
		m.Phase = coopv1.MoveSwitchingOver
		m.Message = fmt.Sprintf("waiting for the switchover to %s to complete (here %s; there %s, %s)", moveTo, orNone(string(fed.Role)), st.State, orNone(string(st.Role)))
	default:
		m.Phase = coopv1.MoveReleasing
		m.Message = fmt.Sprintf("released the standby at %s; waiting for that hub to adopt it", moveTo)
		if st.State != coopv1.StandbyMirrored {
			m.Message += fmt.Sprintf(" (the standby there is %s)", st.State)
		}
		if st.Message != "" {
			m.Message += ": " + st.Message
		}
	}
	if len(m.Message) > 1024 {
		m.Message = m.Message[:1024]
	}
	return m
}

func orNone(s string) string {
	if s == "" {
		return "no role yet"
	}
	return s
}

// move records where the co-op's move stands, and tells of each new phase in an event; once
// the peer adopted the co-op, the move goes into the FederationPeer's history.
func (r *CooperativeReconciler) move(ctx context.Context, s *homeScope) error {
	if s.moveTo == "" {
		return nil
	}
	if s.fed == nil {
		s.fed = &coopv1.FederationStatus{PrimaryRegion: r.Hub.Region, Role: coopv1.RolePrimary}
		s.untouched = false
	}
	s.fed.Move = MoveOf(s.coop, s.fed, s.old, s.moveTo, s.released, r.now())
	if m := s.fed.Move; m.Phase == coopv1.MoveReleased {
		for i := range s.peers {
			if s.peers[i].Name == s.moveTo {
				if err := r.recordMove(ctx, &s.peers[i], coopv1.MoveRecord{Cooperative: s.coop.Name, Direction: coopv1.MoveToPeer, Time: *m.ReleasedAt}); err != nil {
					return err
				}
			}
		}
	}
	if s.old.Move != nil && s.old.Move.Phase == s.fed.Move.Phase {
		return nil
	}
	switch s.fed.Move.Phase {
	case coopv1.MoveRefused:
		r.Recorder.Eventf(s.coop, nil, corev1.EventTypeWarning, coopv1.ReasonMoveRefused, "Move", "%s", s.fed.Move.Message)
	case coopv1.MoveReleased:
		r.Recorder.Eventf(s.coop, nil, corev1.EventTypeNormal, coopv1.ReasonMoved, "Move", "Moved to peer %s: %s", s.moveTo, s.fed.Move.Message)
	default:
		r.Recorder.Eventf(s.coop, nil, corev1.EventTypeNormal, coopv1.ReasonMoving, "Move", "Moving to peer %s: %s", s.moveTo, s.fed.Move.Message)
	}
	return nil
}

// adoptReleased adopts a standby its home released, if this hub accepts moves from that
// region and the copy here holds the primary; otherwise it says in fed what it waits for.
// It reports whether the co-op was adopted.
func (r *CooperativeReconciler) adoptReleased(ctx context.Context, coop *coopv1.Cooperative, old, fed *coopv1.FederationStatus) (bool, error) {
	sb := coop.Spec.Standby
	if fed.Role != coopv1.RolePrimary {
		fed.Message = fmt.Sprintf("released by its home hub (region %s): adopted once this copy holds the primary", sb.HomeRegion)
		return false, nil
	}
	var peers coopv1.FederationPeerList
	if err := r.Client.List(ctx, &peers); err != nil {
		return false, fmt.Errorf("listing FederationPeers: %w", err)
	}
	peer := topology.PeerOfRegion(peers.Items, sb.HomeRegion)
	if peer == nil || !peer.Spec.Accept.Moves {
		name := ""
		if peer != nil {
			name = " " + peer.Name
		}
		fed.Message = fmt.Sprintf("its home hub (region %s) released it to this hub, which does not accept moves from that region (FederationPeer%s, spec.accept.moves): it stays a standby", sb.HomeRegion, name)
		if old.Message != fed.Message {
			r.Recorder.Eventf(coop, nil, corev1.EventTypeWarning, coopv1.ReasonMoveRefused, "Adopt", "%s", fed.Message)
		}
		return false, nil
	}
	// The origin first: once spec.standby is gone, nothing else says where the co-op came
	// from, and its home recognises the adoption by it.
	movedAt := r.now()
	if o := coop.Status.Origin; o != nil && o.MovedAt != nil && o.Region == sb.HomeRegion {
		movedAt = *o.MovedAt
	}
	origin := coopv1.ImportOrigin{Cooperative: sb.HomeCooperative, Region: sb.HomeRegion, Backups: sb.ObjectStore.DestinationPath, MovedAt: &movedAt}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&origin)
	if err != nil {
		return false, fmt.Errorf("converting the origin: %w", err)
	}
	if err := ssa.ApplyStatus(ctx, r.Client, coopv1.GroupVersion.WithKind("Cooperative"), client.ObjectKey{Name: coop.Name}, map[string]any{"origin": m}, MoveFieldOwner); err != nil {
		return false, fmt.Errorf("recording the origin of %s: %w", coop.Name, err)
	}
	// The record before the patch: once spec.standby is gone, no reconcile comes back here.
	rec := coopv1.MoveRecord{Cooperative: coop.Name, Direction: coopv1.MoveFromPeer, Time: movedAt}
	if err := r.recordMove(ctx, peer, rec); err != nil {
		return false, err
	}
	patch := client.MergeFromWithOptions(coop.DeepCopy(), client.MergeFromWithOptimisticLock{})
	Adopt(coop, peer.Spec.Accept.Plan)
	if err := r.Client.Patch(ctx, coop, patch); err != nil {
		return false, fmt.Errorf("adopting %s: %w", coop.Name, err)
	}
	r.Recorder.Eventf(coop, nil, corev1.EventTypeNormal, coopv1.ReasonAdopted, "Adopt",
		"Adopted co-op %s, which its home hub (region %s) released: it is this hub's own co-op now, on plan %s; name its admins in spec.admins", sb.HomeCooperative, sb.HomeRegion, peer.Spec.Accept.Plan)
	log.FromContext(ctx).Info("Adopted co-op released by its home", "cooperative", coop.Name, "homeRegion", sb.HomeRegion, "plan", peer.Spec.Accept.Plan)
	return true, r.forgetOldHome(ctx, coop, sb.HomeRegion)
}

// Adopt makes a released standby this hub's own co-op, on plan: no spec.standby, the
// deletion policy its home released it with (Retain when it named none), no mirror label,
// and none of an import's annotations. A standby takes no import, but one written before
// the webhook refused them could carry them, and once adopted its database would be
// restored from the dump they name over the data it replayed from home.
func Adopt(coop *coopv1.Cooperative, plan string) {
	policy := coopv1.DeletionPolicyRetain
	if sb := coop.Spec.Standby; sb != nil && sb.Release != nil && sb.Release.DeletionPolicy != "" {
		policy = sb.Release.DeletionPolicy
	}
	coop.Spec.Standby = nil
	coop.Spec.Plan = plan
	coop.Spec.DeletionPolicy = policy
	delete(coop.Labels, coopv1.LabelMirroredFrom)
	for _, key := range coopv1.ImportAnnotations {
		delete(coop.Annotations, key)
	}
}

// forgetOldHome removes what an adopted co-op kept of its old home: the copy of the home's
// read-only object store credentials (in the mirror namespace and in the co-op's), and the
// ObjectStore that read the home's archive.
func (r *CooperativeReconciler) forgetOldHome(ctx context.Context, coop *coopv1.Cooperative, homeRegion string) error {
	for _, obj := range []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: coopv1.MirrorNamespace(homeRegion), Name: PeerSecretName(coop.Name)}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: coop.NamespaceName(), Name: SourceSecretName(coop.Name, homeRegion)}},
		&barmanv1.ObjectStore{ObjectMeta: metav1.ObjectMeta{Namespace: coop.NamespaceName(), Name: SourceObjectStoreName(coop.Name, homeRegion)}},
	} {
		if err := r.Client.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("removing %s %s of the old home of %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, client.ObjectKeyFromObject(obj), coop.Name, err)
		}
	}
	return nil
}

// forget finishes an adoption interrupted before forgetOldHome: while the ObjectStore that
// read the old home's archive is still there, it removes what the co-op kept of its old home.
func (r *CooperativeReconciler) forget(ctx context.Context, s *homeScope) error {
	o := s.coop.Status.Origin
	if o == nil || o.Region == "" || o.MovedAt == nil {
		return nil
	}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: s.coop.NamespaceName(), Name: SourceObjectStoreName(s.coop.Name, o.Region)}, &barmanv1.ObjectStore{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("reading the ObjectStore of the old home of %s: %w", s.coop.Name, err)
	}
	return r.forgetOldHome(ctx, s.coop, o.Region)
}

// recordMove adds a move to the FederationPeer's history (status.moves), keeping the most
// recent coopv1.MaxMoveRecords. A co-op's moves with one peer alternate in direction: a record
// whose direction is that of the co-op's latest one there is already written. The history
// is applied at the resourceVersion it was read at, so that two co-ops recorded at once
// do not write over each other: the later one reads again.
func (r *CooperativeReconciler) recordMove(ctx context.Context, peer *coopv1.FederationPeer, rec coopv1.MoveRecord) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var fresh coopv1.FederationPeer
		if err := r.Client.Get(ctx, client.ObjectKeyFromObject(peer), &fresh); err != nil {
			return fmt.Errorf("reading FederationPeer %s: %w", peer.Name, err)
		}
		moves, added := AppendMove(fresh.Status.Moves, rec)
		if !added {
			return nil
		}
		list := make([]any, 0, len(moves))
		for i := range moves {
			m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&moves[i])
			if err != nil {
				return fmt.Errorf("converting a move record: %w", err)
			}
			list = append(list, m)
		}
		if err := ssa.ApplyStatusAt(ctx, r.Client, coopv1.GroupVersion.WithKind("FederationPeer"), client.ObjectKeyFromObject(peer), fresh.ResourceVersion, map[string]any{"moves": list}, MoveFieldOwner); err != nil {
			return fmt.Errorf("recording the move of %s in FederationPeer %s: %w", rec.Cooperative, peer.Name, err)
		}
		peer.Status.Moves = moves
		return nil
	})
}

// AppendMove is the history with rec added, unless the co-op's latest move in it already
// goes that way (added false); at most coopv1.MaxMoveRecords, the oldest dropped.
func AppendMove(moves []coopv1.MoveRecord, rec coopv1.MoveRecord) (out []coopv1.MoveRecord, added bool) {
	for i := len(moves) - 1; i >= 0; i-- {
		if moves[i].Cooperative == rec.Cooperative {
			if moves[i].Direction == rec.Direction {
				return moves, false
			}
			break
		}
	}
	out = append(append([]coopv1.MoveRecord(nil), moves...), rec)
	if len(out) > coopv1.MaxMoveRecords {
		out = out[len(out)-coopv1.MaxMoveRecords:]
	}
	return out, true
}

// DeletionHold implements topology.Federation: the deletion with deletionPolicy Delete of a
// co-op that moved to a peer hub empties its prefix of this hub's object store and removes
// its database here, the only way back until its copy at that hub has a base backup of its
// own. It waits, saying why, until the copy there, read at that hub, is the co-op adopted
// from here and reports a completed base backup (status.lastBackup); whatever this hub
// cannot check (the peer not ready or unreachable, the copy gone or no longer readable
// from here) holds it too. The annotation coopv1.AnnotationDeleteBeforeMovedBackup, which
// only the hub's admins may set, gives up waiting. Where the co-op went is read from its
// status (the move Released, a standby Moved) and from the FederationPeers' history of
// moves, which outlives a status lost.
func (r *CooperativeReconciler) DeletionHold(ctx context.Context, coop *coopv1.Cooperative) (string, error) {
	if coop.Spec.Standby != nil || coop.Spec.DeletionPolicy != coopv1.DeletionPolicyDelete ||
		coop.Annotations[coopv1.AnnotationDeleteBeforeMovedBackup] == coopv1.AcceptDataLoss {
		return "", nil
	}
	var peers coopv1.FederationPeerList
	if err := r.Client.List(ctx, &peers); err != nil {
		return "", fmt.Errorf("listing FederationPeers: %w", err)
	}
	var waiting []string
	for _, name := range MovedTo(coop, peers.Items) {
		var peer *coopv1.FederationPeer
		for i := range peers.Items {
			if peers.Items[i].Name == name {
				peer = &peers.Items[i]
			}
		}
		if why := r.movedCopyUnsafe(ctx, coop, name, peer); why != "" {
			waiting = append(waiting, name+": "+why)
		}
	}
	if len(waiting) == 0 {
		return "", nil
	}
	return text.Truncate(fmt.Sprintf("deletionPolicy Delete: the co-op moved to another hub, whose copy has no base backup of its own yet as far as this hub can tell (%s); "+
		"until it has, this hub's database and backups are the only way back if that copy fails, and they are not deleted. "+
		"If that hub is gone for good, a hub admin sets the annotation %s: %s",
		strings.Join(waiting, "; "), coopv1.AnnotationDeleteBeforeMovedBackup, coopv1.AcceptDataLoss), maxConditionMessage), nil
}

// maxConditionMessage is the longest condition message the API takes.
const maxConditionMessage = 32768

// MovedTo are the FederationPeers a home co-op moved to: the peer of its move once
// Released, those its standbys report Moved, and those whose history (status.moves) says
// the co-op's latest move with them went there since the co-op was created.
func MovedTo(coop *coopv1.Cooperative, peers []coopv1.FederationPeer) []string {
	var out []string
	add := func(name string) {
		if name != "" && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	if fed := coop.Status.Federation; fed != nil {
		if m := fed.Move; m != nil && m.Phase == coopv1.MoveReleased {
			add(m.Peer)
		}
		for _, st := range fed.Standbys {
			if st.State == coopv1.StandbyMoved {
				add(st.Peer)
			}
		}
	}
	for i := range peers {
		moves := peers[i].Status.Moves
		for j := len(moves) - 1; j >= 0; j-- {
			if moves[j].Cooperative != coop.Name {
				continue
			}
			if moves[j].Direction == coopv1.MoveToPeer && !moves[j].Time.Before(&coop.CreationTimestamp) {
				add(peers[i].Name)
			}
			break
		}
	}
	return out
}

// movedCopyUnsafe says why the co-op's copy at the peer it moved to cannot be shown to hold
// a completed base backup of its own ("" when it can).
func (r *CooperativeReconciler) movedCopyUnsafe(ctx context.Context, coop *coopv1.Cooperative, name string, peer *coopv1.FederationPeer) string {
	if peer == nil {
		return "this hub no longer declares that FederationPeer, and cannot ask"
	}
	if !PeerReady(peer) {
		return "the peer is not ready, and cannot be asked"
	}
	pc, err := r.Peers.For(ctx, peer)
	if err != nil {
		return err.Error()
	}
	ctx, cancel := context.WithTimeout(ctx, 2*peerTimeout)
	defer cancel()
	var there coopv1.Cooperative
	visible, hidden, err := readThere(ctx, pc, coop.Name, &there)
	switch {
	case err != nil:
		return err.Error()
	case hidden:
		return fmt.Sprintf("that hub no longer lets this hub read the co-op (it does for %s after the move)", AdoptedReadWindow)
	case !visible:
		return "the co-op is not there"
	case !AdoptedFrom(&there, r.Hub.Region, coop.Name):
		return "the co-op there is not the one adopted from this hub"
	case there.Status.LastBackup == nil:
		return "the copy there reports no completed base backup yet (status.lastBackup)"
	}
	return ""
}
