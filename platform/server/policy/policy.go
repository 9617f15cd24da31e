// Package policy loads and validates the co-op policy (policy.json), the copy of the
// Cooperative spec's fields that the operator mounts from the coop-policy ConfigMap, and
// keeps it fresh while the service runs.
package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cooperator-dev/cooperator/platform/server/ledger"
)

// Verticals are the kinds of co-op the platform service runs.
var Verticals = []string{"delivery", "ride-sharing", "home-services", "care", "freelance", "marketplace", "housing"}

// Governance models.
const (
	OneMemberOneVote = "one-member-one-vote"
	MultiStakeholder = "multi-stakeholder"
	Consent          = "consent"
	Delegate         = "delegate"
)

// Models lists the governance models.
var Models = []string{OneMemberOneVote, MultiStakeholder, Consent, Delegate}

// Policy is the content of policy.json.
type Policy struct {
	Cooperative string     `json:"cooperative"`
	Vertical    string     `json:"vertical"`
	FeeSplit    FeeSplit   `json:"feeSplit"`
	Governance  Governance `json:"governance"`
	// Payments bounds the payments recorded through POST /v1/payments. Optional: without
	// it staff record no payments of their own.
	Payments Payments `json:"payments,omitzero"`
	// BreakGlass lists the changes of governed fields the hub made through its break-glass
	// path instead of a passed proposal, as the operator recorded them; members read them
	// with the rest of the policy.
	BreakGlass []BreakGlassUse `json:"breakGlass,omitempty"`
}

// Payments bounds the payments staff record (see the platform README, "Payments").
type Payments struct {
	// StaffLimitCents is the largest payment, in cents, that staff (the admin token) may
	// record; 0, the default, means staff record none. Members pay only for completed
	// work they requested, whatever this says.
	StaffLimitCents int64 `json:"staffLimitCents,omitempty"`
}

// BreakGlassUse is one change of governed fields the hub made without a vote.
type BreakGlassUse struct {
	User       string    `json:"user"`
	Time       time.Time `json:"time"`
	Fields     []string  `json:"fields"`
	Reason     string    `json:"reason"`
	Generation int64     `json:"generation,omitempty"`
}

// FeeSplit is how payments are split.
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

// Governance is how the co-op decides.
type Governance struct {
	Model              string             `json:"model"`
	QuorumPercent      int64              `json:"quorumPercent"`
	ApprovalPercent    int64              `json:"approvalPercent"`
	StakeholderClasses []StakeholderClass `json:"stakeholderClasses,omitempty"`
	GovernedFields     []string           `json:"governedFields,omitempty"`
}

// StakeholderClass is a class of members with a voting weight (multi-stakeholder).
type StakeholderClass struct {
	Name   string `json:"name"`
	Weight int64  `json:"weight"`
}

// Rule returns the fee split rule for the ledger.
func (p *Policy) Rule() ledger.Rule {
	r := ledger.Rule{PlatformFeeBasisPoints: p.FeeSplit.PlatformFeeBasisPoints, SurgeToWorkersPercent: p.FeeSplit.SurgeToWorkersPercent}
	for _, f := range p.FeeSplit.Funds {
		r.Funds = append(r.Funds, ledger.Fund{Name: f.Name, BasisPoints: f.BasisPoints})
	}
	return r
}

// HasClass reports whether name is one of the policy's stakeholder classes.
func (p *Policy) HasClass(name string) bool {
	return slices.ContainsFunc(p.Governance.StakeholderClasses, func(c StakeholderClass) bool { return c.Name == name })
}

