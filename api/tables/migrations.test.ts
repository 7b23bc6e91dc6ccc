import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MIGRATIONS, TABLES } from './migrations.ts';

test('migrations: numbered 1…n without gaps, each statement an idempotent CREATE or ADD COLUMN in {db}', () => {
  assert.deepEqual(MIGRATIONS.map((m) => m.version), MIGRATIONS.map((_, i) => i + 1));
  for (const m of MIGRATIONS) for (const s of m.statements) assert.match(s, /^\s*(--[^\n]*\n\s*)*(CREATE TABLE IF NOT EXISTS \{db\}\.\w+ \(|ALTER TABLE \{db\}\.\w+ ADD COLUMN IF NOT EXISTS \w+ )/, `migration ${m.version}: ${s.slice(0, 60)}`);
});

test('tables: every table of a namespace once, by name', () => {
  assert.equal(new Set(TABLES).size, TABLES.length, `a table is created twice: ${TABLES.join(', ')}`);
  assert.deepEqual(TABLES.slice(0, 6), ['events', 'identity_edges', 'identities', 'identity_traits', 'profiles', 'dead_letters']);
  for (const t of ['segment_versions', 'segment_members', 'segment_live', 'model_versions', 'activation_deliveries', 'activation_conversions']) assert.ok(TABLES.includes(t), `${t} missing from ${TABLES.join(', ')}`);
});
