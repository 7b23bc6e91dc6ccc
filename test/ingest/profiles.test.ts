// Identity resolution and profiles on real Kafka and ClickHouse.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { profileByIdentity, type Profile } from '../../workers/pipeline/profiles.ts';
import { showIdentity, unmerge } from '../../cli/identity.ts';
import { eventually } from '../support/env.ts';
import { startProduct, type Product } from '../support/product.ts';

let product: Product;
let n = 0;
const id = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++n}`;

async function send(path: string, body: object): Promise<string> {
  const messageId = id('m');
  const r = await product.post(path, { messageId, ...body });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return messageId;
}

async function profileOf(identity: string, check: (p: Profile) => boolean): Promise<Profile> {
  return eventually(`the profile of ${identity}`, async () => {
    const p = await profileByIdentity(product.warehouse, identity);
    return p && check(p) ? p : undefined;
  });
}

describe('identity resolution and profiles', { concurrency: false }, () => {
  after(() => product?.close());
  before(async () => {
    product = await startProduct({ sources: [{ name: 'web', type: 'web' }], pipeline: { identity: { maxProfilesPerMerge: 2 } } });
  });

  test('anonymous browsing, then login: one profile holds both histories and is found by either identity', { timeout: 90_000 }, async () => {
    const anon = id('anon');
    const user = id('user');
    const ids = [
      await send('/v1/page', { anonymousId: anon, name: 'Home', timestamp: '2026-11-01T10:00:00Z' }),
      await send('/v1/track', { anonymousId: anon, event: 'Product Added', properties: { sku: 'A' }, timestamp: '2026-11-01T10:01:00Z' }),
      await send('/v1/identify', { anonymousId: anon, userId: user, traits: { email: `${user}@Example.com`, first_name: 'Ada' }, timestamp: '2026-11-01T10:02:00Z' }),
      await send('/v1/track', { userId: user, event: 'Order Completed', properties: { revenue: 120 }, timestamp: '2026-11-01T10:03:00Z' }),
    ];
    await product.waitForEvents(ids);
    const byUser = await profileOf(`userId:${user}`, (p) => p.event_count === 4);
    const byAnon = await profileOf(`anonymousId:${anon}`, () => true);
    const byEmail = await profileOf(`email:${user}@example.com`, () => true);
    assert.equal(byAnon.profile_id, byUser.profile_id);
    assert.equal(byEmail.profile_id, byUser.profile_id);
    assert.deepEqual(byUser.identities.sort(), [`anonymousId:${anon}`, `email:${user}@example.com`, `userId:${user}`].sort());
    assert.deepEqual(byUser.event_counts, { Home: 1, 'Product Added': 1, 'Order Completed': 1 });
    assert.equal(byUser.traits.first_name, 'Ada');
    assert.equal(byUser.lifetime_revenue, 120);
    assert.equal(byUser.order_count, 1);
    assert.equal(byUser.first_seen, '2026-11-01 10:00:00.000');
    assert.equal(byUser.last_seen, '2026-11-01 10:03:00.000');
    assert.ok(byUser.rfm.recency >= 4, JSON.stringify(byUser.rfm));
    assert.equal(byUser.rfm.frequency, 1);
    assert.equal(byUser.rfm.monetary, 2);
  });

  test('a late event never overwrites a newer trait value (last write wins by event time)', { timeout: 60_000 }, async () => {
    const user = id('late');
    const newer = await send('/v1/identify', { userId: user, traits: { plan: 'pro', city: 'Lyon' }, timestamp: '2026-11-10T12:00:00Z' });
    await product.waitForEvents([newer]);
    await profileOf(`userId:${user}`, (p) => p.traits.plan === 'pro');
    const late = await send('/v1/identify', { userId: user, traits: { plan: 'free', company: 'Acme' }, timestamp: '2026-11-01T12:00:00Z' });
    await product.waitForEvents([late]);
    const p = await profileOf(`userId:${user}`, (p) => p.event_count === 2);
    assert.equal(p.traits.plan, 'pro', 'the older event lost');
    assert.equal(p.traits.company, 'Acme', 'a trait only the late event had is kept');
    assert.equal(p.traits.city, 'Lyon');
  });

  test('merge limit: two userIds on one device stay two profiles; the refused merge is recorded', { timeout: 60_000 }, async () => {
    const device = id('device');
    const u1 = id('u1');
    const u2 = id('u2');
    const ids = [await send('/v1/identify', { anonymousId: device, userId: u1 }), await send('/v1/identify', { anonymousId: device, userId: u2 })];
    await product.waitForEvents(ids);
    const p1 = await profileOf(`userId:${u1}`, () => true);
    const p2 = await profileOf(`userId:${u2}`, () => true);
    assert.notEqual(p1.profile_id, p2.profile_id);
    const edges = await product.rows<{ action: string; reason: string; message_id: string }>("SELECT action, reason, message_id FROM {db}.identity_edges WHERE action = 'refused' AND (a = {u:String} OR b = {u:String})", { u: `userId:${u2}` });
    assert.equal(edges.length, 1);
    assert.equal(edges[0]!.message_id, ids[1]);
    assert.match(edges[0]!.reason, /userId/);
  });

  test('maxProfilesPerMerge: a profile absorbs at most the configured number of others', { timeout: 60_000 }, async () => {
    const email = `${id('shared')}@example.com`;
    const anons = [id('a'), id('a'), id('a'), id('a')];
    const ids: string[] = [];
    for (const a of anons) ids.push(await send('/v1/track', { anonymousId: a, event: 'Visit' }));
    for (const a of anons) ids.push(await send('/v1/identify', { anonymousId: a, traits: { email } }));
    await product.waitForEvents(ids);
    // Events of different anonymous ids sit on different partitions, so which one is refused depends
    // on consumption order; that exactly one is, is what the limit promises.
    const refused = await eventually('the refused merge', async () => {
      const rows = await product.rows<{ reason: string; message_id: string }>("SELECT reason, message_id FROM {db}.identity_edges WHERE action = 'refused' AND message_id IN {m:Array(String)}", { m: ids.slice(4) });
      return rows.length ? rows : undefined;
    });
    assert.equal(refused.length, 1);
    assert.match(refused[0]!.reason, /maxProfilesPerMerge|absorbed/);
    const merged = await profileOf(`email:${email}`, (p) => p.identities.filter((i) => i.startsWith('anonymousId:')).length === 3);
    assert.equal(merged.identities.length, 4, 'the first profile plus two absorbed (limit 2), and the email');
    const left = anons[ids.slice(4).indexOf(refused[0]!.message_id)]!;
    assert.ok(!merged.identities.includes(`anonymousId:${left}`));
    const alone = await profileOf(`anonymousId:${left}`, () => true);
    assert.notEqual(alone.profile_id, merged.profile_id);
  });

  test('alias before its previousId was ever seen: the anonymous events that come later join the same profile', { timeout: 90_000 }, async () => {
    const anon = id('early');
    const user = id('aliased');
    const alias = await send('/v1/alias', { userId: user, previousId: anon, timestamp: '2026-11-06T09:00:00Z' });
    await product.waitForEvents([alias]);
    await profileOf(`userId:${user}`, () => true);
    const later = [
      await send('/v1/track', { anonymousId: anon, event: 'Kiosk Visit', timestamp: '2026-11-06T09:01:00Z' }),
      await send('/v1/track', { anonymousId: anon, event: 'Product Viewed', timestamp: '2026-11-06T09:02:00Z' }),
    ];
    await product.waitForEvents(later);
    const profile = await profileOf(`userId:${user}`, (p) => p.identities.includes(`anonymousId:${anon}`) && p.event_count === 3);
    assert.ok(profile.event_counts['Kiosk Visit'] && profile.event_counts['Product Viewed'], `the later events count in the aliased profile: ${JSON.stringify(profile.event_counts)}`);
    const byAnon = await profileOf(`anonymousId:${anon}`, () => true);
    assert.equal(byAnon.profile_id, profile.profile_id, 'one profile, found by either identity');
  });

  test('unmerge: undoing a wrong merge rebuilds both profiles with their own histories', { timeout: 90_000 }, async () => {
    const anon = id('kiosk');
    const user = id('who');
    const ids = [
      await send('/v1/track', { anonymousId: anon, event: 'Kiosk Visit', timestamp: '2026-11-05T09:00:00Z' }),
      await send('/v1/track', { userId: user, event: 'Order Completed', properties: { revenue: 30 }, timestamp: '2026-11-05T09:01:00Z' }),
      await send('/v1/alias', { userId: user, previousId: anon, timestamp: '2026-11-05T09:02:00Z' }),
    ];
    await product.waitForEvents(ids);
    const merged = await profileOf(`userId:${user}`, (p) => p.identities.includes(`anonymousId:${anon}`) && p.event_count === 3);
    const saved = { db: process.env.USPA_DATABASE, prefix: process.env.USPA_TOPIC_PREFIX };
    process.env.USPA_DATABASE = product.database;
    process.env.USPA_TOPIC_PREFIX = product.env.USPA_TOPIC_PREFIX;
    try {
      const { edges } = await showIdentity(`userId:${user}`);
      const link = edges.find((e) => e.action === 'link' && e.message_id === ids[2]);
      assert.ok(link, `the merge is audited with its message id: ${JSON.stringify(edges)}`);
      assert.equal(link.rule, 'alias');
      const pipelineName = (await import('yaml')).parse((await import('node:fs')).readFileSync(product.configPath, 'utf8')).pipelines[0].name as string;
      const undone = await unmerge({ pipeline: pipelineName, edgeId: link.id, reason: 'shared kiosk' });
      assert.equal(undone.action, 'unlink');
      assert.equal(undone.undoes, link.id);
    } finally {
      process.env.USPA_DATABASE = saved.db;
      process.env.USPA_TOPIC_PREFIX = saved.prefix;
    }
    const userProfile = await profileOf(`userId:${user}`, (p) => !p.identities.includes(`anonymousId:${anon}`));
    const anonProfile = await profileOf(`anonymousId:${anon}`, (p) => p.profile_id !== userProfile.profile_id);
    assert.deepEqual(Object.keys(anonProfile.event_counts).sort(), ['Kiosk Visit']);
    assert.equal(userProfile.lifetime_revenue, 30);
    assert.ok([merged.profile_id].includes(userProfile.profile_id) || [merged.profile_id].includes(anonProfile.profile_id), 'the surviving profile keeps its id');
    const edges = await product.rows<{ n: string }>("SELECT count() AS n FROM {db}.identity_edges WHERE action = 'link' AND message_id = {m:String}", { m: ids[2]! });
    assert.equal(Number(edges[0]!.n), 1, 'the undone edge stays in the append-only log');
  });
});
