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

// Package governance is the operator's half of governed changes: for each co-op whose
// spec has governed fields, it reads the passed proposals its members closed in the
// platform service (in the co-op's own database, with the credentials the operator
// holds), re-tallies each from the ballots with the platform's own pure tally function,
// applies the change to the Cooperative when the tally agrees, records it in
// status.governance and writes back to the database what became of it, so that members
// see it in the platform.
//
// Timing: each governed co-op's database is read every Interval (10 s by default) with up
// to 20 % jitter, so that co-ops do not all connect at once; a passed proposal is applied
// within about Interval of its close (the platform closes proposals at their deadline by
// itself). A spec change of the Cooperative also triggers a read.
//
// Federation: after a switchover (spec.federation.primary names a peer) the database here
// is a read-only replica and the members vote at the peer, where the standby applies no
// proposal: nothing is read until the primary is back, and Governed says so.
//
// Network: the operator's pods connect to each co-op's database service (<cluster>-rw on
// port 5432 in coop-<name>, or the hub's shared cluster for the shared tier): the co-op
// namespace's NetworkPolicies must admit ingress on 5432 from the operator's namespace,
// and the operator's egress (if restricted) must allow it.
package governance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/cooperator-dev/cooperator/api/policy"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/ssa"
	"github.com/cooperator-dev/cooperator/controllers/shared/text"
	tally "github.com/cooperator-dev/cooperator/platform/server/governance"
)

// pendingPerPass bounds the passed proposals one reconcile applies.
const pendingPerPass = 20

// FieldOwner is the field manager of the spec changes and the status this controller writes.
const FieldOwner = "cooperator-governance"

// DefaultInterval is how often a governed co-op's database is read.
const DefaultInterval = 10 * time.Second

// Reconciler applies passed proposals to Cooperatives.
type Reconciler struct {
	Client client.Client
	// APIReader reads the co-op's app Secret, which the cache does not hold (the operator
	// may read it through the role it binds in each co-op namespace, cooperator-tenant),
	// and the Cooperative again when a status write finds the cached copy behind.
	APIReader client.Reader
	Recorder  recorder.EventRecorder
	// Interval between two reads of a co-op's database; DefaultInterval when zero.
	Interval time.Duration
	// DSN, when set, rewrites the connection URI of a co-op's database before the operator
	// connects (tests point it at their own PostgreSQL, as no database pod runs there).
	DSN func(coop *coopv1.Cooperative, uri string) string
	// Clock tells the time of the status records; nil is the real clock.
	Clock clock.PassiveClock
	// MaxHoldAtPeer bounds how long passed proposals wait for a co-op's primary database
	// to come home from a peer (the hub's maxVoteHoldAtPeer); 0 is no bound.
	MaxHoldAtPeer time.Duration
}

// +kubebuilder:rbac:groups=coop.cooperator.dev,resources=cooperatives,verbs=get;list;watch;patch;update
// +kubebuilder:rbac:groups=coop.cooperator.dev,resources=cooperatives/status,verbs=get;patch;update
// +kubebuilder:rbac:groups=coop.cooperator.dev,resources=hostingplans,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// SetupWithManager registers the controller.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&coopv1.Cooperative{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("governance").
		Complete(r)
}

func (r *Reconciler) now() time.Time {
	if r.Clock == nil {
		return time.Now()
	}
	return r.Clock.Now()
}

func (r *Reconciler) requeue() ctrl.Result {
	interval := r.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	return ctrl.Result{RequeueAfter: wait.Jitter(interval, 0.2)}
}

// governed says whether the co-op has governed fields, is not being deleted, and is not a
// standby (its database is a replica, and its governed fields follow its home).
func governed(coop *coopv1.Cooperative) bool {
	return len(coop.Spec.Governance.GovernedFields) > 0 && coop.DeletionTimestamp.IsZero() && coop.Spec.Standby == nil
}

// reads says whether the operator reads the co-op's proposals: it is governed, or was
// (status.governance), and is neither being deleted nor a standby. Reconcile reads them
// only while the primary is here. A co-op whose members took every field off the list is
// still read: a proposal that passes after that is reported back as not applicable, where
// it would otherwise wait, pending, and be applied once a field is governed again, over
// what the admins set meanwhile.
func reads(coop *coopv1.Cooperative) bool {
	return (len(coop.Spec.Governance.GovernedFields) > 0 || coop.Status.Governance != nil) && coop.DeletionTimestamp.IsZero() && coop.Spec.Standby == nil
}

