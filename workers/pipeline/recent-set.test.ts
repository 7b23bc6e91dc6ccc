import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecentSet } from './recent-set.ts';

test('RecentSet remembers at least the last capacity keys and never more than twice that', () => {
  const s = new RecentSet(100);
  for (let i = 0; i < 10_000; i++) {
    s.add(`k${i}`);
    assert.ok(s.size <= 200);
  }
  for (let i = 10_000 - 100; i < 10_000; i++) assert.ok(s.has(`k${i}`), `k${i}`);
  assert.equal(s.has('k0'), false);
  assert.throws(() => new RecentSet(0), /at least 1/);
});
