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

// Package logicalbackup backs up one shared-tier co-op's database on its own. The hub's
// shared Cluster is backed up as a whole by CloudNativePG, which restores a whole Cluster
// and never one database of it; a co-op that needs its data back must not take the other
// co-ops back in time with it. So each shared-tier co-op also gets a logical backup: a
// CronJob in the operator namespace whose pod dumps the co-op's database with pg_dump (in
// the PostgreSQL image) and uploads the dump with the cooperator binary's backup-logical
// subcommand to <bucket>/<region>/<co-op>/logical/, with the co-op's own object store
// credentials. A Retain deletion runs the same pod once as a Job and waits for it.
package logicalbackup

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
)

// Keys of a basic-auth Secret.
const (
	usernameKey = corev1.BasicAuthUsernameKey
	passwordKey = corev1.BasicAuthPasswordKey
)

// PodLabels are on the pods of every co-op's logical backups (of the CronJob and of the
// final Job), on top of the co-op's labels: the operator namespace's NetworkPolicies select
// them to let them reach the shared Cluster, DNS and the object store, and nothing else.
var PodLabels = map[string]string{
	"app.kubernetes.io/component":  "logical-backup",
	"app.kubernetes.io/managed-by": "cooperator",
}

// podLabels are the labels of a logical backup pod of p.
func podLabels(p Params) map[string]string {
	l := make(map[string]string, len(p.Labels)+len(PodLabels))
	for k, v := range p.Labels {
		l[k] = v
	}
	for k, v := range PodLabels {
		l[k] = v
	}
	return l
}

// SSLMode is the sslmode of the dump's connection, and of every connection URI the
// operator writes (cooperative.SharedSSLMode is this one): encrypted or refused.
const SSLMode = "require"

// DumpScript runs in the PostgreSQL image with the libpq environment (PGHOST, PGPORT,
// PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE) of the co-op's own role, which owns its
// database. It first revokes CONNECT on the database from PUBLIC (the owner may, and on
// every run again, so no other role of the shared Cluster can connect to it by default).
// That revoke is a second line of defence, kept on purpose: the platform's migration
// (store.GrantServing, as the owner, at every start) is what closes the database when it is
// set up; the dump closes it again for a database whose platform has not started, or was
// started without a serving role. It then dumps the database in pg_dump's custom format to $DUMP_FILE, written under another
// name first so that a failed dump is never uploaded.
const DumpScript = `set -eu
psql -X -q -v ON_ERROR_STOP=1 -c "REVOKE CONNECT ON DATABASE \"$PGDATABASE\" FROM PUBLIC"
pg_dump --format=custom --file="$DUMP_FILE.partial"
mv "$DUMP_FILE.partial" "$DUMP_FILE"
`

// The restore of a dump made by DumpScript is hack/restore-shared-coop.sh, which the
// README's procedure runs and the tests run against a real PostgreSQL server.

// Prefix is where a co-op's logical backups go: <bucket>/<region>/<co-op>/logical/.
func Prefix(cfg *hubconfig.Config, coop string) string {
	return cfg.BackupDestination(coop) + "logical/"
}

// Params is what the CronJob and the final Job of one co-op are made of.
type Params struct {
	// Cooperative is the co-op's name.
	Cooperative string
	// Namespace is the operator namespace.
	Namespace string
	// Name of the CronJob.
	Name string
	// Schedule is a five-field cron, as CronJobs read it.
	Schedule string
	// PostgresImage runs pg_dump; ToolImage runs the upload (the cooperator image).
	PostgresImage, ToolImage string
	// Host of the shared Cluster's read-write service.
	Host string
	// Database is the co-op's database, owned by its role.
	Database string
	// PasswordSecret is the role's basic-auth Secret in the operator namespace.
	PasswordSecret string
	// CredentialsSecret holds the co-op's own object store credentials.
	CredentialsSecret string
	// Destination is the co-op's logical backup prefix; EndpointURL the S3 endpoint.
	Destination, EndpointURL string
	// Labels and OwnerReferences of the CronJob.
	Labels          map[string]string
	OwnerReferences []metav1.OwnerReference
}

