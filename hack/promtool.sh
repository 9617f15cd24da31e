#!/usr/bin/env bash
# Builds promtool (Prometheus's rule checker and rule unit tester) from source through the
# Go module proxy, into the same cache as the envtest binaries, and prints the path of the
# binary. Does nothing but print the path when the binary is there.
#
#   PROMTOOL=$(hack/promtool.sh)
#
# About 12 minutes on 2 cores with a cold Go build cache, once per machine.
set -euo pipefail

PROMETHEUS_VERSION="${PROMETHEUS_VERSION:-0.316.0}"
# Prometheus 3.x publishes its Go module as v0.3xx.y; the release it corresponds to.
PROMETHEUS_RELEASE="${PROMETHEUS_RELEASE:-3.16.0}"
TOOL=promtool
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DEST="${CACHE_ROOT}/promtool/${PROMETHEUS_VERSION}"
BIN="${DEST}/promtool"

if [ ! -x "$BIN" ]; then
  mkdir -p "$DEST"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  log "building promtool v${PROMETHEUS_VERSION} from source (about 12 minutes on 2 cores, once)"
  GOBIN="$work" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath \
    -ldflags "-s -w -X github.com/prometheus/common/version.Version=${PROMETHEUS_RELEASE}" \
    "github.com/prometheus/prometheus/cmd/promtool@v${PROMETHEUS_VERSION}"
  mv "$work/promtool" "$BIN.tmp"
  mv "$BIN.tmp" "$BIN"
fi
echo "$BIN"
