import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from './kmeans.ts';
import { featureNames, featureVector, labelPersonas, slug, trainPersonaModel, type ProfileFeatures } from './personas.ts';

const CATEGORIES = ['electronics', 'fashion', 'home'];

/** Three kinds of people: big electronics spenders, casual fashion buyers, home browsers who never buy. */
function population(seed = 1, scale = 1): { profiles: ProfileFeatures[]; group: string[] } {
  const rng = createRng(seed);
  const between = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
  const profiles: ProfileFeatures[] = [];
  const group: string[] = [];
  const add = (g: string, p: Omit<ProfileFeatures, 'profile_id'>) => {
    profiles.push({ profile_id: `${g}-${profiles.length}`, ...p });
    group.push(g);
  };
  for (let i = 0; i < 60 * scale; i++) {
    const orders = between(8, 12);
    add('vip', { rfm_recency: 5, rfm_frequency: orders >= 10 ? 5 : 4, rfm_monetary: 5, lifetime_revenue: orders * between(150, 300), order_count: orders, event_count: orders + between(20, 30), categories: { electronics: 0.6 + rng() * 0.1 } });
  }
  for (let i = 0; i < 80 * scale; i++) {
    const orders = between(1, 2);
    add('casual', { rfm_recency: between(3, 4), rfm_frequency: orders, rfm_monetary: 1, lifetime_revenue: orders * between(20, 45), order_count: orders, event_count: orders + between(4, 8), categories: { fashion: 0.5 + rng() * 0.2 } });
  }
  for (let i = 0; i < 60 * scale; i++) {
    add('browser', { rfm_recency: 0, rfm_frequency: 0, rfm_monetary: 0, lifetime_revenue: 0, order_count: 0, event_count: between(2, 5), categories: { home: 0.8 + rng() * 0.2 } });
  }
  return { profiles, group };
}

describe('personas', () => {
  test('features: RFM, logged money and counts, category shares', () => {
    assert.deepEqual(featureNames(['a']), ['rfm_recency', 'rfm_frequency', 'rfm_monetary', 'log_lifetime_revenue', 'log_order_count', 'log_event_count', 'category:a']);
    const v = featureVector({ profile_id: 'x', rfm_recency: 5, rfm_frequency: 1, rfm_monetary: 2, lifetime_revenue: Math.E - 1, order_count: 0, event_count: Number.NaN, categories: { a: 0.25, b: 1 } }, ['a', 'c']);
    assert.deepEqual(v, [5, 1, 2, 1, 0, 0, 0.25, 0]);
  });

  test('slugs are label-safe', () => {
    assert.equal(slug('Home & Garden'), 'home-garden');
    assert.equal(slug('Électronique'), 'electronique');
    assert.equal(slug('!!!'), 'other');
    assert.ok(slug('x'.repeat(100)).length <= 24);
  });

  test('three behaviour groups → k = 3 by silhouette, one persona per group, readable ranked labels', async () => {
    const { profiles, group } = population();
    const steps: string[] = [];
    const model = await trainPersonaModel(profiles.map((p) => featureVector(p, CATEGORIES)), CATEGORIES, { kRange: [2, 6], seed: 1 }, (s) => void steps.push(s));
    assert.equal(model.k, 3, JSON.stringify(model.candidates.map((c) => [c.k, c.silhouette])));
    assert.ok(model.silhouette > 0.5, `silhouette ${model.silhouette}`);
    assert.deepEqual(steps.slice(0, 5), ['k=2', 'k=3', 'k=4', 'k=5', 'k=6']);
    const personaOf = (i: number) => model.personas[model.assignments[i]!]!.label;
    const byGroup = new Map<string, Set<string>>();
    group.forEach((g, i) => byGroup.set(g, (byGroup.get(g) ?? new Set()).add(personaOf(i))));
    assert.deepEqual([...byGroup.values()].map((s) => s.size), [1, 1, 1], 'each group is one persona');
    const label = (g: string) => [...byGroup.get(g)!][0]!;
    assert.equal(label('vip'), 'p1-high-value-frequent-electronics');
    assert.equal(label('casual'), 'p2-low-value-fashion');
    assert.equal(label('browser'), 'p3-non-buyer-occasional-home');
    assert.equal(model.n, 200);
    assert.deepEqual([...model.sizes].sort((a, b) => a - b), [60, 60, 80]);
    assert.ok(model.distances.every((d) => d >= 0 && Number.isFinite(d)));
  });

  test('persona ids are stable: other samples of the same population, other seeds and orders get the same labels', async () => {
    const labels = async (seed: number, modelSeed: number, reverse: boolean) => {
      const { profiles } = population(seed);
      const list = reverse ? [...profiles].reverse() : profiles;
      const model = await trainPersonaModel(list.map((p) => featureVector(p, CATEGORIES)), CATEGORIES, { kRange: [2, 6], seed: modelSeed });
      return model.personas.map((p) => p.label).sort();
    };
    const first = await labels(1, 1, false);
    assert.deepEqual(await labels(2, 7, true), first);
    assert.deepEqual(await labels(3, 99, false), first);
  });

  test('a given k is used as is; the k search runs on a sample for large inputs', async () => {
    const { profiles } = population(1, 10);
    const vectors = profiles.map((p) => featureVector(p, CATEGORIES));
    const fixed = await trainPersonaModel(vectors, CATEGORIES, { k: 2, seed: 1 });
    assert.equal(fixed.k, 2);
    assert.deepEqual(fixed.candidates, []);
    const searched = await trainPersonaModel(vectors, CATEGORIES, { kRange: [2, 5], seed: 1, searchSample: 600 });
    assert.equal(searched.k, 3);
    assert.equal(searched.n, 2000);
    await assert.rejects(trainPersonaModel(vectors.slice(0, 3), CATEGORIES, { k: 5 }), /k must be an integer/);
  });

  test('labels rank by monetary value whatever the cluster order', () => {
    const standardizer = { mean: [0, 0, 0, 0, 0, 0], std: [1, 1, 1, 1, 1, 1] };
    const low = [1, 1, 1, Math.log1p(10), Math.log1p(1), 1];
    const high = [5, 5, 5, Math.log1p(1000), Math.log1p(10), 1];
    const a = labelPersonas([low, high], standardizer, [], [10, 10]);
    const b = labelPersonas([high, low], standardizer, [], [10, 10]);
    assert.equal(a[1]!.rank, 1);
    assert.equal(b[0]!.rank, 1);
    assert.equal(a[1]!.label, b[0]!.label);
    assert.match(a[0]!.label, /^p2-/);
  });
});
