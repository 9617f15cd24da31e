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

package cooperative

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/cooperator-dev/cooperator/api/policy"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
)

func TestGovernedChanges(t *testing.T) {
	governed := func(fields ...coopv1.GovernedField) *coopv1.Cooperative {
		c := testCoop()
		c.Spec.Governance.GovernedFields = fields
		c.Spec.Federation.Peers = []coopv1.FederationPeerRef{{Name: "eu-south", Mode: coopv1.FederationModeStandby}}
		return c
	}
	for _, tc := range []struct {
		name   string
		old    *coopv1.Cooperative
		mutate func(*coopv1.Cooperative)
		want   []coopv1.GovernedField
	}{
		{"nothing governed: anything goes", governed(), func(c *coopv1.Cooperative) {
			c.Spec.FeeSplit.PlatformFeeBasisPoints = 900
			c.Spec.Governance.QuorumPercent = 1
		}, nil},
		{"a governed field", governed(coopv1.GovernedFeeSplit), func(c *coopv1.Cooperative) { c.Spec.FeeSplit.PlatformFeeBasisPoints = 900 }, []coopv1.GovernedField{coopv1.GovernedFeeSplit}},
		{"a field not governed", governed(coopv1.GovernedFeeSplit), func(c *coopv1.Cooperative) {
			c.Spec.Plan = "medium"
			c.Spec.DisplayName = "x"
			c.Spec.Admins = nil
		}, nil},
		{"governance is governed with any field", governed(coopv1.GovernedPlan), func(c *coopv1.Cooperative) { c.Spec.Governance.ApprovalPercent = 90 }, []coopv1.GovernedField{coopv1.GovernedGovernance}},
		{"un-governing is a change of governance", governed(coopv1.GovernedFeeSplit, coopv1.GovernedPlan), func(c *coopv1.Cooperative) {
			c.Spec.Governance.GovernedFields = nil
			c.Spec.FeeSplit.PlatformFeeBasisPoints = 900
		}, []coopv1.GovernedField{coopv1.GovernedFeeSplit, coopv1.GovernedGovernance}},
		{"federation is the peers", governed(coopv1.GovernedFederation), func(c *coopv1.Cooperative) { c.Spec.Federation.Peers = nil }, []coopv1.GovernedField{coopv1.GovernedFederation}},
		{"a switchover is not", governed(coopv1.GovernedFederation), func(c *coopv1.Cooperative) { c.Spec.Federation.Primary = "eu-south" }, nil},
		{"storage written another way is the same", governed(coopv1.GovernedDatabase), func(c *coopv1.Cooperative) {
			c.Spec.Database.Storage = resource.MustParse(fmt.Sprintf("%d", c.Spec.Database.Storage.Value()))
		}, nil},
		{"every part, in order", governed(coopv1.GovernedFields...), func(c *coopv1.Cooperative) {
			c.Spec.DeletionPolicy = coopv1.DeletionPolicyDelete
			c.Spec.Platform.Version = "2.0"
			c.Spec.Backup.Retention = "1d"
			c.Spec.Database.Instances = 3
			c.Spec.Federation.Peers = nil
			c.Spec.Plan = "medium"
			c.Spec.FeeSplit.PlatformFeeBasisPoints = 1
		}, []coopv1.GovernedField{coopv1.GovernedFeeSplit, coopv1.GovernedPlan, coopv1.GovernedFederation, coopv1.GovernedDatabase, coopv1.GovernedBackup, coopv1.GovernedPlatform, coopv1.GovernedDeletionPolicy}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.old.DeepCopy()
			tc.mutate(c)
			if got := GovernedChanges(tc.old, c); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("GovernedChanges = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestBreakGlassAdmission covers what the envtest suite cannot stage: a use not recorded
// yet, which the operator clears within a reconcile.
func TestBreakGlassAdmission(t *testing.T) {
	hub := hubconfig.Default()
	hub.OperatorUsername = "system:serviceaccount:cooperator-system:cooperator-controller-manager"
	v := &Validator{Hub: hub}
	bob := authenticationv1.UserInfo{Username: "bob", Groups: []string{hubconfig.DefaultBreakGlassGroup}}
	old := testCoop()
	old.Spec.Governance.GovernedFields = []coopv1.GovernedField{coopv1.GovernedFeeSplit}
	use := func(by, fields, reason string) *coopv1.Cooperative {
		c := old.DeepCopy()
		c.Spec.FeeSplit.PlatformFeeBasisPoints++
		c.Annotations = map[string]string{coopv1.AnnotationBreakGlassBy: by, coopv1.AnnotationBreakGlassFields: fields, coopv1.AnnotationBreakGlassReason: reason}
		values, err := BreakGlassValues(old, c) // as the mutating webhook writes them
		if err != nil {
			t.Fatal(err)
		}
		c.Annotations[coopv1.AnnotationBreakGlassValues] = values
		return c
	}

	if errs, warnings := v.governedErrors(old, use("bob", "feeSplit", "outage"), bob); len(errs) > 0 || len(warnings) != 1 {
		t.Errorf("a well-formed use: %v %v", errs, warnings)
	}
	// Values the mutating webhook did not write (it was bypassed, or they were written by
	// hand): refused, naming the annotation.
	for name, values := range map[string]*string{"none": nil, "the change hidden": ptr.To(`{"feeSplit":{"old":{"platformFeeBasisPoints":350},"new":{"platformFeeBasisPoints":350}}}`)} {
		c := use("bob", "feeSplit", "outage")
		delete(c.Annotations, coopv1.AnnotationBreakGlassValues)
		if values != nil {
			c.Annotations[coopv1.AnnotationBreakGlassValues] = *values
		}
		if errs, _ := v.governedErrors(old, c, bob); len(errs) != 1 || !strings.Contains(errs[0].Error(), "break-glass-values") ||
			!strings.Contains(errs[0].Error(), "as the operator's mutating webhook writes them") {
			t.Errorf("a use with values %s: %v", name, errs)
		}
	}
	pending := use("bob", "feeSplit", "outage")
	next := pending.DeepCopy()
	next.Spec.FeeSplit.PlatformFeeBasisPoints++
	next.Annotations[coopv1.AnnotationBreakGlassReason] = "another outage"
	if errs, _ := v.governedErrors(pending, next, bob); len(errs) != 1 || !strings.Contains(errs[0].Error(), "the previous break-glass use (by bob) is not recorded yet") {
		t.Errorf("a use while the previous one is not recorded: %v", errs)
	}
	// Removing the annotations of a use not recorded yet would hide it: only the operator may.
	cleared := pending.DeepCopy()
	cleared.Annotations = nil
	for _, who := range []authenticationv1.UserInfo{bob, {Username: "alice", Groups: []string{"coop-admins"}}} {
		if errs, _ := v.governedErrors(pending, cleared, who); len(errs) != 1 || !strings.Contains(errs[0].Error(), "break-glass") {
			t.Errorf("%s removing a pending use: %v", who.Username, errs)
		}
	}
	if errs, _ := v.governedErrors(pending, cleared, authenticationv1.UserInfo{Username: hub.OperatorUsername}); len(errs) != 0 {
		t.Errorf("the operator removes what it recorded: %v", errs)
	}
	long := use("bob", "feeSplit", strings.Repeat("x", coopv1.MaxBreakGlassReasonLength+1))
	if errs, _ := v.governedErrors(old, long, bob); len(errs) != 1 || !strings.Contains(errs[0].Error(), "Too long") {
		t.Errorf("an over-long reason: %v", errs)
	}
	noGroup := hub
	noGroup.BreakGlassGroup = ""
	if errs, _ := (&Validator{Hub: noGroup}).governedErrors(old, use("bob", "feeSplit", "outage"), bob); len(errs) == 0 {
		t.Error("a hub without a break-glass group admits no use")
	}
	standby := old.DeepCopy()
	standby.Spec.Standby = &coopv1.StandbySpec{HomeRegion: "eu-west"}
	next = standby.DeepCopy()
	next.Spec.FeeSplit.PlatformFeeBasisPoints++
	if errs, _ := v.governedErrors(standby, next, authenticationv1.UserInfo{Username: "cooperator-peer-eu-west"}); len(errs) != 0 {
		t.Errorf("a standby follows its home co-op, where its fields are governed: %v", errs)
	}
}

// TestBreakGlassValuesWebhook: into an update that announces a break-glass use the
// mutating webhook adds the values before and after of each part it changes, by a JSON
// patch of that one annotation (over one written by hand); it leaves every other update
// alone. The operator reads them into the record, leaving out a value longer than a record
// keeps.
func TestBreakGlassValuesWebhook(t *testing.T) {
	old := testCoop()
	old.Spec.Governance.GovernedFields = []coopv1.GovernedField{coopv1.GovernedFeeSplit, coopv1.GovernedPlan}
	old.Annotations = map[string]string{"example.org/note": "kept"}
	coop := old.DeepCopy()
	coop.Spec.FeeSplit.PlatformFeeBasisPoints = 250 // from none
	coop.Annotations[coopv1.AnnotationBreakGlassBy] = "bob"
	coop.Annotations[coopv1.AnnotationBreakGlassValues] = "written by hand"
	send := func(old, coop *coopv1.Cooperative) admission.Response {
		t.Helper()
		o, err := json.Marshal(old)
		if err != nil {
			t.Fatal(err)
		}
		n, err := json.Marshal(coop)
		if err != nil {
			t.Fatal(err)
		}
		return BreakGlassValuesWebhook().Handle(context.Background(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
			Operation: admissionv1.Update, OldObject: runtime.RawExtension{Raw: o}, Object: runtime.RawExtension{Raw: n}}})
	}
	r := send(old, coop)
	want, err := BreakGlassValues(old, coop)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Allowed || len(r.Patches) != 1 || r.Patches[0].Operation != "add" || r.Patches[0].Path != "/metadata/annotations/coop.cooperator.dev~1break-glass-values" ||
		r.Patches[0].Value != want || !strings.Contains(want, `"feeSplit":{"old":{"platformFeeBasisPoints":0`) || strings.Contains(want, "plan") {
		t.Fatalf("the patch of a use: %+v (values %s)", r, want)
	}
	// Not a new use: nothing added.
	for name, pair := range map[string][2]*coopv1.Cooperative{"no use": {old, old.DeepCopy()}, "the operator removing a recorded use": {coop, old}, "a use pending": {coop, coop}} {
		if r := send(pair[0], pair[1]); !r.Allowed || len(r.Patches) != 0 {
			t.Errorf("%s: %+v", name, r)
		}
	}
	changes := breakGlassChanges(want, []coopv1.GovernedField{coopv1.GovernedFeeSplit})
	if len(changes) != 1 || !strings.Contains(changes[0].New, `"platformFeeBasisPoints":250`) {
		t.Errorf("the record's changes: %+v", changes)
	}
	long := fmt.Sprintf(`{"plan":{"old":"small","new":%q}}`, strings.Repeat("x", coopv1.MaxBreakGlassValueLength))
	if c := breakGlassChanges(long, []coopv1.GovernedField{coopv1.GovernedPlan}); len(c) != 0 {
		t.Errorf("an over-long value is kept: %+v", c)
	}
}

func TestBreakGlassRecords(t *testing.T) {
	c := testCoop()
	if _, ok := PendingBreakGlass(c); ok {
		t.Error("no annotations, no use")
	}
	c.Generation = 7
	c.Annotations = map[string]string{coopv1.AnnotationBreakGlassBy: "bob", coopv1.AnnotationBreakGlassFields: "feeSplit,plan", coopv1.AnnotationBreakGlassReason: " outage "}
	use, ok := PendingBreakGlass(c)
	want := coopv1.BreakGlassUse{User: "bob", Reason: "outage", Generation: 7, Fields: []coopv1.GovernedField{coopv1.GovernedFeeSplit, coopv1.GovernedPlan}}
	if !ok || !reflect.DeepEqual(use, want) {
		t.Errorf("PendingBreakGlass = %+v %v, want %+v", use, ok, want)
	}

	records, added := RecordBreakGlass(nil, use)
	if !added || len(records) != 1 {
		t.Fatalf("first record: %v %v", records, added)
	}
	if again, added := RecordBreakGlass(records, use); added || len(again) != 1 {
		t.Errorf("a use recorded before its annotations were removed is not recorded twice: %v", again)
	}
	for i := range coopv1.MaxBreakGlassRecords + 5 {
		u := use
		u.Generation = int64(100 + i)
		records, _ = RecordBreakGlass(records, u)
	}
	if len(records) != coopv1.MaxBreakGlassRecords || records[len(records)-1].Generation != int64(100+coopv1.MaxBreakGlassRecords+4) {
		t.Errorf("the records keep the %d most recent, latest last: %d, last %+v", coopv1.MaxBreakGlassRecords, len(records), records[len(records)-1])
	}
}

// TestBreakGlassReachesThePlatform: the records the operator hands the platform in
// coop-policy are read by the platform's own parser, which knows every field of them.
func TestBreakGlassReachesThePlatform(t *testing.T) {
	c := testCoop()
	c.Spec.FeeSplit = coopv1.FeeSplit{PlatformFeeBasisPoints: 0}
	c.Spec.Governance = coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50,
		GovernedFields: []coopv1.GovernedField{coopv1.GovernedFeeSplit}}
	c.Status.BreakGlass = []coopv1.BreakGlassUse{{User: "bob", Time: metav1.Now(), Fields: []coopv1.GovernedField{coopv1.GovernedFeeSplit}, Reason: "outage", Generation: 4}}
	cm, err := BuildPolicyConfigMap(c)
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Parse([]byte(cm.Data[PolicyKey]))
	if err != nil || p.Ignored != "" {
		t.Fatalf("the platform refuses the policy, or ignores a field of it: %v %q", err, p.Ignored)
	}
	if len(p.BreakGlass) != 1 || p.BreakGlass[0].User != "bob" || p.BreakGlass[0].Reason != "outage" || p.BreakGlass[0].Fields[0] != "feeSplit" || p.BreakGlass[0].Time.IsZero() {
		t.Errorf("the platform reads %+v", p.BreakGlass)
	}
}
