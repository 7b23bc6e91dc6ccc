// Recommendations for one decision, on the request path: item-to-item co-occurrence blended with a
// content match of the visitor's interests against the catalog, popularity as the last resort, and
// the placement's business rules. Pure and synchronous. Build a CatalogIndex once per catalog (and
// popularity) version, then call recommend(index, input, options) per decision.
//
// Signals, each 0..1 before blending:
//   coOccurrence  the visitor's item-to-item scores (profile_recommendations, recommendForBasket, or
//                 coOccurrenceFromNeighbours over what they just looked at), ÷ the best eligible one;
//   content       Σ affinity of the visitor's interests over the item's interest keys (each level of
//                 its category path and each tag, as api/catalog.ts interestKey spells them),
//                 ÷ √(the item's number of keys) so an item is not favoured for having many tags,
//                 ÷ the best eligible one;
//   popularity    log(1 + interactions) ÷ log(1 + the catalog's most), fixed per index.
// score = (w.coOccurrence·coOccurrence + w.content·content + w.popularity·popularity) × the product
// of the matching boost and bury factors. Weights default to 0.6 / 0.3 / 0.1. A visitor without
// co-occurrence scores (cold visitor) and an item without them (new product) are ranked by the
// other two signals — a new item matching the visitor's interests ranks by content alone.
//
// Never recommended: unavailable items, items the visitor bought, items the input excludes, items
// with an `exclude` rule's tag or category. Pins place an item at a position (1-based) whatever its
// score, as long as it may be recommended at all; a pin past the end of the list lands at its end.
//
// Speed: the index holds the items by id, by interest key, by tag, by category, in popularity order,
// and scratch buffers reused by every call. A call touches only the items the visitor's signals and
// rules name, then walks the popularity order until no remaining item can beat the list (its best
// possible score is popularity × the largest boost): tens of microseconds for a 10k-item catalog.
// Calls must not interleave (they cannot: the function is synchronous).
import { interestKey, itemInterestKeys, type CatalogItem } from '../../api/catalog.ts';

import type { Recommendation } from './recommend.ts';

export interface HybridWeights {
  coOccurrence: number;
  content: number;
  popularity: number;
}

export const DEFAULT_WEIGHTS: Readonly<HybridWeights> = { coOccurrence: 0.6, content: 0.3, popularity: 0.1 };

/** Items with this tag, or with this category at any level of their path (case and spacing as interestKey). */
export type ItemMatch = { tag: string; category?: undefined } | { category: string; tag?: undefined };

export type FactorRule = ItemMatch & { factor: number };

export interface PlacementRules {
  /** Items forced at positions (1 = first). */
  pin?: ReadonlyArray<{ item: string; position: number }>;
  /** Multiply the score of matching items (factor > 1 raises them). */
  boost?: readonly FactorRule[];
  /** Multiply the score of matching items (0 ≤ factor < 1 lowers them). */
  bury?: readonly FactorRule[];
  /** Matching items are never recommended here. */
  exclude?: readonly ItemMatch[];
}

export interface VisitorInput {
  /** Item-to-item scores for this visitor (any positive scale). */
  coOccurrence?: ReadonlyArray<Pick<Recommendation, 'item' | 'score'>>;
  /** Interest key → affinity 0..1. */
  interests?: Readonly<Record<string, number>>;
  /** Items the visitor bought: never recommended. */
  bought?: Iterable<string>;
  /** Items not to recommend in this decision (the one on the page, the cart …). */
  exclude?: Iterable<string>;
}

export interface HybridOptions {
  /** Items returned. Default 10. */
  limit?: number;
  weights?: Partial<HybridWeights>;
  rules?: PlacementRules;
}

export interface HybridRecommendation {
  item: string;
  score: number;
  /** The signal that contributed most to the score, or "pinned". */
  reason: 'pinned' | 'coOccurrence' | 'content' | 'popularity';
  /** Each signal, normalized (0..1), before weights and rules. */
  signals: { coOccurrence: number; content: number; popularity: number };
}


const CANDIDATE = 1;
const BLOCKED = 2;
const PINNED = 4;
const TOUCHED = 8;

function lists(map: Map<string, number[]>): Map<string, Int32Array> {
  return new Map([...map].map(([key, list]) => [key, Int32Array.from(list)]));
}

function push(map: Map<string, number[]>, key: string, i: number): void {
  const list = map.get(key);
  if (list) {
    if (list.at(-1) !== i) list.push(i);
  } else map.set(key, [i]);
}

