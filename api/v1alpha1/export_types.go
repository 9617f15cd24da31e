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
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ExportPhase is where a CooperativeExport stands.
// +kubebuilder:validation:Enum=Pending;Running;Succeeded;Failed;Expired
type ExportPhase string

// The phases of a CooperativeExport.
const (
	// ExportPending: the operator has not started the dump yet (or cannot: the reason says why).
	ExportPending ExportPhase = "Pending"
	// ExportRunning: the dump Job runs.
	ExportRunning ExportPhase = "Running"
	// ExportSucceeded: the dump is in the co-op's object store prefix and the download
	// Secret holds a link to it.
	ExportSucceeded ExportPhase = "Succeeded"
	// ExportFailed: the dump Job failed; create a new CooperativeExport to try again.
	ExportFailed ExportPhase = "Failed"
	// ExportExpired: the link's time is over (status.dump.expires): the operator deletes
	// the dump from the object store and the link from the download Secret (the Complete
	// condition's reason says whether that is done); create a new CooperativeExport for a
	// fresh dump.
	ExportExpired ExportPhase = "Expired"
)

// Condition type and reasons of a CooperativeExport.
const (
	// ConditionExportComplete is True once the dump is downloadable, False while it is
	// not (yet), with one of the reasons below.
	ConditionExportComplete = "Complete"
	// ReasonExportNotACooperative: the namespace is not a co-op's namespace.
	ReasonExportNotACooperative = "NotACooperativeNamespace"
	// ReasonImportDumpLeft (an event on a Cooperative): the dump an import restored could
	// not be deleted from the object store, and is left for the hub.
	ReasonImportDumpLeft = "ImportDumpLeft"
	// ReasonImportRefused (an event on a Cooperative): the operator does not restore an
	// import whose annotations it refuses; status.origin.message says why.
	ReasonImportRefused = "ImportRefused"
	// ReasonImportAbandoned (an event on a Cooperative): a hub admin gave up the restore
	// (AnnotationImportAbandon); the platform starts without the imported data.
	ReasonImportAbandoned = "ImportAbandoned"
	// ReasonExportDatabaseNotReady: the co-op has no database credentials yet.
	ReasonExportDatabaseNotReady = "DatabaseNotReady"
	// ReasonExportStandby: the co-op is a standby; export it on its home hub.
	ReasonExportStandby = "Standby"
	// ReasonExportCredentialsMissing: the co-op's object store Secrets are missing.
	ReasonExportCredentialsMissing = "ObjectStoreCredentialsMissing"
	// ReasonExportDumping: the dump Job runs.
	ReasonExportDumping = "Dumping"
	// ReasonExportJobFailed: the dump Job failed.
	ReasonExportJobFailed = "JobFailed"
	// ReasonExportSucceeded: the dump is downloadable.
	ReasonExportSucceeded = "Succeeded"
	// ReasonExportJobNameTaken: the export's Job would have the name of a Job it does not
	// own (the co-op's restore Job is <co-op>-import): nothing is dumped; name the export
	// otherwise.
	ReasonExportJobNameTaken = "JobNameTaken"
	// ReasonExportExpired: the link expired, and the dump was deleted from the object store
	// (and the link from the download Secret, if it still pointed at this export's dump).
	ReasonExportExpired = "Expired"
	// ReasonExportDeleteFailed: the object store refused or failed to delete the dump; the
	// operator retries with backoff, and the message says what the store answered.
	ReasonExportDeleteFailed = "DumpDeleteFailed"
	// ReasonExportDeleting: the export is being deleted; its dump is deleted first.
	ReasonExportDeleting = "Deleting"
)

// ExportFinalizer is on every CooperativeExport whose dump Job the operator created: the
// operator deletes the export's dump from the object store before the export goes. When
// the co-op's object store credentials are gone (the hub removed them, or the co-op with
// them), the operator says so in a Warning event (reason ObjectStoreCredentialsMissing)
// and lets the export go: the hub deletes the dump by hand.
const ExportFinalizer = "coop.cooperator.dev/export-dump"

// CooperativeExportSpec asks for a logical dump of the co-op's database. The co-op is the
// one whose namespace (coop-<name>) holds the CooperativeExport; there is nothing to choose.
type CooperativeExportSpec struct {
	// linkValidity is how long the download link stays valid once the dump is made: at
	// most 7 days (168h), the most an S3 presigned link may live.
	// +optional
	// +kubebuilder:default="24h"
	// +kubebuilder:validation:Pattern=`^([1-9][0-9]?|1[0-5][0-9]|16[0-8])h$`
	LinkValidity string `json:"linkValidity,omitempty"`
}

