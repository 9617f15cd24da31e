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

package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// holdFinalizer stands in for the operator's finalizers: a deleted co-op stays, being
// deleted, until the test lets it go, as the operator would once its deletion is done.
const holdFinalizer = "example.org/hold"

// movePeer is a ready FederationPeer of region eu-south, which the co-ops of these tests
// keep a standby at.
func movePeer(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	peer := &coopv1.FederationPeer{
		ObjectMeta: metav1.ObjectMeta{Name: "eu-south"},
		Spec:       coopv1.FederationPeerSpec{Region: "eu-south", KubeconfigSecretRef: coopv1.SecretKeyRef{Name: "peer-eu-south"}},
	}
	if err := k8sClient.Create(ctx, peer); apierrors.IsAlreadyExists(err) {
		return peer.Name
	} else if err != nil {
		t.Fatal(err)
	}
	peer.Status.Conditions = []metav1.Condition{{Type: coopv1.ConditionReady, Status: metav1.ConditionTrue, Reason: coopv1.ReasonReady, Message: "the peer answers", LastTransitionTime: metav1.NewTime(fixedNow)}}
	if err := k8sClient.Status().Update(ctx, peer); err != nil {
		t.Fatal(err)
	}
	return peer.Name
}

// movingCoop is a home co-op with an up-to-date standby at peer, whose move there stands
// at phase ("" for none asked yet), as the operator would report it.
func movingCoop(t *testing.T, name, peer string, phase coopv1.MovePhase) *coopv1.Cooperative {
	t.Helper()
	ctx := context.Background()
	coop := &coopv1.Cooperative{
		ObjectMeta: metav1.ObjectMeta{Name: name, Finalizers: []string{holdFinalizer}},
		Spec: coopv1.CooperativeSpec{
			Vertical: coopv1.VerticalDelivery, Plan: "small",
			FeeSplit:   coopv1.FeeSplit{PlatformFeeBasisPoints: 300},
			Governance: coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote},
			Database:   coopv1.DatabaseSpec{Tier: coopv1.DatabaseTierDedicated},
			Federation: coopv1.FederationSpec{Peers: []coopv1.FederationPeerRef{{Name: peer}}},
		},
	}
	if phase != "" {
		coop.Annotations = map[string]string{coopv1.AnnotationMoveTo: peer}
		coop.Spec.Federation.Primary = peer
	}
	if err := k8sClient.Create(ctx, coop); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { letGo(t, name) })
	setMovePhase(t, name, peer, phase)
	return coop
}

// setMovePhase writes the co-op's federation status as the operator reports a move at
// phase: a standby at peer, Moved once released.
func setMovePhase(t *testing.T, name, peer string, phase coopv1.MovePhase) {
	t.Helper()
	ctx := context.Background()
	coop := &coopv1.Cooperative{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, coop); err != nil {
		t.Fatal(err)
	}
	st := coopv1.PeerStandbyStatus{Peer: peer, Region: "eu-south", State: coopv1.StandbyMirrored, Role: coopv1.RoleStandby}
	fed := &coopv1.FederationStatus{Role: coopv1.RolePrimary, PrimaryRegion: "eu-west"}
	if phase != "" {
		fed.Move = &coopv1.MoveStatus{Peer: peer, Region: "eu-south", Phase: phase, Message: "as the operator says"}
	}
	switch phase {
	case coopv1.MoveReleasing:
		fed.Role, st.Role = coopv1.RoleStandby, coopv1.RolePrimary
	case coopv1.MoveReleased:
		fed.Role, st.State, st.Role = coopv1.RoleStandby, coopv1.StandbyMoved, coopv1.RolePrimary
	}
	fed.Standbys = []coopv1.PeerStandbyStatus{st}
	coop.Status.Federation = fed
	if err := k8sClient.Status().Update(ctx, coop); err != nil {
		t.Fatal(err)
	}
}

// letGo removes the test's finalizer, as the operator removes its own once a deletion is
// carried out.
func letGo(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	coop := &coopv1.Cooperative{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, coop); err != nil {
		return
	}
	patch := client.MergeFrom(coop.DeepCopy())
	if controllerutil.RemoveFinalizer(coop, holdFinalizer) {
		if err := k8sClient.Patch(ctx, coop, patch); client.IgnoreNotFound(err) != nil {
			t.Error(err)
		}
	}
}

