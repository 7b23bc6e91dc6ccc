// Profiles are rebuilt from the event log and per-identity traits of their identities, so merges,
// unmerges and late events all converge to the same row whatever order they arrived in. Exposure
// events (the API's record of a decision) are measurements, not the person's doing: not counted.
import type { Warehouse } from '../../lib/clickhouse.ts';
import { chTime } from '../../lib/clickhouse.ts';
import type { Json, JsonObject } from '../../api/event.ts';
import { rfmScores } from './rows.ts';
import { EXPOSURE_EVENT } from '../../api/v1alpha1/personalization.ts';
import { interestsOf, productsOf, type InterestEvent, type ItemKeys } from '../../lib/personalization/interests.ts';
import { isPending } from './identity.ts';

const ORDER_EVENT = 'Order Completed';
/** Newest events per identity read for its interests: older ones weigh little after the half-life. */
const INTEREST_EVENTS = 200;

interface Aggregate {
  profile_id: string;
  first_seen: string;
  last_seen: string;
  event_count: string;
  event_counts: Record<string, string>;
  lifetime_revenue: number;
  order_count: string;
  last_order_at: string | null;
}

/** What a rebuild wrote, per profile: what the profile-changes record says. */
export interface RebuiltProfile {
  profileId: string;
  identities: string[];
  deleted: boolean;
}

export async function rebuildProfiles(warehouse: Warehouse, profileIds: string[], removed: string[] = [], now = new Date()): Promise<RebuiltProfile[]> {
  const ids = [...new Set(profileIds)];
  const written: RebuiltProfile[] = [];
  const gone = new Set(removed);
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = await rebuildChunk(warehouse, ids.slice(i, i + 500), now);
    written.push(...chunk.rebuilt);
    for (const p of chunk.nobody) gone.add(p);
  }
  const deleted = [...gone];
  if (deleted.length) {
    const at = chTime(now.toISOString());
    await warehouse.insert('profiles', deleted.map((profile_id) => ({
      profile_id, identities: [], traits: '{}', first_seen: at, last_seen: at, event_count: 0, event_counts: {}, lifetime_revenue: 0,
      order_count: 0, last_order_at: null, rfm_recency: 0, rfm_frequency: 0, rfm_monetary: 0, interests: {}, deleted: 1, updated_at: at,
    })));
    written.push(...deleted.map((profileId) => ({ profileId, identities: [], deleted: true })));
  }
  return written;
}

/**
 * Pending identities (an alias's previousId no event has carried yet) have no events or traits and
 * cannot be looked up: listed last, so no one takes one for the profile's name.
 */
function listed(identities: string[]): string[] {
  return [...identities].sort((a, b) => Number(isPending(a)) - Number(isPending(b)) || (a < b ? -1 : a > b ? 1 : 0));
}

