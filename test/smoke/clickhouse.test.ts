import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, ClickHouseError } from '@clickhouse/client';
import { required, unique } from '../support/env.ts';

function client(database?: string) {
  return createClient({
    url: required('CLICKHOUSE_URL'),
    username: process.env.CLICKHOUSE_USER ?? 'default',
    password: process.env.CLICKHOUSE_PASSWORD ?? '',
    ...(database ? { database } : {}),
  });
}

test('clickhouse: current engine, MergeTree with TTL, JSONEachRow insert, query parameters, DateTime64(3)', { timeout: 60_000 }, async (t) => {
  const admin = client();
  const db = unique('smoke').replace(/-/g, '_');
  await admin.command({ query: `CREATE DATABASE ${db}` });
  t.after(async () => {
    await admin.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await admin.close();
  });
  const version = await (await admin.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })).json<{ v: string }>();
  const [major, minor] = version[0]!.v.split('.').map(Number);
  assert.ok(major! > 24 || (major === 24 && minor! >= 8), `ClickHouse ${version[0]!.v} is at least 24.8`);

  const ch = client(db);
  t.after(() => ch.close());
  await ch.command({
    query: `CREATE TABLE events (
      message_id String, ts DateTime64(3, 'UTC'), name LowCardinality(String), user_id String, properties String
    ) ENGINE = MergeTree PARTITION BY toYYYYMM(ts) ORDER BY (user_id, ts)
    TTL toDateTime(ts) + INTERVAL 3650 DAY`,
  });
  await ch.insert({
    table: 'events',
    format: 'JSONEachRow',
    values: [
      { message_id: 'm1', ts: '2026-11-01 10:00:00.123', name: 'Order Completed', user_id: 'u1', properties: JSON.stringify({ revenue: 42.5 }) },
      { message_id: 'm2', ts: '2026-11-01 10:00:00.456', name: 'Product Added', user_id: 'u1', properties: JSON.stringify({ sku: 'A' }) },
      { message_id: 'm3', ts: '2026-11-02 09:30:00.007', name: 'Order Completed', user_id: 'u2', properties: JSON.stringify({ revenue: 10 }) },
    ],
  });
  const rows = await (
    await ch.query({
      query: `SELECT message_id, ts, JSONExtractFloat(properties, 'revenue') AS revenue
              FROM events WHERE name = {name:String} AND ts >= {since:DateTime64(3)} ORDER BY ts`,
      query_params: { name: 'Order Completed', since: '2026-11-01 10:00:00.100' },
      format: 'JSONEachRow',
    })
  ).json<{ message_id: string; ts: string; revenue: number }>();
  assert.deepEqual(rows, [
    { message_id: 'm1', ts: '2026-11-01 10:00:00.123', revenue: 42.5 },
    { message_id: 'm3', ts: '2026-11-02 09:30:00.007', revenue: 10 },
  ]);

  await ch.command({ query: `DELETE FROM events WHERE user_id = {u:String}`, query_params: { u: 'u1' } });
  const left = await (await ch.query({ query: 'SELECT count() AS n FROM events', format: 'JSONEachRow' })).json<{ n: string }>();
  assert.equal(Number(left[0]!.n), 1, 'lightweight DELETE removed the two rows of u1');
});

test('clickhouse: a bad query comes back as a ClickHouseError with its code', { timeout: 30_000 }, async (t) => {
  const ch = client();
  t.after(() => ch.close());
  await assert.rejects(ch.query({ query: 'SELEC 1' }), (err: unknown) => err instanceof ClickHouseError && err.code === '62' && err.type === 'SYNTAX_ERROR');
  await assert.rejects(ch.query({ query: 'SELECT * FROM no_such_table_anywhere' }), (err: unknown) => err instanceof ClickHouseError && err.type === 'UNKNOWN_TABLE');
});

test('clickhouse: a wrong password is refused', { timeout: 30_000 }, async (t) => {
  const ch = createClient({ url: required('CLICKHOUSE_URL'), username: 'default', password: 'definitely-wrong' });
  t.after(() => ch.close());
  await assert.rejects(ch.query({ query: 'SELECT 1' }), (err: unknown) => err instanceof ClickHouseError && err.type === 'AUTHENTICATION_FAILED');
});
