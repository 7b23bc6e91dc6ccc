// The enrichment worker: backfillEnrichment on task queue uspa-enrichment.<namespace>.
// `uspa worker enrichment` runs it. Env: USPA_NAMESPACE, TEMPORAL_*, CLICKHOUSE_*, USPA_DATABASE, PORT.
import { fileURLToPath } from 'node:url';
import { runTemporalWorker, serveTemporalWorker, type WorkerOptions } from '../../lib/temporal-worker.ts';
import { createActivities } from './activities.ts';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/enrichment.ts', import.meta.url));

export function startEnrichmentWorker(options: WorkerOptions) {
  return runTemporalWorker(
    {
      kind: 'enrichment',
      workflowsPath: WORKFLOWS_PATH,
      // Each chunk rewrites a few hundred thousand rows: two at a time keep ClickHouse responsive.
      maxConcurrentActivities: 2,
      setup: async ({ warehouse }) => ({ activities: createActivities({ warehouse }) }),
    },
    options,
  );
}

export async function serveEnrichmentWorker(): Promise<void> {
  await serveTemporalWorker('enrichment', startEnrichmentWorker);
}