/** A catalog made ready for recommend(): build once, use for every decision. */
export class CatalogIndex {
  readonly size: number;
  private readonly items: CatalogItem[];
  private readonly position = new Map<string, number>();
  private readonly available: Uint8Array;
  private readonly popularity: Float64Array;
  /** Item indices by popularity, most popular first (ties by id). */
  private readonly order: Int32Array;
  private readonly rankOf: Int32Array;
  private readonly keyNorm: Float64Array;
  private readonly byKey: Map<string, Int32Array>;
  private readonly byTag: Map<string, Int32Array>;
  private readonly byCategory: Map<string, Int32Array>;
  // Scratch, reset after every call.
  private readonly co: Float64Array;
  private readonly content: Float64Array;
  private readonly factor: Float64Array;
  private readonly state: Uint8Array;
  private readonly touched: Int32Array;
  private touchedCount = 0;

  /**
   * @param items the catalog (a later item with the same id replaces an earlier one)
   * @param popularity interactions per item id (views and purchases, people …); absent items count 0
   */
  constructor(items: Iterable<CatalogItem>, popularity: ReadonlyMap<string, number> | Readonly<Record<string, number>> = {}) {
    const byId = new Map<string, CatalogItem>();
    for (const item of items) byId.set(item.id, item);
    this.items = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const n = (this.size = this.items.length);
    const count = (id: string) => {
      const c = popularity instanceof Map ? popularity.get(id) : (popularity as Record<string, number>)[id];
      return typeof c === 'number' && Number.isFinite(c) && c > 0 ? c : 0;
    };
    this.available = new Uint8Array(n);
    this.popularity = new Float64Array(n);
    this.keyNorm = new Float64Array(n);
    const byKey = new Map<string, number[]>();
    const byTag = new Map<string, number[]>();
    const byCategory = new Map<string, number[]>();
    let most = 0;
    this.items.forEach((item, i) => {
      this.position.set(item.id, i);
      this.available[i] = item.available === false ? 0 : 1;
      const c = count(item.id);
      this.popularity[i] = Math.log1p(c);
      most = Math.max(most, this.popularity[i]!);
      const keys = itemInterestKeys(item);
      this.keyNorm[i] = keys.length ? 1 / Math.sqrt(keys.length) : 0;
      for (const key of keys) push(byKey, key, i);
      for (const tag of item.tags) push(byTag, interestKey(tag), i);
      for (const level of item.category) push(byCategory, interestKey(level), i);
    });
    if (most > 0) for (let i = 0; i < n; i++) this.popularity[i] = this.popularity[i]! / most;
    this.byKey = lists(byKey);
    this.byTag = lists(byTag);
    this.byCategory = lists(byCategory);
    this.order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => this.popularity[b]! - this.popularity[a]! || a - b);
    this.rankOf = new Int32Array(n);
    this.order.forEach((item, rank) => (this.rankOf[item] = rank));
    this.co = new Float64Array(n);
    this.content = new Float64Array(n);
    this.factor = new Float64Array(n).fill(1);
    this.state = new Uint8Array(n);
    this.touched = new Int32Array(n);
  }

  /** The item of an id, if in the catalog. */
  get(id: string): CatalogItem | undefined {
    const i = this.position.get(id);
    return i === undefined ? undefined : this.items[i];
  }

  /** Normalized popularity (0..1) of an item; 0 when unknown. */
  popularityOf(id: string): number {
    const i = this.position.get(id);
    return i === undefined ? 0 : this.popularity[i]!;
  }

  /** Item ids with an interest key (category level or tag). */
  withKey(key: string): string[] {
    return [...(this.byKey.get(interestKey(key)) ?? [])].map((i) => this.items[i]!.id);
  }

  private touch(i: number, flag: number): void {
    if (!(this.state[i]! & TOUCHED)) this.touched[this.touchedCount++] = i;
    this.state[i] = this.state[i]! | TOUCHED | flag;
  }

  private matching(match: ItemMatch): Int32Array | undefined {
    if (typeof match.tag === 'string' && match.category === undefined) return this.byTag.get(interestKey(match.tag));
    if (typeof match.category === 'string' && match.tag === undefined) return this.byCategory.get(interestKey(match.category));
    throw new Error(`recommend: a rule names exactly one of tag or category, got ${JSON.stringify(match)}`);
  }

  /** See recommend(). */
  rank(input: VisitorInput, options: HybridOptions = {}): HybridRecommendation[] {
    const limit = options.limit ?? 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new Error(`recommend: limit must be an integer from 1 to 1000, got ${limit}`);
    const w = { ...DEFAULT_WEIGHTS, ...options.weights };
    for (const [name, value] of Object.entries(w)) if (!(Number.isFinite(value) && value >= 0)) throw new Error(`recommend: weight ${name} must be a number ≥ 0, got ${value}`);
    const rules = options.rules ?? {};
    try {
      return this.rankWith(input, limit, w, rules);
    } finally {
      for (let k = 0; k < this.touchedCount; k++) {
        const i = this.touched[k]!;
        this.co[i] = 0;
        this.content[i] = 0;
        this.factor[i] = 1;
        this.state[i] = 0;
      }
      this.touchedCount = 0;
    }
  }

  private rankWith(input: VisitorInput, limit: number, w: HybridWeights, rules: PlacementRules): HybridRecommendation[] {
    const { co, content, factor, state, popularity, keyNorm, available } = this;
    // What may not be recommended.
    for (const id of input.bought ?? []) {
      const i = this.position.get(id);
      if (i !== undefined) this.touch(i, BLOCKED);
    }
    for (const id of input.exclude ?? []) {
      const i = this.position.get(id);
      if (i !== undefined) this.touch(i, BLOCKED);
    }
    for (const match of rules.exclude ?? []) for (const i of this.matching(match) ?? []) this.touch(i, BLOCKED);
    const eligible = (i: number) => available[i] === 1 && !(state[i]! & (BLOCKED | PINNED));
    // Pins leave the ranking and are placed at the end.
    const pins: Array<{ index: number; position: number }> = [];
    for (const pin of rules.pin ?? []) {
      if (!Number.isInteger(pin.position) || pin.position < 1) throw new Error(`recommend: a pin's position must be an integer ≥ 1, got ${pin.position}`);
      const i = this.position.get(pin.item);
      if (i === undefined || !eligible(i)) continue;
      this.touch(i, PINNED);
      pins.push({ index: i, position: pin.position });
    }
    // Business factors, and the most any item can gain from them.
    let maxFactor = 1;
    for (const rule of [...(rules.boost ?? []), ...(rules.bury ?? [])]) {
      if (!(Number.isFinite(rule.factor) && rule.factor >= 0)) throw new Error(`recommend: a rule's factor must be a number ≥ 0, got ${rule.factor}`);
      if (rule.factor > 1) maxFactor *= rule.factor;
      for (const i of this.matching(rule) ?? []) {
        this.touch(i, 0);
        factor[i] = factor[i]! * rule.factor;
      }
    }
    // The visitor's signals.
    for (const r of input.coOccurrence ?? []) {
      const i = this.position.get(r.item);
      if (i === undefined || !(r.score > 0) || !Number.isFinite(r.score)) continue;
      this.touch(i, CANDIDATE);
      co[i] = co[i]! + r.score;
    }
    for (const [key, affinity] of Object.entries(input.interests ?? {})) {
      if (!(affinity > 0) || !Number.isFinite(affinity)) continue;
      const list = this.byKey.get(interestKey(key));
      if (!list) continue;
      for (const i of list) {
        this.touch(i, CANDIDATE);
        content[i] = content[i]! + Math.min(1, affinity);
      }
    }
    let maxCo = 0;
    let maxContent = 0;
    for (let k = 0; k < this.touchedCount; k++) {
      const i = this.touched[k]!;
      if (!(state[i]! & CANDIDATE)) continue;
      content[i] = content[i]! * keyNorm[i]!;
      if (!eligible(i)) continue;
      if (co[i]! > maxCo) maxCo = co[i]!;
      if (content[i]! > maxContent) maxContent = content[i]!;
    }
    const coScale = maxCo > 0 ? 1 / maxCo : 0;
    const contentScale = maxContent > 0 ? 1 / maxContent : 0;
    const scoreOf = (i: number) => (w.coOccurrence * co[i]! * coScale + w.content * content[i]! * contentScale + w.popularity * popularity[i]!) * factor[i]!;

    // The best `limit`, best first: score, then popularity order.
    const top: number[] = [];
    const topScore: number[] = [];
    const offer = (i: number, s: number) => {
      if (top.length === limit) {
        const last = topScore[limit - 1]!;
        if (s < last || (s === last && this.rankOf[i]! > this.rankOf[top[limit - 1]!]!)) return;
        top.pop();
        topScore.pop();
      }
      let at = top.length;
      while (at > 0 && (topScore[at - 1]! < s || (topScore[at - 1] === s && this.rankOf[top[at - 1]!]! > this.rankOf[i]!))) at--;
      top.splice(at, 0, i);
      topScore.splice(at, 0, s);
    };
    for (let k = 0; k < this.touchedCount; k++) {
      const i = this.touched[k]!;
      if (state[i]! & CANDIDATE && eligible(i)) offer(i, scoreOf(i));
    }
    // Everything else scores popularity × its factors: walk the popularity order while that can still enter the list.
    for (let r = 0; r < this.size; r++) {
      const i = this.order[r]!;
      if (top.length === limit) {
        const bound = w.popularity * popularity[i]! * maxFactor;
        const last = topScore[limit - 1]!;
        if (bound < last || (bound === last && this.rankOf[top[limit - 1]!]! < r)) break;
      }
      if (state[i]! & CANDIDATE || !eligible(i)) continue;
      offer(i, scoreOf(i));
    }

    const result = top.map((i, k) => this.describe(i, topScore[k]!, w, coScale, contentScale, false));
    pins.sort((a, b) => a.position - b.position);
    for (const pin of pins) result.splice(Math.min(pin.position - 1, result.length), 0, this.describe(pin.index, scoreOf(pin.index), w, coScale, contentScale, true));
    return result.slice(0, limit);
  }

  private describe(i: number, score: number, w: HybridWeights, coScale: number, contentScale: number, pinned: boolean): HybridRecommendation {
    const signals = { coOccurrence: this.co[i]! * coScale, content: this.content[i]! * contentScale, popularity: this.popularity[i]! };
    let reason: HybridRecommendation['reason'] = 'popularity';
    if (pinned) reason = 'pinned';
    else if (w.coOccurrence * signals.coOccurrence > 0 && w.coOccurrence * signals.coOccurrence >= Math.max(w.content * signals.content, w.popularity * signals.popularity)) reason = 'coOccurrence';
    else if (w.content * signals.content > 0 && w.content * signals.content >= w.popularity * signals.popularity) reason = 'content';
    return { item: this.items[i]!.id, score, reason, signals };
  }
}

