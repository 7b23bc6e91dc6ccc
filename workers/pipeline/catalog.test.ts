import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CanonicalEvent } from '../../api/event.ts';
import { catalogRows } from './catalog.ts';

const event = (over: Partial<CanonicalEvent>): CanonicalEvent => ({
  type: 'track', messageId: 'm1', timestamp: '2026-12-01T10:00:00.000Z', receivedAt: '2026-12-01T10:00:01.000Z', event: 'Product Updated',
  properties: {}, traits: {}, context: {}, integrations: {}, source: 'shop', ...over,
});

test('a Product Updated event becomes an item row stamped with its event time, extra properties as attributes', () => {
  const { rows, refused } = catalogRows([
    event({ properties: { product_id: 'sku-1', name: 'Trail runner', category: 'Shoes > Running', price: 89.5, tags: ['sale'], image_url: 'https://cdn.example/1.jpg', in_stock: false, brand: 'Acme' } }),
  ]);
  assert.deepEqual(refused, []);
  assert.equal(rows.length, 1);
  const r = rows[0]!;
  assert.deepEqual([r.id, r.title, r.category, r.price, r.available, r.image, r.origin, r.updated_at], ['sku-1', 'Trail runner', ['Shoes', 'Running'], 89.5, 0, 'https://cdn.example/1.jpg', 'event:shop', '2026-12-01 10:00:00.000']);
  assert.deepEqual(JSON.parse(r.attributes), { brand: 'Acme' });
});

test('other events are ignored; an item without an id or title is refused with where it is wrong', () => {
  const { rows, refused } = catalogRows([
    event({ event: 'Product Viewed', properties: { product_id: 'x', name: 'y' } }),
    event({ type: 'page', event: undefined, properties: { product_id: 'x' } }),
    event({ messageId: 'bad', properties: { name: 'no id', price: -3 } }),
  ]);
  assert.equal(rows.length, 0);
  assert.equal(refused.length, 1);
  assert.equal(refused[0]!.messageId, 'bad');
  assert.ok(refused[0]!.problems.some((p) => p === 'properties.id: is required'), refused[0]!.problems.join('; '));
  assert.ok(refused[0]!.problems.some((p) => p.startsWith('properties.price:')), refused[0]!.problems.join('; '));
});
