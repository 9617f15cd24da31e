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

package v1alpha1

// The environment the operator gives the containers of a PlatformTemplate's components,
// which the platform service reads: defined here once, for both sides. (The policy file's
// variable, COOP_POLICY_FILE, is api/policy's FileEnv.)
const (
	// EnvCoopName is the co-op's name.
	EnvCoopName = "COOP_NAME"
	// EnvListenAddress is the address of the component's HTTP port (":<port>").
	EnvListenAddress = "LISTEN_ADDRESS"
	// EnvMetricsListen is the address of its metrics port, when it has one.
	EnvMetricsListen = "METRICS_LISTEN"
	// EnvAdminToken is the platform's admin token.
	EnvAdminToken = "ADMIN_TOKEN"
	// EnvDatabaseURL is the URI of the co-op database's serving role.
	EnvDatabaseURL = "DATABASE_URL"
	// EnvMigrateDatabaseURL is the URI of the database's owner: only the migration init
	// container of a database component holds it.
	EnvMigrateDatabaseURL = "MIGRATE_DATABASE_URL"
	// EnvMigrate says when a database component migrates its schema: MigrateOnly in its
	// init container (migrate as the owner, grant the serving role, exit), MigrateNever in
	// the serving container; MigrateAtStart, the default, outside the operator.
	EnvMigrate = "MIGRATE"
	// EnvTrustedProxies lists (comma-separated CIDRs) the proxies whose X-Forwarded-For the
	// platform trusts to tell a request's client (the hub's ingress controller): its
	// limits are per client address before sign-in.
	EnvTrustedProxies = "TRUSTED_PROXIES"
)

// Values of EnvMigrate.
const (
	MigrateAtStart = "true"
	MigrateNever   = "false"
	MigrateOnly    = "only"
)

// InjectedEnv are the variables the operator sets in a component's containers, which a
// template's env may not set (a rule of the PlatformTemplate CRD lists them too, with
// COOP_POLICY_FILE; TestPlatformTemplateValidation checks each).
var InjectedEnv = []string{EnvCoopName, EnvListenAddress, EnvMetricsListen, EnvAdminToken, EnvDatabaseURL, EnvMigrateDatabaseURL, EnvMigrate, EnvTrustedProxies}
