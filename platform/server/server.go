// Package server is the co-op platform service: a JSON HTTP API over PostgreSQL for a
// co-op's members, work, payments and ledger, and governance. Main is the entry point of
// `cooperator platform`.
package server

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/platform/server/clientip"
	"github.com/cooperator-dev/cooperator/platform/server/store"
)

// Config configures a Server.
type Config struct {
	// DatabaseURL is the serving role's: the role every request runs as.
	DatabaseURL string
	// MigrateDatabaseURL is the database owner's, used only to migrate the schema and
	// grant the serving role what it needs (store.GrantServing). Empty: the serving URL
	// migrates too, and the role owns the tables (then only the ledger's triggers keep it
	// append-only, and its owner can drop them).
	MigrateDatabaseURL string
	// NoMigrate says that the schema was migrated before this process started (in the
	// operator's pods, by the init container, as the owner): Start does not migrate and the
	// service needs no MigrateDatabaseURL, which it then refuses to hold.
	NoMigrate  bool
	AdminToken string
	// Vertical is the kind of co-op; if empty, the policy's vertical is used.
	Vertical string
	// PolicyFile is watched for changes every PolicyPoll (default 2s). Tests may
	// instead set Policy directly.
	PolicyFile string
	PolicyPoll time.Duration
	// HubStatusFile is the document the hub publishes for the co-op (api/hubstatus),
	// read at each request of GET /v1/reports/hub; empty: the file hubstatus.Key next to
	// PolicyFile, where the operator mounts it.
	HubStatusFile string
	Policy        *policy.Policy
	Logger        *slog.Logger
	// RateLimit is the requests per second each client may make (per member once
	// authenticated, per remote IP before: one budget for the public routes, one for the
	// app's sign-ins, one for credentials not known valid), with bursts of RateBurst; 0
	// sets no limit.
	RateLimit float64
	RateBurst int
	// TrustedProxies are the proxies (the hub's ingress controller) whose X-Forwarded-For
	// tells a request's client, for the limits per address; none: the peer's address.
	TrustedProxies []netip.Prefix
	// Now is the clock of proposal deadlines (time.Now when nil; tests inject one), and
	// CloseInterval how often the service closes proposals past their deadline (default
	// 30s; reads close what is due as well).
	Now           func() time.Time
	CloseInterval time.Duration
}

// Server is one instance of the platform service.
type Server struct {
	cfg       Config
	log       *slog.Logger
	pool      *pgxpool.Pool
	policy    *policy.Source
	adminHash [32]byte
	hasAdmin  bool
	migrated  atomic.Bool
	metrics   *metrics
	handler   http.Handler
	routes    []route
	// servingRole is the user of DatabaseURL.
	servingRole string
	limits      *limiter
	// known are the credentials lately found valid (lookUpCredential); nil without limits.
	known *knownCredentials
	// clients finds a request's client, for the limits per address.
	clients clientip.Resolver
	// inproc serves the JSON routes to the members' app (webapp.go).
	inproc http.Handler
}

// New connects to the database lazily and builds the HTTP handler. It does not migrate;
// call Start (or Migrate) for that.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.DatabaseURL == "" {
		return nil, errors.New("no database URL: set DATABASE_URL or --database-url")
	}
	if cfg.Vertical != "" && !slices.Contains(policy.Verticals, cfg.Vertical) {
		return nil, fmt.Errorf("vertical %q is not one of %v", cfg.Vertical, policy.Verticals)
	}
	if cfg.PolicyPoll <= 0 {
		cfg.PolicyPoll = 2 * time.Second
	}
	pcfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, errors.New("the database URL does not parse") // the error would echo the password
	}
	if !strings.Contains(cfg.DatabaseURL, "pool_max_conns") {
		pcfg.MaxConns = 10
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), pcfg)
	if err != nil {
		return nil, fmt.Errorf("database pool: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, pool: pool, metrics: newMetrics(), servingRole: pcfg.ConnConfig.User,
		limits: newLimiter(cfg.RateLimit, cfg.RateBurst), clients: clientip.Resolver{Trusted: cfg.TrustedProxies}}
	if s.limits != nil {
		s.known = newKnownCredentials()
	}
	s.metrics.reg.MustRegister(poolCollector{pool})
	switch {
	case cfg.NoMigrate && cfg.MigrateDatabaseURL != "":
		pool.Close()
		return nil, errors.New("a migration database URL without migrating: the serving process must not hold the owner's credentials; " +
			"give MIGRATE_DATABASE_URL only to the migration (--migrate=only)")
	case cfg.NoMigrate:
	case cfg.MigrateDatabaseURL != "":
		if _, err := pgxpool.ParseConfig(cfg.MigrateDatabaseURL); err != nil {
			pool.Close()
			return nil, errors.New("the migration database URL does not parse")
		}
	default:
		s.log.Warn("no separate migration URL: the serving role owns the tables; set --migrate-database-url")
	}
	s.policy = policy.NewSource(cfg.PolicyFile, cfg.Logger)
	if cfg.Policy != nil {
		if err := cfg.Policy.Validate(); err != nil {
			pool.Close()
			return nil, err
		}
		s.policy.Set(cfg.Policy)
	} else if cfg.PolicyFile != "" {
		if err := s.policy.Reload(); err != nil {
			s.log.Error("policy not loaded; not ready until a valid one appears", "file", cfg.PolicyFile, "error", err)
		}
	}
	if cfg.AdminToken != "" {
		s.adminHash = sha256.Sum256([]byte(cfg.AdminToken))
		s.hasAdmin = true
	} else {
		s.log.Warn("no ADMIN_TOKEN: staff endpoints are disabled")
	}
	if p := s.policy.Current(); p != nil && cfg.Vertical != "" && p.Vertical != cfg.Vertical {
		s.log.Warn("the --vertical flag differs from the policy's vertical; the flag wins", "flag", cfg.Vertical, "policy", p.Vertical)
	}
	s.handler = s.buildHandler()
	return s, nil
}

