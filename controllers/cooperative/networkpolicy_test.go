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
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/controllers/shared/logicalbackup"
	"github.com/cooperator-dev/cooperator/test/harness/netpol"
)

func TestIsolation_3_CoopNetworkPolicies(t *testing.T) {
	cfg := hubconfig.Default()
	cfg.Network.APIServer.CIDRs = []string{"10.0.0.1/32"}
	cfg.Network.ObjectStore.CIDRs = []string{"192.0.2.0/24"}
	dedicated := testCoop()
	shared := testCoop()
	shared.Name = "shared-one"
	shared.Spec.Database.Tier = coopv1.DatabaseTierShared
	plan := testPlan()
	planWithEgress := testPlan()
	port := intstr.FromInt32(25)
	planWithEgress.Spec.ExtraEgress = []networkingv1.NetworkPolicyEgressRule{{
		To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "198.51.100.7/32"}}}, Ports: []networkingv1.NetworkPolicyPort{{Port: &port}},
	}}
	// A hub that opens the internet to a plan's co-ops, every port.
	planWithInternet := testPlan()
	planWithInternet.Spec.ExtraEgress = []networkingv1.NetworkPolicyEgressRule{{
		To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: []string{"10.0.0.0/8"}}}},
	}}

	// A hub that writes a rule without destinations: every address, on port 80.
	planWithAnywhere := testPlan()
	http := intstr.FromInt32(80)
	planWithAnywhere.Spec.ExtraEgress = []networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{{Port: &http}}}}
	alibabaMetadata := netpol.Endpoint{IP: "100.100.100.200"}

	pods := func(c *coopv1.Cooperative) (platform, db, other netpol.Endpoint) {
		ns := c.NamespaceName()
		extra := map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue, coopv1.LabelDatabaseTier: tierLabel(c)}
		platform = netpol.InNamespace(ns, extra, map[string]string{coopv1.LabelPartOf: PlatformPartOf}, map[string]int32{"http": 8080, "metrics": 9090})
		db = netpol.InNamespace(ns, extra, map[string]string{coopv1.ClusterLabel: c.Name}, nil)
		other = netpol.InNamespace(ns, extra, map[string]string{"app": "sidecar"}, map[string]int32{"http": 8080})
		return
	}
	ingress := netpol.InNamespace(cfg.IngressNamespace, nil, map[string]string{"app": "ingress"}, nil)
	monitoring := netpol.InNamespace(cfg.MonitoringNamespace, nil, map[string]string{"app": "prometheus"}, nil)
	cnpg := netpol.InNamespace(CNPGNamespace, nil, map[string]string{"app": "cnpg"}, nil)
	manager := netpol.InNamespace(cfg.OperatorNamespace, nil, ManagerPodLabels, map[string]int32{"metrics": 8443, "webhook-server": 9443})
	sharedPrimary := netpol.InNamespace(cfg.OperatorNamespace, nil, map[string]string{coopv1.ClusterLabel: cfg.SharedCluster.Name, "cnpg.io/instanceRole": "primary"}, nil)
	sharedReplica := netpol.InNamespace(cfg.OperatorNamespace, nil, map[string]string{coopv1.ClusterLabel: cfg.SharedCluster.Name, "cnpg.io/instanceRole": "replica"}, nil)
	dns := netpol.InNamespace(metav1.NamespaceSystem, nil, DNSPodLabels, nil)
	otherKubeSystem := netpol.InNamespace(metav1.NamespaceSystem, nil, map[string]string{"component": "etcd"}, nil)
	apiServer := netpol.Endpoint{IP: "10.0.0.1"}
	objectStore := netpol.Endpoint{IP: "192.0.2.10"}
	metadata := netpol.Endpoint{IP: "169.254.169.254"}
	internet := netpol.Endpoint{IP: "198.51.100.7"}
	dPlatform, dDB, dOther := pods(dedicated)
	sPlatform, _, _ := pods(shared)

	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	for _, tc := range []struct {
		name     string
		coop     *coopv1.Cooperative
		plan     *coopv1.HostingPlan
		src, dst netpol.Endpoint
		proto    corev1.Protocol
		port     int32
		want     bool
	}{
		{"a pod reaches its own namespace", dedicated, plan, dPlatform, dDB, tcp, 5432, true},
		{"a pod resolves names with the cluster DNS over UDP", dedicated, plan, dPlatform, dns, udp, 53, true},
		{"a pod resolves names with the cluster DNS over TCP", dedicated, plan, dPlatform, dns, tcp, 53, true},
		{"no other port of the DNS pods", dedicated, plan, dPlatform, dns, tcp, 8080, false},
		{"no other pod of kube-system", dedicated, plan, dPlatform, otherKubeSystem, tcp, 2379, false},
		{"no other co-op", dedicated, plan, dPlatform, sPlatform, tcp, 8080, false},
		{"no other co-op, inbound", dedicated, plan, sPlatform, dDB, tcp, 5432, false},
		{"no cloud metadata", dedicated, plan, dPlatform, metadata, tcp, 80, false},
		{"no internet by default", dedicated, plan, dPlatform, internet, tcp, 25, false},
		{"the plan's extra egress", dedicated, planWithEgress, dPlatform, internet, tcp, 25, true},
		{"the plan's extra egress, its port only", dedicated, planWithEgress, dPlatform, internet, tcp, 443, false},
		{"a plan open to the internet", dedicated, planWithInternet, dPlatform, internet, tcp, 443, true},
		{"a plan open to the internet, still no cloud metadata", dedicated, planWithInternet, dPlatform, metadata, tcp, 80, false},
		{"a plan open to the internet, with the excepts the hub wrote", dedicated, planWithInternet, dPlatform, apiServer, tcp, 6443, false},
		{"a plan open to the internet, no other cloud's metadata either", dedicated, planWithInternet, dPlatform, alibabaMetadata, tcp, 80, false},
		{"a plan rule without destinations", dedicated, planWithAnywhere, dPlatform, internet, tcp, 80, true},
		{"a plan rule without destinations, its port only", dedicated, planWithAnywhere, dPlatform, internet, tcp, 443, false},
		{"a plan rule without destinations, still no cloud metadata", dedicated, planWithAnywhere, dPlatform, metadata, tcp, 80, false},
		{"the database instances reach the API server", dedicated, plan, dDB, apiServer, tcp, 6443, true},
		{"the platform does not reach the API server", dedicated, plan, dPlatform, apiServer, tcp, 6443, false},
		{"the database instances reach the object store", dedicated, plan, dDB, objectStore, tcp, 443, true},
		{"the platform does not reach the object store", dedicated, plan, dPlatform, objectStore, tcp, 443, false},
		{"no co-op pod reaches the operator's metrics", dedicated, plan, dPlatform, manager, tcp, 8443, false},
		{"no co-op pod reaches the webhook", dedicated, plan, dPlatform, manager, tcp, 9443, false},
		{"a dedicated co-op does not reach the shared Cluster", dedicated, plan, dPlatform, sharedPrimary, tcp, 5432, false},
		{"a shared-tier co-op reaches the shared primary on 5432", shared, plan, sPlatform, sharedPrimary, tcp, 5432, true},
		{"only on 5432", shared, plan, sPlatform, sharedPrimary, tcp, 8000, false},
		{"not the replicas", shared, plan, sPlatform, sharedReplica, tcp, 5432, false},
		{"the ingress controller reaches the platform's HTTP port", dedicated, plan, ingress, dPlatform, tcp, 8080, true},
		{"the ingress controller does not reach the platform's metrics", dedicated, plan, ingress, dPlatform, tcp, 9090, false},
		{"the ingress controller does not reach PostgreSQL", dedicated, plan, ingress, dDB, tcp, 5432, false},
		{"the ingress controller reaches no other pod", dedicated, plan, ingress, dOther, tcp, 8080, false},
		{"monitoring scrapes the platform's metrics port", dedicated, plan, monitoring, dPlatform, tcp, 9090, true},
		{"monitoring scrapes CloudNativePG's metrics", dedicated, plan, monitoring, dDB, tcp, 9187, true},
		{"monitoring does not reach PostgreSQL", dedicated, plan, monitoring, dDB, tcp, 5432, false},
		{"monitoring does not reach the platform's API", dedicated, plan, monitoring, dPlatform, tcp, 8080, false},
		{"the CloudNativePG operator reaches the instances", dedicated, plan, cnpg, dDB, tcp, 8000, true},
		{"the CloudNativePG operator reaches nothing else", dedicated, plan, cnpg, dPlatform, tcp, 8080, false},
		{"the operator's manager reaches the database on 5432", dedicated, plan, manager, dDB, tcp, 5432, true},
		{"the operator's manager reaches nothing else", dedicated, plan, manager, dPlatform, tcp, 8080, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			policies := BuildNetworkPolicies(tc.coop, tc.plan, &cfg)
			if got := netpol.Allowed(policies, tc.src, tc.dst, tc.proto, tc.port); got != tc.want {
				t.Errorf("allowed = %t, want %t", got, tc.want)
			}
		})
	}
}

