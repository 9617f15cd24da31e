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

package export

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
)

func testCoop(tier coopv1.DatabaseTier) *coopv1.Cooperative {
	return &coopv1.Cooperative{
		ObjectMeta: metav1.ObjectMeta{Name: "fairride", UID: "uid-1"},
		Spec:       coopv1.CooperativeSpec{Database: coopv1.DatabaseSpec{Tier: tier, PostgresVersion: 16}},
	}
}

func env(c corev1.Container) map[string]string {
	m := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			m[e.Name] = "secret:" + e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
			continue
		}
		m[e.Name] = e.Value
	}
	return m
}

// TestBuildJobs: the export and restore Jobs run with the co-op's own credentials only,
// in restricted pods without an API token, and name the co-op's own prefix.
func TestBuildJobs(t *testing.T) {
	cfg := hubconfig.Default()
	cfg.Region = "eu-west"
	cfg.ObjectStore.DestinationPath = "s3://hub-backups"
	cfg.ObjectStore.EndpointURL = "https://minio.example"
	for _, tier := range []coopv1.DatabaseTier{coopv1.DatabaseTierDedicated, coopv1.DatabaseTierShared} {
		coop := testCoop(tier)
		ex := &coopv1.CooperativeExport{ObjectMeta: metav1.ObjectMeta{Namespace: "coop-fairride", Name: "fairride-1", UID: "uid-2"}}
		job := BuildJob(coop, ex, &cfg)
		restore := BuildRestoreJob(coop, "old-1.dump", "abc", &cfg)
		for _, tc := range []struct {
			name        string
			job         string
			owner       string
			init, main  string
			dbContainer string
			args        []string
		}{
			{"export", "fairride-1", "CooperativeExport", "dump", "upload", "dump",
				[]string{"backup-logical", "upload", "--file=/dump/fairride-1.dump", "--destination=s3://hub-backups/eu-west/fairride/exports/", "--name=fairride-1.dump", "--endpoint=https://minio.example"}},
			{"restore", "fairride-import", "Cooperative", "download", "restore", "restore",
				[]string{"backup-logical", "download", "--file=/dump/old-1.dump", "--destination=s3://hub-backups/eu-west/fairride/imports/", "--name=old-1.dump", "--endpoint=https://minio.example", "--sha256=abc"}},
		} {
			t.Run(string(tier)+"/"+tc.name, func(t *testing.T) {
				j := job
				if tc.name == "restore" {
					j = restore
				}
				if j.Name != tc.job || j.Namespace != "coop-fairride" || len(j.OwnerReferences) != 1 || j.OwnerReferences[0].Kind != tc.owner || !ptr.Deref(j.OwnerReferences[0].Controller, false) {
					t.Errorf("job %s/%s owners %+v", j.Namespace, j.Name, j.OwnerReferences)
				}
				if j.Labels[coopv1.LabelManagedBy] != coopv1.ManagedByValue || j.Spec.Template.Labels["app.kubernetes.io/component"] != Component {
					t.Errorf("labels %v / %v", j.Labels, j.Spec.Template.Labels)
				}
				pod := j.Spec.Template.Spec
				if ptr.Deref(pod.AutomountServiceAccountToken, true) || !ptr.Deref(pod.SecurityContext.RunAsNonRoot, false) || pod.RestartPolicy != corev1.RestartPolicyNever {
					t.Errorf("pod %+v", pod.SecurityContext)
				}
				if len(pod.InitContainers) != 1 || len(pod.Containers) != 1 || pod.InitContainers[0].Name != tc.init || pod.Containers[0].Name != tc.main {
					t.Fatalf("containers %v %v", pod.InitContainers, pod.Containers)
				}
				all := []corev1.Container{pod.InitContainers[0], pod.Containers[0]}
				for _, c := range all {
					sc := c.SecurityContext
					if sc == nil || ptr.Deref(sc.AllowPrivilegeEscalation, true) || !ptr.Deref(sc.ReadOnlyRootFilesystem, false) || len(sc.Capabilities.Drop) != 1 {
						t.Errorf("container %s security %+v", c.Name, sc)
					}
					e := env(c)
					if c.Name == tc.dbContainer {
						if e["DATABASE_URL"] != "secret:fairride-app/uri" || c.Image != "ghcr.io/cloudnative-pg/postgresql:16" || len(e) != 2 {
							t.Errorf("%s: image %s env %v", c.Name, c.Image, e)
						}
						continue
					}
					if e["AWS_ACCESS_KEY_ID"] != "secret:cooperator-objectstore/ACCESS_KEY_ID" || e["AWS_SECRET_ACCESS_KEY"] != "secret:cooperator-objectstore/ACCESS_SECRET_KEY" || len(e) != 2 {
						t.Errorf("%s: env %v", c.Name, e)
					}
					if !slices.Equal(c.Args, tc.args) {
						t.Errorf("%s: args %v, want %v", c.Name, c.Args, tc.args)
					}
				}
			})
		}
	}
	np := BuildEgressPolicy(testCoop(coopv1.DatabaseTierShared), &cfg)
	if np.Spec.PodSelector.MatchLabels["app.kubernetes.io/component"] != Component || len(np.Spec.PolicyTypes) != 1 || len(np.Spec.Ingress) != 0 || len(np.Spec.Egress) != 0 {
		t.Errorf("without network.objectStore the export pods get no egress: %+v", np.Spec)
	}
	cfg.Network.ObjectStore = hubconfig.EgressPeer{CIDRs: []string{"10.0.0.10/32"}, Namespace: "minio", Ports: []int32{9000}}
	np = BuildEgressPolicy(testCoop(coopv1.DatabaseTierShared), &cfg)
	if len(np.Spec.Egress) != 1 || len(np.Spec.Egress[0].To) != 2 || np.Spec.Egress[0].To[0].IPBlock.CIDR != "10.0.0.10/32" ||
		np.Spec.Egress[0].To[1].NamespaceSelector.MatchLabels[corev1.LabelMetadataName] != "minio" || np.Spec.Egress[0].Ports[0].Port.IntVal != 9000 {
		t.Errorf("egress %+v", np.Spec.Egress)
	}
}

