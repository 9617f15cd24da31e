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
	"fmt"
	"strings"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/finalizer"
	"github.com/cooperator-dev/cooperator/controllers/shared/logicalbackup"
	"github.com/cooperator-dev/cooperator/controllers/shared/ssa"
)

// reconcileDelete carries out the deletion policy. It first waits, if the co-op moved to a
// peer hub and goes with Delete, until its copy there has a base backup (movedCopyHold). With Retain (on the dedicated tier) a
// final backup must complete before anything is removed; the object store keeps the data.
// Then the namespace, the co-op's cluster-scoped roles and its shared-tier objects go, and
// the finalizer is removed.
func (r *Reconciler) reconcileDelete(ctx context.Context, s *scope) (ctrl.Result, error) {
	coop := s.coop
	if !controllerutil.ContainsFinalizer(coop, coopv1.Finalizer) {
		s.gone = true
		return ctrl.Result{}, nil
	}
	if held, err := r.movedCopyHold(ctx, s); err != nil || held {
		return ctrl.Result{RequeueAfter: wait.Jitter(r.Config.RecheckInterval.Duration, 0.1)}, err
	}
	if coop.Spec.DeletionPolicy != coopv1.DeletionPolicyDelete && coop.Spec.Database.Tier == coopv1.DatabaseTierDedicated {
		done, err := r.finalBackup(ctx, s)
		if err != nil || !done {
			return ctrl.Result{RequeueAfter: wait.Jitter(r.Config.RecheckInterval.Duration, 0.1)}, err
		}
		if coop.Status.LastBackup != nil {
			// The namespace, the ObjectStore and this status go; the marker stays, so a co-op
			// created again under this name restores these backups instead of archiving an
			// empty database over them.
			server := coop.Status.Database.ServerName
			if server == "" {
				server = coop.Name
			}
			if _, err := ssa.ApplyFetch(ctx, r.Client, BuildRetainedMarker(coop, &r.Config, server, coop.DeletionTimestamp.Time), &corev1.ConfigMap{}); err != nil {
				return ctrl.Result{}, fmt.Errorf("recording the retained backups: %w", err)
			}
		}
	}
	s.setCondition(coopv1.ConditionReady, metav1.ConditionFalse, coopv1.ReasonDeleting, "removing the tenant")
	if left, err := r.deleteExports(ctx, coop); err != nil || left > 0 {
		if left > 0 {
			s.setCondition(coopv1.ConditionReady, metav1.ConditionFalse, coopv1.ReasonDeleting,
				fmt.Sprintf("removing the tenant: waiting for %d CooperativeExport(s) to delete their dumps", left))
		}
		return ctrl.Result{RequeueAfter: wait.Jitter(r.Config.RecheckInterval.Duration, 0.1)}, err
	}

	retain := coop.Spec.DeletionPolicy != coopv1.DeletionPolicyDelete
	// The owner role in the shared Cluster, read past the cache: a role it has not seen yet
	// would keep its owner and LOGIN, and go with the co-op. One that another co-op of this
	// name left when it was deleted with Retain is not this co-op's: its deletion leaves
	// that role, its serving role and its database as they are (a standby of a peer hub,
	// or a co-op that never took them over).
	var reader client.Reader = r.Client
	if r.APIReader != nil {
		reader = r.APIReader
	}
	roleKey := client.ObjectKey{Namespace: r.Config.OperatorNamespace, Name: coopv1.SharedResourceName(coop)}
	var ownerRole cnpgv1.DatabaseRole
	roleErr := reader.Get(ctx, roleKey, &ownerRole)
	if roleErr != nil && !apierrors.IsNotFound(roleErr) && !isNoKind(roleErr) {
		return ctrl.Result{}, fmt.Errorf("reading the DatabaseRole: %w", roleErr)
	}
	othersRetained := roleErr == nil && RetainedByOther(&ownerRole, coop)
	// The object store: the co-op's imports/, and with Delete its whole prefix, unless this
	// hub retains another co-op's data of this name.
	othersBackups, err := r.retainedBackupsOfOther(ctx, coop)
	if err != nil {
		return ctrl.Result{}, err
	}
	if done, err := r.deleteStoreObjects(ctx, s, othersRetained || othersBackups); err != nil || !done {
		return ctrl.Result{RequeueAfter: wait.Jitter(r.Config.RecheckInterval.Duration, 0.1)}, err
	}
	if coop.Spec.Database.Tier == coopv1.DatabaseTierShared && coop.Spec.Standby == nil && !othersRetained {
		if retain {
			done, err := r.finalLogicalBackup(ctx, s)
			if err != nil || !done {
				return ctrl.Result{RequeueAfter: wait.Jitter(r.Config.RecheckInterval.Duration, 0.1)}, err
			}
		}
		s.setCondition(coopv1.ConditionReady, metav1.ConditionFalse, coopv1.ReasonDeleting, "removing the tenant")
		tenants, retained, err := r.sharedTenants(ctx, coop.Name, false)
		if err != nil {
			return ctrl.Result{}, err
		}
		if retain && roleErr == nil {
			// The role stays, with its database, but can no longer log in, and an explicit
			// reject rule keeps it out of CloudNativePG's catch-all pg_hba rule.
			// So does its serving role.
			if err := r.applyAll(ctx, s, BuildRetainedSharedRole(coop, &r.Config), BuildRetainedSharedServingRole(coop, &r.Config)); err != nil {
				return ctrl.Result{}, err
			}
			retained = append(retained, coopv1.SharedRoleName(coop), ServingRoleName(coop))
		} else if !retain {
			retained = without(without(retained, coopv1.SharedRoleName(coop)), ServingRoleName(coop))
		}
		if err := r.applyAll(ctx, s, BuildSharedCluster(&r.Config, tenantRoles(tenants), retained)); err != nil {
			return ctrl.Result{}, err
		}
	}
	toDelete := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: coop.NamespaceName()}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: coopv1.ClusterRoleName(coop)}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: coopv1.ClusterRoleName(coop)}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: r.Config.OperatorNamespace, Name: coopv1.SharedResourceName(coop)}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: r.Config.OperatorNamespace, Name: SharedServingResourceName(coop)}},
	}
	if !othersRetained {
		// Its reclaim policy says whether CloudNativePG drops the database with it.
		toDelete = append(toDelete, &cnpgv1.Database{ObjectMeta: metav1.ObjectMeta{Namespace: r.Config.OperatorNamespace, Name: coopv1.SharedResourceName(coop)}})
	}
	if !retain {
		if roleErr == nil {
			// As read above: nothing has written it since.
			toDelete = append(toDelete, &ownerRole)
		}
		toDelete = append(toDelete,
			&cnpgv1.DatabaseRole{ObjectMeta: metav1.ObjectMeta{Namespace: r.Config.OperatorNamespace, Name: SharedServingResourceName(coop)}})
		if coop.Spec.Database.Tier == coopv1.DatabaseTierDedicated && coop.Spec.Standby == nil {
			// The marker of an earlier co-op's backups is this co-op's once it was created
			// again under that name; a standby never reads it.
			toDelete = append(toDelete, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: r.Config.OperatorNamespace, Name: RetainedMarkerName(coop.Name)}})
		}
	}
	for _, obj := range toDelete {
		if err := r.deleteOwn(ctx, reader, coop, obj); err != nil {
			return ctrl.Result{}, err
		}
	}
	if err := finalizer.Remove(ctx, r.Client, coop, coopv1.Finalizer); err != nil {
		if finalizer.Stale(err) {
			// The federation's controller removed its own meanwhile: again, from a fresh copy.
			return ctrl.Result{RequeueAfter: time.Second}, nil
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	s.gone = true
	log.FromContext(ctx).Info("Removed co-op tenant", "cooperative", coop.Name, "deletionPolicy", coop.Spec.DeletionPolicy)
	return ctrl.Result{}, nil
}

// movedCopyHold holds the deletion, before anything is removed, while the federation says
// it must wait (topology.Federation.DeletionHold: a co-op deleted with Delete after it
// moved to a peer hub whose copy has no base backup yet). Ready says why, and an event
// when it starts to.
func (r *Reconciler) movedCopyHold(ctx context.Context, s *scope) (bool, error) {
	if r.Federation == nil {
		return false, nil
	}
	why, err := r.Federation.DeletionHold(ctx, s.coop)
	if err != nil || why == "" {
		return false, err
	}
	if c := meta.FindStatusCondition(s.coop.Status.Conditions, coopv1.ConditionReady); c == nil || c.Reason != coopv1.ReasonWaitingForMovedCopy {
		r.Recorder.Eventf(s.coop, nil, corev1.EventTypeWarning, coopv1.ReasonWaitingForMovedCopy, "Delete", "%s", why)
	}
	s.setCondition(coopv1.ConditionReady, metav1.ConditionFalse, coopv1.ReasonWaitingForMovedCopy, why)
	return true, nil
}

// retainedBackupsOfOther says whether the backups marker of this name (RetainedMarkerName)
// is another co-op's: a dedicated co-op of this hub takes it over (its deletion removes it),
// a shared-tier co-op or a standby never does.
func (r *Reconciler) retainedBackupsOfOther(ctx context.Context, coop *coopv1.Cooperative) (bool, error) {
	if coop.Spec.Database.Tier == coopv1.DatabaseTierDedicated && coop.Spec.Standby == nil {
		return false, nil
	}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: r.Config.OperatorNamespace, Name: RetainedMarkerName(coop.Name)}, &corev1.ConfigMap{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading the retained backups marker of %s: %w", coop.Name, err)
	}
	return true, nil
}

