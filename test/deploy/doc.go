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

// Package deploy tests what the project ships to clusters: config/default, built with the
// kustomize API, applies to a real API server; the operator, running with only the RBAC
// shipped there (its ServiceAccount impersonated, so the API server enforces that RBAC),
// brings co-ops to Ready and deletes them; its ClusterRole holds no more than it must; and
// the Helm chart renders the same RBAC and hub settings. The chart is rendered with the
// helm binary of `make helm` ($HELM, or bin/helm-*); without one those checks are skipped.
package deploy
