// The product catalog in the API's memory, for decisions: loaded whole at start, then polled for
// rows written since (by their ingested_at, with an overlap, so a late catalog event stamped with
// an old event time is still seen). An item written through the API or by a catalog event is
// visible to decisions within one poll interval.
import type { CatalogItem } from '../../api/catalog.ts';
import type { Warehouse } from '../../lib/clickhouse.ts';
import type { Logger } from '../../lib/log.ts';
import type { CatalogRow } from '../../lib/personalization/catalog-rows.ts';

export const CATALOG_POLL_MS = 2_000;
/** Rows written this long before the last poll are read again: inserts become visible out of order. */
const OVERLAP_MS = 5_000;

export interface StoredItem extends CatalogItem {
  updatedAt: string;
}

/** A catalog_items row as read back (price may be null; ingested_at is the table's). */
export type CatalogRowOut = Omit<CatalogRow, 'origin'> & { ingested_at: string };

export const CATALOG_COLUMNS = 'id, title, category, price, currency, tags, url, image, available, attributes, deleted, toString(updated_at) AS updated_at, toString(ingested_at) AS ingested_at';

export function storedItem(r: CatalogRowOut): StoredItem {
  let attributes: Record<string, string | number | boolean> = {};
  try {
    attributes = JSON.parse(r.attributes || '{}') as typeof attributes;
  } catch {
    // Written by us as JSON; an unreadable value shows as no attributes rather than hiding the item.
  }
  const item: StoredItem = { id: r.id, title: r.title, category: r.category, tags: r.tags, available: Number(r.available) === 1, attributes, updatedAt: `${r.updated_at.replace(' ', 'T')}Z` };
  if (r.price !== null && r.price !== undefined) item.price = Number(r.price);
  if (r.currency) item.currency = r.currency;
  if (r.url) item.url = r.url;
  if (r.image) item.image = r.image;
  return item;
}

export class CatalogCache {
  readonly items = new Map<string, StoredItem>();
  /** Moves on every change, so what is derived from the items (indexes) knows to rebuild. */
  version = 0;
  private since = 0;
  private timer?: NodeJS.Timeout;
  private loaded = false;
  private stopped = false;

  constructor(
    private readonly warehouse: Warehouse,
    private readonly log: Logger,
    private readonly intervalMs = CATALOG_POLL_MS,
  ) {}

  /** Reads what changed; the first call reads everything. Returns the items changed. */
  async refresh(): Promise<number> {
    const started = Date.now();
    const since = new Date(Math.max(0, this.since - OVERLAP_MS)).toISOString().replace('T', ' ').replace('Z', '');
    const rows = await this.warehouse.query<CatalogRowOut>(
      this.loaded
        ? `SELECT ${CATALOG_COLUMNS} FROM {db}.catalog_items FINAL WHERE id IN (SELECT id FROM {db}.catalog_items WHERE ingested_at >= {since:DateTime64(3, 'UTC')})`
        : `SELECT ${CATALOG_COLUMNS} FROM {db}.catalog_items FINAL`,
      this.loaded ? { since } : {},
    );
    let changed = 0;
    for (const r of rows) {
      const before = this.items.get(r.id);
      if (Number(r.deleted) === 1) {
        if (before) changed++;
        this.items.delete(r.id);
        continue;
      }
      const item = storedItem(r);
      if (before && JSON.stringify(before) === JSON.stringify(item)) continue;
      this.items.set(r.id, item);
      changed++;
    }
    if (changed) this.version++;
    this.since = started;
    this.loaded = true;
    return changed;
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.refresh()
          .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'catalog refresh failed; retried'))
          .finally(tick);
      }, this.intervalMs);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
