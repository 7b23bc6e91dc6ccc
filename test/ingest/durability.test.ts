// The promise: an acknowledged event is never lost and appears once, through worker crashes.
// Real processes, real signals. (Kafka outages: kafka-outage.test.ts.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isAlive } from '../../stack/proc.ts';
import { eventually } from '../support/env.ts';
import { startProduct, type Product } from '../support/product.ts';
import { assertExactlyOnce, sendBatches } from './support.ts';

const PIPELINE_MAIN = fileURLToPath(new URL('../../workers/pipeline/main.ts', import.meta.url));
let product: Product;

function spawnPipeline(): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', PIPELINE_MAIN], {
    env: { ...product.env, USPA_CONFIG: product.configPath, PORT: '0', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

describe('durability', { concurrency: false }, () => {
  after(() => product?.close());
  before(async () => {
    product = await startProduct({ sources: [{ name: 'web', type: 'web', topic: { partitions: 3 } }], withPipeline: false, pipeline: { batch: { maxEvents: 500, maxWaitMs: 50 } } });
  });

  test('a pipeline worker killed with SIGKILL mid-batch and restarted: every acknowledged event exactly once', { timeout: 300_000 }, async () => {
    let worker = spawnPipeline();
    const first = await sendBatches(product, 10, 200, 'pre');
    assert.equal(first.acknowledged, 2000);
    // Kill once the worker is visibly writing: some, not all, of the events are in ClickHouse.
    await eventually('the worker to be mid-stream', async () => {
      const r = await product.rows<{ n: string }>('SELECT count() AS n FROM {db}.events').catch(() => [{ n: '0' }]);
      return Number(r[0]!.n) > 0;
    }, 120_000);
    // Half of what is sent during the kill has no messageId: the ids the collector derives must fold re-consumed records too.
    const during = Promise.all([sendBatches(product, 5, 200, 'during'), sendBatches(product, 5, 200, 'during-no-ids', { messageIds: false })]);
    worker.kill('SIGKILL');
    await new Promise((r) => worker.once('exit', r));
    assert.equal(isAlive(worker.pid!), false);
    const partial = await product.rows<{ n: string }>('SELECT count() AS n FROM {db}.events');
    const acknowledged = [first, ...(await during)];
    const total = acknowledged.reduce((n, s) => n + s.acknowledged, 0);
    assert.equal(total, 4000);
    assert.ok(Number(partial[0]!.n) < total, `killed before finishing (${partial[0]!.n} of ${total} written)`);
    worker = spawnPipeline();
    try {
      await assertExactlyOnce(product, acknowledged);
    } finally {
      worker.kill('SIGTERM');
      await new Promise((r) => worker.once('exit', r));
    }
  });

  test('the exactly-once check itself fails on a duplicate: under another messageId, or under the same one, even after a merge', { timeout: 120_000 }, async () => {
    const sent = await sendBatches(product, 1, 10, 'checked');
    const worker = spawnPipeline();
    try {
      await assertExactlyOnce(product, [sent]);
    } finally {
      worker.kill('SIGTERM');
      await new Promise((r) => worker.once('exit', r));
    }
    const [original] = await product.rows<Record<string, unknown>>("SELECT * FROM {db}.events WHERE message_id = 'checked-0-0'");
    const copy = async (changes: Record<string, unknown>) => {
      await product.warehouse.insert('events', [{ ...original, ...changes }]);
      await product.warehouse.command('OPTIMIZE TABLE {db}.events FINAL');
    };
    await copy({ message_id: 'checked-0-0-again' });
    await assert.rejects(assertExactlyOnce(product, [sent]), /present once/, 'a copy under another messageId');
    await product.warehouse.command("ALTER TABLE {db}.events DELETE WHERE message_id = 'checked-0-0-again' SETTINGS mutations_sync = 1");
    await copy({ timestamp: '2020-01-01 00:00:00.000' });
    await assert.rejects(assertExactlyOnce(product, [sent]), /present once/, 'a copy under the same messageId, stored at another time');
  });
});