// writeArchive writes an archive of two parts to target.
func writeArchive(t *testing.T, target string) {
	t.Helper()
	w, err := NewWriter(target, "fairride", time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	w.SetExport("fairride-1", time.Now())
	for name, body := range map[string]string{CooperativeFile: "kind: Cooperative\n", DumpFile: "PGDMP..."} {
		if err := w.Add(name, "a part", strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
}

func TestArchiveRoundTrip(t *testing.T) {
	for _, name := range []string{"dir", "a.tar.gz"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, name)
			writeArchive(t, target)
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("the writer left %v next to the archive", entries)
			}
			a, err := Open(target)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if a.Manifest.Cooperative != "fairride" || a.Manifest.Export != "fairride-1" || len(a.Manifest.Parts) != 3 {
				t.Errorf("manifest %+v", a.Manifest)
			}
			readme, err := os.ReadFile(a.Path(ReadmeFile))
			if err != nil || !strings.Contains(string(readme), "`database.dump` | a part") || !strings.Contains(string(readme), "cooperator import") {
				t.Errorf("README: %s (%v)", readme, err)
			}
			if _, err := NewWriter(target, "fairride", time.Now()); err == nil || !strings.Contains(err.Error(), "exists") {
				t.Errorf("a second archive over the first: %v", err)
			}
		})
	}
}

// TestArchiveTamperingIsRefused: a changed, missing or added part, or a tarball entry
// that would write outside the folder, is refused, naming it.
func TestArchiveTamperingIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		tamper     func(dir string) error
	}{
		{"changed", "part database.dump has SHA-256", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, DumpFile), []byte("PGDMP..!"), 0o600)
		}},
		{"missing", "part cooperative.yaml is missing", func(dir string) error { return os.Remove(filepath.Join(dir, CooperativeFile)) }},
		{"added", "extra.sql is not in the manifest", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "extra.sql"), []byte("DROP TABLE members"), 0o600)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "a")
			writeArchive(t, dir)
			if err := tc.tamper(dir); err != nil {
				t.Fatal(err)
			}
			_, err := Open(dir)
			if !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open: %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("path in a tarball", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "evil.tar.gz")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		gz := gzip.NewWriter(f)
		tw := tar.NewWriter(gz)
		_ = tw.WriteHeader(&tar.Header{Name: "../escape", Mode: 0o600, Size: 1, Typeflag: tar.TypeReg})
		_, _ = tw.Write([]byte("x"))
		_ = tw.Close()
		_ = gz.Close()
		_ = f.Close()
		if _, err := Open(path); !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), `"../escape" is not a plain file`) {
			t.Errorf("Open: %v", err)
		}
	})
}

// openSoon is OpenWithin, failing the test if it does not return within 10s: an archive
// whose part reads for ever must be refused, not hashed for ever.
func openSoon(t *testing.T, path string, maxSize int64) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		a, err := OpenWithin(path, maxSize)
		if err == nil {
			a.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("Open(%s) did not return within 10s", path)
		return nil
	}
}

// TestArchiveRefusesWhatIsNotARegularFile: a directory archive's parts and manifest are
// read only if they are regular files. A symbolic link is refused, even to a file whose
// bytes match the manifest; one to /dev/zero would otherwise be hashed for ever.
func TestArchiveRefusesWhatIsNotARegularFile(t *testing.T) {
	for _, tc := range []struct {
		name, part, want string
		target           func(t *testing.T, dir string) string
	}{
		{"a dump linked to the same bytes elsewhere", DumpFile, "database.dump is not a regular file (a symbolic link)", func(t *testing.T, dir string) string {
			return copyOut(t, filepath.Join(dir, DumpFile))
		}},
		{"a manifest linked to the same bytes elsewhere", ManifestFile, "manifest.json is not a regular file (a symbolic link)", func(t *testing.T, dir string) string {
			return copyOut(t, filepath.Join(dir, ManifestFile))
		}},
		{"a dump linked to /dev/zero", DumpFile, "database.dump is not a regular file (a symbolic link)", func(t *testing.T, _ string) string {
			if _, err := os.Stat("/dev/zero"); err != nil {
				t.Skip("no /dev/zero here")
			}
			return "/dev/zero"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "a")
			writeArchive(t, dir)
			target := tc.target(t, dir)
			if err := os.Remove(filepath.Join(dir, tc.part)); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, filepath.Join(dir, tc.part)); err != nil {
				t.Fatal(err)
			}
			if err := openSoon(t, dir, DefaultMaxSize); !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open: %v, want %q", err, tc.want)
			}
		})
	}
}

