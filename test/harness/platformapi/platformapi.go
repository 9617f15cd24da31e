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

// Package platformapi calls a co-op platform service's JSON API over HTTP, as a member's
// client does: the demo and the suites that run a real platform use it.
package platformapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// Client calls the API at BaseURL with HTTP (http.DefaultClient when nil).
type Client struct {
	BaseURL string
	HTTP    *http.Client
}

// Do sends a request with the bearer token (none when empty) and body (JSON-encoded when
// not nil); headers are name, value pairs. It returns the status and the decoded JSON
// object of the answer (nil when it is not one).
func (c Client) Do(ctx context.Context, method, path, token string, body any, headers ...string) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, err
	}
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return resp.StatusCode, out, nil
}

// Expect is Do, with an error when the status is not want.
func (c Client) Expect(ctx context.Context, want int, method, path, token string, body any, headers ...string) (map[string]any, error) {
	got, out, err := c.Do(ctx, method, path, token, body, headers...)
	if err != nil {
		return nil, err
	}
	if got != want {
		return out, fmt.Errorf("%s %s: %d, want %d: %v", method, path, got, want, out)
	}
	return out, nil
}

// T is a client for a test: a request without an answer, or with another status than the
// one a test expects, fails TB.
type T struct {
	Client
	TB testing.TB
}

// Call is Do; TB fails when the request gets no answer.
func (c T) Call(method, path, token string, body any, headers ...string) (int, map[string]any) {
	c.TB.Helper()
	status, out, err := c.Do(context.Background(), method, path, token, body, headers...)
	if err != nil {
		c.TB.Fatal(err)
	}
	return status, out
}

// Must is Call; TB fails when the status is not want.
func (c T) Must(want int, method, path, token string, body any, headers ...string) map[string]any {
	c.TB.Helper()
	got, out := c.Call(method, path, token, body, headers...)
	if got != want {
		c.TB.Fatalf("%s %s: %d, want %d: %v", method, path, got, want, out)
	}
	return out
}
