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

package harness

import (
	"io"
	"net/http"
	"strings"
)

// EmptyObjectStore is an HTTP client that answers for an object store as an empty bucket
// does (every ListObjectsV2 empty, every DeleteObject done), for suites where none runs and
// the operator's deletion of a co-op empties its prefixes (manager.Options.ObjectStoreHTTP).
func EmptyObjectStore() *http.Client { return &http.Client{Transport: emptyStore{}} }

type emptyStore struct{}

func (emptyStore) RoundTrip(r *http.Request) (*http.Response, error) {
	status, body := http.StatusOK, "<ListBucketResult></ListBucketResult>"
	if r.Method == http.MethodDelete {
		status, body = http.StatusNoContent, ""
	}
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}, Request: r}, nil
}
