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

package v1alpha1_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cooperator-dev/cooperator/api/policy"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/test/harness"
)

// validCooperative is a manifest the API server accepts; each case breaks one rule of it.
func validCooperative(name string) *coopv1.Cooperative {
	return &coopv1.Cooperative{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: coopv1.CooperativeSpec{
			Vertical: coopv1.VerticalRideSharing,
			Plan:     "small",
			FeeSplit: coopv1.FeeSplit{
				PlatformFeeBasisPoints: 300,
				Funds:                  []coopv1.Fund{{Name: "hardship", BasisPoints: 100}, {Name: "reserve", BasisPoints: 50}},
				SurgeToWorkersPercent:  ptr.To[int32](100),
			},
			Governance: coopv1.Governance{
				Model: coopv1.GovernanceMultiStakeholder, QuorumPercent: 50, ApprovalPercent: 66,
				StakeholderClasses: []coopv1.StakeholderClass{{Name: "drivers", Weight: 60}, {Name: "riders", Weight: 20}, {Name: "staff", Weight: 20}},
			},
			Database: coopv1.DatabaseSpec{Tier: coopv1.DatabaseTierDedicated, Instances: 1, Storage: resource.MustParse("10Gi"), PostgresVersion: 17},
			Backup:   coopv1.BackupSpec{Schedule: "0 0 3 * * *", Retention: "30d"},
		},
	}
}

// testStandby is the standby part of a standby of co-op name written by a hub of eu-south.
func testStandby(name string) *coopv1.StandbySpec {
	return &coopv1.StandbySpec{
		HomeRegion: "eu-south", HomeCooperative: name, PrimaryServerName: name, PrimaryRegion: "eu-south",
		ObjectStore:      coopv1.StandbyObjectStore{DestinationPath: "s3://south/eu-south/" + name + "/", SecretName: name + "-objectstore"},
		ConsentedRegions: []string{"eu-west"},
	}
}

