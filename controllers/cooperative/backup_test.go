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

package cooperative

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

func backupAt(name string, phase cnpgv1.BackupPhase, stopped time.Time) cnpgv1.Backup {
	t := metav1.NewTime(stopped)
	return cnpgv1.Backup{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: t},
		Status:     cnpgv1.BackupStatus{Phase: phase, StoppedAt: &t, Error: "bucket unreachable"},
	}
}

// Issue 10, point 5: BackupReady is True only while the last completed backup is younger
// than the schedule allows and WAL archiving works.
func TestJudgeBackupsHonestBackupStatus(t *testing.T) {
	const daily = "0 0 3 * * *" // 03:00:00 every day
	long := func(name string, started, stopped time.Time) cnpgv1.Backup {
		b := backupAt(name, cnpgv1.BackupPhaseCompleted, stopped)
		b.CreationTimestamp = metav1.NewTime(stopped.Add(-3 * time.Hour).Truncate(time.Hour)) // asked for at the scheduled time
		if started.After(b.CreationTimestamp.Time) || started.Equal(b.CreationTimestamp.Time) {
			b.CreationTimestamp = metav1.NewTime(started)
		}
		b.Status.StartedAt = &metav1.Time{Time: started}
		return b
	}
	running := func(name string, created time.Time) cnpgv1.Backup {
		return cnpgv1.Backup{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(created)}, Status: cnpgv1.BackupStatus{Phase: cnpgv1.BackupPhaseRunning}}
	}
	day := func(d, h, m int) time.Time { return time.Date(2026, 12, d, h, m, 0, 0, time.UTC) }
	archiving := &metav1.Condition{Type: string(cnpgv1.ConditionContinuousArchiving), Status: metav1.ConditionTrue, Reason: "ContinuousArchivingSuccess"}
	failing := &metav1.Condition{Type: string(cnpgv1.ConditionContinuousArchiving), Status: metav1.ConditionFalse, Reason: "ContinuousArchivingFailing", Message: "403 from the bucket"}
	for _, tc := range []struct {
		name        string
		now         time.Time
		schedule    string
		backups     []cnpgv1.Backup
		archiving   *metav1.Condition
		wantStatus  metav1.ConditionStatus
		wantReason  string
		wantRecheck time.Duration
		wantInMsg   string
	}{
		{name: "no backup yet", now: day(5, 4, 0), schedule: daily, archiving: archiving,
			wantStatus: metav1.ConditionFalse, wantReason: coopv1.ReasonNoBackupYet},
		{name: "fresh backup, archiving works: True until the next one is due plus the tolerance", now: day(5, 4, 0), schedule: daily,
			backups: []cnpgv1.Backup{backupAt("b1", cnpgv1.BackupPhaseCompleted, day(5, 3, 5))}, archiving: archiving,
			wantStatus: metav1.ConditionTrue, wantReason: coopv1.ReasonReady, wantRecheck: day(6, 4, 0).Sub(day(5, 4, 0))},
		{name: "within the tolerance after the next scheduled time", now: day(6, 3, 59), schedule: daily,
			backups: []cnpgv1.Backup{backupAt("b1", cnpgv1.BackupPhaseCompleted, day(5, 3, 5))}, archiving: archiving,
			wantStatus: metav1.ConditionTrue, wantReason: coopv1.ReasonReady, wantRecheck: time.Minute},
		{name: "overdue once the next scheduled backup plus the tolerance passed", now: day(6, 4, 0), schedule: daily,
			backups: []cnpgv1.Backup{backupAt("b1", cnpgv1.BackupPhaseCompleted, day(5, 3, 5))}, archiving: archiving,
			wantStatus: metav1.ConditionFalse, wantReason: coopv1.ReasonBackupOverdue, wantInMsg: "2026-12-06T04:00:00Z"},
		{name: "a newer completed backup makes it fresh again", now: day(6, 4, 0), schedule: daily,
			backups: []cnpgv1.Backup{backupAt("b1", cnpgv1.BackupPhaseCompleted, day(5, 3, 5)), backupAt("b2", cnpgv1.BackupPhaseCompleted, day(6, 3, 2))}, archiving: archiving,
			wantStatus: metav1.ConditionTrue, wantReason: coopv1.ReasonReady, wantInMsg: "b2", wantRecheck: 24 * time.Hour},
		{name: "a backup that takes two hours is not overdue while the next one runs", now: day(6, 5, 30), schedule: daily,
			backups: []cnpgv1.Backup{long("b1", day(5, 3, 0), day(5, 5, 0)), running("b2", day(6, 3, 0))}, archiving: archiving,
			wantStatus: metav1.ConditionTrue, wantReason: coopv1.ReasonReady, wantRecheck: 30 * time.Minute},
		{name: "a backup that takes two hours is overdue once that much more has passed", now: day(6, 6, 0), schedule: daily,
			backups: []cnpgv1.Backup{long("b1", day(5, 3, 0), day(5, 5, 0)), running("b2", day(6, 3, 0))}, archiving: archiving,
			wantStatus: metav1.ConditionFalse, wantReason: coopv1.ReasonBackupOverdue},
		{name: "a backup that took two hours, and none running since: overdue at the usual time", now: day(6, 4, 0), schedule: daily,
			backups: []cnpgv1.Backup{long("b1", day(5, 3, 0), day(5, 5, 0))}, archiving: archiving,
			wantStatus: metav1.ConditionFalse, wantReason: coopv1.ReasonBackupOverdue},
		{name: "a start the plugin got wrong (1970) is not believed", now: day(6, 4, 0), schedule: daily,
			backups: []cnpgv1.Backup{long("b1", time.Unix(0, 0), day(5, 5, 0)), running("b2", day(6, 3, 0))}, archiving: archiving,
			wantStatus: metav1.ConditionFalse, wantReason: coopv1.ReasonBackupOverdue},
		{name: "the tolerance is the schedule's interval when shorter than an hour", now: day(5, 3, 21), schedule: "0 */10 * * * *",
			backups: []cnpgv1.Backup{backupAt("b1", cnpgv1.BackupPhaseCompleted, day(5, 3, 0))}, archiving: archiving,
			wantStatus: metav1.ConditionFalse, wantReason: coopv1.ReasonBackupOverdue},
		{name: "archiving failing, however fresh the backup", now: day(5, 4, 0), schedule: daily,
			backups: []cnpgv1.Backup{backupAt("b1", cnpgv1.BackupPhaseCompleted, day(5, 3, 5))}, archiving: failing,
			wantStatus: metav1.ConditionFalse, wantReason: coopv1.ReasonArchivingFailing, wantInMsg: "403 from the bucket"},
		{name: "archiving not reported by CloudNativePG", now: day(5, 4, 0), schedule: daily,
			backups:    []cnpgv1.Backup{backupAt("b1", cnpgv1.BackupPhaseCompleted, day(5, 3, 5))},
			wantStatus: metav1.ConditionFalse, wantReason: coopv1.ReasonArchivingFailing},
		{name: "the latest backup failed", now: day(6, 3, 30), schedule: daily,
			backups: []cnpgv1.Backup{backupAt("b1", cnpgv1.BackupPhaseCompleted, day(5, 3, 5)), backupAt("b2", cnpgv1.BackupPhaseFailed, day(6, 3, 1))}, archiving: archiving,
			wantStatus: metav1.ConditionFalse, wantReason: coopv1.ReasonBackupFailed, wantInMsg: "bucket unreachable"},
		{name: "a backup still running is not completed", now: day(5, 4, 0), schedule: daily,
			backups: []cnpgv1.Backup{backupAt("b1", cnpgv1.BackupPhaseRunning, day(5, 3, 5))}, archiving: archiving,
			wantStatus: metav1.ConditionFalse, wantReason: coopv1.ReasonNoBackupYet},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := JudgeBackups(tc.now, tc.schedule, tc.backups, tc.archiving, "Cluster x")
			if v.Status != tc.wantStatus || v.Reason != tc.wantReason {
				t.Fatalf("got %s %s (%s), want %s %s", v.Status, v.Reason, v.Message, tc.wantStatus, tc.wantReason)
			}
			if v.RecheckAfter != tc.wantRecheck {
				t.Errorf("recheck after %s, want %s", v.RecheckAfter, tc.wantRecheck)
			}
			if !strings.Contains(v.Message, tc.wantInMsg) {
				t.Errorf("message %q does not say %q", v.Message, tc.wantInMsg)
			}
		})
	}
}

