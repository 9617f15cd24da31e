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
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/cooperator-dev/cooperator/api/policy"
	"github.com/cooperator-dev/cooperator/api/topology"
	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
)

// +kubebuilder:webhook:path=/validate-coop-cooperator-dev-v1alpha1-cooperative,mutating=false,failurePolicy=fail,sideEffects=None,groups=coop.cooperator.dev,resources=cooperatives,verbs=create;update,versions=v1alpha1,name=vcooperative.coop.cooperator.dev,admissionReviewVersions=v1,timeoutSeconds=5
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// Validator checks what CEL cannot see, because it lies in another object or in who asks.
//
// Against other objects: that the co-op's HostingPlan allows its database, and that its
// PlatformTemplate serves its vertical and has the pinned version. A plan or template that
// does not exist yet is only a warning, so that manifests applied together (GitOps) are not
// refused for their order; the co-op is then Stalled until the object appears.
//
// Governed fields (spec.governance.governedFields of the stored object, plus governance
// itself once that list is not empty): an update that changes one is refused unless it
// comes from the operator (hub setting operatorUsername), which applies passed proposals,
// or is a break-glass use of the hub (see the annotations in api/v1alpha1). A create is not
// checked: there is nothing to compare with, and only the hub may create a Cooperative (a
// co-op's admins may get and update theirs, not create one).
//
// The bounds on what anyone may choose directly, checked when the field changes (and on
// create) so that an unrelated update of an older object is never refused: spec.admins
// names no user or group the hub reserves; spec.platform.host falls under the hub's
// allowed domains and is no other Cooperative's (standbys included: a failover brings them
// here); a plan that is not selfService is chosen only by someone who may update it (the
// hub), asked of the API server with a SubjectAccessReview; each peer added to
// spec.federation.peers is a FederationPeer this hub declares. A peer that does not exist
// yet only warns on create, as plans do (GitOps); adding one to an existing co-op is
// refused, since the consent would send the co-op's data nowhere the hub agreed to.
//
// A standby (spec.standby) is written by the operator of its home hub under the federation
// peer role: its governed fields follow its home co-op, where they are governed, and are not
// checked here; it is held to the bounds that protect this hub's own co-ops and users
// (boundErrors). Only the operator removes spec.standby, as it adopts a released standby
// (AdoptionErrors); from that update on, the co-op's governance and the plan rule hold.
type Validator struct {
	// Client reads plans, templates, peers and co-ops: the manager's cache, with the host
	// index that SetupWebhookWithManager registers.
	Client client.Reader
	// Reviews creates the SubjectAccessReviews that ask whether a requester is the hub.
	Reviews client.Writer
	// APIReader lists the cluster's Ingresses from the API server when a co-op names a new
	// host (the cache holds the operator's own only): a co-op takes no host that an Ingress
	// of the hub's, or of anyone's, already serves. Nil: not checked (unit tests).
	APIReader client.Reader
	// Hub is the hub's settings, with OperatorUsername resolved.
	Hub hubconfig.Config

	// standbysMu serializes the count of a peer's standbys here; standbysAdmitted remembers,
	// by home region, the standbys admitted by this replica (name: when) for the moment the
	// cache may not hold them yet, so that creates sent at once are not all let through.
	standbysMu       sync.Mutex
	standbysAdmitted map[string]map[string]time.Time
}

var _ admission.Validator[*coopv1.Cooperative] = &Validator{}

// SetupWebhookWithManager registers the validating webhook and the host index it reads.
func (v *Validator) SetupWebhookWithManager(mgr ctrl.Manager) error {
	if v.Hub.OperatorUsername == "" {
		return errors.New("the webhook needs the operator's user name: hub setting operatorUsername")
	}
	if err := IndexHosts(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return err
	}
	return ctrl.NewWebhookManagedBy(mgr, &coopv1.Cooperative{}).WithValidator(v).Complete()
}

// ValidateCreate checks a new co-op against its plan and template, and the bounds.
func (v *Validator) ValidateCreate(ctx context.Context, coop *coopv1.Cooperative) (admission.Warnings, error) {
	user, err := requester(ctx)
	if err != nil {
		return nil, err
	}
	var errs field.ErrorList
	if user.Username != v.Hub.OperatorUsername {
		for _, key := range coopv1.BreakGlassAnnotations {
			if _, ok := coop.Annotations[key]; ok {
				errs = append(errs, field.Forbidden(field.NewPath("metadata", "annotations").Key(key),
					"the break-glass annotations come only with an update that changes governed fields; a new Cooperative has none to override"))
			}
		}
	}
	if _, ok := coop.Annotations[coopv1.AnnotationImportAbandon]; ok && user.Username != v.Hub.OperatorUsername {
		errs = append(errs, field.Forbidden(field.NewPath("metadata", "annotations").Key(coopv1.AnnotationImportAbandon),
			"gives up the restore of a co-op awaiting one: a new Cooperative has none to give up"))
	}
	moveErrs, err := v.moveAnnotationErrors(ctx, nil, coop, user)
	if err != nil {
		return nil, err
	}
	errs = append(errs, moveErrs...)
	failoverErrs, err := v.failoverAnnotationErrors(ctx, nil, coop, user)
	if err != nil {
		return nil, err
	}
	errs = append(errs, failoverErrs...)
	if coop.Spec.Standby != nil && user.Username != v.Hub.OperatorUsername {
		countErrs, err := v.standbyCountErrors(ctx, coop)
		if err != nil {
			return nil, err
		}
		errs = append(errs, countErrs...)
	}
	if coop.Spec.Standby != nil || importing(coop) {
		retainedErrs, err := v.retainedDataErrors(ctx, coop)
		if err != nil {
			return nil, err
		}
		errs = append(errs, retainedErrs...)
	}
	if coop.Spec.Standby != nil {
		// A standby's database replays its home co-op's backups; an import restores a dump
		// into a co-op of this hub, as its admin runs cooperator import: a peer's standby
		// carrying the import's annotations would have the operator run an import's restore
		// into it.
		for _, key := range coopv1.ImportAnnotations {
			if _, ok := coop.Annotations[key]; ok {
				errs = append(errs, field.Forbidden(field.NewPath("metadata", "annotations").Key(key),
					"a standby replays its home co-op's backups: it takes no import (cooperator import creates a co-op of this hub)"))
			}
		}
	}
	warnings, more, err := v.validate(ctx, nil, coop, user)
	if err != nil {
		return nil, err
	}
	return warnings, invalid(coop, append(errs, more...))
}

