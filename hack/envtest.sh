#!/usr/bin/env bash
# Builds the envtest control plane (kube-apiserver and etcd) from source through the Go
# module proxy, into a cache outside the clone, and prints the folder to use as
# KUBEBUILDER_ASSETS. Does nothing but print the folder when both binaries are there.
#
#   KUBEBUILDER_ASSETS=$(hack/envtest.sh)
#
# No release binaries are downloaded: this works wherever the Go module proxy answers.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.0}"
ETCD_VERSION="${ETCD_VERSION:-3.6.8}"
TOOL=envtest
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DEST="${CACHE_ROOT}/envtest/${K8S_VERSION}"

# pin_staging: k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them
# with local folders; a consumer must pin each one to the matching published version.
pin_staging() {
  local modfile staging
  GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" > dl.json
  modfile="$(sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' dl.json)"
  staging="$(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$modfile")"
  for m in $staging; do
    case "$m" in
      k8s.io/sample-cli-plugin|k8s.io/sample-controller) continue ;;
    esac
    go mod edit -replace "${m}=${m}@v0.${K8S_VERSION#1.}"
  done
}

build_kube_apiserver() {
  log "building kube-apiserver v${K8S_VERSION} from source (about 10 minutes on 2 cores, once)"
  build_go_command k8s.io/kubernetes "$K8S_VERSION" k8s.io/kubernetes/cmd/kube-apiserver \
    "$DEST/kube-apiserver" pin_staging
}

build_etcd() {
  log "building etcd v${ETCD_VERSION} from source (about 30 seconds, once)"
  build_go_command go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3 "$DEST/etcd"
}

mkdir -p "$DEST"
if [ ! -x "$DEST/etcd" ] || [ ! -x "$DEST/kube-apiserver" ]; then
  # Suites started together may each call this script: build once, not once each into the
  # same files (as hack/cnpg-operator.sh does).
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$DEST/.lock"
    flock 9
  fi
  [ -x "$DEST/etcd" ] || build_etcd
  [ -x "$DEST/kube-apiserver" ] || build_kube_apiserver
fi
echo "$DEST"