// waitFor retries f every 20ms until it returns nil, or fails the test after 20s.
func waitFor(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deleting starts the co-op's deletion here, which its finalizer holds, and waits until
// the API server shows it.
func deleting(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	if err := k8sClient.Delete(ctx, &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, name+" being deleted", func() error {
		coop := &coopv1.Cooperative{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, coop); err != nil {
			return err
		}
		if coop.DeletionTimestamp.IsZero() {
			return errors.New("not yet")
		}
		return nil
	})
}

// TestMoveEndsOnlyOnceReleased: cooperator federation move ends with the co-op's deletion
// here only once the move was seen Released, the peer's hub having adopted it. A co-op
// that started being deleted before (someone deleted it mid-move, or the move is run again
// on a co-op being deleted) did not move: the command says so and exits 1, even once the
// deletion is done, rather than "it is the peer's co-op now: done". The operator is not run
// here: the tests write the co-op's status as it reports a move (the federation suite,
// controllers/federation/move_test.go, runs the real move across two hubs).
func TestMoveEndsOnlyOnceReleased(t *testing.T) {
	peer := movePeer(t)
	// The deletion the command would wait for is carried out a little later.
	letGoSoon := func(t *testing.T, name string) {
		t.Helper()
		timer := time.AfterFunc(300*time.Millisecond, func() { letGo(t, name) })
		t.Cleanup(func() { timer.Stop() })
	}
	refusedAsDeletedBeforeAdoption := func(t *testing.T, r result, phase coopv1.MovePhase) {
		t.Helper()
		if r.code != ExitError || !strings.Contains(r.errs, fmt.Sprintf("was deleted on this hub before peer %s adopted it (the move was %s, not Released)", peer, phase)) ||
			!strings.Contains(r.errs, "the move did not complete and the co-op is not the peer's") || strings.Contains(r.out, ": done") {
			t.Errorf("move of a co-op deleted before the peer adopted it: exit %d\n%s\n%s", r.code, r.out, r.errs)
		}
	}

	t.Run("run again on a co-op being deleted before the release", func(t *testing.T) {
		name := "move-rerun-deleted"
		movingCoop(t, name, peer, coopv1.MoveReleasing)
		deleting(t, name)
		letGoSoon(t, name)
		r := cli(t, "federation", "move", name, "--to", peer, "--interval", "50ms", "--timeout", "20s")
		refusedAsDeletedBeforeAdoption(t, r, coopv1.MoveReleasing)
	})

	t.Run("deleted here while the command follows the switchover", func(t *testing.T) {
		name := "move-deleted-midway"
		movingCoop(t, name, peer, "")
		done := make(chan result, 1)
		go func() {
			done <- cli(t, "federation", "move", name, "--to", peer, "--interval", "50ms", "--timeout", "20s")
		}()
		// The command asked the move; the operator reports the switchover under way.
		waitFor(t, "the move asked", func() error {
			coop := &coopv1.Cooperative{}
			if err := k8sClient.Get(context.Background(), client.ObjectKey{Name: name}, coop); err != nil {
				return err
			}
			if coop.Annotations[coopv1.AnnotationMoveTo] != peer {
				return errors.New("not yet")
			}
			return nil
		})
		setMovePhase(t, name, peer, coopv1.MoveSwitchingOver)
		time.Sleep(200 * time.Millisecond) // the command sees it
		deleting(t, name)
		letGoSoon(t, name)
		refusedAsDeletedBeforeAdoption(t, <-done, coopv1.MoveSwitchingOver)
	})

	t.Run("released: the command deletes the co-op here and is done once it is gone", func(t *testing.T) {
		name := "move-released"
		movingCoop(t, name, peer, coopv1.MoveReleased)
		done := make(chan result, 1)
		go func() {
			done <- cli(t, "federation", "move", name, "--to", peer, "--interval", "50ms", "--timeout", "20s")
		}()
		waitFor(t, "the command deleting the co-op", func() error {
			coop := &coopv1.Cooperative{}
			if err := k8sClient.Get(context.Background(), client.ObjectKey{Name: name}, coop); err != nil {
				return err
			}
			if coop.DeletionTimestamp.IsZero() {
				return errors.New("not yet")
			}
			return nil
		})
		letGo(t, name)
		r := <-done
		if r.code != 0 || !strings.Contains(r.out, "adopted the co-op; deleting it here") || !strings.Contains(r.out, "removed here; it is the peer's co-op now: done") {
			t.Errorf("move of a released co-op: exit %d\n%s\n%s", r.code, r.out, r.errs)
		}
	})

	t.Run("run again on a co-op being deleted once released", func(t *testing.T) {
		name := "move-rerun-released"
		movingCoop(t, name, peer, coopv1.MoveReleased)
		deleting(t, name)
		letGoSoon(t, name)
		r := cli(t, "federation", "move", name, "--to", peer, "--interval", "50ms", "--timeout", "20s")
		if r.code != 0 || !strings.Contains(r.out, "removed here; it is the peer's co-op now: done") {
			t.Errorf("move run again on a released co-op being deleted: exit %d\n%s\n%s", r.code, r.out, r.errs)
		}
	})
}

// TestFederationIntervalMustBePositive: --interval 0 or less is refused as a usage error
// naming the flag, before anything is asked; before, the command reached time.NewTicker,
// which panics on it.
func TestFederationIntervalMustBePositive(t *testing.T) {
	coop := newCoop(t, "interval-coop", coopv1.DatabaseTierDedicated, true)
	for interval, shown := range map[string]string{"0": "--interval 0s", "-1s": "--interval -1s"} {
		for _, args := range [][]string{
			{"federation", "switchover", coop.Name, "--to", "home"},
			{"federation", "move", coop.Name, "--to", "eu-south"},
			{"federation", "failover", coop.Name, "--accept-data-loss"},
		} {
			r := cli(t, append(args, "--interval", interval, "--timeout", "5s")...)
			if r.code != ExitUsage || !strings.Contains(r.errs, shown) || !strings.Contains(r.errs, "must be more than 0") {
				t.Errorf("%v --interval %s: exit %d\n%s%s", args, interval, r.code, r.out, r.errs)
			}
		}
	}
	got := &coopv1.Cooperative{}
	if err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(coop), got); err != nil {
		t.Fatal(err)
	}
	if len(got.Annotations) > 0 || got.Spec.Federation.Primary != "" {
		t.Errorf("a refused command changed the co-op: %v %+v", got.Annotations, got.Spec.Federation)
	}
}
