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

package manager_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/test/harness"
)

// TestCacheHoldsOnlyWhatTheOperatorManages starts the real manager and checks, through its
// cache, that it sees the objects it manages and nothing else of a large cluster.
func TestCacheHoldsOnlyWhatTheOperatorManages(t *testing.T) {
	env, ctx := startAPIServer(t)
	c := env.Client

	opts := manager.DefaultOptions()
	opts.MetricsBindAddress, opts.HealthProbeBindAddress, opts.Webhooks = "0", "0", false
	for _, ns := range []string{opts.Hub.OperatorNamespace, "coop-a", "someone-else"} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	managed := map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue}
	objects := []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: opts.Hub.OperatorNamespace, Name: "hub-credentials"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "coop-a", Name: "ours", Labels: managed}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "coop-a", Name: "cnpg-made"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "someone-else", Name: "theirs"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "someone-else", Name: "theirs"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "coop-a", Name: "ours-1", Labels: managed}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "coop-a", Name: "ours-2", Labels: managed}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "coop-a", Name: "platform", Labels: map[string]string{coopv1.LabelCooperative: "a"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "someone-else", Name: "theirs"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}},
	}
	for _, o := range objects {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}

	mgr, err := manager.New(env.Cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = mgr.Start(ctx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		t.Fatal("the cache did not sync")
	}
	cached := mgr.GetClient()

	seen := func(obj client.Object) bool {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			err := cached.Get(ctx, client.ObjectKeyFromObject(obj), obj)
			if err == nil {
				return true
			}
			if !apierrors.IsNotFound(err) {
				t.Fatalf("reading %s from the cache: %v", obj.GetName(), err)
			}
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for _, tc := range []struct {
		obj  client.Object
		want bool
	}{
		{&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: opts.Hub.OperatorNamespace, Name: "hub-credentials"}}, true},
		{&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "coop-a", Name: "platform"}}, true},
	} {
		if !seen(tc.obj) {
			t.Errorf("the cache must hold %T %s/%s", tc.obj, tc.obj.GetNamespace(), tc.obj.GetName())
		}
		if len(tc.obj.GetManagedFields()) != 0 {
			t.Errorf("managedFields must be stripped from %s", tc.obj.GetName())
		}
	}
	// isolation 2: the operator may not list Secrets across the cluster, so no Secret outside
	// its namespace is cached, not even its own; its reconcilers read those by name from the
	// API server (SecretsOutside), where the RoleBinding it made in the co-op's namespace
	// allows it.
	for _, obj := range []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "coop-a", Name: "ours"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "coop-a", Name: "cnpg-made"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "someone-else", Name: "theirs"}},
	} {
		if err := cached.Get(ctx, client.ObjectKeyFromObject(obj), obj); err == nil {
			t.Errorf("the cache must not hold Secret %s/%s", obj.GetNamespace(), obj.GetName())
		}
	}
	reads := manager.SecretsOutside(cached, mgr.GetAPIReader(), opts.Hub.OperatorNamespace)
	if err := reads.Get(ctx, client.ObjectKey{Namespace: "coop-a", Name: "ours"}, &corev1.Secret{}); err != nil {
		t.Errorf("the reconcilers' client reads a co-op's Secret from the API server: %v", err)
	}
	if err := reads.Get(ctx, client.ObjectKey{Namespace: opts.Hub.OperatorNamespace, Name: "hub-credentials"}, &corev1.Secret{}); err != nil {
		t.Errorf("the reconcilers' client reads the operator namespace's Secrets from the cache: %v", err)
	}
	// What many cached objects hold alike is held once (cacheshare): the cache's own objects,
	// listed without the copy a reader gets, share one map of labels.
	if !seen(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "coop-a", Name: "ours-2"}}) {
		t.Fatal("the cache must hold the operator's ConfigMaps")
	}
	var ours corev1.ConfigMapList
	if err := cached.List(ctx, &ours, client.InNamespace("coop-a"), client.UnsafeDisableDeepCopy); err != nil {
		t.Fatal(err)
	}
	if len(ours.Items) != 2 || reflect.ValueOf(ours.Items[0].Labels).UnsafePointer() != reflect.ValueOf(ours.Items[1].Labels).UnsafePointer() {
		t.Errorf("the cached ConfigMaps ours-1 and ours-2 must share their labels (%d listed)", len(ours.Items))
	}
	// What the operator does not manage: once the cache has synced, it is simply not there.
	for _, obj := range []client.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "someone-else", Name: "theirs"}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "someone-else", Name: "theirs"}},
	} {
		err := cached.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		if !apierrors.IsNotFound(err) {
			t.Errorf("the cache must not hold %T %s/%s (got err=%v)", obj, obj.GetNamespace(), obj.GetName(), err)
		}
	}
}

