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

package cacheshare_test

import (
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"unsafe"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cooperator-dev/cooperator/controllers/shared/cacheshare"
)

// same reports whether two maps are one map.
func same(a, b map[string]string) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

func sameOwners(a, b []metav1.OwnerReference) bool {
	return len(a) > 0 && len(b) > 0 && unsafe.SliceData(a) == unsafe.SliceData(b)
}

// meta is what the operator puts on each object of co-op coop: the same labels and owner,
// decoded afresh for each object (its own maps and slices).
func meta(coop, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Namespace:   "coop-" + coop,
		Name:        name,
		Labels:      map[string]string{"app.kubernetes.io/managed-by": "cooperator", "coop.cooperator.dev/cooperative": coop},
		Annotations: map[string]string{"coop.cooperator.dev/applied-hash": name},
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "coop.cooperator.dev/v1alpha1", Kind: "Cooperative", Name: coop,
			UID: types.UID("uid-of-" + coop), Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
		}},
	}
}

func selector(coop string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"cnpg.io/cluster": coop + "-db"}}
}

func networkPolicy(coop, name string) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		ObjectMeta: meta(coop, name),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: *selector(coop),
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: selector(coop), NamespaceSelector: selector("hub")}}}},
			Egress:      []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{PodSelector: selector(coop)}}}},
		},
	}
}

func template(coop string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": coop}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}},
	}
}

// transform runs obj through the Sharer and checks that nothing it holds changed.
func transform(t *testing.T, s *cacheshare.Sharer, obj client.Object) {
	t.Helper()
	before := obj.DeepCopyObject()
	out, err := s.Transform(obj)
	if err != nil {
		t.Fatal(err)
	}
	if out != k8sruntime.Object(obj) {
		t.Fatalf("Transform returned another object than %T %s", obj, obj.GetName())
	}
	if !equality.Semantic.DeepEqual(before, obj) {
		t.Fatalf("Transform changed %T %s:\nbefore %+v\nafter  %+v", obj, obj.GetName(), before, obj)
	}
}

func TestObjectsOfACoopShareTheirLabelsOwnerAndSelectors(t *testing.T) {
	s := cacheshare.New()
	a, b := networkPolicy("a", "one"), networkPolicy("a", "two")
	other := networkPolicy("b", "one")
	for _, np := range []*networkingv1.NetworkPolicy{a, b, other} {
		transform(t, s, np)
		// Objects reach the cache between collections: what is shared must outlive them.
		runtime.GC()
		runtime.GC()
	}
	if !same(a.Labels, b.Labels) {
		t.Error("two objects of co-op a must share their labels")
	}
	if !sameOwners(a.OwnerReferences, b.OwnerReferences) {
		t.Error("two objects of co-op a must share their owner references")
	}
	if !same(a.Spec.PodSelector.MatchLabels, b.Spec.Ingress[0].From[0].PodSelector.MatchLabels) ||
		!same(a.Spec.PodSelector.MatchLabels, b.Spec.Egress[0].To[0].PodSelector.MatchLabels) {
		t.Error("the same pod selector must be shared wherever it appears")
	}
	if unsafe.StringData(a.Namespace) != unsafe.StringData(b.Namespace) {
		t.Error("two objects in one namespace must share its name")
	}
	// What differs is not shared.
	if same(a.Labels, other.Labels) || sameOwners(a.OwnerReferences, other.OwnerReferences) {
		t.Error("objects of two co-ops must not share their labels or owner")
	}
	if same(a.Spec.PodSelector.MatchLabels, a.Spec.Ingress[0].From[0].NamespaceSelector.MatchLabels) {
		t.Error("two different selectors must not be shared")
	}
	if same(a.Annotations, b.Annotations) {
		t.Error("annotations (the applied hash, one per object) are not shared")
	}
}

