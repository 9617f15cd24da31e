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

package export_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cooperative"
	"github.com/cooperator-dev/cooperator/controllers/export"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/test/harness/netpol"
)

// TestExportPodsNetwork: the export and restore pods of a co-op reach its database (on the
// shared tier, the shared Cluster's primary, through the co-op namespace's policies and
// the shared Cluster's own), DNS and the object store, and nothing else: not another
// co-op, the API server, the cloud metadata endpoint or the internet. The other pods of the
// namespace gain nothing from the export's policy. The pods are those the Job builders make.
func TestExportPodsNetwork(t *testing.T) {
	cfg := hubconfig.Default()
	cfg.Network.APIServer.CIDRs = []string{"10.0.0.1/32"}
	cfg.Network.ObjectStore = hubconfig.EgressPeer{CIDRs: []string{"192.0.2.10/32"}, Ports: []int32{443}}
	coop := func(name string, tier coopv1.DatabaseTier) *coopv1.Cooperative {
		c := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: name}}
		c.Spec.Database.Tier = tier
		return c
	}
	shared, dedicated := coop("shared-one", coopv1.DatabaseTierShared), coop("dedicated-one", coopv1.DatabaseTierDedicated)
	policies := cooperative.BuildOperatorNetworkPolicies(&cfg)
	for _, c := range []*coopv1.Cooperative{shared, dedicated} {
		policies = append(policies, cooperative.BuildNetworkPolicies(c, nil, &cfg)...)
		policies = append(policies, export.BuildEgressPolicy(c, &cfg))
	}
	nsLabels := func(c *coopv1.Cooperative) map[string]string {
		return map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue, coopv1.LabelDatabaseTier: string(c.Spec.Database.Tier)}
	}
	exportPod := func(c *coopv1.Cooperative, job map[string]string) netpol.Endpoint {
		return netpol.InNamespace(c.NamespaceName(), nsLabels(c), job, nil)
	}
	sharedExport := exportPod(shared, export.BuildJob(shared, &coopv1.CooperativeExport{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: shared.NamespaceName()}}, &cfg).Spec.Template.Labels)
	sharedRestore := exportPod(shared, export.BuildRestoreJob(shared, "x.dump", "sum", &cfg).Spec.Template.Labels)
	dedicatedExport := exportPod(dedicated, export.BuildJob(dedicated, &coopv1.CooperativeExport{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: dedicated.NamespaceName()}}, &cfg).Spec.Template.Labels)
	sharedPlatform := netpol.InNamespace(shared.NamespaceName(), nsLabels(shared), map[string]string{coopv1.LabelPartOf: cooperative.PlatformPartOf}, nil)
	dedicatedDB := netpol.InNamespace(dedicated.NamespaceName(), nsLabels(dedicated), map[string]string{coopv1.ClusterLabel: dedicated.Name}, nil)
	dedicatedPlatform := netpol.InNamespace(dedicated.NamespaceName(), nsLabels(dedicated), map[string]string{coopv1.LabelPartOf: cooperative.PlatformPartOf}, map[string]int32{"http": 8080})
	primary := netpol.InNamespace(cfg.OperatorNamespace, nil, map[string]string{coopv1.ClusterLabel: cfg.SharedCluster.Name, "cnpg.io/instanceRole": "primary"}, nil)
	replica := netpol.InNamespace(cfg.OperatorNamespace, nil, map[string]string{coopv1.ClusterLabel: cfg.SharedCluster.Name, "cnpg.io/instanceRole": "replica"}, nil)
	dns := netpol.InNamespace(metav1.NamespaceSystem, nil, cooperative.DNSPodLabels, nil)
	objectStore, apiServer := netpol.Endpoint{IP: "192.0.2.10"}, netpol.Endpoint{IP: "10.0.0.1"}
	metadata, internet := netpol.Endpoint{IP: "169.254.169.254"}, netpol.Endpoint{IP: "198.51.100.7"}
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	for _, tc := range []struct {
		name     string
		src, dst netpol.Endpoint
		proto    corev1.Protocol
		port     int32
		want     bool
	}{
		{"a shared-tier export reaches the shared primary on 5432", sharedExport, primary, tcp, 5432, true},
		{"so does its restore", sharedRestore, primary, tcp, 5432, true},
		{"not on another port", sharedExport, primary, tcp, 8000, false},
		{"not a replica", sharedExport, replica, tcp, 5432, false},
		{"a dedicated export reaches its own database", dedicatedExport, dedicatedDB, tcp, 5432, true},
		{"a dedicated export does not reach the shared Cluster", dedicatedExport, primary, tcp, 5432, false},
		{"an export resolves names", sharedExport, dns, udp, 53, true},
		{"an export reaches the object store", sharedExport, objectStore, tcp, 443, true},
		{"so does a restore", sharedRestore, objectStore, tcp, 443, true},
		{"not on another port", sharedExport, objectStore, tcp, 80, false},
		{"not the API server", sharedExport, apiServer, tcp, 443, false},
		{"not the cloud metadata endpoint", sharedExport, metadata, tcp, 80, false},
		{"not the internet", dedicatedExport, internet, tcp, 443, false},
		{"not another co-op", sharedExport, dedicatedPlatform, tcp, 8080, false},
		{"nor its database", sharedExport, dedicatedDB, tcp, 5432, false},
		{"the platform gains nothing from the export's policy", sharedPlatform, objectStore, tcp, 443, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := netpol.Allowed(policies, tc.src, tc.dst, tc.proto, tc.port); got != tc.want {
				t.Errorf("allowed = %t, want %t", got, tc.want)
			}
		})
	}
	// Without network.objectStore, the export's policy allows no address.
	cfg.Network.ObjectStore = hubconfig.EgressPeer{Ports: []int32{443}}
	np := export.BuildEgressPolicy(shared, &cfg)
	if netpol.Allowed([]*networkingv1.NetworkPolicy{np}, sharedExport, objectStore, tcp, 443) {
		t.Error("the object store is reached without network.objectStore")
	}
}
