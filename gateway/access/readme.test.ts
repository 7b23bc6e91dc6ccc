// The README's permission matrix is the code's: a cell changed on one side only fails here, as does
// an endpoint missing from the table (the endpoints of a row are read from the OpenAPI document).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { offlineDocument } from '../openapi/print.ts';
import { PERMISSIONS, ROLES, ROLE_PERMISSIONS } from './roles.ts';

const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

function matrix(): Map<string, { roles: string[]; endpoints: string[] }> {
  const section = readme.split('\n#### Who may do what')[1]?.split('\n#')[0];
  assert.ok(section, 'README has a "Who may do what" section');
  const header = section.split('\n').find((l) => l.startsWith('| permission'));
  assert.ok(header, 'the matrix has a header row');
  const columns = header.split('|').map((c) => c.trim());
  assert.deepEqual(columns.slice(2, 2 + ROLES.length), [...ROLES], 'one column per role, in order');
  const rows = new Map<string, { roles: string[]; endpoints: string[] }>();
  for (const line of section.split('\n').filter((l) => /^\| `[a-z:]+` \|/.test(l))) {
    const cells = line.split('|').map((c) => c.trim());
    const permission = cells[1]!.replace(/`/g, '');
    const roles = ROLES.filter((_r, i) => cells[2 + i] === '✓');
    const endpoints = [...cells[2 + ROLES.length]!.matchAll(/`(GET|POST|PUT|PATCH|DELETE) ([^`]+)`/g)].map((m) => `${m[1]} ${m[2]}`).sort();
    rows.set(permission, { roles, endpoints });
  }
  return rows;
}

test('the README matrix gives every permission to exactly the roles the code does', () => {
  const rows = matrix();
  assert.deepEqual([...rows.keys()].sort(), Object.keys(PERMISSIONS).sort());
  for (const [permission, row] of rows) assert.deepEqual(row.roles, ROLES.filter((r) => (ROLE_PERMISSIONS[r] as readonly string[]).includes(permission)), permission);
});

test('the README matrix lists every endpoint under the permission it needs', () => {
  const rows = matrix();
  const byPermission = new Map<string, string[]>();
  const paths = offlineDocument().paths as Record<string, Record<string, { 'x-uspa-permission'?: string }>>;
  for (const [path, methods] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const p = op['x-uspa-permission'];
      if (p) byPermission.set(p, [...(byPermission.get(p) ?? []), `${method.toUpperCase()} ${path}`]);
    }
  }
  for (const [permission, row] of rows) {
    if (permission === 'identifiers') continue;
    assert.deepEqual(row.endpoints, (byPermission.get(permission) ?? []).sort(), `endpoints needing ${permission}`);
  }
});
