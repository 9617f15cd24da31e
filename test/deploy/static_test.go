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
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/test/harness"
)

// TestOperatorRole checks the ClusterRole the operator runs with, as config/default ships
// it, for the rights an operator must not hold.
func TestOperatorRole(t *testing.T) {
	objs := kustomizeBuild(t, "config/default")
	role := clusterRole(t, objs, managerRole)
	if len(role.Rules) == 0 {
		t.Fatalf("ClusterRole %s has no rules", managerRole)
	}
	if role.AggregationRule != nil {
		t.Errorf("ClusterRole %s aggregates other roles: its rights are not all in role.yaml", managerRole)
	}
	forbiddenVerbs := []string{"*", "escalate", "impersonate", "deletecollection"}
	forbiddenResources := []string{"*", "pods/exec", "pods/attach", "pods/portforward", "nodes/proxy", "serviceaccounts/token", "certificatesigningrequests/approval"}
	var secretVerbs []string
	for i, r := range role.Rules {
		for _, v := range r.Verbs {
			if slices.Contains(forbiddenVerbs, v) {
				t.Errorf("rule %d %v grants verb %q", i, r, v)
			}
		}
		for _, res := range r.Resources {
			if slices.Contains(forbiddenResources, res) || strings.HasSuffix(res, "/*") {
				t.Errorf("rule %d %v grants resource %q", i, r, res)
			}
		}
		if slices.Contains(r.APIGroups, "*") {
			t.Errorf("rule %d %v grants every API group", i, r)
		}
		if len(r.NonResourceURLs) > 0 {
			t.Errorf("rule %d %v grants non-resource URLs", i, r)
		}
		if slices.Contains(r.Verbs, "bind") {
			// bind lets the operator hand out a role it does not hold itself: only the co-op
			// admins' read-only ClusterRole, and its own tenant role, by name.
			if !reflect.DeepEqual(r.APIGroups, []string{rbacv1.GroupName}) || !reflect.DeepEqual(r.Resources, []string{"clusterroles"}) ||
				!reflect.DeepEqual(r.ResourceNames, []string{coopAdminRole, "cooperator-tenant"}) || !reflect.DeepEqual(r.Verbs, []string{"bind"}) {
				t.Errorf("rule %d %v: bind must be granted alone, on clusterroles/%s and cooperator-tenant only", i, r, coopAdminRole)
			}
		}
		if slices.Contains(r.APIGroups, "") && slices.Contains(r.Resources, "secrets") {
			secretVerbs = append(secretVerbs, r.Verbs...)
		}
		// isolation 2: no namespaced write anywhere in the cluster but RoleBindings (it binds
		// its tenant role in the namespaces it creates; the admission policy holds it there).
		writes := slices.ContainsFunc(r.Verbs, func(v string) bool { return v != "get" && v != "list" && v != "watch" })
		for _, res := range r.Resources {
			namespaced := !slices.Contains([]string{"namespaces", "clusterroles", "clusterrolebindings", "cooperatives", "cooperatives/status",
				"cooperatives/finalizers", "costreports", "costreports/status", "federationpeers/status", "tokenreviews", "subjectaccessreviews", "events"}, res)
			if writes && namespaced && res != "rolebindings" {
				t.Errorf("rule %d %v: the operator writes %s in every namespace", i, r, res)
			}
		}
	}
	// isolation 2: no Secret of the cluster in the ClusterRole; the operator's Secret rights
	// are in its own namespace's Role and in the tenant role it binds in co-op namespaces.
	sort.Strings(secretVerbs)
	if len(secretVerbs) > 0 {
		t.Errorf("the operator holds %v on every Secret of the cluster", secretVerbs)
	}

	// The role it binds in every co-op namespace must not hand out Secrets or exec.
	admin := clusterRole(t, objs, coopAdminRole)
	for i, r := range admin.Rules {
		for _, res := range r.Resources {
			if res == "secrets" || res == "*" || strings.HasPrefix(res, "pods/") && res != "pods/log" {
				t.Errorf("%s rule %d grants %q", coopAdminRole, i, res)
			}
		}
		for _, v := range r.Verbs {
			if v == "*" || v == "escalate" || v == "bind" || v == "impersonate" {
				t.Errorf("%s rule %d grants verb %q", coopAdminRole, i, v)
			}
		}
	}
}

