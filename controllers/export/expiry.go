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

package export

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/finalizer"
	"github.com/cooperator-dev/cooperator/controllers/shared/logicalbackup"
)

// A dump lives as long as its link: the object-storage line of the hub's bill is shared by
// every co-op, so no co-op may pile up dumps. When the link expires the operator deletes the
// dump (and the link); when the export is deleted, its finalizer deletes the dump first.

// DumpDeletePatience is how long a deleted export waits for the object store to delete its
// dump before it is released without (with a Warning event, for the hub to delete it).
const DumpDeletePatience = time.Hour

// ExportRetention is how long a finished export (failed, or expired with its dump deleted)
// stays for its co-op's admins to read before the operator deletes it: they may not delete
// exports themselves, and finished ones count against the co-op's export quota.
const ExportRetention = 7 * 24 * time.Hour

// retire deletes a finished export ExportRetention after it finished (its Complete
// condition's last change).
func (r *Reconciler) retire(ctx context.Context, ex *coopv1.CooperativeExport) (ctrl.Result, error) {
	finished := ex.CreationTimestamp.Time
	if c := meta.FindStatusCondition(ex.Status.Conditions, coopv1.ConditionExportComplete); c != nil {
		if c.Reason == coopv1.ReasonExportNotACooperative {
			return ctrl.Result{}, nil // outside a co-op namespace the operator may delete nothing
		}
		finished = c.LastTransitionTime.Time
	}
	if wait := finished.Add(ExportRetention).Sub(r.now()); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	if err := r.Client.Delete(ctx, ex, client.Preconditions{UID: &ex.UID}); client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, fmt.Errorf("deleting the finished CooperativeExport %s/%s: %w", ex.Namespace, ex.Name, err)
	}
	log.FromContext(ctx).Info("Deleted a finished export after its retention", "namespace", ex.Namespace, "export", ex.Name, "phase", ex.Status.Phase)
	return ctrl.Result{}, nil
}

// expiresAt is when the export's link stops working: status.dump.expires, which publish
// writes with the Succeeded phase as the link's own X-Amz-Date plus its validity. An export
// that recorded no link has none to wait for: the zero time.
func expiresAt(ex *coopv1.CooperativeExport) time.Time {
	if ex.Status.Dump != nil && ex.Status.Dump.Expires != nil {
		return ex.Status.Dump.Expires.Time
	}
	return time.Time{}
}

// expire waits for a succeeded export's link to expire, then deletes its dump and the link.
func (r *Reconciler) expire(ctx context.Context, ex *coopv1.CooperativeExport) (ctrl.Result, error) {
	// Exports that succeeded before the finalizer existed get it here.
	if err := r.ensureFinalizer(ctx, ex); err != nil {
		return ctrl.Result{}, err
	}
	expires := expiresAt(ex)
	if now := r.now(); now.Before(expires) {
		return ctrl.Result{RequeueAfter: expires.Sub(now)}, nil
	}
	coop, _ := strings.CutPrefix(ex.Namespace, coopv1.NamespacePrefix)
	at := expires.UTC().Format(time.RFC3339)
	deleted, err := r.deleteDump(ctx, coop, ex)
	if err != nil {
		r.set(ex, coopv1.ExportExpired, metav1.ConditionFalse, coopv1.ReasonExportDeleteFailed,
			fmt.Sprintf("the link expired at %s; the dump is not deleted yet: %v", at, err))
		return ctrl.Result{}, err
	}
	if !deleted {
		r.set(ex, coopv1.ExportExpired, metav1.ConditionFalse, coopv1.ReasonExportCredentialsMissing,
			fmt.Sprintf("the link expired at %s; the dump is not deleted: the hub has not created Secret %s/%s", at, r.Hub.OperatorNamespace, r.Hub.ObjectStore.CooperativeCredentialsSecret(coop)))
		return r.recheck(), nil
	}
	if err := r.clearLink(ctx, coop, ex); err != nil {
		return ctrl.Result{}, err
	}
	r.set(ex, coopv1.ExportExpired, metav1.ConditionFalse, coopv1.ReasonExportExpired,
		fmt.Sprintf("the link expired at %s; the dump was deleted from the object store: create a new CooperativeExport for a fresh one", at))
	log.FromContext(ctx).Info("Deleted the dump of an expired export", "cooperative", coop, "export", ex.Name)
	return ctrl.Result{}, nil
}

