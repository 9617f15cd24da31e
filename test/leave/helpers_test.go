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

package leave

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cooperator-dev/cooperator/api/policy"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/cli"
	"github.com/cooperator-dev/cooperator/controllers/export"
	"github.com/cooperator-dev/cooperator/controllers/shared/logicalbackup"
	"github.com/cooperator-dev/cooperator/platform/server"
	"github.com/cooperator-dev/cooperator/test/harness"
	"github.com/cooperator-dev/cooperator/test/pgtest"
)

const adminToken = "staff-token"

// eventually retries f every 50ms until it returns nil or 30s passed.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// result is one run of the command line.
type result struct {
	out, errs string
	code      int
}

// runCLI runs the cooperator command line with a kubeconfig, as a user would.
func runCLI(ctx context.Context, kubeconfig string, args ...string) result {
	var out, errs bytes.Buffer
	root := cli.NewRootCommand(cli.Options{Version: "test", Out: &out, ErrOut: &errs, PollInterval: 50 * time.Millisecond})
	code := cli.Execute(ctx, root, append(args, "--kubeconfig", kubeconfig))
	return result{out.String(), errs.String(), code}
}

// platform is a co-op's platform service on a database of the test server, driven
// through its real HTTP handler.
type platform struct {
	t  *testing.T
	s  *server.Server
	db string
	// serving is the URL of the role it serves as.
	serving string
}

// newPlatform starts the co-op's platform on the database at dbURL as on a hub: it migrates
// as the database's owner (dbURL, the app Secret's), grants the serving role what serving
// needs (store.GrantServing, at every start) and serves as that role, a role of its own
// that owns nothing (pgtest.ServingRoleURL).
func newPlatform(t *testing.T, coop *coopv1.Cooperative, dbURL string) *platform {
	t.Helper()
	serving := pgtest.ServingRoleURL(t, dbURL)
	s, err := server.New(server.Config{DatabaseURL: serving, MigrateDatabaseURL: dbURL, AdminToken: adminToken,
		Policy: policy.FromCooperative(coop), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &platform{t: t, s: s, db: dbURL, serving: serving}
}

func (p *platform) call(want int, method, path, token string, body any) map[string]any {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			p.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	p.s.Handler().ServeHTTP(rec, req)
	if rec.Code != want {
		p.t.Fatalf("%s %s: %d, want %d: %s", method, path, rec.Code, want, rec.Body.String())
	}
	out := map[string]any{}
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return out
}

type member struct {
	id    int64
	token string
}

func (p *platform) member(name string, roles []string, class string, quals ...string) member {
	p.t.Helper()
	body := map[string]any{"name": name, "email": strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org", "roles": roles, "qualifications": quals, "stakeholderClass": class}
	out := p.call(201, "POST", "/v1/members", adminToken, body)
	return member{id: int64(out["member"].(map[string]any)["id"].(float64)), token: out["token"].(string)}
}

// seed gives the co-op members, completed rides with their payments, a tip, and a
// proposal with ballots: the data a co-op takes with it.
func (p *platform) seed() (rider member) {
	p.t.Helper()
	var drivers []member
	for _, n := range []string{"Dan Driver", "Eve Driver"} {
		d := p.member(n, []string{"worker"}, "drivers", "ride")
		p.call(200, "PUT", fmt.Sprintf("/v1/members/%d/availability", d.id), d.token, map[string]any{"available": true})
		drivers = append(drivers, d)
	}
	rider = p.member("Rita Rider", []string{"customer"}, "riders")
	for _, price := range []int64{1999, 2450, 1201} {
		id := int64(p.call(201, "POST", "/v1/work", rider.token, map[string]any{"kind": "ride", "details": map[string]string{"pickup": "Place Bellecour", "dropoff": "Part-Dieu"}, "priceCents": price})["id"].(float64))
		offer := p.call(200, "POST", fmt.Sprintf("/v1/work/%d/match", id), rider.token, nil)
		// Its driver takes it through: staff complete no paid work without the policy's
		// payments.staffLimitCents.
		token := ""
		for _, d := range drivers {
			if d.id == int64(offer["workerId"].(float64)) {
				token = d.token
			}
		}
		for _, step := range []string{"accept", "start", "complete"} {
			p.call(200, "POST", fmt.Sprintf("/v1/work/%d/%s", id, step), token, nil)
		}
	}
	prop := p.call(201, "POST", "/v1/proposals", drivers[0].token, map[string]any{"title": "Buy two cargo bikes", "body": "From the reserve fund."})
	for _, d := range drivers {
		p.call(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", int64(prop["id"].(float64))), d.token, map[string]any{"choice": "yes"})
	}
	return rider
}

// openSession writes a browser session of the members' app for member, as its sign-in
// does: a live credential, with its CSRF token in plain text.
func openSession(t *testing.T, dbURL string, member int64) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO web_sessions (id_hash, member_id, csrf_token, created_at, expires_at)
		VALUES (sha256(convert_to('session-' || $1::bigint, 'UTF8')), $1::bigint, 'csrf-of-a-live-session', now(), now() + interval '1 day')`, member); err != nil {
		t.Fatal(err)
	}
}

// tables are the platform's tables with their row counts, and the ledger's balance per
// account.
func snapshot(t *testing.T, dbURL string) (counts map[string]int64, balances map[string]int64) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	counts, balances = map[string]int64{}, map[string]int64{}
	rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	for _, tbl := range tables {
		var n int64
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM "`+tbl+`"`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		counts[tbl] = n
	}
	rows, err = conn.Query(ctx, `SELECT account, sum(amount_cents)::bigint FROM ledger_entries GROUP BY account`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var a string
		var n int64
		if err := rows.Scan(&a, &n); err != nil {
			t.Fatal(err)
		}
		balances[a] = n
	}
	return counts, balances
}

// terminated writes the Pod of a failed Job whose container ended with message, as the
// Job controller creates it and the kubelet reports it (no pod runs here).
func terminated(t *testing.T, h *hub, job *batchv1.Job, container, message string) {
	t.Helper()
	ctx := context.Background()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: job.Namespace, Name: job.Name + "-run",
		Labels: map[string]string{batchv1.JobNameLabel: job.Name}}, Spec: *job.Spec.Template.Spec.DeepCopy()}
	if err := h.k8s.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	pod.Status.Phase = corev1.PodFailed
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: container, State: corev1.ContainerState{
		Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", Message: message}}}}
	if err := h.k8s.Status().Update(ctx, pod); err != nil {
		t.Fatal(err)
	}
}

// playJob runs a Job's containers here as its pod would run them (init containers first,
// each to its end): a shell script with the machine's PostgreSQL client binaries, or the
// cooperator binary's backup-logical subcommand through the same code. The environment
// comes from the Job's own env, Secrets read as the kubelet reads them; the pod's dump
// volume becomes a temp folder. Then it writes the Job's status as the Job controller
// would: succeeded, or failed when a container failed.
func playJob(t *testing.T, h *hub, namespace, name string) error {
	t.Helper()
	ctx := context.Background()
	job := &batchv1.Job{}
	eventually(t, "the Job "+namespace+"/"+name, func() error {
		return h.k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, job)
	})
	vol := t.TempDir()
	spec := job.Spec.Template.Spec
	var runErr error
	for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		env := map[string]string{}
		for _, e := range c.Env {
			v := e.Value
			if ref := e.ValueFrom; ref != nil && ref.SecretKeyRef != nil {
				s := &corev1.Secret{}
				if err := h.k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.SecretKeyRef.Name}, s); err != nil {
					t.Fatalf("container %s: %v", c.Name, err)
				}
				v = string(s.Data[ref.SecretKeyRef.Key])
			}
			env[e.Name] = strings.ReplaceAll(v, export.DumpDir, vol)
		}
		args := make([]string, len(c.Args))
		for i, a := range c.Args {
			args[i] = strings.ReplaceAll(a, export.DumpDir, vol)
		}
		if len(c.Command) == 3 && c.Command[0] == "sh" && c.Command[1] == "-c" {
			// Its termination message, which the kubelet reads from /dev/termination-log.
			env["TERMINATION_LOG"] = filepath.Join(vol, c.Name+".termination-log")
			if out, err := runScript(t, c.Command[2], env); err != nil {
				runErr = fmt.Errorf("container %s: %w: %s", c.Name, err, out)
				if msg, rerr := os.ReadFile(env["TERMINATION_LOG"]); rerr == nil && len(msg) > 0 {
					terminated(t, h, job, c.Name, string(msg))
				}
				break
			}
			continue
		}
		if len(args) == 0 || args[0] != "backup-logical" {
			t.Fatalf("container %s runs %v: the test does not know how to play it", c.Name, args)
		}
		for k, v := range env {
			t.Setenv(k, v)
		}
		if err := logicalbackup.Main(ctx, args[1:]); err != nil {
			runErr = fmt.Errorf("container %s: %w", c.Name, err)
			break
		}
	}
	if err := harness.SimulateJobDone(ctx, h.k8s, namespace, name, runErr == nil); err != nil {
		t.Fatal(err)
	}
	return runErr
}

