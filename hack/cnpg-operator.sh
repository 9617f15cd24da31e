#!/usr/bin/env bash
# Builds the CloudNativePG operator (cmd/manager) from source through the Go module
# proxy, into a cache outside the clone, and prints the binary's path. Does nothing but
# print the path when the binary is there.
#
#   CNPG_OPERATOR=$(hack/cnpg-operator.sh)
#
# The test harness (test/harness) runs this binary against an envtest API server so that
# suites check our CNPG objects against CNPG's own webhooks and controllers.
# v1.29.1 is the newest release that builds through the proxy; the CRDs installed next to
# it come from v1.30.1 (see test/harness/modules.go).
set -euo pipefail

CNPG_VERSION="${CNPG_VERSION:-1.29.1}"
TOOL=cnpg-operator
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DEST="${CACHE_ROOT}/cnpg/${CNPG_VERSION}"

build_manager() {
  log "building the CloudNativePG operator v${CNPG_VERSION} from source (about 90 seconds, once)"
  build_go_command github.com/cloudnative-pg/cloudnative-pg "$CNPG_VERSION" \
    github.com/cloudnative-pg/cloudnative-pg/cmd/manager "$DEST/manager"
}

mkdir -p "$DEST"
if [ ! -x "$DEST/manager" ]; then
  # Test packages run in parallel and each may call this script: build once.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$DEST/.lock"
    flock 9
  fi
  [ -x "$DEST/manager" ] || build_manager
fi
echo "$DEST/manager"
