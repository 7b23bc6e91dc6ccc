// The segments worker: computeSegment workflows and their activities on task queue
// uspa-segments.<namespace>. `uspa worker segments` runs it (the operator's Deployment does).
import { fileURLToPath } from 'node:url';
import { Partitioners } from 'kafkajs';
import { clickhouseSettingsFromEnv, warehousePool } from '../../lib/clickhouse.ts';
import { connectKafka, ensureTopics, kafkaSettingsFromEnv, topicNames } from '../../lib/kafka.ts';
import { createLogger } from '../../lib/log.ts';
import { migrate } from '../../lib/schema.ts';
import { runTemporalWorker, serveTemporalWorker } from '../../lib/temporal-worker.ts';
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
  const settings = clickhouseSettingsFromEnv(env);
  const warehouses = warehousePool(settings);
  const warehouse = (database: string) => warehouses.get(database);
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

  return runTemporalWorker({
    kind: 'segments',
    namespace: options.namespace,
    workflowsPath: fileURLToPath(new URL('../../workflows/segments.ts', import.meta.url)),
    activities,
    env,
    log,
    port: options.port,
    host: options.host,
    async onClose() {
      await producer.disconnect();
      await warehouses.closeAll();
    },
  });
}

/** `uspa worker segments` (env: USPA_NAMESPACE, TEMPORAL_*, KAFKA_BROKERS, USPA_TOPIC_PREFIX, CLICKHOUSE_*, USPA_DATABASE, PORT). */
export async function serveSegmentsWorker(): Promise<void> {
  await serveTemporalWorker(log, (o) => startSegmentsWorker(o));
}