async function rebuildChunk(warehouse: Warehouse, ids: string[], now: Date): Promise<{ rebuilt: RebuiltProfile[]; nobody: string[] }> {
  const held = await warehouse.query<{ profile_id: string; identities: string[] }>(
    // Only identities that were ever assigned to these profiles are candidates (the current assignment
    // is one of their rows): the newest-version step then groups those, not the whole graph.
    `SELECT profile_id, groupArray(identity) AS identities
     FROM (SELECT identity, argMax(profile_id, version) AS profile_id FROM {db}.identities
           WHERE identity IN (SELECT identity FROM {db}.identities WHERE profile_id IN {ids:Array(String)})
           GROUP BY identity)
     WHERE profile_id IN {ids:Array(String)} GROUP BY profile_id`,
    { ids },
  );
  // A profile of nothing but pending identities (its alias undone before the previousId came) is no one yet.
  const members = held.filter((m) => !m.identities.every(isPending));
  const nobody = held.filter((m) => m.identities.every(isPending)).map((m) => m.profile_id);
  const identityList = members.flatMap((m) => m.identities);
  if (identityList.length === 0) return { rebuilt: [], nobody };
  const profileOf = new Map<string, string>();
  for (const m of members) for (const identity of m.identities) profileOf.set(identity, m.profile_id);

  // One row per message id, whatever re-deliveries the ReplacingMergeTree has not folded yet.
  const aggregates = await warehouse.query<Aggregate & { identity: string }>(
    `SELECT identity,
            min(timestamp) AS first_seen, max(timestamp) AS last_seen, count() AS event_count,
            sumMap(map(event, toUInt64(1))) AS event_counts,
            sumIf(revenue, event = {order:String}) AS lifetime_revenue,
            countIf(event = {order:String}) AS order_count,
            if(countIf(event = {order:String}) > 0, maxIf(timestamp, event = {order:String}), NULL) AS last_order_at
     FROM (SELECT identity, timestamp, event, revenue FROM {db}.events WHERE identity IN {identities:Array(String)} AND event != {exposure:String} LIMIT 1 BY message_id)
     GROUP BY identity`,
    { identities: identityList, order: ORDER_EVENT, exposure: EXPOSURE_EVENT },
  );
  const traits = await warehouse.query<{ identity: string; trait: string; latest_value: string; at: string; id: string }>(
    `SELECT identity, trait, argMax(value, (event_time, message_id)) AS latest_value, max(event_time) AS at, max((event_time, message_id)).2 AS id
     FROM {db}.identity_traits WHERE identity IN {identities:Array(String)} GROUP BY identity, trait`,
    { identities: identityList },
  );

  const interests = await interestEvents(warehouse, identityList);

  const rows = members.map((m) => {
    const mine = aggregates.filter((a) => profileOf.get(a.identity) === m.profile_id);
    // Across identities of one profile a trait is last-write-wins by event time, then message id.
    const latest = new Map<string, { value: string; at: string; id: string }>();
    for (const t of traits.filter((t) => profileOf.get(t.identity) === m.profile_id)) {
      const seen = latest.get(t.trait);
      if (!seen || t.at > seen.at || (t.at === seen.at && t.id > seen.id)) latest.set(t.trait, { value: t.latest_value, at: t.at, id: t.id });
    }
    const traitObject: JsonObject = {};
    for (const [k, v] of [...latest].sort(([a], [b]) => a.localeCompare(b))) traitObject[k] = JSON.parse(v.value) as Json;
    const counts: Record<string, number> = {};
    for (const a of mine) for (const [event, n] of Object.entries(a.event_counts)) if (event) counts[event] = (counts[event] ?? 0) + Number(n);
    const orders = mine.reduce((n, a) => n + Number(a.order_count), 0);
    const revenue = mine.reduce((n, a) => n + Number(a.lifetime_revenue), 0);
    const lastOrder = mine.map((a) => a.last_order_at).filter((x): x is string => Boolean(x)).sort().at(-1) ?? null;
    const firstSeen = mine.map((a) => a.first_seen).sort()[0];
    const lastSeen = mine.map((a) => a.last_seen).sort().at(-1);
    const days = lastOrder ? (now.getTime() - Date.parse(lastOrder.replace(' ', 'T') + 'Z')) / 86_400_000 : null;
    const rfm = rfmScores({ daysSinceLastOrder: days, orders, revenue });
    return {
      profile_id: m.profile_id,
      identities: listed(m.identities),
      traits: JSON.stringify(traitObject),
      first_seen: firstSeen ?? chTime(now.toISOString()),
      last_seen: lastSeen ?? chTime(now.toISOString()),
      event_count: mine.reduce((n, a) => n + Number(a.event_count), 0),
      event_counts: counts,
      lifetime_revenue: revenue,
      order_count: orders,
      last_order_at: lastOrder,
      rfm_recency: rfm.recency,
      rfm_frequency: rfm.frequency,
      rfm_monetary: rfm.monetary,
      interests: interestsOf(m.identities.flatMap((i) => interests.events.get(i) ?? []), interests.catalog, now.getTime()),
      deleted: 0,
      updated_at: chTime(now.toISOString()),
    };
  });
  await warehouse.insert('profiles', rows);
  return { rebuilt: rows.map((r) => ({ profileId: r.profile_id, identities: r.identities, deleted: false })), nobody };
}

