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

package federation

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/controllers/shared/ssa"
)

// BuildInfoConfigMap is what the operator publishes for its peers: its version, its region
// and its bucket (and the bucket's endpoint when it is not AWS S3). Peers read it with the credentials this hub gives them.
func BuildInfoConfigMap(hub *hubconfig.Config, version string) *corev1.ConfigMap {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name: coopv1.InfoConfigMapName, Namespace: hub.OperatorNamespace,
			Labels: map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue},
		},
		Data: map[string]string{
			"version":           version,
			"region":            hub.Region,
			"backupDestination": hub.ObjectStore.DestinationPath,
		},
	}
	// Where the bucket is served, for `cooperator import` (which uploads a dump there).
	if hub.ObjectStore.EndpointURL != "" {
		cm.Data["backupEndpoint"] = hub.ObjectStore.EndpointURL
	}
	return cm
}

// InfoPublisher writes the ConfigMap cooperator-info when the operator starts.
type InfoPublisher struct {
	Client  client.Client
	Hub     hubconfig.Config
	Version string
}

// Start publishes the ConfigMap; it runs once, when the manager starts (on the leader).
func (p *InfoPublisher) Start(ctx context.Context) error {
	if _, err := ssa.ApplyFetch(ctx, p.Client, BuildInfoConfigMap(&p.Hub, p.Version), &corev1.ConfigMap{}); err != nil {
		return fmt.Errorf("publishing %s: %w", coopv1.InfoConfigMapName, err)
	}
	log.FromContext(ctx).Info("Published operator info for peers", "configmap", coopv1.InfoConfigMapName, "version", p.Version, "region", p.Hub.Region)
	return nil
}
