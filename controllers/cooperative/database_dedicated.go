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
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

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

	"github.com/cooperator-dev/cooperator/api/topology"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/controllers/shared/text"
)

// The dedicated tier: a CloudNativePG Cluster of the co-op's own in its namespace, with its
// object store, scheduled backups, recovery and serving role.

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

// DedicatedServingConnectionLimit is the serving role's connection limit in a dedicated
// Cluster: half of CloudNativePG's default max_connections (100), so that the platform's
// replicas cannot take the connections the owner (migrations, the operator's governance
// reads) and the instance manager need.
const DedicatedServingConnectionLimit = 50

// ServingRoleRefusal is what CloudNativePG reports when it cannot reconcile the serving
// role of a dedicated Cluster (its managed roles' cannotReconcile), or "".
func ServingRoleRefusal(cluster *cnpgv1.Cluster) string {
	if cluster == nil {
		return ""
	}
	return strings.Join(cluster.Status.ManagedRolesStatus.CannotReconcile[DedicatedServingRole], "; ")
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
// recovered Cluster must not write into the archive it restores from, nor into that of
// any other it knows of (used: the server names archived under since, such as that of a
// Cluster recovered from source and lost before a backup of its own completed).
func NextServerName(coopName, source string, used ...string) string {
	if source == "" {
		return coopName
	}
	n := 1
	for _, name := range append([]string{source}, used...) {
		if rest, ok := strings.CutPrefix(name, coopName+"-"); ok {
			if k, err := strconv.Atoi(rest); err == nil && k >= 2 {
				n = max(n, k)
			}
		}
	}
	return fmt.Sprintf("%s-%d", coopName, n+1)
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
	used := []string{coop.Status.Database.ServerName}
	if store != nil {
		for name := range store.Status.ServerRecoveryWindow {
			used = append(used, name)
		}
	}
	return DatabasePlan{ServerName: NextServerName(coop.Name, source, used...), Bootstrap: coopv1.BootstrapRecovery, RecoverFrom: source}
}

// recoverySource returns the server name holding the co-op's most recent backups, or "".
func recoverySource(coop *coopv1.Cooperative, backups []cnpgv1.Backup, store *barmanv1.ObjectStore) string {
	newest, newestAt := newestServer(store)
	if lb := coop.Status.LastBackup; lb != nil && lb.ServerName != "" {
		// The last completed backup as status recorded it, of the server name it names (a
		// Cluster recovered since, and lost before a backup of its own completed, is not a
		// way back), unless the object store holds a newer one (status written before a
		// later backup completed).
		if newestAt != nil && (lb.Time == nil || newestAt.After(lb.Time.Time)) {
			return newest
		}
		return lb.ServerName
	}
	if coop.Status.LastBackup != nil && coop.Status.Database.ServerName != "" {
		// A backup of the Cluster that archived under this server name completed (a record
		// written before records named their server).
		return coop.Status.Database.ServerName
	}
	if newest != "" {
		return newest
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

// newestServer is the server name of the store's most recent successful backup, with its
// time ("" and nil without recovery windows; a window without a time comes last, and of
// equal ones the first name).
func newestServer(store *barmanv1.ObjectStore) (string, *metav1.Time) {
	if store == nil || len(store.Status.ServerRecoveryWindow) == 0 {
		return "", nil
	}
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
	return names[0], store.Status.ServerRecoveryWindow[names[0]].LastSuccessfulBackupTime
}

// BackupsOf are the backups of the Cluster as it is now (live; none while it does not
// exist): of its server name (those whose status names none too, as plugin backups do),
// asked for since it was created. A Cluster recovered from backups archives under a new
// server name: the backups of the one it replaced protect nothing it wrote since. Both
// times are the API server's, in whole seconds: a Backup created within the second the
// Cluster was, CloudNativePG runs on that Cluster (it names its Cluster by name).
func BackupsOf(backups []cnpgv1.Backup, serverName string, live *cnpgv1.Cluster) []cnpgv1.Backup {
	if live == nil {
		return nil // none yet: the Cluster is to be created (again)
	}
	var out []cnpgv1.Backup
	for _, b := range backups {
		if b.Status.ServerName != "" && b.Status.ServerName != serverName {
			continue
		}
		if !b.CreationTimestamp.Before(&live.CreationTimestamp) {
			out = append(out, b)
		}
	}
	return out
}

// FirstBackupName is the on-demand backup of a recovered Cluster, under its server name:
// <server>-first, and <server>-first-<attempt> when a first one failed and the operator
// asks again.
func FirstBackupName(serverName string, attempt int) string {
	if attempt <= 1 {
		return serverName + "-first"
	}
	return fmt.Sprintf("%s-first-%d", serverName, attempt)
}

// How often the operator asks for the first backup of a recovered Cluster, and how long
// after one failed it asks again: each attempt is a full copy of the database in the object
// store all co-ops share. After the last, the schedule takes the next.
const (
	FirstBackupAttempts = 3
	FirstBackupRetry    = 15 * time.Minute
)

// firstBackupAfterRecovery asks for a base backup of a Cluster recovered from backups as
// soon as it is ready, when it has none of its own that runs or completed: the
// ScheduledBackup, which outlived the Cluster it replaced, takes its immediate backup only
// once, when it is created. Until one completes, BackupReady says NoBackupYet or
// BackupFailed, and a recovery would start again from the backups it was recovered from:
// a first backup that failed is asked for again FirstBackupRetry after it failed, up to
// FirstBackupAttempts in all. Not while its topology makes it a replica. It returns how
// long until it asks again (zero when it will not).
func (r *Reconciler) firstBackupAfterRecovery(ctx context.Context, coop *coopv1.Cooperative, db DatabasePlan, live *cnpgv1.Cluster, current []cnpgv1.Backup) (time.Duration, error) {
	if db.Bootstrap != coopv1.BootstrapRecovery || (db.Topology != nil && !db.Topology.Primary) || live == nil ||
		!meta.IsStatusConditionTrue(live.Status.Conditions, string(cnpgv1.ConditionClusterReady)) {
		return 0, nil
	}
	attempts := 0
	var failedAt time.Time
	for _, b := range current {
		if b.Status.Phase != cnpgv1.BackupPhaseFailed {
			return 0, nil // one runs, or completed
		}
		for i := 1; i <= FirstBackupAttempts; i++ {
			if b.Name == FirstBackupName(db.ServerName, i) {
				attempts = max(attempts, i)
			}
		}
		at := b.CreationTimestamp.Time
		if b.Status.StoppedAt != nil {
			at = b.Status.StoppedAt.Time
		}
		if at.After(failedAt) {
			failedAt = at
		}
	}
	if attempts >= FirstBackupAttempts {
		return 0, nil
	}
	if attempts > 0 {
		if wait := failedAt.Add(FirstBackupRetry).Sub(r.now()); wait > 0 {
			return wait, nil
		}
	}
	b := BuildOnDemandBackup(coop, FirstBackupName(db.ServerName, attempts+1))
	if err := r.Client.Create(ctx, b); apierrors.IsAlreadyExists(err) {
		return 0, nil // asked already; the cache does not hold it yet
	} else if err != nil {
		return 0, fmt.Errorf("asking for the first backup of the recovered Cluster: %w", err)
	}
	if attempts > 0 {
		r.Recorder.Eventf(coop, nil, corev1.EventTypeWarning, coopv1.ReasonBackupFailed, "Backup",
			"The first backup of the recovered Cluster failed; asked for it again as Backup %s (attempt %d of %d)", b.Name, attempts+1, FirstBackupAttempts)
	}
	return 0, nil
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
	// A standby replays its home's backups: the marker of an earlier co-op of this hub of
	// the same name is not its to read, nor to remove.
	standby := coop.Spec.Standby != nil
	var retained string
	if !clusterExists && !standby {
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
	servingPassword, err := r.generatedSecret(ctx, s, client.ObjectKey{Namespace: ns, Name: ServingSecretName(coop)}, corev1.BasicAuthPasswordKey)
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

	setDedicatedDatabaseCondition(coop, livePtr, dbPlan)
	if err := r.applyAll(ctx, s, BuildScheduledBackup(coop)); err != nil {
		s.setCondition(coopv1.ConditionBackupReady, metav1.ConditionFalse, coopv1.ReasonApplyFailed, err.Error())
		return ctrl.Result{}, err
	}
	current := BackupsOf(backups.Items, dbPlan.ServerName, livePtr)
	verdict := JudgeBackups(r.now(), coop.Spec.Backup.Schedule, current, archivingCondition(livePtr), "Cluster "+coopv1.ClusterName(coop))
	recheck := setBackupCondition(s, verdict, dbPlan.ServerName)
	retry, err := r.firstBackupAfterRecovery(ctx, coop, dbPlan, livePtr, current)
	if err != nil {
		return ctrl.Result{}, err
	}
	if retry > 0 && (recheck <= 0 || retry < recheck) {
		recheck = retry
	}
	r.expireBackups(ctx, s, backups.Items, storePtr, dbPlan.ServerName)
	if clusterExists && verdict.LastCompleted != nil && !standby {
		// The Cluster has backups of its own now, recorded in status: the backups of an
		// earlier co-op of this name are no longer the way back.
		if err := r.forgetRetained(ctx, coop); err != nil {
			return ctrl.Result{}, err
		}
	}
	return requeueAt(recheck), nil
}

// maxNamesInEvent bounds the Backups an event names; maxEventNote is the most an event's
// note may hold.
const (
	maxNamesInEvent = 5
	maxEventNote    = 1024
)

// expireBackups deletes the failed Backup objects of the co-op's Cluster that are older
// than anything its object store holds (ExpiredBackups); the plugin deletes those of
// completed backups. A new backup wakes the co-op, and so does the plugin's report of its
// first recoverability point (a change of the ObjectStore). It is housekeeping: a deletion
// that fails is told in a Warning event and tried again at the next reconcile, and holds
// up nothing else.
func (r *Reconciler) expireBackups(ctx context.Context, s *scope, backups []cnpgv1.Backup, store *barmanv1.ObjectStore, serverName string) {
	var deleted, failed []string
	var firstErr error
	for _, b := range ExpiredBackups(backups, store, serverName) {
		if err := r.Client.Delete(ctx, b, client.Preconditions{UID: &b.UID}); client.IgnoreNotFound(err) != nil {
			failed = append(failed, b.Name)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		deleted = append(deleted, b.Name)
	}
	if len(deleted) > 0 {
		r.Recorder.Eventf(s.coop, nil, corev1.EventTypeNormal, coopv1.ReasonBackupsExpired, "Expire", "%s", text.Truncate(fmt.Sprintf(
			"Deleted %d failed Backups older than anything the object store holds: %s", len(deleted), namesInEvent(deleted)), maxEventNote))
	}
	if len(failed) > 0 {
		r.Recorder.Eventf(s.coop, nil, corev1.EventTypeWarning, coopv1.ReasonBackupsExpired, "Expire", "%s", text.Truncate(fmt.Sprintf(
			"Could not delete %d failed Backups older than anything the object store holds (%s): %v", len(failed), namesInEvent(failed), firstErr), maxEventNote))
	}
}

// namesInEvent lists names, sorted, at most maxNamesInEvent of them.
func namesInEvent(names []string) string {
	names = slices.Sorted(slices.Values(names))
	if len(names) > maxNamesInEvent {
		names = append(names[:maxNamesInEvent], fmt.Sprintf("and %d more", len(names)-maxNamesInEvent))
	}
	return strings.Join(names, ", ")
}

// backupLabels are those of an on-demand backup: ours and the one CloudNativePG puts on the
// backups of the Cluster, so that all the Cluster's backups are found alike.
func backupLabels(coop *coopv1.Cooperative) map[string]string {
	l := commonLabels(coop)
	l[coopv1.ClusterLabel] = coopv1.ClusterName(coop)
	return l
}

// setDedicatedDatabaseCondition sets DatabaseReady from what the co-op's own Cluster
// reports (nil while it does not exist) and the plan it was applied with: True only when
// CloudNativePG says the Cluster is Ready and has reconciled the serving role the platform
// logs in with.
func setDedicatedDatabaseCondition(coop *coopv1.Cooperative, cluster *cnpgv1.Cluster, plan DatabasePlan) {
	set := func(status metav1.ConditionStatus, reason, message string) {
		setCondition(coop, coopv1.ConditionDatabaseReady, status, reason, message)
	}
	switch {
	case cluster != nil && ServingRoleRefusal(cluster) != "":
		// The platform cannot log in without its serving role.
		set(metav1.ConditionFalse, coopv1.ReasonDatabaseNotReady,
			fmt.Sprintf("Cluster %s cannot reconcile the serving role %s: %s", coopv1.ClusterName(coop), DedicatedServingRole, ServingRoleRefusal(cluster)))
	case cluster != nil && meta.IsStatusConditionTrue(cluster.Status.Conditions, string(cnpgv1.ConditionClusterReady)):
		set(metav1.ConditionTrue, coopv1.ReasonReady,
			fmt.Sprintf("Cluster %s ready with %d instances", cluster.Name, cluster.Status.ReadyInstances))
	case plan.Bootstrap == coopv1.BootstrapRecovery:
		set(metav1.ConditionFalse, coopv1.ReasonRecovering,
			fmt.Sprintf("Cluster %s is restoring from the backups of server %s", coopv1.ClusterName(coop), plan.RecoverFrom))
	default:
		phase := "being created"
		if cluster != nil && cluster.Status.Phase != "" {
			phase = cluster.Status.Phase
		}
		set(metav1.ConditionFalse, coopv1.ReasonClusterNotReady, fmt.Sprintf("Cluster %s: %s", coopv1.ClusterName(coop), phase))
	}
}
