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

// Package scale_test measures the operator on a hub of N co-ops: the operator runs as its
// own process from the built binary against an embedded API server, and the suite plays
// CloudNativePG and the Deployment controller as the demo does. It prints its figures and
// asserts no time. It is skipped unless -n is given:
//
//	make bench SCALE_N=100,500,1000
//	go test ./test/scale -run TestScale -v -timeout 2h -args -n=100
package scale_test

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/controllers/metering"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/test/harness"
)

var (
	sizes        = flag.String("n", "", "comma-separated numbers of co-ops to measure (the suite is skipped without)")
	unrelated    = flag.Int("unrelated", 10000, "unrelated ConfigMaps and Secrets (half each) created in other namespaces before the second RSS reading")
	idle         = flag.Duration("idle", time.Minute, "how long a converged hub is watched for API writes")
	operatorArgs = flag.String("operator-args", "", "extra flags of `cooperator manager`, space-separated")
)

// operatorUser is the operator's identity on the API server.
const operatorUser = "cooperator-operator"

// workers is the number of requests the suite (and the unthrottled baseline) sends at once.
const workers = 8

func TestScale(t *testing.T) {
	if *sizes == "" {
		t.Skip("the scale suite runs with -n (make bench SCALE_N=100,500,1000)")
	}
	var ns []int
	for s := range strings.SplitSeq(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			t.Fatalf("-n: %q is not a positive number", s)
		}
		ns = append(ns, n)
	}
	ctrllog.SetLogger(logr.Discard()) // envtest logs through controller-runtime
	ctx := t.Context()
	bin, err := harness.BuildOperator(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		t.Run(fmt.Sprintf("N=%d", n), func(t *testing.T) { measure(t, bin, n) })
	}
}

// figures are what measure prints.
type figures struct {
	n                   int
	children            int
	converged, direct   time.Duration
	newReady            time.Duration
	writes              map[string]int
	convergeWrites      int
	rss, rssUnrelated   int64
	idleWindow          time.Duration
	unrelatedNamespaces int
}

func measure(t *testing.T, bin string, n int) {
	ctx := t.Context()
	env := harness.StartT(t, harness.Options{
		ProjectCRDs:           true,
		Scheme:                manager.Scheme(),
		ServiceClusterIPRange: "10.0.0.0/16",
		AuditLog:              true,
	})
	c := unthrottled(t, env)
	hub := hubconfig.Default()
	hub.Region = "eu-west"
	setUpHub(t, c, hub)
	f := figures{n: n}

	// The operator, and the co-ops applied at once.
	op := startOperator(t, env, bin)
	stopPlay := play(t, c)
	start := time.Now()
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("scale-%04d", i)
	}
	must(t, harness.InParallel(workers, n, func(i int) error { return createCooperative(ctx, c, hub, names[i]) }))
	waitConverged(t, c, names, op)
	f.converged = time.Since(start)
	convergeWrites, err := env.AuditedWrites(operatorUser, start, time.Now())
	must(t, err)
	for _, v := range convergeWrites {
		f.convergeWrites += v
	}
	t.Logf("N=%d: every co-op converged after %s", n, f.converged.Round(time.Millisecond))

	// A converged hub: what it writes, and its memory.
	idleStart := time.Now()
	sleep(ctx, *idle)
	f.idleWindow = time.Since(idleStart)
	f.rss = rss(t, op)
	sleep(ctx, 3*time.Second) // the API server writes its audit log in batches
	f.writes, err = env.AuditedWrites(operatorUser, idleStart, idleStart.Add(f.idleWindow))
	must(t, err)

	f.unrelatedNamespaces = 100
	createUnrelated(t, c, f.unrelatedNamespaces, *unrelated)
	sleep(ctx, 15*time.Second) // the operator's informers would have listed and stored them
	f.rssUnrelated = rss(t, op)

	// The same child objects, created directly.
	must(t, op.Stop())
	stopPlay()
	objs := childObjects(t, c)
	f.children = len(objs)
	f.direct = createDirectly(t, c, objs)

	// A restart with N co-ops, and one more co-op applied while the operator works through
	// them.
	stopPlay = play(t, c)
	defer stopPlay()
	op = startOperator(t, env, bin)
	must(t, op.WaitForLog(ctx, "Starting workers", `"controller":"cooperative"`))
	start = time.Now()
	extra := fmt.Sprintf("scale-%04d", n)
	must(t, createCooperative(ctx, c, hub, extra))
	waitConverged(t, c, []string{extra}, op)
	f.newReady = time.Since(start)
	report(t, f)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// unthrottled is a client of the admin with no client-side rate limit.
