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

// Package manager builds the operator's controller manager: its scheme, a cache that holds
// only what the operator manages, and its reconcilers. The manager subcommand, the demo and
// the test suites all build it here, so they run the same operator.
package manager

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cooperative"
	"github.com/cooperator-dev/cooperator/controllers/costreport"
	"github.com/cooperator-dev/cooperator/controllers/export"
	"github.com/cooperator-dev/cooperator/controllers/federation"
	"github.com/cooperator-dev/cooperator/controllers/governance"
	"github.com/cooperator-dev/cooperator/controllers/hubstatus"
	"github.com/cooperator-dev/cooperator/controllers/metering"
	"github.com/cooperator-dev/cooperator/controllers/shared/cacheshare"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
)

// Scheme holds every kind the operator reads or writes.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(coopv1.AddToScheme(s))
	utilruntime.Must(cnpgv1.AddToScheme(s))
	barmanv1.AddKnownTypes(s)
	return s
}

// Options configure the manager.
type Options struct {
	// Hub is the hub's settings.
	Hub hubconfig.Config
	// MetricsBindAddress serves Prometheus metrics; "0" turns them off.
	MetricsBindAddress string
	// HealthProbeBindAddress serves /healthz and /readyz; "0" turns them off.
	HealthProbeBindAddress string
	// PprofBindAddress serves Go's profiles (/debug/pprof/, plain HTTP, no authentication);
	// empty or "0" (the default) turns them off.
	PprofBindAddress string
	// LeaderElection makes one replica of several active.
	LeaderElection bool
	// LeaderElectionNamespace holds the lease; the operator namespace when empty.
	LeaderElectionNamespace string
	// NewClient, when set, builds the manager's client (tests wrap it to count writes).
	NewClient client.NewClientFunc
	// PeerContactInterval is how often each FederationPeer's API is contacted while it
	// answers; failed contacts back off on their own schedule.
	PeerContactInterval time.Duration
	// Version is the operator's version, published for peers in ConfigMap cooperator-info.
	Version string
	// SkipControllerNameValidation lets several managers run in one process, as the
	// federation tests run one operator per region.
	SkipControllerNameValidation bool
	// ObjectStoreHTTP is the client the Cooperative controller talks to the object store
	// with, as a deletion empties the co-op's prefixes; nil is a client with a minute's
	// timeout. Tests give one that answers for a store.
	ObjectStoreHTTP *http.Client
	// ExportClock is the CooperativeExport controller's clock (when links expire and dumps
	// are deleted); time.Now when nil. Tests move it.
	ExportClock func() time.Time
	// Metering configures the metering loop.
	Metering metering.Options
	// MetricsCertDir holds tls.crt and tls.key of the metrics server; empty: a self-signed
	// certificate generated at start.
	MetricsCertDir string
	// Webhooks serves the webhooks (of Cooperatives, of co-op admins' Backups, of CostReports'
	// decimals) when true.
	Webhooks bool
	// WebhookHost, WebhookPort and WebhookCertDir configure the webhook server; its
	// certificate is tls.crt and tls.key in WebhookCertDir.
	WebhookHost    string
	WebhookPort    int
	WebhookCertDir string
	// GovernanceInterval is how often each governed co-op's database is read for passed
	// proposals (governance.DefaultInterval when zero), and GovernanceDSN, when set,
	// rewrites the connection URI of a co-op's database (tests).
	GovernanceInterval time.Duration
	GovernanceDSN      func(coop *coopv1.Cooperative, uri string) string
	// Throughput: reconciles in parallel, the client's rate; the defaults when zero.
	Throughput Throughput
}

// Defaults of the throughput settings, sized for a hub of a thousand co-ops and measured
// with the scale suite (make bench, test/scale): at start the operator reconciles every
// co-op, about 26 objects each, one request after the other within a reconcile, so the
// reconciles in parallel set how many requests are in flight; controller-runtime's client
// limits each kind on its own, and the Secrets of co-op namespaces, read from the API
// server rather than cached, would queue behind a limit of tens per second. With 4 workers
// and 50 per second, 100 co-ops converged in 96 s; with 16 and 500, in 63 s. The API
// server's priority and fairness, not the client, is what protects the hub.
const (
	DefaultMaxConcurrentReconciles = 16
	DefaultClientQPS               = 500
	DefaultClientBurst             = 1000
)

