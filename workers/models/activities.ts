// Activities of retrainPersonas and retrainRecommendations. Each is idempotent for its (model,
// version): training clears what an earlier attempt left of the version before writing it, the
// commit is one row keyed by (model, version), and the trait application skips what is already
// set. Long ones heartbeat (and give the event loop a turn so the heartbeats actually leave).
//
// Personas are K-Means (default) or DBSCAN (input.algorithm), over the same features; a version's
// quality says which (`algorithm`). Recommendations carry their offline quality: precision,
// recall and coverage at 10 on a per-person time split, against the most-popular baseline
// (lib/models/evaluate.ts), measured on the same stream of baskets the model is trained from.
import { setImmediate as turn } from 'node:timers/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Warehouse } from '../../lib/clickhouse.ts';
import type { Logger } from '../../lib/log.ts';
import { NOISE_CLUSTER, NOISE_PERSONA, dbscanPersonaOf, dbscanQuality, trainDbscanPersonas } from '../../lib/models/dbscan.ts';
import { OfflineEvaluator, type OfflineOptions } from '../../lib/models/evaluate.ts';
import { distinctCount } from '../../lib/models/kmeans.ts';
import { featureNames, featureVector, trainPersonaModel } from '../../lib/models/personas.ts';
import { ItemSimilarityBuilder, recommendForBasket, similarityOptions, type ItemSimilarity, type SimilarityOptions } from '../../lib/models/recommend.ts';
import {
  PERSONA_TRAIT,
  applyTrait,
  baskets,
  beginVersion,
  clearVersion,
  commitVersion,
  ensureModelTables,
  personaFeatures,
  personasPage,
  pruneVersions,
  topCategories,
  writeItemRecommendations,
  writePersonas,
  writeProfileRecommendations,
} from '../../lib/models/store.ts';
import type { ModelName } from '../../lib/models/tables.ts';
import { PERSONA_ALGORITHMS, PIPELINE_DEFAULTS, type PersonaAlgorithm } from '../../api/v1alpha1/pipeline.ts';

export interface ModelsDeps {
  warehouse: (database: string) => Warehouse;
  log: Logger;
  registry?: Registry;
}

interface Metrics {
  versions: Counter<'model'>;
  quality: Gauge<'model' | 'figure'>;
  seconds: Histogram<'model'>;
}

/** What the activities share: the warehouse of a database (model tables ensured), metrics, the log. */
interface Engines {
  warehouse(database: string): Promise<Warehouse>;
  log: Logger;
  metrics?: Metrics;
}

export type ModelsActivities = ReturnType<typeof createActivities>;

/** The activities of retrainPersonas and retrainRecommendations over the worker's engines. */
export function createActivities(deps: ModelsDeps) {
  const e: Engines = { warehouse: modelTablesOnce(deps.warehouse), log: deps.log, metrics: deps.registry && createMetrics(deps.registry) };
  return {
    beginModelVersion: (input: BeginInput) => beginModelVersion(e, input),
    commitModelVersion: (input: CommitInput) => commitModelVersion(e, input),
    pruneModelVersions: (input: { database: string; model: ModelName; keep: number }) => pruneModelVersions(e, input),
    trainPersonas: (input: TrainPersonasInput) => trainPersonas(e, input),
    applyPersonaTraits: (input: ApplyTraitsInput) => applyPersonaTraits(e, input),
    trainRecommendations: (input: TrainRecommendationsInput) => trainRecommendations(e, input),
  };
}

function createMetrics(registry: Registry): Metrics {
  return {
    versions: new Counter({ name: 'uspa_models_versions_total', help: 'Model versions committed', labelNames: ['model'] as const, registers: [registry] }),
    quality: new Gauge({ name: 'uspa_models_quality', help: 'Quality figures of the newest version trained here (silhouette, k, n, coverage …)', labelNames: ['model', 'figure'] as const, registers: [registry] }),
    seconds: new Histogram({ name: 'uspa_models_train_seconds', help: 'Training activity duration', labelNames: ['model'] as const, buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600], registers: [registry] }),
  };
}

