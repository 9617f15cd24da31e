package policy

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const valid = `{"cooperative":"fairride-lyon","vertical":"ride-sharing",
 "feeSplit":{"platformFeeBasisPoints":300,"funds":[{"name":"hardship","basisPoints":100},{"name":"reserve","basisPoints":50}],"surgeToWorkersPercent":100},
 "governance":{"model":"multi-stakeholder","quorumPercent":50,"approvalPercent":66,
   "stakeholderClasses":[{"name":"drivers","weight":60},{"name":"riders","weight":20},{"name":"staff","weight":20}],
   "governedFields":["feeSplit","plan","federation"]}}`

func TestParse(t *testing.T) {
	p, err := Parse([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if p.FeeSplit.PlatformFeeBasisPoints != 300 || len(p.Governance.StakeholderClasses) != 3 || !p.HasClass("riders") {
		t.Fatalf("parsed %+v", p)
	}
	bad := map[string]string{
		"vertical":        `"vertical":"ride-sharing"|"vertical":"taxis"`,
		"fee over 10000":  `"platformFeeBasisPoints":300|"platformFeeBasisPoints":10001`,
		"funds over fee":  `"basisPoints":100|"basisPoints":290`,
		"surge over 100":  `"surgeToWorkersPercent":100|"surgeToWorkersPercent":101`,
		"model":           `"multi-stakeholder"|"oligarchy"`,
		"quorum 0":        `"quorumPercent":50|"quorumPercent":0`,
		"approval 101":    `"approvalPercent":66|"approvalPercent":101`,
		"fraction over 1": `"approvalPercent":66|"approvalPercent":66,"approvalFraction":"3/2"`,
		"fraction zero":   `"approvalPercent":66|"approvalPercent":66,"approvalFraction":"0/3"`,
		"fraction 100":    `"approvalPercent":66|"approvalPercent":66,"approvalFraction":"1/100"`,
		"fraction form":   `"approvalPercent":66|"approvalPercent":66,"approvalFraction":"0.67"`,
		"weights not 100": `"weight":60|"weight":61`,
		"not json":        `{"cooperative"|{cooperative`,
		"repeated fund":   `"reserve"|"hardship"`,
		"negative fund":   `"basisPoints":50|"basisPoints":-50`,
		"classes on 1m1v": `"model":"multi-stakeholder"|"model":"one-member-one-vote"`,
		"float fee":       `"platformFeeBasisPoints":300|"platformFeeBasisPoints":300.5`,
		"repeated class":  `"riders"|"drivers"`,
		"no region zone":  `"vertical"|"timeZone":"Mars/Olympus_Mons","vertical"`,
		"legacy zone":     `"vertical"|"timeZone":"CET","vertical"`,
		"local zone":      `"vertical"|"timeZone":"Local","vertical"`,
		"path zone":       `"vertical"|"timeZone":"../zoneinfo/UTC","vertical"`,
	}
	for name, edit := range bad {
		from, to, _ := strings.Cut(edit, "|")
		doc := strings.Replace(valid, from, to, 1)
		if doc == valid {
			t.Fatalf("%s: edit did not apply", name)
		}
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	noClasses := `{"cooperative":"c","vertical":"care","feeSplit":{"platformFeeBasisPoints":0,"surgeToWorkersPercent":0},
		"governance":{"model":"multi-stakeholder","quorumPercent":1,"approvalPercent":1}}`
	if _, err := Parse([]byte(noClasses)); err == nil {
		t.Error("multi-stakeholder without classes accepted")
	}
}

// TestParseIgnoresAPartOfANewerOperator: a part of the document this version does not
// know (at its top level) is ignored and named (the platform logs it), and the rest holds;
// a field it does not know within a part it knows (the money's split, the votes' rules) is
// refused, the previous policy kept, as the part's rules would not be the operator's.
func TestParseIgnoresAPartOfANewerOperator(t *testing.T) {
	p, err := Parse([]byte(strings.Replace(valid, `"vertical"`, `"notifications":{"email":true},"verticals":"x","vertical"`, 1)))
	if err != nil || p.FeeSplit.PlatformFeeBasisPoints != 300 || p.Ignored != "notifications,verticals" {
		t.Errorf("unknown parts: %+v, %v", p, err)
	}
	if p, err := Parse([]byte(valid)); err != nil || p.Ignored != "" {
		t.Errorf("a document of this version: ignored %q, %v", p.Ignored, err)
	}
	for name, edit := range map[string]string{"within governance": `"quorumPercent"|"quorumFraction":"1/2","quorumPercent"`,
		"within the fee split": `"platformFeeBasisPoints"|"cap":5,"platformFeeBasisPoints"`} {
		from, to, _ := strings.Cut(edit, "|")
		if _, err := Parse([]byte(strings.Replace(valid, from, to, 1))); err == nil {
			t.Errorf("an unknown field %s was taken", name)
		}
	}
	if _, err := Parse([]byte(strings.Replace(valid, `"vertical":"ride-sharing"`, `"verticals":"x","vertical":"taxis"`, 1))); err == nil {
		t.Error("a known field breaking its rule was taken beside an unknown part")
	}
}

// TestTimeZone: the document's zone is the co-op's; none is UTC, as the CRD says.
func TestTimeZone(t *testing.T) {
	p, err := Parse([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if p.Location() != time.UTC {
		t.Errorf("no zone: %v, want UTC", p.Location())
	}
	p, err = Parse([]byte(strings.Replace(valid, `"vertical"`, `"timeZone":"Europe/Paris","vertical"`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	// A zone of the right form this binary does not know: the document stands, on UTC.
	unknown, err := Parse([]byte(strings.Replace(valid, `"vertical"`, `"timeZone":"Europe/Atlantis","vertical"`, 1)))
	if err != nil || unknown.Location() != time.UTC || unknown.FeeSplit.PlatformFeeBasisPoints != 300 {
		t.Fatalf("an unknown zone: %+v, %v", unknown, err)
	}
	// Summer and winter in Paris.
	summer, winter := time.Date(2026, 7, 1, 12, 0, 0, 0, p.Location()), time.Date(2026, 12, 1, 12, 0, 0, 0, p.Location())
	if _, off := summer.Zone(); off != 2*3600 {
		t.Errorf("Paris in July: offset %d s, want 7200", off)
	}
	if _, off := winter.Zone(); off != 3600 {
		t.Errorf("Paris in December: offset %d s, want 3600", off)
	}
}

// TestReloadKeepsPrevious swaps the file like Kubernetes does (a symlink to a new
// directory) and checks a valid change applies and an invalid one is refused.
func TestReloadKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "policy.json"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(name, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	write("v1", valid)
	if err := os.Symlink("..data/policy.json", filepath.Join(dir, "policy.json")); err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	s := NewSource(filepath.Join(dir, "policy.json"), slog.New(slog.NewTextHandler(&logged, nil)))
	if s.Current() != nil {
		t.Fatal("policy before load")
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	write("v2", strings.Replace(valid, `"platformFeeBasisPoints":300`, `"platformFeeBasisPoints":500`, 1))
	if err := s.Reload(); err != nil || s.Current().FeeSplit.PlatformFeeBasisPoints != 500 {
		t.Fatalf("reload: %v, fee %d", err, s.Current().FeeSplit.PlatformFeeBasisPoints)
	}
	// A zone this binary does not know: the rest applies, on UTC, and the log says so.
	write("v2b", strings.NewReplacer(`"vertical"`, `"timeZone":"Europe/Atlantis","vertical"`, `"platformFeeBasisPoints":300`, `"platformFeeBasisPoints":500`).Replace(valid))
	if err := s.Reload(); err != nil || s.Current().TimeZone != "Europe/Atlantis" || s.Current().Location() != time.UTC {
		t.Fatalf("reload with an unknown zone: %v, %+v", err, s.Current())
	}
	if !strings.Contains(logged.String(), `level=ERROR msg="the co-op's time zone is not in this binary's time zone database`) || !strings.Contains(logged.String(), "timeZone=Europe/Atlantis") {
		t.Fatalf("an unknown zone is not logged: %s", logged.String())
	}
	write("v3", `{"broken":`)
	if err := s.Reload(); err == nil {
		t.Fatal("invalid policy applied")
	}
	if s.Current().FeeSplit.PlatformFeeBasisPoints != 500 {
		t.Fatal("previous policy lost")
	}
}

// TestReloadReadsTheValuesInForceBesideTheDocument: the values in force of the governed
// parts come in their own file beside the document (MarshalFiles), and a change of that
// file alone is applied; one that names another part is refused, the previous kept.
func TestReloadReadsTheValuesInForceBesideTheDocument(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(Key, valid) // which governs plan
	s := NewSource(filepath.Join(dir, Key), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := s.Reload(); err != nil || s.Current().Current != nil {
		t.Fatalf("without the file of values in force: %v, %+v", err, s.Current())
	}
	write(CurrentKey, `{"plan":"small"}`)
	if err := s.Reload(); err != nil || string(s.Current().ValueInForce("plan")) != `"small"` {
		t.Fatalf("with it: %v, %+v", err, s.Current())
	}
	write(CurrentKey, `{"plan":"medium"}`)
	if err := s.Reload(); err != nil || string(s.Current().ValueInForce("plan")) != `"medium"` {
		t.Fatalf("with it changed alone: %v, %+v", err, s.Current())
	}
	write(CurrentKey, `{"feeSplit":{"platformFeeBasisPoints":0}}`)
	if err := s.Reload(); err == nil || string(s.Current().ValueInForce("plan")) != `"medium"` {
		t.Fatalf("a part the document has its own copy of: %v, %+v", err, s.Current())
	}
}

// TestReloadReadsBothFilesFromOneVersion: the document and the values in force are read
// from the directory of one version of the ConfigMap (where the document's symlink leads),
// never a document of one version with the values of another: here a file of values
// beside the symlink, which no version holds, is not read.
func TestReloadReadsBothFilesFromOneVersion(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "v1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "v1", Key), []byte(valid), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("v1", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..data", Key), filepath.Join(dir, Key)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, CurrentKey), []byte(`{"plan":"medium"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	s := NewSource(filepath.Join(dir, Key), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := s.Reload(); err != nil || s.Current().Current != nil {
		t.Fatalf("values from outside the version read: %v, %+v", err, s.Current())
	}
}

// TestPaymentsStaffLimit: payments.staffLimitCents is optional (0: staff record no
// payments) and bounded like a payment's amount.
func TestPaymentsStaffLimit(t *testing.T) {
	with := func(limit string) string {
		return strings.TrimSuffix(strings.TrimSpace(valid), "}") + `,"payments":{"staffLimitCents":` + limit + `}}`
	}
	if p, err := Parse([]byte(valid)); err != nil || p.Payments.StaffLimitCents != 0 {
		t.Fatalf("without payments: %+v %v", p, err)
	}
	if p, err := Parse([]byte(with("50000"))); err != nil || p.Payments.StaffLimitCents != 50000 {
		t.Fatalf("with a limit: %+v %v", p, err)
	}
	for _, bad := range []string{"-1", "1000000000001", "12.5", `"100"`} {
		if _, err := Parse([]byte(with(bad))); err == nil {
			t.Errorf("staffLimitCents %s accepted", bad)
		}
	}
}

// TestPaymentsStaffDisbursementLimit: payments.staffDisbursementLimitCents is optional
// (0: every disbursement needs a vote), bounded like an amount, and named when wrong.
func TestPaymentsStaffDisbursementLimit(t *testing.T) {
	with := func(limit string) string {
		return strings.TrimSuffix(strings.TrimSpace(valid), "}") + `,"payments":{"staffDisbursementLimitCents":` + limit + `}}`
	}
	if p, err := Parse([]byte(valid)); err != nil || p.Payments.StaffDisbursementLimitCents != 0 {
		t.Fatalf("without payments: %+v %v", p, err)
	}
	if p, err := Parse([]byte(with("20000"))); err != nil || p.Payments.StaffDisbursementLimitCents != 20000 || p.Payments.StaffLimitCents != 0 {
		t.Fatalf("with a limit: %+v %v", p, err)
	}
	for _, bad := range []string{"-1", "1000000000001", "12.5", `"100"`} {
		if _, err := Parse([]byte(with(bad))); err == nil {
			t.Errorf("staffDisbursementLimitCents %s accepted", bad)
		}
	}
	if _, err := Parse([]byte(with("-1"))); err == nil || !strings.Contains(err.Error(), "payments.staffDisbursementLimitCents") {
		t.Errorf("the error does not name the field: %v", err)
	}
}
