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
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// TestNilSurgeIsAHundred: a Cooperative without surgeToWorkersPercent gives the whole
// surge to the worker (the CRD's default), in the document the operator writes and in a
// document that leaves the field out.
func TestNilSurgeIsAHundred(t *testing.T) {
	coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Spec: coopv1.CooperativeSpec{
		Vertical: coopv1.VerticalCare, FeeSplit: coopv1.FeeSplit{PlatformFeeBasisPoints: 100},
		Governance: coopv1.Governance{Model: coopv1.GovernanceConsent},
	}}
	doc := FromCooperative(coop)
	if doc.FeeSplit.SurgeToWorkersPercent != 100 || doc.Governance.QuorumPercent != 50 || doc.Governance.MinimumVotingPeriodHours != 168 {
		t.Fatalf("document %+v", doc)
	}
	b, err := doc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := Parse(b)
	if err != nil || !reflect.DeepEqual(parsed, doc) {
		t.Fatalf("round trip %+v, %v", parsed, err)
	}
	left, err := Parse([]byte(`{"cooperative":"c","vertical":"care","feeSplit":{"platformFeeBasisPoints":100},"governance":{"model":"consent"}}`))
	if err != nil || left.FeeSplit.SurgeToWorkersPercent != 100 {
		t.Fatalf("left out: %+v, %v", left, err)
	}
	coop.Spec.FeeSplit.SurgeToWorkersPercent = ptr.To[int32](0)
	if FromCooperative(coop).FeeSplit.SurgeToWorkersPercent != 0 {
		t.Fatal("an explicit 0 must stay 0")
	}
}

// TestDocumentCarriesTheTimeZone: the co-op's spec.platform.timeZone reaches the platform.
func TestDocumentCarriesTheTimeZone(t *testing.T) {
	coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Spec: coopv1.CooperativeSpec{
		Vertical: coopv1.VerticalCare, Governance: coopv1.Governance{Model: coopv1.GovernanceConsent},
		Platform: coopv1.PlatformSpec{TimeZone: "America/Bogota"},
	}}
	b, err := FromCooperative(coop).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := Parse(b)
	if err != nil || parsed.Location().String() != "America/Bogota" {
		t.Fatalf("parsed %s: %+v, %v", b, parsed, err)
	}
}

// TestChangeIsSpecForm: a valid change comes back as the JSON of the part's API type, so
// the operator decodes it into the Cooperative's spec as is.
func TestChangeIsSpecForm(t *testing.T) {
	cases := []struct {
		part, value string
		into        any
		want        any
	}{
		{PartFeeSplit, `{"platformFeeBasisPoints":200,"funds":[{"name":"hardship","basisPoints":150}]}`, &coopv1.FeeSplit{},
			&coopv1.FeeSplit{PlatformFeeBasisPoints: 200, Funds: []coopv1.Fund{{Name: "hardship", BasisPoints: 150}}, SurgeToWorkersPercent: ptr.To[int32](100)}},
		{PartGovernance, `{"model":"consent","governedFields":["feeSplit","governance"]}`, &coopv1.Governance{},
			&coopv1.Governance{Model: coopv1.GovernanceConsent, QuorumPercent: 50, ApprovalPercent: 50, MinimumVotingPeriodHours: 168,
				GovernedFields: []coopv1.GovernedField{"feeSplit", "governance"}}},
		{PartFederation, `{"peers":[{"name":"eu-south"}]}`, &coopv1.FederationSpec{},
			&coopv1.FederationSpec{Peers: []coopv1.FederationPeerRef{{Name: "eu-south", Mode: coopv1.FederationModeStandby}}}},
		{PartPlan, `"medium"`, ptr.To(""), ptr.To("medium")},
		{PartDeletionPolicy, `"Delete"`, ptr.To(coopv1.DeletionPolicy("")), ptr.To(coopv1.DeletionPolicyDelete)},
	}
	for _, c := range cases {
		out, err := ParseChange(c.part, json.RawMessage(c.value))
		if err != nil {
			t.Fatalf("%s: %v", c.part, err)
		}
		if err := json.Unmarshal(out, c.into); err != nil || !reflect.DeepEqual(c.into, c.want) {
			t.Errorf("%s: %s decodes to %+v (%v), want %+v", c.part, out, c.into, err, c.want)
		}
	}
	if _, err := ParseChange("vertical", json.RawMessage(`"care"`)); err == nil {
		t.Error("a part that is not governed was accepted")
	}
}

