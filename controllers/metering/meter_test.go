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
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/costreport"
)

const (
	gi = int64(1) << 30
	mi = int64(1) << 20
)

// expected is a co-op's usage computed by hand: rate times seconds.
type expected struct{ cpu, mem, storage *big.Int }

func newExpected() *expected { return &expected{new(big.Int), new(big.Int), new(big.Int)} }

func (e *expected) add(milliCPU, memBytes, storageBytes, seconds int64) {
	e.cpu.Add(e.cpu, new(big.Int).Mul(big.NewInt(milliCPU), big.NewInt(seconds)))
	e.mem.Add(e.mem, new(big.Int).Mul(big.NewInt(memBytes), big.NewInt(seconds)))
	e.storage.Add(e.storage, new(big.Int).Mul(big.NewInt(storageBytes), big.NewInt(seconds)))
}

func (e *expected) usage(name string) coopv1.CooperativeUsage {
	return coopv1.CooperativeUsage{Cooperative: name, CPUMillicoreSeconds: e.cpu.String(), MemoryByteSeconds: e.mem.String(), StorageByteSeconds: e.storage.String()}
}

func usageOf(report *coopv1.CostReport, coop string) *coopv1.CooperativeUsage {
	for i := range report.Status.Usage {
		if report.Status.Usage[i].Cooperative == coop {
			return &report.Status.Usage[i]
		}
	}
	return nil
}

func periodOf(coop *coopv1.Cooperative, period string) *coopv1.PeriodUsage {
	if coop.Status.Usage == nil {
		return nil
	}
	for i := range coop.Status.Usage.Periods {
		if coop.Status.Usage.Periods[i].Period == period {
			return &coop.Status.Usage.Periods[i]
		}
	}
	return nil
}