// importing says whether a new co-op carries an import's annotations (coopv1.ImportAnnotations):
// `cooperator import` creates it, and the operator restores a dump into its database.
func importing(coop *coopv1.Cooperative) bool {
	return slices.ContainsFunc(coopv1.ImportAnnotations, func(key string) bool { return hasKey(coop.Annotations, key) })
}

// StandbySlack is how many standbys a peer hub may keep here beyond what its FederationPeer
// accepts (spec.accept.maxCooperatives; none when it accepts no standbys): those this hub
// refuses, which wait for room. A peer, or whoever holds its credentials, may not fill this
// hub's API server with standbys it refuses.
const StandbySlack = 10

// standbyCountErrors refuses a new standby from a home region that already keeps as many
// standbys here as its FederationPeer accepts, plus StandbySlack. The home hub reports the
// refusal on the standby's state there, and sends it again once there is room. The count
// is the cache's, and the standbys this replica admitted that the cache may not hold yet
// (for admittedMemory): creates sent at once to one replica do not all pass. (Replicas do
// not share that memory: creates spread over several at once may pass the bound by as many
// as there are replicas, less one, each.)
func (v *Validator) standbyCountErrors(ctx context.Context, coop *coopv1.Cooperative) (field.ErrorList, error) {
	region := coop.Spec.Standby.HomeRegion
	var peers coopv1.FederationPeerList
	if err := v.Client.List(ctx, &peers); err != nil {
		return nil, fmt.Errorf("listing FederationPeers: %w", err)
	}
	accepted := 0
	if peer := topology.PeerOfRegion(peers.Items, region); peer != nil && peer.Spec.Accept.Standbys {
		accepted = int(peer.Spec.Accept.MaxCooperatives)
	}
	v.standbysMu.Lock()
	defer v.standbysMu.Unlock()
	var coops coopv1.CooperativeList
	if err := v.Client.List(ctx, &coops); err != nil {
		return nil, fmt.Errorf("listing Cooperatives: %w", err)
	}
	held := 0
	cached := map[string]bool{}
	for _, c := range coops.Items {
		cached[c.Name] = true
		if c.Spec.Standby != nil && c.Spec.Standby.HomeRegion == region && c.DeletionTimestamp.IsZero() && c.Name != coop.Name {
			held++
		}
	}
	now := time.Now()
	for name, at := range v.standbysAdmitted[region] {
		switch {
		case now.Sub(at) >= admittedMemory:
			delete(v.standbysAdmitted[region], name)
		case !cached[name] && name != coop.Name:
			held++ // admitted here, not in the cache yet
		}
	}
	if held < accepted+StandbySlack {
		if req, err := admission.RequestFromContext(ctx); err == nil && (req.DryRun == nil || !*req.DryRun) {
			if v.standbysAdmitted == nil {
				v.standbysAdmitted = map[string]map[string]time.Time{}
			}
			if v.standbysAdmitted[region] == nil {
				v.standbysAdmitted[region] = map[string]time.Time{}
			}
			v.standbysAdmitted[region][coop.Name] = now
		}
		return nil, nil
	}
	return field.ErrorList{field.Forbidden(field.NewPath("spec", "standby", "homeRegion"), fmt.Sprintf(
		"this hub already keeps %d standbys from region %s, the most it takes: %d that its FederationPeer accepts (spec.accept.maxCooperatives) and %d refused that wait for room; send it again once one is gone",
		held, region, accepted, StandbySlack))}, nil
}

// retainedDataErrors refuses a new standby, or a new co-op an import creates (importing),
// of a name whose data this hub retains: what a co-op of this hub of that name left when it
// was deleted with deletionPolicy Retain (its NOLOGIN DatabaseRoles in the shared Cluster,
// labelled coopv1.LabelRetainedFrom, and the marker of its backups, RetainedMarkerName). A
// co-op the hub creates again under that name takes them over, as it should; a peer hub's
// standby would take over, or drop with its own deletion, data that is this hub's to keep;
// an import's co-op would take them over too, and its restore would find the retained
// tables in its database and fail, its platform held at zero.
func (v *Validator) retainedDataErrors(ctx context.Context, coop *coopv1.Cooperative) (field.ErrorList, error) {
	ns := v.Hub.OperatorNamespace
	var held []string
	var roles cnpgv1.DatabaseRoleList
	if err := v.Client.List(ctx, &roles, client.InNamespace(ns), client.MatchingLabels{coopv1.LabelRetainedFrom: coop.Name}); err != nil && !isNoKind(err) {
		return nil, fmt.Errorf("listing the retained DatabaseRoles of %s: %w", coop.Name, err)
	}
	for _, role := range roles.Items {
		held = append(held, fmt.Sprintf("DatabaseRole %s/%s", ns, role.Name))
	}
	var marker corev1.ConfigMap
	switch err := v.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: RetainedMarkerName(coop.Name)}, &marker); {
	case err == nil:
		held = append(held, fmt.Sprintf("ConfigMap %s/%s", ns, marker.Name))
	case !apierrors.IsNotFound(err):
		return nil, fmt.Errorf("reading the retained backups marker of %s: %w", coop.Name, err)
	}
	if len(held) == 0 {
		return nil, nil
	}
	sort.Strings(held)
	return field.ErrorList{field.Forbidden(field.NewPath("metadata", "name"), fmt.Sprintf(
		"this hub retains the data of its own co-op %s, deleted with deletionPolicy Retain (%s): neither a peer's standby nor an import may take the name of data this hub keeps "+
			"(a co-op of that name takes that data over, and an import's restore refuses a database that holds tables); "+
			"a hub admin of this hub restores that data or, once it is no longer needed, deletes those objects, before a standby or an import of that name comes here",
		coop.Name, strings.Join(held, ", ")))}, nil
}

