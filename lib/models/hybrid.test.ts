import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CatalogItem } from '../../api/catalog.ts';
import { itemInterestKeys } from '../../api/catalog.ts';
import { CatalogIndex, DEFAULT_WEIGHTS, coOccurrenceFromNeighbours, interestsFromItems, recommend, type HybridOptions, type VisitorInput } from './hybrid.ts';
import { createRng } from './kmeans.ts';

const item = (id: string, category: string[], tags: string[] = [], available = true): CatalogItem => ({ id, title: id, category, tags, available, attributes: {} });

/** Shoes, books (the most popular by far) and kitchen items; a new trail shoe nobody has seen; a popular shoe sold out. */
function shop(): CatalogIndex {
  const items = [
    item('shoe-1', ['Shoes', 'Running'], ['sale']),
    item('shoe-2', ['Shoes', 'Running']),
    item('shoe-3', ['Shoes', 'Trail'], ['waterproof']),
    item('shoe-4', ['Shoes', 'Trail']),
    item('shoe-new', ['Shoes', 'Trail'], ['new', 'waterproof']),
    item('shoe-gone', ['Shoes', 'Running'], [], false),
    item('sock-1', ['Socks'], ['running']),
    item('book-1', ['Books'], ['bestseller']),
    item('book-2', ['Books'], ['bestseller']),
    item('book-3', ['Books', 'Adult'], ['adult']),
    item('pan-1', ['Kitchen'], ['sale']),
    item('pan-2', ['Kitchen']),
  ];
  const popularity = { 'book-1': 900, 'book-2': 800, 'book-3': 700, 'shoe-gone': 650, 'pan-1': 300, 'pan-2': 250, 'shoe-1': 120, 'shoe-2': 100, 'shoe-3': 90, 'shoe-4': 60, 'sock-1': 40 };
  return new CatalogIndex(items, popularity);
}

const ids = (list: Array<{ item: string }>) => list.map((r) => r.item);

