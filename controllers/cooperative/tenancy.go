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

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/controllers/shared/ssa"
)

// CNPGNamespace is where the CloudNativePG operator runs; it reaches the instances.
const CNPGNamespace = "cnpg-system"

// commonLabels are on every object made for a co-op.
func commonLabels(coop *coopv1.Cooperative) map[string]string {
	return map[string]string{
		coopv1.LabelManagedBy:   coopv1.ManagedByValue,
		coopv1.LabelCooperative: coop.Name,
	}
}

func ownerRef(coop *coopv1.Cooperative) []metav1.OwnerReference {
	return []metav1.OwnerReference{*metav1.NewControllerRef(coop, coopv1.GroupVersion.WithKind("Cooperative"))}
}

// objectMeta is the metadata of a child object of coop.
func objectMeta(coop *coopv1.Cooperative, namespace, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:            name,
		Namespace:       namespace,
		Labels:          commonLabels(coop),
		OwnerReferences: ownerRef(coop),
	}
}

// BuildNamespace returns the co-op's namespace, with Pod Security "restricted" enforced.
func BuildNamespace(coop *coopv1.Cooperative) *corev1.Namespace {
	ns := &corev1.Namespace{ObjectMeta: objectMeta(coop, "", coop.NamespaceName())}
	ns.Labels[coopv1.LabelDatabaseTier] = tierLabel(coop)
	for _, mode := range []string{"enforce", "audit", "warn"} {
		ns.Labels["pod-security.kubernetes.io/"+mode] = "restricted"
		ns.Labels["pod-security.kubernetes.io/"+mode+"-version"] = "latest"
	}
	return ns
}

// BuildResourceQuota returns the quota of the co-op's plan, and the most CooperativeExports
// its namespace may hold (their dumps are on the hub's shared bill).
func BuildResourceQuota(coop *coopv1.Cooperative, plan *coopv1.HostingPlan) *corev1.ResourceQuota {
	q := plan.Spec.Quota
	return &corev1.ResourceQuota{
		ObjectMeta: objectMeta(coop, coop.NamespaceName(), coopv1.QuotaName),
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
			corev1.ResourceRequestsCPU:     q.CPU,
			corev1.ResourceRequestsMemory:  q.Memory,
			corev1.ResourceRequestsStorage: q.Storage,
			corev1.ResourcePods:            *resourceInt(int64(q.Pods)),
			coopv1.ExportQuotaResource:     *resourceInt(coopv1.MaxCooperativeExports),
		}},
	}
}

// BuildLimitRange gives containers that declare no requests the plan's defaults, so every
// container counts against the quota and is metered.
func BuildLimitRange(coop *coopv1.Cooperative, plan *coopv1.HostingPlan) *corev1.LimitRange {
	d := plan.Spec.DefaultRequests
	return &corev1.LimitRange{
		ObjectMeta: objectMeta(coop, coop.NamespaceName(), coopv1.LimitRangeName),
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type: corev1.LimitTypeContainer,
			DefaultRequest: corev1.ResourceList{
				corev1.ResourceCPU:    d.CPU,
				corev1.ResourceMemory: d.Memory,
			},
		}}},
	}
}

// subjects turns the co-op's admins into RBAC subjects.
func subjects(coop *coopv1.Cooperative) []rbacv1.Subject {
	out := make([]rbacv1.Subject, 0, len(coop.Spec.Admins))
	for _, a := range coop.Spec.Admins {
		s := rbacv1.Subject{Kind: a.Kind, Name: a.Name, Namespace: a.Namespace}
		if a.Kind != rbacv1.ServiceAccountKind {
			s.APIGroup = rbacv1.GroupName
		}
		out = append(out, s)
	}
	return out
}

// ServingSecretName is the Secret, in the co-op namespace, of the platform's serving role
// (ServingRoleName): of type basic-auth (its username and password; on the dedicated tier
// the passwordSecret of the Cluster's managed role), with the role's connection URI under
// DatabaseURIKey. The platform serves with it; it migrates with the app Secret's.
func ServingSecretName(coop *coopv1.Cooperative) string { return coop.Name + coopv1.ServingSuffix }

// DatabaseURIKey is the key of the postgresql:// connection URI in the app Secret and in
// the serving Secret.
const DatabaseURIKey = "uri"

// AdminClusterRole is the hub-wide ClusterRole (shipped in config/rbac and the chart) with
// what every co-op admin may read in its own namespace. Each co-op namespace binds it to the
// co-op's admins; the operator may bind that one role and no other.
const AdminClusterRole = "cooperator-coop-admin"

// AdminViewBindingName binds AdminClusterRole in a co-op namespace.
const AdminViewBindingName = "coop-admin-view"

var readVerbs = []string{"get", "list", "watch"}

// BuildAdminRole is what a co-op's admins may do in its namespace beyond AdminClusterRole:
// read the three Secrets meant for them (the database credentials, the platform admin
// token and the link to their latest export) and ask for an on-demand backup. They cannot list Secrets, so they never see the
// object store credentials, and they cannot exec into pods.
func BuildAdminRole(coop *coopv1.Cooperative) *rbacv1.Role {
	return &rbacv1.Role{
		ObjectMeta: objectMeta(coop, coop.NamespaceName(), coopv1.AdminRoleName),
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}, ResourceNames: []string{coopv1.AppSecretName(coop), coopv1.PlatformAdminSecretName(coop), coopv1.ExportDownloadSecretName(coop)}},
			{APIGroups: []string{"postgresql.cnpg.io"}, Resources: []string{"backups"}, Verbs: []string{"create"}},
		},
	}
}

