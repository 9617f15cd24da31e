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

package policy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestABackupVoteIsHeldToTheCoopsLimits: the members cannot vote a backup part that the
// operator would be refused when it writes it (a co-op keeps backups at most 90 days and
// backs up at most hourly; only the hub goes beyond), nor a schedule CloudNativePG cannot
// read. The refusal names the field and the rule.
func TestABackupVoteIsHeldToTheCoopsLimits(t *testing.T) {
	for _, tc := range []struct {
		value, field, rule string
	}{
		{`{"retention":"91d"}`, "backup.retention", "at most 90 days"},
		{`{"retention":"13w"}`, "backup.retention", "keeps backups 91 days"},
		{`{"retention":"4m"}`, "backup.retention", "keeps backups 120 days"},
		{`{"retention":"99999999999999999999d"}`, "backup.retention", "longer than can be counted"},
		{`{"schedule":"0 */30 * * * *"}`, "backup.schedule", "every 30m0s: a co-op's backups are at most hourly"},
		{`{"schedule":"0 0 25 * * *"}`, "backup.schedule", "cannot be read"},
	} {
		_, err := ParseChange(PartBackup, json.RawMessage(tc.value))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || !strings.Contains(fe.Message, tc.rule) {
			t.Errorf("%s: got %v; want a refusal of %s saying %q", tc.value, err, tc.field, tc.rule)
		}
	}
	for _, value := range []string{`{"retention":"90d"}`, `{"retention":"3m"}`, `{"retention":"12w","schedule":"0 0 * * * *"}`, `{"schedule":"0 30 3 * * 1"}`} {
		if _, err := ParseChange(PartBackup, json.RawMessage(value)); err != nil {
			t.Errorf("%s: %v; want it accepted", value, err)
		}
	}
}

func TestRetentionOverLimit(t *testing.T) {
	for r, over := range map[string]bool{"": false, "1d": false, "90d": false, "12w": false, "3m": false, "91d": true, "13w": true, "4m": true, "x": true} {
		if got := RetentionOverLimit(r) != ""; got != over {
			t.Errorf("RetentionOverLimit(%q) over = %t, want %t", r, got, over)
		}
	}
}

func TestShortestGap(t *testing.T) {
	for _, tc := range []struct {
		schedule string
		want     time.Duration
		ok       bool
	}{
		{"0 0 3 * * *", 24 * time.Hour, true},
		{"0 0 * * * *", time.Hour, true},
		{"0 */30 * * * *", 30 * time.Minute, true},
		{"*/30 * * * * *", 30 * time.Second, true},
		{"0 0,1 3 * * *", time.Minute, true}, // twice at 03:00 and 03:01, then a day apart
		{"0 0 3 * * 1", 7 * 24 * time.Hour, true},
		{"*/10 * * 15 * *", 10 * time.Second, true}, // on the 15th only: the week counts from the first run
		{"0 * * * 6 *", time.Minute, true},          // in June only
		{"0 * * 29 2 *", time.Minute, true},         // on 29 February only (2028)
		{"0 0 3 15 * *", 31 * 24 * time.Hour, true}, // monthly: the run after the week counts
		{"0 0 3 30 2 *", 0, false},                  // never
		{"not a schedule", 0, false},
	} {
		got, ok := ShortestGap(tc.schedule)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ShortestGap(%q) = %s, %t; want %s, %t", tc.schedule, got, ok, tc.want, tc.ok)
		}
	}
}

// TestStandbyBackupIsHeldToTheCoopsLimits: a standby at a peer hub gets its home co-op's
// schedule and retention within the limits the peer holds every standby to; what its home
// hub granted beyond is brought back to the limit, and said.
func TestStandbyBackupIsHeldToTheCoopsLimits(t *testing.T) {
	for _, tc := range []struct {
		schedule, retention         string
		wantSchedule, wantRetention string
		limited                     int
	}{
		{"0 0 3 * * *", "30d", "0 0 3 * * *", "30d", 0},
		{"0 30 * * * *", "3m", "0 30 * * * *", "3m", 0},
		{"", "", "", "", 0},
		{"0 */10 * * * *", "30d", HourlySchedule, "30d", 1},
		{"0 0 3 * * *", "24m", "0 0 3 * * *", "90d", 1},
		{"* * * * * *", "99999999999999999999d", HourlySchedule, "90d", 2},
	} {
		schedule, retention, limited := StandbyBackup(tc.schedule, tc.retention)
		if schedule != tc.wantSchedule || retention != tc.wantRetention || len(limited) != tc.limited {
			t.Errorf("StandbyBackup(%q, %q) = %q, %q, %q; want %q, %q and %d changes", tc.schedule, tc.retention, schedule, retention, limited, tc.wantSchedule, tc.wantRetention, tc.limited)
		}
		if ScheduleOverLimit(schedule) != "" || RetentionOverLimit(retention) != "" {
			t.Errorf("StandbyBackup(%q, %q) is still over the limits: %q, %q", tc.schedule, tc.retention, schedule, retention)
		}
	}
}
