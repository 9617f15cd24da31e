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
	"cmp"
	"fmt"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	"github.com/robfig/cron"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// MaxBackupTolerance bounds the time a scheduled backup has to complete after the moment
// it is due before the co-op's backups count as overdue. The tolerance is the schedule's
// own interval when that is shorter: a backup every five minutes is overdue after ten.
const MaxBackupTolerance = time.Hour

// BackupVerdict is what the backups of a Cluster say about a co-op's data.
type BackupVerdict struct {
	Status  metav1.ConditionStatus
	Reason  string
	Message string
	// LastCompleted is the most recent completed backup; nil when none completed.
	LastCompleted *cnpgv1.Backup
	// RecheckAfter is when the verdict changes by the passing of time alone (a fresh backup
	// becoming overdue); zero when only an event can change it.
	RecheckAfter time.Duration
}

// JudgeBackups says whether the data of a Cluster is protected now: True only while the
// last completed backup is younger than the schedule allows (the next scheduled time after
// it, plus a tolerance) and CloudNativePG reports WAL archiving working (archiving, the
// Cluster's ContinuousArchiving condition). subject names the Cluster in messages.
func JudgeBackups(now time.Time, schedule string, backups []cnpgv1.Backup, archiving *metav1.Condition, subject string) BackupVerdict {
	last := newestBackup(backups, func(*cnpgv1.Backup) bool { return true })
	lastCompleted := newestBackup(backups, func(b *cnpgv1.Backup) bool { return b.Status.Phase == cnpgv1.BackupPhaseCompleted })
	v := BackupVerdict{Status: metav1.ConditionFalse, LastCompleted: lastCompleted}
	switch {
	case last != nil && last.Status.Phase == cnpgv1.BackupPhaseFailed:
		v.Reason, v.Message = coopv1.ReasonBackupFailed, fmt.Sprintf("backup %s of %s failed: %s", last.Name, subject, last.Status.Error)
		return v
	case lastCompleted == nil:
		v.Reason, v.Message = coopv1.ReasonNoBackupYet, fmt.Sprintf("backups of %s are scheduled; none has completed yet", subject)
		return v
	case archiving == nil:
		v.Reason, v.Message = coopv1.ReasonArchivingFailing, fmt.Sprintf("CloudNativePG has not reported WAL archiving of %s working yet", subject)
		return v
	case archiving.Status != metav1.ConditionTrue:
		v.Reason, v.Message = coopv1.ReasonArchivingFailing, fmt.Sprintf("WAL archiving of %s is failing: %s", subject, archiving.Message)
		return v
	}
	completedAt := backupTime(lastCompleted).Time
	deadline, err := BackupDeadline(schedule, completedAt)
	if err != nil {
		// The webhook refuses such a schedule; a hub setting may still carry one.
		v.Reason, v.Message = coopv1.ReasonBackupOverdue, fmt.Sprintf("backup schedule %q of %s cannot be read: %v", schedule, subject, err)
		return v
	}
	// While the next backup runs, it may take as long as the last one did (at most
	// MaxBackupRun): a backup that runs longer than the tolerance is not overdue meanwhile.
	// The times are the plugin's: a start before the Backup existed is not believed.
	if st := lastCompleted.Status; last != lastCompleted && last.Status.Phase != cnpgv1.BackupPhaseFailed &&
		st.StartedAt != nil && st.StoppedAt != nil && st.StoppedAt.After(st.StartedAt.Time) &&
		!st.StartedAt.Before(&lastCompleted.CreationTimestamp) {
		deadline = deadline.Add(min(st.StoppedAt.Sub(st.StartedAt.Time), MaxBackupRun))
	}
	if !now.Before(deadline) {
		v.Reason, v.Message = coopv1.ReasonBackupOverdue, fmt.Sprintf("the last completed backup %s of %s is from %s; the next one was due to complete by %s",
			lastCompleted.Name, subject, completedAt.UTC().Format(time.RFC3339), deadline.UTC().Format(time.RFC3339))
		return v
	}
	v.Status, v.Reason = metav1.ConditionTrue, coopv1.ReasonReady
	v.Message = fmt.Sprintf("last backup %s of %s completed at %s; WAL archiving works", lastCompleted.Name, subject, completedAt.UTC().Format(time.RFC3339))
	v.RecheckAfter = deadline.Sub(now)
	return v
}

// JudgeLogicalBackup weighs a shared-tier co-op's own logical backup (its CronJob, on the
// five-field schedule) into the verdict of the shared Cluster's backups: the dump is the
// only way to restore one co-op without rolling back every co-op of the shared Cluster.
// A verdict that is True turns False (BackupOverdue) once the dump is overdue: the next
// scheduled time after its last success (or, before any, after the CronJob was created),
// plus a tolerance, has passed.
func JudgeLogicalBackup(now time.Time, v BackupVerdict, cronJob *batchv1.CronJob) BackupVerdict {
	if v.Status != metav1.ConditionTrue || cronJob == nil {
		return v
	}
	since, what := cronJob.CreationTimestamp.Time, "no logical backup of the co-op's database has succeeded since its CronJob "+cronJob.Name+" was created at "
	if last := cronJob.Status.LastSuccessfulTime; last != nil {
		since, what = last.Time, "the last logical backup of the co-op's database (CronJob "+cronJob.Name+") succeeded at "
	}
	sched, err := cron.ParseStandard(cronJob.Spec.Schedule) // five fields, as CronJobs and the hub's setting read it
	var deadline time.Time
	if err == nil {
		deadline, err = scheduleDeadline(sched, since)
	}
	if err != nil {
		v.Status, v.Reason, v.RecheckAfter = metav1.ConditionFalse, coopv1.ReasonBackupOverdue, 0
		v.Message = fmt.Sprintf("the schedule %q of CronJob %s cannot be read: %v", cronJob.Spec.Schedule, cronJob.Name, err)
		return v
	}
	if !now.Before(deadline) {
		v.Status, v.Reason, v.RecheckAfter = metav1.ConditionFalse, coopv1.ReasonBackupOverdue, 0
		v.Message = fmt.Sprintf("%s%s; the next one was due by %s (the shared Cluster's backups alone restore every co-op at once)",
			what, since.UTC().Format(time.RFC3339), deadline.UTC().Format(time.RFC3339))
		return v
	}
	v.RecheckAfter = min(v.RecheckAfter, deadline.Sub(now))
	return v
}

