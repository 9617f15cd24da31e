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
	"fmt"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// specFields are the governed parts of a Cooperative's spec, each with the field it names:
// the one definition the operator applies a change by and the document copies the values
// in force from.
var specFields = map[string]func(s *coopv1.CooperativeSpec) any{
	PartFeeSplit:       func(s *coopv1.CooperativeSpec) any { return &s.FeeSplit },
	PartPlan:           func(s *coopv1.CooperativeSpec) any { return &s.Plan },
	PartFederation:     func(s *coopv1.CooperativeSpec) any { return &s.Federation },
	PartGovernance:     func(s *coopv1.CooperativeSpec) any { return &s.Governance },
	PartDatabase:       func(s *coopv1.CooperativeSpec) any { return &s.Database },
	PartBackup:         func(s *coopv1.CooperativeSpec) any { return &s.Backup },
	PartPlatform:       func(s *coopv1.CooperativeSpec) any { return &s.Platform },
	PartDeletionPolicy: func(s *coopv1.CooperativeSpec) any { return &s.DeletionPolicy },
}

// SpecField is a pointer to the field of spec that a governed part names; false for a
// name that is no governed part.
func SpecField(spec *coopv1.CooperativeSpec, part string) (any, bool) {
	field, ok := specFields[part]
	if !ok {
		return nil, false
	}
	return field(spec), true
}

// SpecPart is the JSON of one governed part of the Cooperative's spec. The federation part
// is spec.federation.peers: primary (a switchover) is the co-op admins', not the members'.
func SpecPart(coop *coopv1.Cooperative, part string) (json.RawMessage, error) {
	value, ok := SpecField(&coop.Spec, part)
	if !ok {
		return nil, fmt.Errorf("%q is not a governed part", part)
	}
	if part == PartFederation {
		value = coopv1.FederationSpec{Peers: coop.Spec.Federation.Peers}
	}
	b, err := json.Marshal(value)
	if err != nil {
		return nil, fmt.Errorf("encoding spec.%s: %w", part, err)
	}
	return b, nil
}
