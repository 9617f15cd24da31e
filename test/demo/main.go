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

// Command demo runs cooperator on a control plane it starts itself (etcd and kube-apiserver
// built from source by hack/envtest.sh): it installs the project's CRDs and CloudNativePG's,
// runs the operator in-process, applies the sample co-ops and plays the part of what cannot
// run without nodes (CloudNativePG's instances and backups, the Deployment controller),
// saying so in its output. It prints each co-op's state until all are Ready, shows one
// governed change voted by fairride-lyon's members and applied by the operator (see
// demoGovernance for what it simulates), writes a kubeconfig for kubectl, and stays up
// until Ctrl-C (or exits with --once).
//
//	make demo                      # or: go run ./test/demo
//	make demo DEMO_FLAGS=--once    # exit 0 once every co-op is Ready, 1 on timeout
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	coopv1 "github.com/cooperator-dev/cooperator/api/v1alpha1"
	"github.com/cooperator-dev/cooperator/controllers/cmd/manager"
	"github.com/cooperator-dev/cooperator/controllers/shared/hubconfig"
	"github.com/cooperator-dev/cooperator/test/harness"
)

func main() {
	once := flag.Bool("once", false, "exit as soon as every co-op is Ready (exit 1 if they are not within --timeout)")
	timeout := flag.Duration("timeout", 3*time.Minute, "how long --once waits for every co-op to be Ready")
	kubeconfig := flag.String("kubeconfig-out", ".demo/kubeconfig", "where to write a kubeconfig for kubectl")
	verbose := flag.Bool("v", false, "show the operator's log")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, *once, *timeout, *kubeconfig, *verbose); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, once bool, timeout time.Duration, kubeconfig string, verbose bool) error {
	logOut := io.Discard
	if verbose {
		logOut = os.Stderr
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(logOut)))

	root, err := harness.RepoRoot()
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "Starting an embedded control plane (etcd, kube-apiserver) with the cooperator and CloudNativePG CRDs...")
	startCtx, cancelStart := context.WithTimeout(ctx, 15*time.Minute)
	env, err := harness.Start(startCtx, harness.Options{
		ProjectCRDs: true,
		Scheme:      manager.Scheme(),
	})
	cancelStart()
	if err != nil {
		return err
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "demo: stopping the control plane: %v\n", err)
		}
	}()
	c := env.Client

	hub := hubconfig.Default()
	hub.Region = "eu-west"
	hub.RecheckInterval = hubconfig.Duration{Duration: 2 * time.Second}
	if err := setUpHub(ctx, c, root, hub); err != nil {
		return fmt.Errorf("setting up the hub: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(kubeconfig), 0o755); err != nil {
		return err
	}
	if err := env.WriteKubeconfig(kubeconfig); err != nil {
		return fmt.Errorf("writing the kubeconfig: %w", err)
	}

	mgr, err := manager.New(env.Cfg, manager.Options{Hub: hub, MetricsBindAddress: "0", HealthProbeBindAddress: "0", GovernanceInterval: time.Second})
	if err != nil {
		return err
	}
	mgrCtx, stopMgr := context.WithCancel(ctx)
	mgrDone := make(chan error, 1)
	go func() { mgrDone <- mgr.Start(mgrCtx) }()
	defer func() {
		stopMgr()
		if err := <-mgrDone; err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintf(os.Stderr, "demo: the operator stopped: %v\n", err)
		}
	}()
	fmt.Fprintf(out, "The operator runs in this process (region %s). Applying the samples:\n", hub.Region)

	names, err := applySamples(ctx, c, root, hub, out)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "")
	fmt.Fprintln(out, "No pods run on this control plane, so this demo plays CloudNativePG's instances and")
	fmt.Fprintln(out, "backups and the Deployment controller; every such step is marked [simulated].")
	fmt.Fprintln(out, "")

	deadline := time.Now().Add(timeout)
	lastTable := ""
	ready := false
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		if err := simulate(ctx, c, hub, names, out); err != nil && ctx.Err() == nil {
			fmt.Fprintf(out, "[simulated] %v\n", err)
		}
		table, allReady, err := statusTable(ctx, c, names)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if table != lastTable {
			fmt.Fprintf(out, "%s\n%s\n", time.Now().Format("15:04:05"), table)
			lastTable = table
		}
		if allReady && !ready {
			ready = true
			fmt.Fprintf(out, "All %d co-ops are Ready.\n\n", len(names))
			if err := printObjects(ctx, c, names, out); err != nil {
				return err
			}
			if err := demoGovernance(ctx, c, out); err != nil {
				return fmt.Errorf("the governance demo: %w", err)
			}
			abs, _ := filepath.Abs(kubeconfig)
			fmt.Fprintf(out, "\nkubectl can look around:\n  export KUBECONFIG=%s\n  kubectl get cooperatives\n  kubectl get all,networkpolicies,clusters.postgresql.cnpg.io -n coop-fairride-lyon\n", abs)
			if once {
				return nil
			}
			fmt.Fprintln(out, "\nThe control plane stays up until Ctrl-C.")
		}
		if once && !ready && time.Now().After(deadline) {
			return fmt.Errorf("not every co-op was Ready after %s:\n%s", timeout, table)
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(out, "\nStopping.")
			return nil
		case err := <-mgrDone:
			mgrDone <- err
			return fmt.Errorf("the operator stopped: %w", err)
		case <-tick.C:
		}
	}
}

