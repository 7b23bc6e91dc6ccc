// Sending batches and checking exactly-once delivery, for the durability and Kafka-outage tests.
import assert from 'node:assert/strict';
import type { Product } from '../support/product.ts';

let n = 0;

/** Sends `count` batches of `size` track events; returns the messageIds the collector acknowledged (200). */
export async function sendBatches(product: Product, count: number, size: number, prefix: string): Promise<string[]> {
  const acknowledged: string[] = [];
  for (let b = 0; b < count; b++) {
    const batch = Array.from({ length: size }, (_, i) => ({ type: 'track', messageId: `${prefix}-${b}-${i}-${++n}`, anonymousId: `dur-${i % 17}`, event: 'Durable', properties: { b, i } }));
    const r = await product.post('/v1/batch', { batch });
    if (r.status === 200) acknowledged.push(...batch.map((e) => e.messageId));
  }
  return acknowledged;
}

export async function assertExactlyOnce(product: Product, ids: string[]): Promise<void> {
  await product.waitForEvents(ids, 120_000);
  const rows = await product.rows<{ rows: string; unique: string }>('SELECT count() AS rows, uniqExact(message_id) AS unique FROM {db}.events WHERE message_id IN {ids:Array(String)}', { ids });
  assert.equal(Number(rows[0]!.unique), ids.length, 'every acknowledged event is present');
  assert.equal(Number(rows[0]!.rows), ids.length, 'and present once');
}