func unthrottled(t *testing.T, env *harness.Env) client.Client {
	cfg := rest.CopyConfig(env.Cfg)
	cfg.QPS, cfg.Burst = -1, 0
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	must(t, err)
	return c
}

func startOperator(t *testing.T, env *harness.Env, bin string) *harness.Process {
	args := []string{
		"--webhooks=false", "--metrics-bind-address=0", "--health-probe-bind-address=0",
		"--region=eu-west", "--operator-namespace=" + hubconfig.Default().OperatorNamespace,
	}
	args = append(args, strings.Fields(*operatorArgs)...)
	op, err := env.StartOperator(bin, operatorUser, args...)
	must(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			log := op.Log()
			t.Logf("operator log (last 4 KiB):\n%s", log[max(0, len(log)-4096):])
		}
	})
	return op
}

// setUpHub does what a hub admin does once (harness.SeedHub), with the co-op admin role
// and the tenant role.
func setUpHub(t *testing.T, c client.Client, hub hubconfig.Config) {
	must(t, harness.SeedHub(t.Context(), c, &hub, "scale-hub-key", "scale-hub-secret",
		"config/rbac/coop_admin_role.yaml", "config/rbac/tenant_role.yaml"))
}

// createCooperative applies a co-op like the FairRide sample, on its own dedicated
// Cluster, with the object store credentials the hub makes for it, without governed fields.
func createCooperative(ctx context.Context, c client.Client, hub hubconfig.Config, name string) error {
	coop, err := harness.Sample("coop_v1alpha1_cooperative_fairride.yaml")
	if err != nil {
		return err
	}
	coop.Name = name
	coop.Spec.DisplayName = name
	coop.Spec.Platform.Host = name + ".scale.example.coop"
	coop.Spec.Admins = []coopv1.Subject{{Kind: rbacv1.GroupKind, Name: name + "-admins"}}
	// No governed field: the governance controller would poll each co-op's database every
	// ten seconds, and none runs here.
	coop.Spec.Governance.GovernedFields = nil
	creds := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: hub.OperatorNamespace, Name: hub.ObjectStore.CooperativeCredentialsSecret(name)},
		StringData: map[string]string{coopv1.AccessKeyIDKey: name + "-key", coopv1.AccessSecretKeyKey: name + "-secret"},
	}
	if err := c.Create(ctx, creds); err != nil {
		return fmt.Errorf("creating the object store credentials of %s: %w", name, err)
	}
	if err := c.Create(ctx, coop); err != nil {
		return fmt.Errorf("creating co-op %s: %w", name, err)
	}
	return nil
}

