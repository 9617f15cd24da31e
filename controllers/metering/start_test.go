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
	"errors"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// fakeCluster is an in-memory API (controller-runtime's fake client, which keeps the
// creationTimestamp a test gives, unlike a real API server).
func fakeCluster() client.Client {
	return fake.NewClientBuilder().WithScheme(scheme).
		WithStatusSubresource(&coopv1.Cooperative{}, &coopv1.CostReport{}).Build()
}

// addCooperative creates a co-op created at created, with one running pod of one core.
func addCooperative(t *testing.T, c client.Client, name string, created time.Time) {
	t.Helper()
	ctx := context.Background()
	coop := newCooperative(name)
	coop.CreationTimestamp = metav1.NewTime(created)
	if err := c.Create(ctx, coop); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: coop.NamespaceName(), Name: "web", Labels: coopLabel(coop.NamespaceName())},
		Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{
			Name:      "app",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}},
		}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	if err := c.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
}

// TestMeteringStartsAtCreation: a co-op created while the meter runs pays from its
// creation, at the rates of its first sample; one older than the meter, or whose creation
// the meter's clock has not reached, starts at its first sample.
func TestMeteringStartsAtCreation(t *testing.T) {
	tests := []struct {
		name    string
		started string // the meter's first pass
		created string
		sampled string // the pass that first sees the co-op
		want    map[string]int64
	}{{
		name:    "created while the meter runs",
		started: "2026-11-10T00:00:00Z", created: "2026-11-10T00:00:20Z", sampled: "2026-11-10T00:01:00Z",
		want: map[string]int64{"2026-11": 40},
	}, {
		name:    "created just before a period ends",
		started: "2026-10-31T23:58:30Z", created: "2026-10-31T23:59:30Z", sampled: "2026-11-01T00:00:30Z",
		want: map[string]int64{"2026-10": 30, "2026-11": 30},
	}, {
		name:    "created before the meter started",
		started: "2026-11-10T00:00:00Z", created: "2026-11-09T23:00:00Z", sampled: "2026-11-10T00:01:00Z",
		want: map[string]int64{"2026-11": 0},
	}, {
		name:    "created ahead of the meter's clock",
		started: "2026-11-10T00:00:00Z", created: "2026-11-10T00:05:00Z", sampled: "2026-11-10T00:01:00Z",
		want: map[string]int64{"2026-11": 0},
	}, {
		name:    "created at the sample",
		started: "2026-11-10T00:00:00Z", created: "2026-11-10T00:01:00Z", sampled: "2026-11-10T00:01:00Z",
		want: map[string]int64{"2026-11": 0},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			ctx := context.Background()
			c := fakeCluster()
			clk := clocktesting.NewFakeClock(at(tt.started))
			m := New(c, Options{Clock: clk})
			g.Expect(m.Pass(ctx)).To(Succeed())
			addCooperative(t, c, "theta", at(tt.created))
			clk.SetTime(at(tt.sampled))
			g.Expect(m.Pass(ctx)).To(Succeed())

			coop := &coopv1.Cooperative{}
			g.Expect(c.Get(ctx, client.ObjectKey{Name: "theta"}, coop)).To(Succeed())
			g.Expect(coop.Status.Usage).NotTo(BeNil())
			g.Expect(coop.Status.Usage.Periods).To(HaveLen(len(tt.want)))
			for period, seconds := range tt.want {
				p := periodOf(coop, period)
				g.Expect(p).NotTo(BeNil(), period)
				g.Expect(p.CPUMillicoreSeconds).To(Equal(strconv.FormatInt(1000*seconds, 10)), period)
				g.Expect(p.MeteredSeconds).To(Equal(seconds), period)
				g.Expect(p.EstimatedSeconds).To(BeZero(), period)

				// Each period's CostReport holds its part.
				report := &coopv1.CostReport{}
				g.Expect(c.Get(ctx, client.ObjectKey{Name: period}, report)).To(Succeed())
				u := usageOf(report, "theta")
				g.Expect(u).NotTo(BeNil(), period)
				g.Expect(u.CPUMillicoreSeconds).To(Equal(p.CPUMillicoreSeconds), period)
			}
		})
	}
}

// TestMeteringWritesNothingBeforeTheFirstSample: a co-op started at its creation whose
// first sample failed has nothing to write yet, not even on shutdown.
func TestMeteringWritesNothingBeforeTheFirstSample(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	c := fakeCluster()
	failing := interceptor.NewClient(c.(client.WithWatch), interceptor.Funcs{
		List: func(ctx context.Context, cl client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if _, ok := list.(*corev1.PodList); ok {
				return errors.New("the cache is not synced")
			}
			return cl.List(ctx, list, opts...)
		},
	})
	clk := clocktesting.NewFakeClock(at("2026-11-10T00:00:00Z"))
	m := New(failing, Options{Clock: clk})
	g.Expect(m.Pass(ctx)).To(Succeed())
	addCooperative(t, c, "kappa", at("2026-11-10T00:00:20Z"))
	clk.Step(time.Minute)
	g.Expect(m.Pass(ctx)).To(MatchError(ContainSubstring("the cache is not synced")))
	g.Expect(m.Flush(ctx)).To(Succeed())

	coop := &coopv1.Cooperative{}
	g.Expect(c.Get(ctx, client.ObjectKey{Name: "kappa"}, coop)).To(Succeed())
	g.Expect(coop.Status.Usage).To(BeNil())
}

