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

// Package clientip finds the address of a request's client, for the limits kept per
// address: behind the hub's ingress controller every request comes from the controller's
// address, and X-Forwarded-For says whom it came from. The header is read only from the
// proxies the hub trusts, whose entries are the ones that proxy appended: a client may
// write any X-Forwarded-For of its own, and the entries it wrote are to the left.
package clientip

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver finds a request's client, trusting X-Forwarded-For from Trusted only.
type Resolver struct {
	Trusted []netip.Prefix
}

// Parse reads a comma-separated list of CIDRs or addresses (an address is its own /32 or
// /128); empty entries are skipped.
func Parse(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a CIDR nor an address", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// Of is the address of r's client: the peer's, unless the peer is a trusted proxy; then
// the right-most X-Forwarded-For entry that is not itself a trusted proxy. A malformed
// entry stops the walk at the last address it reached: what is to its left cannot be told
// from what the client wrote. An IPv6 client is its /64: one subscriber holds a whole
// /64, and would otherwise have as many budgets as it has addresses.
func (res Resolver) Of(r *http.Request) string {
	peer, ok := addrOf(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr
	}
	if !res.trusted(peer) {
		return key(peer)
	}
	client := peer
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		client = a.Unmap()
		if !res.trusted(client) {
			break
		}
	}
	return key(client)
}

// key is an IPv4 address, or the /64 of an IPv6 one.
func key(a netip.Addr) string {
	if a.Is6() && !a.Is4In6() {
		return netip.PrefixFrom(a.WithZone(""), 64).Masked().String()
	}
	return a.String()
}

func (res Resolver) trusted(a netip.Addr) bool {
	for _, p := range res.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// addrOf is the address of a host:port (or of a bare address).
func addrOf(hostport string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}
