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
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"syscall"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	"github.com/spf13/cobra"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
)

// Exit codes of the CLI. Scripts can tell these apart; the message says the rest.
const (
	// ExitOK: done.
	ExitOK = 0
	// ExitError: the cluster refused or the operation failed (a backup that failed, say).
	ExitError = 1
	// ExitUsage: bad arguments or flags.
	ExitUsage = 2
	// ExitUnreachable: no kubeconfig, or the cluster did not answer.
	ExitUnreachable = 3
	// ExitForbidden: the cluster did not accept the credentials, or RBAC forbids it.
	ExitForbidden = 4
	// ExitNotFound: the object named does not exist.
	ExitNotFound = 5
	// ExitTimeout: what the command waited for did not happen within --timeout.
	ExitTimeout = 6
	// ExitInterrupted: the command was stopped (Ctrl-C, SIGTERM) before it was done; 130,
	// as shells report a process that SIGINT ended.
	ExitInterrupted = 130
)

// exitError is an error with the exit code it ends the process with.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// ExitCode is the exit code of an error the CLI returned.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return ExitError
}

// usageArgs makes the argument errors of cmd and its subcommands (cobra.ExactArgs and the
// like, whose errors have no type of their own) usage errors.
func usageArgs(cmd *cobra.Command) {
	if check := cmd.Args; check != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := check(c, args); err != nil {
				return usageError(err)
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		usageArgs(sub)
	}
}

func usageError(err error) error { return &exitError{code: ExitUsage, err: err} }

func usageErrorf(format string, args ...any) error {
	return usageError(fmt.Errorf(format, args...))
}

// scheme holds the kinds the CLI reads and writes.
func scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(coopv1.AddToScheme(s))
	utilruntime.Must(cnpgv1.AddToScheme(s))
	return s
}

// restConfig finds the cluster as kubectl does, and refuses the silent fallback of
// client-go to http://localhost:8080 when no kubeconfig was found.
func (r *root) restConfig() (*rest.Config, error) {
	cfg, err := r.flags.ToRESTConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, noKubeconfig()
		}
		return nil, &exitError{code: ExitUnreachable, err: fmt.Errorf("loading the kubeconfig: %w", err)}
	}
	if r.flags.APIServer == nil || *r.flags.APIServer == "" {
		raw, rawErr := r.flags.ToRawKubeConfigLoader().RawConfig()
		if rawErr == nil && len(raw.Clusters) == 0 && isLocalhost8080(cfg.Host) {
			return nil, noKubeconfig()
		}
	}
	return cfg, nil
}

func isLocalhost8080(host string) bool {
	h := strings.TrimPrefix(strings.TrimPrefix(host, "http://"), "https://")
	return h == "localhost:8080" || h == "127.0.0.1:8080"
}

func noKubeconfig() error {
	return &exitError{code: ExitUnreachable, err: errors.New("no kubeconfig found (looked at --kubeconfig, KUBECONFIG and ~/.kube/config; not running in a pod): " +
		"client-go would fall back to http://localhost:8080, which is almost never a cluster. Point --kubeconfig or KUBECONFIG at your hub's kubeconfig, or pass --server")}
}

// client connects to the cluster.
func (r *root) client() (client.Client, error) {
	cfg, err := r.restConfig()
	if err != nil {
		return nil, err
	}
	cl, err := client.New(cfg, client.Options{Scheme: scheme()})
	if err != nil {
		return nil, explain(err, "connecting to the cluster at "+cfg.Host)
	}
	return cl, nil
}

