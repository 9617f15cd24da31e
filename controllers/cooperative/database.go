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
	"strings"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	barmanapi "github.com/cloudnative-pg/barman-cloud/pkg/api"
	machineryapi "github.com/cloudnative-pg/machinery/pkg/api"
	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/hubconfig"
)

// BarmanPluginName is the CloudNativePG plugin that archives to object stores.
const BarmanPluginName = "barman-cloud.cloudnative-pg.io"

// ObjectStoreSecretName is the copy, in a co-op namespace, of the object store credentials
// the hub gives that co-op. Co-op admins cannot read it.
const ObjectStoreSecretName = "cooperator-objectstore"

// Keys of an object store credentials Secret.
const (
	AccessKeyIDKey     = "ACCESS_KEY_ID"
	AccessSecretKeyKey = "ACCESS_SECRET_KEY"
)

// recoverySourceName names the external cluster a recovering Cluster restores from.
const recoverySourceName = "origin"

// ClusterName is the co-op's dedicated CloudNativePG Cluster.
func ClusterName(coop *coopv1.Cooperative) string { return coop.Name }

// ObjectStoreName is the co-op's Barman Cloud ObjectStore.
func ObjectStoreName(coop *coopv1.Cooperative) string { return coop.Name + "-backups" }

// ScheduledBackupName is the co-op's backup schedule.
func ScheduledBackupName(coop *coopv1.Cooperative) string { return coop.Name + "-scheduled" }

// SharedResourceName names the co-op's Database, DatabaseRole and credentials Secret in the
// operator namespace.
func SharedResourceName(coop *coopv1.Cooperative) string { return coopv1.NamespacePrefix + coop.Name }

// SharedRoleName is the PostgreSQL role and database name of a shared-tier co-op.
func SharedRoleName(coop *coopv1.Cooperative) string {
	return "coop_" + strings.ReplaceAll(coop.Name, "-", "_")
}

// BuildObjectStoreSecret copies the object store credentials into the co-op namespace.
func BuildObjectStoreSecret(coop *coopv1.Cooperative, source *corev1.Secret) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: objectMeta(coop, coop.NamespaceName(), ObjectStoreSecretName), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{}}
	for k, v := range source.Data {
		s.Data[k] = v
	}
	return s
}

