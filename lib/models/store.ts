// The models' ClickHouse side: features and baskets in, versions, personas, recommendations and the
// `persona` trait out. No Temporal here: long loops report through `progress` (the activities turn
// it into heartbeats). Everything written for a version is keyed by that version, so writing it
// again (a retried activity) replaces rather than adds.
import { chTime, type Warehouse } from '../clickhouse.ts';
import type { ProfileFeatures } from './personas.ts';
import type { BasketItem } from './recommend.ts';
import { MODEL_TABLES } from '../../api/tables/models.ts';
import { VERSIONED_TABLES, type ModelName } from './tables.ts';

export type Progress = (detail: unknown) => Promise<void> | void;

export const VIEW_EVENT = 'Product Viewed';
export const ORDER_EVENT = 'Order Completed';
/** The trait the persona model writes on profiles. */
export const PERSONA_TRAIT = 'persona';

const INSERT_CHUNK = 10_000;

export async function ensureModelTables(warehouse: Warehouse): Promise<void> {
  for (const statement of MODEL_TABLES) await warehouse.command(statement);
}

/** Rows of a query, streamed (the whole result is never held as one array). */
export async function* streamRows<T>(warehouse: Warehouse, sql: string, params: Record<string, unknown> = {}): AsyncGenerator<T> {
  const result = await warehouse.client.query({ query: sql.replaceAll('{db}', warehouse.database), query_params: params, format: 'JSONEachRow' });
  for await (const rows of result.stream<T>()) for (const row of rows) yield row.json();
}

async function insertChunked(warehouse: Warehouse, table: string, rows: object[], progress?: Progress): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await warehouse.insert(table, rows.slice(i, i + INSERT_CHUNK));
    await progress?.({ table, written: Math.min(rows.length, i + INSERT_CHUNK) });
  }
}

// ── versions ────────────────────────────────────────────────────────────────────────────────────

export interface ModelVersionRow {
  model: ModelName;
  version: number;
  /** Idempotency key of the run that trained it. */
  run: string;
  /** Configuration revision the run was started with ('' when none). */
  revision: string;
  trained_at: string;
  params: Record<string, unknown>;
  quality: Record<string, unknown>;
  artifact: Record<string, unknown>;
}

/**
 * The version run `run` writes: the committed one when this run already trained (re-running changes
 * nothing), else one past the newest committed version — the same number again after a crash
 * before the commit, whose partial rows are then replaced. Runs of one model must not overlap
 * (the workflows make sure of it).
 */
export async function beginVersion(warehouse: Warehouse, model: ModelName, run: string): Promise<{ version: number; committed?: ModelVersionRow }> {
  const [done] = await readVersions(warehouse, model, { run });
  if (done) return { version: done.version, committed: done };
  const [row] = await warehouse.query<{ v: string }>('SELECT max(version) AS v FROM {db}.model_versions WHERE model = {model:String}', { model });
  return { version: Number(row?.v ?? 0) + 1 };
}

/** Written last: the version is complete from here on. Re-committing the same version folds. */
export async function commitVersion(warehouse: Warehouse, row: ModelVersionRow): Promise<void> {
  await warehouse.insert('model_versions', [
    { model: row.model, version: row.version, run: row.run, revision: row.revision, trained_at: chTime(row.trained_at), params: JSON.stringify(row.params), quality: JSON.stringify(row.quality), artifact: JSON.stringify(row.artifact) },
  ]);
}

/** Committed versions of a model, newest first (optionally only the one of a run). */
export async function readVersions(warehouse: Warehouse, model: ModelName, filter: { run?: string; limit?: number } = {}): Promise<ModelVersionRow[]> {
  const rows = await warehouse.query<{ model: ModelName; version: string; run: string; revision: string; trained_at: string; params: string; quality: string; artifact: string }>(
    `SELECT model, version, run, revision, trained_at, params, quality, artifact FROM {db}.model_versions FINAL
     WHERE model = {model:String} ${filter.run !== undefined ? 'AND run = {run:String}' : ''}
     ORDER BY version DESC LIMIT {limit:UInt32}`,
    { model, run: filter.run ?? '', limit: filter.limit ?? 100 },
  );
  return rows.map((r) => ({
    model: r.model,
    version: Number(r.version),
    run: r.run,
    revision: r.revision,
    trained_at: r.trained_at.replace(' ', 'T') + 'Z',
    params: JSON.parse(r.params) as Record<string, unknown>,
    quality: JSON.parse(r.quality) as Record<string, unknown>,
    artifact: JSON.parse(r.artifact) as Record<string, unknown>,
  }));
}

