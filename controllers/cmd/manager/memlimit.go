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

package manager

import (
	"strconv"
	"strings"
)

// MemoryLimitEnv names the environment variable in which the chart and config/manager pass
// the container's memory limit to the operator, in bytes (the downward API's
// limits.memory).
const MemoryLimitEnv = "MEMORY_LIMIT"

// memoryLimitPercent of the container's memory limit is Go's soft memory limit: the
// collector works harder as the heap nears it, and the rest is left for what is not heap
// (goroutine stacks, the binary's pages), so that the operator collects garbage before the
// kernel kills it.
const memoryLimitPercent = 90

// softMemoryLimit is the soft memory limit of Go's runtime the environment asks for:
// memoryLimitPercent of MEMORY_LIMIT. None when GOMEMLIMIT is set (the runtime reads it
// itself, and the person who set it wins) or when MEMORY_LIMIT is not a positive number of
// bytes.
func softMemoryLimit(getenv func(string) string) (int64, bool) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, false
	}
	limit, err := strconv.ParseInt(strings.TrimSpace(getenv(MemoryLimitEnv)), 10, 64)
	if err != nil || limit <= 0 {
		return 0, false
	}
	return limit / 100 * memoryLimitPercent, true
}