/** The database's warehouse, with the model tables created once per process (a workflow may name a database the worker did not migrate). */
function modelTablesOnce(warehouse: (database: string) => Warehouse): (database: string) => Promise<Warehouse> {
  const ready = new Map<string, Promise<void>>();
  return async (database) => {
    const w = warehouse(database);
    let done = ready.get(database);
    if (!done) {
      done = ensureModelTables(w);
      ready.set(database, done);
      done.catch(() => ready.delete(database));
    }
    await done;
    return w;
  };
}

/** Heartbeat with a detail, let it leave, and stop when the activity was cancelled. */
async function beat(detail: unknown): Promise<void> {
  const context = Context.current();
  context.heartbeat(detail);
  await turn();
  if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason ?? new Error('activity cancelled');
}

const invalid = (message: string) => ApplicationFailure.create({ type: 'InvalidModelInput', message, nonRetryable: true });

// ── versions ───────────────────────────────────────────────────────────────────────────────────

export interface BeginInput {
  database: string;
  model: ModelName;
  /** Idempotency key of the run. */
  run: string;
}

export interface BeginResult {
  version: number;
  /** This run already trained this version: nothing is trained again. */
  committed: boolean;
  trainedAt?: string;
  quality?: Record<string, unknown>;
}

async function beginModelVersion(e: Engines, input: BeginInput): Promise<BeginResult> {
  const w = await e.warehouse(input.database);
  const begun = await beginVersion(w, input.model, input.run);
  return begun.committed ? { version: begun.version, committed: true, trainedAt: begun.committed.trained_at, quality: begun.committed.quality } : { version: begun.version, committed: false };
}

export interface CommitInput {
  database: string;
  model: ModelName;
  version: number;
  run: string;
  revision: string;
  trainedAt: string;
  params: Record<string, unknown>;
  quality: Record<string, unknown>;
  artifact: Record<string, unknown>;
}

async function commitModelVersion(e: Engines, input: CommitInput): Promise<void> {
  const w = await e.warehouse(input.database);
  await commitVersion(w, { model: input.model, version: input.version, run: input.run, revision: input.revision, trained_at: input.trainedAt, params: input.params, quality: input.quality, artifact: input.artifact });
  e.metrics?.versions.inc({ model: input.model });
  for (const [figure, value] of Object.entries(gaugedFigures(input.quality))) e.metrics?.quality.set({ model: input.model, figure }, value);
  e.log.info({ database: input.database, model: input.model, version: input.version, run: input.run, revision: input.revision, quality: summary(input.quality) }, 'model version committed');
}

/** The numbers of a quality record worth a gauge: its top-level numbers, and the offline figures as offline_<model|popularity>_<figure>. */
function gaugedFigures(quality: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [figure, value] of Object.entries(quality)) if (typeof value === 'number' && Number.isFinite(value)) out[figure] = value;
  const offline = quality.offline as { model?: Record<string, unknown> | null; popularity?: Record<string, unknown> | null } | undefined;
  for (const side of ['model', 'popularity'] as const) {
    for (const [figure, value] of Object.entries(offline?.[side] ?? {})) if (typeof value === 'number' && Number.isFinite(value)) out[`offline_${side}_${figure}`] = value;
  }
  return out;
}

function summary(quality: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(quality).filter(([, v]) => typeof v !== 'object'));
}

async function pruneModelVersions(e: Engines, input: { database: string; model: ModelName; keep: number }): Promise<void> {
  await pruneVersions(await e.warehouse(input.database), input.model, input.keep);
}

// ── personas ───────────────────────────────────────────────────────────────────────────────────

export interface TrainPersonasInput {
  database: string;
  version: number;
  k?: number;
  kRange?: [number, number];
  seed?: number;
  /** Category affinities over this many of the most frequent categories. Default 8. */
  categories?: number;
  /** kmeans (default) or dbscan (k and kRange do not apply). */
  algorithm?: PersonaAlgorithm;
  /** dbscan: the neighbourhood radius, in standardized feature units. Default 1. */
  eps?: number;
  /** dbscan: profiles (itself included) within eps that make a core. Default 10. */
  minPoints?: number;
}

