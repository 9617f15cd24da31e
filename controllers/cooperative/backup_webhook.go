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

package cooperative

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/cooperator-dev/cooperator/api/policy"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// +kubebuilder:webhook:path=/validate-postgresql-cnpg-io-v1-backup,mutating=false,failurePolicy=ignore,sideEffects=None,groups=postgresql.cnpg.io,resources=backups,verbs=create,versions=v1,name=vbackup.coop.cooperator.dev,admissionReviewVersions=v1,timeoutSeconds=5,patch=`{"namespaceSelector":{"matchLabels":{"app.kubernetes.io/managed-by":"cooperator"},"matchExpressions":[{"key":"coop.cooperator.dev/cooperative","operator":"Exists"}]}}`

// OnDemandBackupInterval is how long after a backup of a co-op's Cluster its admins may ask
// for another: each base backup is a full copy of the database in the hub's object store,
// whose bill all co-ops share, and a load on the hub's disks.
const OnDemandBackupInterval = policy.MinBackupGap

// BackupValidator holds a co-op's admins to one on-demand backup an hour. Co-op admins may
// create Backups in their co-op's namespace (the admin Role, for `cooperator backup`);
// anyone who may create Backups in every namespace (the hub; CloudNativePG's scheduled
// backups, with CloudNativePG installed cluster-wide as it is by default) and the operator
// (a co-op's final backup) are not held, and nothing outside a co-op namespace is judged
// (the webhook's namespaceSelector, and a check here). A co-op admin's Backup must be of
// the co-op's own Cluster and carry the label that names it (so that the next request sees
// it), and is refused when another Backup of that Cluster was created, or admitted here,
// less than OnDemandBackupInterval before. Each replica of the operator remembers for a
// moment what it admitted (until its cache holds it); the cache holds what any created.
//
// The webhook fails open (failurePolicy Ignore): while the operator is down, CloudNativePG's
// scheduled backups must not wait for it, and on-demand backups go unlimited.
type BackupValidator struct {
	// Client reads namespaces and Backups: the manager's cache.
	Client client.Reader
	// Reviews creates the SubjectAccessReviews that ask whether a requester may create
	// Backups in every namespace.
	Reviews client.Writer
	// OperatorUsername is the operator's own user name.
	OperatorUsername string
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu sync.Mutex
	// admitted is when a co-op admin's Backup of each Cluster (namespace/name) was last
	// admitted, until the cache holds it: two requests at once are not both let through.
	admitted map[string]time.Time
}

var _ admission.Validator[*cnpgv1.Backup] = &BackupValidator{}

// SetupWebhookWithManager registers the webhook.
func (v *BackupValidator) SetupWebhookWithManager(mgr ctrl.Manager) error {
	if v.OperatorUsername == "" {
		return errors.New("the Backup webhook needs the operator's user name")
	}
	return ctrl.NewWebhookManagedBy(mgr, &cnpgv1.Backup{}).WithValidator(v).Complete()
}

