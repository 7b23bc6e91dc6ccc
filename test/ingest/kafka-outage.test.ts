// @serial: freezes the stack's Kafka broker (SIGSTOP), which every other engine test uses
// The promise, through a Kafka outage: while the broker hangs the collector answers 503 within its
// bounded retries (never a silent 200, never a hung request); once it returns, nothing acknowledged
// is missing and nothing appears twice — also when the client retries a batch whose records the
// broker did write after the collector had given up (a 503 that followed a write).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '../../stack/stack.ts';
import { eventually } from '../support/env.ts';
import { startProduct, type Product } from '../support/product.ts';
import { assertExactlyOnce, sendBatches } from './support.ts';

/**
 * The collector's producer gives up after 4 attempts (3 retries) with backoff capped at 2 s, each
 * attempt bounded by the 5 s Kafka request timeout, twice when it reconnects first: 46 s at most,
 * and a hung request would exceed it. (Measured: well under 20 s.)
 */
const ANSWER_WITHIN_MS = 4 * (5_000 + 5_000) + 3 * 2_000;

describe('Kafka outage', { concurrency: false }, () => {
  let product: Product;
  after(() => product?.close());
  before(async () => {
    product = await startProduct({ sources: [{ name: 'web', type: 'web', topic: { partitions: 3 } }], pipeline: { batch: { maxEvents: 500, maxWaitMs: 50 } } });
  });

  test('Kafka stopped: the collector answers 503 (never a silent 200); after it returns nothing acknowledged is missing', { timeout: 300_000 }, async (t) => {
    const kafkaPid = status().state?.engines.kafka?.processes[0]?.pid;
    if (!kafkaPid) {
      t.skip('Kafka is external (KAFKA_BROKERS set): this test freezes the local broker');
      return;
    }
    const before = await sendBatches(product, 3, 50, 'before');
    assert.equal(before.acknowledged, 150);
    // SIGSTOP freezes the broker: connections stay open but nothing is answered, the harder case.
    process.kill(kafkaPid, 'SIGSTOP');
    let stopped = true;
    try {
      const started = Date.now();
      const r = await product.post('/v1/track', { messageId: `outage-${Date.now()}`, anonymousId: 'o', event: 'During Outage' });
      const tookMs = Date.now() - started;
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.equal(r.headers.get('retry-after'), '5');
      assert.match(r.body.error ?? '', /Kafka unavailable/);
      console.log(`kafka outage: the collector answered 503 after ${(tookMs / 1000).toFixed(1)} s`);
      assert.ok(tookMs < ANSWER_WITHIN_MS, `answered after ${tookMs} ms, not within the producer's retry budget (${ANSWER_WITHIN_MS} ms)`);
    } finally {
      if (stopped) process.kill(kafkaPid, 'SIGCONT');
      stopped = false;
    }
    const afterOutage = await eventually('the collector to accept again', async () => {
      const sent = await sendBatches(product, 1, 50, 'after');
      return sent.acknowledged ? sent : undefined;
    }, 120_000);
    await assertExactlyOnce(product, [before, afterOutage]);
  });

  test('Kafka frozen while batches without messageIds are in flight: each client retries until 200, and ClickHouse has every event once', { timeout: 300_000 }, async (t) => {
    const kafkaPid = status().state?.engines.kafka?.processes[0]?.pid;
    if (!kafkaPid) {
      t.skip('Kafka is external (KAFKA_BROKERS set): this test freezes the local broker');
      return;
    }
    // Four clients, three batches of 1,000 events each, no messageIds (the collector derives them).
    let [acknowledged, refused] = [0, 0];
    const senders = Promise.all([0, 1, 2, 3].map((c) => sendBatches(product, 3, 1000, `retried-${c}`, { messageIds: false, retry: true, onAcknowledged: () => acknowledged++, onRetry: () => refused++ })));
    // Freeze once the first batch is through, so the others are mid-send: their produce requests
    // reach the frozen broker, which writes them when it resumes, after the collector answered 503.
    await eventually('the first batch to be acknowledged', async () => acknowledged > 0, 60_000);
    process.kill(kafkaPid, 'SIGSTOP');
    try {
      await eventually('a client to be refused while Kafka is frozen', async () => refused > 0, ANSWER_WITHIN_MS + 10_000);
    } finally {
      process.kill(kafkaPid, 'SIGCONT');
    }
    const sent = await senders;
    assert.deepEqual(sent.map((s) => s.acknowledged), [3000, 3000, 3000, 3000]);
    console.log(`kafka outage: ${sent.reduce((n, s) => n + s.retried, 0)} batch requests retried after a refusal`);
    await assertExactlyOnce(product, sent);
  });
});