func TestIsolation_3_CoopNetworkPolicyNames(t *testing.T) {
	cfg := hubconfig.Default()
	withStore := hubconfig.Default()
	withStore.Network.APIServer.Namespace = "kube-apiserver"
	withStore.Network.ObjectStore.Namespace = "minio"
	shared := testCoop()
	shared.Spec.Database.Tier = coopv1.DatabaseTierShared
	base := []string{NetworkPolicyDeny, NetworkPolicySameNS, NetworkPolicyDNS, NetworkPolicyIngress, NetworkPolicyMonitor, NetworkPolicyDatabase, NetworkPolicyOperator}
	for _, tc := range []struct {
		name string
		coop *coopv1.Cooperative
		cfg  *hubconfig.Config
		want []string
	}{
		{"dedicated, no endpoints set: no rule for them", testCoop(), &cfg, base},
		{"dedicated with the API server and the object store", testCoop(), &withStore, append(append([]string{}, base...), NetworkPolicyAPIServer, NetworkPolicyObjectStore)},
		{"shared: the shared Cluster, no object store", shared, &withStore, append(append([]string{}, base...), NetworkPolicyAPIServer, NetworkPolicySharedDatabase)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, np := range BuildNetworkPolicies(tc.coop, testPlan(), tc.cfg) {
				got = append(got, np.Name)
				if np.Namespace != tc.coop.NamespaceName() || np.Labels[coopv1.LabelManagedBy] != coopv1.ManagedByValue {
					t.Errorf("%s: namespace %q, labels %v", np.Name, np.Namespace, np.Labels)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestIsolation_3_OperatorNamespaceNetworkPolicies(t *testing.T) {
	cfg := hubconfig.Default()
	cfg.Network.APIServer.CIDRs = []string{"10.0.0.1/32"}
	policies := BuildOperatorNetworkPolicies(&cfg)
	op := cfg.OperatorNamespace
	primary := netpol.InNamespace(op, nil, map[string]string{coopv1.ClusterLabel: cfg.SharedCluster.Name, "cnpg.io/instanceRole": "primary"}, nil)
	replica := netpol.InNamespace(op, nil, map[string]string{coopv1.ClusterLabel: cfg.SharedCluster.Name, "cnpg.io/instanceRole": "replica"}, nil)
	manager := netpol.InNamespace(op, nil, ManagerPodLabels, map[string]int32{"metrics": 8443, "webhook-server": 9443})
	sharedCoop := netpol.InNamespace("coop-a", map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue, coopv1.LabelDatabaseTier: "shared"}, map[string]string{"app": "x"}, nil)
	dedicatedCoop := netpol.InNamespace("coop-b", map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue, coopv1.LabelDatabaseTier: "dedicated"}, map[string]string{"app": "x"}, nil)
	foreign := netpol.InNamespace("team-x", nil, map[string]string{"app": "x"}, nil)
	forged := netpol.InNamespace("team-y", map[string]string{coopv1.LabelDatabaseTier: "shared"}, map[string]string{"app": "x"}, nil)
	cnpg := netpol.InNamespace(CNPGNamespace, nil, map[string]string{"app": "cnpg"}, nil)
	monitoring := netpol.InNamespace(cfg.MonitoringNamespace, nil, map[string]string{"app": "prometheus"}, nil)
	apiServer := netpol.Endpoint{IP: "10.0.0.1"}
	tcp := corev1.ProtocolTCP
	for _, tc := range []struct {
		name     string
		src, dst netpol.Endpoint
		port     int32
		want     bool
	}{
		{"a shared-tier co-op reaches the shared Cluster on 5432", sharedCoop, primary, 5432, true},
		{"not on another port", sharedCoop, primary, 8000, false},
		{"a dedicated co-op does not reach the shared Cluster", dedicatedCoop, primary, 5432, false},
		{"a foreign namespace does not", foreign, primary, 5432, false},
		{"a namespace with the tier label but not the operator's mark does not", forged, primary, 5432, false},
		{"the instances replicate among themselves", replica, primary, 5432, true},
		{"the manager reads database sizes", manager, primary, 5432, true},
		{"the CloudNativePG operator reaches the instances", cnpg, primary, 8000, true},
		{"monitoring scrapes the instances' metrics", monitoring, primary, 9187, true},
		{"monitoring does not reach PostgreSQL", monitoring, primary, 5432, false},
		{"the API server reaches the webhook", apiServer, manager, 9443, true},
		{"a co-op does not reach the webhook", sharedCoop, manager, 9443, false},
		{"monitoring scrapes the operator's metrics", monitoring, manager, 8443, true},
		{"a co-op does not reach the operator's metrics", sharedCoop, manager, 8443, false},
		{"monitoring does not reach the webhook", monitoring, manager, 9443, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := netpol.Allowed(policies, tc.src, tc.dst, tcp, tc.port); got != tc.want {
				t.Errorf("allowed = %t, want %t", got, tc.want)
			}
		})
	}
}

// Issue 10, point 3 (and 4): the shared tier's logical backup pods run in the operator
// namespace; they reach the shared Cluster's primary on 5432, DNS and the object store, and
// nothing else, and nothing reaches them.
// TestIsolation_3_HubEgressNeverReachesMetadata: a hub whose object store has no fixed
// addresses (a cloud's S3) writes 0.0.0.0/0 for it, and one that does not know its API
// server's may too: the database instances and the logical backup pods reach the store on
// its ports, and still no cloud metadata endpoint, on any port.
func TestIsolation_3_HubEgressNeverReachesMetadata(t *testing.T) {
	cfg := hubconfig.Default()
	cfg.Network.APIServer = hubconfig.EgressPeer{CIDRs: []string{"0.0.0.0/0"}, Ports: []int32{443, 6443}}
	cfg.Network.ObjectStore = hubconfig.EgressPeer{CIDRs: []string{"0.0.0.0/0", "::/0"}, Ports: []int32{80, 443}}
	coop := testCoop()
	ns := coop.NamespaceName()
	db := netpol.InNamespace(ns, map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue, coopv1.LabelDatabaseTier: tierLabel(coop)},
		map[string]string{coopv1.ClusterLabel: coop.Name}, nil)
	dumpLabels := map[string]string{coopv1.LabelCooperative: "a", coopv1.LabelManagedBy: coopv1.ManagedByValue}
	for k, v := range logicalbackup.PodLabels {
		dumpLabels[k] = v
	}
	dump := netpol.InNamespace(cfg.OperatorNamespace, nil, dumpLabels, nil)
	store := netpol.Endpoint{IP: "52.216.0.10"}
	coopPolicies, operatorPolicies := BuildNetworkPolicies(coop, testPlan(), &cfg), BuildOperatorNetworkPolicies(&cfg)
	for _, p := range []struct {
		who      string
		src      netpol.Endpoint
		policies []*networkingv1.NetworkPolicy
	}{{"the database instances", db, coopPolicies}, {"a logical backup pod", dump, operatorPolicies}} {
		if !netpol.Allowed(p.policies, p.src, store, corev1.ProtocolTCP, 443) {
			t.Errorf("%s do not reach the object store", p.who)
		}
		for _, m := range MetadataEndpoints {
			for _, port := range []int32{80, 443, 6443} {
				if netpol.Allowed(p.policies, p.src, netpol.Endpoint{IP: m.Addr().String()}, corev1.ProtocolTCP, port) {
					t.Errorf("%s reach the metadata endpoint %s on %d", p.who, m.Addr(), port)
				}
			}
		}
	}
}

func TestIsolation_3_LogicalBackupPodsNetworkPolicy(t *testing.T) {
	cfg := hubconfig.Default()
	cfg.Network.APIServer.CIDRs = []string{"10.0.0.1/32"}
	cfg.Network.ObjectStore = hubconfig.EgressPeer{CIDRs: []string{"192.0.2.10/32"}, Ports: []int32{443}}
	policies := BuildOperatorNetworkPolicies(&cfg)
	op := cfg.OperatorNamespace
	dumpLabels := map[string]string{coopv1.LabelCooperative: "a", coopv1.LabelManagedBy: coopv1.ManagedByValue}
	for k, v := range logicalbackup.PodLabels {
		dumpLabels[k] = v
	}
	dump := netpol.InNamespace(op, nil, dumpLabels, nil)
	other := netpol.InNamespace(op, nil, map[string]string{"app": "something-else"}, nil)
	primary := netpol.InNamespace(op, nil, map[string]string{coopv1.ClusterLabel: cfg.SharedCluster.Name, "cnpg.io/instanceRole": "primary"}, nil)
	replica := netpol.InNamespace(op, nil, map[string]string{coopv1.ClusterLabel: cfg.SharedCluster.Name, "cnpg.io/instanceRole": "replica"}, nil)
	manager := netpol.InNamespace(op, nil, ManagerPodLabels, map[string]int32{"metrics": 8443, "webhook-server": 9443})
	dns := netpol.InNamespace(metav1.NamespaceSystem, nil, DNSPodLabels, nil)
	otherKubeSystem := netpol.InNamespace(metav1.NamespaceSystem, nil, map[string]string{"component": "etcd"}, nil)
	coopPod := netpol.InNamespace("coop-a", map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue, coopv1.LabelDatabaseTier: "shared"}, map[string]string{"app": "x"}, nil)
	objectStore, elsewhere, metadata, apiServer := netpol.Endpoint{IP: "192.0.2.10"}, netpol.Endpoint{IP: "198.51.100.7"}, netpol.Endpoint{IP: "169.254.169.254"}, netpol.Endpoint{IP: "10.0.0.1"}
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	for _, tc := range []struct {
		name     string
		src, dst netpol.Endpoint
		proto    corev1.Protocol
		port     int32
		want     bool
	}{
		{"a dump pod reaches the shared Cluster's primary on 5432", dump, primary, tcp, 5432, true},
		{"not on another port", dump, primary, tcp, 8000, false},
		{"not a replica (the read-write service only)", dump, replica, tcp, 5432, false},
		{"it resolves names over UDP", dump, dns, udp, 53, true},
		{"and TCP", dump, dns, tcp, 53, true},
		{"not other kube-system pods", dump, otherKubeSystem, tcp, 53, false},
		{"it reaches the object store netpol.Endpoint", dump, objectStore, tcp, 443, true},
		{"not on another port", dump, objectStore, tcp, 80, false},
		{"not another address", dump, elsewhere, tcp, 443, false},
		{"not the cloud metadata netpol.Endpoint", dump, metadata, tcp, 80, false},
		{"not the API server", dump, apiServer, tcp, 443, false},
		{"not the webhook", dump, manager, tcp, 9443, false},
		{"not the operator's metrics", dump, manager, tcp, 8443, false},
		{"not a co-op's pods", dump, coopPod, tcp, 8080, false},
		{"nothing reaches a dump pod", coopPod, dump, tcp, 8080, false},
		{"not even from its own namespace", other, dump, tcp, 8080, false},
		{"another pod of the operator namespace still does not reach the shared Cluster", other, primary, tcp, 5432, false},
		{"a shared-tier co-op still does", coopPod, primary, tcp, 5432, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := netpol.Allowed(policies, tc.src, tc.dst, tc.proto, tc.port); got != tc.want {
				t.Errorf("allowed = %t, want %t", got, tc.want)
			}
		})
	}
	// Without an object store setting, no address is allowed for it.
	cfg.Network.ObjectStore = hubconfig.EgressPeer{Ports: []int32{443}}
	if netpol.Allowed(BuildOperatorNetworkPolicies(&cfg), dump, objectStore, tcp, 443) {
		t.Error("the object store is reached without network.objectStore")
	}
	// The policy selects the pods the logical backup builders make.
	pod := logicalbackup.BuildCronJob(logicalbackup.Params{Labels: map[string]string{coopv1.LabelCooperative: "a"}}).Spec.JobTemplate.Spec.Template
	var np *networkingv1.NetworkPolicy
	for _, p := range policies {
		if p.Name == NetworkPolicyLogicalBackup {
			np = p
		}
	}
	if np == nil || !netpol.Selects(&np.Spec.PodSelector, pod.Labels) {
		t.Errorf("the NetworkPolicy %s does not select the logical backup pods (labels %v)", NetworkPolicyLogicalBackup, pod.Labels)
	}
}

func TestExceptMetadata(t *testing.T) {
	for _, tc := range []struct {
		cidr   string
		except []string
		want   []string
	}{
		{"0.0.0.0/0", nil, []string{"169.254.169.254/32", "169.254.170.2/32", "100.100.100.200/32"}},
		{"169.254.0.0/16", []string{"169.254.169.0/24"}, []string{"169.254.169.0/24", "169.254.170.2/32"}},
		{"::/0", nil, []string{"fd00:ec2::254/128", "fd20:ce::254/128"}},
		{"100.64.0.0/10", nil, []string{"100.100.100.200/32"}},
		{"198.51.100.0/24", nil, nil},
		{"169.254.169.254/32", nil, nil}, // exactly the endpoint: the hub's explicit choice
	} {
		b := &networkingv1.IPBlock{CIDR: tc.cidr, Except: tc.except}
		exceptMetadata(b)
		if !slices.Equal(b.Except, tc.want) {
			t.Errorf("%s except %v: got %v, want %v", tc.cidr, tc.except, b.Except, tc.want)
		}
	}
}
