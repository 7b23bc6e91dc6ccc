// The promise: an acknowledged event is never lost and appears once, through worker crashes and
// Kafka outages. Real processes, real signals.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { status } from '../../stack/stack.ts';
import { isAlive } from '../../stack/proc.ts';
import { eventually } from '../support/env.ts';
import { startProduct, type Product } from '../support/product.ts';

const PIPELINE_MAIN = fileURLToPath(new URL('../../workers/pipeline/main.ts', import.meta.url));
let product: Product;
let n = 0;

function spawnPipeline(): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', PIPELINE_MAIN], {
    env: { ...product.env, USPA_CONFIG: product.configPath, PORT: '0', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

async function sendBatches(count: number, size: number, prefix: string): Promise<string[]> {
  const acknowledged: string[] = [];
  for (let b = 0; b < count; b++) {
    const batch = Array.from({ length: size }, (_, i) => ({ type: 'track', messageId: `${prefix}-${b}-${i}-${++n}`, anonymousId: `dur-${i % 17}`, event: 'Durable', properties: { b, i } }));
    const r = await product.post('/v1/batch', { batch });
    if (r.status === 200) acknowledged.push(...batch.map((e) => e.messageId));
  }
  return acknowledged;
}

async function assertExactlyOnce(ids: string[]): Promise<void> {
  await product.waitForEvents(ids, 120_000);
  const rows = await product.rows<{ rows: string; unique: string }>('SELECT count() AS rows, uniqExact(message_id) AS unique FROM {db}.events WHERE message_id IN {ids:Array(String)}', { ids });
  assert.equal(Number(rows[0]!.unique), ids.length, 'every acknowledged event is present');
  assert.equal(Number(rows[0]!.rows), ids.length, 'and present once');
}

describe('durability', { concurrency: false }, () => {
  after(() => product?.close());
  before(async () => {
    product = await startProduct({ sources: [{ name: 'web', type: 'web', topic: { partitions: 3 } }], withPipeline: false, pipeline: { batch: { maxEvents: 500, maxWaitMs: 50 } } });
  });

  test('a pipeline worker killed with SIGKILL mid-batch and restarted: every acknowledged event exactly once', { timeout: 300_000 }, async () => {
    let worker = spawnPipeline();
    const first = await sendBatches(10, 200, 'pre');
    // Kill once the worker is visibly writing: some, not all, of the events are in ClickHouse.
    await eventually('the worker to be mid-stream', async () => {
      const r = await product.rows<{ n: string }>('SELECT count() AS n FROM {db}.events').catch(() => [{ n: '0' }]);
      return Number(r[0]!.n) > 0;
    }, 120_000);
    const during = sendBatches(10, 200, 'during');
    worker.kill('SIGKILL');
    await new Promise((r) => worker.once('exit', r));
    assert.equal(isAlive(worker.pid!), false);
    const partial = await product.rows<{ n: string }>('SELECT count() AS n FROM {db}.events');
    const acknowledged = [...first, ...(await during)];
    assert.ok(Number(partial[0]!.n) < acknowledged.length, `killed before finishing (${partial[0]!.n} of ${acknowledged.length} written)`);
    worker = spawnPipeline();
    try {
      await assertExactlyOnce(acknowledged);
    } finally {
      worker.kill('SIGTERM');
      await new Promise((r) => worker.once('exit', r));
    }
  });

  test('Kafka stopped: the collector answers 503 (never a silent 200); after it returns nothing acknowledged is missing', { timeout: 300_000 }, async (t) => {
    const kafkaPid = status().state?.engines.kafka?.processes[0]?.pid;
    if (!kafkaPid) {
      t.skip('Kafka is external (KAFKA_BROKERS set): this test freezes the local broker');
      return;
    }
    await product.startPipeline();
    const before = await sendBatches(3, 50, 'before');
    assert.equal(before.length, 150);
    // SIGSTOP freezes the broker: connections stay open but nothing is answered, the harder case.
    process.kill(kafkaPid, 'SIGSTOP');
    let stopped = true;
    try {
      const started = Date.now();
      const r = await product.post('/v1/track', { messageId: `outage-${++n}`, anonymousId: 'o', event: 'During Outage' });
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.equal(r.headers.get('retry-after'), '5');
      assert.match(r.body.error ?? '', /Kafka unavailable/);
      assert.ok(Date.now() - started < 120_000);
    } finally {
      if (stopped) process.kill(kafkaPid, 'SIGCONT');
      stopped = false;
    }
    const afterOutage = await eventually('the collector to accept again', async () => {
      const ids = await sendBatches(1, 50, 'after');
      return ids.length ? ids : undefined;
    }, 120_000);
    await assertExactlyOnce([...before, ...afterOutage]);
  });
});
