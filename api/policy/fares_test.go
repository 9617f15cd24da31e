package policy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestFaresInPolicy: a policy may carry a fare rule; a bad one is refused naming the
// field; ParseChange validates a proposed new rule the same way.
func TestFaresInPolicy(t *testing.T) {
	with := func(fares string) string {
		return strings.TrimSuffix(strings.TrimSpace(valid), "}") + `,"fares":` + fares + `}`
	}
	p, err := Parse([]byte(with(`{"baseCents":250,"perKmCents":120,"minimumCents":700,"surge":[{"days":["fri","sat"],"from":"22:00","to":"23:59","percent":50}]}`)))
	if err != nil || p.Fares == nil || p.Fares.PerKmCents != 120 || len(p.Fares.Surge) != 1 {
		t.Fatalf("%+v %v", p, err)
	}
	for _, c := range []struct{ fares, field string }{
		{`{"baseCents":-1}`, "fares.baseCents"},
		{`{"baseCents":1,"perKmCents":10000001}`, "fares.perKmCents"},
		{`{"baseCents":1,"floorCents":-5}`, "fares.floorCents"},
		{`{"baseCents":1,"surge":[{"from":"9:00","to":"10:00","percent":10}]}`, "fares.surge[0].from"},
		{`{"baseCents":1,"surge":[{"from":"10:00","to":"09:00","percent":10}]}`, "fares.surge[0].to"},
		{`{"baseCents":1,"surge":[{"from":"09:00","to":"10:00","percent":301}]}`, "fares.surge[0].percent"},
		{`{"baseCents":1,"surge":[{"days":["sunday"],"from":"09:00","to":"10:00","percent":10}]}`, "fares.surge[0].days[0]"},
		{`{"baseCents":1,"surge":[{"from":"09:00","to":"24:01","percent":10}]}`, "fares.surge[0].to"},
		{`{"baseCents":1,"surge":[{"from":"24:00","to":"24:00","percent":10}]}`, "fares.surge[0].from"},
		{`{"baseCents":1,"timeRates":[{"name":"night","from":"22:00","to":"25:00"}]}`, "fares.timeRates[0].to"},
	} {
		_, err := Parse([]byte(with(c.fares)))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%s: %v, want an error naming %s", c.fares, err, c.field)
		}
		if _, err := ParseChange(PartFares, json.RawMessage(c.fares)); !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("change %s: %v, want an error naming %s", c.fares, err, c.field)
		}
	}
	if _, err := ParseChange(PartFares, json.RawMessage(`{"baseCents":1,"tip":2}`)); err == nil {
		t.Error("an unknown field of a fare rule was accepted")
	}
	out, err := ParseChange(PartFares, json.RawMessage(`{"baseCents":300,"perKmCents":100}`))
	if err != nil || string(out) != `{"baseCents":300,"perKmCents":100}` {
		t.Fatalf("change: %s %v", out, err)
	}
}

func TestSurgePercent(t *testing.T) {
	f := Fares{Surge: []SurgeWindow{
		{Days: []string{"fri", "sat"}, From: "22:00", To: "23:59", Percent: 50},
		{From: "07:30", To: "09:00", Percent: 20},
		{Days: []string{"mon"}, From: "08:00", To: "08:30", Percent: 40},
		{Days: []string{"sun"}, From: "23:00", To: "24:00", Percent: 30},
	}}
	for _, c := range []struct {
		at   string
		want int64
	}{
		{"2026-12-04T22:30:00Z", 50}, // a Friday night
		{"2026-12-03T22:30:00Z", 0},  // a Thursday night
		{"2026-12-04T21:59:59Z", 0},  // before the window
		{"2026-12-05T07:30:00Z", 20}, // every day's morning, from included
		{"2026-12-05T09:00:00Z", 0},  // to excluded
		{"2026-12-07T08:15:00Z", 40}, // Monday: the higher of two open windows
		{"2026-12-06T23:59:30Z", 30}, // Sunday to 24:00: its last minute too
		{"2026-12-07T00:00:00Z", 0},  // Monday midnight: Sunday's window is over
	} {
		at, _ := time.Parse(time.RFC3339, c.at)
		if got := f.SurgePercent(at); got != c.want {
			t.Errorf("%s: %d, want %d", c.at, got, c.want)
		}
	}
}
