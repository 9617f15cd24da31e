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
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
)

func standbyCoop(name, home string, consented ...string) *coopv1.Cooperative {
	return &coopv1.Cooperative{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{coopv1.LabelMirroredFrom: home}, CreationTimestamp: metav1.Unix(100, 0)},
		Spec: coopv1.CooperativeSpec{Standby: &coopv1.StandbySpec{
			HomeRegion: home, HomeCooperative: name, PrimaryServerName: name, PrimaryRegion: home,
			ObjectStore:      coopv1.StandbyObjectStore{DestinationPath: "s3://b/" + home + "/" + name + "/", SecretName: name + "-objectstore"},
			ConsentedRegions: consented,
		}},
	}
}

func peer(name, region string, accept coopv1.FederationAccept) coopv1.FederationPeer {
	return coopv1.FederationPeer{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: coopv1.FederationPeerSpec{Region: region, Accept: accept}}
}

func TestAdmit(t *testing.T) {
	accepting := peer("west", "eu-west", coopv1.FederationAccept{Standbys: true, MaxCooperatives: 1, Plan: "small"})
	older := standbyCoop("older", "eu-west", "eu-south")
	older.CreationTimestamp = metav1.Unix(50, 0)
	olderUnlisted := standbyCoop("older", "eu-west", "eu-north")
	olderUnlisted.CreationTimestamp = metav1.Unix(50, 0)
	relabel := standbyCoop("a", "eu-west", "eu-south")
	relabel.Labels[coopv1.LabelMirroredFrom] = "us-east"
	renamed := standbyCoop("a", "eu-west", "eu-south")
	renamed.Spec.Standby.HomeCooperative = "b"
	for _, tc := range []struct {
		name    string
		standby *coopv1.Cooperative
		peers   []coopv1.FederationPeer
		others  []coopv1.Cooperative
		refusal string
	}{
		{"accepted from a declared peer that accepts standbys", standbyCoop("a", "eu-west", "eu-south"), []coopv1.FederationPeer{accepting}, nil, ""},
		{"from this hub's own region", standbyCoop("a", "eu-south", "eu-south"), []coopv1.FederationPeer{accepting}, nil, "this hub's own region"},
		{"from an undeclared region", standbyCoop("a", "us-east", "eu-south"), []coopv1.FederationPeer{accepting}, nil, "no FederationPeer of this hub declares region us-east"},
		{"from a peer that accepts no standbys", standbyCoop("a", "eu-west", "eu-south"), []coopv1.FederationPeer{peer("west", "eu-west", coopv1.FederationAccept{})}, nil, "does not accept standbys"},
		{"for a co-op that did not list this hub", standbyCoop("a", "eu-west", "eu-north"), []coopv1.FederationPeer{accepting}, nil, "did not list this hub (region eu-south)"},
		{"with a label naming another region", relabel, []coopv1.FederationPeer{accepting}, nil, "label coop.cooperator.dev/mirrored-from must be eu-west"},
		{"under another name than the home co-op's", renamed, []coopv1.FederationPeer{accepting}, nil, "home co-op's name b"},
		{"beyond maxCooperatives, the older standby first", standbyCoop("a", "eu-west", "eu-south"), []coopv1.FederationPeer{accepting}, []coopv1.Cooperative{*older, *standbyCoop("a", "eu-west", "eu-south")}, "at most 1 standbys"},
		{"a refused standby takes no room", standbyCoop("a", "eu-west", "eu-south"), []coopv1.FederationPeer{accepting}, []coopv1.Cooperative{*olderUnlisted, *standbyCoop("a", "eu-west", "eu-south")}, ""},
		{"the older standby within maxCooperatives", older, []coopv1.FederationPeer{accepting}, []coopv1.Cooperative{*older, *standbyCoop("a", "eu-west", "eu-south")}, ""},
		{"a home co-op is not a standby", &coopv1.Cooperative{}, []coopv1.FederationPeer{accepting}, nil, "not a standby"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Admit(tc.standby, "eu-south", tc.peers, tc.others)
			if tc.refusal == "" && got.Refusal != "" {
				t.Fatalf("refused: %s", got.Refusal)
			}
			if !strings.Contains(got.Refusal, tc.refusal) || (tc.refusal != "" && got.Refusal == "") {
				t.Fatalf("refusal %q, want it to contain %q", got.Refusal, tc.refusal)
			}
			if tc.refusal == "" && got.Peer == nil {
				t.Fatal("accepted without a peer")
			}
		})
	}
}

