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
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/controllers/shared/logicalbackup"
	"github.com/cooperator-dev/cooperator/controllers/shared/ssa"
)

// Names of the NetworkPolicies of a co-op namespace. Everything is denied, in and out, but
// what these allow.
const (
	NetworkPolicyDeny     = "deny-by-default"
	NetworkPolicySameNS   = "allow-same-namespace"
	NetworkPolicyIngress  = "allow-ingress-controller"
	NetworkPolicyMonitor  = "allow-monitoring"
	NetworkPolicyDatabase = "allow-cnpg-operator"
	// NetworkPolicyOperator lets the operator's manager pods reach the co-op's database.
	NetworkPolicyOperator = "allow-operator"
	// NetworkPolicyDNS lets every pod resolve names with the cluster's DNS.
	NetworkPolicyDNS = "allow-dns"
	// NetworkPolicyAPIServer lets the CloudNativePG instance pods reach the API server.
	NetworkPolicyAPIServer = "allow-api-server"
	// NetworkPolicyObjectStore lets the database pods reach the object store.
	NetworkPolicyObjectStore = "allow-object-store"
	// NetworkPolicySharedDatabase lets a shared-tier co-op's pods reach the primary of the
	// hub's shared Cluster, on the PostgreSQL port only.
	NetworkPolicySharedDatabase = "allow-shared-database"
	// NetworkPolicyPlanEgress holds the HostingPlan's extraEgress.
	NetworkPolicyPlanEgress = "allow-plan-egress"
)

// Names of the NetworkPolicies the operator keeps in its own namespace.
const (
	// NetworkPolicySharedCluster protects the shared Cluster's pods.
	NetworkPolicySharedCluster = "cooperator-shared-cluster"
	// NetworkPolicyManager protects the operator's pods (webhook and metrics).
	NetworkPolicyManager = "cooperator-manager"
	// NetworkPolicyLogicalBackup holds the shared-tier co-ops' logical backup pods to the
	// shared Cluster's primary, DNS and the object store.
	NetworkPolicyLogicalBackup = "cooperator-logical-backup"
)

// Ports and labels the policies name.
const (
	// PostgresPort is PostgreSQL's port on CloudNativePG instances.
	PostgresPort = 5432
	// CNPGMetricsPort is the metrics port of CloudNativePG instances.
	CNPGMetricsPort = 9187
	// DNSPort is the port of the cluster DNS.
	DNSPort = 53
	// PlatformHTTPPortName is the named container port of the platform's HTTP API.
	PlatformHTTPPortName = "http"
	// MetricsPortName is the named container port of metrics, on the platform's pods and on
	// the operator's.
	MetricsPortName = "metrics"
	// WebhookPortName is the named container port of the operator's webhook server.
	WebhookPortName = "webhook-server"
	// cnpgInstanceRoleLabel marks the primary instance, the pods behind the -rw Service.
	cnpgInstanceRoleLabel = "cnpg.io/instanceRole"
)

// ManagerPodLabels select the operator's manager pods (config/manager and the chart).
var ManagerPodLabels = map[string]string{"app.kubernetes.io/name": "cooperator", "app.kubernetes.io/component": "controller-manager"}

// DNSPodLabels select the cluster DNS pods (CoreDNS keeps kube-dns's label) in kube-system.
var DNSPodLabels = map[string]string{"k8s-app": "kube-dns"}

func namespaceSelector(name string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: name}}
}

func tcp(port intstr.IntOrString) networkingv1.NetworkPolicyPort {
	p := corev1.ProtocolTCP
	return networkingv1.NetworkPolicyPort{Protocol: &p, Port: &port}
}

func tcpPorts(ports []int32) []networkingv1.NetworkPolicyPort {
	out := make([]networkingv1.NetworkPolicyPort, 0, len(ports))
	for _, p := range ports {
		out = append(out, tcp(intstr.FromInt32(p)))
	}
	return out
}

// egressPeers turns a hub setting into NetworkPolicy peers; nil when it names nothing.
func egressPeers(p hubconfig.EgressPeer) []networkingv1.NetworkPolicyPeer {
	var out []networkingv1.NetworkPolicyPeer
	for _, cidr := range p.CIDRs {
		// A hub on a cloud store without fixed addresses writes 0.0.0.0/0: the database and
		// dump pods still never reach a metadata endpoint, as a plan's extra egress does not.
		b := &networkingv1.IPBlock{CIDR: cidr}
		exceptMetadata(b)
		out = append(out, networkingv1.NetworkPolicyPeer{IPBlock: b})
	}
	if p.Namespace != "" {
		out = append(out, networkingv1.NetworkPolicyPeer{NamespaceSelector: namespaceSelector(p.Namespace)})
	}
	return out
}

