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

package costreport

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

func TestRecordAmountsDropsCoopsThatLeft(t *testing.T) {
	costAmount.Reset()
	recordAmounts("2026-11", "EUR", []coopv1.CostLine{{Cooperative: "a", Amount: "10.50"}, {Cooperative: "b", Amount: "2.00"}})
	recordAmounts("2026-10", "EUR", []coopv1.CostLine{{Cooperative: "b", Amount: "1.00"}})
	if got := testutil.CollectAndCount(costAmount); got != 3 {
		t.Fatalf("%d series, want 3", got)
	}
	// b left in November: the next computation of November has a's line alone.
	recordAmounts("2026-11", "EUR", []coopv1.CostLine{{Cooperative: "a", Amount: "11.00"}})
	if got := testutil.CollectAndCount(costAmount); got != 2 {
		t.Errorf("%d series, want 2: a in November, b in October", got)
	}
	if got := testutil.ToFloat64(costAmount.WithLabelValues("a", "2026-11", "EUR")); got != 11 {
		t.Errorf("a's November amount = %v", got)
	}
	if got := testutil.ToFloat64(costAmount.WithLabelValues("b", "2026-10", "EUR")); got != 1 {
		t.Errorf("October keeps b: %v", got)
	}
}
