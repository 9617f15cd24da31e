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

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/cooperator-dev/cooperator/controllers/cmd/cli"
)

// TestSubcommandHelp: the help of every subcommand, those that parse their own flags
// included, exits 0; the root lists the manager and the platform service.
func TestSubcommandHelp(t *testing.T) {
	for _, args := range [][]string{{"manager", "--help"}, {"manager", "-h"}, {"platform", "-h"}, {"--help"}, {"get", "--help"}} {
		var out, errs bytes.Buffer
		if code := cli.Execute(context.Background(), newRoot(cli.Options{Version: "test", Out: &out, ErrOut: &errs}), args); code != 0 {
			t.Errorf("cooperator %v: exit %d\n%s%s", args, code, out.String(), errs.String())
		}
	}
	var out bytes.Buffer
	cli.Execute(context.Background(), newRoot(cli.Options{Version: "test", Out: &out, ErrOut: &out}), []string{"--help"})
	for _, want := range []string{"manager", "platform", "get", "completion", "Run the operator or the platform service:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
	var errs bytes.Buffer
	if code := cli.Execute(context.Background(), newRoot(cli.Options{Version: "test", Out: &out, ErrOut: &errs}), []string{"manager", "--no-such-flag"}); code != cli.ExitError || !strings.Contains(errs.String(), "no-such-flag") {
		t.Errorf("a bad manager flag: exit %d, %s", code, errs.String())
	}
}
