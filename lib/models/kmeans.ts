// K-Means, pure and deterministic: the same points and seed always give the same model.
//
//   standardize → k-means++ seeding (seeded PRNG, greedy local trials) → Lloyd iterations until the
//   centroids stop moving (relative tolerance) or maxIterations → best of `restarts` runs by inertia.
//   silhouette: exact for up to `exactLimit` points, else on a deterministic sample.
//   chooseK: the k of best silhouette over a range (ties → the smaller k).
//
// Points are number[][] at the API; internally one Float64Array (row-major) for speed.

export type Points = ReadonlyArray<ReadonlyArray<number>>;

/** mulberry32: a small, fast, seeded PRNG returning floats in [0, 1). */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `size` distinct indices out of [0, n), chosen by a seeded partial Fisher–Yates shuffle, ascending. */
export function sampleIndices(n: number, size: number, seed: number): number[] {
  if (size >= n) return Array.from({ length: n }, (_, i) => i);
  const rng = createRng(seed);
  const swapped = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(rng() * (n - i));
    const vi = swapped.get(i) ?? i;
    const vj = swapped.get(j) ?? j;
    swapped.set(j, vi);
    out.push(vj);
  }
  return out.sort((a, b) => a - b);
}

export interface Standardizer {
  mean: number[];
  /** Population standard deviation; 0 for a constant feature (which then standardizes to 0). */
  std: number[];
}

export function fitStandardizer(points: Points): Standardizer {
  const d = points[0]?.length ?? 0;
  const mean = new Array<number>(d).fill(0);
  const m2 = new Array<number>(d).fill(0);
  let n = 0;
  for (const p of points) {
    n++;
    for (let j = 0; j < d; j++) {
      // Welford: stable for large values (revenue) and long inputs.
      const x = p[j]!;
      const delta = x - mean[j]!;
      mean[j] = mean[j]! + delta / n;
      m2[j] = m2[j]! + delta * (x - mean[j]!);
    }
  }
  const std = m2.map((v) => (n > 0 ? Math.sqrt(v / n) : 0)).map((s) => (s < 1e-12 ? 0 : s));
  return { mean, std };
}

export function standardize(points: Points, s: Standardizer): number[][] {
  return points.map((p) => standardizePoint(p, s));
}

export function standardizePoint(p: ReadonlyArray<number>, s: Standardizer): number[] {
  return p.map((x, j) => (s.std[j]! === 0 ? 0 : (x - s.mean[j]!) / s.std[j]!));
}

/** Back from standardized units to the features' own units. */
export function unstandardizePoint(z: ReadonlyArray<number>, s: Standardizer): number[] {
  return z.map((v, j) => s.mean[j]! + v * s.std[j]!);
}

export interface KMeansOptions {
  /** PRNG seed of the k-means++ seeding; default 1. */
  seed?: number;
  /** Default 300. */
  maxIterations?: number;
  /** Converged when the largest squared centroid shift ≤ tolerance × mean feature variance. Default 1e-6. */
  tolerance?: number;
  /** Independent seedings; the run of least inertia wins. Default 4. */
  restarts?: number;
}

export interface KMeansModel {
  k: number;
  centroids: number[][];
  /** Cluster of each input point. */
  assignments: Int32Array;
  /** Squared Euclidean distance of each point to its centroid. */
  distances: Float64Array;
  sizes: number[];
  /** Sum of squared distances to the assigned centroids. */
  inertia: number;
  iterations: number;
  converged: boolean;
}

interface Matrix {
  n: number;
  d: number;
  data: Float64Array;
}

function toMatrix(points: Points): Matrix {
  const n = points.length;
  const d = points[0]?.length ?? 0;
  const data = new Float64Array(n * d);
  points.forEach((p, i) => {
    if (p.length !== d) throw new Error(`kmeans: point ${i} has ${p.length} features, expected ${d}`);
    for (let j = 0; j < d; j++) {
      const x = p[j]!;
      if (!Number.isFinite(x)) throw new Error(`kmeans: point ${i} feature ${j} is not a finite number`);
      data[i * d + j] = x;
    }
  });
  return { n, d, data };
}

function dist2(a: Float64Array, ai: number, b: Float64Array, bi: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const t = a[ai + j]! - b[bi + j]!;
    s += t * t;
  }
  return s;
}

/** Number of distinct points (k-means cannot make more non-empty clusters than that). */
export function distinctCount(points: Points, limit = Infinity): number {
  const seen = new Set<string>();
  for (const p of points) {
    seen.add(p.join(','));
    if (seen.size >= limit) break;
  }
  return seen.size;
}

