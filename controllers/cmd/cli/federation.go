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
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

const federationLong = `Move a co-op's primary between regions, fail over, or show the standbys.

switchover runs against the co-op's home hub, and both hubs carry it out: the home demotes
its database, passes CloudNativePG's demotion token to the peer, and the peer promotes once it
has replayed up to it, then runs the platform while the home scales down. No write is lost.

move runs against the co-op's home hub, as someone who may delete the co-op there (the hub's
admins): a switchover to the peer, then the home releases the co-op, the peer's hub adopts it
as its own (if its FederationPeer of this region accepts moves) and the command deletes the
co-op here, where its deletion policy applies (Retain: a final backup first). Run it again to
resume a move that stopped half-way.

failover runs against the hub that keeps the standby, when the home hub is unreachable. It
promotes at once, without the token: WAL the home had not archived yet is lost, and the home,
if it comes back, still thinks it is the primary until an admin resolves it.`

type federationFlags struct {
	to                string
	acceptDataLoss    bool
	noWait            bool
	timeout, interval time.Duration
}

func (r *root) federationCommand() *cobra.Command {
	f := &federationFlags{}
	cmd := &cobra.Command{
		Use:   "federation",
		Short: "Switch a co-op's primary between regions, fail over, show standbys",
		Long:  federationLong,
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return usageErrorf("missing subcommand: switchover, move, failover or status")
		},
	}
	wait := func(c *cobra.Command) {
		c.Flags().BoolVar(&f.noWait, "no-wait", false, "return once the change is written, without following it")
		c.Flags().DurationVar(&f.timeout, "timeout", 15*time.Minute, "how long to wait for the move to complete")
		c.Flags().DurationVar(&f.interval, "interval", 2*time.Second, "how often to look at the progress (more than 0)")
		// A ticker of no interval panics: refused before anything is asked.
		c.PreRunE = func(*cobra.Command, []string) error {
			if f.interval <= 0 {
				return usageErrorf("--interval %s: must be more than 0", f.interval)
			}
			return nil
		}
	}
	sw := &cobra.Command{
		Use:               "switchover COOP --to PEER|home",
		Short:             "Move the primary to the co-op's standby at PEER, or back home",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: r.completeCooperatives,
		RunE: func(c *cobra.Command, args []string) error {
			if f.to == "" {
				return usageErrorf("--to PEER or --to home is required")
			}
			cl, err := r.client()
			if err != nil {
				return err
			}
			return switchover(c.Context(), cl, c.OutOrStdout(), args[0], f)
		},
	}
	sw.Flags().StringVar(&f.to, "to", "", "the FederationPeer to move the primary to, or home")
	wait(sw)
	mv := &cobra.Command{
		Use:               "move COOP --to PEER",
		Short:             "Move the co-op to the hub that keeps its standby at PEER, and release it here",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: r.completeCooperatives,
		RunE: func(c *cobra.Command, args []string) error {
			if f.to == "" || f.to == "home" {
				return usageErrorf("--to PEER is required: the FederationPeer whose hub keeps the co-op's standby")
			}
			cl, err := r.client()
			if err != nil {
				return err
			}
			return move(c.Context(), cl, c.OutOrStdout(), args[0], f)
		},
	}
	mv.Flags().StringVar(&f.to, "to", "", "the FederationPeer to move the co-op to")
	wait(mv)
	fo := &cobra.Command{
		Use:               "failover COOP --accept-data-loss",
		Short:             "Promote the standby on this hub without its home (loses unarchived WAL)",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: r.completeCooperatives,
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := r.client()
			if err != nil {
				return err
			}
			return failover(c.Context(), cl, c.OutOrStdout(), args[0], f)
		},
	}
	fo.Flags().BoolVar(&f.acceptDataLoss, "accept-data-loss", false, "confirm that WAL not yet archived at home is lost")
	wait(fo)
	var output string
	st := &cobra.Command{
		Use:               "status [COOP]",
		Short:             "The co-ops' roles and standbys",
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: r.completeCooperatives,
		RunE: r.reads(&output, func(c *cobra.Command, cl client.Client, args []string) error {
			return r.federationStatus(c.Context(), cl, c.OutOrStdout(), output, args)
		}),
	}
	outputFlag(st, &output)
	cmd.AddCommand(sw, mv, fo, st)
	return cmd
}

