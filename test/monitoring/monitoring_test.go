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

package monitoring_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/test/harness"
	"github.com/cooperator-dev/cooperator/test/monitoring"
)

// stableUIDs are the dashboards' uids: links and bookmarks to them must keep working
// across upgrades.
var stableUIDs = map[string]string{
	"hub-overview.json": "cooperator-hub",
	"cooperative.json":  "cooperator-cooperative",
}

// TestDashboards: every dashboard is valid JSON with its stable uid, a title, unique panel
// ids, and queries that name the Prometheus data source variable, so that the dashboard
// works with whichever Prometheus Grafana has.
func TestDashboards(t *testing.T) {
	dashboards, err := monitoring.Dashboards(harness.MustRepoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(dashboards) != len(stableUIDs) {
		t.Errorf("%d dashboards, this test knows the uids of %d: give a new one its uid here", len(dashboards), len(stableUIDs))
	}
	for file, d := range dashboards {
		if d["uid"] != stableUIDs[file] {
			t.Errorf("%s: uid %v, want %q", file, d["uid"], stableUIDs[file])
		}
		if title, _ := d["title"].(string); !strings.HasPrefix(title, "cooperator: ") {
			t.Errorf("%s: title %q", file, title)
		}
		panels, _ := d["panels"].([]any)
		if len(panels) == 0 {
			t.Errorf("%s has no panel", file)
		}
		ids := map[float64]bool{}
		for _, p := range panels {
			pm := p.(map[string]any)
			id, _ := pm["id"].(float64)
			if ids[id] {
				t.Errorf("%s: panel id %v twice", file, id)
			}
			ids[id] = true
			targets, _ := pm["targets"].([]any)
			if len(targets) == 0 {
				t.Errorf("%s: panel %q has no query", file, pm["title"])
			}
			for _, x := range append(targets, pm) {
				ds, _ := x.(map[string]any)["datasource"].(map[string]any)
				if ds["uid"] != "${datasource}" {
					t.Errorf("%s: panel %q reads data source %v, not the variable ${datasource}", file, pm["title"], ds)
				}
			}
		}
	}
}

// TestRules: every alert has a severity, a summary, a description and a runbook, and
// waits before it fires.
func TestRules(t *testing.T) {
	rules, err := monitoring.Rules(harness.MustRepoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	var alerts []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			if r.Alert == "" || r.Expr == "" || r.For == "" {
				t.Errorf("group %s: a rule without alert, expr or for: %+v", g.Name, r)
			}
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("%s: severity %q", r.Alert, s)
			}
			for _, a := range []string{"summary", "description", "runbook"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("%s has no %s", r.Alert, a)
				}
			}
		}
	}
	sort.Strings(alerts)
	want := []string{"CooperativeBackupFailing", "CooperativeBackupOverdue", "CooperativeDeletionStuck", "CooperativeNotReady", "CooperativeWALArchivingFailing", "CooperatorMetricsDown", "CooperatorReconcileErrors", "CostReportOpenAfterPeriod", "FederationPeerUnreachable", "SharedClusterWALArchivingFailing"}
	if strings.Join(alerts, " ") != strings.Join(want, " ") {
		t.Errorf("alerts %v, want %v", alerts, want)
	}
}

