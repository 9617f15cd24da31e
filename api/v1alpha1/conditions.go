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

// Condition types of a Cooperative. Each area has one; Ready summarises them. Reconciling
// and Stalled follow the kstatus conventions: Reconciling is True while the operator works
// towards the spec, Stalled is True when only a change of the spec (or of an object it names)
// can help.
const (
	ConditionReady         = "Ready"
	ConditionTenancyReady  = "TenancyReady"
	ConditionDatabaseReady = "DatabaseReady"
	ConditionBackupReady   = "BackupReady"
	ConditionPlatformReady = "PlatformReady"
	ConditionReconciling   = "Reconciling"
	ConditionStalled       = "Stalled"
)

// Reasons of the conditions. Every reason the operator writes is listed here.
const (
	// ReasonReady: the area is as the spec asks.
	ReasonReady = "Ready"
	// ReasonProgressing: the operator applied the desired objects and waits for them.
	ReasonProgressing = "Progressing"
	// ReasonPlanNotFound: spec.plan names no HostingPlan.
	ReasonPlanNotFound = "PlanNotFound"
	// ReasonPlanViolation: the spec asks for more than the plan allows.
	ReasonPlanViolation = "PlanViolation"
	// ReasonTemplateNotFound: the PlatformTemplate or its version does not exist.
	ReasonTemplateNotFound = "TemplateNotFound"
	// ReasonTemplateMismatch: the PlatformTemplate serves another vertical.
	ReasonTemplateMismatch = "TemplateMismatch"
	// ReasonApplyFailed: the API server refused an object; the message says which.
	ReasonApplyFailed = "ApplyFailed"
	// ReasonClusterNotReady: the CloudNativePG Cluster is not ready yet.
	ReasonClusterNotReady = "ClusterNotReady"
	// ReasonRecovering: the Cluster is being restored from the co-op's object store.
	ReasonRecovering = "Recovering"
	// ReasonDatabaseNotReady: the shared tier's Database or roles are not applied yet, or
	// CloudNativePG cannot reconcile a dedicated Cluster's serving role.
	ReasonDatabaseNotReady = "DatabaseNotReady"
	// ReasonRetainedBackupsElsewhere: an earlier co-op of this name was deleted with
	// deletionPolicy Retain and its backups are in another bucket than the hub's current one;
	// no empty database is started in their place.
	ReasonRetainedBackupsElsewhere = "RetainedBackupsElsewhere"
	// ReasonObjectStoreCredentialsMissing: the hub has not created the object store Secret.
	ReasonObjectStoreCredentialsMissing = "ObjectStoreCredentialsMissing"
	// ReasonSharedClusterMissing: the hub's shared Cluster does not exist.
	ReasonSharedClusterMissing = "SharedClusterMissing"
	// ReasonNoBackupYet: backups are scheduled but none has completed yet.
	ReasonNoBackupYet = "NoBackupYet"
	// ReasonBackupFailed: the most recent backup failed.
	ReasonBackupFailed = "BackupFailed"
	// ReasonBackupOverdue: the last completed backup is older than the schedule allows: the
	// next scheduled backup after it should have completed (plus a tolerance) and has not.
	ReasonBackupOverdue = "BackupOverdue"
	// ReasonArchivingFailing: CloudNativePG does not report WAL archiving working (its
	// Cluster's ContinuousArchiving condition is False or absent), so changes since the last
	// base backup are not in the object store.
	ReasonArchivingFailing = "ArchivingFailing"
	// ReasonSharedClusterNotBackedUp: the hub's shared Cluster, which holds a shared-tier
	// co-op's database, cannot archive or back up (its object store credentials are missing).
	ReasonSharedClusterNotBackedUp = "SharedClusterNotBackedUp"
	// ReasonNotApplicable: the area does not apply.
	ReasonNotApplicable = "NotApplicable"
	// ReasonDeploymentsNotAvailable: some platform Deployments are not available yet.
	ReasonDeploymentsNotAvailable = "DeploymentsNotAvailable"
	// ReasonHostTaken: PlatformReady is False because another co-op holds the host of
	// spec.platform.host (an Ingress of it serves the host, or it claimed the host first,
	// a co-op of this hub before a standby): the platform gets no Ingress until the co-op
	// names a host of its own or the other gives it up.
	ReasonHostTaken = "HostTaken"
	// ReasonWaitingForDatabase: the platform waits for the database.
	ReasonWaitingForDatabase = "WaitingForDatabase"
	// ReasonDeleting: the Cooperative is being deleted.
	ReasonDeleting = "Deleting"
	// ReasonFinalBackup: deletion waits for the final backup to complete.
	ReasonFinalBackup = "FinalBackup"
	// ReasonWaitingForMovedCopy: the deletion with deletionPolicy Delete of a co-op that
	// moved to a peer hub waits for its copy there to report a completed base backup
	// (AnnotationDeleteBeforeMovedBackup gives up waiting).
	ReasonWaitingForMovedCopy = "WaitingForMovedCopy"
	// ReasonObjectsLeft (an event): a deletion could not delete the co-op's objects under
	// one of its prefixes of the object store; it retries, and says how to give up.
	ReasonObjectsLeft = "ObjectsLeft"
	// ReasonRetainedDataKept (an event): a deletion left a DatabaseRole that an earlier
	// co-op of the same name, deleted with deletionPolicy Retain, left in the shared
	// Cluster, since the co-op deleted never took it over (a standby, say).
	ReasonRetainedDataKept = "RetainedDataKept"
	// ReasonBackupsExpired (an event): Backup objects older than the co-op's retention were
	// deleted; the object store no longer holds their backups.
	ReasonBackupsExpired = "BackupsExpired"
	// ReasonSuspended: spec.suspend is true; the operator leaves the co-op's objects as they
	// are until it is false again. Ready is False and Stalled True with this reason, and
	// Reconciling is not set: kstatus reads a suspended co-op as Failed with the message
	// that it is suspended, since only a person (resume) makes it progress again. Governed
	// is Unknown with this reason: passed proposals wait in the co-op's database.
	ReasonSuspended = "Suspended"
	// ReasonNotReady: Ready is False because an area is not ready; the message names it.
	ReasonNotReady = "NotReady"
)
