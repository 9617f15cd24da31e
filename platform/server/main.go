package server

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cooperator-dev/cooperator/api/hubstatus"
	"github.com/cooperator-dev/cooperator/api/policy"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/platform/server/clientip"
)

// The modes of --migrate (env MIGRATE), the contract of the operator's platform pods with
// the component's image (api/v1alpha1 Component and platformenv.go):
//   - coopv1.MigrateOnly, the pod's init container, which alone holds the owner's
//     MIGRATE_DATABASE_URL: migrate as the owner, grant the serving role of DATABASE_URL,
//     exit (0 once migrated; non-zero, with the error, when it could not);
//   - coopv1.MigrateNever, the serving container, with DATABASE_URL (the serving role)
//     only: serve a schema the init container migrated, never run DDL or GRANTs;
//   - coopv1.MigrateAtStart, the default, outside the operator (the demo, development):
//     migrate in the background as the owner of MIGRATE_DATABASE_URL or, without one,
//     through DATABASE_URL, and serve.

// migrateOnlyPatience is how long --migrate=only retries (the database may still be
// starting) before it exits with the last error, for the kubelet to restart it.
const migrateOnlyPatience = 2 * time.Minute

// Main runs the platform service until ctx is done. Flags override the environment:
// --vertical, --listen (LISTEN_ADDRESS, default :8080), --metrics-listen (METRICS_LISTEN,
// default :9090), --database-url (DATABASE_URL, the serving role), --migrate-database-url
// (MIGRATE_DATABASE_URL, the owner), --migrate (MIGRATE: true, false or only), --policy-file
// (COOP_POLICY_FILE), --hub-status-file (COOP_HUB_STATUS_FILE), --rate-limit and
// --rate-burst. ADMIN_TOKEN and COOP_NAME come from the environment. With --migrate=only
// it migrates and returns, without serving.
func Main(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("platform", flag.ContinueOnError)
	vertical := fs.String("vertical", os.Getenv("COOP_VERTICAL"), "the co-op's vertical (default: the policy's)")
	listen := fs.String("listen", envOr(coopv1.EnvListenAddress, ":8080"), "address to serve the API on (env "+coopv1.EnvListenAddress+")")
	metricsListen := fs.String("metrics-listen", envOr(coopv1.EnvMetricsListen, ":9090"), "address to serve /metrics on, apart from the API (env "+coopv1.EnvMetricsListen+"; empty: no metrics)")
	// No default shown for the URLs: they hold passwords.
	dbURL := fs.String("database-url", "", "postgresql:// URL of the co-op database as the serving role (default: env DATABASE_URL)")
	migrateURL := fs.String("migrate-database-url", "", "postgresql:// URL of the co-op database as its owner, to migrate and grant the serving role (default: env MIGRATE_DATABASE_URL; empty: the serving URL migrates)")
	migrate := fs.String("migrate", envOr(coopv1.EnvMigrate, coopv1.MigrateAtStart), "when to migrate the schema (env "+coopv1.EnvMigrate+"): "+
		coopv1.MigrateAtStart+" (at start, then serve), "+coopv1.MigrateNever+" (never: it was migrated before this process started, by the owner), "+
		coopv1.MigrateOnly+" (migrate and grant the serving role, then exit without serving)")
	policyFile := fs.String("policy-file", os.Getenv(policy.FileEnv), "path of policy.json (env "+policy.FileEnv+")")
	hubStatusFile := fs.String("hub-status-file", os.Getenv("COOP_HUB_STATUS_FILE"), "path of the hub's status document (env COOP_HUB_STATUS_FILE; default: "+hubstatus.Key+" next to the policy file)")
	poll := fs.Duration("policy-poll", 2*time.Second, "how often to re-read the policy file")
	rateLimit := fs.Float64("rate-limit", 20, "requests per second per client (member, or remote IP before authentication); 0: no limit")
	rateBurst := fs.Int("rate-burst", 40, "requests a client may make at once above --rate-limit")
	trusted := fs.String("trusted-proxies", os.Getenv(coopv1.EnvTrustedProxies), "comma-separated CIDRs of the proxies (the ingress controller) whose X-Forwarded-For tells the client, for the limits per address (env "+coopv1.EnvTrustedProxies+"; empty: the peer's address)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *dbURL == "" {
		*dbURL = os.Getenv(coopv1.EnvDatabaseURL)
	}
	if *migrateURL == "" {
		*migrateURL = os.Getenv(coopv1.EnvMigrateDatabaseURL)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil)).With("service", "platform", "coop", os.Getenv(coopv1.EnvCoopName))
	switch *migrate {
	case coopv1.MigrateOnly:
		return migrateOnly(ctx, *dbURL, *migrateURL, log)
	case coopv1.MigrateAtStart, coopv1.MigrateNever:
	default:
		return fmt.Errorf("--migrate (env %s) is %q: want %s, %s or %s", coopv1.EnvMigrate, *migrate, coopv1.MigrateAtStart, coopv1.MigrateNever, coopv1.MigrateOnly)
	}
	if *policyFile == "" {
		return errors.New("no policy file: set " + policy.FileEnv + " or --policy-file")
	}
	proxies, err := clientip.Parse(*trusted)
	if err != nil {
		return fmt.Errorf("--trusted-proxies (env %s): %w", coopv1.EnvTrustedProxies, err)
	}
	s, err := New(Config{DatabaseURL: *dbURL, MigrateDatabaseURL: *migrateURL, NoMigrate: *migrate == coopv1.MigrateNever, AdminToken: os.Getenv(coopv1.EnvAdminToken), Vertical: *vertical,
		PolicyFile: *policyFile, HubStatusFile: *hubStatusFile, PolicyPoll: *poll, Logger: log, RateLimit: *rateLimit, RateBurst: *rateBurst, TrustedProxies: proxies})
	if err != nil {
		return err
	}
	defer s.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	var mln net.Listener
	if *metricsListen != "" {
		if mln, err = net.Listen("tcp", *metricsListen); err != nil {
			ln.Close()
			return err
		}
	}
	return s.Serve(ctx, ln, mln)
}