// setUpHub does what a hub admin does once (harness.SeedHub: the operator namespace, the
// object store credentials, the platform templates and the hosting plans; here with the
// co-op admin role), and gives each sample co-op object store credentials of its own.
func setUpHub(ctx context.Context, c client.Client, root string, hub hubconfig.Config) error {
	// The hub's own object store credentials back the shared Cluster's backups; they stay
	// in the operator namespace.
	if err := harness.SeedHub(ctx, c, &hub, "demo-hub-key", "demo-hub-secret", "config/rbac/coop_admin_role.yaml"); err != nil {
		return err
	}
	// Each sample co-op gets credentials of its own (on a real hub: limited to its prefix of
	// the bucket, see hack/objectstore-keys.sh); the hub-wide ones are never copied into a
	// co-op's namespace.
	files, err := filepath.Glob(filepath.Join(root, "config", "samples", "coop_v1alpha1_cooperative_*.yaml"))
	if err != nil {
		return err
	}
	for _, f := range files {
		coop := &coopv1.Cooperative{}
		if err := readYAML(f, coop); err != nil {
			return err
		}
		creds := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: hub.OperatorNamespace, Name: hub.ObjectStore.CooperativeCredentialsSecret(coop.Name)},
			StringData: map[string]string{coopv1.AccessKeyIDKey: "demo-" + coop.Name + "-key", coopv1.AccessSecretKeyKey: "demo-" + coop.Name + "-secret"},
		}
		if err := c.Create(ctx, creds); err != nil {
			return err
		}
	}
	return nil
}

func applySamples(ctx context.Context, c client.Client, root string, hub hubconfig.Config, out io.Writer) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(root, "config", "samples", "coop_v1alpha1_cooperative_*.yaml"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range files {
		coop := &coopv1.Cooperative{}
		if err := readYAML(f, coop); err != nil {
			return nil, err
		}
		if coop.Spec.Database.Tier == coopv1.DatabaseTierShared {
			// A shared-tier co-op's logical backups go to its own prefix with credentials
			// limited to it, which the hub creates.
			creds := &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: hub.OperatorNamespace, Name: hub.ObjectStore.PerCooperativeSecretPrefix + coop.Name},
				StringData: map[string]string{coopv1.AccessKeyIDKey: "demo-" + coop.Name + "-key", coopv1.AccessSecretKeyKey: "demo-" + coop.Name + "-secret"},
			}
			if err := c.Create(ctx, creds); err != nil && !apierrors.IsAlreadyExists(err) {
				return nil, fmt.Errorf("creating the object store credentials of %s: %w", coop.Name, err)
			}
		}
		if err := c.Create(ctx, coop); err != nil {
			return nil, fmt.Errorf("applying %s: %w", filepath.Base(f), err)
		}
		fmt.Fprintf(out, "  cooperative/%s (%s, plan %s, %s database)\n", coop.Name, coop.Spec.Vertical, coop.Spec.Plan, coop.Spec.Database.Tier)
		names = append(names, coop.Name)
	}
	sort.Strings(names)
	return names, nil
}

