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
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/costreport/allocation"
)

// CostsJSON is the JSON form of a period's split. Amounts stay decimal strings: exact.
type CostsJSON struct {
	Period   string            `json:"period"`
	Currency string            `json:"currency"`
	Phase    string            `json:"phase"`
	Total    string            `json:"total"`
	Lines    []coopv1.CostLine `json:"lines"`
}

func (r *root) costsCommand() *cobra.Command {
	var output, from, to, coop string
	c := &cobra.Command{
		Use:   "costs [PERIOD]",
		Short: "Print the cost split of a billing period, or of several (PERIOD is YYYY-MM; the current month by default)",
		Long: `Print the cost split of a billing period, or of several with --from and --to, for every
co-op or for one (--cooperative): the treasurer's statement.

Each line gives a co-op's usage, its share, and its amount broken down the way the operator
computed it: its parts of the compute, storage and shared pools, what the solidarity
discounts and the floor changed, and the rounding to whole cents. The parts add up to the
amount exactly, and the amounts of a period to its bill. -o wide and -o csv show the parts.`,
		Example: `  cooperator costs 2026-11
  cooperator costs --from 2026-01 --to 2026-12 -o csv > 2026.csv
  cooperator costs --from 2026-01 --to 2026-12 --cooperative fairride-lyon -o csv`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			periods, err := periodRange(r.now(), args, from, to)
			if err != nil {
				return err
			}
			cl, err := r.client()
			if err != nil {
				return err
			}
			var reports []*coopv1.CostReport
			for _, period := range periods {
				report := &coopv1.CostReport{}
				if err := cl.Get(c.Context(), client.ObjectKey{Name: period}, report); err != nil {
					if apierrors.IsNotFound(err) && len(periods) > 1 {
						fmt.Fprintf(r.errs, "No CostReport for %s: skipped\n", period)
						continue
					}
					return explain(err, "reading CostReport "+period)
				}
				reports = append(reports, report)
			}
			if len(reports) == 0 {
				return &exitError{code: ExitNotFound, err: fmt.Errorf("no CostReport from %s to %s", periods[0], periods[len(periods)-1])}
			}
			return writeCosts(c.OutOrStdout(), output, reports, coop)
		},
	}
	outputFlag(c, &output)
	c.Flags().StringVar(&from, "from", "", "first period, YYYY-MM (with --to: every period in between)")
	c.Flags().StringVar(&to, "to", "", "last period, YYYY-MM (the current month when --from is given alone)")
	c.Flags().StringVar(&coop, "cooperative", "", "only this co-op's lines: its statement")
	_ = c.RegisterFlagCompletionFunc("cooperative", r.completeCooperatives)
	return c
}

// periodRange is the periods a costs command covers: PERIOD, or --from to --to (at most
// ten years), or the current month.
func periodRange(now time.Time, args []string, from, to string) ([]string, error) {
	parse := func(flag, v string) (time.Time, error) {
		t, err := time.Parse("2006-01", v)
		if err != nil {
			return t, usageErrorf("%s %q is not YYYY-MM, such as 2026-11", flag, v)
		}
		return t, nil
	}
	current := now.UTC().Format("2006-01")
	if len(args) == 1 {
		if from != "" || to != "" {
			return nil, usageErrorf("give a PERIOD or --from/--to, not both")
		}
		if _, err := parse("period", args[0]); err != nil {
			return nil, err
		}
		return []string{args[0]}, nil
	}
	if from == "" && to == "" {
		return []string{current}, nil
	}
	if from == "" {
		return nil, usageErrorf("--to needs --from")
	}
	if to == "" {
		to = current
	}
	start, err := parse("--from", from)
	if err != nil {
		return nil, err
	}
	end, err := parse("--to", to)
	if err != nil {
		return nil, err
	}
	if end.Before(start) {
		return nil, usageErrorf("--to %s is before --from %s", to, from)
	}
	var periods []string
	for t := start; !t.After(end); t = t.AddDate(0, 1, 0) {
		periods = append(periods, t.Format("2006-01"))
		if len(periods) > 120 {
			return nil, usageErrorf("--from %s --to %s covers more than ten years", from, to)
		}
	}
	return periods, nil
}

