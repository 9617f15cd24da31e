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
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/ssa"
	"github.com/cooperator-dev/cooperator/controllers/shared/text"
)

// RestoreFieldOwner owns status.origin of an imported Cooperative.
const RestoreFieldOwner = "cooperator-import"

// RestoreReconciler restores an imported co-op's dump into its new database before its
// platform starts: once the database's credentials and the co-op's object store keys are
// in its namespace, a Job (BuildRestoreJob) downloads the dump, checks its SHA-256 and
// restores it; then status.origin records it and the dump annotations go, which lets the
// Cooperative controller scale the platform up.
type RestoreReconciler struct {
	Client client.Client
	// Pods reads the pods of a failed restore Job for the refusal it ended with
	// (RefusalOf): the API server, not the cache, which holds no pods.
	Pods client.Reader
	// Upload makes sure the co-op's namespace holds its object store keys (the export's
	// Reconciler does the same).
	Upload *Reconciler
}

// SetupWithManager registers the controller: Cooperatives being imported, and their Jobs.
func (r *RestoreReconciler) SetupWithManager(mgr ctrl.Manager) error {
	importing := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetAnnotations()[coopv1.AnnotationImportDump] != ""
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("cooperativeimport").
		For(&coopv1.Cooperative{}, builder.WithPredicates(importing)).
		Watches(&batchv1.Job{}, handler.EnqueueRequestForOwner(mgr.GetScheme(), mgr.GetRESTMapper(), &coopv1.Cooperative{}, handler.OnlyControllerOwner())).
		Complete(r)
}

