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

package leave

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cooperator-dev/cooperator/controllers/shared/logicalbackup"
)

// s3Store stands in for the hubs' object store (none runs here): path-style objects, and
// every request checked as S3 checks it, by recomputing its Signature Version 4 with the
// secret of the access key it names. Each key reaches one prefix, read-write or read-only,
// as the hub's per-co-op keys do.
type s3Store struct {
	srv  *httptest.Server
	mu   sync.Mutex
	objs map[string][]byte
	// meta is each object's SHA-256 as its upload recorded it (x-amz-meta-sha256).
	meta map[string]string
	keys map[string]s3Key
	// deletes counts the DELETEs the store accepted, lists the ListObjectsV2 pages.
	deletes, lists int
	// onPut, when set, is called with each object the store took, before it answers.
	onPut func(path string)
}

type s3Key struct {
	secret, prefix string
	write          bool
}

func newS3Store() *s3Store {
	s := &s3Store{objs: map[string][]byte{}, meta: map[string]string{}, keys: map[string]s3Key{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (s *s3Store) URL() string { return s.srv.URL }
func (s *s3Store) Close()      { s.srv.Close() }

// AddKey lets key (with secret) read, and with write also write, the objects under prefix
// (bucket/path/).
func (s *s3Store) AddKey(key, secret, prefix string, write bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[key] = s3Key{secret: secret, prefix: prefix, write: write}
}

// Object returns an object's bytes (bucket/key).
func (s *s3Store) Object(path string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.objs[path]
	return b, ok
}

// Put stores an object as an upload would.
func (s *s3Store) Put(path string, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objs[path] = b
}

// OnPut has f called with each object the store takes, before it answers, until the test
// ends.
func (s *s3Store) OnPut(t interface{ Cleanup(func()) }, f func(path string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onPut = f
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.onPut = nil
	})
}

// Under lists the objects whose path starts with prefix (bucket/key).
func (s *s3Store) Under(prefix string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var paths []string
	for p := range s.objs {
		if strings.HasPrefix(p, prefix) {
			paths = append(paths, p)
		}
	}
	return paths
}

// Deletes is how many DELETEs the store accepted.
func (s *s3Store) Deletes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deletes
}

func deny(w http.ResponseWriter, code, msg string) {
	w.WriteHeader(http.StatusForbidden)
	_, _ = io.WriteString(w, "<Error><Code>"+code+"</Code><Message>"+msg+"</Message></Error>")
}

func (s *s3Store) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	key, ok := s.authenticate(r)
	if !ok {
		deny(w, "SignatureDoesNotMatch", "bad or expired signature")
		return
	}
	s.mu.Lock()
	k := s.keys[key]
	s.mu.Unlock()
	if q := r.URL.Query(); r.Method == http.MethodGet && !strings.Contains(path, "/") && q.Get("list-type") == "2" {
		// ListObjectsV2 of a bucket: a key lists only under its own prefix (as an IAM
		// policy's s3:prefix condition holds it), two keys a page.
		under := path + "/" + q.Get("prefix")
		if !strings.HasPrefix(under, k.prefix) {
			deny(w, "AccessDenied", key+" may not list "+under)
			return
		}
		s.list(w, path, under, q.Get("continuation-token"))
		return
	}
	if !strings.HasPrefix(path, k.prefix) {
		deny(w, "AccessDenied", key+" may not reach "+path)
		return
	}
	switch r.Method {
	case http.MethodPut:
		if !k.write {
			deny(w, "AccessDenied", key+" is read-only")
			return
		}
		b, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		// As S3: a body that is not the signed payload hash is refused.
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != r.Header.Get("x-amz-content-sha256") {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, "<Error><Code>XAmzContentSHA256Mismatch</Code></Error>")
			return
		}
		s.mu.Lock()
		s.objs[path] = b
		s.meta[path] = r.Header.Get(logicalbackup.MetaSHA256)
		onPut := s.onPut
		s.mu.Unlock()
		if onPut != nil {
			onPut(path)
		}
	case http.MethodDelete:
		if !k.write {
			deny(w, "AccessDenied", key+" is read-only")
			return
		}
		s.mu.Lock()
		delete(s.objs, path)
		delete(s.meta, path)
		s.deletes++
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent) // S3 answers 204 whether the key was there or not
	case http.MethodHead:
		s.mu.Lock()
		_, ok := s.objs[path]
		sum := s.meta[path]
		s.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		if sum != "" {
			w.Header().Set(logicalbackup.MetaSHA256, sum)
		}
	case http.MethodGet:
		b, ok := s.Object(path)
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, "<Error><Code>NoSuchKey</Code></Error>")
			return
		}
		_, _ = w.Write(b)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// list answers a ListObjectsV2 page of the objects under (bucket/prefix), after the key
