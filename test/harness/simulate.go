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
	"strings"
	"sync"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// The functions below write the status that components which cannot run here would write:
// no pods run on an envtest control plane, so no PostgreSQL instance, no Deployment
// controller and no backup ever runs. Tests and the demo call them, and say so.

// SimulateClusterReady writes the status CloudNativePG writes once every instance of a
// Cluster is up.
func SimulateClusterReady(ctx context.Context, c client.Client, namespace, name string) error {
	var cluster cnpgv1.Cluster
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &cluster); err != nil {
		return err
	}
	cluster.Status.Instances = cluster.Spec.Instances
	cluster.Status.ReadyInstances = cluster.Spec.Instances
	cluster.Status.Phase = "Cluster in healthy state"
	cluster.Status.CurrentPrimary = name + "-1"
	meta.SetStatusCondition(&cluster.Status.Conditions, metav1.Condition{
		Type: string(cnpgv1.ConditionClusterReady), Status: metav1.ConditionTrue, Reason: "ClusterIsReady", Message: "Cluster is Ready",
	})
	// CloudNativePG sets ContinuousArchiving once the instance archived its first WAL file
	// through the plugin.
	meta.SetStatusCondition(&cluster.Status.Conditions, metav1.Condition{
		Type: string(cnpgv1.ConditionContinuousArchiving), Status: metav1.ConditionTrue,
		Reason: string(cnpgv1.ConditionReasonContinuousArchivingSuccess), Message: "Continuous archiving is working",
	})
	return c.Status().Update(ctx, &cluster)
}

// SimulateArchivingWorking writes the ContinuousArchiving condition CloudNativePG writes
// once an instance archived its first WAL file, and leaves the rest of the status alone.
func SimulateArchivingWorking(ctx context.Context, c client.Client, namespace, name string) error {
	var cluster cnpgv1.Cluster
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &cluster); err != nil {
		return err
	}
	meta.SetStatusCondition(&cluster.Status.Conditions, metav1.Condition{
		Type: string(cnpgv1.ConditionContinuousArchiving), Status: metav1.ConditionTrue,
		Reason: string(cnpgv1.ConditionReasonContinuousArchivingSuccess), Message: "Continuous archiving is working",
	})
	return c.Status().Update(ctx, &cluster)
}

// SimulateArchivingFailing writes the condition CloudNativePG writes when archiving a WAL
// file to the object store fails.
func SimulateArchivingFailing(ctx context.Context, c client.Client, namespace, name, message string) error {
	var cluster cnpgv1.Cluster
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &cluster); err != nil {
		return err
	}
	meta.SetStatusCondition(&cluster.Status.Conditions, metav1.Condition{
		Type: string(cnpgv1.ConditionContinuousArchiving), Status: metav1.ConditionFalse,
		Reason: string(cnpgv1.ConditionReasonContinuousArchivingFailing), Message: message,
	})
	return c.Status().Update(ctx, &cluster)
}

// SimulateSharedClusterBackedUp plays CloudNativePG for the hub's shared Cluster: its
// instances are up, WAL archiving works, and a base backup has completed (one is taken
// when none has yet).
func SimulateSharedClusterBackedUp(ctx context.Context, c client.Client, namespace, name string) error {
	if err := SimulateClusterReady(ctx, c, namespace, name); err != nil {
		return err
	}
	var backups cnpgv1.BackupList
	if err := c.List(ctx, &backups, client.InNamespace(namespace), client.MatchingLabels{coopv1.ClusterLabel: name}); err != nil {
		return err
	}
	for _, b := range backups.Items {
		if b.Status.Phase == cnpgv1.BackupPhaseCompleted {
			return nil
		}
	}
	return SimulateBackup(ctx, c, namespace, name, name+"-"+time.Now().UTC().Format("20060102150405"), true)
}

// SimulateBackupCompletedAt creates a Backup of a Cluster that completed at stopped, as the
// record of a backup taken earlier.
func SimulateBackupCompletedAt(ctx context.Context, c client.Client, namespace, cluster, name string, stopped time.Time) error {
	return SimulateBackupDoneAt(ctx, c, namespace, cluster, name, true, stopped)
}

// SimulateBackupDoneAt creates a Backup of a Cluster that completed (or, with completed
// false, failed) at stopped.
func SimulateBackupDoneAt(ctx context.Context, c client.Client, namespace, cluster, name string, completed bool, stopped time.Time) error {
	if err := SimulateBackup(ctx, c, namespace, cluster, name, completed); err != nil {
		return err
	}
	var b cnpgv1.Backup
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &b); err != nil {
		return err
	}
	at := metav1.NewTime(stopped.Truncate(time.Second))
	b.Status.StartedAt, b.Status.StoppedAt = &at, &at
	return c.Status().Update(ctx, &b)
}