// TestMeteringOverAMonth meters three co-ops through November 2026 on a fake clock, one
// sample every 6 hours (120 samples): pods come and go, a volume is resized, a co-op is
// deleted mid-month and pays until its pod is gone. The totals in the Cooperatives and in
// the CostReport match the hand computation, the CostReport's lines match the allocator
// on those totals, and the report becomes Final after the month and refuses an edit.
// TestMeteringOverAMonth meters three co-ops over November, tick by tick, and follows the
// month's usage into the Cooperatives, the CostReport, its split and the metrics, until the
// report is final. The steps share the cluster and the clock; each needs the one before.
func TestMeteringOverAMonth(t *testing.T) {
	g := NewWithT(t)
	cleanup(t)
	ctx := context.Background()
	const step = 6 * time.Hour
	const stepSeconds = int64(6 * 3600)
	start := at("2026-11-01T00:00:00Z")
	clk := clocktesting.NewFakeClock(start)

	createCooperative(t, "alpha")
	createCooperative(t, "beta")
	createCooperative(t, "gamma")
	createRunningPod(t, "coop-alpha", "a1", "500m", "1Gi")
	pvc := createBoundPVC(t, "coop-alpha", "data", "10Gi")
	createRunningPod(t, "coop-beta", "b1", "1", "2Gi")
	createRunningPod(t, "coop-gamma", "g1", "2", "4Gi")
	// A pod that is not bound to a node holds nothing.
	pending := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "coop-beta", Name: "unscheduled"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}},
	}
	g.Expect(k8sClient.Create(ctx, pending)).To(Succeed())

	env := startManager(t, clk, Options{Interval: step, PersistInterval: 24 * time.Hour})
	defer env.stop(t)

	report := &coopv1.CostReport{}
	alpha, beta, gamma := newExpected(), newExpected(), newExpected()
	// The meter created the period's report; the hub enters its bill into it.
	if !t.Run("the hub enters its bill into the report the meter created", func(t *testing.T) {
		g := NewWithT(t)
		g.Eventually(func() error { return k8sClient.Get(ctx, client.ObjectKey{Name: "2026-11"}, report) }, 30*time.Second, 10*time.Millisecond).Should(Succeed())
		orig := report.DeepCopy()
		report.Spec.Currency = "EUR"
		report.Spec.Lines = []coopv1.BillLine{
			{Description: "3 servers", Amount: "412.50", Pool: coopv1.PoolCompute},
			{Description: "block storage", Amount: "38.00", Pool: coopv1.PoolStorage},
			{Description: "admin time", Amount: "150.00", Pool: coopv1.PoolShared},
		}
		report.Spec.Policy.MinimumAmount = "5.00"
		g.Expect(k8sClient.Patch(ctx, report, client.MergeFrom(orig))).To(Succeed())
		// The generation of the bill: a cache that has not seen the patch yet holds the
		// empty bill's generation, fully observed, with every amount zero.
		billed := report.Generation
		env.waitCached(t, report, func() bool {
			return len(report.Status.Lines) == 3 && report.Generation == billed && report.Status.ObservedGeneration == billed
		})
	}) {
		return
	}
	if !t.Run("a month of samples, pods and volumes coming and going", func(t *testing.T) {
		g := NewWithT(t)
		var b2 *corev1.Pod
		for i := 1; i <= 120; i++ {
			env.tick(t, step)
			// What each tick charged, as seen at the tick (the interval ending there).
			storage := 10 * gi
			if i > 40 {
				storage = 20 * gi
			}
			alpha.add(500, gi, storage, stepSeconds)
			beta.add(1000, 2*gi, 0, stepSeconds)
			if i > 20 && i <= 80 {
				beta.add(250, 512*mi, 0, stepSeconds)
			}
			if i <= 63 { // gamma's pod outlives the Cooperative by one tick
				gamma.add(2000, 4*gi, 0, stepSeconds)
			}
			switch i {
			case 4: // The first daily write carries the running estimate of the report.
				a := &coopv1.Cooperative{}
				g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "alpha"}, a)).To(Succeed())
				g.Expect(a.Status.Usage).NotTo(BeNil())
				g.Expect(a.Status.Usage.Currency).To(Equal("EUR"))
				g.Expect(a.Status.Usage.EstimatedAmount).To(MatchRegexp(`^[0-9]+\.[0-9]{2}$`))
				g.Expect(a.Status.Usage.EstimatedAmount).NotTo(Equal("0.00"))
				// kubectl get coop shows it: the API server's table has the Amount column.
				g.Expect(printedColumns(t, "alpha")).To(And(
					HaveKeyWithValue("Amount", a.Status.Usage.EstimatedAmount),
					HaveKeyWithValue("Period", "2026-11"),
					HaveKeyWithValue("CPU-h", a.Status.Usage.Periods[0].CPUCoreHours)))
			case 20:
				b2 = createRunningPod(t, "coop-beta", "b2", "250m", "512Mi")
				env.waitCached(t, b2, func() bool { return b2.Status.Phase == corev1.PodRunning })
			case 40: // The volume was expanded to 20Gi.
				setPVCCapacity(t, pvc, "20Gi")
				env.waitCached(t, pvc, func() bool { return pvc.Status.Capacity.Storage().Value() == 20*gi })
			case 62:
				gone := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "gamma"}}
				g.Expect(k8sClient.Delete(ctx, gone)).To(Succeed())
				env.waitGone(t, gone)
			case 63:
				// The namespace's pods go after the Cooperative: the namespace controller deletes
				// them once the reconciler has deleted the namespace. envtest runs no namespace
				// controller, so the test deletes gamma's pod itself, one tick after the
				// Cooperative; gamma pays for that tick.
				g1 := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "coop-gamma", Name: "g1"}}
				g.Expect(k8sClient.Delete(ctx, g1, client.GracePeriodSeconds(0))).To(Succeed())
				env.waitGone(t, g1)
			case 80: // b2 finished.
				setPodPhase(t, b2, corev1.PodSucceeded)
				env.waitCached(t, b2, func() bool { return b2.Status.Phase == corev1.PodSucceeded })
			}
		}
		g.Expect(clk.Now()).To(BeTemporally("==", at("2026-12-01T00:00:00Z")))
	}) {
		return
	}
	if !t.Run("the co-ops hold November's totals, written at the boundary", func(t *testing.T) {
		g := NewWithT(t)
		for name, want := range map[string]*expected{"alpha": alpha, "beta": beta} {
			coop := &coopv1.Cooperative{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: name}, coop)).To(Succeed())
			nov := periodOf(coop, "2026-11")
			g.Expect(nov).NotTo(BeNil(), name)
			g.Expect(nov.CPUMillicoreSeconds).To(Equal(want.cpu.String()), name)
			g.Expect(nov.MemoryByteSeconds).To(Equal(want.mem.String()), name)
			g.Expect(nov.StorageByteSeconds).To(Equal(want.storage.String()), name)
			g.Expect(nov.MeteredSeconds).To(Equal(120 * stepSeconds))
			g.Expect(nov.EstimatedSeconds).To(BeZero())
			g.Expect(coop.Status.Usage.CurrentPeriod).To(Equal("2026-12"))
			g.Expect(coop.Status.Usage.LastSampleTime.Time).To(BeTemporally("==", at("2026-12-01T00:00:00Z")))
		}
		g.Expect(alpha.cpu.String()).To(Equal("1296000000")) // 0.5 cores for 720 hours = 360 core-hours
	}) {
		return
	}
	if !t.Run("the report holds the three and splits the bill by them", func(t *testing.T) {
		g := NewWithT(t)
		// The report holds all three, gamma's up to the sample that found its namespace empty,
		// and its lines are the allocator's split of exactly those totals.
		wantUsage := []coopv1.CooperativeUsage{alpha.usage("alpha"), beta.usage("beta"), gamma.usage("gamma")}
		g.Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "2026-11"}, report)).To(Succeed())
			g.Expect(report.Status.Usage).To(HaveLen(3))
			for _, w := range wantUsage {
				got := usageOf(report, w.Cooperative)
				g.Expect(got).NotTo(BeNil())
				g.Expect([]string{got.CPUMillicoreSeconds, got.MemoryByteSeconds, got.StorageByteSeconds}).To(Equal(
					[]string{w.CPUMillicoreSeconds, w.MemoryByteSeconds, w.StorageByteSeconds}), w.Cooperative)
			}
			_, wantLines, err := costreport.Lines(&report.Spec, wantUsage)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(report.Status.Lines).To(Equal(wantLines))
			g.Expect(report.Status.Total).To(Equal("600.50"))
			g.Expect(report.Status.Phase).To(Equal(coopv1.CostReportOpen))
		}, 30*time.Second, 10*time.Millisecond).Should(Succeed())
		var sum int64
		for _, l := range report.Status.Lines {
			c, err := costreportCents(l.Amount)
			g.Expect(err).NotTo(HaveOccurred())
			sum += c
		}
		g.Expect(sum).To(Equal(int64(60050)))
	}) {
		return
	}
	if !t.Run("each co-op's amount is on the metrics endpoint", func(t *testing.T) {
		g := NewWithT(t)
		g.Eventually(func(g Gomega) {
			families, err := metrics.Registry.Gather()
			g.Expect(err).NotTo(HaveOccurred())
			amounts := map[string]float64{}
			for _, f := range families {
				if f.GetName() != "cooperator_cost_amount" {
					continue
				}
				for _, m := range f.GetMetric() {
					labels := map[string]string{}
					for _, l := range m.GetLabel() {
						labels[l.GetName()] = l.GetValue()
					}
					if labels["period"] == "2026-11" && labels["currency"] == "EUR" {
						amounts[labels["cooperative"]] = m.GetGauge().GetValue()
					}
				}
			}
			for _, l := range report.Status.Lines {
				want, _ := strconv.ParseFloat(l.Amount, 64)
				g.Expect(amounts).To(HaveKeyWithValue(l.Cooperative, want))
			}
		}, 30*time.Second, 10*time.Millisecond).Should(Succeed())
	}) {
		return
	}
	t.Run("the report is final after the delay, and refuses changes", func(t *testing.T) {
		g := NewWithT(t)
		// After the finalize delay the report is Final; the controller requeues for that time
		// in real life, here a touch brings the report back since the fake clock drives no queue.
		clk.Step(costreport.DefaultFinalizeDelay)
		orig := report.DeepCopy()
		report.Annotations = map[string]string{"test/touch": "1"}
		g.Expect(k8sClient.Patch(ctx, report, client.MergeFrom(orig))).To(Succeed())
		g.Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "2026-11"}, report)).To(Succeed())
			g.Expect(report.Spec.Final).To(BeTrue())
			g.Expect(report.Status.Phase).To(Equal(coopv1.CostReportFinal))
			g.Expect(meta.IsStatusConditionTrue(report.Status.Conditions, coopv1.ConditionReady)).To(BeTrue())
		}, 30*time.Second, 10*time.Millisecond).Should(Succeed())

		orig = report.DeepCopy()
		report.Spec.Lines[0].Amount = "1.00"
		err := k8sClient.Patch(ctx, report, client.MergeFrom(orig))
		g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		g.Expect(err.Error()).To(ContainSubstring("the CostReport is final: its period, currency, bill lines and policy can no longer change"))
	})
}

