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

package metering

import (
	"context"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
)

// TestSweepAgreesWithLists: a meter reading the cache's stores in place measures what a
// meter listing every namespace through the client measures, pass after pass, as pods
// finish, change, go and come, with pod usage above the request, unbound claims, and a
// deleted co-op whose namespace still holds pods; and it forgets the pods that went.
func TestSweepAgreesWithLists(t *testing.T) {
	cluster := newMemoryCluster(5, 3)
	clk := clocktesting.NewFakeClock(at("2026-11-02T00:00:00Z"))
	usage := &usageAbove{pods: map[string]PodUsage{"coop-coop0002": {"web-1": {"app": {MilliCPU: 900, MemoryBytes: gi}}}}}
	swept := New(cluster.client(), Options{Clock: clk, Usage: usage, Objects: &CachedObjects{Pods: cluster.pods, PVCs: cluster.pvcs}})
	listed := New(cluster.client(), Options{Clock: clk, Usage: usage})
	ctx := context.Background()

	pod := func(ns, name, cpu string, phase corev1.PodPhase) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "app", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)},
			}}}},
			Status: corev1.PodStatus{Phase: phase},
		}
	}
	steps := []func(){
		func() {},
		func() { _ = cluster.pods.Update(pod("coop-coop0000", "web-0", "2", corev1.PodRunning)) },   // a changed pod
		func() { _ = cluster.pods.Update(pod("coop-coop0001", "web-0", "1", corev1.PodSucceeded)) }, // a finished pod
		func() { _ = cluster.pods.Delete(pod("coop-coop0000", "web-1", "1", corev1.PodRunning)) },   // a pod gone
		func() { _ = cluster.pods.Add(pod("coop-coop0003", "batch", "3", corev1.PodRunning)) },      // a new pod
		func() {
			_ = cluster.pvcs.Add(&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "coop-coop0004", Name: "pending"},
				Spec: corev1.PersistentVolumeClaimSpec{Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("5Gi")}}}})
		},
		func() { _ = cluster.coops.Delete(newCooperative("coop0004")) }, // its namespace still holds a pod and claims
	}
	for i, step := range steps {
		step()
		clk.Step(time.Minute)
		if err := swept.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		if err := listed.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		if len(swept.coops) != 5 {
			t.Fatalf("step %d: the sweeping meter meters %d co-ops, want 5", i, len(swept.coops))
		}
		for name, want := range listed.coops {
			got := swept.coops[name]
			if got == nil || got.rates != want.rates || got.gone != want.gone || !reflect.DeepEqual(got.ledger, want.ledger) {
				t.Fatalf("step %d, co-op %s: swept %+v, listed %+v", i, name, got, want)
			}
		}
		if n, pods := len(swept.podRates), len(cluster.pods.List()); n > pods {
			t.Fatalf("step %d: %d pods' rates are kept for %d pods", i, n, pods)
		}
	}
	if r := swept.coops["coop0000"].rates.MilliCPU; r != 2000+260 {
		t.Errorf("co-op coop0000 holds %d millicores after its pod changed, want 2260", r)
	}
	if r := swept.coops["coop0002"].rates.MilliCPU; r != 3*260-250+900 {
		t.Errorf("co-op coop0002 holds %d millicores with one pod's usage above its request, want 1430", r)
	}
}
