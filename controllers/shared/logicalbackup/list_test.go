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
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// DeletePrefix signs each request with the time it is sent: one time for the whole prefix
// outlived the store's 15 minutes of skew on a large one (RequestTimeTooSkewed).
func TestDeletePrefixSignsEachRequestWhenSent(t *testing.T) {
	var dates []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dates = append(dates, r.Header.Get("X-Amz-Date"))
		if r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		_, _ = w.Write([]byte("<ListBucketResult><Contents><Key>eu-west/ride/a</Key></Contents><Contents><Key>eu-west/ride/b</Key></Contents></ListBucketResult>"))
	}))
	defer srv.Close()
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { clock = clock.Add(10 * time.Minute); return clock }
	n, err := DeletePrefix(context.Background(), srv.Client(), ObjectAt(srv.URL, "hub", "eu-west/ride/"), "id", "secret", now)
	if err != nil || n != 2 {
		t.Fatalf("deleted %d, %v", n, err)
	}
	want := []string{"20260101T001000Z", "20260101T002000Z", "20260101T003000Z"}
	if len(dates) != len(want) {
		t.Fatalf("requests signed at %v, want %v", dates, want)
	}
	for i := range want {
		if dates[i] != want[i] {
			t.Errorf("request %d signed at %s, want %s", i, dates[i], want[i])
		}
	}
}
