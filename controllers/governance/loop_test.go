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

package governance_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/cooperator-dev/cooperator/api/policy"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/controllers/governance"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/platform/server"
	tally "github.com/cooperator-dev/cooperator/platform/server/governance"
	"github.com/cooperator-dev/cooperator/platform/server/store"
	"github.com/cooperator-dev/cooperator/test/harness"
	"github.com/cooperator-dev/cooperator/test/harness/platformapi"
	"github.com/cooperator-dev/cooperator/test/pgtest"
)

// The loop of governed changes with the real parts: an envtest API server with the whole
// operator (the Cooperative controller writes coop-policy, the governance controller
// applies passed proposals), a real PostgreSQL per co-op, and the platform service in this
// process, called over HTTP. What cannot run here is played by the test and said so:
// CloudNativePG's app Secret of each co-op (its uri points at the co-op's Cluster, which
// the operator's DSN hook maps to the co-op's test database) and the kubelet's copy of
// the coop-policy ConfigMap into the platform's mounted file.

func TestMain(m *testing.M) {
	code := pgtest.Run(m)
	stopOperator()
	os.Exit(code)
}

const adminToken = "staff-token"

var (
	opOnce  sync.Once
	opErr   error
	opEnv   *harness.Env
	opStop  context.CancelFunc
	opDone  chan error
	dsnMu   sync.Mutex
	dsnByCo = map[string]string{}
)

// operator starts, once for the package, the API server and the operator with every
// controller, reading co-op databases every 200ms.
func operator(t *testing.T) client.Client {
	t.Helper()
	opOnce.Do(func() {
		ctrl.SetLogger(zap.New(zap.WriteTo(io.Discard)))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		opEnv, opErr = harness.Start(ctx, harness.Options{ProjectCRDs: true, Scheme: manager.Scheme()})
		if opErr != nil {
			return
		}
		c := opEnv.Client
		hub := hubconfig.Default()
		hub.RecheckInterval = hubconfig.Duration{Duration: time.Second}
		if opErr = setUpHub(ctx, c, hub); opErr != nil {
			return
		}
		opts := manager.DefaultOptions()
		opts.Hub = hub
		opts.MetricsBindAddress, opts.HealthProbeBindAddress, opts.Webhooks = "0", "0", false
		opts.GovernanceInterval = 200 * time.Millisecond
		opts.GovernanceDSN = testDSN
		mgr, err := manager.New(opEnv.Cfg, opts)
		if err != nil {
			opErr = err
			return
		}
		var mctx context.Context
		mctx, opStop = context.WithCancel(context.Background())
		opDone = make(chan error, 1)
		go func() { opDone <- mgr.Start(mctx) }()
	})
	if opErr != nil {
		t.Fatalf("starting the operator: %v", opErr)
	}
	return opEnv.Client
}

// testDSN points the operator's connection to a co-op's database at the test's PostgreSQL
// database of that co-op (no database pod runs here).
func testDSN(coop *coopv1.Cooperative, uri string) string {
	dsnMu.Lock()
	defer dsnMu.Unlock()
	if dsn, ok := dsnByCo[coop.Name]; ok && strings.Contains(uri, coop.Name+"-rw."+coop.NamespaceName()) {
		return dsn
	}
	return uri
}

func stopOperator() {
	if opStop != nil {
		opStop()
		if err := <-opDone; err != nil {
			fmt.Fprintf(os.Stderr, "operator stopped with: %v\n", err)
		}
	}
	if opEnv != nil {
		_ = opEnv.Stop()
	}
}

func setUpHub(ctx context.Context, c client.Client, hub hubconfig.Config) error {
	return harness.SeedHub(ctx, c, &hub, "key", "secret", "config/rbac/coop_admin_role.yaml")
}

// eventually polls check every 50ms until it returns nil or 60s pass.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	var err error
	for end := time.Now().Add(60 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if err = check(); err == nil {
			return
		}
	}
	t.Fatalf("%s: %v", what, err)
}

// coop is one co-op of a test: its Cooperative, database and platform service.
type coop struct {
	t          *testing.T
	k8s        client.Client
	name       string
	dsn        string
	srv        *server.Server
	http       *httptest.Server
	clock      *dbClock
	policyFile string
}

