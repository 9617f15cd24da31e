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
	"flag"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// BindFlags adds the metering's flags to the manager's: --metering-interval and
// --metering-persist-interval.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.PersistInterval <= 0 {
		o.PersistInterval = DefaultPersistInterval
	}
	fs.DurationVar(&o.Interval, "metering-interval", o.Interval, "time between two samples of every co-op's pods, volumes and shared database")
	fs.DurationVar(&o.PersistInterval, "metering-persist-interval", o.PersistInterval, "longest time a co-op's metered totals stay unwritten to its status and the period's CostReport (they are also written at each period's end)")
}

// CacheByObject are the cache settings the metering needs, to merge into the manager's
// cache.Options.ByObject: the Pods and PersistentVolumeClaims that carry the co-op label
// (the operator's Deployments put it on their pods, and CloudNativePG copies a Cluster's
// inherited metadata onto its pods and volumes; co-op admins cannot create pods), stripped
// by TransformPod and TransformPVC to the few fields the metering reads, a few hundred
// bytes per object. Nothing outside the co-ops is cached.
func CacheByObject() map[client.Object]cache.ByObject {
	hasCoop, err := labels.NewRequirement(coopv1.LabelCooperative, selection.Exists, nil)
	if err != nil {
		panic(err)
	}
	sel := labels.NewSelector().Add(*hasCoop)
	return map[client.Object]cache.ByObject{
		&corev1.Pod{}:                   {Label: sel, Transform: TransformPod},
		&corev1.PersistentVolumeClaim{}: {Label: sel, Transform: TransformPVC},
	}
}
