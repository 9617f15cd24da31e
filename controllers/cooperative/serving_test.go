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

package cooperative

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
)

// Issue 10, point 7: the platform serves with a role of its own, which CloudNativePG
// manages from these objects; the owner only migrates.

func sharedTestCoop() *coopv1.Cooperative {
	c := testCoop()
	c.Name = "care-collective"
	c.Spec.Database.Tier = coopv1.DatabaseTierShared
	return c
}

// checkServingRole checks the attributes every serving role has, on either tier.
func checkServingRole(t *testing.T, r cnpgv1.RoleConfiguration, name, secret string, limit int64) {
	t.Helper()
	if r.Name != name || r.Ensure != cnpgv1.EnsurePresent || !r.Login {
		t.Errorf("role %q ensure %q login %v, want %q present with LOGIN", r.Name, r.Ensure, r.Login, name)
	}
	if r.Superuser || r.CreateDB || r.CreateRole || r.Replication || r.BypassRLS {
		t.Errorf("role %s has a privilege it must not have: %+v", r.Name, r)
	}
	if len(r.InRoles) != 0 {
		t.Errorf("role %s is a member of %v: it would inherit their privileges", r.Name, r.InRoles)
	}
	if r.ConnectionLimit != limit || limit <= 0 {
		t.Errorf("connection limit %d, want %d (0 or less is unlimited)", r.ConnectionLimit, limit)
	}
	if r.DisablePassword || r.PasswordSecret == nil || r.PasswordSecret.Name != secret {
		t.Errorf("password secret %+v, want %s", r.PasswordSecret, secret)
	}
}

func TestServingRole_7_DedicatedClusterManagesIt(t *testing.T) {
	cfg := hubconfig.Default()
	for _, db := range []DatabasePlan{
		{ServerName: "fairride-lyon", Bootstrap: coopv1.BootstrapInitDB},
		{ServerName: "fairride-lyon-2", Bootstrap: coopv1.BootstrapRecovery, RecoverFrom: "fairride-lyon"},
	} {
		t.Run(string(db.Bootstrap), func(t *testing.T) {
			c := BuildCluster(testCoop(), testPlan(), &cfg, db)
			if c.Spec.Managed == nil || len(c.Spec.Managed.Roles) != 1 {
				t.Fatalf("managed %+v, want exactly the serving role", c.Spec.Managed)
			}
			checkServingRole(t, c.Spec.Managed.Roles[0], DedicatedServingRole, ServingSecretName(testCoop()), DedicatedServingConnectionLimit)
			if DedicatedServingRole == DedicatedOwnerRole {
				t.Error("the serving role must not be the owner")
			}
		})
	}
}

func TestServingRole_7_SharedDatabaseRole(t *testing.T) {
	cfg := hubconfig.Default()
	for _, policy := range []coopv1.DeletionPolicy{coopv1.DeletionPolicyRetain, coopv1.DeletionPolicyDelete} {
		t.Run(string(policy), func(t *testing.T) {
			coop := sharedTestCoop()
			coop.Spec.DeletionPolicy = policy
			role := BuildSharedServingRole(coop, &cfg, 35)
			owner := BuildSharedRole(coop, &cfg, 11)
			if role.Namespace != cfg.OperatorNamespace || role.Name != "coop-care-collective-serving" || role.Name == owner.Name {
				t.Errorf("DatabaseRole %s/%s", role.Namespace, role.Name)
			}
			checkServingRole(t, role.Spec.RoleConfiguration, "coop_care_collective_serving", SharedServingResourceName(coop), 35)
			if role.Spec.ClusterRef.Name != cfg.SharedCluster.Name {
				t.Errorf("cluster %s", role.Spec.ClusterRef.Name)
			}
			if role.Spec.ReclaimPolicy != owner.Spec.ReclaimPolicy {
				t.Errorf("reclaimed %s, its owner role %s: they go, or stay, together", role.Spec.ReclaimPolicy, owner.Spec.ReclaimPolicy)
			}
			if len(role.OwnerReferences) != 1 || role.OwnerReferences[0].Name != coop.Name {
				t.Errorf("owners %+v", role.OwnerReferences)
			}
		})
	}
	// A co-op of the longest name still has a role name PostgreSQL keeps whole (63 bytes).
	long := sharedTestCoop()
	long.Name = strings.Repeat("a", 50)
	if n := len(ServingRoleName(long)); n > 63 {
		t.Errorf("serving role name of %d bytes: PostgreSQL truncates at 63", n)
	}
}

