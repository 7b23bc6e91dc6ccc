#!/usr/bin/env bash
# npm run local — installs whatever is missing and runs USPA on this machine; Ctrl-C stops it.
# Arguments go to `uspa local`: npm run local -- --demo loads the demo shop.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec node bin/uspa.js local "$@"
