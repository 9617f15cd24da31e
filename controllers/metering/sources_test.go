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
	"fmt"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// sizes is an in-test DatabaseSizer. It stands in for PostgreSQL only because the real
// reader (PostgresSizer) is tested against a real PostgreSQL in postgres_test.go; here it
// lets the test decide what the database weighs at each sample.
type sizes struct {
	next  []int64 // a negative size fails the read; notFound as PostgresSizer does when the database does not exist
	asked []string
}

const notFound = -2

func (s *sizes) DatabaseSize(_ context.Context, coop *coopv1.Cooperative) (int64, error) {
	s.asked = append(s.asked, coop.Name)
	n := s.next[0]
	s.next = s.next[1:]
	switch {
	case n == notFound:
		return 0, fmt.Errorf("reading the size of database coop_%s: %w", coop.Name, ErrDatabaseNotFound)
	case n < 0:
		return 0, errors.New("connection refused")
	}
	return n, nil
}

// usageAbove is an in-test UsageSource standing in for metrics.k8s.io, which envtest does
// not serve (the real reader is tested in TestPodUsageByNamespace and TestMetricsAPIPodUsage).
// It counts the reads.
type usageAbove struct {
	pods  map[string]PodUsage
	reads int
}

func (u *usageAbove) Available(context.Context) bool { return true }
func (u *usageAbove) PodUsage(context.Context) (map[string]PodUsage, error) {
	u.reads++
	return u.pods, nil
}

// TestMeteringSharedDatabaseAndUsage: a shared-tier co-op's database size counts as
// storage (the last size read stays when a read fails), and pod usage above the request
// counts instead of it.
func TestMeteringSharedDatabaseAndUsage(t *testing.T) {
	g := NewWithT(t)
	cleanup(t)
	ctx := context.Background()
	coop := newCooperative("zeta")
	coop.Spec.Database.Tier = coopv1.DatabaseTierShared
	g.Expect(k8sClient.Create(ctx, coop)).To(Succeed())
	g.Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "coop-zeta"}})).To(Succeed())
	createRunningPod(t, "coop-zeta", "z1", "100m", "128Mi")

	clk := clocktesting.NewFakeClock(at("2027-02-01T00:00:00Z"))
	db := &sizes{next: []int64{1 * gi, 3 * gi, -1, 5 * gi}}
	m := New(k8sClient, Options{Clock: clk, Database: db, Usage: &usageAbove{pods: map[string]PodUsage{"coop-zeta": {"z1": {"app": {MilliCPU: 700, MemoryBytes: 64 * mi}}}}}})
	g.Expect(m.Pass(ctx)).To(Succeed())
	for range 3 {
		clk.Step(time.Minute)
		g.Expect(m.Pass(ctx)).To(Succeed())
	}
	g.Expect(db.asked).To(Equal([]string{"zeta", "zeta", "zeta", "zeta"}))
	g.Expect(m.Flush(ctx)).To(Succeed())
	_, p := getPeriod(g, "zeta", "2027-02")
	// 3 GiB, then 3 GiB kept through the failed read, then 5 GiB: one minute each.
	g.Expect(p.StorageByteSeconds).To(Equal(strconv.FormatInt((3+3+5)*gi*60, 10)))
	// 700m used over a 100m request; 128Mi requested over 64Mi used.
	g.Expect(p.CPUMillicoreSeconds).To(Equal(strconv.Itoa(700 * 180)))
	g.Expect(p.MemoryByteSeconds).To(Equal(strconv.FormatInt(128*mi*180, 10)))

	// The manager's metrics endpoint serves the registry with the co-op's series.
	families, err := metrics.Registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	values := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "cooperative" && l.GetValue() == "zeta" {
					values[f.GetName()] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
				}
			}
		}
	}
	g.Expect(values).To(HaveKeyWithValue("cooperator_allocation_cpu_cores", 0.7))
	g.Expect(values).To(HaveKeyWithValue("cooperator_allocation_storage_bytes", float64(5*gi)))
	g.Expect(values).To(HaveKeyWithValue("cooperator_usage_cpu_core_seconds_total", BeNumerically("~", 0.7*180, 1e-9)))
}

