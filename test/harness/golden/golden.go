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

// Package golden compares objects with YAML files under testdata, or rewrites them with
// -update, so that a change of any object a builder makes shows in review.
package golden

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/controllers/shared/ssa"
)

// update rewrites the golden files instead of comparing with them:
// `go test ./controllers/cooperative -run Golden -update`.
var update = flag.Bool("update", false, "rewrite the golden files under testdata instead of comparing with them")

// Compare renders objects as the YAML documents server-side apply would send (apiVersion
// and kind from scheme, empty fields pruned, status left out) and compares them with the file
// at path; with -update it writes the file instead. A change of any object shows in the file,
// and so in review.
func Compare(t *testing.T, scheme *runtime.Scheme, path string, objs ...client.Object) {
	t.Helper()
	var out bytes.Buffer
	for _, obj := range objs {
		u, err := ssa.ToUnstructured(scheme, obj)
		if err != nil {
			t.Fatal(err)
		}
		b, err := yaml.Marshal(u.Object)
		if err != nil {
			t.Fatalf("rendering %T %s: %v", obj, obj.GetName(), err)
		}
		out.WriteString("---\n")
		out.Write(b)
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the golden file (write it with -update): %v", err)
	}
	if !bytes.Equal(want, out.Bytes()) {
		t.Errorf("the objects differ from %s; if the change is meant, run the test again with -update and review the file's diff.\n%s", path, firstDifference(string(want), out.String()))
	}
}

// firstDifference shows the first line where want and got differ.
func firstDifference(want, got string) string {
	w, g := bytes.Split([]byte(want), []byte("\n")), bytes.Split([]byte(got), []byte("\n"))
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl []byte
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if !bytes.Equal(wl, gl) {
			return fmt.Sprintf("line %d:\n  golden: %s\n  now:    %s", i+1, wl, gl)
		}
	}
	return ""
}

// Hub is the hub the golden files are built for: the default settings in a fixed region,
// with a fixed bucket and endpoint.
func Hub() hubconfig.Config {
	hub := hubconfig.Default()
	hub.Region = "eu-west"
	hub.ObjectStore.DestinationPath = "s3://hub-backups"
	hub.ObjectStore.EndpointURL = "https://s3.eu-west.example.coop"
	return hub
}

// SampleCooperatives are the sample Cooperatives of config/samples the golden files are
// made for, by file name.
var SampleCooperatives = []string{
	"coop_v1alpha1_cooperative_carecollective.yaml",
	"coop_v1alpha1_cooperative_coursiers.yaml",
	"coop_v1alpha1_cooperative_fairride.yaml",
}
