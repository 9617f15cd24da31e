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

package cooperative_test

import (
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/test/harness"
)

// lastBackupMetric reads cooperator_backup_last_completed_timestamp_seconds of a co-op from
// the registry the manager serves.
func lastBackupMetric(name string) float64 {
	families, err := metrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != "cooperator_backup_last_completed_timestamp_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "cooperative" && l.GetValue() == name {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}

// Issue 10, point 5. Pods do not run here: the test writes the status CloudNativePG
// writes (Cluster conditions, completed Backups) through test/harness.
var _ = Describe("Honest BackupReady on the dedicated tier", Ordered, func() {
	const name = "honest-backups"
	ns := coopv1.NamespacePrefix + name
	BeforeAll(func() {
		dumpOnFailure(name)
		createDedicatedCoop(name, func(c *coopv1.Cooperative) {
			c.Spec.Backup.Schedule = "*/30 * * * * *" // every 30 seconds, so that a backup is overdue within a test
		})
	})

	It("is NoBackupYet until a backup completes", func() {
		Eventually(condition(name, coopv1.ConditionBackupReady), timeout).Should(haveStatus(metav1.ConditionFalse, coopv1.ReasonNoBackupYet))
	})

	It("is BackupOverdue when the last completed backup is older than the schedule allows", func() {
		Expect(harness.SimulateBackupCompletedAt(ctx, k8s, ns, name, name+"-old", time.Now().Add(-time.Hour))).To(Succeed())
		Eventually(condition(name, coopv1.ConditionBackupReady), timeout).Should(haveStatus(metav1.ConditionFalse, coopv1.ReasonBackupOverdue))
	})

	It("is True after a fresh backup, exports its time, and turns BackupOverdue on time when backups stop, with no event", func() {
		Expect(harness.SimulateBackup(ctx, k8s, ns, name, name+"-fresh", true)).To(Succeed())
		Eventually(condition(name, coopv1.ConditionBackupReady), timeout).Should(haveStatus(metav1.ConditionTrue, coopv1.ReasonReady))
		fresh := &cnpgv1.Backup{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name + "-fresh"}, fresh)).To(Succeed())
		Eventually(func() float64 { return lastBackupMetric(name) }, timeout).Should(Equal(float64(fresh.Status.StoppedAt.Unix())))

		// The co-op is Ready, so the operator's periodic recheck of what it waits for does
		// not run for it.
		Eventually(func(g Gomega) {
			g.Expect(harness.SimulateDeploymentsAvailable(ctx, k8s, ns)).To(Succeed())
			g.Expect(condition(name, coopv1.ConditionReady)()).To(haveStatus(metav1.ConditionTrue, coopv1.ReasonReady))
		}, timeout).Should(Succeed())
		// Nothing changes any more: only the requeue at the deadline (the next 30-second
		// mark plus 30 seconds of tolerance, at most a minute away) can flip the condition.
		Eventually(condition(name, coopv1.ConditionBackupReady), 2*time.Minute).Should(haveStatus(metav1.ConditionFalse, coopv1.ReasonBackupOverdue))
	})

	It("is ArchivingFailing when CloudNativePG reports WAL archiving failing, however fresh the backup", func() {
		Expect(harness.SimulateArchivingFailing(ctx, k8s, ns, name, "unexpected failure invoking barman-cloud-wal-archive: exit status 4")).To(Succeed())
		Expect(harness.SimulateBackup(ctx, k8s, ns, name, name+"-fresher", true)).To(Succeed())
		Eventually(condition(name, coopv1.ConditionBackupReady), timeout).Should(And(
			haveStatus(metav1.ConditionFalse, coopv1.ReasonArchivingFailing), HaveField("Message", ContainSubstring("exit status 4"))))
	})
})
