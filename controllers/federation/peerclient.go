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
	"fmt"
	"strings"
	"sync"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// peerTimeout bounds every request to a peer's API, so an unreachable peer blocks no worker
// for long.
const peerTimeout = 10 * time.Second

// PeerClients builds and keeps one uncached client per peer kubeconfig. A peer client reads
// nothing into a cache: the peer's credentials may list only what federation needs.
type PeerClients struct {
	Client client.Client
	Scheme *runtime.Scheme
	// OperatorNamespace holds the kubeconfig Secrets.
	OperatorNamespace string

	mu      sync.Mutex
	clients map[string]cachedClient
}

type cachedClient struct {
	version string
	client  client.Client
}

// errKubeconfig marks a problem with the kubeconfig Secret rather than with the peer.
type errKubeconfig struct{ error }

// For returns the client of a peer, built from its kubeconfig Secret.
func (p *PeerClients) For(ctx context.Context, peer *coopv1.FederationPeer) (client.Client, error) {
	ref := peer.Spec.KubeconfigSecretRef
	key := ref.Key
	if key == "" {
		key = "kubeconfig"
	}
	var secret corev1.Secret
	if err := p.Client.Get(ctx, client.ObjectKey{Namespace: p.OperatorNamespace, Name: ref.Name}, &secret); err != nil {
		return nil, errKubeconfig{fmt.Errorf("reading kubeconfig Secret %s/%s: %w", p.OperatorNamespace, ref.Name, err)}
	}
	version := secret.ResourceVersion + "/" + key
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[peer.Name]; ok && c.version == version {
		return c.client, nil
	}
	data, ok := secret.Data[key]
	if !ok {
		return nil, errKubeconfig{fmt.Errorf("kubeconfig Secret %s/%s has no key %q", p.OperatorNamespace, ref.Name, key)}
	}
	cfg, err := PeerRESTConfig(data)
	if err != nil {
		return nil, errKubeconfig{fmt.Errorf("kubeconfig Secret %s/%s: %w", p.OperatorNamespace, ref.Name, err)}
	}
	cfg.Timeout = peerTimeout
	cfg.QPS, cfg.Burst = 20, 40
	c, err := client.New(cfg, client.Options{Scheme: p.Scheme})
	if err != nil {
		return nil, errKubeconfig{fmt.Errorf("client for peer %s: %w", peer.Name, err)}
	}
	if p.clients == nil {
		p.clients = map[string]cachedClient{}
	}
	p.clients[peer.Name] = cachedClient{version: version, client: c}
	return c, nil
}

// PeerRESTConfig reads a peer kubeconfig. Everything must be inline: a kubeconfig that
// names files (a token file, certificate files) or runs programs (exec, auth providers) is
// refused, since whoever writes the Secret would otherwise make the operator read its own
// files, such as its service account token, and send them to any server, or run a command.
func PeerRESTConfig(data []byte) (*rest.Config, error) {
	raw, err := clientcmd.Load(data)
	if err != nil {
		return nil, err
	}
	current, ok := raw.Contexts[raw.CurrentContext]
	if !ok {
		return nil, fmt.Errorf("the kubeconfig has no current context %q", raw.CurrentContext)
	}
	var refused []string
	if cluster := raw.Clusters[current.Cluster]; cluster != nil {
		if cluster.CertificateAuthority != "" {
			refused = append(refused, "a certificate authority file")
		}
		if cluster.InsecureSkipTLSVerify {
			refused = append(refused, "insecure-skip-tls-verify")
		}
	}
	if user := raw.AuthInfos[current.AuthInfo]; user != nil {
		if user.Exec != nil {
			refused = append(refused, "an exec credential plugin")
		}
		if user.AuthProvider != nil {
			refused = append(refused, "an auth provider")
		}
		if user.TokenFile != "" {
			refused = append(refused, "a token file")
		}
		if user.ClientCertificate != "" || user.ClientKey != "" {
			refused = append(refused, "certificate files")
		}
		if user.Username != "" || user.Password != "" {
			refused = append(refused, "basic authentication")
		}
		if user.Impersonate != "" || len(user.ImpersonateGroups) > 0 || user.ImpersonateUID != "" {
			refused = append(refused, "impersonation")
		}
	}
	if len(refused) > 0 {
		return nil, fmt.Errorf("the kubeconfig uses %s: a peer kubeconfig carries its server's CA and its credentials inline (certificate-authority-data, token or client-certificate-data and client-key-data)", strings.Join(refused, ", "))
	}
	return clientcmd.NewNonInteractiveClientConfig(*raw, raw.CurrentContext, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
}

// Forget drops the client of a deleted peer.
func (p *PeerClients) Forget(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.clients, name)
}

