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
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	barmanapi "github.com/cloudnative-pg/barman-cloud/pkg/api"
	machineryapi "github.com/cloudnative-pg/machinery/pkg/api"
	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cooperator-dev/cooperator/api/topology"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/controllers/shared/logicalbackup"
)

// recoverySourceName names the external cluster a recovering Cluster restores from.
const recoverySourceName = "origin"

// BuildObjectStoreSecret copies the object store credentials into the co-op namespace.
func BuildObjectStoreSecret(coop *coopv1.Cooperative, source *corev1.Secret) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: objectMeta(coop, coop.NamespaceName(), coopv1.ObjectStoreSecretName), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{}}
	for k, v := range source.Data {
		s.Data[k] = v
	}
	return s
}

// BuildObjectStore is where the co-op's WAL and base backups go: <bucket>/<region>/<co-op>/.
func BuildObjectStore(coop *coopv1.Cooperative, cfg *hubconfig.Config) *barmanv1.ObjectStore {
	return &barmanv1.ObjectStore{
		ObjectMeta: objectMeta(coop, coop.NamespaceName(), coopv1.ObjectStoreName(coop)),
		Spec: barmanv1.ObjectStoreSpec{
			RetentionPolicy: coop.Spec.Backup.Retention,
			Configuration: barmanapi.BarmanObjectStoreConfiguration{
				DestinationPath: cfg.BackupDestination(coop.Name),
				EndpointURL:     cfg.ObjectStore.EndpointURL,
				BarmanCredentials: barmanapi.BarmanCredentials{AWS: &barmanapi.S3Credentials{
					AccessKeyIDReference:     &machineryapi.SecretKeySelector{LocalObjectReference: machineryapi.LocalObjectReference{Name: coopv1.ObjectStoreSecretName}, Key: coopv1.AccessKeyIDKey},
					SecretAccessKeyReference: &machineryapi.SecretKeySelector{LocalObjectReference: machineryapi.LocalObjectReference{Name: coopv1.ObjectStoreSecretName}, Key: coopv1.AccessSecretKeyKey},
				}},
				Wal:  &barmanapi.WalBackupConfiguration{Compression: barmanapi.CompressionTypeGzip},
				Data: &barmanapi.DataBackupConfiguration{Compression: barmanapi.CompressionTypeGzip},
			},
		},
	}
}

// DatabasePlan says how the dedicated Cluster is to be bootstrapped and where it archives.
type DatabasePlan struct {
	// ServerName is where the Cluster archives.
	ServerName string
	// Bootstrap is initdb or recovery.
	Bootstrap coopv1.DatabaseBootstrap
	// RecoverFrom is the server name to restore from, with recovery.
	RecoverFrom string
	// Topology places the Cluster in its cross-region topology; nil outside one.
	Topology *topology.Topology
}

// BuildCluster returns the co-op's dedicated CloudNativePG Cluster. It archives WAL through
// the Barman Cloud plugin; with recovery it restores from the co-op's object store.
func BuildCluster(coop *coopv1.Cooperative, plan *coopv1.HostingPlan, cfg *hubconfig.Config, db DatabasePlan) *cnpgv1.Cluster {
	spec := coop.Spec.Database
	c := &cnpgv1.Cluster{
		ObjectMeta: objectMeta(coop, coop.NamespaceName(), coopv1.ClusterName(coop)),
		Spec: cnpgv1.ClusterSpec{
			Instances:         int(spec.Instances),
			ImageName:         fmt.Sprintf("%s:%d", cfg.PostgresImageRepository, spec.PostgresVersion),
			InheritedMetadata: &cnpgv1.EmbeddedObjectMetadata{Labels: map[string]string{coopv1.LabelCooperative: coop.Name}},
			StorageConfiguration: cnpgv1.StorageConfiguration{
				Size: spec.Storage.String(),
			},
			Plugins: []cnpgv1.PluginConfiguration{{
				Name:          coopv1.BarmanPluginName,
				IsWALArchiver: ptr.To(true),
				Parameters:    map[string]string{"barmanObjectName": coopv1.ObjectStoreName(coop), "serverName": db.ServerName},
			}},
		},
	}
	if plan != nil && plan.Spec.StorageClassName != "" {
		c.Spec.StorageConfiguration.StorageClass = ptr.To(plan.Spec.StorageClassName)
	}
	switch db.Bootstrap {
	case coopv1.BootstrapRecovery:
		c.Spec.Bootstrap = &cnpgv1.BootstrapConfiguration{Recovery: &cnpgv1.BootstrapRecovery{Source: recoverySourceName}}
		c.Spec.ExternalClusters = []cnpgv1.ExternalCluster{{
			Name: recoverySourceName,
			PluginConfiguration: &cnpgv1.PluginConfiguration{
				Name:       coopv1.BarmanPluginName,
				Parameters: map[string]string{"barmanObjectName": coopv1.ObjectStoreName(coop), "serverName": db.RecoverFrom},
			},
		}}
	default:
		c.Spec.Bootstrap = &cnpgv1.BootstrapConfiguration{InitDB: &cnpgv1.BootstrapInitDB{Database: DedicatedDatabaseName, Owner: DedicatedOwnerRole}}
	}
	c.Spec.Managed = &cnpgv1.ManagedConfiguration{Roles: []cnpgv1.RoleConfiguration{
		ServingRoleConfiguration(coop, ServingSecretName(coop), DedicatedServingConnectionLimit),
	}}
	applyTopology(c, db)
	return c
}

// The database of a dedicated Cluster and its owner, as its initdb creates them; the
// CloudNativePG app Secret connects as the owner.
const (
	DedicatedDatabaseName = "app"
	DedicatedOwnerRole    = "app"
)

// DedicatedServingRole is the platform's serving role in a dedicated Cluster.
const DedicatedServingRole = "platform_serving"

// DedicatedServingConnectionLimit is the serving role's connection limit in a dedicated
// Cluster: half of CloudNativePG's default max_connections (100), so that the platform's
// replicas cannot take the connections the owner (migrations, the operator's governance
// reads) and the instance manager need.
const DedicatedServingConnectionLimit = 50

// servingRoleOf is the serving role that goes with a shared-tier co-op's owner role.
func servingRoleOf(owner string) string { return owner + "_serving" }

// ServingRoleName is the PostgreSQL role the co-op's platform serves with: it owns nothing,
// and the platform, migrating as the owner, grants it only what serving needs (store.GrantServing
// of the platform service: the ledger only SELECT and INSERT). On the shared tier it is
// coop_<name>_serving (63 bytes at most, PostgreSQL's limit, for a name of 50 characters);
// on the dedicated tier DedicatedServingRole.
func ServingRoleName(coop *coopv1.Cooperative) string {
	if coop.Spec.Database.Tier == coopv1.DatabaseTierShared {
		return servingRoleOf(coopv1.SharedRoleName(coop))
	}
	return DedicatedServingRole
}

// ServingRoleConfiguration is the serving role as CloudNativePG manages it (a managed role
// of a dedicated Cluster, or a DatabaseRole in the shared Cluster): it may log in, with the
// password of the basic-auth Secret passwordSecret, at most connectionLimit times; it is no
// superuser, cannot create databases or roles, replicate or bypass row security, and is a
// member of no role.
func ServingRoleConfiguration(coop *coopv1.Cooperative, passwordSecret string, connectionLimit int64) cnpgv1.RoleConfiguration {
	return cnpgv1.RoleConfiguration{
		Name:            ServingRoleName(coop),
		Comment:         "platform serving role of co-op " + coop.Name,
		Ensure:          cnpgv1.EnsurePresent,
		Login:           true,
		Superuser:       false,
		CreateDB:        false,
		CreateRole:      false,
		Replication:     false,
		BypassRLS:       false,
		ConnectionLimit: connectionLimit,
		PasswordSecret:  &cnpgv1.LocalObjectReference{Name: passwordSecret},
	}
}