// TestFlushRecordsADeletedCooperativeInTheReportOnly: the totals of a deleted co-op not
// written yet go to the CostReport on shutdown, and nothing tries its gone status.
func TestFlushRecordsADeletedCooperativeInTheReportOnly(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	c := fakeCluster()
	var failPods bool
	var coopWrites int
	cl := interceptor.NewClient(c.(client.WithWatch), interceptor.Funcs{
		List: func(ctx context.Context, cl client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if _, ok := list.(*corev1.PodList); ok && failPods {
				return errors.New("the cache is not synced")
			}
			return cl.List(ctx, list, opts...)
		},
		// The fake client would create a missing object on apply, where the API server
		// answers NotFound: count the writes to the Cooperative instead.
		SubResourceApply: func(ctx context.Context, cl client.Client, sub string, obj runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
			if u, ok := obj.(interface{ GetKind() string }); ok && u.GetKind() == "Cooperative" {
				coopWrites++
			}
			return cl.SubResource(sub).Apply(ctx, obj, opts...)
		},
	})
	addCooperative(t, c, "mu", at("2026-11-01T00:00:00Z"))
	clk := clocktesting.NewFakeClock(at("2026-11-10T00:00:00Z"))
	m := New(cl, Options{Clock: clk})
	g.Expect(m.Pass(ctx)).To(Succeed()) // baseline, written
	clk.Step(time.Minute)
	g.Expect(m.Pass(ctx)).To(Succeed()) // a minute charged, not written yet

	g.Expect(coopWrites).To(Equal(1))

	g.Expect(c.Delete(ctx, newCooperative("mu"))).To(Succeed())
	failPods = true
	clk.Step(time.Minute)
	g.Expect(m.Pass(ctx)).To(MatchError(ContainSubstring("sampling the namespace of deleted co-op mu")))
	g.Expect(m.Flush(ctx)).To(Succeed())
	g.Expect(coopWrites).To(Equal(1), "nothing writes to a deleted co-op's status")

	report := &coopv1.CostReport{}
	g.Expect(c.Get(ctx, client.ObjectKey{Name: "2026-11"}, report)).To(Succeed())
	u := usageOf(report, "mu")
	g.Expect(u).NotTo(BeNil())
	g.Expect(u.CPUMillicoreSeconds).To(Equal(strconv.Itoa(1000 * 60)))
}

// TestMeteringReadsPodUsageOncePerPass: one read of the pods' usage per pass serves every
// co-op, a deleted one's namespace included, each by its own namespace.
func TestMeteringReadsPodUsageOncePerPass(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	c := fakeCluster()
	for _, name := range []string{"nu", "xi", "omicron"} {
		addCooperative(t, c, name, at("2026-11-01T00:00:00Z")) // one pod "web" requesting 1 core
	}
	usage := &usageAbove{pods: map[string]PodUsage{
		"coop-nu":      {"web": {"app": {MilliCPU: 1500}}},
		"coop-omicron": {"web": {"app": {MilliCPU: 2500}}},
	}}
	clk := clocktesting.NewFakeClock(at("2026-11-10T00:00:00Z"))
	m := New(c, Options{Clock: clk, Usage: usage})
	g.Expect(m.Pass(ctx)).To(Succeed())
	g.Expect(c.Delete(ctx, newCooperative("omicron"))).To(Succeed()) // its pod stays
	clk.Step(time.Minute)
	g.Expect(m.Pass(ctx)).To(Succeed())

	g.Expect(usage.reads).To(Equal(2))
	rates := map[string]int64{}
	for name, st := range m.coops {
		rates[name] = st.rates.MilliCPU
	}
	g.Expect(rates).To(Equal(map[string]int64{"nu": 1500, "xi": 1000, "omicron": 2500}))
}

// listRecorder is a client.Reader that serves a fixed PodMetricsList and records the
// options of each List.
type listRecorder struct {
	client.Reader
	items []unstructured.Unstructured
	opts  []*client.ListOptions
}

func (r *listRecorder) List(_ context.Context, list client.ObjectList, opts ...client.ListOption) error {
	r.opts = append(r.opts, (&client.ListOptions{}).ApplyOptions(opts))
	list.(*unstructured.UnstructuredList).Items = r.items
	return nil
}

// TestMetricsAPIPodUsage: the metrics of every co-op's pods come in one List across
// namespaces, selected by the co-op label, and are read by namespace.
func TestMetricsAPIPodUsage(t *testing.T) {
	g := NewWithT(t)
	pm := func(ns, name, cpu string) unstructured.Unstructured {
		return unstructured.Unstructured{Object: map[string]any{
			"metadata":   map[string]any{"namespace": ns, "name": name},
			"containers": []any{map[string]any{"name": "app", "usage": map[string]any{"cpu": cpu, "memory": "1Mi"}}},
		}}
	}
	r := &listRecorder{items: []unstructured.Unstructured{pm("coop-a", "web", "300m"), pm("coop-b", "web", "2")}}
	m := &MetricsAPI{Reader: r}
	got, err := m.PodUsage(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(Equal(map[string]PodUsage{
		"coop-a": {"web": {"app": {MilliCPU: 300, MemoryBytes: mi}}},
		"coop-b": {"web": {"app": {MilliCPU: 2000, MemoryBytes: mi}}},
	}))
	g.Expect(r.opts).To(HaveLen(1))
	g.Expect(r.opts[0].Namespace).To(BeEmpty())
	g.Expect(r.opts[0].LabelSelector.String()).To(Equal(coopv1.LabelCooperative))
}