/** Before (re)writing a version: whatever an earlier attempt left of it goes. */
export async function clearVersion(warehouse: Warehouse, model: ModelName, version: number): Promise<void> {
  for (const { table, column } of VERSIONED_TABLES[model]) await warehouse.command(`DELETE FROM {db}.${table} WHERE ${column} = {version:UInt64}`, { version });
}

/** Keeps the rows of the newest `keep` committed versions (model_versions keeps the whole history). */
export async function pruneVersions(warehouse: Warehouse, model: ModelName, keep: number): Promise<void> {
  for (const { table, column } of VERSIONED_TABLES[model]) {
    await warehouse.command(
      `DELETE FROM {db}.${table} WHERE ${column} + {keep:UInt64} <= (SELECT max(version) FROM {db}.model_versions WHERE model = {model:String})`,
      { keep, model },
    );
  }
}

// ── personas ────────────────────────────────────────────────────────────────────────────────────

/** The most frequent `properties.category` values of the event log. */
export async function topCategories(warehouse: Warehouse, limit: number): Promise<string[]> {
  if (limit <= 0) return [];
  const rows = await warehouse.query<{ category: string }>(
    `SELECT JSONExtractString(properties, 'category') AS category, count() AS n FROM {db}.events
     WHERE category != '' GROUP BY category ORDER BY n DESC, category LIMIT {limit:UInt32}`,
    { limit },
  );
  return rows.map((r) => r.category);
}

/**
 * Features of every current profile (profiles FINAL, not deleted), by profile id: RFM, revenue,
 * counts, and the share of its events (through the identities it has now) per given category.
 */
export async function* personaFeatures(warehouse: Warehouse, categories: string[]): AsyncGenerator<ProfileFeatures> {
  const rows = streamRows<{
    profile_id: string;
    rfm_recency: number;
    rfm_frequency: number;
    rfm_monetary: number;
    lifetime_revenue: number;
    order_count: string;
    event_count: string;
    category_total: string;
    category_counts: Array<[string, string]>;
  }>(
    warehouse,
    `SELECT p.profile_id AS profile_id, p.rfm_recency AS rfm_recency, p.rfm_frequency AS rfm_frequency, p.rfm_monetary AS rfm_monetary,
            p.lifetime_revenue AS lifetime_revenue, p.order_count AS order_count, p.event_count AS event_count,
            c.total AS category_total, c.counts AS category_counts
     FROM (
       SELECT profile_id, rfm_recency, rfm_frequency, rfm_monetary, lifetime_revenue, order_count, event_count
       FROM {db}.profiles FINAL WHERE deleted = 0
     ) AS p
     LEFT JOIN (
       SELECT m.profile_id AS profile_id, sum(e.n) AS total, groupArrayIf((e.category, e.n), e.category IN {categories:Array(String)}) AS counts
       FROM (
         SELECT identity, JSONExtractString(properties, 'category') AS category, count() AS n
         FROM {db}.events FINAL GROUP BY identity, category
       ) AS e
       INNER JOIN {db}.identities AS m FINAL ON m.identity = e.identity
       GROUP BY m.profile_id
     ) AS c ON c.profile_id = p.profile_id
     ORDER BY p.profile_id`,
    { categories },
  );
  for await (const r of rows) {
    const total = Number(r.category_total);
    const shares: Record<string, number> = {};
    for (const [category, n] of r.category_counts ?? []) shares[category] = (shares[category] ?? 0) + (total > 0 ? Number(n) / total : 0);
    yield {
      profile_id: r.profile_id,
      rfm_recency: Number(r.rfm_recency),
      rfm_frequency: Number(r.rfm_frequency),
      rfm_monetary: Number(r.rfm_monetary),
      lifetime_revenue: Number(r.lifetime_revenue),
      order_count: Number(r.order_count),
      event_count: Number(r.event_count),
      categories: shares,
    };
  }
}

