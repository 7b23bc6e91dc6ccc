// The enrichment worker: backfillEnrichment on task queue uspa-enrichment.<namespace>.
import { fileURLToPath } from 'node:url';
import { clickhouseSettingsFromEnv, warehousePool } from '../../lib/clickhouse.ts';
import { createLogger } from '../../lib/log.ts';
import { runTemporalWorker, serveTemporalWorker } from '../../lib/temporal-worker.ts';
import * as activities from './activities.ts';

const log = createLogger('worker-enrichment');

export async function startEnrichmentWorker(options: { namespace: string; env?: NodeJS.ProcessEnv; port?: number; host?: string }) {
  const env = options.env ?? process.env;
  const settings = clickhouseSettingsFromEnv(env);
  const warehouses = warehousePool(settings);
  activities.setEnrichmentDeps({ warehouse: (database) => warehouses.get(database) });
  return runTemporalWorker({
    kind: 'enrichment',
    namespace: options.namespace,
    workflowsPath: fileURLToPath(new URL('../../workflows/enrichment.ts', import.meta.url)),
    activities,
    env,
    log,
    port: options.port,
    host: options.host,
    maxConcurrentActivities: 2,
    async onClose() {
      await warehouses.closeAll();
    },
  });
}

export async function serveEnrichmentWorker(): Promise<void> {
  await serveTemporalWorker(log, (o) => startEnrichmentWorker(o));
}