// Reconcile reads the co-op's passed proposals and applies them, oldest close first.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var coop coopv1.Cooperative
	if err := r.Client.Get(ctx, req.NamespacedName, &coop); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !reads(&coop) {
		return ctrl.Result{}, nil
	}
	// A suspended co-op's changes are not rolled out (the Cooperative controller leaves its
	// objects alone): its members' votes wait for its resumption, which changes the spec.
	if coop.Spec.Suspend {
		cond := metav1.Condition{Type: coopv1.ConditionGoverned, Status: metav1.ConditionUnknown, Reason: coopv1.ReasonSuspended,
			Message: "the co-op is suspended (spec.suspend): passed proposals wait, pending, in its database and are applied once it is resumed"}
		return ctrl.Result{}, r.writeStatus(ctx, &coop, nil, cond)
	}
	// After a switchover the database here is a replica: the members vote at the peer, and
	// nothing they passed could be written back here. A switch back changes the spec,
	// which brings the next reconcile.
	if peer := coop.Spec.Federation.Primary; peer != "" {
		return r.heldAtPeer(ctx, &coop, peer)
	}
	unreadable := func(err error) (ctrl.Result, error) {
		log.FromContext(ctx).Info("Co-op database not readable; retrying", "cooperative", coop.Name, "error", err.Error())
		cond := metav1.Condition{Type: coopv1.ConditionGoverned, Status: metav1.ConditionUnknown, Reason: coopv1.ReasonDatabaseUnreachable,
			Message: "cannot read the co-op's database for passed proposals; retrying"}
		if err := r.writeStatus(ctx, &coop, nil, cond); err != nil {
			return ctrl.Result{}, err
		}
		return r.requeue(), nil
	}
	// The co-op's credentials are readable once its tenancy is in place: the operator reads
	// them through the role it binds in the co-op namespace, and asks nothing before.
	if !meta.IsStatusConditionTrue(coop.Status.Conditions, coopv1.ConditionTenancyReady) {
		return unreadable(errors.New("the co-op's namespace is not set up yet"))
	}
	conn, err := r.connect(ctx, &coop)
	if err != nil {
		return unreadable(err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	// A database the platform has not migrated yet, or that went away, is waited for.
	waiting, err := tally.PendingChanges(ctx, conn, pendingPerPass)
	if err != nil {
		return unreadable(err)
	}
	// A replica (a switchback under way, the home held) reads, but no outcome could be
	// written back: nothing is applied until it takes writes.
	var readOnly string
	if err := conn.QueryRow(ctx, "SELECT current_setting('transaction_read_only')").Scan(&readOnly); err != nil {
		return unreadable(err)
	}
	if readOnly == "on" {
		cond := metav1.Condition{Type: coopv1.ConditionGoverned, Status: metav1.ConditionUnknown, Reason: coopv1.ReasonDatabaseReadOnly,
			Message: fmt.Sprintf("the co-op's database here accepts no writes (a replica: a switchover or switchback under way?): %d passed proposal(s) wait, pending, until it does", len(waiting))}
		if err := r.writeStatus(ctx, &coop, nil, cond); err != nil {
			return ctrl.Result{}, err
		}
		return r.requeue(), nil
	}
	if err := r.observeMinimum(ctx, &coop); err != nil {
		return ctrl.Result{}, err
	}
	// A change interrupted after its spec write is finished first, even when that change
	// left the co-op without governed fields.
	pending := resumeFirst(waiting, applyingOf(&coop))
	for _, p := range pending {
		if err := r.applyOne(ctx, &coop, conn, p); err != nil {
			return ctrl.Result{}, fmt.Errorf("co-op %s, proposal %d: %w", coop.Name, p.ID, err)
		}
	}
	// Home again, and what waited for the primary is decided (or, past one pass's worth,
	// is being): the co-op's admins may switch over again.
	if waitingAtPeerSince(&coop) != nil {
		if err := r.update(ctx, &coop, func(*coopv1.Cooperative) *statusChange { return &statusChange{notWaiting: true} }); err != nil {
			return ctrl.Result{}, err
		}
	}
	if a := applyingOf(&coop); a != nil && len(waiting) < pendingPerPass &&
		!slices.ContainsFunc(waiting, func(p tally.Closed) bool { return notes(a, p) }) {
		// The proposal being applied waits no more: its outcome was written back to the
		// database some other way. Nothing is being applied.
		if err := r.update(ctx, &coop, func(c *coopv1.Cooperative) *statusChange {
			if a := applyingOf(c); a != nil && !slices.ContainsFunc(waiting, func(p tally.Closed) bool { return notes(a, p) }) {
				return &statusChange{done: a}
			}
			return nil
		}); err != nil {
			return ctrl.Result{}, err
		}
	}
	if governed(&coop) && idle(&coop) {
		cond := metav1.Condition{Type: coopv1.ConditionGoverned, Status: metav1.ConditionTrue, Reason: coopv1.ReasonChangesApplied,
			Message: "no passed proposal waits to be applied"}
		if err := r.writeStatusIf(ctx, &coop, nil, cond, idle); err != nil {
			return ctrl.Result{}, err
		}
	}
	return r.requeue(), nil
}

// heldAtPeer is the governance of a co-op whose primary database is at a peer (a
// switchover, its admins' decision): the copy here is a read-only replica of it, and the
// members vote at the peer, where the standby applies nothing. The operator reads the
// replica for passed proposals that wait. The first time it sees some it records when
// (status.governance.waitingAtPeerSince); once the hub's MaxHoldAtPeer has passed since,
// it clears spec.federation.primary, which brings the primary home as a switchback by the
// admins would (losing nothing), and there they are applied. So a switchover cannot hold
// back what the members voted for longer than the hub allows; while waitingAtPeerSince is
// set, the webhook refuses the admins a new switchover.
func (r *Reconciler) heldAtPeer(ctx context.Context, coop *coopv1.Cooperative, peer string) (ctrl.Result, error) {
	cond := metav1.Condition{Type: coopv1.ConditionGoverned, Status: metav1.ConditionUnknown, Reason: coopv1.ReasonPrimaryAtPeer,
		Message: fmt.Sprintf("the co-op's primary database is at peer %s (spec.federation.primary): the copy here is a read-only replica "+
			"and the members vote at %s, where the standby applies no proposal; passed proposals wait, pending, until the primary is back here", peer, peer)}
	// A move to another hub is the hub's decision, and the co-op's votes go with it: its
	// passed proposals are the new hub's to apply, not held back here.
	if to := moving(coop); to != "" {
		cond.Message += fmt.Sprintf("; the co-op is moving to %s (the hub's decision), where its passed proposals are applied", to)
		return r.requeue(), r.update(ctx, coop, func(*coopv1.Cooperative) *statusChange {
			return &statusChange{cond: &cond, notWaiting: true}
		})
	}
	if r.MaxHoldAtPeer <= 0 {
		// The hub sets no bound (maxVoteHoldAtPeer 0): nothing is read or counted, and the
		// admins' switchovers are theirs alone, as before the bound; a switch back changes
		// the spec, which brings the next reconcile.
		return ctrl.Result{}, r.update(ctx, coop, func(*coopv1.Cooperative) *statusChange {
			return &statusChange{cond: &cond, notWaiting: true}
		})
	}
	var waiting []tally.Closed
	err := errors.New("the co-op's namespace is not set up yet")
	if meta.IsStatusConditionTrue(coop.Status.Conditions, coopv1.ConditionTenancyReady) {
		var conn *pgx.Conn
		if conn, err = r.connect(ctx, coop); err == nil {
			waiting, err = tally.PendingChanges(ctx, conn, pendingPerPass)
			_ = conn.Close(context.WithoutCancel(ctx))
		}
	}
	since := waitingAtPeerSince(coop)
	if err != nil {
		// How long proposals have waited is kept, and counted on, from what was seen.
		log.FromContext(ctx).Info("Co-op replica not readable; retrying", "cooperative", coop.Name, "error", err.Error())
		cond.Message += "; the replica here cannot be read, so passed proposals are not counted; retrying"
		return r.requeue(), r.writeStatus(ctx, coop, nil, cond)
	}
	if len(waiting) == 0 {
		return r.requeue(), r.update(ctx, coop, func(*coopv1.Cooperative) *statusChange {
			return &statusChange{cond: &cond, notWaiting: true}
		})
	}
	now := metav1.NewTime(r.now().UTC().Truncate(time.Second))
	if since == nil {
		since = &now
	}
	result := r.requeue()
	switch deadline := since.Add(r.MaxHoldAtPeer); {
	case now.Before(&metav1.Time{Time: deadline}):
		cond.Message += fmt.Sprintf("; %d passed proposal(s) wait since %s: unless the co-op's admins switch back first, the operator brings the primary home at %s (the hub's maxVoteHoldAtPeer, %s)",
			len(waiting), since.Format(time.RFC3339), deadline.Format(time.RFC3339), r.MaxHoldAtPeer)
		if left := deadline.Sub(now.Time); left < result.RequeueAfter {
			result.RequeueAfter = left
		}
	default:
		cleared, err := r.bringPrimaryHome(ctx, coop, peer)
		if err != nil {
			return ctrl.Result{}, err
		}
		if !cleared {
			// The admins switched back (or over elsewhere) meanwhile: the next reconcile,
			// which the spec change brings, judges that.
			return result, nil
		}
		msg := fmt.Sprintf("%d passed proposal(s) waited since %s, longer than the hub's maxVoteHoldAtPeer (%s), while the co-op's primary database was at peer %s: "+
			"the operator cleared spec.federation.primary to bring it home, where they are applied; the co-op's admins may switch over again once they are",
			len(waiting), since.Format(time.RFC3339), r.MaxHoldAtPeer, peer)
		r.Recorder.Eventf(coop, nil, corev1.EventTypeWarning, coopv1.ReasonPrimaryReturnedForVotes, "Govern", "%s", msg)
		log.FromContext(ctx).Info("Brought the primary home for passed proposals", "cooperative", coop.Name, "peer", peer, "waiting", len(waiting))
		cond.Message = msg
	}
	return result, r.update(ctx, coop, func(*coopv1.Cooperative) *statusChange {
		return &statusChange{cond: &cond, waitingAtPeer: since}
	})
}

// bringPrimaryHome clears spec.federation.primary, at the co-op's resourceVersion: a
// switchback by its admins meanwhile is not overwritten (a conflict, retried from a fresh
// read, which finds the primary home or at another peer).
func (r *Reconciler) bringPrimaryHome(ctx context.Context, coop *coopv1.Cooperative, peer string) (cleared bool, err error) {
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		fresh := &coopv1.Cooperative{}
		if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(coop), fresh); err != nil {
			return fmt.Errorf("reading Cooperative %s again: %w", coop.Name, err)
		}
		if fresh.Spec.Federation.Primary != peer || moving(fresh) != "" {
			cleared = false
			return nil // switched back, or over elsewhere, or moving, meanwhile
		}
		patch := client.MergeFromWithOptions(fresh.DeepCopy(), client.MergeFromWithOptimisticLock{})
		fresh.Spec.Federation.Primary = ""
		if err := r.Client.Patch(ctx, fresh, patch, client.FieldOwner(FieldOwner)); err != nil {
			return err
		}
		coop.ObjectMeta, coop.Spec = fresh.ObjectMeta, fresh.Spec
		cleared = true
		return nil
	})
	return cleared, err
}

