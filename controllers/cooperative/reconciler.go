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

// Package cooperative reconciles a Cooperative into an isolated tenant: its namespace and
// tenancy objects, its database and backups, and its platform workloads. Reconcile reads
// like a table of contents; each phase lives in its own file and desired objects come from
// pure Build functions, applied with server-side apply under one field owner.
package cooperative

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/cooperator-dev/cooperator/api/topology"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/finalizer"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/controllers/shared/ssa"
)

// Reconciler turns a Cooperative into its tenant.
type Reconciler struct {
	Client client.Client
	// APIReader reads past the cache where a stale cache would lose data: a credential the
	// operator generated once. Nil reads through Client.
	APIReader client.Reader
	Config    hubconfig.Config
	Recorder  recorder.EventRecorder
	// Federation places co-ops in their cross-region topology; nil without federation.
	Federation topology.Federation
	// Clock tells the time backups are judged by; nil is the real clock.
	Clock clock.PassiveClock
	// HTTP talks to the object store, where a deletion empties the co-op's prefixes; nil is
	// a client with a minute's timeout.
	HTTP *http.Client

	// claims orders the co-ops' claims of hosts as the watch delivers them.
	claims *claimOrder
}

func (r *Reconciler) now() time.Time {
	if r.Clock == nil {
		return time.Now()
	}
	return r.Clock.Now()
}

// requeueAt asks to be woken after d, jittered by up to ten percent so that co-ops do not
// wake together, so that a status that changes with time alone (backups becoming overdue)
// flips when it does; zero asks nothing.
func requeueAt(d time.Duration) ctrl.Result {
	if d <= 0 {
		return ctrl.Result{}
	}
	return ctrl.Result{RequeueAfter: wait.Jitter(d, 0.1)}
}

// The operator's ClusterRole holds cluster-scoped rights and cluster-wide reads for its
// cache, and no Secret and no namespaced write but RoleBindings: it writes in a namespace
// only through the ClusterRole cooperator-tenant, which it binds there itself
// (config/rbac/tenant_role.yaml), or through its Role in its own namespace
// (config/rbac/operator_namespace_role.yaml); the admission policy cooperator-operator-scope
// holds those writes to namespaces it owns.
// +kubebuilder:rbac:groups=coop.cooperator.dev,resources=cooperatives,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=coop.cooperator.dev,resources=cooperatives/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=coop.cooperator.dev,resources=cooperatives/finalizers,verbs=update
// +kubebuilder:rbac:groups=coop.cooperator.dev,resources=hostingplans;platformtemplates;costreports,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=resourcequotas;limitranges;configmaps;services,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies;ingresses,verbs=get;list;watch
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles,verbs=get;list;watch
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=rolebindings;clusterroles;clusterrolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=bind,resourceNames=cooperator-coop-admin;cooperator-tenant
// +kubebuilder:rbac:groups=postgresql.cnpg.io,resources=clusters;scheduledbackups;databases;databaseroles;backups,verbs=get;list;watch
// +kubebuilder:rbac:groups=barmancloud.cnpg.io,resources=objectstores,verbs=get;list;watch
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create
// +kubebuilder:rbac:groups=batch,resources=cronjobs;jobs,verbs=get;list;watch

// scope is what one reconcile knows of a Cooperative.
type scope struct {
	coop     *coopv1.Cooperative
	original *coopv1.Cooperative
	plan     *coopv1.HostingPlan
	// planName is the plan the co-op is held to: spec.plan, or for a standby the plan its
	// peer is accepted with.
	planName string
	template *coopv1.PlatformTemplate
	topology topology.Topology
	// stalled is set when an apply was refused for a reason only a spec change can fix.
	stalled bool
	// gone is set once the finalizer is removed: there is no status left to write.
	gone bool
	// secrets are the Secrets this reconcile read from the API server (generatedSecret),
	// nil for one that did not exist: the apply of the same Secret is judged on that read
	// rather than on a second request. The cache holds no Secret of a co-op namespace.
	secrets map[client.ObjectKey]*corev1.Secret
}

// keepSecret records the Secret of key read from the API server, or that there was none.
func (s *scope) keepSecret(key client.ObjectKey, secret *corev1.Secret, found bool) {
	if s.secrets == nil {
		s.secrets = map[client.ObjectKey]*corev1.Secret{}
	}
	if !found {
		s.secrets[key] = nil
		return
	}
	// As the cache gives it: the server-side apply helper compares the whole object.
	secret.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	s.secrets[key] = secret
}

