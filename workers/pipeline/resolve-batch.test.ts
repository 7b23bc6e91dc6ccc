import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CanonicalEvent } from '../../api/event.ts';
import { DEFAULT_IDENTITY_KEYS } from '../../api/v1alpha1/pipeline.ts';
import { IdentityGraph } from './identity.ts';
import { canonicalTimes, dedupKey, readBatch, resolveBatch, unstorable, type ConsumedRecord } from './resolve-batch.ts';

const config = { keys: DEFAULT_IDENTITY_KEYS, enrich: { geoip: false, userAgent: false, anonymizeIp: false, urlTopics: [] } };
const graph = () => new IdentityGraph({ keys: DEFAULT_IDENTITY_KEYS, maxProfilesPerMerge: 50 });
const event = (overrides: Partial<CanonicalEvent>): CanonicalEvent => ({
  type: 'track', event: 'Viewed', messageId: 'm', timestamp: '2026-01-01T00:00:00.000Z', receivedAt: '2026-01-01T00:00:00.000Z',
  properties: {}, traits: {}, context: {}, integrations: {}, source: 'web', ...overrides,
});
const record = (offset: number, value: unknown): ConsumedRecord => ({
  topic: 'uspa.events.web', partition: 1, message: { offset: String(offset), value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)) },
});

test('readBatch keeps each messageId once, in order, and rejects what is no event', () => {
  const read = readBatch([
    record(1, event({ messageId: 'm-1', userId: 'u-1' })),
    record(2, '{not json'),
    record(3, event({ messageId: 'm-1', userId: 'u-1' })),
    record(4, { type: 'track', messageId: 'm-3' }),
    record(5, event({ messageId: 'm-2', anonymousId: 'a-1' })),
  ]);
  assert.deepEqual(read.events.map((e) => [e.event.messageId, e.origin.offset]), [['m-1', '1'], ['m-2', '5']]);
  assert.equal(read.duplicates, 1);
  assert.deepEqual(read.rejected.map((r) => [r.reason, r.origin]), [
    ['invalid_json', { topic: 'uspa.events.web', partition: 1, offset: '2' }],
    ['invalid_event', { topic: 'uspa.events.web', partition: 1, offset: '4' }],
  ]);
});

test('resolveBatch links identities, folds profiles and builds rows; a profile folded away is removed', () => {
  const g = graph();
  g.observe({ messageId: 'm-0', timestamp: '2025-12-31T00:00:00.000Z', identities: ['anonymousId:a-1'] }, 'track');
  g.observe({ messageId: 'm-1', timestamp: '2025-12-31T00:00:01.000Z', identities: ['userId:u-1'] }, 'track');
  const before = { anonymous: g.profileOf('anonymousId:a-1')!, user: g.profileOf('userId:u-1')! };
  const read = readBatch([record(3, event({ type: 'identify', messageId: 'm-3', userId: 'u-1', anonymousId: 'a-1', traits: { plan: 'pro' } }))]);
  const out = resolveBatch(g, config, read.events, new Set());
  const profile = g.profileOf('userId:u-1')!;
  assert.equal(g.profileOf('anonymousId:a-1'), profile);
  // The older profile survives the merge.
  assert.equal(profile, before.anonymous);
  assert.deepEqual(out.events.map((e) => [e.message_id, e.profile_id]), [['m-3', profile]]);
  assert.deepEqual(out.traits.map((t) => [t.identity, t.trait, t.value]), [['userId:u-1', 'plan', '"pro"']]);
  assert.deepEqual(out.edges.map((e) => [e.action, e.merge]), [['link', { from: before.user, into: before.anonymous }]]);
  assert.deepEqual([...out.touched], [profile]);
  assert.deepEqual([...out.removed], [before.user]);
  assert.deepEqual(out.assignments.map((a) => [a.identity, a.profileId]), [['userId:u-1', profile]]);
  assert.deepEqual(out.rejected, []);
});

test('resolveBatch: a profile folded away but touched earlier in the batch is rebuilt, not removed', () => {
  const read = readBatch([
    record(1, event({ messageId: 'm-1', anonymousId: 'a-1' })),
    record(2, event({ messageId: 'm-2', userId: 'u-1' })),
    record(3, event({ type: 'identify', messageId: 'm-3', userId: 'u-1', anonymousId: 'a-1' })),
  ]);
  const out = resolveBatch(graph(), config, read.events, new Set());
  assert.equal(out.touched.size, 2);
  assert.deepEqual([...out.removed], []);
});