export type TrainResult =
  | { skipped: false; params: Record<string, unknown>; quality: Record<string, unknown>; artifact: Record<string, unknown> }
  | { skipped: true; reason: string };

async function trainPersonas(e: Engines, input: TrainPersonasInput): Promise<TrainResult> {
  const started = performance.now();
  const w = await e.warehouse(input.database);
  const seed = input.seed ?? 1;
  const kRange = input.kRange ?? [2, 8];
  const algorithm = input.algorithm ?? PIPELINE_DEFAULTS.models.personas.algorithm;
  if (!PERSONA_ALGORITHMS.includes(algorithm)) throw invalid(`algorithm must be one of ${PERSONA_ALGORITHMS.join(', ')}, got ${JSON.stringify(input.algorithm)}`);
  if (algorithm === 'kmeans') {
    if (input.k !== undefined && (!Number.isInteger(input.k) || input.k < 2)) throw invalid(`k must be an integer ≥ 2, got ${input.k}`);
    if (!Number.isInteger(kRange[0]) || !Number.isInteger(kRange[1]) || kRange[0] < 2 || kRange[1] < kRange[0]) throw invalid(`kRange must be integers 2 ≤ min ≤ max, got [${kRange.join(', ')}]`);
  }
  const eps = input.eps ?? PIPELINE_DEFAULTS.models.personas.eps;
  const minPoints = input.minPoints ?? PIPELINE_DEFAULTS.models.personas.minPoints;
  if (algorithm === 'dbscan') {
    if (!(typeof eps === 'number' && Number.isFinite(eps) && eps > 0)) throw invalid(`eps must be a number > 0, got ${eps}`);
    if (!Number.isInteger(minPoints) || minPoints < 1) throw invalid(`minPoints must be an integer ≥ 1, got ${minPoints}`);
  }

  await clearVersion(w, 'personas', input.version);
  const categories = await topCategories(w, input.categories ?? 8);
  const ids: string[] = [];
  const vectors: number[][] = [];
  for await (const p of personaFeatures(w, categories)) {
    ids.push(p.profile_id);
    vectors.push(featureVector(p, categories));
    if (ids.length % 10_000 === 0) await beat({ step: 'loading features', profiles: ids.length });
  }
  if (algorithm === 'dbscan') return trainDbscan(e, w, input, { ids, vectors, categories, eps, minPoints, seed, started });
  const smallest = input.k ?? kRange[0];
  const distinct = distinctCount(vectors, smallest);
  if (distinct < smallest) return { skipped: true, reason: `${ids.length} profiles with ${distinct} distinct feature vectors cannot make ${smallest} personas` };

  const model = await trainPersonaModel(vectors, categories, { k: input.k, kRange, seed, restarts: ids.length > 200_000 ? 2 : 4 }, (step) => beat({ step, profiles: ids.length }));
  const labelOf = model.personas.map((p) => p.label);
  await writePersonas(
    w,
    input.version,
    ids.map((profile_id, i) => ({ profile_id, persona: labelOf[model.assignments[i]!]!, cluster: model.assignments[i]!, distance: model.distances[i]! })),
    (d) => beat({ step: 'writing personas', ...(d as object) }),
  );
  const names = featureNames(categories);
  e.metrics?.seconds.observe({ model: 'personas' }, (performance.now() - started) / 1000);
  return {
    skipped: false,
    params: { algorithm: 'kmeans', k: input.k ?? null, kRange, seed, categories, features: names },
    quality: {
      algorithm: 'kmeans',
      k: model.k,
      silhouette: model.silhouette,
      inertia: model.inertia,
      n: model.n,
      iterations: model.iterations,
      converged: model.converged,
      candidates: model.candidates.map((c) => ({ k: c.k, silhouette: c.silhouette, inertia: c.inertia })),
      clusters: model.personas
        .map((p) => ({ persona: p.label, rank: p.rank, size: model.sizes[p.cluster]!, share: model.sizes[p.cluster]! / model.n, centroid: p.centroid }))
        .sort((a, b) => a.rank - b.rank),
    },
    artifact: {
      features: names,
      standardizer: model.standardizer,
      centroids: model.centroids,
      personas: model.personas.map((p) => ({ cluster: p.cluster, rank: p.rank, label: p.label })),
    },
  };
}

