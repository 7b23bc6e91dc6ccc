import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OfflineEvaluator, evaluateOffline, hashUnit, splitBasket } from './evaluate.ts';
import type { BasketItem } from './recommend.ts';

const at = (item: string, time: number, purchased = false): BasketItem => ({ item, purchased, count: 1, at: time });

describe('offline evaluation', () => {
  test('hashUnit is deterministic, in [0, 1), and depends on the seed', () => {
    assert.equal(hashUnit('p-1', 1), hashUnit('p-1', 1));
    assert.notEqual(hashUnit('p-1', 1), hashUnit('p-1', 2));
    assert.notEqual(hashUnit('p-1', 1), hashUnit('p-2', 1));
    const values = Array.from({ length: 10_000 }, (_, i) => hashUnit(`profile-${i}`, 7));
    assert.ok(values.every((v) => v >= 0 && v < 1));
    const share = values.filter((v) => v < 0.2).length / values.length;
    assert.ok(Math.abs(share - 0.2) < 0.02, `share ${share}`);
  });

  test('the split holds out the most recent items: at least one, never all, only for sampled people with two items', () => {
    const basket = [at('old', 1), at('newest', 50), at('mid', 20), at('recent', 40), at('early', 10)];
    const split = splitBasket('someone', basket, { profiles: 1, holdout: 0.2 });
    assert.equal(split.evaluated, true);
    assert.deepEqual(split.test, ['newest']);
    assert.deepEqual(split.train.map((b) => b.item), ['old', 'early', 'mid', 'recent']);
    assert.deepEqual(splitBasket('someone', basket, { profiles: 1, holdout: 0.5 }).test, ['mid', 'recent', 'newest'], '⌈0.5 × 5⌉ = 3, oldest first');
  });

  test('hold-out sizes: ⌈holdout × items⌉, at least 1, at most items − 1; one item or not sampled: nothing held out', () => {
    const five = ['a', 'b', 'c', 'd', 'e'].map((x, i) => at(x, i));
    assert.equal(splitBasket('p', five, { profiles: 1, holdout: 0.5 }).test.length, 3);
    assert.equal(splitBasket('p', five, { profiles: 1, holdout: 0.99 }).test.length, 4);
    assert.equal(splitBasket('p', five, { profiles: 1, holdout: 0.01 }).test.length, 1);
    const one = splitBasket('p', [at('a', 1), at('a', 2)], { profiles: 1 });
    assert.deepEqual(one, { evaluated: false, train: [at('a', 1), at('a', 2)], test: [] }, 'one distinct item');
    assert.deepEqual(splitBasket('p', five, { profiles: 0 }), { evaluated: false, train: five, test: [] });
    // Duplicates of an item merge, keeping its latest time.
    assert.deepEqual(splitBasket('p', [at('a', 9), at('b', 5), at('a', 1)], { profiles: 1 }).test, ['a']);
  });

  test('which people are evaluated depends on the hash of their id and the seed only', () => {
    const basket = [at('a', 1), at('b', 2)];
    const picked = (seed: number) => Array.from({ length: 2000 }, (_, i) => `p${i}`).filter((id) => splitBasket(id, basket, { seed, profiles: 0.2 }).evaluated);
    assert.deepEqual(picked(1), picked(1));
    assert.notDeepEqual(picked(1), picked(2));
    assert.ok(Math.abs(picked(1).length - 400) < 60, `${picked(1).length} of 2000`);
    // Without times, ties are broken by the hash, not by the input order.
    const untimed: BasketItem[] = ['a', 'b', 'c', 'd', 'e'].map((item) => ({ item, purchased: false }));
    assert.deepEqual(splitBasket('p', untimed, { profiles: 1 }).test, splitBasket('p', [...untimed].reverse(), { profiles: 1 }).test);
  });

  test('exact figures on a small example: held-out items never reach training', () => {
    const people = [
      { profile_id: 'A', items: [at('x', 1), at('y', 2)] }, // train x, test y
      { profile_id: 'B', items: [at('x', 1), at('y', 2), at('z', 3)] }, // train x y, test z
      { profile_id: 'C', items: [at('y', 1), at('z', 2)] }, // train y, test z
      { profile_id: 'D', items: [at('w', 1)] }, // one item: training only
    ];
    const q = evaluateOffline(people, { profiles: 1, similarity: { minCoOccurrence: 1 } });
    assert.equal(q.evaluatedProfiles, 3);
    assert.equal(q.heldOutItems, 3);
    assert.equal(q.items, 4);
    assert.equal(q.k, 10);
    assert.deepEqual(q.split, { method: 'last-items-by-time', profiles: 1, holdout: 0.2, seed: 1 });
    // Training baskets [x], [x y], [y], [w]: the model's only pair is x–y; z was only ever held out.
    // A: y (hit); B: nothing new; C: x (miss).
    assert.deepEqual(q.model, { precision: 0.0333, recall: 0.3333, coverage: 0.5 });
    // Popularity x 2, y 2, w 1 (z never trained on). A: y w (hit); B: w; C: x w.
    assert.deepEqual(q.popularity, { precision: 0.0333, recall: 0.3333, coverage: 0.75 });
    const k1 = evaluateOffline(people, { profiles: 1, k: 1, similarity: { minCoOccurrence: 1 } });
    assert.deepEqual(k1.model, { precision: 0.3333, recall: 0.3333, coverage: 0.5 });
  });

  test('at most maxProfiles people are scored; none evaluable gives null figures', () => {
    const people = Array.from({ length: 30 }, (_, i) => ({ profile_id: `p${i}`, items: [at('a', 1), at('b', 2), at(`c${i % 3}`, 3)] }));
    const evaluator = new OfflineEvaluator({ profiles: 1, maxProfiles: 5 });
    for (const p of people) evaluator.add(p.profile_id, p.items);
    assert.equal(evaluator.finish().evaluatedProfiles, 5);
    const none = evaluateOffline([{ profile_id: 'x', items: [at('a', 1)] }]);
    assert.equal(none.evaluatedProfiles, 0);
    assert.equal(none.model, null);
    assert.equal(none.popularity, null);
    assert.throws(() => new OfflineEvaluator({ k: 0 }), /k must be a positive integer/);
    assert.throws(() => new OfflineEvaluator({ holdout: 1 }), /holdout must be a share/);
  });
});