// ValidateUpdate checks a changed co-op: who may change its governed fields, then its plan,
// template and bounds. A co-op being deleted is checked for its governed fields only (its
// deletion policy among them): its finalizer must be able to finish.
func (v *Validator) ValidateUpdate(ctx context.Context, old, coop *coopv1.Cooperative) (admission.Warnings, error) {
	user, err := requester(ctx)
	if err != nil {
		return nil, err
	}
	errs, warnings := v.governedErrors(old, coop, user.UserInfo)
	errs = append(errs, ImportAnnotationErrors(old, coop, user.Username == v.Hub.OperatorUsername)...)
	abandonErrs, err := v.importAbandonErrors(ctx, old, coop, user)
	if err != nil {
		return nil, err
	}
	errs = append(errs, abandonErrs...)
	errs = append(errs, AdoptionErrors(old, coop, user.Username == v.Hub.OperatorUsername)...)
	moveErrs, err := v.moveAnnotationErrors(ctx, old, coop, user)
	if err != nil {
		return nil, err
	}
	errs = append(errs, moveErrs...)
	failoverErrs, err := v.failoverAnnotationErrors(ctx, old, coop, user)
	if err != nil {
		return nil, err
	}
	errs = append(errs, failoverErrs...)
	earlyErrs, err := v.deleteBeforeMovedBackupErrors(ctx, old, coop, user)
	if err != nil {
		return nil, err
	}
	errs = append(errs, earlyErrs...)
	lifeErrs, err := v.lifecycleErrors(ctx, old, coop, user)
	if err != nil {
		return nil, err
	}
	errs = append(errs, lifeErrs...)
	suspendErrs, err := v.suspendErrors(ctx, old, coop, user)
	if err != nil {
		return nil, err
	}
	errs = append(errs, suspendErrs...)
	heldErrs, err := v.heldVotesErrors(ctx, old, coop, user)
	if err != nil {
		return nil, err
	}
	errs = append(errs, heldErrs...)
	if !coop.DeletionTimestamp.IsZero() {
		return warnings, invalid(coop, errs)
	}
	more, moreErrs, err := v.validate(ctx, old, coop, user)
	if err != nil {
		return nil, err
	}
	return append(warnings, more...), invalid(coop, append(errs, moreErrs...))
}

// ValidateDelete allows every deletion; the deletion policy is carried out by the finalizer.
func (v *Validator) ValidateDelete(context.Context, *coopv1.Cooperative) (admission.Warnings, error) {
	return nil, nil
}

// ImportAnnotationErrors refuses an update that adds, changes or removes the annotations
// of an import (coopv1.ImportAnnotations: the dump, its SHA-256 and the origin) unless the
// operator sends it: they come only with the Cooperative `cooperator import` creates, and
// the operator removes the dump's once it is restored. Anyone else could otherwise hold a
// co-op's platform at zero, start it on an empty database before its data is back, or
// write an origin that status.origin refuses (the restore then waits, saying why).
func ImportAnnotationErrors(old, coop *coopv1.Cooperative, byOperator bool) field.ErrorList {
	if byOperator {
		return nil
	}
	var errs field.ErrorList
	for _, key := range coopv1.ImportAnnotations {
		before, had := old.Annotations[key]
		after, has := coop.Annotations[key]
		if had != has || before != after {
			errs = append(errs, field.Forbidden(field.NewPath("metadata", "annotations").Key(key),
				"set only by cooperator import when it creates the Cooperative, and removed only by the operator (the dump's once it is restored)"))
		}
	}
	return errs
}

// importAbandonErrors judges an update that adds, changes or removes
// coopv1.AnnotationImportAbandon, unless the operator sends it (it removes it once the
// restore is given up): only someone who may delete the Cooperative (the hub's admins;
// asked of the API server) gives up a restore, which starts the platform without the
// imported data; only on a co-op awaiting one; and with a reason, which status and an
// event repeat.
func (v *Validator) importAbandonErrors(ctx context.Context, old, coop *coopv1.Cooperative, user *sender) (field.ErrorList, error) {
	before, had := old.Annotations[coopv1.AnnotationImportAbandon]
	after, has := coop.Annotations[coopv1.AnnotationImportAbandon]
	if (had == has && before == after) || user.Username == v.Hub.OperatorUsername {
		return nil, nil
	}
	path := field.NewPath("metadata", "annotations").Key(coopv1.AnnotationImportAbandon)
	if has {
		switch reason := strings.TrimSpace(after); {
		case !old.AwaitingRestore():
			return field.ErrorList{field.Forbidden(path, "gives up the restore of a co-op awaiting one (annotation "+coopv1.AnnotationImportDump+"): this co-op awaits none")}, nil
		case reason == "":
			return field.ErrorList{field.Required(path, "gives up the restore: say why, which status.origin.message and an event repeat")}, nil
		case len(after) > coopv1.MaxImportAbandonReasonLength:
			return field.ErrorList{field.TooLong(path, "", coopv1.MaxImportAbandonReasonLength)}, nil
		}
	}
	return v.hubOnly(ctx, user, coop, path,
		"giving up a restore starts the platform without the imported data, and deletes the uploaded dump: only someone who may delete this Cooperative (the hub's admins) may set, change or remove it")
}

// AdoptionErrors refuses an update that removes spec.standby unless the operator sends it:
// a standby its home released (a move) becomes this hub's own co-op only as the operator
// adopts it, with the consent of the FederationPeer of its home region (spec.accept.moves),
// on the plan that FederationPeer accepts its standbys with, recording where it came from.
// Whoever else may update the standby (its home hub's identity, a hub admin) would skip all
// of that, and the plan, governance and bounds this hub holds its co-ops to.
func AdoptionErrors(old, coop *coopv1.Cooperative, byOperator bool) field.ErrorList {
	if byOperator || old.Spec.Standby == nil || coop.Spec.Standby != nil {
		return nil
	}
	return field.ErrorList{field.Forbidden(field.NewPath("spec", "standby"),
		"removed only by this hub's operator, which adopts a standby its home released (a move) once the FederationPeer of its home region accepts moves (spec.accept.moves)")}
}

// moveAnnotationErrors refuses a request that adds, changes or removes the annotation
// coopv1.AnnotationMoveTo unless its sender may delete the Cooperative (asked of the API
// server with a SubjectAccessReview): a move releases the co-op to another hub and ends with
// its deletion here, so it needs the authority to delete it, which the co-op's own admins do
// not have (they ask the hub). On a standby the annotation means nothing and is refused.
func (v *Validator) moveAnnotationErrors(ctx context.Context, old, coop *coopv1.Cooperative, user *sender) (field.ErrorList, error) {
	var before string
	var had bool
	if old != nil {
		before, had = old.Annotations[coopv1.AnnotationMoveTo]
	}
	after, has := coop.Annotations[coopv1.AnnotationMoveTo]
	if had == has && before == after {
		return nil, nil
	}
	path := field.NewPath("metadata", "annotations").Key(coopv1.AnnotationMoveTo)
	if has && coop.Spec.Standby != nil {
		return field.ErrorList{field.Forbidden(path, "a standby is moved by its home hub: run cooperator federation move there")}, nil
	}
	return v.hubOnly(ctx, user, coop, path,
		"a move releases the co-op to another hub and ends with its deletion here: only someone who may delete this Cooperative (the hub's admins) may set, change or remove it")
}