/** k-means++ seeding with 2 + ⌊ln k⌋ greedy local trials per centre (as scikit-learn). */
function seedCentroids(m: Matrix, k: number, rng: () => number): Float64Array {
  const { n, d, data } = m;
  const centroids = new Float64Array(k * d);
  const first = Math.floor(rng() * n);
  centroids.set(data.subarray(first * d, first * d + d), 0);
  const closest = new Float64Array(n);
  let potential = 0;
  for (let i = 0; i < n; i++) {
    closest[i] = dist2(data, i * d, centroids, 0, d);
    potential += closest[i]!;
  }
  const trials = 2 + Math.floor(Math.log(k));
  const candidate = new Float64Array(n);
  const best = new Float64Array(n);
  for (let c = 1; c < k; c++) {
    let bestIndex = -1;
    let bestPotential = Infinity;
    for (let t = 0; t < trials; t++) {
      // Sample a point with probability ∝ its squared distance to the nearest chosen centre.
      let index: number;
      if (potential <= 0) index = Math.floor(rng() * n);
      else {
        let r = rng() * potential;
        index = n - 1;
        for (let i = 0; i < n; i++) {
          r -= closest[i]!;
          if (r < 0) {
            index = i;
            break;
          }
        }
      }
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const v = Math.min(closest[i]!, dist2(data, i * d, data, index * d, d));
        candidate[i] = v;
        sum += v;
      }
      if (sum < bestPotential) {
        bestPotential = sum;
        bestIndex = index;
        best.set(candidate);
      }
    }
    centroids.set(data.subarray(bestIndex * d, bestIndex * d + d), c * d);
    closest.set(best);
    potential = bestPotential;
  }
  return centroids;
}

interface Run {
  centroids: Float64Array;
  assignments: Int32Array;
  distances: Float64Array;
  inertia: number;
  iterations: number;
  converged: boolean;
}

function assign(m: Matrix, centroids: Float64Array, k: number, assignments: Int32Array, distances: Float64Array): { inertia: number; changed: number } {
  const { n, d, data } = m;
  let inertia = 0;
  let changed = 0;
  for (let i = 0; i < n; i++) {
    let bestC = 0;
    let bestD = Infinity;
    for (let c = 0; c < k; c++) {
      const v = dist2(data, i * d, centroids, c * d, d);
      if (v < bestD) {
        bestD = v;
        bestC = c;
      }
    }
    if (assignments[i] !== bestC) changed++;
    assignments[i] = bestC;
    distances[i] = bestD;
    inertia += bestD;
  }
  return { inertia, changed };
}

function lloyd(m: Matrix, k: number, initial: Float64Array, maxIterations: number, tolerance: number): Run {
  const { n, d, data } = m;
  let centroids = initial;
  const assignments = new Int32Array(n).fill(-1);
  const distances = new Float64Array(n);
  // Tolerance relative to the data's spread, so it means the same for any scale.
  let variance = 0;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] = mean[j]! + data[i * d + j]! / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) variance += (data[i * d + j]! - mean[j]!) ** 2 / (n * d);
  const bound = tolerance * variance;

  let iterations = 0;
  let converged = false;
  let { inertia } = assign(m, centroids, k, assignments, distances);
  while (iterations < maxIterations) {
    iterations++;
    const next = new Float64Array(k * d);
    const counts = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      const c = assignments[i]!;
      counts[c] = counts[c]! + 1;
      for (let j = 0; j < d; j++) next[c * d + j] = next[c * d + j]! + data[i * d + j]!;
    }
    const taken = new Set<number>();
    for (let c = 0; c < k; c++) {
      if (counts[c]! > 0) {
        for (let j = 0; j < d; j++) next[c * d + j] = next[c * d + j]! / counts[c]!;
        continue;
      }
      // An empty cluster takes the point farthest from its centroid (lowest index on ties).
      let far = -1;
      let farD = -1;
      for (let i = 0; i < n; i++) {
        if (!taken.has(i) && distances[i]! > farD) {
          farD = distances[i]!;
          far = i;
        }
      }
      taken.add(far);
      next.set(data.subarray(far * d, far * d + d), c * d);
    }
    let shift = 0;
    for (let c = 0; c < k; c++) shift = Math.max(shift, dist2(next, c * d, centroids, c * d, d));
    centroids = next;
    const step = assign(m, centroids, k, assignments, distances);
    inertia = step.inertia;
    if (step.changed === 0 || shift <= bound) {
      converged = true;
      break;
    }
  }
  return { centroids, assignments, distances, inertia, iterations, converged };
}

export function kmeans(points: Points, k: number, options: KMeansOptions = {}): KMeansModel {
  const m = toMatrix(points);
  if (!Number.isInteger(k) || k < 1) throw new Error(`kmeans: k must be a positive integer, got ${k}`);
  if (m.n < k) throw new Error(`kmeans: ${m.n} points cannot make ${k} clusters`);
  const rng = createRng(options.seed ?? 1);
  const restarts = Math.max(1, options.restarts ?? 4);
  let best: Run | undefined;
  for (let r = 0; r < restarts; r++) {
    const run = lloyd(m, k, seedCentroids(m, k, rng), options.maxIterations ?? 300, options.tolerance ?? 1e-6);
    if (!best || run.inertia < best.inertia - 1e-9 * Math.max(1, Math.abs(best.inertia))) best = run;
  }
  const run = best!;
  const centroids = Array.from({ length: k }, (_, c) => Array.from(run.centroids.subarray(c * m.d, c * m.d + m.d)));
  const sizes = new Array<number>(k).fill(0);
  for (const c of run.assignments) sizes[c] = sizes[c]! + 1;
  return { k, centroids, assignments: run.assignments, distances: run.distances, sizes, inertia: run.inertia, iterations: run.iterations, converged: run.converged };
}

