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
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
)

// setProcAttr puts the child in its own process group and has the kernel kill it when
// the thread that started it ends.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killProcessGroup(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}

// childPIDs returns the processes whose parent is this process and whose executable
// is in dir: the etcd and kube-apiserver that envtest started.
func childPIDs(dir string) []int {
	self := os.Getpid()
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	dir = filepath.Clean(dir)
	procs, _ := filepath.Glob("/proc/[0-9]*")
	var pids []int
	for _, p := range procs {
		stat, err := os.ReadFile(filepath.Join(p, "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := bytes.Fields(stat[i+1:])
		if len(fields) < 2 || string(fields[1]) != strconv.Itoa(self) {
			continue
		}
		exe, err := os.Readlink(filepath.Join(p, "exe"))
		if err != nil || filepath.Dir(exe) != dir {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(p)); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// startWatchdog starts a shell that kills pids and removes dirs once this process is
// gone, however it ended (a test binary killed by go test's -timeout runs no cleanup,
// and envtest's processes and folders would stay). Stop kills the watchdog before
// stopping the processes itself.
func startWatchdog(pids []int, dirs []string) (*exec.Cmd, error) {
	if len(pids) == 0 && len(dirs) == 0 {
		return nil, nil
	}
	const script = `p=$1; shift
pids=""
while [ "$1" != "--" ]; do pids="$pids $1"; shift; done
shift
while kill -0 "$p" 2>/dev/null; do sleep 1; done
[ -z "$pids" ] || kill -9 $pids 2>/dev/null
rm -rf "$@"`
	args := []string{"-c", script, "harness-watchdog", strconv.Itoa(os.Getpid())}
	for _, pid := range pids {
		args = append(args, strconv.Itoa(pid))
	}
	args = append(args, "--")
	for _, d := range dirs {
		if d != "" {
			args = append(args, d)
		}
	}
	cmd := exec.Command("/bin/sh", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = cmd.Wait() }()
	return cmd, nil
}

// residentBytes reads the resident set size of a process from /proc/<pid>/status.
func residentBytes(pid int) (int64, error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			fields := bytes.Fields(v) // "<n> kB"
			if len(fields) == 0 {
				break
			}
			kb, err := strconv.ParseInt(string(fields[0]), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