func TestCooperativeValidation(t *testing.T) {
	env := harness.StartT(t, harness.Options{ProjectCRDs: true, Scheme: harness.Scheme(coopv1.AddToScheme)})
	c := env.Client
	ctx := context.Background()

	if err := c.Create(ctx, validCooperative("valid")); err != nil {
		t.Fatalf("the valid manifest was refused: %v", err)
	}

	createCases := []struct {
		name   string
		mutate func(*coopv1.Cooperative)
		want   []string // substrings of the API server's message: the field and the rule
	}{
		{"unknown vertical", func(c *coopv1.Cooperative) { c.Spec.Vertical = "taxi" },
			[]string{"spec.vertical", "Unsupported value", "ride-sharing"}},
		{"funds over the platform fee", func(c *coopv1.Cooperative) { c.Spec.FeeSplit.Funds[0].BasisPoints = 280 },
			[]string{"spec.feeSplit.funds", "must add up to at most platformFeeBasisPoints"}},
		{"platform fee over 100 %", func(c *coopv1.Cooperative) { c.Spec.FeeSplit.PlatformFeeBasisPoints = 10001 },
			[]string{"spec.feeSplit.platformFeeBasisPoints", "less than or equal to 10000"}},
		{"surge share over 100 %", func(c *coopv1.Cooperative) { c.Spec.FeeSplit.SurgeToWorkersPercent = ptr.To[int32](150) },
			[]string{"spec.feeSplit.surgeToWorkersPercent", "less than or equal to 100"}},
		{"duplicate fund", func(c *coopv1.Cooperative) { c.Spec.FeeSplit.Funds[1].Name = "hardship" },
			[]string{"spec.feeSplit.funds[1]", "Duplicate value"}},
		{"quorum of zero", raw(func(u map[string]any) { setField(u, int64(0), "spec", "governance", "quorumPercent") }),
			[]string{"spec.governance.quorumPercent", "greater than or equal to 1"}},
		{"approval over 100", func(c *coopv1.Cooperative) { c.Spec.Governance.ApprovalPercent = 101 },
			[]string{"spec.governance.approvalPercent", "less than or equal to 100"}},
		{"approval fraction over 1", func(c *coopv1.Cooperative) { c.Spec.Governance.ApprovalFraction = "3/2" },
			[]string{"spec.governance.approvalFraction", "must be at most 1"}},
		{"approval fraction as a decimal", func(c *coopv1.Cooperative) { c.Spec.Governance.ApprovalFraction = "0.67" },
			[]string{"spec.governance.approvalFraction", "should match"}},
		{"multi-stakeholder without classes", func(c *coopv1.Cooperative) { c.Spec.Governance.StakeholderClasses = nil },
			[]string{"spec.governance.stakeholderClasses", "required when model is multi-stakeholder"}},
		{"classes without multi-stakeholder", func(c *coopv1.Cooperative) { c.Spec.Governance.Model = coopv1.GovernanceOneMemberOneVote },
			[]string{"spec.governance.stakeholderClasses", "only allowed when model is multi-stakeholder"}},
		{"weights not summing to 100", func(c *coopv1.Cooperative) { c.Spec.Governance.StakeholderClasses[0].Weight = 50 },
			[]string{"spec.governance.stakeholderClasses", "must add up to 100"}},
		{"duplicate stakeholder class", func(c *coopv1.Cooperative) { c.Spec.Governance.StakeholderClasses[2].Name = "riders" },
			[]string{"spec.governance.stakeholderClasses[2]", "Duplicate value"}},
		{"unknown governance model", func(c *coopv1.Cooperative) { c.Spec.Governance.Model = "dictatorship" },
			[]string{"spec.governance.model", "Unsupported value"}},
		{"unknown governed field", func(c *coopv1.Cooperative) { c.Spec.Governance.GovernedFields = []coopv1.GovernedField{"admins"} },
			[]string{"spec.governance.governedFields[0]", "Unsupported value"}},
		{"duplicate peers", func(c *coopv1.Cooperative) {
			c.Spec.Federation.Peers = []coopv1.FederationPeerRef{{Name: "eu-south", Mode: "standby"}, {Name: "eu-south", Mode: "standby"}}
		}, []string{"spec.federation.peers[1]", "Duplicate value"}},
		{"peers on the shared tier", func(c *coopv1.Cooperative) {
			c.Spec.Database.Tier = coopv1.DatabaseTierShared
			c.Spec.Federation.Peers = []coopv1.FederationPeerRef{{Name: "eu-south", Mode: "standby"}}
		}, []string{"spec.federation.peers", "need database.tier dedicated"}},
		{"a standby on the shared tier", func(c *coopv1.Cooperative) {
			c.Spec.Database.Tier = coopv1.DatabaseTierShared
			c.Spec.Standby = testStandby(c.Name)
		}, []string{"spec.database.tier", "a standby is on database.tier dedicated"}},
		{"a standby with admins", func(c *coopv1.Cooperative) {
			c.Spec.Standby = testStandby(c.Name)
			c.Spec.Admins = []coopv1.Subject{{Kind: "Group", Name: "home-admins"}}
		}, []string{"spec.admins", "a standby has no admins"}},
		{"several instances on the shared tier", func(c *coopv1.Cooperative) {
			c.Spec.Database.Tier = coopv1.DatabaseTierShared
			c.Spec.Database.Instances = 2
		}, []string{"spec.database.instances", "must be 1 on the shared tier"}},
		{"unknown database tier", func(c *coopv1.Cooperative) { c.Spec.Database.Tier = "premium" },
			[]string{"spec.database.tier", "Unsupported value"}},
		{"too many instances", func(c *coopv1.Cooperative) { c.Spec.Database.Instances = 9 },
			[]string{"spec.database.instances", "less than or equal to 5"}},
		{"unknown PostgreSQL version", func(c *coopv1.Cooperative) { c.Spec.Database.PostgresVersion = 12 },
			[]string{"spec.database.postgresVersion", "Unsupported value"}},
		{"zero storage", raw(func(u map[string]any) { setField(u, "0", "spec", "database", "storage") }),
			[]string{"spec.database.storage", "must be a positive size"}},
		{"five-field cron schedule", func(c *coopv1.Cooperative) { c.Spec.Backup.Schedule = "0 3 * * *" },
			[]string{"spec.backup.schedule", "six-field cron expression"}},
		{"retention in words", func(c *coopv1.Cooperative) { c.Spec.Backup.Retention = "30 days" },
			[]string{"spec.backup.retention", "should match"}},
		{"service account admin without namespace", func(c *coopv1.Cooperative) {
			c.Spec.Admins = []coopv1.Subject{{Kind: "ServiceAccount", Name: "ci"}}
		}, []string{"spec.admins[0]", "namespace is required for a ServiceAccount"}},
		{"a cluster-wide group as admin", func(c *coopv1.Cooperative) {
			c.Spec.Admins = []coopv1.Subject{{Kind: "Group", Name: "coop-admins"}, {Kind: "Group", Name: "system:authenticated"}}
		}, []string{"spec.admins[1].name", "names starting with system: are Kubernetes' own users and groups"}},
		{"another namespace's service account, as a user", func(c *coopv1.Cooperative) {
			c.Spec.Admins = []coopv1.Subject{{Kind: "User", Name: "system:serviceaccount:kube-system:default"}}
		}, []string{"spec.admins[0].name", "names starting with system:"}},
		{"a service account of another namespace", func(c *coopv1.Cooperative) {
			c.Spec.Admins = []coopv1.Subject{{Kind: "ServiceAccount", Name: "default", Namespace: "kube-system"}}
		}, []string{"spec.admins", "a ServiceAccount admin must be of the co-op's own namespace coop-<name>"}},
		{"invalid host", func(c *coopv1.Cooperative) { c.Spec.Platform.Host = "Not A Host" },
			[]string{"spec.platform.host", "should match"}},
		{"missing plan", func(c *coopv1.Cooperative) { c.Spec.Plan = "" },
			[]string{"spec.plan"}},
		{"unknown deletion policy", func(c *coopv1.Cooperative) { c.Spec.DeletionPolicy = "Forget" },
			[]string{"spec.deletionPolicy", "Unsupported value"}},
		{"name longer than 50 characters", func(c *coopv1.Cooperative) { c.Name = strings.Repeat("a", 51) },
			[]string{"metadata.name must be at most 50 characters"}},
	}
	// Every suffix the hub derives another co-op's objects with is refused at the end of a
	// name: co-op a-serving would be handed co-op a's serving role, a-read its read-only
	// object store credentials.
	for _, suffix := range coopv1.ReservedNameSuffixes {
		createCases = append(createCases, struct {
			name   string
			mutate func(*coopv1.Cooperative)
			want   []string
		}{"name ending in " + suffix, func(c *coopv1.Cooperative) { c.Name = "fair" + suffix },
			[]string{"metadata.name must not end in -serving or -read", "another co-op's serving role"}})
	}
	for i, tc := range createCases {
		t.Run("create/"+tc.name, func(t *testing.T) {
			obj := validCooperative(fmt.Sprintf("case-%d", i))
			tc.mutate(obj)
			var err error
			if u, ok := rawObjects[obj]; ok {
				err = c.Create(ctx, u)
			} else {
				err = c.Create(ctx, obj)
			}
			assertRefused(t, err, tc.want)
		})
	}

	// The API server and the policy document (which checks a proposed change of the rules)
	// take the same approval fractions.
	for i, fraction := range []string{"2/3", "1/1", "99/99", "1/99", "3/4", "3/2", "0/3", "2/0", "02/3", "100/100", "2/3 ", "2//3", "-1/3", "⅔", "1/2/3"} {
		obj := validCooperative(fmt.Sprintf("fraction-%d", i))
		obj.Spec.Governance.ApprovalFraction = fraction
		err := c.Create(ctx, obj)
		_, perr := policy.ParseFraction(fraction)
		if (err == nil) != (perr == nil) {
			t.Errorf("approvalFraction %q: the API server answers %v, the policy document %v", fraction, err, perr)
		}
	}

	updateCases := []struct {
		name   string
		mutate func(*coopv1.Cooperative)
		want   []string
	}{
		{"vertical change", func(c *coopv1.Cooperative) { c.Spec.Vertical = coopv1.VerticalDelivery },
			[]string{"spec.vertical", "vertical is immutable"}},
		{"tier change", func(c *coopv1.Cooperative) { c.Spec.Database.Tier = coopv1.DatabaseTierShared },
			[]string{"spec.database.tier", "tier is immutable"}},
		{"storage shrink", func(c *coopv1.Cooperative) { c.Spec.Database.Storage = resource.MustParse("5Gi") },
			[]string{"spec.database.storage", "storage cannot shrink"}},
		{"PostgreSQL downgrade", func(c *coopv1.Cooperative) { c.Spec.Database.PostgresVersion = 16 },
			[]string{"spec.database.postgresVersion", "cannot go down"}},
	}
	for _, tc := range updateCases {
		t.Run("update/"+tc.name, func(t *testing.T) {
			obj := &coopv1.Cooperative{}
			if err := c.Get(ctx, clientKey("valid"), obj); err != nil {
				t.Fatal(err)
			}
			tc.mutate(obj)
			assertRefused(t, c.Update(ctx, obj), tc.want)
		})
	}

	t.Run("create/a standby on the dedicated tier is accepted", func(t *testing.T) {
		obj := validCooperative("standby-dedicated")
		obj.Spec.Standby = testStandby(obj.Name)
		if err := c.Create(ctx, obj); err != nil {
			t.Fatalf("a standby as its home builds it was refused: %v", err)
		}
	})

	t.Run("update/a service account of the co-op's namespace is accepted as admin", func(t *testing.T) {
		obj := &coopv1.Cooperative{}
		if err := c.Get(ctx, clientKey("valid"), obj); err != nil {
			t.Fatal(err)
		}
		obj.Spec.Admins = []coopv1.Subject{{Kind: "ServiceAccount", Name: "ci", Namespace: "coop-valid"}, {Kind: "Group", Name: "valid-admins"}}
		if err := c.Update(ctx, obj); err != nil {
			t.Fatalf("the co-op's own ServiceAccount was refused: %v", err)
		}
	})

	t.Run("update/storage growth is accepted", func(t *testing.T) {
		obj := &coopv1.Cooperative{}
		if err := c.Get(ctx, clientKey("valid"), obj); err != nil {
			t.Fatal(err)
		}
		obj.Spec.Database.Storage = resource.MustParse("20Gi")
		obj.Spec.Database.PostgresVersion = 18
		if err := c.Update(ctx, obj); err != nil {
			t.Fatalf("growing storage and upgrading PostgreSQL were refused: %v", err)
		}
	})

	t.Run("defaults", func(t *testing.T) {
		obj := &coopv1.Cooperative{
			ObjectMeta: metav1.ObjectMeta{Name: "defaults"},
			Spec: coopv1.CooperativeSpec{
				Vertical:   coopv1.VerticalCare,
				Plan:       "small",
				FeeSplit:   coopv1.FeeSplit{PlatformFeeBasisPoints: 200},
				Governance: coopv1.Governance{Model: coopv1.GovernanceConsent},
			},
		}
		if err := c.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
		d := obj.Spec
		if d.Database.Tier != coopv1.DatabaseTierDedicated || d.Database.Instances != 1 || d.Database.Storage.String() != "10Gi" || d.Database.PostgresVersion != 17 {
			t.Errorf("database defaults: %+v", d.Database)
		}
		if d.Backup.Schedule != "0 0 3 * * *" || d.Backup.Retention != "30d" || d.DeletionPolicy != coopv1.DeletionPolicyRetain {
			t.Errorf("backup and deletion defaults: %+v %s", d.Backup, d.DeletionPolicy)
		}
		if ptr.Deref(d.FeeSplit.SurgeToWorkersPercent, 0) != 100 || d.Governance.QuorumPercent != 50 || d.Governance.ApprovalPercent != 50 {
			t.Errorf("policy defaults: %+v %+v", d.FeeSplit, d.Governance)
		}
	})
}

