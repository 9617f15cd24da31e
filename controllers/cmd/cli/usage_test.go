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

package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/logicalbackup"
)

// TestUsageErrorsByType: bad arguments exit 2, known as cobra's argument and command
// errors; an error of the cluster or the operator whose text happens to hold "accepts " or
// "requires at least" (a webhook's message, an operator's reason) is no usage error.
func TestUsageErrorsByType(t *testing.T) {
	for _, err := range []error{
		errors.New(`creating Cooperative x: admission webhook "vcooperative.kb.io" denied the request: peer eu-south accepts no standbys`),
		fmt.Errorf("x: the move cannot go on: the plan requires at least 2 instances"),
	} {
		if code := ExitCode(err); code != ExitError {
			t.Errorf("%q: exit %d, want %d", err, code, ExitError)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate" for "cooperator"`},
		{[]string{"federation", "frobnicate"}, `unknown command "frobnicate" for "cooperator federation"`},
		{[]string{"backup"}, "accepts 1 arg(s), received 0"},
		{[]string{"federation", "switchover", "a", "b", "--to", "home"}, "accepts 1 arg(s), received 2"},
		{[]string{"costs", "2026-11", "2026-12"}, "accepts at most 1 arg(s), received 2"},
	} {
		if r := cli(t, tc.args...); r.code != ExitUsage || !strings.Contains(r.errs, tc.want) {
			t.Errorf("cooperator %v: exit %d, %q; want exit %d saying %q", tc.args, r.code, r.errs, ExitUsage, tc.want)
		}
	}

	// The operator refuses a move with a reason that says what the peer accepts.
	peer := movePeer(t)
	name := "move-refused-accepts"
	movingCoop(t, name, peer, coopv1.MoveRefused)
	coop := &coopv1.Cooperative{}
	if err := k8sClient.Get(context.Background(), client.ObjectKey{Name: name}, coop); err != nil {
		t.Fatal(err)
	}
	coop.Status.Federation.Move.Message = "peer " + peer + " accepts no moves from region eu-west (spec.accept.moves)"
	if err := k8sClient.Status().Update(context.Background(), coop); err != nil {
		t.Fatal(err)
	}
	r := cli(t, "federation", "move", name, "--to", peer, "--interval", "50ms", "--timeout", "20s")
	if r.code != ExitError || !strings.Contains(r.errs, "the move cannot go on: peer "+peer+" accepts no moves") {
		t.Errorf("a move the operator refuses: exit %d\n%s\n%s", r.code, r.out, r.errs)
	}
}

// TestRunCommandHelpExitsZero: `cooperator backup-logical -h`, whose first argument is its
// action, prints its usage and exits 0, as the manager's and the platform's -h do.
func TestRunCommandHelpExitsZero(t *testing.T) {
	for _, help := range []string{"-h", "--help"} {
		var out, errs bytes.Buffer
		root := NewRootCommand(Options{Out: &out, ErrOut: &errs})
		root.AddCommand(RunCommand("backup-logical", "Upload a shared-tier co-op's logical backup", logicalbackup.Main))
		if code := Execute(context.Background(), root, []string{"backup-logical", help}); code != ExitOK || !strings.Contains(out.String(), "usage: backup-logical upload|download") {
			t.Errorf("backup-logical %s: exit %d\n%s\n%s", help, code, out.String(), errs.String())
		}
	}
	var out, errs bytes.Buffer
	root := NewRootCommand(Options{Out: &out, ErrOut: &errs})
	root.AddCommand(RunCommand("backup-logical", "Upload a shared-tier co-op's logical backup", logicalbackup.Main))
	if code := Execute(context.Background(), root, []string{"backup-logical", "frobnicate"}); code != ExitError || !strings.Contains(errs.String(), "usage: backup-logical") {
		t.Errorf("backup-logical frobnicate: exit %d\n%s\n%s", code, out.String(), errs.String())
	}
	// A subcommand that fails on -h for another reason is not taken for help.
	out.Reset()
	errs.Reset()
	root = NewRootCommand(Options{Out: &out, ErrOut: &errs})
	root.AddCommand(RunCommand("broken", "Fails", func(context.Context, []string) error { return errors.New("cannot reach the API server") }))
	if code := Execute(context.Background(), root, []string{"broken", "-h"}); code != ExitError || !strings.Contains(errs.String(), "cannot reach the API server") {
		t.Errorf("a failing subcommand's -h: exit %d\n%s\n%s", code, out.String(), errs.String())
	}
}