// ValidateCreate refuses a co-op admin's Backup that breaks onDemandErrors. It fails open:
// when it cannot read what it judges by (a namespace, the Backups, an access review), it
// admits the Backup with a warning, as the API server does when it cannot reach it.
func (v *BackupValidator) ValidateCreate(ctx context.Context, b *cnpgv1.Backup) (admission.Warnings, error) {
	req, err := admission.RequestFromContext(ctx)
	if err != nil {
		return failOpen(ctx, err)
	}
	user, dryRun := req.UserInfo, req.DryRun != nil && *req.DryRun
	if user.Username == v.OperatorUsername {
		return nil, nil
	}
	var ns corev1.Namespace
	if err := v.Client.Get(ctx, client.ObjectKey{Name: b.Namespace}, &ns); err != nil {
		// Not a namespace the operator made (the cache holds only those): not its to judge.
		return failOpen(ctx, client.IgnoreNotFound(err))
	}
	if ns.Labels[coopv1.LabelManagedBy] != coopv1.ManagedByValue || ns.Labels[coopv1.LabelCooperative] == "" {
		return nil, nil
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	key := b.Namespace + "/" + b.Spec.Cluster.Name

	last, err := v.lastBackupOf(ctx, b.Namespace, b.Spec.Cluster.Name)
	if err != nil {
		return failOpen(ctx, err)
	}
	// The memory of admissions is read and written one request at a time, so that two
	// requests at once are not both let through; the cache is read and the access review
	// asked outside the lock.
	v.mu.Lock()
	errs := v.onDemandErrors(b, ns.Labels[coopv1.LabelCooperative], last, now())
	if len(errs) == 0 && !dryRun {
		v.remember(key, now())
	}
	v.mu.Unlock()
	if len(errs) == 0 {
		return nil, nil
	}
	hubWide, err := may(ctx, v.Reviews, user, authorizationv1.ResourceAttributes{
		Group: cnpgv1.SchemeGroupVersion.Group, Resource: "backups", Verb: "create",
	})
	if err != nil {
		return failOpen(ctx, err)
	}
	if !hubWide {
		return nil, invalidBackup(b, errs)
	}
	if !dryRun {
		v.mu.Lock()
		v.remember(key, now())
		v.mu.Unlock()
	}
	return nil, nil
}

// failOpen admits a Backup the webhook could not judge, with a warning to the requester and
// the reason in the operator's log; nil admits it plainly.
func failOpen(ctx context.Context, err error) (admission.Warnings, error) {
	if err == nil {
		return nil, nil
	}
	logf.FromContext(ctx).Error(err, "admitting a Backup unjudged")
	return admission.Warnings{"the operator could not check the on-demand backup limit; the backup is admitted"}, nil
}

func invalidBackup(b *cnpgv1.Backup, errs field.ErrorList) error {
	return apierrors.NewInvalid(cnpgv1.SchemeGroupVersion.WithKind("Backup").GroupKind(), b.Name, errs)
}

// admittedMemory is how long an admission is remembered: until the operator's cache holds
// the Backup (a moment), with room to spare. After it the cache decides, so a request
// admitted here but refused after (by CloudNativePG's own webhook, say) holds the co-op's
// admins back for no longer than this.
const admittedMemory = 2 * time.Minute

// remember records an admission, and forgets those older than admittedMemory.
func (v *BackupValidator) remember(key string, at time.Time) {
	if v.admitted == nil {
		v.admitted = map[string]time.Time{}
	}
	for k, t := range v.admitted {
		if at.Sub(t) >= admittedMemory {
			delete(v.admitted, k)
		}
	}
	v.admitted[key] = at
}

// onDemandErrors are the rules a co-op admin's Backup breaks: it must be of the co-op's own
// Cluster and carry the label that names it (as CloudNativePG's and `cooperator backup`'s
// do), so that the next request sees it, and come at least OnDemandBackupInterval after the
// last backup of that Cluster (last, from the cache, or one admitted here). v.mu is held.
func (v *BackupValidator) onDemandErrors(b *cnpgv1.Backup, coop string, last *cnpgv1.Backup, now time.Time) field.ErrorList {
	cluster := b.Spec.Cluster.Name
	var errs field.ErrorList
	own := coopv1.ClusterName(&coopv1.Cooperative{ObjectMeta: metav1.ObjectMeta{Name: coop}})
	if cluster != own {
		errs = append(errs, field.NotSupported(field.NewPath("spec", "cluster", "name"), cluster, []string{own}))
	}
	if got := b.Labels[coopv1.ClusterLabel]; got != cluster {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "labels").Key(coopv1.ClusterLabel), got,
			fmt.Sprintf("must name the backup's Cluster, %q", cluster)))
	}
	lastName, lastAt := "", time.Time{}
	if last != nil {
		lastName, lastAt = "backup "+last.Name, last.CreationTimestamp.Time
	}
	if at, ok := v.admitted[b.Namespace+"/"+cluster]; ok && now.Sub(at) < admittedMemory && at.After(lastAt) {
		lastName, lastAt = "a backup", at
	}
	if next := lastAt.Add(OnDemandBackupInterval); lastName != "" && now.Before(next) {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "cluster", "name"), fmt.Sprintf(
			"%s of Cluster %s was requested at %s: a co-op may ask for one backup an hour; ask again after %s",
			lastName, cluster, lastAt.UTC().Format(time.RFC3339), next.UTC().Format(time.RFC3339))))
	}
	return errs
}

// lastBackupOf is the Backup of cluster in namespace created last, nil when there is none.
func (v *BackupValidator) lastBackupOf(ctx context.Context, namespace, cluster string) (*cnpgv1.Backup, error) {
	var backups cnpgv1.BackupList
	// The cache's own objects, not copies: only read.
	if err := v.Client.List(ctx, &backups, client.InNamespace(namespace), client.MatchingLabels{coopv1.ClusterLabel: cluster}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing the backups of Cluster %s: %w", cluster, err)
	}
	var last *cnpgv1.Backup
	for i := range backups.Items {
		b := &backups.Items[i]
		if b.Spec.Cluster.Name == cluster && (last == nil || b.CreationTimestamp.After(last.CreationTimestamp.Time)) {
			last = b
		}
	}
	return last, nil
}

// ValidateUpdate judges nothing: only a creation starts a backup.
func (v *BackupValidator) ValidateUpdate(context.Context, *cnpgv1.Backup, *cnpgv1.Backup) (admission.Warnings, error) {
	return nil, nil
}

// ValidateDelete judges nothing.
func (v *BackupValidator) ValidateDelete(context.Context, *cnpgv1.Backup) (admission.Warnings, error) {
	return nil, nil
}