// ServingRoleRefusal is what CloudNativePG reports when it cannot reconcile the serving
// role of a dedicated Cluster (its managed roles' cannotReconcile), or "".
func ServingRoleRefusal(cluster *cnpgv1.Cluster) string {
	if cluster == nil {
		return ""
	}
	return strings.Join(cluster.Status.ManagedRolesStatus.CannotReconcile[DedicatedServingRole], "; ")
}

// DatabaseURI is the postgresql:// URI the operator writes for user, with sslmode
// SharedSSLMode: the connection is encrypted or refused.
func DatabaseURI(user, password, host, dbname string) string {
	u := url.URL{Scheme: "postgresql", User: url.UserPassword(user, password), Host: fmt.Sprintf("%s:%d", host, PostgresPort),
		Path: "/" + dbname, RawQuery: url.Values{"sslmode": []string{SharedSSLMode}}.Encode()}
	return u.String()
}

// BuildServingSecret is the serving role's Secret in the co-op namespace (ServingSecretName):
// basic-auth, with the role's URI to database dbname on host.
func BuildServingSecret(coop *coopv1.Cooperative, host, dbname, password string) *corev1.Secret {
	user := ServingRoleName(coop)
	return &corev1.Secret{
		ObjectMeta: objectMeta(coop, coop.NamespaceName(), ServingSecretName(coop)),
		Type:       corev1.SecretTypeBasicAuth,
		Data: map[string][]byte{
			corev1.BasicAuthUsernameKey: []byte(user),
			corev1.BasicAuthPasswordKey: []byte(password),
			DatabaseURIKey:              []byte(DatabaseURI(user, password, host, dbname)),
		},
	}
}

// BuildDedicatedServingSecret is the serving role's Secret of a dedicated-tier co-op: the
// passwordSecret of the Cluster's managed role, and the platform's URI to the Cluster's
// primary.
func BuildDedicatedServingSecret(coop *coopv1.Cooperative, password string) *corev1.Secret {
	return BuildServingSecret(coop, fmt.Sprintf("%s-rw.%s.svc", coopv1.ClusterName(coop), coop.NamespaceName()), DedicatedDatabaseName, password)
}

// BuildScheduledBackup takes base backups through the plugin on the co-op's schedule, the
// first one as soon as the Cluster is ready.
func BuildScheduledBackup(coop *coopv1.Cooperative) *cnpgv1.ScheduledBackup {
	return &cnpgv1.ScheduledBackup{
		ObjectMeta: objectMeta(coop, coop.NamespaceName(), coopv1.ScheduledBackupName(coop)),
		Spec: cnpgv1.ScheduledBackupSpec{
			Schedule:             coop.Spec.Backup.Schedule,
			Immediate:            ptr.To(true),
			Cluster:              cnpgv1.LocalObjectReference{Name: coopv1.ClusterName(coop)},
			BackupOwnerReference: "self",
			Method:               cnpgv1.BackupMethodPlugin,
			PluginConfiguration:  &cnpgv1.BackupPluginConfiguration{Name: coopv1.BarmanPluginName},
		},
	}
}

// BuildOnDemandBackup is a backup the operator asks for, such as the final one before a
// Retain deletion.
func BuildOnDemandBackup(coop *coopv1.Cooperative, name string) *cnpgv1.Backup {
	return &cnpgv1.Backup{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: coop.NamespaceName(), Labels: backupLabels(coop)},
		Spec: cnpgv1.BackupSpec{
			Cluster:             cnpgv1.LocalObjectReference{Name: coopv1.ClusterName(coop)},
			Method:              cnpgv1.BackupMethodPlugin,
			PluginConfiguration: &cnpgv1.BackupPluginConfiguration{Name: coopv1.BarmanPluginName},
		},
	}
}

// NextServerName is the server name a Cluster recovered from source archives under: a
// recovered Cluster must not write into the archive it restores from.
func NextServerName(coopName, source string) string {
	if source == "" {
		return coopName
	}
	if rest, ok := strings.CutPrefix(source, coopName+"-"); ok {
		if n, err := strconv.Atoi(rest); err == nil && n >= 2 {
			return fmt.Sprintf("%s-%d", coopName, n+1)
		}
	}
	return coopName + "-2"
}

// PlanDatabase decides how the dedicated Cluster is bootstrapped. An existing Cluster keeps
// what it has. A missing one is recovered whenever the co-op has backups: a completed Backup,
// a recovery window on its ObjectStore, or a completed backup recorded in status (with the
// server name the Cluster archived under), or the backups an earlier co-op of the same name
// left when it was deleted with Retain (retained, a server name). An empty database never
// silently replaces one that had data.
func PlanDatabase(coop *coopv1.Cooperative, existing *cnpgv1.Cluster, backups []cnpgv1.Backup, store *barmanv1.ObjectStore, retained string) DatabasePlan {
	if existing != nil {
		p := DatabasePlan{ServerName: coop.Name, Bootstrap: coopv1.BootstrapInitDB}
		for _, pl := range existing.Spec.Plugins {
			if pl.Name == coopv1.BarmanPluginName && pl.Parameters["serverName"] != "" {
				p.ServerName = pl.Parameters["serverName"]
			}
		}
		if b := existing.Spec.Bootstrap; b != nil && b.Recovery != nil {
			p.Bootstrap = coopv1.BootstrapRecovery
			for _, ec := range existing.Spec.ExternalClusters {
				if ec.Name == b.Recovery.Source && ec.PluginConfiguration != nil {
					p.RecoverFrom = ec.PluginConfiguration.Parameters["serverName"]
				}
			}
		}
		return p
	}
	source := recoverySource(coop, backups, store)
	if source == "" {
		source = retained
	}
	if source == "" {
		return DatabasePlan{ServerName: coop.Name, Bootstrap: coopv1.BootstrapInitDB}
	}
	return DatabasePlan{ServerName: NextServerName(coop.Name, source), Bootstrap: coopv1.BootstrapRecovery, RecoverFrom: source}
}

// recoverySource returns the server name holding the co-op's most recent backups, or "".
func recoverySource(coop *coopv1.Cooperative, backups []cnpgv1.Backup, store *barmanv1.ObjectStore) string {
	if coop.Status.LastBackup != nil && coop.Status.Database.ServerName != "" {
		// A backup of the Cluster that archived under this server name completed.
		return coop.Status.Database.ServerName
	}
	if store != nil && len(store.Status.ServerRecoveryWindow) > 0 {
		names := make([]string, 0, len(store.Status.ServerRecoveryWindow))
		for name := range store.Status.ServerRecoveryWindow {
			names = append(names, name)
		}
		sort.Slice(names, func(i, j int) bool {
			ti, tj := store.Status.ServerRecoveryWindow[names[i]].LastSuccessfulBackupTime, store.Status.ServerRecoveryWindow[names[j]].LastSuccessfulBackupTime
			switch {
			case ti == nil:
				return false
			case tj == nil:
				return true
			case !ti.Equal(tj):
				return tj.Before(ti)
			}
			return names[i] < names[j]
		})
		return names[0]
	}
	for _, b := range backups {
		if b.Status.Phase == cnpgv1.BackupPhaseCompleted {
			if b.Status.ServerName != "" {
				return b.Status.ServerName
			}
			return coop.Name
		}
	}
	return ""
}