/**
 * The DBSCAN branch of trainPersonas: dense groups labelled like K-Means personas, the rest
 * persona "noise" (cluster NOISE_CLUSTER in profile_personas). No dense group at all: skipped, so
 * the previous version stays in force rather than every profile becoming noise.
 */
async function trainDbscan(
  e: Engines,
  w: Warehouse,
  input: TrainPersonasInput,
  data: { ids: string[]; vectors: number[][]; categories: string[]; eps: number; minPoints: number; seed: number; started: number },
): Promise<TrainResult> {
  const { ids, vectors, categories, eps, minPoints, seed } = data;
  if (ids.length < minPoints) return { skipped: true, reason: `${ids.length} profiles cannot make a group of minPoints ${minPoints}` };
  const model = await trainDbscanPersonas(vectors, categories, { eps, minPoints, seed }, (step) => beat({ step, profiles: ids.length }));
  if (model.k === 0) return { skipped: true, reason: `DBSCAN found no dense group among ${ids.length} profiles (eps ${eps}, minPoints ${minPoints}): raise eps or lower minPoints` };
  await writePersonas(
    w,
    input.version,
    ids.map((profile_id, i) => ({ profile_id, ...dbscanPersonaOf(model, i), distance: model.distances[i]! })),
    (d) => beat({ step: 'writing personas', ...(d as object) }),
  );
  const names = featureNames(categories);
  e.metrics?.seconds.observe({ model: 'personas' }, (performance.now() - data.started) / 1000);
  return {
    skipped: false,
    params: { algorithm: 'dbscan', eps, minPoints, seed, categories, features: names },
    quality: dbscanQuality(model),
    artifact: {
      algorithm: 'dbscan',
      features: names,
      standardizer: model.standardizer,
      eps,
      minPoints,
      centroids: model.centroids,
      personas: model.personas.map((p) => ({ cluster: p.cluster, rank: p.rank, label: p.label })),
      noise: { persona: NOISE_PERSONA, cluster: NOISE_CLUSTER },
    },
  };
}

export interface ApplyTraitsInput {
  database: string;
  version: number;
  /** Profiles after this id (exclusive); '' for the first chunk. */
  after: string;
  limit: number;
  /** The version's training time: the event time of the trait rows. */
  trainedAt: string;
}

export interface ApplyTraitsResult {
  /** The last profile id of this chunk, or null when this was the last chunk. */
  next: string | null;
  profiles: number;
  traitsWritten: number;
  profilesUpdated: number;
  profilesDeferred: number;
}

/** One chunk of the `persona` trait: identity_traits rows and refreshed profiles rows. */
async function applyPersonaTraits(e: Engines, input: ApplyTraitsInput): Promise<ApplyTraitsResult> {
  const w = await e.warehouse(input.database);
  const page = await personasPage(w, input.version, input.after, input.limit);
  if (page.length === 0) return { next: null, profiles: 0, traitsWritten: 0, profilesUpdated: 0, profilesDeferred: 0 };
  Context.current().heartbeat({ after: input.after, profiles: page.length });
  const applied = await applyTrait(w, page.map((p) => ({ profile_id: p.profile_id, value: p.persona })), PERSONA_TRAIT, input.trainedAt, `model:personas:${input.version}`);
  return { next: page.length < input.limit ? null : page.at(-1)!.profile_id, profiles: page.length, ...applied };
}

// ── recommendations ────────────────────────────────────────────────────────────────────────────

