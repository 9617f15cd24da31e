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

package clientip

import (
	"net/http/httptest"
	"testing"
)

func TestOf(t *testing.T) {
	trusted, err := Parse("10.0.0.0/8, 192.168.1.7")
	if err != nil {
		t.Fatal(err)
	}
	res := Resolver{Trusted: trusted}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"a direct client: its address, whatever it says", "203.0.113.9:4711", []string{"198.51.100.1"}, "203.0.113.9"},
		{"through the ingress controller", "10.1.2.3:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"a client's own header is to the left of what the proxy appended", "10.1.2.3:5000", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"two trusted proxies", "10.1.2.3:5000", []string{"198.51.100.1, 192.168.1.7"}, "198.51.100.1"},
		{"headers given twice count as one list", "10.1.2.3:5000", []string{"1.2.3.4", "198.51.100.1"}, "198.51.100.1"},
		{"a malformed entry stops the walk", "10.1.2.3:5000", []string{"198.51.100.1, garbage"}, "10.1.2.3"},
		{"no header: the proxy itself", "10.1.2.3:5000", nil, "10.1.2.3"},
		{"an IPv6 peer is its /64", "[2001:db8:0:7::1]:443", nil, "2001:db8:0:7::/64"},
		{"an IPv6 client through the proxy too", "10.1.2.3:5000", []string{"2001:db8:0:7:abcd::9"}, "2001:db8:0:7::/64"},
		{"an IPv4-mapped peer counts as IPv4", "[::ffff:10.1.2.3]:5000", []string{"198.51.100.1"}, "198.51.100.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := res.Of(r); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	// Without trusted proxies, the header is never read.
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr, r.Header["X-Forwarded-For"] = "10.1.2.3:5000", []string{"198.51.100.1"}
	if got := (Resolver{}).Of(r); got != "10.1.2.3" {
		t.Errorf("no trusted proxies: got %s", got)
	}
}

func TestParse(t *testing.T) {
	if _, err := Parse("10.0.0.0/8,nonsense"); err == nil {
		t.Error("a list with nonsense parsed")
	}
	if p, err := Parse(" , 10.1.2.3/8 ,"); err != nil || len(p) != 1 || p[0].String() != "10.0.0.0/8" {
		t.Errorf("got %v, %v", p, err)
	}
}
