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
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

func TestSetHomeRole(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC))
	earlier := metav1.NewTime(now.Add(-time.Hour))
	toSouth := &coopv1.SwitchoverRecord{From: "eu-west", To: "eu-south", Time: &earlier}
	toWest := &coopv1.SwitchoverRecord{From: "eu-south", To: "eu-west", Time: &earlier}
	southPrimary := coopv1.PeerStandbyStatus{Peer: "south", Region: "eu-south", Role: coopv1.RolePrimary}
	southStandby := coopv1.PeerStandbyStatus{Peer: "south", Region: "eu-south", Role: coopv1.RoleStandby}
	for _, tc := range []struct {
		name string
		// asked is the region asked to hold the primary; token the local demotion token.
		asked, token string
		holdsPrimary bool
		standbys     []coopv1.PeerStandbyStatus
		last         *coopv1.SwitchoverRecord
		role         coopv1.FederationRole
		switchover   *coopv1.SwitchoverRecord
		messageHas   string
	}{
		{name: "primary here, never switched", asked: "eu-west", holdsPrimary: true, standbys: []coopv1.PeerStandbyStatus{southStandby}, role: coopv1.RolePrimary},
		{name: "primary here after a switchover here: kept", asked: "eu-west", holdsPrimary: true, last: toWest, role: coopv1.RolePrimary, switchover: toWest},
		{name: "primary back here: recorded", asked: "eu-west", holdsPrimary: true, last: toSouth, role: coopv1.RolePrimary, switchover: &coopv1.SwitchoverRecord{From: "eu-south", To: "eu-west", Time: &now}},
		{name: "asked here, not promoted yet", asked: "eu-west", last: toSouth, role: coopv1.RolePromoting, switchover: toSouth, messageHas: "waiting for the peer that held the primary to demote"},
		{name: "asked elsewhere, no token yet", asked: "eu-south", standbys: []coopv1.PeerStandbyStatus{southStandby}, role: coopv1.RoleDemoting, messageHas: "waiting for CloudNativePG to demote"},
		{name: "demoted, the peer not promoted yet", asked: "eu-south", token: "t", standbys: []coopv1.PeerStandbyStatus{southStandby}, role: coopv1.RoleStandby, messageHas: "demoted; waiting for the copy in eu-south to promote"},
		{name: "demoted, the peer promoted: recorded", asked: "eu-south", token: "t", standbys: []coopv1.PeerStandbyStatus{southPrimary}, role: coopv1.RoleStandby, switchover: &coopv1.SwitchoverRecord{From: "eu-west", To: "eu-south", Time: &now}},
		{name: "demoted, switchover already recorded", asked: "eu-south", token: "t", standbys: []coopv1.PeerStandbyStatus{southPrimary}, last: toSouth, role: coopv1.RoleStandby, switchover: toSouth},
		{name: "split primary", asked: "eu-west", holdsPrimary: true, standbys: []coopv1.PeerStandbyStatus{southPrimary}, role: coopv1.RolePrimary, messageHas: "the copy in eu-south reports that it is the primary (a failover?) while this hub expects eu-west"},
		{name: "primary asked at an unknown peer", asked: "", token: "t", role: coopv1.RoleStandby, messageHas: "demoted; waiting for the copy in  to promote"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := &coopv1.FederationStatus{LastSwitchover: tc.last}
			fed := &coopv1.FederationStatus{PrimaryRegion: tc.asked, DemotionToken: tc.token, Standbys: tc.standbys, LastSwitchover: tc.last}
			SetHomeRole(fed, old, "eu-west", tc.holdsPrimary, now)
			if fed.Role != tc.role {
				t.Errorf("role %q, want %q", fed.Role, tc.role)
			}
			if got, want := fed.LastSwitchover, tc.switchover; (got == nil) != (want == nil) || got != nil && (got.From != want.From || got.To != want.To || !got.Time.Equal(want.Time)) {
				t.Errorf("last switchover %+v, want %+v", got, want)
			}
			if tc.messageHas == "" && fed.Message != "" || !strings.Contains(fed.Message, tc.messageHas) {
				t.Errorf("message %q, want one with %q", fed.Message, tc.messageHas)
			}
		})
	}
}
