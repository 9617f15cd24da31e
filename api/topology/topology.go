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

// Package topology is the contract between the federation and the Cooperative reconciler:
// where a co-op's database stands in its cross-region CloudNativePG topology, and which
// FederationPeer a region's standbys are held to. The federation computes a Topology; the
// Cooperative reconciler applies it.
package topology

import (
	"context"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// Federation is what the Cooperative reconciler asks of the federation package: where a
// co-op stands in its cross-region database topology, and whether its deletion must wait
// for a peer hub. A hub without federation leaves it nil; it then refuses standbys and runs
// every co-op as a primary.
type Federation interface {
	Topology(ctx context.Context, coop *coopv1.Cooperative) (Topology, error)
	// DeletionHold says why the deletion of coop must wait before its database and backups
	// go ("" when it need not): a co-op deleted with deletionPolicy Delete after it moved
	// to a peer hub whose copy reports no completed base backup yet.
	DeletionHold(ctx context.Context, coop *coopv1.Cooperative) (string, error)
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