// deleteOwn deletes obj as a step of coop's deletion, unless it is what another co-op of
// this name retained (RetainedByOther): that stays, and an event says so. A DatabaseRole is
// deleted only as read: read first (through reader, past the cache) unless obj is one
// already read (it has a uid).
func (r *Reconciler) deleteOwn(ctx context.Context, reader client.Reader, coop *coopv1.Cooperative, obj client.Object) error {
	opts := []client.DeleteOption{client.PropagationPolicy(metav1.DeletePropagationBackground)}
	if _, ok := obj.(*cnpgv1.DatabaseRole); ok {
		if obj.GetUID() == "" {
			err := reader.Get(ctx, client.ObjectKeyFromObject(obj), obj)
			if apierrors.IsNotFound(err) || isNoKind(err) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading %T %s: %w", obj, client.ObjectKeyFromObject(obj), err)
			}
		}
		if RetainedByOther(obj, coop) {
			r.Recorder.Eventf(coop, nil, corev1.EventTypeNormal, coopv1.ReasonRetainedDataKept, "Delete",
				"Left DatabaseRole %s/%s: an earlier co-op %s deleted with Retain left it, and this co-op never took it over", obj.GetNamespace(), obj.GetName(), coop.Name)
			return nil
		}
		uid, version := obj.GetUID(), obj.GetResourceVersion()
		opts = append(opts, client.Preconditions{UID: &uid, ResourceVersion: &version})
	}
	if err := r.Client.Delete(ctx, obj, opts...); err != nil && !apierrors.IsNotFound(err) && !isNoKind(err) {
		if apierrors.IsConflict(err) {
			return fmt.Errorf("deleting %T %s: it changed since it was read, read it again: %w", obj, client.ObjectKeyFromObject(obj), err)
		}
		return fmt.Errorf("deleting %T %s: %w", obj, client.ObjectKeyFromObject(obj), err)
	}
	return nil
}

