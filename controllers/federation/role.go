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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// SetHomeRole sets the role of a home co-op's copy in region, and records a switchover once
// the other side confirms it. fed holds the region asked to hold the primary
// (PrimaryRegion), the local Cluster's demotion token when the primary is asked elsewhere
// (DemotionToken), the standbys as the peers report them and the last switchover as old had
// it; holdsPrimary says whether the local Cluster holds the primary.
//
//   - asked here and holding it: Primary; a switchover back from old's region is recorded;
//   - asked here, not holding it yet: Promoting, until the peer demotes and CloudNativePG
//     promotes;
//   - asked elsewhere, no demotion token yet: Demoting;
//   - asked elsewhere with a token: Standby; the switchover is recorded once the copy there
//     reports that it is the primary.
//
// A copy at a peer that reports the primary while this hub expects it elsewhere (a failover
// the home did not ask for) is a split primary: the message says so.
func SetHomeRole(fed, old *coopv1.FederationStatus, region string, holdsPrimary bool, now metav1.Time) {
	primaryRegion := fed.PrimaryRegion
	switch {
	case primaryRegion == region && holdsPrimary:
		fed.Role = coopv1.RolePrimary
		if old.LastSwitchover != nil && old.LastSwitchover.To != region {
			fed.LastSwitchover = &coopv1.SwitchoverRecord{From: old.LastSwitchover.To, To: region, Time: &now}
		}
	case primaryRegion == region:
		fed.Role = coopv1.RolePromoting
		fed.Message = "waiting for the peer that held the primary to demote and publish its demotion token, then for CloudNativePG to promote " +
			"(a copy that never promoted publishes none: if the switchover to the peer never completed, check that its copy is a replica " +
			"and run `cooperator federation failover` against this hub)"
	case fed.DemotionToken == "":
		fed.Role = coopv1.RoleDemoting
		fed.Message = "waiting for CloudNativePG to demote the Cluster and publish its demotion token"
	default:
		fed.Role = coopv1.RoleStandby
		for _, st := range fed.Standbys {
			if st.Region == primaryRegion && st.Role == coopv1.RolePrimary && (old.LastSwitchover == nil || old.LastSwitchover.To != primaryRegion) {
				fed.LastSwitchover = &coopv1.SwitchoverRecord{From: region, To: primaryRegion, Time: &now}
			}
		}
		if fed.LastSwitchover == nil || fed.LastSwitchover.To != primaryRegion {
			fed.Message = "demoted; waiting for the copy in " + primaryRegion + " to promote"
		}
	}
	if split := splitPrimaries(fed); len(split) > 0 {
		fed.Message = splitPrimaryMessage(split, primaryRegion)
	}
}
