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

package deploy_test

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// logBuffer holds log lines, safe for concurrent writers.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for line := range strings.SplitSeq(strings.TrimRight(string(p), "\n"), "\n") {
		l.lines = append(l.lines, line)
	}
	return len(p), nil
}

// matching returns the lines that contain s, case-insensitively.
func (l *logBuffer) matching(s string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		if strings.Contains(strings.ToLower(line), strings.ToLower(s)) {
			out = append(out, line)
		}
	}
	return out
}

func (l *logBuffer) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines[max(0, len(l.lines)-n):], "\n")
}

// requestLog records which verb on which resource the operator used, from the requests its
// client sends, to find the rights it was granted and never used.
type requestLog struct {
	mu   sync.Mutex
	used map[string]bool // "verb group/resource"
}

func newRequestLog() *requestLog { return &requestLog{used: map[string]bool{}} }

func (r *requestLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if verb, gr, ok := requestAttributes(req); ok {
			r.mu.Lock()
			r.used[verb+" "+gr] = true
			if verb == "watch" && req.URL.Query().Get("sendInitialEvents") == "true" {
				// A streaming list (client-go's WatchList) is the informer's list.
				r.used["list "+gr] = true
			}
			r.mu.Unlock()
		}
		return rt.RoundTrip(req)
	})
}

// unusedGrants lists the verbs on resources that the role grants and the operator did not use.
func (r *requestLog) unusedGrants(role *rbacv1.ClusterRole) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, rule := range role.Rules {
		for _, g := range rule.APIGroups {
			for _, res := range rule.Resources {
				for _, v := range rule.Verbs {
					if !r.used[v+" "+g+"/"+res] {
						out = append(out, fmt.Sprintf("%s %s/%s", v, g, res))
					}
				}
			}
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// requestAttributes reads the RBAC verb and group/resource of an API request from its path,
// as the API server does for resource requests; discovery and other paths are not.
func requestAttributes(req *http.Request) (verb, groupResource string, ok bool) {
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	var group string
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		group, parts = parts[1], parts[3:]
	default:
		return "", "", false
	}
	if len(parts) >= 3 && parts[0] == "namespaces" && parts[2] != "status" && parts[2] != "finalize" {
		parts = parts[2:]
	}
	resource, name := parts[0], ""
	if len(parts) >= 2 {
		name = parts[1]
	}
	if len(parts) >= 3 {
		resource += "/" + parts[2]
	}
	switch req.Method {
	case http.MethodGet:
		switch {
		case req.URL.Query().Get("watch") == "true":
			verb = "watch"
		case name == "":
			verb = "list"
		default:
			verb = "get"
		}
	case http.MethodPost:
		verb = "create"
	case http.MethodPut:
		verb = "update"
	case http.MethodPatch:
		verb = "patch"
	case http.MethodDelete:
		verb = "delete"
		if name == "" {
			verb = "deletecollection"
		}
	default:
		return "", "", false
	}
	return verb, group + "/" + resource, true
}

// webhookConfigurations are the webhook configurations the project ships, by kind and name.
var webhookConfigurations = []struct{ kind, name string }{
	{"ValidatingWebhookConfiguration", "cooperator-validating-webhook"},
	{"MutatingWebhookConfiguration", "cooperator-mutating-webhook"},
}

// webhooksOf is the webhooks list of a webhook configuration of either kind.
func webhooksOf(t *testing.T, config *unstructured.Unstructured) []map[string]any {
	t.Helper()
	list, _, err := unstructured.NestedSlice(config.Object, "webhooks")
	if err != nil {
		t.Fatalf("%s %s: %v", config.GetKind(), config.GetName(), err)
	}
	hooks := make([]map[string]any, 0, len(list))
	for _, h := range list {
		m, ok := h.(map[string]any)
		if !ok {
			t.Fatalf("%s %s: a webhook is %T", config.GetKind(), config.GetName(), h)
		}
		hooks = append(hooks, m)
	}
	return hooks
}
