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
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/cli"
	"github.com/cooperator-dev/cooperator/controllers/cooperative"
	"github.com/cooperator-dev/cooperator/controllers/export"
	"github.com/cooperator-dev/cooperator/test/harness"
	"github.com/cooperator-dev/cooperator/test/pgtest"
)

// forgedArchive writes, with the archive writer `cooperator export` uses (so every
// checksum in its manifest is recomputed and the archive verifies), an archive whose
// cooperative.yaml is coop exactly as given, whatever the hub wrote into it, and whose dump
// is dump, from the export named ex. It returns the archive's path.
func forgedArchive(t *testing.T, coop *coopv1.Cooperative, ex, dump string) string {
	t.Helper()
	return forgedArchiveOf(t, coop.Name, coop, ex, dump)
}

// forgedArchiveOf is forgedArchive, with a manifest that names the co-op manifestCoop.
func forgedArchiveOf(t *testing.T, manifestCoop string, coop *coopv1.Cooperative, ex, dump string) string {
	t.Helper()
	return forgedArchiveWith(t, manifestCoop, coop, ex, dump, nil)
}

// forgedArchiveWith is forgedArchiveOf, with more parts (name: content).
func forgedArchiveWith(t *testing.T, manifestCoop string, coop *coopv1.Cooperative, ex, dump string, parts map[string]string) string {
	t.Helper()
	coop.TypeMeta = metav1.TypeMeta{APIVersion: coopv1.GroupVersion.String(), Kind: "Cooperative"}
	raw, err := yaml.Marshal(coop)
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), coop.Name+".tar.gz")
	w, err := export.NewWriter(target, manifestCoop, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	w.SetExport(ex, time.Now())
	if err := w.Add(export.CooperativeFile, "the Cooperative", bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	if err := w.Add(export.DumpFile, "the dump", strings.NewReader(dump)); err != nil {
		t.Fatal(err)
	}
	for name, content := range parts {
		if err := w.Add(name, name, strings.NewReader(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	a, err := export.Open(target)
	if err != nil {
		t.Fatalf("the forged archive does not verify: %v", err)
	}
	a.Close() // a tarball unpacks to a temporary directory only Close removes
	return target
}

// TestImport_TakesOnlyWhatTheCoopWritesOfItself: cooperator import runs with the hub
// admin's rights, and an archive is easily edited (its checksums are recomputed as
// easily). What only a hub decides, an archive does not: the Cooperative the import creates
// has no standby, suspension, federation peers or primary, admins, owners, finalizers, or
// the operator's own labels and annotations, whatever cooperative.yaml says; the command names
// what it left out; the co-op's own labels, annotations and spec are kept. On hub A, whose
// plans no other test changes.
func TestImport_TakesOnlyWhatTheCoopWritesOfItself(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		forge  func(*coopv1.Cooperative)
		saying []string
	}{
		{"a standby, suspended, with the operator's metadata", func(c *coopv1.Cooperative) {
			c.Spec.Standby = &coopv1.StandbySpec{HomeRegion: "region-z", HomeCooperative: c.Name, PrimaryServerName: c.Name,
				ObjectStore:      coopv1.StandbyObjectStore{DestinationPath: "s3://bucket-z/region-z/" + c.Name + "/", SecretName: "z"},
				ConsentedRegions: []string{"region-a"}, PrimaryRegion: "region-z"}
			c.Spec.Suspend = true
			c.Labels[coopv1.LabelMirroredFrom] = "region-z"
			c.Annotations[coopv1.AnnotationMoveTo] = "peer-z"
			c.Annotations[coopv1.AnnotationFailover] = coopv1.AcceptDataLoss
			c.Annotations[coopv1.AnnotationImportDump] = "../../other-coop/exports/theirs.dump"
			c.Finalizers = []string{coopv1.Finalizer, "example.org/keep-for-ever"}
			c.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Namespace", Name: "kube-system", UID: "6b2e1f0a-0000-4000-8000-000000000001"}}
		}, []string{"spec.standby", "spec.suspend", `labels "coop.cooperator.dev/mirrored-from"`,
			`"coop.cooperator.dev/move-to"`, `"coop.cooperator.dev/failover"`, `"coop.cooperator.dev/import-dump"`,
			"metadata.ownerReferences", `metadata.finalizers "coop.cooperator.dev/finalizer", "example.org/keep-for-ever"`,
			`spec.admins "Group fairride-admins"`, "set peers, admins or suspension again here"}},
		{"a home with peers and a primary there", func(c *coopv1.Cooperative) {
			c.Spec.Federation = coopv1.FederationSpec{Peers: []coopv1.FederationPeerRef{{Name: "peer-y"}, {Name: "peer-z"}}, Primary: "peer-z"}
		}, []string{`spec.federation.peers "peer-y", "peer-z"`, `spec.federation.primary "peer-z"`}},
		// Backups kept longer, or taken closer, than a co-op may ask: only the hub sets
		// them, and the import runs as the hub's admin, whom the webhook lets.
		{"a backup kept 120 days, every 10 minutes", func(c *coopv1.Cooperative) {
			c.Spec.Backup = coopv1.BackupSpec{Retention: "120d", Schedule: "0 */10 * * * *"}
		}, []string{`spec.backup.retention "120d" (keeps backups 120 days`, `spec.backup.schedule "0 */10 * * * *" (backs up as often as every 10m0s`,
			"only the hub sets a longer retention", "only the hub sets a closer schedule"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "forged-" + strings.ReplaceAll(strings.Fields(tc.name)[1], ",", "")
			coop, err := harness.Sample("coop_v1alpha1_cooperative_fairride.yaml")
			if err != nil {
				t.Fatal(err)
			}
			coop.Name = name
			coop.Spec.Platform.Host = ""
			coop.Labels = map[string]string{"team": "drivers"}
			coop.Annotations = map[string]string{"note": "ours"}
			// The spec the co-op wrote, as the API server defaults it.
			want := coop.DeepCopy()
			if err := hubA.k8s.Create(ctx, want, client.DryRunAll); err != nil {
				t.Fatal(err)
			}
			// Its admins are the old hub's identities: this hub's admin binds them again.
			want.Spec.Admins = nil
			tc.forge(coop)
			archive := forgedArchive(t, coop, coop.Name+"-20261206100000", "PGDMP forged")
			hubA.coopCredentials(t, name)

			r := runCLI(ctx, hubA.kubeconfig, "import", archive, "--no-wait")
			if r.code != 0 {
				t.Fatalf("import: exit %d\n%s\n%s", r.code, r.out, r.errs)
			}
			for _, s := range tc.saying {
				if !strings.Contains(r.errs, s) {
					t.Errorf("the command does not say it left out %s:\n%s", s, r.errs)
				}
			}
			got := &coopv1.Cooperative{}
			if err := hubA.k8s.Get(ctx, client.ObjectKey{Name: name}, got); err != nil {
				t.Fatal(err)
			}
			if got.Spec.Standby != nil || got.Spec.Suspend || len(got.Spec.Federation.Peers) > 0 || got.Spec.Federation.Primary != "" {
				t.Errorf("the imported co-op keeps what only the hub decides: %s", harness.MustJSON(t, got.Spec))
			}
			if len(got.OwnerReferences) > 0 {
				t.Errorf("the imported co-op has owners: %v", got.OwnerReferences)
			}
			for _, f := range got.Finalizers {
				if f == "example.org/keep-for-ever" {
					t.Errorf("the imported co-op has the archive's finalizers: %v", got.Finalizers)
				}
			}
			for k := range got.Labels {
				if strings.HasPrefix(k, "coop.cooperator.dev/") {
					t.Errorf("the imported co-op has the operator's label %s", k)
				}
			}
			for k, v := range got.Annotations {
				switch k {
				case coopv1.AnnotationImportDump:
					if v != coop.Name+"-20261206100000.dump" {
						t.Errorf("the import annotation names %q, not the dump the command uploaded", v)
					}
				case coopv1.AnnotationImportSHA256, coopv1.AnnotationImportOrigin:
				default:
					if strings.HasPrefix(k, "coop.cooperator.dev/") {
						t.Errorf("the imported co-op has the operator's annotation %s", k)
					}
				}
			}
			// What the co-op wrote of itself stays.
			if got.Labels["team"] != "drivers" || got.Annotations["note"] != "ours" {
				t.Errorf("the co-op's own labels %v or annotations %v are lost", got.Labels, got.Annotations)
			}
			if !equalJSON(t, want.Spec, got.Spec) {
				t.Errorf("the imported spec differs:\n%s\n%s", harness.MustJSON(t, want.Spec), harness.MustJSON(t, got.Spec))
			}
		})
	}
}

// TestImport_NothingIsLeftWhenTheCoopIsRefused: the dump holds every member's data, and
// an import the hub refuses writes nothing (README). The Cooperative is checked (a dry run)
// before the dump is uploaded, and the dump's object name is checked with the operator's
// rule; a create that still fails once the dump is uploaded (a Cooperative of that name
// created meanwhile, Ctrl-C) deletes the upload, and says so. On hub A.
func TestImport_NothingIsLeftWhenTheCoopIsRefused(t *testing.T) {
	sample := func(t *testing.T, name string) *coopv1.Cooperative {
		t.Helper()
		coop, err := harness.Sample("coop_v1alpha1_cooperative_fairride.yaml")
		if err != nil {
			t.Fatal(err)
		}
		coop.Name = name
		coop.Spec.Platform.Host = ""
		hubA.coopCredentials(t, name)
		return coop
	}
	left := func(t *testing.T, coop string) {
		t.Helper()
		for _, o := range store.Under("bucket-a/") {
			if strings.Contains(o, "/"+coop+"/") {
				t.Errorf("the refused import left %s in the object store", o)
			}
		}
	}
	noCoop := func(t *testing.T, name string) {
		t.Helper()
		got := &coopv1.Cooperative{}
		if err := hubA.k8s.Get(context.Background(), client.ObjectKey{Name: name}, got); err == nil && got.Annotations[coopv1.AnnotationImportDump] != "" {
			t.Errorf("the refused import created Cooperative %s", name)
		}
	}

	t.Run("refused by the API server", func(t *testing.T) {
		coop := sample(t, "refused-coop")
		coop.Spec.DisplayName = strings.Repeat("x", 101) // at most 100
		r := runCLI(context.Background(), hubA.kubeconfig, "import", forgedArchive(t, coop, "refused-coop-1", "PGDMP refused"), "--no-wait")
		if r.code != 1 || !strings.Contains(r.errs, "checking Cooperative refused-coop (a dry run)") || !strings.Contains(r.errs, "spec.displayName") ||
			!strings.Contains(r.errs, "nothing was written") || strings.Contains(r.out, "[3/5]") {
			t.Errorf("import of a co-op the API server refuses: exit %d\n%s\n%s", r.code, r.out, r.errs)
		}
		left(t, coop.Name)
		noCoop(t, coop.Name)
	})

	// A plan a co-op may not choose (medium is not self-service) is the hub admin's to
	// give: the archive asking for it is refused, and the admin names it to give it.
	t.Run("a plan that is not self-service", func(t *testing.T) {
		coop := sample(t, "medium-coop")
		coop.Spec.Plan = "medium"
		archive := forgedArchive(t, coop, "medium-coop-1", "PGDMP medium")
		r := runCLI(context.Background(), hubA.kubeconfig, "import", archive, "--no-wait")
		if r.code != cli.ExitForbidden || !strings.Contains(r.errs, `HostingPlan "medium", which is not self-service`) || !strings.Contains(r.errs, "--plan-map medium=medium") ||
			!strings.Contains(r.errs, "nothing was written") || strings.Contains(r.out, "[3/5]") {
			t.Errorf("import asking for a plan the hub gives: exit %d\n%s\n%s", r.code, r.out, r.errs)
		}
		left(t, coop.Name)
		noCoop(t, coop.Name)
		if r := runCLI(context.Background(), hubA.kubeconfig, "import", archive, "--no-wait", "--plan-map", "medium=medium"); r.code != 0 {
			t.Fatalf("import with the plan named: exit %d\n%s\n%s", r.code, r.out, r.errs)
		}
		got := &coopv1.Cooperative{}
		if err := hubA.k8s.Get(context.Background(), client.ObjectKey{Name: coop.Name}, got); err != nil || got.Spec.Plan != "medium" {
			t.Errorf("the imported co-op: %v, plan %q", err, got.Spec.Plan)
		}
	})

	t.Run("a dump name the operator would refuse", func(t *testing.T) {
		coop := sample(t, "dotted-coop")
		r := runCLI(context.Background(), hubA.kubeconfig, "import", forgedArchive(t, coop, "../../other-coop/exports/x", "PGDMP dotted"), "--no-wait")
		if r.code != 1 || !strings.Contains(r.errs, `names the dump's object "../../other-coop/exports/x.dump", which is not one plain object name`) ||
			!strings.Contains(r.errs, "nothing was written") {
			t.Errorf("import of a dump named as a path: exit %d\n%s\n%s", r.code, r.out, r.errs)
		}
		left(t, coop.Name)
		noCoop(t, coop.Name)
	})

	// A co-op of this hub deleted with Retain left its backups' marker: a co-op created
	// under that name recovers those backups, and the restore would find their tables and
	// fail, the platform held at zero and every member's data left in the store. The
	// webhook refuses the dry run, naming the marker, before the dump goes anywhere.
	t.Run("a name whose data this hub retains", func(t *testing.T) {
		ctx := context.Background()
		coop := sample(t, "retained-coop")
		coop.Spec.Database.Tier = coopv1.DatabaseTierDedicated
		marker := cooperative.BuildRetainedMarker(coop, &hubA.cfg, coop.Name, time.Now())
		if err := hubA.k8s.Create(ctx, marker); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = hubA.k8s.Delete(context.Background(), marker) })
		eventually(t, "the webhook's cache holds the marker", func() error {
			return hubA.cached.Get(ctx, client.ObjectKeyFromObject(marker), &corev1.ConfigMap{})
		})
		r := runCLI(ctx, hubA.kubeconfig, "import", forgedArchive(t, coop, "retained-coop-1", "PGDMP retained"), "--no-wait")
		if r.code == 0 || !strings.Contains(r.errs, "this hub retains the data of its own co-op retained-coop, deleted with deletionPolicy Retain (ConfigMap "+marker.Namespace+"/"+marker.Name+")") ||
			!strings.Contains(r.errs, "an import's restore refuses a database that holds tables") || !strings.Contains(r.errs, "a hub admin of this hub restores that data") ||
			!strings.Contains(r.errs, "nothing was written") || strings.Contains(r.out, "[3/5]") {
			t.Errorf("import under the name of retained data: exit %d\n%s\n%s", r.code, r.out, r.errs)
		}
		left(t, coop.Name)
		noCoop(t, coop.Name)
	})

	// status.origin takes an export name of 63 characters and backups of 1024 (the CRD):
	// an edited archive with longer ones imported with exit 0, and every write of the
	// origin was refused, the restore waiting for ever with nothing said.
	t.Run("an origin longer than status.origin takes", func(t *testing.T) {
		coop := sample(t, "long-coop")
		long := "long-coop-" + strings.Repeat("x", 54) // 64 characters
		backups := `{"tier":"dedicated","bucket":"s3://old-hub","prefix":"` + strings.Repeat("p/", 520) + `"}`
		r := runCLI(context.Background(), hubA.kubeconfig, "import", forgedArchiveWith(t, coop.Name, coop, long, "PGDMP long", map[string]string{export.BackupsFile: backups}), "--no-wait")
		if r.code != 1 || !strings.Contains(r.errs, "manifest.json export has 64 characters, more than the 63 of status.origin.export") ||
			!strings.Contains(r.errs, "backups.json bucket and prefix has 1048 characters, more than the 1024 of status.origin.backups") ||
			!strings.Contains(r.errs, "nothing was written") || strings.Contains(r.out, "[3/5]") {
			t.Errorf("import of an archive whose origin status.origin refuses: exit %d\n%s\n%s", r.code, r.out, r.errs)
		}
		left(t, coop.Name)
		noCoop(t, coop.Name)
	})

	// The small parts are read whole: at most 1 MiB, as manifest.json, where only the
	// archive's 64 GiB bounded them; and a backups.json that does not parse is refused,
	// where the origin's backups became "/".
	t.Run("a cooperative.yaml of more than 1 MiB", func(t *testing.T) {
		coop := sample(t, "big-coop")
		coop.Annotations = map[string]string{"note": strings.Repeat("x", 1<<20)}
		r := runCLI(context.Background(), hubA.kubeconfig, "import", forgedArchive(t, coop, "big-coop-1", "PGDMP big"), "--no-wait")
		if r.code != 1 || !strings.Contains(r.errs, "cooperative.yaml has 10") || !strings.Contains(r.errs, "bytes, more than the 1 MiB it may hold") ||
			!strings.Contains(r.errs, "nothing was written") || strings.Contains(r.out, "[2/5]") {
			t.Errorf("import of a cooperative.yaml of more than 1 MiB: exit %d\n%s\n%s", r.code, r.out, r.errs)
		}
		left(t, coop.Name)
		noCoop(t, coop.Name)
	})
	t.Run("a backups.json that does not parse", func(t *testing.T) {
		coop := sample(t, "unparsed-coop")
		r := runCLI(context.Background(), hubA.kubeconfig, "import", forgedArchiveWith(t, coop.Name, coop, "unparsed-coop-1", "PGDMP unparsed", map[string]string{export.BackupsFile: `{"bucket": "s3://old-hub",`}), "--no-wait")
		if r.code != 1 || !strings.Contains(r.errs, "backups.json does not parse") || !strings.Contains(r.errs, "nothing was written") || strings.Contains(r.out, "[3/5]") {
			t.Errorf("import of a backups.json that does not parse: exit %d\n%s\n%s", r.code, r.out, r.errs)
		}
		left(t, coop.Name)
		noCoop(t, coop.Name)
	})

	t.Run("a Cooperative other than the manifest's co-op", func(t *testing.T) {
		coop := sample(t, "renamed-coop")
		hubA.coopCredentials(t, "manifest-coop")
		r := runCLI(context.Background(), hubA.kubeconfig, "import", forgedArchiveOf(t, "manifest-coop", coop, "manifest-coop-1", "PGDMP renamed"), "--no-wait")
		if r.code != 1 || !strings.Contains(r.errs, `cooperative.yaml describes Cooperative "renamed-coop", and manifest.json the co-op "manifest-coop"`) ||
			!strings.Contains(r.errs, "nothing was written") || strings.Contains(r.out, "[2/5]") {
			t.Errorf("import of an archive whose Cooperative is not its manifest's co-op: exit %d\n%s\n%s", r.code, r.out, r.errs)
		}
		for _, name := range []string{"renamed-coop", "manifest-coop"} {
			left(t, name)
			noCoop(t, name)
		}
	})

	t.Run("a Cooperative of its name created meanwhile", func(t *testing.T) {
		coop := sample(t, "raced-coop")
		archive := forgedArchive(t, coop, "raced-coop-1", "PGDMP raced")
		// Someone creates a co-op of that name while the dump uploads.
		store.OnPut(t, func(path string) {
			if strings.Contains(path, "/raced-coop/imports/") {
				other := coop.DeepCopy()
				if err := hubA.k8s.Create(context.Background(), other); err != nil {
					t.Errorf("creating the other co-op: %v", err)
				}
			}
		})
		r := runCLI(context.Background(), hubA.kubeconfig, "import", archive, "--no-wait")
		if r.code != 1 || !strings.Contains(r.errs, "creating Cooperative raced-coop") || !strings.Contains(r.errs, "the uploaded dump was deleted from the object store: nothing was left") {
			t.Errorf("import whose create fails after the upload: exit %d\n%s\n%s", r.code, r.out, r.errs)
		}
		if !strings.Contains(r.out, "[3/5] uploading") {
			t.Errorf("the dump was not uploaded: the test shows nothing:\n%s", r.out)
		}
		left(t, coop.Name)
		noCoop(t, coop.Name)
	})

	t.Run("cut off by Ctrl-C once the dump is uploaded", func(t *testing.T) {
		coop := sample(t, "cut-coop")
		archive := forgedArchive(t, coop, "cut-coop-1", "PGDMP cut")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		store.OnPut(t, func(path string) {
			if strings.Contains(path, "/cut-coop/imports/") {
				cancel()
			}
		})
		r := runCLI(ctx, hubA.kubeconfig, "import", archive, "--no-wait")
		if r.code == 0 || !strings.Contains(r.errs, "nothing was left") {
			t.Errorf("import cut off after the upload: exit %d\n%s\n%s", r.code, r.out, r.errs)
		}
		left(t, coop.Name)
		noCoop(t, coop.Name)
	})
}

// TestImport_ADatabaseThatHoldsTablesRefusesTheRestore: the restore goes into an empty
// database only (README). A database that already holds tables (here: one the dump does
// not hold, which pg_restore alone would restore beside; and the platform's own tables,
// on which it would fail halfway, saying only that a relation exists) refuses it, with a
// message that says so, and is left as it was; the restore Job fails, status.origin says
// the platform stays stopped, and it is. The dump is a real platform's, made by the
// export's script as its owner; the restore runs as the new database's owner (no
// superuser, as CloudNativePG's application owner). On hub A.
func TestImport_ADatabaseThatHoldsTablesRefusesTheRestore(t *testing.T) {
	ctx := context.Background()
	sample, err := harness.Sample("coop_v1alpha1_cooperative_fairride.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The co-op's data on its old hub, dumped as the export Job dumps it.
	source := pgtest.NewOwnedDB(t)
	newPlatform(t, sample, source).member("Dan Driver", []string{"worker"}, "drivers", "ride")
	dumpFile := filepath.Join(t.TempDir(), "database.dump")
	if out, err := runScript(t, export.DumpScript, map[string]string{"DATABASE_URL": source, "DUMP_FILE": dumpFile}); err != nil {
		t.Fatalf("the export's dump: %v\n%s", err, out)
	}
	dump, err := os.ReadFile(dumpFile)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(dump)

	for _, tc := range []struct {
		name string
		// fill gives the new database what it holds before the restore.
		fill func(t *testing.T, db string)
		// held is what the refusal names.
		held string
	}{
		{"tables-elsewhere", func(t *testing.T, db string) {
			execAs(t, db, `CREATE TABLE leftover (id int PRIMARY KEY, note text)`, `INSERT INTO leftover VALUES (1, 'kept')`)
		}, "1 table, view or sequence (public.leftover)"},
		{"tables-migrated", func(t *testing.T, db string) {
			newPlatform(t, sample, db).member("Eve Early", []string{"worker"}, "drivers", "ride")
		}, ", ...)"}, // the first five of them, of the dump's own
	} {
		t.Run(tc.name, func(t *testing.T) {
			coop := sample.DeepCopy()
			coop.Name = "full-" + tc.name
			coop.Spec.Platform.Host = ""
			coop.Annotations = map[string]string{
				coopv1.AnnotationImportDump:   coop.Name + ".dump",
				coopv1.AnnotationImportSHA256: hex.EncodeToString(sum[:]),
			}
			hubA.coopCredentials(t, coop.Name)
			store.Put(strings.TrimPrefix(export.ImportPrefix(&hubA.cfg, coop.Name), "s3://")+coop.Name+".dump", dump)
			if err := hubA.k8s.Create(ctx, coop); err != nil {
				t.Fatal(err)
			}
			ns := coop.NamespaceName()
			eventually(t, "the namespace of "+coop.Name, func() error {
				return hubA.k8s.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{})
			})
			db := pgtest.NewOwnedDB(t)
			tc.fill(t, db)
			before := contents(t, db)
			if err := hubA.k8s.Create(ctx, appSecret(t, coop, db)); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the database ready", func() error { // what CloudNativePG writes once the instance is up
				return harness.SimulateClusterReady(ctx, hubA.k8s, ns, coopv1.ClusterName(coop))
			})
			err := playJob(t, hubA, ns, export.RestoreJobName(coop))
			if err == nil || !strings.Contains(err.Error(), "refusing to restore the dump: the database already holds ") || !strings.Contains(err.Error(), tc.held) ||
				!strings.Contains(err.Error(), "an import restores into an empty database only, and nothing was changed") {
				t.Fatalf("the restore into a database that holds tables: %v, want refused naming %q", err, tc.held)
			}
			if after := contents(t, db); after != before {
				t.Errorf("the refused restore changed the database:\nbefore %s\nafter  %s", before, after)
			}
			eventually(t, "status.origin saying the restore failed", func() error {
				got := &coopv1.Cooperative{}
				if err := hubA.k8s.Get(ctx, client.ObjectKeyFromObject(coop), got); err != nil {
					return err
				}
				// The refusal itself, as the container's termination message says it.
				if o := got.Status.Origin; o == nil || o.RestoredAt != nil || !strings.Contains(o.Message, "the platform stays stopped") ||
					!strings.Contains(o.Message, "refusing to restore the dump: the database already holds") || !strings.Contains(o.Message, tc.held) {
					return fmt.Errorf("origin %+v", o)
				}
				if !got.AwaitingRestore() {
					return errors.New("the dump's annotations were removed")
				}
				return nil
			})
			d := &appsv1.Deployment{}
			if err := hubA.k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "api"}, d); err != nil || d.Spec.Replicas == nil || *d.Spec.Replicas != 0 {
				t.Errorf("the platform after a refused restore: %v, replicas %v, want held at zero", err, d.Spec.Replicas)
			}
		})
	}
}

