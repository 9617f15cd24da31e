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

// Command cooperator is the single binary of the project. Its subcommands run the
// operator (manager), the platform service that co-ops' members use (platform), and the
// command-line tools for hub and co-op admins (controllers/cmd/cli). Installed as kubectl-coop
// it is also a kubectl plugin: `kubectl coop get`.
package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/cooperator-dev/cooperator/controllers/cmd/cli"
	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/controllers/shared/logicalbackup"
	"github.com/cooperator-dev/cooperator/platform/server"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// helpIsNoError: the manager and the platform parse their own flags; -h prints their help
// and is not a failure.
func helpIsNoError(run func(context.Context, []string) error) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		if err := run(ctx, args); !errors.Is(err, flag.ErrHelp) {
			return err
		}
		return nil
	}
}

// newRoot is the whole command line: the CLI, the manager and the platform service.
func newRoot(opts cli.Options) *cobra.Command {
	root := cli.NewRootCommand(opts)
	root.AddCommand(
		cli.RunCommand("manager", "Run the operator (cooperator manager -h for its flags)", helpIsNoError(manager.Main)),
		cli.RunCommand("platform", "Run the co-op platform service (cooperator platform -h for its flags)", helpIsNoError(server.Main)),
		cli.RunCommand("backup-logical", "Upload a shared-tier co-op's logical backup, as its CronJob does (cooperator backup-logical -h)", helpIsNoError(logicalbackup.Main)),
	)
	return root
}

func main() {
	manager.Version = version
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, newRoot(cli.Options{Version: version, Invoked: os.Args[0]}), os.Args[1:])
	stop()
	os.Exit(code)
}
