import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseControlRecord, type UnmergeCommand } from './control.ts';

const command: UnmergeCommand = { kind: 'unmerge', requestId: 'r-1', edgeId: 'e-1', reason: 'shared device', requestedAt: '2026-01-01T00:00:00.000Z' };

test('an unmerge record parses to its command, extra fields dropped', () => {
  assert.deepEqual(parseControlRecord(Buffer.from(JSON.stringify({ ...command, extra: 1 }))), { ok: true, command });
  assert.deepEqual(parseControlRecord(JSON.stringify({ ...command, reason: '' })), { ok: true, command: { ...command, reason: '' } });
});

test('a record that is not JSON says so', () => {
  const parsed = parseControlRecord(Buffer.from('{not json'));
  assert.equal(parsed.ok, false);
  assert.equal(parsed.ok ? undefined : parsed.errors.length, 1);
  assert.match(parsed.ok ? '' : parsed.errors[0]!, /^record value is not JSON: /);
});

test('a record without a value or that is no object says so', () => {
  assert.deepEqual(parseControlRecord(null), { ok: false, errors: ['record has no value'] });
  assert.deepEqual(parseControlRecord('[1]'), { ok: false, errors: ['record value must be a JSON object'] });
  assert.deepEqual(parseControlRecord('"unmerge"'), { ok: false, errors: ['record value must be a JSON object'] });
});

test('an unknown kind is named', () => {
  assert.deepEqual(parseControlRecord(JSON.stringify({ ...command, kind: 'merge' })), { ok: false, errors: ['kind: must be "unmerge" or "forget", got "merge"'] });
  assert.deepEqual(parseControlRecord(JSON.stringify({ edgeId: 'e-1' })), { ok: false, errors: ['kind: must be "unmerge" or "forget", got nothing'] });
});

test('every malformed field is named', () => {
  assert.deepEqual(parseControlRecord(JSON.stringify({ kind: 'unmerge', requestId: '', edgeId: 7, requestedAt: 'yesterday' })), {
    ok: false,
    errors: ['requestId: must be a non-empty string', 'edgeId: must be a non-empty string', 'reason: must be a string', 'requestedAt: must be a date-time string'],
  });
});

test('a forget command names only its request', () => {
  const forget = { kind: 'forget', requestId: 'r-2', requestedAt: '2026-01-01T00:00:00.000Z' };
  assert.deepEqual(parseControlRecord(JSON.stringify({ ...forget, identities: ['email:ada@example.com'] })), { ok: true, command: forget });
  assert.deepEqual(parseControlRecord(JSON.stringify({ kind: 'forget', requestedAt: 'soon' })), { ok: false, errors: ['requestId: must be a non-empty string', 'requestedAt: must be a date-time string'] });
});
