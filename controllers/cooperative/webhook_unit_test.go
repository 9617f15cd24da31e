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

package cooperative

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
)

// hubAdminValidator is a Validator over a fake API server holding a self-service plan
// "standard", whose access reviews allow the user hub-admin and a peer hub's identity (whose
// role may delete the standbys of its region) alone, and counts each review it is asked
// (user, verb and resource) in reviews.
func hubAdminValidator(t *testing.T) (v *Validator, reviews map[string]int) {
	t.Helper()
	scheme := backupScheme(t)
	if err := coopv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	plan := &coopv1.HostingPlan{ObjectMeta: metav1.ObjectMeta{Name: "standard"}, Spec: coopv1.HostingPlanSpec{SelfService: true}}
	reviews = map[string]int{}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(plan).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, cl client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if r, ok := obj.(*authorizationv1.SubjectAccessReview); ok {
				reviews[r.Spec.User+" "+r.Spec.ResourceAttributes.Verb+" "+r.Spec.ResourceAttributes.Resource]++
				r.Status.Allowed = r.Spec.User == "hub-admin" || coopv1.PeerIdentity(r.Spec.User)
				return nil
			}
			return cl.Create(ctx, obj, opts...)
		},
	}).Build()
	hub := hubconfig.Default()
	hub.OperatorUsername = "system:serviceaccount:cooperator-system:cooperator"
	return &Validator{Client: c, Reviews: c, Hub: hub}, reviews
}

// An update that needs the hub's authority for two reasons (it suspends the co-op and sets
// a backup schedule closer than hourly) asks the API server once, and refuses both
// changes when the answer is no.
func TestValidatorAsksEachAccessReviewOnce(t *testing.T) {
	v, reviews := hubAdminValidator(t)

	old := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "fairride"}, Spec: coopv1.CooperativeSpec{Plan: "standard"}}
	old.Spec.Database.Tier = coopv1.DatabaseTierDedicated
	changed := old.DeepCopy()
	changed.Spec.Suspend = true
	changed.Spec.Backup.Schedule = "0 */20 * * * *"

	for _, tc := range []struct {
		user    string
		refused []string
	}{
		{"hub-admin", nil},
		{"alice", []string{"spec.suspend", "spec.backup.schedule"}},
	} {
		ctx := admission.NewContextWithRequest(context.Background(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
			Operation: admissionv1.Update, UserInfo: authenticationv1.UserInfo{Username: tc.user},
		}})
		_, err := v.ValidateUpdate(ctx, old, changed)
		for _, field := range tc.refused {
			if err == nil || !strings.Contains(err.Error(), field) {
				t.Errorf("%s: %v; want %s refused", tc.user, err, field)
			}
		}
		if tc.refused == nil && err != nil {
			t.Errorf("%s: %v; want allowed", tc.user, err)
		}
		if n := reviews[tc.user+" delete cooperatives"]; n != 1 {
			t.Errorf("%s: asked %d times whether they may delete the co-op; want once", tc.user, n)
		}
	}
}

