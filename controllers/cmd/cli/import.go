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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/cooperator-dev/cooperator/api/policy"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/export"
	"github.com/cooperator-dev/cooperator/controllers/shared/logicalbackup"
)

// importFlags are the flags of `cooperator import`.
type importFlags struct {
	planMap, templateMap []string
	operatorNamespace    string
	credentialsPrefix    string
	endpoint             string
	noWait               bool
	timeout              time.Duration
	maxSize              string
}

// nameMap parses old=new pairs.
func nameMap(flag string, pairs []string) (map[string]string, error) {
	m := map[string]string{}
	for _, p := range pairs {
		old, new, ok := strings.Cut(p, "=")
		if !ok || old == "" || new == "" {
			return nil, fmt.Errorf("--%s %q: must be OLD=NEW", flag, p)
		}
		m[old] = new
	}
	return m, nil
}

func (r *root) importCommand() *cobra.Command {
	var f importFlags
	c := &cobra.Command{
		Use:   "import ARCHIVE",
		Short: "Recreate a co-op on this hub from an archive of cooperator export, with its data",
		Long: `Recreate a co-op on this hub from the archive cooperator export wrote on another hub
(a directory or a .tar.gz). Run it as this hub's admin:

1. every part's SHA-256 is checked against manifest.json: an archive that does not match
   is refused, and nothing is written; so is a part that is not a regular file, an
   archive that holds more than --max-size unpacked, and one whose cooperative.yaml is
   not the co-op manifest.json names;
2. the co-op's HostingPlan and PlatformTemplate must exist here, under the same names or
   the ones --plan-map and --template-map give (OLD=NEW);
3. the Cooperative is checked with a dry-run create, then the dump goes to the co-op's
   prefix of this hub's object store, with the co-op's own keys (the Secret
   cooperator-objectstore-<co-op> of the operator namespace, which the hub creates before,
   as for any co-op); a create that fails after the upload deletes it;
4. the Cooperative is created with the annotations that make the operator restore the dump
   into the new database before the platform starts; status.origin records where it came
   from and when it was restored. The command follows it until then.

Only what a co-op writes of itself is taken from cooperative.yaml: its name, its labels and
annotations but the operator's (coop.cooperator.dev/), and its spec without standby,
suspend and federation (this hub's peers are its own to declare), nor a backup retention or
schedule beyond a co-op's own limits (90 days, hourly); no owners or finalizers.
The command says what it left out: set peers or suspension again here if wanted.`,
		Example: "  cooperator import fairride-lyon.tar.gz\n  cooperator import ./fairride-lyon --plan-map small=standard",
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return r.runImport(c.Context(), c.OutOrStdout(), args[0], &f)
		},
	}
	c.Flags().StringArrayVar(&f.planMap, "plan-map", nil, "OLD=NEW: use this hub's HostingPlan NEW for the archive's OLD")
	c.Flags().StringArrayVar(&f.templateMap, "template-map", nil, "OLD=NEW: use this hub's PlatformTemplate NEW for the archive's OLD")
	operatorNamespaceFlag(c, &f.operatorNamespace)
	c.Flags().StringVar(&f.credentialsPrefix, "credentials-prefix", "cooperator-objectstore-", "prefix of the co-ops' own object store Secrets in the operator namespace")
	c.Flags().StringVar(&f.endpoint, "endpoint", "", "endpoint URL of this hub's object store (default: from the ConfigMap cooperator-info, else AWS S3)")
	c.Flags().BoolVar(&f.noWait, "no-wait", false, "return once the Cooperative is created, without waiting for the restore")
	c.Flags().DurationVar(&f.timeout, "timeout", 2*time.Hour, "how long to wait for the restore")
	c.Flags().StringVar(&f.maxSize, "max-size", "64Gi", "the most the archive may hold, unpacked (a quantity: 64Gi, 200Gi); a larger one is refused before it is unpacked")
	return c
}

