// Compiled segment rules on the real ClickHouse: a small fixture of profiles, identities (one merged)
// and events, and the exact members each rule selects. Every query also runs as its `display` SQL
// (values inlined) and must select the same members.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chTime, clickhouseSettingsFromEnv, Warehouse } from '../../lib/clickhouse.ts';
import { MIGRATIONS } from '../../api/tables/migrations.ts';
import { SEGMENT_TABLES } from '../../api/tables/segments.ts';
import { compileSegment } from '../../lib/segments/compile.ts';
import { parseRule } from '../../lib/segments/rules.ts';
import { required, unique } from '../support/env.ts';

const NOW = new Date('2026-06-15T12:00:00Z');
const ago = (days: number) => chTime(new Date(NOW.getTime() - days * 86_400_000).toISOString());

const HOSTILE = [
  "' OR 1=1 --",
  "\\' OR 1=1 --",
  'back\\slash\\',
  '{p0:String}',
  '{db}',
  '}); DROP TABLE profiles; --',
  'Ünïcödé 😀 ‮',
  'nul\0byte',
  "a') OR ('1'='1",
  'line\nbreak\ttab',
];

let warehouse: Warehouse;

interface ProfileRow {
  profile_id: string;
  traits: object;
  identities: string[];
  lifetime_revenue?: number;
  order_count?: number;
  last_order_at?: string | null;
  first_seen?: string;
  deleted?: number;
  updated_at?: string;
}

function profile(p: ProfileRow) {
  return {
    profile_id: p.profile_id,
    identities: p.identities,
    traits: JSON.stringify(p.traits),
    first_seen: p.first_seen ?? ago(100),
    last_seen: ago(1),
    event_count: 0,
    event_counts: {},
    lifetime_revenue: p.lifetime_revenue ?? 0,
    order_count: p.order_count ?? 0,
    last_order_at: p.last_order_at ?? null,
    rfm_recency: 0,
    rfm_frequency: 0,
    rfm_monetary: 0,
    deleted: p.deleted ?? 0,
    updated_at: p.updated_at ?? ago(0),
  };
}

let n = 0;
function event(identity: string, name: string, days: number, properties: object = {}, messageId = `m${++n}`) {
  const at = ago(days);
  return { message_id: messageId, type: 'track', event: name, timestamp: at, received_at: at, identity, profile_id: '', properties: JSON.stringify(properties) };
}

