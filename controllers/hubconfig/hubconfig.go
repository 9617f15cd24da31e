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

// Package hubconfig holds the hub's settings: its region, its object store for backups, its
// shared database cluster, and the namespaces of its ingress controller and monitoring. They
// come from a YAML file (--config) and flags; a flag set on the command line wins.
package hubconfig

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/robfig/cron"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// ObjectStore is where co-ops' databases archive WAL and base backups.
type ObjectStore struct {
	// DestinationPath is the hub's bucket, such as s3://hub-backups. Each co-op's backups go
	// under <destinationPath>/<region>/<co-op>/.
	DestinationPath string `json:"destinationPath"`
	// EndpointURL of an S3-compatible service; empty for AWS S3.
	EndpointURL string `json:"endpointURL,omitempty"`
	// CredentialsSecret is the Secret, in the operator's namespace, with the keys
	// ACCESS_KEY_ID and ACCESS_SECRET_KEY used for every co-op that has no credentials of its
	// own.
	CredentialsSecret string `json:"credentialsSecret"`
	// PerCooperativeSecretPrefix names per-co-op credentials: a Secret
	// <prefix><co-op name> in the operator's namespace, when it exists, is used for that
	// co-op instead of CredentialsSecret. Hubs should give each co-op credentials limited to
	// its own prefix of the bucket.
	PerCooperativeSecretPrefix string `json:"perCooperativeSecretPrefix"`
}

// SharedCluster is the hub's CloudNativePG Cluster that holds the shared-tier databases.
type SharedCluster struct {
	// Name of the Cluster, in the operator's namespace.
	Name string `json:"name"`
	// Instances of the shared Cluster, when the operator creates it.
	Instances int32 `json:"instances"`
	// Storage of each instance of the shared Cluster, when the operator creates it.
	Storage string `json:"storage"`
	// BackupSchedule of the shared Cluster's base backups (six-field cron, seconds first).
	BackupSchedule string `json:"backupSchedule"`
	// BackupRetention of the shared Cluster's base backups and WAL, such as 30d.
	BackupRetention string `json:"backupRetention"`
	// LogicalBackupSchedule of each shared-tier co-op's own logical backup (pg_dump), a
	// five-field cron as Kubernetes CronJobs read it.
	LogicalBackupSchedule string `json:"logicalBackupSchedule"`
	// MaxConnections is the shared Cluster's max_connections, which the shared-tier roles'
	// connection limits are carved from.
	MaxConnections int32 `json:"maxConnections"`
}

// Config is the hub's settings.
type Config struct {
	// Region of this hub, such as eu-west; part of every backup's path.
	Region string `json:"region"`
	// OperatorNamespace is where the operator runs, and where the hub's Secrets and shared
	// Cluster live.
	OperatorNamespace string `json:"operatorNamespace"`
	// IngressNamespace is the namespace of the ingress controller, allowed into every co-op.
	IngressNamespace string `json:"ingressNamespace"`
	// MonitoringNamespace is the namespace of the hub's monitoring, allowed into every co-op.
	MonitoringNamespace string `json:"monitoringNamespace"`
	// IngressClassName of the platforms' Ingresses; the cluster's default when empty.
	IngressClassName string `json:"ingressClassName,omitempty"`
	// PlatformImage runs the platform service of the default templates.
	PlatformImage string `json:"platformImage"`
	// PostgresImageRepository holds the PostgreSQL images; the tag is the major version.
	PostgresImageRepository string `json:"postgresImageRepository"`
	// ObjectStore is where backups go.
	ObjectStore ObjectStore `json:"objectStore"`
	// SharedCluster holds the shared-tier databases.
	SharedCluster SharedCluster `json:"sharedCluster"`
	// RecheckInterval is how often the operator looks again at something it waits for (a
	// Cluster becoming ready, a backup completing) when no event arrives.
	RecheckInterval Duration `json:"recheckInterval"`
}

