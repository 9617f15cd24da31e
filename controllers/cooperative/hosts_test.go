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
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// HostHolder: a co-op serving the host keeps it however young (of two, the first
// Ingress); else this hub's co-op before a standby, then the first
// to claim it, then the first created, then by name.
func TestHostHolder(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	claims := func(name string, created time.Time, claim uint64) HostCandidate {
		return HostCandidate{Name: name, Claims: true, Created: created, Claim: claim}
	}
	serving := func(c HostCandidate, since time.Time) HostCandidate {
		c.Serving, c.ServingSince = true, since
		return c
	}
	standby := claims("standby", t0.Add(-time.Hour), 1)
	standby.Standby = true
	for _, tc := range []struct {
		name       string
		candidates []HostCandidate
		want       string
	}{
		{"alone", []HostCandidate{claims("a", t0, 1)}, "a"},
		{"the first to claim it, however young", []HostCandidate{claims("old", t0, 2), claims("young", t0.Add(time.Hour), 1)}, "young"},
		{"a claim seen before one not seen", []HostCandidate{claims("old", t0, 0), claims("young", t0.Add(time.Hour), 7)}, "young"},
		{"claims not seen: the first created", []HostCandidate{claims("young", t0.Add(time.Minute), 0), claims("old", t0, 0)}, "old"},
		{"claims not seen, created in one second: by name", []HostCandidate{claims("b", t0, 0), claims("a", t0, 0)}, "a"},
		{"the one serving it, however young and late", []HostCandidate{claims("old", t0, 1), serving(claims("serving", t0.Add(time.Hour), 2), t0.Add(2*time.Hour))}, "serving"},
		{"serving it and naming another host now", []HostCandidate{claims("old", t0, 1), serving(HostCandidate{Name: "elsewhere"}, t0)}, "elsewhere"},
		{"two serving (a race): the first Ingress", []HostCandidate{serving(claims("x", t0, 1), t0.Add(time.Second)), serving(claims("y", t0.Add(time.Hour), 2), t0)}, "y"},
		{"this hub's co-op before an older, earlier standby", []HostCandidate{standby, claims("local", t0, 2)}, "local"},
		{"a standby that serves it keeps it", []HostCandidate{serving(standby, t0), claims("local", t0, 2)}, "standby"},
		{"one being deleted claims nothing", []HostCandidate{{Name: "deleting", Created: t0.Add(-time.Hour), Claim: 1}, claims("a", t0, 2)}, "a"},
		{"none", []HostCandidate{{Name: "deleting"}}, ""},
	} {
		if got := HostHolder(tc.candidates); got != tc.want {
			t.Errorf("%s: %q holds the host; want %q", tc.name, got, tc.want)
		}
	}
}

// claimOrder numbers claims in the order it sees them, anew when a co-op's host changes;
// a cached version of a co-op it has not seen yet makes it say it is behind.
func TestClaimOrder(t *testing.T) {
	o := newClaimOrder()
	coop := func(name, host, rv string) *coopv1.Cooperative {
		c := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: rv}}
		c.Spec.Platform.Host = host
		return c
	}
	numbers := func(cached ...*coopv1.Cooperative) (map[string]uint64, error) {
		var list []coopv1.Cooperative
		for _, c := range cached {
			list = append(list, *c)
		}
		return o.numbers("h", list)
	}
	o.observe(coop("victim", "h", "1"))
	o.observe(coop("attacker", "h", "2"))
	o.observe(coop("victim", "h", "3")) // a later event of the same claim keeps its number
	n, err := numbers(coop("victim", "h", "3"), coop("attacker", "h", "2"))
	if err != nil || n["victim"] == 0 || n["attacker"] <= n["victim"] {
		t.Errorf("%v, %v: want the victim's claim first", n, err)
	}
	// The cache holds a version the watch has not handed over yet.
	if _, err := numbers(coop("victim", "h", "3"), coop("attacker", "h", "4")); !errors.Is(err, errClaimsBehind) {
		t.Errorf("a version not seen yet: %v; want errClaimsBehind", err)
	}
	if _, err := numbers(coop("unseen", "h", "5")); !errors.Is(err, errClaimsBehind) {
		t.Errorf("a co-op not seen yet: %v; want errClaimsBehind", err)
	}
	o.observe(coop("victim", "other", "6"))
	o.observe(coop("victim", "h", "7")) // claimed again: after the attacker now
	if n, err := numbers(coop("victim", "h", "7"), coop("attacker", "h", "2")); err != nil || n["victim"] <= n["attacker"] {
		t.Errorf("%v, %v: a claim made again counts from then", n, err)
	}
	o.forget("victim")
	if _, err := numbers(coop("victim", "h", "7")); !errors.Is(err, errClaimsBehind) {
		t.Error("a claim outlived its co-op")
	}
	var none *claimOrder
	if n, err := none.numbers("h", []coopv1.Cooperative{*coop("x", "h", "1")}); err != nil || len(n) != 0 {
		t.Error("no order numbers nothing")
	}
}