func TestOnlyIdenticalSetsAreShared(t *testing.T) {
	s := cacheshare.New()
	for _, tc := range []struct{ a, b map[string]string }{
		{map[string]string{"a": "bc"}, map[string]string{"ab": "c"}},
		{map[string]string{"a": "b", "c": "d"}, map[string]string{"a": "b"}},
		{map[string]string{"a": ""}, map[string]string{"": "a"}},
		{map[string]string{"1:a": "b"}, map[string]string{"1": "a1:b"}},
	} {
		got, want := s.Map(tc.a), s.Map(tc.b)
		if same(got, want) || !reflect.DeepEqual(want, tc.b) {
			t.Errorf("%v and %v must stay apart", tc.a, tc.b)
		}
	}
	// One owner reference list differs from another in a flag only.
	ctl := meta("a", "x")
	notCtl := meta("a", "y")
	notCtl.OwnerReferences[0].Controller = ptr.To(false)
	unset := meta("a", "z")
	unset.OwnerReferences[0].Controller = nil
	objs := []*corev1.ConfigMap{{ObjectMeta: ctl}, {ObjectMeta: notCtl}, {ObjectMeta: unset}}
	for _, o := range objs {
		transform(t, s, o)
	}
	for i := range objs {
		for j := i + 1; j < len(objs); j++ {
			if sameOwners(objs[i].OwnerReferences, objs[j].OwnerReferences) {
				t.Errorf("owner references %d and %d differ in Controller and must stay apart", i, j)
			}
		}
	}
}

// TestEveryKindKeepsItsValue runs each kind Transform knows through it twice (two objects
// of one co-op) and checks that the values are unchanged and the selectors shared.
func TestEveryKindKeepsItsValue(t *testing.T) {
	s := cacheshare.New()
	for _, tc := range []struct {
		kind  string
		build func(name string) client.Object
		maps  func(client.Object) []map[string]string
	}{{
		kind: "Deployment",
		build: func(name string) client.Object {
			return &appsv1.Deployment{ObjectMeta: meta("a", name), Spec: appsv1.DeploymentSpec{Selector: selector("a"), Template: template("a")}}
		},
		maps: func(o client.Object) []map[string]string {
			d := o.(*appsv1.Deployment)
			return []map[string]string{d.Spec.Selector.MatchLabels, d.Spec.Template.Labels}
		},
	}, {
		kind: "Service",
		build: func(name string) client.Object {
			return &corev1.Service{ObjectMeta: meta("a", name), Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "a"}}}
		},
		maps: func(o client.Object) []map[string]string {
			return []map[string]string{o.(*corev1.Service).Spec.Selector}
		},
	}, {
		kind: "PodDisruptionBudget",
		build: func(name string) client.Object {
			return &policyv1.PodDisruptionBudget{ObjectMeta: meta("a", name), Spec: policyv1.PodDisruptionBudgetSpec{Selector: selector("a")}}
		},
		maps: func(o client.Object) []map[string]string {
			return []map[string]string{o.(*policyv1.PodDisruptionBudget).Spec.Selector.MatchLabels}
		},
	}, {
		kind: "Job",
		build: func(name string) client.Object {
			return &batchv1.Job{ObjectMeta: meta("a", name), Spec: batchv1.JobSpec{Selector: selector("a"), Template: template("a")}}
		},
		maps: func(o client.Object) []map[string]string {
			j := o.(*batchv1.Job)
			return []map[string]string{j.Spec.Selector.MatchLabels, j.Spec.Template.Labels}
		},
	}, {
		kind: "CronJob",
		build: func(name string) client.Object {
			return &batchv1.CronJob{ObjectMeta: meta("a", name), Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"job": "a"}},
				Spec:       batchv1.JobSpec{Template: template("a")},
			}}}
		},
		maps: func(o client.Object) []map[string]string {
			c := o.(*batchv1.CronJob)
			return []map[string]string{c.Spec.JobTemplate.Labels, c.Spec.JobTemplate.Spec.Template.Labels}
		},
	}} {
		one, two := tc.build("one"), tc.build("two")
		transform(t, s, one)
		transform(t, s, two)
		for i, m := range tc.maps(one) {
			if !same(m, tc.maps(two)[i]) {
				t.Errorf("%s: selector or template labels %d must be shared", tc.kind, i)
			}
		}
		if !same(one.GetLabels(), two.GetLabels()) {
			t.Errorf("%s: labels must be shared", tc.kind)
		}
	}
}

