// Synthetic data with planted structure, deterministic (a seeded PRNG): the same options always
// give the same catalog, people and features. Offline quality figures only mean something when
// the right answer is known, so these generators plant it:
//
//   plantedPreferences  a catalog (items in categories and subcategories, with tags) and people
//                       with 1–2 preferred categories: ~80% of their interactions fall in them
//                       (items drawn by a Zipf popularity within the category), the rest anywhere
//                       in the catalog by global popularity; planted co-purchase pairs (b follows a
//                       in the same basket most of the time). An item-to-item model should beat
//                       "most popular" here; if it does not, something is broken.
//   plantedNiche        persona features of a diffuse population plus a small, dense niche
//                       (top value, very frequent, nearly all events in one category) that a
//                       density-based clustering should find as its own group.
import type { CatalogItem } from '../../api/catalog.ts';
import { createRng } from './kmeans.ts';
import type { ProfileFeatures } from './personas.ts';
import type { BasketItem } from './recommend.ts';

const CATEGORY_NAMES = ['Shoes', 'Outdoor', 'Electronics', 'Books', 'Kitchen', 'Toys', 'Beauty', 'Garden', 'Sports', 'Music', 'Fashion', 'Home', 'Pets', 'Games', 'Office', 'Travel'];
const SUBCATEGORY_NAMES = ['Basics', 'Premium', 'Kids', 'Accessories'];
const TAGS = ['sale', 'new', 'eco', 'premium', 'bestseller', 'gift', 'limited', 'bundle'];

export interface PlantedPreferencesOptions {
  /** Default 1. */
  seed?: number;
  /** Catalog items, spread evenly over the categories. Default 240. */
  items?: number;
  /** Categories (at most 16). Default 8. */
  categories?: number;
  /** Default 3000. */
  people?: number;
  /** Interactions per person, [min, max] inclusive. Default [6, 14]. */
  interactions?: readonly [number, number];
  /** Share of a person's interactions in their preferred categories. Default 0.8. */
  preferredShare?: number;
  /** Share of interactions that are purchases. Default 0.3. */
  purchaseShare?: number;
  /** Planted co-purchase pairs (both items in one category). Default 30. */
  pairs?: number;
  /** Chance that a pair's second item follows its first. Default 0.7. */
  pairFollow?: number;
  /** Time of the first interaction, ms since the epoch. Default 2024-01-01. */
  start?: number;
}

export interface SyntheticPerson {
  profile_id: string;
  /** Names of the preferred categories. */
  preferred: string[];
  /** One entry per distinct item: purchased or not, interactions, last interaction time. */
  items: BasketItem[];
}

export interface PlantedPreferences {
  categories: string[];
  catalog: CatalogItem[];
  people: SyntheticPerson[];
  /** The planted co-purchase pairs [a, b]: b follows a. */
  pairs: Array<[string, string]>;
}