/**
 * The catalog items to show one visitor, best first (at most options.limit): co-occurrence,
 * content and popularity blended, under the placement's rules (see the header).
 */
export function recommend(index: CatalogIndex, input: VisitorInput, options: HybridOptions = {}): HybridRecommendation[] {
  return index.rank(input, options);
}

/**
 * Co-occurrence scores from the neighbours of what the visitor interacted with (item_recommendations
 * rows, or similarItems): Σ weight × similarity per neighbour, the interacted items themselves left out.
 */
export function coOccurrenceFromNeighbours(
  interacted: Iterable<{ item: string; weight?: number }>,
  neighbours: (item: string) => ReadonlyArray<{ item: string; score: number }> | undefined,
): Recommendation[] {
  const own = new Set<string>();
  const scores = new Map<string, number>();
  const list = [...interacted];
  for (const { item } of list) own.add(item);
  for (const { item, weight = 1 } of list) {
    for (const n of neighbours(item) ?? []) {
      if (own.has(n.item)) continue;
      scores.set(n.item, (scores.get(n.item) ?? 0) + weight * n.score);
    }
  }
  return [...scores].map(([item, score]) => ({ item, score })).sort((a, b) => b.score - a.score || (a.item < b.item ? -1 : 1));
}

/**
 * Interests from items a visitor interacted with (e.g. this session's product views), for a visitor
 * without a profile's interests yet: each interest key of each item adds the interaction's weight;
 * scaled so the strongest key is 1.
 */
export function interestsFromItems(index: CatalogIndex, interacted: Iterable<{ item: string; weight?: number }>): Record<string, number> {
  const sums = new Map<string, number>();
  for (const { item, weight = 1 } of interacted) {
    const found = index.get(item);
    if (!found) continue;
    for (const key of itemInterestKeys(found)) sums.set(key, (sums.get(key) ?? 0) + weight);
  }
  const most = Math.max(0, ...sums.values());
  return most > 0 ? Object.fromEntries([...sums].map(([key, s]) => [key, s / most])) : {};
}
