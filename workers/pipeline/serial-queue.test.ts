import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { SerialQueue } from './serial-queue.ts';

test('tasks run one at a time in the order they were queued', async () => {
  const queue = new SerialQueue();
  const log: string[] = [];
  const task = (name: string, ms: number) => async () => {
    log.push(`start ${name}`);
    await sleep(ms);
    log.push(`end ${name}`);
    return name;
  };
  const results = await Promise.all([queue.run(task('a', 20)), queue.run(task('b', 0)), queue.run(task('c', 5))]);
  assert.deepEqual(results, ['a', 'b', 'c']);
  assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
});

test('a failed task rejects its own caller and the tasks after it still run', async () => {
  const queue = new SerialQueue();
  const failed = queue.run(() => Promise.reject(new Error('boom')));
  const next = queue.run(() => Promise.resolve('ran'));
  await assert.rejects(failed, /boom/);
  assert.equal(await next, 'ran');
  await queue.idle();
});

test('idle waits for every task queued so far', async () => {
  const queue = new SerialQueue();
  let done = false;
  void queue.run(async () => {
    await sleep(10);
    done = true;
  });
  await queue.idle();
  assert.equal(done, true);
});