// ParamsFor are a shared-tier co-op's parameters under the hub's settings. secret is the
// role's basic-auth Secret, database the database and role name, creds the co-op's object
// store Secret.
func ParamsFor(coop, secret, database, creds string, cfg *hubconfig.Config) Params {
	return Params{
		Cooperative:       coop,
		Namespace:         cfg.OperatorNamespace,
		Name:              Name(coop),
		Schedule:          cfg.SharedCluster.LogicalBackupSchedule,
		PostgresImage:     fmt.Sprintf("%s:%d", cfg.PostgresImageRepository, 17),
		ToolImage:         cfg.PlatformImage,
		Host:              fmt.Sprintf("%s-rw.%s.svc", cfg.SharedCluster.Name, cfg.OperatorNamespace),
		Database:          database,
		PasswordSecret:    secret,
		CredentialsSecret: creds,
		Destination:       Prefix(cfg, coop),
		EndpointURL:       cfg.ObjectStore.EndpointURL,
	}
}

// Name is the CronJob of a co-op's logical backups: coop-<co-op>-dump, shortened with a
// hash of the name when longer than the 52 characters a CronJob may have.
func Name(coop string) string {
	name := "coop-" + coop + "-dump"
	if len(name) <= 52 {
		return name
	}
	sum := sha256.Sum256([]byte(coop))
	return "coop-" + coop[:52-len("coop--")-8-len("-dump")] + "-" + hex.EncodeToString(sum[:])[:8] + "-dump"
}

// FinalJobName is the Job of the final logical backup before a Retain deletion; stamp
// tells deletions apart (the deletion time).
func FinalJobName(coop, stamp string) string {
	return strings.TrimSuffix(Name(coop), "-dump") + "-final-" + stamp
}

// BuildCronJob returns the CronJob of the co-op's scheduled logical backups.
func BuildCronJob(p Params) *batchv1.CronJob {
	return &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, Labels: p.Labels, OwnerReferences: p.OwnerReferences},
		Spec: batchv1.CronJobSpec{
			Schedule:                   p.Schedule,
			ConcurrencyPolicy:          batchv1.ForbidConcurrent,
			SuccessfulJobsHistoryLimit: ptr.To[int32](3),
			FailedJobsHistoryLimit:     ptr.To[int32](3),
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: p.Labels},
				Spec:       jobSpec(p),
			},
		},
	}
}

// BuildFinalJob returns the Job of the final logical backup. It has no owner: it outlives
// the co-op, and goes a week after it finished.
func BuildFinalJob(p Params, name string) *batchv1.Job {
	spec := jobSpec(p)
	spec.TTLSecondsAfterFinished = ptr.To[int32](7 * 24 * 3600)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: p.Namespace, Labels: p.Labels},
		Spec:       spec,
	}
}

func jobSpec(p Params) batchv1.JobSpec {
	file := DumpDir + "/" + p.Database + ".dump"
	upload := []string{"backup-logical", "upload", "--file=" + file, "--destination=" + p.Destination}
	if p.EndpointURL != "" {
		upload = append(upload, "--endpoint="+p.EndpointURL)
	}
	dump := corev1.Container{
		Name:    "dump",
		Image:   p.PostgresImage,
		Command: []string{"sh", "-c", DumpScript},
		Env: []corev1.EnvVar{
			{Name: "PGHOST", Value: p.Host},
			{Name: "PGPORT", Value: "5432"},
			{Name: "PGDATABASE", Value: p.Database},
			SecretEnv("PGUSER", p.PasswordSecret, usernameKey),
			SecretEnv("PGPASSWORD", p.PasswordSecret, passwordKey),
			{Name: "PGSSLMODE", Value: SSLMode},
			{Name: "DUMP_FILE", Value: file},
		},
		SecurityContext: AsPostgres(),
	}
	uploader := corev1.Container{
		Name:  "upload",
		Image: p.ToolImage,
		Args:  upload,
		Env: []corev1.EnvVar{
			SecretEnv("AWS_ACCESS_KEY_ID", p.CredentialsSecret, coopv1.AccessKeyIDKey),
			SecretEnv("AWS_SECRET_ACCESS_KEY", p.CredentialsSecret, coopv1.AccessSecretKeyKey),
		},
		SecurityContext: Restricted(),
	}
	return batchv1.JobSpec{
		BackoffLimit: ptr.To[int32](2),
		Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: podLabels(p)},
			Spec:       PodSpec(dump, uploader),
		},
	}
}
