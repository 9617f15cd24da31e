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
	"strings"
	"testing"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// wantCondition is what a set...Condition function must leave: the status, the reason and
// words the message must hold.
type wantCondition struct {
	status  metav1.ConditionStatus
	reason  string
	message []string
}

func checkCondition(t *testing.T, coop *coopv1.Cooperative, conditionType string, want wantCondition) {
	t.Helper()
	c := meta.FindStatusCondition(coop.Status.Conditions, conditionType)
	if c == nil {
		t.Fatalf("no %s condition", conditionType)
	}
	if c.Status != want.status || c.Reason != want.reason {
		t.Errorf("%s = %s/%s (%q), want %s/%s", conditionType, c.Status, c.Reason, c.Message, want.status, want.reason)
	}
	if c.ObservedGeneration != coop.Generation {
		t.Errorf("%s observed generation %d, the co-op's is %d", conditionType, c.ObservedGeneration, coop.Generation)
	}
	for _, m := range want.message {
		if !strings.Contains(c.Message, m) {
			t.Errorf("%s message %q does not say %q", conditionType, c.Message, m)
		}
	}
}

func conditionCoop() *coopv1.Cooperative {
	coop := &coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: "fairride", Generation: 4}}
	coop.Spec.Vertical = "ride-sharing"
	return coop
}

func TestSetDedicatedDatabaseCondition(t *testing.T) {
	ready := func(c *cnpgv1.Cluster) *cnpgv1.Cluster {
		c.Status.Conditions = []metav1.Condition{{Type: string(cnpgv1.ConditionClusterReady), Status: metav1.ConditionTrue, Reason: "ClusterIsReady"}}
		c.Status.ReadyInstances = 2
		return c
	}
	cluster := func() *cnpgv1.Cluster {
		return &cnpgv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: "fairride"}}
	}
	refusing := ready(cluster())
	refusing.Status.ManagedRolesStatus.CannotReconcile = map[string][]string{DedicatedServingRole: {"role is reserved"}}
	creating := cluster()
	creating.Status.Phase = "Setting up primary"
	for _, tc := range []struct {
		name    string
		cluster *cnpgv1.Cluster
		plan    DatabasePlan
		want    wantCondition
	}{
		{"no Cluster yet", nil, DatabasePlan{Bootstrap: coopv1.BootstrapInitDB},
			wantCondition{metav1.ConditionFalse, coopv1.ReasonClusterNotReady, []string{"Cluster fairride: being created"}}},
		{"a Cluster in its phase", creating, DatabasePlan{Bootstrap: coopv1.BootstrapInitDB},
			wantCondition{metav1.ConditionFalse, coopv1.ReasonClusterNotReady, []string{"Setting up primary"}}},
		{"a Cluster restoring", nil, DatabasePlan{Bootstrap: coopv1.BootstrapRecovery, RecoverFrom: "fairride-2"},
			wantCondition{metav1.ConditionFalse, coopv1.ReasonRecovering, []string{"restoring from the backups of server fairride-2"}}},
		{"Ready", ready(cluster()), DatabasePlan{Bootstrap: coopv1.BootstrapInitDB},
			wantCondition{metav1.ConditionTrue, coopv1.ReasonReady, []string{"ready with 2 instances"}}},
		{"Ready, restored", ready(cluster()), DatabasePlan{Bootstrap: coopv1.BootstrapRecovery, RecoverFrom: "fairride-2"},
			wantCondition{metav1.ConditionTrue, coopv1.ReasonReady, nil}},
		{"Ready, but the serving role refused", refusing, DatabasePlan{Bootstrap: coopv1.BootstrapInitDB},
			wantCondition{metav1.ConditionFalse, coopv1.ReasonDatabaseNotReady, []string{"cannot reconcile the serving role " + DedicatedServingRole, "role is reserved"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			coop := conditionCoop()
			setDedicatedDatabaseCondition(coop, tc.cluster, tc.plan)
			checkCondition(t, coop, coopv1.ConditionDatabaseReady, tc.want)
		})
	}
}

func TestSetSharedDatabaseCondition(t *testing.T) {
	role := func(applied *bool, msg string) *cnpgv1.DatabaseRole {
		r := &cnpgv1.DatabaseRole{}
		r.Status.Applied, r.Status.Message = applied, msg
		return r
	}
	database := func(applied *bool) *cnpgv1.Database {
		d := &cnpgv1.Database{}
		d.Status.Applied = applied
		return d
	}
	yes, no := ptr.To(true), ptr.To(false)
	coop := conditionCoop()
	for _, tc := range []struct {
		name           string
		owner, serving *cnpgv1.DatabaseRole
		db             *cnpgv1.Database
		want           wantCondition
	}{
		{"nothing created yet", role(nil, ""), role(nil, ""), database(nil),
			wantCondition{metav1.ConditionFalse, coopv1.ReasonDatabaseNotReady, []string{"role " + coopv1.SharedRoleName(coop) + " not applied yet in Cluster shared"}}},
		{"the owner role refused", role(no, "role exists"), role(yes, ""), database(yes),
			wantCondition{metav1.ConditionFalse, coopv1.ReasonDatabaseNotReady, []string{"role exists"}}},
		{"the serving role not applied", role(yes, ""), role(nil, ""), database(yes),
			wantCondition{metav1.ConditionFalse, coopv1.ReasonDatabaseNotReady, []string{"role " + ServingRoleName(coop) + " not applied yet"}}},
		{"the database not applied", role(yes, ""), role(yes, ""), database(no),
			wantCondition{metav1.ConditionFalse, coopv1.ReasonDatabaseNotReady, []string{"database " + coopv1.SharedRoleName(coop) + " not applied yet"}}},
		{"all applied", role(yes, ""), role(yes, ""), database(yes),
			wantCondition{metav1.ConditionTrue, coopv1.ReasonReady, []string{"in the shared Cluster shared"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			coop := conditionCoop()
			setSharedDatabaseCondition(coop, "shared", tc.owner, tc.serving, tc.db)
			checkCondition(t, coop, coopv1.ConditionDatabaseReady, tc.want)
		})
	}
}

func TestSetPlatformCondition(t *testing.T) {
	version := &coopv1.TemplateVersion{Version: "1.4.0", Components: []coopv1.Component{{Name: "api"}, {Name: "dispatch"}}}
	for _, tc := range []struct {
		name          string
		databaseReady bool
		notAvailable  []string
		want          wantCondition
	}{
		{"every component available", true, nil,
			wantCondition{metav1.ConditionTrue, coopv1.ReasonReady, []string{"ride-sharing 1.4.0: 2 components available"}}},
		{"available although the database is not (a component without one)", false, nil,
			wantCondition{metav1.ConditionTrue, coopv1.ReasonReady, nil}},
		{"waiting for the database", false, []string{"api"},
			wantCondition{metav1.ConditionFalse, coopv1.ReasonWaitingForDatabase, []string{"waiting for the database; not available: api"}}},
		{"not available with the database ready", true, []string{"api", "dispatch"},
			wantCondition{metav1.ConditionFalse, coopv1.ReasonDeploymentsNotAvailable, []string{"not available: api, dispatch"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			coop := conditionCoop()
			status := metav1.ConditionFalse
			if tc.databaseReady {
				status = metav1.ConditionTrue
			}
			setCondition(coop, coopv1.ConditionDatabaseReady, status, "Test", "")
			setPlatformCondition(coop, version, tc.notAvailable)
			checkCondition(t, coop, coopv1.ConditionPlatformReady, tc.want)
		})
	}
}