// Reconcile moves one import along.
func (r *RestoreReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	coop := &coopv1.Cooperative{}
	if err := r.Client.Get(ctx, req.NamespacedName, coop); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	dump, sum := coop.Annotations[coopv1.AnnotationImportDump], coop.Annotations[coopv1.AnnotationImportSHA256]
	// (A standby awaits no restore: AwaitingRestore.)
	if !coop.AwaitingRestore() || !coop.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	abandonReason, abandoning := coop.Annotations[coopv1.AnnotationImportAbandon]
	if abandoning {
		// A restore that already committed is the co-op's data: it finishes as any restore,
		// and the abandon is ignored (and said so). Only a restore not done is given up.
		if succeeded, err := r.restoreSucceeded(ctx, coop); err != nil {
			return ctrl.Result{}, err
		} else if !succeeded {
			return r.abandon(ctx, coop, dump, abandonReason)
		}
	}
	origin, err := originOf(coop)
	ns := coop.NamespaceName()
	if err != nil {
		// Only cooperator import writes it, within the CRD's bounds: status.origin would
		// refuse it, and the restore would wait for ever with nothing said.
		origin.Message = fmt.Sprintf("annotation %s: %v: the platform stays stopped", coopv1.AnnotationImportOrigin, err)
		if r.Upload.Recorder != nil && (coop.Status.Origin == nil || coop.Status.Origin.Message != origin.Message) {
			r.Upload.Recorder.Eventf(coop, nil, corev1.EventTypeWarning, coopv1.ReasonImportRefused, "Restore", "%s", origin.Message)
		}
		return ctrl.Result{}, r.writeOrigin(ctx, coop, origin)
	}
	if !PlainObjectName(dump) {
		// The name comes from the archive: it names one object under the co-op's imports/.
		origin.Message = fmt.Sprintf("annotation %s must name one object of the co-op's imports/ (a plain file name): the platform stays stopped", coopv1.AnnotationImportDump)
		return ctrl.Result{}, r.writeOrigin(ctx, coop, origin)
	}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: coopv1.AppSecretName(coop)}, &corev1.Secret{}); err != nil {
		if apierrors.IsNotFound(err) {
			return r.Upload.recheck(), nil // the database is not there yet
		}
		return ctrl.Result{}, err
	}
	job := &batchv1.Job{}
	err = r.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: RestoreJobName(coop)}, job)
	if apierrors.IsNotFound(err) && !meta.IsStatusConditionTrue(coop.Status.Conditions, coopv1.ConditionDatabaseReady) {
		// The app Secret comes before the database accepts connections (CloudNativePG
		// writes it before initdb; on the shared tier the operator writes it with the
		// role): a restore started now fails, and its Job is not retried.
		origin.RestoreJob, origin.Message = "", "waiting for the database to be ready (DatabaseReady) before restoring the dump"
		return r.Upload.recheck(), r.writeOrigin(ctx, coop, origin)
	} else if err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, err
	}
	if ok, err := r.Upload.ensureUploadCredentials(ctx, coop); err != nil || !ok {
		return r.Upload.recheck(), err
	}
	if _, err := ssa.ApplyFetch(ctx, r.Client, BuildEgressPolicy(coop, &r.Upload.Hub), &networkingv1.NetworkPolicy{}); err != nil {
		return ctrl.Result{}, fmt.Errorf("applying NetworkPolicy %s/%s: %w", ns, EgressPolicyName, err)
	}
	if apierrors.IsNotFound(err) {
		job = BuildRestoreJob(coop, dump, sum, &r.Upload.Hub)
		if err := r.Client.Create(ctx, job); apierrors.IsAlreadyExists(err) {
			// A Job of that name the cache does not hold: not the operator's (its Jobs
			// carry its label), or not seen yet, which the next pass tells.
			origin.Message = fmt.Sprintf("Job %s/%s exists and is not known as made for this import: the platform stays stopped until it is deleted", ns, job.Name)
			return r.Upload.recheck(), r.writeOrigin(ctx, coop, origin)
		} else if err != nil {
			return ctrl.Result{}, fmt.Errorf("creating Job %s/%s: %w", ns, job.Name, err)
		}
		log.FromContext(ctx).Info("Created the restore Job of an imported co-op", "cooperative", coop.Name, "job", job.Name)
	}
	if !metav1.IsControlledBy(job, coop) {
		// Only the Job made for this import restores it: a Job of the same name made
		// otherwise (an export's, say) does not release the platform.
		origin.Message = fmt.Sprintf("Job %s/%s was not made for this import: the platform stays stopped until it is deleted", ns, job.Name)
		return r.Upload.recheck(), r.writeOrigin(ctx, coop, origin)
	}
	origin.RestoreJob, origin.Message = job.Name, ""
	done, ok, msg := jobState(job)
	switch {
	case !done:
		return ctrl.Result{}, r.writeOrigin(ctx, coop, origin)
	case !ok:
		if refusal := r.refusalOf(ctx, job); refusal != "" {
			msg += ": " + refusal
		}
		origin.Message = msg + "; the platform stays stopped: fix the cause, delete the Job to try again"
		return ctrl.Result{}, r.writeOrigin(ctx, coop, origin)
	}
	now := metav1.Now()
	origin.RestoredAt, origin.Message = &now, ""
	if abandoning {
		origin.Message = fmt.Sprintf("the hub asked to give up the restore (%s) after Job %s/%s had restored the dump: the abandon is ignored, the platform starts with the imported data",
			strings.TrimSpace(abandonReason), ns, job.Name)
	}
	if err := r.writeOrigin(ctx, coop, origin); err != nil {
		return ctrl.Result{}, err
	}
	// The dump held every member's data for the restore alone: it goes now, as an export's
	// dump goes with its link. A store that refuses leaves it for the hub, and says so.
	if err := r.deleteImportedDump(ctx, coop, dump); err != nil {
		msg := fmt.Sprintf("the imported dump %s%s stays in the object store (%v): the hub deletes it by hand", ImportPrefix(&r.Upload.Hub, coop.Name), dump, err)
		if r.Upload.Recorder != nil {
			r.Upload.Recorder.Eventf(coop, nil, corev1.EventTypeWarning, coopv1.ReasonImportDumpLeft, "DeleteDump", "%s", msg)
		}
		log.FromContext(ctx).Info("Left the imported dump in the object store", "cooperative", coop.Name, "reason", msg)
	}
	// The platform may start now.
	if err := r.releasePlatform(ctx, coop); err != nil {
		return ctrl.Result{}, err
	}
	log.FromContext(ctx).Info("Restored the imported co-op's data", "cooperative", coop.Name, "job", job.Name, "abandonIgnored", abandoning)
	return ctrl.Result{}, nil
}