// migrateOnly migrates the database as the owner of ownerURL (through servingURL without
// one) and grants the serving role of servingURL, retrying for migrateOnlyPatience, and
// returns without serving. Its errors name no URL: they would carry the password.
func migrateOnly(ctx context.Context, servingURL, ownerURL string, log *slog.Logger) error {
	if servingURL == "" {
		return errors.New("no database URL: set DATABASE_URL or --database-url to the serving role's, which the migration grants")
	}
	pcfg, err := pgxpool.ParseConfig(servingURL)
	if err != nil {
		return errors.New("the database URL does not parse") // the error would echo the password
	}
	if ownerURL == "" {
		log.Warn("no separate migration URL: the serving role migrates and owns the tables; set --migrate-database-url")
	} else if _, err := pgxpool.ParseConfig(ownerURL); err != nil {
		return errors.New("the migration database URL does not parse")
	}
	pcfg.MaxConns = 2
	// Connects only without ownerURL, for the migration itself.
	serving, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("database pool: %w", err)
	}
	defer serving.Close()
	err = retryMigration(ctx, log, migrateOnlyPatience, func(ctx context.Context) error {
		return migrateDatabase(ctx, serving, pcfg.ConnConfig.User, ownerURL, log)
	})
	if err != nil {
		return fmt.Errorf("migrating the database: %w", err)
	}
	log.Info("migrated; exiting without serving", "servingRole", pcfg.ConnConfig.User)
	return nil
}

// Timeouts and limits of the HTTP servers: a client that sends its headers or body
// slowly, or never reads the answer, holds a connection no longer than these.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 32 << 10
)

// httpServer is an HTTP server of h with the service's timeouts and header limit.
func httpServer(ctx context.Context, h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes,
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) }}
}

// Serve serves the API on ln, and /metrics on metrics when it is not nil (a port of its
// own, which the Ingress does not route to), until ctx is done, then shuts down
// gracefully.
func (s *Server) Serve(ctx context.Context, ln, metrics net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if s.limits != nil && len(s.cfg.TrustedProxies) == 0 {
		s.log.Warn("no trusted proxies (" + coopv1.EnvTrustedProxies + ", the hub's ingressProxies): the limits per address " +
			"take each request's peer for its client, so behind the ingress controller every client shares the controller's budgets")
	}
	s.Start(ctx)
	srvs := []*http.Server{httpServer(ctx, s.Handler())}
	lns := []net.Listener{ln}
	if metrics != nil {
		srvs = append(srvs, httpServer(ctx, s.MetricsHandler()))
		lns = append(lns, metrics)
	}
	errc := make(chan error, len(srvs))
	for i, srv := range srvs {
		go func() { errc <- srv.Serve(lns[i]) }()
	}
	attrs := []any{"address", ln.Addr().String(), "vertical", s.vertical()}
	if metrics != nil {
		attrs = append(attrs, "metricsAddress", metrics.Addr().String())
	}
	s.log.Info("serving", attrs...)
	var first error
	select {
	case first = <-errc:
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer scancel()
	for _, srv := range srvs {
		if err := srv.Shutdown(sctx); err != nil && first == nil {
			first = err
		}
	}
	if first != nil && !errors.Is(first, http.ErrServerClosed) {
		return first
	}
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
