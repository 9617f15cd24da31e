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
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"
)

const (
	// CNPGNamespace is the namespace the CloudNativePG operator runs "in".
	CNPGNamespace = "cnpg-system"
	// cnpgMonitoringConfigMap is the ConfigMap of default monitoring queries the operator
	// copies into every Cluster's namespace.
	cnpgMonitoringConfigMap = "cnpg-default-monitoring"
	// cnpgOperatorImage is what the operator believes its own image is; no pod runs here.
	cnpgOperatorImage = "ghcr.io/cloudnative-pg/cloudnative-pg:1.29.1"
)

// cnpgOperator is a running CloudNativePG operator process.
type cnpgOperator struct {
	*Process
	hooks *envtest.WebhookInstallOptions
}

// cnpgManifest is what the harness takes from CNPG's release manifest.
type cnpgManifest struct {
	mutating   []*admissionv1.MutatingWebhookConfiguration
	validating []*admissionv1.ValidatingWebhookConfiguration
	monitoring *corev1.ConfigMap
}

func readCNPGManifest(path string) (*cnpgManifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := &cnpgManifest{}
	r := utilyaml.NewYAMLReader(bufio.NewReader(f))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		var head struct {
			metav1.TypeMeta   `json:",inline"`
			metav1.ObjectMeta `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		var obj any
		switch {
		case head.Kind == "MutatingWebhookConfiguration":
			h := &admissionv1.MutatingWebhookConfiguration{}
			m.mutating, obj = append(m.mutating, h), h
		case head.Kind == "ValidatingWebhookConfiguration":
			h := &admissionv1.ValidatingWebhookConfiguration{}
			m.validating, obj = append(m.validating, h), h
		case head.Kind == "ConfigMap" && head.Name == cnpgMonitoringConfigMap:
			m.monitoring = &corev1.ConfigMap{}
			obj = m.monitoring
		default:
			continue
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			return nil, fmt.Errorf("%s: %s %s: %w", path, head.Kind, head.Name, err)
		}
	}
	if len(m.mutating) == 0 || len(m.validating) == 0 || m.monitoring == nil {
		return nil, fmt.Errorf("%s: webhook configurations or ConfigMap %s missing", path, cnpgMonitoringConfigMap)
	}
	return m, nil
}

// startCNPG registers CNPG's webhooks with the API server, pointed at a local port,
// and starts the operator binary serving them there.
func (e *Env) startCNPG(ctx context.Context, bin string) error {
	manifestPath, err := cnpgReleaseManifest()
	if err != nil {
		return err
	}
	manifest, err := readCNPGManifest(manifestPath)
	if err != nil {
		return err
	}

	// The operator's namespace, with the ConfigMap it copies into Clusters' namespaces.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: CNPGNamespace}}
	if err := e.Client.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	cm := manifest.monitoring.DeepCopy()
	cm.Namespace = CNPGNamespace
	if err := e.Client.Create(ctx, cm); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}

	// The webhooks, separate from the Environment's own WebhookInstallOptions (which
	// belong to the project's webhooks): a free local port and a serving certificate.
	hooks := &envtest.WebhookInstallOptions{
		LocalServingHost:   "127.0.0.1",
		MutatingWebhooks:   manifest.mutating,
		ValidatingWebhooks: manifest.validating,
	}
	op := &cnpgOperator{Process: newProcess(e.workPath("cnpg-operator.log")), hooks: hooks}
	e.cnpg = op
	if err := hooks.Install(e.Cfg); err != nil {
		return fmt.Errorf("install webhooks: %w", err)
	}
	// With WEBHOOK_CERT_DIR set, CNPG uses apiserver.crt/apiserver.key from there
	// instead of making its own PKI.
	certDir := e.workPath("webhook-certs")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return err
	}
	for from, to := range map[string]string{"tls.crt": "apiserver.crt", "tls.key": "apiserver.key"} {
		data, err := os.ReadFile(filepath.Join(hooks.LocalServingCertDir, from))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(certDir, to), data, 0o600); err != nil {
			return err
		}
	}
	if err := hooks.Cleanup(); err != nil { // all the harness's files are in workDir
		return err
	}

	kubeconfigPath, err := e.userKubeconfig("cnpg-operator", "system:masters")
	if err != nil {
		return err
	}

	// CNPG looks for its instance manager binaries at operator/manager_<arch>, relative
	// to its working directory, and fails every Cluster status update without them.
	if err := os.MkdirAll(e.workPath("operator"), 0o755); err != nil {
		return err
	}
	if err := os.Symlink(bin, e.workPath("operator", "manager_"+runtime.GOARCH)); err != nil {
		return err
	}

	port := strconv.Itoa(hooks.LocalServingPort)
	cmd := exec.Command(bin, "controller",
		"--leader-elect=false",
		"--webhook-port="+port,
		"--metrics-bind-address=0",
	)
	cmd.Dir = e.workDir
	// A clean environment: nothing of the developer's KUBECONFIG or CNPG settings.
	cmd.Env = append(e.processEnv(kubeconfigPath),
		"WEBHOOK_CERT_DIR="+certDir,
		"OPERATOR_NAMESPACE="+CNPGNamespace,
		"OPERATOR_IMAGE_NAME="+cnpgOperatorImage,
		"MONITORING_QUERIES_CONFIGMAP="+cnpgMonitoringConfigMap,
	)
	if err := op.start(cmd); err != nil {
		return err
	}
	return e.waitCNPGReady(ctx)
}

// stop kills the operator's process group, waits for it and removes the webhook
// certificates. It may be called on a partly started operator.
func (op *cnpgOperator) stop() error {
	var errs []error
	errs = append(errs, op.Stop())
	if op.hooks != nil {
		errs = append(errs, op.hooks.Cleanup())
	}
	return errors.Join(errs...)
}

// waitCNPGReady waits until the operator serves its webhooks: a server-side dry run of
// a minimal Cluster goes through both the mutating and the validating webhook.
func (e *Env) waitCNPGReady(ctx context.Context) error {
	op := e.cnpg
	probe := &cnpgv1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: "harness-probe", Namespace: CNPGNamespace},
		Spec: cnpgv1.ClusterSpec{
			Instances:            1,
			StorageConfiguration: cnpgv1.StorageConfiguration{Size: "1Gi"},
		},
	}
	var lastErr error
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true,
		func(ctx context.Context) (bool, error) {
			if op.Exited() {
				return false, fmt.Errorf("exited: %w", op.waitErr)
			}
			lastErr = e.Client.Create(ctx, probe.DeepCopy(), client.DryRunAll)
			return lastErr == nil, nil
		})
	if err != nil {
		return fmt.Errorf("%w (last error: %w); log:\n%s", err, lastErr, tail(e.CNPGLog(), 40))
	}
	return nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
