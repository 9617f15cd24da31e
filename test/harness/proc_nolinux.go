//go:build !linux

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

package harness

import (
	"errors"
	"os/exec"
)

// Outside Linux there is no /proc: no child processes found, no watchdog, no RSS.

func childPIDs(string) []int { return nil }

func startWatchdog([]int, []string) (*exec.Cmd, error) { return nil, nil }

func residentBytes(int) (int64, error) {
	return 0, errors.New("harness: RSS is read from /proc, on Linux only")
}
