// The operator (and, where a test needs running workloads, the local runtime) against the stack's
// real API server, Kafka, ClickHouse and Temporal, scoped to one namespace of the test's own.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { Kafka, logLevel } from 'kafkajs';
import { Warehouse } from '../../lib/clickhouse.ts';
import { createLogger } from '../../lib/log.ts';
import { GROUP, KINDS, VERSION } from '../../api/v1alpha1/index.ts';
import { startOperator, type RunningOperator } from '../../operator/main.ts';
import type { OperatorSettings } from '../../operator/settings.ts';
import { repoRoot, stackId, stateRoot } from '../../stack/paths.ts';
import { LocalRuntime, NODE_NAME } from '../../stack/runtime/kubelet.ts';
import { eventually, required, unique } from './env.ts';

export function kubeConfig(): KubeConfig {
  required('KUBECONFIG');
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

/** Asynchronous on purpose: the operator under test runs in this process and must keep working while kubectl waits. */
export async function kubectl(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.env.USPA_KUBECTL ?? 'kubectl', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubectl ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
    child.stdin!.end(input ?? '');
  });
}

/** Installs (or updates) the generated CRDs and waits until they are served. */
export async function installCrds(): Promise<void> {
  const dir = join(repoRoot, 'crds');
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) await kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=uspa-tests', '-f', join(dir, f)]);
  await kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...KINDS.map((k) => `crd/${k.plural}.${GROUP}`)]);
}

/** Where an in-process component logs in a test: kept for assertions, echoed with USPA_TEST_LOGS=1. */
export function logSink(): { logs: string[]; sink: Writable } {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      if (process.env.USPA_TEST_LOGS) process.stderr.write(chunk);
      done();
    },
  });
  return { logs, sink };
}

export interface OperatorHarness {
  namespace: string;
  settings: OperatorSettings;
  kc: KubeConfig;
  custom: CustomObjectsApi;
  core: CoreV1Api;
  apps: AppsV1Api;
  kafka: ReturnType<Kafka['admin']>;
  temporal: Client;
  warehouse: Warehouse;
  logs: string[];
  operator?: RunningOperator;
  runtime?: LocalRuntime;
  startOperator(): Promise<void>;
  stopOperator(): Promise<void>;
  startRuntime(): Promise<LocalRuntime>;
  apply(manifest: string): Promise<string>;
  get<T = Record<string, unknown>>(plural: string, name: string): Promise<T & { status?: Record<string, unknown> & { conditions?: Array<{ type: string; status: string; reason: string; message: string; observedGeneration?: number }> } }>;
  ready(plural: string, name: string, reason?: string, timeoutMs?: number): Promise<{ type: string; status: string; reason: string; message: string }>;
  close(): Promise<void>;
}

