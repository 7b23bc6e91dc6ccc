// Profiles read straight from ClickHouse: the cache's miss path. A load is ONE query (a UNION ALL
// of small, primary-key lookups) so that its cost is one round trip whatever the profile holds.
import type { Json, JsonObject } from '../../api/event.ts';
import type { WorkloadConfig } from '../../api/workload.ts';
import type { Warehouse } from '../../lib/clickhouse.ts';
import { consentStates } from '../../lib/consent.ts';
import type { ProfileDocument, ProfileTrait } from './document.ts';
import { identityTypes } from './identity.ts';
import type { ProfileStore } from './store.ts';

/** ClickHouse's DateTime64 text ("2026-01-02 03:04:05.678") → ISO 8601. */
export function isoTime(text: string): string {
  return text.includes('T') ? text : `${text.replace(' ', 'T')}Z`;
}

/** A Segment's name from its key "<namespace>/<name>". */
export function segmentName(key: string): string {
  return key.slice(key.indexOf('/') + 1);
}

// The profile's identities as its newest row lists them (the pipeline rebuilds it on every change).
const IDS = `(SELECT arrayJoin(ids) FROM (SELECT argMax(identities, updated_at) AS ids FROM {db}.profiles WHERE profile_id = {profile:String}))`;
const REALTIME = `(SELECT segment FROM {db}.segment_definitions FINAL WHERE deleted = 0 AND mode = 'realtime')`;
// Last write wins across the profile's identities by (event time, message id), as the rebuild does.
const LATEST_TRAITS = `SELECT trait, argMax(value, (event_time, message_id)) AS value, max(event_time) AS at, max((event_time, message_id)).2 AS id
  FROM {db}.identity_traits WHERE identity IN ${IDS} GROUP BY trait`;

