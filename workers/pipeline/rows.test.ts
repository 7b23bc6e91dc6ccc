import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CanonicalEvent } from '../../api/event.ts';
import { traitRows, traitTime } from './rows.ts';

const now = new Date('2026-06-01T12:00:00.000Z');
const identify = (timestamp: string, receivedAt = '2026-06-01T11:00:00.000Z'): CanonicalEvent => ({
  type: 'identify', messageId: 'm-1', userId: 'u-1', timestamp, receivedAt, properties: {}, traits: { plan: 'pro' }, context: {}, integrations: {}, source: 'web',
});

test('traitTime: the event time, but never after it was received nor after now', () => {
  assert.equal(traitTime(identify('2026-05-01T00:00:00.000Z'), now), '2026-05-01T00:00:00.000Z');
  assert.equal(traitTime(identify('2099-01-01T00:00:00.000Z'), now), '2026-06-01T11:00:00.000Z');
  // A forged receivedAt in the future too: now bounds it.
  assert.equal(traitTime(identify('2099-01-01T00:00:00.000Z', '2098-01-01T00:00:00.000Z'), now), '2026-06-01T12:00:00.000Z');
  assert.equal(traitTime(identify('1900-01-01T00:00:00.000Z'), now), '1900-01-01T00:00:00.000Z');
});

test('traitRows carry the trait time, the event keeps its own', () => {
  assert.deepEqual(traitRows(identify('2099-01-01T00:00:00.000Z'), 'userId:u-1', now), [
    { identity: 'userId:u-1', trait: 'plan', value: '"pro"', event_time: '2026-06-01 11:00:00.000', message_id: 'm-1' },
  ]);
});