// forbiddenCheck is something peer credentials must not be able to do.
type forbiddenCheck struct {
	what string
	attr authorizationv1.ResourceAttributes
}

// forbiddenChecks are asked of the peer's API about its own credentials: any of them allowed
// means the credentials can do more than federation needs (see
// config/rbac/federation_peer_role.yaml), and the operator refuses to use them.
func forbiddenChecks(operatorNamespace string) []forbiddenCheck {
	return []forbiddenCheck{
		{"* on *", authorizationv1.ResourceAttributes{Verb: "*", Group: "*", Resource: "*"}},
		{"list Secrets in all namespaces", authorizationv1.ResourceAttributes{Verb: "list", Resource: "secrets"}},
		{"get Secrets in the operator namespace " + operatorNamespace, authorizationv1.ResourceAttributes{Verb: "get", Resource: "secrets", Namespace: operatorNamespace}},
		{"create ClusterRoleBindings", authorizationv1.ResourceAttributes{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"}},
		{"create RoleBindings in all namespaces", authorizationv1.ResourceAttributes{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "rolebindings"}},
		{"escalate ClusterRoles", authorizationv1.ResourceAttributes{Verb: "escalate", Group: "rbac.authorization.k8s.io", Resource: "clusterroles"}},
		{"impersonate users", authorizationv1.ResourceAttributes{Verb: "impersonate", Resource: "users"}},
		{"create Pods in all namespaces", authorizationv1.ResourceAttributes{Verb: "create", Resource: "pods"}},
		{"create Namespaces", authorizationv1.ResourceAttributes{Verb: "create", Resource: "namespaces"}},
		{"update FederationPeers", authorizationv1.ResourceAttributes{Verb: "update", Group: coopv1.GroupVersion.Group, Resource: "federationpeers"}},
		// The peer grants the read of this hub's own co-ops there by name (BuildPeerAccess):
		// credentials that read any Cooperative there see co-ops that never listed this hub.
		{"read Cooperatives of any name", authorizationv1.ResourceAttributes{Verb: "get", Group: coopv1.GroupVersion.Group, Resource: "cooperatives"}},
	}
}

// requiredChecks are what federation needs of the peer credentials.
func requiredChecks(region string) []forbiddenCheck {
	ns := coopv1.MirrorNamespace(region)
	return []forbiddenCheck{
		{"create Cooperatives", authorizationv1.ResourceAttributes{Verb: "create", Group: coopv1.GroupVersion.Group, Resource: "cooperatives"}},
		{"delete Cooperatives", authorizationv1.ResourceAttributes{Verb: "delete", Group: coopv1.GroupVersion.Group, Resource: "cooperatives"}},
		{"create Secrets in " + ns, authorizationv1.ResourceAttributes{Verb: "create", Resource: "secrets", Namespace: ns}},
	}
}

// CheckScope asks the peer's API what the credentials can do. It returns what they can do
// that they must not, and what federation needs that they cannot.
func CheckScope(ctx context.Context, c client.Client, peerOperatorNamespace, ownRegion string) (excess, missing []string, err error) {
	allowed := func(attr authorizationv1.ResourceAttributes) (bool, error) {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &attr}}
		if err := c.Create(ctx, review); err != nil {
			return false, fmt.Errorf("asking the peer what its credentials may do: %w", err)
		}
		return review.Status.Allowed, nil
	}
	for _, chk := range forbiddenChecks(peerOperatorNamespace) {
		ok, err := allowed(chk.attr)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			excess = append(excess, chk.what)
		}
	}
	for _, chk := range requiredChecks(ownRegion) {
		ok, err := allowed(chk.attr)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			missing = append(missing, chk.what)
		}
	}
	return excess, missing, nil
}
