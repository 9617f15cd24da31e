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

// Package hubstatus hands each co-op's platform what the hub knows of the co-op and the
// platform cannot see (api/hubstatus): the readiness of its platform, database and
// backups, and its lines of the hub's CostReports. CooperativeReconciler keeps the
// ConfigMap coop-hub-status of each co-op's namespace up to date; it writes only when the
// document changed.
package hubstatus

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/cooperator-dev/cooperator/api/hubstatus"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/ssa"
)

// CooperativeReconciler reconciles a Cooperative into its hub-status ConfigMap.
type CooperativeReconciler struct {
	Client client.Client
	// Clock dates the running estimates; nil is the real clock.
	Clock clock.PassiveClock
}

// +kubebuilder:rbac:groups=coop.cooperator.dev,resources=cooperatives,verbs=get;list;watch
// +kubebuilder:rbac:groups=coop.cooperator.dev,resources=costreports,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch

// The ConfigMap is written in the co-op's namespace only, under the operator's tenant role
// that the Cooperative reconciler binds there (config/rbac/tenant_role.yaml): the operator
// may write no ConfigMap elsewhere.

// scope is what one reconcile knows.
type scope struct {
	coop    *coopv1.Cooperative
	reports []coopv1.CostReport
	// live is the ConfigMap as it is, nil when there is none; written the document it
	// holds when the operator wrote it (see written), nil otherwise.
	live    *corev1.ConfigMap
	written *hubstatus.Document
	doc     *hubstatus.Document
	// wait is how long until a running estimate kept back may be written.
	wait time.Duration
}

// phase is one step of a reconcile.
type phase func(ctx context.Context, s *scope) error

// Reconcile builds the co-op's document from its status and the CostReports, and applies
// the ConfigMap when it differs; a running estimate that moved is written at most once per
// RefreshOf the co-op (Settle), and the reconcile comes back when it may be. A co-op being
// deleted, or whose tenancy (its namespace and the operator's RoleBinding there) the
// Cooperative reconciler has not set up yet (status.namespace, recorded when TenancyReady
// is first True), is left alone: the namespace's deletion takes the ConfigMap with it,
// and the status update that records the namespace brings the co-op back here. A tenancy
// set up once stays: TenancyReady False later (a plan removed or exceeded, an apply
// refused) leaves the namespace and the RoleBinding as they were, and the document says
// the co-op is not ready.
func (r *CooperativeReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	coop := &coopv1.Cooperative{}
	if err := r.Client.Get(ctx, req.NamespacedName, coop); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !coop.DeletionTimestamp.IsZero() || coop.Status.Namespace == "" {
		return ctrl.Result{}, nil
	}
	s := &scope{coop: coop}
	for _, p := range []phase{r.loadReports, r.loadWritten, r.build, r.apply} {
		if err := p(ctx, s); err != nil {
			if apierrors.IsForbidden(err) && time.Since(tenancyReadySince(coop)) < rbacGrace {
				// The tenant RoleBinding was just made; the API server's authorizer has
				// not seen it yet.
				log.FromContext(ctx).V(1).Info("Waiting for the operator's tenant RoleBinding to take effect", "namespace", coop.NamespaceName())
				return ctrl.Result{RequeueAfter: time.Second}, nil
			}
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{RequeueAfter: s.wait}, nil
}

// rbacGrace is how long after TenancyReady last changed (to True, when the RoleBinding
// was first made) a refusal is taken for the API server's authorizer catching up with the
// new RoleBinding, not for a missing right.
const rbacGrace = 30 * time.Second

func tenancyReadySince(coop *coopv1.Cooperative) time.Time {
	if c := meta.FindStatusCondition(coop.Status.Conditions, coopv1.ConditionTenancyReady); c != nil {
		return c.LastTransitionTime.Time
	}
	return time.Time{}
}

// loadReports reads the CostReports from the cache, without copying them: each holds a
// line for every co-op of the hub, a CostReport's change wakes every co-op it names, and
// BuildDocument only reads them (copying what it keeps).
func (r *CooperativeReconciler) loadReports(ctx context.Context, s *scope) error {
	var list coopv1.CostReportList
	if err := r.Client.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("listing CostReports: %w", err)
	}
	s.reports = list.Items
	return nil
}

// loadWritten reads the ConfigMap and the document the operator last wrote there.
func (r *CooperativeReconciler) loadWritten(ctx context.Context, s *scope) error {
	live := &corev1.ConfigMap{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: s.coop.NamespaceName(), Name: hubstatus.ConfigMapName}, live); err != nil {
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("reading the hub status of %s: %w", s.coop.Name, err)
		}
		return nil
	}
	s.live, s.written = live, r.written(s.coop, live)
	return nil
}

// build makes the document.
func (r *CooperativeReconciler) build(_ context.Context, s *scope) error {
	s.doc = BuildDocument(s.coop, s.reports, s.written)
	return s.doc.Validate()
}

