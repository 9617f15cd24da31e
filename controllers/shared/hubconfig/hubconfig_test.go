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

package hubconfig

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultsAreValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := c.BackupDestination("fairride-lyon"); got != "s3://cooperator-backups/local/fairride-lyon/" {
		t.Errorf("BackupDestination = %q", got)
	}
}

func TestIsolation_1_HubWideCredentialsOnlyForASingleTenant(t *testing.T) {
	c := Default()
	if c.ObjectStore.SingleTenant {
		t.Fatal("singleTenant must be off by default")
	}
	if got := c.ObjectStore.CredentialsSecretsFor("a"); strings.Join(got, ",") != "cooperator-objectstore-a" {
		t.Errorf("without the opt-in, a co-op may use only its own Secret, got %v", got)
	}
	if got := c.ObjectStore.ReadCredentialsSecret("a"); got != "cooperator-objectstore-a-read" {
		t.Errorf("ReadCredentialsSecret = %q", got)
	}
	c.ObjectStore.SingleTenant = true
	if got := c.ObjectStore.CredentialsSecretsFor("a"); strings.Join(got, ",") != "cooperator-objectstore-a,cooperator-objectstore" {
		t.Errorf("with the opt-in, its own first, then the hub's: got %v", got)
	}
	if got := c.ObjectStore.ReadCredentialsSecret("a"); got != "cooperator-objectstore-a-read" {
		t.Errorf("peers get only the co-op's own read-only Secret, even for a single tenant: %q", got)
	}
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	d := Default()
	d.BindFlags(fs)
	if err := fs.Parse([]string{"--backup-single-tenant"}); err != nil || !d.ObjectStore.SingleTenant {
		t.Errorf("--backup-single-tenant: %v, %v", err, d.ObjectStore.SingleTenant)
	}
}

func TestWithFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "hub.yaml")
	if err := os.WriteFile(file, []byte(`
region: eu-west
ingressNamespace: traefik
objectStore:
  destinationPath: s3://hub-backups/
  credentialsSecret: hub-s3
recheckInterval: 45s
`), 0o600); err != nil {
		t.Fatal(err)
	}
	parse := func(args ...string) (Config, error) {
		c := Default()
		fs := flag.NewFlagSet("manager", flag.ContinueOnError)
		c.BindFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		base := Default()
		base.OperatorNamespace = "from-env"
		return WithFile(fs, file, base)
	}

	c, err := parse()
	if err != nil {
		t.Fatal(err)
	}
	if c.Region != "eu-west" || c.IngressNamespace != "traefik" || c.ObjectStore.CredentialsSecret != "hub-s3" || c.RecheckInterval.Duration != 45*time.Second {
		t.Errorf("the file's settings were not read: %+v", c)
	}
	if c.MonitoringNamespace != "monitoring" || c.OperatorNamespace != "from-env" {
		t.Errorf("a setting the file leaves out keeps its base value, got %q %q", c.MonitoringNamespace, c.OperatorNamespace)
	}
	if got := c.BackupDestination("a"); got != "s3://hub-backups/eu-west/a/" {
		t.Errorf("BackupDestination = %q", got)
	}

	c, err = parse("--region=eu-south", "--recheck-interval=10s")
	if err != nil {
		t.Fatal(err)
	}
	if c.Region != "eu-south" || c.RecheckInterval.Duration != 10*time.Second || c.IngressNamespace != "traefik" {
		t.Errorf("a flag on the command line wins over the file, the rest comes from it: %+v", c)
	}
}

func TestLoadRefusesUnknownKeys(t *testing.T) {
	file := filepath.Join(t.TempDir(), "hub.yaml")
	if err := os.WriteFile(file, []byte("regoin: eu-west\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Default()
	if err := c.Load(file); err == nil || !strings.Contains(err.Error(), "regoin") {
		t.Errorf("a misspelt key must be refused, got %v", err)
	}
}

func TestValidateNamesEverySetting(t *testing.T) {
	c := Default()
	c.Region = "EU West"
	c.ObjectStore.DestinationPath = "bucket"
	c.SharedCluster.Storage = "lots"
	c.SharedCluster.Instances = 0
	c.SharedCluster.MaxConnections = 10
	c.SharedCluster.BackupSchedule = "daily"
	c.SharedCluster.LogicalBackupSchedule = "every day"
	c.SharedCluster.BackupRetention = ""
	c.RecheckInterval.Duration = 0
	c.PostgresImageRepository = "ghcr.io/cloudnative-pg/postgresql:latest"
	c.IngressProxies = []string{"10.0.0.0/8", "the controller"}
	err := c.Validate()
	if err == nil {
		t.Fatal("invalid settings were accepted")
	}
	for _, want := range []string{"region", "objectStore.destinationPath", "sharedCluster.storage", "sharedCluster.instances", "sharedCluster.maxConnections", "sharedCluster.backupSchedule", "sharedCluster.logicalBackupSchedule", "sharedCluster.backupRetention", "recheckInterval", "postgresImageRepository", "ingressProxies[1]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %s: %v", want, err)
		}
	}
}

