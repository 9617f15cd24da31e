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
	"net/http"
	"slices"
	"strings"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/export"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/controllers/shared/logicalbackup"
)

// deletedPrefixes are the co-op's own prefixes of the hub's object store that its deletion
// empties, and what it leaves there and why ("" when nothing). Its imports/ while a dump
// an import uploaded waits for its restore: a transfer of every member's data, not a
// backup, whatever the deletion policy. With deletionPolicy Delete, its whole prefix <bucket>/<region>/<co-op>/:
// base backups and WAL (of every server name), logical backups, exports and imports, and
// the backups an earlier co-op of this name retained, which are this co-op's once it took
// them over. Not when this hub retains another co-op's data of this name that this co-op
// never took over (othersRetained: a shared-tier co-op's retained roles, or the backups
// marker of a dedicated co-op, which a shared-tier co-op or a standby does not take): then
// its exports/ and imports/ only, and the rest stays. A standby's backups stay whatever its
// policy: its home writes its Delete until it learns of a switchover, and after one the
// prefix holds the live primary's archive; its exports/ and imports/ go with Delete. And a
// standby whose prefix holds or lies under its home's archive (its spec.standby.objectStore)
// empties nothing: exports/ and imports/ there are its home's.
func deletedPrefixes(coop *coopv1.Cooperative, cfg *hubconfig.Config, othersRetained bool) (prefixes []string, kept string) {
	whole := cfg.BackupDestination(coop.Name)
	imports := export.ImportPrefix(cfg, coop.Name)
	if sb := coop.Spec.Standby; sb != nil {
		home := strings.TrimRight(sb.ObjectStore.DestinationPath, "/") + "/"
		if strings.HasPrefix(home, whole) || strings.HasPrefix(whole, home) {
			return nil, whole + ", which holds or lies in its home's archive " + home + ": its home's data, exports and imports"
		}
	}
	if coop.Spec.DeletionPolicy != coopv1.DeletionPolicyDelete {
		// Only a dump still waiting for its restore is there (a restore, or its abandon,
		// deletes it): a co-op deleted with Retain needs the object store for nothing else.
		if coop.AwaitingRestore() {
			return []string{imports}, ""
		}
		return nil, ""
	}
	if coop.Spec.Standby != nil {
		return []string{export.Prefix(cfg, coop.Name), imports}, "the rest of " + whole + ": a standby's backups, which after a switchover are the primary's archive"
	}
	if othersRetained {
		return []string{export.Prefix(cfg, coop.Name), imports}, "the rest of " + whole + ": the backups of an earlier co-op " + coop.Name + ", deleted with Retain, which this co-op never took over"
	}
	return []string{whole}, ""
}

// databaseStopped deletes the co-op's dedicated Cluster, and says whether it and its
// instances are gone: a deletion with Delete empties the prefix the Cluster archives WAL
// and base backups into, and an instance still running would write more after it. The
// instances are read past the cache (which strips pods of their labels).
func (r *Reconciler) databaseStopped(ctx context.Context, s *scope) (bool, error) {
	coop := s.coop
	cluster := &cnpgv1.Cluster{}
	key := client.ObjectKey{Namespace: coop.NamespaceName(), Name: coopv1.ClusterName(coop)}
	switch err := r.Client.Get(ctx, key, cluster); {
	case apierrors.IsNotFound(err) || isNoKind(err):
	case err != nil:
		return false, fmt.Errorf("reading the Cluster: %w", err)
	default:
		if cluster.DeletionTimestamp.IsZero() {
			if err := r.Client.Delete(ctx, cluster); client.IgnoreNotFound(err) != nil {
				return false, fmt.Errorf("deleting the Cluster before its backups: %w", err)
			}
		}
		s.setCondition(coopv1.ConditionReady, metav1.ConditionFalse, coopv1.ReasonDeleting,
			fmt.Sprintf("deletionPolicy Delete: stopping the database (Cluster %s/%s) before deleting its backups, so that it archives nothing after them", key.Namespace, key.Name))
		return false, nil
	}
	reader := r.APIReader
	if reader == nil {
		reader = r.Client
	}
	var pods corev1.PodList
	// CloudNativePG labels its instances with their Cluster's name.
	if err := reader.List(ctx, &pods, client.InNamespace(coop.NamespaceName()), client.MatchingLabels{"cnpg.io/cluster": key.Name}); err != nil {
		return false, fmt.Errorf("listing the database's instances: %w", err)
	}
	running := 0
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			running++
		}
	}
	if running > 0 {
		s.setCondition(coopv1.ConditionReady, metav1.ConditionFalse, coopv1.ReasonDeleting,
			fmt.Sprintf("deletionPolicy Delete: waiting for %d instance(s) of the database to stop before deleting its backups", running))
		return false, nil
	}
	return true, nil
}