export async function writePersonas(warehouse: Warehouse, version: number, rows: Array<{ profile_id: string; persona: string; cluster: number; distance: number }>, progress?: Progress): Promise<void> {
  await insertChunked(warehouse, 'profile_personas', rows.map((r) => ({ model_version: version, ...r })), progress);
}

/** The profiles of a version, by id, after `after`: one chunk of the trait application. */
export async function personasPage(warehouse: Warehouse, version: number, after: string, limit: number): Promise<Array<{ profile_id: string; persona: string }>> {
  return warehouse.query(
    `SELECT profile_id, persona FROM {db}.profile_personas FINAL
     WHERE model_version = {version:UInt64} AND profile_id > {after:String}
     ORDER BY profile_id LIMIT {limit:UInt32}`,
    { version, after, limit },
  );
}

/** The identities each profile has now (the newest assignment of each identity wins, as the profile builder reads it). */
export async function currentIdentities(warehouse: Warehouse, profileIds: string[]): Promise<Map<string, string[]>> {
  const rows = await warehouse.query<{ profile_id: string; identities: string[] }>(
    `SELECT profile_id, groupArray(identity) AS identities
     FROM (
       SELECT identity, argMax(profile_id, version) AS profile_id FROM {db}.identities
       WHERE identity IN (SELECT identity FROM {db}.identities WHERE profile_id IN {ids:Array(String)})
       GROUP BY identity
     )
     WHERE profile_id IN {ids:Array(String)} GROUP BY profile_id`,
    { ids: profileIds },
  );
  return new Map(rows.map((r) => [r.profile_id, [...r.identities].sort()]));
}

interface TraitValue {
  value: string;
  at: string;
  id: string;
}

/** The newest value of one trait per identity: last write wins by (event_time, message_id). */
async function latestTraitValues(warehouse: Warehouse, identities: string[], trait: string): Promise<Map<string, TraitValue>> {
  if (identities.length === 0) return new Map();
  const rows = await warehouse.query<{ identity: string; latest_value: string; at: string; id: string }>(
    `SELECT identity, argMax(value, (event_time, message_id)) AS latest_value, max(event_time) AS at, max((event_time, message_id)).2 AS id
     FROM {db}.identity_traits WHERE identity IN {identities:Array(String)} AND trait = {trait:String} GROUP BY identity`,
    { identities, trait },
  );
  return new Map(rows.map((r) => [r.identity, { value: r.latest_value, at: r.at, id: r.id }]));
}

/** Trait keys in the order the profile builder writes them. */
function sortedTraits(traits: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(traits).sort(([a], [b]) => a.localeCompare(b))));
}

export interface TraitApplication {
  /** identity_traits rows written (identities whose newest value was different). */
  traitsWritten: number;
  /** profiles rows refreshed with the new value. */
  profilesUpdated: number;
  /** Profiles whose row changed under us three times: the pipeline's next rebuild carries the value. */
  profilesDeferred: number;
}

/**
 * Sets a trait on profiles the way the pipeline keeps traits, so its profile builder keeps it on
 * every later rebuild: an identity_traits row on each of the profile's current identities, at
 * `eventTime` with `messageId` (last write wins by event time: a newer value set by the customer's
 * own identify call is not overwritten). Then each profiles row whose traits miss the winning value
 * gets a newer version with the merged traits, written with INSERT … SELECT guarded by the row's
 * updated_at: a row the pipeline rebuilt meanwhile is re-read instead of overwritten.
 * Identities that already hold the value, and rows that already show it, are left alone.
 */