func (r *root) runImport(ctx context.Context, out io.Writer, path string, f *importFlags) error {
	plans, err := nameMap("plan-map", f.planMap)
	if err != nil {
		return usageError(err)
	}
	templates, err := nameMap("template-map", f.templateMap)
	if err != nil {
		return usageError(err)
	}
	quantity, err := resource.ParseQuantity(f.maxSize)
	maxSize, whole := quantity.AsInt64()
	if err != nil || !whole || maxSize <= 0 {
		return usageErrorf("--max-size %q: must be a whole number of bytes more than 0, such as 64Gi", f.maxSize)
	}
	fmt.Fprintf(out, "[1/5] checking %s against its manifest\n", path)
	a, err := export.OpenWithin(path, maxSize)
	if errors.Is(err, export.ErrTooLarge) {
		return fmt.Errorf("refusing %s: %w (--max-size %s raises the limit); nothing was written", path, err, f.maxSize)
	}
	if err != nil {
		return fmt.Errorf("refusing %s: %w; nothing was written", path, err)
	}
	defer a.Close()
	raw, err := a.ReadSmall(export.CooperativeFile)
	if err != nil {
		return fmt.Errorf("refusing %s: %w; nothing was written", path, err)
	}
	written := &coopv1.Cooperative{}
	if err := yaml.UnmarshalStrict(raw, written); err != nil {
		return fmt.Errorf("refusing %s: %s: %w", path, export.CooperativeFile, err)
	}
	if written.Name == "" {
		return fmt.Errorf("refusing %s: %s names no Cooperative; nothing was written", path, export.CooperativeFile)
	}
	if written.Name != a.Manifest.Cooperative {
		// The manifest's co-op names the dump and the origin: one co-op, or none.
		return fmt.Errorf("refusing %s: %s describes Cooperative %s, and %s the co-op %s; nothing was written",
			path, export.CooperativeFile, quoted(written.Name), export.ManifestFile, quoted(a.Manifest.Cooperative))
	}
	coop, dropped := importedCooperative(written)
	if len(dropped) > 0 {
		fmt.Fprintf(r.errs, "Warning: %s sets what only this hub decides, and the import leaves it out: %s. "+
			"This hub's peers and admins are its own to declare: set peers, admins or suspension again here if wanted\n", export.CooperativeFile, strings.Join(dropped, "; "))
	}
	cl, err := r.client()
	if err != nil {
		return err
	}

	fmt.Fprintln(out, "[2/5] mapping the plan and the template to this hub's")
	plan, archived := &coopv1.HostingPlan{}, coop.Spec.Plan
	if err := mapNamed(ctx, cl, "HostingPlan", "plan-map", &coop.Spec.Plan, plans, plan, &coopv1.HostingPlanList{}); err != nil {
		return err
	}
	// A plan a co-op may not choose itself is the hub's to give, and the import runs with
	// the hub admin's rights, which the webhook lets choose any: the archive does not
	// choose it, the admin does, by naming it.
	if _, named := plans[archived]; !plan.Spec.SelfService && !named {
		return &exitError{code: ExitForbidden, err: fmt.Errorf("%s asks for HostingPlan %s, which is not self-service on this hub: "+
			"its admin gives it, with --plan-map %s=%s (or another of this hub's plans); nothing was written",
			export.CooperativeFile, quoted(coop.Spec.Plan), archived, coop.Spec.Plan)}
	}
	if coop.Spec.Platform.Template != "" {
		if err := mapNamed(ctx, cl, "PlatformTemplate", "template-map", &coop.Spec.Platform.Template, templates, &coopv1.PlatformTemplate{}, &coopv1.PlatformTemplateList{}); err != nil {
			return err
		}
	}
	if err := cl.Get(ctx, client.ObjectKey{Name: coop.Name}, &coopv1.Cooperative{}); err == nil {
		return fmt.Errorf("a Cooperative %s exists on this hub already: nothing was written", coop.Name)
	} else if !apierrors.IsNotFound(err) {
		return explain(err, "reading Cooperative "+coop.Name)
	}

	exportedAt := metav1.NewTime(a.Manifest.CreatedAt)
	from := coopv1.ImportOrigin{Cooperative: a.Manifest.Cooperative, Export: a.Manifest.Export, ExportedAt: &exportedAt}
	if d := a.Manifest.DumpedAt; d != nil {
		dumpedAt := metav1.NewTime(*d)
		from.DumpedAt = &dumpedAt
		fmt.Fprintf(out, "the database was dumped at %s, %s ago: what the old hub's platform wrote since is not in it\n",
			d.UTC().Format(time.RFC3339), r.now().Sub(*d).Round(time.Second))
	}
	// backups.json is where the old hub kept the physical backups: an archive without it
	// says nothing of them, and one that does not parse is refused.
	switch b, err := a.ReadSmall(export.BackupsFile); {
	case errors.Is(err, export.ErrNoPart):
	case err != nil:
		return fmt.Errorf("refusing %s: %w; nothing was written", path, err)
	default:
		var backups export.Backups
		if err := json.Unmarshal(b, &backups); err != nil {
			return fmt.Errorf("refusing %s: %s does not parse: %w; nothing was written", path, export.BackupsFile, err)
		}
		from.Backups = strings.TrimPrefix(backups.Bucket, "s3://") + "/" + backups.Prefix
	}
	if err := originLimitErrors(&from); err != nil {
		return fmt.Errorf("refusing %s: %w; nothing was written", path, err)
	}
	origin, err := json.Marshal(from)
	if err != nil {
		return err
	}
	dump, err := importedDump(a)
	if err != nil {
		return fmt.Errorf("refusing %s: %w; nothing was written", path, err)
	}
	if coop.Annotations == nil {
		coop.Annotations = map[string]string{}
	}
	coop.Annotations[coopv1.AnnotationImportDump] = dump.name
	coop.Annotations[coopv1.AnnotationImportSHA256] = dump.sha256
	coop.Annotations[coopv1.AnnotationImportOrigin] = string(origin)
	// The API server and the webhook judge the Cooperative before the dump, every member's
	// data, goes anywhere: a plan too small, a template version this hub lacks.
	if err := cl.Create(ctx, coop.DeepCopy(), client.DryRunAll); err != nil {
		return nothingWritten(explain(err, "checking Cooperative "+coop.Name+" (a dry run)"))
	}
	store, err := r.importStore(ctx, cl, coop.Name, f)
	if err != nil {
		return err
	}

	fmt.Fprintln(out, "[3/5] uploading the dump to the co-op's prefix of this hub's object store")
	if err := store.upload(ctx, a, dump, r.now()); err != nil {
		return err
	}

	fmt.Fprintf(out, "[4/5] creating Cooperative %s\n", coop.Name)
	if err := cl.Create(ctx, coop); err != nil {
		return r.createFailed(ctx, cl, store, dump, coop.Name, explain(err, "creating Cooperative "+coop.Name))
	}
	if f.noWait {
		fmt.Fprintf(out, "Cooperative %s created; the operator restores its data before its platform starts\n", coop.Name)
		return nil
	}
	fmt.Fprintln(out, "[5/5] waiting for the operator to restore the data")
	var failed string
	err = r.wait(ctx, out, f.timeout, func(ctx context.Context) (bool, string, error) {
		got := &coopv1.Cooperative{}
		if err := cl.Get(ctx, client.ObjectKey{Name: coop.Name}, got); err != nil {
			return false, "", explain(err, "reading Cooperative "+coop.Name)
		}
		o := got.Status.Origin
		switch {
		case o == nil || (o.RestoreJob == "" && o.Message == ""):
			return false, "restore: waiting for the database", nil
		case o.RestoreJob == "":
			// Waiting, for the database or for a Job in the way to be deleted: say which.
			return false, "restore: " + o.Message, nil
		case o.RestoredAt != nil:
			return true, "restore: done at " + o.RestoredAt.UTC().Format(time.RFC3339), nil
		case o.Message != "":
			failed = o.Message
			return true, "restore: failed", nil
		}
		return false, "restore: Job " + o.RestoreJob + " runs", nil
	})
	if err != nil {
		return goesOn(err, fmt.Sprintf("Cooperative %s is created and the operator restores its data before its platform starts: its status.origin says where it stands (kubectl get cooperative %s -o yaml)", coop.Name, coop.Name))
	}
	if failed != "" {
		return fmt.Errorf("the restore of %s failed: %s", coop.Name, failed)
	}
	fmt.Fprintf(out, "Imported %s; its platform starts now\n", coop.Name)
	return nil
}

