// The segments worker: computeSegment workflows and their activities on task queue
// uspa-segments.<namespace>. `uspa worker segments` runs it (the operator's Deployment does).
// Env: USPA_NAMESPACE, TEMPORAL_*, KAFKA_BROKERS, USPA_TOPIC_PREFIX, CLICKHOUSE_*, USPA_DATABASE, PORT.
import { fileURLToPath } from 'node:url';
import { Partitioners } from 'kafkajs';
import { connectKafka, ensureTopics, kafkaSettingsFromEnv, topicNames } from '../../lib/kafka.ts';
import { runTemporalWorker, serveTemporalWorker, type WorkerOptions } from '../../lib/temporal-worker.ts';
import { createActivities } from './activities.ts';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/segments.ts', import.meta.url));

export function startSegmentsWorker(options: WorkerOptions) {
  return runTemporalWorker(
    {
      kind: 'segments',
      workflowsPath: WORKFLOWS_PATH,
      async setup({ env, log, warehouse, registry }) {
        const kafka = connectKafka(kafkaSettingsFromEnv('uspa-worker-segments', env), log);
        const admin = kafka.admin();
        await admin.connect();
        // USPA_TOPIC_PREFIX is the namespace's prefix (<installation>.<namespace>), as for every workload.
        const topic = topicNames(env).segmentChanges;
        await ensureTopics(admin, [{ topic, partitions: 3, retentionHours: 24 * 7 }]).finally(() => admin.disconnect());
        const producer = kafka.producer({ idempotent: false, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
        await producer.connect();
        return {
          activities: createActivities({ warehouse, producer, changesTopic: () => topic, registry }),
          close: () => producer.disconnect(),
        };
      },
    },
    options,
  );
}

export async function serveSegmentsWorker(): Promise<void> {
  await serveTemporalWorker('segments', startSegmentsWorker);
}
