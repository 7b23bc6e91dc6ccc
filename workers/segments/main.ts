// The segments worker: computeSegment workflows and their activities on task queue
// uspa-segments.<namespace>. `uspa worker segments` runs it (the operator's Deployment does).
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Runtime, Worker, DefaultLogger } from '@temporalio/worker';
import { Partitioners } from 'kafkajs';
import { Warehouse, clickhouseSettingsFromEnv } from '../../lib/clickhouse.ts';
import { connectKafka, ensureTopics, kafkaSettingsFromEnv, topicNames } from '../../lib/kafka.ts';
import { createLogger } from '../../lib/log.ts';
import { migrate } from '../../lib/schema.ts';
import { createRegistry, probeApp } from '../../lib/service.ts';
import { taskQueue } from '../../operator/manifests/names.ts';
import * as activities from './activities.ts';

const log = createLogger('worker-segments');

export interface SegmentsWorkerOptions {
  namespace: string;
  env?: NodeJS.ProcessEnv;
  port?: number;
  host?: string;
}

export async function startSegmentsWorker(options: SegmentsWorkerOptions) {
  const env = options.env ?? process.env;
  const address = env.TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEMPORAL_ADDRESS is not set: give the Temporal frontend host:port');
  const settings = clickhouseSettingsFromEnv(env);
  const warehouses = new Map<string, Warehouse>();
  const warehouse = (database: string) => {
    let w = warehouses.get(database);
    if (!w) warehouses.set(database, (w = new Warehouse({ ...settings, database })));
    return w;
  };
  // The schema (segment tables included) is the operator's job, but a worker may start first.
  await migrate(warehouse(settings.database), log);
  const kafka = connectKafka(kafkaSettingsFromEnv('uspa-worker-segments', env), log);
  const admin = kafka.admin();
  await admin.connect();
  // USPA_TOPIC_PREFIX is the namespace's prefix (<installation>.<namespace>), as for every workload.
  const topic = topicNames(env).segmentChanges;
  await ensureTopics(admin, [{ topic, partitions: 3, retentionHours: 24 * 7 }]);
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: false, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  activities.setSegmentsDeps({ warehouse, producer, changesTopic: () => topic });

  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: taskQueue('segments', options.namespace),
    workflowsPath: fileURLToPath(new URL('../../workflows/segments.ts', import.meta.url)),
    activities,
    maxConcurrentActivityTaskExecutions: 4,
  });
  const running = worker.run();
  const registry = createRegistry('worker-segments');
  const server = probeApp(registry, { ready: () => (worker.getState() === 'RUNNING' ? undefined : `worker is ${worker.getState()}`) }).listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  log.info({ taskQueue: taskQueue('segments', options.namespace) }, 'segments worker polling');
  return {
    worker,
    async close() {
      worker.shutdown();
      await running.catch(() => undefined);
      server.close();
      await producer.disconnect();
      await connection.close();
      for (const w of warehouses.values()) await w.close();
    },
  };
}

/** `uspa worker segments` (env: USPA_NAMESPACE, TEMPORAL_*, KAFKA_BROKERS, USPA_TOPIC_PREFIX, CLICKHOUSE_*, USPA_DATABASE, PORT). */
export async function serveSegmentsWorker(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const namespace = process.env.USPA_NAMESPACE;
  if (!namespace) {
    log.fatal('USPA_NAMESPACE is not set: the worker serves one namespace');
    process.exit(2);
  }
  try {
    const running = await startSegmentsWorker({ namespace, port: Number(process.env.PORT ?? 9465), host: process.env.HOST ?? '0.0.0.0' });
    const stop = async () => {
      await running.close();
      process.exit(0);
    };
    process.once('SIGTERM', () => void stop());
    process.once('SIGINT', () => void stop());
  } catch (err) {
    log.fatal({ err: String((err as Error).message ?? err) }, 'segments worker failed to start');
    process.exit(1);
  }
}