// TestConcurrentTransforms is for the race detector: the informers of every kind transform
// at once.
func TestConcurrentTransforms(t *testing.T) {
	s := cacheshare.New()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 200 {
				np := networkPolicy(fmt.Sprint(i%20), fmt.Sprintf("np-%d-%d", w, i))
				if _, err := s.Transform(np); err != nil {
					t.Error(err)
				}
				if np.Labels["coop.cooperator.dev/cooperative"] != fmt.Sprint(i%20) {
					t.Errorf("np-%d-%d: labels of another co-op: %v", w, i, np.Labels)
				}
			}
		})
	}
	wg.Wait()
}

func TestChainRunsInOrderAndStopsAtAnError(t *testing.T) {
	var order []string
	step := func(name string, err error) func(any) (any, error) {
		return func(obj any) (any, error) {
			order = append(order, name)
			return obj, err
		}
	}
	if _, err := cacheshare.Chain(step("strip", nil), step("share", nil))(&corev1.ConfigMap{}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(order) != "[strip share]" {
		t.Errorf("ran %v", order)
	}
	order = nil
	if _, err := cacheshare.Chain(step("strip", fmt.Errorf("boom")), step("share", nil))(&corev1.ConfigMap{}); err == nil || fmt.Sprint(order) != "[strip]" {
		t.Errorf("an error must stop the chain: ran %v, err %v", order, err)
	}
}

// The pod templates of different co-ops hold the same security contexts, probes and
// resources (a template and a plan): one copy of each is kept.
func TestPodTemplatePartsAreSharedAcrossCoops(t *testing.T) {
	s := cacheshare.New()
	deployment := func(coop string) *appsv1.Deployment {
		tpl := template(coop)
		tpl.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)}
		tpl.Spec.InitContainers = []corev1.Container{{Name: "migrate", Image: "i", SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false)}}}
		c := &tpl.Spec.Containers[0]
		c.SecurityContext = &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false)}
		c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz"}}, PeriodSeconds: 10}
		c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz"}}, PeriodSeconds: 10}
		c.Resources = corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
		}
		return &appsv1.Deployment{ObjectMeta: meta(coop, "web"), Spec: appsv1.DeploymentSpec{Selector: selector(coop), Template: tpl}}
	}
	a, b := deployment("a"), deployment("b")
	transform(t, s, a)
	transform(t, s, b)
	ca, cb := a.Spec.Template.Spec.Containers[0], b.Spec.Template.Spec.Containers[0]
	for what, pair := range map[string][2]any{
		"pod security context":       {a.Spec.Template.Spec.SecurityContext, b.Spec.Template.Spec.SecurityContext},
		"container security context": {ca.SecurityContext, cb.SecurityContext},
		"init container's":           {a.Spec.Template.Spec.InitContainers[0].SecurityContext, b.Spec.Template.Spec.InitContainers[0].SecurityContext},
		"init and main containers'":  {a.Spec.Template.Spec.InitContainers[0].SecurityContext, cb.SecurityContext},
		"liveness probe":             {ca.LivenessProbe, cb.LivenessProbe},
		"readiness probe":            {ca.ReadinessProbe, cb.ReadinessProbe},
		"requests":                   {ca.Resources.Requests, cb.Resources.Requests},
		"limits":                     {ca.Resources.Limits, cb.Resources.Limits},
	} {
		if reflect.ValueOf(pair[0]).UnsafePointer() != reflect.ValueOf(pair[1]).UnsafePointer() {
			t.Errorf("the %s must be shared", what)
		}
	}
	if reflect.ValueOf(ca.LivenessProbe).UnsafePointer() == reflect.ValueOf(ca.ReadinessProbe).UnsafePointer() {
		t.Error("two different probes must stay apart")
	}
	// What differs only slightly stays apart: an unset flag and a false one.
	c := deployment("c")
	c.Spec.Template.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
	transform(t, s, c)
	if reflect.ValueOf(c.Spec.Template.Spec.Containers[0].SecurityContext).UnsafePointer() == reflect.ValueOf(cb.SecurityContext).UnsafePointer() {
		t.Error("a security context with the flag unset must not be shared with one where it is false")
	}
	if reflect.ValueOf(ca.Resources.Requests).UnsafePointer() == reflect.ValueOf(ca.Resources.Limits).UnsafePointer() {
		t.Error("requests and limits differ and must stay apart")
	}
}
