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
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
)

// A co-op deleted with deletionPolicy Retain leaves its backups in the object store, but its
// namespace, ObjectStore and status go with it. The retained marker, a ConfigMap in the
// operator namespace that no co-op owns, remembers the server name those backups are under,
// so that a co-op created again under the same name restores them instead of starting an
// empty database that would archive over them.

// Keys of the retained marker.
const (
	RetainedServerNameKey  = "serverName"
	RetainedDestinationKey = "destinationPath"
	RetainedLastBackupKey  = "lastBackup"
	RetainedDeletedAtKey   = "deletedAt"
)

// RetainedDescriptionAnnotation tells a hub admin who finds the marker what it is for.
const RetainedDescriptionAnnotation = "coop.cooperator.dev/description"

// RetainedMarkerName is the name of the marker of a co-op's retained backups.
func RetainedMarkerName(coopName string) string { return "cooperator-retained-" + coopName }

// BuildRetainedMarker records where the backups of a co-op deleted with Retain are.
func BuildRetainedMarker(coop *coopv1.Cooperative, cfg *hubconfig.Config, serverName string, deletedAt time.Time) *corev1.ConfigMap {
	last := ""
	if coop.Status.LastBackup != nil {
		last = coop.Status.LastBackup.Name
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:      RetainedMarkerName(coop.Name),
			Namespace: cfg.OperatorNamespace,
			Labels:    map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue, coopv1.LabelRetainedFrom: coop.Name},
			Annotations: map[string]string{
				RetainedDescriptionAnnotation: "Backups of a co-op deleted with deletionPolicy Retain. " +
					"A co-op created again under this name restores them; delete this ConfigMap to let it start empty instead.",
			},
		},
		Data: map[string]string{
			RetainedServerNameKey:  serverName,
			RetainedDestinationKey: cfg.BackupDestination(coop.Name),
			RetainedLastBackupKey:  last,
			RetainedDeletedAtKey:   deletedAt.UTC().Format(time.RFC3339),
		},
	}
}

// RetainedByOther says whether obj is what another Cooperative than coop left when it was
// deleted with deletionPolicy Retain (labelled coopv1.LabelRetainedFrom, with another uid
// in coopv1.AnnotationRetainedUID, or none: retained before the uid was recorded). A
// standby never applies over such an object, and no deletion of another Cooperative
// deletes it: a peer hub's standby of the same name would otherwise take over the data,
// or drop it with its own deletion.
func RetainedByOther(obj metav1.Object, coop *coopv1.Cooperative) bool {
	if _, retained := obj.GetLabels()[coopv1.LabelRetainedFrom]; !retained {
		return false
	}
	uid := obj.GetAnnotations()[coopv1.AnnotationRetainedUID]
	return uid == "" || uid != string(coop.UID)
}

// retainedServer returns the server name of the co-op's retained backups, or "" when the
// hub keeps none for it. conflict is set when the backups are retained under another bucket
// than the hub's current one: the co-op's ObjectStore cannot read them, and an empty
// database must not start in their place.
func (r *Reconciler) retainedServer(ctx context.Context, coop *coopv1.Cooperative) (server, conflict string, err error) {
	var cm corev1.ConfigMap
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: r.Config.OperatorNamespace, Name: RetainedMarkerName(coop.Name)}, &cm); err != nil {
		if apierrors.IsNotFound(err) {
			return "", "", nil
		}
		return "", "", fmt.Errorf("reading the retained backups marker: %w", err)
	}
	if dest := cm.Data[RetainedDestinationKey]; dest != "" && dest != r.Config.BackupDestination(coop.Name) {
		return "", fmt.Sprintf("ConfigMap %s/%s records backups of an earlier co-op %s in %s, but this hub now archives it in %s: "+
			"restore them by hand, or delete the ConfigMap to start an empty database", cm.Namespace, cm.Name, coop.Name, dest, r.Config.BackupDestination(coop.Name)), nil
	}
	return cm.Data[RetainedServerNameKey], "", nil
}

// forgetRetained deletes the marker, if there is one, once it is no longer needed.
func (r *Reconciler) forgetRetained(ctx context.Context, coop *coopv1.Cooperative) error {
	var cm corev1.ConfigMap
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: r.Config.OperatorNamespace, Name: RetainedMarkerName(coop.Name)}, &cm); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("reading the retained backups marker: %w", err)
	}
	if err := r.Client.Delete(ctx, &cm, client.Preconditions{UID: &cm.UID}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting the retained backups marker: %w", err)
	}
	log.FromContext(ctx).Info("The restored database has backups of its own; removed the retained backups marker", "cooperative", coop.Name, "configmap", cm.Name)
	return nil
}
