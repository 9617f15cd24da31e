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

// Package cacheshare makes the objects in the operator's cache share what they hold alike.
//
// A co-op's twenty-odd objects carry the same labels, the same owner reference (the
// Cooperative) and the same namespace name, and its NetworkPolicies, Deployments and
// Services select pods by the same few label sets; the pod templates of all co-ops on one
// platform template and plan hold the same security contexts, probes and resources.
// Decoded from the API server, each object holds its own copy of every one of them.
// Transform gives every cached object the one shared copy of each instead. At a thousand co-ops the operator caches about thirty
// thousand objects, and their metadata was the largest part of its heap.
//
// Sharing is safe because nothing writes to a cached object, which the operator holds as a
// rule: the manager's client hands out deep copies by default; the event handlers and
// predicates, the readers that list without copying (client.UnsafeDisableDeepCopy: the
// state metrics, the hub status document's CostReports, the metering, the federation's
// metrics, the Backup webhook) and the metering's reads of the informers' stores only read. A shared map is
// never written by this package either: a set of labels is shared as the map of the first
// object that held it.
package cacheshare

import (
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/lru"
)

// Sizes bound how many distinct label sets, owner reference lists and pod template parts
// are remembered for sharing: about a dozen label sets and one owner a co-op, for a hub of
// a few thousand co-ops, and the parts of a few templates and plans. One forgotten is shared anew by the objects decoded after it; nothing is lost.
const (
	mapsRemembered   = 1 << 15
	ownersRemembered = 1 << 13
	partsRemembered  = 1 << 10
	strsRemembered   = 1 << 13
)

// Sharer remembers the label sets and owner reference lists it has seen; it is safe for
// concurrent use by the informers' transforms.
type Sharer struct {
	maps   *lru.Cache
	owners *lru.Cache
	// parts holds the pod templates' shared parts, by their encoding.
	parts *lru.Cache
	// strs holds namespace names and owners' kinds. (unique.Make would not do: it keeps a
	// value only while a Handle of it lives, so after a collection the next object of a
	// namespace would get a copy of its own.)
	strs *lru.Cache
}

// New returns a Sharer with nothing remembered.
func New() *Sharer {
	return &Sharer{maps: lru.New(mapsRemembered), owners: lru.New(ownersRemembered), parts: lru.New(partsRemembered), strs: lru.New(strsRemembered)}
}

// Transform shares the namespace name, labels and owner references of a cached object, and
// the label selectors and pod templates' labels and parts of the kinds the operator
// creates with them.
// Use it as a cache transform (after TransformStripManagedFields); it changes no value (as
// equality.Semantic compares them: a shared resource quantity may keep another's format).
func (s *Sharer) Transform(obj any) (any, error) {
	o, ok := obj.(metav1.Object)
	if !ok {
		return obj, nil
	}
	if ns := o.GetNamespace(); ns != "" {
		o.SetNamespace(s.str(ns))
	}
	if l := o.GetLabels(); len(l) > 0 {
		o.SetLabels(s.Map(l))
	}
	if refs := o.GetOwnerReferences(); len(refs) > 0 {
		o.SetOwnerReferences(s.ownerReferences(refs))
	}
	switch t := obj.(type) {
	case *networkingv1.NetworkPolicy:
		s.selector(&t.Spec.PodSelector)
		for i := range t.Spec.Ingress {
			s.peers(t.Spec.Ingress[i].From)
		}
		for i := range t.Spec.Egress {
			s.peers(t.Spec.Egress[i].To)
		}
	case *appsv1.Deployment:
		s.selectorRef(t.Spec.Selector)
		s.template(&t.Spec.Template)
	case *corev1.Service:
		t.Spec.Selector = s.Map(t.Spec.Selector)
	case *policyv1.PodDisruptionBudget:
		s.selectorRef(t.Spec.Selector)
	case *batchv1.Job:
		s.selectorRef(t.Spec.Selector)
		s.template(&t.Spec.Template)
	case *batchv1.CronJob:
		t.Spec.JobTemplate.Labels = s.Map(t.Spec.JobTemplate.Labels)
		s.template(&t.Spec.JobTemplate.Spec.Template)
	}
	return obj, nil
}

// Chain runs the transforms in order, as one cache transform.
func Chain(transforms ...toolscache.TransformFunc) toolscache.TransformFunc {
	return func(obj any) (any, error) {
		for _, t := range transforms {
			var err error
			if obj, err = t(obj); err != nil {
				return nil, err
			}
		}
		return obj, nil
	}
}

