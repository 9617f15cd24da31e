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

// Package export fulfils CooperativeExports: a co-op admin asks, in the co-op's namespace,
// for a logical dump of the co-op's database; the operator runs a Job there that dumps it
// with the co-op's own database credentials (pg_dump, in the PostgreSQL image) and uploads
// it with the co-op's own object store credentials to <bucket>/<region>/<co-op>/exports/
// (the cooperator binary's backup-logical upload). Once the Job succeeded, the operator
// writes a presigned link to that one object, signed with the co-op's read-only keys, into
// the Secret <co-op>-export, which the co-op's admins may read: they get their data without
// ever holding object store keys. `cooperator export COOP` drives it and writes the archive.
package export

import (
	"fmt"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/controllers/shared/logicalbackup"
)

// Component is the value of app.kubernetes.io/component on the export and restore pods;
// the NetworkPolicy EgressPolicyName selects them.
const Component = "export"

// EgressPolicyName lets the export and restore pods of a co-op namespace reach the object
// store, which the namespace's own policies allow to the database pods only.
const EgressPolicyName = "allow-export-egress"

// DumpDir is the emptyDir the dump is written to and uploaded from (or downloaded to and
// restored from).
const DumpDir = logicalbackup.DumpDir

// CredentialTables are the platform's tables whose rows are live credentials that a
// holder of the archive could use on the hub it is imported to: the members' app's
// browser sessions (each with its CSRF token in plain text) and its one-time sign-in
// codes (valid for minutes). The export dumps their structure without their rows: members
// sign in to the members' app again after a move. member_tokens stays: it holds SHA-256
// hashes of 256-bit random tokens, which no one can sign in with, and keeps every
// member's token working on the new hub.
var CredentialTables = []string{"web_sessions", "sign_in_codes"}

// DumpScript runs in the PostgreSQL image with DATABASE_URL, the co-op owner's connection
// URI (the key uri of <co-op>-app). It dumps every table of the platform in pg_dump's
// custom format, the rows of CredentialTables left out (in whichever schema), without
// owners and grants so that it restores under another hub's roles, to $DUMP_FILE, written
// under another name first so that a failed dump is never uploaded.
var DumpScript = `set -eu
pg_dump --format=custom --no-owner --no-privileges` + excludeTableData(CredentialTables) + ` --dbname="$DATABASE_URL" --file="$DUMP_FILE.partial"
mv "$DUMP_FILE.partial" "$DUMP_FILE"
`

// excludeTableData is pg_dump's options that leave out the rows of tables, in any schema.
func excludeTableData(tables []string) string {
	var b strings.Builder
	for _, t := range tables {
		b.WriteString(" --exclude-table-data='*." + t + "'")
	}
	return b.String()
}

// RestoreScript runs in the PostgreSQL image with DATABASE_URL, the owner's URI of the
// co-op's new database: it restores the dump at $DUMP_FILE into it, as the owner (no
// superuser: CloudNativePG's application owner), in one transaction, and stops at the
// first error. First it refuses, changing nothing, a database that already holds a table,
// view or sequence outside PostgreSQL's own schemas (heldRelations names at most five):
// the restore would merge the co-op's data with what is there, or fail halfway through
// on a name the dump also holds, and say so less plainly. The check and the restore are
// two transactions: while the co-op awaits its restore, its platform is held at zero
// replicas and nothing else creates tables in its database; one created in between would
// still refuse the restore where its name is the dump's. The refusal is also the
// container's termination message, which the operator says in status.origin.message
// (RefusalOf).
const RestoreScript = `set -eu
held=$(psql -X -q -t -A -v ON_ERROR_STOP=1 --dbname="$DATABASE_URL" -c "` + heldRelations + `")
if [ -n "$held" ]; then
	refusal="` + RestoreRefusal + `the database already holds $held; an import restores into an empty database only, and nothing was changed"
	echo "$refusal" >&2
	printf '%s' "$refusal" > "${TERMINATION_LOG:-/dev/termination-log}" || true
	exit 1
fi
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$DATABASE_URL" "$DUMP_FILE"
`

