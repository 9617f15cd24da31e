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

package governance

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	tally "github.com/cooperator-dev/cooperator/platform/server/governance"
)

// WriteStatus is the reconciler's status write, for the package's external tests.
var WriteStatus = (*Reconciler).writeStatus

// WriteIdleStatus is the write of a reconcile that found nothing to apply.
func WriteIdleStatus(r *Reconciler, ctx context.Context, coop *coopv1.Cooperative, cond metav1.Condition) error {
	return r.writeStatusIf(ctx, coop, nil, cond, idle)
}

// WriteAhead is the record of a proposal about to be applied.
var WriteAhead = (*Reconciler).writeAhead

// ApplyChange carries out p's change as applyOne does once decide found it applicable, and
// says what became of it.
func ApplyChange(r *Reconciler, ctx context.Context, coop *coopv1.Cooperative, p tally.Closed) (state, message string, err error) {
	o := outcome{state: tally.ApplicationApplied, record: &coopv1.AppliedProposal{ID: p.ID, Field: coopv1.GovernedField(p.Field), NewValue: string(p.Value)}}
	o, err = r.applyChange(ctx, coop, p, o)
	return o.state, o.message, err
}

// Connect is the reconciler's connection to a co-op's database.
var Connect = (*Reconciler).connect
