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

// Package harness starts the test environment of the project's suites: an envtest API
// server and etcd (built from source by hack/envtest.sh) with the project's CRDs and
// CloudNativePG's, and optionally the real CloudNativePG operator (built from source by
// hack/cnpg-operator.sh) serving its webhooks and running its controllers against it.
//
// A Ginkgo suite:
//
//	var env *harness.Env
//
//	var _ = BeforeSuite(func(ctx SpecContext) {
//		var err error
//		env, err = harness.Start(ctx, harness.Options{WithCNPGOperator: true})
//		Expect(err).NotTo(HaveOccurred())
//		DeferCleanup(env.Stop)
//	}, NodeTimeout(10*time.Minute))
//
// A plain Go test uses StartT, which registers Stop with t.Cleanup.
//
// Nothing here downloads release binaries: the control plane and the operator are built
// once into ${COOPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cooperator}, and the CRDs
// and manifests are read from the Go module cache. Set KUBEBUILDER_ASSETS and
// CNPG_OPERATOR to use binaries from elsewhere.
package harness
