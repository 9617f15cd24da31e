#!/usr/bin/env bash
# Makes sure a Chromium browser is on this machine and prints the path of its binary: the
# members' app's browser tests (platform/server/web) drive it headless. Installs Debian's
# chromium package when it is missing and this runs as root; otherwise says what to install.
set -euo pipefail
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
if find_chromium; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "chromium: installing Debian's chromium package (the members' app's browser tests)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  find_chromium && exit 0
fi
echo "chromium: the browser tests need Chromium; install it, e.g. 'sudo apt-get install chromium'" >&2
exit 1
