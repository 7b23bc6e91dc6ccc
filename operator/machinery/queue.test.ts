import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from './queue.ts';

test('queue: a key added twice is handed out once', async () => {
  const q = new WorkQueue();
  q.add('ns/a');
  q.add('ns/a');
  q.add('ns/b');
  assert.equal(q.depth, 2);
  assert.equal(await q.get(), 'ns/a');
  assert.equal(await q.get(), 'ns/b');
});

test('queue: a key changed while being reconciled is re-queued after done, not handed to a second worker', async () => {
  const q = new WorkQueue();
  q.add('ns/a');
  const key = await q.get();
  q.add('ns/a');
  assert.equal(q.depth, 0, 'not queued while processing');
  q.done(key!);
  assert.equal(q.depth, 1);
  assert.equal(await q.get(), 'ns/a');
});

test('queue: failures back off exponentially per key and forget resets them', () => {
  const q = new WorkQueue({ baseMs: 100, maxMs: 1000 });
  const delays = [1, 2, 3, 4, 5].map(() => q.addRateLimited('ns/a'));
  assert.ok(delays[0]! >= 90 && delays[0]! <= 110, `first delay ${delays[0]}`);
  assert.ok(delays[2]! >= 360 && delays[2]! <= 440, `third delay ${delays[2]}`);
  assert.ok(delays[4]! <= 1100, 'capped');
  assert.equal(q.failuresOf('ns/a'), 5);
  q.forget('ns/a');
  assert.equal(q.failuresOf('ns/a'), 0);
  q.shutDown();
});

test('queue: addAfter delivers later, and shutDown releases waiting workers', async () => {
  const q = new WorkQueue();
  q.addAfter('ns/late', 30);
  assert.equal(q.depth, 0);
  assert.equal(await q.get(), 'ns/late');
  const waiting = q.get();
  q.shutDown();
  assert.equal(await waiting, undefined);
});
