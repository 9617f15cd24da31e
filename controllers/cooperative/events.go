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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// InCooperativeNamespace wraps an event recorder so that each event about a Cooperative
// is recorded twice: on the object, where `kubectl describe cooperative` and the hub's
// admins find it (events of a cluster-scoped object live in the default namespace), and in
// the co-op's namespace, where its own admins may read events. The second copy names the
// Cooperative as its regarding object, with the co-op's namespace (the API server wants an
// event's namespace and its object's to agree). Events about other objects are recorded
// once, as they are.
func InCooperativeNamespace(rec recorder.EventRecorder) recorder.EventRecorder {
	if rec == nil {
		return nil
	}
	if _, ok := rec.(coopNamespaceRecorder); ok {
		return rec
	}
	return coopNamespaceRecorder{rec}
}

type coopNamespaceRecorder struct{ recorder.EventRecorder }

// inNamespace is the copy of a Cooperative an event in its namespace regards.
func inNamespace(regarding runtime.Object) runtime.Object {
	coop, ok := regarding.(*coopv1.Cooperative)
	if !ok || coop.Name == "" {
		return nil
	}
	return &coopv1.Cooperative{
		TypeMeta: coop.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name: coop.Name, Namespace: coop.NamespaceName(), UID: coop.UID, ResourceVersion: coop.ResourceVersion,
		},
	}
}

func (r coopNamespaceRecorder) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	r.EventRecorder.Eventf(regarding, related, eventtype, reason, action, note, args...)
	if copy := inNamespace(regarding); copy != nil {
		r.EventRecorder.Eventf(copy, related, eventtype, reason, action, note, args...)
	}
}

func (r coopNamespaceRecorder) AnnotatedEventf(regarding, related runtime.Object, annotations map[string]string, eventtype, reason, action, note string, args ...any) {
	r.EventRecorder.AnnotatedEventf(regarding, related, annotations, eventtype, reason, action, note, args...)
	if copy := inNamespace(regarding); copy != nil {
		r.EventRecorder.AnnotatedEventf(copy, related, annotations, eventtype, reason, action, note, args...)
	}
}
