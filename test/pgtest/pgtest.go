// Package pgtest starts a throwaway PostgreSQL server from the machine's binaries for a
// test package (one server per package run, from TestMain) and hands each test a fresh
// database. It needs the server binaries: on Debian, apt-get install postgresql.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Server is a running PostgreSQL server.
type Server struct {
	dir  string
	port int
	cmd  *exec.Cmd
	seq  atomic.Int64
	logf string
	done chan struct{} // closed when the server process has exited
}

var current *Server

// Run starts a server, runs the package's tests and stops the server. Use it as
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
func Run(m *testing.M) int {
	s, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	current = s
	code := m.Run()
	s.Stop()
	return code
}

// NewDB creates a fresh, empty database for t and returns its postgresql:// URL; the
// database is dropped when t ends.
func NewDB(t testing.TB) string {
	t.Helper()
	if current == nil {
		t.Fatal("pgtest: no server; call pgtest.Run from TestMain")
	}
	url, err := current.CreateDB()
	if err != nil {
		t.Fatal(err)
	}
	name := url[strings.LastIndex(url, "/")+1:]
	t.Cleanup(func() { _ = current.exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	return url
}

// NewOwnedDB creates a fresh, empty database for t as CloudNativePG's initdb bootstrap
// creates a co-op's application database, and returns the URL that connects as its owner:
// a login role of its own (CREATE ROLE ... LOGIN, so no superuser, no databases or roles
// of its own, no replication; roles are the server's, so it is named after the database,
// with the suffix _app) that owns the database (CREATE DATABASE ... OWNER), and through
// pg_database_owner its schema public. It is what a hub's platform migrates, dumps and
// restores as; NewDB's URL connects as the server's superuser, which hides what such an
// owner may not do. The database is dropped when t ends.
func NewOwnedDB(t testing.TB) string {
	t.Helper()
	if current == nil {
		t.Fatal("pgtest: no server; call pgtest.Run from TestMain")
	}
	name := current.nextName()
	role := name + "_app"
	ctx := context.Background()
	if err := current.exec(ctx, `CREATE ROLE `+role+` LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS`); err != nil {
		t.Fatalf("pgtest: create role: %v", err)
	}
	if err := current.exec(ctx, "CREATE DATABASE "+name+" OWNER "+role+" TEMPLATE template0"); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() { _ = current.exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u, err := url.Parse(current.URL(name))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	return u.String()
}

// ServingRoleURL creates a login role of its own for the database at ownerURL (roles are
// the server's, so it is named after the database, with the suffix _serving) and returns
// the URL that connects as it. The server's superuser creates it, as CloudNativePG creates
// its managed roles: the database's owner may not create roles (NewOwnedDB). The role owns
// nothing and has no privileges until the platform's migration grants them.
func ServingRoleURL(t testing.TB, ownerURL string) string {
	t.Helper()
	if current == nil {
		t.Fatal("pgtest: no server; call pgtest.Run from TestMain")
	}
	u, err := url.Parse(ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	role := strings.TrimPrefix(u.Path, "/") + "_serving"
	if err := current.exec(context.Background(), `CREATE ROLE `+pgx.Identifier{role}.Sanitize()+` LOGIN`); err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	return u.String()
}

// Pool connects a pool to the database at dbURL for t; it is closed when t ends.
func Pool(t testing.TB, dbURL string) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// BinDir finds the directory holding initdb and postgres.
func BinDir() (string, error) {
	var candidates []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	candidates = append(candidates, dirs...)
	if p, err := exec.LookPath("postgres"); err == nil {
		candidates = append(candidates, filepath.Dir(p))
	}
	for _, d := range candidates {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, postgres) not found in pg_config --bindir, /usr/lib/postgresql/*/bin or PATH; install them with: apt-get install postgresql")
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Start initialises a data directory in a temp dir and starts a server on a free
// loopback port. When running as root the server runs as the postgres user (or nobody),
// since initdb refuses root.
func Start() (*Server, error) {
	d, err := initDataDir()
	if err != nil {
		return nil, err
	}
	// The port is free when freePort returns, but another process (the server or the
	// control plane of a test package running in parallel) may take it before the server
	// binds it: then the server exits, or a client reaches the other server. Either way a
	// new port is tried.
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			lastErr = err
			break
		}
		s, err := d.launch(port)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	os.RemoveAll(d.dir)
	return nil, lastErr
}

// dataDir is an initialised data directory, in dir, and how to run its server.
type dataDir struct {
	bin, dir, data, logf string
	// cred is the user the server runs as, when this process runs as root.
	cred *syscall.Credential
}

func initDataDir() (*dataDir, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	parent := ""
	if os.Geteuid() == 0 {
		parent = "/tmp" // TMPDIR may be under /root, which the server's user cannot reach
	}
	dir, err := os.MkdirTemp(parent, "pgtest-")
	if err != nil {
		return nil, err
	}
	d := &dataDir{bin: bin, dir: dir, data: filepath.Join(dir, "data"), logf: filepath.Join(dir, "server.log")}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			u, err = user.Lookup("nobody")
		}
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root and found neither a postgres nor a nobody user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		d.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chmod(dir, 0o700); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", d.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-locale")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: d.cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return d, nil
}

// errPortTaken says that another process had the port the server was to listen on.
var errPortTaken = errors.New("the port was taken by another process")

// launch starts the server of the data directory on a loopback port and waits until it
// answers, and answers for this data directory.
func (d *dataDir) launch(port int) (*Server, error) {
	lf, err := os.Create(d.logf)
	if err != nil {
		return nil, err
	}
	if d.cred != nil {
		_ = lf.Chown(int(d.cred.Uid), int(d.cred.Gid))
	}
	cmd := exec.Command(filepath.Join(d.bin, "postgres"), "-D", d.data, "-p", strconv.Itoa(port), "-k", d.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=300", "-c", "shared_buffers=64MB")
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Dir = d.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: d.cred, Pdeathsig: syscall.SIGTERM, Setpgid: true}
	err = cmd.Start()
	lf.Close()
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Server{dir: d.dir, port: port, cmd: cmd, logf: d.logf, done: make(chan struct{})}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		answered, err := s.queryString(ctx, "SELECT current_setting('data_directory')")
		cancel()
		switch {
		case err == nil && filepath.Clean(answered) == filepath.Clean(d.data):
			return s, nil
		case err == nil:
			// Another server listens on the port; this one cannot have bound it.
			s.stopProcess()
			return nil, fmt.Errorf("%w: port %d answers for %s", errPortTaken, port, answered)
		}
		select {
		case werr := <-exited:
			log, _ := os.ReadFile(d.logf)
			if strings.Contains(string(log), "could not bind") {
				return nil, fmt.Errorf("%w: postgres exited: %w\n%s", errPortTaken, werr, log)
			}
			return nil, fmt.Errorf("postgres exited: %w\n%s", werr, log)
		default:
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(d.logf)
			s.stopProcess()
			return nil, fmt.Errorf("postgres not ready after 60s: %w\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// URL returns the URL of database db on the server.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgresql://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// queryString runs a query of one text value in the postgres database.
func (s *Server) queryString(ctx context.Context, sql string) (string, error) {
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	var v string
	err = conn.QueryRow(ctx, sql).Scan(&v)
	return v, err
}

func (s *Server) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// CreateDB creates a new empty database and returns its URL.
func (s *Server) CreateDB() (string, error) {
	name := s.nextName()
	if err := s.exec(context.Background(), "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		return "", fmt.Errorf("pgtest: create database: %w", err)
	}
	u := s.URL(name)
	return u, nil
}

// nextName is the name of a new database, unique on the server.
func (s *Server) nextName() string {
	return fmt.Sprintf("t_%d_%d", os.Getpid(), s.seq.Add(1))
}

// Stop shuts the server down (fast shutdown) and removes its directory.
func (s *Server) Stop() {
	s.stopProcess()
	os.RemoveAll(s.dir)
}

// stopProcess shuts the server down (fast shutdown) and waits for it to exit.
func (s *Server) stopProcess() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	}
}
