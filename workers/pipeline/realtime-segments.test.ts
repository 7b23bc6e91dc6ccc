import { test } from 'node:test';
import assert from 'node:assert/strict';
import { segmentChangeRecord } from './realtime-segments.ts';

test('a realtime change is keyed by profile and names its namespace and Segment', () => {
  const record = segmentChangeRecord('uspa.shop.segment-changes', { segment: 'shop/vips', profileId: 'p-1', change: 'entered' }, '2026-01-01T00:00:00.000Z');
  assert.equal(record.topic, 'uspa.shop.segment-changes');
  assert.equal(record.key, 'p-1');
  assert.deepEqual(JSON.parse(record.value), { namespace: 'shop', segment: 'vips', version: 0, profileId: 'p-1', change: 'entered', at: '2026-01-01T00:00:00.000Z', origin: 'realtime' });
});
