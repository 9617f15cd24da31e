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

package federation

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// The peers a co-op's standby may have been written at are recorded, before the first
// write there, in a ConfigMap of the operator's namespace (WrittenRecordName): the key is
// the FederationPeer's name, the value its region. The co-op's status says the same once
// it is written, but a status may be lost (a write that failed after the peer's, a restore
// that drops it); the record is what pruning and deletion trust, so that a standby and
// the co-op's read keys never stay at a peer that no status names any more. An entry goes
// once the standby is known to be gone from that peer; the record goes with the co-op.

// WrittenRecordName is the ConfigMap, in the operator's namespace, that records the peers a
// co-op's standby was written at.
func WrittenRecordName(coop string) string { return "cooperator-federation-" + coop }

// written reads the peers (name: region) the co-op's standby was written at; none when the
// record does not exist.
func (r *CooperativeReconciler) written(ctx context.Context, coop *coopv1.Cooperative) (map[string]string, error) {
	var cm corev1.ConfigMap
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: r.Hub.OperatorNamespace, Name: WrittenRecordName(coop.Name)}, &cm)
	if apierrors.IsNotFound(err) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the record of the peers %s was written at: %w", coop.Name, err)
	}
	if cm.Data == nil {
		return map[string]string{}, nil
	}
	return cm.Data, nil
}

// recordWrite adds the peer to the co-op's record before anything is written there; an
// error means nothing may be written.
func (r *CooperativeReconciler) recordWrite(ctx context.Context, coop *coopv1.Cooperative, peer *coopv1.FederationPeer) error {
	return r.changeRecord(ctx, coop, func(data map[string]string) bool {
		if data[peer.Name] == peer.Spec.Region {
			return false
		}
		data[peer.Name] = peer.Spec.Region
		return true
	})
}

// forgetWrite drops the peer from the co-op's record, once the standby is gone from there.
func (r *CooperativeReconciler) forgetWrite(ctx context.Context, coop *coopv1.Cooperative, peer string) error {
	return r.changeRecord(ctx, coop, func(data map[string]string) bool {
		if _, ok := data[peer]; !ok {
			return false
		}
		delete(data, peer)
		return true
	})
}

// changeRecord applies change to the co-op's record, read at the version it writes over
// (a stale read fails with a conflict, and the reconcile is tried again). A record left
// empty is deleted. The record is owned by the co-op, and goes with it.
func (r *CooperativeReconciler) changeRecord(ctx context.Context, coop *coopv1.Cooperative, change func(map[string]string) bool) error {
	cm := &corev1.ConfigMap{}
	key := client.ObjectKey{Namespace: r.Hub.OperatorNamespace, Name: WrittenRecordName(coop.Name)}
	err := r.Client.Get(ctx, key, cm)
	exists := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading the record of the peers %s was written at: %w", coop.Name, err)
	}
	if cm.Data == nil {
		cm.Data = map[string]string{}
	}
	if !change(cm.Data) {
		return nil
	}
	switch {
	case !exists:
		cm = &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: key.Namespace, Name: key.Name,
				Labels:          map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue, coopv1.LabelCooperative: coop.Name},
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(coop, coopv1.GroupVersion.WithKind("Cooperative"))},
			},
			Data: cm.Data,
		}
		err = r.Client.Create(ctx, cm)
	case len(cm.Data) == 0:
		err = client.IgnoreNotFound(r.Client.Delete(ctx, cm, client.Preconditions{UID: &cm.UID, ResourceVersion: &cm.ResourceVersion}))
	default:
		err = r.Client.Update(ctx, cm)
	}
	if err != nil {
		return fmt.Errorf("recording the peers %s was written at: %w", coop.Name, err)
	}
	return nil
}
