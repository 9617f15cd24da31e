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

package federation_test

import (
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/controllers/federation"
	"github.com/cooperator-dev/cooperator/test/harness"
	"github.com/cooperator-dev/cooperator/test/harness/golden"
)

// TestBuildersGolden renders what the federation builds for each sample Cooperative of
// config/samples (its standby at a peer, as the primary there and as a follower, the
// credentials sent with it, and the reads of the peer's archive) and what the hub publishes
// for its peers, into testdata/golden. Rewrite the files with
// `go test ./controllers/federation -run Golden -update`.
func TestBuildersGolden(t *testing.T) {
	hub := golden.Hub()
	scheme := manager.Scheme()
	creds := &corev1.Secret{Data: map[string][]byte{coopv1.AccessKeyIDKey: []byte("read-key-id"), coopv1.AccessSecretKeyKey: []byte("read-key-secret"), "extra": []byte("not sent")}}
	consented := []string{"eu-south", "eu-north"}
	for _, file := range golden.SampleCooperatives {
		coop, err := harness.Sample(file)
		if err != nil {
			t.Fatal(err)
		}
		coop.Status.Database.ServerName = coop.Name + "-2"
		t.Run(coop.Name, func(t *testing.T) {
			objs := []client.Object{
				federation.BuildPeerSecret(coop, hub.Region, creds),
				federation.BuildStandby(coop, &hub, "eu-south", consented, hub.Region, ""),
				federation.BuildStandby(coop, &hub, "eu-south", consented, "eu-south", "demotion-token"),
				federation.BuildSourceSecret(coop, "eu-south", creds),
				federation.BuildSourceObjectStore(coop, "eu-south", "s3://south-backups/eu-south/"+coop.Name+"/", "https://s3.eu-south.example.coop"),
			}
			golden.Compare(t, scheme, filepath.Join("testdata", "golden", strings.TrimSuffix(file, ".yaml")+".yaml"), objs...)
		})
	}
	t.Run("hub", func(t *testing.T) {
		golden.Compare(t, scheme, filepath.Join("testdata", "golden", "hub.yaml"), federation.BuildInfoConfigMap(&hub, "v1.2.3"))
	})
}
