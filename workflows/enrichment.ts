// backfillEnrichment: re-enriches the events a Pipeline already stored after its enrichment rules
// changed. The history is cut into chunks (month × hash bucket of the message id); each chunk is
// one activity that pages through its events and heartbeats its position, so a crash resumes from
// the last page, not the start. Progress is a query; the history stays small by continuing as new.
import { continueAsNew, defineQuery, proxyActivities, setHandler } from '@temporalio/workflow';
import type * as activities from '../workers/enrichment/activities.ts';

export interface EnrichRules {
  geoip?: boolean;
  userAgent?: boolean;
  anonymizeIp?: boolean;
  urlTopics?: Array<{ match: string; topic: string }>;
}

export interface BackfillInput {
  namespace: string;
  pipeline: string;
  database: string;
  sources: string[];
  enrich: EnrichRules;
  revision: string;
  /** Set by continue-as-new. */
  resume?: { nextChunk: number; processed: number; total: number; chunks: Chunk[] };
}

export interface Chunk {
  month: number;
  bucket: number;
  buckets: number;
}

export interface BackfillProgress {
  processed: number;
  total: number;
  chunksDone: number;
  chunks: number;
}

export const progressQuery = defineQuery<BackfillProgress>('progress');

/** Chunks per workflow run before continuing as new. */
const CHUNKS_PER_RUN = 200;

const { planBackfill } = proxyActivities<typeof activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

const { reenrichChunk } = proxyActivities<typeof activities>({
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
