#!/usr/bin/env bash
# Installs the npm dependencies when node_modules is missing or older than package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.uspa-lock-sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "installing npm dependencies…" >&2
  # Not `npm ci`: npm 11 leaves other platforms' optional packages out of the lock and then
  # refuses it as out of sync. `install --no-save` installs the locked versions and changes no file.
  npm install --no-audit --no-fund --no-save --loglevel=error
  echo "$want" > "$stamp"
fi
# The dashboard's bundle (dashboard/dist, served by the API under /ui/): rebuilt when its sources changed.
node --import tsx scripts/build-dashboard.ts --if-stale
