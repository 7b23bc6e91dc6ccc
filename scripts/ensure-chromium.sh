#!/usr/bin/env bash
# The browser snippet tests drive Debian's headless Chromium: install it when missing (as root, or
# through sudo without a password). Where it cannot be installed the tests skip, except in CI
# (CI=true), where this fails the run: there the browser tests must run.
set -euo pipefail
chromium=${DEBIAN_CHROMIUM:-/usr/bin/chromium} # another path only for this script's own test
fail_or_note() {
  if [ "${CI:-}" = true ]; then
    echo "error: $1; CI=true needs the browser snippet tests to run" >&2
    exit 1
  fi
  echo "note: $1; the browser snippet tests will not run" >&2
  exit 0
}
check() {
  if ! version=$("$chromium" --headless --no-sandbox --version 2>&1); then
    fail_or_note "$chromium does not start: $version"
  fi
}
if [ -x "$chromium" ]; then check; exit 0; fi
if [ -n "${USPA_CHROMIUM:-}" ] && [ -x "$USPA_CHROMIUM" ]; then exit 0; fi
status=0
"$BASH" "${BASH_SOURCE[0]%/*}/apt-install.sh" "the browser snippet tests" chromium || status=$?
[ "$status" = 3 ] && exit 0
[ "$status" = 0 ] || exit "$status"
[ -x "$chromium" ] || fail_or_note "apt-get installed chromium but $chromium is not there"
check