// play plays CloudNativePG and the Deployment controller until the returned function is
// called.
func play(t *testing.T, c client.Client) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			played, err := harness.PlayDedicatedHub(ctx, c, workers)
			if err != nil && ctx.Err() == nil {
				t.Logf("playing the hub: %v", err)
			}
			if played == 0 {
				sleep(ctx, 200*time.Millisecond)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// waitConverged waits until every named co-op is Ready, as the operator reports it, for
// its current generation.
func waitConverged(t *testing.T, c client.Client, names []string, op *harness.Process) {
	ctx := t.Context()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	deadline := time.Now().Add(time.Duration(len(names))*time.Second + 5*time.Minute)
	for {
		var list coopv1.CooperativeList
		must(t, c.List(ctx, &list))
		ready := 0
		for _, coop := range list.Items {
			if want[coop.Name] && coop.Status.ObservedGeneration == coop.Generation &&
				meta.IsStatusConditionTrue(coop.Status.Conditions, coopv1.ConditionReady) {
				ready++
			}
		}
		if ready == len(names) {
			return
		}
		if op.Exited() || time.Now().After(deadline) {
			t.Fatalf("%d of %d co-ops Ready (operator exited: %v)", ready, len(names), op.Exited())
		}
		sleep(ctx, 100*time.Millisecond)
	}
}

func rss(t *testing.T, op *harness.Process) int64 {
	b, err := op.RSS()
	must(t, err)
	return b
}

// createUnrelated creates count ConfigMaps and Secrets, half each, in namespaces of no
// co-op, which the operator has no business caching.
func createUnrelated(t *testing.T, c client.Client, namespaces, count int) {
	ctx := t.Context()
	for i := range namespaces {
		must(t, c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("unrelated-%03d", i)}}))
	}
	payload := strings.Repeat("x", 1024)
	must(t, harness.InParallel(workers, count, func(i int) error {
		meta := metav1.ObjectMeta{Namespace: fmt.Sprintf("unrelated-%03d", i%namespaces), Name: fmt.Sprintf("object-%05d", i)}
		if i%2 == 0 {
			return c.Create(ctx, &corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{"payload": payload}})
		}
		return c.Create(ctx, &corev1.Secret{ObjectMeta: meta, StringData: map[string]string{"payload": payload}})
	}))
}

// childKinds are the kinds the operator creates for a co-op.
var childKinds = []client.ObjectList{
	&corev1.NamespaceList{}, &corev1.ResourceQuotaList{}, &corev1.LimitRangeList{}, &corev1.ConfigMapList{},
	&corev1.ServiceList{}, &corev1.SecretList{}, &corev1.ServiceAccountList{}, &networkingv1.NetworkPolicyList{}, &networkingv1.IngressList{},
	&rbacv1.RoleList{}, &rbacv1.RoleBindingList{}, &rbacv1.ClusterRoleList{}, &rbacv1.ClusterRoleBindingList{},
	&appsv1.DeploymentList{}, &policyv1.PodDisruptionBudgetList{}, &cnpgv1.ClusterList{}, &cnpgv1.ScheduledBackupList{},
	&barmanv1.ObjectStoreList{}, &cnpgv1.DatabaseList{}, &cnpgv1.DatabaseRoleList{}, &batchv1.CronJobList{},
}

// childObjects are the objects the operator made for the co-ops: everything in a co-op
// namespace (the Backups excepted, which CloudNativePG makes), and the cluster-scoped
// objects it labelled, ready to be created again under other names.
func childObjects(t *testing.T, c client.Client) []*unstructured.Unstructured {
	ctx := t.Context()
	var out []*unstructured.Unstructured
	for _, list := range childKinds {
		gvk, err := apiutil.GVKForObject(list, c.Scheme())
		must(t, err)
		u := &unstructured.UnstructuredList{}
		u.SetGroupVersionKind(gvk)
		must(t, c.List(ctx, u))
		for i := range u.Items {
			obj := &u.Items[i]
			inCoop := strings.HasPrefix(obj.GetNamespace(), coopv1.NamespacePrefix)
			clusterScoped := obj.GetNamespace() == "" && obj.GetLabels()[coopv1.LabelManagedBy] == coopv1.ManagedByValue
			if !inCoop && !clusterScoped {
				continue
			}
			if obj.GetKind() == "ServiceAccount" && obj.GetName() == "default" || obj.GetKind() == "ConfigMap" && obj.GetName() == "kube-root-ca.crt" {
				continue // the API server's own
			}
			out = append(out, renamed(obj))
		}
	}
	return out
}

