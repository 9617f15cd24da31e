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
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/cooperator-dev/cooperator/api/policy"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
)

func testCoop() *coopv1.Cooperative {
	return &coopv1.Cooperative{
		ObjectMeta: metav1.ObjectMeta{Name: "fairride-lyon", UID: "uid-1"},
		Spec: coopv1.CooperativeSpec{
			Vertical: coopv1.VerticalRideSharing,
			Plan:     "small",
			Platform: coopv1.PlatformSpec{Host: "fairride.example.coop"},
			Database: coopv1.DatabaseSpec{Tier: coopv1.DatabaseTierDedicated, Instances: 1, Storage: resource.MustParse("10Gi"), PostgresVersion: 17},
			Backup:   coopv1.BackupSpec{Schedule: "0 0 3 * * *", Retention: "30d"},
		},
	}
}

func testPlan() *coopv1.HostingPlan {
	return &coopv1.HostingPlan{
		ObjectMeta: metav1.ObjectMeta{Name: "small"},
		Spec: coopv1.HostingPlanSpec{
			Quota:                coopv1.PlanQuota{CPU: resource.MustParse("4"), Memory: resource.MustParse("8Gi"), Storage: resource.MustParse("50Gi"), Pods: 40},
			MaxDatabaseInstances: 2,
			DatabaseTiers:        []coopv1.DatabaseTier{coopv1.DatabaseTierDedicated},
		},
	}
}

func TestNextServerName(t *testing.T) {
	for _, tc := range []struct{ source, want string }{
		{"", "fairride-lyon"},
		{"fairride-lyon", "fairride-lyon-2"},
		{"fairride-lyon-2", "fairride-lyon-3"},
		{"fairride-lyon-19", "fairride-lyon-20"},
		{"fairride-lyon-x", "fairride-lyon-2"},
		{"something-else", "fairride-lyon-2"},
	} {
		if got := NextServerName("fairride-lyon", tc.source); got != tc.want {
			t.Errorf("NextServerName(%q) = %q, want %q", tc.source, got, tc.want)
		}
	}
	// Recovered from the first server again, the second (lost before its first backup)
	// holds WAL: a third name, never an archive in use.
	if got := NextServerName("fairride-lyon", "fairride-lyon", "fairride-lyon-2", "", "fairride-lyon-x"); got != "fairride-lyon-3" {
		t.Errorf("NextServerName past fairride-lyon-2 = %q, want fairride-lyon-3", got)
	}
}

func TestBackupsOf(t *testing.T) {
	at := func(h int) metav1.Time { return metav1.NewTime(time.Date(2026, 12, 1, h, 0, 0, 0, time.UTC)) }
	backup := func(name, server string, created int) cnpgv1.Backup {
		return cnpgv1.Backup{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: at(created)},
			Status: cnpgv1.BackupStatus{Phase: cnpgv1.BackupPhaseCompleted, ServerName: server}}
	}
	backups := []cnpgv1.Backup{
		backup("old", "a", 1),                     // of the Cluster a recovery replaced
		backup("unnamed-old", "", 2),              // before the live Cluster, server unknown
		backup("created-with-the-cluster", "", 4), // within the second the live Cluster was created
		backup("mine", "a-2", 5),                  // of the live Cluster
		backup("unnamed-new", "", 6),              // since the live Cluster, server unknown
		backup("stray", "a-9", 7),                 // another server's
	}
	live := &cnpgv1.Cluster{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: at(4)}}
	var names []string
	for _, b := range BackupsOf(backups, "a-2", live) {
		names = append(names, b.Name)
	}
	if !slices.Equal(names, []string{"created-with-the-cluster", "mine", "unnamed-new"}) {
		t.Errorf("backups of the live Cluster: %v", names)
	}
	if got := BackupsOf(backups, "a", nil); got != nil {
		t.Errorf("no Cluster, no backups of it: %v", got)
	}
	// Judged on those alone, a recovered Cluster without a backup of its own is not
	// protected, though the one it replaced had backups.
	v := JudgeBackups(at(8).Time, "0 0 0 * * *", BackupsOf(backups[:2], "a-2", live), &metav1.Condition{Status: metav1.ConditionTrue}, "Cluster a")
	if v.Status != metav1.ConditionFalse || v.Reason != coopv1.ReasonNoBackupYet {
		t.Errorf("verdict %s/%s: %s", v.Status, v.Reason, v.Message)
	}
}

