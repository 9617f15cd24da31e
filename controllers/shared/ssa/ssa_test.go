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

package ssa

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

func TestContains(t *testing.T) {
	for _, tc := range []struct {
		name          string
		live, desired any
		want          bool
	}{
		{"equal scalars", "a", "a", true},
		{"different scalars", "a", "b", false},
		{"int kinds", int64(3), 3, true},
		{"float that is an int", float64(3), int64(3), true},
		{"extra keys in live are fine", map[string]any{"a": "1", "b": "2"}, map[string]any{"a": "1"}, true},
		{"a missing key is not", map[string]any{"b": "2"}, map[string]any{"a": "1"}, false},
		{"an empty desired map asks nothing", map[string]any{}, map[string]any{"x": map[string]any{}}, false},
		{"an empty desired map under a present key", map[string]any{"x": map[string]any{"k": "v"}}, map[string]any{"x": map[string]any{}}, true},
		{"lists compare element by element", []any{map[string]any{"a": "1", "d": "x"}}, []any{map[string]any{"a": "1"}}, true},
		{"lists of another length differ", []any{"a", "b"}, []any{"a"}, false},
		{"a changed element differs", []any{"a", "c"}, []any{"a", "b"}, false},
		{"a map is not a list", map[string]any{}, []any{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Contains(tc.live, tc.desired); got != tc.want {
				t.Errorf("Contains(%v, %v) = %v, want %v", tc.live, tc.desired, got, tc.want)
			}
		})
	}
}

func TestToUnstructuredKeepsMeaningfulEmptyMaps(t *testing.T) {
	np := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "allow-same-namespace", Namespace: "coop-a"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}}},
		},
	}
	u, err := ToUnstructured(clientgoscheme.Scheme, np)
	if err != nil {
		t.Fatal(err)
	}
	if u.GetKind() != "NetworkPolicy" || u.GetAPIVersion() != "networking.k8s.io/v1" {
		t.Errorf("kind %s %s", u.GetAPIVersion(), u.GetKind())
	}
	peer := u.Object["spec"].(map[string]any)["ingress"].([]any)[0].(map[string]any)["from"].([]any)[0].(map[string]any)
	if _, ok := peer["podSelector"]; !ok {
		t.Error("an empty podSelector means every pod of the namespace: it must be sent")
	}
	if _, ok := u.Object["status"]; ok {
		t.Error("status is never applied with the object")
	}
	if _, ok := u.Object["metadata"].(map[string]any)["creationTimestamp"]; ok {
		t.Error("server-set metadata must not be sent")
	}
}

func TestHashChangesWithTheDesiredObject(t *testing.T) {
	a := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "n"}, Data: map[string]string{"k": "1"}}
	b := a.DeepCopy()
	b.Data["k"] = "2"
	ua, _ := ToUnstructured(clientgoscheme.Scheme, a)
	ub, _ := ToUnstructured(clientgoscheme.Scheme, b)
	ha, _ := hash(ua)
	hb, _ := hash(ub)
	ha2, _ := hash(ua)
	if ha == hb || ha != ha2 {
		t.Errorf("hash must be stable and follow the content: %s %s %s", ha, hb, ha2)
	}
}
