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

package v1alpha1

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// EnvVar is an environment variable with a literal value.
type EnvVar struct {
	// name of the variable.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[A-Za-z_][A-Za-z0-9_]*$`
	Name string `json:"name"`

	// value of the variable.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	Value string `json:"value,omitempty"`
}

// Component is one workload of a platform: a Deployment and its Service.
// +kubebuilder:validation:XValidation:rule="!has(self.metricsPort) || !has(self.port) || self.metricsPort != self.port",message="metricsPort must differ from port",fieldPath=".metricsPort"
type Component struct {
	// name of the component; the Deployment and Service are named after it.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// image of the component. Defaults to the operator's own image, whose platform
	// subcommand serves every vertical.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Image string `json:"image,omitempty"`

	// args of the container.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=1024
	Args []string `json:"args,omitempty"`

	// env of the container, besides what the operator injects (COOP_NAME, LISTEN_ADDRESS,
	// METRICS_LISTEN, COOP_POLICY_FILE, ADMIN_TOKEN, and for a database component
	// DATABASE_URL and MIGRATE=false), and of its migration init container, if any,
	// besides COOP_NAME, DATABASE_URL, MIGRATE_DATABASE_URL and MIGRATE=only.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(e, !(e.name in ['COOP_NAME', 'LISTEN_ADDRESS', 'METRICS_LISTEN', 'ADMIN_TOKEN', 'DATABASE_URL', 'MIGRATE_DATABASE_URL', 'MIGRATE', 'TRUSTED_PROXIES', 'COOP_POLICY_FILE']))",message="sets a variable the operator injects (COOP_NAME, LISTEN_ADDRESS, METRICS_LISTEN, ADMIN_TOKEN, DATABASE_URL, MIGRATE_DATABASE_URL, MIGRATE, TRUSTED_PROXIES, COOP_POLICY_FILE): leave it to the operator"
	Env []EnvVar `json:"env,omitempty"`

	// port the component listens on for HTTP.
	// +optional
	// +kubebuilder:default=8080
	// +kubebuilder:validation:Minimum=1024
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port,omitempty"`

	// metricsPort the component serves Prometheus metrics on, apart from port: the
	// container port named metrics, which no Service or Ingress exposes and the hub's
	// monitoring reaches directly. The operator passes it as METRICS_LISTEN. Unset: the
	// component declares no metrics port.
	// +optional
	// +kubebuilder:validation:Minimum=1024
	// +kubebuilder:validation:Maximum=65535
	MetricsPort int32 `json:"metricsPort,omitempty"`

	// replicas of the component. A PodDisruptionBudget keeps one available when there are
	// two or more.
	// +optional
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=20
	Replicas *int32 `json:"replicas,omitempty"`

	// path the Ingress routes to this component; the component is not exposed when empty.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^/.*$`
	IngressPath string `json:"ingressPath,omitempty"`

	// database makes the component receive the co-op's database credentials. Its pod
	// first runs an init container, <name>-migrate, with the component's image and args
	// and MIGRATE=only, the URI of the platform's serving role as DATABASE_URL and the
	// database owner's as MIGRATE_DATABASE_URL: it migrates as the owner, grants the
	// serving role what serving needs, and exits (0 once done; non-zero otherwise, and is
	// restarted). It gets no policy, admin token or service account token. The component's
	// container then gets DATABASE_URL, the serving role's, and MIGRATE=false: it must not
	// migrate, and never holds the owner's URI.
	// +optional
	Database bool `json:"database,omitempty"`

	// cpu request of the container.
	// +optional
	// +kubebuilder:default="100m"
	CPU resource.Quantity `json:"cpu,omitzero"`

	// memory request (and limit) of the container.
	// +optional
	// +kubebuilder:default="128Mi"
	Memory resource.Quantity `json:"memory,omitzero"`

	// healthPath answers the liveness probe; readyPath the readiness probe.
	// +optional
	// +kubebuilder:default="/healthz"
	HealthPath string `json:"healthPath,omitempty"`

	// readyPath answers the readiness probe.
	// +optional
	// +kubebuilder:default="/readyz"
	ReadyPath string `json:"readyPath,omitempty"`
}

