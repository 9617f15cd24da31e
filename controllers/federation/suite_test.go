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

package federation_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/test/harness"
	"github.com/cooperator-dev/cooperator/test/harness/specs"
)

// hub is one region: its own API server and its own operator.
type hub struct {
	region string
	env    *harness.Env
	k8s    client.Client
	// cached reads what the region's operator reads: its manager's cache.
	cached client.Reader
	cfg    hubconfig.Config
	cancel context.CancelFunc
}

var (
	ctx   context.Context
	root  string
	west  *hub
	south *hub
)

const timeout = 30 * time.Second

func TestFederation(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Federation")
}

var _ = BeforeSuite(func() {
	ctrl.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	ctx = context.Background()
	var err error
	root, err = harness.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	west = startHub("eu-west", "s3://west-backups")
	south = startHub("eu-south", "s3://south-backups")
	// Each hub gives the other an identity bound to the shipped peer roles, and declares it.
	peerWith(west, south)
	peerWith(south, west)
	runOperator(west)
	runOperator(south)
})

var _ = AfterSuite(func() {
	for _, h := range []*hub{west, south} {
		if h == nil {
			continue
		}
		if h.cancel != nil {
			h.cancel()
		}
		if h.env != nil {
			Expect(h.env.Stop()).To(Succeed())
		}
	}
})

// startHub starts a region's API server with the project's CRDs, the hub's object store
// credentials, the default templates, the sample plans and the shipped roles.
func startHub(region, bucket string) *hub {
	GinkgoHelper()
	env, err := harness.Start(ctx, harness.Options{
		ProjectCRDs:  true,
		WebhookPaths: []string{filepath.Join(root, "config", "webhook")},
		Scheme:       manager.Scheme(),
	})
	Expect(err).NotTo(HaveOccurred())
	h := &hub{region: region, env: env, k8s: env.Client}
	h.cfg = hubconfig.Default()
	h.cfg.Region = region
	h.cfg.ObjectStore.DestinationPath = bucket
	h.cfg.RecheckInterval = hubconfig.Duration{Duration: 2 * time.Second}
	// The suite is about federation: each hub's Clusters use its hub-wide credentials (the
	// single-tenant opt-in), while peers still get only each co-op's own read-only ones,
	// which the specs create with the co-op (createWithReadCredentials). The hub-wide
	// Secrets below, read-write and read-only, are there to show they are never sent.
	h.cfg.ObjectStore.SingleTenant = true
	specs.SeedHub(ctx, h.k8s, &h.cfg, region+"-key", region+"-secret", "config/rbac/coop_admin_role.yaml", "config/rbac/federation_peer_role.yaml")
	Expect(h.k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.cfg.OperatorNamespace, Name: h.cfg.ObjectStore.CredentialsSecret + "-read"},
		Data:       map[string][]byte{"ACCESS_KEY_ID": []byte(region + "-read-key"), "ACCESS_SECRET_KEY": []byte(region + "-read-secret")},
	})).To(Succeed())
	return h
}

// peerIdentity is the user the host hub gives the peer of the given region, bound as the
// shipped roles say.
func peerIdentity(host *hub, peerRegion string) *rest.Config {
	GinkgoHelper()
	user := "cooperator-peer-" + peerRegion
	cfg, err := host.env.AddUser(user, nil)
	Expect(err).NotTo(HaveOccurred())
	Expect(host.k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: coopv1.MirrorNamespace(peerRegion)}})).To(Succeed())
	bindPeerRoles(host, user, peerRegion, peerRegion, true)
	return cfg
}

// bindPeerRoles binds user, on host, to the shipped roles of the peer of peerRegion: the
// federation role, the Secrets of its mirror namespace and, with info, cooperator-info.
// suffix keeps the bindings of several identities apart.
func bindPeerRoles(host *hub, user, peerRegion, suffix string, info bool) {
	GinkgoHelper()
	subject := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}
	name := "cooperator-federation-peer-" + suffix
	bindings := []client.Object{
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cooperator-federation-peer"},
			Subjects:   subject,
		},
		&rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: coopv1.MirrorNamespace(peerRegion), Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cooperator-federation-peer-secrets"},
			Subjects:   subject,
		},
	}
	if info {
		bindings = append(bindings, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: host.cfg.OperatorNamespace, Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cooperator-federation-peer-info"},
			Subjects:   subject,
		})
	}
	for _, b := range bindings {
		Expect(host.k8s.Create(ctx, b)).To(Succeed())
	}
}

