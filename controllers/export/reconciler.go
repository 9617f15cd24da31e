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

package export

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/finalizer"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/controllers/shared/logicalbackup"
	"github.com/cooperator-dev/cooperator/controllers/shared/ssa"
)

// FieldOwner is the field owner of what this controller applies.
const FieldOwner = "cooperator-export"

// Reconciler fulfils CooperativeExports.
type Reconciler struct {
	// Client reads the cache, and Secrets outside the operator namespace from the API
	// server (manager.SecretsOutside).
	Client client.Client
	Hub    hubconfig.Config
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Recorder records events about exports; the manager's when nil at setup.
	Recorder recorder.EventRecorder
	// HTTP reaches the object store to delete expired dumps; a client with a one-minute
	// timeout when nil.
	HTTP *http.Client
}

// The operator reads CooperativeExports everywhere (its informer), and writes their status
// only in the namespaces where it binds its tenant role (config/rbac/tenant_role.yaml).
// +kubebuilder:rbac:groups=coop.cooperator.dev,resources=cooperativeexports,verbs=get;list;watch

// SetupWithManager registers the controller: exports, and the Jobs they own.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Recorder == nil {
		r.Recorder = mgr.GetEventRecorder("cooperator-export")
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("cooperativeexport").
		For(&coopv1.CooperativeExport{}).
		Owns(&batchv1.Job{}).
		Complete(r)
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile moves one export along: the Job, then the link, then, once the link expired
// or the export is deleted, the dump's deletion.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ex := &coopv1.CooperativeExport{}
	if err := r.Client.Get(ctx, req.NamespacedName, ex); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	deleting := !ex.DeletionTimestamp.IsZero()
	if !deleting && (ex.Status.Phase == coopv1.ExportFailed || ExpiredAndDeleted(ex)) {
		return r.retire(ctx, ex)
	}
	before := ex.Status.DeepCopy()
	var res ctrl.Result
	var err error
	release := false
	switch {
	case deleting:
		res, release, err = r.finalize(ctx, ex)
	case ex.Status.Phase == coopv1.ExportSucceeded || ex.Status.Phase == coopv1.ExportExpired:
		res, err = r.expire(ctx, ex)
	default:
		res, err = r.reconcile(ctx, ex)
	}
	ex.Status.ObservedGeneration = ex.Generation
	if !equalStatus(before, &ex.Status) {
		if perr := r.Client.Status().Update(ctx, ex); perr != nil && err == nil {
			err = fmt.Errorf("writing the status of CooperativeExport %s/%s: %w", ex.Namespace, ex.Name, perr)
		}
	}
	if release && err == nil {
		err = client.IgnoreNotFound(finalizer.Remove(ctx, r.Client, ex, coopv1.ExportFinalizer, finalizer.IfUnchanged))
	}
	if finalizer.Stale(err) {
		// The export changed since this reconcile read it (a cache behind the last status
		// write): again, from a fresh copy, without an error.
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	return res, err
}

// ExpiredAndDeleted reports whether the export's link expired and its dump is gone: nothing
// is left to do, or to download.
func ExpiredAndDeleted(ex *coopv1.CooperativeExport) bool {
	c := meta.FindStatusCondition(ex.Status.Conditions, coopv1.ConditionExportComplete)
	return ex.Status.Phase == coopv1.ExportExpired && c != nil && c.Reason == coopv1.ReasonExportExpired
}

func equalStatus(a, b *coopv1.CooperativeExportStatus) bool {
	return equality.Semantic.DeepEqual(a, b)
}

// set records phase and the Complete condition.
func (r *Reconciler) set(ex *coopv1.CooperativeExport, phase coopv1.ExportPhase, status metav1.ConditionStatus, reason, msg string) {
	ex.Status.Phase = phase
	meta.SetStatusCondition(&ex.Status.Conditions, metav1.Condition{
		Type: coopv1.ConditionExportComplete, Status: status, Reason: reason, Message: msg, ObservedGeneration: ex.Generation,
	})
}

func (r *Reconciler) recheck() ctrl.Result {
	return ctrl.Result{RequeueAfter: r.Hub.RecheckInterval.Duration}
}

