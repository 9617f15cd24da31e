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
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/export"
	"github.com/cooperator-dev/cooperator/test/harness"
	"github.com/cooperator-dev/cooperator/test/pgtest"
)

// importing creates on hub A a co-op as cooperator import does, its dump uploaded, its
// database ready, and returns it with the dump's path in the store, once its restore Job
// is there.
func importing(t *testing.T, name string) (*coopv1.Cooperative, string) {
	t.Helper()
	ctx := context.Background()
	coop, err := harness.Sample("coop_v1alpha1_cooperative_fairride.yaml")
	if err != nil {
		t.Fatal(err)
	}
	coop.Name = name
	coop.Spec.Platform.Host = ""
	coop.Spec.DeletionPolicy = coopv1.DeletionPolicyDelete // nothing to back up first: the test plays no final backup
	coop.Spec.Admins = []coopv1.Subject{{Kind: "Group", Name: name + "-admins"}}
	coop.Annotations = map[string]string{coopv1.AnnotationImportDump: name + "-1.dump", coopv1.AnnotationImportSHA256: strings.Repeat("ab", 32)}
	hubA.coopCredentials(t, name)
	dump := strings.TrimPrefix(export.ImportPrefix(&hubA.cfg, name), "s3://") + name + "-1.dump"
	store.Put(dump, []byte("every member's data"))
	if err := hubA.k8s.Create(ctx, coop); err != nil {
		t.Fatal(err)
	}
	ns := coop.NamespaceName()
	eventually(t, "the namespace of "+name, func() error { return hubA.k8s.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{}) })
	if err := hubA.k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: coopv1.AppSecretName(coop)},
		Data:       map[string][]byte{"uri": []byte(pgtest.NewDB(t)), "username": []byte("app"), "password": []byte("x")},
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the database ready", func() error { return harness.SimulateClusterReady(ctx, hubA.k8s, ns, coopv1.ClusterName(coop)) })
	eventually(t, "the restore Job", func() error {
		return hubA.k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: export.RestoreJobName(coop)}, &batchv1.Job{})
	})
	return coop, dump
}

