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
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/robfig/cron"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// ObjectStore is where co-ops' databases archive WAL and base backups.
type ObjectStore struct {
	// DestinationPath is the hub's bucket, such as s3://hub-backups. Each co-op's backups go
	// under <destinationPath>/<region>/<co-op>/.
	DestinationPath string `json:"destinationPath"`
	// EndpointURL of an S3-compatible service; empty for AWS S3.
	EndpointURL string `json:"endpointURL,omitempty"`
	// CredentialsSecret is the Secret, in the operator's namespace, with the keys
	// ACCESS_KEY_ID and ACCESS_SECRET_KEY that reach the whole bucket. It is used for a co-op
	// only when SingleTenant is true; it is never sent to a peer.
	CredentialsSecret string `json:"credentialsSecret"`
	// PerCooperativeSecretPrefix names per-co-op credentials in the operator's namespace:
	// <prefix><co-op name> (read-write, limited to <bucket>/<region>/<co-op>/) is copied into
	// the co-op's namespace for its Cluster, and <prefix><co-op name>-read (read-only, same
	// prefix) is the only Secret ever sent to a peer hub for that co-op.
	PerCooperativeSecretPrefix string `json:"perCooperativeSecretPrefix"`
	// SingleTenant lets a co-op without credentials of its own use CredentialsSecret, which
	// is then copied into its namespace. Off by default: on a hub with more than one co-op,
	// a copy of the hub-wide keys in one co-op's namespace reaches every co-op's backups.
	// Turn it on only for a hub that hosts a single co-op (or trusts all of them with each
	// other's backups). Peers still get only per-co-op read-only credentials.
	SingleTenant bool `json:"singleTenant,omitempty"`
}

// CooperativeCredentialsSecret is the Secret, in the operator's namespace, with the co-op's
// own read-write object store credentials.
func (o *ObjectStore) CooperativeCredentialsSecret(cooperative string) string {
	return o.PerCooperativeSecretPrefix + cooperative
}

// ReadCredentialsSecret is the Secret, in the operator's namespace, with the co-op's own
// read-only object store credentials: the only credentials a peer hub gets for it.
func (o *ObjectStore) ReadCredentialsSecret(cooperative string) string {
	return o.PerCooperativeSecretPrefix + cooperative + coopv1.ReadCredentialsSuffix
}

// CredentialsSecretsFor are the Secrets, in order of preference, whose credentials a co-op's
// Cluster may use: its own, then the hub-wide ones only when the hub opted in to
// SingleTenant.
func (o *ObjectStore) CredentialsSecretsFor(cooperative string) []string {
	names := []string{o.CooperativeCredentialsSecret(cooperative)}
	if o.SingleTenant {
		names = append(names, o.CredentialsSecret)
	}
	return names
}

// EgressPeer is a destination outside the co-op namespaces that some co-op pods must reach:
// addresses (CIDRs), or the pods of a namespace, on the given TCP ports.
type EgressPeer struct {
	// CIDRs of the destination, such as 10.0.0.10/32.
	CIDRs []string `json:"cidrs"`
	// Namespace whose pods are the destination (an in-cluster MinIO, say).
	Namespace string `json:"namespace"`
	// Ports, TCP.
	Ports []int32 `json:"ports"`
}