// A peer hub may keep here the standbys its FederationPeer accepts and StandbySlack more
// (refused, waiting for room), and no more: it may not fill this hub's API server with
// standbys it refuses. The other regions' standbys, and those being deleted, do not count.
func TestAPeerKeepsABoundedNumberOfStandbysHere(t *testing.T) {
	scheme := backupScheme(t)
	if err := coopv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	peer := &coopv1.FederationPeer{ObjectMeta: metav1.ObjectMeta{Name: "eu-west"}, Spec: coopv1.FederationPeerSpec{Region: "eu-west",
		Accept: coopv1.FederationAccept{Standbys: true, MaxCooperatives: 2, Plan: "small"}}}
	standby := func(name, region string) *coopv1.Cooperative {
		return &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: coopv1.CooperativeSpec{
			Standby: &coopv1.StandbySpec{HomeRegion: region, HomeCooperative: name}}}
	}
	objs := []client.Object{peer}
	for i := range 2 + StandbySlack - 1 {
		objs = append(objs, standby(fmt.Sprintf("west-%d", i), "eu-west"))
	}
	for i := range 5 {
		objs = append(objs, standby(fmt.Sprintf("north-%d", i), "eu-north"))
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
	hub := hubconfig.Default()
	hub.OperatorUsername = "system:serviceaccount:cooperator-system:cooperator"
	v := &Validator{Client: c, Reviews: c, Hub: hub}
	ctx := admission.NewContextWithRequest(context.Background(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		Operation: admissionv1.Create, UserInfo: authenticationv1.UserInfo{Username: "cooperator-peer-eu-west"},
	}})
	const refusal = "the most it takes"

	// One place is left.
	errs, err := v.standbyCountErrors(ctx, standby("west-last", "eu-west"))
	if err != nil || len(errs) != 0 {
		t.Fatalf("the last place: %v %v; want admitted", errs, err)
	}
	if err := c.Create(ctx, standby("west-last", "eu-west")); err != nil {
		t.Fatal(err)
	}
	_, err = v.ValidateCreate(ctx, standby("west-more", "eu-west"))
	if err == nil || !strings.Contains(err.Error(), refusal) || !strings.Contains(err.Error(), "spec.standby.homeRegion") {
		t.Fatalf("one standby too many: %v; want refused", err)
	}
	// One being deleted makes room.
	gone := standby("west-0", "eu-west")
	if err := c.Get(ctx, client.ObjectKeyFromObject(gone), gone); err != nil {
		t.Fatal(err)
	}
	gone.Finalizers = []string{"test/hold"}
	if err := c.Update(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if errs, err := v.standbyCountErrors(ctx, standby("west-more", "eu-west")); err != nil || len(errs) != 0 {
		t.Errorf("with one being deleted: %v %v; want admitted", errs, err)
	}
	// A region no FederationPeer accepts standbys from: StandbySlack only.
	if errs, _ := v.standbyCountErrors(ctx, standby("north-more", "eu-north")); len(errs) != 0 {
		t.Errorf("the fifth from an undeclared region: %v; want admitted (refused later, as any)", errs)
	}
	for i := 5; i < StandbySlack; i++ {
		if err := c.Create(ctx, standby(fmt.Sprintf("north-%d", i), "eu-north")); err != nil {
			t.Fatal(err)
		}
	}
	if errs, _ := v.standbyCountErrors(ctx, standby("north-more", "eu-north")); len(errs) == 0 || !strings.Contains(errs[0].Detail, refusal) {
		t.Errorf("beyond StandbySlack from an undeclared region: %v; want refused", errs)
	}

	// Creates sent at once, which the cache holds none of yet: one place, one admitted.
	fresh := fake.NewClientBuilder().WithScheme(scheme).WithObjects(peer).Build()
	for i := range 2 + StandbySlack - 1 {
		if err := fresh.Create(ctx, standby(fmt.Sprintf("west-%d", i), "eu-west")); err != nil {
			t.Fatal(err)
		}
	}
	v = &Validator{Client: fresh, Reviews: fresh, Hub: hub}
	var admitted atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if errs, err := v.standbyCountErrors(ctx, standby(fmt.Sprintf("burst-%d", i), "eu-west")); err == nil && len(errs) == 0 {
				admitted.Add(1)
			}
		})
	}
	wg.Wait()
	if n := admitted.Load(); n != 1 {
		t.Errorf("%d of 20 standbys sent at once admitted for the one place left; want 1", n)
	}
}