var costColumns = []column{
	{header: "PERIOD", field: "period"},
	{header: "CURRENCY", field: "currency", wide: true},
	{header: "PHASE", field: "phase", wide: true},
	{header: "COOPERATIVE", field: "cooperative"},
	{header: "CPU CORE-H", field: "cpu_core_hours"},
	{header: "MEMORY GIB-H", field: "memory_gib_hours"},
	{header: "STORAGE GIB-H", field: "storage_gib_hours"},
	{header: "SHARE %", field: "share_percent"},
	{header: "COMPUTE", field: "compute_amount", wide: true},
	{header: "STORAGE", field: "storage_amount", wide: true},
	{header: "SHARED", field: "shared_amount", wide: true},
	{header: "DISCOUNT", field: "discount_adjustment", wide: true},
	{header: "FLOOR", field: "floor_adjustment", wide: true},
	{header: "ROUNDING", field: "rounding_adjustment", wide: true},
	{header: "AMOUNT", field: "amount"},
}

func costCells(r *coopv1.CostReport, l coopv1.CostLine) []string {
	return []string{r.Name, r.Spec.Currency, phaseOrUnknown(string(r.Status.Phase)), l.Cooperative, l.CPUCoreHours, l.MemoryGiBHours, l.StorageGiBHours, l.SharePercent,
		l.ComputeAmount, l.StorageAmount, l.SharedAmount, l.DiscountAdjustment, l.FloorAdjustment, l.RoundingAdjustment, l.Amount}
}

// writeCosts prints the reports' lines, only coop's when it is set. The table adds a total
// per period, or, for one co-op, its total over the periods (when they share a currency).
func writeCosts(out io.Writer, format string, reports []*coopv1.CostReport, coop string) error {
	t := table{columns: costColumns}
	statements := []CostsJSON{}
	var coopCents int64
	currencies := map[string]bool{}
	for _, r := range reports {
		st := CostsJSON{Period: r.Name, Currency: r.Spec.Currency, Phase: string(r.Status.Phase), Total: r.Status.Total, Lines: []coopv1.CostLine{}}
		for _, l := range r.Status.Lines {
			if coop != "" && l.Cooperative != coop {
				continue
			}
			st.Lines = append(st.Lines, l)
			t.rows = append(t.rows, costCells(r, l))
			if c, err := allocation.ParseCents(l.Amount); err == nil {
				coopCents += c
			}
			currencies[r.Spec.Currency] = true
		}
		statements = append(statements, st)
		if (format == "table" || format == "wide") && coop == "" {
			total := make([]string, len(costColumns))
			total[0], total[1], total[3], total[len(total)-1] = r.Name, r.Spec.Currency, "TOTAL", r.Status.Total
			t.rows = append(t.rows, total)
		}
	}
	if (format == "table" || format == "wide") && coop != "" && len(currencies) == 1 {
		total := make([]string, len(costColumns))
		total[0], total[3], total[len(total)-1] = "ALL", "TOTAL "+coop, allocation.FormatCents(coopCents)
		t.rows = append(t.rows, total)
	}
	return printResult(out, format, t, statements)
}

func phaseOrUnknown(p string) string {
	if p == "" {
		return "not computed yet"
	}
	return p
}

// UsageRow is one co-op's usage in one period, as the usage command prints it.
type UsageRow struct {
	Cooperative      string `json:"cooperative"`
	Period           string `json:"period"`
	CPUCoreHours     string `json:"cpuCoreHours"`
	MemoryGiBHours   string `json:"memoryGiBHours"`
	StorageGiBHours  string `json:"storageGiBHours"`
	MeteredSeconds   int64  `json:"meteredSeconds"`
	EstimatedSeconds int64  `json:"estimatedSeconds"`
	EstimatedAmount  string `json:"estimatedAmount,omitempty"`
	Currency         string `json:"currency,omitempty"`
}

