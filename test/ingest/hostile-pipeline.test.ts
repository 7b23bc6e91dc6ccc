// Hostile records produced straight to the pipeline's topics, as a buggy producer or anyone with
// broker access would write them (the collector's checks never see them): every other event keeps
// flowing, stored once, and each bad record is in the dead-letter table with its cause.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import type { CanonicalEvent, DeadLetter } from '../../api/event.ts';
import type { UnmergeCommand } from '../../api/control.ts';
import { topicNames } from '../../lib/kafka.ts';
import { startPipelines } from '../../workers/pipeline/main.ts';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../../api/v1alpha1/index.ts';
import type { WorkerReport } from '../../api/v1alpha1/meta.ts';
import { installCrds, kubeConfig } from '../support/operator.ts';
import { profileByIdentity } from '../../workers/pipeline/profiles.ts';
import { eventually, required } from '../support/env.ts';
import { startProduct, type Product } from '../support/product.ts';

let product: Product;
let producer: Producer;
let source: string;
let topics: ReturnType<typeof topicNames>;

const event = (overrides: Partial<CanonicalEvent>): CanonicalEvent => {
  const now = new Date().toISOString();
  return { type: 'track', event: 'Hostile Test', messageId: `m-${randomUUID()}`, anonymousId: `a-${randomUUID()}`, timestamp: now, receivedAt: now, properties: {}, traits: {}, context: {}, integrations: {}, source, ...overrides };
};

/** All on one partition, in order: a record that blocked it would block everything after it. */
async function produce(topic: string, values: Array<string | Buffer | null>): Promise<void> {
  await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value, partition: 0 })) });
}

const json = (values: CanonicalEvent[]) => values.map((v) => JSON.stringify(v));

async function assertStoredOnce(ids: string[]): Promise<void> {
  await product.waitForEvents(ids, 60_000);
  const [r] = await product.rows<{ rows: string; unique: string }>('SELECT count() AS rows, uniqExact(message_id) AS unique FROM {db}.events WHERE message_id IN {ids:Array(String)}', { ids });
  assert.deepEqual([Number(r!.unique), Number(r!.rows)], [ids.length, ids.length], 'every event present, and present once');
}

async function deadLetterAt(offset: string): Promise<{ reason: string; errors: string[]; stage: string }> {
  return eventually(`the dead letter of offset ${offset}`, async () => {
    const rows = await product.rows<{ reason: string; errors: string[]; stage: string }>('SELECT reason, errors, stage FROM {db}.dead_letters WHERE topic = {t:String} AND offset = {o:String}', { t: topics.source(source), o: offset });
    return rows[0];
  }, 60_000);
}

