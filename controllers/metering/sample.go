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

package metering

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// ContainerUsage is what one container used at the last metrics scrape.
type ContainerUsage struct {
	MilliCPU    int64
	MemoryBytes int64
}

// PodUsage maps a pod's name to its containers' usage by container name.
type PodUsage map[string]map[string]ContainerUsage

// PodCounts says whether a pod holds resources: bound to a node and not finished.
func PodCounts(pod *corev1.Pod) bool {
	return pod.Spec.NodeName != "" &&
		pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed
}

// PodRates is what a pod holds: its effective request as Kubernetes reckons it for the
// scheduler and the ResourceQuota, with max(request, usage) of each container in place of
// its request, plus the pod overhead. usage is nil when the cluster serves no metrics:
// requests alone. The app containers and the restartable init containers (sidecars, such
// as the Barman Cloud plugin's in every CloudNativePG instance pod) run for the pod's whole
// life and add up; an init step (an init container, with the sidecars started before it)
// runs alone, and holds the pod when it is larger, resource by resource. A pod-level
// request (spec.resources, Kubernetes' PodLevelResources) is the pod's request of its
// resource in place of its containers' (as the scheduler and the ResourceQuota reckon
// it, k8s.io/component-helpers' PodRequests): what the containers use still counts above
// it.
func PodRates(pod *corev1.Pod, usage map[string]ContainerUsage) Rates {
	var podCPU, podMemory *resource.Quantity
	if pod.Spec.Resources != nil {
		if q, ok := pod.Spec.Resources.Requests[corev1.ResourceCPU]; ok {
			podCPU = &q
		}
		if q, ok := pod.Spec.Resources.Requests[corev1.ResourceMemory]; ok {
			podMemory = &q
		}
	}
	held := func(c *corev1.Container) Rates {
		r := Rates{MilliCPU: c.Resources.Requests.Cpu().MilliValue(), MemoryBytes: c.Resources.Requests.Memory().Value()}
		if podCPU != nil {
			r.MilliCPU = 0
		}
		if podMemory != nil {
			r.MemoryBytes = 0
		}
		if u, ok := usage[c.Name]; ok {
			r.MilliCPU = max(r.MilliCPU, u.MilliCPU)
			r.MemoryBytes = max(r.MemoryBytes, u.MemoryBytes)
		}
		return r
	}
	var r Rates
	for i := range pod.Spec.Containers {
		r.add(held(&pod.Spec.Containers[i]))
	}
	var sidecars, initStep Rates
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		h := held(c)
		step := sidecars
		step.add(h)
		if isSidecar(c) {
			r.add(h)
			sidecars = step
		}
		initStep.MilliCPU = max(initStep.MilliCPU, step.MilliCPU)
		initStep.MemoryBytes = max(initStep.MemoryBytes, step.MemoryBytes)
	}
	r.MilliCPU = max(r.MilliCPU, initStep.MilliCPU)
	r.MemoryBytes = max(r.MemoryBytes, initStep.MemoryBytes)
	if podCPU != nil {
		r.MilliCPU = max(r.MilliCPU, podCPU.MilliValue())
	}
	if podMemory != nil {
		r.MemoryBytes = max(r.MemoryBytes, podMemory.Value())
	}
	if pod.Spec.Overhead != nil {
		r.MilliCPU += pod.Spec.Overhead.Cpu().MilliValue()
		r.MemoryBytes += pod.Spec.Overhead.Memory().Value()
	}
	return r
}

