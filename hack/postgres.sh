#!/usr/bin/env bash
# Makes sure the PostgreSQL server binaries (initdb, pg_ctl, postgres) are on this machine:
# the platform service's tests start a real server from them. Installs Debian's postgresql
# package when they are missing and this runs as root; otherwise says what to install.
set -euo pipefail
have_server() {
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && return 0
  command -v initdb >/dev/null 2>&1 && return 0
  command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ] && return 0
  return 1
}
if have_server; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "postgres: installing Debian's postgresql package (server binaries for the tests)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  exit 0
fi
echo "postgres: the tests need PostgreSQL's server binaries; install them, e.g. 'sudo apt-get install postgresql'" >&2
exit 1
