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
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// The governed parts of a Cooperative's spec: the values of spec.governance.governedFields
// and the parts a proposal can change.
const (
	PartFeeSplit       = "feeSplit"
	PartPlan           = "plan"
	PartFederation     = "federation"
	PartGovernance     = "governance"
	PartDatabase       = "database"
	PartBackup         = "backup"
	PartPlatform       = "platform"
	PartDeletionPolicy = "deletionPolicy"
)

// GovernedParts lists the parts, in the CRD's order.
var GovernedParts = []string{PartFeeSplit, PartPlan, PartFederation, PartGovernance, PartDatabase, PartBackup, PartPlatform, PartDeletionPolicy}

var (
	versionPattern   = regexp.MustCompile(`^[0-9]+\.[0-9]+(\.[0-9]+)?$`)
	hostPattern      = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$`)
	retentionPattern = regexp.MustCompile(`^[1-9][0-9]*[dwm]$`)
)

// ParseChange decodes and validates the proposed new value of one governed part of a
// Cooperative's spec, and returns it in the form the operator writes into the spec (the
// JSON of the part's API type, defaults resolved where the document has them).
//
// What it checks is every rule of the CRD that the value alone decides: types, enums,
// bounds, patterns, and the cross-field rules inside the part (funds within the fee,
// stakeholder classes and weights). The federation part is spec.federation.peers only: a
// value that sets primary is refused, since a switchover is the co-op admins' decision.
// What it cannot check without the cluster or the current spec is left to the API server
// and the operator when the change is applied, and reported back on the proposal if it
// fails:
//   - plan: that the HostingPlan exists and the co-op may use it;
//   - federation: that the FederationPeers exist and accept standbys, that the database
//     tier is dedicated, and that the peers keep the one that holds the primary after a
//     switchover (spec.federation.primary);
//   - database: immutability of the tier, storage that only grows and a PostgreSQL
//     version that only goes up (they compare with the current spec);
//   - platform: that the template and version exist and the host is free and allowed.
//
// A *FieldError names the field, with the part as its first element.
func ParseChange(part string, value json.RawMessage) (json.RawMessage, error) {
	if len(value) == 0 || string(value) == "null" {
		return nil, fieldErr(part, "a new value is required")
	}
	var out any
	var err error
	switch part {
	case PartFeeSplit:
		fs := FeeSplit{SurgeToWorkersPercent: DefaultSurgeToWorkersPercent}
		if err = decodeStrict(value, &fs); err == nil {
			if err = fs.Validate(part); err == nil {
				out = fs.Spec()
			}
		}
	case PartGovernance:
		g := defaultGovernance()
		if err = decodeStrict(value, &g); err == nil {
			if err = g.Validate(part); err == nil {
				err = governedFieldsNamed(value)
				out = governanceChange(g.Spec())
			}
		}
	case PartFares:
		var f Fares
		if err = decodeStrict(value, &f); err == nil {
			err = f.Validate(part)
			out = f
		}
	case PartPlan:
		var plan string
		if err = decodeStrict(value, &plan); err == nil {
			if msgs := validation.IsDNS1123Subdomain(plan); len(msgs) > 0 || len(plan) > 63 {
				err = fieldErr(part, "%q must be the name of a HostingPlan: at most 63 lower-case letters, digits, dashes and dots", plan)
			}
			out = plan
		}
	case PartFederation:
		var f coopv1.FederationSpec
		if err = decodeStrict(value, &f); err == nil {
			err = validateFederation(&f)
			out = f
		}
	case PartDatabase:
		var d coopv1.DatabaseSpec
		if err = decodeStrict(value, &d); err == nil {
			err = validateDatabase(&d)
			out = d
		}
	case PartBackup:
		var b coopv1.BackupSpec
		if err = decodeStrict(value, &b); err == nil {
			err = validateBackup(&b)
			out = b
		}
	case PartPlatform:
		var p coopv1.PlatformSpec
		if err = decodeStrict(value, &p); err == nil {
			err = validatePlatform(&p)
			out = p
		}
	case PartDeletionPolicy:
		var d string
		if err = decodeStrict(value, &d); err == nil {
			if d != string(coopv1.DeletionPolicyRetain) && d != string(coopv1.DeletionPolicyDelete) {
				err = fieldErr(part, "%q is not Retain or Delete", d)
			}
			out = d
		}
	default:
		return nil, fieldErr("field", "%q is not one of %v or %s", part, GovernedParts, PartFares)
	}
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			return nil, err
		}
		return nil, fieldErr(part, "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encoding the new value of %s: %w", part, err)
	}
	return b, nil
}

// Spec is the fee split as the Cooperative's spec holds it.
func (fs FeeSplit) Spec() coopv1.FeeSplit {
	surge := int32(fs.SurgeToWorkersPercent)
	out := coopv1.FeeSplit{PlatformFeeBasisPoints: int32(fs.PlatformFeeBasisPoints), SurgeToWorkersPercent: &surge}
	for _, f := range fs.Funds {
		out.Funds = append(out.Funds, coopv1.Fund{Name: f.Name, BasisPoints: int32(f.BasisPoints)})
	}
	return out
}

// Spec is the governance rules as the Cooperative's spec holds them.
func (g Governance) Spec() coopv1.Governance {
	out := coopv1.Governance{
		Model: coopv1.GovernanceModel(g.Model), QuorumPercent: int32(g.QuorumPercent), ApprovalPercent: int32(g.ApprovalPercent),
		ApprovalFraction: g.ApprovalFraction, MinimumVotingPeriodHours: int32(g.MinimumVotingPeriodHours),
	}
	for _, c := range g.StakeholderClasses {
		out.StakeholderClasses = append(out.StakeholderClasses, coopv1.StakeholderClass{Name: c.Name, Weight: int32(c.Weight)})
	}
	for _, f := range g.GovernedFields {
		out.GovernedFields = append(out.GovernedFields, coopv1.GovernedField(f))
	}
	return out
}

func validateFederation(f *coopv1.FederationSpec) error {
	if err := atMost("federation.peers", "peers", len(f.Peers), 8); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, p := range f.Peers {
		at := fmt.Sprintf("federation.peers[%d]", i)
		if p.Name == "" || len(p.Name) > 63 {
			return fieldErr(at+".name", "must be 1..63 characters")
		}
		if seen[p.Name] {
			return fieldErr(at+".name", "%q is repeated", p.Name)
		}
		seen[p.Name] = true
		if p.Mode == "" {
			f.Peers[i].Mode = coopv1.FederationModeStandby
		} else if p.Mode != coopv1.FederationModeStandby {
			return fieldErr(at+".mode", "%q is not standby", p.Mode)
		}
	}
	if f.Primary != "" {
		return fieldErr("federation.primary", "a switchover is the co-op admins' decision, not a vote: "+
			"the federation part governs spec.federation.peers only; propose the peers without primary")
	}
	return nil
}

func validateDatabase(d *coopv1.DatabaseSpec) error {
	if d.Tier != "" && d.Tier != coopv1.DatabaseTierDedicated && d.Tier != coopv1.DatabaseTierShared {
		return fieldErr("database.tier", "%q is not dedicated or shared", d.Tier)
	}
	if d.Instances != 0 {
		if err := inRange("database.instances", d.Instances, 1, 5); err != nil {
			return err
		}
	}
	if d.Tier == coopv1.DatabaseTierShared && d.Instances > 1 {
		return fieldErr("database.instances", "instances must be 1 on the shared tier: the hub's shared cluster has its own replicas")
	}
	if !d.Storage.IsZero() && d.Storage.Cmp(resource.MustParse("0")) <= 0 {
		return fieldErr("database.storage", "storage must be a positive size such as 10Gi")
	}
	if d.PostgresVersion != 0 && !slices.Contains([]int32{15, 16, 17, 18}, d.PostgresVersion) {
		return fieldErr("database.postgresVersion", "%d is not one of 15, 16, 17, 18", d.PostgresVersion)
	}
	return nil
}

func validateBackup(b *coopv1.BackupSpec) error {
	if b.Schedule != "" && (len(b.Schedule) > 100 || len(strings.Fields(b.Schedule)) != 6) {
		return fieldErr("backup.schedule", "schedule must be a six-field cron expression with seconds first, such as '0 0 3 * * *'")
	}
	if b.Schedule != "" {
		if err := ParseSchedule(b.Schedule); err != nil {
			return fieldErr("backup.schedule", "%q cannot be read: %v", b.Schedule, err)
		}
		if msg := ScheduleOverLimit(b.Schedule); msg != "" {
			return fieldErr("backup.schedule", "%s", msg)
		}
	}
	if b.Retention != "" && !retentionPattern.MatchString(b.Retention) {
		return fieldErr("backup.retention", "%q must be a number and d, w or m, such as 30d", b.Retention)
	}
	if msg := RetentionOverLimit(b.Retention); msg != "" {
		return fieldErr("backup.retention", "%s", msg)
	}
	return nil
}

func validatePlatform(p *coopv1.PlatformSpec) error {
	if len(p.Template) > 63 {
		return fieldErr("platform.template", "must be at most 63 characters")
	}
	if p.Version != "" && (len(p.Version) > 32 || !versionPattern.MatchString(p.Version)) {
		return fieldErr("platform.version", "%q must look like 1.0 or 1.2.3", p.Version)
	}
	if p.Host != "" && (len(p.Host) > 253 || !hostPattern.MatchString(p.Host)) {
		return fieldErr("platform.host", "%q must be a lower-case DNS name with at least one dot", p.Host)
	}
	return nil
}

// governanceChange writes the rules as the spec holds them, governedFields always: the
// value stored with a proposal is parsed again when it is applied, and an empty list is a
// decision (it ends the members' control), not a list left out.
type governanceChange coopv1.Governance

func (g governanceChange) MarshalJSON() ([]byte, error) {
	fields := g.GovernedFields
	if fields == nil {
		fields = []coopv1.GovernedField{}
	}
	g.GovernedFields = nil
	b, err := json.Marshal(coopv1.Governance(g))
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m["governedFields"], err = json.Marshal(fields); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// governedFieldsNamed refuses a governance value without governedFields: the whole part is
// replaced, and a change of the rules that left the list out would end the members'
// control of every field (an empty list, written out, ends it on purpose).
func governedFieldsNamed(value json.RawMessage) error {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(value, &keys); err != nil {
		return fieldErr(PartGovernance, "must be an object: %v", err)
	}
	if _, ok := keys["governedFields"]; !ok {
		return fieldErr(PartGovernance+".governedFields", "is required: the whole of the rules is replaced, so list the fields the members keep governing "+
			"(an empty list [] ends their control of every field)")
	}
	return nil
}