// hubOnly refuses, at path and with why, a request whose sender does not hold the hub's
// authority over coop (hubAuthority): what only the hub's admins may do.
func (v *Validator) hubOnly(ctx context.Context, user *sender, coop *coopv1.Cooperative, path *field.Path, why string) (field.ErrorList, error) {
	ok, err := v.hubAuthority(ctx, user, coop)
	if err != nil || ok {
		return nil, err
	}
	return field.ErrorList{field.Forbidden(path, why)}, nil
}

// hubAuthority says whether the sender holds the hub's authority over coop: they may delete
// it (asked of the API server with a SubjectAccessReview) and are no peer hub's identity. A
// peer may delete the standbys of its region here, to remove them, as its role says; that
// makes it no admin of this hub's over them: it may not suspend one (which would freeze
// this hub's hold on its namespace), take the operator's finalizers off (which would skip
// this hub's cleanup) or give it an owner.
func (v *Validator) hubAuthority(ctx context.Context, user *sender, coop *coopv1.Cooperative) (bool, error) {
	if coopv1.PeerIdentity(user.Username) {
		return false, nil
	}
	return v.mayDelete(ctx, user, coop.Name)
}

// failoverAnnotationErrors refuses a request that adds, changes or removes the annotation
// coopv1.AnnotationFailover unless its sender is the operator or may delete the Cooperative
// (the hub's admins; asked of the API server with a SubjectAccessReview). Set on a home that
// follows a peer's copy, it promotes the home without that copy's token, which loses what
// the copy did not archive and, if the copy still serves, makes two primaries. On a standby
// it is this hub's failover, without its home's token: the same authority, and never a peer
// hub's identity, which may write the standbys of its region here (and delete them) but not
// promote one over its own copy. Removed before the failover is done, it cancels what a hub
// admin asked for: the operator removes it once the failover is done, and only the hub's
// admins may before (never a peer hub's identity, nor a co-op's admins, who may update
// their co-op). On either, a value other than coopv1.AcceptDataLoss is refused: the
// operator would act on none and never remove it.
func (v *Validator) failoverAnnotationErrors(ctx context.Context, old, coop *coopv1.Cooperative, user *sender) (field.ErrorList, error) {
	var before string
	var had bool
	if old != nil {
		before, had = old.Annotations[coopv1.AnnotationFailover]
	}
	after, has := coop.Annotations[coopv1.AnnotationFailover]
	if had == has && before == after {
		return nil, nil
	}
	path := field.NewPath("metadata", "annotations").Key(coopv1.AnnotationFailover)
	if has && after != coopv1.AcceptDataLoss {
		return field.ErrorList{field.NotSupported(path, after, []string{coopv1.AcceptDataLoss})}, nil
	}
	if user.Username == v.Hub.OperatorUsername {
		return nil, nil
	}
	var why string
	switch {
	case !has:
		why = "removing it cancels the failover a hub admin asked for, which the operator removes once done: only this hub's admins (who may delete this Cooperative) may remove it before"
	case coop.Spec.Standby != nil:
		why = "a failover promotes this standby without its home's demotion token, and loses what the home did not archive: only this hub's admins (who may delete this Cooperative) may ask for it"
	default:
		why = "a failover promotes the home without the token of the peer's copy that holds the primary, and loses what that copy did not archive: only someone who may delete this Cooperative (the hub's admins) may ask for it"
	}
	if coop.Spec.Standby != nil && coopv1.PeerIdentity(user.Username) {
		return field.ErrorList{field.Forbidden(path, why+", never a peer hub")}, nil
	}
	return v.hubOnly(ctx, user, coop, path, why)
}

// deleteBeforeMovedBackupErrors refuses an update that adds, changes or removes the
// annotation coopv1.AnnotationDeleteBeforeMovedBackup unless its sender may delete the
// Cooperative (the hub's admins; asked of the API server with a SubjectAccessReview): it
// lets a deletion with Delete remove the co-op's database and backups here before the copy
// at the hub it moved to has a backup of its own, and the co-op's admins may update their
// Cooperative, not delete it. A value other than coopv1.AcceptDataLoss is refused to
// anyone: the operator would act on none.
func (v *Validator) deleteBeforeMovedBackupErrors(ctx context.Context, old, coop *coopv1.Cooperative, user *sender) (field.ErrorList, error) {
	before, had := old.Annotations[coopv1.AnnotationDeleteBeforeMovedBackup]
	after, has := coop.Annotations[coopv1.AnnotationDeleteBeforeMovedBackup]
	if had == has && before == after {
		return nil, nil
	}
	path := field.NewPath("metadata", "annotations").Key(coopv1.AnnotationDeleteBeforeMovedBackup)
	if has && after != coopv1.AcceptDataLoss {
		return field.ErrorList{field.NotSupported(path, after, []string{coopv1.AcceptDataLoss})}, nil
	}
	if user.Username == v.Hub.OperatorUsername {
		return nil, nil
	}
	return v.hubOnly(ctx, user, coop, path,
		"deleting a co-op that moved before its copy at the other hub has a backup of its own gives up the only way back if that copy fails: only someone who may delete this Cooperative (the hub's admins) may set, change or remove it")
}

// lifecycleErrors refuses an update that removes one of the operator's finalizers
// (coop.cooperator.dev/*), adds a finalizer, or changes the ownerReferences, unless the
// operator sends it or its sender holds the hub's authority (hubAuthority: may delete the
// Cooperative, asked of the API server, and is no peer hub). The co-op's admins may update their Cooperative, not delete it: without
// the finalizer a deletion the hub started would skip the final backup and the tenant's
// cleanup; a finalizer of theirs would hold a deletion the hub started (and the co-op's
// name) for as long as they liked; and an owner reference to an object that does not exist
// would have the garbage collector delete the co-op for them.
func (v *Validator) lifecycleErrors(ctx context.Context, old, coop *coopv1.Cooperative, user *sender) (field.ErrorList, error) {
	if user.Username == v.Hub.OperatorUsername {
		return nil, nil
	}
	var changed field.ErrorList
	for _, f := range old.Finalizers {
		if strings.HasPrefix(f, coopv1.GroupVersion.Group+"/") && !slices.Contains(coop.Finalizers, f) {
			changed = append(changed, field.Forbidden(field.NewPath("metadata", "finalizers"),
				fmt.Sprintf("%s is the operator's: it removes it once the co-op's deletion is carried out; only someone who may delete this Cooperative (the hub's admins) may remove it by hand", f)))
		}
	}
	for _, f := range coop.Finalizers {
		if !slices.Contains(old.Finalizers, f) {
			changed = append(changed, field.Forbidden(field.NewPath("metadata", "finalizers"),
				fmt.Sprintf("%s would hold a deletion the hub starts, and the co-op's name, until it is removed: only someone who may delete this Cooperative (the hub's admins) may add a finalizer", f)))
		}
	}
	if !equality.Semantic.DeepEqual(old.OwnerReferences, coop.OwnerReferences) {
		changed = append(changed, field.Forbidden(field.NewPath("metadata", "ownerReferences"),
			"an owner makes the garbage collector delete the co-op with it: only someone who may delete this Cooperative (the hub's admins) may change them"))
	}
	if len(changed) == 0 {
		return nil, nil
	}
	ok, err := v.hubAuthority(ctx, user, coop)
	if err != nil || ok {
		return nil, err
	}
	return changed, nil
}

