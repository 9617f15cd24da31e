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

// Package leave tests that a co-op can leave its hub with everything: `cooperator export`
// on hub A (its operator fulfils a CooperativeExport), `cooperator import` on hub B, with
// two API servers, each with its own operator, and a real PostgreSQL server holding the
// co-op's platform data. Pods do not run here: the test runs the export and restore Jobs'
// containers itself, as their pods would (the same scripts, with the real pg_dump and
// pg_restore, and the same backup-logical code), and then writes the Job's status as the
// Job controller would. The object store is a small S3 stand-in that checks every request's
// signature against the keys the hub gave each co-op.
package leave

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/test/harness"
	"github.com/cooperator-dev/cooperator/test/pgtest"
)

// hub is one hub: its API server, its operator and its bucket in the store.
type hub struct {
	name   string
	env    *harness.Env
	k8s    client.Client
	cfg    hubconfig.Config
	cancel context.CancelFunc
	// kubeconfig of the hub admin.
	kubeconfig string
	// clock is its export controller's clock, which tests move forward.
	clock *clock
	// cached reads what its operator reads: the manager's cache.
	cached client.Reader
}

// clock is the real time plus an offset a test sets.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// advance moves the clock forward by d until the test ends.
func (c *clock) advance(t *testing.T, d time.Duration) {
	c.offset.Add(int64(d))
	t.Cleanup(func() { c.offset.Add(-int64(d)) })
}

var (
	root   string
	tmpDir string
	store  *s3Store
	hubA   *hub
	hubB   *hub
)

func TestMain(m *testing.M) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Println("KUBEBUILDER_ASSETS is not set: run with KUBEBUILDER_ASSETS=$(hack/envtest.sh)")
		os.Exit(1)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	logs := io.Discard
	if os.Getenv("LEAVE_LOG") != "" {
		logs = os.Stderr
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(logs), zap.UseDevMode(true)))
	var err error
	if root, err = harness.RepoRoot(); err != nil {
		fmt.Println(err)
		return 1
	}
	if tmpDir, err = os.MkdirTemp("", "cooperator-leave-"); err != nil {
		fmt.Println(err)
		return 1
	}
	defer os.RemoveAll(tmpDir)
	store = newS3Store()
	defer store.Close()
	ctx := context.Background()
	// The two hubs start side by side.
	var errA, errB error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); hubA, errA = startHub(ctx, "a") }()
	go func() { defer wg.Done(); hubB, errB = startHub(ctx, "b") }()
	wg.Wait()
	for _, h := range []*hub{hubA, hubB} {
		if h != nil {
			defer h.stop()
		}
	}
	if err := errors.Join(errA, errB); err != nil {
		fmt.Println("starting the hubs:", err)
		return 1
	}
	return pgtest.Run(m)
}

// startHub starts a hub's API server, seeds it as its admin would, and runs its operator.
func startHub(ctx context.Context, name string) (*hub, error) {
	env, err := harness.Start(ctx, harness.Options{
		CRDDirectoryPaths: []string{filepath.Join(root, "config", "crd", "bases")},
		WebhookPaths:      []string{filepath.Join(root, "config", "webhook")},
		Scheme:            manager.Scheme(),
	})
	if err != nil {
		return nil, err
	}
	h := &hub{name: name, env: env, k8s: env.Client, clock: &clock{}}
	ok := false
	defer func() {
		if !ok {
			h.stop()
		}
	}()
	h.cfg = hubconfig.Default()
	h.cfg.Region = "region-" + name
	h.cfg.ObjectStore.DestinationPath = "s3://bucket-" + name
	h.cfg.ObjectStore.EndpointURL = store.URL()
	h.cfg.RecheckInterval = hubconfig.Duration{Duration: time.Second}
	if err := harness.SeedHub(ctx, h.k8s, &h.cfg, "hub-"+name+"-key", "hub-"+name+"-secret", "config/rbac/coop_admin_role.yaml"); err != nil {
		return nil, err
	}
	h.kubeconfig = filepath.Join(tmpDir, name+".kubeconfig")
	if err := harness.WriteKubeconfig(h.kubeconfig, env.Cfg); err != nil {
		return nil, err
	}
	// The webhook judges what the commands create, as on a real hub (an import's dry run).
	host, port, certDir := env.WebhookServing()
	mgr, err := manager.New(env.Cfg, manager.Options{
		Hub: h.cfg, MetricsBindAddress: "0", HealthProbeBindAddress: "0",
		Webhooks: true, WebhookHost: host, WebhookPort: port, WebhookCertDir: certDir,
		Version: "test-" + name, SkipControllerNameValidation: true, ExportClock: h.clock.Now,
	})
	if err != nil {
		return nil, err
	}
	h.cached = mgr.GetClient()
	mctx, cancel := context.WithCancel(ctx)
	h.cancel = cancel
	go func() {
		if err := mgr.Start(mctx); err != nil {
			fmt.Println("operator of hub", name+":", err)
		}
	}()
	// The webhook answers once the manager serves it: a dry-run create goes through it.
	probe, err := harness.Sample("coop_v1alpha1_cooperative_fairride.yaml")
	if err != nil {
		return nil, err
	}
	probe.Name = "webhook-probe"
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		err := h.k8s.Create(ctx, probe.DeepCopy(), client.DryRunAll)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the webhook does not answer: %w", err)
		}
	}
	ok = true
	return h, nil
}

func (h *hub) stop() {
	if h.cancel != nil {
		h.cancel()
	}
	_ = h.env.Stop()
}

// coopCredentials creates, in the hub's operator namespace, a co-op's own object store
// keys (read-write and read-only) as the hub admin does, and registers them with the store
// limited to the co-op's prefix.
func (h *hub) coopCredentials(t *testing.T, coop string) {
	t.Helper()
	prefix := "bucket-" + h.name + "/" + h.cfg.Region + "/" + coop + "/"
	for _, s := range []struct {
		name  string
		write bool
	}{{h.cfg.ObjectStore.CooperativeCredentialsSecret(coop), true}, {h.cfg.ObjectStore.ReadCredentialsSecret(coop), false}} {
		key, secret := s.name+"-key", s.name+"-secret"
		store.AddKey(key, secret, prefix, s.write)
		if err := h.k8s.Create(context.Background(), &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: h.cfg.OperatorNamespace, Name: s.name},
			Data:       map[string][]byte{coopv1.AccessKeyIDKey: []byte(key), coopv1.AccessSecretKeyKey: []byte(secret)},
		}); err != nil {
			t.Fatal(err)
		}
	}
}
