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

package deploy_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/yaml"

	"github.com/cooperator-dev/cooperator/api/hubstatus"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/controllers/cooperative"
	"github.com/cooperator-dev/cooperator/controllers/federation"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/controllers/shared/logicalbackup"
	"github.com/cooperator-dev/cooperator/platform"
	"github.com/cooperator-dev/cooperator/test/harness"
)

const (
	timeout    = 90 * time.Second
	fieldOwner = "kubectl"
)

// The operator's ServiceAccount as the API server sees a token of it.
var operatorUser = rest.ImpersonationConfig{
	UserName: "system:serviceaccount:" + operatorNamespace + ":" + serviceAccount,
	Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + operatorNamespace, "system:authenticated"},
}

// TestDeploy installs config/default on an envtest API server as `make deploy` does, then
// runs the operator with exactly the RBAC installed there: its requests impersonate its
// ServiceAccount, so every one of them is authorized by the shipped roles (and the escalation
// checks of RBAC apply to the roles and bindings it creates). A dedicated-tier and a
// shared-tier co-op must become Ready and be deleted cleanly without one refusal.
// deployScenario is what the steps of TestDeploy share: the API server config/default is
// applied to, the operator's identity there, and the operator running as the Deployment
// runs it. Each step needs the ones before it.
type deployScenario struct {
	logs           *logBuffer
	objs           []*unstructured.Unstructured
	env            *harness.Env
	ctx            context.Context
	admin          client.Client
	root           string
	operatorClient client.Client
	owned          *corev1.Namespace
	hub            hubconfig.Config
	used           *requestLog
	host           string
	port           int
	mgr            ctrl.Manager
	done           chan error
	diagnose       func() string
	// dedicated and shared: the co-op of each tier became Ready.
	dedicated, shared bool
}

func TestDeploy(t *testing.T) {
	s := &deployScenario{}
	s.logs = captureLogs(t)
	s.objs = kustomizeBuild(t, "config/default")
	s.env = harness.StartT(t, harness.Options{Scheme: manager.Scheme()})
	s.ctx = t.Context()
	s.admin = s.env.Client
	s.root = harness.MustRepoRoot(t)

	t.Run("config/default applies to a real API server", s.applyConfigDefault)

	t.Run("the operator's pods pass the restricted Pod Security profile of its namespace", s.podsRestricted)

	operatorCfg := s.impersonateOperator(t)

	// Without these two refusals the rest of the test would prove nothing.
	enforced := t.Run("the API server enforces the shipped RBAC on the operator", s.rbacEnforced)
	if !enforced {
		t.FailNow()
	}
	// A namespace as the operator makes one for a co-op (made here by the admin).
	s.owned = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "coop-probe", Labels: map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue}}}
	if err := s.admin.Create(s.ctx, s.owned); err != nil {
		t.Fatal(err)
	}
	t.Run("isolation 2: the operator's identity is held to its own namespace and those it created", s.operatorScoped)
	t.Run("the operator may bind the co-op admins' ClusterRole and nothing it does not hold", s.bindsAdminRole)

	s.startOperator(t, operatorCfg)

	t.Run("the operator is elected leader through its Lease", s.leaderElected)

	// No pod runs here, so neither cert-manager nor the webhook Service: the shipped
	// ValidatingWebhookConfiguration is pointed at the operator's webhook server in this
	// process, with envtest's CA in place of the one cert-manager injects.
	t.Run("the shipped webhook configuration reaches the operator's webhook", s.webhookReached)

	s.dedicated = t.Run("a dedicated-tier co-op becomes Ready", s.dedicatedCoopReady)

	s.shared = t.Run("a shared-tier co-op becomes Ready", s.sharedCoopReady)

	t.Run("the dedicated-tier co-op is deleted after its final backup", s.dedicatedCoopDeleted)

	t.Run("the shared-tier co-op is deleted after its final logical backup, its role kept NOLOGIN", s.sharedCoopDeleted)

	t.Run("the operator was never refused", s.neverRefused)

	t.Run("the Helm chart applies to a real API server", s.applyChart)

	t.Run("the chart's federation peer policy holds a peer's identity to standbys of its region", s.chartPeerPolicy)
}

// impersonateOperator is a client as the operator's ServiceAccount, once the API server
// holds it to the shipped roles; it returns the config of that identity.
func (s *deployScenario) impersonateOperator(t *testing.T) *rest.Config {
	operatorCfg := rest.CopyConfig(s.env.Cfg)
	operatorCfg.Impersonate = operatorUser
	operatorCfg.QPS, operatorCfg.Burst = 200, 400
	var err error
	s.operatorClient, err = client.New(operatorCfg, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		t.Fatal(err)
	}

	// The API server authorizes from informers of its own, which see the roles and bindings
	// applied above a moment after they are stored. Until they do, the operator's requests
	// are refused (and the refusals below prove nothing).
	waitFor(t, "the shipped roles of the operator to be in force", nil, func() (bool, error) {
		return operatorGrantsInForce(s.ctx, s.admin, s.objs)
	})
	return operatorCfg
}

// startOperator runs the operator as the Deployment runs it, as the identity of cfg: the
// hub settings of its ConfigMap, leader election in its namespace, and nothing but its
// ServiceAccount's rights; every request it sends is recorded.
func (s *deployScenario) startOperator(t *testing.T, cfg *rest.Config) {
	// The operator, as the Deployment runs it: the hub settings of its ConfigMap, leader
	// election in its namespace, and nothing but its ServiceAccount's rights.
	s.hub = hubSettings(t, convert[corev1.ConfigMap](t, findPrefix(t, s.objs, "ConfigMap", "cooperator-hub-config")))
	s.hub.RecheckInterval = hubconfig.Duration{Duration: 2 * time.Second}
	s.used = newRequestLog()
	mgrCfg := rest.CopyConfig(cfg)
	mgrCfg.Wrap(s.used.wrap)
	var certDir string
	s.host, s.port, certDir = s.env.WebhookServing()
	var err error
	s.mgr, err = manager.New(mgrCfg, manager.Options{
		Hub: s.hub, LeaderElection: true, MetricsBindAddress: "0", HealthProbeBindAddress: "0",
		Webhooks: true, WebhookHost: s.host, WebhookPort: s.port, WebhookCertDir: certDir,
	})
	if err != nil {
		t.Fatal(err)
	}
	mgrCtx, stop := context.WithCancel(context.Background())
	s.done = make(chan error, 1)
	go func() { s.done <- s.mgr.Start(mgrCtx) }()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-s.done:
			if err != nil {
				t.Errorf("the manager stopped with: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("the manager did not stop within 30s")
		}
	})
	s.diagnose = func() string { return diagnosis(s.ctx, s.admin, s.logs) }
}