// apply writes the ConfigMap when the document changed, settling its running estimates
// against the document the ConfigMap holds. The document changes soon after it is first
// written (the co-op's readiness follows its tenancy's), so it is created by an apply
// (ssa.ApplyChanging): its changes are then one request each.
func (r *CooperativeReconciler) apply(ctx context.Context, s *scope) error {
	s.wait = Settle(s.written, s.doc, r.now(), RefreshOf(s.coop.Name))
	cm, err := BuildConfigMap(s.coop, s.doc)
	if err != nil {
		return err
	}
	var current client.Object // nil, not a nil *ConfigMap, when there is none
	if s.live != nil {
		current = s.live
	}
	res, err := ssa.ApplyChanging(ctx, r.Client, cm, current)
	if err != nil {
		return err
	}
	if res != ssa.Unchanged {
		log.FromContext(ctx).V(1).Info("Applied the hub status", "namespace", cm.Namespace, "months", len(s.doc.Hosting))
	}
	return nil
}

func (r *CooperativeReconciler) now() time.Time {
	if r.Clock == nil {
		return time.Now()
	}
	return r.Clock.Now()
}

// written is the document live holds when it is the one the operator last applied there
// (its hash annotation is that document's); nil otherwise: an estimate edited by hand is
// not kept.
func (r *CooperativeReconciler) written(coop *coopv1.Cooperative, live *corev1.ConfigMap) *hubstatus.Document {
	if live == nil {
		return nil
	}
	old, err := hubstatus.Parse([]byte(live.Data[hubstatus.Key]))
	if err != nil {
		return nil
	}
	rebuilt, err := BuildConfigMap(coop, old)
	if err != nil {
		return nil
	}
	if ok, err := ssa.AppliedFrom(r.Client.Scheme(), rebuilt, live); err != nil || !ok {
		return nil
	}
	return old
}

// RefreshOf is how long a running estimate of the co-op stands before a moved one replaces
// it: hubstatus.EstimateRefresh and up to a sixth of it more, by the co-op's name, so that
// co-ops whose estimates were dated together (a hub's first convergence) are not all
// rewritten in the same minute of every hour.
func RefreshOf(coop string) time.Duration {
	h := fnv.New32a()
	_, _ = h.Write([]byte(coop))
	spread := uint32(hubstatus.EstimateRefresh / 6 / time.Second)
	return hubstatus.EstimateRefresh + time.Duration(h.Sum32()%spread)*time.Second
}

// Settle dates the running estimates of d, built at now, against old, the document the
// operator last wrote (nil when there is none): an estimate whose figures did not move
// keeps its date; one that moved replaces old's when old's is refresh old (or dated
// ahead of now), and otherwise old's month stands in d, unless d differs
// from old anyway (the readiness, a new month, a month turned final): a write that happens
// takes every moved estimate. A final month has no date. Settle returns how long until
// the first estimate held back may be replaced (0 when none is).
func Settle(old, d *hubstatus.Document, now time.Time, refresh time.Duration) time.Duration {
	now = now.UTC().Truncate(time.Second)
	var wait time.Duration
	moved := map[int]hubstatus.Month{} // the months held back, as d had them
	for i := range d.Hosting {
		m := &d.Hosting[i]
		m.EstimatedAt = nil
		if m.Final {
			continue
		}
		prev := estimateOf(old, m.Period)
		switch {
		case prev == nil:
			m.EstimatedAt = &now
		case sameFigures(*prev, *m):
			m.EstimatedAt = prev.EstimatedAt
		default:
			age := now.Sub(*prev.EstimatedAt)
			if age >= refresh || age < 0 {
				m.EstimatedAt = &now
				continue
			}
			moved[i] = *m
			*m = *prev
			if left := refresh - age; wait == 0 || left < wait {
				wait = left
			}
		}
	}
	if len(moved) > 0 && !sameDocument(old, d) {
		for i, m := range moved {
			m.EstimatedAt = &now
			d.Hosting[i] = m
		}
		wait = 0
	}
	return wait
}

// sameDocument reports whether two documents say the same (an estimate's date included).
func sameDocument(a, b *hubstatus.Document) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// estimateOf is old's dated running estimate of period; nil when it has none.
func estimateOf(old *hubstatus.Document, period string) *hubstatus.Month {
	if old == nil {
		return nil
	}
	for i := range old.Hosting {
		if m := &old.Hosting[i]; m.Period == period && !m.Final && m.EstimatedAt != nil {
			return m
		}
	}
	return nil
}

// sameFigures reports whether two months say the same but for their dates.
func sameFigures(a, b hubstatus.Month) bool {
	a.EstimatedAt, b.EstimatedAt = nil, nil
	return a == b
}