// Handler is the HTTP API.
func (s *Server) Handler() http.Handler { return s.handler }

// Pool is the database pool (for tests and benchmarks).
func (s *Server) Pool() *pgxpool.Pool { return s.pool }

// readSnapshot runs fn in a read-only REPEATABLE READ transaction: every query fn makes
// reads the one snapshot of the database its first query took, so that what a report
// or a history reads in several queries adds up, whatever commits between them.
func (s *Server) readSnapshot(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// Policy returns the policy source.
func (s *Server) Policy() *policy.Source { return s.policy }

// Close releases the database pool.
func (s *Server) Close() { s.pool.Close() }

// Migrate applies the schema migrations under an advisory lock; with a migration URL, as
// the owner, who then grants the serving role what it needs.
func (s *Server) Migrate(ctx context.Context) error {
	if err := migrateDatabase(ctx, s.pool, s.servingRole, s.cfg.MigrateDatabaseURL, s.log); err != nil {
		return err
	}
	s.migrated.Store(true)
	return nil
}

// migrateDatabase applies the schema migrations: as the owner of ownerURL, who then grants
// servingRole (the user of serving) what it needs; without ownerURL, through serving.
func migrateDatabase(ctx context.Context, serving *pgxpool.Pool, servingRole, ownerURL string, log *slog.Logger) error {
	if ownerURL == "" {
		return store.Migrate(ctx, serving, log)
	}
	pcfg, err := pgxpool.ParseConfig(ownerURL)
	if err != nil {
		return errors.New("the migration database URL does not parse") // the error would echo the password
	}
	pcfg.MaxConns = 2
	owner, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("migration database pool: %w", err)
	}
	defer owner.Close()
	if err := store.Migrate(ctx, owner, log); err != nil {
		return err
	}
	if pcfg.ConnConfig.User != servingRole {
		if err := store.GrantServing(ctx, owner, servingRole); err != nil {
			return err
		}
	}
	return nil
}

// Start runs migrations (retrying until they succeed or ctx ends; not with NoMigrate, where
// they ran before) and watches the policy file, in the background.
func (s *Server) Start(ctx context.Context) {
	if s.cfg.NoMigrate {
		s.migrated.Store(true)
	} else {
		go s.migrateRetrying(ctx)
	}
	if s.cfg.PolicyFile != "" && s.cfg.Policy == nil {
		go s.policy.Watch(ctx, s.cfg.PolicyPoll)
	}
	go s.runCloser(ctx, cmp.Or(s.cfg.CloseInterval, 30*time.Second))
}

// migrateRetrying migrates until it succeeds or ctx ends.
func (s *Server) migrateRetrying(ctx context.Context) {
	_ = retryMigration(ctx, s.log, 0, s.Migrate)
}

// retryMigration runs migrate until it succeeds, ctx ends or, when patience is positive,
// patience has passed, waiting between attempts from one second up to thirty; it returns
// the last error.
func retryMigration(ctx context.Context, log *slog.Logger, patience time.Duration, migrate func(context.Context) error) error {
	var deadline time.Time
	if patience > 0 {
		deadline = time.Now().Add(patience)
	}
	for delay := time.Second; ; delay = min(2*delay, 30*time.Second) {
		err := migrate(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || !deadline.IsZero() && time.Now().Add(delay).After(deadline) {
			return err
		}
		log.Error("migrations failed; retrying", "error", err, "retryIn", delay.String())
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
	}
}

func (s *Server) vertical() string {
	if s.cfg.Vertical != "" {
		return s.cfg.Vertical
	}
	if p := s.policy.Current(); p != nil {
		return p.Vertical
	}
	return ""
}

// location is the co-op's time zone (the policy's; UTC while none is loaded): weekly
// hours, fare windows and the members' app read and show times in it.
func (s *Server) location() *time.Location {
	if p := s.policy.Current(); p != nil {
		return p.Location()
	}
	return time.UTC
}

// clock is the service's time in the co-op's time zone, for what is read on the co-op's
// clock (a fare's time rates and surge windows).
func (s *Server) clock() time.Time { return s.now().In(s.location()) }

// currentPolicy is the policy in force, or a 503 error while no valid policy is loaded.
func (s *Server) currentPolicy() (*policy.Policy, error) {
	if pol := s.policy.Current(); pol != nil {
		return pol, nil
	}
	return nil, &apiError{status: http.StatusServiceUnavailable, message: "no valid policy loaded"}
}

// activeMemberPolicy is the prologue of the actions an active member (or staff) takes under
// the policy in force: 403 for an inactive member, 503 while no valid policy is loaded.
func (s *Server) activeMemberPolicy(p principal) (*policy.Policy, error) {
	if err := requireActiveMember(p); err != nil {
		return nil, err
	}
	return s.currentPolicy()
}

func (s *Server) isAdminToken(tok string) bool {
	if !s.hasAdmin {
		return false
	}
	h := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(h[:], s.adminHash[:]) == 1
}
