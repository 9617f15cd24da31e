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
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/cooperator-dev/cooperator/api/hubstatus"
	"github.com/cooperator-dev/cooperator/api/policy"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
)

// Names and paths of the platform's configuration. The policy's names are defined once,
// in api/policy, with the document itself.
const (
	// PolicyConfigMapName carries the co-op's fee split and governance rules.
	PolicyConfigMapName = policy.ConfigMapName
	// PolicyKey is the key of the policy in the ConfigMap.
	PolicyKey = policy.Key
	// PolicyMountPath is where the platform containers find the policy.
	PolicyMountPath = policy.MountPath
	// PlatformPartOf is the part-of label value of the platform's workloads.
	PlatformPartOf = "cooperator-platform"
	// AdminTokenKey is the key of the platform admin token.
	AdminTokenKey = "token"
	// MigrateContainerSuffix names a database component's init container after it.
	MigrateContainerSuffix = "-migrate"
)

// BuildPolicyConfigMap carries the fee split and the governance rules to the platform, as
// the policy document of api/policy (defaults resolved, so the platform reads what the API
// server stored).
func BuildPolicyConfigMap(coop *coopv1.Cooperative) (*corev1.ConfigMap, error) {
	doc, current, err := policy.FromCooperative(coop).MarshalFiles()
	if err != nil {
		return nil, err
	}
	data := map[string]string{PolicyKey: string(doc)}
	if current != nil {
		// Beside the document: a platform of a version before the values in force reads
		// only the document, and would refuse it with them.
		data[policy.CurrentKey] = string(current)
	}
	return &corev1.ConfigMap{
		ObjectMeta: objectMeta(coop, coop.NamespaceName(), PolicyConfigMapName),
		Data:       data,
	}, nil

}

// BuildPlatformAdminSecret holds the platform's admin token for the co-op's staff.
func BuildPlatformAdminSecret(coop *coopv1.Cooperative, token string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: objectMeta(coop, coop.NamespaceName(), coopv1.PlatformAdminSecretName(coop)),
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{AdminTokenKey: []byte(token)},
	}
}

// componentLabels select a component's pods.
func componentLabels(coop *coopv1.Cooperative, component string) map[string]string {
	return map[string]string{coopv1.LabelComponent: component, coopv1.LabelInstance: coop.Name}
}

func platformMeta(coop *coopv1.Cooperative, name string) metav1.ObjectMeta {
	m := objectMeta(coop, coop.NamespaceName(), name)
	for k, v := range componentLabels(coop, name) {
		m.Labels[k] = v
	}
	m.Labels[coopv1.LabelPartOf] = PlatformPartOf
	return m
}

