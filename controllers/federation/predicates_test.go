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

package federation

import (
	"testing"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

func TestClusterChanged(t *testing.T) {
	base := &cnpgv1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: "fairride", Namespace: "coop-fairride", Labels: map[string]string{coopv1.LabelCooperative: "fairride"}, Generation: 1},
		Spec:       cnpgv1.ClusterSpec{Instances: 1},
		Status: cnpgv1.ClusterStatus{
			Phase: cnpgv1.PhaseHealthy, TimelineID: 1, Instances: 1, ReadyInstances: 1,
			CurrentPrimary: "fairride-1", LastPromotionToken: "t1",
		},
	}
	now := metav1.Now()
	for _, tc := range []struct {
		name   string
		change func(c *cnpgv1.Cluster)
		want   bool
	}{
		// What the federation reads.
		{"demotion token published", func(c *cnpgv1.Cluster) { c.Status.DemotionToken = "{...}" }, true},
		{"promotion token verified", func(c *cnpgv1.Cluster) { c.Status.LastPromotionToken = "t2" }, true},
		{"new timeline", func(c *cnpgv1.Cluster) { c.Status.TimelineID = 2 }, true},
		{"phase", func(c *cnpgv1.Cluster) { c.Status.Phase = cnpgv1.PhaseReplicaClusterPromotion }, true},
		{"being deleted", func(c *cnpgv1.Cluster) { c.DeletionTimestamp = &now }, true},
		{"co-op label", func(c *cnpgv1.Cluster) { c.Labels[coopv1.LabelCooperative] = "other" }, true},
		// What CloudNativePG writes often, and the federation does not read.
		{"nothing", func(*cnpgv1.Cluster) {}, false},
		{"resource version", func(c *cnpgv1.Cluster) { c.ResourceVersion = "42" }, false},
		{"ready instances", func(c *cnpgv1.Cluster) { c.Status.ReadyInstances = 0 }, false},
		{"instance names", func(c *cnpgv1.Cluster) { c.Status.InstanceNames = []string{"fairride-1"} }, false},
		{"WAL archiving time", func(c *cnpgv1.Cluster) {
			c.Status.Conditions = []metav1.Condition{{Type: string(cnpgv1.ConditionContinuousArchiving), Status: metav1.ConditionTrue, LastTransitionTime: now}}
		}, false},
		{"current primary timestamp", func(c *cnpgv1.Cluster) { c.Status.CurrentPrimaryTimestamp = now.Format("2006-01-02T15:04:05Z") }, false},
		{"target primary timestamp", func(c *cnpgv1.Cluster) { c.Status.TargetPrimaryTimestamp = now.Format("2006-01-02T15:04:05Z") }, false},
		{"certificates", func(c *cnpgv1.Cluster) { c.Status.Certificates.Expirations = map[string]string{"ca": "later"} }, false},
		{"instances status", func(c *cnpgv1.Cluster) {
			c.Status.InstancesStatus = map[cnpgv1.PodStatus][]string{cnpgv1.PodHealthy: {"fairride-1"}}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := base.DeepCopy()
			tc.change(n)
			if got := ClusterChanged().Update(event.UpdateEvent{ObjectOld: base.DeepCopy(), ObjectNew: n}); got != tc.want {
				t.Errorf("Update: got %t, want %t", got, tc.want)
			}
		})
	}
	if !ClusterChanged().Create(event.CreateEvent{Object: base.DeepCopy()}) {
		t.Error("a Cluster created does not wake the co-op")
	}
	if !ClusterChanged().Delete(event.DeleteEvent{Object: base.DeepCopy()}) {
		t.Error("a Cluster deleted does not wake the co-op")
	}
}
