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
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/test/harness"
)

// newCoop creates a Cooperative with the status the operator would have written.
func newCoop(t *testing.T, name string, tier coopv1.DatabaseTier, ready bool) *coopv1.Cooperative {
	t.Helper()
	ctx := context.Background()
	coop := &coopv1.Cooperative{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: coopv1.CooperativeSpec{
			Vertical: coopv1.VerticalDelivery, Plan: "small",
			FeeSplit:   coopv1.FeeSplit{PlatformFeeBasisPoints: 300},
			Governance: coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote},
			Database:   coopv1.DatabaseSpec{Tier: tier},
		},
	}
	if err := k8sClient.Create(ctx, coop); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, coop) })
	status, reason := metav1.ConditionFalse, coopv1.ReasonClusterNotReady
	if ready {
		status, reason = metav1.ConditionTrue, coopv1.ReasonReady
	}
	backupTime := metav1.NewTime(time.Date(2026, 11, 19, 3, 0, 0, 0, time.UTC))
	coop.Status = coopv1.CooperativeStatus{
		Namespace: coop.NamespaceName(), ObservedGeneration: coop.Generation,
		Conditions: []metav1.Condition{
			{Type: coopv1.ConditionReady, Status: status, Reason: reason, Message: "ready or not, a message", LastTransitionTime: metav1.NewTime(fixedNow), ObservedGeneration: coop.Generation},
			{Type: coopv1.ConditionTenancyReady, Status: metav1.ConditionTrue, Reason: coopv1.ReasonReady, Message: "tenancy", LastTransitionTime: metav1.NewTime(fixedNow), ObservedGeneration: coop.Generation},
		},
		Endpoints:  coopv1.Endpoints{URL: "https://" + name + ".example.coop"},
		LastBackup: &coopv1.BackupRecord{Name: name + "-scheduled-1", Time: &backupTime},
	}
	if err := k8sClient.Status().Update(ctx, coop); err != nil {
		t.Fatal(err)
	}
	return coop
}

func createNamespace(t *testing.T, name string) {
	t.Helper()
	if err := k8sClient.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		t.Fatal(err)
	}
}

