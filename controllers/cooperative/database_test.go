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

package cooperative

import (
	"context"
	"slices"
	"testing"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/cooperator-dev/cooperator/api/topology"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
)

// losingCache answers the first read of a Cluster with one the API server no longer has,
// as a cache does that sees the deletion in the middle of a reconcile. Like a cache, it
// gives the object its kind and the UID the API server gave it (the fake client sets none).
type losingCache struct {
	client.Client
	lost *cnpgv1.Cluster
}

func (c *losingCache) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if cluster, ok := obj.(*cnpgv1.Cluster); ok && c.lost != nil && key == client.ObjectKeyFromObject(c.lost) {
		c.lost.DeepCopyInto(cluster)
		cluster.SetGroupVersionKind(cnpgv1.SchemeGroupVersion.WithKind("Cluster"))
		cluster.UID = "uid-of-the-lost-cluster"
		c.lost = nil
		return nil
	}
	return c.Client.Get(ctx, key, obj, opts...)
}

func TestLostClusterIsRecoveredEvenWhenTheCacheLosesItMidReconcile(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, coopv1.AddToScheme, cnpgv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	barmanv1.AddKnownTypes(scheme)
	cfg := hubconfig.Default()
	creds := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: cfg.OperatorNamespace, Name: cfg.ObjectStore.CooperativeCredentialsSecret(testCoop().Name)}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(creds).Build()
	coop := testCoop()
	r := &Reconciler{Client: c, Config: cfg}
	reconcile := func(cl client.Client) {
		t.Helper()
		r.Client = cl
		if _, err := r.reconcileDedicatedDatabase(ctx, &scope{coop: coop, plan: testPlan(), topology: topology.Standalone}); err != nil {
			t.Fatal(err)
		}
	}
	key := client.ObjectKey{Namespace: coop.NamespaceName(), Name: coopv1.ClusterName(coop)}

	// The co-op's first Cluster, and a backup of it.
	reconcile(c)
	first := &cnpgv1.Cluster{}
	if err := c.Get(ctx, key, first); err != nil {
		t.Fatal(err)
	}
	coop.Status.LastBackup = &coopv1.BackupRecord{Name: "first"}

	// It is lost; the reconcile that follows reads it once more from its cache.
	if err := c.Delete(ctx, first); err != nil {
		t.Fatal(err)
	}
	reconcile(&losingCache{Client: c, lost: first})
	if err := c.Get(ctx, key, &cnpgv1.Cluster{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a reconcile that planned from the lost Cluster created one: err = %v", err)
	}

	// The next reconcile, whose cache saw the deletion, restores it.
	reconcile(c)
	restored := &cnpgv1.Cluster{}
	if err := c.Get(ctx, key, restored); err != nil {
		t.Fatal(err)
	}
	if restored.Spec.Bootstrap == nil || restored.Spec.Bootstrap.Recovery == nil {
		t.Fatalf("the lost Cluster came back with bootstrap %+v, want a recovery", restored.Spec.Bootstrap)
	}
}

