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
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/cli"
	"github.com/cooperator-dev/cooperator/controllers/export"
	"github.com/cooperator-dev/cooperator/controllers/metering"
	"github.com/cooperator-dev/cooperator/controllers/shared/ssa"
	"github.com/cooperator-dev/cooperator/test/harness"
	"github.com/cooperator-dev/cooperator/test/pgtest"
)

// coopOn creates a dedicated co-op from the FairRide sample on h, named name, with its
// own object store keys, and waits until its operator set up its namespace and its admins'
// roles. Its database is a fresh database of the test server owned by a role shaped as
// CloudNativePG's application owner (pgtest.NewOwnedDB): the test writes the app Secret
// CloudNativePG would write, with that owner's URI.
func coopOn(t *testing.T, h *hub, name, adminsGroup string) (*coopv1.Cooperative, string) {
	t.Helper()
	ctx := context.Background()
	coop, err := harness.Sample("coop_v1alpha1_cooperative_fairride.yaml")
	if err != nil {
		t.Fatal(err)
	}
	coop.Name = name
	coop.Spec.Admins = []coopv1.Subject{{Kind: "Group", Name: adminsGroup}}
	coop.Spec.Platform.Host = name + ".example.coop"
	coop.Labels = map[string]string{"team": "drivers"}
	coop.Annotations = map[string]string{"note": "ours", coopv1.AnnotationReconcileRequestedAt: "hub-internal"}
	h.coopCredentials(t, name)
	if err := h.k8s.Create(ctx, coop); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the admin Role of "+name, func() error {
		return h.k8s.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: coopv1.AdminRoleName}, &rbacv1.Role{})
	})
	quotaStatus(t, h, coop)
	db := pgtest.NewOwnedDB(t)
	if err := h.k8s.Create(ctx, appSecret(t, coop, db)); err != nil {
		t.Fatal(err)
	}
	return coop, db
}

// appSecret is the app Secret CloudNativePG writes for coop's database at dbURL: the
// owner's URI and name.
func appSecret(t *testing.T, coop *coopv1.Cooperative, dbURL string) *corev1.Secret {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: coop.NamespaceName(), Name: coopv1.AppSecretName(coop)},
		Data:       map[string][]byte{"uri": []byte(dbURL), "username": []byte(u.User.Username()), "password": []byte("x")},
	}
}

// quotaStatus writes the status of the co-op's ResourceQuota as the kube-controller-manager's
// quota controller would (envtest runs no controller-manager): hard as the spec says, nothing
// used yet. The API server's ResourceQuota admission refuses what a quota counts while the
// quota has no status, and, from there, counts what it admits in status.used itself.
func quotaStatus(t *testing.T, h *hub, coop *coopv1.Cooperative) {
	t.Helper()
	ctx := context.Background()
	key := client.ObjectKey{Namespace: coop.NamespaceName(), Name: coopv1.QuotaName}
	eventually(t, "the ResourceQuota of "+coop.Name, func() error { return h.k8s.Get(ctx, key, &corev1.ResourceQuota{}) })
	// Read again and retried when the operator wrote the quota in between, as the quota
	// controller's own status writes are.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		q := &corev1.ResourceQuota{}
		if err := h.k8s.Get(ctx, key, q); err != nil {
			return err
		}
		q.Status.Hard = q.Spec.Hard.DeepCopy()
		q.Status.Used = corev1.ResourceList{}
		for name := range q.Spec.Hard {
			q.Status.Used[name] = resource.MustParse("0")
		}
		return h.k8s.Status().Update(ctx, q)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// coopAdmin is a user of h in group, with a kubeconfig, once RBAC lets them get their
// co-op (the API server authorizes from its informers).
func coopAdmin(t *testing.T, h *hub, user, group, coop string) string {
	t.Helper()
	cfg, err := h.env.AddUser(user, []string{group})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(tmpDir, h.name+"-"+user+".kubeconfig")
	if err := harness.WriteKubeconfig(path, cfg); err != nil {
		t.Fatal(err)
	}
	eventually(t, user+" may create CooperativeExports in coop-"+coop, func() error {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user, Groups: []string{group},
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: coopv1.NamespacePrefix + coop, Verb: "create", Group: coopv1.GroupVersion.Group, Resource: "cooperativeexports"},
		}}
		if err := h.k8s.Create(context.Background(), sar); err != nil {
			return err
		}
		if !sar.Status.Allowed {
			return errors.New("not yet")
		}
		return nil
	})
	return path
}