// restricted is the security context that Pod Security "restricted" requires.
func restrictedContainer() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		ReadOnlyRootFilesystem:   ptr.To(true),
		RunAsNonRoot:             ptr.To(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// BuildDeployment runs one component of the co-op's platform. A database component's pod
// migrates in an init container (`<component>-migrate`, same image and args), the only one
// that holds the owner's URI, and serves with the serving role's: whoever takes over the
// serving container cannot write what the serving role may not.
func BuildDeployment(coop *coopv1.Cooperative, cfg *hubconfig.Config, comp coopv1.Component, replicas int32) *appsv1.Deployment {
	image := comp.Image
	if image == "" {
		image = cfg.PlatformImage
	}
	secretEnv := func(name, secret string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: DatabaseURIKey}}}
	}
	coopName := corev1.EnvVar{Name: coopv1.EnvCoopName, Value: coop.Name}
	env := []corev1.EnvVar{
		coopName,
		{Name: coopv1.EnvListenAddress, Value: fmt.Sprintf(":%d", comp.Port)},
		{Name: policy.FileEnv, Value: policy.FilePath},
		{Name: coopv1.EnvAdminToken, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: coopv1.PlatformAdminSecretName(coop)}, Key: AdminTokenKey}}},
	}
	if len(cfg.IngressProxies) > 0 {
		env = append(env, corev1.EnvVar{Name: coopv1.EnvTrustedProxies, Value: strings.Join(cfg.IngressProxies, ",")})
	}
	var templateEnv []corev1.EnvVar
	for _, e := range comp.Env {
		templateEnv = append(templateEnv, corev1.EnvVar{Name: e.Name, Value: e.Value})
	}
	resources := func() corev1.ResourceRequirements {
		return corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: comp.CPU, corev1.ResourceMemory: comp.Memory},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: comp.Memory},
		}
	}
	var initContainers []corev1.Container
	if comp.Database {
		// The serving container serves as the serving role and never migrates; the init
		// container migrates as the owner, grants the serving role only what serving needs,
		// and exits before the serving container starts.
		env = append(env, secretEnv(coopv1.EnvDatabaseURL, ServingSecretName(coop)), corev1.EnvVar{Name: coopv1.EnvMigrate, Value: coopv1.MigrateNever})
		initContainers = []corev1.Container{{
			Name:  comp.Name + MigrateContainerSuffix,
			Image: image,
			Args:  comp.Args,
			Env: append([]corev1.EnvVar{
				coopName,
				secretEnv(coopv1.EnvDatabaseURL, ServingSecretName(coop)),
				secretEnv(coopv1.EnvMigrateDatabaseURL, coopv1.AppSecretName(coop)),
				{Name: coopv1.EnvMigrate, Value: coopv1.MigrateOnly},
			}, templateEnv...),
			Resources:       resources(),
			SecurityContext: restrictedContainer(),
		}}
	}
	ports := []corev1.ContainerPort{{Name: "http", ContainerPort: comp.Port, Protocol: corev1.ProtocolTCP}}
	if comp.MetricsPort != 0 {
		env = append(env, corev1.EnvVar{Name: coopv1.EnvMetricsListen, Value: fmt.Sprintf(":%d", comp.MetricsPort)})
		ports = append(ports, corev1.ContainerPort{Name: MetricsPortName, ContainerPort: comp.MetricsPort, Protocol: corev1.ProtocolTCP})
	}
	env = append(env, templateEnv...)
	probe := func(path string) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("http")}}}
	}
	selector := componentLabels(coop, comp.Name)
	return &appsv1.Deployment{
		ObjectMeta: platformMeta(coop, comp.Name),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: platformMeta(coop, comp.Name).Labels},
				Spec: corev1.PodSpec{
					AutomountServiceAccountToken: ptr.To(false),
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot:   ptr.To(true),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					InitContainers: initContainers,
					Containers: []corev1.Container{{
						Name:            comp.Name,
						Image:           image,
						Args:            comp.Args,
						Env:             env,
						Ports:           ports,
						Resources:       resources(),
						LivenessProbe:   probe(comp.HealthPath),
						ReadinessProbe:  probe(comp.ReadyPath),
						SecurityContext: restrictedContainer(),
						VolumeMounts:    []corev1.VolumeMount{{Name: "policy", MountPath: PolicyMountPath, ReadOnly: true}},
					}},
					Volumes: []corev1.Volume{{Name: "policy", VolumeSource: policyVolume()}},
				},
			},
		},
	}
}

// policyVolume is what the platform reads from the hub, in one folder (PolicyMountPath):
// the policy document (coop-policy, which must exist) and the hub status (coop-hub-status,
// written by the hub status controller, optional so that the platform starts before it).
func policyVolume() corev1.VolumeSource {
	return corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
		{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: PolicyConfigMapName}}},
		{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: hubstatus.ConfigMapName}, Optional: ptr.To(true)}},
	}}}
}

// BuildService exposes a component inside the cluster on port 80.
func BuildService(coop *coopv1.Cooperative, comp coopv1.Component) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: platformMeta(coop, comp.Name),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: componentLabels(coop, comp.Name),
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}},
		},
	}
}