// declarePeer makes home declare a FederationPeer name of region, reached with cfg, that
// accepts nothing.
func declarePeer(home *hub, name, region string, cfg *rest.Config) {
	GinkgoHelper()
	Expect(home.k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: home.cfg.OperatorNamespace, Name: "peer-" + name},
		Data:       map[string][]byte{"kubeconfig": kubeconfig(cfg)},
	})).To(Succeed())
	Expect(home.k8s.Create(ctx, &coopv1.FederationPeer{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       coopv1.FederationPeerSpec{Region: region, KubeconfigSecretRef: coopv1.SecretKeyRef{Name: "peer-" + name, Key: "kubeconfig"}},
	})).To(Succeed())
}

// kubeconfig writes a REST config as the kubeconfig a hub keeps in a Secret.
func kubeconfig(cfg *rest.Config) []byte {
	GinkgoHelper()
	host := cfg.Host
	if !strings.Contains(host, "://") {
		host = "https://" + host
	}
	c := clientcmdapi.NewConfig()
	c.Clusters["peer"] = &clientcmdapi.Cluster{Server: host, CertificateAuthorityData: cfg.CAData}
	c.AuthInfos["peer"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	c.Contexts["peer"] = &clientcmdapi.Context{Cluster: "peer", AuthInfo: "peer"}
	c.CurrentContext = "peer"
	b, err := clientcmd.Write(*c)
	Expect(err).NotTo(HaveOccurred())
	return b
}

// peerWith makes home declare peer: a kubeconfig Secret for the identity peer gives home,
// and a FederationPeer named after the peer's region that accepts its standbys.
func peerWith(home, peer *hub) {
	GinkgoHelper()
	cfg := peerIdentity(peer, home.region)
	secretName := "peer-" + peer.region
	Expect(home.k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: home.cfg.OperatorNamespace, Name: secretName},
		Data:       map[string][]byte{"kubeconfig": kubeconfig(cfg)},
	})).To(Succeed())
	Expect(home.k8s.Create(ctx, &coopv1.FederationPeer{
		ObjectMeta: metav1.ObjectMeta{Name: peer.region},
		Spec: coopv1.FederationPeerSpec{
			Region:              peer.region,
			KubeconfigSecretRef: coopv1.SecretKeyRef{Name: secretName, Key: "kubeconfig"},
			Accept:              coopv1.FederationAccept{Standbys: true, MaxCooperatives: 3, Plan: "small"},
		},
	})).To(Succeed())
}

// runOperator starts the region's operator in this process, with its webhook.
func runOperator(h *hub) {
	GinkgoHelper()
	host, port, certDir := h.env.WebhookServing()
	mgr, err := manager.New(h.env.Cfg, manager.Options{
		Hub: h.cfg, MetricsBindAddress: "0", HealthProbeBindAddress: "0",
		Webhooks: true, WebhookHost: host, WebhookPort: port, WebhookCertDir: certDir,
		PeerContactInterval: 2 * time.Second, Version: "test-" + h.region, SkipControllerNameValidation: true,
		// No object store runs here: a deletion finds nothing under the co-op's prefixes.
		ObjectStoreHTTP: harness.EmptyObjectStore(),
	})
	Expect(err).NotTo(HaveOccurred())
	h.cached = mgr.GetClient()
	var mctx context.Context
	mctx, h.cancel = context.WithCancel(ctx)
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(mctx)).To(Succeed())
	}()
	// The webhook answers once the manager serves it: a dry-run create goes through it.
	Eventually(func() error {
		probe := specs.Sample("coop_v1alpha1_cooperative_fairride.yaml")
		probe.Name = "webhook-probe"
		return h.k8s.Create(ctx, probe, client.DryRunAll)
	}, 30*time.Second).Should(Succeed())
}
