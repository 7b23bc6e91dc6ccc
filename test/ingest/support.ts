// Sending batches and checking exactly-once delivery, for the durability and Kafka-outage tests.
import assert from 'node:assert/strict';
import { eventually } from '../support/env.ts';
import type { Product } from '../support/product.ts';

/** What one sender had acknowledged: its run tag and how many events of it got a 200. */
export interface Sent {
  run: string;
  acknowledged: number;
  /** Answers other than 200 that were retried (with `retry`). */
  retried: number;
}

/**
 * Sends `count` batches of `size` track events tagged `properties.run = run` (and their place,
 * `b` and `i`), with a messageId each or, with `messageIds: false`, none, so the collector
 * derives them. Without `retry` only 200s count; with it, each batch is sent again after any
 * other answer, as an SDK does, until it gets a 200.
 */
export async function sendBatches(product: Product, count: number, size: number, run: string, options: { messageIds?: boolean; retry?: boolean; onAcknowledged?: () => void; onRetry?: () => void } = {}): Promise<Sent> {
  const sent: Sent = { run, acknowledged: 0, retried: 0 };
  for (let b = 0; b < count; b++) {
    // No timestamp: a stored duplicate would differ from the original in its receivedAt-derived
    // timestamp, which is in the events table's sorting key, so no ClickHouse merge can fold it away.
    const batch = Array.from({ length: size }, (_, i) => ({ type: 'track', ...(options.messageIds === false ? {} : { messageId: `${run}-${b}-${i}` }), anonymousId: `dur-${i % 17}`, event: 'Durable', properties: { run, b, i } }));
    for (;;) {
      const status = await product.post('/v1/batch', { batch }).then((r) => r.status, () => 0);
      if (status === 200) {
        sent.acknowledged += size;
        options.onAcknowledged?.();
      }
      if (status === 200 || !options.retry) break;
      sent.retried++;
      options.onRetry?.();
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  return sent;
}

/**
 * Every acknowledged event of these runs is in ClickHouse exactly once: the raw rows (no FINAL,
 * so an unmerged duplicate counts), the distinct messageIds and the distinct (run, b, i) places
 * all equal the acknowledged count. Rows are matched by run, not by messageId, so a duplicate
 * stored under another id fails the test too.
 */
export async function assertExactlyOnce(product: Product, sent: Sent[]): Promise<void> {
  const runs = sent.map((s) => s.run);
  const expected = sent.reduce((n, s) => n + s.acknowledged, 0);
  const count = async () => {
    const rows = await product.rows<{ rows: string; ids: string; places: string }>(
      `SELECT count() AS rows, uniqExact(message_id) AS ids, uniqExact(JSONExtractString(properties, 'run'), JSONExtractInt(properties, 'b'), JSONExtractInt(properties, 'i')) AS places
       FROM {db}.events WHERE JSONExtractString(properties, 'run') IN {runs:Array(String)}`,
      { runs },
    );
    return { rows: Number(rows[0]!.rows), ids: Number(rows[0]!.ids), places: Number(rows[0]!.places) };
  };
  await eventually(`${expected} events of ${runs.join(', ')} in ClickHouse`, async () => (await count()).places >= expected, 120_000);
  // Late duplicates (a re-consumed record, a retried request) would land after the originals.
  await new Promise((r) => setTimeout(r, 3_000));
  assert.deepEqual(await count(), { rows: expected, ids: expected, places: expected }, 'every acknowledged event is present, and present once');
}
