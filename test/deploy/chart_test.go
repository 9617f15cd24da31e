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
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/platform"
	"github.com/cooperator-dev/cooperator/test/harness"
)

// TestChart renders the Helm chart and checks it against config/: the same RBAC rules, the
// same hub settings, the same way of running the operator. The chart's applying to an API
// server is checked in TestDeploy.
func TestChart(t *testing.T) {
	chart := helmTemplate(t)
	config := kustomizeBuild(t, "config/default")
	root := harness.MustRepoRoot(t)

	t.Run("its ClusterRoles have the rules of config/rbac", func(t *testing.T) {
		for file, name := range map[string]string{
			"role.yaml": managerRole, "coop_admin_role.yaml": coopAdminRole, "costreport_reader_role.yaml": "cooperator-costreport-reader",
			"tenant_role.yaml": "cooperator-tenant", "metrics_reader_role.yaml": "cooperator-metrics-reader",
		} {
			want := &rbacv1.ClusterRole{}
			data, err := os.ReadFile(filepath.Join(root, "config", "rbac", file))
			if err != nil {
				t.Fatal(err)
			}
			if err := yaml.UnmarshalStrict(data, want); err != nil {
				t.Fatalf("config/rbac/%s: %v", file, err)
			}
			if got := clusterRole(t, chart, name); !reflect.DeepEqual(got.Rules, want.Rules) {
				t.Errorf("the chart's ClusterRole %s differs from config/rbac/%s: run `make manifests`\n got %+v\nwant %+v", name, file, got.Rules, want.Rules)
			}
		}
		got := convert[rbacv1.Role](t, find(t, chart, "Role", leaderElection))
		want := convert[rbacv1.Role](t, find(t, config, "Role", leaderElection))
		if !reflect.DeepEqual(got.Rules, want.Rules) {
			t.Errorf("the chart's leader election Role differs from config/rbac:\n got %+v\nwant %+v", got.Rules, want.Rules)
		}
		crb := convert[rbacv1.ClusterRoleBinding](t, find(t, chart, "ClusterRoleBinding", managerRole))
		if want := []rbacv1.Subject{{Kind: "ServiceAccount", Name: serviceAccount, Namespace: operatorNamespace}}; crb.RoleRef.Name != managerRole || !reflect.DeepEqual(crb.Subjects, want) {
			t.Errorf("ClusterRoleBinding %s binds %s to %+v", crb.Name, crb.RoleRef.Name, crb.Subjects)
		}
	})

	t.Run("isolation 2: its operator Role and admission policy are those of config/rbac", func(t *testing.T) {
		for _, file := range []string{"operator_namespace_role.yaml", "operator_policy.yaml"} {
			data, err := os.ReadFile(filepath.Join(root, "config", "rbac", file))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range decodeYAMLStream(t, data) {
				got := find(t, chart, w.GetKind(), w.GetName())
				for _, field := range []string{"rules", "spec", "roleRef", "subjects"} {
					if !reflect.DeepEqual(got.Object[field], w.Object[field]) {
						t.Errorf("the chart's %s %s differs in %s from config/rbac/%s: run `make manifests`\n got %v\nwant %v",
							w.GetKind(), w.GetName(), field, file, got.Object[field], w.Object[field])
					}
				}
			}
		}
		policy := find(t, helmTemplate(t, "--namespace", "hub-ops"), "ValidatingAdmissionPolicy", "cooperator-operator-scope")
		if s := fmt.Sprint(policy.Object["spec"]); !strings.Contains(s, "system:serviceaccount:hub-ops:cooperator-controller-manager") || !strings.Contains(s, "variables.ns == 'hub-ops'") {
			t.Errorf("in release namespace hub-ops, the policy does not hold the release's ServiceAccount to it: %s", s)
		}
	})

	t.Run("its federation peer roles are those of config/rbac, behind federation.peerRoles.enabled", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(root, "config", "rbac", "federation_peer_role.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		want := decodeYAMLStream(t, data)
		if len(want) != 7 {
			t.Fatalf("config/rbac/federation_peer_role.yaml holds %d objects, this test knows 7", len(want))
		}
		// The policy matches the peer identities the webhook keeps out of co-ops' admins.
		for _, id := range []string{"'" + coopv1.PeerUserPrefix + "'", "'system:serviceaccount:" + coopv1.PeerServiceAccountNamespace + ":'"} {
			if !strings.Contains(string(data), id) {
				t.Errorf("config/rbac/federation_peer_role.yaml does not match the peer identity %s (api/v1alpha1 PeerUserPrefix, PeerServiceAccountNamespace)", id)
			}
		}
		// Its refusal says what the peer's operator looks for (removing a standby it cannot read).
		if !strings.Contains(string(data), coopv1.PeerPolicyRefusal) {
			t.Errorf("config/rbac/federation_peer_role.yaml's refusal does not say %q (api/v1alpha1 PeerPolicyRefusal)", coopv1.PeerPolicyRefusal)
		}
		for _, w := range want {
			got := find(t, chart, w.GetKind(), w.GetName())
			for _, field := range []string{"rules", "spec"} {
				if !reflect.DeepEqual(got.Object[field], w.Object[field]) {
					t.Errorf("the chart's %s %s differs in %s from config/rbac/federation_peer_role.yaml: run `make manifests`\n got %v\nwant %v",
						w.GetKind(), w.GetName(), field, got.Object[field], w.Object[field])
				}
			}
			if got.GetLabels()["app.kubernetes.io/managed-by"] != "Helm" {
				t.Errorf("the chart's %s %s has not the chart's labels: %v", w.GetKind(), w.GetName(), got.GetLabels())
			}
		}
		// The binding applies the policy to every request the policy matches.
		for _, name := range []string{"cooperator-federation-peer", "cooperator-federation-peer-bindings"} {
			vapb := convert[admissionregistrationv1.ValidatingAdmissionPolicyBinding](t, find(t, chart, "ValidatingAdmissionPolicyBinding", name))
			if vapb.Spec.PolicyName != name || vapb.Spec.ParamRef != nil || vapb.Spec.MatchResources != nil {
				t.Errorf("the policy binding %s narrows or renames the policy: %+v", name, vapb.Spec)
			}
		}
		for _, o := range helmTemplate(t, "--set", "federation.peerRoles.enabled=false") {
			for _, w := range want {
				if o.GetKind() == w.GetKind() && o.GetName() == w.GetName() {
					t.Errorf("federation.peerRoles.enabled=false still installs %s %s", o.GetKind(), o.GetName())
				}
			}
		}
	})

	t.Run("its hub settings are those of config/manager/hub.yaml", func(t *testing.T) {
		got := hubSettings(t, convert[corev1.ConfigMap](t, find(t, chart, "ConfigMap", "cooperator-hub-config")))
		want := hubSettings(t, convert[corev1.ConfigMap](t, findPrefix(t, config, "ConfigMap", "cooperator-hub-config")))
		// The platform runs the operator's own image, pinned by the chart's appVersion,
		// where config/ (built with make deploy IMG=...) names one.
		if image := deployment(t, chart).Spec.Template.Spec.Containers[0].Image; got.PlatformImage != image || !strings.HasSuffix(image, ":"+chartAppVersion(t)) {
			t.Errorf("the chart's platformImage is %q, the operator's image %q, the appVersion %s", got.PlatformImage, image, chartAppVersion(t))
		}
		got.PlatformImage = want.PlatformImage
		if !reflect.DeepEqual(got, want) {
			t.Errorf("the chart's hub settings differ from config/manager/hub.yaml:\n got %+v\nwant %+v", got, want)
		}
		values, err := os.ReadFile(filepath.Join(root, "charts", "cooperator", "values.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Hub any `json:"hub"`
		}
		if err := yaml.Unmarshal(values, &v); err != nil {
			t.Fatal(err)
		}
		hubValues, err := yaml.Marshal(v.Hub)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := yamlKeys(t, hubValues), settingKeys(reflect.TypeFor[hubconfig.Config](), ""); !reflect.DeepEqual(got, want) {
			t.Errorf("values.yaml sets hub.%v, the settings are %v", got, want)
		}
	})

	t.Run("it runs the operator as config/manager does", func(t *testing.T) {
		got, want := deployment(t, chart).Spec.Template.Spec, deployment(t, config).Spec.Template.Spec
		gc, wc := got.Containers[0], want.Containers[0]
		for _, f := range []struct {
			name      string
			got, want any
		}{
			{"serviceAccountName", got.ServiceAccountName, want.ServiceAccountName},
			{"pod securityContext", got.SecurityContext, want.SecurityContext},
			{"container securityContext", gc.SecurityContext, wc.SecurityContext},
			{"command", gc.Command, wc.Command},
			{"args", gc.Args[:3], wc.Args[:3]},
			{"env", gc.Env, wc.Env},
			{"ports", gc.Ports, wc.Ports},
			{"livenessProbe", gc.LivenessProbe, wc.LivenessProbe},
			{"readinessProbe", gc.ReadinessProbe, wc.ReadinessProbe},
			{"resources", gc.Resources, wc.Resources},
			{"volumeMounts", gc.VolumeMounts, wc.VolumeMounts},
		} {
			if !reflect.DeepEqual(f.got, f.want) {
				t.Errorf("the chart's Deployment differs from config/manager in %s:\n got %+v\nwant %+v", f.name, f.got, f.want)
			}
		}
	})

	t.Run("extraArgs reach the operator after the chart's own flags, and it reads them", func(t *testing.T) {
		base := deployment(t, chart).Spec.Template.Spec.Containers[0].Args
		extra := []string{"--max-concurrent-reconciles=16", "--governance-interval=1m"}
		args := deployment(t, helmTemplate(t, "--set", "extraArgs={"+strings.Join(extra, ",")+"}")).Spec.Template.Spec.Containers[0].Args
		if want := append(slices.Clone(base), extra...); !slices.Equal(args, want) {
			t.Fatalf("args %q, want %q", args, want)
		}
		opts := manager.DefaultOptions()
		fs := flag.NewFlagSet("manager", flag.ContinueOnError)
		opts.BindFlags(fs)
		if err := fs.Parse(args[len(base):]); err != nil {
			t.Fatal(err)
		}
		if opts.Throughput.MaxConcurrentReconciles != 16 || opts.GovernanceInterval != time.Minute {
			t.Errorf("the operator read %d reconciles in parallel and a governance interval of %s", opts.Throughput.MaxConcurrentReconciles, opts.GovernanceInterval)
		}
	})

	t.Run("it installs the default PlatformTemplates", func(t *testing.T) {
		templates, err := platform.DefaultTemplates()
		if err != nil {
			t.Fatal(err)
		}
		for _, tpl := range templates {
			find(t, chart, "PlatformTemplate", tpl.Name)
		}
		for _, o := range helmTemplate(t, "--set", "platformTemplates.install=false") {
			if o.GetKind() == "PlatformTemplate" {
				t.Errorf("platformTemplates.install=false still installs PlatformTemplate %s", o.GetName())
			}
		}
	})

	t.Run("its webhooks are those of config/webhook", func(t *testing.T) {
		for _, args := range [][]string{nil, {"--set", "webhook.certManager.enabled=true"}} {
			objs := helmTemplate(t, args...)
			certManager := len(args) > 0
			for _, wc := range webhookConfigurations {
				want := webhooksOf(t, find(t, config, wc.kind, wc.name))
				got := find(t, objs, wc.kind, wc.name)
				hooks := webhooksOf(t, got)
				for _, h := range hooks {
					cc, _ := h["clientConfig"].(map[string]any)
					if ca, _ := cc["caBundle"].(string); certManager != (ca == "") {
						t.Errorf("%v: %s webhook %v has a CA bundle of %d bytes", args, wc.kind, h["name"], len(ca))
					}
					delete(cc, "caBundle")
				}
				// Compared as JSON: the two YAML readers type numbers differently.
				if gotJSON, wantJSON := harness.MustJSON(t, hooks), harness.MustJSON(t, want); gotJSON != wantJSON {
					t.Errorf("%v: the chart's %s webhooks differ from config/webhook:\n got %s\nwant %s", args, wc.kind, gotJSON, wantJSON)
				}
				if certManager && got.GetAnnotations()["cert-manager.io/inject-ca-from"] != operatorNamespace+"/cooperator-serving-cert" {
					t.Errorf("with cert-manager, the CA of %s is not injected: %v", wc.name, got.GetAnnotations())
				}
			}
			if certManager {
				find(t, objs, "Certificate", "cooperator-serving-cert")
			} else {
				find(t, objs, "Secret", "cooperator-webhook-server-cert")
			}
		}
	})

	t.Run("in another namespace, it runs and binds there", func(t *testing.T) {
		objs := helmTemplate(t, "--namespace", "hub-ops")
		hub := hubSettings(t, convert[corev1.ConfigMap](t, find(t, objs, "ConfigMap", "cooperator-hub-config")))
		if hub.OperatorNamespace != "hub-ops" {
			t.Errorf("operatorNamespace is %q, want the release namespace hub-ops", hub.OperatorNamespace)
		}
		crb := convert[rbacv1.ClusterRoleBinding](t, find(t, objs, "ClusterRoleBinding", managerRole))
		if crb.Subjects[0].Namespace != "hub-ops" {
			t.Errorf("the ClusterRoleBinding binds a ServiceAccount of namespace %q", crb.Subjects[0].Namespace)
		}
		for _, o := range objs {
			if o.GetNamespace() != "" && o.GetNamespace() != "hub-ops" {
				t.Errorf("%s %s is in namespace %s", o.GetKind(), o.GetName(), o.GetNamespace())
			}
		}
	})

	t.Run("with another operator namespace, its Lease may be taken there", func(t *testing.T) {
		objs := helmTemplate(t, "--set", "hub.operatorNamespace=hub-data")
		for _, kind := range []string{"Role", "RoleBinding"} {
			if ns := find(t, objs, kind, leaderElection).GetNamespace(); ns != "hub-data" {
				t.Errorf("the leader election %s is in namespace %s, the operator takes its Lease in hub-data", kind, ns)
			}
		}
		rb := convert[rbacv1.RoleBinding](t, find(t, objs, "RoleBinding", leaderElection))
		if rb.Subjects[0].Namespace != operatorNamespace {
			t.Errorf("the leader election RoleBinding binds a ServiceAccount of namespace %s, not the release's", rb.Subjects[0].Namespace)
		}
	})
}

// chartAppVersion is the appVersion of charts/cooperator.
func chartAppVersion(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(harness.MustRepoRoot(t), "charts", "cooperator", "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var chart struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(data, &chart); err != nil {
		t.Fatal(err)
	}
	return chart.AppVersion
}

// TestChartRefusesBadValues: values.schema.json refuses typos and wrong types, and the
// chart refuses several operators without leader election, each with a message that
// names the value.
func TestChartRefusesBadValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  []string
		want string
	}{
		{"replicas not a number", []string{"--set-string", "replicas=two"}, "replicas"},
		{"no replica", []string{"--set", "replicas=0"}, "replicas"},
		{"a typo in a hub setting", []string{"--set", "hub.regoin=eu-west"}, "regoin"},
		{"a typo at the top", []string{"--set", "replica=2"}, "replica"},
		{"an unknown section", []string{"--set", "nonsense.enabled=true"}, "nonsense"},
		{"several operators without leader election", []string{"--set", "replicas=2", "--set", "leaderElection=false"}, "replicas is 2 but leaderElection is false"},
		{"a boolean as a string", []string{"--set-string", "leaderElection=yes"}, "leaderElection"},
		{"an unknown log level", []string{"--set", "logLevel=verbose"}, "logLevel"},
		{"an unknown pull policy", []string{"--set", "image.pullPolicy=Sometimes"}, "pullPolicy"},
		{"a region that is no DNS label", []string{"--set", "hub.region=EU_West"}, "region"},
		{"a bucket without a scheme", []string{"--set", "hub.objectStore.destinationPath=my-bucket"}, "destinationPath"},
		{"a duration without a unit", []string{"--set", "hub.recheckInterval=30"}, "recheckInterval"},
		{"a port out of range", []string{"--set", "metrics.port=70000"}, "port"},
		{"no shared instance", []string{"--set", "hub.sharedCluster.instances=0"}, "instances"},
		{"a negative disruption budget", []string{"--set", "podDisruptionBudget.maxUnavailable=-1"}, "maxUnavailable"},
		{"an unknown spread rule", []string{"--set", "topologySpread.whenUnsatisfiable=Maybe"}, "whenUnsatisfiable"},
		{"crds.keep not a boolean", []string{"--set-string", "crds.keep=always"}, "keep"},
		{"a pull secret without a name", []string{"--set", "imagePullSecrets[0].nme=regcred"}, "nme"},
		{"an extra argument that is no flag", []string{"--set", "extraArgs[0]=governance-interval=1m"}, "extraArgs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := helmTemplateError(t, tc.set...)
			if err == nil {
				t.Fatalf("helm template %v rendered", tc.set)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("helm template %v: %s\ndoes not name %q", tc.set, msg, tc.want)
			}
		})
	}
	// The limit case renders: several replicas with leader election.
	if msg, err := helmTemplateError(t, "--set", "replicas=3"); err != nil {
		t.Errorf("replicas=3 with leader election: %v %s", err, msg)
	}
}

