// The models worker: retrainPersonas and retrainRecommendations workflows and their activities on
// task queue uspa-models.<namespace>. `uspa worker models` runs it.
// Env: USPA_NAMESPACE, TEMPORAL_*, CLICKHOUSE_*, USPA_DATABASE, PORT, HOST.
import { fileURLToPath } from 'node:url';
import { runTemporalWorker, serveTemporalWorker, type WorkerOptions } from '../../lib/temporal-worker.ts';
import { createActivities } from './activities.ts';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/models.ts', import.meta.url));

export function startModelsWorker(options: WorkerOptions) {
  return runTemporalWorker(
    {
      kind: 'models',
      workflowsPath: WORKFLOWS_PATH,
      // Training is CPU-bound and holds a model in memory: one at a time; trait chunks are light.
      maxConcurrentActivities: 2,
      setup: async ({ warehouse, log, registry }) => ({ activities: createActivities({ warehouse, log, registry }) }),
    },
    options,
  );
}

export type ModelsWorker = Awaited<ReturnType<typeof startModelsWorker>>;

export async function serveModelsWorker(): Promise<void> {
  await serveTemporalWorker('models', startModelsWorker);
}