// Parse decodes and validates policy JSON; unknown fields are refused.
func Parse(data []byte) (*Policy, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Policy
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("policy: trailing data after the JSON object")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate applies the same rules as the Cooperative resource's validation.
func (p *Policy) Validate() error {
	if !slices.Contains(Verticals, p.Vertical) {
		return fmt.Errorf("policy: vertical %q is not one of %v", p.Vertical, Verticals)
	}
	fs := p.FeeSplit
	if fs.PlatformFeeBasisPoints < 0 || fs.PlatformFeeBasisPoints > 10000 {
		return fmt.Errorf("policy: feeSplit.platformFeeBasisPoints %d is not in 0..10000", fs.PlatformFeeBasisPoints)
	}
	var sum int64
	seen := map[string]bool{}
	for i, f := range fs.Funds {
		if f.Name == "" {
			return fmt.Errorf("policy: feeSplit.funds[%d].name is empty", i)
		}
		if seen[f.Name] {
			return fmt.Errorf("policy: feeSplit.funds[%d].name %q is repeated", i, f.Name)
		}
		seen[f.Name] = true
		if f.BasisPoints < 0 || f.BasisPoints > 10000 {
			return fmt.Errorf("policy: feeSplit.funds[%d].basisPoints %d is not in 0..10000", i, f.BasisPoints)
		}
		sum += f.BasisPoints
	}
	if sum > fs.PlatformFeeBasisPoints {
		return fmt.Errorf("policy: funds take %d basis points, more than platformFeeBasisPoints %d", sum, fs.PlatformFeeBasisPoints)
	}
	if fs.SurgeToWorkersPercent < 0 || fs.SurgeToWorkersPercent > 100 {
		return fmt.Errorf("policy: feeSplit.surgeToWorkersPercent %d is not in 0..100", fs.SurgeToWorkersPercent)
	}
	if l := p.Payments.StaffLimitCents; l < 0 || l > ledger.MaxAmountCents {
		return fmt.Errorf("policy: payments.staffLimitCents %d is not in 0..%d", l, ledger.MaxAmountCents)
	}
	g := p.Governance
	if !slices.Contains(Models, g.Model) {
		return fmt.Errorf("policy: governance.model %q is not one of %v", g.Model, Models)
	}
	if g.QuorumPercent < 1 || g.QuorumPercent > 100 {
		return fmt.Errorf("policy: governance.quorumPercent %d is not in 1..100", g.QuorumPercent)
	}
	if g.ApprovalPercent < 1 || g.ApprovalPercent > 100 {
		return fmt.Errorf("policy: governance.approvalPercent %d is not in 1..100", g.ApprovalPercent)
	}
	if g.Model == MultiStakeholder {
		if len(g.StakeholderClasses) == 0 {
			return fmt.Errorf("policy: governance.stakeholderClasses are required for multi-stakeholder")
		}
		var w int64
		names := map[string]bool{}
		for i, c := range g.StakeholderClasses {
			if c.Name == "" || names[c.Name] {
				return fmt.Errorf("policy: governance.stakeholderClasses[%d].name %q is empty or repeated", i, c.Name)
			}
			names[c.Name] = true
			if c.Weight < 1 || c.Weight > 100 {
				return fmt.Errorf("policy: governance.stakeholderClasses[%d].weight %d is not in 1..100", i, c.Weight)
			}
			w += c.Weight
		}
		if w != 100 {
			return fmt.Errorf("policy: governance.stakeholderClasses weights sum to %d, not 100", w)
		}
	} else if len(g.StakeholderClasses) > 0 {
		return fmt.Errorf("policy: governance.stakeholderClasses are only allowed for multi-stakeholder")
	}
	return nil
}

// Source holds the current policy and reloads it from a file.
type Source struct {
	path    string
	log     *slog.Logger
	current atomic.Pointer[Policy]
	mu      sync.Mutex // guards raw
	raw     []byte     // the file content last read, valid or not
}

// NewSource returns a source for the file at path. Call Reload (or Watch) to load it.
func NewSource(path string, log *slog.Logger) *Source {
	return &Source{path: path, log: log}
}

// Current returns the policy in force, or nil if none has loaded yet.
func (s *Source) Current() *Policy { return s.current.Load() }

// Set replaces the policy in force (used by tests and by callers without a file).
func (s *Source) Set(p *Policy) { s.current.Store(p) }

// Reload reads the file and applies it if its content changed and is valid. An invalid
// file leaves the previous policy in force and returns the error (once per content).
func (s *Source) Reload() error {
	data, err := os.ReadFile(s.path)
	if err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.raw != nil && bytes.Equal(data, s.raw) {
		return nil
	}
	s.raw = data
	p, err := Parse(data)
	if err != nil {
		return err
	}
	s.current.Store(p)
	s.log.Info("policy applied", "cooperative", p.Cooperative, "vertical", p.Vertical,
		"platformFeeBasisPoints", p.FeeSplit.PlatformFeeBasisPoints, "model", p.Governance.Model)
	return nil
}

// Watch polls the file every interval until ctx is done. Kubernetes updates a mounted
// ConfigMap by swapping a symlink, so reading the path's content is reliable where
// watching the file itself is not.
func (s *Source) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Reload(); err != nil {
				s.log.Error("policy not applied; keeping the previous one", "file", s.path, "error", err)
			}
		}
	}
}
