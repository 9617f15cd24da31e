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
	"bytes"
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// cutOff is the error client-go returns of a request whose context ended: a *url.Error
// wrapping the context's error.
func cutOff(ctx context.Context) error {
	return &url.Error{Op: "Get", URL: "https://hub.example:6443/apis/coop.cooperator.dev/v1alpha1/cooperatives/x", Err: ctx.Err()}
}

// TestExplainCutOffRequests: a request cut off by Ctrl-C is an interruption (exit 130), one
// cut off by the command's deadline a timeout (exit 6); both fail as a *url.Error, which
// was taken for a cluster that does not answer (exit 3).
func TestExplainCutOffRequests(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	for _, tc := range []struct {
		name string
		err  error
		code int
		want string
	}{
		{"Ctrl-C", cutOff(canceled), ExitInterrupted, "reading Cooperative x: interrupted"},
		{"deadline", cutOff(expired), ExitTimeout, "reading Cooperative x: timed out"},
		{"no answer", &url.Error{Op: "Get", URL: "https://hub.example:6443/", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}, ExitUnreachable, "cannot reach the cluster"},
	} {
		err := explain(tc.err, "reading Cooperative x")
		if ExitCode(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: exit %d, %v; want exit %d saying %q", tc.name, ExitCode(err), err, tc.code, tc.want)
		}
	}
}

// followedCoop is a home co-op whose switchover back home never completes: its status shows
// it a standby.
func followedCoop() *coopv1.Cooperative {
	return &coopv1.Cooperative{
		ObjectMeta: metav1.ObjectMeta{Name: "ctrl-c-coop", Generation: 1},
		Status: coopv1.CooperativeStatus{ObservedGeneration: 1, Federation: &coopv1.FederationStatus{
			Role: coopv1.RoleStandby, PrimaryRegion: "eu-south",
		}},
	}
}

// slowReads is a client whose reads, once armed, last until their context ends, and then
// fail as client-go's do.
func slowReads(coop *coopv1.Cooperative, armed *bool) client.Client {
	return fake.NewClientBuilder().WithScheme(scheme()).WithObjects(coop).WithStatusSubresource(coop).
		WithInterceptorFuncs(interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if *armed {
				<-ctx.Done()
				return cutOff(ctx)
			}
			return c.Get(ctx, key, obj, opts...)
		}}).Build()
}

// TestSwitchoverInterrupted: Ctrl-C while the command follows a switchover, between two
// reads or during one, says it was interrupted, that the operators carry the switchover on
// and how to follow it, and exits 130; not "not done after 15m" (exit 6), nor "cannot reach
// the cluster" (exit 3). The command's own --timeout during a read is a timeout (exit 6).
func TestSwitchoverInterrupted(t *testing.T) {
	for _, tc := range []struct {
		name        string
		slow        bool
		timeout     time.Duration
		cancelAfter time.Duration
		code        int
		want        []string
	}{
		{"Ctrl-C between two reads", false, time.Minute, 150 * time.Millisecond, ExitInterrupted,
			[]string{"ctrl-c-coop: interrupted (still ctrl-c-coop: here Standby)", "the operators carry it on without the command: follow it with cooperator federation status ctrl-c-coop"}},
		{"Ctrl-C during a read", true, time.Minute, 150 * time.Millisecond, ExitInterrupted,
			[]string{"ctrl-c-coop: interrupted", "follow it with cooperator federation status ctrl-c-coop"}},
		{"--timeout during a read", true, 200 * time.Millisecond, time.Minute, ExitTimeout,
			[]string{"ctrl-c-coop: not done after 200ms", "follow it with cooperator federation status ctrl-c-coop"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			armed := false
			c := slowReads(followedCoop(), &armed)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			timer := time.AfterFunc(tc.cancelAfter, cancel)
			defer timer.Stop()
			var out bytes.Buffer
			// The first read answers; the reads that follow are slow.
			w := &armingWriter{w: &out, arm: func() { armed = tc.slow }}
			err := switchover(ctx, c, w, "ctrl-c-coop", &federationFlags{to: "home", timeout: tc.timeout, interval: 20 * time.Millisecond})
			if ExitCode(err) != tc.code {
				t.Fatalf("exit %d (%v), want %d\n%s", ExitCode(err), err, tc.code, out.String())
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%q does not say %q", err, s)
				}
			}
			if strings.Contains(err.Error(), "cannot reach the cluster") {
				t.Errorf("%q blames the cluster", err)
			}
		})
	}
}

// armingWriter arms the slow reads once the command said what it asked, after its first
// read.
type armingWriter struct {
	w   *bytes.Buffer
	arm func()
}

func (a *armingWriter) Write(p []byte) (int, error) {
	a.arm()
	return a.w.Write(p)
}

// TestWaitInterrupted: the wait of backup, suspend, resume, reconcile, export and import
// says it was interrupted, and exits 130, when Ctrl-C comes between two looks or during
// one; not "not done after" its timeout (exit 6).
func TestWaitInterrupted(t *testing.T) {
	r := &root{interval: 20 * time.Millisecond, now: time.Now}
	for _, slow := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		timer := time.AfterFunc(150*time.Millisecond, cancel)
		var out bytes.Buffer
		looks := 0
		err := r.wait(ctx, &out, time.Hour, func(ctx context.Context) (bool, string, error) {
			looks++
			if slow && looks > 1 {
				<-ctx.Done()
				return false, "", explain(cutOff(ctx), "reading Backup b")
			}
			return false, "backup b: Running", nil
		})
		timer.Stop()
		cancel()
		if ExitCode(err) != ExitInterrupted || !strings.Contains(err.Error(), "interrupted (last: backup b: Running); the operator keeps working on it") {
			t.Errorf("Ctrl-C (during a look: %v): exit %d, %v", slow, ExitCode(err), err)
		}
	}
}

// TestExportInterrupted: Ctrl-C while the command waits for the operator's dump says that
// the CooperativeExport goes on, and how to take up its dump (--from), and exits 130.
func TestExportInterrupted(t *testing.T) {
	coop := newCoop(t, "ctrl-c-export", coopv1.DatabaseTierDedicated, true)
	createNamespace(t, coop.NamespaceName())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	timer := time.AfterFunc(time.Second, cancel)
	defer timer.Stop()
	r := cliWith(ctx, t, "cooperator", "export", coop.Name, "-o", t.TempDir()+"/x.tar.gz")
	ex := exportName(coop.Name, fixedNow)
	if r.code != ExitInterrupted || !strings.Contains(r.errs, "interrupted") ||
		!strings.Contains(r.errs, "the CooperativeExport "+coop.NamespaceName()+"/"+ex+" goes on without the command: run cooperator export "+coop.Name+" --from "+ex) {
		t.Errorf("export interrupted: exit %d\n%s\n%s", r.code, r.out, r.errs)
	}
}