// TestRulesWithPromtool checks the rule groups with promtool and runs their unit tests
// (testdata/rules_test.yaml): each alert fires on what should fire it, after its wait, and
// not on the healthy series. promtool is built by hack/promtool.sh; make test sets
// PROMTOOL.
func TestRulesWithPromtool(t *testing.T) {
	promtool := os.Getenv("PROMTOOL")
	if promtool == "" {
		t.Skip("PROMTOOL is not set: run with PROMTOOL=$(hack/promtool.sh), as make test does")
	}
	root := harness.MustRepoRoot(t)
	for _, args := range [][]string{
		{"check", "rules", monitoring.RulesFile(root)},
		{"test", "rules", filepath.Join(root, "test", "monitoring", "testdata", "rules_test.yaml")},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestOperatorExportsWhatTheMonitoringReads runs the operator's manager on an envtest API
// server, gives it a co-op, a CostReport, a FederationPeer and a co-op's CloudNativePG
// Cluster reporting WAL archiving, and scrapes its /metrics until every metric that a
// dashboard or an alert reads, but the platform service's (platform/server checks those),
// appears.
func TestOperatorExportsWhatTheMonitoringReads(t *testing.T) {
	root := harness.MustRepoRoot(t)
	names, err := monitoring.MetricNames(root)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, n := range names {
		if !strings.HasPrefix(n, "cooperator_platform_") {
			want = append(want, n)
		}
	}
	ctrl.SetLogger(logr.Discard())
	env := harness.StartT(t, harness.Options{ProjectCRDs: true, Scheme: manager.Scheme()})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := env.Client

	opts, addr := operatorOptions(t, false)
	_, token := runOperator(t, env, opts)

	for _, ns := range []string{opts.Hub.OperatorNamespace, "coop-fairride-lyon"} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	coop, err := harness.Sample("coop_v1alpha1_cooperative_fairride.yaml")
	if err != nil {
		t.Fatal(err)
	}
	report := &coopv1.CostReport{}
	peer := &coopv1.FederationPeer{}
	for obj, file := range map[any]string{report: "coop_v1alpha1_costreport.yaml", peer: "coop_v1alpha1_federationpeer.yaml"} {
		if err := harness.ReadYAML(filepath.Join(root, "config", "samples", file), obj); err != nil {
			t.Fatal(err)
		}
	}
	// No co-op here was metered in the sample's month, so the operator does not freeze its
	// bill (no one shares it): the hub settled it by hand and froze it.
	report.Spec.Final = true
	for _, obj := range []client.Object{coop, report, peer} {
		if err := c.Create(ctx, obj); err != nil {
			t.Fatalf("creating %s: %v", obj.GetName(), err)
		}
	}
	// A co-op whose deletion another finalizer holds, as the federation's holds one while a
	// peer keeps its standby: the time its deletion was asked is exported.
	leaving, err := harness.Sample("coop_v1alpha1_cooperative_fairride.yaml")
	if err != nil {
		t.Fatal(err)
	}
	leaving.Name, leaving.Spec.Platform.Host = "leaving", ""
	leaving.Finalizers = []string{"test.cooperator.dev/hold"}
	if err := c.Create(ctx, leaving); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, leaving); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Let it go, so that the API server's namespace of it can go too.
		_ = c.Patch(context.Background(), leaving, client.RawPatch(types.JSONPatchType, []byte(`[{"op":"remove","path":"/metadata/finalizers"}]`)))
	})
	// The co-op's last completed backup, as the operator records it once it judged its
	// backups (which needs a plan, a Cluster and its Backups this co-op does not reach).
	lastBackup := time.Date(2026, 12, 5, 3, 5, 0, 0, time.UTC)
	before := coop.DeepCopy()
	coop.Status.LastBackup = &coopv1.BackupRecord{Name: "fairride-lyon-20261205030000", Time: &metav1.Time{Time: lastBackup}}
	if err := c.Status().Patch(ctx, coop, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	// A co-op's Cluster whose WAL archiving fails, as CloudNativePG reports it.
	cluster := &cnpgv1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: "archiving-probe", Namespace: "coop-fairride-lyon", Labels: map[string]string{coopv1.LabelCooperative: coop.Name, coopv1.LabelManagedBy: coopv1.ManagedByValue}},
		Spec:       cnpgv1.ClusterSpec{Instances: 1, StorageConfiguration: cnpgv1.StorageConfiguration{Size: "1Gi"}},
	}
	if err := c.Create(ctx, cluster); err != nil {
		t.Fatal(err)
	}
	meta.SetStatusCondition(&cluster.Status.Conditions, metav1.Condition{
		Type: string(cnpgv1.ConditionContinuousArchiving), Status: metav1.ConditionFalse,
		Reason: string(cnpgv1.ConditionReasonContinuousArchivingFailing), Message: "archive command failed",
	})
	if err := c.Status().Update(ctx, cluster); err != nil {
		t.Fatal(err)
	}

	// The hub's shared Cluster, whose WAL archiving fails too.
	shared := &cnpgv1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Name: "shared-probe", Namespace: opts.Hub.OperatorNamespace, Labels: map[string]string{coopv1.LabelManagedBy: coopv1.ManagedByValue}},
		Spec:       cnpgv1.ClusterSpec{Instances: 1, StorageConfiguration: cnpgv1.StorageConfiguration{Size: "1Gi"}},
	}
	if err := c.Create(ctx, shared); err != nil {
		t.Fatal(err)
	}
	shared.Status.Conditions = cluster.Status.Conditions
	if err := c.Status().Update(ctx, shared); err != nil {
		t.Fatal(err)
	}

	// The values tell the truth about the objects: the co-op is not Ready (it names a plan
	// that does not exist), its Cluster's archiving fails, the sample report is Final, the
	// metering opened the current period's, and the peer's kubeconfig Secret does not exist.
	current := time.Now().UTC().Format("2006-01")
	lines := []string{
		`cooperator_cooperative_ready{cooperative="fairride-lyon"} 0`,
		`cooperator_database_continuous_archiving{cluster="archiving-probe",cooperative="fairride-lyon"} 0`,
		`cooperator_shared_cluster_continuous_archiving{cluster="shared-probe",namespace="` + opts.Hub.OperatorNamespace + `"} 0`,
		`cooperator_costreport_open{costreport="2026-11"} 0`,
		`cooperator_costreport_period_end_timestamp_seconds{costreport="2026-11"} 1.7960832e+09`,
		`cooperator_costreport_open{costreport="` + current + `"} 1`,
		`cooperator_federation_peer_reachable{peer="eu-south"} 0`,
		`cooperator_backup_last_completed_timestamp_seconds{cooperative="fairride-lyon"} 1.7964399e+09`,
	}
	var missing, absent []string
	deadline := time.Now().Add(2 * time.Minute)
	for {
		code, body := harness.ScrapeMetrics(ctx, addr, token)
		if code != http.StatusOK {
			body = ""
		}
		exposed := monitoring.ExposedNames(body)
		missing, absent = missing[:0], absent[:0]
		for _, n := range want {
			if !exposed[n] {
				missing = append(missing, n)
			}
		}
		for _, l := range lines {
			if !strings.Contains(body, l+"\n") {
				absent = append(absent, l)
			}
		}
		if len(missing)+len(absent) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if len(missing) > 0 {
		t.Errorf("the operator's /metrics lacks %v, which the dashboards or alerts read", missing)
	}
	if len(absent) > 0 {
		t.Errorf("the operator's /metrics lacks the lines %v", absent)
	}
}

func freeAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestOnlyTheLeaderExportsTheState: with several replicas, every replica's cache holds the
// co-ops, but only the elected one exports their state; a series from each would double
// every sum of a dashboard and every alert. The test holds the lease for another replica,
// shows the waiting replica's synced cache holds a co-op its /metrics does not report, then
// lets the lease go.
func TestOnlyTheLeaderExportsTheState(t *testing.T) {
	ctrl.SetLogger(logr.Discard())
	env := harness.StartT(t, harness.Options{ProjectCRDs: true, Scheme: manager.Scheme()})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := env.Client

	opts, addr := operatorOptions(t, true)
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: opts.Hub.OperatorNamespace}}); err != nil {
		t.Fatal(err)
	}
	// Another replica holds the lease.
	now := metav1.NewMicroTime(time.Now())
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: opts.Hub.OperatorNamespace, Name: "cooperator.coop.cooperator.dev"},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("another-replica"), LeaseDurationSeconds: ptr.To[int32](3600),
			AcquireTime: &now, RenewTime: &now},
	}
	if err := c.Create(ctx, lease); err != nil {
		t.Fatal(err)
	}
	coop, err := harness.Sample("coop_v1alpha1_cooperative_fairride.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, coop); err != nil {
		t.Fatal(err)
	}
	mgr, token := runOperator(t, env, opts)

	if !mgr.GetCache().WaitForCacheSync(ctx) {
		t.Fatal("the cache did not sync")
	}
	var cached coopv1.Cooperative
	if err := mgr.GetCache().Get(ctx, client.ObjectKeyFromObject(coop), &cached); err != nil {
		t.Fatalf("the waiting replica's cache does not hold the co-op: %v", err)
	}
	const series = `cooperator_cooperative_ready{cooperative="fairride-lyon"}`
	scrape := func() string {
		code, body := harness.ScrapeMetrics(ctx, addr, token)
		if code != http.StatusOK {
			return ""
		}
		return body
	}
	var body string
	for deadline := time.Now().Add(time.Minute); body == "" && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		body = scrape()
	}
	if body == "" {
		t.Fatal("the metrics endpoint did not answer")
	}
	if strings.Contains(body, series) {
		t.Fatalf("a replica that is not the leader exports %s", series)
	}

	// The other replica is gone: its lease goes, this one is elected and exports the state.
	if err := c.Delete(ctx, lease); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); !strings.Contains(body, series) && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		body = scrape()
	}
	if !strings.Contains(body, series) {
		t.Errorf("the elected replica does not export %s", series)
	}
}

// operatorOptions are the operator's options in these tests: its metrics on a free local
// address (returned), no probes, no webhooks.
func operatorOptions(t *testing.T, leaderElection bool) (manager.Options, string) {
	t.Helper()
	opts := manager.DefaultOptions()
	opts.MetricsBindAddress = freeAddress(t)
	opts.HealthProbeBindAddress = "0"
	opts.LeaderElection = leaderElection
	opts.Webhooks = false
	opts.SkipControllerNameValidation = true
	return opts, opts.MetricsBindAddress
}

// runOperator runs the operator's manager until the test ends. It serves its metrics over
// HTTPS to identities bound to cooperator-metrics-reader, as a hub binds its Prometheus:
// token is one's.
func runOperator(t *testing.T, env *harness.Env, opts manager.Options) (ctrl.Manager, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	token, err := harness.MetricsToken(ctx, env.Client, "prometheus", true)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	mgr, err := manager.New(env.Cfg, opts)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
	return mgr, token
}
