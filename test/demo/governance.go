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

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cooperator-dev/cooperator/api/policy"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/platform/server"
	"github.com/cooperator-dev/cooperator/platform/server/store"
	"github.com/cooperator-dev/cooperator/test/harness/platformapi"
	"github.com/cooperator-dev/cooperator/test/pgtest"
)

// governedCoop is the sample co-op whose members vote in the demo.
const governedCoop = "fairride-lyon"

// demoGovernance shows one governed change of fairride-lyon from proposal to applied: its
// members vote a lower platform fee in the platform service (running in this process on a
// real PostgreSQL), the vote closes at its deadline, the operator re-tallies and applies
// it, coop-policy follows and the next payment uses the new fee.
//
// Simulated: the co-op's database is a local PostgreSQL (no CloudNativePG instance runs
// here), so the demo writes the app Secret CloudNativePG would write, pointing at it; the
// seven days of the vote pass on the platform's clock; the kubelet's refresh of the
// mounted coop-policy file is a copy of the ConfigMap.
//
// It leaves the platform service running for the members' app (the URL and a sign-in code
// are printed); stop, which the caller defers, ends it and the local PostgreSQL.
func demoGovernance(ctx context.Context, c client.Client, out io.Writer) (stop func(), err error) {
	var stops []func()
	stopAll := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	defer func() {
		// On an error the results are nil and err: what was started stops here.
		if err != nil {
			stopAll()
		}
	}()
	fmt.Fprintln(out, "\nGovernance: the members of fairride-lyon vote a lower platform fee; the operator applies it.")
	pg, err := pgtest.Start()
	if err != nil {
		fmt.Fprintf(out, "  skipped: no PostgreSQL to play the co-op's database here (%v)\n", err)
		return func() {}, nil
	}
	stops = append(stops, pg.Stop)
	dsn, err := pg.CreateDB()
	if err != nil {
		return nil, err
	}
	coop := &coopv1.Cooperative{}
	if err := c.Get(ctx, client.ObjectKey{Name: governedCoop}, coop); err != nil {
		return nil, err
	}
	ns := coop.NamespaceName()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: coop.Name + "-app"}, StringData: map[string]string{"uri": dsn}}
	if err := c.Create(ctx, secret); err != nil {
		return nil, fmt.Errorf("writing the app Secret: %w", err)
	}
	fmt.Fprintf(out, "[simulated] CloudNativePG wrote Secret %s/%s-app; its database is a local PostgreSQL\n", ns, coop.Name)

	dir, err := os.MkdirTemp("", "coop-policy-")
	if err != nil {
		return nil, err
	}
	stops = append(stops, func() { _ = os.RemoveAll(dir) })
	policyFile := filepath.Join(dir, policy.Key)
	syncPolicy := func(want int64) error {
		deadline := time.Now().Add(time.Minute)
		for {
			var cm corev1.ConfigMap
			err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: policy.ConfigMapName}, &cm)
			if err == nil {
				if doc, perr := policy.Parse([]byte(cm.Data[policy.Key])); perr == nil && doc.FeeSplit.PlatformFeeBasisPoints == want {
					return policy.WriteFiles(dir, cm.Data)
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("coop-policy does not carry a fee of %d basis points", want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if err := syncPolicy(int64(coop.Spec.FeeSplit.PlatformFeeBasisPoints)); err != nil {
		return nil, err
	}
	// The platform service's clock, moved forward by the demo instead of waiting out a
	// seven-day vote.
	clock := clocktesting.NewFakeClock(time.Now().UTC())
	const staff = "demo-staff-token"
	srv, err := server.New(server.Config{DatabaseURL: dsn, AdminToken: staff, PolicyFile: policyFile, Now: clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return nil, err
	}
	stops = append(stops, srv.Close)
	if err := srv.Migrate(ctx); err != nil {
		return nil, err
	}
	// The database stamps and closes the votes by its clock of governance, which its owner
	// (the demo's connection) keeps on the platform's.
	step := func(d time.Duration) error {
		clock.Step(d)
		return store.PinGovernanceClock(ctx, srv.Pool(), clock.Now())
	}
	if err := step(0); err != nil {
		return nil, err
	}
	api := httptest.NewServer(srv.Handler())
	stops = append(stops, api.Close)
	fmt.Fprintf(out, "The platform service of %s runs at %s (the members' API).\n", coop.Name, api.URL)

	members := platformapi.Client{BaseURL: api.URL}
	call := func(method, path, token string, body any, want int, headers ...string) (map[string]any, error) {
		return members.Expect(ctx, want, method, path, token, body, headers...)
	}
	type member struct {
		id    int64
		token string
	}
	admit := func(name, role, class string) (member, error) {
		m, err := call("POST", "/v1/members", staff, map[string]any{"name": name, "email": strings.ToLower(strings.Fields(name)[0]) + "@fairride.example",
			"roles": []string{role}, "stakeholderClass": class}, 201)
		if err != nil {
			return member{}, err
		}
		return member{id: int64(m["member"].(map[string]any)["id"].(float64)), token: m["token"].(string)}, nil
	}
	var ms []member
	for _, p := range [][3]string{{"Dan Driver", "worker", "drivers"}, {"Eve Driver", "worker", "drivers"}, {"Rita Rider", "customer", "riders"}, {"Sam Staff", "staff", "staff"}} {
		m, err := admit(p[0], p[1], p[2])
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	fmt.Fprintln(out, "  staff admitted 2 drivers, 1 rider and 1 staff member (POST /v1/members)")
	value := map[string]any{"platformFeeBasisPoints": 250, "funds": []any{map[string]any{"name": "hardship", "basisPoints": 100}, map[string]any{"name": "reserve", "basisPoints": 50}}}
	if _, err := call("POST", "/v1/proposals", ms[0].token, map[string]any{"title": "Bad", "field": "feeSplit",
		"value": map[string]any{"platformFeeBasisPoints": 100, "funds": []any{map[string]any{"name": "hardship", "basisPoints": 150}}}}, 400); err != nil {
		return nil, err
	}
	fmt.Fprintln(out, "  a proposal whose funds exceed the fee is refused before anyone votes (400, field value.funds)")
	p, err := call("POST", "/v1/proposals", ms[0].token, map[string]any{"title": "Lower the platform fee to 2.5 %", "field": "feeSplit", "value": value}, 201)
	if err != nil {
		return nil, err
	}
	id := int64(p["id"].(float64))
	fmt.Fprintf(out, "  Dan proposed feeSplit.platformFeeBasisPoints 300 -> 250: proposal %d, %v eligible voters, closes %v\n", id, p["electorate"], p["deadline"])
	for i, choice := range []string{"yes", "yes", "no", "yes"} {
		if _, err := call("PUT", fmt.Sprintf("/v1/proposals/%d/ballot", id), ms[i].token, map[string]any{"choice": choice}, 200); err != nil {
			return nil, err
		}
	}
	fmt.Fprintln(out, "  ballots: drivers yes, yes; rider no; staff yes")
	if err := step(7*24*time.Hour + time.Minute); err != nil {
		return nil, err
	}
	fmt.Fprintln(out, "[simulated] seven days pass on the platform's clock")
	closed, err := call("GET", fmt.Sprintf("/v1/proposals/%d", id), ms[2].token, nil, 200)
	if err != nil {
		return nil, err
	}
	res, _ := closed["proposal"].(map[string]any)["result"].(map[string]any)
	if res == nil {
		return nil, fmt.Errorf("proposal %d did not close at its deadline: %v", id, closed["proposal"])
	}
	fmt.Fprintf(out, "  the proposal closed at its deadline: passed=%v, turnout %v%%, approval %v%%\n", res["passed"], res["turnoutPercent"], res["approvalPercent"])

	// The operator reads the co-op's database every second here; three minutes leave room for
	// a slow machine and the controller's back-off after errors.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if err := c.Get(ctx, client.ObjectKey{Name: governedCoop}, coop); err != nil {
			return nil, err
		}
		if coop.Status.Governance != nil && len(coop.Status.Governance.History) > 0 && coop.Status.Governance.History[0].ID == id {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the operator did not apply proposal %d (Governed: %+v)", id, meta.FindStatusCondition(coop.Status.Conditions, coopv1.ConditionGoverned))
		}
		time.Sleep(200 * time.Millisecond)
	}
	a := coop.Status.Governance.History[0]
	cond := meta.FindStatusCondition(coop.Status.Conditions, coopv1.ConditionGoverned)
	fmt.Fprintf(out, "  the operator re-tallied the ballots (%s) and applied it: spec.feeSplit.platformFeeBasisPoints is now %d\n", a.Tally, coop.Spec.FeeSplit.PlatformFeeBasisPoints)
	fmt.Fprintf(out, "  status.governance.history[0]: proposal %d, %s %s -> %s; condition Governed=%s (%s)\n", a.ID, a.Field, a.OldValue, a.NewValue, cond.Status, cond.Reason)
	if err := syncPolicy(250); err != nil {
		return nil, err
	}
	if err := srv.Policy().Reload(); err != nil {
		return nil, err
	}
	fmt.Fprintln(out, "[simulated] the kubelet refreshed the mounted coop-policy; the platform reloaded it")
	// Rita rides with Dan; completing the ride records its payment under the new fee.
	if _, err := call("PATCH", fmt.Sprintf("/v1/members/%d", ms[0].id), staff, map[string]any{"qualifications": []string{"ride"}}, 200); err != nil {
		return nil, err
	}
	if _, err := call("PUT", fmt.Sprintf("/v1/members/%d/availability", ms[0].id), ms[0].token, map[string]any{"available": true}, 200); err != nil {
		return nil, err
	}
	ride, err := call("POST", "/v1/work", ms[2].token, map[string]any{"kind": "ride",
		"details": map[string]string{"pickup": "Place Bellecour", "dropoff": "Part-Dieu"}, "priceCents": 2000}, 201)
	if err != nil {
		return nil, err
	}
	rideID := int64(ride["id"].(float64))
	if _, err := call("POST", fmt.Sprintf("/v1/work/%d/match", rideID), ms[2].token, nil, 200); err != nil {
		return nil, err
	}
	var done map[string]any
	for _, step := range []string{"accept", "start", "complete"} {
		if done, err = call("POST", fmt.Sprintf("/v1/work/%d/%s", rideID, step), ms[0].token, nil, 200); err != nil {
			return nil, err
		}
	}
	paymentID, ok := done["paymentId"].(float64)
	if !ok {
		return nil, fmt.Errorf("the completed ride has no payment: %v", done)
	}
	pay, err := call("GET", fmt.Sprintf("/v1/payments/%d", int64(paymentID)), ms[2].token, nil, 200)
	if err != nil {
		return nil, err
	}
	split := pay["split"].(map[string]any)
	fmt.Fprintf(out, "  Rita paid Dan 20.00: platform fee %.0f cents (2.5 %%), Dan receives %.0f cents\n", split["platformFeeCents"], split["workerCents"])
	got, err := call("GET", fmt.Sprintf("/v1/proposals/%d", id), ms[0].token, nil, 200)
	if err != nil {
		return nil, err
	}
	app, _ := got["proposal"].(map[string]any)["application"].(map[string]any)
	fmt.Fprintf(out, "  the members see the proposal as %v: %v\n", app["state"], app["message"])
	told, err := call("GET", fmt.Sprintf("/v1/members/%d/notifications", ms[0].id), ms[0].token, nil, 200)
	if err != nil {
		return nil, err
	}
	var notices []string
	for _, n := range told["notifications"].([]any) {
		n := n.(map[string]any)
		notices = append(notices, fmt.Sprintf("%v %v %v", n["event"], n["subjectId"], n["outcome"]))
	}
	fmt.Fprintf(out, "  Dan is told (%v new, GET /v1/members/%d/notifications): %s\n", told["unread"], ms[0].id, strings.Join(notices, "; "))
	code, err := call("POST", fmt.Sprintf("/v1/members/%d/sign-in-codes", ms[0].id), staff, nil, 201)
	if err != nil {
		return nil, err
	}
	// localhost: browsers keep the app's Secure (__Host-) cookies there without TLS.
	fmt.Fprintf(out, "\nThe members' app of %s: %s/app/\n  sign in as Dan (a driver) with the code %v (staff issued it; it works once, for 24 hours)\n",
		coop.Name, strings.Replace(api.URL, "127.0.0.1", "localhost", 1), code["code"])
	return stopAll, nil
}
