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
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// The states `cooperator status` sorts co-ops into.
const (
	StateReady      = "Ready"
	StateInProgress = "InProgress"
	StateStalled    = "Stalled"
	StateSuspended  = "Suspended"
	StateDeleting   = "Deleting"
)

// HubStatus is the hub as `cooperator status` shows it.
type HubStatus struct {
	// Counts is the number of co-ops in each state.
	Counts       map[string]int     `json:"counts"`
	Cooperatives []CooperativeState `json:"cooperatives"`
	Peers        []PeerRow          `json:"peers"`
	// CostReport is the current period's, nil when the hub has not entered it.
	CostReport *CostReportRow `json:"costReport,omitempty"`
	// CurrentPeriod is the period looked for.
	CurrentPeriod string `json:"currentPeriod"`
}

// CooperativeState is a co-op and its state.
type CooperativeState struct {
	Name   string `json:"name"`
	State  string `json:"state"`
	Reason string `json:"reason"`
}

// PeerRow is one FederationPeer.
type PeerRow struct {
	Name        string `json:"name"`
	Region      string `json:"region"`
	Ready       string `json:"ready"`
	LastContact string `json:"lastContact"`
}

// CostReportRow is the current CostReport.
type CostReportRow struct {
	Period       string `json:"period"`
	Phase        string `json:"phase"`
	Currency     string `json:"currency"`
	Total        string `json:"total"`
	Cooperatives int    `json:"cooperatives"`
}

// cooperativeState sorts a co-op into one state.
func cooperativeState(coop *coopv1.Cooperative) CooperativeState {
	st := CooperativeState{Name: coop.Name, State: StateInProgress}
	if c := meta.FindStatusCondition(coop.Status.Conditions, coopv1.ConditionReady); c != nil {
		st.Reason = c.Reason
	}
	switch {
	case !coop.DeletionTimestamp.IsZero():
		st.State = StateDeleting
	case coop.Spec.Suspend:
		st.State = StateSuspended
	case meta.IsStatusConditionTrue(coop.Status.Conditions, coopv1.ConditionStalled):
		st.State = StateStalled
	case meta.IsStatusConditionTrue(coop.Status.Conditions, coopv1.ConditionReady) && coop.Status.ObservedGeneration >= coop.Generation:
		st.State = StateReady
	}
	return st
}

func (r *root) statusCommand() *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:   "status",
		Short: "Show the hub: co-ops by state, federation peers, and the current CostReport",
		Args:  cobra.NoArgs,
		RunE: r.reads(&output, func(c *cobra.Command, cl client.Client, _ []string) error {
			hs, err := r.hubStatus(c.Context(), cl)
			if err != nil {
				return err
			}
			t := hs.table()
			if output == "table" || output == "wide" {
				fmt.Fprintf(c.OutOrStdout(), "Co-ops: %s\n", hs.countsLine())
				if hs.CostReport == nil {
					fmt.Fprintf(c.OutOrStdout(), "CostReport %s: not entered yet\n", hs.CurrentPeriod)
				}
				fmt.Fprintln(c.OutOrStdout())
			}
			return printResult(c.OutOrStdout(), output, t, hs)
		}),
	}
	outputFlag(c, &output)
	return c
}

func (r *root) hubStatus(ctx context.Context, cl client.Client) (*HubStatus, error) {
	hs := &HubStatus{Counts: map[string]int{}, Cooperatives: []CooperativeState{}, Peers: []PeerRow{}, CurrentPeriod: r.now().UTC().Format("2006-01")}
	var coops coopv1.CooperativeList
	if err := cl.List(ctx, &coops); err != nil {
		return nil, explain(err, "listing Cooperatives")
	}
	for i := range coops.Items {
		st := cooperativeState(&coops.Items[i])
		hs.Counts[st.State]++
		hs.Cooperatives = append(hs.Cooperatives, st)
	}
	sort.SliceStable(hs.Cooperatives, func(i, j int) bool {
		return stateOrder(hs.Cooperatives[i].State) < stateOrder(hs.Cooperatives[j].State)
	})
	var peers coopv1.FederationPeerList
	if err := cl.List(ctx, &peers); err != nil {
		return nil, explain(err, "listing FederationPeers")
	}
	for _, p := range peers.Items {
		row := PeerRow{Name: p.Name, Region: p.Spec.Region, Ready: "Unknown"}
		if c := meta.FindStatusCondition(p.Status.Conditions, coopv1.ConditionReady); c != nil {
			row.Ready = string(c.Status)
		}
		if p.Status.LastContact != nil {
			row.LastContact = p.Status.LastContact.UTC().Format(time.RFC3339)
		}
		hs.Peers = append(hs.Peers, row)
	}
	report := &coopv1.CostReport{}
	switch err := cl.Get(ctx, client.ObjectKey{Name: hs.CurrentPeriod}, report); {
	case err == nil:
		hs.CostReport = &CostReportRow{Period: report.Name, Phase: phaseOrUnknown(string(report.Status.Phase)), Currency: report.Spec.Currency, Total: report.Status.Total, Cooperatives: len(report.Status.Lines)}
	case !apierrors.IsNotFound(err):
		return nil, explain(err, "reading CostReport "+hs.CurrentPeriod)
	}
	return hs, nil
}

