#!/usr/bin/env bash
# The snippet tests drive Debian's headless Chromium; install it when missing (root only).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "note: /usr/bin/chromium is missing and cannot be installed here; the browser snippet tests will be skipped" >&2
  exit 0
fi
echo "installing Debian's chromium for the browser snippet tests…" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
