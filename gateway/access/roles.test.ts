import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PERMISSIONS, ROLES, ROLE_PERMISSIONS, allows } from './roles.ts';

test('admin has every permission; only admin replays dead letters', () => {
  for (const p of Object.keys(PERMISSIONS)) assert.ok(allows('admin', p as never), p);
  assert.deepEqual(ROLES.filter((r) => allows(r, 'pipelines:replay')), ['admin']);
});

test('only admin and privacy read the audit log; only admin, marketer and privacy see identifiers', () => {
  assert.deepEqual(ROLES.filter((r) => allows(r, 'audit:read')), ['admin', 'privacy']);
  assert.deepEqual(ROLES.filter((r) => allows(r, 'identifiers')), ['admin', 'marketer', 'privacy']);
});

test('reader and decisions write nothing; decisions reads no profile: it only decides', () => {
  for (const role of ['reader', 'decisions'] as const) assert.deepEqual(ROLE_PERMISSIONS[role].filter((p) => p.endsWith(':write') || p.endsWith(':replay') || p.endsWith(':export')), []);
  assert.deepEqual([...ROLE_PERMISSIONS.decisions], ['decisions:decide']);
});

test('every role names only known permissions', () => {
  for (const role of ROLES) for (const p of ROLE_PERMISSIONS[role]) assert.ok(p in PERMISSIONS, `${role}: ${p}`);
});