// TestGetFormatsAgree lists co-ops in every format and checks each against the others.
func TestGetFormatsAgree(t *testing.T) {
	newCoop(t, "get-alpha", coopv1.DatabaseTierDedicated, true)
	newCoop(t, "get-beta", coopv1.DatabaseTierShared, false)

	var rows []CooperativeRow
	if err := json.Unmarshal([]byte(ok(t, "get", "-o", "json")), &rows); err != nil {
		t.Fatal(err)
	}
	byName := map[string]CooperativeRow{}
	for _, r := range rows {
		byName[r.Name] = r
	}
	alpha, beta := byName["get-alpha"], byName["get-beta"]
	if alpha.Ready != "True" || alpha.Plan != "small" || alpha.LastBackup != "2026-11-19T03:00:00Z" || alpha.URL != "https://get-alpha.example.coop" || alpha.Tier != "dedicated" {
		t.Errorf("json alpha: %+v", alpha)
	}
	if beta.Ready != "False" || beta.Reason != coopv1.ReasonClusterNotReady {
		t.Errorf("json beta: %+v", beta)
	}

	var fromYAML []CooperativeRow
	if err := yaml.Unmarshal([]byte(ok(t, "get", "-o", "yaml")), &fromYAML); err != nil {
		t.Fatal(err)
	}
	if len(fromYAML) != len(rows) {
		t.Errorf("yaml has %d rows, json %d", len(fromYAML), len(rows))
	}

	records, err := csv.NewReader(strings.NewReader(ok(t, "get", "-o", "csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(records[0], ",") != "name,vertical,plan,tier,ready,reason,last_backup,url,suspended,message" {
		t.Errorf("csv header: %v", records[0])
	}
	if len(records) != 1+len(rows) {
		t.Fatalf("csv has %d records for %d co-ops", len(records)-1, len(rows))
	}
	for _, rec := range records[1:] {
		want := byName[rec[0]].cells()
		if strings.Join(rec, "|") != strings.Join(want, "|") {
			t.Errorf("csv %v, json %v", rec, want)
		}
	}

	table := ok(t, "get")
	wide := ok(t, "get", "-o", "wide")
	for _, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && f[0] == "get-alpha" {
			if strings.Join(f, " ") != "get-alpha delivery small True Ready 2026-11-19T03:00:00Z https://get-alpha.example.coop" {
				t.Errorf("table row: %q", line)
			}
		}
	}
	if !strings.Contains(table, "LAST BACKUP") || strings.Contains(table, "TIER") || !strings.Contains(wide, "TIER") || !strings.Contains(wide, "ready or not, a message") {
		t.Errorf("table:\n%s\nwide:\n%s", table, wide)
	}
}

// TestGetOneCoop shows a co-op in detail: its conditions, objects and events, the same in
// the table, CSV and JSON.
func TestGetOneCoop(t *testing.T) {
	ctx := context.Background()
	coop := newCoop(t, "detail", coopv1.DatabaseTierDedicated, false)
	createNamespace(t, coop.NamespaceName())
	cluster := &cnpgv1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: coop.NamespaceName(), Name: "detail"}, Spec: cnpgv1.ClusterSpec{Instances: 1, StorageConfiguration: cnpgv1.StorageConfiguration{Size: "1Gi"}}}
	if err := k8sClient.Create(ctx, cluster); err != nil {
		t.Fatal(err)
	}
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: coop.NamespaceName(), Name: "detail.1"},
		InvolvedObject: corev1.ObjectReference{Kind: "Cooperative", Name: "detail", Namespace: coop.NamespaceName()},
		Reason:         "Stalled", Message: "Co-op is stalled: something", Type: corev1.EventTypeWarning,
		LastTimestamp: metav1.NewTime(fixedNow),
	}
	if err := k8sClient.Create(ctx, ev); err != nil {
		t.Fatal(err)
	}

	var d CooperativeDetail
	if err := json.Unmarshal([]byte(ok(t, "get", "detail", "-o", "json")), &d); err != nil {
		t.Fatal(err)
	}
	if d.Cooperative.Name != "detail" || len(d.Conditions) != 2 || d.Conditions[0].Type != coopv1.ConditionReady || len(d.Events) != 1 || d.Events[0].Reason != "Stalled" {
		t.Errorf("json: %+v", d)
	}
	hasCluster := false
	for _, o := range d.Objects {
		hasCluster = hasCluster || (o.Kind == "Cluster" && o.Name == "detail")
	}
	if !hasCluster {
		t.Errorf("objects lack the Cluster: %+v", d.Objects)
	}
	records, err := csv.NewReader(strings.NewReader(ok(t, "get", "detail", "-o", "csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 1+len(d.Conditions)+len(d.Objects)+len(d.Events) {
		t.Errorf("csv has %d records, json %d conditions, %d objects, %d events", len(records)-1, len(d.Conditions), len(d.Objects), len(d.Events))
	}
	table := ok(t, "get", "detail")
	for _, want := range []string{"Name:         detail", "Conditions:", "TenancyReady", "Objects:", "Cluster", "Events:", "Co-op is stalled: something", "https://detail.example.coop"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

// TestGetEventsCount: --events says how many of the newest events the detail shows; 0
// shows none (before, 0 showed every event), and less than 0 is a usage error.
func TestGetEventsCount(t *testing.T) {
	ctx := context.Background()
	coop := newCoop(t, "events-coop", coopv1.DatabaseTierDedicated, true)
	createNamespace(t, coop.NamespaceName())
	for i := range 3 {
		ev := &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Namespace: coop.NamespaceName(), Name: fmt.Sprintf("events-coop.%d", i)},
			InvolvedObject: corev1.ObjectReference{Kind: "Cooperative", Name: coop.Name, Namespace: coop.NamespaceName()},
			Reason:         fmt.Sprintf("Reason%d", i), Message: "an event", Type: corev1.EventTypeNormal,
			LastTimestamp: metav1.NewTime(fixedNow.Add(time.Duration(i) * time.Minute)),
		}
		if err := k8sClient.Create(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	for flag, want := range map[string][]string{"0": {}, "2": {"Reason2", "Reason1"}, "10": {"Reason2", "Reason1", "Reason0"}} {
		var d CooperativeDetail
		if err := json.Unmarshal([]byte(ok(t, "get", coop.Name, "--events", flag, "-o", "json")), &d); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range d.Events {
			got = append(got, e.Reason)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("--events %s: %v, want %v", flag, got, want)
		}
	}
	if table := ok(t, "get", coop.Name, "--events", "0"); strings.Contains(table, "Reason") {
		t.Errorf("--events 0 shows events:\n%s", table)
	}
	if r := cli(t, "get", coop.Name, "--events", "-1"); r.code != ExitUsage || !strings.Contains(r.errs, "--events -1: must be 0 (none) or more") {
		t.Errorf("--events -1: exit %d\n%s%s", r.code, r.out, r.errs)
	}
}

// TestCoopAdminGet: a co-op admin may not list Cooperatives, but get falls back to the
// ones its RBAC lets it read by name, and refuses another co-op with exit code 4.
func TestCoopAdminGet(t *testing.T) {
	ctx := context.Background()
	newCoop(t, "own-coop", coopv1.DatabaseTierDedicated, true)
	newCoop(t, "other-coop", coopv1.DatabaseTierDedicated, true)
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "cli-test-own-coop"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{coopv1.GroupVersion.Group}, Resources: []string{"cooperatives"}, ResourceNames: []string{"own-coop"}, Verbs: []string{"get", "update", "patch"}}},
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "cli-test-own-coop"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "own-coop-admins"}},
	}
	for _, o := range []client.Object{role, binding} {
		if err := k8sClient.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8sClient.Delete(ctx, o) })
	}
	cfg, err := env.AddUser("carol", []string{"own-coop-admins"})
	if err != nil {
		t.Fatal(err)
	}
	carol := filepath.Join(tmpDir, "carol.kubeconfig")
	if err := harness.WriteKubeconfig(carol, cfg); err != nil {
		t.Fatal(err)
	}
	// The API server authorizes from its own informers: wait until the binding is in force.
	deadline := time.Now().Add(30 * time.Second)
	var r result
	for {
		r = cli(t, "get", "own-coop", "-o", "json", "--kubeconfig", carol)
		if r.code == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.code != 0 {
		t.Fatalf("get own-coop as its admin: exit %d %s", r.code, r.errs)
	}

	r = cli(t, "get", "-o", "json", "--kubeconfig", carol)
	var rows []CooperativeRow
	if r.code != 0 || json.Unmarshal([]byte(r.out), &rows) != nil || len(rows) != 1 || rows[0].Name != "own-coop" {
		t.Errorf("get as a co-op admin: exit %d, %s %s", r.code, r.out, r.errs)
	}
	r = cli(t, "get", "--kubeconfig", carol)
	if r.code != 0 || !strings.Contains(r.errs, "You may not list Cooperatives") || !strings.Contains(r.out, "own-coop") || strings.Contains(r.out, "other-coop") {
		t.Errorf("get table as a co-op admin: exit %d\n%s\n%s", r.code, r.out, r.errs)
	}
	r = cli(t, "get", "other-coop", "--kubeconfig", carol)
	if r.code != ExitForbidden || !strings.Contains(r.errs, "reading Cooperative other-coop: forbidden") {
		t.Errorf("get another co-op: exit %d, %s", r.code, r.errs)
	}
	r = cli(t, "status", "--kubeconfig", carol)
	if r.code != ExitForbidden {
		t.Errorf("status as a co-op admin: exit %d, %s", r.code, r.errs)
	}
}

