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
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/export"
)

// The object-storage line of the hub's bill is shared by every co-op: an export's dump
// must not outlive its link, nor its CooperativeExport.

// succeededExport creates an export in the co-op's namespace (as the co-op's admins would),
// plays its Job (the real pg_dump and upload), and returns it once it succeeded, with the
// path of its dump in the store.
func succeededExport(t *testing.T, h *hub, coop *coopv1.Cooperative, name string) (*coopv1.CooperativeExport, string) {
	t.Helper()
	ctx := context.Background()
	ex := &coopv1.CooperativeExport{ObjectMeta: metav1.ObjectMeta{Namespace: coop.NamespaceName(), Name: name}}
	if err := h.k8s.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	if err := playJob(t, h, ex.Namespace, ex.Name); err != nil {
		t.Fatal(err)
	}
	eventually(t, "export "+name+" succeeded", func() error {
		if err := h.k8s.Get(ctx, client.ObjectKeyFromObject(ex), ex); err != nil {
			return err
		}
		if ex.Status.Phase != coopv1.ExportSucceeded {
			return fmt.Errorf("phase %q", ex.Status.Phase)
		}
		return nil
	})
	dump := strings.TrimPrefix(export.Prefix(&h.cfg, coop.Name), "s3://") + export.DumpObjectName(name)
	if _, ok := store.Object(dump); !ok {
		t.Fatalf("no dump %s in the store", dump)
	}
	if !slices.Contains(ex.Finalizers, coopv1.ExportFinalizer) {
		t.Fatalf("export %s has finalizers %v, want %s", name, ex.Finalizers, coopv1.ExportFinalizer)
	}
	return ex, dump
}