func TestPlatformTemplateValidation(t *testing.T) {
	env := harness.StartT(t, harness.Options{ProjectCRDs: true, Scheme: harness.Scheme(coopv1.AddToScheme)})
	tmpl := &coopv1.PlatformTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "delivery"},
		Spec: coopv1.PlatformTemplateSpec{
			Vertical: coopv1.VerticalDelivery, DefaultVersion: "2.0",
			Versions: []coopv1.TemplateVersion{{Version: "1.0", Components: []coopv1.Component{{Name: "api"}}}},
		},
	}
	assertRefused(t, env.Client.Create(context.Background(), tmpl), []string{"spec.defaultVersion", "defaultVersion must be one of versions"})

	// The metrics port is a port of its own: not the API's, which the Ingress exposes.
	tmpl.Spec.DefaultVersion = "1.0"
	tmpl.Spec.Versions[0].Components[0].MetricsPort = 8080
	assertRefused(t, env.Client.Create(context.Background(), tmpl), []string{"spec.versions[0].components[0].metricsPort", "metricsPort must differ from port"})
	tmpl.Spec.Versions[0].Components[0].MetricsPort = 9090

	// A template sets none of the variables the operator injects, each named in the refusal.
	for _, name := range append(slices.Clone(coopv1.InjectedEnv), policy.FileEnv) {
		t.Run("env "+name, func(t *testing.T) {
			bad := tmpl.DeepCopy()
			bad.Spec.Versions[0].Components[0].Env = []coopv1.EnvVar{{Name: "VERTICAL_FLAG", Value: "1"}, {Name: name, Value: "x"}}
			assertRefused(t, env.Client.Create(context.Background(), bad), []string{"spec.versions[0].components[0].env", "sets a variable the operator injects", name})
		})
	}
	tmpl.Spec.Versions[0].Components[0].Env = []coopv1.EnvVar{{Name: "VERTICAL_FLAG", Value: "1"}}
	if err := env.Client.Create(context.Background(), tmpl); err != nil {
		t.Fatalf("a template with a metrics port and an env variable of its own: %v", err)
	}
}

