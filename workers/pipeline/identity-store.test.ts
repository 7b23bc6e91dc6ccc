import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Edge } from './identity.ts';
import { assignmentRow, edgeOfRow, edgeRow, isoOf, type StoredEdge } from './identity-store.ts';

const link: Edge = {
  id: 'e-1', a: 'userId:u-1', b: 'anonymousId:a-1', action: 'link', rule: 'identify', messageId: 'm-1',
  eventTime: '2024-01-01T00:00:01.250Z', merge: { from: 'p-old', into: 'p-new' },
};

test('ClickHouse times read back as ISO UTC; ISO stays as it is', () => {
  assert.equal(isoOf('2024-01-01 00:00:01.250'), '2024-01-01T00:00:01.250Z');
  assert.equal(isoOf('2024-01-01T00:00:01.250Z'), '2024-01-01T00:00:01.250Z');
});

test('an edge becomes a row with empty strings for absent fields', () => {
  assert.deepEqual(edgeRow(link), {
    id: 'e-1', a: 'userId:u-1', b: 'anonymousId:a-1', action: 'link', rule: 'identify', message_id: 'm-1',
    event_time: '2024-01-01 00:00:01.250', reason: '', undoes: '', merge_from: 'p-old', merge_into: 'p-new',
  });
});

test('a stored edge reads back as the edge that was written', () => {
  const stored = (e: Edge): StoredEdge => {
    const row = edgeRow(e);
    return { id: row.id, a: row.a, b: row.b, action: e.action, rule: row.rule, messageId: row.message_id, eventTime: row.event_time, reason: row.reason, undoes: row.undoes, mergeFrom: row.merge_from, mergeInto: row.merge_into };
  };
  // Absent fields read back as undefined, as the graph's load expects.
  assert.deepEqual(edgeOfRow(stored(link)), { ...link, reason: undefined, undoes: undefined });
  const unlink: Edge = { id: 'e-2', a: link.a, b: link.b, action: 'unlink', rule: 'unmerge', messageId: 'r-1', eventTime: '2024-01-02T00:00:00.000Z', reason: 'shared device', undoes: 'e-1' };
  assert.deepEqual(edgeOfRow(stored(unlink)), unlink);
});

test('an assignment becomes a versioned row', () => {
  assert.deepEqual(assignmentRow({ identity: 'userId:u-1', profileId: 'p-1', firstSeen: '2024-01-01T00:00:00.000Z' }, 42), {
    identity: 'userId:u-1', profile_id: 'p-1', first_seen: '2024-01-01 00:00:00.000', version: 42,
  });
});
