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

package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Options says what Start sets up.
type Options struct {
	// CRDDirectoryPaths are folders or files of CRDs to install, in addition to the
	// CloudNativePG ones (CNPGCRDPaths), which are always installed.
	CRDDirectoryPaths []string

	// ProjectCRDs installs this project's CRDs (config/crd/bases) too.
	ProjectCRDs bool

	// WithCNPGOperator starts the real CloudNativePG operator against the API server:
	// its mutating and validating webhooks are registered and its controllers run.
	WithCNPGOperator bool

	// Scheme is the scheme of Env.Client; Scheme() when nil.
	Scheme *runtime.Scheme

	// ServiceClusterIPRange is the API server's range of Service IPs (envtest's default,
	// a /24, holds 254 Services); a hub of many co-ops needs a larger one, such as
	// "10.0.0.0/16".
	ServiceClusterIPRange string

	// AuditLog makes the API server write an audit log of every request but watches,
	// which Env.AuditedWrites and Env.AuditedRequests read.
	AuditLog bool

	// WebhookPaths are folders or files of this project's webhook configurations; envtest
	// points them at a local server whose address and certificate WebhookServing gives.
	WebhookPaths []string
}

// Env is a running test environment.
type Env struct {
	// Cfg is the admin's (system:masters) REST config.
	Cfg *rest.Config
	// Client is an uncached client for Cfg using Scheme.
	Client client.Client
	// Scheme is the scheme of Client.
	Scheme *runtime.Scheme
	// Environment is the underlying envtest environment.
	Environment *envtest.Environment

	workDir  string
	cnpg     *cnpgOperator
	watchdog *exec.Cmd
	// OperatorEnv are more environment variables (NAME=value) of the processes that
	// StartOperator starts, such as the MEMORY_LIMIT the chart passes.
	OperatorEnv []string

	// processes are the operators StartOperator started, stopped by Stop.
	processes      []*Process
	operatorStarts int

	stopOnce sync.Once
	stopErr  error
	finalLog string
}

// Start starts etcd and kube-apiserver, installs the CRDs and, with
// opts.WithCNPGOperator, starts the CloudNativePG operator and waits until its webhooks
// answer. ctx bounds the start-up only; the environment lives until Stop. On error,
// whatever was started is stopped again.
func Start(ctx context.Context, opts Options) (*Env, error) {
	e := &Env{Scheme: opts.Scheme}
	if e.Scheme == nil {
		e.Scheme = Scheme()
	}
	if err := e.start(ctx, opts); err != nil {
		if stopErr := e.Stop(); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
		return nil, err
	}
	return e, nil
}

// StartT is Start for a plain Go test: it fails the test on error and stops the
// environment when the test and its subtests end.
func StartT(t testing.TB, opts Options) *Env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	e, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() && e.CNPGLog() != "" {
			t.Logf("CloudNativePG operator log:\n%s", e.CNPGLog())
		}
		if err := e.Stop(); err != nil {
			t.Errorf("harness: stop: %v", err)
		}
	})
	return e
}

func (e *Env) start(ctx context.Context, opts Options) error {
	assets, err := envtestAssets()
	if err != nil {
		return err
	}
	crdPaths, err := CNPGCRDPaths()
	if err != nil {
		return err
	}
	if opts.ProjectCRDs {
		root, err := RepoRoot()
		if err != nil {
			return err
		}
		crdPaths = append(crdPaths, filepath.Join(root, "config", "crd", "bases"))
	}
	var cnpgBin string
	if opts.WithCNPGOperator {
		// Before anything runs: the first call builds the operator (about 90 s).
		if cnpgBin, err = cnpgOperatorBinary(); err != nil {
			return err
		}
	}
	if e.workDir, err = os.MkdirTemp("", "cooperator-harness-"); err != nil {
		return err
	}

	e.Environment = &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     append(append([]string{}, opts.CRDDirectoryPaths...), crdPaths...),
		ErrorIfCRDPathMissing: true,
		Scheme:                e.Scheme,
		WebhookInstallOptions: envtest.WebhookInstallOptions{Paths: opts.WebhookPaths, LocalServingHost: "127.0.0.1"},
	}
	if opts.AuditLog {
		policy := e.workPath("audit-policy.yaml")
		if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
			return err
		}
		args := e.Environment.ControlPlane.GetAPIServer().Configure()
		args.Set("audit-policy-file", policy)
		args.Set("audit-log-path", e.workPath("audit.log"))
		args.Set("audit-log-format", "json")
		args.Set("audit-log-mode", "batch")
		args.Set("audit-log-batch-max-wait", "1s")
		// The log rotates at 100 MB unless told otherwise, and AuditedWrites reads
		// audit.log alone: a hub of a thousand co-ops writes more than that.
		args.Set("audit-log-maxsize", "100000")
	}
	if opts.ServiceClusterIPRange != "" {
		e.Environment.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", opts.ServiceClusterIPRange)
	}
	if e.Cfg, err = e.Environment.Start(); err != nil {
		return fmt.Errorf("harness: start envtest: %w", err)
	}
	if e.watchdog, err = startWatchdog(childPIDs(assets), []string{
		e.workDir,
		e.Environment.ControlPlane.Etcd.DataDir,
		e.Environment.ControlPlane.APIServer.CertDir,
		e.Environment.WebhookInstallOptions.LocalServingCertDir,
	}); err != nil {
		return fmt.Errorf("harness: start the watchdog: %w", err)
	}
	if e.Client, err = client.New(e.Cfg, client.Options{Scheme: e.Scheme}); err != nil {
		return err
	}
	if err := e.primeCRDs(ctx); err != nil {
		return err
	}
	if opts.WithCNPGOperator {
		if err := e.startCNPG(ctx, cnpgBin); err != nil {
			return fmt.Errorf("harness: start the CloudNativePG operator: %w", err)
		}
	}
	return nil
}