test('resolveBatch: a stored event gets no event row but its traits again; one without identity keys is rejected unless stored', () => {
  const read = readBatch([
    record(1, event({ type: 'identify', messageId: 'm-1', userId: 'u-1', traits: { plan: 'pro' } })),
    record(2, event({ messageId: 'm-2', userId: 'u-2', context: { traits: { plan: 'free' } } })),
  ]);
  const noUserKey = { ...config, keys: DEFAULT_IDENTITY_KEYS.filter((k) => k.name !== 'userId') };
  const out = resolveBatch(graph(), noUserKey, read.events, new Set([dedupKey('web', 'm-1')]));
  assert.deepEqual(out.events, []);
  assert.deepEqual(out.traits, []);
  assert.deepEqual(out.rejected.map((r) => [r.reason, r.errors, r.origin.offset]), [['processing_failed', ['the event carries none of the pipeline identity keys'], '2']]);

  const again = resolveBatch(graph(), config, read.events, new Set([dedupKey('web', 'm-1')]));
  assert.deepEqual(again.events.map((e) => e.message_id), ['m-2']);
  assert.deepEqual(again.traits.map((t) => [t.message_id, t.trait]), [['m-1', 'plan'], ['m-2', 'plan']]);
});

test('readAlias: an alias previousId the graph knows only as an anonymousId is read as one', () => {
  const g = graph();
  g.observe({ messageId: 'm-0', timestamp: '2026-01-01T00:00:00.000Z', identities: ['anonymousId:x-1'] }, 'track');
  const alias = event({ type: 'alias', messageId: 'm-1', userId: 'u-1', previousId: 'x-1' });
  assert.deepEqual(g.readAlias(alias, ['userId:u-1', 'userId:x-1']), ['userId:u-1', 'anonymousId:x-1']);
  // Seen as neither: a pending identity, which ever of the two readings comes first joins.
  assert.deepEqual(graph().readAlias(alias, ['userId:u-1', 'userId:x-1']), ['userId:u-1', 'previousId:x-1']);
  assert.deepEqual(g.readAlias(event({ userId: 'u-1', previousId: 'x-1' }), ['userId:u-1']), ['userId:u-1']);
});

test('readBatch: the same messageId from two Sources is two events; a Source repeating one is a duplicate', () => {
  const read = readBatch([
    record(1, event({ messageId: 'm-1', userId: 'u-1', source: 'web' })),
    record(2, event({ messageId: 'm-1', userId: 'u-2', source: 'ios' })),
    record(3, event({ messageId: 'm-1', userId: 'u-1', source: 'web' })),
  ]);
  assert.deepEqual(read.events.map((e) => [e.event.source, e.event.userId]), [['web', 'u-1'], ['ios', 'u-2']]);
  assert.equal(read.duplicates, 1);
  // Stored for one Source is not stored for the other.
  const out = resolveBatch(graph(), config, read.events, new Set([dedupKey('web', 'm-1')]));
  assert.deepEqual(out.events.map((e) => [e.source, e.user_id]), [['ios', 'u-2']]);
});

test('readBatch: lone surrogates and deep nesting are rejected with the path, the record kept as text', () => {
  const deep = JSON.stringify(event({ messageId: 'm-2', userId: 'u-2', properties: { deep: 0 } })).replace('"deep":0', `"deep":${'{"d":'.repeat(20_000)}1${'}'.repeat(20_000)}`);
  const read = readBatch([
    record(1, event({ messageId: 'm-1', userId: 'u-\ud800' })),
    record(2, deep),
    record(3, event({ messageId: 'm-3', userId: 'u-3', properties: { ok: 'caf\u00e9 \ud83d\ude00' } })),
  ]);
  assert.deepEqual(read.events.map((e) => e.event.messageId), ['m-3']);
  assert.deepEqual(read.rejected.map((r) => [r.reason, r.errors[0]!.replace(/(\.d)+:/, '.d…:')]), [
    ['invalid_event', 'userId: is not valid Unicode (a lone UTF-16 surrogate)'],
    ['invalid_event', 'properties.deep.d…: nested deeper than 64 levels'],
  ]);
  assert.equal(typeof read.rejected[0]!.payload, 'string');
  assert.equal(unstorable({ a: ['x', { '\udc00': 1 }] }), 'a[1]: a key is not valid Unicode (a lone UTF-16 surrogate)');
});

