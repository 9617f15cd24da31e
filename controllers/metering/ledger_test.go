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
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestPeriods(t *testing.T) {
	start, end := PeriodBounds(at("2026-12-31T23:59:59Z"))
	if start != at("2026-12-01T00:00:00Z") || end != at("2027-01-01T00:00:00Z") || PeriodOf(start) != "2026-12" {
		t.Errorf("PeriodBounds = %s, %s", start, end)
	}
	if _, _, err := ParsePeriod("2026-13"); err == nil {
		t.Error("ParsePeriod(2026-13) succeeded")
	}
}

func TestLedgerAdvance(t *testing.T) {
	r := Rates{MilliCPU: 1500, MemoryBytes: 1 << 30, StorageBytes: 10 << 30}
	type step struct {
		to        string
		estimated bool
	}
	tests := []struct {
		name      string
		steps     []step
		want      map[string][4]int64 // period: cpu millicore-s, memory byte-s, metered s, estimated s
		intervals map[string]int
	}{
		{
			name:  "the first sample is a baseline",
			steps: []step{{"2026-11-10T00:00:00Z", false}},
			want:  map[string][4]int64{"2026-11": {0, 0, 0, 0}},
		},
		{
			name:  "intervals add up",
			steps: []step{{"2026-11-10T00:00:00Z", false}, {"2026-11-10T00:01:00Z", false}, {"2026-11-10T01:00:00Z", false}},
			want:  map[string][4]int64{"2026-11": {1500 * 3600, 3600 << 30, 3600, 0}},
		},
		{
			name:  "a sample that does not move forward counts nothing",
			steps: []step{{"2026-11-10T00:00:00Z", false}, {"2026-11-10T01:00:00Z", false}, {"2026-11-10T00:30:00Z", false}, {"2026-11-10T01:00:00Z", false}},
			want:  map[string][4]int64{"2026-11": {1500 * 3600, 3600 << 30, 3600, 0}},
		},
		{
			name:  "an interval across a boundary is split at it",
			steps: []step{{"2026-11-30T23:00:00Z", false}, {"2026-12-01T01:00:00Z", false}},
			want: map[string][4]int64{
				"2026-11": {1500 * 3600, 3600 << 30, 3600, 0},
				"2026-12": {1500 * 3600, 3600 << 30, 3600, 0},
			},
		},
		{
			name:  "an estimated gap across two boundaries",
			steps: []step{{"2026-10-31T00:00:00Z", false}, {"2026-12-01T12:00:00Z", true}},
			want: map[string][4]int64{
				"2026-10": {1500 * 86400, 86400 << 30, 86400, 86400},
				"2026-11": {1500 * 30 * 86400, 30 * 86400 << 30, 30 * 86400, 30 * 86400},
				"2026-12": {1500 * 43200, 43200 << 30, 43200, 43200},
			},
			intervals: map[string]int{"2026-10": 1, "2026-11": 1, "2026-12": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLedger()
			for _, s := range tt.steps {
				l.Advance(at(s.to), r, s.estimated)
			}
			if len(l.Periods) != len(tt.want) {
				t.Fatalf("periods = %d, want %d", len(l.Periods), len(tt.want))
			}
			for p, w := range tt.want {
				got := l.Periods[p]
				if got == nil {
					t.Fatalf("period %s missing", p)
				}
				if got.CPUMillicoreSeconds.Int64() != w[0] || got.MemoryByteSeconds.Int64() != w[1] || got.MeteredSeconds != w[2] || got.EstimatedSeconds != w[3] {
					t.Errorf("%s: cpu %s mem %s metered %d estimated %d; want %v", p, &got.CPUMillicoreSeconds, &got.MemoryByteSeconds, got.MeteredSeconds, got.EstimatedSeconds, w)
				}
				if n := tt.intervals[p]; len(got.Estimated) != n {
					t.Errorf("%s: %d estimated intervals, want %d", p, len(got.Estimated), n)
				}
			}
		})
	}
}

