// scripts/ensure-container-tools.sh installs the image tools where it can; where it cannot, a CI
// run fails (the image tests must run there) and a local run only notes it.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../scripts/ensure-container-tools.sh', import.meta.url));

/** A PATH holding only the given commands, with an `id` that says "not root" and no sudo or apt-get. */
function machine(commands: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'uspa-tools-'));
  for (const name of ['id', ...commands]) {
    writeFileSync(join(dir, name), name === 'id' ? '#!/bin/sh\necho 1000\n' : '#!/bin/sh\nexit 0\n');
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

const ensure = (path: string, ci: boolean, tools: string[]) =>
  spawnSync('/bin/bash', [SCRIPT, ...tools], { env: { PATH: path, ...(ci ? { CI: 'true' } : {}) }, encoding: 'utf8' });

describe('scripts/ensure-container-tools.sh', () => {
  test('a missing tool that cannot be installed fails CI and names it; outside CI it is a note', () => {
    const path = machine(['buildah']);
    const ci = ensure(path, true, ['buildah', 'podman-test-missing']);
    assert.equal(ci.status, 1, ci.stderr);
    assert.match(ci.stderr, /^error: podman-test-missing missing and this user cannot install it \(not root, no passwordless sudo\); CI=true needs the container image tests to run$/m);
    const local = ensure(path, false, ['buildah', 'podman-test-missing']);
    assert.equal(local.status, 0, local.stderr);
    assert.match(local.stderr, /^note: podman-test-missing missing/m);
  });

  test('tools already there: nothing to do, even in CI', () => {
    const ok = ensure(machine(['buildah', 'podman']), true, ['buildah', 'podman']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stderr, '');
  });
});