// releasePlatform removes the dump's annotations and the abandon one, which starts the
// co-op's platform: the restore is done, or given up.
func (r *RestoreReconciler) releasePlatform(ctx context.Context, coop *coopv1.Cooperative) error {
	patch := client.MergeFrom(coop.DeepCopy())
	delete(coop.Annotations, coopv1.AnnotationImportDump)
	delete(coop.Annotations, coopv1.AnnotationImportSHA256)
	delete(coop.Annotations, coopv1.AnnotationImportAbandon)
	if err := r.Client.Patch(ctx, coop, patch); err != nil {
		return fmt.Errorf("releasing the platform of %s: %w", coop.Name, err)
	}
	return nil
}

// refusalOf is the refusal a failed restore Job's container ended with (its termination
// message, begun with RestoreRefusal), or "": another failure's message (pg_restore's
// errors, which may quote data) is not said.
func (r *RestoreReconciler) refusalOf(ctx context.Context, job *batchv1.Job) string {
	if r.Pods == nil {
		return ""
	}
	var pods corev1.PodList
	if err := r.Pods.List(ctx, &pods, client.InNamespace(job.Namespace), client.MatchingLabels{batchv1.JobNameLabel: job.Name}); err != nil {
		log.FromContext(ctx).Info("Could not read the restore Job's pods for its refusal", "job", job.Name, "error", err.Error())
		return ""
	}
	for _, pod := range pods.Items {
		for _, c := range pod.Status.ContainerStatuses {
			if t := c.State.Terminated; t != nil && strings.HasPrefix(t.Message, RestoreRefusal) {
				return text.Truncate(strings.TrimSpace(t.Message), 1024)
			}
		}
	}
	return ""
}

// restoreSucceeded says whether the restore Job made for this import completed: its one
// transaction committed, and the database holds the imported data.
func (r *RestoreReconciler) restoreSucceeded(ctx context.Context, coop *coopv1.Cooperative) (bool, error) {
	job := &batchv1.Job{}
	switch err := r.Client.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: RestoreJobName(coop)}, job); {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, err
	}
	done, ok, _ := jobState(job)
	return done && ok && metav1.IsControlledBy(job, coop), nil
}

// abandon gives up the restore of coop as a hub admin asked (coopv1.AnnotationImportAbandon,
// with reason): the restore Job goes first, and its pods with it (a restore in its one
// transaction is rolled back); then the uploaded dump, with the co-op's own keys (a store
// that refuses leaves it, and an event says where); status.origin.message and an event
// record it; and the dump's annotations and the abandon one go, which starts the platform
// on the database as it is.
func (r *RestoreReconciler) abandon(ctx context.Context, coop *coopv1.Cooperative, dump, reason string) (ctrl.Result, error) {
	ns := coop.NamespaceName()
	job := &batchv1.Job{}
	switch err := r.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: RestoreJobName(coop)}, job); {
	case err == nil && metav1.IsControlledBy(job, coop):
		if job.DeletionTimestamp.IsZero() {
			if err := r.Client.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationForeground)); client.IgnoreNotFound(err) != nil {
				return ctrl.Result{}, fmt.Errorf("deleting the restore Job %s/%s: %w", ns, job.Name, err)
			}
		}
		return r.Upload.recheck(), nil // once it is gone, with its pods
	case err != nil && !apierrors.IsNotFound(err):
		return ctrl.Result{}, err
	}
	origin, _ := originOf(coop)
	origin.RestoreJob, origin.RestoredAt = "", nil
	origin.Message = fmt.Sprintf("the restore was given up at the hub's request (%s): the platform starts without the imported data", strings.TrimSpace(reason))
	if PlainObjectName(dump) {
		if err := r.deleteImportedDump(ctx, coop, dump); err != nil {
			msg := fmt.Sprintf("the imported dump %s%s stays in the object store (%v): the hub deletes it by hand", ImportPrefix(&r.Upload.Hub, coop.Name), dump, err)
			if r.Upload.Recorder != nil {
				r.Upload.Recorder.Eventf(coop, nil, corev1.EventTypeWarning, coopv1.ReasonImportDumpLeft, "DeleteDump", "%s", msg)
			}
		}
	}
	if err := r.writeOrigin(ctx, coop, origin); err != nil {
		return ctrl.Result{}, err
	}
	if r.Upload.Recorder != nil {
		r.Upload.Recorder.Eventf(coop, nil, corev1.EventTypeWarning, coopv1.ReasonImportAbandoned, "Restore", "%s", origin.Message)
	}
	if err := r.releasePlatform(ctx, coop); err != nil {
		return ctrl.Result{}, err
	}
	log.FromContext(ctx).Info("Gave up the restore of an imported co-op", "cooperative", coop.Name)
	return ctrl.Result{}, nil
}

