// The browser snippet tests run in CI rather than skip: scripts/ensure-chromium.sh fails a CI run
// that cannot get a working Chromium, and snippet.test.ts fails (instead of skipping) without one
// when CI=true. Outside CI both only say why the browser tests are skipped.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../scripts/ensure-chromium.sh', import.meta.url));
const SNIPPET_TEST = fileURLToPath(new URL('./snippet.test.ts', import.meta.url));

function withoutCi(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { CI: _ci, ...rest } = env;
  return rest;
}

/** A PATH with an `id` that says "not root" and no sudo or apt-get: a machine where nothing can be installed. */
function unprivilegedPath(extra: Record<string, string> = {}): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'uspa-no-root-'));
  for (const [name, body] of Object.entries({ id: 'echo 1000', ...extra })) {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return { dir, path: dir };
}

function ensure(env: NodeJS.ProcessEnv) {
  return spawnSync('/bin/bash', [SCRIPT], { env, encoding: 'utf8' });
}

describe('scripts/ensure-chromium.sh', () => {
  test('no Chromium and no way to install it: CI=true fails the run, outside CI it notes the skip', () => {
    const { path } = unprivilegedPath();
    const base = { PATH: path, DEBIAN_CHROMIUM: '/nonexistent/chromium' };
    const ci = ensure({ ...base, CI: 'true' });
    assert.equal(ci.status, 1, ci.stderr);
    assert.match(ci.stderr, /^error: chromium missing and this user cannot install it \(not root, no passwordless sudo\); CI=true needs the browser snippet tests to run$/m);
    const local = ensure(base);
    assert.equal(local.status, 0, local.stderr);
    assert.match(local.stderr, /^note: .*; the browser snippet tests will not run$/m);
  });

  test('a Chromium that does not start fails CI too', () => {
    const { dir, path } = unprivilegedPath({ chromium: 'echo "cannot open display" >&2; exit 1' });
    const ci = ensure({ PATH: path, DEBIAN_CHROMIUM: join(dir, 'chromium'), CI: 'true' });
    assert.equal(ci.status, 1, ci.stderr);
    assert.match(ci.stderr, /does not start: cannot open display; CI=true needs the browser snippet tests to run/);
  });

  test('a working Chromium passes', () => {
    const { dir, path } = unprivilegedPath({ chromium: 'echo "Chromium 1.0"' });
    const ok = ensure({ PATH: path, DEBIAN_CHROMIUM: join(dir, 'chromium'), CI: 'true' });
    assert.equal(ok.status, 0, ok.stderr);
  });
});

describe('test/collector/snippet.test.ts without a browser', () => {
  // Without NODE_TEST_CONTEXT, which would make the child report to this runner instead of its stdout.
  const run = (env: NodeJS.ProcessEnv) => {
    const { NODE_TEST_CONTEXT: _context, ...clean } = env;
    return spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', SNIPPET_TEST], { env: clean, encoding: 'utf8', timeout: 60_000 });
  };

  test('CI=true: the suite fails and says the browser tests must run', { timeout: 90_000 }, () => {
    const r = run({ ...process.env, CI: 'true', USPA_CHROMIUM: '/nonexistent/chromium' });
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(r.stdout, /CI=true: the browser snippet tests must run, not skip; needs Chromium \(\/nonexistent\/chromium\); not found/);
  });

  test('outside CI: the suite is skipped with the reason', { timeout: 90_000 }, () => {
    const r = run({ ...withoutCi(process.env), USPA_CHROMIUM: '/nonexistent/chromium' });
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, /# SKIP needs Chromium \(\/nonexistent\/chromium\); not found/);
  });
});
