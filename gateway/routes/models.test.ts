import assert from 'node:assert/strict';
import { test } from 'node:test';
import { personasOf } from './models.ts';

test("a personas version's personas are its quality's clusters in rank order, noise included", () => {
  const quality = { k: 2, clusters: [{ persona: 'p1-high-value', rank: 1, size: 30, share: 0.3, centroid: [1] }, { persona: 'noise', rank: null, size: 70, share: 0.7, centroid: null }] };
  assert.deepEqual(personasOf(quality), [{ label: 'p1-high-value', size: 30, share: 0.3 }, { label: 'noise', size: 70, share: 0.7 }]);
  assert.deepEqual(personasOf({ k: 0 }), []);
});