// BuildAdminRoleBindings bind the co-op's admins to its admin Role and to AdminClusterRole
// in its namespace.
func BuildAdminRoleBindings(coop *coopv1.Cooperative) []*rbacv1.RoleBinding {
	return []*rbacv1.RoleBinding{
		{
			ObjectMeta: objectMeta(coop, coop.NamespaceName(), coopv1.AdminRoleName),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: coopv1.AdminRoleName},
			Subjects:   subjects(coop),
		},
		{
			ObjectMeta: objectMeta(coop, coop.NamespaceName(), AdminViewBindingName),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: AdminClusterRole},
			Subjects:   subjects(coop),
		},
	}
}

// BuildClusterRole lets the co-op's admins read and update their own Cooperative and no
// other, and read the hub's plans, templates and cost reports.
func BuildClusterRole(coop *coopv1.Cooperative) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{
		ObjectMeta: objectMeta(coop, "", coopv1.ClusterRoleName(coop)),
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{coopv1.GroupVersion.Group}, Resources: []string{"cooperatives"}, Verbs: []string{"get", "update", "patch"}, ResourceNames: []string{coop.Name}},
			{APIGroups: []string{coopv1.GroupVersion.Group}, Resources: []string{"cooperatives/status"}, Verbs: []string{"get"}, ResourceNames: []string{coop.Name}},
			{APIGroups: []string{coopv1.GroupVersion.Group}, Resources: []string{"hostingplans", "platformtemplates", "costreports"}, Verbs: readVerbs},
		},
	}
}

// BuildClusterRoleBinding binds the co-op's admins to its ClusterRole.
func BuildClusterRoleBinding(coop *coopv1.Cooperative) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{
		ObjectMeta: objectMeta(coop, "", coopv1.ClusterRoleName(coop)),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: coopv1.ClusterRoleName(coop)},
		Subjects:   subjects(coop),
	}
}

// reconcileTenancy applies the namespace and everything that isolates and bounds it.
func (r *Reconciler) reconcileTenancy(ctx context.Context, s *scope) (ctrl.Result, error) {
	coop := s.coop
	if s.plan == nil {
		s.setCondition(coopv1.ConditionTenancyReady, metav1.ConditionFalse, coopv1.ReasonPlanNotFound,
			fmt.Sprintf("HostingPlan %q does not exist", s.planName))
		return ctrl.Result{}, nil
	}
	if msg := planViolation(coop, s.plan); msg != "" {
		s.setCondition(coopv1.ConditionTenancyReady, metav1.ConditionFalse, coopv1.ReasonPlanViolation, msg)
		return ctrl.Result{}, nil
	}
	// The namespace, then the operator's own rights in it, in force before anything else is
	// written there.
	if err := r.applyAll(ctx, s, BuildNamespace(coop)); err != nil {
		s.setCondition(coopv1.ConditionTenancyReady, metav1.ConditionFalse, coopv1.ReasonApplyFailed, err.Error())
		return ctrl.Result{}, err
	}
	binding := hubconfig.BuildOperatorRoleBinding(objectMeta(coop, coop.NamespaceName(), ""), &r.Config)
	res, err := ssa.ApplyFetch(ctx, r.Client, binding, &rbacv1.RoleBinding{})
	if err := r.applied(ctx, s, binding, res, err); err != nil {
		s.setCondition(coopv1.ConditionTenancyReady, metav1.ConditionFalse, coopv1.ReasonApplyFailed, err.Error())
		return ctrl.Result{}, err
	}
	if res != ssa.Unchanged {
		inForce, err := hubconfig.WaitForTenantAccess(ctx, r.Client, coop.NamespaceName())
		if err != nil {
			return ctrl.Result{}, err
		}
		if !inForce {
			msg := fmt.Sprintf("waiting for the operator's RoleBinding %s/%s to take effect", coop.NamespaceName(), hubconfig.OperatorBindingName)
			s.setCondition(coopv1.ConditionTenancyReady, metav1.ConditionFalse, coopv1.ReasonProgressing, msg)
			return ctrl.Result{RequeueAfter: r.Config.RecheckInterval.Duration}, nil
		}
	}
	objs := []client.Object{BuildResourceQuota(coop, s.plan), BuildLimitRange(coop, s.plan)}
	for _, np := range BuildNetworkPolicies(coop, s.plan, &r.Config) {
		objs = append(objs, np)
	}
	objs = append(objs, BuildAdminRole(coop))
	for _, rb := range BuildAdminRoleBindings(coop) {
		objs = append(objs, rb)
	}
	objs = append(objs, BuildClusterRole(coop), BuildClusterRoleBinding(coop))
	if err := r.applyIndependent(ctx, s, objs...); err != nil {
		s.setCondition(coopv1.ConditionTenancyReady, metav1.ConditionFalse, coopv1.ReasonApplyFailed, err.Error())
		return ctrl.Result{}, err
	}
	s.setCondition(coopv1.ConditionTenancyReady, metav1.ConditionTrue, coopv1.ReasonReady,
		fmt.Sprintf("namespace %s with its network policies, roles and the quota of plan %s applied (the policies isolate it where the cluster's network plugin enforces them)", coop.NamespaceName(), s.plan.Name))
	coop.Status.Namespace = coop.NamespaceName()
	return ctrl.Result{}, nil
}

// planViolation says what the spec asks for beyond the plan, or "". The webhook refuses such
// a spec at apply time; this catches a plan that changed after the co-op was admitted.
func planViolation(coop *coopv1.Cooperative, plan *coopv1.HostingPlan) string {
	if errs := planErrors(coop, plan, field.NewPath("spec")); len(errs) > 0 {
		return errs.ToAggregate().Error()
	}
	return ""
}
