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

package manager_test

import (
	"flag"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/controllers/governance"
)

// TestThroughputFlags: the flags set the reconciles in parallel and the client's rate,
// and the defaults sized for a thousand co-ops apply to what is not set.
func TestThroughputFlags(t *testing.T) {
	tests := []struct {
		args        []string
		concurrency int
		qps         float32
		burst       int
	}{
		{nil, manager.DefaultMaxConcurrentReconciles, manager.DefaultClientQPS, manager.DefaultClientBurst},
		{[]string{"--max-concurrent-reconciles=16", "--kube-api-qps=200.5", "--kube-api-burst=400"}, 16, 200.5, 400},
		{[]string{"--kube-api-qps=0"}, manager.DefaultMaxConcurrentReconciles, manager.DefaultClientQPS, manager.DefaultClientBurst},
	}
	for _, tt := range tests {
		var th manager.Throughput
		fs := flag.NewFlagSet("manager", flag.ContinueOnError)
		th.BindFlags(fs)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		in := &rest.Config{Host: "https://hub.example", QPS: 5, Burst: 10}
		cfg := th.RESTConfig(in)
		if cfg.QPS != tt.qps || cfg.Burst != tt.burst || cfg.Host != in.Host {
			t.Errorf("%v: the client sends %v per second, %d at once, to %s", tt.args, cfg.QPS, cfg.Burst, cfg.Host)
		}
		if in.QPS != 5 {
			t.Errorf("%v: the caller's config changed", tt.args)
		}
		if th.MaxConcurrentReconciles != tt.concurrency {
			t.Errorf("%v: %d reconciles in parallel, want %d", tt.args, th.MaxConcurrentReconciles, tt.concurrency)
		}
	}
}

// TestIntervalFlags: --governance-interval and --peer-contact-interval set how often the
// operator reads governed co-ops' databases and contacts peers; what would make a loop
// spin is refused with the flag and the rule named, as is a --pprof-bind-address other
// hosts could reach.
func TestIntervalFlags(t *testing.T) {
	tests := []struct {
		args       []string
		governance time.Duration
		peers      time.Duration
		err        string
	}{
		{args: nil, governance: governance.DefaultInterval, peers: time.Minute},
		{args: []string{"--governance-interval=2m", "--peer-contact-interval=30s"}, governance: 2 * time.Minute, peers: 30 * time.Second},
		{args: []string{"--governance-interval=0"}, err: "--governance-interval: must be at least 1s, got 0s"},
		{args: []string{"--governance-interval=10ms", "--peer-contact-interval=-1s"}, err: "--peer-contact-interval: must be at least 1s, got -1s\n--governance-interval: must be at least 1s, got 10ms"},
		{args: []string{"--pprof-bind-address=127.0.0.1:6060"}, governance: governance.DefaultInterval, peers: time.Minute},
		{args: []string{"--pprof-bind-address=[::1]:6060"}, governance: governance.DefaultInterval, peers: time.Minute},
		{args: []string{"--pprof-bind-address=localhost:6060"}, governance: governance.DefaultInterval, peers: time.Minute},
		{args: []string{"--pprof-bind-address=:6060"}, err: `--pprof-bind-address: must be on a loopback host (127.0.0.1:6060, reached with kubectl port-forward): the profiles have no authentication, got ":6060"`},
		{args: []string{"--pprof-bind-address=0.0.0.0:6060"}, err: `--pprof-bind-address: must be on a loopback host (127.0.0.1:6060, reached with kubectl port-forward): the profiles have no authentication, got "0.0.0.0:6060"`},
		{args: []string{"--pprof-bind-address=6060"}, err: `--pprof-bind-address: must be host:port, got "6060"`},
	}
	for _, tt := range tests {
		opts := manager.DefaultOptions()
		fs := flag.NewFlagSet("manager", flag.ContinueOnError)
		opts.BindFlags(fs)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		err := opts.ValidateIntervals()
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%v: error %v, want %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tt.args, err)
		}
		if opts.GovernanceInterval != tt.governance || opts.PeerContactInterval != tt.peers {
			t.Errorf("%v: governance every %s, peers every %s; want %s and %s", tt.args, opts.GovernanceInterval, opts.PeerContactInterval, tt.governance, tt.peers)
		}
	}
}
