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
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/ssa"
)

// A peer hub reads back the standbys it writes here (their role, their demotion token, a
// refusal), and after a move the co-op this hub adopted from it. The shipped peer role
// (config/rbac/federation_peer_role.yaml) lets it write standbys, held to its own region
// by admission, but read none: RBAC cannot select Cooperatives by label, and a role that
// reads them by any name would show the peer every co-op of this hub. The operator grants
// each peer, by name, the read of the Cooperatives that are its own here.

// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles;clusterrolebindings,verbs=get;list;watch;create;update;patch;delete

// AdoptedReadWindow is how long the hub a co-op moved from may read it here after this hub
// adopted it: enough for that hub to see the adoption and delete its own copy (after a
// final backup); after it, the co-op is this hub's alone, its spec included.
const AdoptedReadWindow = 7 * 24 * time.Hour

// PeerRegionOf is the region of the peer hub a Cooperative here is that hub's own at now: a
// standby it mirrors here (spec.standby.homeRegion and the label LabelMirroredFrom, as the
// admission policy of the peer role holds its writes), or a co-op this hub adopted from it
// (status.origin) for AdoptedReadWindow after the move. "" for a co-op of this hub's own.
func PeerRegionOf(coop *coopv1.Cooperative, now time.Time) string {
	if sb := coop.Spec.Standby; sb != nil {
		if sb.HomeRegion != "" && coop.Labels[coopv1.LabelMirroredFrom] == sb.HomeRegion {
			return sb.HomeRegion
		}
		return ""
	}
	if o := coop.Status.Origin; o != nil && o.MovedAt != nil && now.Before(o.MovedAt.Add(AdoptedReadWindow)) {
		return o.Region
	}
	return ""
}

// PeerSubjects are the two forms of the identity of the peer hub of region at this hub.
func PeerSubjects(region string) []rbacv1.Subject {
	return []rbacv1.Subject{
		{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: coopv1.PeerUserPrefix + region},
		{Kind: rbacv1.ServiceAccountKind, Namespace: coopv1.PeerServiceAccountNamespace, Name: region},
	}
}

// BuildPeerAccess is the ClusterRole that lets the peer of region read and change the one
// Cooperative coop (a standby it wrote, or a co-op adopted from it) and its binding to
// that peer's identities; owned by coop, so they go with it. Its writes stay held by the
// admission policy to standbys of its region.
func BuildPeerAccess(coop *coopv1.Cooperative, region string) (*rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding) {
	meta := func() metav1.ObjectMeta {
		return metav1.ObjectMeta{
			Name:            coopv1.PeerClusterRoleName(coop),
			Labels:          map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue, coopv1.LabelCooperative: coop.Name, coopv1.LabelMirroredFrom: region},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(coop, coopv1.GroupVersion.WithKind("Cooperative"))},
		}
	}
	role := &rbacv1.ClusterRole{ObjectMeta: meta(), Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{coopv1.GroupVersion.Group}, Resources: []string{"cooperatives"},
		Verbs: []string{"get", "update", "patch"}, ResourceNames: []string{coop.Name},
	}}}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: meta(),
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: PeerSubjects(region),
	}
	return role, binding
}

// grantPeerAccess applies the peer access of a Cooperative that is a peer's own here, and
// removes it from one that is no longer (a standby whose labels a hub admin changed, a
// co-op adopted more than AdoptedReadWindow ago). ends is how long until the access it
// granted ends by itself (0: not by itself), for the reconcile to come back then.
func (r *CooperativeReconciler) grantPeerAccess(ctx context.Context, coop *coopv1.Cooperative) (ends time.Duration, err error) {
	if !coop.DeletionTimestamp.IsZero() {
		return 0, nil // the garbage collector removes it with the co-op
	}
	now := r.now().Time
	region := PeerRegionOf(coop, now)
	if region == "" {
		for _, obj := range []client.Object{&rbacv1.ClusterRoleBinding{}, &rbacv1.ClusterRole{}} {
			err := r.Client.Get(ctx, client.ObjectKey{Name: coopv1.PeerClusterRoleName(coop)}, obj)
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				return 0, fmt.Errorf("reading the peer access of %s: %w", coop.Name, err)
			}
			if err := r.Client.Delete(ctx, obj, client.Preconditions{UID: ptr.To(obj.GetUID())}); client.IgnoreNotFound(err) != nil {
				return 0, fmt.Errorf("removing the peer access of %s: %w", coop.Name, err)
			}
		}
		return 0, nil
	}
	role, binding := BuildPeerAccess(coop, region)
	if _, err := ssa.ApplyFetch(ctx, r.Client, role, &rbacv1.ClusterRole{}); err != nil {
		return 0, fmt.Errorf("granting peer %s the read of %s: %w", region, coop.Name, err)
	}
	if _, err := ssa.ApplyFetch(ctx, r.Client, binding, &rbacv1.ClusterRoleBinding{}); err != nil {
		return 0, fmt.Errorf("granting peer %s the read of %s: %w", region, coop.Name, err)
	}
	if o := coop.Status.Origin; coop.Spec.Standby == nil && o != nil && o.MovedAt != nil {
		return o.MovedAt.Add(AdoptedReadWindow).Sub(now) + time.Second, nil
	}
	return 0, nil
}

// peerAccess selects the objects of BuildPeerAccess.
var peerAccess = predicate.NewPredicateFuncs(func(o client.Object) bool {
	_, ok := o.GetLabels()[coopv1.LabelMirroredFrom]
	return ok
})

// readThere reads the Cooperative name at a peer into there. The peer lets this hub read
// only the Cooperatives that are this hub's own there (BuildPeerAccess, at the peer): it
// answers Forbidden for any other name, and for a standby just written until its operator
// has granted the read. visible says whether there was read; hidden, whether the peer
// refused the read (there is then none of this hub's there, or one not granted yet); err is
// any other failure.
func readThere(ctx context.Context, pc client.Client, name string, there *coopv1.Cooperative) (visible, hidden bool, err error) {
	err = pc.Get(ctx, client.ObjectKey{Name: name}, there)
	switch {
	case err == nil:
		return true, false, nil
	case apierrors.IsNotFound(err):
		return false, false, nil
	case apierrors.IsForbidden(err):
		return false, true, nil
	}
	return false, false, fmt.Errorf("reading Cooperative %s at the peer: %w", name, err)
}
