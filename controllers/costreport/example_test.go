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
	"fmt"
	"math/big"
	"os"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/costreport/allocation"
)

// exampleUsage is the worked example's usage over November 2026 (720 hours): the
// average each co-op held times the month.
func exampleUsage() []coopv1.CooperativeUsage {
	const hours = 720
	u := func(name string, milliCPU, memBytes, storageBytes int64) coopv1.CooperativeUsage {
		s := big.NewInt(hours * 3600)
		mul := func(v int64) string { return new(big.Int).Mul(big.NewInt(v), s).String() }
		return coopv1.CooperativeUsage{Cooperative: name, CPUMillicoreSeconds: mul(milliCPU), MemoryByteSeconds: mul(memBytes), StorageByteSeconds: mul(storageBytes)}
	}
	return []coopv1.CooperativeUsage{
		u("fairride-lyon", 4000, 8<<30, 50<<30),
		u("care-collective", 1000, 2<<30, 10<<30),
		u("freshbasket-nantes", 250, 512<<20, 1<<30),
		u("tinyhome", 10, 64<<20, 0),
	}
}

// exampleTable renders the worked example as the README shows it.
func exampleTable(report *coopv1.CostReport) (string, error) {
	total, lines, err := Lines(&report.Spec, exampleUsage())
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("| co-op | CPU core-h | memory GiB-h | storage GiB-h | share % | amount (EUR) |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|\n")
	for _, l := range lines {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", l.Cooperative, l.CPUCoreHours, l.MemoryGiBHours, l.StorageGiBHours, l.SharePercent, l.Amount)
	}
	fmt.Fprintf(&b, "| **total** | | | | | **%s** |\n", allocation.FormatCents(total))
	return b.String(), nil
}

// TestWorkedExample checks that README.md's worked example is what the allocator computes
// from the sample CostReport, so the documentation cannot drift from the code.
func TestWorkedExample(t *testing.T) {
	raw, err := os.ReadFile("../../config/samples/coop_v1alpha1_costreport.yaml")
	if err != nil {
		t.Fatal(err)
	}
	report := &coopv1.CostReport{}
	if err := yaml.UnmarshalStrict(raw, report); err != nil {
		t.Fatalf("the sample does not decode: %v", err)
	}
	want, err := exampleTable(report)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- worked-example:begin -->\n", "<!-- worked-example:end -->"
	_, rest, ok := strings.Cut(string(readme), begin)
	got, _, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatalf("README.md has no worked-example markers")
	}
	if got != want {
		t.Errorf("README.md's worked example is out of date; it should read:\n%s", want)
	}
}

// TestLinesSharesAddUpTo100: three co-ops that used the same pay a third each; their
// percentages, each 33.33 when rounded alone, add up to 100.00.
func TestLinesSharesAddUpTo100(t *testing.T) {
	spec := &coopv1.CostReportSpec{Lines: []coopv1.BillLine{{Description: "servers", Amount: "3.00", Pool: coopv1.PoolCompute}}}
	var usage []coopv1.CooperativeUsage
	for _, name := range []string{"c", "a", "b"} {
		usage = append(usage, coopv1.CooperativeUsage{Cooperative: name, CPUMillicoreSeconds: "1000", MemoryByteSeconds: "0", StorageByteSeconds: "0"})
	}
	_, lines, err := Lines(spec, usage)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range lines {
		got = append(got, l.Cooperative+" "+l.Amount+" "+l.SharePercent)
	}
	want := []string{"a 1.00 33.34", "b 1.00 33.33", "c 1.00 33.33"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("lines %v, want %v", got, want)
	}
}
