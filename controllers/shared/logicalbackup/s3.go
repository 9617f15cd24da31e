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
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"
)

// The upload speaks the few S3 calls it needs (PutObject, GetObject, and DeleteObject for
// the operator's clean-up of expired exports), signed with AWS Signature
// Version 4, with the standard library only: the binary stays small and needs no SDK. A
// single PUT takes objects up to 5 GiB, far more than a shared-tier database's dump; a co-op
// that outgrows that belongs on the dedicated tier.

// Object is one object of an S3-compatible store.
type Object struct {
	// Endpoint is the store's URL, such as https://s3.eu-west-1.amazonaws.com; objects are
	// addressed path-style (<endpoint>/<bucket>/<key>), which S3-compatible stores serve.
	Endpoint string
	// Region the request is signed for; DefaultRegion suits most S3-compatible stores.
	Region      string
	Bucket, Key string
}

// The store's endpoint when the hub's settings name none, and the region requests are
// signed for.
const (
	DefaultEndpoint = "https://s3.amazonaws.com"
	DefaultRegion   = "us-east-1"
)

// ObjectAt is the object key of bucket in the store at endpoint (DefaultEndpoint when
// empty), signed for DefaultRegion.
func ObjectAt(endpoint, bucket, key string) Object {
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	return Object{Endpoint: endpoint, Region: DefaultRegion, Bucket: bucket, Key: key}
}

// ParseDestination splits s3://bucket/some/prefix/ into its bucket and key prefix.
func ParseDestination(dest string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(dest, "s3://")
	if !ok {
		return "", "", fmt.Errorf("destination %q: must start with s3://", dest)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("destination %q: names no bucket", dest)
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return bucket, prefix, nil
}

// MetaSHA256 is the object's user metadata in which Put records the SHA-256 (hex) of what
// it uploaded. The store takes the body only if it matches the signed payload hash
// (x-amz-content-sha256, the same sum), so the metadata names the bytes the store holds.
const MetaSHA256 = "x-amz-meta-sha256"

// Put uploads body (of size bytes, with the given SHA-256) to o, recording the sum in the
// object's metadata (MetaSHA256).
func Put(ctx context.Context, hc *http.Client, o Object, accessKey, secretKey string, body io.Reader, size int64, sum []byte, now time.Time) error {
	req, err := newRequest(ctx, http.MethodPut, o, body, sum)
	if err != nil {
		return err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(MetaSHA256, hex.EncodeToString(sum))
	resp, err := do(hc, req, o, accessKey, secretKey, now, "uploading")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return failure("uploading", o, resp, nil)
	}
	return nil
}

// newRequest is a request of o with its payload's SHA-256 (that of no payload when sum is
// nil), not signed yet.
func newRequest(ctx context.Context, method string, o Object, body io.Reader, sum []byte) (*http.Request, error) {
	u, err := url.Parse(strings.TrimRight(o.Endpoint, "/") + "/" + o.Bucket + "/" + escapeKey(o.Key))
	if err != nil {
		return nil, fmt.Errorf("object URL: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if sum == nil {
		empty := sha256.Sum256(nil)
		sum = empty[:]
	}
	req.Header.Set("x-amz-content-sha256", hex.EncodeToString(sum))
	return req, nil
}

// do signs req and sends it. Its error names the request's URL: the endpoint and the key,
// no credentials (they are in a header).
func do(hc *http.Client, req *http.Request, o Object, accessKey, secretKey string, now time.Time, what string) (*http.Response, error) {
	Sign(req, o.Region, accessKey, secretKey, now)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s s3://%s/%s: %w", what, o.Bucket, o.Key, err)
	}
	return resp, nil
}

// failure is the error of an answer that is not a success: its status and S3's error code
// only. S3's error documents may echo the access key ID, the string to sign and the
// signature, and these errors go to status and logs. body is the answer's body when the
// caller read it already.
func failure(what string, o Object, resp *http.Response, body []byte) error {
	if body == nil {
		body, _ = io.ReadAll(io.LimitReader(resp.Body, 4096))
	}
	return fmt.Errorf("%s s3://%s/%s: %s%s", what, o.Bucket, o.Key, resp.Status, ErrorCode(body))
}

// escapeKey escapes each segment of an object key as S3 expects it in the canonical URI.
func escapeKey(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = uriEncode(p)
	}
	return strings.Join(parts, "/")
}

