#!/usr/bin/env bash
# Makes sure the PostgreSQL server binaries (initdb, pg_ctl, postgres) are on this machine:
# the platform service's tests start a real server from them. Installs Debian's postgresql
# package when they are missing and this runs as root; otherwise says what to install.
set -euo pipefail
TOOL=postgres
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

have_server() {
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && return 0
  command -v initdb >/dev/null 2>&1 && return 0
  command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ] && return 0
  return 1
}

ensure_debian_package postgresql "server binaries for the tests" \
  "the tests need PostgreSQL's server binaries; install them" have_server