// PlainObjectName says whether name is an object name the operator takes in the import
// annotation (coopv1.AnnotationImportDump): one path segment (no separator, not . or .., no
// control character), one object of the co-op's imports/, never a path that reaches
// elsewhere in the bucket. `cooperator import` checks the dump's name, which comes from the
// archive, with it before it uploads anything.
func PlainObjectName(name string) bool {
	if name == "" || name == "." || name == ".." || len(name) > 255 || strings.ContainsAny(name, "/\\") {
		return false
	}
	for _, c := range name {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// deleteImportedDump deletes the dump an import restored, with the co-op's own read-write
// keys (a missing object counts as deleted).
func (r *RestoreReconciler) deleteImportedDump(ctx context.Context, coop *coopv1.Cooperative, name string) error {
	deleted, err := r.Upload.deleteObject(ctx, coop.Name, ImportPrefix(&r.Upload.Hub, coop.Name)+name)
	if err == nil && !deleted {
		err = errors.New("the co-op's object store keys are gone")
	}
	return err
}

// originOf reads the origin the import recorded in its annotation, over what status holds.
// An annotation that is not an origin's JSON, or whose fields the CRD would refuse in
// status.origin (ImportOrigin.ArchiveLimitErrors), is an error, and status's origin is
// returned without it.
func originOf(coop *coopv1.Cooperative) (coopv1.ImportOrigin, error) {
	var o coopv1.ImportOrigin
	if coop.Status.Origin != nil {
		o = *coop.Status.Origin
	}
	raw := coop.Annotations[coopv1.AnnotationImportOrigin]
	if raw == "" {
		return o, nil
	}
	var from coopv1.ImportOrigin
	if err := json.Unmarshal([]byte(raw), &from); err != nil {
		return o, errors.New("not the JSON of an origin (cooperative, export, exportedAt, dumpedAt, backups)")
	}
	if errs := from.ArchiveLimitErrors(); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return o, errors.New(strings.Join(msgs, "; "))
	}
	o.Cooperative, o.Export, o.ExportedAt, o.DumpedAt, o.Backups = from.Cooperative, from.Export, from.ExportedAt, from.DumpedAt, from.Backups
	return o, nil
}

func (r *RestoreReconciler) writeOrigin(ctx context.Context, coop *coopv1.Cooperative, o coopv1.ImportOrigin) error {
	if coop.Status.Origin != nil && equalOrigin(coop.Status.Origin, &o) {
		return nil
	}
	fields, err := ssa.StatusFields(&o)
	if err != nil {
		return err
	}
	return ssa.ApplyStatus(ctx, r.Client, coopv1.GroupVersion.WithKind("Cooperative"), client.ObjectKey{Name: coop.Name}, map[string]any{"origin": fields}, RestoreFieldOwner)
}

func equalOrigin(a, b *coopv1.ImportOrigin) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
