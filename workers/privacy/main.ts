// The privacy worker: erasePerson on task queue uspa-privacy.<namespace>. `uspa worker privacy`
// runs it. Env: USPA_NAMESPACE, TEMPORAL_*, CLICKHOUSE_*, USPA_DATABASE, KAFKA_*, USPA_TOPIC_PREFIX,
// USPA_PRIVACY_SIGNING_KEY (from the namespace's Secret uspa-privacy-signing-key), PORT.
import { fileURLToPath } from 'node:url';
import { topicPrefix } from '../../api/names.ts';
import { BatchingProducer, connectKafka, ensureTopics, kafkaSettingsFromEnv, topicNames } from '../../lib/kafka.ts';
import { suppressionTopicSpec } from '../../lib/privacy/suppressions.ts';
import { runTemporalWorker, serveTemporalWorker, temporalTlsFromEnv, type WorkerOptions } from '../../lib/temporal-worker.ts';
import { Client, Connection } from '@temporalio/client';
import { CAMPAIGN } from '../../api/workflows/activations.ts';
import { createActivities } from './activities.ts';
import { signingKeyFromEnv } from './signing-key.ts';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/privacy.ts', import.meta.url));

export function startPrivacyWorker(options: WorkerOptions) {
  return runTemporalWorker(
    {
      kind: 'privacy',
      workflowsPath: WORKFLOWS_PATH,
      // DELETE mutations are heavy for ClickHouse: one store at a time per worker.
      maxConcurrentActivities: 2,
      async setup({ env, log, warehouse, namespace }) {
        const signingKey = signingKeyFromEnv(env);
        const topics = topicNames({ ...env, USPA_TOPIC_PREFIX: env.USPA_TOPIC_PREFIX || topicPrefix('uspa', namespace) });
        const kafka = connectKafka(kafkaSettingsFromEnv('uspa-worker-privacy', env), log);
        const admin = kafka.admin();
        await admin.connect();
        await ensureTopics(admin, [suppressionTopicSpec(topics)]).finally(() => admin.disconnect());
        const producer = new BatchingProducer(kafka);
        await producer.connect();
        const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS!, tls: temporalTlsFromEnv(env) });
        const client = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE || 'default' });
        const campaigns = {
          async *running(idPrefix: string) {
            const query = `WorkflowType = '${CAMPAIGN}' AND ExecutionStatus = 'Running' AND WorkflowId STARTS_WITH '${idPrefix}'`;
            for await (const wf of client.workflow.list({ query })) yield wf.workflowId;
          },
          async cancel(workflowId: string) {
            await client.workflow.getHandle(workflowId).cancel();
          },
        };
        const activities = createActivities({
          warehouse,
          send: (records) => producer.send(records),
          admin: async () => {
            const a = kafka.admin();
            await a.connect();
            return a;
          },
          topics,
          signingKey,
          log,
          campaigns,
        });
        return {
          activities,
          notReady: () => (producer.isConnected ? undefined : 'not connected to Kafka'),
          async close() {
            await producer.disconnect();
            await connection.close();
          },
        };
      },
    },
    options,
  );
}

export type PrivacyWorker = Awaited<ReturnType<typeof startPrivacyWorker>>;

export async function servePrivacyWorker(): Promise<void> {
  await serveTemporalWorker('privacy', startPrivacyWorker);
}
