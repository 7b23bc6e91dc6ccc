// backfillEnrichment: re-enriches the events a Pipeline already stored after its enrichment rules
// changed. The history is cut into chunks (month × hash bucket of the message id); each chunk is
// one activity that pages through its events and heartbeats its position, so a crash resumes from
// the last page, not the start. Progress is a query; the history stays small by continuing as new.
import { continueAsNew, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Implements } from '../api/workflows/contract.ts';
import { progressQuery, type BackfillInput, type BackfillProgress, type EnrichmentWorkflows } from '../api/workflows/enrichment.ts';
import type { EnrichmentActivities } from '../workers/enrichment/activities.ts';

/** Chunks per workflow run before continuing as new. */
const CHUNKS_PER_RUN = 200;

const { planBackfill } = proxyActivities<EnrichmentActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

const { reenrichChunk } = proxyActivities<EnrichmentActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 50 },
});

export async function backfillEnrichment(input: BackfillInput): Promise<BackfillProgress> {
  const plan = input.resume ?? { nextChunk: 0, processed: 0, ...(await planBackfill({ database: input.database, sources: input.sources })) };
  let processed = plan.processed;
  let next = plan.nextChunk;
  setHandler(progressQuery, () => ({ processed, total: plan.total, chunksDone: next, chunks: plan.chunks.length }));
  const stopAt = Math.min(plan.chunks.length, next + CHUNKS_PER_RUN);
  for (; next < stopAt; next++) {
    processed += await reenrichChunk({ database: input.database, sources: input.sources, enrich: input.enrich, chunk: plan.chunks[next]! });
  }
  if (next < plan.chunks.length) await continueAsNew<typeof backfillEnrichment>({ ...input, resume: { nextChunk: next, processed, total: plan.total, chunks: plan.chunks } });
  return { processed, total: plan.total, chunksDone: next, chunks: plan.chunks.length };
}

export type Contract = Implements<EnrichmentWorkflows, typeof import('./enrichment.ts')>;