func TestPostgresImageRepository(t *testing.T) {
	for repo, ok := range map[string]bool{
		"ghcr.io/cloudnative-pg/postgresql":          true,
		"registry.local:5000/cnpg/postgresql":        true,
		"ghcr.io/cloudnative-pg/postgresql:17":       false,
		"ghcr.io/cloudnative-pg/postgresql@sha256:0": false,
		"": false,
	} {
		c := Default()
		c.PostgresImageRepository = repo
		if err := c.Validate(); (err == nil) != ok {
			t.Errorf("%q: valid=%v, want %v (%v)", repo, err == nil, ok, err)
		}
	}
}

func TestAdmissionSettings(t *testing.T) {
	file := filepath.Join(t.TempDir(), "hub.yaml")
	if err := os.WriteFile(file, []byte(`
breakGlassGroup: hub-oncall
reservedUsers: [hub-admin, "oidc:hub-*"]
reservedGroups: [hub-admins]
allowedHostDomains: [coops.example.org]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Default()
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	c.BindFlags(fs)
	if err := fs.Parse([]string{"--allowed-host-domains=example.coop, other.example"}); err != nil {
		t.Fatal(err)
	}
	c, err := WithFile(fs, file, Default())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.BreakGlassGroup != "hub-oncall" || len(c.ReservedUsers) != 2 || c.ReservedGroups[0] != "hub-admins" {
		t.Errorf("the file's settings were not read: %+v", c)
	}
	if strings.Join(c.AllowedHostDomains, ",") != "example.coop,other.example" {
		t.Errorf("the flag wins over the file: %v", c.AllowedHostDomains)
	}
	for host, ok := range map[string]bool{
		"example.coop": true, "fairride.lyon.example.coop": true, "a.other.example": true,
		"notexample.coop": false, "example.coop.evil.net": false, "other.examples": false,
	} {
		if c.HostAllowed(host) != ok {
			t.Errorf("HostAllowed(%q) = %v, want %v", host, !ok, ok)
		}
	}
	if d := Default(); !d.HostAllowed("anything.example") {
		t.Error("no allowed domains means any host")
	}
	for _, tc := range []struct {
		kind, name string
		want       bool
	}{
		{"User", "hub-admin", true}, {"User", "hub-admin2", false}, {"User", "oidc:hub-bob", true},
		{"User", "oidc:coop-bob", false}, {"Group", "hub-admins", true}, {"Group", "hub-admin", false},
		{"User", "hub-admins", false},
	} {
		if got := c.Reserved(tc.kind, tc.name); got != tc.want {
			t.Errorf("Reserved(%s %s) = %v, want %v", tc.kind, tc.name, got, tc.want)
		}
	}

	c.AllowedHostDomains = []string{"Example.COOP"}
	c.ReservedGroups = []string{"*"}
	err = c.Validate()
	for _, want := range []string{"allowedHostDomains[0]", "reservedGroups[0]"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %s: %v", want, err)
		}
	}
}

// TestEgressTakesPorts: a network.apiServer or network.objectStore with addresses or a
// namespace and no ports would become a NetworkPolicy rule open on every port; it is
// refused, naming the setting. Without a destination, no ports is no rule at all.
func TestEgressTakesPorts(t *testing.T) {
	c := Default()
	c.Network.ObjectStore = EgressPeer{CIDRs: []string{"0.0.0.0/0"}}
	c.Network.APIServer = EgressPeer{Namespace: "default"}
	err := c.Validate()
	for _, want := range []string{"network.objectStore.ports: must name at least one port", "network.apiServer.ports: must name at least one port"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("egress without ports: %v, want %q", err, want)
		}
	}
	c.Network.ObjectStore, c.Network.APIServer = EgressPeer{}, EgressPeer{}
	if err := c.Validate(); err != nil {
		t.Errorf("no egress settings at all: %v", err)
	}
}
