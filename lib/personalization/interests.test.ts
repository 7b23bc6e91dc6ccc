import { test } from 'node:test';
import assert from 'node:assert/strict';
import { itemInterestKeys } from '../../api/catalog.ts';
import { interestsOf, productsOf, type InterestEvent } from './interests.ts';

const DAY = 86_400_000;
const now = Date.UTC(2026, 11, 1);
const ev = (over: Partial<InterestEvent>): InterestEvent => ({ event: 'Product Viewed', at: now, products: [], categories: [], tags: [], topics: [], ...over });
const catalog = new Map([
  ['sku-run', { category: ['Shoes', 'Running'], tags: ['Sale'] }],
  ['sku-hat', { category: ['Hats'], tags: [] }],
]);

test('an event counts once, whatever number of keys it carries: shares are of interactions', () => {
  const i = interestsOf([ev({ products: ['sku-run'] }), ev({ products: ['sku-hat'] })], catalog, now);
  assert.deepEqual(i, { hats: 0.5, running: 0.5, sale: 0.5, shoes: 0.5 });
});

test('two page views in shoes make a cold visitor all about shoes', () => {
  const i = interestsOf([ev({ event: '', topics: ['shoes'] }), ev({ event: '', categories: ['Shoes > Trail'] })], catalog, now);
  assert.equal(i.shoes, 1);
  assert.equal(i.trail, 0.5);
});

test('recency: an event 30 days old weighs half of one today; buying weighs three views', () => {
  const i = interestsOf([ev({ products: ['sku-hat'], at: now - 30 * DAY }), ev({ products: ['sku-run'] })], catalog, now);
  assert.equal(i.hats, Math.round((0.5 / 1.5) * 1000) / 1000);
  const bought = interestsOf([ev({ event: 'Order Completed', products: ['sku-hat'] }), ev({ products: ['sku-run'] })], catalog, now);
  assert.equal(bought.hats, 0.75);
  const future = interestsOf([ev({ products: ['sku-hat'], at: now + 10 * DAY }), ev({ products: ['sku-run'] })], catalog, now);
  assert.equal(future.hats, 0.5, 'a future timestamp weighs as now');
});

test('unknown products and events without keys do not count; no events, no interests', () => {
  assert.deepEqual(interestsOf([ev({ products: ['nope'] })], catalog, now), {});
  const i = interestsOf([ev({ products: ['nope'] }), ev({ products: ['sku-hat'] })], catalog, now);
  assert.deepEqual(i, { hats: 1 });
});

test('keys are lower case and trimmed; at most 50 kept, strongest first', () => {
  assert.deepEqual(itemInterestKeys({ category: [' Running  Shoes '], tags: ['RUNNING shoes', 'x'] }), ['running shoes', 'x']);
  const many = Array.from({ length: 60 }, (_, n) => ev({ tags: [`t${String(n).padStart(2, '0')}`], at: now - n * DAY }));
  const i = interestsOf(many, catalog, now);
  assert.equal(Object.keys(i).length, 50);
  assert.ok('t00' in i && !('t59' in i));
});

test('productsOf reads product_id, sku and products[]', () => {
  assert.deepEqual(productsOf({ product_id: 'a', products: [{ product_id: 'b' }, { sku: 7 }, null, { product_id: 'a' }] }), ['a', 'b', '7']);
  assert.deepEqual(productsOf({ sku: 'x' }), ['x']);
  assert.deepEqual(productsOf({}), []);
});
