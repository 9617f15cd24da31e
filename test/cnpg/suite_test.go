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

// Package cnpg_test checks the test harness: the real CloudNativePG operator runs
// against envtest, and its webhooks and controllers act on the objects created here.
package cnpg_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/cooperator-dev/cooperator/test/harness"
)

var env *harness.Env

func TestCNPG(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "CloudNativePG harness suite")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	var err error
	// The first run builds kube-apiserver, etcd and the CNPG operator.
	env, err = harness.Start(ctx, harness.Options{WithCNPGOperator: true})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
}, NodeTimeout(15*time.Minute))

// logOffset is how much of the operator's log was there when the current spec began.
var logOffset int

var _ = BeforeEach(func() {
	logOffset = len(env.CNPGLog())
})

var _ = AfterEach(func() {
	if CurrentSpecReport().Failed() {
		log := env.CNPGLog()
		if logOffset <= len(log) {
			log = log[logOffset:]
		}
		GinkgoWriter.Printf("CloudNativePG operator log during the spec:\n%s\n", log)
	}
})