// finalBackup asks for the final backup and reports whether it completed. A co-op whose
// Cluster never existed has nothing to back up.
func (r *Reconciler) finalBackup(ctx context.Context, s *scope) (bool, error) {
	coop := s.coop
	var cluster cnpgv1.Cluster
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: coopv1.ClusterName(coop)}, &cluster); err != nil {
		if apierrors.IsNotFound(err) || isNoKind(err) {
			return true, nil
		}
		return false, fmt.Errorf("reading the Cluster: %w", err)
	}
	name := coopv1.FinalBackupName(coop)
	var backup cnpgv1.Backup
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: name}, &backup)
	switch {
	case apierrors.IsNotFound(err):
		// The platform stops first: what it writes after the backup would not be in it.
		running, terminating, err := r.stopPlatform(ctx, coop)
		if err != nil {
			return false, err
		}
		if running > 0 {
			s.setCondition(coopv1.ConditionReady, metav1.ConditionFalse, coopv1.ReasonFinalBackup,
				fmt.Sprintf("deletionPolicy Retain: stopping the platform (%d pods left, %d of them terminating) before the final backup %s, so that it holds its last writes", running, terminating, name))
			return false, nil
		}
		if err := r.Client.Create(ctx, BuildOnDemandBackup(coop, name)); err != nil && !apierrors.IsAlreadyExists(err) {
			return false, fmt.Errorf("requesting the final backup: %w", err)
		}
		r.Recorder.Eventf(coop, nil, corev1.EventTypeNormal, coopv1.ReasonFinalBackup, "Delete", "Requested final backup %s before removing the tenant", name)
		s.setCondition(coopv1.ConditionReady, metav1.ConditionFalse, coopv1.ReasonFinalBackup,
			fmt.Sprintf("deletionPolicy Retain: waiting for the final backup %s to complete before removing the namespace", name))
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reading the final backup: %w", err)
	}
	switch backup.Status.Phase {
	case cnpgv1.BackupPhaseCompleted:
		coop.Status.LastBackup = backupRecord(&backup, coop.Status.Database.ServerName)
		return true, nil
	case cnpgv1.BackupPhaseFailed:
		s.setCondition(coopv1.ConditionReady, metav1.ConditionFalse, coopv1.ReasonFinalBackup,
			fmt.Sprintf("deletionPolicy Retain: the final backup %s failed (%s); fix the object store and delete the Backup to retry, or set deletionPolicy: Delete to give up the data", name, backup.Status.Error))
	default:
		phase := string(backup.Status.Phase)
		if phase == "" {
			phase = "pending"
		}
		s.setCondition(coopv1.ConditionReady, metav1.ConditionFalse, coopv1.ReasonFinalBackup,
			fmt.Sprintf("deletionPolicy Retain: waiting for the final backup %s to complete (%s) before removing the namespace", name, phase))
	}
	return false, nil
}

