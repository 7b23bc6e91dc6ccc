import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import type { Warehouse } from '../../lib/clickhouse.ts';
import { createLogger } from '../../lib/log.ts';
import type { AuditEntry } from './entry.ts';
import { ClickHouseAuditLog, type AuditLogOptions } from './log.ts';

const entry = (i: number): AuditEntry => ({
  at: '2026-12-02T10:00:00.123Z',
  requestId: `r-${i}`,
  key: 'analytics',
  keyId: 'a1b2c3d4e5f6',
  role: 'analyst',
  operation: 'getProfile',
  kind: 'read',
  method: 'GET',
  route: '/v1/profiles/{identity}',
  target: `p-${i}`,
  status: 200,
  ip: '127.0.0.1',
  userAgent: 'test',
});

/** A Warehouse whose inserts are recorded, and fail while `down` is true. */
function setup(options: AuditLogOptions = {}) {
  const inserts: { table: string; rows: Record<string, unknown>[] }[] = [];
  const state = { down: false, attempts: 0 };
  const warehouse = {
    async insert(table: string, rows: Record<string, unknown>[]) {
      state.attempts++;
      if (state.down) throw new Error('ClickHouse is down');
      inserts.push({ table, rows: [...rows] });
    },
  } as unknown as Warehouse;
  const lines: string[] = [];
  const log = createLogger('api', 'info', new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }));
  const registry = new Registry();
  const audit = new ClickHouseAuditLog(warehouse, log, registry, { flushMs: 20, retryMs: 10, maxRetryMs: 40, closeTimeoutMs: 300, ...options });
  const metric = async (name: string) => ((await registry.getSingleMetricAsString(name)).match(/ (\d+)$/m)?.[1] ?? '');
  const rows = () => inserts.flatMap((i) => i.rows);
  return { audit, inserts, rows, state, lines, metric };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('audit log: entries are inserted in one batch after flushMs, as api_audit rows without the key', async () => {
  const { audit, inserts, rows, metric } = setup();
  for (let i = 0; i < 5; i++) audit.record(entry(i));
  assert.equal(inserts.length, 0, 'a request never waits for an insert');
  await sleep(80);
  assert.equal(inserts.length, 1);
  assert.equal(inserts[0]!.table, 'api_audit');
  assert.deepEqual(rows()[0], { at: '2026-12-02 10:00:00.123', request_id: 'r-0', api_key: 'analytics', key_id: 'a1b2c3d4e5f6', role: 'analyst', operation: 'getProfile', kind: 'read', method: 'GET', route: '/v1/profiles/{identity}', target: 'p-0', status: 200, ip: '127.0.0.1', user_agent: 'test' });
  assert.equal(await metric('uspa_api_audit_written_total'), '5');
  await audit.close();
});

test('audit log: a full batch is inserted at once, not after flushMs', async () => {
  const { audit, inserts } = setup({ flushMs: 60_000, batchSize: 100 });
  for (let i = 0; i < 250; i++) audit.record(entry(i));
  await sleep(30);
  assert.deepEqual(inserts.map((i) => i.rows.length), [100, 100, 50].slice(0, inserts.length));
  assert.ok(inserts.length >= 2, `full batches went in without waiting: ${inserts.length}`);
  await audit.close();
  assert.equal(inserts.flatMap((i) => i.rows).length, 250);
});

test('audit log: failed inserts are retried with backoff and nothing is lost once ClickHouse is back', async () => {
  const { audit, rows, state, metric, lines } = setup();
  state.down = true;
  for (let i = 0; i < 10; i++) audit.record(entry(i));
  await sleep(150);
  const attempts = state.attempts;
  assert.ok(attempts >= 2, `retried: ${attempts} attempts`);
  assert.ok(attempts <= 8, `with backoff, not in a loop: ${attempts} attempts`);
  assert.equal(Number(await metric('uspa_api_audit_failed_total')), attempts);
  audit.record(entry(10));
  state.down = false;
  await sleep(120);
  assert.deepEqual(rows().map((r) => r.request_id), Array.from({ length: 11 }, (_, i) => `r-${i}`), 'every entry, in order, once');
  assert.ok(lines.some((l) => l.includes('audit insert failed')));
  await audit.close();
});

test('audit log: memory is bounded — past maxBuffered entries are dropped, counted and logged once', async () => {
  const { audit, rows, state, metric, lines } = setup({ maxBuffered: 20 });
  state.down = true;
  for (let i = 0; i < 50; i++) audit.record(entry(i));
  assert.equal(await metric('uspa_api_audit_dropped_total'), '30');
  assert.equal(await metric('uspa_api_audit_buffered'), '20');
  assert.equal(lines.filter((l) => l.includes('audit buffer full')).length, 1, 'one log line for the burst');
  state.down = false;
  await audit.close();
  assert.equal(rows().length, 20);
});

test('audit log: close() flushes what is buffered; entries it cannot insert by its deadline count as dropped', async () => {
  const ok = setup({ flushMs: 60_000 });
  for (let i = 0; i < 3; i++) ok.audit.record(entry(i));
  await ok.audit.close();
  assert.equal(ok.rows().length, 3);

  const down = setup({ flushMs: 60_000, closeTimeoutMs: 100 });
  down.state.down = true;
  down.audit.record(entry(0));
  const started = Date.now();
  await down.audit.close();
  assert.ok(Date.now() - started < 1_000, 'close() gives up after closeTimeoutMs');
  assert.equal(await down.metric('uspa_api_audit_dropped_total'), '1');
  assert.ok(down.lines.some((l) => l.includes('they are lost')));
});