func TestSetPeerStatus(t *testing.T) {
	now := metav1.Unix(1000, 0)
	info := &Info{Version: "v1.2.3", Region: "eu-south", BackupDestination: "s3://south"}
	for _, tc := range []struct {
		name                     string
		failuresBefore           int32
		contact                  Contact
		reachable, scoped, ready string
		failures                 int32
		message                  string
	}{
		{"scoped and reachable", 3, Contact{Info: info, Time: now}, "True/Contacted", "True/Scoped", "True/Ready", 0, "v1.2.3"},
		{"kubeconfig missing", 0, Contact{KubeconfigErr: errors.New("no Secret"), Time: now}, "False/KubeconfigInvalid", "", "False/KubeconfigInvalid", 1, "no Secret"},
		{"unreachable", 2, Contact{Err: errors.New("connection refused"), Time: now}, "False/Unreachable", "", "False/Unreachable", 3, "(3 attempts in a row): connection refused"},
		{"over-privileged", 0, Contact{Info: info, Excess: []string{"* on *", "create ClusterRoleBindings"}, Time: now}, "True/Contacted", "False/OverPrivileged", "False/OverPrivileged", 0, "they can * on *, create ClusterRoleBindings"},
		{"missing permissions", 0, Contact{Info: info, Missing: []string{"create Cooperatives"}, Time: now}, "True/Contacted", "False/MissingPermissions", "False/MissingPermissions", 0, "cannot create Cooperatives"},
		{"another region", 0, Contact{Info: &Info{Region: "us-east"}, Time: now}, "True/Contacted", "True/Scoped", "False/RegionMismatch", 0, "runs in region us-east"},
		{"no info published", 0, Contact{Time: now}, "True/Contacted", "True/Scoped", "False/OperatorInfoMissing", 0, "publishes no cooperator-info"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &coopv1.FederationPeer{ObjectMeta: metav1.ObjectMeta{Generation: 2}, Spec: coopv1.FederationPeerSpec{Region: "eu-south"}}
			p.Status.ConsecutiveFailures = tc.failuresBefore
			SetPeerStatus(p, tc.contact)
			cond := func(ct string) string {
				c := meta.FindStatusCondition(p.Status.Conditions, ct)
				if c == nil {
					return ""
				}
				if c.ObservedGeneration != 2 {
					t.Errorf("%s observedGeneration %d", ct, c.ObservedGeneration)
				}
				return string(c.Status) + "/" + c.Reason
			}
			if got := cond(coopv1.ConditionReachable); got != tc.reachable {
				t.Errorf("Reachable %s, want %s", got, tc.reachable)
			}
			if got := cond(coopv1.ConditionCredentialsScoped); got != tc.scoped {
				t.Errorf("CredentialsScoped %s, want %s", got, tc.scoped)
			}
			if got := cond(coopv1.ConditionReady); got != tc.ready {
				t.Errorf("Ready %s, want %s", got, tc.ready)
			}
			if p.Status.ConsecutiveFailures != tc.failures {
				t.Errorf("consecutiveFailures %d, want %d", p.Status.ConsecutiveFailures, tc.failures)
			}
			all := ""
			for _, c := range p.Status.Conditions {
				all += c.Message + "\n"
			}
			if !strings.Contains(all, tc.message) {
				t.Errorf("messages %q lack %q", all, tc.message)
			}
			if tc.failures == 0 && (p.Status.LastContact == nil || !p.Status.LastContact.Equal(&now)) {
				t.Errorf("lastContact %v, want %v", p.Status.LastContact, now)
			}
			if PeerReady(p) != (tc.ready == "True/Ready") {
				t.Errorf("PeerReady %v", PeerReady(p))
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		failures int32
		min, max time.Duration
	}{
		{0, 2 * time.Second, 2400 * time.Millisecond},
		{1, 2 * time.Second, 2400 * time.Millisecond},
		{2, 4 * time.Second, 4800 * time.Millisecond},
		{4, 16 * time.Second, 19200 * time.Millisecond},
		{9, 5 * time.Minute, 6 * time.Minute},
		{1000, 5 * time.Minute, 6 * time.Minute},
	} {
		seen := map[time.Duration]bool{}
		for range 50 {
			d := Backoff(tc.failures)
			if d < tc.min || d > tc.max {
				t.Fatalf("Backoff(%d) = %s, want within [%s, %s]", tc.failures, d, tc.min, tc.max)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("Backoff(%d) has no jitter", tc.failures)
		}
	}
}

func TestStandbyTopology(t *testing.T) {
	accepting := peer("west", "eu-west", coopv1.FederationAccept{Standbys: true, MaxCooperatives: 1, Plan: "small"})
	promotedCluster := &cnpgv1.Cluster{Status: cnpgv1.ClusterStatus{LastPromotionToken: "tok"}}
	for _, tc := range []struct {
		name     string
		mutate   func(*coopv1.Cooperative)
		cluster  *cnpgv1.Cluster
		replica  cnpgv1.ReplicaClusterConfiguration
		primary  bool
		failover bool
	}{
		{"follows the home", func(*coopv1.Cooperative) {}, nil,
			cnpgv1.ReplicaClusterConfiguration{Self: "a-eu-south", Primary: "a-eu-west", Source: "a-eu-west"}, false, false},
		{"asked to take over without a token: keeps following", func(c *coopv1.Cooperative) { c.Spec.Standby.PrimaryRegion = "eu-south" }, nil,
			cnpgv1.ReplicaClusterConfiguration{Self: "a-eu-south", Primary: "a-eu-west", Source: "a-eu-west"}, false, false},
		{"with the token: promotes, platform waits", func(c *coopv1.Cooperative) {
			c.Spec.Standby.PrimaryRegion, c.Spec.Standby.PromotionToken = "eu-south", "tok"
		}, &cnpgv1.Cluster{},
			cnpgv1.ReplicaClusterConfiguration{Self: "a-eu-south", Primary: "a-eu-south", Source: "a-eu-west", PromotionToken: "tok"}, false, false},
		{"promoted: platform runs", func(c *coopv1.Cooperative) {
			c.Spec.Standby.PrimaryRegion, c.Spec.Standby.PromotionToken = "eu-south", "tok"
		}, promotedCluster,
			cnpgv1.ReplicaClusterConfiguration{Self: "a-eu-south", Primary: "a-eu-south", Source: "a-eu-west", PromotionToken: "tok"}, true, false},
		{"failover: promotes without a token", func(c *coopv1.Cooperative) {
			c.Annotations = map[string]string{coopv1.AnnotationFailover: coopv1.AcceptDataLoss}
		}, nil,
			cnpgv1.ReplicaClusterConfiguration{Self: "a-eu-south", Primary: "a-eu-south", Source: "a-eu-west"}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := standbyCoop("a", "eu-west", "eu-south")
			tc.mutate(c)
			topo := StandbyTopology(c, "eu-south", &accepting, nil, tc.cluster)
			if *topo.Replica != tc.replica {
				t.Errorf("replica %+v, want %+v", *topo.Replica, tc.replica)
			}
			if topo.Primary != tc.primary {
				t.Errorf("primary %v, want %v", topo.Primary, tc.primary)
			}
			if topo.Plan != "small" || topo.BootstrapSource != "a-eu-west" || topo.RecoverFrom != "a" {
				t.Errorf("plan %q, bootstrap source %q from %q", topo.Plan, topo.BootstrapSource, topo.RecoverFrom)
			}
			if len(topo.ExternalClusters) != 2 || topo.ExternalClusters[0].PluginConfiguration.Parameters["barmanObjectName"] != "a-eu-west" {
				t.Errorf("external clusters %+v", topo.ExternalClusters)
			}
			if len(topo.Objects) != 2 {
				t.Errorf("objects %d, want the home archive's Secret and ObjectStore", len(topo.Objects))
			}
		})
	}
}

func TestHomeTopology(t *testing.T) {
	hub := hubconfig.Default()
	hub.Region = "eu-west"
	south := HomePeer{Name: "south", Region: "eu-south", Archive: "s3://south/eu-south/a/", Ready: true}
	home := func(primary string) *coopv1.Cooperative {
		c := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "a"}}
		c.Spec.Federation = coopv1.FederationSpec{Peers: []coopv1.FederationPeerRef{{Name: "south"}}, Primary: primary}
		c.Status.Database.ServerName = "a"
		return c
	}
	for _, tc := range []struct {
		name    string
		coop    *coopv1.Cooperative
		peers   []HomePeer
		cluster *cnpgv1.Cluster
		replica *cnpgv1.ReplicaClusterConfiguration
		primary bool
	}{
		{"no peers: standalone", &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, nil, nil, nil, true},
		{"peer archive unknown: standalone", home(""), []HomePeer{{Name: "south", Region: "eu-south"}}, nil, nil, true},
		{"primary here, in a topology", home(""), []HomePeer{south}, nil,
			&cnpgv1.ReplicaClusterConfiguration{Self: "a-eu-west", Primary: "a-eu-west", Source: "a-eu-south"}, true},
		{"switched over: demoted, following the peer", home("south"), []HomePeer{south}, nil,
			&cnpgv1.ReplicaClusterConfiguration{Self: "a-eu-west", Primary: "a-eu-south", Source: "a-eu-south"}, false},
		{"primary at a peer this hub does not know: runs nothing", home("north"), []HomePeer{south}, nil, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topo := HomeTopology(tc.coop, &hub, tc.peers, tc.cluster)
			if topo.Primary != tc.primary {
				t.Errorf("primary %v, want %v", topo.Primary, tc.primary)
			}
			switch {
			case tc.replica == nil && topo.Replica != nil:
				t.Errorf("replica %+v, want none", *topo.Replica)
			case tc.replica != nil && (topo.Replica == nil || *topo.Replica != *tc.replica):
				t.Errorf("replica %+v, want %+v", topo.Replica, *tc.replica)
			}
		})
	}
	t.Run("back home: promotes with the peer's demotion token", func(t *testing.T) {
		c := home("")
		c.Status.Federation = &coopv1.FederationStatus{LastSwitchover: &coopv1.SwitchoverRecord{From: "eu-west", To: "eu-south"}}
		topo := HomeTopology(c, &hub, []HomePeer{south}, &cnpgv1.Cluster{})
		want := cnpgv1.ReplicaClusterConfiguration{Self: "a-eu-west", Primary: "a-eu-south", Source: "a-eu-south"}
		if topo.Replica == nil || *topo.Replica != want || topo.Primary {
			t.Fatalf("replica %+v primary %v: without the peer's token, keep following it", topo.Replica, topo.Primary)
		}
		p := south
		p.DemotionToken = "back"
		topo = HomeTopology(c, &hub, []HomePeer{p}, &cnpgv1.Cluster{})
		if topo.Replica == nil || topo.Replica.PromotionToken != "back" || topo.Primary {
			t.Fatalf("replica %+v primary %v: want the token and the platform waiting", topo.Replica, topo.Primary)
		}
		topo = HomeTopology(c, &hub, []HomePeer{p}, &cnpgv1.Cluster{Status: cnpgv1.ClusterStatus{LastPromotionToken: "back"}})
		if !topo.Primary {
			t.Fatal("promoted with the token, the platform should run")
		}
	})

	// The home Cluster as a switchover to south left it: following south's copy.
	demoted := func() *cnpgv1.Cluster {
		return &cnpgv1.Cluster{Spec: cnpgv1.ClusterSpec{
			ReplicaCluster: &cnpgv1.ReplicaClusterConfiguration{Self: "a-eu-west", Primary: "a-eu-south", Source: "a-eu-south"},
			ExternalClusters: []cnpgv1.ExternalCluster{
				{Name: "origin"}, {Name: "a-eu-west"}, {Name: "a-eu-south"},
			},
		}}
	}
	following := cnpgv1.ReplicaClusterConfiguration{Self: "a-eu-west", Primary: "a-eu-south", Source: "a-eu-south"}
	t.Run("back home before the switchover was recorded: waits for the token of the copy it follows", func(t *testing.T) {
		c := home("") // no LastSwitchover yet
		topo := HomeTopology(c, &hub, []HomePeer{south}, demoted())
		if topo.Primary || topo.Replica == nil || *topo.Replica != following {
			t.Fatalf("replica %+v primary %v: want it to keep following south until its token", topo.Replica, topo.Primary)
		}
		p := south
		p.DemotionToken = "back"
		topo = HomeTopology(c, &hub, []HomePeer{p}, demoted())
		if topo.Primary || topo.Replica == nil || topo.Replica.PromotionToken != "back" || topo.Replica.Primary != "a-eu-west" {
			t.Fatalf("replica %+v primary %v: want promotion with south's token", topo.Replica, topo.Primary)
		}
	})
	for _, tc := range []struct {
		name  string
		coop  *coopv1.Cooperative
		peers []HomePeer
	}{
		{"the peer and the primary dropped at once", &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, nil},
		{"the peer no longer declared by the hub", home("south"), nil},
		{"the primary named at a peer the hub does not know", home("north"), []HomePeer{south}},
		{"the primary cleared, the peer's archive unknown", home(""), []HomePeer{{Name: "south", Region: "eu-south"}}},
	} {
		t.Run("demoted, "+tc.name+": keeps following, never promotes without a token", func(t *testing.T) {
			topo := HomeTopology(tc.coop, &hub, tc.peers, demoted())
			if topo.Primary || topo.Replica == nil || *topo.Replica != following {
				t.Fatalf("replica %+v primary %v: want the Cluster to keep following a-eu-south", topo.Replica, topo.Primary)
			}
			var names []string
			for _, ec := range topo.ExternalClusters {
				names = append(names, ec.Name)
			}
			if !slices.Equal(names, []string{"a-eu-west", "a-eu-south"}) {
				t.Errorf("external clusters %v: want the topology's own, as applied", names)
			}
			if !strings.Contains(topo.Message, "promoted only with its demotion token") {
				t.Errorf("message %q", topo.Message)
			}
		})
	}
	t.Run("asked to follow the copy it follows, its archive unknown: a standby as asked, not held", func(t *testing.T) {
		topo := HomeTopology(home("south"), &hub, []HomePeer{{Name: "south", Region: "eu-south"}}, demoted())
		if topo.Primary || topo.Replica == nil || *topo.Replica != following || topo.Message != "" {
			t.Fatalf("replica %+v primary %v message %q: want it to keep following, not held", topo.Replica, topo.Primary, topo.Message)
		}
	})
	north := HomePeer{Name: "north", Region: "eu-north", Archive: "s3://north/eu-north/a/", Ready: true}
	t.Run("back home with two peers: replays the archive of the copy that held the primary", func(t *testing.T) {
		c := home("")
		c.Spec.Federation.Peers = []coopv1.FederationPeerRef{{Name: "north"}, {Name: "south"}}
		p := south
		p.DemotionToken = "back"
		want := cnpgv1.ReplicaClusterConfiguration{Self: "a-eu-west", Primary: "a-eu-west", Source: "a-eu-south", PromotionToken: "back"}
		topo := HomeTopology(c, &hub, []HomePeer{north, p}, demoted())
		if topo.Primary || topo.Replica == nil || *topo.Replica != want {
			t.Fatalf("replica %+v primary %v, want %+v: north's archive never holds south's last WAL", topo.Replica, topo.Primary, want)
		}
	})
	t.Run("from one peer to another: home first, with the token of the copy that holds the primary", func(t *testing.T) {
		c := home("north")
		c.Spec.Federation.Peers = []coopv1.FederationPeerRef{{Name: "north"}, {Name: "south"}}
		peers := []HomePeer{north, south}
		if region, via, _ := primaryStep(c, &hub, peers, demoted()); region != "eu-west" || via != "eu-north" {
			t.Fatalf("step %q via %q, want eu-west via eu-north", region, via)
		}
		// south has not demoted yet: keep following it.
		topo := HomeTopology(c, &hub, peers, demoted())
		if topo.Primary || topo.Replica == nil || *topo.Replica != following || topo.Message != "" {
			t.Fatalf("replica %+v primary %v message %q: want it to keep following south, not held", topo.Replica, topo.Primary, topo.Message)
		}
		// south demoted: promote with its token, never the home's own stale one.
		peers[1].DemotionToken = "south-demoted"
		stale := demoted()
		stale.Status.DemotionToken = "west-demoted-long-ago"
		want := cnpgv1.ReplicaClusterConfiguration{Self: "a-eu-west", Primary: "a-eu-west", Source: "a-eu-south", PromotionToken: "south-demoted"}
		if topo = HomeTopology(c, &hub, peers, stale); topo.Primary || topo.Replica == nil || *topo.Replica != want {
			t.Fatalf("replica %+v primary %v, want %+v", topo.Replica, topo.Primary, want)
		}
		// Promoted, before the switchover back is recorded: the home holds it.
		home := stale.DeepCopy()
		home.Spec.ReplicaCluster = want.DeepCopy()
		home.Status.LastPromotionToken = "south-demoted"
		c.Status.Federation = &coopv1.FederationStatus{LastSwitchover: &coopv1.SwitchoverRecord{From: "eu-west", To: "eu-south"}}
		if topo = HomeTopology(c, &hub, peers, home); !topo.Primary || topo.Replica == nil || *topo.Replica != want {
			t.Fatalf("replica %+v primary %v, want it promoted with %+v", topo.Replica, topo.Primary, want)
		}
		// Recorded: on to north, which the home now follows once demoted.
		c.Status.Federation.LastSwitchover = &coopv1.SwitchoverRecord{From: "eu-south", To: "eu-west"}
		if region, via, _ := primaryStep(c, &hub, peers, home); region != "eu-north" || via != "" {
			t.Fatalf("step %q via %q, want eu-north directly", region, via)
		}
		want = cnpgv1.ReplicaClusterConfiguration{Self: "a-eu-west", Primary: "a-eu-north", Source: "a-eu-north"}
		if topo = HomeTopology(c, &hub, peers, home); topo.Primary || topo.Replica == nil || *topo.Replica != want {
			t.Fatalf("replica %+v primary %v, want %+v", topo.Replica, topo.Primary, want)
		}
	})
	// The home Cluster as the switchback left it: asked to promote with south's token,
	// which CloudNativePG has not verified yet.
	promoting := func() *cnpgv1.Cluster {
		c := demoted()
		c.Spec.ReplicaCluster = &cnpgv1.ReplicaClusterConfiguration{Self: "a-eu-west", Primary: "a-eu-west", Source: "a-eu-south", PromotionToken: "south-demoted"}
		return c
	}
	inFlight := cnpgv1.ReplicaClusterConfiguration{Self: "a-eu-west", Primary: "a-eu-west", Source: "a-eu-south", PromotionToken: "south-demoted"}
	t.Run("a promotion in flight, no switchover recorded: keeps south's token", func(t *testing.T) {
		p := south
		p.DemotionToken = "south-demoted"
		topo := HomeTopology(home(""), &hub, []HomePeer{p}, promoting())
		if topo.Primary || topo.Replica == nil || *topo.Replica != inFlight {
			t.Fatalf("replica %+v primary %v: want the promotion kept with south's token (without it, CloudNativePG promotes before replaying south's last WAL)", topo.Replica, topo.Primary)
		}
	})
	t.Run("a promotion in flight, then asked at north: the promotion goes on first", func(t *testing.T) {
		c := home("north")
		c.Spec.Federation.Peers = []coopv1.FederationPeerRef{{Name: "north"}, {Name: "south"}}
		p := south
		p.DemotionToken = "south-demoted"
		if region, via, _ := primaryStep(c, &hub, []HomePeer{north, p}, promoting()); region != "eu-west" || via != "eu-north" {
			t.Fatalf("step %q via %q: want the home first, via eu-north", region, via)
		}
		topo := HomeTopology(c, &hub, []HomePeer{north, p}, promoting())
		if topo.Primary || topo.Replica == nil || *topo.Replica != inFlight {
			t.Fatalf("replica %+v primary %v: want the promotion kept", topo.Replica, topo.Primary)
		}
		// south dropped meanwhile: held as applied, still promoting with south's token.
		c.Spec.Federation.Peers = []coopv1.FederationPeerRef{{Name: "north"}}
		topo = HomeTopology(c, &hub, []HomePeer{north}, promoting())
		if topo.Primary || topo.Replica == nil || *topo.Replica != inFlight || topo.Message == "" {
			t.Fatalf("replica %+v primary %v message %q: want it held as applied", topo.Replica, topo.Primary, topo.Message)
		}
	})
	t.Run("from one peer to another, the first one no longer declared: held, not promoted", func(t *testing.T) {
		c := home("north")
		c.Spec.Federation.Peers = []coopv1.FederationPeerRef{{Name: "north"}, {Name: "south"}}
		if region, via, _ := primaryStep(c, &hub, []HomePeer{north}, demoted()); region != "eu-north" || via != "" {
			t.Fatalf("step %q via %q: south unknown here, nothing to come home from", region, via)
		}
		// Following north instead would hand north the home's own stale token.
		topo := HomeTopology(c, &hub, []HomePeer{north}, demoted())
		if topo.Primary || topo.Replica == nil || *topo.Replica != following || !strings.Contains(topo.Message, "promoted only with its demotion token") {
			t.Fatalf("replica %+v primary %v message %q: want it held, following south", topo.Replica, topo.Primary, topo.Message)
		}
	})
	t.Run("a failover to the home promotes it without the token", func(t *testing.T) {
		failover := func(c *coopv1.Cooperative) *coopv1.Cooperative {
			c.Annotations = map[string]string{coopv1.AnnotationFailover: coopv1.AcceptDataLoss}
			return c
		}
		alone := failover(&coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "a"}})
		topo := HomeTopology(alone, &hub, nil, demoted())
		if topo.Primary || topo.Replica != nil {
			t.Fatalf("no peer listed: replica %+v primary %v, want standalone, primary once applied", topo.Replica, topo.Primary)
		}
		if topo = HomeTopology(alone, &hub, nil, &cnpgv1.Cluster{}); !topo.Primary {
			t.Fatal("applied: the home holds the primary")
		}
		c := failover(home(""))
		c.Status.Federation = &coopv1.FederationStatus{LastSwitchover: &coopv1.SwitchoverRecord{From: "eu-west", To: "eu-south"}}
		want := cnpgv1.ReplicaClusterConfiguration{Self: "a-eu-west", Primary: "a-eu-west", Source: "a-eu-south"}
		topo = HomeTopology(c, &hub, []HomePeer{south}, demoted())
		if topo.Primary || topo.Replica == nil || *topo.Replica != want {
			t.Fatalf("peer listed: replica %+v primary %v, want %+v, primary once applied", topo.Replica, topo.Primary, want)
		}
		// Applied, it stays promoted while the annotation is there, although the record
		// still says the switchover went to south and south published no token.
		promoted := demoted()
		promoted.Spec.ReplicaCluster = want.DeepCopy()
		topo = HomeTopology(c, &hub, []HomePeer{south}, promoted)
		if !topo.Primary || topo.Replica == nil || *topo.Replica != want {
			t.Fatalf("applied: replica %+v primary %v, want it to stay %+v", topo.Replica, topo.Primary, want)
		}
		topo = HomeTopology(failover(home("south")), &hub, []HomePeer{south}, demoted())
		if topo.Primary || topo.Replica == nil || *topo.Replica != following {
			t.Fatalf("primary still asked at south: replica %+v primary %v, want it to keep following", topo.Replica, topo.Primary)
		}
	})
}

