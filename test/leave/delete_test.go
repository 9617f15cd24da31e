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

package leave

import (
	"context"
	"strings"
	"testing"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/test/harness"
)

// storedUnder puts, for each co-op, objects where its backups, logical backups, exports and
// imports go, and returns them by co-op.
func storedUnder(coops ...string) map[string][]string {
	out := map[string][]string{}
	for _, c := range coops {
		for _, k := range []string{c + "/base/20261201T000000/data.tar", c + "/wals/0000000100000000/000000010000000000000001", c + "-2/wals/x",
			"logical/20261201T000000Z.dump", "exports/" + c + "-1.dump", "imports/" + c + "-1.dump"} {
			p := "bucket-a/region-a/" + c + "/" + k
			store.Put(p, []byte("data of "+c))
			out[c] = append(out[c], p)
		}
	}
	return out
}

// TestDelete_DeletionPolicyDeleteEmptiesTheCoopsPrefix: "with Delete, everything goes at
// once" said nothing of the bucket, where base backups, WAL, logical backups, exports and
// imports stayed, with nothing left to prune them. The deletion empties the co-op's own
// prefix <region>/<co-op>/ with its own keys (listed page after page), and nothing of
// another co-op whose name starts alike (ride-2 for ride); with Retain nothing goes (only a
// dump still waiting for its restore would: TestDeletedPrefixes).
func TestDelete_DeletionPolicyDeleteEmptiesTheCoopsPrefix(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		policy coopv1.DeletionPolicy
		goes   func(string) bool
	}{
		{coopv1.DeletionPolicyDelete, func(string) bool { return true }},
		{coopv1.DeletionPolicyRetain, func(string) bool { return false }},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			name := "ride-" + strings.ToLower(string(tc.policy))
			coop, _ := coopOn(t, hubA, name, name+"-admins")
			hubA.coopCredentials(t, name+"-2")
			objs := storedUnder(name, name+"-2")
			current := &coopv1.Cooperative{}
			if err := hubA.k8s.Get(ctx, client.ObjectKeyFromObject(coop), current); err != nil {
				t.Fatal(err)
			}
			patch := client.MergeFrom(current.DeepCopy()) // the operator writes the co-op meanwhile
			current.Spec.DeletionPolicy = tc.policy
			if err := hubA.k8s.Patch(ctx, current, patch); err != nil {
				t.Fatal(err)
			}
			lists := store.Lists()
			if err := hubA.k8s.Delete(ctx, current); err != nil {
				t.Fatal(err)
			}
			if tc.policy == coopv1.DeletionPolicyRetain {
				// The final backup, which CloudNativePG would take.
				deleting := &coopv1.Cooperative{}
				if err := hubA.k8s.Get(ctx, client.ObjectKeyFromObject(coop), deleting); err != nil {
					t.Fatal(err)
				}
				final := coopv1.FinalBackupName(deleting)
				eventually(t, "the final backup "+final, func() error {
					return hubA.k8s.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: final}, &cnpgv1.Backup{})
				})
				if err := harness.SimulateBackupDone(ctx, hubA.k8s, coop.NamespaceName(), final, true); err != nil {
					t.Fatal(err)
				}
			}
			eventually(t, "the Cooperative gone", func() error { return gone(hubA, coop) })
			for _, p := range objs[name] {
				if _, there := store.Object(p); there == tc.goes(p) {
					t.Errorf("deletionPolicy %s: %s is there: %v", tc.policy, p, there)
				}
			}
			for _, p := range objs[name+"-2"] {
				if _, there := store.Object(p); !there {
					t.Errorf("the deletion of %s deleted %s, another co-op's", name, p)
				}
			}
			if tc.policy == coopv1.DeletionPolicyDelete && store.Lists()-lists < 3 {
				t.Errorf("%d pages listed: the listing did not page", store.Lists()-lists)
			}
		})
	}
}
