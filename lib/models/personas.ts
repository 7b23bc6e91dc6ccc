// Persona features and labels, pure.
//
// A profile becomes a vector of behaviour features: the RFM scores (0–5), log1p of lifetime revenue,
// order count and event count (heavy-tailed, so logged before standardizing), and its affinity to
// each of the top categories (share of its events in that category, 0–1).
//
// Clusters become personas ranked by their centroid's monetary value (log revenue, then RFM
// monetary, then size): p1 is always the highest-value persona, so ids do not reshuffle between
// versions when the same kinds of people are found. The label adds readable words derived from
// the centroid (value and frequency on the RFM scales, engagement and category leaning relative to
// the population): "p1-high-value-frequent-electronics", "p3-non-buyer-occasional-home".
import { bestCandidate, evaluateK, fitStandardizer, kCandidates, kmeans, sampleIndices, silhouette, standardize, unstandardizePoint, type KCandidate, type KMeansModel, type Standardizer } from './kmeans.ts';

export interface ProfileFeatures {
  profile_id: string;
  rfm_recency: number;
  rfm_frequency: number;
  rfm_monetary: number;
  lifetime_revenue: number;
  order_count: number;
  event_count: number;
  /** Share (0–1) of the profile's events per category (only the model's categories matter). */
  categories: Record<string, number>;
}

export const BASE_FEATURES = ['rfm_recency', 'rfm_frequency', 'rfm_monetary', 'log_lifetime_revenue', 'log_order_count', 'log_event_count'] as const;

export function featureNames(categories: readonly string[]): string[] {
  return [...BASE_FEATURES, ...categories.map((c) => `category:${c}`)];
}

export function featureVector(p: ProfileFeatures, categories: readonly string[]): number[] {
  const finite = (x: number) => (Number.isFinite(x) ? x : 0);
  return [
    finite(p.rfm_recency),
    finite(p.rfm_frequency),
    finite(p.rfm_monetary),
    Math.log1p(Math.max(0, finite(p.lifetime_revenue))),
    Math.log1p(Math.max(0, finite(p.order_count))),
    Math.log1p(Math.max(0, finite(p.event_count))),
    ...categories.map((c) => Math.min(1, Math.max(0, finite(p.categories[c] ?? 0)))),
  ];
}

/**
 * The features as both persona models cluster them: each standardized to mean 0 and standard
 * deviation 1 over the population (a constant feature becomes 0), so a distance of 1 means one
 * standard deviation whatever the feature's unit. K-Means and DBSCAN (whose eps is in these units)
 * both start here.
 */
export function standardizeFeatures(vectors: readonly number[][]): { standardizer: Standardizer; points: number[][] } {
  const standardizer = fitStandardizer(vectors);
  return { standardizer, points: standardize(vectors, standardizer) };
}

export interface Persona {
  /** Index of the cluster in the k-means model. */
  cluster: number;
  /** 1 = highest monetary value. */
  rank: number;
  /** `p<rank>-<words>`: the value of the `persona` trait. */
  label: string;
  /** The centroid in the features' own units (RFM scores, revenue, counts, shares). */
  centroid: {
    rfm_recency: number;
    rfm_frequency: number;
    rfm_monetary: number;
    lifetime_revenue: number;
    order_count: number;
    event_count: number;
    categories: Record<string, number>;
  };
}

/** "Home & Garden" → "home-garden" (label-safe, ≤ 24 chars). */
export function slug(text: string): string {
  return (
    text
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 24)
      .replace(/-+$/g, '') || 'other'
  );
}

/**
 * Personas of a model: ranked by monetary value, with readable words: non-buyer | low-value |
 * mid-value | high-value (mean RFM monetary < 2, < 3.5, ≥ 3.5); frequent (mean RFM frequency ≥ 3.5),
 * else engaged / occasional (events z ≥ 0.5 / ≤ −0.5); lapsed (mean RFM recency ≤ 2); and the
 * category with a share ≥ 0.3 and z ≥ 0.5, if any.
 */
export function labelPersonas(centroids: ReadonlyArray<ReadonlyArray<number>>, standardizer: Standardizer, categories: readonly string[], sizes: readonly number[]): Persona[] {
  const z = (c: ReadonlyArray<number>, j: number) => c[j]!;
  const described = centroids.map((c, cluster) => {
    const raw = unstandardizePoint(c, standardizer);
    const centroid = {
      rfm_recency: raw[0]!,
      rfm_frequency: raw[1]!,
      rfm_monetary: raw[2]!,
      lifetime_revenue: Math.expm1(raw[3]!),
      order_count: Math.expm1(raw[4]!),
      event_count: Math.expm1(raw[5]!),
      categories: Object.fromEntries(categories.map((name, i) => [name, raw[BASE_FEATURES.length + i]!])),
    };
    // Value and frequency on the RFM scores' fixed scales (stable whatever the population mix);
    // engagement (events) relative to the population.
    const buyer = centroid.order_count >= 0.5;
    const words: string[] = [];
    if (!buyer) words.push('non-buyer');
    else if (centroid.rfm_monetary >= 3.5) words.push('high-value');
    else if (centroid.rfm_monetary >= 2) words.push('mid-value');
    else words.push('low-value');
    if (buyer && centroid.rfm_frequency >= 3.5) words.push('frequent');
    else if (z(c, 5) >= 0.5) words.push('engaged');
    else if (z(c, 5) <= -0.5) words.push('occasional');
    if (buyer && centroid.rfm_recency <= 2) words.push('lapsed');
    // The category this persona leans to, when it clearly does.
    let top: { name: string; share: number; z: number } | undefined;
    categories.forEach((name, i) => {
      const share = centroid.categories[name]!;
      const zi = z(c, BASE_FEATURES.length + i);
      if (share >= 0.3 && zi >= 0.5 && (!top || share > top.share)) top = { name, share, z: zi };
    });
    if (top) words.push(slug(top.name));
    return { cluster, centroid, words, key: [raw[3]!, raw[2]!, sizes[cluster] ?? 0, ...c] };
  });
  // Highest value first; ties broken by RFM monetary, size, then the centroid itself (total order).
  described.sort((a, b) => {
    for (let i = 0; i < a.key.length; i++) {
      const diff = (b.key[i] ?? 0) - (a.key[i] ?? 0);
      if (Math.abs(diff) > 1e-9) return diff;
    }
    return a.cluster - b.cluster;
  });
  return described
    .map((p, i) => ({ cluster: p.cluster, rank: i + 1, label: `p${i + 1}-${p.words.join('-')}`.slice(0, 63).replace(/-+$/, ''), centroid: p.centroid }))
    .sort((a, b) => a.cluster - b.cluster);
}