// BuildSharedSecret is the shared-tier role's basic-auth Secret in the operator namespace.
func BuildSharedSecret(coop *coopv1.Cooperative, cfg *hubconfig.Config, password string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: objectMeta(coop, cfg.OperatorNamespace, coopv1.SharedResourceName(coop)),
		Type:       corev1.SecretTypeBasicAuth,
		Data: map[string][]byte{
			corev1.BasicAuthUsernameKey: []byte(coopv1.SharedRoleName(coop)),
			corev1.BasicAuthPasswordKey: []byte(password),
		},
	}
}

// SharedSSLMode is the sslmode of every connection URI the operator writes: the connection
// is encrypted or refused. CloudNativePG serves TLS with a certificate of the Cluster's own
// CA; verify-full would also need that CA mounted in every platform pod, which the templates
// do not do yet, so the server is not authenticated (the NetworkPolicies keep other pods off
// the path).
const SharedSSLMode = logicalbackup.SSLMode

// BuildSharedAppSecret is the copy of the shared-tier credentials in the co-op namespace,
// with the keys of a CloudNativePG app Secret, so the platform reads both tiers alike.
func BuildSharedAppSecret(coop *coopv1.Cooperative, cfg *hubconfig.Config, password string) *corev1.Secret {
	user := coopv1.SharedRoleName(coop)
	host := sharedHost(cfg)
	return &corev1.Secret{
		ObjectMeta: objectMeta(coop, coop.NamespaceName(), coopv1.AppSecretName(coop)),
		Type:       corev1.SecretTypeBasicAuth,
		Data: map[string][]byte{
			corev1.BasicAuthUsernameKey: []byte(user),
			corev1.BasicAuthPasswordKey: []byte(password),
			"host":                      []byte(host),
			"port":                      []byte("5432"),
			"dbname":                    []byte(user),
			"sslmode":                   []byte(SharedSSLMode),
			"uri":                       []byte(fmt.Sprintf("postgresql://%s:%s@%s:5432/%s?sslmode=%s", user, password, host, user, SharedSSLMode)),
			"jdbc-uri":                  []byte(fmt.Sprintf("jdbc:postgresql://%s:5432/%s?password=%s&user=%s&sslmode=%s", host, user, password, user, SharedSSLMode)),
			"pgpass":                    []byte(fmt.Sprintf("%s:5432:%s:%s:%s\n", host, user, user, password)),
		},
	}
}

// sharedHost is the shared Cluster's read-write Service.
func sharedHost(cfg *hubconfig.Config) string {
	return fmt.Sprintf("%s-rw.%s.svc", cfg.SharedCluster.Name, cfg.OperatorNamespace)
}

// SharedServingResourceName names the DatabaseRole of a shared-tier co-op's serving role
// and its basic-auth Secret in the operator namespace.
func SharedServingResourceName(coop *coopv1.Cooperative) string {
	return coopv1.SharedResourceName(coop) + "-serving"
}

// BuildSharedServingSecret is the serving role's basic-auth Secret in the operator
// namespace, the passwordSecret of its DatabaseRole.
func BuildSharedServingSecret(coop *coopv1.Cooperative, cfg *hubconfig.Config, password string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: objectMeta(coop, cfg.OperatorNamespace, SharedServingResourceName(coop)),
		Type:       corev1.SecretTypeBasicAuth,
		Data: map[string][]byte{
			corev1.BasicAuthUsernameKey: []byte(ServingRoleName(coop)),
			corev1.BasicAuthPasswordKey: []byte(password),
		},
	}
}

// BuildSharedServingAppSecret is the serving role's Secret in the co-op namespace, with its
// URI to the co-op's database in the shared Cluster.
func BuildSharedServingAppSecret(coop *coopv1.Cooperative, cfg *hubconfig.Config, password string) *corev1.Secret {
	return BuildServingSecret(coop, sharedHost(cfg), coopv1.SharedRoleName(coop), password)
}

// BuildSharedServingRole is the co-op's serving role in the hub's shared Cluster, reclaimed
// like its owner role.
func BuildSharedServingRole(coop *coopv1.Cooperative, cfg *hubconfig.Config, connectionLimit int64) *cnpgv1.DatabaseRole {
	_, roleReclaim := reclaim(coop)
	return &cnpgv1.DatabaseRole{
		ObjectMeta: objectMeta(coop, cfg.OperatorNamespace, SharedServingResourceName(coop)),
		Spec: cnpgv1.DatabaseRoleSpec{
			RoleConfiguration: ServingRoleConfiguration(coop, SharedServingResourceName(coop), connectionLimit),
			ClusterRef:        corev1.LocalObjectReference{Name: cfg.SharedCluster.Name},
			ReclaimPolicy:     roleReclaim,
		},
	}
}

func reclaim(coop *coopv1.Cooperative) (cnpgv1.DatabaseReclaimPolicy, cnpgv1.DatabaseRoleReclaimPolicy) {
	if coop.Spec.DeletionPolicy == coopv1.DeletionPolicyDelete {
		return cnpgv1.DatabaseReclaimDelete, cnpgv1.DatabaseRoleReclaimDelete
	}
	return cnpgv1.DatabaseReclaimRetain, cnpgv1.DatabaseRoleReclaimRetain
}

// BuildSharedRole is the co-op's login role in the hub's shared Cluster.
func BuildSharedRole(coop *coopv1.Cooperative, cfg *hubconfig.Config, connectionLimit int64) *cnpgv1.DatabaseRole {
	_, roleReclaim := reclaim(coop)
	return &cnpgv1.DatabaseRole{
		ObjectMeta: objectMeta(coop, cfg.OperatorNamespace, coopv1.SharedResourceName(coop)),
		Spec: cnpgv1.DatabaseRoleSpec{
			RoleConfiguration: cnpgv1.RoleConfiguration{
				Name:            coopv1.SharedRoleName(coop),
				Comment:         "role of co-op " + coop.Name,
				Ensure:          cnpgv1.EnsurePresent,
				Login:           true,
				ConnectionLimit: connectionLimit,
				PasswordSecret:  &cnpgv1.LocalObjectReference{Name: coopv1.SharedResourceName(coop)},
			},
			ClusterRef:    corev1.LocalObjectReference{Name: cfg.SharedCluster.Name},
			ReclaimPolicy: roleReclaim,
		},
	}
}

// BuildSharedDatabase is the co-op's database in the hub's shared Cluster, owned by its role.
func BuildSharedDatabase(coop *coopv1.Cooperative, cfg *hubconfig.Config) *cnpgv1.Database {
	dbReclaim, _ := reclaim(coop)
	return &cnpgv1.Database{
		ObjectMeta: objectMeta(coop, cfg.OperatorNamespace, coopv1.SharedResourceName(coop)),
		Spec: cnpgv1.DatabaseSpec{
			ClusterRef:    corev1.LocalObjectReference{Name: cfg.SharedCluster.Name},
			Name:          coopv1.SharedRoleName(coop),
			Owner:         coopv1.SharedRoleName(coop),
			Ensure:        cnpgv1.EnsurePresent,
			ReclaimPolicy: dbReclaim,
		},
	}
}

