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

package v1alpha1

import (
	"fmt"
	"strings"
)

// Names of the objects the operator makes for a co-op, and the keys of the Secrets it reads.
// The Cooperative reconciler creates them; the federation, the metering, the governance
// controller, the CLI and the tests find them by these names. Each is defined here once.

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

// ClusterLabel is the label CloudNativePG puts on the Backups of a Cluster.
const ClusterLabel = "cnpg.io/cluster"

// Names of the tenancy objects in a co-op namespace.
const (
	QuotaName      = "coop-quota"
	LimitRangeName = "coop-defaults"
	AdminRoleName  = "coop-admin"
)

// Suffixes of names the hub derives from a co-op's name in places shared by every co-op
// (the operator namespace, the shared Cluster's roles, the object store's credentials).
// A co-op named <other> plus one of them would be handed <other>'s objects, so the CRD
// refuses such names (a rule on metadata.name that lists ReservedNameSuffixes). The rule
// judges a creation only: a name cannot change, and a co-op named so before the rule
// must stay writable (its status, its finalizer) for the hub to delete it.
const (
	// ServingSuffix names a co-op's serving role: its Secret and DatabaseRole in the
	// operator namespace (coop-<name>-serving), its PostgreSQL role (coop_<name>_serving).
	ServingSuffix = "-serving"
	// ReadCredentialsSuffix names the read-only object store credentials of a co-op, in the
	// operator namespace (<prefix><name>-read).
	ReadCredentialsSuffix = "-read"
)

// ReservedNameSuffixes are the suffixes a co-op's name may not end in.
var ReservedNameSuffixes = []string{ServingSuffix, ReadCredentialsSuffix}

// ClusterName is the co-op's dedicated CloudNativePG Cluster.
func ClusterName(coop *Cooperative) string { return coop.Name }

// ObjectStoreName is the co-op's Barman Cloud ObjectStore.
func ObjectStoreName(coop *Cooperative) string { return coop.Name + "-" + OwnObjectStoreSuffix }

// OwnObjectStoreSuffix ends the name of a co-op's own ObjectStore (ObjectStoreName). The
// ObjectStores that read another region's archive of the co-op, in the same namespace, are
// named <co-op>-<region>: a region of that name would share it.
const OwnObjectStoreSuffix = "backups"

// ReservedRegions are the names no region may have (FederationPeer spec.region, a standby's
// spec.standby.homeRegion): the CRD refuses them, in rules that name them again (a marker
// cannot name a constant), which TestReservedRegions checks.
var ReservedRegions = []string{OwnObjectStoreSuffix}

// ScheduledBackupName is the co-op's backup schedule.
func ScheduledBackupName(coop *Cooperative) string { return coop.Name + "-scheduled" }

// SharedResourceName names the co-op's Database, DatabaseRole and credentials Secret in the
// operator namespace.
func SharedResourceName(coop *Cooperative) string { return NamespacePrefix + coop.Name }

// SharedRoleName is the PostgreSQL role and database name of a shared-tier co-op.
func SharedRoleName(coop *Cooperative) string {
	return "coop_" + strings.ReplaceAll(coop.Name, "-", "_")
}

// AppSecretName is the Secret with the co-op's database credentials in its namespace: the
// CloudNativePG app Secret on the dedicated tier, the operator's copy on the shared tier;
// the connection URI is under the key uri.
func AppSecretName(coop *Cooperative) string { return coop.Name + "-app" }

// PlatformAdminSecretName holds the platform service's admin token.
func PlatformAdminSecretName(coop *Cooperative) string { return coop.Name + "-platform-admin" }

// ClusterRoleName is the cluster-scoped role that lets a co-op's admins read and update
// their own Cooperative.
func ClusterRoleName(coop *Cooperative) string { return "cooperator:coop:" + coop.Name }

// PeerClusterRoleName is the cluster-scoped role, and its binding, that lets the peer hub
// whose own a Cooperative is (a standby it mirrors here, a co-op adopted from it) read
// that Cooperative and no other.
func PeerClusterRoleName(coop *Cooperative) string { return "cooperator:peer:" + coop.Name }

// FinalBackupName is the on-demand backup taken before a Retain deletion.
func FinalBackupName(coop *Cooperative) string {
	return fmt.Sprintf("%s-final-%s", coop.Name, coop.DeletionTimestamp.UTC().Format("20060102t150405"))
}

// TimeZonePattern is the form of spec.platform.timeZone: UTC, or a name of the IANA time
// zone database under one of its regions (not its legacy names: CET, US/Eastern, or the
// files localtime and posixrules, which read the host's own). The CRD's pattern marker
// says it again (a marker cannot name a constant); api/policy's TestTimeZoneMatchesCRD
// keeps the two the same.
const TimeZonePattern = `^(UTC|(Africa|America|Antarctica|Arctic|Asia|Atlantic|Australia|Europe|Indian|Pacific|Etc)/[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)?)$`
