// What the segments worker's tests share: a namespace of their own on the real ClickHouse, Kafka and
// Temporal — its database (migrated), the segments worker, a Temporal client, and every record of its
// segment-changes topic as it arrives.
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { Kafka, logLevel } from 'kafkajs';
import { Warehouse, clickhouseSettingsFromEnv } from '../../lib/clickhouse.ts';
import { createLogger } from '../../lib/log.ts';
import { migrate } from '../../lib/schema.ts';
import { taskQueue } from '../../api/names.ts';
import type { ComputeSegmentInput } from '../../api/workflows/segments.ts';
import { startSegmentsWorker } from '../../workers/segments/main.ts';
import { computeSegment } from '../../workflows/segments.ts';
import { required, unique } from '../support/env.ts';

Runtime.install({ logger: new DefaultLogger('WARN') });

export type SegmentsHarness = Awaited<ReturnType<typeof startSegmentsHarness>>;

export async function startSegmentsHarness(namespace: string) {
  required('TEMPORAL_ADDRESS');
  const database = `t_${namespace.replace(/-/g, '_')}`;
  const prefix = `t-${namespace}`;
  const topic = `${prefix}.segment-changes`;
  const env = { ...process.env, USPA_DATABASE: database, USPA_TOPIC_PREFIX: prefix, LOG_LEVEL: 'warn' };
  const kafka = new Kafka({ clientId: 'uspa-tests', brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
  const warehouse = new Warehouse({ ...clickhouseSettingsFromEnv(env), database });
  await migrate(warehouse, createLogger('test', 'warn'));
  const worker = await startSegmentsWorker({ namespace, env });
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const client = new Client({ connection });
  const changes: Array<{ segment: string; version: number; profileId: string; change: string }> = [];
  const consumer = kafka.consumer({ groupId: unique('g') });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void changes.push(JSON.parse(String(message.value))) });
  return {
    namespace, database, prefix, topic, env, kafka, warehouse, worker, client,
    /** The segment-changes records seen so far, in arrival order. */
    changes,
    /** Upserts profiles with these traits. */
    profiles: (rows: Array<[string, Record<string, unknown>]>) =>
      warehouse.insert('profiles', rows.map(([id, traits]) => ({ profile_id: id, identities: [`userId:${id}`], traits: JSON.stringify(traits), first_seen: '2026-01-01 00:00:00', last_seen: '2026-01-01 00:00:00', updated_at: new Date().toISOString().replace('T', ' ').replace('Z', '') }))),
    /** Runs computeSegment for this namespace to completion. */
    run: (input: Omit<ComputeSegmentInput, 'namespace' | 'database'>, workflowId = unique('compute')) =>
      client.workflow.execute(computeSegment, { taskQueue: taskQueue('segments', namespace), workflowId, args: [{ ...input, namespace, database }] }),
    async close(): Promise<void> {
      await consumer.disconnect();
      await worker.close();
      await connection.close();
      await warehouse.command('DROP DATABASE IF EXISTS {db}');
      await warehouse.close();
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    },
  };
}
