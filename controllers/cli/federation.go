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
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

const federationUsage = `Usage:
  cooperator federation switchover COOP --to PEER   move the primary to the co-op's standby at PEER
  cooperator federation switchover COOP --to home   move it back to this hub
  cooperator federation failover COOP --accept-data-loss
                                                    promote the standby on this hub without the home
  cooperator federation status [COOP]               the co-ops' roles and standbys

switchover runs against the co-op's home hub, and both hubs carry it out: the home demotes
its database, passes CloudNativePG's demotion token to the peer, and the peer promotes once it
has replayed up to it, then runs the platform while the home scales down. No write is lost.

failover runs against the hub that keeps the standby, when the home hub is unreachable. It
promotes at once, without the token: WAL the home had not archived yet is lost, and the home,
if it comes back, still thinks it is the primary until an admin resolves it.

Flags:
`

// Federation runs `cooperator federation`: switchover, failover and status.
func Federation(ctx context.Context, args []string) error {
	err := FederationTo(ctx, args, os.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

type federationFlags struct {
	kubeconfig, kubeContext, to string
	acceptDataLoss, noWait      bool
	timeout, interval           time.Duration
}

// FederationTo is Federation writing to out.
func FederationTo(ctx context.Context, args []string, out io.Writer) error {
	f := &federationFlags{}
	fs := flag.NewFlagSet("federation", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() { fmt.Fprint(out, federationUsage); fs.PrintDefaults() }
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "path to the kubeconfig file; as kubectl finds it when empty")
	fs.StringVar(&f.kubeContext, "context", "", "kubeconfig context to use")
	fs.StringVar(&f.to, "to", "", "switchover: the FederationPeer to move the primary to, or home")
	fs.BoolVar(&f.acceptDataLoss, "accept-data-loss", false, "failover: confirm that WAL not yet archived at home is lost")
	fs.BoolVar(&f.noWait, "no-wait", false, "return once the change is written, without following it")
	fs.DurationVar(&f.timeout, "timeout", 15*time.Minute, "how long to wait for the move to complete")
	fs.DurationVar(&f.interval, "interval", 2*time.Second, "how often to look at the progress")
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) == 0 {
		fs.Usage()
		return errors.New("missing subcommand: switchover, failover or status")
	}
	c, err := f.client()
	if err != nil {
		return err
	}
	switch sub, rest := positional[0], positional[1:]; sub {
	case "switchover":
		if len(rest) != 1 || f.to == "" {
			return errors.New("usage: cooperator federation switchover COOP --to PEER|home")
		}
		return switchover(ctx, c, out, rest[0], f)
	case "failover":
		if len(rest) != 1 {
			return errors.New("usage: cooperator federation failover COOP --accept-data-loss")
		}
		return failover(ctx, c, out, rest[0], f)
	case "status":
		if len(rest) > 1 {
			return errors.New("usage: cooperator federation status [COOP]")
		}
		return federationStatus(ctx, c, out, rest)
	default:
		return fmt.Errorf("unknown subcommand %q: switchover, failover or status", sub)
	}
}

func (f *federationFlags) client() (client.Client, error) {
	return newClient(f.kubeconfig, f.kubeContext)
}

// switchover sets spec.federation.primary on the home co-op and follows both sides.
func switchover(ctx context.Context, c client.Client, out io.Writer, name string, f *federationFlags) error {
	coop := &coopv1.Cooperative{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, coop); err != nil {
		return fmt.Errorf("reading Cooperative %s: %w", name, err)
	}
	if coop.Spec.Standby != nil {
		return fmt.Errorf("%s is a standby of region %s: run switchover against its home hub", name, coop.Spec.Standby.HomeRegion)
	}
	target := f.to
	if target == "home" {
		target = ""
	}
	targetRegion := ""
	if target != "" {
		listed := false
		for _, p := range coop.Spec.Federation.Peers {
			listed = listed || p.Name == target
		}
		if !listed {
			return fmt.Errorf("%s does not list peer %s: a switchover goes only to a listed peer", name, target)
		}
		peer := &coopv1.FederationPeer{}
		if err := c.Get(ctx, client.ObjectKey{Name: target}, peer); err != nil {
			return fmt.Errorf("reading FederationPeer %s: %w", target, err)
		}
		if !meta.IsStatusConditionTrue(peer.Status.Conditions, coopv1.ConditionReady) {
			return fmt.Errorf("peer %s is not ready (see kubectl get federationpeer %s): a switchover needs both hubs", target, target)
		}
		targetRegion = peer.Spec.Region
		mirrored := false
		if fed := coop.Status.Federation; fed != nil {
			for _, st := range fed.Standbys {
				mirrored = mirrored || (st.Peer == target && st.State == coopv1.StandbyMirrored)
			}
		}
		if !mirrored && coop.Spec.Federation.Primary != target {
			return fmt.Errorf("%s has no up-to-date standby at peer %s yet (see cooperator federation status %s)", name, target, name)
		}
	}
	if coop.Spec.Federation.Primary == target {
		fmt.Fprintf(out, "%s: the primary is already asked to be at %s\n", name, describePrimary(target))
	} else {
		patch := client.MergeFrom(coop.DeepCopy())
		coop.Spec.Federation.Primary = target
		if err := c.Patch(ctx, coop, patch); err != nil {
			return fmt.Errorf("setting spec.federation.primary of %s: %w", name, err)
		}
		fmt.Fprintf(out, "%s: switchover to %s requested\n", name, describePrimary(target))
	}
	if f.noWait {
		return nil
	}
	return follow(ctx, c, out, name, f, func(co *coopv1.Cooperative) bool {
		fed := co.Status.Federation
		if fed == nil {
			return false
		}
		if target == "" {
			return fed.Role == coopv1.RolePrimary && co.Status.ObservedGeneration >= co.Generation
		}
		return fed.LastSwitchover != nil && fed.LastSwitchover.To == targetRegion && fed.Role == coopv1.RoleStandby
	})
}

func describePrimary(target string) string {
	if target == "" {
		return "home"
	}
	return "peer " + target
}

// failover promotes a standby on this hub without the home's demotion token.
func failover(ctx context.Context, c client.Client, out io.Writer, name string, f *federationFlags) error {
	coop := &coopv1.Cooperative{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, coop); err != nil {
		return fmt.Errorf("reading Cooperative %s: %w", name, err)
	}
	if coop.Spec.Standby == nil {
		return fmt.Errorf("%s is not a standby on this hub: failover runs against the hub that keeps the standby", name)
	}
	if !f.acceptDataLoss {
		return fmt.Errorf("failover promotes %s without its home (region %s): WAL the home had not archived yet is lost; run again with --accept-data-loss to go ahead, or use switchover while the home answers", name, coop.Spec.Standby.HomeRegion)
	}
	fmt.Fprintf(out, "%s: promoting the standby without the home's demotion token. WAL that region %s had not archived yet is LOST.\n", name, coop.Spec.Standby.HomeRegion)
	fmt.Fprintf(out, "%s: if the home hub comes back it still runs its copy as the primary: stop it there before clients reach it.\n", name)
	if coop.Annotations[coopv1.AnnotationFailover] != coopv1.AcceptDataLoss {
		patch := client.MergeFrom(coop.DeepCopy())
		if coop.Annotations == nil {
			coop.Annotations = map[string]string{}
		}
		coop.Annotations[coopv1.AnnotationFailover] = coopv1.AcceptDataLoss
		if err := c.Patch(ctx, coop, patch); err != nil {
			return fmt.Errorf("marking %s for failover: %w", name, err)
		}
	}
	if f.noWait {
		return nil
	}
	return follow(ctx, c, out, name, f, func(co *coopv1.Cooperative) bool {
		return co.Status.Federation != nil && co.Status.Federation.Role == coopv1.RolePrimary
	})
}

// follow prints the co-op's federation status whenever it changes, until done or timeout.
func follow(ctx context.Context, c client.Client, out io.Writer, name string, f *federationFlags, done func(*coopv1.Cooperative) bool) error {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	last := ""
	tick := time.NewTicker(f.interval)
	defer tick.Stop()
	for {
		coop := &coopv1.Cooperative{}
		if err := c.Get(ctx, client.ObjectKey{Name: name}, coop); err != nil {
			return fmt.Errorf("reading Cooperative %s: %w", name, err)
		}
		if line := progressLine(coop); line != last {
			fmt.Fprintf(out, "%s %s\n", time.Now().UTC().Format("15:04:05"), line)
			last = line
		}
		if done(coop) {
			fmt.Fprintf(out, "%s: done\n", name)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not done after %s (still %s); the operators keep working on it", name, f.timeout, last)
		case <-tick.C:
		}
	}
}

// progressLine says where a co-op's copies stand.
func progressLine(coop *coopv1.Cooperative) string {
	fed := coop.Status.Federation
	if fed == nil {
		return coop.Name + ": no federation status yet"
	}
	parts := []string{fmt.Sprintf("%s: here %s", coop.Name, orDash(string(fed.Role)))}
	for _, st := range fed.Standbys {
		parts = append(parts, fmt.Sprintf("%s (%s) %s %s", st.Peer, st.Region, st.State, orDash(string(st.Role))))
	}
	if fed.Message != "" {
		parts = append(parts, fed.Message)
	}
	return strings.Join(parts, "; ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// federationStatus prints a table of the co-ops' federation.
func federationStatus(ctx context.Context, c client.Client, out io.Writer, names []string) error {
	var coops []coopv1.Cooperative
	if len(names) == 1 {
		coop := &coopv1.Cooperative{}
		if err := c.Get(ctx, client.ObjectKey{Name: names[0]}, coop); err != nil {
			return fmt.Errorf("reading Cooperative %s: %w", names[0], err)
		}
		coops = append(coops, *coop)
	} else {
		var list coopv1.CooperativeList
		if err := c.List(ctx, &list); err != nil {
			return fmt.Errorf("listing co-ops: %w", err)
		}
		coops = list.Items
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "COOPERATIVE\tROLE\tPRIMARY\tHOME\tSTANDBYS\tLAST SWITCHOVER")
	for _, co := range coops {
		fed := co.Status.Federation
		if fed == nil && co.Spec.Standby == nil && len(co.Spec.Federation.Peers) == 0 {
			continue
		}
		role, primary, standbys, last := "-", "-", "-", "-"
		if fed != nil {
			role, primary = orDash(string(fed.Role)), orDash(fed.PrimaryRegion)
			var s []string
			for _, st := range fed.Standbys {
				s = append(s, st.Peer+"="+string(st.State))
			}
			if len(s) > 0 {
				standbys = strings.Join(s, ",")
			}
			if sw := fed.LastSwitchover; sw != nil {
				last = sw.From + "->" + sw.To
				if sw.WithoutToken {
					last += " (failover)"
				}
			}
		}
		home := "here"
		if co.Spec.Standby != nil {
			home = co.Spec.Standby.HomeRegion
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", co.Name, role, primary, home, standbys, last)
	}
	return w.Flush()
}
