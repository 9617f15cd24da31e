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

// Package cli holds the cooperator subcommands for hub and co-op admins that read the
// cost split and the metered usage: costs and usage.
package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// Costs prints one period's split: cooperator costs [PERIOD] [-o table|csv|json].
func Costs(ctx context.Context, args []string) error {
	return helpIsNoError(costs(ctx, args, os.Stdout))
}

// Usage prints metered usage: cooperator usage [COOP] [-o table|csv|json].
func Usage(ctx context.Context, args []string) error {
	return helpIsNoError(usage(ctx, args, os.Stdout))
}

func helpIsNoError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

type common struct {
	output     string
	kubeconfig string
	now        func() time.Time
}

func parse(name, usageLine string, args []string, maxPositional int) (*common, []string, error) {
	c := &common{now: time.Now}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: cooperator %s\n\nFlags:\n", usageLine)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.output, "o", "table", "output format: table, csv or json")
	fs.StringVar(&c.output, "output", "table", "output format: table, csv or json")
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "path to the kubeconfig file; as kubectl finds it when empty (KUBECONFIG, ~/.kube/config, in-cluster)")
	// Flags may come before or after the positional arguments.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) > maxPositional {
		return nil, nil, fmt.Errorf("too many arguments: %s", strings.Join(positional, " "))
	}
	switch c.output {
	case "table", "csv", "json":
	default:
		return nil, nil, fmt.Errorf("unknown output format %q: use table, csv or json", c.output)
	}
	return c, positional, nil
}

func (c *common) client() (client.Client, error) { return newClient(c.kubeconfig, "") }

// newClient connects to the cluster of a kubeconfig found as kubectl finds it (or at
// kubeconfig), in its current context or the one named.
func newClient(kubeconfig, kubeContext string) (client.Client, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: kubeContext}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading the kubeconfig: %w", err)
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := coopv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	cl, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	return cl, nil
}

// CostsJSON is the JSON form of a period's split. Amounts stay decimal strings: exact.
type CostsJSON struct {
	Period   string            `json:"period"`
	Currency string            `json:"currency"`
	Phase    string            `json:"phase"`
	Total    string            `json:"total"`
	Lines    []coopv1.CostLine `json:"lines"`
}

func costs(ctx context.Context, args []string, out io.Writer) error {
	c, pos, err := parse("costs", "costs [PERIOD] [-o table|csv|json] [--kubeconfig FILE]", args, 1)
	if err != nil {
		return err
	}
	period := c.now().UTC().Format("2006-01")
	if len(pos) == 1 {
		period = pos[0]
	}
	if _, err := time.Parse("2006-01", period); err != nil {
		return fmt.Errorf("period %q is not YYYY-MM, such as 2026-11", period)
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	report := &coopv1.CostReport{}
	if err := cl.Get(ctx, client.ObjectKey{Name: period}, report); err != nil {
		return fmt.Errorf("reading CostReport %s: %w", period, err)
	}
	return writeCosts(out, c.output, report)
}

func writeCosts(out io.Writer, format string, r *coopv1.CostReport) error {
	phase := string(r.Status.Phase)
	switch format {
	case "json":
		lines := r.Status.Lines
		if lines == nil {
			lines = []coopv1.CostLine{}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(CostsJSON{Period: r.Name, Currency: r.Spec.Currency, Phase: phase, Total: r.Status.Total, Lines: lines})
	case "csv":
		w := csv.NewWriter(out)
		_ = w.Write([]string{"period", "currency", "cooperative", "cpu_core_hours", "memory_gib_hours", "storage_gib_hours", "share_percent", "amount"})
		for _, l := range r.Status.Lines {
			_ = w.Write([]string{r.Name, r.Spec.Currency, l.Cooperative, l.CPUCoreHours, l.MemoryGiBHours, l.StorageGiBHours, l.SharePercent, l.Amount})
		}
		w.Flush()
		return w.Error()
	default:
		fmt.Fprintf(out, "Period %s (%s), amounts in %s\n\n", r.Name, phaseOrUnknown(phase), r.Spec.Currency)
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "COOPERATIVE\tCPU CORE-H\tMEMORY GIB-H\tSTORAGE GIB-H\tSHARE %\tAMOUNT\t")
		for _, l := range r.Status.Lines {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", l.Cooperative, l.CPUCoreHours, l.MemoryGiBHours, l.StorageGiBHours, l.SharePercent, l.Amount)
		}
		fmt.Fprintf(tw, "TOTAL\t\t\t\t\t%s\t\n", r.Status.Total)
		return tw.Flush()
	}
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

func usage(ctx context.Context, args []string, out io.Writer) error {
	c, pos, err := parse("usage", "usage [COOP] [-o table|csv|json] [--kubeconfig FILE]", args, 1)
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	var rows []UsageRow
	if len(pos) == 1 {
		// One co-op: every period it keeps, newest first.
		coop := &coopv1.Cooperative{}
		if err := cl.Get(ctx, client.ObjectKey{Name: pos[0]}, coop); err != nil {
			return fmt.Errorf("reading Cooperative %s: %w", pos[0], err)
		}
		rows = usageRows(coop, false)
		if len(rows) == 0 {
			return fmt.Errorf("co-op %s has no metered usage yet", pos[0])
		}
	} else {
		// Every co-op: its current period.
		var list coopv1.CooperativeList
		if err := cl.List(ctx, &list); err != nil {
			return fmt.Errorf("listing Cooperatives: %w", err)
		}
		for i := range list.Items {
			rows = append(rows, usageRows(&list.Items[i], true)...)
		}
	}
	return writeUsage(out, c.output, rows)
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

func writeUsage(out io.Writer, format string, rows []UsageRow) error {
	switch format {
	case "json":
		if rows == nil {
			rows = []UsageRow{}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case "csv":
		w := csv.NewWriter(out)
		_ = w.Write([]string{"cooperative", "period", "cpu_core_hours", "memory_gib_hours", "storage_gib_hours", "metered_seconds", "estimated_seconds", "estimated_amount", "currency"})
		for _, r := range rows {
			_ = w.Write([]string{r.Cooperative, r.Period, r.CPUCoreHours, r.MemoryGiBHours, r.StorageGiBHours,
				strconv.FormatInt(r.MeteredSeconds, 10), strconv.FormatInt(r.EstimatedSeconds, 10), r.EstimatedAmount, r.Currency})
		}
		w.Flush()
		return w.Error()
	case "table":
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "COOPERATIVE\tPERIOD\tCPU CORE-H\tMEMORY GIB-H\tSTORAGE GIB-H\tESTIMATED\tAMOUNT")
		for _, r := range rows {
			est := "-"
			if r.EstimatedSeconds > 0 {
				est = (time.Duration(r.EstimatedSeconds) * time.Second).String()
			}
			amount := "-"
			if r.EstimatedAmount != "" {
				amount = r.EstimatedAmount + " " + r.Currency
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Cooperative, r.Period, r.CPUCoreHours, r.MemoryGiBHours, r.StorageGiBHours, est, amount)
		}
		return tw.Flush()
	}
	return errors.New("unreachable: format checked at parse")
}