// uriEncode is AWS's UriEncode: everything but unreserved characters percent-encoded.
func uriEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// Sign adds AWS Signature Version 4 headers for service s3 to req, which must carry its
// x-amz-content-sha256 header. Every header set on req, and Host, is signed.
func Sign(req *http.Request, region, accessKey, secretKey string, now time.Time) {
	now = now.UTC()
	amzDate := now.Format("20060102T150405Z")
	day := now.Format("20060102")
	req.Header.Set("x-amz-date", amzDate)

	headers := map[string]string{"host": req.URL.Host}
	for k, v := range req.Header {
		headers[strings.ToLower(k)] = strings.TrimSpace(strings.Join(v, ","))
	}
	names := make([]string, 0, len(headers))
	for k := range headers {
		names = append(names, k)
	}
	sort.Strings(names)
	var canonHeaders strings.Builder
	for _, k := range names {
		canonHeaders.WriteString(k + ":" + headers[k] + "\n")
	}
	signed := strings.Join(names, ";")

	path := req.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	canonical := strings.Join([]string{
		req.Method, path, canonicalQuery(req.URL.Query()), canonHeaders.String(), signed, req.Header.Get("x-amz-content-sha256"),
	}, "\n")
	scope := day + "/" + region + "/s3/aws4_request"
	h := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(h[:])
	key := hmacSHA256([]byte("AWS4"+secretKey), day)
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, "s3")
	key = hmacSHA256(key, "aws4_request")
	sig := hex.EncodeToString(hmacSHA256(key, toSign))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+accessKey+"/"+scope+", SignedHeaders="+signed+", Signature="+sig)
}

// Presign returns a link that lets whoever holds it GET o, and nothing else, until
// now+validity (at most 7 days, as S3 allows): AWS Signature Version 4 in the query string,
// with the host as the only signed header and an unsigned payload.
func Presign(o Object, accessKey, secretKey string, now time.Time, validity time.Duration) (string, error) {
	if validity <= 0 || validity > 7*24*time.Hour {
		return "", fmt.Errorf("link validity %s: must be more than 0 and at most 168h", validity)
	}
	// Path-style, as Put; an empty bucket means the endpoint is the bucket's own host.
	path := "/" + escapeKey(o.Key)
	if o.Bucket != "" {
		path = "/" + o.Bucket + path
	}
	u, err := url.Parse(strings.TrimRight(o.Endpoint, "/") + path)
	if err != nil {
		return "", fmt.Errorf("object URL: %w", err)
	}
	now = now.UTC()
	amzDate := now.Format("20060102T150405Z")
	day := now.Format("20060102")
	scope := day + "/" + o.Region + "/s3/aws4_request"
	q := url.Values{}
	q.Set("X-Amz-Algorithm", "AWS4-HMAC-SHA256")
	q.Set("X-Amz-Credential", accessKey+"/"+scope)
	q.Set("X-Amz-Date", amzDate)
	q.Set("X-Amz-Expires", fmt.Sprint(int64(validity/time.Second)))
	q.Set("X-Amz-SignedHeaders", "host")
	canonical := strings.Join([]string{
		http.MethodGet, u.EscapedPath(), canonicalQuery(q), "host:" + u.Host + "\n", "host", "UNSIGNED-PAYLOAD",
	}, "\n")
	h := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(h[:])
	key := hmacSHA256([]byte("AWS4"+secretKey), day)
	key = hmacSHA256(key, o.Region)
	key = hmacSHA256(key, "s3")
	key = hmacSHA256(key, "aws4_request")
	q.Set("X-Amz-Signature", hex.EncodeToString(hmacSHA256(key, toSign)))
	u.RawQuery = canonicalQuery(q)
	return u.String(), nil
}

func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			parts = append(parts, uriEncode(k)+"="+uriEncode(v))
		}
	}
	return strings.Join(parts, "&")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// DumpKey is the object key of a dump taken at t under prefix.
func DumpKey(prefix string, t time.Time) string {
	return prefix + t.UTC().Format("20060102T150405Z") + ".dump"
}

// UploadedSHA256 reads, with a HEAD of o, the SHA-256 Put recorded in its metadata
// (MetaSHA256): "" when the object has none, or none that is a SHA-256 (hex).
func UploadedSHA256(ctx context.Context, hc *http.Client, o Object, accessKey, secretKey string, now time.Time) (string, error) {
	req, err := newRequest(ctx, http.MethodHead, o, nil, nil)
	if err != nil {
		return "", err
	}
	resp, err := do(hc, req, o, accessKey, secretKey, now, "reading")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return "", failure("reading", o, resp, nil)
	}
	sum := strings.ToLower(resp.Header.Get(MetaSHA256))
	if b, err := hex.DecodeString(sum); err != nil || len(b) != sha256.Size {
		return "", nil
	}
	return sum, nil
}

