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
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// CooperativeRow is one co-op as `cooperator get` lists it.
type CooperativeRow struct {
	Name       string `json:"name"`
	Vertical   string `json:"vertical"`
	Plan       string `json:"plan"`
	Tier       string `json:"tier"`
	Ready      string `json:"ready"`
	Reason     string `json:"reason"`
	LastBackup string `json:"lastBackup"`
	URL        string `json:"url"`
	Suspended  bool   `json:"suspended"`
	Message    string `json:"message"`
}

var cooperativeColumns = []column{
	{header: "NAME", field: "name"},
	{header: "VERTICAL", field: "vertical"},
	{header: "PLAN", field: "plan"},
	{header: "TIER", field: "tier", wide: true},
	{header: "READY", field: "ready"},
	{header: "REASON", field: "reason"},
	{header: "LAST BACKUP", field: "last_backup"},
	{header: "URL", field: "url"},
	{header: "SUSPENDED", field: "suspended", wide: true},
	{header: "MESSAGE", field: "message", wide: true},
}

func (r CooperativeRow) cells() []string {
	return []string{r.Name, r.Vertical, r.Plan, r.Tier, r.Ready, r.Reason, r.LastBackup, r.URL, strconv.FormatBool(r.Suspended), r.Message}
}

// cooperativeRow summarises a co-op.
func cooperativeRow(coop *coopv1.Cooperative) CooperativeRow {
	row := CooperativeRow{
		Name: coop.Name, Vertical: string(coop.Spec.Vertical), Plan: coop.Spec.Plan, Tier: string(coop.Spec.Database.Tier),
		URL: coop.Status.Endpoints.URL, Suspended: coop.Spec.Suspend, Ready: "Unknown",
	}
	if c := meta.FindStatusCondition(coop.Status.Conditions, coopv1.ConditionReady); c != nil {
		row.Ready, row.Reason, row.Message = string(c.Status), c.Reason, c.Message
	}
	if b := coop.Status.LastBackup; b != nil && b.Time != nil {
		row.LastBackup = b.Time.UTC().Format(time.RFC3339)
	}
	return row
}

func (r *root) getCommand() *cobra.Command {
	var output string
	var events int
	c := &cobra.Command{
		Use:   "get [COOP]",
		Short: "List the co-ops, or show one in detail with its conditions, objects and recent events",
		Long: `List the co-ops with their readiness, plan, last backup and URL, or show one co-op in
detail: its conditions, the objects of its namespace and its recent events.

Co-op admins may not list Cooperatives (Kubernetes RBAC cannot filter a list by name): get
then reads, one by one, the co-ops their RBAC lets them get, which is their own.`,
		Example: `  cooperator get
  cooperator get -o wide
  cooperator get fairride-lyon
  kubectl coop get fairride-lyon -o yaml`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: r.completeCooperatives,
		RunE: r.reads(&output, func(c *cobra.Command, cl client.Client, args []string) error {
			if events < 0 {
				return usageErrorf("--events %d: must be 0 (none) or more", events)
			}
			if len(args) == 1 {
				d, err := r.describe(c.Context(), cl, args[0], events)
				if err != nil {
					return err
				}
				return d.print(c.OutOrStdout(), output)
			}
			coops, byName, err := r.listCooperatives(c.Context(), cl)
			if err != nil {
				return err
			}
			if byName && output != "json" && output != "yaml" && output != "csv" {
				fmt.Fprintln(r.errs, "You may not list Cooperatives; these are the ones you may read by name.")
			}
			rows := make([]CooperativeRow, 0, len(coops))
			t := table{columns: cooperativeColumns}
			for i := range coops {
				row := cooperativeRow(&coops[i])
				rows = append(rows, row)
				t.rows = append(t.rows, row.cells())
			}
			return printResult(c.OutOrStdout(), output, t, rows)
		}),
	}
	outputFlag(c, &output)
	c.Flags().IntVar(&events, "events", 10, "how many recent events to show with one co-op (0: none)")
	return c
}