// Duration is a time.Duration written as "30s" in YAML.
type Duration struct{ time.Duration }

// UnmarshalJSON reads "30s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q: %w", s, err)
	}
	d.Duration = v
	return nil
}

// MarshalJSON writes "30s".
func (d Duration) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

// Default returns the settings a hub gets when it sets nothing.
func Default() Config {
	return Config{
		Region:                  "local",
		OperatorNamespace:       "cooperator-system",
		IngressNamespace:        "ingress-nginx",
		MonitoringNamespace:     "monitoring",
		PlatformImage:           "ghcr.io/cooperator-dev/cooperator:latest",
		PostgresImageRepository: "ghcr.io/cloudnative-pg/postgresql",
		ObjectStore: ObjectStore{
			DestinationPath:            "s3://cooperator-backups",
			CredentialsSecret:          "cooperator-objectstore",
			PerCooperativeSecretPrefix: "cooperator-objectstore-",
		},
		SharedCluster: SharedCluster{
			Name: "cooperator-shared", Instances: 2, Storage: "20Gi",
			BackupSchedule: "0 0 2 * * *", BackupRetention: "30d", LogicalBackupSchedule: "30 2 * * *", MaxConnections: 200,
		},
		RecheckInterval: Duration{30 * time.Second},
	}
}

// BindFlags registers the settings as flags on fs, with c's values as defaults.
func (c *Config) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Region, "region", c.Region, "region of this hub; part of every backup's path")
	fs.StringVar(&c.OperatorNamespace, "operator-namespace", c.OperatorNamespace, "namespace of the operator, its Secrets and the shared database cluster")
	fs.StringVar(&c.IngressNamespace, "ingress-namespace", c.IngressNamespace, "namespace of the ingress controller, allowed into every co-op namespace")
	fs.StringVar(&c.MonitoringNamespace, "monitoring-namespace", c.MonitoringNamespace, "namespace of the hub's monitoring, allowed into every co-op namespace")
	fs.StringVar(&c.IngressClassName, "ingress-class", c.IngressClassName, "ingress class of the platforms' Ingresses (the cluster's default when empty)")
	fs.StringVar(&c.PlatformImage, "platform-image", c.PlatformImage, "image of the platform service used by templates that name none")
	fs.StringVar(&c.PostgresImageRepository, "postgres-image-repository", c.PostgresImageRepository, "repository of PostgreSQL images; the tag is the major version")
	fs.StringVar(&c.ObjectStore.DestinationPath, "backup-destination", c.ObjectStore.DestinationPath, "the hub's bucket for backups; each co-op's go under <destination>/<region>/<co-op>/")
	fs.StringVar(&c.ObjectStore.EndpointURL, "backup-endpoint", c.ObjectStore.EndpointURL, "endpoint URL of an S3-compatible object store")
	fs.StringVar(&c.ObjectStore.CredentialsSecret, "backup-credentials-secret", c.ObjectStore.CredentialsSecret, "Secret in the operator namespace with ACCESS_KEY_ID and ACCESS_SECRET_KEY for the object store")
	fs.StringVar(&c.ObjectStore.PerCooperativeSecretPrefix, "backup-credentials-prefix", c.ObjectStore.PerCooperativeSecretPrefix, "prefix of per-co-op object store Secrets in the operator namespace (<prefix><co-op>)")
	fs.StringVar(&c.SharedCluster.Name, "shared-cluster", c.SharedCluster.Name, "name of the shared CloudNativePG Cluster in the operator namespace")
	fs.DurationVar(&c.RecheckInterval.Duration, "recheck-interval", c.RecheckInterval.Duration, "how often to look again at something the operator waits for")
}

// Load reads a YAML config file over c. Unknown keys are an error, so a typo is not
// silently ignored.
func (c *Config) Load(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading config file: %w", err)
	}
	if err := yaml.UnmarshalStrict(b, c); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// WithFile returns the settings of a YAML file over base (the defaults, adjusted by the
