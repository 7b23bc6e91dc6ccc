// DBSCAN personas, pure and deterministic: density-based clusters over the same standardized
// features K-Means uses (personas.ts: featureVector → standardizeFeatures), for the niche groups a
// K-Means of a few personas folds into a bigger one. It needs no k, and people who fit no dense
// group stay out of every persona instead of stretching one.
//
//   core point  at least minPoints points (itself included) within eps of it — Euclidean, in
//               standardized units (1 = one standard deviation of a feature);
//   cluster     core points connected through chains of cores within eps of each other, plus the
//               border points within eps of one of its cores (a border point within reach of two
//               clusters joins the first to reach it, clusters being grown in input order);
//   noise       everything else: label NOISE (−1), persona NOISE_PERSONA ("noise"), stored in
//               profile_personas with cluster NOISE_CLUSTER (that column is a UInt16).
//
// Scale (~100k profiles, 6 + up to 8 category features): no all-pairs distances.
//   1. Identical vectors are merged first and carry their multiplicity as a weight (RFM scores are
//      small integers: many profiles share a vector, and a pile of duplicates would otherwise make
//      every query in it quadratic). u = distinct vectors, d = features.
//   2. A k-d tree over them, rotated onto their principal axes (a rotation keeps distances; the
//      tree then splits along the directions the correlated features actually spread in), leaves
//      of ≤ 8, split at the median of the widest side: O(u·d² + u log u) to build, O(u·d) memory.
//      Every node keeps its bounding box, its total weight and how many of its points are in no
//      cluster yet. (A grid of eps-cells would need 3^d neighbour cells per query: fine for 3
//      features, hopeless for 14.)
//   3. Core test: one range count per distinct vector, stopping as soon as minPoints is reached,
//      adding whole subtrees whose box lies within eps without visiting their points.
//   4. Expansion: breadth-first from each unassigned core, one tree walk per leaf's batch of newly
//      taken cores; a walk descends only into subtrees near the batch that still hold unassigned
//      points, so every point is handed out once.
//   Cost O(u·d² + u log u + u·q), q the nodes and points a query visits near its point — a few
//   hundred to a few thousand in practice: 100k profiles with 14 weakly correlated features took
//   7–15 s on one core of a busy 2-core machine (eps 0.5–2). Like any exact DBSCAN it degrades
//   towards O(u²·d) when eps spans most of the data or the features are many and independent.
import { silhouette, type Points, type Standardizer } from './kmeans.ts';
import { labelPersonas, standardizeFeatures, type Persona } from './personas.ts';

/** The label of a noise point. */
export const NOISE = -1;
/** The persona (trait value) of a profile in no dense group. */
export const NOISE_PERSONA = 'noise';
/** profile_personas.cluster of a noise profile (the column is a UInt16; dense clusters count from 0). */
export const NOISE_CLUSTER = 65535;

export interface DbscanOptions {
  /** Neighbourhood radius, in the points' units (standardized features for personas). */
  eps: number;
  /** Points (itself included) within eps that make a point core. */
  minPoints: number;
  /** k-d tree leaf size. Default 8. */
  leafSize?: number;
}

export interface DbscanResult {
  /** Cluster of each input point (0, 1, …, in order of discovery), NOISE for noise. */
  labels: Int32Array;
  /** 1 for a core point. */
  core: Uint8Array;
  /** Number of clusters. */
  clusters: number;
  /** Points per cluster. */
  sizes: number[];
  /** Noise points. */
  noise: number;
  /** Distinct input vectors. */
  distinct: number;
  /** Point-to-point distances computed (all pairs would be distinct·(distinct − 1)/2 and more). */
  distanceChecks: number;
}

/** A k-d tree over distinct weighted points, with "not yet in a cluster" counts per node. */
class KdTree {
  private readonly perm: Int32Array;
  private readonly start: number[] = [];
  private readonly end: number[] = [];
  private readonly left: number[] = [];
  private readonly right: number[] = [];
  private readonly parent: number[] = [];
  private readonly splitDim: number[] = [];
  private readonly splitValue: number[] = [];
  private readonly weightSum: number[] = [];
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;
  private readonly open: Int32Array;
  private readonly leafOf: Int32Array;
  private readonly unassigned: Uint8Array;
  private readonly stack: number[] = [];
  private readonly batchLo: Float64Array;
  private readonly batchHi: Float64Array;

