#!/usr/bin/env bash
# Makes sure a Chromium browser is on this machine and prints the path of its binary: the
# members' app's browser tests (platform/server/web) drive it headless. Installs Debian's
# chromium package when it is missing and this runs as root; otherwise says what to install.
set -euo pipefail
TOOL=chromium
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

find_chromium() {
  # Debian's /usr/bin/chromium is a wrapper script; the tests start the binary itself.
  for p in /usr/lib/chromium/chromium /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -x "$p" ]; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

ensure_debian_package chromium "the members' app's browser tests" \
  "the browser tests need Chromium; install it" find_chromium