// TestIsolation_2_MetricsNeedAuthenticationAndAuthorization scrapes the real manager's
// metrics endpoint: without a token it is refused, with the token of an identity that is not
// bound to cooperator-metrics-reader it is forbidden, and with one that is it gets the
// metrics.
func TestIsolation_2_MetricsNeedAuthenticationAndAuthorization(t *testing.T) {
	env, ctx := startAPIServer(t)
	c := env.Client

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	opts := manager.DefaultOptions()
	if opts.PprofBindAddress != "" {
		t.Errorf("profiles are served by default on %q", opts.PprofBindAddress)
	}
	opts.MetricsBindAddress, opts.HealthProbeBindAddress, opts.Webhooks = addr, "0", false
	// Go's profiles, asked for (--pprof-bind-address), on an address of their own.
	if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	opts.PprofBindAddress = l.Addr().String()
	_ = l.Close()
	opts.SkipControllerNameValidation = true // another test of this package built a manager
	// The serving certificate of the metrics Service, as the chart or cert-manager gives it
	// (--metrics-cert-dir): a scraper that verifies it against its CA and the Service's name,
	// as the ServiceMonitor does, connects.
	const serverName = "cooperator-controller-manager-metrics.cooperator-system.svc"
	var roots *x509.CertPool
	opts.MetricsCertDir, roots = servingCert(t, serverName)
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: opts.Hub.OperatorNamespace}}); err != nil {
		t.Fatal(err)
	}
	token := func(name string, bound bool) string {
		t.Helper()
		tok, err := harness.MetricsToken(ctx, c, name, bound)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	prometheus, stranger := token("prometheus", true), token("stranger", false)

	mgr, err := manager.New(env.Cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = mgr.Start(ctx) }()

	scrape := func(token string) (int, string) { return harness.ScrapeMetrics(ctx, addr, token) }
	// The authorized scrape, until the server is up and the binding in force.
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, body := scrape(prometheus)
		if code == http.StatusOK {
			if !strings.Contains(body, "controller_runtime_reconcile_total") {
				t.Errorf("an authorized scrape got no controller metrics:\n%.500s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("an authorized scrape: %d %s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, body := scrape(""); code != http.StatusUnauthorized {
		t.Errorf("a scrape without a token: got %d %s, want 401", code, body)
	}
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: serverName, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Errorf("a scraper verifying the metrics server's certificate: %v", err)
	} else {
		_ = conn.Close()
	}
	if conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "elsewhere.example", MinVersion: tls.VersionTLS12}); err == nil {
		_ = conn.Close()
		t.Error("the metrics server's certificate verified for another name")
	}
	// controller-runtime's filter answers a token the API server cannot review with 500.
	if code, body := scrape("not-a-token"); code < 400 || strings.Contains(body, "controller_runtime") {
		t.Errorf("a scrape with a forged token: got %d %s, want a refusal", code, body)
	}
	if code, body := scrape(stranger); code != http.StatusForbidden {
		t.Errorf("a scrape by an identity not bound to %s: got %d %s, want 403", "cooperator-metrics-reader", code, body)
	}
	// The profiles answer on their own address.
	if resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + opts.PprofBindAddress + "/debug/pprof/heap?debug=1"); err != nil {
		t.Errorf("the heap profile: %v", err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "heap profile") {
			t.Errorf("the heap profile: %d %.200s", resp.StatusCode, body)
		}
	}
	// Plain HTTP gets no metrics either.
	if resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + addr + "/metrics"); err == nil {
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if strings.Contains(string(body), "controller_runtime") {
			t.Errorf("plain HTTP served the metrics")
		}
	}
}

// startAPIServer starts an API server with the project's CRDs for one test, and a context
// that ends with the test.
func startAPIServer(t *testing.T) (*harness.Env, context.Context) {
	t.Helper()
	env := harness.StartT(t, harness.Options{ProjectCRDs: true, Scheme: manager.Scheme()})
	return env, t.Context()
}

// servingCert writes a CA's certificate for name, with its key, as tls.crt and tls.key in
// a new directory, and returns the directory and a pool of the CA.
func servingCert(t *testing.T, name string) (string, *x509.CertPool) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for file, block := range map[string]*pem.Block{"tls.crt": {Type: "CERTIFICATE", Bytes: der}, "tls.key": {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(filepath.Join(dir, file), pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	return dir, roots
}