// suspendErrors refuses an update that sets or clears spec.suspend unless its sender may
// delete the Cooperative (the hub's admins; asked of the API server with a
// SubjectAccessReview). While suspended, the operator changes none of the co-op's objects:
// a co-op admin who could suspend it would hold back what the members vote (a passed
// proposal reaches the spec, not the policy the platform enforces) and what the hub sets
// (a plan's quota).
func (v *Validator) suspendErrors(ctx context.Context, old, coop *coopv1.Cooperative, user *sender) (field.ErrorList, error) {
	if old.Spec.Suspend == coop.Spec.Suspend || user.Username == v.Hub.OperatorUsername {
		return nil, nil
	}
	return v.hubOnly(ctx, user, coop, field.NewPath("spec", "suspend"),
		"suspending stops the operator from carrying out what the members vote and the hub sets: only someone who may delete this Cooperative (the hub's admins) may suspend or resume it")
}

// heldVotesErrors refuses an update that moves the co-op's primary database to a peer
// (spec.federation.primary set, or changed to another peer) while passed proposals wait
// for it to come home (status.governance.waitingAtPeerSince, which the operator records),
// unless its sender may delete the Cooperative (the hub's admins): a switchover holds back
// what the members voted, and the operator brings the primary home once they have waited
// the hub's maxVoteHoldAtPeer; a new one at once would hold them back again. A switchback
// (primary cleared) is always allowed.
func (v *Validator) heldVotesErrors(ctx context.Context, old, coop *coopv1.Cooperative, user *sender) (field.ErrorList, error) {
	to := coop.Spec.Federation.Primary
	if to == "" || to == old.Spec.Federation.Primary || user.Username == v.Hub.OperatorUsername ||
		old.Status.Governance == nil || old.Status.Governance.WaitingAtPeerSince == nil {
		return nil, nil
	}
	return v.hubOnly(ctx, user, coop, field.NewPath("spec", "federation", "primary"), fmt.Sprintf(
		"passed proposals have waited since %s for the co-op's primary database to come home and be applied (status.governance.waitingAtPeerSince): "+
			"switch over once the operator has applied them, or ask the hub's admins (who may delete this Cooperative)",
		old.Status.Governance.WaitingAtPeerSince.UTC().Format(time.RFC3339)))
}

// requester is the user who sent the request being judged.
func requester(ctx context.Context) (*sender, error) {
	req, err := admission.RequestFromContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the admission request: %w", err)
	}
	return &sender{UserInfo: req.UserInfo}, nil
}

// sender is the user who sent the request being judged, with the answers of the access
// reviews asked about them while judging it: each question is asked of the API server
// once a request, however many checks need its answer (a change of both spec.suspend and
// the backup schedule needs the hub's authority once).
type sender struct {
	authenticationv1.UserInfo
	answers map[authorizationv1.ResourceAttributes]bool
}

func invalid(coop *coopv1.Cooperative, errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(coopv1.GroupVersion.WithKind("Cooperative").GroupKind(), coop.Name, errs)
}

// governedErrors judges an update's changes of governed fields and of the break-glass
// annotations by who sends it.
func (v *Validator) governedErrors(old, coop *coopv1.Cooperative, user authenticationv1.UserInfo) (field.ErrorList, admission.Warnings) {
	if user.Username == v.Hub.OperatorUsername {
		return nil, nil
	}
	annotationsChanged := false
	for _, key := range coopv1.BreakGlassAnnotations {
		annotationsChanged = annotationsChanged || old.Annotations[key] != coop.Annotations[key] || hasKey(old.Annotations, key) != hasKey(coop.Annotations, key)
	}
	annotations := field.NewPath("metadata", "annotations")
	// A standby's governed fields follow its home co-op, where they are governed, and its
	// break-glass path is its home hub's: no one records one here. One that stops being a
	// standby is this hub's co-op, whose governance holds from that update on.
	if old.Spec.Standby != nil && coop.Spec.Standby != nil {
		if annotationsChanged {
			return field.ErrorList{field.Forbidden(annotations.Key(coopv1.AnnotationBreakGlassReason),
				"a standby's governed fields follow its home co-op: break-glass is used there, by its home hub, and the annotations are not set on a standby")}, nil
		}
		return nil, nil
	}
	changed := GovernedChanges(old, coop)
	if len(changed) == 0 && !annotationsChanged {
		return nil, nil
	}
	if v.Hub.BreakGlassGroup == "" || !slices.Contains(user.Groups, v.Hub.BreakGlassGroup) {
		var errs field.ErrorList
		for _, f := range changed {
			errs = append(errs, field.Forbidden(GovernedPath(f),
				"governed by the co-op's members (spec.governance.governedFields): it changes only through a passed proposal, which the operator applies"))
		}
		if annotationsChanged {
			errs = append(errs, field.Forbidden(annotations.Key(coopv1.AnnotationBreakGlassReason),
				"the break-glass annotations are set only by the hub's break-glass group, with the change they record, and removed only by the operator once recorded"))
		}
		return errs, nil
	}
	// A member of the break-glass group.
	if len(changed) == 0 {
		return field.ErrorList{field.Forbidden(annotations.Key(coopv1.AnnotationBreakGlassReason),
			"the break-glass annotations come only with the change of governed fields they record, in the same update; the operator removes them once recorded")}, nil
	}
	for _, key := range coopv1.BreakGlassAnnotations {
		if hasKey(old.Annotations, key) {
			return field.ErrorList{field.Forbidden(annotations.Key(key),
				fmt.Sprintf("the previous break-glass use (by %s) is not recorded yet: retry once the operator has recorded it in status.breakGlass and removed its annotations", old.Annotations[coopv1.AnnotationBreakGlassBy]))}, nil
		}
	}
	var errs field.ErrorList
	reason := strings.TrimSpace(coop.Annotations[coopv1.AnnotationBreakGlassReason])
	switch {
	case reason == "":
		errs = append(errs, field.Required(annotations.Key(coopv1.AnnotationBreakGlassReason),
			fmt.Sprintf("%s governed by the co-op's members: a break-glass change states why in this annotation", joinFields(changed))))
	case len(reason) > coopv1.MaxBreakGlassReasonLength:
		errs = append(errs, field.TooLong(annotations.Key(coopv1.AnnotationBreakGlassReason), "", coopv1.MaxBreakGlassReasonLength))
	}
	if by := coop.Annotations[coopv1.AnnotationBreakGlassBy]; by != user.Username {
		errs = append(errs, field.Invalid(annotations.Key(coopv1.AnnotationBreakGlassBy), by,
			fmt.Sprintf("must be your own user name, %q: a break-glass use is recorded under who made it", user.Username)))
	}
	if got, want := coop.Annotations[coopv1.AnnotationBreakGlassFields], joinFields(changed); got != want {
		errs = append(errs, field.Invalid(annotations.Key(coopv1.AnnotationBreakGlassFields), got,
			fmt.Sprintf("must list exactly the governed fields this update changes: %q", want)))
	}
	if want, err := BreakGlassValues(old, coop); err != nil || coop.Annotations[coopv1.AnnotationBreakGlassValues] != want {
		errs = append(errs, field.Forbidden(annotations.Key(coopv1.AnnotationBreakGlassValues),
			"holds the changed parts' values before and after this update, as the operator's mutating webhook writes them into it: leave it out (and if it is missing, retry once that webhook answers)"))
	}
	if len(errs) > 0 {
		return errs, nil
	}
	return nil, admission.Warnings{fmt.Sprintf("break-glass: the change of %s is recorded in status.breakGlass, as an event, and shown to the co-op's members", joinFields(changed))}
}