// Throughput sets how hard the operator works the API server: reconciles in parallel per
// controller, and the client's requests per second and burst.
type Throughput struct {
	MaxConcurrentReconciles int
	ClientQPS               float32
	ClientBurst             int
}

// BindFlags adds --max-concurrent-reconciles, --kube-api-qps and --kube-api-burst.
func (t *Throughput) BindFlags(fs *flag.FlagSet) {
	*t = t.withDefaults()
	fs.IntVar(&t.MaxConcurrentReconciles, "max-concurrent-reconciles", t.MaxConcurrentReconciles, "reconciles each controller runs in parallel")
	fs.Var((*float32Value)(&t.ClientQPS), "kube-api-qps", "requests per second the operator's client sends the API server, on average")
	fs.IntVar(&t.ClientBurst, "kube-api-burst", t.ClientBurst, "requests the operator's client may send at once above --kube-api-qps")
}

type float32Value float32

func (v *float32Value) String() string { return strconv.FormatFloat(float64(*v), 'g', -1, 32) }
func (v *float32Value) Set(s string) error {
	f, err := strconv.ParseFloat(s, 32)
	if err != nil {
		return err
	}
	*v = float32Value(f)
	return nil
}

// withDefaults fills the settings left zero.
func (t Throughput) withDefaults() Throughput {
	if t.MaxConcurrentReconciles <= 0 {
		t.MaxConcurrentReconciles = DefaultMaxConcurrentReconciles
	}
	if t.ClientQPS <= 0 {
		t.ClientQPS = DefaultClientQPS
	}
	if t.ClientBurst <= 0 {
		t.ClientBurst = DefaultClientBurst
	}
	return t
}

// RESTConfig returns a copy of cfg with the client's rate of t.
func (t Throughput) RESTConfig(cfg *rest.Config) *rest.Config {
	t = t.withDefaults()
	out := rest.CopyConfig(cfg)
	out.QPS, out.Burst = t.ClientQPS, t.ClientBurst
	return out
}

// Version is the operator's version, set by main at start.
var Version = "dev"

// DefaultOptions are the options of a manager with no flags set.
func DefaultOptions() Options {
	return Options{
		Hub: hubconfig.Default(), MetricsBindAddress: ":8443", HealthProbeBindAddress: ":8081",
		Metering: metering.Options{Interval: metering.DefaultInterval, PersistInterval: metering.DefaultPersistInterval},
		Webhooks: true, WebhookPort: 9443, WebhookCertDir: "/tmp/k8s-webhook-server/serving-certs",
		PeerContactInterval: time.Minute, GovernanceInterval: governance.DefaultInterval,
	}
}

// CacheOptions scope the informers to what the operator manages: objects it labelled,
// Secrets of the operator namespace only (the hub's credentials; the operator may not list
// Secrets anywhere else, see SecretsOutside), CloudNativePG Backups of Clusters only.
// managedFields are stripped from everything cached, and what many objects hold alike is
// shared (cacheshare). A hub is a large cluster: an operator that caches every Pod and
// Secret there is OOM-killed.
func CacheOptions(hub hubconfig.Config) cache.Options {
	managed := labels.SelectorFromSet(labels.Set{coopv1.LabelManagedBy: coopv1.ManagedByValue})
	hasCluster, _ := labels.NewRequirement(coopv1.ClusterLabel, selection.Exists, nil)
	byManaged := cache.ByObject{Label: managed}
	opts := cache.Options{
		DefaultTransform: cacheshare.Chain(cache.TransformStripManagedFields(), cacheshare.New().Transform),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}:                {Namespaces: map[string]cache.Config{hub.OperatorNamespace: {}}},
			&corev1.Namespace{}:             byManaged,
			&corev1.ResourceQuota{}:         byManaged,
			&corev1.LimitRange{}:            byManaged,
			&corev1.ConfigMap{}:             byManaged,
			&corev1.Service{}:               byManaged,
			&appsv1.Deployment{}:            byManaged,
			&networkingv1.NetworkPolicy{}:   byManaged,
			&networkingv1.Ingress{}:         byManaged,
			&policyv1.PodDisruptionBudget{}: byManaged,
			&rbacv1.Role{}:                  byManaged,
			&rbacv1.RoleBinding{}:           byManaged,
			&rbacv1.ClusterRole{}:           byManaged,
			&rbacv1.ClusterRoleBinding{}:    byManaged,
			&cnpgv1.Cluster{}:               byManaged,
			&cnpgv1.ScheduledBackup{}:       byManaged,
			&cnpgv1.Database{}:              byManaged,
			&cnpgv1.DatabaseRole{}:          byManaged,
			&barmanv1.ObjectStore{}:         byManaged,
			&cnpgv1.Backup{}:                {Label: labels.NewSelector().Add(*hasCluster)},
			&batchv1.CronJob{}:              byManaged,
			&batchv1.Job{}:                  byManaged,
		},
	}
	for obj, by := range metering.CacheByObject() {
		opts.ByObject[obj] = by
	}
	return opts
}

