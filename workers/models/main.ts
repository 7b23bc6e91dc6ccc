// The models worker: retrainPersonas and retrainRecommendations workflows and their activities on
// task queue uspa-models.<namespace>. `uspa worker models` runs it.
import { once } from 'node:events';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { clickhouseSettingsFromEnv, warehousePool } from '../../lib/clickhouse.ts';
import { serveTemporalWorker } from '../../lib/temporal-worker.ts';
import { createLogger, type Logger } from '../../lib/log.ts';
import { ensureModelTables } from '../../lib/models/store.ts';
import { migrate } from '../../lib/schema.ts';
import { createRegistry, probeApp } from '../../lib/service.ts';
import * as activities from './activities.ts';

const defaultLog = createLogger('worker-models');

export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/models.ts', import.meta.url));

/** The task queue of the models worker of a namespace. */
export function modelsTaskQueue(namespace: string): string {
  return `uspa-models.${namespace}`;
}

export interface ModelsWorkerOptions {
  /** The USPA (Kubernetes) namespace served. */
  namespace: string;
  /** Its ClickHouse database: migrated (with the model tables) at start. Workflows name theirs in their input. */
  database: string;
  /** Default uspa-models.<namespace>. */
  taskQueue?: string;
  /** An open connection to use (not closed by close()); else one to env TEMPORAL_ADDRESS. */
  connection?: NativeConnection;
  /** Temporal namespace; default env TEMPORAL_NAMESPACE or "default". */
  temporalNamespace?: string;
  /** CLICKHOUSE_*, TEMPORAL_*; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Probe port (/metrics, /healthz, /readyz); default: none when undefined, 0 = any free port. */
  port?: number;
  host?: string;
  /** Default: JSON logs of component worker-models at LOG_LEVEL. */
  log?: Logger;
}

export interface ModelsWorker {
  worker: Worker;
  taskQueue: string;
  /** The probes' port, when served. */
  port?: number;
  close(): Promise<void>;
}

export async function startModelsWorker(options: ModelsWorkerOptions): Promise<ModelsWorker> {
  const env = options.env ?? process.env;
  const log = options.log ?? defaultLog;
  const taskQueue = options.taskQueue ?? modelsTaskQueue(options.namespace);
  const settings = clickhouseSettingsFromEnv(env);
  const warehouses = warehousePool(settings);
  const warehouse = (database: string) => warehouses.get(database);
  const registry = createRegistry('worker-models');
  let connection = options.connection;
  let server: Server | undefined;
  try {
    // The schema is the operator's job, but a worker may start first.
    await migrate(warehouse(options.database), log);
    await ensureModelTables(warehouse(options.database));
    activities.setModelsDeps({ warehouse, log, registry });
    if (!connection) {
      const address = env.TEMPORAL_ADDRESS;
      if (!address) throw new Error('TEMPORAL_ADDRESS is not set: give the Temporal frontend host:port');
      connection = await NativeConnection.connect({ address });
    }
    const worker = await Worker.create({
      connection,
      namespace: options.temporalNamespace ?? env.TEMPORAL_NAMESPACE ?? 'default',
      taskQueue,
      workflowsPath: WORKFLOWS_PATH,
      activities,
      // Training is CPU-bound and holds a model in memory: one at a time; trait chunks are light.
      maxConcurrentActivityTaskExecutions: 2,
    });
    const running = worker.run();
    running.catch((err: unknown) => log.error({ err: String(err) }, 'models worker stopped'));
    let port: number | undefined;
    if (options.port !== undefined) {
      server = probeApp(registry, { ready: () => (worker.getState() === 'RUNNING' ? undefined : `worker is ${worker.getState()}`) }).listen(options.port, options.host ?? '127.0.0.1');
      await once(server, 'listening');
      const address = server.address();
      port = typeof address === 'object' && address ? address.port : options.port;
    }
    log.info({ taskQueue, database: options.database, port }, 'models worker polling');
    const own = !options.connection;
    return {
      worker,
      taskQueue,
      port,
      async close() {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => undefined);
        server?.close();
        if (own) await connection!.close();
        await warehouses.closeAll();
      },
    };
  } catch (err) {
    server?.close();
    if (!options.connection) await connection?.close().catch(() => undefined);
    await warehouses.closeAll();
    throw err;
  }
}

/** `uspa worker models` (env: USPA_NAMESPACE, USPA_DATABASE, USPA_TASK_QUEUE, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, CLICKHOUSE_*, PORT, HOST). */
export async function serveModelsWorker(): Promise<void> {
  await serveTemporalWorker(defaultLog, ({ namespace, port, host }) =>
    startModelsWorker({ namespace, database: process.env.USPA_DATABASE ?? 'uspa', taskQueue: process.env.USPA_TASK_QUEUE || undefined, port, host }),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await serveModelsWorker();