// importedCooperative is the Cooperative an import creates from the one an archive
// describes, and what it left out. The archive is easily edited (its checksums are
// recomputed as easily) and the import runs with the hub admin's rights, which the webhook
// lets do what only the hub decides: so only what a co-op writes of itself is taken. Its
// name; its labels and annotations but the operator's own (coop.cooperator.dev/, the import
// annotations included: the command adds its own) and kubectl's last-applied copy; and its
// spec without standby (the standby of another hub's co-op), suspend, federation (this
// hub's peers are its own to declare), admins (identities of the hub it comes from), and a
// backup retention or schedule beyond a co-op's own limits (policy.RetentionOverLimit,
// ScheduleOverLimit: the hub's defaults apply). No owners, no finalizers, nothing else of
// metadata. A plan that is not self-service is refused unless --plan-map names it
// (runImport).
func importedCooperative(in *coopv1.Cooperative) (*coopv1.Cooperative, []string) {
	var dropped []string
	keep := func(what string, m map[string]string) map[string]string {
		var out map[string]string
		var left []string
		for k, v := range m {
			if strings.HasPrefix(k, internalAnnotationPrefix) || k == corev1.LastAppliedConfigAnnotation {
				left = append(left, k)
				continue
			}
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
		if len(left) > 0 {
			sort.Strings(left)
			dropped = append(dropped, what+" "+quoted(left...))
		}
		return out
	}
	coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: in.Name}, Spec: *in.Spec.DeepCopy()}
	coop.Labels = keep("labels", in.Labels)
	coop.Annotations = keep("annotations", in.Annotations)
	if len(in.OwnerReferences) > 0 {
		dropped = append(dropped, "metadata.ownerReferences")
	}
	if len(in.Finalizers) > 0 {
		dropped = append(dropped, "metadata.finalizers "+quoted(in.Finalizers...))
	}
	if sb := in.Spec.Standby; sb != nil {
		dropped = append(dropped, "spec.standby (a standby of region "+quoted(sb.HomeRegion)+")")
		coop.Spec.Standby = nil
	}
	if in.Spec.Suspend {
		dropped = append(dropped, "spec.suspend")
		coop.Spec.Suspend = false
	}
	// The admins are identities of the hub the archive comes from: a name there may be
	// someone else here. This hub's admin binds the co-op's admins again.
	if len(in.Spec.Admins) > 0 {
		var names []string
		for _, a := range in.Spec.Admins {
			names = append(names, a.Kind+" "+a.Name)
		}
		dropped = append(dropped, "spec.admins "+quoted(names...))
		coop.Spec.Admins = nil
	}
	if fed := in.Spec.Federation; len(fed.Peers) > 0 || fed.Primary != "" {
		var peers []string
		for _, p := range fed.Peers {
			peers = append(peers, p.Name)
		}
		if len(peers) > 0 {
			dropped = append(dropped, "spec.federation.peers "+quoted(peers...))
		}
		if fed.Primary != "" {
			dropped = append(dropped, "spec.federation.primary "+quoted(fed.Primary))
		}
		coop.Spec.Federation = coopv1.FederationSpec{}
	}
	// As the webhook holds a co-op's admins to them: the schedule on the dedicated tier
	// only, the shared tier being backed up with the hub's Cluster.
	if b := in.Spec.Backup; b.Retention != "" {
		if why := policy.RetentionOverLimit(b.Retention); why != "" {
			dropped = append(dropped, "spec.backup.retention "+quoted(b.Retention)+" ("+why+")")
			coop.Spec.Backup.Retention = ""
		}
	}
	if b := in.Spec.Backup; b.Schedule != "" && in.Spec.Database.Tier != coopv1.DatabaseTierShared {
		if why := policy.ScheduleOverLimit(b.Schedule); why != "" {
			dropped = append(dropped, "spec.backup.schedule "+quoted(b.Schedule)+" ("+why+")")
			coop.Spec.Backup.Schedule = ""
		}
	}
	return coop, dropped
}

