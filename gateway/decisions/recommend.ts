// Recommendations for decision templates, in memory: the catalog index (rebuilt when the catalog or
// popularity changes), the newest model version's item neighbours, and per profile its trained
// recommendations and what it bought (loaded with the profile, within the decision's budget, and
// cached). Blended by lib/models/hybrid.ts: co-occurrence, the profile's interests against item
// metadata, popularity for cold visitors; unavailable and bought items never appear.
import { LRUCache } from 'lru-cache';
import type { Warehouse } from '../../lib/clickhouse.ts';
import type { Logger } from '../../lib/log.ts';
import { CatalogIndex, coOccurrenceFromNeighbours, recommend } from '../../lib/models/hybrid.ts';
import { latestVersionSql } from '../../lib/models/tables.ts';
import type { DecisionProfile } from '../../lib/personalization/predicate.ts';
import type { CompiledPlacement } from '../../lib/personalization/placement.ts';
import type { CatalogCache } from './catalog.ts';
import type { RecommendedItem } from './engine.ts';
import type { DecisionDoc } from './warm.ts';

const MODEL_POLL_MS = 60_000;
const INDEX_REFRESH_MS = 1_000;
const PROFILE_RECS = 20;
/** Profile signal loads in flight at most. */
const MAX_LOADS = 8;
/** Interactions this old no longer make an item popular. */
const POPULARITY_DAYS = 30;

interface ProfileSignals {
  trained: Array<{ item: string; score: number }>;
  bought: string[];
}

export class Recommender {
  private index?: CatalogIndex;
  private indexVersion = -1;
  private popularity = new Map<string, number>();
  private popularityVersion = 0;
  private neighbours = new Map<string, Array<{ item: string; score: number }>>();
  private modelVersion = -1;
  private readonly profiles = new LRUCache<string, ProfileSignals>({ max: 200_000, ttl: 10 * 60_000 });
  private timer?: NodeJS.Timeout;
  private indexTimer?: NodeJS.Timeout;
  private stopped = false;
  private readonly loading = new Map<string, Promise<void>>();

  constructor(
    private readonly catalog: CatalogCache,
    private readonly warehouse: Warehouse,
    private readonly log: Logger,
  ) {}