// Get downloads o into w and returns its SHA-256.
func Get(ctx context.Context, hc *http.Client, o Object, accessKey, secretKey string, w io.Writer, now time.Time) ([]byte, error) {
	req, err := newRequest(ctx, http.MethodGet, o, nil, nil)
	if err != nil {
		return nil, err
	}
	resp, err := do(hc, req, o, accessKey, secretKey, now, "downloading")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, failure("downloading", o, resp, nil)
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(w, h), resp.Body); err != nil {
		return nil, fmt.Errorf("downloading s3://%s/%s: %w", o.Bucket, o.Key, err)
	}
	return h.Sum(nil), nil
}

// Delete removes o (S3 DeleteObject, signed as Put and Get are). An object that is not
// there counts as deleted (S3 answers 204 for a missing key; a store that answers 404
// NoSuchKey is taken at its word), but a missing bucket or any other 404 does not.
func Delete(ctx context.Context, hc *http.Client, o Object, accessKey, secretKey string, now time.Time) error {
	req, err := newRequest(ctx, http.MethodDelete, o, nil, nil)
	if err != nil {
		return err
	}
	resp, err := do(hc, req, o, accessKey, secretKey, now, "deleting")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode == http.StatusNotFound && ErrorCode(body) == " (NoSuchKey)" {
		return nil
	}
	return failure("deleting", o, resp, body)
}

// listPage is the part of a ListObjectsV2 answer the listing reads.
type listPage struct {
	Contents []struct {
		Key string `xml:"Key"`
	} `xml:"Contents"`
	IsTruncated           bool   `xml:"IsTruncated"`
	NextContinuationToken string `xml:"NextContinuationToken"`
}

// List returns the keys of the objects under o.Key, a prefix ending in "/", of o's bucket
// (S3 ListObjectsV2, page after page, signed as Put and Get are). Each page is signed with
// the time now tells when it is asked for: a long listing outlives one signature's skew.
func List(ctx context.Context, hc *http.Client, o Object, accessKey, secretKey string, now func() time.Time) ([]string, error) {
	if o.Key == "" || !strings.HasSuffix(o.Key, "/") {
		return nil, fmt.Errorf("listing s3://%s/%s: a prefix must end in /, and never be the whole bucket", o.Bucket, o.Key)
	}
	var keys []string
	token := ""
	for page := 0; ; page++ {
		if page > 100000 {
			return nil, fmt.Errorf("listing s3://%s/%s: the store pages without end", o.Bucket, o.Key)
		}
		q := url.Values{"list-type": {"2"}, "prefix": {o.Key}}
		if token != "" {
			q.Set("continuation-token", token)
		}
		u, err := url.Parse(strings.TrimRight(o.Endpoint, "/") + "/" + o.Bucket + "?" + strings.ReplaceAll(q.Encode(), "+", "%20"))
		if err != nil {
			return nil, fmt.Errorf("listing URL: %w", err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, err
		}
		empty := sha256.Sum256(nil)
		req.Header.Set("x-amz-content-sha256", hex.EncodeToString(empty[:]))
		resp, err := do(hc, req, o, accessKey, secretKey, now(), "listing")
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("listing s3://%s/%s: %w", o.Bucket, o.Key, err)
		}
		if resp.StatusCode/100 != 2 {
			return nil, failure("listing", o, resp, body)
		}
		var p listPage
		if err := xml.Unmarshal(body, &p); err != nil {
			return nil, fmt.Errorf("listing s3://%s/%s: the store's answer does not parse: %w", o.Bucket, o.Key, err)
		}
		for _, c := range p.Contents {
			// Only what lies under the prefix, whatever the store answers.
			if strings.HasPrefix(c.Key, o.Key) {
				keys = append(keys, c.Key)
			}
		}
		if !p.IsTruncated || p.NextContinuationToken == "" {
			return keys, nil
		}
		token = p.NextContinuationToken
	}
}

// DeletePrefix deletes every object under o.Key, a prefix ending in "/", of o's bucket
// (List, then Delete of each), and says how many it deleted. It stops at the first error.
// Each request is signed with the time now tells when it is sent: deleting a large prefix
// object by object outlives the store's 15 minutes of signature skew.
func DeletePrefix(ctx context.Context, hc *http.Client, o Object, accessKey, secretKey string, now func() time.Time) (int, error) {
	keys, err := List(ctx, hc, o, accessKey, secretKey, now)
	if err != nil {
		return 0, err
	}
	for i, k := range keys {
		obj := o
		obj.Key = k
		if err := Delete(ctx, hc, obj, accessKey, secretKey, now()); err != nil {
			return i, err
		}
	}
	return len(keys), nil
}

// ErrorCode is " (<Code>)" of an S3 error document, or nothing: the one part of it that
// echoes no credential.
func ErrorCode(body []byte) string {
	_, rest, ok := strings.Cut(string(body), "<Code>")
	code, _, ok2 := strings.Cut(rest, "</Code>")
	if !ok || !ok2 || len(code) > 64 || strings.ContainsAny(code, "<> \n") {
		return ""
	}
	return " (" + code + ")"
}