var databasePods = metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: coopv1.ClusterLabel, Operator: metav1.LabelSelectorOpExists}}}

var platformPods = metav1.LabelSelector{MatchLabels: map[string]string{coopv1.LabelPartOf: PlatformPartOf}}

// BuildNetworkPolicies isolates the co-op's namespace both ways. In: its own pods; the
// ingress controller to the platform's HTTP port only; monitoring to the metrics ports only;
// the CloudNativePG operator and the cooperator's manager pods to the database. Out: its own
// namespace; DNS; the API server from the database instances and the object store from them
// (hub settings network.apiServer and network.objectStore); on the shared tier the shared
// Cluster's primary on 5432; and what the plan's extraEgress adds. Nothing else.
func BuildNetworkPolicies(coop *coopv1.Cooperative, plan *coopv1.HostingPlan, cfg *hubconfig.Config) []*networkingv1.NetworkPolicy {
	ns := coop.NamespaceName()
	all := metav1.LabelSelector{}
	policy := func(name string, pods metav1.LabelSelector, in []networkingv1.NetworkPolicyIngressRule, out []networkingv1.NetworkPolicyEgressRule) *networkingv1.NetworkPolicy {
		spec := networkingv1.NetworkPolicySpec{PodSelector: pods, Ingress: in, Egress: out}
		if in != nil {
			spec.PolicyTypes = append(spec.PolicyTypes, networkingv1.PolicyTypeIngress)
		}
		if out != nil {
			spec.PolicyTypes = append(spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		}
		return &networkingv1.NetworkPolicy{ObjectMeta: objectMeta(coop, ns, name), Spec: spec}
	}
	from := func(peer networkingv1.NetworkPolicyPeer, ports ...networkingv1.NetworkPolicyPort) []networkingv1.NetworkPolicyIngressRule {
		return []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{peer}, Ports: ports}}
	}
	to := func(peers []networkingv1.NetworkPolicyPeer, ports ...networkingv1.NetworkPolicyPort) []networkingv1.NetworkPolicyEgressRule {
		return []networkingv1.NetworkPolicyEgressRule{{To: peers, Ports: ports}}
	}
	udp := corev1.ProtocolUDP
	dnsPort := intstr.FromInt32(DNSPort)

	deny := &networkingv1.NetworkPolicy{ObjectMeta: objectMeta(coop, ns, NetworkPolicyDeny), Spec: networkingv1.NetworkPolicySpec{
		PodSelector: all, PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
	}}
	own := []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}
	out := []*networkingv1.NetworkPolicy{
		deny,
		policy(NetworkPolicySameNS, all, from(own[0]), to(own)),
		policy(NetworkPolicyDNS, all, nil, to([]networkingv1.NetworkPolicyPeer{{
			NamespaceSelector: namespaceSelector(metav1.NamespaceSystem), PodSelector: &metav1.LabelSelector{MatchLabels: DNSPodLabels},
		}}, networkingv1.NetworkPolicyPort{Protocol: &udp, Port: &dnsPort}, tcp(dnsPort))),
		policy(NetworkPolicyIngress, platformPods, from(networkingv1.NetworkPolicyPeer{NamespaceSelector: namespaceSelector(cfg.IngressNamespace)},
			tcp(intstr.FromString(PlatformHTTPPortName))), nil),
		policy(NetworkPolicyMonitor, all, from(networkingv1.NetworkPolicyPeer{NamespaceSelector: namespaceSelector(cfg.MonitoringNamespace)},
			tcp(intstr.FromString(MetricsPortName)), tcp(intstr.FromInt32(CNPGMetricsPort))), nil),
		policy(NetworkPolicyDatabase, databasePods, from(networkingv1.NetworkPolicyPeer{NamespaceSelector: namespaceSelector(CNPGNamespace)}), nil),
		policy(NetworkPolicyOperator, databasePods, from(networkingv1.NetworkPolicyPeer{
			NamespaceSelector: namespaceSelector(cfg.OperatorNamespace), PodSelector: &metav1.LabelSelector{MatchLabels: ManagerPodLabels},
		}, tcp(intstr.FromInt32(PostgresPort))), nil),
	}
	if peers := egressPeers(cfg.Network.APIServer); peers != nil {
		out = append(out, policy(NetworkPolicyAPIServer, databasePods, nil, to(peers, tcpPorts(cfg.Network.APIServer.Ports)...)))
	}
	if peers := egressPeers(cfg.Network.ObjectStore); peers != nil && coop.Spec.Database.Tier != coopv1.DatabaseTierShared {
		out = append(out, policy(NetworkPolicyObjectStore, databasePods, nil, to(peers, tcpPorts(cfg.Network.ObjectStore.Ports)...)))
	}
	if coop.Spec.Database.Tier == coopv1.DatabaseTierShared {
		out = append(out, policy(NetworkPolicySharedDatabase, all, nil, to([]networkingv1.NetworkPolicyPeer{{
			NamespaceSelector: namespaceSelector(cfg.OperatorNamespace),
			PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{coopv1.ClusterLabel: cfg.SharedCluster.Name, cnpgInstanceRoleLabel: "primary"}},
		}}, tcp(intstr.FromInt32(PostgresPort)))))
	}
	if plan != nil && len(plan.Spec.ExtraEgress) > 0 {
		rules := make([]networkingv1.NetworkPolicyEgressRule, 0, len(plan.Spec.ExtraEgress))
		for i := range plan.Spec.ExtraEgress {
			rule := plan.Spec.ExtraEgress[i].DeepCopy()
			if len(rule.To) == 0 {
				// A rule without destinations allows every one: the metadata endpoints
				// would be among them, so it stands for every address, less those.
				rule.To = []networkingv1.NetworkPolicyPeer{
					{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}}, {IPBlock: &networkingv1.IPBlock{CIDR: "::/0"}},
				}
			}
			for j := range rule.To {
				exceptMetadata(rule.To[j].IPBlock)
			}
			rules = append(rules, *rule)
		}
		out = append(out, policy(NetworkPolicyPlanEgress, all, nil, rules))
	}
	return out
}