// BuildPodDisruptionBudget keeps a component available during node drains; nil when it runs
// fewer than two replicas, where a budget would block every drain.
func BuildPodDisruptionBudget(coop *coopv1.Cooperative, comp coopv1.Component, replicas int32) *policyv1.PodDisruptionBudget {
	if replicas < 2 {
		return nil
	}
	one := intstr.FromInt32(1)
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: platformMeta(coop, comp.Name),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: &one,
			Selector:       &metav1.LabelSelector{MatchLabels: componentLabels(coop, comp.Name)},
		},
	}
}

// IngressName is the co-op's Ingress.
func IngressName(coop *coopv1.Cooperative) string { return coop.Name }

// BuildIngress routes spec.platform.host to the exposed components; nil without a host or
// an exposed component.
func BuildIngress(coop *coopv1.Cooperative, cfg *hubconfig.Config, components []coopv1.Component) *networkingv1.Ingress {
	host := coop.Spec.Platform.Host
	if host == "" {
		return nil
	}
	var paths []networkingv1.HTTPIngressPath
	for _, c := range components {
		if c.IngressPath == "" {
			continue
		}
		paths = append(paths, networkingv1.HTTPIngressPath{
			Path:     c.IngressPath,
			PathType: ptr.To(networkingv1.PathTypePrefix),
			Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
				Name: c.Name, Port: networkingv1.ServiceBackendPort{Name: "http"},
			}},
		})
	}
	if len(paths) == 0 {
		return nil
	}
	// Longest path first, so that /api wins over /.
	sort.SliceStable(paths, func(i, j int) bool { return len(paths[i].Path) > len(paths[j].Path) })
	ing := &networkingv1.Ingress{
		ObjectMeta: objectMeta(coop, coop.NamespaceName(), IngressName(coop)),
		Spec: networkingv1.IngressSpec{
			TLS:   []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: coop.Name + "-tls"}},
			Rules: []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}}}},
		},
	}
	ing.Labels[coopv1.LabelPartOf] = PlatformPartOf
	if cfg.IngressClassName != "" {
		ing.Spec.IngressClassName = ptr.To(cfg.IngressClassName)
	}
	return ing
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating a secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// adminToken returns the platform admin token already stored, or a new random one.
func (r *Reconciler) adminToken(ctx context.Context, s *scope) (string, error) {
	v, err := r.generatedSecret(ctx, s, client.ObjectKey{Namespace: s.coop.NamespaceName(), Name: coopv1.PlatformAdminSecretName(s.coop)}, AdminTokenKey)
	if err != nil {
		return "", fmt.Errorf("reading the platform admin token: %w", err)
	}
	return v, nil
}

