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
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
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
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/yaml"

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
	operatorEnv  = flag.String("operator-env", "", "more environment variables of the operator (NAME=value, space-separated), such as GODEBUG=gctrace=1, or MEMORY_LIMIT=<bytes> instead of the chart's default memory limit (MEMORY_LIMIT= for none)")
	profileDir   = flag.String("profile-dir", "", "folder to write a CPU profile of the API server during the convergence (apiserver-<N>-<slice>.pprof) and the operator's heap profile at the RSS reading (operator-heap-<N>.pprof) to; none when empty")
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
	n                 int
	children          int
	converged, direct time.Duration
	newReady          time.Duration
	// restartPass is the span of the operator's Secret reads after the restart, which each
	// co-op's reconcile makes: about the time its pass over every co-op took.
	restartPass       time.Duration
	restartPassReads  int
	writes            map[string]int
	convergeWrites    int
	rss, rssUnrelated int64
	operatorEnv       []string
	// rssAnon and rssFile split rss: anonymous memory (the heap, stacks, the runtime) and
	// file-backed pages (the binary's code and data that the process touched).
	rssAnon, rssFile int64
	// liveHeap is the heap the operator's last collection left, in MB, when it runs with
	// GODEBUG=gctrace=1 (-operator-env); "" otherwise.
	liveHeap            string
	idleWindow          time.Duration
	unrelatedNamespaces int
	// CPU seconds of the API server, etcd and the operator while the co-ops converged, and
	// of the API server and etcd while the same objects were created directly.
	convergeCPU, directCPU cpuTimes
	// convergeRequests are the operator's requests until every co-op converged, reads
	// included, by resource, verb and field manager.
	convergeRequests map[string]int
	// readyAfter are the quantiles of each co-op's time from creation to Ready.
	readyAfter []time.Duration
}

func measure(t *testing.T, bin string, n int) {
	ctx := t.Context()
	env := harness.StartT(t, harness.Options{
		ProjectCRDs:           true,
		Scheme:                manager.Scheme(),
		ServiceClusterIPRange: "10.0.0.0/16",
		AuditLog:              true,
	})
	// The operator runs with the memory limit of the chart's default values in MEMORY_LIMIT,
	// as the chart's Deployment passes it; -operator-env may say otherwise (the last value
	// of a variable wins).
	env.OperatorEnv = append([]string{fmt.Sprintf("%s=%d", manager.MemoryLimitEnv, chartMemoryLimit(t))}, strings.Fields(*operatorEnv)...)
	c := unthrottled(t, env)
	hub := hubconfig.Default()
	hub.Region = "eu-west"
	setUpHub(t, c, hub)
	f := figures{n: n, operatorEnv: env.OperatorEnv}

	// The operator, and the co-ops applied at once.
	var pprofArgs []string
	pprofAddress := ""
	if *profileDir != "" {
		pprofAddress = freeAddress(t)
		pprofArgs = []string{"--pprof-bind-address=" + pprofAddress}
	}
	op := startOperator(t, env, bin, pprofArgs...)
	playReader := informers(t, env)
	stopPlay := play(t, playReader, c)
	procs := controlPlane(t)
	cpu := readCPU(procs, op)
	stopProfile := profileAPIServer(t, env, n)
	start := time.Now()
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("scale-%04d", i)
	}
	must(t, harness.InParallel(workers, n, func(i int) error { return createCooperative(ctx, c, hub, names[i]) }))
	waitConverged(t, playReader, names, op)
	f.converged = time.Since(start)
	f.convergeCPU = readCPU(procs, op).minus(cpu)
	f.readyAfter = readyQuantiles(t, c)
	stopProfile()
	sleep(ctx, 2*time.Second) // the API server writes its audit log in batches
	convergeWrites, err := env.AuditedWrites(operatorUser, start, start.Add(f.converged))
	must(t, err)
	for _, v := range convergeWrites {
		f.convergeWrites += v
	}
	f.convergeRequests, err = env.AuditedRequests(operatorUser, start, start.Add(f.converged))
	must(t, err)
	t.Logf("N=%d: every co-op converged after %s", n, f.converged.Round(time.Millisecond))

	// A converged hub: what it writes, and its memory.
	idleStart := time.Now()
	sleep(ctx, *idle)
	f.idleWindow = time.Since(idleStart)
	f.rss = rss(t, op)
	f.rssAnon, f.rssFile = rssParts(op.PID())
	f.liveHeap = lastLiveHeap(op.Log())
	if *profileDir != "" {
		heapProfile(t, pprofAddress, filepath.Join(*profileDir, fmt.Sprintf("operator-heap-%d.pprof", n)))
	}
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
	cpu = readCPU(procs, nil)
	f.direct = createDirectly(t, c, objs)
	f.directCPU = readCPU(procs, nil).minus(cpu)

	// A restart with N co-ops, and one more co-op applied while the operator works through
	// them. The hub is played as before, and the new co-op's namespace on its own as well:
	// CloudNativePG and the Deployment controller react to its objects' watch events, not
	// after a pass over the whole hub.
	stopPlay = play(t, playReader, c)
	defer stopPlay()
	op = startOperator(t, env, bin)
	must(t, op.WaitForLog(ctx, "Starting workers", `"controller":"cooperative"`))
	start = time.Now()
	extra := fmt.Sprintf("scale-%04d", n)
	stopPlayExtra := play(t, c, c, client.InNamespace(coopv1.NamespacePrefix+extra))
	defer stopPlayExtra()
	must(t, createCooperative(ctx, c, hub, extra))
	waitConverged(t, playReader, []string{extra}, op)
	f.newReady = time.Since(start)
	// The restart's pass over the N co-ops reads three Secrets of each: its span says
	// whether the new co-op waited behind that pass.
	// The API server writes its audit log behind the requests, further behind on a busy
	// machine: the pass is over when the count of reads stops growing and the last is old.
	for deadline, seen := time.Now().Add(10*time.Minute), -1; ; {
		sleep(ctx, 5*time.Second)
		passFirst, passLast, passReads, err := env.AuditedSpan(operatorUser, "secrets get ", start.Add(-time.Minute), time.Now())
		must(t, err)
		f.restartPass, f.restartPassReads = passLast.Sub(passFirst), passReads
		if passReads == seen && time.Since(passLast) > 10*time.Second || time.Now().After(deadline) {
			break
		}
		seen = passReads
	}
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

