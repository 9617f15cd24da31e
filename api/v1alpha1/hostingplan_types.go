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
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PlanQuota is the hard limit of a co-op's namespace: the sum of requests of all its pods
// and volumes. It becomes the namespace's ResourceQuota.
type PlanQuota struct {
	// cpu requests of all pods together, such as 4 or 2500m.
	// +required
	CPU resource.Quantity `json:"cpu"`

	// memory requests of all pods together, such as 8Gi.
	// +required
	Memory resource.Quantity `json:"memory"`

	// storage requested by all volume claims together, such as 50Gi.
	// +required
	Storage resource.Quantity `json:"storage"`

	// pods that may exist at once.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	Pods int32 `json:"pods"`
}

// ContainerDefaults are the requests given to a container that declares none, so that every
// container counts against the quota and is metered.
type ContainerDefaults struct {
	// cpu request of a container that declares none.
	// +optional
	// +kubebuilder:default="100m"
	CPU resource.Quantity `json:"cpu,omitzero"`

	// memory request of a container that declares none.
	// +optional
	// +kubebuilder:default="128Mi"
	Memory resource.Quantity `json:"memory,omitzero"`
}

// HostingPlanSpec is a quota tier and what it allows.
type HostingPlanSpec struct {
	// displayName of the plan.
	// +optional
	// +kubebuilder:validation:MaxLength=100
	DisplayName string `json:"displayName,omitempty"`

	// quota of a co-op's namespace on this plan.
	// +required
	Quota PlanQuota `json:"quota"`

	// defaultRequests of containers that declare none.
	// +optional
	// +kubebuilder:default={}
	DefaultRequests ContainerDefaults `json:"defaultRequests,omitzero"`

	// maxDatabaseInstances a co-op on this plan may run on the dedicated tier.
	// +optional
	// +kubebuilder:default=3
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=5
	MaxDatabaseInstances int32 `json:"maxDatabaseInstances,omitempty"`

	// databaseTiers a co-op on this plan may use.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=2
	// +kubebuilder:default={dedicated,shared}
	DatabaseTiers []DatabaseTier `json:"databaseTiers,omitempty"`

	// storageClassName of the co-op's database volumes; the cluster's default when empty.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	StorageClassName string `json:"storageClassName,omitempty"`

	// selfService: whether co-ops may choose this plan themselves. When false (the
	// default), only the hub may create a Cooperative on this plan or move one to it: the
	// validating webhook asks the API server (a SubjectAccessReview) whether the requester
	// may update this HostingPlan, which hub admins may and co-op admins and the operator
	// applying a passed proposal may not. False by default because a plan
	// is a share of the hub's capacity that the hub hands out: a plan it adds is not open
	// to every co-op until it says so. A co-op already on a plan keeps it whatever this
	// says; only choosing it is checked.
	// +optional
	SelfService bool `json:"selfService,omitempty"`
	// extraEgress are destinations, beyond what every co-op may reach (DNS, its own
	// namespace, its database, the object store), that pods of a co-op on this plan may
	// reach: NetworkPolicy egress rules, applied as the NetworkPolicy allow-plan-egress in
	// each such co-op's namespace. Empty: nothing more.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	ExtraEgress []networkingv1.NetworkPolicyEgressRule `json:"extraEgress,omitempty"`
}

// HostingPlan is a quota tier that the hub offers its member co-ops.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,categories=cooperator
// +kubebuilder:printcolumn:name="CPU",type=string,JSONPath=`.spec.quota.cpu`
// +kubebuilder:printcolumn:name="Memory",type=string,JSONPath=`.spec.quota.memory`
// +kubebuilder:printcolumn:name="Storage",type=string,JSONPath=`.spec.quota.storage`
// +kubebuilder:printcolumn:name="Pods",type=integer,JSONPath=`.spec.quota.pods`
// +kubebuilder:printcolumn:name="Self-Service",type=boolean,JSONPath=`.spec.selfService`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type HostingPlan struct {
	metav1.TypeMeta `json:",inline"`

	// metadata of the object.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the plan.
	// +required
	Spec HostingPlanSpec `json:"spec"`
}

// +kubebuilder:object:root=true

// HostingPlanList is a list of HostingPlans.
type HostingPlanList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HostingPlan `json:"items"`
}

func init() {
	SchemeBuilder.Register(&HostingPlan{}, &HostingPlanList{})
}