// SimulateFirstRecoverabilityPoint writes what the Barman Cloud plugin reports in an
// ObjectStore's status once its retention has pruned the catalogue of serverName: the
// earliest moment the backups left can restore to.
func SimulateFirstRecoverabilityPoint(ctx context.Context, c client.Client, namespace, store, serverName string, first time.Time) error {
	var s barmanv1.ObjectStore
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: store}, &s); err != nil {
		return err
	}
	at := metav1.NewTime(first.Truncate(time.Second))
	if s.Status.ServerRecoveryWindow == nil {
		s.Status.ServerRecoveryWindow = map[string]barmanv1.RecoveryWindow{}
	}
	w := s.Status.ServerRecoveryWindow[serverName]
	w.FirstRecoverabilityPoint = &at
	s.Status.ServerRecoveryWindow[serverName] = w
	return c.Status().Update(ctx, &s)
}

// SimulateJobDone writes the status the Job controller writes once the Job's pod
// succeeded (or, with succeeded false, failed for good).
func SimulateJobDone(ctx context.Context, c client.Client, namespace, name string, succeeded bool) error {
	var job batchv1.Job
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &job); err != nil {
		return err
	}
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	job.Status.StartTime = &now
	if succeeded {
		job.Status.Succeeded = 1
		job.Status.CompletionTime = &now
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, Reason: "CompletionsReached", LastProbeTime: now, LastTransitionTime: now},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, Reason: "CompletionsReached", LastProbeTime: now, LastTransitionTime: now},
		}
	} else {
		job.Status.Failed = 1
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", LastProbeTime: now, LastTransitionTime: now},
			{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", LastProbeTime: now, LastTransitionTime: now},
		}
	}
	return c.Status().Update(ctx, &job)
}

// SimulateBackup creates a Backup of a Cluster, as CloudNativePG's ScheduledBackup
// controller does, and writes the status of its outcome: completed, or failed.
func SimulateBackup(ctx context.Context, c client.Client, namespace, cluster, name string, completed bool) error {
	if err := CreateBackup(ctx, c, namespace, cluster, name); err != nil {
		return err
	}
	return SimulateBackupDone(ctx, c, namespace, name, completed)
}

// CreateBackup creates a Backup of a Cluster, as CloudNativePG's ScheduledBackup controller
// does, without a status (one that exists already is left as it is).
func CreateBackup(ctx context.Context, c client.Client, namespace, cluster, name string) error {
	b := &cnpgv1.Backup{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{coopv1.ClusterLabel: cluster}},
		Spec: cnpgv1.BackupSpec{
			Cluster:             cnpgv1.LocalObjectReference{Name: cluster},
			Method:              cnpgv1.BackupMethodPlugin,
			PluginConfiguration: &cnpgv1.BackupPluginConfiguration{Name: coopv1.BarmanPluginName},
		},
	}
	if err := c.Create(ctx, b); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// SimulateBackupDone writes the status of an existing Backup's outcome.
func SimulateBackupDone(ctx context.Context, c client.Client, namespace, name string, completed bool) error {
	var b cnpgv1.Backup
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &b); err != nil {
		return err
	}
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	b.Status.StartedAt = &now
	b.Status.StoppedAt = &now
	b.Status.Method = cnpgv1.BackupMethodPlugin
	b.Status.Phase = cnpgv1.BackupPhaseCompleted
	if !completed {
		b.Status.Phase = cnpgv1.BackupPhaseFailed
		b.Status.Error = "simulated failure: object store unreachable"
	}
	return c.Status().Update(ctx, &b)
}

// SimulateDeploymentsAvailable writes the status the Deployment controller writes once every
// replica of every Deployment in the namespace is available.
func SimulateDeploymentsAvailable(ctx context.Context, c client.Client, namespace string) error {
	var list appsv1.DeploymentList
	if err := c.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return err
	}
	for i := range list.Items {
		d := &list.Items[i]
		want := ptr.Deref(d.Spec.Replicas, 1)
		if d.Status.ObservedGeneration == d.Generation && d.Status.AvailableReplicas == want && d.Status.UpdatedReplicas == want {
			continue
		}
		d.Status = appsv1.DeploymentStatus{
			ObservedGeneration: d.Generation, Replicas: want, UpdatedReplicas: want, ReadyReplicas: want, AvailableReplicas: want,
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: "True", Reason: "MinimumReplicasAvailable"}},
		}
		if err := c.Status().Update(ctx, d); err != nil {
			return fmt.Errorf("deployment %s: %w", d.Name, err)
		}
	}
	return nil
}

