#!/usr/bin/env bash
# npm run local — installs whatever is missing and runs USPA on this machine; Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec node bin/uspa.js local