// execAs runs statements on the database at dbURL, as its URL's role.
func execAs(t *testing.T, dbURL string, statements ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, s := range statements {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// contents describes what the database at dbURL holds outside PostgreSQL's own schemas:
// each relation with its kind and owner (and a table's rows, as text), each function with
// its owner, each trigger.
func contents(t *testing.T, dbURL string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT format('%I.%I', n.nspname, c.relname), c.relkind::text, pg_get_userbyid(c.relowner)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	type relation struct{ name, kind, owner string }
	rels, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (relation, error) {
		var x relation
		return x, r.Scan(&x.name, &x.kind, &x.owner)
	})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range rels {
		fmt.Fprintf(&b, "%s %s %s", r.kind, r.name, r.owner)
		if r.kind == "r" {
			var data string
			if err := conn.QueryRow(ctx, `SELECT coalesce(string_agg(t::text, ';' ORDER BY t::text), '') FROM `+r.name+` t`).Scan(&data); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, " [%s]", data)
		}
		b.WriteString("; ")
	}
	var rest string
	if err := conn.QueryRow(ctx, `SELECT coalesce((SELECT string_agg(p.oid::regprocedure::text || ' ' || pg_get_userbyid(p.proowner), '; ' ORDER BY 1)
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'), '') || ' | ' ||
		coalesce((SELECT string_agg(tgname || ' ON ' || tgrelid::regclass::text, '; ' ORDER BY 1) FROM pg_trigger WHERE NOT tgisinternal), '')`).Scan(&rest); err != nil {
		t.Fatal(err)
	}
	return b.String() + rest
}
