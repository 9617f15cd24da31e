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
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MaxUsagePeriods is how many billing periods status.usage keeps: the current one and the
// twelve before it.
const MaxUsagePeriods = 13

// MaxEstimatedIntervals is how many estimated intervals a period records; older ones are
// dropped, their seconds stay counted in estimatedSeconds.
const MaxEstimatedIntervals = 10

// UsageStatus is the metered usage of a co-op, written by the metering under its own field
// owner (cooperator-metering). Totals are exact integers written as decimal strings.
type UsageStatus struct {
	// lastSampleTime is the time of the last sample the totals include. The totals and this
	// time are always written together, so a restarted operator resumes from here and counts
	// no interval twice.
	// +required
	LastSampleTime metav1.Time `json:"lastSampleTime"`

	// allocation is what the co-op held at the last sample.
	// +optional
	Allocation Allocation `json:"allocation,omitempty,omitzero"`

	// currentPeriod is the billing period of the last sample, such as 2026-11.
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9]{4}-[0-9]{2}$`
	CurrentPeriod string `json:"currentPeriod,omitempty"`

	// estimatedAmount is the co-op's share of the current period's bill as the CostReport of
	// that period last computed it; empty while the period has no CostReport.
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9]+(\.[0-9]{1,2})?$`
	EstimatedAmount string `json:"estimatedAmount,omitempty"`

	// currency of estimatedAmount (ISO 4217).
	// +optional
	// +kubebuilder:validation:Pattern=`^[A-Z]{3}$`
	Currency string `json:"currency,omitempty"`

	// periods holds the usage of the last 13 billing periods, newest first.
	// +optional
	// +listType=map
	// +listMapKey=period
	// +kubebuilder:validation:MaxItems=13
	Periods []PeriodUsage `json:"periods,omitempty"`
}

// Allocation is what a co-op holds at one instant: for every running pod max(request,
// usage) of CPU and memory, plus its bound volumes' capacity and its shared database size.
type Allocation struct {
	// cpu in cores.
	// +optional
	CPU resource.Quantity `json:"cpu,omitempty,omitzero"`

	// memory in bytes.
	// +optional
	Memory resource.Quantity `json:"memory,omitempty,omitzero"`

	// storage in bytes: bound PersistentVolumeClaims and the shared-tier database.
	// +optional
	Storage resource.Quantity `json:"storage,omitempty,omitzero"`

	// database in bytes: the part of storage that is the co-op's database on the shared
	// tier, as last read. A restarted operator counts it while the shared cluster does not
	// answer.
	// +optional
	Database resource.Quantity `json:"database,omitempty,omitzero"`
}

// PeriodUsage is the usage of one co-op in one billing period.
type PeriodUsage struct {
	// period is the billing period: a calendar month in UTC, such as 2026-11.
	// +required
	// +kubebuilder:validation:Pattern=`^[0-9]{4}-[0-9]{2}$`
	Period string `json:"period"`

	// cpuMillicoreSeconds is the exact total of CPU, in millicores times seconds.
	// +required
	// +kubebuilder:validation:Pattern=`^[0-9]+$`
	// +kubebuilder:validation:MaxLength=40
	CPUMillicoreSeconds string `json:"cpuMillicoreSeconds"`

	// memoryByteSeconds is the exact total of memory, in bytes times seconds.
	// +required
	// +kubebuilder:validation:Pattern=`^[0-9]+$`
	// +kubebuilder:validation:MaxLength=40
	MemoryByteSeconds string `json:"memoryByteSeconds"`

	// storageByteSeconds is the exact total of storage, in bytes times seconds.
	// +required
	// +kubebuilder:validation:Pattern=`^[0-9]+$`
	// +kubebuilder:validation:MaxLength=40
	StorageByteSeconds string `json:"storageByteSeconds"`

	// cpuCoreHours is cpuMillicoreSeconds in core-hours, rounded to two decimals, for people.
	// +optional
	CPUCoreHours string `json:"cpuCoreHours,omitempty"`

	// memoryGiBHours is memoryByteSeconds in GiB-hours, rounded to two decimals.
	// +optional
	MemoryGiBHours string `json:"memoryGiBHours,omitempty"`

	// storageGiBHours is storageByteSeconds in GiB-hours, rounded to two decimals.
	// +optional
	StorageGiBHours string `json:"storageGiBHours,omitempty"`

	// meteredSeconds of the period the totals cover.
	// +optional
	// +kubebuilder:validation:Minimum=0
	MeteredSeconds int64 `json:"meteredSeconds,omitempty"`

	// estimatedSeconds of meteredSeconds that were not observed (the operator was down or
	// could not sample) and were charged at the allocation seen when it resumed.
	// +optional
	// +kubebuilder:validation:Minimum=0
	EstimatedSeconds int64 `json:"estimatedSeconds,omitempty"`

	// estimatedIntervals are the latest intervals counted in estimatedSeconds, oldest first.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10
	EstimatedIntervals []TimeInterval `json:"estimatedIntervals,omitempty"`
}

// TimeInterval is the half-open interval (start, end].
type TimeInterval struct {
	// start of the interval, excluded.
	// +required
	Start metav1.Time `json:"start"`

	// end of the interval, included.
	// +required
	End metav1.Time `json:"end"`
}
