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

package metering

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// UsageSource reads what pods use now.
type UsageSource interface {
	// Available says whether the cluster serves pod usage now.
	Available(ctx context.Context) bool
	// PodUsage returns the usage of the co-ops' pods by namespace. With an error it may
	// still return the namespaces it could read.
	PodUsage(ctx context.Context) (map[string]PodUsage, error)
}

// MetricsGroupVersion is the API that serves pod usage (metrics-server and others).
const MetricsGroupVersion = "metrics.k8s.io/v1beta1"

// MetricsAPI reads pod usage from metrics.k8s.io when the API server serves it, which it
// checks through discovery at most once per RecheckInterval.
type MetricsAPI struct {
	Discovery       discovery.DiscoveryInterface
	Reader          client.Reader // uncached: manager.GetAPIReader()
	Clock           clock.PassiveClock
	RecheckInterval time.Duration

	mu        sync.Mutex
	checkedAt time.Time
	available bool
}

// Available implements UsageSource.
func (m *MetricsAPI) Available(context.Context) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.Clock.Now()
	if !m.checkedAt.IsZero() && now.Sub(m.checkedAt) < m.RecheckInterval {
		return m.available
	}
	m.checkedAt = now
	m.available = false
	list, err := m.Discovery.ServerResourcesForGroupVersion(MetricsGroupVersion)
	if err != nil {
		return false
	}
	for _, r := range list.APIResources {
		if r.Name == "pods" {
			m.available = true
		}
	}
	return m.available
}

// PodUsage implements UsageSource: one List, across namespaces, of the metrics of the
// pods that carry the co-op label (metrics-server applies the selector to the pods), read
// by namespace.
func (m *MetricsAPI) PodUsage(ctx context.Context) (map[string]PodUsage, error) {
	list := &unstructured.UnstructuredList{}
	list.SetAPIVersion(MetricsGroupVersion)
	list.SetKind("PodMetricsList")
	if err := m.Reader.List(ctx, list, client.HasLabels{coopv1.LabelCooperative}); err != nil {
		return nil, fmt.Errorf("listing pod metrics: %w", err)
	}
	return podUsageByNamespace(list.Items)
}

// podUsageByNamespace reads PodMetrics objects (containers[].usage.{cpu,memory}) by
// namespace. A namespace with an unreadable one is left out, and the error says why.
func podUsageByNamespace(items []unstructured.Unstructured) (map[string]PodUsage, error) {
	out := map[string]PodUsage{}
	bad := map[string]bool{}
	var errs []error
	for _, item := range items {
		ns := item.GetNamespace()
		if bad[ns] {
			continue
		}
		u, err := containerUsage(&item)
		if err != nil {
			bad[ns] = true
			delete(out, ns)
			errs = append(errs, fmt.Errorf("namespace %s: %w", ns, err))
			continue
		}
		if out[ns] == nil {
			out[ns] = PodUsage{}
		}
		out[ns][item.GetName()] = u
	}
	return out, errors.Join(errs...)
}

// containerUsage reads the usage of one PodMetrics' containers by name.
func containerUsage(item *unstructured.Unstructured) (map[string]ContainerUsage, error) {
	containers, _, _ := unstructured.NestedSlice(item.Object, "containers")
	byName := map[string]ContainerUsage{}
	for _, c := range containers {
		cm, ok := c.(map[string]any)
		if !ok {
			continue
		}
		name, _, _ := unstructured.NestedString(cm, "name")
		cpu, _, _ := unstructured.NestedString(cm, "usage", "cpu")
		mem, _, _ := unstructured.NestedString(cm, "usage", "memory")
		var u ContainerUsage
		if cpu != "" {
			q, err := resource.ParseQuantity(cpu)
			if err != nil {
				return nil, fmt.Errorf("pod %s container %s: cpu: %w", item.GetName(), name, err)
			}
			u.MilliCPU = q.MilliValue()
		}
		if mem != "" {
			q, err := resource.ParseQuantity(mem)
			if err != nil {
				return nil, fmt.Errorf("pod %s container %s: memory: %w", item.GetName(), name, err)
			}
			u.MemoryBytes = q.Value()
		}
		byName[name] = u
	}
	return byName, nil
}

