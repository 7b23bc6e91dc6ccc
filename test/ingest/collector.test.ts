// The collector end to end on real Kafka and ClickHouse: every endpoint, every refusal, the
// tracking plan's dead letters and their replay, webhooks, imports and the Segment Node SDK.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Analytics } from '@segment/analytics-node';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { Kafka, logLevel } from 'kafkajs';
import { topicNames } from '../../lib/kafka.ts';
import { importFile } from '../../cli/import.ts';
import { replayDeadLetters } from '../../cli/dlq.ts';
import { eventually, required } from '../support/env.ts';
import { startProduct, type Product } from '../support/product.ts';

const ORDER_PLAN = { 'Order Completed': { type: 'object', required: ['revenue'], properties: { revenue: { type: 'number' } } } };
let product: Product;
let n = 0;
const id = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++n}`;

describe('collector', { concurrency: false }, () => {
  after(() => product?.close());
  before(async () => {
    product = await startProduct({
      sources: [
        { name: 'web', type: 'web' },
        { name: 'limited', type: 'server', rateLimit: { eventsPerSecond: 5 } },
        { name: 'strict', type: 'server', trackingPlan: { mode: 'reject', events: ORDER_PLAN } },
        { name: 'lenient', type: 'server', trackingPlan: { mode: 'dlq', events: ORDER_PLAN } },
        { name: 'payments', type: 'webhook', webhook: { type: 'track', event: { value: 'Payment Succeeded' }, userId: { path: 'data.customer' }, messageId: { path: 'id' }, timestamp: { path: 'created', format: 'unix' }, properties: { amount: { path: 'data.amount' }, currency: { path: 'data.currency' } } } },
        { name: 'files', type: 'batch' },
        { name: 'hooks', type: 'webhook', webhook: { type: 'track', event: { value: 'Hooked' }, userId: { path: 'user' }, properties: { n: { path: 'n' } } } },
      ],
    });
  });

  test('every Segment endpoint lands in the ClickHouse event log', { timeout: 90_000 }, async () => {
    const ids = { track: id('t'), identify: id('i'), page: id('p'), screen: id('s'), group: id('g'), alias: id('a') };
    const base = { anonymousId: 'anon-e2e', context: { ip: '8.8.8.8' } };
    const calls: Array<[string, object]> = [
      ['/v1/track', { ...base, messageId: ids.track, event: 'Product Viewed', properties: { sku: 'A1', price: 12.5 } }],
      ['/v1/identify', { ...base, messageId: ids.identify, userId: 'user-e2e', traits: { email: 'e2e@example.com' } }],
      ['/v1/page', { ...base, messageId: ids.page, name: 'Home', properties: { url: 'https://shop.example/' } }],
      ['/v1/screen', { ...base, messageId: ids.screen, name: 'Cart' }],
      ['/v1/group', { ...base, messageId: ids.group, groupId: 'acme', traits: { plan: 'team' } }],
      ['/v1/alias', { messageId: ids.alias, userId: 'user-e2e', previousId: 'anon-e2e' }],
    ];
    for (const [path, body] of calls) {
      const r = await product.post(path, body);
      assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(r.body, { success: true });
    }
    const batchIds = [id('b'), id('b'), id('b')];
    const batch = await product.post('/v1/batch', { batch: batchIds.map((messageId, i) => ({ type: 'track', messageId, userId: 'user-e2e', event: `Batch ${i}` })), context: { library: { name: 'test' } } });
    assert.equal(batch.status, 200);
    await product.waitForEvents([...Object.values(ids), ...batchIds]);
    const rows = await product.rows<{ message_id: string; type: string; event: string; sku: string; country: string; lib: string }>(
      `SELECT message_id, type, event, JSONExtractString(properties, 'sku') AS sku, country, JSONExtractString(context, 'library', 'name') AS lib
       FROM {db}.events WHERE message_id IN {ids:Array(String)} ORDER BY message_id`,
      { ids: [...Object.values(ids), ...batchIds] },
    );
    const byId = new Map(rows.map((r) => [r.message_id, r]));
    assert.equal(byId.get(ids.track)?.type, 'track');
    assert.equal(byId.get(ids.track)?.event, 'Product Viewed');
    assert.equal(byId.get(ids.track)?.sku, 'A1', 'properties are queryable with JSON functions');
    assert.equal(byId.get(ids.track)?.country, 'US', 'IP enrichment');
    for (const t of ['identify', 'page', 'screen', 'group', 'alias'] as const) assert.equal(byId.get(ids[t])?.type, t);
    assert.equal(byId.get(batchIds[1]!)?.event, 'Batch 1');
    assert.equal(byId.get(batchIds[2]!)?.lib, 'test', 'batch-level context applies to each event');
  });

  test('gzip bodies, beacons (writeKey in a text/plain body) and CORS preflight', { timeout: 60_000 }, async () => {
    const gz = id('gz');
    const res = await fetch(`${product.url}/v1/batch`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', Authorization: `Basic ${Buffer.from(`${product.sources.web!.writeKey}:`).toString('base64')}` },
      body: gzipSync(JSON.stringify({ batch: [{ type: 'track', messageId: gz, anonymousId: 'z', event: 'Zipped' }] })),
    });
    assert.equal(res.status, 200);
    const beacon = id('beacon');
    const b = await fetch(`${product.url}/v1/t`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ writeKey: product.sources.web!.writeKey, messageId: beacon, anonymousId: 'z', event: 'Beacon' }) });
    assert.equal(b.status, 200);
    const preflight = await fetch(`${product.url}/v1/track`, { method: 'OPTIONS', headers: { Origin: 'https://shop.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' } });
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://shop.example');
    await product.waitForEvents([gz, beacon]);
  });

  test('every refusal answers {success: false, error, errors: [{path, message}]}: 400 bad fields or JSON, 401 unknown write key, 404, 413 too large', { timeout: 30_000 }, async () => {
    const bad = await product.post('/v1/track', { anonymousId: 'x', properties: 'not an object', timestamp: 'yesterday' });
    assert.equal(bad.status, 400);
    const paths = (bad.body.errors ?? []).map((e) => e.path).sort();
    assert.deepEqual(paths, ['event', 'properties', 'timestamp']);

    const json = await product.post('/v1/track', '{not json');
    assert.deepEqual({ status: json.status, body: json.body }, { status: 400, body: { success: false, error: 'request body is not valid JSON', errors: [{ path: 'body', message: "is not valid JSON: Expected property name or '}' in JSON at position 1" }] } });

    const unknown = await product.post('/v1/track', { anonymousId: 'x', event: 'e' }, 'not-a-real-write-key-at-all');
    assert.deepEqual({ status: unknown.status, body: unknown.body }, { status: 401, body: { success: false, error: 'unknown write key', errors: [{ path: 'Authorization', message: 'is not the write key of any Source' }] } });
    const inBody = await fetch(`${product.url}/v1/track`, { method: 'POST', body: JSON.stringify({ writeKey: 'not-a-key', anonymousId: 'x', event: 'e' }) });
    assert.deepEqual(await inBody.json(), { success: false, error: 'unknown write key', errors: [{ path: 'writeKey', message: 'is not the write key of any Source' }] });
    const missing = await fetch(`${product.url}/v1/track`, { method: 'POST', body: JSON.stringify({ anonymousId: 'x', event: 'e' }) });
    assert.equal(missing.status, 401);
    assert.deepEqual(((await missing.json()) as { errors: unknown }).errors, [{ path: 'Authorization', message: 'send the write key as the HTTP Basic username, or as "writeKey" in the body' }]);

    const compress = await product.post('/v1/track', '{}', 'web', { 'Content-Encoding': 'compress' });
    assert.deepEqual({ status: compress.status, body: compress.body }, { status: 415, body: { success: false, error: 'unsupported Content-Encoding', errors: [{ path: 'Content-Encoding', message: 'must be gzip, deflate, br or identity' }] } });

    // Declared compressed but not: refused as unreadable, naming the encoding (zlib and brotli alike).
    for (const encoding of ['gzip', 'deflate', 'br']) {
      const garbled = await product.post('/v1/track', '{"not":"compressed"}', 'web', { 'Content-Encoding': encoding });
      assert.equal(garbled.status, 400, `${encoding}: ${JSON.stringify(garbled.body)}`);
      assert.equal(garbled.body.error, 'unreadable request body');
      assert.match(garbled.body.errors![0]!.message, new RegExp(`could not be inflated as ${encoding}`));
    }

    const nowhere = await product.post('/v1/nowhere', {});
    assert.deepEqual({ status: nowhere.status, errors: nowhere.body.errors }, { status: 404, errors: [{ path: 'url', message: '/v1/nowhere is not an endpoint; use track, identify, page, screen, group, alias or batch' }] });

    const hugeEvent = JSON.stringify({ anonymousId: 'x', event: 'Big', properties: { blob: 'x'.repeat(40 * 1024) } });
    const huge = await product.post('/v1/track', hugeEvent);
    assert.deepEqual({ status: huge.status, body: huge.body }, { status: 413, body: { success: false, error: 'event too large', errors: [{ path: 'body', message: `is ${Buffer.byteLength(hugeEvent)} bytes; the limit is 32768 bytes per event` }] } });
    const hugeBatch = await product.post('/v1/batch', { batch: Array.from({ length: 20 }, () => ({ type: 'track', anonymousId: 'x', event: 'Big', properties: { blob: 'y'.repeat(30 * 1024) } })) });
    assert.equal(hugeBatch.status, 413);
    assert.equal(hugeBatch.body.errors?.[0]?.path, 'body');
  });

  test('a bad event in a batch is dead-lettered with its index and cause; the others are stored', { timeout: 60_000 }, async () => {
    const good = id('good');
    const r = await product.post('/v1/batch', { batch: [{ type: 'track', messageId: good, anonymousId: 'x', event: 'ok' }, { type: 'bogus', messageId: id('bogus'), anonymousId: 'x' }] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.errors, [{ path: 'batch[1].type', message: 'must be one of track, identify, page, screen, group, alias' }]);
    assert.match(r.body.error ?? '', /^1 of 2 events were not accepted; each is in the dead-letter topic of source web-/);
    await product.waitForEvents([good]);
  });

  test('429 with Retry-After over the Source rate limit', { timeout: 30_000 }, async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    let limited: unknown;
    for (let i = 0; i < 12; i++) {
      const r = await product.post('/v1/track', { anonymousId: 'rl', event: 'Tick' }, 'limited');
      statuses.push(r.status);
      if (r.status === 429) [retryAfter, limited] = [r.headers.get('retry-after'), r.body];
    }
    assert.ok(statuses.includes(200), 'within the limit events are accepted');
    assert.ok(statuses.includes(429), `over the limit: ${statuses.join(',')}`);
    assert.ok(Number(retryAfter) >= 1, 'Retry-After in seconds');
    assert.deepEqual(limited, { success: false, error: 'rate limit exceeded', errors: [{ path: 'body', message: `1 event would exceed source ${product.sources.limited!.name}'s limit of 5 events/s; retry after ${retryAfter} s (Retry-After)` }] });
  });

  test('tracking plan: reject mode answers 400 per field; dlq mode dead-letters with the cause, and replay delivers after a fix', { timeout: 90_000 }, async () => {
    const refused = await product.post('/v1/track', { userId: 'u', event: 'Order Completed', properties: { revenue: 'lots' } }, 'strict');
    assert.equal(refused.status, 400);
    assert.equal(refused.body.errors?.[0]?.path, 'properties.revenue');
    assert.match(refused.body.errors?.[0]?.message ?? '', /must be number/);
    const fine = id('plan-ok');
    assert.equal((await product.post('/v1/track', { messageId: fine, userId: 'u', event: 'Order Completed', properties: { revenue: 5 } }, 'strict')).status, 200);

    const dead = id('plan-dlq');
    const accepted = await product.post('/v1/track', { messageId: dead, userId: 'u', event: 'Order Completed', properties: {} }, 'lenient');
    assert.equal(accepted.status, 200, 'dlq mode accepts the event');
    await product.waitForEvents([fine]);
    const letters = await eventually('the dead letter in ClickHouse', async () => {
      const rows = await product.rows<{ reason: string; errors: string[]; source: string }>('SELECT reason, errors, source FROM {db}.dead_letters WHERE message_id = {id:String}', { id: dead });
      return rows.length ? rows : undefined;
    });
    assert.equal(letters[0]!.reason, 'tracking_plan_violation');
    assert.equal(letters[0]!.source, product.sources.lenient!.name);
    assert.deepEqual(letters[0]!.errors, ['properties.revenue: is required']);
    const inLog = await product.rows('SELECT 1 FROM {db}.events WHERE message_id = {id:String}', { id: dead });
    assert.equal(inLog.length, 0, 'not in the event log before replay');

    const saved = { db: process.env.USPA_DATABASE, prefix: process.env.USPA_TOPIC_PREFIX };
    process.env.USPA_DATABASE = product.database;
    process.env.USPA_TOPIC_PREFIX = product.env.USPA_TOPIC_PREFIX;
    try {
      const result = await replayDeadLetters({ source: product.sources.lenient!.name }, () => undefined);
      assert.equal(result.replayed, 1);
      await product.waitForEvents([dead]);
      const again = await replayDeadLetters({ source: product.sources.lenient!.name }, () => undefined);
      assert.equal(again.replayed, 0, 'a dead letter is replayed once');
    } finally {
      process.env.USPA_DATABASE = saved.db;
      process.env.USPA_TOPIC_PREFIX = saved.prefix;
    }
  });

  test('a message re-sent many times is stored once', { timeout: 60_000 }, async () => {
    const dup = id('dup');
    for (let i = 0; i < 4; i++) assert.equal((await product.post('/v1/track', { messageId: dup, anonymousId: 'd', event: 'Again', sentAt: new Date().toISOString() })).status, 200);
    const marker = id('after-dup');
    await product.post('/v1/track', { messageId: marker, anonymousId: 'd', event: 'Marker' });
    await product.waitForEvents([dup, marker]);
    const rows = await product.rows<{ n: string }>('SELECT count() AS n FROM {db}.events WHERE message_id = {id:String}', { id: dup });
    assert.equal(Number(rows[0]!.n), 1);
  });

  test('a garbage Kafka record is dead-lettered with its cause and does not block its partition', { timeout: 90_000 }, async () => {
    const kafka = new Kafka({ clientId: 'test', brokers: required('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const topic = topicNames(product.env).source(product.sources.web!.name);
    await producer.send({ topic, acks: -1, messages: [0, 1, 2].map((p) => ({ partition: p, value: '{"this is": not json' })).concat([0, 1, 2].map((p) => ({ partition: p, value: JSON.stringify({ type: 'track', messageId: `bad-${p}` }) }))) });
    await producer.disconnect();
    const after = id('after-garbage');
    await product.post('/v1/track', { messageId: after, anonymousId: 'g', event: 'Still Flowing' });
    await product.waitForEvents([after]);
    const letters = await eventually('dead letters for the garbage', async () => {
      const rows = await product.rows<{ reason: string; errors: string[] }>("SELECT reason, errors FROM {db}.dead_letters WHERE stage LIKE 'pipeline:%' ORDER BY reason");
      return rows.length >= 6 ? rows : undefined;
    });
    assert.equal(letters.filter((l) => l.reason === 'invalid_json').length, 3);
    const invalid = letters.filter((l) => l.reason === 'invalid_event');
    assert.equal(invalid.length, 3);
    assert.ok(invalid[0]!.errors.some((e) => e.includes('timestamp: is required')), invalid[0]!.errors.join('; '));
  });

  test('a webhook payload is mapped into an event by the Source mapping', { timeout: 60_000 }, async () => {
    const hook = id('evt');
    const ok = await product.post(`/v1/webhook/${product.sources.payments!.name}`, { id: hook, created: 1_760_000_000, data: { customer: 'cus_9', amount: 4200, currency: 'eur' } }, 'payments');
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    await product.waitForEvents([hook]);
    const rows = await product.rows<{ event: string; user_id: string; amount: number; ts: string }>(
      "SELECT event, user_id, JSONExtractFloat(properties, 'amount') AS amount, toString(timestamp) AS ts FROM {db}.events WHERE message_id = {id:String}", { id: hook },
    );
    assert.deepEqual(rows[0], { event: 'Payment Succeeded', user_id: 'cus_9', amount: 4200, ts: '2025-10-09 08:53:20.000' });
    const bad = await product.post(`/v1/webhook/${product.sources.payments!.name}`, { id: 'x', created: 'soon', data: {} }, 'payments');
    assert.equal(bad.status, 400);
    assert.ok(bad.body.errors?.some((e) => e.path === 'created'), JSON.stringify(bad.body));
    const wrongKey = await product.post(`/v1/webhook/${product.sources.payments!.name}`, { id: 'y' }, 'web');
    assert.equal(wrongKey.status, 401, 'another source’s write key does not open this webhook');
  });

  test('a webhook re-delivered without an id the mapping can read is stored once; another payload is another event', { timeout: 60_000 }, async () => {
    const user = id('hook-user');
    const post = (payload: object) => product.post(`/v1/webhook/${product.sources.hooks!.name}`, payload, 'hooks') as Promise<{ status: number; body: { messageId?: string } }>;
    const first = await post({ user, n: 1, deliveredAt: 'first' });
    const again = await post({ user, n: 1, deliveredAt: 'first' });
    const other = await post({ user, n: 1, deliveredAt: 'second' });
    assert.deepEqual([first.status, again.status, other.status], [200, 200, 200]);
    assert.equal(again.body.messageId, first.body.messageId, 'the same payload, the same id');
    assert.notEqual(other.body.messageId, first.body.messageId, 'a payload that differs in any field is another event');
    await product.waitForEvents([first.body.messageId!, other.body.messageId!]);
    const rows = await product.rows<{ n: string }>('SELECT count() AS n FROM {db}.events WHERE user_id = {u:String}', { u: user });
    assert.equal(Number(rows[0]!.n), 2);
  });

  test('uspa import: CSV with a bad row → per-row report, the rest imported once even when run twice', { timeout: 90_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uspa-import-'));
    const csv = join(dir, `orders-${n++}.csv`);
    writeFileSync(csv, 'type,event,userId,timestamp,properties.revenue,properties.sku\ntrack,Order Completed,imp-1,2026-01-02T03:04:05Z,19.99,A\ntrack,,imp-2,2026-01-02T03:04:06Z,5,B\ntrack,Order Completed,imp-3,not-a-date,7,C\ntrack,Order Completed,imp-4,2026-01-02T03:04:07Z,1.5,D\n');
    const report = join(dir, 'errors.ndjson');
    const options = { file: csv, url: product.url, writeKey: product.sources.files!.writeKey, report };
    const first = await importFile(options);
    assert.equal(first.rows, 4);
    assert.equal(first.sent, 2);
    assert.deepEqual(first.errors.map((e) => e.row), [3, 4], 'rows are numbered as in the file, header = row 1');
    assert.match(first.errors[0]!.errors.join(), /event: is required for track/);
    assert.match(first.errors[1]!.errors.join(), /timestamp/);
    assert.equal(readFileSync(report, 'utf8').trim().split('\n').length, 2);
    await importFile(options);
    await eventually('imported rows', async () => {
      const r = await product.rows<{ n: string; total: number }>("SELECT count() AS n, sum(revenue) AS total FROM {db}.events WHERE user_id IN ('imp-1', 'imp-4')");
      return Number(r[0]!.n) === 2 ? r : undefined;
    });
    await new Promise((r) => setTimeout(r, 1000));
    const r = await product.rows<{ n: string }>("SELECT count() AS n FROM {db}.events WHERE user_id LIKE 'imp-%'");
    assert.equal(Number(r[0]!.n), 2, 'the second import stored nothing new');
  });

  test('uspa import: NDJSON with a broken line and an invalid event → both reported by line, the rest imported', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uspa-import-'));
    const file = join(dir, `events-${n++}.ndjson`);
    const user = id('nd');
    writeFileSync(file, [
      JSON.stringify({ type: 'identify', userId: user, traits: { plan: 'pro' } }),
      '{"type": "track", oops',
      JSON.stringify({ type: 'track', userId: user }),
      '',
      JSON.stringify({ type: 'page', userId: user, name: 'Docs' }),
    ].join('\n') + '\n');
    const result = await importFile({ file, url: product.url, writeKey: product.sources.files!.writeKey });
    assert.equal(result.sent, 2);
    assert.deepEqual(result.errors.map((e) => e.row), [2, 3]);
    assert.match(result.errors[0]!.errors.join(), /not valid JSON/);
    assert.match(result.errors[1]!.errors.join(), /event: is required for track/);
    const rows = await eventually('the NDJSON events', async () => {
      const r = await product.rows<{ type: string }>('SELECT type FROM {db}.events WHERE user_id = {u:String} ORDER BY type', { u: user });
      return r.length === 2 ? r : undefined;
    });
    assert.deepEqual(rows.map((r) => r.type), ['identify', 'page']);
  });

  test('the Segment Node SDK works unchanged against the collector', { timeout: 60_000 }, async () => {
    const analytics = new Analytics({ writeKey: product.sources.web!.writeKey, host: product.url, flushAt: 3, flushInterval: 200 });
    const errors: unknown[] = [];
    analytics.on('error', (e) => errors.push(e));
    const user = id('sdk-user');
    analytics.identify({ userId: user, traits: { name: 'Grace', plan: 'pro' } });
    analytics.track({ userId: user, event: 'SDK Event', properties: { n: 1 } });
    analytics.page({ userId: user, name: 'Pricing' });
    await analytics.closeAndFlush({ timeout: 20_000 });
    assert.deepEqual(errors, []);
    const rows = await eventually('the SDK events', async () => {
      const r = await product.rows<{ type: string; lib: string }>("SELECT type, JSONExtractString(context, 'library', 'name') AS lib FROM {db}.events WHERE user_id = {u:String} ORDER BY type", { u: user });
      return r.length === 3 ? r : undefined;
    });
    assert.deepEqual(rows.map((r) => r.type), ['identify', 'page', 'track']);
    assert.equal(rows[0]!.lib, '@segment/analytics-node');
  });

  test('the RudderStack Node SDK (gzip on) works unchanged against the collector', { timeout: 60_000 }, async () => {
    const errors: unknown[] = [];
    const rudder = new RudderAnalytics(product.sources.web!.writeKey, { dataPlaneUrl: product.url, flushAt: 2, flushInterval: 200, gzip: true, logLevel: 'error', errorHandler: (e) => errors.push(e) });
    const user = id('rudder-user');
    rudder.identify({ userId: user, traits: { plan: 'team' } });
    rudder.track({ userId: user, event: 'Rudder Event', properties: { n: 2 } });
    await rudder.flush();
    assert.deepEqual(errors, []);
    const rows = await eventually('the RudderStack SDK events', async () => {
      const r = await product.rows<{ type: string; event: string }>('SELECT type, event FROM {db}.events WHERE user_id = {u:String} ORDER BY type', { u: user });
      return r.length === 2 ? r : undefined;
    });
    assert.deepEqual(rows.map((r) => r.type), ['identify', 'track']);
    assert.equal(rows[1]!.event, 'Rudder Event');
  });

  test('/healthz, /readyz and /metrics', async () => {
    assert.equal((await fetch(`${product.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${product.url}/readyz`)).status, 200);
    const metrics = await (await fetch(`${product.url}/metrics`)).text();
    assert.match(metrics, /uspa_collector_events_accepted_total\{source="web-/);
    assert.doesNotMatch(metrics, new RegExp(product.sources.web!.writeKey), 'write keys never appear');
  });
});
