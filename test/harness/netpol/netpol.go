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

// Package netpol evaluates NetworkPolicies as an implementation does, for tests that check
// who may reach whom: the project's API servers run no network plugin.
package netpol

import (
	"net"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Endpoint is one side of a connection, as NetworkPolicy sees it: a pod (namespace, its
// labels, its labels, named ports) or an address outside the cluster.
type Endpoint struct {
	Namespace       string
	NamespaceLabels map[string]string
	Pod             map[string]string
	IP              string
	Ports           map[string]int32 // named container ports of the pod
}

func (e Endpoint) isPod() bool { return e.IP == "" }

// Selects says whether sel selects the label set.
func Selects(sel *metav1.LabelSelector, set map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		panic(err)
	}
	return s.Matches(labels.Set(set))
}

// peerMatches says whether a policy peer (in the policy's namespace ns) is e.
func peerMatches(p networkingv1.NetworkPolicyPeer, ns string, e Endpoint) bool {
	if p.IPBlock != nil {
		_, block, err := net.ParseCIDR(p.IPBlock.CIDR)
		if err != nil || e.isPod() || !block.Contains(net.ParseIP(e.IP)) {
			return false
		}
		for _, ex := range p.IPBlock.Except {
			if _, except, err := net.ParseCIDR(ex); err == nil && except.Contains(net.ParseIP(e.IP)) {
				return false
			}
		}
		return true
	}
	if !e.isPod() {
		return false
	}
	if p.NamespaceSelector == nil && e.Namespace != ns {
		return false
	}
	if p.NamespaceSelector != nil && !Selects(p.NamespaceSelector, e.NamespaceLabels) {
		return false
	}
	return p.PodSelector == nil || Selects(p.PodSelector, e.Pod)
}

func portMatches(ports []networkingv1.NetworkPolicyPort, target Endpoint, proto corev1.Protocol, port int32) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		pp := corev1.ProtocolTCP
		if p.Protocol != nil {
			pp = *p.Protocol
		}
		if pp != proto {
			continue
		}
		switch {
		case p.Port == nil:
			return true
		case p.Port.Type == intstr.Int && p.Port.IntVal == port:
			return true
		case p.Port.Type == intstr.String && target.Ports[p.Port.StrVal] == port:
			return true
		}
	}
	return false
}

// Allowed evaluates the policies of one namespace as a NetworkPolicy implementation does:
// a connection from src to dst:port is allowed when, on each side that lies in the
// policies' namespace, either no policy selects the pod for that direction or one of those
// that do allows it.
func Allowed(policies []*networkingv1.NetworkPolicy, src, dst Endpoint, proto corev1.Protocol, port int32) bool {
	side := func(pod Endpoint, typ networkingv1.PolicyType, ok func(*networkingv1.NetworkPolicy) bool) bool {
		selected := false
		for _, np := range policies {
			if !pod.isPod() || pod.Namespace != np.Namespace || !Selects(&np.Spec.PodSelector, pod.Pod) {
				continue
			}
			has := false
			for _, t := range np.Spec.PolicyTypes {
				has = has || t == typ
			}
			if !has {
				continue
			}
			selected = true
			if ok(np) {
				return true
			}
		}
		return !selected
	}
	egress := side(src, networkingv1.PolicyTypeEgress, func(np *networkingv1.NetworkPolicy) bool {
		for _, r := range np.Spec.Egress {
			if !portMatches(r.Ports, dst, proto, port) {
				continue
			}
			if len(r.To) == 0 {
				return true
			}
			for _, p := range r.To {
				if peerMatches(p, np.Namespace, dst) {
					return true
				}
			}
		}
		return false
	})
	ingress := side(dst, networkingv1.PolicyTypeIngress, func(np *networkingv1.NetworkPolicy) bool {
		for _, r := range np.Spec.Ingress {
			if !portMatches(r.Ports, dst, proto, port) {
				continue
			}
			if len(r.From) == 0 {
				return true
			}
			for _, p := range r.From {
				if peerMatches(p, np.Namespace, src) {
					return true
				}
			}
		}
		return false
	})
	return egress && ingress
}

// InNamespace is a pod of namespace name, whose labels are its name and extra.
func InNamespace(name string, extra map[string]string, pod map[string]string, ports map[string]int32) Endpoint {
	l := map[string]string{corev1.LabelMetadataName: name}
	for k, v := range extra {
		l[k] = v
	}
	return Endpoint{Namespace: name, NamespaceLabels: l, Pod: pod, Ports: ports}
}