// logicalBackupsStopped deletes a shared-tier co-op's logical backup CronJob and every
// unfinished Job of its logical backups, and says whether they and their pods are gone: a
// deletion with Delete empties the prefix they upload into, and a dump (every member's
// data) that lands after the listing would stay with nothing to prune it. The Jobs and
// pods are read past the cache.
func (r *Reconciler) logicalBackupsStopped(ctx context.Context, s *scope) (bool, error) {
	coop := s.coop
	ns := r.Config.OperatorNamespace
	name := logicalbackup.Name(coop.Name)
	reader := r.APIReader
	if reader == nil {
		reader = r.Client
	}
	waiting := func(what string) {
		s.setCondition(coopv1.ConditionReady, metav1.ConditionFalse, coopv1.ReasonDeleting,
			fmt.Sprintf("deletionPolicy Delete: stopping the logical backups (CronJob %s/%s) before deleting them: waiting for %s", ns, name, what))
	}
	cronJob := &batchv1.CronJob{}
	switch err := reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, cronJob); {
	case apierrors.IsNotFound(err):
	case err != nil:
		return false, fmt.Errorf("reading the logical backup CronJob: %w", err)
	default:
		if cronJob.DeletionTimestamp.IsZero() {
			if err := r.Client.Delete(ctx, cronJob, client.PropagationPolicy(metav1.DeletePropagationBackground)); client.IgnoreNotFound(err) != nil {
				return false, fmt.Errorf("deleting the logical backup CronJob before its dumps: %w", err)
			}
		}
		waiting("the CronJob to go")
		return false, nil
	}
	// Its Jobs, and a final one of an earlier Retain: each carries the co-op's labels.
	var jobs batchv1.JobList
	if err := reader.List(ctx, &jobs, client.InNamespace(ns), client.MatchingLabels(commonLabels(coop))); err != nil {
		return false, fmt.Errorf("listing the logical backup Jobs: %w", err)
	}
	for i := range jobs.Items {
		job := &jobs.Items[i]
		if jobFinished(job) || !job.DeletionTimestamp.IsZero() {
			continue
		}
		if err := r.Client.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationBackground)); client.IgnoreNotFound(err) != nil {
			return false, fmt.Errorf("deleting logical backup Job %s/%s before its dumps: %w", ns, job.Name, err)
		}
	}
	podLabels := commonLabels(coop)
	for k, v := range logicalbackup.PodLabels {
		podLabels[k] = v
	}
	var pods corev1.PodList
	if err := reader.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels(podLabels)); err != nil {
		return false, fmt.Errorf("listing the logical backup pods: %w", err)
	}
	running := 0
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			running++
		}
	}
	if running > 0 {
		waiting(fmt.Sprintf("%d pod(s) of its Jobs to stop", running))
		return false, nil
	}
	return true, nil
}

