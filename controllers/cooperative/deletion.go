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

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/ssa"
)

// FinalBackupName is the on-demand backup taken before a Retain deletion.
func FinalBackupName(coop *coopv1.Cooperative) string {
	return fmt.Sprintf("%s-final-%s", coop.Name, coop.DeletionTimestamp.UTC().Format("20060102t150405"))
}

// reconcileDelete carries out the deletion policy. With Retain (on the dedicated tier) a
// final backup must complete before anything is removed; the object store keeps the data.
// Then the namespace, the co-op's cluster-scoped roles and its shared-tier objects go, and
// the finalizer is removed.
func (r *Reconciler) reconcileDelete(ctx context.Context, s *scope) (ctrl.Result, error) {
	coop := s.coop
	if !controllerutil.ContainsFinalizer(coop, coopv1.Finalizer) {
		s.gone = true
		return ctrl.Result{}, nil
	}
	if coop.Spec.DeletionPolicy != coopv1.DeletionPolicyDelete && coop.Spec.Database.Tier == coopv1.DatabaseTierDedicated {
		done, err := r.finalBackup(ctx, s)
		if err != nil || !done {
			return ctrl.Result{RequeueAfter: jitter(r.Config.RecheckInterval.Duration)}, err
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

	if coop.Spec.Database.Tier == coopv1.DatabaseTierShared {
		roles, err := r.sharedRoles(ctx, coop.Name, false)
		if err != nil {
			return ctrl.Result{}, err
		}
		if err := r.applyAll(ctx, s, BuildSharedCluster(&r.Config, roles)); err != nil {
			return ctrl.Result{}, err
		}
	}
	toDelete := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: coop.NamespaceName()}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: ClusterRoleName(coop)}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: ClusterRoleName(coop)}},
		&cnpgv1.Database{ObjectMeta: metav1.ObjectMeta{Namespace: r.Config.OperatorNamespace, Name: SharedResourceName(coop)}},
		&cnpgv1.DatabaseRole{ObjectMeta: metav1.ObjectMeta{Namespace: r.Config.OperatorNamespace, Name: SharedResourceName(coop)}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: r.Config.OperatorNamespace, Name: SharedResourceName(coop)}},
	}
	if coop.Spec.DeletionPolicy == coopv1.DeletionPolicyDelete {
		toDelete = append(toDelete, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: r.Config.OperatorNamespace, Name: RetainedMarkerName(coop.Name)}})
	}
	for _, obj := range toDelete {
		if err := r.Client.Delete(ctx, obj, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) && !isNoKind(err) {
			return ctrl.Result{}, fmt.Errorf("deleting %T %s: %w", obj, client.ObjectKeyFromObject(obj), err)
		}
	}
	patch := client.MergeFrom(coop.DeepCopy())
	controllerutil.RemoveFinalizer(coop, coopv1.Finalizer)
	if err := r.Client.Patch(ctx, coop, patch); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	s.gone = true
	log.FromContext(ctx).Info("Removed co-op tenant", "cooperative", coop.Name, "deletionPolicy", coop.Spec.DeletionPolicy)
	return ctrl.Result{}, nil
}

// finalBackup asks for the final backup and reports whether it completed. A co-op whose
// Cluster never existed has nothing to back up.
func (r *Reconciler) finalBackup(ctx context.Context, s *scope) (bool, error) {
	coop := s.coop
	var cluster cnpgv1.Cluster
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: ClusterName(coop)}, &cluster); err != nil {
		if apierrors.IsNotFound(err) || isNoKind(err) {
			return true, nil
		}
		return false, fmt.Errorf("reading the Cluster: %w", err)
	}
	name := FinalBackupName(coop)
	var backup cnpgv1.Backup
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: name}, &backup)
	switch {
	case apierrors.IsNotFound(err):
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
		coop.Status.LastBackup = &coopv1.BackupRecord{Name: backup.Name, Time: backup.Status.StoppedAt}
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

// isNoKind is true when the API server does not serve a kind (CloudNativePG not installed).
func isNoKind(err error) bool { return meta.IsNoMatchError(err) }
