// What the privacy tests share: sending events with unique message ids, and which of them are stored.
import assert from 'node:assert/strict';
import { databaseColumns, resolvePerson, storesOf } from '../../lib/privacy/erase.ts';
import type { ColumnInfo, PersonTable } from '../../lib/privacy/schema.ts';
import { eventually } from '../support/env.ts';
import type { Product, startProduct } from '../support/product.ts';

export function eventsOf(product: () => Product, tag: string) {
  let n = 0;
  return {
    /** Posts one event with a fresh messageId; asserts 200 and returns the id. */
    async send(path: string, body: object, source?: string): Promise<string> {
      const messageId = `m-${tag}-${++n}`;
      const r = await product().post(path, { messageId, ...body }, source);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return messageId;
    },
    /** The message ids of `ids` that are in the events table, sorted. */
    async stored(ids: string[]): Promise<string[]> {
      return (await product().rows<{ m: string }>('SELECT DISTINCT message_id AS m FROM {db}.events WHERE message_id IN {ids:Array(String)}', { ids })).map((r) => r.m).sort();
    },
    next: () => ++n,
  };
}

export interface Person {
  anon: string;
  user: string;
  email: string;
}

/** Ada (erased or exported) and Bob (who must stay as he is), unique to a test file. */
export function people(tag: string): { ada: Person; bob: Person } {
  return {
    ada: { anon: `anon-ada-${tag}`, user: `u-ada-${tag}`, email: `ada-${tag}@example.com` },
    bob: { anon: `anon-bob-${tag}`, user: `u-bob-${tag}`, email: `bob-${tag}@example.com` },
  };
}

const PLAN = { 'Order Completed': { type: 'object', required: ['revenue'], properties: { revenue: { type: 'number' } } } };

/** Two Sources: web, and shop whose tracking plan dead-letters an order without revenue. */
export const SEEDED_SOURCES: Parameters<typeof startProduct>[0] = { sources: [{ name: 'web', type: 'web' }, { name: 'shop', type: 'server', trackingPlan: { mode: 'dlq', events: PLAN } }] };

/**
 * One row of a table the pipeline does not write, holding the person in every column the scan
 * matched, and a value of its own in every other text column (so no sorting key makes two rows one).
 */
export function rowFor(columns: ColumnInfo[], table: PersonTable, person: { identity: string; profile: string; raw: string }): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const c of columns.filter((c) => c.table === table.table && /^(LowCardinality\()?String\)?$/.test(c.type))) row[c.name] = `${c.name}-${person.raw}`;
  // Now, not 1970: a table with a TTL (the audit log, pending exports) would drop the row at once.
  for (const c of columns.filter((c) => c.table === table.table && c.type.startsWith('DateTime'))) row[c.name] = new Date(Date.now() + 86_400_000).toISOString().slice(0, 19).replace('T', ' ');
  for (const { name, kind } of table.columns) {
    row[name] = kind === 'identities' ? [person.identity] : kind === 'identity' ? person.identity : kind === 'profile' ? person.profile : kind === 'raw' ? person.raw : JSON.stringify({ userId: person.raw });
  }
  return row;
}

export async function profileIdOf(product: Product, identity: string): Promise<string> {
  return eventually(`the profile of ${identity}`, async () => (await product.rows<{ p: string }>('SELECT profile_id AS p FROM {db}.identities FINAL WHERE identity = {i:String}', { i: identity }))[0]?.p);
}

/**
 * Ada and Bob through the collector and the pipeline (events from two Sources, Ada's anonymous
 * profile merged into her account, a dead letter each), then a row of each in every other table
 * the schema scan finds (segment members, deliveries, personas…), both resolved from one identity.
 */
export async function seedPeople(product: Product, ada: Person, bob: Person, send: ReturnType<typeof eventsOf>['send']) {
  const stored = [
    await send('/v1/page', { anonymousId: ada.anon, name: 'Home' }, 'web'),
    await send('/v1/track', { userId: ada.user, event: 'Order Completed', properties: { revenue: 30 } }, 'shop'),
    await send('/v1/identify', { anonymousId: bob.anon, userId: bob.user, traits: { email: bob.email } }, 'web'),
    // Bob's event names Ada's user id as a value: it is Bob's, and stays.
    await send('/v1/track', { userId: bob.user, event: 'Product Viewed', properties: { referrer: ada.user } }, 'shop'),
  ];
  await product.waitForEvents(stored);
  // Two profiles until now; the identify merges them.
  assert.notEqual(await profileIdOf(product, `anonymousId:${ada.anon}`), await profileIdOf(product, `userId:${ada.user}`));
  stored.push(await send('/v1/identify', { anonymousId: ada.anon, userId: ada.user, traits: { email: ada.email, name: 'Ada' } }, 'web'));
  const deadAda = await send('/v1/track', { userId: ada.user, event: 'Order Completed', properties: {} }, 'shop');
  const deadBob = await send('/v1/track', { userId: bob.user, event: 'Order Completed', properties: { note: ada.user } }, 'shop');
  await product.waitForEvents(stored);
  await eventually('both dead letters mirrored', async () => Number((await product.rows<{ n: string }>('SELECT count() AS n FROM {db}.dead_letters WHERE message_id IN {ids:Array(String)}', { ids: [deadAda, deadBob] }))[0]!.n) === 2);
  await eventually('one profile for Ada', async () => (await profileIdOf(product, `anonymousId:${ada.anon}`)) === (await profileIdOf(product, `userId:${ada.user}`)));
  await eventually("Ada's profile built with her 3 events", async () => Number((await product.rows<{ n: string }>('SELECT event_count AS n FROM {db}.profiles FINAL WHERE deleted = 0 AND has(identities, {i:String})', { i: `email:${ada.email}` }))[0]?.n ?? 0) === 3);

  const tables = await storesOf(product.warehouse);
  const columns = await databaseColumns(product.warehouse);
  const written = new Set(['events', 'identities', 'identity_edges', 'identity_traits', 'profiles', 'dead_letters']);
  const adaProfile = await profileIdOf(product, `userId:${ada.user}`);
  const bobProfile = await profileIdOf(product, `userId:${bob.user}`);
  for (const t of tables.filter((t) => !written.has(t.table))) {
    await product.warehouse.insert(t.table, [rowFor(columns, t, { identity: `userId:${ada.user}`, profile: adaProfile, raw: ada.user }), rowFor(columns, t, { identity: `userId:${bob.user}`, profile: bobProfile, raw: bob.user })]);
  }
  return { tables, columns, stored, adaValues: await resolvePerson(product.warehouse, `email:${ada.email}`), bobValues: await resolvePerson(product.warehouse, `userId:${bob.user}`) };
}
