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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/export"
	"github.com/cooperator-dev/cooperator/controllers/shared/logicalbackup"
)

// internalAnnotationPrefix marks the annotations the hub and the operator write on a
// Cooperative; an export leaves them out.
const internalAnnotationPrefix = "coop.cooperator.dev/"

// CleanObject is obj as its author wrote it: apiVersion, kind, name, its labels and
// annotations (without the hub's own and kubectl's last-applied copy) and spec. No status,
// uid, resourceVersion, generation, managedFields, owners or finalizers.
func CleanObject(obj client.Object, tm metav1.TypeMeta, spec any) map[string]any {
	md := map[string]any{"name": obj.GetName()}
	if l := obj.GetLabels(); len(l) > 0 {
		md["labels"] = l
	}
	ann := map[string]string{}
	for k, v := range obj.GetAnnotations() {
		if strings.HasPrefix(k, internalAnnotationPrefix) || k == corev1.LastAppliedConfigAnnotation {
			continue
		}
		ann[k] = v
	}
	if len(ann) > 0 {
		md["annotations"] = ann
	}
	return map[string]any{"apiVersion": tm.APIVersion, "kind": tm.Kind, "metadata": md, "spec": spec}
}

func typeMeta(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: coopv1.GroupVersion.String(), Kind: kind}
}

func yamlOf(v any) (io.Reader, error) {
	b, err := yaml.Marshal(v)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(b), nil
}

// partError names the part of an archive that failed.
func partError(part string, err error) error {
	var e *exitError
	if errors.As(err, &e) {
		return &exitError{code: e.code, err: fmt.Errorf("export failed at %s: %w; no archive was written", part, e.err)}
	}
	return fmt.Errorf("export failed at %s: %w; no archive was written", part, err)
}

