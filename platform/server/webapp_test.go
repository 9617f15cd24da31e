package server

import (
	"os"
	"path/filepath"
	"testing"
)

// The operator's status document is read from status.json next to the mounted policy
// (the coop-policy ConfigMap's other key) unless the configuration names another file.
func TestStatusFileBesideThePolicy(t *testing.T) {
	dir := t.TempDir()
	pf := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(pf, []byte(ridePolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{DatabaseURL: "postgresql://nobody@127.0.0.1:1/none", PolicyFile: pf, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.cfg.StatusFile != filepath.Join(dir, "status.json") {
		t.Fatalf("status file %q", s.cfg.StatusFile)
	}
	b := webBackend{s}
	if b.Status() != nil {
		t.Fatal("a status without a file")
	}
	if err := os.WriteFile(s.cfg.StatusFile, []byte(`{"hosting":[{"period":"2026-11","amountCents":4125,"currency":"EUR","final":true}],"updatedAt":"2026-12-01T00:00:00Z"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if st := b.Status(); st == nil || st.Hosting[0].AmountCents != 4125 {
		t.Fatalf("status %+v", st)
	}
}