/** Picks an index with probability ∝ weights (cumulative weights, binary search). */
function picker(weights: readonly number[], rng: () => number): () => number {
  const cumulative: number[] = [];
  let total = 0;
  for (const w of weights) cumulative.push((total += w));
  return () => {
    const r = rng() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}

/** A catalog and people whose interactions follow planted category preferences and co-purchase pairs. */
export function plantedPreferences(options: PlantedPreferencesOptions = {}): PlantedPreferences {
  const rng = createRng(options.seed ?? 1);
  const between = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
  const categoryCount = Math.min(CATEGORY_NAMES.length, Math.max(1, options.categories ?? 8));
  const categories = CATEGORY_NAMES.slice(0, categoryCount);
  const itemCount = Math.max(categoryCount, options.items ?? 240);

  // Items: round-robin over categories; each category's items get a Zipf popularity (rank 1 most popular).
  const catalog: CatalogItem[] = [];
  const byCategory: number[][] = categories.map(() => []);
  for (let i = 0; i < itemCount; i++) {
    const c = i % categoryCount;
    const tags = [...new Set([TAGS[between(0, TAGS.length - 1)]!, ...(rng() < 0.4 ? [TAGS[between(0, TAGS.length - 1)]!] : [])])];
    catalog.push({ id: `i${String(i).padStart(4, '0')}`, title: `${categories[c]} item ${i}`, category: [categories[c]!, SUBCATEGORY_NAMES[between(0, SUBCATEGORY_NAMES.length - 1)]!], tags, available: true, attributes: {}, price: between(5, 300) });
    byCategory[c]!.push(i);
  }
  const zipf = (rank: number) => 1 / (rank + 1) ** 0.9;
  const inCategory = byCategory.map((items) => picker(items.map((_, r) => zipf(r)), rng));
  // Global popularity: the catalog in a shuffled order, Zipf over that order.
  const globalOrder = Array.from({ length: itemCount }, (_, i) => i);
  for (let i = itemCount - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [globalOrder[i], globalOrder[j]] = [globalOrder[j]!, globalOrder[i]!];
  }
  const globalPick = picker(globalOrder.map((_, r) => zipf(r)), rng);

  // Planted pairs: two distinct items of one category; a's partner is b.
  const partner = new Map<number, number>();
  const pairs: Array<[string, string]> = [];
  for (let attempt = 0; pairs.length < (options.pairs ?? 30) && attempt < 100 * (options.pairs ?? 30); attempt++) {
    const items = byCategory[between(0, categoryCount - 1)]!;
    if (items.length < 2) continue;
    const a = items[between(0, items.length - 1)]!;
    const b = items[between(0, items.length - 1)]!;
    if (a === b || partner.has(a) || partner.has(b)) continue;
    partner.set(a, b);
    pairs.push([catalog[a]!.id, catalog[b]!.id]);
  }

  const [minInteractions, maxInteractions] = options.interactions ?? [6, 14];
  const preferredShare = options.preferredShare ?? 0.8;
  const purchaseShare = options.purchaseShare ?? 0.3;
  const pairFollow = options.pairFollow ?? 0.7;
  const start = options.start ?? Date.UTC(2024, 0, 1);
  const people: SyntheticPerson[] = [];
  const count = options.people ?? 3000;
  for (let p = 0; p < count; p++) {
    const first = between(0, categoryCount - 1);
    const preferred = [first];
    if (categoryCount > 1 && rng() < 0.5) {
      let second = between(0, categoryCount - 2);
      if (second >= first) second++;
      preferred.push(second);
    }
    const basket = new Map<number, BasketItem>();
    let at = start + between(0, 30 * 86_400) * 1000;
    const interact = (i: number, purchased: boolean) => {
      at += between(60, 86_400) * 1000;
      const seen = basket.get(i);
      if (seen) {
        seen.count = (seen.count ?? 1) + 1;
        seen.purchased ||= purchased;
        seen.at = at;
      } else basket.set(i, { item: catalog[i]!.id, purchased, count: 1, at });
    };
    const m = between(minInteractions, maxInteractions);
    for (let k = 0; k < m; k++) {
      let item: number;
      if (rng() < preferredShare) {
        const c = preferred[between(0, preferred.length - 1)]!;
        item = byCategory[c]![inCategory[c]!()]!;
      } else item = globalOrder[globalPick()]!;
      const purchased = rng() < purchaseShare;
      interact(item, purchased);
      const b = partner.get(item);
      if (b !== undefined && rng() < pairFollow) interact(b, purchased);
    }
    people.push({ profile_id: `person-${String(p).padStart(5, '0')}`, preferred: preferred.map((c) => categories[c]!), items: [...basket.values()] });
  }
  return { categories, catalog, people, pairs };
}

export interface PlantedNicheOptions {
  /** Default 1. */
  seed?: number;
  /** Default 3000. */
  people?: number;
  /** Share of people in the niche. Default 0.04. */
  nicheShare?: number;
  /** Default ['electronics', 'fashion', 'home', 'outdoor']; the niche leans to the last. */
  categories?: readonly string[];
}

export interface PlantedNiche {
  profiles: ProfileFeatures[];
  /** Whether profile i is in the planted niche. */
  niche: boolean[];
  categories: string[];
}

/**
 * Persona features (personas.ts ProfileFeatures) of a diffuse population — any RFM scores, revenue
 * and counts over wide ranges, category shares spread over several categories — with a planted
 * dense niche: top RFM scores, 20–23 orders of ~200, 80–90 events, 90–100% of them in the last
 * category. The niche profiles are interleaved with the others (every 1/nicheShare-th).
 */
export function plantedNiche(options: PlantedNicheOptions = {}): PlantedNiche {
  const rng = createRng(options.seed ?? 1);
  const between = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
  const categories = [...(options.categories ?? ['electronics', 'fashion', 'home', 'outdoor'])];
  const nicheCategory = categories.at(-1)!;
  const count = options.people ?? 3000;
  const every = Math.max(1, Math.round(1 / (options.nicheShare ?? 0.04)));
  const profiles: ProfileFeatures[] = [];
  const niche: boolean[] = [];
  for (let i = 0; i < count; i++) {
    const inNiche = i % every === every - 1;
    niche.push(inNiche);
    if (inNiche) {
      const orders = between(20, 23);
      const share = 0.9 + rng() * 0.1;
      profiles.push({
        profile_id: `niche-${i}`,
        rfm_recency: 5,
        rfm_frequency: 5,
        rfm_monetary: 5,
        lifetime_revenue: orders * (190 + rng() * 20),
        order_count: orders,
        event_count: between(80, 90),
        categories: { [nicheCategory]: share, [categories[0]!]: 1 - share },
      });
      continue;
    }
    const orders = rng() < 0.35 ? 0 : Math.floor(Math.exp(rng() * Math.log(15)));
    const weights = categories.map(() => (rng() < 0.6 ? rng() : 0));
    const total = weights.reduce((s, w) => s + w, 0) || 1;
    profiles.push({
      profile_id: `person-${i}`,
      rfm_recency: orders ? between(1, 5) : 0,
      rfm_frequency: orders ? between(1, 4) : 0,
      rfm_monetary: orders ? between(1, 4) : 0,
      lifetime_revenue: orders * Math.exp(2 + rng() * 4),
      order_count: orders,
      event_count: orders + between(1, 60),
      categories: Object.fromEntries(categories.map((c, j) => [c, weights[j]! / total])),
    });
  }
  return { profiles, niche, categories };
}