func (r *root) exportCommand() *cobra.Command {
	var w waitFlags
	var out, from string
	c := &cobra.Command{
		Use:   "export COOP",
		Short: "Write an archive of a co-op: its manifest, plan, template, costs, backup location and a dump of its database",
		Long: `Write one archive that holds everything a co-op needs to leave the hub: its Cooperative
as it wrote it, its HostingPlan and PlatformTemplate, its line of every CostReport, where its
physical backups are, and a logical dump of its database, with manifest.json (every part's
SHA-256) and a README.

The dump is made inside the cluster: the command creates a CooperativeExport in the co-op's
namespace, the operator dumps the database there with the co-op's own credentials and hands
back a link to it in the Secret <co-op>-export. Co-op admins may export their own co-op.

--output names a directory, or a .tar.gz file. The archive is written under a temporary
name and renamed when complete: a failure names the part that failed and leaves no archive.`,
		Example:           "  cooperator export fairride-lyon -o fairride-lyon.tar.gz\n  cooperator export fairride-lyon -o ./fairride-lyon --from fairride-lyon-20261205",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: r.completeCooperatives,
		RunE: r.onCooperative(func(c *cobra.Command, cl client.Client, coop *coopv1.Cooperative) error {
			ctx, stdout := c.Context(), c.OutOrStdout()
			if out == "" {
				out = coop.Name + "-export.tar.gz"
			}
			aw, err := export.NewWriter(out, coop.Name, r.now())
			if err != nil {
				return usageError(err)
			}
			done := false
			defer func() {
				if !done {
					aw.Abort()
				}
			}()
			step := func(n int, what string) { fmt.Fprintf(stdout, "[%d/7] %s\n", n, what) }

			step(1, "database dump: asking the operator for a dump")
			ex, link, err := r.requestExport(ctx, cl, stdout, coop, from, w.timeout)
			if err != nil {
				return partError(export.DumpFile, err)
			}
			dumpedAt := ex.CreationTimestamp.Time
			if ex.Status.CompletionTime != nil {
				dumpedAt = ex.Status.CompletionTime.Time
			}
			aw.SetExport(ex.Name, dumpedAt)
			fmt.Fprintf(stdout, "database dump: made at %s, %s ago: what the platform wrote since is not in the archive\n",
				dumpedAt.UTC().Format(time.RFC3339), r.now().Sub(dumpedAt).Round(time.Second))
			step(2, "database dump: downloading")
			if err := download(ctx, link, func(body io.Reader) error {
				return aw.Add(export.DumpFile, "logical dump of the co-op's database (pg_dump custom format, no owners or grants): every table of the platform", body)
			}); err != nil {
				if interrupted(ctx, err) {
					err = &exitError{code: ExitInterrupted, err: fmt.Errorf("interrupted; %s", resumeFrom(coop.Name, ex))}
				}
				return partError(export.DumpFile, err)
			}

			// The archive's dump is what the Job uploaded, as the store held it: the
			// operator read its SHA-256 there.
			got, _ := aw.Part(export.DumpFile)
			switch want := ex.Status.Dump.SHA256; {
			case want == "":
				fmt.Fprintf(r.errs, "Warning: export %s records no SHA-256 of its upload (made before the operator recorded one): the archive is checked against itself only\n", ex.Name)
			case want != got.SHA256:
				return partError(export.DumpFile, fmt.Errorf("the downloaded dump has SHA-256 %s, and the dump export %s uploaded %s: it changed on the way or in the store; run the export again", got.SHA256, ex.Name, want))
			}

			step(3, export.CooperativeFile)
			body, err := yamlOf(CleanObject(coop, typeMeta("Cooperative"), coop.Spec))
			if err == nil {
				err = aw.Add(export.CooperativeFile, "the Cooperative as the co-op wrote it (spec, name, its own labels and annotations)", body)
			}
			if err != nil {
				return partError(export.CooperativeFile, err)
			}

			step(4, export.PlanFile)
			plan := &coopv1.HostingPlan{}
			err = cl.Get(ctx, client.ObjectKey{Name: coop.Spec.Plan}, plan)
			if err == nil {
				if body, err = yamlOf(CleanObject(plan, typeMeta("HostingPlan"), plan.Spec)); err == nil {
					err = aw.Add(export.PlanFile, "the HostingPlan the co-op ran on, for reference", body)
				}
			}
			if err != nil {
				return partError(export.PlanFile, explain(err, "reading HostingPlan "+coop.Spec.Plan))
			}

			step(5, export.TemplateFile)
			tname := coop.Status.Platform.Template
			if tname == "" {
				tname = coop.Spec.Platform.Template
			}
			if tname != "" {
				tpl := &coopv1.PlatformTemplate{}
				err = cl.Get(ctx, client.ObjectKey{Name: tname}, tpl)
				if err == nil {
					if body, err = yamlOf(CleanObject(tpl, typeMeta("PlatformTemplate"), tpl.Spec)); err == nil {
						err = aw.Add(export.TemplateFile, "the PlatformTemplate the co-op's platform ran from, for reference", body)
					}
				}
				if err != nil {
					return partError(export.TemplateFile, explain(err, "reading PlatformTemplate "+tname))
				}
			}

			step(6, export.CostsFile)
			if err := r.addCosts(ctx, cl, aw, coop); err != nil {
				return partError(export.CostsFile, err)
			}

			step(7, export.BackupsFile)
			if err := addBackups(aw, coop, ex); err != nil {
				return partError(export.BackupsFile, err)
			}
			if err := aw.Finish(); err != nil {
				return partError(export.ManifestFile, err)
			}
			done = true
			fmt.Fprintf(stdout, "Wrote %s\n", out)
			return nil
		}),
	}
	c.Flags().StringVarP(&out, "output", "o", "", "the archive to write: a directory, or a file ending in .tar.gz (default COOP-export.tar.gz)")
	c.Flags().StringVar(&from, "from", "", "use this CooperativeExport, already succeeded, instead of asking for a new dump")
	c.Flags().DurationVar(&w.timeout, "timeout", 2*time.Hour, "how long to wait for the dump")
	return c
}

// exportName is the name of an export the command requests: the co-op's name (cut so that
// the whole, with a "-N" suffix for a second export in the same second, fits the 63
// characters of a Job's name) and the time.
func exportName(coop string, now time.Time) string {
	const stamp, suffix = len("-20060102150405"), len("-9")
	if max := 63 - stamp - suffix; len(coop) > max {
		coop = strings.TrimRight(coop[:max], "-")
	}
	return coop + "-" + now.UTC().Format("20060102150405")
}