// TestImport_AHubAdminGivesUpAFailedRestore: a restore that failed held the platform at zero
// and the dump in the store for good, and only deleting the co-op escaped it. A hub admin
// gives it up with the annotation import-abandon and a reason (a co-op admin may not): the
// operator deletes the restore Job and the dump, says so in status.origin and an event, and
// the platform starts.
func TestImport_AHubAdminGivesUpAFailedRestore(t *testing.T) {
	ctx := context.Background()
	coop, dump := importing(t, "abandoned-coop")
	ns := coop.NamespaceName()
	if err := harness.SimulateJobDone(ctx, hubA.k8s, ns, export.RestoreJobName(coop), false); err != nil {
		t.Fatal(err)
	}
	abandon := func(c client.Client) error {
		patch := client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"annotations":{"`+coopv1.AnnotationImportAbandon+`":"the archive's dump is damaged"}}}`))
		return c.Patch(ctx, coop.DeepCopy(), patch)
	}
	// Its admins may not: the platform would start without the members' data.
	coopAdminCfg := coopAdmin(t, hubA, "abe", "abandoned-coop-admins", coop.Name)
	eventually(t, "the co-op admin may update the Cooperative", func() error {
		err := abandon(clientOf(t, hubA, coopAdminCfg))
		if err == nil {
			return errors.New("the co-op admin gave up the restore")
		}
		if !strings.Contains(err.Error(), "only someone who may delete this Cooperative (the hub's admins)") {
			return err
		}
		return nil
	})
	hubAdmin := clientOf(t, hubA, hubAdminConfig(t, hubA))
	if err := abandon(hubAdmin); err != nil {
		t.Fatal(err)
	}
	// The restore Job goes first, with its pods (the test plays the garbage collector).
	eventually(t, "the restore Job deleted", func() error {
		job := &batchv1.Job{}
		if err := hubA.k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: export.RestoreJobName(coop)}, job); err != nil {
			return client.IgnoreNotFound(err)
		}
		if job.DeletionTimestamp.IsZero() {
			return errors.New("not deleted yet")
		}
		job.Finalizers = slices.DeleteFunc(job.Finalizers, func(f string) bool { return f == metav1.FinalizerDeleteDependents })
		return hubA.k8s.Update(ctx, job)
	})
	eventually(t, "the restore given up", func() error {
		got := &coopv1.Cooperative{}
		if err := hubA.k8s.Get(ctx, client.ObjectKeyFromObject(coop), got); err != nil {
			return err
		}
		if got.AwaitingRestore() || got.Annotations[coopv1.AnnotationImportAbandon] != "" {
			return fmt.Errorf("annotations %v", got.Annotations)
		}
		if o := got.Status.Origin; o == nil || !strings.Contains(o.Message, "the restore was given up at the hub's request (the archive's dump is damaged)") || o.RestoredAt != nil {
			return fmt.Errorf("origin %+v", o)
		}
		return warnedAbout(hubA, got, coopv1.ReasonImportAbandoned, "given up at the hub's request")
	})
	if _, ok := store.Object(dump); ok {
		t.Errorf("the dump %s stays in the store once the restore was given up", dump)
	}
}

// TestImport_DeletingAnImportedCoopDeletesItsDump: a co-op deleted while its restore
// waits left its dump (every member's data) in the store, with no event: its deletion
// empties its imports/ prefix, whatever its deletion policy.
func TestImport_DeletingAnImportedCoopDeletesItsDump(t *testing.T) {
	ctx := context.Background()
	coop, dump := importing(t, "deleted-import")
	if err := hubA.k8s.Delete(ctx, coop); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the Cooperative gone", func() error { return gone(hubA, coop) })
	if _, ok := store.Object(dump); ok {
		t.Errorf("the dump %s of the deleted co-op stays in the store", dump)
	}
}

// hubAdminConfig is the kubeconfig of a hub admin who is not the operator's identity.
func hubAdminConfig(t *testing.T, h *hub) string {
	t.Helper()
	cfg, err := h.env.AddUser("hub-admin-"+h.name, []string{"system:masters"})
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/hub-admin.kubeconfig"
	if err := harness.WriteKubeconfig(path, cfg); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestImport_AnAbandonAfterTheRestoreCommittedIsIgnored: an abandon that the operator read
// after the restore Job had completed was reported "starts without the imported data", and
// the dump deleted, though the database held it. A restore that succeeded finishes as any
// restore, and status.origin says the abandon was ignored.
func TestImport_AnAbandonAfterTheRestoreCommittedIsIgnored(t *testing.T) {
	ctx := context.Background()
	coop, dump := importing(t, "late-abandon")
	ns := coop.NamespaceName()
	patch := client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"annotations":{"`+coopv1.AnnotationImportAbandon+`":"it takes too long"}}}`))
	if err := hubA.k8s.Patch(ctx, coop.DeepCopy(), patch); err != nil {
		t.Fatal(err)
	}
	// The abandon deletes the running Job, which completes while its pods go (the test holds
	// the garbage collector's finalizer until the restore is done).
	key := client.ObjectKey{Namespace: ns, Name: export.RestoreJobName(coop)}
	eventually(t, "the restore Job being deleted", func() error {
		job := &batchv1.Job{}
		if err := hubA.k8s.Get(ctx, key, job); err != nil {
			return err
		}
		if job.DeletionTimestamp.IsZero() {
			return errors.New("not deleted yet")
		}
		return nil
	})
	if err := harness.SimulateJobDone(ctx, hubA.k8s, ns, key.Name, true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the restore finished", func() error {
		got := &coopv1.Cooperative{}
		if err := hubA.k8s.Get(ctx, client.ObjectKeyFromObject(coop), got); err != nil {
			return err
		}
		if got.AwaitingRestore() || got.Annotations[coopv1.AnnotationImportAbandon] != "" {
			return fmt.Errorf("annotations %v", got.Annotations)
		}
		if o := got.Status.Origin; o == nil || o.RestoredAt == nil || !strings.Contains(o.Message, "the abandon is ignored") {
			return fmt.Errorf("origin %+v", o)
		}
		return nil
	})
	eventually(t, "the restore Job gone", func() error {
		job := &batchv1.Job{}
		if err := hubA.k8s.Get(ctx, key, job); err != nil {
			return client.IgnoreNotFound(err)
		}
		job.Finalizers = slices.DeleteFunc(job.Finalizers, func(f string) bool { return f == metav1.FinalizerDeleteDependents })
		return hubA.k8s.Update(ctx, job)
	})
	if _, ok := store.Object(dump); ok {
		t.Errorf("the dump %s stays in the store once restored", dump)
	}
}