// TestTheFirstBackupOfARecoveredCluster: a Cluster recovered from backups, once ready and
// without a backup of its own, gets one at once; a standby's replica does not, a home that
// holds the primary in a federation topology does.
func TestTheFirstBackupOfARecoveredCluster(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, coopv1.AddToScheme, cnpgv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	ready := &cnpgv1.Cluster{Status: cnpgv1.ClusterStatus{Conditions: []metav1.Condition{{Type: string(cnpgv1.ConditionClusterReady), Status: metav1.ConditionTrue}}}}
	for _, tc := range []struct {
		name string
		db   DatabasePlan
		live *cnpgv1.Cluster
		want bool
	}{
		{"recovered, ready, alone", DatabasePlan{ServerName: "fairride-lyon-2", Bootstrap: coopv1.BootstrapRecovery}, ready, true},
		{"recovered, ready, the primary of its topology", DatabasePlan{ServerName: "fairride-lyon-2", Bootstrap: coopv1.BootstrapRecovery, Topology: &topology.Topology{Primary: true}}, ready, true},
		{"a replica of its topology", DatabasePlan{ServerName: "fairride-lyon-2", Bootstrap: coopv1.BootstrapRecovery, Topology: &topology.Topology{Primary: false}}, ready, false},
		{"recovered, not ready yet", DatabasePlan{ServerName: "fairride-lyon-2", Bootstrap: coopv1.BootstrapRecovery}, &cnpgv1.Cluster{}, false},
		{"made by initdb (the ScheduledBackup's immediate backup is its first)", DatabasePlan{ServerName: "fairride-lyon", Bootstrap: coopv1.BootstrapInitDB}, ready, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fake.NewClientBuilder().WithScheme(scheme).Build()
			r := &Reconciler{Client: c, Config: hubconfig.Default()}
			if _, err := r.firstBackupAfterRecovery(ctx, testCoop(), tc.db, tc.live, nil); err != nil {
				t.Fatal(err)
			}
			err := c.Get(ctx, client.ObjectKey{Namespace: testCoop().NamespaceName(), Name: FirstBackupName(tc.db.ServerName, 1)}, &cnpgv1.Backup{})
			if got := err == nil; got != tc.want {
				t.Errorf("first backup asked for: %v (%v), want %v", got, err, tc.want)
			}
		})
	}
}

// TestAFailedFirstBackupIsAskedForAgain: the first backup of a recovered Cluster that
// failed is asked for again FirstBackupRetry after it failed, up to FirstBackupAttempts in
// all, and not while another backup of the Cluster runs or after one completed.
func TestAFailedFirstBackupIsAskedForAgain(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, coopv1.AddToScheme, cnpgv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	ready := &cnpgv1.Cluster{Status: cnpgv1.ClusterStatus{Conditions: []metav1.Condition{{Type: string(cnpgv1.ConditionClusterReady), Status: metav1.ConditionTrue}}}}
	db := DatabasePlan{ServerName: "fairride-lyon-2", Bootstrap: coopv1.BootstrapRecovery}
	backup := func(attempt int, phase string, stoppedAgo time.Duration) cnpgv1.Backup {
		b := cnpgv1.Backup{ObjectMeta: metav1.ObjectMeta{Name: FirstBackupName(db.ServerName, attempt), CreationTimestamp: metav1.NewTime(now.Add(-stoppedAgo - time.Minute))},
			Status: cnpgv1.BackupStatus{Phase: cnpgv1.BackupPhase(phase)}}
		if phase == cnpgv1.BackupPhaseFailed || phase == cnpgv1.BackupPhaseCompleted {
			b.Status.StoppedAt = &metav1.Time{Time: now.Add(-stoppedAgo)}
		}
		return b
	}
	for _, tc := range []struct {
		name      string
		current   []cnpgv1.Backup
		want      int // the attempt asked for now; 0 for none
		wantRetry time.Duration
	}{
		{"the first failed a retry's time ago", []cnpgv1.Backup{backup(1, cnpgv1.BackupPhaseFailed, FirstBackupRetry)}, 2, 0},
		{"the first failed five minutes ago", []cnpgv1.Backup{backup(1, cnpgv1.BackupPhaseFailed, 5*time.Minute)}, 0, FirstBackupRetry - 5*time.Minute},
		{"the second failed too", []cnpgv1.Backup{backup(1, cnpgv1.BackupPhaseFailed, time.Hour), backup(2, cnpgv1.BackupPhaseFailed, 20*time.Minute)}, 3, 0},
		{"every attempt failed: the schedule's turn", []cnpgv1.Backup{backup(1, cnpgv1.BackupPhaseFailed, 2*time.Hour), backup(2, cnpgv1.BackupPhaseFailed, time.Hour), backup(3, cnpgv1.BackupPhaseFailed, 20*time.Minute)}, 0, 0},
		{"the second runs", []cnpgv1.Backup{backup(1, cnpgv1.BackupPhaseFailed, time.Hour), backup(2, cnpgv1.BackupPhaseRunning, 0)}, 0, 0},
		{"one completed", []cnpgv1.Backup{backup(1, cnpgv1.BackupPhaseFailed, time.Hour), backup(2, cnpgv1.BackupPhaseCompleted, 30*time.Minute)}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fake.NewClientBuilder().WithScheme(scheme).Build()
			rec := events.NewFakeRecorder(4)
			r := &Reconciler{Client: c, Config: hubconfig.Default(), Recorder: rec, Clock: clocktesting.NewFakePassiveClock(now)}
			retry, err := r.firstBackupAfterRecovery(ctx, testCoop(), db, ready, tc.current)
			if err != nil {
				t.Fatal(err)
			}
			if retry != tc.wantRetry {
				t.Errorf("asks again in %s, want %s", retry, tc.wantRetry)
			}
			var list cnpgv1.BackupList
			if err := c.List(ctx, &list); err != nil {
				t.Fatal(err)
			}
			var asked []string
			for _, b := range list.Items {
				asked = append(asked, b.Name)
			}
			var want []string
			if tc.want > 0 {
				want = []string{FirstBackupName(db.ServerName, tc.want)}
			}
			if !slices.Equal(asked, want) {
				t.Errorf("asked for %v, want %v", asked, want)
			}
			if got := len(rec.Events); got != len(want) {
				t.Errorf("%d events, want %d (one when it asks again)", got, len(want))
			}
		})
	}
}

