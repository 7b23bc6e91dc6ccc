// The runner explains a file that fails with no failing test in it: node:test alone says only
// "test failed", which a CI log showing its last lines cannot be read from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { repoRoot } from '../../stack/paths.ts';

const run = promisify(execFile);

test('a file failing after its tests ended is reported with its stderr and what node:test noticed', async () => {
  const out = await run(process.execPath, ['--import', 'tsx', 'test/support/runner.ts', 'test/support/fixtures/late-failure.ts'], { cwd: repoRoot, env: { ...process.env, NODE_TEST_CONTEXT: undefined } }).then(
    () => assert.fail('the runner exits 1 when a file fails'),
    (err: { code: number; stdout: string }) => err,
  );
  assert.equal(out.code, 1);
  const failing = out.stdout.slice(out.stdout.indexOf('failing tests'));
  assert.match(failing, /test failed \(exit code 1\)/);
  assert.match(failing, /generated asynchronous activity after the test ended[^]*late boom/);
  assert.match(failing, /teardown: the broker connection was closed twice/);
  assert.match(out.stdout, /ℹ pass 2\n/);
});