// SharedPgHBA are the pg_hba rules of the shared Cluster: the metering role
// (SharedMeteringRole) reaches SharedMeteringDatabase only, over TLS only; each co-op's
// roles, given by its owner role (which names its database too) and the serving role that
// goes with it, reach their own database, over TLS only, and are refused everywhere else; a
// retained role (of a co-op deleted with Retain, NOLOGIN) is refused everywhere, so that it
// never falls under CloudNativePG's catch-all rule. Sorted, so the rules are stable.
func SharedPgHBA(roles, retained []string) []string {
	sorted := append([]string(nil), roles...)
	sort.Strings(sorted)
	active := map[string]bool{}
	rules := make([]string, 0, 2+4*len(sorted)+len(retained))
	rules = append(rules,
		fmt.Sprintf("hostssl %s %s all scram-sha-256", SharedMeteringDatabase, SharedMeteringRole),
		fmt.Sprintf("host all %s all reject", SharedMeteringRole))
	for _, r := range sorted {
		serving := servingRoleOf(r)
		active[r], active[serving] = true, true
		rules = append(rules,
			fmt.Sprintf("hostssl %s %s all scram-sha-256", r, r),
			fmt.Sprintf("hostssl %s %s all scram-sha-256", r, serving),
			fmt.Sprintf("host all %s all reject", r),
			fmt.Sprintf("host all %s all reject", serving))
	}
	gone := append([]string(nil), retained...)
	sort.Strings(gone)
	for _, r := range gone {
		if !active[r] {
			rules = append(rules, fmt.Sprintf("host all %s all reject", r))
		}
	}
	return rules
}

// SharedObjectStoreName is the Barman Cloud ObjectStore of the hub's shared Cluster.
func SharedObjectStoreName(cfg *hubconfig.Config) string { return cfg.SharedCluster.Name + "-backups" }

// SharedScheduledBackupName is the shared Cluster's backup schedule.
func SharedScheduledBackupName(cfg *hubconfig.Config) string {
	return cfg.SharedCluster.Name + "-scheduled"
}

func sharedMeta(cfg *hubconfig.Config, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: cfg.OperatorNamespace, Labels: map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue}}
}

// BuildSharedObjectStore is where the shared Cluster archives WAL and base backups, with the
// hub's own credentials, which stay in the operator namespace.
func BuildSharedObjectStore(cfg *hubconfig.Config) *barmanv1.ObjectStore {
	secret := cfg.ObjectStore.CredentialsSecret
	return &barmanv1.ObjectStore{
		ObjectMeta: sharedMeta(cfg, SharedObjectStoreName(cfg)),
		Spec: barmanv1.ObjectStoreSpec{
			RetentionPolicy: cfg.SharedCluster.BackupRetention,
			Configuration: barmanapi.BarmanObjectStoreConfiguration{
				DestinationPath: hubconfig.SharedBackupDestination(cfg),
				EndpointURL:     cfg.ObjectStore.EndpointURL,
				BarmanCredentials: barmanapi.BarmanCredentials{AWS: &barmanapi.S3Credentials{
					AccessKeyIDReference:     &machineryapi.SecretKeySelector{LocalObjectReference: machineryapi.LocalObjectReference{Name: secret}, Key: coopv1.AccessKeyIDKey},
					SecretAccessKeyReference: &machineryapi.SecretKeySelector{LocalObjectReference: machineryapi.LocalObjectReference{Name: secret}, Key: coopv1.AccessSecretKeyKey},
				}},
				Wal:  &barmanapi.WalBackupConfiguration{Compression: barmanapi.CompressionTypeGzip},
				Data: &barmanapi.DataBackupConfiguration{Compression: barmanapi.CompressionTypeGzip},
			},
		},
	}
}

// BuildSharedScheduledBackup takes the shared Cluster's base backups through the plugin.
func BuildSharedScheduledBackup(cfg *hubconfig.Config) *cnpgv1.ScheduledBackup {
	return &cnpgv1.ScheduledBackup{
		ObjectMeta: sharedMeta(cfg, SharedScheduledBackupName(cfg)),
		Spec: cnpgv1.ScheduledBackupSpec{
			Schedule:             cfg.SharedCluster.BackupSchedule,
			Immediate:            ptr.To(true),
			Cluster:              cnpgv1.LocalObjectReference{Name: cfg.SharedCluster.Name},
			BackupOwnerReference: "self",
			Method:               cnpgv1.BackupMethodPlugin,
			PluginConfiguration:  &cnpgv1.BackupPluginConfiguration{Name: coopv1.BarmanPluginName},
		},
	}
}

// Connections of the shared Cluster that no co-op role may take: PostgreSQL's
// superuser_reserved_connections (3, CloudNativePG's default, for the instance manager), and
// a margin for the metering role (SharedMeteringConnectionLimit of them), the logical
// backups and a hub admin.
const (
	SuperuserReservedConnections = 3
	SharedReservedConnections    = 10
)

// SharedTenant is a shared-tier co-op's owner role and its weight in the shared Cluster's
// connections: its plan's CPU quota in millicores (0 counts as one core).
type SharedTenant struct {
	Role   string
	Weight int64
}

// SharedConnectionLimits carves each role's connection limit from the shared Cluster's
// max_connections. With A = maxConnections - SuperuserReservedConnections -
// SharedReservedConnections and n co-ops, co-op i gets L_i = 2 + floor((A - 2n) * w_i /
// sum(w)) (just 2 when A < 2n), split between its two roles: its owner role (migrations,
// logical backups) max(1, floor(L_i/4)), its serving role (the platform) the rest. Every
// limit is at least 1 (0 is unlimited to PostgreSQL). The shares add up to at most A, so
// the roles together cannot starve the Cluster's own and reserved connections, as long as
// there are no more roles than A (2n <= A; beyond, each role still gets 1).
func SharedConnectionLimits(maxConnections int64, tenants []SharedTenant) map[string]int64 {
	spare := maxConnections - SuperuserReservedConnections - SharedReservedConnections - 2*int64(len(tenants))
	var total int64
	for _, t := range tenants {
		total += weight(t)
	}
	limits := make(map[string]int64, 2*len(tenants))
	for _, t := range tenants {
		share := int64(2)
		if total > 0 && spare > 0 {
			share += spare * weight(t) / total
		}
		owner := max(1, share/4)
		limits[t.Role] = owner
		limits[servingRoleOf(t.Role)] = share - owner
	}
	return limits
}

func weight(t SharedTenant) int64 {
	if t.Weight <= 0 {
		return 1000
	}
	return t.Weight
}

// SharedMeteringRole is the role the operator's metering reads the size of every co-op's
// database in the shared Cluster with (pg_database_size). PostgreSQL lets a role read the
// size of a database it has CONNECT on, or any database if it has the privileges of
// pg_read_all_stats; CONNECT on a co-op's database is revoked from PUBLIC (by the platform's
// migration, store.GrantServing, and again by each logical backup), so the role is a member
// of pg_read_all_stats and of nothing else, owns nothing, and may connect only to
// SharedMeteringDatabase (SharedPgHBA), never to a co-op's database. No co-op role can take
// its name: theirs start with coop_.
const SharedMeteringRole = "cooperator_metering"

// SharedMeteringDatabase is the one database of the shared Cluster the metering role may
// connect to: PostgreSQL's maintenance database, which holds no co-op's data.
const SharedMeteringDatabase = "postgres"