// runScript runs a container's shell script here, with the machine's PostgreSQL client
// binaries first in PATH and env added to this process's environment, and returns what it
// wrote (stdout and stderr).
func runScript(t *testing.T, script string, env map[string]string) ([]byte, error) {
	t.Helper()
	bin, err := pgtest.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd.CombinedOutput()
}

// listDir is the names of the files of a folder.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// clientOf is a client as the user of kubeconfig.
func clientOf(t *testing.T, h *hub, kubeconfig string) client.Client {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: h.k8s.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// gone is nil once obj is not found on h, for eventually.
func gone(h *hub, obj client.Object) error {
	err := h.k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj.DeepCopyObject().(client.Object))
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("reading %s: %w", obj.GetName(), err)
	}
	return fmt.Errorf("%s still there", obj.GetName())
}

// warnedAbout is nil once h holds a Warning event, in obj's namespace, regarding obj, of
// reason, whose note holds every one of notes.
func warnedAbout(h *hub, obj client.Object, reason string, notes ...string) error {
	events := &eventsv1.EventList{}
	if err := h.k8s.List(context.Background(), events, client.InNamespace(obj.GetNamespace())); err != nil {
		return err
	}
	for _, e := range events.Items {
		if e.Regarding.Name != obj.GetName() || e.Type != corev1.EventTypeWarning || e.Reason != reason {
			continue
		}
		if !slices.ContainsFunc(notes, func(n string) bool { return !strings.Contains(e.Note, n) }) {
			return nil
		}
	}
	return fmt.Errorf("no Warning event %s about %s saying %q", reason, obj.GetName(), notes)
}