// rawObjects holds, for a case that needs it, the manifest as a kubectl user would write it:
// a typed Go client omits zero values, so "quorumPercent: 0" can only be sent raw.
var rawObjects = map[*coopv1.Cooperative]*unstructured.Unstructured{}

func raw(mutate func(map[string]any)) func(*coopv1.Cooperative) {
	return func(c *coopv1.Cooperative) {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(c)
		if err != nil {
			panic(err)
		}
		mutate(m)
		u := &unstructured.Unstructured{Object: m}
		u.SetGroupVersionKind(coopv1.GroupVersion.WithKind("Cooperative"))
		rawObjects[c] = u
	}
}

func setField(m map[string]any, value any, path ...string) {
	if err := unstructured.SetNestedField(m, value, path...); err != nil {
		panic(err)
	}
}

func clientKey(name string) client.ObjectKey { return client.ObjectKey{Name: name} }

func assertRefused(t *testing.T, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("the API server accepted a manifest it must refuse (want %q)", want)
	}
	if !apierrors.IsInvalid(err) {
		t.Fatalf("want an Invalid error, got %v", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the refusal does not say %q:\n%v", w, err)
		}
	}
}

// TestReservedNameSuffixesJudgeCreationsOnly: a co-op created with a name the rule now
// refuses (before the rule, as after an upgrade) stays writable, so that the operator can
// write its status and the hub can delete it; a new one is refused.
func TestReservedNameSuffixesJudgeCreationsOnly(t *testing.T) {
	env := harness.StartT(t, harness.Options{ProjectCRDs: true, Scheme: harness.Scheme(coopv1.AddToScheme)})
	c := env.Client
	ctx := context.Background()
	const marker = "must not end in -serving or -read"
	rule := crdRule{c: c, crd: "cooperatives", match: func(m string) bool { return strings.Contains(m, marker) }}
	setRule, until := func(present bool) { rule.set(t, present) }, pollUntil(t)

	setRule(false)
	old := validCooperative("old-serving")
	until("the CRD without the rule to take a co-op named old-serving", func() bool { return c.Create(ctx, old) == nil })
	setRule(true)
	until("the CRD with the rule to refuse a new co-op named new-serving", func() bool {
		err := c.Create(ctx, validCooperative("new-serving"), client.DryRunAll)
		return err != nil && strings.Contains(err.Error(), marker)
	})
	// The old one is still written: its spec, its status, and its deletion.
	old.Spec.DisplayName = "renamed"
	if err := c.Update(ctx, old); err != nil {
		t.Fatalf("updating a co-op created before the rule: %v", err)
	}
	old.Status.ObservedGeneration = old.Generation
	if err := c.Status().Update(ctx, old); err != nil {
		t.Fatalf("writing the status of a co-op created before the rule: %v", err)
	}
	if err := c.Delete(ctx, old); err != nil {
		t.Fatalf("deleting a co-op created before the rule: %v", err)
	}
}