// stopPlatform scales the co-op's platform Deployments to zero and says how many of their
// pods still run, those terminating included (Deployment status.replicas leaves them out,
// and a terminating pod still serves until its grace period ends). A pod terminating for
// longer than its grace period and PlatformDrainMargin (its node lost, say) is not waited
// for.
func (r *Reconciler) stopPlatform(ctx context.Context, coop *coopv1.Cooperative) (running, terminating int, err error) {
	var list appsv1.DeploymentList
	if err := r.Client.List(ctx, &list, client.InNamespace(coop.NamespaceName()), client.MatchingLabels(commonLabels(coop))); err != nil {
		return 0, 0, fmt.Errorf("listing the platform's Deployments: %w", err)
	}
	reader := r.APIReader
	if reader == nil {
		reader = r.Client
	}
	for i := range list.Items {
		d := &list.Items[i]
		if d.Spec.Replicas == nil || *d.Spec.Replicas != 0 {
			patch := client.MergeFrom(d.DeepCopy())
			d.Spec.Replicas = ptr.To[int32](0)
			if err := r.Client.Patch(ctx, d, patch, client.FieldOwner(ssa.FieldOwner)); client.IgnoreNotFound(err) != nil {
				return 0, 0, fmt.Errorf("stopping Deployment %s before the final backup: %w", d.Name, err)
			}
		}
		selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil || selector.Empty() {
			continue // the API server refuses such a Deployment
		}
		// Read past the cache, which strips pods of their labels: once per reconcile of a
		// deletion.
		var pods corev1.PodList
		if err := reader.List(ctx, &pods, client.InNamespace(d.Namespace), client.MatchingLabelsSelector{Selector: selector}); err != nil {
			return 0, 0, fmt.Errorf("listing the pods of Deployment %s: %w", d.Name, err)
		}
		for _, p := range pods.Items {
			if !ofDeployment(&p, d) {
				continue // matched by labels only (a database instance, say): not the platform's
			}
			if p.DeletionTimestamp != nil && r.now().After(p.DeletionTimestamp.Add(PlatformDrainMargin)) {
				continue // its grace period (which its deletion timestamp ends) is long over
			}
			if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
				continue
			}
			running++
			if p.DeletionTimestamp != nil {
				terminating++
			}
		}
	}
	return running, terminating, nil
}

// ofDeployment says whether a pod was made for Deployment d: its controller is one of d's
// ReplicaSets (named after d, as the Deployment controller names them).
func ofDeployment(p *corev1.Pod, d *appsv1.Deployment) bool {
	ref := metav1.GetControllerOf(p)
	return ref != nil && ref.Kind == "ReplicaSet" && strings.HasPrefix(ref.Name, d.Name+"-")
}

// PlatformDrainMargin is how long after a platform pod's grace period ended a Retain
// deletion still waits for it before the final backup.
const PlatformDrainMargin = 5 * time.Minute

// isNoKind is true when the API server does not serve a kind (CloudNativePG not installed).
func isNoKind(err error) bool { return meta.IsNoMatchError(err) }

