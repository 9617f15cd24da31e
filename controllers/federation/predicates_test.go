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
	"reflect"
	"testing"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

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
		{"no instance ready any more", func(c *cnpgv1.Cluster) { c.Status.ReadyInstances = 0 }, true},
		{"ready instances, some still", func(c *cnpgv1.Cluster) { c.Status.Instances, c.Status.ReadyInstances = 3, 2 }, false},
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

// homeCoop is a home co-op whose status lists standbys at the given peers, in the given states.
func homeCoop(name string, standbys map[string]coopv1.StandbyState) *coopv1.Cooperative {
	c := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if standbys != nil {
		c.Status.Federation = &coopv1.FederationStatus{Role: coopv1.RolePrimary}
		for _, peer := range []string{"north", "south"} {
			if st, ok := standbys[peer]; ok {
				c.Status.Federation.Standbys = append(c.Status.Federation.Standbys, coopv1.PeerStandbyStatus{Peer: peer, State: st})
			}
		}
	}
	return c
}

func refusedStandby(name, home string) *coopv1.Cooperative {
	c := standbyCoop(name, home, "eu-south")
	c.Status.Conditions = []metav1.Condition{{Type: coopv1.ConditionReady, Status: metav1.ConditionFalse, Reason: coopv1.ReasonStandbyRefused}}
	return c
}

func TestCountMirrored(t *testing.T) {
	south := peer("south", "eu-south", coopv1.FederationAccept{Standbys: true, MaxCooperatives: 3})
	coops := []coopv1.Cooperative{
		*homeCoop("a", map[string]coopv1.StandbyState{"south": coopv1.StandbyMirrored}),
		*homeCoop("b", map[string]coopv1.StandbyState{"south": coopv1.StandbyUnreachable, "north": coopv1.StandbyMirrored}),
		*homeCoop("c", nil),
		*standbyCoop("d", "eu-south", "eu-west"),
		*standbyCoop("e", "eu-north", "eu-west"),
		*refusedStandby("f", "eu-south"),
	}
	if to, from := CountMirrored(&south, coops); to != 1 || from != 1 {
		t.Errorf("got to %d, from %d; want to 1 (a; b is unreachable there), from 1 (d; f is refused, e is of another region)", to, from)
	}
}

func TestMirrorsChanged(t *testing.T) {
	mirrored := homeCoop("a", map[string]coopv1.StandbyState{"south": coopv1.StandbyMirrored})
	withSpec := mirrored.DeepCopy()
	withSpec.Spec.DisplayName = "A"
	withSpec.Generation = 2
	resynced := mirrored.DeepCopy()
	now := metav1.Now()
	resynced.Status.Federation.Standbys[0].LastSync = &now
	resynced.Status.Federation.Standbys[0].Role = coopv1.RoleStandby
	resynced.Status.Conditions = []metav1.Condition{{Type: coopv1.ConditionReady, Status: metav1.ConditionTrue, Reason: coopv1.ReasonReady}}
	standby := standbyCoop("s", "eu-west", "eu-south")
	standbyStatus := standby.DeepCopy()
	standbyStatus.Status.Federation = &coopv1.FederationStatus{Role: coopv1.RoleStandby}
	standbyStatus.Status.Conditions = []metav1.Condition{{Type: coopv1.ConditionReady, Status: metav1.ConditionTrue, Reason: coopv1.ReasonReady}}
	for _, tc := range []struct {
		name     string
		old, new *coopv1.Cooperative
		want     bool
	}{
		{"a standby is mirrored", homeCoop("a", map[string]coopv1.StandbyState{"south": coopv1.StandbyWaiting}), mirrored, true},
		{"a standby is no longer mirrored", mirrored, homeCoop("a", map[string]coopv1.StandbyState{"south": coopv1.StandbyUnreachable}), true},
		{"a standby at another peer is mirrored", mirrored, homeCoop("a", map[string]coopv1.StandbyState{"south": coopv1.StandbyMirrored, "north": coopv1.StandbyMirrored}), true},
		{"the co-op stops listing its peer", mirrored, homeCoop("a", nil), true},
		{"a standby kept here is refused", standby, refusedStandby("s", "eu-west"), true},
		{"the spec of a home co-op changes", mirrored, withSpec, false},
		{"a standby is synced again, its role reported, the co-op gets Ready", mirrored, resynced, false},
		{"a standby kept here gets its status", standby, standbyStatus, false},
		{"a co-op without federation changes", homeCoop("c", nil), homeCoop("c", map[string]coopv1.StandbyState{"south": coopv1.StandbyWaiting}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := MirrorsChanged().Update(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}); got != tc.want {
				t.Errorf("got %t, want %t", got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name string
		coop *coopv1.Cooperative
		want bool
	}{
		{"a standby kept here", standby, true},
		{"a co-op mirrored at a peer", mirrored, true},
		{"a co-op without federation", homeCoop("c", nil), false},
		{"a co-op whose standbys wait", homeCoop("a", map[string]coopv1.StandbyState{"south": coopv1.StandbyWaiting}), false},
	} {
		t.Run("create and delete: "+tc.name, func(t *testing.T) {
			if got := MirrorsChanged().Create(event.CreateEvent{Object: tc.coop}); got != tc.want {
				t.Errorf("Create: got %t, want %t", got, tc.want)
			}
			if got := MirrorsChanged().Delete(event.DeleteEvent{Object: tc.coop}); got != tc.want {
				t.Errorf("Delete: got %t, want %t", got, tc.want)
			}
		})
	}
}

func TestPeersCounting(t *testing.T) {
	peers := []coopv1.FederationPeer{
		peer("south", "eu-south", coopv1.FederationAccept{}),
		peer("south-bis", "eu-south", coopv1.FederationAccept{}),
		peer("north", "eu-north", coopv1.FederationAccept{}),
	}
	req := func(names ...string) []reconcile.Request {
		var out []reconcile.Request
		for _, n := range names {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: n}})
		}
		return out
	}
	for _, tc := range []struct {
		name string
		coop *coopv1.Cooperative
		want []reconcile.Request
	}{
		{"a standby: every peer of its home region", standbyCoop("s", "eu-south", "eu-west"), req("south", "south-bis")},
		{"a standby of a region no peer declares", standbyCoop("s", "us-east", "eu-west"), nil},
		{"a home co-op: the peers its status lists", homeCoop("a", map[string]coopv1.StandbyState{"north": coopv1.StandbyMirrored, "south": coopv1.StandbyWaiting}), req("north", "south")},
		{"a home co-op without federation", homeCoop("c", nil), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := PeersCounting(tc.coop, peers); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
