#!/usr/bin/env bash
# npm test — installs whatever is missing (npm packages, then the engines on first use), starts the
# local stack (or uses the one already running), type-checks, lints and runs every test on it.
# A stack started here is stopped at the end; the test runner's summary is the last thing printed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
bash scripts/ensure-chromium.sh
npx tsc --noEmit -p .
npx eslint --max-warnings=0 .

started_here=0
cleanup() {
  if [ "$started_here" = 1 ]; then node bin/uspa.js stack down --quiet >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
if ! node bin/uspa.js stack status >/dev/null 2>&1; then
  started_here=1
  node bin/uspa.js stack up
fi
eval "$(node bin/uspa.js stack env)"

mapfile -t files < <(find stack cli collector lib operator workflows workers test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