func costreportCents(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	w, ok := new(big.Int).SetString(whole+frac, 10)
	if !ok || len(frac) != 2 {
		return 0, apierrors.NewBadRequest("bad amount " + s)
	}
	return w.Int64(), nil
}

// printedColumns asks the API server for the Cooperative as kubectl get does (a Table) and
// returns its columns by name.
func printedColumns(t *testing.T, name string) map[string]any {
	t.Helper()
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(cfg.Host, "/")+"/apis/coop.cooperator.dev/v1alpha1/cooperatives/"+name, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var table struct {
		Kind              string `json:"kind"`
		ColumnDefinitions []struct {
			Name string `json:"name"`
		} `json:"columnDefinitions"`
		Rows []struct {
			Cells []any `json:"cells"`
		} `json:"rows"`
	}
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &table); err != nil {
		t.Fatalf("%s %s: %v: %.300q", req.URL, resp.Status, err, body)
	}
	if table.Kind != "Table" || len(table.Rows) != 1 {
		t.Fatalf("got %s with %d rows", table.Kind, len(table.Rows))
	}
	out := map[string]any{}
	for i, c := range table.ColumnDefinitions {
		out[c.Name] = table.Rows[0].Cells[i]
	}
	return out
}

// TestMeteringChargesANewCooperativeFromItsCreation: a co-op created while the meter runs
// pays from its creationTimestamp, which the API server sets in real time; the fake clock
// starts a minute before now so that the creation lies between the meter's start and its
// next sample.
func TestMeteringChargesANewCooperativeFromItsCreation(t *testing.T) {
	g := NewWithT(t)
	cleanup(t)
	ctx := context.Background()
	clk := clocktesting.NewFakeClock(time.Now().UTC().Truncate(time.Second).Add(-time.Minute))
	env := startManager(t, clk, Options{}) // 60s and 5m
	defer env.stop(t)

	coop := createCooperative(t, "iota")
	pod := createRunningPod(t, "coop-iota", "i1", "1", "1Gi")
	env.waitCached(t, pod, func() bool { return pod.Status.Phase == corev1.PodRunning })
	env.waitCached(t, coop, func() bool { return true })
	created := coop.CreationTimestamp.UTC()
	g.Expect(created).To(BeTemporally(">", clk.Now()), "the co-op is created after the meter's first pass")

	// The next sample, 30 seconds after the creation, charges those 30 seconds.
	clk.SetTime(created.Add(30 * time.Second))
	env.waitIdle(t)
	got := &coopv1.Cooperative{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(coop), got)).To(Succeed())
	g.Expect(got.Status.Usage).NotTo(BeNil())
	// Added up over the periods, should the test run across the end of a month.
	want := newExpected()
	want.add(1000, gi, 0, 30)
	sum, metered := newExpected(), int64(0)
	for _, p := range got.Status.Usage.Periods {
		cpu, _ := new(big.Int).SetString(p.CPUMillicoreSeconds, 10)
		mem, _ := new(big.Int).SetString(p.MemoryByteSeconds, 10)
		sum.cpu.Add(sum.cpu, cpu)
		sum.mem.Add(sum.mem, mem)
		metered += p.MeteredSeconds
		g.Expect(p.EstimatedSeconds).To(BeZero())
		report := &coopv1.CostReport{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: p.Period}, report)).To(Succeed())
		u := usageOf(report, "iota")
		g.Expect(u).NotTo(BeNil(), p.Period)
		g.Expect(u.CPUMillicoreSeconds).To(Equal(p.CPUMillicoreSeconds), p.Period)
	}
	g.Expect(sum.cpu.String()).To(Equal(want.cpu.String()))
	g.Expect(sum.mem.String()).To(Equal(want.mem.String()))
	g.Expect(metered).To(Equal(int64(30)))
}

