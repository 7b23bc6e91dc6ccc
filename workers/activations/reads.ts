// What the activities read about people and segments: profiles (traits and figures for the
// templates and policies), identities → profile, the newest segment version.
import type { Warehouse } from '../../lib/clickhouse.ts';
import type { JsonObject } from '../../api/event.ts';

export interface Person {
  profileId: string;
  /** false: the pipeline has not stored this person (yet); no traits. */
  found: boolean;
  traits: JsonObject;
  /** The template's `profile`: { id, firstSeen, lastSeen, lifetimeRevenue, orderCount, eventCount }. */
  profile: Record<string, unknown>;
}

/** Someone without a stored profile: their id, nothing else. */
export function unknownPerson(profileId: string): Person {
  return { profileId, found: false, traits: {}, profile: { id: profileId } };
}

export function parseTraits(text: string | undefined): JsonObject {
  if (!text) return {};
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : {};
  } catch {
    return {};
  }
}

export async function profilesOf(w: Warehouse, ids: string[]): Promise<Map<string, Person>> {
  const out = new Map<string, Person>();
  if (ids.length === 0) return out;
  const rows = await w.query<{ profile_id: string; traits: string; first_seen: string; last_seen: string; lifetime_revenue: number; order_count: string; event_count: string }>(
    `SELECT profile_id, traits, first_seen, last_seen, lifetime_revenue, order_count, event_count
     FROM {db}.profiles FINAL WHERE profile_id IN {ids:Array(String)} AND deleted = 0`,
    { ids },
  );
  for (const r of rows) {
    out.set(r.profile_id, {
      profileId: r.profile_id,
      found: true,
      traits: parseTraits(r.traits),
      profile: { id: r.profile_id, firstSeen: r.first_seen, lastSeen: r.last_seen, lifetimeRevenue: Number(r.lifetime_revenue), orderCount: Number(r.order_count), eventCount: Number(r.event_count) },
    });
  }
  return out;
}

export async function profileOf(w: Warehouse, id: string): Promise<Person> {
  return (await profilesOf(w, [id])).get(id) ?? unknownPerson(id);
}

/**
 * The person's profile: by id (segment triggers), else through their identities (best first).
 * Someone the pipeline has not stored yet keeps their identity as profile id and has no traits.
 */
export async function resolvePerson(w: Warehouse, identities: string[], profileId?: string): Promise<Person> {
  let id = profileId;
  if (!id && identities.length > 0) {
    const rows = await w.query<{ identity: string; profile_id: string }>('SELECT identity, profile_id FROM {db}.identities FINAL WHERE identity IN {ids:Array(String)}', { ids: identities });
    const byIdentity = new Map(rows.map((r) => [r.identity, r.profile_id]));
    id = identities.map((i) => byIdentity.get(i)).find(Boolean);
  }
  if (!id) return unknownPerson(identities[0] ?? '');
  return profileOf(w, id);
}

/** The `n` of a `SELECT … AS n` query. */
export async function count(w: Warehouse, sql: string, params: Record<string, unknown>): Promise<number> {
  const [row] = await w.query<{ n: string }>(sql, params);
  return Number(row?.n ?? 0);
}

/** `(SELECT max(version) …)` of the Segment in query parameter `param`: its newest committed version. */
export function latestSegmentVersionSql(param: string): string {
  return `(SELECT max(version) FROM {db}.segment_versions WHERE segment = {${param}:String})`;
}
