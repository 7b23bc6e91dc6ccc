// The activations worker of one namespace: the Temporal worker of task queue
// uspa-activations.<namespace> (campaign, syncAudience and conversions workflows with their
// activities), the trigger consumer feeding it, the watch on the namespace's Activations, and
// /metrics /healthz /readyz. `uspa worker activations` runs it (the operator's Deployment does).
//
// Env: USPA_NAMESPACE, TEMPORAL_ADDRESS (+ TEMPORAL_NAMESPACE), KAFKA_BROKERS, USPA_TOPIC_PREFIX
// (the namespace's: <installation>.<namespace>), CLICKHOUSE_URL/USER/PASSWORD, USPA_DATABASE,
// USPA_TASK_QUEUE, PORT, HOST; Kubernetes from KUBECONFIG or the pod's service account.
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { Counter } from 'prom-client';
import { Warehouse, clickhouseSettingsFromEnv } from '../../lib/clickhouse.ts';
import { BatchingProducer, connectKafka, ensureTopics, kafkaSettingsFromEnv, topicNames } from '../../lib/kafka.ts';
import { createLogger, type Logger } from '../../lib/log.ts';
import { migrate } from '../../lib/schema.ts';
import { createRegistry, probeApp } from '../../lib/service.ts';
import { database as databaseName, taskQueue as taskQueueName, topicPrefix } from '../../api/names.ts';
import { type Activities, type Recommender, createActivities, type Outcome } from './activities.ts';
import { ActivationCache, SecretReader } from './cluster.ts';
import { TriggerConsumer } from './consumer.ts';
import { Mailer } from './destinations.ts';
import { ACTIVATION_TABLES } from './tables.ts';
import { serveTemporalWorker } from '../../lib/temporal-worker.ts';
import { CAMPAIGN_WORKFLOW, campaignWorkflowId } from './triggers.ts';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/campaigns.ts', import.meta.url));

export interface ActivationsWorkerOptions {
  /** The Kubernetes namespace served (its Activations, topics, database and task queue). */
  namespace: string;
  env?: NodeJS.ProcessEnv;
  port?: number;
  host?: string;
  kubeConfig?: KubeConfig;
  log?: Logger;
  /** Run the trigger consumer (default true). */
  consumer?: boolean;
  /** Keep the namespace's conversion attribution running every so often (default 60 s; false: not started). */
  conversionsIntervalMs?: number | false;
  conversionWindowMs?: number;
  recommendations?: Recommender;
  /** A prebuilt bundle of workflows/campaigns.ts (tests share one); bundled at start otherwise. */
  workflowBundle?: WorkflowBundle;
  /** Skip triggers older than their wait plus this (default 1 h). */
  staleAfterMs?: number;
  topicRefreshMs?: number;
}

export interface RunningActivationsWorker {
  port: number;
  taskQueue: string;
  database: string;
  worker: Worker;
  client: Client;
  consumer?: TriggerConsumer;
  activations: ActivationCache;
  /** The activities the worker runs (tests call attributeConversions directly). */
  activities: Activities;
  /** Cancels the running campaigns of an Activation (done on its deletion); returns how many. */
  cancelCampaigns(activation: string): Promise<number>;
  close(): Promise<void>;
}