// MetadataEndpoints are the cloud providers' instance metadata addresses, which hand out
// the node's credentials: neither a plan's extra egress nor the hub's network.apiServer and
// network.objectStore reach them, however wide their blocks (0.0.0.0/0, say, or a rule
// without destinations).
var MetadataEndpoints = []netip.Prefix{
	netip.MustParsePrefix("169.254.169.254/32"), // AWS, GCP, Azure, OpenStack, ...
	netip.MustParsePrefix("169.254.170.2/32"),   // AWS ECS task credentials
	netip.MustParsePrefix("fd00:ec2::254/128"),  // AWS over IPv6
	netip.MustParsePrefix("fd20:ce::254/128"),   // GCP over IPv6
	netip.MustParsePrefix("100.100.100.200/32"), // Alibaba Cloud
}

// exceptMetadata adds to an IP block the metadata endpoints it contains and does not
// already except. A block that is exactly an endpoint is the hub's explicit choice (and an
// except equal to its block is refused): it is left as written.
func exceptMetadata(b *networkingv1.IPBlock) {
	if b == nil {
		return
	}
	block, err := netip.ParsePrefix(b.CIDR)
	if err != nil {
		return // the API server refuses such a block
	}
	for _, m := range MetadataEndpoints {
		if !block.Contains(m.Addr()) || block.Bits() >= m.Bits() {
			continue
		}
		excepted := false
		for _, e := range b.Except {
			if p, err := netip.ParsePrefix(e); err == nil && p.Contains(m.Addr()) {
				excepted = true
			}
		}
		if !excepted {
			b.Except = append(b.Except, m.String())
		}
	}
}

// tierLabel is the value of coopv1.LabelDatabaseTier on the co-op's namespace.
func tierLabel(coop *coopv1.Cooperative) string {
	if coop.Spec.Database.Tier == coopv1.DatabaseTierShared {
		return string(coopv1.DatabaseTierShared)
	}
	return string(coopv1.DatabaseTierDedicated)
}