func TestServingRole_7_RetainedServingRoleIsNoLogin(t *testing.T) {
	cfg := hubconfig.Default()
	coop := sharedTestCoop()
	role := BuildRetainedSharedServingRole(coop, &cfg)
	if role.Name != SharedServingResourceName(coop) || role.Spec.Name != ServingRoleName(coop) {
		t.Errorf("retained %s as role %s", role.Name, role.Spec.Name)
	}
	if role.Spec.Login || !role.Spec.DisablePassword || role.Spec.PasswordSecret != nil {
		t.Errorf("a retained serving role can still log in: %+v", role.Spec.RoleConfiguration)
	}
	if role.Spec.ReclaimPolicy != cnpgv1.DatabaseRoleReclaimRetain || len(role.OwnerReferences) != 0 || role.Labels[coopv1.LabelRetainedFrom] != coop.Name {
		t.Errorf("retained role %+v %+v", role.ObjectMeta, role.Spec.ReclaimPolicy)
	}
	// The owner's retained role is left as it was.
	if owner := BuildRetainedSharedRole(coop, &cfg); owner.Name != coopv1.SharedResourceName(coop) || owner.Spec.Name != coopv1.SharedRoleName(coop) {
		t.Errorf("owner retained as %s/%s", owner.Name, owner.Spec.Name)
	}
}

func TestServingRole_7_SecretsCarryATLSOnlyURI(t *testing.T) {
	cfg := hubconfig.Default()
	shared := sharedTestCoop()
	for _, tc := range []struct {
		name           string
		secret         *corev1.Secret
		namespace      string
		user, host, db string
	}{
		{"dedicated", BuildDedicatedServingSecret(testCoop(), "pw-1"), "coop-fairride-lyon",
			DedicatedServingRole, "fairride-lyon-rw.coop-fairride-lyon.svc:5432", DedicatedDatabaseName},
		{"shared, in the co-op namespace", BuildSharedServingAppSecret(shared, &cfg, "pw-1"), "coop-care-collective",
			"coop_care_collective_serving", cfg.SharedCluster.Name + "-rw." + cfg.OperatorNamespace + ".svc:5432", "coop_care_collective"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.secret
			if s.Type != corev1.SecretTypeBasicAuth || s.Namespace != tc.namespace || !strings.HasSuffix(s.Name, "-serving") {
				t.Errorf("Secret %s/%s of type %s", s.Namespace, s.Name, s.Type)
			}
			if string(s.Data[corev1.BasicAuthUsernameKey]) != tc.user || string(s.Data[corev1.BasicAuthPasswordKey]) != "pw-1" {
				t.Errorf("username %q", s.Data[corev1.BasicAuthUsernameKey])
			}
			u, err := url.Parse(string(s.Data[DatabaseURIKey]))
			if err != nil {
				t.Fatal(err)
			}
			pw, _ := u.User.Password()
			if u.Scheme != "postgresql" || u.User.Username() != tc.user || pw != "pw-1" || u.Host != tc.host || u.Path != "/"+tc.db {
				t.Errorf("uri %s", u.Redacted())
			}
			if mode := u.Query().Get("sslmode"); mode != "require" && mode != "verify-ca" && mode != "verify-full" {
				t.Errorf("sslmode %q: the connection must be encrypted or refused", mode)
			}
		})
	}
	// The DatabaseRole's own Secret, in the operator namespace, names the role CloudNativePG
	// checks it against.
	op := BuildSharedServingSecret(shared, &cfg, "pw-1")
	if op.Namespace != cfg.OperatorNamespace || op.Name != SharedServingResourceName(shared) || op.Type != corev1.SecretTypeBasicAuth ||
		string(op.Data[corev1.BasicAuthUsernameKey]) != ServingRoleName(shared) {
		t.Errorf("Secret %s/%s %s user %q", op.Namespace, op.Name, op.Type, op.Data[corev1.BasicAuthUsernameKey])
	}
	// A password with URL syntax in it stays a password.
	if u, err := url.Parse(DatabaseURI("r", "p@ss/w:rd?#", "h", "d")); err != nil {
		t.Error(err)
	} else if pw, _ := u.User.Password(); pw != "p@ss/w:rd?#" || u.Host != "h:5432" {
		t.Errorf("password %q host %q", pw, u.Host)
	}
}

