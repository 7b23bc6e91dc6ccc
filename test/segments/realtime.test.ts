// Realtime Segments: the pipeline re-evaluates them for the profiles an event changed and publishes
// entries and exits within seconds; on the same data both modes select the same members.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import kafkajs, { Kafka, logLevel } from 'kafkajs';
import { Warehouse, clickhouseSettingsFromEnv } from '../../lib/clickhouse.ts';
import { createLogger } from '../../lib/log.ts';
import { migrate } from '../../lib/schema.ts';
import { compileSegment } from '../../lib/segments/compile.ts';
import { liveDifferences, realtimeChanges, recordLive } from '../../lib/segments/realtime.ts';
import { parseRule } from '../../lib/segments/rules.ts';
import { profileByIdentity } from '../../workers/pipeline/profiles.ts';
import { startProduct, type Product } from '../support/product.ts';
import { eventually, required, unique } from '../support/env.ts';

const RULES = {
  trait: { trait: 'plan', op: 'eq', value: 'pro' },
  window: { event: 'Order Completed', atLeast: 2, within: '30d' },
  nested: { all: [{ trait: 'country', op: 'in', value: ['US', 'DE'] }, { any: [{ event: 'Product Added', atLeast: 3, within: '14d' }, { profile: 'lifetime_revenue', op: 'gt', value: 1200 }] }, { not: { trait: 'plan', op: 'eq', value: 'free' } }] },
};

describe('realtime and batch modes agree on the same data', { timeout: 180_000 }, () => {
  const namespace = unique('rt-seg');
  let w: Warehouse;
  before(async () => {
    required('CLICKHOUSE_URL');
    w = new Warehouse({ ...clickhouseSettingsFromEnv(), database: `t_${namespace.replace(/-/g, '_')}` });
    await migrate(w, createLogger('test', 'warn'));
    const P = 3000;
    await w.command(`INSERT INTO {db}.identities (identity, profile_id, first_seen, version) SELECT concat('userId:u', toString(number)), concat('p', toString(number)), now64(3), 1 FROM numbers({n:UInt64})`, { n: P });
    await w.command(`INSERT INTO {db}.profiles (profile_id, identities, traits, first_seen, last_seen, lifetime_revenue)
      SELECT concat('p', toString(number)), [concat('userId:u', toString(number))],
        concat('{"plan":"', ['free','pro','team'][number % 3 + 1], '","country":"', ['US','DE','FR'][number % 3 + 1 - (number % 7 = 0)], '"}'), now64(3), now64(3), (number % 1000) * 1.5
      FROM numbers({n:UInt64})`, { n: P });
    await w.command(`INSERT INTO {db}.events (message_id, source, type, event, timestamp, received_at, identity, profile_id, properties)
      SELECT concat('m', toString(number)), 'web', 'track', ['Page Viewed','Product Added','Order Completed'][cityHash64(number) % 3 + 1],
        now64(3) - toIntervalSecond(cityHash64(number, 1) % (40 * 86400)), now64(3), concat('userId:u', toString(number % {p:UInt64})), concat('p', toString(number % {p:UInt64})), '{}'
      FROM numbers(30000)`, { p: P });
  });
  after(async () => {
    await w?.command('DROP DATABASE IF EXISTS {db}');
    await w?.close();
  });

  for (const [name, rule] of Object.entries(RULES)) {
    test(`${name} rule: the members realtime evaluation records equal the batch version's`, async () => {
      const compiled = compileSegment(parseRule(rule), { namespace });
      const key = `${namespace}/${name}`;
      const ids = (await w.query<{ profile_id: string }>('SELECT profile_id FROM {db}.profiles FINAL')).map((r) => r.profile_id);
      const changes = await realtimeChanges(w, { segment: key, sql: compiled.sql, params: compiled.params, revision: 'r1' }, ids);
      await recordLive(w, changes, 'realtime');
      const realtime = new Set(changes.filter((c) => c.change === 'entered').map((c) => c.profileId));
      await w.command(`INSERT INTO {db}.segment_members (segment, version, profile_id) SELECT {k:String}, 1, profile_id FROM (${compiled.sql}) GROUP BY profile_id`, { ...compiled.params, k: key });
      const batch = new Set((await w.query<{ profile_id: string }>('SELECT profile_id FROM {db}.segment_members FINAL WHERE segment = {k:String} AND version = 1', { k: key })).map((r) => r.profile_id));
      assert.ok(batch.size > 0, 'the rule selects someone');
      assert.deepEqual([...realtime].sort(), [...batch].sort());
      // The batch run of a realtime Segment then finds nothing left to publish.
      let left = 0;
      for (let chunk = 0; chunk < 4; chunk++) left += (await liveDifferences(w, key, 1, chunk, 4)).length;
      assert.equal(left, 0);
    });
  }
});