// moving names the peer hub the co-op moves to (annotation move-to, or a move its status
// records as under way), or "".
func moving(coop *coopv1.Cooperative) string {
	if to := coop.Annotations[coopv1.AnnotationMoveTo]; to != "" {
		return to
	}
	if f := coop.Status.Federation; f != nil && f.Move != nil && f.Move.Phase != coopv1.MoveRefused {
		return f.Move.Peer
	}
	return ""
}

// waitingAtPeerSince is status.governance.waitingAtPeerSince.
func waitingAtPeerSince(coop *coopv1.Cooperative) *metav1.Time {
	if coop.Status.Governance == nil {
		return nil
	}
	return coop.Status.Governance.WaitingAtPeerSince
}

// observeMinimum records the spec's minimum voting period in status, and a raise of it with
// the minimum before (minimumFor): whoever raised it (a vote, the hub's break-glass), a
// proposal open then is held to the one it opened under.
func (r *Reconciler) observeMinimum(ctx context.Context, coop *coopv1.Cooperative) error {
	return r.update(ctx, coop, func(c *coopv1.Cooperative) *statusChange {
		now := int32(policy.GovernanceFromSpec(c.Spec.Governance).MinimumVotingPeriodHours)
		var seen int32
		if c.Status.Governance != nil {
			seen = c.Status.Governance.MinimumVotingPeriodHours
		}
		if seen == now {
			return nil
		}
		w := &statusChange{minimum: &now}
		if seen > 0 && now > seen {
			w.raise = &coopv1.VotingPeriodRaise{FromHours: seen, At: metav1.Time{Time: r.now().UTC().Truncate(time.Second)}}
		}
		return w
	})
}

// resumeFirst puts the proposal being applied (an interrupted change) before the others,
// so that no other proposal's entry replaces its record of the value it replaced. (One
// that closed earlier may commit, and so be pending, after it.)
func resumeFirst(pending []tally.Closed, a *coopv1.ApplyingProposal) []tally.Closed {
	if a == nil {
		return pending
	}
	i := slices.IndexFunc(pending, func(p tally.Closed) bool { return notes(a, p) })
	if i <= 0 {
		return pending
	}
	out := append([]tally.Closed{pending[i]}, pending[:i]...)
	return append(out, pending[i+1:]...)
}

// connect opens a connection to the co-op's database with the operator's copy of its
// credentials.
func (r *Reconciler) connect(ctx context.Context, coop *coopv1.Cooperative) (*pgx.Conn, error) {
	var secret corev1.Secret
	key := client.ObjectKey{Namespace: coop.NamespaceName(), Name: coopv1.AppSecretName(coop)}
	if err := r.APIReader.Get(ctx, key, &secret); err != nil {
		return nil, fmt.Errorf("reading Secret %s: %w", key, err)
	}
	uri := string(secret.Data["uri"])
	if uri == "" {
		return nil, fmt.Errorf("secret %s has no uri", key)
	}
	if r.DSN != nil {
		uri = r.DSN(coop, uri)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(uri)
	if err != nil {
		return nil, errors.New("the uri of the app Secret does not parse") // the error would echo the password
	}
	// No statement of the operator's waits longer than statementTimeout, for the database
	// or for a lock: a co-op's serving role that holds a proposal's row (or slows its
	// database) fails that co-op's pass, which is retried, and holds up no other co-op's.
	cfg.RuntimeParams["statement_timeout"] = strconv.Itoa(int(statementTimeout.Milliseconds()))
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s:%d: %w", cfg.Host, cfg.Port, errors.Unwrap(err))
	}
	return conn, nil
}