// applyConfigDefault: config/default applies to a real API server.
func (s *deployScenario) applyConfigDefault(t *testing.T) {
	objs, ctx, admin, root := s.objs, s.ctx, s.admin, s.root
	applyAll(t, ctx, admin, certManagerStandIns(), false)
	waitFor(t, "cert-manager's kinds to be served", nil, func() (bool, error) {
		l := &unstructured.UnstructuredList{}
		l.SetAPIVersion("cert-manager.io/v1")
		l.SetKind("CertificateList")
		return admin.List(ctx, l, client.Limit(1)) == nil, nil
	})
	applyAll(t, ctx, admin, objs, false)
	waitFor(t, "the CRDs to be served", nil, func() (bool, error) {
		for _, l := range []client.ObjectList{&coopv1.CooperativeList{}, &coopv1.HostingPlanList{}, &coopv1.PlatformTemplateList{}} {
			if err := admin.List(ctx, l, client.Limit(1)); err != nil {
				return false, nil
			}
		}
		return true, nil
	})
	// What `make deploy` applies next, and what the hub creates before its first co-op.
	templates, err := platform.DefaultTemplates()
	if err != nil {
		t.Fatal(err)
	}
	for _, tpl := range templates {
		if err := admin.Create(ctx, tpl); err != nil {
			t.Fatalf("PlatformTemplate %s: %v", tpl.Name, err)
		}
	}
	for _, f := range []string{"coop_v1alpha1_hostingplan_small.yaml", "coop_v1alpha1_hostingplan_medium.yaml"} {
		plan := &coopv1.HostingPlan{}
		readYAML(t, filepath.Join(root, "config", "samples", f), plan)
		if err := admin.Create(ctx, plan); err != nil {
			t.Fatalf("HostingPlan %s: %v", plan.Name, err)
		}
	}
	// Hub-wide credentials, which no co-op gets unless the hub opts in to a single
	// tenant (it does not here): the dedicated co-op below waits for its own.
	hub := hubconfig.Default()
	if err := admin.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: operatorNamespace, Name: hub.ObjectStore.CredentialsSecret},
		Data:       map[string][]byte{"ACCESS_KEY_ID": []byte("hub-key"), "ACCESS_SECRET_KEY": []byte("hub-secret")},
	}); err != nil {
		t.Fatal(err)
	}
}

// podsRestricted: the operator's pods pass the restricted Pod Security profile of its namespace.
func (s *deployScenario) podsRestricted(t *testing.T) {
	objs, ctx, admin := s.objs, s.ctx, s.admin
	d := deployment(t, objs)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: operatorNamespace, GenerateName: "manager-"}, Spec: d.Spec.Template.Spec}
	if err := admin.Create(ctx, pod.DeepCopy(), client.DryRunAll); err != nil {
		t.Errorf("a pod of the Deployment is refused: %v", err)
	}
	// The control: the namespace does enforce the profile.
	pod.Spec.HostNetwork = true
	if err := admin.Create(ctx, pod, client.DryRunAll); !apierrors.IsForbidden(err) {
		t.Errorf("a pod on the host network in %s: got %v, want Forbidden", operatorNamespace, err)
	}
}

// rbacEnforced: the API server enforces the shipped RBAC on the operator.
func (s *deployScenario) rbacEnforced(t *testing.T) {
	ctx, operatorClient := s.ctx, s.operatorClient
	if err := operatorClient.List(ctx, &corev1.NodeList{}); !apierrors.IsForbidden(err) {
		t.Errorf("the operator listing Nodes, which it is not granted: got %v, want Forbidden", err)
	}
	// Escalation: it may not bind a role it does not hold.
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "escalate"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: "mallory"}},
	}
	if err := operatorClient.Create(ctx, rb, client.DryRunAll); !apierrors.IsForbidden(err) {
		t.Errorf("the operator binding cluster-admin: got %v, want Forbidden", err)
	}
}