// exportAs runs `cooperator export` as the user of kubeconfig while the test plays the
// export Job, and returns the command's result.
func exportAs(t *testing.T, h *hub, kubeconfig, coop, out string, jobSucceeds bool) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan result, 1)
	go func() { done <- runCLI(ctx, kubeconfig, "export", coop, "-o", out) }()
	// The CLI names the export after the time: find it, then play its Job.
	var name string
	eventually(t, "the CooperativeExport of "+coop, func() error {
		list := &coopv1.CooperativeExportList{}
		if err := h.k8s.List(ctx, list, client.InNamespace(coopv1.NamespacePrefix+coop)); err != nil {
			return err
		}
		for _, ex := range list.Items {
			if ex.Status.Phase == "" || ex.Status.Phase == coopv1.ExportRunning || ex.Status.Phase == coopv1.ExportPending {
				name = ex.Name
				return nil
			}
		}
		return errors.New("none yet")
	})
	if jobSucceeds {
		if err := playJob(t, h, coopv1.NamespacePrefix+coop, name); err != nil {
			t.Fatal(err)
		}
	} else {
		eventually(t, "the export Job", func() error {
			return h.k8s.Get(ctx, client.ObjectKey{Namespace: coopv1.NamespacePrefix + coop, Name: name}, &batchv1.Job{})
		})
		if err := harness.SimulateJobDone(ctx, h.k8s, coopv1.NamespacePrefix+coop, name, false); err != nil {
			t.Fatal(err)
		}
	}
	return <-done
}

