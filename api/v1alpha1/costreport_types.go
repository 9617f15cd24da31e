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

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CostPool is the part of the bill a line belongs to, which decides how it is split.
// +kubebuilder:validation:Enum=compute;storage;shared
type CostPool string

// The pools of a bill.
const (
	// PoolCompute is split by weighted CPU and memory use.
	PoolCompute CostPool = "compute"
	// PoolStorage is split by storage use.
	PoolStorage CostPool = "storage"
	// PoolShared is split by the policy's shared rule.
	PoolShared CostPool = "shared"
)

// SharedSplit is how the shared pool is split.
// +kubebuilder:validation:Enum=proportional;even
type SharedSplit string

// The ways to split the shared pool.
const (
	// SharedProportional splits the shared pool in proportion to each co-op's compute and
	// storage amounts.
	SharedProportional SharedSplit = "proportional"
	// SharedEven splits the shared pool evenly among the co-ops of the period: each co-op
	// on the hub during it, however briefly (not in proportion to its days there).
	SharedEven SharedSplit = "even"
)

// CostReportPhase is where a report is in its life.
// +kubebuilder:validation:Enum=Open;Final
type CostReportPhase string

// The phases of a CostReport.
const (
	// CostReportOpen: the period runs or just ended; the amounts are a running estimate.
	CostReportOpen CostReportPhase = "Open"
	// CostReportFinal: the period ended; the bill, the policy and the amounts are frozen.
	CostReportFinal CostReportPhase = "Final"
)

// BillLine is one line of the hub's real hosting bill.
type BillLine struct {
	// description of the line, as the provider's invoice has it.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=200
	Description string `json:"description"`

	// amount of the line in the report's currency, a decimal with at most two decimals
	// and a dot, such as "412.50" (quoted), or a whole number (412).
	// +required
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:Pattern=`^[0-9]+(\.[0-9]{1,2})?$`
	Amount Decimal `json:"amount"`

	// pool the line belongs to: compute, storage or shared.
	// +required
	Pool CostPool `json:"pool"`
}

// ComputeWeights say how a core-second compares with a GiB-second of memory.
type ComputeWeights struct {
	// cpuCore is the weight of one core-second, a decimal such as 1 or "1.5" (quoted).
	// +optional
	// +kubebuilder:default="1"
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:Pattern=`^[0-9]+(\.[0-9]{1,6})?$`
	CPUCore Decimal `json:"cpuCore,omitempty"`

	// memoryGiB is the weight of one GiB-second of memory, a decimal such as "0.125"
	// (quoted) or a whole number.
	// +optional
	// +kubebuilder:default="0.125"
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:Pattern=`^[0-9]+(\.[0-9]{1,6})?$`
	MemoryGiB Decimal `json:"memoryGiB,omitempty"`
}

// Adjustment is a solidarity discount on one co-op's amount that the others carry.
type Adjustment struct {
	// cooperative is the name of the Cooperative the discount applies to.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Cooperative string `json:"cooperative"`

	// discountPercent off the co-op's amount, 0 to 100.
	// +required
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	DiscountPercent int32 `json:"discountPercent"`
}

// CostPolicy says how the bill is split.
type CostPolicy struct {
	// computeWeights weigh CPU against memory in the compute pool.
	// +optional
	// +kubebuilder:default={}
	ComputeWeights ComputeWeights `json:"computeWeights,omitzero"`

	// shared is how the shared pool is split: proportional (to each co-op's compute and
	// storage amounts) or even (among the co-ops of the period, however briefly each was
	// on the hub).
	// +optional
	// +kubebuilder:default=proportional
	Shared SharedSplit `json:"shared,omitempty"`

	// minimumAmount is a solidarity floor: every co-op of the period pays at least this
	// much, the others paying less in proportion; it is not prorated (a co-op created on
	// the period's last day pays it too; one deleted before the period began and holding
	// nothing in it is not a co-op of the period). When the bill is smaller than the floors
	// together, it is split evenly.
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:Pattern=`^[0-9]+(\.[0-9]{1,2})?$`
	MinimumAmount Decimal `json:"minimumAmount,omitempty"`

	// adjustments are discounts that the co-ops without one carry, in proportion to their
	// amounts. Applied before the floor.
	// +optional
	// +listType=map
	// +listMapKey=cooperative
	// +kubebuilder:validation:MaxItems=100
	Adjustments []Adjustment `json:"adjustments,omitempty"`
}

// Period is a billing period, the half-open interval [start, end).
// +kubebuilder:validation:XValidation:rule="self.end > self.start",message="period.end must be after period.start"
type Period struct {
	// start of the period, included.
	// +required
	Start metav1.Time `json:"start"`

	// end of the period, excluded.
	// +required
	End metav1.Time `json:"end"`
}