export interface TrainRecommendationsInput {
  database: string;
  version: number;
  /** Recommendations kept per item and per profile. Default 10. */
  topN?: number;
  similarity?: SimilarityOptions;
  /** The offline evaluation's split (k is 10); false: none. Default: 20% of people, their latest 20% of items, seed 1, at most 10,000 people. */
  evaluation?: Pick<OfflineOptions, 'profiles' | 'holdout' | 'maxProfiles' | 'seed'> | false;
}

/** Pass 1: item-to-item similarity, one basket (person) at a time. The pair table goes when this returns. */
async function similarityOf(w: Warehouse, options: SimilarityOptions): Promise<ItemSimilarity> {
  const builder = new ItemSimilarityBuilder(options);
  let people = 0;
  for await (const b of baskets(w)) {
    builder.addBasket(b.items);
    if (++people % 10_000 === 0) await beat({ step: 'co-occurrence', profiles: people });
  }
  return builder.build();
}

async function trainRecommendations(e: Engines, input: TrainRecommendationsInput): Promise<TrainResult> {
  const started = performance.now();
  const w = await e.warehouse(input.database);
  const topN = input.topN ?? 10;
  if (!Number.isInteger(topN) || topN < 1 || topN > 1000) throw invalid(`topN must be an integer from 1 to 1000, got ${topN}`);
  const options = similarityOptions({ ...input.similarity, neighbours: Math.max(topN, input.similarity?.neighbours ?? 50) });
  // The offline evaluation's model has the real one's options; it is fed in pass 2.
  let evaluator: OfflineEvaluator | undefined;
  try {
    evaluator = input.evaluation === false ? undefined : new OfflineEvaluator({ ...input.evaluation, k: 10, similarity: options });
  } catch (err) {
    throw invalid((err as Error).message);
  }
  await clearVersion(w, 'recommendations', input.version);

  const similarity = await similarityOf(w, options);
  if (similarity.baskets === 0) return { skipped: true, reason: 'no Product Viewed or Order Completed events with a product_id or sku' };

  const itemRows = [...similarity.neighbours].flatMap(([item, list]) => list.slice(0, topN).map((n, i) => ({ item, rank: i + 1, rec_item: n.item, score: n.score })));
  await writeItemRecommendations(w, input.version, itemRows, (d) => beat({ step: 'writing item recommendations', ...(d as object) }));

  // Pass 2: per profile, streamed again, written in chunks. The same stream feeds the offline
  // evaluation, whose own model (trained without the held-out items) is bounded like pass 1's;
  // pass 1's pair table is gone by now, the finished similarity holds neighbour lists only.
  let profiles = 0;
  let profilesWithRecommendations = 0;
  let profileRows = 0;
  let pending: Array<{ profile_id: string; rank: number; item: string; score: number }> = [];
  const flush = async () => {
    await writeProfileRecommendations(w, input.version, pending);
    profileRows += pending.length;
    pending = [];
    await beat({ step: 'writing profile recommendations', profiles, rows: profileRows });
  };
  for await (const b of baskets(w)) {
    profiles++;
    evaluator?.add(b.profile_id, b.items);
    const recs = recommendForBasket(similarity, b.items, topN);
    if (recs.length) profilesWithRecommendations++;
    recs.forEach((r, i) => pending.push({ profile_id: b.profile_id, rank: i + 1, item: r.item, score: r.score }));
    if (pending.length >= 10_000) await flush();
  }
  if (pending.length) await flush();
  if (evaluator) await beat({ step: 'offline evaluation', profiles });
  const offline = evaluator?.finish();
  e.metrics?.seconds.observe({ model: 'recommendations' }, (performance.now() - started) / 1000);
  return {
    skipped: false,
    params: { topN, ...options },
    quality: {
      items: similarity.items,
      pairs: similarity.pairs,
      itemsWithRecommendations: similarity.neighbours.size,
      coverage: similarity.items ? similarity.neighbours.size / similarity.items : 0,
      profiles,
      profilesWithRecommendations,
      profileCoverage: profiles ? profilesWithRecommendations / profiles : 0,
      itemRows: itemRows.length,
      profileRows,
      prunes: similarity.prunes,
      ...(offline ? { offline } : {}),
    },
    artifact: {},
  };
}