// TestStopPlatformWaitsForTerminatingPodsWithinBounds: before a Retain deletion's final
// backup the platform's pods are waited for, terminating ones too, but not one whose grace
// period ended more than PlatformDrainMargin ago (its node lost, say): that would hold the
// co-op for ever.
func TestStopPlatformWaitsForTerminatingPodsWithinBounds(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	coop := testCoop()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	selector := map[string]string{"app": "api"}
	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: coop.NamespaceName(), Name: "api", Labels: commonLabels(coop)},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: selector},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: selector}}},
	}
	pod := func(name string, deleted *time.Time) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: coop.NamespaceName(), Name: name, Labels: selector,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "api-5d8f7c9b6", UID: "rs", Controller: ptr.To(true)}}}}
		if deleted != nil {
			p.DeletionTimestamp = &metav1.Time{Time: *deleted}
			p.Finalizers = []string{"test/kubelet"} // the fake client keeps a deleted object only with one
		}
		return p
	}
	recently, longAgo := now.Add(-time.Minute), now.Add(-PlatformDrainMargin-time.Minute)
	// A database instance that carries the same labels (a template component named as
	// CloudNativePG names its pods): its Cluster made it, not the Deployment.
	instance := pod("a-1", nil)
	instance.OwnerReferences = []metav1.OwnerReference{{APIVersion: "postgresql.cnpg.io/v1", Kind: "Cluster", Name: "a", UID: "cluster", Controller: ptr.To(true)}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(deploy, pod("serving", nil), pod("draining", &recently), pod("on-a-lost-node", &longAgo), instance).Build()
	r := &Reconciler{Client: c, Config: hubconfig.Default(), Clock: clocktesting.NewFakeClock(now)}
	running, terminating, err := r.stopPlatform(ctx, coop)
	if err != nil {
		t.Fatal(err)
	}
	if running != 2 || terminating != 1 {
		t.Errorf("running %d, terminating %d; want 2 and 1 (neither the pod on a lost node nor the database's is waited for)", running, terminating)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(deploy), deploy); err != nil || ptr.Deref(deploy.Spec.Replicas, 1) != 0 {
		t.Errorf("the Deployment asks for %v replicas (%v), want 0", deploy.Spec.Replicas, err)
	}
}
