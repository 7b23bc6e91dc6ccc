// Erasure on the real engines: a person with events from two Sources, merged profiles and a dead
// letter (through the collector and the pipeline), and a row in every other table the schema scan
// finds; after erasing, none of their rows is left in any table, nobody else's row is touched,
// the receipt verifies and a tampered one does not; an unknown identity is a clean no-op.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ErasureReceipt, StoreReceipt } from '../../api/privacy.ts';
import { countRows, databaseColumns, eraseStore, resolvePerson, storesOf } from '../../lib/privacy/erase.ts';
import { signReceipt } from '../../lib/privacy/receipt.ts';
import { KEPT_ON_ERASURE, personValues, type ColumnInfo, type PersonTable, type PersonValues } from '../../lib/privacy/schema.ts';
import { verifyReceipt } from '../../lib/privacy/verify.ts';
import { eventually, unique } from '../support/env.ts';
import { startProduct, type Product } from '../support/product.ts';
import { eventsOf } from './support.ts';

const KEY = 'test-signing-key-0123456789abcdef';
const PLAN = { 'Order Completed': { type: 'object', required: ['revenue'], properties: { revenue: { type: 'number' } } } };

let product: Product;
let columns: ColumnInfo[];
const tag = unique('p').replace(/[^a-z0-9]/g, '');
const ada = { anon: `anon-ada-${tag}`, user: `u-ada-${tag}`, email: `ada-${tag}@example.com` };
const bob = { anon: `anon-bob-${tag}`, user: `u-bob-${tag}`, email: `bob-${tag}@example.com` };
const { send } = eventsOf(() => product, tag);


/**
 * One row of a table the pipeline does not write, holding the person in every column the scan
 * matched, and a value of its own in every other text column (so no sorting key makes two rows one).
 */
function rowFor(table: PersonTable, person: { identity: string; profile: string; raw: string }): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const c of columns.filter((c) => c.table === table.table && /^(LowCardinality\()?String\)?$/.test(c.type))) row[c.name] = `${c.name}-${person.raw}`;
  // Now, not 1970: a table with a TTL (the audit log) would drop the row at once.
  for (const c of columns.filter((c) => c.table === table.table && c.type.startsWith('DateTime'))) row[c.name] = new Date().toISOString().slice(0, 19).replace('T', ' ');
  for (const { name, kind } of table.columns) {
    row[name] = kind === 'identities' ? [person.identity] : kind === 'identity' ? person.identity : kind === 'profile' ? person.profile : kind === 'raw' ? person.raw : JSON.stringify({ userId: person.raw });
  }
  return row;
}

async function counts(tables: PersonTable[], person: PersonValues): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of tables) out[t.table] = await countRows(product.warehouse, t, person);
  return out;
}

async function totals(tables: PersonTable[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of tables) out[t.table] = Number((await product.rows<{ n: string }>(`SELECT count() AS n FROM {db}.${t.table}`))[0]!.n);
  return out;
}

async function profileIdOf(identity: string): Promise<string> {
  return eventually(`the profile of ${identity}`, async () => (await product.rows<{ p: string }>('SELECT profile_id AS p FROM {db}.identities FINAL WHERE identity = {i:String}', { i: identity }))[0]?.p);
}