// TestErrorsPeopleUnderstand checks the messages and exit codes of what goes wrong.
func TestErrorsPeopleUnderstand(t *testing.T) {
	unreachable := filepath.Join(tmpDir, "unreachable.kubeconfig")
	if err := harness.WriteKubeconfig(unreachable, envRestConfigAt("https://127.0.0.1:1")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"not found", []string{"get", "no-such-coop"}, ExitNotFound, "reading Cooperative no-such-coop: not found"},
		{"unreachable", []string{"get", "--kubeconfig", unreachable}, ExitUnreachable, "cannot reach the cluster"},
		{"bad output", []string{"get", "-o", "xml"}, ExitUsage, `unknown output format "xml"`},
		{"unknown command", []string{"frobnicate"}, ExitUsage, `unknown command "frobnicate"`},
		{"unknown flag", []string{"get", "--frobnicate"}, ExitUsage, "unknown flag: --frobnicate"},
		{"too many arguments", []string{"backup"}, ExitUsage, "accepts 1 arg(s), received 0"},
		{"missing backup target", []string{"backup", "no-such-coop"}, ExitNotFound, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, tc.args...)
			if r.code != tc.code || !strings.Contains(r.errs, tc.want) {
				t.Errorf("cooperator %v: exit %d, %q; want exit %d saying %q", tc.args, r.code, r.errs, tc.code, tc.want)
			}
		})
	}
}