// token names, two a page.
func (s *s3Store) list(w http.ResponseWriter, bucket, under, after string) {
	s.mu.Lock()
	s.lists++
	var keys []string
	for p := range s.objs {
		if strings.HasPrefix(p, under) && strings.TrimPrefix(p, bucket+"/") > after {
			keys = append(keys, strings.TrimPrefix(p, bucket+"/"))
		}
	}
	s.mu.Unlock()
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("<ListBucketResult>")
	for i, k := range keys {
		if i == 2 {
			b.WriteString("<IsTruncated>true</IsTruncated><NextContinuationToken>" + keys[1] + "</NextContinuationToken>")
			break
		}
		b.WriteString("<Contents><Key>" + k + "</Key></Contents>")
	}
	b.WriteString("</ListBucketResult>")
	_, _ = io.WriteString(w, b.String())
}

// Lists is how many ListObjectsV2 pages the store answered.
func (s *s3Store) Lists() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lists
}

// authenticate recomputes the request's signature (in its Authorization header, or in its
// query string for a presigned link) and returns the access key that signed it.
func (s *s3Store) authenticate(r *http.Request) (string, bool) {
	endpoint := "http://" + r.Host
	if q := r.URL.Query(); q.Get("X-Amz-Signature") != "" {
		cred := strings.SplitN(q.Get("X-Amz-Credential"), "/", 2)
		at, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
		secs, err2 := strconv.Atoi(q.Get("X-Amz-Expires"))
		if err != nil || err2 != nil || len(cred) != 2 || r.Method != http.MethodGet || time.Now().After(at.Add(time.Duration(secs)*time.Second)) {
			return "", false
		}
		s.mu.Lock()
		k, ok := s.keys[cred[0]]
		s.mu.Unlock()
		if !ok {
			return "", false
		}
		bucket, objKey, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		want, err := logicalbackup.Presign(logicalbackup.Object{Endpoint: endpoint, Region: "us-east-1", Bucket: bucket, Key: objKey}, cred[0], k.secret, at, time.Duration(secs)*time.Second)
		if err != nil {
			return "", false
		}
		wu, err := url.Parse(want)
		return cred[0], err == nil && wu.Query().Get("X-Amz-Signature") == q.Get("X-Amz-Signature")
	}
	auth := r.Header.Get("Authorization")
	credPart, _, _ := strings.Cut(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 Credential="), ",")
	key, _, _ := strings.Cut(credPart, "/")
	s.mu.Lock()
	k, ok := s.keys[key]
	s.mu.Unlock()
	at, err := time.Parse("20060102T150405Z", r.Header.Get("x-amz-date"))
	if !ok || err != nil {
		return "", false
	}
	_, signed, _ := strings.Cut(auth, "SignedHeaders=")
	signed, _, _ = strings.Cut(signed, ",")
	again, _ := http.NewRequest(r.Method, endpoint+r.URL.RequestURI(), nil)
	for _, h := range strings.Split(signed, ";") {
		if h != "host" && h != "x-amz-date" {
			again.Header.Set(h, r.Header.Get(h))
		}
	}
	logicalbackup.Sign(again, "us-east-1", key, k.secret, at)
	return key, again.Header.Get("Authorization") == auth
}
