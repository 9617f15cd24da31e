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
	"net/url"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// The database phase: which tier, the object store credentials, the serving role both
// tiers give the platform, and generated passwords. The tiers are in database_dedicated.go
// and database_shared.go, the names in database_names.go.

// ServingRoleConfiguration is the serving role as CloudNativePG manages it (a managed role
// of a dedicated Cluster, or a DatabaseRole in the shared Cluster): it may log in, with the
// password of the basic-auth Secret passwordSecret, at most connectionLimit times; it is no
// superuser, cannot create databases or roles, replicate or bypass row security, and is a
// member of no role.
func ServingRoleConfiguration(coop *coopv1.Cooperative, passwordSecret string, connectionLimit int64) cnpgv1.RoleConfiguration {
	return loginRole(ServingRoleName(coop), "platform serving role of co-op "+coop.Name, passwordSecret, connectionLimit)
}

// loginRole is a role that may log in with the password of the basic-auth Secret
// passwordSecret, at most connectionLimit times, and nothing else: no superuser, no
// databases or roles of its own, no replication, no bypassing of row security, a member
// of no role. Each of these is written out, so that CloudNativePG reconciles it back
// should someone change it in the database.
func loginRole(name, comment, passwordSecret string, connectionLimit int64) cnpgv1.RoleConfiguration {
	return cnpgv1.RoleConfiguration{
		Name:            name,
		Comment:         comment,
		Ensure:          cnpgv1.EnsurePresent,
		Login:           true,
		Superuser:       false,
		CreateDB:        false,
		CreateRole:      false,
		Replication:     false,
		BypassRLS:       false,
		ConnectionLimit: connectionLimit,
		PasswordSecret:  &cnpgv1.LocalObjectReference{Name: passwordSecret},
	}
}

// DatabaseURI is the postgresql:// URI the operator writes for user, with sslmode
// SharedSSLMode: the connection is encrypted or refused.
func DatabaseURI(user, password, host, dbname string) string {
	u := url.URL{Scheme: "postgresql", User: url.UserPassword(user, password), Host: fmt.Sprintf("%s:%d", host, PostgresPort),
		Path: "/" + dbname, RawQuery: url.Values{"sslmode": []string{SharedSSLMode}}.Encode()}
	return u.String()
}

// BuildServingSecret is the serving role's Secret in the co-op namespace (ServingSecretName):
// basic-auth, with the role's URI to database dbname on host.
func BuildServingSecret(coop *coopv1.Cooperative, host, dbname, password string) *corev1.Secret {
	user := ServingRoleName(coop)
	return &corev1.Secret{
		ObjectMeta: objectMeta(coop, coop.NamespaceName(), ServingSecretName(coop)),
		Type:       corev1.SecretTypeBasicAuth,
		Data: map[string][]byte{
			corev1.BasicAuthUsernameKey: []byte(user),
			corev1.BasicAuthPasswordKey: []byte(password),
			DatabaseURIKey:              []byte(DatabaseURI(user, password, host, dbname)),
		},
	}
}

// reconcileDatabase applies the co-op's database: a dedicated Cluster with its object store
// and backups, or a database and role in the hub's shared Cluster.
func (r *Reconciler) reconcileDatabase(ctx context.Context, s *scope) (ctrl.Result, error) {
	if !s.tenancyReady() {
		s.setCondition(coopv1.ConditionDatabaseReady, metav1.ConditionFalse, coopv1.ReasonProgressing, "waiting for the tenancy")
		s.setCondition(coopv1.ConditionBackupReady, metav1.ConditionFalse, coopv1.ReasonProgressing, "waiting for the tenancy")
		return ctrl.Result{}, nil
	}
	if s.coop.Spec.Database.Tier == coopv1.DatabaseTierShared {
		return r.reconcileSharedDatabase(ctx, s)
	}
	return r.reconcileDedicatedDatabase(ctx, s)
}

// objectStoreCredentials returns the Secret of the co-op's object store credentials in the
// operator namespace: its own, or the hub's only when the hub opted in to a single tenant
// (hubconfig.ObjectStore.CredentialsSecretsFor is the one rule).
func (r *Reconciler) objectStoreCredentials(ctx context.Context, coop *coopv1.Cooperative) (*corev1.Secret, error) {
	for _, name := range r.Config.ObjectStore.CredentialsSecretsFor(coop.Name) {
		var secret corev1.Secret
		err := r.Client.Get(ctx, client.ObjectKey{Namespace: r.Config.OperatorNamespace, Name: name}, &secret)
		if err == nil {
			return &secret, nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("reading object store credentials %s/%s: %w", r.Config.OperatorNamespace, name, err)
		}
	}
	return nil, nil
}

// generatedSecret returns the value under dataKey of a Secret the operator generated once,
// or a new random value when there is none. A Secret the cache has not seen yet is read
// from the API server: a second value would replace the one pods already use.
func (r *Reconciler) generatedSecret(ctx context.Context, key client.ObjectKey, dataKey string) (string, error) {
	var secret corev1.Secret
	err := r.Client.Get(ctx, key, &secret)
	if apierrors.IsNotFound(err) && r.APIReader != nil {
		err = r.APIReader.Get(ctx, key, &secret)
	}
	switch {
	case err == nil && len(secret.Data[dataKey]) > 0:
		return string(secret.Data[dataKey]), nil
	case err != nil && !apierrors.IsNotFound(err):
		return "", err
	}
	return randomToken()
}