// operatorScoped: isolation 2: the operator's identity is held to its own namespace and those it created.
func (s *deployScenario) operatorScoped(t *testing.T) {
	ctx, admin, operatorClient, owned := s.ctx, s.admin, s.operatorClient, s.owned
	// The admission policy is in force once the API server has loaded it.
	label := func(ns string) error {
		patch := []byte(`{"metadata":{"labels":{"` + coopv1.LabelManagedBy + `":"` + coopv1.ManagedByValue + `"}}}`)
		return operatorClient.Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, client.RawPatch(types.MergePatchType, patch), client.DryRunAll)
	}
	waitFor(t, "the admission policy cooperator-operator-scope to refuse labelling kube-system", nil, func() (bool, error) {
		err := label(metav1.NamespaceSystem)
		return err != nil && strings.Contains(err.Error(), "may create only namespaces named coop-*"), nil
	})
	foreign := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "coop-not-ours"}}
	if err := admin.Create(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	if err := label(foreign.Name); err == nil || !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) {
		t.Errorf("the operator labelling a coop-* namespace it did not create as its own: got %v, want a refusal", err)
	}
	for name, err := range map[string]error{
		"reading a Secret in kube-system":        operatorClient.Get(ctx, client.ObjectKey{Namespace: metav1.NamespaceSystem, Name: "any"}, &corev1.Secret{}),
		"listing Secrets across the cluster":     operatorClient.List(ctx, &corev1.SecretList{}),
		"listing Secrets in a foreign namespace": operatorClient.List(ctx, &corev1.SecretList{}, client.InNamespace(foreign.Name)),
		"creating a Deployment in default": operatorClient.Create(ctx, &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceDefault, Name: "miner"},
			Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "miner"}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "miner"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "m", Image: "miner"}}}},
			},
		}, client.DryRunAll),
		"creating a Secret in kube-system": operatorClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceSystem, Name: "x"}}, client.DryRunAll),
		// RBAC lets it create RoleBindings anywhere, to bind its tenant role in a new
		// namespace; the admission policy keeps that to namespaces it owns.
		"binding its tenant role to itself in kube-system": operatorClient.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceSystem, Name: "cooperator-operator"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cooperator-tenant"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: serviceAccount, Namespace: operatorNamespace}},
		}, client.DryRunAll),
		"creating a namespace not named coop-*": operatorClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "miner"}}, client.DryRunAll),
		"deleting a foreign namespace":          operatorClient.Delete(ctx, foreign.DeepCopy(), client.DryRunAll),
		"binding a ClusterRole cluster-wide": operatorClient.Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "mallory"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: coopAdminRole},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: "mallory"}},
		}, client.DryRunAll),
	} {
		if !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) {
			t.Errorf("the operator %s: got %v, want a refusal", name, err)
		}
	}
	// Named as a co-op's, the binding and the role are still held to what a co-op's are.
	// RBAC allows each (the operator may bind its tenant role, and holds these rights):
	// the admission policy refuses them, and says so.
	for name, tc := range map[string]struct {
		obj  client.Object
		want string
	}{
		"binding its tenant role cluster-wide under a co-op's name": {&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "cooperator:coop:x"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cooperator-tenant"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: serviceAccount, Namespace: operatorNamespace}},
		}, "may bind only its own ClusterRole"},
		"a co-op's ClusterRole that deletes namespaces": {&rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "cooperator:coop:y"},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"delete"}}},
		}, "may grant only what its admins need"},
		"a co-op's ClusterRole that changes every Cooperative": {&rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "cooperator:coop:y"},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{coopv1.GroupVersion.Group}, Resources: []string{"cooperatives"}, Verbs: []string{"update"}}},
		}, "may grant only what its admins need"},
		"a co-op's ClusterRole that changes another co-op's Cooperative": {&rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "cooperator:coop:y"},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{coopv1.GroupVersion.Group}, Resources: []string{"cooperatives"}, Verbs: []string{"patch"}, ResourceNames: []string{"z"}}},
		}, "may grant only what its admins need"},
		"a co-op's ClusterRole that reads every Cooperative": {&rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "cooperator:coop:y"},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{coopv1.GroupVersion.Group}, Resources: []string{"cooperatives"}, Verbs: []string{"get", "list"}}},
		}, "may grant only what its admins need"},
	} {
		if err := operatorClient.Create(ctx, tc.obj, client.DryRunAll); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("the operator %s: got %v, want the admission policy's refusal (%q)", name, err, tc.want)
		}
	}
	// What it owns, it may do; a co-op's own ClusterRole is as it builds it (the binding
	// needs the role to exist: the co-ops made below are bound under the policy).
	if err := label(owned.Name); err != nil {
		t.Errorf("the operator updating a namespace of its own: %v", err)
	}
	coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "y", UID: "00000000-0000-0000-0000-00000000000y"}}
	if err := operatorClient.Create(ctx, cooperative.BuildClusterRole(coop), client.DryRunAll); err != nil {
		t.Errorf("the operator creating a co-op's ClusterRole: %v", err)
	}
}

// bindsAdminRole: the operator may bind the co-op admins' ClusterRole and nothing it does not hold.
func (s *deployScenario) bindsAdminRole(t *testing.T) {
	ctx, operatorClient, owned := s.ctx, s.operatorClient, s.owned
	if err := operatorClient.List(ctx, &coopv1.CooperativeList{}); err != nil {
		t.Errorf("the operator cannot list Cooperatives: %v", err)
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: owned.Name, Name: "coop-admin-view"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: coopAdminRole},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "Group", Name: "admins"}},
	}
	if err := operatorClient.Create(ctx, rb, client.DryRunAll); err != nil {
		t.Errorf("the operator binding %s: %v", coopAdminRole, err)
	}
	// The read of a standby it grants the peer that wrote it (the binding's check reads the
	// role, so the role is created, then removed).
	standby := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "probe", UID: "5a0e7c36-0000-4000-8000-000000000001"}}
	role, binding := federation.BuildPeerAccess(standby, "eu-north")
	role.OwnerReferences, binding.OwnerReferences = nil, nil // no such Cooperative to own them
	if err := operatorClient.Create(ctx, role); err != nil {
		t.Fatalf("the operator granting a peer the read of its standby: %v", err)
	}
	defer func() {
		if err := operatorClient.Delete(ctx, role); err != nil {
			t.Errorf("the operator removing a peer's access: %v", err)
		}
	}()
	if err := operatorClient.Create(ctx, binding, client.DryRunAll); err != nil {
		t.Errorf("the operator granting a peer the read of its standby: %v", err)
	}
	// And nothing more: the policy holds a peer's role to its own co-op, and its binding to
	// peer identities.
	wider := role.DeepCopy()
	wider.Name = "cooperator:peer:other"
	wider.Rules = append(wider.Rules, rbacv1.PolicyRule{APIGroups: []string{coopv1.GroupVersion.Group}, Resources: []string{"costreports"}, Verbs: []string{"get"}})
	wider.Rules[0].ResourceNames = []string{"other"}
	if err := operatorClient.Create(ctx, wider, client.DryRunAll); err == nil || !strings.Contains(err.Error(), "may grant only its own Cooperative") {
		t.Errorf("a peer's ClusterRole that reads cost reports: %v", err)
	}
	other := binding.DeepCopy()
	other.Subjects = append(other.Subjects, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: "Group", Name: "system:authenticated"})
	if err := operatorClient.Create(ctx, other, client.DryRunAll); err == nil || !strings.Contains(err.Error(), "binds only peer identities") {
		t.Errorf("a peer's ClusterRoleBinding to everyone: %v", err)
	}
}

