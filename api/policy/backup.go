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
	"fmt"
	"strconv"
	"time"

	"github.com/robfig/cron"
)

// The limits a co-op is held to in its own backups, whoever in the co-op asks (its admins
// through the API, its members by a vote): each base backup is a full copy of the database
// in the hub's object store, and what it keeps stays there, on a bill all co-ops share. Only
// the hub's admins (whoever may delete the Cooperative) set a closer schedule or a longer
// retention. The admission webhook holds a co-op's admins to them, and ParseChange holds a
// vote to them, so that a vote cannot pass what the operator would then be refused.
const (
	// MinBackupGap is the closest two of a co-op's own backups may follow one another
	// (its schedule's, and an on-demand backup after the last one).
	MinBackupGap = time.Hour
	// MaxRetentionDays is the longest a co-op may keep its backups and WAL.
	MaxRetentionDays = 90
)

// RetentionDays reads a retention such as 30d, 4w or 3m in days (a month counting 30);
// false when it is no such retention or too long to count (the CRD's pattern has no
// length: a retention of 20 digits is read as none).
func RetentionDays(r string) (int64, bool) {
	if len(r) < 2 {
		return 0, false
	}
	n, err := strconv.ParseInt(r[:len(r)-1], 10, 64)
	if err != nil || n < 1 || n > 1<<40 {
		return 0, false
	}
	switch r[len(r)-1] {
	case 'd':
		return n, true
	case 'w':
		return n * 7, true
	case 'm':
		return n * 30, true
	}
	return 0, false
}

// RetentionOverLimit says why a co-op may not set retention for itself, or "" when it may
// (an empty retention is the hub's default).
func RetentionOverLimit(retention string) string {
	if retention == "" {
		return ""
	}
	days, ok := RetentionDays(retention)
	if ok && days <= MaxRetentionDays {
		return ""
	}
	kept := fmt.Sprintf("%d days", days)
	if !ok {
		kept = "longer than can be counted"
	}
	return fmt.Sprintf("keeps backups %s: a co-op keeps them at most %d days (3m) (they stay in the object store, whose bill all co-ops share); only the hub sets a longer retention", kept, MaxRetentionDays)
}

// ScheduleOverLimit says why a co-op may not set schedule (six fields, seconds first) for
// its own backups, or "" when it may: a schedule closer than MinBackupGap. A schedule that
// cannot be read is ParseSchedule's to refuse.
func ScheduleOverLimit(schedule string) string {
	if gap, ok := ShortestGap(schedule); ok && gap < MinBackupGap {
		return fmt.Sprintf("backs up as often as every %s: a co-op's backups are at most hourly (each is a full copy in the object store, whose bill all co-ops share); only the hub sets a closer schedule", gap)
	}
	return ""
}

// HourlySchedule backs up once an hour, on the hour: what a standby at a peer hub backs up
// with when its home co-op's schedule is closer than MinBackupGap (StandbyBackup).
const HourlySchedule = "0 0 * * * *"

// StandbyBackup is the schedule and retention a co-op's standby at a peer hub gets: its
// own, held to the limits a co-op may set for itself. A peer hub holds a standby to them
// whoever writes it (its home hub may grant its own co-ops more, on its own bill, not on
// the peer's), so the home sends them within: a schedule closer than MinBackupGap becomes
// HourlySchedule, a retention longer than MaxRetentionDays becomes that many days. limited
// says what was changed, in words, or is empty.
func StandbyBackup(schedule, retention string) (outSchedule, outRetention string, limited []string) {
	outSchedule, outRetention = schedule, retention
	if ScheduleOverLimit(schedule) != "" {
		outSchedule = HourlySchedule
		limited = append(limited, fmt.Sprintf("backup.schedule %q is backed up hourly (%q)", schedule, HourlySchedule))
	}
	if RetentionOverLimit(retention) != "" {
		outRetention = fmt.Sprintf("%dd", MaxRetentionDays)
		limited = append(limited, fmt.Sprintf("backup.retention %q is kept %s", retention, outRetention))
	}
	return outSchedule, outRetention, limited
}

// ParseSchedule reads a backup schedule as CloudNativePG's ScheduledBackup webhook does
// (with the cron parser and version of CloudNativePG 1.29), so that a schedule it would
// refuse is refused where the co-op sees it, not later on BackupReady.
func ParseSchedule(schedule string) error {
	_, err := cron.Parse(schedule)
	return err
}

// ShortestGap is the shortest time between two runs of a six-field cron schedule, over the
// week from its first run in 2026 (every pattern of minutes, hours and weekdays comes round
// in a week, and a gap under an hour lies within a day or across a midnight of it) and the
// run after; ok is false when the schedule cannot be read or never runs.
func ShortestGap(schedule string) (gap time.Duration, ok bool) {
	sched, err := cron.Parse(schedule)
	if err != nil {
		return 0, false
	}
	// A week from the first run: a schedule that runs only on some days of the month or
	// year runs on its first day as it does on any other.
	prev := sched.Next(time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC))
	end := prev.AddDate(0, 0, 8)
	for i := 0; i < 20000 && !prev.IsZero() && prev.Before(end); i++ {
		next := sched.Next(prev)
		if next.IsZero() {
			break
		}
		if d := next.Sub(prev); !ok || d < gap {
			gap, ok = d, true
		}
		if gap <= time.Minute {
			break // as close as a co-op's schedule can matter: a minutely one stops here
		}
		prev = next
	}
	return gap, ok
}