// SharedMeteringConnectionLimit is the metering role's connection limit: the metering keeps
// one connection and opens a new one after an error. It is taken from
// SharedReservedConnections, not from any co-op's share.
const SharedMeteringConnectionLimit = 2

// readAllStatsRole is PostgreSQL's predefined role whose members may read the size of every
// database (and the statistics views).
const readAllStatsRole = "pg_read_all_stats"

// SharedMeteringSecretName is the metering role's basic-auth Secret in the operator
// namespace: its managed role's passwordSecret, and the metering's URI.
func SharedMeteringSecretName(cfg *hubconfig.Config) string {
	return cfg.SharedCluster.Name + "-metering"
}

// SharedMeteringRoleConfiguration is the metering role as a managed role of the shared
// Cluster: it may log in, at most SharedMeteringConnectionLimit times, with the password of
// SharedMeteringSecretName; it is a member of pg_read_all_stats only, and INHERITs its
// privileges (without, it would have them only after SET ROLE, and pg_database_size would
// refuse it); it is no superuser, cannot create databases or roles, replicate or bypass row
// security.
func SharedMeteringRoleConfiguration(cfg *hubconfig.Config) cnpgv1.RoleConfiguration {
	return cnpgv1.RoleConfiguration{
		Name:            SharedMeteringRole,
		Comment:         "the operator's metering: reads database sizes",
		Ensure:          cnpgv1.EnsurePresent,
		Login:           true,
		Superuser:       false,
		CreateDB:        false,
		CreateRole:      false,
		Replication:     false,
		BypassRLS:       false,
		InRoles:         []string{readAllStatsRole},
		Inherit:         ptr.To(true),
		ConnectionLimit: SharedMeteringConnectionLimit,
		PasswordSecret:  &cnpgv1.LocalObjectReference{Name: SharedMeteringSecretName(cfg)},
	}
}

// BuildSharedMeteringSecret is the metering role's Secret (SharedMeteringSecretName):
// basic-auth, with its URI to SharedMeteringDatabase on the shared Cluster's primary, over
// TLS (DatabaseURI). The operator generates the password once and keeps it; it stays in the
// operator namespace.
func BuildSharedMeteringSecret(cfg *hubconfig.Config, password string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: sharedMeta(cfg, SharedMeteringSecretName(cfg)),
		Type:       corev1.SecretTypeBasicAuth,
		Data: map[string][]byte{
			corev1.BasicAuthUsernameKey: []byte(SharedMeteringRole),
			corev1.BasicAuthPasswordKey: []byte(password),
			DatabaseURIKey:              []byte(DatabaseURI(SharedMeteringRole, password, sharedHost(cfg), SharedMeteringDatabase)),
		},
	}
}

// SharedMeteringURI reads the metering role's URI from its Secret (SharedMeteringSecretName)
// in the operator namespace.
func SharedMeteringURI(ctx context.Context, c client.Reader, cfg *hubconfig.Config) (string, error) {
	var secret corev1.Secret
	key := client.ObjectKey{Namespace: cfg.OperatorNamespace, Name: SharedMeteringSecretName(cfg)}
	if err := c.Get(ctx, key, &secret); err != nil {
		return "", fmt.Errorf("reading Secret %s: %w", key, err)
	}
	if len(secret.Data[DatabaseURIKey]) == 0 {
		return "", fmt.Errorf("secret %s has no %s", key, DatabaseURIKey)
	}
	return string(secret.Data[DatabaseURIKey]), nil
}

// BuildSharedCluster is the hub's shared Cluster that holds the shared-tier databases, with
// the pg_hba rules that keep each co-op's role in its own database, archiving WAL through
// the Barman Cloud plugin like a dedicated co-op's Cluster, and the metering role as its one
// managed role (SharedMeteringRoleConfiguration).
func BuildSharedCluster(cfg *hubconfig.Config, roles, retained []string) *cnpgv1.Cluster {
	return &cnpgv1.Cluster{
		ObjectMeta: metav1.ObjectMeta{
			Name:      cfg.SharedCluster.Name,
			Namespace: cfg.OperatorNamespace,
			Labels:    map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue},
		},
		Spec: cnpgv1.ClusterSpec{
			Instances:            int(cfg.SharedCluster.Instances),
			ImageName:            fmt.Sprintf("%s:%d", cfg.PostgresImageRepository, 17),
			StorageConfiguration: cnpgv1.StorageConfiguration{Size: cfg.SharedCluster.Storage},
			Bootstrap:            &cnpgv1.BootstrapConfiguration{InitDB: &cnpgv1.BootstrapInitDB{Database: "app", Owner: "app"}},
			PostgresConfiguration: cnpgv1.PostgresConfiguration{
				PgHBA:      SharedPgHBA(roles, retained),
				Parameters: map[string]string{"max_connections": strconv.Itoa(int(cfg.SharedCluster.MaxConnections))},
			},
			Managed: &cnpgv1.ManagedConfiguration{Roles: []cnpgv1.RoleConfiguration{SharedMeteringRoleConfiguration(cfg)}},
			Plugins: []cnpgv1.PluginConfiguration{{
				Name:          coopv1.BarmanPluginName,
				IsWALArchiver: ptr.To(true),
				Parameters:    map[string]string{"barmanObjectName": SharedObjectStoreName(cfg), "serverName": cfg.SharedCluster.Name},
			}},
		},
	}
}

// reconcileDatabase applies the co-op's database: a dedicated Cluster with its object store
// and backups, or a database and role in the hub's shared Cluster.
func (r *Reconciler) reconcileDatabase(ctx context.Context, s *scope) (ctrl.Result, error) {
	if !s.tenancyReady() {
		s.setCondition(coopv1.ConditionDatabaseReady, metav1.ConditionFalse, coopv1.ReasonProgressing, "waiting for the tenancy")
		s.setCondition(coopv1.ConditionBackupReady, metav1.ConditionFalse, coopv1.ReasonProgressing, "waiting for the tenancy")
		return ctrl.Result{}, nil
	}
	if s.coop.Spec.Database.Tier == coopv1.DatabaseTierShared {
		return r.reconcileSharedDatabase(ctx, s)
	}
	return r.reconcileDedicatedDatabase(ctx, s)
}

// objectStoreCredentials returns the Secret of the co-op's object store credentials in the
// operator namespace: its own, or the hub's only when the hub opted in to a single tenant
// (hubconfig.ObjectStore.CredentialsSecretsFor is the one rule).
func (r *Reconciler) objectStoreCredentials(ctx context.Context, coop *coopv1.Cooperative) (*corev1.Secret, error) {
	for _, name := range r.Config.ObjectStore.CredentialsSecretsFor(coop.Name) {
		var secret corev1.Secret
		err := r.Client.Get(ctx, client.ObjectKey{Namespace: r.Config.OperatorNamespace, Name: name}, &secret)
		if err == nil {
			return &secret, nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("reading object store credentials %s/%s: %w", r.Config.OperatorNamespace, name, err)
		}
	}
	return nil, nil
}

// DedicatedDatabaseObjects are the objects of a dedicated-tier database, the Cluster last, in the order they
// are applied: the credentials and ObjectStores the Cluster names (its own archive, and those
// of the other regions in its topology) before the Cluster, so that CloudNativePG never starts
// a Cluster, or its recovery, whose archives are not there yet.
func DedicatedDatabaseObjects(coop *coopv1.Cooperative, creds *corev1.Secret, plan *coopv1.HostingPlan, cfg *hubconfig.Config, db DatabasePlan) []client.Object {
	objs := []client.Object{BuildObjectStoreSecret(coop, creds), BuildObjectStore(coop, cfg)}
	if db.Topology != nil {
		objs = append(objs, db.Topology.Objects...)
	}
	return append(objs, BuildCluster(coop, plan, cfg, db))
}

