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

	"github.com/cooperator-dev/cooperator/api/topology"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// topology asks the federation for the co-op's topology; without one, a standby is refused.
func (r *Reconciler) topology(ctx context.Context, coop *coopv1.Cooperative) (topology.Topology, error) {
	if r.Federation != nil {
		t, err := r.Federation.Topology(ctx, coop)
		if err != nil {
			return topology.Topology{}, fmt.Errorf("reading the co-op's federation topology: %w", err)
		}
		return t, nil
	}
	if coop.Spec.Standby != nil {
		return topology.Topology{Refused: true, Message: "federation is not enabled on this hub"}, nil
	}
	return topology.Standalone, nil
}

// StandbySharedTierMessage is why a standby on the shared tier is refused: it would take
// over the database and roles of that name in the hub's shared Cluster, a co-op's of this
// hub deleted with Retain among them.
const StandbySharedTierMessage = "a standby is on database.tier dedicated: it replays its home co-op's backups in a replica Cluster of its own; nothing of it is applied in the shared Cluster"

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
func withTopology(p DatabasePlan, t topology.Topology) DatabasePlan {
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
	if peer := topology.PeerOfRegion(peers.Items, coop.Spec.Standby.HomeRegion); peer != nil && peer.Spec.Accept.Plan != "" {
		return peer.Spec.Accept.Plan, nil
	}
	return coop.Spec.Plan, nil
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