// newCoop creates the Cooperative, plays CloudNativePG's app Secret, and starts the
// platform service on the co-op's database with the policy the operator wrote.
func newCoop(t *testing.T, name string, g coopv1.Governance) *coop {
	t.Helper()
	k8s := operator(t)
	ctx := context.Background()
	c := &coop{t: t, k8s: k8s, name: name, dsn: pgtest.NewDB(t), clock: &dbClock{FakeClock: clocktesting.NewFakeClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))}}
	dsnMu.Lock()
	_, taken := dsnByCo[name]
	dsnByCo[name] = c.dsn
	dsnMu.Unlock()
	if taken {
		// Its namespace may still be terminating: the Secrets written there would be refused.
		t.Fatalf("co-op %s is another test's: give each test a co-op of its own name", name)
	}
	obj := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: coopv1.CooperativeSpec{
		Vertical: coopv1.VerticalDelivery, Plan: "small",
		FeeSplit:   coopv1.FeeSplit{PlatformFeeBasisPoints: 300, Funds: []coopv1.Fund{{Name: "hardship", BasisPoints: 100}}},
		Governance: g,
	}}
	if err := k8s.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), obj) })
	ns := obj.NamespaceName()
	eventually(t, "the co-op namespace", func() error { return k8s.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{}) })
	// [simulated] CloudNativePG's app Secret, with the uri of the co-op's Cluster.
	if err := k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-app"}, StringData: map[string]string{
		"uri": fmt.Sprintf("postgresql://app:app-password@%s-rw.%s:5432/app", name, ns),
	}}); err != nil {
		t.Fatal(err)
	}
	c.policyFile = filepath.Join(t.TempDir(), policy.Key)
	c.syncPolicy(300)
	s, err := server.New(server.Config{DatabaseURL: c.dsn, AdminToken: adminToken, PolicyFile: c.policyFile,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: c.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c.srv = s
	c.clock.pin = func(at time.Time) {
		t.Helper()
		if err := store.PinGovernanceClock(context.Background(), s.Pool(), at); err != nil {
			t.Fatal(err)
		}
	}
	c.clock.pin(c.clock.Now())
	c.http = httptest.NewServer(s.Handler())
	t.Cleanup(c.http.Close)
	return c
}

// dbClock is the test's clock of the platform service and of the co-op's database, which
// stamps a vote's times and closes it at its deadline (its owner pins governance_now()).
type dbClock struct {
	*clocktesting.FakeClock
	pin func(time.Time)
}

// Step moves both clocks.
func (c *dbClock) Step(d time.Duration) {
	c.FakeClock.Step(d)
	c.pin(c.Now())
}

// SetTime sets both clocks.
func (c *dbClock) SetTime(t time.Time) {
	c.FakeClock.SetTime(t)
	c.pin(t)
}

// syncPolicy waits until the coop-policy ConfigMap carries the platform fee want, then
// plays the kubelet: it copies the ConfigMap into the platform's mounted file.
func (c *coop) syncPolicy(want int64) {
	c.t.Helper()
	var data map[string]string
	eventually(c.t, fmt.Sprintf("coop-policy with a platform fee of %d", want), func() error {
		var cm corev1.ConfigMap
		if err := c.k8s.Get(context.Background(), client.ObjectKey{Namespace: coopv1.NamespacePrefix + c.name, Name: policy.ConfigMapName}, &cm); err != nil {
			return err
		}
		doc, err := policy.Parse([]byte(cm.Data[policy.Key]))
		if err != nil {
			return err
		}
		if doc.FeeSplit.PlatformFeeBasisPoints != want {
			return fmt.Errorf("fee %d", doc.FeeSplit.PlatformFeeBasisPoints)
		}
		data = cm.Data
		return nil
	})
	if err := policy.WriteFiles(filepath.Dir(c.policyFile), data); err != nil {
		c.t.Fatal(err)
	}
	if c.srv != nil {
		if err := c.srv.Policy().Reload(); err != nil {
			c.t.Fatal(err)
		}
	}
}

func (c *coop) api() platformapi.T {
	return platformapi.T{Client: platformapi.Client{BaseURL: c.http.URL}, TB: c.t}
}

func (c *coop) call(method, path, token string, body any, headers ...string) (int, map[string]any) {
	c.t.Helper()
	return c.api().Call(method, path, token, body, headers...)
}

func (c *coop) must(want int, method, path, token string, body any, headers ...string) map[string]any {
	c.t.Helper()
	return c.api().Must(want, method, path, token, body, headers...)
}

type member struct {
	id    int64
	token string
}

func (c *coop) member(name string, roles []string, class string) member {
	c.t.Helper()
	body := map[string]any{"name": name, "email": strings.ReplaceAll(strings.ToLower(name), " ", ".") + "@example.org", "roles": roles}
	if class != "" {
		body["stakeholderClass"] = class
	}
	out := c.must(201, "POST", "/v1/members", adminToken, body)
	return member{id: int64(out["member"].(map[string]any)["id"].(float64)), token: out["token"].(string)}
}

func (c *coop) get() *coopv1.Cooperative {
	c.t.Helper()
	var obj coopv1.Cooperative
	if err := c.k8s.Get(context.Background(), client.ObjectKey{Name: c.name}, &obj); err != nil {
		c.t.Fatal(err)
	}
	return &obj
}

func (c *coop) proposal(id int64, token string) map[string]any {
	return c.must(200, "GET", fmt.Sprintf("/v1/proposals/%d", id), token, nil)["proposal"].(map[string]any)
}

var newFee = map[string]any{"platformFeeBasisPoints": 200, "funds": []any{map[string]any{"name": "hardship", "basisPoints": 150}}}

// TestGovernedChangeLoop: under each model, members vote a lower fee in the platform
// service; it closes at its deadline; the operator re-tallies and applies it; coop-policy
// and then the platform's fee split follow; a payment after that uses the new fee.
func TestGovernedChangeLoop(t *testing.T) {
	cases := []struct {
		model coopv1.GovernanceModel
		// setup admits the electorate before the proposal opens and returns how they vote
		// and who is admitted after it opened.
		setup func(c *coop) (vote func(id int64) (late member))
	}{
		{coopv1.GovernanceMultiStakeholder, func(c *coop) func(int64) member {
			d1, d2 := c.member("Dan Courier", []string{"worker"}, "couriers"), c.member("Eve Courier", []string{"worker"}, "couriers")
			r := c.member("Rita Client", []string{"customer"}, "clients")
			c.member("Cleo Client", []string{"customer"}, "clients") // does not vote
			return func(id int64) member {
				c.ballot(id, d1, "yes")
				c.ballot(id, d2, "yes")
				c.ballot(id, r, "no")
				return c.member("Late Courier", []string{"worker"}, "couriers")
			}
		}},
		{coopv1.GovernanceOneMemberOneVote, func(c *coop) func(int64) member {
			a, b, x := c.member("Ana Worker", []string{"worker"}, ""), c.member("Bea Worker", []string{"worker"}, ""), c.member("Cy Worker", []string{"worker"}, "")
			c.member("Dee Worker", []string{"worker"}, "") // does not vote
			return func(id int64) member {
				c.ballot(id, a, "yes")
				c.ballot(id, b, "yes")
				c.ballot(id, x, "no")
				return c.member("Late Worker", []string{"worker"}, "")
			}
		}},
		{coopv1.GovernanceConsent, func(c *coop) func(int64) member {
			a, b := c.member("Ana Worker", []string{"worker"}, ""), c.member("Bea Worker", []string{"worker"}, "")
			c.member("Cy Worker", []string{"worker"}, "")
			return func(id int64) member {
				c.ballot(id, a, "yes")
				c.ballot(id, b, "abstain")
				return c.member("Late Worker", []string{"worker"}, "")
			}
		}},
		{coopv1.GovernanceDelegate, func(c *coop) func(int64) member {
			a, b, x := c.member("Ana Worker", []string{"worker"}, ""), c.member("Bea Worker", []string{"worker"}, ""), c.member("Cy Worker", []string{"worker"}, "")
			c.must(200, "PUT", "/v1/delegation", b.token, map[string]any{"delegateId": a.id})
			c.must(200, "PUT", "/v1/delegation", x.token, map[string]any{"delegateId": a.id})
			return func(id int64) member {
				c.ballot(id, a, "yes")
				return c.member("Late Worker", []string{"worker"}, "")
			}
		}},
	}
	for i, tc := range cases {
		t.Run(string(tc.model), func(t *testing.T) {
			g := coopv1.Governance{Model: tc.model, QuorumPercent: 50, ApprovalPercent: 60, GovernedFields: []coopv1.GovernedField{"feeSplit", "plan"}}
			if tc.model == coopv1.GovernanceMultiStakeholder {
				g.StakeholderClasses = []coopv1.StakeholderClass{{Name: "couriers", Weight: 70}, {Name: "clients", Weight: 30}}
			}
			c := newCoop(t, fmt.Sprintf("loop-%d", i), g)
			// The proposer is on the roll (a worker, or a courier under multi-stakeholder).
			proposer := c.member("Pat Proposer", []string{"worker"}, map[bool]string{true: "couriers"}[tc.model == coopv1.GovernanceMultiStakeholder])
			vote := tc.setup(c)
			p := c.must(201, "POST", "/v1/proposals", proposer.token, map[string]any{"title": "Lower the fee to 2 %", "field": "feeSplit", "value": newFee})
			id := int64(p["id"].(float64))
			c.ballot(id, proposer, "yes")
			late := vote(id)
			// Admitted after the proposal opened: not on its roll.
			if code, out := c.call("PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), late.token, map[string]any{"choice": "yes"}); code != 403 {
				t.Fatalf("a member admitted after opening voted: %d %v", code, out)
			}
			// Staff cannot close early: not every member of the roll voted.
			if code, out := c.call("POST", fmt.Sprintf("/v1/proposals/%d/close", id), adminToken, nil); code != 409 {
				t.Fatalf("staff closed early: %d %v", code, out)
			}
			c.clock.Step(7*24*time.Hour + time.Minute)
			closed := c.proposal(id, proposer.token)
			if closed["status"] != "closed" || closed["result"].(map[string]any)["passed"] != true {
				t.Fatalf("at the deadline: %v", closed)
			}
			// The operator applies it.
			eventually(t, "the new fee in the spec", func() error {
				obj := c.get()
				if obj.Spec.FeeSplit.PlatformFeeBasisPoints != 200 || obj.Status.Governance == nil || len(obj.Status.Governance.History) == 0 {
					return fmt.Errorf("spec %+v status %+v", obj.Spec.FeeSplit, obj.Status.Governance)
				}
				return nil
			})
			obj := c.get()
			rec := obj.Status.Governance.History[0]
			if rec.ID != id || rec.Field != "feeSplit" || !strings.Contains(rec.OldValue, `"platformFeeBasisPoints":300`) ||
				!strings.Contains(rec.NewValue, `"platformFeeBasisPoints":200`) || !strings.Contains(rec.Tally, string(tc.model)) {
				t.Fatalf("record %+v", rec)
			}
			if cond := meta.FindStatusCondition(obj.Status.Conditions, coopv1.ConditionGoverned); cond == nil || cond.Status != metav1.ConditionTrue || cond.Reason != coopv1.ReasonChangesApplied {
				t.Fatalf("Governed %+v", cond)
			}
			if *obj.Spec.FeeSplit.SurgeToWorkersPercent != 100 || len(obj.Spec.FeeSplit.Funds) != 1 || obj.Spec.FeeSplit.Funds[0].BasisPoints != 150 {
				t.Fatalf("fee split %+v", obj.Spec.FeeSplit)
			}
			// The members see it applied.
			eventually(t, "the application written back", func() error {
				if app, _ := c.proposal(id, proposer.token)["application"].(map[string]any); app == nil || app["state"] != "applied" {
					return fmt.Errorf("application %v", app)
				}
				return nil
			})
			// coop-policy follows, then the platform; a payment uses the new fee.
			c.syncPolicy(200)
			if fee := c.must(200, "GET", "/v1/policy", proposer.token, nil)["feeSplit"].(map[string]any)["platformFeeBasisPoints"]; fee != float64(200) {
				t.Fatalf("platform fee %v", fee)
			}
			// Members pay for completed work they requested: a delivery by a courier, paid after
			// the vote.
			class := map[bool]string{true: "clients"}[tc.model == coopv1.GovernanceMultiStakeholder]
			payer := c.member("Paula Payer", []string{"customer"}, class)
			courier := c.member("Cora Courier", []string{"worker"}, map[bool]string{true: "couriers"}[tc.model == coopv1.GovernanceMultiStakeholder])
			c.must(200, "PATCH", fmt.Sprintf("/v1/members/%d", courier.id), adminToken, map[string]any{"qualifications": []string{"delivery"}})
			c.must(200, "PUT", fmt.Sprintf("/v1/members/%d/availability", courier.id), courier.token, map[string]any{"available": true})
			work := int64(c.must(201, "POST", "/v1/work", payer.token, map[string]any{"kind": "delivery",
				"details": map[string]string{"pickup": "Halles Paul Bocuse", "dropoff": "Croix-Rousse"}, "priceCents": 10000})["id"].(float64))
			if offer := c.must(200, "POST", fmt.Sprintf("/v1/work/%d/match", work), payer.token, nil); int64(offer["workerId"].(float64)) != courier.id {
				t.Fatalf("offered to %v, want the courier %d", offer["workerId"], courier.id)
			}
			for _, step := range []string{"accept", "start", "complete"} {
				c.must(200, "POST", fmt.Sprintf("/v1/work/%d/%s", work, step), courier.token, nil)
			}
			pay := c.must(201, "POST", "/v1/payments", payer.token, map[string]any{"workId": work, "workerId": courier.id, "amountCents": 10000}, "Idempotency-Key", "after-the-vote")
			if fee := pay["split"].(map[string]any)["platformFeeCents"]; fee != float64(200) {
				t.Fatalf("payment after the vote: %v", pay)
			}
		})
	}
}

func (c *coop) ballot(id int64, m member, choice string) {
	c.t.Helper()
	c.must(200, "PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), m.token, map[string]any{"choice": choice})
}

// TestForgedResultRefused: a proposal marked passed in the database without the ballots
// to back it is refused by the operator's re-tally: nothing applied, a condition and an
// event say so, and the members see it refused.
func TestForgedResultRefused(t *testing.T) {
	c := newCoop(t, "forged", coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50,
		GovernedFields: []coopv1.GovernedField{"feeSplit"}})
	a := c.member("Ana Worker", []string{"worker"}, "")
	c.member("Bea Worker", []string{"worker"}, "")
	id := int64(c.must(201, "POST", "/v1/proposals", a.token, map[string]any{"title": "Fee to 0", "field": "feeSplit",
		"value": map[string]any{"platformFeeBasisPoints": 0}})["id"].(float64))
	// Whoever holds the database writes a passed result nobody voted for.
	forged := `{"model":"one-member-one-vote","passed":true,"quorumReached":true,"turnoutPercent":"100.00","approvalPercent":"100.00",
		"reason":"quorum reached and approval 100.00% ≥ 50%","classes":[{"class":"members","eligible":2,"yes":2,"no":0,"abstain":0}]}`
	if _, err := c.srv.Pool().Exec(context.Background(), `UPDATE proposals SET status = 'closed', result = $2, closed_at = now(), application = 'pending' WHERE id = $1`, id, forged); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the refusal", func() error {
		obj := c.get()
		cond := meta.FindStatusCondition(obj.Status.Conditions, coopv1.ConditionGoverned)
		if cond == nil || cond.Status != metav1.ConditionFalse || cond.Reason != coopv1.ReasonTallyMismatch {
			return fmt.Errorf("Governed %+v", cond)
		}
		return nil
	})
	obj := c.get()
	if obj.Spec.FeeSplit.PlatformFeeBasisPoints != 300 || (obj.Status.Governance != nil && len(obj.Status.Governance.History) > 0) {
		t.Fatalf("a forged result was applied: %+v %+v", obj.Spec.FeeSplit, obj.Status.Governance)
	}
	// The refusal stays on the cluster, whatever the database and the next outcome say.
	if g := obj.Status.Governance; g == nil || len(g.Refused) != 1 || g.Refused[0].ID != id || g.Refused[0].Field != "feeSplit" ||
		g.Refused[0].Reason != coopv1.ReasonTallyMismatch || !strings.Contains(g.Refused[0].Message, "re-tally") || g.Refused[0].DecidedAt.IsZero() {
		t.Errorf("status.governance %+v: want the refusal of proposal %d in refused", g, id)
	}
	// The refusal reaches the platform's database in a write of its own, apart from the
	// condition: wait for it too.
	eventually(t, "the refusal in the platform", func() error {
		app := c.proposal(id, a.token)["application"].(map[string]any)
		if app["state"] != "refused" || !strings.Contains(fmt.Sprint(app["message"]), "re-tally") {
			return fmt.Errorf("application %v", app)
		}
		return nil
	})
	var events corev1.EventList
	eventually(t, "a warning event", func() error {
		if err := c.k8s.List(context.Background(), &events, client.InNamespace("default")); err != nil {
			return err
		}
		for _, e := range events.Items {
			if e.InvolvedObject.Name == c.name && e.Reason == coopv1.ReasonTallyMismatch && e.Type == corev1.EventTypeWarning {
				return nil
			}
		}
		return fmt.Errorf("%d events, none TallyMismatch", len(events.Items))
	})
}

