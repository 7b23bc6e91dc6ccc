// What the privacy tests share: sending events with unique message ids, and which of them are stored.
import assert from 'node:assert/strict';
import type { Product } from '../support/product.ts';

export function eventsOf(product: () => Product, tag: string) {
  let n = 0;
  return {
    /** Posts one event with a fresh messageId; asserts 200 and returns the id. */
    async send(path: string, body: object, source?: string): Promise<string> {
      const messageId = `m-${tag}-${++n}`;
      const r = await product().post(path, { messageId, ...body }, source);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return messageId;
    },
    /** The message ids of `ids` that are in the events table, sorted. */
    async stored(ids: string[]): Promise<string[]> {
      return (await product().rows<{ m: string }>('SELECT DISTINCT message_id AS m FROM {db}.events WHERE message_id IN {ids:Array(String)}', { ids })).map((r) => r.m).sort();
    },
    next: () => ++n,
  };
}