// leaderElected: the operator is elected leader through its Lease.
func (s *deployScenario) leaderElected(t *testing.T) {
	mgr, done, diagnose := s.mgr, s.done, s.diagnose
	select {
	case <-mgr.Elected():
	case err := <-done:
		t.Fatalf("the manager stopped: %v\n%s", err, diagnose())
	case <-time.After(timeout):
		t.Fatalf("not elected within %s\n%s", timeout, diagnose())
	}
}

// webhookReached: the shipped webhook configuration reaches the operator's webhook.
func (s *deployScenario) webhookReached(t *testing.T) {
	env, ctx, admin, root, host, port, diagnose := s.env, s.ctx, s.admin, s.root, s.host, s.port, s.diagnose
	local := func(cc *admissionregistrationv1.WebhookClientConfig) {
		cc.URL = ptr.To(fmt.Sprintf("https://%s/%s", net.JoinHostPort(host, strconv.Itoa(port)), strings.TrimPrefix(ptr.Deref(cc.Service.Path, ""), "/")))
		cc.Service = nil
		cc.CABundle = env.Environment.WebhookInstallOptions.LocalServingCAData
	}
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := admin.Get(ctx, client.ObjectKey{Name: "cooperator-validating-webhook"}, vwc); err != nil {
		t.Fatal(err)
	}
	for i := range vwc.Webhooks {
		local(&vwc.Webhooks[i].ClientConfig)
	}
	if err := admin.Update(ctx, vwc); err != nil {
		t.Fatal(err)
	}
	mwc := &admissionregistrationv1.MutatingWebhookConfiguration{}
	if err := admin.Get(ctx, client.ObjectKey{Name: "cooperator-mutating-webhook"}, mwc); err != nil {
		t.Fatal(err)
	}
	for i := range mwc.Webhooks {
		local(&mwc.Webhooks[i].ClientConfig)
	}
	if err := admin.Update(ctx, mwc); err != nil {
		t.Fatal(err)
	}
	probe := &coopv1.Cooperative{}
	readYAML(t, filepath.Join(root, "config", "samples", "coop_v1alpha1_cooperative_carecollective.yaml"), probe)
	probe.Name = "webhook-probe"
	waitFor(t, "the webhook to answer", diagnose, func() (bool, error) {
		return admin.Create(ctx, probe.DeepCopy(), client.DryRunAll) == nil, nil
	})
	// It refuses what only it can see: a template of another vertical.
	probe.Spec.Platform.Template = "delivery"
	if err := admin.Create(ctx, probe, client.DryRunAll); err == nil || !strings.Contains(err.Error(), "denied the request") {
		t.Errorf("a care co-op on the delivery template: got %v, want a refusal by the webhook", err)
	}
	// And the CostReports' decimals webhook says to quote an unquoted decimal.
	report := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(`{apiVersion: coop.cooperator.dev/v1alpha1, kind: CostReport, metadata: {name: webhook-probe},
  spec: {period: {start: "2026-11-01T00:00:00Z", end: "2026-12-01T00:00:00Z"}, currency: EUR,
    lines: [{description: servers, amount: 412.5, pool: compute}]}}`), &report.Object); err != nil {
		t.Fatal(err)
	}
	if err := admin.Create(ctx, report, client.DryRunAll); err == nil || !strings.Contains(err.Error(), "spec.lines[0].amount") || !strings.Contains(err.Error(), "quoted string") {
		t.Errorf("an unquoted decimal amount: got %v, want the decimals webhook's refusal", err)
	}
}

// dedicatedCoopReady: a dedicated-tier co-op becomes Ready.
func (s *deployScenario) dedicatedCoopReady(t *testing.T) {
	ctx, admin, root, hub, diagnose := s.ctx, s.admin, s.root, s.hub, s.diagnose
	coop := &coopv1.Cooperative{}
	readYAML(t, filepath.Join(root, "config", "samples", "coop_v1alpha1_cooperative_fairride.yaml"), coop)
	if err := admin.Create(ctx, coop); err != nil {
		t.Fatal(err)
	}
	ns := coop.NamespaceName()
	// isolation 1: without its own credentials the database waits, naming the Secret
	// the hub must create, and the hub-wide keys are not copied into its namespace.
	perCoop := hub.ObjectStore.CooperativeCredentialsSecret(coop.Name)
	waitFor(t, "DatabaseReady to name the missing Secret", diagnose, func() (bool, error) {
		got := &coopv1.Cooperative{}
		if err := admin.Get(ctx, client.ObjectKeyFromObject(coop), got); err != nil {
			return false, err
		}
		c := meta.FindStatusCondition(got.Status.Conditions, coopv1.ConditionDatabaseReady)
		return c != nil && c.Reason == coopv1.ReasonObjectStoreCredentialsMissing &&
			strings.Contains(c.Message, "Secret "+hub.OperatorNamespace+"/"+perCoop), nil
	})
	if err := admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: coopv1.ObjectStoreSecretName}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("object store Secret in %s without per-co-op credentials: got %v, want NotFound", ns, err)
	}
	if err := admin.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: hub.OperatorNamespace, Name: perCoop},
		Data:       map[string][]byte{"ACCESS_KEY_ID": []byte("fairride-key"), "ACCESS_SECRET_KEY": []byte("fairride-secret")},
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "its CloudNativePG Cluster", diagnose, func() (bool, error) {
		return harness.SimulateClusterReady(ctx, admin, ns, coopv1.ClusterName(coop)) == nil, nil
	})
	if err := harness.SimulateBackup(ctx, admin, ns, coopv1.ClusterName(coop), coop.Name+"-first", true); err != nil {
		t.Fatal(err)
	}
	waitReady(t, ctx, admin, coop.Name, diagnose)
	// The hub status reaches the co-op's namespace under the shipped RBAC (the tenant role
	// the operator binds there), and says Ready with the backup just made.
	waitFor(t, "the co-op's hub status to say Ready, with its last backup", diagnose, func() (bool, error) {
		cm := &corev1.ConfigMap{}
		if err := admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: hubstatus.ConfigMapName}, cm); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		d, err := hubstatus.Parse([]byte(cm.Data[hubstatus.Key]))
		if err != nil {
			return false, err
		}
		return d.Reliability.Ready.Status == string(metav1.ConditionTrue) && d.Reliability.LastBackup != nil, nil
	})

	// Failed Backups older than anything the object store holds go, under the shipped RBAC.
	// No Barman Cloud plugin runs here: the test writes what it reports once its retention
	// has pruned the catalogue, a first recoverability point 60 days ago. The failed backup
	// of 100 days ago goes; the completed one of 100 days ago is the plugin's to delete
	// (it deletes the Backups of completed backups that left its catalogue), and the failed
	// one of 30 days ago is younger than the point.
	got := &coopv1.Cooperative{}
	if err := admin.Get(ctx, client.ObjectKeyFromObject(coop), got); err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	expired, completed, recent := coop.Name+"-failed-100-days", coop.Name+"-completed-100-days", coop.Name+"-failed-30-days"
	for _, b := range []struct {
		name      string
		completed bool
		age       time.Duration
	}{{expired, false, 100 * day}, {completed, true, 100 * day}, {recent, false, 30 * day}} {
		if err := harness.SimulateBackupDoneAt(ctx, admin, ns, coopv1.ClusterName(coop), b.name, b.completed, time.Now().Add(-b.age)); err != nil {
			t.Fatal(err)
		}
	}
	if err := harness.SimulateFirstRecoverabilityPoint(ctx, admin, ns, coopv1.ObjectStoreName(coop), got.Status.Database.ServerName, time.Now().Add(-60*day)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the failed Backup older than the catalogue to be deleted", diagnose, func() (bool, error) {
		err := admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: expired}, &cnpgv1.Backup{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
	for _, name := range []string{completed, recent, coop.Name + "-first"} {
		if err := admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &cnpgv1.Backup{}); err != nil {
			t.Errorf("Backup %s must stay: %v", name, err)
		}
	}
}