// BuildObjectStore is where the co-op's WAL and base backups go: <bucket>/<region>/<co-op>/.
func BuildObjectStore(coop *coopv1.Cooperative, cfg *hubconfig.Config) *barmanv1.ObjectStore {
	return &barmanv1.ObjectStore{
		ObjectMeta: objectMeta(coop, coop.NamespaceName(), ObjectStoreName(coop)),
		Spec: barmanv1.ObjectStoreSpec{
			RetentionPolicy: coop.Spec.Backup.Retention,
			Configuration: barmanapi.BarmanObjectStoreConfiguration{
				DestinationPath: cfg.BackupDestination(coop.Name),
				EndpointURL:     cfg.ObjectStore.EndpointURL,
				BarmanCredentials: barmanapi.BarmanCredentials{AWS: &barmanapi.S3Credentials{
					AccessKeyIDReference:     &machineryapi.SecretKeySelector{LocalObjectReference: machineryapi.LocalObjectReference{Name: ObjectStoreSecretName}, Key: AccessKeyIDKey},
					SecretAccessKeyReference: &machineryapi.SecretKeySelector{LocalObjectReference: machineryapi.LocalObjectReference{Name: ObjectStoreSecretName}, Key: AccessSecretKeyKey},
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
	Topology *Topology
}

// BuildCluster returns the co-op's dedicated CloudNativePG Cluster. It archives WAL through
// the Barman Cloud plugin; with recovery it restores from the co-op's object store.
func BuildCluster(coop *coopv1.Cooperative, plan *coopv1.HostingPlan, cfg *hubconfig.Config, db DatabasePlan) *cnpgv1.Cluster {
	spec := coop.Spec.Database
	c := &cnpgv1.Cluster{
		ObjectMeta: objectMeta(coop, coop.NamespaceName(), ClusterName(coop)),
		Spec: cnpgv1.ClusterSpec{
			Instances:         int(spec.Instances),
			ImageName:         fmt.Sprintf("%s:%d", cfg.PostgresImageRepository, spec.PostgresVersion),
			InheritedMetadata: &cnpgv1.EmbeddedObjectMetadata{Labels: map[string]string{coopv1.LabelCooperative: coop.Name}},
			StorageConfiguration: cnpgv1.StorageConfiguration{
				Size: spec.Storage.String(),
			},
			Plugins: []cnpgv1.PluginConfiguration{{
				Name:          BarmanPluginName,
				IsWALArchiver: ptr.To(true),
				Parameters:    map[string]string{"barmanObjectName": ObjectStoreName(coop), "serverName": db.ServerName},
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
				Name:       BarmanPluginName,
				Parameters: map[string]string{"barmanObjectName": ObjectStoreName(coop), "serverName": db.RecoverFrom},
			},
		}}
	default:
		c.Spec.Bootstrap = &cnpgv1.BootstrapConfiguration{InitDB: &cnpgv1.BootstrapInitDB{Database: "app", Owner: "app"}}
	}
	applyTopology(c, db)
	return c
}

// BuildScheduledBackup takes base backups through the plugin on the co-op's schedule, the
// first one as soon as the Cluster is ready.
func BuildScheduledBackup(coop *coopv1.Cooperative) *cnpgv1.ScheduledBackup {
	return &cnpgv1.ScheduledBackup{
		ObjectMeta: objectMeta(coop, coop.NamespaceName(), ScheduledBackupName(coop)),
		Spec: cnpgv1.ScheduledBackupSpec{
			Schedule:             coop.Spec.Backup.Schedule,
			Immediate:            ptr.To(true),
			Cluster:              cnpgv1.LocalObjectReference{Name: ClusterName(coop)},
			BackupOwnerReference: "self",
			Method:               cnpgv1.BackupMethodPlugin,
			PluginConfiguration:  &cnpgv1.BackupPluginConfiguration{Name: BarmanPluginName},
		},
	}
}

// BuildOnDemandBackup is a backup the operator asks for, such as the final one before a
// Retain deletion.
func BuildOnDemandBackup(coop *coopv1.Cooperative, name string) *cnpgv1.Backup {
	return &cnpgv1.Backup{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: coop.NamespaceName(), Labels: backupLabels(coop)},
		Spec: cnpgv1.BackupSpec{
			Cluster:             cnpgv1.LocalObjectReference{Name: ClusterName(coop)},
			Method:              cnpgv1.BackupMethodPlugin,
			PluginConfiguration: &cnpgv1.BackupPluginConfiguration{Name: BarmanPluginName},
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
			if pl.Name == BarmanPluginName && pl.Parameters["serverName"] != "" {
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
		ObjectMeta: objectMeta(coop, cfg.OperatorNamespace, SharedResourceName(coop)),
		Type:       corev1.SecretTypeBasicAuth,
		Data: map[string][]byte{
			corev1.BasicAuthUsernameKey: []byte(SharedRoleName(coop)),
			corev1.BasicAuthPasswordKey: []byte(password),
		},
	}
}

// BuildSharedAppSecret is the copy of the shared-tier credentials in the co-op namespace,
// with the keys of a CloudNativePG app Secret, so the platform reads both tiers alike.
func BuildSharedAppSecret(coop *coopv1.Cooperative, cfg *hubconfig.Config, password string) *corev1.Secret {
	user := SharedRoleName(coop)
	host := fmt.Sprintf("%s-rw.%s.svc", cfg.SharedCluster.Name, cfg.OperatorNamespace)
	return &corev1.Secret{
		ObjectMeta: objectMeta(coop, coop.NamespaceName(), AppSecretName(coop)),
		Type:       corev1.SecretTypeBasicAuth,
		Data: map[string][]byte{
			corev1.BasicAuthUsernameKey: []byte(user),
			corev1.BasicAuthPasswordKey: []byte(password),
			"host":                      []byte(host),
			"port":                      []byte("5432"),
			"dbname":                    []byte(user),
			"uri":                       []byte(fmt.Sprintf("postgresql://%s:%s@%s:5432/%s", user, password, host, user)),
			"jdbc-uri":                  []byte(fmt.Sprintf("jdbc:postgresql://%s:5432/%s?password=%s&user=%s", host, user, password, user)),
			"pgpass":                    []byte(fmt.Sprintf("%s:5432:%s:%s:%s\n", host, user, user, password)),
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
func BuildSharedRole(coop *coopv1.Cooperative, cfg *hubconfig.Config) *cnpgv1.DatabaseRole {
	_, roleReclaim := reclaim(coop)
	return &cnpgv1.DatabaseRole{
		ObjectMeta: objectMeta(coop, cfg.OperatorNamespace, SharedResourceName(coop)),
		Spec: cnpgv1.DatabaseRoleSpec{
			RoleConfiguration: cnpgv1.RoleConfiguration{
				Name:            SharedRoleName(coop),
				Comment:         "role of co-op " + coop.Name,
				Ensure:          cnpgv1.EnsurePresent,
				Login:           true,
				ConnectionLimit: 50,
				PasswordSecret:  &cnpgv1.LocalObjectReference{Name: SharedResourceName(coop)},
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
		ObjectMeta: objectMeta(coop, cfg.OperatorNamespace, SharedResourceName(coop)),
		Spec: cnpgv1.DatabaseSpec{
			ClusterRef:    corev1.LocalObjectReference{Name: cfg.SharedCluster.Name},
			Name:          SharedRoleName(coop),
			Owner:         SharedRoleName(coop),
			Ensure:        cnpgv1.EnsurePresent,
			ReclaimPolicy: dbReclaim,
		},
	}
}

// SharedPgHBA are the pg_hba rules of the shared Cluster: each co-op's role reaches its own
// database and is refused everywhere else. Sorted, so the rules are stable.
func SharedPgHBA(roles []string) []string {
	sorted := append([]string(nil), roles...)
	sort.Strings(sorted)
	rules := make([]string, 0, 2*len(sorted))
	for _, r := range sorted {
		rules = append(rules, fmt.Sprintf("host %s %s all scram-sha-256", r, r), fmt.Sprintf("host all %s all reject", r))
	}
	return rules
}

// BuildSharedCluster is the hub's shared Cluster that holds the shared-tier databases, with
// the pg_hba rules that keep each co-op's role in its own database.
func BuildSharedCluster(cfg *hubconfig.Config, roles []string) *cnpgv1.Cluster {
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
				PgHBA: SharedPgHBA(roles),
			},
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
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: ClusterName(coop)}, &existing); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("reading the Cluster: %w", err)
		}
		clusterExists = false
	}
	var store barmanv1.ObjectStore
	storeExists := true
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: ObjectStoreName(coop)}, &store); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("reading the ObjectStore: %w", err)
		}
		storeExists = false
	}
	var backups cnpgv1.BackupList
	if err := r.Client.List(ctx, &backups, client.InNamespace(ns), client.MatchingLabels{ClusterLabel: ClusterName(coop)}); err != nil {
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
	objs := DedicatedDatabaseObjects(coop, creds, s.plan, &r.Config, dbPlan)
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
		ClusterName:   ClusterName(coop),
		ServerName:    dbPlan.ServerName,
		Bootstrap:     dbPlan.Bootstrap,
		RecoveredFrom: dbPlan.RecoverFrom,
	}
	coop.Status.Endpoints.Database = fmt.Sprintf("%s-rw.%s", ClusterName(coop), ns)

	switch {
	case clusterExists && meta.IsStatusConditionTrue(existing.Status.Conditions, string(cnpgv1.ConditionClusterReady)):
		s.setCondition(coopv1.ConditionDatabaseReady, metav1.ConditionTrue, coopv1.ReasonReady,
			fmt.Sprintf("Cluster %s ready with %d instances", existing.Name, existing.Status.ReadyInstances))
	case dbPlan.Bootstrap == coopv1.BootstrapRecovery:
		s.setCondition(coopv1.ConditionDatabaseReady, metav1.ConditionFalse, coopv1.ReasonRecovering,
			fmt.Sprintf("Cluster %s is restoring from the backups of server %s", ClusterName(coop), dbPlan.RecoverFrom))
	default:
		phase := "being created"
		if clusterExists && existing.Status.Phase != "" {
			phase = existing.Status.Phase
		}
		s.setCondition(coopv1.ConditionDatabaseReady, metav1.ConditionFalse, coopv1.ReasonClusterNotReady,
			fmt.Sprintf("Cluster %s: %s", ClusterName(coop), phase))
	}
	if err := r.applyAll(ctx, s, BuildScheduledBackup(coop)); err != nil {
		s.setCondition(coopv1.ConditionBackupReady, metav1.ConditionFalse, coopv1.ReasonApplyFailed, err.Error())
		return ctrl.Result{}, err
	}
	if completed := setBackupCondition(s, backups.Items); clusterExists && completed {
		// The Cluster has backups of its own now, recorded in status: the backups of an
		// earlier co-op of this name are no longer the way back.
		if err := r.forgetRetained(ctx, coop); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, nil
}

// setBackupCondition reports the most recent backup and records the last completed one; it
// says whether one of the backups completed.
func setBackupCondition(s *scope, backups []cnpgv1.Backup) bool {
	var last, lastCompleted *cnpgv1.Backup
	for i := range backups {
		b := &backups[i]
		if last == nil || backupTime(b).After(backupTime(last).Time) {
			last = b
		}
		if b.Status.Phase == cnpgv1.BackupPhaseCompleted && (lastCompleted == nil || backupTime(b).After(backupTime(lastCompleted).Time)) {
			lastCompleted = b
		}
	}
	if lastCompleted != nil {
		s.coop.Status.LastBackup = &coopv1.BackupRecord{Name: lastCompleted.Name, Time: lastCompleted.Status.StoppedAt}
	}
	switch {
	case last != nil && last.Status.Phase == cnpgv1.BackupPhaseFailed:
		s.setCondition(coopv1.ConditionBackupReady, metav1.ConditionFalse, coopv1.ReasonBackupFailed,
			fmt.Sprintf("backup %s failed: %s", last.Name, last.Status.Error))
	case lastCompleted != nil:
		s.setCondition(coopv1.ConditionBackupReady, metav1.ConditionTrue, coopv1.ReasonReady,
			fmt.Sprintf("last backup %s completed", lastCompleted.Name))
	default:
		s.setCondition(coopv1.ConditionBackupReady, metav1.ConditionFalse, coopv1.ReasonNoBackupYet,
			"backups are scheduled; none has completed yet")
	}
	return lastCompleted != nil
}

func backupTime(b *cnpgv1.Backup) metav1.Time {
	if b.Status.StoppedAt != nil {
		return *b.Status.StoppedAt
	}
	return b.CreationTimestamp
}

func (r *Reconciler) reconcileSharedDatabase(ctx context.Context, s *scope) (ctrl.Result, error) {
	coop := s.coop
	cfg := &r.Config
	password, err := r.sharedPassword(ctx, coop)
	if err != nil {
		return ctrl.Result{}, err
	}
	roles, err := r.sharedRoles(ctx, coop.Name, true)
	if err != nil {
		return ctrl.Result{}, err
	}
	objs := []client.Object{
		BuildSharedCluster(cfg, roles),
		BuildSharedSecret(coop, cfg, password),
		BuildSharedRole(coop, cfg),
		BuildSharedDatabase(coop, cfg),
		BuildSharedAppSecret(coop, cfg, password),
	}
	if err := r.applyAll(ctx, s, objs...); err != nil {
		s.setCondition(coopv1.ConditionDatabaseReady, metav1.ConditionFalse, coopv1.ReasonApplyFailed, err.Error())
		return ctrl.Result{}, err
	}
	coop.Status.Database = coopv1.DatabaseStatus{ClusterName: cfg.SharedCluster.Name}
	coop.Status.Endpoints.Database = fmt.Sprintf("%s-rw.%s", cfg.SharedCluster.Name, cfg.OperatorNamespace)
	s.setCondition(coopv1.ConditionBackupReady, metav1.ConditionTrue, coopv1.ReasonNotApplicable,
		fmt.Sprintf("the database is backed up with the hub's shared Cluster %s", cfg.SharedCluster.Name))

	// Read from the cache, which may not have seen yet the Database and the DatabaseRole
	// just created: they are then not applied yet, and their creation wakes the next
	// reconcile.
	key := client.ObjectKey{Namespace: cfg.OperatorNamespace, Name: SharedResourceName(coop)}
	var database cnpgv1.Database
	if err := r.Client.Get(ctx, key, &database); client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, fmt.Errorf("reading the Database: %w", err)
	}
	var role cnpgv1.DatabaseRole
	if err := r.Client.Get(ctx, key, &role); client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, fmt.Errorf("reading the DatabaseRole: %w", err)
	}
	switch {
	case !ptr.Deref(role.Status.Applied, false):
		s.setCondition(coopv1.ConditionDatabaseReady, metav1.ConditionFalse, coopv1.ReasonDatabaseNotReady,
			fmt.Sprintf("role %s not applied yet in Cluster %s %s", SharedRoleName(coop), cfg.SharedCluster.Name, role.Status.Message))
	case !ptr.Deref(database.Status.Applied, false):
		s.setCondition(coopv1.ConditionDatabaseReady, metav1.ConditionFalse, coopv1.ReasonDatabaseNotReady,
			fmt.Sprintf("database %s not applied yet in Cluster %s %s", SharedRoleName(coop), cfg.SharedCluster.Name, database.Status.Message))
	default:
		s.setCondition(coopv1.ConditionDatabaseReady, metav1.ConditionTrue, coopv1.ReasonReady,
			fmt.Sprintf("database %s in the shared Cluster %s", SharedRoleName(coop), cfg.SharedCluster.Name))
	}
	return ctrl.Result{}, nil
}

// sharedPassword returns the shared-tier role's password: the one already in its Secret, or
// a new random one.
func (r *Reconciler) sharedPassword(ctx context.Context, coop *coopv1.Cooperative) (string, error) {
	key := client.ObjectKey{Namespace: r.Config.OperatorNamespace, Name: SharedResourceName(coop)}
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

// sharedRoles lists the roles of every shared-tier co-op that is not being deleted; with
// include, the named co-op is counted even if the cache has not seen it yet.
func (r *Reconciler) sharedRoles(ctx context.Context, name string, include bool) ([]string, error) {
	var coops coopv1.CooperativeList
	if err := r.Client.List(ctx, &coops); err != nil {
		return nil, fmt.Errorf("listing co-ops: %w", err)
	}
	seen := map[string]bool{}
	var roles []string
	for i := range coops.Items {
		c := &coops.Items[i]
		if c.Spec.Database.Tier != coopv1.DatabaseTierShared || !c.DeletionTimestamp.IsZero() || (c.Name == name && !include) {
			continue
		}
		seen[c.Name] = true
		roles = append(roles, SharedRoleName(c))
	}
	if include && !seen[name] {
		roles = append(roles, SharedRoleName(&coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: name}}))
	}
	return roles, nil
}

// ClusterLabel is the label CloudNativePG puts on the Backups of a Cluster.
const ClusterLabel = "cnpg.io/cluster"

// backupLabels are those of an on-demand backup: ours and the one CloudNativePG puts on the
// backups of the Cluster, so that all the Cluster's backups are found alike.
func backupLabels(coop *coopv1.Cooperative) map[string]string {
	l := commonLabels(coop)
	l[ClusterLabel] = ClusterName(coop)
	return l
}
