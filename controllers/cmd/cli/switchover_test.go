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
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cooperative"
	"github.com/cooperator-dev/cooperator/test/harness"
)

// coopAdminKubeconfig gives user, of group, the co-op admins' ClusterRole the operator
// writes for coop (cooperative.BuildClusterRole), and returns a kubeconfig of theirs once
// the API server enforces it.
func coopAdminKubeconfig(t *testing.T, coop *coopv1.Cooperative, user, group string) string {
	t.Helper()
	ctx := context.Background()
	coop = coop.DeepCopy()
	coop.Spec.Admins = []coopv1.Subject{{Kind: rbacv1.GroupKind, Name: group}}
	for _, o := range []client.Object{cooperative.BuildClusterRole(coop), cooperative.BuildClusterRoleBinding(coop)} {
		o.SetOwnerReferences(nil)
		if err := k8sClient.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8sClient.Delete(ctx, o) })
	}
	cfg, err := env.AddUser(user, []string{group})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(tmpDir, user+".kubeconfig")
	if err := harness.WriteKubeconfig(path, cfg); err != nil {
		t.Fatal(err)
	}
	// The API server authorizes from its own informers: wait until the binding is in force.
	waitFor(t, user+"'s rights in force", func() error {
		r := cli(t, "get", coop.Name, "-o", "json", "--kubeconfig", path)
		if r.code != 0 {
			return fmt.Errorf("exit %d: %s", r.code, r.errs)
		}
		return nil
	})
	return path
}

// TestCoopAdminSwitchesOver: a switchover is the co-op admins' decision (README), and
// their ClusterRole lets them read and patch their Cooperative but not read FederationPeers,
// which are the hub's. The command then takes the peer's region and the standby's state
// from the co-op's own status, leaves the peer's readiness to the operator, and asks the
// switchover. A standby the status does not show up to date is still refused. A hub admin
// keeps the full check: a peer that is not ready is refused.
func TestCoopAdminSwitchesOver(t *testing.T) {
	ctx := context.Background()
	peer := movePeer(t)
	name := "switch-by-admin"
	coop := movingCoop(t, name, peer, "")
	dana := coopAdminKubeconfig(t, coop, "dana", "switch-by-admin-admins")
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: peer}, &coopv1.FederationPeer{}); err != nil {
		t.Fatal(err)
	}
	if err := clientAs(t, dana).Get(ctx, client.ObjectKey{Name: peer}, &coopv1.FederationPeer{}); !apierrors.IsForbidden(err) {
		t.Fatalf("the co-op admin reads FederationPeer %s: %v; the test shows nothing", peer, err)
	}

	r := cli(t, "federation", "switchover", name, "--to", peer, "--no-wait", "--kubeconfig", dana)
	if r.code != 0 || !strings.Contains(r.out, "switchover to peer "+peer+" requested") ||
		!strings.Contains(r.out, "its region (eu-south) and its standby's state (Mirrored) are from the co-op's status") {
		t.Fatalf("switchover by the co-op's admin: exit %d\n%s\n%s", r.code, r.out, r.errs)
	}
	got := &coopv1.Cooperative{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.Federation.Primary != peer {
		t.Errorf("spec.federation.primary is %q, want %q", got.Spec.Federation.Primary, peer)
	}

	// Followed, the command ends once the status shows the switchover done at the peer's
	// region, which it read from the status too.
	done := make(chan result, 1)
	go func() {
		done <- cli(t, "federation", "switchover", name, "--to", peer, "--interval", "50ms", "--timeout", "20s", "--kubeconfig", dana)
	}()
	time.Sleep(200 * time.Millisecond)
	got.Status.Federation.Role = coopv1.RoleStandby
	got.Status.Federation.LastSwitchover = &coopv1.SwitchoverRecord{From: "eu-west", To: "eu-south"}
	if err := k8sClient.Status().Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.code != 0 || !strings.Contains(r.out, name+": done") {
		t.Errorf("switchover by the co-op's admin, followed: exit %d\n%s\n%s", r.code, r.out, r.errs)
	}

	// A standby the status shows Waiting is no up-to-date one, whoever asks.
	other := movingCoop(t, "switch-not-mirrored", peer, "")
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(other), other); err != nil {
		t.Fatal(err)
	}
	other.Status.Federation = &coopv1.FederationStatus{Role: coopv1.RolePrimary, PrimaryRegion: "eu-west",
		Standbys: []coopv1.PeerStandbyStatus{{Peer: peer, Region: "eu-south", State: coopv1.StandbyWaiting}}}
	if err := k8sClient.Status().Update(ctx, other); err != nil {
		t.Fatal(err)
	}
	erin := coopAdminKubeconfig(t, other, "erin", "switch-not-mirrored-admins")
	r = cli(t, "federation", "switchover", other.Name, "--to", peer, "--no-wait", "--kubeconfig", erin)
	if r.code != ExitError || !strings.Contains(r.errs, "has no up-to-date standby at peer "+peer) {
		t.Errorf("switchover to a standby not up to date, by the co-op's admin: exit %d\n%s\n%s", r.code, r.out, r.errs)
	}

	// A hub admin reads the peer, and a peer that is not ready is refused.
	north := &coopv1.FederationPeer{ObjectMeta: metav1.ObjectMeta{Name: "eu-north"},
		Spec: coopv1.FederationPeerSpec{Region: "eu-north", KubeconfigSecretRef: coopv1.SecretKeyRef{Name: "peer-eu-north"}}}
	if err := k8sClient.Create(ctx, north); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, north) })
	movingCoop(t, "switch-peer-not-ready", north.Name, "")
	r = cli(t, "federation", "switchover", "switch-peer-not-ready", "--to", north.Name, "--no-wait")
	if r.code != ExitError || !strings.Contains(r.errs, "peer eu-north is not ready") {
		t.Errorf("switchover to a peer not ready, by a hub admin: exit %d\n%s\n%s", r.code, r.out, r.errs)
	}
}

// clientAs is a client as the user of kubeconfig.
func clientAs(t *testing.T, kubeconfig string) client.Client {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