// TestChartSchemaCoversEveryValue: values.yaml and values.schema.json name the same keys,
// so a value added to one and not the other fails here, with its name.
func TestChartSchemaCoversEveryValue(t *testing.T) {
	root := harness.MustRepoRoot(t)
	values, err := os.ReadFile(filepath.Join(root, "charts", "cooperator", "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "charts", "cooperator", "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := yaml.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	// Leaves of the schema: a property without properties of its own (maps and lists of
	// free form, such as podLabels, are leaves in both files).
	var leaves []string
	var walk func(prefix string, s map[string]any)
	walk = func(prefix string, s map[string]any) {
		props, ok := s["properties"].(map[string]any)
		if !ok {
			leaves = append(leaves, prefix)
			return
		}
		if s["additionalProperties"] != false {
			t.Errorf("schema of %q allows unknown keys: set additionalProperties false", prefix)
		}
		for k, v := range props {
			walk(strings.TrimPrefix(prefix+"."+k, "."), v.(map[string]any))
		}
	}
	walk("", schema)
	var v map[string]any
	if err := yaml.Unmarshal(values, &v); err != nil {
		t.Fatal(err)
	}
	// Keys of values.yaml, down to where the schema stops (an empty map or list is a leaf).
	var keys []string
	var walkValues func(prefix string, v any)
	walkValues = func(prefix string, v any) {
		if m, ok := v.(map[string]any); ok && len(m) > 0 && !slices.Contains(leaves, prefix) {
			for k, vv := range m {
				walkValues(strings.TrimPrefix(prefix+"."+k, "."), vv)
			}
			return
		}
		keys = append(keys, prefix)
	}
	walkValues("", v)
	for _, k := range keys {
		if !slices.Contains(leaves, k) {
			t.Errorf("values.yaml sets %s, which values.schema.json does not describe", k)
		}
	}
	for _, l := range leaves {
		if !slices.Contains(keys, l) {
			t.Errorf("values.schema.json describes %s, which values.yaml does not set", l)
		}
	}
}

// TestChartPackaging: the CRDs are templates, kept on uninstall unless crds.keep is false;
// the operator has a PodDisruptionBudget and spreads its replicas.
func TestChartPackaging(t *testing.T) {
	chart := helmTemplate(t)
	bases, err := filepath.Glob(filepath.Join(harness.MustRepoRoot(t), "config", "crd", "bases", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var crds int
	for _, o := range chart {
		if o.GetKind() == "CustomResourceDefinition" {
			crds++
			if o.GetAnnotations()["helm.sh/resource-policy"] != "keep" {
				t.Errorf("CRD %s is not kept on uninstall: %v", o.GetName(), o.GetAnnotations())
			}
		}
	}
	if crds != len(bases) {
		t.Errorf("the chart templates %d CRDs, config/crd/bases holds %d", crds, len(bases))
	}
	for _, o := range helmTemplate(t, "--set", "crds.keep=false") {
		if _, kept := o.GetAnnotations()["helm.sh/resource-policy"]; o.GetKind() == "CustomResourceDefinition" && kept {
			t.Errorf("crds.keep=false still keeps CRD %s", o.GetName())
		}
	}
	for _, o := range helmTemplate(t, "--set", "crds.install=false") {
		if o.GetKind() == "CustomResourceDefinition" {
			t.Errorf("crds.install=false still installs CRD %s", o.GetName())
		}
	}
	pdb := find(t, chart, "PodDisruptionBudget", "cooperator-controller-manager")
	if got, _, _ := unstructured.NestedFieldNoCopy(pdb.Object, "spec", "maxUnavailable"); fmt.Sprint(got) != "1" {
		t.Errorf("PodDisruptionBudget: %v", pdb.Object["spec"])
	}
	d := deployment(t, chart)
	if spread := d.Spec.Template.Spec.TopologySpreadConstraints; len(spread) != 2 || spread[0].LabelSelector.MatchLabels["app.kubernetes.io/component"] != "controller-manager" {
		t.Errorf("topology spread: %+v", spread)
	}
	if !strings.HasSuffix(d.Spec.Template.Spec.Containers[0].Image, ":"+chartAppVersion(t)) {
		t.Errorf("the operator's image %s is not the appVersion", d.Spec.Template.Spec.Containers[0].Image)
	}
}
