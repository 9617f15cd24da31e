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
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

func report(mutate func(r *coopv1.CostReport)) *coopv1.CostReport {
	r := &coopv1.CostReport{
		TypeMeta:   metav1.TypeMeta{APIVersion: coopv1.GroupVersion.String(), Kind: "CostReport"},
		ObjectMeta: metav1.ObjectMeta{Name: "2026-11", Generation: 3},
		Spec: coopv1.CostReportSpec{
			Currency: "EUR",
			Lines:    []coopv1.BillLine{{Description: "servers", Amount: "100.00", Pool: coopv1.PoolCompute}},
		},
		Status: coopv1.CostReportStatus{Usage: []coopv1.CooperativeUsage{
			{Cooperative: "b", CPUMillicoreSeconds: "1000", MemoryByteSeconds: "0", StorageByteSeconds: "0"},
			{Cooperative: "a", CPUMillicoreSeconds: "3000", MemoryByteSeconds: "0", StorageByteSeconds: "0"},
		}},
	}
	if mutate != nil {
		mutate(r)
	}
	return r
}

func TestAFinalReportKeepsItsSplit(t *testing.T) {
	r := report(func(r *coopv1.CostReport) { r.Spec.Final = true })
	usage := r.Status.Usage
	r.Status = ComputeStatus(r)
	r.Status.Usage = usage // the metering's part, kept by the status write
	if r.Status.Phase != coopv1.CostReportFinal || len(r.Status.Lines) != 2 || r.Status.Lines[0].Amount != "75.00" {
		t.Fatalf("first split: %+v", r.Status)
	}
	// The usage edited after the month was settled (by hand, or a later write).
	r.Status.Usage[0].CPUMillicoreSeconds = "1"
	again := ComputeStatus(r)
	if again.Phase != coopv1.CostReportFinal || again.Total != "100.00" || !equality.Semantic.DeepEqual(again.Lines, r.Status.Lines) {
		t.Fatalf("a final report's split changed: %+v, was %+v", again.Lines, r.Status.Lines)
	}
	// Not final yet: the split follows the usage.
	open := report(nil)
	open.Status = ComputeStatus(open)
	open.Status.Usage = report(nil).Status.Usage
	open.Status.Usage[0].CPUMillicoreSeconds = "1"
	if s := ComputeStatus(open); s.Lines[0].Amount == "75.00" {
		t.Fatalf("an open report kept its old split: %+v", s.Lines)
	}
}