// requestExport creates a CooperativeExport (or reads the one --from names), follows it
// until it succeeded, and returns it with the link from the download Secret.
func (r *root) requestExport(ctx context.Context, cl client.Client, out io.Writer, coop *coopv1.Cooperative, from string, timeout time.Duration) (*coopv1.CooperativeExport, string, error) {
	ex := &coopv1.CooperativeExport{}
	if from != "" {
		if err := cl.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: from}, ex); err != nil {
			return nil, "", explain(err, "reading CooperativeExport "+from+" in "+coop.NamespaceName())
		}
	} else {
		base := exportName(coop.Name, r.now())
		for n := 2; ; n++ {
			ex = &coopv1.CooperativeExport{ObjectMeta: metav1.ObjectMeta{Namespace: coop.NamespaceName(), Name: base}}
			err := cl.Create(ctx, ex)
			if err == nil {
				break
			}
			if apierrors.IsForbidden(err) && quotaExceeded(err) {
				return nil, "", &exitError{code: ExitError, err: fmt.Errorf("creating CooperativeExport %s in %s: refused: %s. A co-op holds at most %d exports at once; "+
					"a finished one (failed, or expired) is deleted %d days after it finished, and cooperator export --from EXPORT takes up the dump of one that succeeded",
					ex.Name, coop.NamespaceName(), apiMessage(err), coopv1.MaxCooperativeExports, int(export.ExportRetention.Hours()/24))}
			}
			if !apierrors.IsAlreadyExists(err) || n > 9 {
				return nil, "", explain(err, "creating CooperativeExport "+ex.Name+" in "+coop.NamespaceName())
			}
			base = fmt.Sprintf("%s-%d", strings.TrimSuffix(base, fmt.Sprintf("-%d", n-1)), n)
		}
		fmt.Fprintf(out, "CooperativeExport %s/%s requested\n", ex.Namespace, ex.Name)
	}
	key := client.ObjectKeyFromObject(ex)
	var failed string
	err := r.wait(ctx, out, timeout, func(ctx context.Context) (bool, string, error) {
		if err := cl.Get(ctx, key, ex); err != nil {
			return false, "", explain(err, "reading CooperativeExport "+key.Name)
		}
		line := "export " + ex.Name + ": " + orDash(string(ex.Status.Phase))
		for _, cond := range ex.Status.Conditions {
			if cond.Type == coopv1.ConditionExportComplete {
				line += " (" + cond.Reason + ")"
				if ex.Status.Phase == coopv1.ExportFailed {
					failed = cond.Message
				}
			}
		}
		return ex.Status.Phase == coopv1.ExportSucceeded || ex.Status.Phase == coopv1.ExportFailed || ex.Status.Phase == coopv1.ExportExpired, line, nil
	})
	if err != nil {
		return nil, "", goesOn(err, resumeFrom(coop.Name, ex))
	}
	if ex.Status.Phase == coopv1.ExportExpired {
		// Its link expired (--from an old export): the operator deleted the dump, or is
		// still deleting it.
		state := "its dump is being deleted"
		if export.ExpiredAndDeleted(ex) {
			state = "its dump is deleted"
		}
		return nil, "", fmt.Errorf("the link to export %s expired and %s; run the export again", ex.Name, state)
	}
	if ex.Status.Phase == coopv1.ExportFailed {
		return nil, "", fmt.Errorf("the operator could not dump the database: %s", failed)
	}
	if ex.Status.Dump == nil || ex.Status.Dump.DownloadSecret == "" {
		return nil, "", fmt.Errorf("CooperativeExport %s succeeded but names no download Secret", ex.Name)
	}
	secret := &corev1.Secret{}
	if err := cl.Get(ctx, client.ObjectKey{Namespace: ex.Namespace, Name: ex.Status.Dump.DownloadSecret}, secret); err != nil {
		return nil, "", explain(err, "reading Secret "+ex.Status.Dump.DownloadSecret)
	}
	if got := string(secret.Data["export"]); got != ex.Name {
		return nil, "", fmt.Errorf("the Secret %s holds the link of export %q, not of %s: a newer export replaced it; run the export again", secret.Name, got, ex.Name)
	}
	if ex.Status.Dump.Expires != nil && r.now().After(ex.Status.Dump.Expires.Time) {
		return nil, "", fmt.Errorf("the link to export %s expired at %s; run the export again", ex.Name, ex.Status.Dump.Expires.UTC().Format(time.RFC3339))
	}
	return ex, string(secret.Data[coopv1.ExportDumpURLKey]), nil
}

