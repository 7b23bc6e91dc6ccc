import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseK, createRng, fitStandardizer, kCandidates, kmeans, nearest, sampleIndices, silhouette, standardize, unstandardizePoint } from './kmeans.ts';

/** Gaussian blobs around the given centres, deterministic. Returns points and their true blob. */
function blobs(centres: number[][], perBlob: number, spread: number, seed = 7): { points: number[][]; truth: number[] } {
  const rng = createRng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const points: number[][] = [];
  const truth: number[] = [];
  centres.forEach((c, b) => {
    for (let i = 0; i < perBlob; i++) {
      points.push(c.map((x) => x + spread * gauss()));
      truth.push(b);
    }
  });
  return { points, truth };
}

/** Each true blob maps onto exactly one cluster, and different blobs onto different clusters. */
function assertRecovered(assignments: ArrayLike<number>, truth: number[], k: number): void {
  const clusterOf = new Map<number, Set<number>>();
  truth.forEach((t, i) => {
    if (!clusterOf.has(t)) clusterOf.set(t, new Set());
    clusterOf.get(t)!.add(assignments[i]!);
  });
  const used = new Set<number>();
  for (const [blob, clusters] of clusterOf) {
    assert.equal(clusters.size, 1, `blob ${blob} is split over clusters ${[...clusters]}`);
    const [c] = clusters;
    assert.ok(!used.has(c!), `two blobs share cluster ${c}`);
    used.add(c!);
  }
  assert.equal(used.size, k);
}

