import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MIGRATIONS, TABLES } from '../../api/tables/migrations.ts';
import { personPredicate, personTables, personValues, TABLES_WITHOUT_PEOPLE, type ColumnInfo } from './schema.ts';

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

test('the events table is matched on identity, profile and raw ids; a payload on keyed ids', () => {
  const events = personTables(columns).find((t) => t.table === 'events')!;
  assert.deepEqual(events.columns.map((c) => c.name).sort(), ['anonymous_id', 'identity', 'previous_id', 'profile_id', 'user_id']);
  const where = personPredicate(events).split(' OR ');
  for (const part of ['(identity IN {identities:Array(String)})', '(profile_id IN {profiles:Array(String)})', '(user_id IN {userIds:Array(String)})', '(anonymous_id IN {anonymousIds:Array(String)})', '(previous_id IN {previousIds:Array(String)})']) assert.ok(where.includes(part), part);
  const dead = personTables(columns).find((t) => t.table === 'dead_letters')!;
  assert.equal(personPredicate(dead).split(' OR ').filter((p) => p.includes('payload')).join(), '(arrayExists(p -> match(payload, p), {patterns:Array(String)}))');
  const profiles = personTables(columns).find((t) => t.table === 'profiles')!;
  assert.match(personPredicate(profiles), /hasAny\(identities, \{identities:Array\(String\)\}\)/);
});

test('match values: raw ids per column, keyed payload patterns that match the key and value only', () => {
  const v = personValues(['email:ada+1@example.com', 'userId:u1', 'anonymousId:a.1', 'userId:u1'], ['p2', 'p1']);
  assert.deepEqual(v.userIds, ['u1']);
  assert.deepEqual(v.anonymousIds, ['a.1']);
  assert.deepEqual(v.previousIds, ['a.1', 'u1']);
  assert.deepEqual(v.profiles, ['p1', 'p2']);
  const matches = (payload: string) => v.patterns.some((p) => new RegExp(p).test(payload));
  assert.ok(matches('{"type":"track","userId": "u1","event":"x"}'));
  assert.ok(matches('{"previousId":"a.1"}'));
  assert.ok(matches('{"traits":{"email":"ada+1@example.com"}}'));
  assert.ok(!matches('{"plan":"u1"}'), 'a value under another key is someone else');
  assert.ok(!matches('{"anonymousId":"a-1"}'), 'the dot is literal');
  assert.ok(!matches('{"userId":"u10"}'), 'no prefix matches');
  assert.ok(!matches('{"email":"ada+11@example.com"}'));
});
