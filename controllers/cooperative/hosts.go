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
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
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
// say, after it named another host) still holds it. A co-op whose tenancy or template is
// not ready deletes an Ingress of a host it no longer names (unrouteOtherHosts).

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
	if err := indexer.IndexField(ctx, &coopv1.Cooperative{}, HostIndex, cooperativeHost); err != nil {
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

func cooperativeHost(o client.Object) []string {
	if host := o.(*coopv1.Cooperative).Spec.Platform.Host; host != "" {
		return []string{host}
	}
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

// HostCandidate is a co-op that claims a host (its spec names it) or serves it (an Ingress
// of the operator's in its namespace has a rule for it).
type HostCandidate struct {
	Name string
	// Claims: the spec names the host, and the co-op is not being deleted. Standby: it is a
	// standby, whose host is its home hub's. Created: its creation.
	Claims, Standby bool
	Created         time.Time
	// Claim is the order in which this process saw the co-op claim the host (the
	// informer's order, which is the API server's); 0 when it has not.
	Claim uint64
	// Serving: an Ingress serves the host, since ServingSince (its creation). An Ingress of
	// a co-op being deleted, or gone, serves nothing: it goes with the co-op's namespace.
	Serving      bool
	ServingSince time.Time
}

// HostHolder is the candidate that holds a host: one that serves it, however young (of
// two, the one whose Ingress was created first); else, of the
// claimants, a co-op of this hub before a standby, then the first to claim it (as this
// process saw the claims arrive), then the first created, then by name. "" when none does.
func HostHolder(candidates []HostCandidate) string {
	before := func(a, b *HostCandidate) bool {
		if a.Serving != b.Serving {
			return a.Serving
		}
		if a.Serving {
			if !a.ServingSince.Equal(b.ServingSince) {
				return a.ServingSince.Before(b.ServingSince)
			}
			return a.Name < b.Name
		}
		if a.Standby != b.Standby {
			return !a.Standby
		}
		if a.Claim != b.Claim && a.Claim != 0 && b.Claim != 0 {
			return a.Claim < b.Claim
		}
		if (a.Claim == 0) != (b.Claim == 0) {
			return a.Claim != 0
		}
		if !a.Created.Equal(b.Created) {
			return a.Created.Before(b.Created)
		}
		return a.Name < b.Name
	}
	var holder *HostCandidate
	for i := range candidates {
		c := &candidates[i]
		if !c.Serving && !c.Claims {
			continue
		}
		if holder == nil || before(c, holder) {
			holder = c
		}
	}
	if holder == nil {
		return ""
	}
	return holder.Name
}

// claimOrder numbers the claims of hosts in the order the Cooperative informer delivers
// them, which is the order the API server stored them in: of two co-ops that claim one host
// within the moment the webhook's cache lags, the first to claim it holds it, whatever the
// order of their reconciles and however old the other co-op. It is fed by the predicate of
// the reconciler's own watch of Cooperatives (observe), which sees every event in order.
// The informer writes its cache before it hands an event to the predicate, so a reconcile
// may read a co-op the predicate has not seen yet: it then waits (errClaimsBehind) rather
// than decide on an incomplete order. After a restart the numbers follow the order in
// which the informer hands the co-ops it holds to the new watch, which is arbitrary; a
// host served already stays with the co-op serving it, and only two co-ops that both claim
// a host neither serves yet are ordered arbitrarily then.
type claimOrder struct {
	mu     sync.Mutex
	next   uint64
	claims map[string]hostClaim // by co-op
}

type hostClaim struct {
	host string
	seq  uint64
	// resourceVersion of the co-op's last event observed.
	resourceVersion string
}

// errClaimsBehind: the cache holds a co-op the claim order has not seen yet.
var errClaimsBehind = errors.New("the claims of a host are not all numbered yet")

func newClaimOrder() *claimOrder { return &claimOrder{claims: map[string]hostClaim{}} }

// observe records coop's event, and numbers its claim of its host when it is new (the
// co-op, or its host).
func (o *claimOrder) observe(coop *coopv1.Cooperative) {
	host := coop.Spec.Platform.Host
	o.mu.Lock()
	defer o.mu.Unlock()
	c, ok := o.claims[coop.Name]
	if !ok || c.host != host {
		o.next++
		c = hostClaim{host: host, seq: o.next}
	}
	c.resourceVersion = coop.ResourceVersion
	o.claims[coop.Name] = c
}

func (o *claimOrder) forget(name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.claims, name)
}

// numbers are the numbers of the claims of host by cached (co-ops as the cache holds them),
// read at once; errClaimsBehind when one of them is a version the order has not seen.
func (o *claimOrder) numbers(host string, cached []coopv1.Cooperative) (map[string]uint64, error) {
	out := map[string]uint64{}
	if o == nil {
		return out, nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := range cached {
		c, ok := o.claims[cached[i].Name]
		if !ok || c.resourceVersion != cached[i].ResourceVersion {
			return nil, errClaimsBehind
		}
		if c.host == host {
			out[cached[i].Name] = c.seq
		}
	}
	return out, nil
}

// predicate observes every Cooperative event's claim and lets every event through.
func (o *claimOrder) predicate() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool {
			if c, ok := e.Object.(*coopv1.Cooperative); ok {
				o.observe(c)
			}
			return true
		},
		UpdateFunc: func(e event.UpdateEvent) bool {
			if c, ok := e.ObjectNew.(*coopv1.Cooperative); ok {
				o.observe(c)
			}
			return true
		},
		DeleteFunc: func(e event.DeleteEvent) bool {
			o.forget(e.Object.GetName())
			return true
		},
	}
}

