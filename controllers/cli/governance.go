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
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// Governance prints the governed changes applied to co-ops: cooperator governance [COOP]
// [-o table|csv|json]. Without a co-op, the last one of each; with one, its history.
func Governance(ctx context.Context, args []string) error {
	return helpIsNoError(governance(ctx, args, os.Stdout))
}

// GovernanceRow is one applied proposal as the governance command prints it.
type GovernanceRow struct {
	Cooperative string `json:"cooperative"`
	// Governed is the status and reason of the co-op's Governed condition.
	Governed  string `json:"governed"`
	Proposal  int64  `json:"proposal,omitempty"`
	Field     string `json:"field,omitempty"`
	OldValue  string `json:"oldValue,omitempty"`
	NewValue  string `json:"newValue,omitempty"`
	Tally     string `json:"tally,omitempty"`
	AppliedAt string `json:"appliedAt,omitempty"`
}

func governance(ctx context.Context, args []string, out io.Writer) error {
	c, pos, err := parse("governance", "governance [COOP] [-o table|csv|json] [--kubeconfig FILE]", args, 1)
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	var rows []GovernanceRow
	if len(pos) == 1 {
		coop := &coopv1.Cooperative{}
		if err := cl.Get(ctx, client.ObjectKey{Name: pos[0]}, coop); err != nil {
			return fmt.Errorf("reading Cooperative %s: %w", pos[0], err)
		}
		rows = governanceRows(coop, false)
	} else {
		var list coopv1.CooperativeList
		if err := cl.List(ctx, &list); err != nil {
			return fmt.Errorf("listing Cooperatives: %w", err)
		}
		for i := range list.Items {
			rows = append(rows, governanceRows(&list.Items[i], true)...)
		}
	}
	return writeGovernance(out, c.output, rows)
}

// governanceRows are a co-op's applied proposals, newest first (only the last with
// lastOnly); a co-op with none gives one row with its condition only.
func governanceRows(coop *coopv1.Cooperative, lastOnly bool) []GovernanceRow {
	governed := "-"
	if cond := meta.FindStatusCondition(coop.Status.Conditions, coopv1.ConditionGoverned); cond != nil {
		governed = string(cond.Status) + " " + cond.Reason
	}
	var history []coopv1.AppliedProposal
	if coop.Status.Governance != nil {
		history = coop.Status.Governance.History
	}
	if len(history) == 0 {
		return []GovernanceRow{{Cooperative: coop.Name, Governed: governed}}
	}
	if lastOnly {
		history = history[:1]
	}
	rows := make([]GovernanceRow, 0, len(history))
	for _, a := range history {
		rows = append(rows, GovernanceRow{Cooperative: coop.Name, Governed: governed, Proposal: a.ID, Field: string(a.Field),
			OldValue: a.OldValue, NewValue: a.NewValue, Tally: a.Tally, AppliedAt: a.AppliedAt.UTC().Format(time.RFC3339)})
	}
	return rows
}

func writeGovernance(out io.Writer, format string, rows []GovernanceRow) error {
	switch format {
	case "json":
		if rows == nil {
			rows = []GovernanceRow{}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case "csv":
		w := csv.NewWriter(out)
		_ = w.Write([]string{"cooperative", "governed", "proposal", "field", "old_value", "new_value", "tally", "applied_at"})
		for _, r := range rows {
			_ = w.Write([]string{r.Cooperative, r.Governed, strconv.FormatInt(r.Proposal, 10), r.Field, r.OldValue, r.NewValue, r.Tally, r.AppliedAt})
		}
		w.Flush()
		return w.Error()
	case "table":
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "COOPERATIVE\tGOVERNED\tPROPOSAL\tFIELD\tNEW VALUE\tTALLY\tAPPLIED")
		for _, r := range rows {
			id := "-"
			if r.Proposal > 0 {
				id = strconv.FormatInt(r.Proposal, 10)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Cooperative, r.Governed, id, dash(r.Field), dash(r.NewValue), dash(r.Tally), dash(r.AppliedAt))
		}
		return tw.Flush()
	}
	return errors.New("unreachable: format checked at parse")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