// statementTimeout bounds each statement the operator runs in a co-op's database.
const statementTimeout = 30 * time.Second

// outcome is what became of one passed proposal.
type outcome struct {
	state, message string
	cond           metav1.Condition
	event          string
	warning        bool
	record         *coopv1.AppliedProposal
}

// applyOne decides one passed proposal and carries the decision out: the spec change and
// the status record, then the write-back to the co-op's database.
func (r *Reconciler) applyOne(ctx context.Context, coop *coopv1.Cooperative, conn *pgx.Conn, p tally.Closed) error {
	closedAt := closeTime(p)
	if coop.Status.Governance != nil && slices.ContainsFunc(coop.Status.Governance.History, func(a coopv1.AppliedProposal) bool { return sameProposal(a, p.ID, closedAt) }) {
		// Applied before the write-back was recorded.
		return r.writeBack(ctx, coop, conn, p.ID, tally.ApplicationApplied, fmt.Sprintf("applied to Cooperative %s", coop.Name))
	}
	var o outcome
	if g := coop.Status.Governance; g != nil && g.DecidedThrough != nil && closedAt != nil && !notes(applyingOf(coop), p) &&
		closedAt.Add(restoreSlack).Before(g.DecidedThrough.Time) {
		o = closedBeforeDecided(p, g.DecidedThrough.Time)
	} else if p.TooLarge {
		o = tooLarge(p, fmt.Sprintf("its change, its rules or its recorded result is larger than the %d KiB the operator reads of each; nothing was applied",
			tally.MaxValueBytes>>10))
	} else {
		in, err := tally.LoadInput(ctx, conn, p.Rules, p.ID, true)
		switch {
		case errors.Is(err, tally.ErrTooLarge):
			o = tooLarge(p, fmt.Sprintf("its roll or its delegations hold more than the %d entries the operator tallies; nothing was applied",
				tally.MaxElectorate))
		case err != nil:
			return err
		default:
			notVoted, err := tally.NotVoted(ctx, conn, p.ID)
			if err != nil {
				return err
			}
			o = decide(coop, p, tally.Tally(in), notVoted)
		}
	}
	if o.state == tally.ApplicationApplied {
		var err error
		if o, err = r.applyChange(ctx, coop, p, o); err != nil {
			return err
		}
	}
	// When it closed, as far as the operator's clock allows: a close time ahead of it (a
	// platform replica's clock, a peer's after a switchover, a database's writer) would
	// otherwise have every proposal closed before it refused as from a restored database.
	decided := closedAt
	if now := metav1.NewTime(r.now().UTC().Truncate(time.Second)); decided != nil && now.Before(decided) {
		decided = &now
	}
	var refused *coopv1.RefusedProposal
	if o.state != tally.ApplicationApplied {
		refused = &coopv1.RefusedProposal{ID: p.ID, Field: text.Truncate(p.Field, 64), ClosedAt: closedAt,
			DecidedAt: metav1.NewTime(r.now().UTC().Truncate(time.Second)), Reason: o.cond.Reason, Message: text.Truncate(o.message, 2048)}
	}
	if err := r.update(ctx, coop, func(*coopv1.Cooperative) *statusChange {
		return &statusChange{rec: o.record, refused: refused, cond: &o.cond, done: &coopv1.ApplyingProposal{ID: p.ID, ClosedAt: closedAt}, decided: decided}
	}); err != nil {
		return err
	}
	kind := corev1.EventTypeNormal
	if o.warning {
		kind = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(coop, nil, kind, o.cond.Reason, "Govern", "Proposal %d (%s): %s", p.ID, p.Field, o.event)
	log.FromContext(ctx).Info("Passed proposal handled", "cooperative", coop.Name, "proposal", p.ID, "field", p.Field, "state", o.state)
	return r.writeBack(ctx, coop, conn, p.ID, o.state, o.message)
}

// restoreSlack is how much earlier than the newest proposal the operator decided one may
// close and still be decided: proposals commit their close a moment apart, not always in
// the order of their close times, and a platform replica's clock may lag. One that closed
// longer before comes from a restored database (closedBeforeDecided).
const restoreSlack = time.Hour

// closedBeforeDecided refuses a proposal that closed well before the newest one the
// operator decided and that the history does not hold: the co-op's database was restored to
// an earlier point, and what the proposal changed may have been applied, and changed again
// by later votes, since. Applying it again would undo those; the members propose it again
// if it still stands.
func closedBeforeDecided(p tally.Closed, through time.Time) outcome {
	msg := fmt.Sprintf("it closed at %s, before proposals the operator has decided since (the newest closed at %s): the co-op's database "+
		"seems restored to an earlier point, and this change may have been applied and changed again since; nothing was applied "+
		"(propose it again if it still stands)", p.ClosedAt.UTC().Format(time.RFC3339), through.UTC().Format(time.RFC3339))
	return outcome{state: tally.ApplicationRefused, message: msg, warning: true, event: msg,
		cond: metav1.Condition{Type: coopv1.ConditionGoverned, Status: metav1.ConditionFalse, Reason: coopv1.ReasonClosedBeforeDecided,
			Message: fmt.Sprintf("proposal %d refused: %s", p.ID, msg)}}
}

// tooLarge refuses p, which the co-op's database holds larger than the operator reads
// (tally.MaxValueBytes, tally.MaxElectorate): only a database written past the platform's
// checks holds one, and reading it would let one co-op exhaust the operator's memory.
func tooLarge(p tally.Closed, msg string) outcome {
	return outcome{state: tally.ApplicationRefused, message: msg, warning: true, event: msg,
		cond: metav1.Condition{Type: coopv1.ConditionGoverned, Status: metav1.ConditionFalse, Reason: coopv1.ReasonProposalTooLarge,
			Message: fmt.Sprintf("proposal %d refused: %s", p.ID, msg)}}
}

// outcomeWords say an application state in a sentence.
var outcomeWords = map[string]string{
	tally.ApplicationApplied: "applied",
	tally.ApplicationRefused: "refused by the operator's checks of the vote",
	tally.ApplicationFailed:  "not applicable",
}

// writeBack writes what became of a proposal into the co-op's database. When the database
// refuses, the Governed condition says so (the members do not see the outcome, and no
// other proposal is handled until they do) and the error is returned, to try again.
func (r *Reconciler) writeBack(ctx context.Context, coop *coopv1.Cooperative, conn *pgx.Conn, id int64, state, message string) error {
	err := r.recordBack(ctx, conn, id, state, message)
	if err == nil {
		return nil
	}
	cond := metav1.Condition{Type: coopv1.ConditionGoverned, Status: metav1.ConditionFalse, Reason: coopv1.ReasonWriteBackFailed,
		Message: fmt.Sprintf("proposal %d was %s, but the co-op's database refused that record, so its members do not see it; "+
			"no other passed proposal is handled until it is written (retrying): %v", id, outcomeWords[state], err)}
	if serr := r.writeStatus(ctx, coop, nil, cond); serr != nil {
		return errors.Join(err, serr)
	}
	return err
}

// decide checks a passed proposal without the cluster: the re-tally must give the stored
// result, the rules it was voted under must be the co-op's, it must have stayed open for
// the co-op's minimum voting period unless everyone voted (notVoted members of its
// electorate did not), and the value must pass the policy's rules. It returns an applied
// outcome (to be carried out) or why not.
func decide(coop *coopv1.Cooperative, p tally.Closed, retally tally.Result, notVoted int64) outcome {
	if !retally.Passed || !sameOutcome(retally, p.Result) {
		msg := fmt.Sprintf("the operator's re-tally of the ballots does not give the recorded result (it gives: %s); nothing was applied", retally.Reason)
		return outcome{state: tally.ApplicationRefused, message: msg, warning: true, event: msg,
			cond: metav1.Condition{Type: coopv1.ConditionGoverned, Status: metav1.ConditionFalse, Reason: coopv1.ReasonTallyMismatch,
				Message: fmt.Sprintf("proposal %d refused: %s", p.ID, msg)}}
	}
	notApplicable := func(msg string) outcome {
		return outcome{state: tally.ApplicationFailed, message: msg, warning: true, event: "passed but not applied: " + msg,
			cond: metav1.Condition{Type: coopv1.ConditionGoverned, Status: metav1.ConditionFalse, Reason: coopv1.ReasonChangeNotApplicable,
				Message: fmt.Sprintf("proposal %d passed but was not applied: %s", p.ID, msg)}}
	}
	rules := rulesBefore(coop, p)
	if !sameRules(p.Rules, rules) {
		return notApplicable("the co-op's governance rules changed while the proposal was open; propose it again")
	}
	if minimum := minimumFor(coop, p, rules); !tally.OpenLongEnough(p, minimum, notVoted) {
		open := p.ClosedAt.Sub(p.Created).Round(time.Minute)
		msg := fmt.Sprintf("it closed %s after it opened, before the co-op's minimum voting period of %d hours, while %d members "+
			"of its electorate had not voted; nothing was applied", open, minimum, notVoted)
		if p.Deadline == nil {
			msg = fmt.Sprintf("it has no deadline and closed while %d members of its electorate had not voted; nothing was applied", notVoted)
		}
		return outcome{state: tally.ApplicationRefused, message: msg, warning: true, event: msg,
			cond: metav1.Condition{Type: coopv1.ConditionGoverned, Status: metav1.ConditionFalse, Reason: coopv1.ReasonClosedEarly,
				Message: fmt.Sprintf("proposal %d refused: %s", p.ID, msg)}}
	}
	if !rules.Governs(p.Field) {
		// Taken off governedFields since (by a vote): its admins set it now, and a passed
		// change would undo what they set. The platform refuses such a proposal when made.
		return notApplicable(fmt.Sprintf("%s is not one of the co-op's governed fields (spec.governance.governedFields) now", p.Field))
	}
	if _, err := policy.ParseChange(p.Field, p.Value); err != nil {
		return notApplicable(err.Error())
	}
	summary := fmt.Sprintf("%s: turnout %s%%, approval %s%%", retally.Model, retally.TurnoutPercent, retally.ApprovalPercent)
	return outcome{state: tally.ApplicationApplied, event: "applied (" + summary + ")",
		record: &coopv1.AppliedProposal{ID: p.ID, Field: coopv1.GovernedField(p.Field), NewValue: string(p.Value), Tally: summary,
			ClosedAt: closeTime(p)},
		cond: metav1.Condition{Type: coopv1.ConditionGoverned, Status: metav1.ConditionTrue, Reason: coopv1.ReasonChangesApplied,
			Message: fmt.Sprintf("proposal %d applied: %s changed by a vote of the members", p.ID, p.Field)}}
}

// policyLag is how long the platform may go on opening proposals under the co-op's rules of
// before a change the operator applied: until the kubelet has copied the new coop-policy
// into its pods and the platform has reloaded it.
const policyLag = 10 * time.Minute

// minimumFor is the minimum voting period p is held to: the co-op's (rules, the spec's), or
// the one p opened under when the minimum was raised while p was open: a raise the operator
// saw (status.governance.votingPeriodRaises, whoever made it) or a change of the rules in
// the co-op's history, after p opened (or shortly before, while the platform still had the
// old policy), from a minimum at most the one p's rules say. A database that claims a
// shorter minimum than the co-op had then is not believed.
func minimumFor(coop *coopv1.Cooperative, p tally.Closed, rules policy.Governance) int64 {
	opened := p.Rules.MinimumVotingPeriodHours
	if opened <= 0 || opened >= rules.MinimumVotingPeriodHours || coop.Status.Governance == nil {
		return rules.MinimumVotingPeriodHours
	}
	for _, v := range coop.Status.Governance.VotingPeriodRaises {
		if !v.At.Time.Before(p.Created.Add(-policyLag)) && int64(v.FromHours) <= opened {
			return opened
		}
	}
	for _, a := range coop.Status.Governance.History {
		if string(a.Field) != policy.PartGovernance || a.AppliedAt.Time.Before(p.Created.Add(-policyLag)) {
			continue
		}
		var g coopv1.Governance
		if err := json.Unmarshal([]byte(a.OldValue), &g); err != nil {
			continue
		}
		if policy.GovernanceFromSpec(g).MinimumVotingPeriodHours <= opened {
			return opened
		}
	}
	return rules.MinimumVotingPeriodHours
}

// sameOutcome compares what decides a tally: the model, the outcome and every class's
// counts. The reason and the percentages are their rendering, which a platform image of
// another version than the operator's may word otherwise: that is no discrepancy.
func sameOutcome(a, b tally.Result) bool {
	return a.Model == b.Model && a.Passed == b.Passed && a.QuorumReached == b.QuorumReached && slices.Equal(a.Classes, b.Classes)
}

// rulesBefore are the co-op's governance rules before p: its spec's, or, for a change of
// the rules themselves interrupted after its spec write, those the change replaced.
func rulesBefore(coop *coopv1.Cooperative, p tally.Closed) policy.Governance {
	if a := applyingOf(coop); notes(a, p) && p.Field == policy.PartGovernance {
		var g coopv1.Governance
		if err := json.Unmarshal([]byte(a.OldValue), &g); err == nil {
			return policy.GovernanceFromSpec(g)
		}
	}
	return policy.GovernanceFromSpec(coop.Spec.Governance)
}

// sameRules compares the rules that decide a tally.
func sameRules(a, b policy.Governance) bool {
	return a.Model == b.Model && a.QuorumPercent == b.QuorumPercent && a.Approval().Cmp(b.Approval()) == 0 &&
		slices.Equal(a.StakeholderClasses, b.StakeholderClasses)
}

// applyChange writes the new value into the Cooperative's spec. What only the cluster can
// check (the plan exists, the platform template and version serve the co-op, the API
// server's and the webhook's rules) turns the outcome
// into a failed one, reported back to the members.
func (r *Reconciler) applyChange(ctx context.Context, coop *coopv1.Cooperative, p tally.Closed, o outcome) (outcome, error) {
	fail := func(msg string) outcome {
		return outcome{state: tally.ApplicationFailed, message: msg, warning: true, event: "passed but not applied: " + msg,
			cond: metav1.Condition{Type: coopv1.ConditionGoverned, Status: metav1.ConditionFalse, Reason: coopv1.ReasonChangeNotApplicable,
				Message: fmt.Sprintf("proposal %d passed but was not applied: %s", p.ID, msg)}}
	}
	if p.Field == policy.PartPlan {
		var plan string
		if err := json.Unmarshal(p.Value, &plan); err != nil {
			return fail(err.Error()), nil
		}
		if err := r.Client.Get(ctx, client.ObjectKey{Name: plan}, &coopv1.HostingPlan{}); apierrors.IsNotFound(err) {
			return fail(fmt.Sprintf("HostingPlan %q does not exist", plan)), nil
		} else if err != nil {
			return o, fmt.Errorf("reading HostingPlan %s: %w", plan, err)
		}
	}
	if p.Field == policy.PartPlatform {
		// The template and version the change names must serve the co-op: else it would
		// be written, recorded as applied, and stall the co-op's platform.
		next := coop.DeepCopy()
		if err := SetSpecPart(next, p.Field, p.Value); err != nil {
			return fail(err.Error()), nil
		}
		// The part is replaced whole: a value that leaves the host out takes the members'
		// app off its address, where they could no longer vote it back (and the admins may
		// not change a governed part).
		if coop.Spec.Platform.Host != "" && next.Spec.Platform.Host == "" {
			return fail(fmt.Sprintf("the new value has no host: the members' app would lose its address %s, where they vote; "+
				"the whole platform part is replaced, so propose it again with the host", coop.Spec.Platform.Host)), nil
		}
		// Only a change of template or version: one of the host alone is judged by the API
		// server and the webhook, whatever becomes of the template meanwhile.
		if next.TemplateName() != coop.TemplateName() || next.Spec.Platform.Version != coop.Spec.Platform.Version {
			tmpl := &coopv1.PlatformTemplate{}
			if err := r.Client.Get(ctx, client.ObjectKey{Name: next.TemplateName()}, tmpl); apierrors.IsNotFound(err) {
				tmpl = nil
			} else if err != nil {
				return o, fmt.Errorf("reading PlatformTemplate %s: %w", next.TemplateName(), err)
			}
			if _, _, msg := coopv1.ResolveTemplate(next, tmpl); msg != "" {
				return fail(msg), nil
			}
		}
	}
	if primary := coop.Spec.Federation.Primary; p.Field == policy.PartFederation && primary != "" {
		var f coopv1.FederationSpec
		if err := json.Unmarshal(p.Value, &f); err != nil {
			return fail(err.Error()), nil
		}
		if !slices.ContainsFunc(f.Peers, func(peer coopv1.FederationPeerRef) bool { return peer.Name == primary }) {
			return fail(fmt.Sprintf("the change removes peer %s, which holds the co-op's primary database since a switchover "+
				"(spec.federation.primary): the co-op's admins must switch the primary back first, then the members may propose it again", primary)), nil
		}
	}
	old, err := r.writeAhead(ctx, coop, p)
	if err != nil {
		return o, err
	}
	changed := coop.DeepCopy()
	if err := SetSpecPart(changed, p.Field, p.Value); err != nil {
		return fail(err.Error()), nil
	}
	err = r.Client.Patch(ctx, changed, client.MergeFromWithOptions(coop, client.MergeFromWithOptimisticLock{}), client.FieldOwner(FieldOwner))
	switch {
	case apierrors.IsInvalid(err), apierrors.IsForbidden(err), apierrors.IsBadRequest(err):
		return fail("the API server refused the new value: " + apiMessage(err)), nil
	case err != nil:
		return o, fmt.Errorf("applying the change to the Cooperative: %w", err)
	}
	*coop = *changed
	applied, err := policy.SpecPart(coop, p.Field) // as the API server stored it, defaults included
	if err != nil {
		return o, err
	}
	o.message = fmt.Sprintf("applied to Cooperative %s", coop.Name)
	o.record.OldValue = string(old)
	o.record.NewValue = string(applied)
	o.record.AppliedAt = metav1.Time{Time: r.now().UTC().Truncate(time.Second)}
	return o, nil
}

func apiMessage(err error) string {
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		return se.Status().Message
	}
	return err.Error()
}

