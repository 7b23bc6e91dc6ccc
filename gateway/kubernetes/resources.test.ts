import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergePatch } from './resources.ts';

test('merge patch (RFC 7386): objects merge, null removes, arrays and scalars replace', () => {
  const spec = { rule: { all: [{ trait: 'a', op: 'eq', value: 1 }] }, refresh: { interval: '1h' }, mode: 'batch', description: 'd' };
  assert.deepEqual(mergePatch(spec, { refresh: { interval: null, cron: '@daily' }, description: null, rule: { any: [] } }), {
    rule: { all: [{ trait: 'a', op: 'eq', value: 1 }], any: [] },
    refresh: { cron: '@daily' },
    mode: 'batch',
  });
  assert.deepEqual(mergePatch(spec, { rule: { all: null, trait: 'b', op: 'exists' } }), { ...spec, rule: { trait: 'b', op: 'exists' } });
  assert.deepEqual(mergePatch({ a: [1, 2] }, { a: [3] }), { a: [3] });
  assert.deepEqual(mergePatch({ a: 1 }, {}), { a: 1 });
  assert.deepEqual(mergePatch('x', { a: { b: null, c: 1 } }), { a: { c: 1 } });
  assert.equal(spec.refresh.interval, '1h', 'the target is not changed');
});
