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

package harness_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cooperator-dev/cooperator/test/harness"
)

// TestEnvWithoutOperator checks the environment without the CNPG operator: the CNPG
// CRDs are served, users are subject to RBAC, the kubeconfig works, and Stop can be
// called twice.
func TestEnvWithoutOperator(t *testing.T) {
	env := harness.StartT(t, harness.Options{})
	ctx := context.Background()

	for _, list := range []client.ObjectList{&cnpgv1.ClusterList{}, &cnpgv1.DatabaseList{}, &barmanv1.ObjectStoreList{}} {
		if err := env.Client.List(ctx, list); err != nil {
			t.Errorf("list %T: %v", list, err)
		}
	}
	if env.CNPGLog() != "" {
		t.Errorf("CNPGLog() without the operator = %q, want empty", env.CNPGLog())
	}

	cfg, err := env.AddUser("alice", []string{"coop-admins"})
	if err != nil {
		t.Fatal(err)
	}
	alice, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.List(ctx, &corev1.SecretList{}, client.InNamespace("default")); !apierrors.IsForbidden(err) {
		t.Errorf("alice lists Secrets without a binding: err = %v, want Forbidden", err)
	}

	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := env.WriteKubeconfig(path); err != nil {
		t.Fatal(err)
	}
	restCfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := client.New(restCfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.List(ctx, &corev1.SecretList{}, client.InNamespace("default")); err != nil {
		t.Errorf("admin from the written kubeconfig: %v", err)
	}

	if err := env.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	// t.Cleanup calls Stop again.
}

func TestCNPGCRDPaths(t *testing.T) {
	paths, err := harness.CNPGCRDPaths()
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 {
		t.Fatalf("CNPGCRDPaths() = %v, want the CNPG CRD folder and the ObjectStore CRD", paths)
	}
	// DatabaseRole is new in v1.30.
	if _, err := os.Stat(filepath.Join(paths[0], "postgresql.cnpg.io_databaseroles.yaml")); err != nil {
		t.Error(err)
	}
}
