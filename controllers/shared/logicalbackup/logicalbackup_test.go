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
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
)

func params() Params {
	cfg := hubconfig.Default()
	return ParamsFor("care-collective", "coop-care-collective", "coop_care_collective", "cooperator-objectstore-care-collective", &cfg)
}

// Issue 10, point 4: the scheduled logical backup of a shared-tier co-op.
func TestBuildCronJob(t *testing.T) {
	for _, tc := range []struct {
		name  string
		check func(*batchv1.CronJob) string
	}{
		{"in the operator namespace, on the hub's schedule, never two at once", func(c *batchv1.CronJob) string {
			if c.Namespace != "cooperator-system" || c.Spec.Schedule != "30 2 * * *" || c.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
				return c.Namespace + " " + c.Spec.Schedule + " " + string(c.Spec.ConcurrencyPolicy)
			}
			return ""
		}},
		{"dumps as the co-op's own role over TLS", func(c *batchv1.CronJob) string {
			d := c.Spec.JobTemplate.Spec.Template.Spec.InitContainers[0]
			env := envMap(d.Env)
			if env["PGSSLMODE"] != "require" || env["PGDATABASE"] != "coop_care_collective" || env["PGHOST"] != "cooperator-shared-rw.cooperator-system.svc" ||
				env["PGPASSWORD"] != "secret:coop-care-collective/password" || env["PGUSER"] != "secret:coop-care-collective/username" {
				return strings.Join(keys(env), " ")
			}
			if d.Image != "ghcr.io/cloudnative-pg/postgresql:17" || d.Command[2] != DumpScript {
				return d.Image
			}
			return ""
		}},
		{"uploads to the co-op's own prefix with its own credentials", func(c *batchv1.CronJob) string {
			u := c.Spec.JobTemplate.Spec.Template.Spec.Containers[0]
			env := envMap(u.Env)
			if env["AWS_ACCESS_KEY_ID"] != "secret:cooperator-objectstore-care-collective/ACCESS_KEY_ID" ||
				env["AWS_SECRET_ACCESS_KEY"] != "secret:cooperator-objectstore-care-collective/ACCESS_SECRET_KEY" {
				return strings.Join(u.Args, " ")
			}
			if strings.Join(u.Args, " ") != "backup-logical upload --file=/dump/coop_care_collective.dump --destination=s3://cooperator-backups/local/care-collective/logical/" {
				return strings.Join(u.Args, " ")
			}
			return ""
		}},
		// Issue 10, point 3: the operator namespace's NetworkPolicy selects these pods.
		{"its pods carry the co-op's labels and the logical backup pod labels", func(c *batchv1.CronJob) string {
			l := c.Spec.JobTemplate.Spec.Template.Labels
			for k, v := range PodLabels {
				if l[k] != v {
					return k
				}
			}
			for k, v := range params().Labels {
				if l[k] != v {
					return k
				}
			}
			if len(PodLabels) == 0 {
				return "no pod labels"
			}
			return ""
		}},
		{"runs restricted", func(c *batchv1.CronJob) string {
			pod := c.Spec.JobTemplate.Spec.Template.Spec
			if !*pod.SecurityContext.RunAsNonRoot || *pod.AutomountServiceAccountToken || pod.RestartPolicy != corev1.RestartPolicyNever {
				return "pod"
			}
			for _, ctr := range append(pod.InitContainers, pod.Containers...) {
				if *ctr.SecurityContext.AllowPrivilegeEscalation || ctr.SecurityContext.Capabilities.Drop[0] != "ALL" {
					return ctr.Name
				}
			}
			return ""
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if msg := tc.check(BuildCronJob(params())); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func TestBuildFinalJobOutlivesTheCoop(t *testing.T) {
	p := params()
	j := BuildFinalJob(p, FinalJobName(p.Cooperative, "20261205t120000"))
	if j.Name != "coop-care-collective-final-20261205t120000" || len(j.OwnerReferences) != 0 || j.Spec.TTLSecondsAfterFinished == nil {
		t.Errorf("final job %s owners %v ttl %v", j.Name, j.OwnerReferences, j.Spec.TTLSecondsAfterFinished)
	}
	if j.Spec.Template.Spec.InitContainers[0].Command[2] != DumpScript {
		t.Error("the final job does not dump like the scheduled one")
	}
	for k, v := range PodLabels {
		if j.Spec.Template.Labels[k] != v {
			t.Errorf("the final job's pod lacks label %s, so no NetworkPolicy lets it reach the shared Cluster", k)
		}
	}
}

func TestName(t *testing.T) {
	if got := Name("care"); got != "coop-care-dump" {
		t.Errorf("Name = %q", got)
	}
	long := strings.Repeat("a", 50)
	if got := Name(long); len(got) > 52 || got == Name(strings.Repeat("a", 49)+"b") {
		t.Errorf("Name of a 50-character co-op = %q (%d characters)", got, len(got))
	}
}

func TestParseDestination(t *testing.T) {
	for _, tc := range []struct{ in, bucket, prefix, err string }{
		{"s3://hub/local/care/logical/", "hub", "local/care/logical/", ""},
		{"s3://hub/local/care/logical", "hub", "local/care/logical/", ""},
		{"gs://hub/x", "", "", "must start with s3://"},
		{"s3:///x", "", "", "names no bucket"},
	} {
		b, p, err := ParseDestination(tc.in)
		if b != tc.bucket || p != tc.prefix || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("ParseDestination(%q) = %q %q %v", tc.in, b, p, err)
		}
	}
}

// ObjectAt fills in the default endpoint only when the hub names none, and always signs
// for the default region.
func TestObjectAt(t *testing.T) {
	for _, tc := range []struct{ endpoint, want string }{
		{"", "https://s3.amazonaws.com"},
		{"http://minio.storage:9000", "http://minio.storage:9000"},
	} {
		o := ObjectAt(tc.endpoint, "hub", "eu-west/care/exports/e.dump")
		if o != (Object{Endpoint: tc.want, Region: "us-east-1", Bucket: "hub", Key: "eu-west/care/exports/e.dump"}) {
			t.Errorf("ObjectAt(%q) = %+v", tc.endpoint, o)
		}
	}
}

// The signature of AWS's documented example request ("GET Object" in the Signature
// Version 4 documentation of Amazon S3), signed with its example credentials.
func TestSignMatchesAWSExample(t *testing.T) {
	req, _ := http.NewRequest(http.MethodGet, "https://examplebucket.s3.amazonaws.com/test.txt", nil)
	req.Header.Set("Range", "bytes=0-9")
	req.Header.Set("x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
	Sign(req, "us-east-1", "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC))
	want := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
	if got := req.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization =\n %s\nwant\n %s", got, want)
	}
}

// The upload PUTs the dump under the co-op's prefix, with its checksum, and reports a
// refusal of the store with its status.
func TestPut(t *testing.T) {
	var gotPath, gotSum string
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotSum = r.URL.EscapedPath(), r.Header.Get("x-amz-content-sha256")
		gotBody, _ = io.ReadAll(r.Body)
		if strings.Contains(r.URL.Path, "denied") {
			http.Error(w, "<Error><Code>AccessDenied</Code></Error>", http.StatusForbidden)
		}
	}))
	defer srv.Close()
	body := "PGDMP dump"
	sum := sha256.Sum256([]byte(body))
	at := time.Date(2026, 12, 5, 2, 30, 0, 0, time.UTC)
	o := Object{Endpoint: srv.URL, Region: "us-east-1", Bucket: "hub", Key: DumpKey("local/care/logical/", at)}
	if err := Put(context.Background(), srv.Client(), o, "AK", "SK", strings.NewReader(body), int64(len(body)), sum[:], at); err != nil {
		t.Fatal(err)
	}
	if gotPath != "/hub/local/care/logical/20261205T023000Z.dump" || string(gotBody) != body || gotSum != hex.EncodeToString(sum[:]) {
		t.Errorf("PUT %s sum %s body %q", gotPath, gotSum, gotBody)
	}
	o.Key = "denied/x.dump"
	err := Put(context.Background(), srv.Client(), o, "AK", "SK", strings.NewReader(body), int64(len(body)), sum[:], at)
	if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("a refused upload: %v", err)
	}
}