func hasKey(m map[string]string, key string) bool {
	_, ok := m[key]
	return ok
}

func joinFields(fields []coopv1.GovernedField) string {
	s := make([]string, len(fields))
	for i, f := range fields {
		s[i] = string(f)
	}
	return strings.Join(s, ",")
}

// GovernedChanges lists the governed parts of the spec that differ between old and coop, in
// the order of coopv1.GovernedFields. What is governed is read from old: a change that
// removes a field from governedFields is itself a change of governance, governed as soon as
// the list is not empty.
func GovernedChanges(old, coop *coopv1.Cooperative) []coopv1.GovernedField {
	rules := policy.GovernanceFromSpec(old.Spec.Governance)
	var out []coopv1.GovernedField
	for _, f := range coopv1.GovernedFields {
		if rules.Governs(string(f)) && !equality.Semantic.DeepEqual(governedPart(old, f), governedPart(coop, f)) {
			out = append(out, f)
		}
	}
	return out
}

// governedPart is the part of the spec a governed field names (policy.SpecField; the
// federation part is its peers: primary, a switchover, is the co-op admins').
func governedPart(coop *coopv1.Cooperative, f coopv1.GovernedField) any {
	if f == coopv1.GovernedFederation {
		return coop.Spec.Federation.Peers
	}
	part, _ := policy.SpecField(&coop.Spec, string(f))
	return part
}

// TimeZoneWarning is said when a co-op sets or changes its time zone: the policy document
// carries it, and a platform older than the field refuses a document with a field it does
// not know (it keeps the policy it had; a new pod of it has none, and answers 503).
const TimeZoneWarning = "spec.platform.timeZone: the co-op's platform must be a version that reads the time zone (this operator's release or later); an older platform refuses the policy document that carries it and keeps the policy it had"

// ApprovalFractionWarning is said when a co-op sets or changes its approval fraction: the
// policy document carries it, which a platform of a version before it refuses (it keeps
// the policy it had; a new pod of it has none, and answers 503).
const ApprovalFractionWarning = "spec.governance.approvalFraction: the co-op's platform must be a version that reads it (this operator's release or later); an older platform refuses the policy document that carries it and keeps the policy it had"

// GovernedPath is the spec path a governed field names.
func GovernedPath(f coopv1.GovernedField) *field.Path {
	if f == coopv1.GovernedFederation {
		return field.NewPath("spec", "federation", "peers")
	}
	return field.NewPath("spec", string(f))
}

// validate checks a co-op against the objects it names and the hub's bounds; old is nil on
// create.
func (v *Validator) validate(ctx context.Context, old, coop *coopv1.Cooperative, user *sender) (admission.Warnings, field.ErrorList, error) {
	var warnings admission.Warnings
	var errs field.ErrorList
	spec := field.NewPath("spec")

	planName, err := effectivePlan(ctx, v.Client, coop)
	if err != nil {
		return nil, nil, err
	}
	plan := &coopv1.HostingPlan{}
	switch err := v.Client.Get(ctx, client.ObjectKey{Name: planName}, plan); {
	case apierrors.IsNotFound(err):
		warnings = append(warnings, fmt.Sprintf("spec.plan: HostingPlan %q does not exist yet; the co-op stays Stalled until it does", planName))
		plan = nil
	case err != nil:
		return nil, nil, fmt.Errorf("reading HostingPlan %s: %w", planName, err)
	default:
		errs = append(errs, planErrors(coop, plan, spec)...)
	}

	tmpl := &coopv1.PlatformTemplate{}
	switch err := v.Client.Get(ctx, client.ObjectKey{Name: coop.TemplateName()}, tmpl); {
	case apierrors.IsNotFound(err):
		warnings = append(warnings, fmt.Sprintf("spec.platform.template: PlatformTemplate %q does not exist yet; the platform waits for it", coop.TemplateName()))
	case err != nil:
		return nil, nil, fmt.Errorf("reading PlatformTemplate %s: %w", coop.TemplateName(), err)
	default:
		if tmpl.Spec.Vertical != coop.Spec.Vertical {
			errs = append(errs, field.Invalid(spec.Child("platform", "template"), coop.TemplateName(),
				fmt.Sprintf("PlatformTemplate %q serves vertical %s, the co-op is %s", tmpl.Name, tmpl.Spec.Vertical, coop.Spec.Vertical)))
		} else if version := coop.Spec.Platform.Version; version != "" && tmpl.Version(version) == nil {
			errs = append(errs, field.NotSupported(spec.Child("platform", "version"), version, templateVersions(tmpl)))
		}
	}
	errs = append(errs, scheduleErrors(coop, spec)...)
	// The zone is checked when it is new or changes: a name an older time zone database
	// knew and a newer one dropped refuses no unrelated update.
	if tz := coop.Spec.Platform.TimeZone; tz != "" && (old == nil || old.Spec.Platform.TimeZone != tz) {
		if _, err := policy.LoadTimeZone(tz); err != nil {
			errs = append(errs, field.Invalid(spec.Child("platform", "timeZone"), tz, policy.TimeZoneRule))
		} else {
			warnings = append(warnings, TimeZoneWarning)
		}
	}

	if f := coop.Spec.Governance.ApprovalFraction; f != "" && (old == nil || old.Spec.Governance.ApprovalFraction != f) {
		warnings = append(warnings, ApprovalFractionWarning)
	}

	boundWarnings, boundErrs, err := v.boundErrors(ctx, old, coop, plan, user)
	if err != nil {
		return nil, nil, err
	}
	warnings = append(warnings, boundWarnings...)
	errs = append(errs, boundErrs...)
	return warnings, errs, nil
}