// sharedCoopReady: a shared-tier co-op becomes Ready.
func (s *deployScenario) sharedCoopReady(t *testing.T) {
	ctx, admin, root, hub, diagnose := s.ctx, s.admin, s.root, s.hub, s.diagnose
	coop := &coopv1.Cooperative{}
	readYAML(t, filepath.Join(root, "config", "samples", "coop_v1alpha1_cooperative_carecollective.yaml"), coop)
	// Its logical backups go to its own prefix, with credentials the hub gives it.
	if err := admin.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: operatorNamespace, Name: hub.ObjectStore.PerCooperativeSecretPrefix + coop.Name},
		Data:       map[string][]byte{"ACCESS_KEY_ID": []byte("care-key"), "ACCESS_SECRET_KEY": []byte("care-secret")},
	}); err != nil {
		t.Fatal(err)
	}
	if err := admin.Create(ctx, coop); err != nil {
		t.Fatal(err)
	}
	// CloudNativePG marks each of the co-op's objects applied as it sees them: the
	// simulation runs until the operator has created them all (its database, owner and
	// serving roles) and reports the database ready, not once on the first it finds.
	waitFor(t, "its Database and DatabaseRoles in the shared Cluster", diagnose, func() (bool, error) {
		if harness.SimulateSharedDatabaseApplied(ctx, admin, hub.OperatorNamespace, coopv1.SharedResourceName(coop)) != nil {
			return false, nil
		}
		got := &coopv1.Cooperative{}
		if err := admin.Get(ctx, client.ObjectKeyFromObject(coop), got); err != nil {
			return false, err
		}
		return meta.IsStatusConditionTrue(got.Status.Conditions, coopv1.ConditionDatabaseReady), nil
	})
	waitFor(t, "the shared Cluster's WAL archiving and first base backup", diagnose, func() (bool, error) {
		return harness.SimulateSharedClusterBackedUp(ctx, admin, hub.OperatorNamespace, hub.SharedCluster.Name) == nil, nil
	})
	waitReady(t, ctx, admin, coop.Name, diagnose)
	if err := admin.Get(ctx, client.ObjectKey{Namespace: hub.OperatorNamespace, Name: logicalbackup.Name(coop.Name)}, &batchv1.CronJob{}); err != nil {
		t.Errorf("its logical backup CronJob: %v", err)
	}
}

// dedicatedCoopDeleted: the dedicated-tier co-op is deleted after its final backup.
func (s *deployScenario) dedicatedCoopDeleted(t *testing.T) {
	ctx, admin, diagnose, dedicated := s.ctx, s.admin, s.diagnose, s.dedicated
	if !dedicated {
		t.Skip("it never became Ready")
	}
	coop := &coopv1.Cooperative{}
	if err := admin.Get(ctx, client.ObjectKey{Name: "fairride-lyon"}, coop); err != nil {
		t.Fatal(err)
	}
	if err := admin.Delete(ctx, coop); err != nil {
		t.Fatal(err)
	}
	if err := admin.Get(ctx, client.ObjectKey{Name: coop.Name}, coop); err != nil {
		t.Fatal(err)
	}
	final := coopv1.FinalBackupName(coop)
	// The platform stops before the final backup: the Deployment controller would see its
	// pods go; the test writes that, then what CloudNativePG writes of the backup.
	waitFor(t, "the final backup "+final, diagnose, func() (bool, error) {
		if err := harness.SimulateDeploymentsAvailable(ctx, admin, coop.NamespaceName()); err != nil {
			return false, nil
		}
		return harness.SimulateBackupDone(ctx, admin, coop.NamespaceName(), final, true) == nil, nil
	})
	waitGone(t, ctx, admin, coop, diagnose)
	ns := &corev1.Namespace{}
	if err := admin.Get(ctx, client.ObjectKey{Name: coop.NamespaceName()}, ns); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	} else if err == nil && ns.DeletionTimestamp == nil {
		t.Errorf("namespace %s is not being deleted", ns.Name)
	}
	if err := admin.Get(ctx, client.ObjectKey{Name: coopv1.ClusterRoleName(coop)}, &rbacv1.ClusterRole{}); !apierrors.IsNotFound(err) {
		t.Errorf("ClusterRole %s: got %v, want NotFound", coopv1.ClusterRoleName(coop), err)
	}
}

