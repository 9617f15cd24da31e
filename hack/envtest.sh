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
CACHE_ROOT="${COOPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cooperator}"
DEST="${CACHE_ROOT}/envtest/${K8S_VERSION}"

log() { printf 'envtest: %s\n' "$*" >&2; }

build_kube_apiserver() {
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  log "building kube-apiserver v${K8S_VERSION} from source (about 10 minutes on 2 cores, once)"
  (
    cd "$work"
    go mod init envtest.local/kubeapiserver >/dev/null 2>&1
    go mod edit -require "k8s.io/kubernetes@v${K8S_VERSION}"
    # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with
    # local folders; a consumer must pin each one to the matching published version.
    local modfile
    GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" > dl.json
    modfile="$(sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' dl.json)"
    local staging
    staging="$(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$modfile")"
    for m in $staging; do
      case "$m" in
        k8s.io/sample-cli-plugin|k8s.io/sample-controller) continue ;;
      esac
      go mod edit -replace "${m}=${m}@v0.${K8S_VERSION#1.}"
    done
    cat > tools.go <<'GO'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
GO
    GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || true
    GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$DEST/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
    mv "$DEST/kube-apiserver.tmp" "$DEST/kube-apiserver"
  )
}

build_etcd() {
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  log "building etcd v${ETCD_VERSION} from source (about 30 seconds, once)"
  (
    cd "$work"
    go mod init envtest.local/etcd >/dev/null 2>&1
    go mod edit -require "go.etcd.io/etcd/server/v3@v${ETCD_VERSION}"
    cat > tools.go <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
    GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || true
    GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$DEST/etcd.tmp" go.etcd.io/etcd/server/v3
    mv "$DEST/etcd.tmp" "$DEST/etcd"
  )
}

mkdir -p "$DEST"
[ -x "$DEST/etcd" ] || build_etcd
[ -x "$DEST/kube-apiserver" ] || build_kube_apiserver
echo "$DEST"