// simulate plays, for each co-op, the next step that a component which cannot run here
// would take, and says so.
func simulate(ctx context.Context, c client.Client, hub hubconfig.Config, names []string, out io.Writer) error {
	var errs []error
	for _, name := range names {
		coop := &coopv1.Cooperative{}
		if err := c.Get(ctx, client.ObjectKey{Name: name}, coop); err != nil {
			errs = append(errs, err)
			continue
		}
		ns := coop.NamespaceName()
		if coop.Spec.Database.Tier == coopv1.DatabaseTierShared {
			key := client.ObjectKey{Namespace: hub.OperatorNamespace, Name: coopv1.SharedResourceName(coop)}
			var shared cnpgv1.Cluster
			if err := c.Get(ctx, client.ObjectKey{Namespace: hub.OperatorNamespace, Name: hub.SharedCluster.Name}, &shared); err == nil &&
				!meta.IsStatusConditionTrue(shared.Status.Conditions, string(cnpgv1.ConditionContinuousArchiving)) {
				if err := harness.SimulateSharedClusterBackedUp(ctx, c, hub.OperatorNamespace, hub.SharedCluster.Name); err != nil {
					errs = append(errs, err)
				} else {
					fmt.Fprintf(out, "[simulated] CloudNativePG started the shared cluster %s, archived its WAL and took its first base backup to %s\n", hub.SharedCluster.Name, hubconfig.SharedBackupDestination(&hub))
				}
			}
			var db cnpgv1.Database
			if err := c.Get(ctx, key, &db); err == nil && (db.Status.Applied == nil || !*db.Status.Applied) {
				if err := harness.SimulateSharedDatabaseApplied(ctx, c, key.Namespace, key.Name); err != nil {
					errs = append(errs, err)
				} else {
					fmt.Fprintf(out, "[simulated] CloudNativePG created database and role %s in the shared cluster %s\n", coopv1.SharedRoleName(coop), hub.SharedCluster.Name)
				}
			}
		} else {
			var cluster cnpgv1.Cluster
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: coopv1.ClusterName(coop)}, &cluster); err == nil {
				if !meta.IsStatusConditionTrue(cluster.Status.Conditions, string(cnpgv1.ConditionClusterReady)) {
					if err := harness.SimulateClusterReady(ctx, c, ns, cluster.Name); err != nil {
						errs = append(errs, err)
					} else {
						fmt.Fprintf(out, "[simulated] CloudNativePG started %d PostgreSQL instance(s) of Cluster %s/%s\n", cluster.Spec.Instances, ns, cluster.Name)
					}
				} else if coop.Status.LastBackup == nil {
					var backups cnpgv1.BackupList
					if err := c.List(ctx, &backups, client.InNamespace(ns)); err == nil && len(backups.Items) == 0 {
						name := cluster.Name + "-" + time.Now().UTC().Format("20060102150405")
						if err := harness.SimulateBackup(ctx, c, ns, cluster.Name, name, true); err != nil {
							errs = append(errs, err)
						} else {
							fmt.Fprintf(out, "[simulated] CloudNativePG took the first base backup %s to %s\n", name, hub.BackupDestination(coop.Name))
						}
					}
				}
			}
		}
		var deployments appsv1.DeploymentList
		if err := c.List(ctx, &deployments, client.InNamespace(ns)); err == nil {
			for _, d := range deployments.Items {
				if d.Status.ObservedGeneration != d.Generation || d.Status.AvailableReplicas < *d.Spec.Replicas {
					if err := harness.SimulateDeploymentsAvailable(ctx, c, ns); err != nil {
						errs = append(errs, err)
					} else {
						fmt.Fprintf(out, "[simulated] the Deployment controller started the platform of %s\n", name)
					}
					break
				}
			}
		}
	}
	return ignoreConflicts(errors.Join(errs...))
}