  private readonly prune2: number;
  private readonly inside2: number;

  /**
   * `exact`: the points (distances are decided on them); `data`: the same points rotated onto their
   * principal axes, which the boxes and splits use. A rotation keeps distances, so the boxes bound
   * them too; the radii are widened (pruning) and narrowed (whole boxes taken unchecked) by more
   * than its rounding, so the answers are those of the points themselves.
   */
  constructor(
    private readonly exact: Float64Array,
    private readonly data: Float64Array,
    private readonly weight: Float64Array,
    private readonly u: number,
    private readonly d: number,
    private readonly leafSize: number,
    r2: number,
  ) {
    let largest = 0;
    for (let k = 0; k < data.length; k++) largest = Math.max(largest, Math.abs(data[k]!));
    const slack = 1e-12 * d * (1 + largest * largest) + 1e-9 * r2;
    this.prune2 = r2 + slack;
    this.inside2 = r2 - slack;
    this.batchLo = new Float64Array(d);
    this.batchHi = new Float64Array(d);
    this.perm = Int32Array.from({ length: u }, (_, i) => i);
    this.leafOf = new Int32Array(u);
    this.unassigned = new Uint8Array(u).fill(1);
    const lo: number[] = [];
    const hi: number[] = [];
    if (u > 0) this.build(0, u, -1, lo, hi);
    this.lo = Float64Array.from(lo);
    this.hi = Float64Array.from(hi);
    const nodes = this.start.length;
    this.open = new Int32Array(nodes);
    for (let node = 0; node < nodes; node++) this.open[node] = this.end[node]! - this.start[node]!;
  }

  private build(s: number, e: number, parent: number, lo: number[], hi: number[]): number {
    const { d, data, perm } = this;
    const node = this.start.length;
    this.start.push(s);
    this.end.push(e);
    this.left.push(-1);
    this.right.push(-1);
    this.parent.push(parent);
    this.splitDim.push(0);
    this.splitValue.push(0);
    let w = 0;
    const base = node * d;
    for (let j = 0; j < d; j++) {
      lo[base + j] = Infinity;
      hi[base + j] = -Infinity;
    }
    for (let k = s; k < e; k++) {
      const p = perm[k]!;
      w += this.weight[p]!;
      for (let j = 0; j < d; j++) {
        const x = data[p * d + j]!;
        if (x < lo[base + j]!) lo[base + j] = x;
        if (x > hi[base + j]!) hi[base + j] = x;
      }
    }
    this.weightSum.push(w);
    let dim = 0;
    let spread = -1;
    for (let j = 0; j < d; j++) {
      const t = hi[base + j]! - lo[base + j]!;
      if (t > spread) {
        spread = t;
        dim = j;
      }
    }
    if (e - s <= this.leafSize || spread <= 0) {
      for (let k = s; k < e; k++) this.leafOf[perm[k]!] = node;
      return node;
    }
    const mid = (s + e) >> 1;
    this.select(s, e, mid, dim);
    this.splitDim[node] = dim;
    this.splitValue[node] = data[perm[mid]! * d + dim]!;
    this.left[node] = this.build(s, mid, node, lo, hi);
    this.right[node] = this.build(mid, e, node, lo, hi);
    return node;
  }

  /** Reorders perm[s, e) so that perm[k] holds the k-th smallest along dim (Hoare quickselect, median-of-three pivot). */
  private select(s: number, e: number, k: number, dim: number): void {
    const { d, data, perm } = this;
    const key = (i: number) => data[perm[i]! * d + dim]!;
    let lo = s;
    let hi = e - 1;
    while (hi > lo) {
      const a = key(lo);
      const b = key((lo + hi) >> 1);
      const c = key(hi);
      const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
      let i = lo;
      let j = hi;
      while (i <= j) {
        while (key(i) < pivot) i++;
        while (key(j) > pivot) j--;
        if (i <= j) {
          const t = perm[i]!;
          perm[i] = perm[j]!;
          perm[j] = t;
          i++;
          j--;
        }
      }
      if (k <= j) hi = j;
      else if (k >= i) lo = i;
      else return;
    }
  }