// Issue 10, point 5: Prometheus sees the time of each co-op's last completed backup, as
// its status records it (so the series survives a restart of the operator and goes with
// the co-op), and none for a suspended co-op, whose record the operator does not keep.
func TestTheLastBackupTimestampIsReadFromStatus(t *testing.T) {
	stopped := time.Date(2026, 12, 5, 3, 5, 0, 0, time.UTC)
	b := backupAt("b1", cnpgv1.BackupPhaseCompleted, stopped)
	s := &scope{coop: &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "metric-coop"}}}
	setBackupCondition(s, BackupVerdict{Status: metav1.ConditionTrue, Reason: coopv1.ReasonReady, LastCompleted: &b}, "")
	if s.coop.Status.LastBackup == nil || s.coop.Status.LastBackup.Name != "b1" {
		t.Fatalf("lastBackup = %+v", s.coop.Status.LastBackup)
	}
	suspended := s.coop.DeepCopy()
	suspended.Name, suspended.Spec.Suspend = "suspended-coop", true
	none := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "new-coop"}}
	scheme := runtime.NewScheme()
	if err := coopv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(s.coop, suspended, none).Build()
	want := fmt.Sprintf(`# HELP cooperator_backup_last_completed_timestamp_seconds %s
# TYPE cooperator_backup_last_completed_timestamp_seconds gauge
cooperator_backup_last_completed_timestamp_seconds{cooperative="metric-coop"} %d
`, "Unix time of the last completed base backup holding the co-op's database (its own Cluster's, or the hub's shared Cluster's for the shared tier), as its status.lastBackup records it; absent before the first, and while the co-op is suspended (the operator then records none).", stopped.Unix())
	if err := testutil.CollectAndCompare(collectorOf(c), strings.NewReader(want), "cooperator_backup_last_completed_timestamp_seconds"); err != nil {
		t.Error(err)
	}
}

