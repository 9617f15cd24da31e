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

package metering

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	usageCPU          = perCoopCounter("cooperator_usage_cpu_core_seconds_total", "CPU metered per co-op, max(request, usage), in core-seconds, since the operator started.")
	usageMemory       = perCoopCounter("cooperator_usage_memory_byte_seconds_total", "Memory metered per co-op, max(request, usage), in byte-seconds, since the operator started.")
	usageStorage      = perCoopCounter("cooperator_usage_storage_byte_seconds_total", "Storage metered per co-op (bound volumes and shared database), in byte-seconds, since the operator started.")
	allocationCPU     = perCoopGauge("cooperator_allocation_cpu_cores", "CPU a co-op holds at the last sample, max(request, usage), in cores.")
	allocationMemory  = perCoopGauge("cooperator_allocation_memory_bytes", "Memory a co-op holds at the last sample, max(request, usage), in bytes.")
	allocationStorage = perCoopGauge("cooperator_allocation_storage_bytes", "Storage a co-op holds at the last sample, in bytes.")
)

// perCoopCounter and perCoopGauge are metrics with one series per co-op.
func perCoopCounter(name, help string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"cooperative"})
}

func perCoopGauge(name, help string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"cooperative"})
}

func init() {
	metrics.Registry.MustRegister(usageCPU, usageMemory, usageStorage, allocationCPU, allocationMemory, allocationStorage)
}

func observe(coop string, r Rates, seconds int64) {
	s := float64(seconds)
	usageCPU.WithLabelValues(coop).Add(float64(r.MilliCPU) / 1000 * s)
	usageMemory.WithLabelValues(coop).Add(float64(r.MemoryBytes) * s)
	usageStorage.WithLabelValues(coop).Add(float64(r.StorageBytes) * s)
	allocationCPU.WithLabelValues(coop).Set(float64(r.MilliCPU) / 1000)
	allocationMemory.WithLabelValues(coop).Set(float64(r.MemoryBytes))
	allocationStorage.WithLabelValues(coop).Set(float64(r.StorageBytes))
}

func forget(coop string) {
	for _, v := range []*prometheus.CounterVec{usageCPU, usageMemory, usageStorage} {
		v.DeleteLabelValues(coop)
	}
	for _, v := range []*prometheus.GaugeVec{allocationCPU, allocationMemory, allocationStorage} {
		v.DeleteLabelValues(coop)
	}
}
