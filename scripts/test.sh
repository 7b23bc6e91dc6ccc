#!/usr/bin/env bash
# npm test — installs whatever is missing (npm packages, then the engines on first use), starts the
# local stack (or uses the one already running) while it type-checks and lints, then runs every
# test file on it: unit files (beside their code) and engine files (under test/) concurrently,
# files marked `// @serial: <why>` alone at the end (see test/support/runner.ts).
# A stack started here is stopped at the end; the test runner's summary is the last thing printed.
# Arguments go to the runner: `npm test -- --concurrency 2`, `npm test -- test/operator/informer.test.ts`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
bash scripts/ensure-chromium.sh
# The image tests (test/image/, test/node/) build and run the image as root.
if [ "$(uname)" = Linux ] && [ "$(id -u)" = 0 ]; then bash scripts/ensure-container-tools.sh; fi

started_here=0
checks=$(mktemp -d)
tsc_pid='' eslint_pid=''
cleanup() {
  for pid in $tsc_pid $eslint_pid; do kill "$pid" 2>/dev/null || true; done
  if [ "$started_here" = 1 ]; then node bin/uspa.js stack down --quiet >/dev/null 2>&1 || true; fi
  rm -rf "$checks"
}
trap cleanup EXIT

# Type-check and lint while the stack starts: each mostly waits on something else.
(node_modules/.bin/tsc --noEmit -p . && node_modules/.bin/tsc --noEmit -p dashboard) >"$checks/tsc.log" 2>&1 &
tsc_pid=$!
node_modules/.bin/eslint --max-warnings=0 . >"$checks/eslint.log" 2>&1 &
eslint_pid=$!
if ! node bin/uspa.js stack status >/dev/null 2>&1; then
  started_here=1
  # As root on Linux the stack also runs a real node (kubelet, containerd), on which the chart is
  # installed in containers (test/node/); USPA_STACK_NODE=0 leaves it out.
  node_flag=''
  if [ "$(uname)" = Linux ] && [ "$(id -u)" = 0 ] && [ "${USPA_STACK_NODE:-1}" != 0 ]; then node_flag='--node'; fi
  node bin/uspa.js stack up $node_flag
fi
failed=0
if ! wait "$tsc_pid"; then echo "tsc --noEmit failed:" >&2; cat "$checks/tsc.log" >&2; failed=1; fi
if ! wait "$eslint_pid"; then echo "eslint failed:" >&2; cat "$checks/eslint.log" >&2; failed=1; fi
tsc_pid='' eslint_pid=''
if [ "$failed" = 1 ]; then exit 1; fi
echo "type-check and lint: clean"

eval "$(node bin/uspa.js stack env)"
node --import tsx test/support/runner.ts "$@"