// DatabaseSizer reads the size of a shared-tier co-op's database.
type DatabaseSizer interface {
	// DatabaseSize returns the size in bytes of the co-op's database. Its error wraps
	// ErrDatabaseNotFound when the database does not exist (yet), and
	// ErrDatabaseUnreachable when the server could not be connected to: the meter then
	// asks no more sizes in that pass.
	DatabaseSize(ctx context.Context, coop *coopv1.Cooperative) (int64, error)
}

// ErrDatabaseNotFound says that a co-op's database does not exist, as when the co-op is
// new and its database not created yet.
var ErrDatabaseNotFound = errors.New("no such database")

// ErrDatabaseUnreachable says that the shared database cluster could not be connected to.
var ErrDatabaseUnreachable = errors.New("connecting to the shared database cluster")

// DefaultSizeTimeout bounds one PostgresSizer.DatabaseSize call, connection included.
const DefaultSizeTimeout = 5 * time.Second

// PostgresSizer reads pg_database_size from the hub's shared PostgreSQL cluster over one
// connection, opened on first use and again after an error. Each call gives up after
// Timeout: the meter reads the sizes in turn, holding its lock, and a server that
// accepts connections but never answers would otherwise hold it for ever.
type PostgresSizer struct {
	// ConnString is a libpq connection string or URL of a role allowed to call
	// pg_database_size on every co-op database: CONNECT on a co-op's database is revoked
	// from PUBLIC, so a member of pg_read_all_stats (the operator's metering role,
	// cooperative.SharedMeteringRole), which need not connect to those databases.
	ConnString string
	// ConnStringFunc, when ConnString is empty, returns it at each (re)connection: the
	// operator reads it from the metering role's Secret (cooperative.SharedMeteringURI),
	// which may appear after start.
	ConnStringFunc func(ctx context.Context) (string, error)
	// DatabaseName names the co-op's database; when nil, coop_<name> with dashes as
	// underscores, as the Cooperative reconciler names it (coopv1.SharedRoleName).
	DatabaseName func(coop *coopv1.Cooperative) string
	// Timeout bounds each call, connection included; DefaultSizeTimeout when zero.
	Timeout time.Duration

	mu   sync.Mutex
	conn *pgx.Conn
}

// DatabaseSize implements DatabaseSizer.
func (p *PostgresSizer) DatabaseSize(ctx context.Context, coop *coopv1.Cooperative) (int64, error) {
	name := coopv1.SharedRoleName(coop)
	if p.DatabaseName != nil {
		name = p.DatabaseName(coop)
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultSizeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn == nil {
		dsn := p.ConnString
		if dsn == "" && p.ConnStringFunc != nil {
			var err error
			if dsn, err = p.ConnStringFunc(ctx); err != nil {
				return 0, fmt.Errorf("finding the shared database cluster: %w", err)
			}
		}
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return 0, fmt.Errorf("%w: %w", ErrDatabaseUnreachable, err)
		}
		p.conn = conn
	}
	var size int64
	if err := p.conn.QueryRow(ctx, "SELECT pg_database_size($1)", name).Scan(&size); err != nil {
		// A database that does not exist (yet) leaves the connection good; any other error
		// opens a new one next time.
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "3D000" /* invalid_catalog_name */ {
			return 0, fmt.Errorf("reading the size of database %s: %w: %w", name, ErrDatabaseNotFound, err)
		}
		_ = p.conn.Close(ctx)
		p.conn = nil
		return 0, fmt.Errorf("reading the size of database %s: %w", name, err)
	}
	return size, nil
}

// Close closes the connection.
func (p *PostgresSizer) Close(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn == nil {
		return nil
	}
	err := p.conn.Close(ctx)
	p.conn = nil
	return err
}
