import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { Warehouse } from '../../lib/clickhouse.ts';
import { createLogger } from '../../lib/log.ts';
import { DEFAULT_CONFIG } from './identity.ts';
import { IdentityStore } from './identity-store.ts';
import { SerialQueue } from './serial-queue.ts';
import { UnmergeLoop, refusedUnmergeRow } from './unmerge.ts';

const where = { topic: 'uspa.shop.control.main', partition: 0, offset: '7' };

/** Records what the loop inserts and logs; the graph starts empty, so every edge id is unknown. */
function loop() {
  const inserts: Array<{ table: string; rows: unknown[] }> = [];
  const insert = (table: string, rows: unknown[]): Promise<void> => {
    inserts.push({ table, rows });
    return Promise.resolve();
  };
  const warehouse = { insert } as unknown as Warehouse;
  const logs: Array<{ msg: string; errors?: string[] }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(JSON.parse(String(chunk)) as { msg: string });
      done();
    },
  });
  const log = createLogger('test', 'info', sink);
  const identity = new IdentityStore(warehouse, DEFAULT_CONFIG, log);
  return { inserts, logs, unmerges: new UnmergeLoop(warehouse, identity, new SerialQueue(), log) };
}

test('a refused unmerge is answered by an unlink_failed edge naming the request and the reason', () => {
  assert.deepEqual(refusedUnmergeRow({ kind: 'unmerge', requestId: 'r-1', edgeId: 'e-1', reason: 'wrong', requestedAt: '2026-01-01T00:00:00.000Z' }, 'no such edge', '2026-01-01T00:00:01.000Z'), {
    id: 'unmerge-failed-r-1', a: '', b: '', action: 'unlink_failed', rule: 'unmerge', message_id: 'r-1', event_time: '2026-01-01 00:00:01.000',
    reason: 'no such edge', undoes: 'e-1', merge_from: '', merge_into: '',
  });
});

test('an unreadable control record is logged and skipped; the next command is still answered', async () => {
  const { inserts, logs, unmerges } = loop();
  await unmerges.onRecord(Buffer.from('{not json'), where);
  await unmerges.onRecord(Buffer.from(JSON.stringify({ kind: 'unmerge', edgeId: 'e-1' })), where);
  assert.deepEqual(inserts.map((i) => i.table), []);
  const skipped = logs.filter((l) => l.msg === 'unreadable control record skipped');
  assert.equal(skipped.length, 2);
  assert.match(skipped[0]!.errors![0]!, /^record value is not JSON: /);
  assert.deepEqual(skipped[1]!.errors, ['requestId: must be a non-empty string', 'reason: must be a string', 'requestedAt: must be a date-time string']);

  const command = { kind: 'unmerge', requestId: 'r-2', edgeId: 'e-404', reason: 'wrong merge', requestedAt: new Date().toISOString() };
  await unmerges.onRecord(Buffer.from(JSON.stringify(command)), where);
  assert.equal(inserts.length, 1);
  assert.equal(inserts[0]!.table, 'identity_edges');
  const [row, ...more] = inserts[0]!.rows as Array<Record<string, unknown>>;
  assert.deepEqual(more, []);
  assert.match(String(row!.event_time), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
  assert.deepEqual({ ...row, event_time: undefined }, {
    id: 'unmerge-failed-r-2', a: '', b: '', action: 'unlink_failed', rule: 'unmerge', message_id: 'r-2', event_time: undefined,
    reason: 'unknown edge e-404: no link edge has this id (only link edges can be undone)', undoes: 'e-404', merge_from: '', merge_into: '',
  });
});