// TestReservedRegions: no FederationPeer and no standby names a region whose objects would
// share a name with the co-op's own (backups: <co-op>-backups is both the co-op's backup
// ObjectStore and the one that would read region backups' archive). A peer declared so
// before the rule stays writable: its region is immutable, and an unchanged field is not
// judged again.
func TestReservedRegions(t *testing.T) {
	env := harness.StartT(t, harness.Options{ProjectCRDs: true, Scheme: harness.Scheme(coopv1.AddToScheme)})
	c := env.Client
	ctx := context.Background()
	peer := func(name, region string) *coopv1.FederationPeer {
		return &coopv1.FederationPeer{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: coopv1.FederationPeerSpec{
			Region: region, KubeconfigSecretRef: coopv1.SecretKeyRef{Name: "peer-" + name}}}
	}
	for _, region := range coopv1.ReservedRegions {
		assertRefused(t, c.Create(ctx, peer("reserved", region), client.DryRunAll), []string{"spec.region", "region may not be " + region})
		sb := validCooperative("reserved")
		sb.Spec.Standby = testStandby(sb.Name)
		sb.Spec.Standby.HomeRegion = region
		assertRefused(t, c.Create(ctx, sb, client.DryRunAll), []string{"spec.standby.homeRegion", "homeRegion may not be " + region})
	}
	// A region that merely contains the word is another region.
	if err := c.Create(ctx, peer("eu-backups", "eu-backups"), client.DryRunAll); err != nil {
		t.Fatalf("region eu-backups was refused: %v", err)
	}
	sb := validCooperative("eu-backups")
	sb.Spec.Standby = testStandby(sb.Name)
	sb.Spec.Standby.HomeRegion = "backups-eu"
	if err := c.Create(ctx, sb, client.DryRunAll); err != nil {
		t.Fatalf("homeRegion backups-eu was refused: %v", err)
	}

	// Declared before the rule (taken out of the installed CRD here), as after an upgrade.
	const marker = "region may not be backups"
	rule := crdRule{c: c, crd: "federationpeers", path: []string{"properties", "spec", "properties", "region"},
		match: func(m string) bool { return strings.HasPrefix(m, marker) }}
	setRule, until := func(present bool) { rule.set(t, present) }, pollUntil(t)
	setRule(false)
	old := peer("old-backups", "backups")
	until("the CRD without the rule to take region backups", func() bool { return c.Create(ctx, old) == nil })
	setRule(true)
	until("the CRD with the rule to refuse region backups", func() bool {
		err := c.Create(ctx, peer("new-backups", "backups"), client.DryRunAll)
		return err != nil && strings.Contains(err.Error(), marker)
	})
	old.Spec.Accept = coopv1.FederationAccept{Standbys: true, MaxCooperatives: 1, Plan: "small"}
	if err := c.Update(ctx, old); err != nil {
		t.Fatalf("updating a peer declared before the rule: %v", err)
	}
	old.Status.ObservedGeneration = old.Generation
	if err := c.Status().Update(ctx, old); err != nil {
		t.Fatalf("writing the status of a peer declared before the rule: %v", err)
	}
	if err := c.Delete(ctx, old); err != nil {
		t.Fatalf("deleting a peer declared before the rule: %v", err)
	}
}