// TestFederationChangeIsPeersOnly: the federation part a vote changes is the peers. A
// value that names a primary (a switchover) is refused before anyone votes, whether or not
// it names a listed peer: the switchover is the co-op admins' decision.
func TestFederationChangeIsPeersOnly(t *testing.T) {
	for _, value := range []string{
		`{"peers":[{"name":"eu-south"}],"primary":"eu-south"}`,
		`{"primary":"eu-south"}`,
	} {
		_, err := ParseChange(PartFederation, json.RawMessage(value))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "federation.primary" || !strings.Contains(fe.Message, "switchover is the co-op admins' decision") {
			t.Errorf("%s: %v, want a refusal at federation.primary saying a switchover is the admins' decision", value, err)
		}
	}
	if _, err := ParseChange(PartFederation, json.RawMessage(`{"peers":[{"name":"eu-south"},{"name":"us-east"}]}`)); err != nil {
		t.Errorf("peers alone: %v", err)
	}
}

// crdSpec is the schema of the Cooperative's spec, as controller-gen wrote it.
func crdSpec(t *testing.T) apiextensionsv1.JSONSchemaProps {
	t.Helper()
	data, err := os.ReadFile("../../config/crd/bases/coop.cooperator.dev_cooperatives.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatal(err)
	}
	return crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
}

// TestGovernedPartsMatchCRD: the parts a proposal can change are the CRD's GovernedField
// enum, in order, as controller-gen wrote it, and the voting period's bound is the same.
func TestGovernedPartsMatchCRD(t *testing.T) {
	spec := crdSpec(t)
	items := spec.Properties["governance"].Properties["governedFields"].Items.Schema
	var enum []string
	for _, v := range items.Enum {
		var s string
		if err := json.Unmarshal(v.Raw, &s); err != nil {
			t.Fatal(err)
		}
		enum = append(enum, s)
	}
	if !slices.Equal(enum, GovernedParts) {
		t.Fatalf("parts %v, CRD enum %v", GovernedParts, enum)
	}
	// The CRD's bound of the voting period (a kubebuilder marker, which cannot name a Go
	// constant) is the policy's.
	period := spec.Properties["governance"].Properties["minimumVotingPeriodHours"]
	if period.Maximum == nil || *period.Maximum != MaxVotingPeriodHours {
		t.Errorf("the CRD bounds minimumVotingPeriodHours by %v; the policy by %d", period.Maximum, MaxVotingPeriodHours)
	}
}

// TestTimeZoneMatchesCRD: the CRD's pattern of spec.platform.timeZone (a marker, which
// cannot name a constant) is coopv1.TimeZonePattern, which LoadTimeZone applies; names
// outside it load nowhere, though the host's database may know them.
func TestTimeZoneMatchesCRD(t *testing.T) {
	tz := crdSpec(t).Properties["platform"].Properties["timeZone"]
	if tz.Pattern != coopv1.TimeZonePattern {
		t.Errorf("the CRD's pattern of timeZone %q, the policy's %q", tz.Pattern, coopv1.TimeZonePattern)
	}
	for _, name := range []string{"Local", "localtime", "posixrules", "right/UTC", "posix/Europe/Paris", "CET", "US/Eastern", "../zoneinfo/UTC", "Europe/Pariss"} {
		if _, err := LoadTimeZone(name); err == nil {
			t.Errorf("%q loaded", name)
		}
	}
	for _, name := range []string{"UTC", "Etc/UTC", "Etc/GMT+5", "Europe/Paris", "America/Argentina/Buenos_Aires", "Pacific/Chatham"} {
		if _, err := LoadTimeZone(name); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
}

// TestTheRulesNameTheirGovernedFields: a change of the rules replaces them whole, so it
// names governedFields; an empty list, written out, is kept as such in the stored value,
// which the operator parses again when it applies the change.
func TestTheRulesNameTheirGovernedFields(t *testing.T) {
	_, err := ParseChange(PartGovernance, json.RawMessage(`{"model":"consent","approvalPercent":60}`))
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "governance.governedFields" || !strings.Contains(fe.Message, "is required") {
		t.Fatalf("rules without governedFields: %v, want a refusal at governance.governedFields", err)
	}
	for _, value := range []string{`{"model":"consent","governedFields":[]}`, `{"model":"consent","governedFields":["feeSplit"]}`} {
		stored, err := ParseChange(PartGovernance, json.RawMessage(value))
		if err != nil {
			t.Fatalf("%s: %v", value, err)
		}
		again, err := ParseChange(PartGovernance, stored)
		if err != nil || string(again) != string(stored) {
			t.Errorf("%s: stored %s parses again to %s, %v", value, stored, again, err)
		}
		var spec coopv1.Governance
		if err := json.Unmarshal(stored, &spec); err != nil || spec.ApprovalPercent != 50 || spec.Model != coopv1.GovernanceConsent {
			t.Errorf("%s: stored %s decodes to %+v, %v", value, stored, spec, err)
		}
	}
}

// TestApprovalFraction: a co-op's rules may ask for an exact fraction of the votes, such as
// two thirds, which no whole percent says; a proposed change of the rules keeps it, and the
// spec the operator writes holds it; a fraction over 1 or of another form is refused at its
// field.
func TestApprovalFraction(t *testing.T) {
	stored, err := ParseChange(PartGovernance, json.RawMessage(`{"model":"one-member-one-vote","approvalFraction":"2/3","governedFields":["feeSplit"]}`))
	if err != nil {
		t.Fatal(err)
	}
	var spec coopv1.Governance
	if err := json.Unmarshal(stored, &spec); err != nil || spec.ApprovalFraction != "2/3" {
		t.Fatalf("stored %s decodes to %+v, %v", stored, spec, err)
	}
	g := GovernanceFromSpec(spec)
	if g.Approval().Cmp(big.NewRat(2, 3)) != 0 || g.ApprovalText() != "2/3" {
		t.Errorf("rules %+v: approval %v (%s), want exactly 2/3", g, g.Approval(), g.ApprovalText())
	}
	if g := GovernanceFromSpec(coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote}); g.Approval().Cmp(big.NewRat(1, 2)) != 0 || g.ApprovalText() != "50%" {
		t.Errorf("default rules: approval %v (%s), want 50%%", g.Approval(), g.ApprovalText())
	}
	for _, bad := range []string{"3/2", "0/3", "2/0", "2/100", "2/3 ", "⅔", "66%", "-1/3"} {
		_, err := ParseChange(PartGovernance, json.RawMessage(`{"model":"consent","approvalFraction":"`+bad+`","governedFields":[]}`))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "governance.approvalFraction" {
			t.Errorf("approvalFraction %q: %v, want a refusal at governance.approvalFraction", bad, err)
		}
	}
}