// CostReportSpec is the hub's bill for one period and the policy that splits it.
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.final) || !oldSelf.final || self == oldSelf",message="the CostReport is final: its period, currency, bill lines and policy can no longer change"
// +kubebuilder:validation:XValidation:rule="self.period == oldSelf.period",message="period is immutable",fieldPath=".period"
type CostReportSpec struct {
	// period is the billing period the report covers, a calendar month in UTC whose name
	// is the report's name (2026-11 is 2026-11-01T00:00:00Z to 2026-12-01T00:00:00Z).
	// +required
	Period Period `json:"period"`

	// currency of every amount, an ISO 4217 code such as EUR.
	// +optional
	// +kubebuilder:default=EUR
	// +kubebuilder:validation:Pattern=`^[A-Z]{3}$`
	Currency string `json:"currency,omitempty"`

	// lines of the hub's real bill for the period. While empty, every amount is zero.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=100
	Lines []BillLine `json:"lines,omitempty"`

	// policy says how the bill is split.
	// +optional
	// +kubebuilder:default={}
	Policy CostPolicy `json:"policy,omitzero"`

	// final freezes the report. The operator sets it once the period has ended and the
	// metering has recorded it (status.meteredThrough); after that the API server refuses
	// any change to the spec.
	// A hub may set it earlier to freeze a report by hand. It cannot be unset.
	// +optional
	Final bool `json:"final,omitempty"`
}

// CooperativeUsage is one co-op's metered usage in the report's period, recorded by the
// metering as it persists, so it outlives the Cooperative.
type CooperativeUsage struct {
	// cooperative is the name of the Cooperative.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Cooperative string `json:"cooperative"`

	// cpuMillicoreSeconds is the exact total of CPU in the period.
	// +required
	// +kubebuilder:validation:Pattern=`^[0-9]+$`
	// +kubebuilder:validation:MaxLength=40
	CPUMillicoreSeconds string `json:"cpuMillicoreSeconds"`

	// memoryByteSeconds is the exact total of memory in the period.
	// +required
	// +kubebuilder:validation:Pattern=`^[0-9]+$`
	// +kubebuilder:validation:MaxLength=40
	MemoryByteSeconds string `json:"memoryByteSeconds"`

	// storageByteSeconds is the exact total of storage in the period.
	// +required
	// +kubebuilder:validation:Pattern=`^[0-9]+$`
	// +kubebuilder:validation:MaxLength=40
	StorageByteSeconds string `json:"storageByteSeconds"`

	// estimatedSeconds of the co-op's metered time that were estimated.
	// +optional
	// +kubebuilder:validation:Minimum=0
	EstimatedSeconds int64 `json:"estimatedSeconds,omitempty"`

	// lastSampleTime is the time of the last sample included.
	// +optional
	LastSampleTime *metav1.Time `json:"lastSampleTime,omitempty"`
}

// CostLine is one co-op's share of the bill.
type CostLine struct {
	// cooperative is the name of the Cooperative.
	// +required
	Cooperative string `json:"cooperative"`

	// cpuCoreHours used in the period, two decimals.
	// +optional
	CPUCoreHours string `json:"cpuCoreHours,omitempty"`

	// memoryGiBHours used in the period, two decimals.
	// +optional
	MemoryGiBHours string `json:"memoryGiBHours,omitempty"`

	// storageGiBHours used in the period, two decimals.
	// +optional
	StorageGiBHours string `json:"storageGiBHours,omitempty"`

	// sharePercent of the total, two decimals: the lines' percentages add up to exactly
	// 100.00 (rounded by the largest remainder, as the amounts), or are all 0.00 when the
	// total is zero.
	// +optional
	SharePercent string `json:"sharePercent,omitempty"`

	// amount the co-op pays, in the report's currency.
	// +required
	Amount string `json:"amount"`

	// computeAmount, storageAmount and sharedAmount are the co-op's parts of the three
	// pools; discountAdjustment and floorAdjustment what the solidarity discounts and the
	// floor changed (negative for the co-op that pays less, positive for those that carry
	// it); roundingAdjustment the rounding to whole cents. They add up to amount exactly.
	// +optional
	ComputeAmount string `json:"computeAmount,omitempty"`
	// +optional
	StorageAmount string `json:"storageAmount,omitempty"`
	// +optional
	SharedAmount string `json:"sharedAmount,omitempty"`
	// +optional
	DiscountAdjustment string `json:"discountAdjustment,omitempty"`
	// +optional
	FloorAdjustment string `json:"floorAdjustment,omitempty"`
	// +optional
	RoundingAdjustment string `json:"roundingAdjustment,omitempty"`
}

