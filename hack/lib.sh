#!/usr/bin/env bash
# Sourced by the hack/ scripts that put a tool on this machine: where they cache what they
# build, how they build a Go command from a module through the proxy, and how they install
# a Debian package that is missing. A script sets TOOL (its name in messages) first.

CACHE_ROOT="${COOPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cooperator}"

log() { printf '%s: %s\n' "$TOOL" "$*" >&2; }

# build_go_command MODULE VERSION PACKAGE OUT [PREPARE]
# Builds the command PACKAGE of MODULE at vVERSION, statically and stripped, into the file
# OUT, in a throwaway module that requires it (so that only the Go module proxy is needed).
# PREPARE, when given, is a function run in that module after the require (to pin further
# modules). All its output goes to stderr: the scripts print only their result.
build_go_command() {
  local module="$1" version="$2" pkg="$3" out="$4" prepare="${5:-}"
  local work
  work="$(mktemp -d)"
  # Removed when this function returns (the trap then removes itself).
  trap 'rm -rf "$work"; trap - RETURN' RETURN
  (
    cd "$work"
    go mod init tools.local/build >/dev/null 2>&1
    go mod edit -require "${module}@v${version}"
    if [ -n "$prepare" ]; then
      "$prepare"
    fi
    printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$pkg" > tools.go
    GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || true
    GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$out.tmp" "$pkg"
    mv "$out.tmp" "$out"
  ) >&2
}

# ensure_debian_package PACKAGE WHY NEED CHECK
# Runs the function CHECK; when it fails and this runs as root where apt-get is, installs
# Debian's PACKAGE (for WHY) and runs CHECK again. Otherwise says what is needed (NEED)
# and how to install it, and fails.
ensure_debian_package() {
  local pkg="$1" why="$2" need="$3" check="$4"
  if "$check"; then
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian's ${pkg} package (${why})"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
    if "$check"; then
      return 0
    fi
  fi
  log "${need}, e.g. 'sudo apt-get install ${pkg}'"
  return 1
}