// reconcilePlatform applies the template's workloads, the policy and the Ingress.
func (r *Reconciler) reconcilePlatform(ctx context.Context, s *scope) (ctrl.Result, error) {
	coop := s.coop
	if !s.tenancyReady() {
		s.setCondition(coopv1.ConditionPlatformReady, metav1.ConditionFalse, coopv1.ReasonProgressing, "waiting for the tenancy")
		return ctrl.Result{}, r.unrouteOtherHosts(ctx, coop)
	}
	version, reason, msg := coopv1.ResolveTemplate(coop, s.template)
	if version == nil {
		s.setCondition(coopv1.ConditionPlatformReady, metav1.ConditionFalse, reason, msg)
		return ctrl.Result{}, r.unrouteOtherHosts(ctx, coop)
	}
	policyMap, err := BuildPolicyConfigMap(coop)
	if err != nil {
		return ctrl.Result{}, err
	}
	token, err := r.adminToken(ctx, s)
	if err != nil {
		return ctrl.Result{}, err
	}
	objs := []client.Object{policyMap, BuildPlatformAdminSecret(coop, token)}
	keep := map[string]bool{}
	for _, comp := range version.Components {
		// An imported co-op's platform waits at zero until its data is restored.
		replicas := platformReplicas(comp, s.topology.Primary && !coop.AwaitingRestore())
		objs = append(objs, BuildDeployment(coop, &r.Config, comp, replicas), BuildService(coop, comp))
		if pdb := BuildPodDisruptionBudget(coop, comp, replicas); pdb != nil {
			objs = append(objs, pdb)
			keep["PodDisruptionBudget/"+comp.Name] = true
		}
		keep["Deployment/"+comp.Name], keep["Service/"+comp.Name] = true, true
	}
	ing := BuildIngress(coop, &r.Config, version.Components)
	hostTaken, hostUndecided, takenBecause := false, false, ""
	if ing != nil {
		hostTaken, takenBecause, err = r.hostTaken(ctx, coop)
		switch {
		case errors.Is(err, errClaimsBehind):
			// The watch numbers the claims a moment after the cache holds them: the
			// Ingress stays as it is (neither applied nor pruned) until then.
			log.FromContext(ctx).V(1).Info("Waiting for the claims of the host to be numbered", "host", coop.Spec.Platform.Host)
			hostUndecided = true
		case err != nil:
			return ctrl.Result{}, err
		}
	}
	switch {
	case hostUndecided:
		keep["Ingress/"+ing.Name] = true
	case ing != nil && !hostTaken:
		objs = append(objs, ing)
		keep["Ingress/"+ing.Name] = true
		coop.Status.Endpoints.URL = "https://" + coop.Spec.Platform.Host
	default:
		coop.Status.Endpoints.URL = ""
	}
	if err := r.applyIndependent(ctx, s, objs...); err != nil {
		s.setCondition(coopv1.ConditionPlatformReady, metav1.ConditionFalse, coopv1.ReasonApplyFailed, err.Error())
		return ctrl.Result{}, err
	}
	if err := r.pruneStalePlatform(ctx, coop, keep); err != nil {
		return ctrl.Result{}, err
	}
	coop.Status.Platform = coopv1.PlatformStatus{Template: coop.TemplateName(), Version: version.Version}

	var notAvailable []string
	for _, comp := range version.Components {
		var d appsv1.Deployment
		if err := r.Client.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: comp.Name}, &d); err != nil {
			if apierrors.IsNotFound(err) {
				notAvailable = append(notAvailable, comp.Name)
				continue
			}
			return ctrl.Result{}, fmt.Errorf("reading Deployment %s: %w", comp.Name, err)
		}
		if !deploymentAvailable(&d) {
			notAvailable = append(notAvailable, comp.Name)
		}
	}
	setPlatformCondition(coop, version, notAvailable)
	switch {
	case hostTaken:
		s.setCondition(coopv1.ConditionPlatformReady, metav1.ConditionFalse, coopv1.ReasonHostTaken, fmt.Sprintf(
			"host %s is another co-op's (%s): this co-op's platform has no Ingress until spec.platform.host names a host of its own or the other gives it up", coop.Spec.Platform.Host, takenBecause))
	case hostUndecided:
		s.setCondition(coopv1.ConditionPlatformReady, metav1.ConditionFalse, coopv1.ReasonProgressing,
			fmt.Sprintf("deciding which co-op holds host %s", coop.Spec.Platform.Host))
		return ctrl.Result{RequeueAfter: 100 * time.Millisecond}, nil
	}
	return ctrl.Result{}, nil
}