// originSource names where in the archive each field of the origin comes from.
var originSource = map[string]string{
	"cooperative": export.ManifestFile + " cooperative",
	"export":      export.ManifestFile + " export",
	"backups":     export.BackupsFile + " bucket and prefix",
}

// originLimitErrors refuses an origin that status.origin would not take (the operator would
// refuse to restore it), naming the part of the archive and the bound.
func originLimitErrors(o *coopv1.ImportOrigin) error {
	errs := o.ArchiveLimitErrors()
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = fmt.Sprintf("%s has %d characters, more than the %d of %s", originSource[e.Field], e.Length, e.Max, "status.origin."+e.Field)
	}
	return errors.New(strings.Join(msgs, "; "))
}

// quoted lists strings read from an archive, quoted: they are printed, and a terminal
// must not take them for its own control sequences.
func quoted(s ...string) string {
	q := make([]string, len(s))
	for i := range s {
		q[i] = strconv.Quote(s[i])
	}
	return strings.Join(q, ", ")
}

// mapNamed maps *name through m and checks that this hub has an object of that name.
func mapNamed(ctx context.Context, cl client.Client, kind, flag string, name *string, m map[string]string, obj client.Object, list client.ObjectList) error {
	old := *name
	if n, ok := m[old]; ok {
		*name = n
	}
	err := cl.Get(ctx, client.ObjectKey{Name: *name}, obj)
	if err == nil {
		return nil
	}
	if !apierrors.IsNotFound(err) {
		return explain(err, "reading "+kind+" "+*name)
	}
	var have []string
	if cl.List(ctx, list) == nil {
		switch l := list.(type) {
		case *coopv1.HostingPlanList:
			for _, i := range l.Items {
				have = append(have, i.Name)
			}
		case *coopv1.PlatformTemplateList:
			for _, i := range l.Items {
				have = append(have, i.Name)
			}
		}
	}
	sort.Strings(have)
	return &exitError{code: ExitNotFound, err: fmt.Errorf("%s %q does not exist on this hub: create it, or map it to one of this hub's with --%s %s=NAME (this hub has: %s); nothing was written",
		kind, *name, flag, old, strings.Join(have, ", "))}
}