// A co-op whose deletion a finalizer holds (the federation's here, which the co-op's
// conditions do not show) exports the time its deletion was asked, which
// CooperativeDeletionStuck reads; a co-op not being deleted exports none.
func TestTheDeletionTimestampIsExported(t *testing.T) {
	asked := metav1.NewTime(time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC))
	held := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "leaving", DeletionTimestamp: &asked, Finalizers: []string{"coop.cooperator.dev/federation"}}}
	staying := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "staying"}}
	scheme := runtime.NewScheme()
	if err := coopv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(held, staying).Build()
	want := fmt.Sprintf(`# HELP cooperator_cooperative_deletion_timestamp_seconds %s
# TYPE cooperator_cooperative_deletion_timestamp_seconds gauge
cooperator_cooperative_deletion_timestamp_seconds{cooperative="leaving"} %d
`, "Unix time the co-op's deletion was asked (its metadata.deletionTimestamp), while a finalizer still holds it: the operator's (a final backup, its namespace) or the federation's (the standbys at peers); absent otherwise.", asked.Unix())
	if err := testutil.CollectAndCompare(collectorOf(c), strings.NewReader(want), "cooperator_cooperative_deletion_timestamp_seconds"); err != nil {
		t.Error(err)
	}
}

// collectorOf is the co-ops' state metrics read from r.
func collectorOf(r client.Reader) prometheus.Collector { return readCollector{r} }

type readCollector struct{ r client.Reader }

func (c readCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{readyDesc, conditionDesc, archivingDesc, backupLastCompletedDesc, deletionDesc} {
		ch <- d
	}
}

func (c readCollector) Collect(ch chan<- prometheus.Metric) {
	collectCooperatives(context.Background(), c.r, ch)
}

// Failed Backup objects go once they are more than a day (the margin) older than the first
// recoverability point the plugin reports: older than anything the object store holds.
// Completed ones are the plugin's to delete; the most recent backup, and any still
// running, stay.
func TestExpiredBackups(t *testing.T) {
	now := time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	const day = 24 * time.Hour
	const server = "coop-2"
	running := cnpgv1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "running", CreationTimestamp: metav1.NewTime(ago(40 * day))},
		Status: cnpgv1.BackupStatus{Phase: cnpgv1.BackupPhaseRunning}}
	daily := []cnpgv1.Backup{
		backupAt("d-40", cnpgv1.BackupPhaseCompleted, ago(40*day)),
		backupAt("d-36-failed", cnpgv1.BackupPhaseFailed, ago(36*day)),
		backupAt("d-34-failed", cnpgv1.BackupPhaseFailed, ago(34*day)),
		backupAt("d-32", cnpgv1.BackupPhaseCompleted, ago(32*day)),
		backupAt("d-31-failed", cnpgv1.BackupPhaseFailed, ago(31*day)),
		backupAt("d-1", cnpgv1.BackupPhaseCompleted, ago(day)),
		running,
	}
	store := func(serverName string, first time.Time) *barmanv1.ObjectStore {
		at := metav1.NewTime(first)
		return &barmanv1.ObjectStore{Status: barmanv1.ObjectStoreStatus{ServerRecoveryWindow: map[string]barmanv1.RecoveryWindow{
			serverName: {FirstRecoverabilityPoint: &at},
		}}}
	}
	for _, tc := range []struct {
		name    string
		store   *barmanv1.ObjectStore
		server  string
		backups []cnpgv1.Backup
		want    string
	}{
		{name: "the catalogue starts with d-32: failures from a day before it go", store: store(server, ago(32*day)), server: server, backups: daily,
			want: "d-36-failed d-34-failed"},
		{name: "within the margin of the first point: kept", store: store(server, ago(34*day-time.Hour)), server: server, backups: daily,
			want: "d-36-failed"},
		{name: "the catalogue holds everything", store: store(server, ago(50*day)), server: server, backups: daily},
		{name: "no point reported for the server archived under", store: store("coop", ago(day)), server: server, backups: daily},
		{name: "no ObjectStore", server: server, backups: daily},
		{name: "no server name yet", store: store(server, ago(day)), backups: daily},
		{name: "the most recent backup stays, however old and failed", store: store(server, now), server: server,
			backups: []cnpgv1.Backup{backupAt("c-50", cnpgv1.BackupPhaseCompleted, ago(50*day)), backupAt("f-40", cnpgv1.BackupPhaseFailed, ago(40*day))}},
		{name: "a single backup stays", store: store(server, now), server: server,
			backups: []cnpgv1.Backup{backupAt("f-50", cnpgv1.BackupPhaseFailed, ago(50*day))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, b := range ExpiredBackups(tc.backups, tc.store, tc.server) {
				got = append(got, b.Name)
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("expired %q, want %q", strings.Join(got, " "), tc.want)
			}
		})
	}
}

