import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NOISE, NOISE_CLUSTER, NOISE_PERSONA, dbscan, dbscanPersonaOf, dbscanQuality, principalAxes, trainDbscanPersonas } from './dbscan.ts';
import { createRng } from './kmeans.ts';
import { featureVector } from './personas.ts';

/** Textbook DBSCAN over all pairs, growing clusters in input order (the reference). */
function naive(points: number[][], eps: number, minPoints: number): { labels: number[]; core: boolean[] } {
  const r2 = eps * eps;
  const d2 = (a: number[], b: number[]) => a.reduce((s, x, j) => s + (x - b[j]!) ** 2, 0);
  const neighbours = points.map((p) => points.flatMap((q, j) => (d2(p, q) <= r2 ? [j] : [])));
  const core = neighbours.map((l) => l.length >= minPoints);
  const labels = new Array<number>(points.length).fill(-1);
  let c = 0;
  for (let i = 0; i < points.length; i++) {
    if (labels[i] !== -1 || !core[i]) continue;
    labels[i] = c;
    const queue = [i];
    for (let h = 0; h < queue.length; h++) {
      for (const j of neighbours[queue[h]!]!) {
        if (labels[j] !== -1) continue;
        labels[j] = c;
        if (core[j]) queue.push(j);
      }
    }
    c++;
  }
  return { labels, core };
}

/** Points on a coarse lattice (many duplicates, many exact eps distances) plus continuous noise. */
function lattice(n: number, d: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, i) => Array.from({ length: d }, (_, j) => (i % 3 === 0 ? Math.floor(rng() * 4) * 0.5 : rng() * 3 + (j === 0 && i % 5 === 0 ? 6 : 0))));
}