// MetricsOptions serve the metrics over HTTPS to authenticated clients that RBAC allows to
// get /metrics (the ClusterRole cooperator-metrics-reader), through TokenReviews and
// SubjectAccessReviews; anyone else is refused.
func MetricsOptions(opts Options) metricsserver.Options {
	return metricsserver.Options{
		BindAddress:    opts.MetricsBindAddress,
		SecureServing:  true,
		FilterProvider: filters.WithAuthenticationAndAuthorization,
		CertDir:        opts.MetricsCertDir,
	}
}

// New builds the manager with every reconciler registered.
func New(cfg *rest.Config, opts Options) (ctrl.Manager, error) {
	if err := opts.Hub.Validate(); err != nil {
		return nil, fmt.Errorf("invalid hub settings: %w", err)
	}
	leaderNS := opts.LeaderElectionNamespace
	if leaderNS == "" {
		leaderNS = opts.Hub.OperatorNamespace
	}
	mgrOpts := ctrl.Options{
		Scheme:                  Scheme(),
		Cache:                   CacheOptions(opts.Hub),
		Metrics:                 MetricsOptions(opts),
		HealthProbeBindAddress:  opts.HealthProbeBindAddress,
		PprofBindAddress:        opts.PprofBindAddress,
		LeaderElection:          opts.LeaderElection,
		LeaderElectionID:        "cooperator.coop.cooperator.dev",
		LeaderElectionNamespace: leaderNS,
		// A rolling update hands over at once instead of waiting out the lease.
		LeaderElectionReleaseOnCancel: true,
		NewClient:                     opts.NewClient,
		Controller:                    config.Controller{SkipNameValidation: ptr.To(opts.SkipControllerNameValidation)},
	}
	if opts.Webhooks {
		mgrOpts.WebhookServer = webhook.NewServer(webhook.Options{Host: opts.WebhookHost, Port: opts.WebhookPort, CertDir: opts.WebhookCertDir})
	}
	throughput := opts.Throughput.withDefaults()
	mgrOpts.Controller.MaxConcurrentReconciles = throughput.MaxConcurrentReconciles
	mgr, err := ctrl.NewManager(throughput.RESTConfig(cfg), mgrOpts)
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	// Secrets outside the operator namespace are read from the API server, not the cache.
	cl := SecretsOutside(mgr.GetClient(), mgr.GetAPIReader(), opts.Hub.OperatorNamespace)
	peers := &federation.PeerClients{Client: cl, Scheme: mgr.GetScheme(), OperatorNamespace: opts.Hub.OperatorNamespace}
	fed := &federation.CooperativeReconciler{Client: cl, Hub: opts.Hub, Peers: peers, Recorder: cooperative.InCooperativeNamespace(mgr.GetEventRecorder("cooperator-federation"))}
	if err := (&cooperative.Reconciler{
		Client:     cl,
		APIReader:  mgr.GetAPIReader(),
		Config:     opts.Hub,
		Recorder:   mgr.GetEventRecorder("cooperator"),
		Federation: fed,
		HTTP:       opts.ObjectStoreHTTP,
	}).SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the Cooperative controller: %w", err)
	}
	if err := fed.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the federation controller: %w", err)
	}
	interval := opts.PeerContactInterval
	if interval <= 0 {
		interval = time.Minute
	}
	if err := (&federation.FederationPeerReconciler{
		Client: cl, Hub: opts.Hub, Peers: peers, Recorder: mgr.GetEventRecorder("cooperator-federation"), ContactInterval: interval,
	}).SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the FederationPeer controller: %w", err)
	}
	version := opts.Version
	if version == "" {
		version = Version
	}
	if err := mgr.Add(&cooperative.OperatorNetworkPolicies{Client: cl, Hub: opts.Hub}); err != nil {
		return nil, fmt.Errorf("adding the operator namespace's NetworkPolicies: %w", err)
	}
	if err := mgr.Add(&federation.InfoPublisher{Client: cl, Hub: opts.Hub, Version: version}); err != nil {
		return nil, fmt.Errorf("adding the info publisher: %w", err)
	}
	if opts.Webhooks {
		hub := opts.Hub
		if hub.OperatorUsername == "" {
			if hub.OperatorUsername, err = whoAmI(mgr.GetClient()); err != nil {
				return nil, err
			}
		}
		if err := (&cooperative.Validator{Client: mgr.GetClient(), Reviews: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Hub: hub}).SetupWebhookWithManager(mgr); err != nil {
			return nil, fmt.Errorf("setting up the Cooperative webhook: %w", err)
		}
		if err := (&cooperative.BackupValidator{Client: mgr.GetClient(), Reviews: mgr.GetClient(), OperatorUsername: hub.OperatorUsername}).SetupWebhookWithManager(mgr); err != nil {
			return nil, fmt.Errorf("setting up the Backup webhook: %w", err)
		}
		mgr.GetWebhookServer().Register(costreport.DecimalsWebhookPath, costreport.DecimalsWebhook())
		mgr.GetWebhookServer().Register(cooperative.BreakGlassValuesPath, cooperative.BreakGlassValuesWebhook())
	}
	meteringOpts := opts.Metering
	if meteringOpts.Database == nil {
		meteringOpts.Database = &metering.PostgresSizer{
			ConnStringFunc: sharedClusterURI(mgr.GetClient(), opts.Hub),
		}
	}
	if _, err := metering.Setup(mgr, meteringOpts); err != nil {
		return nil, fmt.Errorf("setting up the metering: %w", err)
	}
	if err := (&governance.Reconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorder("cooperator-governance"),
		Interval: opts.GovernanceInterval, DSN: opts.GovernanceDSN, MaxHoldAtPeer: opts.Hub.MaxVoteHoldAtPeer.Duration,
	}).SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the governance controller: %w", err)
	}
	exports := &export.Reconciler{Client: cl, Hub: opts.Hub, Now: opts.ExportClock}
	if err := exports.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the CooperativeExport controller: %w", err)
	}
	if err := (&export.RestoreReconciler{Client: cl, Pods: mgr.GetAPIReader(), Upload: exports}).SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the import's restore controller: %w", err)
	}
	if err := (&costreport.Reconciler{}).SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the CostReport controller: %w", err)
	}
	if err := (&hubstatus.CooperativeReconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the hub status controller: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, err
	}
	return mgr, nil
}