func TestLedgerKeeps13PeriodsAndRoundTrips(t *testing.T) {
	l := NewLedger()
	r := Rates{MilliCPU: 1, MemoryBytes: 1 << 40, StorageBytes: 1 << 42} // byte-seconds far beyond int64
	l.Advance(at("2025-01-01T00:00:00Z"), r, false)
	for m := 1; m <= 20; m++ {
		l.Advance(at("2025-01-01T00:00:00Z").AddDate(0, m, 0), r, m%2 == 0)
	}
	if len(l.Periods) != 13 {
		t.Fatalf("kept %d periods, want 13", len(l.Periods))
	}
	s := l.UsageStatus(r)
	if s.Periods[0].Period != "2026-09" || s.Periods[12].Period != "2025-09" {
		t.Errorf("periods run from %s to %s", s.Periods[0].Period, s.Periods[12].Period)
	}
	back, err := LedgerFromStatus(s)
	if err != nil {
		t.Fatal(err)
	}
	again := back.UsageStatus(r)
	if fmt.Sprint(again) != fmt.Sprint(s) {
		t.Errorf("round trip changed the usage:\n%v\n%v", s, again)
	}
	if p := l.Periods["2026-08"]; p.StorageByteSeconds.IsInt64() {
		t.Errorf("storage byte-seconds %s should overflow int64", &p.StorageByteSeconds)
	}
}

func TestLedgerBoundsEstimatedIntervals(t *testing.T) {
	l := NewLedger()
	start := at("2026-11-01T00:00:00Z")
	l.Advance(start, Rates{MilliCPU: 1}, false)
	for i := 1; i <= 25; i++ {
		l.Advance(start.Add(time.Duration(i)*time.Hour), Rates{MilliCPU: 1}, true)
	}
	p := l.Periods["2026-11"]
	if len(p.Estimated) != 10 || p.EstimatedSeconds != 25*3600 {
		t.Errorf("%d intervals, %d estimated seconds", len(p.Estimated), p.EstimatedSeconds)
	}
	if !p.Estimated[9].End.Time.Equal(start.Add(25 * time.Hour)) {
		t.Errorf("the newest interval ends at %s", p.Estimated[9].End)
	}
}

func pod(name string, node string, phase corev1.PodPhase, containers ...[2]string) corev1.Pod {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: phase}}
	for i, c := range containers {
		req := corev1.ResourceList{}
		if c[0] != "" {
			req[corev1.ResourceCPU] = resource.MustParse(c[0])
		}
		if c[1] != "" {
			req[corev1.ResourceMemory] = resource.MustParse(c[1])
		}
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: fmt.Sprintf("c%d", i), Resources: corev1.ResourceRequirements{Requests: req}})
	}
	return p
}

// withInit adds init containers to a pod, named i0, i1...: a sidecar (restartPolicy
// Always) when its third field is "sidecar".
func withInit(p corev1.Pod, containers ...[3]string) corev1.Pod {
	for i, c := range containers {
		ic := corev1.Container{Name: fmt.Sprintf("i%d", i), Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse(c[0]),
			corev1.ResourceMemory: resource.MustParse(c[1]),
		}}}
		if c[2] == "sidecar" {
			ic.RestartPolicy = ptr.To(corev1.ContainerRestartPolicyAlways)
		}
		p.Spec.InitContainers = append(p.Spec.InitContainers, ic)
	}
	return p
}