describe('realtime Segments in the pipeline', { timeout: 180_000 }, () => {
  let product: Product;
  let consumer: ReturnType<Kafka['consumer']>;
  const changes: Array<{ segment: string; profileId: string; change: string; origin?: string }> = [];
  before(async () => {
    product = await startProduct({ sources: [{ name: 'web', type: 'web' }], pipeline: { batch: { maxWaitMs: 100, profileIntervalMs: 200 } } });
    const compiled = compileSegment(parseRule({ trait: 'plan', op: 'eq', value: 'pro' }), { namespace: 'shop' });
    await product.warehouse.insert('segment_definitions', [
      { segment: 'shop/pro', sql: compiled.sql, params: JSON.stringify(compiled.params), mode: 'realtime', revision: 'r1', deleted: 0 },
      // Neither of these may keep the good one from being evaluated.
      { segment: 'shop/unreadable', sql: compiled.sql, params: '{not json', mode: 'realtime', revision: 'r1', deleted: 0 },
      { segment: 'shop/refused', sql: "SELECT toString(throwIf(1, 'a broken Segment')) AS profile_id", params: '{}', mode: 'realtime', revision: 'r1', deleted: 0 },
    ]);
    // Definitions are read at start and then every few seconds: restart the worker so it evaluates
    // these from the first event, as a Segment that is Ready (its definition loaded) would be.
    await product.stopPipeline();
    await product.startPipeline();
    consumer = new Kafka({ clientId: 'uspa-tests', brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING }).consumer({ groupId: unique('g') });
    await consumer.connect();
    await consumer.subscribe({ topics: [`${product.env.USPA_TOPIC_PREFIX}.segment-changes`], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void changes.push(JSON.parse(String(message.value))) });
  });
  after(async () => {
    await consumer?.disconnect();
    await product?.close();
  });

  test('an identify that makes a profile match publishes "entered" within seconds; a later change publishes "exited"', async () => {
    const user = `u-${randomUUID()}`;
    const t0 = Date.now();
    assert.equal((await product.post('/v1/identify', { userId: user, traits: { plan: 'pro' } })).status, 200);
    await eventually('an entered record', async () => changes.some((c) => c.change === 'entered' && c.segment === 'pro'), 30_000);
    const entered = changes.find((c) => c.change === 'entered')!;
    assert.equal(entered.origin, 'realtime');
    console.log(`realtime: entered published ${Date.now() - t0} ms after the identify was accepted`);
    assert.equal((await product.post('/v1/identify', { userId: user, traits: { plan: 'free' } })).status, 200);
    await eventually('an exited record for the same profile', async () => changes.some((c) => c.change === 'exited' && c.profileId === entered.profileId), 30_000);
    const live = await product.warehouse.query<{ m: number }>('SELECT argMax(member, changed_at) AS m FROM {db}.segment_live WHERE segment = {s:String} AND profile_id = {p:String}', { s: 'shop/pro', p: entered.profileId });
    assert.equal(Number(live[0]!.m), 0);
  });

  test('an entry whose publish fails is not recorded as live, and is published once Kafka takes it again', { timeout: 90_000 }, async () => {
    const topic = `${product.env.USPA_TOPIC_PREFIX}.segment-changes`;
    const admin = new Kafka({ clientId: 'uspa-tests', brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const setMaxBytes = (value: string) => admin.alterConfigs({ validateOnly: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'max.message.bytes', value }] }] });
    try {
      // The broker now refuses every record of the topic: each publish of the pipeline fails.
      await setMaxBytes('16');
      const user = `u-${randomUUID()}`;
      assert.equal((await product.post('/v1/identify', { userId: user, traits: { plan: 'pro' } })).status, 200);
      // The incremental path: the profile the identify touched is rebuilt, then evaluated (and its publish fails, round after round).
      const profile = await eventually('the rebuilt profile', async () => (await profileByIdentity(product.warehouse, `userId:${user}`))?.traits.plan === 'pro' && (await profileByIdentity(product.warehouse, `userId:${user}`))!, 30_000);
      await new Promise((r) => setTimeout(r, 3000));
      const live = await product.warehouse.query<{ n: string }>('SELECT count() AS n FROM {db}.segment_live WHERE segment = {s:String} AND profile_id = {p:String}', { s: 'shop/pro', p: profile.profile_id });
      assert.equal(Number(live[0]!.n), 0, 'nothing recorded as live while it could not be published');
      assert.equal(changes.some((c) => c.profileId === profile.profile_id), false);
      await setMaxBytes('1048588');
      await eventually('the entry, published after the failures', async () => changes.some((c) => c.profileId === profile.profile_id && c.change === 'entered'), 30_000);
      await eventually('then recorded as live', async () => {
        const rows = await product.warehouse.query<{ m: number }>('SELECT argMax(member, changed_at) AS m FROM {db}.segment_live WHERE segment = {s:String} AND profile_id = {p:String}', { s: 'shop/pro', p: profile.profile_id });
        return Number(rows[0]?.m) === 1;
      }, 10_000);
    } finally {
      await setMaxBytes('1048588').catch(() => undefined);
      await admin.disconnect();
    }
  });
});
