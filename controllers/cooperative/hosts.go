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
	"slices"
	"sync"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// A co-op's host (spec.platform.host) is its own: the webhook refuses a host another co-op
// claims or serves, reading the co-ops and their Ingresses from the manager's cache. Two
// co-ops that claim one host within the moment the cache takes to see the first (or while
// no webhook runs) both pass it; the reconciler then gives the host to one of them
// (HostHolder) and no Ingress to the other, so that no request meant for one co-op's
// platform, its members' logins included, ever reaches another's. A host is decided by
// the Ingresses that serve it, not by status: an Ingress left behind (its co-op suspended,
// or its template unresolved, after the co-op named another host) still holds it.

// HostIndex indexes Cooperatives by spec.platform.host; IngressHostIndex indexes the
// operator's Ingresses by the hosts of their rules.
const (
	HostIndex        = "spec.platform.host"
	IngressHostIndex = "spec.rules.host"
)

var (
	indexedMu sync.Mutex
	indexed   = map[client.FieldIndexer]bool{}
)

// IndexHosts registers HostIndex and IngressHostIndex with indexer, once: the reconciler
// and the webhook both read them.
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
	if err := indexer.IndexField(ctx, &networkingv1.Ingress{}, IngressHostIndex, func(o client.Object) []string {
		return ingressHosts(o.(*networkingv1.Ingress))
	}); err != nil {
		return fmt.Errorf("indexing Ingresses by host: %w", err)
	}
	indexed[indexer] = true
	return nil
}

func ingressHosts(ing *networkingv1.Ingress) []string {
	var hosts []string
	for _, rule := range ing.Spec.Rules {
		if rule.Host != "" && !slices.Contains(hosts, rule.Host) {
			hosts = append(hosts, rule.Host)
		}
	}
	return hosts
}

// HostHolder is the co-op that holds a host, of the candidates (the co-ops whose spec names
// it, and those that serve it, per serves): one that serves it already, however young;
// else, of the co-ops that claim it and are not being deleted, a co-op of this hub before
// a standby (whose host is its home hub's), then the first created (by name when created
// in the same second). nil when no co-op holds it.
func HostHolder(host string, candidates []coopv1.Cooperative, serves map[string]bool) *coopv1.Cooperative {
	rank := func(c *coopv1.Cooperative) (bool, bool) { return serves[c.Name], c.Spec.Standby == nil }
	var holder *coopv1.Cooperative
	for i := range candidates {
		c := &candidates[i]
		if !serves[c.Name] && (c.Spec.Platform.Host != host || !c.DeletionTimestamp.IsZero()) {
			continue
		}
		if holder == nil {
			holder = c
			continue
		}
		cServes, cOwn := rank(c)
		hServes, hOwn := rank(holder)
		switch {
		case cServes != hServes:
			if cServes {
				holder = c
			}
		case cOwn != hOwn:
			if cOwn {
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

// hostHolder is the co-op that holds host, read from the cache; coop as this reconcile
// sees it stands for its cached copy.
func hostHolder(ctx context.Context, c client.Reader, host string, coop *coopv1.Cooperative) (*coopv1.Cooperative, error) {
	var ingresses networkingv1.IngressList
	if err := c.List(ctx, &ingresses, client.MatchingFields{IngressHostIndex: host}); err != nil {
		return nil, fmt.Errorf("listing the Ingresses of host %s: %w", host, err)
	}
	serves := map[string]bool{}
	for _, ing := range ingresses.Items {
		if name, ok := cutNamespacePrefix(ing.Namespace); ok {
			serves[name] = true
		}
	}
	var claimants coopv1.CooperativeList
	if err := c.List(ctx, &claimants, client.MatchingFields{HostIndex: host}); err != nil {
		return nil, fmt.Errorf("listing the co-ops of host %s: %w", host, err)
	}
	candidates := claimants.Items
	seen := map[string]bool{}
	for i := range candidates {
		if coop != nil && candidates[i].Name == coop.Name {
			candidates[i] = *coop
		}
		seen[candidates[i].Name] = true
	}
	if coop != nil && !seen[coop.Name] {
		candidates = append(candidates, *coop)
		seen[coop.Name] = true
	}
	// A co-op that serves the host but names another now holds it until its Ingress changes.
	for name := range serves {
		if seen[name] {
			continue
		}
		other := &coopv1.Cooperative{}
		if err := c.Get(ctx, client.ObjectKey{Name: name}, other); err != nil {
			if apierrors.IsNotFound(err) {
				other.Name = name // gone; its namespace, and the Ingress, go too
			} else {
				return nil, fmt.Errorf("reading co-op %s: %w", name, err)
			}
		}
		candidates = append(candidates, *other)
	}
	return HostHolder(host, candidates, serves), nil
}

// hostTaken says whether another co-op holds coop's host.
func (r *Reconciler) hostTaken(ctx context.Context, coop *coopv1.Cooperative) (bool, error) {
	holder, err := hostHolder(ctx, r.Client, coop.Spec.Platform.Host, coop)
	if err != nil {
		return false, err
	}
	return holder != nil && holder.Name != coop.Name, nil
}

// claimantsOf are the requests of the co-ops that claim one of hosts, but except.
func claimantsOf(ctx context.Context, c client.Reader, hosts []string, except string) []reconcile.Request {
	var out []reconcile.Request
	for _, host := range hosts {
		var claimants coopv1.CooperativeList
		if err := c.List(ctx, &claimants, client.MatchingFields{HostIndex: host}); err != nil {
			continue
		}
		for _, other := range claimants.Items {
			if other.Name != except {
				out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: other.Name}})
			}
		}
	}
	return out
}

// byHost wakes the other co-ops that claim the host of a co-op created, deleted, being
// deleted, or whose host changed (the old host's and the new one's), and those that claim
// a host an Ingress of the operator's gains or loses: one of them may hold it now.
func (r *Reconciler) byHost() (coops handler.EventHandler, coopChanged predicate.Predicate, ingresses handler.EventHandler) {
	coops = handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		coop, ok := obj.(*coopv1.Cooperative)
		if !ok || coop.Spec.Platform.Host == "" {
			return nil
		}
		return claimantsOf(ctx, r.Client, []string{coop.Spec.Platform.Host}, coop.Name)
	})
	coopChanged = predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		old, okOld := e.ObjectOld.(*coopv1.Cooperative)
		cur, okNew := e.ObjectNew.(*coopv1.Cooperative)
		return okOld && okNew && (old.Spec.Platform.Host != cur.Spec.Platform.Host || old.DeletionTimestamp.IsZero() != cur.DeletionTimestamp.IsZero())
	}}
	ingresses = handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		ing, ok := obj.(*networkingv1.Ingress)
		if !ok {
			return nil
		}
		owner, _ := cutNamespacePrefix(ing.Namespace)
		return claimantsOf(ctx, r.Client, ingressHosts(ing), owner)
	})
	return coops, coopChanged, ingresses
}
