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
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// governanceCommand prints the governed changes applied to co-ops: without a co-op, the
// last one of each; with one, its history.
func (r *root) governanceCommand() *cobra.Command {
	return perCoopCommand(r, "governance [COOP]", "Print the governed changes the operator applied: the last of each co-op, or one co-op's history",
		func(coop *coopv1.Cooperative, last bool) ([]GovernanceRow, error) {
			return governanceRows(coop, last), nil
		}, writeGovernance)
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

var governanceColumns = []column{
	{header: "COOPERATIVE", field: "cooperative"}, {header: "GOVERNED", field: "governed"},
	{header: "PROPOSAL", field: "proposal"}, {header: "FIELD", field: "field"},
	{header: "OLD VALUE", field: "old_value", wide: true}, {header: "NEW VALUE", field: "new_value"},
	{header: "TALLY", field: "tally"}, {header: "APPLIED", field: "applied_at"},
}

func writeGovernance(out io.Writer, format string, rows []GovernanceRow) error {
	if rows == nil {
		rows = []GovernanceRow{}
	}
	t := table{columns: governanceColumns}
	for _, r := range rows {
		id := ""
		if r.Proposal > 0 {
			id = strconv.FormatInt(r.Proposal, 10)
		}
		t.rows = append(t.rows, []string{r.Cooperative, r.Governed, id, r.Field, r.OldValue, r.NewValue, r.Tally, r.AppliedAt})
	}
	return printResult(out, format, t, rows)
}
