// computeSegment on the Temporal dev server against the real ClickHouse and Kafka: versions,
// entered/exited records, size history, idempotent activities, deterministic replay.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { Kafka, logLevel } from 'kafkajs';
import { Warehouse, clickhouseSettingsFromEnv } from '../../lib/clickhouse.ts';
import { createLogger } from '../../lib/log.ts';
import { migrate } from '../../lib/schema.ts';
import { compileSegment } from '../../lib/segments/compile.ts';
import { parseRule } from '../../lib/segments/rules.ts';
import { taskQueue } from '../../api/names.ts';
import { WORKFLOWS_PATH, startSegmentsWorker } from '../../workers/segments/main.ts';
import { computeSegment } from '../../workflows/segments.ts';
import { eventually, required, unique } from '../support/env.ts';

Runtime.install({ logger: new DefaultLogger('WARN') });

describe('computeSegment', { timeout: 240_000 }, () => {
  const namespace = unique('seg');
  const database = `t_${namespace.replace(/-/g, '_')}`;
  const prefix = `t-${namespace}`;
  const env = { ...process.env, USPA_DATABASE: database, USPA_TOPIC_PREFIX: prefix, LOG_LEVEL: 'warn' };
  let warehouse: Warehouse;
  let worker: Awaited<ReturnType<typeof startSegmentsWorker>>;
  let client: Client;
  let connection: Connection;
  const changes: Array<{ segment: string; version: number; profileId: string; change: string }> = [];
  let consumer: ReturnType<Kafka['consumer']>;

  const profiles = (rows: Array<[string, Record<string, unknown>]>) =>
    warehouse.insert('profiles', rows.map(([id, traits]) => ({ profile_id: id, identities: [`userId:${id}`], traits: JSON.stringify(traits), first_seen: '2026-01-01 00:00:00', last_seen: '2026-01-01 00:00:00', updated_at: new Date().toISOString().replace('T', ' ').replace('Z', '') })));
  const compiled = compileSegment(parseRule({ trait: 'plan', op: 'eq', value: 'pro' }), { namespace });
  const run = (id: string) =>
    client.workflow.execute(computeSegment, { taskQueue: taskQueue('segments', namespace), workflowId: id, args: [{ namespace, segment: 'pro', key: `${namespace}/pro`, database, sql: compiled.sql, params: compiled.params }] });

  before(async () => {
    required('TEMPORAL_ADDRESS');
    warehouse = new Warehouse({ ...clickhouseSettingsFromEnv(env), database });
    await migrate(warehouse, createLogger('test', 'warn'));
    worker = await startSegmentsWorker({ namespace, env });
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    client = new Client({ connection });
    consumer = new Kafka({ clientId: 'uspa-tests', brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING }).consumer({ groupId: unique('g') });
    await consumer.connect();
    await consumer.subscribe({ topics: [`${prefix}.segment-changes`], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void changes.push(JSON.parse(String(message.value))) });
  });
  after(async () => {
    await consumer?.disconnect();
    await worker?.close();
    await connection?.close();
    await warehouse?.command('DROP DATABASE IF EXISTS {db}');
    await warehouse?.close();
    const admin = new Kafka({ clientId: 'uspa-tests', brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [`${prefix}.segment-changes`] }).catch(() => undefined);
    await admin.disconnect();
  });

  test('version 1: members computed, entered published, committed with its size', async () => {
    await profiles([['p1', { plan: 'pro' }], ['p2', { plan: 'pro' }], ['p3', { plan: 'free' }]]);
    const r = await run(unique('compute'));
    assert.deepEqual(r, { version: 1, size: 2, entered: 2, exited: 0 });
    await eventually('two entered records', async () => changes.length === 2);
    assert.deepEqual(changes.map((c) => [c.profileId, c.change, c.version]).sort(), [['p1', 'entered', 1], ['p2', 'entered', 1]]);
  });

  test('version 2: the diff with version 1 is published; sizes are kept as history', async () => {
    await profiles([['p2', { plan: 'free' }], ['p4', { plan: 'pro' }]]);
    const r = await run(unique('compute'));
    assert.deepEqual(r, { version: 2, size: 2, entered: 1, exited: 1 });
    await eventually('four records', async () => changes.length === 4);
    assert.deepEqual(changes.slice(2).map((c) => [c.profileId, c.change]).sort(), [['p2', 'exited'], ['p4', 'entered']]);
    const history = await warehouse.query<{ version: string; size: string }>('SELECT version, size FROM {db}.segment_versions FINAL WHERE segment = {k:String} ORDER BY version', { k: `${namespace}/pro` });
    assert.deepEqual(history.map((h) => [Number(h.version), Number(h.size)]), [[1, 2], [2, 2]]);
    const members = await warehouse.query<{ profile_id: string }>('SELECT profile_id FROM {db}.segment_members FINAL WHERE segment = {k:String} AND version = 2 ORDER BY profile_id', { k: `${namespace}/pro` });
    assert.deepEqual(members.map((m) => m.profile_id), ['p1', 'p4']);
  });

  test('materializing the same version again (a retried activity) changes nothing', async () => {
    const input = { database, key: `${namespace}/pro`, version: 2, sql: compiled.sql, params: compiled.params };
    const again = await new (await import('@temporalio/testing')).MockActivityEnvironment().run(worker.activities.materialize, input);
    assert.equal(again, 2);
    const [n] = await warehouse.query<{ n: string }>('SELECT count() AS n FROM {db}.segment_members WHERE segment = {k:String} AND version = 2', { k: `${namespace}/pro` });
    assert.equal(Number(n!.n), 2, 'no duplicate rows, even before merges');
  });

  test('the recorded history replays deterministically', async () => {
    const id = unique('compute');
    await run(id);
    const history = await client.workflow.getHandle(id).fetchHistory();
    await Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, id);
  });
});
