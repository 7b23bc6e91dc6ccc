// The workflows of task queue uspa-enrichment.<namespace>: the re-enrichment of a Pipeline's
// stored events, started by the operator when spec.enrich changes, followed by its progress query.
import { defineQuery } from '@temporalio/workflow';
import type { PipelineEnrich } from '../v1alpha1/pipeline.ts';

/** The rules to re-enrich with: the Pipeline's spec.enrich. */
export type EnrichRules = PipelineEnrich;

/** A slice of the stored history: one month × one hash bucket of the message ids. */
export interface Chunk {
  month: number;
  bucket: number;
  buckets: number;
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

export interface BackfillProgress {
  processed: number;
  total: number;
  chunksDone: number;
  chunks: number;
}

/** The task queue's workflows by the names Temporal knows them by (their exports in workflows/enrichment.ts). */
export interface EnrichmentWorkflows {
  backfillEnrichment: (input: BackfillInput) => Promise<BackfillProgress>;
}

export const BACKFILL_ENRICHMENT = 'backfillEnrichment' satisfies keyof EnrichmentWorkflows;

/** Progress of a running backfill (the operator copies it into Pipeline status.backfill). */
export const progressQuery = defineQuery<BackfillProgress>('progress');

/** One backfill per Pipeline and rules revision: starting it again joins the same workflow. */
export function backfillWorkflowId(namespace: string, pipeline: string, revision: string): string {
  return `enrich-${namespace}-${pipeline}-${revision}`;
}