describe('k-means', () => {
  test('the PRNG is seeded and uniform enough', () => {
    const a = createRng(42);
    const b = createRng(42);
    const xs = Array.from({ length: 10_000 }, () => a());
    assert.deepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => b()));
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean}`);
    assert.notDeepEqual(xs.slice(0, 5), Array.from({ length: 5 }, createRng(43)));
  });

  test('deterministic samples: distinct, sorted, within range, same for the same seed', () => {
    const s = sampleIndices(10_000, 500, 3);
    assert.equal(new Set(s).size, 500);
    assert.ok(s.every((i, j) => i >= 0 && i < 10_000 && (j === 0 || s[j - 1]! < i)));
    assert.deepEqual(s, sampleIndices(10_000, 500, 3));
    assert.notDeepEqual(s, sampleIndices(10_000, 500, 4));
    assert.deepEqual(sampleIndices(3, 10, 1), [0, 1, 2]);
  });

  test('standardization: zero mean, unit variance, constant features become 0, and back', () => {
    const points = [[1, 100, 5], [2, 300, 5], [3, 500, 5]];
    const s = fitStandardizer(points);
    assert.deepEqual(s.mean.map((x) => Math.round(x * 1e9) / 1e9), [2, 300, 5]);
    assert.equal(s.std[2], 0);
    const z = standardize(points, s);
    for (let j = 0; j < 2; j++) {
      const col = z.map((p) => p[j]!);
      assert.ok(Math.abs(col.reduce((a, b) => a + b, 0)) < 1e-9);
      assert.ok(Math.abs(col.reduce((a, b) => a + b * b, 0) / col.length - 1) < 1e-9);
    }
    assert.deepEqual(z.map((p) => p[2]), [0, 0, 0]);
    assert.deepEqual(unstandardizePoint(z[1]!, s).map((x) => Math.round(x * 1e6) / 1e6), [2, 300, 5]);
  });

  test('separable clusters are found exactly, and the model converges', () => {
    const { points, truth } = blobs([[0, 0], [10, 0], [0, 10]], 60, 0.8);
    const model = kmeans(points, 3, { seed: 1 });
    assertRecovered(model.assignments, truth, 3);
    assert.ok(model.converged);
    assert.deepEqual([...model.sizes].sort(), [60, 60, 60]);
    for (const c of model.centroids) {
      const d = Math.min(...[[0, 0], [10, 0], [0, 10]].map((t) => Math.hypot(c[0]! - t[0]!, c[1]! - t[1]!)));
      assert.ok(d < 0.5, `centroid ${c} is near a true centre`);
    }
    const inertia = points.reduce((s, p, i) => s + model.centroids[model.assignments[i]!]!.reduce((t, x, j) => t + (p[j]! - x) ** 2, 0), 0);
    assert.ok(Math.abs(inertia - model.inertia) < 1e-6);
    assert.equal(nearest([9.5, 0.2], model.centroids).cluster, model.assignments[60]);
  });

  test('same data + seed → the same model; another seed still finds the same partition', () => {
    const { points, truth } = blobs([[0, 0, 0], [6, 6, 0], [0, 6, 6], [6, 0, 6]], 50, 1);
    const a = kmeans(points, 4, { seed: 9 });
    const b = kmeans(points, 4, { seed: 9 });
    assert.deepEqual(a.centroids, b.centroids);
    assert.deepEqual([...a.assignments], [...b.assignments]);
    assert.equal(a.inertia, b.inertia);
    const c = kmeans(points, 4, { seed: 10 });
    assertRecovered(c.assignments, truth, 4);
  });

  test('degenerate inputs: k = n, duplicates, bad k', () => {
    const m = kmeans([[0], [1], [2]], 3);
    assert.equal(m.inertia, 0);
    assert.deepEqual([...m.sizes], [1, 1, 1]);
    const dup = kmeans([[1, 1], [1, 1], [1, 1], [5, 5]], 2);
    assert.deepEqual([...dup.sizes].sort(), [1, 3]);
    assert.throws(() => kmeans([[0]], 2), /cannot make 2 clusters/);
    assert.throws(() => kmeans([[0], [1]], 0), /positive integer/);
    assert.throws(() => kmeans([[0], [Number.NaN]], 1), /finite/);
    assert.deepEqual(kCandidates([[1], [1], [1], [2]], [2, 6]), [2], 'no more clusters than distinct points');
    assert.throws(() => kCandidates([[1]], [1, 3]), /kRange/);
  });

  test('silhouette: near 1 for tight separated clusters, lower for a wrong k, matches a brute-force computation', () => {
    const { points, truth } = blobs([[0, 0], [10, 0], [0, 10]], 40, 0.5);
    const right = silhouette(points, truth);
    assert.ok(right > 0.85, `silhouette ${right}`);
    const two = kmeans(points, 2, { seed: 1 });
    assert.ok(silhouette(points, two.assignments) < right);
    // brute force on a small set
    const small = [[0], [1], [5], [6], [7]];
    const labels = [0, 0, 1, 1, 1];
    const d = (a: number[], b: number[]) => Math.abs(a[0]! - b[0]!);
    const expected = small.map((p, i) => {
      const own = small.filter((_, j) => j !== i && labels[j] === labels[i]);
      const other = small.filter((_, j) => labels[j] !== labels[i]);
      const a = own.reduce((s, q) => s + d(p, q), 0) / own.length;
      const b = other.reduce((s, q) => s + d(p, q), 0) / other.length;
      return (b - a) / Math.max(a, b);
    });
    assert.ok(Math.abs(silhouette(small, labels) - expected.reduce((s, x) => s + x, 0) / expected.length) < 1e-12);
    assert.equal(silhouette(small, [0, 0, 0, 0, 0]), 0, 'one cluster scores 0');
    assert.equal(silhouette([[0], [1], [5]], [0, 1, 1]), (0 + (1 - 4) / 4 + (5 - 4) / 5) / 3, 'a singleton cluster scores 0');
  });

  test('silhouette above the exact limit is sampled, deterministically, and close to the exact value', () => {
    const { points, truth } = blobs([[0, 0], [4, 0], [0, 4]], 1500, 1.2);
    const exact = silhouette(points, truth, { exactLimit: 10_000 });
    const sampled = silhouette(points, truth, { exactLimit: 3000, sampleSize: 1500, seed: 5 });
    assert.equal(sampled, silhouette(points, truth, { exactLimit: 3000, sampleSize: 1500, seed: 5 }));
    assert.ok(Math.abs(exact - sampled) < 0.03, `exact ${exact} vs sampled ${sampled}`);
  });

  test('chooseK picks the true k by silhouette', () => {
    for (const [centres, k] of [
      [[[0, 0], [10, 0], [0, 10]], 3],
      [[[0, 0], [8, 8]], 2],
      [[[0, 0, 0], [8, 0, 0], [0, 8, 0], [0, 0, 8], [8, 8, 8]], 5],
    ] as Array<[number[][], number]>) {
      const { points, truth } = blobs(centres, 50, 0.7);
      const chosen = chooseK(points, [2, 7], { seed: 3 });
      assert.equal(chosen.k, k, JSON.stringify(chosen.candidates.map((c) => [c.k, c.silhouette.toFixed(3)])));
      assert.equal(chosen.candidates.length, 6);
      assertRecovered(chosen.model.assignments, truth, k);
      assert.deepEqual(chooseK(points, [2, 7], { seed: 3 }).candidates, chosen.candidates, 'deterministic');
    }
  });

  test('fast enough for a worker: 20,000 points × 12 features, k = 5', () => {
    const centres = Array.from({ length: 5 }, (_, c) => Array.from({ length: 12 }, (_, j) => ((c * 7 + j * 3) % 11) - 5));
    const { points } = blobs(centres, 4000, 1.5);
    const started = performance.now();
    const model = kmeans(points, 5, { seed: 1, restarts: 2 });
    silhouette(points, model.assignments);
    const ms = performance.now() - started;
    assert.ok(ms < 15_000, `${Math.round(ms)} ms`);
  });
});
