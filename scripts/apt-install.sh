#!/usr/bin/env bash
# apt-install.sh <for what> <package…>: installs Debian packages as root, or through sudo without a
# password. Where that cannot be done it says why and exits 3 (the caller goes on without them),
# except in CI (CI=true), where it exits 1: there <for what> must run.
set -euo pipefail
purpose=$1
shift
fail_or_note() {
  if [ "${CI:-}" = true ]; then
    echo "error: $1; CI=true needs $purpose to run" >&2
    exit 1
  fi
  echo "note: $1; $purpose will not run" >&2
  exit 3
}
if [ "$(id -u)" = 0 ]; then as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then as_root=(sudo -n)
else fail_or_note "$* missing and this user cannot install it (not root, no passwordless sudo)"
fi
command -v apt-get >/dev/null || fail_or_note "$* missing and there is no apt-get to install Debian's packages"
echo "installing Debian's $* for $purpose…" >&2
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq "$@" >/dev/null