export async function operatorHarness(prefix: string): Promise<OperatorHarness> {
  for (const v of ['KAFKA_BROKERS', 'CLICKHOUSE_URL', 'TEMPORAL_ADDRESS']) required(v);
  const namespace = unique(prefix);
  const tag = namespace.replace(/[^a-z0-9]/g, '').slice(-10);
  const settings: OperatorSettings = {
    topicPrefix: `t${tag}`,
    databasePrefix: `t${tag}`,
    image: 'ghcr.io/uspa-tech/uspa:test',
    kafkaBrokers: process.env.KAFKA_BROKERS!.split(','),
    clickhouse: { url: process.env.CLICKHOUSE_URL!, username: process.env.CLICKHOUSE_USER ?? 'default', password: process.env.CLICKHOUSE_PASSWORD ?? '' },
    // The embedded engine cannot enforce users (README); test/operator/tenancy.test.ts covers true.
    namespaceUsers: false,
    temporal: { address: process.env.TEMPORAL_ADDRESS!, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' },
    namespace,
    identity: `test-${tag}`,
    port: 0,
    host: '127.0.0.1',
    leaderElection: false,
    resyncMs: 60_000,
    watchNamespace: namespace,
    // The tests' receivers listen on loopback, which the local mode allows.
    webhookAddresses: 'loopback',
  };
  const kc = kubeConfig();
  await installCrds();
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const kafka = new Kafka({ clientId: 'uspa-tests', brokers: settings.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
  await kafka.connect();
  const temporal = new Client({ connection: await Connection.connect({ address: settings.temporal.address }), namespace: settings.temporal.namespace });
  const { logs, sink } = logSink();
  const custom = kc.makeApiClient(CustomObjectsApi);
  const h: OperatorHarness = {
    namespace,
    settings,
    kc,
    custom,
    core,
    apps: kc.makeApiClient(AppsV1Api),
    kafka,
    temporal,
    warehouse: new Warehouse({ ...settings.clickhouse, database: `${settings.databasePrefix}_${namespace.replace(/-/g, '_')}` }),
    logs,
    async startOperator() {
      h.operator = await startOperator({ settings, kubeConfig: kc, log: createLogger('operator', 'debug', sink) });
      await h.operator.leading;
    },
    async stopOperator() {
      await h.operator?.close();
      h.operator = undefined;
    },
    async startRuntime() {
      // Test files run concurrently and each runtime registers the one Node "uspa-local": create it
      // here, where losing the race (409) is fine, so that no runtime's own create can lose it.
      await core.createNode({ body: { metadata: { name: NODE_NAME, labels: { 'kubernetes.io/hostname': NODE_NAME, 'kubernetes.io/os': 'linux', 'uspa.tech/local-runtime': 'true' } } } }).catch((err: unknown) => {
        if ((err as { code?: number }).code !== 409) throw err;
      });
      const state = stateRoot();
      h.runtime = new LocalRuntime({ kc, log: createLogger('runtime', 'info', sink), stateDir: join(state, 'test-runtime'), repoRoot, marker: `USPA_STACK=${stackId(state)}:pods:${namespace}`, namespace });
      await h.runtime.start();
      return h.runtime;
    },
    apply(manifest: string) {
      return kubectl(['apply', '-n', namespace, '-f', '-'], manifest);
    },
    async get(plural, name) {
      return (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural, name })) as never;
    },
    async ready(plural, name, reason, timeoutMs = 60_000) {
      let last = 'no Ready condition';
      try {
        return await eventually(`${plural}/${name} Ready${reason ? ` with reason ${reason}` : ''}`, async () => {
          const obj = await h.get(plural, name);
          const c = obj.status?.conditions?.find((x) => x.type === 'Ready');
          if (!c) return undefined;
          last = `Ready ${c.status} ${c.reason} (observedGeneration ${c.observedGeneration ?? '?'}): ${c.message}`;
          if (reason) return c.reason === reason ? c : undefined;
          return c.status === 'True' ? c : undefined;
        }, timeoutMs);
      } catch (err) {
        // What the object said last and what the operator logged about it: a timeout then explains itself.
        const mine = logs.filter((l) => l.includes(`"${name}"`) || l.includes(`/${name}"`)).slice(-8).map((l) => l.slice(0, 400));
        throw new Error(`${(err as Error).message}; last seen: ${last}${mine.length ? `; the operator's last lines about it:\n${mine.join('')}` : ''}`);
      }
    },
    async close() {
      // Custom resources first, while the operator still runs their finalizers.
      for (const plural of ['personalizations', 'privacyrequests', 'apikeys', 'activations', 'segments', 'pipelines', 'sources']) {
        try {
          await kubectl(['delete', `${plural}.${GROUP}`, '--all', '-n', namespace, '--wait=true', '--timeout=60s']);
        } catch {
          /* reported by the tests that care */
        }
      }
      // Teardown goes on past a failing step (an engine slow under load), so the next steps still clean up;
      // what failed is printed, where the runner shows it if the file fails.
      const step = async (what: string, run: () => Promise<unknown>) => {
        try {
          await run();
        } catch (err) {
          console.error(`teardown of ${namespace}: ${what} failed: ${(err as Error).message}`);
        }
      };
      await step('stopping the local runtime', async () => h.runtime?.stop());
      await step('stopping the operator', () => h.stopOperator());
      await step('deleting the pods', () => kubectl(['delete', 'pods', '--all', '-n', namespace, '--force', '--grace-period=0']));
      await step('deleting the namespace', () => core.deleteNamespace({ name: namespace }));
      await step('dropping the database', () => h.warehouse.command('DROP DATABASE IF EXISTS {db}'));
      await step('closing ClickHouse', () => h.warehouse.close());
      await step('deleting the topics', async () => {
        const topics = (await kafka.listTopics()).filter((t) => t.startsWith(`${settings.topicPrefix}.`));
        if (topics.length) await kafka.deleteTopics({ topics });
      });
      await step('disconnecting Kafka', () => kafka.disconnect());
      await step('closing Temporal', () => temporal.connection.close());
    },
  };
  return h;
}
