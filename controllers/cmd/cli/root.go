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

// Package cli is the cooperator command line for hub and co-op admins, on cobra with
// kubectl's client flags: get, status, backup, suspend, resume, reconcile, costs, usage,
// federation, version and completion. The binary adds the manager and the platform
// service as subcommands of the same root. Installed as kubectl-coop, it runs as
// `kubectl coop`.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// PluginBinary is the name under which kubectl finds the CLI as a plugin: `kubectl coop`.
const PluginBinary = "kubectl-coop"

// Options are what the binary gives the CLI.
type Options struct {
	// Version of the binary, set at build time.
	Version string
	// Out and ErrOut default to os.Stdout and os.Stderr.
	Out, ErrOut io.Writer
	// Invoked is the name the binary was run as (os.Args[0]); kubectl-coop makes the
	// commands describe themselves as `kubectl coop`.
	Invoked string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// PollInterval is the time between two looks at what a command waits for; 2s when
	// zero.
	PollInterval time.Duration
}

// root holds what every command shares: the client flags and the streams.
type root struct {
	opts  Options
	flags *genericclioptions.ConfigFlags
	out   io.Writer
	errs  io.Writer
	now   func() time.Time
	// interval between two looks at something the command waits for.
	interval time.Duration
}

// NewRootCommand is the cooperator command with every CLI subcommand; the binary adds its
// own (manager, platform) with AddCommand.
func NewRootCommand(opts Options) *cobra.Command {
	r := &root{opts: opts, out: opts.Out, errs: opts.ErrOut, now: opts.Now, interval: 2 * time.Second}
	if r.out == nil {
		r.out = os.Stdout
	}
	if r.errs == nil {
		r.errs = os.Stderr
	}
	if r.now == nil {
		r.now = time.Now
	}
	if opts.PollInterval > 0 {
		r.interval = opts.PollInterval
	}
	r.flags = genericclioptions.NewConfigFlags(true)
	// Co-ops are cluster-scoped: kubectl's -n has nothing to scope. Commands that read the
	// operator's namespace take -n/--operator-namespace themselves.
	r.flags.Namespace = nil

	name := "cooperator"
	if strings.HasPrefix(filepath.Base(opts.Invoked), PluginBinary) {
		name = "kubectl coop"
	}
	cmd := &cobra.Command{
		Use:   "cooperator",
		Short: "Run and operate a cooperator hub",
		Long: `cooperator is the operator of a hub of co-ops (manager), the co-ops' platform service
(platform), and the command line for hub and co-op admins.

It finds the cluster as kubectl does (--kubeconfig, KUBECONFIG, ~/.kube/config, --context).
Installed as kubectl-coop on the PATH, it also runs as "kubectl coop".`,
		Version:       opts.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: name},
	}
	cmd.SetOut(r.out)
	cmd.SetErr(r.errs)
	cmd.SetVersionTemplate("{{.Version}}\n")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError(fmt.Errorf("%w\nSee '%s --help'", err, c.CommandPath()))
	})
	r.flags.AddFlags(cmd.PersistentFlags())
	cmd.AddGroup(&cobra.Group{ID: "coops", Title: "Co-ops:"}, &cobra.Group{ID: "hub", Title: "The hub:"}, &cobra.Group{ID: "run", Title: "Run the operator or the platform service:"})
	for _, c := range []*cobra.Command{r.getCommand(), r.backupCommand(), r.suspendCommand(true), r.suspendCommand(false), r.reconcileCommand(), r.usageCommand(), r.governanceCommand(), r.exportCommand()} {
		c.GroupID = "coops"
		cmd.AddCommand(c)
	}
	for _, c := range []*cobra.Command{r.statusCommand(), r.costsCommand(), r.federationCommand(), r.importCommand()} {
		c.GroupID = "hub"
		cmd.AddCommand(c)
	}
	cmd.AddCommand(r.versionCommand())
	usageArgs(cmd)
	return cmd
}

// Execute runs the command line and returns the process's exit code, after printing the
// error a person reads.
func Execute(ctx context.Context, cmd *cobra.Command, args []string) int {
	cmd.SetArgs(args)
	ran, err := cmd.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	if ran != nil && ran.CalledAs() == "" {
		// cobra found no command to run: its one error before any runs is an unknown
		// command.
		err = usageError(err)
	}
	code := ExitCode(err)
	if code != ExitInterrupted && errors.Is(ctx.Err(), context.Canceled) {
		// Stopped (Ctrl-C) midway: whatever failed then failed of it.
		err, code = fmt.Errorf("interrupted: %w", err), ExitInterrupted
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "Error: %v\n", err)
	return code
}

// RunCommand wraps a subcommand that parses its own flags (the manager, the platform
// service): cobra passes its arguments through untouched, and -h prints its own help.
func RunCommand(use, short string, run func(ctx context.Context, args []string) error) *cobra.Command {
	return &cobra.Command{
		Use:                use,
		Short:              short,
		GroupID:            "run",
		DisableFlagParsing: true,
		RunE: func(c *cobra.Command, args []string) error {
			err := run(c.Context(), args)
			var usage interface{ Usage() string }
			if len(args) == 1 && slices.Contains([]string{"-h", "-help", "--help"}, args[0]) && errors.As(err, &usage) {
				// A subcommand that takes an action first (backup-logical upload|download)
				// answers a lone -h with its usage, as an error that says it is one: that
				// usage is the help asked for. Any other error stays one.
				fmt.Fprintf(c.OutOrStdout(), "%s\n\n%s\n", short, usage.Usage())
				return nil
			}
			return err
		},
	}
}

// outputFlag adds -o to a read command.
func outputFlag(c *cobra.Command, out *string) {
	c.Flags().StringVarP(out, "output", "o", "table", "output format: "+strings.Join(outputFormats, ", "))
	_ = c.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return outputFormats, cobra.ShellCompDirectiveNoFileComp
	})
}

// operatorNamespaceFlag adds -n/--operator-namespace to a command that reads the operator's
// namespace.
func operatorNamespaceFlag(c *cobra.Command, ns *string) {
	def := os.Getenv("COOPERATOR_NAMESPACE")
	if def == "" {
		def = "cooperator-system"
	}
	c.Flags().StringVarP(ns, "operator-namespace", "n", def, "namespace the operator runs in (COOPERATOR_NAMESPACE)")
}

// completeCooperatives completes a co-op name.
func (r *root) completeCooperatives(c *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	cl, err := r.client()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	coops, _, err := r.listCooperatives(c.Context(), cl)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	names := make([]string, 0, len(coops))
	for i := range coops {
		names = append(names, coops[i].Name)
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}