// SetSpecPart replaces one governed part of the spec with value (the JSON that
// policy.ParseChange returns). A new federation part replaces the peers and keeps
// spec.federation.primary as it is; a value that names a primary is refused.
func SetSpecPart(coop *coopv1.Cooperative, part string, value json.RawMessage) error {
	target, ok := policy.SpecField(&coop.Spec, part)
	if !ok {
		return fmt.Errorf("%q is not a governed part", part)
	}
	if part == policy.PartFederation {
		var f coopv1.FederationSpec
		if err := json.Unmarshal(value, &f); err != nil {
			return fmt.Errorf("decoding the new value of %s: %w", part, err)
		}
		if f.Primary != "" {
			return errors.New("federation.primary: a switchover is the co-op admins' decision, not a vote")
		}
		coop.Spec.Federation.Peers = f.Peers
		return nil
	}
	// A new value replaces a whole struct: a field it leaves out does not keep its old content.
	if v := reflect.ValueOf(target).Elem(); v.Kind() == reflect.Struct {
		v.SetZero()
	}
	if err := json.Unmarshal(value, target); err != nil {
		return fmt.Errorf("decoding the new value of %s: %w", part, err)
	}
	return nil
}

// writeStatus applies status.governance (with rec prepended to the history when set) and
// the Governed condition, under this controller's field owner, when they changed.
//
// The write is at coop's resourceVersion: the history it applies is coop's, and an apply
// that leaves out a record this owner applied before removes it. A copy behind the object
// (a cache that has not seen this controller's last record) is a conflict; the write is
// then made again from the object read from the API server (client-go's
// retry.RetryOnConflict: five tries at most).
func (r *Reconciler) writeStatus(ctx context.Context, coop *coopv1.Cooperative, rec *coopv1.AppliedProposal, cond metav1.Condition) error {
	return r.writeStatusIf(ctx, coop, rec, cond, nil)
}