// sharedCoopDeleted: the shared-tier co-op is deleted after its final logical backup, its role kept NOLOGIN.
func (s *deployScenario) sharedCoopDeleted(t *testing.T) {
	ctx, admin, hub, diagnose, shared := s.ctx, s.admin, s.hub, s.diagnose, s.shared
	if !shared {
		t.Skip("it never became Ready")
	}
	coop := &coopv1.Cooperative{}
	if err := admin.Get(ctx, client.ObjectKey{Name: "care-collective"}, coop); err != nil {
		t.Fatal(err)
	}
	if err := admin.Delete(ctx, coop); err != nil {
		t.Fatal(err)
	}
	// Pods do not run here: the test writes the status the Job controller writes once
	// the final logical backup's pod succeeded.
	waitFor(t, "the final logical backup Job", diagnose, func() (bool, error) {
		var jobs batchv1.JobList
		if err := admin.List(ctx, &jobs, client.InNamespace(hub.OperatorNamespace), client.MatchingLabels{coopv1.LabelCooperative: coop.Name}); err != nil || len(jobs.Items) == 0 {
			return false, err
		}
		return harness.SimulateJobDone(ctx, admin, hub.OperatorNamespace, jobs.Items[0].Name, true) == nil, nil
	})
	waitGone(t, ctx, admin, coop, diagnose)
	key := client.ObjectKey{Namespace: hub.OperatorNamespace, Name: coopv1.SharedResourceName(coop)}
	for _, obj := range []client.Object{&cnpgv1.Database{}, &corev1.Secret{}} {
		if err := admin.Get(ctx, key, obj); !apierrors.IsNotFound(err) {
			t.Errorf("%T %s: got %v, want NotFound", obj, key, err)
		}
	}
	// deletionPolicy Retain: the role stays with its database, unable to log in.
	role := &cnpgv1.DatabaseRole{}
	if err := admin.Get(ctx, key, role); err != nil {
		t.Errorf("the retained DatabaseRole: %v", err)
	} else if role.Spec.Login {
		t.Errorf("the retained role %s can still log in", role.Spec.Name)
	}
}

// neverRefused: the operator was never refused.
func (s *deployScenario) neverRefused(t *testing.T) {
	logs, objs, used := s.logs, s.objs, s.used
	if refused := logs.matching("forbidden"); len(refused) > 0 {
		t.Errorf("the API server refused the operator %d times; the first:\n%s", len(refused), strings.Join(refused[:min(5, len(refused))], "\n"))
	}
	// Not a failure: the scenario does not walk every path (recovery, removed components),
	// reads come from the cache, server-side apply creates with patch, and bind is checked
	// by authorization, not sent.
	if unused := used.unusedGrants(clusterRole(t, objs, managerRole)); len(unused) > 0 {
		t.Logf("granted, and never sent by the operator's client in this scenario: %s", strings.Join(unused, ", "))
	}
}

// applyChart: the Helm chart applies to a real API server.
func (s *deployScenario) applyChart(t *testing.T) {
	ctx, admin := s.ctx, s.admin
	objs := helmTemplate(t)
	for _, o := range objs {
		if o.GetKind() == "ValidatingWebhookConfiguration" || o.GetKind() == "MutatingWebhookConfiguration" {
			// Not merged into the ones rewired above, whose clientConfig is a URL.
			o.SetName(o.GetName() + "-chart")
		}
	}
	applyAll(t, ctx, admin, objs, true)
}