func TestExport_CoopAdminTakesTheirCoopWithThem(t *testing.T) {
	ctx := context.Background()
	coop, db := coopOn(t, hubA, "fairride-lyon", "fairride-admins")
	other, _ := coopOn(t, hubA, "other-coop", "other-admins")
	p := newPlatform(t, coop, db)
	rider := p.seed()
	// Live credentials of the members' app: a sign-in code and a browser session.
	p.call(201, "POST", "/v1/members/"+itoa(rider.id)+"/sign-in-codes", rider.token, nil)
	openSession(t, db, rider.id)
	counts, balances := snapshot(t, db)
	if counts["members"] != 3 || counts["ledger_entries"] == 0 || counts["ballots"] == 0 || counts["member_tokens"] != 3 ||
		counts["sign_in_codes"] != 1 || counts["web_sessions"] != 1 {
		t.Fatalf("the seeded platform holds %v", counts)
	}
	riderExport := p.call(200, "GET", "/v1/members/"+itoa(rider.id)+"/export", adminToken, nil)

	billed(t, coop.Name, other.Name)
	// The open period's usage, as the metering writes it.
	openUsage := map[string]any{"lastSampleTime": "2026-02-10T12:00:00Z", "currentPeriod": "2026-02", "estimatedAmount": "12.50", "currency": "EUR",
		"periods": []any{map[string]any{"period": "2026-02", "cpuMillicoreSeconds": "4200000", "memoryByteSeconds": "0", "storageByteSeconds": "0"}}}
	if err := ssa.ApplyStatus(ctx, hubA.k8s, coopv1.GroupVersion.WithKind("Cooperative"), client.ObjectKeyFromObject(coop), map[string]any{"usage": openUsage}, metering.FieldOwner); err != nil {
		t.Fatal(err)
	}

	ana := coopAdmin(t, hubA, "ana", "fairride-admins", coop.Name)
	out := filepath.Join(tmpDir, "fairride.tar.gz")
	r := exportAs(t, hubA, ana, coop.Name, out, true)
	if r.code != 0 {
		t.Fatalf("export as the co-op's admin: exit %d\n%s\n%s", r.code, r.out, r.errs)
	}
	for _, step := range []string{"[1/7] database dump", "[2/7] database dump: downloading", "[3/7] cooperative.yaml", "[7/7] backups.json", "Wrote " + out} {
		if !strings.Contains(r.out, step) {
			t.Errorf("the progress does not show %q:\n%s", step, r.out)
		}
	}

	// The archive verifies, and holds every part.
	a, err := export.Open(out)
	if err != nil {
		t.Fatalf("the archive does not verify: %v", err)
	}
	defer a.Close()
	want := []string{export.BackupsFile, export.CooperativeFile, export.CostsFile, export.DumpFile, export.PlanFile, export.TemplateFile, export.ReadmeFile, export.ManifestFile}
	got := listDir(t, a.Dir)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the archive holds %v, want %v", got, want)
	}
	// The archive dates its data by the dump, not by when the command ran.
	done := &coopv1.CooperativeExport{}
	if err := hubA.k8s.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: a.Manifest.Export}, done); err != nil {
		t.Fatal(err)
	}
	if d := a.Manifest.DumpedAt; d == nil || done.Status.CompletionTime == nil || !d.Equal(done.Status.CompletionTime.Truncate(time.Second)) {
		t.Errorf("manifest.json dumpedAt %v, the export completed at %v", d, done.Status.CompletionTime)
	}
	if !strings.Contains(r.out, "database dump: made at "+done.Status.CompletionTime.UTC().Format(time.RFC3339)) || !strings.Contains(r.out, "ago: what the platform wrote since is not in the archive") {
		t.Errorf("the command does not say when the dump was made:\n%s", r.out)
	}
	// The Cooperative as the co-op wrote it: no status, no hub-internal fields.
	raw, err := os.ReadFile(a.Path(export.CooperativeFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, internal := range []string{"status:", "managedFields", "uid:", "resourceVersion", "generation", "creationTimestamp", "finalizers", coopv1.AnnotationReconcileRequestedAt} {
		if strings.Contains(string(raw), internal) {
			t.Errorf("cooperative.yaml holds %s:\n%s", internal, raw)
		}
	}
	var written coopv1.Cooperative
	if err := yaml.UnmarshalStrict(raw, &written); err != nil {
		t.Fatal(err)
	}
	live := &coopv1.Cooperative{}
	if err := hubA.k8s.Get(ctx, client.ObjectKeyFromObject(coop), live); err != nil {
		t.Fatal(err)
	}
	if written.Name != coop.Name || written.Labels["team"] != "drivers" || written.Annotations["note"] != "ours" || !equalJSON(t, written.Spec, live.Spec) {
		t.Errorf("cooperative.yaml is not the co-op's manifest:\n%s", raw)
	}
	// The backups' location.
	var backups export.Backups
	readJSON(t, a.Path(export.BackupsFile), &backups)
	if backups.Bucket != "s3://bucket-a" || backups.Prefix != "region-a/fairride-lyon/" || backups.RecoveryWindow != "30d" || backups.Tier != "dedicated" {
		t.Errorf("backups.json: %+v", backups)
	}
	// The co-op's cost lines, and no other co-op's.
	var costs []export.CostLine
	readJSON(t, a.Path(export.CostsFile), &costs)
	var line coopv1.CostLine
	if len(costs) != 2 || costs[0].Report != "2026-01" || costs[0].Currency != "EUR" || json.Unmarshal(costs[0].Line, &line) != nil || line.Cooperative != coop.Name || line.Amount == "" {
		t.Errorf("costs.json: %s", harness.MustJSON(t, costs))
	}
	// And last the open period, which no CostReport splits yet: the old hub's final bill
	// is checked against it.
	var usage coopv1.UsageStatus
	if open := costs[len(costs)-1]; open.Phase != export.OpenPeriod || open.Period != "2026-02" || open.Currency != "EUR" || json.Unmarshal(open.Usage, &usage) != nil ||
		usage.EstimatedAmount != "12.50" || len(usage.Periods) != 1 || usage.Periods[0].CPUMillicoreSeconds != "4200000" {
		t.Errorf("costs.json's open period: %s", harness.MustJSON(t, costs[len(costs)-1]))
	}
	// The operator recorded the SHA-256 of what the Job uploaded, and the archive's dump
	// is that.
	if part, _ := a.Manifest.Part(export.DumpFile); done.Status.Dump == nil || done.Status.Dump.SHA256 != part.SHA256 {
		t.Errorf("status.dump %+v, the archive's dump has SHA-256 %s", done.Status.Dump, part.SHA256)
	}
	// The dump is the one the Job uploaded to the co-op's own prefix.
	dump, err := os.ReadFile(a.Path(export.DumpFile))
	if err != nil {
		t.Fatal(err)
	}
	inStore, ok := store.Object("bucket-a/region-a/fairride-lyon/exports/" + a.Manifest.Export + ".dump")
	if !ok || string(inStore) != string(dump) || !strings.HasPrefix(string(dump), "PGDMP") {
		t.Errorf("the archive's dump (%d bytes) is not the uploaded one (%d bytes, found %v)", len(dump), len(inStore), ok)
	}

	t.Run("a tampered archive is refused", func(t *testing.T) {
		tampered := filepath.Join(tmpDir, "tampered")
		copyDir(t, a.Dir, tampered)
		b, err := os.ReadFile(filepath.Join(tampered, export.CostsFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tampered, export.CostsFile), append(b, ' '), 0o600); err != nil {
			t.Fatal(err)
		}
		r := runCLI(ctx, hubB.kubeconfig, "import", tampered)
		if r.code != cli.ExitError || !strings.Contains(r.errs, "does not match its manifest: part costs.json has SHA-256") || !strings.Contains(r.errs, "nothing was written") {
			t.Errorf("import of a tampered archive: exit %d\n%s", r.code, r.errs)
		}
		if err := hubB.k8s.Get(ctx, client.ObjectKey{Name: coop.Name}, &coopv1.Cooperative{}); err == nil {
			t.Error("a tampered archive created the Cooperative")
		}
	})

	t.Run("imported on another hub, the platform starts on the same data", func(t *testing.T) {
		importOnB(t, coop, out, db, rider, riderExport, counts, balances)
	})
	_ = other
}

// importOnB imports the archive out on hub B, which names its plans differently, while
// the test plays the restore Job, and checks that B's co-op has A's data.
func importOnB(t *testing.T, coop *coopv1.Cooperative, out, dbA string, rider member, riderExport map[string]any, counts, balances map[string]int64) {
	ctx := context.Background()
	hubB.coopCredentials(t, coop.Name)
	// Hub B calls its small plan "standard".
	small := &coopv1.HostingPlan{}
	if err := hubB.k8s.Get(ctx, client.ObjectKey{Name: "small"}, small); err != nil {
		t.Fatal(err)
	}
	standard := &coopv1.HostingPlan{ObjectMeta: metav1.ObjectMeta{Name: "standard"}, Spec: small.Spec}
	if err := hubB.k8s.Create(ctx, standard); err != nil {
		t.Fatal(err)
	}
	if err := hubB.k8s.Delete(ctx, small); err != nil {
		t.Fatal(err)
	}
	r := runCLI(ctx, hubB.kubeconfig, "import", out)
	if r.code != cli.ExitNotFound || !strings.Contains(r.errs, `HostingPlan "small" does not exist on this hub`) || !strings.Contains(r.errs, "--plan-map small=NAME") || !strings.Contains(r.errs, "standard") {
		t.Fatalf("import with a plan this hub does not have: exit %d\n%s", r.code, r.errs)
	}

	done := make(chan result, 1)
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	go func() { done <- runCLI(cctx, hubB.kubeconfig, "import", out, "--plan-map", "small=standard") }()
	imported := &coopv1.Cooperative{}
	eventually(t, "the imported Cooperative", func() error {
		return hubB.k8s.Get(ctx, client.ObjectKey{Name: coop.Name}, imported)
	})
	if imported.Spec.Plan != "standard" {
		t.Errorf("the imported co-op's plan is %q, want standard", imported.Spec.Plan)
	}
	// Its platform waits at zero replicas until the data is restored.
	eventually(t, "the platform Deployment held at zero", func() error {
		d := &appsv1.Deployment{}
		if err := hubB.k8s.Get(ctx, client.ObjectKey{Namespace: imported.NamespaceName(), Name: "api"}, d); err != nil {
			return err
		}
		if d.Spec.Replicas == nil || *d.Spec.Replicas != 0 {
			return fmt.Errorf("replicas %v", d.Spec.Replicas)
		}
		return nil
	})
	// CloudNativePG would create the new database, owned by its application owner (no
	// superuser: the restore runs as that owner), and its app Secret.
	dbB := pgtest.NewOwnedDB(t)
	if err := hubB.k8s.Create(ctx, appSecret(t, imported, dbB)); err != nil {
		t.Fatal(err)
	}
	// The restore waits for the database to accept connections, which the app Secret
	// alone does not say: CloudNativePG writes it before initdb.
	eventually(t, "the import waiting for the database", func() error {
		got := &coopv1.Cooperative{}
		if err := hubB.k8s.Get(ctx, client.ObjectKeyFromObject(imported), got); err != nil {
			return err
		}
		if o := got.Status.Origin; o == nil || !strings.Contains(o.Message, "waiting for the database to be ready") {
			return fmt.Errorf("origin %+v", o)
		}
		return nil
	})
	if err := hubB.k8s.Get(ctx, client.ObjectKey{Namespace: imported.NamespaceName(), Name: coop.Name + "-import"}, &batchv1.Job{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the restore Job before the database is ready: %v, want none", err)
	}
	if err := harness.SimulateClusterReady(ctx, hubB.k8s, imported.NamespaceName(), coopv1.ClusterName(imported)); err != nil {
		t.Fatal(err) // what CloudNativePG writes once the instance is up
	}
	uploaded := strings.TrimPrefix(export.ImportPrefix(&hubB.cfg, coop.Name), "s3://") + imported.Annotations[coopv1.AnnotationImportDump]
	if _, ok := store.Object(uploaded); !ok {
		t.Fatalf("the command did not upload the dump to %s", uploaded)
	}
	if err := playJob(t, hubB, imported.NamespaceName(), coop.Name+"-import"); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.code != 0 || !strings.Contains(r.out, "[1/5] checking") || !strings.Contains(r.out, "Imported "+coop.Name) ||
		!strings.Contains(r.out, "ago: what the old hub's platform wrote since is not in it") {
		t.Fatalf("import: exit %d\n%s\n%s", r.code, r.out, r.errs)
	}
	if err := hubB.k8s.Get(ctx, client.ObjectKey{Name: coop.Name}, imported); err != nil {
		t.Fatal(err)
	}
	o := imported.Status.Origin
	if o == nil || o.Cooperative != coop.Name || o.RestoredAt == nil || o.Backups != "bucket-a/region-a/"+coop.Name+"/" || o.Export == "" || o.ExportedAt == nil {
		t.Errorf("status.origin: %+v", o)
	}
	if a, err := export.Open(out); err != nil {
		t.Error(err)
	} else {
		if o == nil || o.DumpedAt == nil || a.Manifest.DumpedAt == nil || !o.DumpedAt.Time.Equal(*a.Manifest.DumpedAt) {
			t.Errorf("status.origin.dumpedAt %+v, the archive's %v", o, a.Manifest.DumpedAt)
		}
		a.Close()
	}
	eventually(t, "the import annotations removed after the restore", func() error {
		c := &coopv1.Cooperative{}
		if err := hubB.k8s.Get(ctx, client.ObjectKey{Name: coop.Name}, c); err != nil {
			return err
		}
		if c.AwaitingRestore() {
			return errors.New("still awaiting the restore")
		}
		return nil
	})
	// The dump, every member's data, went before the platform was released.
	if _, ok := store.Object(uploaded); ok {
		t.Errorf("the imported dump %s is still in the store after the restore", uploaded)
	}
	// The spec is the co-op's, with the plan mapped and without its admins (identities of
	// hub A, which hub B's admin binds again).
	want := coop.DeepCopy()
	live := &coopv1.Cooperative{}
	if err := hubA.k8s.Get(ctx, client.ObjectKeyFromObject(coop), live); err != nil {
		t.Fatal(err)
	}
	want.Spec = live.Spec
	want.Spec.Plan = "standard"
	want.Spec.Admins = nil
	if !equalJSON(t, want.Spec, imported.Spec) {
		t.Errorf("the imported spec differs:\n%s\n%s", harness.MustJSON(t, want.Spec), harness.MustJSON(t, imported.Spec))
	}
	eventually(t, "the platform scaled up after the restore", func() error {
		d := &appsv1.Deployment{}
		if err := hubB.k8s.Get(ctx, client.ObjectKey{Namespace: imported.NamespaceName(), Name: "api"}, d); err != nil {
			return err
		}
		if d.Spec.Replicas == nil || *d.Spec.Replicas == 0 {
			return fmt.Errorf("replicas %v", d.Spec.Replicas)
		}
		return nil
	})
	// The same data: every table's rows, the ledger's balances, a member's export; but
	// the members' app's sessions and sign-in codes, live credentials, which the export
	// leaves out (export.CredentialTables).
	wantCounts := maps.Clone(counts)
	for _, tbl := range export.CredentialTables {
		if _, ok := wantCounts[tbl]; !ok {
			t.Errorf("the platform has no table %s: the export leaves out the rows of a table that is not there", tbl)
		}
		wantCounts[tbl] = 0
	}
	gotCounts, gotBalances := snapshot(t, dbB)
	if !maps.Equal(gotCounts, wantCounts) || !maps.Equal(gotBalances, balances) {
		t.Errorf("on hub B: rows %v balances %v\nwant rows %v balances %v", gotCounts, gotBalances, wantCounts, balances)
	}
	pB := newPlatform(t, imported, dbB)
	if got := pB.call(200, "GET", "/v1/members/"+itoa(rider.id)+"/export", adminToken, nil); !equalJSON(t, got, riderExport) {
		t.Errorf("the member's export differs:\n%s\n%s", harness.MustJSON(t, got), harness.MustJSON(t, riderExport))
	}
	// A member's token carries over (member_tokens holds its hash): the member goes on
	// with it on the new hub.
	pB.call(200, "GET", "/v1/members/"+itoa(rider.id)+"/export", rider.token, nil)
	restoredAsOwner(t, dbB)
	// The vote goes on through the database owner's functions (SECURITY DEFINER), which
	// the serving role calls: the rider casts the last ballot of A's proposal, staff close
	// it, and a new one opens.
	props := pB.call(200, "GET", "/v1/proposals", rider.token, nil)["proposals"].([]any)
	if len(props) != 1 {
		t.Fatalf("proposals on hub B: %v", props)
	}
	prop := itoa(int64(props[0].(map[string]any)["id"].(float64)))
	pB.call(200, "PUT", "/v1/proposals/"+prop+"/ballot", rider.token, map[string]any{"choice": "no"})
	if closed := pB.call(200, "POST", "/v1/proposals/"+prop+"/close", adminToken, nil); closed["status"] != "closed" {
		t.Errorf("A's proposal closed on hub B: %v", closed)
	}
	pB.call(201, "POST", "/v1/proposals", rider.token, map[string]any{"title": "Night rides", "body": "From B on."})
	// The restore (without privileges) let PUBLIC call every function again; the
	// platform's start took back what the serving role may not call, as the migrations did.
	if _, err := pgtest.Pool(t, pB.serving).Exec(ctx, `SELECT notify(ARRAY[`+itoa(rider.id)+`::bigint], 'workCancelled', 1, '', now())`); err == nil || !strings.Contains(err.Error(), "42501") {
		t.Errorf("the serving role writes a notification itself: %v, want permission denied (42501)", err)
	}
}

// restoredAsOwner checks that the database at ownerURL was restored as its owner, no
// superuser, as on a hub (CloudNativePG's application owner): the restore made every
// relation and function of schema public that owner's, the functions that run as their
// owner (SECURITY DEFINER) too, of which the platform's schema has some.
func restoredAsOwner(t *testing.T, ownerURL string) {
	t.Helper()
	ctx := context.Background()
	owner := pgtest.Pool(t, ownerURL)
	var super bool
	var others []string
	var definers int
	if err := owner.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&super); err != nil {
		t.Fatal(err)
	}
	rows, err := owner.Query(ctx, `SELECT c.oid::regclass::text || ' of ' || pg_get_userbyid(c.relowner) FROM pg_class c
			WHERE c.relnamespace = 'public'::regnamespace AND c.relowner <> (SELECT datdba FROM pg_database WHERE datname = current_database())
		UNION ALL SELECT p.oid::regprocedure::text || ' of ' || pg_get_userbyid(p.proowner) FROM pg_proc p
			WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> (SELECT datdba FROM pg_database WHERE datname = current_database())`)
	if err == nil {
		others, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.QueryRow(ctx, `SELECT count(*) FROM pg_proc p JOIN pg_database d ON d.datname = current_database()
		WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef AND p.proowner = d.datdba`).Scan(&definers); err != nil {
		t.Fatal(err)
	}
	if super || len(others) > 0 || definers == 0 {
		t.Errorf("the restore: the owner is a superuser %v; not the owner's: %v; the owner's SECURITY DEFINER functions: %d", super, others, definers)
	}
}

// billed enters January's bill on hub A and the usage the metering recorded for two
// co-ops, and waits for the CostReport controller to split it.
func billed(t *testing.T, coops ...string) {
	t.Helper()
	ctx := context.Background()
	report := &coopv1.CostReport{
		ObjectMeta: metav1.ObjectMeta{Name: "2026-01"},
		Spec: coopv1.CostReportSpec{
			Period:   coopv1.Period{Start: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), End: metav1.NewTime(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))},
			Currency: "EUR",
			Lines:    []coopv1.BillLine{{Description: "servers", Amount: "100.00", Pool: coopv1.PoolCompute}},
		},
	}
	if err := hubA.k8s.Create(ctx, report); err != nil {
		t.Fatal(err)
	}
	var usage []any
	for i, c := range coops {
		usage = append(usage, map[string]any{"cooperative": c, "cpuMillicoreSeconds": fmt.Sprint((i + 1) * 1000000), "memoryByteSeconds": "0", "storageByteSeconds": "0"})
	}
	if err := ssa.ApplyStatus(ctx, hubA.k8s, coopv1.GroupVersion.WithKind("CostReport"), client.ObjectKey{Name: report.Name}, map[string]any{"usage": usage}, metering.FieldOwner); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the split of 2026-01", func() error {
		if err := hubA.k8s.Get(ctx, client.ObjectKeyFromObject(report), report); err != nil {
			return err
		}
		if len(report.Status.Lines) != len(coops) {
			return fmt.Errorf("lines %+v", report.Status.Lines)
		}
		return nil
	})
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range listDir(t, from) {
		b, err := os.ReadFile(filepath.Join(from, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestExport_CoopAdminCannotReachAnotherCoop: a co-op admin, with the roles the operator
// and the shipped ClusterRole give, may create and get exports of their own co-op only,
// read only their own download Secret, and do nothing else with exports.
func TestExport_CoopAdminCannotReachAnotherCoop(t *testing.T) {
	ctx := context.Background()
	own, _ := coopOn(t, hubA, "own-coop", "own-admins")
	other, _ := coopOn(t, hubA, "their-coop", "their-admins")
	kc := coopAdmin(t, hubA, "omar", "own-admins", own.Name)
	// The other co-op has an export of its own, made by its admins.
	theirs := &coopv1.CooperativeExport{ObjectMeta: metav1.ObjectMeta{Namespace: other.NamespaceName(), Name: "theirs"}}
	if err := hubA.k8s.Create(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	if err := hubA.k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: other.NamespaceName(), Name: coopv1.ExportDownloadSecretName(other)}}); err != nil {
		t.Fatal(err)
	}
	omar := clientOf(t, hubA, kc)
	mine := &coopv1.CooperativeExport{ObjectMeta: metav1.ObjectMeta{Namespace: own.NamespaceName(), Name: "mine"}}
	if err := omar.Create(ctx, mine); err != nil {
		t.Fatalf("creating an export of their own co-op: %v", err)
	}
	if err := omar.Get(ctx, client.ObjectKeyFromObject(mine), mine); err != nil {
		t.Fatalf("reading their own export: %v", err)
	}
	forbidden := func(what string, err error) {
		t.Helper()
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s: %v, want forbidden", what, err)
		}
	}
	forbidden("creating an export of another co-op", omar.Create(ctx, &coopv1.CooperativeExport{ObjectMeta: metav1.ObjectMeta{Namespace: other.NamespaceName(), Name: "steal"}}))
	forbidden("reading another co-op's export", omar.Get(ctx, client.ObjectKeyFromObject(theirs), &coopv1.CooperativeExport{}))
	forbidden("reading another co-op's download Secret", omar.Get(ctx, client.ObjectKey{Namespace: other.NamespaceName(), Name: coopv1.ExportDownloadSecretName(other)}, &corev1.Secret{}))
	forbidden("listing exports", omar.List(ctx, &coopv1.CooperativeExportList{}, client.InNamespace(own.NamespaceName())))
	forbidden("deleting an export", omar.Delete(ctx, mine))
	mine.Spec.LinkValidity = "1h"
	forbidden("changing an export", omar.Update(ctx, mine))
	forbidden("writing an export's status", omar.Status().Update(ctx, mine))
	forbidden("reading the object store keys the export uses", omar.Get(ctx, client.ObjectKey{Namespace: own.NamespaceName(), Name: coopv1.ObjectStoreSecretName}, &corev1.Secret{}))
	forbidden("reading the export Job's Secrets by listing", omar.List(ctx, &corev1.SecretList{}, client.InNamespace(own.NamespaceName())))

	// Through the command line: another co-op is refused before anything is written.
	r := runCLI(ctx, kc, "export", other.Name, "-o", filepath.Join(tmpDir, "stolen.tar.gz"))
	if r.code != cli.ExitForbidden || !strings.Contains(r.errs, "reading Cooperative their-coop: forbidden") {
		t.Errorf("export of another co-op: exit %d\n%s", r.code, r.errs)
	}
	if _, err := os.Stat(filepath.Join(tmpDir, "stolen.tar.gz")); !os.IsNotExist(err) {
		t.Errorf("the refused export left a file: %v", err)
	}
	list := &coopv1.CooperativeExportList{}
	if err := hubA.k8s.List(ctx, list, client.InNamespace(other.NamespaceName())); err != nil || len(list.Items) != 1 {
		t.Errorf("exports of the other co-op: %d (%v), want only its own", len(list.Items), err)
	}
}