// writeAhead records in status.governance.applying that the operator is about to write p's
// change into the spec, with the governed part's value before it, and returns that value.
// An entry of p already there is the record of a change interrupted after it (the spec
// may already hold p's value): its value is returned and nothing is written.
func (r *Reconciler) writeAhead(ctx context.Context, coop *coopv1.Cooperative, p tally.Closed) (json.RawMessage, error) {
	var old json.RawMessage
	var partErr error
	err := r.update(ctx, coop, func(c *coopv1.Cooperative) *statusChange {
		if a := applyingOf(c); notes(a, p) && string(a.Field) == p.Field {
			old = json.RawMessage(a.OldValue)
			return nil
		}
		if old, partErr = policy.SpecPart(c, p.Field); partErr != nil {
			return nil
		}
		return &statusChange{applying: &coopv1.ApplyingProposal{ID: p.ID, Field: coopv1.GovernedField(p.Field), OldValue: string(old),
			ClosedAt: closeTime(p)}}
	})
	if err == nil {
		err = partErr
	}
	return old, err
}

// sameProposal says whether a record of the history is of proposal id, closed at closedAt.
// The number alone is not enough: a database restored to an earlier point numbers its new
// proposals again. The close time is compared to the second, as the record keeps it; a
// record without one (not written by this controller) is matched by its number.
func sameProposal(a coopv1.AppliedProposal, id int64, closedAt *metav1.Time) bool {
	if a.ID != id {
		return false
	}
	return sameClose(a.ClosedAt, closedAt)
}