// chartPeerPolicy: the chart's federation peer policy holds a peer's identity to standbys of its region.
func (s *deployScenario) chartPeerPolicy(t *testing.T) {
	env, ctx, admin, root, diagnose := s.env, s.ctx, s.admin, s.root, s.diagnose
	var peerObjs []*unstructured.Unstructured
	for _, o := range helmTemplate(t) {
		if strings.HasPrefix(o.GetName(), "cooperator-federation-peer") {
			peerObjs = append(peerObjs, o)
		}
	}
	if len(peerObjs) != 7 {
		t.Fatalf("the chart installs %d federation peer objects, want the 7 of config/rbac/federation_peer_role.yaml", len(peerObjs))
	}
	applyAll(t, ctx, admin, peerObjs, false)
	// The identity a hub gives its peer of region eu-north, bound as README.md says.
	cfg, err := env.AddUser("cooperator-peer-eu-north", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "cooperator-federation-peer-eu-north"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cooperator-federation-peer"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "cooperator-peer-eu-north"}},
	}); err != nil {
		t.Fatal(err)
	}
	asPeer, err := client.New(cfg, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	const refusal = "may write only standby Cooperatives mirrored from its region"
	notStandby := &coopv1.Cooperative{}
	readYAML(t, filepath.Join(root, "config", "samples", "coop_v1alpha1_cooperative_fairride.yaml"), notStandby)
	notStandby.Name = "peer-probe"
	// RBAC and the policy take effect a moment after they are stored.
	waitFor(t, "the policy to refuse a Cooperative of the peer that is no standby", diagnose, func() (bool, error) {
		err := asPeer.Create(ctx, notStandby.DeepCopy(), client.DryRunAll)
		return err != nil && strings.Contains(err.Error(), refusal), nil
	})
	// The shipped role reads no Cooperative, by any name: the operator grants a peer the
	// read of its own co-ops, by name (controllers/federation, BuildPeerAccess).
	for _, name := range []string{"peer-probe", "fairride-lyon"} {
		if err := asPeer.Get(ctx, client.ObjectKey{Name: name}, &coopv1.Cooperative{}); !apierrors.IsForbidden(err) {
			t.Errorf("the peer role reads Cooperative %s: %v", name, err)
		}
	}
	if err := asPeer.List(ctx, &coopv1.CooperativeList{}); !apierrors.IsForbidden(err) {
		t.Errorf("the peer role lists Cooperatives: %v", err)
	}
	standby := notStandby.DeepCopy()
	standby.Labels = map[string]string{coopv1.LabelMirroredFrom: "eu-north"}
	standby.Spec.Admins = nil
	standby.Spec.Standby = &coopv1.StandbySpec{HomeRegion: "eu-north", HomeCooperative: standby.Name, PrimaryServerName: standby.Name, PrimaryRegion: "eu-north",
		ObjectStore: coopv1.StandbyObjectStore{DestinationPath: "s3://north/eu-north/peer-probe/", SecretName: "peer-probe-objectstore"}, ConsentedRegions: []string{"local"}}
	if err := asPeer.Create(ctx, standby, client.DryRunAll); err != nil {
		t.Errorf("a standby of the peer's own region is refused: %v", err)
	}

	// The other form of a peer's identity, the ServiceAccount cooperator-peers/<region>, is
	// held to its own region the same way: the region is read from the end of the name.
	if err := admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cooperator-peers"}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	if err := admin.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "cooperator-peers", Name: "eu-south"}}); err != nil {
		t.Fatal(err)
	}
	if err := admin.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "cooperator-federation-peer-eu-south"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cooperator-federation-peer"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "cooperator-peers", Name: "eu-south"}},
	}); err != nil {
		t.Fatal(err)
	}
	saCfg := rest.CopyConfig(env.Cfg)
	saCfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:cooperator-peers:eu-south",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:cooperator-peers", "system:authenticated"},
	}
	asSA, err := client.New(saCfg, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	const southRefusal = "a peer hub of region eu-south may write only standby Cooperatives mirrored from its region"
	// The eu-north standby above, sent by eu-south's ServiceAccount.
	waitFor(t, "the policy to refuse eu-south's ServiceAccount a standby of eu-north", diagnose, func() (bool, error) {
		err := asSA.Create(ctx, standby.DeepCopy(), client.DryRunAll)
		return err != nil && strings.Contains(err.Error(), southRefusal), nil
	})
	south := standby.DeepCopy()
	south.Labels = map[string]string{coopv1.LabelMirroredFrom: "eu-south"}
	south.Spec.Standby.HomeRegion, south.Spec.Standby.PrimaryRegion = "eu-south", "eu-south"
	if err := asSA.Create(ctx, south, client.DryRunAll); err != nil {
		t.Errorf("a standby of the ServiceAccount's own region is refused: %v", err)
	}

	// Bound to any other identity, the peer roles would let it write every Cooperative,
	// held to no region by the policy above: the chart's second policy refuses such a
	// binding, to the hub's admins too.
	const bindingRefusal = "is bound only to peer identities"
	binding := func(role string, subject rbacv1.Subject) *rbacv1.ClusterRoleBinding {
		return &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "peer-probe"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{subject},
		}
	}
	user := func(name string) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}
	}
	waitFor(t, "the policy to refuse binding the peer role to a user not named as a peer", diagnose, func() (bool, error) {
		err := admin.Create(ctx, binding("cooperator-federation-peer", user("peer-eu")), client.DryRunAll)
		return err != nil && strings.Contains(err.Error(), bindingRefusal), nil
	})
	for name, b := range map[string]client.Object{
		"a group": binding("cooperator-federation-peer", rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "cooperator-peer-eu"}),
		"a ServiceAccount outside cooperator-peers": binding("cooperator-federation-peer",
			rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: "default", Name: "eu-west"}),
		"the bare prefix": binding("cooperator-federation-peer", user("cooperator-peer-")),
		"the Secrets role, in a namespace": &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: "cooperator-peers", Name: "peer-probe"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cooperator-federation-peer-secrets"},
			Subjects:   []rbacv1.Subject{user("mallory")},
		},
	} {
		if err := admin.Create(ctx, b, client.DryRunAll); err == nil || !strings.Contains(err.Error(), bindingRefusal) {
			t.Errorf("binding a peer role to %s: %v, want refused with %q", name, err, bindingRefusal)
		}
	}
	for name, b := range map[string]*rbacv1.ClusterRoleBinding{
		"a peer's user":           binding("cooperator-federation-peer", user("cooperator-peer-eu-west")),
		"a peer's ServiceAccount": binding("cooperator-federation-peer", rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: "cooperator-peers", Name: "eu-west"}),
		"another role":            binding("view", user("peer-eu")),
	} {
		if err := admin.Create(ctx, b, client.DryRunAll); err != nil {
			t.Errorf("binding %s: %v", name, err)
		}
	}
}

// operatorGrantsInForce says whether the API server's authorizer grants the operator's
// ServiceAccount every rule of every role bound to it among objs.
func operatorGrantsInForce(ctx context.Context, admin client.Client, objs []*unstructured.Unstructured) (bool, error) {
	bound := 0
	for _, o := range objs {
		var roleRef rbacv1.RoleRef
		var subjects []rbacv1.Subject
		switch o.GetKind() {
		case "ClusterRoleBinding":
			b := &rbacv1.ClusterRoleBinding{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, b); err != nil {
				return false, err
			}
			roleRef, subjects = b.RoleRef, b.Subjects
		case "RoleBinding":
			b := &rbacv1.RoleBinding{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, b); err != nil {
				return false, err
			}
			roleRef, subjects = b.RoleRef, b.Subjects
		default:
			continue
		}
		if !slices.ContainsFunc(subjects, func(s rbacv1.Subject) bool {
			return s.Kind == rbacv1.ServiceAccountKind && s.Name == serviceAccount && s.Namespace == operatorNamespace
		}) {
			continue
		}
		bound++
		var rules []rbacv1.PolicyRule
		for _, r := range objs {
			if r.GetKind() == roleRef.Kind && r.GetName() == roleRef.Name && (roleRef.Kind == "ClusterRole" || r.GetNamespace() == o.GetNamespace()) {
				role := &rbacv1.ClusterRole{} // a Role's rules read the same
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(r.Object, role); err != nil {
					return false, err
				}
				rules = role.Rules
			}
		}
		if rules == nil {
			return false, fmt.Errorf("%s %s binds %s %s, which is not shipped", o.GetKind(), o.GetName(), roleRef.Kind, roleRef.Name)
		}
		for _, rule := range rules {
			names := rule.ResourceNames
			if len(names) == 0 {
				names = []string{""}
			}
			for _, group := range rule.APIGroups {
				for _, res := range rule.Resources {
					resource, subresource, _ := strings.Cut(res, "/")
					for _, verb := range rule.Verbs {
						for _, name := range names {
							review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
								User: operatorUser.UserName, Groups: operatorUser.Groups,
								ResourceAttributes: &authorizationv1.ResourceAttributes{
									Namespace: o.GetNamespace(), Verb: verb, Group: group,
									Resource: resource, Subresource: subresource, Name: name,
								},
							}}
							if err := admin.Create(ctx, review); err != nil {
								return false, err
							}
							if !review.Status.Allowed {
								return false, nil
							}
						}
					}
				}
			}
		}
	}
	if bound == 0 {
		return false, fmt.Errorf("no role is bound to ServiceAccount %s/%s", operatorNamespace, serviceAccount)
	}
	return true, nil
}