func (r *Reconciler) reconcile(ctx context.Context, ex *coopv1.CooperativeExport) (ctrl.Result, error) {
	name, isCoop := strings.CutPrefix(ex.Namespace, coopv1.NamespacePrefix)
	coop := &coopv1.Cooperative{}
	if isCoop {
		if err := r.Client.Get(ctx, client.ObjectKey{Name: name}, coop); err != nil {
			if !apierrors.IsNotFound(err) {
				return ctrl.Result{}, err
			}
			isCoop = false
		}
	}
	if !isCoop || coop.NamespaceName() != ex.Namespace {
		r.set(ex, coopv1.ExportFailed, metav1.ConditionFalse, coopv1.ReasonExportNotACooperative,
			fmt.Sprintf("namespace %s is not a co-op's namespace (coop-<name> of an existing Cooperative)", ex.Namespace))
		return ctrl.Result{}, nil
	}
	ex.Status.Cooperative = coop.Name
	if coop.Spec.Standby != nil {
		r.set(ex, coopv1.ExportFailed, metav1.ConditionFalse, coopv1.ReasonExportStandby,
			fmt.Sprintf("%s is a standby of region %s: export it on its home hub", coop.Name, coop.Spec.Standby.HomeRegion))
		return ctrl.Result{}, nil
	}
	// The export's Job takes the export's name; the import's restore Job has a name of its
	// own, which an export (whose name its co-op's admins choose) may not take: a Job of
	// that name would count as the restore.
	if ex.Name == RestoreJobName(coop) {
		r.set(ex, coopv1.ExportFailed, metav1.ConditionFalse, coopv1.ReasonExportJobNameTaken,
			fmt.Sprintf("the name %s is reserved for the Job that restores an imported co-op: name the export otherwise", ex.Name))
		return ctrl.Result{}, nil
	}
	if ex.Status.Phase == "" {
		r.set(ex, coopv1.ExportPending, metav1.ConditionFalse, coopv1.ReasonProgressing, "starting")
	}
	// The database credentials the dump runs with.
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: ex.Namespace, Name: coopv1.AppSecretName(coop)}, &corev1.Secret{}); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, err
		}
		r.set(ex, coopv1.ExportPending, metav1.ConditionFalse, coopv1.ReasonExportDatabaseNotReady,
			fmt.Sprintf("waiting for the database credentials %s/%s", ex.Namespace, coopv1.AppSecretName(coop)))
		return r.recheck(), nil
	}
	// The co-op's own object store keys, in its namespace, that the upload uses.
	if ok, err := r.ensureUploadCredentials(ctx, coop); err != nil {
		return ctrl.Result{}, err
	} else if !ok {
		r.set(ex, coopv1.ExportPending, metav1.ConditionFalse, coopv1.ReasonExportCredentialsMissing,
			fmt.Sprintf("the hub has not created Secret %s/%s", r.Hub.OperatorNamespace, r.Hub.ObjectStore.CooperativeCredentialsSecret(coop.Name)))
		return r.recheck(), nil
	}
	if _, err := ssa.ApplyFetch(ctx, r.Client, BuildEgressPolicy(coop, &r.Hub), &networkingv1.NetworkPolicy{}); err != nil {
		return ctrl.Result{}, fmt.Errorf("applying NetworkPolicy %s/%s: %w", ex.Namespace, EgressPolicyName, err)
	}
	job := &batchv1.Job{}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: ex.Namespace, Name: ex.Name}, job)
	if apierrors.IsNotFound(err) {
		// No Job without the finalizer: whatever it uploads is deleted with the export.
		if err := r.ensureFinalizer(ctx, ex); err != nil {
			return ctrl.Result{}, err
		}
		job = BuildJob(coop, ex, &r.Hub)
		if err := r.Client.Create(ctx, job); apierrors.IsAlreadyExists(err) {
			// A Job of that name the cache does not hold: not the operator's (its Jobs
			// carry its label), or not seen yet, which the next pass tells.
			r.set(ex, coopv1.ExportPending, metav1.ConditionFalse, coopv1.ReasonExportJobNameTaken,
				fmt.Sprintf("Job %s/%s exists and is not known as made for this export: nothing is dumped while it is there", job.Namespace, job.Name))
			return r.recheck(), nil
		} else if err != nil {
			return ctrl.Result{}, fmt.Errorf("creating Job %s/%s: %w", job.Namespace, job.Name, err)
		}
		log.FromContext(ctx).Info("Created the export Job", "cooperative", coop.Name, "job", job.Name)
	} else if err != nil {
		return ctrl.Result{}, err
	}
	if !metav1.IsControlledBy(job, ex) {
		r.set(ex, coopv1.ExportFailed, metav1.ConditionFalse, coopv1.ReasonExportJobNameTaken,
			fmt.Sprintf("Job %s/%s exists and was not made for this export: nothing is dumped; name the export otherwise", job.Namespace, job.Name))
		return ctrl.Result{}, nil
	}
	ex.Status.JobName = job.Name
	done, ok, msg := jobState(job)
	switch {
	case !done:
		r.set(ex, coopv1.ExportRunning, metav1.ConditionFalse, coopv1.ReasonExportDumping, fmt.Sprintf("Job %s dumps the database", job.Name))
		return ctrl.Result{}, nil
	case !ok:
		now := metav1.NewTime(r.now())
		ex.Status.CompletionTime = &now
		r.set(ex, coopv1.ExportFailed, metav1.ConditionFalse, coopv1.ReasonExportJobFailed, msg)
		return ctrl.Result{}, nil
	}
	return r.publish(ctx, coop, ex)
}

