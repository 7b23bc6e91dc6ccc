// Erasure on the real engines: a person with events from two Sources, merged profiles and a dead
// letter (through the collector and the pipeline), and a row in every other table the schema scan
// finds; after erasing, none of their rows is left in any table, nobody else's row is touched,
// the receipt verifies and a tampered one does not; an unknown identity is a clean no-op.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ErasureReceipt, StoreReceipt } from '../../api/privacy.ts';
import { countRows, eraseStore, resolvePerson } from '../../lib/privacy/erase.ts';
import { signReceipt } from '../../lib/privacy/receipt.ts';
import { KEPT_ON_ERASURE, personValues, type ColumnInfo, type PersonTable, type PersonValues } from '../../lib/privacy/schema.ts';
import { verifyReceipt } from '../../lib/privacy/verify.ts';
import { unique } from '../support/env.ts';
import { startProduct, type Product } from '../support/product.ts';
import { eventsOf, people, rowFor, seedPeople, SEEDED_SOURCES } from './support.ts';

const KEY = 'test-signing-key-0123456789abcdef';

let product: Product;
let columns: ColumnInfo[];
const tag = unique('p').replace(/[^a-z0-9]/g, '');
const { ada, bob } = people(tag);
const { send } = eventsOf(() => product, tag);

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

describe('erasure in ClickHouse', { concurrency: false, timeout: 300_000 }, () => {
  let tables: PersonTable[];
  let adaValues: PersonValues;
  let bobValues: PersonValues;

  before(async () => {
    product = await startProduct(SEEDED_SOURCES);
    ({ tables, columns, adaValues, bobValues } = await seedPeople(product, ada, bob, send));
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
    await product.warehouse.insert('events', [rowFor(columns, events, { identity: `userId:${ada.user}`, profile: adaValues.profiles[0]!, raw: ada.user })]);
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
