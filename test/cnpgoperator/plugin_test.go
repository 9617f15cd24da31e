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

package cnpgoperator_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"strconv"
	"time"

	"github.com/cloudnative-pg/cnpg-i/pkg/identity"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/test/harness"
)

// The Barman Cloud plugin does not run here, and CloudNativePG stops reconciling a Cluster
// that names a plugin it has not loaded ("Cluster cannot proceed to reconciliation due to
// an unknown plugin being required"): no Secrets, no Services. The stand-in below is a
// CNPG-i plugin that answers only the identity service, under the Barman Cloud plugin's
// name and with no capabilities, so CloudNativePG loads it and goes on with the Cluster.
// It archives nothing and takes no backups.
//
// CloudNativePG finds remote plugins through a Service of its namespace labelled
// cnpg.io/pluginName, and dials <service name>:<cnpg.io/pluginPort> with mutual TLS. The
// Service is named "localhost", so that this dial reaches the stand-in in this process.
const pluginServiceName = "localhost"

type standInPlugin struct {
	identity.UnimplementedIdentityServer
}

func (standInPlugin) GetPluginMetadata(context.Context, *identity.GetPluginMetadataRequest) (*identity.GetPluginMetadataResponse, error) {
	return &identity.GetPluginMetadataResponse{
		Name:          coopv1.BarmanPluginName,
		Version:       "0.0.0-stand-in",
		DisplayName:   "Barman Cloud stand-in of the cooperator tests",
		ProjectUrl:    "https://github.com/cooperator-dev/cooperator",
		RepositoryUrl: "https://github.com/cooperator-dev/cooperator",
		License:       "Apache-2.0",
		LicenseUrl:    "https://www.apache.org/licenses/LICENSE-2.0",
		Maturity:      "alpha",
	}, nil
}

func (standInPlugin) GetPluginCapabilities(context.Context, *identity.GetPluginCapabilitiesRequest) (*identity.GetPluginCapabilitiesResponse, error) {
	return &identity.GetPluginCapabilitiesResponse{}, nil
}

func (standInPlugin) Probe(context.Context, *identity.ProbeRequest) (*identity.ProbeResponse, error) {
	return &identity.ProbeResponse{Ready: true}, nil
}

// startStandInPlugin serves the stand-in on a loopback port and registers it with
// CloudNativePG; the returned function stops it.
func startStandInPlugin(ctx context.Context, c client.Client) (func(), error) {
	serverCert, serverPEM, serverKeyPEM, err := selfSigned("localhost")
	if err != nil {
		return nil, err
	}
	_, clientPEM, clientKeyPEM, err := selfSigned("cnpg-operator")
	if err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{serverCert},
		ClientAuth:   tls.RequireAnyClientCert,
		MinVersion:   tls.VersionTLS13,
	})))
	identity.RegisterIdentityServer(srv, standInPlugin{})
	go func() { _ = srv.Serve(lis) }()

	port := lis.Addr().(*net.TCPAddr).Port
	ns := harness.CNPGNamespace
	objs := []client.Object{
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "barman-cloud-server-tls"},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{corev1.TLSCertKey: serverPEM, corev1.TLSPrivateKeyKey: serverKeyPEM},
		},
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "barman-cloud-client-tls"},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{corev1.TLSCertKey: clientPEM, corev1.TLSPrivateKeyKey: clientKeyPEM},
		},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: ns, Name: pluginServiceName,
				Labels: map[string]string{"cnpg.io/pluginName": coopv1.BarmanPluginName},
				Annotations: map[string]string{
					"cnpg.io/pluginPort":         strconv.Itoa(port),
					"cnpg.io/pluginServerSecret": "barman-cloud-server-tls",
					"cnpg.io/pluginClientSecret": "barman-cloud-client-tls",
				},
			},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "grpc", Port: int32(port)}}},
		},
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			srv.Stop()
			return nil, fmt.Errorf("registering the stand-in plugin: %w", err)
		}
	}
	return srv.Stop, nil
}

// selfSigned makes a self-signed certificate for name (which is also its own CA).
func selfSigned(name string) (tls.Certificate, []byte, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name},
		DNSNames:              []string{name},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	return cert, certPEM, keyPEM, err
}
