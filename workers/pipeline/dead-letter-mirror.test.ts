import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeadLetter } from '../../api/event.ts';
import { deadLetterRow, readDeadLetter } from './dead-letter-mirror.ts';

const letter: DeadLetter = {
  stage: 'pipeline:main', source: 'web', reason: 'invalid_event', errors: ['type: must be one of track, identify'], payload: { type: 'nope', messageId: 'm-1' },
  messageId: 'm-1', origin: { topic: 'uspa.events.web', partition: 2, offset: '41' }, failedAt: '2026-01-01T00:00:00.000Z',
};
const readAt = { topic: 'uspa.dead-letters.web', partition: 0, offset: '9' };

test('a dead letter becomes a row that points at the record that failed', () => {
  assert.deepEqual(deadLetterRow(letter, readAt), {
    failed_at: '2026-01-01 00:00:00.000', stage: 'pipeline:main', source: 'web', reason: 'invalid_event', errors: ['type: must be one of track, identify'],
    message_id: 'm-1', payload: '{"type":"nope","messageId":"m-1"}', topic: 'uspa.events.web', partition: 2, offset: '41',
  });
});

test('a dead letter without origin or messageId points at where it was read', () => {
  const { origin: _origin, messageId: _id, ...collector } = letter;
  const row = deadLetterRow({ ...collector, stage: 'collector' }, readAt);
  assert.deepEqual([row.message_id, row.topic, row.partition, row.offset], ['', 'uspa.dead-letters.web', 0, '9']);
});

test('readDeadLetter: a record that is no dead letter says what is wrong with it', () => {
  assert.deepEqual(readDeadLetter(Buffer.from(JSON.stringify(letter))), { ok: true, letter });
  assert.deepEqual(readDeadLetter(null), { ok: false, error: 'record value is not JSON: Unexpected end of JSON input' });
  assert.deepEqual(readDeadLetter(Buffer.from('"a string"')), { ok: false, error: 'record value must be a JSON object' });
  assert.deepEqual(readDeadLetter(Buffer.from(JSON.stringify({ ...letter, stage: 1, errors: 'x', failedAt: 'yesterday', origin: { topic: 't' } }))), {
    ok: false,
    error: 'stage: must be a string; failedAt: must be a date-time; errors: must be an array of strings; origin: must be { topic: string, partition: integer, offset: string }',
  });
  const read = readDeadLetter(Buffer.from(JSON.stringify({ ...letter, failedAt: '2026-01-01t01:00:00+01:00' })));
  assert.equal(read.ok && read.letter.failedAt, '2026-01-01T00:00:00.000Z');
});