// TestMeteringCountsSidecars: a pod's sidecars (restartable init containers, such as the
// Barman Cloud plugin's in every CloudNativePG instance pod) run as long as its app
// containers, and the ResourceQuota charges them: the meter counts them too, through the
// manager's cache, whose transform keeps them. An init container that ran before is not
// counted once the pod runs.
func TestMeteringCountsSidecars(t *testing.T) {
	g := NewWithT(t)
	cleanup(t)
	ctx := context.Background()
	createCooperative(t, "psi")
	requests := func(cpu, memory string) corev1.ResourceRequirements {
		return corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse(cpu),
			corev1.ResourceMemory: resource.MustParse(memory),
		}}
	}
	always := corev1.ContainerRestartPolicyAlways
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "coop-psi", Name: "psi-1", Labels: coopLabel("coop-psi")},
		Spec: corev1.PodSpec{
			NodeName: "node-1",
			InitContainers: []corev1.Container{
				{Name: "bootstrap-controller", Image: "registry.example/postgres:1", Resources: requests("500m", "256Mi")},
				{Name: "plugin-barman-cloud", Image: "registry.example/plugin:1", Resources: requests("100m", "128Mi"), RestartPolicy: &always},
			},
			Containers: []corev1.Container{{Name: "postgres", Image: "registry.example/postgres:1", Resources: requests("1", "1Gi")}},
		},
	}
	g.Expect(k8sClient.Create(ctx, pod)).To(Succeed())
	setPodPhase(t, pod, corev1.PodRunning)

	env := startManager(t, clocktesting.NewFakeClock(at("2027-06-10T00:00:00Z")), Options{}) // 60s and 5m
	env.waitCached(t, pod, func() bool { return pod.Status.Phase == corev1.PodRunning })
	env.tick(t, time.Minute)
	env.stop(t) // writes the totals of the last sample on its way out
	_, p := getPeriod(g, "psi", "2027-06")
	g.Expect(p.CPUMillicoreSeconds).To(Equal(strconv.Itoa((1000 + 100) * 60)))
	g.Expect(p.MemoryByteSeconds).To(Equal(strconv.FormatInt((gi+128*mi)*60, 10)))
}
