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
	"bufio"
	"encoding/json"
	"net/url"
	"os"
	"time"
)

// auditPolicy records every request's metadata (who, what, when, the request URI with its
// field manager), watches excepted.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted]
rules:
- level: None
  verbs: [watch]
- level: Metadata
`

// writeVerbs are the verbs AuditedWrites counts.
var writeVerbs = map[string]bool{"create": true, "update": true, "patch": true, "delete": true, "deletecollection": true}

// auditEvent is the part of an audit.k8s.io/v1 Event the harness reads.
type auditEvent struct {
	Verb       string `json:"verb"`
	RequestURI string `json:"requestURI"`
	User       struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	RequestReceivedTimestamp time.Time `json:"requestReceivedTimestamp"`
}

// AuditedWrites counts, from the API server's audit log (Options.AuditLog), the write
// requests user made that the API server received in [from, to), keyed
// "<resource>[/<subresource>] <verb> <field manager>" (the field manager is empty for
// writes that name none).
func (e *Env) AuditedWrites(user string, from, to time.Time) (map[string]int, error) {
	return e.audited(user, from, to, func(verb string) bool { return writeVerbs[verb] })
}

// AuditedRequests counts as AuditedWrites does every request but watches: reads too.
func (e *Env) AuditedRequests(user string, from, to time.Time) (map[string]int, error) {
	return e.audited(user, from, to, func(string) bool { return true })
}

// AuditedSpan is the time of the first and of the last request user made in [from, to)
// whose key (as AuditedRequests gives it) is key, and how many there were.
func (e *Env) AuditedSpan(user, key string, from, to time.Time) (first, last time.Time, n int, err error) {
	err = e.scanAudit(user, from, to, func(string) bool { return true }, func(k string, at time.Time) {
		if k != key {
			return
		}
		if n == 0 || at.Before(first) {
			first = at
		}
		if at.After(last) {
			last = at
		}
		n++
	})
	return first, last, n, err
}

func (e *Env) audited(user string, from, to time.Time, verb func(string) bool) (map[string]int, error) {
	out := map[string]int{}
	err := e.scanAudit(user, from, to, verb, func(key string, _ time.Time) { out[key]++ })
	return out, err
}

// scanAudit calls found with the key and the time of each request in the audit log of user
// in [from, to) whose verb passes verb.
func (e *Env) scanAudit(user string, from, to time.Time, verb func(string) bool, found func(key string, at time.Time)) error {
	f, err := os.Open(e.workPath("audit.log"))
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var ev auditEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.ObjectRef == nil || ev.User.Username != user || !verb(ev.Verb) {
			continue
		}
		if ev.RequestReceivedTimestamp.Before(from) || !ev.RequestReceivedTimestamp.Before(to) {
			continue
		}
		key := ev.ObjectRef.Resource
		if ev.ObjectRef.Subresource != "" {
			key += "/" + ev.ObjectRef.Subresource
		}
		manager := ""
		if u, err := url.Parse(ev.RequestURI); err == nil {
			manager = u.Query().Get("fieldManager")
		}
		found(key+" "+ev.Verb+" "+manager, ev.RequestReceivedTimestamp)
	}
	return sc.Err()
}