// jobFinished says whether a Job completed or failed.
func jobFinished(job *batchv1.Job) bool {
	for _, c := range job.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// deleteStoreObjects empties the co-op's prefixes of the object store (deletedPrefixes),
// with the co-op's own read-write keys, which reach its prefix and no other co-op's: a
// mistake here cannot reach another co-op's data. It reports whether it is done; on a
// store's error the Ready condition and a Warning event say which prefix and why, and the
// deletion waits and retries. Without the co-op's keys (the hub removed them) nothing can
// be deleted with them: an event names what is left for the hub, and the deletion goes on.
func (r *Reconciler) deleteStoreObjects(ctx context.Context, s *scope, othersRetained bool) (done bool, err error) {
	coop := s.coop
	prefixes, kept := deletedPrefixes(coop, &r.Config, othersRetained)
	defer func() {
		// Said once the rest is deleted, not on each pass that waits for it.
		if done && err == nil && kept != "" {
			r.Recorder.Eventf(coop, nil, corev1.EventTypeNormal, coopv1.ReasonRetainedDataKept, "Delete", "Left %s", kept)
		}
	}()
	if len(prefixes) == 0 {
		return true, nil
	}
	// The co-op's own keys only, never the hub-wide ones (even on a single-tenant hub).
	keys := &corev1.Secret{}
	err = r.Client.Get(ctx, client.ObjectKey{Namespace: r.Config.OperatorNamespace, Name: r.Config.ObjectStore.CooperativeCredentialsSecret(coop.Name)}, keys)
	if err != nil && !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("reading the co-op's object store keys: %w", err)
	}
	if apierrors.IsNotFound(err) {
		r.Recorder.Eventf(coop, nil, corev1.EventTypeWarning, coopv1.ReasonObjectStoreCredentialsMissing, "Delete",
			"Left %s in the object store: Secret %s/%s, the co-op's own keys, is gone; the hub deletes them by hand",
			strings.Join(prefixes, " and "), r.Config.OperatorNamespace, r.Config.ObjectStore.CooperativeCredentialsSecret(coop.Name))
		return true, nil
	}
	hc := r.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	own := r.Config.BackupDestination(coop.Name)
	if slices.Contains(prefixes, own) && coop.Spec.Database.Tier == coopv1.DatabaseTierDedicated {
		// The database archives WAL into that prefix as long as it runs: it stops first.
		if stopped, err := r.databaseStopped(ctx, s); err != nil || !stopped {
			return false, err
		}
	}
	if slices.Contains(prefixes, own) && coop.Spec.Database.Tier == coopv1.DatabaseTierShared {
		// Its logical backups upload into that prefix as long as they run: they stop first.
		if stopped, err := r.logicalBackupsStopped(ctx, s); err != nil || !stopped {
			return false, err
		}
	}
	for _, prefix := range prefixes {
		if !strings.HasPrefix(prefix, own) {
			// <region>/<co-op>/ ends in a slash: another co-op's prefix (ride-2/ for ride/)
			// never starts with it.
			return false, fmt.Errorf("refusing to delete %s: not under the co-op's own prefix %s", prefix, own)
		}
		bucket, key, err := logicalbackup.ParseDestination(prefix)
		if err != nil {
			return false, err
		}
		o := logicalbackup.ObjectAt(r.Config.ObjectStore.EndpointURL, bucket, key)
		n, err := logicalbackup.DeletePrefix(ctx, hc, o, string(keys.Data[coopv1.AccessKeyIDKey]), string(keys.Data[coopv1.AccessSecretKeyKey]), r.now)
		if err != nil {
			msg := fmt.Sprintf("removing the tenant: deleting the co-op's objects under %s failed (%v); retrying. To give up, a hub admin removes the finalizer %s and deletes %s by hand",
				prefix, err, coopv1.Finalizer, prefix)
			s.setCondition(coopv1.ConditionReady, metav1.ConditionFalse, coopv1.ReasonDeleting, msg)
			r.Recorder.Eventf(coop, nil, corev1.EventTypeWarning, coopv1.ReasonObjectsLeft, "Delete", "%s", msg)
			log.FromContext(ctx).Info("Failed to delete the co-op's objects", "cooperative", coop.Name, "prefix", prefix, "reason", err.Error())
			return false, nil
		}
		if n > 0 {
			r.Recorder.Eventf(coop, nil, corev1.EventTypeNormal, coopv1.ReasonDeleting, "Delete", "Deleted %d objects under %s", n, prefix)
		}
	}
	return true, nil
}
