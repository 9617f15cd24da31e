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

// Package hubstatus is the contract between the operator and a co-op's platform for what
// the hub knows of the co-op and the platform cannot see: how reliable its platform and
// database are (readiness and the last backup, from the Cooperative's status) and its
// share of the hub's hosting bill, month by month (from the CostReports' lines).
//
// The operator writes the document into the ConfigMap ConfigMapName of the co-op's
// namespace under Key (controllers/hubstatus); the platform reads it from the file the
// ConfigMap is mounted as, next to the policy document. It holds the co-op's own lines
// only: another co-op's amounts and usage never reach it, and no condition message (which
// may name hub internals) is copied.
package hubstatus

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

const (
	// ConfigMapName is the ConfigMap in the co-op's namespace that carries the document.
	ConfigMapName = "coop-hub-status"
	// Key is the document's key in the ConfigMap and its file name where mounted.
	Key = "hub-status.json"
	// MaxMonths is how many months of hosting the document keeps, newest first.
	MaxMonths = 24
	// EstimateRefresh is how long a month's running estimate in the document stands at
	// least before a changed estimate replaces it (the operator adds up to a sixth of it,
	// by the co-op's name, so that a hub's co-ops are not all rewritten in one minute). The metering moves every co-op's estimate a little at
	// each of its writes; rewriting every co-op's document each time would make a hub of a
	// thousand co-ops write a thousand ConfigMaps every few minutes. The readiness, a new
	// month and a final month reach the document at once.
	EstimateRefresh = time.Hour
)

// Document is what the hub tells a co-op's platform.
type Document struct {
	// Cooperative is the co-op's name.
	Cooperative string `json:"cooperative"`
	// Reliability is the state of the co-op's platform, database and backups.
	Reliability Reliability `json:"reliability"`
	// Hosting is the co-op's share of the hub's bill, one entry per month the hub split,
	// newest first, at most MaxMonths.
	Hosting []Month `json:"hosting"`
}

// Reliability is the state of the co-op's platform, database and backups as the
// operator last checked them.
type Reliability struct {
	// Ready, Database, Platform and Backup are the conditions Ready, DatabaseReady,
	// PlatformReady and BackupReady of the Cooperative.
	Ready    Check `json:"ready"`
	Database Check `json:"database"`
	Platform Check `json:"platform"`
	Backup   Check `json:"backup"`
	// LastBackup is when the last successful backup completed; nil before the first.
	LastBackup *time.Time `json:"lastBackup,omitempty"`
}

// Check is one condition: its status (True, False or Unknown when the operator has not
// reported it yet), its reason (a CamelCase word of the operator's documented reasons)
// and since when it holds.
type Check struct {
	Status string     `json:"status"`
	Reason string     `json:"reason,omitempty"`
	Since  *time.Time `json:"since,omitempty"`
}

// Month is the co-op's line of one CostReport. Amounts are exact decimal strings in the
// report's currency, as in the CostReport: Amount is the sum of the parts.
type Month struct {
	// Period is the month, YYYY-MM.
	Period string `json:"period"`
	// Final: the report is frozen; otherwise the amounts are a running estimate.
	Final bool `json:"final"`
	// EstimatedAt is, for a running estimate, when the operator took it (at most
	// EstimateRefresh old while the estimate moves); nil for a final month.
	EstimatedAt *time.Time `json:"estimatedAt,omitempty"`
	// Currency is the ISO 4217 code of the amounts.
	Currency string `json:"currency"`
	// HubTotal is the hub's whole bill for the month; Cooperatives how many co-ops split it.
	HubTotal     string `json:"hubTotal"`
	Cooperatives int    `json:"cooperatives"`
	// Amount is what the co-op pays; SharePercent its percentage of HubTotal.
	Amount       string `json:"amount"`
	SharePercent string `json:"sharePercent,omitempty"`
	// The parts of Amount: the three pools, and the adjustments of the solidarity
	// discounts, the floor and the rounding to whole cents.
	ComputeAmount      string `json:"computeAmount,omitempty"`
	StorageAmount      string `json:"storageAmount,omitempty"`
	SharedAmount       string `json:"sharedAmount,omitempty"`
	DiscountAdjustment string `json:"discountAdjustment,omitempty"`
	FloorAdjustment    string `json:"floorAdjustment,omitempty"`
	RoundingAdjustment string `json:"roundingAdjustment,omitempty"`
}

var (
	period  = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)
	decimal = regexp.MustCompile(`^-?[0-9]+(\.[0-9]{1,2})?$`)
)

// Parse reads a document and checks it (see Validate).
func Parse(b []byte) (*Document, error) {
	var d Document
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", Key, err)
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

// Validate checks what the platform relies on: a co-op name, at most MaxMonths months,
// each with a YYYY-MM period (newest first, no month twice) and exact decimal amounts.
func (d *Document) Validate() error {
	if d.Cooperative == "" {
		return fmt.Errorf("%s: cooperative: must be set", Key)
	}
	if len(d.Hosting) > MaxMonths {
		return fmt.Errorf("%s: hosting: %d months, at most %d", Key, len(d.Hosting), MaxMonths)
	}
	for i, m := range d.Hosting {
		field := fmt.Sprintf("%s: hosting[%d]", Key, i)
		if !period.MatchString(m.Period) {
			return fmt.Errorf("%s.period: %q is not YYYY-MM", field, m.Period)
		}
		if i > 0 && m.Period >= d.Hosting[i-1].Period {
			return fmt.Errorf("%s.period: %s must come before %s (newest first, each month once)", field, m.Period, d.Hosting[i-1].Period)
		}
		for name, v := range map[string]string{"amount": m.Amount, "hubTotal": m.HubTotal} {
			if !decimal.MatchString(v) {
				return fmt.Errorf("%s.%s: %q is not a decimal amount", field, name, v)
			}
		}
	}
	return nil
}

// Marshal is the document as the operator writes it: indented, stable.
func (d *Document) Marshal() ([]byte, error) {
	return json.MarshalIndent(d, "", "  ")
}
