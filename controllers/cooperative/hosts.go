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
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// A co-op's host (spec.platform.host) is its own: the webhook refuses a host another co-op
// holds, reading the co-ops from the manager's cache. Two co-ops that claim one host
// within the moment the cache takes to see the first (or while no webhook runs) both pass
// it; the reconciler then gives the host to one of them (HostHolder) and no Ingress to the
// other, so that no request meant for one co-op's platform, its members' logins included,
// ever reaches another's.

// HostIndex indexes Cooperatives by spec.platform.host.
const HostIndex = "spec.platform.host"

var (
	indexedMu sync.Mutex
	indexed   = map[client.FieldIndexer]bool{}
)

// IndexHosts registers HostIndex with indexer, once: the reconciler and the webhook both
// read it.
func IndexHosts(ctx context.Context, indexer client.FieldIndexer) error {
	indexedMu.Lock()
	defer indexedMu.Unlock()
	if indexed[indexer] {
		return nil
	}
	if err := indexer.IndexField(ctx, &coopv1.Cooperative{}, HostIndex, func(o client.Object) []string {
		if host := o.(*coopv1.Cooperative).Spec.Platform.Host; host != "" {
			return []string{host}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("indexing Cooperatives by host: %w", err)
	}
	indexed[indexer] = true
	return nil
}

// HostHolder is the co-op that holds a host, of the co-ops whose spec names it: the one
// that serves it already (its status.endpoints.url is the host's), else the first created
// (by name when created in the same second). A co-op that claims a host another serves
// never takes it over, however old it is.
func HostHolder(host string, claimants []coopv1.Cooperative) *coopv1.Cooperative {
	var holder *coopv1.Cooperative
	serves := func(c *coopv1.Cooperative) bool { return c.Status.Endpoints.URL == "https://"+host }
	for i := range claimants {
		c := &claimants[i]
		if c.Spec.Platform.Host != host {
			continue
		}
		switch {
		case holder == nil:
			holder = c
		case serves(c) != serves(holder):
			if serves(c) {
				holder = c
			}
		case !c.CreationTimestamp.Equal(&holder.CreationTimestamp):
			if c.CreationTimestamp.Before(&holder.CreationTimestamp) {
				holder = c
			}
		case c.Name < holder.Name:
			holder = c
		}
	}
	return holder
}

// hostTaken says whether another co-op holds coop's host.
func (r *Reconciler) hostTaken(ctx context.Context, coop *coopv1.Cooperative) (bool, error) {
	var claimants coopv1.CooperativeList
	if err := r.Client.List(ctx, &claimants, client.MatchingFields{HostIndex: coop.Spec.Platform.Host}); err != nil {
		return false, fmt.Errorf("listing the co-ops of host %s: %w", coop.Spec.Platform.Host, err)
	}
	found := false
	for i := range claimants.Items {
		if claimants.Items[i].Name == coop.Name {
			claimants.Items[i] = *coop // as this reconcile sees it
			found = true
		}
	}
	if !found {
		claimants.Items = append(claimants.Items, *coop)
	}
	holder := HostHolder(coop.Spec.Platform.Host, claimants.Items)
	return holder != nil && holder.Name != coop.Name, nil
}

// byHost wakes the other co-ops that claim the host of a co-op created, deleted, or whose
// host changed (the old host's and the new one's): one of them may hold it now.
func (r *Reconciler) byHost() (handler.EventHandler, predicate.Predicate) {
	h := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		coop, ok := obj.(*coopv1.Cooperative)
		if !ok || coop.Spec.Platform.Host == "" {
			return nil
		}
		var claimants coopv1.CooperativeList
		if err := r.Client.List(ctx, &claimants, client.MatchingFields{HostIndex: coop.Spec.Platform.Host}); err != nil {
			return nil
		}
		var out []reconcile.Request
		for _, c := range claimants.Items {
			if c.Name != coop.Name {
				out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: c.Name}})
			}
		}
		return out
	})
	p := predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		old, okOld := e.ObjectOld.(*coopv1.Cooperative)
		cur, okNew := e.ObjectNew.(*coopv1.Cooperative)
		return okOld && okNew && old.Spec.Platform.Host != cur.Spec.Platform.Host
	}}
	return h, p
}
