// Suppression on the real engines: once an identity's hash is on the namespace's privacy topic,
// the collector answers its events 200 and does not store them (counted), the pipeline drops
// events that carry it only through their traits, and a replay of the topic skips it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { topicNames } from '../../lib/kafka.ts';
import { identityHash, liftSuppressions, suppressionRecord } from '../../lib/privacy/suppressions.ts';
import { eventually, required, unique } from '../support/env.ts';
import { startProduct, type Product } from '../support/product.ts';
import { eventsOf } from './support.ts';

let product: Product;
let producer: Producer;
const tag = unique('s').replace(/[^a-z0-9]/g, '');
const { send, stored, next } = eventsOf(() => product, tag);



async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${product.url}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(name)).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

async function suppress(identity: string): Promise<void> {
  const topics = topicNames(product.env);
  const { topic, key, value } = suppressionRecord(topics, identity, `req-${tag}`);
  await producer.send({ topic, acks: -1, messages: [{ key, value }] });
}

describe('suppression of erased identities', { concurrency: false, timeout: 480_000 }, () => {
  before(async () => {
    product = await startProduct({ sources: [{ name: 'web', type: 'web' }] });
    producer = new Kafka({ clientId: 'uspa-test-privacy', brokers: required('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
  });
  after(async () => {
    await producer?.disconnect();
    await product?.close();
  });

  test('the privacy topic is compacted and names nobody in clear', async () => {
    await suppress(`userId:u-gone-${tag}`);
    const admin = new Kafka({ clientId: 'uspa-test-privacy', brokers: required('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const topic = topicNames(product.env).privacy;
      const config = await admin.describeConfigs({ resources: [{ type: 2, name: topic, configNames: ['cleanup.policy'] }], includeSynonyms: false });
      assert.equal(config.resources[0]!.configEntries[0]!.configValue, 'compact');
    } finally {
      await admin.disconnect();
    }
    assert.equal(suppressionRecord(topicNames(product.env), 'email:ada@example.com', 'r').key, identityHash('email:ada@example.com'));
    assert.ok(!suppressionRecord(topicNames(product.env), 'email:ada@example.com', 'r').value.includes('ada'));
  });

  test('the collector answers 200 and stores nothing of a suppressed identity; others flow', async () => {
    const gone = `u-gone-${tag}`;
    await eventually('the collector holds the suppression', async () => (await metric('uspa_collector_suppressed_identities')) >= 1, 30_000);
    const before = await metric('uspa_collector_events_suppressed_total');
    const dropped = [await send('/v1/track', { userId: gone, event: 'Late Event' }), await send('/v1/page', { anonymousId: `a-${tag}`, userId: gone, name: 'Home' })];
    const batch = await product.post('/v1/batch', { batch: [{ type: 'track', messageId: `m-${tag}-b1`, userId: gone, event: 'In Batch' }, { type: 'track', messageId: `m-${tag}-b2`, userId: `u-kept-${tag}`, event: 'In Batch' }] });
    assert.equal(batch.status, 200);
    const kept = await send('/v1/track', { userId: `u-kept-${tag}`, event: 'Kept' });
    await product.waitForEvents([kept, `m-${tag}-b2`]);
    assert.deepEqual(await stored([...dropped, `m-${tag}-b1`]), []);
    assert.equal((await metric('uspa_collector_events_suppressed_total')) - before, 3);
  });

  test('the pipeline drops an event that carries a suppressed identity only in its traits, leaving no identity behind', async () => {
    const email = `ada-${tag}@example.com`;
    await suppress(`email:${email}`);
    // The collector sees only an anonymous id; the pipeline derives email:… from the traits.
    let last = '';
    await eventually('an identify carrying the email no longer stored', async () => {
      const anon = `a-new-${tag}-${next()}`;
      const id = await send('/v1/identify', { anonymousId: anon, traits: { email: email.toUpperCase() } });
      const control = await send('/v1/track', { userId: `u-kept-${tag}`, event: 'Control' });
      await product.waitForEvents([control]);
      last = anon;
      return (await stored([id])).length === 0;
    }, 60_000);
    const traces = await product.rows<{ n: string }>('SELECT count() AS n FROM {db}.identities WHERE identity IN {ids:Array(String)}', { ids: [`anonymousId:${last}`, `email:${email}`] });
    assert.equal(Number(traces[0]!.n), 0, 'neither the new anonymous id nor the email entered the graph');
  });

  test('a replay of the Source topic skips events of an identity suppressed since', async () => {
    const later = `u-later-${tag}`;
    const ids = [await send('/v1/track', { userId: later, event: 'Before Erasure' }), await send('/v1/track', { userId: `u-kept-${tag}`, event: 'Before Erasure' })];
    await product.waitForEvents(ids);
    await suppress(`userId:${later}`);
    await product.stopPipeline();
    // What an erasure does in ClickHouse, then the topic read again from its first offset.
    await product.warehouse.command('ALTER TABLE {db}.events DELETE WHERE message_id IN {ids:Array(String)} SETTINGS mutations_sync = 2', { ids });
    const admin = new Kafka({ clientId: 'uspa-test-privacy', brokers: required('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const topics = topicNames(product.env);
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(`${topics.prefix}.pipeline.`) && !g.endsWith('-control'));
    assert.equal(groups.length, 1, groups.join(', '));
    await admin.resetOffsets({ groupId: groups[0]!, topic: topics.source(product.sources.web!.name), earliest: true });
    await admin.disconnect();
    await product.startPipeline();
    await product.waitForEvents([ids[1]!]);
    assert.deepEqual(await stored([ids[0]!]), [], 'the erased person is not stored again by the replay');
  });

  test('a lifted suppression lets the identity be stored again (a tombstone: compaction forgets it); others stay suppressed', async () => {
    const back = `u-back-${tag}`;
    const still = `u-still-${tag}`;
    await suppress(`userId:${back}`);
    await suppress(`userId:${still}`);
    const before = await metric('uspa_collector_events_suppressed_total');
    await eventually('both suppressed at the collector', async () => {
      await send('/v1/track', { userId: back, event: 'Probe' });
      await send('/v1/track', { userId: still, event: 'Probe' });
      return (await metric('uspa_collector_events_suppressed_total')) - before >= 2;
    }, 90_000);
    await liftSuppressions(new Kafka({ clientId: 'uspa-test-privacy', brokers: required('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING }), topicNames(product.env), [`userId:${back}`]);
    const returned = await eventually('the lifted identity stored again', async () => {
      const id = await send('/v1/track', { userId: back, event: 'Came Back' });
      await product.waitForEvents([id], 5_000).catch(() => undefined);
      return (await stored([id])).length === 1 && id;
    }, 90_000);
    assert.ok(returned);
    const other = await send('/v1/track', { userId: still, event: 'Still Gone' });
    await new Promise((r) => setTimeout(r, 1_500));
    assert.deepEqual(await stored([other]), [], 'the other identity stays suppressed');
  });
});
