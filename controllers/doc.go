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

// Package controllers holds cooperator's reconcilers, one package each:
//
//   - cooperative: a Cooperative into its tenant (namespace, RBAC, network policies,
//     database, backups, platform, status);
//   - federation: a Cooperative's standbys in peer hubs, and the FederationPeers;
//   - governance: the changes a co-op's members voted, applied to its Cooperative;
//   - costreport: a CostReport's split of the hub's bill;
//   - metering: the usage each co-op's namespace records;
//   - hubstatus: a Cooperative's hub status (its readiness, last backup and CostReport
//     lines) into the ConfigMap its platform reads.
//
// Apart from them, in rooms that say what they hold:
//
//   - cmd: the binary's commands, cmd/cli (the command line of hub and co-op admins) and
//     cmd/manager (the manager's wiring: scheme, scoped cache, flags, the controllers and
//     webhooks it runs);
//   - shared: what the reconcilers and the commands share: shared/ssa (server-side apply),
//     shared/hubconfig (the hub's settings and the operator's own tenant binding) and
//     shared/logicalbackup (a shared-tier co-op's logical backup: its CronJob and the
//     upload its pod runs).
//
// No reconciler package imports another; the names they share (object names, labels,
// credential keys) are in api/v1alpha1.
package controllers
