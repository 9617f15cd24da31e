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
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/hubconfig"
	"github.com/cooperator-dev/cooperator/controllers/manager"
	"github.com/cooperator-dev/cooperator/platform"
	"github.com/cooperator-dev/cooperator/test/harness"
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
	ctrl.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	ctx, cancel = context.WithCancel(context.Background())
	var err error
	root, err = harness.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	env, err = harness.Start(ctx, harness.Options{
		CRDDirectoryPaths: []string{filepath.Join(root, "config", "crd", "bases")},
		WebhookPaths:      []string{filepath.Join(root, "config", "webhook")},
		Scheme:            manager.Scheme(),
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
	Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: hub.OperatorNamespace}})).To(Succeed())
	Expect(k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: hub.OperatorNamespace, Name: hub.ObjectStore.CredentialsSecret},
		Data:       map[string][]byte{"ACCESS_KEY_ID": []byte("hub-key"), "ACCESS_SECRET_KEY": []byte("hub-secret-value")},
	})).To(Succeed())
	applyYAML(filepath.Join(root, "config", "rbac", "coop_admin_role.yaml"), &rbacv1.ClusterRole{})
	templates, err := platform.DefaultTemplates()
	Expect(err).NotTo(HaveOccurred())
	for _, t := range templates {
		Expect(k8s.Create(ctx, t)).To(Succeed())
	}
	for _, f := range []string{"coop_v1alpha1_hostingplan_small.yaml", "coop_v1alpha1_hostingplan_medium.yaml"} {
		applyYAML(filepath.Join(root, "config", "samples", f), &coopv1.HostingPlan{})
	}

	host, port, certDir := env.WebhookServing()
	mgr, err = manager.New(env.Cfg, manager.Options{
		Hub: hub, MetricsBindAddress: "0", HealthProbeBindAddress: "0",
		Webhooks: true, WebhookHost: host, WebhookPort: port, WebhookCertDir: certDir,
	})
	Expect(err).NotTo(HaveOccurred())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	// The webhook answers once the manager serves it: a dry-run create goes through it.
	Eventually(func() error {
		probe := sample("coop_v1alpha1_cooperative_carecollective.yaml")
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

// applyYAML creates the object in a YAML file.
func applyYAML(path string, obj client.Object) {
	GinkgoHelper()
	Expect(harness.ReadYAML(path, obj)).To(Succeed())
	Expect(k8s.Create(ctx, obj)).To(Succeed())
}

// sample reads a sample Cooperative.
func sample(file string) *coopv1.Cooperative {
	GinkgoHelper()
	c, err := harness.Sample(file)
	Expect(err).NotTo(HaveOccurred())
	return c
}

// userClient is a client acting as an envtest user in the given groups.
func userClient(name string, groups ...string) client.Client {
	GinkgoHelper()
	cfg, err := env.AddUser(name, groups)
	Expect(err).NotTo(HaveOccurred())
	c, err := client.New(rest.CopyConfig(cfg), client.Options{Scheme: manager.Scheme()})
	Expect(err).NotTo(HaveOccurred())
	return c
}