// BuildOperatorNetworkPolicies protect what runs in the operator namespace. The shared
// Cluster's pods: PostgreSQL only from shared-tier co-op namespaces, the shared Cluster's own
// instances (replication), the manager pods (metering reads database sizes) and the logical
// backup pods; everything from the CloudNativePG operator; metrics from monitoring. The
// manager pods: the webhook only from the API server (network.apiServer; from anywhere when
// that is unset, as the API server's address is then unknown), metrics only from monitoring.
// The logical backup pods (logicalbackup.PodLabels): nothing in; out only to the shared
// Cluster's primary on the PostgreSQL port, DNS and the object store (network.objectStore;
// the upload fails on a cluster that enforces egress when that is unset). Other pods of the
// namespace are not selected.
func BuildOperatorNetworkPolicies(cfg *hubconfig.Config) []*networkingv1.NetworkPolicy {
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: cfg.OperatorNamespace, Labels: map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue}}
	}
	ingress := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	postgres := tcp(intstr.FromInt32(PostgresPort))
	monitoring := networkingv1.NetworkPolicyPeer{NamespaceSelector: namespaceSelector(cfg.MonitoringNamespace)}
	shared := &networkingv1.NetworkPolicy{ObjectMeta: meta(NetworkPolicySharedCluster), Spec: networkingv1.NetworkPolicySpec{
		PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{coopv1.ClusterLabel: cfg.SharedCluster.Name}},
		PolicyTypes: ingress,
		Ingress: []networkingv1.NetworkPolicyIngressRule{
			{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{
				coopv1.LabelManagedBy: coopv1.ManagedByValue, coopv1.LabelDatabaseTier: string(coopv1.DatabaseTierShared),
			}}}}, Ports: []networkingv1.NetworkPolicyPort{postgres}},
			{From: []networkingv1.NetworkPolicyPeer{
				{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{coopv1.ClusterLabel: cfg.SharedCluster.Name}}},
				{PodSelector: &metav1.LabelSelector{MatchLabels: ManagerPodLabels}},
				{PodSelector: &metav1.LabelSelector{MatchLabels: logicalbackup.PodLabels}},
			}, Ports: []networkingv1.NetworkPolicyPort{postgres}},
			{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: namespaceSelector(CNPGNamespace)}}},
			{From: []networkingv1.NetworkPolicyPeer{monitoring}, Ports: []networkingv1.NetworkPolicyPort{tcp(intstr.FromInt32(CNPGMetricsPort))}},
		},
	}}
	webhook := networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{tcp(intstr.FromString(WebhookPortName))}}
	webhook.From = egressPeers(hubconfig.EgressPeer{CIDRs: cfg.Network.APIServer.CIDRs})
	manager := &networkingv1.NetworkPolicy{ObjectMeta: meta(NetworkPolicyManager), Spec: networkingv1.NetworkPolicySpec{
		PodSelector: metav1.LabelSelector{MatchLabels: ManagerPodLabels},
		PolicyTypes: ingress,
		Ingress: []networkingv1.NetworkPolicyIngressRule{
			webhook,
			{From: []networkingv1.NetworkPolicyPeer{monitoring}, Ports: []networkingv1.NetworkPolicyPort{tcp(intstr.FromString(MetricsPortName))}},
		},
	}}
	udp := corev1.ProtocolUDP
	dnsPort := intstr.FromInt32(DNSPort)
	dumpEgress := []networkingv1.NetworkPolicyEgressRule{
		{To: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{
			coopv1.ClusterLabel: cfg.SharedCluster.Name, cnpgInstanceRoleLabel: "primary",
		}}}}, Ports: []networkingv1.NetworkPolicyPort{postgres}},
		{To: []networkingv1.NetworkPolicyPeer{{
			NamespaceSelector: namespaceSelector(metav1.NamespaceSystem), PodSelector: &metav1.LabelSelector{MatchLabels: DNSPodLabels},
		}}, Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &dnsPort}, tcp(dnsPort)}},
	}
	if peers := egressPeers(cfg.Network.ObjectStore); peers != nil {
		dumpEgress = append(dumpEgress, networkingv1.NetworkPolicyEgressRule{To: peers, Ports: tcpPorts(cfg.Network.ObjectStore.Ports)})
	}
	dump := &networkingv1.NetworkPolicy{ObjectMeta: meta(NetworkPolicyLogicalBackup), Spec: networkingv1.NetworkPolicySpec{
		PodSelector: metav1.LabelSelector{MatchLabels: logicalbackup.PodLabels},
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
		Egress:      dumpEgress,
	}}
	return []*networkingv1.NetworkPolicy{shared, manager, dump}
}

// OperatorNetworkPolicies applies BuildOperatorNetworkPolicies once the manager starts (and
// again at each start, so a changed setting takes effect with the next rollout).
type OperatorNetworkPolicies struct {
	Client client.Client
	Hub    hubconfig.Config
}

// Start applies the policies, trying again (from 1s, doubling up to 5m) until they are.
func (p *OperatorNetworkPolicies) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithValues("namespace", p.Hub.OperatorNamespace)
	for wait := time.Second; ; wait = min(2*wait, 5*time.Minute) {
		err := p.apply(ctx)
		if err == nil {
			logger.Info("Applied the operator namespace's NetworkPolicies")
			return nil
		}
		logger.Error(err, "Failed to apply the operator namespace's NetworkPolicies", "retryIn", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

func (p *OperatorNetworkPolicies) apply(ctx context.Context) error {
	for _, np := range BuildOperatorNetworkPolicies(&p.Hub) {
		if _, err := ssa.ApplyFetch(ctx, p.Client, np, &networkingv1.NetworkPolicy{}); err != nil {
			return fmt.Errorf("applying NetworkPolicy %s/%s: %w", np.Namespace, np.Name, err)
		}
	}
	return nil
}

// NeedLeaderElection is true: one replica applies them.
func (p *OperatorNetworkPolicies) NeedLeaderElection() bool { return true }