// ExportDump is where the dump of an export went.
type ExportDump struct {
	// destination is the dump's object in the co-op's own object store prefix,
	// s3://<bucket>/<region>/<co-op>/exports/<export>.dump.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Destination string `json:"destination,omitempty"`

	// downloadSecret is the Secret of the co-op namespace, readable by the co-op's admins,
	// whose key url holds a presigned link to the dump until expires.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	DownloadSecret string `json:"downloadSecret,omitempty"`

	// expires is when the download link stops working.
	// +optional
	Expires *metav1.Time `json:"expires,omitempty"`

	// sha256 is the SHA-256 (hex) of the dump the Job uploaded, as the object store holds
	// it (the upload records it in the object's metadata, and the store takes the body only
	// if it matches): cooperator export refuses a download with another. Empty when the
	// object has none (a dump uploaded before this field).
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9a-f]{64}$`
	SHA256 string `json:"sha256,omitempty"`
}

// CooperativeExportStatus is what the operator did of the export request.
type CooperativeExportStatus struct {
	// observedGeneration is the generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// phase: Pending, Running, Succeeded, Failed or Expired.
	// +optional
	Phase ExportPhase `json:"phase,omitempty"`

	// cooperative is the co-op exported.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Cooperative string `json:"cooperative,omitempty"`

	// jobName is the Job of the co-op namespace that dumps the database.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	JobName string `json:"jobName,omitempty"`

	// dump is where the dump went, once it succeeded.
	// +optional
	Dump *ExportDump `json:"dump,omitempty"`

	// completionTime is when the dump succeeded or failed.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`

	// conditions: Complete.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=4
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// CooperativeExport is a co-op admin's request for a logical dump of their co-op's
// database, made inside the cluster with the co-op's own credentials and put in the co-op's
// own object store prefix. `cooperator export COOP` creates one and writes the archive.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=coopexport,categories=cooperator
// +kubebuilder:printcolumn:name="Cooperative",type=string,JSONPath=`.status.cooperative`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Complete")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.spec) || self.spec == oldSelf.spec",message="spec is immutable: create a new CooperativeExport"
// +kubebuilder:validation:XValidation:rule="oldSelf.hasValue() || size(self.metadata.name) <= 63",optionalOldSelf=true,message="metadata.name must be at most 63 characters: the export's Job takes its name, which its pods carry in a label"
type CooperativeExport struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the object's metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the export request.
	// +optional
	Spec CooperativeExportSpec `json:"spec,omitempty,omitzero"`

	// status is what the operator did of it.
	// +optional
	Status CooperativeExportStatus `json:"status,omitempty,omitzero"`
}

// CooperativeExportList is a list of CooperativeExports.
//
// +kubebuilder:object:root=true
type CooperativeExportList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the list's metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the CooperativeExports.
	Items []CooperativeExport `json:"items"`
}

func init() {
	SchemeBuilder.Register(&CooperativeExport{}, &CooperativeExportList{})
}

// The co-op's ResourceQuota holds at most MaxCooperativeExports CooperativeExports in its
// namespace (ExportQuotaResource, an object count): every export's dump is stored on the
// hub's bill, shared by all co-ops. The count includes finished exports, until the hub
// deletes them (co-op admins may not).
const (
	ExportQuotaResource   = "count/cooperativeexports.coop.cooperator.dev"
	MaxCooperativeExports = 5
)

// ExportDownloadSecretName is the Secret of the co-op namespace that holds the link to the
// latest export's dump; the co-op's admin Role may get it, and no other Secret of the
// object store.
func ExportDownloadSecretName(coop *Cooperative) string { return coop.Name + "-export" }

// ExportDumpURLKey is the key, in the download Secret, of the presigned link.
const ExportDumpURLKey = "url"

// Annotations `cooperator import` sets on the Cooperative it recreates from an archive.
// While AnnotationImportDump is there the operator keeps the platform at zero replicas and
// restores the dump into the new database (a Job of the co-op namespace); once restored, it
// records status.origin and removes the two dump annotations.
const (
	// AnnotationImportDump names the dump object under <bucket>/<region>/<co-op>/imports/.
	AnnotationImportDump = "coop.cooperator.dev/import-dump"
	// AnnotationImportSHA256 is the dump's SHA-256 (hex); the restore refuses another.
	AnnotationImportSHA256 = "coop.cooperator.dev/import-sha256"
	// AnnotationImportOrigin is where the archive came from, as JSON of ImportOrigin's
	// cooperative, export, exportedAt, dumpedAt and backups fields.
	AnnotationImportOrigin = "coop.cooperator.dev/import-origin"
)

