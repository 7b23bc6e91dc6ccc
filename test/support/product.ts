// Runs the collector and the pipeline in-process against the stack's real Kafka and ClickHouse,
// with Sources and a database of their own so test files never see each other's data.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { Kafka, logLevel } from 'kafkajs';
import { Warehouse, clickhouseSettingsFromEnv } from '../../lib/clickhouse.ts';
import type { WorkloadPipeline, WorkloadSource } from '../../api/workload.ts';
import { startCollector } from '../../collector/main.ts';
import { startPipelines } from '../../workers/pipeline/main.ts';
import { eventually, required, unique } from './env.ts';

export interface Product {
  url: string;
  database: string;
  /** The Pipeline's (uniquely suffixed) name. */
  pipeline: string;
  configPath: string;
  env: NodeJS.ProcessEnv;
  /** Source name (as given) → its real, uniquely suffixed name and write key. */
  sources: Record<string, { name: string; writeKey: string }>;
  warehouse: Warehouse;
  post(path: string, body: unknown, source?: string, headers?: Record<string, string>): Promise<{ status: number; body: { success: boolean; error?: string; errors?: Array<{ path: string; message: string }> }; headers: Headers }>;
  rows<T>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
  waitForEvents(messageIds: string[], timeoutMs?: number): Promise<void>;
  startPipeline(): Promise<void>;
  stopPipeline(): Promise<void>;
  /** Stops collector and pipeline and drops the test database. */
  close(): Promise<void>;
}

export async function startProduct(
  spec: { sources: Array<Omit<WorkloadSource, 'writeKey'>>; pipeline?: Omit<WorkloadPipeline, 'name' | 'sources'>; withPipeline?: boolean },
): Promise<Product> {
  required('KAFKA_BROKERS');
  required('CLICKHOUSE_URL');
  const suffix = unique('t').slice(2).replace(/[^a-z0-9-]/g, '');
  const database = `test_${suffix.replace(/-/g, '_')}`;
  const sources: Product['sources'] = {};
  const sourceSpecs: WorkloadSource[] = spec.sources.map((s) => {
    const name = `${s.name}-${suffix}`.slice(0, 63);
    const writeKey = randomBytes(18).toString('base64url');
    sources[s.name] = { name, writeKey };
    return { ...s, name, writeKey };
  });
  const pipeline: WorkloadPipeline = { name: `p-${suffix}`.slice(0, 63), sources: sourceSpecs.map((s) => s.name), batch: { maxEvents: 2000, maxWaitMs: 100, profileIntervalMs: 200 }, ...spec.pipeline };
  const configPath = join(mkdtempSync(join(tmpdir(), 'uspa-product-')), 'uspa.yaml');
  writeFileSync(configPath, stringify({ sources: sourceSpecs, pipelines: [pipeline] }));
  const env: NodeJS.ProcessEnv = { ...process.env, USPA_DATABASE: database, USPA_TOPIC_PREFIX: `test-${suffix}`, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
  const warehouse = new Warehouse(clickhouseSettingsFromEnv(env));

  let pipelines: Awaited<ReturnType<typeof startPipelines>> | undefined;
  const startPipeline = async () => {
    pipelines = await startPipelines({ configPath, port: 0, env });
  };
  const stopPipeline = async () => {
    await pipelines?.close();
    pipelines = undefined;
  };
  if (spec.withPipeline !== false) await startPipeline();
  const collector = await startCollector({ configPath, port: 0, env });
  const url = `http://127.0.0.1:${collector.port}`;
  const close = async () => {
    await collector.close();
    await stopPipeline();
    await warehouse.command('DROP DATABASE IF EXISTS {db}').catch(() => undefined);
    await warehouse.close();
    // The run's topics all carry its prefix; leave the shared broker as we found it.
    const admin = new Kafka({ clientId: 'uspa-test-cleanup', brokers: required('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const mine = (await admin.listTopics()).filter((topic) => topic.startsWith(`${env.USPA_TOPIC_PREFIX}.`));
    if (mine.length) await admin.deleteTopics({ topics: mine }).catch(() => undefined);
    await admin.disconnect();
  };

  const firstSource = spec.sources[0]!.name;
  return {
    url,
    database,
    pipeline: pipeline.name,
    configPath,
    env,
    sources,
    warehouse,
    async post(path, body, source = firstSource, headers = {}) {
      const key = sources[source]?.writeKey ?? source;
      const res = await fetch(url + path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}`, ...headers },
        body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Awaited<ReturnType<Product['post']>>['body'], headers: res.headers };
    },
    rows: (sql, params) => warehouse.query(sql, params),
    async waitForEvents(messageIds, timeoutMs = 60_000) {
      await eventually(`${messageIds.length} events in ClickHouse`, async () => {
        const rows = await warehouse.query<{ n: string }>('SELECT uniqExact(message_id) AS n FROM {db}.events WHERE message_id IN {ids:Array(String)}', { ids: messageIds });
        return Number(rows[0]?.n ?? 0) === messageIds.length;
      }, timeoutMs);
    },
    startPipeline,
    stopPipeline,
    close,
  };
}
