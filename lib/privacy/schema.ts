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
  'catalog_items',
  'activation_syncs',
];

/**
 * Tables that hold a person's pseudonymous id and are kept by an erasure, with the reason the
 * receipt gives. Access exports include them.
 */
export const KEPT_ON_ERASURE: Readonly<Record<string, string>> = {
  api_audit: "the API's audit log is kept for accountability (who read or changed what, when); it holds the profile id only, never an identity or the data",
};

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

/** The values a person's rows are matched on: ClickHouse query parameters of personPredicate. */
export interface PersonValues {
  identities: string[];
  profiles: string[];
  /** Raw ids as the events' columns hold them: user_id holds userIds, anonymous_id anonymousIds, previous_id either. */
  userIds: string[];
  anonymousIds: string[];
  previousIds: string[];
  /** re2 patterns matching a raw payload's `"<key>": "<value>"` for each identity (dead letters keep records as received). */
  patterns: string[];
}

const RAW_PARAMETER: Record<string, 'userIds' | 'anonymousIds' | 'previousIds'> = { user_id: 'userIds', anonymous_id: 'anonymousIds', previous_id: 'previousIds' };

const quoteMeta = (v: string) => v.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
const jsonString = (v: string) => JSON.stringify(v).slice(1, -1);

/** The match values of a resolved graph: identities are "<type>:<value>" (workers/pipeline/identity.ts). */
export function personValues(identities: readonly string[], profiles: readonly string[]): PersonValues {
  const split = identities.map((i) => ({ type: i.slice(0, i.indexOf(':')), value: i.slice(i.indexOf(':') + 1) })).filter((i) => i.type && i.value);
  const of = (type: string) => [...new Set(split.filter((i) => i.type === type).map((i) => i.value))].sort();
  const userIds = of('userId');
  const anonymousIds = of('anonymousId');
  const patterns = split.map(({ type, value }) => {
    const keys = type === 'userId' || type === 'anonymousId' ? 'userId|anonymousId|previousId' : quoteMeta(type);
    return `"(?:${keys})"\\s*:\\s*"${quoteMeta(jsonString(value))}"`;
  });
  return { identities: [...identities].sort(), profiles: [...profiles].sort(), userIds, anonymousIds, previousIds: [...new Set([...userIds, ...anonymousIds])].sort(), patterns: [...new Set(patterns)].sort() };
}

/** The WHERE clause (parameters of PersonValues) matching the person's rows of one table. */
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
        return `${name} IN {${RAW_PARAMETER[name] ?? 'previousIds'}:Array(String)}`;
      case 'text':
        // Keyed matches, never a bare value: another person's `"plan": "pro"` is not Ada's userId "pro".
        return `arrayExists(p -> match(${name}, p), {patterns:Array(String)})`;
    }
  });
  return parts.map((p) => `(${p})`).join(' OR ');
}