// TestNoKubeconfigIsNotLocalhost: without any kubeconfig, client-go would talk to
// http://localhost:8080; the CLI says what is missing instead.
func TestNoKubeconfigIsNotLocalhost(t *testing.T) {
	t.Setenv("KUBECONFIG", filepath.Join(tmpDir, "does-not-exist"))
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	var out, errs strings.Builder
	root := NewRootCommand(Options{Version: "v1.2.3", Out: &out, ErrOut: &errs})
	code := Execute(context.Background(), root, []string{"get"})
	if code != ExitUnreachable || !strings.Contains(errs.String(), "no kubeconfig found") || !strings.Contains(errs.String(), "http://localhost:8080") {
		t.Errorf("exit %d: %s", code, errs.String())
	}
}

func envRestConfigAt(host string) *rest.Config {
	cfg := *env.Cfg
	cfg.Host = host
	return &cfg
}

// TestCompletionScripts generates the completion scripts of each shell.
func TestCompletionScripts(t *testing.T) {
	for shell, want := range map[string]string{
		"bash": "__start_cooperator",
		"zsh":  "#compdef cooperator",
		"fish": "complete -c cooperator",
	} {
		out := ok(t, "completion", shell)
		if !strings.Contains(out, want) {
			t.Errorf("completion %s lacks %q:\n%.300s", shell, want, out)
		}
	}
	// Dynamic completion of co-op names goes through the hidden __complete command.
	newCoop(t, "complete-me", coopv1.DatabaseTierDedicated, true)
	out := ok(t, "__complete", "get", "--kubeconfig", kubeconfig, "complete-")
	if !strings.Contains(out, "complete-me") {
		t.Errorf("completion of co-op names:\n%s", out)
	}
}

// TestPluginName: installed as kubectl-coop, the commands describe themselves as kubectl coop.
func TestPluginName(t *testing.T) {
	r := cliAs(t, "/usr/local/bin/kubectl-coop", "get", "--help")
	if r.code != 0 || !strings.Contains(r.out, "kubectl coop get [COOP]") {
		t.Errorf("exit %d:\n%s", r.code, r.out)
	}
	r = cliAs(t, "cooperator", "get", "--help")
	if !strings.Contains(r.out, "cooperator get [COOP]") {
		t.Errorf("as cooperator:\n%s", r.out)
	}
}

