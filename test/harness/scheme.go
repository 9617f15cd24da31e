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
	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

// schemeBuilders are the API groups every harness scheme knows. The project's own API
// group belongs here once it exists (for example coopv1.AddToScheme).
var schemeBuilders = []func(*runtime.Scheme) error{
	clientgoscheme.AddToScheme,
	apiextensionsv1.AddToScheme,
	cnpgv1.AddToScheme,
	func(s *runtime.Scheme) error { barmanv1.AddKnownTypes(s); return nil },
}

// Scheme returns a new scheme with client-go's built-in types, apiextensions/v1, the
// CloudNativePG API (postgresql.cnpg.io/v1) and the Barman Cloud plugin's ObjectStore
// (barmancloud.cnpg.io/v1), plus whatever the extra functions add. It panics if one of
// them fails, which is a programming error.
func Scheme(extra ...func(*runtime.Scheme) error) *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range append(append([]func(*runtime.Scheme) error{}, schemeBuilders...), extra...) {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}
