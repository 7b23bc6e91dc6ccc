import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSegmentChange } from './segment-changes.ts';

test('segment-changes records: a valid one passes as it is; each malformed field is named', () => {
  const record = { namespace: 'shop', segment: 'vip', version: 3, profileId: 'p-1', change: 'entered', at: '2026-01-01T00:00:00.000Z' };
  assert.deepEqual(parseSegmentChange(record), { change: record });
  assert.equal(parseSegmentChange({ ...record, version: '1' }).problem, 'version: must be a number');
  assert.equal(parseSegmentChange({ ...record, change: 'left' }).problem, 'change: must be "entered" or "exited"');
  assert.equal(parseSegmentChange({ ...record, profileId: '' }).problem, 'profileId: must be a non-empty string');
  assert.equal(parseSegmentChange(null).problem, 'not a JSON object');
});
