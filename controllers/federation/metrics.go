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

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/statemetrics"
)

// The peers' state as metrics, computed at each scrape from the manager's cache.
var peerReachableDesc = prometheus.NewDesc("cooperator_federation_peer_reachable",
	"1 when the peer hub's API answered at the last contact (the FederationPeer's Reachable condition True), 0 when it did not; absent before the first contact.",
	[]string{"peer"}, nil)

var peerState = statemetrics.MustRegister(collectPeers, peerReachableDesc)

func collectPeers(ctx context.Context, r client.Reader, ch chan<- prometheus.Metric) {
	var peers coopv1.FederationPeerList
	if err := r.List(ctx, &peers, client.UnsafeDisableDeepCopy); err != nil {
		return
	}
	for i := range peers.Items {
		p := &peers.Items[i]
		c := meta.FindStatusCondition(p.Status.Conditions, coopv1.ConditionReachable)
		if c == nil || c.Status == metav1.ConditionUnknown {
			continue
		}
		ch <- prometheus.MustNewConstMetric(peerReachableDesc, prometheus.GaugeValue, statemetrics.Bool(c.Status == metav1.ConditionTrue), p.Name)
	}
}