// renamed is a copy of obj to create anew: in namespace direct-<co-op> (cluster-scoped:
// named direct-<name>), without server-set fields, owners or status, and labelled so that
// the operator does not take it for its own.
func renamed(obj *unstructured.Unstructured) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	maps.Copy(u.Object, obj.Object)
	delete(u.Object, "status")
	u.SetResourceVersion("")
	u.SetUID("")
	u.SetCreationTimestamp(metav1.Time{})
	u.SetManagedFields(nil)
	u.SetGeneration(0)
	u.SetOwnerReferences(nil)
	u.SetFinalizers(nil)
	labels := u.GetLabels()
	if labels != nil {
		labels = maps.Clone(labels)
		labels[coopv1.LabelManagedBy] = "scale-direct"
		u.SetLabels(labels)
	}
	if ns := obj.GetNamespace(); ns != "" {
		u.SetNamespace("direct-" + strings.TrimPrefix(ns, coopv1.NamespacePrefix))
	} else if obj.GetKind() == "Namespace" {
		u.SetName("direct-" + strings.TrimPrefix(obj.GetName(), coopv1.NamespacePrefix))
	} else {
		u.SetName("direct-" + obj.GetName())
	}
	if obj.GetKind() == "Service" {
		spec, _ := u.Object["spec"].(map[string]any)
		spec = maps.Clone(spec)
		delete(spec, "clusterIP")
		delete(spec, "clusterIPs")
		u.Object["spec"] = spec
	}
	return u
}

// createDirectly creates objs with workers requests at once, namespaces first, and says
// how long that took.
func createDirectly(t *testing.T, c client.Client, objs []*unstructured.Unstructured) time.Duration {
	ctx := t.Context()
	namespaces := slices.DeleteFunc(slices.Clone(objs), func(u *unstructured.Unstructured) bool { return u.GetKind() != "Namespace" })
	rest := slices.DeleteFunc(slices.Clone(objs), func(u *unstructured.Unstructured) bool { return u.GetKind() == "Namespace" })
	var created atomic.Int64
	create := func(list []*unstructured.Unstructured) func(int) error {
		return func(i int) error {
			if err := c.Create(ctx, list[i]); err != nil {
				return fmt.Errorf("%s %s/%s: %w", list[i].GetKind(), list[i].GetNamespace(), list[i].GetName(), err)
			}
			created.Add(1)
			return nil
		}
	}
	start := time.Now()
	must(t, harness.InParallel(workers, len(namespaces), create(namespaces)))
	must(t, harness.InParallel(workers, len(rest), create(rest)))
	return time.Since(start)
}

func report(t *testing.T, f figures) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n=== scale: %d co-ops, %d child objects ===\n", f.n, f.children)
	ratio := f.converged.Seconds() / f.direct.Seconds()
	fmt.Fprintf(&b, "converged (every co-op Ready for its generation): %8.1f s\n", f.converged.Seconds())
	fmt.Fprintf(&b, "  the operator's writes until then (audit log):   %8d  (%.1f per co-op)\n", f.convergeWrites, float64(f.convergeWrites)/float64(f.n))
	fmt.Fprintf(&b, "same objects created directly (%d workers):        %8.1f s  (%.0f objects/s)\n", workers, f.direct.Seconds(), float64(f.children)/f.direct.Seconds())
	fmt.Fprintf(&b, "ratio:                                             %8.2f\n", ratio)
	fmt.Fprintf(&b, "one more co-op Ready after a restart, hub busy:   %8.1f s\n", f.newReady.Seconds())
	perMinute := 60 / f.idleWindow.Seconds()
	var operator, byMetering float64
	keys := slices.Sorted(maps.Keys(f.writes))
	fmt.Fprintf(&b, "API writes of the converged hub over %s (per minute):\n", f.idleWindow.Round(time.Second))
	for _, k := range keys {
		v := float64(f.writes[k]) * perMinute
		what := "operator"
		if strings.HasSuffix(k, " "+metering.FieldOwner) {
			what, byMetering = "metering (bounded)", byMetering+v
		} else {
			operator += v
		}
		fmt.Fprintf(&b, "  %-40s %6.1f  %s\n", k, v, what)
	}
	fmt.Fprintf(&b, "  total: operator %.1f/min, metering %.1f/min\n", operator, byMetering)
	fmt.Fprintf(&b, "manager RSS at %d co-ops:                          %8.1f MiB\n", f.n, mib(f.rss))
	fmt.Fprintf(&b, "  with %d unrelated ConfigMaps and Secrets:     %8.1f MiB (%+.1f MiB)\n", *unrelated, mib(f.rssUnrelated), mib(f.rssUnrelated-f.rss))
	t.Log(b.String())
	fmt.Print(b.String())
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
