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

package costreport

import (
	"context"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// DecimalsWebhookPath is where the manager serves DecimalsWebhook.
const DecimalsWebhookPath = "/mutate-coop-cooperator-dev-v1alpha1-costreport-decimals"

// +kubebuilder:webhook:path=/mutate-coop-cooperator-dev-v1alpha1-costreport-decimals,mutating=true,failurePolicy=ignore,sideEffects=None,groups=coop.cooperator.dev,resources=costreports,verbs=create;update,versions=v1alpha1,name=mcostreport-decimals.coop.cooperator.dev,admissionReviewVersions=v1,timeoutSeconds=5,reinvocationPolicy=Never

// DecimalsWebhook refuses a CostReport whose decimal fields hold an unquoted number with
// decimals, saying to quote it (coopv1.UnquotedDecimals). It is a mutating webhook that
// never mutates: the API server calls mutating webhooks before it checks the schema, and
// the schema alone can only say "must be of type integer,string". Its failure policy is
// Ignore: while the operator is down the schema still refuses the same objects, with its
// own words.
func DecimalsWebhook() *webhook.Admission {
	return &webhook.Admission{Handler: admission.HandlerFunc(func(_ context.Context, req admission.Request) admission.Response {
		errs, err := coopv1.UnquotedDecimals(&coopv1.CostReport{}, req.Object.Raw)
		if err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
		if len(errs) > 0 {
			gk := coopv1.GroupVersion.WithKind("CostReport").GroupKind()
			return admission.Errored(http.StatusUnprocessableEntity, apierrors.NewInvalid(gk, req.Name, errs))
		}
		return admission.Allowed("")
	})}
}
