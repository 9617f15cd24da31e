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
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

func TestGovernanceRows(t *testing.T) {
	at := metav1.NewTime(time.Date(2026, 12, 8, 9, 1, 0, 0, time.UTC))
	coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "fairride-lyon"}, Status: coopv1.CooperativeStatus{
		Conditions: []metav1.Condition{{Type: coopv1.ConditionGoverned, Status: metav1.ConditionTrue, Reason: coopv1.ReasonChangesApplied}},
		Governance: &coopv1.GovernanceStatus{History: []coopv1.AppliedProposal{
			{ID: 7, Field: "feeSplit", OldValue: `{"platformFeeBasisPoints":300}`, NewValue: `{"platformFeeBasisPoints":200}`, Tally: "multi-stakeholder: turnout 100.00%, approval 80.00%", AppliedAt: at},
			{ID: 3, Field: "plan", NewValue: `"medium"`, Tally: "x", AppliedAt: at},
		}},
	}}
	if rows := governanceRows(coop, true); len(rows) != 1 || rows[0].Proposal != 7 || rows[0].Governed != "True ChangesApplied" {
		t.Fatalf("last only: %+v", rows)
	}
	if rows := governanceRows(coop, false); len(rows) != 2 || rows[1].Proposal != 3 {
		t.Fatalf("history: %+v", rows)
	}
	none := governanceRows(&coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "care"}}, true)
	if len(none) != 1 || none[0].Governed != "-" || none[0].Proposal != 0 {
		t.Fatalf("no governance: %+v", none)
	}
	var out bytes.Buffer
	if err := writeGovernance(&out, "table", append(governanceRows(coop, true), none...)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "fairride-lyon  True ChangesApplied  7") || !strings.Contains(out.String(), "2026-12-08T09:01:00Z") {
		t.Fatalf("table:\n%s", out.String())
	}
}