// AnnotationImportAbandon, set by a hub admin (whoever may delete the Cooperative) on a
// co-op awaiting its restore, gives the restore up: its value says why (at most
// MaxImportAbandonReasonLength characters). The operator deletes the restore Job and the
// uploaded dump, records it in status.origin.message and a Warning event (reason
// ImportAbandoned), removes the dump's annotations and this one, and the platform starts
// on the database as it is, without the imported data.
const AnnotationImportAbandon = "coop.cooperator.dev/import-abandon"

// MaxImportAbandonReasonLength bounds the reason of AnnotationImportAbandon, which status
// and an event repeat.
const MaxImportAbandonReasonLength = 256

// ImportAnnotations are the annotations of an import, which only `cooperator import` sets
// as it creates the Cooperative and only the operator removes: the two of the dump once it
// is restored, the origin as a move adopts the co-op.
var ImportAnnotations = []string{AnnotationImportDump, AnnotationImportSHA256, AnnotationImportOrigin}

// The bounds of what an archive gives ImportOrigin, as the CRD holds status.origin to them
// (its MaxLength markers, which cannot name a Go constant; a test holds them equal).
const (
	// MaxOriginNameLength bounds cooperative and export: names of objects.
	MaxOriginNameLength = 63
	// MaxOriginBackupsLength bounds backups: bucket/region/co-op/.
	MaxOriginBackupsLength = 1024
)

// OriginLimitError is a field of an ImportOrigin the CRD would refuse: longer than its bound
// (in characters, as the API server counts them).
// +kubebuilder:object:generate=false
type OriginLimitError struct {
	// Field is the JSON name in status.origin: cooperative, export or backups.
	Field       string
	Length, Max int
}

func (e OriginLimitError) Error() string {
	return fmt.Sprintf("status.origin.%s: %d characters, at most %d", e.Field, e.Length, e.Max)
}

// ArchiveLimitErrors are the fields an archive gives (cooperative, export, backups) that the
// CRD would refuse in status.origin: `cooperator import` refuses such an archive before it
// uploads anything, and the operator such an origin annotation before it restores.
func (o *ImportOrigin) ArchiveLimitErrors() []OriginLimitError {
	var errs []OriginLimitError
	for _, f := range []struct {
		name, value string
		max         int
	}{{"cooperative", o.Cooperative, MaxOriginNameLength}, {"export", o.Export, MaxOriginNameLength}, {"backups", o.Backups, MaxOriginBackupsLength}} {
		if n := utf8.RuneCountInString(f.value); n > f.max {
			errs = append(errs, OriginLimitError{Field: f.name, Length: n, Max: f.max})
		}
	}
	return errs
}

// AwaitingRestore says whether the co-op's imported data is not restored yet: its
// platform must not start on an empty database. A standby takes no import (its database
// replays its home co-op's backups): one that carries the annotations, written before the
// webhook refused them, awaits none.
func (c *Cooperative) AwaitingRestore() bool {
	return c.Annotations[AnnotationImportDump] != "" && c.Spec.Standby == nil
}

// ImportOrigin records where an imported co-op came from and when its data was restored.
type ImportOrigin struct {
	// cooperative is the co-op's name on the hub it left.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Cooperative string `json:"cooperative,omitempty"`

	// export is the CooperativeExport whose dump was restored.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Export string `json:"export,omitempty"`

	// exportedAt is when the archive was written.
	// +optional
	ExportedAt *metav1.Time `json:"exportedAt,omitempty"`

	// dumpedAt is when the database was dumped: when the export completed, which may be
	// days before the archive was written (cooperator export --from). What the old hub's
	// platform wrote after it is not in the data.
	// +optional
	DumpedAt *metav1.Time `json:"dumpedAt,omitempty"`

	// backups is where the co-op's physical backups were on the hub it left
	// (bucket/region/co-op/).
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Backups string `json:"backups,omitempty"`

	// restoreJob is the Job that restored the dump.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	RestoreJob string `json:"restoreJob,omitempty"`

	// restoredAt is when the dump was restored; the platform starts after it.
	// +optional
	RestoredAt *metav1.Time `json:"restoredAt,omitempty"`

	// message says what went wrong when the restore failed.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`

	// region is, for a co-op moved here from a peer hub, the region of its old home.
	// +optional
	// +kubebuilder:validation:MaxLength=40
	Region string `json:"region,omitempty"`

	// movedAt is when this hub adopted the co-op its old home released.
	// +optional
	MovedAt *metav1.Time `json:"movedAt,omitempty"`
}
