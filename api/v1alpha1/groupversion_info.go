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

// Package v1alpha1 holds the cooperator API: group coop.cooperator.dev, version v1alpha1.
//
// A hub co-op runs one Kubernetes cluster for many member co-ops. Each member co-op applies
// one Cooperative; the hub defines HostingPlans (quota tiers) and PlatformTemplates (the
// workloads of a vertical).
//
// +kubebuilder:object:generate=true
// +groupName=coop.cooperator.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the group and version of this API.
var GroupVersion = schema.GroupVersion{Group: "coop.cooperator.dev", Version: "v1alpha1"}

// schemeBuilder collects the kinds of this package; each types file registers its own.
// The API package depends on apimachinery alone, so that any client can import it.
type schemeBuilder struct{ objects []runtime.Object }

// Register adds kinds to the builder.
func (b *schemeBuilder) Register(objects ...runtime.Object) {
	b.objects = append(b.objects, objects...)
}

// AddToScheme adds the registered kinds to a scheme.
func (b *schemeBuilder) AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, b.objects...)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}

var (
	// SchemeBuilder registers the types of this API with a scheme.
	SchemeBuilder = &schemeBuilder{}

	// AddToScheme adds the types of this API to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