// finalLogicalBackup runs the final logical backup of a shared-tier co-op's database, as a
// Job in the operator namespace, and reports whether it completed. A database that was
// never created, or a co-op without object store credentials of its own (it never had
// logical backups; the shared Cluster's base backups and the retained database keep its
// data), has nothing to wait for.
func (r *Reconciler) finalLogicalBackup(ctx context.Context, s *scope) (bool, error) {
	coop := s.coop
	cfg := &r.Config
	var database cnpgv1.Database
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: cfg.OperatorNamespace, Name: coopv1.SharedResourceName(coop)}, &database); err != nil {
		if apierrors.IsNotFound(err) || isNoKind(err) {
			return true, nil
		}
		return false, fmt.Errorf("reading the Database: %w", err)
	}
	if database.Status.Applied == nil || !*database.Status.Applied {
		return true, nil
	}
	creds := cfg.ObjectStore.PerCooperativeSecretPrefix + coop.Name
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: cfg.OperatorNamespace, Name: creds}, &corev1.Secret{}); err != nil {
		if !apierrors.IsNotFound(err) {
			return false, fmt.Errorf("reading the co-op's object store credentials: %w", err)
		}
		r.Recorder.Eventf(coop, nil, corev1.EventTypeWarning, coopv1.ReasonObjectStoreCredentialsMissing, "Delete",
			"No final logical backup: Secret %s/%s does not exist; database %s stays in the shared Cluster", cfg.OperatorNamespace, creds, coopv1.SharedRoleName(coop))
		return true, nil
	}
	name := logicalbackup.FinalJobName(coop.Name, coop.DeletionTimestamp.UTC().Format("20060102t150405"))
	var job batchv1.Job
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: cfg.OperatorNamespace, Name: name}, &job)
	switch {
	case apierrors.IsNotFound(err):
		if err := r.Client.Create(ctx, BuildFinalLogicalBackupJob(coop, cfg, creds, name)); err != nil && !apierrors.IsAlreadyExists(err) {
			return false, fmt.Errorf("starting the final logical backup: %w", err)
		}
		r.Recorder.Eventf(coop, nil, corev1.EventTypeNormal, coopv1.ReasonFinalBackup, "Delete", "Started final logical backup %s before removing the tenant", name)
		s.setCondition(coopv1.ConditionReady, metav1.ConditionFalse, coopv1.ReasonFinalBackup,
			fmt.Sprintf("deletionPolicy Retain: waiting for the final logical backup Job %s/%s to complete", cfg.OperatorNamespace, name))
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reading the final logical backup: %w", err)
	}
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return true, nil
		case batchv1.JobFailed:
			s.setCondition(coopv1.ConditionReady, metav1.ConditionFalse, coopv1.ReasonFinalBackup,
				fmt.Sprintf("deletionPolicy Retain: the final logical backup Job %s/%s failed (%s); fix it and delete the Job to retry, or set deletionPolicy: Delete to give up the data", cfg.OperatorNamespace, name, c.Reason))
			return false, nil
		}
	}
	s.setCondition(coopv1.ConditionReady, metav1.ConditionFalse, coopv1.ReasonFinalBackup,
		fmt.Sprintf("deletionPolicy Retain: waiting for the final logical backup Job %s/%s to complete", cfg.OperatorNamespace, name))
	return false, nil
}

func without(list []string, v string) []string {
	var out []string
	for _, x := range list {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// deleteExports deletes the co-op's CooperativeExports and says how many are still there.
// Each export's finalizer deletes its dump from the object store with the operator's rights
// in the co-op namespace, which a RoleBinding there gives: they go with the namespace, so
// the exports go first, or their finalizers would hold the namespace in Terminating.
func (r *Reconciler) deleteExports(ctx context.Context, coop *coopv1.Cooperative) (int, error) {
	var exports coopv1.CooperativeExportList
	if err := r.Client.List(ctx, &exports, client.InNamespace(coop.NamespaceName())); err != nil {
		if isNoKind(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("listing the CooperativeExports of %s: %w", coop.NamespaceName(), err)
	}
	for i := range exports.Items {
		ex := &exports.Items[i]
		if !ex.DeletionTimestamp.IsZero() {
			continue
		}
		if err := r.Client.Delete(ctx, ex); client.IgnoreNotFound(err) != nil {
			return 0, fmt.Errorf("deleting CooperativeExport %s/%s: %w", ex.Namespace, ex.Name, err)
		}
	}
	return len(exports.Items), nil
}