// BindFlags binds the manager's own flags, and those of the hub settings, the metering and
// the throughput, to o.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.MetricsBindAddress, "metrics-bind-address", o.MetricsBindAddress, "address of the Prometheus metrics endpoint (HTTPS, for clients allowed to get /metrics); 0 turns it off")
	fs.StringVar(&o.MetricsCertDir, "metrics-cert-dir", o.MetricsCertDir, "folder with the metrics server's tls.crt and tls.key; a self-signed certificate when empty")
	fs.StringVar(&o.HealthProbeBindAddress, "health-probe-bind-address", o.HealthProbeBindAddress, "address of /healthz and /readyz")
	fs.StringVar(&o.PprofBindAddress, "pprof-bind-address", o.PprofBindAddress, "address of Go's profiles at /debug/pprof/ (plain HTTP, no authentication: a loopback host only, such as 127.0.0.1:6060, reached with kubectl port-forward); off when empty or 0")
	fs.BoolVar(&o.LeaderElection, "leader-elect", false, "elect one active replica among several")
	fs.DurationVar(&o.PeerContactInterval, "peer-contact-interval", o.PeerContactInterval, "how often to contact each FederationPeer that answers")
	fs.DurationVar(&o.GovernanceInterval, "governance-interval", o.GovernanceInterval, "how often to read each governed co-op's database for passed proposals (one connection and one Secret read per co-op each time)")
	fs.BoolVar(&o.Webhooks, "webhooks", o.Webhooks, "serve the webhooks of Cooperatives, Backups and CostReports (needs a certificate in --webhook-cert-dir)")
	fs.IntVar(&o.WebhookPort, "webhook-port", o.WebhookPort, "port of the webhook server")
	fs.StringVar(&o.WebhookCertDir, "webhook-cert-dir", o.WebhookCertDir, "folder with the webhook server's tls.crt and tls.key")
	o.Hub.BindFlags(fs)
	o.Metering.BindFlags(fs)
	o.Throughput.BindFlags(fs)
}