// readyReplica is a standby's Cluster as CloudNativePG reports it once restored from the
// home archive and replaying it: healthy, an instance ready, on a timeline.
func readyReplica() *cnpgv1.Cluster {
	c := notRestored()
	c.Status = cnpgv1.ClusterStatus{Phase: cnpgv1.PhaseHealthy, Instances: 1, ReadyInstances: 1,
		InstancesReportedState: map[cnpgv1.PodName]cnpgv1.InstanceReportedState{"a-1": {TimeLineID: 1}}}
	return c
}

// notRestored is a standby's Cluster as the operator wrote it, before CloudNativePG reported
// anything of it.
func notRestored() *cnpgv1.Cluster {
	return &cnpgv1.Cluster{Spec: cnpgv1.ClusterSpec{ReplicaCluster: &cnpgv1.ReplicaClusterConfiguration{Self: "a-eu-south", Primary: "a-eu-west", Source: "a-eu-west"}}}
}

func TestStandbyStatus(t *testing.T) {
	now := metav1.Unix(2000, 0)
	for _, tc := range []struct {
		name       string
		mutate     func(*coopv1.Cooperative)
		cluster    *cnpgv1.Cluster
		old        coopv1.FederationStatus
		failover   bool
		role       coopv1.FederationRole
		switchover string
	}{
		{"following", func(*coopv1.Cooperative) {}, readyReplica(), coopv1.FederationStatus{}, false, coopv1.RoleStandby, ""},
		{"no replica Cluster yet", func(*coopv1.Cooperative) {}, nil, coopv1.FederationStatus{}, false, "", ""},
		{"a replica Cluster not restored yet", func(*coopv1.Cooperative) {}, notRestored(), coopv1.FederationStatus{}, false, "", ""},
		{"a replica Cluster no longer healthy", func(*coopv1.Cooperative) {}, func() *cnpgv1.Cluster {
			c := readyReplica()
			c.Status.Phase = "Waiting for the instances to become active"
			return c
		}(), coopv1.FederationStatus{Role: coopv1.RoleStandby}, false, "", ""},
		{"a Cluster that is no replica", func(*coopv1.Cooperative) {}, func() *cnpgv1.Cluster {
			c := readyReplica()
			c.Spec.ReplicaCluster = nil
			return c
		}(), coopv1.FederationStatus{}, false, "", ""},
		{"asked to promote", func(c *coopv1.Cooperative) { c.Spec.Standby.PrimaryRegion = "eu-south" }, &cnpgv1.Cluster{}, coopv1.FederationStatus{Role: coopv1.RoleStandby}, false, coopv1.RolePromoting, ""},
		{"promoted with the token", func(c *coopv1.Cooperative) {
			c.Spec.Standby.PrimaryRegion, c.Spec.Standby.PromotionToken = "eu-south", "tok"
		}, &cnpgv1.Cluster{Status: cnpgv1.ClusterStatus{LastPromotionToken: "tok"}}, coopv1.FederationStatus{Role: coopv1.RolePromoting}, false, coopv1.RolePrimary, "eu-west>eu-south"},
		{"failover", func(*coopv1.Cooperative) {}, nil, coopv1.FederationStatus{Role: coopv1.RoleStandby}, true, coopv1.RolePrimary, "eu-west>eu-south!"},
		{"asked back, not demoted yet", func(*coopv1.Cooperative) {}, &cnpgv1.Cluster{}, coopv1.FederationStatus{Role: coopv1.RolePrimary}, false, coopv1.RoleDemoting, ""},
		{"demoted", func(*coopv1.Cooperative) {}, &cnpgv1.Cluster{Status: cnpgv1.ClusterStatus{DemotionToken: "d"}}, coopv1.FederationStatus{Role: coopv1.RoleDemoting}, false, coopv1.RoleStandby, "eu-south>eu-west"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := standbyCoop("a", "eu-west", "eu-south")
			tc.mutate(c)
			fed := StandbyStatus(c, "eu-south", tc.cluster, &tc.old, tc.failover, now)
			if fed.Role != tc.role {
				t.Errorf("role %s, want %s", fed.Role, tc.role)
			}
			got := ""
			if s := fed.LastSwitchover; s != nil {
				got = s.From + ">" + s.To
				if s.WithoutToken {
					got += "!"
				}
			}
			if got != tc.switchover {
				t.Errorf("switchover %q, want %q", got, tc.switchover)
			}
			if tc.failover && !strings.Contains(fed.Message, "WAL the home had not archived is lost") {
				t.Errorf("failover message %q", fed.Message)
			}
		})
	}
}

