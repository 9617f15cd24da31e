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

package harness

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Versions of the modules the harness reads CRDs and manifests from. The CRDs are those
// of the API the project compiles against (github.com/cloudnative-pg/api v1.30.0); the
// operator that serves their webhooks is the newest release that builds through the Go
// module proxy (see hack/cnpg-operator.sh).
const (
	CNPGModule          = "github.com/cloudnative-pg/cloudnative-pg"
	CNPGCRDVersion      = "v1.30.1"
	CNPGOperatorVersion = "v1.29.1"
	BarmanPluginModule  = "github.com/cloudnative-pg/plugin-barman-cloud"
	BarmanPluginVersion = "v0.15.0"
)

var moduleDirs sync.Map // "module@version" -> string

// ModuleDir returns the folder of module@version in the Go module cache, downloading it
// through the module proxy when it is not there yet. Results are cached for the life
// of the process.
func ModuleDir(module, version string) (string, error) {
	key := module + "@" + version
	if dir, ok := moduleDirs.Load(key); ok {
		return dir.(string), nil
	}
	cmd := exec.Command("go", "mod", "download", "-json", key)
	// Outside any module, so that the download never touches the project's go.mod/go.sum.
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var out struct {
		Dir   string
		Error string
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return "", fmt.Errorf("go mod download %s: %w: %w %s", key, runErr, err, strings.TrimSpace(stderr.String()))
	}
	if out.Error != "" {
		return "", fmt.Errorf("go mod download %s: %s", key, out.Error)
	}
	if runErr != nil || out.Dir == "" {
		return "", fmt.Errorf("go mod download %s: %w %s", key, runErr, strings.TrimSpace(stderr.String()))
	}
	moduleDirs.Store(key, out.Dir)
	return out.Dir, nil
}

// CNPGCRDPaths returns the CRDs to install for CloudNativePG: the folder of
// postgresql.cnpg.io CRDs of CloudNativePG v1.30.1 and the Barman Cloud plugin's
// ObjectStore CRD file, both read from the Go module cache.
func CNPGCRDPaths() ([]string, error) {
	cnpg, err := ModuleDir(CNPGModule, CNPGCRDVersion)
	if err != nil {
		return nil, err
	}
	barman, err := ModuleDir(BarmanPluginModule, BarmanPluginVersion)
	if err != nil {
		return nil, err
	}
	paths := []string{
		filepath.Join(cnpg, "config", "crd", "bases"),
		filepath.Join(barman, "config", "crd", "bases", "barmancloud.cnpg.io_objectstores.yaml"),
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return nil, err
		}
	}
	return paths, nil
}

// cnpgReleaseManifest returns the path of the release manifest of the CNPG operator
// the harness runs; it holds the webhook configurations and the monitoring ConfigMap.
func cnpgReleaseManifest() (string, error) {
	dir, err := ModuleDir(CNPGModule, CNPGOperatorVersion)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "releases", "cnpg-"+strings.TrimPrefix(CNPGOperatorVersion, "v")+".yaml")
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return p, nil
}

const projectModule = "github.com/cooperator-dev/cooperator"

// MustRepoRoot is RepoRoot; t fails when there is none.
func MustRepoRoot(t testing.TB) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// RepoRoot returns the root of the project's clone, found by walking up from the
// working directory to the go.mod of the project's module.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(data), []byte("module "+projectModule)) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("harness: no go.mod of " + projectModule + " above the working directory")
		}
		dir = parent
	}
}

// runHackScript runs hack/<name> from the repository root and returns the last line
// of its standard output (the scripts print a path). Progress goes to stderr. Test
// packages run in parallel, and the scripts build into fixed paths of a cache outside the
// clone: one process at a time runs a script, the others then find what it built.
func runHackScript(name string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	lockDir, err := os.UserCacheDir()
	if err != nil {
		lockDir = os.TempDir()
	}
	lockDir = filepath.Join(lockDir, "cooperator")
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(filepath.Join(lockDir, "hack-"+name+".lock"))
	if err != nil {
		return "", fmt.Errorf("hack/%s: %w", name, err)
	}
	defer unlock()
	cmd := exec.Command(filepath.Join(root, "hack", name))
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hack/%s: %w", name, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if last == "" {
		return "", fmt.Errorf("hack/%s printed nothing", name)
	}
	return last, nil
}

// envtestAssets returns the folder of kube-apiserver and etcd: $KUBEBUILDER_ASSETS if
// set, else what hack/envtest.sh prints (building the binaries once).
func envtestAssets() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	return runHackScript("envtest.sh")
}

// cnpgOperatorBinary returns the CNPG operator binary: $CNPG_OPERATOR if set, else what
// hack/cnpg-operator.sh prints (building it once).
func cnpgOperatorBinary() (string, error) {
	if bin := os.Getenv("CNPG_OPERATOR"); bin != "" {
		// Absolute: the operator runs in another folder and is linked to from there.
		return filepath.Abs(bin)
	}
	return runHackScript("cnpg-operator.sh")
}
