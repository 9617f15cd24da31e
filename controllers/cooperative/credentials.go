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

	"github.com/cooperator-dev/cooperator/controllers/hubconfig"
)

// ObjectStoreCredentialsMissingMessage says which Secret the hub must create before a
// dedicated co-op's Cluster can archive: the co-op's own, prefix-scoped credentials (the
// hub-wide ones are used only when the hub opted in to a single tenant, see
// hubconfig.ObjectStore.SingleTenant).
func ObjectStoreCredentialsMissingMessage(cfg *hubconfig.Config, cooperative string) string {
	msg := fmt.Sprintf("no object store credentials for this co-op: the hub must create Secret %s/%s with %s and %s limited to %s",
		cfg.OperatorNamespace, cfg.ObjectStore.CooperativeCredentialsSecret(cooperative), AccessKeyIDKey, AccessSecretKeyKey, cfg.BackupDestination(cooperative))
	if cfg.ObjectStore.SingleTenant {
		msg += fmt.Sprintf(" (or the hub-wide %s/%s, as the hub runs a single tenant)", cfg.OperatorNamespace, cfg.ObjectStore.CredentialsSecret)
	}
	return msg
}