// TestManifests checks what a real API server cannot: the Deployment runs the operator as
// documented, with the identity the RBAC binds, and hub.yaml holds every setting.
func TestManifests(t *testing.T) {
	objs := kustomizeBuild(t, "config/default")
	for _, o := range objs {
		clusterScoped := []string{"CustomResourceDefinition", "Namespace", "ClusterRole", "ClusterRoleBinding", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
			"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}
		if !slices.Contains(clusterScoped, o.GetKind()) && o.GetNamespace() != operatorNamespace {
			t.Errorf("%s %s is in namespace %q, not %s", o.GetKind(), o.GetName(), o.GetNamespace(), operatorNamespace)
		}
	}

	d := deployment(t, objs)
	if d.Spec.Template.Spec.ServiceAccountName != serviceAccount {
		t.Errorf("the Deployment runs as ServiceAccount %q, not %q", d.Spec.Template.Spec.ServiceAccountName, serviceAccount)
	}
	c := d.Spec.Template.Spec.Containers[0]
	if got, want := append(slices.Clone(c.Command), c.Args...), []string{"/cooperator", "manager", "--leader-elect", "--config=/etc/cooperator/hub.yaml"}; !reflect.DeepEqual(got[:4], want) {
		t.Errorf("the operator runs %v, want %v first", got, want)
	}
	if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
		return e.Name == "POD_NAMESPACE" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace"
	}) {
		t.Error("POD_NAMESPACE does not come from the downward API")
	}
	if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
		return e.Name == manager.MemoryLimitEnv && e.ValueFrom != nil && e.ValueFrom.ResourceFieldRef != nil &&
			e.ValueFrom.ResourceFieldRef.Resource == "limits.memory" && e.ValueFrom.ResourceFieldRef.ContainerName == c.Name
	}) {
		t.Errorf("%s does not come from the container's memory limit: Go's collector would not know it", manager.MemoryLimitEnv)
	}
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Port.String() != "health" {
			t.Errorf("probe %+v is not an HTTP probe on the health port", p)
		}
	}
	if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "health" && p.ContainerPort == 8081 }) {
		t.Error("no health port 8081")
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %+v: requests and a memory limit are required", c.Resources)
	}
	if sc := c.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("the root filesystem is writable")
	}

	// The ConfigMap the Deployment mounts holds a hub.yaml the operator accepts, whose
	// settings are the defaults.
	cmName := ""
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil {
			cmName = v.ConfigMap.Name
		}
	}
	cm := convert[corev1.ConfigMap](t, find(t, objs, "ConfigMap", cmName))
	hub := hubSettings(t, cm)
	if want := hubconfig.Default(); !reflect.DeepEqual(hub, want) {
		t.Errorf("config/manager/hub.yaml differs from the defaults:\n got %+v\nwant %+v", hub, want)
	}

	// Every setting is written out, so that the file documents them all.
	root := harness.MustRepoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "config", "manager", "hub.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := yamlKeys(t, data), settingKeys(reflect.TypeFor[hubconfig.Config](), ""); !reflect.DeepEqual(got, want) {
		t.Errorf("config/manager/hub.yaml sets %v, the settings are %v", got, want)
	}

	checkWebhookWiring(t, objs, d)

	// The CRD kustomization installs every generated CRD.
	bases, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	crds := kustomizeBuild(t, "config/crd")
	if len(crds) != len(bases) {
		t.Errorf("config/crd installs %d CRDs, config/crd/bases holds %d: list every file in config/crd/kustomization.yaml", len(crds), len(bases))
	}
}