export async function applyTrait(
  warehouse: Warehouse,
  values: Array<{ profile_id: string; value: string | number | boolean }>,
  trait: string,
  eventTime: string,
  messageId: string,
  options: { now?: () => Date; /** Test seam: runs before each guarded write of profiles rows. */ beforeWrite?: () => Promise<void> } = {},
): Promise<TraitApplication> {
  const now = options.now ?? (() => new Date());
  const ids = values.map((v) => v.profile_id);
  const members = await currentIdentities(warehouse, ids);
  const identities = [...members.values()].flat();
  const before = await latestTraitValues(warehouse, identities, trait);
  const at = chTime(eventTime);
  const rows: Array<{ identity: string; trait: string; value: string; event_time: string; message_id: string }> = [];
  for (const { profile_id, value } of values) {
    const json = JSON.stringify(value);
    for (const identity of members.get(profile_id) ?? []) {
      const seen = before.get(identity);
      // Not when the identity already holds the value, nor when a newer value would win anyway.
      if (seen && (seen.value === json || seen.at > at || (seen.at === at && seen.id > messageId))) continue;
      rows.push({ identity, trait, value: json, event_time: at, message_id: messageId });
    }
  }
  await warehouse.insert('identity_traits', rows);

  // The value each profile shows: last write wins across its identities, as in the builder.
  const after = rows.length ? await latestTraitValues(warehouse, identities, trait) : before;
  const wanted = new Map<string, string>();
  for (const [profileId, list] of members) {
    let best: TraitValue | undefined;
    for (const identity of list) {
      const t = after.get(identity);
      if (t && (!best || t.at > best.at || (t.at === best.at && t.id > best.id))) best = t;
    }
    if (best) wanted.set(profileId, best.value);
  }

  let pending = [...wanted.keys()];
  let stale0 = 0;
  for (let attempt = 0; pending.length; attempt++) {
    const current = await warehouse.query<{ profile_id: string; traits: string; version: string }>(
      `SELECT profile_id, traits, toUnixTimestamp64Milli(updated_at) AS version FROM {db}.profiles FINAL
       WHERE profile_id IN {ids:Array(String)} AND deleted = 0`,
      { ids: pending },
    );
    const stale = current.flatMap((row) => {
      const traits = JSON.parse(row.traits) as Record<string, unknown>;
      const value = wanted.get(row.profile_id)!;
      if (JSON.stringify(traits[trait]) === value) return [];
      traits[trait] = JSON.parse(value);
      return [{ profile_id: row.profile_id, traits: sortedTraits(traits), version: Number(row.version) }];
    });
    if (attempt === 0) stale0 = stale.length;
    pending = stale.map((s) => s.profile_id);
    if (stale.length === 0 || attempt === 3) break;
    await options.beforeWrite?.();
    await warehouse.command(
      // The guard sits in a subquery: in ClickHouse an alias of the SELECT (updated_at below)
      // would otherwise shadow the column of the same name in WHERE.
      `INSERT INTO {db}.profiles
       SELECT * REPLACE (
         transform(profile_id, {ids:Array(String)}, {traits:Array(String)}, traits) AS traits,
         greatest({now:DateTime64(3, 'UTC')}, updated_at + toIntervalMillisecond(1)) AS updated_at
       )
       FROM (
         SELECT * FROM {db}.profiles FINAL
         WHERE profile_id IN {ids:Array(String)} AND deleted = 0
           AND toUnixTimestamp64Milli(updated_at) = transform(profile_id, {ids:Array(String)}, {versions:Array(Int64)}, toInt64(-1))
       )`,
      { ids: pending, traits: stale.map((s) => s.traits), versions: stale.map((s) => s.version), now: chTime(now().toISOString()) },
    );
  }
  return { traitsWritten: rows.length, profilesUpdated: stale0 - pending.length, profilesDeferred: pending.length };
}

// ── recommendations ─────────────────────────────────────────────────────────────────────────────

/** product_id, else sku, of a JSON object (a string, or a number written as is). */
function itemOf(json: string): string {
  const pick = (key: string) =>
    `multiIf(JSONType(${json}, '${key}') = 'String', JSONExtractString(${json}, '${key}'), JSONType(${json}, '${key}') IN ('Int64', 'UInt64', 'Double'), JSONExtractRaw(${json}, '${key}'), '')`;
  return `if(${pick('product_id')} != '', ${pick('product_id')}, ${pick('sku')})`;
}

/**
 * Each current profile's items (ascending profile id), from `Product Viewed` and `Order Completed`
 * events (the order's own product_id/sku and those of its `products[]`): purchased or only viewed,
 * how many events, and when the last one happened (`at`, ms since the epoch). Re-delivered events
 * change nothing here (the flag is a max).
 */
