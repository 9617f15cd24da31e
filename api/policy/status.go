package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// StatusKey is the key, in the ConfigMap ConfigMapName (coop-policy), of the co-op's status
// document: what the operator knows and the members' app shows (the co-op's share of the
// hub's hosting bill, the platform's reliability). It is mounted with the policy, as
// MountPath/status.json, and read at each use; it is optional, and a co-op without it
// shows "not reported".
const StatusKey = "status.json"

// Status is the co-op's status document, written by the operator.
type Status struct {
	// Hosting is the co-op's line of each CostReport period, newest first.
	Hosting []HostingLine `json:"hosting,omitempty"`
	// Reliability is the platform's and its database's state when the operator wrote this.
	Reliability *Reliability `json:"reliability,omitempty"`
	// UpdatedAt is when the operator wrote this document.
	UpdatedAt time.Time `json:"updatedAt"`
}

// HostingLine is the co-op's share of the hub's hosting bill for one period.
type HostingLine struct {
	// Period is the CostReport's month, YYYY-MM.
	Period string `json:"period"`
	// AmountCents is the co-op's line's amount, in cents of Currency.
	AmountCents int64 `json:"amountCents"`
	// Currency is the CostReport's ISO 4217 code.
	Currency string `json:"currency"`
	// Final says the period is closed (the CostReport's phase Final); else a running estimate.
	Final bool `json:"final"`
}

// Reliability is what the operator reads of the co-op's platform and database.
type Reliability struct {
	PlatformReady bool `json:"platformReady"`
	DatabaseReady bool `json:"databaseReady"`
	// LastBackup is the time of the last completed backup, if any.
	LastBackup *time.Time `json:"lastBackup,omitempty"`
}

var periodRE = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)
var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// ParseStatus reads a status document strictly: unknown fields, a malformed period or
// currency, or a negative amount are refused with the offending field named.
func ParseStatus(data []byte) (*Status, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Status
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("status document: %w", err)
	}
	for i, h := range s.Hosting {
		switch {
		case !periodRE.MatchString(h.Period):
			return nil, fmt.Errorf("status document: hosting[%d].period must be YYYY-MM", i)
		case !currencyRE.MatchString(h.Currency):
			return nil, fmt.Errorf("status document: hosting[%d].currency must be an ISO 4217 code", i)
		case h.AmountCents < 0:
			return nil, fmt.Errorf("status document: hosting[%d].amountCents must not be negative", i)
		}
	}
	return &s, nil
}

// maxHostingLines bounds the periods the status document carries (two years).
const maxHostingLines = 24

// StatusFor builds the co-op's status document from what the operator holds: its line in
// each CostReport (newest period first, at most two years), its PlatformReady and
// DatabaseReady conditions and its last backup. UpdatedAt is the newest of the times it
// read, so the document, and the ConfigMap that carries it, change only when they do.
func StatusFor(coop *coopv1.Cooperative, reports []coopv1.CostReport) (*Status, error) {
	s := &Status{}
	newest := time.Time{}
	seen := func(t time.Time) {
		if t.After(newest) {
			newest = t
		}
	}
	for i := range reports {
		r := &reports[i]
		for _, l := range r.Status.Lines {
			if l.Cooperative != coop.Name {
				continue
			}
			cents, err := amountCents(l.Amount)
			if err != nil {
				return nil, fmt.Errorf("CostReport %s, line of %s: %w", r.Name, coop.Name, err)
			}
			cur := r.Spec.Currency
			if cur == "" {
				cur = "EUR"
			}
			s.Hosting = append(s.Hosting, HostingLine{Period: r.Spec.Period.Start.UTC().Format("2006-01"), AmountCents: cents,
				Currency: cur, Final: r.Status.Phase == coopv1.CostReportFinal})
			for _, c := range r.Status.Conditions {
				seen(c.LastTransitionTime.Time)
			}
		}
	}
	sort.Slice(s.Hosting, func(i, j int) bool { return s.Hosting[i].Period > s.Hosting[j].Period })
	if len(s.Hosting) > maxHostingLines {
		s.Hosting = s.Hosting[:maxHostingLines]
	}
	rel := &Reliability{}
	for _, c := range coop.Status.Conditions {
		switch c.Type {
		case coopv1.ConditionPlatformReady:
			rel.PlatformReady = c.Status == metav1.ConditionTrue
			seen(c.LastTransitionTime.Time)
		case coopv1.ConditionDatabaseReady:
			rel.DatabaseReady = c.Status == metav1.ConditionTrue
			seen(c.LastTransitionTime.Time)
		}
	}
	if b := coop.Status.LastBackup; b != nil && b.Time != nil {
		t := b.Time.UTC()
		rel.LastBackup = &t
		seen(t)
	}
	s.Reliability = rel
	s.UpdatedAt = newest.UTC()
	return s, nil
}

// amountCents reads a CostLine amount (a decimal with at most two decimals, as the
// allocator writes it) in integer cents.
func amountCents(a string) (int64, error) {
	r, ok := new(big.Rat).SetString(a)
	if !ok || r.Sign() < 0 {
		return 0, fmt.Errorf("amount %q is not a non-negative decimal", a)
	}
	r.Mul(r, big.NewRat(100, 1))
	if !r.IsInt() || !r.Num().IsInt64() {
		return 0, fmt.Errorf("amount %q has more than two decimals or is too large", a)
	}
	return r.Num().Int64(), nil
}

// Marshal renders the status document as the ConfigMap holds it.
func (s *Status) Marshal() ([]byte, error) { return json.Marshal(s) }
