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

// Package policy is the one definition of the co-op policy document: the copy of a
// Cooperative's fee split and governance rules that the operator writes into the
// coop-policy ConfigMap and the platform service reads from its mounted file. It holds the
// document's types, how it is built from a Cooperative, how it is parsed and validated,
// the names of the ConfigMap, its key and its mount path, and the validation of a proposed
// change to a governed part of the spec.
//
// The Go validation here mirrors the CRD's OpenAPI and CEL rules of the same fields
// (api/v1alpha1): the API server enforces those on the Cooperative, this package enforces
// them on what the platform reads and on what members propose. TestRulesMatchCRD keeps
// the two in step.
package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // LoadTimeZone reads the same zones on any host or image

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// Names and paths of the policy document.
const (
	// ConfigMapName is the ConfigMap in the co-op namespace that carries the document.
	ConfigMapName = "coop-policy"
	// Key is the document's key in the ConfigMap, and its file name once mounted.
	Key = "policy.json"
	// CurrentKey is the key, beside Key in the ConfigMap (a file beside it where the
	// platform reads it), of the document's Current: a platform of a version before it
	// knew Current reads only Key, and would refuse a document holding it.
	CurrentKey = "current.json"
	// MountPath is the folder where the platform containers find the document.
	MountPath = "/etc/cooperator/policy"
	// FilePath is the full path of the mounted document.
	FilePath = MountPath + "/" + Key
	// FileEnv is the environment variable that tells the platform service where the
	// document is.
	FileEnv = "COOP_POLICY_FILE"
)

// Defaults the CRD applies, applied here too when the document leaves a field out.
const (
	DefaultSurgeToWorkersPercent    = 100
	DefaultQuorumPercent            = 50
	DefaultApprovalPercent          = 50
	DefaultMinimumVotingPeriodHours = 168 // 7 days
	MaxVotingPeriodHours            = 8760
)

// Verticals are the kinds of co-op the platform service runs.
var Verticals = func() []string {
	out := make([]string, 0, len(coopv1.Verticals))
	for _, v := range coopv1.Verticals {
		out = append(out, string(v))
	}
	return out
}()

// Governance models.
const (
	OneMemberOneVote = string(coopv1.GovernanceOneMemberOneVote)
	MultiStakeholder = string(coopv1.GovernanceMultiStakeholder)
	Consent          = string(coopv1.GovernanceConsent)
	Delegate         = string(coopv1.GovernanceDelegate)
)

// Models lists the governance models.
var Models = []string{OneMemberOneVote, MultiStakeholder, Consent, Delegate}

// Policy is the document.
type Policy struct {
	Cooperative string     `json:"cooperative"`
	Vertical    string     `json:"vertical"`
	FeeSplit    FeeSplit   `json:"feeSplit"`
	Governance  Governance `json:"governance"`
	// Payments bounds the payments recorded through the platform's POST /v1/payments.
	// Optional: without it staff record no payments of their own.
	Payments Payments `json:"payments,omitzero"`
	// Fares is the co-op's fare rule as the policy file sets it at first; a passed
	// proposal (field "fares") replaces it in the platform. Optional: without one the
	// requester's price stands.
	Fares *Fares `json:"fares,omitempty"`
	// Work holds the rules of offers: how long one stands, how many workers an urgent
	// request goes to at once. Optional: fields left out take their defaults.
	Work WorkRules `json:"work,omitzero"`
	// TimeZone is the co-op's time zone (spec.platform.timeZone), a name of the IANA time
	// zone database: the platform reads weekly hours in it and shows times in it. Empty:
	// UTC.
	TimeZone string `json:"timeZone,omitempty"`
	// BreakGlass lists the changes of governed fields the hub made through its break-glass
	// path instead of a passed proposal, as the operator recorded them (status.breakGlass);
	// members read them with the rest of the policy.
	BreakGlass []BreakGlassUse `json:"breakGlass,omitempty"`
	// Ignored names the parts of the document this version does not know, comma-separated,
	// which Parse ignored; "" when none.
	Ignored string `json:"-"`
	// Current holds the value in force of each part of the spec the co-op governs that the
	// document has no copy of otherwise (plan, federation, database, backup, platform,
	// deletionPolicy), as SpecPart writes it, by part: members propose a change from it.
	Current map[string]json.RawMessage `json:"current,omitempty"`
}