// boundErrors checks what anyone may choose directly, each rule when its field is new or
// changes; plan is nil when it does not exist.
//
// A standby, which a peer hub writes, is held to the rules that protect this hub's own
// co-ops and users: it names no admin the hub reserves, and takes no host another co-op
// here holds (its Ingress would claim that co-op's traffic). Its host may lie outside this
// hub's domains (it is its home hub's, which a switchover points here), its plan is the
// one its FederationPeer accepts it with, and its peers are its home's. Its backup schedule
// and retention are held to a co-op's limits with no exemption.
func (v *Validator) boundErrors(ctx context.Context, old, coop *coopv1.Cooperative, plan *coopv1.HostingPlan, user *sender) (admission.Warnings, field.ErrorList, error) {
	var warnings admission.Warnings
	var errs field.ErrorList
	spec := field.NewPath("spec")
	standby := coop.Spec.Standby != nil

	if old == nil || !equality.Semantic.DeepEqual(old.Spec.Admins, coop.Spec.Admins) {
		errs = append(errs, ReservedAdminErrors(&v.Hub, coop.Spec.Admins, spec.Child("admins"))...)
	}

	if host := coop.Spec.Platform.Host; host != "" && (old == nil || old.Spec.Platform.Host != host) {
		path := spec.Child("platform", "host")
		if !standby && !v.Hub.HostAllowed(host) {
			errs = append(errs, field.Invalid(path, host, fmt.Sprintf("must be one of the domains this hub allows, or a name below one: %s", strings.Join(v.Hub.AllowedHostDomains, ", "))))
		} else {
			var same coopv1.CooperativeList
			if err := v.Client.List(ctx, &same, client.MatchingFields{HostIndex: host}); err != nil {
				return nil, nil, fmt.Errorf("listing the co-ops of host %s: %w", host, err)
			}
			served, err := servedByOther(ctx, v.Client, host, coop.Name)
			if err != nil {
				return nil, nil, err
			}
			// A co-op being deleted holds its host no longer (nor does its Ingress): the
			// reconciler gives the host to the next claimant as the deletion starts.
			if served || slices.ContainsFunc(same.Items, func(other coopv1.Cooperative) bool {
				return other.Name != coop.Name && other.DeletionTimestamp.IsZero()
			}) {
				errs = append(errs, field.Invalid(path, host, "is already the host of another co-op of this hub: each co-op has its own"))
			} else if foreign, err := servedOutsideCoops(ctx, v.APIReader, host); err != nil {
				return nil, nil, err
			} else if foreign {
				errs = append(errs, field.Invalid(path, host, "is served by an Ingress of this cluster that is no co-op's: a co-op takes no host the hub or anyone else serves"))
			}
		}
	}

	// The backup limits: a co-op past them is the hub's to allow (hubOnly). A standby is held
	// to them with no exemption: its home's hub may grant its own co-ops more on its bill,
	// not on this hub's, and may delete its standbys here, which is no mark of this hub's
	// admins. Its home sends it within them (policy.StandbyBackup). A shared-tier co-op
	// takes no backup schedule of its own.
	var was coopv1.BackupSpec
	if old != nil {
		was = old.Spec.Backup
	}
	for _, limit := range []struct {
		name, value, was string
		over             func(string) string
	}{
		{"schedule", coop.Spec.Backup.Schedule, was.Schedule, policy.ScheduleOverLimit},
		{"retention", coop.Spec.Backup.Retention, was.Retention, policy.RetentionOverLimit},
	} {
		if limit.value == "" || (old != nil && limit.value == limit.was) || (limit.name == "schedule" && coop.Spec.Database.Tier == coopv1.DatabaseTierShared) {
			continue
		}
		msg := limit.over(limit.value)
		if msg == "" {
			continue
		}
		path := spec.Child("backup", limit.name)
		if standby {
			errs = append(errs, field.Forbidden(path, msg+"; a standby is held to the backup limits of this hub's co-ops whoever writes it (its home sends it within them)"))
			continue
		}
		refused, err := v.hubOnly(ctx, user, coop, path, msg)
		if err != nil {
			return nil, nil, err
		}
		errs = append(errs, refused...)
	}
	if standby {
		return warnings, errs, nil
	}

	// A standby the operator adopts (a move) takes the plan its FederationPeer accepted it
	// with, which the hub chose; anyone else is asked.
	adopting := old != nil && old.Spec.Standby != nil && user.Username == v.Hub.OperatorUsername
	if plan != nil && !plan.Spec.SelfService && (old == nil || (old.Spec.Plan != coop.Spec.Plan && !adopting)) {
		hub, err := v.mayUpdate(ctx, user, plan.Name)
		if err != nil {
			return nil, nil, err
		}
		if !hub {
			errs = append(errs, field.Forbidden(spec.Child("plan"),
				fmt.Sprintf("HostingPlan %s is not self-service: only the hub puts a co-op on it; ask the hub's admins", plan.Name)))
		}
	}

	var oldPeers []coopv1.FederationPeerRef
	if old != nil {
		oldPeers = old.Spec.Federation.Peers
	}
	for i, p := range coop.Spec.Federation.Peers {
		if slices.ContainsFunc(oldPeers, func(o coopv1.FederationPeerRef) bool { return o.Name == p.Name }) {
			continue
		}
		peer := &coopv1.FederationPeer{}
		err := v.Client.Get(ctx, client.ObjectKey{Name: p.Name}, peer)
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, nil, fmt.Errorf("reading FederationPeer %s: %w", p.Name, err)
		}
		if err == nil && peer.DeletionTimestamp.IsZero() {
			continue
		}
		if old == nil {
			warnings = append(warnings, fmt.Sprintf("spec.federation.peers[%d].name: this hub declares no FederationPeer %q (yet); nothing is sent to it until it does", i, p.Name))
			continue
		}
		errs = append(errs, field.Invalid(spec.Child("federation", "peers").Index(i).Child("name"), p.Name,
			"this hub declares no such FederationPeer: a co-op consents only to peers the hub has declared; ask the hub's admins"))
	}
	return warnings, errs, nil
}