// str returns the shared copy of v.
func (s *Sharer) str(v string) string {
	if shared, ok := s.strs.Get(v); ok {
		return shared.(string)
	}
	s.strs.Add(v, v)
	return v
}

// Map returns the shared map holding exactly what m holds (m itself the first time); an
// empty or nil m is returned as it is.
func (s *Sharer) Map(m map[string]string) map[string]string {
	if len(m) == 0 {
		return m
	}
	key := mapKey(m, same)
	if shared, ok := s.maps.Get(key); ok {
		return shared.(map[string]string)
	}
	s.maps.Add(key, m)
	return m
}

// mapKey spells m out unambiguously, its keys sorted and each value as str spells it:
// each key and value is preceded by its length.
func mapKey[K ~string, V any](m map[K]V, str func(V) string) string {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		v := str(m[k])
		b.WriteString(strconv.Itoa(len(k)))
		b.WriteByte(':')
		b.WriteString(string(k))
		b.WriteString(strconv.Itoa(len(v)))
		b.WriteByte(':')
		b.WriteString(v)
	}
	return b.String()
}

func same(v string) string { return v }

func (s *Sharer) ownerReferences(refs []metav1.OwnerReference) []metav1.OwnerReference {
	var b strings.Builder
	for _, r := range refs {
		for _, f := range []string{r.APIVersion, r.Kind, r.Name, string(r.UID), flag(r.Controller), flag(r.BlockOwnerDeletion)} {
			b.WriteString(strconv.Itoa(len(f)))
			b.WriteByte(':')
			b.WriteString(f)
		}
	}
	key := b.String()
	if shared, ok := s.owners.Get(key); ok {
		return shared.([]metav1.OwnerReference)
	}
	for i := range refs {
		refs[i].APIVersion = s.str(refs[i].APIVersion)
		refs[i].Kind = s.str(refs[i].Kind)
	}
	s.owners.Add(key, refs)
	return refs
}

// flag spells out an optional boolean: unset, true or false.
func flag(b *bool) string {
	switch {
	case b == nil:
		return "-"
	case *b:
		return "t"
	default:
		return "f"
	}
}

func (s *Sharer) selector(sel *metav1.LabelSelector) {
	sel.MatchLabels = s.Map(sel.MatchLabels)
}

func (s *Sharer) selectorRef(sel *metav1.LabelSelector) {
	if sel != nil {
		s.selector(sel)
	}
}

func (s *Sharer) peers(peers []networkingv1.NetworkPolicyPeer) {
	for i := range peers {
		s.selectorRef(peers[i].PodSelector)
		s.selectorRef(peers[i].NamespaceSelector)
	}
}

// template shares a pod template's labels and what its containers hold alike across co-ops:
// their security contexts, probes and resources (the same for every co-op of a template
// and plan), and the pod's security context.
func (s *Sharer) template(t *corev1.PodTemplateSpec) {
	t.Labels = s.Map(t.Labels)
	t.Spec.SecurityContext = sharePtr(s.parts, "pod-security:", t.Spec.SecurityContext)
	for _, cs := range [][]corev1.Container{t.Spec.InitContainers, t.Spec.Containers} {
		for i := range cs {
			c := &cs[i]
			c.SecurityContext = sharePtr(s.parts, "security:", c.SecurityContext)
			c.LivenessProbe = sharePtr(s.parts, "probe:", c.LivenessProbe)
			c.ReadinessProbe = sharePtr(s.parts, "probe:", c.ReadinessProbe)
			c.StartupProbe = sharePtr(s.parts, "probe:", c.StartupProbe)
			c.Resources.Requests = s.resources(c.Resources.Requests)
			c.Resources.Limits = s.resources(c.Resources.Limits)
		}
	}
}

// sharePtr returns the shared copy of what p points to: p itself the first time, nil for
// nil. kind keeps apart types whose encodings could coincide.
func sharePtr[T any, PT interface {
	*T
	Marshal() ([]byte, error)
}](pool *lru.Cache, kind string, p PT) PT {
	if p == nil {
		return nil
	}
	b, err := p.Marshal()
	if err != nil {
		return p
	}
	key := kind + string(b)
	if shared, ok := pool.Get(key); ok {
		return shared.(PT)
	}
	pool.Add(key, p)
	return p
}

// resources returns the shared map holding exactly what l holds.
func (s *Sharer) resources(l corev1.ResourceList) corev1.ResourceList {
	if len(l) == 0 {
		return l
	}
	key := "resources:" + mapKey(l, func(q resource.Quantity) string { return q.String() })
	if shared, ok := s.parts.Get(key); ok {
		return shared.(corev1.ResourceList)
	}
	s.parts.Add(key, l)
	return l
}