// TestDocumentCarriesTheGovernedValuesInForce: the document holds the value in force of
// each governed part it has no copy of otherwise, as the operator applies a change to it
// (SpecPart), for the parts the co-op governs only; ValueInForce reads them and the copies
// of the fee split and the voting rules. A document naming another part is refused.
func TestDocumentCarriesTheGovernedValuesInForce(t *testing.T) {
	coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Spec: coopv1.CooperativeSpec{
		Vertical: coopv1.VerticalCare, Plan: "small", FeeSplit: coopv1.FeeSplit{PlatformFeeBasisPoints: 100},
		Governance: coopv1.Governance{Model: coopv1.GovernanceConsent, GovernedFields: []coopv1.GovernedField{"feeSplit", "plan", "backup", "federation"}},
		Backup:     coopv1.BackupSpec{Schedule: "0 0 3 * * *", Retention: "30d"},
		Database:   coopv1.DatabaseSpec{Instances: 2},
		Federation: coopv1.FederationSpec{Peers: []coopv1.FederationPeerRef{{Name: "east"}}, Primary: "east"},
	}}
	b, current, err := FromCooperative(coop).MarshalFiles()
	if err != nil {
		t.Fatal(err)
	}
	// The values in force go beside the document, which a platform of a version before
	// them reads alone: it holds none of them (that platform refuses a field it does not
	// know), and parses alone.
	if bytes.Contains(b, []byte(`"current"`)) || current == nil {
		t.Fatalf("the document holds the values in force, or they are not beside it: %s | %s", b, current)
	}
	if alone, err := Parse(b); err != nil || alone.Current != nil {
		t.Fatalf("the document alone: %+v, %v", alone, err)
	}
	doc, err := ParseFiles(b, current)
	if err != nil {
		t.Fatal(err)
	}
	for part, want := range map[string]string{"plan": `"small"`, "backup": `{"schedule":"0 0 3 * * *","retention":"30d"}`,
		"federation": `{"peers":[{"name":"east"}]}`, "database": "", "deletionPolicy": "", "fares": "",
		"feeSplit": `{"platformFeeBasisPoints":100,"surgeToWorkersPercent":100}`} {
		if got := string(doc.ValueInForce(part)); got != want {
			t.Errorf("%s in force: %s, want %s", part, got, want)
		}
	}
	if g := string(doc.ValueInForce("governance")); !strings.Contains(g, `"model":"consent"`) || !strings.Contains(g, `"governedFields":["feeSplit","plan","backup","federation"]`) {
		t.Errorf("governance in force: %s", g)
	}
	if len(doc.Current) != 3 {
		t.Errorf("the document holds more than the governed parts: %s", b)
	}
	// A co-op that governs nothing carries none.
	coop.Spec.Governance.GovernedFields = nil
	if doc := FromCooperative(coop); doc.Current != nil {
		t.Errorf("a co-op governing nothing: %v", doc.Current)
	}
	for _, part := range []string{"feeSplit", "governance", "fares", "nope"} {
		if _, err := Parse([]byte(`{"cooperative":"c","vertical":"care","feeSplit":{"platformFeeBasisPoints":100},"governance":{"model":"consent"},"current":{"` + part + `":1}}`)); err == nil {
			t.Errorf("a document holding %s in current was taken", part)
		}
	}
}
