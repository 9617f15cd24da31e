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

package cooperative_test

import (
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/test/harness/specs"
)

// warnings collects the warnings the API server sends back.
type warnings struct {
	mu   sync.Mutex
	seen []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, text)
}

// adminWarningClient is an admin client whose warnings from the API server (and its
// webhooks) w records.
func adminWarningClient() (c client.Client, w *warnings) {
	w = &warnings{}
	return withWarnings(env.Cfg, w), w
}

// withWarnings is a client for cfg whose warnings w records.
func withWarnings(cfg *rest.Config, w *warnings) client.Client {
	GinkgoHelper()
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = w
	c, err := client.New(cfg, client.Options{Scheme: manager.Scheme()})
	Expect(err).NotTo(HaveOccurred())
	return c
}

var _ = Describe("The Cooperative webhook", func() {
	refused := func(err error, want ...string) {
		GinkgoHelper()
		Expect(err).To(HaveOccurred())
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
		for _, w := range want {
			Expect(err.Error()).To(ContainSubstring(w))
		}
	}

	It("refuses more database instances than the plan allows", func() {
		c := specs.Sample("coop_v1alpha1_cooperative_fairride.yaml")
		c.Name = "too-many-instances"
		c.Spec.Database.Instances = 3
		refused(k8s.Create(ctx, c, client.DryRunAll), "spec.database.instances", "plan small allows at most 2 database instances")
	})

	It("refuses a tier the plan does not offer", func() {
		c := specs.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
		c.Name = "shared-on-medium"
		c.Spec.Plan = "medium"
		refused(k8s.Create(ctx, c, client.DryRunAll), "spec.database.tier", "plan medium allows only [dedicated]")
	})

	It("refuses more storage than the plan's quota", func() {
		c := specs.Sample("coop_v1alpha1_cooperative_fairride.yaml")
		c.Name = "too-much-storage"
		c.Spec.Database.Instances = 2
		c.Spec.Database.Storage.Set(40 << 30)
		refused(k8s.Create(ctx, c, client.DryRunAll), "spec.database.storage", "allows 50Gi of storage in all")
	})

	It("refuses another vertical's template and a version the template does not have", func() {
		c := specs.Sample("coop_v1alpha1_cooperative_fairride.yaml")
		c.Name = "wrong-template"
		c.Spec.Platform.Template = "delivery"
		refused(k8s.Create(ctx, c, client.DryRunAll), "spec.platform.template", "serves vertical delivery, the co-op is ride-sharing")
		c.Spec.Platform.Template = ""
		c.Spec.Platform.Version = "9.9"
		refused(k8s.Create(ctx, c, client.DryRunAll), "spec.platform.version", "Unsupported value: \"9.9\"", "\"1.0\"")
	})

	It("refuses a time zone the IANA database does not know, and takes one it knows", func() {
		c := specs.Sample("coop_v1alpha1_cooperative_fairride.yaml")
		c.Name = "time-zone"
		c.Spec.Platform.Host = "time-zone.example.coop"
		// A name of the right form the database does not know: the webhook refuses it.
		for _, tz := range []string{"Europe/Pariss", "America/Atlantis"} {
			c.Spec.Platform.TimeZone = tz
			refused(k8s.Create(ctx, c, client.DryRunAll), "spec.platform.timeZone", `"`+tz+`"`, "is not a time zone of the IANA time zone database")
		}
		// Paths, the host's own zone and legacy names are not of the form: the CRD's pattern
		// refuses them before the webhook.
		for _, tz := range []string{"../../etc/passwd", "Local", "localtime", "CET", "US/Eastern", "Mars/Olympus_Mons"} {
			c.Spec.Platform.TimeZone = tz
			refused(k8s.Create(ctx, c, client.DryRunAll), "spec.platform.timeZone", "should match")
		}
		wc, w := adminWarningClient()
		for _, tz := range []string{"Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+5", "UTC"} {
			c.Spec.Platform.TimeZone = tz
			Expect(wc.Create(ctx, c, client.DryRunAll)).To(Succeed(), tz)
		}
		// Setting a zone warns that an older platform refuses the document that carries it.
		Expect(w.seen).To(ContainElement(ContainSubstring("an older platform refuses the policy document")))
	})

	It("refuses a change of plan that the co-op does not fit", func() {
		c := specs.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
		c.Name = "moves-plan"
		Expect(k8s.Create(ctx, c)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, c))).To(Succeed()) })
		refused(updateCoop("moves-plan", func(c *coopv1.Cooperative) { c.Spec.Plan = "medium" }), "spec.database.tier")
		Expect(getCoop("moves-plan").Spec.Plan).To(Equal("small"))
	})

	It("only warns about a plan or template that does not exist yet, so manifests can be applied together", func() {
		wc, w := adminWarningClient()
		c := specs.Sample("coop_v1alpha1_cooperative_fairride.yaml")
		c.Name = "plan-later"
		c.Spec.Platform.Host = "plan-later.example.coop" // fairride-lyon's may be taken
		c.Spec.Plan = "gold"
		c.Spec.Platform.Template = "ride-sharing-v2"
		Expect(wc.Create(ctx, c, client.DryRunAll)).To(Succeed())
		Expect(w.seen).To(ContainElements(
			ContainSubstring(`spec.plan: HostingPlan "gold" does not exist yet`),
			ContainSubstring(`spec.platform.template: PlatformTemplate "ride-sharing-v2" does not exist yet`),
		))
	})

	It("lets a co-op being deleted finish", func() {
		c := specs.Sample("coop_v1alpha1_cooperative_carecollective.yaml")
		c.Name = "leaves"
		Expect(k8s.Create(ctx, c)).To(Succeed())
		Eventually(func() []string { return getCoop("leaves").Finalizers }, timeout).Should(ContainElement(coopv1.Finalizer))
		Expect(k8s.Delete(ctx, c)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Name: "leaves"}, &coopv1.Cooperative{}))
		}, timeout).Should(BeTrue())
	})
})
