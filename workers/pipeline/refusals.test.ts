import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunksByPartition, insertIsolating, isRefusal } from './refusals.ts';

const clickhouse = (code: string, message = 'refused') => Object.assign(new Error(message), { code, type: 'X' });

test('isRefusal: ClickHouse refusing the data, not the network, the server or the schema', () => {
  assert.equal(isRefusal(clickhouse('41', 'Cannot read DateTime')), true);
  assert.equal(isRefusal(clickhouse('25', 'Cannot parse escape sequence')), true);
  assert.equal(isRefusal(clickhouse('252', 'Too many partitions for single INSERT block (more than 100)')), true);
  assert.equal(isRefusal(clickhouse('252', 'Too many parts (300). Merges are processing significantly slower than inserts')), false);
  for (const code of ['159', '209', '210', '241', '60', '81', '516']) assert.equal(isRefusal(clickhouse(code)), false, code);
  assert.equal(isRefusal(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })), false);
  assert.equal(isRefusal(new Error('Timeout error.')), false);
  assert.equal(isRefusal(undefined), false);
});

test('insertIsolating: writes everything but the refused rows, each with its own cause', async () => {
  const written: number[] = [];
  const insert = async (rows: number[]) => {
    const bad = rows.filter((r) => r % 7 === 3);
    if (bad.length) throw clickhouse('41', `bad ${bad.join(',')}`);
    written.push(...rows);
  };
  const rows = Array.from({ length: 50 }, (_, i) => i);
  const refused = await insertIsolating(insert, rows);
  assert.deepEqual(refused, [3, 10, 17, 24, 31, 38, 45].map((row) => ({ row, cause: `bad ${row}` })));
  assert.deepEqual(written.sort((a, b) => a - b), rows.filter((r) => r % 7 !== 3));
});

test('insertIsolating: a failure that is not a refusal rejects at once, nothing isolated', async () => {
  let calls = 0;
  const down = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  await assert.rejects(insertIsolating(async () => { calls++; throw down; }, [1, 2, 3, 4]), down);
  assert.equal(calls, 1);
  // Down in the middle of a bisection: the whole insert fails too.
  let n = 0;
  await assert.rejects(insertIsolating(async (rows: number[]) => { if (n++ === 0 && rows.length > 1) throw clickhouse('41'); throw down; }, [1, 2]), down);
});

test('chunksByPartition: no chunk spans more than max partitions; every row once', () => {
  const rows = Array.from({ length: 300 }, (_, i) => ({ month: `m${i % 130}`, i }));
  const chunks = chunksByPartition(rows, (r) => r.month, 50);
  assert.deepEqual(chunks.map((c) => new Set(c.map((r) => r.month)).size), [50, 50, 30]);
  assert.deepEqual(chunks.flat().map((r) => r.i).sort((a, b) => a - b), rows.map((r) => r.i));
  assert.deepEqual(chunksByPartition([], (r: string) => r, 10), []);
});
