// Model retraining, one run of a schedule each:
//   retrainPersonas         K-Means personas over profile features → profile_personas, the
//                           `persona` trait on profiles (chunked), a model_versions row;
//   retrainRecommendations  item-to-item cosine over views and purchases → item_recommendations,
//                           profile_recommendations, a model_versions row.
//
// The version row is committed after every row of the version is written, so readers only see
// complete versions. A run is idempotent per run key (default: the workflow id, which a Temporal
// Schedule makes unique per scheduled time): running the same key again trains nothing and only
// re-applies what may be missing. Two runs of one model on one database never overlap: the work
// is a child workflow with a fixed id per (database, model), so a second run started meanwhile
// (another Schedule, a manual run) returns `skipped` instead of racing for the same version.
import { ApplicationFailure, executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Implements } from '../api/workflows/contract.ts';
import type {
  ModelsWorkflows,
  RetrainPersonasInput,
  RetrainPersonasResult,
  RetrainRecommendationsInput,
  RetrainRecommendationsResult,
  Skipped,
  TraitTotals,
} from '../api/workflows/models.ts';
import type { ModelsActivities } from '../workers/models/activities.ts';

/** Profiles per trait-application activity. */
export const TRAIT_CHUNK = 2000;
/** Rows of this many newest versions are kept (model_versions keeps the whole history). */
export const KEEP_VERSIONS = 3;

const { trainPersonas, trainRecommendations } = proxyActivities<ModelsActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5, nonRetryableErrorTypes: ['InvalidModelInput'] },
});

const { beginModelVersion, commitModelVersion, applyPersonaTraits, pruneModelVersions } = proxyActivities<ModelsActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: ['InvalidModelInput'] },
});

function check(condition: boolean, message: string): void {
  if (!condition) throw ApplicationFailure.create({ type: 'InvalidModelInput', message, nonRetryable: true });
}

function isInteger(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x);
}

/** The id of the one child that may train `model` on `database` at a time. */
export function exclusiveWorkflowId(database: string, model: 'personas' | 'recommendations'): string {
  return `uspa-models.${database}.${model}`;
}

