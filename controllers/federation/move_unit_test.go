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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

func TestMoveOf(t *testing.T) {
	now, earlier := metav1.Unix(2000, 0), metav1.Unix(1000, 0)
	standby := func(state coopv1.StandbyState, role coopv1.FederationRole, msg string) []coopv1.PeerStandbyStatus {
		return []coopv1.PeerStandbyStatus{{Peer: "eu-south", Region: "eu-south", State: state, Role: role, Message: msg}}
	}
	for _, tc := range []struct {
		name     string
		primary  string
		fed      coopv1.FederationStatus
		old      coopv1.FederationStatus
		phase    coopv1.MovePhase
		message  string
		released *metav1.Time
		release  bool
	}{
		{"a peer not listed", "eu-south", coopv1.FederationStatus{}, coopv1.FederationStatus{}, coopv1.MoveRefused, "does not list peer eu-south", nil, false},
		{"the primary asked elsewhere", "", coopv1.FederationStatus{Role: coopv1.RolePrimary, Standbys: standby(coopv1.StandbyMirrored, coopv1.RoleStandby, "")},
			coopv1.FederationStatus{}, coopv1.MoveRefused, "spec.federation.primary is not eu-south", nil, false},
		{"demoting", "eu-south", coopv1.FederationStatus{Role: coopv1.RoleDemoting, Standbys: standby(coopv1.StandbyMirrored, coopv1.RolePromoting, "")},
			coopv1.FederationStatus{}, coopv1.MoveSwitchingOver, "here Demoting; there Mirrored, Promoting", nil, false},
		{"demoted, the peer not promoted yet", "eu-south", coopv1.FederationStatus{Role: coopv1.RoleStandby, Standbys: standby(coopv1.StandbyMirrored, coopv1.RolePromoting, "")},
			coopv1.FederationStatus{}, coopv1.MoveSwitchingOver, "waiting for the switchover", nil, false},
		{"the peer unreachable before the release", "eu-south", coopv1.FederationStatus{Role: coopv1.RoleStandby, Standbys: standby(coopv1.StandbyUnreachable, coopv1.RolePrimary, "")},
			coopv1.FederationStatus{}, coopv1.MoveSwitchingOver, "there Unreachable", nil, false},
		{"the peer unreachable after the release", "eu-south", coopv1.FederationStatus{Role: coopv1.RoleStandby, Standbys: standby(coopv1.StandbyUnreachable, coopv1.RolePrimary, "")},
			coopv1.FederationStatus{}, coopv1.MoveReleasing, "waiting for that hub to adopt it (the standby there is Unreachable)", nil, true},
		{"released, the peer does not consent", "eu-south", coopv1.FederationStatus{Role: coopv1.RoleStandby, Standbys: standby(coopv1.StandbyMirrored, coopv1.RolePrimary, "this hub does not accept moves")},
			coopv1.FederationStatus{}, coopv1.MoveReleasing, "waiting for that hub to adopt it: this hub does not accept moves", nil, true},
		{"adopted", "eu-south", coopv1.FederationStatus{Role: coopv1.RoleStandby, Standbys: standby(coopv1.StandbyMoved, coopv1.RolePrimary, "")},
			coopv1.FederationStatus{}, coopv1.MoveReleased, "adopted the co-op", &now, true},
		{"adopted before: the time stays", "eu-south", coopv1.FederationStatus{Role: coopv1.RoleStandby, Standbys: standby(coopv1.StandbyMoved, coopv1.RolePrimary, "")},
			coopv1.FederationStatus{Move: &coopv1.MoveStatus{Peer: "eu-south", Phase: coopv1.MoveReleased, ReleasedAt: &earlier}}, coopv1.MoveReleased, "adopted the co-op", &earlier, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "a"}}
			c.Spec.Federation.Primary = tc.primary
			m := MoveOf(c, &tc.fed, &tc.old, "eu-south", tc.release, now)
			if m.Phase != tc.phase || !strings.Contains(m.Message, tc.message) {
				t.Errorf("got %s %q, want %s with %q", m.Phase, m.Message, tc.phase, tc.message)
			}
			if (m.ReleasedAt == nil) != (tc.released == nil) || (m.ReleasedAt != nil && !m.ReleasedAt.Equal(tc.released)) {
				t.Errorf("releasedAt %v, want %v", m.ReleasedAt, tc.released)
			}
			f := tc.fed
			f.Move, f.PrimaryRegion = m, "eu-west"
			if tc.primary != "" {
				f.PrimaryRegion = "eu-south"
			}
			cond := FederationCondition(c, &f)
			want := map[coopv1.MovePhase]string{coopv1.MoveRefused: coopv1.ReasonMoveRefused, coopv1.MoveReleased: coopv1.ReasonMoved,
				coopv1.MoveSwitchingOver: coopv1.ReasonMoving, coopv1.MoveReleasing: coopv1.ReasonMoving}[m.Phase]
			if cond.Status != metav1.ConditionFalse || cond.Reason != want {
				t.Errorf("FederationReady %s/%s, want False/%s", cond.Status, cond.Reason, want)
			}
		})
	}
}