func TestBuildStandby(t *testing.T) {
	hub := hubconfig.Default()
	hub.Region, hub.ObjectStore.DestinationPath = "eu-west", "s3://west"
	c := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "a"}}
	c.Spec.Plan = "medium"
	c.Spec.Admins = []coopv1.Subject{{Kind: "Group", Name: "a-admins"}}
	c.Spec.Federation = coopv1.FederationSpec{Peers: []coopv1.FederationPeerRef{{Name: "south"}, {Name: "north"}}, Primary: "south"}
	c.Spec.DeletionPolicy = coopv1.DeletionPolicyRetain
	c.Status.Database.ServerName = "a-2"

	sb := BuildStandby(c, &hub, "eu-south", []string{"eu-south", "eu-north"}, "eu-south", "tok")
	if sb.Name != "a" || sb.Labels[coopv1.LabelMirroredFrom] != "eu-west" {
		t.Errorf("metadata %+v", sb.ObjectMeta)
	}
	if len(sb.Spec.Admins) != 0 || len(sb.Spec.Federation.Peers) != 0 || sb.Spec.Federation.Primary != "" {
		t.Errorf("admins %v and federation %v must not travel", sb.Spec.Admins, sb.Spec.Federation)
	}
	want := coopv1.StandbySpec{
		HomeRegion: "eu-west", HomeCooperative: "a", PrimaryServerName: "a-2", PrimaryRegion: "eu-south", PromotionToken: "tok",
		ObjectStore:      coopv1.StandbyObjectStore{DestinationPath: "s3://west/eu-west/a/", SecretName: "a-objectstore"},
		ConsentedRegions: []string{"eu-south", "eu-north"},
	}
	if !equalStandby(*sb.Spec.Standby, want) {
		t.Errorf("standby %+v, want %+v", *sb.Spec.Standby, want)
	}
	if sb.Spec.DeletionPolicy != coopv1.DeletionPolicyRetain {
		t.Error("the copy that holds the primary keeps its data")
	}
	other := BuildStandby(c, &hub, "eu-north", []string{"eu-south", "eu-north"}, "eu-south", "tok")
	if other.Spec.Standby.PromotionToken != "" || other.Spec.DeletionPolicy != coopv1.DeletionPolicyDelete {
		t.Errorf("a peer that does not take over gets no token (%q) and no data to keep (%s)", other.Spec.Standby.PromotionToken, other.Spec.DeletionPolicy)
	}
	if c.Spec.Admins == nil || len(c.Spec.Federation.Peers) != 2 {
		t.Error("BuildStandby changed the home co-op")
	}
	// A schedule and a retention this hub granted beyond a co-op's limits reach the peer
	// within them, as the peer holds every standby; within, they travel as they are.
	c.Spec.Backup = coopv1.BackupSpec{Schedule: "0 */10 * * * *", Retention: "12m"}
	if got := BuildStandby(c, &hub, "eu-south", nil, "eu-west", "").Spec.Backup; got != (coopv1.BackupSpec{Schedule: "0 0 * * * *", Retention: "90d"}) {
		t.Errorf("backup of the standby %+v, want hourly and 90d", got)
	}
	if msg := StandbyBackupMessage(c); !strings.Contains(msg, `backup.retention "12m" is kept 90d`) || !strings.Contains(msg, "backed up hourly") {
		t.Errorf("message at home %q", msg)
	}
	c.Spec.Backup = coopv1.BackupSpec{Schedule: "0 0 3 * * *", Retention: "30d"}
	if got := BuildStandby(c, &hub, "eu-south", nil, "eu-west", "").Spec.Backup; got != c.Spec.Backup || StandbyBackupMessage(c) != "" {
		t.Errorf("backup within the limits %+v, message %q", got, StandbyBackupMessage(c))
	}
}