// hostHolder is the co-op that holds host, read from the cache (coop, as this reconcile
// sees it, stands for its cached copy), and whether it holds it by serving it.
func hostHolder(ctx context.Context, c client.Reader, claims *claimOrder, host string, coop *coopv1.Cooperative) (string, bool, error) {
	servers, err := servingCooperatives(ctx, c, host)
	if err != nil {
		return "", false, err
	}
	var claimants coopv1.CooperativeList
	if err := c.List(ctx, &claimants, client.MatchingFields{HostIndex: host}); err != nil {
		return "", false, fmt.Errorf("listing the co-ops of host %s: %w", host, err)
	}
	numbers, err := claims.numbers(host, claimants.Items)
	if err != nil {
		return "", false, err
	}
	byName := map[string]*HostCandidate{}
	add := func(co *coopv1.Cooperative) {
		byName[co.Name] = &HostCandidate{
			Name:    co.Name,
			Claims:  co.Spec.Platform.Host == host && co.DeletionTimestamp.IsZero(),
			Standby: co.Spec.Standby != nil,
			Created: co.CreationTimestamp.Time,
			Claim:   numbers[co.Name],
		}
	}
	for i := range claimants.Items {
		add(&claimants.Items[i])
	}
	if coop != nil {
		add(coop)
	}
	for _, srv := range servers {
		if byName[srv.coop.Name] == nil {
			// It serves the host and names another now: its Ingress still routes the host
			// until it changes.
			add(srv.coop)
		}
		cand := byName[srv.coop.Name]
		if !cand.Serving || srv.since.Before(cand.ServingSince) {
			cand.ServingSince = srv.since
		}
		cand.Serving = true
	}
	candidates := make([]HostCandidate, 0, len(byName))
	for _, cand := range byName {
		candidates = append(candidates, *cand)
	}
	holder := HostHolder(candidates)
	if holder == "" {
		return "", false, nil
	}
	return holder, byName[holder].Serving, nil
}

// server is a co-op an Ingress of which serves a host, since that Ingress's creation.
type server struct {
	coop  *coopv1.Cooperative
	since time.Time
}

// servingCooperatives are the co-ops an Ingress of which (of the operator's, in their
// namespace) serves host, one per Ingress, read from the cache. A co-op gone or being
// deleted serves nothing: its Ingress goes with its namespace.
func servingCooperatives(ctx context.Context, c client.Reader, host string) ([]server, error) {
	var ingresses networkingv1.IngressList
	if err := c.List(ctx, &ingresses, client.MatchingFields{IngressHostIndex: host}); err != nil {
		return nil, fmt.Errorf("listing the Ingresses of host %s: %w", host, err)
	}
	var out []server
	for i := range ingresses.Items {
		name, ok := ingressCooperative(&ingresses.Items[i])
		if !ok {
			continue
		}
		coop := &coopv1.Cooperative{}
		if err := c.Get(ctx, client.ObjectKey{Name: name}, coop); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("reading co-op %s: %w", name, err)
		}
		if coop.DeletionTimestamp.IsZero() {
			out = append(out, server{coop: coop, since: ingresses.Items[i].CreationTimestamp.Time})
		}
	}
	return out, nil
}