// explain turns an error of the API into one a person understands, with its exit code.
// what says what the command was doing ("reading Cooperative fairride-lyon").
func explain(err error, what string) error {
	if err == nil {
		return nil
	}
	var e *exitError
	if errors.As(err, &e) {
		return err
	}
	switch {
	case apierrors.IsNotFound(err):
		return &exitError{code: ExitNotFound, err: fmt.Errorf("%s: not found", what)}
	case apierrors.IsForbidden(err) && quotaExceeded(err):
		// A refusal of the API server (403 all the same), not a lack of rights.
		return &exitError{code: ExitError, err: fmt.Errorf("%s: refused: %s", what, apiMessage(err))}
	case apierrors.IsForbidden(err):
		return &exitError{code: ExitForbidden, err: fmt.Errorf("%s: forbidden: %s. Co-op admins may read and change only their own co-op; ask a hub admin for more", what, apiMessage(err))}
	case apierrors.IsUnauthorized(err):
		return &exitError{code: ExitForbidden, err: fmt.Errorf("%s: the cluster did not accept your credentials (Unauthorized); log in again or check --context", what)}
	// A request cut off by Ctrl-C or by the command's deadline fails as a *url.Error, which
	// isUnreachable would take for the cluster's silence: these first.
	case errors.Is(err, context.Canceled):
		return &exitError{code: ExitInterrupted, err: fmt.Errorf("%s: interrupted", what)}
	case deadlineExceeded(err):
		return &exitError{code: ExitTimeout, err: fmt.Errorf("%s: timed out", what)}
	case isUnreachable(err):
		return &exitError{code: ExitUnreachable, err: fmt.Errorf("%s: cannot reach the cluster: %w. Check --context, --kubeconfig and your network", what, rootCause(err))}
	case meta.IsNoMatchError(err) || isNoKind(err):
		return &exitError{code: ExitError, err: fmt.Errorf("%s: the cluster does not know this kind: is the cooperator operator (or CloudNativePG) installed? (%w)", what, err)}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// interrupted says whether err, or the end of ctx, comes of the command being stopped
// (Ctrl-C, SIGTERM: its context canceled), rather than of its deadline.
func interrupted(ctx context.Context, err error) bool {
	return errors.Is(ctx.Err(), context.Canceled) || (err != nil && (errors.Is(err, context.Canceled) || ExitCode(err) == ExitInterrupted))
}

// goesOn adds to the error of a command stopped while it waited (interrupted, or at
// --timeout) what goes on without it, and how to take it up again.
func goesOn(err error, what string) error {
	var e *exitError
	if errors.As(err, &e) && (e.code == ExitInterrupted || e.code == ExitTimeout) {
		return &exitError{code: e.code, err: fmt.Errorf("%w; %s", e.err, what)}
	}
	return err
}

// deadlineExceeded tells an error of a request cut by the command's deadline: the
// context's own, or client-go's rate limiter refusing to wait past the deadline (its error,
// from golang.org/x/time/rate, wraps no sentinel: it is known by its text).
func deadlineExceeded(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "would exceed context deadline")
}

// quotaExceeded tells the API server's refusal of a create over a ResourceQuota, which it
// answers as Forbidden, with no reason or cause of its own: by its message.
func quotaExceeded(err error) bool {
	return strings.Contains(apiMessage(err), "exceeded quota: ")
}

func apiMessage(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return status.Status().Message
	}
	return err.Error()
}

func isNoKind(err error) bool {
	return strings.Contains(err.Error(), "no matches for kind") || strings.Contains(err.Error(), "the server could not find the requested resource")
}

func isUnreachable(err error) bool {
	var netErr net.Error
	var urlErr *url.Error
	var dnsErr *net.DNSError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &dnsErr) || errors.As(err, &urlErr) || errors.As(err, &netErr) ||
		strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "no such host")
}

func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// listCooperatives lists the co-ops the caller may see. A co-op admin may not list (RBAC
// cannot filter a list by name), but may get their own: then the co-ops named in the
// caller's own rules are read one by one, and byName says so.
func (r *root) listCooperatives(ctx context.Context, cl client.Client) (coops []coopv1.Cooperative, byName bool, err error) {
	var list coopv1.CooperativeList
	err = cl.List(ctx, &list)
	if err == nil {
		return list.Items, false, nil
	}
	if !apierrors.IsForbidden(err) {
		return nil, false, explain(err, "listing Cooperatives")
	}
	names, rulesErr := r.readableCooperatives(ctx, cl)
	if rulesErr != nil || len(names) == 0 {
		return nil, false, explain(err, "listing Cooperatives")
	}
	for _, name := range names {
		coop := &coopv1.Cooperative{}
		if getErr := cl.Get(ctx, client.ObjectKey{Name: name}, coop); getErr != nil {
			if apierrors.IsNotFound(getErr) || apierrors.IsForbidden(getErr) {
				continue
			}
			return nil, true, explain(getErr, "reading Cooperative "+name)
		}
		coops = append(coops, *coop)
	}
	return coops, true, nil
}

// readableCooperatives are the Cooperatives the caller's RBAC rules let them get by name,
// from a SelfSubjectRulesReview (which lists cluster-wide rules too).
func (r *root) readableCooperatives(ctx context.Context, cl client.Client) ([]string, error) {
	review := &authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: "default"}}
	if err := cl.Create(ctx, review); err != nil {
		return nil, err
	}
	return cooperativesInRules(review.Status.ResourceRules), nil
}

// cooperativesInRules picks the co-op names that rules allow to get.
func cooperativesInRules(rules []authorizationv1.ResourceRule) []string {
	seen := map[string]bool{}
	var names []string
	for _, rule := range rules {
		if !has(rule.APIGroups, coopv1.GroupVersion.Group) || !has(rule.Resources, "cooperatives") || !has(rule.Verbs, "get") {
			continue
		}
		for _, n := range rule.ResourceNames {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	return names
}

func has(list []string, want string) bool {
	return slices.Contains(list, want) || slices.Contains(list, "*")
}

// reads is the RunE of a read command: its -o format (output, read when the command runs)
// checked first, then the client run needs.
func (r *root) reads(output *string, run func(c *cobra.Command, cl client.Client, args []string) error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		if err := checkOutput(*output); err != nil {
			return err
		}
		cl, err := r.client()
		if err != nil {
			return err
		}
		return run(c, cl, args)
	}
}

// onCooperative is the RunE of a command on the one co-op its argument names: the client,
// then the co-op, read before run acts on it.
func (r *root) onCooperative(run func(c *cobra.Command, cl client.Client, coop *coopv1.Cooperative) error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		cl, err := r.client()
		if err != nil {
			return err
		}
		coop, err := r.getCooperative(c.Context(), cl, args[0])
		if err != nil {
			return err
		}
		return run(c, cl, coop)
	}
}
