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

package cooperative_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/controllers/cooperative"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/platform"
	"github.com/cooperator-dev/cooperator/test/harness"
)

// BenchmarkReconcileConverged measures one reconcile of a converged co-op, read from the
// informer cache, with 30 co-ops on the hub, and reports the writes it issued (the target
// is zero).
func BenchmarkReconcileConverged(b *testing.B) {
	// The testing package calls a benchmark several times; the hub is set up once, and its
	// processes end with the test binary (the harness watches for that).
	benchOnce.Do(func() { benchHub, benchErr = setUpBenchHub(b) })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	h := benchHub
	counting := harness.NewCountingClient(manager.SecretsOutside(h.mgr.GetClient(), h.mgr.GetAPIReader(), h.cfg.OperatorNamespace))
	r := &cooperative.Reconciler{Client: counting, Config: h.cfg, Recorder: h.mgr.GetEventRecorder("bench")}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Reconcile(h.ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: h.names[i%len(h.names)]}}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(len(counting.Writes()))/float64(b.N), "writes/op")
	if w := counting.Writes(); len(w) > 0 {
		b.Logf("writes of converged reconciles: %v", w[:min(len(w), 10)])
	}
}

type benchSetup struct {
	ctx   context.Context
	cfg   hubconfig.Config
	mgr   ctrl.Manager
	names []string
}

var (
	benchOnce sync.Once
	benchHub  *benchSetup
	benchErr  error
)

// setUpBenchHub starts a control plane and the operator with 30 converged co-ops.
func setUpBenchHub(b *testing.B) (*benchSetup, error) {
	const coops = 30
	root, err := harness.RepoRoot()
	if err != nil {
		return nil, err
	}
	bctx := context.Background()
	benv, err := harness.Start(bctx, harness.Options{ProjectCRDs: true, Scheme: manager.Scheme()})
	if err != nil {
		return nil, err
	}
	c := benv.Client

	h := hubconfig.Default()
	h.ObjectStore.SingleTenant = true // the co-ops share the hub-wide credentials
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(c.Create(bctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: h.OperatorNamespace}}))
	must(c.Create(bctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: h.OperatorNamespace, Name: h.ObjectStore.CredentialsSecret},
		StringData: map[string]string{"ACCESS_KEY_ID": "k", "ACCESS_SECRET_KEY": "s"}}))
	role := &rbacv1.ClusterRole{}
	raw, err := os.ReadFile(filepath.Join(root, "config", "rbac", "coop_admin_role.yaml"))
	must(err)
	must(yaml.Unmarshal(raw, role))
	must(c.Create(bctx, role))
	templates, err := platform.DefaultTemplates()
	must(err)
	for _, t := range templates {
		must(c.Create(bctx, t))
	}
	raw, err = os.ReadFile(filepath.Join(root, "config", "samples", "coop_v1alpha1_hostingplan_medium.yaml"))
	must(err)
	plan := &coopv1.HostingPlan{}
	must(yaml.Unmarshal(raw, plan))
	must(c.Create(bctx, plan))

	mgr, err := manager.New(benv.Cfg, manager.Options{Hub: h, MetricsBindAddress: "0", HealthProbeBindAddress: "0"})
	must(err)
	go func() { _ = mgr.Start(bctx) }()

	raw, err = os.ReadFile(filepath.Join(root, "config", "samples", "coop_v1alpha1_cooperative_coursiers.yaml"))
	must(err)
	names := make([]string, coops)
	for i := range coops {
		coop := &coopv1.Cooperative{}
		must(yaml.Unmarshal(raw, coop))
		coop.Name = fmt.Sprintf("bench-%02d", i)
		names[i] = coop.Name
		must(c.Create(bctx, coop))
	}
	// Play CloudNativePG and the Deployment controller (they cannot run here) until every
	// co-op is Ready.
	deadline := time.Now().Add(3 * time.Minute)
	for _, name := range names {
		ns := coopv1.NamespacePrefix + name
		for {
			if time.Now().After(deadline) {
				b.Fatalf("co-op %s did not become Ready", name)
			}
			_ = harness.SimulateClusterReady(bctx, c, ns, name)
			_ = harness.SimulateBackup(bctx, c, ns, name, name+"-first", true)
			_ = harness.SimulateDeploymentsAvailable(bctx, c, ns)
			coop := &coopv1.Cooperative{}
			if c.Get(bctx, client.ObjectKey{Name: name}, coop) == nil && meta.IsStatusConditionTrue(coop.Status.Conditions, coopv1.ConditionReady) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// The benchmark's reconciles read the manager's cache: wait until it holds what the API
	// server holds of every co-op, the last status writes included.
	for _, name := range names {
		for {
			err := harness.CooperativeCached(bctx, mgr.GetClient(), c, name, h.OperatorNamespace)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("the manager's cache did not catch up with co-op %s: %v", name, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return &benchSetup{ctx: bctx, cfg: h, mgr: mgr, names: names}, nil
}
