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
// command-line tools for hub and co-op admins.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/cooperator-dev/cooperator/controllers/cli"
	"github.com/cooperator-dev/cooperator/controllers/logicalbackup"
	"github.com/cooperator-dev/cooperator/controllers/manager"
	"github.com/cooperator-dev/cooperator/platform/server"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// command is one subcommand of the binary.
type command struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

// commands lists the subcommands. Each package that provides one adds its line here.
var commands = map[string]command{
	"federation":     {summary: "switch a co-op's primary between regions, fail over, show standbys", run: cli.Federation},
	"backup-logical": {summary: "upload a shared-tier co-op's logical backup (run by its CronJob)", run: logicalbackup.Main},
	"costs":          {summary: "print a billing period's cost split: costs [PERIOD] -o table|csv|json", run: cli.Costs},
	"manager":        {summary: "run the operator", run: manager.Main},
	"platform":       {summary: "run the co-op platform service", run: server.Main},
	"usage":          {summary: "print the metered usage of the co-ops: usage [COOP] -o table|csv|json", run: cli.Usage},
	"version": {summary: "print the version", run: func(context.Context, []string) error {
		fmt.Println(version)
		return nil
	}},
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: cooperator <command> [flags]")
	fmt.Fprintln(w, "")
	fmt.Fprintln(w, "Commands:")
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-12s %s\n", name, commands[name].summary)
	}
	fmt.Fprintln(w, "")
	fmt.Fprintln(w, "Run 'cooperator <command> -h' for the flags of a command.")
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage(os.Stdout)
		return
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "cooperator: unknown command %q\n\n", os.Args[1])
		usage(os.Stderr)
		os.Exit(2)
	}
	manager.Version = version
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cmd.run(ctx, os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "cooperator %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
