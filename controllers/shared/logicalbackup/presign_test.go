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

package logicalbackup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPresignMatchesAWSExample checks the link against AWS's worked example of a
// presigned GET ("Authenticating Requests: Using Query Parameters", examplebucket/test.txt),
// with the bucket as the endpoint's host.
func TestPresignMatchesAWSExample(t *testing.T) {
	at := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	link, err := Presign(Object{Endpoint: "https://examplebucket.s3.amazonaws.com", Region: "us-east-1", Key: "test.txt"},
		"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", at, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Query().Get("X-Amz-Signature"); got != "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404" {
		t.Errorf("signature %s\n%s", got, link)
	}
	if u.Path != "/test.txt" || u.Query().Get("X-Amz-Credential") != "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request" || u.Query().Get("X-Amz-Expires") != "86400" {
		t.Errorf("link %s", link)
	}
	for _, bad := range []time.Duration{0, -time.Second, 7*24*time.Hour + time.Second} {
		if _, err := Presign(Object{Endpoint: "https://s3", Bucket: "b", Key: "k"}, "a", "s", at, bad); err == nil || !strings.Contains(err.Error(), "at most 168h") {
			t.Errorf("validity %s: %v", bad, err)
		}
	}
}

// TestDownloadChecksTheChecksum: backup-logical download writes the object only when its
// SHA-256 is the one asked for, and never leaves a partial file.
func TestDownloadChecksTheChecksum(t *testing.T) {
	body := []byte("PGDMP the dump")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AK/") || r.URL.Path != "/hub/r/c/imports/x.dump" {
			http.Error(w, "<Error><Code>AccessDenied</Code></Error>", http.StatusForbidden)
			return
		}
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "AK")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "SK")
	sum := sha256.Sum256(body)
	dir := t.TempDir()
	file := filepath.Join(dir, "x.dump")
	args := func(name, want string) []string {
		return []string{"download", "--file=" + file, "--destination=s3://hub/r/c/imports/", "--name=" + name, "--sha256=" + want, "--endpoint=" + srv.URL}
	}
	if err := Main(context.Background(), args("x.dump", strings.Repeat("0", 64))); err == nil || !strings.Contains(err.Error(), "refusing it") {
		t.Errorf("a wrong checksum: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused download left %v", entries)
	}
	if err := Main(context.Background(), args("missing.dump", hex.EncodeToString(sum[:]))); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("a refused request: %v", err)
	}
	if err := Main(context.Background(), args("x.dump", hex.EncodeToString(sum[:]))); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(file); err != nil || !bytes.Equal(got, body) {
		t.Errorf("downloaded %q (%v)", got, err)
	}
}