/** Per identity, its newest events that can say what it is interested in, and the catalog items they name. */
async function interestEvents(warehouse: Warehouse, identities: string[]): Promise<{ events: Map<string, InterestEvent[]>; catalog: Map<string, ItemKeys> }> {
  const rows = await warehouse.query<{ identity: string; event: string; at: string; properties: string; page_topics: string[] }>(
    `SELECT identity, event, toUnixTimestamp64Milli(timestamp) AS at, properties, page_topics
     FROM (SELECT identity, timestamp, event, properties, page_topics FROM {db}.events
           WHERE identity IN {identities:Array(String)}
             AND (notEmpty(page_topics) OR JSONHas(properties, 'product_id') OR JSONHas(properties, 'sku') OR JSONHas(properties, 'products')
                  OR JSONHas(properties, 'category') OR JSONHas(properties, 'tags'))
           LIMIT 1 BY message_id)
     ORDER BY identity, timestamp DESC LIMIT ${INTEREST_EVENTS} BY identity`,
    { identities },
  );
  const events = new Map<string, InterestEvent[]>();
  const products = new Set<string>();
  for (const r of rows) {
    let p: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(r.properties || '{}');
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) p = parsed as Record<string, unknown>;
    } catch {
      // The pipeline stored it as JSON; an unreadable row says nothing about interests.
    }
    const e: InterestEvent = {
      event: r.event,
      at: Number(r.at),
      products: productsOf(p),
      categories: typeof p.category === 'string' ? [p.category] : [],
      tags: Array.isArray(p.tags) ? p.tags.filter((t): t is string => typeof t === 'string').slice(0, 50) : [],
      topics: r.page_topics,
    };
    for (const id of e.products) products.add(id);
    const list = events.get(r.identity) ?? [];
    list.push(e);
    events.set(r.identity, list);
  }
  const catalog = new Map<string, ItemKeys>();
  if (products.size) {
    const items = await warehouse.query<{ id: string; category: string[]; tags: string[] }>(
      'SELECT id, category, tags FROM {db}.catalog_items FINAL WHERE id IN {ids:Array(String)} AND deleted = 0',
      { ids: [...products] },
    );
    for (const i of items) catalog.set(i.id, { category: i.category, tags: i.tags });
  }
  return { events, catalog };
}

export interface Profile {
  profile_id: string;
  identities: string[];
  traits: JsonObject;
  first_seen: string;
  last_seen: string;
  event_count: number;
  event_counts: Record<string, number>;
  lifetime_revenue: number;
  order_count: number;
  rfm: { recency: number; frequency: number; monetary: number };
  interests: Record<string, number>;
}

/** A profile by any of its identities ("userId:u1", "email:a@b.c", "anonymousId:…"). */
export async function profileByIdentity(warehouse: Warehouse, identity: string): Promise<Profile | undefined> {
  const rows = await warehouse.query<Record<string, unknown>>(
    `SELECT * FROM {db}.profiles FINAL
     WHERE profile_id = (SELECT argMax(profile_id, version) FROM {db}.identities WHERE identity = {identity:String})
       AND deleted = 0`,
    { identity },
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    profile_id: String(r.profile_id),
    identities: r.identities as string[],
    traits: JSON.parse(String(r.traits)) as JsonObject,
    first_seen: String(r.first_seen),
    last_seen: String(r.last_seen),
    event_count: Number(r.event_count),
    event_counts: Object.fromEntries(Object.entries(r.event_counts as Record<string, string>).map(([k, v]) => [k, Number(v)])),
    lifetime_revenue: Number(r.lifetime_revenue),
    order_count: Number(r.order_count),
    rfm: { recency: Number(r.rfm_recency), frequency: Number(r.rfm_frequency), monetary: Number(r.rfm_monetary) },
    interests: Object.fromEntries(Object.entries((r.interests ?? {}) as Record<string, number>).map(([k, v]) => [k, Number(v)])),
  };
}
