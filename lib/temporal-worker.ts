// The one way a USPA Temporal worker runs (after temporalio/samples-typescript): a connection, one
// Worker on the namespace's task queue for its kind, the process's one ClickHouse pool, probes and
// metrics, a clean stop. Each workers/<kind>/main.ts names its workflows and builds its activities
// from the engines handed to its setup; `uspa worker <kind>` serves it.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { database as databaseName, taskQueue as taskQueueName, type WorkerKind } from '../api/names.ts';
import { clickhouseSettingsFromEnv, warehousePool, type Warehouse } from './clickhouse.ts';
import { createLogger, type Logger } from './log.ts';
import { readTlsDir, temporalTls, type TemporalTls } from './tls.ts';
import { migrate } from './schema.ts';
import { createRegistry, probeApp, stopOnSignals } from './service.ts';

/**
 * TEMPORAL_TLS=true (or TEMPORAL_TLS_DIR: ca.crt, and tls.crt + tls.key for mTLS) connects over TLS,
 * TEMPORAL_TLS_SERVER_NAME overrides the name checked in the server's certificate. Every Temporal
 * connection of USPA (workers, their clients, the operator) takes its `tls` from here.
 */
export function temporalTlsFromEnv(env: NodeJS.ProcessEnv = process.env): TemporalTls | undefined {
  const files = readTlsDir(env.TEMPORAL_TLS_DIR, 'TEMPORAL_TLS_DIR');
  if (!files && env.TEMPORAL_TLS !== 'true') return undefined;
  return temporalTls(files, env.TEMPORAL_TLS_SERVER_NAME);
}


/** What the caller of any worker gives it (the entrypoint from env; tests their own). */
export interface WorkerOptions {
  /** The Kubernetes namespace served: its task queue and database. */
  namespace: string;
  /** TEMPORAL_*, CLICKHOUSE_*, USPA_DATABASE, KAFKA_BROKERS, USPA_TOPIC_PREFIX …; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Probes and /metrics; default any free port. */
  port?: number;
  host?: string;
  log?: Logger;
  /** A prebuilt bundle of the worker's workflows (tests share one); bundled at start otherwise. */
  workflowBundle?: WorkflowBundle;
}

/** What a worker's setup gets to build its activities from. */
export interface WorkerEngines {
  namespace: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  taskQueue: string;
  /** The namespace's database, migrated before the setup runs. */
  database: string;
  /** The process's one ClickHouse pool: workflows name the database they work on. */
  warehouse: (database: string) => Warehouse;
  registry: Registry;
}

export interface WorkerSetup<A extends object> {
  activities: A;
  /** Why the process is not ready although its Temporal worker runs (e.g. Kafka not connected). */
  notReady?: () => string | undefined;
  /** Releases what the setup opened; called after the worker stopped. */
  close?: () => Promise<void>;
}

export interface TemporalWorkerDefinition<A extends object> {
  kind: WorkerKind;
  /** The workflows module (workflows/<kind>.ts). */
  workflowsPath: string;
  maxConcurrentActivities?: number;
  setup: (engines: WorkerEngines) => Promise<WorkerSetup<A>>;
}

export interface RunningTemporalWorker<A extends object> {
  worker: Worker;
  taskQueue: string;
  database: string;
  /** The probes' port. */
  port: number;
  /** The activities the worker runs (tests call them directly). */
  activities: A;
  close(): Promise<void>;
}

