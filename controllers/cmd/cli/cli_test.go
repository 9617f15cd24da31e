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
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/costreport"
	"github.com/cooperator-dev/cooperator/controllers/costreport/allocation"
	"github.com/cooperator-dev/cooperator/test/harness"
)

var (
	k8sClient  client.Client
	env        *harness.Env
	kubeconfig string
	tmpDir     string
)

func TestMain(m *testing.M) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		println("KUBEBUILDER_ASSETS is not set: run with KUBEBUILDER_ASSETS=$(hack/envtest.sh)")
		os.Exit(1)
	}
	var err error
	if tmpDir, err = os.MkdirTemp("", "cooperator-cli-"); err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	env, err = harness.Start(ctx, harness.Options{ProjectCRDs: true, Scheme: scheme()})
	cancel()
	if err != nil {
		println("starting envtest:", err.Error())
		os.Exit(1)
	}
	k8sClient = env.Client
	// A kubeconfig for the envtest API server, as a user would have one.
	kubeconfig = filepath.Join(tmpDir, "kubeconfig")
	if err := harness.WriteKubeconfig(kubeconfig, env.Cfg); err != nil {
		panic(err)
	}
	code := m.Run()
	_ = env.Stop()
	_ = os.RemoveAll(tmpDir)
	os.Exit(code)
}

// result is what one run of the command line gave.
type result struct {
	out, errs string
	code      int
}

// fixedNow is the clock of the command line in tests.
var fixedNow = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// cli runs the command line as a user would, with a kubeconfig unless the arguments
// name one.
func cli(t *testing.T, args ...string) result {
	t.Helper()
	return cliAs(t, "cooperator", args...)
}

func cliAs(t *testing.T, invoked string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return cliWith(ctx, t, invoked, args...)
}

// cliWith runs the command line under ctx, which a test may cancel as Ctrl-C does.
func cliWith(ctx context.Context, t *testing.T, invoked string, args ...string) result {
	t.Helper()
	var out, errs bytes.Buffer
	root := NewRootCommand(Options{Version: "v1.2.3", Out: &out, ErrOut: &errs, Invoked: invoked, Now: func() time.Time { return fixedNow }, PollInterval: 50 * time.Millisecond})
	// The root's own flags (--help, --version) take no subcommand's flags after them.
	if !slices.Contains(args, "--kubeconfig") && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		args = append(args, "--kubeconfig", kubeconfig)
	}
	code := Execute(ctx, root, args)
	return result{out: out.String(), errs: errs.String(), code: code}
}

// ok runs the command line and fails the test unless it exits 0.
func ok(t *testing.T, args ...string) string {
	t.Helper()
	r := cli(t, args...)
	if r.code != 0 {
		t.Fatalf("cooperator %v: exit %d\n%s%s", args, r.code, r.out, r.errs)
	}
	return r.out
}

// createReport creates a report whose status is what the controller computes from its
// spec and recorded usage.
func createReport(t *testing.T) *coopv1.CostReport {
	t.Helper()
	return createReportFor(t, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), func(*coopv1.CostPolicy) {})
}

// createReportFor creates the report of the month that starts at start, with a policy
// changed by policy.
func createReportFor(t *testing.T, start time.Time, policy func(*coopv1.CostPolicy)) *coopv1.CostReport {
	t.Helper()
	ctx := context.Background()
	r := &coopv1.CostReport{
		ObjectMeta: metav1.ObjectMeta{Name: start.Format("2006-01")},
		Spec: coopv1.CostReportSpec{
			Period:   coopv1.Period{Start: metav1.NewTime(start), End: metav1.NewTime(start.AddDate(0, 1, 0))},
			Currency: "EUR",
			Lines: []coopv1.BillLine{
				{Description: "3 servers, \"dedicated\"", Amount: "412.50", Pool: coopv1.PoolCompute},
				{Description: "block storage", Amount: "38.00", Pool: coopv1.PoolStorage},
				{Description: "admin time", Amount: "150.00", Pool: coopv1.PoolShared},
			},
			Policy: coopv1.CostPolicy{Shared: coopv1.SharedProportional, ComputeWeights: coopv1.ComputeWeights{CPUCore: "1", MemoryGiB: "0.125"}},
		},
	}
	policy(&r.Spec.Policy)
	if err := k8sClient.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Status.Usage = []coopv1.CooperativeUsage{
		{Cooperative: "care-collective", CPUMillicoreSeconds: "648000000", MemoryByteSeconds: "1391569403904000", StorageByteSeconds: "2783138807808000"},
		{Cooperative: "fairride-lyon", CPUMillicoreSeconds: "2592000000", MemoryByteSeconds: "5566277615616000", StorageByteSeconds: "27831388078080000"},
	}
	r.Status = costreport.ComputeStatus(r)
	r.Status.Usage = []coopv1.CooperativeUsage{
		{Cooperative: "care-collective", CPUMillicoreSeconds: "648000000", MemoryByteSeconds: "1391569403904000", StorageByteSeconds: "2783138807808000"},
		{Cooperative: "fairride-lyon", CPUMillicoreSeconds: "2592000000", MemoryByteSeconds: "5566277615616000", StorageByteSeconds: "27831388078080000"},
	}
	if err := k8sClient.Status().Update(ctx, r); err != nil {
		t.Fatal(err)
	}
	if len(r.Status.Lines) != 2 {
		t.Fatalf("lines: %+v", r.Status.Lines)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, r) })
	return r
}