/** The nearest centroid of a point and its Euclidean distance. */
export function nearest(point: ReadonlyArray<number>, centroids: Points): { cluster: number; distance: number } {
  let cluster = 0;
  let best = Infinity;
  centroids.forEach((c, i) => {
    let s = 0;
    for (let j = 0; j < c.length; j++) s += (point[j]! - c[j]!) ** 2;
    if (s < best) {
      best = s;
      cluster = i;
    }
  });
  return { cluster, distance: Math.sqrt(best) };
}

export interface SilhouetteOptions {
  /** Up to this many points the score is exact (O(n²)). Default 3000. */
  exactLimit?: number;
  /** Above exactLimit: the score of a deterministic sample of this many points, among themselves. Default 2000. */
  sampleSize?: number;
  seed?: number;
}

/**
 * Mean silhouette coefficient (−1 … 1; higher = tighter, better separated clusters), Euclidean.
 * A point alone in its cluster scores 0; fewer than two clusters scores 0.
 */
export function silhouette(points: Points, assignments: ArrayLike<number>, options: SilhouetteOptions = {}): number {
  const n = points.length;
  const exactLimit = options.exactLimit ?? 3000;
  const indices = n <= exactLimit ? Array.from({ length: n }, (_, i) => i) : sampleIndices(n, options.sampleSize ?? 2000, options.seed ?? 1);
  const m = toMatrix(indices.map((i) => points[i]!));
  const labels = indices.map((i) => assignments[i]!);
  const clusters = [...new Set(labels)].sort((a, b) => a - b);
  if (clusters.length < 2) return 0;
  const slotOf = new Map(clusters.map((c, i) => [c, i]));
  const slots = Int32Array.from(labels, (l) => slotOf.get(l)!);
  const counts = new Float64Array(clusters.length);
  for (const o of slots) counts[o] = counts[o]! + 1;
  const { n: s, d, data } = m;
  const sums = new Float64Array(clusters.length);
  let total = 0;
  for (let i = 0; i < s; i++) {
    sums.fill(0);
    for (let j = 0; j < s; j++) {
      if (i === j) continue;
      const o = slots[j]!;
      sums[o] = sums[o]! + Math.sqrt(dist2(data, i * d, data, j * d, d));
    }
    const own = slots[i]!;
    if (counts[own]! <= 1) continue;
    const a = sums[own]! / (counts[own]! - 1);
    let b = Infinity;
    for (let c = 0; c < clusters.length; c++) if (c !== own && counts[c]! > 0) b = Math.min(b, sums[c]! / counts[c]!);
    const denominator = Math.max(a, b);
    total += denominator > 0 ? (b - a) / denominator : 0;
  }
  return total / s;
}

export interface KCandidate {
  k: number;
  silhouette: number;
  inertia: number;
  sizes: number[];
}

export interface ChooseKOptions extends KMeansOptions, SilhouetteOptions {}

/** One k of a search: the model and its scores. */
export function evaluateK(points: Points, k: number, options: ChooseKOptions = {}): { candidate: KCandidate; model: KMeansModel } {
  const model = kmeans(points, k, options);
  const score = silhouette(points, model.assignments, options);
  return { candidate: { k, silhouette: score, inertia: model.inertia, sizes: model.sizes }, model };
}

/** The ks worth trying: the range clamped to [2, min(n − 1, distinct points)]. */
export function kCandidates(points: Points, kRange: readonly [number, number]): number[] {
  const [lo, hi] = kRange;
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 2 || hi < lo) throw new Error(`chooseK: kRange must be integers 2 ≤ min ≤ max, got [${lo}, ${hi}]`);
  const top = Math.min(hi, points.length - 1, distinctCount(points, hi + 1));
  const ks: number[] = [];
  for (let k = lo; k <= top; k++) ks.push(k);
  return ks;
}

/** The best candidate: highest silhouette; within 1e-9, the smaller k. */
export function bestCandidate(candidates: readonly KCandidate[]): KCandidate {
  if (candidates.length === 0) throw new Error('chooseK: no candidate k (too few distinct points)');
  return candidates.reduce((best, c) => (c.silhouette > best.silhouette + 1e-9 ? c : best));
}

/** The k of best silhouette in kRange (inclusive), with its model and every candidate's scores. */
export function chooseK(points: Points, kRange: readonly [number, number], options: ChooseKOptions = {}): { k: number; model: KMeansModel; candidates: KCandidate[] } {
  const evaluated = kCandidates(points, kRange).map((k) => evaluateK(points, k, options));
  const best = bestCandidate(evaluated.map((e) => e.candidate));
  return { k: best.k, model: evaluated.find((e) => e.candidate.k === best.k)!.model, candidates: evaluated.map((e) => e.candidate) };
}