// setPlatformCondition sets PlatformReady from the template version applied and the
// components whose Deployment is not available: True only when none is; while some are
// not, the reason says whether they wait for the database (DatabaseReady of coop, set by
// the phase before) or not.
func setPlatformCondition(coop *coopv1.Cooperative, version *coopv1.TemplateVersion, notAvailable []string) {
	set := func(status metav1.ConditionStatus, reason, message string) {
		setCondition(coop, coopv1.ConditionPlatformReady, status, reason, message)
	}
	switch {
	case len(notAvailable) == 0:
		set(metav1.ConditionTrue, coopv1.ReasonReady,
			fmt.Sprintf("%s %s: %d components available", coop.TemplateName(), version.Version, len(version.Components)))
	case !meta.IsStatusConditionTrue(coop.Status.Conditions, coopv1.ConditionDatabaseReady):
		set(metav1.ConditionFalse, coopv1.ReasonWaitingForDatabase,
			fmt.Sprintf("waiting for the database; not available: %s", strings.Join(notAvailable, ", ")))
	default:
		set(metav1.ConditionFalse, coopv1.ReasonDeploymentsNotAvailable, fmt.Sprintf("not available: %s", strings.Join(notAvailable, ", ")))
	}
}

// deploymentAvailable says whether the Deployment controller has rolled out the current
// spec and all its replicas are available.
func deploymentAvailable(d *appsv1.Deployment) bool {
	want := ptr.Deref(d.Spec.Replicas, 1)
	return d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas >= want && d.Status.AvailableReplicas >= want
}

// unrouteOtherHosts deletes the co-op's Ingress when it routes a host other than the one
// spec.platform.host names. Without its tenancy or its template the Ingress cannot be
// rebuilt, and it must not keep a host the co-op gave up: that host's Ingress holds it
// from every other co-op.
func (r *Reconciler) unrouteOtherHosts(ctx context.Context, coop *coopv1.Cooperative) error {
	ing := &networkingv1.Ingress{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: IngressName(coop)}, ing); err != nil {
		return client.IgnoreNotFound(err)
	}
	if hosts := ingressHosts(ing); !metav1.IsControlledBy(ing, coop) || len(hosts) == 1 && hosts[0] == coop.Spec.Platform.Host {
		return nil
	}
	if err := r.Client.Delete(ctx, ing); apierrors.IsForbidden(err) {
		// The tenant RoleBinding is not in force (yet, or any more): the next reconcile
		// tries again, and this one still reports the co-op's state.
		log.FromContext(ctx).V(1).Info("Not allowed to delete the Ingress of a host the co-op no longer names yet", "ingress", ing.Name)
		return nil
	} else if client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting Ingress %s, which routes a host the co-op no longer names: %w", ing.Name, err)
	}
	coop.Status.Endpoints.URL = ""
	r.Recorder.Eventf(coop, nil, corev1.EventTypeNormal, "Pruned", "Prune", "Deleted Ingress %s/%s, which routes a host spec.platform.host no longer names", ing.Namespace, ing.Name)
	return nil
}

// pruneStalePlatform deletes platform objects of components the template no longer has.
func (r *Reconciler) pruneStalePlatform(ctx context.Context, coop *coopv1.Cooperative, keep map[string]bool) error {
	sel := client.MatchingLabels{coopv1.LabelCooperative: coop.Name, coopv1.LabelPartOf: PlatformPartOf}
	in := client.InNamespace(coop.NamespaceName())
	lists := map[string]client.ObjectList{
		"Deployment": &appsv1.DeploymentList{}, "Service": &corev1.ServiceList{},
		"PodDisruptionBudget": &policyv1.PodDisruptionBudgetList{}, "Ingress": &networkingv1.IngressList{},
	}
	for kind, list := range lists {
		if err := r.Client.List(ctx, list, in, sel); err != nil {
			return fmt.Errorf("listing %ss: %w", kind, err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return fmt.Errorf("reading %ss: %w", kind, err)
		}
		for _, item := range items {
			obj, ok := item.(client.Object)
			if !ok || keep[kind+"/"+obj.GetName()] || !metav1.IsControlledBy(obj, coop) {
				continue
			}
			if err := r.Client.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
				return fmt.Errorf("deleting stale %s %s: %w", kind, obj.GetName(), err)
			}
			r.Recorder.Eventf(coop, nil, corev1.EventTypeNormal, "Pruned", "Prune", "Deleted %s %s/%s, no longer in the template", kind, obj.GetNamespace(), obj.GetName())
		}
	}
	return nil
}