// nudge makes the operator look at the export again (an annotation the hub admin sets):
// the requeue for the link's expiry is a real timer, and the test moves only the clock.
func nudge(t *testing.T, h *hub, ex *coopv1.CooperativeExport) {
	t.Helper()
	patch := client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"annotations":{"test/nudge":"`+time.Now().Format(time.RFC3339Nano)+`"}}}`))
	if err := h.k8s.Patch(context.Background(), ex.DeepCopy(), patch); err != nil {
		t.Fatal(err)
	}
}

// TestExport_DumpIsDeletedWhenItsLinkExpires: a co-op admin exports their co-op; once the
// link's validity is over (the operator's clock moved past it), the dump is gone from the
// object store, the download Secret no longer holds the link, and the export says Expired.
// Before that, the dump stays.
func TestExport_DumpIsDeletedWhenItsLinkExpires(t *testing.T) {
	ctx := context.Background()
	coop, _ := coopOn(t, hubA, "expiring-coop", "expiring-admins")
	kc := coopAdmin(t, hubA, "ezra", "expiring-admins", coop.Name)
	if r := exportAs(t, hubA, kc, coop.Name, filepath.Join(t.TempDir(), "out.tar.gz"), true); r.code != 0 {
		t.Fatalf("export: exit %d\n%s\n%s", r.code, r.out, r.errs)
	}
	list := &coopv1.CooperativeExportList{}
	if err := hubA.k8s.List(ctx, list, client.InNamespace(coop.NamespaceName())); err != nil || len(list.Items) != 1 {
		t.Fatalf("exports: %d (%v)", len(list.Items), err)
	}
	ex := &list.Items[0]
	dump := strings.TrimPrefix(ex.Status.Dump.Destination, "s3://")
	secretKey := client.ObjectKey{Namespace: coop.NamespaceName(), Name: coopv1.ExportDownloadSecretName(coop)}
	secret := &corev1.Secret{}
	if err := hubA.k8s.Get(ctx, secretKey, secret); err != nil || len(secret.Data[coopv1.ExportDumpURLKey]) == 0 {
		t.Fatalf("the download Secret: %v %v", secret.Data, err)
	}
	expires := ex.Status.Dump.Expires.Time

	// A minute before the link expires, the dump stays (the export is looked at again, and
	// its status is rewritten by nothing: the reconcile ran and left it).
	hubA.clock.advance(t, time.Until(expires)-time.Minute)
	deletes := store.Deletes()
	nudge(t, hubA, ex)
	eventually(t, "the nudge seen", func() error {
		got := &coopv1.CooperativeExport{}
		if err := hubA.k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
			return err
		}
		if got.Annotations["test/nudge"] == "" {
			return errors.New("not yet")
		}
		return nil
	})
	// A second export of another co-op runs its whole course meanwhile (a Job played, a few
	// reconciles). Its events come on the same watch as the nudge, after it, and the
	// controller's workers take their queue in order: by the time it succeeded, the nudge's
	// short reconcile (nothing to write) has run.
	other, _ := coopOn(t, hubA, "unhurried-coop", "unhurried-admins")
	succeededExport(t, hubA, other, "unhurried-1")
	if _, ok := store.Object(dump); !ok || store.Deletes() != deletes {
		t.Fatalf("the dump was deleted before its link expired (%d deletes)", store.Deletes()-deletes)
	}

	// Past the link's validity.
	hubA.clock.advance(t, 2*time.Minute)
	nudge(t, hubA, ex)
	eventually(t, "the export expired", func() error {
		got := &coopv1.CooperativeExport{}
		if err := hubA.k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
			return err
		}
		c := meta.FindStatusCondition(got.Status.Conditions, coopv1.ConditionExportComplete)
		if got.Status.Phase != coopv1.ExportExpired || c == nil || c.Reason != coopv1.ReasonExportExpired || c.Status != metav1.ConditionFalse {
			return fmt.Errorf("phase %q, condition %+v", got.Status.Phase, c)
		}
		if strings.Contains(c.Message, "X-Amz") || strings.Contains(c.Message, "secret") {
			return fmt.Errorf("the condition tells too much: %s", c.Message)
		}
		return nil
	})
	if _, ok := store.Object(dump); ok {
		t.Errorf("the dump %s is still in the store", dump)
	}
	if err := hubA.k8s.Get(ctx, secretKey, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("the download Secret with the expired link: %v, want gone", err)
	}
	// The command line, asked for the expired export, says so at once (rather than wait
	// for a phase that will not come).
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r := runCLI(cctx, kc, "export", coop.Name, "-o", filepath.Join(t.TempDir(), "again.tar.gz"), "--from", ex.Name)
	if r.code == 0 || !strings.Contains(r.errs, "expired and its dump is deleted; run the export again") {
		t.Errorf("export --from the expired export: exit %d\n%s", r.code, r.errs)
	}
}

// TestExport_DeletingAnExportDeletesItsDump: the hub deletes a succeeded export; its dump
// goes with it, and so does the link to it.
func TestExport_DeletingAnExportDeletesItsDump(t *testing.T) {
	ctx := context.Background()
	coop, _ := coopOn(t, hubA, "tidy-coop", "tidy-admins")
	ex, dump := succeededExport(t, hubA, coop, "tidy-1")
	if err := hubA.k8s.Delete(ctx, ex); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the export gone", func() error { return gone(hubA, ex) })
	if _, ok := store.Object(dump); ok {
		t.Errorf("the dump %s of the deleted export is still in the store", dump)
	}
	if err := hubA.k8s.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: coopv1.ExportDownloadSecretName(coop)}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("the download Secret of the deleted export: %v, want gone", err)
	}
}

// TestExport_DeletedWithoutCredentialsIsNotStuck: when the co-op's object store keys are
// gone, a deleted export does not hang on its finalizer: it goes, a Warning event says its
// dump is left for the hub to delete by hand, and the dump is untouched.
func TestExport_DeletedWithoutCredentialsIsNotStuck(t *testing.T) {
	ctx := context.Background()
	coop, _ := coopOn(t, hubA, "keyless-coop", "keyless-admins")
	ex, dump := succeededExport(t, hubA, coop, "keyless-1")
	for _, name := range hubA.cfg.ObjectStore.CredentialsSecretsFor(coop.Name) {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: hubA.cfg.OperatorNamespace, Name: name}}
		if err := hubA.k8s.Delete(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := hubA.k8s.Delete(ctx, ex); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the export gone, with a Warning event", func() error {
		return errors.Join(gone(hubA, ex), warnedAbout(hubA, ex, coopv1.ReasonExportCredentialsMissing, "deletes the dump by hand"))
	})
	if _, ok := store.Object(dump); !ok {
		t.Errorf("the dump %s is gone, without credentials to delete it", dump)
	}
}

// TestExport_QuotaLimitsExports: a co-op admin may hold at most five exports at once (the
// co-op's ResourceQuota counts them); the sixth is refused by the API server with the quota
// error that names the resource, and is not written.
func TestExport_QuotaLimitsExports(t *testing.T) {
	ctx := context.Background()
	coop, _ := coopOn(t, hubA, "thrifty-coop", "thrifty-admins")
	kc := coopAdmin(t, hubA, "tariq", "thrifty-admins", coop.Name)
	tariq := clientOf(t, hubA, kc)
	for i := 1; i <= coopv1.MaxCooperativeExports; i++ {
		ex := &coopv1.CooperativeExport{ObjectMeta: metav1.ObjectMeta{Namespace: coop.NamespaceName(), Name: fmt.Sprintf("thrifty-%d", i)}}
		if err := tariq.Create(ctx, ex); err != nil {
			t.Fatalf("export %d of %d: %v", i, coopv1.MaxCooperativeExports, err)
		}
	}
	err := tariq.Create(ctx, &coopv1.CooperativeExport{ObjectMeta: metav1.ObjectMeta{Namespace: coop.NamespaceName(), Name: "thrifty-6"}})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "exceeded quota") || !strings.Contains(err.Error(), coopv1.ExportQuotaResource) {
		t.Errorf("a sixth export: %v, want the quota error naming %s", err, coopv1.ExportQuotaResource)
	}
	if err := hubA.k8s.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: "thrifty-6"}, &coopv1.CooperativeExport{}); !apierrors.IsNotFound(err) {
		t.Errorf("the refused export: %v, want none", err)
	}
	// The command says so as a refusal of the cluster (exit 1, README), not as rights the
	// co-op admin lacks (exit 4, "ask a hub admin"): no hub admin lifts the quota for them.
	r := runCLI(ctx, kc, "export", coop.Name, "-o", filepath.Join(t.TempDir(), "x.tar.gz"))
	if r.code != 1 || !strings.Contains(r.errs, "exceeded quota") || !strings.Contains(r.errs, "at most 5 exports at once") || strings.Contains(r.errs, "ask a hub admin") {
		t.Errorf("cooperator export over the quota: exit %d\n%s\n%s", r.code, r.out, r.errs)
	}
}

// TestExport_DeletingARunningExportStopsItsJobFirst: the hub deletes an export whose dump
// Job still runs. The operator deletes the Job (foreground: its pods first) and waits for it
// to be gone before it deletes the dump, so nothing is uploaded after. envtest runs no
// garbage collector: the test removes the Job's foregroundDeletion finalizer, as the
// collector would once the Job's pods are gone.
func TestExport_DeletingARunningExportStopsItsJobFirst(t *testing.T) {
	ctx := context.Background()
	coop, _ := coopOn(t, hubA, "hasty-coop", "hasty-admins")
	ex := &coopv1.CooperativeExport{ObjectMeta: metav1.ObjectMeta{Namespace: coop.NamespaceName(), Name: "hasty-1"}}
	if err := hubA.k8s.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	job := &batchv1.Job{}
	eventually(t, "the export Job", func() error {
		return hubA.k8s.Get(ctx, client.ObjectKeyFromObject(ex), job)
	})
	if err := hubA.k8s.Delete(ctx, ex); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the Job deleted, the export waiting for it", func() error {
		if err := hubA.k8s.Get(ctx, client.ObjectKeyFromObject(ex), job); err != nil {
			return err
		}
		if job.DeletionTimestamp.IsZero() {
			return errors.New("the Job is not being deleted")
		}
		got := &coopv1.CooperativeExport{}
		if err := hubA.k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
			return fmt.Errorf("the export: %w", err)
		}
		if c := meta.FindStatusCondition(got.Status.Conditions, coopv1.ConditionExportComplete); c == nil || c.Reason != coopv1.ReasonExportDeleting {
			return fmt.Errorf("condition %+v", c)
		}
		return nil
	})
	deletes := store.Deletes()
	// The collector's part: the Job's pods are gone, then the Job.
	job.Finalizers = nil
	if err := hubA.k8s.Update(ctx, job); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the export gone", func() error { return gone(hubA, ex) })
	if store.Deletes() == deletes {
		t.Error("the export went without deleting its dump")
	}
}

// TestExport_DeletingTheCoopDeletesItsExportsFirst: a deleted co-op's exports are deleted,
// and their dumps with them, before its namespace: the operator's rights in the namespace,
// which an export's finalizer needs, go with it (on a real cluster its namespace would
// otherwise stay Terminating). envtest runs no namespace controller: the test checks the
// order, that no export is left once the Cooperative is gone.
func TestExport_DeletingTheCoopDeletesItsExportsFirst(t *testing.T) {
	ctx := context.Background()
	coop, _ := coopOn(t, hubA, "leaving-coop", "leaving-admins")
	ex, dump := succeededExport(t, hubA, coop, "leaving-1")
	current := &coopv1.Cooperative{}
	if err := hubA.k8s.Get(ctx, client.ObjectKeyFromObject(coop), current); err != nil {
		t.Fatal(err)
	}
	// Nothing to back up first: the test plays no final backup.
	current.Spec.DeletionPolicy = coopv1.DeletionPolicyDelete
	if err := hubA.k8s.Update(ctx, current); err != nil {
		t.Fatal(err)
	}
	if err := hubA.k8s.Delete(ctx, current); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the Cooperative gone", func() error { return gone(hubA, coop) })
	if err := hubA.k8s.Get(ctx, client.ObjectKeyFromObject(ex), &coopv1.CooperativeExport{}); !apierrors.IsNotFound(err) {
		t.Errorf("the export of the deleted co-op: %v, want gone before the co-op", err)
	}
	if _, ok := store.Object(dump); ok {
		t.Errorf("the dump %s of the deleted co-op's export is still in the store", dump)
	}
}

// revokeWriteKeys puts the co-op's read-only keys in place of its read-write ones, as a hub
// that revokes them would, and waits until the operator's cache holds them: what it
// deletes next, it deletes with them.
func revokeWriteKeys(t *testing.T, h *hub, coop *coopv1.Cooperative) {
	t.Helper()
	ctx := context.Background()
	key := client.ObjectKey{Namespace: h.cfg.OperatorNamespace, Name: h.cfg.ObjectStore.CooperativeCredentialsSecret(coop.Name)}
	rw := &corev1.Secret{}
	if err := h.k8s.Get(ctx, key, rw); err != nil {
		t.Fatal(err)
	}
	read := h.cfg.ObjectStore.ReadCredentialsSecret(coop.Name)
	rw.Data = map[string][]byte{coopv1.AccessKeyIDKey: []byte(read + "-key"), coopv1.AccessSecretKeyKey: []byte(read + "-secret")}
	if err := h.k8s.Update(ctx, rw); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the operator's cache holds the revoked keys", func() error {
		cached := &corev1.Secret{}
		if err := h.cached.Get(ctx, key, cached); err != nil {
			return err
		}
		if cached.ResourceVersion != rw.ResourceVersion {
			return fmt.Errorf("at %s, not %s", cached.ResourceVersion, rw.ResourceVersion)
		}
		return nil
	})
}

// TestExport_StoreThatRefusesForGoodDoesNotHoldTheExport: a deleted export whose dump the
// object store refuses to delete (here: the co-op's read-write keys revoked, read-only ones
// in their place) waits, says why, and after export.DumpDeletePatience is released with a
// Warning event, its dump left for the hub: neither it nor its co-op's namespace is held.
func TestExport_StoreThatRefusesForGoodDoesNotHoldTheExport(t *testing.T) {
	ctx := context.Background()
	coop, _ := coopOn(t, hubA, "revoked-coop", "revoked-admins")
	ex, dump := succeededExport(t, hubA, coop, "revoked-1")
	revokeWriteKeys(t, hubA, coop)
	if err := hubA.k8s.Delete(ctx, ex); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the export held, saying the store refused", func() error {
		got := &coopv1.CooperativeExport{}
		if err := hubA.k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
			return err
		}
		c := meta.FindStatusCondition(got.Status.Conditions, coopv1.ConditionExportComplete)
		if c == nil || c.Reason != coopv1.ReasonExportDeleteFailed || !strings.Contains(c.Message, "AccessDenied") {
			return fmt.Errorf("condition %+v", c)
		}
		return nil
	})
	hubA.clock.advance(t, export.DumpDeletePatience+time.Minute)
	nudge(t, hubA, ex)
	eventually(t, "the export released, with a Warning event", func() error {
		return errors.Join(gone(hubA, ex), warnedAbout(hubA, ex, coopv1.ReasonExportDeleteFailed, "the object store refused for 1h0m0s", "the hub deletes the dump by hand"))
	})
	if _, ok := store.Object(dump); !ok {
		t.Errorf("the dump %s is gone, though the store refused to delete it", dump)
	}
}

// TestExport_CLIOnAnExpiredExportWhoseDumpStays: the link of an export expired, and the
// object store refuses to delete its dump (the co-op's read-write keys revoked): the
// command line, asked for that export, says the dump is being deleted, not that it is.
func TestExport_CLIOnAnExpiredExportWhoseDumpStays(t *testing.T) {
	ctx := context.Background()
	coop, _ := coopOn(t, hubA, "lingering-coop", "lingering-admins")
	kc := coopAdmin(t, hubA, "lina", "lingering-admins", coop.Name)
	ex, dump := succeededExport(t, hubA, coop, "lingering-1")
	revokeWriteKeys(t, hubA, coop)
	hubA.clock.advance(t, time.Until(ex.Status.Dump.Expires.Time)+time.Minute)
	nudge(t, hubA, ex)
	eventually(t, "the export expired, its dump not deleted", func() error {
		got := &coopv1.CooperativeExport{}
		if err := hubA.k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
			return err
		}
		c := meta.FindStatusCondition(got.Status.Conditions, coopv1.ConditionExportComplete)
		if got.Status.Phase != coopv1.ExportExpired || c == nil || c.Reason != coopv1.ReasonExportDeleteFailed {
			return fmt.Errorf("phase %q, condition %+v", got.Status.Phase, c)
		}
		return nil
	})
	if _, ok := store.Object(dump); !ok {
		t.Fatalf("the dump %s is gone, though the store refused to delete it", dump)
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r := runCLI(cctx, kc, "export", coop.Name, "-o", filepath.Join(t.TempDir(), "again.tar.gz"), "--from", ex.Name)
	if r.code == 0 || !strings.Contains(r.errs, "expired and its dump is being deleted; run the export again") {
		t.Errorf("export --from the expired export: exit %d\n%s", r.code, r.errs)
	}
}

// TestExport_FinishedExportsAreDeletedAfterTheirRetention: a failed export, and an expired
// one whose dump is gone, are deleted by the operator export.ExportRetention after they
// finished: the co-op's admins may not delete exports, and finished ones count against
// their quota, so leaving never waits on the hub's housekeeping.
func TestExport_FinishedExportsAreDeletedAfterTheirRetention(t *testing.T) {
	ctx := context.Background()
	coop, _ := coopOn(t, hubA, "retiring-coop", "retiring-admins")
	kc := coopAdmin(t, hubA, "rosa", "retiring-admins", coop.Name)
	if r := exportAs(t, hubA, kc, coop.Name, filepath.Join(t.TempDir(), "failed.tar.gz"), false); r.code == 0 {
		t.Fatalf("the failing export: exit 0\n%s", r.out)
	}
	succeeded, dump := succeededExport(t, hubA, coop, "retiring-1")
	list := &coopv1.CooperativeExportList{}
	if err := hubA.k8s.List(ctx, list, client.InNamespace(coop.NamespaceName())); err != nil || len(list.Items) != 2 {
		t.Fatalf("exports: %d (%v), want the failed one and %s", len(list.Items), err, succeeded.Name)
	}
	// Past the link's validity, not the retention: the dump goes, both exports stay.
	hubA.clock.advance(t, export.ExportRetention-24*time.Hour)
	for i := range list.Items {
		nudge(t, hubA, &list.Items[i])
	}
	eventually(t, "the succeeded export expired, its dump deleted", func() error {
		got := &coopv1.CooperativeExport{}
		if err := hubA.k8s.Get(ctx, client.ObjectKeyFromObject(succeeded), got); err != nil {
			return err
		}
		if !export.ExpiredAndDeleted(got) {
			return fmt.Errorf("phase %s", got.Status.Phase)
		}
		return nil
	})
	for i := range list.Items {
		if err := hubA.k8s.Get(ctx, client.ObjectKeyFromObject(&list.Items[i]), &coopv1.CooperativeExport{}); err != nil {
			t.Errorf("export %s before its retention: %v, want it kept", list.Items[i].Name, err)
		}
	}
	// Past the retention: both exports go.
	hubA.clock.advance(t, 72*time.Hour)
	for i := range list.Items {
		nudge(t, hubA, &list.Items[i])
	}
	eventually(t, "both finished exports deleted", func() error {
		left := &coopv1.CooperativeExportList{}
		if err := hubA.k8s.List(ctx, left, client.InNamespace(coop.NamespaceName())); err != nil {
			return err
		}
		if len(left.Items) != 0 {
			return fmt.Errorf("%d left, the first %s in phase %s", len(left.Items), left.Items[0].Name, left.Items[0].Status.Phase)
		}
		return nil
	})
	if _, ok := store.Object(dump); ok {
		t.Errorf("the dump %s is still in the store", dump)
	}
}

// TestExport_ADumpThatChangedIsRefused: the operator records the SHA-256 of the dump the
// Job uploaded (status.dump.sha256, read from the store); cooperator export compares its
// download with it and refuses another, naming both sums, where the archive was only
// checked against itself. No archive is written.
func TestExport_ADumpThatChangedIsRefused(t *testing.T) {
	ctx := context.Background()
	coop, _ := coopOn(t, hubA, "changed-coop", "changed-admins")
	kc := coopAdmin(t, hubA, "chad", "changed-admins", coop.Name)
	ex, dump := succeededExport(t, hubA, coop, "changed-1")
	uploaded, _ := store.Object(dump)
	sum := sha256.Sum256(uploaded)
	if ex.Status.Dump.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("status.dump.sha256 %q, the uploaded dump's %x", ex.Status.Dump.SHA256, sum)
	}
	// Someone changes the object in the store (with the co-op's write keys, say).
	store.Put(dump, append(uploaded, "-and-more"...))
	changed := sha256.Sum256(append(uploaded, "-and-more"...))
	out := filepath.Join(t.TempDir(), "changed.tar.gz")
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r := runCLI(cctx, kc, "export", coop.Name, "-o", out, "--from", ex.Name)
	if r.code == 0 || !strings.Contains(r.errs, "the downloaded dump has SHA-256 "+hex.EncodeToString(changed[:])+", and the dump export changed-1 uploaded "+ex.Status.Dump.SHA256) ||
		!strings.Contains(r.errs, "no archive was written") {
		t.Errorf("export of a dump that changed in the store: exit %d\n%s\n%s", r.code, r.out, r.errs)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("an archive was written: %v", err)
	}
}
