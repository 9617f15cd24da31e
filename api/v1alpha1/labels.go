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

// Labels and annotations the operator puts on what it creates.
const (
	// LabelCooperative names the co-op an object belongs to. Every co-op namespace carries it.
	LabelCooperative = "coop.cooperator.dev/cooperative"
	// LabelManagedBy marks the objects the operator manages; its informers watch only those.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of LabelManagedBy.
	ManagedByValue = "cooperator"
	// LabelComponent names the platform component of a workload.
	LabelComponent = "app.kubernetes.io/name"
	// LabelInstance names the co-op of a platform workload, as app.kubernetes.io expects.
	LabelInstance = "app.kubernetes.io/instance"
	// LabelPartOf groups the objects of a co-op's platform.
	LabelPartOf = "app.kubernetes.io/part-of"

	// LabelDatabaseTier on a co-op namespace says its database tier; the shared Cluster lets
	// in only namespaces with the shared tier.
	LabelDatabaseTier = "coop.cooperator.dev/database-tier"

	// LabelRetainedFrom marks what a co-op deleted with deletionPolicy Retain leaves in the
	// operator namespace: the ConfigMap that records the backups it left in the object store
	// (dedicated tier), and its NOLOGIN DatabaseRoles in the shared Cluster (shared tier);
	// its value is the co-op's name.
	LabelRetainedFrom = "coop.cooperator.dev/retained-from"

	// AnnotationRetainedUID on a DatabaseRole labelled LabelRetainedFrom is the uid of the
	// Cooperative whose deletion retained it. Only that Cooperative's own deletion goes on
	// with it; any other Cooperative of the same name (a standby a peer hub writes, a co-op
	// created again before it took the role over) neither deletes it nor, from a standby,
	// applies over it. The backups marker carries none: a co-op created again under the
	// name restores those backups and the marker is its own; a standby never reads it, and
	// only a dedicated co-op of this hub deleted with Delete removes it.
	AnnotationRetainedUID = "coop.cooperator.dev/retained-uid"

	// AnnotationReconcileRequestedAt on a Cooperative asks for a reconcile now, as Flux's
	// reconcile.fluxcd.io/requestedAt does: any new value (`cooperator reconcile` writes the
	// time) wakes the reconciler, which records the value it handled in
	// status.lastHandledReconcileAt.
	AnnotationReconcileRequestedAt = "coop.cooperator.dev/reconcile-requested-at"

	// Finalizer holds a Cooperative until its deletion policy is carried out.
	Finalizer = "coop.cooperator.dev/finalizer"
)