test('canonicalTimes: every RFC 3339 spelling becomes ISO UTC with milliseconds; an unreadable one is named', () => {
  const e = event({ timestamp: '2024-01-01t00:00:00z', receivedAt: '2024-01-01T00:00:00.123456789+14:00', sentAt: '0000-01-01T00:00:00Z' });
  assert.equal(canonicalTimes(e), undefined);
  assert.deepEqual([e.timestamp, e.receivedAt, e.sentAt], ['2024-01-01T00:00:00.000Z', '2023-12-31T10:00:00.123Z', '0000-01-01T00:00:00.000Z']);
  assert.equal(canonicalTimes(event({ timestamp: '2016-12-31T23:59:60Z' })), 'timestamp: "2016-12-31T23:59:60Z" is not a time this pipeline can read');
  const read = readBatch([record(1, event({ messageId: 'm-1', userId: 'u-1', timestamp: '2016-12-31T23:59:60Z' }))]);
  assert.deepEqual(read.rejected.map((r) => [r.reason, r.errors]), [['invalid_event', ['timestamp: "2016-12-31T23:59:60Z" is not a time this pipeline can read']]]);
});

test('resolveBatch leaves out an event carrying a suppressed identity, even one derived from its traits: no row, no graph entry', () => {
  const g = graph();
  const read = readBatch([
    record(1, event({ type: 'identify', messageId: 'm-1', anonymousId: 'a-new', traits: { email: 'Ada@Example.com' } })),
    record(2, event({ messageId: 'm-2', userId: 'u-2' })),
  ]);
  const out = resolveBatch(g, config, read.events, new Set(), (ids) => ids.includes('email:ada@example.com'));
  assert.deepEqual(out.events.map((e) => e.message_id), ['m-2']);
  assert.deepEqual([...out.suppressed], [['web', 1]]);
  assert.equal(g.profileOf('anonymousId:a-new'), undefined);
  assert.equal(out.traits.some((t) => t.identity.includes('ada')), false);
});

test('an exposure event is stored but touches no profile: the API records one per decision and must not evict its cache', () => {
  const g = graph();
  const read = readBatch([
    record(1, event({ messageId: 'x-1', event: 'Personalization Exposed', anonymousId: 'a-1', properties: { placement: 'home-hero', variant: 'v' } })),
    record(2, event({ messageId: 'v-1', event: 'Product Viewed', anonymousId: 'a-2' })),
  ]);
  const out = resolveBatch(g, config, read.events, new Set());
  assert.deepEqual(out.events.map((e) => e.message_id), ['x-1', 'v-1']);
  assert.deepEqual([...out.touched], [g.profileOf('anonymousId:a-2')]);
});

test('resolveBatch: an alias before the previousId\'s events puts them on the alias\'s profile, rows on their own identity', () => {
  const g = graph();
  const read = readBatch([
    record(1, event({ type: 'identify', messageId: 'm-1', userId: 'u-1', traits: { plan: 'pro' } })),
    record(2, event({ type: 'alias', messageId: 'm-2', userId: 'u-1', previousId: 'x-1', timestamp: '2026-01-01T00:00:01.000Z' })),
    record(3, event({ messageId: 'm-3', anonymousId: 'x-1', timestamp: '2026-01-01T00:00:02.000Z' })),
  ]);
  const out = resolveBatch(g, config, read.events, new Set());
  const profile = g.profileOf('userId:u-1')!;
  assert.deepEqual(out.events.map((e) => [e.message_id, e.identity, e.profile_id]), [
    ['m-1', 'userId:u-1', profile],
    ['m-2', 'userId:u-1', profile],
    ['m-3', 'anonymousId:x-1', profile],
  ]);
  assert.deepEqual(out.edges.map((e) => [e.action, e.a, e.b, e.rule]), [
    ['link', 'userId:u-1', 'previousId:x-1', 'alias'],
    ['link', 'previousId:x-1', 'anonymousId:x-1', 'track'],
  ]);
  assert.deepEqual(out.assignments.map((a) => [a.identity, a.profileId]), [
    ['userId:u-1', profile],
    ['previousId:x-1', profile],
    ['anonymousId:x-1', profile],
  ]);
  assert.deepEqual([...out.touched], [profile]);
});

test('resolveBatch: a suppressed person\'s pending identity suppresses the previousId\'s later events, and an alias of a suppressed id', () => {
  const read = readBatch([
    record(1, event({ messageId: 'm-1', anonymousId: 'x-1' })),
    record(2, event({ type: 'alias', messageId: 'm-2', userId: 'u-2', previousId: 'gone' })),
    record(3, event({ messageId: 'm-3', anonymousId: 'a-3' })),
  ]);
  const erased = new Set(['previousId:x-1', 'anonymousId:gone']);
  const out = resolveBatch(graph(), config, read.events, new Set(), (ids) => ids.some((i) => erased.has(i)));
  assert.deepEqual(out.events.map((e) => e.message_id), ['m-3']);
  assert.deepEqual([...out.suppressed], [['web', 2]]);
});