// RestoreRefusal begins the restore's refusal of a database that is not empty: its
// termination message, which the operator reads (only one so begun: it names relations,
// never data).
const RestoreRefusal = "refusing to restore the dump: "

// heldRelations is the query that names the tables, views and sequences of the database
// outside PostgreSQL's own schemas (information_schema, pg_catalog, pg_toast, and the
// sessions' temporary ones): their count and the first five names, or no row when there
// are none. It holds no double quote, backquote or dollar sign: RestoreScript quotes it
// for sh.
const heldRelations = `SELECT count(*) || CASE count(*) WHEN 1 THEN ' table, view or sequence (' ELSE ' tables, views or sequences (' END ||
 array_to_string((array_agg(format('%I.%I', n.nspname, c.relname) ORDER BY n.nspname, c.relname))[1:5], ', ') ||
 CASE WHEN count(*) > 5 THEN ', ...)' ELSE ')' END
 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S') AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
 HAVING count(*) > 0`

// Prefix is where a co-op's exports go: <bucket>/<region>/<co-op>/exports/.
func Prefix(cfg *hubconfig.Config, coop string) string {
	return cfg.BackupDestination(coop) + "exports/"
}

// ImportPrefix is where `cooperator import` puts the dump a new co-op restores:
// <bucket>/<region>/<co-op>/imports/.
func ImportPrefix(cfg *hubconfig.Config, coop string) string {
	return cfg.BackupDestination(coop) + "imports/"
}

// DumpObjectName is the object name, under Prefix, of an export's dump.
func DumpObjectName(export string) string { return export + ".dump" }

// Labels are on the export and restore Jobs and their pods.
func Labels(coop string) map[string]string {
	return map[string]string{
		coopv1.LabelManagedBy:         coopv1.ManagedByValue,
		coopv1.LabelCooperative:       coop,
		"app.kubernetes.io/component": Component,
	}
}

func postgresImage(coop *coopv1.Cooperative, cfg *hubconfig.Config) string {
	v := coop.Spec.Database.PostgresVersion
	if v == 0 {
		v = 17
	}
	return cfg.PostgresImageRepository + ":" + strconv.Itoa(int(v))
}

// objectStoreArgs are the flags of backup-logical that name the object.
func objectStoreArgs(verb, file, prefix, name string, cfg *hubconfig.Config) []string {
	args := []string{"backup-logical", verb, "--file=" + file, "--destination=" + prefix, "--name=" + name}
	if cfg.ObjectStore.EndpointURL != "" {
		args = append(args, "--endpoint="+cfg.ObjectStore.EndpointURL)
	}
	return args
}

// objectStoreEnv are the co-op's own object store keys, from the copy in its namespace.
func objectStoreEnv() []corev1.EnvVar {
	return []corev1.EnvVar{
		logicalbackup.SecretEnv("AWS_ACCESS_KEY_ID", coopv1.ObjectStoreSecretName, coopv1.AccessKeyIDKey),
		logicalbackup.SecretEnv("AWS_SECRET_ACCESS_KEY", coopv1.ObjectStoreSecretName, coopv1.AccessSecretKeyKey),
	}
}

// BuildJob returns the Job that fulfils ex for coop: the init container dumps the database
// with the owner's credentials, the main one uploads the dump to Prefix with the co-op's own
// object store keys. The Job belongs to ex.
func BuildJob(coop *coopv1.Cooperative, ex *coopv1.CooperativeExport, cfg *hubconfig.Config) *batchv1.Job {
	file := DumpDir + "/" + DumpObjectName(ex.Name)
	dump := postgresContainer("dump", DumpScript, file, coop, cfg)
	upload := objectStoreContainer("upload", objectStoreArgs("upload", file, Prefix(cfg, coop.Name), DumpObjectName(ex.Name), cfg), cfg)
	owner := metav1.NewControllerRef(ex, coopv1.GroupVersion.WithKind("CooperativeExport"))
	return dumpJob(coop, ex.Name, ex.Namespace, owner, 1, dump, upload)
}

// RestoreJobName is the Job that restores an imported co-op's dump.
func RestoreJobName(coop *coopv1.Cooperative) string { return coop.Name + "-import" }