func (r *Reconciler) reconcileDedicatedDatabase(ctx context.Context, s *scope) (ctrl.Result, error) {
	coop := s.coop
	ns := coop.NamespaceName()
	creds, err := r.objectStoreCredentials(ctx, coop)
	if err != nil {
		return ctrl.Result{}, err
	}
	if creds == nil {
		msg := ObjectStoreCredentialsMissingMessage(&r.Config, coop.Name)
		s.setCondition(coopv1.ConditionDatabaseReady, metav1.ConditionFalse, coopv1.ReasonObjectStoreCredentialsMissing, msg)
		s.setCondition(coopv1.ConditionBackupReady, metav1.ConditionFalse, coopv1.ReasonObjectStoreCredentialsMissing, msg)
		return ctrl.Result{}, nil
	}

	var existing cnpgv1.Cluster
	clusterExists := true
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: coopv1.ClusterName(coop)}, &existing); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("reading the Cluster: %w", err)
		}
		clusterExists = false
	}
	var store barmanv1.ObjectStore
	storeExists := true
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: coopv1.ObjectStoreName(coop)}, &store); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("reading the ObjectStore: %w", err)
		}
		storeExists = false
	}
	var backups cnpgv1.BackupList
	if err := r.Client.List(ctx, &backups, client.InNamespace(ns), client.MatchingLabels{coopv1.ClusterLabel: coopv1.ClusterName(coop)}); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing backups: %w", err)
	}

	var livePtr *cnpgv1.Cluster
	if clusterExists {
		livePtr = &existing
	}
	var storePtr *barmanv1.ObjectStore
	if storeExists {
		storePtr = &store
	}
	var retained string
	if !clusterExists {
		server, conflict, err := r.retainedServer(ctx, coop)
		if err != nil {
			return ctrl.Result{}, err
		}
		if conflict != "" {
			s.setCondition(coopv1.ConditionDatabaseReady, metav1.ConditionFalse, coopv1.ReasonRetainedBackupsElsewhere, conflict)
			s.setCondition(coopv1.ConditionBackupReady, metav1.ConditionFalse, coopv1.ReasonRetainedBackupsElsewhere, conflict)
			return ctrl.Result{}, nil
		}
		retained = server
	}
	dbPlan := withTopology(PlanDatabase(coop, livePtr, backups.Items, storePtr, retained), s.topology)

	// The Cluster is applied over the read its plan was made from. Read again, the cache
	// may have lost in between a Cluster just deleted: the apply would then create it anew
	// from the plan of the one that was (initdb, say) instead of recovering it.
	var liveCluster client.Object
	if clusterExists {
		liveCluster = &existing
	}
	// The schedule is applied after the database, on its own: a schedule CloudNativePG
	// refuses stops the backups, not the database.
	// The serving role's Secret comes before the Cluster whose managed role names it.
	servingPassword, err := r.generatedSecret(ctx, client.ObjectKey{Namespace: ns, Name: ServingSecretName(coop)}, corev1.BasicAuthPasswordKey)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("reading the serving role's credentials: %w", err)
	}
	objs := append([]client.Object{BuildDedicatedServingSecret(coop, servingPassword)}, DedicatedDatabaseObjects(coop, creds, s.plan, &r.Config, dbPlan)...)
	err = r.applyAll(ctx, s, objs[:len(objs)-1]...)
	if err == nil {
		err = r.applyOver(ctx, s, objs[len(objs)-1], liveCluster)
	}
	if err != nil {
		s.setCondition(coopv1.ConditionDatabaseReady, metav1.ConditionFalse, coopv1.ReasonApplyFailed, err.Error())
		s.setCondition(coopv1.ConditionBackupReady, metav1.ConditionFalse, coopv1.ReasonApplyFailed, err.Error())
		return ctrl.Result{}, err
	}
	coop.Status.Database = coopv1.DatabaseStatus{
		ClusterName:   coopv1.ClusterName(coop),
		ServerName:    dbPlan.ServerName,
		Bootstrap:     dbPlan.Bootstrap,
		RecoveredFrom: dbPlan.RecoverFrom,
	}
	coop.Status.Endpoints.Database = fmt.Sprintf("%s-rw.%s", coopv1.ClusterName(coop), ns)

	switch {
	case clusterExists && ServingRoleRefusal(&existing) != "":
		// The platform cannot log in without its serving role.
		s.setCondition(coopv1.ConditionDatabaseReady, metav1.ConditionFalse, coopv1.ReasonDatabaseNotReady,
			fmt.Sprintf("Cluster %s cannot reconcile the serving role %s: %s", coopv1.ClusterName(coop), DedicatedServingRole, ServingRoleRefusal(&existing)))
	case clusterExists && meta.IsStatusConditionTrue(existing.Status.Conditions, string(cnpgv1.ConditionClusterReady)):
		s.setCondition(coopv1.ConditionDatabaseReady, metav1.ConditionTrue, coopv1.ReasonReady,
			fmt.Sprintf("Cluster %s ready with %d instances", existing.Name, existing.Status.ReadyInstances))
	case dbPlan.Bootstrap == coopv1.BootstrapRecovery:
		s.setCondition(coopv1.ConditionDatabaseReady, metav1.ConditionFalse, coopv1.ReasonRecovering,
			fmt.Sprintf("Cluster %s is restoring from the backups of server %s", coopv1.ClusterName(coop), dbPlan.RecoverFrom))
	default:
		phase := "being created"
		if clusterExists && existing.Status.Phase != "" {
			phase = existing.Status.Phase
		}
		s.setCondition(coopv1.ConditionDatabaseReady, metav1.ConditionFalse, coopv1.ReasonClusterNotReady,
			fmt.Sprintf("Cluster %s: %s", coopv1.ClusterName(coop), phase))
	}
	if err := r.applyAll(ctx, s, BuildScheduledBackup(coop)); err != nil {
		s.setCondition(coopv1.ConditionBackupReady, metav1.ConditionFalse, coopv1.ReasonApplyFailed, err.Error())
		return ctrl.Result{}, err
	}
	verdict := JudgeBackups(r.now(), coop.Spec.Backup.Schedule, backups.Items, archivingCondition(livePtr), "Cluster "+coopv1.ClusterName(coop))
	recheck := setBackupCondition(s, verdict)
	if clusterExists && verdict.LastCompleted != nil {
		// The Cluster has backups of its own now, recorded in status: the backups of an
		// earlier co-op of this name are no longer the way back.
		if err := r.forgetRetained(ctx, coop); err != nil {
			return ctrl.Result{}, err
		}
	}
	return requeueAt(recheck), nil
}