  start(): void {
    // The index follows the catalog off the request path: a decision rebuilds it only in the second after a change.
    this.indexTimer = setInterval(() => this.currentIndex(), INDEX_REFRESH_MS);
    this.indexTimer.unref();
    const tick = () => {
      if (this.stopped) return;
      this.refreshModel()
        .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'recommendation signals not refreshed; retried'))
        .finally(() => {
          if (this.stopped) return;
          this.timer = setTimeout(tick, MODEL_POLL_MS);
          this.timer.unref();
        });
    };
    tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    clearInterval(this.indexTimer);
  }

  /** Popularity (last 30 days of product interactions) and the newest model version's item neighbours. */
  async refreshModel(): Promise<void> {
    const popular = await this.warehouse.query<{ item: string; n: string }>(
      `SELECT item, count() AS n FROM (
         SELECT arrayJoin(arrayFilter(x -> x != '', arrayConcat([JSONExtractString(properties, 'product_id')], arrayMap(p -> JSONExtractString(p, 'product_id'), JSONExtractArrayRaw(properties, 'products'))))) AS item
         FROM {db}.events WHERE timestamp >= now64(3) - toIntervalDay(${POPULARITY_DAYS}) AND type = 'track' AND event != ''
       ) GROUP BY item ORDER BY n DESC LIMIT 100000`,
    );
    const next = new Map(popular.map((r) => [r.item, Number(r.n)]));
    if (next.size !== this.popularity.size || [...next].some(([k, v]) => this.popularity.get(k) !== v)) {
      this.popularity = next;
      this.popularityVersion++;
    }
    const [latest] = await this.warehouse.query<{ v: string }>(`SELECT toString(${latestVersionSql('recommendations')}) AS v`);
    const version = Number(latest?.v ?? 0);
    if (version === this.modelVersion) return;
    const rows = await this.warehouse.query<{ item: string; rec_item: string; score: number }>(
      'SELECT item, rec_item, score FROM {db}.item_recommendations FINAL WHERE version = {v:UInt64} ORDER BY item, rank',
      { v: version },
    );
    const neighbours = new Map<string, Array<{ item: string; score: number }>>();
    for (const r of rows) {
      const list = neighbours.get(r.item) ?? [];
      list.push({ item: r.rec_item, score: Number(r.score) });
      neighbours.set(r.item, list);
    }
    this.neighbours = neighbours;
    this.modelVersion = version;
    this.profiles.clear();
  }

  private currentIndex(): CatalogIndex {
    const version = this.catalog.version * 1_000_000 + this.popularityVersion;
    if (!this.index || this.indexVersion !== version) {
      this.index = new CatalogIndex(this.catalog.items.values(), this.popularity);
      this.indexVersion = version;
    }
    return this.index;
  }

  /** Loads what recommend() needs of a profile (its trained recommendations, what it bought), if not cached. */
  async prepare(doc: DecisionDoc): Promise<void> {
    if (this.profiles.has(doc.profileId)) return;
    const pending = this.loading.get(doc.profileId);
    if (pending) return pending;
    // ClickHouse is not queued without bound: past a few loads in flight, the decision goes without.
    if (this.loading.size >= MAX_LOADS) return;
    const load = this.load(doc).finally(() => this.loading.delete(doc.profileId));
    this.loading.set(doc.profileId, load);
    return load;
  }

  /** Whether a profile's signals are in memory (else recommend() uses interests and popularity only). */
  prepared(profileId: string): boolean {
    return this.profiles.has(profileId);
  }

  private async load(doc: DecisionDoc): Promise<void> {
    const rows = await this.warehouse.query<{ kind: string; item: string; score: number }>(
      `(SELECT 'trained' AS kind, item, score FROM {db}.profile_recommendations
        WHERE version = ${latestVersionSql('recommendations')} AND profile_id = {p:String} ORDER BY rank LIMIT ${PROFILE_RECS})
       UNION ALL
       (SELECT DISTINCT 'bought' AS kind, arrayJoin(arrayFilter(x -> x != '', arrayConcat([JSONExtractString(properties, 'product_id')], arrayMap(p -> JSONExtractString(p, 'product_id'), JSONExtractArrayRaw(properties, 'products'))))) AS item, 0 AS score
        FROM {db}.events WHERE identity IN {ids:Array(String)} AND event IN ('Order Completed', 'Product Purchased'))`,
      { p: doc.profileId, ids: doc.identities },
    );
    this.profiles.set(doc.profileId, {
      trained: rows.filter((r) => r.kind === 'trained').map((r) => ({ item: r.item, score: Number(r.score) })),
      bought: rows.filter((r) => r.kind === 'bought').map((r) => r.item),
    });
  }

  recommend(profile: DecisionProfile, doc: DecisionDoc | undefined, placement: CompiledPlacement, context: { item?: string } | undefined): RecommendedItem[] {
    const index = this.currentIndex();
    const signals = doc ? this.profiles.get(doc.profileId) : undefined;
    const fromPage = context?.item ? coOccurrenceFromNeighbours([{ item: context.item, weight: 2 }], (i) => this.neighbours.get(i)) : [];
    const r = placement.recommendations;
    const ranked = recommend(
      index,
      {
        coOccurrence: [...(signals?.trained ?? []), ...fromPage],
        interests: profile.interests,
        bought: signals?.bought ?? [],
        exclude: context?.item ? [context.item] : [],
      },
      {
        limit: r.count,
        rules: {
          pin: r.pin,
          boost: r.boost?.map(rule),
          bury: r.bury?.map(rule),
          exclude: r.excludeTags?.map((tag) => ({ tag })),
        },
      },
    );
    return ranked.flatMap(({ item, score }) => {
      const found = index.get(item);
      if (!found) return [];
      const { available: _available, ...shown } = found;
      return [{ ...shown, score: Math.round(score * 10_000) / 10_000 }];
    });
  }
}

const rule = (r: { tag?: string; category?: string; factor: number }) => (r.tag !== undefined ? { tag: r.tag, factor: r.factor } : { category: r.category!, factor: r.factor });
