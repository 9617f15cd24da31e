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
	"fmt"
	"log/slog"
	"os"
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
	data, err := os.ReadFile(s.path)
	if err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.raw != nil && bytes.Equal(data, s.raw) {
		return nil
	}
	s.raw = data
	p, err := Parse(data)
	if err != nil {
		return err
	}
	s.current.Store(p)
	s.log.Info("policy applied", "cooperative", p.Cooperative, "vertical", p.Vertical,
		"platformFeeBasisPoints", p.FeeSplit.PlatformFeeBasisPoints, "model", p.Governance.Model, "timeZone", p.Location().String())
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
