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

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cooperative"
)

// waitFlags are the flags of a command that waits for what it asked.
type waitFlags struct {
	noWait  bool
	timeout time.Duration
}

func (w *waitFlags) add(c *cobra.Command, def time.Duration) {
	c.Flags().BoolVar(&w.noWait, "no-wait", false, "return once the request is written, without waiting for it")
	c.Flags().DurationVar(&w.timeout, "timeout", def, "how long to wait")
}

// wait looks at something every interval, printing each new progress line, until done, an
// error, the timeout (ExitTimeout), or the command stopped (ExitInterrupted: Ctrl-C).
func (r *root) wait(ctx context.Context, out io.Writer, timeout time.Duration, look func(ctx context.Context) (done bool, line string, err error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := ""
	// stopped is the error of a wait cut off, by Ctrl-C or at the timeout; err is the
	// look's, nil when the wait ended between two looks.
	stopped := func(err error) error {
		switch {
		case interrupted(ctx, err):
			return &exitError{code: ExitInterrupted, err: fmt.Errorf("interrupted (last: %s); the operator keeps working on it", orDash(last))}
		case errors.Is(ctx.Err(), context.DeadlineExceeded) || (err != nil && (deadlineExceeded(err) || ExitCode(err) == ExitTimeout)):
			return &exitError{code: ExitTimeout, err: fmt.Errorf("not done after %s (last: %s); the operator keeps working on it", timeout, orDash(last))}
		}
		return err
	}
	tick := time.NewTicker(r.interval)
	defer tick.Stop()
	for {
		done, line, err := look(ctx)
		if err != nil {
			return stopped(err)
		}
		if line != last {
			fmt.Fprintf(out, "%s %s\n", r.now().UTC().Format("15:04:05"), line)
			last = line
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return stopped(nil)
		case <-tick.C:
		}
	}
}

func (r *root) getCooperative(ctx context.Context, cl client.Client, name string) (*coopv1.Cooperative, error) {
	coop := &coopv1.Cooperative{}
	if err := cl.Get(ctx, client.ObjectKey{Name: name}, coop); err != nil {
		return nil, explain(err, "reading Cooperative "+name)
	}
	return coop, nil
}

func (r *root) backupCommand() *cobra.Command {
	var w waitFlags
	c := &cobra.Command{
		Use:   "backup COOP",
		Short: "Take an on-demand backup of a co-op's database and wait until it completes",
		Long: `Take an on-demand backup of a dedicated co-op's database: a CloudNativePG Backup in the
co-op's namespace, with the Barman Cloud plugin, to the co-op's object store. The command
follows it until it completes (exit 0) or fails (exit 1), or returns at once with --no-wait.
Co-op admins may back up their own co-op. The shared tier is backed up by the hub.`,
		Example:           "  cooperator backup fairride-lyon\n  cooperator backup fairride-lyon --no-wait",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: r.completeCooperatives,
		RunE: r.onCooperative(func(c *cobra.Command, cl client.Client, coop *coopv1.Cooperative) error {
			ctx, out := c.Context(), c.OutOrStdout()
			if coop.Spec.Database.Tier == coopv1.DatabaseTierShared {
				return fmt.Errorf("%s is on the shared database tier: its database is backed up with the hub's shared Cluster, not on its own", coop.Name)
			}
			if coop.Spec.Standby != nil {
				return fmt.Errorf("%s is a standby of region %s: back it up on its home hub", coop.Name, coop.Spec.Standby.HomeRegion)
			}
			// Named after the time; a second backup within the same second gets a suffix.
			base := fmt.Sprintf("%s-ondemand-%s", coop.Name, r.now().UTC().Format("20060102150405"))
			name := base
			var backup *cnpgv1.Backup
			for n := 2; ; n++ {
				backup = cooperative.BuildOnDemandBackup(coop, name)
				err := cl.Create(ctx, backup)
				if err == nil {
					break
				}
				if !apierrors.IsAlreadyExists(err) || n > 9 {
					return explain(err, "creating Backup "+name+" in "+coop.NamespaceName())
				}
				name = fmt.Sprintf("%s-%d", base, n)
			}
			fmt.Fprintf(out, "Backup %s/%s requested\n", backup.Namespace, name)
			if w.noWait {
				return nil
			}
			var failed *cnpgv1.Backup
			err := r.wait(ctx, out, w.timeout, func(ctx context.Context) (bool, string, error) {
				b := &cnpgv1.Backup{}
				if err := cl.Get(ctx, client.ObjectKeyFromObject(backup), b); err != nil {
					return false, "", explain(err, "reading Backup "+name)
				}
				line := "backup " + name + ": " + backupState(b)
				switch b.Status.Phase {
				case cnpgv1.BackupPhaseCompleted:
					if b.Status.StoppedAt != nil {
						line += " at " + b.Status.StoppedAt.UTC().Format(time.RFC3339)
					}
					return true, line, nil
				case cnpgv1.BackupPhaseFailed:
					failed = b
					return true, line + ": " + b.Status.Error, nil
				}
				return false, line, nil
			})
			if err != nil {
				return err
			}
			if failed != nil {
				return fmt.Errorf("backup %s failed: %s", name, failed.Status.Error)
			}
			return nil
		}),
	}
	w.add(c, 30*time.Minute)
	return c
}

func (r *root) suspendCommand(suspend bool) *cobra.Command {
	var w waitFlags
	verb, short := "resume", "Resume the reconciliation of a suspended co-op"
	if suspend {
		verb, short = "suspend", "Stop reconciling a co-op until it is resumed"
	}
	c := &cobra.Command{
		Use:   verb + " COOP",
		Short: short,
		Long: short + `.

suspend sets spec.suspend: the operator then leaves the co-op's objects as they are (for a
manual repair, say), and its status says Ready=False, reason Suspended. resume clears it and
the operator brings the co-op back to its spec. Deletion proceeds even while suspended.
Only the hub's admins (whoever may delete the Cooperative) may suspend or resume a co-op:
while it is suspended, what its members vote reaches no policy.`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: r.completeCooperatives,
		RunE: r.onCooperative(func(c *cobra.Command, cl client.Client, coop *coopv1.Cooperative) error {
			ctx, out := c.Context(), c.OutOrStdout()
			if coop.Spec.Suspend == suspend {
				fmt.Fprintf(out, "%s: already %sed\n", coop.Name, verb)
			} else {
				patch := client.MergeFrom(coop.DeepCopy())
				coop.Spec.Suspend = suspend
				if err := cl.Patch(ctx, coop, patch); err != nil {
					return explain(err, "setting spec.suspend of "+coop.Name)
				}
				fmt.Fprintf(out, "%s: %s requested\n", coop.Name, verb)
			}
			if w.noWait {
				return nil
			}
			gen := coop.Generation
			return r.wait(ctx, out, w.timeout, func(ctx context.Context) (bool, string, error) {
				co, err := r.getCooperative(ctx, cl, coop.Name)
				if err != nil {
					return false, "", err
				}
				ready := meta.FindStatusCondition(co.Status.Conditions, coopv1.ConditionReady)
				observed := co.Status.ObservedGeneration >= gen && ready != nil && ready.ObservedGeneration >= gen
				line := co.Name + ": waiting for the operator"
				if ready != nil {
					line = fmt.Sprintf("%s: Ready=%s %s", co.Name, ready.Status, ready.Reason)
				}
				if !observed {
					return false, line, nil
				}
				isSuspended := ready.Reason == coopv1.ReasonSuspended
				return isSuspended == suspend, line, nil
			})
		}),
	}
	w.add(c, 2*time.Minute)
	return c
}

func (r *root) reconcileCommand() *cobra.Command {
	var w waitFlags
	c := &cobra.Command{
		Use:   "reconcile COOP",
		Short: "Ask the operator to reconcile a co-op now, and wait until it did",
		Long: `Ask the operator to reconcile a co-op now, instead of at the next change or recheck.

It writes the time into the annotation ` + coopv1.AnnotationReconcileRequestedAt + ` (as Flux's
reconcile.fluxcd.io/requestedAt), and waits until the operator records that value in
status.lastHandledReconcileAt. A suspended co-op is not reconciled: resume it first.`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: r.completeCooperatives,
		RunE: r.onCooperative(func(c *cobra.Command, cl client.Client, coop *coopv1.Cooperative) error {
			ctx, out := c.Context(), c.OutOrStdout()
			if coop.Spec.Suspend {
				return fmt.Errorf("%s is suspended: run cooperator resume %s first", coop.Name, coop.Name)
			}
			requested := r.now().UTC().Format(time.RFC3339Nano)
			patch := client.MergeFrom(coop.DeepCopy())
			if coop.Annotations == nil {
				coop.Annotations = map[string]string{}
			}
			coop.Annotations[coopv1.AnnotationReconcileRequestedAt] = requested
			if err := cl.Patch(ctx, coop, patch); err != nil {
				return explain(err, "annotating "+coop.Name)
			}
			fmt.Fprintf(out, "%s: reconcile requested at %s\n", coop.Name, requested)
			if w.noWait {
				return nil
			}
			return r.wait(ctx, out, w.timeout, func(ctx context.Context) (bool, string, error) {
				co, err := r.getCooperative(ctx, cl, coop.Name)
				if err != nil {
					return false, "", err
				}
				if co.Status.LastHandledReconcileAt != requested {
					return false, co.Name + ": waiting for the operator", nil
				}
				line := co.Name + ": reconciled"
				if ready := meta.FindStatusCondition(co.Status.Conditions, coopv1.ConditionReady); ready != nil {
					line += fmt.Sprintf(", Ready=%s %s", ready.Status, ready.Reason)
				}
				return true, line, nil
			})
		}),
	}
	w.add(c, 2*time.Minute)
	return c
}