// secretRead returns the Secret of obj's key this reconcile read (nil when there was none),
// and whether obj is a Secret it read.
func (s *scope) secretRead(obj client.Object) (client.Object, bool) {
	if _, ok := obj.(*corev1.Secret); !ok {
		return nil, false
	}
	live, ok := s.secrets[client.ObjectKeyFromObject(obj)]
	if !ok || live == nil {
		return nil, ok
	}
	return live, true
}

// phase is one step of a reconcile.
type phase func(ctx context.Context, s *scope) (ctrl.Result, error)

// Reconcile brings one Cooperative's tenant to its spec.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	coop := &coopv1.Cooperative{}
	if err := r.Client.Get(ctx, req.NamespacedName, coop); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	s := &scope{coop: coop, original: coop.DeepCopy()}
	defer func() {
		if err := r.patchStatus(ctx, s); err != nil {
			retErr = errors.Join(retErr, err)
		}
	}()

	if err := r.recordBreakGlass(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	if !coop.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, s)
	}
	if coop.Spec.Suspend {
		r.suspend(s)
		return ctrl.Result{}, nil
	}
	topo, err := r.topology(ctx, coop)
	if err != nil {
		return ctrl.Result{}, err
	}
	if topo.Refused {
		refuse(s, topo.Message)
		return ctrl.Result{}, nil
	}
	if coop.Spec.Standby != nil && coop.Spec.Database.Tier == coopv1.DatabaseTierShared {
		// The CRD refuses it; one written before that rule takes nothing in the shared
		// Cluster, where a retained database of this name may be.
		refuse(s, StandbySharedTierMessage)
		return ctrl.Result{}, nil
	}
	s.topology = topo
	if err := finalizer.Add(ctx, r.Client, coop, coopv1.Finalizer); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.loadReferences(ctx, s); err != nil {
		return ctrl.Result{}, err
	}

	handleReconcileRequest(s)
	var errs []error
	for _, p := range []phase{r.reconcileTenancy, r.reconcileDatabase, r.reconcilePlatform} {
		res, err := p(ctx, s)
		if err != nil {
			errs = append(errs, err)
		}
		result = lowestRequeue(result, res)
	}
	if err := errors.Join(errs...); err != nil {
		if !s.stalled {
			return ctrl.Result{}, err
		}
		// The API server or an admission webhook (CloudNativePG's, say) refused an object:
		// applying it again cannot succeed. The co-op says so, Stalled, until a change of
		// its spec or of the hub's settings.
		summarize(s)
		return ctrl.Result{}, reconcile.TerminalError(err)
	}
	summarize(s)
	if !s.conditionTrue(coopv1.ConditionReady) && !s.stalledNow() {
		// Events from the objects we watch wake us; this is the safety net for what we wait
		// on without a watch.
		result = lowestRequeue(result, ctrl.Result{RequeueAfter: wait.Jitter(r.Config.RecheckInterval.Duration, 0.1)})
	}
	return result, nil
}

// loadReferences reads the plan and the template the Cooperative names; missing ones are
// left nil for the phases to report.
func (r *Reconciler) loadReferences(ctx context.Context, s *scope) error {
	planName := s.coop.Spec.Plan
	if s.topology.Plan != "" {
		planName = s.topology.Plan
	}
	s.planName = planName
	plan := &coopv1.HostingPlan{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: planName}, plan); err == nil {
		s.plan = plan
	} else if !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading HostingPlan %s: %w", planName, err)
	}
	tmpl := &coopv1.PlatformTemplate{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: s.coop.TemplateName()}, tmpl); err == nil {
		s.template = tmpl
	} else if !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading PlatformTemplate %s: %w", s.coop.TemplateName(), err)
	}
	return nil
}

// applyAll applies each desired object in turn; it writes only what differs from the live
// object, read from the cache, or for a Secret the reconcile read already, that read.
func (r *Reconciler) applyAll(ctx context.Context, s *scope, objs ...client.Object) error {
	for _, obj := range objs {
		res, err := r.applyOne(ctx, s, obj)
		if err := r.applied(ctx, s, obj, res, err); err != nil {
			return err
		}
	}
	return nil
}

// applyParallelism is how many objects applyIndependent applies at once.
const applyParallelism = 8

