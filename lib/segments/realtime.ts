// Realtime Segments: re-evaluated for the profiles an event just changed, so membership moves
// within seconds. The state is segment_live (one row per segment and profile, newest wins); the
// scheduled batch run of a realtime Segment reconciles the same state (time windows expire without
// events), so both modes publish each entry and exit once and agree on the members.
import type { Warehouse } from '../clickhouse.ts';


export interface SegmentDefinition {
  segment: string;
  sql: string;
  params: Record<string, unknown>;
  revision: string;
}

export interface SegmentChange {
  segment: string;
  profileId: string;
  change: 'entered' | 'exited';
}

export async function loadRealtimeDefinitions(w: Warehouse): Promise<SegmentDefinition[]> {
  const rows = await w.query<{ segment: string; sql: string; params: string; revision: string }>("SELECT segment, sql, params, revision FROM {db}.segment_definitions FINAL WHERE deleted = 0 AND mode = 'realtime'");
  return rows.map((r) => ({ segment: r.segment, sql: r.sql, params: JSON.parse(r.params) as Record<string, unknown>, revision: r.revision }));
}

/** Current live membership of the given profiles in one Segment. */
async function liveMembers(w: Warehouse, segment: string, profileIds: string[]): Promise<Set<string>> {
  const rows = await w.query<{ profile_id: string }>(
    'SELECT profile_id FROM {db}.segment_live WHERE segment = {uspa_segment:String} AND profile_id IN {uspa_ids:Array(String)} GROUP BY profile_id HAVING argMax(member, changed_at) = 1',
    { uspa_segment: segment, uspa_ids: profileIds },
  );
  return new Set(rows.map((r) => r.profile_id));
}

/**
 * Evaluates every realtime Segment for these profiles, records what changed in segment_live and
 * returns the changes (the caller publishes them). Profiles deleted by a merge simply stop matching.
 */
export async function evaluateRealtime(w: Warehouse, definitions: SegmentDefinition[], profileIds: string[], now = new Date()): Promise<SegmentChange[]> {
  const ids = [...new Set(profileIds)];
  if (ids.length === 0 || definitions.length === 0) return [];
  const changes: SegmentChange[] = [];
  const at = now.toISOString().replace('T', ' ').replace('Z', '');
  for (const def of definitions) {
    for (let i = 0; i < ids.length; i += 1000) {
      const chunk = ids.slice(i, i + 1000);
      const matching = await w.query<{ profile_id: string }>(`SELECT DISTINCT profile_id FROM (${def.sql}) WHERE profile_id IN {uspa_ids:Array(String)}`, { ...def.params, uspa_ids: chunk });
      const matches = new Set(matching.map((r) => r.profile_id));
      const before = await liveMembers(w, def.segment, chunk);
      const rows: object[] = [];
      for (const id of chunk) {
        if (matches.has(id) === before.has(id)) continue;
        changes.push({ segment: def.segment, profileId: id, change: matches.has(id) ? 'entered' : 'exited' });
        rows.push({ segment: def.segment, profile_id: id, member: matches.has(id) ? 1 : 0, changed_at: at, origin: 'realtime' });
      }
      await w.insert('segment_live', rows);
    }
  }
  return changes;
}

/**
 * The batch side for a realtime Segment: brings segment_live to a computed version's members (for
 * the profiles whose id hash falls in `chunk`) and returns what changed.
 */
export async function reconcileLive(w: Warehouse, segment: string, version: number, chunk: number, chunks: number, now = new Date()): Promise<SegmentChange[]> {
  const rows = await w.query<{ profile_id: string; in_version: number; live: number }>(
    `SELECT profile_id, max(in_version) AS in_version, max(live) AS live FROM (
       SELECT profile_id, 1 AS in_version, 0 AS live FROM {db}.segment_members FINAL
       WHERE segment = {s:String} AND version = {v:UInt64} AND cityHash64(profile_id) % {n:UInt32} = {c:UInt32}
       UNION ALL
       SELECT profile_id, 0 AS in_version, argMax(member, changed_at) AS live FROM {db}.segment_live
       WHERE segment = {s:String} AND cityHash64(profile_id) % {n:UInt32} = {c:UInt32} GROUP BY profile_id
     ) GROUP BY profile_id HAVING in_version != live`,
    { s: segment, v: version, n: chunks, c: chunk },
  );
  const at = now.toISOString().replace('T', ' ').replace('Z', '');
  await w.insert('segment_live', rows.map((r) => ({ segment, profile_id: r.profile_id, member: Number(r.in_version), changed_at: at, origin: 'batch' })));
  return rows.map((r) => ({ segment, profileId: r.profile_id, change: Number(r.in_version) ? 'entered' : 'exited' }));
}