// environment), with the flags that were set on fs's command line applied on top: a flag
// given explicitly wins over the file, the file over base. fs must have been parsed, with
// its settings bound by BindFlags.
func WithFile(fs *flag.FlagSet, path string, base Config) (Config, error) {
	c := base
	if err := c.Load(path); err != nil {
		return Config{}, err
	}
	over := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	c.BindFlags(over)
	var errs []error
	fs.Visit(func(f *flag.Flag) {
		if over.Lookup(f.Name) != nil {
			errs = append(errs, over.Set(f.Name, f.Value.String()))
		}
	})
	return c, errors.Join(errs...)
}

// Validate returns every problem with the settings, each naming the setting.
func (c *Config) Validate() error {
	var errs []error
	check := func(name, value string) {
		if msgs := validation.IsDNS1123Label(value); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("%s %q: %s", name, value, strings.Join(msgs, "; ")))
		}
	}
	check("region", c.Region)
	check("operatorNamespace", c.OperatorNamespace)
	check("ingressNamespace", c.IngressNamespace)
	check("monitoringNamespace", c.MonitoringNamespace)
	check("sharedCluster.name", c.SharedCluster.Name)
	if c.ObjectStore.DestinationPath == "" || !strings.Contains(c.ObjectStore.DestinationPath, "://") {
		errs = append(errs, fmt.Errorf("objectStore.destinationPath %q: must be a URL such as s3://bucket", c.ObjectStore.DestinationPath))
	}
	if c.ObjectStore.CredentialsSecret == "" {
		errs = append(errs, errors.New("objectStore.credentialsSecret: must name a Secret"))
	}
	if _, err := resource.ParseQuantity(c.SharedCluster.Storage); err != nil {
		errs = append(errs, fmt.Errorf("sharedCluster.storage %q: %w", c.SharedCluster.Storage, err))
	}
	if c.SharedCluster.MaxConnections < 50 {
		errs = append(errs, fmt.Errorf("sharedCluster.maxConnections %d: must be at least 50", c.SharedCluster.MaxConnections))
	}
	if _, err := cron.Parse(c.SharedCluster.BackupSchedule); err != nil {
		errs = append(errs, fmt.Errorf("sharedCluster.backupSchedule %q: must be a six-field cron, seconds first: %w", c.SharedCluster.BackupSchedule, err))
	}
	if _, err := cron.ParseStandard(c.SharedCluster.LogicalBackupSchedule); err != nil {
		errs = append(errs, fmt.Errorf("sharedCluster.logicalBackupSchedule %q: must be a five-field cron: %w", c.SharedCluster.LogicalBackupSchedule, err))
	}
	if c.SharedCluster.BackupRetention == "" {
		errs = append(errs, errors.New("sharedCluster.backupRetention: must be set, such as 30d"))
	}
	if c.SharedCluster.Instances < 1 {
		errs = append(errs, fmt.Errorf("sharedCluster.instances %d: must be at least 1", c.SharedCluster.Instances))
	}
	if repo := c.PostgresImageRepository; repo == "" || strings.Contains(repo, "@") || strings.Contains(repo[strings.LastIndex(repo, "/")+1:], ":") {
		errs = append(errs, fmt.Errorf("postgresImageRepository %q: must be a repository without tag or digest; the tag is each co-op's PostgreSQL major version", repo))
	}
	if c.PlatformImage == "" {
		errs = append(errs, errors.New("platformImage: must name an image"))
	}
	if c.RecheckInterval.Duration <= 0 {
		errs = append(errs, errors.New("recheckInterval: must be positive"))
	}
	return errors.Join(errs...)
}

// BackupDestination is where a co-op's backups go: <destinationPath>/<region>/<co-op>/.
func (c *Config) BackupDestination(cooperative string) string {
	return strings.TrimRight(c.ObjectStore.DestinationPath, "/") + "/" + c.Region + "/" + cooperative + "/"
}
