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
)

// Main runs the platform service until ctx is done. Flags override the environment:
// --vertical, --listen (LISTEN_ADDRESS, default :8080), --database-url (DATABASE_URL),
// --policy-file (COOP_POLICY_FILE). ADMIN_TOKEN and COOP_NAME come from the environment.
func Main(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("platform", flag.ContinueOnError)
	vertical := fs.String("vertical", os.Getenv("COOP_VERTICAL"), "the co-op's vertical (default: the policy's)")
	listen := fs.String("listen", envOr("LISTEN_ADDRESS", ":8080"), "address to serve HTTP on (env LISTEN_ADDRESS)")
	// No default shown for the URL: it holds the password.
	dbURL := fs.String("database-url", "", "postgresql:// URL of the co-op database (default: env DATABASE_URL)")
	policyFile := fs.String("policy-file", os.Getenv("COOP_POLICY_FILE"), "path of policy.json (env COOP_POLICY_FILE)")
	poll := fs.Duration("policy-poll", 2*time.Second, "how often to re-read the policy file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *dbURL == "" {
		*dbURL = os.Getenv("DATABASE_URL")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil)).With("service", "platform", "coop", os.Getenv("COOP_NAME"))
	if *policyFile == "" {
		return errors.New("no policy file: set COOP_POLICY_FILE or --policy-file")
	}
	s, err := New(Config{DatabaseURL: *dbURL, AdminToken: os.Getenv("ADMIN_TOKEN"), Vertical: *vertical,
		PolicyFile: *policyFile, PolicyPoll: *poll, Logger: log})
	if err != nil {
		return err
	}
	defer s.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Serve serves the API on ln until ctx is done, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.Start(ctx)
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) }}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("serving", "address", ln.Addr().String(), "vertical", s.vertical())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