export async function* baskets(warehouse: Warehouse): AsyncGenerator<{ profile_id: string; items: BasketItem[] }> {
  const rows = streamRows<{ profile_id: string; item: string; purchased: number; n: string; last_ms: string }>(
    warehouse,
    `SELECT m.profile_id AS profile_id, e.item AS item, max(e.purchased) AS purchased, count() AS n, max(e.event_ms) AS last_ms
     FROM (
       SELECT identity, toUInt8(event = {order:String}) AS purchased, toUnixTimestamp64Milli(timestamp) AS event_ms,
              arrayJoin(arrayDistinct(arrayFilter(x -> x != '', arrayConcat([${itemOf('properties')}], arrayMap(p -> ${itemOf('p')}, JSONExtractArrayRaw(properties, 'products')))))) AS item
       FROM {db}.events
       WHERE event IN ({view:String}, {order:String})
     ) AS e
     INNER JOIN {db}.identities AS m FINAL ON m.identity = e.identity
     GROUP BY profile_id, item
     ORDER BY profile_id, item`,
    { view: VIEW_EVENT, order: ORDER_EVENT },
  );
  let current: { profile_id: string; items: BasketItem[] } | undefined;
  for await (const r of rows) {
    if (current && current.profile_id !== r.profile_id) {
      yield current;
      current = undefined;
    }
    current ??= { profile_id: r.profile_id, items: [] };
    current.items.push({ item: r.item, purchased: Number(r.purchased) > 0, count: Number(r.n), at: Number(r.last_ms) });
  }
  if (current) yield current;
}

export async function writeItemRecommendations(warehouse: Warehouse, version: number, rows: Array<{ item: string; rank: number; rec_item: string; score: number }>, progress?: Progress): Promise<void> {
  await insertChunked(warehouse, 'item_recommendations', rows.map((r) => ({ version, ...r })), progress);
}

export async function writeProfileRecommendations(warehouse: Warehouse, version: number, rows: Array<{ profile_id: string; rank: number; item: string; score: number }>, progress?: Progress): Promise<void> {
  await insertChunked(warehouse, 'profile_recommendations', rows.map((r) => ({ version, ...r })), progress);
}

// ── readers (for the API) ──────────────────────────────────────────────────────────────────────

/** Items similar to an item, from the newest complete recommendations version. */
export async function itemRecommendations(warehouse: Warehouse, item: string, limit = 10): Promise<Array<{ item: string; score: number; version: number }>> {
  const rows = await warehouse.query<{ rec_item: string; score: number; version: string }>(
    `SELECT rec_item, score, version FROM {db}.item_recommendations FINAL
     WHERE version = (SELECT max(version) FROM {db}.model_versions WHERE model = 'recommendations') AND item = {item:String}
     ORDER BY rank LIMIT {limit:UInt32}`,
    { item, limit },
  );
  return rows.map((r) => ({ item: r.rec_item, score: Number(r.score), version: Number(r.version) }));
}

/** Items for a profile, from the newest complete recommendations version. */
export async function profileRecommendations(warehouse: Warehouse, profileId: string, limit = 10): Promise<Array<{ item: string; score: number; version: number }>> {
  const rows = await warehouse.query<{ item: string; score: number; version: string }>(
    `SELECT item, score, version FROM {db}.profile_recommendations FINAL
     WHERE version = (SELECT max(version) FROM {db}.model_versions WHERE model = 'recommendations') AND profile_id = {profile:String}
     ORDER BY rank LIMIT {limit:UInt32}`,
    { profile: profileId, limit },
  );
  return rows.map((r) => ({ item: r.item, score: Number(r.score), version: Number(r.version) }));
}

/** A profile's persona in the newest complete personas version. */
export async function profilePersona(warehouse: Warehouse, profileId: string): Promise<{ persona: string; distance: number; version: number } | undefined> {
  const [row] = await warehouse.query<{ persona: string; distance: number; model_version: string }>(
    `SELECT persona, distance, model_version FROM {db}.profile_personas FINAL
     WHERE model_version = (SELECT max(version) FROM {db}.model_versions WHERE model = 'personas') AND profile_id = {profile:String}`,
    { profile: profileId },
  );
  return row && { persona: row.persona, distance: Number(row.distance), version: Number(row.model_version) };
}