describe('erasure in ClickHouse', { concurrency: false, timeout: 300_000 }, () => {
  let tables: PersonTable[];
  let adaValues: PersonValues;
  let bobValues: PersonValues;

  before(async () => {
    product = await startProduct({ sources: [{ name: 'web', type: 'web' }, { name: 'shop', type: 'server', trackingPlan: { mode: 'dlq', events: PLAN } }] });
    const stored = [
      await send('/v1/page', { anonymousId: ada.anon, name: 'Home' }, 'web'),
      await send('/v1/track', { userId: ada.user, event: 'Order Completed', properties: { revenue: 30 } }, 'shop'),
      await send('/v1/identify', { anonymousId: bob.anon, userId: bob.user, traits: { email: bob.email } }, 'web'),
      // Bob's event names Ada's user id as a value: it is Bob's, and stays.
      await send('/v1/track', { userId: bob.user, event: 'Product Viewed', properties: { referrer: ada.user } }, 'shop'),
    ];
    await product.waitForEvents(stored);
    // Two profiles until now; the identify merges them.
    assert.notEqual(await profileIdOf(`anonymousId:${ada.anon}`), await profileIdOf(`userId:${ada.user}`));
    stored.push(await send('/v1/identify', { anonymousId: ada.anon, userId: ada.user, traits: { email: ada.email, name: 'Ada' } }, 'web'));
    const deadAda = await send('/v1/track', { userId: ada.user, event: 'Order Completed', properties: {} }, 'shop');
    const deadBob = await send('/v1/track', { userId: bob.user, event: 'Order Completed', properties: { note: ada.user } }, 'shop');
    await product.waitForEvents(stored);
    await eventually('both dead letters mirrored', async () => Number((await product.rows<{ n: string }>('SELECT count() AS n FROM {db}.dead_letters WHERE message_id IN {ids:Array(String)}', { ids: [deadAda, deadBob] }))[0]!.n) === 2);
    await eventually('one profile for Ada', async () => (await profileIdOf(`anonymousId:${ada.anon}`)) === (await profileIdOf(`userId:${ada.user}`)));
    await eventually("Ada's profile built with her 3 events", async () => Number((await product.rows<{ n: string }>('SELECT event_count AS n FROM {db}.profiles FINAL WHERE deleted = 0 AND has(identities, {i:String})', { i: `email:${ada.email}` }))[0]?.n ?? 0) === 3);

    tables = await storesOf(product.warehouse);
    columns = await databaseColumns(product.warehouse);
    const written = new Set(['events', 'identities', 'identity_edges', 'identity_traits', 'profiles', 'dead_letters']);
    const adaProfile = await profileIdOf(`userId:${ada.user}`);
    const bobProfile = await profileIdOf(`userId:${bob.user}`);
    for (const t of tables.filter((t) => !written.has(t.table))) {
      await product.warehouse.insert(t.table, [rowFor(t, { identity: `userId:${ada.user}`, profile: adaProfile, raw: ada.user }), rowFor(t, { identity: `userId:${bob.user}`, profile: bobProfile, raw: bob.user })]);
    }
    adaValues = await resolvePerson(product.warehouse, `email:${ada.email}`);
    bobValues = await resolvePerson(product.warehouse, `userId:${bob.user}`);
  });
  after(() => product?.close());

  test('the whole graph is resolved from one identity: every identity and the profile merged away', () => {
    assert.deepEqual(adaValues.identities, [`anonymousId:${ada.anon}`, `email:${ada.email}`, `userId:${ada.user}`].sort());
    assert.equal(adaValues.profiles.length, 2, `the surviving profile and the one folded into it: ${adaValues.profiles.join(', ')}`);
    assert.ok(!adaValues.identities.some((i) => i.includes('bob')));
  });

  test('every table found by the scan holds Ada before; after the erasure none does, and only her rows went', async () => {
    const adaBefore = await counts(tables, adaValues);
    const bobBefore = await counts(tables, bobValues);
    const totalBefore = await totals(tables);
    for (const t of tables) assert.ok(adaBefore[t.table]! > 0, `${t.table} holds Ada before (else the test proves nothing there)`);
    for (const t of tables) assert.ok(bobBefore[t.table]! > 0, `${t.table} holds Bob before`);

    const stores: StoreReceipt[] = [];
    for (const t of tables) stores.push(await eraseStore(product.warehouse, t, adaValues, 'delete'));
    const adaAfter = await counts(tables, adaValues);
    for (const t of tables) {
      const kept = KEPT_ON_ERASURE[t.table];
      assert.equal(adaAfter[t.table], kept ? adaBefore[t.table] : 0, `${t.table}: ${kept ? 'kept' : 'no row of Ada left'}`);
      const store = stores.find((s) => s.table === t.table)!;
      assert.deepEqual([store.before, store.after], [adaBefore[t.table], adaAfter[t.table]], `${t.table}: the receipt's counts`);
      assert.equal(store.kept, kept);
    }
    assert.deepEqual(await counts(tables, bobValues), bobBefore, "Bob's rows, including those naming Ada's id as a value, are untouched");
    const totalAfter = await totals(tables);
    for (const t of tables) assert.equal(totalAfter[t.table], totalBefore[t.table]! - adaBefore[t.table]! + adaAfter[t.table]!, `${t.table}: nobody else's rows touched`);
    // Nothing of Ada anywhere, by her raw ids too (the profile's traits, an edge, a payload).
    for (const t of tables.filter((t) => !KEPT_ON_ERASURE[t.table])) {
      const raw = await product.rows<{ n: string }>(`SELECT count() AS n FROM {db}.${t.table} WHERE position(toString(tuple(*)), {u:String}) > 0 AND position(toString(tuple(*)), {b:String}) = 0`, { u: ada.user, b: bob.user });
      assert.equal(Number(raw[0]!.n), 0, `${t.table}: a row still mentions ${ada.user}`);
    }

    const receipt = signReceipt({ version: 1, id: `r-${tag}`, namespace: 'test', database: product.database, mode: 'delete', requested: `email:${ada.email}`, identities: adaValues.identities, profileIds: adaValues.profiles, stores, topics: [], completedAt: new Date().toISOString() }, KEY);
    const check = await verifyReceipt(product.warehouse, receipt, KEY);
    assert.equal(check.ok, true, JSON.stringify(check));
    const tampered: ErasureReceipt = { ...receipt, stores: receipt.stores.map((s) => (s.table === 'events' ? { ...s, before: s.before + 1 } : s)) };
    assert.equal((await verifyReceipt(product.warehouse, tampered, KEY)).signature, false, 'an edited receipt fails its signature');
    assert.equal((await verifyReceipt(product.warehouse, receipt, 'another-key')).ok, false, 'another key fails');

    // Running it again finds nothing and changes nothing.
    const again: StoreReceipt[] = [];
    for (const t of tables) again.push(await eraseStore(product.warehouse, t, adaValues, 'delete'));
    for (const s of again) assert.equal(s.before, KEPT_ON_ERASURE[s.table] ? adaBefore[s.table] : 0, s.table);
    assert.deepEqual(await totals(tables), totalAfter);
  });

  test('a row of Ada written after the erasure makes verify fail: it re-counts', async () => {
    const events = tables.find((t) => t.table === 'events')!;
    const receipt = signReceipt({ version: 1, id: `r2-${tag}`, namespace: 'test', database: product.database, mode: 'delete', requested: `userId:${ada.user}`, identities: adaValues.identities, profileIds: adaValues.profiles, stores: [{ table: 'events', columns: ['user_id'], before: 0, after: 0, statement: '', at: new Date().toISOString() }], topics: [], completedAt: new Date().toISOString() }, KEY);
    assert.equal((await verifyReceipt(product.warehouse, receipt, KEY)).ok, true);
    await product.warehouse.insert('events', [rowFor(events, { identity: `userId:${ada.user}`, profile: adaValues.profiles[0]!, raw: ada.user })]);
    const check = await verifyReceipt(product.warehouse, receipt, KEY);
    assert.equal(check.ok, false);
    assert.deepEqual(check.stores, [{ table: 'events', after: 0, now: 1, ok: false }]);
    await eraseStore(product.warehouse, events, adaValues, 'delete');
  });

  test('an unknown identity: nothing found, no statement run, a clean receipt', async () => {
    const mutations = async () => Number((await product.rows<{ n: string }>('SELECT count() AS n FROM system.mutations WHERE database = {db:String}', { db: product.database }))[0]!.n);
    const totalBefore = await totals(tables);
    const ran = await mutations();
    const nobody = await resolvePerson(product.warehouse, `email:nobody-${tag}@example.com`);
    assert.deepEqual(nobody, personValues([`email:nobody-${tag}@example.com`], []));
    const stores: StoreReceipt[] = [];
    for (const t of tables) stores.push(await eraseStore(product.warehouse, t, nobody, 'suppress_with_delete'));
    assert.ok(stores.every((s) => s.before === 0 && s.after === 0), JSON.stringify(stores));
    assert.equal(await mutations(), ran, 'no ALTER … DELETE for nothing');
    assert.deepEqual(await totals(tables), totalBefore);
  });
});