describe('dbscan', () => {
  test('the same clusters, cores and noise as all-pairs DBSCAN, duplicates and ties at eps included', () => {
    for (const [n, d, seed] of [[600, 2, 1], [900, 5, 2], [700, 8, 3], [400, 14, 4]] as const) {
      const points = lattice(n, d, seed);
      for (const [eps, minPoints] of [[0.5, 4], [1, 8], [0.25, 2], [1.5, 20]] as const) {
        const expected = naive(points, eps, minPoints);
        const got = dbscan(points, { eps, minPoints });
        assert.deepEqual([...got.labels], expected.labels, `n=${n} d=${d} eps=${eps} minPoints=${minPoints}`);
        assert.deepEqual([...got.core].map(Boolean), expected.core);
        assert.equal(got.noise, expected.labels.filter((l) => l === -1).length);
        assert.equal(got.clusters, new Set(expected.labels.filter((l) => l >= 0)).size);
        assert.equal(got.sizes.reduce((s, x) => s + x, 0) + got.noise, n);
      }
    }
  });

  test('two dense groups, a bridge too thin to join them, outliers as noise', () => {
    const points: number[][] = [];
    for (let i = 0; i < 20; i++) points.push([i * 0.1, 0]); // group A: a line from 0 to 1.9
    for (let i = 0; i < 20; i++) points.push([5 + i * 0.1, 0]); // group B
    points.push([3.4, 0]); // alone between them: 1.5 from both ends
    points.push([100, 100], [-50, 3]);
    const result = dbscan(points, { eps: 0.25, minPoints: 3 });
    assert.equal(result.clusters, 2);
    assert.deepEqual(new Set(result.labels.slice(0, 20)), new Set([0]));
    assert.deepEqual(new Set(result.labels.slice(20, 40)), new Set([1]));
    assert.deepEqual([...result.labels.slice(40)], [NOISE, NOISE, NOISE]);
    assert.deepEqual(result.sizes, [20, 20]);
    assert.equal(result.noise, 3);
    assert.equal(result.core[0], 1, 'an end of a line has itself and two neighbours (0.1, 0.2 away) within eps');
    const border = dbscan([[0, 0], [0.1, 0], [0.2, 0], [0.4, 0], [0.7, 0]], { eps: 0.25, minPoints: 3 });
    assert.deepEqual([...border.core], [1, 1, 1, 0, 0]);
    assert.deepEqual([...border.labels], [0, 0, 0, 0, NOISE], 'a non-core point within eps of a core joins as a border point; one farther from every core is noise');
  });

  test('identical vectors count with their multiplicity', () => {
    const points = [...Array.from({ length: 5 }, () => [1, 1]), [9, 9]];
    const result = dbscan(points, { eps: 0.1, minPoints: 5 });
    assert.equal(result.distinct, 2);
    assert.deepEqual([...result.labels], [0, 0, 0, 0, 0, NOISE]);
    assert.deepEqual([...dbscan(points, { eps: 0.1, minPoints: 6 }).labels], [NOISE, NOISE, NOISE, NOISE, NOISE, NOISE]);
  });

  test('rejects bad parameters and ragged points', () => {
    assert.throws(() => dbscan([[0]], { eps: 0, minPoints: 2 }), /eps must be a positive number/);
    assert.throws(() => dbscan([[0]], { eps: Number.NaN, minPoints: 2 }), /eps must be a positive number/);
    assert.throws(() => dbscan([[0]], { eps: 1, minPoints: 1.5 }), /minPoints must be a positive integer/);
    assert.throws(() => dbscan([[0, 1], [0]], { eps: 1, minPoints: 2 }), /point 1 has 1 features, expected 2/);
    assert.throws(() => dbscan([[0, Infinity]], { eps: 1, minPoints: 2 }), /not a finite number/);
    assert.deepEqual(dbscan([], { eps: 1, minPoints: 2 }), { labels: new Int32Array(0), core: new Uint8Array(0), clusters: 0, sizes: [], noise: 0, distinct: 0, distanceChecks: 0 });
  });

  test('the principal-axes rotation keeps every distance', () => {
    const rng = createRng(5);
    const u = 300;
    const d = 6;
    const data = Float64Array.from({ length: u * d }, () => rng() * 3);
    // Feature 1 follows feature 0, so the rotation is not the identity.
    for (let i = 0; i < u; i++) data[i * d + 1] = data[i * d]! * 2 + rng() * 0.1;
    const rotated = principalAxes(data, new Float64Array(u).fill(1), u, d);
    const dist = (x: Float64Array, a: number, b: number) => Math.sqrt(Array.from({ length: d }, (_, j) => (x[a * d + j]! - x[b * d + j]!) ** 2).reduce((s, t) => s + t, 0));
    for (let k = 0; k < 200; k++) {
      const a = Math.floor(rng() * u);
      const b = Math.floor(rng() * u);
      assert.ok(Math.abs(dist(data, a, b) - dist(rotated, a, b)) < 1e-9);
    }
    const variance = (j: number) => Array.from({ length: u }, (_, i) => rotated[i * d + j]! ** 2).reduce((s, t) => s + t, 0) / u;
    assert.ok(variance(0) > variance(d - 1) * 5, 'the largest variance comes first');
  });

  test('scales: 30,000 profiles in 14 features need a small fraction of all pairs', () => {
    const rng = createRng(9);
    const between = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
    const categories = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const vectors = Array.from({ length: 30_000 }, (_, i) => {
      const orders = rng() < 0.4 ? 0 : between(1, 20);
      const shares = Object.fromEntries(categories.filter(() => rng() < 0.3).map((c) => [c, Math.round(rng() * 10) / 10]));
      return featureVector({ profile_id: `p${i}`, rfm_recency: orders ? between(1, 5) : 0, rfm_frequency: Math.min(5, Math.ceil(orders / 4)), rfm_monetary: orders ? between(1, 5) : 0, lifetime_revenue: orders * between(10, 300), order_count: orders, event_count: orders + between(1, 60), categories: shares }, categories);
    });
    const started = performance.now();
    const result = dbscan(vectors, { eps: 3, minPoints: 10 });
    const seconds = (performance.now() - started) / 1000;
    const pairs = (result.distinct * (result.distinct - 1)) / 2;
    assert.ok(result.distanceChecks < pairs * 0.05, `${result.distanceChecks} distance checks for ${pairs} pairs`);
    assert.ok(result.clusters >= 1);
    assert.ok(seconds < 60, `${seconds} s`);
  });
});