  /** Point-to-point distance checks so far. */
  checks = 0;

  /** Squared distance of p and q is at most r² (stops adding once it is not). */
  private within(p: number, q: number, r2: number): boolean {
    const { d, exact } = this;
    this.checks++;
    let s = 0;
    for (let j = 0; j < d; j++) {
      const t = exact[p * d + j]! - exact[q * d + j]!;
      s += t * t;
      if (s > r2) return false;
    }
    return true;
  }

  /** 0: the node's box is farther than r from point q; 2: it lies within r; 1: partly. */
  private reach(node: number, q: number): 0 | 1 | 2 {
    const { d, data, lo, hi, prune2: r2, inside2 } = this;
    let near = 0;
    let far = 0;
    for (let j = 0; j < d; j++) {
      const x = data[q * d + j]!;
      const l = lo[node * d + j]!;
      const h = hi[node * d + j]!;
      const below = l - x;
      const above = x - h;
      const gap = below > 0 ? below : above > 0 ? above : 0;
      near += gap * gap;
      if (near > r2) return 0;
      const a = x - l;
      const b = h - x;
      far += a > b ? a * a : b * b;
    }
    return far <= inside2 ? 2 : 1;
  }

  /** Total weight within r² of point q, stopping once it reaches `need`. */
  weightWithin(q: number, r2: number, need: number): number {
    const { stack } = this;
    stack.length = 0;
    stack.push(0);
    let total = 0;
    while (stack.length) {
      const node = stack.pop()!;
      const reach = this.reach(node, q);
      if (reach === 0) continue;
      if (reach === 2) {
        total += this.weightSum[node]!;
        if (total >= need) return total;
        continue;
      }
      const l = this.left[node]!;
      if (l < 0) {
        for (let k = this.start[node]!; k < this.end[node]!; k++) {
          const p = this.perm[k]!;
          if (this.within(p, q, r2)) {
            total += this.weight[p]!;
            if (total >= need) return total;
          }
        }
        continue;
      }
      // The child on q's side is searched first: the count reaches `need` sooner.
      const r = this.right[node]!;
      const qFirst = this.data[q * this.d + this.splitDim[node]!]! < this.splitValue[node]!;
      stack.push(qFirst ? r : l, qFirst ? l : r);
    }
    return total;
  }

  /** The leaf holding point p. */
  leaf(p: number): number {
    return this.leafOf[p]!;
  }

  /** Sets the box of `batch` (rotated coordinates) for reachBatch. */
  private batchBox(batch: readonly number[]): void {
    const { d, data, batchLo, batchHi } = this;
    batchLo.fill(Infinity);
    batchHi.fill(-Infinity);
    for (const b of batch) {
      for (let j = 0; j < d; j++) {
        const x = data[b * d + j]!;
        if (x < batchLo[j]!) batchLo[j] = x;
        if (x > batchHi[j]!) batchHi[j] = x;
      }
    }
  }

  /** Like reach, for the box of the batch (batchBox) instead of one point. */
  private reachBatch(node: number): 0 | 1 | 2 {
    const { d, lo, hi, batchLo, batchHi, prune2, inside2 } = this;
    let near = 0;
    let far = 0;
    for (let j = 0; j < d; j++) {
      const l = lo[node * d + j]!;
      const h = hi[node * d + j]!;
      const bl = batchLo[j]!;
      const bh = batchHi[j]!;
      const below = l - bh;
      const above = bl - h;
      const gap = below > 0 ? below : above > 0 ? above : 0;
      near += gap * gap;
      if (near > prune2) return 0;
      const a = bh - l;
      const b = h - bl;
      far += a > b ? a * a : b * b;
    }
    return far <= inside2 ? 2 : 1;
  }