func equalStandby(a, b coopv1.StandbySpec) bool { return equality.Semantic.DeepEqual(a, b) }

func TestFederationCondition(t *testing.T) {
	home := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "a", Generation: 4}}
	sb := standbyCoop("a", "eu-west", "eu-south")
	suspended := home.DeepCopy()
	suspended.Spec.Suspend = true
	suspendedStandby := sb.DeepCopy()
	suspendedStandby.Spec.Suspend = true
	releasedSuspended := suspendedStandby.DeepCopy()
	releasedSuspended.Spec.Standby.Release = &coopv1.StandbyRelease{}
	toNorth := home.DeepCopy()
	toNorth.Spec.Federation.Primary = "north"
	hub := hubconfig.Default()
	for _, tc := range []struct {
		name string
		coop *coopv1.Cooperative
		fed  *coopv1.FederationStatus
		want string
	}{
		{"no federation", home, nil, ""},
		{"mirrored", home, &coopv1.FederationStatus{Role: coopv1.RolePrimary, PrimaryRegion: "eu-west", Standbys: []coopv1.PeerStandbyStatus{{Peer: "south", State: coopv1.StandbyMirrored, Role: coopv1.RoleStandby}}},
			"True/Ready: standbys mirrored at south; the primary is in eu-west"},
		{"mirrored, the replica there not ready", home, &coopv1.FederationStatus{Role: coopv1.RolePrimary, PrimaryRegion: "eu-west", Standbys: []coopv1.PeerStandbyStatus{
			{Peer: "south", State: coopv1.StandbyMirrored, Message: "the replica Cluster does not exist yet"}}},
			"False/PeerNotReady: south: its standby is not ready yet: the replica Cluster does not exist yet"},
		{"asked at a peer whose standby is not ready: the primary stays", toNorth, &coopv1.FederationStatus{Role: coopv1.RolePrimary, PrimaryRegion: "eu-west",
			Message: "waiting for the standby at north", Standbys: []coopv1.PeerStandbyStatus{{Peer: "north", State: coopv1.StandbyMirrored}}},
			"False/SwitchingOver: Primary: waiting for the standby at north"},
		{"a standby whose replica is not ready", sb, &coopv1.FederationStatus{PrimaryRegion: "eu-west", Message: "the replica Cluster does not exist yet"},
			"False/ReplicaNotReady: the replica Cluster does not exist yet"},
		{"refused wins over waiting", home, &coopv1.FederationStatus{Role: coopv1.RolePrimary, Standbys: []coopv1.PeerStandbyStatus{
			{Peer: "north", State: coopv1.StandbyUnreachable, Message: "timeout"}, {Peer: "south", State: coopv1.StandbyRefused, Message: "full"}}},
			"False/StandbyRefused: south: full"},
		{"unreachable", home, &coopv1.FederationStatus{Role: coopv1.RolePrimary, Standbys: []coopv1.PeerStandbyStatus{{Peer: "north", State: coopv1.StandbyUnreachable, Message: "timeout"}}},
			"False/PeerNotReady: north Unreachable: timeout"},
		{"switching over", home, &coopv1.FederationStatus{Role: coopv1.RoleDemoting, Message: "waiting for the token"},
			"False/SwitchingOver: Demoting: waiting for the token"},
		{"split", home, &coopv1.FederationStatus{Role: coopv1.RolePrimary, PrimaryRegion: "eu-west", Standbys: []coopv1.PeerStandbyStatus{
			{Peer: "south", Region: "eu-south", State: coopv1.StandbyMirrored, Role: coopv1.RolePrimary}}},
			"False/SplitPrimary: the copy in eu-south reports that it is the primary (a failover?) while this hub expects eu-west: writes may have diverged; resolve by hand before any switchover"},
		{"split with two copies, the peers unreachable", home, &coopv1.FederationStatus{Role: coopv1.RolePrimary, PrimaryRegion: "eu-west", Standbys: []coopv1.PeerStandbyStatus{
			{Peer: "south", Region: "eu-south", State: coopv1.StandbyUnreachable, Role: coopv1.RolePrimary},
			{Peer: "north", Region: "eu-north", State: coopv1.StandbyUnreachable, Role: coopv1.RolePrimary}}},
			"False/SplitPrimary: the copies in eu-south and eu-north report that they are the primary (a failover?) while this hub expects eu-west: writes may have diverged; resolve by hand before any switchover"},
		{"the copy holds the primary it was asked to", home, &coopv1.FederationStatus{Role: coopv1.RoleStandby, PrimaryRegion: "eu-south", Standbys: []coopv1.PeerStandbyStatus{
			{Peer: "south", Region: "eu-south", State: coopv1.StandbyMirrored, Role: coopv1.RolePrimary}}},
			"True/Ready: standbys mirrored at south; the primary is in eu-south"},
		{"held: following a copy whose token it cannot ask for, the peer mirrored", home, &coopv1.FederationStatus{Role: coopv1.RoleHeld, PrimaryRegion: "eu-south",
			Message: HeldMessage("a-eu-south"), Standbys: []coopv1.PeerStandbyStatus{{Peer: "south", Region: "eu-south", State: coopv1.StandbyMirrored, Role: coopv1.RolePrimary}}},
			"False/PrimaryHeldAtPeer: " + HeldMessage("a-eu-south")},
		{"home on the way from one peer to another", toNorth, &coopv1.FederationStatus{Role: coopv1.RolePrimary, PrimaryRegion: "eu-west",
			Message: ViaHomeMessage("eu-south", "eu-north"), Standbys: []coopv1.PeerStandbyStatus{{Peer: "south", Region: "eu-south", State: coopv1.StandbyMirrored, Role: coopv1.RoleStandby}}},
			"False/SwitchingOver: Primary: " + ViaHomeMessage("eu-south", "eu-north")},
		{"a message that reads like a split is no split", home, &coopv1.FederationStatus{Role: coopv1.RolePrimary, PrimaryRegion: "eu-west",
			Message: "the copy in eu-south reports that it is the primary (a failover?)", Standbys: []coopv1.PeerStandbyStatus{{Peer: "south", Region: "eu-south", State: coopv1.StandbyMirrored, Role: coopv1.RoleStandby}}},
			"True/Ready: standbys mirrored at south; the primary is in eu-west"},
		{"a peer no longer declared, before one refused and one waiting", home, &coopv1.FederationStatus{Role: coopv1.RolePrimary, PrimaryRegion: "eu-west", Standbys: []coopv1.PeerStandbyStatus{
			{Peer: "north", State: coopv1.StandbyUnreachable, Message: "timeout"}, {Peer: "east", State: coopv1.StandbyRefused, Message: "full"},
			{Peer: "south", Region: "eu-south", State: coopv1.StandbyUndeclared, Message: "this hub no longer declares FederationPeer south"}}},
			"False/PeerNotDeclared: south: this hub no longer declares FederationPeer south"},
		{"isolation 1: a peer without the co-op's read-only credentials names the Secret, before refused and waiting", home, &coopv1.FederationStatus{Role: coopv1.RolePrimary, PrimaryRegion: "eu-west", Standbys: []coopv1.PeerStandbyStatus{
			{Peer: "north", State: coopv1.StandbyUnreachable, Message: "timeout"}, {Peer: "east", State: coopv1.StandbyRefused, Message: "full"},
			{Peer: "south", State: coopv1.StandbyCredentialsMissing, Message: ReadCredentialsMissingMessage(&hub, "a")}}},
			"False/ObjectStoreCredentialsMissing: south: nothing is sent: the hub must create Secret cooperator-system/cooperator-objectstore-a-read with read-only ACCESS_KEY_ID and ACCESS_SECRET_KEY limited to s3://cooperator-backups/local/a/ (peers never get read-write or hub-wide credentials)"},
		{"a standby that follows", sb, &coopv1.FederationStatus{Role: coopv1.RoleStandby, PrimaryRegion: "eu-west"},
			"True/Ready: Standby copy of co-op a of region eu-west; the primary is in eu-west"},
		{"suspended", suspended, &coopv1.FederationStatus{Role: coopv1.RolePrimary, PrimaryRegion: "eu-west", Standbys: []coopv1.PeerStandbyStatus{{Peer: "south", State: coopv1.StandbyMirrored}}},
			"False/Suspended: " + SuspendedMessage},
		{"a standby that follows, suspended", suspendedStandby, &coopv1.FederationStatus{Role: coopv1.RoleStandby, PrimaryRegion: "eu-west"},
			"True/Ready: Standby copy of co-op a of region eu-west; the primary is in eu-west"},
		{"a released standby, suspended: its adoption waits", releasedSuspended, &coopv1.FederationStatus{Role: coopv1.RoleStandby, PrimaryRegion: "eu-west"},
			"False/Suspended: " + AdoptionSuspendedMessage},
		{"a co-op created suspended, nothing mirrored yet", suspended, &coopv1.FederationStatus{},
			"False/Suspended: " + SuspendedMessage},
		{"a split, suspended or not", suspended, &coopv1.FederationStatus{Role: coopv1.RolePrimary, PrimaryRegion: "eu-west", Standbys: []coopv1.PeerStandbyStatus{
			{Peer: "south", Region: "eu-south", State: coopv1.StandbyMirrored, Role: coopv1.RolePrimary}}},
			"False/SplitPrimary: the copy in eu-south reports that it is the primary (a failover?) while this hub expects eu-west: writes may have diverged; resolve by hand before any switchover"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := FederationCondition(tc.coop, tc.fed)
			got := ""
			if c != nil {
				got = string(c.Status) + "/" + c.Reason + ": " + c.Message
				if c.ObservedGeneration != tc.coop.Generation {
					t.Errorf("observedGeneration %d", c.ObservedGeneration)
				}
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLeftAtUndeclaredPeers(t *testing.T) {
	synced := metav1.Unix(1000, 0)
	coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "a"}}
	coop.Status.Federation = &coopv1.FederationStatus{Standbys: []coopv1.PeerStandbyStatus{
		{Peer: "south", Region: "eu-south", State: coopv1.StandbyMirrored, LastSync: &synced},
		{Peer: "gone", Region: "eu-north", State: coopv1.StandbyUndeclared, LastSync: &synced},
		{Peer: "never", State: coopv1.StandbyUndeclared},
	}}
	peers := []coopv1.FederationPeer{peer("south", "eu-south", coopv1.FederationAccept{})}
	var got []string
	for _, st := range leftAtUndeclaredPeers(coop, peers) {
		got = append(got, st.Peer)
	}
	if want := []string{"gone"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %v, want %v: a standby was written at gone, never at never, and south is declared", got, want)
	}
	if got := leftAtUndeclaredPeers(&coopv1.Cooperative{}, peers); got != nil {
		t.Errorf("a co-op without federation: got %v", got)
	}
}

func TestWriteStatusOfADeletedCooperative(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := coopv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		err   error
		fails bool
	}{
		{"deleted meanwhile", apierrors.NewNotFound(coopv1.GroupVersion.WithResource("cooperatives").GroupResource(), "a"), false},
		{"refused", apierrors.NewForbidden(coopv1.GroupVersion.WithResource("cooperatives").GroupResource(), "a", errors.New("no")), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fake.NewClientBuilder().WithScheme(scheme).WithInterceptorFuncs(interceptor.Funcs{
				SubResourceApply: func(context.Context, client.Client, string, runtime.ApplyConfiguration, ...client.SubResourceApplyOption) error {
					return tc.err
				},
			}).Build()
			r := &CooperativeReconciler{Client: c}
			coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "a"}}
			err := r.writeStatus(t.Context(), coop, &coopv1.FederationStatus{Role: coopv1.RolePrimary, PrimaryRegion: "eu-west"})
			if (err != nil) != tc.fails {
				t.Errorf("got %v, want an error: %t", err, tc.fails)
			}
		})
	}
}