// CostReportStatus is the split of the bill.
type CostReportStatus struct {
	// phase is Open while the amounts are a running estimate, Final once frozen.
	// +optional
	Phase CostReportPhase `json:"phase,omitempty"`

	// observedGeneration is the generation of the spec the lines were computed from. A spec
	// that cannot be split (Ready False, InvalidPolicy) has no lines and no total.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// total of the bill lines.
	// +optional
	Total string `json:"total,omitempty"`

	// lines: one per co-op, sorted by name; their amounts add up to total exactly.
	// +optional
	// +listType=map
	// +listMapKey=cooperative
	// +kubebuilder:validation:MaxItems=5000
	Lines []CostLine `json:"lines,omitempty"`

	// usage recorded by the metering, one entry per co-op that ran during the period,
	// including co-ops deleted since. Written under the field owner cooperator-metering.
	// +optional
	// +listType=map
	// +listMapKey=cooperative
	// +kubebuilder:validation:MaxItems=5000
	Usage []CooperativeUsage `json:"usage,omitempty"`

	// meteredThrough is the time of the metering's first pass after the period's end at
	// which every co-op it meters had its final totals of the period recorded in usage.
	// The operator finalizes the report only once it is set: a metering that was down
	// across the period's end, or whose writes failed, holds the report open until it has
	// caught up. Written under the field owner cooperator-metering-mark.
	// +optional
	MeteredThrough *metav1.Time `json:"meteredThrough,omitempty"`

	// conditions: Ready (the lines match the spec and the usage); Reconciling, True with
	// reason WaitingForMetering while a report whose period ended waits for the metering
	// to record it (status.meteredThrough) before it is frozen; Stalled; BillLate.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// CostReport is one billing period: the hub's real bill and how the co-ops split it.
// Its name is the period, such as 2026-11.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=coopcost;costs,categories=cooperator
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Currency",type=string,JSONPath=`.spec.currency`
// +kubebuilder:printcolumn:name="Total",type=string,JSONPath=`.status.total`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[0-9]{4}-(0[1-9]|1[0-2])$')",message="metadata.name must be the period as YYYY-MM, such as 2026-11"
// +kubebuilder:validation:XValidation:rule="oldSelf.hasValue() || !self.metadata.name.matches('^[0-9]{4}-(0[1-9]|1[0-2])$') || (self.spec.period.start == timestamp(self.metadata.name + '-01T00:00:00Z') && self.spec.period.end.getDate() == 1 && self.spec.period.end.getHours() == 0 && self.spec.period.end.getMinutes() == 0 && self.spec.period.end.getSeconds() == 0 && self.spec.period.end - self.spec.period.start >= duration('672h') && self.spec.period.end - self.spec.period.start <= duration('744h'))",optionalOldSelf=true,message="spec.period must be the month the name gives, in UTC: from its first day at 00:00:00Z to the first day of the next month (2026-11 is 2026-11-01T00:00:00Z to 2026-12-01T00:00:00Z)"
// +kubebuilder:validation:XValidation:rule="!has(self.spec.final) || !self.spec.final || (has(oldSelf.spec.final) && oldSelf.spec.final) || !has(self.status) || !has(self.status.conditions) || !self.status.conditions.exists(c, c.type == 'Stalled' && c.status == 'True')",fieldPath=".spec.final",message="the bill cannot be split as written (status: Stalled True; its Ready condition says why), and a final report never changes again: fix the bill or the policy, wait for status.lines to show the split, then set spec.final"
type CostReport struct {
	metav1.TypeMeta `json:",inline"`

	// metadata of the object. The name is the period, YYYY-MM.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the hub's bill and policy.
	// +required
	Spec CostReportSpec `json:"spec"`

	// status is the split.
	// +optional
	Status CostReportStatus `json:"status,omitempty,omitzero"`
}

// +kubebuilder:object:root=true

// CostReportList is a list of CostReports.
type CostReportList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []CostReport `json:"items"`
}

func init() {
	SchemeBuilder.Register(&CostReport{}, &CostReportList{})
}

// ConditionBillLate is True on a CostReport whose period ended, metered, before the hub
// entered its bill: the operator does not freeze it (the hub completes and checks the bill,
// then sets spec.final).
const ConditionBillLate = "BillLate"

// Condition reasons of a CostReport.
const (
	// ReasonEnteredAfterPeriod: BillLate is True (the bill was empty when the report would
	// have been frozen).
	ReasonEnteredAfterPeriod = "EnteredAfterPeriod"
	// ReasonAllocated: the lines split the bill as the spec and the usage say.
	ReasonAllocated = "Allocated"
	// ReasonNoBill: the bill has no lines yet; every amount is zero.
	ReasonNoBill = "NoBill"
	// ReasonNoUsage: no co-op was metered in the period, so there is no one to split the bill
	// among (Ready False): the hub settles it by hand.
	ReasonNoUsage = "NoUsage"
	// ReasonInvalidPolicy: the bill or policy cannot be read; the message says which field.
	// The report has no lines until it is fixed.
	ReasonInvalidPolicy = "InvalidPolicy"
	// ReasonUnknownCooperative: an adjustment names a co-op that was not metered in the
	// period (a typo, a co-op deleted): its discount goes to no one.
	ReasonUnknownCooperative = "UnknownCooperative"
	// ReasonWaitingForMetering: Reconciling is True on a report past the moment it would
	// be frozen (its period's end and the finalize delay) that the metering has not
	// marked metered through the period's end (status.meteredThrough): the metering marks
	// it after a pass in which it sampled and wrote every co-op, and its log says what it
	// could not. The amounts stay a running estimate until then.
	ReasonWaitingForMetering = "WaitingForMetering"
)