func (r *Reconciler) reconcileSharedDatabase(ctx context.Context, s *scope) (ctrl.Result, error) {
	coop := s.coop
	cfg := &r.Config
	password, err := r.sharedPassword(ctx, coop)
	if err != nil {
		return ctrl.Result{}, err
	}
	servingPassword, err := r.generatedSecret(ctx, client.ObjectKey{Namespace: cfg.OperatorNamespace, Name: SharedServingResourceName(coop)}, corev1.BasicAuthPasswordKey)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("reading the serving role's credentials: %w", err)
	}
	tenants, retained, err := r.sharedTenants(ctx, coop.Name, true)
	if err != nil {
		return ctrl.Result{}, err
	}
	limits := SharedConnectionLimits(int64(cfg.SharedCluster.MaxConnections), tenants)
	// The shared Cluster's object store and schedule come before the Cluster that names
	// them, as for a dedicated Cluster.
	// The metering role's Secret comes before the Cluster whose managed role names it.
	meteringPassword, err := r.generatedSecret(ctx, client.ObjectKey{Namespace: cfg.OperatorNamespace, Name: SharedMeteringSecretName(cfg)}, corev1.BasicAuthPasswordKey)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("reading the metering role's credentials: %w", err)
	}
	objs := []client.Object{
		BuildSharedObjectStore(cfg),
		BuildSharedMeteringSecret(cfg, meteringPassword),
		BuildSharedCluster(cfg, tenantRoles(tenants), retained),
		BuildSharedSecret(coop, cfg, password),
		BuildSharedRole(coop, cfg, limits[coopv1.SharedRoleName(coop)]),
		BuildSharedDatabase(coop, cfg),
		BuildSharedAppSecret(coop, cfg, password),
		BuildSharedServingSecret(coop, cfg, servingPassword),
		BuildSharedServingRole(coop, cfg, limits[ServingRoleName(coop)]),
		BuildSharedServingAppSecret(coop, cfg, servingPassword),
	}
	if err := r.applyAll(ctx, s, objs...); err != nil {
		s.setCondition(coopv1.ConditionDatabaseReady, metav1.ConditionFalse, coopv1.ReasonApplyFailed, err.Error())
		s.setCondition(coopv1.ConditionBackupReady, metav1.ConditionFalse, coopv1.ReasonApplyFailed, err.Error())
		return ctrl.Result{}, err
	}
	coop.Status.Database = coopv1.DatabaseStatus{ClusterName: cfg.SharedCluster.Name}
	coop.Status.Endpoints.Database = fmt.Sprintf("%s-rw.%s", cfg.SharedCluster.Name, cfg.OperatorNamespace)

	// Read from the cache, which may not have seen yet the Database and the DatabaseRole
	// just created: they are then not applied yet, and their creation wakes the next
	// reconcile.
	key := client.ObjectKey{Namespace: cfg.OperatorNamespace, Name: coopv1.SharedResourceName(coop)}
	var database cnpgv1.Database
	if err := r.Client.Get(ctx, key, &database); client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, fmt.Errorf("reading the Database: %w", err)
	}
	var role, serving cnpgv1.DatabaseRole
	if err := r.Client.Get(ctx, key, &role); client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, fmt.Errorf("reading the DatabaseRole: %w", err)
	}
	servingKey := client.ObjectKey{Namespace: cfg.OperatorNamespace, Name: SharedServingResourceName(coop)}
	if err := r.Client.Get(ctx, servingKey, &serving); client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, fmt.Errorf("reading the serving DatabaseRole: %w", err)
	}
	switch {
	case !ptr.Deref(role.Status.Applied, false):
		s.setCondition(coopv1.ConditionDatabaseReady, metav1.ConditionFalse, coopv1.ReasonDatabaseNotReady,
			fmt.Sprintf("role %s not applied yet in Cluster %s %s", coopv1.SharedRoleName(coop), cfg.SharedCluster.Name, role.Status.Message))
	case !ptr.Deref(serving.Status.Applied, false):
		s.setCondition(coopv1.ConditionDatabaseReady, metav1.ConditionFalse, coopv1.ReasonDatabaseNotReady,
			fmt.Sprintf("role %s not applied yet in Cluster %s %s", ServingRoleName(coop), cfg.SharedCluster.Name, serving.Status.Message))
	case !ptr.Deref(database.Status.Applied, false):
		s.setCondition(coopv1.ConditionDatabaseReady, metav1.ConditionFalse, coopv1.ReasonDatabaseNotReady,
			fmt.Sprintf("database %s not applied yet in Cluster %s %s", coopv1.SharedRoleName(coop), cfg.SharedCluster.Name, database.Status.Message))
	default:
		s.setCondition(coopv1.ConditionDatabaseReady, metav1.ConditionTrue, coopv1.ReasonReady,
			fmt.Sprintf("database %s in the shared Cluster %s", coopv1.SharedRoleName(coop), cfg.SharedCluster.Name))
	}
	return r.reconcileSharedBackups(ctx, s)
}

// reconcileSharedBackups applies the shared Cluster's backup schedule and the co-op's own
// logical backup, and judges both: a shared-tier co-op's data is protected only when the
// shared Cluster's is.
func (r *Reconciler) reconcileSharedBackups(ctx context.Context, s *scope) (ctrl.Result, error) {
	coop := s.coop
	cfg := &r.Config
	var hubCreds corev1.Secret
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: cfg.OperatorNamespace, Name: cfg.ObjectStore.CredentialsSecret}, &hubCreds); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("reading the shared Cluster's object store credentials: %w", err)
		}
		s.setCondition(coopv1.ConditionBackupReady, metav1.ConditionFalse, coopv1.ReasonSharedClusterNotBackedUp,
			fmt.Sprintf("the shared Cluster %s cannot archive: the hub must create Secret %s/%s with its object store credentials",
				cfg.SharedCluster.Name, cfg.OperatorNamespace, cfg.ObjectStore.CredentialsSecret))
		return ctrl.Result{}, nil
	}
	// A schedule CloudNativePG refuses stops the backups, not the database.
	if err := r.applyAll(ctx, s, BuildSharedScheduledBackup(cfg)); err != nil {
		s.setCondition(coopv1.ConditionBackupReady, metav1.ConditionFalse, coopv1.ReasonApplyFailed, err.Error())
		return ctrl.Result{}, err
	}
	credsName := cfg.ObjectStore.PerCooperativeSecretPrefix + coop.Name
	var creds corev1.Secret
	credsFound := true
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: cfg.OperatorNamespace, Name: credsName}, &creds); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("reading the co-op's object store credentials: %w", err)
		}
		credsFound = false
	}
	if credsFound {
		if err := r.applyAll(ctx, s, BuildLogicalBackupCronJob(coop, cfg, credsName)); err != nil {
			s.setCondition(coopv1.ConditionBackupReady, metav1.ConditionFalse, coopv1.ReasonApplyFailed, err.Error())
			return ctrl.Result{}, err
		}
	}

	var shared cnpgv1.Cluster
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: cfg.OperatorNamespace, Name: cfg.SharedCluster.Name}, &shared); client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, fmt.Errorf("reading the shared Cluster: %w", err)
	}
	var backups cnpgv1.BackupList
	if err := r.Client.List(ctx, &backups, client.InNamespace(cfg.OperatorNamespace), client.MatchingLabels{coopv1.ClusterLabel: cfg.SharedCluster.Name}); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing the shared Cluster's backups: %w", err)
	}
	verdict := JudgeBackups(r.now(), cfg.SharedCluster.BackupSchedule, backups.Items, archivingCondition(&shared), "the shared Cluster "+cfg.SharedCluster.Name)
	if verdict.Status == metav1.ConditionTrue && !credsFound {
		verdict.Status, verdict.Reason, verdict.RecheckAfter = metav1.ConditionFalse, coopv1.ReasonObjectStoreCredentialsMissing, 0
		verdict.Message = fmt.Sprintf("no logical backup of database %s: the hub must create Secret %s/%s with credentials for %s",
			coopv1.SharedRoleName(coop), cfg.OperatorNamespace, credsName, logicalbackup.Prefix(cfg, coop.Name))
	}
	return requeueAt(setBackupCondition(s, verdict)), nil
}

