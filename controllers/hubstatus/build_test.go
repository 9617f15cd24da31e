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

package hubstatus_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cooperator-dev/cooperator/api/hubstatus"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	controller "github.com/cooperator-dev/cooperator/controllers/hubstatus"
)

var (
	t0 = time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	t1 = time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC)
)

func coop(name string, conds ...metav1.Condition) *coopv1.Cooperative {
	return &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: coopv1.CooperativeStatus{Namespace: coopv1.NamespacePrefix + name, Conditions: conds}}
}

func cond(typ string, status metav1.ConditionStatus, reason string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: "secret-looking detail of the hub: shared-db-rw", LastTransitionTime: metav1.NewTime(t0)}
}

// report is a CostReport of period whose status was computed for its spec (observed
// is the generation the lines are for), with one line per co-op of amounts.
func report(period string, phase coopv1.CostReportPhase, observed int64, amounts map[string]string) coopv1.CostReport {
	r := coopv1.CostReport{ObjectMeta: metav1.ObjectMeta{Name: period, Generation: 2}, Spec: coopv1.CostReportSpec{Currency: "EUR"},
		Status: coopv1.CostReportStatus{Phase: phase, ObservedGeneration: observed, Total: "100.00"}}
	for _, c := range []string{"a", "b", "c"} {
		if a, ok := amounts[c]; ok {
			r.Status.Lines = append(r.Status.Lines, coopv1.CostLine{Cooperative: c, Amount: a, SharePercent: "50.00", ComputeAmount: a})
		}
	}
	return r
}

func TestBuildDocument(t *testing.T) {
	backedUp := coop("a", cond(coopv1.ConditionReady, metav1.ConditionTrue, "Ready"), cond(coopv1.ConditionBackupReady, metav1.ConditionFalse, "BackupFailed"))
	backedUp.Status.LastBackup = &coopv1.BackupRecord{Name: "a-20261201", Time: &metav1.Time{Time: t1}}
	many := make([]coopv1.CostReport, 0, 30)
	for i := range 30 {
		many = append(many, report(fmt.Sprintf("%d-%02d", 2024+i/12, i%12+1), coopv1.CostReportFinal, 2, map[string]string{"a": "1.00"}))
	}
	for _, tc := range []struct {
		name    string
		coop    *coopv1.Cooperative
		reports []coopv1.CostReport
		written *hubstatus.Document
		check   func(t *testing.T, d *hubstatus.Document)
	}{{
		name: "a new co-op: every condition Unknown, no backup, no month",
		coop: coop("a"),
		check: func(t *testing.T, d *hubstatus.Document) {
			for _, c := range []hubstatus.Check{d.Reliability.Ready, d.Reliability.Database, d.Reliability.Platform, d.Reliability.Backup} {
				if c.Status != "Unknown" || c.Since != nil {
					t.Errorf("check %+v, want Unknown without a time", c)
				}
			}
			if d.Reliability.LastBackup != nil || d.Hosting == nil || len(d.Hosting) != 0 {
				t.Errorf("want no backup and an empty (not null) hosting list, got %+v", d)
			}
		},
	}, {
		name: "conditions and the last backup, without the conditions' messages",
		coop: backedUp,
		check: func(t *testing.T, d *hubstatus.Document) {
			r := d.Reliability
			if r.Ready.Status != "True" || r.Ready.Reason != "Ready" || !r.Ready.Since.Equal(t0) || r.Backup.Status != "False" || r.Backup.Reason != "BackupFailed" {
				t.Errorf("reliability %+v", r)
			}
			if r.LastBackup == nil || !r.LastBackup.Equal(t1) {
				t.Errorf("last backup %v, want %v", r.LastBackup, t1)
			}
			b, _ := json.Marshal(d)
			if containsAny(string(b), "shared-db-rw", "a-20261201") {
				t.Errorf("the document carries a condition message or a backup name: %s", b)
			}
		},
	}, {
		name: "the co-op's own line of each report, newest first; never another co-op's",
		coop: coop("a"),
		reports: []coopv1.CostReport{
			report("2026-10", coopv1.CostReportFinal, 2, map[string]string{"a": "41.10", "b": "58.90"}),
			report("2026-11", coopv1.CostReportOpen, 2, map[string]string{"a": "12.34", "b": "87.66"}),
			report("2026-09", coopv1.CostReportFinal, 2, map[string]string{"b": "100.00"}),
		},
		check: func(t *testing.T, d *hubstatus.Document) {
			if len(d.Hosting) != 2 {
				t.Fatalf("months %+v, want 2026-11 and 2026-10", d.Hosting)
			}
			want := []hubstatus.Month{
				{Period: "2026-11", Final: false, Currency: "EUR", HubTotal: "100.00", Cooperatives: 2, Amount: "12.34", SharePercent: "50.00", ComputeAmount: "12.34"},
				{Period: "2026-10", Final: true, Currency: "EUR", HubTotal: "100.00", Cooperatives: 2, Amount: "41.10", SharePercent: "50.00", ComputeAmount: "41.10"},
			}
			for i := range want {
				if d.Hosting[i] != want[i] {
					t.Errorf("month %d: %+v, want %+v", i, d.Hosting[i], want[i])
				}
			}
			b, _ := json.Marshal(d)
			if containsAny(string(b), "58.90", "87.66") {
				t.Errorf("the document carries another co-op's amount: %s", b)
			}
		},
	}, {
		name:    "a report whose lines are for an older spec, and no document written: left out until recomputed",
		coop:    coop("a"),
		reports: []coopv1.CostReport{report("2026-11", coopv1.CostReportOpen, 1, map[string]string{"a": "12.34"})},
		check: func(t *testing.T, d *hubstatus.Document) {
			if len(d.Hosting) != 0 {
				t.Errorf("months %+v, want none", d.Hosting)
			}
		},
	}, {
		name: "a report whose lines are for an older spec keeps the month as written, not its stale lines; a written month without a report goes",
		coop: coop("a"),
		reports: []coopv1.CostReport{
			report("2026-11", coopv1.CostReportOpen, 1, map[string]string{"a": "99.99"}),
			report("2026-10", coopv1.CostReportOpen, 1, map[string]string{"a": "5.00"}),
		},
		written: &hubstatus.Document{Cooperative: "a", Hosting: []hubstatus.Month{
			{Period: "2026-12", Currency: "EUR", HubTotal: "1.00", Cooperatives: 1, Amount: "1.00", EstimatedAt: &t1},
			{Period: "2026-11", Currency: "EUR", HubTotal: "100.00", Cooperatives: 2, Amount: "12.34", SharePercent: "12.34", ComputeAmount: "12.34", EstimatedAt: &t1},
		}},
		check: func(t *testing.T, d *hubstatus.Document) {
			want := hubstatus.Month{Period: "2026-11", Currency: "EUR", HubTotal: "100.00", Cooperatives: 2, Amount: "12.34", SharePercent: "12.34", ComputeAmount: "12.34", EstimatedAt: &t1}
			if len(d.Hosting) != 1 || d.Hosting[0] != want {
				t.Errorf("months %+v, want only %+v", d.Hosting, want)
			}
		},
	}, {
		name:    "at most MaxMonths months, the newest",
		coop:    coop("a"),
		reports: many,
		check: func(t *testing.T, d *hubstatus.Document) {
			if len(d.Hosting) != hubstatus.MaxMonths || d.Hosting[0].Period != "2026-06" || d.Hosting[hubstatus.MaxMonths-1].Period != "2024-07" {
				t.Errorf("%d months from %s to %s", len(d.Hosting), d.Hosting[0].Period, d.Hosting[len(d.Hosting)-1].Period)
			}
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			d := controller.BuildDocument(tc.coop, tc.reports, tc.written)
			if err := d.Validate(); err != nil {
				t.Fatalf("the document is not valid: %v", err)
			}
			b, err := d.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := hubstatus.Parse(b); err != nil {
				t.Fatalf("the platform cannot read it: %v", err)
			}
			tc.check(t, d)
		})
	}
}

