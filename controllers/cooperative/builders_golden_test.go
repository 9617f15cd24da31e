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
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/controllers/cooperative"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/platform"
	"github.com/cooperator-dev/cooperator/test/harness"
	"github.com/cooperator-dev/cooperator/test/harness/golden"
)

// builtFor is every child object the Build functions make for one co-op, in the order the
// reconciler applies them, with fixed inputs where the reconciler would read or generate
// them (credentials, tokens, times).
func builtFor(t *testing.T, coop *coopv1.Cooperative, plan *coopv1.HostingPlan, hub *hubconfig.Config) []client.Object {
	t.Helper()
	objs := []client.Object{
		cooperative.BuildNamespace(coop), cooperative.BuildResourceQuota(coop, plan), cooperative.BuildLimitRange(coop, plan),
		cooperative.BuildAdminRole(coop),
	}
	for _, rb := range cooperative.BuildAdminRoleBindings(coop) {
		objs = append(objs, rb)
	}
	objs = append(objs, cooperative.BuildClusterRole(coop), cooperative.BuildClusterRoleBinding(coop))
	for _, np := range cooperative.BuildNetworkPolicies(coop, plan, hub) {
		objs = append(objs, np)
	}
	creds := &corev1.Secret{Data: map[string][]byte{coopv1.AccessKeyIDKey: []byte("key-id"), coopv1.AccessSecretKeyKey: []byte("key-secret")}}
	deletedAt := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	switch coop.Spec.Database.Tier {
	case coopv1.DatabaseTierShared:
		objs = append(objs,
			cooperative.BuildSharedSecret(coop, hub, "password"), cooperative.BuildSharedAppSecret(coop, hub, "password"),
			cooperative.BuildSharedRole(coop, hub, 10), cooperative.BuildSharedDatabase(coop, hub),
			cooperative.BuildLogicalBackupCronJob(coop, hub, "logical-backup-credentials"),
			cooperative.BuildFinalLogicalBackupJob(coop, hub, "logical-backup-credentials", coop.Name+"-final"),
			cooperative.BuildRetainedSharedRole(coop, hub),
			cooperative.BuildSharedServingSecret(coop, hub, "serving-password"), cooperative.BuildSharedServingAppSecret(coop, hub, "serving-password"),
			cooperative.BuildSharedServingRole(coop, hub, 10), cooperative.BuildRetainedSharedServingRole(coop, hub))
	default:
		objs = append(objs,
			cooperative.BuildObjectStoreSecret(coop, creds), cooperative.BuildObjectStore(coop, hub),
			cooperative.BuildCluster(coop, plan, hub, cooperative.PlanDatabase(coop, nil, nil, nil, "")),
			cooperative.BuildScheduledBackup(coop), cooperative.BuildOnDemandBackup(coop, coop.Name+"-final"),
			cooperative.BuildDedicatedServingSecret(coop, "serving-password"))
	}
	objs = append(objs, cooperative.BuildRetainedMarker(coop, hub, coop.Name, deletedAt))

	policy, err := cooperative.BuildPolicyConfigMap(coop)
	if err != nil {
		t.Fatal(err)
	}
	objs = append(objs, policy, cooperative.BuildPlatformAdminSecret(coop, "admin-token"))
	version := platformVersion(t, coop)
	for _, comp := range version.Components {
		replicas := ptr.Deref(comp.Replicas, 2)
		objs = append(objs, cooperative.BuildDeployment(coop, hub, comp, replicas), cooperative.BuildService(coop, comp))
		if pdb := cooperative.BuildPodDisruptionBudget(coop, comp, replicas); pdb != nil {
			objs = append(objs, pdb)
		}
	}
	if ing := cooperative.BuildIngress(coop, hub, version.Components); ing != nil {
		objs = append(objs, ing)
	}
	return objs
}

// platformVersion is the version of the shipped template the co-op runs.
func platformVersion(t *testing.T, coop *coopv1.Cooperative) *coopv1.TemplateVersion {
	t.Helper()
	templates, err := platform.DefaultTemplates()
	if err != nil {
		t.Fatal(err)
	}
	for _, tmpl := range templates {
		if tmpl.Spec.Vertical != coop.Spec.Vertical {
			continue
		}
		version := coop.Spec.Platform.Version
		if version == "" {
			version = tmpl.Spec.DefaultVersion
		}
		if v := tmpl.Version(version); v != nil {
			return v
		}
	}
	t.Fatalf("no shipped template serves %s", coop.Spec.Vertical)
	return nil
}

// TestBuildersGolden renders every object the Build functions make for each sample
// Cooperative of config/samples, and for the hub, into testdata/golden; a change of any of
// them shows there. Rewrite the files with `go test ./controllers/cooperative -run Golden -update`.
func TestBuildersGolden(t *testing.T) {
	hub := golden.Hub()
	scheme := manager.Scheme()
	plans := map[string]*coopv1.HostingPlan{}
	for _, f := range []string{"coop_v1alpha1_hostingplan_small.yaml", "coop_v1alpha1_hostingplan_medium.yaml"} {
		plan := &coopv1.HostingPlan{}
		root := harness.MustRepoRoot(t)
		if err := harness.ReadYAML(filepath.Join(root, "config", "samples", f), plan); err != nil {
			t.Fatal(err)
		}
		plans[plan.Name] = plan
	}
	var roles []string
	for _, file := range golden.SampleCooperatives {
		coop, err := harness.Sample(file)
		if err != nil {
			t.Fatal(err)
		}
		coop.UID = "00000000-0000-0000-0000-000000000001"
		coop.DeletionTimestamp = &metav1.Time{Time: time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)}
		plan := plans[coop.Spec.Plan]
		if plan == nil {
			t.Fatalf("%s: no sample plan %s", file, coop.Spec.Plan)
		}
		if coop.Spec.Database.Tier == coopv1.DatabaseTierShared {
			roles = append(roles, coopv1.SharedRoleName(coop))
		}
		t.Run(coop.Name, func(t *testing.T) {
			golden.Compare(t, scheme, filepath.Join("testdata", "golden", strings.TrimSuffix(file, ".yaml")+".yaml"), builtFor(t, coop, plan, &hub)...)
		})
	}
	t.Run("hub", func(t *testing.T) {
		objs := []client.Object{
			cooperative.BuildSharedObjectStore(&hub), cooperative.BuildSharedScheduledBackup(&hub),
			cooperative.BuildSharedMeteringSecret(&hub, "metering-password"),
			cooperative.BuildSharedCluster(&hub, roles, []string{"coop_retained"}),
			hubconfig.BuildOperatorRoleBinding(metav1.ObjectMeta{Namespace: "coop-example"}, &hub),
		}
		for _, np := range cooperative.BuildOperatorNetworkPolicies(&hub) {
			objs = append(objs, np)
		}
		golden.Compare(t, scheme, filepath.Join("testdata", "golden", "hub.yaml"), objs...)
	})
}