// settingKeys lists the dotted JSON paths of every leaf setting of a struct type.
func settingKeys(typ reflect.Type, prefix string) []string {
	var keys []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		path := strings.TrimPrefix(prefix+"."+name, ".")
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[hubconfig.Duration]() {
			keys = append(keys, settingKeys(f.Type, path)...)
			continue
		}
		keys = append(keys, path)
	}
	sort.Strings(keys)
	return keys
}

// checkWebhookWiring follows the webhook from the ValidatingWebhookConfiguration to the
// Service, the container port, the certificate and its mounted Secret.
func checkWebhookWiring(t *testing.T, objs []*unstructured.Unstructured, d *appsv1.Deployment) {
	t.Helper()
	var configs []*unstructured.Unstructured
	for _, wc := range webhookConfigurations {
		config := find(t, objs, wc.kind, wc.name)
		configs = append(configs, config)
		hooks := webhooksOf(t, config)
		if len(hooks) == 0 {
			t.Fatalf("the %s has no webhooks", wc.kind)
		}
		for _, h := range hooks {
			service, _, _ := unstructured.NestedStringMap(h, "clientConfig", "service")
			if service["namespace"] != operatorNamespace || service["name"] != "cooperator-webhook-service" {
				t.Errorf("%s webhook %v calls %v, not the operator's webhook Service", wc.kind, h["name"], service)
			}
			// The Backup webhook's marker spells the co-op namespaces' labels out; they must
			// be those the operator puts on them (api/v1alpha1).
			if h["name"] == "vbackup.coop.cooperator.dev" {
				sel := &metav1.LabelSelector{}
				if raw, ok := h["namespaceSelector"].(map[string]any); !ok || runtime.DefaultUnstructuredConverter.FromUnstructured(raw, sel) != nil {
					t.Fatalf("the Backup webhook has no namespace selector: %v", h["namespaceSelector"])
				}
				want := &metav1.LabelSelector{
					MatchLabels:      map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue},
					MatchExpressions: []metav1.LabelSelectorRequirement{{Key: coopv1.LabelCooperative, Operator: metav1.LabelSelectorOpExists}},
				}
				if !reflect.DeepEqual(sel, want) {
					t.Errorf("the Backup webhook selects namespaces by %+v, want the co-op namespaces' labels %+v", sel, want)
				}
			}
		}
	}
	svc := convert[corev1.Service](t, find(t, objs, "Service", "cooperator-webhook-service"))
	c := d.Spec.Template.Spec.Containers[0]
	for _, p := range svc.Spec.Ports {
		if !slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == p.TargetPort.String() }) {
			t.Errorf("the webhook Service targets port %s, which the container does not have", p.TargetPort.String())
		}
	}
	for k, v := range svc.Spec.Selector {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("the webhook Service selects %s=%s, which the operator's pods do not have", k, v)
		}
	}
	cert := find(t, objs, "Certificate", "cooperator-serving-cert")
	for _, config := range configs {
		if got, want := config.GetAnnotations()["cert-manager.io/inject-ca-from"], cert.GetNamespace()+"/"+cert.GetName(); got != want {
			t.Errorf("the CA of %s is injected from %q, the Certificate is %q", config.GetName(), got, want)
		}
	}
	dnsNames, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames")
	if want := svc.Name + "." + svc.Namespace + ".svc"; !slices.Contains(dnsNames, want) {
		t.Errorf("the Certificate is for %v, not %s", dnsNames, want)
	}
	secretName, _, _ := unstructured.NestedString(cert.Object, "spec", "secretName")
	mounted := ""
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == secretName {
			mounted = v.Name
		}
	}
	if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
		return m.Name == mounted && m.MountPath == "/tmp/k8s-webhook-server/serving-certs"
	}) {
		t.Errorf("the certificate's Secret %s is not mounted where the webhook server reads it", secretName)
	}
}