// SimulateSharedDatabaseApplied writes the status CloudNativePG writes once a Database and
// its co-op's DatabaseRoles (the owner role of the same name, and every other role labelled
// with the co-op of the Database, such as its serving role) exist in PostgreSQL.
func SimulateSharedDatabaseApplied(ctx context.Context, c client.Client, namespace, name string) error {
	var db cnpgv1.Database
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &db); err != nil {
		return err
	}
	db.Status.Applied = ptr.To(true)
	db.Status.ObservedGeneration = db.Generation
	if err := c.Status().Update(ctx, &db); err != nil {
		return err
	}
	var role cnpgv1.DatabaseRole
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &role); err != nil {
		return err
	}
	roles := []cnpgv1.DatabaseRole{role}
	if coop := db.Labels[coopv1.LabelCooperative]; coop != "" {
		var list cnpgv1.DatabaseRoleList
		if err := c.List(ctx, &list, client.InNamespace(namespace), client.MatchingLabels{coopv1.LabelCooperative: coop}); err != nil {
			return err
		}
		for _, r := range list.Items {
			if r.Name != name {
				roles = append(roles, r)
			}
		}
	}
	for i := range roles {
		roles[i].Status.Applied = ptr.To(true)
		roles[i].Status.ObservedGeneration = roles[i].Generation
		if err := c.Status().Update(ctx, &roles[i]); err != nil {
			return err
		}
	}
	return nil
}

// SimulateNamespaceDeleted does what the namespace controller, which does not run on an
// envtest control plane, does for a namespace being deleted: it deletes every object of the
// given kinds in it, then finalizes the namespace so that it goes.
func SimulateNamespaceDeleted(ctx context.Context, cfg *rest.Config, c client.Client, namespace string, kinds ...client.Object) error {
	for _, obj := range kinds {
		if err := c.DeleteAllOf(ctx, obj, client.InNamespace(namespace)); err != nil && !apierrors.IsNotFound(err) && !meta.IsNoMatchError(err) {
			return fmt.Errorf("deleting the %T objects of namespace %s: %w", obj, namespace, err)
		}
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ns, err := cs.CoreV1().Namespaces().Get(ctx, namespace, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	if ns.DeletionTimestamp.IsZero() {
		return fmt.Errorf("namespace %s is not being deleted", namespace)
	}
	ns.Spec.Finalizers = nil
	if _, err := cs.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("finalizing namespace %s: %w", namespace, err)
	}
	return nil
}

// PlayDedicatedHub plays, once, for every co-op of a hub on the dedicated tier, the next
// step of what cannot run here: CloudNativePG starts a Cluster's instances (and archives
// its WAL), then takes its first base backup; the Deployment controller makes every
// Deployment of a co-op namespace available. It lists each kind once with reader (an
// informer cache, as the components it stands for read, or c), so that a hub of a
// thousand co-ops is played without a request per co-op, and writes through c with up to
// workers requests at once. It returns how many steps it played. opts narrow the lists.
func PlayDedicatedHub(ctx context.Context, reader client.Reader, c client.Client, workers int, opts ...client.ListOption) (int, error) {
	managed := client.MatchingLabels{coopv1.LabelManagedBy: coopv1.ManagedByValue}
	var clusters cnpgv1.ClusterList
	if err := reader.List(ctx, &clusters, append([]client.ListOption{managed}, opts...)...); err != nil {
		return 0, err
	}
	var backups cnpgv1.BackupList
	if err := reader.List(ctx, &backups, append([]client.ListOption{client.HasLabels{"cnpg.io/cluster"}}, opts...)...); err != nil {
		return 0, err
	}
	var deployments appsv1.DeploymentList
	if err := reader.List(ctx, &deployments, append([]client.ListOption{managed}, opts...)...); err != nil {
		return 0, err
	}
	backedUp := map[string]bool{}
	for _, b := range backups.Items {
		backedUp[b.Namespace+"/"+b.Labels["cnpg.io/cluster"]] = true
	}
	var steps []func() error
	for i := range clusters.Items {
		cl := &clusters.Items[i]
		if !strings.HasPrefix(cl.Namespace, coopv1.NamespacePrefix) {
			continue
		}
		switch {
		case !meta.IsStatusConditionTrue(cl.Status.Conditions, string(cnpgv1.ConditionClusterReady)):
			steps = append(steps, func() error { return SimulateClusterReady(ctx, c, cl.Namespace, cl.Name) })
		case !backedUp[cl.Namespace+"/"+cl.Name]:
			steps = append(steps, func() error {
				return SimulateBackup(ctx, c, cl.Namespace, cl.Name, cl.Name+"-"+time.Now().UTC().Format("20060102150405"), true)
			})
		}
	}
	played := map[string]bool{}
	for _, d := range deployments.Items {
		want := ptr.Deref(d.Spec.Replicas, 1)
		if played[d.Namespace] || d.Status.ObservedGeneration == d.Generation && d.Status.AvailableReplicas == want && d.Status.UpdatedReplicas == want {
			continue
		}
		played[d.Namespace] = true
		steps = append(steps, func() error { return SimulateDeploymentsAvailable(ctx, c, d.Namespace) })
	}
	return len(steps), InParallel(workers, len(steps), func(i int) error {
		if err := steps[i](); err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			return err
		}
		return nil
	})
}

// InParallel calls do(0) ... do(n-1) from up to workers goroutines and joins their errors.
func InParallel(workers, n int, do func(i int) error) error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	next := make(chan int)
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				if err := do(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}
