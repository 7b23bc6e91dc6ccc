import assert from 'node:assert/strict';
import { test } from 'node:test';
import { align, describeSeries, format } from './series.ts';

test('series are aligned on the bucket grid of the window, empty buckets as zeros', () => {
  const window = { from: '2026-12-01T10:00:30Z', to: '2026-12-01T10:03:10Z', bucketSeconds: 60 };
  const [times, a, b] = align(window, [[{ t: '2026-12-01T10:01:00Z', n: 5 }], [{ t: '2026-12-01T10:00:00Z', n: 1 }, { t: '2026-12-01T10:03:00Z', n: 2 }, { t: '2026-12-01T09:00:00Z', n: 9 }]]);
  assert.deepEqual(times.map((t) => new Date(t * 1000).toISOString().slice(11, 16)), ['10:00', '10:01', '10:02', '10:03']);
  assert.deepEqual(a, [0, 5, 0, 0]);
  assert.deepEqual(b, [1, 0, 0, 2], 'a point outside the window is left out');
});

test('a chart is summed up in words for screen readers', () => {
  assert.equal(describeSeries(['web'], [[1, 4, 2]], 'events'), 'web: 7 events in all, at most 4 per bucket');
  assert.equal(format(12_345), '12.3k');
  assert.equal(format(0.125), '0.13');
});
