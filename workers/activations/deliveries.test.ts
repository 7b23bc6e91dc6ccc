import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Warehouse } from '../../lib/clickhouse.ts';
import { RowBatcher } from './deliveries.ts';

/** A warehouse that records its inserts (and fails them when told to). */
function fakeWarehouse(database = 'db', fail?: Error) {
  const inserts: Array<{ table: string; rows: object[] }> = [];
  const w = {
    database,
    async insert(table: string, rows: object[]) {
      if (fail) throw fail;
      inserts.push({ table, rows });
    },
  } as unknown as Warehouse;
  return { w, inserts };
}

describe('RowBatcher', () => {
  test('rows written within the linger time go to ClickHouse as one insert; every caller resolves after it', async () => {
    const { w, inserts } = fakeWarehouse();
    const batcher = new RowBatcher(20);
    let resolved = 0;
    const writes = [1, 2, 3].map((i) => batcher.insert(w, 'activation_deliveries', [{ i }]).then(() => resolved++));
    assert.equal(inserts.length, 0, 'nothing before the linger time');
    await Promise.all(writes);
    assert.deepEqual(inserts, [{ table: 'activation_deliveries', rows: [{ i: 1 }, { i: 2 }, { i: 3 }] }]);
    assert.equal(resolved, 3);
  });

  test('a full batch is written at once; tables and databases are batched apart', async () => {
    const a = fakeWarehouse('a');
    const b = fakeWarehouse('b');
    const batcher = new RowBatcher(10_000, 2);
    const started = Date.now();
    await Promise.all([batcher.insert(a.w, 't', [{ n: 1 }]), batcher.insert(a.w, 't', [{ n: 2 }])]);
    assert.ok(Date.now() - started < 5_000, 'written without waiting out the 10 s linger');
    assert.deepEqual(a.inserts, [{ table: 't', rows: [{ n: 1 }, { n: 2 }] }]);
    const pending = [batcher.insert(a.w, 'u', [{ n: 3 }, { n: 4 }]), batcher.insert(b.w, 't', [{ n: 5 }, { n: 6 }])];
    await Promise.all(pending);
    assert.deepEqual(a.inserts.slice(1), [{ table: 'u', rows: [{ n: 3 }, { n: 4 }] }]);
    assert.deepEqual(b.inserts, [{ table: 't', rows: [{ n: 5 }, { n: 6 }] }]);
  });

  test('a failed insert rejects every caller of its batch', async () => {
    const { w } = fakeWarehouse('db', new Error('ClickHouse is down'));
    const batcher = new RowBatcher(5);
    const results = await Promise.allSettled([batcher.insert(w, 't', [{}]), batcher.insert(w, 't', [{}])]);
    assert.deepEqual(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'ok')), ['ClickHouse is down', 'ClickHouse is down']);
  });
});
