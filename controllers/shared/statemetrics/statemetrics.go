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

// Package statemetrics computes metrics of objects from the manager's cache at each scrape,
// as kube-state-metrics does: there is nothing to keep in step with the objects, and an
// object that is deleted is gone from the next scrape. Each reconciler package that exposes
// its objects' state declares one Collector with the function that reads them.
package statemetrics

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// readTimeout bounds the reads of one scrape.
const readTimeout = 5 * time.Second

// CollectFunc sends the metrics it reads from r to ch. A read that fails (a cache not
// started yet) leaves its series out rather than reporting a state nobody observed.
type CollectFunc func(ctx context.Context, r client.Reader, ch chan<- prometheus.Metric)

// Collector is a prometheus.Collector over the manager's cache. Until ReadWhenLeader runs
// it collects nothing.
type Collector struct {
	descs   []*prometheus.Desc
	collect CollectFunc
	reader  atomic.Pointer[client.Reader]
}

// MustRegister registers, in controller-runtime's metrics registry (the one the manager
// serves), a Collector of the metrics descs that collect sends.
func MustRegister(collect CollectFunc, descs ...*prometheus.Desc) *Collector {
	c := &Collector{descs: descs, collect: collect}
	metrics.Registry.MustRegister(c)
	return c
}

// ReadWhenLeader makes the metrics read from r (the manager's cache) once mgr elects this
// replica leader: with several replicas, only the one that reconciles exports the state.
// Every replica's cache holds the objects, and a series from each would double every sum
// of a dashboard and every alert. (A replica that loses the lease exits.) Once the manager
// stops, nothing is read.
func (c *Collector) ReadWhenLeader(mgr manager.Manager, r client.Reader) error {
	// A runnable that does not say otherwise runs on the leader only.
	return mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		p := &r
		c.reader.Store(p)
		<-ctx.Done()
		c.reader.CompareAndSwap(p, nil) // not another manager's, set since
		return nil
	}))
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	r := c.reader.Load()
	if r == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	c.collect(ctx, *r, ch)
}

// Each lists the objects of list's kind from r and calls f with each one, in turn. They
// are the cache's own objects, not copies: f only reads them. A list that fails (a cache
// not started yet) calls nothing.
func Each[T client.Object](ctx context.Context, r client.Reader, list client.ObjectList, f func(T), opts ...client.ListOption) {
	if err := r.List(ctx, list, append(opts, client.UnsafeDisableDeepCopy)...); err != nil {
		return
	}
	_ = meta.EachListItem(list, func(o runtime.Object) error {
		f(o.(T))
		return nil
	})
}

// Bool is a condition or a flag as a gauge's value: 1 or 0.
func Bool(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