// notes says whether a, the entry of the proposal being applied, is of p: by number, and
// by close time as sameProposal (an entry without one is matched by its number).
func notes(a *coopv1.ApplyingProposal, p tally.Closed) bool {
	return a != nil && a.ID == p.ID && sameClose(a.ClosedAt, closeTime(p))
}

// closeTime is when p's vote closed, as status keeps it; nil when the database gives none.
func closeTime(p tally.Closed) *metav1.Time {
	if p.ClosedAt.IsZero() {
		return nil
	}
	return &metav1.Time{Time: p.ClosedAt}
}

// sameClose compares two close times to the second, as status keeps them; a missing or
// zero one matches any.
func sameClose(a, b *metav1.Time) bool {
	return a == nil || b == nil || a.IsZero() || b.IsZero() || a.Unix() == b.Unix()
}

// applyingOf is the co-op's entry of the proposal being applied, if any.
func applyingOf(coop *coopv1.Cooperative) *coopv1.ApplyingProposal {
	if coop.Status.Governance == nil {
		return nil
	}
	return coop.Status.Governance.Applying
}

// idle says whether the Governed condition says nothing of the co-op's proposals that
// still holds: it is missing, says the database could not be read or was not read (the
// co-op suspended, the primary at a peer), or says a write-back failed (a reconcile that
// finds nothing pending has made it since). A reconcile that finds nothing to apply
// writes that nothing waits only then, not over the outcome of the last proposal.
func idle(coop *coopv1.Cooperative) bool {
	c := meta.FindStatusCondition(coop.Status.Conditions, coopv1.ConditionGoverned)
	return c == nil || slices.Contains([]string{coopv1.ReasonDatabaseUnreachable, coopv1.ReasonPrimaryAtPeer, coopv1.ReasonSuspended,
		coopv1.ReasonWriteBackFailed}, c.Reason)
}

// writeStatusIf is writeStatus, made only while when (if set) holds for the co-op as last
// read: a write made again from a fresh read does not overwrite what its reason to write
// no longer covers.
func (r *Reconciler) writeStatusIf(ctx context.Context, coop *coopv1.Cooperative, rec *coopv1.AppliedProposal, cond metav1.Condition, when func(*coopv1.Cooperative) bool) error {
	return r.update(ctx, coop, func(c *coopv1.Cooperative) *statusChange {
		if when != nil && !when(c) {
			return nil
		}
		return &statusChange{rec: rec, cond: &cond}
	})
}