// Network is what co-op namespaces may reach besides DNS, themselves and their database;
// everything else is denied (README, "Security model").
type Network struct {
	// APIServer is where the Kubernetes API server's endpoints are (the addresses behind the
	// kubernetes Service, usually the control plane's, port 6443 or 443). CloudNativePG's
	// instance pods talk to it; nothing else in a co-op namespace may. Empty CIDRs: no rule,
	// and a dedicated co-op's instances cannot start on a cluster that enforces egress.
	APIServer EgressPeer `json:"apiServer"`
	// ObjectStore is where the database pods send WAL and base backups: the addresses or
	// the namespace of the object store's endpoint. Empty: no rule, and backups fail on a
	// cluster that enforces egress.
	ObjectStore EgressPeer `json:"objectStore"`
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
	// IngressProxies are the CIDRs of the ingress controller's pods (or of the proxies in
	// front of the platforms): the platforms trust their X-Forwarded-For to tell a
	// request's client, for their limits per address before sign-in. Empty: the limits are
	// per peer address, and every request through the controller shares one budget.
	IngressProxies []string `json:"ingressProxies,omitempty"`
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

	// MaxVoteHoldAtPeer bounds how long a switchover (spec.federation.primary, the co-op
	// admins' decision) may hold back proposals the members passed: once they have waited
	// that long for the primary to come home, the operator brings it home. 0: no bound.
	MaxVoteHoldAtPeer Duration `json:"maxVoteHoldAtPeer"`

	// OperatorUsername is the only identity whose direct updates of a co-op's governed
	// fields the validating webhook admits: the operator's own, which applies passed
	// proposals. Empty (the default), it is the identity the manager runs as, which the
	// manager asks the API server at start (a SelfSubjectReview): in a cluster,
	// system:serviceaccount:<operatorNamespace>:cooperator-controller-manager. Set it only
	// when the webhook is served under another identity than the controllers.
	OperatorUsername string `json:"operatorUsername,omitempty"`
	// BreakGlassGroup is the group whose members may change governed fields directly in an
	// emergency, stating a reason in annotations; each use is recorded in the co-op's status,
	// as an event, and shown to its members. Empty: the hub has no break-glass path.
	BreakGlassGroup string `json:"breakGlassGroup"`
	// ReservedUsers and ReservedGroups are users and groups of the hub (its admins, its
	// automation) that no co-op may name in spec.admins. An entry ending in * reserves
	// every name it starts. Names starting with system: are refused by the CRD already.
	ReservedUsers  []string `json:"reservedUsers,omitempty"`
	ReservedGroups []string `json:"reservedGroups,omitempty"`
	// AllowedHostDomains are the domains a co-op's spec.platform.host must fall under (the
	// domain itself or a name below it). Empty: any host.
	AllowedHostDomains []string `json:"allowedHostDomains,omitempty"`
	// Network is what co-op pods may reach outside their namespace.
	Network Network `json:"network"`
	// OperatorServiceAccount is the operator's ServiceAccount, in OperatorNamespace; each
	// co-op namespace binds the ClusterRole cooperator-tenant to it.
	OperatorServiceAccount string `json:"operatorServiceAccount"`
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
		RecheckInterval:   Duration{30 * time.Second},
		MaxVoteHoldAtPeer: Duration{DefaultMaxVoteHoldAtPeer},
		BreakGlassGroup:   DefaultBreakGlassGroup,
		// Empty, not nil: as a settings file writes them ([]).
		ReservedUsers:      []string{},
		ReservedGroups:     []string{},
		IngressProxies:     []string{},
		AllowedHostDomains: []string{},
		Network: Network{
			APIServer:   EgressPeer{CIDRs: []string{}, Ports: []int32{443, 6443}},
			ObjectStore: EgressPeer{CIDRs: []string{}, Ports: []int32{443}},
		},
		OperatorServiceAccount: "cooperator-controller-manager",
	}
}

// DefaultMaxVoteHoldAtPeer is MaxVoteHoldAtPeer when the hub sets none: a week, as long as
// a vote stays open by default.
const DefaultMaxVoteHoldAtPeer = 7 * 24 * time.Hour

// DefaultBreakGlassGroup is the hub's break-glass group when it names none.
const DefaultBreakGlassGroup = "cooperator:break-glass"

// stringList is a flag of comma-separated values that replaces the list it is bound to.
type stringList struct{ list *[]string }

func (l stringList) String() string {
	if l.list == nil {
		return ""
	}
	return strings.Join(*l.list, ",")
}

func (l stringList) Set(v string) error {
	*l.list = nil
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*l.list = append(*l.list, item)
		}
	}
	return nil
}