export interface PersonaTrainingOptions {
  /** A fixed number of personas; else chosen by silhouette in kRange. */
  k?: number;
  /** Default [2, 8]. */
  kRange?: readonly [number, number];
  /** Default 1. */
  seed?: number;
  /** The k search runs on a deterministic sample of at most this many profiles. Default 5000. */
  searchSample?: number;
  /** Silhouette: exact up to this many points, else on a sample of silhouetteSample. Defaults 3000 / 2000. */
  exactSilhouetteLimit?: number;
  silhouetteSample?: number;
  /** k-means restarts per k. Default 4. */
  restarts?: number;
}

export interface PersonaModel {
  k: number;
  silhouette: number;
  inertia: number;
  n: number;
  iterations: number;
  converged: boolean;
  /** Every k tried (absent when k was given). */
  candidates: KCandidate[];
  standardizer: Standardizer;
  /** Centroids in standardized units, by cluster. */
  centroids: number[][];
  sizes: number[];
  personas: Persona[];
  /** Cluster of each input profile and its Euclidean distance to the centroid (standardized units). */
  assignments: Int32Array;
  distances: Float64Array;
}

/**
 * Trains the persona model: standardize, choose k (on a sample) unless given, fit on everything,
 * label. `progress` is awaited between the expensive steps (heartbeats, and a turn of the event loop).
 */
export async function trainPersonaModel(
  vectors: number[][],
  categories: readonly string[],
  options: PersonaTrainingOptions = {},
  progress: (step: string) => Promise<void> | void = () => undefined,
): Promise<PersonaModel> {
  const n = vectors.length;
  const seed = options.seed ?? 1;
  const silhouetteOptions = { exactLimit: options.exactSilhouetteLimit ?? 3000, sampleSize: options.silhouetteSample ?? 2000, seed };
  const kmOptions = { seed, restarts: Math.max(1, options.restarts ?? 4) };
  const { standardizer, points } = standardizeFeatures(vectors);
  let k = options.k;
  const candidates: KCandidate[] = [];
  let model: KMeansModel | undefined;
  if (k === undefined) {
    const searchSize = options.searchSample ?? 5000;
    let sampled = n > searchSize;
    let sample = sampled ? sampleIndices(n, searchSize, seed).map((i) => points[i]!) : points;
    let ks = kCandidates(sample, options.kRange ?? [2, 8]);
    if (ks.length === 0 && sampled) {
      // The sample holds too few distinct profiles (nearly all alike): search on everything.
      sampled = false;
      sample = points;
      ks = kCandidates(sample, options.kRange ?? [2, 8]);
    }
    const models = new Map<number, KMeansModel>();
    for (const candidateK of ks) {
      await progress(`k=${candidateK}`);
      const evaluated = evaluateK(sample, candidateK, { ...kmOptions, ...silhouetteOptions });
      candidates.push(evaluated.candidate);
      if (!sampled) models.set(candidateK, evaluated.model);
    }
    k = bestCandidate(candidates).k;
    model = models.get(k);
  } else if (!Number.isInteger(k) || k < 1 || k > n) throw new Error(`personas: k must be an integer between 1 and the number of profiles (${n}), got ${k}`);
  if (!model) {
    // On everything: one seeding at a time, so progress (heartbeats) gets a turn between them.
    for (let r = 0; r < kmOptions.restarts; r++) {
      await progress(`fitting k=${k} on ${n} profiles (${r + 1}/${kmOptions.restarts})`);
      const run = kmeans(points, k, { seed: seed + r * 7919, restarts: 1 });
      if (!model || run.inertia < model.inertia) model = run;
    }
  }
  if (!model) throw new Error('unreachable: restarts ≥ 1');
  await progress('silhouette');
  const score = k > 1 ? silhouette(points, model.assignments, silhouetteOptions) : 0;
  const distances = model.distances.map(Math.sqrt);
  return {
    k,
    silhouette: score,
    inertia: model.inertia,
    n,
    iterations: model.iterations,
    converged: model.converged,
    candidates,
    standardizer,
    centroids: model.centroids,
    sizes: model.sizes,
    personas: labelPersonas(model.centroids, standardizer, categories, model.sizes),
    assignments: model.assignments,
    distances,
  };
}