// ReservedAdminErrors refuses admins that are users or groups the hub reserves, and the
// identities of peer hubs (a peer writes standbys; it administers no co-op here, not even
// its own standbys, whose admins would read their database's credentials).
func ReservedAdminErrors(hub *hubconfig.Config, admins []coopv1.Subject, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, a := range admins {
		if a.Kind == rbacv1.UserKind && strings.HasPrefix(a.Name, coopv1.PeerUserPrefix) {
			errs = append(errs, field.Forbidden(path.Index(i).Child("name"),
				fmt.Sprintf("user %s is a peer hub's identity (%s<region>): a peer hub writes standbys and administers no co-op", a.Name, coopv1.PeerUserPrefix)))
			continue
		}
		if a.Kind != "ServiceAccount" && hub.Reserved(a.Kind, a.Name) {
			errs = append(errs, field.Forbidden(path.Index(i).Child("name"),
				fmt.Sprintf("%s %s is reserved by the hub (hub setting reserved%ss): name the co-op's own admins", strings.ToLower(a.Kind), a.Name, a.Kind)))
		}
	}
	return errs
}

// mayUpdate asks the API server whether the requester may update a HostingPlan: the mark
// of the hub.
func (v *Validator) mayUpdate(ctx context.Context, user *sender, plan string) (bool, error) {
	return v.may(ctx, user, authorizationv1.ResourceAttributes{Group: coopv1.GroupVersion.Group, Resource: "hostingplans", Verb: "update", Name: plan})
}

// mayDelete asks the API server whether the requester may delete the Cooperative: the
// authority a move and a suspension need, which the hub's admins have and a co-op's do not.
func (v *Validator) mayDelete(ctx context.Context, user *sender, coop string) (bool, error) {
	return v.may(ctx, user, authorizationv1.ResourceAttributes{Group: coopv1.GroupVersion.Group, Resource: "cooperatives", Verb: "delete", Name: coop})
}

// may asks the API server whether the requester may do what attr says, once a request.
func (v *Validator) may(ctx context.Context, user *sender, attr authorizationv1.ResourceAttributes) (bool, error) {
	if ok, asked := user.answers[attr]; asked {
		return ok, nil
	}
	ok, err := may(ctx, v.Reviews, user.UserInfo, attr)
	if err != nil {
		return false, err
	}
	if user.answers == nil {
		user.answers = map[authorizationv1.ResourceAttributes]bool{}
	}
	user.answers[attr] = ok
	return ok, nil
}

// may asks the API server, with a SubjectAccessReview written through reviews, whether user
// may do what attr says.
func may(ctx context.Context, reviews client.Writer, user authenticationv1.UserInfo, attr authorizationv1.ResourceAttributes) (bool, error) {
	extra := make(map[string]authorizationv1.ExtraValue, len(user.Extra))
	for k, val := range user.Extra {
		extra[k] = authorizationv1.ExtraValue(val)
	}
	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user.Username, UID: user.UID, Groups: user.Groups, Extra: extra, ResourceAttributes: &attr,
	}}
	if err := reviews.Create(ctx, review); err != nil {
		return false, fmt.Errorf("asking whether %s may %s %s %s: %w", user.Username, attr.Verb, attr.Resource, attr.Name, err)
	}
	return review.Status.Allowed, nil
}

// scheduleErrors parses the backup schedule as CloudNativePG's ScheduledBackup webhook does
// (policy.ParseSchedule). The CRD only counts the schedule's fields.
func scheduleErrors(coop *coopv1.Cooperative, spec *field.Path) field.ErrorList {
	schedule := coop.Spec.Backup.Schedule
	if schedule == "" || coop.Spec.Database.Tier == coopv1.DatabaseTierShared {
		return nil
	}
	if err := policy.ParseSchedule(schedule); err != nil {
		return field.ErrorList{field.Invalid(spec.Child("backup", "schedule"), schedule, err.Error())}
	}
	return nil
}

// planErrors are the ways the spec asks for more than its plan allows, each on its field.
func planErrors(coop *coopv1.Cooperative, plan *coopv1.HostingPlan, spec *field.Path) field.ErrorList {
	var errs field.ErrorList
	db := coop.Spec.Database
	dbPath := spec.Child("database")
	if len(plan.Spec.DatabaseTiers) > 0 {
		allowed := false
		tiers := make([]string, 0, len(plan.Spec.DatabaseTiers))
		for _, t := range plan.Spec.DatabaseTiers {
			allowed = allowed || t == db.Tier
			tiers = append(tiers, string(t))
		}
		if !allowed {
			errs = append(errs, field.Invalid(dbPath.Child("tier"), db.Tier, fmt.Sprintf("plan %s allows only %v", plan.Name, tiers)))
		}
	}
	if db.Tier != coopv1.DatabaseTierDedicated {
		return errs
	}
	if plan.Spec.MaxDatabaseInstances > 0 && db.Instances > plan.Spec.MaxDatabaseInstances {
		errs = append(errs, field.Invalid(dbPath.Child("instances"), db.Instances,
			fmt.Sprintf("plan %s allows at most %d database instances", plan.Name, plan.Spec.MaxDatabaseInstances)))
	}
	need := db.Storage.DeepCopy()
	need.Mul(int64(db.Instances))
	if need.Cmp(plan.Spec.Quota.Storage) > 0 {
		errs = append(errs, field.Invalid(dbPath.Child("storage"), db.Storage.String(),
			fmt.Sprintf("plan %s allows %s of storage in all, %d instances of %s need %s", plan.Name, plan.Spec.Quota.Storage.String(), db.Instances, db.Storage.String(), need.String())))
	}
	return errs
}

func templateVersions(t *coopv1.PlatformTemplate) []string {
	out := make([]string, 0, len(t.Spec.Versions))
	for _, v := range t.Spec.Versions {
		out = append(out, v.Version)
	}
	return out
}