// TestExport_FailedDumpLeavesNoArchive: when the dump Job fails, the command says which
// part failed and leaves nothing that looks like an archive.
func TestExport_FailedDumpLeavesNoArchive(t *testing.T) {
	coop, _ := coopOn(t, hubA, "failing-coop", "failing-admins")
	kc := coopAdmin(t, hubA, "fay", "failing-admins", coop.Name)
	dir := t.TempDir()
	out := filepath.Join(dir, "failing.tar.gz")
	r := exportAs(t, hubA, kc, coop.Name, out, false)
	if r.code != cli.ExitError || !strings.Contains(r.errs, "export failed at database.dump") || !strings.Contains(r.errs, "no archive was written") || !strings.Contains(r.errs, "failed") {
		t.Errorf("a failed dump: exit %d\n%s\n%s", r.code, r.out, r.errs)
	}
	if left := listDir(t, dir); len(left) != 0 {
		t.Errorf("a failed export left %v", left)
	}
	ex := &coopv1.CooperativeExportList{}
	if err := hubA.k8s.List(context.Background(), ex, client.InNamespace(coop.NamespaceName())); err != nil || len(ex.Items) != 1 ||
		ex.Items[0].Status.Phase != coopv1.ExportFailed || ex.Items[0].Status.CompletionTime == nil {
		t.Errorf("the failed export's status: %+v (%v)", ex.Items, err)
	}
}