// The time zone is checked when it is set or changes, and only then: a co-op whose zone a
// newer time zone database dropped is not refused an unrelated update, and is not warned
// again about older platforms.
func TestValidatorChecksTheTimeZoneWhenItChanges(t *testing.T) {
	v, _ := hubAdminValidator(t)
	ctx := admission.NewContextWithRequest(context.Background(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		Operation: admissionv1.Update, UserInfo: authenticationv1.UserInfo{Username: "hub-admin"},
	}})
	coop := func(tz string) *coopv1.Cooperative {
		c := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "fairride"}, Spec: coopv1.CooperativeSpec{Plan: "standard"}}
		c.Spec.Database.Tier = coopv1.DatabaseTierDedicated
		c.Spec.Platform.TimeZone = tz
		return c
	}
	warned := func(w admission.Warnings) bool {
		for _, s := range w {
			if s == TimeZoneWarning {
				return true
			}
		}
		return false
	}
	for _, tc := range []struct {
		name, from, to string
		refused, warns bool
	}{
		{"an unrelated update keeps a zone the database no longer knows", "Europe/Atlantis", "Europe/Atlantis", false, false},
		{"an unrelated update keeps a known zone without a warning", "Europe/Paris", "Europe/Paris", false, false},
		{"a change to an unknown zone", "Europe/Paris", "Europe/Atlantis", true, false},
		{"a change to a known zone", "UTC", "Europe/Paris", false, true},
		{"setting a zone", "", "America/Bogota", false, true},
		{"removing the zone", "Europe/Paris", "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old, changed := coop(tc.from), coop(tc.to)
			changed.Spec.Suspend = true
			w, err := v.ValidateUpdate(ctx, old, changed)
			if got := err != nil && strings.Contains(err.Error(), "spec.platform.timeZone"); got != tc.refused {
				t.Errorf("timeZone refused: %v (%v), want %v", got, err, tc.refused)
			}
			if err != nil && !tc.refused {
				t.Errorf("refused: %v", err)
			}
			if got := warned(w); got != tc.warns {
				t.Errorf("warned about older platforms: %v (%q), want %v", got, w, tc.warns)
			}
		})
	}
}

// An approval fraction set or changed is warned about (a platform of an earlier version
// refuses the document that carries it); an unrelated update is not.
func TestValidatorWarnsOfAnApprovalFraction(t *testing.T) {
	v, _ := hubAdminValidator(t)
	ctx := admission.NewContextWithRequest(context.Background(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		Operation: admissionv1.Update, UserInfo: authenticationv1.UserInfo{Username: "hub-admin"},
	}})
	coop := func(fraction string) *coopv1.Cooperative {
		c := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "fairride"}, Spec: coopv1.CooperativeSpec{Plan: "standard"}}
		c.Spec.Database.Tier = coopv1.DatabaseTierDedicated
		c.Spec.Governance.ApprovalFraction = fraction
		return c
	}
	for _, tc := range []struct {
		name, from, to string
		warns          bool
	}{
		{"set", "", "2/3", true},
		{"changed", "2/3", "3/4", true},
		{"kept", "2/3", "2/3", false},
		{"removed", "2/3", "", false},
	} {
		warnings, err := v.ValidateUpdate(ctx, coop(tc.from), coop(tc.to))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := slices.Contains(warnings, ApprovalFractionWarning); got != tc.warns {
			t.Errorf("%s: warned %v, want %v (%v)", tc.name, got, tc.warns, warnings)
		}
	}
}

