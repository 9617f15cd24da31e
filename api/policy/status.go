package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"time"
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
