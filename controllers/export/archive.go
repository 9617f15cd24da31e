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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// The archive `cooperator export` writes and `cooperator import` reads: a directory, or the
// same directory as a .tar.gz, holding these parts and manifest.json that lists each with
// its SHA-256.
const (
	// ArchiveFormat names this layout in manifest.json.
	ArchiveFormat = "cooperator.dev/export/v1"
	// ManifestFile lists the parts and their checksums.
	ManifestFile = "manifest.json"
	// ReadmeFile tells a person what each part is.
	ReadmeFile = "README.md"
	// CooperativeFile is the Cooperative as the co-op wrote it: spec, name, its own labels
	// and annotations; no status, no hub-internal fields.
	CooperativeFile = "cooperative.yaml"
	// PlanFile and TemplateFile are the HostingPlan and PlatformTemplate it ran on, for
	// reference.
	PlanFile     = "hostingplan.yaml"
	TemplateFile = "platformtemplate.yaml"
	// CostsFile holds the co-op's line of every CostReport.
	CostsFile = "costs.json"
	// BackupsFile says where the physical backups are.
	BackupsFile = "backups.json"
	// DumpFile is the logical dump of the database (pg_dump custom format).
	DumpFile = "database.dump"
)

// Part is one file of the archive.
type Part struct {
	// Path inside the archive.
	Path string `json:"path"`
	// SHA256 of its bytes, hex.
	SHA256 string `json:"sha256"`
	// Size in bytes.
	Size int64 `json:"size"`
	// Description says what it is.
	Description string `json:"description"`
}

// Manifest is manifest.json.
type Manifest struct {
	Format      string    `json:"format"`
	Cooperative string    `json:"cooperative"`
	CreatedAt   time.Time `json:"createdAt"`
	// Export is the CooperativeExport whose dump the archive holds.
	Export string `json:"export,omitempty"`
	// DumpedAt is when the database was dumped (the export's completion), which may be
	// well before CreatedAt: what the platform wrote after it is not in the dump.
	DumpedAt *time.Time `json:"dumpedAt,omitempty"`
	Parts    []Part     `json:"parts"`
}

// Part returns the part at path.
func (m *Manifest) Part(path string) (Part, bool) {
	for _, p := range m.Parts {
		if p.Path == path {
			return p, true
		}
	}
	return Part{}, false
}

// Backups is backups.json: where the co-op's physical backups are, so that a hub with
// credentials for that bucket can bootstrap a replica or a recovery from them.
type Backups struct {
	// Tier is dedicated or shared: a shared-tier co-op's physical backups are the hub's
	// shared Cluster's, with every shared co-op in them; its logical backups are under
	// Prefix + "logical/".
	Tier string `json:"tier"`
	// Bucket, such as s3://hub-backups, and Prefix in it, <region>/<co-op>/.
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix"`
	// ServerName is the folder under Prefix where the Cluster archives WAL and base backups.
	ServerName string `json:"serverName,omitempty"`
	// RecoveryWindow is how long backups and WAL are kept (spec.backup.retention).
	RecoveryWindow string `json:"recoveryWindow,omitempty"`
	// LastBackup is the name and time of the latest completed base backup.
	LastBackup     string     `json:"lastBackup,omitempty"`
	LastBackupTime *time.Time `json:"lastBackupTime,omitempty"`
}

// CostLine is one line of costs.json: the co-op's line of one CostReport, or, last, the
// open billing period (phase OpenPeriod), which no CostReport splits yet: its period and
// the co-op's metered usage (the Cooperative's status.usage, every period it keeps), so
// that the old hub's final bill can be checked.
type CostLine struct {
	Report   string          `json:"report,omitempty"`
	Period   string          `json:"period,omitempty"`
	Start    time.Time       `json:"start,omitzero"`
	End      time.Time       `json:"end,omitzero"`
	Currency string          `json:"currency,omitempty"`
	Phase    string          `json:"phase,omitempty"`
	Line     json.RawMessage `json:"line,omitempty"`
	Usage    json.RawMessage `json:"usage,omitempty"`
}

// OpenPeriod is the phase of costs.json's line of the open billing period.
const OpenPeriod = "Open"

// Writer writes an archive into a temporary directory next to the target; Finish moves it
// into place, so that nothing at the target looks complete before every part is there.
type Writer struct {
	target string
	tmp    string
	m      Manifest
}