// TestExport_NameOfTheRestoreJobIsRefused: a co-op admin names an export after the Job that
// restores an imported co-op (<co-op>-import). The export fails with a reason that says
// so, and no Job of that name is made: such a Job would count as the import's restore.
func TestExport_NameOfTheRestoreJobIsRefused(t *testing.T) {
	ctx := context.Background()
	own, _ := coopOn(t, hubA, "named-coop", "named-admins")
	kc := coopAdmin(t, hubA, "nadia", "named-admins", own.Name)
	nadia := clientOf(t, hubA, kc)
	ex := &coopv1.CooperativeExport{ObjectMeta: metav1.ObjectMeta{Namespace: own.NamespaceName(), Name: export.RestoreJobName(own)}}
	if err := nadia.Create(ctx, ex); err != nil {
		t.Fatalf("creating the export: %v", err)
	}
	eventually(t, "the export refused for its name", func() error {
		got := &coopv1.CooperativeExport{}
		if err := hubA.k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
			return err
		}
		c := meta.FindStatusCondition(got.Status.Conditions, coopv1.ConditionExportComplete)
		if got.Status.Phase != coopv1.ExportFailed || c == nil || c.Reason != coopv1.ReasonExportJobNameTaken || !strings.Contains(c.Message, "reserved for the Job that restores") {
			return fmt.Errorf("phase %q, condition %+v", got.Status.Phase, c)
		}
		return nil
	})
	err := hubA.k8s.Get(ctx, client.ObjectKey{Namespace: own.NamespaceName(), Name: export.RestoreJobName(own)}, &batchv1.Job{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("a Job named after the restore: %v, want none", err)
	}
	// A name its Job cannot take is refused at the API, not left Pending for ever (in the
	// co-op's quota of exports).
	long := &coopv1.CooperativeExport{ObjectMeta: metav1.ObjectMeta{Namespace: own.NamespaceName(), Name: strings.Repeat("x", 64)}}
	if err := nadia.Create(ctx, long); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "metadata.name must be at most 63 characters") {
		t.Errorf("an export named with 64 characters: %v, want refused naming metadata.name", err)
	}
}