// BuildRestoreJob returns the Job that restores the dump object name (under ImportPrefix,
// with the given SHA-256) into coop's new database: the init container downloads it with
// the co-op's own object store keys and checks its checksum, the main one restores it with
// the owner's credentials. The Job belongs to the Cooperative.
func BuildRestoreJob(coop *coopv1.Cooperative, name, sum string, cfg *hubconfig.Config) *batchv1.Job {
	file := DumpDir + "/" + name
	download := objectStoreContainer("download", append(objectStoreArgs("download", file, ImportPrefix(cfg, coop.Name), name, cfg), "--sha256="+sum), cfg)
	restore := postgresContainer("restore", RestoreScript, file, coop, cfg)
	owner := metav1.NewControllerRef(coop, coopv1.GroupVersion.WithKind("Cooperative"))
	return dumpJob(coop, RestoreJobName(coop), coop.NamespaceName(), owner, 0, download, restore)
}

// postgresContainer runs script in the co-op's PostgreSQL image with the owner's
// credentials (DATABASE_URL) on the dump file (DUMP_FILE).
func postgresContainer(name, script, file string, coop *coopv1.Cooperative, cfg *hubconfig.Config) corev1.Container {
	return corev1.Container{
		Name:    name,
		Image:   postgresImage(coop, cfg),
		Command: []string{"sh", "-c", script},
		Env: []corev1.EnvVar{
			logicalbackup.SecretEnv("DATABASE_URL", coopv1.AppSecretName(coop), "uri"),
			{Name: "DUMP_FILE", Value: file},
		},
		SecurityContext: logicalbackup.AsPostgres(),
	}
}

// objectStoreContainer runs the platform image's object store command args with the
// co-op's own object store keys.
func objectStoreContainer(name string, args []string, cfg *hubconfig.Config) corev1.Container {
	return corev1.Container{
		Name:            name,
		Image:           cfg.PlatformImage,
		Args:            args,
		Env:             objectStoreEnv(),
		SecurityContext: logicalbackup.Restricted(),
	}
}

// dumpJob is a Job of coop's, owned by owner and retried backoff times, whose pod runs init
// then main on a shared dump volume.
func dumpJob(coop *coopv1.Cooperative, name, namespace string, owner *metav1.OwnerReference, backoff int32, init, main corev1.Container) *batchv1.Job {
	labels := Labels(coop.Name)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: namespace, Labels: labels,
			OwnerReferences: []metav1.OwnerReference{*owner},
		},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr.To(backoff),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       logicalbackup.PodSpec(init, main),
			},
		},
	}
}

// BuildEgressPolicy lets the export and restore pods of coop's namespace reach the object
// store (network.objectStore), on top of the namespace's own policies (which already let
// them reach DNS and the co-op's database).
func BuildEgressPolicy(coop *coopv1.Cooperative, cfg *hubconfig.Config) *networkingv1.NetworkPolicy {
	p := cfg.Network.ObjectStore
	var peers []networkingv1.NetworkPolicyPeer
	for _, cidr := range p.CIDRs {
		peers = append(peers, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr}})
	}
	if p.Namespace != "" {
		peers = append(peers, networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: p.Namespace}}})
	}
	var ports []networkingv1.NetworkPolicyPort
	for _, port := range p.Ports {
		ports = append(ports, networkingv1.NetworkPolicyPort{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(port))})
	}
	np := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: EgressPolicyName, Namespace: coop.NamespaceName(), Labels: map[string]string{
			coopv1.LabelManagedBy: coopv1.ManagedByValue, coopv1.LabelCooperative: coop.Name,
		}},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/component": Component}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
		},
	}
	if len(peers) > 0 {
		np.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{To: peers, Ports: ports}}
	}
	return np
}

// jobState says whether a Job completed (true), failed (false, with its message) or runs.
func jobState(job *batchv1.Job) (done, ok bool, msg string) {
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return true, true, ""
		case batchv1.JobFailed:
			return true, false, fmt.Sprintf("Job %s failed: %s", job.Name, c.Message)
		}
	}
	return false, false, ""
}