// sharedPassword returns the shared-tier role's password: the one already in its Secret, or
// a new random one.
func (r *Reconciler) sharedPassword(ctx context.Context, coop *coopv1.Cooperative) (string, error) {
	key := client.ObjectKey{Namespace: r.Config.OperatorNamespace, Name: coopv1.SharedResourceName(coop)}
	v, err := r.generatedSecret(ctx, key, corev1.BasicAuthPasswordKey)
	if err != nil {
		return "", fmt.Errorf("reading the shared database credentials: %w", err)
	}
	return v, nil
}

// generatedSecret returns the value under dataKey of a Secret the operator generated once,
// or a new random value when there is none. A Secret the cache has not seen yet is read
// from the API server: a second value would replace the one pods already use.
func (r *Reconciler) generatedSecret(ctx context.Context, key client.ObjectKey, dataKey string) (string, error) {
	var secret corev1.Secret
	err := r.Client.Get(ctx, key, &secret)
	if apierrors.IsNotFound(err) && r.APIReader != nil {
		err = r.APIReader.Get(ctx, key, &secret)
	}
	switch {
	case err == nil && len(secret.Data[dataKey]) > 0:
		return string(secret.Data[dataKey]), nil
	case err != nil && !apierrors.IsNotFound(err):
		return "", err
	}
	return randomToken()
}

// logicalBackupParams are those of the co-op's logical backups, with its labels; owned by
// the co-op when owned is set (the CronJob), unowned otherwise (the final Job outlives it).
func logicalBackupParams(coop *coopv1.Cooperative, cfg *hubconfig.Config, creds string, owned bool) logicalbackup.Params {
	p := logicalbackup.ParamsFor(coop.Name, coopv1.SharedResourceName(coop), coopv1.SharedRoleName(coop), creds, cfg)
	p.Labels = commonLabels(coop)
	if owned {
		p.OwnerReferences = ownerRef(coop)
	}
	return p
}

// BuildLogicalBackupCronJob is the co-op's scheduled logical backup, in the operator
// namespace, with its own object store credentials creds.
func BuildLogicalBackupCronJob(coop *coopv1.Cooperative, cfg *hubconfig.Config, creds string) *batchv1.CronJob {
	return logicalbackup.BuildCronJob(logicalBackupParams(coop, cfg, creds, true))
}

// BuildFinalLogicalBackupJob is the final logical backup before a Retain deletion; it has no
// owner, so it outlives the co-op.
func BuildFinalLogicalBackupJob(coop *coopv1.Cooperative, cfg *hubconfig.Config, creds, name string) *batchv1.Job {
	return logicalbackup.BuildFinalJob(logicalBackupParams(coop, cfg, creds, false), name)
}

// BuildRetainedSharedRole is the role of a shared-tier co-op deleted with Retain: it stays
// in the shared Cluster with its database, NOLOGIN and without a password, owned by no
// co-op, and labelled so that the shared Cluster keeps a reject rule for it. A co-op created
// again under the same name takes it over.
func BuildRetainedSharedRole(coop *coopv1.Cooperative, cfg *hubconfig.Config) *cnpgv1.DatabaseRole {
	return &cnpgv1.DatabaseRole{
		ObjectMeta: metav1.ObjectMeta{
			Name: coopv1.SharedResourceName(coop), Namespace: cfg.OperatorNamespace,
			Labels: map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue, coopv1.LabelRetainedFrom: coop.Name},
		},
		Spec: cnpgv1.DatabaseRoleSpec{
			RoleConfiguration: cnpgv1.RoleConfiguration{
				Name:            coopv1.SharedRoleName(coop),
				Comment:         "retained role of deleted co-op " + coop.Name,
				Ensure:          cnpgv1.EnsurePresent,
				Login:           false,
				DisablePassword: true,
			},
			ClusterRef:    corev1.LocalObjectReference{Name: cfg.SharedCluster.Name},
			ReclaimPolicy: cnpgv1.DatabaseRoleReclaimRetain,
		},
	}
}

// BuildRetainedSharedServingRole is the serving role of a shared-tier co-op deleted with
// Retain: NOLOGIN and without a password like its owner role (BuildRetainedSharedRole), with
// the same label, so the shared Cluster keeps a reject rule for it too.
func BuildRetainedSharedServingRole(coop *coopv1.Cooperative, cfg *hubconfig.Config) *cnpgv1.DatabaseRole {
	role := BuildRetainedSharedRole(coop, cfg)
	role.Name = SharedServingResourceName(coop)
	role.Spec.Name = servingRoleOf(coopv1.SharedRoleName(coop))
	role.Spec.Comment = "retained serving role of deleted co-op " + coop.Name
	return role
}

// sharedTenants lists the roles of every shared-tier co-op that is not being deleted, with
// their plans' weights, and the retained roles of co-ops deleted with Retain; with include,
// the named co-op is counted even if the cache has not seen it yet.
func (r *Reconciler) sharedTenants(ctx context.Context, name string, include bool) ([]SharedTenant, []string, error) {
	var coops coopv1.CooperativeList
	if err := r.Client.List(ctx, &coops); err != nil {
		return nil, nil, fmt.Errorf("listing co-ops: %w", err)
	}
	var plans coopv1.HostingPlanList
	if err := r.Client.List(ctx, &plans); err != nil {
		return nil, nil, fmt.Errorf("listing plans: %w", err)
	}
	weights := map[string]int64{}
	for _, p := range plans.Items {
		weights[p.Name] = p.Spec.Quota.CPU.MilliValue()
	}
	seen := map[string]bool{}
	var tenants []SharedTenant
	for i := range coops.Items {
		c := &coops.Items[i]
		if c.Spec.Database.Tier != coopv1.DatabaseTierShared || !c.DeletionTimestamp.IsZero() || (c.Name == name && !include) {
			continue
		}
		seen[c.Name] = true
		tenants = append(tenants, SharedTenant{Role: coopv1.SharedRoleName(c), Weight: weights[c.Spec.Plan]})
	}
	if include && !seen[name] {
		tenants = append(tenants, SharedTenant{Role: coopv1.SharedRoleName(&coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: name}})})
	}
	var roles cnpgv1.DatabaseRoleList
	if err := r.Client.List(ctx, &roles, client.InNamespace(r.Config.OperatorNamespace), client.HasLabels{coopv1.LabelRetainedFrom}); err != nil && !isNoKind(err) {
		return nil, nil, fmt.Errorf("listing retained roles: %w", err)
	}
	var retained []string
	for _, role := range roles.Items {
		retained = append(retained, role.Spec.Name)
	}
	return tenants, retained, nil
}

func tenantRoles(tenants []SharedTenant) []string {
	roles := make([]string, 0, len(tenants))
	for _, t := range tenants {
		roles = append(roles, t.Role)
	}
	return roles
}

// backupLabels are those of an on-demand backup: ours and the one CloudNativePG puts on the
// backups of the Cluster, so that all the Cluster's backups are found alike.
func backupLabels(coop *coopv1.Cooperative) map[string]string {
	l := commonLabels(coop)
	l[coopv1.ClusterLabel] = coopv1.ClusterName(coop)
	return l
}
