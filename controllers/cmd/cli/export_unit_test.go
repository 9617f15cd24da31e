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

package cli

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/cooperator-dev/cooperator/controllers/export"
)

// TestExportName: the name of an export the command requests, with the suffix of a second
// one in the same second, is a valid Job name (at most 63 characters, starting and ending
// alphanumeric) for a co-op name of any length the API allows. Before, a co-op name of 49
// or 50 characters gave 65 with the suffix, and the export's Job could never be created.
func TestExportName(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	for _, n := range []int{1, 20, 46, 47, 49, 50, 63} {
		coop := strings.Repeat("a", n-1) + "b"
		if n > 47 {
			coop = strings.Repeat("a", 46) + "-" + strings.Repeat("c", n-47) // a dash where it is cut
		}
		for _, name := range []string{exportName(coop, now), exportName(coop, now) + "-9"} {
			if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
				t.Errorf("co-op name of %d characters: export %q: %v", n, name, errs)
			}
		}
		if !strings.HasSuffix(exportName(coop, now), "-20261206100000") {
			t.Errorf("%q does not end with the time", exportName(coop, now))
		}
	}
}

// TestDownloadErrorKeepsTheStoresDocumentOut: a refused download names the store's host,
// the status and S3's error code, never the error document, which may echo the access key
// ID, the string to sign and the signature, nor the link, which is a credential.
func TestDownloadErrorKeepsTheStoresDocumentOut(t *testing.T) {
	const echoed = "AKIASECRETKEYID"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<Error><Code>SignatureDoesNotMatch</Code><AWSAccessKeyId>"+echoed+"</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256 "+echoed+"</StringToSign></Error>", http.StatusForbidden)
	}))
	defer srv.Close()
	err := download(context.Background(), srv.URL+"/bucket/dump?X-Amz-Signature=sig", func(io.Reader) error { return nil })
	if err == nil {
		t.Fatal("a refused download succeeded")
	}
	msg := err.Error()
	if strings.Contains(msg, echoed) || strings.Contains(msg, "X-Amz-Signature") || strings.Contains(msg, "StringToSign") {
		t.Fatalf("the error carries the store's document or the link: %s", msg)
	}
	if !strings.Contains(msg, "403 Forbidden (SignatureDoesNotMatch)") {
		t.Errorf("the error %q does not give the status and the code", msg)
	}
}

// TestMalformedLinkIsNotEchoed: a stored link that does not parse is said to be malformed,
// without a word of it: url.Parse's error quotes it whole, signature included, and the
// command prints its error on stderr.
func TestMalformedLinkIsNotEchoed(t *testing.T) {
	const link = "https://store.example.org/bucket/dump?X-Amz-Credential=AKIASECRETKEYID&X-Amz-Signature=0123abcd\x7f"
	err := download(context.Background(), link, func(io.Reader) error { return nil })
	if err == nil {
		t.Fatal("a malformed link was downloaded")
	}
	msg := err.Error()
	for _, secret := range []string{"AKIASECRETKEYID", "0123abcd", "X-Amz-Signature", "store.example.org/bucket"} {
		if strings.Contains(msg, secret) {
			t.Errorf("the error echoes the link (%s): %s", secret, msg)
		}
	}
	if !strings.Contains(msg, "malformed") {
		t.Errorf("the error %q does not say the link is malformed", msg)
	}
}

// TestImportMaxSize: --max-size caps what an archive may hold, unpacked; a larger archive
// is refused before anything is written, saying how to raise the limit, and a limit that
// is not a whole number of bytes above 0 is a usage error.
func TestImportMaxSize(t *testing.T) {
	target := filepath.Join(t.TempDir(), "coop.tar.gz")
	w, err := export.NewWriter(target, "max-size-coop", fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{export.CooperativeFile: "metadata: {name: max-size-coop}\n", export.DumpFile: strings.Repeat("PGDMP", 100)} {
		if err := w.Add(name, "a part", strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	r := cli(t, "import", target, "--max-size", "100")
	if r.code != ExitError || !strings.Contains(r.errs, "unpacks to more than 100 bytes") || !strings.Contains(r.errs, "--max-size 100 raises the limit") ||
		!strings.Contains(r.errs, "nothing was written") || strings.Contains(r.out, "[2/5]") {
		t.Errorf("an archive over --max-size: exit %d\n%s%s", r.code, r.out, r.errs)
	}
	for _, bad := range []string{"0", "-1Gi", "lots", "0.5"} {
		if r := cli(t, "import", target, "--max-size", bad); r.code != ExitUsage || !strings.Contains(r.errs, "--max-size") {
			t.Errorf("--max-size %s: exit %d\n%s", bad, r.code, r.errs)
		}
	}
}
