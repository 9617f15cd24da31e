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
