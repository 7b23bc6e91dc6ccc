// The activations worker of one namespace: the Temporal worker of task queue
// uspa-activations.<namespace> (campaign, syncAudience and conversions workflows with their
// activities), the trigger consumer feeding it, the watch on the namespace's Activations, and
// /metrics /healthz /readyz. `uspa worker activations` runs it (the operator's Deployment does).
//
// Env: USPA_NAMESPACE, TEMPORAL_ADDRESS (+ TEMPORAL_NAMESPACE), KAFKA_BROKERS, USPA_TOPIC_PREFIX
// (the namespace's: <installation>.<namespace>), CLICKHOUSE_URL/USER/PASSWORD, USPA_DATABASE,
// PORT, HOST, USPA_WEBHOOK_PRIVATE_ADDRESSES (deny, loopback or allow); Kubernetes from KUBECONFIG or the pod's service account.
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Kafka } from 'kafkajs';
import { Counter } from 'prom-client';
import { DEFAULT_CONSENT_ENV, topicPrefix } from '../../api/names.ts';
import { WEBHOOK_ADDRESS_ENV, webhookAddressPolicy } from '../../api/activation-destinations.ts';
import { CAMPAIGN, campaignWorkflowId, conversionsWorkflowId } from '../../api/workflows/activations.ts';
import { BatchingProducer, type TopicNames, connectKafka, ensureTopics, kafkaSettingsFromEnv, topicNames } from '../../lib/kafka.ts';
import type { Logger } from '../../lib/log.ts';
import { runTemporalWorker, serveTemporalWorker, temporalTlsFromEnv, type RunningTemporalWorker, type WorkerOptions } from '../../lib/temporal-worker.ts';
import { conversions } from '../../workflows/activations.ts';
import type { Activation } from '../../api/v1alpha1/activation.ts';
import { apiMessage } from '../../lib/kubernetes/apply.ts';
import { reportStatus } from '../../lib/kubernetes/report.ts';
import { type Activities, createActivities } from './activities.ts';
import { ActivationCache, SecretReader } from './cluster.ts';
import { REPORTER, TriggerConsumer, consumes } from './consumer.ts';
import type { Outcome } from './deliveries.ts';
import { Mailer } from './destinations.ts';
import type { Recommender } from './messages.ts';
import { profileRecommender } from './recommendations.ts';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/activations.ts', import.meta.url));

export interface ActivationsWorkerOptions extends WorkerOptions {
  kubeConfig?: KubeConfig;
  /** Run the trigger consumer (default true). */
  consumer?: boolean;
  /** Keep the namespace's conversion attribution running every so often (default 60 s; false: not started). */
  conversionsIntervalMs?: number | false;
  conversionWindowMs?: number;
  /** Where templates' `recommendations` come from; default the models worker's per-profile recommendations. */
  recommendations?: Recommender;
  /** Skip triggers older than their wait plus this (default 1 h). */
  staleAfterMs?: number;
  topicRefreshMs?: number;
}

export interface RunningActivationsWorker extends RunningTemporalWorker<Activities> {
  client: Client;
  consumer?: TriggerConsumer;
  activations: ActivationCache;
  /** Cancels the running campaigns of an Activation (done on its deletion); returns how many. */
  cancelCampaigns(activation: string): Promise<number>;
}

/** What the setup opened that the worker's own parts (consumer, cancellations) use after it. */
interface Opened {
  kc: KubeConfig;
  client: Client;
  activations: ActivationCache;
  kafka: Kafka;
  topics: TopicNames;
  log: Logger;
  metrics: { records: Counter<'kind'>; actions: Counter<'action'> };
}

