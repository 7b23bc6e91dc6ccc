import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { topicNames } from '../../api/names.ts';
import { createLogger } from '../../lib/log.ts';
import { CachedProfiles, ProfileCache } from './cache.ts';
import type { ProfileDocument } from './document.ts';
import type { ProfileStore } from './store.ts';

function doc(profileId: string, identities: string[], plan = 'free'): ProfileDocument {
  return {
    profileId,
    identities,
    traits: { plan: { value: plan, setAt: '2026-01-01T00:00:00.000Z', source: 'web', messageId: 'm-1' } },
    computed: { firstSeen: '', lastSeen: '', eventCount: 0, eventCounts: {}, lifetimeRevenue: 0, orderCount: 0, lastOrderAt: null, rfm: { recency: 0, frequency: 0, monetary: 0 } },
    interests: {},
    persona: null,
    segments: [],
    consent: {},
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

/** An in-memory ProfileStore that counts its calls and can hold a load until released. */
class Memory implements ProfileStore {
  docs = new Map<string, ProfileDocument>();
  loads = 0;
  resolves = 0;
  hold?: Promise<void>;
  put(d: ProfileDocument): void {
    for (const [id, other] of this.docs) if (id !== d.profileId) other.identities = other.identities.filter((i) => !d.identities.includes(i));
    this.docs.set(d.profileId, d);
  }
  async resolve(identity: string) {
    this.resolves++;
    await this.hold;
    return [...this.docs.values()].find((d) => d.identities.includes(identity))?.profileId;
  }
  async load(profileId: string) {
    this.loads++;
    await this.hold;
    const d = this.docs.get(profileId);
    return d && structuredClone(d);
  }
}

const tick = () => new Promise((r) => setImmediate(r));
const change = (profileId: string, identities: string[], deleted = false) => ({ profileId, identities, deleted, updatedAt: new Date().toISOString() });

test('cache: a miss loads once, later reads are hits; concurrent misses of one profile share one load', async () => {
  const inner = new Memory();
  inner.put(doc('p1', ['userId:u1', 'email:ada@example.com']));
  const seen: string[] = [];
  const cache = new ProfileCache(inner, 10, { lookup: (c, o) => seen.push(`${c}:${o}`), evicted: () => undefined });
  const docs = await Promise.all(Array.from({ length: 20 }, () => cache.load('p1')));
  assert.equal(inner.loads, 1, 'twenty concurrent misses, one load');
  assert.ok(docs.every((d) => d?.profileId === 'p1'));
  await cache.load('p1');
  assert.equal(inner.loads, 1);
  assert.equal(seen.filter((s) => s === 'profile:hit').length, 1);
  // The loaded document's identities resolve from memory too.
  assert.equal(await cache.resolve('email:ada@example.com'), 'p1');
  assert.equal(inner.resolves, 0);
  // Unknown identities are not remembered: an identify may create them any time.
  assert.equal(await cache.resolve('userId:nobody'), undefined);
  assert.equal(await cache.resolve('userId:nobody'), undefined);
  assert.equal(inner.resolves, 2);
});

test('cache: a profile change evicts the document and reloads a cached one, so the next read has the new trait', async () => {
  const inner = new Memory();
  inner.put(doc('p1', ['userId:u1']));
  const evicted: string[] = [];
  const cache = new ProfileCache(inner, 10, { lookup: () => undefined, evicted: (r) => evicted.push(r) });
  assert.equal((await cache.load('p1'))?.traits.plan?.value, 'free');
  inner.put(doc('p1', ['userId:u1'], 'pro'));
  assert.equal((await cache.load('p1'))?.traits.plan?.value, 'free', 'no change record yet: served from memory');
  cache.applyProfileChange(change('p1', ['userId:u1']));
  assert.deepEqual(evicted, ['change']);
  await tick();
  assert.equal(inner.loads, 2, 'a cached profile is reloaded when it changes');
  assert.equal((await cache.load('p1'))?.traits.plan?.value, 'pro');
  assert.equal(inner.loads, 2, 'the reload is what the read got');
  // A profile nobody read is not loaded because it changed.
  cache.applyProfileChange(change('p9', ['userId:u9']));
  await tick();
  assert.equal(inner.loads, 2);
});

test('cache: a load in flight when its profile changes keeps no result, and later readers do not join it', async () => {
  const inner = new Memory();
  inner.put(doc('p1', ['userId:u1']));
  const cache = new ProfileCache(inner, 10);
  let release!: () => void;
  inner.hold = new Promise((r) => (release = r));
  const before = cache.load('p1');
  await tick();
  inner.hold = undefined;
  inner.put(doc('p1', ['userId:u1'], 'pro'));
  cache.applyProfileChange(change('p1', ['userId:u1']));
  assert.equal((await cache.load('p1'))?.traits.plan?.value, 'pro', 'the reader after the change starts its own load');
  assert.equal(inner.loads, 2);
  // The old load finishes last, with the document as it was before the change: it is not kept.
  inner.docs.set('p1', doc('p1', ['userId:u1'], 'free'));
  release();
  assert.equal((await before)?.traits.plan?.value, 'free', 'its reader asked before the change');
  assert.equal((await cache.load('p1'))?.traits.plan?.value, 'pro');
  assert.equal(inner.loads, 2);
});

test('cache: a merge moves the anonymousId lookup to the surviving profile; the folded profile is forgotten', async () => {
  const inner = new Memory();
  inner.put(doc('pa', ['anonymousId:a1']));
  inner.put(doc('pu', ['userId:u1']));
  const cache = new ProfileCache(inner, 10);
  assert.equal(await cache.resolve('anonymousId:a1'), 'pa');
  await cache.load('pa');
  await cache.load('pu');
  assert.equal(inner.resolves, 1);
  // The identify linked them: pu survives with both identities, pa is deleted.
  inner.put(doc('pu', ['userId:u1', 'anonymousId:a1'], 'pro'));
  inner.docs.delete('pa');
  cache.applyProfileChange(change('pu', ['userId:u1', 'anonymousId:a1']));
  assert.equal(await cache.resolve('anonymousId:a1'), 'pu');
  cache.applyProfileChange(change('pa', [], true));
  assert.equal(await cache.load('pa'), undefined);
  await tick();
  assert.deepEqual((await cache.load('pu'))?.identities, ['userId:u1', 'anonymousId:a1']);
  // The other order (the deleted record first) ends the same.
  const again = new ProfileCache(inner, 10);
  inner.put(doc('pb', ['anonymousId:b1']));
  assert.equal(await again.resolve('anonymousId:b1'), 'pb');
  inner.put(doc('pu', ['userId:u1', 'anonymousId:a1', 'anonymousId:b1']));
  inner.docs.delete('pb');
  again.applyProfileChange(change('pb', [], true));
  assert.equal(await again.resolve('anonymousId:b1'), 'pu');
});

test('cache: an unmerge forgets identities that left the profile', async () => {
  const inner = new Memory();
  inner.put(doc('p1', ['userId:u1', 'email:shared@example.com']));
  const cache = new ProfileCache(inner, 10);
  await cache.load('p1');
  assert.equal(await cache.resolve('email:shared@example.com'), 'p1');
  inner.put(doc('p2', ['email:shared@example.com']));
  cache.applyProfileChange(change('p1', ['userId:u1']));
  assert.equal(await cache.resolve('email:shared@example.com'), 'p2');
  assert.equal(await cache.resolve('userId:u1'), 'p1');
});

test('cache: a Segment change reloads the cached profile (its memberships changed)', async () => {
  const inner = new Memory();
  inner.put(doc('p1', ['userId:u1']));
  const cache = new ProfileCache(inner, 10);
  await cache.load('p1');
  inner.docs.get('p1')!.segments = [{ segment: 'vip', since: '2026-01-02T00:00:00.000Z' }];
  cache.applySegmentChange('p1');
  assert.deepEqual((await cache.load('p1'))?.segments, [{ segment: 'vip', since: '2026-01-02T00:00:00.000Z' }]);
});

test('cache: bounded — past maxProfiles the least recently used profile goes', async () => {
  const inner = new Memory();
  for (const n of [1, 2, 3]) inner.put(doc(`p${n}`, [`userId:u${n}`]));
  const evicted: string[] = [];
  const cache = new ProfileCache(inner, 2, { lookup: () => undefined, evicted: (r) => evicted.push(r) });
  await cache.load('p1');
  await cache.load('p2');
  await cache.load('p1');
  await cache.load('p3');
  assert.deepEqual(evicted, ['capacity']);
  assert.equal(cache.size.profiles, 2);
  const loads = inner.loads;
  await cache.load('p1');
  assert.equal(inner.loads, loads, 'p1 was used last, so p2 went');
  await cache.load('p2');
  assert.equal(inner.loads, loads + 1);
});

test('CachedProfiles: before its consumer runs it bypasses the cache and says why; unreadable records are counted and skipped', async () => {
  const inner = new Memory();
  inner.put(doc('p1', ['userId:u1']));
  const registry = new Registry();
  const cached = new CachedProfiles(inner, { kafka: {} as never, topics: topicNames('t'), log: createLogger('test', 'silent'), registry, maxProfiles: 10 });
  assert.match(cached.problem() ?? '', /not started/);
  await cached.load('p1');
  await cached.load('p1');
  assert.equal(inner.loads, 2, 'no caching while changes cannot be received');
  cached.onRecord('t.profile-changes', Buffer.from('not json'));
  cached.onRecord('t.profile-changes', Buffer.from(JSON.stringify(change('p1', ['userId:u1']))));
  cached.onRecord('t.segment-changes', Buffer.from(JSON.stringify({ segment: 'vip', version: 1, profileId: 'p1', change: 'entered', at: new Date().toISOString() })));
  const text = await registry.metrics();
  assert.match(text, /uspa_api_profile_cache_unreadable_total\{topic="profile-changes"\} 1/);
  assert.match(text, /uspa_api_profile_cache_changes_total\{topic="profile-changes"\} 1/);
  assert.match(text, /uspa_api_profile_cache_changes_total\{topic="segment-changes"\} 1/);
  assert.match(text, /uspa_api_profile_cache_misses_total/);
});

test('cache: many changes at once reload only a few profiles in the background; the rest are evicted and load on their next read', async () => {
  const inner = new Memory();
  for (let n = 0; n < 10; n++) inner.put(doc(`p${n}`, [`userId:u${n}`]));
  const cache = new ProfileCache(inner, 100);
  for (let n = 0; n < 10; n++) await cache.load(`p${n}`);
  let release!: () => void;
  inner.hold = new Promise((r) => (release = r));
  for (let n = 0; n < 10; n++) cache.applySegmentChange(`p${n}`);
  assert.equal(inner.loads, 14, 'four background reloads, not ten');
  inner.hold = undefined;
  release();
  await tick();
  await cache.load('p9');
  assert.equal(inner.loads, 15, 'an evicted profile loads on its next read');
});