// hostHolder reads the claimants and the Ingresses from the cache: an Ingress of a co-op
// that names another host holds it; one of a co-op gone or being deleted, or in a namespace
// of no co-op's label, does not; the co-op being reconciled stands for its cached copy.
func TestHostHolderFromTheCache(t *testing.T) {
	const host = "rides.example.coop"
	scheme := backupScheme(t)
	if err := coopv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	claimant := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "claimant", CreationTimestamp: metav1.NewTime(t0)}}
	claimant.Spec.Platform.Host = host
	ingress := func(coop, labelled string) *networkingv1.Ingress {
		return &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Namespace: coopv1.NamespacePrefix + coop, Name: coop, Labels: map[string]string{coopv1.LabelCooperative: labelled}},
			Spec:       networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: host}}},
		}
	}
	moving := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "moving", CreationTimestamp: metav1.NewTime(t0.Add(time.Hour))}}
	moving.Spec.Platform.Host = "elsewhere.example.coop"
	deleting := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "deleting", CreationTimestamp: metav1.NewTime(t0), Finalizers: []string{"test"}, DeletionTimestamp: ptr.To(metav1.NewTime(t0))}}
	build := func(objs ...client.Object) client.Client {
		return fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
			WithIndex(&coopv1.Cooperative{}, HostIndex, cooperativeHost).
			WithIndex(&networkingv1.Ingress{}, IngressHostIndex, func(o client.Object) []string { return ingressHosts(o.(*networkingv1.Ingress)) }).
			Build()
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		objs        []client.Object
		want        string
		wantServing bool
	}{
		{"the claimant alone", []client.Object{claimant}, "claimant", false},
		{"an Ingress of a co-op that names another host now", []client.Object{claimant, moving, ingress("moving", "moving")}, "moving", true},
		{"an Ingress of a co-op being deleted", []client.Object{claimant, deleting, ingress("deleting", "deleting")}, "claimant", false},
		{"an Ingress of a co-op gone", []client.Object{claimant, ingress("gone", "gone")}, "claimant", false},
		{"an Ingress labelled for another co-op than its namespace's", []client.Object{claimant, ingress("stray", "claimant")}, "claimant", false},
	} {
		holder, serving, err := hostHolder(ctx, build(tc.objs...), nil, host, claimant)
		if err != nil || holder != tc.want || serving != tc.wantServing {
			t.Errorf("%s: %q (serving %t), %v; want %q (serving %t)", tc.name, holder, serving, err, tc.want, tc.wantServing)
		}
	}
	// The reconcile's copy stands for the cached one: a co-op that named the host only in
	// the cache's stale copy claims nothing.
	moved := claimant.DeepCopy()
	moved.Spec.Platform.Host = "elsewhere.example.coop"
	other := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "other", CreationTimestamp: metav1.NewTime(t0.Add(time.Hour))}}
	other.Spec.Platform.Host = host
	if holder, _, err := hostHolder(ctx, build(claimant, other), nil, host, moved); err != nil || holder != "other" {
		t.Errorf("stale copy: %q, %v; want other", holder, err)
	}
}
