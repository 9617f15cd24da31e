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
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/costreport"
)

var (
	cfg       *rest.Config
	k8sClient client.Client
	scheme    = runtime.NewScheme()
)

func TestMain(m *testing.M) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Println("KUBEBUILDER_ASSETS is not set: run with KUBEBUILDER_ASSETS=$(hack/envtest.sh)")
		os.Exit(1)
	}
	ctrl.SetLogger(testLogger())
	_ = clientgoscheme.AddToScheme(scheme)
	_ = coopv1.AddToScheme(scheme)
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	var err error
	if cfg, err = env.Start(); err != nil {
		fmt.Println("starting envtest:", err)
		os.Exit(1)
	}
	if k8sClient, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		fmt.Println("creating the client:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = env.Stop()
	os.Exit(code)
}

// testEnv is one running manager with the meter and the CostReport controller, as the
// operator wires them, on a fake clock.
type testEnv struct {
	mgr    ctrl.Manager
	meter  *Meter
	clock  *clocktesting.FakeClock
	cancel context.CancelFunc
	done   chan error
}

func startManager(t *testing.T, clk *clocktesting.FakeClock, opts Options) *testEnv {
	t.Helper()
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:     scheme,
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
		Cache:      cache.Options{ByObject: CacheByObject()},
	})
	if err != nil {
		t.Fatal(err)
	}
	opts.Clock = clk
	meter, err := Setup(mgr, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := (&costreport.Reconciler{Clock: clk}).SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &testEnv{mgr: mgr, meter: meter, clock: clk, cancel: cancel, done: make(chan error, 1)}
	go func() { e.done <- mgr.Start(ctx) }()
	e.waitIdle(t)
	return e
}

// waitIdle waits until the meter has finished its pass and waits on the clock again.
func (e *testEnv) waitIdle(t *testing.T) {
	t.Helper()
	NewWithT(t).Eventually(e.clock.HasWaiters, 30*time.Second, 5*time.Millisecond).Should(BeTrue(), "the meter never went back to waiting for the clock")
}

// tick moves the clock one interval forward and waits for the pass it triggers.
func (e *testEnv) tick(t *testing.T, d time.Duration) {
	t.Helper()
	e.clock.Step(d)
	e.waitIdle(t)
}

// stop stops the manager and waits for the meter to have written its last totals.
func (e *testEnv) stop(t *testing.T) {
	t.Helper()
	e.cancel()
	select {
	case err := <-e.done:
		if err != nil {
			t.Fatalf("manager: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the manager did not stop")
	}
}

// waitCached waits until the manager's cache holds obj in the state ok wants, so that the
// next pass sees it. obj is read from the cache into itself before each call of ok: an
// object the cache does not hold yet never passes, whatever the test set on it.
func (e *testEnv) waitCached(t *testing.T, obj client.Object, ok func() bool) {
	t.Helper()
	NewWithT(t).Eventually(func() bool {
		return e.mgr.GetCache().Get(context.Background(), client.ObjectKeyFromObject(obj), obj) == nil && ok()
	}, 30*time.Second, 5*time.Millisecond).Should(BeTrue(), "the cache never showed %s", obj.GetName())
}

// waitGone waits until the manager's cache no longer holds obj, so that the next pass
// does not see it.
func (e *testEnv) waitGone(t *testing.T, obj client.Object) {
	t.Helper()
	NewWithT(t).Eventually(func() bool {
		probe := obj.DeepCopyObject().(client.Object)
		return apierrors.IsNotFound(e.mgr.GetCache().Get(context.Background(), client.ObjectKeyFromObject(obj), probe))
	}, 30*time.Second, 5*time.Millisecond).Should(BeTrue(), "the cache still shows %s", obj.GetName())
}

func newCooperative(name string) *coopv1.Cooperative {
	return &coopv1.Cooperative{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: coopv1.CooperativeSpec{
			Vertical:   coopv1.VerticalDelivery,
			Plan:       "small",
			FeeSplit:   coopv1.FeeSplit{PlatformFeeBasisPoints: 300},
			Governance: coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote},
		},
	}
}

// createCooperative creates a Cooperative and its namespace, as the lead's reconciler would.
func createCooperative(t *testing.T, name string) *coopv1.Cooperative {
	t.Helper()
	ctx := context.Background()
	coop := newCooperative(name)
	if err := k8sClient.Create(ctx, coop); err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: coop.NamespaceName(), Labels: map[string]string{"coop.cooperator.dev/cooperative": name}}}
	if err := k8sClient.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	return coop
}

// createRunningPod creates a pod bound to a node and marks it Running. Pods never run in
// envtest (there is no scheduler and no kubelet), so the test sets spec.nodeName at create
// and the phase through the status subresource, as the kubelet would.
func createRunningPod(t *testing.T, namespace, name, cpu, memory string) *corev1.Pod {
	t.Helper()
	ctx := context.Background()
	pod := &corev1.Pod{
		// Every pod in a co-op namespace carries the co-op label: the operator's Deployments
		// set it, and CloudNativePG copies the Cluster's inherited metadata onto its pods.
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: coopLabel(namespace)},
		Spec: corev1.PodSpec{
			NodeName: "node-1",
			Containers: []corev1.Container{{
				Name:  "app",
				Image: "registry.example/app:1",
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU:    resource.MustParse(cpu),
					corev1.ResourceMemory: resource.MustParse(memory),
				}},
			}},
		},
	}
	if err := k8sClient.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	setPodPhase(t, pod, corev1.PodRunning)
	return pod
}

func setPodPhase(t *testing.T, pod *corev1.Pod, phase corev1.PodPhase) {
	t.Helper()
	pod.Status.Phase = phase
	if err := k8sClient.Status().Update(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
}

// createBoundPVC creates a claim and marks it Bound with a capacity, as the volume
// controller would (envtest runs none).
func createBoundPVC(t *testing.T, namespace, name, size string) *corev1.PersistentVolumeClaim {
	t.Helper()
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: coopLabel(namespace)},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}},
		},
	}
	if err := k8sClient.Create(context.Background(), pvc); err != nil {
		t.Fatal(err)
	}
	setPVCCapacity(t, pvc, size)
	return pvc
}

// setPVCCapacity sets the bound capacity, as the resizer does after an expansion.
func setPVCCapacity(t *testing.T, pvc *corev1.PersistentVolumeClaim, size string) {
	t.Helper()
	pvc.Status.Phase = corev1.ClaimBound
	pvc.Status.Capacity = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}
	if err := k8sClient.Status().Update(context.Background(), pvc); err != nil {
		t.Fatal(err)
	}
}

// cleanup deletes every Cooperative and CostReport, so tests do not meter each other's.
func cleanup(t *testing.T) {
	t.Cleanup(func() {
		ctx := context.Background()
		_ = k8sClient.DeleteAllOf(ctx, &coopv1.Cooperative{})
		_ = k8sClient.DeleteAllOf(ctx, &coopv1.CostReport{})
	})
}

// testLogger logs to stderr when TEST_VERBOSE is set, nowhere otherwise.
func testLogger() logr.Logger {
	if os.Getenv("TEST_VERBOSE") == "" {
		return logr.Discard()
	}
	return funcr.New(func(prefix, args string) { fmt.Fprintln(os.Stderr, prefix, args) }, funcr.Options{Verbosity: 2})
}

// coopLabel is the label of a co-op's pods and volumes, from its namespace coop-<name>.
func coopLabel(namespace string) map[string]string {
	return map[string]string{coopv1.LabelCooperative: strings.TrimPrefix(namespace, coopv1.NamespacePrefix)}
}
