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
	"fmt"
	"strings"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/controllers/shared/logicalbackup"
)

// The names of the database phase: roles, databases and Secrets of both tiers, and the
// objects of the hub's shared Cluster. The names both sides of a contract import (the
// reconcilers, the metering, the CLI) are in api/v1alpha1/names.go; these are the
// cooperative reconciler's own, or depend on the hub's settings.

// recoverySourceName names the external cluster a recovering Cluster restores from.
const recoverySourceName = "origin"

// The database of a dedicated Cluster and its owner, as its initdb creates them; the
// CloudNativePG app Secret connects as the owner.
const (
	DedicatedDatabaseName = "app"
	DedicatedOwnerRole    = "app"
)

// DedicatedServingRole is the platform's serving role in a dedicated Cluster.
const DedicatedServingRole = "platform_serving"

// servingRoleOf is the serving role that goes with a shared-tier co-op's owner role: the
// owner role of a co-op named <name>-serving would be the same, and the CRD refuses such
// names (coopv1.ReservedNameSuffixes).
func servingRoleOf(owner string) string {
	return owner + strings.ReplaceAll(coopv1.ServingSuffix, "-", "_")
}

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

// SharedSSLMode is the sslmode of every connection URI the operator writes: the connection
// is encrypted or refused. CloudNativePG serves TLS with a certificate of the Cluster's own
// CA; verify-full would also need that CA mounted in every platform pod, which the templates
// do not do yet, so the server is not authenticated (the NetworkPolicies keep other pods off
// the path).
const SharedSSLMode = logicalbackup.SSLMode

// sharedHost is the shared Cluster's read-write Service.
func sharedHost(cfg *hubconfig.Config) string {
	return fmt.Sprintf("%s-rw.%s.svc", cfg.SharedCluster.Name, cfg.OperatorNamespace)
}

// SharedServingResourceName names the DatabaseRole of a shared-tier co-op's serving role
// and its basic-auth Secret in the operator namespace.
func SharedServingResourceName(coop *coopv1.Cooperative) string {
	return coopv1.SharedResourceName(coop) + coopv1.ServingSuffix
}

// SharedObjectStoreName is the Barman Cloud ObjectStore of the hub's shared Cluster.
func SharedObjectStoreName(cfg *hubconfig.Config) string { return cfg.SharedCluster.Name + "-backups" }

// SharedScheduledBackupName is the shared Cluster's backup schedule.
func SharedScheduledBackupName(cfg *hubconfig.Config) string {
	return cfg.SharedCluster.Name + "-scheduled"
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

// readAllStatsRole is PostgreSQL's predefined role whose members may read the size of every
// database (and the statistics views).
const readAllStatsRole = "pg_read_all_stats"

// SharedMeteringSecretName is the metering role's basic-auth Secret in the operator
// namespace: its managed role's passwordSecret, and the metering's URI.
func SharedMeteringSecretName(cfg *hubconfig.Config) string {
	return cfg.SharedCluster.Name + "-metering"
}
