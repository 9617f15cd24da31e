package policy

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

func TestParseStatus(t *testing.T) {
	s, err := ParseStatus([]byte(`{"hosting":[{"period":"2026-11","amountCents":4125,"currency":"EUR","final":true}],
		"reliability":{"platformReady":true,"databaseReady":true,"lastBackup":"2026-12-01T02:00:00Z"},"updatedAt":"2026-12-01T09:00:00Z"}`))
	if err != nil || len(s.Hosting) != 1 || s.Hosting[0].AmountCents != 4125 || !s.Reliability.PlatformReady {
		t.Fatalf("%+v, %v", s, err)
	}
	for doc, want := range map[string]string{
		`{"hosting":[{"period":"2026-13","amountCents":1,"currency":"EUR"}]}`:  "hosting[0].period",
		`{"hosting":[{"period":"2026-11","amountCents":1,"currency":"euro"}]}`: "hosting[0].currency",
		`{"hosting":[{"period":"2026-11","amountCents":-1,"currency":"EUR"}]}`: "hosting[0].amountCents",
		`{"unknown":1}`: "unknown field",
	} {
		if _, err := ParseStatus([]byte(doc)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error naming %s", doc, err, want)
		}
	}
}

func TestStatusFor(t *testing.T) {
	at := func(s string) metav1.Time {
		tm, _ := time.Parse(time.RFC3339, s)
		return metav1.NewTime(tm)
	}
	report := func(month string, phase coopv1.CostReportPhase, lines ...coopv1.CostLine) coopv1.CostReport {
		start, _ := time.Parse("2006-01", month)
		return coopv1.CostReport{ObjectMeta: metav1.ObjectMeta{Name: month},
			Spec:   coopv1.CostReportSpec{Period: coopv1.Period{Start: metav1.NewTime(start), End: metav1.NewTime(start.AddDate(0, 1, 0))}, Currency: "EUR"},
			Status: coopv1.CostReportStatus{Phase: phase, Lines: lines, Conditions: []metav1.Condition{{Type: "Ready", LastTransitionTime: at("2026-12-01T01:00:00Z")}}}}
	}
	coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "fairride-lyon"}}
	coop.Status.Conditions = []metav1.Condition{
		{Type: coopv1.ConditionPlatformReady, Status: metav1.ConditionTrue, LastTransitionTime: at("2026-11-20T10:00:00Z")},
		{Type: coopv1.ConditionDatabaseReady, Status: metav1.ConditionFalse, LastTransitionTime: at("2026-12-01T03:00:00Z")},
	}
	backup := at("2026-12-01T02:00:00Z")
	coop.Status.LastBackup = &coopv1.BackupRecord{Name: "b", Time: &backup}
	reports := []coopv1.CostReport{
		report("2026-10", coopv1.CostReportFinal, coopv1.CostLine{Cooperative: "fairride-lyon", Amount: "39.8"}, coopv1.CostLine{Cooperative: "other", Amount: "1.00"}),
		report("2026-11", coopv1.CostReportOpen, coopv1.CostLine{Cooperative: "fairride-lyon", Amount: "41.25"}),
		report("2026-09", coopv1.CostReportFinal, coopv1.CostLine{Cooperative: "other", Amount: "5"}),
	}
	s, err := StatusFor(coop, reports)
	if err != nil {
		t.Fatal(err)
	}
	want := []HostingLine{{"2026-11", 4125, "EUR", false}, {"2026-10", 3980, "EUR", true}}
	if len(s.Hosting) != 2 || s.Hosting[0] != want[0] || s.Hosting[1] != want[1] {
		t.Fatalf("hosting %+v, want %+v", s.Hosting, want)
	}
	if !s.Reliability.PlatformReady || s.Reliability.DatabaseReady || !s.Reliability.LastBackup.Equal(backup.Time) {
		t.Fatalf("reliability %+v", s.Reliability)
	}
	if !s.UpdatedAt.Equal(at("2026-12-01T03:00:00Z").Time) {
		t.Fatalf("updatedAt %v", s.UpdatedAt)
	}
	// What it writes, the platform reads.
	b, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if back, err := ParseStatus(b); err != nil || back.Hosting[0] != want[0] {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	// The same inputs give the same document (no write in a steady state).
	again, _ := StatusFor(coop, reports)
	if b2, _ := again.Marshal(); string(b2) != string(b) {
		t.Fatal("the document is not deterministic")
	}
	for _, bad := range []string{"1.234", "-1", "x"} {
		if _, err := StatusFor(coop, []coopv1.CostReport{report("2026-11", coopv1.CostReportOpen, coopv1.CostLine{Cooperative: "fairride-lyon", Amount: bad})}); err == nil {
			t.Errorf("amount %q accepted", bad)
		}
	}
}