// secretRefs are the Secrets a container's env and envFrom read, by variable name ("*" for
// envFrom).
func secretRefs(c corev1.Container) map[string]*corev1.SecretKeySelector {
	refs := map[string]*corev1.SecretKeySelector{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			refs[e.Name] = e.ValueFrom.SecretKeyRef
		}
	}
	for _, e := range c.EnvFrom {
		if e.SecretRef != nil {
			refs["*"+e.SecretRef.Name] = &corev1.SecretKeySelector{LocalObjectReference: e.SecretRef.LocalObjectReference}
		}
	}
	return refs
}

// TestServingRole_7_DeploymentServesAsTheServingRoleAndMigratesAsTheOwner: the serving
// container holds the serving role's URI and nothing of the owner's Secret (it was given
// MIGRATE_DATABASE_URL: whoever took over the pod could rewrite the ledger and the votes);
// the init container, which migrates and exits, holds both, and nothing else of the pod's.
func TestServingRole_7_DeploymentServesAsTheServingRoleAndMigratesAsTheOwner(t *testing.T) {
	cfg := hubconfig.Default()
	comp := coopv1.Component{Name: "api", Image: "example.org/platform:1", Args: []string{"platform", "--vertical=ride-sharing"}, Port: 8080, Database: true,
		CPU: resource.MustParse("100m"), Memory: resource.MustParse("128Mi"), Env: []coopv1.EnvVar{{Name: "FEATURE", Value: "on"}}}
	for _, coop := range []*coopv1.Cooperative{testCoop(), sharedTestCoop()} {
		t.Run(string(coop.Spec.Database.Tier), func(t *testing.T) {
			pod := BuildDeployment(coop, &cfg, comp, 1).Spec.Template.Spec
			if len(pod.Containers) != 1 || len(pod.InitContainers) != 1 {
				t.Fatalf("%d containers and %d init containers, want one of each", len(pod.Containers), len(pod.InitContainers))
			}
			serving, migrate := pod.Containers[0], pod.InitContainers[0]
			for name, c := range map[string]corev1.Container{"serving": serving, "init": migrate} {
				if r := secretRefs(c)[coopv1.EnvDatabaseURL]; r == nil || r.Name != ServingSecretName(coop) || r.Key != "uri" {
					t.Errorf("%s container: DATABASE_URL from %+v, want the serving role's Secret %s", name, r, ServingSecretName(coop))
				}
			}
			for v, r := range secretRefs(serving) {
				if r.Name == coopv1.AppSecretName(coop) {
					t.Errorf("the serving container reads the owner's Secret %s (%s)", r.Name, v)
				}
			}
			for _, v := range pod.Volumes {
				if v.Secret != nil || v.Projected != nil && slices.ContainsFunc(v.Projected.Sources, func(p corev1.VolumeProjection) bool { return p.Secret != nil }) {
					t.Errorf("the pod mounts a Secret: %+v", v)
				}
			}
			if r := secretRefs(migrate)[coopv1.EnvMigrateDatabaseURL]; r == nil || r.Name != coopv1.AppSecretName(coop) || r.Key != "uri" {
				t.Errorf("init container: MIGRATE_DATABASE_URL from %+v, want the owner's Secret %s", r, coopv1.AppSecretName(coop))
			}
			if refs := secretRefs(migrate); len(refs) != 2 {
				t.Errorf("the init container reads %v, want the two database URIs only", refs)
			}
			envValue := func(c corev1.Container, name string) string {
				for _, e := range c.Env {
					if e.Name == name {
						return e.Value
					}
				}
				return ""
			}
			if envValue(serving, coopv1.EnvMigrate) != coopv1.MigrateNever || envValue(migrate, coopv1.EnvMigrate) != coopv1.MigrateOnly {
				t.Errorf("MIGRATE is %q in the serving container and %q in the init container, want %q and %q",
					envValue(serving, coopv1.EnvMigrate), envValue(migrate, coopv1.EnvMigrate), coopv1.MigrateNever, coopv1.MigrateOnly)
			}
			if envValue(migrate, "FEATURE") != "on" || envValue(migrate, "COOP_NAME") != coop.Name {
				t.Errorf("the init container lacks the template's env or COOP_NAME: %+v", migrate.Env)
			}
			if migrate.Name != "api-migrate" || migrate.Image != serving.Image || !slices.Equal(migrate.Args, serving.Args) {
				t.Errorf("init container %s runs %s %v, want api-migrate running the component's %s %v", migrate.Name, migrate.Image, migrate.Args, serving.Image, serving.Args)
			}
			if !equality.Semantic.DeepEqual(migrate.SecurityContext, serving.SecurityContext) || !equality.Semantic.DeepEqual(migrate.Resources, serving.Resources) {
				t.Errorf("the init container's security context %+v or resources %+v differ from the serving container's", migrate.SecurityContext, migrate.Resources)
			}
			if len(migrate.VolumeMounts) != 0 || len(migrate.Ports) != 0 || migrate.LivenessProbe != nil {
				t.Errorf("the init container mounts %v, opens %v: it only migrates", migrate.VolumeMounts, migrate.Ports)
			}
			if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
				t.Error("the pod mounts a service account token")
			}

			noDB := comp
			noDB.Database = false
			pod = BuildDeployment(coop, &cfg, noDB, 1).Spec.Template.Spec
			if len(pod.InitContainers) != 0 {
				t.Errorf("a component without database access migrates: %+v", pod.InitContainers)
			}
			for _, e := range pod.Containers[0].Env {
				if e.Name == coopv1.EnvDatabaseURL || e.Name == coopv1.EnvMigrateDatabaseURL || e.Name == coopv1.EnvMigrate {
					t.Errorf("a component without database access got %s", e.Name)
				}
			}
		})
	}
}

func TestServingRole_7_RefusalIsWhatCloudNativePGReports(t *testing.T) {
	refused := &cnpgv1.Cluster{}
	refused.Status.ManagedRolesStatus.CannotReconcile = map[string][]string{
		DedicatedServingRole: {"cannot get password secret", "retrying"}, "other": {"not ours"}}
	other := &cnpgv1.Cluster{}
	other.Status.ManagedRolesStatus.CannotReconcile = map[string][]string{"other": {"not ours"}}
	for _, tc := range []struct {
		name    string
		cluster *cnpgv1.Cluster
		want    string
	}{
		{"no Cluster", nil, ""},
		{"a Cluster without managed role status", &cnpgv1.Cluster{}, ""},
		{"another role refused", other, ""},
		{"the serving role refused", refused, "cannot get password secret; retrying"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ServingRoleRefusal(tc.cluster); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
