#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (Playwright's own browser download does not work
# on these machines). Installs it with apt-get when it is missing and we are root.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "Chromium is missing: install it (Debian/Ubuntu: sudo apt-get install chromium)" >&2
exit 1