  /**
   * The points in no cluster yet within r of any point of `batch`, taken out (each point is handed
   * out once) and appended to `out`. One walk for the whole batch: the subtrees visited are those
   * near the batch's box that still hold points in no cluster.
   */
  takeNearAny(batch: readonly number[], r2: number, out: number[]): void {
    const { stack } = this;
    this.batchBox(batch);
    stack.length = 0;
    stack.push(0);
    const found = out.length;
    while (stack.length) {
      // ~node: a node already known to lie within r of every batch point (no distance checks below it).
      const top = stack.pop()!;
      const node = top < 0 ? ~top : top;
      if (this.open[node] === 0) continue;
      const reach = top < 0 ? 2 : this.reachBatch(node);
      if (reach === 0) continue;
      const l = this.left[node]!;
      if (l < 0) {
        for (let k = this.start[node]!; k < this.end[node]!; k++) {
          const p = this.perm[k]!;
          if (!this.unassigned[p]) continue;
          let near = reach === 2;
          for (let i = 0; !near && i < batch.length; i++) near = this.within(p, batch[i]!, r2);
          if (near) out.push(p);
        }
        continue;
      }
      if (reach === 2) stack.push(~l, ~this.right[node]!);
      else stack.push(l, this.right[node]!);
    }
    for (let i = found; i < out.length; i++) this.take(out[i]!);
  }

  take(p: number): void {
    if (!this.unassigned[p]) return;
    this.unassigned[p] = 0;
    for (let node = this.leafOf[p]!; node >= 0; node = this.parent[node]!) this.open[node] = this.open[node]! - 1;
  }
}

/**
 * The points (row-major, u × d, weighted) centred and rotated onto their principal axes, largest
 * variance first: a k-d tree over correlated features (RFM scores, revenue and order counts move
 * together) then splits along the directions the data actually spreads in, and its boxes prune far
 * better. Eigenvectors of the covariance by cyclic Jacobi rotations (d is small).
 */
export function principalAxes(data: Float64Array, weight: Float64Array, u: number, d: number): Float64Array {
  let total = 0;
  const mean = new Float64Array(d);
  for (let i = 0; i < u; i++) {
    total += weight[i]!;
    for (let j = 0; j < d; j++) mean[j] = mean[j]! + weight[i]! * data[i * d + j]!;
  }
  if (total === 0) return new Float64Array(data);
  for (let j = 0; j < d; j++) mean[j] = mean[j]! / total;
  const a = new Float64Array(d * d);
  for (let i = 0; i < u; i++) {
    for (let j = 0; j < d; j++) {
      const x = data[i * d + j]! - mean[j]!;
      for (let k = j; k < d; k++) a[j * d + k] = a[j * d + k]! + (weight[i]! * x * (data[i * d + k]! - mean[k]!)) / total;
    }
  }
  for (let j = 0; j < d; j++) for (let k = 0; k < j; k++) a[j * d + k] = a[k * d + j]!;
  const v = new Float64Array(d * d);
  for (let j = 0; j < d; j++) v[j * d + j] = 1;
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * d + q]! - a[p * d + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p]!;
          const akq = a[k * d + q]!;
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k]!;
          const aqk = a[q * d + k]!;
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p]!;
          const vkq = v[k * d + q]!;
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: d }, (_, j) => j).sort((x, y) => a[y * d + y]! - a[x * d + x]! || x - y);
  const out = new Float64Array(u * d);
  for (let i = 0; i < u; i++) {
    for (let c = 0; c < d; c++) {
      const axis = order[c]!;
      let s = 0;
      for (let j = 0; j < d; j++) s += (data[i * d + j]! - mean[j]!) * v[j * d + axis]!;
      out[i * d + c] = s;
    }
  }
  return out;
}

