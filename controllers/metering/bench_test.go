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
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// memoryCluster serves reads from client-go indexers with the namespace index, as the
// informer cache does, and counts writes without sending them anywhere.
type memoryCluster struct {
	pods, pvcs, coops toolscache.Indexer
	coopWrites        atomic.Int64
	reportWrites      atomic.Int64
	reports           map[string]bool
}

func newMemoryCluster(namespaces, podsPerNamespace int) *memoryCluster {
	idx := func() toolscache.Indexer {
		return toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{toolscache.NamespaceIndex: toolscache.MetaNamespaceIndexFunc})
	}
	m := &memoryCluster{pods: idx(), pvcs: idx(), coops: idx(), reports: map[string]bool{}}
	for n := range namespaces {
		coop := newCooperative(fmt.Sprintf("coop%04d", n))
		_ = m.coops.Add(coop)
		ns := coop.NamespaceName()
		for p := range podsPerNamespace {
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("web-%d", p)},
				Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{
					{Name: "app", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("256Mi")}}},
					{Name: "sidecar", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("32Mi")}}},
				}},
				Status: corev1.PodStatus{Phase: corev1.PodRunning},
			}
			_ = m.pods.Add(pod)
		}
		_ = m.pvcs.Add(&corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "data"},
			Status:     corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")}},
		})
	}
	return m
}

func (m *memoryCluster) client() client.Client {
	list := func(_ context.Context, _ client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
		lo := (&client.ListOptions{}).ApplyOptions(opts)
		switch l := list.(type) {
		case *corev1.PodList:
			objs, _ := m.pods.ByIndex(toolscache.NamespaceIndex, lo.Namespace)
			l.Items = make([]corev1.Pod, len(objs))
			for i, o := range objs {
				l.Items[i] = *o.(*corev1.Pod)
			}
		case *corev1.PersistentVolumeClaimList:
			objs, _ := m.pvcs.ByIndex(toolscache.NamespaceIndex, lo.Namespace)
			l.Items = make([]corev1.PersistentVolumeClaim, len(objs))
			for i, o := range objs {
				l.Items[i] = *o.(*corev1.PersistentVolumeClaim)
			}
		case *coopv1.CooperativeList:
			objs := m.coops.List()
			l.Items = make([]coopv1.Cooperative, len(objs))
			for i, o := range objs {
				l.Items[i] = *o.(*coopv1.Cooperative)
			}
		case *coopv1.CostReportList:
			// It keeps no report's status, so none is open to be marked metered through
			// its end: the passes measured stay within one period.
			l.Items = nil
		default:
			return fmt.Errorf("unexpected list %T", list)
		}
		return nil
	}
	return interceptor.NewClient(fake.NewClientBuilder().WithScheme(scheme).Build(), interceptor.Funcs{
		List: list,
		Get: func(_ context.Context, _ client.WithWatch, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
			if !m.reports[key.Name] {
				return apierrors.NewNotFound(schema.GroupResource{Resource: "costreports"}, key.Name)
			}
			obj.SetName(key.Name)
			return nil
		},
		Create: func(_ context.Context, _ client.WithWatch, obj client.Object, _ ...client.CreateOption) error {
			m.reports[obj.GetName()] = true
			m.reportWrites.Add(1)
			return nil
		},
		SubResourceApply: func(_ context.Context, _ client.Client, _ string, obj runtime.ApplyConfiguration, _ ...client.SubResourceApplyOption) error {
			if u, ok := obj.(interface{ GetKind() string }); ok && u.GetKind() == "CostReport" {
				m.reportWrites.Add(1)
			} else {
				m.coopWrites.Add(1)
			}
			return nil
		},
	})
}

// BenchmarkMeteringPass times one pass over 1,000 co-op namespaces of 20 pods each, read
// from stores as the manager's cache serves them (Setup hands the meter its informers'
// stores), between two writes (the steady state).
func BenchmarkMeteringPass(b *testing.B) {
	benchmarkMeteringPass(b, true)
}

// BenchmarkMeteringPassList is the same pass with the objects listed through the client,
// as a meter without Options.Objects reads them: each List copies every object.
func BenchmarkMeteringPassList(b *testing.B) {
	benchmarkMeteringPass(b, false)
}

func benchmarkMeteringPass(b *testing.B, indexers bool) {
	cluster := newMemoryCluster(1000, 20)
	clk := clocktesting.NewFakeClock(at("2026-11-02T00:00:00Z"))
	opts := Options{Clock: clk, PersistInterval: 1000 * time.Hour}
	if indexers {
		opts.Objects = &CachedObjects{Pods: cluster.pods, PVCs: cluster.pvcs}
	}
	m := New(cluster.client(), opts)
	ctx := context.Background()
	if err := m.Pass(ctx); err != nil { // the baseline, written
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clk.Step(time.Minute)
		if err := m.Pass(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(1000, "namespaces/op")
	b.ReportMetric(20000, "pods/op")
	if st := m.coops["coop0001"]; st.rates.MilliCPU != 20*260 || st.rates.StorageBytes != 10*gi {
		b.Fatalf("the pass measured %+v", st.rates)
	}
}

// BenchmarkStatusWritesPerHour counts the writes of one simulated hour at the default
// settings (sample every 60s, write every 5m), after the first write.
func BenchmarkStatusWritesPerHour(b *testing.B) {
	const coops = 50
	var perCoop, reports float64
	for b.Loop() {
		cluster := newMemoryCluster(coops, 2)
		clk := clocktesting.NewFakeClock(at("2026-11-02T00:00:00Z"))
		m := New(cluster.client(), Options{Clock: clk})
		ctx := context.Background()
		if err := m.Pass(ctx); err != nil {
			b.Fatal(err)
		}
		cluster.coopWrites.Store(0)
		cluster.reportWrites.Store(0)
		for range 60 {
			clk.Step(DefaultInterval)
			if err := m.Pass(ctx); err != nil {
				b.Fatal(err)
			}
		}
		perCoop = float64(cluster.coopWrites.Load()) / coops
		reports = float64(cluster.reportWrites.Load())
	}
	b.ReportMetric(perCoop, "cooperative-status-writes/coop/hour")
	b.ReportMetric(reports, "costreport-writes/hour")
	if perCoop != 12 {
		b.Fatalf("%v writes per co-op per hour, want 12", perCoop)
	}
}
