// Realtime Segments' live membership (segment_live: one row per segment and profile, newest wins):
// how many are members now, read by the API's Segment views and the operator's status alike.
import type { Warehouse } from '../clickhouse.ts';

export interface LiveState {
  /** Profiles whose newest live row says member. */
  members: number;
  /** Profiles with any live row (0: the pipeline never evaluated the Segment). */
  profiles: number;
}

/** Live state per Segment key; `keys` undefined: every key starting with `prefix`. */
export async function liveStates(w: Warehouse, keys: string[] | { prefix: string }): Promise<Map<string, LiveState>> {
  if (Array.isArray(keys) && keys.length === 0) return new Map();
  const where = Array.isArray(keys) ? 'segment IN {keys:Array(String)}' : 'startsWith(segment, {prefix:String})';
  const rows = await w.query<{ segment: string; members: string; profiles: string }>(
    `SELECT segment, countIf(m = 1) AS members, count() AS profiles FROM (
       SELECT segment, profile_id, argMax(member, changed_at) AS m FROM {db}.segment_live
       WHERE ${where} GROUP BY segment, profile_id
     ) GROUP BY segment`,
    Array.isArray(keys) ? { keys } : { prefix: keys.prefix },
  );
  return new Map(rows.map((r) => [r.segment, { members: Number(r.members), profiles: Number(r.profiles) }]));
}
