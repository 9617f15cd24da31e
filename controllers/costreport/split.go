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

package costreport

import (
	"fmt"
	"math/big"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/costreport/allocation"
)

// InputFromSpec reads a report's bill, policy and recorded usage into the allocator's input.
func InputFromSpec(spec *coopv1.CostReportSpec, usage []coopv1.CooperativeUsage) (allocation.Input, error) {
	var in allocation.Input
	for i, l := range spec.Lines {
		c, err := allocation.ParseCents(l.Amount.String())
		if err != nil {
			return in, fmt.Errorf("spec.lines[%d].amount: %w", i, err)
		}
		in.Bill = append(in.Bill, allocation.BillLine{Pool: string(l.Pool), Cents: c})
	}
	p := spec.Policy
	cpu, mem := p.ComputeWeights.CPUCore.String(), p.ComputeWeights.MemoryGiB.String()
	if cpu == "" {
		cpu = "1"
	}
	if mem == "" {
		mem = "0.125"
	}
	var err error
	if in.Policy.CPUCoreWeight, err = allocation.ParseDecimal(cpu); err != nil {
		return in, fmt.Errorf("spec.policy.computeWeights.cpuCore: %w", err)
	}
	if in.Policy.MemoryGiBWeight, err = allocation.ParseDecimal(mem); err != nil {
		return in, fmt.Errorf("spec.policy.computeWeights.memoryGiB: %w", err)
	}
	in.Policy.Shared = string(p.Shared)
	if p.MinimumAmount != "" {
		if in.Policy.MinimumCents, err = allocation.ParseCents(p.MinimumAmount.String()); err != nil {
			return in, fmt.Errorf("spec.policy.minimumAmount: %w", err)
		}
	}
	if len(p.Adjustments) > 0 {
		in.Policy.DiscountPercent = map[string]int64{}
		for _, a := range p.Adjustments {
			in.Policy.DiscountPercent[a.Cooperative] = int64(a.DiscountPercent)
		}
	}
	for i, u := range usage {
		var vals [3]*big.Int
		for j, s := range []string{u.CPUMillicoreSeconds, u.MemoryByteSeconds, u.StorageByteSeconds} {
			if vals[j], err = allocation.ParseInteger(s); err != nil {
				return in, fmt.Errorf("status.usage[%d] (%s): %w", i, u.Cooperative, err)
			}
		}
		in.Usage = append(in.Usage, allocation.Usage{
			Cooperative:         u.Cooperative,
			CPUMillicoreSeconds: vals[0],
			MemoryByteSeconds:   vals[1],
			StorageByteSeconds:  vals[2],
		})
	}
	return in, nil
}

// Lines computes the report's lines: one per co-op, sorted by name, adding up to total.
func Lines(spec *coopv1.CostReportSpec, usage []coopv1.CooperativeUsage) (total int64, lines []coopv1.CostLine, err error) {
	in, err := InputFromSpec(spec, usage)
	if err != nil {
		return 0, nil, err
	}
	shares, err := allocation.Allocate(in)
	if err != nil {
		return 0, nil, err
	}
	total = allocation.Total(in.Bill)
	byName := map[string]allocation.Usage{}
	for _, u := range in.Usage {
		byName[u.Cooperative] = u
	}
	percents := allocation.Percents(shares, total)
	for i, s := range shares {
		u := byName[s.Cooperative]
		lines = append(lines, coopv1.CostLine{
			Cooperative:     s.Cooperative,
			CPUCoreHours:    allocation.CoreHours(u.CPUMillicoreSeconds),
			MemoryGiBHours:  allocation.GiBHours(u.MemoryByteSeconds),
			StorageGiBHours: allocation.GiBHours(u.StorageByteSeconds),
			SharePercent:    percents[i],
			Amount:          allocation.FormatCents(s.Cents),

			ComputeAmount:      allocation.FormatCents(s.Parts.ComputeCents),
			StorageAmount:      allocation.FormatCents(s.Parts.StorageCents),
			SharedAmount:       allocation.FormatCents(s.Parts.SharedCents),
			DiscountAdjustment: allocation.FormatCents(s.Parts.DiscountCents),
			FloorAdjustment:    allocation.FormatCents(s.Parts.FloorCents),
			RoundingAdjustment: allocation.FormatCents(s.Parts.RoundingCents),
		})
	}
	return total, lines, nil
}