/** DBSCAN of points (rows of equal length, finite numbers). Deterministic for a given input order. */
export function dbscan(points: Points, options: DbscanOptions): DbscanResult {
  const { eps, minPoints } = options;
  if (!(Number.isFinite(eps) && eps > 0)) throw new Error(`dbscan: eps must be a positive number, got ${eps}`);
  if (!Number.isInteger(minPoints) || minPoints < 1) throw new Error(`dbscan: minPoints must be a positive integer, got ${minPoints}`);
  const n = points.length;
  const d = points[0]?.length ?? 0;
  // Distinct vectors, in order of first appearance, with their multiplicity.
  const distinct = new Map<string, number>();
  const uniqueOf = new Int32Array(n);
  const rows: number[] = [];
  const weights: number[] = [];
  points.forEach((p, i) => {
    if (p.length !== d) throw new Error(`dbscan: point ${i} has ${p.length} features, expected ${d}`);
    const key = p.join(',');
    let u = distinct.get(key);
    if (u === undefined) {
      for (let j = 0; j < d; j++) if (!Number.isFinite(p[j]!)) throw new Error(`dbscan: point ${i} feature ${j} is not a finite number`);
      u = weights.length;
      distinct.set(key, u);
      for (let j = 0; j < d; j++) rows.push(p[j]!);
      weights.push(0);
    }
    weights[u] = weights[u]! + 1;
    uniqueOf[i] = u;
  });
  const u = weights.length;
  const data = Float64Array.from(rows);
  const weight = Float64Array.from(weights);
  const r2 = eps * eps;
  const tree = new KdTree(data, principalAxes(data, weight, u, d), weight, u, d, Math.max(1, options.leafSize ?? 8), r2);

  const core = new Uint8Array(u);
  for (let i = 0; i < u; i++) core[i] = weight[i]! >= minPoints || tree.weightWithin(i, r2, minPoints) >= minPoints ? 1 : 0;

  // Expansion, breadth-first from each unassigned core in input order. The cores a cluster takes are
  // expanded a leaf at a time (one tree walk for all of a leaf's newly taken cores, not one each):
  // the points they reach are the same, and all join the same cluster.
  const label = new Int32Array(u).fill(NOISE);
  let clusters = 0;
  const pending = new Map<number, number[]>();
  const leaves: number[] = [];
  const found: number[] = [];
  const expand = (p: number) => {
    const leaf = tree.leaf(p);
    const batch = pending.get(leaf);
    if (batch) batch.push(p);
    else {
      pending.set(leaf, [p]);
      leaves.push(leaf);
    }
  };
  for (let i = 0; i < u; i++) {
    if (label[i] !== NOISE || !core[i]) continue;
    const c = clusters++;
    label[i] = c;
    tree.take(i);
    leaves.length = 0;
    expand(i);
    for (let head = 0; head < leaves.length; head++) {
      const leaf = leaves[head]!;
      const batch = pending.get(leaf)!;
      pending.delete(leaf);
      found.length = 0;
      tree.takeNearAny(batch, r2, found);
      // Every point taken joins the cluster; only cores spread it further.
      for (const q of found) {
        label[q] = c;
        if (core[q]) expand(q);
      }
    }
  }

  const labels = new Int32Array(n);
  const coreOut = new Uint8Array(n);
  const sizes = new Array<number>(clusters).fill(0);
  let noise = 0;
  for (let i = 0; i < n; i++) {
    const l = label[uniqueOf[i]!]!;
    labels[i] = l;
    coreOut[i] = core[uniqueOf[i]!]!;
    if (l === NOISE) noise++;
    else sizes[l] = sizes[l]! + 1;
  }
  return { labels, core: coreOut, clusters, sizes, noise, distinct: u, distanceChecks: tree.checks };
}

export interface DbscanPersonaOptions {
  /** Neighbourhood radius in standardized feature units. */
  eps: number;
  minPoints: number;
  /** Seed of the silhouette sample. Default 1. */
  seed?: number;
  /** Silhouette: exact up to this many clustered points, else on a sample of silhouetteSample. Defaults 3000 / 2000. */
  exactSilhouetteLimit?: number;
  silhouetteSample?: number;
}

export interface DbscanPersonaModel {
  algorithm: 'dbscan';
  eps: number;
  minPoints: number;
  n: number;
  /** Distinct feature vectors. */
  distinct: number;
  /** Dense clusters (personas), noise not counted. */
  k: number;
  /** Mean silhouette of the clustered (non-noise) profiles, on a sample when many; 0 with fewer than two clusters. */
  silhouette: number;
  /** Profiles in no cluster. */
  noise: number;
  standardizer: Standardizer;
  /** Mean of each cluster's members, standardized units. */
  centroids: number[][];
  sizes: number[];
  /** One per cluster, labelled and ranked as K-Means personas are. */
  personas: Persona[];
  /** Cluster of each input profile; NOISE for noise. */
  assignments: Int32Array;
  /** Euclidean distance (standardized units) to the profile's cluster mean; for noise, to the nearest cluster mean (0 when there is none). */
  distances: Float64Array;
}

