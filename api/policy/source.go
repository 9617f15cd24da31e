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

package policy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// Source holds the current policy and reloads it from the mounted file.
type Source struct {
	path    string
	log     *slog.Logger
	current atomic.Pointer[Policy]
	mu      sync.Mutex // guards raw
	raw     []byte     // the file content last read, valid or not
}

// NewSource returns a source for the file at path. Call Reload (or Watch) to load it.
func NewSource(path string, log *slog.Logger) *Source {
	return &Source{path: path, log: log}
}

// Current returns the policy in force, or nil if none has loaded yet.
func (s *Source) Current() *Policy { return s.current.Load() }

// Set replaces the policy in force (used by tests and by callers without a file).
func (s *Source) Set(p *Policy) { s.current.Store(p) }

// Reload reads the file and applies it if its content changed and is valid. An invalid
// file leaves the previous policy in force and returns the error (once per content).
func (s *Source) Reload() error {
	// Both files from one version of the ConfigMap: the kubelet swaps a symlink to the
	// directory of each version, which may happen between two reads.
	path, err := filepath.EvalSymlinks(s.path)
	if err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	// The values in force, beside the document when the co-op governs parts it has no copy
	// of (MarshalFiles).
	current, err := os.ReadFile(filepath.Join(filepath.Dir(path), CurrentKey))
	if errors.Is(err, fs.ErrNotExist) {
		current, err = nil, nil
		// None, or the version's directory went away as it was read (the kubelet removes
		// an old version's after the swap): then the next read takes the new version whole.
		if _, serr := os.Stat(path); serr != nil {
			return fmt.Errorf("policy: the mounted version changed while it was read; read again at the next poll: %w", serr)
		}
	}
	if err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	both := append(append(slices.Clip(data), 0), current...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.raw != nil && bytes.Equal(both, s.raw) {
		return nil
	}
	s.raw = both
	p, err := ParseFiles(data, current)

	if err != nil {
		return err
	}
	s.current.Store(p)
	s.log.Info("policy applied", "cooperative", p.Cooperative, "vertical", p.Vertical,
		"platformFeeBasisPoints", p.FeeSplit.PlatformFeeBasisPoints, "model", p.Governance.Model, "timeZone", p.Location().String())
	if p.Ignored != "" {
		s.log.Warn("the policy holds a part this platform version does not know (a newer operator's): it is ignored, and the rest applies; run the co-op's platform at the operator's release",
			"parts", p.Ignored)
	}
	if _, err := LoadTimeZone(p.TimeZone); err != nil {
		s.log.Error("the co-op's time zone is not in this binary's time zone database: its weekly hours and fare windows are read, and its times shown, in UTC until it is (a newer platform version knows newer zones)",
			"timeZone", p.TimeZone)
	}
	return nil
}

// Watch reads the file at once and then every interval until ctx is done. Kubernetes
// updates a mounted ConfigMap by swapping a symlink, so reading the path's content is
// reliable where watching the file itself is not.
func (s *Source) Watch(ctx context.Context, interval time.Duration) {
	wait.UntilWithContext(ctx, func(context.Context) {
		if err := s.Reload(); err != nil {
			s.log.Error("policy not applied; keeping the previous one", "file", s.path, "error", err)
		}
	}, interval)
}

// WriteFiles writes the files of a policy ConfigMap's data into dir as the kubelet
// projects them where the platform reads them (the document under Key, the values in
// force under CurrentKey), and removes those the data no longer holds. The demo and the
// tests, where no kubelet runs, play it so.
func WriteFiles(dir string, data map[string]string) error {
	for _, key := range []string{Key, CurrentKey} {
		path := filepath.Join(dir, key)
		content, ok := data[key]
		if !ok {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			continue
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			return err
		}
	}
	return nil
}