func startOperator(t *testing.T, env *harness.Env, bin string, extra ...string) *harness.Process {
	args := []string{
		"--webhooks=false", "--metrics-bind-address=0", "--health-probe-bind-address=0",
		"--region=eu-west", "--operator-namespace=" + hubconfig.Default().OperatorNamespace,
	}
	// The suite's own flags come last: a --pprof-bind-address in -operator-args does not
	// move the profile the suite reads.
	args = append(append(args, strings.Fields(*operatorArgs)...), extra...)
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

// chartMemoryLimit is the operator's memory limit in the chart's default values, in bytes.
func chartMemoryLimit(t *testing.T) int64 {
	root, err := harness.RepoRoot()
	must(t, err)
	data, err := os.ReadFile(filepath.Join(root, "charts", "cooperator", "values.yaml"))
	must(t, err)
	var values struct {
		Resources corev1.ResourceRequirements `json:"resources"`
	}
	must(t, yaml.Unmarshal(data, &values))
	limit := values.Resources.Limits.Memory().Value()
	if limit <= 0 {
		t.Fatal("charts/cooperator/values.yaml sets no memory limit")
	}
	return limit
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
// called: it reads what to play with reader and writes with c.
func play(t *testing.T, reader client.Reader, c client.Client, opts ...client.ListOption) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			played, err := harness.PlayDedicatedHub(ctx, reader, c, workers, opts...)
			if err != nil && ctx.Err() == nil {
				t.Logf("playing the hub: %v", err)
			}
			if played == 0 {
				sleep(ctx, 100*time.Millisecond)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// informers is a reader of the Clusters, Backups and Deployments of the hub from informers,
// as CloudNativePG and the Deployment controller read them (playing a hub of a thousand
// co-ops by listing it from the API server several times a second would load the API
// server with work that the components played do not do), and of the Cooperatives, which
// the suite waits on.
func informers(t *testing.T, env *harness.Env) client.Reader {
	managed := cache.ByObject{Label: labels.SelectorFromSet(labels.Set{coopv1.LabelManagedBy: coopv1.ManagedByValue})}
	informerCache, err := cache.New(env.Cfg, cache.Options{
		Scheme: env.Scheme, DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{&cnpgv1.Cluster{}: managed, &appsv1.Deployment{}: managed},
	})
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = informerCache.Start(ctx) }()
	t.Cleanup(cancel)
	for _, obj := range []client.Object{&cnpgv1.Cluster{}, &cnpgv1.Backup{}, &appsv1.Deployment{}, &coopv1.Cooperative{}} {
		_, err := informerCache.GetInformer(t.Context(), obj)
		must(t, err)
	}
	if !informerCache.WaitForCacheSync(t.Context()) {
		t.Fatal("the play's informers did not sync")
	}
	return informerCache
}

// waitConverged waits until every named co-op is Ready, as the operator reports it, for
// its current generation. It reads the co-ops from informers: listing a thousand co-ops
// from the API server ten times a second would load it with work of the suite's own.
func waitConverged(t *testing.T, c client.Reader, names []string, op *harness.Process) {
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

// cpuTimes are CPU seconds (user and system) of the control plane and the operator.
type cpuTimes struct{ apiServer, etcd, operator float64 }

func (a cpuTimes) minus(b cpuTimes) cpuTimes {
	return cpuTimes{a.apiServer - b.apiServer, a.etcd - b.etcd, a.operator - b.operator}
}

// controlPlane finds the kube-apiserver and etcd that envtest started, children of this
// process.
func controlPlane(t *testing.T) map[string]int {
	out := map[string]int{}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	self := strconv.Itoa(os.Getpid())
	for _, p := range procs {
		stat, err := os.ReadFile(filepath.Join(p, "stat"))
		if err != nil {
			continue
		}
		comm, rest, ok := strings.Cut(string(stat), ") ")
		fields := strings.Fields(rest)
		if !ok || len(fields) < 2 || fields[1] != self {
			continue
		}
		name := comm[strings.IndexByte(comm, '(')+1:]
		if name == "kube-apiserver" || name == "etcd" {
			out[name], _ = strconv.Atoi(filepath.Base(p))
		}
	}
	if len(out) != 2 {
		t.Logf("found %v of kube-apiserver and etcd: CPU figures are incomplete", out)
	}
	return out
}

// readCPU reads the CPU seconds of the control plane and of op (when not nil) from /proc.
func readCPU(procs map[string]int, op *harness.Process) cpuTimes {
	out := cpuTimes{apiServer: cpuSeconds(procs["kube-apiserver"]), etcd: cpuSeconds(procs["etcd"])}
	if op != nil {
		out.operator = cpuSeconds(op.PID())
	}
	return out
}

// cpuSeconds is utime+stime of a process, in seconds (Linux; 0 elsewhere).
func cpuSeconds(pid int) float64 {
	if pid == 0 {
		return 0
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	fields := strings.Fields(rest)
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

// profileAPIServer records a CPU profile of the API server from now until the returned
// function is called (at most five minutes), into -profile-dir.
func profileAPIServer(t *testing.T, env *harness.Env, n int) (stop func()) {
	if *profileDir == "" {
		return func() {}
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		hc, err := rest.HTTPClientFor(env.Cfg)
		if err != nil {
			t.Logf("profile: %v", err)
			return
		}
		hc.Timeout = 0
		// The API server's profile ends after its seconds; stop cancels a shorter wait by
		// closing nothing, so the profile is asked for in slices of 20 seconds.
		for i := 0; ctx.Err() == nil; i++ {
			path := filepath.Join(*profileDir, fmt.Sprintf("apiserver-%d-%02d.pprof", n, i))
			if err := saveProfile(context.WithoutCancel(ctx), hc, strings.TrimSuffix(env.Cfg.Host, "/")+"/debug/pprof/profile?seconds=20", path); err != nil {
				t.Logf("the API server's profile: %v", err)
				return
			}
		}
	}()
	return func() { cancel(); <-done }
}

// freeAddress is a loopback address with a port free at the time of the call.
func freeAddress(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := l.Addr().String()
	must(t, l.Close())
	return addr
}

// heapProfile writes the operator's heap profile (its pprof address addr) to path; a
// failure is logged, not fatal: the profile is an aid, not a figure.
func heapProfile(t *testing.T, addr, path string) {
	if err := saveProfile(t.Context(), &http.Client{Timeout: time.Minute}, "http://"+addr+"/debug/pprof/heap", path); err != nil {
		t.Logf("the operator's heap profile: %v", err)
	}
}

// saveProfile gets a profile from url with hc and writes it to path.
func saveProfile(ctx context.Context, hc *http.Client, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return os.WriteFile(path, body, 0o600)
}

// readyQuantiles are the 10th, 50th, 90th and 100th percentiles of the co-ops' time from
// creation to their Ready condition turning True (to the second, as the API stores both).
func readyQuantiles(t *testing.T, c client.Client) []time.Duration {
	var list coopv1.CooperativeList
	must(t, c.List(t.Context(), &list))
	var times []time.Duration
	for _, coop := range list.Items {
		if ready := meta.FindStatusCondition(coop.Status.Conditions, coopv1.ConditionReady); ready != nil && ready.Status == metav1.ConditionTrue {
			times = append(times, ready.LastTransitionTime.Sub(coop.CreationTimestamp.Time))
		}
	}
	if len(times) == 0 {
		return nil
	}
	slices.Sort(times)
	var out []time.Duration
	for _, q := range []int{10, 50, 90, 100} {
		out = append(out, times[(len(times)-1)*q/100])
	}
	return out
}

// gcTrace matches a line of GODEBUG=gctrace=1: "gc 12 @3.4s 1%: ... 10->12->6 MB, ...".
var gcTrace = regexp.MustCompile(`(?m)^gc \d+ @.* (\d+)->(\d+)->(\d+) MB`)

// lastLiveHeap is the live heap after the last collection that log traces, or "".
func lastLiveHeap(log string) string {
	m := gcTrace.FindAllStringSubmatch(log, -1)
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1][3]
}

// rssParts reads RssAnon and RssFile of a process from /proc (Linux; zeros elsewhere).
func rssParts(pid int) (anon, file int64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for line := range strings.Lines(string(data)) {
		name, value, _ := strings.Cut(line, ":")
		fields := strings.Fields(value)
		if len(fields) == 0 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[0], 10, 64)
		switch name {
		case "RssAnon":
			anon = kb << 10
		case "RssFile":
			file = kb << 10
		}
	}
	return anon, file
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
	if len(f.readyAfter) == 4 {
		fmt.Fprintf(&b, "  each co-op from creation to Ready: 10%% %s, 50%% %s, 90%% %s, all %s\n", f.readyAfter[0], f.readyAfter[1], f.readyAfter[2], f.readyAfter[3])
	}
	requests := 0
	for _, v := range f.convergeRequests {
		requests += v
	}
	fmt.Fprintf(&b, "  its requests, reads included:                    %8d  (%.1f per co-op)\n", requests, float64(requests)/float64(f.n))
	kinds := slices.SortedFunc(maps.Keys(f.convergeRequests), func(a, b string) int {
		return cmp.Or(f.convergeRequests[b]-f.convergeRequests[a], strings.Compare(a, b))
	})
	for _, k := range kinds {
		if per := float64(f.convergeRequests[k]) / float64(f.n); per >= 0.05 {
			fmt.Fprintf(&b, "    %-46s %6.2f per co-op\n", k, per)
		}
	}
	fmt.Fprintf(&b, "  CPU: API server %.0f s, etcd %.0f s, operator %.0f s\n", f.convergeCPU.apiServer, f.convergeCPU.etcd, f.convergeCPU.operator)
	fmt.Fprintf(&b, "same objects created directly (%d workers):        %8.1f s  (%.0f objects/s)\n", workers, f.direct.Seconds(), float64(f.children)/f.direct.Seconds())
	fmt.Fprintf(&b, "  CPU: API server %.0f s, etcd %.0f s\n", f.directCPU.apiServer, f.directCPU.etcd)
	fmt.Fprintf(&b, "ratio:                                             %8.2f\n", ratio)
	// CPU seconds depend less than wall-clock time on what else the machine runs.
	if direct := f.directCPU.apiServer + f.directCPU.etcd; direct > 0 {
		fmt.Fprintf(&b, "  ratio of API server and etcd CPU seconds:        %8.2f\n", (f.convergeCPU.apiServer+f.convergeCPU.etcd)/direct)
	}
	fmt.Fprintf(&b, "one more co-op Ready after a restart, hub busy:   %8.1f s\n", f.newReady.Seconds())
	fmt.Fprintf(&b, "  the restart's pass over the co-ops:              %8.1f s  (%d Secret reads)\n", f.restartPass.Seconds(), f.restartPassReads)
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
	fmt.Fprintf(&b, "manager RSS at %d co-ops:                          %8.1f MiB  (operator environment: %s)\n", f.n, mib(f.rss), strings.Join(f.operatorEnv, " "))
	fmt.Fprintf(&b, "  anonymous (heap, stacks, runtime):               %8.1f MiB\n", mib(f.rssAnon))
	fmt.Fprintf(&b, "  file-backed (the binary's pages):                %8.1f MiB\n", mib(f.rssFile))
	if f.liveHeap != "" {
		fmt.Fprintf(&b, "  live heap after the last collection:            %8s MB\n", f.liveHeap)
	}
	fmt.Fprintf(&b, "  with %d unrelated ConfigMaps and Secrets:     %8.1f MiB (%+.1f MiB)\n", *unrelated, mib(f.rssUnrelated), mib(f.rssUnrelated-f.rss))
	t.Log(b.String())
	fmt.Print(b.String())
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