func TestPeerRESTConfig(t *testing.T) {
	base := func(user string) []byte {
		return []byte(`apiVersion: v1
kind: Config
clusters:
- name: peer
  cluster: {server: "https://peer.example:6443", certificate-authority-data: "Y2E="}
contexts:
- name: peer
  context: {cluster: peer, user: peer}
current-context: peer
users:
- name: peer
  user: ` + user + "\n")
	}
	for _, tc := range []struct {
		name, user, refusal string
	}{
		{"inline token", `{token: abc}`, ""},
		{"inline client certificate", `{client-certificate-data: "Y2VydA==", client-key-data: "a2V5"}`, ""},
		{"token file", `{tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token}`, "a token file"},
		{"certificate files", `{client-certificate: /etc/cert, client-key: /etc/key}`, "certificate files"},
		{"exec plugin", `{exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, interactiveMode: Never}}`, "an exec credential plugin"},
		{"basic auth", `{username: a, password: b}`, "basic authentication"},
		{"impersonation", `{token: abc, as: system:admin}`, "impersonation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := PeerRESTConfig(base(tc.user))
			switch {
			case tc.refusal == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.refusal != "" && (err == nil || !strings.Contains(err.Error(), tc.refusal)):
				t.Fatalf("error %v, want one naming %q", err, tc.refusal)
			}
		})
	}
}

// TestAHeldHomeTellsItsOtherPeersWhereThePrimaryIs: a home held (its Cluster follows south's
// copy, south no longer listed) tells the peers it still lists that the primary is at
// south, with the token south was promoted with, and hands none of them a token to
// promote: north's standby follows.
func TestAHeldHomeTellsItsOtherPeersWhereThePrimaryIs(t *testing.T) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{coopv1.AddToScheme, cnpgv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	hub := hubconfig.Default()
	hub.Region = "eu-west"
	coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "a"}}
	coop.Spec.Federation.Peers = []coopv1.FederationPeerRef{{Name: "north"}} // south dropped, primary cleared
	coop.Status.Database.ServerName = "a"
	north := coopv1.FederationPeer{ObjectMeta: metav1.ObjectMeta{Name: "north"}, Spec: coopv1.FederationPeerSpec{Region: "eu-north"}}
	north.Status.BackupDestination = "s3://north"
	south := coopv1.FederationPeer{ObjectMeta: metav1.ObjectMeta{Name: "south"}, Spec: coopv1.FederationPeerSpec{Region: "eu-south"}}
	south.Status.BackupDestination = "s3://south"
	cluster := &cnpgv1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: coop.NamespaceName(), Name: coopv1.ClusterName(coop)},
		Spec: cnpgv1.ClusterSpec{
			ReplicaCluster:   &cnpgv1.ReplicaClusterConfiguration{Self: "a-eu-west", Primary: "a-eu-south", Source: "a-eu-south"},
			ExternalClusters: []cnpgv1.ExternalCluster{{Name: "a-eu-west"}, {Name: "a-eu-south"}},
		},
		Status: cnpgv1.ClusterStatus{DemotionToken: "west-demoted"}, // south was promoted with it
	}
	r := &CooperativeReconciler{Client: fake.NewClientBuilder().WithScheme(scheme).WithObjects(cluster).Build(), Hub: hub}
	s, err := r.newHomeScope(t.Context(), coop, []coopv1.FederationPeer{north, south})
	if err != nil {
		t.Fatal(err)
	}
	if s.held == "" || s.holdsPrimary {
		t.Fatalf("held %q, holds the primary %v: want held, not holding it", s.held, s.holdsPrimary)
	}
	if s.fed.PrimaryRegion != "eu-south" || s.fed.DemotionToken != "west-demoted" {
		t.Fatalf("told the peers: primary in %q with token %q; want eu-south, with the token south was promoted with", s.fed.PrimaryRegion, s.fed.DemotionToken)
	}
	standby := BuildStandby(coop, &hub, "eu-north", s.consented, s.fed.PrimaryRegion, s.fed.DemotionToken)
	if standby.Spec.Standby.PrimaryRegion != "eu-south" || standby.Spec.Standby.PromotionToken != "" {
		t.Errorf("north's standby: primary in %q, promotion token %q; want eu-south and none", standby.Spec.Standby.PrimaryRegion, standby.Spec.Standby.PromotionToken)
	}
}