export async function runTemporalWorker<A extends object>(definition: TemporalWorkerDefinition<A>, options: WorkerOptions): Promise<RunningTemporalWorker<A>> {
  const { kind } = definition;
  const env = options.env ?? process.env;
  const log = options.log ?? createLogger(`worker-${kind}`);
  const address = env.TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEMPORAL_ADDRESS is not set: give the Temporal frontend host:port');
  const taskQueue = taskQueueName(kind, options.namespace);
  const database = env.USPA_DATABASE || databaseName('uspa', options.namespace);
  const warehouses = warehousePool(clickhouseSettingsFromEnv(env));
  const registry = createRegistry(`worker-${kind}`);
  let setup: WorkerSetup<A> | undefined;
  let connection: NativeConnection | undefined;
  try {
    // The schema is the operator's job, but a worker may start first.
    await migrate(warehouses.get(database), log);
    setup = await definition.setup({ namespace: options.namespace, env, log, taskQueue, database, warehouse: (db) => warehouses.get(db), registry });
    connection = await NativeConnection.connect({ address, tls: temporalTlsFromEnv(env) });
    const worker = await Worker.create({
      connection,
      namespace: env.TEMPORAL_NAMESPACE || 'default',
      taskQueue,
      ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: definition.workflowsPath }),
      activities: measuredActivities(setup.activities, registry),
      maxConcurrentActivityTaskExecutions: definition.maxConcurrentActivities ?? 4,
    });
    new Gauge({ name: 'uspa_worker_running', help: '1 while the Temporal worker polls its task queue (state RUNNING), 0 once it stopped or failed', labelNames: ['task_queue'], registers: [registry], collect() { this.set({ task_queue: taskQueue }, worker.getState() === 'RUNNING' ? 1 : 0); } });
    const running = worker.run();
    running.catch((err: unknown) => log.error({ err: String((err as Error)?.message ?? err) }, `${kind} worker stopped`));
    const { notReady } = setup;
    const server = probeApp(registry, { ready: () => (worker.getState() === 'RUNNING' ? notReady?.() : `temporal worker is ${worker.getState()}`) }).listen(options.port ?? 0, options.host ?? '127.0.0.1');
    await once(server, 'listening');
    log.info({ taskQueue, database }, `${kind} worker polling`);
    const opened = { setup, connection };
    return {
      worker,
      taskQueue,
      database,
      port: (server.address() as AddressInfo).port,
      activities: setup.activities,
      async close() {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => undefined);
        server.close();
        await opened.setup.close?.();
        await warehouses.closeAll();
        await opened.connection.close();
      },
    };
  } catch (err) {
    await setup?.close?.().catch(() => undefined);
    await warehouses.closeAll().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    throw err;
  }
}

/**
 * The activities as the Worker runs them, each counted by result (completed, failed: a failed
 * attempt that Temporal may retry) and timed: the same metrics for every task queue.
 */
export function measuredActivities<A extends object>(activities: A, registry: Registry): A {
  const attempts = new Counter({ name: 'uspa_worker_activities_total', help: 'Activity attempts by activity and result (completed, failed)', labelNames: ['activity', 'result'], registers: [registry] });
  const seconds = new Histogram({ name: 'uspa_worker_activity_seconds', help: 'Activity attempt duration by activity', labelNames: ['activity'], buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600], registers: [registry] });
  const measured: Record<string, unknown> = {};
  for (const [activity, fn] of Object.entries(activities)) {
    if (typeof fn !== 'function') {
      measured[activity] = fn;
      continue;
    }
    measured[activity] = async (...args: unknown[]) => {
      const end = seconds.startTimer({ activity });
      try {
        const result: unknown = await (fn as (...a: unknown[]) => unknown)(...args);
        attempts.inc({ activity, result: 'completed' });
        return result;
      } catch (err) {
        attempts.inc({ activity, result: 'failed' });
        throw err;
      } finally {
        end();
      }
    };
  }
  return measured as A;
}

/** The container entrypoint `uspa worker <kind>`: USPA_NAMESPACE, PORT, HOST and the engines from env; stops on SIGTERM. */
export async function serveTemporalWorker(kind: WorkerKind, start: (options: WorkerOptions) => Promise<{ close(): Promise<void> }>): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const log = createLogger(`worker-${kind}`);
  const namespace = process.env.USPA_NAMESPACE;
  if (!namespace) {
    log.fatal('USPA_NAMESPACE is not set: a worker serves one namespace');
    process.exit(2);
  }
  try {
    const running = await start({ namespace, log, port: Number(process.env.PORT ?? 9465), host: process.env.HOST ?? '0.0.0.0' });
    stopOnSignals(() => running.close());
  } catch (err) {
    log.fatal({ err: String((err as Error).message ?? err) }, 'worker failed to start');
    process.exit(1);
  }
}