// nothingWritten says of a refusal that nothing was written, keeping its exit code.
func nothingWritten(err error) error {
	var e *exitError
	if errors.As(err, &e) {
		return &exitError{code: e.code, err: fmt.Errorf("%w; nothing was written", e.err)}
	}
	return fmt.Errorf("%w; nothing was written", err)
}

// dumpObject is the object an import uploads the archive's dump to, under the co-op's
// imports/ prefix, with its SHA-256 (hex) and size from the manifest.
type dumpObject struct {
	name, sha256 string
	sum          []byte
	size         int64
}

// importedDump is the dump's object name, after the export it came from, and its checksum
// and size, from the (verified) manifest. The name comes from the archive: it must be one
// the operator takes in the import annotation, one object of the co-op's imports/.
func importedDump(a *export.Archive) (dumpObject, error) {
	part, _ := a.Manifest.Part(export.DumpFile)
	name := a.Manifest.Export
	if name == "" {
		name = a.Manifest.Cooperative
	}
	name += ".dump"
	if !export.PlainObjectName(name) {
		shown := strconv.Quote(name)
		if len(shown) > 80 {
			shown = fmt.Sprintf("of %d bytes", len(name))
		}
		return dumpObject{}, fmt.Errorf("%s names the dump's object %s, which is not one plain object name (no / or \\, not . or .., no control character, at most 255 bytes)", export.ManifestFile, shown)
	}
	sum, err := hex.DecodeString(part.SHA256)
	if err != nil || len(sum) != sha256.Size {
		return dumpObject{}, errors.New("the manifest's checksum of the dump is not a SHA-256")
	}
	return dumpObject{name: name, sha256: part.SHA256, sum: sum, size: part.Size}, nil
}

// importStore is the co-op's imports/ prefix of this hub's object store, with the co-op's
// own keys.
type importStore struct {
	endpoint, bucket, prefix string
	access, secret           string
}

func (s *importStore) object(d dumpObject) logicalbackup.Object {
	return logicalbackup.ObjectAt(s.endpoint, s.bucket, s.prefix+d.name)
}

// where names the dump's object for a person: bucket and key, no credentials.
func (s *importStore) where(d dumpObject) string { return "s3://" + s.bucket + "/" + s.prefix + d.name }