// servedByOther reports whether an Ingress of another co-op than self serves host: an
// Ingress left behind (its co-op suspended, say, after it named another host) holds the
// host.
func servedByOther(ctx context.Context, c client.Reader, host, self string) (bool, error) {
	servers, err := servingCooperatives(ctx, c, host)
	return slices.ContainsFunc(servers, func(s server) bool { return s.coop.Name != self }), err
}

// servedOutsideCoops reports whether an Ingress that is not the operator's serves host
// (a rule or a TLS entry naming it exactly): the hub's own services (its dashboards, its
// sign-in), which the ingress controller would otherwise share with a co-op that names
// their host. It lists, from the API server, the Ingresses without the operator's label
// (the operator's: servedByOther and the co-ops' hosts decide): a hub of many co-ops
// creating them at once has the API server filter its Ingresses (from its watch cache,
// as it serves consistent lists) and send the hub's few, not every co-op's, once per
// co-op. This runs only when a co-op names a new host. A wildcard host of the hub's is
// not matched: a hub may serve a catch-all below the domain its co-ops' hosts are in.
func servedOutsideCoops(ctx context.Context, c client.Reader, host string) (bool, error) {
	if c == nil {
		return false, nil
	}
	notOperators, err := labels.NewRequirement(coopv1.LabelManagedBy, selection.NotEquals, []string{coopv1.ManagedByValue})
	if err != nil {
		return false, err
	}
	var all networkingv1.IngressList
	if err := c.List(ctx, &all, client.MatchingLabelsSelector{Selector: labels.NewSelector().Add(*notOperators)}); err != nil {
		return false, fmt.Errorf("listing the cluster's Ingresses to check host %s: %w", host, err)
	}
	for i := range all.Items {
		ing := &all.Items[i]
		if ing.Labels[coopv1.LabelManagedBy] == coopv1.ManagedByValue {
			continue // not asked for; a reader that ignores selectors (tests) may return it
		}
		for _, rule := range ing.Spec.Rules {
			if strings.EqualFold(rule.Host, host) {
				return true, nil
			}
		}
		for _, tls := range ing.Spec.TLS {
			if slices.ContainsFunc(tls.Hosts, func(h string) bool { return strings.EqualFold(h, host) }) {
				return true, nil
			}
		}
	}
	return false, nil
}

// ingressCooperative is the co-op of an Ingress of the operator's: the one of its namespace,
// which its co-op label names too.
func ingressCooperative(ing *networkingv1.Ingress) (string, bool) {
	name, ok := cutNamespacePrefix(ing.Namespace)
	return name, ok && ing.Labels[coopv1.LabelCooperative] == name
}

// hostTaken says whether another co-op holds coop's host, and the reason to give.
func (r *Reconciler) hostTaken(ctx context.Context, coop *coopv1.Cooperative) (bool, string, error) {
	holder, serving, err := hostHolder(ctx, r.Client, r.claims, coop.Spec.Platform.Host, coop)
	if err != nil || holder == "" || holder == coop.Name {
		return false, "", err
	}
	if serving {
		return true, "another co-op's Ingress serves it", nil
	}
	return true, "another co-op claimed it first", nil
}

// claimantsOf are the requests of the co-ops that claim one of hosts, but except.
func claimantsOf(ctx context.Context, c client.Reader, hosts []string, except string) []reconcile.Request {
	var out []reconcile.Request
	for _, host := range hosts {
		var claimants coopv1.CooperativeList
		if err := c.List(ctx, &claimants, client.MatchingFields{HostIndex: host}); err != nil {
			log.FromContext(ctx).Error(err, "Listing the co-ops of a host to wake them", "host", host)
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
// deleted, made or unmade a standby, or whose host changed (the old host's and the new
// one's), and those that claim a host an Ingress of the operator's gains or loses: one of
// them may hold it now.
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
		return okOld && okNew && (old.Spec.Platform.Host != cur.Spec.Platform.Host ||
			old.DeletionTimestamp.IsZero() != cur.DeletionTimestamp.IsZero() ||
			(old.Spec.Standby == nil) != (cur.Spec.Standby == nil))
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
