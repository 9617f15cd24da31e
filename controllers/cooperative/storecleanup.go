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
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/export"
	"github.com/cooperator-dev/cooperator/controllers/shared/logicalbackup"
)

// deletedPrefixes are the co-op's own prefixes of the hub's object store that its deletion
// empties: its imports/ always (a dump an import uploaded is a transfer of every member's
// data, not a backup, whatever the deletion policy).
func deletedPrefixes(coop *coopv1.Cooperative, r *Reconciler) []string {
	return []string{export.ImportPrefix(&r.Config, coop.Name)}
}

// deleteStoreObjects empties the co-op's prefixes of the object store (deletedPrefixes),
// with the co-op's own read-write keys, which reach its prefix and no other co-op's: a
// mistake here cannot reach another co-op's data. It reports whether it is done; on a
// store's error the Ready condition and a Warning event say which prefix and why, and the
// deletion waits and retries. Without the co-op's keys (the hub removed them) nothing can
// be deleted with them: an event names what is left for the hub, and the deletion goes on.
func (r *Reconciler) deleteStoreObjects(ctx context.Context, s *scope) (bool, error) {
	coop := s.coop
	prefixes := deletedPrefixes(coop, r)
	// The co-op's own keys only, never the hub-wide ones (even on a single-tenant hub).
	keys := &corev1.Secret{}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: r.Config.OperatorNamespace, Name: r.Config.ObjectStore.CooperativeCredentialsSecret(coop.Name)}, keys)
	if err != nil && !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("reading the co-op's object store keys: %w", err)
	}
	if apierrors.IsNotFound(err) {
		r.Recorder.Eventf(coop, nil, corev1.EventTypeWarning, coopv1.ReasonObjectStoreCredentialsMissing, "Delete",
			"Left %s in the object store: Secret %s/%s, the co-op's own keys, is gone; the hub deletes them by hand",
			strings.Join(prefixes, " and "), r.Config.OperatorNamespace, r.Config.ObjectStore.CooperativeCredentialsSecret(coop.Name))
		return true, nil
	}
	hc := r.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	for _, prefix := range prefixes {
		bucket, key, err := logicalbackup.ParseDestination(prefix)
		if err != nil {
			return false, err
		}
		o := logicalbackup.ObjectAt(r.Config.ObjectStore.EndpointURL, bucket, key)
		n, err := logicalbackup.DeletePrefix(ctx, hc, o, string(keys.Data[coopv1.AccessKeyIDKey]), string(keys.Data[coopv1.AccessSecretKeyKey]), r.now())
		if err != nil {
			msg := fmt.Sprintf("removing the tenant: deleting the co-op's objects under %s failed (%v); retrying. To give up, a hub admin removes the finalizer %s and deletes %s by hand",
				prefix, err, coopv1.Finalizer, prefix)
			s.setCondition(coopv1.ConditionReady, metav1.ConditionFalse, coopv1.ReasonDeleting, msg)
			r.Recorder.Eventf(coop, nil, corev1.EventTypeWarning, coopv1.ReasonObjectsLeft, "Delete", "%s", msg)
			log.FromContext(ctx).Info("Failed to delete the co-op's objects", "cooperative", coop.Name, "prefix", prefix, "reason", err.Error())
			return false, nil
		}
		if n > 0 {
			r.Recorder.Eventf(coop, nil, corev1.EventTypeNormal, coopv1.ReasonDeleting, "Delete", "Deleted %d objects under %s", n, prefix)
		}
	}
	return true, nil
}