// ValueInForce is the JSON of a governed part's value in force as the document holds it:
// the fee split and the governance rules from their copies, another part from Current; nil
// when the document does not hold it (the fare rule, which the platform keeps, is none).
// It is compact JSON.
func (p *Policy) ValueInForce(part string) json.RawMessage {
	var v any
	switch part {
	case PartFeeSplit:
		v = p.FeeSplit
	case PartGovernance:
		v = p.Governance
	default:
		// Compact: the document is written indented, and read with its indentation.
		var buf bytes.Buffer
		if json.Compact(&buf, p.Current[part]) != nil {
			return nil
		}
		return buf.Bytes()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// BreakGlassUse is one change of governed fields the hub made without a vote.
type BreakGlassUse struct {
	User       string    `json:"user"`
	Time       time.Time `json:"time"`
	Fields     []string  `json:"fields"`
	Reason     string    `json:"reason"`
	Generation int64     `json:"generation,omitempty"`
	// Changes are the parts' values before and after, as the hub's webhook took them from
	// the update (none for a use recorded before they were kept).
	Changes []BreakGlassChange `json:"changes,omitempty"`
}

// BreakGlassChange is one governed part a break-glass use changed, with its value before
// and after (as SpecPart writes a part).
type BreakGlassChange struct {
	Field string          `json:"field"`
	Old   json.RawMessage `json:"old"`
	New   json.RawMessage `json:"new"`
}

// breakGlassFromStatus copies the operator's records of break-glass uses.
func breakGlassFromStatus(uses []coopv1.BreakGlassUse) []BreakGlassUse {
	var out []BreakGlassUse
	for _, u := range uses {
		fields := make([]string, 0, len(u.Fields))
		for _, f := range u.Fields {
			fields = append(fields, string(f))
		}
		use := BreakGlassUse{User: u.User, Time: u.Time.UTC(), Fields: fields, Reason: u.Reason, Generation: u.Generation}
		for _, c := range u.Changes {
			if json.Valid([]byte(c.Old)) && json.Valid([]byte(c.New)) {
				use.Changes = append(use.Changes, BreakGlassChange{Field: string(c.Field), Old: json.RawMessage(c.Old), New: json.RawMessage(c.New)})
			}
		}
		out = append(out, use)
	}
	return out
}

// MaxAmountCents bounds a payment's gross so that gross*10000 never overflows int64.
const MaxAmountCents int64 = 1_000_000_000_000 // ten billion in currency units

// Payments bounds the payments staff record (see the platform README, "Payments").
type Payments struct {
	// StaffLimitCents is the most, in cents, that staff (the admin token) may move at once:
	// a payment they record, work they complete for its worker, the milestones they accept
	// for its client (judged by the whole project's price), a payment they refund; 0, the
	// default, means none. Members pay only
	// for completed work they requested, whatever this says.
	StaffLimitCents int64 `json:"staffLimitCents,omitempty"`
	// StaffDisbursementLimitCents is the largest disbursement from a fund, in cents, that
	// staff may make without a vote; 0, the default, means every disbursement needs a
	// passed proposal. A disbursement above it opens a proposal that approves it.
	StaffDisbursementLimitCents int64 `json:"staffDisbursementLimitCents,omitempty"`
}

// FeeSplit is how payments are split: the document's copy of spec.feeSplit, with the
// defaults resolved (surgeToWorkersPercent is always present).
type FeeSplit struct {
	PlatformFeeBasisPoints int64  `json:"platformFeeBasisPoints"`
	Funds                  []Fund `json:"funds,omitempty"`
	SurgeToWorkersPercent  int64  `json:"surgeToWorkersPercent"`
}

// Fund is a named fund fed from the platform fee.
type Fund struct {
	Name        string `json:"name"`
	BasisPoints int64  `json:"basisPoints"`
}

// Governance is how the co-op decides: the document's copy of spec.governance.
type Governance struct {
	Model                    string             `json:"model"`
	QuorumPercent            int64              `json:"quorumPercent"`
	ApprovalPercent          int64              `json:"approvalPercent"`
	ApprovalFraction         string             `json:"approvalFraction,omitempty"`
	StakeholderClasses       []StakeholderClass `json:"stakeholderClasses,omitempty"`
	GovernedFields           []string           `json:"governedFields,omitempty"`
	MinimumVotingPeriodHours int64              `json:"minimumVotingPeriodHours"`
}

// StakeholderClass is a class of members with a voting weight (multi-stakeholder).
type StakeholderClass struct {
	Name   string `json:"name"`
	Weight int64  `json:"weight"`
}

// HasClass reports whether name is one of the policy's stakeholder classes.
func (p *Policy) HasClass(name string) bool {
	return slices.ContainsFunc(p.Governance.StakeholderClasses, func(c StakeholderClass) bool { return c.Name == name })
}

// Governs reports whether field is one of the policy's governed fields.
func (p *Policy) Governs(field string) bool { return p.Governance.Governs(field) }

// Governs reports whether a part of the spec changes only by a vote under these rules: a
// field of governedFields, and the rules themselves (governance) as soon as that list is
// not empty, so that members can vote their own rules and no one else changes them (the
// webhook holds the co-op's admins to the same rule, the operator applies only such
// parts).
func (g Governance) Governs(field string) bool {
	return len(g.GovernedFields) > 0 && (field == PartGovernance || slices.Contains(g.GovernedFields, field))
}

// FromCooperative builds the document of a Cooperative, resolving the defaults the API
// server would have applied (a nil surgeToWorkersPercent is 100, not 0).
// Of the governed parts, Current holds those the co-op governs and only those.
func FromCooperative(coop *coopv1.Cooperative) *Policy {
	doc := &Policy{
		Cooperative: coop.Name,
		Vertical:    string(coop.Spec.Vertical),
		FeeSplit:    FeeSplitFromSpec(coop.Spec.FeeSplit),
		Governance:  GovernanceFromSpec(coop.Spec.Governance),
		TimeZone:    coop.Spec.Platform.TimeZone,
		BreakGlass:  breakGlassFromStatus(coop.Status.BreakGlass),
	}
	for _, part := range GovernedParts {
		if !currentPart(part) || !doc.Governs(part) {
			continue
		}
		if v, err := SpecPart(coop, part); err == nil {
			if doc.Current == nil {
				doc.Current = map[string]json.RawMessage{}
			}
			doc.Current[part] = v
		}
	}
	return doc
}

// currentPart says whether Current holds a governed part's value: the fee split and the
// governance rules have their own copies.
func currentPart(part string) bool {
	return slices.Contains(GovernedParts, part) && part != PartFeeSplit && part != PartGovernance
}

// FeeSplitFromSpec is the document's copy of a spec.feeSplit.
func FeeSplitFromSpec(fs coopv1.FeeSplit) FeeSplit {
	out := FeeSplit{PlatformFeeBasisPoints: int64(fs.PlatformFeeBasisPoints), SurgeToWorkersPercent: DefaultSurgeToWorkersPercent}
	if fs.SurgeToWorkersPercent != nil {
		out.SurgeToWorkersPercent = int64(*fs.SurgeToWorkersPercent)
	}
	for _, f := range fs.Funds {
		out.Funds = append(out.Funds, Fund{Name: f.Name, BasisPoints: int64(f.BasisPoints)})
	}
	return out
}

// GovernanceFromSpec is the document's copy of a spec.governance.
func GovernanceFromSpec(g coopv1.Governance) Governance {
	out := Governance{
		Model: string(g.Model), QuorumPercent: int64(g.QuorumPercent), ApprovalPercent: int64(g.ApprovalPercent),
		ApprovalFraction: g.ApprovalFraction, MinimumVotingPeriodHours: int64(g.MinimumVotingPeriodHours),
	}
	if out.QuorumPercent == 0 {
		out.QuorumPercent = DefaultQuorumPercent
	}
	if out.ApprovalPercent == 0 {
		out.ApprovalPercent = DefaultApprovalPercent
	}
	if out.MinimumVotingPeriodHours == 0 {
		out.MinimumVotingPeriodHours = DefaultMinimumVotingPeriodHours
	}
	for _, c := range g.StakeholderClasses {
		out.StakeholderClasses = append(out.StakeholderClasses, StakeholderClass{Name: c.Name, Weight: int64(c.Weight)})
	}
	for _, f := range g.GovernedFields {
		out.GovernedFields = append(out.GovernedFields, string(f))
	}
	return out
}

// MarshalFiles encodes the document as the ConfigMap carries it: the document under Key,
// without Current, and Current under CurrentKey (nil when empty).
func (p *Policy) MarshalFiles() (doc, current []byte, err error) {
	rest := *p
	rest.Current = nil
	if doc, err = rest.Marshal(); err != nil || len(p.Current) == 0 {
		return doc, nil, err
	}
	if current, err = json.MarshalIndent(p.Current, "", "  "); err != nil {
		return nil, nil, fmt.Errorf("encoding the values in force: %w", err)
	}
	return doc, current, nil
}

// ParseFiles is Parse of the document with its Current from the file beside it (nil:
// none), as MarshalFiles wrote them.
func ParseFiles(doc, current []byte) (*Policy, error) {
	if current == nil {
		return Parse(doc)
	}
	var values map[string]json.RawMessage
	if err := decodeStrict(current, &values); err != nil {
		return nil, fmt.Errorf("policy: %s: %w", CurrentKey, err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(doc, &fields); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if fields == nil {
		return nil, errors.New("policy: the document is not a JSON object")
	}
	raw, err := json.Marshal(values)
	if err != nil {
		return nil, err
	}
	fields["current"] = raw
	merged, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	return Parse(merged)
}

// Marshal encodes the document as the ConfigMap carries it.
func (p *Policy) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the policy: %w", err)
	}
	return b, nil
}

// Parse decodes and validates a document; fields left out take the CRD's defaults. A
// part of the document this version does not know (a newer operator's, at its top level)
// is ignored, and named in Ignored for the platform to say so: the rest holds, where
// refusing it would leave the platform without a policy. A field it does not know within
// a part it knows is refused, as the part's rules (the money's split, the votes') would
// not be the operator's.
func Parse(data []byte) (*Policy, error) {
	fresh := func() Policy {
		return Policy{FeeSplit: FeeSplit{SurgeToWorkersPercent: DefaultSurgeToWorkersPercent}, Governance: defaultGovernance()}
	}
	p := fresh()
	err := decodeStrict(data, &p)
	if _, unknown := strings.CutPrefix(fmt.Sprint(err), "json: unknown field "); unknown && err != nil {
		var parts map[string]json.RawMessage
		if json.Unmarshal(data, &parts) == nil {
			var ignored []string
			for name := range parts {
				if !slices.Contains(documentParts(), name) {
					ignored = append(ignored, name)
					delete(parts, name)
				}
			}
			if len(ignored) > 0 {
				slices.Sort(ignored)
				known, merr := json.Marshal(parts)
				if merr == nil {
					p = fresh()
					if err = decodeStrict(known, &p); err == nil {
						p.Ignored = strings.Join(ignored, ",")
					}
				}
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return &p, nil
}

// documentParts are the names of the document's top-level parts, as Policy's JSON tags
// write them.
var documentParts = sync.OnceValue(func() []string {
	var names []string
	t := reflect.TypeFor[Policy]()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
})

func defaultGovernance() Governance {
	return Governance{QuorumPercent: DefaultQuorumPercent, ApprovalPercent: DefaultApprovalPercent, MinimumVotingPeriodHours: DefaultMinimumVotingPeriodHours}
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON object")
	}
	return nil
}

// FieldError is a rule a field breaks. Field is the path below the document (or below
// the Cooperative's spec, for a proposed change), such as feeSplit.funds[1].basisPoints.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// fractionForm is an approval fraction's form, as the CRD's pattern for
// spec.governance.approvalFraction has it.
var fractionForm = regexp.MustCompile(`^([1-9][0-9]?)/([1-9][0-9]?)$`)

// ParseFraction reads an approval fraction N/D (whole numbers 1..99, N no greater than D,
// such as 2/3), the rule spec.governance.approvalFraction's CRD validation also holds.
func ParseFraction(s string) (*big.Rat, error) {
	m := fractionForm.FindStringSubmatch(s)
	if m == nil {
		return nil, fmt.Errorf("%q is not a fraction N/D of whole numbers 1..99, such as 2/3", s)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	d, _ := strconv.ParseInt(m[2], 10, 64)
	if n > d {
		return nil, fmt.Errorf("%q is more than 1: N must be no greater than D", s)
	}
	return big.NewRat(n, d), nil
}

// Approval is the share of the votes cast (or of their weight) a proposal needs to pass,
// exactly: approvalFraction when set, approvalPercent otherwise.
func (g Governance) Approval() *big.Rat {
	if g.ApprovalFraction != "" {
		if r, err := ParseFraction(g.ApprovalFraction); err == nil {
			return r
		}
	}
	return big.NewRat(g.ApprovalPercent, 100)
}

// ApprovalText is Approval as the rules write it, for people: "2/3" or "50%".
func (g Governance) ApprovalText() string {
	if _, err := ParseFraction(g.ApprovalFraction); g.ApprovalFraction != "" && err == nil {
		return g.ApprovalFraction
	}
	return fmt.Sprintf("%d%%", g.ApprovalPercent)
}

// inRange is the error at field when v is not in lo..hi.
func inRange[T ~int | ~int32 | ~int64](field string, v, lo, hi T) error {
	if v < lo || v > hi {
		return fieldErr(field, "%d is not in %d..%d", v, lo, hi)
	}
	return nil
}

// atMost is the error at field when a list has n items (of what), more than limit.
func atMost(field, what string, n, limit int) error {
	if n > limit {
		return fieldErr(field, "at most %d %s, not %d", limit, what, n)
	}
	return nil
}

// uniqueName is the error at field when name is not a valid name (see validName) or is in
// seen; it adds name to seen.
func uniqueName(field, name string, seen map[string]bool) error {
	if !validName(name) {
		return fieldErr(field, "%q must be 1..40 lower-case letters, digits and dashes, starting with a letter", name)
	}
	if seen[name] {
		return fieldErr(field, "%q is repeated", name)
	}
	seen[name] = true
	return nil
}

// Validate applies the rules of the Cooperative resource's validation to the document.
func (p *Policy) Validate() error {
	if !slices.Contains(Verticals, p.Vertical) {
		return fieldErr("vertical", "%q is not one of %v", p.Vertical, Verticals)
	}
	if err := p.FeeSplit.Validate("feeSplit"); err != nil {
		return err
	}
	if err := inRange("payments.staffLimitCents", p.Payments.StaffLimitCents, 0, MaxAmountCents); err != nil {
		return err
	}
	if err := inRange("payments.staffDisbursementLimitCents", p.Payments.StaffDisbursementLimitCents, 0, MaxAmountCents); err != nil {
		return err
	}
	if p.Fares != nil {
		if err := p.Fares.Validate(PartFares); err != nil {
			return err
		}
	}
	if err := p.Work.Validate("work"); err != nil {
		return err
	}
	// The form of the name only: a zone this binary's database does not know (a zone newer
	// than an older platform's) leaves the rest of the document in force, on UTC
	// (Location), and the platform says so (Source.Reload).
	if p.TimeZone != "" && !timeZoneName.MatchString(p.TimeZone) {
		return fieldErr("timeZone", "%q %s", p.TimeZone, TimeZoneRule)
	}
	for part := range p.Current {
		if !currentPart(part) {
			return fieldErr("current", "%q is not one of the governed parts the document has no copy of", part)
		}
	}
	return p.Governance.Validate("governance")
}

// Location is the co-op's time zone (UTC when the document names none, or one this
// binary's time zone database does not know).
func (p *Policy) Location() *time.Location {
	loc, err := LoadTimeZone(p.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// TimeZoneRule is what LoadTimeZone refuses.
const TimeZoneRule = "is not a time zone of the IANA time zone database under a region (such as Europe/Paris or America/Bogota), nor UTC"

// LoadTimeZone is the time zone of a co-op's spec.platform.timeZone: UTC for "", else the
// zone of the IANA database the name gives, which must have the form of
// coopv1.TimeZonePattern. The rule of the field, for the operator's webhook and the
// platform alike. The zones are the host's database's, or, where it has none (a distroless
// image without one, say), the copy the binaries embed (time/tzdata, imported here).
func LoadTimeZone(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if !timeZoneName.MatchString(name) {
		return nil, fmt.Errorf("%q %s", name, TimeZoneRule)
	}
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q %s", name, TimeZoneRule)
	}
	zones.Store(name, loc)
	return loc, nil
}

var timeZoneName = regexp.MustCompile(coopv1.TimeZonePattern)

// zones holds the zones LoadTimeZone read (a few hundred names at most exist): the
// platform asks for the co-op's at every match, quote and page, and time.LoadLocation
// reads the database each time.
var zones sync.Map

// Validate checks a fee split: platform fee 0..10000 basis points, fund names unique and
// in the CRD's pattern, fund basis points 0..10000 adding up to at most the platform fee,
// surge to workers 0..100 %. at is the field path of the fee split in error messages.
func (fs FeeSplit) Validate(at string) error {
	if err := inRange(at+".platformFeeBasisPoints", fs.PlatformFeeBasisPoints, 0, 10000); err != nil {
		return err
	}
	if err := atMost(at+".funds", "funds", len(fs.Funds), 16); err != nil {
		return err
	}
	var sum int64
	seen := map[string]bool{}
	for i, f := range fs.Funds {
		p := fmt.Sprintf("%s.funds[%d]", at, i)
		if err := uniqueName(p+".name", f.Name, seen); err != nil {
			return err
		}
		if err := inRange(p+".basisPoints", f.BasisPoints, 0, 10000); err != nil {
			return err
		}
		sum += f.BasisPoints
	}
	if sum > fs.PlatformFeeBasisPoints {
		return fieldErr(at+".funds", "the funds' basis points add up to %d, more than platformFeeBasisPoints %d: funds are paid out of the platform fee", sum, fs.PlatformFeeBasisPoints)
	}
	return inRange(at+".surgeToWorkersPercent", fs.SurgeToWorkersPercent, 0, 100)
}

// Validate checks governance rules: a known model, quorum and approval 1..100, an approval
// fraction (when set) of ParseFraction's form, stakeholder
// classes exactly for multi-stakeholder with unique names and weights adding up to 100,
// governed fields from the list, a minimum voting period of 1..8760 hours.
func (g Governance) Validate(at string) error {
	if !slices.Contains(Models, g.Model) {
		return fieldErr(at+".model", "%q is not one of %v", g.Model, Models)
	}
	if err := inRange(at+".quorumPercent", g.QuorumPercent, 1, 100); err != nil {
		return err
	}
	if err := inRange(at+".approvalPercent", g.ApprovalPercent, 1, 100); err != nil {
		return err
	}
	if g.ApprovalFraction != "" {
		if _, err := ParseFraction(g.ApprovalFraction); err != nil {
			return fieldErr(at+".approvalFraction", "%v", err)
		}
	}
	if err := inRange(at+".minimumVotingPeriodHours", g.MinimumVotingPeriodHours, 1, MaxVotingPeriodHours); err != nil {
		return err
	}
	if len(g.GovernedFields) > len(GovernedParts) {
		return fieldErr(at+".governedFields", "at most %d fields", len(GovernedParts))
	}
	seenField := map[string]bool{}
	for i, f := range g.GovernedFields {
		if !slices.Contains(GovernedParts, f) {
			return fieldErr(fmt.Sprintf("%s.governedFields[%d]", at, i), "%q is not one of %v", f, GovernedParts)
		}
		if seenField[f] {
			return fieldErr(fmt.Sprintf("%s.governedFields[%d]", at, i), "%q is repeated", f)
		}
		seenField[f] = true
	}
	if g.Model != MultiStakeholder {
		if len(g.StakeholderClasses) > 0 {
			return fieldErr(at+".stakeholderClasses", "stakeholderClasses is only allowed when model is multi-stakeholder")
		}
		return nil
	}
	if len(g.StakeholderClasses) == 0 {
		return fieldErr(at+".stakeholderClasses", "stakeholderClasses is required when model is multi-stakeholder")
	}
	if err := atMost(at+".stakeholderClasses", "classes", len(g.StakeholderClasses), 10); err != nil {
		return err
	}
	var w int64
	names := map[string]bool{}
	for i, c := range g.StakeholderClasses {
		p := fmt.Sprintf("%s.stakeholderClasses[%d]", at, i)
		if err := uniqueName(p+".name", c.Name, names); err != nil {
			return err
		}
		if err := inRange(p+".weight", c.Weight, 1, 100); err != nil {
			return err
		}
		w += c.Weight
	}
	if w != 100 {
		return fieldErr(at+".stakeholderClasses", "the weights of the stakeholder classes must add up to 100, not %d", w)
	}
	return nil
}

// validName is the CRD's pattern for fund and class names: ^[a-z][a-z0-9-]*$, 1..40.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 40 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}
