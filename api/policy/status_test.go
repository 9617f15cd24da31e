package policy

import (
	"strings"
	"testing"
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
