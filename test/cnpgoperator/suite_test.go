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

// Package cnpgoperator_test runs the operator's manager against the real CloudNativePG
// operator (v1.29.1, a subprocess of the harness): CloudNativePG's webhooks judge every
// Cluster, ObjectStore, ScheduledBackup and Database the operator applies, and its
// controller creates the Secrets, Services and Jobs it derives from them. No pod runs here:
// what only a running PostgreSQL could report (a ready Cluster, a completed Backup) is
// written by the specs with harness.Simulate*, and each spec says where it does.
//
// The CRDs installed are those of CloudNativePG v1.30 (the API module the operator is
// built with); the operator running is v1.29, which knows no DatabaseRole: the API server
// accepts the operator's DatabaseRoles and nothing acts on them.
package cnpgoperator_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/test/harness"
	"github.com/cooperator-dev/cooperator/test/harness/specs"
)

var (
	env  *harness.Env
	k8s  client.Client
	hub  hubconfig.Config
	mgr  ctrl.Manager
	root string
)

func TestCNPGOperator(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Cooperator against the CloudNativePG operator")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	ctrl.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	var err error
	root, err = harness.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	// The first run builds kube-apiserver, etcd and the CloudNativePG operator.
	env, err = harness.Start(ctx, harness.Options{
		ProjectCRDs:      true,
		WithCNPGOperator: true,
		Scheme:           manager.Scheme(),
	})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() error { return env.Stop() })
	k8s = env.Client

	hub = hubconfig.Default()
	// Long: the specs wait on events, not on the safety-net requeue, so that a quiet
	// manager stays quiet while a spec reconciles by hand.
	hub.RecheckInterval = hubconfig.Duration{Duration: 10 * time.Minute}
	// The co-ops' Clusters use the hub-wide credentials through the single-tenant opt-in.
	hub.ObjectStore.SingleTenant = true
	specs.SeedHub(ctx, k8s, &hub, "hub-key", "hub-secret-value", "config/rbac/coop_admin_role.yaml")

	stopPlugin, err := startStandInPlugin(ctx, k8s)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(stopPlugin)

	// Our validating webhook is not installed here: CloudNativePG's are the subject.
	mgr, err = manager.New(env.Cfg, manager.Options{Hub: hub, MetricsBindAddress: "0", HealthProbeBindAddress: "0"})
	Expect(err).NotTo(HaveOccurred())
	mgrCtx, stopManager := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(mgr.Start(mgrCtx)).To(Succeed())
	}()
	// Registered after env.Stop, so it runs first: the manager stops before the API server.
	DeferCleanup(func(ctx SpecContext) {
		stopManager()
		select {
		case <-done:
		case <-ctx.Done():
		}
	}, NodeTimeout(time.Minute))
}, NodeTimeout(15*time.Minute))

// logOffset is how much of CloudNativePG's log was there when the current spec began.
var logOffset int

var _ = BeforeEach(func() {
	logOffset = len(env.CNPGLog())
})

var _ = AfterEach(func() {
	if !CurrentSpecReport().Failed() {
		return
	}
	log := env.CNPGLog()
	if logOffset <= len(log) {
		log = log[logOffset:]
	}
	AddReportEntry("CloudNativePG operator log during the spec", log)
})

// dumpOnFailure records the co-op, its Clusters and its Backups when the spec fails.
func dumpOnFailure(name string) { specs.DumpOnFailure(k8s, "", name) }

// appliedSample sets up an Ordered container's co-op: before all its specs, the sample
// of file, renamed to name unless name is empty and changed by edit if given, is created
// and read back into *coop; each spec that fails dumps the co-op's objects.
func appliedSample(coop **coopv1.Cooperative, file, name string, edit func(*coopv1.Cooperative)) {
	sample := specs.Sample(file)
	if name != "" {
		sample.Name = name
	}
	BeforeAll(func(ctx SpecContext) {
		c := sample.DeepCopy()
		if edit != nil {
			edit(c)
		}
		Expect(k8s.Create(ctx, c)).To(Succeed())
		*coop = getCoop(ctx, c.Name)
	})
	BeforeEach(func() { dumpOnFailure(sample.Name) })
}
