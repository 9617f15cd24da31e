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
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Process is a program the harness runs against the API server: the CloudNativePG operator,
// or the cooperator binary (StartOperator). Its standard output and error go to a log file.
type Process struct {
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	waitErr error         // set before done is closed
	logPath string
}

func newProcess(logPath string) *Process {
	return &Process{done: make(chan struct{}), logPath: logPath}
}

// start starts cmd, its output going to the log file, from a goroutine locked to its OS
// thread, which then waits for the process: on Linux the child gets SIGKILL when that
// thread ends (Pdeathsig), so it cannot outlive the test process, and the thread lives as
// long as the child.
func (p *Process) start(cmd *exec.Cmd) error {
	logFile, err := os.Create(p.logPath)
	if err != nil {
		return err
	}
	defer logFile.Close() // the child has its own descriptor
	cmd.Stdout, cmd.Stderr = logFile, logFile
	setProcAttr(cmd)
	p.cmd = cmd
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			p.waitErr = err
			close(p.done)
			return
		}
		started <- nil
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return <-started
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// PID is the process's id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Log returns what the process has written so far.
func (p *Process) Log() string {
	data, _ := os.ReadFile(p.logPath)
	return string(data)
}

// RSS returns the resident set size of the process, in bytes.
func (p *Process) RSS() (int64, error) { return residentBytes(p.PID()) }

// Stop kills the process's group and waits for it. It may be called on a partly started
// process, and more than once.
func (p *Process) Stop() error {
	if p.cmd == nil || p.cmd.Process == nil || p.Exited() {
		return nil
	}
	killProcessGroup(p.cmd)
	select {
	case <-p.done:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("%s (pid %d) did not exit", filepath.Base(p.cmd.Path), p.cmd.Process.Pid)
	}
}

// WaitForLog waits until a line of the log contains all of parts, or the process exits.
func (p *Process) WaitForLog(ctx context.Context, parts ...string) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		for line := range strings.SplitSeq(p.Log(), "\n") {
			all := true
			for _, part := range parts {
				all = all && strings.Contains(line, part)
			}
			if all {
				return nil
			}
		}
		if p.Exited() {
			return fmt.Errorf("exited (%w) before logging %q; log:\n%s", p.waitErr, parts, tail(p.Log(), 40))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %q in the log: %w", parts, ctx.Err())
		case <-tick.C:
		}
	}
}

// userKubeconfig provisions a user of the API server and writes a kubeconfig for it into
// the environment's temporary folder, returning its path.
func (e *Env) userKubeconfig(name string, groups ...string) (string, error) {
	user, err := e.Environment.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return "", err
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	path := e.workPath(name + ".kubeconfig")
	return path, os.WriteFile(path, kubeconfig, 0o600)
}

// processEnv is the environment of a process the harness starts: nothing of the
// developer's KUBECONFIG or other settings.
func (e *Env) processEnv(kubeconfigPath string) []string {
	return []string{
		"HOME=" + e.workDir,
		"PATH=" + os.Getenv("PATH"),
		"TMPDIR=" + os.TempDir(),
		"KUBECONFIG=" + kubeconfigPath,
	}
}

// BuildOperator builds the cooperator binary from the clone into dir, as the image's
// Dockerfile builds it (static, without cgo, stripped), and returns its path: the memory a
// test measures is the shipped binary's. A build with cgo links the plugin package's
// support in, which exports every symbol to the dynamic loader (some 15 MB of symbol tables
// it reads at start).
func BuildOperator(ctx context.Context, dir string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "cooperator")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("harness: building the operator: %w\n%s", err, out)
	}
	return bin, nil
}

// StartOperator runs `<bin> manager <args>` against the API server as its own process,
// as the user <user> in the group system:masters, its log in the environment's temporary
// folder (one file per start; Process.Log reads it). The caller stops it with Stop, or
// Env.Stop does; starting it again after a Stop is a restart.
func (e *Env) StartOperator(bin, user string, args ...string) (*Process, error) {
	kubeconfigPath, err := e.userKubeconfig(user, "system:masters")
	if err != nil {
		return nil, err
	}
	e.operatorStarts++
	p := newProcess(e.workPath(fmt.Sprintf("%s-%d.log", user, e.operatorStarts)))
	cmd := exec.Command(bin, append([]string{"manager"}, args...)...)
	cmd.Dir = e.workDir
	cmd.Env = append(e.processEnv(kubeconfigPath), e.OperatorEnv...)
	if err := p.start(cmd); err != nil {
		return nil, fmt.Errorf("harness: starting the operator: %w", err)
	}
	e.processes = append(e.processes, p)
	return p, nil
}

// stopProcesses stops what StartOperator started.
func (e *Env) stopProcesses() error {
	var errs []error
	for _, p := range e.processes {
		errs = append(errs, p.Stop())
	}
	e.processes = nil
	return errors.Join(errs...)
}