// withPodLevel sets a pod's pod-level requests (spec.resources): cpu and memory, each
// when not empty.
func withPodLevel(p corev1.Pod, cpu, memory string) corev1.Pod {
	req := corev1.ResourceList{}
	if cpu != "" {
		req[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if memory != "" {
		req[corev1.ResourceMemory] = resource.MustParse(memory)
	}
	p.Spec.Resources = &corev1.ResourceRequirements{Requests: req, Limits: req}
	return p
}

func TestPodRates(t *testing.T) {
	running := func(containers ...[2]string) corev1.Pod { return pod("p", "n", corev1.PodRunning, containers...) }
	tests := []struct {
		name  string
		pod   corev1.Pod
		usage map[string]ContainerUsage
		want  Rates
	}{
		{"requests alone", pod("p", "n", corev1.PodRunning, [2]string{"250m", "256Mi"}, [2]string{"1", "1Gi"}), nil, Rates{MilliCPU: 1250, MemoryBytes: 1280 << 20}},
		{"usage above the request counts", pod("p", "n", corev1.PodRunning, [2]string{"250m", "256Mi"}), map[string]ContainerUsage{"c0": {MilliCPU: 900, MemoryBytes: 100 << 20}}, Rates{MilliCPU: 900, MemoryBytes: 256 << 20}},
		{"usage below the request does not", pod("p", "n", corev1.PodRunning, [2]string{"2", "2Gi"}), map[string]ContainerUsage{"c0": {MilliCPU: 10, MemoryBytes: 1}}, Rates{MilliCPU: 2000, MemoryBytes: 2 << 30}},
		{"no request, usage alone", pod("p", "n", corev1.PodRunning, [2]string{"", ""}), map[string]ContainerUsage{"c0": {MilliCPU: 30, MemoryBytes: 5 << 20}}, Rates{MilliCPU: 30, MemoryBytes: 5 << 20}},
		// A CloudNativePG instance pod with the Barman Cloud plugin's sidecar.
		{"a sidecar counts with the app containers", withInit(running([2]string{"1", "1Gi"}), [3]string{"100m", "128Mi", "sidecar"}), nil, Rates{MilliCPU: 1100, MemoryBytes: 1152 << 20}},
		{"a sidecar's usage above its request counts", withInit(running([2]string{"1", "1Gi"}), [3]string{"100m", "128Mi", "sidecar"}), map[string]ContainerUsage{"i0": {MilliCPU: 400, MemoryBytes: 1 << 20}}, Rates{MilliCPU: 1400, MemoryBytes: 1152 << 20}},
		{"an init container that finished does not count", withInit(running([2]string{"1", "1Gi"}), [3]string{"500m", "512Mi", ""}), nil, Rates{MilliCPU: 1000, MemoryBytes: 1 << 30}},
		{"an init step larger than the app holds the pod, resource by resource", withInit(running([2]string{"1", "1Gi"}), [3]string{"2", "512Mi", ""}), nil, Rates{MilliCPU: 2000, MemoryBytes: 1 << 30}},
		{"an init step runs beside the sidecars started before it", withInit(running([2]string{"250m", "256Mi"}), [3]string{"100m", "64Mi", "sidecar"}, [3]string{"200m", "512Mi", ""}, [3]string{"50m", "32Mi", "sidecar"}),
			nil, Rates{MilliCPU: 400, MemoryBytes: 576 << 20}},
		// Pod-level resources: the pod's request of a resource replaces its containers'.
		{"a pod-level request is the pod's, above its containers'", withPodLevel(running([2]string{"", ""}, [2]string{"", ""}), "2", "3Gi"), nil, Rates{MilliCPU: 2000, MemoryBytes: 3 << 30}},
		{"a pod-level request replaces its containers' of that resource only", withPodLevel(running([2]string{"500m", "1Gi"}, [2]string{"500m", "1Gi"}), "300m", ""), nil, Rates{MilliCPU: 300, MemoryBytes: 2 << 30}},
		{"the containers' usage above a pod-level request counts", withPodLevel(running([2]string{"", ""}, [2]string{"", ""}), "1", "1Gi"),
			map[string]ContainerUsage{"c0": {MilliCPU: 700, MemoryBytes: 100 << 20}, "c1": {MilliCPU: 600, MemoryBytes: 100 << 20}}, Rates{MilliCPU: 1300, MemoryBytes: 1 << 30}},
		{"an init step larger than a pod-level request holds the pod", withPodLevel(withInit(running([2]string{"", ""}), [3]string{"0", "0", ""}), "1", "1Gi"),
			map[string]ContainerUsage{"i0": {MilliCPU: 1500, MemoryBytes: 1 << 20}}, Rates{MilliCPU: 1500, MemoryBytes: 1 << 30}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PodRates(&tt.pod, tt.usage); got != tt.want {
				t.Errorf("PodRates = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestNamespaceRates(t *testing.T) {
	pods := []corev1.Pod{
		pod("running", "n1", corev1.PodRunning, [2]string{"1", "1Gi"}),
		pod("pending-bound", "n1", corev1.PodPending, [2]string{"1", "1Gi"}),
		pod("unscheduled", "", corev1.PodPending, [2]string{"8", "8Gi"}),
		pod("done", "n1", corev1.PodSucceeded, [2]string{"8", "8Gi"}),
		pod("failed", "n1", corev1.PodFailed, [2]string{"8", "8Gi"}),
	}
	pvc := func(phase corev1.PersistentVolumeClaimPhase, capacity string) corev1.PersistentVolumeClaim {
		c := corev1.PersistentVolumeClaim{Status: corev1.PersistentVolumeClaimStatus{Phase: phase}}
		c.Spec.Resources.Requests = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}
		if capacity != "" {
			c.Status.Capacity = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(capacity)}
		}
		return c
	}
	pvcs := []corev1.PersistentVolumeClaim{pvc(corev1.ClaimBound, "20Gi"), pvc(corev1.ClaimPending, ""), pvc(corev1.ClaimBound, "")}
	usage := PodUsage{"running": {"c0": {MilliCPU: 1500}}}
	got := NamespaceRates(pods, pvcs, usage)
	want := Rates{MilliCPU: 2500, MemoryBytes: 2 << 30, StorageBytes: 21 << 30}
	if got != want {
		t.Errorf("NamespaceRates = %+v, want %+v", got, want)
	}
}

func TestTransformPodKeepsWhatMeteringReads(t *testing.T) {
	p := pod("p", "n1", corev1.PodRunning, [2]string{"250m", "1Gi"})
	p.Namespace = "coop-a"
	p.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	p.Annotations = map[string]string{"big": "x"}
	p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "b"}}
	p.Spec.Containers[0].Image = "img"
	out, err := TransformPod(&p)
	if err != nil {
		t.Fatal(err)
	}
	q := out.(*corev1.Pod)
	if q.ManagedFields != nil || q.Annotations != nil || q.Spec.Containers[0].Env != nil || q.Spec.Containers[0].Image != "" {
		t.Errorf("the transform kept fields the metering does not read: %+v", q)
	}
	if PodRates(q, nil) != PodRates(&p, nil) || !PodCounts(q) || q.Namespace != "coop-a" {
		t.Errorf("the transform changed what the metering reads")
	}

	// A sidecar, and an init step beside it larger than the app, as PodRates reads them.
	p = withInit(p, [3]string{"100m", "128Mi", "sidecar"}, [3]string{"2", "64Mi", ""})
	p.Spec.InitContainers[0].Image = "plugin"
	out, err = TransformPod(&p)
	if err != nil {
		t.Fatal(err)
	}
	q = out.(*corev1.Pod)
	if len(q.Spec.InitContainers) != 2 || q.Spec.InitContainers[0].Image != "" {
		t.Fatalf("the transform kept init containers %+v, want both, with their names, requests and restart policies only", q.Spec.InitContainers)
	}
	if got, want := PodRates(q, nil), PodRates(&p, nil); got != want || want != (Rates{MilliCPU: 2100, MemoryBytes: 1152 << 20}) {
		t.Errorf("PodRates of the cached pod = %+v, of the pod %+v, want both {2100m, 1152Mi}", got, want)
	}

	// Pod-level requests, as PodRates reads them; their limits are not kept.
	p = withPodLevel(p, "4", "4Gi")
	out, err = TransformPod(&p)
	if err != nil {
		t.Fatal(err)
	}
	q = out.(*corev1.Pod)
	if q.Spec.Resources == nil || q.Spec.Resources.Limits != nil {
		t.Fatalf("the transform kept pod-level resources %+v, want the requests only", q.Spec.Resources)
	}
	if got, want := PodRates(q, nil), PodRates(&p, nil); got != want || want != (Rates{MilliCPU: 4000, MemoryBytes: 4 << 30}) {
		t.Errorf("PodRates of the cached pod = %+v, of the pod %+v, want both {4, 4Gi}", got, want)
	}
}

func TestPodUsageByNamespace(t *testing.T) {
	item := func(ns, name, cpu, memory string) unstructured.Unstructured {
		return unstructured.Unstructured{Object: map[string]any{
			"metadata":   map[string]any{"namespace": ns, "name": name},
			"containers": []any{map[string]any{"name": "app", "usage": map[string]any{"cpu": cpu, "memory": memory}}},
		}}
	}
	got, err := podUsageByNamespace([]unstructured.Unstructured{
		item("coop-a", "web", "1250000n", "300Mi"),
		item("coop-a", "worker", "2", "1Gi"),
		item("coop-b", "web", "100m", "64Mi"),
		item("coop-c", "web", "100m", "64Mi"),
		item("coop-c", "broken", "lots", "64Mi"),
	})
	if err == nil || !strings.Contains(err.Error(), "namespace coop-c: pod broken container app: cpu") {
		t.Errorf("want the error of coop-c's broken pod, got %v", err)
	}
	want := map[string]PodUsage{
		"coop-a": {"web": {"app": {MilliCPU: 2, MemoryBytes: 300 << 20}}, "worker": {"app": {MilliCPU: 2000, MemoryBytes: 1 << 30}}}, // 1.25m rounds up to 2m
		"coop-b": {"web": {"app": {MilliCPU: 100, MemoryBytes: 64 << 20}}},
		// coop-c is left out: its pods count their requests alone.
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("usage = %v, want %v", got, want)
	}
}