func ignoreConflicts(err error) error {
	if err == nil || apierrors.IsConflict(err) || strings.Contains(err.Error(), "the object has been modified") {
		return nil
	}
	return err
}

// statusTable is one line per co-op with its conditions.
func statusTable(ctx context.Context, c client.Client, names []string) (string, bool, error) {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "COOPERATIVE\tVERTICAL\tPLAN\tTIER\tTENANCY\tDATABASE\tBACKUP\tPLATFORM\tREADY")
	all := true
	for _, name := range names {
		coop := &coopv1.Cooperative{}
		if err := c.Get(ctx, client.ObjectKey{Name: name}, coop); err != nil {
			return "", false, err
		}
		cell := func(t string) string {
			cond := meta.FindStatusCondition(coop.Status.Conditions, t)
			if cond == nil {
				return "-"
			}
			if cond.Status == metav1.ConditionTrue {
				return "True"
			}
			return cond.Reason
		}
		ready := cell(coopv1.ConditionReady)
		all = all && ready == "True"
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, coop.Spec.Vertical, coop.Spec.Plan, coop.Spec.Database.Tier,
			cell(coopv1.ConditionTenancyReady), cell(coopv1.ConditionDatabaseReady), cell(coopv1.ConditionBackupReady), cell(coopv1.ConditionPlatformReady), ready)
	}
	_ = w.Flush()
	return b.String(), all, nil
}

// printObjects lists what each co-op became.
func printObjects(ctx context.Context, c client.Client, names []string, out io.Writer) error {
	for _, name := range names {
		coop := &coopv1.Cooperative{}
		if err := c.Get(ctx, client.ObjectKey{Name: name}, coop); err != nil {
			return err
		}
		ns := coop.NamespaceName()
		fmt.Fprintf(out, "%s -> namespace %s\n", name, ns)
		kinds := []struct {
			kind string
			list client.ObjectList
		}{
			{"ResourceQuota", &corev1.ResourceQuotaList{}}, {"LimitRange", &corev1.LimitRangeList{}},
			{"NetworkPolicy", &networkingv1.NetworkPolicyList{}}, {"Role", &rbacv1.RoleList{}}, {"RoleBinding", &rbacv1.RoleBindingList{}},
			{"Cluster", &cnpgv1.ClusterList{}}, {"ScheduledBackup", &cnpgv1.ScheduledBackupList{}}, {"Backup", &cnpgv1.BackupList{}},
			{"Deployment", &appsv1.DeploymentList{}}, {"Service", &corev1.ServiceList{}}, {"Ingress", &networkingv1.IngressList{}},
			{"PodDisruptionBudget", &policyv1.PodDisruptionBudgetList{}}, {"ConfigMap", &corev1.ConfigMapList{}},
			{"Secret", &corev1.SecretList{}},
		}
		for _, k := range kinds {
			if err := c.List(ctx, k.list, client.InNamespace(ns), client.MatchingLabels{coopv1.LabelCooperative: name}); err != nil {
				return err
			}
			n := meta.LenList(k.list)
			if n > 0 {
				names, _ := namesOf(k.list)
				fmt.Fprintf(out, "  %-20s %s\n", k.kind, strings.Join(names, ", "))
			}
		}
		fmt.Fprintf(out, "  endpoints: %s database %s\n", orNone(coop.Status.Endpoints.URL), coop.Status.Endpoints.Database)
	}
	return nil
}

func namesOf(list client.ObjectList) ([]string, error) {
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		if o, ok := it.(client.Object); ok {
			out = append(out, o.GetName())
		}
	}
	sort.Strings(out)
	return out, nil
}

func orNone(s string) string {
	if s == "" {
		return "(no public host)"
	}
	return s
}

func readYAML(path string, obj any) error { return harness.ReadYAML(path, obj) }