// CooperativeDetail is one co-op as `cooperator get COOP` shows it.
type CooperativeDetail struct {
	Cooperative CooperativeRow `json:"cooperative"`
	Namespace   string         `json:"namespace"`
	Conditions  []ConditionRow `json:"conditions"`
	Objects     []ObjectRow    `json:"objects"`
	Events      []EventRow     `json:"events"`
	// Unreadable lists the kinds the caller may not read or the cluster does not serve.
	Unreadable []string `json:"unreadable,omitempty"`
}

// ConditionRow is one condition of a co-op.
type ConditionRow struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
	Since   string `json:"since"`
}

// ObjectRow is one object of a co-op's tenant.
type ObjectRow struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

// EventRow is one event about a co-op or its objects.
type EventRow struct {
	Time    string `json:"time"`
	Type    string `json:"type"`
	Reason  string `json:"reason"`
	Object  string `json:"object"`
	Message string `json:"message"`
}

func (r *root) describe(ctx context.Context, cl client.Client, name string, maxEvents int) (*CooperativeDetail, error) {
	coop := &coopv1.Cooperative{}
	if err := cl.Get(ctx, client.ObjectKey{Name: name}, coop); err != nil {
		return nil, explain(err, "reading Cooperative "+name)
	}
	d := &CooperativeDetail{Cooperative: cooperativeRow(coop), Namespace: coop.NamespaceName(), Conditions: []ConditionRow{}, Objects: []ObjectRow{}, Events: []EventRow{}}
	conds := append([]metav1.Condition(nil), coop.Status.Conditions...)
	sort.SliceStable(conds, func(i, j int) bool { return conditionOrder(conds[i].Type) < conditionOrder(conds[j].Type) })
	for _, c := range conds {
		d.Conditions = append(d.Conditions, ConditionRow{Type: c.Type, Status: string(c.Status), Reason: c.Reason, Message: c.Message, Since: c.LastTransitionTime.UTC().Format(time.RFC3339)})
	}
	objs, unreadable, err := tenantObjects(ctx, cl, coop)
	if err != nil {
		return nil, err
	}
	d.Objects, d.Unreadable = objs, unreadable
	evs, err := recentEvents(ctx, cl, coop, maxEvents)
	if err != nil {
		d.Unreadable = append(d.Unreadable, "Event")
	}
	d.Events = evs
	return d, nil
}

var conditionTypes = []string{coopv1.ConditionReady, coopv1.ConditionReconciling, coopv1.ConditionStalled, coopv1.ConditionTenancyReady, coopv1.ConditionDatabaseReady, coopv1.ConditionBackupReady, coopv1.ConditionPlatformReady}

func conditionOrder(t string) int {
	for i, c := range conditionTypes {
		if c == t {
			return i
		}
	}
	return len(conditionTypes)
}