// switchover sets spec.federation.primary on the home co-op and follows both sides.
func switchover(ctx context.Context, c client.Client, out io.Writer, name string, f *federationFlags) error {
	coop := &coopv1.Cooperative{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, coop); err != nil {
		return explain(err, "reading Cooperative "+name)
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
		var err error
		if targetRegion, err = peerTarget(ctx, c, out, coop, target, "a switchover", coopv1.StandbyMirrored); err != nil {
			return err
		}
	}
	if coop.Spec.Federation.Primary == target {
		fmt.Fprintf(out, "%s: the primary is already asked to be at %s\n", name, describePrimary(target))
	} else {
		patch := client.MergeFrom(coop.DeepCopy())
		coop.Spec.Federation.Primary = target
		if err := c.Patch(ctx, coop, patch); err != nil {
			return explain(err, "setting spec.federation.primary of "+name)
		}
		fmt.Fprintf(out, "%s: switchover to %s requested\n", name, describePrimary(target))
	}
	if f.noWait {
		return nil
	}
	return follow(ctx, c, out, name, f, carriedOn(name), func(co *coopv1.Cooperative) bool {
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

// move asks the home co-op's switchover to the peer and its release there (annotation
// move-to), follows both until the peer's hub adopted it, then deletes the co-op here and
// waits until it is gone. Each step is skipped when done already, so that running it again
// resumes a move that stopped.
func move(ctx context.Context, c client.Client, out io.Writer, name string, f *federationFlags) error {
	coop := &coopv1.Cooperative{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, coop); err != nil {
		return explain(err, "reading Cooperative "+name)
	}
	if coop.Spec.Standby != nil {
		return fmt.Errorf("%s is a standby of region %s: run move against its home hub", name, coop.Spec.Standby.HomeRegion)
	}
	if cur := coop.Annotations[coopv1.AnnotationMoveTo]; cur != "" && cur != f.to {
		return fmt.Errorf("%s is already moving to peer %s: finish that move, or remove the annotation %s first", name, cur, coopv1.AnnotationMoveTo)
	}
	if err := mayDelete(ctx, c, name); err != nil {
		return err
	}
	released := moveIs(coop, coopv1.MoveReleased)
	if !coop.DeletionTimestamp.IsZero() && coop.Annotations[coopv1.AnnotationMoveTo] != f.to {
		return fmt.Errorf("%s is being deleted on this hub, without a move: a move cannot start now", name)
	}
	if !coop.DeletionTimestamp.IsZero() && !released {
		return deletedBeforeAdoption(coop, f.to)
	}
	if coop.DeletionTimestamp.IsZero() && !released {
		if _, err := peerTarget(ctx, c, out, coop, f.to, "a move", coopv1.StandbyMirrored, coopv1.StandbyMoved); err != nil {
			return err
		}
	}
	if coop.Annotations[coopv1.AnnotationMoveTo] == f.to && coop.Spec.Federation.Primary == f.to {
		fmt.Fprintf(out, "%s: the move to peer %s is already asked\n", name, f.to)
	} else {
		patch := client.MergeFrom(coop.DeepCopy())
		coop.Spec.Federation.Primary = f.to
		if coop.Annotations == nil {
			coop.Annotations = map[string]string{}
		}
		coop.Annotations[coopv1.AnnotationMoveTo] = f.to
		if err := c.Patch(ctx, coop, patch); err != nil {
			return explain(err, "asking the move of "+name)
		}
		fmt.Fprintf(out, "%s: move to peer %s requested: a switchover first, then the release\n", name, f.to)
	}
	if f.noWait {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	if coop.DeletionTimestamp.IsZero() {
		after := "the operators carry the switchover and the release on: run the move again to follow it, and to delete the co-op here once the peer adopted it"
		err := followUntil(ctx, c, out, name, f, after, func(co *coopv1.Cooperative) (bool, error) {
			if moveIs(co, coopv1.MoveRefused) {
				return false, fmt.Errorf("%s: the move cannot go on: %s", name, co.Status.Federation.Move.Message)
			}
			released = released || moveIs(co, coopv1.MoveReleased)
			if !released && !co.DeletionTimestamp.IsZero() {
				// Deleted here before the peer adopted it: that deletion is no end of the move.
				return false, deletedBeforeAdoption(co, f.to)
			}
			return released, nil
		})
		if err != nil {
			return err
		}
		if err := c.Get(ctx, client.ObjectKey{Name: name}, coop); err != nil {
			return goesOn(explain(err, "reading Cooperative "+name), "the peer adopted the co-op: run the move again to delete it here")
		}
		if coop.DeletionTimestamp.IsZero() {
			fmt.Fprintf(out, "%s: peer %s adopted the co-op; deleting it here (deletionPolicy %s)\n", name, f.to, coop.Spec.DeletionPolicy)
			if err := c.Delete(ctx, coop, client.Preconditions{UID: &coop.UID}); client.IgnoreNotFound(err) != nil {
				return goesOn(explain(err, "deleting Cooperative "+name+" here after its move"), "the peer adopted the co-op: run the move again to delete it here")
			}
		}
	}
	return waitGone(ctx, c, out, name, f)
}

// deletedBeforeAdoption is the error of a move whose co-op started being deleted here
// before the move was seen Released (someone deleted it mid-move, or the move is run again
// on a co-op being deleted): the peer did not adopt it, and its deletion here is no end of
// the move. Once deleted here, the operator no longer follows the move.
func deletedBeforeAdoption(coop *coopv1.Cooperative, to string) error {
	phase := "not started"
	if fed := coop.Status.Federation; fed != nil && fed.Move != nil {
		phase = string(fed.Move.Phase)
	}
	return fmt.Errorf("%s was deleted on this hub before peer %s adopted it (the move was %s, not %s): the move did not complete and the co-op is not the peer's. "+
		"Its deletion here goes on with its deletion policy (%s); see the co-op's events here and its copy at the peer (cooperator federation status there)",
		coop.Name, to, phase, coopv1.MoveReleased, coop.Spec.DeletionPolicy)
}

// mayDelete asks the API server whether the caller may delete the co-op: a move ends with
// its deletion on this hub, and the webhook refuses the move to anyone who may not.
func mayDelete(ctx context.Context, c client.Client, name string) error {
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Group: coopv1.GroupVersion.Group, Resource: "cooperatives", Verb: "delete", Name: name},
	}}
	if err := c.Create(ctx, review); err != nil {
		return explain(err, "asking whether you may delete Cooperative "+name)
	}
	if !review.Status.Allowed {
		return &exitError{code: ExitForbidden, err: fmt.Errorf("you may not delete Cooperative %s on this hub, and a move ends with its deletion here: ask the hub's admins to run the move", name)}
	}
	return nil
}

// peerTarget checks what a switchover or a move (action) to the peer named to needs: the
// peer listed by the co-op and ready, and a standby there in one of the states given (or
// the primary already asked there). It returns the peer's region.
//
// The co-op's admins may not read FederationPeers (the hub's), yet a switchover is theirs
// to decide: when the API server forbids the read, the peer's region comes from the co-op's
// own status.federation.standbys, and whether the peer is ready is left to the operator
// (which reports a standby Mirrored only while its peer is ready); out says so.
func peerTarget(ctx context.Context, c client.Client, out io.Writer, coop *coopv1.Cooperative, to, action string, upToDate ...coopv1.StandbyState) (string, error) {
	if !slices.ContainsFunc(coop.Spec.Federation.Peers, func(p coopv1.FederationPeerRef) bool { return p.Name == to }) {
		return "", fmt.Errorf("%s does not list peer %s: %s goes only to a peer that keeps its standby", coop.Name, to, action)
	}
	var standby *coopv1.PeerStandbyStatus
	if fed := coop.Status.Federation; fed != nil {
		for i := range fed.Standbys {
			if fed.Standbys[i].Peer == to {
				standby = &fed.Standbys[i]
			}
		}
	}
	mirrored := standby != nil && slices.Contains(upToDate, standby.State)
	region := ""
	peer := &coopv1.FederationPeer{}
	switch err := c.Get(ctx, client.ObjectKey{Name: to}, peer); {
	case apierrors.IsForbidden(err):
		if standby == nil || standby.Region == "" {
			return "", fmt.Errorf("%s has no standby at peer %s in its status yet (see cooperator federation status %s)", coop.Name, to, coop.Name)
		}
		region = standby.Region
		fmt.Fprintf(out, "%s: you may not read FederationPeer %s (the hub's): its region (%s) and its standby's state (%s) are from the co-op's status, and the operator judges whether the peer is ready\n",
			coop.Name, to, region, standby.State)
	case err != nil:
		return "", explain(err, "reading FederationPeer "+to)
	case !meta.IsStatusConditionTrue(peer.Status.Conditions, coopv1.ConditionReady):
		return "", fmt.Errorf("peer %s is not ready (see kubectl get federationpeer %s): %s needs both hubs", to, to, action)
	default:
		region = peer.Spec.Region
	}
	if !mirrored && coop.Spec.Federation.Primary != to {
		return "", fmt.Errorf("%s has no up-to-date standby at peer %s yet (see cooperator federation status %s)", coop.Name, to, coop.Name)
	}
	return region, nil
}

func moveIs(coop *coopv1.Cooperative, phase coopv1.MovePhase) bool {
	fed := coop.Status.Federation
	return fed != nil && fed.Move != nil && fed.Move.Phase == phase
}

// waitGone waits until the deleted co-op is gone, telling what its deletion waits for.
func waitGone(ctx context.Context, c client.Client, out io.Writer, name string, f *federationFlags) error {
	const gone = "its deletion here goes on without the command: run the move again to follow it"
	last := ""
	tick := time.NewTicker(f.interval)
	defer tick.Stop()
	for {
		coop := &coopv1.Cooperative{}
		err := c.Get(ctx, client.ObjectKey{Name: name}, coop)
		if apierrors.IsNotFound(err) {
			fmt.Fprintf(out, "%s: removed here; it is the peer's co-op now: done\n", name)
			return nil
		}
		if err != nil {
			return stoppedFollowing(ctx, err, name, f, last, gone)
		}
		line := name + ": being deleted here"
		if cond := meta.FindStatusCondition(coop.Status.Conditions, coopv1.ConditionReady); cond != nil && cond.Message != "" {
			line += ": " + cond.Message
		}
		if line != last {
			fmt.Fprintf(out, "%s %s\n", time.Now().UTC().Format("15:04:05"), line)
			last = line
		}
		select {
		case <-ctx.Done():
			return stoppedFollowing(ctx, nil, name, f, last, gone)
		case <-tick.C:
		}
	}
}

func describePrimary(target string) string {
	if target == "" {
		return "home"
	}
	return "peer " + target
}

// failover promotes a standby on this hub without the home's demotion token; or, run
// against the home hub, promotes the home's copy without the token of the peer's copy it
// follows after a switchover (that peer lost for good).
func failover(ctx context.Context, c client.Client, out io.Writer, name string, f *federationFlags) error {
	coop := &coopv1.Cooperative{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, coop); err != nil {
		return explain(err, "reading Cooperative "+name)
	}
	from := ""
	if sb := coop.Spec.Standby; sb != nil {
		from = "its home (region " + sb.HomeRegion + ")"
	} else {
		fed := coop.Status.Federation
		switch {
		case fed == nil || fed.Role == coopv1.RolePrimary || fed.Role == "":
			return fmt.Errorf("%s holds the primary on this hub: failover runs against the hub that keeps the standby", name)
		case coop.Spec.Federation.Primary != "":
			return fmt.Errorf("%s asks for the primary at peer %s (spec.federation.primary): to fail over to the home, clear it first (switchover --to home), then run failover again if that peer's copy never hands the primary back", name, coop.Spec.Federation.Primary)
		}
		from = "the copy it follows in region " + fed.PrimaryRegion
	}
	if !f.acceptDataLoss {
		return fmt.Errorf("failover promotes %s without %s: WAL that copy had not archived yet is lost; run again with --accept-data-loss to go ahead, or use switchover while it answers", name, from)
	}
	fmt.Fprintf(out, "%s: promoting the copy here without the demotion token of %s. WAL it had not archived yet is LOST.\n", name, from)
	fmt.Fprintf(out, "%s: if that copy comes back it still runs as the primary: stop it there before clients reach it.\n", name)
	if coop.Annotations[coopv1.AnnotationFailover] != coopv1.AcceptDataLoss {
		patch := client.MergeFrom(coop.DeepCopy())
		if coop.Annotations == nil {
			coop.Annotations = map[string]string{}
		}
		coop.Annotations[coopv1.AnnotationFailover] = coopv1.AcceptDataLoss
		if err := c.Patch(ctx, coop, patch); err != nil {
			return explain(err, "marking "+name+" for failover")
		}
	}
	if f.noWait {
		return nil
	}
	home := coop.Spec.Standby == nil
	return follow(ctx, c, out, name, f, carriedOn(name), func(co *coopv1.Cooperative) bool {
		// A home that lists no peer any more takes no part in federation once it holds
		// the primary: its federation status goes.
		return (co.Status.Federation != nil && co.Status.Federation.Role == coopv1.RolePrimary) ||
			(home && co.Status.Federation == nil && len(co.Spec.Federation.Peers) == 0)
	})
}

// follow prints the co-op's federation status whenever it changes, until done, timeout or
// Ctrl-C; after says what goes on without the command, should it stop before done.
func follow(ctx context.Context, c client.Client, out io.Writer, name string, f *federationFlags, after string, done func(*coopv1.Cooperative) bool) error {
	return followUntil(ctx, c, out, name, f, after, func(co *coopv1.Cooperative) (bool, error) { return done(co), nil })
}

// followUntil is follow, ended also by the error done returns, which it returns.
func followUntil(ctx context.Context, c client.Client, out io.Writer, name string, f *federationFlags, after string, done func(*coopv1.Cooperative) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	last := ""
	tick := time.NewTicker(f.interval)
	defer tick.Stop()
	for {
		coop := &coopv1.Cooperative{}
		if err := c.Get(ctx, client.ObjectKey{Name: name}, coop); err != nil {
			return stoppedFollowing(ctx, err, name, f, last, after)
		}
		if line := progressLine(coop); line != last {
			fmt.Fprintf(out, "%s %s\n", time.Now().UTC().Format("15:04:05"), line)
			last = line
		}
		if ok, err := done(coop); err != nil {
			return err
		} else if ok {
			fmt.Fprintf(out, "%s: done\n", name)
			return nil
		}
		select {
		case <-ctx.Done():
			return stoppedFollowing(ctx, nil, name, f, last, after)
		case <-tick.C:
		}
	}
}

// carriedOn is what goes on of a switchover or a failover the command stops following.
func carriedOn(name string) string {
	return "the operators carry it on without the command: follow it with cooperator federation status " + name
}

// stoppedFollowing is the error of a follow cut off: by Ctrl-C (ExitInterrupted), or at
// --timeout (ExitTimeout). err is the failed read's, nil when the follow ended between two
// reads; last says where the co-op stood, after what goes on without the command. Any
// other error of the read is explained as such.
func stoppedFollowing(ctx context.Context, err error, name string, f *federationFlags, last, after string) error {
	switch {
	case interrupted(ctx, err):
		return &exitError{code: ExitInterrupted, err: fmt.Errorf("%s: interrupted (still %s); %s", name, orDash(last), after)}
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || (err != nil && deadlineExceeded(err)):
		return &exitError{code: ExitTimeout, err: fmt.Errorf("%s: not done after %s (still %s); %s", name, f.timeout, orDash(last), after)}
	}
	return explain(err, "reading Cooperative "+name)
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
	if m := fed.Move; m != nil {
		parts = append(parts, fmt.Sprintf("move to %s %s: %s", m.Peer, m.Phase, m.Message))
	}
	return strings.Join(parts, "; ")
}

// FederationRow is one co-op's federation, as `cooperator federation status` prints it.
type FederationRow struct {
	Cooperative    string `json:"cooperative"`
	Role           string `json:"role"`
	Primary        string `json:"primary"`
	Home           string `json:"home"`
	Standbys       string `json:"standbys"`
	LastSwitchover string `json:"lastSwitchover"`
}

var federationColumns = []column{
	{header: "COOPERATIVE", field: "cooperative"},
	{header: "ROLE", field: "role"},
	{header: "PRIMARY", field: "primary"},
	{header: "HOME", field: "home"},
	{header: "STANDBYS", field: "standbys"},
	{header: "LAST SWITCHOVER", field: "last_switchover"},
}

// federationStatus prints the co-ops' federation.
func (r *root) federationStatus(ctx context.Context, c client.Client, out io.Writer, format string, names []string) error {
	var coops []coopv1.Cooperative
	if len(names) == 1 {
		coop := &coopv1.Cooperative{}
		if err := c.Get(ctx, client.ObjectKey{Name: names[0]}, coop); err != nil {
			return explain(err, "reading Cooperative "+names[0])
		}
		coops = append(coops, *coop)
	} else {
		var err error
		if coops, _, err = r.listCooperatives(ctx, c); err != nil {
			return err
		}
	}
	rows := []FederationRow{}
	t := table{columns: federationColumns}
	for _, co := range coops {
		fed := co.Status.Federation
		if fed == nil && co.Spec.Standby == nil && len(co.Spec.Federation.Peers) == 0 {
			continue
		}
		row := FederationRow{Cooperative: co.Name, Home: "here"}
		if fed != nil {
			row.Role, row.Primary = string(fed.Role), fed.PrimaryRegion
			var s []string
			for _, st := range fed.Standbys {
				s = append(s, st.Peer+"="+string(st.State))
			}
			row.Standbys = strings.Join(s, ",")
			if sw := fed.LastSwitchover; sw != nil {
				row.LastSwitchover = sw.From + "->" + sw.To
				if sw.WithoutToken {
					row.LastSwitchover += " (failover)"
				}
			}
		}
		if co.Spec.Standby != nil {
			row.Home = co.Spec.Standby.HomeRegion
		}
		rows = append(rows, row)
		t.rows = append(t.rows, []string{row.Cooperative, row.Role, row.Primary, row.Home, row.Standbys, row.LastSwitchover})
	}
	return printResult(out, format, t, rows)
}

// FederationTo runs `cooperator federation ARGS` in-process, writing its output and help
// to out: the federation suite drives switchovers with it.
func FederationTo(ctx context.Context, args []string, out io.Writer) error {
	root := NewRootCommand(Options{Out: out, ErrOut: out})
	root.SetArgs(append([]string{"federation"}, args...))
	return root.ExecuteContext(ctx)
}
