import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressWatch } from './progress.ts';

test('progress: offsets that stay put while events wait are a stall once the window has passed; moving again clears it', () => {
  const w = new ProgressWatch(60_000);
  assert.equal(w.observe('ns/p', 100, 5, 0), undefined, 'first sight');
  assert.equal(w.observe('ns/p', 100, 5, 59_999), undefined, 'within the window');
  assert.equal(w.observe('ns/p', 100, 9, 60_000), 0, 'stalled since the first sight');
  assert.equal(w.observe('ns/p', 101, 8, 75_000), undefined, 'it moved');
  assert.equal(w.observe('ns/p', 101, 8, 130_000), undefined, 'the window starts again at the move');
  assert.equal(w.observe('ns/p', 101, 8, 135_000), 75_000);
});

test('progress: nothing waiting is never a stall, however long the offsets stay put', () => {
  const w = new ProgressWatch(1_000);
  assert.equal(w.observe('ns/idle', 7, 0, 0), undefined);
  assert.equal(w.observe('ns/idle', 7, 0, 10_000), undefined);
  assert.equal(w.observe('ns/idle', 7, 3, 10_500), undefined, 'events just arrived: the window starts at the last idle sight');
  assert.equal(w.observe('ns/idle', 7, 3, 11_000), 10_000);
});
