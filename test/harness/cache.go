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

package harness

import (
	"context"
	"errors"
	"fmt"
	"maps"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// A manager's client reads from its informer cache, which sees a write some time after the
// API server acknowledged it. A test that reconciles by hand through that client, or that
// judges what a reconcile from it does, must first wait until the cache holds what the API
// server holds: the functions below say whether it does, as an error saying what differs,
// for use in an Eventually.

// ObjectCached returns nil when cached holds obj (read by its key) at the resourceVersion
// live has, or when neither has it.
func ObjectCached(ctx context.Context, cached, live client.Reader, obj client.Object) error {
	key := client.ObjectKeyFromObject(obj)
	want, err := resourceVersion(ctx, live, key, obj.DeepCopyObject().(client.Object))
	if err != nil {
		return err
	}
	got, err := resourceVersion(ctx, cached, key, obj.DeepCopyObject().(client.Object))
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%T %s: the cache has resourceVersion %q, the API server %q", obj, key, got, want)
	}
	return nil
}

func resourceVersion(ctx context.Context, r client.Reader, key client.ObjectKey, obj client.Object) (string, error) {
	if err := r.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return "", nil
		}
		return "", err
	}
	return obj.GetResourceVersion(), nil
}

// ListCached returns nil when cached lists, with opts, the objects live lists, each at the
// resourceVersion live has.
func ListCached(ctx context.Context, cached, live client.Reader, list client.ObjectList, opts ...client.ListOption) error {
	want, err := listVersions(ctx, live, list.DeepCopyObject().(client.ObjectList), opts...)
	if err != nil {
		return err
	}
	got, err := listVersions(ctx, cached, list.DeepCopyObject().(client.ObjectList), opts...)
	if err != nil {
		return err
	}
	if !maps.Equal(got, want) {
		return fmt.Errorf("%T: the cache holds %v, the API server %v", list, got, want)
	}
	return nil
}

// listVersions lists with r and returns namespace/name -> resourceVersion.
func listVersions(ctx context.Context, r client.Reader, list client.ObjectList, opts ...client.ListOption) (map[string]string, error) {
	if err := r.List(ctx, list, opts...); err != nil {
		return nil, err
	}
	out := map[string]string{}
	err := meta.EachListItem(list, func(o runtime.Object) error {
		obj, ok := o.(client.Object)
		if !ok {
			return fmt.Errorf("%T is not an object", o)
		}
		out[client.ObjectKeyFromObject(obj).String()] = obj.GetResourceVersion()
		return nil
	})
	return out, err
}

// CooperativeCached returns nil when cached (the operator manager's client) holds what live
// holds of everything the Cooperative reconciler reads for co-op name: the Cooperative,
// the objects it made for the co-op, the Backups of its namespace, the Secrets and the
// Clusters of the operator namespace, the plans, templates and FederationPeers.
func CooperativeCached(ctx context.Context, cached, live client.Reader, name, operatorNamespace string) error {
	errs := []error{ObjectCached(ctx, cached, live, withName(&coopv1.Cooperative{}, name))}
	// The objects the operator made for the co-op; CloudNativePG's carry the co-op label
	// too (the Cluster's inherited metadata), and the manager does not cache them. Secrets
	// are cached in the operator namespace only (below): the operator reads a co-op's from
	// the API server.
	owned := client.MatchingLabels{coopv1.LabelCooperative: name, coopv1.LabelManagedBy: coopv1.ManagedByValue}
	for _, list := range []client.ObjectList{
		&corev1.NamespaceList{}, &corev1.ResourceQuotaList{}, &corev1.LimitRangeList{}, &corev1.ConfigMapList{},
		&corev1.ServiceList{}, &appsv1.DeploymentList{}, &networkingv1.NetworkPolicyList{},
		&networkingv1.IngressList{}, &policyv1.PodDisruptionBudgetList{}, &rbacv1.RoleList{}, &rbacv1.RoleBindingList{},
		&rbacv1.ClusterRoleList{}, &rbacv1.ClusterRoleBindingList{}, &cnpgv1.ClusterList{}, &cnpgv1.ScheduledBackupList{},
		&cnpgv1.DatabaseList{}, &cnpgv1.DatabaseRoleList{}, &barmanv1.ObjectStoreList{},
	} {
		errs = append(errs, ListCached(ctx, cached, live, list, owned))
	}
	errs = append(errs,
		// The manager caches only the Backups of a Cluster (those CloudNativePG labels).
		ListCached(ctx, cached, live, &cnpgv1.BackupList{}, client.InNamespace(coopv1.NamespacePrefix+name), client.HasLabels{coopv1.ClusterLabel}),
		ListCached(ctx, cached, live, &corev1.SecretList{}, client.InNamespace(operatorNamespace)),
		ListCached(ctx, cached, live, &cnpgv1.ClusterList{}, client.InNamespace(operatorNamespace), client.MatchingLabels{coopv1.LabelManagedBy: coopv1.ManagedByValue}),
		ListCached(ctx, cached, live, &coopv1.HostingPlanList{}),
		ListCached(ctx, cached, live, &coopv1.PlatformTemplateList{}),
		ListCached(ctx, cached, live, &coopv1.FederationPeerList{}),
	)
	return errors.Join(errs...)
}

func withName[T client.Object](obj T, name string) T {
	obj.SetName(name)
	return obj
}

// ControllerIdle returns nil when the controller of that name (in any manager of this
// process) has nothing in its queue that is due and no reconcile running, as its
// controller-runtime metrics say. Items requeued for later are not counted.
func ControllerIdle(name string) error {
	families, err := metrics.Registry.Gather()
	if err != nil {
		return err
	}
	var depth, active float64
	found := false
	for _, f := range families {
		switch f.GetName() {
		case "workqueue_depth", "controller_runtime_active_workers":
		default:
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if (l.GetName() == "name" || l.GetName() == "controller") && l.GetValue() == name {
					found = true
					if f.GetName() == "workqueue_depth" {
						depth += m.GetGauge().GetValue()
					} else {
						active += m.GetGauge().GetValue()
					}
					break
				}
			}
		}
	}
	switch {
	case !found:
		return fmt.Errorf("no metrics of a controller %q", name)
	case depth > 0 || active > 0:
		return fmt.Errorf("controller %q: %v requests queued, %v reconciles running", name, depth, active)
	}
	return nil
}