// applyIndependent applies objects that do not depend on one another, up to
// applyParallelism at once: a new co-op's first reconcile writes some thirty objects, and
// one after the other they took most of its time to Ready on a busy hub. Every object is
// tried; the error returned is that of the first object in order that failed.
func (r *Reconciler) applyIndependent(ctx context.Context, s *scope, objs ...client.Object) error {
	results := make([]ssa.Result, len(objs))
	errs := make([]error, len(objs))
	sem := make(chan struct{}, applyParallelism)
	var wg sync.WaitGroup
	for i, obj := range objs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i], errs[i] = r.applyOne(ctx, s, obj)
		})
	}
	wg.Wait()
	var first error
	for i, obj := range objs {
		if err := r.applied(ctx, s, obj, results[i], errs[i]); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// applyOne applies one object. It only reads s, so that applyIndependent may call it from
// several goroutines.
func (r *Reconciler) applyOne(ctx context.Context, s *scope, obj client.Object) (ssa.Result, error) {
	if live, read := s.secretRead(obj); read {
		return ssa.Apply(ctx, r.Client, obj, live)
	}
	return ssa.ApplyFetch(ctx, r.Client, obj, reflect.New(reflect.TypeOf(obj).Elem()).Interface().(client.Object))
}

// applyOver applies desired over live, the object as the caller read it (nil when it did
// not exist), for a desired object made from that read: the apply is judged on the same
// read, not on a later one the cache may answer differently.
func (r *Reconciler) applyOver(ctx context.Context, s *scope, desired, live client.Object) error {
	res, err := ssa.Apply(ctx, r.Client, desired, live)
	return r.applied(ctx, s, desired, res, err)
}

// applied takes the outcome of an apply: an error it returns, and marks final; a write it
// logs.
func (r *Reconciler) applied(ctx context.Context, s *scope, obj client.Object, res ssa.Result, err error) error {
	if err != nil {
		// Invalid: the API server or an admission webhook (CloudNativePG's) judged the
		// object itself. Forbidden is not final: a namespace being terminated refuses
		// new objects until it is gone, and then the same apply succeeds.
		if apierrors.IsInvalid(err) {
			s.stalled = true
		}
		return err
	}
	if res != ssa.Unchanged {
		log.FromContext(ctx).V(1).Info("Applied object", "kind", reflect.TypeOf(obj).Elem().Name(), "namespace", obj.GetNamespace(), "name", obj.GetName(), "created", res == ssa.Created)
	}
	return nil
}

// lowestRequeue merges two results, keeping the soonest non-zero requeue.
func lowestRequeue(a, b ctrl.Result) ctrl.Result {
	switch {
	case a.RequeueAfter == 0:
		return b
	case b.RequeueAfter == 0 || a.RequeueAfter < b.RequeueAfter:
		return a
	}
	return b
}

func resourceInt(v int64) *resource.Quantity { return resource.NewQuantity(v, resource.DecimalSI) }

// SetupWithManager registers the reconciler: it owns what it creates, and watches the plans,
// templates and backups that change what it must do.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.Recorder = InCooperativeNamespace(r.Recorder)
	if err := coopState.ReadWhenLeader(mgr, mgr.GetCache()); err != nil {
		return err
	}
	byPlan := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		return r.cooperativesWhere(ctx, func(c *coopv1.Cooperative) bool { return c.Spec.Plan == obj.GetName() })
	})
	byTemplate := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		return r.cooperativesWhere(ctx, func(c *coopv1.Cooperative) bool { return c.TemplateName() == obj.GetName() })
	})
	// A Backup carries the labels of its Cluster; a Cluster of ours carries the co-op label
	// in its inherited metadata, which CloudNativePG copies to the Backups it makes.
	// A Backup of the hub's shared Cluster changes every shared-tier co-op's BackupReady.
	byNamespace := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		if name, ok := cutNamespacePrefix(obj.GetNamespace()); ok {
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: name}}}
		}
		if obj.GetNamespace() == r.Config.OperatorNamespace && obj.GetLabels()[coopv1.ClusterLabel] == r.Config.SharedCluster.Name {
			return r.cooperativesWhere(ctx, func(c *coopv1.Cooperative) bool { return c.Spec.Database.Tier == coopv1.DatabaseTierShared })
		}
		return nil
	})
	// The shared Cluster changes every shared-tier co-op's readiness.
	sharedTier := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		if obj.GetNamespace() != r.Config.OperatorNamespace {
			return nil
		}
		return r.cooperativesWhere(ctx, func(c *coopv1.Cooperative) bool { return c.Spec.Database.Tier == coopv1.DatabaseTierShared })
	})
	// Object store credentials the hub creates in the operator namespace carry no label of
	// ours: a co-op's own (<prefix><co-op>) wakes that co-op, the hub's every co-op.
	// The hub-wide credentials back the shared Cluster: every co-op may depend on them. A
	// co-op's own credentials, or a Secret it owns, wake that co-op (bySecret).
	byCredentials := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		if obj.GetNamespace() == r.Config.OperatorNamespace && obj.GetName() == r.Config.ObjectStore.CredentialsSecret {
			return r.cooperativesWhere(ctx, func(*coopv1.Cooperative) bool { return true })
		}
		return r.bySecret(ctx, obj)
	})
	// A logical backup Job carries its co-op's label.
	byLabel := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		if name := obj.GetLabels()[coopv1.LabelCooperative]; name != "" {
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: name}}}
		}
		return nil
	})
	// A retained-backups marker decides how a co-op of that name starts its database.
	byRetained := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		name := obj.GetLabels()[coopv1.LabelRetainedFrom]
		if name == "" || obj.GetNamespace() != r.Config.OperatorNamespace {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: name}}}
	})
	if err := IndexHosts(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return err
	}
	byHost, hostChanged, byIngressHost := r.byHost()
	r.claims = newClaimOrder()
	// The claim order's predicate comes first, and no event filter (WithEventFilter) runs
	// before it: it must see every event of every Cooperative, in order, or the reconciles
	// that decide a host wait for it (errClaimsBehind).
	return ctrl.NewControllerManagedBy(mgr).
		For(&coopv1.Cooperative{}, builder.WithPredicates(r.claims.predicate(),
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, deletionPredicate(), federationStatusChanged()))).
		Named("cooperative").
		Owns(&corev1.Namespace{}).
		Owns(&corev1.ResourceQuota{}).
		Owns(&corev1.LimitRange{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&corev1.Service{}).
		Owns(&networkingv1.NetworkPolicy{}).
		Owns(&networkingv1.Ingress{}).
		Owns(&rbacv1.Role{}).
		Owns(&rbacv1.RoleBinding{}).
		Owns(&rbacv1.ClusterRole{}).
		Owns(&rbacv1.ClusterRoleBinding{}).
		Owns(&appsv1.Deployment{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Owns(&cnpgv1.Cluster{}).
		Owns(&cnpgv1.ScheduledBackup{}).
		Owns(&barmanv1.ObjectStore{}).
		Owns(&cnpgv1.Database{}).
		Owns(&cnpgv1.DatabaseRole{}).
		Owns(&batchv1.CronJob{}).
		Watches(&batchv1.Job{}, byLabel).
		Watches(&corev1.Secret{}, byCredentials).
		Watches(&corev1.ConfigMap{}, byRetained).
		Watches(&cnpgv1.Backup{}, byNamespace).
		Watches(&coopv1.Cooperative{}, byHost, builder.WithPredicates(hostChanged)).
		Watches(&networkingv1.Ingress{}, byIngressHost).
		Watches(&coopv1.HostingPlan{}, byPlan).
		Watches(&coopv1.PlatformTemplate{}, byTemplate).
		Watches(&coopv1.FederationPeer{}, r.byFederationPeer(), builder.WithPredicates(topology.PeerTopologyChanged())).
		Watches(&cnpgv1.Cluster{}, sharedTier, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			return o.GetName() == r.Config.SharedCluster.Name
		}))).
		Complete(r)
}

// deletionPredicate lets deletions through, which change no generation.
func deletionPredicate() predicate.Funcs {
	return predicate.NewPredicateFuncs(func(o client.Object) bool { return !o.GetDeletionTimestamp().IsZero() })
}

// cutNamespacePrefix is the co-op of a co-op namespace.
func cutNamespacePrefix(ns string) (string, bool) {
	name, ok := strings.CutPrefix(ns, coopv1.NamespacePrefix)
	return name, ok && name != ""
}

func (r *Reconciler) cooperativesWhere(ctx context.Context, match func(*coopv1.Cooperative) bool) []reconcile.Request {
	var coops coopv1.CooperativeList
	if err := r.Client.List(ctx, &coops); err != nil {
		log.FromContext(ctx).Error(err, "Failed to list co-ops")
		return nil
	}
	var out []reconcile.Request
	for i := range coops.Items {
		if match(&coops.Items[i]) {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: coops.Items[i].Name}})
		}
	}
	return out
}
