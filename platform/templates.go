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

// Package platform holds what a co-op runs: the default PlatformTemplates of every vertical
// (templates/), and the platform service that those templates run (server/).
package platform

import (
	"embed"
	"fmt"
	"io/fs"
	"path"

	"sigs.k8s.io/yaml"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

//go:embed templates/*.yaml
var templateFiles embed.FS

// DefaultTemplates returns the PlatformTemplates the project ships, one per vertical.
func DefaultTemplates() ([]*coopv1.PlatformTemplate, error) {
	entries, err := fs.ReadDir(templateFiles, "templates")
	if err != nil {
		return nil, err
	}
	out := make([]*coopv1.PlatformTemplate, 0, len(entries))
	for _, e := range entries {
		b, err := templateFiles.ReadFile(path.Join("templates", e.Name()))
		if err != nil {
			return nil, err
		}
		t := &coopv1.PlatformTemplate{}
		if err := yaml.UnmarshalStrict(b, t); err != nil {
			return nil, fmt.Errorf("template %s: %w", e.Name(), err)
		}
		out = append(out, t)
	}
	return out, nil
}