// TestImport_OnlyItsOwnJobRestores: a Job that has the restore Job's name but was not made
// for the import (by the co-op's Cooperative) does not count: when it completes, the
// import annotations stay, the platform stays stopped, and status.origin says why. On hub
// A, whose plans no other test changes (the import test renames hub B's small plan).
func TestImport_OnlyItsOwnJobRestores(t *testing.T) {
	ctx := context.Background()
	coop, err := harness.Sample("coop_v1alpha1_cooperative_fairride.yaml")
	if err != nil {
		t.Fatal(err)
	}
	coop.Name = "imported-coop"
	coop.Spec.Platform.Host = ""
	coop.Annotations = map[string]string{
		coopv1.AnnotationImportDump:   "imported-coop.dump",
		coopv1.AnnotationImportSHA256: strings.Repeat("ab", 32),
	}
	hubA.coopCredentials(t, coop.Name)
	if err := hubA.k8s.Create(ctx, coop); err != nil {
		t.Fatal(err)
	}
	ns := coop.NamespaceName()
	eventually(t, "the namespace of "+coop.Name, func() error {
		return hubA.k8s.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{})
	})
	// A Job of the restore's name and with the operator's label (as an export's Job has),
	// made by someone else, before the database is there.
	foreign := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: export.RestoreJobName(coop),
			Labels: map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue}},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: "c", Image: "busybox"}},
		}}},
	}
	if err := hubA.k8s.Create(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	if err := harness.SimulateJobDone(ctx, hubA.k8s, ns, foreign.Name, true); err != nil {
		t.Fatal(err)
	}
	if err := hubA.k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: coopv1.AppSecretName(coop)},
		Data:       map[string][]byte{"uri": []byte(pgtest.NewDB(t)), "username": []byte("app"), "password": []byte("x")},
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "status.origin saying the Job was not made for the import", func() error {
		got := &coopv1.Cooperative{}
		if err := hubA.k8s.Get(ctx, client.ObjectKeyFromObject(coop), got); err != nil {
			return err
		}
		if got.Status.Origin == nil || !strings.Contains(got.Status.Origin.Message, "was not made for this import") {
			return fmt.Errorf("origin %+v", got.Status.Origin)
		}
		if got.Annotations[coopv1.AnnotationImportDump] == "" || got.Status.Origin.RestoredAt != nil {
			return fmt.Errorf("released: annotations %v, origin %+v", got.Annotations, got.Status.Origin)
		}
		return nil
	})
}

