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

package policy

import (
	"errors"
	"testing"
	"time"
)

func TestWorkRules(t *testing.T) {
	const base = `{"cooperative":"c","vertical":"care","feeSplit":{"platformFeeBasisPoints":300},"governance":{"model":"one-member-one-vote"}`
	p, err := Parse([]byte(base + `}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Work != (WorkRules{}) || p.Work.OfferTimeout() != DefaultOfferTimeoutSeconds*time.Second || p.Work.FanOut() != DefaultUrgentFanOut {
		t.Fatalf("defaults %+v", p.Work)
	}
	if (WorkRules{}).OfferTimeout() != DefaultOfferTimeoutSeconds*time.Second || (WorkRules{}).FanOut() != DefaultUrgentFanOut {
		t.Fatal("zero rules do not fall back to the defaults")
	}
	p, err = Parse([]byte(base + `,"work":{"offerTimeoutSeconds":60,"urgentFanOut":5}}`))
	if err != nil || p.Work.OfferTimeout() != time.Minute || p.Work.FanOut() != 5 {
		t.Fatalf("%v %+v", err, p)
	}
	for _, tc := range []struct{ doc, field string }{
		{`{"offerTimeoutSeconds":5}`, "work.offerTimeoutSeconds"},
		{`{"offerTimeoutSeconds":86401}`, "work.offerTimeoutSeconds"},
		{`{"urgentFanOut":-1}`, "work.urgentFanOut"},
		{`{"urgentFanOut":21}`, "work.urgentFanOut"},
	} {
		_, err := Parse([]byte(base + `,"work":` + tc.doc + `}`))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%s: error %v, want one naming %s", tc.doc, err, tc.field)
		}
	}
	if _, err := Parse([]byte(base + `,"work":{"offerTimeout":60}}`)); err == nil {
		t.Error("an unknown field of work was accepted")
	}
}

func TestFareZonesAndTimeRates(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	f := Fares{BaseCents: 300, PerKmCents: 100,
		Zones:     []FareZone{{Name: "suburbs", FareAmounts: FareAmounts{BaseCents: i(500)}}},
		TimeRates: []TimeRate{{Name: "night", From: "22:00", To: "23:59", FareAmounts: FareAmounts{PerKmCents: i(150)}}}}
	if err := f.Validate("fares"); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	night := time.Date(2026, 12, 1, 22, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		zone       string
		at         time.Time
		base, perK int64
		rate       string
	}{
		{"", day, 300, 100, ""},
		{"suburbs", day, 500, 100, ""},
		{"", night, 300, 150, "night"},
		{"suburbs", night, 500, 150, "night"},
	} {
		got, rate, err := f.For(tc.zone, tc.at)
		if err != nil || got.BaseCents != tc.base || got.PerKmCents != tc.perK || rate != tc.rate {
			t.Errorf("%q at %s: %v %d %d %q", tc.zone, tc.at, err, got.BaseCents, got.PerKmCents, rate)
		}
	}
	if _, _, err := f.For("moon", day); !errors.Is(err, ErrUnknownZone) {
		t.Errorf("unknown zone: %v", err)
	}
	for _, tc := range []struct {
		mutate func(*Fares)
		field  string
	}{
		{func(f *Fares) { f.Zones = append(f.Zones, FareZone{Name: "suburbs"}) }, "fares.zones[1].name"},
		{func(f *Fares) { f.Zones[0].Name = "Suburbs" }, "fares.zones[0].name"},
		{func(f *Fares) { f.Zones[0].BaseCents = i(-1) }, "fares.zones[0].baseCents"},
		{func(f *Fares) { f.TimeRates[0].From = "23:59" }, "fares.timeRates[0].to"},
		{func(f *Fares) { f.TimeRates[0].Days = []string{"monday"} }, "fares.timeRates[0].days[0]"},
		{func(f *Fares) { f.TimeRates[0].PerKmCents = i(MaxFareCents + 1) }, "fares.timeRates[0].perKmCents"},
	} {
		g := f
		g.Zones = append([]FareZone(nil), f.Zones...)
		g.TimeRates = append([]TimeRate(nil), f.TimeRates...)
		tc.mutate(&g)
		var fe *FieldError
		if err := g.Validate("fares"); !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("error %v, want one naming %s", err, tc.field)
		}
	}
}