func TestJudgeLogicalBackup(t *testing.T) {
	created := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	cronJob := func(lastSuccess *time.Time) *batchv1.CronJob {
		c := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "coop-a-dump", CreationTimestamp: metav1.NewTime(created)},
			Spec: batchv1.CronJobSpec{Schedule: "30 2 * * *"}}
		if lastSuccess != nil {
			c.Status.LastSuccessfulTime = &metav1.Time{Time: *lastSuccess}
		}
		return c
	}
	ok := BackupVerdict{Status: metav1.ConditionTrue, Reason: coopv1.ReasonReady, Message: "shared ok", RecheckAfter: 48 * time.Hour}
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	lastNight := at("2026-12-04T02:31:00Z")
	for _, tc := range []struct {
		name    string
		now     time.Time
		cronJob *batchv1.CronJob
		in      BackupVerdict
		status  metav1.ConditionStatus
		recheck time.Duration
	}{
		{"no CronJob yet (no credentials, or not cached)", at("2026-12-10T00:00:00Z"), nil, ok, metav1.ConditionTrue, 48 * time.Hour},
		{"before its first run is due", at("2026-12-02T01:00:00Z"), cronJob(nil), ok, metav1.ConditionTrue, 2*time.Hour + 30*time.Minute},
		{"its first run never succeeded", at("2026-12-03T03:30:00Z"), cronJob(nil), ok, metav1.ConditionFalse, 0},
		{"last night's succeeded", at("2026-12-04T12:00:00Z"), cronJob(&lastNight), ok, metav1.ConditionTrue, 15*time.Hour + 30*time.Minute},
		{"failing for two nights", at("2026-12-06T03:30:00Z"), cronJob(&lastNight), ok, metav1.ConditionFalse, 0},
		{"a shorthand schedule the hub may set", at("2026-12-04T12:00:00Z"), func() *batchv1.CronJob {
			c := cronJob(&lastNight)
			c.Spec.Schedule = "@daily"
			return c
		}(), ok, metav1.ConditionTrue, 13 * time.Hour},
		{"the shared Cluster's verdict comes first", at("2026-12-06T03:30:00Z"), cronJob(&lastNight),
			BackupVerdict{Status: metav1.ConditionFalse, Reason: coopv1.ReasonArchivingFailing, Message: "archiving"}, metav1.ConditionFalse, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := JudgeLogicalBackup(tc.now, tc.in, tc.cronJob)
			if v.Status != tc.status || v.RecheckAfter != tc.recheck {
				t.Fatalf("verdict %s/%s %q, recheck %s; want %s, recheck %s", v.Status, v.Reason, v.Message, v.RecheckAfter, tc.status, tc.recheck)
			}
			if tc.in.Status == metav1.ConditionTrue && v.Status == metav1.ConditionFalse &&
				(v.Reason != coopv1.ReasonBackupOverdue || !strings.Contains(v.Message, "coop-a-dump")) {
				t.Errorf("reason %s, message %q: want BackupOverdue naming the CronJob", v.Reason, v.Message)
			}
			if tc.in.Status == metav1.ConditionFalse && v != tc.in {
				t.Errorf("changed a verdict that was already False: %+v", v)
			}
		})
	}
}
