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

package metering

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// TestTheEstimateIsOfTheBillAsWritten: a co-op's estimated amount is its line of the
// CostReport's split of the bill as it is now; while the hub's edit of the bill is not
// split yet, the lines are the old bill's (perhaps in another currency), and the estimate
// is none.
func TestTheEstimateIsOfTheBillAsWritten(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := coopv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		observed int64
		amount   string
		currency string
	}{
		{"split as written", 2, "40.00", "CHF"},
		{"the bill edited, not split yet", 1, "", ""},
	} {
		report := &coopv1.CostReport{
			ObjectMeta: metav1.ObjectMeta{Name: "2027-08", Generation: 2},
			Spec:       coopv1.CostReportSpec{Currency: "CHF"},
			Status: coopv1.CostReportStatus{ObservedGeneration: tc.observed, Total: "100.00",
				Lines: []coopv1.CostLine{{Cooperative: "a", Amount: "40.00"}, {Cooperative: "b", Amount: "60.00"}}},
		}
		c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(report).Build()
		amount, currency := (&reportLookup{c: c}).amount(t.Context(), "2027-08", "a")
		if amount != tc.amount || currency != tc.currency {
			t.Errorf("%s: %q %q, want %q %q", tc.name, amount, currency, tc.amount, tc.currency)
		}
	}
}