// NewWriter starts an archive for target: a directory, or a .tar.gz file when target ends
// in .tar.gz or .tgz. It refuses a target that exists.
func NewWriter(target, cooperative string, now time.Time) (*Writer, error) {
	if _, err := os.Stat(target); err == nil {
		return nil, fmt.Errorf("%s exists: choose another name or remove it", target)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(target)), "."+filepath.Base(target)+".partial-")
	if err != nil {
		return nil, fmt.Errorf("creating the archive next to %s: %w", target, err)
	}
	return &Writer{target: target, tmp: tmp, m: Manifest{Format: ArchiveFormat, Cooperative: cooperative, CreatedAt: now.UTC().Truncate(time.Second)}}, nil
}

// SetExport records the export whose dump the archive holds, and when it was dumped.
func (w *Writer) SetExport(name string, dumpedAt time.Time) {
	w.m.Export = name
	t := dumpedAt.UTC().Truncate(time.Second)
	w.m.DumpedAt = &t
}

// Add writes a part from r.
func (w *Writer) Add(path, description string, r io.Reader) error {
	f, err := os.OpenFile(filepath.Join(w.tmp, path), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	w.m.Parts = append(w.m.Parts, Part{Path: path, SHA256: hex.EncodeToString(h.Sum(nil)), Size: n, Description: description})
	return nil
}

// Part is the part at path, as written so far.
func (w *Writer) Part(path string) (Part, bool) { return w.m.Part(path) }

// Abort removes what was written.
func (w *Writer) Abort() { _ = os.RemoveAll(w.tmp) }

// Finish writes the manifest and the README and moves the archive into place.
func (w *Writer) Finish() error {
	if err := w.Add(ReadmeFile, "this file", strings.NewReader(Readme(&w.m))); err != nil {
		return err
	}
	sort.Slice(w.m.Parts, func(i, j int) bool { return w.m.Parts[i].Path < w.m.Parts[j].Path })
	b, err := json.MarshalIndent(w.m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(w.tmp, ManifestFile), append(b, '\n'), 0o600); err != nil {
		return err
	}
	if !IsTarball(w.target) {
		return os.Rename(w.tmp, w.target)
	}
	defer w.Abort()
	partial := w.tmp + ".tar.gz"
	if err := writeTarball(partial, w.tmp); err != nil {
		_ = os.Remove(partial)
		return err
	}
	return os.Rename(partial, w.target)
}

// IsTarball says whether path names a .tar.gz archive.
func IsTarball(path string) bool {
	return strings.HasSuffix(path, ".tar.gz") || strings.HasSuffix(path, ".tgz")
}

func writeTarball(path, dir string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: e.Name(), Mode: 0o600, Size: info.Size(), ModTime: info.ModTime(), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		src, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, src)
		src.Close()
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	return f.Close()
}

// ErrTampered is wrapped by Open when a part does not match the manifest.
var ErrTampered = errors.New("the archive does not match its manifest")

// ErrTooLarge is wrapped by Open when an archive is larger than the limit it was opened
// with: what a .tar.gz unpacks to, or what the parts of a directory add up to.
var ErrTooLarge = errors.New("the archive is larger than the limit")

const (
	// DefaultMaxSize is the most an archive may hold, unpacked, unless its reader raises the
	// limit (`cooperator import --max-size`): 64 GiB, far above a co-op's logical dump, and
	// far below what a compressed archive of a few bytes could unpack to.
	DefaultMaxSize int64 = 64 << 30
	// maxManifestSize is the most manifest.json may weigh: it lists a handful of parts. So
	// may the other parts a reader reads whole (ReadSmall): cooperative.yaml, backups.json.
	maxManifestSize = 1 << 20
	// maxEntries is the most entries a .tar.gz may hold: an archive has nine files.
	maxEntries = 64
)

// Archive is an opened, verified archive: Dir holds its parts.
type Archive struct {
	Dir      string
	Manifest Manifest
	cleanup  func()
}

// Close removes what Open unpacked.
func (a *Archive) Close() {
	if a.cleanup != nil {
		a.cleanup()
	}
}

// Path is the file of a part.
func (a *Archive) Path(part string) string { return filepath.Join(a.Dir, part) }

// ErrNoPart is wrapped by ReadSmall when the archive has no such part.
var ErrNoPart = errors.New("the archive has no such part")

