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
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/cooperator-dev/cooperator/test/harness"
	"github.com/cooperator-dev/cooperator/test/monitoring"
)

// The Prometheus Operator whose CRDs (read from the Go module cache) check the objects.
// metricsCertSecret holds the metrics server's certificate and its CA.
const metricsCertSecret = "cooperator-metrics-server-cert"

const (
	prometheusOperatorModule  = "github.com/prometheus-operator/prometheus-operator"
	prometheusOperatorVersion = "v0.85.0"
)

var monitoringKinds = map[string]bool{"ServiceMonitor": true, "PodMonitor": true, "PrometheusRule": true}

// TestMonitoring renders the chart's monitoring, off by default and on value by value, and
// builds config/prometheus. The API server checks the objects against the Prometheus
// Operator's CRDs (from its Go module, as CloudNativePG's), and the test checks what
// each object scrapes and how, the dashboards and rules they carry (the files of the
// chart, verbatim), and that the chart and kustomize ship the same.
func TestMonitoring(t *testing.T) {
	root := harness.MustRepoRoot(t)
	for _, o := range helmTemplate(t) {
		if monitoringKinds[o.GetKind()] || o.GetLabels()["grafana_dashboard"] != "" || o.GetName() == "cooperator-metrics-scraper" {
			t.Errorf("the chart's defaults create %s %s: monitoring is off by default", o.GetKind(), o.GetName())
		}
	}
	on := helmTemplate(t, "--set", "monitoring.serviceMonitor.enabled=true", "--set", "monitoring.podMonitors.platform.enabled=true",
		"--set", "monitoring.podMonitors.cnpg.enabled=true", "--set", "monitoring.dashboards.enabled=true", "--set", "monitoring.rules.enabled=true")
	kust := kustomizeBuild(t, "config/prometheus")

	t.Run("one value turns on one part", func(t *testing.T) {
		for value, kind := range map[string]string{
			"monitoring.serviceMonitor.enabled": "ServiceMonitor", "monitoring.podMonitors.platform.enabled": "PodMonitor",
			"monitoring.podMonitors.cnpg.enabled": "PodMonitor", "monitoring.rules.enabled": "PrometheusRule", "monitoring.dashboards.enabled": "ConfigMap",
		} {
			n := 0
			for _, o := range helmTemplate(t, "--set", value+"=true") {
				if monitoringKinds[o.GetKind()] || o.GetLabels()["grafana_dashboard"] == "1" {
					n++
					if o.GetKind() != kind {
						t.Errorf("%s=true also creates %s %s", value, o.GetKind(), o.GetName())
					}
				}
			}
			if n == 0 {
				t.Errorf("%s=true creates no %s", value, kind)
			}
		}
	})

	t.Run("the ServiceMonitor scrapes the operator's metrics Service over HTTPS with a token allowed to read them", func(t *testing.T) {
		for _, objs := range map[string][]*unstructured.Unstructured{"chart": on, "config/prometheus": kust} {
			sm := find(t, objs, "ServiceMonitor", "cooperator-controller-manager")
			eps, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
			if len(eps) != 1 {
				t.Fatalf("endpoints %v", eps)
			}
			ep := eps[0].(map[string]any)
			svc := convert[corev1.Service](t, find(t, on, "Service", "cooperator-controller-manager-metrics"))
			if ep["port"] != svc.Spec.Ports[0].Name || ep["scheme"] != "https" || ep["path"] != "/metrics" {
				t.Errorf("the ServiceMonitor scrapes %v %v %v; the metrics Service's port is %s", ep["scheme"], ep["port"], ep["path"], svc.Spec.Ports[0].Name)
			}
			sel, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
			for k, v := range sel {
				if svc.Labels[k] != v {
					t.Errorf("the ServiceMonitor selects %v, the metrics Service has labels %v", sel, svc.Labels)
				}
			}
			secretName, _, _ := unstructured.NestedString(ep, "authorization", "credentials", "name")
			if typ, _, _ := unstructured.NestedString(ep, "authorization", "type"); typ != "Bearer" {
				t.Errorf("authorization type %q", typ)
			}
			secret := convert[corev1.Secret](t, find(t, objs, "Secret", secretName))
			if secret.Type != corev1.SecretTypeServiceAccountToken || secret.Annotations[corev1.ServiceAccountNameKey] != "cooperator-metrics-scraper" {
				t.Errorf("the token Secret %s is %s for %v", secretName, secret.Type, secret.Annotations)
			}
			find(t, objs, "ServiceAccount", "cooperator-metrics-scraper")
			crb := convert[rbacv1.ClusterRoleBinding](t, find(t, objs, "ClusterRoleBinding", "cooperator-metrics-scraper"))
			if crb.RoleRef.Name != "cooperator-metrics-reader" || len(crb.Subjects) != 1 || crb.Subjects[0].Name != "cooperator-metrics-scraper" {
				t.Errorf("the scraper is bound to %s as %+v", crb.RoleRef.Name, crb.Subjects)
			}
			// Verified: against the CA of the metrics server's certificate, for the Service's name.
			if skip, _, _ := unstructured.NestedBool(ep, "tlsConfig", "insecureSkipVerify"); skip {
				t.Errorf("tlsConfig %v skips the verification", ep["tlsConfig"])
			}
			caSecret, _, _ := unstructured.NestedString(ep, "tlsConfig", "ca", "secret", "name")
			caKey, _, _ := unstructured.NestedString(ep, "tlsConfig", "ca", "secret", "key")
			serverName, _, _ := unstructured.NestedString(ep, "tlsConfig", "serverName")
			if caSecret != metricsCertSecret || caKey != "ca.crt" || serverName != svc.Name+"."+svc.Namespace+".svc" {
				t.Errorf("tlsConfig %v: want the CA of Secret %s and the server name of Service %s", ep["tlsConfig"], metricsCertSecret, svc.Name)
			}
		}
	})

	t.Run("the operator serves its metrics with a certificate the ServiceMonitor verifies", func(t *testing.T) {
		// The chart's own certificate: its tls.crt is valid for the metrics Service's name
		// under its ca.crt, and the operator reads it where the chart mounts it.
		svc := convert[corev1.Service](t, find(t, on, "Service", "cooperator-controller-manager-metrics"))
		secret := convert[corev1.Secret](t, find(t, on, "Secret", metricsCertSecret))
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(secret.Data["ca.crt"]) {
			t.Fatalf("Secret %s holds no CA certificate", metricsCertSecret)
		}
		pair, err := tls.X509KeyPair(secret.Data["tls.crt"], secret.Data["tls.key"])
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(pair.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: svc.Name + "." + svc.Namespace + ".svc"}); err != nil {
			t.Errorf("the metrics certificate does not verify for its Service: %v", err)
		}
		// With cert-manager, a Certificate for the same name, into the same Secret (and
		// config/certmanager's, for config/default).
		for name, objs := range map[string][]*unstructured.Unstructured{
			"chart with cert-manager": helmTemplate(t, "--set", "webhook.certManager.enabled=true"),
			"config/default":          kustomizeBuild(t, "config/default"),
		} {
			cert := find(t, objs, "Certificate", "cooperator-metrics-cert")
			dnsNames, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames")
			secretName, _, _ := unstructured.NestedString(cert.Object, "spec", "secretName")
			if secretName != metricsCertSecret || !slices.Contains(dnsNames, svc.Name+"."+svc.Namespace+".svc") {
				t.Errorf("%s: the metrics Certificate is for %v into %s", name, dnsNames, secretName)
			}
			// Issued by a CA of its own, so that its renewal keeps the ca.crt the scrape
			// verifies: the Issuer is a CA Issuer whose Secret is a CA Certificate's.
			issuerName, _, _ := unstructured.NestedString(cert.Object, "spec", "issuerRef", "name")
			caSecret, _, _ := unstructured.NestedString(find(t, objs, "Issuer", issuerName).Object, "spec", "ca", "secretName")
			var caCert *unstructured.Unstructured
			for _, o := range objs {
				if s, _, _ := unstructured.NestedString(o.Object, "spec", "secretName"); o.GetKind() == "Certificate" && s == caSecret && caSecret != "" {
					caCert = o
				}
			}
			if caCert == nil {
				t.Errorf("%s: the metrics Certificate's Issuer %s is no CA Issuer of a Certificate here (secret %q)", name, issuerName, caSecret)
			} else if isCA, _, _ := unstructured.NestedBool(caCert.Object, "spec", "isCA"); !isCA {
				t.Errorf("%s: Certificate %s, the metrics CA, is no CA", name, caCert.GetName())
			}
		}
		for name, objs := range map[string][]*unstructured.Unstructured{"chart": on, "config/default": kustomizeBuild(t, "config/default")} {
			d := convert[appsv1.Deployment](t, find(t, objs, "Deployment", "cooperator-controller-manager"))
			c := d.Spec.Template.Spec.Containers[0]
			volume := ""
			for _, v := range d.Spec.Template.Spec.Volumes {
				if v.Secret != nil && v.Secret.SecretName == metricsCertSecret {
					volume = v.Name
				}
			}
			dir := ""
			for _, a := range c.Args {
				if v, ok := strings.CutPrefix(a, "--metrics-cert-dir="); ok {
					dir = v
				}
			}
			if dir == "" || !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == volume && m.MountPath == dir }) {
				t.Errorf("%s: the operator reads its metrics certificate from %q; Secret %s is mounted as volume %q at %v", name, dir, metricsCertSecret, volume, c.VolumeMounts)
			}
		}
	})

	t.Run("the PodMonitors scrape the co-ops' platform and database pods by the port metrics, labelled by co-op", func(t *testing.T) {
		for _, objs := range [][]*unstructured.Unstructured{on, kust} {
			for name, label := range map[string]string{"cooperator-platform": "app.kubernetes.io/part-of", "cooperator-cnpg": "cnpg.io/podRole"} {
				pm := find(t, objs, "PodMonitor", name)
				if anyNS, _, _ := unstructured.NestedBool(pm.Object, "spec", "namespaceSelector", "any"); !anyNS {
					t.Errorf("%s does not look in every namespace", name)
				}
				if sel, _, _ := unstructured.NestedStringMap(pm.Object, "spec", "selector", "matchLabels"); sel[label] == "" {
					t.Errorf("%s selects %v", name, sel)
				}
				eps, _, _ := unstructured.NestedSlice(pm.Object, "spec", "podMetricsEndpoints")
				ep := eps[0].(map[string]any)
				rl, _ := ep["relabelings"].([]any)
				if ep["port"] != "metrics" || len(rl) != 1 || rl[0].(map[string]any)["targetLabel"] != "cooperative" {
					t.Errorf("%s scrapes %v", name, ep)
				}
			}
			// The shared Cluster's instances carry no co-op label: a PodMonitor of their own,
			// in the operator namespace, by the Cluster's name.
			pm := find(t, objs, "PodMonitor", "cooperator-cnpg-shared")
			if ns, _, _ := unstructured.NestedStringSlice(pm.Object, "spec", "namespaceSelector", "matchNames"); !slices.Equal(ns, []string{"cooperator-system"}) {
				t.Errorf("cooperator-cnpg-shared looks in %v, want the operator namespace", ns)
			}
			if sel, _, _ := unstructured.NestedStringMap(pm.Object, "spec", "selector", "matchLabels"); sel["cnpg.io/cluster"] != "cooperator-shared" || sel["cnpg.io/podRole"] != "instance" {
				t.Errorf("cooperator-cnpg-shared selects %v", sel)
			}
			eps, _, _ := unstructured.NestedSlice(pm.Object, "spec", "podMetricsEndpoints")
			if ep := eps[0].(map[string]any); ep["port"] != "metrics" {
				t.Errorf("cooperator-cnpg-shared scrapes %v", ep)
			}
		}
	})

	t.Run("the dashboards ship verbatim with the sidecar label", func(t *testing.T) {
		dashboards, err := monitoring.Dashboards(root)
		if err != nil {
			t.Fatal(err)
		}
		for file := range dashboards {
			want, err := os.ReadFile(filepath.Join(root, "charts", "cooperator", "dashboards", file))
			if err != nil {
				t.Fatal(err)
			}
			name := "cooperator-dashboard-" + file[:len(file)-len(".json")]
			for _, objs := range [][]*unstructured.Unstructured{on, kust} {
				cm := convert[corev1.ConfigMap](t, find(t, objs, "ConfigMap", name))
				if cm.Labels["grafana_dashboard"] != "1" {
					t.Errorf("ConfigMap %s has labels %v", name, cm.Labels)
				}
				var got, exp any
				if err := json.Unmarshal([]byte(cm.Data[file]), &got); err != nil {
					t.Fatalf("ConfigMap %s: %v", name, err)
				}
				_ = json.Unmarshal(want, &exp)
				if !reflect.DeepEqual(got, exp) {
					t.Errorf("ConfigMap %s does not hold dashboards/%s", name, file)
				}
			}
		}
	})

	t.Run("the API server accepts them under the Prometheus Operator's CRDs", func(t *testing.T) {
		dir, err := harness.ModuleDir(prometheusOperatorModule, prometheusOperatorVersion)
		if err != nil {
			t.Fatal(err)
		}
		var crds []string
		for _, kind := range []string{"servicemonitors", "podmonitors", "prometheusrules"} {
			crds = append(crds, filepath.Join(dir, "example", "prometheus-operator-crd", "monitoring.coreos.com_"+kind+".yaml"))
		}
		env := harness.StartT(t, harness.Options{CRDDirectoryPaths: crds})
		ctx := context.Background()
		if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}}); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, objs := range [][]*unstructured.Unstructured{on, kust} {
			for _, o := range objs {
				if !monitoringKinds[o.GetKind()] {
					continue
				}
				n++
				// A strict dry run: the API server validates against the CRDs' schemas and
				// rules, refuses unknown fields, and stores nothing.
				if err := env.Client.Create(ctx, o.DeepCopy(), client.DryRunAll, client.FieldValidation("Strict")); err != nil {
					t.Errorf("%s %s: %v", o.GetKind(), o.GetName(), err)
				}
			}
		}
		if n != 10 {
			t.Errorf("%d monitoring objects checked, want 10 (5 of the chart, 5 of config/prometheus)", n)
		}
	})

	t.Run("the PrometheusRule holds the rule groups of files/rules.yaml", func(t *testing.T) {
		data, err := os.ReadFile(monitoring.RulesFile(root))
		if err != nil {
			t.Fatal(err)
		}
		var want map[string]any
		if err := yaml.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		for _, objs := range [][]*unstructured.Unstructured{on, kust} {
			pr := find(t, objs, "PrometheusRule", "cooperator")
			if got := pr.Object["spec"]; !reflect.DeepEqual(got, want) {
				t.Errorf("the PrometheusRule's spec differs from files/rules.yaml:\n got %v\nwant %v", got, want)
			}
		}
	})
}
