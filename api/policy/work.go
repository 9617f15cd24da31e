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
	"slices"
	"time"
)

// Defaults of the work rules, applied when the document leaves them out.
const (
	DefaultOfferTimeoutSeconds = 300
	DefaultUrgentFanOut        = 3
	// MaxOfferTimeoutSeconds is a day: an offer nobody answers for longer blocks the work.
	MaxOfferTimeoutSeconds = 86400
	MinOfferTimeoutSeconds = 10
	MaxUrgentFanOut        = 20
)

// WorkRules are the co-op's rules of how work finds its worker (see the platform
// README, "Work and fair matching").
type WorkRules struct {
	// OfferTimeoutSeconds is how long a worker has to accept an offer before it expires and
	// goes to the next worker: MinOfferTimeoutSeconds..MaxOfferTimeoutSeconds, default
	// DefaultOfferTimeoutSeconds.
	OfferTimeoutSeconds int64 `json:"offerTimeoutSeconds,omitempty"`
	// UrgentFanOut is how many qualified workers an urgent request (care's emergency
	// backup) is offered to at once; the first to accept takes it. 1..MaxUrgentFanOut,
	// default DefaultUrgentFanOut.
	UrgentFanOut int64 `json:"urgentFanOut,omitempty"`
}

// DefaultWorkRules are the work rules of a document that leaves them out (the document
// keeps them zero, which OfferTimeout and FanOut read as these, so that the operator's
// copy and the parsed document stay equal).
func DefaultWorkRules() WorkRules {
	return WorkRules{OfferTimeoutSeconds: DefaultOfferTimeoutSeconds, UrgentFanOut: DefaultUrgentFanOut}
}

// Validate checks the work rules; errors name the field under at.
func (w WorkRules) Validate(at string) error {
	if t := w.OfferTimeoutSeconds; t != 0 {
		if err := inRange(at+".offerTimeoutSeconds", t, MinOfferTimeoutSeconds, MaxOfferTimeoutSeconds); err != nil {
			return err
		}
	}
	if n := w.UrgentFanOut; n != 0 {
		return inRange(at+".urgentFanOut", n, 1, MaxUrgentFanOut)
	}
	return nil
}

// OfferTimeout is how long an offer stands (the default when unset).
func (w WorkRules) OfferTimeout() time.Duration {
	if w.OfferTimeoutSeconds == 0 {
		return DefaultOfferTimeoutSeconds * time.Second
	}
	return time.Duration(w.OfferTimeoutSeconds) * time.Second
}

// FanOut is how many workers an urgent request is offered to at once (the default when
// unset).
func (w WorkRules) FanOut() int {
	if w.UrgentFanOut == 0 {
		return DefaultUrgentFanOut
	}
	return int(w.UrgentFanOut)
}

// RequestsWork says whether a member of these roles requests work in a co-op of this
// vertical: a customer, and in a delivery co-op a merchant (a shop sending deliveries).
// The platform's API and its members' app both ask it.
func RequestsWork(vertical string, roles []string) bool {
	return slices.Contains(roles, "customer") || (vertical == "delivery" && slices.Contains(roles, "merchant"))
}