// isSidecar says whether an init container is a sidecar: restarted whenever it stops, it
// runs beside the app containers until the pod ends.
func isSidecar(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// countedPodRates is what a pod holds when it counts, nothing otherwise.
func countedPodRates(pod *corev1.Pod, usage PodUsage) Rates {
	if !PodCounts(pod) {
		return Rates{}
	}
	return PodRates(pod, usage[pod.Name])
}

func (r *Rates) add(o Rates) {
	r.MilliCPU += o.MilliCPU
	r.MemoryBytes += o.MemoryBytes
	r.StorageBytes += o.StorageBytes
}

// PVCBytes is the capacity a claim holds: its status capacity once bound (the resized
// size after an expansion), zero when it is not bound.
func PVCBytes(pvc *corev1.PersistentVolumeClaim) int64 {
	if pvc.Status.Phase != corev1.ClaimBound {
		return 0
	}
	if q, ok := pvc.Status.Capacity[corev1.ResourceStorage]; ok {
		return q.Value()
	}
	return pvc.Spec.Resources.Requests.Storage().Value()
}

// NamespaceRates adds up what the pods and claims of one namespace hold.
func NamespaceRates(pods []corev1.Pod, pvcs []corev1.PersistentVolumeClaim, usage PodUsage) Rates {
	var r Rates
	for i := range pods {
		r.add(countedPodRates(&pods[i], usage))
	}
	for i := range pvcs {
		r.StorageBytes += PVCBytes(&pvcs[i])
	}
	return r
}

// TransformPod strips a Pod down to what the metering reads (name, namespace, node,
// phase, the names and requests of its containers and init containers, the init
// containers' restart policy, its pod-level requests, overhead), to keep the informer
// cache small. Register it as the cache's transform for Pods.
func TransformPod(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	var podLevel *corev1.ResourceRequirements
	if pod.Spec.Resources != nil && pod.Spec.Resources.Requests != nil {
		podLevel = &corev1.ResourceRequirements{Requests: pod.Spec.Resources.Requests}
	}
	return &corev1.Pod{
		TypeMeta:   pod.TypeMeta,
		ObjectMeta: metaForCache(pod.ObjectMeta),
		Spec: corev1.PodSpec{
			NodeName:       pod.Spec.NodeName,
			InitContainers: containersForCache(pod.Spec.InitContainers),
			Containers:     containersForCache(pod.Spec.Containers),
			Overhead:       pod.Spec.Overhead,
			Resources:      podLevel,
		},
		Status: corev1.PodStatus{Phase: pod.Status.Phase},
	}, nil
}

// containersForCache keeps of each container what PodRates reads: its name (which its
// usage is read by), its requests and its restart policy (a sidecar's is Always).
func containersForCache(cs []corev1.Container) []corev1.Container {
	if cs == nil {
		return nil
	}
	out := make([]corev1.Container, len(cs))
	for i, c := range cs {
		out[i] = corev1.Container{Name: c.Name, Resources: corev1.ResourceRequirements{Requests: c.Resources.Requests}, RestartPolicy: c.RestartPolicy}
	}
	return out
}

// TransformPVC strips a PersistentVolumeClaim down to what the metering reads. Register it
// as the cache's transform for PersistentVolumeClaims.
func TransformPVC(obj any) (any, error) {
	pvc, ok := obj.(*corev1.PersistentVolumeClaim)
	if !ok {
		return obj, nil
	}
	return &corev1.PersistentVolumeClaim{
		TypeMeta:   pvc.TypeMeta,
		ObjectMeta: metaForCache(pvc.ObjectMeta),
		Spec: corev1.PersistentVolumeClaimSpec{
			Resources: corev1.VolumeResourceRequirements{Requests: pvc.Spec.Resources.Requests},
		},
		Status: corev1.PersistentVolumeClaimStatus{Phase: pvc.Status.Phase, Capacity: pvc.Status.Capacity},
	}, nil
}

func metaForCache(m metav1.ObjectMeta) metav1.ObjectMeta {
	var keep map[string]string
	if coop, ok := m.Labels[coopv1.LabelCooperative]; ok {
		// The informer selects on this label: a copy written back must still carry it.
		keep = map[string]string{coopv1.LabelCooperative: coop}
	}
	return metav1.ObjectMeta{
		Labels:            keep,
		Name:              m.Name,
		Namespace:         m.Namespace,
		UID:               m.UID,
		ResourceVersion:   m.ResourceVersion,
		Generation:        m.Generation,
		CreationTimestamp: m.CreationTimestamp,
		DeletionTimestamp: m.DeletionTimestamp,
	}
}
