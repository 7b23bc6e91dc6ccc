import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Warehouse } from '../../lib/clickhouse.ts';
import { rebuildProfiles } from './profiles.ts';

/** Answers the members query with `members` and every other read with nothing; keeps what is inserted. */
function warehouse(members: Array<{ profile_id: string; identities: string[] }>) {
  const inserted: Array<{ table: string; rows: Array<Record<string, unknown>> }> = [];
  const w = {
    async query(sql: string) {
      return sql.includes('groupArray(identity)') ? members : [];
    },
    async insert(table: string, rows: Array<Record<string, unknown>>) {
      inserted.push({ table, rows });
    },
  };
  return { w: w as unknown as Warehouse, inserted };
}

test('rebuildProfiles: pending identities are listed last; a profile of nothing else is written as deleted', async () => {
  const { w, inserted } = warehouse([
    { profile_id: 'p-1', identities: ['userId:u-1', 'previousId:x-1', 'anonymousId:a-1'] },
    { profile_id: 'p-2', identities: ['previousId:y-1'] },
  ]);
  const written = await rebuildProfiles(w, ['p-1', 'p-2'], [], new Date('2026-01-01T00:00:00.000Z'));
  assert.deepEqual(written, [
    { profileId: 'p-1', identities: ['anonymousId:a-1', 'userId:u-1', 'previousId:x-1'], deleted: false },
    { profileId: 'p-2', identities: [], deleted: true },
  ]);
  assert.deepEqual(inserted.map((i) => i.rows.map((r) => [r.profile_id, r.deleted, r.event_count ?? null])), [[['p-1', 0, 0]], [['p-2', 1, 0]]]);
});
