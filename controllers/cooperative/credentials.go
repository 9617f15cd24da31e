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
	"strings"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"

	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
)

// ObjectStoreCredentialsMissingMessage says which Secret the hub must create before a
// dedicated co-op's Cluster can archive: the co-op's own, prefix-scoped credentials (the
// hub-wide ones are used only when the hub opted in to a single tenant, see
// hubconfig.ObjectStore.SingleTenant).
func ObjectStoreCredentialsMissingMessage(cfg *hubconfig.Config, cooperative string) string {
	msg := fmt.Sprintf("no object store credentials for this co-op: the hub must create Secret %s/%s with %s and %s limited to %s",
		cfg.OperatorNamespace, cfg.ObjectStore.CooperativeCredentialsSecret(cooperative), coopv1.AccessKeyIDKey, coopv1.AccessSecretKeyKey, cfg.BackupDestination(cooperative))
	if cfg.ObjectStore.SingleTenant {
		msg += fmt.Sprintf(" (or the hub-wide %s/%s, as the hub runs a single tenant)", cfg.OperatorNamespace, cfg.ObjectStore.CredentialsSecret)
	}
	return msg
}

// bySecret wakes the co-op a Secret concerns: one the operator made for it (its label), or
// the co-op's own object store credentials that the hub creates in the operator namespace
// (<prefix><co-op> and <prefix><co-op>-read), which a co-op waiting for them needs.
func (r *Reconciler) bySecret(_ context.Context, obj client.Object) []reconcile.Request {
	if name := obj.GetLabels()[coopv1.LabelCooperative]; name != "" {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: name}}}
	}
	prefix := r.Config.ObjectStore.PerCooperativeSecretPrefix
	if obj.GetNamespace() != r.Config.OperatorNamespace || prefix == "" || !strings.HasPrefix(obj.GetName(), prefix) {
		return nil
	}
	name := strings.TrimSuffix(strings.TrimPrefix(obj.GetName(), prefix), coopv1.ReadCredentialsSuffix)
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: name}}}
}
