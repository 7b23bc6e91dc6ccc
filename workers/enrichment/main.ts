// The enrichment worker: backfillEnrichment on task queue uspa-enrichment.<namespace>.
import { fileURLToPath } from 'node:url';
import { Warehouse, clickhouseSettingsFromEnv } from '../../lib/clickhouse.ts';
import { createLogger } from '../../lib/log.ts';
import { runTemporalWorker, serveTemporalWorker } from '../temporal-worker.ts';
import * as activities from './activities.ts';

const log = createLogger('worker-enrichment');

export async function startEnrichmentWorker(options: { namespace: string; env?: NodeJS.ProcessEnv; port?: number; host?: string }) {
  const env = options.env ?? process.env;
  const settings = clickhouseSettingsFromEnv(env);
  const warehouses = new Map<string, Warehouse>();
  activities.setEnrichmentDeps({
    warehouse: (database) => {
      let w = warehouses.get(database);
      if (!w) warehouses.set(database, (w = new Warehouse({ ...settings, database })));
      return w;
    },
  });
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
      for (const w of warehouses.values()) await w.close();
    },
  });
}

export async function serveEnrichmentWorker(): Promise<void> {
  await serveTemporalWorker(log, (o) => startEnrichmentWorker(o));
}