async function fixture(): Promise<void> {
  // bob's anonymous identity first had a profile of its own ("old"), then was merged into bob.
  await warehouse.insert('profiles', [profile({ profile_id: 'old', identities: ['anonymousId:anon-b'], traits: { plan: 'pro' }, updated_at: ago(30) })]);
  await warehouse.insert('identities', [
    { identity: 'anonymousId:anon-b', profile_id: 'old', first_seen: ago(30), version: 1 },
    // A device identity first given to dave, then moved to erin (an unmerge); dave lives on.
    { identity: 'anonymousId:tablet', profile_id: 'dave', first_seen: ago(30), version: 1 },
  ]);

  await warehouse.insert('profiles', [
    profile({
      profile_id: 'alice',
      identities: ['userId:alice'],
      traits: { plan: 'pro', age: 34, email: 'alice@example.com', tags: ['vip', 'beta'], signup: '2026-01-10T00:00:00Z', address: { city: 'Lyon' }, newsletter: true },
      lifetime_revenue: 250,
      order_count: 2,
      last_order_at: ago(2),
    }),
    profile({
      profile_id: 'bob',
      identities: ['anonymousId:anon-b', 'userId:bob'],
      traits: { plan: 'free', age: '28', email: 'bob@test.org', tags: ['beta'], signup: '2026-03-05', address: { city: 'Paris' }, newsletter: false },
      lifetime_revenue: 70,
      order_count: 2,
      last_order_at: ago(3),
    }),
    profile({
      profile_id: 'carol',
      identities: ['userId:carol'],
      traits: { plan: 'enterprise', age: 45, email: 'carol@example.com', signup: '2025-12-01' },
      lifetime_revenue: 1000,
      order_count: 1,
      last_order_at: ago(60),
      first_seen: '2025-12-01 09:00:00.000',
    }),
    profile({ profile_id: 'dave', identities: ['userId:dave'], traits: { plan: 'pro', age: 19 } }),
    profile({ profile_id: 'erin', identities: ['userId:erin'], traits: {} }),
    // Deleted profiles match nothing, whatever their traits and events.
    profile({ profile_id: 'frank', identities: ['userId:frank'], traits: { plan: 'pro', age: 50, email: 'frank@example.com' }, lifetime_revenue: 500, deleted: 1 }),
    profile({ profile_id: 'old', identities: [], traits: {}, deleted: 1, updated_at: ago(0) }),
  ]);
  await warehouse.insert('identities', [
    { identity: 'userId:alice', profile_id: 'alice', first_seen: ago(100), version: 1 },
    { identity: 'userId:bob', profile_id: 'bob', first_seen: ago(100), version: 1 },
    { identity: 'anonymousId:anon-b', profile_id: 'bob', first_seen: ago(100), version: 2 },
    { identity: 'userId:carol', profile_id: 'carol', first_seen: ago(100), version: 1 },
    { identity: 'userId:dave', profile_id: 'dave', first_seen: ago(100), version: 1 },
    { identity: 'userId:erin', profile_id: 'erin', first_seen: ago(100), version: 1 },
    { identity: 'userId:frank', profile_id: 'frank', first_seen: ago(100), version: 1 },
    { identity: 'anonymousId:tablet', profile_id: 'erin', first_seen: ago(30), version: 2 },
  ]);
  const redelivered = event('anonymousId:anon-b', 'Order Completed', 10, { revenue: 40, category: 'books' }, 'bob-anon-order');
  await warehouse.insert('events', [
    event('userId:alice', 'Order Completed', 2, { revenue: 100, category: 'shoes' }),
    event('userId:alice', 'Order Completed', 20, { revenue: '150', category: 'books' }),
    event('userId:alice', 'Product Viewed', 1, { category: 'books' }),
    event('userId:bob', 'Order Completed', 3, { revenue: 30 }),
    redelivered,
    event('userId:carol', 'Order Completed', 60, { revenue: 1000, category: 'garden' }),
    event('userId:carol', 'Product Viewed', 5, { category: 'shoes', product: { tags: ['sale', 'new'] } }),
    event('userId:dave', 'Product Viewed', 40, { category: 'shoes' }),
    event('userId:erin', 'Signed Up', 1),
    event('anonymousId:tablet', 'App Opened', 4),
    event('anonymousId:tablet', 'App Opened', 3),
    event('userId:frank', 'Order Completed', 1, { revenue: 500 }),
  ]);
  // The same event delivered again (another part, not merged yet): counted once.
  await warehouse.insert('events', [redelivered]);

  await warehouse.insert('segment_versions', [
    { segment: 'shop/vip', version: 1, size: 2, computed_at: ago(2), query: '' },
    { segment: 'shop/vip', version: 2, size: 2, computed_at: ago(1), query: '' },
    { segment: 'other/vip', version: 5, size: 1, computed_at: ago(1), query: '' },
  ]);
  await warehouse.insert('segment_members', [
    { segment: 'shop/vip', version: 1, profile_id: 'alice' },
    { segment: 'shop/vip', version: 1, profile_id: 'bob' },
    { segment: 'shop/vip', version: 2, profile_id: 'carol' },
    { segment: 'shop/vip', version: 2, profile_id: 'frank' },
    // Version 3 is still being written: no segment_versions row yet.
    { segment: 'shop/vip', version: 3, profile_id: 'erin' },
    { segment: 'other/vip', version: 5, profile_id: 'dave' },
  ]);
}

