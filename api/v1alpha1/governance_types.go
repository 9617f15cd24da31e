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

package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// ConditionGoverned says whether the governed changes the members passed in the platform
// service are applied: True when every passed proposal the operator found is applied (or
// reported back as impossible), False when it refused one.
const ConditionGoverned = "Governed"

// Reasons of the Governed condition.
const (
	// ReasonChangesApplied: every passed proposal found in the co-op's database is applied
	// or was reported back to the members as impossible; none waits.
	ReasonChangesApplied = "ChangesApplied"
	// ReasonTallyMismatch: a proposal is marked passed in the co-op's database but the
	// operator's re-tally of its ballots does not give that result; nothing was applied.
	ReasonTallyMismatch = "TallyMismatch"
	// ReasonClosedBeforeDecided: a proposal waits in the co-op's database that closed well
	// before the newest one the operator decided (status.governance.decidedThrough) and is
	// not in the history: the database was restored to an earlier point, and the change
	// may have been applied and superseded since. Nothing was applied; the members see it
	// refused and may propose it again.
	ReasonClosedBeforeDecided = "ClosedBeforeDecided"
	// ReasonClosedEarly: a proposal is marked passed in the co-op's database but it closed
	// before the co-op's minimum voting period (spec.governance.minimumVotingPeriodHours)
	// while members of its electorate had not voted; nothing was applied.
	ReasonClosedEarly = "ClosedEarly"
	// ReasonProposalTooLarge: a proposal is marked passed in the co-op's database but its
	// change, rules or recorded result, or its roll or delegations, are larger than the
	// operator reads (only a database written past the platform's checks holds one: the
	// operator, which serves every co-op, reads bounded amounts); nothing was applied.
	ReasonProposalTooLarge = "ProposalTooLarge"
	// ReasonChangeNotApplicable: a passed proposal could not be applied (the plan no longer
	// exists, the API server refused the value, the rules changed while it was open); it
	// was reported back to the members.
	ReasonChangeNotApplicable = "ChangeNotApplicable"
	// ReasonDatabaseUnreachable: the operator could not read the co-op's database (no
	// credentials yet, or no connection); it retries.
	ReasonDatabaseUnreachable = "DatabaseUnreachable"
	// ReasonWriteBackFailed (Governed False): what became of a passed proposal (applied,
	// refused or failed) could not be written back to the co-op's database, so its members
	// do not see it. The operator tries again, and handles no other proposal until it
	// succeeds; the message names the proposal and the database's error.
	ReasonWriteBackFailed = "WriteBackFailed"
	// ReasonPrimaryAtPeer (Governed Unknown): spec.federation.primary names a peer, so the
	// copy of the database here is a read-only replica and the members vote at that peer.
	// The operator reads no proposal here, and its standby at the peer applies none: passed
	// proposals wait, pending, until the primary is back here.
	ReasonPrimaryAtPeer = "PrimaryAtPeer"
	// ReasonPrimaryReturnedForVotes (Warning event): passed proposals waited, pending, for
	// longer than the hub's maxVoteHoldAtPeer while the co-op's primary database was at a
	// peer, so the operator cleared spec.federation.primary to bring it home, where they are
	// applied.
	ReasonPrimaryReturnedForVotes = "PrimaryReturnedForVotes"
	// ReasonDatabaseReadOnly (Governed Unknown): the co-op's database here accepts no
	// writes (a replica: a switchover or a switchback under way, the home held), so no
	// outcome could be written back; passed proposals wait, pending.
	ReasonDatabaseReadOnly = "DatabaseReadOnly"
)

// MaxGovernanceHistory bounds status.governance.history.
const MaxGovernanceHistory = 10