// resumeFrom says how to take up the export ex, which goes on without the command.
func resumeFrom(coop string, ex *coopv1.CooperativeExport) string {
	return fmt.Sprintf("the CooperativeExport %s/%s goes on without the command: run cooperator export %s --from %s to take up its dump", ex.Namespace, ex.Name, coop, ex.Name)
}

// download GETs the presigned link and hands the body to write.
func download(ctx context.Context, link string, write func(io.Reader) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		// url.Parse's error quotes the whole link, and the link is a credential: not a
		// word of it.
		return errors.New("the download link in the export's Secret is malformed (not shown: it is a credential); run the export again")
	}
	resp, err := (&http.Client{Timeout: 6 * time.Hour}).Do(req)
	if err != nil {
		// The error carries the link, and the link is a credential: name the host only.
		return fmt.Errorf("downloading the dump from %s: %w", req.URL.Host, rootCause(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// The store's error document may echo the access key ID, the string to sign and
		// the signature: its error code only.
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("downloading the dump from %s: %s%s", req.URL.Host, resp.Status, logicalbackup.ErrorCode(msg))
	}
	return write(resp.Body)
}

func (r *root) addCosts(ctx context.Context, cl client.Client, aw *export.Writer, coop *coopv1.Cooperative) error {
	reports := &coopv1.CostReportList{}
	if err := cl.List(ctx, reports); err != nil {
		return explain(err, "listing CostReports")
	}
	lines := []export.CostLine{}
	for _, rep := range reports.Items {
		for _, l := range rep.Status.Lines {
			if l.Cooperative != coop.Name {
				continue
			}
			raw, err := json.Marshal(l)
			if err != nil {
				return err
			}
			lines = append(lines, export.CostLine{Report: rep.Name, Start: rep.Spec.Period.Start.UTC(), End: rep.Spec.Period.End.UTC(),
				Currency: rep.Spec.Currency, Phase: string(rep.Status.Phase), Line: raw})
		}
	}
	// The open period, which no CostReport splits yet: the metered usage the old hub's
	// final bill is made from.
	if u := coop.Status.Usage; u != nil {
		raw, err := json.Marshal(u)
		if err != nil {
			return err
		}
		lines = append(lines, export.CostLine{Period: u.CurrentPeriod, Phase: export.OpenPeriod, Currency: u.Currency, Usage: raw})
	}
	b, err := json.MarshalIndent(lines, "", "  ")
	if err != nil {
		return err
	}
	return aw.Add(export.CostsFile, "the co-op's line of every CostReport (usage, share and amount per billing period), and last the open period's metered usage (phase Open)", bytes.NewReader(append(b, '\n')))
}

func addBackups(aw *export.Writer, coop *coopv1.Cooperative, ex *coopv1.CooperativeExport) error {
	// The dump went to <bucket>/<region>/<co-op>/exports/<export>.dump: its backups are
	// under the same co-op prefix.
	dest := ex.Status.Dump.Destination
	i := strings.LastIndex(dest, "/exports/")
	rest, ok := strings.CutPrefix(dest, "s3://")
	if i < 0 || !ok {
		return fmt.Errorf("the export's destination %q is not under the co-op's prefix", dest)
	}
	bucket, _, _ := strings.Cut(rest, "/")
	b := export.Backups{
		Tier:           string(coop.Spec.Database.Tier),
		Bucket:         "s3://" + bucket,
		Prefix:         strings.TrimPrefix(dest[:i+1], "s3://"+bucket+"/"),
		ServerName:     coop.Status.Database.ServerName,
		RecoveryWindow: coop.Spec.Backup.Retention,
	}
	if lb := coop.Status.LastBackup; lb != nil {
		b.LastBackup = lb.Name
		if lb.Time != nil {
			t := lb.Time.UTC()
			b.LastBackupTime = &t
		}
	}
	j, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	return aw.Add(export.BackupsFile, "where the co-op's physical backups are (bucket, prefix, server name, recovery window)", bytes.NewReader(append(j, '\n')))
}
