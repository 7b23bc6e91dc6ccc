import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MIGRATIONS, TABLES } from '../../api/tables/migrations.ts';
import { personPredicate, personTables, rawValues, TABLES_WITHOUT_PEOPLE, type ColumnInfo } from './schema.ts';

/** Parses the column names and types of migration statements: the offline twin of system.columns. */
function columnsOfStatements(statements: readonly string[]): ColumnInfo[] {
  const out: ColumnInfo[] = [];
  for (const s of statements) {
    const create = /CREATE TABLE IF NOT EXISTS \{db\}\.(\w+) \(([\s\S]*)\)\s*ENGINE/.exec(s);
    if (create) {
      for (const line of create[2]!.split('\n')) {
        const m = /^\s*(\w+) (.+?)(?: DEFAULT .*| COMMENT .*)?,?$/.exec(line);
        if (m && m[1] !== 'INDEX') out.push({ table: create[1]!, name: m[1]!, type: m[2]! });
      }
      continue;
    }
    const alter = /ALTER TABLE \{db\}\.(\w+) ADD COLUMN IF NOT EXISTS (\w+) (\S+)/.exec(s);
    if (alter) out.push({ table: alter[1]!, name: alter[2]!, type: alter[3]! });
  }
  return out;
}

const columns = columnsOfStatements(MIGRATIONS.flatMap((m) => m.statements));

test('every table of the schema is either matched by a person column or declared free of people', () => {
  const tables = personTables(columns).map((t) => t.table);
  for (const t of TABLES) assert.ok(tables.includes(t) || TABLES_WITHOUT_PEOPLE.includes(t), `table ${t} undecided`);
  for (const t of ['events', 'identities', 'identity_edges', 'identity_traits', 'profiles', 'dead_letters', 'segment_members', 'segment_live', 'activation_deliveries', 'activation_conversions', 'profile_personas', 'profile_recommendations', 'api_audit']) {
    assert.ok(tables.includes(t), `${t} must be erased`);
  }
});

test('a table added later with no known person column is refused until someone decides', () => {
  const added = [...columns, { table: 'loyalty_points', name: 'member', type: 'String' }];
  assert.throws(() => personTables(added), /loyalty_points .*TABLES_WITHOUT_PEOPLE/);
});

test('the events table is matched on identity, profile and raw ids; a payload on quoted raw ids', () => {
  const events = personTables(columns).find((t) => t.table === 'events')!;
  assert.deepEqual(events.columns.map((c) => c.name).sort(), ['anonymous_id', 'identity', 'previous_id', 'profile_id', 'user_id']);
  const where = personPredicate(events).split(' OR ');
  for (const part of ['(identity IN {identities:Array(String)})', '(profile_id IN {profiles:Array(String)})', '(user_id IN {raw:Array(String)})']) assert.ok(where.includes(part), part);
  const dead = personTables(columns).find((t) => t.table === 'dead_letters')!;
  assert.match(personPredicate(dead), /multiSearchAny\(payload, arrayMap\(v -> concat\('"', v, '"'\)/);
  const profiles = personTables(columns).find((t) => t.table === 'profiles')!;
  assert.match(personPredicate(profiles), /hasAny\(identities, \{identities:Array\(String\)\}\)/);
});

test('raw values are the identities without their type, deduplicated', () => {
  assert.deepEqual(rawValues(['email:ada@example.com', 'user:u1', 'anonymous:u1', 'bad:']), ['ada@example.com', 'u1']);
});