// BuildDocument is the co-op's document: its readiness from its conditions, its last
// backup, and its line of every CostReport, newest first, at most hubstatus.MaxMonths.
// A report whose lines are for an older spec (the hub edited the bill, and the CostReport
// controller has not split it again yet) gives the month as written has it, written
// being the document the operator last wrote (nil when there is none), and no month when
// written has none: an edit of the bill neither takes the month out of the document for
// a moment nor shows the lines of the bill before it as the split of the new one.
func BuildDocument(coop *coopv1.Cooperative, reports []coopv1.CostReport, written *hubstatus.Document) *hubstatus.Document {
	d := &hubstatus.Document{Cooperative: coop.Name, Hosting: []hubstatus.Month{}}
	check := func(condition string) hubstatus.Check {
		c := meta.FindStatusCondition(coop.Status.Conditions, condition)
		if c == nil {
			return hubstatus.Check{Status: string(metav1.ConditionUnknown)}
		}
		since := c.LastTransitionTime.UTC()
		return hubstatus.Check{Status: string(c.Status), Reason: c.Reason, Since: &since}
	}
	d.Reliability = hubstatus.Reliability{
		Ready:    check(coopv1.ConditionReady),
		Database: check(coopv1.ConditionDatabaseReady),
		Platform: check(coopv1.ConditionPlatformReady),
		Backup:   check(coopv1.ConditionBackupReady),
	}
	if b := coop.Status.LastBackup; b != nil && b.Time != nil {
		t := b.Time.UTC()
		d.Reliability.LastBackup = &t
	}
	for i := range reports {
		rep := &reports[i]
		if rep.Status.ObservedGeneration != rep.Generation {
			if m := writtenMonth(written, rep.Name); m != nil {
				d.Hosting = append(d.Hosting, *m)
			}
			continue
		}
		j := slices.IndexFunc(rep.Status.Lines, func(l coopv1.CostLine) bool { return l.Cooperative == coop.Name })
		if j < 0 {
			continue
		}
		l := rep.Status.Lines[j]
		d.Hosting = append(d.Hosting, hubstatus.Month{
			Period: rep.Name, Final: rep.Status.Phase == coopv1.CostReportFinal, Currency: rep.Spec.Currency,
			HubTotal: rep.Status.Total, Cooperatives: len(rep.Status.Lines),
			Amount: l.Amount, SharePercent: l.SharePercent,
			ComputeAmount: l.ComputeAmount, StorageAmount: l.StorageAmount, SharedAmount: l.SharedAmount,
			DiscountAdjustment: l.DiscountAdjustment, FloorAdjustment: l.FloorAdjustment, RoundingAdjustment: l.RoundingAdjustment,
		})
	}
	slices.SortFunc(d.Hosting, func(a, b hubstatus.Month) int { return strings.Compare(b.Period, a.Period) })
	if len(d.Hosting) > hubstatus.MaxMonths {
		d.Hosting = d.Hosting[:hubstatus.MaxMonths]
	}
	return d
}

// writtenMonth is written's month period; nil when it has none.
func writtenMonth(written *hubstatus.Document, period string) *hubstatus.Month {
	if written == nil {
		return nil
	}
	for i := range written.Hosting {
		if written.Hosting[i].Period == period {
			return &written.Hosting[i]
		}
	}
	return nil
}

// BuildConfigMap is the ConfigMap coop-hub-status of the co-op's namespace holding doc.
// It carries the operator's labels (the manager caches only those) and no owner: it is
// not the Cooperative reconciler's child, and the namespace's deletion removes it.
func BuildConfigMap(coop *coopv1.Cooperative, doc *hubstatus.Document) (*corev1.ConfigMap, error) {
	b, err := doc.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encoding the hub status of %s: %w", coop.Name, err)
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name: hubstatus.ConfigMapName, Namespace: coop.NamespaceName(),
			Labels: map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue, coopv1.LabelCooperative: coop.Name},
		},
		Data: map[string]string{hubstatus.Key: string(b)},
	}, nil
}

// SetupWithManager watches Cooperatives (their status included: readiness and backups
// change there), the CostReports (a report's lines wake the co-ops it names) and the
// ConfigMaps this reconciler writes (one changed or deleted by hand is put back).
func (r *CooperativeReconciler) SetupWithManager(mgr ctrl.Manager) error {
	byLines := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		rep, ok := obj.(*coopv1.CostReport)
		if !ok {
			return nil
		}
		reqs := make([]reconcile.Request, 0, len(rep.Status.Lines))
		for _, l := range rep.Status.Lines {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: l.Cooperative}})
		}
		return reqs
	})
	byConfigMap := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		if obj.GetName() != hubstatus.ConfigMapName || obj.GetLabels()[coopv1.LabelCooperative] == "" {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: obj.GetLabels()[coopv1.LabelCooperative]}}}
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&coopv1.Cooperative{}).
		Named("hubstatus").
		Watches(&coopv1.CostReport{}, byLines).
		Watches(&corev1.ConfigMap{}, byConfigMap).
		Complete(r)
}
