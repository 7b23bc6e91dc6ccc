// What ClickHouse knows of Segments: the newest complete version (segment_versions), version
// history and members (live membership: lib/segments/live.ts). The SQL is fixed text; every value is a
// query parameter. Keys are `<namespace>/<name>` as in api/tables/segments.ts.
import type { Warehouse } from '../../lib/clickhouse.ts';

export interface ComputedVersion {
  version: number;
  size: number;
  computedAt: string;
}

/** ClickHouse DateTime64 text (UTC) → ISO 8601. */
export function isoTime(value: string): string {
  return new Date(`${value.replace(' ', 'T')}Z`).toISOString();
}

/** The newest complete version of each Segment key (absent: never computed). */
export async function latestVersions(w: Warehouse, keys: string[]): Promise<Map<string, ComputedVersion>> {
  if (keys.length === 0) return new Map();
  const rows = await w.query<{ segment: string; v: string; n: string; at: string }>(
    `SELECT segment, max(version) AS v, argMax(size, version) AS n, argMax(computed_at, version) AS at
     FROM {db}.segment_versions FINAL WHERE segment IN {keys:Array(String)} GROUP BY segment`,
    { keys },
  );
  return new Map(rows.map((r) => [r.segment, { version: Number(r.v), size: Number(r.n), computedAt: isoTime(r.at) }]));
}

/** Live membership counts of realtime Segment keys. */
/** Versions older than `before` (all when undefined), newest first; one more than `limit` tells there are more. */
export async function versionHistory(w: Warehouse, key: string, limit: number, before?: number): Promise<{ versions: ComputedVersion[]; more: boolean }> {
  const rows = await w.query<{ version: string; size: string; computed_at: string }>(
    `SELECT version, size, computed_at FROM {db}.segment_versions FINAL
     WHERE segment = {key:String}${before === undefined ? '' : ' AND version < {before:UInt64}'}
     ORDER BY version DESC LIMIT {limit:UInt32}`,
    { key, limit: limit + 1, ...(before === undefined ? {} : { before }) },
  );
  return { versions: rows.slice(0, limit).map((r) => ({ version: Number(r.version), size: Number(r.size), computedAt: isoTime(r.computed_at) })), more: rows.length > limit };
}

/** Where the current members are: a batch Segment's newest version, a realtime Segment's live state. */
export type MemberSource = { mode: 'batch'; key: string; version: number } | { mode: 'realtime'; key: string };

export interface MemberQuery {
  query: string;
  params: Record<string, unknown>;
}

/**
 * The members of a source, each once, with their profile's identities when asked. A page (after,
 * limit) is ordered by profile id; a full export is not ordered, so ClickHouse can stream it.
 */
export function membersQuery(source: MemberSource, options: { identities: boolean; page?: { after?: string; limit: number } }): MemberQuery {
  const { page } = options;
  const after = page?.after === undefined ? '' : ' AND profile_id > {after:String}';
  const order = page ? ' ORDER BY profile_id LIMIT {limit:UInt32}' : '';
  const members =
    source.mode === 'batch'
      ? `SELECT DISTINCT profile_id FROM {db}.segment_members WHERE segment = {key:String} AND version = {version:UInt64}${after}${order}`
      : `SELECT profile_id FROM {db}.segment_live WHERE segment = {key:String}${after} GROUP BY profile_id HAVING argMax(member, changed_at) = 1${order}`;
  const params: Record<string, unknown> = { key: source.key, ...(source.mode === 'batch' ? { version: source.version } : {}), ...(page ? { limit: page.limit } : {}), ...(page?.after === undefined ? {} : { after: page.after }) };
  // Columns named as the API names them, so a row's JSON is already the member.
  if (!options.identities) return { query: `SELECT profile_id AS profileId FROM (${members})${page ? ' ORDER BY profileId' : ''}`, params };
  // Merged-away (deleted) profiles keep no identities: the member row stays, with [].
  const query = `WITH members AS (${members})
    SELECT m.profile_id AS profileId, p.identities AS identities FROM members AS m
    LEFT JOIN (SELECT profile_id, identities FROM {db}.profiles FINAL WHERE profile_id IN (SELECT profile_id FROM members) AND deleted = 0) AS p ON p.profile_id = m.profile_id${page ? ' ORDER BY profileId' : ''}`;
  return { query, params };
}

/** The SQL as the Warehouse would send it (its database for {db}), for the client's streaming API. */
export function inDatabase(w: Warehouse, sql: string): string {
  return sql.replaceAll('{db}', w.database);
}
