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

package cnpg_test

import (
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	barmanapi "github.com/cloudnative-pg/barman-cloud/pkg/api"
	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// newNamespace creates a namespace for one spec and deletes it afterwards.
func newNamespace(ctx SpecContext) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "cnpg-"}}
	Expect(env.Client.Create(ctx, ns)).To(Succeed())
	DeferCleanup(func(ctx SpecContext) {
		Expect(client.IgnoreNotFound(env.Client.Delete(ctx, ns))).To(Succeed())
	})
	return ns.Name
}

// minimalCluster is a one-instance Cluster with 1Gi of storage and nothing else.
func minimalCluster(namespace, name string) *cnpgv1.Cluster {
	return &cnpgv1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: cnpgv1.ClusterSpec{
			Instances:            1,
			StorageConfiguration: cnpgv1.StorageConfiguration{Size: "1Gi"},
		},
	}
}

var _ = Describe("The CloudNativePG operator", func() {
	var ns string

	BeforeEach(func(ctx SpecContext) {
		ns = newNamespace(ctx)
	})

	It("defaults a Cluster and creates its Secrets and Services", func(ctx SpecContext) {
		cluster := minimalCluster(ns, "pg")
		Expect(env.Client.Create(ctx, cluster)).To(Succeed())

		By("the mutating webhook filling in defaults")
		stored := &cnpgv1.Cluster{}
		Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(cluster), stored)).To(Succeed())
		Expect(stored.Spec.ImageName).NotTo(BeEmpty())
		Expect(stored.Spec.Bootstrap).NotTo(BeNil())
		Expect(stored.Spec.Bootstrap.InitDB).NotTo(BeNil())
		Expect(stored.Spec.Bootstrap.InitDB.Database).To(Equal("app"))
		Expect(stored.Spec.PostgresConfiguration.Parameters).NotTo(BeEmpty())

		By("the controller creating the application Secret and the read-write Service")
		secret := &corev1.Secret{}
		Eventually(func(g Gomega) {
			g.Expect(env.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "pg-app"}, secret)).To(Succeed())
			g.Expect(secret.Data).To(HaveKey("uri"))
		}).WithContext(ctx).WithTimeout(30 * time.Second).Should(Succeed())
		Expect(string(secret.Data["uri"])).To(HavePrefix("postgresql://app:"))
		Expect(string(secret.Data["uri"])).To(ContainSubstring("@pg-rw." + ns))

		service := &corev1.Service{}
		Eventually(func() error {
			return env.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "pg-rw"}, service)
		}).WithContext(ctx).WithTimeout(30 * time.Second).Should(Succeed())
		Expect(service.Spec.Ports).NotTo(BeEmpty())
		Expect(service.Spec.Ports[0].Port).To(BeEquivalentTo(5432))
	})

	It("keeps a field of the v1.30 API that the v1.29 operator does not know", func(ctx SpecContext) {
		// The project writes Clusters with the v1.30 API types, while the operator here
		// is v1.29: its defaulting webhook must not strip spec.primaryLease, nor its
		// controller's writes.
		cluster := minimalCluster(ns, "lease")
		cluster.Spec.PrimaryLease = &cnpgv1.PrimaryLeaseConfiguration{LeaseDurationSeconds: ptr.To[int32](30)}
		Expect(env.Client.Create(ctx, cluster)).To(Succeed())
		Expect(cluster.Spec.ImageName).NotTo(BeEmpty(), "defaulted by the webhook")

		Eventually(func() error {
			return env.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "lease-app"}, &corev1.Secret{})
		}).WithContext(ctx).WithTimeout(30 * time.Second).Should(Succeed())
		// Once the controller has written the Cluster (its status), the field is still there.
		// v1.29 writes a Cluster's status through the status subresource, which leaves the
		// spec alone, and its spec only with merge patches of the fields it changes.
		stored := &cnpgv1.Cluster{}
		Eventually(func(g Gomega) {
			g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(cluster), stored)).To(Succeed())
			g.Expect(stored.Status.Phase).NotTo(BeEmpty(), "the controller has written the Cluster")
		}).WithContext(ctx).WithTimeout(30 * time.Second).Should(Succeed())
		Expect(stored.Spec.PrimaryLease).NotTo(BeNil())
		Expect(stored.Spec.PrimaryLease.LeaseDurationSeconds).To(HaveValue(BeEquivalentTo(30)))
	})

	It("refuses, with its own validating webhook, a Cluster the CRD schema allows", func(ctx SpecContext) {
		// The CRD schema takes any string as imageName; CNPG's webhook refuses the
		// "latest" tag because it cannot detect upgrades from it.
		cluster := minimalCluster(ns, "latest")
		cluster.Spec.ImageName = "ghcr.io/cloudnative-pg/postgresql:latest"
		err := env.Client.Create(ctx, cluster)
		Expect(err).To(HaveOccurred())
		Expect(apierrors.IsInvalid(err) || apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring(`admission webhook "vcluster.cnpg.io" denied the request`))
		Expect(err.Error()).To(ContainSubstring("Can't use 'latest' as image tag as we can't detect upgrades"))
	})

	It("accepts a Database", func(ctx SpecContext) {
		Expect(env.Client.Create(ctx, minimalCluster(ns, "pg"))).To(Succeed())
		db := &cnpgv1.Database{
			ObjectMeta: metav1.ObjectMeta{Name: "pg-shop", Namespace: ns},
			Spec: cnpgv1.DatabaseSpec{
				ClusterRef: corev1.LocalObjectReference{Name: "pg"},
				Name:       "shop",
				Owner:      "app",
			},
		}
		Expect(env.Client.Create(ctx, db)).To(Succeed())
		Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(db), db)).To(Succeed())
		Expect(db.Spec.Name).To(Equal("shop"))
	})

	It("accepts a Cluster recovering from a Barman Cloud plugin ObjectStore", func(ctx SpecContext) {
		store := &barmanv1.ObjectStore{
			ObjectMeta: metav1.ObjectMeta{Name: "backups", Namespace: ns},
			Spec: barmanv1.ObjectStoreSpec{
				Configuration: barmanapi.BarmanObjectStoreConfiguration{
					DestinationPath: "s3://backups/",
					BarmanCredentials: barmanapi.BarmanCredentials{
						AWS: &barmanapi.S3Credentials{InheritFromIAMRole: true},
					},
				},
			},
		}
		Expect(env.Client.Create(ctx, store)).To(Succeed())

		cluster := minimalCluster(ns, "restored")
		cluster.Spec.Bootstrap = &cnpgv1.BootstrapConfiguration{
			Recovery: &cnpgv1.BootstrapRecovery{Source: "origin"},
		}
		cluster.Spec.ExternalClusters = []cnpgv1.ExternalCluster{{
			Name: "origin",
			PluginConfiguration: &cnpgv1.PluginConfiguration{
				Name: "barman-cloud.cloudnative-pg.io",
				Parameters: map[string]string{
					"barmanObjectName": store.Name,
					"serverName":       "origin",
				},
			},
		}}
		Expect(env.Client.Create(ctx, cluster)).To(Succeed())

		stored := &cnpgv1.Cluster{}
		Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(cluster), stored)).To(Succeed())
		Expect(stored.Spec.Bootstrap.Recovery).NotTo(BeNil())
		Expect(stored.Spec.Bootstrap.Recovery.Source).To(Equal("origin"))
		Expect(stored.Spec.Bootstrap.InitDB).To(BeNil(), "no initdb next to recovery")
		Expect(stored.Spec.ExternalClusters).To(HaveLen(1))
		Expect(stored.Spec.ExternalClusters[0].PluginConfiguration.Parameters).To(
			HaveKeyWithValue("barmanObjectName", "backups"))
	})
})
