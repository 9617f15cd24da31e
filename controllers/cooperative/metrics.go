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

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/statemetrics"
)

// The co-ops' state as metrics, computed at each scrape from the manager's cache, as
// kube-state-metrics does: there is nothing to keep in step with the objects, and a co-op
// that is deleted is gone from the next scrape. The alerts and dashboards of
// charts/cooperator read them.
var (
	readyDesc = prometheus.NewDesc("cooperator_cooperative_ready",
		"1 when the co-op's Ready condition is True, 0 otherwise.", []string{"cooperative"}, nil)
	conditionDesc = prometheus.NewDesc("cooperator_cooperative_condition",
		"1 when the co-op's condition of this type is True, 0 when it is False or Unknown; one series per condition in its status, with its reason (one of the operator's).",
		[]string{"cooperative", "condition", "reason"}, nil)
	archivingDesc = prometheus.NewDesc("cooperator_database_continuous_archiving",
		"1 when the co-op's CloudNativePG Cluster reports WAL archiving working (its ContinuousArchiving condition True), 0 when it reports it failing; absent before the Cluster reports either.",
		[]string{"cooperative", "cluster"}, nil)
	sharedArchivingDesc = prometheus.NewDesc("cooperator_shared_cluster_continuous_archiving",
		"1 when the hub's shared CloudNativePG Cluster (of every shared-tier co-op) reports WAL archiving working, 0 when it reports it failing; absent before it reports either.",
		[]string{"namespace", "cluster"}, nil)
	// A timestamp, not an age: Prometheus computes the age (time() - metric). Read from
	// status, it survives the operator's restarts and goes with the co-op.
	backupLastCompletedDesc = prometheus.NewDesc("cooperator_backup_last_completed_timestamp_seconds",
		"Unix time of the last completed base backup holding the co-op's database (its own Cluster's, or the hub's shared Cluster's for the shared tier), as its status.lastBackup records it; absent before the first, and while the co-op is suspended (the operator then records none).",
		[]string{"cooperative"}, nil)
	deletionDesc = prometheus.NewDesc("cooperator_cooperative_deletion_timestamp_seconds",
		"Unix time the co-op's deletion was asked (its metadata.deletionTimestamp), while a finalizer still holds it: the operator's (a final backup, its namespace) or the federation's (the standbys at peers); absent otherwise.",
		[]string{"cooperative"}, nil)
)

// coopState reads the manager's cache once SetupWithManager gave it.
var coopState = statemetrics.MustRegister(collectCooperatives, readyDesc, conditionDesc, archivingDesc, sharedArchivingDesc, backupLastCompletedDesc, deletionDesc)

// collectCooperatives reads the Cooperatives and the co-ops' Clusters.
func collectCooperatives(ctx context.Context, r client.Reader, ch chan<- prometheus.Metric) {
	statemetrics.Each(ctx, r, &coopv1.CooperativeList{}, func(c *coopv1.Cooperative) {
		ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue,
			statemetrics.Bool(meta.IsStatusConditionTrue(c.Status.Conditions, coopv1.ConditionReady)), c.Name)
		for _, cond := range c.Status.Conditions {
			ch <- prometheus.MustNewConstMetric(conditionDesc, prometheus.GaugeValue,
				statemetrics.Bool(cond.Status == metav1.ConditionTrue), c.Name, cond.Type, cond.Reason)
		}
		if t := c.DeletionTimestamp; t != nil {
			ch <- prometheus.MustNewConstMetric(deletionDesc, prometheus.GaugeValue, float64(t.Unix()), c.Name)
		}
		if lb := c.Status.LastBackup; lb != nil && lb.Time != nil && !c.Spec.Suspend {
			ch <- prometheus.MustNewConstMetric(backupLastCompletedDesc, prometheus.GaugeValue, float64(lb.Time.Unix()), c.Name)
		}
	})
	// The operator's Clusters: a co-op's (labelled with it), and the hub's shared one.
	statemetrics.Each(ctx, r, &cnpgv1.ClusterList{}, func(cl *cnpgv1.Cluster) {
		cond := meta.FindStatusCondition(cl.Status.Conditions, string(cnpgv1.ConditionContinuousArchiving))
		if cond == nil || cond.Status == metav1.ConditionUnknown {
			return
		}
		working := statemetrics.Bool(cond.Status == metav1.ConditionTrue)
		if coop, ok := cl.Labels[coopv1.LabelCooperative]; ok {
			ch <- prometheus.MustNewConstMetric(archivingDesc, prometheus.GaugeValue, working, coop, cl.Name)
			return
		}
		ch <- prometheus.MustNewConstMetric(sharedArchivingDesc, prometheus.GaugeValue, working, cl.Namespace, cl.Name)
	}, client.MatchingLabels{coopv1.LabelManagedBy: coopv1.ManagedByValue})
}
