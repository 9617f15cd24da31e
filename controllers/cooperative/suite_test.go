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
	"io"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/zap/zapcore"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/test/harness"
	"github.com/cooperator-dev/cooperator/test/harness/specs"
)

var (
	ctx    context.Context
	cancel context.CancelFunc
	env    *harness.Env
	k8s    client.Client
	hub    hubconfig.Config
	mgr    ctrl.Manager
	root   string
)

func TestCooperativeController(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Cooperative controller")
}

var _ = BeforeSuite(func() {
	// Everything the operator logs up to V(2) (it logs at V(1) at most) is kept too:
	// secrets_leak_test.go looks for the co-ops' credentials in it.
	ctrl.SetLogger(zap.New(zap.WriteTo(io.MultiWriter(GinkgoWriter, &operatorLogs)), zap.UseDevMode(true), zap.Level(zapcore.Level(-2))))
	ctx, cancel = context.WithCancel(context.Background())
	var err error
	root, err = harness.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	env, err = harness.Start(ctx, harness.Options{
		ProjectCRDs:  true,
		WebhookPaths: []string{filepath.Join(root, "config", "webhook")},
		Scheme:       manager.Scheme(),
	})
	Expect(err).NotTo(HaveOccurred())
	k8s = env.Client

	hub = hubconfig.Default()
	hub.RecheckInterval = hubconfig.Duration{Duration: 2 * time.Second}
	// The bounds of admission_test.go; every sample's host is under example.coop.
	hub.ReservedUsers = []string{"hub-admin", "oidc:hub-*"}
	hub.ReservedGroups = []string{"hub-admins"}
	hub.AllowedHostDomains = []string{"example.coop"}
	// The specs create many co-ops: their Clusters share the hub-wide credentials through the
	// single-tenant opt-in. Without it (the default), test/deploy shows a co-op waiting for
	// its own Secret.
	hub.ObjectStore.SingleTenant = true
	specs.SeedHub(ctx, k8s, &hub, "hub-key", "hub-secret-value", "config/rbac/coop_admin_role.yaml")

	host, port, certDir := env.WebhookServing()
	mgr, err = manager.New(env.Cfg, manager.Options{
		Hub: hub, MetricsBindAddress: "0", HealthProbeBindAddress: "0",
		Webhooks: true, WebhookHost: host, WebhookPort: port, WebhookCertDir: certDir,
		// No object store runs here: a deletion finds nothing under the co-op's prefixes.
		ObjectStoreHTTP: harness.EmptyObjectStore(),
	})
	Expect(err).NotTo(HaveOccurred())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	// The webhook answers once the manager serves it: a dry-run create goes through it.
	Eventually(func() error {
		probe := specs.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
		probe.Name = "webhook-probe"
		return k8s.Create(ctx, probe, client.DryRunAll)
	}, 30*time.Second).Should(Succeed())
})

var _ = AfterSuite(func() {
	if cancel != nil {
		cancel()
	}
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})

// userClient is a client acting as an envtest user in the given groups.
func userClient(name string, groups ...string) client.Client {
	GinkgoHelper()
	cfg, err := env.AddUser(name, groups)
	Expect(err).NotTo(HaveOccurred())
	c, err := client.New(rest.CopyConfig(cfg), client.Options{Scheme: manager.Scheme()})
	Expect(err).NotTo(HaveOccurred())
	return c
}