// copyOut copies a file out of the archive's folder, and returns the copy's path.
func copyOut(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(out, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestArchiveSizeIsCapped: an archive is refused, before it is unpacked or read, when it
// holds more than the limit it is opened with (DefaultMaxSize unless raised): a .tar.gz by
// its entries' sizes, a directory by what its manifest lists. A .tar.gz of more entries
// than an archive has is refused too.
func TestArchiveSizeIsCapped(t *testing.T) {
	for _, name := range []string{"dir", "a.tar.gz"} {
		t.Run(name, func(t *testing.T) {
			target := filepath.Join(t.TempDir(), name)
			writeArchive(t, target)
			a, err := OpenWithin(target, DefaultMaxSize)
			if err != nil {
				t.Fatal(err)
			}
			var parts int64
			for _, p := range a.Manifest.Parts {
				parts += p.Size
			}
			manifest, err := os.Stat(a.Path(ManifestFile))
			if err != nil {
				t.Fatal(err)
			}
			a.Close()
			limit := parts // what the manifest lists
			if IsTarball(target) {
				limit += manifest.Size() // what the tarball unpacks to
			}
			if err := openSoon(t, target, limit); err != nil {
				t.Errorf("an archive of exactly the limit: %v", err)
			}
			err = openSoon(t, target, limit-1)
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), fmt.Sprintf("more than %d bytes", limit-1)) {
				t.Errorf("an archive over the limit: %v", err)
			}
		})
	}

	tarball := func(t *testing.T, write func(tw *tar.Writer)) string {
		t.Helper()
		path := filepath.Join(t.TempDir(), "big.tar.gz")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		gz := gzip.NewWriter(f)
		tw := tar.NewWriter(gz)
		write(tw)
		_ = tw.Flush()
		_ = gz.Close()
		_ = f.Close()
		return path
	}
	t.Run("an entry larger than the default limit", func(t *testing.T) {
		// Only its header: it is refused before a byte of it is read.
		path := tarball(t, func(tw *tar.Writer) {
			_ = tw.WriteHeader(&tar.Header{Name: DumpFile, Mode: 0o600, Size: DefaultMaxSize + 1, Typeflag: tar.TypeReg})
			_, _ = tw.Write(make([]byte, 1024))
		})
		err := openSoon(t, path, DefaultMaxSize)
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), `unpacks to more than 64 GiB (at "database.dump")`) {
			t.Errorf("Open: %v", err)
		}
	})
	t.Run("more entries than an archive has", func(t *testing.T) {
		path := tarball(t, func(tw *tar.Writer) {
			for i := range 100 {
				_ = tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("part-%d", i), Mode: 0o600, Typeflag: tar.TypeReg})
			}
		})
		if err := openSoon(t, path, DefaultMaxSize); !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "more than 64 entries") {
			t.Errorf("Open: %v", err)
		}
	})
}

// TestExpiresAt: a dump is deleted when its link stops working, as status.dump.expires
// records it; an export that recorded no link has none to wait for.
func TestExpiresAt(t *testing.T) {
	done := time.Date(2026, 12, 6, 3, 0, 0, 500, time.UTC)
	recorded := metav1.NewTime(done.Add(2 * time.Hour).Truncate(time.Second))
	for _, tc := range []struct {
		name string
		ex   coopv1.CooperativeExport
		want time.Time
	}{
		{"recorded", coopv1.CooperativeExport{Status: coopv1.CooperativeExportStatus{
			CompletionTime: &metav1.Time{Time: done}, Dump: &coopv1.ExportDump{Expires: &recorded}}}, recorded.Time},
		{"none recorded", coopv1.CooperativeExport{Spec: coopv1.CooperativeExportSpec{LinkValidity: "3h"},
			Status: coopv1.CooperativeExportStatus{CompletionTime: &metav1.Time{Time: done}}}, time.Time{}},
	} {
		if got := expiresAt(&tc.ex); !got.Equal(tc.want) {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestPlainObjectName: the dump an import names (from its archive) is one object of the
// co-op's imports/, never a path that reaches elsewhere in the bucket.
func TestPlainObjectName(t *testing.T) {
	for name, want := range map[string]bool{
		"fairride-lyon-20261206.dump": true, "": false, ".": false, "..": false,
		"../other/exports/x.dump": false, "a/b.dump": false, `a\b.dump`: false, "x\n.dump": false,
	} {
		if got := PlainObjectName(name); got != want {
			t.Errorf("PlainObjectName(%q) = %v, want %v", name, got, want)
		}
	}
}
