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
	"sort"
	"strconv"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	barmanapi "github.com/cloudnative-pg/barman-cloud/pkg/api"
	machineryapi "github.com/cloudnative-pg/machinery/pkg/api"
	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/controllers/shared/logicalbackup"
)

// The shared tier: a database and roles of the co-op in the hub's shared Cluster, its
// connection share, pg_hba rules, the shared Cluster's backups and the co-op's logical
// backup.

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

// SharedMeteringConnectionLimit is the metering role's connection limit: the metering keeps
// one connection and opens a new one after an error. It is taken from
// SharedReservedConnections, not from any co-op's share.
const SharedMeteringConnectionLimit = 2

// SharedMeteringRoleConfiguration is the metering role as a managed role of the shared
// Cluster: it may log in, at most SharedMeteringConnectionLimit times, with the password of
// SharedMeteringSecretName; it is a member of pg_read_all_stats only, and INHERITs its
// privileges (without, it would have them only after SET ROLE, and pg_database_size would
// refuse it); it is no superuser, cannot create databases or roles, replicate or bypass row
// security.
func SharedMeteringRoleConfiguration(cfg *hubconfig.Config) cnpgv1.RoleConfiguration {
	role := loginRole(SharedMeteringRole, "the operator's metering: reads database sizes", SharedMeteringSecretName(cfg), SharedMeteringConnectionLimit)
	role.InRoles = []string{readAllStatsRole}
	role.Inherit = ptr.To(true)
	return role
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

func (r *Reconciler) reconcileSharedDatabase(ctx context.Context, s *scope) (ctrl.Result, error) {
	coop := s.coop
	cfg := &r.Config
	password, err := r.sharedPassword(ctx, s)
	if err != nil {
		return ctrl.Result{}, err
	}
	servingPassword, err := r.generatedSecret(ctx, s, client.ObjectKey{Namespace: cfg.OperatorNamespace, Name: SharedServingResourceName(coop)}, corev1.BasicAuthPasswordKey)
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
	meteringPassword, err := r.generatedSecret(ctx, s, client.ObjectKey{Namespace: cfg.OperatorNamespace, Name: SharedMeteringSecretName(cfg)}, corev1.BasicAuthPasswordKey)
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
	setSharedDatabaseCondition(coop, cfg.SharedCluster.Name, &role, &serving, &database)
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
	// The CronJob as the cache has it, read once: applied over, and judged (a change this
	// apply makes is judged at the reconcile its event brings).
	var cronJob *batchv1.CronJob
	if credsFound {
		desired := BuildLogicalBackupCronJob(coop, cfg, credsName)
		var live batchv1.CronJob
		var over client.Object
		if err := r.Client.Get(ctx, client.ObjectKeyFromObject(desired), &live); err == nil {
			cronJob, over = &live, &live
		} else if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("reading the co-op's logical backup CronJob: %w", err)
		}
		if err := r.applyOver(ctx, s, desired, over); err != nil {
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
	verdict = JudgeLogicalBackup(r.now(), verdict, cronJob)
	if verdict.Status == metav1.ConditionTrue && !credsFound {
		verdict.Status, verdict.Reason, verdict.RecheckAfter = metav1.ConditionFalse, coopv1.ReasonObjectStoreCredentialsMissing, 0
		verdict.Message = fmt.Sprintf("no logical backup of database %s: the hub must create Secret %s/%s with credentials for %s",
			coopv1.SharedRoleName(coop), cfg.OperatorNamespace, credsName, logicalbackup.Prefix(cfg, coop.Name))
	}
	return requeueAt(setBackupCondition(s, verdict, "")), nil
}

// sharedPassword returns the shared-tier role's password: the one already in its Secret, or
// a new random one.
func (r *Reconciler) sharedPassword(ctx context.Context, s *scope) (string, error) {
	key := client.ObjectKey{Namespace: r.Config.OperatorNamespace, Name: coopv1.SharedResourceName(s.coop)}
	v, err := r.generatedSecret(ctx, s, key, corev1.BasicAuthPasswordKey)
	if err != nil {
		return "", fmt.Errorf("reading the shared database credentials: %w", err)
	}
	return v, nil
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
			Labels:      map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue, coopv1.LabelRetainedFrom: coop.Name},
			Annotations: map[string]string{coopv1.AnnotationRetainedUID: string(coop.UID)},
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

// sharedTenants lists the roles of every shared-tier co-op, with their plans' weights, and
// the retained roles of co-ops deleted with Retain; with include, the named co-op is
// counted even if the cache has not seen it yet, without, it is left out. A co-op being
// deleted is counted until its role is retained (NOLOGIN, with a reject rule): with Retain,
// its role still logs in for the final logical backup, which pg_hba must let reach its
// database, and only its own database.
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
	var roles cnpgv1.DatabaseRoleList
	if err := r.Client.List(ctx, &roles, client.InNamespace(r.Config.OperatorNamespace), client.HasLabels{coopv1.LabelRetainedFrom}); err != nil && !isNoKind(err) {
		return nil, nil, fmt.Errorf("listing retained roles: %w", err)
	}
	var retained []string
	isRetained := map[string]bool{}
	for _, role := range roles.Items {
		retained = append(retained, role.Spec.Name)
		isRetained[role.Spec.Name] = true
	}
	seen := map[string]bool{}
	var tenants []SharedTenant
	for i := range coops.Items {
		c := &coops.Items[i]
		if c.Spec.Database.Tier != coopv1.DatabaseTierShared || c.Spec.Standby != nil || (c.Name == name && !include) {
			continue
		}
		if !c.DeletionTimestamp.IsZero() && isRetained[coopv1.SharedRoleName(c)] {
			continue
		}
		seen[c.Name] = true
		tenants = append(tenants, SharedTenant{Role: coopv1.SharedRoleName(c), Weight: weights[c.Spec.Plan]})
	}
	if include && !seen[name] {
		tenants = append(tenants, SharedTenant{Role: coopv1.SharedRoleName(&coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: name}})})
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

// setSharedDatabaseCondition sets DatabaseReady from what CloudNativePG reports of the
// co-op's objects in the shared Cluster: True only once its owner role, its serving role
// and its database are all applied there (an object not created yet reads as not applied).
func setSharedDatabaseCondition(coop *coopv1.Cooperative, clusterName string, owner, serving *cnpgv1.DatabaseRole, database *cnpgv1.Database) {
	set := func(status metav1.ConditionStatus, reason, message string) {
		setCondition(coop, coopv1.ConditionDatabaseReady, status, reason, message)
	}
	switch {
	case !ptr.Deref(owner.Status.Applied, false):
		set(metav1.ConditionFalse, coopv1.ReasonDatabaseNotReady,
			fmt.Sprintf("role %s not applied yet in Cluster %s %s", coopv1.SharedRoleName(coop), clusterName, owner.Status.Message))
	case !ptr.Deref(serving.Status.Applied, false):
		set(metav1.ConditionFalse, coopv1.ReasonDatabaseNotReady,
			fmt.Sprintf("role %s not applied yet in Cluster %s %s", ServingRoleName(coop), clusterName, serving.Status.Message))
	case !ptr.Deref(database.Status.Applied, false):
		set(metav1.ConditionFalse, coopv1.ReasonDatabaseNotReady,
			fmt.Sprintf("database %s not applied yet in Cluster %s %s", coopv1.SharedRoleName(coop), clusterName, database.Status.Message))
	default:
		set(metav1.ConditionTrue, coopv1.ReasonReady, fmt.Sprintf("database %s in the shared Cluster %s", coopv1.SharedRoleName(coop), clusterName))
	}
}