// GovernanceStatus records the governed changes applied to the Cooperative.
type GovernanceStatus struct {
	// history of the proposals applied, newest first, at most 10.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10
	History []AppliedProposal `json:"history,omitempty"`

	// refused are the passed proposals the operator did not apply, newest first, at most
	// 10: refused by its checks of the vote (TallyMismatch, ClosedEarly,
	// ClosedBeforeDecided) or not applicable (ChangeNotApplicable). The Governed condition
	// says only the last outcome, and events expire: a refusal that may be the sign of a
	// forged vote stays here, on the cluster, whatever the co-op's database says.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10
	Refused []RefusedProposal `json:"refused,omitempty"`

	// applying is the passed proposal whose change the operator is writing into the spec,
	// with the governed part's value before it. The operator records it before it changes
	// the spec, and removes it in the write that adds the proposal's record to the history
	// or says why it was not applied, or once the proposal no longer waits in the co-op's
	// database. A change interrupted after its spec write (a restart, a status write that
	// failed) is finished first and recorded with the value it replaced, not with the
	// value the spec already holds; a change of the rules is judged by the rules it
	// replaced.
	// +optional
	Applying *ApplyingProposal `json:"applying,omitempty"`

	// decidedThrough is when the newest proposal the operator decided (applied, refused or
	// reported back as not applicable) closed. A proposal that waits in the co-op's
	// database but closed well before it, and is not in the history, comes from a database
	// restored to an earlier point: it may have been applied and superseded since, and is
	// refused rather than applied again.
	// +optional
	DecidedThrough *metav1.Time `json:"decidedThrough,omitempty"`

	// minimumVotingPeriodHours is the co-op's minimum voting period as the operator last
	// saw it in the spec (the policy's default when the spec sets none).
	// +optional
	// +kubebuilder:validation:Minimum=0
	MinimumVotingPeriodHours int32 `json:"minimumVotingPeriodHours,omitempty"`

	// waitingAtPeerSince is when the operator first saw passed proposals wait, pending,
	// that it could not apply because the co-op's primary database was at a peer
	// (spec.federation.primary). It bounds how long a switchover holds the members' votes
	// back: once the hub's maxVoteHoldAtPeer has passed since, the operator clears
	// spec.federation.primary and the primary comes home, and while it is set the co-op's
	// admins may not switch over again. Removed once the database here takes writes again,
	// and the proposals are applied, or once none waits.
	// +optional
	WaitingAtPeerSince *metav1.Time `json:"waitingAtPeerSince,omitempty"`

	// votingPeriodRaises are the raises of the minimum voting period the operator saw in
	// the spec (by a vote or the hub's break-glass), oldest first, for as long as a vote
	// may stay open: a proposal open when the minimum was raised is held to the one it
	// opened under.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	VotingPeriodRaises []VotingPeriodRaise `json:"votingPeriodRaises,omitempty"`
}

// MaxVotingPeriodRaises bounds status.governance.votingPeriodRaises.
const MaxVotingPeriodRaises = 32

// VotingPeriodRaise is a raise of a co-op's minimum voting period.
type VotingPeriodRaise struct {
	// fromHours is the minimum voting period before the raise.
	// +required
	// +kubebuilder:validation:Minimum=1
	FromHours int32 `json:"fromHours"`

	// at is when the operator saw the raised minimum in the spec.
	// +required
	At metav1.Time `json:"at"`
}

// RefusedProposal is a passed proposal the operator did not apply, and why.
type RefusedProposal struct {
	// id of the proposal in the co-op's platform service.
	// +required
	// +kubebuilder:validation:Minimum=1
	ID int64 `json:"id"`

	// field is the part of the spec the proposal would have changed, as the co-op's
	// database names it (a forged proposal may name one that is not governed).
	// +required
	// +kubebuilder:validation:MaxLength=64
	Field string `json:"field"`

	// closedAt is when the vote closed in the platform service.
	// +optional
	ClosedAt *metav1.Time `json:"closedAt,omitempty"`

	// decidedAt is when the operator decided not to apply it.
	// +required
	DecidedAt metav1.Time `json:"decidedAt"`

	// reason is the Governed condition's reason the outcome gave, such as TallyMismatch.
	// +required
	// +kubebuilder:validation:MaxLength=64
	Reason string `json:"reason"`

	// message says why, as the members were told.
	// +required
	// +kubebuilder:validation:MaxLength=2048
	Message string `json:"message"`
}

// ApplyingProposal is a passed proposal the operator is applying to the spec.
type ApplyingProposal struct {
	// id of the proposal in the co-op's platform service.
	// +required
	// +kubebuilder:validation:Minimum=1
	ID int64 `json:"id"`

	// field is the governed part of the spec the proposal changes.
	// +required
	Field GovernedField `json:"field"`

	// oldValue is the part's value before the change, as JSON.
	// +optional
	// +kubebuilder:validation:MaxLength=8192
	OldValue string `json:"oldValue,omitempty"`

	// closedAt is when the proposal's vote closed. With id it names the proposal: a
	// database restored to an earlier point numbers its new proposals again.
	// +optional
	ClosedAt *metav1.Time `json:"closedAt,omitempty"`
}

// AppliedProposal is a passed proposal the operator applied to the spec.
type AppliedProposal struct {
	// id of the proposal in the co-op's platform service.
	// +required
	// +kubebuilder:validation:Minimum=1
	ID int64 `json:"id"`

	// field is the governed part of the spec the proposal changed.
	// +required
	Field GovernedField `json:"field"`

	// oldValue is the part's value before the change, as JSON.
	// +optional
	// +kubebuilder:validation:MaxLength=8192
	OldValue string `json:"oldValue,omitempty"`

	// newValue is the part's value the members passed, as JSON.
	// +required
	// +kubebuilder:validation:MaxLength=8192
	NewValue string `json:"newValue"`

	// tally is the operator's own re-tally of the ballots, such as "multi-stakeholder:
	// turnout 100.00%, approval 80.00%".
	// +required
	// +kubebuilder:validation:MaxLength=1024
	Tally string `json:"tally"`

	// closedAt is when the vote closed in the platform service.
	// +optional
	ClosedAt *metav1.Time `json:"closedAt,omitempty"`

	// appliedAt is when the operator applied the change.
	// +required
	AppliedAt metav1.Time `json:"appliedAt"`
}
