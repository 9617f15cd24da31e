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

package cooperative

import (
	"context"
	"fmt"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// Federation is what the Cooperative reconciler asks of the federation package: where a
// co-op stands in its cross-region database topology. A hub without federation leaves it
// nil; it then refuses standbys and runs every co-op as a primary.
type Federation interface {
	Topology(ctx context.Context, coop *coopv1.Cooperative) (Topology, error)
}

// Topology is a co-op's place in a CloudNativePG distributed topology.
type Topology struct {
	// Refused is set for a standby this hub does not accept; Message says why. Nothing is
	// created for it.
	Refused bool
	// Message explains a refusal.
	Message string
	// Plan, when set, replaces spec.plan: a standby gets the plan its peer is accepted with.
	Plan string
	// Primary is true when this hub holds the co-op's primary database: its platform runs.
	Primary bool
	// Replica is the Cluster's spec.replica; nil outside a topology.
	Replica *cnpgv1.ReplicaClusterConfiguration
	// ExternalClusters are the archives of the other members of the topology.
	ExternalClusters []cnpgv1.ExternalCluster
	// BootstrapSource, for a standby, is the external cluster a new Cluster restores from,
	// and RecoverFrom the server name it holds.
	BootstrapSource string
	RecoverFrom     string
	// Objects are applied with the database: the ObjectStores of the other archives and
	// the credentials that read them.
	Objects []client.Object
}

// Standalone is the topology of a co-op on a hub without federation.
var Standalone = Topology{Primary: true}

// topology asks the federation for the co-op's topology; without one, a standby is refused.
func (r *Reconciler) topology(ctx context.Context, coop *coopv1.Cooperative) (Topology, error) {
	if r.Federation != nil {
		t, err := r.Federation.Topology(ctx, coop)
		if err != nil {
			return Topology{}, fmt.Errorf("reading the co-op's federation topology: %w", err)
		}
		return t, nil
	}
	if coop.Spec.Standby != nil {
		return Topology{Refused: true, Message: "federation is not enabled on this hub"}, nil
	}
	return Standalone, nil
}

// refuse reports a standby this hub does not accept; only a change of the hub's
// FederationPeers, or of the standby, can change that.
func refuse(s *scope, msg string) {
	s.coop.Status.ObservedGeneration = s.coop.Generation
	for _, t := range []string{coopv1.ConditionReady, coopv1.ConditionStalled} {
		status := metav1.ConditionFalse
		if t == coopv1.ConditionStalled {
			status = metav1.ConditionTrue
		}
		s.setCondition(t, status, coopv1.ReasonStandbyRefused, msg)
	}
	meta.RemoveStatusCondition(&s.coop.Status.Conditions, coopv1.ConditionReconciling)
}

// withTopology puts the topology into the database plan.
func withTopology(p DatabasePlan, t Topology) DatabasePlan {
	if t.Replica == nil && len(t.ExternalClusters) == 0 && t.BootstrapSource == "" {
		return p
	}
	p.Topology = &t
	if t.BootstrapSource != "" {
		p.Bootstrap = coopv1.BootstrapRecovery
		p.RecoverFrom = t.RecoverFrom
	}
	return p
}

// applyTopology sets the Cluster's replica configuration and external clusters.
func applyTopology(c *cnpgv1.Cluster, db DatabasePlan) {
	t := db.Topology
	if t == nil {
		return
	}
	if t.BootstrapSource != "" {
		c.Spec.Bootstrap = &cnpgv1.BootstrapConfiguration{Recovery: &cnpgv1.BootstrapRecovery{Source: t.BootstrapSource}}
		c.Spec.ExternalClusters = nil
	}
	if t.Replica != nil {
		c.Spec.ReplicaCluster = t.Replica.DeepCopy()
	}
	for _, ec := range t.ExternalClusters {
		c.Spec.ExternalClusters = append(c.Spec.ExternalClusters, *ec.DeepCopy())
	}
}

// byFederationPeer wakes the co-ops whose topology a FederationPeer changes: those that list
// it and the standbys from its region.
func (r *Reconciler) byFederationPeer() handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		peer, ok := obj.(*coopv1.FederationPeer)
		if !ok {
			return nil
		}
		return r.cooperativesWhere(ctx, func(c *coopv1.Cooperative) bool {
			if c.Spec.Standby != nil {
				return c.Spec.Standby.HomeRegion == peer.Spec.Region
			}
			for _, p := range c.Spec.Federation.Peers {
				if p.Name == peer.Name {
					return true
				}
			}
			return false
		})
	})
}

// effectivePlan is the HostingPlan a co-op is held to: its spec.plan, but for a standby the
// plan this hub accepts standbys of its home region with (spec.plan names a plan of the
// home hub). A standby from an undeclared region is checked against nothing here: the
// reconciler refuses it.
func effectivePlan(ctx context.Context, c client.Reader, coop *coopv1.Cooperative) (string, error) {
	if coop.Spec.Standby == nil {
		return coop.Spec.Plan, nil
	}
	var peers coopv1.FederationPeerList
	if err := c.List(ctx, &peers); err != nil {
		return "", fmt.Errorf("listing FederationPeers: %w", err)
	}
	if peer := PeerOfRegion(peers.Items, coop.Spec.Standby.HomeRegion); peer != nil && peer.Spec.Accept.Plan != "" {
		return peer.Spec.Accept.Plan, nil
	}
	return coop.Spec.Plan, nil
}

// PeerOfRegion is the FederationPeer this hub takes a region's standbys under: of those
// that declare the region and are not being deleted, the first by name, so that the
// webhook and the reconciler always hold a standby to the same peer's terms.
func PeerOfRegion(peers []coopv1.FederationPeer, region string) *coopv1.FederationPeer {
	var found *coopv1.FederationPeer
	for i := range peers {
		p := &peers[i]
		if p.Spec.Region == region && p.DeletionTimestamp.IsZero() && (found == nil || p.Name < found.Name) {
			found = p
		}
	}
	return found
}

// PeerTopologyChanged lets through the FederationPeer changes that change a co-op's
// topology: its spec, its readiness and the bucket it published; not each contact.
func PeerTopologyChanged() predicate.Funcs {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*coopv1.FederationPeer)
			n, ok2 := e.ObjectNew.(*coopv1.FederationPeer)
			if !ok1 || !ok2 {
				return false
			}
			return o.Generation != n.Generation || o.Status.ObservedGeneration != n.Status.ObservedGeneration ||
				o.Status.BackupDestination != n.Status.BackupDestination ||
				meta.IsStatusConditionTrue(o.Status.Conditions, coopv1.ConditionReady) != meta.IsStatusConditionTrue(n.Status.Conditions, coopv1.ConditionReady)
		},
	}
}

// federationStatusChanged lets through a change of status.federation: the federation
// controller records there the demotion token a peer published, which changes the topology.
func federationStatusChanged() predicate.Funcs {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*coopv1.Cooperative)
			n, ok2 := e.ObjectNew.(*coopv1.Cooperative)
			return ok1 && ok2 && !equality.Semantic.DeepEqual(o.Status.Federation, n.Status.Federation)
		},
	}
}

// platformReplicas is how many replicas a component runs: none where the co-op's primary
// database is not.
func platformReplicas(comp coopv1.Component, primary bool) int32 {
	if !primary {
		return 0
	}
	return ptr.Deref(comp.Replicas, 2)
}