export async function startActivationsWorker(options: ActivationsWorkerOptions): Promise<RunningActivationsWorker> {
  const { namespace } = options;
  let opened: Opened | undefined;
  let started = false;

  const temporal = await runTemporalWorker(
    {
      kind: 'activations',
      workflowsPath: WORKFLOWS_PATH,
      // Sends wait on destinations, not on CPU.
      maxConcurrentActivities: 64,
      async setup({ env, log, database, warehouse, registry }) {
        const kc = options.kubeConfig ?? new KubeConfig();
        if (!options.kubeConfig) kc.loadFromDefault();
        const activations = new ActivationCache(kc, namespace, log);
        await activations.start();
        const topics = topicNames({ ...env, USPA_TOPIC_PREFIX: env.USPA_TOPIC_PREFIX || topicPrefix('uspa', namespace) });
        const kafka = connectKafka(kafkaSettingsFromEnv('uspa-worker-activations', env), log);
        const admin = kafka.admin();
        await admin.connect();
        // The segment workflow publishes here; the consumer subscribes whether or not it ran yet.
        await ensureTopics(admin, [{ topic: topics.segmentChanges, partitions: 3, retentionHours: 24 * 7 }]).finally(() => admin.disconnect());
        const producer = new BatchingProducer(kafka);
        await producer.connect();
        const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS!, tls: temporalTlsFromEnv(env) });
        const client = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE || 'default' });

        const outcomes = new Counter({ name: 'uspa_activations_outcomes_total', help: 'Deliveries recorded, by Activation and outcome (sent, failed, suppressed, holdout).', labelNames: ['activation', 'outcome'] as const, registers: [registry] });
        const records = new Counter({ name: 'uspa_activations_trigger_records_total', help: 'Records read by the trigger consumer, by kind (event, segment-change, skipped: not usable, logged with topic, partition, offset and cause).', labelNames: ['kind'] as const, registers: [registry] });
        const actions = new Counter({ name: 'uspa_activations_trigger_actions_total', help: 'Campaigns started or joined (start) and cancelling signals sent (unless).', labelNames: ['action'] as const, registers: [registry] });
        opened = { kc, client, activations, kafka, topics, log, metrics: { records, actions } };

        const webhookAddresses = webhookAddressPolicy(env[WEBHOOK_ADDRESS_ENV]);
        const mailer = new Mailer(webhookAddresses);
        const activities = createActivities({
          namespace,
          database,
          warehouse,
          activations,
          secrets: new SecretReader(kc, namespace),
          producer,
          kafkaOutputs: topics.activationOutputs,
          webhookAddresses,
          defaultConsentCategory: env[DEFAULT_CONSENT_ENV] || undefined,
          log,
          mailer,
          recommendations: options.recommendations ?? profileRecommender(warehouse),
          conversionWindowMs: options.conversionWindowMs,
          onOutcome: (activation: string, outcome: Outcome) => outcomes.inc({ activation, outcome }),
        });
        return {
          activities,
          notReady: () => (!started ? 'starting the trigger consumer' : producer.isConnected ? undefined : 'not connected to Kafka'),
          async close() {
            await activations.stop();
            await producer.disconnect().catch(() => undefined);
            mailer.close();
            await connection.close();
          },
        };
      },
    },
    options,
  );

  const { kc, client, activations, kafka, topics, log, metrics } = opened!;
  const { taskQueue, database } = temporal;
  const cancelCampaigns = async (activation: string): Promise<number> => {
    const prefix = campaignWorkflowId(namespace, activation, '');
    let cancelled = 0;
    const query = `WorkflowType = '${CAMPAIGN}' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}' AND WorkflowId STARTS_WITH '${prefix}'`;
    for await (const wf of client.workflow.list({ query })) {
      // The id prefix of "cart" also matches "cart-2"'s campaigns: the memo tells them apart.
      if ((wf.memo as { activation?: string } | undefined)?.activation !== activation) continue;
      await client.workflow.getHandle(wf.workflowId, wf.runId).cancel().catch(() => undefined);
      cancelled++;
    }
    return cancelled;
  };
  activations.onDelete((a) => {
    const name = a.metadata.name!;
    cancelCampaigns(name).then(
      (n) => n && log.info({ activation: `${namespace}/${name}`, cancelled: n }, 'Activation deleted: pending campaigns cancelled'),
      (err: unknown) => log.warn({ activation: `${namespace}/${name}`, err: (err as Error).message }, 'could not cancel the campaigns of a deleted Activation'),
    );
  });

  let consumer: TriggerConsumer | undefined;
  // Ready means live: an Activation's generation is reported loaded once this worker carries it
  // out (for triggers: once nothing published since it was accepted can be skipped).
  const reportLoaded = (a: Activation) => {
    if (a.metadata.deletionTimestamp || (!consumer && consumes(a))) return;
    (consumer ? consumer.load(a) : Promise.resolve())
      .then(() => reportStatus(kc, { kind: 'Activation', namespace, name: a.metadata.name!, uid: a.metadata.uid }, { component: REPORTER, generation: a.metadata.generation ?? 0, state: 'Live' }))
      .catch((err: unknown) => log.warn({ activation: `${namespace}/${a.metadata.name}`, err: apiMessage(err) }, 'could not report the Activation loaded'));
  };
  try {
    if (options.conversionsIntervalMs !== false) {
      await client.workflow
        .start(conversions, {
          workflowId: conversionsWorkflowId(namespace),
          taskQueue,
          args: [{ namespace, database, intervalMs: options.conversionsIntervalMs ?? 60_000 }],
          // The loop runs once per namespace: a restarted worker finds it running.
          workflowIdConflictPolicy: 'USE_EXISTING',
        })
        .catch((err: unknown) => {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        });
    }
    if (options.consumer !== false) {
      consumer = new TriggerConsumer({ kafka, topics, namespace, activations, temporal: client, taskQueue, log, staleAfterMs: options.staleAfterMs, topicRefreshMs: options.topicRefreshMs, metrics });
      // Before start: an Activation that appears while the consumer starts is caught up on.
      activations.informer.onChange((a, change) => change !== 'delete' && reportLoaded(a));
      await consumer.start();
    }
  } catch (err) {
    await temporal.close().catch(() => undefined);
    throw err;
  }
  started = true;
  if (!consumer) activations.informer.onChange((a, change) => change !== 'delete' && reportLoaded(a));
  for (const a of activations.list()) reportLoaded(a);
  log.info({ taskQueue, database, topics: topics.prefix }, 'activations worker running');

  return {
    ...temporal,
    client,
    consumer,
    activations,
    cancelCampaigns,
    async close() {
      await consumer?.stop().catch(() => undefined);
      await temporal.close();
    },
  };
}

/** `uspa worker activations`: the container entrypoint (env above), through the shared Temporal worker main. */
export async function serveActivationsWorker(): Promise<void> {
  await serveTemporalWorker('activations', startActivationsWorker);
}
