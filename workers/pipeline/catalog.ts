// Catalog events (`Product Updated` and its kin, api/catalog.ts CATALOG_EVENTS) keep the product
// catalog current: each becomes a catalog_items row stamped with its event time, so a late event
// never replaces a newer load. The event itself is stored like any other; an item it describes
// badly is refused here (counted and logged with what is wrong), never the event.
import { CATALOG_EVENTS, itemFromEventProperties, parseCatalogItem } from '../../api/catalog.ts';
import type { CanonicalEvent } from '../../api/event.ts';
import { catalogRow, type CatalogRow } from '../../lib/personalization/catalog-rows.ts';

const NAMES: ReadonlySet<string> = new Set(CATALOG_EVENTS);

/** The catalog rows a batch's events describe, and the events whose item is not valid (with why). */
export function catalogRows(events: readonly CanonicalEvent[]): { rows: CatalogRow[]; refused: Array<{ messageId: string; source: string; problems: string[] }> } {
  const rows: CatalogRow[] = [];
  const refused: Array<{ messageId: string; source: string; problems: string[] }> = [];
  for (const e of events) {
    if (e.type !== 'track' || !e.event || !NAMES.has(e.event)) continue;
    const { item, problems } = parseCatalogItem(itemFromEventProperties(e.properties), 'properties');
    if (item) rows.push(catalogRow(item, `event:${e.source}`, e.timestamp));
    else refused.push({ messageId: e.messageId, source: e.source, problems: problems! });
  }
  return { rows, refused };
}