// TestAnEarlyCloseIsRefused: a proposal whose deadline whoever holds the database moved
// to an hour after it opened closes then, with a true tally of the ballots cast by then;
// the operator refuses it all the same, because it closed before the co-op's minimum
// voting period while a member of its roll had not voted. The same proposal closed early
// by staff once everyone voted is applied (TestImpossibleChangeReportedBack and the
// interrupted-change tests close so).
func TestAnEarlyCloseIsRefused(t *testing.T) {
	c := newCoop(t, "early", coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50,
		GovernedFields: []coopv1.GovernedField{"feeSplit"}, MinimumVotingPeriodHours: 24})
	a := c.member("Ana Worker", []string{"worker"}, "")
	c.member("Bea Worker", []string{"worker"}, "") // does not vote
	id := c.propose(a, "feeSplit", newFee)
	if _, err := c.srv.Pool().Exec(context.Background(), `UPDATE proposals SET deadline = created_at + interval '1 hour' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	c.clock.Step(2 * time.Hour)
	p := c.proposal(id, a.token) // a read closes what is due
	if p["status"] != "closed" || p["result"].(map[string]any)["passed"] != true {
		t.Fatalf("the proposal did not close passed at its moved deadline: %v", p)
	}
	cond := c.governedIs(metav1.ConditionFalse, coopv1.ReasonClosedEarly, "minimum voting period of 24 hours", "1 members")
	if obj := c.get(); obj.Spec.FeeSplit.PlatformFeeBasisPoints != 300 || (obj.Status.Governance != nil && len(obj.Status.Governance.History) > 0) {
		t.Fatalf("a proposal closed early was applied: %+v %+v (Governed %s)", obj.Spec.FeeSplit, obj.Status.Governance, cond.Message)
	}
	eventually(t, "the refusal in the platform", func() error {
		if app := c.application(id, a); app != "refused" {
			return fmt.Errorf("application %s", app)
		}
		return nil
	})
}

// TestARaisedMinimumKeepsTheVotesOpenUnderIt: the hub raises the co-op's minimum voting
// period (break-glass, outside any vote) while a proposal opened under the old one is open;
// the operator records the raise, and the proposal, closed at its own deadline with a
// member who did not vote, is applied: it kept the rules it opened under. (Without the
// record, the history holds no vote that raised it, and it would be refused as ClosedEarly.)
func TestARaisedMinimumKeepsTheVotesOpenUnderIt(t *testing.T) {
	c := newCoop(t, "raised", coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50,
		GovernedFields: []coopv1.GovernedField{"feeSplit"}, MinimumVotingPeriodHours: 24})
	a := c.member("Ana Worker", []string{"worker"}, "")
	c.member("Bea Worker", []string{"worker"}, "") // does not vote
	eventually(t, "the minimum in status", func() error {
		if g := c.get().Status.Governance; g == nil || g.MinimumVotingPeriodHours != 24 {
			return fmt.Errorf("governance status %+v", g)
		}
		return nil
	})
	id := c.propose(a, "feeSplit", newFee)
	c.patchSpec(`{"spec":{"governance":{"minimumVotingPeriodHours":48}}}`)
	eventually(t, "the raise in status", func() error {
		g := c.get().Status.Governance
		if g == nil || g.MinimumVotingPeriodHours != 48 || len(g.VotingPeriodRaises) != 1 || g.VotingPeriodRaises[0].FromHours != 24 {
			return fmt.Errorf("governance status %+v", g)
		}
		return nil
	})
	c.clock.Step(25 * time.Hour)
	if p := c.proposal(id, a.token); p["status"] != "closed" {
		t.Fatalf("the proposal did not close at its deadline: %v", p)
	}
	if rec := c.record(id); rec.Field != "feeSplit" {
		t.Fatalf("record %+v", rec)
	}
	if obj := c.get(); obj.Spec.FeeSplit.PlatformFeeBasisPoints != 200 {
		t.Fatalf("fee %d after the proposal opened under the old minimum passed", obj.Spec.FeeSplit.PlatformFeeBasisPoints)
	}
}

// TestARestoredDatabaseAppliesNoOldChangeAgain: a proposal that waits in the co-op's
// database but closed well before the newest one the operator decided, and is not in the
// history, is what a database restored to an earlier point shows (here: closed on a clock
// set three hours back): it is refused, not applied over the changes decided since.
func TestARestoredDatabaseAppliesNoOldChangeAgain(t *testing.T) {
	c := newCoop(t, "restore-guard", coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50,
		GovernedFields: []coopv1.GovernedField{"feeSplit"}, MinimumVotingPeriodHours: 24})
	a := c.member("Ana Worker", []string{"worker"}, "")
	first := c.propose(a, "feeSplit", newFee)
	c.closeNow(first)
	c.record(first)
	eventually(t, "decidedThrough", func() error {
		if g := c.get().Status.Governance; g == nil || g.DecidedThrough == nil {
			return fmt.Errorf("governance status %+v", g)
		}
		return nil
	})

	old := c.propose(a, "feeSplit", map[string]any{"platformFeeBasisPoints": 100, "funds": []any{map[string]any{"name": "hardship", "basisPoints": 50}}})
	c.clock.SetTime(c.clock.Now().Add(-3 * time.Hour))
	c.closeNow(old)
	cond := c.governedIs(metav1.ConditionFalse, coopv1.ReasonClosedBeforeDecided, "restored to an earlier point")
	eventually(t, "the refusal in the platform", func() error {
		if app := c.application(old, a); app != "refused" {
			return fmt.Errorf("application %s", app)
		}
		return nil
	})
	if obj := c.get(); obj.Spec.FeeSplit.PlatformFeeBasisPoints != 200 {
		t.Fatalf("an old change was applied again: fee %d (Governed %s)", obj.Spec.FeeSplit.PlatformFeeBasisPoints, cond.Message)
	}
}

// TestAFutureCloseDoesNotHoldTheVotesUp: a proposal closed on a platform clock two days
// ahead of the operator's counts, for the restore guard, as closed at the operator's
// time: the proposals that close after it on a right clock are applied, not refused as
// from a restored database.
func TestAFutureCloseDoesNotHoldTheVotesUp(t *testing.T) {
	c := newCoop(t, "ahead", coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50,
		GovernedFields: []coopv1.GovernedField{"feeSplit"}, MinimumVotingPeriodHours: 24})
	a := c.member("Ana Worker", []string{"worker"}, "")
	c.clock.SetTime(time.Now().Add(48 * time.Hour))
	ahead := c.propose(a, "feeSplit", newFee)
	c.closeNow(ahead)
	c.record(ahead)
	if g := c.get().Status.Governance; g.DecidedThrough == nil || g.DecidedThrough.After(time.Now().Add(time.Minute)) {
		t.Fatalf("decidedThrough %v, past the operator's clock", g.DecidedThrough)
	}
	c.clock.SetTime(time.Now())
	next := c.propose(a, "feeSplit", map[string]any{"platformFeeBasisPoints": 250, "funds": []any{map[string]any{"name": "hardship", "basisPoints": 100}}})
	c.closeNow(next)
	c.record(next)
	if obj := c.get(); obj.Spec.FeeSplit.PlatformFeeBasisPoints != 250 {
		t.Fatalf("fee %d after the proposal closed on a right clock", obj.Spec.FeeSplit.PlatformFeeBasisPoints)
	}
}

// TestImpossibleChangeReportedBack: a passed change to a plan, or a platform template, that
// does not exist is not applied and the members see why.
func TestImpossibleChangeReportedBack(t *testing.T) {
	c := newCoop(t, "noplan", coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50,
		GovernedFields: []coopv1.GovernedField{"plan", "platform"}, MinimumVotingPeriodHours: 24})
	a := c.member("Ana Worker", []string{"worker"}, "")
	id := int64(c.must(201, "POST", "/v1/proposals", a.token, map[string]any{"title": "Go gold", "field": "plan", "value": "gold"})["id"].(float64))
	c.ballot(id, a, "yes")
	c.must(200, "POST", fmt.Sprintf("/v1/proposals/%d/close", id), adminToken, nil) // everyone on the roll voted
	eventually(t, "the failure written back", func() error {
		app, _ := c.proposal(id, a.token)["application"].(map[string]any)
		if app == nil || app["state"] != "failed" || !strings.Contains(fmt.Sprint(app["message"]), `HostingPlan "gold" does not exist`) {
			return fmt.Errorf("application %v", app)
		}
		return nil
	})
	obj := c.get()
	cond := meta.FindStatusCondition(obj.Status.Conditions, coopv1.ConditionGoverned)
	if obj.Spec.Plan != "small" || cond == nil || cond.Reason != coopv1.ReasonChangeNotApplicable {
		t.Fatalf("plan %s, Governed %+v", obj.Spec.Plan, cond)
	}

	id = int64(c.must(201, "POST", "/v1/proposals", a.token, map[string]any{"title": "Our own app", "field": "platform", "value": map[string]any{"template": "nope"}})["id"].(float64))
	c.ballot(id, a, "yes")
	c.must(200, "POST", fmt.Sprintf("/v1/proposals/%d/close", id), adminToken, nil)
	eventually(t, "the failure written back", func() error {
		app, _ := c.proposal(id, a.token)["application"].(map[string]any)
		if app == nil || app["state"] != "failed" || !strings.Contains(fmt.Sprint(app["message"]), `PlatformTemplate "nope" does not exist`) {
			return fmt.Errorf("application %v", app)
		}
		return nil
	})
	if obj := c.get(); obj.Spec.Platform.Template != "" {
		t.Fatalf("the platform template was set to %q", obj.Spec.Platform.Template)
	}
}

// TestAStaleCopyKeepsTheHistory: a reconcile that reads the co-op from a cache that has
// not seen the last record yet (the record's own status write is on its way) and writes
// the Governed condition does not drop that record from status.governance.history. The
// demo once lost the record of its applied proposal so.
func TestAStaleCopyKeepsTheHistory(t *testing.T) {
	k8s := operator(t)
	ctx := context.Background()
	// Not governed: the running governance controller leaves it alone; the test writes as it
	// would.
	obj := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "history-kept"}, Spec: coopv1.CooperativeSpec{
		Vertical: coopv1.VerticalDelivery, Plan: "small",
		FeeSplit:   coopv1.FeeSplit{PlatformFeeBasisPoints: 300, Funds: []coopv1.Fund{{Name: "hardship", BasisPoints: 100}}},
		Governance: coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50},
	}}
	if err := k8s.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), obj) })
	r := &governance.Reconciler{Client: k8s, APIReader: k8s}
	read := func() *coopv1.Cooperative {
		t.Helper()
		c := &coopv1.Cooperative{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	fresh := read()
	stale, stale2 := fresh.DeepCopy(), fresh.DeepCopy()
	rec := &coopv1.AppliedProposal{ID: 7, Field: "feeSplit", OldValue: `{"platformFeeBasisPoints":300}`, NewValue: `{"platformFeeBasisPoints":250}`,
		Tally: "turnout 100.00%, approval 80.00%", AppliedAt: metav1.Now()}
	applied := metav1.Condition{Type: coopv1.ConditionGoverned, Status: metav1.ConditionTrue, Reason: coopv1.ReasonChangesApplied, Message: "proposal 7 applied"}
	if err := governance.WriteStatus(r, ctx, fresh, rec, applied); err != nil {
		t.Fatal(err)
	}
	// The reconcile that found nothing pending, on a copy without the Governed condition:
	// it would say that nothing waits, but the object it reads again says proposal 7's
	// outcome, which stays.
	idle := metav1.Condition{Type: coopv1.ConditionGoverned, Status: metav1.ConditionTrue, Reason: coopv1.ReasonChangesApplied, Message: "no passed proposal waits to be applied"}
	if err := governance.WriteIdleStatus(r, ctx, stale, idle); err != nil {
		t.Fatal(err)
	}
	got := read()
	if got.Status.Governance == nil || len(got.Status.Governance.History) != 1 || got.Status.Governance.History[0].ID != 7 {
		t.Fatalf("the history after a write from a stale copy: %+v", got.Status.Governance)
	}
	if c := meta.FindStatusCondition(got.Status.Conditions, coopv1.ConditionGoverned); c == nil || c.Message != applied.Message {
		t.Errorf("Governed %+v, want proposal 7's outcome kept", c)
	}
	// A write that must be made (the database unreadable, say) from a stale copy is made
	// from a fresh read, and keeps the history too.
	unreachable := metav1.Condition{Type: coopv1.ConditionGoverned, Status: metav1.ConditionUnknown, Reason: coopv1.ReasonDatabaseUnreachable, Message: "cannot read the co-op's database"}
	if err := governance.WriteStatus(r, ctx, stale2, nil, unreachable); err != nil {
		t.Fatal(err)
	}
	got = read()
	if got.Status.Governance == nil || len(got.Status.Governance.History) != 1 {
		t.Fatalf("the history after a second write from a stale copy: %+v", got.Status.Governance)
	}
	if c := meta.FindStatusCondition(got.Status.Conditions, coopv1.ConditionGoverned); c == nil || c.Reason != coopv1.ReasonDatabaseUnreachable {
		t.Errorf("Governed %+v, want DatabaseUnreachable", c)
	}
	// The same record again (a reconcile that applied it before its write-back) is not
	// recorded twice.
	if err := governance.WriteStatus(r, ctx, read(), rec, applied); err != nil {
		t.Fatal(err)
	}
	if h := read().Status.Governance.History; len(h) != 1 {
		t.Errorf("history %+v, want proposal 7 once", h)
	}
}

// writtenBack waits until the members see proposal id applied, and Governed says the
// changes are applied.
func (c *coop) writtenBack(id int64, m member) {
	c.t.Helper()
	eventually(c.t, "the application written back", func() error {
		if state := c.application(id, m); state != tally.ApplicationApplied {
			return fmt.Errorf("application %s", state)
		}
		return nil
	})
	c.governedIs(metav1.ConditionTrue, coopv1.ReasonChangesApplied)
}

// refuseRecords makes the API server refuse, until the returned function runs, every
// status of co-op c that holds a history: the write of a change's record. A restart of the
// operator right after it changed the spec leaves the same state.
func refuseRecords(t *testing.T, c *coop) (allow func()) {
	t.Helper()
	ctx := context.Background()
	vap := &admissionregistrationv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: "no-record-" + c.name},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Update},
					Rule: admissionregistrationv1.Rule{APIGroups: []string{coopv1.GroupVersion.Group}, APIVersions: []string{"*"},
						Resources: []string{"cooperatives/status"}},
				},
			}}},
			Validations: []admissionregistrationv1.Validation{{
				Expression: fmt.Sprintf("object.metadata.name != '%s' || !has(object.status.governance) || !has(object.status.governance.history)", c.name),
				Message:    "no record yet",
			}},
		}}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: vap.Name},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: vap.Name,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny}}}
	for _, o := range []client.Object{vap, binding} {
		if err := c.k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.k8s.Delete(context.Background(), o) })
	}
	eventually(t, "the policy in force", func() error {
		obj := c.get()
		obj.Status.Governance = &coopv1.GovernanceStatus{History: []coopv1.AppliedProposal{{ID: 99, Field: "feeSplit", NewValue: "{}", Tally: "test",
			AppliedAt: metav1.Now()}}}
		err := c.k8s.Status().Update(ctx, obj, client.DryRunAll)
		switch {
		case err == nil:
			return fmt.Errorf("a record was admitted")
		case strings.Contains(err.Error(), "no record yet"):
			return nil
		}
		return err
	})
	return func() {
		t.Helper()
		if err := c.k8s.Delete(ctx, binding); err != nil {
			t.Fatal(err)
		}
	}
}

// propose opens a proposal of one member, who votes yes.
func (c *coop) propose(m member, field string, value any) int64 {
	c.t.Helper()
	id := int64(c.must(201, "POST", "/v1/proposals", m.token, map[string]any{"title": "Change " + field, "field": field, "value": value})["id"].(float64))
	c.ballot(id, m, "yes")
	return id
}

// closeNow closes a proposal every member of whose roll voted.
func (c *coop) closeNow(id int64) {
	c.t.Helper()
	c.must(200, "POST", fmt.Sprintf("/v1/proposals/%d/close", id), adminToken, nil)
}

// record waits for the record of proposal id in the co-op's history.
func (c *coop) record(id int64) coopv1.AppliedProposal {
	c.t.Helper()
	var rec coopv1.AppliedProposal
	eventually(c.t, fmt.Sprintf("the record of proposal %d", id), func() error {
		g := c.get().Status.Governance
		if g != nil {
			for _, r := range g.History {
				if r.ID == id {
					rec = r
					return nil
				}
			}
		}
		return fmt.Errorf("governance status %+v", g)
	})
	return rec
}

// TestAnInterruptedChangeKeepsItsOldValue: the operator writes a passed change into the
// spec, and then its record of the change cannot be written. The record written once it
// can still holds the value the change replaced, not the value the spec already held when
// the change was applied again.
func TestAnInterruptedChangeKeepsItsOldValue(t *testing.T) {
	c := newCoop(t, "interrupted", coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50,
		GovernedFields: []coopv1.GovernedField{"feeSplit"}, MinimumVotingPeriodHours: 24})
	ctx := context.Background()
	allow := refuseRecords(t, c)
	a := c.member("Ana Worker", []string{"worker"}, "")
	id := c.propose(a, "feeSplit", newFee)
	c.closeNow(id)
	eventually(t, "the change in the spec, its record refused", func() error {
		obj := c.get()
		if obj.Spec.FeeSplit.PlatformFeeBasisPoints != 200 {
			return fmt.Errorf("fee %d", obj.Spec.FeeSplit.PlatformFeeBasisPoints)
		}
		if obj.Status.Governance == nil || obj.Status.Governance.Applying == nil {
			return fmt.Errorf("nothing recorded as being applied: %+v", obj.Status.Governance)
		}
		return nil
	})
	obj := c.get()
	if g := obj.Status.Governance; len(g.History) != 0 || g.Applying.ID != id || g.Applying.Field != "feeSplit" ||
		!strings.Contains(g.Applying.OldValue, `"platformFeeBasisPoints":300`) {
		t.Fatalf("governance status while the record is refused: %+v", g)
	}
	// By now the operator has retried (after 5 ms, then twice as long each time): each try
	// applied the change again to the spec that already held it. The record goes in once
	// the policy does.
	allow()
	rec := c.record(id)
	if !strings.Contains(rec.OldValue, `"platformFeeBasisPoints":300`) || !strings.Contains(rec.NewValue, `"platformFeeBasisPoints":200`) {
		t.Errorf("record %+v, want the fee from 300 to 200", rec)
	}
	if g := c.get().Status.Governance; g.Applying != nil {
		t.Errorf("applying %+v after the record", g.Applying)
	}

	// The entry of a proposal that no longer waits (its outcome was written back to the
	// database some other way) does not stay: nothing is being applied.
	r := &governance.Reconciler{Client: c.k8s, APIReader: c.k8s}
	if _, err := governance.WriteAhead(r, ctx, c.get(), tally.Closed{ID: 42, Field: "feeSplit"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the entry of proposal 42 gone", func() error {
		g := c.get().Status.Governance
		if g.Applying != nil {
			return fmt.Errorf("applying %+v", g.Applying)
		}
		if len(g.History) != 1 || g.History[0].ID != id {
			return fmt.Errorf("history %+v", g.History)
		}
		return nil
	})
}

// TestAnInterruptedChangeOfTheRulesIsFinished: a passed change of the governance rules
// themselves that also leaves the co-op without governed fields is interrupted after its
// spec write. The operator finishes it: it judges the proposal by the rules it was voted
// under (those the change replaced, not the spec's new ones), records it, and tells the
// members it was applied, although the co-op is no longer governed.
func TestAnInterruptedChangeOfTheRulesIsFinished(t *testing.T) {
	c := newCoop(t, "rules-interrupted", coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50,
		GovernedFields: []coopv1.GovernedField{"governance"}, MinimumVotingPeriodHours: 24})
	allow := refuseRecords(t, c)
	a := c.member("Ana Worker", []string{"worker"}, "")
	id := c.propose(a, "governance", map[string]any{"model": "one-member-one-vote", "quorumPercent": 50, "approvalPercent": 60, "minimumVotingPeriodHours": 24,
		"governedFields": []any{}})
	c.closeNow(id)
	eventually(t, "the new rules in the spec", func() error {
		if g := c.get().Spec.Governance; g.ApprovalPercent != 60 || len(g.GovernedFields) != 0 {
			return fmt.Errorf("governance %+v", g)
		}
		return nil
	})
	allow()
	rec := c.record(id)
	if !strings.Contains(rec.OldValue, `"approvalPercent":50`) || !strings.Contains(rec.NewValue, `"approvalPercent":60`) {
		t.Errorf("record %+v, want the approval from 50 to 60", rec)
	}
	eventually(t, "the application written back", func() error {
		if app, _ := c.proposal(id, a.token)["application"].(map[string]any); app == nil || app["state"] != "applied" {
			return fmt.Errorf("application %v", app)
		}
		return nil
	})
	if g := c.get().Status.Governance; g.Applying != nil {
		t.Errorf("applying %+v after the record", g.Applying)
	}
}

// TestAChangePassedAfterGovernanceEndsIsNotApplied: the members pass rules that govern no
// field, while another proposal (a fee) is open. That one passes after: it is reported back
// as not applicable, where it used to wait, pending, and be applied once a field was
// governed again, over what the admins had set meanwhile.
func TestAChangePassedAfterGovernanceEndsIsNotApplied(t *testing.T) {
	c := newCoop(t, "ungoverned", coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50,
		GovernedFields: []coopv1.GovernedField{"governance", "feeSplit"}, MinimumVotingPeriodHours: 24})
	a := c.member("Ana Worker", []string{"worker"}, "")
	end := c.propose(a, "governance", map[string]any{"model": "one-member-one-vote", "quorumPercent": 50, "approvalPercent": 50,
		"minimumVotingPeriodHours": 24, "governedFields": []any{}})
	fee := c.propose(a, "feeSplit", newFee)
	c.closeNow(end)
	c.record(end)
	if g := c.get().Spec.Governance; len(g.GovernedFields) != 0 {
		t.Fatalf("governed fields %v after the vote that ended them", g.GovernedFields)
	}
	c.closeNow(fee)
	eventually(t, "the fee reported not applicable", func() error {
		app, _ := c.proposal(fee, a.token)["application"].(map[string]any)
		if app == nil || app["state"] != "failed" || !strings.Contains(fmt.Sprint(app["message"]), "governed fields") {
			return fmt.Errorf("application %v", app)
		}
		return nil
	})
	// Governed again by the admins (nothing is governed, so they may), and a fee voted
	// then: it alone is applied, not the one passed while nothing was governed (proposals
	// are applied oldest close first, so that one would have gone before it).
	c.patchSpec(`{"spec":{"governance":{"governedFields":["feeSplit"]}}}`)
	eventually(t, "coop-policy governing the fee again", func() error {
		var cm corev1.ConfigMap
		if err := c.k8s.Get(context.Background(), client.ObjectKey{Namespace: coopv1.NamespacePrefix + c.name, Name: policy.ConfigMapName}, &cm); err != nil {
			return err
		}
		doc, err := policy.Parse([]byte(cm.Data[policy.Key]))
		if err != nil {
			return err
		}
		if !doc.Governance.Governs(policy.PartFeeSplit) {
			return fmt.Errorf("governance %+v", doc.Governance)
		}
		return nil
	})
	c.syncPolicy(300)
	later := c.propose(a, "feeSplit", map[string]any{"platformFeeBasisPoints": 250, "funds": []any{map[string]any{"name": "hardship", "basisPoints": 100}}})
	c.closeNow(later)
	if rec := c.record(later); !strings.Contains(rec.OldValue, `"platformFeeBasisPoints":300`) {
		t.Errorf("record %+v, want the fee from 300 (the vote passed while nothing was governed is not applied)", rec)
	}
	if slices.ContainsFunc(c.get().Status.Governance.History, func(r coopv1.AppliedProposal) bool { return r.ID == fee }) {
		t.Errorf("proposal %d, passed while nothing was governed, was applied: history %+v", fee, c.get().Status.Governance.History)
	}
}

// TestAnInterruptedChangeIsFinishedFirst: while a change waits for its record, another
// proposal becomes pending ahead of it (it closed at the same moment, with a lower id). The
// interrupted change is finished first, so its record keeps the value it replaced; the
// other is applied after it.
func TestAnInterruptedChangeIsFinishedFirst(t *testing.T) {
	c := newCoop(t, "finished-first", coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50,
		GovernedFields: []coopv1.GovernedField{"feeSplit"}, MinimumVotingPeriodHours: 24})
	allow := refuseRecords(t, c)
	a := c.member("Ana Worker", []string{"worker"}, "")
	earlier := c.propose(a, "feeSplit", map[string]any{"platformFeeBasisPoints": 250, "funds": []any{map[string]any{"name": "hardship", "basisPoints": 100}}})
	interrupted := c.propose(a, "feeSplit", newFee)
	c.closeNow(interrupted)
	eventually(t, "the interrupted change in the spec", func() error {
		obj := c.get()
		if obj.Spec.FeeSplit.PlatformFeeBasisPoints != 200 || obj.Status.Governance == nil || obj.Status.Governance.Applying == nil {
			return fmt.Errorf("fee %d, governance status %+v", obj.Spec.FeeSplit.PlatformFeeBasisPoints, obj.Status.Governance)
		}
		return nil
	})
	c.closeNow(earlier)
	if _, err := c.srv.Pool().Exec(context.Background(), `UPDATE proposals SET closed_at = (SELECT closed_at FROM proposals WHERE id = $2) WHERE id = $1`,
		earlier, interrupted); err != nil {
		t.Fatal(err)
	}
	allow()
	rec := c.record(interrupted)
	if !strings.Contains(rec.OldValue, `"platformFeeBasisPoints":300`) {
		t.Errorf("record of the interrupted change %+v, want the fee from 300", rec)
	}
	rec = c.record(earlier)
	if !strings.Contains(rec.OldValue, `"platformFeeBasisPoints":200`) || !strings.Contains(rec.NewValue, `"platformFeeBasisPoints":250`) {
		t.Errorf("record of the other %+v, want the fee from 200 to 250", rec)
	}
}

// TestAFederationChangeKeepsTheSwitchover: the members vote the peers; the primary is the
// co-op admins'. A passed federation change applied after an admin switched over (the
// primary at eu-south; the vote opened while it was here) adds its peer and keeps the
// primary at eu-south, where the old code cleared it: a switchover back that nobody asked
// for. A passed change that removes the peer holding the primary is not applied, and says
// why.
func TestAFederationChangeKeepsTheSwitchover(t *testing.T) {
	k8s := operator(t)
	ctx := context.Background()
	// Not governed: the running governance controller applies nothing to it; the test
	// applies the changes as it would.
	obj := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "switched-over"}, Spec: coopv1.CooperativeSpec{
		Vertical: coopv1.VerticalDelivery, Plan: "small",
		FeeSplit:   coopv1.FeeSplit{PlatformFeeBasisPoints: 300},
		Governance: coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50},
		Federation: coopv1.FederationSpec{Peers: []coopv1.FederationPeerRef{{Name: "eu-south"}}, Primary: "eu-south"},
	}}
	if err := k8s.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), obj) })
	r := &governance.Reconciler{Client: k8s, APIReader: k8s}
	read := func() *coopv1.Cooperative {
		t.Helper()
		c := &coopv1.Cooperative{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	// apply carries out a passed change of the peers, again while other controllers' writes
	// make it conflict.
	apply := func(id int64, value string) (state, message string) {
		t.Helper()
		v, err := policy.ParseChange(policy.PartFederation, []byte(value))
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, fmt.Sprintf("proposal %d carried out", id), func() error {
			state, message, err = governance.ApplyChange(r, ctx, read(), tally.Closed{ID: id, Field: policy.PartFederation, Value: v})
			return err
		})
		return state, message
	}
	peers := func(c *coopv1.Cooperative) []string {
		var names []string
		for _, p := range c.Spec.Federation.Peers {
			names = append(names, p.Name)
		}
		return names
	}

	if state, msg := apply(1, `{"peers":[{"name":"eu-south"},{"name":"us-east"}]}`); state != tally.ApplicationApplied {
		t.Fatalf("adding a peer: %s %s", state, msg)
	}
	got := read()
	if names := peers(got); len(names) != 2 || names[1] != "us-east" || got.Spec.Federation.Primary != "eu-south" {
		t.Fatalf("after adding a peer: peers %v, primary %q; want eu-south and us-east, the primary still at eu-south", names, got.Spec.Federation.Primary)
	}

	state, msg := apply(2, `{"peers":[{"name":"us-east"}]}`)
	if state != tally.ApplicationFailed || !strings.Contains(msg, "removes peer eu-south, which holds the co-op's primary database") ||
		!strings.Contains(msg, "switch the primary back first") {
		t.Errorf("removing the peer that holds the primary: %s %q", state, msg)
	}
	got = read()
	if names := peers(got); len(names) != 2 || got.Spec.Federation.Primary != "eu-south" {
		t.Errorf("after the refused removal: peers %v, primary %q", names, got.Spec.Federation.Primary)
	}
}

// readOnly makes the operator's connections to the co-op's database refuse writes (on) as
// a replica's do, the home's after a switchover, or accept them again.
func (c *coop) readOnly(on bool) {
	dsn := c.dsn
	if on {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		dsn += sep + "options=-c%20default_transaction_read_only%3Don"
	}
	dsnMu.Lock()
	dsnByCo[c.name] = dsn
	dsnMu.Unlock()
}

// refuseRecords makes the co-op's database refuse (on) or accept again the operator's
// record of what became of a passed proposal: a trigger that raises on that update.
func (c *coop) refuseRecords(on bool) {
	c.t.Helper()
	conn, err := pgx.Connect(context.Background(), c.dsn)
	if err != nil {
		c.t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	stmt := `DROP TRIGGER IF EXISTS refuse_records ON proposals`
	if on {
		stmt = `CREATE OR REPLACE FUNCTION refuse_records() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'records refused'; END $$;
			CREATE OR REPLACE TRIGGER refuse_records BEFORE UPDATE OF application ON proposals FOR EACH ROW
			WHEN (OLD.application = 'pending' AND NEW.application IS DISTINCT FROM 'pending') EXECUTE FUNCTION refuse_records()`
	}
	if _, err := conn.Exec(context.Background(), stmt); err != nil {
		c.t.Fatal(err)
	}
}

// patchSpec changes the co-op's spec as its admins (or the hub's) would.
func (c *coop) patchSpec(patch string) {
	c.t.Helper()
	obj := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: c.name}}
	if err := c.k8s.Patch(context.Background(), obj, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		c.t.Fatal(err)
	}
}

// governedIs waits for the Governed condition with status and reason, whose message holds
// every one of words.
func (c *coop) governedIs(status metav1.ConditionStatus, reason string, words ...string) metav1.Condition {
	c.t.Helper()
	var cond metav1.Condition
	eventually(c.t, fmt.Sprintf("Governed %s %s", status, reason), func() error {
		got := meta.FindStatusCondition(c.get().Status.Conditions, coopv1.ConditionGoverned)
		if got == nil || got.Status != status || got.Reason != reason {
			return fmt.Errorf("Governed %+v", got)
		}
		for _, w := range words {
			if !strings.Contains(got.Message, w) {
				return fmt.Errorf("Governed %+v, without %q", got, w)
			}
		}
		cond = *got
		return nil
	})
	return cond
}

// application is what the platform says became of proposal id.
func (c *coop) application(id int64, m member) string {
	c.t.Helper()
	app, _ := c.proposal(id, m.token)["application"].(map[string]any)
	return fmt.Sprint(app["state"])
}

// TestVotesWaitWhileThePrimaryIsAtAPeer: after a switchover the co-op's database here is a
// read-only replica (played by a connection that refuses writes) and the members vote at
// the peer. The operator reads no proposal here: Governed says where the primary is, and a
// passed change waits, pending, instead of being applied to the spec and then failing its
// write-back on every try. Once the primary is back, it is applied.
func TestVotesWaitWhileThePrimaryIsAtAPeer(t *testing.T) {
	c := newCoop(t, "switched", coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50,
		GovernedFields: []coopv1.GovernedField{"feeSplit"}, MinimumVotingPeriodHours: 24})
	a := c.member("Ana Worker", []string{"worker"}, "")
	c.readOnly(true)
	c.patchSpec(`{"spec":{"federation":{"peers":[{"name":"eu-south"}],"primary":"eu-south"}}}`)
	c.governedIs(metav1.ConditionUnknown, coopv1.ReasonPrimaryAtPeer, "primary database is at peer eu-south", "the standby applies no proposal")
	// [simulated] The vote, which runs at the peer, replicated here.
	id := c.propose(a, "feeSplit", newFee)
	c.closeNow(id)
	// While the primary is at the peer the operator applies nothing: it reads the replica
	// here, finds the proposal waiting, and records since when, with when it would bring
	// the primary home (the hub's maxVoteHoldAtPeer, a week by default).
	cond := c.governedIs(metav1.ConditionUnknown, coopv1.ReasonPrimaryAtPeer, "1 passed proposal(s) wait since", "unless the co-op's admins switch back first",
		"the operator brings the primary home at", "(the hub's maxVoteHoldAtPeer, 168h0m0s)")
	since := c.get().Status.Governance.WaitingAtPeerSince
	if since == nil || !strings.Contains(cond.Message, since.UTC().Format(time.RFC3339)) {
		t.Fatalf("status.governance.waitingAtPeerSince %v, Governed says %q", since, cond.Message)
	}
	obj := c.get()
	if obj.Spec.FeeSplit.PlatformFeeBasisPoints != 300 || (obj.Status.Governance != nil && (len(obj.Status.Governance.History) > 0 || obj.Status.Governance.Applying != nil)) {
		t.Fatalf("applied while the primary is at a peer: fee %d, governance status %+v", obj.Spec.FeeSplit.PlatformFeeBasisPoints, obj.Status.Governance)
	}
	if state := c.application(id, a); state != tally.ApplicationPending {
		t.Fatalf("application %s while the primary is at a peer, want pending", state)
	}
	c.governedIs(metav1.ConditionUnknown, coopv1.ReasonPrimaryAtPeer)

	// The admins switch back: until the copy here is promoted, it is still a replica.
	c.patchSpec(`{"spec":{"federation":{"primary":null}}}`)
	c.governedIs(metav1.ConditionUnknown, coopv1.ReasonDatabaseReadOnly, "accepts no writes", "1 passed proposal(s) wait")
	if obj := c.get(); obj.Spec.FeeSplit.PlatformFeeBasisPoints != 300 || (obj.Status.Governance != nil && len(obj.Status.Governance.History) > 0) {
		t.Fatalf("applied while the database here is a replica: fee %d, governance status %+v", obj.Spec.FeeSplit.PlatformFeeBasisPoints, obj.Status.Governance)
	}
	if got := c.get().Status.Governance.WaitingAtPeerSince; got == nil || !got.Equal(since) {
		t.Fatalf("waitingAtPeerSince %v during the switchback, want it kept (%v) until the proposal is applied", got, since)
	}
	// Promoted: the database here is the primary again.
	c.readOnly(false)
	if rec := c.record(id); !strings.Contains(rec.NewValue, `"platformFeeBasisPoints":200`) {
		t.Errorf("record %+v", rec)
	}
	c.writtenBack(id, a)
	eventually(t, "waitingAtPeerSince removed once applied", func() error {
		if g := c.get().Status.Governance; g != nil && g.WaitingAtPeerSince != nil {
			return fmt.Errorf("waitingAtPeerSince %v", g.WaitingAtPeerSince)
		}
		return nil
	})
}

// passedAtPeer is a governed co-op switched over to peer eu-south (its database here a
// read-only replica) with a passed proposal of a lower fee waiting, which the operator
// counts from now: the co-op, the member who proposed it, and its id.
func passedAtPeer(t *testing.T, name string) (*coop, member, int64) {
	t.Helper()
	c := newCoop(t, name, coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50,
		GovernedFields: []coopv1.GovernedField{"feeSplit"}, MinimumVotingPeriodHours: 24})
	a := c.member("Ana Worker", []string{"worker"}, "")
	c.readOnly(true)
	c.patchSpec(`{"spec":{"federation":{"peers":[{"name":"eu-south"}],"primary":"eu-south"}}}`)
	// [simulated] The vote, which runs at the peer, replicated here.
	id := c.propose(a, "feeSplit", newFee)
	c.closeNow(id)
	c.governedIs(metav1.ConditionUnknown, coopv1.ReasonPrimaryAtPeer, "1 passed proposal(s) wait since")
	return c, a, id
}

// TestASwitchoverHoldsVotesBackNoLongerThanTheHubAllows: the co-op's admins decide a
// switchover, but not how long the members' votes wait for it: once passed proposals have
// waited the hub's maxVoteHoldAtPeer, the operator clears spec.federation.primary (the
// primary comes home, as a switchback by the admins would bring it), says so in a Warning
// event, and the proposals are applied at home. Not before: an hour short of the bound,
// nothing changes. (The test's own reconciler, with a clock past the bound and a bound of
// an hour, plays the operator at the moment the bound passes.)
func TestASwitchoverHoldsVotesBackNoLongerThanTheHubAllows(t *testing.T) {
	c, a, id := passedAtPeer(t, "held-at-peer")
	since := c.get().Status.Governance.WaitingAtPeerSince.Time
	clock := clocktesting.NewFakePassiveClock(since.Add(time.Hour - time.Second))
	rec := events.NewFakeRecorder(4)
	r := &governance.Reconciler{Client: c.k8s, APIReader: c.k8s, Recorder: rec, DSN: testDSN, Clock: clock, MaxHoldAtPeer: time.Hour}
	req := ctrl.Request{NamespacedName: types.NamespacedName{Name: c.name}}
	if res, err := r.Reconcile(context.Background(), req); err != nil || res.RequeueAfter <= 0 || res.RequeueAfter > 12*time.Second {
		t.Fatalf("a second short of the bound: %+v, %v", res, err)
	}
	if got := c.get(); got.Spec.Federation.Primary != "eu-south" || len(rec.Events) > 0 {
		t.Fatalf("a second short of the bound: primary %q, events %d", got.Spec.Federation.Primary, len(rec.Events))
	}
	clock.SetTime(since.Add(time.Hour))
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if got := c.get(); got.Spec.Federation.Primary != "" || len(got.Spec.Federation.Peers) != 1 {
		t.Fatalf("past the bound: federation %+v, want the primary home and the peer kept", got.Spec.Federation)
	}
	var e string
	select {
	case e = <-rec.Events:
	default:
	}
	if !strings.Contains(e, coopv1.ReasonPrimaryReturnedForVotes) || !strings.Contains(e, "1 passed proposal(s) waited since") ||
		!strings.Contains(e, "cleared spec.federation.primary") {
		t.Errorf("event %q", e)
	}
	// [simulated] The switchback promotes the copy here; the operator applies the vote.
	c.governedIs(metav1.ConditionUnknown, coopv1.ReasonDatabaseReadOnly, "1 passed proposal(s) wait")
	c.readOnly(false)
	if rec := c.record(id); !strings.Contains(rec.NewValue, `"platformFeeBasisPoints":200`) {
		t.Errorf("record %+v", rec)
	}
	c.writtenBack(id, a)
}

// TestAFailedWriteBackIsSaid: the co-op's database refuses the operator's record of what
// became of a passed proposal (a replica's would: the primary on its way back home, say).
// Governed says so, naming the proposal and the database's error, instead of saying the
// proposal was applied while the members see it pending and every later proposal waits
// behind it. Once the database accepts the record, the members see it applied.
func TestAFailedWriteBackIsSaid(t *testing.T) {
	c := newCoop(t, "write-back", coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50,
		GovernedFields: []coopv1.GovernedField{"feeSplit"}, MinimumVotingPeriodHours: 24})
	a := c.member("Ana Worker", []string{"worker"}, "")
	c.refuseRecords(true)
	id := c.propose(a, "feeSplit", newFee)
	c.closeNow(id)
	c.governedIs(metav1.ConditionFalse, coopv1.ReasonWriteBackFailed, fmt.Sprintf("proposal %d was applied", id), "members do not see it", "records refused")
	if obj := c.get(); obj.Spec.FeeSplit.PlatformFeeBasisPoints != 200 {
		t.Errorf("fee %d, want the change applied to the spec", obj.Spec.FeeSplit.PlatformFeeBasisPoints)
	}
	if state := c.application(id, a); state != tally.ApplicationPending {
		t.Fatalf("application %s while the database refuses writes, want pending", state)
	}
	c.refuseRecords(false)
	c.writtenBack(id, a)
}

// TestVotesWaitWhileSuspended: while the co-op is suspended, the operator leaves its
// objects alone and would not roll a change out, so its governance applies nothing either:
// Governed says the co-op is suspended and a passed change waits, pending (the members do
// not see it applied). Once the co-op is resumed, it is applied.
func TestVotesWaitWhileSuspended(t *testing.T) {
	c := newCoop(t, "suspended", coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50,
		GovernedFields: []coopv1.GovernedField{"feeSplit"}, MinimumVotingPeriodHours: 24})
	a := c.member("Ana Worker", []string{"worker"}, "")
	c.patchSpec(`{"spec":{"suspend":true}}`)
	c.governedIs(metav1.ConditionUnknown, coopv1.ReasonSuspended, "suspended (spec.suspend)", "applied once it is resumed")
	id := c.propose(a, "feeSplit", newFee)
	c.closeNow(id)
	// While suspended the operator reads nothing, and does not poll: it looks again only
	// when the spec changes, as the resumption below does.
	obj := c.get()
	if obj.Spec.FeeSplit.PlatformFeeBasisPoints != 300 || (obj.Status.Governance != nil && (len(obj.Status.Governance.History) > 0 || obj.Status.Governance.Applying != nil)) {
		t.Fatalf("applied while suspended: fee %d, governance status %+v", obj.Spec.FeeSplit.PlatformFeeBasisPoints, obj.Status.Governance)
	}
	if state := c.application(id, a); state != tally.ApplicationPending {
		t.Fatalf("application %s while suspended, want pending", state)
	}
	c.governedIs(metav1.ConditionUnknown, coopv1.ReasonSuspended)

	c.patchSpec(`{"spec":{"suspend":null}}`)
	if rec := c.record(id); !strings.Contains(rec.NewValue, `"platformFeeBasisPoints":200`) {
		t.Errorf("record %+v", rec)
	}
	c.writtenBack(id, a)
	c.syncPolicy(200) // and rolled out, now that the co-op is resumed
}

// TestANumberUsedAgainIsANewProposal: the co-op's database is restored to a point before
// its proposal 1, and the platform numbers the next proposal 1 again. That one, closed
// later, is a new proposal: the operator applies it, rather than taking it for the
// proposal 1 its history records and telling the members it was applied.
func TestANumberUsedAgainIsANewProposal(t *testing.T) {
	c := newCoop(t, "restored", coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50,
		GovernedFields: []coopv1.GovernedField{"feeSplit"}, MinimumVotingPeriodHours: 24})
	a := c.member("Ana Worker", []string{"worker"}, "")
	first := c.propose(a, "feeSplit", newFee)
	c.closeNow(first)
	c.record(first)
	eventually(t, "the first application written back", func() error {
		if state := c.application(first, a); state != tally.ApplicationApplied {
			return fmt.Errorf("application %s", state)
		}
		return nil
	})
	// [simulated] The restore: the proposals, and all that hangs on them, are gone, and
	// their numbers are free again. Time goes on.
	for _, sql := range []string{`DELETE FROM ballots`, `DELETE FROM proposal_delegations`, `DELETE FROM proposal_electorate`,
		`DELETE FROM proposals`, `ALTER SEQUENCE proposals_id_seq RESTART`} {
		if _, err := c.srv.Pool().Exec(context.Background(), sql); err != nil {
			t.Fatal(err)
		}
	}
	c.clock.Step(time.Hour)
	again := c.propose(a, "feeSplit", map[string]any{"platformFeeBasisPoints": 250, "funds": []any{map[string]any{"name": "hardship", "basisPoints": 150}}})
	if again != first {
		t.Fatalf("the new proposal is %d, want %d again", again, first)
	}
	c.closeNow(again)
	eventually(t, "the new proposal 1 applied", func() error {
		obj := c.get()
		if obj.Spec.FeeSplit.PlatformFeeBasisPoints != 250 {
			return fmt.Errorf("fee %d", obj.Spec.FeeSplit.PlatformFeeBasisPoints)
		}
		if h := obj.Status.Governance.History; len(h) != 2 || !strings.Contains(h[0].OldValue, `"platformFeeBasisPoints":200`) ||
			!strings.Contains(h[0].NewValue, `"platformFeeBasisPoints":250`) || h[0].ClosedAt.Equal(h[1].ClosedAt) {
			return fmt.Errorf("history %+v", h)
		}
		return nil
	})
	eventually(t, "the second application written back", func() error {
		if state := c.application(again, a); state != tally.ApplicationApplied {
			return fmt.Errorf("application %s", state)
		}
		return nil
	})
}

// TestAMoveIsNotHeldToTheBound: a co-op the hub moves to another hub (annotation
// move-to) takes its votes with it: the operator counts no time for its passed
// proposals, and never brings its primary home for them, however long they wait.
func TestAMoveIsNotHeldToTheBound(t *testing.T) {
	c, _, _ := passedAtPeer(t, "moving-away")
	c.patchSpec(`{"metadata":{"annotations":{"` + coopv1.AnnotationMoveTo + `":"eu-south"}}}`)
	c.governedIs(metav1.ConditionUnknown, coopv1.ReasonPrimaryAtPeer, "the co-op is moving to eu-south (the hub's decision), where its passed proposals are applied")
	if g := c.get().Status.Governance; g != nil && g.WaitingAtPeerSince != nil {
		t.Fatalf("waitingAtPeerSince %v during a move", g.WaitingAtPeerSince)
	}
	r := &governance.Reconciler{Client: c.k8s, APIReader: c.k8s, Recorder: events.NewFakeRecorder(4), DSN: testDSN,
		Clock: clocktesting.NewFakePassiveClock(time.Now().Add(365 * 24 * time.Hour)), MaxHoldAtPeer: time.Hour}
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: c.name}}); err != nil {
		t.Fatal(err)
	}
	if got := c.get(); got.Spec.Federation.Primary != "eu-south" {
		t.Fatalf("a moving co-op's primary brought home: %+v", got.Spec.Federation)
	}
}

// TestAProposalLargerThanTheOperatorReadsIsRefusedUnread: whoever holds a co-op's database
// (its serving role, a platform pod taken over) can store a passed proposal whose change
// is megabytes, or whose roll holds more members than the operator tallies. The operator,
// which serves every co-op, reads neither: the change's row comes without its value
// (tally.PendingChanges), the roll is counted before it is read (tally.LoadInput), and the
// proposal is refused (ProposalTooLarge), recorded, and reported to the members, as any
// refusal is; nothing is applied.
func TestAProposalLargerThanTheOperatorReadsIsRefusedUnread(t *testing.T) {
	c := newCoop(t, "bloated", coopv1.Governance{Model: coopv1.GovernanceOneMemberOneVote, QuorumPercent: 50, ApprovalPercent: 50,
		GovernedFields: []coopv1.GovernedField{"feeSplit"}})
	a := c.member("Ana Worker", []string{"worker"}, "")
	c.member("Bea Worker", []string{"worker"}, "")
	ctx := context.Background()
	propose := func(title string) int64 {
		return int64(c.must(201, "POST", "/v1/proposals", a.token, map[string]any{"title": title, "field": "feeSplit",
			"value": map[string]any{"platformFeeBasisPoints": 0}})["id"].(float64))
	}
	result := `{"model":"one-member-one-vote","passed":true,"quorumReached":true,"turnoutPercent":"100.00","approvalPercent":"100.00",
		"reason":"quorum reached","classes":[{"class":"members","eligible":2,"yes":2,"no":0,"abstain":0}]}`
	// A change of a megabyte.
	big := propose("Fee to 0, padded")
	if _, err := c.srv.Pool().Exec(ctx, `UPDATE proposals SET status = 'closed', result = $2, closed_at = now(), application = 'pending',
		change_value = change_value || jsonb_build_object('pad', repeat('x', 1 << 20)) WHERE id = $1`, big, result); err != nil {
		t.Fatal(err)
	}
	pending, err := tally.PendingChanges(ctx, c.srv.Pool(), 10)
	if err != nil || len(pending) != 1 || !pending[0].TooLarge || pending[0].Value != nil || pending[0].Rules.Model != "" || pending[0].Result.Passed {
		t.Fatalf("the operator's read of a megabyte change: %+v, %v; want it unread, TooLarge", pending, err)
	}
	eventually(t, "the refusal of the large change", func() error {
		if g := c.get().Status.Governance; g == nil || len(g.Refused) != 1 || g.Refused[0].ID != big || g.Refused[0].Reason != coopv1.ReasonProposalTooLarge {
			return fmt.Errorf("status.governance %+v", g)
		}
		return nil
	})
	eventually(t, "the refusal in the platform", func() error {
		app := c.proposal(big, a.token)["application"].(map[string]any)
		if app["state"] != "refused" || !strings.Contains(fmt.Sprint(app["message"]), "larger than the 64 KiB the operator reads") {
			return fmt.Errorf("application %v", app)
		}
		return nil
	})

	// A roll of more members than the operator tallies.
	many := propose("Fee to 0, by a crowd")
	if _, err := c.srv.Pool().Exec(ctx, `WITH m AS (INSERT INTO members (roles) SELECT '{worker}' FROM generate_series(1, $2) RETURNING id)
		INSERT INTO proposal_electorate (proposal_id, member_id) SELECT $1, id FROM m`, many, tally.MaxElectorate); err != nil {
		t.Fatal(err)
	}
	if _, err := c.srv.Pool().Exec(ctx, `UPDATE proposals SET status = 'closed', result = $2, closed_at = now(), application = 'pending' WHERE id = $1`,
		many, result); err != nil {
		t.Fatal(err)
	}
	if _, err := tally.LoadInput(ctx, c.srv.Pool(), policy.Governance{Model: policy.OneMemberOneVote}, many, true); !errors.Is(err, tally.ErrTooLarge) {
		t.Fatalf("the operator's read of a roll of %d: %v, want ErrTooLarge", tally.MaxElectorate+2, err)
	}
	eventually(t, "the refusal of the crowd", func() error {
		g := c.get().Status.Governance
		if g == nil || !slices.ContainsFunc(g.Refused, func(r coopv1.RefusedProposal) bool {
			return r.ID == many && r.Reason == coopv1.ReasonProposalTooLarge && strings.Contains(r.Message, "more than the 200000 entries")
		}) {
			return fmt.Errorf("status.governance %+v", g)
		}
		return nil
	})
	if obj := c.get(); obj.Spec.FeeSplit.PlatformFeeBasisPoints != 300 || len(obj.Status.Governance.History) > 0 {
		t.Fatalf("a proposal larger than the operator reads was applied: %+v %+v", obj.Spec.FeeSplit, obj.Status.Governance)
	}
	// Nor does a statement of the operator's wait on the co-op's database (or a lock its
	// serving role holds) for longer than 30 seconds.
	r := &governance.Reconciler{Client: c.k8s, APIReader: c.k8s, DSN: testDSN}
	conn, err := governance.Connect(r, ctx, c.get())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	var timeout string
	if err := conn.QueryRow(ctx, `SHOW statement_timeout`).Scan(&timeout); err != nil || timeout != "30s" {
		t.Fatalf("the operator's statement_timeout is %q (%v), want 30s", timeout, err)
	}
}