/** Members of a rule, checked to be the same through `sql` + params and through `display`. */
async function members(rule: unknown, namespace = 'shop'): Promise<string[]> {
  const compiled = compileSegment(parseRule(rule), { namespace, now: NOW });
  const ids = (await warehouse.query<{ profile_id: string }>(compiled.sql, compiled.params)).map((r) => r.profile_id).sort();
  const shown = (await warehouse.query<{ profile_id: string }>(compiled.display)).map((r) => r.profile_id).sort();
  assert.deepEqual(shown, ids, `display selects the same members as sql:\n${compiled.display}`);
  return ids;
}

async function expect(rule: unknown, expected: string[], namespace = 'shop'): Promise<void> {
  assert.deepEqual(await members(rule, namespace), [...expected].sort(), JSON.stringify(rule));
}

describe('segment rules on ClickHouse', { concurrency: false }, () => {
  before(async () => {
    required('CLICKHOUSE_URL');
    warehouse = new Warehouse({ ...clickhouseSettingsFromEnv(), database: unique('segments').replace(/-/g, '_') });
    await warehouse.command('CREATE DATABASE {db}');
    for (const m of MIGRATIONS) for (const statement of m.statements) await warehouse.command(statement);
    for (let i = 0; i < 2; i++) for (const statement of SEGMENT_TABLES) await warehouse.command(statement);
    await fixture();
  });
  after(async () => {
    if (!warehouse) return;
    await warehouse.command('DROP DATABASE IF EXISTS {db}');
    await warehouse.close();
  });

  test('trait operators', { timeout: 60_000 }, async () => {
    await expect({ trait: 'plan', op: 'eq', value: 'pro' }, ['alice', 'dave']);
    await expect({ trait: 'plan', op: 'neq', value: 'pro' }, ['bob', 'carol']);
    await expect({ not: { trait: 'plan', op: 'eq', value: 'pro' } }, ['bob', 'carol', 'erin']);
    await expect({ trait: 'age', op: 'eq', value: 28 }, ['bob']); // "28", a numeric string
    await expect({ trait: 'age', op: 'gt', value: 30 }, ['alice', 'carol']);
    await expect({ trait: 'age', op: 'gte', value: 34 }, ['alice', 'carol']);
    await expect({ trait: 'age', op: 'lt', value: 28 }, ['dave']);
    await expect({ trait: 'age', op: 'lte', value: 28 }, ['bob', 'dave']);
    await expect({ trait: 'age', op: 'between', value: [20, 40] }, ['alice', 'bob']);
    await expect({ trait: 'plan', op: 'in', value: ['free', 'enterprise'] }, ['bob', 'carol']);
    await expect({ trait: 'age', op: 'in', value: [19, 28] }, ['bob', 'dave']);
    await expect({ trait: 'email', op: 'contains', value: 'example.com' }, ['alice', 'carol']);
    await expect({ trait: 'tags', op: 'contains', value: 'beta' }, ['alice', 'bob']);
    await expect({ trait: 'tags', op: 'contains', value: 'bet' }, []); // an element, not a substring of one
    await expect({ trait: 'plan', op: 'exists' }, ['alice', 'bob', 'carol', 'dave']);
    await expect({ trait: 'plan', op: 'exists', value: false }, ['erin']);
    await expect({ trait: 'address.city', op: 'eq', value: 'Lyon' }, ['alice']);
    await expect({ trait: 'address.city', op: 'exists' }, ['alice', 'bob']);
    await expect({ trait: 'newsletter', op: 'eq', value: true }, ['alice']);
    await expect({ trait: 'newsletter', op: 'eq', value: false }, ['bob']);
    await expect({ trait: 'newsletter', op: 'neq', value: true }, ['bob']);
    await expect({ trait: 'newsletter', op: 'in', value: [true, 'x'] }, ['alice']);
  });

  test('trait dates', { timeout: 60_000 }, async () => {
    await expect({ trait: 'signup', op: 'between', value: ['2026-01-01', '2026-12-31'] }, ['alice', 'bob']);
    await expect({ trait: 'signup', op: 'gt', value: '2026-02-01' }, ['bob']);
    await expect({ trait: 'signup', op: 'lt', value: '2026-01-01T00:00:00Z' }, ['carol']);
    await expect({ trait: 'signup', op: 'gte', value: '2026-01-10T01:00:00+01:00' }, ['alice', 'bob']);
  });

  test('profile columns', { timeout: 60_000 }, async () => {
    await expect({ profile: 'lifetime_revenue', op: 'gt', value: 100 }, ['alice', 'carol']);
    await expect({ profile: 'order_count', op: 'in', value: [2] }, ['alice', 'bob']);
    await expect({ profile: 'order_count', op: 'between', value: [1, 1] }, ['carol']);
    await expect({ profile: 'last_order_at', op: 'exists', value: false }, ['dave', 'erin']);
    await expect({ profile: 'last_order_at', op: 'gte', value: ago(7).replace(' ', 'T') }, ['alice', 'bob']);
    await expect({ profile: 'last_order_at', op: 'neq', value: ago(2).replace(' ', 'T') }, ['bob', 'carol']);
    await expect({ profile: 'first_seen', op: 'lt', value: '2026-01-01' }, ['carol']);
  });

  test('performed, not performed, atLeast/atMost/within (through the merged identity, once per event)', { timeout: 60_000 }, async () => {
    await expect({ event: 'Order Completed', within: '30d' }, ['alice', 'bob']);
    // Events belong to the identity's current profile.
    await expect({ event: 'App Opened' }, ['erin']);
    await expect({ event: 'App Opened', atLeast: 2 }, ['erin']);
    await expect({ event: 'App Opened', performed: false }, ['alice', 'bob', 'carol', 'dave']);
    await expect({ event: 'Order Completed', performed: false, within: '30d' }, ['carol', 'dave', 'erin']);
    await expect({ not: { event: 'Order Completed', within: '30d' } }, ['carol', 'dave', 'erin']);
    await expect({ event: 'Signed Up', performed: false }, ['alice', 'bob', 'carol', 'dave']);
    await expect({ event: 'Order Completed', atLeast: 2, within: '30d' }, ['alice', 'bob']);
    await expect({ event: 'Order Completed', atLeast: 2, within: '15d' }, ['bob']);
    await expect({ event: 'Order Completed', atLeast: 3, within: '30d' }, []); // bob's redelivered order counts once
    await expect({ event: 'Order Completed', atLeast: 1, atMost: 1 }, ['carol']);
    await expect({ event: 'Order Completed', atLeast: 0, atMost: 1 }, ['carol', 'dave', 'erin']);
    await expect({ event: 'Product Viewed', within: '7d' }, ['alice', 'carol']);
    await expect({ event: 'Product Viewed', within: '72h' }, ['alice']);
    await expect({ event: 'Order Completed', where: [{ property: 'category', op: 'eq', value: 'shoes' }] }, ['alice']);
    await expect({ event: 'Product Viewed', within: '7d', where: [{ property: 'category', op: 'eq', value: 'shoes' }] }, ['carol']);
    await expect({ event: 'Product Viewed', where: [{ property: 'product.tags', op: 'contains', value: 'sale' }] }, ['carol']);
    await expect({ event: 'Product Viewed', performed: false, within: '7d', where: [{ property: 'category', op: 'eq', value: 'shoes' }] }, ['alice', 'bob', 'dave', 'erin']);
    await expect({ event: 'Order Completed', where: [{ property: 'revenue', op: 'between', value: [35, 120] }] }, ['alice', 'bob']);
  });

  test('aggregates', { timeout: 60_000 }, async () => {
    const agg = (fn: string, op: string, value: number, within?: string) => ({
      event: 'Order Completed',
      ...(within ? { within } : {}),
      aggregate: { fn, ...(fn === 'count' ? {} : { property: 'revenue' }), op, value },
    });
    await expect(agg('sum', 'gt', 200), ['alice', 'carol']);
    await expect(agg('sum', 'gt', 60, '30d'), ['alice', 'bob']);
    await expect(agg('sum', 'gt', 100, '30d'), ['alice']); // bob: 70, not 110 with the redelivered copy
    await expect(agg('avg', 'gte', 100), ['alice', 'carol']); // "150" counts as 150
    await expect(agg('min', 'lt', 50), ['bob']);
    await expect(agg('max', 'gte', 1000), ['carol']);
    await expect(agg('count', 'gte', 2), ['alice', 'bob']);
    await expect({ event: 'Order Completed', atLeast: 2, aggregate: { fn: 'count', property: 'category', op: 'eq', value: 2 } }, ['alice']);
  });

  test('nested all / any / not', { timeout: 60_000 }, async () => {
    await expect(
      { all: [{ any: [{ trait: 'plan', op: 'eq', value: 'pro' }, { trait: 'plan', op: 'eq', value: 'enterprise' }] }, { not: { event: 'Order Completed', within: '30d' } }] },
      ['carol', 'dave'],
    );
    await expect(
      { any: [{ all: [{ trait: 'age', op: 'gt', value: 40 }, { profile: 'lifetime_revenue', op: 'gt', value: 500 }] }, { not: { trait: 'plan', op: 'exists' } }] },
      ['carol', 'erin'],
    );
    await expect({ not: { not: { any: [{ segment: 'vip' }, { event: 'Signed Up' }] } } }, ['carol', 'erin']);
  });

  test('segment references: the latest computed version, in the namespace', { timeout: 60_000 }, async () => {
    await expect({ segment: 'vip' }, ['carol']);
    await expect({ segment: 'vip' }, ['dave'], 'other');
    await expect({ segment: 'missing' }, []);
    await expect({ any: [{ segment: 'vip' }, { trait: 'plan', op: 'eq', value: 'free' }] }, ['bob', 'carol']);
    await expect({ not: { segment: 'vip' } }, ['alice', 'bob', 'dave', 'erin']);

    // The operator's flow: members of a new version, then its version row; references follow.
    const compiled = compileSegment(parseRule({ event: 'Order Completed', atLeast: 2, within: '30d' }), { namespace: 'shop', now: NOW });
    await warehouse.command(
      `INSERT INTO {db}.segment_members (segment, version, profile_id) SELECT {segment:String}, {version:UInt64}, profile_id FROM (${compiled.sql})`,
      { ...compiled.params, segment: 'shop/repeat-buyers', version: 1 },
    );
    await warehouse.insert('segment_versions', [{ segment: 'shop/repeat-buyers', version: 1, size: 2, computed_at: ago(0), query: compiled.display }]);
    await expect({ all: [{ segment: 'repeat-buyers' }, { trait: 'plan', op: 'eq', value: 'free' }] }, ['bob']);
  });

  test('hostile values select nobody and break nothing', { timeout: 120_000 }, async () => {
    for (const h of HOSTILE) {
      const rules = [
        { trait: 'plan', op: 'eq', value: h },
        { trait: 'plan', op: 'in', value: [h] },
        { trait: 'tags', op: 'contains', value: h },
        { trait: 'email', op: 'contains', value: h },
        { event: h },
        { event: 'Order Completed', where: [{ property: h, op: 'eq', value: h }] },
        { event: 'Order Completed', where: [{ property: [h], op: 'exists' }] },
        { event: 'Order Completed', where: [{ property: 'category', op: 'contains', value: h }], aggregate: { fn: 'sum', property: [h], op: 'gte', value: 0 } },
      ];
      await expect({ any: rules }, []);
    }
    for (const r of [{ trait: 'plan', op: 'eq', value: HOSTILE[0] }, { event: HOSTILE[8] }]) await expect(r, []);
    // The tables are intact.
    await expect({ trait: 'plan', op: 'exists' }, ['alice', 'bob', 'carol', 'dave']);
  });
});
