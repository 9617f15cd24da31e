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

package manager

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// SecretsOutside returns c with its reads of Secrets outside namespace (the operator's)
// sent to the API server through reader. The operator may not list or watch Secrets across
// the cluster (it holds Secret rights only in its own namespace and, through the
// ClusterRole cooperator-tenant, in the namespaces it created), so its cache holds those of
// its own namespace only; a co-op's Secrets are read one by one, by name, where the
// operator's RoleBinding there allows it.
func SecretsOutside(c client.Client, reader client.Reader, namespace string) client.Client {
	return &secretsOutside{Client: c, reader: reader, namespace: namespace}
}

type secretsOutside struct {
	client.Client
	reader    client.Reader
	namespace string
}

func (s *secretsOutside) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if _, ok := obj.(*corev1.Secret); ok && key.Namespace != s.namespace {
		if err := s.reader.Get(ctx, key, obj, opts...); err != nil {
			return err
		}
		// As the cache does: the server-side apply helper compares the whole object.
		obj.GetObjectKind().SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
		return nil
	}
	return s.Client.Get(ctx, key, obj, opts...)
}

func (s *secretsOutside) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if _, ok := list.(*corev1.SecretList); ok {
		o := (&client.ListOptions{}).ApplyOptions(opts)
		if o.Namespace != s.namespace {
			if err := s.reader.List(ctx, list, opts...); err != nil {
				return err
			}
			for i := range list.(*corev1.SecretList).Items {
				list.(*corev1.SecretList).Items[i].SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
			}
			return nil
		}
	}
	return s.Client.List(ctx, list, opts...)
}