// TestImport_ADumpTheStoreKeepsIsSaid: once the data is restored, the operator deletes the
// imported dump (every member's data) with the co-op's own keys. A store that refuses (here:
// the co-op's keys may only read) leaves it there: an event (ImportDumpLeft) tells the hub
// to delete it by hand, and the platform is released all the same.
func TestImport_ADumpTheStoreKeepsIsSaid(t *testing.T) {
	ctx := context.Background()
	coop, err := harness.Sample("coop_v1alpha1_cooperative_fairride.yaml")
	if err != nil {
		t.Fatal(err)
	}
	coop.Name = "kept-dump"
	coop.Spec.Platform.Host = ""
	coop.Annotations = map[string]string{
		coopv1.AnnotationImportDump:   "kept-dump.dump",
		coopv1.AnnotationImportSHA256: strings.Repeat("cd", 32),
	}
	prefix := "bucket-" + hubA.name + "/" + hubA.cfg.Region + "/" + coop.Name + "/"
	for _, name := range []string{hubA.cfg.ObjectStore.CooperativeCredentialsSecret(coop.Name), hubA.cfg.ObjectStore.ReadCredentialsSecret(coop.Name)} {
		store.AddKey(name+"-key", name+"-secret", prefix, false) // the store lets these keys read only
		if err := hubA.k8s.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: hubA.cfg.OperatorNamespace, Name: name},
			Data:       map[string][]byte{coopv1.AccessKeyIDKey: []byte(name + "-key"), coopv1.AccessSecretKeyKey: []byte(name + "-secret")},
		}); err != nil {
			t.Fatal(err)
		}
	}
	// The command uploaded the dump there.
	dump := strings.TrimPrefix(export.ImportPrefix(&hubA.cfg, coop.Name), "s3://") + "kept-dump.dump"
	store.Put(dump, []byte("every member's data"))
	deletes := store.Deletes()
	if err := hubA.k8s.Create(ctx, coop); err != nil {
		t.Fatal(err)
	}
	ns := coop.NamespaceName()
	eventually(t, "the namespace of "+coop.Name, func() error {
		return hubA.k8s.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{})
	})
	if err := hubA.k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: coopv1.AppSecretName(coop)},
		Data:       map[string][]byte{"uri": []byte(pgtest.NewDB(t)), "username": []byte("app"), "password": []byte("x")},
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the database ready", func() error { // what CloudNativePG writes once the instance is up
		return harness.SimulateClusterReady(ctx, hubA.k8s, ns, coopv1.ClusterName(coop))
	})
	eventually(t, "the restore Job", func() error {
		return hubA.k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: export.RestoreJobName(coop)}, &batchv1.Job{})
	})
	// The Job controller would write that the restore succeeded.
	if err := harness.SimulateJobDone(ctx, hubA.k8s, ns, export.RestoreJobName(coop), true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the event saying the dump stays, and the platform released", func() error {
		var events corev1.EventList
		if err := hubA.k8s.List(ctx, &events); err != nil {
			return err
		}
		said := false
		for _, e := range events.Items {
			if e.InvolvedObject.Name == coop.Name && e.Reason == coopv1.ReasonImportDumpLeft &&
				strings.Contains(e.Message, export.ImportPrefix(&hubA.cfg, coop.Name)+"kept-dump.dump") && strings.Contains(e.Message, "deletes it by hand") &&
				strings.Contains(e.Message, "AccessDenied") {
				said = true
			}
		}
		if !said {
			return errors.New("no ImportDumpLeft event naming the dump")
		}
		got := &coopv1.Cooperative{}
		if err := hubA.k8s.Get(ctx, client.ObjectKeyFromObject(coop), got); err != nil {
			return err
		}
		if got.AwaitingRestore() {
			return errors.New("still awaiting the restore")
		}
		return nil
	})
	if _, ok := store.Object(dump); !ok || store.Deletes() != deletes {
		t.Errorf("the store deleted the dump (there: %v, deletes %d, were %d): it should have refused", ok, store.Deletes(), deletes)
	}
}