// TestVersion prints the client's version, and the operator's from its info ConfigMap.
func TestVersion(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "version-ns")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "version-ns", Name: coopv1.InfoConfigMapName}, Data: map[string]string{"version": "v9.8.7", "region": "eu-west"}}
	if err := k8sClient.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	var v VersionInfo
	if err := json.Unmarshal([]byte(ok(t, "version", "-n", "version-ns", "-o", "json")), &v); err != nil {
		t.Fatal(err)
	}
	if v.Client != "v1.2.3" || v.Operator != "v9.8.7" || v.Region != "eu-west" || v.OperatorError != "" {
		t.Errorf("version: %+v", v)
	}
	v = VersionInfo{}
	if err := json.Unmarshal([]byte(ok(t, "version", "-n", "elsewhere", "-o", "json")), &v); err != nil {
		t.Fatal(err)
	}
	if v.Client != "v1.2.3" || v.Operator != "" || !strings.Contains(v.OperatorError, "not found") {
		t.Errorf("version without an operator: %+v", v)
	}
	if out := ok(t, "--version"); out != "v1.2.3\n" {
		t.Errorf("--version: %q", out)
	}
}

// TestBackup requests a backup and follows it until CloudNativePG (played by the test)
// completes it.
func TestBackup(t *testing.T) {
	ctx := context.Background()
	coop := newCoop(t, "backmeup", coopv1.DatabaseTierDedicated, true)
	createNamespace(t, coop.NamespaceName())

	done := make(chan result)
	go func() { done <- cli(t, "backup", "backmeup", "--timeout", "40s") }()
	// CloudNativePG cannot run here: the test writes the status it would write.
	backup := requestedBackup(t, coop.NamespaceName())
	if backup.Spec.Cluster.Name != "backmeup" || backup.Spec.Method != cnpgv1.BackupMethodPlugin || backup.Name != "backmeup-ondemand-20261120100000" {
		t.Errorf("backup: %s %+v", backup.Name, backup.Spec)
	}
	stopped := metav1.NewTime(fixedNow.Add(time.Minute))
	backup.Status.Phase = cnpgv1.BackupPhaseCompleted
	backup.Status.StoppedAt = &stopped
	if err := k8sClient.Status().Update(ctx, &backup); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.code != 0 || !strings.Contains(r.out, "Backup coop-backmeup/backmeup-ondemand-20261120100000 requested") || !strings.Contains(r.out, "completed at 2026-11-20T10:01:00Z") {
		t.Errorf("backup: exit %d\n%s%s", r.code, r.out, r.errs)
	}

	shared := newCoop(t, "shared-one", coopv1.DatabaseTierShared, true)
	if r := cli(t, "backup", shared.Name); r.code != ExitError || !strings.Contains(r.errs, "shared database tier") {
		t.Errorf("backup of a shared co-op: exit %d %s", r.code, r.errs)
	}
}

