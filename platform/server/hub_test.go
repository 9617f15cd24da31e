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

package server

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cooperator-dev/cooperator/api/hubstatus"
)

// TestHubReport: every member reads what the operator published for the co-op, as the
// file it mounts beside the policy says at the time of the request; before it is
// published the answer says so; a file the service cannot read is a 503, not the
// client's fault; without a member's token there is nothing.
func TestHubReport(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, hubstatus.Key)
	e := newEnvWith(t, Config{Policy: mustPolicy(t, ridePolicy), HubStatusFile: file})
	driver := e.member("Dan Driver", []string{"worker"}, "drivers")

	if got := e.must(200, "GET", "/v1/reports/hub", driver.token, nil); got["published"] != false || len(got) != 1 {
		t.Errorf("before the operator publishes: %v, want only published: false", got)
	}

	since := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	doc := &hubstatus.Document{Cooperative: "fairride-lyon",
		Reliability: hubstatus.Reliability{
			Ready: hubstatus.Check{Status: "True", Reason: "Ready", Since: &since}, Database: hubstatus.Check{Status: "True", Reason: "Ready", Since: &since},
			Platform: hubstatus.Check{Status: "True", Reason: "Ready", Since: &since}, Backup: hubstatus.Check{Status: "False", Reason: "BackupFailed", Since: &since},
			LastBackup: &since,
		},
		Hosting: []hubstatus.Month{{Period: "2026-11", Final: true, Currency: "EUR", HubTotal: "612.90", Cooperatives: 2, Amount: "204.30", SharePercent: "33.33",
			ComputeAmount: "137.50", StorageAmount: "16.80", SharedAmount: "50.00", DiscountAdjustment: "0.00", FloorAdjustment: "0.00", RoundingAdjustment: "0.00"}},
	}
	write := func(d *hubstatus.Document) {
		t.Helper()
		b, err := d.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(doc)
	got := e.must(200, "GET", "/v1/reports/hub", driver.token, nil)
	hosting := got["hosting"].([]any)
	month := hosting[0].(map[string]any)
	rel := got["reliability"].(map[string]any)
	if got["published"] != true || got["cooperative"] != "fairride-lyon" || len(hosting) != 1 || month["amount"] != "204.30" || month["hubTotal"] != "612.90" ||
		rel["backup"].(map[string]any)["reason"] != "BackupFailed" || rel["lastBackup"] != "2026-11-30T08:00:00Z" {
		t.Errorf("published report: %v", got)
	}

	// The operator's next document is the next answer.
	// (a running estimate, with the time the hub took it).
	estimated := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	doc.Hosting = append([]hubstatus.Month{{Period: "2026-12", EstimatedAt: &estimated, Currency: "EUR", HubTotal: "0.00", Cooperatives: 2, Amount: "0.00"}}, doc.Hosting...)
	write(doc)
	if got := e.must(200, "GET", "/v1/reports/hub", adminToken, nil); len(got["hosting"].([]any)) != 2 ||
		got["hosting"].([]any)[0].(map[string]any)["estimatedAt"] != "2026-12-06T09:00:00Z" {
		t.Errorf("after the operator's update: %v", got)
	}

	// Without a member's token: 401.
	if r := e.call("GET", "/v1/reports/hub", "", nil); r.status != 401 {
		t.Errorf("without a token: %d %s", r.status, r.body)
	}
	if r := e.call("GET", "/v1/reports/hub", "not-a-token", nil); r.status != 401 {
		t.Errorf("with a wrong token: %d %s", r.status, r.body)
	}

	// A member who is no longer active: their token no longer opens anything.
	e.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", driver.id), adminToken, map[string]any{"active": false})
	if r := e.call("GET", "/v1/reports/hub", driver.token, nil); r.status != 401 {
		t.Errorf("an inactive member: %d %s, want 401", r.status, r.body)
	}

	// A document the service cannot read: 503 with a JSON error, not a 500.
	if err := os.WriteFile(file, []byte(`{"cooperative":"fairride-lyon","hosting":[{"period":"November","amount":"x"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r := e.call("GET", "/v1/reports/hub", adminToken, nil)
	if r.status != 503 || r.json()["error"] == nil {
		t.Errorf("an invalid document: %d %s, want 503 with an error body", r.status, r.body)
	}
}

// TestHubReportFileBesideThePolicy: where the operator mounts them, the hub status is the
// file hubstatus.Key in the policy's folder.
func TestHubReportFileBesideThePolicy(t *testing.T) {
	s := &Server{cfg: Config{PolicyFile: "/etc/cooperator/policy/policy.json"}}
	if got, want := s.hubStatusFile(), "/etc/cooperator/policy/"+hubstatus.Key; got != want {
		t.Errorf("hub status file %q, want %q", got, want)
	}
}