// credentials reads the first of the operator namespace's Secrets that exists.
func (r *Reconciler) credentials(ctx context.Context, names ...string) (*corev1.Secret, error) {
	for _, n := range names {
		s := &corev1.Secret{}
		err := r.Client.Get(ctx, client.ObjectKey{Namespace: r.Hub.OperatorNamespace, Name: n}, s)
		if err == nil {
			return s, nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	return nil, nil
}

// ensureUploadCredentials makes sure the co-op's namespace holds its own object store keys
// (the Cooperative controller copies them there for a dedicated Cluster; a shared-tier
// co-op gets them here, for its exports).
func (r *Reconciler) ensureUploadCredentials(ctx context.Context, coop *coopv1.Cooperative) (bool, error) {
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: coop.NamespaceName(), Name: coopv1.ObjectStoreSecretName}, &corev1.Secret{})
	if err == nil {
		return true, nil
	}
	if !apierrors.IsNotFound(err) {
		return false, err
	}
	src, err := r.credentials(ctx, r.Hub.ObjectStore.CredentialsSecretsFor(coop.Name)...)
	if err != nil || src == nil {
		return false, err
	}
	dst := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: coop.NamespaceName(), Name: coopv1.ObjectStoreSecretName, Labels: map[string]string{
			coopv1.LabelManagedBy: coopv1.ManagedByValue, coopv1.LabelCooperative: coop.Name,
		}},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{coopv1.AccessKeyIDKey: src.Data[coopv1.AccessKeyIDKey], coopv1.AccessSecretKeyKey: src.Data[coopv1.AccessSecretKeyKey]},
	}
	if _, err := ssa.Apply(ctx, r.Client, dst, nil); err != nil {
		return false, fmt.Errorf("copying the object store credentials into %s: %w", coop.NamespaceName(), err)
	}
	return true, nil
}

// publish writes the link to the dump into the co-op's download Secret, signed with its
// read-only keys, and records the export as succeeded.
func (r *Reconciler) publish(ctx context.Context, coop *coopv1.Cooperative, ex *coopv1.CooperativeExport) (ctrl.Result, error) {
	src, err := r.credentials(ctx, append([]string{r.Hub.ObjectStore.ReadCredentialsSecret(coop.Name)}, r.Hub.ObjectStore.CredentialsSecretsFor(coop.Name)...)...)
	if err != nil {
		return ctrl.Result{}, err
	}
	if src == nil {
		r.set(ex, coopv1.ExportRunning, metav1.ConditionFalse, coopv1.ReasonExportCredentialsMissing,
			fmt.Sprintf("the dump is made; the hub has not created Secret %s/%s to sign its link", r.Hub.OperatorNamespace, r.Hub.ObjectStore.ReadCredentialsSecret(coop.Name)))
		return r.recheck(), nil
	}
	bucket, prefix, err := logicalbackup.ParseDestination(Prefix(&r.Hub, coop.Name))
	if err != nil {
		return ctrl.Result{}, err
	}
	validity, err := time.ParseDuration(ex.Spec.LinkValidity)
	if err != nil || ex.Spec.LinkValidity == "" {
		validity = 24 * time.Hour
	}
	now := r.now()
	object := logicalbackup.ObjectAt(r.Hub.ObjectStore.EndpointURL, bucket, prefix+DumpObjectName(ex.Name))
	hc := r.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	// What the Job uploaded, as the store holds it: the CLI checks its download against it.
	sum, err := logicalbackup.UploadedSHA256(ctx, hc, object, string(src.Data[coopv1.AccessKeyIDKey]), string(src.Data[coopv1.AccessSecretKeyKey]), now)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("reading the checksum of export %s/%s's dump: %w", ex.Namespace, ex.Name, err)
	}
	link, err := logicalbackup.Presign(object, string(src.Data[coopv1.AccessKeyIDKey]), string(src.Data[coopv1.AccessSecretKeyKey]), now, validity)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("signing the link of export %s/%s: %w", ex.Namespace, ex.Name, err)
	}
	expires := metav1.NewTime(now.Add(validity).Truncate(time.Second))
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: coop.NamespaceName(), Name: coopv1.ExportDownloadSecretName(coop), Labels: map[string]string{
			coopv1.LabelManagedBy: coopv1.ManagedByValue, coopv1.LabelCooperative: coop.Name,
		}},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{
			coopv1.ExportDumpURLKey: []byte(link),
			"export":                []byte(ex.Name),
			"expires":               []byte(expires.UTC().Format(time.RFC3339)),
		},
	}
	if _, err := ssa.Apply(ctx, r.Client, secret, nil); err != nil {
		return ctrl.Result{}, fmt.Errorf("writing Secret %s/%s: %w", secret.Namespace, secret.Name, err)
	}
	stamp := metav1.NewTime(now)
	ex.Status.CompletionTime = &stamp
	ex.Status.Dump = &coopv1.ExportDump{
		Destination:    Prefix(&r.Hub, coop.Name) + DumpObjectName(ex.Name),
		DownloadSecret: secret.Name,
		Expires:        &expires,
		SHA256:         sum,
	}
	r.set(ex, coopv1.ExportSucceeded, metav1.ConditionTrue, coopv1.ReasonExportSucceeded,
		fmt.Sprintf("the dump is in the co-op's object store; Secret %s holds a link to it until %s, when the dump is deleted", secret.Name, expires.UTC().Format(time.RFC3339)))
	// Back when the link expires, to delete the dump.
	return ctrl.Result{RequeueAfter: expires.Sub(now)}, nil
}