describe('dbscan personas', () => {
  const categories = ['electronics', 'outdoor'];
  /** 150 casual buyers spread widely, a dense niche of 40 outdoor enthusiasts, a dense group of 60 browsers, 3 oddballs. */
  function population() {
    const rng = createRng(3);
    const between = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
    const rows: Array<{ group: string; v: number[] }> = [];
    for (let i = 0; i < 40; i++) rows.push({ group: 'niche', v: featureVector({ profile_id: '', rfm_recency: 5, rfm_frequency: 5, rfm_monetary: 5, lifetime_revenue: 4000 + rng() * 100, order_count: 20, event_count: between(80, 82), categories: { outdoor: 0.95 + rng() * 0.05 } }, categories) });
    for (let i = 0; i < 60; i++) rows.push({ group: 'browser', v: featureVector({ profile_id: '', rfm_recency: 0, rfm_frequency: 0, rfm_monetary: 0, lifetime_revenue: 0, order_count: 0, event_count: between(3, 4), categories: { electronics: 0.5 + rng() * 0.05 } }, categories) });
    for (let i = 0; i < 3; i++) rows.push({ group: 'odd', v: featureVector({ profile_id: '', rfm_recency: 1, rfm_frequency: 5, rfm_monetary: 5, lifetime_revenue: 90_000 * (i + 1), order_count: 200 * (i + 1), event_count: 5000, categories: {} }, categories) });
    return rows;
  }

  test('dense groups become personas labelled like K-Means ones, the rest is noise with persona "noise"', async () => {
    const rows = population();
    const steps: string[] = [];
    const model = await trainDbscanPersonas(rows.map((r) => r.v), categories, { eps: 0.5, minPoints: 5 }, (s) => void steps.push(s));
    assert.deepEqual(steps, ['dbscan', 'silhouette']);
    assert.equal(model.k, 2);
    assert.equal(model.noise, 3);
    const personaOf = (group: string) => new Set(rows.flatMap((r, i) => (r.group === group ? [dbscanPersonaOf(model, i).persona] : [])));
    assert.deepEqual(personaOf('niche'), new Set(['p1-high-value-frequent-outdoor']));
    assert.deepEqual(personaOf('browser'), new Set(['p2-non-buyer-occasional-electronics']));
    assert.deepEqual(personaOf('odd'), new Set([NOISE_PERSONA]));
    const odd = rows.findIndex((r) => r.group === 'odd');
    assert.deepEqual(dbscanPersonaOf(model, odd), { persona: 'noise', cluster: NOISE_CLUSTER });
    assert.equal(model.assignments[odd], NOISE);
    assert.ok(model.distances[odd]! > 1, 'noise is far from every cluster mean');
    assert.ok(model.distances[0]! < 0.5, 'a member is near its cluster mean');
    assert.ok(model.silhouette > 0.8, `silhouette ${model.silhouette}`);

    const q = dbscanQuality(model) as { algorithm: string; k: number; noise: number; noiseShare: number; sizes: number[]; silhouette: number; clusters: Array<{ persona: string; size: number; rank: number | null }> };
    assert.equal(q.algorithm, 'dbscan');
    assert.equal(q.k, 2);
    assert.equal(q.noise, 3);
    assert.equal(q.noiseShare, 3 / 103);
    assert.deepEqual(q.sizes, [40, 60]);
    assert.deepEqual(q.clusters.map((c) => [c.persona, c.size, c.rank]), [['p1-high-value-frequent-outdoor', 40, 1], ['p2-non-buyer-occasional-electronics', 60, 2], ['noise', 3, null]]);
    assert.equal(q.silhouette, model.silhouette);
  });

  test('everything noise: no persona, silhouette 0', async () => {
    const rows = population();
    const model = await trainDbscanPersonas(rows.map((r) => r.v), categories, { eps: 0.01, minPoints: 50 });
    assert.equal(model.k, 0);
    assert.equal(model.noise, rows.length);
    assert.equal(model.silhouette, 0);
    assert.deepEqual(model.personas, []);
    assert.ok(model.distances.every((d) => d === 0));
  });
});