// Giving up a restore: refused, whoever sends it, on a co-op that awaits none, without a
// reason or with one too long, and on a new Cooperative; the hub's admin sets it on a co-op
// awaiting its restore, a co-op admin may not.
func TestValidatorJudgesGivingUpARestore(t *testing.T) {
	v, _ := hubAdminValidator(t)
	ctx := context.Background()
	hubAdmin, coopAdmin := &sender{UserInfo: authenticationv1.UserInfo{Username: "hub-admin"}}, &sender{UserInfo: authenticationv1.UserInfo{Username: "coop-alice"}}
	coop := func(awaiting bool, reason *string) *coopv1.Cooperative {
		c := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "fairride", Annotations: map[string]string{}}}
		if awaiting {
			c.Annotations[coopv1.AnnotationImportDump] = "fairride.dump"
			c.Annotations[coopv1.AnnotationImportSHA256] = strings.Repeat("a", 64)
		}
		if reason != nil {
			c.Annotations[coopv1.AnnotationImportAbandon] = *reason
		}
		return c
	}
	reason := func(s string) *string { return &s }
	for _, tc := range []struct {
		name     string
		awaiting bool
		reason   string
		user     *sender
		want     string // "" admitted
	}{
		{"a co-op that awaits no restore", false, "the archive is lost", hubAdmin, "this co-op awaits none"},
		{"no reason", true, "  ", hubAdmin, "say why"},
		{"a reason too long", true, strings.Repeat("x", coopv1.MaxImportAbandonReasonLength+1), hubAdmin, "Too long"},
		{"a co-op admin", true, "the archive is lost", coopAdmin, "only someone who may delete this Cooperative"},
		{"the hub's admin", true, "the archive is lost", hubAdmin, ""},
	} {
		errs, err := v.importAbandonErrors(ctx, coop(tc.awaiting, nil), coop(tc.awaiting, reason(tc.reason)), tc.user)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := errs.ToAggregate(); (tc.want == "") != (got == nil) || (got != nil && !strings.Contains(got.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, got, tc.want)
		}
	}
	create := admission.NewContextWithRequest(ctx, admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		Operation: admissionv1.Create, UserInfo: authenticationv1.UserInfo{Username: "hub-admin"}}})
	_, err := v.ValidateCreate(create, coop(true, reason("given up at once")))
	if err == nil || !strings.Contains(err.Error(), "a new Cooperative has none to give up") {
		t.Errorf("a new Cooperative giving up its restore: %v", err)
	}
}

// TestAPeerIsNoAdminOfItsStandbys: a peer hub's identity may delete the standbys of its
// region here (its role says so), which is the access review that stands for the hub's
// authority; it holds none of that authority all the same. On its standby it may not
// suspend it (which would freeze this hub's hold on its namespace), take the operator's
// finalizer off (which would skip this hub's cleanup), add a finalizer or give it an owner;
// this hub's admins may.
func TestAPeerIsNoAdminOfItsStandbys(t *testing.T) {
	v, _ := hubAdminValidator(t)
	peer := coopv1.PeerUserPrefix + "eu-south"
	old := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "fairride", Finalizers: []string{"coop.cooperator.dev/cleanup"}},
		Spec: coopv1.CooperativeSpec{Plan: "standard", Standby: &coopv1.StandbySpec{HomeRegion: "eu-south", HomeCooperative: "fairride", PrimaryServerName: "fairride"}}}
	old.Spec.Database.Tier = coopv1.DatabaseTierDedicated
	suspended := old.DeepCopy()
	suspended.Spec.Suspend = true
	unfinalized := old.DeepCopy()
	unfinalized.Finalizers = nil
	held := old.DeepCopy()
	held.Finalizers = append(held.Finalizers, "eu-south.example/hold")
	owned := old.DeepCopy()
	owned.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "x", UID: "u"}}
	for _, tc := range []struct {
		name    string
		changed *coopv1.Cooperative
		field   string
	}{
		{"suspends it", suspended, "spec.suspend"},
		{"takes the operator's finalizer off", unfinalized, "metadata.finalizers"},
		{"adds a finalizer", held, "metadata.finalizers"},
		{"gives it an owner", owned, "metadata.ownerReferences"},
	} {
		for _, user := range []string{peer, "hub-admin"} {
			ctx := admission.NewContextWithRequest(context.Background(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
				Operation: admissionv1.Update, UserInfo: authenticationv1.UserInfo{Username: user},
			}})
			_, err := v.ValidateUpdate(ctx, old, tc.changed)
			switch {
			case user == peer && (err == nil || !strings.Contains(err.Error(), tc.field)):
				t.Errorf("the peer %s: %v; want %s refused", tc.name, err, tc.field)
			case user == "hub-admin" && err != nil:
				t.Errorf("a hub admin %s: %v; want allowed", tc.name, err)
			}
		}
	}
}
