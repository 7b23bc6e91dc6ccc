// A profile's interests: for each interest key (a category word, a tag, a page topic), the
// recency-weighted share of the person's interactions that involved it, 0–1. An event counts once
// however many keys it carries, so "shoes ≥ 0.6" reads "at least 60% of what they did lately was
// about shoes"; an event of the last day weighs about twice one of a month ago (half-life 30 days).
// Pure: the pipeline gives it the events and the catalog items they name.
import { interestKey, itemInterestKeys } from '../../api/catalog.ts';


export const INTEREST_HALF_LIFE_DAYS = 30;
/** Keys kept per profile, strongest first. */
export const MAX_INTERESTS = 50;

/** How much one event says about interest: buying more than adding, adding more than looking. */
export const INTEREST_EVENT_WEIGHTS: Record<string, number> = {
  'Order Completed': 3,
  'Product Purchased': 3,
  'Product Added': 2,
  'Product Added to Wishlist': 2,
  'Product Shared': 1.5,
};

export interface InterestEvent {
  event: string;
  /** Epoch milliseconds. */
  at: number;
  /** Products the event names (properties.product_id or sku, or each of properties.products). */
  products: string[];
  /** Category paths or words the event itself gives (properties.category). */
  categories: string[];
  /** properties.tags */
  tags: string[];
  /** page_topics from enrichment. */
  topics: string[];
}

export interface ItemKeys {
  category: readonly string[];
  tags: readonly string[];
}


export function interestsOf(events: Iterable<InterestEvent>, catalog: ReadonlyMap<string, ItemKeys>, now: number, halfLifeDays = INTEREST_HALF_LIFE_DAYS): Record<string, number> {
  const halfLifeMs = halfLifeDays * 86_400_000;
  const scores = new Map<string, number>();
  let total = 0;
  for (const e of events) {
    const keys = new Set<string>();
    for (const p of e.products) {
      const item = catalog.get(p);
      if (item) for (const k of itemInterestKeys(item)) keys.add(k);
    }
    for (const c of e.categories) for (const part of c.split(/\s*[>/|]\s*/)) if (interestKey(part)) keys.add(interestKey(part));
    for (const t of [...e.tags, ...e.topics]) if (interestKey(t)) keys.add(interestKey(t));
    if (keys.size === 0) continue;
    // Future timestamps (clock skew) weigh as now, never more.
    const age = Math.max(0, now - e.at);
    const w = (INTEREST_EVENT_WEIGHTS[e.event] ?? 1) * 2 ** (-age / halfLifeMs);
    total += w;
    for (const k of keys) scores.set(k, (scores.get(k) ?? 0) + w);
  }
  if (total === 0) return {};
  const ranked = [...scores].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0)).slice(0, MAX_INTERESTS);
  return Object.fromEntries(ranked.map(([k, s]) => [k, Math.round((s / total) * 1000) / 1000]));
}

/** The products an event's properties name: product_id or sku, and each element of products. */
export function productsOf(properties: Record<string, unknown>): string[] {
  const out: string[] = [];
  const add = (v: unknown) => {
    if ((typeof v === 'string' && v) || typeof v === 'number') out.push(String(v));
  };
  add(properties.product_id ?? properties.sku);
  if (Array.isArray(properties.products)) {
    for (const p of properties.products.slice(0, 100)) if (p && typeof p === 'object') add((p as Record<string, unknown>).product_id ?? (p as Record<string, unknown>).sku);
  }
  return [...new Set(out)];
}