// A co-op whose deletion waits for a peer that does not answer says its standby there is
// Removing, and keeps the record of a standby left at a peer no longer declared: the event
// that names it, once the co-op is let go, reads it from there.
func TestADeletionWaitingForAPeerKeepsWhatItLeftElsewhere(t *testing.T) {
	scheme := runtime.NewScheme()
	// ConfigMaps: the record of the peers a standby was written at.
	if err := errors.Join(coopv1.AddToScheme(scheme), corev1.AddToScheme(scheme)); err != nil {
		t.Fatal(err)
	}
	var written []byte
	c := fake.NewClientBuilder().WithScheme(scheme).WithInterceptorFuncs(interceptor.Funcs{
		SubResourceApply: func(_ context.Context, _ client.Client, _ string, obj runtime.ApplyConfiguration, _ ...client.SubResourceApplyOption) error {
			b, err := json.Marshal(obj)
			written = b
			return err
		},
	}).Build()
	r := &CooperativeReconciler{Client: c, Recorder: events.NewFakeRecorder(10)}
	synced := metav1.Unix(1000, 0)
	coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "a", Finalizers: []string{Finalizer}, DeletionTimestamp: &synced},
		Spec: coopv1.CooperativeSpec{Federation: coopv1.FederationSpec{Peers: []coopv1.FederationPeerRef{{Name: "north"}}}}}
	coop.Status.Federation = &coopv1.FederationStatus{Role: coopv1.RolePrimary, PrimaryRegion: "eu-west", Standbys: []coopv1.PeerStandbyStatus{
		{Peer: "north", Region: "eu-north", State: coopv1.StandbyMirrored, LastSync: &synced},
		{Peer: "gone", Region: "eu-south", State: coopv1.StandbyUndeclared, LastSync: &synced},
	}}
	// north is declared but not Ready: its standby cannot be removed now.
	peers := []coopv1.FederationPeer{peer("north", "eu-north", coopv1.FederationAccept{})}
	res, err := r.removeEverywhere(t.Context(), coop, peers)
	if err != nil || res.RequeueAfter == 0 {
		t.Fatalf("got %v, %v; want to wait for north", res, err)
	}
	var status struct {
		Status struct {
			Federation coopv1.FederationStatus `json:"federation"`
		} `json:"status"`
	}
	if err := json.Unmarshal(written, &status); err != nil {
		t.Fatalf("status written: %s: %v", written, err)
	}
	var got []string
	for _, st := range status.Status.Federation.Standbys {
		got = append(got, st.Peer+" "+string(st.State))
	}
	if want := []string{"north Removing", "gone Undeclared"}; !slices.Equal(got, want) {
		t.Errorf("standbys written %v, want %v", got, want)
	}
}

// TestPeerRegionOf: a peer reads a Cooperative here only while it is its own: a standby of
// its region (labelled so, as admission holds its writes), or a co-op adopted from it for
// AdoptedReadWindow after the move; never a co-op of this hub's own, nor a standby whose
// label another region's, nor an import that names no move.
func TestPeerRegionOf(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	standby := func(label string) *coopv1.Cooperative {
		c := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "a", Labels: map[string]string{}}, Spec: coopv1.CooperativeSpec{
			Standby: &coopv1.StandbySpec{HomeRegion: "eu-west"}}}
		if label != "" {
			c.Labels[coopv1.LabelMirroredFrom] = label
		}
		return c
	}
	adopted := func(movedAt *metav1.Time) *coopv1.Cooperative {
		return &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Status: coopv1.CooperativeStatus{
			Origin: &coopv1.ImportOrigin{Region: "eu-west", Cooperative: "a", MovedAt: movedAt}}}
	}
	at := func(d time.Duration) *metav1.Time { return &metav1.Time{Time: now.Add(-d)} }
	for name, c := range map[string]struct {
		coop *coopv1.Cooperative
		want string
	}{
		"a standby of its region":           {standby("eu-west"), "eu-west"},
		"a standby labelled another region": {standby("eu-south"), ""},
		"a standby without the label":       {standby(""), ""},
		"adopted a day ago":                 {adopted(at(24 * time.Hour)), "eu-west"},
		"adopted eight days ago":            {adopted(at(8 * 24 * time.Hour)), ""},
		"imported, no move":                 {adopted(nil), ""},
		"a co-op of this hub's own":         {&coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, ""},
	} {
		if got := PeerRegionOf(c.coop, now); got != c.want {
			t.Errorf("%s: %q, want %q", name, got, c.want)
		}
	}
	role, binding := BuildPeerAccess(standby("eu-west"), "eu-west")
	if len(role.Rules) != 1 || !slices.Equal(role.Rules[0].ResourceNames, []string{"a"}) || slices.Contains(role.Rules[0].Verbs, "delete") ||
		binding.RoleRef.Name != role.Name || len(binding.Subjects) != 2 {
		t.Errorf("peer access %+v %+v", role, binding)
	}
}

// TestReservedRegionsAreTheCollidingOnes: the objects that read another region's archive
// share a name with the co-op's own backup ObjectStore exactly for the regions the CRD
// refuses (coopv1.ReservedRegions); their Secrets share none with the co-op's.
func TestReservedRegionsAreTheCollidingOnes(t *testing.T) {
	coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "a"}}
	for _, region := range append([]string{"eu-west", "backups-eu", "eu-backups", "scheduled", "app"}, coopv1.ReservedRegions...) {
		collides := SourceObjectStoreName(coop.Name, region) == coopv1.ObjectStoreName(coop)
		if reserved := slices.Contains(coopv1.ReservedRegions, region); collides != reserved {
			t.Errorf("region %s: collides %v, reserved %v", region, collides, reserved)
		}
		for _, own := range []string{coopv1.AppSecretName(coop), coopv1.PlatformAdminSecretName(coop), coopv1.ObjectStoreSecretName, PeerSecretName(coop.Name)} {
			if SourceSecretName(coop.Name, region) == own {
				t.Errorf("region %s: the Secret that reads its archive is named %s, as the co-op's own", region, own)
			}
		}
	}
}

// TestStandbyStatusPublishesAnyDemotionToken: a replica's demotion token reaches the home
// whatever the previous status said: a copy whose status never said Primary or Demoting
// (the demotion came between two reads, or a status write was lost) still hands over its
// token, without which the home never promotes. A Cluster that holds the primary has none
// to publish.
func TestStandbyStatusPublishesAnyDemotionToken(t *testing.T) {
	now := metav1.Unix(2000, 0)
	replica := &cnpgv1.Cluster{
		Spec: cnpgv1.ClusterSpec{ReplicaCluster: &cnpgv1.ReplicaClusterConfiguration{Self: "a-eu-south", Primary: "a-eu-west", Source: "a-eu-west"}},
		Status: cnpgv1.ClusterStatus{DemotionToken: "d", Phase: cnpgv1.PhaseHealthy, ReadyInstances: 1,
			InstancesReportedState: map[cnpgv1.PodName]cnpgv1.InstanceReportedState{"a-1": {TimeLineID: 2}}},
	}
	for _, old := range []coopv1.FederationStatus{{}, {Role: coopv1.RoleStandby}, {Role: coopv1.RoleDemoting}} {
		fed := StandbyStatus(standbyCoop("a", "eu-west", "eu-south"), "eu-south", replica, &old, false, now)
		if fed.Role != coopv1.RoleStandby || fed.DemotionToken != "d" {
			t.Errorf("after role %q: role %q, token %q; want Standby with the Cluster's token", old.Role, fed.Role, fed.DemotionToken)
		}
	}
	primary := replica.DeepCopy()
	primary.Spec.ReplicaCluster.Primary = "a-eu-south"
	c := standbyCoop("a", "eu-west", "eu-south")
	c.Spec.Standby.PrimaryRegion = "eu-south"
	if fed := StandbyStatus(c, "eu-south", primary, &coopv1.FederationStatus{Role: coopv1.RolePrimary}, false, now); fed.DemotionToken != "" {
		t.Errorf("a Cluster that holds the primary published token %q", fed.DemotionToken)
	}
}

// TestAReplicaIsReadyOnItsInstancesTimeline: CloudNativePG writes a Cluster's own
// status.timelineID from an instance out of recovery only, which the designated primary of
// a replica Cluster restored from the archive never is: a standby is ready on the timeline
// its instance reports, whatever the Cluster's says. A demoted copy that is not ready
// (restarting) still hands on its demotion token.
func TestAReplicaIsReadyOnItsInstancesTimeline(t *testing.T) {
	replica := readyReplica()
	replica.Status.TimelineID = 0 // as CloudNativePG leaves it on a replica Cluster
	if !ReplicaReady(replica) {
		t.Error("a healthy replica whose instance reports a timeline is not ready")
	}
	replica.Status.InstancesReportedState = map[cnpgv1.PodName]cnpgv1.InstanceReportedState{"a-1": {}}
	if ReplicaReady(replica) {
		t.Error("a replica whose instance reports no timeline yet is ready")
	}
	restarting := readyReplica()
	restarting.Status.Phase, restarting.Status.ReadyInstances, restarting.Status.DemotionToken = "Waiting for the instances to become active", 0, "d"
	fed := StandbyStatus(standbyCoop("a", "eu-west", "eu-south"), "eu-south", restarting, &coopv1.FederationStatus{Role: coopv1.RoleStandby}, false, metav1.Unix(2000, 0))
	if fed.Role != "" || fed.DemotionToken != "d" {
		t.Errorf("a demoted copy restarting: role %q, token %q; want no role and the Cluster's token", fed.Role, fed.DemotionToken)
	}
}