func TestAdoptedFrom(t *testing.T) {
	moved := metav1.Unix(1000, 0)
	adopted := func(mutate func(*coopv1.Cooperative)) *coopv1.Cooperative {
		c := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "a"}}
		c.Status.Origin = &coopv1.ImportOrigin{Cooperative: "a", Region: "eu-west", MovedAt: &moved}
		mutate(c)
		return c
	}
	for _, tc := range []struct {
		name string
		c    *coopv1.Cooperative
		want bool
	}{
		{"adopted from this region's co-op", adopted(func(*coopv1.Cooperative) {}), true},
		{"still a standby", adopted(func(c *coopv1.Cooperative) { c.Spec.Standby = &coopv1.StandbySpec{HomeRegion: "eu-west"} }), false},
		{"a co-op of the peer with the same name", adopted(func(c *coopv1.Cooperative) { c.Status.Origin = nil }), false},
		{"moved from another region", adopted(func(c *coopv1.Cooperative) { c.Status.Origin.Region = "eu-north" }), false},
		{"imported, not moved", adopted(func(c *coopv1.Cooperative) { c.Status.Origin.MovedAt = nil; c.Status.Origin.Region = "" }), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := AdoptedFrom(tc.c, "eu-west", "a"); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAppendMove(t *testing.T) {
	at := func(sec int64) metav1.Time { return metav1.Unix(sec, 0) }
	out := coopv1.MoveRecord{Cooperative: "a", Direction: coopv1.MoveToPeer, Time: at(1)}
	back := coopv1.MoveRecord{Cooperative: "a", Direction: coopv1.MoveFromPeer, Time: at(2)}
	moves, added := AppendMove(nil, out)
	if !added || len(moves) != 1 {
		t.Fatalf("first move: %v %v", moves, added)
	}
	if again, added := AppendMove(moves, coopv1.MoveRecord{Cooperative: "a", Direction: coopv1.MoveToPeer, Time: at(5)}); added || len(again) != 1 {
		t.Errorf("the same move recorded twice: %v", again)
	}
	other := coopv1.MoveRecord{Cooperative: "b", Direction: coopv1.MoveToPeer, Time: at(3)}
	moves, _ = AppendMove(moves, other)
	if moves, added = AppendMove(moves, back); !added || len(moves) != 3 {
		t.Errorf("moving back is a new move: %v %v", moves, added)
	}
	var many []coopv1.MoveRecord
	for i := range coopv1.MaxMoveRecords + 5 {
		many, _ = AppendMove(many, coopv1.MoveRecord{Cooperative: string(rune('a' + i)), Direction: coopv1.MoveToPeer, Time: at(int64(i))})
	}
	if len(many) != coopv1.MaxMoveRecords || many[len(many)-1].Time != at(int64(coopv1.MaxMoveRecords+4)) || many[0].Time != at(5) {
		t.Errorf("bounded history: %d records, first %v, last %v", len(many), many[0].Time, many[len(many)-1].Time)
	}
}

// A standby written before the webhook refused an import's annotations could carry them:
// adopted, it keeps none, so the operator restores no dump over the data it replayed.
func TestAdoptTakesNoImport(t *testing.T) {
	coop := &coopv1.Cooperative{
		ObjectMeta: metav1.ObjectMeta{Name: "kept-there",
			Labels: map[string]string{coopv1.LabelMirroredFrom: "eu-west", "team": "north"},
			Annotations: map[string]string{
				coopv1.AnnotationImportDump: "kept-there-1.dump", coopv1.AnnotationImportSHA256: strings.Repeat("0", 64),
				coopv1.AnnotationImportOrigin: `{"cooperative":"elsewhere"}`, "note": "kept"}},
		Spec: coopv1.CooperativeSpec{Plan: "large", Standby: &coopv1.StandbySpec{HomeRegion: "eu-west", HomeCooperative: "kept-there",
			Release: &coopv1.StandbyRelease{DeletionPolicy: coopv1.DeletionPolicyDelete}}},
	}
	Adopt(coop, "small")
	if coop.Spec.Standby != nil || coop.Spec.Plan != "small" || coop.Spec.DeletionPolicy != coopv1.DeletionPolicyDelete {
		t.Errorf("adopted spec: standby %v, plan %q, deletion policy %q", coop.Spec.Standby, coop.Spec.Plan, coop.Spec.DeletionPolicy)
	}
	if coop.AwaitingRestore() {
		t.Errorf("the adopted co-op awaits a restore: annotations %v", coop.Annotations)
	}
	want := map[string]string{"note": "kept"}
	if len(coop.Annotations) != len(want) || coop.Annotations["note"] != "kept" {
		t.Errorf("annotations %v, want %v", coop.Annotations, want)
	}
	if _, ok := coop.Labels[coopv1.LabelMirroredFrom]; ok || coop.Labels["team"] != "north" {
		t.Errorf("labels %v", coop.Labels)
	}

	released := &coopv1.Cooperative{Spec: coopv1.CooperativeSpec{Standby: &coopv1.StandbySpec{Release: &coopv1.StandbyRelease{}}}}
	Adopt(released, "small")
	if released.Spec.DeletionPolicy != coopv1.DeletionPolicyRetain {
		t.Errorf("a release naming no policy: %q, want Retain", released.Spec.DeletionPolicy)
	}
}

func TestMovedTo(t *testing.T) {
	created := metav1.Unix(2000, 0)
	peer := func(name string, moves ...coopv1.MoveRecord) coopv1.FederationPeer {
		return coopv1.FederationPeer{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: coopv1.FederationPeerStatus{Moves: moves}}
	}
	move := func(coop string, d coopv1.MoveDirection, at int64) coopv1.MoveRecord {
		return coopv1.MoveRecord{Cooperative: coop, Direction: d, Time: metav1.Unix(at, 0)}
	}
	for _, tc := range []struct {
		name  string
		fed   *coopv1.FederationStatus
		peers []coopv1.FederationPeer
		want  []string
	}{
		{"never moved", &coopv1.FederationStatus{Standbys: []coopv1.PeerStandbyStatus{{Peer: "eu-south", State: coopv1.StandbyMirrored}}}, []coopv1.FederationPeer{peer("eu-south")}, nil},
		{"moving, not released yet", &coopv1.FederationStatus{Move: &coopv1.MoveStatus{Peer: "eu-south", Phase: coopv1.MoveReleasing}}, nil, nil},
		{"released", &coopv1.FederationStatus{Move: &coopv1.MoveStatus{Peer: "eu-south", Phase: coopv1.MoveReleased}}, nil, []string{"eu-south"}},
		{"a standby Moved", &coopv1.FederationStatus{Standbys: []coopv1.PeerStandbyStatus{{Peer: "eu-south", State: coopv1.StandbyMoved}}}, nil, []string{"eu-south"}},
		{"the status lost: the peer's history says so", nil, []coopv1.FederationPeer{peer("eu-south", move("velo", coopv1.MoveToPeer, 3000))}, []string{"eu-south"}},
		{"moved there, then back", nil, []coopv1.FederationPeer{peer("eu-south", move("velo", coopv1.MoveToPeer, 3000), move("velo", coopv1.MoveFromPeer, 4000))}, nil},
		{"a move of an earlier co-op of that name", nil, []coopv1.FederationPeer{peer("eu-south", move("velo", coopv1.MoveToPeer, 1000))}, nil},
		{"another co-op's move", nil, []coopv1.FederationPeer{peer("eu-south", move("other", coopv1.MoveToPeer, 3000))}, nil},
		{"named twice, listed once", &coopv1.FederationStatus{Move: &coopv1.MoveStatus{Peer: "eu-south", Phase: coopv1.MoveReleased},
			Standbys: []coopv1.PeerStandbyStatus{{Peer: "eu-south", State: coopv1.StandbyMoved}}},
			[]coopv1.FederationPeer{peer("eu-south", move("velo", coopv1.MoveToPeer, 3000))}, []string{"eu-south"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "velo", CreationTimestamp: created}, Status: coopv1.CooperativeStatus{Federation: tc.fed}}
			got := MovedTo(coop, tc.peers)
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("MovedTo = %v, want %v", got, tc.want)
			}
		})
	}
}