// MaxBackupRun bounds how much longer than the tolerance a running backup may take before
// BackupReady says overdue (as long as the last one took, at most this).
const MaxBackupRun = 12 * time.Hour

// RetentionMargin is how much older than the plugin's first recoverability point a failed
// Backup must be before its object goes: the point and the Backup's times are written by
// different processes, whose clocks may differ.
const RetentionMargin = 24 * time.Hour

// ExpiredBackups returns the failed Backup objects of a Cluster that are older than anything
// its object store still holds. The Barman Cloud plugin deletes the base backups its
// retention no longer needs, deletes the Backup objects of completed backups that have
// left its catalogue, and reports in the ObjectStore's status the first recoverability
// point of the server name the Cluster archives under (the end of the oldest backup left).
// A failed Backup holds nothing and the plugin leaves its object: while backups fail, one
// a day would pile up for good. Returned: the failed Backups from more than RetentionMargin
// before that point. Never the most recent backup (BackupReady reads it), nor any while the
// plugin has reported no point for serverName.
func ExpiredBackups(backups []cnpgv1.Backup, store *barmanv1.ObjectStore, serverName string) []*cnpgv1.Backup {
	if store == nil || serverName == "" || len(backups) < 2 {
		return nil
	}
	window, ok := store.Status.ServerRecoveryWindow[serverName]
	if !ok || window.FirstRecoverabilityPoint == nil {
		return nil
	}
	cutoff := window.FirstRecoverabilityPoint.Add(-RetentionMargin)
	newest := newestBackup(backups, func(*cnpgv1.Backup) bool { return true })
	var expired []*cnpgv1.Backup
	for i := range backups {
		b := &backups[i]
		if b != newest && b.Status.Phase == cnpgv1.BackupPhaseFailed && backupTime(b).Time.Before(cutoff) {
			expired = append(expired, b)
		}
	}
	return expired
}

// newestBackup is the newest of the backups that keep accepts (by backupTime), nil when
// there is none; the first of equally new ones.
func newestBackup(backups []cnpgv1.Backup, keep func(*cnpgv1.Backup) bool) *cnpgv1.Backup {
	var newest *cnpgv1.Backup
	for i := range backups {
		b := &backups[i]
		if keep(b) && (newest == nil || backupTime(b).After(backupTime(newest).Time)) {
			newest = b
		}
	}
	return newest
}

// BackupDeadline is the moment backups that last completed at completedAt become overdue:
// the next scheduled time after it (six-field cron, seconds first, as CloudNativePG reads
// it), plus a tolerance of the schedule's interval at most MaxBackupTolerance.
func BackupDeadline(schedule string, completedAt time.Time) (time.Time, error) {
	sched, err := cron.Parse(schedule)
	if err != nil {
		return time.Time{}, err
	}
	return scheduleDeadline(sched, completedAt)
}

// scheduleDeadline is BackupDeadline for a schedule already read.
func scheduleDeadline(sched cron.Schedule, completedAt time.Time) (time.Time, error) {
	next := sched.Next(completedAt)
	if next.IsZero() {
		return time.Time{}, fmt.Errorf("the schedule has no time after %s", completedAt.UTC().Format(time.RFC3339))
	}
	tolerance := min(sched.Next(next).Sub(next), MaxBackupTolerance)
	return next.Add(tolerance), nil
}

// setBackupCondition writes the verdict on BackupReady, records the last completed backup
// in status (backupRecord, of the Cluster whose server name is serverName; the metric
// cooperator_backup_last_completed_timestamp_seconds reads it), and returns when to look
// again.
func setBackupCondition(s *scope, v BackupVerdict, serverName string) time.Duration {
	if v.LastCompleted != nil {
		s.coop.Status.LastBackup = backupRecord(v.LastCompleted, serverName)
	}
	s.setCondition(coopv1.ConditionBackupReady, v.Status, v.Reason, v.Message)
	return v.RecheckAfter
}

// backupRecord is the status record of b, a completed backup of the Cluster whose server
// name is serverName: the one b's status names, else serverName. None is recorded for ""
// (the shared Cluster's backups: a shared-tier co-op is recovered from its dumps).
func backupRecord(b *cnpgv1.Backup, serverName string) *coopv1.BackupRecord {
	r := &coopv1.BackupRecord{Name: b.Name, Time: b.Status.StoppedAt}
	if serverName != "" {
		r.ServerName = cmp.Or(b.Status.ServerName, serverName)
	}
	return r
}

// archivingCondition is CloudNativePG's ContinuousArchiving condition of a Cluster, nil
// when it has not reported one.
func archivingCondition(c *cnpgv1.Cluster) *metav1.Condition {
	if c == nil {
		return nil
	}
	return meta.FindStatusCondition(c.Status.Conditions, string(cnpgv1.ConditionContinuousArchiving))
}

func backupTime(b *cnpgv1.Backup) metav1.Time {
	if b.Status.StoppedAt != nil {
		return *b.Status.StoppedAt
	}
	return b.CreationTimestamp
}