func envMap(env []corev1.EnvVar) map[string]string {
	m := map[string]string{}
	for _, e := range env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			m[e.Name] = "secret:" + e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
			continue
		}
		m[e.Name] = e.Value
	}
	return m
}

func keys(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

// TestDelete: the DELETE is signed for its own method, path and empty payload with the
// keys given (the store recomputes the signature, as S3 does); a missing object counts as
// deleted, and any other refusal is an error that names the object and the status, never
// the credentials.
func TestDelete(t *testing.T) {
	at := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	var gotPath, gotMethod string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotMethod = r.URL.EscapedPath(), r.Method
		again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
		again.Header.Set("x-amz-content-sha256", r.Header.Get("x-amz-content-sha256"))
		Sign(again, "us-east-1", "AK", "SK", at)
		asGet, _ := http.NewRequest(http.MethodGet, "http://"+r.Host+r.URL.RequestURI(), nil)
		asGet.Header.Set("x-amz-content-sha256", r.Header.Get("x-amz-content-sha256"))
		Sign(asGet, "us-east-1", "AK", "SK", at)
		empty := sha256.Sum256(nil)
		switch {
		case r.Header.Get("x-amz-content-sha256") != hex.EncodeToString(empty[:]) ||
			r.Header.Get("Authorization") != again.Header.Get("Authorization") ||
			asGet.Header.Get("Authorization") == r.Header.Get("Authorization"):
			http.Error(w, "<Error><Code>SignatureDoesNotMatch</Code><AWSAccessKeyId>AK</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256...</StringToSign></Error>", http.StatusForbidden)
		case strings.Contains(r.URL.Path, "missing"):
			http.Error(w, "<Error><Code>NoSuchKey</Code></Error>", http.StatusNotFound)
		case strings.HasPrefix(r.URL.Path, "/nobucket/"):
			http.Error(w, "<Error><Code>NoSuchBucket</Code></Error>", http.StatusNotFound)
		case strings.Contains(r.URL.Path, "broken"):
			http.Error(w, "<Error><Code>InternalError</Code></Error>", http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	o := Object{Endpoint: srv.URL, Region: "us-east-1", Bucket: "hub", Key: "local/care/exports/care 1.dump"}
	if err := Delete(context.Background(), srv.Client(), o, "AK", "SK", at); err != nil {
		t.Fatal(err)
	}
	if gotMethod != http.MethodDelete || gotPath != "/hub/local/care/exports/care%201.dump" {
		t.Errorf("%s %s", gotMethod, gotPath)
	}
	if err := Delete(context.Background(), srv.Client(), o, "AK", "wrong-secret", at); err == nil || !strings.Contains(err.Error(), "403 Forbidden (SignatureDoesNotMatch)") ||
		strings.Contains(err.Error(), "wrong-secret") || strings.Contains(err.Error(), "AWSAccessKeyId") || strings.Contains(err.Error(), "StringToSign") {
		t.Errorf("a DELETE signed with another secret: %v", err)
	}
	o.Key = "local/care/exports/missing.dump"
	if err := Delete(context.Background(), srv.Client(), o, "AK", "SK", at); err != nil {
		t.Errorf("a missing object: %v, want deleted", err)
	}
	// A missing bucket is no deleted object: the key was built wrong, or the store moved.
	if err := Delete(context.Background(), srv.Client(), Object{Endpoint: srv.URL, Region: "us-east-1", Bucket: "nobucket", Key: "k.dump"}, "AK", "SK", at); err == nil ||
		!strings.Contains(err.Error(), "404 Not Found (NoSuchBucket)") {
		t.Errorf("a missing bucket: %v, want an error", err)
	}
	o.Key = "local/care/exports/broken.dump"
	if err := Delete(context.Background(), srv.Client(), o, "AK", "SK", at); err == nil || !strings.Contains(err.Error(), "500 Internal Server Error (InternalError)") ||
		!strings.Contains(err.Error(), "s3://hub/local/care/exports/broken.dump") || strings.Contains(err.Error(), "SK") {
		t.Errorf("a failing store: %v", err)
	}
}

// An S3 error document may echo the access key ID and the string to sign; what Put, Get and
// Delete return (it reaches status and logs) holds the status and S3's code only.
func TestErrorsHoldOnlyS3sCode(t *testing.T) {
	const echoed = "AKIDEXAMPLE-ECHOED"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<Error><Code>SignatureDoesNotMatch</Code><AWSAccessKeyId>"+echoed+"</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256 "+echoed+"</StringToSign></Error>", http.StatusForbidden)
	}))
	defer srv.Close()
	o := Object{Endpoint: srv.URL, Region: "us-east-1", Bucket: "hub", Key: "local/care/logical/x.dump"}
	ctx, at := context.Background(), time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	body := []byte("dump")
	sum := sha256.Sum256(body)
	_, getErr := Get(ctx, srv.Client(), o, echoed, "SK", io.Discard, at)
	for op, err := range map[string]error{
		"Put":    Put(ctx, srv.Client(), o, echoed, "SK", bytes.NewReader(body), int64(len(body)), sum[:], at),
		"Get":    getErr,
		"Delete": Delete(ctx, srv.Client(), o, echoed, "SK", at),
	} {
		if err == nil || !strings.Contains(err.Error(), "403 Forbidden (SignatureDoesNotMatch)") || strings.Contains(err.Error(), echoed) {
			t.Errorf("%s: %v, want the status and S3's code, and nothing echoed", op, err)
		}
	}
}