var states = []string{StateStalled, StateInProgress, StateSuspended, StateDeleting, StateReady}

func stateOrder(s string) int {
	for i, st := range states {
		if st == s {
			return i
		}
	}
	return len(states)
}

func (hs *HubStatus) countsLine() string {
	total := 0
	var parts []string
	for _, s := range states {
		if n := hs.Counts[s]; n > 0 {
			total += n
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	if total == 0 {
		return "none"
	}
	return fmt.Sprintf("%d (%s)", total, strings.Join(parts, ", "))
}

var hubColumns = columnsOf("kind", "name", "state", "detail")

func (hs *HubStatus) table() table {
	t := table{columns: hubColumns}
	for _, c := range hs.Cooperatives {
		t.rows = append(t.rows, []string{"Cooperative", c.Name, c.State, c.Reason})
	}
	for _, p := range hs.Peers {
		detail := "region " + p.Region
		if p.LastContact != "" {
			detail += ", last contact " + p.LastContact
		}
		t.rows = append(t.rows, []string{"FederationPeer", p.Name, p.Ready, detail})
	}
	if cr := hs.CostReport; cr != nil {
		t.rows = append(t.rows, []string{"CostReport", cr.Period, cr.Phase, fmt.Sprintf("total %s %s over %d co-ops", cr.Total, cr.Currency, cr.Cooperatives)})
	}
	return t
}

// VersionInfo is what `cooperator version` prints.
type VersionInfo struct {
	Client   string `json:"client"`
	Operator string `json:"operator,omitempty"`
	Region   string `json:"region,omitempty"`
	// OperatorError says why the operator's version is unknown.
	OperatorError string `json:"operatorError,omitempty"`
}

func (r *root) versionCommand() *cobra.Command {
	var output, ns string
	var clientOnly bool
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the version of this binary and, when the cluster answers, of the operator",
		Long: `Print the version of this binary and, when the cluster answers, of the operator, which
publishes it in the ConfigMap ` + coopv1.InfoConfigMapName + ` of its namespace.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			v := VersionInfo{Client: r.opts.Version}
			if !clientOnly {
				v.Operator, v.Region, v.OperatorError = r.operatorVersion(c.Context(), ns)
			}
			t := table{columns: []column{{header: "COMPONENT", field: "component"}, {header: "VERSION", field: "version"}, {header: "DETAIL", field: "detail"}}}
			t.rows = append(t.rows, []string{"client", v.Client, ""})
			if !clientOnly {
				detail := v.OperatorError
				if detail == "" {
					detail = "region " + v.Region + ", namespace " + ns
				}
				t.rows = append(t.rows, []string{"operator", v.Operator, detail})
			}
			return printResult(c.OutOrStdout(), output, t, v)
		},
	}
	outputFlag(c, &output)
	operatorNamespaceFlag(c, &ns)
	c.Flags().BoolVar(&clientOnly, "client", false, "print only the version of this binary")
	return c
}

// operatorVersion reads the operator's version; a failure is reported, not returned: the
// client's version is worth printing without a cluster.
func (r *root) operatorVersion(ctx context.Context, ns string) (version, region, problem string) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cl, err := r.client()
	if err != nil {
		return "", "", err.Error()
	}
	cm := &corev1.ConfigMap{}
	if err := cl.Get(ctx, client.ObjectKey{Namespace: ns, Name: coopv1.InfoConfigMapName}, cm); err != nil {
		return "", "", explain(err, "reading ConfigMap "+ns+"/"+coopv1.InfoConfigMapName).Error()
	}
	return cm.Data["version"], cm.Data["region"], ""
}