// BindFlags registers the settings as flags on fs, with c's values as defaults.
func (c *Config) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Region, "region", c.Region, "region of this hub; part of every backup's path")
	fs.StringVar(&c.OperatorNamespace, "operator-namespace", c.OperatorNamespace, "namespace of the operator, its Secrets and the shared database cluster")
	fs.StringVar(&c.IngressNamespace, "ingress-namespace", c.IngressNamespace, "namespace of the ingress controller, allowed into every co-op namespace")
	fs.StringVar(&c.MonitoringNamespace, "monitoring-namespace", c.MonitoringNamespace, "namespace of the hub's monitoring, allowed into every co-op namespace")
	fs.StringVar(&c.IngressClassName, "ingress-class", c.IngressClassName, "ingress class of the platforms' Ingresses (the cluster's default when empty)")
	fs.Var(stringList{&c.IngressProxies}, "ingress-proxies", "comma-separated CIDRs of the ingress controller's pods, whose X-Forwarded-For the platforms trust to tell a request's client")
	fs.StringVar(&c.PlatformImage, "platform-image", c.PlatformImage, "image of the platform service used by templates that name none")
	fs.StringVar(&c.PostgresImageRepository, "postgres-image-repository", c.PostgresImageRepository, "repository of PostgreSQL images; the tag is the major version")
	fs.StringVar(&c.ObjectStore.DestinationPath, "backup-destination", c.ObjectStore.DestinationPath, "the hub's bucket for backups; each co-op's go under <destination>/<region>/<co-op>/")
	fs.StringVar(&c.ObjectStore.EndpointURL, "backup-endpoint", c.ObjectStore.EndpointURL, "endpoint URL of an S3-compatible object store")
	fs.StringVar(&c.ObjectStore.CredentialsSecret, "backup-credentials-secret", c.ObjectStore.CredentialsSecret, "Secret in the operator namespace with ACCESS_KEY_ID and ACCESS_SECRET_KEY for the object store")
	fs.StringVar(&c.ObjectStore.PerCooperativeSecretPrefix, "backup-credentials-prefix", c.ObjectStore.PerCooperativeSecretPrefix, "prefix of per-co-op object store Secrets in the operator namespace (<prefix><co-op>)")
	fs.BoolVar(&c.ObjectStore.SingleTenant, "backup-single-tenant", c.ObjectStore.SingleTenant, "let co-ops without their own object store Secret use the hub-wide one (copied into their namespace); for a hub with a single co-op only")
	fs.StringVar(&c.SharedCluster.Name, "shared-cluster", c.SharedCluster.Name, "name of the shared CloudNativePG Cluster in the operator namespace")
	fs.DurationVar(&c.RecheckInterval.Duration, "recheck-interval", c.RecheckInterval.Duration, "how often to look again at something the operator waits for")
	fs.DurationVar(&c.MaxVoteHoldAtPeer.Duration, "max-vote-hold-at-peer", c.MaxVoteHoldAtPeer.Duration, "how long passed proposals may wait for a co-op's primary database to come home from a peer before the operator brings it home; 0: no bound")
	fs.StringVar(&c.OperatorUsername, "operator-username", c.OperatorUsername, "the only identity allowed to update governed fields directly (the operator's); empty: the identity the manager runs as")
	fs.StringVar(&c.BreakGlassGroup, "break-glass-group", c.BreakGlassGroup, "group whose members may change governed fields in an emergency, recorded; empty: no break-glass path")
	fs.Var(stringList{&c.ReservedUsers}, "reserved-users", "comma-separated users no co-op may name as admin (a trailing * reserves a prefix)")
	fs.Var(stringList{&c.ReservedGroups}, "reserved-groups", "comma-separated groups no co-op may name as admin (a trailing * reserves a prefix)")
	fs.Var(stringList{&c.AllowedHostDomains}, "allowed-host-domains", "comma-separated domains co-op hosts must fall under; empty: any")
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
	for i, cidr := range c.IngressProxies {
		if _, err := netip.ParsePrefix(cidr); err != nil {
			errs = append(errs, fmt.Errorf("ingressProxies[%d] %q: must be a CIDR such as 10.0.0.0/8", i, cidr))
		}
	}
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
	for _, np := range []struct {
		name string
		peer EgressPeer
	}{{"network.apiServer", c.Network.APIServer}, {"network.objectStore", c.Network.ObjectStore}} {
		name, peer := np.name, np.peer
		for _, cidr := range peer.CIDRs {
			if _, _, err := net.ParseCIDR(cidr); err != nil {
				errs = append(errs, fmt.Errorf("%s.cidrs %q: must be a CIDR such as 10.0.0.1/32", name, cidr))
			}
		}
		if peer.Namespace != "" {
			check(name+".namespace", peer.Namespace)
		}
		for _, p := range peer.Ports {
			if p < 1 || p > 65535 {
				errs = append(errs, fmt.Errorf("%s.ports %d: must be 1..65535", name, p))
			}
		}
		if len(peer.Ports) == 0 && (len(peer.CIDRs) > 0 || peer.Namespace != "") {
			// A NetworkPolicy rule without ports allows every port.
			errs = append(errs, fmt.Errorf("%s.ports: must name at least one port when cidrs or namespace is set (a rule without ports allows every port)", name))
		}
	}
	check("operatorServiceAccount", c.OperatorServiceAccount)
	if c.RecheckInterval.Duration <= 0 {
		errs = append(errs, errors.New("recheckInterval: must be positive"))
	}
	if c.MaxVoteHoldAtPeer.Duration < 0 {
		errs = append(errs, errors.New("maxVoteHoldAtPeer: must be 0 (no bound) or positive"))
	}
	for i, d := range c.AllowedHostDomains {
		if msgs := validation.IsDNS1123Subdomain(d); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("allowedHostDomains[%d] %q: %s", i, d, strings.Join(msgs, "; ")))
		}
	}
	for name, list := range map[string][]string{"reservedUsers": c.ReservedUsers, "reservedGroups": c.ReservedGroups} {
		for i, r := range list {
			if strings.TrimSuffix(r, "*") == "" {
				errs = append(errs, fmt.Errorf("%s[%d] %q: must name a user or group, or a prefix followed by *", name, i, r))
			}
		}
	}
	return errors.Join(errs...)
}

// HostAllowed says whether a co-op's platform host falls under the domains the hub allows:
// it is one of them or a name below one. Every host is allowed when the hub names none.
func (c *Config) HostAllowed(host string) bool {
	if len(c.AllowedHostDomains) == 0 {
		return true
	}
	for _, d := range c.AllowedHostDomains {
		d = strings.ToLower(strings.TrimSuffix(d, "."))
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// Reserved says whether the hub reserves a user (kind User) or group (kind Group) name.
func (c *Config) Reserved(kind, name string) bool {
	list := c.ReservedUsers
	if kind == "Group" {
		list = c.ReservedGroups
	}
	for _, r := range list {
		if prefix, ok := strings.CutSuffix(r, "*"); ok && strings.HasPrefix(name, prefix) || r == name {
			return true
		}
	}
	return false
}

// BackupDestination is where a co-op's backups go: <destinationPath>/<region>/<co-op>/.
func (c *Config) BackupDestination(cooperative string) string {
	return strings.TrimRight(c.ObjectStore.DestinationPath, "/") + "/" + c.Region + "/" + cooperative + "/"
}