// tenantObjects lists what the co-op became in its namespace, each with a one-word state.
// Kinds the caller may not list, or the cluster does not serve, are named in unreadable.
func tenantObjects(ctx context.Context, cl client.Client, coop *coopv1.Cooperative) ([]ObjectRow, []string, error) {
	ns := coop.NamespaceName()
	rows := []ObjectRow{}
	var unreadable []string
	in := client.InNamespace(ns)
	list := func(kind string, l client.ObjectList, each func()) error {
		if err := cl.List(ctx, l, in); err != nil {
			if apierrors.IsForbidden(err) || meta.IsNoMatchError(err) || isNoKind(err) {
				unreadable = append(unreadable, kind)
				return nil
			}
			return explain(err, "listing "+kind+"s in "+ns)
		}
		each()
		return nil
	}
	nsObj := &corev1.Namespace{}
	switch err := cl.Get(ctx, client.ObjectKey{Name: ns}, nsObj); {
	case err == nil:
		rows = append(rows, ObjectRow{Kind: "Namespace", Name: ns, Status: string(nsObj.Status.Phase)})
	case apierrors.IsNotFound(err):
		rows = append(rows, ObjectRow{Kind: "Namespace", Name: ns, Status: "Missing"})
	default:
		unreadable = append(unreadable, "Namespace")
	}
	var deps appsv1.DeploymentList
	var svcs corev1.ServiceList
	var ings networkingv1.IngressList
	var pdbs policyv1.PodDisruptionBudgetList
	var clusters cnpgv1.ClusterList
	var scheduled cnpgv1.ScheduledBackupList
	var backups cnpgv1.BackupList
	for _, step := range []error{
		list("Deployment", &deps, func() {
			for _, o := range deps.Items {
				want := int32(1)
				if o.Spec.Replicas != nil {
					want = *o.Spec.Replicas
				}
				rows = append(rows, ObjectRow{Kind: "Deployment", Name: o.Name, Status: fmt.Sprintf("%d/%d available", o.Status.AvailableReplicas, want)})
			}
		}),
		list("Service", &svcs, func() {
			for _, o := range svcs.Items {
				rows = append(rows, ObjectRow{Kind: "Service", Name: o.Name, Status: string(o.Spec.Type)})
			}
		}),
		list("Ingress", &ings, func() {
			for _, o := range ings.Items {
				var hosts []string
				for _, rule := range o.Spec.Rules {
					hosts = append(hosts, rule.Host)
				}
				rows = append(rows, ObjectRow{Kind: "Ingress", Name: o.Name, Status: strings.Join(hosts, ",")})
			}
		}),
		list("PodDisruptionBudget", &pdbs, func() {
			for _, o := range pdbs.Items {
				rows = append(rows, ObjectRow{Kind: "PodDisruptionBudget", Name: o.Name, Status: fmt.Sprintf("%d disruptions allowed", o.Status.DisruptionsAllowed)})
			}
		}),
		list("Cluster", &clusters, func() {
			for _, o := range clusters.Items {
				rows = append(rows, ObjectRow{Kind: "Cluster", Name: o.Name, Status: orDash(o.Status.Phase)})
			}
		}),
		list("ScheduledBackup", &scheduled, func() {
			for _, o := range scheduled.Items {
				st := "schedule " + o.Spec.Schedule
				if o.Status.LastScheduleTime != nil {
					st += ", last " + o.Status.LastScheduleTime.UTC().Format(time.RFC3339)
				}
				rows = append(rows, ObjectRow{Kind: "ScheduledBackup", Name: o.Name, Status: st})
			}
		}),
		list("Backup", &backups, func() {
			items := backups.Items
			sort.Slice(items, func(i, j int) bool { return items[j].CreationTimestamp.Before(&items[i].CreationTimestamp) })
			if len(items) > 5 {
				items = items[:5]
			}
			for _, o := range items {
				rows = append(rows, ObjectRow{Kind: "Backup", Name: o.Name, Status: backupState(&o)})
			}
		}),
	} {
		if step != nil {
			return nil, nil, step
		}
	}
	return rows, unreadable, nil
}

func backupState(b *cnpgv1.Backup) string {
	if b.Status.Phase == "" {
		return "pending"
	}
	return string(b.Status.Phase)
}

// recentEvents are the newest events of the co-op's namespace, where the operator records
// the co-op's own events too (its admins read them there), and, for whoever may read them,
// those recorded on the cluster-scoped Cooperative in the default namespace: the max
// newest, none when max is 0.
func recentEvents(ctx context.Context, cl client.Client, coop *coopv1.Cooperative, max int) ([]EventRow, error) {
	rows := []EventRow{}
	if max <= 0 {
		return rows, nil
	}
	var inNamespace corev1.EventList
	nsErr := cl.List(ctx, &inNamespace, client.InNamespace(coop.NamespaceName()))
	if nsErr != nil && !apierrors.IsForbidden(nsErr) {
		return rows, explain(nsErr, "listing events")
	}
	items := inNamespace.Items
	var onObject corev1.EventList
	if err := cl.List(ctx, &onObject, client.InNamespace(metav1.NamespaceDefault)); err == nil {
		for _, e := range onObject.Items {
			if e.InvolvedObject.Kind == "Cooperative" && e.InvolvedObject.Name == coop.Name {
				items = append(items, e)
			}
		}
	} else if nsErr != nil {
		return rows, nsErr
	}
	// The same event recorded in both places shows once.
	seen := map[string]bool{}
	sort.SliceStable(items, func(i, j int) bool { return eventTime(&items[j]).Before(eventTime(&items[i])) })
	for i := range items {
		e := &items[i]
		key := e.Reason + "\x00" + e.Message + "\x00" + eventTime(e).Format(time.RFC3339)
		if seen[key] {
			continue
		}
		seen[key] = true
		rows = append(rows, EventRow{
			Time: eventTime(e).UTC().Format(time.RFC3339), Type: e.Type, Reason: e.Reason,
			Object: strings.ToLower(e.InvolvedObject.Kind) + "/" + e.InvolvedObject.Name, Message: e.Message,
		})
		if len(rows) == max {
			break
		}
	}
	return rows, nil
}

func eventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

var detailColumns = columnsOf("section", "kind", "name", "status", "reason", "message", "time")

// table is the detail as rows of one table: the CSV form, and what -o table arranges in
// sections.
func (d *CooperativeDetail) table() table {
	t := table{columns: detailColumns}
	for _, c := range d.Conditions {
		t.rows = append(t.rows, []string{"condition", c.Type, d.Cooperative.Name, c.Status, c.Reason, c.Message, c.Since})
	}
	for _, o := range d.Objects {
		t.rows = append(t.rows, []string{"object", o.Kind, o.Name, o.Status, "", "", ""})
	}
	for _, e := range d.Events {
		t.rows = append(t.rows, []string{"event", e.Type, e.Object, "", e.Reason, e.Message, e.Time})
	}
	return t
}

func (d *CooperativeDetail) print(out io.Writer, format string) error {
	if format != "table" && format != "wide" {
		return printResult(out, format, d.table(), d)
	}
	c := d.Cooperative
	fmt.Fprintf(out, "Name:         %s\n", c.Name)
	fmt.Fprintf(out, "Namespace:    %s\n", d.Namespace)
	fmt.Fprintf(out, "Vertical:     %s\n", c.Vertical)
	fmt.Fprintf(out, "Plan:         %s (%s tier)\n", c.Plan, orDash(c.Tier))
	fmt.Fprintf(out, "Ready:        %s %s\n", c.Ready, c.Reason)
	fmt.Fprintf(out, "URL:          %s\n", orDash(c.URL))
	fmt.Fprintf(out, "Last backup:  %s\n", orDash(c.LastBackup))
	if c.Suspended {
		fmt.Fprintf(out, "Suspended:    true (cooperator resume %s)\n", c.Name)
	}
	wide := format == "wide"
	fmt.Fprintln(out, "\nConditions:")
	ct := table{columns: []column{{header: "TYPE"}, {header: "STATUS"}, {header: "REASON"}, {header: "SINCE", wide: true}, {header: "MESSAGE"}}}
	for _, cd := range d.Conditions {
		msg := cd.Message
		if !wide && len(msg) > 100 {
			msg = msg[:97] + "..."
		}
		ct.rows = append(ct.rows, []string{cd.Type, cd.Status, cd.Reason, cd.Since, msg})
	}
	if err := ct.write(indent(out), wide); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nObjects:")
	ot := table{columns: []column{{header: "KIND"}, {header: "NAME"}, {header: "STATUS"}}}
	for _, o := range d.Objects {
		ot.rows = append(ot.rows, []string{o.Kind, o.Name, o.Status})
	}
	if err := ot.write(indent(out), wide); err != nil {
		return err
	}
	if len(d.Unreadable) > 0 {
		fmt.Fprintf(out, "  (not readable with your credentials, or not served: %s)\n", strings.Join(d.Unreadable, ", "))
	}
	fmt.Fprintln(out, "\nEvents:")
	if len(d.Events) == 0 {
		fmt.Fprintln(out, "  <none>")
		return nil
	}
	et := table{columns: []column{{header: "TIME"}, {header: "TYPE"}, {header: "REASON"}, {header: "OBJECT"}, {header: "MESSAGE"}}}
	for _, e := range d.Events {
		et.rows = append(et.rows, []string{e.Time, e.Type, e.Reason, e.Object, e.Message})
	}
	return et.write(indent(out), wide)
}

// indent prefixes every line written with two spaces.
func indent(w io.Writer) io.Writer { return &indenter{w: w, start: true} }

type indenter struct {
	w     io.Writer
	start bool
}

func (i *indenter) Write(p []byte) (int, error) {
	for _, b := range p {
		if i.start {
			if _, err := i.w.Write([]byte("  ")); err != nil {
				return 0, err
			}
		}
		if _, err := i.w.Write([]byte{b}); err != nil {
			return 0, err
		}
		i.start = b == '\n'
	}
	return len(p), nil
}