// TestCostsFormatsAgree runs the costs command against the API server in its formats
// and checks each against the report's status.
func TestCostsFormatsAgree(t *testing.T) {
	r := createReport(t)

	var js []CostsJSON
	if err := json.Unmarshal([]byte(ok(t, "costs", "2026-11", "-o", "json")), &js); err != nil {
		t.Fatal(err)
	}
	if len(js) != 1 || js[0].Period != "2026-11" || js[0].Currency != "EUR" || js[0].Total != r.Status.Total || js[0].Phase != "Open" {
		t.Fatalf("json: %+v", js)
	}
	if !reflect.DeepEqual(js[0].Lines, r.Status.Lines) {
		t.Errorf("json lines = %+v, status %+v", js[0].Lines, r.Status.Lines)
	}

	rows, err := csv.NewReader(strings.NewReader(ok(t, "costs", "-o", "csv", "2026-11"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "period,currency,phase,cooperative,cpu_core_hours,memory_gib_hours,storage_gib_hours,share_percent,compute_amount,storage_amount,shared_amount,discount_adjustment,floor_adjustment,rounding_adjustment,amount" {
		t.Errorf("csv header: %v", rows[0])
	}
	if len(rows) != 1+len(r.Status.Lines) {
		t.Fatalf("csv has %d rows", len(rows))
	}
	for i, l := range r.Status.Lines {
		want := []string{"2026-11", "EUR", "Open", l.Cooperative, l.CPUCoreHours, l.MemoryGiBHours, l.StorageGiBHours, l.SharePercent,
			l.ComputeAmount, l.StorageAmount, l.SharedAmount, l.DiscountAdjustment, l.FloorAdjustment, l.RoundingAdjustment, l.Amount}
		if strings.Join(rows[i+1], "|") != strings.Join(want, "|") {
			t.Errorf("csv row %d = %v, want %v", i, rows[i+1], want)
		}
		for _, n := range rows[i+1][4:] {
			if _, err := resource.ParseQuantity(n); err != nil || strings.ContainsAny(n, ",€$ ") {
				t.Errorf("csv number %q is not a plain dot-decimal", n)
			}
		}
	}

	table := ok(t, "costs", "2026-11")
	for _, l := range r.Status.Lines {
		found := false
		for _, line := range strings.Split(table, "\n") {
			f := strings.Fields(line)
			if len(f) == 7 && f[1] == l.Cooperative {
				found = true
				if strings.Join(f[2:], " ") != strings.Join([]string{l.CPUCoreHours, l.MemoryGiBHours, l.StorageGiBHours, l.SharePercent, l.Amount}, " ") {
					t.Errorf("table row %q, status %+v", line, l)
				}
			}
		}
		if !found {
			t.Errorf("table has no row for %s:\n%s", l.Cooperative, table)
		}
	}
	if !strings.Contains(table, "TOTAL") || !strings.Contains(table, r.Status.Total) {
		t.Errorf("table has no total:\n%s", table)
	}
}

// cents reads a CSV amount.
func cents(t *testing.T, s string) int64 {
	t.Helper()
	neg := strings.HasPrefix(s, "-")
	c, err := allocation.ParseCents(strings.TrimPrefix(s, "-"))
	if err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	if neg {
		return -c
	}
	return c
}

// TestTreasurerCSV: several periods, with discounts and a floor; the parts of each line
// add up to its amount and the amounts of a period to its bill; one co-op's statement.
func TestTreasurerCSV(t *testing.T) {
	sep := createReportFor(t, time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), func(p *coopv1.CostPolicy) {
		p.Adjustments = []coopv1.Adjustment{{Cooperative: "care-collective", DiscountPercent: 50}}
	})
	oct := createReportFor(t, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), func(p *coopv1.CostPolicy) { p.MinimumAmount = "250.00" })
	if sep.Status.Lines[0].DiscountAdjustment == "0.00" || oct.Status.Lines[0].FloorAdjustment == "0.00" {
		t.Fatalf("the reports do not exercise discounts and floors: %+v %+v", sep.Status.Lines, oct.Status.Lines)
	}
	r := cli(t, "costs", "--from", "2026-08", "--to", "2026-10", "-o", "csv")
	if r.code != 0 || !strings.Contains(r.errs, "No CostReport for 2026-08: skipped") {
		t.Fatalf("exit %d %s", r.code, r.errs)
	}
	records, err := csv.NewReader(strings.NewReader(r.out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range records[0] {
		col[h] = i
	}
	byPeriod := map[string]int64{}
	for _, rec := range records[1:] {
		var parts int64
		for _, c := range []string{"compute_amount", "storage_amount", "shared_amount", "discount_adjustment", "floor_adjustment", "rounding_adjustment"} {
			parts += cents(t, rec[col[c]])
		}
		if amount := cents(t, rec[col["amount"]]); parts != amount {
			t.Errorf("%s %s: parts add up to %d cents, amount %d", rec[col["period"]], rec[col["cooperative"]], parts, amount)
		}
		byPeriod[rec[col["period"]]] += cents(t, rec[col["amount"]])
	}
	for _, rep := range []*coopv1.CostReport{sep, oct} {
		if got, want := byPeriod[rep.Name], cents(t, rep.Status.Total); got != want {
			t.Errorf("%s: amounts add up to %d cents, the bill to %d", rep.Name, got, want)
		}
	}
	if len(byPeriod) != 2 {
		t.Errorf("periods: %v", byPeriod)
	}

	statement, err := csv.NewReader(strings.NewReader(ok(t, "costs", "--from", "2026-09", "--to", "2026-10", "--cooperative", "care-collective", "-o", "csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(statement) != 3 || statement[1][col["cooperative"]] != "care-collective" || statement[2][col["cooperative"]] != "care-collective" ||
		statement[1][col["discount_adjustment"]] != sep.Status.Lines[0].DiscountAdjustment {
		t.Errorf("statement: %v", statement)
	}
	table := ok(t, "costs", "--from", "2026-09", "--to", "2026-10", "--cooperative", "care-collective")
	want := cents(t, sep.Status.Lines[0].Amount) + cents(t, oct.Status.Lines[0].Amount)
	if !strings.Contains(table, "TOTAL care-collective") || !strings.Contains(table, allocation.FormatCents(want)) {
		t.Errorf("statement table:\n%s", table)
	}
}

func TestCostsRefusesBadArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-o", "xml"}, `unknown output format "xml": use table, wide, csv, json, yaml`},
		{[]string{"november"}, `period "november" is not YYYY-MM`},
		{[]string{"2026-11", "2026-12"}, "accepts at most 1 arg(s), received 2"},
		{[]string{"--from", "2026-11", "--to", "2026-01"}, "--to 2026-01 is before --from 2026-11"},
		{[]string{"--to", "2026-11"}, "--to needs --from"},
		{[]string{"2026-11", "--from", "2026-01"}, "give a PERIOD or --from/--to, not both"},
	} {
		r := cli(t, append([]string{"costs"}, tc.args...)...)
		if r.code != ExitUsage || !strings.Contains(r.errs, tc.want) {
			t.Errorf("costs %v: exit %d, %q; want exit %d and an error saying %q", tc.args, r.code, r.errs, ExitUsage, tc.want)
		}
	}
}

// TestUsageFormatsAgree writes a Cooperative's usage status and reads it back through the
// usage command.
func TestUsageFormatsAgree(t *testing.T) {
	ctx := context.Background()
	coop := &coopv1.Cooperative{
		ObjectMeta: metav1.ObjectMeta{Name: "fairride-lyon"},
		Spec: coopv1.CooperativeSpec{
			Vertical: coopv1.VerticalRideSharing, Plan: "small",
			FeeSplit:   coopv1.FeeSplit{PlatformFeeBasisPoints: 300},
			Governance: coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote},
		},
	}
	if err := k8sClient.Create(ctx, coop); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, coop) })
	coop.Status.Usage = &coopv1.UsageStatus{
		LastSampleTime: metav1.NewTime(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)),
		CurrentPeriod:  "2026-11", EstimatedAmount: "112.22", Currency: "EUR",
		Periods: []coopv1.PeriodUsage{
			{Period: "2026-11", CPUMillicoreSeconds: "1728000000", MemoryByteSeconds: "0", StorageByteSeconds: "0", CPUCoreHours: "480.00", MemoryGiBHours: "0.00", StorageGiBHours: "0.00", MeteredSeconds: 1728000, EstimatedSeconds: 600},
			{Period: "2026-10", CPUMillicoreSeconds: "2678400000", MemoryByteSeconds: "0", StorageByteSeconds: "0", CPUCoreHours: "744.00", MemoryGiBHours: "0.00", StorageGiBHours: "0.00", MeteredSeconds: 2678400},
		},
	}
	if err := k8sClient.Status().Update(ctx, coop); err != nil {
		t.Fatal(err)
	}

	var rows []UsageRow
	if err := json.Unmarshal([]byte(ok(t, "usage", "fairride-lyon", "-o", "json")), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Period != "2026-11" || rows[0].CPUCoreHours != "480.00" || rows[0].EstimatedAmount != "112.22" || rows[0].EstimatedSeconds != 600 || rows[1].CPUCoreHours != "744.00" || rows[1].EstimatedAmount != "" {
		t.Errorf("json rows: %+v", rows)
	}
	records, err := csv.NewReader(strings.NewReader(ok(t, "usage", "-o", "csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 2 || strings.Join(records[1], ",") != "fairride-lyon,2026-11,480.00,0.00,0.00,1728000,600,112.22,EUR" {
		t.Errorf("csv: %v", records)
	}
	table := ok(t, "usage", "fairride-lyon")
	if !strings.Contains(table, "480.00") || !strings.Contains(table, "744.00") || !strings.Contains(table, "112.22  EUR") {
		t.Errorf("table:\n%s", table)
	}
}