/** Identities in the order of the Pipelines' keys (highest priority first), then by value. */
export function byPriority(identities: readonly string[], types: readonly string[]): string[] {
  const rank = (i: string) => {
    const at = types.indexOf(i.slice(0, i.indexOf(':')));
    return at < 0 ? types.length : at;
  };
  return [...identities].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** Rows of one shape: kind says which part of the profile a row is. */
interface Row {
  kind: 'profile' | 'trait' | 'persona' | 'live' | 'latest' | 'member';
  k: string;
  v: string;
  at: string;
  n: string;
  x: string;
}

export const LOAD_SQL = `
(SELECT 'profile' AS kind, toJSONString(identities) AS k, toJSONString(event_counts) AS v, toString(updated_at) AS at, toString(deleted) AS n,
        toJSONString(map('firstSeen', toString(first_seen), 'lastSeen', toString(last_seen), 'eventCount', toString(event_count),
          'lifetimeRevenue', toString(lifetime_revenue), 'orderCount', toString(order_count), 'lastOrderAt', ifNull(toString(last_order_at), ''),
          'recency', toString(rfm_recency), 'frequency', toString(rfm_frequency), 'monetary', toString(rfm_monetary), 'interests', toJSONString(interests))) AS x
 FROM {db}.profiles WHERE profile_id = {profile:String} ORDER BY updated_at DESC LIMIT 1)
UNION ALL
(SELECT 'trait', t.trait, t.value, toString(t.at), t.id, ifNull(e.source, '')
 FROM (${LATEST_TRAITS}) AS t
 LEFT JOIN (SELECT message_id, any(source) AS source FROM {db}.events
            WHERE identity IN ${IDS} AND message_id IN (SELECT id FROM (${LATEST_TRAITS})) GROUP BY message_id) AS e ON e.message_id = t.id
 SETTINGS join_use_nulls = 1)
UNION ALL
(SELECT 'persona', persona, toString(cluster), '', toString(model_version), ''
 FROM {db}.profile_personas
 WHERE model_version = (SELECT max(version) FROM {db}.model_versions WHERE model = 'personas') AND profile_id = {profile:String} LIMIT 1)
UNION ALL
(SELECT 'live', segment, '', toString(max(changed_at)), '', ''
 FROM {db}.segment_live WHERE segment IN ${REALTIME} AND profile_id = {profile:String}
 GROUP BY segment HAVING argMax(member, changed_at) = 1)
UNION ALL
(SELECT 'latest', segment, '', '', toString(max(version)), '' FROM {db}.segment_versions WHERE segment NOT IN ${REALTIME} GROUP BY segment)
UNION ALL
(SELECT 'member', m.segment, '', toString(v.computed_at), toString(m.version), ''
 FROM (SELECT DISTINCT segment, version FROM {db}.segment_members WHERE segment NOT IN ${REALTIME} AND profile_id = {profile:String}) AS m
 INNER JOIN (SELECT segment, version, max(computed_at) AS computed_at FROM {db}.segment_versions GROUP BY segment, version) AS v
   ON v.segment = m.segment AND v.version = m.version)`;

export class ClickHouseProfiles implements ProfileStore {
  constructor(
    private readonly warehouse: Warehouse,
    readonly config: WorkloadConfig,
  ) {}

  private identityTypes?: string[];

  async resolve(identity: string): Promise<string | undefined> {
    const [row] = await this.warehouse.query<{ profile_id: string }>(
      'SELECT argMax(profile_id, version) AS profile_id FROM {db}.identities WHERE identity = {identity:String} GROUP BY identity',
      { identity },
    );
    return row?.profile_id || undefined;
  }

  async load(profileId: string): Promise<ProfileDocument | undefined> {
    const rows = await this.warehouse.query<Row>(LOAD_SQL, { profile: profileId });
    return assemble(profileId, rows, this.types);
  }

  private get types(): string[] {
    return (this.identityTypes ??= identityTypes(this.config));
  }
}

/**
 * The document from the rows of LOAD_SQL. A batch Segment's member is in its latest complete
 * version; since = computed_at of the oldest version of the unbroken run of kept versions that
 * hold it (older versions are pruned, so "since" is at most as old as the oldest kept one). A
 * realtime Segment's member is live now; since = its last change in segment_live.
 */
export function assemble(profileId: string, rows: Row[], types: readonly string[] = []): ProfileDocument | undefined {
  const profile = rows.find((r) => r.kind === 'profile');
  if (!profile || profile.n === '1') return undefined;
  const c = JSON.parse(profile.x) as Record<string, string>;
  const traits: Record<string, ProfileTrait> = {};
  const values: JsonObject = {};
  for (const r of rows.filter((r) => r.kind === 'trait').sort((a, b) => a.k.localeCompare(b.k))) {
    const value = JSON.parse(r.v) as Json;
    traits[r.k] = { value, setAt: isoTime(r.at), source: r.x, messageId: r.n };
    values[r.k] = value;
  }
  const p = rows.find((r) => r.kind === 'persona');
  const segments: ProfileDocument['segments'] = rows.filter((r) => r.kind === 'live').map((r) => ({ segment: segmentName(r.k), since: isoTime(r.at) }));
  const memberOf = new Map<string, Map<number, string>>();
  for (const r of rows.filter((r) => r.kind === 'member')) {
    const versions = memberOf.get(r.k) ?? new Map<number, string>();
    versions.set(Number(r.n), r.at);
    memberOf.set(r.k, versions);
  }
  for (const latest of rows.filter((r) => r.kind === 'latest')) {
    const versions = memberOf.get(latest.k);
    let v = Number(latest.n);
    if (!versions?.has(v)) continue;
    while (versions.has(v - 1)) v--;
    segments.push({ segment: segmentName(latest.k), since: isoTime(versions.get(v)!) });
  }
  segments.sort((a, b) => a.segment.localeCompare(b.segment));
  return {
    profileId,
    identities: byPriority(JSON.parse(profile.k) as string[], types),
    traits,
    computed: {
      firstSeen: isoTime(c.firstSeen!),
      lastSeen: isoTime(c.lastSeen!),
      eventCount: Number(c.eventCount),
      eventCounts: Object.fromEntries(Object.entries(JSON.parse(profile.v) as Record<string, string | number>).map(([k, n]) => [k, Number(n)])),
      lifetimeRevenue: Number(c.lifetimeRevenue),
      orderCount: Number(c.orderCount),
      lastOrderAt: c.lastOrderAt ? isoTime(c.lastOrderAt) : null,
      rfm: { recency: Number(c.recency), frequency: Number(c.frequency), monetary: Number(c.monetary) },
    },
    interests: JSON.parse(c.interests ?? '{}') as Record<string, number>,
    persona: p ? { label: p.k, cluster: Number(p.v), modelVersion: Number(p.n) } : null,
    segments,
    consent: consentStates(values),
    updatedAt: isoTime(profile.at),
  };
}