// statusChange is one write of the status fields this controller owns.
type statusChange struct {
	// rec is a record to add to the history (none when nil, or when it is there already).
	rec *coopv1.AppliedProposal
	// refused is a refusal to add to status.governance.refused (none when nil, or when it
	// is there already).
	refused *coopv1.RefusedProposal
	// cond is the Governed condition to set; nil keeps the one there.
	cond *metav1.Condition
	// applying is the proposal about to be applied, recorded before the spec changes.
	applying *coopv1.ApplyingProposal
	// done is the entry of the proposal whose outcome the write records (its number and
	// close time): the applying entry of that proposal goes.
	done *coopv1.ApplyingProposal
	// decided is when the proposal whose outcome the write records closed.
	decided *metav1.Time
	// minimum is the spec's minimum voting period, seen now; raise, when it is a raise.
	minimum *int32
	raise   *coopv1.VotingPeriodRaise
	// waitingAtPeer is when passed proposals were first seen waiting for the primary at a
	// peer (kept when already recorded); notWaiting removes the record.
	waitingAtPeer *metav1.Time
	notWaiting    bool
}

// update makes the status write that change computes from the co-op (none when it returns
// nil). A copy behind the object is a conflict: change is then asked again with the object
// read from the API server (client-go's retry.RetryOnConflict: five tries at most), so a
// write made again does not overwrite what its reason to write no longer covers.
func (r *Reconciler) update(ctx context.Context, coop *coopv1.Cooperative, change func(*coopv1.Cooperative) *statusChange) error {
	first := true
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if !first {
			fresh := &coopv1.Cooperative{}
			if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(coop), fresh); err != nil {
				return fmt.Errorf("reading Cooperative %s again: %w", coop.Name, err)
			}
			*coop = *fresh
		}
		first = false
		w := change(coop)
		if w == nil {
			return nil
		}
		return r.applyStatus(ctx, coop, *w)
	})
}

func (r *Reconciler) applyStatus(ctx context.Context, coop *coopv1.Cooperative, w statusChange) error {
	gov := coopv1.GovernanceStatus{}
	if coop.Status.Governance != nil {
		gov = *coop.Status.Governance.DeepCopy()
	}
	rec := w.rec
	if rec != nil && slices.ContainsFunc(gov.History, func(a coopv1.AppliedProposal) bool { return sameProposal(a, rec.ID, rec.ClosedAt) }) {
		rec = nil // recorded already
	}
	if rec != nil {
		gov.History = append([]coopv1.AppliedProposal{*rec}, gov.History...)
		if len(gov.History) > coopv1.MaxGovernanceHistory {
			gov.History = gov.History[:coopv1.MaxGovernanceHistory]
		}
	}
	changed := rec != nil
	if no := w.refused; no != nil && !slices.ContainsFunc(gov.Refused, func(r coopv1.RefusedProposal) bool {
		return r.ID == no.ID && sameClose(r.ClosedAt, no.ClosedAt)
	}) {
		gov.Refused = append([]coopv1.RefusedProposal{*no}, gov.Refused...)
		if len(gov.Refused) > coopv1.MaxGovernanceHistory {
			gov.Refused = gov.Refused[:coopv1.MaxGovernanceHistory]
		}
		changed = true
	}
	switch {
	case w.applying != nil:
		gov.Applying, changed = w.applying, true
	case w.done != nil && gov.Applying != nil && gov.Applying.ID == w.done.ID && sameClose(gov.Applying.ClosedAt, w.done.ClosedAt):
		gov.Applying, changed = nil, true
	}
	if w.decided != nil && (gov.DecidedThrough == nil || gov.DecidedThrough.Before(w.decided)) {
		gov.DecidedThrough, changed = w.decided.DeepCopy(), true
	}
	if w.minimum != nil && gov.MinimumVotingPeriodHours != *w.minimum {
		gov.MinimumVotingPeriodHours, changed = *w.minimum, true
		if w.raise != nil {
			gov.VotingPeriodRaises = append(gov.VotingPeriodRaises, *w.raise)
		}
		// No vote stays open longer than the longest voting period: an older raise
		// concerns none that may still close.
		gov.VotingPeriodRaises = slices.DeleteFunc(gov.VotingPeriodRaises, func(v coopv1.VotingPeriodRaise) bool {
			return w.raise != nil && v.At.Add(time.Duration(policy.MaxVotingPeriodHours)*time.Hour+policyLag).Before(w.raise.At.Time)
		})
		if n := len(gov.VotingPeriodRaises); n > coopv1.MaxVotingPeriodRaises {
			gov.VotingPeriodRaises = gov.VotingPeriodRaises[n-coopv1.MaxVotingPeriodRaises:]
		}
	}
	switch {
	case w.waitingAtPeer != nil && gov.WaitingAtPeerSince == nil:
		gov.WaitingAtPeerSince, changed = w.waitingAtPeer.DeepCopy(), true
	case w.notWaiting && gov.WaitingAtPeerSince != nil:
		gov.WaitingAtPeerSince, changed = nil, true
	}
	conditions := slices.Clone(coop.Status.Conditions)
	if w.cond != nil {
		cond := *w.cond
		cond.ObservedGeneration = coop.Generation
		if meta.SetStatusCondition(&conditions, cond) {
			changed = true
		}
	}
	if !changed {
		return nil
	}
	// Every field this owner holds is in each write: one left out would be removed.
	fields := map[string]any{}
	if mine := meta.FindStatusCondition(conditions, coopv1.ConditionGoverned); mine != nil {
		condition, err := ssa.StatusFields(mine)
		if err != nil {
			return err
		}
		fields["conditions"] = []any{condition}
	}
	if len(gov.History) > 0 || len(gov.Refused) > 0 || gov.Applying != nil || gov.DecidedThrough != nil || gov.MinimumVotingPeriodHours != 0 ||
		len(gov.VotingPeriodRaises) > 0 || gov.WaitingAtPeerSince != nil {
		var err error
		if fields["governance"], err = ssa.StatusFields(&gov); err != nil {
			return err
		}
	}
	// At coop's resourceVersion: the history written is coop's with rec before it, and a copy
	// behind the object (a cache that has not seen the last record yet) would drop that
	// record. A conflict instead, which update answers from a fresh read.
	if err := ssa.ApplyStatusFrom(ctx, r.Client, coopv1.GroupVersion.WithKind("Cooperative"), coop, fields, FieldOwner); err != nil {
		return err
	}
	coop.Status.Conditions = conditions
	coop.Status.Governance = &gov
	return nil
}

// recordBack writes what became of a proposal into the co-op's database.
func (r *Reconciler) recordBack(ctx context.Context, conn *pgx.Conn, id int64, state, message string) error {
	err := tally.RecordApplication(ctx, conn, id, state, message, r.now())
	if errors.Is(err, tally.ErrNotPending) {
		return nil
	}
	return err
}