// ReadSmall reads a part that a reader takes whole into memory (cooperative.yaml,
// backups.json): at most 1 MiB, as manifest.json, whatever the archive's limit. A larger
// one is refused, naming it, before it is read.
func (a *Archive) ReadSmall(part string) ([]byte, error) {
	if _, listed := a.Manifest.Part(part); !listed {
		return nil, fmt.Errorf("%w: %s", ErrNoPart, part)
	}
	f, info, err := a.openRegular(part)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", part, err)
	}
	defer f.Close()
	if info.Size() > maxManifestSize {
		return nil, fmt.Errorf("%s has %d bytes, more than the %s it may hold", part, info.Size(), sizeString(maxManifestSize))
	}
	b, err := io.ReadAll(io.LimitReader(f, maxManifestSize))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", part, err)
	}
	return b, nil
}

// Open is OpenWithin(path, DefaultMaxSize).
func Open(path string) (*Archive, error) { return OpenWithin(path, DefaultMaxSize) }

// OpenWithin reads an archive (a directory or a .tar.gz) and verifies every part against
// the manifest: each listed part is a regular file (not a symlink, a device or a pipe,
// which would be read for ever) with its size and SHA-256, and nothing unlisted is there.
// A mismatch is ErrTampered, naming the part. A .tar.gz that unpacks to more than maxSize
// bytes, or a manifest whose parts add up to more, is ErrTooLarge, before it is written or
// read.
func OpenWithin(path string, maxSize int64) (*Archive, error) {
	a := &Archive{Dir: path}
	if IsTarball(path) {
		dir, err := os.MkdirTemp("", "cooperator-import-")
		if err != nil {
			return nil, err
		}
		a.Dir, a.cleanup = dir, func() { _ = os.RemoveAll(dir) }
		if err := unpack(path, dir, maxSize); err != nil {
			a.Close()
			return nil, fmt.Errorf("unpacking %s: %w", path, err)
		}
	}
	if err := a.verify(maxSize); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// openRegular opens the file name of the archive, if it is a regular file: Lstat first, so
// that a symlink, a device or a pipe is refused before it is opened (opening a pipe
// blocks), then the file opened is checked to be the one Lstat saw.
func (a *Archive) openRegular(name string) (*os.File, os.FileInfo, error) {
	path := filepath.Join(a.Dir, name)
	before, err := os.Lstat(path)
	if err != nil {
		return nil, nil, err
	}
	if !before.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%w: %s is not a regular file (%s)", ErrTampered, name, kind(before.Mode()))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	after, err := f.Stat()
	if err != nil || !after.Mode().IsRegular() || !os.SameFile(before, after) {
		f.Close()
		return nil, nil, fmt.Errorf("%w: %s changed while it was read", ErrTampered, name)
	}
	return f, after, nil
}

// kind names what a file that is not a regular one is.
func kind(m os.FileMode) string {
	switch {
	case m&os.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "mode " + m.String()
}

// sizeString is n bytes for a person.
func sizeString(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

func (a *Archive) verify(maxSize int64) error {
	mf, info, err := a.openRegular(ManifestFile)
	if err != nil {
		return fmt.Errorf("reading %s: %w", ManifestFile, err)
	}
	defer mf.Close()
	if info.Size() > maxManifestSize {
		return fmt.Errorf("%w: %s has %d bytes, more than a manifest's %s", ErrTampered, ManifestFile, info.Size(), sizeString(maxManifestSize))
	}
	b, err := io.ReadAll(io.LimitReader(mf, maxManifestSize))
	if err != nil {
		return fmt.Errorf("reading %s: %w", ManifestFile, err)
	}
	if err := json.Unmarshal(b, &a.Manifest); err != nil {
		return fmt.Errorf("%s: %w", ManifestFile, err)
	}
	if a.Manifest.Format != ArchiveFormat {
		return fmt.Errorf("%s: format %q, this cooperator reads %q", ManifestFile, a.Manifest.Format, ArchiveFormat)
	}
	var total int64
	for _, p := range a.Manifest.Parts {
		if p.Size < 0 || p.Size > maxSize-total {
			return fmt.Errorf("%w: its parts add up to more than %s", ErrTooLarge, sizeString(maxSize))
		}
		total += p.Size
	}
	listed := map[string]bool{ManifestFile: true}
	for _, p := range a.Manifest.Parts {
		if p.Path != filepath.Base(p.Path) || p.Path == "." || p.Path == ".." {
			return fmt.Errorf("%w: part %q is not a plain file name", ErrTampered, p.Path)
		}
		listed[p.Path] = true
		f, _, err := a.openRegular(p.Path)
		if errors.Is(err, ErrTampered) {
			return err
		}
		if err != nil {
			return fmt.Errorf("%w: part %s is missing", ErrTampered, p.Path)
		}
		// No more than the manifest says, and one byte to tell a longer file.
		h := sha256.New()
		n, err := io.Copy(h, io.LimitReader(f, p.Size+1))
		f.Close()
		if err != nil {
			return fmt.Errorf("reading %s: %w", p.Path, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != p.SHA256 || n != p.Size {
			return fmt.Errorf("%w: part %s has SHA-256 %s (%d bytes), the manifest says %s (%d bytes)", ErrTampered, p.Path, got, n, p.SHA256, p.Size)
		}
	}
	entries, err := os.ReadDir(a.Dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !listed[e.Name()] {
			return fmt.Errorf("%w: %s is not in the manifest", ErrTampered, e.Name())
		}
	}
	for _, want := range []string{CooperativeFile, DumpFile} {
		if _, ok := a.Manifest.Part(want); !ok {
			return fmt.Errorf("%w: the manifest lists no %s", ErrTampered, want)
		}
	}
	return nil
}

// unpack writes the regular files of the .tar.gz at path into dir: at most maxEntries of
// them, adding up to at most maxSize bytes, each refused before it is written.
func unpack(path, dir string, maxSize int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	var total int64
	for entries := 1; ; entries++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg || h.Name != filepath.Base(h.Name) || h.Name == ".." || h.Name == "." {
			return fmt.Errorf("%w: entry %q is not a plain file", ErrTampered, h.Name)
		}
		if entries > maxEntries {
			return fmt.Errorf("%w: more than %d entries", ErrTampered, maxEntries)
		}
		// The tar reader gives no more than an entry's header says.
		if h.Size < 0 || h.Size > maxSize-total {
			return fmt.Errorf("%w: it unpacks to more than %s (at %q)", ErrTooLarge, sizeString(maxSize), h.Name)
		}
		total += h.Size
		out, err := os.OpenFile(filepath.Join(dir, h.Name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, tr)
		out.Close()
		if err != nil {
			return err
		}
	}
}

// Readme is the README.md of an archive.
func Readme(m *Manifest) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Export of the co-op %s\n\n", m.Cooperative)
	fmt.Fprintf(&b, "Made by `cooperator export` on %s. Everything the co-op needs to run elsewhere, in plain formats.\n\n", m.CreatedAt.Format(time.RFC3339))
	if m.DumpedAt != nil {
		fmt.Fprintf(&b, "The database was dumped at %s: what the platform wrote after that is not in `%s`.\n\n", m.DumpedAt.Format(time.RFC3339), DumpFile)
	}
	b.WriteString("| file | what it is |\n|---|---|\n")
	for _, p := range m.Parts {
		fmt.Fprintf(&b, "| `%s` | %s |\n", p.Path, p.Description)
	}
	fmt.Fprintf(&b, "| `%s` | every file above with its size and SHA-256 |\n", ManifestFile)
	b.WriteString(`
## Using it elsewhere

- On another cooperator hub: ` + "`cooperator import <this archive>`" + ` checks every checksum, recreates
  the Cooperative (` + "`--plan-map old=new`" + ` and ` + "`--template-map old=new`" + ` when the hub names them
  differently), and restores the database before the platform starts.
- Anywhere else: ` + "`sha256sum`" + ` each file against manifest.json, then restore the database into an
  empty PostgreSQL database with
  ` + "`pg_restore --no-owner --no-privileges --exit-on-error --dbname=postgresql://... database.dump`" + `;
  run the platform service (` + "`cooperator platform`" + `) against it with the fee split and governance of
  cooperative.yaml.
- backups.json says where the physical backups (base backups and WAL) are: with read
  credentials for that bucket, CloudNativePG can bootstrap a replica or a recovery from them.

## Credentials

What carries over: the members' tokens, as SHA-256 hashes only (no token can be read back
from them). Every member's token keeps working on the hub that imports this archive; a
member who wants a new one issues it there and revokes the old.

What is not here, and is issued again where the co-op goes: the platform's admin token
(the new hub makes its own, in the Secret <co-op>-platform-admin), the co-op's admins
(identities of this hub: the new hub's admin names them), database passwords, object store
keys, and the members' app's sessions and sign-in codes (the tables ` + "`" + strings.Join(CredentialTables, "`, `") + "`" + `
are dumped without their rows: members sign in to the app again).

No status and no hub-internal fields; the platform's members keep their own data exports.
`)
	return b.String()
}