async function exclusively<R>(model: 'personas' | 'recommendations', database: string, run: string, start: (workflowId: string) => Promise<R>): Promise<R | Skipped> {
  try {
    return await start(exclusiveWorkflowId(database, model));
  } catch (err) {
    if (err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError') return { skipped: `another run is retraining ${model} of ${database}`, run };
    throw err;
  }
}

function checkCommon(input: { namespace: string; database: string }): void {
  check(typeof input.namespace === 'string' && input.namespace.length > 0, 'namespace is required');
  check(typeof input.database === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(input.database), `database must be a ClickHouse identifier, got ${JSON.stringify(input.database)}`);
}

export async function retrainPersonas(input: RetrainPersonasInput): Promise<RetrainPersonasResult> {
  checkCommon(input);
  check(input.k === undefined || (isInteger(input.k) && input.k >= 2 && input.k <= 100), `k must be an integer from 2 to 100, got ${input.k}`);
  const kRange = input.kRange ?? [2, 8];
  check(Array.isArray(kRange) && kRange.length === 2 && isInteger(kRange[0]) && isInteger(kRange[1]) && kRange[0] >= 2 && kRange[1] >= kRange[0] && kRange[1] <= 100, `kRange must be [min, max] with 2 ≤ min ≤ max ≤ 100, got ${JSON.stringify(input.kRange)}`);
  check(input.algorithm === undefined || input.algorithm === 'kmeans' || input.algorithm === 'dbscan', `algorithm must be kmeans or dbscan, got ${input.algorithm}`);
  check(input.eps === undefined || (typeof input.eps === 'number' && input.eps > 0 && input.eps <= 100), `eps must be a number above 0 and at most 100, got ${input.eps}`);
  check(input.minPoints === undefined || (isInteger(input.minPoints) && input.minPoints >= 1 && input.minPoints <= 100_000), `minPoints must be an integer from 1 to 100000, got ${input.minPoints}`);
  const run = input.run ?? workflowInfo().workflowId;
  return exclusively('personas', input.database, run, (workflowId) => executeChild(trainPersonasExclusively, { workflowId, args: [{ ...input, kRange, run }] }));
}

/** The work of retrainPersonas; only ever started by it, as the model's one running child. */
export async function trainPersonasExclusively(input: RetrainPersonasInput & { kRange: [number, number]; run: string }): Promise<RetrainPersonasResult> {
  const { database, run } = input;
  const begun = await beginModelVersion({ database, model: 'personas', run });
  let trainedAt = begun.trainedAt;
  let quality = begun.quality;
  if (!begun.committed) {
    // Workflow time: the same on every replay and every retry of the activities below.
    trainedAt = new Date().toISOString();
    const trained = await trainPersonas({ database, version: begun.version, k: input.k, kRange: input.kRange, seed: input.seed, algorithm: input.algorithm, eps: input.eps, minPoints: input.minPoints });
    if (trained.skipped) return { skipped: trained.reason, run };
    await commitModelVersion({ database, model: 'personas', version: begun.version, run, revision: input.revision ?? '', trainedAt, params: trained.params, quality: trained.quality, artifact: trained.artifact });
    quality = trained.quality;
  }

  // The persona trait, chunk by chunk; a re-run only fills what is missing.
  const traits: TraitTotals = { profiles: 0, traitsWritten: 0, profilesUpdated: 0, profilesDeferred: 0 };
  let after = '';
  for (;;) {
    const chunk = await applyPersonaTraits({ database, version: begun.version, after, limit: TRAIT_CHUNK, trainedAt: trainedAt! });
    traits.profiles += chunk.profiles;
    traits.traitsWritten += chunk.traitsWritten;
    traits.profilesUpdated += chunk.profilesUpdated;
    traits.profilesDeferred += chunk.profilesDeferred;
    if (chunk.next === null) break;
    after = chunk.next;
  }
  await pruneModelVersions({ database, model: 'personas', keep: KEEP_VERSIONS });

  const q = quality ?? {};
  const clusters = (q.clusters ?? []) as Array<{ persona: string; size: number }>;
  return {
    version: begun.version,
    run,
    trained: !begun.committed,
    k: Number(q.k),
    silhouette: Number(q.silhouette),
    n: Number(q.n),
    personas: clusters.map((c) => ({ persona: c.persona, size: c.size })),
    traits,
  };
}

export async function retrainRecommendations(input: RetrainRecommendationsInput): Promise<RetrainRecommendationsResult> {
  checkCommon(input);
  const topN = input.topN ?? 10;
  check(isInteger(topN) && topN >= 1 && topN <= 1000, `topN must be an integer from 1 to 1000, got ${input.topN}`);
  const run = input.run ?? workflowInfo().workflowId;
  return exclusively('recommendations', input.database, run, (workflowId) => executeChild(trainRecommendationsExclusively, { workflowId, args: [{ ...input, topN, run }] }));
}

/** The work of retrainRecommendations; only ever started by it, as the model's one running child. */
export async function trainRecommendationsExclusively(input: RetrainRecommendationsInput & { topN: number; run: string }): Promise<RetrainRecommendationsResult> {
  const { database, run } = input;
  const begun = await beginModelVersion({ database, model: 'recommendations', run });
  if (begun.committed) return { version: begun.version, run, trained: false, quality: begun.quality ?? {} };
  const trainedAt = new Date().toISOString();
  const trained = await trainRecommendations({ database, version: begun.version, topN: input.topN });
  if (trained.skipped) return { skipped: trained.reason, run };
  await commitModelVersion({ database, model: 'recommendations', version: begun.version, run, revision: input.revision ?? '', trainedAt, params: trained.params, quality: trained.quality, artifact: trained.artifact });
  await pruneModelVersions({ database, model: 'recommendations', keep: KEEP_VERSIONS });
  return { version: begun.version, run, trained: true, quality: trained.quality };
}

export type Contract = Implements<ModelsWorkflows, typeof import('./models.ts')>;
