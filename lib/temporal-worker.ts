// What every Temporal worker entrypoint of USPA shares: the connection, one Worker on the
// namespace's task queue for its kind, probes and metrics, a clean stop on SIGTERM.
import { once } from 'node:events';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { Logger } from './log.ts';
import { createRegistry, probeApp } from './service.ts';
import { taskQueue } from '../api/names.ts';

export interface TemporalWorkerOptions {
  kind: 'segments' | 'activations' | 'models' | 'enrichment';
  namespace: string;
  workflowsPath: string;
  activities: object;
  env: NodeJS.ProcessEnv;
  log: Logger;
  port?: number;
  host?: string;
  maxConcurrentActivities?: number;
  /** Closed after the worker stopped (producers, warehouses). */
  onClose?: () => Promise<void>;
}

export async function runTemporalWorker(o: TemporalWorkerOptions) {
  const address = o.env.TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEMPORAL_ADDRESS is not set: give the Temporal frontend host:port');
  const queue = taskQueue(o.kind, o.namespace);
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    namespace: o.env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: queue,
    workflowsPath: o.workflowsPath,
    activities: o.activities,
    maxConcurrentActivityTaskExecutions: o.maxConcurrentActivities ?? 4,
  });
  const running = worker.run();
  const registry = createRegistry(`worker-${o.kind}`);
  const server = probeApp(registry, { ready: () => (worker.getState() === 'RUNNING' ? undefined : `worker is ${worker.getState()}`) }).listen(o.port ?? 0, o.host ?? '127.0.0.1');
  await once(server, 'listening');
  o.log.info({ taskQueue: queue }, `${o.kind} worker polling`);
  return {
    worker,
    async close() {
      worker.shutdown();
      await running.catch(() => undefined);
      server.close();
      await o.onClose?.();
      await connection.close();
    },
  };
}

/** The container entrypoint `uspa worker <kind>`: USPA_NAMESPACE, PORT, HOST and the engines from env. */
export async function serveTemporalWorker(log: Logger, start: (options: { namespace: string; port: number; host: string }) => Promise<{ close(): Promise<void> }>): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const namespace = process.env.USPA_NAMESPACE;
  if (!namespace) {
    log.fatal('USPA_NAMESPACE is not set: a worker serves one namespace');
    process.exit(2);
  }
  try {
    const running = await start({ namespace, port: Number(process.env.PORT ?? 9465), host: process.env.HOST ?? '0.0.0.0' });
    const stop = async () => {
      await running.close();
      process.exit(0);
    };
    process.once('SIGTERM', () => void stop());
    process.once('SIGINT', () => void stop());
  } catch (err) {
    log.fatal({ err: String((err as Error).message ?? err) }, 'worker failed to start');
    process.exit(1);
  }
}