func TestBuildConfigMap(t *testing.T) {
	c := coop("a")
	cm, err := controller.BuildConfigMap(c, controller.BuildDocument(c, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if cm.Name != hubstatus.ConfigMapName || cm.Namespace != "coop-a" || len(cm.OwnerReferences) != 0 ||
		cm.Labels[coopv1.LabelManagedBy] != coopv1.ManagedByValue || cm.Labels[coopv1.LabelCooperative] != "a" {
		t.Errorf("metadata %+v: want %s in coop-a, the operator's labels (its cache holds only those), no owner", cm.ObjectMeta, hubstatus.ConfigMapName)
	}
	if _, err := hubstatus.Parse([]byte(cm.Data[hubstatus.Key])); err != nil {
		t.Errorf("data under %s: %v", hubstatus.Key, err)
	}
}

func containsAny(s string, subs ...string) bool {
	return slices.ContainsFunc(subs, func(x string) bool { return strings.Contains(s, x) })
}

// TestSettle: a running estimate that moved reaches the document at most once per
// hubstatus.EstimateRefresh; one that did not move keeps its date; the first estimate of a
// month, a final month and the readiness are never held back.
func TestSettle(t *testing.T) {
	at := func(d time.Duration) *time.Time { v := t1.Add(d); return &v }
	month := func(period string, final bool, amount string, estimated *time.Time) hubstatus.Month {
		return hubstatus.Month{Period: period, Final: final, Currency: "EUR", HubTotal: "100.00", Cooperatives: 2, Amount: amount, ComputeAmount: amount, EstimatedAt: estimated}
	}
	doc := func(ready string, months ...hubstatus.Month) *hubstatus.Document {
		return &hubstatus.Document{Cooperative: "a", Reliability: hubstatus.Reliability{Ready: hubstatus.Check{Status: ready}}, Hosting: months}
	}
	now := t1.Add(20*time.Minute + 500*time.Millisecond) // dated to the second
	tests := []struct {
		name     string
		old, d   *hubstatus.Document
		want     *hubstatus.Document
		wantWait time.Duration
	}{{
		name: "no document yet: the estimate is dated now",
		old:  nil, d: doc("True", month("2026-12", false, "10.00", nil)),
		want: doc("True", month("2026-12", false, "10.00", at(20*time.Minute))),
	}, {
		name: "the estimate did not move: it keeps its date",
		old:  doc("True", month("2026-12", false, "10.00", at(0))), d: doc("True", month("2026-12", false, "10.00", nil)),
		want: doc("True", month("2026-12", false, "10.00", at(0))),
	}, {
		name: "moved within the hour: the old estimate stands until the hour is up",
		old:  doc("True", month("2026-12", false, "10.00", at(0))), d: doc("True", month("2026-12", false, "10.40", nil)),
		want:     doc("True", month("2026-12", false, "10.00", at(0))),
		wantWait: 40 * time.Minute,
	}, {
		name: "moved within the hour while the readiness changed: the document is written, with the moved estimate",
		old:  doc("True", month("2026-12", false, "10.00", at(0))), d: doc("False", month("2026-12", false, "10.40", nil)),
		want: doc("False", month("2026-12", false, "10.40", at(20*time.Minute))),
	}, {
		name: "moved after the hour: replaced and dated now",
		old:  doc("True", month("2026-12", false, "10.00", at(-41*time.Minute))), d: doc("True", month("2026-12", false, "10.40", nil)),
		want: doc("True", month("2026-12", false, "10.40", at(20*time.Minute))),
	}, {
		name: "dated ahead of now (a clock moved back): replaced",
		old:  doc("True", month("2026-12", false, "10.00", at(2*time.Hour))), d: doc("True", month("2026-12", false, "10.40", nil)),
		want: doc("True", month("2026-12", false, "10.40", at(20*time.Minute))),
	}, {
		name: "the month turned final: written at once, undated",
		old:  doc("True", month("2026-11", false, "10.00", at(0))), d: doc("True", month("2026-11", true, "12.00", nil)),
		want: doc("True", month("2026-11", true, "12.00", nil)),
	}, {
		name: "a new month beside a moved one: written, both dated now",
		old:  doc("True", month("2026-11", false, "10.00", at(-10*time.Minute))),
		d:    doc("True", month("2026-12", false, "1.00", nil), month("2026-11", false, "11.00", nil)),
		want: doc("True", month("2026-12", false, "1.00", at(20*time.Minute)), month("2026-11", false, "11.00", at(20*time.Minute))),
	}, {
		name:     "two moved estimates held back: the wait is the sooner one's",
		old:      doc("True", month("2026-12", false, "1.00", at(-10*time.Minute)), month("2026-11", false, "10.00", at(-30*time.Minute))),
		d:        doc("True", month("2026-12", false, "2.00", nil), month("2026-11", false, "11.00", nil)),
		want:     doc("True", month("2026-12", false, "1.00", at(-10*time.Minute)), month("2026-11", false, "10.00", at(-30*time.Minute))),
		wantWait: 10 * time.Minute,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wait := controller.Settle(tt.old, tt.d, now, hubstatus.EstimateRefresh)
			got, _ := json.Marshal(tt.d)
			want, _ := json.Marshal(tt.want)
			if string(got) != string(want) || wait != tt.wantWait {
				t.Errorf("got %s, wait %s\nwant %s, wait %s", got, wait, want, tt.wantWait)
			}
		})
	}
}

// TestRefreshOf: every co-op's estimate stands at least hubstatus.EstimateRefresh and less
// than a sixth of it more, the same for a co-op every time, and a thousand co-ops spread
// over that sixth (not all in one minute).
func TestRefreshOf(t *testing.T) {
	minutes := map[time.Duration]bool{}
	for i := range 1000 {
		name := fmt.Sprintf("coop-%04d", i)
		r := controller.RefreshOf(name)
		if r < hubstatus.EstimateRefresh || r >= hubstatus.EstimateRefresh+hubstatus.EstimateRefresh/6 {
			t.Fatalf("%s: %s, want within [%s, %s)", name, r, hubstatus.EstimateRefresh, hubstatus.EstimateRefresh+hubstatus.EstimateRefresh/6)
		}
		if controller.RefreshOf(name) != r {
			t.Fatalf("%s: not the same twice", name)
		}
		minutes[r.Truncate(time.Minute)] = true
	}
	if len(minutes) < 10 {
		t.Errorf("a thousand co-ops fall in %d minutes of the ten: not spread", len(minutes))
	}
}
