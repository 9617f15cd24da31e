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
	"fmt"

	"github.com/robfig/cron"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// +kubebuilder:webhook:path=/validate-coop-cooperator-dev-v1alpha1-cooperative,mutating=false,failurePolicy=fail,sideEffects=None,groups=coop.cooperator.dev,resources=cooperatives,verbs=create;update,versions=v1alpha1,name=vcooperative.coop.cooperator.dev,admissionReviewVersions=v1,timeoutSeconds=5

// Validator checks what CEL cannot see, because it lies in another object: that the
// co-op's HostingPlan allows its database, and that its PlatformTemplate serves its vertical
// and has the pinned version. A plan or template that does not exist yet is only a warning,
// so that manifests applied together (GitOps) are not refused for their order; the co-op is
// then Stalled until the object appears.
type Validator struct {
	Client client.Reader
}

var _ admission.Validator[*coopv1.Cooperative] = &Validator{}

// SetupWebhookWithManager registers the validating webhook.
func (v *Validator) SetupWebhookWithManager(mgr ctrl.Manager) error {
	return ctrl.NewWebhookManagedBy(mgr, &coopv1.Cooperative{}).WithValidator(v).Complete()
}

// ValidateCreate checks a new co-op against its plan and template.
func (v *Validator) ValidateCreate(ctx context.Context, coop *coopv1.Cooperative) (admission.Warnings, error) {
	return v.validate(ctx, coop)
}

// ValidateUpdate checks a changed co-op against its plan and template. A co-op being
// deleted is not checked: its finalizer must be able to finish.
func (v *Validator) ValidateUpdate(ctx context.Context, _, coop *coopv1.Cooperative) (admission.Warnings, error) {
	if !coop.DeletionTimestamp.IsZero() {
		return nil, nil
	}
	return v.validate(ctx, coop)
}

// ValidateDelete allows every deletion; the deletion policy is carried out by the finalizer.
func (v *Validator) ValidateDelete(context.Context, *coopv1.Cooperative) (admission.Warnings, error) {
	return nil, nil
}

func (v *Validator) validate(ctx context.Context, coop *coopv1.Cooperative) (admission.Warnings, error) {
	var warnings admission.Warnings
	var errs field.ErrorList
	spec := field.NewPath("spec")

	planName, err := effectivePlan(ctx, v.Client, coop)
	if err != nil {
		return nil, err
	}
	plan := &coopv1.HostingPlan{}
	switch err := v.Client.Get(ctx, client.ObjectKey{Name: planName}, plan); {
	case apierrors.IsNotFound(err):
		warnings = append(warnings, fmt.Sprintf("spec.plan: HostingPlan %q does not exist yet; the co-op stays Stalled until it does", planName))
	case err != nil:
		return nil, fmt.Errorf("reading HostingPlan %s: %w", planName, err)
	default:
		errs = append(errs, planErrors(coop, plan, spec)...)
	}

	tmpl := &coopv1.PlatformTemplate{}
	switch err := v.Client.Get(ctx, client.ObjectKey{Name: templateName(coop)}, tmpl); {
	case apierrors.IsNotFound(err):
		warnings = append(warnings, fmt.Sprintf("spec.platform.template: PlatformTemplate %q does not exist yet; the platform waits for it", templateName(coop)))
	case err != nil:
		return nil, fmt.Errorf("reading PlatformTemplate %s: %w", templateName(coop), err)
	default:
		if tmpl.Spec.Vertical != coop.Spec.Vertical {
			errs = append(errs, field.Invalid(spec.Child("platform", "template"), templateName(coop),
				fmt.Sprintf("PlatformTemplate %q serves vertical %s, the co-op is %s", tmpl.Name, tmpl.Spec.Vertical, coop.Spec.Vertical)))
		} else if version := coop.Spec.Platform.Version; version != "" && tmpl.Version(version) == nil {
			errs = append(errs, field.NotSupported(spec.Child("platform", "version"), version, templateVersions(tmpl)))
		}
	}
	errs = append(errs, scheduleErrors(coop, spec)...)
	if len(errs) > 0 {
		return warnings, apierrors.NewInvalid(coopv1.GroupVersion.WithKind("Cooperative").GroupKind(), coop.Name, errs)
	}
	return warnings, nil
}

// scheduleErrors parses the backup schedule as CloudNativePG's ScheduledBackup webhook does
// (with the cron parser and version of CloudNativePG 1.29), so that a schedule it would
// refuse is refused here, where the co-op's admins see it, and not later on BackupReady.
// The CRD only counts the schedule's fields.
func scheduleErrors(coop *coopv1.Cooperative, spec *field.Path) field.ErrorList {
	schedule := coop.Spec.Backup.Schedule
	if schedule == "" || coop.Spec.Database.Tier == coopv1.DatabaseTierShared {
		return nil
	}
	if _, err := cron.Parse(schedule); err != nil {
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
