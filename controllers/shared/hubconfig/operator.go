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

// Package hubconfig holds the hub's settings: its region, its object store for backups, its
// shared database cluster, and the namespaces of its ingress controller and monitoring. They
// come from a YAML file (--config) and flags; a flag set on the command line wins.
package hubconfig

import (
	"context"
	"fmt"
	"strings"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// What the hub's operator is given in the namespaces it creates (co-op namespaces, the
// mirror namespaces of peers), and where the hub's shared Cluster archives: the Cooperative
// reconciler and the federation both use them.

// TenantClusterRole is the ClusterRole (config/rbac/tenant_role.yaml) with what the operator
// may do in a namespace it created. It holds it nowhere else: it binds it in each such
// namespace to its own ServiceAccount (OperatorBindingName).
const TenantClusterRole = "cooperator-tenant"

// OperatorBindingName binds TenantClusterRole to the operator in a namespace it created.
const OperatorBindingName = "cooperator-operator"

// BuildOperatorRoleBinding gives the operator's ServiceAccount the ClusterRole
// TenantClusterRole in the namespace of meta, and nowhere else.
func BuildOperatorRoleBinding(meta metav1.ObjectMeta, cfg *Config) *rbacv1.RoleBinding {
	meta.Name = OperatorBindingName
	return &rbacv1.RoleBinding{
		ObjectMeta: meta,
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: TenantClusterRole},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: cfg.OperatorServiceAccount, Namespace: cfg.OperatorNamespace}},
	}
}

// WaitForTenantAccess waits, briefly, until the API server authorizes the operator in
// namespace by the RoleBinding it has just created: the API server authorizes from its
// informers, which see a new binding a moment after it is stored. It reports whether the
// access is in force.
func WaitForTenantAccess(ctx context.Context, c client.Client, namespace string) (bool, error) {
	allowed := false
	err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: namespace, Verb: "create", Resource: "secrets"},
		}}
		if err := c.Create(ctx, review); err != nil {
			return false, fmt.Errorf("reviewing the operator's access to namespace %s: %w", namespace, err)
		}
		allowed = review.Status.Allowed
		return allowed, nil
	})
	if err != nil && !wait.Interrupted(err) {
		return false, err
	}
	return allowed, nil
}

// SharedBackupDestination is where the shared Cluster archives: <bucket>/<region>/_shared/<name>/.
// No co-op can be named _shared (a DNS label), so no co-op's prefix overlaps it.
func SharedBackupDestination(cfg *Config) string {
	return strings.TrimSuffix(cfg.BackupDestination("_shared"), "/") + "/" + cfg.SharedCluster.Name + "/"
}