// applyAll applies objects with server-side apply, as `kubectl apply --server-side` does:
// the namespace and CRDs first. With dryRun nothing is stored.
func applyAll(t *testing.T, ctx context.Context, c client.Client, objs []*unstructured.Unstructured, dryRun bool) {
	t.Helper()
	first := func(o *unstructured.Unstructured) bool {
		return o.GetKind() == "Namespace" || o.GetKind() == "CustomResourceDefinition"
	}
	opts := []client.ApplyOption{client.FieldOwner(fieldOwner), client.ForceOwnership}
	if dryRun {
		opts = append(opts, client.DryRunAll)
	}
	for _, pass := range []bool{true, false} {
		for _, o := range objs {
			if first(o) != pass {
				continue
			}
			if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()), opts...); err != nil {
				t.Errorf("applying %s %s/%s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

func readYAML(t testing.TB, path string, obj client.Object) {
	t.Helper()
	if err := harness.ReadYAML(path, obj); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond every 250ms until it holds, failing the test with what it waited for
// and a diagnosis after the timeout.
func waitFor(t *testing.T, what string, diagnose func() string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			msg := ""
			if diagnose != nil {
				msg = diagnose()
			}
			t.Fatalf("timed out after %s waiting for %s\n%s", timeout, what, msg)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// waitReady plays the Deployment controller (see harness.SimulateDeploymentsAvailable)
// until the co-op is Ready.
func waitReady(t *testing.T, ctx context.Context, c client.Client, name string, diagnose func() string) {
	t.Helper()
	waitFor(t, "co-op "+name+" to be Ready", diagnose, func() (bool, error) {
		if err := harness.SimulateDeploymentsAvailable(ctx, c, coopv1.NamespacePrefix+name); err != nil && !apierrors.IsConflict(err) {
			return false, err
		}
		coop := &coopv1.Cooperative{}
		if err := c.Get(ctx, client.ObjectKey{Name: name}, coop); err != nil {
			return false, err
		}
		return meta.IsStatusConditionTrue(coop.Status.Conditions, coopv1.ConditionReady), nil
	})
}

func waitGone(t *testing.T, ctx context.Context, c client.Client, coop *coopv1.Cooperative, diagnose func() string) {
	t.Helper()
	waitFor(t, "co-op "+coop.Name+" to be gone", diagnose, func() (bool, error) {
		err := c.Get(ctx, client.ObjectKey{Name: coop.Name}, &coopv1.Cooperative{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
}

// diagnosis says where each co-op stands and what the API server refused the operator.
func diagnosis(ctx context.Context, c client.Client, logs *logBuffer) string {
	var b strings.Builder
	var coops coopv1.CooperativeList
	if err := c.List(ctx, &coops); err == nil {
		for _, coop := range coops.Items {
			fmt.Fprintf(&b, "Cooperative %s (deleting: %t):\n", coop.Name, coop.DeletionTimestamp != nil)
			for _, cond := range coop.Status.Conditions {
				fmt.Fprintf(&b, "  %s=%s %s: %s\n", cond.Type, cond.Status, cond.Reason, cond.Message)
			}
		}
	}
	if refused := logs.matching("forbidden"); len(refused) > 0 {
		fmt.Fprintf(&b, "refused requests of the operator (%d), the first:\n%s\n", len(refused), strings.Join(refused[:min(10, len(refused))], "\n"))
	}
	return b.String()
}

// captureLogs sends the operator's logs (controller-runtime's and client-go's) to a buffer
// that the test searches, and to the test log when it fails or DEPLOY_TEST_LOG is set.
func captureLogs(t *testing.T) *logBuffer {
	logs := &logBuffer{}
	logger := zap.New(zap.WriteTo(logs), zap.UseDevMode(true))
	ctrl.SetLogger(logger)
	klog.SetLogger(logger)
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("DEPLOY_TEST_LOG") != "" {
			t.Logf("operator log (last 5000 lines):\n%s", logs.tail(5000))
		}
	})
	return logs
}

// certManagerStandIns are CRDs of cert-manager's Issuer and Certificate that accept any
// spec: cert-manager cannot run here, and these let config/default apply whole. They check
// that its objects are well-formed and namespaced, not cert-manager's schema.
func certManagerStandIns() []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, kind := range []string{"Issuer", "Certificate"} {
		plural := strings.ToLower(kind) + "s"
		out = append(out, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1",
			"kind":       "CustomResourceDefinition",
			"metadata":   map[string]any{"name": plural + ".cert-manager.io"},
			"spec": map[string]any{
				"group": "cert-manager.io",
				"scope": "Namespaced",
				"names": map[string]any{"kind": kind, "listKind": kind + "List", "plural": plural, "singular": strings.ToLower(kind)},
				"versions": []any{map[string]any{
					"name": "v1", "served": true, "storage": true,
					"schema": map[string]any{"openAPIV3Schema": map[string]any{
						"type": "object", "x-kubernetes-preserve-unknown-fields": true,
					}},
				}},
			},
		}})
	}
	return out
}