// perCoopCommand is a read command over the co-ops: with a co-op, all of its rows; without,
// the latest rows of each. rows gives a co-op's rows (only the latest with latest).
func perCoopCommand[T any](r *root, use, short string, rows func(coop *coopv1.Cooperative, latest bool) ([]T, error), write func(io.Writer, string, []T) error) *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:               use,
		Short:             short,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: r.completeCooperatives,
		RunE: r.reads(&output, func(c *cobra.Command, cl client.Client, args []string) error {
			var coops []coopv1.Cooperative
			if len(args) == 1 {
				coop, err := r.getCooperative(c.Context(), cl, args[0])
				if err != nil {
					return err
				}
				coops = []coopv1.Cooperative{*coop}
			} else {
				all, _, err := r.listCooperatives(c.Context(), cl)
				if err != nil {
					return err
				}
				coops = all
			}
			var out []T
			for i := range coops {
				more, err := rows(&coops[i], len(args) == 0)
				if err != nil {
					return err
				}
				out = append(out, more...)
			}
			return write(c.OutOrStdout(), output, out)
		}),
	}
	outputFlag(c, &output)
	return c
}

func (r *root) usageCommand() *cobra.Command {
	return perCoopCommand(r, "usage [COOP]", "Print the metered usage of the co-ops (current period), or of one co-op (every period kept)",
		func(coop *coopv1.Cooperative, current bool) ([]UsageRow, error) {
			rows := usageRows(coop, current)
			if !current && len(rows) == 0 {
				return nil, fmt.Errorf("co-op %s has no metered usage yet", coop.Name)
			}
			return rows, nil
		}, writeUsage)
}

func usageRows(coop *coopv1.Cooperative, currentOnly bool) []UsageRow {
	u := coop.Status.Usage
	if u == nil {
		return nil
	}
	var rows []UsageRow
	for _, p := range u.Periods {
		if currentOnly && p.Period != u.CurrentPeriod {
			continue
		}
		row := UsageRow{
			Cooperative: coop.Name, Period: p.Period,
			CPUCoreHours: p.CPUCoreHours, MemoryGiBHours: p.MemoryGiBHours, StorageGiBHours: p.StorageGiBHours,
			MeteredSeconds: p.MeteredSeconds, EstimatedSeconds: p.EstimatedSeconds,
		}
		if p.Period == u.CurrentPeriod {
			row.EstimatedAmount, row.Currency = u.EstimatedAmount, u.Currency
		}
		rows = append(rows, row)
	}
	return rows
}

var usageColumns = []column{
	{header: "COOPERATIVE", field: "cooperative"},
	{header: "PERIOD", field: "period"},
	{header: "CPU CORE-H", field: "cpu_core_hours"},
	{header: "MEMORY GIB-H", field: "memory_gib_hours"},
	{header: "STORAGE GIB-H", field: "storage_gib_hours"},
	{header: "METERED S", field: "metered_seconds", wide: true},
	{header: "ESTIMATED S", field: "estimated_seconds", wide: true},
	{header: "AMOUNT", field: "estimated_amount"},
	{header: "CURRENCY", field: "currency"},
}

func writeUsage(out io.Writer, format string, rows []UsageRow) error {
	if rows == nil {
		rows = []UsageRow{}
	}
	t := table{columns: usageColumns}
	for _, r := range rows {
		t.rows = append(t.rows, []string{r.Cooperative, r.Period, r.CPUCoreHours, r.MemoryGiBHours, r.StorageGiBHours,
			strconv.FormatInt(r.MeteredSeconds, 10), strconv.FormatInt(r.EstimatedSeconds, 10), r.EstimatedAmount, r.Currency})
	}
	return printResult(out, format, t, rows)
}