// TestPruneAsksOnlyPeersTheCoopListed: a co-op's name goes only to the peers its status says
// it listed: a co-op that never took part in federation makes no request at any peer (the
// peer's requests are recorded here), while one that dropped a peer has its standby there
// looked for and removed.
func TestPruneAsksOnlyPeersTheCoopListed(t *testing.T) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{coopv1.AddToScheme, corev1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	hub := hubconfig.Default()
	hub.Region = "eu-west"
	kubeconfig := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: hub.OperatorNamespace, Name: "peer-north"}, Data: map[string][]byte{"kubeconfig": []byte("-")}}
	local := fake.NewClientBuilder().WithScheme(scheme).WithObjects(kubeconfig).Build()
	if err := local.Get(t.Context(), client.ObjectKeyFromObject(kubeconfig), kubeconfig); err != nil {
		t.Fatal(err)
	}
	// Every request the peer's API receives, by the name it carries.
	var asked []string
	record := func(verb string, obj client.Object) { asked = append(asked, verb+" "+obj.GetName()) }
	peerAPI := fake.NewClientBuilder().WithScheme(scheme).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			asked = append(asked, "get "+key.Name)
			return c.Get(ctx, key, obj, opts...)
		},
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			asked = append(asked, "list")
			return c.List(ctx, list, opts...)
		},
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			record("create", obj)
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			record("update", obj)
			return c.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			record("patch", obj)
			return c.Patch(ctx, obj, patch, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			record("delete", obj)
			return c.Delete(ctx, obj, opts...)
		},
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			asked = append(asked, "apply")
			return c.Apply(ctx, obj, opts...)
		},
	}).Build()
	peers := &PeerClients{Client: local, Scheme: scheme, OperatorNamespace: hub.OperatorNamespace,
		clients: map[string]cachedClient{"north": {version: kubeconfig.ResourceVersion + "/kubeconfig", client: peerAPI}}}
	north := peer("north", "eu-north", coopv1.FederationAccept{})
	north.Spec.KubeconfigSecretRef = coopv1.SecretKeyRef{Name: "peer-north", Key: "kubeconfig"}
	meta.SetStatusCondition(&north.Status.Conditions, metav1.Condition{Type: coopv1.ConditionReady, Status: metav1.ConditionTrue, Reason: coopv1.ReasonReady})
	r := &CooperativeReconciler{Client: local, Hub: hub, Peers: peers, Recorder: events.NewFakeRecorder(10)}
	prune := func(coop *coopv1.Cooperative) {
		t.Helper()
		old := coop.Status.Federation
		if old == nil {
			old = &coopv1.FederationStatus{}
		}
		s := &homeScope{coop: coop, old: old, peers: []coopv1.FederationPeer{north}, listed: map[string]bool{}, fed: &coopv1.FederationStatus{}}
		if err := r.prune(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}

	prune(&coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "quiet"}})
	if len(asked) > 0 {
		t.Errorf("a co-op that never listed a peer had the peer asked %v", asked)
	}

	synced := metav1.Unix(1000, 0)
	left := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "left"}}
	left.Status.Federation = &coopv1.FederationStatus{Standbys: []coopv1.PeerStandbyStatus{{Peer: "north", Region: "eu-north", State: coopv1.StandbyMirrored, LastSync: &synced}}}
	prune(left)
	if !slices.Contains(asked, "get left") || !slices.Contains(asked, "delete left-objectstore") {
		t.Errorf("a co-op that dropped north: the peer was asked %v; want its standby looked for and its read keys removed", asked)
	}
}

// TestASwitchoverWaitsForAReadyStandby: the primary goes to a peer only once its copy there
// reported, at the last mirror, a restored and healthy replica (Mirrored, role Standby) or
// that it holds the primary; before, the home keeps it and says what it waits for. Once
// under way, the switchover goes on whatever the peer reports meanwhile.
func TestASwitchoverWaitsForAReadyStandby(t *testing.T) {
	hub := hubconfig.Default()
	hub.Region = "eu-west"
	coop := func(status *coopv1.FederationStatus) *coopv1.Cooperative {
		c := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "a"}}
		c.Spec.Federation = coopv1.FederationSpec{Peers: []coopv1.FederationPeerRef{{Name: "south"}}, Primary: "south"}
		c.Status.Database.ServerName = "a"
		c.Status.Federation = status
		return c
	}
	peerAs := func(st coopv1.PeerStandbyStatus) HomePeer {
		st.Peer, st.Region = "south", "eu-south"
		return HomePeer{Name: "south", Region: "eu-south", Archive: "s3://south/eu-south/a/", Ready: ReadyToTakeOver(st), State: st.State, Role: st.Role, Message: st.Message}
	}
	home := &cnpgv1.Cluster{Spec: cnpgv1.ClusterSpec{ReplicaCluster: &cnpgv1.ReplicaClusterConfiguration{Self: "a-eu-west", Primary: "a-eu-west", Source: "a-eu-south"}}}
	for _, tc := range []struct {
		name string
		st   coopv1.PeerStandbyStatus
		why  string
	}{
		{"nothing mirrored yet", coopv1.PeerStandbyStatus{}, "nothing is mirrored there yet"},
		{"refused there", coopv1.PeerStandbyStatus{State: coopv1.StandbyRefused, Message: "accepts at most 1 standbys"}, "it is Refused: accepts at most 1 standbys"},
		{"no read credentials", coopv1.PeerStandbyStatus{State: coopv1.StandbyCredentialsMissing, Message: "nothing is sent"}, "it is CredentialsMissing: nothing is sent"},
		{"the peer unreachable", coopv1.PeerStandbyStatus{State: coopv1.StandbyUnreachable, Role: coopv1.RoleStandby}, "it is Unreachable"},
		{"never restored", coopv1.PeerStandbyStatus{State: coopv1.StandbyMirrored, Message: "the replica Cluster does not exist yet"}, "its replica Cluster is not restored and healthy yet: the replica Cluster does not exist yet"},
		{"promoting without being ready", coopv1.PeerStandbyStatus{State: coopv1.StandbyMirrored, Role: coopv1.RolePromoting}, "it reports role Promoting"},
	} {
		t.Run("waits: "+tc.name, func(t *testing.T) {
			p := peerAs(tc.st)
			c := coop(&coopv1.FederationStatus{Role: coopv1.RolePrimary, PrimaryRegion: "eu-west"})
			if region, via, waiting := primaryStep(c, &hub, []HomePeer{p}, home); region != "eu-west" || via != "" || waiting != "south" {
				t.Fatalf("step %q via %q waiting %q: want the primary kept here, waiting for south", region, via, waiting)
			}
			topo := HomeTopology(c, &hub, []HomePeer{p}, home)
			if !topo.Primary || (topo.Replica != nil && topo.Replica.Primary != "a-eu-west") {
				t.Fatalf("replica %+v primary %v: the home must not demote toward a copy that cannot take over", topo.Replica, topo.Primary)
			}
			if msg := WaitingForStandbyMessage(p); !strings.HasSuffix(msg, tc.why) || !strings.Contains(msg, "waiting for the standby at south (region eu-south) to be ready") {
				t.Errorf("message %q, want it to end with %q", msg, tc.why)
			}
		})
	}
	for _, tc := range []struct {
		name    string
		st      coopv1.PeerStandbyStatus
		status  *coopv1.FederationStatus
		cluster *cnpgv1.Cluster
	}{
		{"a ready standby", coopv1.PeerStandbyStatus{State: coopv1.StandbyMirrored, Role: coopv1.RoleStandby}, nil, home},
		{"a copy that holds the primary (after a failover there)", coopv1.PeerStandbyStatus{State: coopv1.StandbyMirrored, Role: coopv1.RolePrimary}, nil, home},
		{"under way, the peer unreachable meanwhile", coopv1.PeerStandbyStatus{State: coopv1.StandbyUnreachable, Role: coopv1.RolePromoting},
			&coopv1.FederationStatus{Role: coopv1.RoleDemoting, PrimaryRegion: "eu-south"}, home},
		{"the home already follows that copy", coopv1.PeerStandbyStatus{State: coopv1.StandbyUnreachable},
			nil, &cnpgv1.Cluster{Spec: cnpgv1.ClusterSpec{ReplicaCluster: &cnpgv1.ReplicaClusterConfiguration{Self: "a-eu-west", Primary: "a-eu-south", Source: "a-eu-south"}}}},
	} {
		t.Run("goes on: "+tc.name, func(t *testing.T) {
			p := peerAs(tc.st)
			if region, via, waiting := primaryStep(coop(tc.status), &hub, []HomePeer{p}, tc.cluster); region != "eu-south" || via != "" || waiting != "" {
				t.Fatalf("step %q via %q waiting %q: want eu-south", region, via, waiting)
			}
			topo := HomeTopology(coop(tc.status), &hub, []HomePeer{p}, tc.cluster)
			if topo.Primary || topo.Replica == nil || topo.Replica.Primary != "a-eu-south" {
				t.Fatalf("replica %+v primary %v: want the home to follow south", topo.Replica, topo.Primary)
			}
		})
	}
}
