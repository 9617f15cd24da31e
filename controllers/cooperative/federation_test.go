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
	"reflect"
	"testing"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/cooperator-dev/cooperator/api/topology"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
)

func TestPlatformReplicas(t *testing.T) {
	for _, tc := range []struct {
		name    string
		comp    coopv1.Component
		primary bool
		want    int32
	}{
		{"primary, template default", coopv1.Component{Name: "api"}, true, 2},
		{"primary, template sets 3", coopv1.Component{Name: "api", Replicas: ptr.To[int32](3)}, true, 3},
		{"standby runs none", coopv1.Component{Name: "api", Replicas: ptr.To[int32](3)}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := platformReplicas(tc.comp, tc.primary); got != tc.want {
				t.Errorf("platformReplicas = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestBuildClusterInTopology(t *testing.T) {
	cfg := hubconfig.Default()
	coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "a"}}
	coop.Spec.Database = coopv1.DatabaseSpec{Tier: coopv1.DatabaseTierDedicated, Instances: 1, Storage: resource.MustParse("10Gi"), PostgresVersion: 17}
	home := cnpgv1.ExternalCluster{Name: "a-eu-west", PluginConfiguration: &cnpgv1.PluginConfiguration{Name: coopv1.BarmanPluginName, Parameters: map[string]string{"barmanObjectName": "a-eu-west", "serverName": "a"}}}
	replica := &cnpgv1.ReplicaClusterConfiguration{Self: "a-eu-south", Primary: "a-eu-west", Source: "a-eu-west"}
	standby := topology.Topology{Replica: replica, ExternalClusters: []cnpgv1.ExternalCluster{home}, BootstrapSource: "a-eu-west", RecoverFrom: "a"}

	for _, tc := range []struct {
		name      string
		plan      DatabasePlan
		topology  topology.Topology
		bootstrap string
		externals []string
		replica   bool
	}{
		{"standalone initdb", DatabasePlan{ServerName: "a", Bootstrap: coopv1.BootstrapInitDB}, topology.Standalone, "initdb", nil, false},
		{"standalone recovery", DatabasePlan{ServerName: "a-2", Bootstrap: coopv1.BootstrapRecovery, RecoverFrom: "a"}, topology.Standalone, "recovery:origin", []string{"origin"}, false},
		{"new standby restores from the home archive", DatabasePlan{ServerName: "a", Bootstrap: coopv1.BootstrapInitDB}, standby, "recovery:a-eu-west", []string{"a-eu-west"}, true},
		{"existing standby keeps its bootstrap", DatabasePlan{ServerName: "a", Bootstrap: coopv1.BootstrapRecovery, RecoverFrom: "a"}, standby, "recovery:a-eu-west", []string{"a-eu-west"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := withTopology(tc.plan, tc.topology)
			c := BuildCluster(coop, nil, &cfg, db)
			got := "initdb"
			if r := c.Spec.Bootstrap.Recovery; r != nil {
				got = "recovery:" + r.Source
			}
			if got != tc.bootstrap {
				t.Errorf("bootstrap %s, want %s", got, tc.bootstrap)
			}
			var names []string
			for _, ec := range c.Spec.ExternalClusters {
				names = append(names, ec.Name)
			}
			if len(names) != len(tc.externals) || (len(names) > 0 && names[0] != tc.externals[0]) {
				t.Errorf("external clusters %v, want %v", names, tc.externals)
			}
			if (c.Spec.ReplicaCluster != nil) != tc.replica {
				t.Errorf("replica %+v", c.Spec.ReplicaCluster)
			}
			if tc.replica && c.Spec.ReplicaCluster == replica {
				t.Error("the Cluster shares the topology's replica configuration instead of a copy")
			}
			if c.Spec.Plugins[0].Parameters["serverName"] != tc.plan.ServerName {
				t.Errorf("archives under %s, want %s", c.Spec.Plugins[0].Parameters["serverName"], tc.plan.ServerName)
			}
		})
	}
}

func TestDedicatedDatabaseObjects(t *testing.T) {
	cfg := hubconfig.Default()
	coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "a"}}
	coop.Spec.Database = coopv1.DatabaseSpec{Tier: coopv1.DatabaseTierDedicated, Instances: 1, Storage: resource.MustParse("10Gi"), PostgresVersion: 17}
	creds := &corev1.Secret{Data: map[string][]byte{coopv1.AccessKeyIDKey: []byte("k"), coopv1.AccessSecretKeyKey: []byte("s")}}
	homeArchive := &barmanv1.ObjectStore{ObjectMeta: metav1.ObjectMeta{Namespace: coop.NamespaceName(), Name: "a-eu-west"}}
	homeCreds := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: coop.NamespaceName(), Name: "a-eu-west-objectstore"}}
	standby := topology.Topology{
		Replica:          &cnpgv1.ReplicaClusterConfiguration{Self: "a-eu-south", Primary: "a-eu-west", Source: "a-eu-west"},
		ExternalClusters: []cnpgv1.ExternalCluster{{Name: "a-eu-west", PluginConfiguration: &cnpgv1.PluginConfiguration{Name: coopv1.BarmanPluginName, Parameters: map[string]string{"barmanObjectName": "a-eu-west", "serverName": "a"}}}},
		BootstrapSource:  "a-eu-west", RecoverFrom: "a",
		Objects: []client.Object{homeCreds, homeArchive},
	}
	for _, tc := range []struct {
		name     string
		topology topology.Topology
		want     []string
	}{
		{"standalone", topology.Standalone, []string{"Secret/cooperator-objectstore", "ObjectStore/a-backups", "Cluster/a"}},
		{"a standby: the home archive before the Cluster that restores from it", standby,
			[]string{"Secret/cooperator-objectstore", "ObjectStore/a-backups", "Secret/a-eu-west-objectstore", "ObjectStore/a-eu-west", "Cluster/a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := withTopology(DatabasePlan{ServerName: "a", Bootstrap: coopv1.BootstrapInitDB}, tc.topology)
			var got []string
			stores := map[string]bool{}
			for _, o := range DedicatedDatabaseObjects(coop, creds, nil, &cfg, db) {
				switch o := o.(type) {
				case *corev1.Secret:
					got = append(got, "Secret/"+o.Name)
				case *barmanv1.ObjectStore:
					got = append(got, "ObjectStore/"+o.Name)
					stores[o.Name] = true
				case *cnpgv1.Cluster:
					got = append(got, "Cluster/"+o.Name)
					named := []string{o.Spec.Plugins[0].Parameters["barmanObjectName"]}
					for _, ec := range o.Spec.ExternalClusters {
						named = append(named, ec.PluginConfiguration.Parameters["barmanObjectName"])
					}
					for _, n := range named {
						if !stores[n] {
							t.Errorf("the Cluster names ObjectStore %s, which is not applied before it", n)
						}
					}
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("applied in the order %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTopologyWithoutFederation(t *testing.T) {
	r := &Reconciler{}
	standby := &coopv1.Cooperative{Spec: coopv1.CooperativeSpec{Standby: &coopv1.StandbySpec{HomeRegion: "eu-west"}}}
	got, err := r.topology(context.Background(), standby)
	if err != nil || !got.Refused || got.Message == "" {
		t.Errorf("a hub without federation must refuse a standby, got %+v, %v", got, err)
	}
	got, err = r.topology(context.Background(), &coopv1.Cooperative{})
	if err != nil || got.Refused || !got.Primary {
		t.Errorf("a co-op of a hub without federation is its own primary, got %+v, %v", got, err)
	}
}

func TestEffectivePlan(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := coopv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	peer := &coopv1.FederationPeer{ObjectMeta: metav1.ObjectMeta{Name: "west"}, Spec: coopv1.FederationPeerSpec{Region: "eu-west", Accept: coopv1.FederationAccept{Standbys: true, MaxCooperatives: 1, Plan: "small"}}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(peer).Build()
	for _, tc := range []struct {
		name string
		coop *coopv1.Cooperative
		want string
	}{
		{"a home co-op: its own plan", &coopv1.Cooperative{Spec: coopv1.CooperativeSpec{Plan: "medium"}}, "medium"},
		{"a standby: the plan its peer is accepted with", &coopv1.Cooperative{Spec: coopv1.CooperativeSpec{Plan: "medium", Standby: &coopv1.StandbySpec{HomeRegion: "eu-west"}}}, "small"},
		{"a standby of an undeclared region: its spec", &coopv1.Cooperative{Spec: coopv1.CooperativeSpec{Plan: "medium", Standby: &coopv1.StandbySpec{HomeRegion: "us-east"}}}, "medium"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := effectivePlan(context.Background(), c, tc.coop)
			if err != nil || got != tc.want {
				t.Errorf("effectivePlan = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestPeerOfRegion(t *testing.T) {
	deleting := metav1.Now()
	// Not in order of name: a List from the cache comes in no particular order.
	peers := []coopv1.FederationPeer{
		{ObjectMeta: metav1.ObjectMeta{Name: "south-c"}, Spec: coopv1.FederationPeerSpec{Region: "eu-south"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "north"}, Spec: coopv1.FederationPeerSpec{Region: "eu-north"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "south-a", DeletionTimestamp: &deleting}, Spec: coopv1.FederationPeerSpec{Region: "eu-south"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "south-b"}, Spec: coopv1.FederationPeerSpec{Region: "eu-south"}},
	}
	if p := topology.PeerOfRegion(peers, "eu-south"); p == nil || p.Name != "south-b" {
		t.Errorf("want south-b (first by name, not being deleted), got %v", p)
	}
	if p := topology.PeerOfRegion(peers, "us-east"); p != nil {
		t.Errorf("no peer of the region, got %s", p.Name)
	}
}
