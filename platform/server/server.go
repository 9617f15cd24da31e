// Package server is the co-op platform service: a JSON HTTP API over PostgreSQL for a
// co-op's members, work, payments and ledger, and governance. Main is the entry point of
// `cooperator platform`.
package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cooperator-dev/cooperator/platform/server/policy"
	"github.com/cooperator-dev/cooperator/platform/server/store"
)

// Config configures a Server.
type Config struct {
	DatabaseURL string
	AdminToken  string
	// Vertical is the kind of co-op; if empty, the policy's vertical is used.
	Vertical string
	// PolicyFile is watched for changes every PolicyPoll (default 2s). Tests may
	// instead set Policy directly.
	PolicyFile string
	PolicyPoll time.Duration
	Policy     *policy.Policy
	Logger     *slog.Logger
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
	s := &Server{cfg: cfg, log: cfg.Logger, pool: pool, metrics: newMetrics()}
	s.metrics.reg.MustRegister(poolCollector{pool})
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

// Policy returns the policy source.
func (s *Server) Policy() *policy.Source { return s.policy }

// Close releases the database pool.
func (s *Server) Close() { s.pool.Close() }

// Migrate applies the schema migrations under an advisory lock.
func (s *Server) Migrate(ctx context.Context) error {
	if err := store.Migrate(ctx, s.pool, s.log); err != nil {
		return err
	}
	s.migrated.Store(true)
	return nil
}

// Start runs migrations (retrying until they succeed or ctx ends) and watches the policy
// file, in the background.
func (s *Server) Start(ctx context.Context) {
	go func() {
		for delay := time.Second; ; delay = min(2*delay, 30*time.Second) {
			err := s.Migrate(ctx)
			if err == nil {
				return
			}
			s.log.Error("migrations failed; retrying", "error", err, "retryIn", delay.String())
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
		}
	}()
	if s.cfg.PolicyFile != "" && s.cfg.Policy == nil {
		go s.policy.Watch(ctx, s.cfg.PolicyPoll)
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

// currentPolicy is the policy in force, or a 503 error while no valid policy is loaded.
func (s *Server) currentPolicy() (*policy.Policy, error) {
	if pol := s.policy.Current(); pol != nil {
		return pol, nil
	}
	return nil, &apiError{http.StatusServiceUnavailable, "", "no valid policy loaded"}
}

func (s *Server) isAdminToken(tok string) bool {
	if !s.hasAdmin {
		return false
	}
	h := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(h[:], s.adminHash[:]) == 1
}
