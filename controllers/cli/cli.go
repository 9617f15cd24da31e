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
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
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
	var output string
	c := &cobra.Command{
		Use:   "costs [PERIOD]",
		Short: "Print a billing period's cost split (PERIOD is YYYY-MM; the current month by default)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			period := r.now().UTC().Format("2006-01")
			if len(args) == 1 {
				period = args[0]
			}
			if _, err := time.Parse("2006-01", period); err != nil {
				return usageErrorf("period %q is not YYYY-MM, such as 2026-11", period)
			}
			cl, err := r.client()
			if err != nil {
				return err
			}
			report := &coopv1.CostReport{}
			if err := cl.Get(c.Context(), client.ObjectKey{Name: period}, report); err != nil {
				return explain(err, "reading CostReport "+period)
			}
			return writeCosts(c.OutOrStdout(), output, report)
		},
	}
	outputFlag(c, &output)
	return c
}

var costColumns = []column{
	{header: "PERIOD", field: "period", wide: true},
	{header: "CURRENCY", field: "currency", wide: true},
	{header: "COOPERATIVE", field: "cooperative"},
	{header: "CPU CORE-H", field: "cpu_core_hours"},
	{header: "MEMORY GIB-H", field: "memory_gib_hours"},
	{header: "STORAGE GIB-H", field: "storage_gib_hours"},
	{header: "SHARE %", field: "share_percent"},
	{header: "AMOUNT", field: "amount"},
}

func writeCosts(out io.Writer, format string, r *coopv1.CostReport) error {
	phase := string(r.Status.Phase)
	lines := r.Status.Lines
	if lines == nil {
		lines = []coopv1.CostLine{}
	}
	t := table{columns: costColumns}
	for _, l := range lines {
		t.rows = append(t.rows, []string{r.Name, r.Spec.Currency, l.Cooperative, l.CPUCoreHours, l.MemoryGiBHours, l.StorageGiBHours, l.SharePercent, l.Amount})
	}
	if format == "table" || format == "wide" {
		fmt.Fprintf(out, "Period %s (%s), amounts in %s\n\n", r.Name, phaseOrUnknown(phase), r.Spec.Currency)
		total := make([]string, len(costColumns))
		total[2], total[7] = "TOTAL", r.Status.Total
		if format == "table" {
			total[0], total[1] = "-", "-"
		}
		t.rows = append(t.rows, total)
	}
	return printResult(out, format, t, CostsJSON{Period: r.Name, Currency: r.Spec.Currency, Phase: phase, Total: r.Status.Total, Lines: lines})
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

func (r *root) usageCommand() *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:               "usage [COOP]",
		Short:             "Print the metered usage of the co-ops (current period), or of one co-op (every period kept)",
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: r.completeCooperatives,
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			cl, err := r.client()
			if err != nil {
				return err
			}
			var rows []UsageRow
			if len(args) == 1 {
				// One co-op: every period it keeps, newest first.
				coop, err := r.getCooperative(c.Context(), cl, args[0])
				if err != nil {
					return err
				}
				rows = usageRows(coop, false)
				if len(rows) == 0 {
					return fmt.Errorf("co-op %s has no metered usage yet", args[0])
				}
			} else {
				// Every co-op: its current period.
				coops, _, err := r.listCooperatives(c.Context(), cl)
				if err != nil {
					return err
				}
				for i := range coops {
					rows = append(rows, usageRows(&coops[i], true)...)
				}
			}
			return writeUsage(c.OutOrStdout(), output, rows)
		},
	}
	outputFlag(c, &output)
	return c
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