func TestComputeStatus(t *testing.T) {
	tests := []struct {
		name        string
		report      *coopv1.CostReport
		phase       coopv1.CostReportPhase
		reason      string
		ready       metav1.ConditionStatus
		amounts     []string
		kstatus     status.Status
		total       string
		sharesFirst string
	}{
		{"open, allocated", report(nil), coopv1.CostReportOpen, coopv1.ReasonAllocated, metav1.ConditionTrue, []string{"75.00", "25.00"}, status.CurrentStatus, "100.00", "75.00"},
		{"final", report(func(r *coopv1.CostReport) { r.Spec.Final = true }), coopv1.CostReportFinal, coopv1.ReasonAllocated, metav1.ConditionTrue, []string{"75.00", "25.00"}, status.CurrentStatus, "100.00", "75.00"},
		{"no bill yet", report(func(r *coopv1.CostReport) { r.Spec.Lines = nil }), coopv1.CostReportOpen, coopv1.ReasonNoBill, metav1.ConditionTrue, []string{"0.00", "0.00"}, status.CurrentStatus, "0.00", "0.00"},
		{"no usage", report(func(r *coopv1.CostReport) { r.Status.Usage = nil }), coopv1.CostReportOpen, coopv1.ReasonNoUsage, metav1.ConditionFalse, nil, status.InProgressStatus, "100.00", ""},
		{"a discount for a co-op that was not metered", report(func(r *coopv1.CostReport) {
			r.Spec.Policy.Adjustments = []coopv1.Adjustment{{Cooperative: "a", DiscountPercent: 0}, {Cooperative: "c", DiscountPercent: 50}}
		}), coopv1.CostReportOpen, coopv1.ReasonUnknownCooperative, metav1.ConditionFalse, []string{"75.00", "25.00"}, status.FailedStatus, "100.00", "75.00"},
		{"unreadable amount", report(func(r *coopv1.CostReport) { r.Spec.Lines[0].Amount = "1,00" }), coopv1.CostReportOpen, coopv1.ReasonInvalidPolicy, metav1.ConditionFalse, nil, status.FailedStatus, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ComputeStatus(tt.report)
			if s.Phase != tt.phase || s.ObservedGeneration != 3 || s.Total != tt.total {
				t.Errorf("phase %s, observedGeneration %d, total %q", s.Phase, s.ObservedGeneration, s.Total)
			}
			ready := meta.FindStatusCondition(s.Conditions, coopv1.ConditionReady)
			if ready == nil || ready.Status != tt.ready || ready.Reason != tt.reason || ready.ObservedGeneration != 3 {
				t.Errorf("Ready = %+v", ready)
			}
			var amounts []string
			for _, l := range s.Lines {
				amounts = append(amounts, l.Amount)
			}
			if len(amounts) != len(tt.amounts) {
				t.Fatalf("amounts %v, want %v", amounts, tt.amounts)
			}
			for i := range amounts {
				if amounts[i] != tt.amounts[i] {
					t.Errorf("amounts %v, want %v", amounts, tt.amounts)
				}
			}
			if len(s.Lines) > 0 && (s.Lines[0].Cooperative != "a" || s.Lines[0].SharePercent != map[string]string{"75.00": "75.00", "0.00": "0.00"}[tt.amounts[0]]) {
				t.Errorf("first line %+v", s.Lines[0])
			}
			// kstatus reads the result as Current, or Failed when only a spec change helps.
			r := tt.report.DeepCopy()
			r.Status = s
			r.Status.Usage = tt.report.Status.Usage // the metering's part, kept by the status write
			obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(r)
			if err != nil {
				t.Fatal(err)
			}
			res, err := status.Compute(&unstructured.Unstructured{Object: obj})
			if err != nil || res.Status != tt.kstatus {
				t.Errorf("kstatus = %v (%v), want %s", res, err, tt.kstatus)
			}
			// Computing again from the result changes nothing: a steady state writes nothing.
			if again := ComputeStatus(r); len(again.Conditions) != len(s.Conditions) || again.Conditions[0].LastTransitionTime != s.Conditions[0].LastTransitionTime {
				t.Errorf("a second computation changed the conditions")
			}
		})
	}
}

// TestABillThatDoesNotSplitHasNoLines: the lines split from the bill before an edit are
// not the split of the edited bill. A spec that does not split leaves the report no lines
// and no total at its generation, and Ready names the field.
func TestABillThatDoesNotSplitHasNoLines(t *testing.T) {
	r := report(func(r *coopv1.CostReport) { r.Generation = 2 })
	usage := r.Status.Usage
	r.Status = ComputeStatus(r)
	r.Status.Usage = usage // the metering's part, kept by the status write
	if len(r.Status.Lines) != 2 {
		t.Fatalf("first split: %+v", r.Status)
	}
	r.Generation = 3
	r.Spec.Lines[0].Amount = "99999999999999" // within the schema, beyond what the allocator adds up
	s := ComputeStatus(r)
	if s.ObservedGeneration == 3 && (len(s.Lines) > 0 || s.Total != "") {
		t.Errorf("generation 3, whose bill does not split, has the lines %+v and the total %q of generation 2", s.Lines, s.Total)
	}
	ready := meta.FindStatusCondition(s.Conditions, coopv1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != coopv1.ReasonInvalidPolicy || !strings.Contains(ready.Message, "spec.lines[0].amount") {
		t.Errorf("Ready = %+v: want False, InvalidPolicy, naming spec.lines[0].amount", ready)
	}
}
