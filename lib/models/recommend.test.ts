import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { capBasket, itemSimilarity, ItemSimilarityBuilder, recommendForBasket, similarItems, type BasketItem } from './recommend.ts';

const v = (item: string, count = 1): BasketItem => ({ item, purchased: false, count });
const p = (item: string, count = 1): BasketItem => ({ item, purchased: true, count });

describe('item-to-item recommendations', () => {
  test('cosine over weighted co-occurrence: known neighbours, exact scores', () => {
    const baskets = [
      [v('a'), v('b')],
      [v('a'), p('b')],
      [v('a'), v('c')],
      [v('b'), v('c')],
      [v('d')],
    ];
    const sim = itemSimilarity(baskets, { minCoOccurrence: 1 });
    // weights: view 1, purchase 3. a = (1,1,1,0,0), b = (1,3,0,1,0), c = (0,0,1,1,0)
    const cos = (x: number[], y: number[]) => x.reduce((s, xi, i) => s + xi * y[i]!, 0) / Math.sqrt(x.reduce((s, t) => s + t * t, 0) * y.reduce((s, t) => s + t * t, 0));
    const a = [1, 1, 1, 0, 0];
    const b = [1, 3, 0, 1, 0];
    const c = [0, 0, 1, 1, 0];
    const nA = similarItems(sim, 'a', 10);
    assert.deepEqual(nA.map((n) => n.item), ['b', 'c']);
    assert.ok(Math.abs(nA[0]!.score - cos(a, b)) < 1e-12);
    assert.ok(Math.abs(nA[1]!.score - cos(a, c)) < 1e-12);
    assert.equal(nA[0]!.together, 2);
    assert.deepEqual(similarItems(sim, 'c', 10).map((n) => n.item), ['a', 'b']);
    assert.ok(Math.abs(similarItems(sim, 'c', 10)[1]!.score - cos(c, b)) < 1e-12);
    assert.deepEqual(similarItems(sim, 'd', 10), []);
    assert.equal(sim.items, 4);
    assert.equal(sim.pairs, 3);
    assert.equal(sim.baskets, 5);
  });

  test('minimum co-occurrence drops chance pairs; topN bounds the lists', () => {
    const baskets: BasketItem[][] = [];
    for (let i = 0; i < 5; i++) baskets.push([v('phone'), v('case'), v(`noise-${i}`)]);
    const sim = itemSimilarity(baskets, { minCoOccurrence: 2 });
    assert.deepEqual(similarItems(sim, 'phone', 5).map((n) => n.item), ['case']);
    assert.equal(sim.neighbours.has('noise-0'), false);
    const wide = itemSimilarity(baskets, { minCoOccurrence: 1, neighbours: 3 });
    assert.equal(similarItems(wide, 'phone', 10).length, 3);
    assert.equal(similarItems(wide, 'phone', 10)[0]!.item, 'case');
  });

  test('baskets are capped: purchases first, then the most interacted items', () => {
    assert.deepEqual(capBasket([v('z', 5), v('a', 1), p('m', 1), v('b', 5), v('a', 9)], 3).map((b) => b.item), ['m', 'a', 'b']);
    const builder = new ItemSimilarityBuilder({ maxItemsPerPerson: 2, minCoOccurrence: 1 });
    builder.addBasket([v('x', 3), v('y', 2), v('z', 1)]);
    assert.deepEqual([...builder.build().neighbours.keys()], ['x', 'y']);
  });

  test('the pair table is pruned when it outgrows maxPairs, deterministically', () => {
    const baskets: BasketItem[][] = [];
    for (let i = 0; i < 50; i++) baskets.push([v('hot-a'), v('hot-b'), v(`rare-${i}`), v(`rare-${i + 1000}`)]);
    const a = itemSimilarity(baskets, { maxPairs: 40, minCoOccurrence: 2 });
    const b = itemSimilarity(baskets, { maxPairs: 40, minCoOccurrence: 2 });
    assert.ok(a.prunes > 0);
    assert.deepEqual([...a.neighbours], [...b.neighbours]);
    assert.equal(similarItems(a, 'hot-a', 1)[0]!.item, 'hot-b', 'frequent pairs survive pruning');
  });

  test('per person: items similar to theirs, without what they bought', () => {
    const baskets: BasketItem[][] = [];
    for (let i = 0; i < 10; i++) baskets.push([p('tent'), v('stove'), v('lamp')]);
    for (let i = 0; i < 10; i++) baskets.push([p('shirt'), v('tie')]);
    const sim = itemSimilarity(baskets);
    const recs = recommendForBasket(sim, [p('tent'), v('lamp')], 5);
    assert.deepEqual(recs.map((r) => r.item), ['stove', 'lamp'], 'viewed but not bought is still recommended');
    assert.ok(recs[0]!.score > recs[1]!.score);
    assert.deepEqual(recommendForBasket(sim, [p('shirt'), p('tie')], 5), [], 'everything similar is already bought');
    assert.deepEqual(recommendForBasket(sim, [v('unknown')], 5), []);
    assert.equal(recommendForBasket(sim, [v('tent')], 1).length, 1);
  });
});
