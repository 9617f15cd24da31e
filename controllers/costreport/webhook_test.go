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

package costreport_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/costreport"
	"github.com/cooperator-dev/cooperator/test/harness"
)

// TestDecimalsWebhook installs the shipped webhook configurations (config/webhook) on the
// embedded API server and serves the CostReport decimals webhook as the manager does: an
// unquoted number with decimals is refused with a message that names the field and says to
// quote it, a whole number and a quoted decimal are accepted, and nothing is written for a
// refusal. With the webhook down (failure policy Ignore) the schema still refuses the same
// object, in its own words.
func TestDecimalsWebhook(t *testing.T) {
	root := harness.MustRepoRoot(t)
	env := harness.StartT(t, harness.Options{
		ProjectCRDs:  true,
		WebhookPaths: []string{filepath.Join(root, "config", "webhook")},
		Scheme:       harness.Scheme(coopv1.AddToScheme),
	})
	c := env.Client
	host, port, certDir := env.WebhookServing()
	server := webhook.NewServer(webhook.Options{Host: host, Port: port, CertDir: certDir})
	server.Register(costreport.DecimalsWebhookPath, costreport.DecimalsWebhook())
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- server.Start(ctx) }()
	shutdown := sync.OnceFunc(func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("the webhook server: %v", err)
		}
	})
	defer shutdown()

	report := func(name, weights string) *unstructured.Unstructured {
		t.Helper()
		return harness.CostReportYAML(t, name, `  - {description: servers, amount: 412.5, pool: compute}
  - {description: storage, amount: "38.05", pool: storage}`, "    computeWeights: "+weights)
	}

	// The webhook answers once the server listens: until then the API server ignores it
	// and the schema's own message comes back.
	var refusal error
	deadline := time.Now().Add(30 * time.Second)
	for {
		refusal = c.Create(ctx, report("2026-11", `{cpuCore: 1, memoryGiB: 0.125}`))
		if refusal == nil || strings.Contains(refusal.Error(), "quoted string") || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if refusal == nil {
		t.Fatal("an unquoted decimal amount was accepted")
	}
	for _, want := range []string{
		`mcostreport-decimals.coop.cooperator.dev`,
		`spec.lines[0].amount: Invalid value: "412.5": write a number with decimals as a quoted string, such as "0.125"`,
		`spec.policy.computeWeights.memoryGiB: Invalid value: "0.125": write a number with decimals as a quoted string`,
	} {
		if !strings.Contains(refusal.Error(), want) {
			t.Errorf("the refusal %q does not say %q", refusal, want)
		}
	}
	if strings.Contains(refusal.Error(), "spec.lines[1]") || strings.Contains(refusal.Error(), "cpuCore") {
		t.Errorf("the refusal names fields written right: %q", refusal)
	}
	if err := c.Get(ctx, client.ObjectKey{Name: "2026-11"}, &coopv1.CostReport{}); err == nil {
		t.Error("the refused CostReport was written")
	}

	good := report("2026-11", `{cpuCore: 1, memoryGiB: "0.125"}`)
	if err := unstructured.SetNestedSlice(good.Object, []any{
		map[string]any{"description": "servers", "amount": int64(412), "pool": "compute"},
	}, "spec", "lines"); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, good); err != nil {
		t.Fatalf("a whole number and a quoted decimal were refused: %v", err)
	}

	// Down: the API server ignores the webhook and the schema refuses the number itself.
	shutdown()
	err := c.Create(context.Background(), report("2026-12", `{cpuCore: 1}`))
	if err == nil || !strings.Contains(err.Error(), "spec.lines[0].amount") || strings.Contains(err.Error(), "quoted string") {
		t.Errorf("with the webhook down: %v; want the schema's refusal of spec.lines[0].amount", err)
	}
}