// crdRule takes one validation rule (the first whose message match takes) out of an
// installed CRD of the group, or puts it back: the schema as it was before the rule, as
// after an upgrade. path leads from the version's openAPIV3Schema to the node holding it.
type crdRule struct {
	c     client.Client
	crd   string
	path  []string
	match func(message string) bool
	saved any
}

func (r *crdRule) set(t *testing.T, present bool) {
	t.Helper()
	ctx := context.Background()
	crd := &unstructured.Unstructured{}
	crd.SetGroupVersionKind(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"})
	if err := r.c.Get(ctx, client.ObjectKey{Name: r.crd + "." + coopv1.GroupVersion.Group}, crd); err != nil {
		t.Fatal(err)
	}
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	node := versions[0].(map[string]any)["schema"].(map[string]any)["openAPIV3Schema"].(map[string]any)
	for _, key := range r.path {
		node = node[key].(map[string]any)
	}
	rules, _ := node["x-kubernetes-validations"].([]any)
	kept := rules[:0:0]
	for _, rule := range rules {
		if r.match(fmt.Sprint(rule.(map[string]any)["message"])) {
			r.saved = rule
			continue
		}
		kept = append(kept, rule)
	}
	if present {
		kept = append(kept, r.saved)
	}
	node["x-kubernetes-validations"] = kept
	if err := unstructured.SetNestedSlice(crd.Object, versions, "spec", "versions"); err != nil {
		t.Fatal(err)
	}
	if err := r.c.Update(ctx, crd); err != nil {
		t.Fatal(err)
	}
}

// pollUntil polls f until it holds: the API server serves a changed CRD a moment later.
func pollUntil(t *testing.T) func(what string, f func() bool) {
	return func(what string, f func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !f() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