// ValidateIntervals refuses intervals that would make a loop spin, and a profile address
// other hosts could reach: each names its flag and the rule.
func (o *Options) ValidateIntervals() error {
	var errs []error
	if o.PeerContactInterval < time.Second {
		errs = append(errs, fmt.Errorf("--peer-contact-interval: must be at least 1s, got %s", o.PeerContactInterval))
	}
	if o.GovernanceInterval < time.Second {
		errs = append(errs, fmt.Errorf("--governance-interval: must be at least 1s, got %s", o.GovernanceInterval))
	}
	if err := loopbackOnly(o.PprofBindAddress); err != nil {
		errs = append(errs, fmt.Errorf("--pprof-bind-address: %w", err))
	}
	return errors.Join(errs...)
}

// loopbackOnly refuses an address that is not off ("" or "0") and not on a loopback host:
// the profiles have no authentication, and a pod's loopback is reached with kubectl
// port-forward.
func loopbackOnly(addr string) error {
	if addr == "" || addr == "0" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("must be host:port, got %q", addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("must be on a loopback host (127.0.0.1:6060, reached with kubectl port-forward): the profiles have no authentication, got %q", addr)
	}
	return nil
}

// Main runs the manager subcommand: it reads flags (and an optional --config file, over
// which flags set on the command line win) and runs the operator until ctx is done.
func Main(ctx context.Context, args []string) error {
	opts := DefaultOptions()
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	configFile := fs.String("config", "", "YAML file with the hub's settings (see config/manager/hub.yaml); flags set on the command line win")
	opts.BindFlags(fs)
	zapOpts := zap.Options{}
	zapOpts.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := opts.ValidateIntervals(); err != nil {
		return err
	}
	// Precedence: a flag on the command line, then the file, then POD_NAMESPACE, then the
	// default.
	base := hubconfig.Default()
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		base.OperatorNamespace = ns
	}
	if *configFile != "" {
		hub, err := hubconfig.WithFile(fs, *configFile, base)
		if err != nil {
			return err
		}
		opts.Hub = hub
	} else if !flagSet(fs, "operator-namespace") {
		opts.Hub.OperatorNamespace = base.OperatorNamespace
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	if limit, ok := softMemoryLimit(os.Getenv); ok {
		debug.SetMemoryLimit(limit)
		ctrl.Log.WithName("setup").Info("Set Go's soft memory limit from the container's", "bytes", limit)
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("finding the cluster: %w", err)
	}
	mgr, err := New(cfg, opts)
	if err != nil {
		return err
	}
	ctrl.Log.WithName("setup").Info("Starting the operator", "region", opts.Hub.Region, "operatorNamespace", opts.Hub.OperatorNamespace)
	if err := mgr.Start(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("running the manager: %w", err)
	}
	return nil
}

// sharedClusterURI returns the metering's connection URI to the shared Cluster: the
// metering role's (cooperative.SharedMeteringRole, a member of pg_read_all_stats only), over
// TLS, from the Secret the Cooperative reconciler generates in the operator namespace, which
// appears with the first shared-tier co-op.
func sharedClusterURI(c client.Client, hub hubconfig.Config) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		return cooperative.SharedMeteringURI(ctx, c, &hub)
	}
}

func flagSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// whoAmI asks the API server the user name the manager runs as: the identity the webhook
// lets change governed fields, when the hub names none.
func whoAmI(c client.Writer) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	review := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(ctx, review); err != nil {
		return "", fmt.Errorf("asking the API server who the operator is (SelfSubjectReview; or set the hub setting operatorUsername): %w", err)
	}
	if review.Status.UserInfo.Username == "" {
		return "", errors.New("the API server did not say who the operator is: set the hub setting operatorUsername")
	}
	return review.Status.UserInfo.Username, nil
}