// TemplateVersion is one version of a platform's workloads.
type TemplateVersion struct {
	// version, such as 1.0.
	// +required
	// +kubebuilder:validation:Pattern=`^[0-9]+\.[0-9]+(\.[0-9]+)?$`
	// +kubebuilder:validation:MaxLength=32
	Version string `json:"version"`

	// components of the platform at this version.
	// +required
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=10
	Components []Component `json:"components"`
}

// PlatformTemplateSpec is a recipe for the workloads of one vertical, versioned.
// +kubebuilder:validation:XValidation:rule="self.versions.exists(v, v.version == self.defaultVersion)",message="defaultVersion must be one of versions",fieldPath=".defaultVersion"
type PlatformTemplateSpec struct {
	// vertical this template serves.
	// +required
	Vertical Vertical `json:"vertical"`

	// description of the platform.
	// +optional
	// +kubebuilder:validation:MaxLength=1000
	Description string `json:"description,omitempty"`

	// defaultVersion is the version a new co-op gets when it pins none.
	// +required
	// +kubebuilder:validation:MaxLength=32
	DefaultVersion string `json:"defaultVersion"`

	// versions of the template. A co-op keeps its version until it asks for another.
	// +required
	// +listType=map
	// +listMapKey=version
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=20
	Versions []TemplateVersion `json:"versions"`
}

// PlatformTemplate is the set of workloads of one vertical, versioned like a recipe.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,categories=cooperator
// +kubebuilder:printcolumn:name="Vertical",type=string,JSONPath=`.spec.vertical`
// +kubebuilder:printcolumn:name="Default",type=string,JSONPath=`.spec.defaultVersion`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type PlatformTemplate struct {
	metav1.TypeMeta `json:",inline"`

	// metadata of the object.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the recipe.
	// +required
	Spec PlatformTemplateSpec `json:"spec"`
}

// +kubebuilder:object:root=true

// PlatformTemplateList is a list of PlatformTemplates.
type PlatformTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PlatformTemplate `json:"items"`
}

func init() {
	SchemeBuilder.Register(&PlatformTemplate{}, &PlatformTemplateList{})
}

// Version returns the template version with the given name, or nil.
func (t *PlatformTemplate) Version(version string) *TemplateVersion {
	for i := range t.Spec.Versions {
		if t.Spec.Versions[i].Version == version {
			return &t.Spec.Versions[i]
		}
	}
	return nil
}

// ResolveTemplate finds the co-op's version of its PlatformTemplate tmpl (nil: it does not
// exist), and says why not: a reason and a message. The operator's platform and the
// governance loop's check of a passed platform change share it.
func ResolveTemplate(coop *Cooperative, tmpl *PlatformTemplate) (*TemplateVersion, string, string) {
	name := coop.TemplateName()
	if tmpl == nil {
		return nil, ReasonTemplateNotFound, fmt.Sprintf("PlatformTemplate %q does not exist", name)
	}
	if tmpl.Spec.Vertical != coop.Spec.Vertical {
		return nil, ReasonTemplateMismatch, fmt.Sprintf("PlatformTemplate %q serves vertical %s, the co-op is %s", name, tmpl.Spec.Vertical, coop.Spec.Vertical)
	}
	version := coop.Spec.Platform.Version
	if version == "" {
		version = coop.Status.Platform.Version
	}
	if version == "" || coop.Status.Platform.Template != name && coop.Spec.Platform.Version == "" {
		version = tmpl.Spec.DefaultVersion
	}
	v := tmpl.Version(version)
	if v == nil {
		known := make([]string, 0, len(tmpl.Spec.Versions))
		for _, tv := range tmpl.Spec.Versions {
			known = append(known, tv.Version)
		}
		return nil, ReasonTemplateNotFound, fmt.Sprintf("PlatformTemplate %q has no version %q (it has %s)", name, version, strings.Join(known, ", "))
	}
	return v, "", ""
}

// TemplateName is the co-op's PlatformTemplate: the one it names, or its vertical's.
func (coop *Cooperative) TemplateName() string {
	if coop.Spec.Platform.Template != "" {
		return coop.Spec.Platform.Template
	}
	return string(coop.Spec.Vertical)
}