// primeCRDs lists every installed kind once: the API server prepares a large CRD (such
// as CNPG's Cluster) lazily, which makes the first request take seconds.
func (e *Env) primeCRDs(ctx context.Context) error {
	for _, crd := range e.Environment.CRDs {
		for _, v := range crd.Spec.Versions {
			if !v.Served {
				continue
			}
			list := &unstructured.UnstructuredList{}
			list.SetAPIVersion(crd.Spec.Group + "/" + v.Name)
			list.SetKind(crd.Spec.Names.ListKind)
			err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true,
				func(ctx context.Context) (bool, error) {
					return e.Client.List(ctx, list, client.Limit(1)) == nil, nil
				})
			if err != nil {
				return fmt.Errorf("harness: list %s %s: %w", crd.Name, v.Name, err)
			}
		}
	}
	return nil
}

// AddUser provisions a user of the API server with the given name and groups and
// returns its REST config, for tests of RBAC rules. The user has no rights until
// bound to some.
func (e *Env) AddUser(name string, groups []string) (*rest.Config, error) {
	u, err := e.Environment.AddUser(envtest.User{Name: name, Groups: groups}, &rest.Config{QPS: 1000, Burst: 2000})
	if err != nil {
		return nil, err
	}
	return u.Config(), nil
}

// WriteKubeconfig writes a kubeconfig for the admin user (system:masters) to path, for
// pointing kubectl or another program at the environment.
func (e *Env) WriteKubeconfig(path string) error {
	if e.Environment == nil || len(e.Environment.KubeConfig) == 0 {
		return errors.New("harness: environment not started")
	}
	return os.WriteFile(path, e.Environment.KubeConfig, 0o600)
}

// CNPGLog returns what the CloudNativePG operator has logged so far (its stdout and
// stderr), or "" without the operator. After Stop it returns the final log.
func (e *Env) CNPGLog() string {
	if e.cnpg == nil {
		return e.finalLog
	}
	data, err := os.ReadFile(e.cnpg.logPath)
	if err != nil {
		return e.finalLog
	}
	return string(data)
}

// Stop stops the CloudNativePG operator (its whole process group), the API server and
// etcd, and removes the temporary files. It is safe to call more than once.
func (e *Env) Stop() error {
	e.stopOnce.Do(func() {
		errs := []error{e.stopProcesses()}
		if e.cnpg != nil {
			e.finalLog = e.CNPGLog()
			errs = append(errs, e.cnpg.stop())
			e.cnpg = nil
		}
		if e.watchdog != nil {
			killProcessGroup(e.watchdog)
		}
		if e.Environment != nil {
			errs = append(errs, e.Environment.Stop())
		}
		if e.workDir != "" {
			errs = append(errs, os.RemoveAll(e.workDir))
		}
		e.stopErr = errors.Join(errs...)
	})
	return e.stopErr
}

// workPath returns a path in the environment's temporary folder.
func (e *Env) workPath(elem ...string) string {
	return filepath.Join(append([]string{e.workDir}, elem...)...)
}

// WebhookServing is where a webhook server must listen for the configurations installed
// from Options.WebhookPaths, and the folder with its tls.crt and tls.key.
func (e *Env) WebhookServing() (host string, port int, certDir string) {
	o := e.Environment.WebhookInstallOptions
	return o.LocalServingHost, o.LocalServingPort, o.LocalServingCertDir
}

// WriteKubeconfig writes a kubeconfig for a REST config to path, as a user would have one.
func WriteKubeconfig(path string, cfg *rest.Config) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["user"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "user"}
	kc.CurrentContext = "envtest"
	return clientcmd.WriteToFile(*kc, path)
}