describe('hybrid recommendations', () => {
  test('interest keys: every category level and tag, lower case, once', () => {
    assert.deepEqual(itemInterestKeys(item('x', ['Shoes', 'Running'], ['Sale', 'running', ' New  Arrivals '])), ['shoes', 'running', 'sale', 'new arrivals']);
    assert.deepEqual(shop().withKey('Shoes').sort(), ['shoe-1', 'shoe-2', 'shoe-3', 'shoe-4', 'shoe-gone', 'shoe-new']);
  });

  test('a cold visitor with two page views in shoes gets shoes first, then the popular rest', () => {
    const index = shop();
    const fromViews = interestsFromItems(index, [{ item: 'shoe-2' }, { item: 'shoe-3' }]);
    assert.equal(fromViews.shoes, 1);
    assert.equal(fromViews.running, 0.5);
    for (const [interests, after] of [[{ shoes: 1 }, ['book-1', 'book-2', 'book-3']], [fromViews, ['sock-1', 'book-1', 'book-2']]] as const) {
      const recs = recommend(index, { interests }, { limit: 8 });
      assert.deepEqual(new Set(ids(recs).slice(0, 5)), new Set(['shoe-1', 'shoe-2', 'shoe-3', 'shoe-4', 'shoe-new']), JSON.stringify(ids(recs)));
      assert.ok(recs.slice(0, 5).every((r) => r.reason === 'content' && r.signals.coOccurrence === 0));
      // Then by popularity — except that views of running shoes also make the sock tagged "running" a match.
      assert.deepEqual(ids(recs).slice(5), after);
    }
    // Nothing known about the visitor at all: popularity alone, the sold-out shoe skipped.
    assert.deepEqual(ids(recommend(index, {}, { limit: 5 })), ['book-1', 'book-2', 'book-3', 'pan-1', 'pan-2']);
  });

  test('a product added yesterday, with no co-occurrence and no popularity, appears when it matches the interests', () => {
    const index = shop();
    const input: VisitorInput = {
      coOccurrence: [{ item: 'shoe-1', score: 0.9 }, { item: 'sock-1', score: 0.8 }, { item: 'book-1', score: 0.7 }, { item: 'pan-1', score: 0.6 }, { item: 'book-2', score: 0.5 }],
      interests: { trail: 1, waterproof: 0.8, shoes: 0.5 },
    };
    const recs = recommend(index, input);
    const fresh = recs.find((r) => r.item === 'shoe-new');
    assert.ok(fresh, JSON.stringify(ids(recs)));
    assert.equal(fresh.reason, 'content');
    assert.equal(fresh.signals.coOccurrence, 0);
    assert.equal(fresh.signals.popularity, 0);
    assert.ok(fresh.signals.content > 0.8, JSON.stringify(fresh));
    assert.ok(ids(recs).indexOf('shoe-new') < ids(recs).indexOf('book-3'), 'ahead of a popular item that matches nothing');
    assert.equal(recs[0]!.item, 'shoe-1', 'co-occurrence still leads');
    // A visitor whose only signal is interests in trail shoes gets it near the top.
    assert.ok(ids(recommend(index, { interests: { trail: 1, new: 1 } }, { limit: 2 })).includes('shoe-new'));
    // Without interests the new item has nothing going for it.
    assert.ok(!ids(recommend(index, { coOccurrence: input.coOccurrence })).includes('shoe-new'));
  });

  test('unavailable and bought items never appear, whatever their signals, pins and boosts', () => {
    const index = shop();
    const input: VisitorInput = { coOccurrence: [{ item: 'shoe-gone', score: 5 }, { item: 'shoe-1', score: 4 }, { item: 'shoe-2', score: 1 }], interests: { shoes: 1, running: 1 }, bought: ['shoe-1'], exclude: ['pan-2'] };
    const options: HybridOptions = { limit: 100, rules: { pin: [{ item: 'shoe-gone', position: 1 }, { item: 'shoe-1', position: 2 }], boost: [{ category: 'running', factor: 10 }] } };
    const recs = ids(recommend(index, input, options));
    assert.equal(recs.length, index.size - 3);
    for (const never of ['shoe-gone', 'shoe-1', 'pan-2']) assert.ok(!recs.includes(never), never);
    assert.equal(recs[0], 'shoe-2');
  });

  test('pin, boost, bury and exclude rules', () => {
    const index = shop();
    const interests = { shoes: 1 };
    const base = ids(recommend(index, { interests }, { limit: 6 }));
    // Pins: at their position; past the end of a short list, at its end; an unknown item is ignored.
    const pinned = recommend(index, { interests }, { limit: 6, rules: { pin: [{ item: 'pan-2', position: 2 }, { item: 'nope', position: 1 }] } });
    assert.equal(pinned[1]!.item, 'pan-2');
    assert.equal(pinned[1]!.reason, 'pinned');
    assert.deepEqual(ids(pinned).filter((x) => x !== 'pan-2'), base.filter((x) => x !== 'pan-2').slice(0, 5));
    assert.deepEqual(ids(recommend(index, { interests }, { limit: 3, rules: { pin: [{ item: 'pan-2', position: 3 }] } })).at(-1), 'pan-2');
    assert.deepEqual(ids(recommend(index, {}, { limit: 100, rules: { pin: [{ item: 'sock-1', position: 50 }] } })).at(-1), 'sock-1');
    // Boost by tag lifts a book above every shoe; bury by category sinks the shoes below the books.
    const boosted = ids(recommend(index, { interests }, { limit: 6, rules: { boost: [{ tag: 'Bestseller', factor: 10 }] } }));
    assert.deepEqual(boosted.slice(0, 2), ['book-1', 'book-2']);
    const buried = ids(recommend(index, { interests }, { limit: 12, rules: { bury: [{ category: 'Shoes', factor: 0.1 }] } }));
    assert.ok(buried.indexOf('book-3') < buried.indexOf('shoe-1'), JSON.stringify(buried));
    const scores = recommend(index, { interests }, { limit: 12 });
    const buriedScores = recommend(index, { interests }, { limit: 12, rules: { bury: [{ category: 'Shoes', factor: 0.1 }] } });
    const scoreOf = (list: typeof scores, id: string) => list.find((r) => r.item === id)!.score;
    assert.ok(Math.abs(scoreOf(buriedScores, 'shoe-2') - 0.1 * scoreOf(scores, 'shoe-2')) < 1e-12, 'the factor multiplies the score');
    // Exclude by tag and by category.
    const excluded = ids(recommend(index, {}, { limit: 100, rules: { exclude: [{ tag: 'adult' }, { category: 'kitchen' }] } }));
    assert.ok(!excluded.includes('book-3') && !excluded.includes('pan-1') && !excluded.includes('pan-2'));
    assert.equal(excluded.length, index.size - 4);
  });

  test('the blend: signals normalized to 0..1, weighted, and the weights can be changed', () => {
    const index = shop();
    const input: VisitorInput = { coOccurrence: [{ item: 'pan-2', score: 10 }, { item: 'shoe-4', score: 5 }], interests: { shoes: 1 } };
    const recs = recommend(index, input, { limit: 12 });
    for (const r of recs) for (const s of Object.values(r.signals)) assert.ok(s >= 0 && s <= 1, JSON.stringify(r));
    const pan = recs.find((r) => r.item === 'pan-2')!;
    assert.equal(pan.signals.coOccurrence, 1);
    assert.equal(recs.find((r) => r.item === 'shoe-4')!.signals.coOccurrence, 0.5);
    assert.ok(Math.abs(pan.score - (DEFAULT_WEIGHTS.coOccurrence * 1 + DEFAULT_WEIGHTS.popularity * pan.signals.popularity)) < 1e-12);
    assert.equal(recs[0]!.item, 'pan-2');
    assert.equal(recommend(index, input, { limit: 1, weights: { coOccurrence: 0 } })[0]!.signals.content, 1, 'no co-occurrence weight: content leads');
    assert.throws(() => recommend(index, input, { weights: { content: -1 } }), /weight content must be a number ≥ 0/);
    assert.throws(() => recommend(index, input, { limit: 0 }), /limit must be an integer/);
    assert.throws(() => recommend(index, input, { rules: { boost: [{ tag: 'x', category: 'y', factor: 2 } as never] } }), /exactly one of tag or category/);
  });

  test('the early stop changes nothing: the same list as scoring every item', () => {
    const rng = createRng(21);
    const categories = ['A', 'B', 'C', 'D', 'E'];
    const tags = ['t1', 't2', 't3', 't4'];
    const items = Array.from({ length: 400 }, (_, i) => item(`it-${i}`, [categories[i % 5]!, `sub${i % 7}`], tags.filter(() => rng() < 0.3), rng() > 0.1));
    const popularity = Object.fromEntries(items.filter(() => rng() < 0.7).map((it) => [it.id, Math.floor(rng() * 1000)]));
    const index = new CatalogIndex(items, popularity);
    const most = Math.max(...Object.values(popularity).map(Math.log1p));
    for (let round = 0; round < 60; round++) {
      const input: VisitorInput = {
        coOccurrence: Array.from({ length: Math.floor(rng() * 15) }, () => ({ item: `it-${Math.floor(rng() * 400)}`, score: rng() })),
        interests: Object.fromEntries([...categories, ...tags].filter(() => rng() < 0.3).map((k) => [k.toLowerCase(), rng()])),
        bought: Array.from({ length: 5 }, () => `it-${Math.floor(rng() * 400)}`),
      };
      const rules = { boost: [{ tag: tags[round % 4]!, factor: 1 + rng() * 3 }], bury: [{ category: categories[round % 5]!, factor: rng() }] };
      const limit = 1 + Math.floor(rng() * 30);
      const got = recommend(index, input, { limit, rules });
      // Every item scored the slow way.
      const bought = new Set(input.bought);
      const coRaw = new Map<string, number>();
      for (const r of input.coOccurrence ?? []) coRaw.set(r.item, (coRaw.get(r.item) ?? 0) + r.score);
      const eligible = items.filter((it) => it.available && !bought.has(it.id));
      const contentRaw = (it: CatalogItem) => {
        const keys = itemInterestKeys(it);
        return keys.reduce((s, k) => s + (input.interests![k] ?? 0), 0) / Math.sqrt(keys.length);
      };
      const maxCo = Math.max(0, ...eligible.map((it) => coRaw.get(it.id) ?? 0));
      const maxContent = Math.max(0, ...eligible.map(contentRaw));
      const pop = (it: CatalogItem) => (popularity[it.id] ? Math.log1p(popularity[it.id]!) / most : 0);
      const factor = (it: CatalogItem) => (it.tags.includes(rules.boost[0]!.tag) ? rules.boost[0]!.factor : 1) * (it.category.includes(rules.bury[0]!.category) ? rules.bury[0]!.factor : 1);
      const expected = eligible
        .map((it) => ({ id: it.id, pop: pop(it), score: (0.6 * (maxCo ? (coRaw.get(it.id) ?? 0) / maxCo : 0) + 0.3 * (maxContent ? contentRaw(it) / maxContent : 0) + 0.1 * pop(it)) * factor(it) }))
        .sort((a, b) => b.score - a.score || b.pop - a.pop || (a.id < b.id ? -1 : 1))
        .slice(0, limit);
      assert.deepEqual(ids(got), expected.map((e) => e.id), `round ${round}`);
      got.forEach((r, k) => assert.ok(Math.abs(r.score - expected[k]!.score) < 1e-9));
    }
  });

  test('fast on the request path: well under 1 ms per decision for a 10,000-item catalog', () => {
    const rng = createRng(5);
    const categories = Array.from({ length: 40 }, (_, i) => `cat${i}`);
    const items = Array.from({ length: 10_000 }, (_, i) => item(`p${i}`, [categories[i % 40]!, `sub${i % 200}`], [`tag${i % 30}`, `tag${(i * 7) % 30}`], rng() > 0.05));
    const popularity = Object.fromEntries(items.map((it, i) => [it.id, Math.floor(10_000 / (1 + i))]));
    const built = performance.now();
    const index = new CatalogIndex(items, popularity);
    const buildMs = performance.now() - built;
    const inputs: VisitorInput[] = Array.from({ length: 200 }, () => ({
      coOccurrence: Array.from({ length: 20 }, () => ({ item: `p${Math.floor(rng() * 10_000)}`, score: rng() })),
      interests: { [`cat${Math.floor(rng() * 40)}`]: 1, [`tag${Math.floor(rng() * 30)}`]: 0.6, [`sub${Math.floor(rng() * 200)}`]: 0.3 },
      bought: Array.from({ length: 10 }, () => `p${Math.floor(rng() * 10_000)}`),
    }));
    const options: HybridOptions = { limit: 10, rules: { pin: [{ item: 'p42', position: 3 }], boost: [{ tag: 'tag3', factor: 1.5 }], bury: [{ category: 'cat7', factor: 0.5 }], exclude: [{ tag: 'tag29' }] } };
    for (const input of inputs) recommend(index, input, options); // warm up
    const times: number[] = [];
    for (let round = 0; round < 5; round++) {
      for (const input of inputs) {
        const started = performance.now();
        const recs = recommend(index, input, options);
        times.push(performance.now() - started);
        assert.equal(recs.length, 10);
      }
    }
    times.sort((a, b) => a - b);
    const median = times[times.length >> 1]!;
    assert.ok(median < 1, `median ${median.toFixed(3)} ms (build ${buildMs.toFixed(0)} ms)`);
  });

  test('co-occurrence from the neighbours of what the visitor looked at', () => {
    const neighbours: Record<string, Array<{ item: string; score: number }>> = {
      a: [{ item: 'b', score: 0.5 }, { item: 'c', score: 0.4 }],
      b: [{ item: 'a', score: 0.5 }, { item: 'c', score: 0.2 }],
    };
    const scores = coOccurrenceFromNeighbours([{ item: 'a', weight: 2 }, { item: 'b' }], (x) => neighbours[x]);
    assert.deepEqual(scores, [{ item: 'c', score: 2 * 0.4 + 0.2 }], 'summed and weighted; the items looked at are left out');
  });
});