/**
 * DBSCAN personas: standardize, cluster, label each cluster from its mean like a K-Means centroid
 * (p1 = highest value). `progress` is awaited between the steps.
 */
export async function trainDbscanPersonas(
  vectors: number[][],
  categories: readonly string[],
  options: DbscanPersonaOptions,
  progress: (step: string) => Promise<void> | void = () => undefined,
): Promise<DbscanPersonaModel> {
  const n = vectors.length;
  const { standardizer, points } = standardizeFeatures(vectors);
  await progress('dbscan');
  const result = dbscan(points, { eps: options.eps, minPoints: options.minPoints });
  const d = points[0]?.length ?? 0;
  const centroids = Array.from({ length: result.clusters }, () => new Array<number>(d).fill(0));
  points.forEach((p, i) => {
    const c = result.labels[i]!;
    if (c === NOISE) return;
    const centroid = centroids[c]!;
    for (let j = 0; j < d; j++) centroid[j] = centroid[j]! + p[j]! / result.sizes[c]!;
  });
  const distances = new Float64Array(n);
  points.forEach((p, i) => {
    const c = result.labels[i]!;
    const distanceTo = (centroid: number[]) => Math.sqrt(centroid.reduce((s, x, j) => s + (p[j]! - x) ** 2, 0));
    distances[i] = c !== NOISE ? distanceTo(centroids[c]!) : centroids.length ? Math.min(...centroids.map(distanceTo)) : 0;
  });
  await progress('silhouette');
  let score = 0;
  if (result.clusters > 1) {
    const members = [...result.labels.keys()].filter((i) => result.labels[i] !== NOISE);
    const silhouetteOptions = { exactLimit: options.exactSilhouetteLimit ?? 3000, sampleSize: options.silhouetteSample ?? 2000, seed: options.seed ?? 1 };
    score = silhouette(
      members.map((i) => points[i]!),
      members.map((i) => result.labels[i]!),
      silhouetteOptions,
    );
  }
  return {
    algorithm: 'dbscan',
    eps: options.eps,
    minPoints: options.minPoints,
    n,
    distinct: result.distinct,
    k: result.clusters,
    silhouette: score,
    noise: result.noise,
    standardizer,
    centroids,
    sizes: result.sizes,
    personas: labelPersonas(centroids, standardizer, categories, result.sizes),
    assignments: result.labels,
    distances,
  };
}

/** The persona (trait value) and stored cluster of profile i. */
export function dbscanPersonaOf(model: DbscanPersonaModel, i: number): { persona: string; cluster: number } {
  const c = model.assignments[i]!;
  return c === NOISE ? { persona: NOISE_PERSONA, cluster: NOISE_CLUSTER } : { persona: model.personas[c]!.label, cluster: c };
}

/**
 * The quality figures of a DBSCAN persona model (model_versions.quality): the clusters found, the
 * share of noise, each cluster's size (the noise last, as persona "noise"), the silhouette of the
 * clustered profiles. `clusters` has the shape K-Means writes, so readers of personas and sizes need
 * not know the algorithm.
 */
export function dbscanQuality(model: DbscanPersonaModel): Record<string, unknown> {
  const share = (size: number) => (model.n ? size / model.n : 0);
  return {
    algorithm: 'dbscan',
    eps: model.eps,
    minPoints: model.minPoints,
    k: model.k,
    silhouette: model.silhouette,
    n: model.n,
    distinct: model.distinct,
    noise: model.noise,
    noiseShare: share(model.noise),
    sizes: [...model.personas].sort((a, b) => a.rank - b.rank).map((p) => model.sizes[p.cluster]!),
    clusters: [
      ...model.personas
        .map((p) => ({ persona: p.label, rank: p.rank, size: model.sizes[p.cluster]!, share: share(model.sizes[p.cluster]!), centroid: p.centroid }))
        .sort((a, b) => a.rank - b.rank),
      ...(model.noise ? [{ persona: NOISE_PERSONA, rank: null, size: model.noise, share: share(model.noise), centroid: null }] : []),
    ],
  };
}