async function nextOffset(topic: string): Promise<bigint> {
  const admin = new Kafka({ clientId: 'uspa-tests', brokers: required('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return BigInt(offsets.find((o) => o.partition === 0)!.high);
  } finally {
    await admin.disconnect();
  }
}

describe('hostile records on the pipeline topics', { concurrency: false, timeout: 240_000 }, () => {
  before(async () => {
    product = await startProduct({ sources: [{ name: 'web', type: 'web' }] });
    source = product.sources.web!.name;
    topics = topicNames(product.env);
    producer = new Kafka({ clientId: 'uspa-tests', brokers: required('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
  });
  after(async () => {
    await producer?.disconnect();
    await product?.close();
  });

  test('one batch spanning 130 months is stored whole, and the partition moves on', { timeout: 90_000 }, async () => {
    const spread = Array.from({ length: 130 }, (_, i) => event({ timestamp: new Date(Date.UTC(2010, i, 15)).toISOString() }));
    await produce(topics.source(source), json(spread));
    const later = event({});
    await produce(topics.source(source), json([later]));
    await assertStoredOnce([...spread, later].map((e) => e.messageId));
    const [months] = await product.rows<{ n: string }>('SELECT uniqExact(toYYYYMM(timestamp)) AS n FROM {db}.events WHERE message_id IN {ids:Array(String)}', { ids: spread.map((e) => e.messageId) });
    assert.equal(Number(months!.n), 130);
  });

  test('records no one can read or store are dead-lettered with their cause; the events around them are stored', { timeout: 120_000 }, async () => {
    // A refusal of ClickHouse's own (a table constraint), to prove any refusal is isolated, not only the ones we know.
    await product.warehouse.command("ALTER TABLE {db}.events ADD CONSTRAINT no_poison CHECK event != 'Poison'");
    const first = await nextOffset(topics.source(source));
    const good = [event({}), event({ type: 'identify', userId: `u-${randomUUID()}`, traits: { plan: 'pro' } }), event({ timestamp: '2026-11-01t10:00:00z' }), event({})];
    const deep = JSON.stringify(event({})).replace('"properties":{}', `"properties":{"deep":${'{"d":'.repeat(10_000)}1${'}'.repeat(10_000)}}`);
    const bad: Array<{ value: string | null; reason: string; cause: RegExp }> = [
      { value: '{not json', reason: 'invalid_json', cause: /not JSON/ },
      { value: null, reason: 'invalid_json', cause: /not JSON/ },
      { value: JSON.stringify({ type: 'track', messageId: 'x' }), reason: 'invalid_event', cause: /timestamp: is required/ },
      { value: JSON.stringify(event({})).replace(/"anonymousId":"a-/, '"anonymousId":"\\ud800a-'), reason: 'invalid_event', cause: /anonymousId: is not valid Unicode/ },
      { value: deep, reason: 'invalid_event', cause: /properties\.deep(\.d)+: nested deeper than 64 levels/ },
      { value: JSON.stringify(event({ timestamp: '2016-12-31T23:59:60Z' })), reason: 'invalid_event', cause: /timestamp: "2016-12-31T23:59:60Z" is not a time/ },
      { value: JSON.stringify(event({ event: 'Poison' })), reason: 'clickhouse_rejected', cause: /refused by ClickHouse: .*no_poison/ },
    ];
    // Good and bad interleaved in one batch.
    const values: Array<string | null> = [];
    bad.forEach((b, i) => values.push(JSON.stringify(good[i % good.length]!), b.value));
    const unique = [...new Set(bad.map((_, i) => good[i % good.length]!.messageId))];
    await produce(topics.source(source), values);
    const after = event({});
    await produce(topics.source(source), json([after]));
    await assertStoredOnce([...unique, after.messageId]);
    for (const [i, b] of bad.entries()) {
      const letter = await deadLetterAt(String(first + BigInt(2 * i + 1)));
      assert.equal(letter.reason, b.reason, `record ${i}: ${JSON.stringify(letter)}`);
      assert.match(letter.errors.join('\n'), b.cause, `record ${i}`);
      assert.match(letter.stage, /^pipeline:/);
    }
    // The lower-case time was read, not refused: stored as the UTC time it names.
    const [stored] = await product.rows<{ t: string }>("SELECT toString(timestamp) AS t FROM {db}.events WHERE message_id = {m:String}", { m: good[2]!.messageId });
    assert.equal(stored!.t, '2026-11-01 10:00:00.000');
    await product.warehouse.command('ALTER TABLE {db}.events DROP CONSTRAINT no_poison');
  });

  test('an identify dated 2099 does not pin a trait: a later identify of today wins; 1900 is stored', { timeout: 90_000 }, async () => {
    const userId = `u-${randomUUID()}`;
    const future = event({ type: 'identify', userId, anonymousId: undefined, traits: { plan: 'from-2099' }, timestamp: '2099-01-01T00:00:00.000Z' });
    const old = event({ userId, anonymousId: undefined, timestamp: '1900-01-01T00:00:00.000Z' });
    await produce(topics.source(source), json([future, old]));
    await product.waitForEvents([future.messageId, old.messageId]);
    await new Promise((r) => setTimeout(r, 50));
    const today = event({ type: 'identify', userId, anonymousId: undefined, traits: { plan: 'from-today' } });
    await produce(topics.source(source), json([today]));
    await assertStoredOnce([future.messageId, old.messageId, today.messageId]);
    const profile = await eventually('the profile with all three events', async () => {
      const p = await profileByIdentity(product.warehouse, `userId:${userId}`);
      return p && p.event_count === 3 ? p : undefined;
    });
    assert.equal(profile.traits.plan, 'from-today');
    assert.equal(profile.first_seen, '1900-01-01 00:00:00.000');
  });

  test('the same messageId from two Sources: both stored', { timeout: 60_000 }, async () => {
    const messageId = `m-${randomUUID()}`;
    const mine = event({ messageId });
    const other = event({ messageId, source: 'another-source' });
    await produce(topics.source(source), json([mine, other]));
    await eventually('both events', async () => {
      const [r] = await product.rows<{ rows: string; sources: string }>('SELECT count() AS rows, uniqExact(source) AS sources FROM {db}.events WHERE message_id = {m:String}', { m: messageId });
      return Number(r!.rows) === 2 && Number(r!.sources) === 2;
    });
  });

  test('the control loop skips records it cannot read and answers the next command', { timeout: 60_000 }, async () => {
    const pipeline = (await import('yaml')).parse((await import('node:fs')).readFileSync(product.configPath, 'utf8')).pipelines[0].name as string;
    const command: UnmergeCommand = { kind: 'unmerge', requestId: randomUUID(), edgeId: 'no-such-edge', reason: 'test', requestedAt: new Date().toISOString() };
    // A well-formed command whose ids ClickHouse cannot store (a lone surrogate): its answer cannot be written either.
    const unstorable = JSON.stringify({ ...command, requestId: 'r-\ud800', edgeId: 'e-\ud800' });
    await produce(topics.control(pipeline), ['{not json', null, JSON.stringify({ kind: 'unmerge' }), unstorable, JSON.stringify(command)]);
    await eventually('the refusal of the command', async () => {
      const rows = await product.rows<{ reason: string }>("SELECT reason FROM {db}.identity_edges WHERE id = {id:String} AND action = 'unlink_failed'", { id: `unmerge-failed-${command.requestId}` });
      return rows[0]?.reason.includes('unknown edge');
    });
  });

  test('the dead-letter mirror skips records that are no dead letters and mirrors the next one', { timeout: 60_000 }, async () => {
    const letter: DeadLetter = { stage: 'collector', source, reason: 'mirror_test', errors: ['e'], payload: { a: 1 }, messageId: `m-${randomUUID()}`, failedAt: new Date().toISOString() };
    // ClickHouse refuses a lone surrogate in a column of its own.
    const surrogate = JSON.stringify({ ...letter, messageId: 'surrogate', reason: 'x\ud800' });
    await produce(topics.deadLetters(source), ['{not json', null, '"a string"', JSON.stringify({ ...letter, errors: 'not an array' }), surrogate, JSON.stringify(letter)]);
    await eventually('the mirrored letter', async () => {
      const rows = await product.rows<{ n: string }>('SELECT count() AS n FROM {db}.dead_letters WHERE message_id = {m:String}', { m: letter.messageId });
      return Number(rows[0]!.n) === 1;
    });
  });
});

describe('a Pipeline that cannot write says so, and dead-letters nothing for it', { timeout: 180_000 }, () => {
  let own: Product;
  let pipelines: Awaited<ReturnType<typeof startPipelines>> | undefined;
  let kafkaProducer: Producer;
  let pipelineName: string;
  const namespace = `hostile-${Date.now().toString(36)}`;
  const kc = kubeConfig();
  const workersOf = async () => ((await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'pipelines', name: pipelineName })) as { status?: { workers?: WorkerReport[] } }).status?.workers?.find((w) => w.component === 'pipeline');
  before(async () => {
    own = await startProduct({ sources: [{ name: 'web', type: 'web' }], withPipeline: false });
    pipelineName = (await import('yaml')).parse((await import('node:fs')).readFileSync(own.configPath, 'utf8')).pipelines[0].name as string;
    // The Pipeline resource the worker reports to, as the operator would have created it (generation 1).
    await installCrds();
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'pipelines', body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'Pipeline', metadata: { name: pipelineName }, spec: { sources: [own.sources.web!.name] } } });
    pipelines = await startPipelines({ configPath: own.configPath, port: 0, env: { ...own.env, USPA_NAMESPACE: namespace, USPA_PIPELINE_GENERATION: '1' } });
    kafkaProducer = new Kafka({ clientId: 'uspa-tests', brokers: required('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING }).producer();
    await kafkaProducer.connect();
  });
  after(async () => {
    await kafkaProducer?.disconnect();
    await pipelines?.close();
    await own?.close();
    await kc.makeApiClient(CoreV1Api).deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  test('writes failing for a reason that is not the rows: uspa_pipeline_stalled is 1 and the Pipeline reports Stalled with the cause; once they succeed, 0, Live, and every event stored once', { timeout: 150_000 }, async () => {
    const src = own.sources.web!.name;
    const metric = async () => {
      const text = await (await fetch(`http://127.0.0.1:${pipelines!.port}/metrics`)).text();
      return /^uspa_pipeline_stalled\{[^}]*\} (\d)/m.exec(text)?.[1];
    };
    assert.equal(await metric(), '0');
    await eventually('the worker reporting its Pipeline Live at generation 1', async () => {
      const w = await workersOf();
      return w?.state === 'Live' && w.generation === 1;
    }, 30_000);
    // Inserts into events fail for a reason that is not the rows (a materialized view's target table
    // is gone: UNKNOWN_TABLE), while reading events still works: the write must be retried, not bisected.
    await own.warehouse.command('CREATE TABLE {db}.events_copy (message_id String) ENGINE = MergeTree ORDER BY message_id');
    await own.warehouse.command('CREATE MATERIALIZED VIEW {db}.events_copy_mv TO {db}.events_copy AS SELECT message_id FROM {db}.events');
    await own.warehouse.command('DROP TABLE {db}.events_copy');
    const events = Array.from({ length: 3 }, () => ({ ...event({}), source: src }));
    await kafkaProducer.send({ topic: topicNames(own.env).source(src), acks: -1, messages: events.map((e) => ({ value: JSON.stringify(e) })) });
    await eventually('the stalled gauge', async () => (await metric()) === '1', 90_000);
    const worker = pipelines!.workers[0]!;
    assert.equal(worker.stallState.stalled, true);
    assert.match(worker.stallState.cause ?? '', /events_copy/);
    const stalled = await eventually('the Stalled report on the Pipeline', async () => {
      const w = await workersOf();
      return w?.state === 'Stalled' ? w : undefined;
    }, 30_000);
    assert.equal(stalled.reason, 'WritesFailing');
    assert.match(stalled.message ?? '', /consecutive writes failed, offsets not moving: .*events_copy/);
    await own.warehouse.command('CREATE TABLE {db}.events_copy (message_id String) ENGINE = MergeTree ORDER BY message_id');
    await own.waitForEvents(events.map((e) => e.messageId), 90_000);
    const [r] = await own.rows<{ rows: string; unique: string }>('SELECT count() AS rows, uniqExact(message_id) AS unique FROM {db}.events');
    assert.deepEqual([Number(r!.unique), Number(r!.rows)], [3, 3]);
    await eventually('the gauge back to 0', async () => (await metric()) === '0', 30_000);
    await eventually('the Pipeline reported Live again', async () => (await workersOf())?.state === 'Live', 30_000);
    const [dead] = await own.rows<{ n: string }>('SELECT count() AS n FROM {db}.dead_letters');
    assert.equal(Number(dead!.n), 0, 'a failure that is not the records dead-letters none of them');
  });
});