export async function startActivationsWorker(options: ActivationsWorkerOptions): Promise<RunningActivationsWorker> {
  const env = options.env ?? process.env;
  const namespace = options.namespace;
  const log = options.log ?? createLogger('worker-activations');
  const address = env.TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEMPORAL_ADDRESS is not set: give the Temporal frontend host:port');
  const database = env.USPA_DATABASE || databaseName(env.USPA_DATABASE_PREFIX || 'uspa', namespace);
  const taskQueue = env.USPA_TASK_QUEUE || taskQueueName('activations', namespace);
  const topics = topicNames({ ...env, USPA_TOPIC_PREFIX: env.USPA_TOPIC_PREFIX || topicPrefix('uspa', namespace) });
  const temporalNamespace = env.TEMPORAL_NAMESPACE || 'default';

  const settings = clickhouseSettingsFromEnv(env);
  const warehouses = new Map<string, Warehouse>();
  const warehouse = (db: string) => {
    let w = warehouses.get(db);
    if (!w) warehouses.set(db, (w = new Warehouse({ ...settings, database: db })));
    return w;
  };
  // The schema is the operator's job, but a worker may start first.
  await migrate(warehouse(database), log);
  for (const statement of ACTIVATION_TABLES) await warehouse(database).command(statement);

  const kc = options.kubeConfig ?? new KubeConfig();
  if (!options.kubeConfig) kc.loadFromDefault();
  const activations = new ActivationCache(kc, namespace, log);
  await activations.start();
  const secrets = new SecretReader(kc, namespace);

  const kafka = connectKafka(kafkaSettingsFromEnv('uspa-worker-activations', env), log);
  const admin = kafka.admin();
  await admin.connect();
  // The segment workflow publishes here; the consumer subscribes whether or not it ran yet.
  await ensureTopics(admin, [{ topic: topics.segmentChanges, partitions: 3, retentionHours: 24 * 7 }]).finally(() => admin.disconnect());
  const producer = new BatchingProducer(kafka);
  await producer.connect();

  const registry = createRegistry('worker-activations');
  const outcomes = new Counter({ name: 'uspa_activation_outcomes_total', help: 'Deliveries recorded, by Activation and outcome (sent, failed, suppressed, holdout).', labelNames: ['activation', 'outcome'] as const, registers: [registry] });
  const records = new Counter({ name: 'uspa_activation_trigger_records_total', help: 'Records read by the trigger consumer, by kind (event, segment-change).', labelNames: ['kind'] as const, registers: [registry] });
  const actions = new Counter({ name: 'uspa_activation_trigger_actions_total', help: 'Campaigns started or joined (start) and cancelling signals sent (unless).', labelNames: ['action'] as const, registers: [registry] });

  const mailer = new Mailer();
  const activities = createActivities({
    namespace,
    database,
    warehouse,
    activations,
    secrets,
    producer,
    log,
    mailer,
    recommendations: options.recommendations,
    conversionWindowMs: options.conversionWindowMs,
    onOutcome: (activation: string, outcome: Outcome) => outcomes.inc({ activation, outcome }),
  });

  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: temporalNamespace });
  const worker = await Worker.create({
    connection: nativeConnection,
    namespace: temporalNamespace,
    taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities,
    maxConcurrentActivityTaskExecutions: 64,
  });
  const running = worker.run();
  running.catch((err: unknown) => log.error({ err: (err as Error).message }, 'temporal worker stopped'));

  const cancelCampaigns = async (activation: string): Promise<number> => {
    const prefix = campaignWorkflowId(namespace, activation, '');
    let cancelled = 0;
    const query = `WorkflowType = '${CAMPAIGN_WORKFLOW}' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}' AND WorkflowId STARTS_WITH '${prefix}'`;
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

  if (options.conversionsIntervalMs !== false) {
    try {
      await client.workflow.start('conversions', {
        workflowId: `conversions-${namespace}`,
        taskQueue,
        args: [{ namespace, database, intervalMs: options.conversionsIntervalMs ?? 60_000 }],
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  let consumer: TriggerConsumer | undefined;
  if (options.consumer !== false) {
    consumer = new TriggerConsumer({ kafka, topics, namespace, activations, temporal: client, taskQueue, log, staleAfterMs: options.staleAfterMs, topicRefreshMs: options.topicRefreshMs, metrics: { records, actions } });
    await consumer.start();
  }

  const server = probeApp(registry, {
    ready: () => {
      if (worker.getState() !== 'RUNNING') return `temporal worker is ${worker.getState()}`;
      if (!producer.isConnected) return 'not connected to Kafka';
      return undefined;
    },
  }).listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  log.info({ taskQueue, database, topics: topics.prefix }, 'activations worker running');

  return {
    port: typeof addr === 'object' && addr ? addr.port : (options.port ?? 0),
    taskQueue,
    database,
    worker,
    client,
    consumer,
    activations,
    activities,
    cancelCampaigns,
    async close() {
      server.close();
      await consumer?.stop().catch(() => undefined);
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await activations.stop();
      await producer.disconnect().catch(() => undefined);
      mailer.close();
      await connection.close();
      await nativeConnection.close();
      for (const w of warehouses.values()) await w.close();
    },
  };
}

/** `uspa worker activations`: the container entrypoint (env above), through the shared Temporal worker main. */
export async function serveActivationsWorker(): Promise<void> {
  const log = createLogger('worker-activations');
  await serveTemporalWorker(log, (o) => startActivationsWorker({ ...o, log }));
}

if (import.meta.url === `file://${process.argv[1]}`) await serveActivationsWorker();