func TestPlanDatabase(t *testing.T) {
	completed := cnpgv1.Backup{Status: cnpgv1.BackupStatus{Phase: cnpgv1.BackupPhaseCompleted}}
	failed := cnpgv1.Backup{Status: cnpgv1.BackupStatus{Phase: cnpgv1.BackupPhaseFailed}}
	t1, t2 := metav1.NewTime(time.Unix(100, 0)), metav1.NewTime(time.Unix(200, 0))
	storeWith := func(windows map[string]barmanv1.RecoveryWindow) *barmanv1.ObjectStore {
		return &barmanv1.ObjectStore{Status: barmanv1.ObjectStoreStatus{ServerRecoveryWindow: windows}}
	}
	recovered := testCoop()
	recovered.Status.LastBackup = &coopv1.BackupRecord{Name: "b"}
	recovered.Status.Database = coopv1.DatabaseStatus{ServerName: "fairride-lyon-2", Bootstrap: coopv1.BootstrapRecovery}
	// Recovered from fairride-lyon into fairride-lyon-2, and lost before a backup of its
	// own completed: the record still names the backup of fairride-lyon.
	lostAgain := testCoop()
	lostAgain.Status.LastBackup = &coopv1.BackupRecord{Name: "b", ServerName: "fairride-lyon"}
	lostAgain.Status.Database = coopv1.DatabaseStatus{ServerName: "fairride-lyon-2", Bootstrap: coopv1.BootstrapRecovery, RecoveredFrom: "fairride-lyon"}
	statusWithoutBackup := testCoop()
	statusWithoutBackup.Status.Database = coopv1.DatabaseStatus{ServerName: "fairride-lyon", Bootstrap: coopv1.BootstrapInitDB}

	existingRecovery := BuildCluster(testCoop(), testPlan(), ptr.To(hubconfig.Default()), DatabasePlan{ServerName: "fairride-lyon-3", Bootstrap: coopv1.BootstrapRecovery, RecoverFrom: "fairride-lyon-2"})

	for _, tc := range []struct {
		name     string
		coop     *coopv1.Cooperative
		existing *cnpgv1.Cluster
		backups  []cnpgv1.Backup
		store    *barmanv1.ObjectStore
		retained string
		want     DatabasePlan
	}{
		{"a new co-op starts empty", testCoop(), nil, nil, nil,
			"", DatabasePlan{ServerName: "fairride-lyon", Bootstrap: coopv1.BootstrapInitDB}},
		{"a failed backup is no backup", testCoop(), nil, []cnpgv1.Backup{failed}, nil,
			"", DatabasePlan{ServerName: "fairride-lyon", Bootstrap: coopv1.BootstrapInitDB}},
		{"a completed Backup means recovery", testCoop(), nil, []cnpgv1.Backup{failed, completed}, nil,
			"", DatabasePlan{ServerName: "fairride-lyon-2", Bootstrap: coopv1.BootstrapRecovery, RecoverFrom: "fairride-lyon"}},
		{"a recovery window on the ObjectStore means recovery", testCoop(), nil, nil,
			storeWith(map[string]barmanv1.RecoveryWindow{"fairride-lyon": {LastSuccessfulBackupTime: &t1}}),
			"", DatabasePlan{ServerName: "fairride-lyon-2", Bootstrap: coopv1.BootstrapRecovery, RecoverFrom: "fairride-lyon"}},
		{"the most recent server of the ObjectStore wins", testCoop(), nil, nil,
			storeWith(map[string]barmanv1.RecoveryWindow{"fairride-lyon": {LastSuccessfulBackupTime: &t1}, "fairride-lyon-2": {LastSuccessfulBackupTime: &t2}}),
			"", DatabasePlan{ServerName: "fairride-lyon-3", Bootstrap: coopv1.BootstrapRecovery, RecoverFrom: "fairride-lyon-2"}},
		{"a backup recorded in status means recovery from its server", recovered, nil, nil, nil,
			"", DatabasePlan{ServerName: "fairride-lyon-3", Bootstrap: coopv1.BootstrapRecovery, RecoverFrom: "fairride-lyon-2"}},
		{"lost again before a backup of its own: from the recorded backup's server, into a new one", lostAgain, nil, nil,
			storeWith(map[string]barmanv1.RecoveryWindow{"fairride-lyon": {LastSuccessfulBackupTime: &t1}, "fairride-lyon-2": {}}),
			"", DatabasePlan{ServerName: "fairride-lyon-3", Bootstrap: coopv1.BootstrapRecovery, RecoverFrom: "fairride-lyon"}},
		{"a newer backup in the object store than the one status recorded", lostAgain, nil, nil,
			storeWith(map[string]barmanv1.RecoveryWindow{"fairride-lyon": {LastSuccessfulBackupTime: &t1}, "fairride-lyon-2": {LastSuccessfulBackupTime: &t2}}),
			"", DatabasePlan{ServerName: "fairride-lyon-3", Bootstrap: coopv1.BootstrapRecovery, RecoverFrom: "fairride-lyon-2"}},
		{"a server in status without a completed backup is not enough", statusWithoutBackup, nil, nil, nil,
			"", DatabasePlan{ServerName: "fairride-lyon", Bootstrap: coopv1.BootstrapInitDB}},
		{"an existing Cluster keeps how it was made", testCoop(), existingRecovery, []cnpgv1.Backup{completed}, nil,
			"", DatabasePlan{ServerName: "fairride-lyon-3", Bootstrap: coopv1.BootstrapRecovery, RecoverFrom: "fairride-lyon-2"}},
		{"the backups of an earlier co-op of this name mean recovery", testCoop(), nil, nil, nil, "fairride-lyon-2",
			DatabasePlan{ServerName: "fairride-lyon-3", Bootstrap: coopv1.BootstrapRecovery, RecoverFrom: "fairride-lyon-2"}},
		{"its own backups come before an earlier co-op's", testCoop(), nil, []cnpgv1.Backup{completed}, nil, "fairride-lyon-7",
			DatabasePlan{ServerName: "fairride-lyon-2", Bootstrap: coopv1.BootstrapRecovery, RecoverFrom: "fairride-lyon"}},
		{"an existing Cluster ignores an earlier co-op's backups", testCoop(), existingRecovery, nil, nil, "fairride-lyon-7",
			DatabasePlan{ServerName: "fairride-lyon-3", Bootstrap: coopv1.BootstrapRecovery, RecoverFrom: "fairride-lyon-2"}},
		{"an existing empty Cluster is not recovered over", testCoop(),
			BuildCluster(testCoop(), nil, ptr.To(hubconfig.Default()), DatabasePlan{ServerName: "fairride-lyon", Bootstrap: coopv1.BootstrapInitDB}),
			[]cnpgv1.Backup{completed}, nil,
			"", DatabasePlan{ServerName: "fairride-lyon", Bootstrap: coopv1.BootstrapInitDB}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := PlanDatabase(tc.coop, tc.existing, tc.backups, tc.store, tc.retained); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestPlanViolation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*coopv1.Cooperative)
		want   string
	}{
		{"within the plan", func(*coopv1.Cooperative) {}, ""},
		{"a tier the plan does not offer", func(c *coopv1.Cooperative) { c.Spec.Database.Tier = coopv1.DatabaseTierShared }, "spec.database.tier: Invalid value: \"shared\": plan small allows only [dedicated]"},
		{"too many instances", func(c *coopv1.Cooperative) { c.Spec.Database.Instances = 3 }, "spec.database.instances: Invalid value: 3: plan small allows at most 2 database instances"},
		{"more storage than the quota", func(c *coopv1.Cooperative) {
			c.Spec.Database.Instances = 2
			c.Spec.Database.Storage = resource.MustParse("30Gi")
		}, "plan small allows 50Gi of storage in all, 2 instances of 30Gi need 60Gi"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testCoop()
			tc.mutate(c)
			got := planViolation(c, testPlan())
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("planViolation = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSharedPgHBA(t *testing.T) {
	got := SharedPgHBA([]string{"coop_b", "coop_a"}, nil)
	// The metering role reaches the postgres database only, each co-op's owner and serving
	// roles their own database only, over TLS.
	want := []string{
		"hostssl postgres cooperator_metering all scram-sha-256", "host all cooperator_metering all reject",
		"hostssl coop_a coop_a all scram-sha-256", "hostssl coop_a coop_a_serving all scram-sha-256",
		"host all coop_a all reject", "host all coop_a_serving all reject",
		"hostssl coop_b coop_b all scram-sha-256", "hostssl coop_b coop_b_serving all scram-sha-256",
		"host all coop_b all reject", "host all coop_b_serving all reject",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := SharedPgHBA(nil, nil); len(got) != 2 {
		t.Errorf("no co-ops, only the metering role's rules: %q", got)
	}
}

// Issue 10, point 6: a retained role keeps an explicit reject rule, and no allow rule.
func TestSharedPgHBARetainedRoleIsRejected(t *testing.T) {
	got := SharedPgHBA([]string{"coop_a"}, []string{"coop_old", "coop_a", "coop_old_serving", "coop_a_serving"})
	want := []string{
		"hostssl postgres cooperator_metering all scram-sha-256", "host all cooperator_metering all reject",
		"hostssl coop_a coop_a all scram-sha-256", "hostssl coop_a coop_a_serving all scram-sha-256",
		"host all coop_a all reject", "host all coop_a_serving all reject",
		"host all coop_old all reject", "host all coop_old_serving all reject",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q (a retained role taken over by a new co-op gets its allow rule back)", got, want)
	}
}

// Issue 10, point 6: CONNECT on each co-op's database is revoked from PUBLIC, so the
// metering reads database sizes as a role of its own: a managed role of the shared Cluster
// that may log in, a little, over TLS, to the postgres database only, and is a member of
// pg_read_all_stats and of nothing else; its password is in a basic-auth Secret of the
// operator namespace with its URI, which requires TLS.
func TestSharedMeteringRole_6_LeastPrivilege(t *testing.T) {
	cfg := hubconfig.Default()
	c := BuildSharedCluster(&cfg, []string{"coop_a"}, []string{"coop_old"})
	if c.Spec.Managed == nil || len(c.Spec.Managed.Roles) != 1 {
		t.Fatalf("managed = %+v, want the metering role only", c.Spec.Managed)
	}
	want := cnpgv1.RoleConfiguration{
		Name:            "cooperator_metering",
		Comment:         "the operator's metering: reads database sizes",
		Ensure:          cnpgv1.EnsurePresent,
		Login:           true,
		InRoles:         []string{"pg_read_all_stats"},
		Inherit:         ptr.To(true),
		ConnectionLimit: 2,
		PasswordSecret:  &cnpgv1.LocalObjectReference{Name: "cooperator-shared-metering"},
	}
	if got := c.Spec.Managed.Roles[0]; !reflect.DeepEqual(got, want) {
		t.Errorf("metering role = %+v, want %+v", got, want)
	}
	if got := c.Spec.PostgresConfiguration.PgHBA; !reflect.DeepEqual(got[:2], []string{
		"hostssl postgres cooperator_metering all scram-sha-256", "host all cooperator_metering all reject"}) {
		t.Errorf("pg_hba = %q, want the metering role's rules first", got)
	}
	if SharedMeteringConnectionLimit >= SharedReservedConnections {
		t.Errorf("the metering role's %d connections must fit in the %d reserved ones", SharedMeteringConnectionLimit, SharedReservedConnections)
	}

	secret := BuildSharedMeteringSecret(&cfg, "p@ss/word")
	if secret.Name != "cooperator-shared-metering" || secret.Namespace != cfg.OperatorNamespace || secret.Type != "kubernetes.io/basic-auth" ||
		len(secret.OwnerReferences) != 0 || secret.Labels[coopv1.LabelManagedBy] != coopv1.ManagedByValue {
		t.Errorf("secret %s/%s type %s owners %v labels %v", secret.Namespace, secret.Name, secret.Type, secret.OwnerReferences, secret.Labels)
	}
	for key, want := range map[string]string{
		"username": "cooperator_metering",
		"password": "p@ss/word",
		"uri":      "postgresql://cooperator_metering:p%40ss%2Fword@cooperator-shared-rw.cooperator-system.svc:5432/postgres?sslmode=require",
	} {
		if got := string(secret.Data[key]); got != want {
			t.Errorf("secret[%s] = %q, want %q", key, got, want)
		}
	}
}

// Issue 10, point 6: the sum of the roles' limits never exceeds what the Cluster can give.
func TestSharedConnectionLimitsCannotStarveTheCluster(t *testing.T) {
	for _, tc := range []struct {
		name    string
		max     int64
		tenants []SharedTenant
		want    map[string]int64
	}{
		// Each co-op's share is split: a quarter to its owner role, the rest to its serving role.
		{"one co-op gets everything but the reserve", 200, []SharedTenant{{"a", 1000}}, map[string]int64{"a": 46, "a_serving": 141}},
		{"shares follow the plans' CPU", 200, []SharedTenant{{"a", 1000}, {"b", 3000}},
			map[string]int64{"a": 11, "a_serving": 36, "b": 34, "b_serving": 105}},
		{"a plan without CPU counts as one core", 113, []SharedTenant{{"a", 0}, {"b", 1000}},
			map[string]int64{"a": 12, "a_serving": 38, "b": 12, "b_serving": 38}},
		{"floors round down", 100, []SharedTenant{{"a", 1}, {"b", 1}, {"c", 1}},
			map[string]int64{"a": 7, "a_serving": 22, "b": 7, "b_serving": 22, "c": 7, "c_serving": 22}},
		{"never zero, which CloudNativePG would read as unlimited", 50, []SharedTenant{{"a", 1}, {"b", 1000}},
			map[string]int64{"a": 1, "a_serving": 1, "b": 8, "b_serving": 26}},
		{"more roles than connections: one each", 20, []SharedTenant{{"a", 1}, {"b", 1}, {"c", 1}, {"d", 1}},
			map[string]int64{"a": 1, "a_serving": 1, "b": 1, "b_serving": 1, "c": 1, "c_serving": 1, "d": 1, "d_serving": 1}},
		{"no co-ops", 200, nil, map[string]int64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := SharedConnectionLimits(tc.max, tc.tenants)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			var sum int64
			for _, l := range got {
				sum += l
			}
			if 2*len(tc.tenants) <= int(tc.max-SuperuserReservedConnections-SharedReservedConnections) && sum > tc.max-SuperuserReservedConnections-SharedReservedConnections {
				t.Errorf("limits add up to %d, more than the %d connections the roles may share", sum, tc.max-SuperuserReservedConnections-SharedReservedConnections)
			}
		})
	}
}

// Issue 10, point 6: every connection URI the operator writes requires TLS.
func TestSharedAppSecretRequiresTLS(t *testing.T) {
	cfg := hubconfig.Default()
	s := BuildSharedAppSecret(testCoop(), &cfg, "pw")
	for _, k := range []string{"uri", "jdbc-uri"} {
		if !strings.Contains(string(s.Data[k]), "sslmode=require") {
			t.Errorf("%s = %q: no sslmode=require", k, s.Data[k])
		}
	}
	if string(s.Data["sslmode"]) != "require" {
		t.Errorf("sslmode = %q", s.Data["sslmode"])
	}
}

// Issue 10, point 6: the role of a co-op deleted with Retain cannot log in, has no
// password, and no co-op owns it (so it is not garbage collected with the co-op).
func TestBuildRetainedSharedRoleIsNologin(t *testing.T) {
	cfg := hubconfig.Default()
	c := testCoop()
	r := BuildRetainedSharedRole(c, &cfg)
	if r.Spec.Login || !r.Spec.DisablePassword || r.Spec.PasswordSecret != nil || len(r.OwnerReferences) != 0 {
		t.Errorf("retained role: login %v, disablePassword %v, passwordSecret %v, owners %v", r.Spec.Login, r.Spec.DisablePassword, r.Spec.PasswordSecret, r.OwnerReferences)
	}
	if r.Labels[coopv1.LabelRetainedFrom] != c.Name || r.Spec.ReclaimPolicy != cnpgv1.DatabaseRoleReclaimRetain || r.Name != coopv1.SharedResourceName(c) {
		t.Errorf("retained role: labels %v, reclaim %q, name %q", r.Labels, r.Spec.ReclaimPolicy, r.Name)
	}
	if live := BuildSharedRole(c, &cfg, 7); !live.Spec.Login || live.Spec.ConnectionLimit != 7 || live.Labels[coopv1.LabelRetainedFrom] != "" {
		t.Errorf("live role: login %v, limit %d, labels %v", live.Spec.Login, live.Spec.ConnectionLimit, live.Labels)
	}
}

// What a co-op deleted with Retain leaves is that co-op's own: any other Cooperative of the
// same name (a standby, a co-op created again that has not taken it over) sees it as
// another's, and so does everyone for what was retained before the uid was recorded.
func TestRetainedByOther(t *testing.T) {
	cfg := hubconfig.Default()
	deleted := testCoop()
	deleted.UID = "uid-of-the-deleted"
	again := testCoop()
	again.UID = "uid-of-the-next"
	unrecorded := BuildRetainedSharedRole(deleted, &cfg)
	delete(unrecorded.Annotations, coopv1.AnnotationRetainedUID)
	for _, tc := range []struct {
		name string
		obj  metav1.Object
		coop *coopv1.Cooperative
		want bool
	}{
		{"its own retained role, to the co-op being deleted", BuildRetainedSharedRole(deleted, &cfg), deleted, false},
		{"a retained role, to a co-op of the same name", BuildRetainedSharedRole(deleted, &cfg), again, true},
		{"a retained serving role, to a co-op of the same name", BuildRetainedSharedServingRole(deleted, &cfg), again, true},
		{"a role retained before the uid was recorded", unrecorded, deleted, true},
		{"a role taken over (applied as a live role)", BuildSharedRole(again, &cfg, 7), again, false},
	} {
		if got := RetainedByOther(tc.obj, tc.coop); got != tc.want {
			t.Errorf("%s: RetainedByOther = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// Issue 10, point 4: the shared Cluster archives WAL and takes scheduled base backups
// through the plugin, into a prefix no co-op's can overlap, with more than one instance by
// default.
func TestBuildSharedClusterIsBackedUp(t *testing.T) {
	cfg := hubconfig.Default()
	if cfg.SharedCluster.Instances < 2 {
		t.Errorf("the shared Cluster defaults to %d instance(s)", cfg.SharedCluster.Instances)
	}
	c := BuildSharedCluster(&cfg, []string{"coop_a"}, nil)
	if len(c.Spec.Plugins) != 1 || c.Spec.Plugins[0].Name != coopv1.BarmanPluginName || !*c.Spec.Plugins[0].IsWALArchiver ||
		c.Spec.Plugins[0].Parameters["barmanObjectName"] != SharedObjectStoreName(&cfg) {
		t.Errorf("plugins = %+v", c.Spec.Plugins)
	}
	if c.Spec.Instances != 2 || c.Spec.PostgresConfiguration.Parameters["max_connections"] != "200" {
		t.Errorf("instances %d, parameters %v", c.Spec.Instances, c.Spec.PostgresConfiguration.Parameters)
	}
	store := BuildSharedObjectStore(&cfg)
	if got := store.Spec.Configuration.DestinationPath; got != "s3://cooperator-backups/local/_shared/cooperator-shared/" {
		t.Errorf("destination = %q", got)
	}
	if ref := store.Spec.Configuration.AWS.AccessKeyIDReference; ref.Name != cfg.ObjectStore.CredentialsSecret || store.Namespace != cfg.OperatorNamespace {
		t.Errorf("credentials %s in %s", ref.Name, store.Namespace)
	}
	sb := BuildSharedScheduledBackup(&cfg)
	if sb.Spec.Cluster.Name != cfg.SharedCluster.Name || sb.Spec.Method != cnpgv1.BackupMethodPlugin || sb.Spec.Schedule != cfg.SharedCluster.BackupSchedule {
		t.Errorf("scheduled backup = %+v", sb.Spec)
	}
}

func TestBuildPlatformObjects(t *testing.T) {
	cfg := hubconfig.Default()
	comp := coopv1.Component{Name: "api", Port: 8080, IngressPath: "/", Database: true, HealthPath: "/healthz", ReadyPath: "/readyz",
		CPU: resource.MustParse("100m"), Memory: resource.MustParse("128Mi")}

	if BuildPodDisruptionBudget(testCoop(), comp, 1) != nil {
		t.Error("a budget for one replica would block every drain")
	}
	if pdb := BuildPodDisruptionBudget(testCoop(), comp, 2); pdb == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 {
		t.Errorf("two replicas need a budget of one unavailable, got %+v", pdb)
	}

	noHost := testCoop()
	noHost.Spec.Platform.Host = ""
	if BuildIngress(noHost, &cfg, []coopv1.Component{comp}) != nil {
		t.Error("no host, no Ingress")
	}
	hidden := comp
	hidden.IngressPath = ""
	if BuildIngress(testCoop(), &cfg, []coopv1.Component{hidden}) != nil {
		t.Error("no exposed component, no Ingress")
	}
	admin := comp
	admin.Name, admin.IngressPath = "admin", "/admin"
	ing := BuildIngress(testCoop(), &cfg, []coopv1.Component{comp, admin})
	if paths := ing.Spec.Rules[0].HTTP.Paths; paths[0].Path != "/admin" || paths[1].Path != "/" {
		t.Errorf("the longest path must come first: %+v", paths)
	}
	if ing.Spec.IngressClassName != nil {
		t.Error("no class configured, the cluster's default applies")
	}

	d := BuildDeployment(testCoop(), &cfg, comp, 2)
	c := d.Spec.Template.Spec.Containers[0]
	if c.Image != cfg.PlatformImage {
		t.Errorf("a component without an image runs the platform image, got %q", c.Image)
	}
	env := map[string]bool{}
	for _, e := range c.Env {
		env[e.Name] = true
		if e.Value != "" && strings.Contains(strings.ToLower(e.Name), "password") {
			t.Errorf("a secret in a literal env var: %s", e.Name)
		}
	}
	for _, name := range []string{"DATABASE_URL", "ADMIN_TOKEN", "COOP_POLICY_FILE", "COOP_NAME", "LISTEN_ADDRESS"} {
		if !env[name] {
			t.Errorf("missing env %s", name)
		}
	}
	noDB := comp
	noDB.Database = false
	for _, e := range BuildDeployment(testCoop(), &cfg, noDB, 2).Spec.Template.Spec.Containers[0].Env {
		if e.Name == "DATABASE_URL" {
			t.Error("a component without database access got the credentials")
		}
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" {
		t.Errorf("a component without metricsPort declares ports %+v", c.Ports)
	}
	withMetrics := comp
	withMetrics.MetricsPort = 9090
	mc := BuildDeployment(testCoop(), &cfg, withMetrics, 2).Spec.Template.Spec.Containers[0]
	if len(mc.Ports) != 2 || mc.Ports[1].Name != MetricsPortName || mc.Ports[1].ContainerPort != 9090 {
		t.Errorf("metrics port %+v", mc.Ports)
	}
	metricsEnv := ""
	for _, e := range mc.Env {
		if e.Name == "METRICS_LISTEN" {
			metricsEnv = e.Value
		}
	}
	// The ingress controller's CIDRs, when the hub gives them, reach the platform as the
	// proxies it trusts (their X-Forwarded-For), for its limits per client address.
	envOf := func(d *appsv1.Deployment, name string) (string, bool) {
		for _, e := range d.Spec.Template.Spec.Containers[0].Env {
			if e.Name == name {
				return e.Value, true
			}
		}
		return "", false
	}
	if v, ok := envOf(BuildDeployment(testCoop(), &cfg, comp, 2), coopv1.EnvTrustedProxies); ok {
		t.Errorf("%s=%q without ingressProxies", coopv1.EnvTrustedProxies, v)
	}
	proxied := cfg
	proxied.IngressProxies = []string{"10.4.0.0/16", "10.5.0.0/16"}
	if v, _ := envOf(BuildDeployment(testCoop(), &proxied, comp, 2), coopv1.EnvTrustedProxies); v != "10.4.0.0/16,10.5.0.0/16" {
		t.Errorf("%s=%q, want the hub's ingressProxies", coopv1.EnvTrustedProxies, v)
	}
	if metricsEnv != ":9090" {
		t.Errorf("METRICS_LISTEN %q, want :9090", metricsEnv)
	}
	if svc := BuildService(testCoop(), withMetrics); len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != "http" {
		t.Errorf("the Service exposes %+v; the metrics port is for monitoring only", svc.Spec.Ports)
	}
	if !*c.SecurityContext.ReadOnlyRootFilesystem || *c.SecurityContext.AllowPrivilegeEscalation || c.SecurityContext.Capabilities.Drop[0] != "ALL" {
		t.Errorf("the container is not restricted: %+v", c.SecurityContext)
	}
}

func TestResolveTemplate(t *testing.T) {
	tmpl := &coopv1.PlatformTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "ride-sharing"},
		Spec: coopv1.PlatformTemplateSpec{Vertical: coopv1.VerticalRideSharing, DefaultVersion: "2.0", Versions: []coopv1.TemplateVersion{
			{Version: "1.0", Components: []coopv1.Component{{Name: "api"}}},
			{Version: "2.0", Components: []coopv1.Component{{Name: "api"}, {Name: "dispatch"}}},
		}},
	}
	pinned := testCoop()
	pinned.Spec.Platform.Version = "1.0"
	kept := testCoop()
	kept.Status.Platform = coopv1.PlatformStatus{Template: "ride-sharing", Version: "1.0"}
	missing := testCoop()
	missing.Spec.Platform.Version = "9.9"
	wrongVertical := testCoop()
	wrongVertical.Spec.Vertical = coopv1.VerticalCare
	wrongVertical.Spec.Platform.Template = "ride-sharing"

	for _, tc := range []struct {
		name        string
		coop        *coopv1.Cooperative
		tmpl        *coopv1.PlatformTemplate
		wantVersion string
		wantReason  string
	}{
		{"a new co-op gets the default version", testCoop(), tmpl, "2.0", ""},
		{"a pinned version is used", pinned, tmpl, "1.0", ""},
		{"a recorded version is kept: upgrades are explicit", kept, tmpl, "1.0", ""},
		{"an unknown version is reported", missing, tmpl, "", coopv1.ReasonTemplateNotFound},
		{"a missing template is reported", testCoop(), nil, "", coopv1.ReasonTemplateNotFound},
		{"another vertical's template is refused", wrongVertical, tmpl, "", coopv1.ReasonTemplateMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, reason, _ := coopv1.ResolveTemplate(tc.coop, tc.tmpl)
			got := ""
			if v != nil {
				got = v.Version
			}
			if got != tc.wantVersion || reason != tc.wantReason {
				t.Errorf("got version %q reason %q, want %q %q", got, reason, tc.wantVersion, tc.wantReason)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	type area struct {
		t      string
		status metav1.ConditionStatus
		reason string
	}
	all := func(status metav1.ConditionStatus, reason string) []area {
		return []area{
			{coopv1.ConditionTenancyReady, metav1.ConditionTrue, coopv1.ReasonReady},
			{coopv1.ConditionDatabaseReady, status, reason},
			{coopv1.ConditionBackupReady, metav1.ConditionTrue, coopv1.ReasonReady},
			{coopv1.ConditionPlatformReady, metav1.ConditionTrue, coopv1.ReasonReady},
		}
	}
	for _, tc := range []struct {
		name                         string
		areas                        []area
		wantReady                    metav1.ConditionStatus
		wantReason                   string
		wantReconciling, wantStalled bool
	}{
		{"all ready", all(metav1.ConditionTrue, coopv1.ReasonReady), metav1.ConditionTrue, coopv1.ReasonReady, false, false},
		{"waiting for the database", all(metav1.ConditionFalse, coopv1.ReasonClusterNotReady), metav1.ConditionFalse, coopv1.ReasonClusterNotReady, true, false},
		{"a missing plan stalls", []area{{coopv1.ConditionTenancyReady, metav1.ConditionFalse, coopv1.ReasonPlanNotFound}}, metav1.ConditionFalse, coopv1.ReasonPlanNotFound, false, true},
		{"missing credentials stall", all(metav1.ConditionFalse, coopv1.ReasonObjectStoreCredentialsMissing), metav1.ConditionFalse, coopv1.ReasonObjectStoreCredentialsMissing, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testCoop()
			c.Generation = 4
			s := &scope{coop: c}
			for _, a := range tc.areas {
				s.setCondition(a.t, a.status, a.reason, "msg")
			}
			summarize(s)
			ready := meta.FindStatusCondition(c.Status.Conditions, coopv1.ConditionReady)
			if ready.Status != tc.wantReady || ready.Reason != tc.wantReason || ready.ObservedGeneration != 4 {
				t.Errorf("Ready = %+v", ready)
			}
			if got := meta.IsStatusConditionTrue(c.Status.Conditions, coopv1.ConditionReconciling); got != tc.wantReconciling {
				t.Errorf("Reconciling = %v", got)
			}
			if got := meta.IsStatusConditionTrue(c.Status.Conditions, coopv1.ConditionStalled); got != tc.wantStalled {
				t.Errorf("Stalled = %v", got)
			}
			if c.Status.ObservedGeneration != 4 {
				t.Errorf("observedGeneration = %d", c.Status.ObservedGeneration)
			}
		})
	}
}

func TestScheduleErrors(t *testing.T) {
	for _, tc := range []struct {
		schedule string
		tier     coopv1.DatabaseTier
		wantErr  string
	}{
		{schedule: "0 0 3 * * *"},
		{schedule: "0 30 2 * * MON-FRI"},
		{schedule: "*/30 * * * * *"},
		{schedule: ""},
		// Six fields, as our CRD asks, and refused by CloudNativePG's webhook.
		{schedule: "0 0 25 * * *", wantErr: "above maximum"},
		{schedule: "0 0 3 * 13 *", wantErr: "above maximum"},
		{schedule: "0 0 3 * * everyday", wantErr: "Failed to parse"},
		// The shared tier has no schedule of its own.
		{schedule: "0 0 25 * * *", tier: coopv1.DatabaseTierShared},
	} {
		coop := &coopv1.Cooperative{Spec: coopv1.CooperativeSpec{
			Database: coopv1.DatabaseSpec{Tier: tc.tier},
			Backup:   coopv1.BackupSpec{Schedule: tc.schedule},
		}}
		errs := scheduleErrors(coop, field.NewPath("spec"))
		switch {
		case tc.wantErr == "" && len(errs) > 0:
			t.Errorf("%q: unexpected %v", tc.schedule, errs)
		case tc.wantErr != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.wantErr) || errs[0].Field != "spec.backup.schedule"):
			t.Errorf("%q: want one error on spec.backup.schedule with %q, got %v", tc.schedule, tc.wantErr, errs)
		}
	}
}

func TestOwnedStatusLeavesOthersConditions(t *testing.T) {
	st := coopv1.CooperativeStatus{Conditions: []metav1.Condition{
		{Type: coopv1.ConditionReady, Status: metav1.ConditionTrue},
		{Type: "Metered", Status: metav1.ConditionTrue},
		{Type: coopv1.ConditionStalled, Status: metav1.ConditionFalse},
	}}
	got := ownedStatus(st).Conditions
	if len(got) != 2 || got[0].Type != coopv1.ConditionReady || got[1].Type != coopv1.ConditionStalled {
		t.Errorf("the status apply must carry only this reconciler's conditions, got %+v", got)
	}
}

func TestImportAnnotationErrors(t *testing.T) {
	with := func(ann map[string]string) *coopv1.Cooperative {
		return &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "c", Annotations: ann}}
	}
	importing := map[string]string{coopv1.AnnotationImportDump: "x.dump", coopv1.AnnotationImportSHA256: "abc"}
	for _, tc := range []struct {
		name       string
		old, new   map[string]string
		byOperator bool
		want       int
	}{
		{"an unrelated change", map[string]string{"a": "b"}, map[string]string{"a": "c"}, false, 0},
		{"an admin adds a restore", nil, importing, false, 2},
		{"an admin points it elsewhere", importing, map[string]string{coopv1.AnnotationImportDump: "y.dump", coopv1.AnnotationImportSHA256: "abc"}, false, 1},
		{"an admin removes it before the restore", importing, nil, false, 2},
		{"the operator removes it once restored", importing, nil, true, 0},
		{"kept as it is", importing, importing, false, 0},
		// The origin: an edited one would be refused by status.origin, and the restore wait.
		{"an admin writes an origin", importing, map[string]string{coopv1.AnnotationImportDump: "x.dump", coopv1.AnnotationImportSHA256: "abc", coopv1.AnnotationImportOrigin: `{"export":"x"}`}, false, 1},
		{"an admin removes the origin of a restored co-op", map[string]string{coopv1.AnnotationImportOrigin: `{"export":"x"}`}, nil, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := ImportAnnotationErrors(with(tc.old), with(tc.new), tc.byOperator)
			if len(errs) != tc.want {
				t.Errorf("%d errors, want %d: %v", len(errs), tc.want, errs)
			}
			for _, e := range errs {
				if !strings.Contains(e.Error(), "metadata.annotations[coop.cooperator.dev/import-") || !strings.Contains(e.Error(), "set only by cooperator import") {
					t.Errorf("message: %v", e)
				}
			}
		})
	}
}

// Every variable the operator sets in a component's containers is one the PlatformTemplate
// CRD keeps templates from setting (coopv1.InjectedEnv and the policy file): a variable
// added here and not there would let a template override it.
func TestDeploymentSetsOnlyInjectedEnv(t *testing.T) {
	cfg := hubconfig.Default()
	comp := coopv1.Component{Name: "api", Port: 8080, IngressPath: "/", Database: true, HealthPath: "/healthz", ReadyPath: "/readyz",
		Env: []coopv1.EnvVar{{Name: "FROM_THE_TEMPLATE", Value: "x"}}}
	injected := append([]string{policy.FileEnv, "FROM_THE_TEMPLATE"}, coopv1.InjectedEnv...)
	d := BuildDeployment(testCoop(), &cfg, comp, 2)
	for _, c := range append(d.Spec.Template.Spec.InitContainers, d.Spec.Template.Spec.Containers...) {
		if len(c.Env) == 0 {
			t.Errorf("container %s sets no variable: the test checks nothing", c.Name)
		}
		for _, e := range c.Env {
			if !slices.Contains(injected, e.Name) {
				t.Errorf("container %s sets %s, which is not in coopv1.InjectedEnv: a template could override it", c.Name, e.Name)
			}
		}
	}
}
