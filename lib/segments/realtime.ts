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
  /** The Segment's metadata.generation it was written for (0 or absent: not recorded). */
  generation?: number;
}

export interface SegmentChange {
  segment: string;
  profileId: string;
  change: 'entered' | 'exited';
}

/** The definitions the pipelines evaluate; one whose params are unreadable is left out and named in `unreadable`. */
export async function loadRealtimeDefinitions(w: Warehouse): Promise<{ definitions: SegmentDefinition[]; unreadable: Array<{ segment: string; revision: string; generation: number; error: string }> }> {
  const rows = await w.query<{ segment: string; sql: string; params: string; revision: string; generation: string }>(
    "SELECT segment, sql, params, revision, generation FROM {db}.segment_definitions FINAL WHERE deleted = 0 AND mode = 'realtime'",
  );
  const definitions: SegmentDefinition[] = [];
  const unreadable: Array<{ segment: string; revision: string; generation: number; error: string }> = [];
  for (const r of rows) {
    const generation = Number(r.generation);
    try {
      const params: unknown = JSON.parse(r.params);
      if (typeof params !== 'object' || params === null || Array.isArray(params)) throw new Error('params must be a JSON object');
      definitions.push({ segment: r.segment, sql: r.sql, params: params as Record<string, unknown>, revision: r.revision, generation });
    } catch (err) {
      unreadable.push({ segment: r.segment, revision: r.revision, generation, error: (err as Error).message });
    }
  }
  return { definitions, unreadable };
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
 * How one realtime Segment's membership of these profiles differs from segment_live. Writes
 * nothing: the caller publishes the changes, then records them (recordLive), so a failed or
 * interrupted publish leaves the difference in place for the next evaluation to publish again.
 * Profiles deleted by a merge simply stop matching.
 */
export async function realtimeChanges(w: Warehouse, def: SegmentDefinition, profileIds: string[]): Promise<SegmentChange[]> {
  const ids = [...new Set(profileIds)];
  const changes: SegmentChange[] = [];
  for (let i = 0; i < ids.length; i += 1000) {
    const chunk = ids.slice(i, i + 1000);
    const matching = await w.query<{ profile_id: string }>(`SELECT DISTINCT profile_id FROM (${def.sql}) WHERE profile_id IN {uspa_ids:Array(String)}`, { ...def.params, uspa_ids: chunk });
    const matches = new Set(matching.map((r) => r.profile_id));
    const before = await liveMembers(w, def.segment, chunk);
    for (const id of chunk) {
      if (matches.has(id) !== before.has(id)) changes.push({ segment: def.segment, profileId: id, change: matches.has(id) ? 'entered' : 'exited' });
    }
  }
  return changes;
}

/** Records published changes as the live state (after they were published, never before). */
export async function recordLive(w: Warehouse, changes: SegmentChange[], origin: 'realtime' | 'batch', now = new Date()): Promise<void> {
  const at = now.toISOString().replace('T', ' ').replace('Z', '');
  await w.insert('segment_live', changes.map((c) => ({ segment: c.segment, profile_id: c.profileId, member: c.change === 'entered' ? 1 : 0, changed_at: at, origin })));
}

/**
 * The batch side for a realtime Segment: how segment_live differs from a computed version's members
 * (for the profiles whose id hash falls in `chunk`). Writes nothing: publish, then recordLive.
 */
export async function liveDifferences(w: Warehouse, segment: string, version: number, chunk: number, chunks: number): Promise<SegmentChange[]> {
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
  return rows.map((r) => ({ segment, profileId: r.profile_id, change: Number(r.in_version) ? 'entered' : 'exited' }));
}
