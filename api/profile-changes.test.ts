import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProfileChange } from './profile-changes.ts';

test('profile-changes records: a valid one passes (unknown fields dropped); each malformed field is named', () => {
  const record = { profileId: 'p-1', identities: ['userId:u-1', 'email:ada@example.com'], deleted: false, updatedAt: '2026-01-01T00:00:00.000Z' };
  assert.deepEqual(parseProfileChange({ ...record, extra: 1 }), { change: record });
  assert.deepEqual(parseProfileChange({ ...record, identities: [], deleted: true }).change?.deleted, true);
  assert.equal(parseProfileChange({ ...record, profileId: '' }).problem, 'profileId: must be a non-empty string');
  assert.equal(parseProfileChange({ ...record, identities: ['u-1'] }).problem, 'identities: must be an array of "type:value" strings');
  assert.equal(parseProfileChange({ ...record, identities: 'userId:u-1' }).problem, 'identities: must be an array of "type:value" strings');
  assert.equal(parseProfileChange({ ...record, deleted: 0 }).problem, 'deleted: must be a boolean');
  assert.equal(parseProfileChange({ ...record, updatedAt: 'yesterday' }).problem, 'updatedAt: must be an ISO 8601 time');
  assert.equal(parseProfileChange(null).problem, 'not a JSON object');
  assert.equal(parseProfileChange([record]).problem, 'not a JSON object');
});