// finalize deletes a deleted export's dump, and says whether the finalizer may go. The
// rule: the dump is deleted first (a 404 counts as deleted); a dump Job still running is
// deleted, and waited for, before that, so it cannot upload after; when the co-op's object
// store credentials are gone the export is released anyway, with a Warning event and the
// reason in status, and the hub deletes the dump by hand (<prefix>/exports/<export>.dump).
func (r *Reconciler) finalize(ctx context.Context, ex *coopv1.CooperativeExport) (ctrl.Result, bool, error) {
	if !controllerutil.ContainsFinalizer(ex, coopv1.ExportFinalizer) {
		return ctrl.Result{}, false, nil
	}
	coop, isCoop := strings.CutPrefix(ex.Namespace, coopv1.NamespacePrefix)
	if !isCoop {
		return ctrl.Result{}, true, nil // no Job was made: nothing was written
	}
	job := &batchv1.Job{}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: ex.Namespace, Name: ex.Name}, job)
	if err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, false, err
	}
	if err == nil && metav1.IsControlledBy(job, ex) {
		if done, _, _ := jobState(job); !done {
			if job.DeletionTimestamp.IsZero() {
				if err := r.Client.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationForeground)); client.IgnoreNotFound(err) != nil {
					return ctrl.Result{}, false, fmt.Errorf("deleting Job %s/%s: %w", job.Namespace, job.Name, err)
				}
			}
			msg := fmt.Sprintf("waiting for Job %s to stop before its dump is deleted", job.Name)
			r.set(ex, ex.Status.Phase, metav1.ConditionFalse, coopv1.ReasonExportDeleting, msg)
			return r.recheck(), false, nil
		}
	}
	deleted, err := r.deleteDump(ctx, coop, ex)
	if err != nil && r.now().Sub(ex.DeletionTimestamp.Time) < DumpDeletePatience {
		r.set(ex, ex.Status.Phase, metav1.ConditionFalse, coopv1.ReasonExportDeleteFailed,
			fmt.Sprintf("the export is being deleted; its dump is not deleted yet: %v", err))
		return ctrl.Result{}, false, err
	}
	if err != nil || !deleted {
		// Released without its dump: the store refused for DumpDeletePatience (keys revoked,
		// endpoint retired), or the keys are gone. An export, and the namespace of a co-op
		// being deleted, is never held for good.
		reason, why := coopv1.ReasonExportCredentialsMissing, fmt.Sprintf("Secret %s/%s is gone", r.Hub.OperatorNamespace, r.Hub.ObjectStore.CooperativeCredentialsSecret(coop))
		if err != nil {
			reason, why = coopv1.ReasonExportDeleteFailed, fmt.Sprintf("the object store refused for %s: %v", DumpDeletePatience, err)
		}
		msg := fmt.Sprintf("the export is deleted without its dump %s: %s; the hub deletes the dump by hand",
			r.dumpDestination(coop, ex), why)
		r.set(ex, ex.Status.Phase, metav1.ConditionFalse, reason, msg)
		if r.Recorder != nil {
			r.Recorder.Eventf(ex, nil, corev1.EventTypeWarning, reason, "DeleteDump", "%s", msg)
		}
		log.FromContext(ctx).Info("Released an export without deleting its dump", "cooperative", coop, "export", ex.Name, "reason", msg)
		return ctrl.Result{}, true, nil
	}
	if err := r.clearLink(ctx, coop, ex); err != nil {
		return ctrl.Result{}, false, err
	}
	log.FromContext(ctx).Info("Deleted the dump of a deleted export", "cooperative", coop, "export", ex.Name)
	return ctrl.Result{}, true, nil
}

// deleteDump deletes the export's dump object with the co-op's own read-write keys. It
// returns false, and no error, when those keys are gone.
func (r *Reconciler) deleteDump(ctx context.Context, coop string, ex *coopv1.CooperativeExport) (bool, error) {
	return r.deleteObject(ctx, coop, r.dumpDestination(coop, ex))
}

// deleteObject deletes the object at dest (s3://bucket/key) with the co-op's own read-write
// keys (a missing object counts as deleted). It returns false, and no error, when those
// keys are gone.
func (r *Reconciler) deleteObject(ctx context.Context, coop, dest string) (bool, error) {
	src, err := r.credentials(ctx, r.Hub.ObjectStore.CredentialsSecretsFor(coop)...)
	if err != nil {
		return false, err
	}
	if src == nil {
		return false, nil
	}
	// s3://bucket/key of the object (ParseDestination reads a prefix and ends it with /).
	bucket, key, _ := strings.Cut(strings.TrimPrefix(dest, "s3://"), "/")
	if !strings.HasPrefix(dest, "s3://") || bucket == "" || key == "" || strings.HasSuffix(key, "/") {
		return false, fmt.Errorf("the destination %q is no s3://bucket/key", dest)
	}
	hc := r.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	o := logicalbackup.ObjectAt(r.Hub.ObjectStore.EndpointURL, bucket, key)
	if err := logicalbackup.Delete(ctx, hc, o, string(src.Data[coopv1.AccessKeyIDKey]), string(src.Data[coopv1.AccessSecretKeyKey]), r.now()); err != nil {
		return false, err
	}
	return true, nil
}

// dumpDestination is where the export's dump was written, as its status recorded it then
// (the hub's settings may have changed since), else where it would be now.
func (r *Reconciler) dumpDestination(coop string, ex *coopv1.CooperativeExport) string {
	if ex.Status.Dump != nil && ex.Status.Dump.Destination != "" {
		return ex.Status.Dump.Destination
	}
	return Prefix(&r.Hub, coop) + DumpObjectName(ex.Name)
}

// clearLink deletes the co-op's download Secret when its link is this export's (a newer
// export's link stays).
func (r *Reconciler) clearLink(ctx context.Context, coop string, ex *coopv1.CooperativeExport) error {
	name := coopv1.ExportDownloadSecretName(&coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: coop}})
	s := &corev1.Secret{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: ex.Namespace, Name: name}, s); err != nil {
		return client.IgnoreNotFound(err)
	}
	if string(s.Data["export"]) != ex.Name {
		return nil
	}
	err := r.Client.Delete(ctx, s, client.Preconditions{UID: &s.UID, ResourceVersion: &s.ResourceVersion})
	if client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting the expired link in Secret %s/%s: %w", s.Namespace, s.Name, err)
	}
	return nil
}

// ensureFinalizer puts the finalizer on the export (a patch of its metadata only, which
// keeps the status computed so far).
func (r *Reconciler) ensureFinalizer(ctx context.Context, ex *coopv1.CooperativeExport) error {
	// IfUnchanged: the status update that follows in this reconcile uses the resourceVersion
	// this patch returns, and must not write over a status it did not read.
	return finalizer.Add(ctx, r.Client, ex, coopv1.ExportFinalizer, finalizer.IfUnchanged)
}