// usageError is the usage of the subcommand, given when its action is missing or unknown:
// the command line prints it as the help asked for when the only argument was -h.
type usageError string

func (u usageError) Error() string { return string(u) }

// Usage marks the error as the subcommand's usage (cli.RunCommand).
func (u usageError) Usage() string { return string(u) }

// Main is the backup-logical subcommand: "upload" sends a dump file to the co-op's prefix
// with the credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; "download" fetches
// one (an imported co-op's dump) and checks its SHA-256.
func Main(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "download" {
		return download(ctx, args[1:])
	}
	if len(args) == 0 || args[0] != "upload" {
		return usageError("usage: backup-logical upload|download --file FILE --destination s3://bucket/prefix/ [--name NAME] [--endpoint URL] [--region REGION]")
	}
	fs := flag.NewFlagSet("backup-logical upload", flag.ContinueOnError)
	file := fs.String("file", "", "the dump to upload")
	dest := fs.String("destination", "", "the co-op's prefix, s3://bucket/<region>/<co-op>/logical/")
	endpoint, region := objectStoreFlags(fs)
	name := fs.String("name", "", "the object's name under the prefix; the dump's UTC time when empty")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	bucket, prefix, err := ParseDestination(*dest)
	if err != nil {
		return fmt.Errorf("--destination: %w", err)
	}
	access, secret, err := envCredentials()
	if err != nil {
		return err
	}
	f, err := os.Open(*file)
	if err != nil {
		return fmt.Errorf("--file: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("reading %s: %w", *file, err)
	}
	if size == 0 {
		return fmt.Errorf("%s is empty: refusing to upload an empty dump", *file)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	now := time.Now()
	key := DumpKey(prefix, now)
	if *name != "" {
		if strings.Contains(*name, "/") {
			return fmt.Errorf("--name %q: must not contain a slash", *name)
		}
		key = prefix + *name
	}
	o := Object{Endpoint: *endpoint, Region: *region, Bucket: bucket, Key: key}
	if err := Put(ctx, &http.Client{Timeout: time.Hour}, o, access, secret, f, size, h.Sum(nil), now); err != nil {
		return err
	}
	fmt.Printf("Uploaded s3://%s/%s (%d bytes)\n", o.Bucket, o.Key, size)
	return nil
}

// objectStoreFlags adds the object store's --endpoint and --region to fs.
func objectStoreFlags(fs *flag.FlagSet) (endpoint, region *string) {
	endpoint = fs.String("endpoint", DefaultEndpoint, "endpoint URL of the S3-compatible store")
	region = fs.String("region", DefaultRegion, "region the request is signed for")
	return endpoint, region
}

// envCredentials are the object store keys in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
func envCredentials() (access, secret string, err error) {
	access, secret = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if access == "" || secret == "" {
		return "", "", errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set")
	}
	return access, secret, nil
}

// download is backup-logical download: it fetches <destination><name> into --file (under
// another name until its SHA-256 matched --sha256).
func download(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("backup-logical download", flag.ContinueOnError)
	file := fs.String("file", "", "where to write the object")
	dest := fs.String("destination", "", "the prefix, s3://bucket/<region>/<co-op>/imports/")
	name := fs.String("name", "", "the object's name under the prefix")
	want := fs.String("sha256", "", "the object's SHA-256, hex")
	endpoint, region := objectStoreFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	bucket, prefix, err := ParseDestination(*dest)
	if err != nil {
		return fmt.Errorf("--destination: %w", err)
	}
	if *name == "" || strings.Contains(*name, "/") || *want == "" || *file == "" {
		return errors.New("--file, --name (no slash) and --sha256 are required")
	}
	access, secret, err := envCredentials()
	if err != nil {
		return err
	}
	f, err := os.Create(*file + ".partial")
	if err != nil {
		return fmt.Errorf("--file: %w", err)
	}
	defer func() { _ = os.Remove(*file + ".partial") }()
	o := Object{Endpoint: *endpoint, Region: *region, Bucket: bucket, Key: prefix + *name}
	sum, err := Get(ctx, &http.Client{Timeout: time.Hour}, o, access, secret, f, time.Now())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if got := hex.EncodeToString(sum); got != strings.ToLower(*want) {
		return fmt.Errorf("s3://%s/%s has SHA-256 %s, not %s: refusing it", o.Bucket, o.Key, got, *want)
	}
	if err := os.Rename(*file+".partial", *file); err != nil {
		return err
	}
	fmt.Printf("Downloaded s3://%s/%s\n", o.Bucket, o.Key)
	return nil
}
