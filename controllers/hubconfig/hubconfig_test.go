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
	err := c.Validate()
	if err == nil {
		t.Fatal("invalid settings were accepted")
	}
	for _, want := range []string{"region", "objectStore.destinationPath", "sharedCluster.storage", "sharedCluster.instances", "sharedCluster.maxConnections", "sharedCluster.backupSchedule", "sharedCluster.logicalBackupSchedule", "sharedCluster.backupRetention", "recheckInterval", "postgresImageRepository"} {
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