// importStore reads where this hub's object store is and the co-op's own keys to it.
func (r *root) importStore(ctx context.Context, cl client.Client, coop string, f *importFlags) (*importStore, error) {
	info := &corev1.ConfigMap{}
	if err := cl.Get(ctx, client.ObjectKey{Namespace: f.operatorNamespace, Name: coopv1.InfoConfigMapName}, info); err != nil {
		return nil, nothingWritten(explain(err, "reading the hub's bucket from ConfigMap "+f.operatorNamespace+"/"+coopv1.InfoConfigMapName))
	}
	dest, region := info.Data["backupDestination"], info.Data["region"]
	if dest == "" || region == "" {
		return nil, fmt.Errorf("ConfigMap %s/%s names no bucket or region: is the operator running? Nothing was written", f.operatorNamespace, coopv1.InfoConfigMapName)
	}
	endpoint := f.endpoint
	if endpoint == "" {
		endpoint = info.Data["backupEndpoint"]
	}
	secretName := f.credentialsPrefix + coop
	keys := &corev1.Secret{}
	if err := cl.Get(ctx, client.ObjectKey{Namespace: f.operatorNamespace, Name: secretName}, keys); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &exitError{code: ExitNotFound, err: fmt.Errorf("the Secret %s/%s, the co-op's own object store keys, does not exist: create it first, as for any co-op (see README, Security model); nothing was written", f.operatorNamespace, secretName)}
		}
		return nil, nothingWritten(explain(err, "reading Secret "+secretName))
	}
	bucket, prefix, err := logicalbackup.ParseDestination(strings.TrimRight(dest, "/") + "/" + region + "/" + coop + "/imports/")
	if err != nil {
		return nil, err
	}
	return &importStore{endpoint: endpoint, bucket: bucket, prefix: prefix,
		access: string(keys.Data[coopv1.AccessKeyIDKey]), secret: string(keys.Data[coopv1.AccessSecretKeyKey])}, nil
}

// upload puts the archive's dump under the co-op's imports/ prefix. An upload cut off
// (Ctrl-C) may have reached the store all the same: it is deleted then.
func (s *importStore) upload(ctx context.Context, a *export.Archive, d dumpObject, now time.Time) error {
	file, err := os.Open(a.Path(export.DumpFile))
	if err != nil {
		return err
	}
	defer file.Close()
	err = logicalbackup.Put(ctx, &http.Client{Timeout: 6 * time.Hour}, s.object(d), s.access, s.secret, file, d.size, d.sum, now)
	if err == nil || ctx.Err() == nil {
		return err
	}
	if derr := s.remove(ctx, d, now); derr != nil {
		return fmt.Errorf("%w; the dump may have reached the object store, and deleting it failed (%s): delete %s by hand", err, derr.Error(), s.where(d))
	}
	return fmt.Errorf("%w; nothing was left in the object store", err)
}

// remove deletes the uploaded dump, even once ctx is done (Ctrl-C): it holds every
// member's data, and nothing will restore it.
func (s *importStore) remove(ctx context.Context, d dumpObject, now time.Time) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	return logicalbackup.Delete(ctx, &http.Client{Timeout: time.Minute}, s.object(d), s.access, s.secret, now)
}

// createFailed is the error of a create that failed after the dump was uploaded (refused
// though its dry run passed, or cut off): the dump is deleted, unless a Cooperative of
// that name does name it (a create cut off after the API server took it), or whether one
// does cannot be read.
func (r *root) createFailed(ctx context.Context, cl client.Client, store *importStore, d dumpObject, name string, err error) error {
	keep := func(why string) error {
		return fmt.Errorf("%w; the uploaded dump stays at %s: %s", err, store.where(d), why)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	got := &coopv1.Cooperative{}
	switch gerr := cl.Get(rctx, client.ObjectKey{Name: name}, got); {
	case gerr == nil && got.Annotations[coopv1.AnnotationImportDump] == d.name:
		return keep("Cooperative " + name + " exists and names it for its restore")
	case gerr != nil && !apierrors.IsNotFound(gerr):
		return keep("whether a Cooperative " + name + " names it could not be read (" + rootCause(gerr).Error() + "); if none does, delete it by hand")
	}
	if derr := store.remove(ctx, d, r.now()); derr != nil {
		return keep("deleting it failed (" + derr.Error() + "); delete it by hand")
	}
	return fmt.Errorf("%w; the uploaded dump was deleted from the object store: nothing was left", err)
}