// TestMeteringWaitsForAFirstDatabaseSize: a meter that has read no size of a shared-tier
// co-op's database yet (it just started) and cannot read one now keeps the size the co-op's
// last written sample recorded (status.usage.allocation.database), as it keeps the last
// size it read itself; the other co-ops are sampled too. A
// co-op with no written sample has no last size to keep: its sample waits, rather than
// counting no storage, and the next one with a size covers it. A database that does not
// exist yet (a new co-op's) holds nothing, and its co-op is sampled.
func TestMeteringWaitsForAFirstDatabaseSize(t *testing.T) {
	g := NewWithT(t)
	cleanup(t)
	ctx := context.Background()
	coop := newCooperative("koppa")
	coop.Spec.Database.Tier = coopv1.DatabaseTierShared
	g.Expect(k8sClient.Create(ctx, coop)).To(Succeed())
	g.Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "coop-koppa"}})).To(Succeed())
	createRunningPod(t, "coop-koppa", "k1", "1", "1Gi")
	createCooperative(t, "sampi") // dedicated tier
	createRunningPod(t, "coop-sampi", "s1", "1", "1Gi")

	start := at("2027-11-10T00:00:00Z")
	clk := clocktesting.NewFakeClock(start)
	first := New(k8sClient, Options{Clock: clk, Database: &sizes{next: []int64{notFound, 2 * gi}}})
	g.Expect(first.Pass(ctx)).To(Succeed()) // baseline: the database is not created yet
	clk.Step(time.Minute)
	g.Expect(first.Pass(ctx)).To(Succeed())
	g.Expect(first.Flush(ctx)).To(Succeed())
	written, p := getPeriod(g, "koppa", "2027-11")
	g.Expect(p.StorageByteSeconds).To(Equal(strconv.FormatInt(2*gi*60, 10)))
	g.Expect(written.Status.Usage.Allocation.Database.Value()).To(Equal(2*gi), "the database's size, written apart")

	// A new meter starts, and the shared cluster does not answer its first read: the size
	// the last written sample counted is kept.
	db := &sizes{next: []int64{-1, 3 * gi}}
	second := New(k8sClient, Options{Clock: clk, Database: db})
	clk.Step(time.Minute)
	g.Expect(second.Pass(ctx)).To(Succeed())
	second.mu.Lock()
	g.Expect(second.coops["koppa"].ledger.LastSample).To(BeTemporally("==", start.Add(2*time.Minute)), "koppa is sampled")
	g.Expect(second.coops["sampi"].ledger.LastSample).To(BeTemporally("==", start.Add(2*time.Minute)), "sampi is sampled")
	second.mu.Unlock()
	clk.Step(time.Minute)
	g.Expect(second.Pass(ctx)).To(Succeed())
	g.Expect(second.Flush(ctx)).To(Succeed())
	g.Expect(db.asked).To(Equal([]string{"koppa", "koppa"}))
	_, p = getPeriod(g, "koppa", "2027-11")
	// The first two minutes at 2 GiB (the second kept from the status), the third at 3 GiB.
	g.Expect(p.StorageByteSeconds).To(Equal(strconv.FormatInt(2*gi*120+3*gi*60, 10)))
	g.Expect(p.CPUMillicoreSeconds).To(Equal(strconv.Itoa(1000 * 180)))
	g.Expect(p.EstimatedSeconds).To(Equal(int64(60)), "the minute across the restart, as any restart's")

	// A co-op whose status holds no written sample (its totals resumed from the CostReport)
	// and whose first read fails: its interval stays uncounted, rather than counted with no
	// storage; the next read covers it.
	var fresh coopv1.Cooperative
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "koppa"}, &fresh)).To(Succeed())
	base := fresh.DeepCopy()
	fresh.Status.Usage = nil
	g.Expect(k8sClient.Status().Patch(ctx, &fresh, client.MergeFrom(base))).To(Succeed())
	third := New(k8sClient, Options{Clock: clk, Database: &sizes{next: []int64{-1, 4 * gi}}})
	clk.Step(time.Minute)
	g.Expect(third.Pass(ctx)).To(MatchError(And(ContainSubstring("sampling co-op koppa"), ContainSubstring("connection refused"))))
	third.mu.Lock()
	g.Expect(third.coops["koppa"].ledger.LastSample).To(BeTemporally("==", start.Add(3*time.Minute)), "koppa's interval is not counted")
	third.mu.Unlock()
	clk.Step(time.Minute)
	g.Expect(third.Pass(ctx)).To(Succeed())
	third.mu.Lock()
	g.Expect(third.coops["koppa"].ledger.LastSample).To(BeTemporally("==", start.Add(5*time.Minute)))
	third.mu.Unlock()
}
