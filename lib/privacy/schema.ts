// Which columns of the namespace's database can hold a person, found by scanning the schema
// (system.columns at run time; the unit test reads the migrations) rather than from a hand-kept list
// of tables: a table added later is either matched by its columns or refused until it is
// declared free of people, so an erasure cannot silently miss it.
import type { PersonColumnKind } from '../../api/privacy.ts';

export interface ColumnInfo {
  table: string;
  name: string;
  type: string;
}

/** Column names that hold a person, by how. Names mean one thing across tables. */
const PERSON_COLUMNS: Record<string, PersonColumnKind> = {
  identity: 'identity',
  a: 'identity',
  b: 'identity',
  identities: 'identities',
  profile_id: 'profile',
  merge_from: 'profile',
  merge_into: 'profile',
  target: 'profile',
  user_id: 'raw',
  anonymous_id: 'raw',
  previous_id: 'raw',
  payload: 'text',
};

/** Tables that hold no person: definitions, versions, state. Listed, so a new table must be decided. */
export const TABLES_WITHOUT_PEOPLE: readonly string[] = [
  'schema_migrations',
  'dead_letter_replays',
  'pipeline_state',
  'segment_versions',
  'segment_definitions',
  'model_versions',
  'item_recommendations',
  'activation_syncs',
];

export interface PersonTable {
  table: string;
  columns: { name: string; kind: PersonColumnKind }[];
}

/** The tables that can hold a person and the columns to match; throws naming any table nobody decided about. */
export function personTables(columns: readonly ColumnInfo[]): PersonTable[] {
  const byTable = new Map<string, PersonTable>();
  const seen = new Set<string>();
  for (const c of columns) {
    seen.add(c.table);
    const kind = PERSON_COLUMNS[c.name];
    if (!kind || !/String/.test(c.type)) continue;
    const entry = byTable.get(c.table) ?? { table: c.table, columns: [] };
    entry.columns.push({ name: c.name, kind });
    byTable.set(c.table, entry);
  }
  const undecided = [...seen].filter((t) => !byTable.has(t) && !TABLES_WITHOUT_PEOPLE.includes(t));
  if (undecided.length > 0) {
    throw new Error(`tables ${undecided.join(', ')} have no column known to hold a person and are not declared free of people (lib/privacy/schema.ts TABLES_WITHOUT_PEOPLE): decide before erasing`);
  }
  return [...byTable.values()].sort((x, y) => x.table.localeCompare(y.table));
}

/** Values matched per kind: identities, the profile ids of the graph, and the raw ids (the part after `type:`). */
export interface PersonValues {
  identities: string[];
  profileIds: string[];
  raw: string[];
}

export function rawValues(identities: readonly string[]): string[] {
  return [...new Set(identities.map((i) => i.slice(i.indexOf(':') + 1)).filter((v) => v.length > 0))].sort();
}

/** The WHERE clause (ClickHouse parameters {identities}, {profiles}, {raw}) matching the person's rows of one table. */
export function personPredicate(table: PersonTable): string {
  const parts = table.columns.map(({ name, kind }) => {
    switch (kind) {
      case 'identity':
        return `${name} IN {identities:Array(String)}`;
      case 'identities':
        return `hasAny(${name}, {identities:Array(String)})`;
      case 'profile':
        return `${name} IN {profiles:Array(String)}`;
      case 'raw':
        return `${name} IN {raw:Array(String)}`;
      case 'text':
        // A payload carries raw ids as JSON strings: match the quoted value, never a substring of another id.
        return `multiSearchAny(${name}, arrayMap(v -> concat('"', v, '"'), {raw:Array(String)}))`;
    }
  });
  return parts.map((p) => `(${p})`).join(' OR ');
}