// requestedBackup waits (30 s at most) for the one Backup that the command under test
// requests in namespace ns.
func requestedBackup(t *testing.T, ns string) cnpgv1.Backup {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var list cnpgv1.BackupList
		if err := k8sClient.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		if len(list.Items) == 1 {
			return list.Items[0]
		}
		if time.Now().After(deadline) {
			t.Fatal("no Backup was created")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBackupFailure follows a backup that fails: exit 1 with CloudNativePG's error.
func TestBackupFailure(t *testing.T) {
	ctx := context.Background()
	coop := newCoop(t, "backfail", coopv1.DatabaseTierDedicated, true)
	createNamespace(t, coop.NamespaceName())
	done := make(chan result)
	go func() { done <- cli(t, "backup", "backfail", "--timeout", "40s") }()
	b := requestedBackup(t, coop.NamespaceName())
	b.Status.Phase = cnpgv1.BackupPhaseFailed
	b.Status.Error = "object store unreachable"
	if err := k8sClient.Status().Update(ctx, &b); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.code != ExitError || !strings.Contains(r.errs, "object store unreachable") {
		t.Errorf("failed backup: exit %d\n%s%s", r.code, r.out, r.errs)
	}
	// --no-wait returns at once; a second backup in the same second gets its own name.
	if r := cli(t, "backup", "backfail", "--no-wait"); r.code != 0 || !strings.Contains(r.out, "backfail-ondemand-20261120100000-2 requested") {
		t.Errorf("--no-wait: exit %d %s%s", r.code, r.out, r.errs)
	}
}

// TestSuspendResumeReconcileWrite checks what the commands write; the operator's side is
// tested in controllers/cooperative.
func TestSuspendResumeReconcileWrite(t *testing.T) {
	ctx := context.Background()
	newCoop(t, "pausable", coopv1.DatabaseTierDedicated, true)
	get := func() *coopv1.Cooperative {
		c := &coopv1.Cooperative{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Name: "pausable"}, c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	ok(t, "reconcile", "pausable", "--no-wait")
	if v := get().Annotations[coopv1.AnnotationReconcileRequestedAt]; v != fixedNow.Format(time.RFC3339Nano) {
		t.Errorf("reconcile annotation: %q", v)
	}
	ok(t, "suspend", "pausable", "--no-wait")
	if !get().Spec.Suspend {
		t.Error("suspend did not set spec.suspend")
	}
	if r := cli(t, "reconcile", "pausable", "--no-wait"); r.code != ExitError || !strings.Contains(r.errs, "is suspended") {
		t.Errorf("reconcile of a suspended co-op: exit %d %s", r.code, r.errs)
	}
	ok(t, "resume", "pausable", "--no-wait")
	if get().Spec.Suspend {
		t.Error("resume did not clear spec.suspend")
	}
	// Waiting with nobody to answer ends with the timeout's exit code.
	if r := cli(t, "reconcile", "pausable", "--timeout", "200ms"); r.code != ExitTimeout {
		t.Errorf("reconcile without an operator: exit %d %s", r.code, r.errs)
	}
}

// TestStatusFormatsAgree shows the hub in its formats.
func TestStatusFormatsAgree(t *testing.T) {
	ctx := context.Background()
	newCoop(t, "status-ready", coopv1.DatabaseTierDedicated, true)
	newCoop(t, "status-waiting", coopv1.DatabaseTierDedicated, false)
	suspended := newCoop(t, "status-paused", coopv1.DatabaseTierDedicated, true)
	suspended.Spec.Suspend = true
	if err := k8sClient.Update(ctx, suspended); err != nil {
		t.Fatal(err)
	}
	createReport(t)
	old := fixedNow
	fixedNow = time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)
	t.Cleanup(func() { fixedNow = old })

	var hs HubStatus
	if err := json.Unmarshal([]byte(ok(t, "status", "-o", "json")), &hs); err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, c := range hs.Cooperatives {
		states[c.Name] = c.State
	}
	if states["status-ready"] != StateReady || states["status-waiting"] != StateInProgress || states["status-paused"] != StateSuspended {
		t.Errorf("states: %v", states)
	}
	if hs.CostReport == nil || hs.CostReport.Period != "2026-11" || hs.CostReport.Cooperatives != 2 {
		t.Errorf("cost report: %+v", hs.CostReport)
	}
	records, err := csv.NewReader(strings.NewReader(ok(t, "status", "-o", "csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 1+len(hs.Cooperatives)+len(hs.Peers)+1 {
		t.Errorf("csv: %v", records)
	}
	table := ok(t, "status")
	hasReport := false
	for _, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		hasReport = hasReport || (len(f) > 2 && f[0] == "CostReport" && f[1] == "2026-11" && f[2] == "Open")
	}
	if !strings.Contains(table, "Co-ops: ") || !strings.Contains(table, "1 Suspended") || !hasReport {
		t.Errorf("table:\n%s", table)
	}
}

// TestHelpExitsZero: -h of a command exits 0.
func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"get", "-h"}, {"federation", "status", "--help"}, {"federation", "move", "--help"}} {
		if r := cli(t, args...); r.code != 0 {
			t.Errorf("%v: exit %d %s", args, r.code, r.errs)
		}
	}
}

// TestConditionsOrder keeps Ready first in the detail.
func TestConditionsOrder(t *testing.T) {
	conds := []metav1.Condition{{Type: coopv1.ConditionPlatformReady}, {Type: coopv1.ConditionReady}}
	if conditionOrder(conds[1].Type) > conditionOrder(conds[0].Type) {
		t.Error("Ready sorts after PlatformReady")
	}
}
